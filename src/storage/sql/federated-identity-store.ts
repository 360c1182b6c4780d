import type { Kysely, Selectable } from 'kysely';
import type {
  FederatedIdentityRecord,
  FederatedIdentityStore,
  FlowReplayStore,
} from '../../ports/federated-identity-store.ts';
import type { Database, FederatedIdentitiesTable } from './database.ts';

function toIdentity(row: Selectable<FederatedIdentitiesTable>): FederatedIdentityRecord {
  return {
    id: row.id,
    userId: row.user_id,
    providerId: row.provider_id,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    emailVerified: row.email_verified === 1,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export class SqlFederatedIdentityStore implements FederatedIdentityStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async createOrGet(
    identity: FederatedIdentityRecord,
  ): Promise<{ identity: FederatedIdentityRecord; created: boolean }> {
    // ON CONFLICT DO NOTHING: two callbacks racing for one upstream account link it once.
    const inserted = await this.#db
      .insertInto('federated_identities')
      .values({
        id: identity.id,
        user_id: identity.userId,
        provider_id: identity.providerId,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        email_verified: identity.emailVerified ? 1 : 0,
        created_at: identity.createdAt,
        last_used_at: identity.lastUsedAt,
      })
      .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { identity: toIdentity(inserted), created: true };
    const existing = await this.findBySubject(identity.issuer, identity.subject);
    if (!existing) throw new Error('identity insert conflicted but no row exists');
    return { identity: existing, created: false };
  }

  async findBySubject(issuer: string, subject: string): Promise<FederatedIdentityRecord | undefined> {
    const row = await this.#db
      .selectFrom('federated_identities')
      .selectAll()
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row && toIdentity(row);
  }

  async listByUser(userId: string): Promise<FederatedIdentityRecord[]> {
    const rows = await this.#db
      .selectFrom('federated_identities')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toIdentity);
  }

  async countByUser(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('federated_identities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async recordUse(id: string, at: number, email: string | null, emailVerified: boolean): Promise<void> {
    await this.#db
      .updateTable('federated_identities')
      .set({ last_used_at: at, email, email_verified: emailVerified ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: string, userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('federated_identities')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

export class SqlFlowReplayStore implements FlowReplayStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async claim(id: string, expiresAt: number): Promise<boolean> {
    // The primary key decides: exactly one INSERT of an id succeeds, under any concurrency.
    const inserted = await this.#db
      .insertInto('federation_used_tokens')
      .values({ id, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('federation_used_tokens')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
