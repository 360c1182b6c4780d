/**
 * Real databases for tests: every store suite (and, later, the HTTP tests) runs once per target.
 *
 *   forEachDatabase('users', (db) => {
 *     it('…', async () => { await db.stores.users.findById('x'); });
 *   });
 *
 * - sqlite: a fresh WAL file in os.tmpdir(), migrated; removed on dispose.
 * - postgres: a fresh `gatehouse_test_<random>` database per open(), created through an admin
 *   connection and dropped on dispose. The server is GATEHOUSE_TEST_DATABASE_URL when set (its
 *   role needs CREATEDB; the database it names is only used to issue CREATE/DROP DATABASE),
 *   else postgres@127.0.0.1:5432/postgres.
 *
 * A target that cannot run is skipped with a message saying how to enable it, except with
 * CI=true or an explicit GATEHOUSE_TEST_DATABASE_URL, where it fails the run (DESIGN §6: in CI
 * a skip is a failure).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import {
  type DatabaseLocation,
  migrateToLatest,
  openDatabase,
  type SqlDatabase,
} from '../../src/storage/sql/open-database.ts';
import { createSqlStores, type Stores } from '../../src/storage/sql/stores.ts';

export type TargetName = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  name: TargetName;
  database: SqlDatabase;
  /** Where it is, to open a second connection as another node would. */
  location: DatabaseLocation;
  stores: Stores;
  /** Closes the connection and deletes the database (file or PostgreSQL database). */
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  name: TargetName;
  /** `true`, or why this target cannot run here. Probed once per process. */
  available(): Promise<true | string>;
  /** A fresh, migrated, empty database. */
  open(): Promise<OpenedDatabase>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function adminUrl(): string {
  return process.env['GATEHOUSE_TEST_DATABASE_URL'] || DEFAULT_ADMIN_URL;
}

async function withAdminClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 1500 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const sqliteTarget: DatabaseTarget = {
  name: 'sqlite',
  available: async () => true,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
    const location = { sqlitePath: join(dir, 'gatehouse.sqlite') };
    const database = openDatabase(location);
    await migrateToLatest(database);
    return {
      name: 'sqlite',
      database,
      location,
      stores: createSqlStores(database),
      async dispose() {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let postgresProbe: Promise<true | string> | undefined;

const postgresTarget: DatabaseTarget = {
  name: 'postgres',
  available() {
    postgresProbe ??= withAdminClient(async (client) => {
      await client.query('select 1');
      return true as const;
    }).catch((error: unknown) => {
      const where = process.env['GATEHOUSE_TEST_DATABASE_URL']
        ? 'at GATEHOUSE_TEST_DATABASE_URL'
        : 'at 127.0.0.1:5432; set GATEHOUSE_TEST_DATABASE_URL or start PostgreSQL to run these';
      return `PostgreSQL not reachable ${where} (${(error as Error).message})`;
    });
    return postgresProbe;
  },
  async open() {
    const name = `gatehouse_test_${randomBytes(8).toString('hex')}`;
    // The name is ours (hex only), so interpolating it into DDL is safe.
    await withAdminClient((client) => client.query(`create database ${name}`));
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const location = { databaseUrl: url.toString() };
    const database = openDatabase(location);
    const drop = async (): Promise<void> => {
      await withAdminClient((client) => client.query(`drop database if exists ${name} with (force)`));
    };
    try {
      await migrateToLatest(database);
    } catch (error) {
      await database.close();
      await drop();
      throw error;
    }
    return {
      name: 'postgres',
      database,
      location,
      stores: createSqlStores(database),
      async dispose() {
        await database.close();
        await drop();
      },
    };
  },
};

export function databaseTargets(): DatabaseTarget[] {
  return [sqliteTarget, postgresTarget];
}

/**
 * Why the target must be skipped, or undefined when it can run. Throws instead of skipping when
 * CI=true or GATEHOUSE_TEST_DATABASE_URL is set: a missing service there is a broken run.
 */
export async function skipReason(target: DatabaseTarget): Promise<string | undefined> {
  const status = await target.available();
  if (status === true) return undefined;
  if (process.env['CI'] === 'true' || process.env['GATEHOUSE_TEST_DATABASE_URL']) {
    throw new Error(`${target.name} is required here but unavailable: ${status}`);
  }
  return status;
}

const tableNames = new WeakMap<SqlDatabase, string[]>();

/** Empties every table (not the migration bookkeeping), whatever the foreign keys. */
export async function resetDatabase(database: SqlDatabase): Promise<void> {
  let tables = tableNames.get(database);
  if (!tables) {
    tables = (await database.db.introspection.getTables())
      .map((table) => table.name)
      .filter((name) => !name.startsWith('gatehouse_migrations'));
    tableNames.set(database, tables);
  }
  if (tables.length === 0) return;
  const deletes = tables.map((table) => sql`delete from ${sql.table(table)}`);
  if (database.dialect === 'postgres') {
    // DELETE is ~30x faster than TRUNCATE on tiny tables; TRUNCATE only when an FK without
    // ON DELETE CASCADE makes the order matter. No parameters: one implicit transaction.
    try {
      await sql.join(deletes, sql`; `).execute(database.db);
    } catch {
      await sql`truncate ${sql.join(tables.map((t) => sql.table(t)))}`.execute(database.db);
    }
    return;
  }
  await database.db.transaction().execute(async (trx) => {
    // Checked at commit, when every table is empty, so deletion order does not matter.
    await sql`pragma defer_foreign_keys = on`.execute(trx);
    for (const statement of deletes) await statement.execute(trx);
  });
}

/** What a suite body sees; `stores` and `database` are usable inside tests and hooks. */
export interface DatabaseContext {
  readonly name: TargetName;
  readonly database: SqlDatabase;
  readonly stores: Stores;
  readonly location: DatabaseLocation;
}

/**
 * Declares `define` once per target as `<title> [<target>]`. One database per suite; every
 * table is emptied after each test, so tests can assert exact counts.
 */
export function forEachDatabase(title: string, define: (db: DatabaseContext) => void): void {
  for (const target of databaseTargets()) {
    describe(`${title} [${target.name}]`, async () => {
      let reason: string | undefined;
      try {
        reason = await skipReason(target);
      } catch (error) {
        // A failing test rather than a failing suite, so the run's summary counts it.
        it(`needs ${target.name}`, () => {
          throw error;
        });
        return;
      }
      if (reason) {
        it(`needs ${target.name}`, { skip: reason }, () => {});
        return;
      }
      let opened: OpenedDatabase | undefined;
      const current = (): OpenedDatabase => {
        if (!opened) throw new Error('database used outside a test or hook');
        return opened;
      };
      before(async () => {
        opened = await target.open();
      });
      afterEach(async () => {
        if (opened) await resetDatabase(opened.database);
      });
      after(async () => {
        await opened?.dispose();
      });
      define({
        name: target.name,
        get database() {
          return current().database;
        },
        get stores() {
          return current().stores;
        },
        get location() {
          return current().location;
        },
      });
    });
  }
}
