import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.ts';
import type { ClientIpResolver } from './client-ip.ts';
import { cookieFromHeader, SESSION_COOKIE } from './cookies.ts';
import { logRequest, requestIdFor } from './middleware/request-context.ts';
import { STATIC_SECURITY_HEADERS } from './middleware/security-headers.ts';
import { sessionJson, USER_ID_HEADER, userJson } from './serializers.ts';

const PATH = '/api/v1/session';
/**
 * The whole head in one flat list: with every header given (the security headers too), Node
 * writes it in one pass and SecureServerResponse has nothing to add.
 */
const FLAT_SECURITY_HEADERS = STATIC_SECURITY_HEADERS.flat();

/**
 * `GET /api/v1/session` is the hottest request in the product: every page load of every app
 * behind Gatehouse asks it. Routing it through Hono and its middleware costs more than the
 * session check itself (bench/session.ts, bench/README.md), so its common case is answered here,
 * straight on node:http, before the app: a valid, fully authenticated session with no write due.
 *
 * This path decides nothing on its own. Validity comes from SessionService.readIfCurrent (the
 * same expiry and idle rules as validate()), the body from the same serializers as the route,
 * the security headers from their one list (security-headers.ts), the request id and the
 * access-log line from the request-context helpers. Every other case — no cookie, unknown or expired token, second
 * factor pending, last activity or rolling expiry due for a write, a query string, a storage
 * error — returns false and the request goes on to the route in routes/session.ts, which owns
 * those rules and their answers. A GET has no body, so falling through loses nothing.
 *
 * Returns true when it answered.
 */
export function sessionCheckFastPath(
  services: Services,
  ipResolver: ClientIpResolver,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const accessLog = services.log.isLevelEnabled('info');
  const { metrics } = services;
  return async (request, response) => {
    if (request.method !== 'GET' || request.url !== PATH) return false;
    const started = accessLog || metrics ? performance.now() : 0;
    const token = cookieFromHeader(request.headers.cookie, SESSION_COOKIE);
    if (!token) return false;
    let found: Awaited<ReturnType<typeof services.sessions.readIfCurrent>>;
    try {
      found = await services.sessions.readIfCurrent(token);
    } catch {
      // The route answers storage failures (503) and logs them; nothing was sent yet.
      return false;
    }
    if (!found || found.session.mfaPending) return false;
    const body = JSON.stringify({ user: userJson(found.user), session: sessionJson(found.session) });
    const requestId = requestIdFor(request.headers['x-request-id'] as string | undefined);
    response.writeHead(200, [
      ...FLAT_SECURITY_HEADERS,
      'x-request-id',
      requestId,
      USER_ID_HEADER,
      found.user.id,
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(body)),
    ]);
    response.end(body);
    metrics?.observeRequest('GET', PATH, 200, started);
    if (accessLog) {
      const ip = ipResolver.resolve(
        request.socket.remoteAddress,
        request.headers['x-forwarded-for'] as string | undefined,
      );
      logRequest(services.log, { requestId, method: 'GET', path: PATH, status: 200, started, ip });
    }
    return true;
  };
}
