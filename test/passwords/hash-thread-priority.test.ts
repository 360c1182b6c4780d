/**
 * argon2id runs on libuv's thread pool; a sign-in storm must not starve the event loop that
 * answers session checks (issue #3). PasswordHasher.warmUp() lowers every pool thread to the
 * lowest priority and leaves the event loop where it was. Read back from /proc: Linux only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, test } from 'node:test';
import { HASHING_NICE } from '../../src/domain/passwords/hash-thread-priority.ts';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';

const linux = process.platform === 'linux';

/** This process's threads: name and nice value (stat field 19). */
function threads(): Array<{ tid: number; name: string; nice: number }> {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      tid: Number(tid),
      name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
      nice: Number(fields[16]),
    };
  });
}

describe('hashing thread priority', {
  skip: linux ? false : 'reads thread priorities from /proc (Linux)',
}, () => {
  test('warm-up lowers every thread-pool thread to nice 19 and leaves the event loop alone', async () => {
    const loopNice = getPriority();
    const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
    const lowered = await hasher.warmUp();

    const pool = threads().filter((t) => t.name === 'libuv-worker');
    // libuv starts its whole pool (UV_THREADPOOL_SIZE, 4 unless set) with the first job.
    const size = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
    assert.equal(pool.length, size, 'the whole pool exists after the first hash');
    assert.equal(lowered, size, 'every pool thread was lowered');
    assert.equal(HASHING_NICE, 19);
    for (const thread of pool) assert.equal(thread.nice, HASHING_NICE, `thread ${thread.tid}`);
    assert.equal(getPriority(), loopNice, 'the event loop keeps its priority');
    const main = threads().find((t) => t.tid === process.pid);
    assert.equal(main?.nice, loopNice);
  });

  test('hashing still works on the lowered threads, and no thread joins the pool later', async () => {
    const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
    await hasher.warmUp();
    const before = threads().filter((t) => t.name === 'libuv-worker');
    // More hashes at once than there are pool threads: the pool does not grow.
    const stored = await hasher.hash('correct horse battery staple');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        hasher.verify(stored, i % 2 ? 'correct horse battery staple' : 'wrong'),
      ),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 12 }, (_, i) => i % 2 === 1),
    );
    const after = threads().filter((t) => t.name === 'libuv-worker');
    assert.deepEqual(after.map((t) => t.tid).sort(), before.map((t) => t.tid).sort());
    assert.ok(after.every((t) => t.nice === HASHING_NICE));
  });
});
