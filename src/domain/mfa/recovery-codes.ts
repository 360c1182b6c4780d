import { randomBytes } from 'node:crypto';
import { Secret } from 'otpauth';
import { sha256 } from '../crypto/secrets.ts';

/**
 * Recovery codes: 10 per set, shown once. Each is 120 random bits (24 base32 characters), so
 * SHA-256 is a sufficient hash at rest (DESIGN §3: argon2id only below 112 bits) and a code can
 * be found by its hash in one atomic statement.
 */
export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 15;
const CODE_FORMAT = /^[a-z2-7]{24}$/;

/** "abcd-efgh-ijkl-mnop-qrst-uvwx": groups of four are easier to copy by hand. */
export function newRecoveryCode(): string {
  const base32 = new Secret({ buffer: randomBytes(CODE_BYTES).buffer }).base32.toLowerCase();
  return base32.match(/.{4}/g)?.join('-') ?? base32;
}

/** What was typed, minus case, spaces and dashes; null when it cannot be a code. */
export function normalizeRecoveryCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]+/g, '');
  return CODE_FORMAT.test(compact) ? compact : null;
}

export function recoveryCodeHash(normalized: string): string {
  return sha256(`recovery-code:${normalized}`);
}
