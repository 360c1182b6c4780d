import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import type { SessionRecord, SessionStore, SessionWithUser } from '../../ports/session-store.ts';
import type { SyncReader } from '../sqlite/node-sqlite-dialect.ts';
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

interface JoinedRow {
  s_id: string;
  token_hash: string;
  user_id: string;
  s_created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  auth_time: number;
  amr: string;
  ip: string | null;
  user_agent: string | null;
  mfa_pending: number;
  email: string;
  email_verified_at: number | null;
  display_name: string | null;
  u_created_at: number;
  u_updated_at: number;
}

export class SqlSessionStore implements SessionStore {
  readonly #db: Kysely<Database>;
  /**
   * Session validation runs on nearly every request: the query is compiled once and only the
   * parameter changes (saves Kysely's per-call query building).
   */
  readonly #findByTokenHash: CompiledQuery<JoinedRow>;
  readonly #syncReader: SyncReader | null;

  constructor(db: Kysely<Database>, syncReader: SyncReader | null = null) {
    this.#db = db;
    this.#syncReader = syncReader;
    this.#findByTokenHash = db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
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
      ])
      .where('s.token_hash', '=', '')
      .compile() as CompiledQuery<JoinedRow>;
  }

  async create(session: SessionRecord): Promise<void> {
    await this.#db
      .insertInto('sessions')
      .values({
        id: session.id,
        token_hash: session.tokenHash,
        user_id: session.userId,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        expires_at: session.expiresAt,
        absolute_expires_at: session.absoluteExpiresAt,
        auth_time: session.authTime,
        amr: JSON.stringify(session.amr),
        ip: session.ip,
        user_agent: session.userAgent,
        mfa_pending: session.mfaPending ? 1 : 0,
      })
      .execute();
  }

  async findByTokenHash(tokenHash: string): Promise<SessionWithUser | undefined> {
    const compiled = this.#findByTokenHash;
    const row = this.#syncReader
      ? (this.#syncReader(compiled.sql, [tokenHash])[0] as JoinedRow | undefined)
      : (await this.#db.executeQuery<JoinedRow>({ ...compiled, parameters: [tokenHash] })).rows[0];
    if (!row) return undefined;
    return {
      session: {
        id: row.s_id,
        tokenHash: row.token_hash,
        userId: row.user_id,
        createdAt: row.s_created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        absoluteExpiresAt: row.absolute_expires_at,
        authTime: row.auth_time,
        amr: JSON.parse(row.amr) as string[],
        ip: row.ip,
        userAgent: row.user_agent,
        mfaPending: Number(row.mfa_pending) === 1,
      },
      user: {
        id: row.user_id,
        email: row.email,
        emailVerifiedAt: row.email_verified_at,
        displayName: row.display_name,
        createdAt: row.u_created_at,
        updatedAt: row.u_updated_at,
      },
    };
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
