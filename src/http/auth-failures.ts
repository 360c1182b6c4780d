import type { Context } from 'hono';
import type { SessionRecord } from '../ports/session-store.ts';
import { AppError, type ErrorCode } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import { clearHostCookie, SESSION_COOKIE } from './cookies.ts';

/** Failures that mean a wrong secret was offered (not a malformed request). */
const WRONG_SECRET: ReadonlySet<ErrorCode> = new Set([
  'invalid_code',
  'invalid_credentials',
  'passkey_verification_failed',
]);

/**
 * Runs a check of a secret on behalf of `session` (a second factor, a re-authentication). Each
 * wrong secret counts on the session; at `mfa.maxFailures` the session ends, so a 6-digit code
 * cannot be guessed through one half-authenticated or stolen session.
 */
export async function countingFailures<T>(
  c: Context<AppEnv>,
  session: SessionRecord,
  check: () => Promise<T>,
): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (!(error instanceof AppError) || !WRONG_SECRET.has(error.code)) throw error;
    const { sessions, config } = c.get('services');
    if ((await sessions.recordAuthFailure(session.id)) >= config.mfa.maxFailures) {
      await sessions.end(session.id);
      clearHostCookie(c, SESSION_COOKIE);
      throw new AppError(
        'unauthenticated',
        'Too many wrong attempts: you have been signed out. Sign in again.',
      );
    }
    throw error;
  }
}
