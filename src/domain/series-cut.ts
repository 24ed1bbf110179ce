// What a change of a series' rule took from its end. "This and following events" in Google
// Calendar ends the old series (its rule gets an UNTIL: the old series "finished before" the
// edited occurrence, phw198/OutlookGoogleCalendarSync issue 2253; odoo/odoo PR 172103 logs the
// old rule's UNTIL moved earlier) and puts the rest in a new series. A feed does the same. The
// new series' id used to name the old one (series-split.ts, parseSplitId); since Google's event
// ids became opaque (phw198/OutlookGoogleCalendarSync issue 2205) only this is left to see: one
// series lost its tail while another appeared.
import { CompiledSeries, compileSeries, type SeriesDefinition } from './recurrence.ts';
import { usualSpacingMs } from './series-move.ts';
import { SERIES_HORIZON_MS } from './series-horizon.ts';
import { finishSteps } from '../lib/steps.ts';

export interface SeriesCut {
  /** Starts of the first occurrences (a few) the old rule had after the new rule's last one, not ended at `fromMs`. */
  lostStartsMs: number[];
  /** Starts of the occurrences the new rule still has, not ended at `fromMs`. */
  keptStartsMs: number[];
  /** The old rule's usual spacing near the first lost occurrence; null when it has too few occurrences to tell. */
  spacingMs: number | null;
}

/** How many lost occurrences are named: enough to place the cut and tell the spacing. */
const LOST_SAMPLE = 8;
/**
 * A new rule with this many occurrences still to come is not looked at further: a cut that far
 * ahead (three years of a daily series) leaves nothing booked to follow now. It also bounds the
 * cost of an UNTIL or COUNT rule that was only edited, not cut. So does the horizon
 * (SERIES_HORIZON_MS): a new rule that goes on past it is no cut either, and the occurrences on
 * either side of a cut are looked for within it, so that a rule whose next decades are all removed
 * by EXDATE values is not searched to the 10,000-instance cap.
 */
const KEPT_LIMIT = 1000;
/** How far either side of the cut the old rule is sampled for its spacing, and at most how many of its occurrences. */
const SPACING_REACH_MS = 400 * 86_400_000;
const SPACING_SAMPLE = 64;

/**
 * The occurrences a rule change took from the series' end, or null when it took none: the new
 * rule ends (an UNTIL or a COUNT) and the old one had occurrences after the new one's last that
 * have not ended at `fromMs`, while keeping the occurrences before them as they were. A change
 * that only dropped occurrences in the middle, or moved the series to other times or days, is no
 * cut.
 */
export function seriesCut(before: SeriesDefinition | CompiledSeries | (() => CompiledSeries), after: SeriesDefinition | CompiledSeries, fromMs: number): SeriesCut | null {
  return finishSteps(seriesCutSteps(before, after, fromMs));
}

/** seriesCut() as bounded steps (CompiledSeries.upcomingSteps), for a caller that gives the event loop turns between them. */
export function* seriesCutSteps(before: SeriesDefinition | CompiledSeries | (() => CompiledSeries), after: SeriesDefinition | CompiledSeries, fromMs: number): Generator<void, SeriesCut | null> {
  if (!hasRuleEnd(definitionOf(after).recurrence)) return null;
  const horizonMs = fromMs + SERIES_HORIZON_MS;
  const newer = compiled(after);
  const kept = yield* newer.upcomingSteps(fromMs, KEPT_LIMIT, { beforeMs: horizonMs });
  if (kept.isTruncated || kept.occurrences.length >= KEPT_LIMIT) return null;
  // Every occurrence of the new rule ends by the horizon (the search above then had all of them),
  // or the rule reaches past it, or its end is not known without counting it out: no cut then.
  const newEndMs = newer.countedLastEndMs();
  if (newEndMs === null || newEndMs > horizonMs) return null;
  const lastKeptMs = kept.occurrences.at(-1)?.originalStartMs ?? Number.NEGATIVE_INFINITY;
  const old = compiled(before);
  // A cut keeps the old rule's occurrences as they were; a series moved to other days or times
  // (whose last occurrence may now come before the old last one) keeps none of them. The last
  // two tell, without asking about each. A COUNT rule is counted from its start up to them first,
  // in steps (find() would count it in one go).
  yield* old.walkUntil(lastKeptMs + 1);
  if (kept.occurrences.slice(-2).some((o) => old.find(o.originalStartMs) === null)) return null;
  // Only the first lost occurrence places the cut; past the horizon it is no cut.
  const lost = (yield* old.upcomingSteps(fromMs, kept.occurrences.length + LOST_SAMPLE, { beforeMs: horizonMs })).occurrences
    .filter((o) => o.originalStartMs > lastKeptMs).slice(0, LOST_SAMPLE);
  if (lost.length === 0) return null;
  const firstLostMs = lost[0]!.originalStartMs;
  const sampleStartsMs: number[] = [];
  for (const occurrence of old.overlappingInSteps({ fromMs: firstLostMs - SPACING_REACH_MS, toMs: firstLostMs + SPACING_REACH_MS })) {
    if (occurrence === null) {
      yield;
      continue;
    }
    sampleStartsMs.push(occurrence.startMs);
    if (sampleStartsMs.length >= SPACING_SAMPLE) break;
  }
  return {
    lostStartsMs: lost.map((o) => o.startMs),
    keptStartsMs: kept.occurrences.map((o) => o.startMs),
    spacingMs: usualSpacingMs(sampleStartsMs),
  };
}

/** A series as given, compiled once (a series compiled already, or compiled when first asked for, is not compiled again). */
function compiled(series: SeriesDefinition | CompiledSeries | (() => CompiledSeries)): CompiledSeries {
  if (typeof series === 'function') return series();
  return series instanceof CompiledSeries ? series : compileSeries(series);
}

function definitionOf(series: SeriesDefinition | CompiledSeries): SeriesDefinition {
  return series instanceof CompiledSeries ? series.definition : series;
}

/** Whether a series' rule has an end of its own (UNTIL or COUNT on an RRULE line). */
export function hasRuleEnd(recurrence: readonly string[]): boolean {
  return recurrence.some((line) => /^RRULE[:;]/i.test(line) && /[:;](UNTIL|COUNT)=/i.test(line));
}
