import type { Context } from 'hono';
import type { IssuedSession, ValidatedSession } from '../domain/sessions/session-service.ts';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import { clearHostCookie, readCookie, SESSION_COOKIE, setHostCookie } from './cookies.ts';

/**
 * The caller's session, looked up at most once per request. A renewed rolling expiry is
 * sent back as a fresh cookie; an unknown or expired token clears the cookie.
 */
export async function currentSession(c: Context<AppEnv>): Promise<ValidatedSession | null> {
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
  const session = await currentSession(c);
  if (!session) throw new AppError('unauthenticated', 'Sign in to continue.');
  return session;
}

/**
 * Completes a sign-in: the previous session of this browser (if any) ends, a new token is set.
 * A fresh token at every sign-in defeats session fixation (DESIGN §4).
 */
export async function startSession(
  c: Context<AppEnv>,
  userId: string,
  amr: string[],
): Promise<IssuedSession> {
  const services = c.get('services');
  const previous = await currentSession(c);
  if (previous) await services.sessions.end(previous.session.id);
  const issued = await services.sessions.issue(userId, amr, c.get('requestContext'));
  setHostCookie(c, SESSION_COOKIE, issued.token, issued.session.expiresAt);
  c.set('auth', null);
  return issued;
}
