import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Services } from '../../services.ts';
import type { AppEnv } from '../app-env.ts';
import type { ClientIpResolver } from '../client-ip.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

function socketAddress(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // In-process requests (app.request in tests) have no socket.
    return undefined;
  }
}

/** Request id, client IP, CSP nonce and a request-scoped logger; one JSON log line per request. */
export function requestContext(
  services: Services,
  ipResolver: ClientIpResolver,
  log: Logger,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId =
      incoming && REQUEST_ID.test(incoming) ? incoming : randomBytes(12).toString('base64url');
    const ip = ipResolver.resolve(socketAddress(c), c.req.header('x-forwarded-for'));
    const userAgent = c.req.header('user-agent')?.slice(0, 512) ?? null;
    c.set('services', services);
    c.set('requestId', requestId);
    c.set('requestContext', { ip, userAgent, requestId });
    c.set('nonce', randomBytes(16).toString('base64'));
    const requestLog = log.child({ requestId });
    c.set('log', requestLog);
    c.set('auth', undefined);
    await next();
    c.header('X-Request-Id', requestId);
    requestLog.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ip,
      },
      'request',
    );
  };
}
