import type { Context } from 'hono';
import type { IssuedSession, ValidatedSession } from '../domain/sessions/session-service.ts';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import { clearHostCookie, readCookie, SESSION_COOKIE, setHostCookie } from './cookies.ts';
import { rememberDevice } from './device-cookie.ts';

/**
 * The caller's signed-in session, or null. A half-authenticated session (second factor
 * pending, issue #3) is null here: it authorizes nothing but completing the second factor, and
 * enforcing that in this one place means no route can forget it.
 */
export async function currentSession(c: Context<AppEnv>): Promise<ValidatedSession | null> {
  const found = await lookupSession(c);
  return found && !found.session.mfaPending ? found : null;
}

/** The caller's half-authenticated session (first factor done, second pending), or null. */
export async function pendingSession(c: Context<AppEnv>): Promise<ValidatedSession | null> {
  const found = await lookupSession(c);
  return found?.session.mfaPending ? found : null;
}

/** Any session this browser holds, complete or pending: for signing out. */
export function anySession(c: Context<AppEnv>): Promise<ValidatedSession | null> {
  return lookupSession(c);
}

/**
 * The session behind the cookie, looked up at most once per request. A renewed rolling expiry
 * is sent back as a fresh cookie; an unknown or expired token clears the cookie.
 */
async function lookupSession(c: Context<AppEnv>): Promise<ValidatedSession | null> {
  const memo = c.get('auth');
  if (memo !== undefined) return memo;
  const token = readCookie(c, SESSION_COOKIE);
  if (!token) {
    c.set('auth', null);
    return null;
  }
  const validated = (await c.get('services').sessions.validate(token)) ?? null;
  c.set('auth', validated);
  if (!validated) clearHostCookie(c, SESSION_COOKIE);
  else if (validated.renewedExpiresAt !== null)
    setHostCookie(c, SESSION_COOKIE, token, validated.renewedExpiresAt);
  return validated;
}

export async function requireSession(c: Context<AppEnv>): Promise<ValidatedSession> {
  const session = await lookupSession(c);
  if (!session) throw new AppError('unauthenticated', 'Sign in to continue.');
  if (session.session.mfaPending) {
    throw new AppError('mfa_required', 'Finish signing in: enter the code from your authenticator app.');
  }
  return session;
}

/**
 * Completes a sign-in: the previous session of this browser (if any) ends, a new token is set.
 * A fresh token at every sign-in defeats session fixation (DESIGN §4).
 *
 * The factor policy is applied here, for every way of signing in: when `amr` is not enough for
 * this user (a password or email without the second factor they enrolled), the new session is
 * half-authenticated (`session.mfaPending`) and short-lived until POST /api/v1/mfa/verify.
 *
 * A disabled account is refused here (403 `account_disabled`), for every way of signing in:
 * each sign-in route ends in this function, so a new route cannot forget the check. Only
 * someone whose factor was just accepted learns that the account is disabled; asking for a
 * link or code answers as for any address (no enumeration).
 */
export async function startSession(
  c: Context<AppEnv>,
  userId: string,
  amr: string[],
): Promise<IssuedSession> {
  const services = c.get('services');
  const user = await services.users.findById(userId);
  // Deleted between the factor check and here: nothing to sign in to.
  if (!user) throw new AppError('unauthenticated', 'Sign in to continue.');
  if (user.disabledAt !== null) {
    await services.audit.record(c.get('requestContext'), {
      type: 'sign_in.account_disabled',
      outcome: 'failure',
      userId,
      details: { amr },
    });
    throw new AppError('account_disabled', 'This account is disabled. Contact your administrator.');
  }
  const previous = await lookupSession(c);
  if (previous) await services.sessions.end(previous.session.id);
  const pending = await services.factorPolicy.needsSecondFactor(userId, amr);
  const issued = await services.sessions.issue(
    userId,
    amr,
    c.get('requestContext'),
    pending ? { lifetimeMs: services.config.mfa.pendingLifetimeMs } : undefined,
  );
  setHostCookie(c, SESSION_COOKIE, issued.token, issued.session.expiresAt);
  // Only a complete sign-in makes this browser one of the account's devices: someone past the
  // first factor alone must not earn the owner's exemption from stuffing delays.
  if (!pending) await rememberDevice(c, userId, issued.session.id);
  c.set('auth', null);
  return issued;
}
