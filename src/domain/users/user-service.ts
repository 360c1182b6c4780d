import type { Clock } from '../../ports/clock.ts';
import type { FederatedIdentityStore } from '../../ports/federated-identity-store.ts';
import type { PasskeyStore } from '../../ports/passkey-store.ts';
import type { UserRecord, UserStore } from '../../ports/user-store.ts';
import { randomId } from '../crypto/secrets.ts';

export class UserService {
  readonly #users: UserStore;
  readonly #passkeys: PasskeyStore;
  readonly #clock: Clock;
  readonly #identities: Pick<FederatedIdentityStore, 'countByUser'> | undefined;

  constructor(
    users: UserStore,
    passkeys: PasskeyStore,
    clock: Clock,
    /** Linked provider accounts ("Sign in with Google"), each one more way to sign in. */
    identities?: Pick<FederatedIdentityStore, 'countByUser'>,
  ) {
    this.#users = users;
    this.#passkeys = passkeys;
    this.#clock = clock;
    this.#identities = identities;
  }

  findById(id: string): Promise<UserRecord | undefined> {
    return this.#users.findById(id);
  }

  findByEmail(normalizedEmail: string): Promise<UserRecord | undefined> {
    return this.#users.findByEmail(normalizedEmail);
  }

  /**
   * First sign-in with a proven address: find or create, and mark the address verified.
   * `proven` is true when an existing account's address was unverified until now: whatever
   * credentials it holds were set up by someone who never showed they own the address.
   */
  async signInByVerifiedEmail(
    normalizedEmail: string,
  ): Promise<{ user: UserRecord; created: boolean; proven: boolean }> {
    const now = this.#clock.now();
    const result = await this.#users.createOrGet({
      id: randomId(),
      email: normalizedEmail,
      emailVerifiedAt: now,
      displayName: null,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    });
    if (result.user.emailVerifiedAt === null) {
      await this.#users.markEmailVerified(result.user.id, now);
      result.user.emailVerifiedAt = now;
      return { ...result, proven: true };
    }
    return { ...result, proven: false };
  }

  updateProfile(id: string, displayName: string | null): Promise<UserRecord | undefined> {
    return this.#users.updateProfile(id, { displayName }, this.#clock.now());
  }

  changeEmail(id: string, normalizedEmail: string): Promise<'changed' | 'taken' | 'missing'> {
    return this.#users.changeEmail(id, normalizedEmail, this.#clock.now());
  }

  delete(id: string): Promise<boolean> {
    return this.#users.delete(id);
  }

  /**
   * How many independent ways the user has to sign in. A verified address counts as one
   * (continue with email); each passkey counts as one; so does each linked provider account.
   * Removing the last one would lock the owner out, so it is refused.
   */
  async signInMethodCount(user: UserRecord): Promise<number> {
    const passkeys = await this.#passkeys.countByUser(user.id);
    const identities = (await this.#identities?.countByUser(user.id)) ?? 0;
    return passkeys + identities + (user.emailVerifiedAt !== null ? 1 : 0);
  }
}
