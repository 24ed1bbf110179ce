// A series whose rule lost its tail in a sync, and a series that appeared in the same sync and
// carries on from there: "this and following events" (Google Calendar, or a feed) when the new
// series' id does not name the old one. Google's new series id did (`<id>_R<time>`,
// series-split.ts), but Google now makes the ids of instances of recurring events in a format to
// be treated as opaque (its notice of October 2025, quoted in phw198/OutlookGoogleCalendarSync
// issue 2205), so the tie is made as Outlook's split is (pickInstanceContinuation): the same
// meeting (link, or title and organizer, or a continuation of its UID), starting within half the
// old series' spacing of the first occurrence it lost. Reads rows only; the caller moves the links.
import type { EventRow } from '../../db/schema.ts';
import { hasRuleEnd, seriesCutSteps } from '../../domain/series-cut.ts';
import { pickInstanceContinuation, type InstanceSeriesTraits } from '../../domain/series-split.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';
import { paceSteps } from '../../lib/steps.ts';
import { compiledSeriesOf, storedIcalUid, type StoredZoneWarnings } from './calendar-events.ts';
import { organizerOf } from './instance-moves.ts';

/** A stored series as it was before the sync, and as it is now. */
export interface RuleChange {
  before: EventRow;
  after: EventRow;
}

export interface CutContinuation {
  base: EventRow;
  continuation: EventRow;
  /** The original start of the first occurrence the old series lost. */
  splitMs: number;
}

/**
 * The continuation of each series cut in this sync (`changed`), among the series new in it
 * (`appeared`). Each new series continues at most one old series, so that no occurrence receives
 * the bots of two; old series are taken in id order, so the answer does not depend on the sync's.
 * Stored zone rules that cannot be read are reported to `warnings`.
 */
export async function findCutContinuations(changed: readonly RuleChange[], appeared: readonly EventRow[], nowMs: number, warnings: StoredZoneWarnings | null, pacer = new EventLoopPacer()): Promise<CutContinuation[]> {
  const candidates = appeared.filter(isLiveSeries).map((row) => new Candidate(row, nowMs, warnings));
  const found: CutContinuation[] = [];
  for (const { before, after } of [...changed].sort((a, b) => (a.after.id < b.after.id ? -1 : a.after.id > b.after.id ? 1 : 0))) {
    if (candidates.length === 0) break;
    if (!isLiveSeries(after) || before.recurrence === null) continue;
    // A rule without an end lost no tail: looked at before compiling, as a sync may change thousands of series.
    if (!hasRuleEnd(JSON.parse(after.recurrence!) as string[])) continue;
    const cut = await unlessUnreadableSteps(() => seriesCutSteps(() => compiledSeriesOf(before, warnings), compiledSeriesOf(after, warnings), nowMs), pacer);
    if (cut === null || cut.spacingMs === null) continue;
    const lost = { ...traitsOf(after, cut.lostStartsMs), keptStartsMs: cut.keptStartsMs };
    // A continuation's first occurrence lies within half the spacing of the first lost one, so
    // none is looked for past that (a series whose next decades are all removed by EXDATE values
    // would otherwise be searched to the 10,000-instance cap).
    const reachMs = Math.min(...cut.lostStartsMs) + cut.spacingMs / 2;
    const traits: InstanceSeriesTraits[] = [];
    for (const candidate of candidates) {
      const found = await candidate.traitsBefore(reachMs, pacer);
      if (found) traits.push(found);
    }
    const continuationId = pickInstanceContinuation(lost, traits, cut.spacingMs);
    if (continuationId === null) continue;
    const index = candidates.findIndex((c) => c.row.id === continuationId);
    found.push({ base: after, continuation: candidates[index]!.row, splitMs: cut.lostStartsMs[0]! });
    candidates.splice(index, 1);
  }
  return found;
}

/**
 * A series that appeared in the sync, with its first occurrences not ended at `nowMs` (at most two)
 * as far as a cut has asked: what it found is kept, so that several cuts search each series once
 * for each farther reach.
 */
class Candidate {
  readonly row: EventRow;
  readonly #nowMs: number;
  readonly #warnings: StoredZoneWarnings | null;
  #startsMs: number[] = [];
  #searchedToMs = Number.NEGATIVE_INFINITY;
  #isUnreadable = false;

  constructor(row: EventRow, nowMs: number, warnings: StoredZoneWarnings | null) {
    this.row = row;
    this.#nowMs = nowMs;
    this.#warnings = warnings;
  }

  /** Its traits with its first occurrences that start before `reachMs` (none when the first starts later), or null when it cannot be read. */
  async traitsBefore(reachMs: number, pacer: EventLoopPacer): Promise<InstanceSeriesTraits | null> {
    if (this.#isUnreadable) return null;
    if (this.#startsMs.length === 0 && reachMs > this.#searchedToMs) {
      const found = await unlessUnreadableSteps(() => compiledSeriesOf(this.row, this.#warnings).upcomingSteps(this.#nowMs, 2, { beforeMs: reachMs }), pacer);
      const starts = found === null ? null : found.occurrences.map((o) => o.startMs);
      if (starts === null) {
        this.#isUnreadable = true;
        return null;
      }
      this.#startsMs = starts;
      this.#searchedToMs = reachMs;
    }
    return traitsOf(this.row, this.#startsMs.filter((start) => start < reachMs));
  }
}

/**
 * `read`'s steps run to their answer, or null when a stored series in it cannot be read at all (compileSeries' RangeError:
 * a zone this runtime no longer knows, a rule written by hand): that series is passed over, as it is
 * by the sync's other readers, rather than failing the search for every other series.
 */
async function unlessUnreadableSteps<T>(read: () => Generator<void, T>, pacer: EventLoopPacer): Promise<T | null> {
  try {
    return await paceSteps(read(), pacer);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

function isLiveSeries(row: EventRow): boolean {
  return row.is_deleted === 0 && row.recurrence !== null && row.status !== 'cancelled';
}

function traitsOf(row: EventRow, startsMs: number[]): InstanceSeriesTraits {
  return { seriesId: row.id, startsMs, meetingIdentity: row.meeting_identity, title: row.title, organizer: organizerOf(row.raw), icalUid: storedIcalUid(row) };
}
