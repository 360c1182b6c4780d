import { once } from 'node:events';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { SchemaOutOfDateError } from '../container.ts';
import { auditEventTypes } from '../domain/audit/audit-recorder.ts';
import { AUDIT_CHAIN_KEY_PURPOSE } from '../domain/audit/chain.ts';
import { type ChainReport, verifyChain } from '../domain/audit/chain-verifier.ts';
import { parseTimeBound } from '../domain/audit/time-bound.ts';
import { deriveKey } from '../domain/crypto/secrets.ts';
import type { AuditFilter, AuditLog, StoredAuditRecord } from '../ports/audit-log.ts';
import { migrationStatus, openDatabase } from '../storage/sql/open-database.ts';
import { createSqlStores } from '../storage/sql/stores.ts';
import { publicAuditEvent } from '../domain/audit/public-event.ts';

const auditUsage = `Usage:
  gatehouse audit verify [--json]
      Checks the audit hash chain from the pruning anchor to the newest event. Exit 0 when it
      is intact, 3 at the first broken link (named by seq and id), 1 when it cannot run.
  gatehouse audit export [--since TIME] [--until TIME] [--type TYPE] [--user USER_ID]
      Writes events as JSON lines, oldest first. TIME is epoch ms, an ISO 8601 date-time with
      a zone, or a date (midnight UTC); --since is inclusive, --until exclusive.
`;

/** Exit status of `audit verify` when the chain is broken (distinct from "could not run"). */
export const EXIT_CHAIN_BROKEN = 3;

const PAGE = 1000;

class UsageError extends Error {}

/** `gatehouse audit …`: read-only; it never writes to the log it checks. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'verify') return await withAuditLog((log, key) => verify(log, key, rest));
    if (sub === 'export') {
      const filter = exportFilter(rest);
      return await withAuditLog((log) => exportEvents(log, filter));
    }
    throw new UsageError(sub ? `Unknown audit command "${sub}".` : 'Missing audit command.');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`gatehouse: ${error.message}\n\n${auditUsage}`);
    return 2;
  }
}

async function withAuditLog(run: (log: AuditLog, chainKey: Uint8Array) => Promise<number>): Promise<number> {
  const config = loadConfig();
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const status = await migrationStatus(database);
    if (status.pending.length > 0) {
      throw new SchemaOutOfDateError(
        `database schema is behind this version (pending: ${status.pending.join(', ')}); run \`gatehouse migrate\` first`,
      );
    }
    return await run(createSqlStores(database).audit, deriveKey(config.secret, AUDIT_CHAIN_KEY_PURPOSE));
  } finally {
    await database.close();
  }
}

async function verify(log: AuditLog, chainKey: Uint8Array, args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  const report = await verifyChain(chainKey, log);
  console.log(values.json ? JSON.stringify(report) : describe(report));
  return report.ok ? 0 : EXIT_CHAIN_BROKEN;
}

function describe(report: ChainReport): string {
  const lines: string[] = [];
  if (report.broken) {
    const { seq, id, reason, explanation } = report.broken;
    lines.push(
      `audit chain BROKEN at seq ${seq}${id ? ` (event ${id})` : ' (the anchor)'}: ${explanation} [${reason}]`,
      `${report.verified} event(s) verified before it.`,
    );
  } else {
    lines.push(`audit chain intact: ${report.verified} event(s) verified.`);
  }
  if (report.anchor) {
    lines.push(
      `pruned: ${report.anchor.prunedTotal} event(s); the chain resumes after seq ${report.anchor.seq}.`,
    );
  }
  if (report.unchained > 0) {
    lines.push(
      `${report.unchained} event(s) predate the chain (written before migration 0003) and are not covered.`,
    );
  }
  if (report.head) {
    lines.push(`head: seq ${report.lastSeq} ${report.head} (keep it elsewhere to detect a truncated log)`);
  }
  return lines.join('\n');
}

function exportFilter(args: string[]): AuditFilter {
  const { values } = parse(args, {
    since: { type: 'string' },
    until: { type: 'string' },
    type: { type: 'string' },
    user: { type: 'string' },
  });
  if (values.type !== undefined && !Object.hasOwn(auditEventTypes, values.type)) {
    throw new UsageError(`Unknown event type "${values.type}" (see docs/audit-events.md).`);
  }
  return {
    since: timeOption('--since', values.since),
    until: timeOption('--until', values.until),
    type: values.type,
    userId: values.user,
  };
}

function timeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = parseTimeBound(text);
  if (at === undefined) throw new UsageError(`${name} must be epoch ms, an ISO 8601 date-time or a date.`);
  return at;
}

function parse<const O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

// JSON.stringify leaves C1 controls, line/paragraph separators and text-direction overrides as
// they are; written as \uXXXX escapes they cannot break a line or reorder text in a viewer,
// and JSON parsers read them back unchanged. Outside strings JSON.stringify emits none.
const UNSAFE_IN_EXPORT = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function exportLine(event: StoredAuditRecord): string {
  const json = JSON.stringify(
    publicAuditEvent({ ...event, details: JSON.parse(event.details) as Record<string, unknown> }),
  );
  return `${json.replace(UNSAFE_IN_EXPORT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

async function exportEvents(log: AuditLog, filter: AuditFilter): Promise<number> {
  let afterSeq = -1;
  for (;;) {
    const page = await log.scan({ ...filter, afterSeq, limit: PAGE });
    for (const event of page) {
      // Respect backpressure: an export of millions of events must not pile up in memory.
      if (!process.stdout.write(exportLine(event))) await once(process.stdout, 'drain');
    }
    if (page.length < PAGE) return 0;
    afterSeq = page[page.length - 1]!.seq;
  }
}
