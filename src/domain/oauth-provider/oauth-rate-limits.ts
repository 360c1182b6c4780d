import type { KoaContext } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { GrantHandler } from 'oidc-provider/lib/helpers/weak_cache.js';
import type { RateLimitsConfig } from '../../config/rate-limits-schema.ts';
import type { EndpointLimits, RequestLimiter } from '../ratelimit/request-limiter.ts';
import type { Refusal } from '../ratelimit/refusal.ts';
import type { RequestContext } from '../request-context.ts';
import type { RouteAdditions } from './route-additions.ts';

/**
 * Rate limits on the provider's endpoints (docs/abuse-protection.md). The provider answers its
 * paths before Hono does (src/http/oauth-listener.ts), so Gatehouse's route limiters never see
 * them; these run as the first of the provider's own middleware instead.
 *
 * - Per client network and overall, before any work: which endpoint a request reaches is asked
 *   of the provider's router itself (route-additions.ts), so no spelling of a path (case,
 *   trailing slash) dodges it.
 * - Per client at the token endpoint, counted once the client has authenticated (a wrapper
 *   around every grant handler): a stranger sending someone else's client_id with a wrong
 *   secret is refused by authentication and counts only against their own network, and cannot
 *   use up the real client's budget. Public clients are not counted per client: anyone can
 *   claim their id, and a public device app may run on many thousands of devices.
 *
 * The refusal is 429 with Retry-After (RFC 6585 §4) and the OAuth error shape of RFC 6749 §5.2,
 * `{"error": "too_many_requests", "error_description": …}`: the certified clients read it as
 * an error response (openid-client and oauth4webapi raise ResponseBodyError with `error` and
 * the response, whose Retry-After says when to come back). `slow_down` is not used: RFC 8628
 * §3.5 gives it to device polling alone, where the device flow already answers it. Browsers
 * (Accept: text/html, on the authorization endpoint) get the same status and an error page.
 */

interface LimitedRoute {
  /** Counter key and audit name. */
  endpoint: string;
  limits(config: RateLimitsConfig): EndpointLimits;
}

/** Provider route names (lib/helpers/initialize_app.js) and their limits. */
const LIMITED_ROUTES: ReadonlyMap<string, LimitedRoute> = new Map([
  ['token', { endpoint: 'oauth_token', limits: (config) => config.oauthToken }],
  ['authorization', { endpoint: 'oauth_authorization', limits: (config) => config.oauthAuthorization }],
  ['pushed_authorization_request', { endpoint: 'oauth_par', limits: (config) => config.oauthAuthorization }],
  ['introspection', { endpoint: 'oauth_introspection', limits: (config) => config.oauthIntrospection }],
  ['revocation', { endpoint: 'oauth_revocation', limits: (config) => config.oauthIntrospection }],
  [
    'device_authorization',
    { endpoint: 'oauth_device_authorization', limits: (config) => config.oauthDeviceAuthorization },
  ],
]);

export const TOO_MANY_REQUESTS = 'too_many_requests';
const DESCRIPTION = 'Too many requests. Try again after the number of seconds in Retry-After.';

export interface ProviderRateLimitDeps {
  limiter: RequestLimiter;
  limits: RateLimitsConfig;
  contextOf(ctx: KoaContext): RequestContext;
  /** The HTML error page, for browsers. */
  renderError(ctx: KoaContext, out: { error: string; error_description?: string }): void;
}

function retryAfter(ctx: KoaContext, refusal: Refusal): void {
  ctx.set('Retry-After', String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))));
  ctx.set('Cache-Control', 'no-store');
}

/** The per-network and overall limits, added to each limited route (route-additions.ts). */
export function providerRateLimits(deps: ProviderRateLimitDeps): RouteAdditions {
  return [...LIMITED_ROUTES].map(([name, route]) => [
    name,
    async (ctx, next) => {
      const { perIp, global } = route.limits(deps.limits);
      const refusal = await deps.limiter.admit(route.endpoint, { perIp, global }, null, deps.contextOf(ctx));
      if (!refusal) return next();
      retryAfter(ctx, refusal);
      const out = { error: TOO_MANY_REQUESTS, error_description: DESCRIPTION };
      // As the provider answers its own errors (lib/shared/error_handler.js): a page for browsers.
      if (ctx.accepts('json', 'html') === 'html') deps.renderError(ctx, out);
      else ctx.body = out;
      ctx.status = 429;
    },
  ]);
}

/** Wraps a grant handler with the per-client limit of the token endpoint (after authentication). */
export function limitPerClient(original: GrantHandler, deps: ProviderRateLimitDeps): GrantHandler {
  return async (ctx) => {
    const client = ctx.oidc.client;
    if (client && client.clientAuthMethod !== 'none') {
      const refusal = await deps.limiter.admitOne(
        'per_client',
        'oauth_token',
        deps.limits.oauthToken.perClient,
        { kind: 'client', value: client.clientId },
        deps.contextOf(ctx),
      );
      if (refusal) {
        retryAfter(ctx, refusal);
        const error = new errors.CustomOIDCProviderError(TOO_MANY_REQUESTS, DESCRIPTION);
        error.status = 429;
        error.statusCode = 429;
        throw error;
      }
    }
    return original(ctx);
  };
}
