import { type Algorithm, parseOptions } from '@node-rs/argon2';
import { randomToken } from '../crypto/secrets.ts';
import { hashingThreads } from './hashing-threads.ts';
import { bcryptCanRead, isBcryptHash } from './legacy-hashes.ts';
import { isPbkdf2Hash } from './pbkdf2-hashes.ts';

export interface Argon2Parameters {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/**
 * `Algorithm.Argon2id` of @node-rs/argon2. Its enum is a `const enum`, which type stripping
 * cannot inline, so the value is written out.
 */
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id (RFC 9106) through @node-rs/argon2, on hashing threads of its own below the event
 * loop's priority (hashing-threads.ts): a hash never blocks the event loop, and a sign-in storm
 * never takes the cores from session checks. Passwords are hashed exactly as typed: no trimming, truncation, case folding or
 * Unicode normalisation, so what the person chose is what protects them.
 */
export class PasswordHasher {
  readonly #params: Argon2Parameters;
  /** How a hash made today begins (PHC string format): checked on every sign-in. */
  readonly #currentPrefix: string;
  #dummy: Promise<string> | undefined;

  constructor(params: Argon2Parameters) {
    this.#params = params;
    this.#currentPrefix = `$argon2id$v=19$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$`;
  }

  hash(password: string): Promise<string> {
    return hashingThreads.hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.#params.memoryKiB,
      timeCost: this.#params.iterations,
      parallelism: this.#params.parallelism,
    });
  }

  /**
   * Whether the password matches the stored hash: argon2, or a bcrypt or PBKDF2 hash imported
   * from another system (legacy-hashes.ts). False for a wrong password and for a stored value
   * that is none of these.
   */
  async verify(stored: string, password: string): Promise<boolean> {
    try {
      if (isBcryptHash(stored)) {
        // Checked even when too long for bcrypt, so that answer costs what any other does.
        const matches = await hashingThreads.verifyImported('bcrypt', stored, password);
        return matches && bcryptCanRead(password);
      }
      if (isPbkdf2Hash(stored)) return await hashingThreads.verifyImported('pbkdf2', stored, password);
      return await hashingThreads.verify(stored, password);
    } catch {
      return false;
    }
  }

  /**
   * The same argon2 work as a real verification, for an address with no account or no password:
   * without it, the missing hash would answer measurably faster and tell which addresses
   * have accounts (DESIGN §4, no enumeration by timing).
   */
  async verifyNothing(password: string): Promise<false> {
    this.#dummy ??= this.hash(randomToken());
    await this.verify(await this.#dummy, password);
    return false;
  }

  /**
   * Starts the hashing threads and computes the stand-in hash ahead of the first sign-in (so
   * that one is not slower). Returns how many hashing threads run at lowered priority.
   */
  async warmUp(): Promise<number> {
    this.#dummy ??= this.hash(randomToken());
    await this.#dummy;
    return (await hashingThreads.threadIds()).filter((tid) => tid !== null).length;
  }

  /** Whether a stored hash was made with other parameters (or another algorithm) than today's. */
  needsRehash(stored: string): boolean {
    // The common case without a call into the native module: today's exact parameters. Any
    // other spelling is parsed by the library and compared field by field.
    if (stored.startsWith(this.#currentPrefix)) return false;
    try {
      const parsed = parseOptions(stored);
      return (
        parsed.algorithm !== ARGON2ID ||
        parsed.memoryCost !== this.#params.memoryKiB ||
        parsed.timeCost !== this.#params.iterations ||
        parsed.parallelism !== this.#params.parallelism
      );
    } catch {
      return true;
    }
  }
}
