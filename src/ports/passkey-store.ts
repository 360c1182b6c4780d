export interface PasskeyRecord {
  id: string;
  userId: string;
  /** base64url credential id, as the authenticator reports it. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  aaguid: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyStore {
  create(passkey: PasskeyRecord): Promise<void>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined>;
  listByUser(userId: string): Promise<PasskeyRecord[]>;
  countByUser(userId: string): Promise<number>;
  /**
   * Stores the new counter only if it moved forward (or both are 0), in one statement, so two
   * concurrent assertions with the same counter cannot both pass. False means regression.
   */
  advanceCounter(id: string, counter: number, usedAt: number, backedUp: boolean): Promise<boolean>;
  rename(id: string, userId: string, name: string): Promise<PasskeyRecord | undefined>;
  /** Deletes one of the user's passkeys; false if it was not theirs. */
  delete(id: string, userId: string): Promise<boolean>;
}

export type ChallengePurpose = 'registration' | 'authentication';

export interface ChallengeRecord {
  challenge: string;
  purpose: ChallengePurpose;
  /** Set for registration: the user the passkey will belong to. */
  userId: string | null;
  expiresAt: number;
}

export interface ChallengeStore {
  put(challenge: ChallengeRecord): Promise<void>;
  /** Atomically removes and returns an unexpired challenge: exactly one caller wins. */
  consume(challenge: string, purpose: ChallengePurpose, now: number): Promise<ChallengeRecord | undefined>;
  deleteExpired(now: number): Promise<number>;
}
