import type { Kysely, Selectable } from 'kysely';
import type {
  AccountTokenPurpose,
  AccountTokenRecord,
  AccountTokenStore,
} from '../../ports/account-token-store.ts';
import type { AccountTokensTable, Database } from './database.ts';

function toToken(row: Selectable<AccountTokensTable>): AccountTokenRecord {
  return {
    id: row.id,
    purpose: row.purpose as AccountTokenPurpose,
    userId: row.user_id,
    email: row.email,
    tokenHash: row.token_hash,
    data: JSON.parse(row.data) as Record<string, string>,
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
    createdAt: Number(row.created_at),
  };
}

export class SqlAccountTokenStore implements AccountTokenStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(token: AccountTokenRecord): Promise<void> {
    await this.#db
      .insertInto('account_tokens')
      .values({
        id: token.id,
        purpose: token.purpose,
        user_id: token.userId,
        email: token.email,
        token_hash: token.tokenHash,
        data: JSON.stringify(token.data),
        expires_at: token.expiresAt,
        used_at: token.usedAt,
        created_at: token.createdAt,
      })
      .execute();
  }

  async find(
    tokenHash: string,
    purpose: AccountTokenPurpose,
    now: number,
  ): Promise<AccountTokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('account_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && toToken(row);
  }

  async consume(
    tokenHash: string,
    purpose: AccountTokenPurpose,
    now: number,
  ): Promise<AccountTokenRecord | undefined> {
    // UPDATE … WHERE used_at IS NULL … RETURNING: exactly one concurrent caller gets the row.
    const row = await this.#db
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row && toToken(row);
  }

  async invalidate(
    filter: { purpose: AccountTokenPurpose; userId?: string; email?: string },
    now: number,
  ): Promise<number> {
    // Without an owner the filter would match every token of the purpose.
    if (filter.userId === undefined && filter.email === undefined)
      throw new Error('invalidate needs an owner');
    let query = this.#db
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('purpose', '=', filter.purpose)
      .where('used_at', 'is', null);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.email !== undefined) query = query.where('email', '=', filter.email);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('account_tokens')
      .where('expires_at', '<=', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
