// RFC 5545 iCalendar feed parsing into ProviderEvents: line unfolding, parameters (quoted ones
// too), text escapes, VTIMEZONE, DTSTART/DTEND/DURATION in UTC, with TZID, floating or all-day,
// RRULE/RDATE/EXDATE, RECURRENCE-ID overrides and STATUS:CANCELLED.
//
// Series are not expanded here: a VEVENT with RRULE/RDATE becomes a series with RFC 5545 lines,
// which Rollcall expands in the series' IANA zone (domain/recurrence.ts). A TZID therefore has to
// become an IANA name. In order: the TZID itself; an IANA name at its end
// ("/citadel.org/20190903_1/Europe/Berlin"); the VTIMEZONE's X-LIC-LOCATION; a Windows zone name
// (Outlook exports); and last the IANA zone whose UTC offsets match the VTIMEZONE's own rules
// over three years. A TZID none of these resolve but with a VTIMEZONE in the feed is read by that
// VTIMEZONE's own rules (domain/observed-offsets.ts); a series in it carries those rules
// (ProviderEvent.zoneRules), by which it is expanded. Any other is read in the calendar's X-WR-TIMEZONE when it states an
// IANA zone, else as UTC, with a warning either way.
//
// A feed is outside input, so the parser is built to stay cheap whatever it is sent
// (docs/ics-parsing.md has the measurements behind these choices):
// - One pass over the text, each character looked at a bounded number of times; a component
//   keeps offsets into the text, never copies of its children's lines, so deep or wide feeds
//   cost memory and time in proportion to their size.
// - Limits (ICS_LIMITS) on characters, content lines, nesting depth, components, properties per
//   component, events, time-zone matches and warnings. A feed over one is refused as a whole
//   with an IcsParseError naming the limit, which the adapter reports as a permanent failure.
//   Checks of zone names that are not listed ones have a budget too (maxUnlistedZoneChecks): past
//   it, such a name is taken for no zone, with a warning, and the feed is read.
// - Only the components events are built from (VCALENDAR, VEVENT, VTIMEZONE and its
//   STANDARD/DAYLIGHT) keep their properties; others (VALARM, VTODO, X-...) are only counted.
// - parseIcsYielding runs the same steps but gives the event loop a turn every slice, so a big
//   feed never stalls the process; parseIcs runs them in one go.
import { createHash } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import { compileSeries, expandSeries, isValidTimeZone, occurrenceKey, type CompiledSeries } from '../../domain/recurrence.ts';
import { countedOnsets, ObservedOffsets, observanceRuleIsYearly, observancesText, rememberZoneText, storedZoneRules, ZONE_ONSETS_WALKED, type ObservanceRule } from '../../domain/observed-offsets.ts';
import { conferenceLinkToFollow, findMeetingLink } from '../../domain/meeting-url.ts';
import { copyKey } from '../../domain/ics-copy-keys.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';
import { finishSteps, paceSteps } from '../../lib/steps.ts';
import { RAW_LIMIT_BYTES } from '../../domain/event-field-limits.ts';
import { FeedText } from './feed-text.ts';
import { familiarZones, isListedZoneName, windowsZoneOf } from './time-zone-names.ts';
import { FIRST_COMPARED_MONTH, hasZoneOffsetsAt, ianaZones, keptZoneOffsetAt, monthlyInstant, zoneOffsetAt, zoneOffsetsAt } from './zone-offsets.ts';
import type { EventStatus, ProviderEvent } from './calendar-provider.ts';

export interface ParsedFeed {
  name: string | null;
  /** X-WR-CALDESC, the feed's description as calendar apps export it. */
  description: string | null;
  /** X-WR-TIMEZONE when it is an IANA zone: floating and all-day times are read in it. */
  timeZone: string | null;
  events: ProviderEvent[];
  /**
   * Things skipped or guessed, for logs; never fatal. At most ICS_LIMITS.maxWarnings (+ a count),
   * after one saying that zone-name checks stopped at maxUnlistedZoneChecks when they did.
   */
  warnings: string[];
}

export interface IcsLimits {
  /** Characters of feed text; the fetch stops at 20 MiB already. */
  maxChars: number;
  /** Content lines after unfolding. */
  maxLines: number;
  /** Components open inside one another, VCALENDAR counting as 1 (real feeds need 3). */
  maxDepth: number;
  /** BEGIN lines in the whole feed. */
  maxComponents: number;
  /** Properties in one component (a VEVENT with every attendee listed stays far below). */
  maxPropertiesPerComponent: number;
  /** VEVENTs in the feed. */
  maxEvents: number;
  /** VTIMEZONEs compared with the IANA zones by their rules; the comparison is the slow part. */
  maxZoneMatches: number;
  /** STANDARD/DAYLIGHT rules of one VTIMEZONE taken into such a comparison, or into reading it by its own rules. */
  maxObservances: number;
  /** VTIMEZONEs that match no IANA zone read by their own rules; past it, their times are read as UTC. */
  maxOwnRuleZones: number;
  /**
   * Checks of zone names that are not listed ones (ZoneNameChecks), 40-110 µs each for a made-up
   * name; past it, such a name is taken for no zone unchecked.
   */
  maxUnlistedZoneChecks: number;
  /** Warnings kept; the rest are counted. */
  maxWarnings: number;
  /** A longer UID (in UTF-8 bytes) is replaced by its SHA-256, so it always fits the event index. */
  maxUidBytes: number;
}

export const ICS_LIMITS: Readonly<IcsLimits> = Object.freeze({
  maxChars: 20 * 1024 * 1024,
  maxLines: 500_000,
  maxDepth: 10,
  maxComponents: 100_000,
  maxPropertiesPerComponent: 10_000,
  maxEvents: 50_000,
  maxZoneMatches: 16,
  maxObservances: 100,
  maxOwnRuleZones: 64,
  maxUnlistedZoneChecks: 2_000,
  maxWarnings: 100,
  maxUidBytes: 512,
});

export interface ParseOptions {
  /** Picks the years over which an unnamed VTIMEZONE is compared with IANA zones. */
  nowMs: number;
  /** Tests lower these; the service uses ICS_LIMITS. */
  limits?: Partial<IcsLimits>;
}

interface Property {
  name: string;
  params: ReadonlyMap<string, string>;
  value: string;
}

interface Component {
  type: string;
  properties: Property[];
  children: Component[];
  /** Offsets of the component's text in the feed ([BEGIN line start, END line end)), kept as the event's raw payload. */
  start: number;
  end: number;
}

export class IcsParseError extends Error {
  override name = 'IcsParseError';
}

/** Parses a whole feed at once; for small feeds and tests (the service uses parseIcsYielding). */
export function parseIcs(text: string | FeedText, options: ParseOptions): ParsedFeed {
  return finishSteps(parseSteps(text, options));
}

/** The same parse, giving the event loop a turn every slice so that a big feed never stalls it. */
export async function parseIcsYielding(text: string | FeedText, options: ParseOptions & { sliceMs?: number }): Promise<ParsedFeed> {
  return paceSteps(parseSteps(text, options), new EventLoopPacer(options.sliceMs));
}

/** Physical lines read between two chances to yield, and events built between two. */
const LINES_PER_STEP = 2_000;
const EVENTS_PER_STEP = 50;
/**
 * Properties of the events built in one step: an event's are each looked at (its TZIDs named,
 * its EXDATE and RDATE lines rewritten), about 1.3 µs each, so 50 events of 9,900 EXDATEs each
 * held the loop 400-470 ms in one step. A step ends after the event that reaches this count (one
 * event, at most maxPropertiesPerComponent of them, is about 13 ms).
 */
const PROPERTIES_PER_STEP = 2_000;

/** The parse as a sequence of bounded steps: it yields (nothing) between them, and returns the feed. */
function* parseSteps(given: string | FeedText, options: ParseOptions): Generator<void, ParsedFeed> {
  const text = typeof given === 'string' ? new FeedText(given) : given;
  const limits: IcsLimits = { ...ICS_LIMITS, ...options.limits };
  if (text.length > limits.maxChars) throw new IcsParseError(`the feed is ${text.length} characters long; at most ${limits.maxChars} are read`);
  const reader = new ComponentReader(text, limits);
  while (!reader.isDone) {
    reader.read(LINES_PER_STEP);
    yield;
  }
  // A stream may hold several calendar objects (RFC 5545 3.4: icalstream = 1*icalobject), as a
  // feed that joins others does: the events of each are read, in its own X-WR-TIMEZONE; the name,
  // description and zone of the feed are the first one's.
  const calendars = reader.roots.filter((c) => c.type === 'VCALENDAR');
  const [calendar] = calendars;
  if (!calendar) throw new IcsParseError('not an iCalendar feed: no BEGIN:VCALENDAR');
  const warnings = new Warnings(limits.maxWarnings);
  const names = new ZoneNameChecks(limits.maxUnlistedZoneChecks);
  const zoneOf = (object: Component) => {
    const declared = propValue(object, 'X-WR-TIMEZONE');
    return declared && names.isZone(declared) ? declared : null;
  };
  const defaultZone = zoneOf(calendar);
  const zones = new ZoneResolver(text, calendars.flatMap((c) => c.children.filter((child) => child.type === 'VTIMEZONE')), warnings, options.nowMs, limits, names);
  const vevents: Array<{ vevent: Component; zone: string }> = [];
  for (const c of calendars) {
    // Each calendar object's X-WR-TIMEZONE is a name to check: a stream of thousands of them is
    // checked in steps.
    if (names.stepIsFull) {
      names.stepTaken();
      yield;
    }
    const zone = zoneOf(c) ?? 'UTC';
    for (const child of c.children) if (child.type === 'VEVENT') vevents.push({ vevent: child, zone });
  }
  if (vevents.length > limits.maxEvents) throw new IcsParseError(`the feed has ${vevents.length} events; at most ${limits.maxEvents} are read`);
  /**
   * The series (a VEVENT without RECURRENCE-ID) of each UID, for the zone of its overrides'
   * RECURRENCE-ID: of several VEVENTs with the UID, the last with RRULE or RDATE (see keyedByCopy).
   */
  const masters = new Map<string, Component>();
  for (const { vevent } of vevents) {
    const uid = propValue(vevent, 'UID');
    if (uid === null || prop(vevent, 'RECURRENCE-ID')) continue;
    if (!masters.has(uid) || prop(vevent, 'RRULE') || prop(vevent, 'RDATE')) masters.set(uid, vevent);
  }
  const built: BuiltEvent[] = [];
  let matchesSeen = 0;
  let eventsInStep = 0;
  let propertiesInStep = 0;
  for (const { vevent, zone } of vevents) {
    // A step ends after EVENTS_PER_STEP events or PROPERTIES_PER_STEP of their properties,
    // whichever comes first, and after an event that needed a VTIMEZONE compared with the IANA
    // zones (a few milliseconds each, up to maxZoneMatches of them) or read by its own rules (its
    // ended rules walked once, up to ZONE_ONSETS_WALKED onsets).
    if (eventsInStep >= EVENTS_PER_STEP || propertiesInStep >= PROPERTIES_PER_STEP || zones.effort !== matchesSeen) {
      matchesSeen = zones.effort;
      eventsInStep = 0;
      propertiesInStep = 0;
      names.stepTaken();
      yield;
    }
    eventsInStep++;
    propertiesInStep += vevent.properties.length;
    // The event's TZIDs named (NAME_CHECKS_PER_STEP name checks per step), and the IANA zones'
    // offsets a comparison starts from read in steps of their own before the first event to need
    // one (their formatters' first build held the loop 60-140 ms when it was part of the first
    // comparison in a process).
    yield* zones.prepareFor(vevent, masters);
    try {
      const reader = zones.withFallback(zone);
      const event = toProviderEvent(text, vevent, reader, zone, limits, masters);
      if (!event) continue;
      // RFC 5545 3.8.4.4 moves every later occurrence with this one; read as one occurrence, the
      // later ones stay where the rule puts them, which the log says rather than leave unsaid.
      if (prop(vevent, 'RECURRENCE-ID')?.params.get('RANGE')?.toUpperCase() === 'THISANDFUTURE') {
        warnings.add(`VEVENT ${cut(event.providerEventId)}: RECURRENCE-ID;RANGE=THISANDFUTURE is read as a change to that one occurrence; the later ones keep the series' times`);
      }
      built.push({ event, sequence: sequenceOf(vevent), stampMs: stampOf(vevent) });
    } catch (error) {
      warnings.add(`skipped VEVENT ${cut(propValue(vevent, 'UID') ?? '(no UID)')}: ${(error as Error).message}`);
    }
  }
  const events = new Map<string, ProviderEvent>();
  for (const event of yield* keyedByCopy(built, warnings)) {
    // The same key twice (an override written twice): the last one, where the last one stood.
    events.delete(event.providerEventId);
    events.set(event.providerEventId, event);
  }
  // First, so that it is among the warnings a log line shows, ahead of the unknown TZIDs' own.
  const checksCut = names.refused === 0 ? [] : [`time zone names: ${limits.maxUnlistedZoneChecks} names that are not listed IANA names were checked, and no more; `
    + `${names.refused} more were taken for no zone unchecked, as unknown names are`];
  return { name: propValue(calendar, 'X-WR-CALNAME'), description: propValue(calendar, 'X-WR-CALDESC'), timeZone: defaultZone, events: [...events.values()], warnings: [...checksCut, ...warnings.list()] };
}

/** SEQUENCE (RFC 5545 3.8.7.4), 0 when absent or not a number. */
function sequenceOf(vevent: Component): number {
  const value = Number.parseInt(propValue(vevent, 'SEQUENCE') ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Events in feed order, each with its key. A UID is the key of its one event, and an override's
 * key is the UID with the occurrence it replaces. Several VEVENTs with one UID and no
 * RECURRENCE-ID break RFC 5545's rule that a UID names one event, but feeds have them: exporters
 * that give one UID to every time slot of a programme item or to every meeting of a day
 * (emfcamp/Website issue 2097, where Google Calendar showed only the last slot;
 * SERG-Delft/serg-delft.github.io issue 90), and exports that hold one event twice
 * (nextcloud/calendar issue 4580). Taken as one, every copy but one would lose its bot. So:
 * - copies at the same start are one event, versions of it: the highest SEQUENCE; with the same
 *   SEQUENCE, the one LAST-MODIFIED (else DTSTAMP) latest when they state different ones; else the
 *   last written (identical copies are simply one);
 * - copies at different starts are different meetings, whatever their SEQUENCEs. A higher
 *   SEQUENCE does not make the others older versions of it: a programme item whose one slot was
 *   edited, or a series beside one occurrence re-written on its own, raises it on that copy
 *   alone, and reading the others as superseded would drop meetings under way. (A feed that
 *   still holds an old copy of a moved event beside the new one therefore has two events.)
 *   One that is a series, when it is the only series among them, keeps the UID (its overrides name it); every other copy is keyed
 *   `UID#<its start in UTC>`, and a lone copy keeps the plain UID. A copy's key therefore changes
 *   between `UID` and `UID#<start>` when another copy of its UID appears or goes; the sync follows
 *   such a change by renaming the stored event (calendar-sync.ts, followRekeyedCopies), so that it
 *   keeps its id and its bots. A copy moved to another start is a new event, and its old one is
 *   deleted (its bot cancelled, a bot booked for the new one);
 * - an override of a UID written by several series belongs to the series that has an occurrence
 *   at its RECURRENCE-ID, and names that series' key (see SeriesOfOverrides for the bound on
 *   that search).
 * A generator, as parseSteps is: it yields (nothing) between the steps of that search.
 */
function* keyedByCopy(built: ReadonlyArray<BuiltEvent>, warnings: Warnings): Generator<void, ProviderEvent[]> {
  /** Per UID, its copies without RECURRENCE-ID. */
  const written = new Map<string, BuiltEvent[]>();
  for (const entry of built) {
    if (entry.event.originalStartMs !== null) continue;
    const uid = entry.event.providerEventId;
    let list = written.get(uid);
    if (!list) written.set(uid, (list = []));
    list.push(entry);
  }
  const keyOf = new Map<ProviderEvent, string>();
  /** Per UID written by several series: each series with its key, for that UID's overrides. */
  const seriesOf = new Map<string, Array<{ event: ProviderEvent; key: string }>>();
  // A step every KEYED_PER_STEP UIDs and events below: a feed of 5,000 UIDs written twice each took
  // 20-40 ms to key in one go.
  let done = 0;
  for (const [uid, list] of written) {
    if (++done % KEYED_PER_STEP === 0) yield;
    /** The copies kept, by start; the same start kept once. */
    const byStart = new Map<number, BuiltEvent>();
    for (const entry of list) {
      const kept = byStart.get(entry.event.startMs);
      if (!kept || isNotOlder(entry, kept)) byStart.set(entry.event.startMs, entry);
    }
    const kept = [...byStart.values()];
    if (kept.length === 1) {
      keyOf.set(kept[0]!.event, uid);
      continue;
    }
    const series = kept.filter((entry) => entry.event.recurrence !== null);
    for (const { event } of kept) keyOf.set(event, series.length === 1 && series[0]!.event === event ? uid : copyKey(uid, event.startMs));
    if (series.length > 1) seriesOf.set(uid, series.map(({ event }) => ({ event, key: keyOf.get(event)! })));
    warnings.add(`UID ${cut(uid)} is written by ${kept.length} events without RECURRENCE-ID, at different starts: each is kept as its own event, keyed by the UID and its start`);
  }
  const result: ProviderEvent[] = [];
  const owners = new SeriesOfOverrides();
  for (const { event } of built) {
    if (++done % KEYED_PER_STEP === 0) yield;
    if (event.originalStartMs !== null) {
      const uid = event.seriesProviderEventId;
      const candidates = uid === null ? undefined : seriesOf.get(uid);
      const owner = candidates === undefined ? undefined : yield* owners.find(uid!, candidates, event.originalStartMs);
      result.push(owner === undefined ? event : { ...event, seriesProviderEventId: owner });
      continue;
    }
    const key = keyOf.get(event);
    if (key !== undefined) result.push(key === event.providerEventId ? event : { ...event, providerEventId: key });
  }
  for (const [uid, count] of owners.unsearched) {
    warnings.add(`${count} RECURRENCE-ID overrides of UID ${cut(uid)} were not compared with all of its series (at most ${MAX_SERIES_CHECKS} comparisons are made in a feed): each names the UID and stands alone, as an override of a series not in the feed does`);
  }
  return result;
}

/** UIDs or events keyed between two yields of keyedByCopy. */
const KEYED_PER_STEP = 500;

interface BuiltEvent {
  event: ProviderEvent;
  /** SEQUENCE, 0 when absent. */
  sequence: number;
  /** LAST-MODIFIED, else DTSTAMP (in UTC), else null: orders versions written with one SEQUENCE. */
  stampMs: number | null;
}

/** Whether `later` (written after `kept`, with the same start) replaces it as the event's version. */
function isNotOlder(later: BuiltEvent, kept: BuiltEvent): boolean {
  if (later.sequence !== kept.sequence) return later.sequence > kept.sequence;
  if (later.stampMs !== null && kept.stampMs !== null && later.stampMs !== kept.stampMs) return later.stampMs > kept.stampMs;
  return true;
}

/**
 * Series × override comparisons made in one feed to find which of several series under one UID an
 * override belongs to. A comparison costs a fraction of a millisecond (more for a COUNT rule's first
 * walk, once per series), so a feed with hundreds of series and overrides under one UID would
 * otherwise cost minutes; real ones (a course as one series per weekday) make a few dozen.
 */
export const MAX_SERIES_CHECKS = 1_000;

/**
 * Finds, for an override of a UID written by several series, the series that has an occurrence
 * at its RECURRENCE-ID. Each series is compiled once and asked about one instant at a time, the
 * search yielding (nothing) after each step of it; an answer is kept for the other overrides of the
 * same UID and instant. Once MAX_SERIES_CHECKS comparisons are made, an override not yet placed is
 * left naming the plain UID (which no event has then), and so stands alone, as an override of a
 * series not in the feed does: it keeps its own bot rather than taking one from a series it
 * might not belong to. `unsearched` counts those per UID, for a warning.
 */
class SeriesOfOverrides {
  readonly unsearched = new Map<string, number>();
  #checksLeft = MAX_SERIES_CHECKS;
  readonly #compiled = new Map<ProviderEvent, CompiledSeries | null>();
  readonly #answers = new Map<string, string | undefined>();

  /** The key of the series, among `series` (all written under `uid`), with an occurrence at `originalStartMs`. */
  *find(uid: string, series: ReadonlyArray<{ event: ProviderEvent; key: string }>, originalStartMs: number): Generator<void, string | undefined> {
    const asked = `${originalStartMs} ${uid}`;
    if (this.#answers.has(asked)) return this.#answers.get(asked);
    for (const { event, key } of series) {
      if (this.#checksLeft === 0) {
        this.unsearched.set(uid, (this.unsearched.get(uid) ?? 0) + 1);
        return undefined;
      }
      this.#checksLeft--;
      const compiled = this.#compile(event);
      const found = compiled !== null && (yield* hasOccurrenceAt(compiled, originalStartMs));
      yield;
      if (found) {
        this.#answers.set(asked, key);
        return key;
      }
    }
    this.#answers.set(asked, undefined);
    return undefined;
  }

  #compile(event: ProviderEvent): CompiledSeries | null {
    let compiled = this.#compiled.get(event);
    if (compiled === undefined) {
      try {
        compiled = compileSeries({ startMs: event.startMs, endMs: event.endMs, timeZone: event.timeZone ?? 'UTC', recurrence: event.recurrence!, zoneRules: storedZoneRules(event.zoneRules) });
      } catch {
        compiled = null; // a rule that cannot be read names no occurrence
      }
      this.#compiled.set(event, compiled);
    }
    return compiled;
  }
}

/** Whether `series` has an occurrence whose original start is `originalStartMs`, yielding between the steps of the search. */
function* hasOccurrenceAt(series: CompiledSeries, originalStartMs: number): Generator<void, boolean> {
  try {
    // A COUNT rule is counted from its start once (remembered by the compiled series), in steps.
    for (const _ of series.walkUntil(originalStartMs + 1)) yield;
    for (const occurrence of series.overlappingInSteps({ fromMs: originalStartMs, toMs: originalStartMs + 1 })) {
      if (occurrence === null) yield;
      else if (occurrence.originalStartMs === originalStartMs) return true;
    }
  } catch {
    // a rule that cannot be expanded there names no occurrence
  }
  return false;
}

/** LAST-MODIFIED, else DTSTAMP, when written in UTC (RFC 5545 3.8.7.2, 3.8.7.3 ask for UTC). */
function stampOf(vevent: Component): number | null {
  for (const name of ['LAST-MODIFIED', 'DTSTAMP']) {
    const value = propValue(vevent, name);
    if (value === null) continue;
    try {
      const parsed = parseDateValue(value, false);
      if (parsed.kind === 'utc') return parsed.ms;
    } catch {
      // unreadable: the next one, or document order
    }
  }
  return null;
}

class Warnings {
  readonly #kept: string[] = [];
  readonly #max: number;
  #dropped = 0;

  constructor(max: number) {
    this.#max = max;
  }

  add(warning: string): void {
    if (this.#kept.length < this.#max) this.#kept.push(warning);
    else this.#dropped++;
  }

  list(): string[] {
    return this.#dropped === 0 ? [...this.#kept] : [...this.#kept, `${this.#dropped} more warnings not listed`];
  }
}

function cut(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Lines and components

/** Components whose properties events are built from; the others are only counted. */
const KEPT_COMPONENTS = new Set(['VCALENDAR', 'VEVENT', 'VTIMEZONE', 'STANDARD', 'DAYLIGHT']);
const NO_PARAMS: ReadonlyMap<string, string> = new Map();
/**
 * Characters kept of one unfolded line. Every stored field is far shorter (event-field-limits.ts:
 * a description is cut at 100,000), so a longer value is cut here already, and the rest of its
 * folded lines is only stepped over; the event's raw text keeps what the feed said.
 */
const MAX_LINE_CHARS = 1_048_576;

/**
 * Reads content lines (RFC 5545 3.1: CRLF, LF or CR breaks; a line starting with a space or tab
 * continues the one before) into a component tree, a bounded number of physical lines per call,
 * so that even one huge folded value is read across many calls.
 */
class ComponentReader {
  readonly roots: Component[] = [];
  readonly #text: FeedText;
  readonly #limits: IcsLimits;
  readonly #stack: Component[] = [];
  readonly #propertyCounts: number[] = [];
  #pos: number;
  #lines = 0;
  #physicalLine = 0;
  #components = 0;
  /** The logical line being unfolded: where it began, its pieces and their length. */
  #pending: { start: number; lineNumber: number; pieces: string[]; chars: number } | null = null;

  constructor(text: FeedText, limits: IcsLimits) {
    this.#text = text;
    this.#limits = limits;
    this.#pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  get isDone(): boolean {
    return this.#pos >= this.#text.length && this.#pending === null;
  }

  /** Reads up to `maxPhysicalLines` lines of the text. */
  read(maxPhysicalLines: number): void {
    const text = this.#text;
    for (let n = 0; n < maxPhysicalLines; n++) {
      if (this.#pos >= text.length) {
        this.#finishPending();
        return;
      }
      const isContinuation = this.#pending !== null && (text.charCodeAt(this.#pos) === 0x20 || text.charCodeAt(this.#pos) === 0x09);
      const from = isContinuation ? this.#pos + 1 : this.#pos;
      this.#physicalLine++;
      const lineBreak = text.findLineBreak(from);
      const end = lineBreak ? lineBreak.index : text.length;
      if (!isContinuation) {
        this.#finishPending();
        this.#pending = { start: this.#pos, lineNumber: this.#physicalLine, pieces: [], chars: 0 };
      }
      const pending = this.#pending!;
      if (pending.chars < MAX_LINE_CHARS) {
        const piece = text.slice(from, Math.min(end, from + MAX_LINE_CHARS - pending.chars));
        pending.pieces.push(piece);
        pending.chars += piece.length;
      }
      this.#pos = lineBreak ? lineBreak.index + lineBreak.length : text.length;
    }
  }

  #finishPending(): void {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    const line = pending.pieces.length === 1 ? pending.pieces[0]! : pending.pieces.join('');
    if (line.trim() === '') return;
    if (++this.#lines > this.#limits.maxLines) throw new IcsParseError(`the feed has more than ${this.#limits.maxLines} content lines`);
    this.#take(line, pending.start, pending.lineNumber);
  }

  #take(line: string, lineStart: number, lineNumber: number): void {
    const head = line.slice(0, 6).toUpperCase();
    if (head === 'BEGIN:') {
      const type = line.slice(6).trim().toUpperCase();
      if (this.#stack.length + 1 > this.#limits.maxDepth) {
        throw new IcsParseError(`the feed nests components more than ${this.#limits.maxDepth} deep (line ${lineNumber}: BEGIN:${cut(type, 40)}); a calendar needs 3`);
      }
      if (++this.#components > this.#limits.maxComponents) throw new IcsParseError(`the feed has more than ${this.#limits.maxComponents} components`);
      const component: Component = { type, properties: [], children: [], start: lineStart, end: this.#text.length };
      const parent = this.#stack.at(-1);
      if (parent) parent.children.push(component);
      else this.roots.push(component);
      this.#stack.push(component);
      this.#propertyCounts.push(0);
      return;
    }
    if (head.startsWith('END:')) {
      const type = line.slice(4).trim().toUpperCase();
      // A stray END closes the nearest open component of its type (and any left open inside it);
      // one that matches nothing open is ignored.
      const at = this.#stack.findLastIndex((c) => c.type === type);
      if (at < 0) return;
      while (this.#stack.length > at) {
        this.#stack.pop()!.end = this.#pos;
        this.#propertyCounts.pop();
      }
      return;
    }
    const depth = this.#stack.length;
    if (depth === 0) return;
    const current = this.#stack[depth - 1]!;
    const count = ++this.#propertyCounts[depth - 1]!;
    if (count > this.#limits.maxPropertiesPerComponent) {
      throw new IcsParseError(`a ${cut(current.type, 40)} component has more than ${this.#limits.maxPropertiesPerComponent} properties (line ${lineNumber})`);
    }
    if (!KEPT_COMPONENTS.has(current.type)) return;
    const property = parseContentLine(line);
    if (property) current.properties.push(property);
  }
}

/** NAME;PARAM=VALUE;PARAM="quoted:value":VALUE */
export function parseContentLine(line: string): Property | null {
  let i = 0;
  const nameMatch = /^[A-Za-z0-9-]+/.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0].toUpperCase();
  i = name.length;
  let params: Map<string, string> | null = null;
  while (line[i] === ';') {
    i++;
    const eq = line.indexOf('=', i);
    if (eq < 0) return null;
    const paramName = line.slice(i, eq).toUpperCase();
    i = eq + 1;
    const values: string[] = [];
    for (;;) {
      if (line[i] === '"') {
        const close = line.indexOf('"', i + 1);
        if (close < 0) return null;
        values.push(line.slice(i + 1, close));
        i = close + 1;
      } else {
        let j = i;
        while (j < line.length && line[j] !== ';' && line[j] !== ':' && line[j] !== ',') j++;
        values.push(line.slice(i, j));
        i = j;
      }
      if (line[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    params ??= new Map();
    params.set(paramName, values.join(','));
  }
  if (line[i] !== ':') return null;
  return { name, params: params ?? NO_PARAMS, value: line.slice(i + 1) };
}

function prop(component: Component, name: string): Property | undefined {
  return component.properties.find((p) => p.name === name);
}

function propValue(component: Component, name: string): string | null {
  const p = prop(component, name);
  return p ? unescapeText(p.value) : null;
}

function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

// ---------------------------------------------------------------------------------------------
// Date-times

interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

type DateValue =
  | { kind: 'utc'; ms: number; basic: string }
  | { kind: 'local'; local: LocalDateTime; basic: string }
  | { kind: 'date'; local: LocalDateTime; basic: string };

function parseDateValue(text: string, isDate: boolean): DateValue {
  const value = text.trim();
  const date = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (date) {
    const local = { year: +date[1]!, month: +date[2]!, day: +date[3]!, hour: 0, minute: 0, second: 0 };
    return { kind: 'date', local, basic: value };
  }
  const dateTime = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/i.exec(value);
  if (!dateTime || isDate) throw new Error(`"${value}" is not an iCalendar ${isDate ? 'DATE' : 'DATE-TIME'}`);
  const local = { year: +dateTime[1]!, month: +dateTime[2]!, day: +dateTime[3]!, hour: +dateTime[4]!, minute: +dateTime[5]!, second: Math.min(59, +dateTime[6]!) };
  if (dateTime[7]) return { kind: 'utc', ms: Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second), basic: value.toUpperCase() };
  return { kind: 'local', local, basic: value };
}

/** A wall-clock time in a zone; a time in a DST gap moves forward, a repeated one is the first (RFC 5545 3.3.5). */
function localToMs(local: LocalDateTime, zone: string): number {
  return Temporal.PlainDateTime.from(local, { overflow: 'reject' }).toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
}

interface ResolvedTime {
  ms: number;
  isAllDay: boolean;
  /** The zone the value was written in: the TZID's IANA name, 'UTC', or the feed default; for a zone read by its own rules, the stand-in zone of the offset at the value. */
  zone: string;
  /** The rules of a TZID read from its own VTIMEZONE (no IANA zone matches it). */
  observed?: ObservedOffsets;
}

/**
 * A DATE-TIME or DATE value as an instant. A local time without a TZID (RFC 5545 3.3.5 form #1,
 * floating) is read in `defaultZone`, or by `defaultObserved` when given: the rules of the zone
 * read by its own VTIMEZONE that the event's DTSTART names, so that a time beside it is placed by
 * the offset in force at that time, not at the start (an hour off across a change of offset). A
 * date is the local midnight of that day, by the same rules.
 */
function resolveTime(property: Property, zones: TzidReader, defaultZone: string, defaultObserved: ObservedOffsets | null = null): ResolvedTime {
  const isDate = property.params.get('VALUE')?.toUpperCase() === 'DATE';
  const value = parseDateValue(property.value, isDate);
  if (value.kind === 'utc') return { ms: value.ms, isAllDay: false, zone: 'UTC' };
  // A date beside a DTSTART in a zone read by its own rules is its local midnight by those rules.
  if (value.kind === 'date') return { ms: defaultObserved ? defaultObserved.instantOf(wallMs(value.local)) : localToMs(value.local, defaultZone), isAllDay: true, zone: defaultZone };
  const tzid = property.params.get('TZID');
  const observed = tzid ? zones.observed(tzid) : defaultObserved;
  if (observed) {
    const ms = observed.instantOf(wallMs(value.local));
    return { ms, isAllDay: false, zone: zones.standIn(observed.offsetAt(ms)), observed };
  }
  const zone = tzid ? zones.resolve(tzid) : defaultZone;
  return { ms: localToMs(value.local, zone), isAllDay: false, zone };
}

/** A local time as if it were UTC, as a VTIMEZONE's rules are read. */
function wallMs(local: LocalDateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
}

// ---------------------------------------------------------------------------------------------
// Events

/**
 * The event a VEVENT describes. A series whose DTSTART is in a zone read by its own rules carries
 * those rules (zoneRules), by which it is expanded: stored in the fixed-offset stand-in zone of its
 * start (for display), its occurrences are still placed by the VTIMEZONE's offsets in every year.
 */
function toProviderEvent(text: FeedText, vevent: Component, zones: TzidReader, defaultZone: string, limits: IcsLimits, masters: ReadonlyMap<string, Component>): ProviderEvent | null {
  const dtstart = prop(vevent, 'DTSTART');
  if (!dtstart) throw new Error('no DTSTART');
  // Kept as raw, which is stored under RAW_LIMIT_BYTES: a longer one would be dropped there whole,
  // so it is not built past that (one more character keeps it over the limit, and so dropped).
  const veventText = text.slice(vevent.start, Math.min(vevent.end, vevent.start + RAW_LIMIT_BYTES + 1));
  const givenUid = propValue(vevent, 'UID');
  // The UID is the event's key in the database, so a huge one (PostgreSQL cannot index keys over
  // about 2.7 KB) stands in by its hash; the UID as given stays in raw.
  const uid = givenUid === null
    ? `generated-${text.sha256(vevent.start, vevent.end).slice(0, 24)}`
    : Buffer.byteLength(givenUid) > limits.maxUidBytes ? `sha256-${sha256(givenUid)}` : givenUid;
  const start = resolveTime(dtstart, zones, defaultZone);
  // A DTEND, EXDATE or RDATE (and a RECURRENCE-ID, in the series' zone: below) written without a
  // zone beside a DTSTART that has one is read in DTSTART's zone, not the feed's: they name the
  // same event's times, and RFC 5545 errata 6316 asks them to take DTSTART's form (some writers
  // drop the TZID of EXDATE: sabre/vobject issue 722). Read in the feed's zone, a deleted
  // occurrence would keep its bot.
  // In a zone read by its own rules, DTSTART's zone is those rules: its stand-in (start.zone) has
  // one offset, the one in force at the start.
  const eventZone = zoneOfValuesBeside(start, defaultZone);
  const eventObserved = start.isAllDay ? null : start.observed ?? null;
  let endMs: number;
  const dtend = prop(vevent, 'DTEND');
  const duration = propValue(vevent, 'DURATION');
  if (dtend) {
    const end = resolveTime(dtend, zones, eventZone, eventObserved);
    endMs = end.ms <= start.ms ? lengthKeptAcrossGap(dtstart, dtend, start, end) : end.ms;
  } else if (duration) {
    endMs = addDuration(start.ms, duration, start.zone, eventObserved);
  } else {
    // RFC 5545 3.6.1: a date lasts one day; a date-time without DTEND or DURATION lasts no time.
    endMs = start.isAllDay ? addDuration(start.ms, 'P1D', start.zone) : start.ms;
  }
  if (endMs < start.ms) endMs = start.ms;

  const recurrenceIdProp = prop(vevent, 'RECURRENCE-ID');
  // A RECURRENCE-ID names an occurrence of the series: without a zone, it is in the series' zone
  // (an override moved to another zone keeps naming the series' time).
  // A series in a zone read by its own rules names its occurrences by those rules (each at the
  // offset in force then, as the series places them), not by the offset of its first.
  const master = recurrenceIdProp && givenUid !== null ? masters.get(givenUid) : undefined;
  const masterStart = master ? startZoneOf(master, zones, defaultZone) : null;
  const seriesZone = masterStart ? masterStart.zone : eventZone;
  const seriesObserved = masterStart ? masterStart.observed : eventObserved;
  const recurrenceId = recurrenceIdProp && master && isAllDayStart(master) ? asDayOfAllDaySeries(recurrenceIdProp) : recurrenceIdProp;
  const original = recurrenceId ? resolveTime(recurrenceId, zones, seriesZone, seriesObserved) : null;
  const originalStartMs = original ? original.ms : null;
  const observed = eventObserved;
  const recurrence = recurrenceIdProp ? null : withWrittenTimeOfDay(recurrenceLines(vevent, zones, eventZone, start.isAllDay, observed), dtstart, start);
  const zoneRules = recurrence !== null && observed !== null ? textOfZone(observed) : null;

  const statusText = (propValue(vevent, 'STATUS') ?? 'CONFIRMED').toUpperCase();
  const status: EventStatus = statusText === 'CANCELLED' ? 'cancelled' : statusText === 'TENTATIVE' ? 'tentative' : 'confirmed';
  const title = propValue(vevent, 'SUMMARY');
  const description = propValue(vevent, 'DESCRIPTION');
  const location = propValue(vevent, 'LOCATION');
  const urlProperty = propValue(vevent, 'URL');
  // A Meet (X-GOOGLE-CONFERENCE) or Teams (X-MICROSOFT-SKYPETEAMSMEETINGURL) link the calendar may
  // have added by itself yields to a link of another platform the organiser wrote (conferenceLinkToFollow).
  const googleConference = propValue(vevent, 'X-GOOGLE-CONFERENCE');
  const teamsConference = googleConference === null ? propValue(vevent, 'X-MICROSOFT-SKYPETEAMSMEETINGURL') : null;
  const conferenceUrl = googleConference !== null
    ? conferenceLinkToFollow({ conferenceUrl: googleConference, calendarPlatform: 'google_meet', location, description })
    : teamsConference !== null
      ? conferenceLinkToFollow({ conferenceUrl: teamsConference, calendarPlatform: 'microsoft_teams', location, description })
      : (urlProperty && findMeetingLink(urlProperty) ? urlProperty : null);

  const event: ProviderEvent = {
    providerEventId: originalStartMs === null ? uid : `${uid}|${occurrenceKey(originalStartMs)}`,
    title,
    description,
    location,
    startMs: start.ms,
    endMs,
    timeZone: start.zone,
    isAllDay: start.isAllDay,
    conferenceUrl,
    recurrence,
    ...(zoneRules !== null ? { zoneRules } : {}),
    seriesProviderEventId: originalStartMs === null ? null : uid,
    originalStartMs,
    status,
    isDeclined: false,
    raw: {
      uid: givenUid ?? uid,
      summary: title,
      description,
      location,
      ...(originalStartMs !== null ? { recurrence_id: new Date(originalStartMs).toISOString() } : {}),
      vevent: veventText,
    },
  };
  return event;
}

/** observancesText of each zone read by its own rules, written once however many series it has. */
const zoneTexts = new WeakMap<ObservedOffsets, string>();

function textOfZone(zone: ObservedOffsets): string {
  let text = zoneTexts.get(zone);
  if (text === undefined) {
    zoneTexts.set(zone, (text = observancesText(zone.observances)));
    // The sync writes the series with this text and reads it back at once: the zone is already built.
    rememberZoneText(text, zone);
  }
  return text;
}

/**
 * The end of an event whose DTSTART falls in a spring-forward gap and whose DTEND, written after
 * it, is read no later than it: 02:30-03:00 in New York on the night the clocks skip 02:00-03:00.
 * RFC 5545 3.3.5 reads 02:30 as 03:30, the gap's length later, while 03:00 is a real time, so
 * the meeting would last no time (or end before it begins) and its bot leave as it joins. Both
 * ends moved by the gap, as an end inside the gap is already (02:15-02:45 is 03:15-03:45), the
 * event keeps the length written. Anything else (an end written before the start, ends under
 * different TZIDs or in UTC) keeps the end as read, which the caller does not let fall before the start.
 */
function lengthKeptAcrossGap(dtstart: Property, dtend: Property, start: ResolvedTime, end: ResolvedTime): number {
  // Only ends written under the very TZID of the start: an end in UTC, or under another name of
  // the zone, is an instant its writer chose as it is, and the gap says nothing about it.
  if (start.isAllDay || end.isAllDay || start.zone !== end.zone || dtstart.params.get('TZID') !== dtend.params.get('TZID')) return end.ms;
  const from = writtenLocalTime(dtstart);
  const to = writtenLocalTime(dtend);
  if (from === null || to === null) return end.ms;
  const writtenMs = Date.UTC(to.year, to.month - 1, to.day, to.hour, to.minute, to.second) - Date.UTC(from.year, from.month - 1, from.day, from.hour, from.minute, from.second);
  return writtenMs > 0 ? start.ms + writtenMs : end.ms;
}

/** The zone an event's times written without one are read in: its DTSTART's (the feed's for an all-day event). */
function zoneOfValuesBeside(start: ResolvedTime, defaultZone: string): string {
  return start.isAllDay ? defaultZone : start.zone;
}

/** Whether `vevent`'s DTSTART is a date (an all-day event or series). */
function isAllDayStart(vevent: Component): boolean {
  const dtstart = prop(vevent, 'DTSTART');
  return dtstart !== undefined && (dtstart.params.get('VALUE')?.toUpperCase() === 'DATE' || /^\d{8}$/.test(dtstart.value.trim()));
}

/**
 * A RECURRENCE-ID of an all-day series written as a date-time: the day it names, as a DATE.
 * RFC 5545 (3.8.4.4) asks for DTSTART's value type, but Exchange writes midnight in its own zone
 * (`RECURRENCE-ID;TZID=W. Europe Standard Time:20260226T000000`, node-ical issue 459); read as
 * an instant, it names no occurrence of a series placed at midnight in the feed's zone.
 */
function asDayOfAllDaySeries(property: Property): Property {
  if (property.params.get('VALUE')?.toUpperCase() === 'DATE') return property;
  const day = dayOf(property.value);
  return day === null ? property : { name: property.name, params: new Map([['VALUE', 'DATE']]), value: day };
}

/**
 * The day (YYYYMMDD) a date or date-time names for an all-day series: the date written, in the
 * value's own zone (its TZID, UTC, or floating), as node-ical reads them since its issue 454;
 * null when the value is neither.
 */
function dayOf(text: string): string | null {
  try {
    return parseDateValue(text, false).basic.slice(0, 8);
  } catch {
    return null;
  }
}

/** zoneOfValuesBeside for `vevent`; null when it has no DTSTART that can be read. */
function startZoneOf(vevent: Component, zones: TzidReader, defaultZone: string): { zone: string; observed: ObservedOffsets | null } | null {
  const dtstart = prop(vevent, 'DTSTART');
  if (!dtstart) return null;
  try {
    const start = resolveTime(dtstart, zones, defaultZone);
    return { zone: zoneOfValuesBeside(start, defaultZone), observed: start.isAllDay ? null : start.observed ?? null };
  } catch {
    return null;
  }
}

/** A local DATE-TIME value (no Z) as its parts; throws when it is not one. */
function parseLocalValue(text: string): LocalDateTime {
  const value = parseDateValue(text, false);
  if (value.kind !== 'local') throw new Error(`"${text}" is not a local DATE-TIME`);
  return value.local;
}

/**
 * RRULE, RDATE and EXDATE lines in the form domain/recurrence.ts reads, zones made IANA; a value
 * without a zone is in `eventZone` (in `eventObserved`'s rules when DTSTART's zone is read by them).
 */
function recurrenceLines(vevent: Component, zones: TzidReader, eventZone: string, isAllDay: boolean, eventObserved: ObservedOffsets | null): string[] | null {
  const lines: string[] = [];
  for (const p of vevent.properties) {
    if (p.name === 'RRULE') {
      if (!lines.some((l) => l.startsWith('RRULE:'))) lines.push(`RRULE:${p.value.trim()}`);
      continue;
    }
    if (p.name !== 'RDATE' && p.name !== 'EXDATE') continue;
    const valueType = p.params.get('VALUE')?.toUpperCase();
    const values = p.value.split(',').map((v) => v.trim()).filter(Boolean)
      // A PERIOD RDATE gives its own length; Rollcall gives every occurrence the series' length.
      .map((v) => (valueType === 'PERIOD' ? v.split('/')[0]! : v));
    if (valueType === 'DATE') {
      lines.push(`${p.name};VALUE=DATE:${values.join(',')}`);
      continue;
    }
    // An all-day series' EXDATE or RDATE written as date-times (Exchange writes midnight in its
    // own zone: node-ical issue 454) names days: compared as instants with the series' days at
    // midnight in the feed's zone, a deleted day would keep its bot.
    if (isAllDay) {
      const days = values.map((v) => dayOf(v)).filter((day) => day !== null);
      if (days.length > 0) lines.push(`${p.name};VALUE=DATE:${days.join(',')}`);
      continue;
    }
    const utc = values.filter((v) => /Z$/i.test(v));
    const local = values.filter((v) => !/Z$/i.test(v) && /T/.test(v));
    const dates = values.filter((v) => /^\d{8}$/.test(v));
    if (utc.length > 0) lines.push(`${p.name}:${utc.join(',')}`);
    if (local.length > 0) {
      const tzid = p.params.get('TZID');
      // In a zone read by its own rules, the values are made instants here: no IANA zone can name them.
      const observed = tzid ? zones.observed(tzid) : eventObserved;
      if (observed) {
        lines.push(`${p.name}:${local.map((v) => occurrenceKey(observed.instantOf(wallMs(parseLocalValue(v))))).join(',')}`);
      } else lines.push(`${p.name};TZID=${tzid ? zones.resolve(tzid) : eventZone}:${local.join(',')}`);
    }
    if (dates.length > 0) lines.push(`${p.name};VALUE=DATE:${dates.join(',')}`);
  }
  return lines.some((l) => l.startsWith('RRULE:') || l.startsWith('RDATE')) ? lines : null;
}

/** Frequencies whose instances repeat DTSTART's time of day (RFC 5545 3.3.10: absent BYHOUR, BYMINUTE, BYSECOND come from DTSTART). */
const TIME_OF_DAY_FREQS = /(?:^|;)FREQ=(?:DAILY|WEEKLY|MONTHLY|YEARLY)(?:;|$)/i;

/**
 * A series whose DTSTART names a local time its zone skips (02:30 on a spring-forward night):
 * that first occurrence is at the instant RFC 5545 3.3.5 gives it (03:30 in New York), but the
 * rule goes on naming the time written (02:30 every later day). The series is stored as an
 * instant, from which only 03:30 can be read back, so the time written is put into the rule as the
 * BYHOUR, BYMINUTE and BYSECOND parts it leaves out: the same rule, stated in full.
 */
function withWrittenTimeOfDay(lines: string[] | null, dtstart: Property, start: ResolvedTime): string[] | null {
  if (lines === null || start.isAllDay) return lines;
  const written = writtenLocalTime(dtstart);
  if (written === null) return lines;
  const placed = Temporal.Instant.fromEpochMilliseconds(start.ms).toZonedDateTimeISO(start.zone);
  if (placed.hour === written.hour && placed.minute === written.minute && placed.second === written.second) return lines;
  return lines.map((line) => {
    if (!line.startsWith('RRULE:') || !TIME_OF_DAY_FREQS.test(line.slice(6))) return line;
    const parts = line.slice(6).split(';').filter((part) => part.trim() !== '');
    const has = (name: string) => parts.some((part) => part.trim().toUpperCase().startsWith(`${name}=`));
    if (!has('BYHOUR')) parts.push(`BYHOUR=${written.hour}`);
    if (!has('BYMINUTE')) parts.push(`BYMINUTE=${written.minute}`);
    if (!has('BYSECOND')) parts.push(`BYSECOND=${written.second}`);
    return `RRULE:${parts.join(';')}`;
  });
}

/** The local time of day a DTSTART with a zone (or floating) writes; null for UTC and dates. */
function writtenLocalTime(dtstart: Property): LocalDateTime | null {
  try {
    const value = parseDateValue(dtstart.value, dtstart.params.get('VALUE')?.toUpperCase() === 'DATE');
    return value.kind === 'local' ? value.local : null;
  } catch {
    return null;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Adds an RFC 5545 duration: weeks and days are nominal (wall-clock), hours and less exact. */
function addDuration(startMs: number, text: string, zone: string, observed: ObservedOffsets | null = null): number {
  const match = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text.trim());
  if (!match) throw new Error(`DURATION "${text}" is not an RFC 5545 duration`);
  const sign = match[1] === '-' ? -1 : 1;
  const days = Number(match[2] ?? 0) * 7 + Number(match[3] ?? 0);
  const exactMs = (Number(match[4] ?? 0) * 3600 + Number(match[5] ?? 0) * 60 + Number(match[6] ?? 0)) * 1000;
  // Days and weeks are nominal (RFC 5545 3.3.6): added to the local date, the clock time kept
  // across a change of offset; in a zone read by its own rules, by those rules.
  const afterDays = days === 0
    ? startMs
    : observed
      ? observed.instantOf(startMs + observed.offsetAt(startMs) + sign * days * 86_400_000)
      : Temporal.Instant.fromEpochMilliseconds(startMs).toZonedDateTimeISO(zone).add({ days: sign * days }).epochMilliseconds;
  return afterDays + sign * exactMs;
}

// ---------------------------------------------------------------------------------------------
// Time zones

type Observance = ObservanceRule;

/**
 * Offsets matched per VTIMEZONE (by the SHA-256 of its text), across feeds: the search is the
 * slow part. Bounded, oldest out first, so that feeds full of made-up zones cannot grow it.
 */
const matchCache = new Map<string, string | null>();
const MATCH_CACHE_SIZE = 256;

/** Zone names checked between two yields of a parse: 40-110 µs each for a name no zone has. */
const NAME_CHECKS_PER_STEP = 100;
/** Names answered "no zone" unchecked (ZoneNameChecks, past its budget) between two yields. */
const NAMES_REFUSED_PER_STEP = 2_000;

/**
 * The zone-name checks (isValidTimeZone) of one parse. A name no IANA zone has costs 40-110 µs to
 * check (Intl's formatter refuses the zone and Temporal throws), and a TZID takes up to five
 * (itself, three of its ends, its X-LIC-LOCATION). So:
 * - each name's answer is kept for the parse, and an end shared by many prefixed TZIDs
 *   (Europe/Berlin) is checked once;
 * - the names not listed (isListedZoneName: the names calendars write for IANA zones) are checked
 *   `budget` times at most (ICS_LIMITS.maxUnlistedZoneChecks): past it, such a name is answered
 *   "no zone" unchecked, and its TZID falls back as an unknown one does. A real feed writes a few
 *   dozen distinct TZIDs; a feed of 350,000 made-up ones cost 48 s of checks per parse. Listed
 *   names are always checked, so a prefixed TZID whose end is a listed zone keeps its zone;
 * - the checks made and the names refused are counted, so that the parse yields after every
 *   NAME_CHECKS_PER_STEP checks or NAMES_REFUSED_PER_STEP refusals (stepIsFull).
 * `check` is the full check; tests pass one that counts.
 */
export class ZoneNameChecks {
  readonly #answers = new Map<string, boolean>();
  readonly #budget: number;
  readonly #check: (name: string) => boolean;
  #unlisted = 0;
  #refused = 0;
  #made = 0;
  #madeAtStep = 0;
  #refusedAtStep = 0;

  constructor(budget: number, check: (name: string) => boolean = isValidTimeZone) {
    this.#budget = budget;
    this.#check = check;
  }

  /** isValidTimeZone, asked once per name; "no zone" unchecked for an unlisted name past the budget. */
  isZone(name: string): boolean {
    let answer = this.#answers.get(name);
    if (answer !== undefined) return answer;
    if (!isListedZoneName(name)) {
      if (this.#unlisted >= this.#budget) {
        this.#refused++;
        return false;
      }
      this.#unlisted++;
    }
    this.#made++;
    this.#answers.set(name, (answer = this.#check(name)));
    return answer;
  }

  /** Names checked so far. */
  get made(): number {
    return this.#made;
  }

  /** Times an unlisted name was answered "no zone" unchecked, past the budget. */
  get refused(): number {
    return this.#refused;
  }

  /** Whether the step has made its share of checks or refusals: the parse yields, and calls stepTaken. */
  get stepIsFull(): boolean {
    return this.#made - this.#madeAtStep >= NAME_CHECKS_PER_STEP || this.#refused - this.#refusedAtStep >= NAMES_REFUSED_PER_STEP;
  }

  /** A yield was made: a new step begins. */
  stepTaken(): void {
    this.#madeAtStep = this.#made;
    this.#refusedAtStep = this.#refused;
  }
}

/** TZIDs as IANA zones, for the events of one calendar object. */
interface TzidReader {
  resolve(tzid: string): string;
  /** The rules of a TZID that matches no IANA zone but has a VTIMEZONE that can be read; else null. */
  observed(tzid: string): ObservedOffsets | null;
  /** The offset's stand-in IANA zone (see standInZone). */
  standIn(offsetMs: number): string;
}

class ZoneResolver {
  readonly #text: FeedText;
  readonly #definitions = new Map<string, Component>();
  /** The IANA zone of each TZID, null for one nothing resolves. */
  readonly #resolved = new Map<string, string | null>();
  /** `${fallback}|${tzid}` of the unresolved TZIDs already warned about. */
  readonly #warned = new Set<string>();
  readonly #warnings: Warnings;
  readonly #nowMs: number;
  readonly #limits: IcsLimits;
  /** Per TZID with a VTIMEZONE that matches no IANA zone: its own rules, null when they cannot be read. */
  readonly #observed = new Map<string, ObservedOffsets | null>();
  /** The IANA zone each TZID names (#named), null for none. */
  readonly #names = new Map<string, string | null>();
  readonly #checks: ZoneNameChecks;
  #matches = 0;

  /** VTIMEZONEs compared with the IANA zones so far. */
  get matches(): number {
    return this.#matches;
  }

  /** Comparisons and zones read by their own rules so far: the slow parts, a step each. */
  get effort(): number {
    return this.#matches + this.#observed.size;
  }

  constructor(text: FeedText, vtimezones: Component[], warnings: Warnings, nowMs: number, limits: IcsLimits, checks: ZoneNameChecks) {
    this.#text = text;
    this.#checks = checks;
    this.#nowMs = nowMs;
    this.#limits = limits;
    for (const vtimezone of vtimezones) {
      const tzid = propValue(vtimezone, 'TZID');
      if (tzid) this.#definitions.set(tzid, vtimezone);
    }
    this.#warnings = warnings;
  }

  /**
   * Before `vevent`'s times are read: names, in steps (ZoneNameChecks), every TZID it writes and
   * that of its series' DTSTART when it is an override (its RECURRENCE-ID may be read in the
   * series' zone), so that reading them checks no name; then reads, in steps, the IANA zones'
   * offsets that comparisons start from (zone-offsets.ts) when one of those TZIDs is the feed's
   * and no name resolves it: a VTIMEZONE to compare with them. At once when the process has the
   * offsets already (the start-up warm-up reads them). Only the TZIDs events use are looked at,
   * as when their times are read: a feed of thousands of VTIMEZONEs that no event uses costs
   * nothing here.
   */
  *prepareFor(vevent: Component, masters: ReadonlyMap<string, Component>): Generator<void, void> {
    const uid = prop(vevent, 'RECURRENCE-ID') ? propValue(vevent, 'UID') : null;
    const master = uid === null ? undefined : masters.get(uid);
    const seriesStart = master === undefined ? undefined : prop(master, 'DTSTART');
    const properties = seriesStart === undefined ? vevent.properties : [...vevent.properties, seriesStart];
    for (const property of properties) {
      const tzid = property.params.get('TZID');
      if (tzid === undefined || this.#names.has(tzid)) continue;
      if (this.#checks.stepIsFull) {
        this.#checks.stepTaken();
        yield;
      }
      this.#named(tzid);
    }
    const first = monthlyInstant(this.#nowMs, FIRST_COMPARED_MONTH);
    if (hasZoneOffsetsAt(first)) return;
    const compared = properties.some((property) => {
      const tzid = property.params.get('TZID');
      return tzid !== undefined && !this.#resolved.has(tzid) && this.#definitions.has(tzid) && this.#named(tzid) === null;
    });
    if (compared) {
      yield* zoneOffsetsAt(first);
      this.#checks.stepTaken();
      yield;
    }
  }

  /**
   * The TZIDs of a calendar object whose own zone is `fallback` (its X-WR-TIMEZONE, else 'UTC').
   * A TZID nothing resolves and no VTIMEZONE of the feed defines is read in that zone: a feed
   * that states its calendar's zone (Google's do: mangstadt/biweekly issue 90) names a better
   * guess for a made-up zone name than UTC. This is a guess of Rollcall's own; readers differ
   * (sabre/vobject issue 393 argues for UTC rather than a guessed zone). A TZID the feed does
   * define, but that matches no IANA zone, is read by that definition's own rules (observed),
   * never in the calendar's zone: the definition states the offsets, which may be nothing like
   * the calendar's (a +0000/+0100 definition in a Los Angeles calendar would be read 8 hours
   * late). One whose rules cannot be read so (see observed) is read as UTC, at most the
   * definition's own offset off.
   */
  withFallback(fallback: string): TzidReader {
    return {
      resolve: (tzid) => this.resolve(tzid, this.#definitions.has(tzid) ? 'UTC' : fallback),
      observed: (tzid) => this.observed(tzid),
      standIn: (offsetMs) => standInZone(offsetMs, this.#nowMs),
    };
  }

  /**
   * A TZID that no IANA zone matches but whose VTIMEZONE is in the feed: its own rules (RFC 5545
   * 3.6.5), which state the offsets exactly, rather than UTC, which is an hour or more off for
   * most of them. Null when the TZID has an IANA zone, has no VTIMEZONE, or the VTIMEZONE cannot
   * be read (no observance, a rule that is not yearly, over maxObservances) or is past
   * maxOwnRuleZones; such times are read as before (resolve).
   */
  observed(tzid: string): ObservedOffsets | null {
    const definition = this.#definitions.get(tzid);
    if (!definition) return null;
    if (!this.#resolved.has(tzid)) this.#resolved.set(tzid, this.#find(tzid));
    if (this.#resolved.get(tzid)) return null;
    if (!this.#observed.has(tzid)) {
      let offsets: ObservedOffsets | null = null;
      if (this.#observed.size < this.#limits.maxOwnRuleZones) {
        try {
          const observances = observancesOf(definition, this.#limits);
          offsets = observances === null ? null : new ObservedOffsets(observances);
        } catch {
          offsets = null;
        }
      }
      this.#observed.set(tzid, offsets);
      if (offsets !== null) this.#warnings.add(`time zone "${cut(tzid, 80)}" matches no IANA zone; its times are read by its VTIMEZONE's own rules`);
    }
    return this.#observed.get(tzid) ?? null;
  }

  resolve(tzid: string, fallback: string): string {
    if (!this.#resolved.has(tzid)) this.#resolved.set(tzid, this.#find(tzid));
    const zone = this.#resolved.get(tzid);
    if (zone) return zone;
    if (!this.#warned.has(`${fallback}|${tzid}`)) {
      this.#warned.add(`${fallback}|${tzid}`);
      const how = fallback !== 'UTC' ? `in ${fallback}, the calendar's X-WR-TIMEZONE` : this.#definitions.has(tzid) ? 'as UTC (its VTIMEZONE matches no IANA zone)' : 'as UTC';
      this.#warnings.add(`time zone "${cut(tzid, 80)}" is not known; its times are read ${how}`);
    }
    return fallback;
  }

  #find(tzid: string): string | null {
    const named = this.#named(tzid);
    if (named !== null) return named;
    const trimmed = tzid.trim();
    // A Windows name (Outlook and Exchange exports). With the feed's own definition beside it,
    // that definition decides: the named zone when its offsets agree (tried first), else the
    // zone that matches them, so that a mapping out of date with the places' clocks loses.
    const windows = windowsZoneOf(trimmed);
    const definition = this.#definitions.get(tzid);
    if (!definition) return windows;
    const key = `${this.#text.sha256(definition.start, definition.end)}|${windows ?? ''}`;
    if (!matchCache.has(key)) {
      if (++this.#matches > this.#limits.maxZoneMatches) return windows;
      if (matchCache.size >= MATCH_CACHE_SIZE) matchCache.delete(matchCache.keys().next().value!);
      matchCache.set(key, matchZone(definition, this.#nowMs, this.#limits, windows) ?? windows);
    }
    return matchCache.get(key) ?? null;
  }

  /** The IANA zone a TZID names: itself, its end (a prefixed name), or its VTIMEZONE's X-LIC-LOCATION; else null. Kept per TZID. */
  #named(tzid: string): string | null {
    let named = this.#names.get(tzid);
    if (named === undefined) this.#names.set(tzid, (named = this.#nameOf(tzid)));
    return named;
  }

  #nameOf(tzid: string): string | null {
    const isZone = (name: string) => this.#checks.isZone(name);
    const trimmed = tzid.trim();
    if (isZone(trimmed)) return trimmed;
    // A zone name at the end of a prefixed TZID (/citadel.org/20190903_1/Europe/Berlin): its last
    // two to four segments, the longest that names a zone (America/Argentina/Buenos_Aires).
    const segments = /[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)+$/.exec(trimmed.slice(-200))?.[0].split('/') ?? [];
    for (let count = Math.min(4, segments.length); count >= 2; count--) {
      const suffix = segments.slice(-count).join('/');
      // (The whole TZID is its own longest end when it has two to four segments: asked already.)
      if (suffix !== trimmed && isZone(suffix)) return suffix;
    }
    const definition = this.#definitions.get(tzid);
    const location = definition ? propValue(definition, 'X-LIC-LOCATION') : null;
    return location && isZone(location) ? location : null;
  }
}

function offsetMs(text: string | null): number {
  const match = text ? /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(text.trim()) : null;
  if (!match) throw new Error(`bad UTC offset "${text}"`);
  const ms = ((+match[2]! * 60 + +match[3]!) * 60 + +(match[4] ?? 0)) * 1000;
  return match[1] === '-' ? -ms : ms;
}

/** RDATE values of one VTIMEZONE read (each is one onset). */
const MAX_OBSERVANCE_RDATES = 1_000;

/**
 * A VTIMEZONE's STANDARD/DAYLIGHT observances; null when one has a rule that is not yearly (such a
 * rule, FREQ=SECONDLY with every BYxxx part listed, could cost seconds to expand) or there are more
 * than maxObservances or MAX_OBSERVANCE_RDATES; throws on an unreadable DTSTART or offset.
 */
function observancesOf(vtimezone: Component, limits: IcsLimits): Observance[] | null {
  const result: Observance[] = [];
  let rdates = 0;
  for (const child of vtimezone.children) {
    if (child.type !== 'STANDARD' && child.type !== 'DAYLIGHT') continue;
    if (result.length >= limits.maxObservances) return null;
    const start = prop(child, 'DTSTART');
    if (!start) continue;
    const value = parseDateValue(start.value, false);
    if (value.kind === 'utc') continue;
    const l = value.local;
    const rrule = prop(child, 'RRULE')?.value.trim() ?? null;
    if (rrule !== null && !observanceRuleIsYearly(rrule)) return null;
    const offsetFromMs = offsetMs(propValue(child, 'TZOFFSETFROM'));
    const rdateValues = child.properties.filter((p) => p.name === 'RDATE').flatMap((p) => p.value.split(','));
    rdates += rdateValues.length;
    if (rdates > MAX_OBSERVANCE_RDATES) return null;
    // An RDATE is an onset in local time like DTSTART; one written in UTC is moved into it.
    const rdatesWallMs = rdateValues.map((v) => parseDateValue(v, false))
      .map((v) => (v.kind === 'utc' ? v.ms + offsetFromMs : Date.UTC(v.local.year, v.local.month - 1, v.local.day, v.local.hour, v.local.minute, v.local.second)));
    result.push({
      wallStartMs: Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second),
      offsetFromMs,
      offsetToMs: offsetMs(propValue(child, 'TZOFFSETTO')),
      rrule,
      rdatesWallMs,
    });
  }
  return result;
}

/** UTC instants at which each observance starts within [fromMs, toMs]. */
function onsets(observance: Observance, fromMs: number, toMs: number): number[] {
  const walls = [observance.wallStartMs, ...observance.rdatesWallMs];
  if (observance.rrule) {
    const series = { startMs: observance.wallStartMs, endMs: observance.wallStartMs, timeZone: 'UTC', recurrence: [`RRULE:${observance.rrule}`] };
    // The window is in wall-clock-as-UTC terms; a day of slack covers any offset.
    walls.push(...expandSeries(series, { fromMs: fromMs - 86_400_000, toMs: toMs + 86_400_000 }, { limit: 400 }).map((o) => o.startMs));
  }
  return walls.map((wall) => wall - observance.offsetFromMs).filter((onset) => onset >= fromMs && onset <= toMs);
}

/** A VTIMEZONE's rules as the changes they make over a span of years, for offset lookups. */
class DefinedOffsets {
  readonly #observances: Observance[];
  /** (onset, offset after it), by onset. */
  readonly #changes: Array<{ onset: number; offset: number }>;

  constructor(observances: Observance[], fromMs: number, toMs: number) {
    this.#observances = observances;
    this.#changes = observances.flatMap((o) => onsets(o, fromMs, toMs).map((onset) => ({ onset, offset: o.offsetToMs })))
      .sort((a, b) => a.onset - b.onset);
  }

  /** Onsets of every observance inside [fromMs, toMs]. */
  onsetsWithin(fromMs: number, toMs: number): number[] {
    return this.#changes.filter((c) => c.onset >= fromMs && c.onset <= toMs).map((c) => c.onset);
  }

  /** The offset at an instant: the last change in the year before it, else the observance that began last. */
  at(atMs: number): number {
    let lo = 0;
    let hi = this.#changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#changes[mid]!.onset <= atMs) lo = mid + 1;
      else hi = mid;
    }
    const last = this.#changes[lo - 1];
    if (last && last.onset >= atMs - 400 * 86_400_000) return last.offset;
    // No change within the year before: the observance that began last (a zone without DST has one).
    const started = this.#observances.filter((o) => o.wallStartMs - o.offsetFromMs <= atMs).sort((a, b) => b.wallStartMs - a.wallStartMs)[0];
    return started ? started.offsetToMs : this.#observances[0]!.offsetFromMs;
  }
}

const standIns = new Map<number, string>();

/**
 * An IANA zone with a fixed UTC offset, for an event in a zone read by its own rules: its times are
 * instants already, and a series is expanded in this zone. Whole hours have Etc/GMT zones (their
 * sign is reversed: Etc/GMT+5 is UTC-05:00); another offset takes a zone that has kept it over the
 * years around now (Asia/Kolkata for +05:30), else UTC. The zones that have it at the comparisons'
 * first instant (zone-offsets.ts keeps every zone's offset there) are the only ones tried.
 */
function standInZone(offset: number, nowMs: number): string {
  const known = standIns.get(offset);
  if (known !== undefined) return known;
  const hours = offset / 3_600_000;
  let zone = 'UTC';
  if (Number.isInteger(hours) && hours >= -12 && hours <= 14) {
    zone = hours === 0 ? 'UTC' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
  } else {
    const samples = Array.from({ length: 61 }, (_, i) => nowMs + (i - 24) * 30 * 86_400_000);
    const kept = monthlyInstant(nowMs, FIRST_COMPARED_MONTH);
    zone = ianaZones().find((candidate) => {
      try {
        return keptZoneOffsetAt(candidate, kept) === offset && zoneOffsetAt(candidate, nowMs) === offset && samples.every((at) => zoneOffsetAt(candidate, at) === offset);
      } catch {
        return false;
      }
    }) ?? 'UTC';
  }
  if (standIns.size >= 64) standIns.clear();
  standIns.set(offset, zone);
  return zone;
}

/**
 * The IANA zone that agrees with a VTIMEZONE's offsets over the last and next years, if one does;
 * `preferred` (the zone its Windows name maps to) is tried first.
 */
function matchZone(vtimezone: Component, now: number, limits: IcsLimits, preferred: string | null = null): string | null {
  let observances: Observance[] | null;
  try {
    observances = observancesOf(vtimezone, limits);
  } catch {
    return null;
  }
  if (!observances || observances.length === 0) return null;
  // A COUNT rule is counted from its DTSTART however far back it is (Outlook writes 1601), so its
  // COUNT bounds the walk: together a zone's may name ZONE_ONSETS_WALKED onsets, as when the zone is
  // read by its own rules. Past that the zone matches nothing (its own rules refuse it too: UTC).
  if (countedOnsets(observances) > ZONE_ONSETS_WALKED) return null;
  const defined = new DefinedOffsets(observances, now - 800 * 86_400_000, now + 740 * 86_400_000);
  // Zones people name in calendars first, so that of several equivalent zones a familiar one wins.
  const familiar = new Set([...(preferred === null ? [] : [preferred]), ...familiarZones()]);
  const candidates = [...familiar, ...ianaZones().filter((z) => !familiar.has(z))];
  // Sampled an hour either side of each transition, so that zones which switch on different
  // weekends, or at different hours, are told apart. Failing that, a day and a half either side:
  // Outlook's "Customized Time Zone" definitions can put a transition at another hour of the same
  // night than the place's zone does (03:00 for 02:00); the zone whose days agree is the one
  // meant, and only times inside that night can differ.
  return zoneMatching(defined, now, candidates, 3_600_000) ?? zoneMatching(defined, now, candidates, 36 * 3_600_000);
}

/**
 * The first candidate zone whose offsets agree with `defined` monthly and `marginMs` either side of
 * each transition. Most zones differ at the first monthly instant, where every zone's offset is
 * kept (zone-offsets.ts): only the few that agree there are read at the others.
 */
function zoneMatching(defined: DefinedOffsets, now: number, candidates: readonly string[], marginMs: number): string | null {
  const samples: number[] = [];
  for (let month = FIRST_COMPARED_MONTH; month <= 24; month++) samples.push(monthlyInstant(now, month));
  for (const onset of defined.onsetsWithin(now - 366 * 86_400_000, now + 2 * 366 * 86_400_000)) samples.push(onset - marginMs, onset + marginMs);
  const expected = samples.map((s) => defined.at(s));
  const first = samples[0]!;
  for (const zone of candidates) {
    try {
      if (keptZoneOffsetAt(zone, first) !== expected[0]) continue;
      if (samples.every((s, i) => i === 0 || zoneOffsetAt(zone, s) === expected[i])) return zone;
    } catch {
      // a zone this runtime lists but Temporal does not know
    }
  }
  return null;
}
