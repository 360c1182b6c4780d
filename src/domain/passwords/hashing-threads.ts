import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';
import type { HashAnswer, HashJob } from './argon2-thread.ts';

/**
 * Nice value of the hashing threads: the lowest there is. The scheduler weighs a nice-19
 * thread 15 against the event loop's 1024, so whenever the event loop has work it runs first
 * and hashing uses only the CPU that requests leave over (bench/password.ts measures both).
 */
export const HASHING_NICE = 19;
/** The threads' name as the OS shows it (at most 15 characters): what bench:password looks for. */
export const HASHING_THREAD_NAME = 'gatehouse-hash';

type Pending = { resolve(value: string | boolean): void; reject(error: Error): void };
type Queued = { job: HashJob; pending: Pending };

/** Jobs a thread holds at once: the one it runs and the next, waiting in its message queue. */
const THREAD_DEPTH = 2;

/**
 * argon2id on threads of its own, one per core, below the event loop's priority.
 *
 * Why not libuv's thread pool (where @node-rs/argon2's async API runs): that pool also runs
 * WebCrypto (every JWT the OAuth provider signs), file system and DNS work. Lowering its
 * priority for the sake of hashing starved those too (measured: OAuth token signing fell behind
 * the load generator), and leaving it at normal priority lets a sign-in storm take the cores
 * from session checks. Dedicated threads lower exactly the work that should wait.
 *
 * One hash per thread at a time, so at most one hash per core runs at once: more would only
 * fight over the cores and the memory bus (19 MiB each). When every thread is busy, each may
 * hold one job more, waiting in its own message queue (THREAD_DEPTH): it starts that job the
 * moment it finishes the one before, instead of idling until the event loop, busy with
 * requests, has read the answer and sent the next (measured: 3–5 % of the cores idle during a
 * sign-in storm without it). Idle threads are always chosen first, so below saturation no job
 * waits behind another. The threads are started on first use and keep the process alive only
 * while they have work.
 */
export class HashingThreads {
  readonly #size: number;
  readonly #workers: Worker[] = [];
  readonly #queue: Queued[] = [];
  readonly #pending = new Map<number, Pending>();
  /** The jobs each thread holds, oldest (the one running) first. */
  readonly #held = new Map<Worker, number[]>();
  readonly #tids: Array<number | null> = [];
  #started: Promise<void> | undefined;
  #nextId = 0;

  constructor(size = availableParallelism()) {
    this.#size = Math.max(1, size);
  }

  hash(password: string, options: Options): Promise<string> {
    return this.#run({ id: this.#nextId++, op: 'hash', password, options }) as Promise<string>;
  }

  verify(stored: string, password: string): Promise<boolean> {
    return this.#run({ id: this.#nextId++, op: 'verify', stored, password }) as Promise<boolean>;
  }

  /** A bcrypt or PBKDF2 hash imported from another system (legacy-hashes.ts), on the same threads. */
  verifyImported(kind: 'bcrypt' | 'pbkdf2', stored: string, password: string): Promise<boolean> {
    const op = kind === 'bcrypt' ? 'verify-bcrypt' : 'verify-pbkdf2';
    return this.#run({ id: this.#nextId++, op, stored, password }) as Promise<boolean>;
  }

  /** Starts the threads (if not yet) and gives their thread ids; null where Linux's are not known. */
  async threadIds(): Promise<Array<number | null>> {
    await this.#start();
    return [...this.#tids];
  }

  async #run(job: HashJob): Promise<string | boolean> {
    await this.#start();
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject };
      const worker = this.#leastHeld();
      if (worker) this.#send(worker, job, pending);
      else this.#queue.push({ job, pending });
    });
  }

  /** An idle thread if there is one, else one with room for a waiting job, else none. */
  #leastHeld(): Worker | undefined {
    let best: Worker | undefined;
    let bestCount = THREAD_DEPTH;
    for (const worker of this.#workers) {
      const count = this.#held.get(worker)?.length ?? 0;
      if (count < bestCount) {
        best = worker;
        bestCount = count;
        if (count === 0) break;
      }
    }
    return best;
  }

  #send(worker: Worker, job: HashJob, pending: Pending): void {
    this.#pending.set(job.id, pending);
    const held = this.#held.get(worker);
    if (held) held.push(job.id);
    else this.#held.set(worker, [job.id]);
    worker.ref();
    worker.postMessage(job);
  }

  #start(): Promise<void> {
    this.#started ??= Promise.all(Array.from({ length: this.#size }, () => this.#startThread())).then(
      () => undefined,
    );
    return this.#started;
  }

  #startThread(): Promise<void> {
    const worker = new Worker(new URL('./argon2-thread.ts', import.meta.url), {
      workerData: { nice: HASHING_NICE },
      name: HASHING_THREAD_NAME,
    });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (hello: { ready: true; tid: number | null }) => {
        this.#tids.push(hello.tid);
        worker.on('message', (answer: HashAnswer) => this.#answered(worker, answer));
        // A thread that dies fails its job (the sign-in answers 500/503, never hangs); the
        // pool carries on with the threads it has left.
        worker.on('error', (error) => this.#lost(worker, error));
        // Idle threads do not keep the process alive; a thread holds it while it has a job.
        // (After the listeners: adding a message listener takes a reference again.)
        worker.unref();
        this.#workers.push(worker);
        resolve();
      });
    });
  }

  #lost(worker: Worker, error: Error): void {
    const held = this.#held.get(worker) ?? [];
    this.#held.delete(worker);
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    worker.unref();
    for (const jobId of held) {
      this.#pending.get(jobId)?.reject(error);
      this.#pending.delete(jobId);
    }
  }

  #answered(worker: Worker, answer: HashAnswer): void {
    const held = this.#held.get(worker);
    const index = held?.indexOf(answer.id) ?? -1;
    if (index >= 0) held?.splice(index, 1);
    const pending = this.#pending.get(answer.id);
    this.#pending.delete(answer.id);
    if (pending) {
      if (answer.ok) pending.resolve(answer.value);
      else pending.reject(new Error(answer.error));
    }
    // Back to its depth: the thread already runs the job it held waiting, if any.
    while ((held?.length ?? 0) < THREAD_DEPTH) {
      const next = this.#queue.shift();
      if (!next) break;
      this.#send(worker, next.job, next.pending);
    }
    if (!held || held.length === 0) worker.unref();
  }
}

/** The process's hashing threads, shared by every PasswordHasher. */
export const hashingThreads = new HashingThreads();
