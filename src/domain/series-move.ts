// A series moved to another day no longer has the occurrences its bots were booked for, and no
// provider says which new occurrence replaced which old one (Google's instances are named by their
// original start, Graph's ids by their date: both change). Rollcall ties them by distance: the
// occurrence that took a vanished one's place is the nearest within half the series' usual
// spacing, so that a weekly series moved a day or two either way keeps each bot in its own week,
// and an occurrence that was only dropped (an EXDATE, a shortened series) has no replacement.

/**
 * The usual gap between a series' occurrences: the lower median of the positive gaps between
 * consecutive starts (one moved occurrence does not change it; of a series' two gaps, twice a week,
 * the shorter), or null with fewer than two distinct starts.
 */
export function usualSpacingMs(starts: readonly number[]): number | null {
  const sorted = [...starts].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((start, index) => start - sorted[index]!).filter((gap) => gap > 0).sort((a, b) => a - b);
  return gaps.length === 0 ? null : gaps[Math.floor((gaps.length - 1) / 2)]!;
}

/**
 * Of the candidate starts, the one that replaced an occurrence that started at vanishedMs: the
 * nearest less than half the spacing away (the earlier of two as near), or undefined.
 */
export function nearestReplacement(vanishedMs: number, candidates: Iterable<number>, spacingMs: number | null): number | undefined {
  if (spacingMs === null) return undefined;
  let best: number | undefined;
  for (const candidate of candidates) {
    const distance = Math.abs(candidate - vanishedMs);
    if (distance >= spacingMs / 2) continue;
    const bestDistance = best === undefined ? Infinity : Math.abs(best - vanishedMs);
    if (distance < bestDistance || (distance === bestDistance && candidate < best!)) best = candidate;
  }
  return best;
}
