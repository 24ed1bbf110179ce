// Expansion of recurring series (RFC 5545 RRULE / RDATE / EXDATE lines, as Google Calendar's
// `recurrence[]` carries them) into concrete occurrences.
//
// Invariants this module keeps:
// - Pure: no I/O, no clock, no dependence on the process time zone. Every wall-clock calculation
//   names its zone explicitly; instants cross the API as epoch milliseconds.
// - The RRULE is expanded in the series zone with DTSTART's wall-clock time, so a 09:00 meeting
//   stays at 09:00 local across DST. A rule repeating by days or longer (DAILY and up) is expanded
//   in wall-clock time and each local time is then placed in the zone: one that does not exist
//   (a spring-forward gap) is read with the offset before the gap, as RFC 5545 section 3.3.5 reads
//   such a time, so a daily 02:30 New York meeting is at 03:30 EDT on the changeover Sunday and
//   counts toward COUNT (where Google Calendar and Exchange show it: mangstadt/biweekly issue 38;
//   the library itself leaves it out, after RFC 5545 section 3.3.10); a repeated (fall-back)
//   local time means its first instant. Sub-daily rules (HOURLY, and MINUTELY or SECONDLY with
//   BYxxx parts) step as the library steps them, which leaves out a generated time in a gap.
// - A series may carry a zone that no IANA zone keeps, given by its offsets (ZoneRules: an ICS
//   VTIMEZONE read by its own rules). Every rule but a plain step is then expanded in wall-clock
//   time and each local time placed by those offsets, by the same RFC 5545 3.3.5 reading; local
//   dates (EXDATE;VALUE=DATE, a day's occurrences) are that zone's too.
// - The recurrence set is DTSTART + RRULE + RDATE, minus EXDATE (EXDATE always wins), and every
//   occurrence lasts exactly as long as the first.
// - Work is bounded: no call produces more than GENERATION_CAP rule instances or makes more than
//   MAX_CHUNKS library calls (a COUNT rule's walk, made once per compiled series, 4 * MAX_CHUNKS
//   smaller ones), whatever the rule says (FREQ=SECONDLY without COUNT and the like).
//   A query that stopped at a cap rather than at the end of what it asked says so (isTruncated),
//   so that "no more occurrences" and "gave up" are never confused.
// - A SECONDLY or MINUTELY rule without BYxxx parts is a fixed step in absolute time (the library
//   generates it that way across DST too), so its instances are computed arithmetically: the k-th
//   is DTSTART + k * INTERVAL * step. Such a rule reaches any window in constant work, even from
//   year 0 and with COUNT, where the library would have to walk every instance from DTSTART.
// - compileSeries parses a series once and places its RDATE/EXDATE values only when a question
//   reaches them (see LazyInstants), so that values far from every question cost nothing;
//   callers that ask many questions of one series (every bot linked to it, every occurrence on a
//   page) ask the compiled series. A COUNT rule,
//   which has to be counted from DTSTART, is walked once per compiled series and remembered.
//
// rrule-temporal generates the RRULE instances only. Its own RDATE/EXDATE/UNTIL/COUNT handling is
// not used: COUNT is counted here (see CountWalk), and EXDATE;VALUE=DATE (remove a whole local date), floating values and date-only UNTIL have
// to be interpreted against the series zone, and keeping the recurrence-set algebra here makes
// the "EXDATE beats everything" rule explicit. The library uses the runtime's native Temporal
// when there is one and otherwise its own bundled copy of temporal-polyfill, so nothing is
// installed globally; its results are read only through epochMilliseconds, which keeps the two
// Temporal implementations from ever meeting.
import { Temporal } from 'temporal-polyfill';
import { RRuleTemporal } from 'rrule-temporal';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from './occurrence-key.ts';
import { finishSteps } from '../lib/steps.ts';
import { LazyInstants } from './lazy-instants.ts';

export { occurrenceKey, parseOccurrenceKey } from './occurrence-key.ts';

export interface SeriesDefinition {
  /** First occurrence start (the series DTSTART instant). */
  startMs: number;
  /** First occurrence end; every occurrence lasts exactly endMs - startMs. */
  endMs: number;
  /** IANA zone the series is expanded in (wall-clock time stays fixed across DST). */
  timeZone: string;
  /**
   * A zone no IANA zone keeps (an ICS VTIMEZONE read by its own rules): when given, it places the
   * series' local times instead of `timeZone`, which is then only the zone the series is shown in.
   */
  zoneRules?: ZoneRules | null;
  /** Lines such as 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=Europe/Berlin:20261102T090000', 'RDATE;VALUE=DATE:20261224'. */
  recurrence: string[];
}

/**
 * A time zone given by its offsets rather than by an IANA name. Local times are written as the
 * UTC instant of the same digits ("wall" milliseconds).
 */
export interface ZoneRules {
  /** The UTC offset (milliseconds) in use at an instant. */
  offsetAt(instantMs: number): number;
  /**
   * The instant of a local time: one the clocks skip is read with the offset before the gap, one
   * they repeat is its first instant (RFC 5545 3.3.5), as 'compatible' reads an IANA zone.
   */
  instantOf(wallMs: number): number;
}

export interface Occurrence {
  originalStartMs: number;
  startMs: number;
  endMs: number;
}

/**
 * The largest COUNT whose instances lastEndMs() walks to find the series' end: the walk costs
 * 0.1-0.4 ms an instance (a DAILY;COUNT=100 in Europe/Berlin, 8-35 ms).
 */
const LAST_END_COUNT_CAP = 100;
/** Upper bound on RRULE instances generated by one call, whatever the rule asks for. */
const GENERATION_CAP = 10_000;
/** Rough number of instances one library call is sized to produce. */
const CHUNK_TARGET = 2_000;
/** Periods per library call; well below the library's own 10,000-period cap so it never trips. */
const MAX_PERIODS_PER_CHUNK = 2_000;
/** Library calls per expansion; only rules that are both dense in periods and sparse in matches get near it. */
const MAX_CHUNKS = 1_000;
/**
 * A COUNT rule's walk aims at about this many instances a step (a few ms of the library's time),
 * so that a caller interleaving other work between steps is never held long; a step that finds
 * fewer grows the next, up to a quarter of a chunk (a sparse rule is not walked in more calls).
 */
const WALK_STEP_INSTANCES = 125;
/**
 * Per library call. The library's default (1,000,000) lets one call spend tens of seconds on a rule
 * such as FREQ=YEARLY with every BYMONTHDAY/BYHOUR/BYMINUTE/BYSECOND listed; real meeting rules
 * evaluate at most a few hundred candidates per period.
 */
const MAX_CANDIDATE_EVALUATIONS = 25_000;

type Freq = 'SECONDLY' | 'MINUTELY' | 'HOURLY' | 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

const FREQS: readonly Freq[] = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

/** Nominal length of one FREQ period; used only to size library calls, so upper bounds suffice. */
const PERIOD_MS: Record<Freq, number> = {
  SECONDLY: 1_000,
  MINUTELY: 60_000,
  HOURLY: 3_600_000,
  DAILY: 86_400_000,
  WEEKLY: 7 * 86_400_000,
  MONTHLY: 31 * 86_400_000,
  YEARLY: 366 * 86_400_000,
};

/** Most days one period can select (BYDAY/BYMONTHDAY/... only ever narrow this). */
const DAYS_PER_PERIOD: Record<Freq, number> = {
  SECONDLY: 1, MINUTELY: 1, HOURLY: 1, DAILY: 1, WEEKLY: 7, MONTHLY: 31, YEARLY: 366,
};

/**
 * A DATE or DATE-TIME value as written, before it is placed in a zone. Local values are "wall"
 * milliseconds (the UTC instant of the same digits), so that thousands of EXDATE/RDATE values
 * cost no calendar objects; a date is its midnight, `text` its YYYY-MM-DD.
 */
type DateValue =
  | { kind: 'utc'; ms: number }
  | { kind: 'zoned'; wallMs: number; zone: string }
  | { kind: 'floating'; wallMs: number }
  | { kind: 'date'; wallMs: number; text: string };

interface ParsedRule {
  freq: Freq;
  interval: number;
  count: number | undefined;
  until: DateValue | undefined;
  /** Most instances one period can expand to; sizes the library calls. */
  perPeriod: number;
  /** The rule re-serialised for the library, without UNTIL (applied here) and normalised. */
  libraryText: string;
  /** The same without COUNT: COUNT is applied here, by counting instances from DTSTART. */
  uncountedText: string;
  /** INTERVAL * step in ms for a SECONDLY/MINUTELY rule without BYxxx parts; null otherwise. */
  plainStepMs: number | null;
  /**
   * Why the rule can never produce an instance (BYMONTHDAY=30 in BYMONTH=2), or null. Such a rule
   * is refused where a person wrote it (validateRecurrence); one already stored, or read from a
   * feed by a caller that keeps it, adds no instance, rather than being searched for one to the
   * end of year 9999.
   */
  neverMatches: string | null;
}

interface ParsedRecurrence {
  rule: ParsedRule | undefined;
  rdates: DateValue[];
  exdates: DateValue[];
}

type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

// ---------------------------------------------------------------------------------------------
// Time zones and occurrence keys

/** Answers of isValidTimeZone, by name: a series' thousands of TZID= lines name a zone or two. */
const zoneValidity = new Map<string, boolean>();
const ZONE_VALIDITY_CAP = 1_024;

/** True for an IANA zone name Temporal knows ('Europe/Berlin', 'UTC'); false for offsets and other strings. */
export function isValidTimeZone(zone: string): boolean {
  // Temporal also accepts offsets ('+01:00') and whole ISO strings with a bracketed zone as a
  // "time zone"; neither is an IANA name, and a fixed offset would silently ignore DST.
  if (typeof zone !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    try {
      Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(zone);
      valid = true;
    } catch {
      valid = false;
    }
    if (zoneValidity.size >= ZONE_VALIDITY_CAP) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

// ---------------------------------------------------------------------------------------------
// Local times placed in an IANA zone without a calendar object per value
//
// Temporal's 'compatible' placement of a local time, computed from the zone's offsets: the
// offsets are read through Temporal once per stretch between two of the zone's transitions and
// remembered, so that a series' thousands of EXDATE/RDATE values, or a rule's generated local
// times, cost a lookup each rather than several Temporal objects (12-20 µs a value). The
// placement follows the polyfill's own (temporal-polyfill 1.0.8, pinned exactly for this:
// IntlTimeZone's possible instants and getSingleInstantFor), in whole seconds with the sub-second part carried over, so the
// instants are the ones Temporal gives: in a repeated hour the first, in a skipped hour the local
// time read with the offset before the gap (RFC 5545 3.3.5).

const DAY_SECONDS = 86_400;
/** How far Temporal searches for a zone's next transition (3 years and a day, in seconds). */
const TRANSITION_SEARCH_SECONDS = 94_867_200;

/**
 * A stretch of instants (epoch seconds, [startSec, endSec)) over which a zone keeps one offset;
 * `endIsTransition` when endSec is the zone's next transition (not only the end of a search).
 */
interface OffsetSpan { startSec: number; endSec: number; offsetSec: number; endIsTransition: boolean }

/** Per zone, known spans, sorted and disjoint; the zone least recently read is forgotten first. */
const offsetSpans = new Map<string, OffsetSpan[]>();
const OFFSET_SPAN_ZONES_CAP = 256;
const OFFSET_SPANS_PER_ZONE_CAP = 4_096;
/** Stamps a span with its last use, so that a full zone forgets its least recently used quarter. */
let spanClock = 0;
interface StampedSpan extends OffsetSpan { usedAt: number }

/**
 * How many stretches one compiled series may read through Temporal. A stretch read costs about
 * what placing a few values with Temporal does, so it pays only when values share stretches: a
 * series starts with SPAN_READS_AT_START reads, and each value placed without a read earns an eighth of a
 * read more (up to SPAN_READS_CAP). Values spread over many stretches (one a year over centuries)
 * thus spend the reads at the start, and the rest are placed by Temporal directly, one calendar
 * object each.
 */
const SPAN_READS_AT_START = 32;
const SPAN_READS_CAP = 256;
interface PlacementBudget { spanReadsLeft: number }
function newPlacementBudget(): PlacementBudget {
  return { spanReadsLeft: SPAN_READS_AT_START };
}

/**
 * The zone's UTC offset (seconds) at an instant (epoch seconds), as Temporal gives it; undefined
 * when the stretch is not known and the budget has no read left.
 */
function zoneOffsetSec(zone: string, epochSec: number, budget: PlacementBudget): number | undefined {
  let spans = offsetSpans.get(zone) as StampedSpan[] | undefined;
  if (!spans) {
    if (offsetSpans.size >= OFFSET_SPAN_ZONES_CAP) offsetSpans.delete(offsetSpans.keys().next().value!);
    spans = [];
    offsetSpans.set(zone, spans);
  }
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.endSec <= epochSec) lo = mid + 1;
    else hi = mid;
  }
  const found = spans[lo];
  if (found && found.startSec <= epochSec) {
    found.usedAt = ++spanClock;
    return found.offsetSec;
  }
  if (budget.spanReadsLeft < 1) return undefined;
  budget.spanReadsLeft--;
  // Values come mostly in order: when the instant is likely in the stretch after a known
  // transition (no further past it than that stretch's predecessor lasted), that stretch is read
  // from the transition (one search). Otherwise, or when it turns out not to hold the instant, the
  // instant's own stretch is read: never a walk through the stretches between.
  const left = lo > 0 ? spans[lo - 1]! : undefined;
  const isLikelyNext = left !== undefined && left.endIsTransition && epochSec - left.endSec < Math.min(left.endSec - left.startSec, TRANSITION_SEARCH_SECONDS);
  let span: OffsetSpan | undefined = isLikelyNext ? offsetSpanFrom(zone, left.endSec) : undefined;
  if (!span || epochSec >= span.endSec) span = offsetSpanAround(zone, epochSec);
  // Never overlap a known span (they are exact, so this only trims a conservative end or start).
  if (left) span.startSec = Math.max(span.startSec, left.endSec);
  if (found && found.startSec < span.endSec) {
    span.endSec = found.startSec;
    span.endIsTransition = false;
  }
  const stamped: StampedSpan = { ...span, usedAt: ++spanClock };
  spans.splice(lo, 0, stamped);
  if (spans.length > OFFSET_SPANS_PER_ZONE_CAP) forgetLeastUsed(spans);
  return stamped.offsetSec;
}

/** Drops the least recently used quarter of a zone's spans (the rest keep their order). */
function forgetLeastUsed(spans: StampedSpan[]): void {
  const stamps = spans.map((span) => span.usedAt).sort((a, b) => a - b);
  const oldestKept = stamps[Math.floor(spans.length / 4)]!;
  let kept = 0;
  for (const span of spans) if (span.usedAt >= oldestKept) spans[kept++] = span;
  spans.length = kept;
}

/** The stretch that begins at a transition of the zone, up to its next one. */
function offsetSpanFrom(zone: string, transitionSec: number): OffsetSpan {
  const at = Temporal.Instant.fromEpochMilliseconds(transitionSec * 1000).toZonedDateTimeISO(zone);
  const next = at.getTimeZoneTransition('next');
  return {
    startSec: transitionSec,
    // Where Temporal finds no transition within its search, only the stretch it searched is known.
    endSec: next ? Math.floor(next.epochMilliseconds / 1000) : transitionSec + TRANSITION_SEARCH_SECONDS,
    offsetSec: at.offsetNanoseconds / 1e9,
    endIsTransition: next !== null,
  };
}

/** The stretch around an instant: from the transition at or before it to the next one. */
function offsetSpanAround(zone: string, epochSec: number): OffsetSpan {
  // Asked from just after the instant, as Temporal gives only transitions strictly before.
  const previous = Temporal.Instant.fromEpochMilliseconds((epochSec + 1) * 1000).toZonedDateTimeISO(zone).getTimeZoneTransition('previous');
  const span = offsetSpanFrom(zone, epochSec);
  span.startSec = previous ? Math.floor(previous.epochMilliseconds / 1000) : epochSec - TRANSITION_SEARCH_SECONDS;
  return span;
}

/**
 * The instants (epoch seconds) a local time (wall seconds) can be in a zone: none in a gap, two in
 * an overlap; undefined when a stretch it needs is past the budget.
 */
function possibleInstantsSec(zone: string, wallSec: number, budget: PlacementBudget): number[] | undefined {
  const offset0 = zoneOffsetSec(zone, wallSec - DAY_SECONDS, budget);
  const offset1 = zoneOffsetSec(zone, wallSec + DAY_SECONDS, budget);
  if (offset0 === undefined || offset1 === undefined) return undefined;
  if (offset0 === offset1) return [wallSec - offset0];
  const narrow0 = zoneOffsetSec(zone, wallSec - offset0, budget);
  const narrow1 = zoneOffsetSec(zone, wallSec - offset1, budget);
  if (narrow0 === undefined || narrow1 === undefined) return undefined;
  if (narrow0 === narrow1) return [wallSec - narrow0];
  return offset0 > offset1 ? [wallSec - offset0, wallSec - offset1] : [];
}

/** A local date-time (written as the UTC instant of the same digits) placed in a zone, 'compatible'. */
function wallTimeToInstant(wallMs: number, zone: string, budget: PlacementBudget): number {
  const readsLeft = budget.spanReadsLeft;
  const ms = placeWithSpans(wallMs, zone, budget);
  if (ms === undefined) return temporalPlacement(wallMs, zone);
  if (budget.spanReadsLeft === readsLeft) budget.spanReadsLeft = Math.min(readsLeft + 0.125, SPAN_READS_CAP);
  return ms;
}

/** The placement from known stretches (reading those missing), or undefined past the budget. */
function placeWithSpans(wallMs: number, zone: string, budget: PlacementBudget): number | undefined {
  const wallSec = Math.floor(wallMs / 1000);
  const subMs = wallMs - wallSec * 1000;
  const possible = possibleInstantsSec(zone, wallSec, budget);
  if (possible && possible.length > 0) return possible[0]! * 1000 + subMs;
  if (possible) {
    // In a gap: shifted forward by the gap's length, the latest reading of that (both offsets
    // are known: the gap was found with them).
    const gapSec = zoneOffsetSec(zone, wallSec + DAY_SECONDS, budget)! - zoneOffsetSec(zone, wallSec - DAY_SECONDS, budget)!;
    const shifted = gapSec <= DAY_SECONDS ? possibleInstantsSec(zone, wallSec + gapSec, budget) : [];
    if (shifted && shifted.length > 0) return shifted.at(-1)! * 1000 + subMs;
    if (shifted) return temporalPlacement(wallMs, zone);
  }
  return undefined;
}

/**
 * Temporal's own 'compatible' placement, one calendar object per value: for a value past the
 * budget, and for a shape no zone has had (Temporal says what it makes of it, or throws as it does).
 */
export function temporalPlacement(wallMs: number, zone: string): number {
  const d = new Date(wallMs);
  return new Temporal.PlainDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
    .toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Checks recurrence lines; `line` is the 0-based index into `lines` of the first problem. */
export function validateRecurrence(lines: string[]): { ok: true } | { ok: false; line: number; message: string } {
  const parsed = parseRecurrence(lines);
  if (!parsed.ok) return parsed;
  const rule = parsed.value.rule;
  if (rule) {
    // Second opinion from the library, so that anything it would refuse at expansion time is a
    // 400 now rather than a failure later. The zone and date are placeholders.
    const index = () => Math.max(lines.findIndex((line) => /^RRULE[:;]/i.test(typeof line === 'string' ? line.trim() : '')), 0);
    try {
      buildLibraryRule(rule.libraryText, Temporal.ZonedDateTime.from('2000-01-03T09:00:00[UTC]'));
    } catch (error) {
      return { ok: false, line: index(), message: `RRULE is not supported: ${errorMessage(error)}` };
    }
    if (rule.neverMatches !== null) return { ok: false, line: index(), message: rule.neverMatches };
  }
  return { ok: true };
}

type RecurrenceParse = { ok: true; value: ParsedRecurrence } | { ok: false; line: number; message: string };

/**
 * Parses of long recurrence lists (a series with thousands of EXDATE/RDATE lines), by their text:
 * a sync validates a series and then compiles it, and compiles it again for each question asked
 * of it in a round, and each would otherwise read every line again. Short lists are parsed each
 * time (cheaper than the key). A parse is never changed once made.
 */
const longParses = new Map<string, RecurrenceParse>();
const LONG_PARSE_CHARS = 4_096;
const LONG_PARSES_CAP = 8;

function parseRecurrence(lines: readonly string[]): RecurrenceParse {
  if (!Array.isArray(lines)) return parseLines(lines);
  let chars = 0;
  for (const line of lines) {
    // A list with anything but strings is refused by the parse; only lists of text are kept.
    if (typeof line !== 'string') return parseLines(lines);
    chars += line.length;
  }
  if (chars < LONG_PARSE_CHARS) return parseLines(lines);
  const key = JSON.stringify(lines);
  let parsed = longParses.get(key);
  if (parsed) {
    // Most recently used last, so that the oldest is the one let go.
    longParses.delete(key);
  } else {
    parsed = parseLines(lines);
    if (longParses.size >= LONG_PARSES_CAP) longParses.delete(longParses.keys().next().value!);
  }
  longParses.set(key, parsed);
  return parsed;
}

function parseLines(lines: readonly string[]): RecurrenceParse {
  if (!Array.isArray(lines)) return { ok: false, line: 0, message: 'recurrence must be a list of lines' };
  const result: ParsedRecurrence = { rule: undefined, rdates: [], exdates: [] };
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index];
    const failure = (message: string) => ({ ok: false as const, line: index, message });
    if (typeof raw !== 'string') return failure('line must be a string');
    const line = raw.trim();
    if (line === '') return failure('empty line');
    const split = splitContentLine(line);
    if (!split) return failure(`cannot parse "${truncate(line)}": expected NAME[;PARAM=VALUE]:VALUE`);
    const { name, params, value } = split;
    switch (name) {
      case 'RRULE': {
        if (result.rule) return failure('only one RRULE is allowed');
        if (params.length > 0) return failure('RRULE takes no parameters');
        const rule = parseRule(value);
        if (!rule.ok) return failure(rule.message);
        result.rule = rule.value;
        break;
      }
      case 'EXRULE':
        return failure('EXRULE is not supported (RFC 5545 deprecates it); list the removed dates with EXDATE');
      case 'EXDATE':
      case 'RDATE': {
        const values = parseDateList(name, params, value);
        if (!values.ok) return failure(values.message);
        (name === 'EXDATE' ? result.exdates : result.rdates).push(...values.value);
        break;
      }
      case 'DTSTART':
        return failure('DTSTART is not a recurrence line; the series start time is the DTSTART');
      default:
        return failure(`unsupported line "${truncate(name)}": expected RRULE, EXDATE or RDATE`);
    }
  }
  return { ok: true, value: result };
}

/** Splits 'NAME;P=V;P2="V":VALUE', honouring quoted parameter values that may contain ':' or ';'. */
function splitContentLine(line: string): { name: string; params: Array<[string, string]>; value: string } | null {
  const colon = line.indexOf(':');
  const quote = line.indexOf('"');
  let segments: string[] = [];
  let valueStart = -1;
  if (colon >= 0 && (quote < 0 || quote > colon)) {
    // No quoted parameter value before the value: the first ':' ends the name and parameters.
    segments = line.slice(0, colon).split(';');
    valueStart = colon + 1;
  }
  let current = '';
  let quoted = false;
  for (let i = 0; valueStart < 0 && i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === ';' || ch === ':')) {
      segments.push(current);
      current = '';
      if (ch === ':') {
        valueStart = i + 1;
        break;
      }
      continue;
    }
    current += ch;
  }
  if (valueStart < 0) return null;
  const [nameSegment, ...paramSegments] = segments;
  const name = (nameSegment ?? '').toUpperCase();
  if (!/^[A-Z][A-Z0-9-]*$/.test(name)) return null;
  const params: Array<[string, string]> = [];
  for (const segment of paramSegments) {
    const eq = segment.indexOf('=');
    if (eq <= 0) return null;
    let paramValue = segment.slice(eq + 1);
    if (paramValue.length >= 2 && paramValue.startsWith('"') && paramValue.endsWith('"')) paramValue = paramValue.slice(1, -1);
    params.push([segment.slice(0, eq).toUpperCase(), paramValue]);
  }
  return { name, params, value: line.slice(valueStart) };
}

function parseDateList(name: 'EXDATE' | 'RDATE', params: Array<[string, string]>, value: string): ParseResult<DateValue[]> {
  let valueType = 'DATE-TIME';
  let tzid: string | undefined;
  const seen = new Set<string>();
  for (const [param, paramValue] of params) {
    if (seen.has(param)) return { ok: false, message: `${name}: parameter ${param} given twice` };
    seen.add(param);
    if (param === 'VALUE') valueType = paramValue.toUpperCase();
    else if (param === 'TZID') tzid = paramValue;
    else return { ok: false, message: `${name}: unsupported parameter ${param} (only VALUE and TZID)` };
  }
  if (valueType === 'PERIOD') return { ok: false, message: `${name}: VALUE=PERIOD is not supported; every occurrence has the series' duration` };
  if (valueType !== 'DATE' && valueType !== 'DATE-TIME') return { ok: false, message: `${name}: VALUE must be DATE or DATE-TIME, not ${valueType}` };
  if (tzid !== undefined) {
    if (valueType === 'DATE') return { ok: false, message: `${name}: TZID cannot be used with VALUE=DATE` };
    if (!isValidTimeZone(tzid)) return { ok: false, message: `${name}: unknown time zone TZID=${tzid}` };
  }
  const out: DateValue[] = [];
  for (const item of value.split(',')) {
    const text = item.trim();
    if (text === '') return { ok: false, message: `${name}: empty value in list` };
    if (valueType === 'DATE') {
      const date = parseDate(text);
      if (date === null) return { ok: false, message: `${name}: "${truncate(text)}" is not a date (YYYYMMDD)` };
      out.push(dateValue(text, date));
      continue;
    }
    const dateTime = parseDateTime(text);
    if (!dateTime) {
      const hint = parseDate(text) !== null ? ' (date-only values need VALUE=DATE)' : '';
      return { ok: false, message: `${name}: "${truncate(text)}" is not a date-time (YYYYMMDDTHHMMSS[Z])${hint}` };
    }
    if (dateTime.utc) {
      if (tzid !== undefined) return { ok: false, message: `${name}: a UTC value ("${text}") cannot also carry TZID` };
      out.push({ kind: 'utc', ms: dateTime.wallMs });
    } else if (tzid !== undefined) {
      out.push({ kind: 'zoned', wallMs: dateTime.wallMs, zone: tzid });
    } else {
      out.push({ kind: 'floating', wallMs: dateTime.wallMs });
    }
  }
  return { ok: true, value: out };
}

/** A date value from its YYYYMMDD text (already checked) and its midnight as wall milliseconds. */
function dateValue(text: string, wallMs: number): DateValue {
  return { kind: 'date', wallMs, text: `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}` };
}

/** A YYYYMMDD date's midnight as wall milliseconds, or null when it is no date. */
function parseDate(text: string): number | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  return wallMsOf(Number(match[1]), Number(match[2]), Number(match[3]), 0, 0, 0);
}

/** A YYYYMMDDTHHMMSS[Z] date-time as wall milliseconds (the instant itself when `utc`), or null. */
function parseDateTime(text: string): { wallMs: number; utc: boolean } | null {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/i.exec(text);
  if (!match) return null;
  const wallMs = wallMsOf(Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  return wallMs === null ? null : { wallMs, utc: match[7] !== '' };
}

/**
 * The UTC instant of these digits in the proleptic Gregorian calendar (years 0-9999, as four
 * digits write them), or null for a date or time that does not exist (the 30th of February,
 * 24:00, a 60th second: Temporal's overflow 'reject').
 */
function wallMsOf(year: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const isLeap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 ? (isLeap ? 29 : 28) : MONTH_MAX_DAYS[month - 1]!)) return null;
  // Days from 1970-01-01 (H. Hinnant's days_from_civil), exact for every year here.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000;
}

interface NumberListSpec { min: number; max: number; signed: boolean }

const NUMBER_LISTS: Record<string, NumberListSpec> = {
  BYSECOND: { min: 0, max: 59, signed: false },
  BYMINUTE: { min: 0, max: 59, signed: false },
  BYHOUR: { min: 0, max: 23, signed: false },
  BYMONTHDAY: { min: 1, max: 31, signed: true },
  BYYEARDAY: { min: 1, max: 366, signed: true },
  BYWEEKNO: { min: 1, max: 53, signed: true },
  BYMONTH: { min: 1, max: 12, signed: false },
  BYSETPOS: { min: 1, max: 366, signed: true },
};

/** Order the parts are re-emitted in; the library does not care, but a stable text is easier to debug. */
const PART_ORDER = ['FREQ', 'INTERVAL', 'COUNT', 'BYMONTH', 'BYWEEKNO', 'BYYEARDAY', 'BYMONTHDAY', 'BYDAY', 'BYHOUR', 'BYMINUTE', 'BYSECOND', 'BYSETPOS', 'WKST'];

function parseRule(text: string): ParseResult<ParsedRule> {
  const fail = (message: string) => ({ ok: false as const, message });
  const parts = new Map<string, string>();
  for (const segment of text.split(';')) {
    if (segment.trim() === '') continue; // tolerate a trailing ';'
    const eq = segment.indexOf('=');
    if (eq <= 0) return fail(`RRULE: "${truncate(segment)}" is not NAME=VALUE`);
    const key = segment.slice(0, eq).trim().toUpperCase();
    const value = segment.slice(eq + 1).trim().toUpperCase();
    if (parts.has(key)) return fail(`RRULE: ${key} given twice`);
    if (value === '') return fail(`RRULE: ${key} has no value`);
    parts.set(key, value);
  }

  const freqText = parts.get('FREQ');
  if (freqText === undefined) return fail('RRULE must include FREQ');
  const freq = FREQS.find((f) => f === freqText);
  if (!freq) return fail(`RRULE: FREQ=${freqText} is not one of ${FREQS.join(', ')}`);

  const normalized = new Map<string, string>([['FREQ', freq]]);
  const lists = new Map<string, number[]>();
  let interval = 1;
  let count: number | undefined;
  let until: DateValue | undefined;
  let byDay: Array<{ ordinal: number; day: string }> | undefined;

  for (const [key, value] of parts) {
    if (key === 'FREQ') continue;
    if (key === 'INTERVAL' || key === 'COUNT') {
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) return fail(`RRULE: ${key}=${value} must be a positive integer`);
      if (key === 'INTERVAL') interval = Number(value);
      else count = Number(value);
      normalized.set(key, String(Number(value)));
    } else if (key === 'UNTIL') {
      const dateTime = parseDateTime(value);
      const date = dateTime ? null : parseDate(value);
      if (dateTime) until = dateTime.utc ? { kind: 'utc', ms: dateTime.wallMs } : { kind: 'floating', wallMs: dateTime.wallMs };
      else if (date !== null) until = dateValue(value, date);
      else return fail(`RRULE: UNTIL=${value} is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])`);
    } else if (key === 'BYDAY') {
      byDay = [];
      for (const item of value.split(',')) {
        const match = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
        const ordinal = match?.[1] === undefined ? 0 : Number(match[1]);
        if (!match || (match[1] !== undefined && (ordinal === 0 || Math.abs(ordinal) > 53))) {
          return fail(`RRULE: BYDAY value "${truncate(item)}" is not a weekday (MO..SU) with an optional ordinal (1..53 or -53..-1)`);
        }
        byDay.push({ ordinal, day: match[2]! });
      }
      normalized.set(key, byDay.map((d) => `${d.ordinal === 0 ? '' : d.ordinal}${d.day}`).join(','));
    } else if (key === 'WKST') {
      if (!WEEKDAYS.some((d) => d === value)) return fail(`RRULE: WKST=${value} is not a weekday (MO..SU)`);
      normalized.set(key, value);
    } else if (key in NUMBER_LISTS) {
      const spec = NUMBER_LISTS[key]!;
      const numbers: number[] = [];
      for (const item of value.split(',')) {
        const pattern = spec.signed ? /^[+-]?\d{1,3}$/ : /^\d{1,3}$/;
        const n = Number(item);
        if (!pattern.test(item) || Math.abs(n) < spec.min || Math.abs(n) > spec.max || (spec.signed && n === 0)) {
          const range = spec.signed ? `${spec.min}..${spec.max} or -${spec.max}..-${spec.min}` : `${spec.min}..${spec.max}`;
          return fail(`RRULE: ${key} value "${truncate(item)}" is out of range (${range})`);
        }
        numbers.push(n);
      }
      lists.set(key, numbers);
      normalized.set(key, numbers.join(','));
    } else if (key === 'RSCALE' || key === 'SKIP') {
      return fail(`RRULE: ${key} (RFC 7529 calendars) is not supported`);
    } else {
      return fail(`RRULE: unknown part ${truncate(key)}`);
    }
  }

  // RFC 5545 §3.3.10 combinations that are either forbidden or can never match.
  if (count !== undefined && until !== undefined) return fail('RRULE cannot have both UNTIL and COUNT');
  if (byDay?.some((d) => d.ordinal !== 0)) {
    if (freq !== 'MONTHLY' && freq !== 'YEARLY') return fail('RRULE: BYDAY with an ordinal (like 1MO) needs FREQ=MONTHLY or FREQ=YEARLY');
    if (freq === 'YEARLY' && lists.has('BYWEEKNO')) return fail('RRULE: BYDAY with an ordinal cannot be combined with BYWEEKNO');
    if (freq === 'MONTHLY' && byDay.some((d) => Math.abs(d.ordinal) > 5)) return fail('RRULE: with FREQ=MONTHLY a BYDAY ordinal must be within -5..5');
  }
  if (lists.has('BYMONTHDAY') && freq === 'WEEKLY') return fail('RRULE: BYMONTHDAY cannot be used with FREQ=WEEKLY');
  if (lists.has('BYYEARDAY') && (freq === 'DAILY' || freq === 'WEEKLY' || freq === 'MONTHLY')) return fail(`RRULE: BYYEARDAY cannot be used with FREQ=${freq}`);
  if (lists.has('BYWEEKNO') && freq !== 'YEARLY') return fail('RRULE: BYWEEKNO needs FREQ=YEARLY');
  if (lists.has('BYSETPOS') && lists.size === 1 && byDay === undefined) return fail('RRULE: BYSETPOS needs another BYxxx part');

  const libraryText = PART_ORDER.filter((k) => normalized.has(k)).map((k) => `${k}=${normalized.get(k)}`).join(';');
  const uncountedText = PART_ORDER.filter((k) => normalized.has(k) && k !== 'COUNT').map((k) => `${k}=${normalized.get(k)}`).join(';');
  const isPlainStep = (freq === 'SECONDLY' || freq === 'MINUTELY') && lists.size === 0 && byDay === undefined;
  const plainStepMs = isPlainStep ? interval * PERIOD_MS[freq] : null;
  return { ok: true, value: { freq, interval, count, until, perPeriod: instancesPerPeriod(freq, lists), libraryText, uncountedText, plainStepMs, neverMatches: neverMatches(lists) } };
}

/** Most days each month can have (February in a leap year). */
const MONTH_MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a rule's BYxxx parts can never all hold on one day, or null: the days of the month it names
 * exist in none of its months (the 30th of February, the 31st of April). Other parts only narrow
 * the instances further, so such a rule has none whatever its other parts and frequency.
 */
function neverMatches(lists: ReadonlyMap<string, number[]>): string | null {
  const days = lists.get('BYMONTHDAY');
  const months = lists.get('BYMONTH');
  if (days === undefined || months === undefined) return null;
  if (months.some((month) => days.some((day) => Math.abs(day) <= MONTH_MAX_DAYS[month - 1]!))) return null;
  return `RRULE never produces an occurrence: no month in BYMONTH=${months.join(',')} has the day BYMONTHDAY=${days.join(',')}`;
}

/**
 * Upper bound on instances in one period: BYxxx parts finer than FREQ multiply, coarser ones only
 * filter, and BYSETPOS keeps at most one instance per listed position.
 */
function instancesPerPeriod(freq: Freq, lists: ReadonlyMap<string, number[]>): number {
  const rank = FREQS.indexOf(freq);
  const factor = (key: string, unitRank: number) => (rank > unitRank ? (lists.get(key)?.length ?? 1) : 1);
  const expanded = DAYS_PER_PERIOD[freq] * factor('BYHOUR', FREQS.indexOf('HOURLY')) * factor('BYMINUTE', FREQS.indexOf('MINUTELY')) * factor('BYSECOND', FREQS.indexOf('SECONDLY'));
  const positions = lists.get('BYSETPOS');
  return positions ? Math.min(expanded, positions.length) : expanded;
}

// ---------------------------------------------------------------------------------------------
// Compilation: the parsed recurrence placed in the series zone

interface SeriesParts {
  zone: string;
  /** See SeriesDefinition.zoneRules: when set, every local time is read with it, never with `zone`. */
  zoneRules: ZoneRules | null;
  startMs: number;
  durationMs: number;
  /**
   * The library rule, without COUNT (see CountWalk); undefined without an RRULE and for a
   * plain-step rule (computed here).
   */
  rule: RRuleTemporal | undefined;
  ruleHasCount: boolean;
  /**
   * Set when the rule is expanded in wall-clock time (DAILY and up): the library rule is then
   * given DTSTART's local date and time as a UTC date-time, and each instance it generates is a
   * local time to place in the zone (see ruleInstantsBetween).
   */
  wallClock: { dtstartWallMs: number } | null;
  /** Offsets of the zone at instants asked about (see offsetMsAt). */
  offsets: Map<number, number>;
  /** Stretch reads left for placing this series' local times (see SPAN_READS_PER_SERIES). */
  placement: PlacementBudget;
  /** A COUNT rule's instances walked so far (null until a question needs them). */
  walk: CountWalk | null;
  /** See ParsedRule.plainStepMs; with it, `count` bounds the instances (Infinity without COUNT). */
  plainStepMs: number | null;
  count: number;
  /** Last instant an RRULE instance may start at (inclusive); Infinity without UNTIL. */
  untilMs: number;
  /** Width of one windowed library call. */
  chunkMs: number;
  /** DTSTART and the RDATE values, placed when a question reaches them. */
  explicit: LazyInstants<DateValue>;
  /** The EXDATE values but dates, placed when an instance near them is produced. */
  exValues: LazyInstants<DateValue>;
  /** EXDATE;VALUE=DATE dates as YYYY-MM-DD in the series zone. */
  exLocalDates: Set<string>;
}

function compileParts(series: SeriesDefinition): SeriesParts {
  const { startMs, endMs, timeZone } = series;
  const zoneRules = series.zoneRules ?? null;
  if (!Number.isInteger(startMs) || !Number.isInteger(endMs) || startMs < MIN_INSTANT_MS || startMs > MAX_INSTANT_MS) {
    throw new RangeError('series startMs/endMs must be integer epoch milliseconds in years 0000-9999');
  }
  if (endMs < startMs) throw new RangeError('series endMs must not be before startMs');
  if (!isValidTimeZone(timeZone)) throw new RangeError(`series timeZone "${timeZone}" is not an IANA time zone`);
  const parsed = parseRecurrence(series.recurrence);
  if (!parsed.ok) throw new RangeError(`invalid recurrence[${parsed.line}]: ${parsed.message}`);
  const { rdates, exdates } = parsed.value;
  // A rule with no instance at all is left out: searching for one would run to the end of year 9999.
  const rule = parsed.value.rule?.neverMatches === null ? parsed.value.rule : undefined;

  // In a zone given by its rules, DTSTART's local time is its instant plus the offset then, and
  // the library sees it only as that local time, in UTC (every rule is expanded in wall-clock time).
  const dtstart = zoneRules
    ? Temporal.Instant.fromEpochMilliseconds(startMs + zoneRules.offsetAt(startMs)).toZonedDateTimeISO('UTC')
    : Temporal.Instant.fromEpochMilliseconds(startMs).toZonedDateTimeISO(timeZone);
  // DTSTART's local time of day, in milliseconds: a date-only RDATE is at that time.
  const wallDtstart = dtstart.toPlainDateTime().toZonedDateTime('UTC');
  const startTimeMs = ((wallDtstart.epochMilliseconds % 86_400_000) + 86_400_000) % 86_400_000;

  // Explicit local values use 'compatible' disambiguation: in an overlap that is the first
  // instant (matching generated occurrences), in a gap the RFC 5545 reading of a nonexistent
  // local time (shifted forward by the gap).
  const placement = newPlacementBudget();
  const inSeriesZone = (wallMs: number) => zoneRules ? zoneRules.instantOf(wallMs) : wallTimeToInstant(wallMs, timeZone, placement);
  const resolve = (value: DateValue): number => {
    switch (value.kind) {
      case 'utc': return value.ms;
      case 'zoned': return wallTimeToInstant(value.wallMs, value.zone, placement);
      case 'floating': return inSeriesZone(value.wallMs);
      case 'date': return inSeriesZone(value.wallMs + startTimeMs);
    }
  };

  // DTSTART and the RDATE/EXDATE values are kept as written and placed only when a question
  // reaches them (see LazyInstants): a value centuries from the instants asked about costs nothing.
  const reachOf = (value: DateValue): number => value.kind === 'utc' ? value.ms : value.kind === 'date' ? value.wallMs + startTimeMs : value.wallMs;
  const explicit = new LazyInstants<DateValue>([{ kind: 'utc', ms: startMs }, ...rdates], reachOf, resolve);
  const exLocalDates = new Set<string>();
  const exOthers: DateValue[] = [];
  for (const value of exdates) {
    if (value.kind === 'date') exLocalDates.add(value.text);
    else exOthers.push(value);
  }
  const exValues = new LazyInstants(exOthers, reachOf, resolve);

  let untilMs = Infinity;
  if (rule?.until) {
    // A date-only UNTIL keeps the whole local day: everything before the next day's start.
    untilMs = rule.until.kind === 'date'
      ? inSeriesZone(rule.until.wallMs + 86_400_000) - 1
      : resolve(rule.until);
  }

  let chunkMs = MAX_INSTANT_MS - MIN_INSTANT_MS;
  if (rule) {
    const periods = Math.min(MAX_PERIODS_PER_CHUNK, Math.floor(CHUNK_TARGET / rule.perPeriod));
    // When even one period may hold more than CHUNK_TARGET instances, size by the densest any rule
    // can be: one instance per second.
    chunkMs = periods >= 1 ? periods * rule.interval * PERIOD_MS[rule.freq] : CHUNK_TARGET * 1_000;
  }

  // Rules that repeat a time of day are expanded in wall-clock time (see SeriesParts.wallClock);
  // in a zone given by its rules, every rule is (the library knows only IANA zones).
  const byWallClock = rule !== undefined && (WALL_CLOCK_FREQS.has(rule.freq) || zoneRules !== null);
  return {
    zone: timeZone,
    zoneRules,
    startMs,
    durationMs: endMs - startMs,
    rule: rule && rule.plainStepMs === null ? buildLibraryRule(rule.uncountedText, byWallClock ? wallDtstart : dtstart) : undefined,
    wallClock: byWallClock ? { dtstartWallMs: wallDtstart.epochMilliseconds } : null,
    offsets: new Map(),
    placement,
    ruleHasCount: rule?.count !== undefined,
    walk: null,
    plainStepMs: rule?.plainStepMs ?? null,
    count: rule?.count ?? Infinity,
    untilMs,
    chunkMs,
    explicit,
    exValues,
    exLocalDates,
  };
}

function buildLibraryRule(text: string, dtstart: Temporal.ZonedDateTime): RRuleTemporal {
  return new RRuleTemporal({
    rruleString: text,
    dtstart,
    // DTSTART is always the first instance and counts toward COUNT even when the pattern would
    // not produce it (RFC 5545 §3.3.10); the library only yields it when told to include it.
    includeDtstart: true,
    strict: true,
    cache: false,
    maxCandidateEvaluations: MAX_CANDIDATE_EVALUATIONS,
  });
}

// ---------------------------------------------------------------------------------------------
// Generation

/** Frequencies whose instances repeat a local time of day, expanded in wall-clock time. */
const WALL_CLOCK_FREQS: ReadonlySet<Freq> = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']);
/**
 * How far around each end of a window the zone's offsets are read: a change of offset within a
 * day of an end can put a local time that belongs inside the window outside the local times its
 * two ends give (a clock going back just after the start, a skipped hour just before it).
 */
const OFFSET_PROBE_MS = 86_400_000;

/**
 * The library rule's instances starting at or after fromMs and before toMs, ascending. A rule
 * expanded in wall-clock time is asked for the local times the window can hold: from its start
 * plus the least offset in force within a day of the start, to its end plus the greatest within a
 * day of the end. That is the window itself wherever the clocks do not change near its ends (a
 * margin of a fixed width would cost a dense rule, whose windows are seconds wide, far more than
 * its window). Each local time is placed in the zone as an explicit local value is: the first
 * instant of a repeated time, the offset before the gap for one that does not exist. That can put
 * two local times on one instant (02:00 and 03:00 on a spring-forward night; 09:00 on a day a
 * zone skips and on the next) or swap two inside the gap; the results are in instant order, and
 * the callers keep one of a repeated instant (the COUNT walk counts it once).
 */
function ruleInstantsBetween(c: SeriesParts, rule: RRuleTemporal, fromMs: number, toMs: number): number[] {
  const wallClock = c.wallClock;
  if (!wallClock) {
    return rule.between(new Date(fromMs), new Date(toMs), true).map((zdt) => zdt.epochMilliseconds).filter((x) => x >= fromMs && x < toMs).sort((a, b) => a - b);
  }
  const offset = (ms: number) => offsetMsAt(c, ms);
  const wallFrom = fromMs + Math.min(offset(fromMs - OFFSET_PROBE_MS), offset(fromMs), offset(fromMs + OFFSET_PROBE_MS));
  const wallTo = toMs + Math.max(offset(toMs - OFFSET_PROBE_MS), offset(toMs), offset(toMs + OFFSET_PROBE_MS));
  const out: number[] = [];
  for (const zdt of rule.between(new Date(wallFrom), new Date(wallTo), true)) {
    const wallMs = zdt.epochMilliseconds;
    // DTSTART is its own instant even where its local time happens twice (the second of the pair).
    const ms = wallMs === wallClock.dtstartWallMs ? c.startMs : c.zoneRules ? c.zoneRules.instantOf(wallMs) : wallTimeToInstant(wallMs, c.zone, c.placement);
    if (ms >= fromMs && ms < toMs) out.push(ms);
  }
  return out.sort((a, b) => a - b);
}

/** The zone's offset at an instant, remembered per series: one window's end is the next one's start. */
function offsetMsAt(c: SeriesParts, ms: number): number {
  // Window bounds can be fractional (windows are sized by division).
  const at = Math.min(Math.max(Math.floor(ms), MIN_INSTANT_MS), MAX_INSTANT_MS);
  let offset = c.offsets.get(at);
  if (offset === undefined) {
    offset = c.zoneRules ? c.zoneRules.offsetAt(at) : Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(c.zone).offsetNanoseconds / 1e6;
    if (c.offsets.size >= 64) c.offsets.clear();
    c.offsets.set(at, offset);
  }
  return offset;
}

/** The library's own safety caps and Temporal range errors end generation; anything else is a bug. */
function isGenerationLimit(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  return error instanceof Error && /^Maximum (iterations|candidate evaluations)/.test(error.message);
}

interface Budget {
  generated: number;
  /** Set when generation stopped at a work cap before the end of the asked range. */
  isTruncated: boolean;
  /** How many instances the consumer will take at most: windows are sized not to overshoot it much. */
  wanted?: number;
  /** Yield PAUSE after each library call, for a consumer that gives the event loop a turn there. */
  isPaced?: boolean;
  /** Library calls made under this budget: MAX_CHUNKS at most, however many stretches it is spent over. */
  chunks: number;
  /** The width the next library call would have had: a search that goes on in the next stretch goes on at it. */
  chunkWidthMs?: number;
}

/**
 * Yielded among instance starts by a paced generation after each library call: a rule that
 * seldom matches can take hundreds of calls to find its next instance, each some milliseconds.
 */
const PAUSE = Number.NaN;

function newBudget(wanted?: number, isPaced = false): Budget {
  return { generated: 0, isTruncated: false, chunks: 0, ...(wanted === undefined ? {} : { wanted }), ...(isPaced ? { isPaced } : {}) };
}

/** RRULE instance starts in [loMs, hiMs), ascending, stopping at the work caps (and saying so in budget). */
function* ruleStarts(c: SeriesParts, loMs: number, hiMs: number, budget: Budget): Generator<number> {
  if (c.plainStepMs !== null) {
    yield* plainStepStarts(c, c.plainStepMs, loMs, hiMs, budget);
    return;
  }
  const rule = c.rule;
  if (!rule) return;
  const end = Math.min(hiMs, c.untilMs + 1, MAX_INSTANT_MS + 1);
  const begin = Math.max(loMs, c.startMs);
  if (begin >= end) return;

  if (c.ruleHasCount) {
    // COUNT depends on every instance since DTSTART: answered from the walk, extended as needed.
    // A paced generation pauses after each of the walk's steps (a rule begun decades ago has
    // thousands of instances to count first); an unpaced one walks in one go, so a caller that
    // must not block drives the walk beforehand (CompiledSeries.walkUntil).
    for (const _ of countWalkSteps(c, end)) {
      if (budget.isPaced) yield PAUSE;
    }
    const walk = c.walk!;
    if (walk.isTruncated && walk.coveredToMs < end) budget.isTruncated = true;
    for (let i = firstAtOrAfter(walk.starts, begin); i < walk.starts.length && walk.starts[i]! < end; i++) {
      if (budget.generated >= GENERATION_CAP) {
        budget.isTruncated = true;
        return;
      }
      budget.generated++;
      yield walk.starts[i]!;
    }
    return;
  }

  // Without COUNT the library can jump straight to a window, so walk the range in chunks sized
  // to stay well inside its per-call caps, and stop as soon as the consumer has enough. Chunks
  // start small and double, so a caller wanting the next few occurrences does not pay for
  // thousands.
  // A budget spent over several stretches (CompiledSeries.upcomingSteps) counts its calls and
  // goes on at its width across them, so that the search makes the calls one stretch would.
  let cursor = begin;
  let width = budget.chunkWidthMs ?? Math.max(c.chunkMs / 64, 1_000);
  const generatedBefore = budget.generated;
  while (cursor < end) {
    if (budget.chunks >= MAX_CHUNKS) {
      budget.isTruncated = true;
      return;
    }
    budget.chunks++;
    const chunkEnd = Math.min(end, cursor + width);
    let batch: number[];
    try {
      // Kept within [cursor, chunkEnd), so that chunks are disjoint.
      batch = ruleInstantsBetween(c, rule, cursor, chunkEnd);
    } catch (error) {
      if (!isGenerationLimit(error)) throw error;
      budget.isTruncated = true;
      return;
    }
    for (const ms of batch) {
      if (budget.generated >= GENERATION_CAP) {
        budget.isTruncated = true;
        return;
      }
      budget.generated++;
      yield ms;
    }
    if (budget.isPaced) yield PAUSE;
    cursor = chunkEnd;
    width = Math.min(width * 2, c.chunkMs);
    const found = budget.generated - generatedBefore;
    if (budget.wanted !== undefined && found > 0 && found < budget.wanted) {
      // The rule's density so far says how wide a window holds what is still wanted (a quarter
      // more, for instances the consumer skips; past that, windows double again): the library
      // generates all of a window, so a doubled one could cost twice the instances taken.
      width = Math.min(width, Math.max(((budget.wanted - found) * 1.25 * (cursor - begin)) / found, 1_000));
    }
    budget.chunkWidthMs = width;
  }
}

/**
 * A COUNT rule's instances from DTSTART. The library cannot skip ahead without losing the count,
 * so they are counted here: the rule without COUNT is generated in windows from DTSTART on (the
 * same instances in the same order, COUNT only ends them) and kept, at most GENERATION_CAP of
 * them and 4 * MAX_CHUNKS library calls of at most a quarter of a chunk per series. A compiled
 * series walks once however many questions it is asked, and the walk goes in short steps (about
 * WALK_STEP_INSTANCES each) that a caller can interleave with other work (CompiledSeries.walkUntil).
 */
interface CountWalk {
  starts: number[];
  /** Every instance before this instant is in `starts`; Infinity once the rule has ended. */
  coveredToMs: number;
  /** Stopped at a work cap: instances at or after coveredToMs are unknown. */
  isTruncated: boolean;
  chunks: number;
  widthMs: number;
}

function* countWalkSteps(c: SeriesParts, toMs: number): Generator<void> {
  const rule = c.rule;
  const walk = (c.walk ??= { starts: [], coveredToMs: c.startMs, isTruncated: false, chunks: 0, widthMs: Math.max(c.chunkMs / 64, 1_000) });
  if (!rule) {
    walk.coveredToMs = Infinity;
    return;
  }
  const limitMs = Math.min(c.untilMs + 1, MAX_INSTANT_MS + 1);
  while (!walk.isTruncated && walk.coveredToMs < toMs) {
    if (walk.coveredToMs >= limitMs || walk.starts.length >= c.count) {
      walk.coveredToMs = Infinity;
      return;
    }
    if (walk.chunks >= 4 * MAX_CHUNKS) {
      walk.isTruncated = true;
      return;
    }
    const from = walk.coveredToMs;
    const chunkEnd = Math.min(limitMs, from + walk.widthMs);
    walk.chunks++;
    let batch: number[];
    try {
      batch = ruleInstantsBetween(c, rule, from, chunkEnd);
    } catch (error) {
      if (!isGenerationLimit(error)) throw error;
      walk.isTruncated = true;
      return;
    }
    for (const ms of batch) {
      if (walk.starts.length >= c.count) break;
      // Two local times placed on one instant are one occurrence, and count once.
      if (ms === walk.starts.at(-1)) continue;
      if (walk.starts.length >= GENERATION_CAP) {
        walk.isTruncated = true;
        walk.coveredToMs = walk.starts.at(-1)! + 1;
        return;
      }
      walk.starts.push(ms);
    }
    walk.coveredToMs = walk.starts.length >= c.count ? Infinity : chunkEnd;
    // The next step: as wide as the rule's density says a step's worth takes, at most twice as
    // wide as this one and a quarter of a chunk.
    walk.widthMs = nextStepWidthMs(chunkEnd - from, batch.length, c.chunkMs / 4);
    yield;
  }
}

/**
 * The width of a step after one `stepMs` wide that met `found` instances: as wide as that density
 * says WALK_STEP_INSTANCES take, at most twice as wide (a sparse stretch grows the steps by
 * doubling) and `capMs`, and at least a second. Sized by the density whenever it says less than
 * twice, so that steps of a steady rule hold about WALK_STEP_INSTANCES, not twice that.
 */
function nextStepWidthMs(stepMs: number, found: number, capMs: number): number {
  const byDensityMs = found > 0 ? (stepMs * WALK_STEP_INSTANCES) / found : Infinity;
  return Math.max(Math.min(byDensityMs, stepMs * 2, capMs), 1_000);
}

/** Index of the first value >= ms in an ascending array. */
function firstAtOrAfter(values: readonly number[], ms: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Instances of a plain-step rule in [loMs, hiMs): DTSTART + k * step for k < COUNT, up to UNTIL,
 * starting at the first k inside the range rather than at DTSTART.
 */
function* plainStepStarts(c: SeriesParts, stepMs: number, loMs: number, hiMs: number, budget: Budget): Generator<number> {
  const end = Math.min(hiMs, c.untilMs + 1, MAX_INSTANT_MS + 1);
  const first = Math.max(0, Math.ceil((loMs - c.startMs) / stepMs));
  for (let k = first; k < c.count; k++) {
    const ms = c.startMs + k * stepMs;
    if (ms >= end) return;
    if (budget.generated >= GENERATION_CAP) {
      budget.isTruncated = true;
      return;
    }
    budget.generated++;
    yield ms;
  }
}

/** All occurrence starts in [loMs, hiMs): DTSTART, RRULE and RDATE merged, EXDATE removed. */
function* seriesStarts(c: SeriesParts, loMs: number, hiMs: number, budget: Budget = newBudget()): Generator<number> {
  const explicit = c.explicit.ascending(loMs, hiMs);
  let nextExplicit = explicit.next();
  const generated = ruleStarts(c, loMs, hiMs, budget);
  let next = generated.next();
  let previous = NaN;
  // A paced generation pauses after every WALK_STEP_INSTANCES values from the list as after a
  // library call: a series may list some 10,000 RDATE values, each placed and checked against the
  // EXDATE values, and the rule's density, which sizes a paced search's windows, does not count them.
  let listedSincePause = 0;
  for (;;) {
    if (!next.done && Number.isNaN(next.value)) {
      next = generated.next();
      yield PAUSE;
      continue;
    }
    const fromRule = next.done ? undefined : next.value;
    const fromList = nextExplicit.done ? undefined : nextExplicit.value;
    let candidate: number;
    if (fromRule === undefined && fromList === undefined) return;
    if (fromList === undefined || (fromRule !== undefined && fromRule <= fromList)) {
      candidate = fromRule!;
      next = generated.next();
    } else {
      candidate = fromList;
      nextExplicit = explicit.next();
      if (budget.isPaced && ++listedSincePause >= WALK_STEP_INSTANCES) {
        listedSincePause = 0;
        yield PAUSE;
      }
    }
    if (candidate === previous) continue;
    previous = candidate;
    if (isExcluded(c, candidate)) continue;
    yield candidate;
  }
}

function isExcluded(c: SeriesParts, startMs: number): boolean {
  if (c.exValues.has(startMs)) return true;
  return c.exLocalDates.size > 0 && c.exLocalDates.has(localDateOf(startMs, c));
}

/** Start of a local day in the series' zone, not midnight: in zones that change clocks at 00:00 the day can begin at 01:00. */
function dayStartOf(c: SeriesParts, day: Temporal.PlainDate): number {
  return c.zoneRules
    ? c.zoneRules.instantOf(day.toZonedDateTime('UTC').epochMilliseconds)
    : day.toZonedDateTime(c.zone).epochMilliseconds;
}

/** The local date (YYYY-MM-DD) of an instant in the series' zone. */
function localDateOf(ms: number, c: SeriesParts): string {
  if (c.zoneRules) return new Date(ms + c.zoneRules.offsetAt(ms)).toISOString().slice(0, 10);
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(c.zone).toPlainDate().toString();
}

function occurrenceAt(c: SeriesParts, startMs: number): Occurrence {
  return { originalStartMs: startMs, startMs, endMs: startMs + c.durationMs };
}

// ---------------------------------------------------------------------------------------------
// Queries

/** What upcoming() found, and whether it stopped at a work cap before finding all it was asked for. */
export interface UpcomingOccurrences {
  occurrences: Occurrence[];
  isTruncated: boolean;
}

/**
 * A series parsed and placed in its zone once. Every question below costs a windowed generation
 * near the instant asked about, never a walk of the whole series (except for COUNT rules the
 * library must count from DTSTART; see ruleStarts).
 */
export class CompiledSeries {
  readonly #c: SeriesParts;
  /** What the series was compiled from. */
  readonly definition: SeriesDefinition;

  constructor(series: SeriesDefinition) {
    this.#c = compileParts(series);
    this.definition = series;
  }

  /** The series zone (an IANA name). */
  get zone(): string {
    return this.#c.zone;
  }

  /**
   * For a COUNT rule, walks its instances up to `untilMs` in bounded steps, yielding (nothing)
   * after each, so that a caller can give the event loop a turn between them; questions about
   * instants before `untilMs` are then answered from memory. Without it the first question walks
   * in one go. Nothing to do for other rules, which jump straight to the instant asked about.
   */
  *walkUntil(untilMs: number): Generator<void> {
    if (this.#c.ruleHasCount && this.#c.plainStepMs === null) yield* countWalkSteps(this.#c, untilMs);
  }

  /**
   * Occurrences whose [startMs, endMs) overlaps [fromMs, toMs), by start. A zero-length occurrence
   * counts when it starts inside the window. `limit` applies after `skipOriginalStartsMs`; in any
   * case no more than GENERATION_CAP rule instances are generated, so abusive rules are cut short
   * rather than expanded without end.
   */
  expand(window: { fromMs: number; toMs: number }, options: { limit?: number; skipOriginalStartsMs?: ReadonlySet<number> } = {}): Occurrence[] {
    const limit = checkLimit(options.limit);
    const out: Occurrence[] = [];
    if (limit === 0) return out;
    for (const occurrence of this.overlapping(window, options)) {
      out.push(occurrence);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The occurrences expand() gives, one at a time: a caller that needs only some stops early and pays for those. */
  *overlapping(window: { fromMs: number; toMs: number }, options: { skipOriginalStartsMs?: ReadonlySet<number> } = {}): Generator<Occurrence> {
    for (const occurrence of this.#overlapping(window, options, false)) yield occurrence!;
  }

  /**
   * The occurrences overlapping() gives, with a null after each step of the search (one library
   * call, some milliseconds at most): a caller on the event loop gives it a turn there, so that a
   * rule that seldom matches, searched over centuries, never holds the loop for the whole search.
   */
  overlappingInSteps(window: { fromMs: number; toMs: number }, options: { skipOriginalStartsMs?: ReadonlySet<number> } = {}): Generator<Occurrence | null> {
    return this.#overlapping(window, options, true);
  }

  *#overlapping(window: { fromMs: number; toMs: number }, options: { skipOriginalStartsMs?: ReadonlySet<number> }, isPaced: boolean): Generator<Occurrence | null> {
    const { fromMs, toMs } = window;
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError('window fromMs/toMs must be numbers');
    const c = this.#c;
    if (toMs <= fromMs) return;
    const duration = c.durationMs;
    for (const start of seriesStarts(c, Math.max(fromMs - duration, MIN_INSTANT_MS), Math.min(toMs, MAX_INSTANT_MS + 1), newBudget(undefined, isPaced))) {
      if (Number.isNaN(start)) {
        yield null;
        continue;
      }
      const overlaps = duration === 0 ? start >= fromMs : start + duration > fromMs;
      if (!overlaps || options.skipOriginalStartsMs?.has(start)) continue;
      yield occurrenceAt(c, start);
    }
  }

  /**
   * The first `limit` occurrences that have not ended at afterMs (endMs > afterMs) and start
   * before `beforeMs` (default: the end of year 9999), in order, leaving out
   * `skipOriginalStartsMs`.
   */
  upcoming(afterMs: number, limit: number, options: { beforeMs?: number; skipOriginalStartsMs?: ReadonlySet<number> } = {}): UpcomingOccurrences {
    if (Number.isNaN(afterMs)) throw new RangeError('afterMs must be a number');
    const max = checkLimit(limit);
    const c = this.#c;
    const out: Occurrence[] = [];
    const budget = newBudget(max + (options.skipOriginalStartsMs?.size ?? 0));
    if (max === 0) return { occurrences: out, isTruncated: false };
    const hiMs = Math.min(options.beforeMs ?? Infinity, MAX_INSTANT_MS + 1);
    for (const start of seriesStarts(c, Math.max(afterMs - c.durationMs, MIN_INSTANT_MS), hiMs, budget)) {
      if (start + c.durationMs <= afterMs || options.skipOriginalStartsMs?.has(start)) continue;
      out.push(occurrenceAt(c, start));
      if (out.length >= max) return { occurrences: out, isTruncated: false };
    }
    return { occurrences: out, isTruncated: budget.isTruncated };
  }

  /**
   * upcoming() over a bounded stretch, as steps: the stretch is searched in windows of about
   * WALK_STEP_INSTANCES rule instances (the next one as wide as the last one's density says,
   * twice as wide after a sparse one), and a step ends after each window and after each library
   * call, so that a caller gives the event loop a turn between them. The answer is upcoming()'s
   * with `beforeMs`, its work caps included: the windows share one budget, so its instances and
   * library calls (MAX_CHUNKS) are counted across them, and each window's calls go on at the
   * width the last one left. A COUNT rule is counted up to each window in the walk's steps.
   * A daily series whose next years are all removed by EXDATE values generates thousands of
   * instances to find nothing (0.1 ms an instance on a busy machine), which in one step would
   * hold the loop for the whole search.
   */
  *upcomingSteps(afterMs: number, limit: number, options: { beforeMs: number; skipOriginalStartsMs?: ReadonlySet<number> }): Generator<void, UpcomingOccurrences> {
    if (Number.isNaN(afterMs) || Number.isNaN(options.beforeMs)) throw new RangeError('afterMs and beforeMs must be numbers');
    const max = checkLimit(limit);
    const c = this.#c;
    const out: Occurrence[] = [];
    if (max === 0) return { occurrences: out, isTruncated: false };
    const budget = newBudget(max + (options.skipOriginalStartsMs?.size ?? 0), true);
    const hiMs = Math.min(options.beforeMs, MAX_INSTANT_MS + 1);
    let loMs = Math.max(afterMs - c.durationMs, MIN_INSTANT_MS);
    let widthMs = Math.max(c.chunkMs / 64, 1_000);
    while (loMs < hiMs) {
      const windowEndMs = Math.min(hiMs, loMs + widthMs);
      const generatedBefore = budget.generated;
      for (const start of seriesStarts(c, loMs, windowEndMs, budget)) {
        if (Number.isNaN(start)) {
          yield;
          continue;
        }
        if (start + c.durationMs <= afterMs || options.skipOriginalStartsMs?.has(start)) continue;
        out.push(occurrenceAt(c, start));
        if (out.length >= max) return { occurrences: out, isTruncated: false };
      }
      if (budget.isTruncated) break;
      widthMs = nextStepWidthMs(windowEndMs - loMs, budget.generated - generatedBefore, c.chunkMs);
      loMs = windowEndMs;
      yield;
    }
    return { occurrences: out, isTruncated: budget.isTruncated };
  }

  /**
   * An instant after which no occurrence of the series is still going on: the end of its last
   * occurrence, or a little later (an EXDATE can remove the last one; an UNTIL is taken at its
   * word). Null when there is no last occurrence (an RRULE without COUNT or UNTIL), or when finding
   * it would walk more than LAST_END_COUNT_CAP instances.
   */
  lastEndMs(): number | null {
    return finishSteps(this.lastEndSteps());
  }

  /**
   * lastEndMs() as bounded steps: the COUNT walk it may need (up to LAST_END_COUNT_CAP instances,
   * tens of milliseconds in a zone read by its own rules) yields (nothing) after each of its steps,
   * so that a caller can give the event loop a turn between them.
   */
  *lastEndSteps(): Generator<void, number | null> {
    const c = this.#c;
    if (c.ruleHasCount && c.plainStepMs === null && c.untilMs === Infinity && c.count <= LAST_END_COUNT_CAP) yield* countWalkSteps(c, Infinity);
    return this.#lastEndOfWalked();
  }

  #lastEndOfWalked(): number | null {
    const c = this.#c;
    // DTSTART and every RDATE end by then (the latest of them is placed, not the others).
    const lastExplicitEndMs = c.explicit.last()! + c.durationMs;
    if (c.rule === undefined && c.plainStepMs === null) return lastExplicitEndMs;
    if (c.untilMs !== Infinity) return Math.max(c.untilMs + c.durationMs, lastExplicitEndMs);
    if (c.count > LAST_END_COUNT_CAP) return null;
    // The rule's instances, at most COUNT, those an EXDATE removes left out.
    const budget = newBudget();
    let latestEndMs = lastExplicitEndMs;
    for (const start of ruleStarts(c, MIN_INSTANT_MS, MAX_INSTANT_MS + 1, budget)) {
      if (!isExcluded(c, start)) latestEndMs = Math.max(latestEndMs, start + c.durationMs);
    }
    return budget.isTruncated ? null : latestEndMs;
  }

  /**
   * lastEndMs(), or, for a COUNT rule past LAST_END_COUNT_CAP, the end already known without a
   * walk of its own: a plain step's by arithmetic, another rule's once walkUntil() (or a question
   * that walked) has counted it out. Null for a rule without end, and for a COUNT rule not counted
   * out: one not walked far enough yet, or one whose walk stopped at a work cap (uncountable, which
   * is not ended).
   */
  countedLastEndMs(): number | null {
    const known = this.lastEndMs();
    if (known !== null || !this.#c.ruleHasCount) return known;
    const c = this.#c;
    const lastExplicitEndMs = c.explicit.last()! + c.durationMs;
    if (c.plainStepMs !== null) return Math.max(Math.min(c.startMs + (c.count - 1) * c.plainStepMs, MAX_INSTANT_MS) + c.durationMs, lastExplicitEndMs);
    const walk = c.walk;
    if (!walk || walk.isTruncated || walk.coveredToMs !== Infinity) return null;
    return Math.max((walk.starts.at(-1) ?? Number.NEGATIVE_INFINITY) + c.durationMs, lastExplicitEndMs);
  }

  /** The occurrence whose original start is exactly originalStartMs, or null. */
  find(originalStartMs: number): Occurrence | null {
    if (!Number.isFinite(originalStartMs)) return null;
    for (const start of seriesStarts(this.#c, originalStartMs, originalStartMs + 1)) {
      if (start === originalStartMs) return occurrenceAt(this.#c, start);
    }
    return null;
  }

  /** Occurrences starting on a local calendar date (YYYY-MM-DD) in the series zone. */
  onLocalDate(isoDate: string): Occurrence[] {
    return [...this.startingOnLocalDate(isoDate)];
  }

  /** The occurrences onLocalDate() gives, one at a time; the date is checked at once. */
  startingOnLocalDate(isoDate: string): Generator<Occurrence> {
    const match = typeof isoDate === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate) : null;
    let date: Temporal.PlainDate;
    try {
      if (!match) throw new RangeError();
      date = Temporal.PlainDate.from({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }, { overflow: 'reject' });
    } catch {
      throw new RangeError(`"${isoDate}" is not a date in YYYY-MM-DD form`);
    }
    const c = this.#c;
    const dayStart = dayStartOf(c, date);
    const nextDayStart = dayStartOf(c, date.add({ days: 1 }));
    return (function* () {
      for (const start of seriesStarts(c, dayStart, nextDayStart)) yield occurrenceAt(c, start);
    })();
  }

  /**
   * The instant a local date (YYYY-MM-DD) begins in the series zone (its rules, when it has
   * them): not always midnight, as a zone that changes its clocks at 00:00 begins that day at 01:00.
   */
  localDayStartMs(isoDate: string): number {
    return dayStartOf(this.#c, Temporal.PlainDate.from(isoDate, { overflow: 'reject' }));
  }

  /** The local calendar date (YYYY-MM-DD) of an instant in the series zone. */
  localDateOf(ms: number): string {
    return localDateOf(ms, this.#c);
  }
}

/** Parses and places a series once, for several questions; throws RangeError for an invalid one. */
export function compileSeries(series: SeriesDefinition): CompiledSeries {
  return new CompiledSeries(series);
}

/**
 * See CompiledSeries.lastEndMs: an instant after which no occurrence of the series is going on,
 * or null when there is none to find (or the series cannot be read).
 */
export function seriesEndMs(series: SeriesDefinition): number | null {
  try {
    return compileSeries(series).lastEndMs();
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

/** See CompiledSeries.expand. */
export function expandSeries(
  series: SeriesDefinition,
  window: { fromMs: number; toMs: number },
  options: { limit?: number; skipOriginalStartsMs?: ReadonlySet<number> } = {},
): Occurrence[] {
  if (Number.isNaN(window.fromMs) || Number.isNaN(window.toMs)) throw new RangeError('window fromMs/toMs must be numbers');
  checkLimit(options.limit);
  return compileSeries(series).expand(window, options);
}

/** The first `limit` occurrences that have not ended at afterMs (endMs > afterMs), in order. */
export function nextOccurrences(series: SeriesDefinition, afterMs: number, limit: number): Occurrence[] {
  if (Number.isNaN(afterMs)) throw new RangeError('afterMs must be a number');
  checkLimit(limit);
  return compileSeries(series).upcoming(afterMs, limit).occurrences;
}

/** The occurrence whose original start is exactly originalStartMs, or null. */
export function findOccurrence(series: SeriesDefinition, originalStartMs: number): Occurrence | null {
  return compileSeries(series).find(originalStartMs);
}

/** Occurrences starting on a local calendar date (YYYY-MM-DD) in the series zone. */
export function findOccurrencesOnLocalDate(series: SeriesDefinition, isoDate: string): Occurrence[] {
  if (typeof isoDate !== 'string' || !/^(\d{4})-(\d{2})-(\d{2})$/.test(isoDate)) throw new RangeError(`"${isoDate}" is not a date in YYYY-MM-DD form`);
  return compileSeries(series).onLocalDate(isoDate);
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Infinity;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, not ${limit}`);
  return limit;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
