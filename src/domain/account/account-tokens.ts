import type {
  AccountTokenPurpose,
  AccountTokenRecord,
  AccountTokenStore,
} from '../../ports/account-token-store.ts';
import type { Clock } from '../../ports/clock.ts';
import { randomId, randomToken, sha256 } from '../crypto/secrets.ts';

/**
 * Mailed single-use tokens for account changes: 256 random bits, only the SHA-256 stored, looked
 * up by hash (no timing oracle on the token) and consumed in one atomic statement.
 */
export class AccountTokens {
  readonly #store: AccountTokenStore;
  readonly #clock: Clock;

  constructor(store: AccountTokenStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Issues a token, killing the earlier ones of the same purpose and owner (only the newest link
   * works), unless `keepEarlier`: revert links go to different old addresses, and a later
   * change must not be able to cancel the link that undoes an earlier one. Returns it (once).
   */
  async issue(input: {
    purpose: AccountTokenPurpose;
    userId: string | null;
    email: string;
    data?: Record<string, string>;
    ttlMs: number;
    keepEarlier?: boolean;
  }): Promise<string> {
    const now = this.#clock.now();
    if (!input.keepEarlier) {
      await this.#store.invalidate(
        input.userId === null
          ? { purpose: input.purpose, email: input.email }
          : { purpose: input.purpose, userId: input.userId },
        now,
      );
    }
    const token = randomToken();
    await this.#store.create({
      id: randomId(),
      purpose: input.purpose,
      userId: input.userId,
      email: input.email,
      tokenHash: sha256(token),
      data: input.data ?? {},
      expiresAt: now + input.ttlMs,
      usedAt: null,
      createdAt: now,
    });
    return token;
  }

  /** The live token, unspent: to check the rest of a request before using it up. */
  async peek(token: string, purpose: AccountTokenPurpose): Promise<AccountTokenRecord | undefined> {
    if (!isTokenShape(token)) return undefined;
    return this.#store.find(sha256(token), purpose, this.#clock.now());
  }

  async consume(token: string, purpose: AccountTokenPurpose): Promise<AccountTokenRecord | undefined> {
    if (!isTokenShape(token)) return undefined;
    return this.#store.consume(sha256(token), purpose, this.#clock.now());
  }

  async invalidateForUser(userId: string, purpose: AccountTokenPurpose): Promise<void> {
    await this.#store.invalidate({ purpose, userId }, this.#clock.now());
  }
}

/** randomToken(): 32 bytes, base64url, 43 characters. Anything else cannot match. */
function isTokenShape(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
