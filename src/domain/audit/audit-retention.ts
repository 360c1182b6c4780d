import type { AuditLog } from '../../ports/audit-log.ts';
import type { Clock } from '../../ports/clock.ts';
import type { RequestContext } from '../request-context.ts';
import type { AuditRecorder } from './audit-recorder.ts';
import { anchorSeal } from './chain.ts';
import { verifyChain } from './chain-verifier.ts';

/** The pruning job acts for no request. */
const NO_REQUEST: RequestContext = { ip: null, userAgent: null, requestId: null };

export interface AuditRetentionOptions {
  log: AuditLog;
  audit: AuditRecorder;
  clock: Clock;
  chainKey: Uint8Array;
  retentionMs: number;
}

/**
 * Deletes events older than the retention period while keeping the chain verifiable: the
 * anchor takes the hash of the last deleted event, and the first remaining event links to it.
 * The part about to go is verified first and the result recorded in `audit.pruned`, so
 * retention never silently erases the evidence of an earlier tampering.
 */
export class AuditRetention {
  readonly #options: AuditRetentionOptions;

  constructor(options: AuditRetentionOptions) {
    this.#options = options;
  }

  /** Returns how many events were deleted. */
  async run(): Promise<number> {
    const { log, audit, clock, chainKey, retentionMs } = this.#options;
    const throughSeq = await log.lastSeqBefore(clock.now() - retentionMs);
    if (throughSeq === undefined) return 0;
    const check = await verifyChain(chainKey, log, { throughSeq });
    const count = await log.prune(throughSeq, anchorSeal(chainKey), clock.now());
    await audit.record(NO_REQUEST, {
      type: 'audit.pruned',
      outcome: check.ok ? 'success' : 'failure',
      details: {
        count,
        throughSeq,
        chainIntact: check.ok,
        ...(check.broken ? { brokenAtSeq: check.broken.seq, breakReason: check.broken.reason } : {}),
      },
    });
    return count;
  }
}
