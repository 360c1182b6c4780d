import type { Kysely, Selectable } from 'kysely';
import type { OAuthClientStore, StoredClientRecord } from '../../ports/oauth-store.ts';
import type { Database, OAuthClientsTable } from './database.ts';

function toRecord(row: Selectable<OAuthClientsTable>): StoredClientRecord {
  return {
    clientId: row.client_id,
    definition: row.definition,
    secretHash: row.secret_hash,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class SqlOAuthClientStore implements OAuthClientStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(client: StoredClientRecord): Promise<boolean> {
    const row = await this.#db
      .insertInto('oauth_clients')
      .values({
        client_id: client.clientId,
        definition: client.definition,
        secret_hash: client.secretHash,
        created_at: client.createdAt,
        updated_at: client.updatedAt,
      })
      .onConflict((conflict) => conflict.column('client_id').doNothing())
      .returning('client_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async find(clientId: string): Promise<StoredClientRecord | undefined> {
    const row = await this.#db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<StoredClientRecord[]> {
    const rows = await this.#db.selectFrom('oauth_clients').selectAll().orderBy('client_id').execute();
    return rows.map(toRecord);
  }

  async setSecretHash(clientId: string, secretHash: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('oauth_clients')
      .set({ secret_hash: secretHash, updated_at: at })
      .where('client_id', '=', clientId)
      .where('secret_hash', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async remove(clientId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('oauth_clients')
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
