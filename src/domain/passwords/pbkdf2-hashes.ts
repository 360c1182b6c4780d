import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * PBKDF2 hashes (RFC 8018) imported from another system, Keycloak's older default among them,
 * kept in a PHC-style string until the user's first sign-in replaces them by argon2id:
 *
 *   $pbkdf2-sha256$i=27500$<salt>$<derived key>      (salt and key: base64, padding optional)
 *
 * The key length is the stored key's. Gatehouse never makes one of these.
 */
const PBKDF2 = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

const derive = promisify(pbkdf2);

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
  return parsed.iterations >= 1000 && parsed.key.length >= 16 && parsed.salt.length > 0 ? parsed : null;
}

export function isPbkdf2Hash(stored: string): boolean {
  return stored.startsWith('$pbkdf2-');
}

export function pbkdf2HashProblem(stored: string): string | null {
  return parse(stored)
    ? null
    : 'is not a valid PBKDF2 hash ($pbkdf2-sha256$i=ITERATIONS$SALT$KEY, base64, ≥1000 iterations)';
}

/** Derives on libuv's thread pool (never the event loop) and compares in constant time. */
export async function verifyPbkdf2(stored: string, password: string): Promise<boolean> {
  const hash = parse(stored);
  if (!hash) return false;
  const derived = await derive(password, hash.salt, hash.iterations, hash.key.length, hash.digest);
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
