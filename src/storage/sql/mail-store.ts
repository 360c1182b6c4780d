import type { Kysely } from 'kysely';
import type { DevMailboxStore, MailOutbox, OutboxItem, StoredMessage } from '../../ports/mail.ts';
import type { Database } from './database.ts';

export class SqlMailOutbox implements MailOutbox {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async enqueue(item: { id: string; sealed: string; createdAt: number }): Promise<void> {
    await this.#db
      .insertInto('mail_outbox')
      .values({
        id: item.id,
        sealed: item.sealed,
        status: 'pending',
        attempts: 0,
        next_attempt_at: item.createdAt,
        lease_until: null,
        last_error: null,
        created_at: item.createdAt,
        updated_at: item.createdAt,
      })
      .execute();
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<OutboxItem[]> {
    // The lease makes a claim exclusive: another worker (or node) sees the row as taken until
    // it expires, so a crash mid-send only delays the message.
    const due = await this.#db
      .selectFrom('mail_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    const claimed: OutboxItem[] = [];
    for (const { id } of due) {
      const row = await this.#db
        .updateTable('mail_outbox')
        .set({ lease_until: leaseUntil, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .returning(['id', 'sealed', 'attempts'])
        .executeTakeFirst();
      if (row?.sealed) claimed.push({ id: row.id, sealed: row.sealed, attempts: row.attempts });
    }
    return claimed;
  }

  async markSent(id: string, at: number): Promise<void> {
    await this.#db
      .updateTable('mail_outbox')
      .set({ status: 'sent', sealed: null, lease_until: null, updated_at: at, last_error: null })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: string, error: string, retryAt: number | null, at: number): Promise<void> {
    await this.#db
      .updateTable('mail_outbox')
      .set((eb) => ({
        status: retryAt === null ? 'failed' : 'pending',
        // A message that will never be sent no longer needs its (secret-bearing) body.
        sealed: retryAt === null ? null : eb.ref('sealed'),
        attempts: eb('attempts', '+', 1),
        next_attempt_at: retryAt ?? at,
        lease_until: null,
        last_error: error.slice(0, 500),
        updated_at: at,
      }))
      .where('id', '=', id)
      .execute();
  }

  async stats(): Promise<{ pending: number; failed: number; sent: number }> {
    const rows = await this.#db
      .selectFrom('mail_outbox')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const out = { pending: 0, failed: 0, sent: 0 };
    for (const row of rows) {
      if (row.status === 'pending' || row.status === 'failed' || row.status === 'sent')
        out[row.status] = Number(row.n);
    }
    return out;
  }
}

export class SqlDevMailboxStore implements DevMailboxStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async store(message: StoredMessage): Promise<void> {
    await this.#db
      .insertInto('dev_mailbox')
      .values({
        id: message.id,
        to_address: message.to,
        subject: message.subject,
        text_body: message.text,
        html_body: message.html,
        created_at: message.createdAt,
      })
      .execute();
  }

  async list(filter: { to?: string; limit: number }): Promise<StoredMessage[]> {
    let query = this.#db.selectFrom('dev_mailbox').selectAll();
    if (filter.to) query = query.where('to_address', '=', filter.to);
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map((row) => ({
      id: row.id,
      to: row.to_address,
      subject: row.subject,
      text: row.text_body,
      html: row.html_body,
      createdAt: row.created_at,
    }));
  }
}
