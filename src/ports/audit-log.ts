export type AuditOutcome = 'success' | 'failure';

/** The `prevHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One event as stored. Strings are already escaped against log injection and `details` is
 * canonical JSON text: the chain hash covers exactly these values, so what is verified is
 * what is stored and exported.
 */
export interface AuditRecord {
  id: string;
  at: number;
  type: string;
  outcome: AuditOutcome;
  userId: string | null;
  /** Who did it when not the user (an administrator); null when the user acted. */
  actorId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Canonical JSON object text. Never a secret. */
  details: string;
}

export interface StoredAuditRecord extends AuditRecord {
  /** Position in the log: total order across every node. */
  seq: number;
  /** Null only for events written before the chain existed (migration 0003). */
  prevHash: string | null;
  hash: string | null;
}

/** An event as read back for display: `details` parsed. */
export interface AuditEvent extends Omit<StoredAuditRecord, 'details'> {
  details: Record<string, unknown>;
}

/** Where the chain resumes after pruning: the last pruned event's position and hash. */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** Keyed MAC over (seq, hash): a database writer without the instance secret cannot move it. */
  mac: string;
  prunedTotal: number;
  updatedAt: number;
}

export interface AuditFilter {
  userId?: string | undefined;
  type?: string | undefined;
  /** Inclusive, epoch ms. */
  since?: number | undefined;
  /** Exclusive, epoch ms. */
  until?: number | undefined;
}

/** Gives the hash of `record` when it follows the event whose hash is `prevHash`. */
export type ChainLink = (prevHash: string, record: AuditRecord) => string;

export interface AuditLog {
  /**
   * Appends the records, in order, at the end of the chain. Appends are serialised across
   * every process sharing the database, so each record links to the true previous one.
   */
  append(records: AuditRecord[], link: ChainLink): Promise<void>;
  /** Newest first, strictly before `beforeSeq` when given (cursor pagination). */
  list(filter: AuditFilter & { beforeSeq?: number | undefined; limit: number }): Promise<AuditEvent[]>;
  /**
   * Oldest first, strictly after `afterSeq`, up to `throughSeq` when given; `details` exactly
   * as stored (verify, export).
   */
  scan(
    filter: AuditFilter & { afterSeq: number; throughSeq?: number | undefined; limit: number },
  ): Promise<StoredAuditRecord[]>;
  anchor(): Promise<AuditAnchor | undefined>;
  /** The last event of the prefix written before `cutoff` (what retention would remove). */
  lastSeqBefore(cutoff: number): Promise<number | undefined>;
  /**
   * Deletes every event up to `throughSeq` and moves the anchor to the last one deleted,
   * sealed by `seal`, in one transaction serialised with appends. Returns how many went.
   */
  prune(throughSeq: number, seal: (seq: number, hash: string) => string, at: number): Promise<number>;
}
