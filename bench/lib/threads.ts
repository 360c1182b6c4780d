import { readdirSync, readFileSync } from 'node:fs';

/** One thread of a process as Linux reports it in /proc/<pid>/task/<tid>/stat. */
export interface ThreadSample {
  tid: number;
  /** The thread's name: `MainThread` is Node's event loop, `libuv-worker` the thread pool, a worker thread its `name` (`gatehouse-hash` for the password hashing threads, `gatehouse-wal` for SQLite checkpoints). */
  name: string;
  /** CPU time used so far (user + system), milliseconds. */
  cpuMs: number;
  nice: number;
}

/** Clock ticks per second for utime/stime: 100 on every Linux this runs on (USER_HZ). */
const TICK_MS = 10;

/**
 * The threads of process `pid` with their CPU time and nice value; empty where /proc does not
 * exist (not Linux). CPU time, unlike throughput, barely moves when other work shares the
 * machine, so a per-request figure from it is the steadier evidence.
 */
export function sampleThreads(pid: number): ThreadSample[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const samples: ThreadSample[] = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after "pid (comm) ": the name may hold spaces or parentheses, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      samples.push({
        tid: Number(tid),
        name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(),
        cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS, // stat fields 14 and 15
        nice: Number(fields[16]), // stat field 19
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return samples;
}

/** CPU milliseconds each thread name used between two samples, summed over threads of that name. */
export function cpuByName(before: ThreadSample[], after: ThreadSample[]): Map<string, number> {
  const start = new Map(before.map((t) => [t.tid, t.cpuMs]));
  const used = new Map<string, number>();
  for (const thread of after) {
    const delta = thread.cpuMs - (start.get(thread.tid) ?? 0);
    used.set(thread.name, (used.get(thread.name) ?? 0) + delta);
  }
  return used;
}
