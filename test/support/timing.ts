/**
 * Timing comparisons for the no-enumeration tests (DESIGN §4): two kinds of request are timed
 * alternately (A B, then B A, … so drift on the machine hits both alike) after a warm-up, and
 * compared with a Mann–Whitney U test, which works on ranks and so shrugs off the long tail of
 * scheduling noise on a shared machine, plus the gap between medians.
 */

/** Two-sided p ≈ 2·10⁻⁵: a false alarm is rare, a real difference of the sizes tested is not missed. */
export const Z_LIMIT = 4.2;

/** Mann–Whitney U, normal approximation with tie correction; returns z. */
export function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]?.v === all[i]?.v) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  const rankSumA = all.reduce((sum, item, index) => sum + (item.g === 0 ? (ranks[index] ?? 0) : 0), 0);
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  return (u - (n1 * n2) / 2) / sigma;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** Alternating samples of two requests (`pairs` of each), after `warmUp` untimed rounds. */
export async function alternate(
  known: () => Promise<unknown>,
  unknown: () => Promise<unknown>,
  { pairs = 60, warmUp = 8 }: { pairs?: number; warmUp?: number } = {},
): Promise<{ known: number[]; unknown: number[] }> {
  for (let i = 0; i < warmUp; i++) {
    await known();
    await unknown();
  }
  const out = { known: [] as number[], unknown: [] as number[] };
  for (let i = 0; i < pairs; i++) {
    // Which goes first alternates too, so neither always follows the other's after-effects.
    if (i % 2 === 0) {
      out.known.push(await timed(known));
      out.unknown.push(await timed(unknown));
    } else {
      out.unknown.push(await timed(unknown));
      out.known.push(await timed(known));
    }
  }
  return out;
}

/** One line for an assertion message: z and both medians. */
export function describeSamples(samples: { known: number[]; unknown: number[] }, z: number): string {
  return `z=${z.toFixed(2)} median known=${median(samples.known).toFixed(2)} ms unknown=${median(samples.unknown).toFixed(2)} ms`;
}
