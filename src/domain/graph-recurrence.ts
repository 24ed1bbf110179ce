// Microsoft Graph `patternedRecurrence` (the `recurrence` of an Outlook event of type seriesMaster)
// turned into one RFC 5545 RRULE line that src/domain/recurrence.ts can expand.
//
// Sources for every mapping rule below (cited again where each rule is applied):
// - recurrencePattern: learn.microsoft.com/graph/api/resources/recurrencepattern
// - recurrenceRange:   learn.microsoft.com/graph/api/resources/recurrencerange
// - patternedRecurrence (pattern + range): learn.microsoft.com/graph/api/resources/patternedrecurrence
// - Exchange's day-of-month rule: learn.microsoft.com/exchange/client-developer/web-service-reference/dayofmonth
// - RRULE grammar: RFC 5545 §3.3.10.
//
// Contract:
// - Pure and total: no I/O, no clock, no process time zone, and never throws. Whatever the input
//   (provider JSON, so anything), the answer is an RRULE line or null. Null means missing,
//   malformed, or not expressible faithfully; the caller then treats the series as unknown rather
//   than guessing.
// - Only fields relevant to the pattern/range type are read. Graph fills the others with
//   placeholders (weekly patterns come back with "month": 0, "dayOfMonth": 0, "index": "first";
//   noEnd ranges with "endDate": "0001-01-01", "numberOfOccurrences": 0), so they must not matter.
// - Nothing from the input is copied into the output: every part is rebuilt from validated numbers
//   or looked up in fixed tables, so "daily;COUNT=1" and the like cannot inject rule parts.
// - Output uses only parts recurrence.ts accepts: FREQ, INTERVAL, COUNT, UNTIL, BYMONTH,
//   BYMONTHDAY, BYDAY (no ordinals), BYSETPOS, WKST.
//
// The end date (range type endDate). Graph's endDate is a calendar date in the range's time zone
// (recurrenceTimeZone, or the event's zone when absent) and the range includes it: the event
// repeats "between the startDate and endDate inclusive". An occurrence at any time on that local
// day must therefore survive UNTIL. A fixed UTC clock time cannot do that for every zone
// (UNTIL=<endDate>T235959Z drops a 17:00 Los Angeles meeting, which starts on the next UTC day),
// so UNTIL is computed from the zone:
// - When an IANA zone is known, UNTIL is the last whole second of the local end date in that zone,
//   in UTC ("...Z"): the form RFC 5545 requires when DTSTART carries a zone. The day ends where
//   the next local day begins, found as recurrence.ts places a local midnight (a midnight skipped
//   by a DST change means the day starts after the gap; a repeated one means its first instant).
//   Occurrence starts have whole seconds, so "at or before hh:mm:59" loses nothing.
//   The zone is recurrenceTimeZone when it is, or resolves (options.resolveTimeZone) to, an IANA
//   name; otherwise options.timeZone (the series' zone, which Graph says applies when
//   recurrenceTimeZone is absent, and which in practice is the same zone written the Windows way).
// - With no usable zone, there is no rule (null): no UTC instant ends that local day for every
//   zone, and a bare date (UNTIL=YYYYMMDD) beside a date-time start is not RFC 5545 (python-dateutil
//   refuses it; rrule.js reads it as midnight UTC and drops the end date's occurrence).
// - An all-day series (options.isAllDay) starts on dates, so UNTIL is the end date itself
//   (UNTIL=YYYYMMDD), the form RFC 5545 asks beside a date start.
// The series start instant would not make UNTIL any more exact (the end of the local day depends
// only on the zone), so the function does not ask for it.
import { isValidTimeZone } from './recurrence.ts';

export interface GraphRecurrenceOptions {
  /** IANA zone of the series (the event's start zone) if known; null or absent otherwise. */
  timeZone?: string | null;
  /**
   * Maps a zone name as Graph writes it in recurrenceTimeZone (often a Windows name such as
   * "Pacific Standard Time") to an IANA name, or null when unknown. Optional; its answer is checked.
   */
  resolveTimeZone?: (name: string) => string | null;
  /** The series is all-day (its start is a date): UNTIL is then the end date itself. */
  isAllDay?: boolean;
}

/** Largest INTERVAL / COUNT recurrence.ts accepts (nine digits); beyond it the rule is not expressible. */
const MAX_RULE_NUMBER = 999_999_999;

// recurrencepattern: daysOfWeek / firstDayOfWeek values are sunday..saturday.
const WEEKDAY_CODES = new Map<string, string>([
  ['monday', 'MO'], ['tuesday', 'TU'], ['wednesday', 'WE'], ['thursday', 'TH'], ['friday', 'FR'], ['saturday', 'SA'], ['sunday', 'SU'],
]);
/** RRULE order of weekday codes, so that BYDAY lists come out the same whatever order Graph used. */
const WEEKDAY_ORDER = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

// recurrencepattern: index is first, second, third, fourth or last; it picks that instance of the
// allowed days in the month, which is what BYSETPOS does to the set BYDAY makes in each period.
const SET_POSITIONS = new Map<string, number>([['first', 1], ['second', 2], ['third', 3], ['fourth', 4], ['last', -1]]);

type PatternType = 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
const PATTERN_TYPES = new Map<string, PatternType>(
  (['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'] as const).map((t) => [t.toLowerCase(), t]),
);
type RangeType = 'endDate' | 'noEnd' | 'numbered';
const RANGE_TYPES = new Map<string, RangeType>((['endDate', 'noEnd', 'numbered'] as const).map((t) => [t.toLowerCase(), t]));

/**
 * The RRULE line ('RRULE:FREQ=...') for a Graph patternedRecurrence, or null when the input is
 * missing, malformed or cannot be expressed faithfully. Never throws.
 */
export function rruleOfGraphRecurrence(recurrence: unknown, options?: GraphRecurrenceOptions): string | null {
  try {
    return convert(recurrence, options);
  } catch {
    // Only reachable through exotic objects (throwing getters, proxies); JSON never gets here.
    return null;
  }
}

function convert(recurrence: unknown, options: GraphRecurrenceOptions | undefined): string | null {
  // patternedrecurrence: a recurrence is its pattern (how often) plus its range (how long); both are needed.
  const pattern = field(recurrence, 'pattern');
  const range = field(recurrence, 'range');
  if (!isRecord(pattern) || !isRecord(range)) return null;

  const patternParts = patternRuleParts(pattern);
  if (!patternParts) return null;
  const rangePart = rangeRulePart(range, options);
  if (rangePart === null) return null;

  const [freqAndInterval, ...byParts] = patternParts;
  return `RRULE:${[freqAndInterval, ...(rangePart === '' ? [] : [rangePart]), ...byParts].join(';')}`;
}

/** FREQ[;INTERVAL] first, then the BYxxx parts and WKST; null when the pattern is unusable. */
function patternRuleParts(pattern: Record<string, unknown>): string[] | null {
  const type = enumValue(field(pattern, 'type'), PATTERN_TYPES);
  if (!type) return null;

  // recurrencepattern: interval is required for every type, "the number of units between
  // occurrences" (days, weeks, months or years). Zero, negative, fractional or absent is invalid.
  const interval = integerIn(field(pattern, 'interval'), 1, MAX_RULE_NUMBER);
  if (interval === null) return null;
  const withInterval = (freq: string) => (interval === 1 ? `FREQ=${freq}` : `FREQ=${freq};INTERVAL=${interval}`);

  switch (type) {
    case 'daily':
      // recurrencepattern: daily needs only type and interval ("repeat every 3 days").
      return [withInterval('DAILY')];

    case 'weekly': {
      // recurrencepattern: weekly needs daysOfWeek and firstDayOfWeek; "Default is sunday" for the
      // latter. firstDayOfWeek decides which days share a week, which matters once interval > 1
      // (every other week on Sunday and Monday), so it is always written as WKST: the RFC 5545
      // default (MO) is not Graph's (SU).
      const days = weekdays(field(pattern, 'daysOfWeek'));
      const rawFirst = field(pattern, 'firstDayOfWeek');
      const firstDay = rawFirst === undefined || rawFirst === null ? 'SU' : weekday(rawFirst);
      if (!days || !firstDay) return null;
      return [withInterval('WEEKLY'), `BYDAY=${days.join(',')}`, `WKST=${firstDay}`];
    }

    case 'absoluteMonthly': {
      // recurrencepattern: absoluteMonthly needs dayOfMonth ("on the 15th every 3 months").
      const day = integerIn(field(pattern, 'dayOfMonth'), 1, 31);
      if (day === null) return null;
      return [withInterval('MONTHLY'), ...monthDayParts(day)];
    }

    case 'relativeMonthly': {
      // recurrencepattern: relativeMonthly needs daysOfWeek; index is optional, default first.
      const relative = relativeParts(pattern);
      if (!relative) return null;
      return [withInterval('MONTHLY'), ...relative];
    }

    case 'absoluteYearly': {
      // recurrencepattern: absoluteYearly needs dayOfMonth and month ("the 15th of March every 3 years").
      const month = integerIn(field(pattern, 'month'), 1, 12);
      const day = integerIn(field(pattern, 'dayOfMonth'), 1, 31);
      if (month === null || day === null) return null;
      return [withInterval('YEARLY'), `BYMONTH=${month}`, ...monthDayParts(day)];
    }

    case 'relativeYearly': {
      // recurrencepattern: relativeYearly needs daysOfWeek and month; index as for relativeMonthly
      // ("the second Thursday or Friday of every November every 3 years").
      const month = integerIn(field(pattern, 'month'), 1, 12);
      const relative = relativeParts(pattern);
      if (month === null || !relative) return null;
      return [withInterval('YEARLY'), `BYMONTH=${month}`, ...relative];
    }
  }
}

/**
 * BYDAY + BYSETPOS for the relative types. recurrencepattern: index says "on which instance of the
 * allowed days specified in daysOfWeek the event occurs, counted from the first instance in the
 * month", and with several days "the event falls on the first day that satisfies the pattern".
 * BYDAY lists the allowed days of the month (or of the BYMONTH month) and BYSETPOS picks the n-th
 * (-1: last) of them, so "first weekday" is BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1. A single day uses the
 * same form (BYDAY=TH;BYSETPOS=2 is the second Thursday), so there is one shape for all inputs.
 */
function relativeParts(pattern: Record<string, unknown>): string[] | null {
  const days = weekdays(field(pattern, 'daysOfWeek'));
  const rawIndex = field(pattern, 'index');
  const position = rawIndex === undefined || rawIndex === null ? 1 : enumValue(rawIndex, SET_POSITIONS);
  if (!days || position === null) return null;
  return [`BYDAY=${days.join(',')}`, `BYSETPOS=${position}`];
}

/**
 * BYMONTHDAY for a Graph dayOfMonth. Exchange, which stores Outlook calendars, documents that "if
 * for a particular month this value is larger than the number of days in the month, the last day
 * of the month is assumed" (web-service-reference/dayofmonth), whereas RFC 5545 skips months
 * without that day. Days 1..28 exist in every month; for 29..31 the rule lists 28..day and keeps
 * the last that exists (BYSETPOS=-1): the day itself where the month has it, else the month's last day.
 */
function monthDayParts(day: number): string[] {
  if (day <= 28) return [`BYMONTHDAY=${day}`];
  const days: number[] = [];
  for (let d = 28; d <= day; d++) days.push(d);
  return [`BYMONTHDAY=${days.join(',')}`, 'BYSETPOS=-1'];
}

/** '' for no bound, 'COUNT=n' or 'UNTIL=...', or null when the range is unusable. */
function rangeRulePart(range: Record<string, unknown>, options: GraphRecurrenceOptions | undefined): string | null {
  const type = enumValue(field(range, 'type'), RANGE_TYPES);
  if (!type) return null;
  // recurrencerange: startDate is required for every range type (and equals the event's start date).
  const startDate = isoDate(field(range, 'startDate'));
  if (!startDate) return null;

  switch (type) {
    case 'noEnd':
      // recurrencerange: noEnd repeats indefinitely from startDate. endDate/numberOfOccurrences are placeholders here.
      return '';

    case 'numbered': {
      // recurrencerange: numbered needs numberOfOccurrences, "required and must be positive".
      const count = integerIn(field(range, 'numberOfOccurrences'), 1, MAX_RULE_NUMBER);
      return count === null ? null : `COUNT=${count}`;
    }

    case 'endDate': {
      // recurrencerange: endDate repeats on every day fitting the pattern "between the startDate
      // and endDate inclusive"; both are dates in recurrenceTimeZone, or in the event's zone when
      // that is not specified. An end before the start is not a range Graph produces.
      const endDate = isoDate(field(range, 'endDate'));
      if (!endDate || compareDates(endDate, startDate) < 0) return null;
      // An all-day series starts on dates (DTSTART;VALUE=DATE), and RFC 5545 wants UNTIL of the
      // same kind: the end date itself.
      if (isRecord(options) && options.isAllDay === true) return `UNTIL=${basicDate(endDate)}`;
      const zone = rangeZone(field(range, 'recurrenceTimeZone'), options);
      const untilMs = zone === null ? null : endOfLocalDateMs(endDate, zone);
      // Without the zone no UTC instant ends that local day in every case, and a bare date beside
      // a date-time start is not RFC 5545 (clients refuse or misread it): no rule rather than a wrong one.
      return untilMs === null ? null : `UNTIL=${basicUtc(untilMs)}`;
    }
  }
}

/** The IANA zone the range's dates are in, or null when it cannot be known. See the module comment. */
function rangeZone(recurrenceTimeZone: unknown, options: GraphRecurrenceOptions | undefined): string | null {
  const known = (zone: unknown): zone is string => typeof zone === 'string' && isValidTimeZone(zone);
  if (typeof recurrenceTimeZone === 'string' && recurrenceTimeZone !== '') {
    if (known(recurrenceTimeZone)) return recurrenceTimeZone;
    const resolve = isRecord(options) ? options.resolveTimeZone : undefined;
    if (typeof resolve === 'function') {
      let resolved: unknown = null;
      try {
        resolved = resolve(recurrenceTimeZone);
      } catch {
        resolved = null;
      }
      if (known(resolved)) return resolved;
    }
  }
  const seriesZone = isRecord(options) ? options.timeZone : undefined;
  return known(seriesZone) ? seriesZone : null;
}

// ---------------------------------------------------------------------------------------------
// Reading untrusted JSON

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property of a plain object; never something inherited (no '__proto__', 'constructor' tricks). */
function field(value: unknown, key: string): unknown {
  return isRecord(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

/** A JSON number that is an integer in [min, max]; strings such as "2" are not numbers. */
function integerIn(value: unknown, min: number, max: number): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/**
 * A value of one of Graph's enumerations. Matched without regard to case: the documentation spells
 * them camelCase (absoluteMonthly, noEnd), earlier Outlook APIs PascalCase (NoEnd); the table, not
 * the input, provides what is returned.
 */
function enumValue<T>(value: unknown, table: ReadonlyMap<string, T>): T | null {
  if (typeof value !== 'string' || value.length > 32) return null;
  return table.get(value.toLowerCase()) ?? null;
}

function weekday(value: unknown): string | null {
  return enumValue(value, WEEKDAY_CODES);
}

/** A non-empty list of weekday names as RRULE codes, deduplicated, in RRULE order; null if any entry is not a weekday. */
function weekdays(value: unknown): string[] | null {
  if (!Array.isArray(value) || value.length === 0 || value.length > 7 * 4) return null;
  const codes = new Set<string>();
  for (const item of value) {
    const code = weekday(item);
    if (!code) return null;
    codes.add(code);
  }
  return WEEKDAY_ORDER.filter((code) => codes.has(code));
}

interface PlainDate { year: number; month: number; day: number }

/** A real calendar date written YYYY-MM-DD (Graph's Date type), years 0001..9999. */
function isoDate(value: unknown): PlainDate | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (date.year < 1 || date.month < 1 || date.month > 12 || date.day < 1 || date.day > daysInMonth(date.year, date.month)) return null;
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function compareDates(a: PlainDate, b: PlainDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

// ---------------------------------------------------------------------------------------------
// Zone arithmetic (Intl only; no library)

const DAY_MS = 86_400_000;

/** Epoch ms of a wall-clock reading taken as if it were UTC (valid for years 0001..9999, unlike Date.UTC). */
function wallMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading (as wallMs) of an instant in a zone, to the second. */
function wallClockOf(instantMs: number, zone: string): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const parts = new Map<string, string>(formatter.formatToParts(instantMs).map((p) => [p.type, p.value]));
  const num = (type: string) => Number(parts.get(type));
  return wallMs(num('year'), num('month'), num('day'), num('hour') % 24, num('minute'), num('second'));
}

/**
 * The instant a local wall-clock time names in a zone, the way recurrence.ts (Temporal's
 * 'compatible' disambiguation) reads it: in a repeated hour the earlier instant, in a skipped one
 * the time shifted forward by the gap.
 */
function instantOfWallClock(localMs: number, zone: string): number {
  const offsetBefore = wallClockOf(localMs - DAY_MS, zone) - (localMs - DAY_MS);
  const offsetAfter = wallClockOf(localMs + DAY_MS, zone) - (localMs + DAY_MS);
  const matches = [localMs - offsetBefore, localMs - offsetAfter].filter((t) => wallClockOf(t, zone) === localMs);
  if (matches.length > 0) return Math.min(...matches);
  return localMs - offsetBefore;
}

/**
 * The last whole second of a local date in a zone (the next local day's start, minus one second),
 * or null outside years 1000..9998, where the bare-date form is used instead (it keeps UNTIL's
 * four-digit year and recurrence.ts handles it without this arithmetic).
 */
function endOfLocalDateMs(date: PlainDate, zone: string): number | null {
  if (date.year < 1000 || date.year > 9998) return null;
  const nextDayMs = wallMs(date.year, date.month, date.day) + DAY_MS;
  const ms = instantOfWallClock(nextDayMs, zone) - 1_000;
  return Number.isFinite(ms) ? ms : null;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function basicDate(date: PlainDate): string {
  return `${pad(date.year, 4)}${pad(date.month, 2)}${pad(date.day, 2)}`;
}

/** YYYYMMDDTHHMMSSZ. */
function basicUtc(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
}
