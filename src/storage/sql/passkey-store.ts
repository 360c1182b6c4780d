import type { Kysely, Selectable } from 'kysely';
import type {
  ChallengePurpose,
  ChallengeRecord,
  ChallengeStore,
  PasskeyRecord,
  PasskeyStore,
} from '../../ports/passkey-store.ts';
import type { Database, PasskeysTable } from './database.ts';

function toPasskey(row: Selectable<PasskeysTable>): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: row.counter,
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: row.backed_up === 1,
    aaguid: row.aaguid,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export class SqlPasskeyStore implements PasskeyStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(passkey: PasskeyRecord): Promise<void> {
    await this.#db
      .insertInto('passkeys')
      .values({
        id: passkey.id,
        user_id: passkey.userId,
        credential_id: passkey.credentialId,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: JSON.stringify(passkey.transports),
        device_type: passkey.deviceType,
        backed_up: passkey.backedUp ? 1 : 0,
        aaguid: passkey.aaguid,
        name: passkey.name,
        created_at: passkey.createdAt,
        last_used_at: passkey.lastUsedAt,
      })
      .execute();
  }

  async findByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row && toPasskey(row);
  }

  async listByUser(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'asc')
      .execute();
    return rows.map(toPasskey);
  }

  async countByUser(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async advanceCounter(id: string, counter: number, usedAt: number, backedUp: boolean): Promise<boolean> {
    // Authenticators that do not count report 0 every time (WebAuthn §6.1.1); any that do
    // must move forward. The comparison sits in the WHERE so a replay racing us cannot pass.
    const result = await this.#db
      .updateTable('passkeys')
      .set({ counter, last_used_at: usedAt, backed_up: backedUp ? 1 : 0 })
      .where('id', '=', id)
      .where('counter', counter === 0 ? '=' : '<', counter)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async rename(id: string, userId: string, name: string): Promise<PasskeyRecord | undefined> {
    const row = await this.#db
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    return row && toPasskey(row);
  }

  async delete(id: string, userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('passkeys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

export class SqlChallengeStore implements ChallengeStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async put(challenge: ChallengeRecord): Promise<void> {
    await this.#db
      .insertInto('webauthn_challenges')
      .values({
        challenge: challenge.challenge,
        purpose: challenge.purpose,
        user_id: challenge.userId,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async consume(
    challenge: string,
    purpose: ChallengePurpose,
    now: number,
  ): Promise<ChallengeRecord | undefined> {
    // DELETE … RETURNING: the row exists for exactly one caller, whatever the concurrency.
    const row = await this.#db
      .deleteFrom('webauthn_challenges')
      .where('challenge', '=', challenge)
      .where('purpose', '=', purpose)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      challenge: row.challenge,
      purpose: row.purpose as ChallengePurpose,
      userId: row.user_id,
      expiresAt: row.expires_at,
    };
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('webauthn_challenges')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
