import type { Kysely } from 'kysely';
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyStore } from '../../ports/oauth-store.ts';
import type { Database } from './database.ts';

export class SqlSigningKeyStore implements SigningKeyStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('oauth_signing_keys')
      .selectAll()
      .orderBy('signs_from', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg as SigningAlgorithm,
      sealedJwk: row.sealed_jwk,
      createdAt: Number(row.created_at),
      signsFrom: Number(row.signs_from),
      retiresAt: row.retires_at === null ? null : Number(row.retires_at),
    }));
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.#db
      .insertInto('oauth_signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        sealed_jwk: key.sealedJwk,
        created_at: key.createdAt,
        signs_from: key.signsFrom,
        retires_at: key.retiresAt,
      })
      .execute();
  }

  async setRetiresAt(kid: string, retiresAt: number): Promise<void> {
    await this.#db
      .updateTable('oauth_signing_keys')
      .set({ retires_at: retiresAt })
      .where('kid', '=', kid)
      .execute();
  }

  async deleteRetiredBefore(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('oauth_signing_keys')
      .where('retires_at', 'is not', null)
      .where('retires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
