import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/storage/sql/open-database.ts';
import {
  BACKSTOP_PAGES,
  DEFAULT_AUTOCHECKPOINT_PAGES,
  WalCheckpointer,
} from '../../src/storage/sqlite/wal-checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function walDatabase(name: string): { database: DatabaseSync; path: string } {
  const path = join(dir, name);
  const database = new DatabaseSync(path);
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('create table filler (body text not null)');
  return { database, path };
}

function autocheckpoint(database: DatabaseSync): number {
  return (database.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint;
}

/** About 250 pages (1 MB) in one transaction: they reach the WAL at once. */
function write(database: DatabaseSync): void {
  const insert = database.prepare('insert into filler (body) values (?)');
  database.exec('begin');
  for (let i = 0; i < 250; i++) insert.run('x'.repeat(4000));
  database.exec('commit');
}

async function until<T>(read: () => T | null, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQLite WAL checkpoints on their own thread', () => {
  test('the thread copies the WAL into the database file; the server connection only keeps a backstop', async () => {
    const { database, path } = walDatabase('thread.sqlite');
    const checkpointer = new WalCheckpointer(database, path, { intervalMs: 50 });
    try {
      assert.equal(autocheckpoint(database), BACKSTOP_PAGES);
      write(database);
      // The thread may first have checkpointed the table's creation; wait for the big write.
      const result = await until(() => {
        const last = checkpointer.lastCheckpoint;
        return last && last.walFrames >= 250 ? last : null;
      });
      assert.equal(result.checkpointedFrames, result.walFrames);
      assert.equal(checkpointer.running, true);
      // Named, so top -H and bench:password tell it from the hashing threads (Linux /proc).
      if (process.platform === 'linux') {
        const names = readdirSync('/proc/self/task').map((tid) =>
          readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
        );
        assert.ok(names.includes('gatehouse-wal'), names.join(', '));
      }
    } finally {
      await checkpointer.stop();
      database.close();
    }
  });

  test('stopping ends the thread and gives the connection back SQLite’s default threshold', async () => {
    const { database, path } = walDatabase('stop.sqlite');
    const checkpointer = new WalCheckpointer(database, path, { intervalMs: 50 });
    await checkpointer.stop();
    assert.equal(checkpointer.running, false);
    assert.equal(autocheckpoint(database), DEFAULT_AUTOCHECKPOINT_PAGES);
    write(database);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(checkpointer.lastCheckpoint, null);
    database.close();
  });

  test('a thread that fails is reported, and the connection checkpoints on its own again', async () => {
    const { database } = walDatabase('failing.sqlite');
    const errors: Error[] = [];
    // A path the thread cannot open: its connection fails as it starts.
    const checkpointer = new WalCheckpointer(database, join(dir, 'missing', 'db.sqlite'), {
      intervalMs: 50,
      onError: (error) => errors.push(error),
    });
    await until(() => (checkpointer.running ? null : true));
    assert.equal(errors.length, 1);
    assert.equal(autocheckpoint(database), DEFAULT_AUTOCHECKPOINT_PAGES);
    await checkpointer.stop();
    database.close();
  });

  test('the server opens its SQLite file with the thread; close stops it; CLI and :memory: opens do not start one', async () => {
    const serverDb = openDatabase({ sqlitePath: join(dir, 'server.sqlite') }, { walCheckpointThread: true });
    const pragma = async (db: typeof serverDb) =>
      Number(
        (await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db.db)).rows[0]
          ?.wal_autocheckpoint,
      );
    assert.equal(await pragma(serverDb), BACKSTOP_PAGES);
    await serverDb.close();

    const cliDb = openDatabase({ sqlitePath: join(dir, 'cli.sqlite') });
    assert.equal(await pragma(cliDb), DEFAULT_AUTOCHECKPOINT_PAGES);
    await cliDb.close();

    const memoryDb = openDatabase({ sqlitePath: ':memory:' }, { walCheckpointThread: true });
    assert.equal(await pragma(memoryDb), DEFAULT_AUTOCHECKPOINT_PAGES);
    await memoryDb.close();
  });
});
