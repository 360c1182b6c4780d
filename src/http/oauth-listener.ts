import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  isProviderPath,
  type OAuthProvider,
  providerRouteLabel,
} from '../domain/oauth-provider/oauth-provider.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { ClientIpResolver } from './client-ip.ts';
import { logRequest, requestIdFor } from './middleware/request-context.ts';

/**
 * Sends the OAuth provider's paths (/oauth/…, discovery) to the provider and says whether it
 * did; everything else, /interaction/… included, stays with Hono (RECIPES "oidc-provider 9":
 * one node:http server, two handlers). The security headers are already on the response; the
 * provider sets its own CSP and Cache-Control over them where it must. Like Hono's requests,
 * each gets a request id and one access-log line, and is counted when metrics are on.
 */
export function providerRoute(
  oauth: OAuthProvider,
  trustedProxies: string | undefined,
  log: Logger,
  metrics: Metrics | null,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const ips = new ClientIpResolver(trustedProxies);
  const accessLog = log.isLevelEnabled('info');
  return (request, response) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (!isProviderPath(path)) return false;
    const started = performance.now();
    const forwarded = request.headers['x-forwarded-for'];
    // As Hono's requests (request-context.ts): a proxy's well-formed X-Request-Id is kept, else a
    // process prefix and a counter (a random id per request measured ~15 µs under load).
    const incomingId = request.headers['x-request-id'];
    const requestId = requestIdFor(typeof incomingId === 'string' ? incomingId : undefined);
    const ip = ips.resolve(
      request.socket.remoteAddress,
      Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
    );
    response.setHeader('x-request-id', requestId);
    if (metrics) {
      const route = providerRouteLabel(path);
      const method = request.method ?? 'GET';
      response.once('finish', () => metrics.observeRequest(method, route, response.statusCode, started));
    }
    if (accessLog) {
      response.once('finish', () =>
        logRequest(log, {
          requestId,
          method: request.method ?? 'GET',
          path,
          status: response.statusCode,
          started,
          ip,
        }),
      );
    }
    oauth.handle(request, response, {
      ip,
      userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
      requestId,
    });
    return true;
  };
}
