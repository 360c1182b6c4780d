import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';

export interface NodeListenerRoutes {
  /** The OAuth provider, when enabled (oauth-listener.ts): takes its own paths before Hono. */
  routeFirst?: (request: IncomingMessage, response: ServerResponse) => boolean;
  /** The session check's common case (session-check-fast-path.ts); true when it answered. */
  sessionCheck?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

/** The Node request listener serving the app: security headers first, then the routes above, then Hono. */
export function createNodeListener(
  app: Hono<AppEnv>,
  routes: NodeListenerRoutes = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const listener = getRequestListener(app.fetch);
  const { routeFirst, sessionCheck } = routes;
  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    if (routeFirst?.(request, response)) return;
    void listener(request, response);
  };
  if (!sessionCheck) return serve;
  return (request, response) => {
    if (request.method !== 'GET') return serve(request, response);
    // The session check writes the security headers itself, in one writeHead (cheaper than
    // setting them one by one); anything it declines is served as usual.
    sessionCheck(request, response).then(
      (answered) => {
        if (!answered) serve(request, response);
      },
      // It answers nothing before its last step; a throw there leaves the request to the app.
      () => {
        if (!response.headersSent) serve(request, response);
      },
    );
  };
}
