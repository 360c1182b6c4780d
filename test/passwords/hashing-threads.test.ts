/**
 * argon2id runs on hashing threads of its own (src/domain/passwords/hashing-threads.ts): one
 * per core, each lowered to nice 19, so a sign-in storm never takes the cores from session
 * checks; libuv's pool (WebCrypto signing, files, DNS) and the event loop keep their priority.
 * Priorities are read back from /proc: Linux only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority } from 'node:os';
import { describe, test } from 'node:test';
import { HASHING_NICE, HashingThreads, hashingThreads } from '../../src/domain/passwords/hashing-threads.ts';
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

const SMALL = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

describe('hashing threads', { skip: linux ? false : 'reads thread priorities from /proc (Linux)' }, () => {
  test('warm-up starts one hashing thread per core at nice 19; nothing else is lowered', async () => {
    const loopNice = getPriority();
    const lowered = await new PasswordHasher(SMALL).warmUp();
    assert.equal(lowered, availableParallelism());
    assert.equal(HASHING_NICE, 19);
    const tids = await hashingThreads.threadIds();
    const all = threads();
    for (const tid of tids) {
      assert.ok(tid !== null);
      assert.equal(all.find((t) => t.tid === tid)?.nice, HASHING_NICE, `hashing thread ${tid}`);
    }
    const others = all.filter((t) => !tids.includes(t.tid));
    assert.ok(others.length > 0);
    for (const thread of others)
      assert.equal(thread.nice, loopNice, `${thread.name} ${thread.tid} untouched`);
    assert.equal(getPriority(), loopNice, 'the event loop keeps its priority');
  });

  test('more jobs than threads queue; answers go to the job that asked', async () => {
    const hasher = new PasswordHasher(SMALL);
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
    assert.equal((await hashingThreads.threadIds()).length, availableParallelism(), 'the pool does not grow');
  });

  test('below saturation a job never waits behind another: two jobs at once run on two threads', async () => {
    // Each thread may hold a second job while one runs (THREAD_DEPTH), but only once every
    // thread is busy: an idle thread is always chosen first. Read from each thread's CPU time,
    // not the clock, so other work on the machine cannot make the answer wrong: were both jobs
    // sent to one thread, the other would have used none.
    const pool = new HashingThreads(2);
    const slow = { memoryCost: 64 * 1024, timeCost: 3, parallelism: 1 };
    const stored = await pool.hash('x', slow);
    const tids = (await pool.threadIds()).filter((tid): tid is number => tid !== null);
    assert.equal(tids.length, 2);
    /** utime + stime in clock ticks (stat fields 14 and 15). */
    const cpuTicks = (tid: number) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]);
    };
    const before = tids.map(cpuTicks);
    assert.deepEqual(await Promise.all([pool.verify(stored, 'x'), pool.verify(stored, 'x')]), [true, true]);
    const used = tids.map((tid, i) => cpuTicks(tid) - (before[i] ?? 0));
    for (const ticks of used) assert.ok(ticks >= 2, `CPU ticks per thread: ${used.join(', ')}`);
  });

  test('a job the thread cannot do fails that job only', async () => {
    const pool = new HashingThreads(1);
    await assert.rejects(pool.hash('x', { memoryCost: 1 }), /memory|cost|invalid|Memory/i);
    const stored = await pool.hash('x', { memoryCost: 1024, timeCost: 1 });
    assert.equal(await pool.verify(stored, 'x'), true);
  });
});
