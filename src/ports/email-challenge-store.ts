export interface EmailChallengeRecord {
  id: string;
  email: string;
  /** SHA-256 of the link token. */
  linkHash: string;
  /** SHA-256 of the browser-binding secret kept in the requesting browser's cookie. */
  flowHash: string;
  /** SHA-256 of flow secret + code: useless without the browser's cookie. */
  codeHash: string;
  attempts: number;
  redirectTo: string | null;
  expiresAt: number;
  usedAt: number | null;
  createdAt: number;
}

export interface EmailChallengeStore {
  create(challenge: EmailChallengeRecord): Promise<void>;
  /** Atomically marks the unexpired, unused challenge with this link hash used; one caller wins. */
  consumeByLink(linkHash: string, now: number): Promise<EmailChallengeRecord | undefined>;
  /** Same, for a code: flow, code and address must all match and attempts be left. */
  consumeByCode(
    input: { flowHash: string; codeHash: string; email: string; maxAttempts: number },
    now: number,
  ): Promise<EmailChallengeRecord | undefined>;
  /** Counts a wrong code against the live challenges of this flow. */
  recordFailedAttempt(flowHash: string, now: number): Promise<void>;
  /** Kills every outstanding challenge for the address (after one is used). */
  invalidateForEmail(email: string, now: number): Promise<number>;
  deleteExpired(before: number): Promise<number>;
}
