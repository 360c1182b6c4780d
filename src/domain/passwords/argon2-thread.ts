/**
 * One password-hashing thread (hashing-threads.ts starts them). It lowers its own scheduling
 * priority first, then runs argon2id jobs (and checks of bcrypt and PBKDF2 hashes imported
 * from another system) one at a time with the synchronous APIs: this thread exists only to
 * hash, so blocking it is the point.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { hashSync, type Options, verifySync } from '@node-rs/argon2';
import { verifySync as verifyBcryptSync } from '@node-rs/bcrypt';
import { verifyPbkdf2Sync } from './pbkdf2-hashes.ts';

export type HashJob =
  | { id: number; op: 'hash'; password: string; options: Options }
  | { id: number; op: 'verify'; stored: string; password: string }
  | { id: number; op: 'verify-bcrypt'; stored: string; password: string }
  | { id: number; op: 'verify-pbkdf2'; stored: string; password: string };

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
        job.op === 'hash'
          ? hashSync(job.password, job.options)
          : job.op === 'verify'
            ? verifySync(job.stored, job.password)
            : job.op === 'verify-bcrypt'
              ? verifyBcryptSync(job.password, job.stored)
              : verifyPbkdf2Sync(job.stored, job.password);
      answer = { id: job.id, ok: true, value };
    } catch (error) {
      answer = { id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(answer);
  });
}
