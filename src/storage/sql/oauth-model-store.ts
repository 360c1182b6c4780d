import type { Kysely, Selectable } from 'kysely';
import {
  CONSUMED_CODE_RETENTION_MS,
  type OAuthModelRecord,
  type OAuthModelStore,
  RETAINED_WHEN_CONSUMED,
} from '../../ports/oauth-store.ts';
import { compileOnce } from './compiled-query.ts';
import type { Database, OAuthModelsTable } from './database.ts';

function toRecord(row: Selectable<OAuthModelsTable>): OAuthModelRecord {
  return {
    model: row.model,
    id: row.id,
    payload: row.payload,
    grantId: row.grant_id,
    uid: row.uid,
    userCode: row.user_code,
    accountId: row.account_id,
    clientId: row.client_id,
    consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

/** The provider's models, one table keyed by (model, id); see src/domain/oauth-provider/sql-adapter.ts. */
export class SqlOAuthModelStore implements OAuthModelStore {
  readonly #db: Kysely<Database>;
  // Every token request runs these (a refresh: three finds, two upserts, a consume), so they are
  // compiled once (compiled-query.ts) instead of built by Kysely on each call.
  readonly #upsert;
  readonly #find;
  readonly #consume;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#upsert = compileOnce(db, (slot) => {
      const values = {
        payload: slot<string>('payload'),
        grant_id: slot<string | null>('grantId'),
        uid: slot<string | null>('uid'),
        user_code: slot<string | null>('userCode'),
        account_id: slot<string | null>('accountId'),
        client_id: slot<string | null>('clientId'),
        expires_at: slot<number | null>('expiresAt'),
      };
      // A re-save (a session touched again) never clears consumed_at: once used stays used.
      return db
        .insertInto('oauth_models')
        .values({
          model: slot<string>('model'),
          id: slot<string>('id'),
          consumed_at: slot<number | null>('consumedAt'),
          ...values,
        })
        .onConflict((conflict) => conflict.columns(['model', 'id']).doUpdateSet(values));
    });
    this.#find = compileOnce(db, (slot) =>
      db
        .selectFrom('oauth_models')
        .selectAll()
        .where('model', '=', slot<string>('model'))
        .where('id', '=', slot<string>('id')),
    );
    // One UPDATE … WHERE consumed_at IS NULL RETURNING: exactly one concurrent caller gets the row.
    this.#consume = compileOnce(db, (slot) =>
      db
        .updateTable('oauth_models')
        .set({ consumed_at: slot<number>('now') })
        .where('model', '=', slot<string>('model'))
        .where('id', '=', slot<string>('id'))
        .where('consumed_at', 'is', null)
        .returning('id'),
    );
  }

  async upsert(record: OAuthModelRecord): Promise<void> {
    await this.#upsert(record);
  }

  async find(model: string, id: string): Promise<OAuthModelRecord | undefined> {
    const [row] = (await this.#find({ model, id })).rows;
    return row && toRecord(row);
  }

  async findByUid(model: string, uid: string): Promise<OAuthModelRecord | undefined> {
    const row = await this.#db
      .selectFrom('oauth_models')
      .selectAll()
      .where('model', '=', model)
      .where('uid', '=', uid)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async findByUserCode(model: string, userCode: string): Promise<OAuthModelRecord | undefined> {
    const row = await this.#db
      .selectFrom('oauth_models')
      .selectAll()
      .where('model', '=', model)
      .where('user_code', '=', userCode)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async consume(model: string, id: string, now: number): Promise<boolean> {
    return (await this.#consume({ model, id, now })).rows.length > 0;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#db.deleteFrom('oauth_models').where('model', '=', model).where('id', '=', id).execute();
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.#db
      .deleteFrom('oauth_models')
      .where('model', '=', model)
      .where('grant_id', '=', grantId)
      .execute();
  }

  async revokeGrant(grantId: string): Promise<void> {
    await this.#db
      .deleteFrom('oauth_models')
      .where((eb) =>
        eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
      )
      .execute();
  }

  async listByAccount(model: string, accountId: string, now: number): Promise<OAuthModelRecord[]> {
    const rows = await this.#db
      .selectFrom('oauth_models')
      .selectAll()
      .where('model', '=', model)
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    return rows.map(toRecord);
  }

  async deleteByClient(clientId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('oauth_models')
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteByAccount(accountId: string): Promise<number> {
    // Records under the account's grants go too, whether or not they carry the account id
    // themselves. The grant ids are read first so the DELETE never reads the table it empties.
    const grants = await this.#db
      .selectFrom('oauth_models')
      .select('id')
      .where('model', '=', 'Grant')
      .where('account_id', '=', accountId)
      .execute();
    const grantIds = grants.map((grant) => grant.id);
    const result = await this.#db
      .deleteFrom('oauth_models')
      .where('model', '!=', 'Session')
      .where((eb) =>
        grantIds.length > 0
          ? eb.or([eb('account_id', '=', accountId), eb('grant_id', 'in', grantIds)])
          : eb('account_id', '=', accountId),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteExpired(now: number): Promise<number> {
    // A consumed code stays until the retention after its expiry, so that a replay is still
    // recognised and revokes its grant (RFC 6749 §4.1.2; CONSUMED_CODE_RETENTION_MS).
    const result = await this.#db
      .deleteFrom('oauth_models')
      .where('expires_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('model', '!=', RETAINED_WHEN_CONSUMED),
          eb('consumed_at', 'is', null),
          eb('expires_at', '<=', now - CONSUMED_CODE_RETENTION_MS),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
