import { parseOptions } from '@node-rs/argon2';
import { isPbkdf2Hash, pbkdf2HashProblem } from './pbkdf2-hashes.ts';

/**
 * Password hashes imported from another system (`gatehouse users import`): bcrypt, which
 * Auth0 and many others export, PBKDF2 (pbkdf2-hashes.ts), Keycloak's older default, and
 * argon2 with other parameters. Gatehouse never makes a bcrypt or PBKDF2 hash; each imported
 * hash is replaced by argon2id at the user's first successful sign-in (PasswordService rehashes
 * whatever is not today's argon2id).
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
export function bcryptCanRead(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
}

/**
 * The most an imported hash may cost to check. An imported hash is checked whenever anyone tries
 * its address, so its cost is the attacker's lever: without a ceiling, one hash of cost 31 (a day
 * of bcrypt) or 1 GiB of argon2 memory would hold a hashing thread, or the process, per attempt.
 * The ceilings sit well above what Auth0 (bcrypt 10), Keycloak (argon2 m=7168 t=5; PBKDF2
 * 27,500 to 210,000) and OWASP's recommendations use.
 */
export const IMPORT_LIMITS = {
  bcryptCost: 13,
  argon2MemoryKiB: 65_536,
  argon2Iterations: 10,
  argon2Parallelism: 4,
} as const;

/** Why a hash cannot be imported, or null: argon2 (PHC string), bcrypt or PBKDF2, within IMPORT_LIMITS. */
export function importableHashProblem(stored: string): string | null {
  if (isBcryptHash(stored)) {
    const cost = Number(stored.slice(4, 6));
    return cost <= IMPORT_LIMITS.bcryptCost
      ? null
      : `costs ${cost}; at most ${IMPORT_LIMITS.bcryptCost} is imported`;
  }
  if (isPbkdf2Hash(stored)) return pbkdf2HashProblem(stored);
  if (stored.startsWith('$argon2')) {
    let options: ReturnType<typeof parseOptions>;
    try {
      options = parseOptions(stored);
    } catch {
      return 'is not a valid argon2 hash (PHC string format)';
    }
    const { argon2MemoryKiB, argon2Iterations, argon2Parallelism } = IMPORT_LIMITS;
    if (
      options.memoryCost > argon2MemoryKiB ||
      options.timeCost > argon2Iterations ||
      options.parallelism > argon2Parallelism
    )
      return `costs m=${options.memoryCost},t=${options.timeCost},p=${options.parallelism}; at most m=${argon2MemoryKiB},t=${argon2Iterations},p=${argon2Parallelism} is imported`;
    return null;
  }
  return 'must be an argon2 (PHC string), bcrypt ($2a$, $2b$, $2y$) or PBKDF2 ($pbkdf2-sha256$…) hash';
}
