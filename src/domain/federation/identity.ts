import type { IDToken } from 'openid-client';
import { hasUnsafeCharacters } from '../text.ts';
import { normalizeEmail } from '../users/email-address.ts';
import type { FederationPreset } from './providers.ts';

/** Who the provider says signed in, after every check; keyed by (issuer, subject). */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  /** Normalised, or null when the provider gave none (or an unusable one). */
  email: string | null;
  /** Whether the provider vouches that the person controls `email`. */
  emailVerified: boolean;
  name: string | null;
  /** RFC 8176 values the provider reported (how the person authenticated there). */
  amr: string[];
}

const NAME_MAX = 100;
const AMR_VALUE = /^[A-Za-z0-9_-]{1,32}$/;

/** An address we can store and mail, or null. */
export function usableEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    return normalizeEmail(value);
  } catch {
    return null;
  }
}

/** A display name from the provider, or null: trimmed, bounded, no control or bidi characters. */
export function usableName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.trim().replace(/\s+/g, ' ');
  if (!name || hasUnsafeCharacters(name)) return null;
  return [...name].slice(0, NAME_MAX).join('');
}

/**
 * Whether the provider vouches for the address. Only an explicit claim counts:
 * - Apple sends `email_verified` as the string "true" (its documentation's own example);
 * - Microsoft never sends `email_verified`, and its `email` claim is whatever the tenant
 *   typed in: only `xms_edov` (the tenant owns the address's domain) makes it trustworthy.
 *   Trusting the bare claim is the "nOAuth" account-takeover pattern.
 */
function emailVerified(preset: FederationPreset, claims: IDToken): boolean {
  if (preset === 'microsoft') return claims.xms_edov === true || claims.xms_edov === 'true';
  if (preset === 'apple') return claims.email_verified === true || claims.email_verified === 'true';
  return claims.email_verified === true;
}

/** Apple sends the name once, at the first authorization, as JSON beside the code. */
function appleName(user: string | null): string | null {
  if (!user || user.length > 2048) return null;
  try {
    const parsed = JSON.parse(user) as { name?: { firstName?: unknown; lastName?: unknown } };
    const parts = [parsed.name?.firstName, parsed.name?.lastName].filter((p) => typeof p === 'string');
    return usableName(parts.join(' '));
  } catch {
    return null;
  }
}

function reportedAmr(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const values = value.filter((v): v is string => typeof v === 'string' && AMR_VALUE.test(v) && v !== 'fed');
  return [...new Set(values)].slice(0, 8);
}

/** The identity in a verified ID token (the claims openid-client and our key check accepted). */
export function identityFromClaims(
  preset: FederationPreset,
  claims: IDToken,
  appleUser: string | null,
): UpstreamIdentity {
  const email = usableEmail(claims.email);
  const given = [claims.given_name, claims.family_name].filter((p) => typeof p === 'string').join(' ');
  return {
    issuer: claims.iss,
    subject: claims.sub,
    email,
    emailVerified: email !== null && emailVerified(preset, claims),
    name: (preset === 'apple' ? appleName(appleUser) : null) ?? usableName(claims.name) ?? usableName(given),
    amr: reportedAmr(claims.amr),
  };
}
