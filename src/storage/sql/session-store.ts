import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import type { SessionRecord, SessionStore, SessionWithUser } from '../../ports/session-store.ts';
import type { SyncReader } from '../sqlite/node-sqlite-dialect.ts';
import { compileOnce } from './compiled-query.ts';
import type { Database, SessionsTable } from './database.ts';

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    authTime: row.auth_time,
    amr: JSON.parse(row.amr) as string[],
    ip: row.ip,
    userAgent: row.user_agent,
    mfaPending: Number(row.mfa_pending) === 1,
  };
}

/**
 * The hot lookup's columns, in select order: the SQLite path reads the row as an array of
 * values (node-sqlite-dialect.ts, firstRowValues) and PostgreSQL's named row is put in the same
 * order, so one mapping (fromJoinedValues) serves both.
 */
const JOINED_COLUMNS = [
  's.id as s_id',
  's.token_hash',
  's.user_id',
  's.created_at as s_created_at',
  's.last_seen_at',
  's.expires_at',
  's.absolute_expires_at',
  's.auth_time',
  's.amr',
  's.ip',
  's.user_agent',
  's.mfa_pending',
  'u.email',
  'u.email_verified_at',
  'u.display_name',
  'u.created_at as u_created_at',
  'u.updated_at as u_updated_at',
  'u.disabled_at',
] as const;
/** The name each column has in a named row: the alias, else the bare column. */
const JOINED_KEYS = JOINED_COLUMNS.map((column) => column.split(' as ')[1] ?? column.slice(2));

function fromJoinedValues(values: unknown[]): SessionWithUser {
  const [
    id,
    tokenHash,
    userId,
    createdAt,
    lastSeenAt,
    expiresAt,
    absoluteExpiresAt,
    authTime,
    amr,
    ip,
    userAgent,
    mfaPending,
    email,
    emailVerifiedAt,
    displayName,
    userCreatedAt,
    userUpdatedAt,
    disabledAt,
  ] = values as [
    string,
    string,
    string,
    number,
    number,
    number,
    number,
    number,
    string,
    string | null,
    string | null,
    number,
    string,
    number | null,
    string | null,
    number,
    number,
    number | null,
  ];
  return {
    session: {
      id,
      tokenHash,
      userId,
      createdAt,
      lastSeenAt,
      expiresAt,
      absoluteExpiresAt,
      authTime,
      amr: JSON.parse(amr) as string[],
      ip,
      userAgent,
      mfaPending: Number(mfaPending) === 1,
    },
    user: {
      id: userId,
      email,
      emailVerifiedAt,
      displayName,
      createdAt: userCreatedAt,
      updatedAt: userUpdatedAt,
      disabledAt: disabledAt === null ? null : Number(disabledAt),
    },
  };
}

export class SqlSessionStore implements SessionStore {
  readonly #db: Kysely<Database>;
  /**
   * Session validation runs on nearly every request: the query is compiled once and only the
   * parameter changes (saves Kysely's per-call query building).
   */
  readonly #findByTokenHash: CompiledQuery;
  readonly #syncReader: SyncReader | null;
  /** Every sign-in inserts one: built once too (compiled-query.ts). */
  readonly #insert;

  constructor(db: Kysely<Database>, syncReader: SyncReader | null = null) {
    this.#db = db;
    this.#syncReader = syncReader;
    this.#findByTokenHash = db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(JOINED_COLUMNS)
      .where('s.token_hash', '=', '')
      // A disabled account's sessions never validate, including one created in a race with
      // the disable (its sign-in checked before, its insert landed after the revocation). The
      // token is the only parameter: findByTokenHash passes it alone.
      .where('u.disabled_at', 'is', null)
      .compile();
    this.#insert = compileOnce(db, (slot) =>
      db.insertInto('sessions').values({
        id: slot<string>('id'),
        token_hash: slot<string>('tokenHash'),
        user_id: slot<string>('userId'),
        created_at: slot<number>('createdAt'),
        last_seen_at: slot<number>('lastSeenAt'),
        expires_at: slot<number>('expiresAt'),
        absolute_expires_at: slot<number>('absoluteExpiresAt'),
        auth_time: slot<number>('authTime'),
        amr: slot<string>('amr'),
        ip: slot<string | null>('ip'),
        user_agent: slot<string | null>('userAgent'),
        mfa_pending: slot<number>('mfaPending'),
      }),
    );
  }

  async create(session: SessionRecord): Promise<void> {
    await this.#insert({
      ...session,
      amr: JSON.stringify(session.amr),
      mfaPending: session.mfaPending ? 1 : 0,
    });
  }

  async findByTokenHash(tokenHash: string): Promise<SessionWithUser | undefined> {
    const compiled = this.#findByTokenHash;
    if (this.#syncReader) {
      const values = this.#syncReader(compiled.sql, [tokenHash]);
      return values ? fromJoinedValues(values) : undefined;
    }
    const row = (
      await this.#db.executeQuery<Record<string, unknown>>({ ...compiled, parameters: [tokenHash] })
    ).rows[0];
    return row ? fromJoinedValues(JOINED_KEYS.map((key) => row[key])) : undefined;
  }

  async touch(id: string, lastSeenAt: number, expiresAt?: number): Promise<void> {
    await this.#db
      .updateTable('sessions')
      .set(
        expiresAt === undefined
          ? { last_seen_at: lastSeenAt }
          : { last_seen_at: lastSeenAt, expires_at: expiresAt },
      )
      .where('id', '=', id)
      .execute();
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('last_seen_at', 'desc')
      .execute();
    return rows.map(toSession);
  }

  async deleteForUser(id: string, userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('sessions')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteOthers(userId: string, keepId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where('id', '!=', keepId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteAllForUser(userId: string): Promise<number> {
    const result = await this.#db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteById(id: string): Promise<void> {
    await this.#db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  async recordAuthFailure(id: string): Promise<number> {
    // One statement: concurrent failures each count.
    const row = await this.#db
      .updateTable('sessions')
      .set((eb) => ({ auth_failures: eb('auth_failures', '+', 1) }))
      .where('id', '=', id)
      .returning('auth_failures')
      .executeTakeFirst();
    return row ? Number(row.auth_failures) : Number.POSITIVE_INFINITY;
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('absolute_expires_at', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
