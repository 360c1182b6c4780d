import type { Context } from 'hono';
import { z } from 'zod';
import type { IssuedSession } from '../domain/sessions/session-service.ts';
import type { UserRecord } from '../ports/user-store.ts';
import type { AppEnv } from './app-env.ts';
import { sessionJson, userJson } from './serializers.ts';

/**
 * The answer to a first factor that needs a second (issue #3): a half-authenticated session
 * cookie is set and the body says what completes it. Nothing about the account is returned
 * until then.
 */
export const mfaRequiredSchema = z
  .object({
    mfa_required: z.literal(true),
    enrol: z
      .boolean()
      .describe(
        'true when the instance requires MFA and the user has no second factor yet: set up an authenticator with POST /api/v1/mfa/totp/setup and …/confirm',
      ),
    redirectTo: z.string().nullable(),
  })
  .meta({ id: 'MfaRequired' });

/** Signed in, or (when the factor policy asks for more) `{"mfa_required": true, …}`. */
export async function signInResponse(
  c: Context<AppEnv>,
  user: UserRecord,
  issued: IssuedSession,
  extra: Record<string, unknown> & { redirectTo?: string | null },
): Promise<Response> {
  c.header('Cache-Control', 'no-store');
  if (issued.session.mfaPending) {
    const standing = await c.get('services').factorPolicy.standing(user.id);
    return c.json({
      mfa_required: true,
      enrol: !standing.secondFactorEnrolled,
      redirectTo: extra.redirectTo ?? null,
    });
  }
  return c.json({ user: userJson(user), session: sessionJson(issued.session), ...extra });
}
