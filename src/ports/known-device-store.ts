/**
 * Browsers an account has signed in from, by the SHA-256 of a long-lived random device cookie
 * (never the cookie itself). "A device the account has not used before" is the trigger for a
 * sign-in notification and what keeps an account-wide stuffing delay off its owner.
 */
export interface KnownDeviceStore {
  /** Remembers (userId, deviceHash); true if it was not known before. Seen again: updates lastSeenAt. */
  remember(userId: string, deviceHash: string, at: number): Promise<boolean>;
  isKnown(userId: string, deviceHash: string): Promise<boolean>;
  /** Whether the account has signed in from a remembered device other than this one. */
  hasOther(userId: string, deviceHash: string): Promise<boolean>;
  /** Forgets devices not seen since `before` (their cookie has expired in the browser too). */
  deleteUnseenSince(before: number): Promise<number>;
}
