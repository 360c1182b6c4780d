import type { Context } from 'hono';
import type { ValidatedSession } from '../domain/sessions/session-service.ts';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import { requireSession } from './auth.ts';

/** Signed out: 401. Signed in but not an administrator (see AdminPolicy): 403. */
export async function requireAdmin(c: Context<AppEnv>): Promise<ValidatedSession> {
  const auth = await requireSession(c);
  if (!c.get('services').admins.isAdmin(auth.user)) {
    throw new AppError('forbidden', 'This needs an administrator account.');
  }
  return auth;
}
