import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, Migrator, sql } from 'kysely';
import { createPgDialect } from '../postgres/pg-dialect.ts';
import { createNodeSqliteDialect, type SyncReader } from '../sqlite/node-sqlite-dialect.ts';
import { WalCheckpointer } from '../sqlite/wal-checkpointer.ts';
import type { Database } from './database.ts';
import type { SqlDialectName } from './dialect-name.ts';
import { knownMigrationNames, migrationProvider } from './migrations/index.ts';

export interface SqlDatabase {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  /**
   * Embedded SQLite only: a read straight on the prepared statement, skipping Kysely's driver
   * queue (about 20 µs a call). For the one query on every request, the session lookup. It
   * may run while a Kysely transaction is open on the same connection (an audit append), and
   * then sees that transaction's uncommitted rows: harmless, as appends touch only the audit
   * tables and the reader reads sessions and users.
   */
  syncReader: SyncReader | null;
  /** A cheap round trip, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseLocation {
  /** postgres://… ; when unset, SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file, or ':memory:'. */
  sqlitePath?: string;
  dataDir?: string;
}

/** Close once: a second close (shutdown after a failure) must not hang or throw. */
function closeOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () => {
    closing ??= close();
    return closing;
  };
}

export interface OpenOptions {
  /**
   * SQLite file only: WAL checkpoints on a thread of their own (wal-checkpointer.ts), off the
   * event loop. For the server; a CLI command's few writes do not need it.
   */
  walCheckpointThread?: boolean;
  /** Hears of an error that ended the checkpoint thread (the connection then checkpoints itself). */
  onCheckpointThreadError?: (error: Error) => void;
}

export function openDatabase(location: DatabaseLocation, options: OpenOptions = {}): SqlDatabase {
  if (location.databaseUrl) {
    const dialect = createPgDialect(location.databaseUrl);
    const db = new Kysely<Database>({ dialect });
    return {
      db,
      dialect: 'postgres',
      syncReader: null,
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: closeOnce(() => db.destroy()),
    };
  }
  let path = location.sqlitePath;
  if (!path) {
    const dir = location.dataDir ?? './data';
    mkdirSync(dir, { recursive: true });
    path = join(dir, 'gatehouse.sqlite');
  }
  const { dialect, database, readRows } = createNodeSqliteDialect(path);
  const db = new Kysely<Database>({ dialect });
  const checkpointer =
    options.walCheckpointThread && path !== ':memory:'
      ? new WalCheckpointer(database, path, {
          ...(options.onCheckpointThreadError ? { onError: options.onCheckpointThreadError } : {}),
        })
      : null;
  return {
    db,
    dialect: 'sqlite',
    syncReader: readRows,
    ping: async () => {
      database.prepare('select 1').get();
    },
    close: closeOnce(async () => {
      // The thread first: the last connection to close checkpoints what is left.
      await checkpointer?.stop();
      await db.destroy();
    }),
  };
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied by a newer Gatehouse: fine during a rolling upgrade (expand/contract). */
  unknown: string[];
}

function migrator(database: SqlDatabase): Migrator {
  return new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    migrationTableName: 'gatehouse_migrations',
    migrationLockTableName: 'gatehouse_migrations_lock',
    allowUnorderedMigrations: false,
  });
}

export async function migrationStatus(database: SqlDatabase): Promise<MigrationStatus> {
  const infos = await migrator(database).getMigrations();
  const applied = infos.filter((m) => m.executedAt).map((m) => m.name);
  const pending = infos.filter((m) => !m.executedAt).map((m) => m.name);
  let recorded: string[] = [];
  try {
    const rows = await sql<{ name: string }>`select name from gatehouse_migrations`.execute(database.db);
    recorded = rows.rows.map((r) => r.name);
  } catch {
    recorded = [];
  }
  const unknown = recorded.filter((name) => !knownMigrationNames.includes(name));
  return { applied, pending, unknown };
}

/** Applies pending migrations; returns the names applied. Throws with the failing one. */
export async function migrateToLatest(database: SqlDatabase): Promise<string[]> {
  const { error, results } = await migrator(database).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
