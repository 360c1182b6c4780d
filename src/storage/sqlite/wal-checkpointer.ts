import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { CheckpointerMessage, CheckpointerSettings, CheckpointResult } from './wal-checkpoint-thread.ts';

/** How often the thread checkpoints: the WAL stays a few MB even under a sign-in storm. */
export const CHECKPOINT_INTERVAL_MS = 500;
/**
 * While the thread runs, the server's own connection checkpoints only past this many WAL pages
 * (40 MB at 4 KiB): a backstop should the thread ever fall behind.
 */
export const BACKSTOP_PAGES = 10_000;
/** SQLite's default, in force whenever the thread is not running. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * WAL checkpoints of the embedded SQLite database, on a thread of their own.
 *
 * SQLite checkpoints in the connection whose commit takes the WAL past 1000 pages: that commit
 * copies the pages into the database file and fsyncs it, several milliseconds on the event
 * loop, during which no request is served. bench:password measured the session check's p99
 * under a sign-in storm at 3.0–3.4× idle with those checkpoints, 2.6–2.8× with them moved here
 * (2.1× with none at all, the floor). The server's connection keeps a high threshold as a
 * backstop, and returns to SQLite's default whenever this thread is not running (stopped, or
 * ended by an error, which `onError` hears of).
 */
export class WalCheckpointer {
  readonly #database: DatabaseSync;
  readonly #worker: Worker;
  #last: CheckpointResult | null = null;
  #running = true;
  readonly #ended: Promise<void>;

  constructor(
    database: DatabaseSync,
    path: string,
    options: { intervalMs?: number; onError?: (error: Error) => void } = {},
  ) {
    this.#database = database;
    const settings: CheckpointerSettings = { path, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS };
    this.#worker = new Worker(new URL('./wal-checkpoint-thread.ts', import.meta.url), {
      workerData: settings,
      name: 'gatehouse-wal', // as the OS shows the thread (top -H, /proc)
    });
    // A process that is otherwise done must not stay up for this thread.
    this.#worker.unref();
    this.#worker.on('message', (result: CheckpointResult) => {
      this.#last = result;
    });
    this.#ended = new Promise((resolve) => {
      const ended = (): void => {
        this.#running = false;
        this.#setAutocheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
        resolve();
      };
      this.#worker.once('exit', ended);
      // An error ends the thread too ('exit' follows): nothing is lost but the offload, and
      // the owner is told so it can say so.
      this.#worker.on('error', (error) => options.onError?.(error));
    });
    this.#setAutocheckpoint(BACKSTOP_PAGES);
  }

  /** The last checkpoint that found frames in the WAL, or null before the first. */
  get lastCheckpoint(): CheckpointResult | null {
    return this.#last;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Ends the thread (closing its connection) and restores SQLite's default threshold. */
  async stop(): Promise<void> {
    if (this.#running) {
      // Held while it winds down: with nothing else left (a failed start), an unref'd thread
      // would let the process exit in the middle of this await.
      this.#worker.ref();
      this.#worker.postMessage('stop' satisfies CheckpointerMessage);
    }
    await this.#ended;
  }

  #setAutocheckpoint(pages: number): void {
    if (this.#database.isOpen) this.#database.exec(`PRAGMA wal_autocheckpoint = ${pages}`);
  }
}
