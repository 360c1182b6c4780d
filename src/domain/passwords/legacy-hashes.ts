import { parseOptions } from '@node-rs/argon2';
import { isPbkdf2Hash, pbkdf2HashProblem } from './pbkdf2-hashes.ts';

/**
 * Password hashes imported from another system (`gatehouse users import`): bcrypt, which
 * Auth0 and many others export, and PBKDF2 (pbkdf2-hashes.ts), Keycloak's older default. Gatehouse never makes one; each is replaced by argon2id at the
 * user's first successful sign-in (PasswordService rehashes whatever is not today's argon2id).
 */

/** `$2a$`, `$2b$`, `$2y$` with a two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** bcrypt reads at most 72 bytes of a password and silently ignores the rest. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

export function isBcryptHash(stored: string): boolean {
  return BCRYPT.test(stored);
}

/**
 * A password longer than bcrypt can read is refused rather than cut: bcrypt would accept any
 * password sharing its first 72 bytes, and Gatehouse verifies passwords exactly as typed. Its
 * owner resets it (the imported hash could only ever have held its first 72 bytes).
 */
export function bcryptCanCheck(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
}

/** Why a hash cannot be imported, or null: argon2 (PHC string, any parameters), bcrypt or PBKDF2. */
export function importableHashProblem(stored: string): string | null {
  if (isBcryptHash(stored)) return null;
  if (isPbkdf2Hash(stored)) return pbkdf2HashProblem(stored);
  if (stored.startsWith('$argon2')) {
    try {
      parseOptions(stored);
      return null;
    } catch {
      return 'is not a valid argon2 hash (PHC string format)';
    }
  }
  return 'must be an argon2 (PHC string), bcrypt ($2a$, $2b$, $2y$) or PBKDF2 ($pbkdf2-sha256$…) hash';
}
