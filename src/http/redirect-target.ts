import type { Context } from 'hono';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';

/**
 * A sign-in's `redirectTo`, checked against the redirect policy before any credential is
 * looked at: a refused target must not cost the user a single-use challenge, or leave them
 * signed in on the way to somewhere we would not send them. Null when none was given.
 */
export async function checkedRedirectTarget(
  c: Context<AppEnv>,
  target: string | undefined,
  flow: string,
): Promise<string | null> {
  if (target === undefined) return null;
  const services = c.get('services');
  const resolved = services.redirects.resolve(target);
  if (resolved !== null) return resolved;
  await services.audit.record(c.get('requestContext'), {
    type: 'redirect.refused',
    outcome: 'failure',
    details: { flow, target: target.slice(0, 200) },
  });
  throw new AppError('redirect_refused', 'That redirect target is not allowed.');
}
