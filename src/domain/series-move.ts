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

/** An override of one occurrence (a moved, changed or cancelled one), as re-anchoring sees it. */
export interface AnchoredOverride {
  id: string;
  originalStartMs: number;
}

/** A series' rule after a change of its time or rule, as re-anchoring asks it. */
export interface RuleAfterChange {
  /** The changed rule has an occurrence with this original start. */
  has(originalStartMs: number): boolean;
  /** The rule before the change had one: an occurrence that was there already is no other's replacement. */
  hadBefore(originalStartMs: number): boolean;
  /**
   * The occurrence of the changed rule that took the place of one it no longer has, among those
   * `isFree` accepts: the first on the same local day, else the nearest within half the series'
   * usual spacing (nearestReplacement); undefined when none.
   */
  replacementFor(originalStartMs: number, isFree: (originalStartMs: number) => boolean): number | undefined;
}

/**
 * Where the overrides of a series go when its time or rule changes: the new original start of
 * each (by override id), or null when its occurrence is gone (dropped by the change, or its
 * replacement cannot be told). An override whose occurrence the rule still has stays; one whose
 * occurrence vanished takes that occurrence's replacement, which must be new to the rule and held
 * by no other override (one override per occurrence). Those that stay hold their occurrences
 * first; the others choose in the order of their old original starts.
 */
export function reanchorOverrides(overrides: readonly AnchoredOverride[], rule: RuleAfterChange): Map<string, number | null> {
  const result = new Map<string, number | null>();
  const held = new Set<number>();
  const vanished: AnchoredOverride[] = [];
  for (const override of overrides) {
    if (rule.has(override.originalStartMs) && !held.has(override.originalStartMs)) {
      result.set(override.id, override.originalStartMs);
      held.add(override.originalStartMs);
    } else {
      vanished.push(override);
    }
  }
  vanished.sort((a, b) => a.originalStartMs - b.originalStartMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const override of vanished) {
    const replacement = rule.replacementFor(override.originalStartMs, (start) => !held.has(start) && !rule.hadBefore(start));
    if (replacement === undefined) {
      result.set(override.id, null);
      continue;
    }
    result.set(override.id, replacement);
    held.add(replacement);
  }
  return result;
}

export interface TimeSpan {
  startMs: number;
  endMs: number;
}

/**
 * The times of an override whose series changed its time: an override that kept its
 * occurrence's times (one that only changed the title, or cancelled it) takes the times of the
 * occurrence it now stands for; one that gave a time of its own (a moved occurrence) keeps it.
 * `before` is its occurrence as the rule had it before the change (null when it had none).
 */
export function overrideTimesAfterChange(override: TimeSpan, before: TimeSpan | null, after: TimeSpan): TimeSpan {
  const keptRuleTimes = before !== null && override.startMs === before.startMs && override.endMs === before.endMs;
  return keptRuleTimes ? { startMs: after.startMs, endMs: after.endMs } : { startMs: override.startMs, endMs: override.endMs };
}
