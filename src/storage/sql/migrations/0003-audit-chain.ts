import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';

/**
 * Tamper-evident audit log (issue #4): each event carries the hash of the one before it, the
 * anchor keeps the chain verifiable after retention deletes its oldest part, and a lease lets
 * exactly one node run the pruning job. Expand-only: older nodes keep inserting (their rows
 * simply have no hash), so a rolling upgrade does not break them.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
export async function up(db: Kysely<any>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('actor_id', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
  // A chain never forks: two events naming the same predecessor is a broken append, refused
  // by the database even if the append lock were ever bypassed. NULLs (pre-chain rows) are
  // distinct in a unique index on both dialects.
  await db.schema
    .createIndex('audit_events_prev_hash')
    .on('audit_events')
    .column('prev_hash')
    .unique()
    .execute();
  // Time filters of the audit API and the retention cut-off.
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();

  await db.schema
    .createTable('audit_chain_anchor')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('pruned_total', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .execute();
}
