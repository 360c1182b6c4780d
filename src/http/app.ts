import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';
import { ClientIpResolver } from './client-ip.ts';
import { crossOriginProtection } from './middleware/cross-origin.ts';
import { errorBody, handleError } from './middleware/errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { OpenApiRegistry } from './openapi/registry.ts';
import { mountPages } from './pages/index.ts';
import { mountDevMailboxRoutes } from './routes/dev-mailbox.ts';
import { mountEmailAuthRoutes } from './routes/email-auth.ts';
import { mountMeRoutes } from './routes/me.ts';
import { mountOperationsRoutes } from './routes/operations.ts';
import { mountPasskeyRoutes } from './routes/passkeys.ts';
import { mountSessionRoutes } from './routes/session.ts';

/**
 * The HTTP application. Middleware order matters:
 * 1. request context (id, client IP, nonce, log) — everything after may log and audit;
 * 2. security headers — applied to every response, errors included;
 * 3. body limit — before anything reads a body;
 * 4. cross-origin protection — before any handler can change state.
 */
export function createApp(services: Services, log: Logger): { app: Hono<AppEnv>; registry: OpenApiRegistry } {
  const { config } = services;
  const app = new Hono<AppEnv>({ strict: true });
  const registry = new OpenApiRegistry();

  app.use(requestContext(services, new ClientIpResolver(config.trustedProxies), log));
  app.use(securityHeaders());
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: () => {
        throw new AppError('payload_too_large', 'The request body is too large.');
      },
    }),
  );
  app.use(crossOriginProtection(config.origin, config.trustedOrigins));

  mountOperationsRoutes(app);
  mountSessionRoutes(app, registry);
  mountMeRoutes(app, registry);
  mountEmailAuthRoutes(app, registry);
  mountPasskeyRoutes(app, registry);
  if (services.mail.transportName === 'dev-mailbox') mountDevMailboxRoutes(app, registry);
  mountPages(app);

  const document = registry.document({
    title: `${config.appName} API`,
    version: '1',
    serverUrl: config.origin,
  });
  app.get('/api/openapi.json', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.json(document);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'Not found.'), 404));
  app.onError(handleError);
  return { app, registry };
}
