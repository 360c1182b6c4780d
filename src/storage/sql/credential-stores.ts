import type { Kysely, Selectable } from 'kysely';
import type {
  PasswordStore,
  RecoveryCodeStore,
  TotpRecord,
  TotpStore,
} from '../../ports/credential-store.ts';
import type { Database, TotpCredentialsTable } from './database.ts';

export class SqlPasswordStore implements PasswordStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(userId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('password_credentials')
      .select('hash')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.hash;
  }

  async set(userId: string, hash: string, at: number): Promise<void> {
    await this.#db
      .insertInto('password_credentials')
      .values({ user_id: userId, hash, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: at }))
      .execute();
  }

  async replaceIf(userId: string, expected: string, next: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('password_credentials')
      .set({ hash: next, updated_at: at })
      .where('user_id', '=', userId)
      .where('hash', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('password_credentials')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toTotp(row: Selectable<TotpCredentialsTable>): TotpRecord {
  return {
    userId: row.user_id,
    secretSealed: row.secret_sealed,
    confirmedAt: row.confirmed_at === null ? null : Number(row.confirmed_at),
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    createdAt: Number(row.created_at),
  };
}

export class SqlTotpStore implements TotpStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async find(userId: string): Promise<TotpRecord | undefined> {
    const row = await this.#db
      .selectFrom('totp_credentials')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && toTotp(row);
  }

  async putPending(record: TotpRecord): Promise<boolean> {
    // The conflict update only applies while the existing row is unconfirmed: a working
    // authenticator is never replaced by a half-finished enrolment.
    const row = await this.#db
      .insertInto('totp_credentials')
      .values({
        user_id: record.userId,
        secret_sealed: record.secretSealed,
        confirmed_at: null,
        last_used_step: null,
        created_at: record.createdAt,
      })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({
            secret_sealed: record.secretSealed,
            last_used_step: null,
            created_at: record.createdAt,
          })
          .where('totp_credentials.confirmed_at', 'is', null),
      )
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async confirm(userId: string, step: number, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('totp_credentials')
      .set({ confirmed_at: at, last_used_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async useStep(userId: string, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('totp_credentials')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('totp_credentials')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

export class SqlRecoveryCodeStore implements RecoveryCodeStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async replaceAll(
    userId: string,
    codes: Array<{ id: string; codeHash: string }>,
    at: number,
  ): Promise<void> {
    // New set first, then the old ones go: no moment in which the user has no codes at all,
    // and no transaction (the SQLite fast path must never read inside one).
    await this.#db
      .insertInto('recovery_codes')
      .values(
        codes.map((code) => ({
          id: code.id,
          user_id: userId,
          code_hash: code.codeHash,
          used_at: null,
          created_at: at,
        })),
      )
      .execute();
    await this.#db
      .deleteFrom('recovery_codes')
      .where('user_id', '=', userId)
      .where(
        'id',
        'not in',
        codes.map((code) => code.id),
      )
      .execute();
  }

  async consume(userId: string, codeHash: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('recovery_codes')
      .set({ used_at: at })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async countUnused(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteAll(userId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('recovery_codes')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
