import type { WrkResult } from './wrk.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Plain-text table, first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatInteger(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatMs(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

/**
 * Several wrk runs made at the same time against the nodes of one cluster, as one figure:
 * requests add up; a latency percentile cannot be merged from percentiles, so the worst
 * node's is reported (an upper bound).
 */
export function combineConcurrentRuns(runs: readonly WrkResult[]): WrkResult {
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  const total = (kind: keyof WrkResult['errors']) => runs.reduce((sum, r) => sum + r.errors[kind], 0);
  return {
    requests,
    durationS: Math.max(...runs.map((r) => r.durationS)),
    requestsPerSecond: runs.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    bytesPerResponse:
      requests > 0 ? runs.reduce((sum, r) => sum + r.bytesPerResponse * r.requests, 0) / requests : 0,
    errors: {
      connect: total('connect'),
      read: total('read'),
      write: total('write'),
      timeout: total('timeout'),
      status: total('status'),
    },
  };
}
