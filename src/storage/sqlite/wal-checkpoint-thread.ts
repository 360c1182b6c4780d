/**
 * The WAL checkpointer's thread (wal-checkpointer.ts starts it): a connection of its own to the
 * database file and a PASSIVE checkpoint every `intervalMs`. PASSIVE copies what no reader
 * still needs and never waits for a lock, so it cannot hold up the server's connection; the
 * copying and the fsync that ends it block this thread alone.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerSettings {
  path: string;
  intervalMs: number;
}

/** One checkpoint that found frames in the WAL (SQLite's wal_checkpoint columns). */
export interface CheckpointResult {
  /** Frames in the WAL when it ran. */
  walFrames: number;
  /** Frames copied into the database file so far (all of them unless a reader held some back). */
  checkpointedFrames: number;
}

export type CheckpointerMessage = 'stop';

const port = parentPort;
if (port) {
  const { path, intervalMs } = workerData as CheckpointerSettings;
  const database = new DatabaseSync(path);
  const checkpoint = database.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const timer = setInterval(() => {
    const row = checkpoint.get() as { busy: number; log: number; checkpointed: number };
    // -1: the database is not in WAL mode (yet); 0: nothing written since the last one.
    if (row.log > 0) {
      const result: CheckpointResult = { walFrames: row.log, checkpointedFrames: row.checkpointed };
      port.postMessage(result);
    }
  }, intervalMs);
  port.on('message', (message: CheckpointerMessage) => {
    if (message !== 'stop') return;
    clearInterval(timer);
    database.close();
    port.close();
  });
}
