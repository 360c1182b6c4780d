import { type AuditLog, GENESIS_HASH, type StoredAuditRecord } from '../../ports/audit-log.ts';
import { anchorSeal, chainLink } from './chain.ts';

export type ChainBreakReason =
  | 'anchor_forged'
  | 'event_before_anchor'
  | 'missing_hash'
  | 'hash_mismatch'
  | 'link_mismatch';

const explanations: Record<ChainBreakReason, string> = {
  anchor_forged: 'the pruning anchor was changed outside Gatehouse',
  event_before_anchor: 'an event sits before the pruning anchor (inserted, or left behind by pruning)',
  missing_hash: 'the event has no hash although the chain had started (written outside Gatehouse?)',
  hash_mismatch: 'the event was modified after it was written',
  link_mismatch: 'the event does not follow the one before it (an event was deleted or inserted here)',
};

export interface ChainBreak {
  seq: number;
  id: string | null;
  reason: ChainBreakReason;
  explanation: string;
}

export interface ChainReport {
  ok: boolean;
  /** Chained events whose hash and link were checked. */
  verified: number;
  /** Events written before the chain existed (migration 0003): not covered. */
  unchained: number;
  anchor: { seq: number; prunedTotal: number } | null;
  /** Position and hash of the last verified event. Kept elsewhere, it also reveals truncation. */
  lastSeq: number | null;
  head: string | null;
  broken: ChainBreak | null;
}

const PAGE = 1000;

/**
 * Walks the log in order from the anchor and stops at the first break. Reads a page at a time,
 * so memory stays flat however long the log is.
 */
export async function verifyChain(
  key: Uint8Array,
  log: AuditLog,
  options: { throughSeq?: number } = {},
): Promise<ChainReport> {
  const link = chainLink(key);
  const anchor = await log.anchor();
  const report: ChainReport = {
    ok: true,
    verified: 0,
    unchained: 0,
    anchor: anchor ? { seq: anchor.seq, prunedTotal: anchor.prunedTotal } : null,
    lastSeq: null,
    head: null,
    broken: null,
  };
  const fail = (seq: number, id: string | null, reason: ChainBreakReason): ChainReport => {
    report.ok = false;
    report.broken = { seq, id, reason, explanation: explanations[reason] };
    return report;
  };
  if (anchor && anchorSeal(key)(anchor.seq, anchor.hash) !== anchor.mac) {
    return fail(anchor.seq, null, 'anchor_forged');
  }
  let expected = anchor?.hash ?? GENESIS_HASH;
  // Rows without a hash are tolerated only before the chain's first event.
  let started = expected !== GENESIS_HASH;
  let afterSeq = -1;
  for (;;) {
    const page: StoredAuditRecord[] = await log.scan({
      afterSeq,
      throughSeq: options.throughSeq,
      limit: PAGE,
    });
    for (const event of page) {
      if (anchor && event.seq <= anchor.seq) return fail(event.seq, event.id, 'event_before_anchor');
      if (event.hash === null || event.prevHash === null) {
        if (started) return fail(event.seq, event.id, 'missing_hash');
        report.unchained++;
        continue;
      }
      if (link(event.prevHash, event) !== event.hash) return fail(event.seq, event.id, 'hash_mismatch');
      if (event.prevHash !== expected) return fail(event.seq, event.id, 'link_mismatch');
      expected = event.hash;
      started = true;
      report.verified++;
      report.lastSeq = event.seq;
      report.head = event.hash;
    }
    if (page.length < PAGE) return report;
    afterSeq = page[page.length - 1]!.seq;
  }
}
