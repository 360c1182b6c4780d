import { availableParallelism } from 'node:os';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { randomToken } from '../crypto/secrets.ts';
import { lowerHashingThreadPriority } from './hash-thread-priority.ts';

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
 * argon2id (RFC 9106) through @node-rs/argon2, whose hash and verify run on libuv's thread
 * pool: a hash never blocks the event loop, so session checks keep flowing during a sign-in
 * storm. Passwords are hashed exactly as typed: no trimming, truncation, case folding or
 * Unicode normalisation, so what the person chose is what protects them.
 */
export class PasswordHasher {
  readonly #params: Argon2Parameters;
  /** How a hash made today begins (PHC string format): checked on every sign-in. */
  readonly #currentPrefix: string;
  #dummy: Promise<string> | undefined;
  /**
   * At most one hash per core at a time: more only makes them fight over the cores and the
   * memory bus (19 MiB each), and leaves no pool thread free for file and DNS work. Once
   * measured on 2 cores: 187 sign-ins/s with 2 pool threads against 156/s with the default 4.
   */
  readonly #slots = Math.max(1, availableParallelism());
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(params: Argon2Parameters) {
    this.#params = params;
    this.#currentPrefix = `$argon2id$v=19$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$`;
  }

  hash(password: string): Promise<string> {
    return this.#limited(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.#params.memoryKiB,
        timeCost: this.#params.iterations,
        parallelism: this.#params.parallelism,
      }),
    );
  }

  /** False for a wrong password and for a stored value that is not a valid argon2 hash. */
  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await this.#limited(() => verify(stored, password));
    } catch {
      return false;
    }
  }

  async #limited<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#slots) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await job();
    } finally {
      // The slot passes straight to the next waiter, or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
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
   * Computes the stand-in hash ahead of the first sign-in (so that one is not slower), which
   * also starts libuv's thread pool; then lowers the pool threads' priority below the event
   * loop's. Returns how many threads were lowered.
   */
  async warmUp(): Promise<number> {
    this.#dummy ??= this.hash(randomToken());
    await this.#dummy;
    return lowerHashingThreadPriority();
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
