import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { METHOD_NAME_ALL } from 'hono/router';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import { UNMATCHED_ROUTE } from '../../metrics/metrics.ts';
import type { Services } from '../../services.ts';
import type { AppEnv } from '../app-env.ts';
import type { ClientIpResolver } from '../client-ip.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

// Request ids need to be unique, not secret: a random per-process prefix and a counter are
// unique across nodes and restarts and cost nothing on the hot path.
const processPrefix = randomBytes(6).toString('base64url');
let requestCounter = 0;
/** The caller's X-Request-Id when it is well-formed (a proxy's, to follow one request across hops), else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  if (incoming && REQUEST_ID.test(incoming)) return incoming;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${processPrefix}-${requestCounter.toString(36)}`;
}

/** The one JSON access-log line per request. */
export function logRequest(
  log: Logger,
  line: {
    requestId: string;
    method: string;
    path: string;
    status: number;
    started: number;
    ip: string | null;
  },
): void {
  const { started, ...fields } = line;
  log.info({ ...fields, ms: Math.round((performance.now() - started) * 10) / 10 }, 'request');
}

function socketAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // In-process requests (app.request) have no socket.
    return undefined;
  }
}

/** The request-scoped logger (every line carries the request id), made on first use. */
export function requestLog(c: Context<AppEnv>): Logger {
  let log = c.get('log');
  if (!log) {
    log = c.get('services').log.child({ requestId: c.get('requestId') });
    c.set('log', log);
  }
  return log;
}

/**
 * The route pattern the request was for (`/api/v1/sessions/:id`), for metrics labels, read
 * after the handlers ran: the last route (not middleware, which Hono registers for every
 * method) its path and method matched, whether its handler answered or a middleware refused it
 * first (a cross-origin 403, a 413, a 429). None: a path no route knows.
 */
function routeLabel(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let index = routes.length - 1; index >= 0; index--) {
    const route = routes[index]!;
    if (route.method !== METHOD_NAME_ALL) return route.path;
  }
  return UNMATCHED_ROUTE;
}

/**
 * Request id, client IP and user agent for every request; one JSON access-log line each, and
 * the request's metrics when they are on.
 */
export function requestContext(services: Services, ipResolver: ClientIpResolver): MiddlewareHandler<AppEnv> {
  const accessLog = services.log.isLevelEnabled('info');
  const { metrics } = services;
  return async (c, next) => {
    const started = accessLog || metrics ? performance.now() : 0;
    const requestId = requestIdFor(c.req.header('x-request-id'));
    const ip = ipResolver.resolve(socketAddress(c), c.req.header('x-forwarded-for'));
    const userAgent = c.req.header('user-agent')?.slice(0, 512) ?? null;
    c.set('services', services);
    c.set('requestId', requestId);
    c.set('requestContext', { ip, userAgent, requestId });
    // On the Node response, like the security headers: cheaper than the Fetch Headers object.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) outgoing.setHeader('x-request-id', requestId);
    else c.header('X-Request-Id', requestId);
    await next();
    metrics?.observeRequest(c.req.method, routeLabel(c), c.res.status, started);
    if (accessLog) {
      logRequest(services.log, {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        started,
        ip,
      });
    }
  };
}
