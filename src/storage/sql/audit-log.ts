import { type Kysely, type Selectable, sql } from 'kysely';
import {
  type AuditAnchor,
  type AuditEvent,
  type AuditFilter,
  type AuditLog,
  type AuditOutcome,
  type AuditRecord,
  type ChainLink,
  GENESIS_HASH,
  type StoredAuditRecord,
} from '../../ports/audit-log.ts';
import { advisoryLocks, LOCK_NAMESPACE } from '../postgres/advisory-locks.ts';
import type { AuditEventsTable, Database } from './database.ts';
import { compileOnce } from './compiled-query.ts';
import type { SqlDialectName } from './dialect-name.ts';

const ANCHOR_ID = 'audit';

function toStored(row: Selectable<AuditEventsTable>): StoredAuditRecord {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    type: row.type,
    outcome: row.outcome as AuditOutcome,
    userId: row.user_id,
    actorId: row.actor_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class SqlAuditLog implements AuditLog {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialectName;
  // The append's statements, built once (compiled-query.ts): every sign-in appends, and Kysely's
  // building was about a fifth of an append on SQLite.
  readonly #insert;
  readonly #newestHash;
  readonly #begin;
  readonly #commit;

  constructor(db: Kysely<Database>, dialect: SqlDialectName) {
    this.#db = db;
    this.#dialect = dialect;
    this.#insert = compileOnce(db, (slot) =>
      db.insertInto('audit_events').values({
        id: slot<string>('id'),
        at: slot<number>('at'),
        type: slot<string>('type'),
        outcome: slot<string>('outcome'),
        user_id: slot<string | null>('userId'),
        actor_id: slot<string | null>('actorId'),
        session_id: slot<string | null>('sessionId'),
        ip: slot<string | null>('ip'),
        user_agent: slot<string | null>('userAgent'),
        request_id: slot<string | null>('requestId'),
        details: slot<string>('details'),
        prev_hash: slot<string>('prevHash'),
        hash: slot<string>('hash'),
      }),
    );
    this.#newestHash = compileOnce(db, (slot) =>
      db
        .selectFrom('audit_events')
        .select('hash')
        .where('hash', 'is not', null)
        .orderBy('seq', 'desc')
        .limit(slot<number>('one')),
    );
    this.#begin = sql`begin immediate`.compile(db);
    this.#commit = sql`commit`.compile(db);
  }

  async append(records: AuditRecord[], link: ChainLink): Promise<void> {
    if (records.length === 0) return;
    await this.#serialised(async (trx) => {
      let prevHash = await this.#head(trx);
      for (const record of records) {
        const hash = link(prevHash, record);
        // Nulls stand as null: compileOnce refuses only a value left undefined.
        await this.#insert({ ...record, prevHash, hash }, trx);
        prevHash = hash;
      }
    });
  }

  async list(filter: AuditFilter & { beforeSeq?: number | undefined; limit: number }): Promise<AuditEvent[]> {
    let query = this.#filtered(filter);
    if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map((row) => {
      const stored = toStored(row);
      return { ...stored, details: JSON.parse(stored.details) as Record<string, unknown> };
    });
  }

  async scan(
    filter: AuditFilter & { afterSeq: number; throughSeq?: number | undefined; limit: number },
  ): Promise<StoredAuditRecord[]> {
    let query = this.#filtered(filter).where('seq', '>', filter.afterSeq);
    if (filter.throughSeq !== undefined) query = query.where('seq', '<=', filter.throughSeq);
    const rows = await query.orderBy('seq', 'asc').limit(filter.limit).execute();
    return rows.map(toStored);
  }

  async anchor(): Promise<AuditAnchor | undefined> {
    return this.#readAnchor(this.#db);
  }

  async lastSeqBefore(cutoff: number): Promise<number | undefined> {
    // The prefix ends just before the first event at or after the cut-off, so a later event
    // stamped a little early by a node with a slow clock cannot punch a hole in the chain.
    // Walking the primary key from the oldest row stops after the few rows not yet pruned.
    const firstKept = await this.#db
      .selectFrom('audit_events')
      .select('seq')
      .where('at', '>=', cutoff)
      .orderBy('seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    let query = this.#db.selectFrom('audit_events').select('seq');
    if (firstKept) query = query.where('seq', '<', firstKept.seq);
    const last = await query.orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return last?.seq;
  }

  async prune(throughSeq: number, seal: (seq: number, hash: string) => string, at: number): Promise<number> {
    return this.#serialised(async (trx) => {
      const last = await trx
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('seq', '<=', throughSeq)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!last) return 0;
      const previous = await this.#readAnchor(trx);
      const deleted = await trx.deleteFrom('audit_events').where('seq', '<=', last.seq).executeTakeFirst();
      const count = Number(deleted.numDeletedRows);
      // A pruned prefix of pre-chain rows leaves the chain where it was (not started yet).
      const hash = last.hash ?? previous?.hash ?? GENESIS_HASH;
      const values = {
        seq: last.seq,
        hash,
        mac: seal(last.seq, hash),
        pruned_total: (previous?.prunedTotal ?? 0) + count,
        updated_at: at,
      };
      if (previous) {
        await trx.updateTable('audit_chain_anchor').set(values).where('id', '=', ANCHOR_ID).execute();
      } else {
        await trx
          .insertInto('audit_chain_anchor')
          .values({ id: ANCHOR_ID, ...values })
          .execute();
      }
      return count;
    });
  }

  /**
   * Runs `work` in a transaction that no other append or prune (on any node) overlaps. On
   * PostgreSQL a transaction-scoped advisory lock, released by commit or rollback (a crashed
   * node cannot leave it held). On SQLite `BEGIN IMMEDIATE` takes the database's one write lock
   * before the head is read: a plain BEGIN would read first and then fail with "database is
   * locked" when another connection (a second process on the file) wrote in between, where
   * IMMEDIATE waits out busy_timeout instead.
   */
  async #serialised<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#dialect === 'postgres') {
      return this.#db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${advisoryLocks.auditChain})`.execute(trx);
        return work(trx);
      });
    }
    return this.#db.connection().execute(async (connection) => {
      await connection.executeQuery(this.#begin);
      try {
        const result = await work(connection);
        await connection.executeQuery(this.#commit);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    });
  }

  /** The hash the next event links to: the newest chained event, else the anchor, else genesis. */
  async #head(trx: Kysely<Database>): Promise<string> {
    // Read after taking the lock: in READ COMMITTED each statement sees every append that
    // committed before it started, including the one that held the lock just before us.
    const last = (await this.#newestHash({ one: 1 }, trx)).rows[0];
    if (last?.hash) return last.hash;
    return (await this.#readAnchor(trx))?.hash ?? GENESIS_HASH;
  }

  async #readAnchor(db: Kysely<Database>): Promise<AuditAnchor | undefined> {
    const row = await db
      .selectFrom('audit_chain_anchor')
      .selectAll()
      .where('id', '=', ANCHOR_ID)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      seq: row.seq,
      hash: row.hash,
      mac: row.mac,
      prunedTotal: row.pruned_total,
      updatedAt: row.updated_at,
    };
  }

  #filtered(filter: AuditFilter) {
    let query = this.#db.selectFrom('audit_events').selectAll();
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at', '<', filter.until);
    return query;
  }
}
