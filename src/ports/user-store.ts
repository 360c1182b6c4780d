export interface UserRecord {
  id: string;
  email: string;
  emailVerifiedAt: number | null;
  displayName: string | null;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms the account was disabled by an administrator; null while it may sign in. */
  disabledAt: number | null;
}

export interface UserStore {
  findById(id: string): Promise<UserRecord | undefined>;
  findByEmail(normalizedEmail: string): Promise<UserRecord | undefined>;
  /** Inserts; if the email is taken by a concurrent insert, returns the existing row instead. */
  createOrGet(user: UserRecord): Promise<{ user: UserRecord; created: boolean }>;
  /**
   * Inserts the user and, when given, its password hash in one transaction (an import): both
   * or neither. `created: false`, nothing written, when the address already has an account.
   */
  createWithPassword(user: UserRecord, passwordHash: string | null): Promise<{ created: boolean }>;
  markEmailVerified(id: string, at: number): Promise<void>;
  updateProfile(
    id: string,
    changes: { displayName: string | null },
    at: number,
  ): Promise<UserRecord | undefined>;
  /**
   * Moves the account to a proven address (marked verified at `at`). 'taken' when another
   * account holds it, checked by the unique index so a race cannot give two accounts one address.
   */
  changeEmail(id: string, email: string, at: number): Promise<'changed' | 'taken' | 'missing'>;
  /**
   * Disables the account at `at` (epoch ms), or enables it with null; false when there is no
   * such account. Disabling an already disabled account keeps its first time.
   */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  /** Deletes the account; its sessions and credentials go with it (foreign keys cascade). */
  delete(id: string): Promise<boolean>;
}
