// A series a calendar provider delivers only as expanded instances (Microsoft Graph): Rollcall
// stores no series row for it, only the instances, each carrying its master's id
// (events.provider_series_id). "The series" of such an instance is every stored instance of the
// same master in the same calendar connection, and that is what schedule_all_occurrences,
// recurring_event (chain mode), toggle-recurrence, cancel_all_occurrences and from_date address
// when the event named is one of them.
import { Temporal } from 'temporal-polyfill';
import { escapeLike } from '../lib/like-pattern.ts';
import { allDayZone } from './all-day.ts';
import { isValidTimeZone } from './recurrence.ts';

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
 * A slot an Outlook series has now: that of its plain occurrence written last (updated_at: a sync
 * writes a row only when Graph gives it changed; the later start among rows written together).
 * A plain occurrence's start is its slot, recorded again whenever it changes (instance_slots), so
 * this is the series' time of day and phase as Graph gave them last; a slot of an exception, or of
 * a row no sync has written since, may be from before a change of them. Null when none is known.
 */
export function currentSlotOf(
  instances: readonly { id: string; raw: unknown; updated_at: number | string; start_ms: number | string }[],
  slots: ReadonlyMap<string, number>,
): number | null {
  let newest: { at: number; startMs: number; id: string } | null = null;
  for (const row of instances) {
    if (!slots.has(row.id) || !isPlainOccurrence(row.raw)) continue;
    const [at, startMs] = [Number(row.updated_at), Number(row.start_ms)];
    if (newest === null || at > newest.at || (at === newest.at && startMs > newest.startMs)) newest = { at, startMs, id: row.id };
  }
  return newest === null ? null : slots.get(newest.id)!;
}

/**
 * Of a series' instances (their slots: see isPlainOccurrence), those that stand for the slots a
 * chain has served, each slot taken by one instance at most and each instance taking one slot at
 * most: an instance on the slot itself first, then, nearest pairs first (of two as near, the
 * earlier instance; of two on one slot, the smaller id), one less than half the series' spacing
 * away (the week, come under a new id when the series moved to another day or time by less than
 * that: series-move.ts ties such weeks the same way). So a week the series still has under its
 * own slot keeps that slot, and the next day's meeting of a series that meets several days a week
 * is not taken for it. Without a spacing, the same slot only.
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

/** An instance of a series whose slot is known: where it starts now, its slot, its rule then. */
export interface SlottedInstance {
  startMs: number;
  slotMs: number;
  /** The series' rule as Graph gave it when the instance was synced (series_rule); left out: the series'. */
  rule?: string | null;
}

/** The series an instance belongs to as likelySlotOf reads it: its rule (series_rule) and time zone. */
export interface SeriesRuleInZone {
  /** One RRULE line, the master's pattern (rruleOfGraphRecurrence); null when not known. */
  rule: string | null;
  /** The IANA zone the series' places are laid in (placesZoneOf); null when not known. */
  timeZone: string | null;
  /**
   * A slot the series has now: that of its plain occurrence synced last, whose start is its slot
   * as Graph gave it then; null when none is known. The rule does not tell the series' time of
   * day nor, every two weeks or more, which weeks it meets: this slot does.
   */
  currentSlotMs: number | null;
}

/**
 * The zone a series' places are laid in, from the row that carries its rule: the zone whose
 * midnights an all-day series' days are (allDayZone: UTC for Outlook's, which Graph gives as UTC
 * midnights whatever zone is asked for), else the series' own.
 */
export function placesZoneOf(row: { is_all_day: boolean; platform: string | null; timezone: string | null }): string | null {
  return allDayZone(row) ?? row.timezone;
}

/**
 * The slot an instance most likely has whose slot is not known (Graph listed it moved the first
 * time, an exception, and gives no original start), or null when it cannot be told.
 *
 * The series' rule lays out its places, and only a rule that meets once a period does so for
 * sure: daily, or weekly on one day of the week, every `interval` days or weeks. Any other rule
 * (several days a week, monthly, yearly, one not known) gets no guess. The rule tells neither the
 * time of day nor, every two periods or more, the phase: the places are the series' current slot
 * (currentSlotMs) moved by whole periods in the series' zone (so a change of UTC offset moves them
 * as it moves the meeting), and the known slot next to the start, the one on its other side (or,
 * before the first known slot or after the last, the next one beyond), must be places too: a
 * slot taken at another time of day or in another phase (the series changed since) tells
 * nothing, and neither does one taken under a rule that lays other places (another frequency,
 * interval or day; only its end may differ). The places are laid from a slot on a day of 24
 * hours: on a day the clocks change, a slot may have been moved off the series' time of day (a
 * time the clocks skip is held as far later as they jump), which the days after do not keep.
 *
 * A place no known slot holds is free: a week moved from its slot leaves it so, and so do a week
 * the organizer cancelled (Outlook deletes it) and one not listed yet, which nothing tells apart.
 * So a place is taken only where it alone fits: between the known slots on either side of the
 * start, the one free place there, less than a spacing (interval days or weeks) from the start;
 * before the first known slot or after the last, the one free place less than a spacing from the
 * start, which, a spacing or more from that known slot, is only so when the start sits on a place.
 *
 * The known slots on either side must be those of the instances that start on either side: an
 * instance moved across the start (its slot on one side, its start on the other; Outlook lets an
 * occurrence be moved past another's place once that other has moved away) leaves it unclear
 * which gap the instance came from, and none is guessed.
 *
 * Its cost does not grow with the distance to the known slots: a few moves of a date by whole
 * periods, each one Temporal step.
 */
export function likelySlotOf(startMs: number, known: readonly SlottedInstance[], series: SeriesRuleInZone): number | null {
  const grid = gridOf(series.rule);
  const { timeZone, currentSlotMs: current } = series;
  if (grid === null || timeZone === null || current === null || !isValidTimeZone(timeZone) || known.length === 0) return null;
  if (known.some((i) => (i.slotMs <= startMs) !== (i.startMs <= startMs))) return null;
  const spacing = grid.interval * (grid.unit === 'weeks' ? WEEK_MS : DAY_MS);
  const slots = [...new Set(known.map((i) => i.slotMs))].sort((a, b) => a - b);
  const afterIndex = slots.findIndex((slot) => slot > startMs);
  const before = afterIndex === -1 ? slots.at(-1) : afterIndex === 0 ? undefined : slots[afterIndex - 1];
  const after = afterIndex === -1 ? undefined : slots[afterIndex];
  // A gap between known slots of more than two spacings and a half holds two free places or more.
  if (before !== undefined && after !== undefined && after - before > 2.5 * spacing) return null;
  // A slot taken under a rule that lays other places (another frequency, interval or day; its end,
  // COUNT or UNTIL, may have changed since) tells nothing of the series' places now.
  const sameGrid = (rule: string | null) => {
    const other = gridOf(rule);
    return other !== null && other.unit === grid.unit && other.interval === grid.interval && other.day === grid.day;
  };
  const underOtherRule = (slot: number | undefined) => slot !== undefined
    && known.some((i) => i.slotMs === slot && i.rule !== undefined && !sameGrid(i.rule));
  if (underOtherRule(before) || underOtherRule(after)) return null;
  const neighbour = (before ?? after)!;
  // Before the first known slot or after the last: the next known slot beyond the one next to the start.
  const beyond = after === undefined ? slots.at(-2) : before === undefined ? slots[1] : after;
  try {
    // The places are laid from the current slot, or else the neighbour, on a day of 24 hours.
    let origin: Temporal.ZonedDateTime | undefined;
    for (const ms of current === neighbour ? [current] : [current, neighbour]) {
      const slot = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone);
      if (slot.hoursInDay === 24) { origin = slot; break; }
    }
    if (origin === undefined || (grid.day !== undefined && origin.dayOfWeek !== grid.day)) return null;
    const laid = new Map<number, number>([[0, origin.epochMilliseconds]]);
    const laidAt = (periods: number) => {
      if (!laid.has(periods)) laid.set(periods, origin.add({ [grid.unit]: grid.interval * periods }).epochMilliseconds);
      return laid.get(periods)!;
    };
    const periodsFrom = (fromMs: number, ms: number) => Math.round((ms - fromMs) / spacing);
    const isPlace = (ms: number) => laidAt(periodsFrom(origin.epochMilliseconds, ms)) === ms;
    if (!isPlace(current) || !isPlace(neighbour) || (beyond !== undefined && !isPlace(beyond))) return null;
    // Counted from the neighbour: place(0) is the neighbour, place(1) the place after it.
    const base = periodsFrom(origin.epochMilliseconds, neighbour);
    const place = (periods: number) => laidAt(base + periods);
    const periodsTo = (ms: number) => periodsFrom(neighbour, ms);
    // The free places: between known slots, all those of the gap; on the open side, those around
    // the start (the others are further than a spacing from it).
    const near = periodsTo(startMs);
    const free = before !== undefined && after !== undefined
      ? Array.from({ length: Math.max(0, periodsTo(after) - 1) }, (_, i) => i + 1)
      : [near - 1, near, near + 1].filter((n) => after === undefined ? n > 0 : n < 0);
    // Less than a spacing from the start: the start lies between the places on either side of it
    // (a spacing in the zone's time, a day of 23 or 25 hours across a change of UTC offset).
    const fit = free.filter((n) => place(n - 1) < startMs && startMs < place(n + 1));
    return (before !== undefined && after !== undefined ? free : fit).length === 1 && fit.length === 1 ? place(fit[0]!) : null;
  } catch (error) {
    // A date out of Temporal's range (an interval of millions of weeks): no place to take.
    if (error instanceof RangeError) return null;
    throw error;
  }
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** A rule that meets once a period: daily, or weekly on one day (its ISO number, Monday 1). */
interface OncePerPeriod {
  unit: 'days' | 'weeks';
  interval: number;
  day?: number;
}

/** The rule read as one that meets once a period, or null for any other (or none). */
function gridOf(rule: string | null): OncePerPeriod | null {
  const match = rule === null ? null : /^RRULE:(.*)$/i.exec(rule.trim());
  if (!match) return null;
  const parts = new Map<string, string>();
  for (const part of match[1]!.split(';')) {
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || rest.length > 0 || parts.has(key.toUpperCase())) return null;
    parts.set(key.toUpperCase(), value.toUpperCase());
  }
  for (const key of parts.keys()) if (!['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'WKST'].includes(key)) return null;
  const freq = parts.get('FREQ');
  const interval = parts.has('INTERVAL') ? Number(parts.get('INTERVAL')) : 1;
  if (!/^\d+$/.test(parts.get('INTERVAL') ?? '1') || !Number.isSafeInteger(interval) || interval < 1) return null;
  if (freq === 'DAILY' && !parts.has('BYDAY')) return { unit: 'days', interval };
  const day = WEEKDAYS.indexOf(parts.get('BYDAY') ?? '');
  if (freq !== 'WEEKLY' || day === -1) return null;
  return { unit: 'weeks', interval, day: day + 1 };
}

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
