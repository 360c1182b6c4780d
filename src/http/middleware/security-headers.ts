import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';

/**
 * DESIGN §4 response headers. They are written on Node's ServerResponse before the request
 * reaches the app (see node-listener.ts): headers set there cost a plain property write,
 * whereas adding them to a Fetch `Headers` object on every response measured at about a fifth
 * of session-check throughput. Anything the app sets itself (a page's nonce CSP, the static
 * bundle's Cache-Control) takes precedence, because Node lets `writeHead` override.
 *
 * The default CSP allows no script at all: JSON responses need none. Pages call cspNonce(),
 * which replaces it with a nonce-based policy for that one response.
 */
const BASE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const STATIC_SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
  ['Content-Security-Policy', BASE_CSP],
  // Almost every response carries a secret or personal data; the static bundle opts back in.
  ['Cache-Control', 'no-store'],
];

export function applySecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of STATIC_SECURITY_HEADERS) response.setHeader(name, value);
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
