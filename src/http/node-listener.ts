import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';
import { applySecurityHeaders } from './middleware/security-headers.ts';

/**
 * The Node request listener serving the app: security headers first, then Hono. `routeFirst`
 * (the OAuth provider, when enabled: oauth-listener.ts) may take a request before Hono does.
 */
export function createNodeListener(
  app: Hono<AppEnv>,
  routeFirst?: (request: IncomingMessage, response: ServerResponse) => boolean,
): (request: IncomingMessage, response: ServerResponse) => void {
  const listener = getRequestListener(app.fetch);
  return (request, response) => {
    applySecurityHeaders(response);
    if (routeFirst?.(request, response)) return;
    void listener(request, response);
  };
}
