/**
 * One password-hashing thread (hashing-threads.ts starts them). It lowers its own scheduling
 * priority first, then runs argon2id jobs one at a time with the synchronous API: this thread
 * exists only to hash, so blocking it is the point.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { hashSync, type Options, verifySync } from '@node-rs/argon2';

export type HashJob =
  | { id: number; op: 'hash'; password: string; options: Options }
  | { id: number; op: 'verify'; stored: string; password: string };

export type HashAnswer =
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

/**
 * Linux: /proc/thread-self names this thread's id, and setpriority on a thread id changes that
 * thread alone. Elsewhere, or where refused, the thread keeps the default priority: hashing
 * still works, only without the guarantee that it yields to requests.
 */
function lowerOwnPriority(nice: number): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return tid;
  } catch {
    return null;
  }
}

const port = parentPort;
if (port) {
  const tid = lowerOwnPriority((workerData as { nice: number }).nice);
  port.postMessage({ ready: true, tid });
  port.on('message', (job: HashJob) => {
    let answer: HashAnswer;
    try {
      const value =
        job.op === 'hash' ? hashSync(job.password, job.options) : verifySync(job.stored, job.password);
      answer = { id: job.id, ok: true, value };
    } catch (error) {
      answer = { id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(answer);
  });
}
