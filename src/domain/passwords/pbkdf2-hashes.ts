import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/**
 * PBKDF2 hashes (RFC 8018) imported from another system, Keycloak's older default among them,
 * kept in a PHC-style string until the user's first sign-in replaces them by argon2id:
 *
 *   $pbkdf2-sha256$i=27500$<salt>$<derived key>      (salt and key: base64, padding optional)
 *
 * The key length is the stored key's. Gatehouse never makes one of these.
 */
const PBKDF2 = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Ceilings on what one check may cost (legacy-hashes.ts IMPORT_LIMITS says why). */
const MAX_ITERATIONS = 1_000_000;
/** Each block of the derived key costs the iterations again. */
const MAX_KEY_BYTES = 128;

interface Pbkdf2Hash {
  digest: 'sha1' | 'sha256' | 'sha512';
  iterations: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Pbkdf2Hash | null {
  const match = PBKDF2.exec(stored);
  if (!match) return null;
  const [, digest, iterations, salt, key] = match;
  const parsed = {
    digest: digest as Pbkdf2Hash['digest'],
    iterations: Number(iterations),
    salt: Buffer.from(salt!, 'base64'),
    key: Buffer.from(key!, 'base64'),
  };
  // Fewer than 1,000 iterations or a key under 16 bytes is not a password hash worth keeping.
  const sound =
    parsed.iterations >= 1000 &&
    parsed.iterations <= MAX_ITERATIONS &&
    parsed.key.length >= 16 &&
    parsed.key.length <= MAX_KEY_BYTES &&
    parsed.salt.length > 0;
  return sound ? parsed : null;
}

export function isPbkdf2Hash(stored: string): boolean {
  return stored.startsWith('$pbkdf2-');
}

export function pbkdf2HashProblem(stored: string): string | null {
  return parse(stored)
    ? null
    : `is not a PBKDF2 hash this import reads ($pbkdf2-sha256$i=ITERATIONS$SALT$KEY, base64; 1,000 to ${MAX_ITERATIONS.toLocaleString('en')} iterations; a key of 16 to ${MAX_KEY_BYTES} bytes)`;
}

/**
 * Derives and compares in constant time, synchronously: it runs on the hashing threads
 * (argon2-thread.ts), below the event loop's priority, like every other password check.
 */
export function verifyPbkdf2Sync(stored: string, password: string): boolean {
  const hash = parse(stored);
  if (!hash) return false;
  const derived = pbkdf2Sync(password, hash.salt, hash.iterations, hash.key.length, hash.digest);
  return timingSafeEqual(derived, hash.key);
}

export function pbkdf2Hash(
  digest: Pbkdf2Hash['digest'],
  iterations: number,
  salt: Buffer,
  key: Buffer,
): string {
  return `$pbkdf2-${digest}$i=${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}
