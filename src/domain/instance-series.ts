// A series a calendar provider delivers only as expanded instances (Microsoft Graph): Rollcall
// stores no series row for it, only the instances, each carrying its master's id
// (events.provider_series_id). "The series" of such an instance is every stored instance of the
// same master in the same calendar connection, and that is what schedule_all_occurrences,
// recurring_event (chain mode), toggle-recurrence, cancel_all_occurrences and from_date address
// when the event named is one of them.
import { Temporal } from 'temporal-polyfill';
import { escapeLike } from '../lib/like-pattern.ts';
import { usualSpacingMs } from './series-move.ts';

export interface InstanceSeries {
  /** The calendar connection the instances were synced from. */
  calendarId: string;
  /** The provider's id of the series master. */
  providerSeriesId: string;
}

/** What an instance series' id starts with. */
export const INSTANCE_SERIES_PREFIX = 'instances:';
const PREFIX = INSTANCE_SERIES_PREFIX;

/** The instance series an event belongs to, or null (not a provider instance, or a series of Rollcall's own). */
export function instanceSeriesOf(event: { calendar_id: string | null; provider_series_id: string | null; recurrence: string | null }): InstanceSeries | null {
  if (event.calendar_id === null || event.provider_series_id === null || event.recurrence !== null) return null;
  return { calendarId: event.calendar_id, providerSeriesId: event.provider_series_id };
}

/**
 * The id a batch of an instance series is recorded under (series_bookings.series_event_id), where a
 * series row's id would be: `instances:<connection id>:<master id>`. Connection ids are `cal_`
 * followed by letters and digits, so the first colon after the prefix ends it.
 */
export function instanceSeriesId(series: InstanceSeries): string {
  return `${PREFIX}${series.calendarId}:${series.providerSeriesId}`;
}

/** A LIKE pattern for the ids of every instance series of one connection (its id escaped, `\\` the escape character). */
export function instanceSeriesPattern(calendarId: string): string {
  return `${PREFIX}${escapeLike(calendarId)}:%`;
}

/**
 * Where a chain over an instance series stands (recurring_chains.current_occurrence_key): the
 * instance booked and its start when it was booked. The start keeps the chain's place when the
 * instance later moves or is deleted (Outlook cancels an occurrence by deleting it).
 */
export function instanceChainPosition(instance: { id: string; start_ms: number }): string {
  return `${instance.start_ms}:${instance.id}`;
}

export function parseInstanceChainPosition(position: string | null): { instanceId: string; startMs: number } | null {
  const match = position === null ? null : /^(-?\d+):(.+)$/.exec(position);
  return match ? { startMs: Number(match[1]), instanceId: match[2]! } : null;
}

/**
 * Whether a stored instance's payload is one Graph marks as an exception of its series (`type`:
 * an occurrence moved or edited, keeping its id). Changing a series' times cancels its exceptions
 * (Outlook says so before it saves), so an instance that came under a new id, or came back under
 * an old one, when the series moved to another day is a plain occurrence.
 */
export function isStoredException(raw: string): boolean {
  try {
    const payload = JSON.parse(raw) as { type?: unknown } | null;
    return payload?.type === 'exception';
  } catch {
    return false;
  }
}

/**
 * Whether an instance's payload (as fetched, or as stored: JSON) is one Graph lists as a plain
 * occurrence of its series (`type`: occurrence), at the place its series' pattern gives it: its
 * start then is its slot in the series (instance_slots), which an exception made of it keeps.
 */
export function isPlainOccurrence(raw: unknown): boolean {
  try {
    const payload = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { type?: unknown } | null;
    return payload?.type === 'occurrence';
  } catch {
    return false;
  }
}

/**
 * Of a series' instances (their slots: see isPlainOccurrence), those that stand for the slots a
 * chain has served, each slot taken by one instance at most and each instance taking one slot at
 * most: an instance on the slot itself first, then, nearest pairs first (of two as near, the
 * earlier instance; of two on one slot, the smaller id), one less than half the series' spacing
 * away (the week, come under a new id when the series moved to another day or time by less than
 * that: series-move.ts ties such weeks the same way). So a week the series still has under its own slot keeps that slot, and the next
 * day's meeting of a series that meets several days a week is not taken for it. Without a
 * spacing, the same slot only.
 */
export function claimServedSlots(instances: readonly { id: string; slotMs: number }[], servedSlots: readonly number[], spacingMs: number | null): Set<string> {
  const pairs: { id: string; slotMs: number; served: number; distance: number }[] = [];
  for (const instance of instances) {
    for (const served of new Set(servedSlots)) {
      const distance = Math.abs(instance.slotMs - served);
      if (distance === 0 || (spacingMs !== null && distance < spacingMs / 2)) pairs.push({ ...instance, served, distance });
    }
  }
  pairs.sort((a, b) => a.distance - b.distance || a.slotMs - b.slotMs || a.served - b.served || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const claimed = new Set<string>();
  const taken = new Set<number>();
  for (const pair of pairs) {
    if (claimed.has(pair.id) || taken.has(pair.served)) continue;
    claimed.add(pair.id);
    taken.add(pair.served);
  }
  return claimed;
}

/**
 * The slot an instance most likely has whose slot is not known (Graph listed it moved the first
 * time, an exception, and gives no original start), or null when it cannot be told.
 *
 * The known slots' usual spacing (their median gap) lays out the places the series meets at: a
 * gap between two known slots that rounds to n spacings (so at least 1.5 of them) leaves n - 1
 * places free in it, one spacing apart, and one place lies free a spacing before the first known
 * slot and one a spacing after the last. A week moved from its slot leaves that place free; so
 * does a week the organizer cancelled (Outlook deletes it) and one not listed yet, and the guess
 * cannot tell these apart. So it guesses only where one place alone fits: the free places in the
 * gap between the known slots on either side of the instance's start (Outlook does not let an
 * occurrence be moved past another of its series), if that gap holds exactly one, less than a
 * spacing from the start; before the first known slot or after the last, the one place less than
 * a spacing from the start, if it is alone. A week next to a cancelled one, whose gap holds two
 * places, gets none, whichever of the two is nearer: taking the cancelled week's place for it
 * would leave that week, listed later or brought back by a move of the series, with no bot.
 *
 * None either when a gap is not a whole number of spacings give or take an hour (an hour covers a
 * change of the UTC offset between two slots): the slots are not one spacing's multiples, as with
 * a series that meets on several days a week (Monday, Wednesday and Friday; Tuesday and Thursday)
 * or monthly, whose places the spacing would put on days with no meeting.
 */
export function likelySlotOf(startMs: number, knownSlots: readonly number[]): number | null {
  const sorted = [...new Set(knownSlots)].sort((a, b) => a - b);
  const spacing = usualSpacingMs(sorted);
  if (spacing === null) return null;
  const steps = sorted.slice(1).map((slot, i) => Math.round((slot - sorted[i]!) / spacing));
  if (sorted.slice(1).some((slot, i) => Math.abs(slot - sorted[i]! - steps[i]! * spacing) > SPACING_SLACK_MS)) return null;
  // The gap the start lies in: after the known slot at index `after` (-1: before the first).
  const after = sorted.findLastIndex((slot) => slot <= startMs);
  // Before the first known slot or after the last the gap has no end (weeks out there may not be
  // listed yet): its places less than a spacing from the start stand for it, two at most.
  const free: number[] = [];
  if (after === -1) {
    for (let place = sorted[0]! - spacing; place > startMs - spacing && free.length < 2; place -= spacing) free.push(place);
  } else if (after === sorted.length - 1) {
    for (let place = sorted[after]! + spacing; place < startMs + spacing && free.length < 2; place += spacing) free.push(place);
  } else {
    for (let step = 1; step < steps[after]!; step++) free.push(sorted[after]! + step * spacing);
  }
  return free.length === 1 && Math.abs(free[0]! - startMs) < spacing ? free[0]! : null;
}

/** How far from a whole number of spacings a gap between two slots may be: a change of UTC offset. */
const SPACING_SLACK_MS = 3_600_000;

export function parseInstanceSeriesId(id: string): InstanceSeries | null {
  if (!id.startsWith(PREFIX)) return null;
  const rest = id.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1) return null;
  return { calendarId: rest.slice(0, colon), providerSeriesId: rest.slice(colon + 1) };
}

/**
 * The instance an occurrence_date names among a series' instances (in start order): the one that
 * starts at that instant, or the first that starts on that local date in `zone` and has not ended
 * at `nowMs` (then the first that has), a cancelled one (kept on attendees' calendars) only when
 * the day has no other. Graph gives no original start (microsoft-graph-docs issue 4353), so an
 * instance is named where it is now.
 */
export function findInstanceOn<T extends { start_ms: number; end_ms: number; status: string }>(instances: readonly T[], on: { instantMs: number } | { isoDate: string }, zone: string, nowMs: number): T | undefined {
  const named = instances.filter('instantMs' in on
    ? (i) => i.start_ms === on.instantMs
    : (i) => Temporal.Instant.fromEpochMilliseconds(i.start_ms).toZonedDateTimeISO(zone).toPlainDate().toString() === on.isoDate);
  const going = named.filter((i) => i.status !== 'cancelled');
  return going.find((i) => i.end_ms > nowMs) ?? going[0] ?? named[0];
}
