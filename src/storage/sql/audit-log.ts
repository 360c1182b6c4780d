import type { Kysely } from 'kysely';
import type { AuditEvent, AuditLog, AuditOutcome } from '../../ports/audit-log.ts';
import type { Database } from './database.ts';

export class SqlAuditLog implements AuditLog {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async record(event: AuditEvent): Promise<void> {
    await this.#db
      .insertInto('audit_events')
      .values({
        id: event.id,
        at: event.at,
        type: event.type,
        outcome: event.outcome,
        user_id: event.userId,
        session_id: event.sessionId,
        ip: event.ip,
        user_agent: event.userAgent,
        request_id: event.requestId,
        details: JSON.stringify(event.details),
      })
      .execute();
  }

  async list(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]> {
    let query = this.#db.selectFrom('audit_events').selectAll();
    if (filter.userId) query = query.where('user_id', '=', filter.userId);
    if (filter.type) query = query.where('type', '=', filter.type);
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      type: row.type,
      outcome: row.outcome as AuditOutcome,
      userId: row.user_id,
      sessionId: row.session_id,
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      details: JSON.parse(row.details) as Record<string, unknown>,
    }));
  }
}
