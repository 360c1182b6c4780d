import { randomBytes } from 'node:crypto';
import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';

/**
 * DESIGN §4 response headers, on every response the server writes: Hono's routes, the session
 * check's fast path and the OAuth provider's Koa app alike. They are added when the head is
 * written (SecureServerResponse below), to whatever the handler did not set itself, so anything
 * the app sets (a page's nonce CSP, the static bundle's Cache-Control, the provider's pages)
 * takes precedence.
 *
 * The default CSP allows no script at all: JSON responses need none. Pages call cspNonce(),
 * which replaces it with a nonce-based policy for that one response.
 */
const BASE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Names in lower case: HTTP field names are case-insensitive (RFC 9110 §5.1), and Node lower-cases
 * every name it stores or inspects; for a name already in lower case that costs nothing, for
 * any other it is a new string to allocate and look up on every response.
 */
export const STATIC_SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
  ['content-security-policy', BASE_CSP],
  // Almost every response carries a secret or personal data; the static bundle opts back in.
  ['cache-control', 'no-store'],
];

/** Name → bit, to mark which of the headers above a response already has. */
const BIT_OF = new Map(STATIC_SECURITY_HEADERS.map(([name], index) => [name, 1 << index]));
const ALL = (1 << STATIC_SECURITY_HEADERS.length) - 1;

type HeadList = OutgoingHttpHeaders | OutgoingHttpHeader[];

/**
 * The server's response class (node:http createServer's `ServerResponse` option). Its writeHead,
 * which Node also calls for a head written implicitly (end() or write() first), sets the
 * headers above that neither the head's own list nor an earlier setHeader gave.
 *
 * Why not set each one before the handler runs, as this used to: in bench:oauth that cost about
 * 4 % of a client_credentials grant's instructions (callgrind), half of it garbage collection:
 * every request then carried nine more entries in Node's header dictionary, which the
 * provider's Koa app copies (getHeaders) and lower-cases again on its CORS routes.
 */
export class SecureServerResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  override writeHead(statusCode: number, reason?: string | HeadList, headers?: HeadList): this {
    const missing = this.#missing(typeof reason === 'string' ? headers : reason);
    for (let index = 0; missing !== 0 && index < STATIC_SECURITY_HEADERS.length; index++) {
      const [name, value] = STATIC_SECURITY_HEADERS[index] as readonly [string, string];
      if (missing & (1 << index)) this.setHeader(name, value);
    }
    return typeof reason === 'string'
      ? super.writeHead(statusCode, reason, headers)
      : super.writeHead(statusCode, reason);
  }

  /** The bits of the headers above that this head would not carry. */
  #missing(given: HeadList | undefined): number {
    let present = 0;
    if (Array.isArray(given)) {
      for (let index = 0; index < given.length; index += 2)
        present |= BIT_OF.get(String(given[index]).toLowerCase()) ?? 0;
    } else if (given) {
      for (const name in given) if (given[name] !== undefined) present |= BIT_OF.get(name.toLowerCase()) ?? 0;
    }
    for (const [name, bit] of BIT_OF) if (!(present & bit) && this.hasHeader(name)) present |= bit;
    return ALL & ~present;
  }
}

/**
 * A per-response nonce for a page's script and style tags, and the CSP that allows exactly
 * those: no inline handlers, no 'unsafe-inline', nothing from elsewhere.
 */
export function cspNonce(c: Context<AppEnv>): string {
  const existing = c.get('nonce');
  if (existing) return existing;
  const nonce = randomBytes(16).toString('base64');
  c.set('nonce', nonce);
  c.header(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `script-src 'nonce-${nonce}' 'strict-dynamic'`,
      `style-src 'self' 'nonce-${nonce}'`,
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  );
  return nonce;
}
