/**
 * `npm run bench:audit`: what the tamper-evident chain costs an audit write, on SQLite and on
 * PostgreSQL, against a plain insert of the same row measured in the same run.
 *
 * - plain insert: the row as before the chain (no hash, no lock, no transaction);
 * - chained, one at a time: AuditRecorder.record awaited in turn, so every event pays for its
 *   own transaction (PostgreSQL: advisory lock, read the head, insert, commit);
 * - chained, concurrent: 64 events in flight per node (two nodes, i.e. two connection pools,
 *   on PostgreSQL; SQLite has one writer), where group commit shares a transaction.
 *
 * Each database is fresh (test/support/databases.ts). Settings: BENCH_AUDIT_EVENTS (2000,
 * 100–20000) per measurement. Printed, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { AuditRecorder } from '../src/domain/audit/audit-recorder.ts';
import { verifyChain } from '../src/domain/audit/chain-verifier.ts';
import { randomId } from '../src/domain/crypto/secrets.ts';
import type { RequestContext } from '../src/domain/request-context.ts';
import { systemClock } from '../src/ports/clock.ts';
import { openDatabase, type SqlDatabase } from '../src/storage/sql/open-database.ts';
import { createSqlStores } from '../src/storage/sql/stores.ts';
import { databaseTargets, skipReason } from '../test/support/databases.ts';
import { intFromEnv } from './lib/settings.ts';
import { formatInteger, formatTable } from './lib/stats.ts';

const events = intFromEnv('BENCH_AUDIT_EVENTS', 2000, 100, 20_000);
const IN_FLIGHT = 64;
const KEY = randomBytes(32);
const CONTEXT: RequestContext = {
  ip: '203.0.113.7',
  userAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36',
  requestId: 'bench-1',
};
const DETAILS = { factor: 'passkey', passkeyId: 'pk_0123456789abcdef', userVerified: true };

function recorder(database: SqlDatabase): AuditRecorder {
  return new AuditRecorder(
    createSqlStores(database).audit,
    systemClock,
    (error) => {
      throw error;
    },
    KEY,
  );
}

const record = (audit: AuditRecorder, i: number) =>
  audit.record(CONTEXT, {
    type: 'sign_in.passkey',
    outcome: 'success',
    userId: `usr_${i % 50}`,
    details: DETAILS,
  });

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** µs per event, one at a time, without the chain: the write as it was before issue #4. */
async function plainInserts(database: SqlDatabase): Promise<number> {
  const ms = await timed(async () => {
    for (let i = 0; i < events; i++) {
      await database.db
        .insertInto('audit_events')
        .values({
          id: randomId(),
          at: Date.now(),
          type: 'sign_in.passkey',
          outcome: 'success',
          user_id: `usr_${i % 50}`,
          actor_id: null,
          session_id: null,
          ip: CONTEXT.ip,
          user_agent: CONTEXT.userAgent,
          request_id: CONTEXT.requestId,
          details: JSON.stringify(DETAILS),
          prev_hash: null,
          hash: null,
        })
        .execute();
    }
  });
  await database.db.deleteFrom('audit_events').execute();
  return (ms * 1000) / events;
}

async function chainedOneAtATime(database: SqlDatabase): Promise<number> {
  const audit = recorder(database);
  const ms = await timed(async () => {
    for (let i = 0; i < events; i++) await record(audit, i);
  });
  return (ms * 1000) / events;
}

/** Events per second with IN_FLIGHT records outstanding on each node. */
async function chainedConcurrent(nodes: SqlDatabase[]): Promise<number> {
  const audits = nodes.map(recorder);
  let next = 0;
  const lane = async (audit: AuditRecorder) => {
    while (next < events) await record(audit, next++);
  };
  const ms = await timed(async () => {
    await Promise.all(audits.flatMap((audit) => Array.from({ length: IN_FLIGHT }, () => lane(audit))));
  });
  return (events * 1000) / ms;
}

const rows: string[][] = [];
for (const target of databaseTargets()) {
  const reason = await skipReason(target).catch((error: Error) => error.message);
  if (reason) {
    console.log(`skipping ${target.name}: ${reason}`);
    continue;
  }
  const opened = await target.open();
  // A second node on PostgreSQL: its own pool. SQLite has one writer per file.
  const second = target.name === 'postgres' ? openDatabase(opened.location) : null;
  try {
    const plain = await plainInserts(opened.database);
    const chained = await chainedOneAtATime(opened.database);
    const concurrent = await chainedConcurrent(second ? [opened.database, second] : [opened.database]);
    const report = await verifyChain(KEY, opened.stores.audit);
    if (!report.ok) throw new Error(`chain broken after the run: ${JSON.stringify(report.broken)}`);
    const verifyMs = await timed(async () => {
      await verifyChain(KEY, opened.stores.audit);
    });
    rows.push([
      target.name,
      `${plain.toFixed(0)} µs`,
      `${chained.toFixed(0)} µs`,
      `${(chained / plain).toFixed(2)} ×`,
      `${formatInteger(concurrent)} /s (${second ? '2 nodes' : '1 node'} × ${IN_FLIGHT})`,
      `${formatInteger((report.verified * 1000) / verifyMs)} /s`,
    ]);
  } finally {
    await second?.close();
    await opened.dispose();
  }
}

console.log(`\nbench:audit — ${formatInteger(events)} events per measurement, node ${process.version}\n`);
console.log(
  formatTable(
    ['database', 'plain insert', 'chained (1 at a time)', 'ratio', 'chained, concurrent', 'verify'],
    rows,
  ),
);
console.log(
  '\nPer-event figures are wall time per awaited write; the concurrent column counts committed events.',
);
