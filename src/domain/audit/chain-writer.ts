import type { AuditLog, AuditRecord, ChainLink } from '../../ports/audit-log.ts';
import { chainLink } from './chain.ts';

interface Pending {
  record: AuditRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Enough to amortise the lock; small enough that one transaction stays short. */
const MAX_BATCH = 100;

/**
 * Appends to the chain with group commit. Appends are serialised across nodes (one lock per
 * append), so this node keeps one append in flight and queues the events that arrive
 * meanwhile for the next one. Without this, a burst of sign-ins would park one pooled
 * database connection per event on the lock and starve every other query of connections.
 */
export class AuditChainWriter {
  readonly #log: AuditLog;
  readonly #link: ChainLink;
  #queue: Pending[] = [];
  #flushing = false;

  constructor(log: AuditLog, chainKey: Uint8Array) {
    this.#log = log;
    this.#link = chainLink(chainKey);
  }

  /** Resolves once the event is committed (as part of a batch); rejects if that batch failed. */
  append(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        await this.#log.append(
          batch.map((pending) => pending.record),
          this.#link,
        );
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#flushing = false;
  }
}
