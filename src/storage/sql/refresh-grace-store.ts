import type { Kysely } from 'kysely';
import type { RefreshGraceRecord, RefreshGraceStore } from '../../ports/oauth-store.ts';
import type { Database } from './database.ts';

export class SqlRefreshGraceStore implements RefreshGraceStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async claim(tokenHash: string, clientId: string, expiresAt: number): Promise<boolean> {
    // INSERT … ON CONFLICT DO NOTHING RETURNING: one row back for exactly one concurrent caller.
    const row = await this.#db
      .insertInto('oauth_refresh_grace')
      .values({ token_hash: tokenHash, client_id: clientId, sealed_response: null, expires_at: expiresAt })
      .onConflict((conflict) => conflict.column('token_hash').doNothing())
      .returning('token_hash')
      .executeTakeFirst();
    return row !== undefined;
  }

  async find(tokenHash: string): Promise<RefreshGraceRecord | undefined> {
    const row = await this.#db
      .selectFrom('oauth_refresh_grace')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return (
      row && {
        tokenHash: row.token_hash,
        clientId: row.client_id,
        sealedResponse: row.sealed_response,
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async complete(tokenHash: string, sealedResponse: string): Promise<void> {
    await this.#db
      .updateTable('oauth_refresh_grace')
      .set({ sealed_response: sealedResponse })
      .where('token_hash', '=', tokenHash)
      .execute();
  }

  async release(tokenHash: string): Promise<void> {
    await this.#db.deleteFrom('oauth_refresh_grace').where('token_hash', '=', tokenHash).execute();
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('oauth_refresh_grace')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
