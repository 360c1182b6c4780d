/** Password, TOTP and recovery-code credentials (issue #3). Each store keys by user id. */

export interface PasswordStore {
  /** The stored PHC string, or undefined when the user has no password. */
  find(userId: string): Promise<string | undefined>;
  /** Sets (or replaces) the user's password hash. */
  set(userId: string, hash: string, at: number): Promise<void>;
  /**
   * Replaces the hash only while it is still `expected`, in one statement: a rehash on sign-in
   * racing a password change must not write the old password back.
   */
  replaceIf(userId: string, expected: string, next: string, at: number): Promise<boolean>;
  delete(userId: string): Promise<boolean>;
}

export interface TotpRecord {
  userId: string;
  /** AES-256-GCM sealed base32 secret; never stored in the clear. */
  secretSealed: string;
  /** Null while enrolment waits for the first correct code. */
  confirmedAt: number | null;
  /** The last RFC 6238 time step accepted; a code at or before it is refused. */
  lastUsedStep: number | null;
  createdAt: number;
}

export interface TotpStore {
  find(userId: string): Promise<TotpRecord | undefined>;
  /**
   * Stores a new unconfirmed secret, replacing an earlier unconfirmed one; refuses (false) when
   * a confirmed secret exists, so a new enrolment never silently replaces a working one.
   */
  putPending(record: TotpRecord): Promise<boolean>;
  /** Confirms the pending secret, recording the step of the code that proved it. */
  confirm(userId: string, step: number, at: number): Promise<boolean>;
  /**
   * Accepts time step `step` only if it is later than the last accepted one, in one statement:
   * each code works once, even when two requests race with it.
   */
  useStep(userId: string, step: number): Promise<boolean>;
  delete(userId: string): Promise<boolean>;
}

export interface RecoveryCodeStore {
  /** Stores a new set and drops every older code of the user (used or not). */
  replaceAll(userId: string, codes: Array<{ id: string; codeHash: string }>, at: number): Promise<void>;
  /** Marks the unused code with this hash used, atomically: exactly one caller wins. */
  consume(userId: string, codeHash: string, at: number): Promise<boolean>;
  countUnused(userId: string): Promise<number>;
  deleteAll(userId: string): Promise<number>;
}
