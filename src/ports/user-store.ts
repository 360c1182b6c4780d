export interface UserRecord {
  id: string;
  email: string;
  emailVerifiedAt: number | null;
  displayName: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserStore {
  findById(id: string): Promise<UserRecord | undefined>;
  findByEmail(normalizedEmail: string): Promise<UserRecord | undefined>;
  /** Inserts; if the email is taken by a concurrent insert, returns the existing row instead. */
  createOrGet(user: UserRecord): Promise<{ user: UserRecord; created: boolean }>;
  markEmailVerified(id: string, at: number): Promise<void>;
  updateProfile(
    id: string,
    changes: { displayName: string | null },
    at: number,
  ): Promise<UserRecord | undefined>;
}
