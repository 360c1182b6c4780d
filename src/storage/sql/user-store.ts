import type { Insertable, Kysely, Selectable } from 'kysely';
import type { UserRecord, UserStore } from '../../ports/user-store.ts';
import type { Database, UsersTable } from './database.ts';

export function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  };
}

function toUserRow(user: UserRecord): Insertable<UsersTable> {
  return {
    id: user.id,
    email: user.email,
    email_verified_at: user.emailVerifiedAt,
    display_name: user.displayName,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    disabled_at: user.disabledAt,
  };
}

export class SqlUserStore implements UserStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findByEmail(normalizedEmail: string): Promise<UserRecord | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizedEmail)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async createOrGet(user: UserRecord): Promise<{ user: UserRecord; created: boolean }> {
    // ON CONFLICT DO NOTHING: two first sign-ins racing for one address create one account.
    const inserted = await this.#db
      .insertInto('users')
      .values(toUserRow(user))
      .onConflict((oc) => oc.column('email').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { user: toUser(inserted), created: true };
    const existing = await this.findByEmail(user.email);
    if (!existing) throw new Error('user insert conflicted but no row exists');
    return { user: existing, created: false };
  }

  async createWithPassword(user: UserRecord, passwordHash: string | null): Promise<{ created: boolean }> {
    return this.#db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('users')
        .values(toUserRow(user))
        .onConflict((oc) => oc.column('email').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return { created: false };
      if (passwordHash !== null) {
        await trx
          .insertInto('password_credentials')
          .values({
            user_id: user.id,
            hash: passwordHash,
            created_at: user.createdAt,
            updated_at: user.createdAt,
          })
          .execute();
      }
      return { created: true };
    });
  }

  async markEmailVerified(id: string, at: number): Promise<void> {
    await this.#db
      .updateTable('users')
      .set({ email_verified_at: at, updated_at: at })
      .where('id', '=', id)
      .where('email_verified_at', 'is', null)
      .execute();
  }

  async updateProfile(
    id: string,
    changes: { displayName: string | null },
    at: number,
  ): Promise<UserRecord | undefined> {
    const row = await this.#db
      .updateTable('users')
      .set({ display_name: changes.displayName, updated_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toUser(row);
  }

  async changeEmail(id: string, email: string, at: number): Promise<'changed' | 'taken' | 'missing'> {
    const holder = await this.findByEmail(email);
    if (holder && holder.id !== id) return 'taken';
    try {
      const result = await this.#db
        .updateTable('users')
        .set({ email, email_verified_at: at, updated_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? 'changed' : 'missing';
    } catch (error) {
      if (isUniqueViolation(error)) return 'taken';
      throw error;
    }
  }

  async setDisabled(id: string, at: number | null): Promise<boolean> {
    // Disabling again keeps the first time (the one the audit log explains) but still reports
    // that the account exists. updated_at is the profile's; the audit log records who did this.
    const result = await this.#db
      .updateTable('users')
      .set((eb) => ({ disabled_at: at === null ? null : eb.fn.coalesce('disabled_at', eb.val(at)) }))
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

/** PostgreSQL 23505, or SQLite's constraint error: another row won the race for the address. */
function isUniqueViolation(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '23505' || (typeof message === 'string' && message.includes('UNIQUE constraint failed'));
}
