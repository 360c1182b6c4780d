import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../errors/app-error.ts';
import type { AppEnv } from '../app-env.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for every state-changing request (DESIGN §4).
 * 1. Fetch metadata: a browser says where the request came from in Sec-Fetch-Site; only
 *    `same-origin` (our pages) and `none` (typed by the user) pass.
 * 2. Browsers without fetch metadata still send Origin on POST: it must be ours or trusted.
 * 3. Neither header: not a browser, so no ambient cookies to abuse (curl, server SDKs).
 * Plus: JSON endpoints accept only `application/json`, which a cross-site HTML form cannot
 * send and a cross-site fetch cannot send without a CORS preflight we never grant.
 *
 * The one exemption, `formPostCallbacks`: the exact callback paths of federation providers that
 * answer with a cross-site form POST (Apple's `response_mode=form_post`). There the state in the
 * single-use flow cookie is the CSRF defence (src/http/routes/federation.ts).
 */
export function crossOriginProtection(
  origin: string,
  trustedOrigins: string[],
  formPostCallbacks: ReadonlySet<string> = new Set(),
): MiddlewareHandler<AppEnv> {
  const allowed = new Set([origin, ...trustedOrigins.map((o) => new URL(o).origin)]);
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    if (c.req.method === 'POST' && formPostCallbacks.has(c.req.path)) return next();
    const site = c.req.header('sec-fetch-site');
    const requestOrigin = c.req.header('origin');
    let refusedBecause: string | null = null;
    if (site !== undefined) {
      if (site !== 'same-origin' && site !== 'none' && !(requestOrigin && allowed.has(requestOrigin))) {
        refusedBecause = `sec-fetch-site ${site}`;
      }
    } else if (requestOrigin !== undefined && !allowed.has(requestOrigin)) {
      refusedBecause = 'origin not trusted';
    }
    if (refusedBecause) {
      await c.get('services').audit.record(c.get('requestContext'), {
        type: 'request.cross_origin_refused',
        outcome: 'failure',
        details: {
          method: c.req.method,
          path: c.req.path,
          reason: refusedBecause,
          origin: requestOrigin ?? null,
        },
      });
      throw new AppError('cross_origin_refused', 'This request came from another site and was refused.');
    }
    if (c.req.path.startsWith('/api/') && c.req.method !== 'DELETE') {
      const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        throw new AppError(
          'unsupported_media_type',
          'Send the request body as JSON (Content-Type: application/json).',
        );
      }
    }
    return next();
  };
}
