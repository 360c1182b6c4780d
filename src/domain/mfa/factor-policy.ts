import type { Config } from '../../config/schema.ts';
import type { TotpStore } from '../../ports/credential-store.ts';

/**
 * The one factor policy (issue #3). Every sign-in and every re-authentication asks it whether
 * the factors proven so far are enough.
 *
 * - A passkey with user verification is two factors in one gesture (possession of the device,
 *   plus the PIN or biometric that unlocked it): its amr carries "mfa" and it suffices alone.
 * - A password, an emailed link or code, or a federated sign-in is one factor. It needs a
 *   second when the user has one enrolled, or when the instance requires MFA.
 */

/** RFC 8176 §2: "mfa" says more than one factor was used. */
export const MFA = 'mfa';
/** RFC 8176 §2 "otp": authenticator-app codes (RFC 6238) and single-use recovery codes alike. */
export const SECOND_FACTOR_AMR = 'otp';

export interface FactorStanding {
  /** A confirmed authenticator app (recovery codes only exist beside one). */
  secondFactorEnrolled: boolean;
  instanceRequiresMfa: boolean;
}

/** RFC 8176 §2: "fed", authentication by a federated identity provider. */
export const FEDERATED_AMR = 'fed';

/**
 * RFC 8176 §2 values for a session started with a passkey. A verified assertion proves
 * possession of the credential's private key: "pop". With user verification the authenticator
 * also checked a PIN or biometric before signing, so the user both holds the device and knows
 * or is something: "user" (the user was tested at the device) and "mfa" (two factors in one
 * gesture). Without UV only possession is proven, and "pop" is all we claim: downstream step-up
 * rules read "mfa" and must not be granted it by a bare touch.
 */
export function passkeyAmr(userVerified: boolean): string[] {
  return userVerified ? ['pop', 'user', 'mfa'] : ['pop'];
}

/**
 * The amr of a sign-in through another identity provider: "fed" and what the provider said it
 * did, except "mfa". Gatehouse cannot check how the provider authenticated the user, so a
 * federated sign-in counts as one factor here, whatever it claims.
 */
export function federatedAmr(upstreamAmr: readonly string[]): string[] {
  return [FEDERATED_AMR, ...upstreamAmr.filter((value) => value !== MFA)];
}

export function satisfiesMfa(amr: readonly string[]): boolean {
  return amr.includes(MFA);
}

/** Whether a session started with `amr` must wait for a second factor. */
export function secondFactorNeeded(amr: readonly string[], standing: FactorStanding): boolean {
  if (satisfiesMfa(amr)) return false;
  return standing.secondFactorEnrolled || standing.instanceRequiresMfa;
}

/** The amr of a sign-in completed with a second factor: both factors, and "mfa". */
export function withSecondFactor(firstFactorAmr: readonly string[]): string[] {
  return [...new Set([...firstFactorAmr, SECOND_FACTOR_AMR, MFA])];
}

/**
 * What a re-authentication must prove before a sensitive change: for a user held to MFA, both
 * factors again ("mfa"); otherwise any one way to sign in.
 */
export function stepUpFactors(standing: FactorStanding): string[] {
  return standing.secondFactorEnrolled || standing.instanceRequiresMfa ? [MFA] : [];
}

/** Reads a user's standing from storage; the decisions above stay pure. */
export class FactorPolicy {
  readonly #totp: TotpStore;
  readonly #config: Config;

  constructor(totp: TotpStore, config: Config) {
    this.#totp = totp;
    this.#config = config;
  }

  async standing(userId: string): Promise<FactorStanding> {
    const totp = await this.#totp.find(userId);
    return {
      secondFactorEnrolled: totp?.confirmedAt != null,
      instanceRequiresMfa: this.#config.mfa.required,
    };
  }

  async needsSecondFactor(userId: string, amr: readonly string[]): Promise<boolean> {
    if (satisfiesMfa(amr)) return false;
    return secondFactorNeeded(amr, await this.standing(userId));
  }
}
