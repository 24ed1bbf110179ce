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

interface Change {
  onsetMs: number;
  offsetMs: number;
}

/** Why observances cannot be read as a zone; null when they can. */
export function observancesProblem(observances: readonly ObservanceRule[]): string | null {
  if (observances.length === 0) return 'it has no STANDARD or DAYLIGHT observance with a DTSTART';
  for (const o of observances) {
    if (Math.abs(o.offsetFromMs) > MAX_OFFSET_MS || Math.abs(o.offsetToMs) > MAX_OFFSET_MS) return 'an offset is a day or more';
    if (o.rrule !== null && !observanceRuleIsYearly(o.rrule)) return `the rule "${o.rrule.slice(0, 80)}" is not a yearly time-zone rule`;
    if (![o.wallStartMs, ...o.rdatesWallMs].every(Number.isFinite)) return 'an onset is not a date-time';
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

/** Zones read back from stored text, by text; a series is read many times, and a zone's COUNT rules are walked when it is built. */
const ZONES_KEPT = 256;
const storedZones = new Map<string, ObservedOffsets | null>();

/**
 * The zone observancesText wrote, built once per text and kept; null for none (null text) and for
 * a text that is not such a zone (it is then read in the series' IANA zone).
 */
export function storedZoneRules(text: string | null | undefined): ObservedOffsets | null {
  if (text === null || text === undefined) return null;
  const known = storedZones.get(text);
  if (known !== undefined) return known;
  let zone: ObservedOffsets | null = null;
  try {
    const rows = JSON.parse(text) as unknown;
    const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    if (Array.isArray(rows) && rows.length <= 100 && rows.every((row) => Array.isArray(row) && row.length === 5 && isNumber(row[0]) && isNumber(row[1]) && isNumber(row[2])
      && (row[3] === null || typeof row[3] === 'string') && Array.isArray(row[4]) && row[4].length <= 1_000 && row[4].every(isNumber))) {
      zone = new ObservedOffsets((rows as [number, number, number, string | null, number[]][]).map(([wallStartMs, offsetFromMs, offsetToMs, rrule, rdatesWallMs]) => ({ wallStartMs, offsetFromMs, offsetToMs, rrule, rdatesWallMs })));
    }
  } catch {
    zone = null;
  }
  if (storedZones.size >= ZONES_KEPT) storedZones.clear();
  storedZones.set(text, zone);
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
function ruleWalls(o: ObservanceRule, fromMs: number, toMs: number, limit: number): number[] {
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

function parseBasic(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function utcBasic(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
