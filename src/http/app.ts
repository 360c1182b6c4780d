import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors/app-error.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';
import { ClientIpResolver } from './client-ip.ts';
import { crossOriginProtection } from './middleware/cross-origin.ts';
import { errorBody, handleError } from './middleware/errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { OpenApiRegistry } from './openapi/registry.ts';
import { mountRateLimits } from './rate-limited-routes.ts';
import { mountPages } from './pages/index.ts';
import { mountInteractionPages } from './pages/interaction.ts';
import { mountAccountRoutes } from './routes/account.ts';
import { mountActivityRoutes } from './routes/activity.ts';
import { mountAuditRoutes } from './routes/audit.ts';
import { mountConnectedAppRoutes } from './routes/connected-apps.ts';
import { mountDevMailboxRoutes } from './routes/dev-mailbox.ts';
import { mountEmailAuthRoutes } from './routes/email-auth.ts';
import { formPostCallbackPaths, mountFederationRoutes } from './routes/federation.ts';
import { mountMeRoutes } from './routes/me.ts';
import { mountMetricsRoute } from './routes/metrics.ts';
import { mountMfaRoutes } from './routes/mfa.ts';
import { mountOAuthClientRoutes } from './routes/oauth-clients.ts';
import { mountAdminUserRoutes } from './routes/admin-users.ts';
import { mountOperationsRoutes } from './routes/operations.ts';
import { mountPasskeyRoutes } from './routes/passkeys.ts';
import { mountPasswordRoutes } from './routes/passwords.ts';
import { mountPasswordReauthRoute, mountReauthRoutes } from './routes/reauth.ts';
import { mountSessionRoutes } from './routes/session.ts';

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The HTTP application. Middleware order matters:
 * 1. request context (id, client IP, nonce, log) — everything after may log and audit;
 * 2. body limit — before anything reads a body;
 * 3. cross-origin protection — before any handler can change state;
 * 4. rate limits — on the auth endpoints' own route patterns, before their handlers.
 * Security headers are set on the Node response before the app runs (node-listener.ts), so
 * they are on every response, errors included.
 */
export function createApp(services: Services): { app: Hono<AppEnv>; registry: OpenApiRegistry } {
  const { config } = services;
  const app = new Hono<AppEnv>({ strict: true });
  const registry = new OpenApiRegistry();

  app.use(requestContext(services, new ClientIpResolver(config.trustedProxies)));
  const limitBody = bodyLimit({
    maxSize: config.bodyLimitBytes,
    onError: () => {
      throw new AppError('payload_too_large', 'The request body is too large.');
    },
  });
  // Only where a body is allowed: the limiter reads the request stream, which would make the
  // Node adapter build a full Request for every GET (measured: a third of session-check
  // throughput).
  app.use((c, next) => (BODYLESS_METHODS.has(c.req.method) ? next() : limitBody(c, next)));
  app.use(
    crossOriginProtection(
      config.origin,
      config.trustedOrigins,
      formPostCallbackPaths(services.federation.providers),
    ),
  );

  mountRateLimits(app);
  mountOperationsRoutes(app);
  if (services.metrics && config.metricsToken) mountMetricsRoute(app, services.metrics, config.metricsToken);
  mountSessionRoutes(app, registry);
  mountMeRoutes(app, registry);
  mountActivityRoutes(app, registry);
  mountAuditRoutes(app, registry);
  mountAdminUserRoutes(app, registry);
  mountEmailAuthRoutes(app, registry);
  mountPasskeyRoutes(app, registry);
  mountMfaRoutes(app, registry);
  mountReauthRoutes(app, registry);
  mountAccountRoutes(app, registry);
  // Passwords are off by default: their routes then answer 404 and stay out of the document.
  const passwordDocs = config.passwords.enabled ? registry : new OpenApiRegistry();
  mountPasswordRoutes(app, passwordDocs);
  mountPasswordReauthRoute(app, passwordDocs);
  mountFederationRoutes(app, registry);
  if (services.mail.transportName === 'dev-mailbox') mountDevMailboxRoutes(app, registry);
  // The OAuth provider is off unless configured: its pages and routes exist only then.
  if (services.oauth) {
    mountInteractionPages(app, registry);
    mountConnectedAppRoutes(app, registry, services.oauth);
    mountOAuthClientRoutes(app, registry, services.oauth);
  }
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
