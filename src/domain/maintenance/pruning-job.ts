import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.ts';
import type { JobLeases } from '../../ports/job-lease.ts';
import { randomId } from '../crypto/secrets.ts';

const JOB = 'pruning';

export interface PruningJobOptions {
  leases: JobLeases;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  /** The deletions: expired sessions and challenges, audit events past retention. */
  work: () => Promise<unknown>;
}

/**
 * Runs the pruning work once per interval across the whole cluster: every node ticks, the one
 * that claims the lease for the coming interval does the work, the others skip. The lease
 * lasts one interval, so a node that dies mid-run only delays the next run by that much.
 */
export class PruningJob {
  readonly #options: PruningJobOptions;
  /** This node in the lease table; random, so restarts and several nodes never collide. */
  readonly #holder = randomId();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<boolean> | null = null;

  constructor(options: PruningJobOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.#options.log.warn({ err: error }, 'pruning failed'));
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Waits for a run in progress, so shutdown never closes the database under it. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  /** True if this node held the lease and did the work. A run already in progress is joined. */
  runOnce(): Promise<boolean> {
    this.#running ??= this.#claimAndRun().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #claimAndRun(): Promise<boolean> {
    const { leases, clock, intervalMs, work } = this.#options;
    const now = clock.now();
    if (!(await leases.claim(JOB, this.#holder, now, now + intervalMs))) return false;
    await work();
    return true;
  }
}
