import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * TOTP (RFC 6238) over the `otpauth` library. Enrolment uses the parameters every authenticator
 * app supports (SHA-1, 6 digits, 30 s); the functions take others so the RFC's own vectors
 * (SHA-256 and SHA-512, 8 digits) can check them.
 */
export interface TotpParameters {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  periodSeconds: number;
}

export const STANDARD_TOTP: TotpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 };

/** ±1 step (RFC 6238 §5.2): tolerates 30 s of clock drift either way, no more. */
const WINDOW = 1;

/** A new shared secret, base32: 160 bits, the HMAC-SHA-1 block-size key RFC 4226 §4 recommends. */
export function newTotpSecret(): string {
  return new Secret({ buffer: randomBytes(20).buffer }).base32;
}

function totpFor(secret: Secret, params: TotpParameters): TOTP {
  return new TOTP({
    secret,
    algorithm: params.algorithm,
    digits: params.digits,
    period: params.periodSeconds,
  });
}

/** The `otpauth://totp/…` URI authenticator apps scan (Key Uri Format). */
export function totpUri(input: { secretBase32: string; issuer: string; account: string }): string {
  return new TOTP({
    algorithm: STANDARD_TOTP.algorithm,
    digits: STANDARD_TOTP.digits,
    period: STANDARD_TOTP.periodSeconds,
    issuer: input.issuer,
    label: input.account,
    secret: Secret.fromBase32(input.secretBase32),
  }).toString();
}

/** The code for time `atMs` (tests and vectors). */
export function totpCode(secret: Secret, atMs: number, params: TotpParameters = STANDARD_TOTP): string {
  return totpFor(secret, params).generate({ timestamp: atMs });
}

export function secretFromBase32(base32: string): Secret {
  return Secret.fromBase32(base32);
}

/**
 * The time step (RFC 6238 T) whose code matches, within ±1 step of `nowMs`, or null. The
 * caller must still record the step atomically so the code cannot be used twice.
 */
export function matchTotp(
  secret: Secret,
  code: string,
  nowMs: number,
  params: TotpParameters = STANDARD_TOTP,
): number | null {
  const digits = code.replace(/\s+/g, '');
  if (!new RegExp(`^\\d{${params.digits}}$`).test(digits)) return null;
  // otpauth compares in constant time (its own timingSafeEqual).
  const delta = totpFor(secret, params).validate({ token: digits, timestamp: nowMs, window: WINDOW });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / params.periodSeconds) + delta;
}
