import type { Clock } from '../../ports/clock.ts';
import type { PasskeyStore } from '../../ports/passkey-store.ts';
import type { UserRecord, UserStore } from '../../ports/user-store.ts';
import { randomId } from '../crypto/secrets.ts';

export class UserService {
  readonly #users: UserStore;
  readonly #passkeys: PasskeyStore;
  readonly #clock: Clock;

  constructor(users: UserStore, passkeys: PasskeyStore, clock: Clock) {
    this.#users = users;
    this.#passkeys = passkeys;
    this.#clock = clock;
  }

  findById(id: string): Promise<UserRecord | undefined> {
    return this.#users.findById(id);
  }

  findByEmail(normalizedEmail: string): Promise<UserRecord | undefined> {
    return this.#users.findByEmail(normalizedEmail);
  }

  /** First sign-in with a proven address: find or create, and mark the address verified. */
  async signInByVerifiedEmail(normalizedEmail: string): Promise<{ user: UserRecord; created: boolean }> {
    const now = this.#clock.now();
    const result = await this.#users.createOrGet({
      id: randomId(),
      email: normalizedEmail,
      emailVerifiedAt: now,
      displayName: null,
      createdAt: now,
      updatedAt: now,
    });
    if (result.user.emailVerifiedAt === null) {
      await this.#users.markEmailVerified(result.user.id, now);
      result.user.emailVerifiedAt = now;
    }
    return result;
  }

  updateProfile(id: string, displayName: string | null): Promise<UserRecord | undefined> {
    return this.#users.updateProfile(id, { displayName }, this.#clock.now());
  }

  /**
   * How many independent ways the user has to sign in. A verified address counts as one
   * (continue with email); each passkey counts as one. Removing the last one would lock the
   * owner out, so it is refused.
   */
  async signInMethodCount(user: UserRecord): Promise<number> {
    const passkeys = await this.#passkeys.countByUser(user.id);
    return passkeys + (user.emailVerifiedAt !== null ? 1 : 0);
  }
}
