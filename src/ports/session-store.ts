import type { UserRecord } from './user-store.ts';

export interface SessionRecord {
  /** Public id (for listing and revocation); never the token. */
  id: string;
  /** SHA-256 of the cookie token, base64url. The token itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Rolling expiry. */
  expiresAt: number;
  absoluteExpiresAt: number;
  authTime: number;
  /** Authentication methods references (RFC 8176), e.g. ["hwk", "user"] for a passkey. */
  amr: string[];
  ip: string | null;
  userAgent: string | null;
  /**
   * First factor done, second pending (issue #3): such a session authorizes nothing but
   * completing the second factor. src/http/auth.ts enforces it for every route.
   */
  mfaPending: boolean;
}

export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

export interface SessionStore {
  create(session: SessionRecord): Promise<void>;
  /** The hot path: one indexed lookup joined with the user. */
  findByTokenHash(tokenHash: string): Promise<SessionWithUser | undefined>;
  /** Records activity; extends the rolling expiry when `expiresAt` is given. */
  touch(id: string, lastSeenAt: number, expiresAt?: number): Promise<void>;
  listByUser(userId: string): Promise<SessionRecord[]>;
  /** Deletes one of the user's sessions; false if it was not theirs or already gone. */
  deleteForUser(id: string, userId: string): Promise<boolean>;
  /** Deletes every session of the user except `keepId`; returns how many. */
  deleteOthers(userId: string, keepId: string): Promise<number>;
  deleteAllForUser(userId: string): Promise<number>;
  deleteById(id: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
  /** Counts one failed second factor or re-authentication on the session; returns the new count. */
  recordAuthFailure(id: string): Promise<number>;
}
