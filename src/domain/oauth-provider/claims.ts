import type { UserRecord } from '../../ports/user-store.ts';
import { FEDERATED_AMR } from '../mfa/factor-policy.ts';

/**
 * Which claims each scope releases (OpenID Connect Core §5.4), and nothing else: an access or
 * ID token carries `sub` plus what the granted scopes demand. auth_time, amr and acr ride on
 * `openid` so every ID token says how and when the user signed in.
 */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'auth_time', 'amr', 'acr'],
  email: ['email', 'email_verified'],
  profile: ['name', 'updated_at'],
};

export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'];

/**
 * Authentication context class for a Gatehouse session's methods (RFC 8176 amr values).
 * `phr` (phishing-resistant, OpenID EAP ACR Values 1.0 §2) for a passkey (proof of possession of
 * an origin-bound key: "pop", or "hwk"/"swk"); anything else is the basic class. Relying parties
 * that need phishing resistance request acr_values=phr.
 */
export const ACR_PHISHING_RESISTANT = 'phr';
export const ACR_BASIC = 'urn:gatehouse:acr:basic';

export function acrFor(amr: readonly string[]): string {
  // A federated sign-in is only as strong as Gatehouse can check: whatever methods the other
  // provider reports ("hwk", "pop"…), it is the basic class here (factor-policy.ts federatedAmr).
  if (amr.includes(FEDERATED_AMR)) return ACR_BASIC;
  return amr.some((method) => method === 'pop' || method === 'hwk' || method === 'swk')
    ? ACR_PHISHING_RESISTANT
    : ACR_BASIC;
}

/** The classes this server can meet, weakest first. */
const KNOWN_ACRS: readonly string[] = [ACR_BASIC, ACR_PHISHING_RESISTANT];

/**
 * Whether a sign-in with these methods meets an authorization request's `acr_values` (OpenID
 * Connect Core §3.1.2.1; the client's answer to a resource server's RFC 9470 step-up
 * challenge). Any class this server knows among the values will do, so `phr` alone asks for a
 * passkey and a list naming the basic class accepts any sign-in. Values this server has never
 * heard of are ignored: acr_values are a request, and demanding an unknown class could only
 * end the sign-in; the token's `acr` tells the client what it got.
 */
export function acrSatisfied(requested: readonly string[], amr: readonly string[]): boolean {
  const known = requested.filter((value) => KNOWN_ACRS.includes(value));
  return known.length === 0 || known.includes(acrFor(amr));
}

/** The space-separated `acr_values` parameter as a list (empty when absent). */
export function acrValuesOf(parameter: unknown): string[] {
  return typeof parameter === 'string' ? parameter.split(' ').filter(Boolean) : [];
}

/** The standard claims of a user, restricted to the requested scopes. */
export function userClaims(user: UserRecord, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  if (scopes.has('email')) {
    claims['email'] = user.email;
    claims['email_verified'] = user.emailVerifiedAt !== null;
  }
  if (scopes.has('profile')) {
    if (user.displayName) claims['name'] = user.displayName;
    claims['updated_at'] = Math.floor(user.updatedAt / 1000);
  }
  return claims;
}
