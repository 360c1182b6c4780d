import type { Context, Hono } from 'hono';
import type { Identifier } from '../domain/ratelimit/keys.ts';
import { normalizeEmail } from '../domain/users/email-address.ts';
import type { AppEnv } from './app-env.ts';
import { currentSession, pendingSession } from './auth.ts';
import { type LimitedRoute, rateLimit } from './middleware/rate-limit.ts';

/**
 * Every authentication endpoint and its limits (docs/abuse-protection.md). The limiter is
 * mounted on the same method and path pattern as the route, so it sees exactly the requests
 * the route's handler sees: whatever Hono's router makes of `//x`, `%73`, `./` or a trailing
 * slash, no spelling of a path can reach the handler and skip the limiter.
 */
export const limitedRoutes: readonly LimitedRoute[] = [
  // Per address, the mail budget (RequestLimiter.allowMail) applies inside the handler.
  {
    method: 'POST',
    path: '/api/v1/email/sign-in',
    endpoint: 'email_sign_in',
    limits: (limits) => limits.emailSignIn,
  },
  {
    method: 'POST',
    path: '/api/v1/email/verify',
    endpoint: 'email_verify',
    limits: (limits) => limits.emailVerify,
    identify: emailInBody,
    failureCodes: ['invalid_code', 'invalid_or_expired'],
    stuffing: true,
  },
  {
    method: 'POST',
    path: '/api/v1/passkeys/sign-in/options',
    endpoint: 'passkey_sign_in_options',
    limits: (limits) => limits.passkeySignInOptions,
  },
  {
    method: 'POST',
    path: '/api/v1/passkeys/sign-in/verify',
    endpoint: 'passkey_sign_in_verify',
    limits: (limits) => limits.passkeySignInVerify,
    // The account is only a claim in the assertion: it keys the failure delay for this client,
    // but there is no per-account limit or stuffing delay. A passkey has no secret to guess,
    // and anyone who knows a user id must not be able to lock its owner out of passkey sign-in.
    identify: passkeyAccount,
    failureCodes: ['passkey_verification_failed'],
  },
  {
    method: 'POST',
    path: '/api/v1/passkeys/register/options',
    endpoint: 'passkey_register_options',
    limits: (limits) => limits.passkeyRegister,
    identify: signedInUser,
  },
  {
    method: 'POST',
    path: '/api/v1/passkeys/register/verify',
    endpoint: 'passkey_register_verify',
    limits: (limits) => limits.passkeyRegister,
    identify: signedInUser,
  },
  {
    method: 'POST',
    path: '/api/v1/password/sign-in',
    endpoint: 'password_sign_in',
    limits: (limits) => limits.passwordSignIn,
    identify: emailInBody,
    failureCodes: ['invalid_credentials'],
    stuffing: true,
  },
  // Mail-sending: the per-address limit is counted before any lookup, so its 429 is the same
  // for an address with an account and one without.
  {
    method: 'POST',
    path: '/api/v1/password/sign-up',
    endpoint: 'password_sign_up',
    limits: (limits) => limits.accountMail,
    identify: emailInBody,
  },
  {
    method: 'POST',
    path: '/api/v1/password/forgot',
    endpoint: 'password_forgot',
    limits: (limits) => limits.accountMail,
    identify: emailInBody,
  },
  {
    method: 'POST',
    path: '/api/v1/me/email',
    endpoint: 'email_change',
    limits: (limits) => limits.accountMail,
    identify: emailInBody,
  },
  ...['/api/v1/me/email/confirm', '/api/v1/me/email/revert'].map(
    (path): LimitedRoute => ({
      method: 'POST',
      path,
      endpoint: 'email_change_link',
      limits: (limits) => limits.accountLinks,
      failureCodes: ['invalid_or_expired'],
    }),
  ),
  {
    method: 'POST',
    path: '/api/v1/password/sign-up/confirm',
    endpoint: 'password_link',
    limits: (limits) => limits.accountLinks,
    failureCodes: ['invalid_or_expired'],
  },
  {
    method: 'POST',
    path: '/api/v1/password/reset',
    endpoint: 'password_link',
    limits: (limits) => limits.accountLinks,
    failureCodes: ['invalid_or_expired'],
  },
  {
    method: 'POST',
    path: '/api/v1/mfa/verify',
    endpoint: 'mfa_verify',
    limits: (limits) => limits.secondFactor,
    identify: halfSignedInUser,
    // `unauthenticated`: the wrong code that used up the session's own allowance.
    failureCodes: ['invalid_code', 'unauthenticated'],
    stuffing: true,
  },
  ...['/api/v1/reauth/password', '/api/v1/reauth/email/verify', '/api/v1/reauth/passkey/verify'].map(
    (path): LimitedRoute => ({
      method: 'POST',
      path,
      endpoint: 'reauth_verify',
      limits: (limits) => limits.reauth,
      identify: signedInUser,
      failureCodes: ['invalid_credentials', 'invalid_code', 'passkey_verification_failed', 'unauthenticated'],
    }),
  ),
  ...['/api/v1/reauth/email', '/api/v1/reauth/passkey/options'].map(
    (path): LimitedRoute => ({
      method: 'POST',
      path,
      endpoint: 'reauth_start',
      limits: (limits) => limits.reauth,
      identify: signedInUser,
    }),
  ),
  {
    method: 'POST',
    path: '/api/v1/password/change',
    endpoint: 'password_change',
    limits: (limits) => limits.reauth,
    identify: signedInUser,
    failureCodes: ['invalid_credentials', 'unauthenticated'],
  },
  {
    method: 'GET',
    path: '/auth/:provider',
    endpoint: 'federation_start',
    limits: (limits) => limits.federation,
  },
  {
    method: 'GET',
    path: '/auth/:provider/callback',
    endpoint: 'federation_callback',
    limits: (limits) => limits.federation,
  },
  {
    method: 'POST',
    path: '/auth/:provider/callback',
    endpoint: 'federation_callback',
    limits: (limits) => limits.federation,
  },
];

/** Mounts the limiters; must run before the routes are mounted, so it runs before their handlers. */
export function mountRateLimits(app: Hono<AppEnv>): void {
  for (const route of limitedRoutes) app.on(route.method, route.path, rateLimit(route));
}

/** The body is read once and cached by Hono; the handler validates it again. */
async function jsonBody(c: Context<AppEnv>): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = await c.req.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The address of an email code (a link token names no address). */
async function emailInBody(c: Context<AppEnv>): Promise<Identifier | null> {
  const email = (await jsonBody(c))?.['email'];
  if (typeof email !== 'string') return null;
  try {
    return { kind: 'email', value: normalizeEmail(email) };
  } catch {
    return null; // invalid: the handler refuses it before any secret is checked
  }
}

/** The account an assertion claims: its user handle, or failing that its credential id. */
async function passkeyAccount(c: Context<AppEnv>): Promise<Identifier | null> {
  const response = (await jsonBody(c))?.['response'] as
    | { id?: unknown; response?: { userHandle?: unknown } }
    | undefined;
  const claimed = response?.response?.userHandle ?? response?.id;
  return typeof claimed === 'string' && claimed !== ''
    ? { kind: 'passkey', value: claimed.slice(0, 512) }
    : null;
}

async function signedInUser(c: Context<AppEnv>): Promise<Identifier | null> {
  const session = await currentSession(c);
  return session ? { kind: 'user', value: session.user.id } : null;
}

/** The account of a sign-in waiting for its second factor. */
async function halfSignedInUser(c: Context<AppEnv>): Promise<Identifier | null> {
  const session = await pendingSession(c);
  return session ? { kind: 'user', value: session.user.id } : null;
}
