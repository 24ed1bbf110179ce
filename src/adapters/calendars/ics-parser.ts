// RFC 5545 iCalendar feed parsing into ProviderEvents: line unfolding, parameters (quoted ones
// too), text escapes, VTIMEZONE, DTSTART/DTEND/DURATION in UTC, with TZID, floating or all-day,
// RRULE/RDATE/EXDATE, RECURRENCE-ID overrides and STATUS:CANCELLED.
//
// Series are not expanded here: a VEVENT with RRULE/RDATE becomes a series with RFC 5545 lines,
// which Rollcall expands in the series' IANA zone (domain/recurrence.ts). A TZID therefore has to
// become an IANA name. In order: the TZID itself; an IANA name at its end
// ("/citadel.org/20190903_1/Europe/Berlin"); the VTIMEZONE's X-LIC-LOCATION; a Windows zone name
// (Outlook exports); and last the IANA zone whose UTC offsets match the VTIMEZONE's own rules
// over three years. A TZID none of these resolve is read as UTC, with a warning.
import { createHash } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import { expandSeries, isValidTimeZone, occurrenceKey } from '../../domain/recurrence.ts';
import { findMeetingLink } from '../../domain/meeting-url.ts';
import type { EventStatus, ProviderEvent } from './calendar-provider.ts';

export interface ParsedFeed {
  name: string | null;
  /** X-WR-TIMEZONE when it is an IANA zone: floating and all-day times are read in it. */
  timeZone: string | null;
  events: ProviderEvent[];
  /** Things skipped or guessed, for logs; never fatal. */
  warnings: string[];
}

interface Property {
  name: string;
  params: Map<string, string>;
  value: string;
}

interface Component {
  type: string;
  properties: Property[];
  children: Component[];
  /** The component's own lines, kept as the event's raw payload. */
  text: string;
}

export class IcsParseError extends Error {
  override name = 'IcsParseError';
}

/** Most VEVENTs a feed may carry; a larger one is refused rather than slowly stored. */
const MAX_EVENTS = 50_000;

/** `nowMs` picks the years over which an unnamed VTIMEZONE is compared with IANA zones. */
export function parseIcs(text: string, options: { nowMs: number }): ParsedFeed {
  const root = parseComponents(text);
  const calendar = root.find((c) => c.type === 'VCALENDAR');
  if (!calendar) throw new IcsParseError('not an iCalendar feed: no BEGIN:VCALENDAR');
  const warnings: string[] = [];
  const declaredZone = propValue(calendar, 'X-WR-TIMEZONE');
  const defaultZone = declaredZone && isValidTimeZone(declaredZone) ? declaredZone : null;
  const zones = new ZoneResolver(calendar.children.filter((c) => c.type === 'VTIMEZONE'), warnings, options.nowMs);
  const vevents = calendar.children.filter((c) => c.type === 'VEVENT');
  if (vevents.length > MAX_EVENTS) throw new IcsParseError(`the feed has ${vevents.length} events; at most ${MAX_EVENTS} are read`);
  const events: ProviderEvent[] = [];
  const seen = new Set<string>();
  for (const vevent of vevents) {
    try {
      const event = toProviderEvent(vevent, zones, defaultZone ?? 'UTC');
      if (!event) continue;
      // A feed that repeats a UID (without RECURRENCE-ID) is malformed; the last copy wins.
      if (seen.has(event.providerEventId)) {
        const index = events.findIndex((e) => e.providerEventId === event.providerEventId);
        events.splice(index, 1);
      }
      seen.add(event.providerEventId);
      events.push(event);
    } catch (error) {
      warnings.push(`skipped VEVENT ${propValue(vevent, 'UID') ?? '(no UID)'}: ${(error as Error).message}`);
    }
  }
  return { name: propValue(calendar, 'X-WR-CALNAME'), timeZone: defaultZone, events, warnings };
}

// ---------------------------------------------------------------------------------------------
// Lines and components

function unfold(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const out: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) out[out.length - 1] += line.slice(1);
    else out.push(line);
  }
  return out.filter((l) => l.trim() !== '');
}

/** NAME;PARAM=VALUE;PARAM="quoted:value":VALUE */
export function parseContentLine(line: string): Property | null {
  let i = 0;
  const nameMatch = /^[A-Za-z0-9-]+/.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0].toUpperCase();
  i = name.length;
  const params = new Map<string, string>();
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
    params.set(paramName, values.join(','));
  }
  if (line[i] !== ':') return null;
  return { name, params, value: line.slice(i + 1) };
}

function parseComponents(text: string): Component[] {
  const roots: Component[] = [];
  const stack: { component: Component; lines: string[] }[] = [];
  for (const line of unfold(text)) {
    const property = parseContentLine(line);
    if (!property) continue;
    if (property.name === 'BEGIN') {
      const component: Component = { type: property.value.trim().toUpperCase(), properties: [], children: [], text: '' };
      const parent = stack.at(-1);
      if (parent) parent.component.children.push(component);
      else roots.push(component);
      stack.push({ component, lines: [line] });
      continue;
    }
    const current = stack.at(-1);
    if (!current) continue;
    current.lines.push(line);
    if (property.name === 'END') {
      stack.pop();
      current.component.text = current.lines.join('\r\n');
      const parent = stack.at(-1);
      if (parent) parent.lines.push(...current.lines.slice(1));
      continue;
    }
    current.component.properties.push(property);
  }
  return roots;
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
  /** The zone the value was written in: the TZID's IANA name, 'UTC', or the feed default. */
  zone: string;
}

function resolveTime(property: Property, zones: ZoneResolver, defaultZone: string): ResolvedTime {
  const isDate = property.params.get('VALUE')?.toUpperCase() === 'DATE';
  const value = parseDateValue(property.value, isDate);
  if (value.kind === 'utc') return { ms: value.ms, isAllDay: false, zone: 'UTC' };
  if (value.kind === 'date') return { ms: localToMs(value.local, defaultZone), isAllDay: true, zone: defaultZone };
  const tzid = property.params.get('TZID');
  const zone = tzid ? zones.resolve(tzid) : defaultZone;
  return { ms: localToMs(value.local, zone), isAllDay: false, zone };
}

// ---------------------------------------------------------------------------------------------
// Events

function toProviderEvent(vevent: Component, zones: ZoneResolver, defaultZone: string): ProviderEvent | null {
  const dtstart = prop(vevent, 'DTSTART');
  if (!dtstart) throw new Error('no DTSTART');
  const uid = propValue(vevent, 'UID') ?? `generated-${createHash('sha256').update(vevent.text).digest('hex').slice(0, 24)}`;
  const start = resolveTime(dtstart, zones, defaultZone);
  let endMs: number;
  const dtend = prop(vevent, 'DTEND');
  const duration = propValue(vevent, 'DURATION');
  if (dtend) {
    endMs = resolveTime(dtend, zones, defaultZone).ms;
  } else if (duration) {
    endMs = addDuration(start.ms, duration, start.zone);
  } else {
    // RFC 5545 3.6.1: a date lasts one day; a date-time without DTEND or DURATION lasts no time.
    endMs = start.isAllDay ? addDuration(start.ms, 'P1D', start.zone) : start.ms;
  }
  if (endMs < start.ms) endMs = start.ms;

  const recurrenceIdProp = prop(vevent, 'RECURRENCE-ID');
  const originalStartMs = recurrenceIdProp ? resolveTime(recurrenceIdProp, zones, defaultZone).ms : null;
  const recurrence = recurrenceIdProp ? null : recurrenceLines(vevent, zones, defaultZone);

  const statusText = (propValue(vevent, 'STATUS') ?? 'CONFIRMED').toUpperCase();
  const status: EventStatus = statusText === 'CANCELLED' ? 'cancelled' : statusText === 'TENTATIVE' ? 'tentative' : 'confirmed';
  const title = propValue(vevent, 'SUMMARY');
  const description = propValue(vevent, 'DESCRIPTION');
  const location = propValue(vevent, 'LOCATION');
  const urlProperty = propValue(vevent, 'URL');
  const conferenceUrl = propValue(vevent, 'X-GOOGLE-CONFERENCE')
    ?? propValue(vevent, 'X-MICROSOFT-SKYPETEAMSMEETINGURL')
    ?? (urlProperty && findMeetingLink(urlProperty) ? urlProperty : null);

  return {
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
    seriesProviderEventId: originalStartMs === null ? null : uid,
    originalStartMs,
    status,
    isDeclined: false,
    raw: {
      uid,
      summary: title,
      description,
      location,
      ...(originalStartMs !== null ? { recurrence_id: new Date(originalStartMs).toISOString() } : {}),
      vevent: vevent.text,
    },
  };
}

/** RRULE, RDATE and EXDATE lines in the form domain/recurrence.ts reads, zones made IANA. */
function recurrenceLines(vevent: Component, zones: ZoneResolver, defaultZone: string): string[] | null {
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
    const utc = values.filter((v) => /Z$/i.test(v));
    const local = values.filter((v) => !/Z$/i.test(v) && /T/.test(v));
    const dates = values.filter((v) => /^\d{8}$/.test(v));
    if (utc.length > 0) lines.push(`${p.name}:${utc.join(',')}`);
    if (local.length > 0) {
      const tzid = p.params.get('TZID');
      lines.push(`${p.name};TZID=${tzid ? zones.resolve(tzid) : defaultZone}:${local.join(',')}`);
    }
    if (dates.length > 0) lines.push(`${p.name};VALUE=DATE:${dates.join(',')}`);
  }
  return lines.some((l) => l.startsWith('RRULE:') || l.startsWith('RDATE')) ? lines : null;
}

/** Adds an RFC 5545 duration: weeks and days are nominal (wall-clock), hours and less exact. */
function addDuration(startMs: number, text: string, zone: string): number {
  const match = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text.trim());
  if (!match) throw new Error(`DURATION "${text}" is not an RFC 5545 duration`);
  const sign = match[1] === '-' ? -1 : 1;
  const days = Number(match[2] ?? 0) * 7 + Number(match[3] ?? 0);
  const exactMs = (Number(match[4] ?? 0) * 3600 + Number(match[5] ?? 0) * 60 + Number(match[6] ?? 0)) * 1000;
  const afterDays = days === 0 ? startMs : Temporal.Instant.fromEpochMilliseconds(startMs).toZonedDateTimeISO(zone).add({ days: sign * days }).epochMilliseconds;
  return afterDays + sign * exactMs;
}

// ---------------------------------------------------------------------------------------------
// Time zones

/** Windows zone names (Outlook and Exchange exports) mapped to IANA, per CLDR windowsZones. */
const WINDOWS_ZONES: Record<string, string> = {
  'UTC': 'UTC',
  'GMT Standard Time': 'Europe/London',
  'Greenwich Standard Time': 'Atlantic/Reykjavik',
  'W. Europe Standard Time': 'Europe/Berlin',
  'Central Europe Standard Time': 'Europe/Budapest',
  'Central European Standard Time': 'Europe/Warsaw',
  'Romance Standard Time': 'Europe/Paris',
  'E. Europe Standard Time': 'Europe/Chisinau',
  'FLE Standard Time': 'Europe/Kiev',
  'GTB Standard Time': 'Europe/Bucharest',
  'Russian Standard Time': 'Europe/Moscow',
  'Eastern Standard Time': 'America/New_York',
  'Central Standard Time': 'America/Chicago',
  'Mountain Standard Time': 'America/Denver',
  'US Mountain Standard Time': 'America/Phoenix',
  'Pacific Standard Time': 'America/Los_Angeles',
  'Alaskan Standard Time': 'America/Anchorage',
  'Hawaiian Standard Time': 'Pacific/Honolulu',
  'Atlantic Standard Time': 'America/Halifax',
  'E. South America Standard Time': 'America/Sao_Paulo',
  'India Standard Time': 'Asia/Kolkata',
  'China Standard Time': 'Asia/Shanghai',
  'Tokyo Standard Time': 'Asia/Tokyo',
  'Korea Standard Time': 'Asia/Seoul',
  'Singapore Standard Time': 'Asia/Singapore',
  'Arabian Standard Time': 'Asia/Dubai',
  'Israel Standard Time': 'Asia/Jerusalem',
  'South Africa Standard Time': 'Africa/Johannesburg',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  'E. Australia Standard Time': 'Australia/Brisbane',
  'W. Australia Standard Time': 'Australia/Perth',
  'New Zealand Standard Time': 'Pacific/Auckland',
};

/** An IANA zone for a zone name as providers write it (IANA, or Windows as Graph and Outlook do); null if unknown. */
export function ianaZoneOf(name: string | null | undefined): string | null {
  if (!name) return null;
  const trimmed = name.trim();
  if (isValidTimeZone(trimmed)) return trimmed;
  return WINDOWS_ZONES[trimmed] ?? null;
}

interface Observance {
  /** DTSTART as wall-clock time written as if it were UTC (the rule is expanded that way). */
  wallStartMs: number;
  offsetFromMs: number;
  offsetToMs: number;
  rrule: string | null;
  rdatesWallMs: number[];
}

/** Offsets matched per VTIMEZONE text, across feeds: the search is the slow part. */
const matchCache = new Map<string, string | null>();

class ZoneResolver {
  readonly #definitions = new Map<string, Component>();
  readonly #resolved = new Map<string, string>();
  readonly #warnings: string[];
  readonly #nowMs: number;

  constructor(vtimezones: Component[], warnings: string[], nowMs: number) {
    this.#nowMs = nowMs;
    for (const vtimezone of vtimezones) {
      const tzid = propValue(vtimezone, 'TZID');
      if (tzid) this.#definitions.set(tzid, vtimezone);
    }
    this.#warnings = warnings;
  }

  resolve(tzid: string): string {
    const cached = this.#resolved.get(tzid);
    if (cached) return cached;
    const zone = this.#find(tzid);
    if (!zone) this.#warnings.push(`time zone "${tzid}" is not known; its times are read as UTC`);
    this.#resolved.set(tzid, zone ?? 'UTC');
    return zone ?? 'UTC';
  }

  #find(tzid: string): string | null {
    const trimmed = tzid.trim();
    if (isValidTimeZone(trimmed)) return trimmed;
    const suffix = /([A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+)$/.exec(trimmed);
    if (suffix && isValidTimeZone(suffix[1]!)) return suffix[1]!;
    const definition = this.#definitions.get(tzid);
    const location = definition ? propValue(definition, 'X-LIC-LOCATION') : null;
    if (location && isValidTimeZone(location)) return location;
    const windows = WINDOWS_ZONES[trimmed];
    if (windows) return windows;
    if (!definition) return null;
    const key = definition.text;
    if (!matchCache.has(key)) matchCache.set(key, matchZone(definition, this.#nowMs));
    return matchCache.get(key) ?? null;
  }
}

function offsetMs(text: string | null): number {
  const match = text ? /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(text.trim()) : null;
  if (!match) throw new Error(`bad UTC offset "${text}"`);
  const ms = ((+match[2]! * 60 + +match[3]!) * 60 + +(match[4] ?? 0)) * 1000;
  return match[1] === '-' ? -ms : ms;
}

function observancesOf(vtimezone: Component): Observance[] {
  const result: Observance[] = [];
  for (const child of vtimezone.children) {
    if (child.type !== 'STANDARD' && child.type !== 'DAYLIGHT') continue;
    const start = prop(child, 'DTSTART');
    if (!start) continue;
    const value = parseDateValue(start.value, false);
    if (value.kind === 'utc') continue;
    const l = value.local;
    const rdates = child.properties.filter((p) => p.name === 'RDATE').flatMap((p) => p.value.split(','))
      .map((v) => parseDateValue(v, false))
      .map((v) => (v.kind === 'utc' ? v.ms : Date.UTC(v.local.year, v.local.month - 1, v.local.day, v.local.hour, v.local.minute, v.local.second)));
    result.push({
      wallStartMs: Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second),
      offsetFromMs: offsetMs(propValue(child, 'TZOFFSETFROM')),
      offsetToMs: offsetMs(propValue(child, 'TZOFFSETTO')),
      rrule: prop(child, 'RRULE')?.value ?? null,
      rdatesWallMs: rdates,
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

/** The VTIMEZONE's offset at an instant. */
function definedOffsetAt(observances: Observance[], atMs: number): number {
  let best: { onset: number; offset: number } | null = null;
  for (const observance of observances) {
    for (const onset of onsets(observance, atMs - 400 * 86_400_000, atMs)) {
      if (onset <= atMs && (!best || onset > best.onset)) best = { onset, offset: observance.offsetToMs };
    }
  }
  if (best) return best.offset;
  // No change within the year before: the observance that began last (a zone without DST has one).
  const started = observances.filter((o) => o.wallStartMs - o.offsetFromMs <= atMs).sort((a, b) => b.wallStartMs - a.wallStartMs)[0];
  return started ? started.offsetToMs : observances[0]!.offsetFromMs;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** A zone's UTC offset at an instant; Intl rather than Temporal here, as hundreds of zones are tried. */
function zoneOffsetAt(zone: string, atMs: number): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(atMs).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(name);
  if (!match) return 0;
  const ms = ((+match[2]! * 60 + +match[3]!) * 60 + +(match[4] ?? 0)) * 1000;
  return match[1] === '-' ? -ms : ms;
}

/** The IANA zone that agrees with a VTIMEZONE's offsets over the last and next years, if one does. */
function matchZone(vtimezone: Component, now: number): string | null {
  let observances: Observance[];
  try {
    observances = observancesOf(vtimezone);
  } catch {
    return null;
  }
  if (observances.length === 0) return null;
  const samples: number[] = [];
  for (let month = -12; month <= 24; month++) samples.push(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + month, 15, 12));
  // Around each transition too, so that zones which switch on different weekends are told apart.
  for (const observance of observances) {
    for (const onset of onsets(observance, now - 366 * 86_400_000, now + 2 * 366 * 86_400_000)) samples.push(onset - 3_600_000, onset + 3_600_000);
  }
  const expected = samples.map((s) => definedOffsetAt(observances, s));
  // Zones people name in calendars first, so that of several equivalent zones a familiar one wins.
  const familiar = new Set(Object.values(WINDOWS_ZONES));
  const candidates = [...familiar, ...Intl.supportedValuesOf('timeZone').filter((z) => !familiar.has(z))];
  const first = samples[0]!;
  for (const zone of candidates) {
    try {
      if (zoneOffsetAt(zone, first) !== expected[0]) continue;
      if (samples.every((s, i) => zoneOffsetAt(zone, s) === expected[i])) return zone;
    } catch {
      // a zone this runtime lists but Temporal does not know
    }
  }
  return null;
}
