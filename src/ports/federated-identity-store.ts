/**
 * An account at an upstream provider ("Sign in with Google") linked to a Gatehouse user. The
 * identity is keyed by (issuer, subject), never by email: an address can change hands or be
 * unverified at the provider, the pair cannot (OIDC Core §5.7).
 */
export interface FederatedIdentityRecord {
  id: string;
  userId: string;
  /** The configured provider (`federation.providers[].id`) it was linked through. */
  providerId: string;
  issuer: string;
  subject: string;
  /** The provider's email claim at the last sign-in; shown to the user, never used as a key. */
  email: string | null;
  emailVerified: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface FederatedIdentityStore {
  /** Inserts; if (issuer, subject) is already linked, returns that row instead (created: false). */
  createOrGet(
    identity: FederatedIdentityRecord,
  ): Promise<{ identity: FederatedIdentityRecord; created: boolean }>;
  findBySubject(issuer: string, subject: string): Promise<FederatedIdentityRecord | undefined>;
  /** Oldest first. */
  listByUser(userId: string): Promise<FederatedIdentityRecord[]>;
  countByUser(userId: string): Promise<number>;
  /** A sign-in with the identity: when, and what the provider now says the address is. */
  recordUse(id: string, at: number, email: string | null, emailVerified: boolean): Promise<void>;
  /** Deletes one of the user's identities; false if it was not theirs. */
  delete(id: string, userId: string): Promise<boolean>;
}

/**
 * Makes the federation flow cookie and the pending-link cookie single-use: both are
 * self-contained sealed tokens, so without this a copied cookie could be replayed until it
 * expires.
 */
export interface FlowReplayStore {
  /** True for the first caller with this id, false for every later one; atomic under concurrency. */
  claim(id: string, expiresAt: number): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}
