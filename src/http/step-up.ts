import type { Context } from 'hono';
import { type FactorStanding, stepUpFactors } from '../domain/mfa/factor-policy.ts';
import type { ValidatedSession } from '../domain/sessions/session-service.ts';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import type { StepUpRequirement } from './pages/client/step-up-methods.ts';
import { requireSession } from './auth.ts';

export interface RecentAuthOptions {
  /** How long ago the last sign-in or re-authentication may be; default `mfa.stepUpMaxAgeMs`. */
  maxAgeMs?: number;
  /** amr values the session must carry on top of what the factor policy asks. */
  factors?: string[];
}

/**
 * Step-up (issue #3): a sensitive change needs a recent authentication, not just a live
 * session, so a session cookie stolen or left open on a shared computer cannot add a passkey,
 * move the address or delete the account. A user held to MFA must have proven both factors
 * ("mfa" in amr). Otherwise: 403 `step_up_required` with what would satisfy it; the client
 * re-authenticates at /api/v1/reauth/… and retries.
 */
export async function requireRecentAuth(
  c: Context<AppEnv>,
  options: RecentAuthOptions = {},
): Promise<ValidatedSession> {
  const auth = await requireSession(c);
  const services = c.get('services');
  const maxAgeMs = options.maxAgeMs ?? services.config.mfa.stepUpMaxAgeMs;
  const standing = await services.factorPolicy.standing(auth.user.id);
  const factors = [...new Set([...stepUpFactors(standing), ...(options.factors ?? [])])];
  const recent = services.clock.now() - auth.session.authTime <= maxAgeMs;
  if (recent && factors.every((factor) => auth.session.amr.includes(factor))) return auth;
  throw new AppError('step_up_required', 'Confirm it’s you to continue.', {
    extra: {
      maxAge: Math.floor(maxAgeMs / 1000),
      ...(await stepUpRequirement(c, auth, options.factors, standing)),
    },
  });
}

/**
 * The step-up prompt's brief (src/http/pages/client/step-up-methods.ts reads it, and declares
 * its shape): in the 403 above, and on the OAuth provider's re-authentication page
 * (pages/interaction.ts). `factors`: the factor policy's, and `extra`.
 */
export async function stepUpRequirement(
  c: Context<AppEnv>,
  auth: ValidatedSession,
  extra: readonly string[] = [],
  known?: FactorStanding,
): Promise<StepUpRequirement> {
  const services = c.get('services');
  const standing = known ?? (await services.factorPolicy.standing(auth.user.id));
  const hasPasskey = (await services.passkeys.list(auth.user)).length > 0;
  const hasPassword =
    services.config.passwords.enabled && (await services.stores.passwords.find(auth.user.id)) !== undefined;
  return {
    factors: [...new Set([...stepUpFactors(standing), ...extra])],
    methods: [
      ...(hasPasskey ? ['passkey' as const] : []),
      'email',
      ...(hasPassword ? ['password' as const] : []),
    ],
    secondFactor: standing.secondFactorEnrolled ? 'totp' : null,
  };
}
