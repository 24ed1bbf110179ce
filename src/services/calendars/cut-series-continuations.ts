// A series whose rule lost its tail in a sync, and a series that appeared in the same sync and
// carries on from there: "this and following events" (Google Calendar, or a feed) when the new
// series' id does not name the old one. Google's new series id did (`<id>_R<time>`,
// series-split.ts), but Google now makes the ids of instances of recurring events in a format to
// be treated as opaque (its notice of October 2025, quoted in phw198/OutlookGoogleCalendarSync
// issue 2205), so the tie is made as Outlook's split is (pickInstanceContinuation): the same
// meeting (link, or title and organizer, or a continuation of its UID), starting within half the
// old series' spacing of the first occurrence it lost. Reads rows only; the caller moves the links.
import type { EventRow } from '../../db/schema.ts';
import { hasRuleEnd, seriesCut } from '../../domain/series-cut.ts';
import { pickInstanceContinuation, type InstanceSeriesTraits } from '../../domain/series-split.ts';
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
export function findCutContinuations(changed: readonly RuleChange[], appeared: readonly EventRow[], nowMs: number, warnings: StoredZoneWarnings | null): CutContinuation[] {
  const candidates = appeared.filter(isLiveSeries).flatMap((row) => {
    const upcoming = unlessUnreadable(() => compiledSeriesOf(row, warnings).upcoming(nowMs, 2).occurrences.map((o) => o.startMs));
    return upcoming === null ? [] : [{ row, traits: traitsOf(row, upcoming) }];
  });
  const found: CutContinuation[] = [];
  for (const { before, after } of [...changed].sort((a, b) => (a.after.id < b.after.id ? -1 : a.after.id > b.after.id ? 1 : 0))) {
    if (candidates.length === 0) break;
    if (!isLiveSeries(after) || before.recurrence === null) continue;
    // A rule without an end lost no tail: looked at before compiling, as a sync may change thousands of series.
    if (!hasRuleEnd(JSON.parse(after.recurrence!) as string[])) continue;
    const cut = unlessUnreadable(() => seriesCut(() => compiledSeriesOf(before, warnings), compiledSeriesOf(after, warnings), nowMs));
    if (cut === null) continue;
    const lost = { ...traitsOf(after, cut.lostStartsMs), keptStartsMs: cut.keptStartsMs };
    const continuationId = pickInstanceContinuation(lost, candidates.map((c) => c.traits), cut.spacingMs);
    if (continuationId === null) continue;
    const index = candidates.findIndex((c) => c.row.id === continuationId);
    found.push({ base: after, continuation: candidates[index]!.row, splitMs: cut.lostStartsMs[0]! });
    candidates.splice(index, 1);
  }
  return found;
}

/**
 * `read`'s answer, or null when a stored series in it cannot be read at all (compileSeries' RangeError:
 * a zone this runtime no longer knows, a rule written by hand): that series is passed over, as it is
 * by the sync's other readers, rather than failing the search for every other series.
 */
function unlessUnreadable<T>(read: () => T): T | null {
  try {
    return read();
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
