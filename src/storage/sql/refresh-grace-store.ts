import type { Kysely } from 'kysely';
import type { RefreshGraceRecord, RefreshGraceStore } from '../../ports/oauth-store.ts';
import { compileOnce } from './compiled-query.ts';
import type { Database } from './database.ts';

export class SqlRefreshGraceStore implements RefreshGraceStore {
  readonly #db: Kysely<Database>;
  // Every refresh claims and completes (compiled once: compiled-query.ts); find is the
  // parallel requests' polling.
  readonly #claim;
  readonly #find;
  readonly #complete;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    // INSERT … ON CONFLICT DO NOTHING RETURNING: one row back for exactly one concurrent caller.
    this.#claim = compileOnce(db, (slot) =>
      db
        .insertInto('oauth_refresh_grace')
        .values({
          token_hash: slot<string>('tokenHash'),
          client_id: slot<string>('clientId'),
          sealed_response: slot<null>('sealedResponse'),
          expires_at: slot<number>('expiresAt'),
        })
        .onConflict((conflict) => conflict.column('token_hash').doNothing())
        .returning('token_hash'),
    );
    this.#find = compileOnce(db, (slot) =>
      db.selectFrom('oauth_refresh_grace').selectAll().where('token_hash', '=', slot<string>('tokenHash')),
    );
    this.#complete = compileOnce(db, (slot) =>
      db
        .updateTable('oauth_refresh_grace')
        .set({ sealed_response: slot<string>('sealedResponse') })
        .where('token_hash', '=', slot<string>('tokenHash')),
    );
  }

  async claim(tokenHash: string, clientId: string, expiresAt: number): Promise<boolean> {
    return (await this.#claim({ tokenHash, clientId, sealedResponse: null, expiresAt })).rows.length > 0;
  }

  async find(tokenHash: string): Promise<RefreshGraceRecord | undefined> {
    const [row] = (await this.#find({ tokenHash })).rows;
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
    await this.#complete({ tokenHash, sealedResponse });
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
