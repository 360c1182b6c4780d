/**
 * Single-use tokens mailed for account changes: confirming a password sign-up, resetting a
 * password, confirming a new address and reverting a change of address. Only the SHA-256 of
 * the token is stored (256-bit tokens: a hash is enough, DESIGN §3).
 */
export type AccountTokenPurpose = 'password_sign_up' | 'password_reset' | 'email_change' | 'email_revert';

export interface AccountTokenRecord {
  id: string;
  purpose: AccountTokenPurpose;
  /** Null for a sign-up: the account does not exist until the address is proven. */
  userId: string | null;
  /** The address the token was mailed to. */
  email: string;
  tokenHash: string;
  /** Purpose-specific fields (a pending password hash, the address to revert to). */
  data: Record<string, string>;
  expiresAt: number;
  usedAt: number | null;
  createdAt: number;
}

export interface AccountTokenStore {
  create(token: AccountTokenRecord): Promise<void>;
  /** An unused, unexpired token, without using it (to check input before spending it). */
  find(tokenHash: string, purpose: AccountTokenPurpose, now: number): Promise<AccountTokenRecord | undefined>;
  /** Atomically marks the unused, unexpired token used and returns it; one caller wins. */
  consume(
    tokenHash: string,
    purpose: AccountTokenPurpose,
    now: number,
  ): Promise<AccountTokenRecord | undefined>;
  /** Kills every outstanding token of this purpose for the user (or, for sign-ups, the address). */
  invalidate(
    filter: { purpose: AccountTokenPurpose; userId?: string; email?: string },
    now: number,
  ): Promise<number>;
  deleteExpired(before: number): Promise<number>;
}
