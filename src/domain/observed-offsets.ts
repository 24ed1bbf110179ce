// A time zone read from its own VTIMEZONE rules (RFC 5545 3.6.5), for a TZID that no IANA zone
// matches: Outlook's "Customized Time Zone", or a feed whose zone rules have since changed.
//
// A VTIMEZONE is a list of observances (STANDARD and DAYLIGHT sub-components). Each has an onset
// (DTSTART, a local time read with the offset in use before it, TZOFFSETFROM), repeated by a yearly
// RRULE or listed by RDATE, and the offset in use from then on (TZOFFSETTO). The offset at an
// instant is therefore the TZOFFSETTO of the observance whose onset came last at or before it;
// before every onset, the TZOFFSETFROM of the first. A local time is turned into an instant as
// RFC 5545 3.3.5 says: a time the clocks skip (the gap of a spring-forward night) is read with the
// offset in use before the gap, and a time they repeat (an autumn night) names its first occurrence.
//
// Work is bounded: only yearly rules are accepted (observanceRuleIsYearly), onsets are generated a
// year at a time and only for the years asked about, and a bounded number of years is remembered.
// A rule that ends (COUNT or UNTIL) is walked once, from its DTSTART, when the zone is read: its
// onsets are kept, and all such rules of a zone share one budget (ZONE_ONSETS_WALKED), past which
// the zone cannot be read by its rules (the constructor throws).
import { expandSeries } from './recurrence.ts';

export interface ObservanceRule {
  /** DTSTART: the local time written, as if it were UTC (rules are expanded that way). */
  wallStartMs: number;
  /** TZOFFSETFROM, in milliseconds: in use before the onset, and the offset the onset is read in. */
  offsetFromMs: number;
  /** TZOFFSETTO, in milliseconds: in use from the onset on. */
  offsetToMs: number;
  /** The RRULE value (without "RRULE:"), a yearly rule, or null. */
  rrule: string | null;
  /** RDATE values, local times as if UTC (a UTC RDATE given as its instant plus TZOFFSETFROM). */
  rdatesWallMs: number[];
}

/**
 * The rules a real VTIMEZONE observance uses: yearly, on a month and a (nth) weekday or a few
 * month days. Anything else (a SECONDLY rule, every BYxxx part listed in full) is not a time-zone
 * rule and could cost seconds to expand.
 */
const YEARLY_RULE = /^FREQ=YEARLY(;(BYMONTH=\d{1,2}|BYDAY=[+-]?\d?(MO|TU|WE|TH|FR|SA|SU)|BYMONTHDAY=[+-]?\d{1,2}(,[+-]?\d{1,2}){0,6}|UNTIL=\d{8}(T\d{6}Z?)?|COUNT=\d{1,4}|INTERVAL=1|WKST=(MO|SU)))*;?$/i;

export function observanceRuleIsYearly(rrule: string): boolean {
  return YEARLY_RULE.test(rrule);
}

const DAY_MS = 86_400_000;
/** An offset is less than a day either way (RFC 5545's utc-offset allows 99 hours; no zone uses more than 14). */
const MAX_OFFSET_MS = DAY_MS - 1;
/** Years whose onsets are remembered; a lookup far from them computes again. */
const YEARS_KEPT = 64;
/** Onsets generated for one rule and one year (a yearly rule with a few BYMONTHDAY values has up to 7). */
const ONSETS_PER_YEAR = 16;
/**
 * Onsets walked, over all the rules of one zone that end (COUNT or UNTIL), from their DTSTART. A
 * real zone has a few such rules of tens of onsets (two of about 400 when written from 1601); a made-up one
 * of a hundred rules of thousands of onsets each held the event loop for seconds.
 */
export const ZONE_ONSETS_WALKED = 1_000;
/** Observances of one zone (the parser reads no more: IcsLimits.maxObservances). */
export const MAX_OBSERVANCES = 100;
/** RDATE onsets over all the observances of one zone (the parser reads no more). */
export const MAX_RDATES = 1_000;
/** A yearly time-zone rule is a few tens of characters; one longer is not a real zone's. */
const MAX_RULE_CHARS = 256;
/**
 * The longest stored zone text read: MAX_OBSERVANCES observances of three numbers and a rule of
 * MAX_RULE_CHARS, and MAX_RDATES onsets, come to about 48,000 characters. A longer text is not a
 * zone observancesText wrote, and is refused before it is parsed or kept.
 */
export const MAX_ZONE_TEXT_CHARS = 65_536;

interface Change {
  onsetMs: number;
  offsetMs: number;
}

/** Why observances cannot be read as a zone; null when they can. */
export function observancesProblem(observances: readonly ObservanceRule[]): string | null {
  if (observances.length === 0) return 'it has no STANDARD or DAYLIGHT observance with a DTSTART';
  if (observances.length > MAX_OBSERVANCES) return `it has more than ${MAX_OBSERVANCES} observances`;
  if (observances.reduce((sum, o) => sum + o.rdatesWallMs.length, 0) > MAX_RDATES) return `its observances list more than ${MAX_RDATES} RDATE onsets`;
  for (const o of observances) {
    // Whole milliseconds only: a fraction reaches the calendar library as an instant it refuses.
    if (!Number.isSafeInteger(o.offsetFromMs) || !Number.isSafeInteger(o.offsetToMs)) return 'an offset is not a whole number of milliseconds';
    if (Math.abs(o.offsetFromMs) > MAX_OFFSET_MS || Math.abs(o.offsetToMs) > MAX_OFFSET_MS) return 'an offset is a day or more';
    if (o.rrule !== null && (o.rrule.length > MAX_RULE_CHARS || !observanceRuleIsYearly(o.rrule))) return `the rule "${o.rrule.slice(0, 80)}" is not a yearly time-zone rule`;
    if (![o.wallStartMs, ...o.rdatesWallMs].every((wall) => Number.isSafeInteger(wall) && wall >= MIN_WALL_MS && wall <= MAX_WALL_MS)) return 'an onset is not a date-time of years 0000-9999';
  }
  return null;
}

/** The onsets the COUNT rules of a zone's observances name together. */
export function countedOnsets(observances: readonly ObservanceRule[]): number {
  return observances.reduce((sum, o) => sum + Number(/(?:^|;)COUNT=(\d+)/i.exec(o.rrule ?? '')?.[1] ?? 0), 0);
}

/**
 * The observances of a zone as a series stores them (JSON), so that every later reading of the
 * series places its occurrences by them (SeriesDefinition.zoneRules).
 */
export function observancesText(observances: readonly ObservanceRule[]): string {
  return JSON.stringify(observances.map((o) => [o.wallStartMs, o.offsetFromMs, o.offsetToMs, o.rrule, o.rdatesWallMs]));
}

/**
 * Zones read back from stored text, by text, the least recently used first; a series is read many
 * times, and building a zone walks its rules that end.
 */
const ZONES_KEPT = 256;
const storedZones = new Map<string, ObservedOffsets | null>();

function keepZone(text: string, zone: ObservedOffsets | null): void {
  storedZones.delete(text);
  if (storedZones.size >= ZONES_KEPT) storedZones.delete(storedZones.keys().next().value!);
  storedZones.set(text, zone);
}

/**
 * Records the zone a text was written from (the ICS parser's, just built), so that reading the
 * text back (storedZoneRules) does not build it again.
 */
export function rememberZoneText(text: string, zone: ObservedOffsets): void {
  if (text.length <= MAX_ZONE_TEXT_CHARS) keepZone(text, zone);
}

/**
 * The zone observancesText wrote, built once per text and kept; null for none (null text) and for
 * a text that is not such a zone (it is then read in the series' stand-in zone): longer than
 * MAX_ZONE_TEXT_CHARS, not JSON of that shape, or observances the parser would not have read
 * (observancesProblem, ZONE_ONSETS_WALKED).
 */
export function storedZoneRules(text: string | null | undefined): ObservedOffsets | null {
  if (text === null || text === undefined) return null;
  // Refused before JSON.parse, and never kept as a key.
  if (text.length > MAX_ZONE_TEXT_CHARS) return null;
  const known = storedZones.get(text);
  if (known !== undefined) {
    keepZone(text, known);
    return known;
  }
  let zone: ObservedOffsets | null = null;
  try {
    const rows = JSON.parse(text) as unknown;
    const isNumber = (x: unknown): x is number => typeof x === 'number';
    if (Array.isArray(rows) && rows.every((row) => Array.isArray(row) && row.length === 5 && isNumber(row[0]) && isNumber(row[1]) && isNumber(row[2])
      && (row[3] === null || typeof row[3] === 'string') && Array.isArray(row[4]) && row[4].every(isNumber))) {
      // The constructor applies the parser's limits (observancesProblem) and throws past them.
      zone = new ObservedOffsets((rows as [number, number, number, string | null, number[]][]).map(([wallStartMs, offsetFromMs, offsetToMs, rrule, rdatesWallMs]) => ({ wallStartMs, offsetFromMs, offsetToMs, rrule, rdatesWallMs })));
    }
  } catch {
    zone = null;
  }
  keepZone(text, zone);
  return zone;
}

export class ObservedOffsets {
  readonly #observances: readonly ObservanceRule[];
  /** Per UTC year, the changes whose onset falls in it, by onset. */
  readonly #years = new Map<number, Change[]>();
  /** Per UTC year, the offset in use as it begins. */
  readonly #yearStarts = new Map<number, number>();
  /** Per observance whose rule ends, every local time (as if UTC) the rule names, in order; walked once. */
  readonly #finished = new Map<ObservanceRule, number[]>();

  /**
   * Throws a RangeError for observances observancesProblem rejects, and for rules that end but
   * name more than ZONE_ONSETS_WALKED onsets together.
   */
  constructor(observances: readonly ObservanceRule[]) {
    const problem = observancesProblem(observances);
    if (problem !== null) throw new RangeError(`the VTIMEZONE cannot be read: ${problem}`);
    this.#observances = observances;
    // A COUNT rule's walk costs its COUNT (counted from DTSTART): refused before any walk.
    if (countedOnsets(observances) > ZONE_ONSETS_WALKED) throw new RangeError(`the VTIMEZONE cannot be read: its rules that end name more than ${ZONE_ONSETS_WALKED} onsets`);
    let left = ZONE_ONSETS_WALKED;
    for (const o of observances) {
      if (o.rrule === null || !/(?:^|;)(?:COUNT|UNTIL)=/i.test(o.rrule)) continue;
      const walls = ruleWalls(o, o.wallStartMs, MAX_WALL_MS, left + 1);
      if (walls.length > left) throw new RangeError(`the VTIMEZONE cannot be read: its rules that end name more than ${ZONE_ONSETS_WALKED} onsets`);
      left -= walls.length;
      this.#finished.set(o, walls);
    }
  }

  /** The observances the zone was read from. */
  get observances(): readonly ObservanceRule[] {
    return this.#observances;
  }

  /** The UTC offset (milliseconds) in use at an instant. */
  offsetAt(instantMs: number): number {
    const year = new Date(instantMs).getUTCFullYear();
    const changes = this.#changesOf(year);
    let last: Change | undefined;
    for (const change of changes) {
      if (change.onsetMs > instantMs) break;
      last = change;
    }
    return last ? last.offsetMs : this.#offsetAtYearStart(year);
  }

  /**
   * The instant of a local time (given as if it were UTC). A time the clocks skip is read with
   * the offset before the gap; a time they repeat is its first occurrence (RFC 5545 3.3.5).
   */
  instantOf(wallMs: number): number {
    // The offsets in use a day either side cover every transition near this local time.
    const before = this.offsetAt(wallMs - DAY_MS);
    const after = this.offsetAt(wallMs + DAY_MS);
    const valid = [before, after].filter((offset) => this.offsetAt(wallMs - offset) === offset).map((offset) => wallMs - offset);
    if (valid.length > 0) return Math.min(...valid);
    return wallMs - before;
  }

  #changesOf(year: number): Change[] {
    let changes = this.#years.get(year);
    if (changes) return changes;
    const from = Date.UTC(year, 0, 1);
    const to = Date.UTC(year + 1, 0, 1);
    changes = [];
    for (const o of this.#observances) {
      // Local times two days either side of the year: any offset puts the onset inside or out.
      const walls = [o.wallStartMs, ...o.rdatesWallMs].filter((wall) => wall >= from - 2 * DAY_MS && wall < to + 2 * DAY_MS);
      const finished = this.#finished.get(o);
      if (finished !== undefined) walls.push(...finished.filter((wall) => wall >= from - 2 * DAY_MS && wall < to + 2 * DAY_MS));
      else if (o.rrule !== null) walls.push(...ruleWalls(o, from - 2 * DAY_MS, to + 2 * DAY_MS, ONSETS_PER_YEAR));
      for (const wall of walls) {
        const onsetMs = wall - o.offsetFromMs;
        if (onsetMs >= from && onsetMs < to) changes.push({ onsetMs, offsetMs: o.offsetToMs });
      }
    }
    changes.sort((a, b) => a.onsetMs - b.onsetMs);
    if (this.#years.size >= YEARS_KEPT) this.#years.clear();
    this.#years.set(year, changes);
    return changes;
  }

  #offsetAtYearStart(year: number): number {
    const known = this.#yearStarts.get(year);
    if (known !== undefined) return known;
    const startMs = Date.UTC(year, 0, 1);
    // Most often the last change of the year before; else the onset that came last, however long
    // before (a zone without DST has one observance, its rule finished or absent).
    const previous = this.#changesOf(year - 1).at(-1);
    let offset: number;
    if (previous) {
      offset = previous.offsetMs;
    } else {
      let latest: Change | null = null;
      let earliest: { onsetMs: number; offsetFromMs: number } | null = null;
      for (const o of this.#observances) {
        const onsets = [o.wallStartMs, ...o.rdatesWallMs].map((wall) => wall - o.offsetFromMs);
        if (o.rrule !== null && o.wallStartMs - o.offsetFromMs < startMs) {
          const finished = this.#finished.get(o);
          // A rule that ends: its last onset before the year, from the onsets walked once. One
          // that goes on but named nothing in the year before (a leap day's rule): the years before.
          const wall = finished !== undefined
            ? lastBefore(finished, startMs + o.offsetFromMs)
            : ruleWalls(o, Math.max(o.wallStartMs, startMs - 9 * 366 * DAY_MS), startMs + o.offsetFromMs, ONSETS_PER_YEAR).at(-1);
          if (wall !== undefined) onsets.push(wall - o.offsetFromMs);
        }
        for (const onsetMs of onsets) {
          if (onsetMs < startMs && (latest === null || onsetMs > latest.onsetMs)) latest = { onsetMs, offsetMs: o.offsetToMs };
          if (earliest === null || onsetMs < earliest.onsetMs) earliest = { onsetMs, offsetFromMs: o.offsetFromMs };
        }
      }
      offset = latest !== null ? latest.offsetMs : earliest!.offsetFromMs;
    }
    if (this.#yearStarts.size >= YEARS_KEPT) this.#yearStarts.clear();
    this.#yearStarts.set(year, offset);
    return offset;
  }
}

/**
 * The local times (as if UTC) a yearly rule names in [fromMs, toMs], at most `limit` (the first
 * ones). An UNTIL in UTC is moved into local terms with TZOFFSETFROM, as the
 * onsets it bounds are written.
 */
export function ruleWalls(o: ObservanceRule, fromMs: number, toMs: number, limit: number): number[] {
  const counted = countedWalls(o, fromMs, toMs, limit);
  if (counted !== null) return counted;
  const rule = o.rrule!.replace(/UNTIL=(\d{8}T\d{6})Z/i, (_, until: string) => `UNTIL=${utcBasic(parseBasic(until) + o.offsetFromMs)}`);
  try {
    const found = expandSeries({ startMs: o.wallStartMs, endMs: o.wallStartMs, timeZone: 'UTC', recurrence: [`RRULE:${rule}`] }, { fromMs, toMs: toMs + 1 }, { limit })
      .map((occurrence) => occurrence.startMs)
      .filter((wall) => wall >= fromMs && wall <= toMs);
    return found;
  } catch {
    return [];
  }
}

/**
 * A yearly rule of the form real zones use, on one month (BYMONTH) and an (nth) weekday or month
 * days or both: what the walls of a year are computed from by date arithmetic.
 */
interface MonthRule {
  /** 0-11. */
  month: number;
  /** 0 (Sunday) to 6, or null. */
  weekday: number | null;
  /** The nth such weekday of the month (negative: from its end), or null for every one. */
  nth: number | null;
  /** Days of the month (negative: from its end), or null. */
  monthDays: number[] | null;
  /** The last local time the rule names, as ruleWalls moves UNTIL into local terms; Infinity without UNTIL. */
  untilMs: number;
  count: number | null;
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const monthRules = new WeakMap<ObservanceRule, MonthRule | null>();

/** The rule as a MonthRule, or null for a form left to the calendar library (no BYMONTH, a part twice...). */
function monthRuleOf(o: ObservanceRule): MonthRule | null {
  if (monthRules.has(o)) return monthRules.get(o)!;
  let result: MonthRule | null = null;
  const parts = new Map<string, string>();
  let twice = false;
  for (const part of o.rrule!.toUpperCase().split(';').filter((p) => p !== '')) {
    const [key, value] = part.split('=') as [string, string];
    if (parts.has(key)) twice = true;
    parts.set(key, value);
  }
  const month = Number(parts.get('BYMONTH'));
  const day = parts.has('BYDAY') ? /^([+-]?\d)?(SU|MO|TU|WE|TH|FR|SA)$/.exec(parts.get('BYDAY')!) : null;
  const nth = day?.[1] !== undefined ? Number(day[1]) : null;
  const monthDays = parts.has('BYMONTHDAY') ? parts.get('BYMONTHDAY')!.split(',').map(Number) : null;
  const until = parts.get('UNTIL');
  if (!twice && parts.get('FREQ') === 'YEARLY' && (parts.get('INTERVAL') ?? '1') === '1' && Number.isInteger(month) && month >= 1 && month <= 12
    && (nth === null || (nth !== 0 && Math.abs(nth) <= 5)) && (!parts.has('BYDAY') || day !== null)
    && (monthDays === null || monthDays.every((d) => Number.isInteger(d) && d !== 0 && Math.abs(d) <= 31))) {
    const count = parts.has('COUNT') ? Number(parts.get('COUNT')) : null;
    let untilMs = Infinity;
    if (until !== undefined) {
      const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(until);
      // A date UNTIL keeps its whole day; one in UTC is moved into local terms with TZOFFSETFROM.
      if (m) {
        untilMs = m[4] === undefined
          ? utcDate(+m[1]!, +m[2]! - 1, +m[3]! + 1) - 1
          : utcDate(+m[1]!, +m[2]! - 1, +m[3]!) + ((+m[4]! * 60 + +m[5]!) * 60 + +m[6]!) * 1000 + (m[7] === 'Z' ? o.offsetFromMs : 0);
      }
    }
    if (until === undefined || untilMs !== Infinity) result = { month: month - 1, weekday: day ? WEEKDAYS.indexOf(day[2]!) : null, nth, monthDays, untilMs, count };
  }
  monthRules.set(o, result);
  return result;
}

/** Epoch milliseconds of a UTC date (any year: Date.UTC reads 0-99 as 1900-1999). */
function utcDate(year: number, monthIndex: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

/** The local times (as if UTC) a MonthRule names in a year, ascending, before COUNT, UNTIL and DTSTART. */
function monthRuleWalls(rule: MonthRule, year: number, timeOfDayMs: number, startDay: number): number[] {
  const daysInMonth = new Date(utcDate(year, rule.month + 1, 0)).getUTCDate();
  let days: number[];
  if (rule.weekday !== null) {
    const first = 1 + ((rule.weekday - new Date(utcDate(year, rule.month, 1)).getUTCDay() + 7) % 7);
    days = [];
    for (let d = first; d <= daysInMonth; d += 7) days.push(d);
    if (rule.nth !== null) {
      const picked = days[rule.nth > 0 ? rule.nth - 1 : days.length + rule.nth];
      days = picked === undefined ? [] : [picked];
    }
    if (rule.monthDays !== null) {
      const listed = new Set(rule.monthDays.map((d) => (d > 0 ? d : daysInMonth + d + 1)));
      days = days.filter((d) => listed.has(d));
    }
  } else if (rule.monthDays !== null) {
    days = [...new Set(rule.monthDays.map((d) => (d > 0 ? d : daysInMonth + d + 1)))].filter((d) => d >= 1 && d <= daysInMonth).sort((a, b) => a - b);
  } else {
    // Neither: DTSTART's day of the month, in years whose month has it.
    days = startDay <= daysInMonth ? [startDay] : [];
  }
  return days.map((d) => utcDate(year, rule.month, d) + timeOfDayMs);
}

/**
 * ruleWalls for a MonthRule, by date arithmetic (a few microseconds a year, where the calendar
 * library took milliseconds): DTSTART, then each local time the rule names after it, up to UNTIL
 * and COUNT (DTSTART counting as the first, RFC 5545 3.3.10). Null for another form of rule.
 */
function countedWalls(o: ObservanceRule, fromMs: number, toMs: number, limit: number): number[] | null {
  const rule = monthRuleOf(o);
  if (rule === null) return null;
  const out: number[] = [];
  const start = o.wallStartMs;
  const lastMs = Math.min(toMs, rule.untilMs);
  if (limit <= 0) return out;
  let counted = 1;
  // DTSTART is an onset even past UNTIL (as the calendar library reads it).
  if (start >= fromMs && start <= toMs) out.push(start);
  if (start >= lastMs) return out;
  const timeOfDayMs = ((start % DAY_MS) + DAY_MS) % DAY_MS;
  const startDate = new Date(start);
  // With COUNT, every year from DTSTART's is counted; without, the walk begins at the window.
  const firstYear = new Date(rule.count === null ? Math.max(start, fromMs - DAY_MS) : start).getUTCFullYear();
  const lastYear = Math.min(new Date(lastMs).getUTCFullYear(), 9999);
  for (let year = firstYear; year <= lastYear; year++) {
    for (const wall of monthRuleWalls(rule, year, timeOfDayMs, startDate.getUTCDate())) {
      if (wall <= start) continue;
      if (wall > lastMs || (rule.count !== null && counted >= rule.count) || out.length >= limit) return out;
      counted++;
      if (wall >= fromMs) out.push(wall);
    }
  }
  return out;
}

/** The last of ascending `walls` before `beforeMs`. */
function lastBefore(walls: readonly number[], beforeMs: number): number | undefined {
  let last: number | undefined;
  for (const wall of walls) {
    if (wall >= beforeMs) break;
    last = wall;
  }
  return last;
}

/** The latest local time a rule that ends is walked to (RFC 5545 years end at 9999). */
const MAX_WALL_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
/** The earliest local time an onset can be written at (year 0000). */
const MIN_WALL_MS = new Date('0000-01-01T00:00:00Z').getTime();

function parseBasic(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function utcBasic(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
