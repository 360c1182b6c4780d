import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteDialect } from 'kysely';

/**
 * Kysely's SqliteDialect drives a better-sqlite3-shaped database object. This adapts Node's
 * built-in `node:sqlite` to that shape, so the embedded default needs no native build.
 * Prepared statements are cached by SQL text: Kysely compiles the same text for the same
 * query shape, and preparing is the expensive part of a small query.
 */
type SqliteValue = null | number | bigint | string | Uint8Array;

const STATEMENT_CACHE_LIMIT = 256;

function toSqliteValue(value: unknown): SqliteValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as SqliteValue;
}

class CachedStatement {
  readonly reader: boolean;
  readonly #statement: StatementSync;
  #arrays: StatementSync | undefined;

  constructor(statement: StatementSync) {
    this.#statement = statement;
    this.reader = statement.columns().length > 0;
  }

  /**
   * The first row as an array of column values, in select order. node:sqlite builds an object
   * with named properties far more slowly than an array (measured: about a microsecond on the
   * session join, a few percent of a session check), so the hot read takes this form.
   */
  firstRowValues(
    database: DatabaseSync,
    sqlText: string,
    parameters: ReadonlyArray<unknown>,
  ): unknown[] | undefined {
    if (!this.#arrays) {
      this.#arrays = database.prepare(sqlText);
      this.#arrays.setReturnArrays(true);
    }
    return this.#arrays.get(...parameters.map(toSqliteValue)) as unknown[] | undefined;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...parameters.map(toSqliteValue));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#statement.run(...parameters.map(toSqliteValue));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#statement.iterate(...parameters.map(toSqliteValue)) as IterableIterator<unknown>;
  }
}

/** Reads the first row of a cached prepared statement synchronously, as column values in select order. */
export type SyncReader = (sqlText: string, parameters: ReadonlyArray<unknown>) => unknown[] | undefined;

export interface NodeSqliteHandle {
  dialect: SqliteDialect;
  database: DatabaseSync;
  readRows: SyncReader;
}

/** `path` is a file, or ':memory:' for tests. */
export function createNodeSqliteDialect(path: string): NodeSqliteHandle {
  const database = new DatabaseSync(path);
  // WAL lets readers proceed during a write; busy_timeout waits out another process's lock
  // (the CLI migrating while a server runs) instead of failing at once.
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA foreign_keys = ON');
  database.exec('PRAGMA busy_timeout = 5000');
  const cache = new Map<string, CachedStatement>();
  const adapted = {
    prepare(sqlText: string): CachedStatement {
      let statement = cache.get(sqlText);
      if (!statement) {
        statement = new CachedStatement(database.prepare(sqlText));
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, statement);
      }
      return statement;
    },
    close(): void {
      cache.clear();
      if (database.isOpen) database.close();
    },
  };
  return {
    dialect: new SqliteDialect({ database: adapted }),
    database,
    readRows: (sqlText, parameters) => adapted.prepare(sqlText).firstRowValues(database, sqlText, parameters),
  };
}
