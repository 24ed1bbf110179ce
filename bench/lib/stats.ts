// Percentiles and small number helpers shared by every measurement.

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Lateness {
  n: number;
  /** How many of the n arrived at all before the wait gave up. */
  launched: number;
  /** The first arrival: when firing began, relative to the due second. */
  first_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** From the start of the due second until the last arrival. */
  all_launched_ms: number;
  /** Arrivals before the due time (should be none). */
  early: number;
}

/** Lateness figures from arrival times (epoch ms) of jobs all due at `dueMs`. */
export function latenessOf(n: number, arrivals: readonly number[], dueMs: number): Lateness {
  return latenessFrom(n, arrivals.map((t) => t - dueMs));
}

/** Lateness figures from each arrival's own lateness (arrival minus that job's due time), in ms. */
export function latenessFrom(n: number, late: readonly number[]): Lateness {
  const last = late.length > 0 ? Math.max(...late) : Number.NaN;
  return {
    n,
    launched: late.length,
    first_ms: late.length > 0 ? round(Math.min(...late)) : Number.NaN,
    p50_ms: round(percentile(late, 50)),
    p99_ms: round(percentile(late, 99)),
    max_ms: round(last),
    all_launched_ms: late.length === n ? round(last) : Number.NaN,
    early: late.filter((l) => l < 0).length,
  };
}

/** How many arrivals fell in each 100 ms after the due time (a burst's shape). */
export function arrivalsPer100ms(late: readonly number[]): number[] {
  const timeline: number[] = [];
  for (const l of late) {
    const slot = Math.max(0, Math.floor(l / 100));
    while (timeline.length <= slot) timeline.push(0);
    timeline[slot]!++;
  }
  return timeline;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it holds or `timeoutMs` passes; answers whether it held. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(everyMs);
  }
  return predicate();
}

/** The start of the first whole second at least `aheadMs` from now. */
export function wholeSecondAfter(aheadMs: number): number {
  return Math.ceil((Date.now() + aheadMs) / 1000) * 1000;
}
