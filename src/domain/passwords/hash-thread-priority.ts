import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Nice value for hashing threads: the lowest there is. The scheduler weighs a nice-19 thread
 * 15 against the event loop's 1024 (nice 10 weighs 110, so two hashing threads on two cores
 * still took a fifth of the event loop's share and ran longer slices before it could preempt
 * them). Hashing loses nothing when the event loop is idle: a low weight only matters while
 * both want the same core.
 */
export const HASHING_NICE = 19;

/**
 * argon2id runs on libuv's thread pool, off the event loop, but on a small machine a storm of
 * sign-ins still puts four busy hashing threads beside the event loop on two cores, and the
 * scheduler shares the CPU evenly: session checks wait behind hashes. Lowering the pool
 * threads' priority lets the event loop (nice 0) preempt them whenever it has work, so hashing
 * uses only the CPU that requests leave over (bench/password.ts measures both).
 *
 * Linux only (thread ids from /proc, setpriority on a thread id); elsewhere, or without
 * permission, nothing changes. libuv starts every thread of its pool (UV_THREADPOOL_SIZE, 4 by
 * default) together when the first job is queued and never adds one later, so lowering them
 * once after a first job covers every thread that will ever hash.
 * Returns how many threads were lowered.
 */
export function lowerHashingThreadPriority(): number {
  let lowered = 0;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'libuv-worker') continue;
      setPriority(Number(tid), HASHING_NICE);
      lowered++;
    } catch {
      // A thread that ended meanwhile, or a system that refuses: hashing still works.
    }
  }
  return lowered;
}
