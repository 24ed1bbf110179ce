// A local server publishing iCalendar feeds the way calendar apps do (Google's "secret address in
// iCal format"): the whole calendar in one text/calendar document, with an ETag and
// Last-Modified, 304 for a conditional GET that matches. Tests edit the feed's events, take the
// feed down, or revoke its URL.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface IcsEvent {
  uid: string;
  summary: string;
  startMs: number;
  endMs: number;
  /** Wall-clock times in this zone (TZID); UTC when absent. */
  timeZone?: string;
  location?: string;
  description?: string;
  status?: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';
  rrule?: string;
  exdatesMs?: number[];
  /** For an override instance: the original start of the occurrence it replaces. */
  recurrenceIdMs?: number;
  sequence?: number;
}

interface Feed {
  name: string;
  /** Sent as X-WR-CALDESC, the calendar description exporters write (MS-OXCICAL 2.1.3.1.1.16, learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxcical/9194db93-6de2-41b3-bebe-fc76a11e31e9). */
  description?: string;
  events: IcsEvent[];
  version: number;
  modifiedAtMs: number;
  isRevoked: boolean;
  /**
   * Served as is instead of rendering `events`; encoded once when published, so that serving a
   * 20 MB feed costs this process (shared with the Rollcall under test) no encoding work.
   */
  raw?: Buffer;
}

export class FakeIcsServer {
  readonly requests: { path: string; ifNoneMatch: string | undefined; status: number }[] = [];
  /** Requests that have arrived, answered or not (`requests` lists those answered). */
  arrived = 0;
  /** While set, every request is answered with this status (and Retry-After, if given). */
  outage: { status: number; retryAfterSeconds?: number } | null = null;
  /** Answers for the next requests, first one first (then back to normal). */
  readonly failNext: { status: number; retryAfterSeconds?: number }[] = [];
  /** While set, a request is answered only once this settles (a feed server slow to answer). */
  holdAnswers: Promise<void> | null = null;
  /**
   * While set, the answer is made from the feed as it is when the request arrives, and sent once
   * this settles (a slow network between the feed and Rollcall: the feed may change meanwhile).
   */
  delayAnswers: Promise<void> | null = null;
  readonly #feeds = new Map<string, Feed>();
  #server: Server | null = null;
  #baseUrl = '';

  async start(): Promise<string> {
    this.#server = createServer(async (req, res) => {
      this.arrived += 1;
      if (this.holdAnswers) await this.holdAnswers.catch(() => {});
      const delay = this.delayAnswers;
      const answer = this.#answer(req);
      if (delay) await delay.catch(() => {});
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#baseUrl;
  }

  /** The answer to a request, made from the feed as it is now. */
  #answer(req: IncomingMessage): { status: number; headers: Record<string, string>; body?: string | Buffer } {
    const path = (req.url ?? '').split('?')[0]!;
    const record = (status: number) => this.requests.push({ path, ifNoneMatch: req.headers['if-none-match'] as string | undefined, status });
    const failure = this.outage ?? this.failNext.shift();
    if (failure) {
      record(failure.status);
      return { status: failure.status, headers: { 'content-type': 'text/plain', ...(failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {}) }, body: 'Service Unavailable' };
    }
    const feed = this.#feeds.get(path);
    if (!feed || feed.isRevoked) {
      record(404);
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
    }
    const etag = `"v${feed.version}"`;
    const lastModified = new Date(feed.modifiedAtMs).toUTCString();
    if (req.headers['if-none-match'] === etag) {
      record(304);
      return { status: 304, headers: { etag, 'last-modified': lastModified } };
    }
    record(200);
    return { status: 200, headers: { 'content-type': 'text/calendar; charset=utf-8', etag, 'last-modified': lastModified }, body: renderFeed(feed) };
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  /** A new feed; returns its secret URL. */
  createFeed(name = 'Work', options: { description?: string } = {}): string {
    const path = `/calendar/ical/${randomUUID()}/private-${randomUUID().slice(0, 8)}/basic.ics`;
    this.#feeds.set(path, { name, ...options, events: [], version: 1, modifiedAtMs: Date.now(), isRevoked: false });
    return `${this.#baseUrl}${path}`;
  }

  events(url: string): IcsEvent[] {
    return this.#feed(url).events;
  }

  /** Edits a feed's events; the ETag changes with every edit. */
  edit(url: string, change: (events: IcsEvent[]) => void): void {
    const feed = this.#feed(url);
    change(feed.events);
    feed.version++;
    feed.modifiedAtMs = Date.now();
  }

  /** The owner reset the secret address: the old URL answers 404 from now on. */
  revoke(url: string): void {
    this.#feed(url).isRevoked = true;
  }

  /** The feed answers again (the address was re-enabled). */
  restore(url: string): void {
    this.#feed(url).isRevoked = false;
  }

  /** Serves raw text (or bytes, as given) at a new path (for parser edge cases). */
  publishRaw(text: string | Buffer): string {
    const path = `/raw/${randomUUID()}.ics`;
    this.#feeds.set(path, { name: 'raw', events: [], version: 1, modifiedAtMs: Date.now(), isRevoked: false, raw: typeof text === 'string' ? Buffer.from(text, 'utf8') : text });
    return `${this.#baseUrl}${path}`;
  }

  /**
   * Serves raw text at an existing feed's URL from now on (a feed that turns bad after it was
   * connected), or its events again with null. The ETag changes either way.
   */
  replaceWithRaw(url: string, text: string | null): void {
    const feed = this.#feed(url);
    if (text === null) delete feed.raw;
    else feed.raw = Buffer.from(text, 'utf8');
    feed.version++;
    feed.modifiedAtMs = Date.now();
  }

  #feed(url: string): Feed {
    const feed = this.#feeds.get(new URL(url).pathname);
    if (!feed) throw new Error(`no feed at ${url}`);
    return feed;
  }
}

function renderFeed(feed: Feed): string | Buffer {
  if (feed.raw !== undefined) return feed.raw;
  const zones = new Set(feed.events.map((e) => e.timeZone).filter((z): z is string => !!z && z !== 'UTC'));
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//Fake ICS//EN', 'CALSCALE:GREGORIAN', `X-WR-CALNAME:${feed.name}`];
  if (feed.description !== undefined) lines.push(`X-WR-CALDESC:${escapeText(feed.description)}`);
  for (const zone of zones) lines.push('BEGIN:VTIMEZONE', `TZID:${zone}`, `X-LIC-LOCATION:${zone}`, 'END:VTIMEZONE');
  for (const event of feed.events) {
    lines.push('BEGIN:VEVENT', `UID:${event.uid}`, `DTSTAMP:${utcBasic(Date.now())}`);
    lines.push(timeLine('DTSTART', event.startMs, event.timeZone), timeLine('DTEND', event.endMs, event.timeZone));
    if (event.recurrenceIdMs !== undefined) lines.push(timeLine('RECURRENCE-ID', event.recurrenceIdMs, event.timeZone));
    if (event.rrule) lines.push(`RRULE:${event.rrule}`);
    for (const ex of event.exdatesMs ?? []) lines.push(timeLine('EXDATE', ex, event.timeZone));
    lines.push(`SUMMARY:${escapeText(event.summary)}`);
    if (event.location) lines.push(`LOCATION:${escapeText(event.location)}`);
    if (event.description) lines.push(`DESCRIPTION:${escapeText(event.description)}`);
    lines.push(`STATUS:${event.status ?? 'CONFIRMED'}`, `SEQUENCE:${event.sequence ?? 0}`, 'END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}

function utcBasic(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function timeLine(name: string, ms: number, zone: string | undefined): string {
  if (!zone || zone === 'UTC') return `${name}:${utcBasic(ms)}`;
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${name};TZID=${zone}:${get('year')}${get('month')}${get('day')}T${get('hour')}${get('minute')}${get('second')}`;
}

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\n/g, '\\n');
}

/** RFC 5545 folding at 75 octets (ASCII here). */
function fold(line: string): string {
  if (line.length <= 75) return line;
  const parts = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) parts.push(` ${line.slice(i, i + 74)}`);
  return parts.join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// Feeds built as text: a realistic calendar for measurements, and hostile ones.

const CRLF = '\r\n';
const FEED_HEAD = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//Feed builder//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH'];

/**
 * The two zones of the realistic feed, one VTIMEZONE each with a STANDARD and a DAYLIGHT rule
 * (RFC 5545 3.6.5, https://datatracker.ietf.org/doc/html/rfc5545#section-3.6.5), plus the
 * X-LIC-LOCATION this file's feeds already carry (renderFeed above).
 */
const REALISTIC_ZONES = [
  ['BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'X-LIC-LOCATION:Europe/Berlin',
    'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
    'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
    'END:VTIMEZONE'],
  ['BEGIN:VTIMEZONE', 'TZID:America/New_York', 'X-LIC-LOCATION:America/New_York',
    'BEGIN:DAYLIGHT', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'TZNAME:EDT', 'DTSTART:19700308T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU', 'END:DAYLIGHT',
    'BEGIN:STANDARD', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'TZNAME:EST', 'DTSTART:19701101T020000', 'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU', 'END:STANDARD',
    'END:VTIMEZONE'],
];

/**
 * Test data for measurements: a work calendar of `events` VEVENTs, a quarter of them weekly
 * series (some with EXDATEs and a moved occurrence), the rest single meetings over the next
 * months; each with attendees and an organizer (RFC 5545 3.8.4.1, 3.8.4.3), a description
 * carrying a conference link, a reminder (VALARM, RFC 5545 3.6.6) and lines folded at 75 octets
 * (RFC 5545 3.1, https://datatracker.ietf.org/doc/html/rfc5545#section-3.1). About 1.5 KB per
 * event. Deterministic for a given seed.
 */
export function realisticFeed(options: { events: number; nowMs: number; seed?: number }): string {
  let state = options.seed ?? 1;
  const random = () => {
    // mulberry32: a fixed sequence, so that every run measures the same feed.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const lines = [...FEED_HEAD, 'X-WR-CALNAME:Work', 'X-WR-TIMEZONE:Europe/Berlin', ...REALISTIC_ZONES.flat()];
  const day0 = Math.floor(options.nowMs / 86_400_000) * 86_400_000;
  for (let i = 0; i < options.events; i++) {
    const zone = random() < 0.7 ? 'Europe/Berlin' : 'America/New_York';
    const startMs = day0 + Math.floor(random() * 120) * 86_400_000 + (7 + Math.floor(random() * 10)) * 3_600_000 + (random() < 0.5 ? 1_800_000 : 0);
    const endMs = startMs + (random() < 0.6 ? 1_800_000 : 3_600_000);
    const uid = `${i.toString(36)}${Math.floor(random() * 1e12).toString(36)}@google.com`;
    const isSeries = i % 4 === 0;
    const meeting = random() < 0.5
      ? `https://meet.google.com/${code(random, 3)}-${code(random, 4)}-${code(random, 3)}`
      : `https://us02web.zoom.us/j/${8_000_000_000 + Math.floor(random() * 999_999_999)}?pwd=${code(random, 22)}`;
    const vevent = [
      'BEGIN:VEVENT',
      timeLine('DTSTART', startMs, zone),
      timeLine('DTEND', endMs, zone),
      ...(isSeries ? [`RRULE:FREQ=WEEKLY;BYDAY=${['MO', 'TU', 'WE', 'TH', 'FR'][i % 5]}${random() < 0.5 ? `;COUNT=${10 + Math.floor(random() * 40)}` : ''}`] : []),
      ...(isSeries && random() < 0.3 ? [timeLine('EXDATE', startMs + 14 * 86_400_000, zone)] : []),
      `DTSTAMP:${utcBasic(options.nowMs)}`,
      `ORGANIZER;CN=Person ${i % 97}:mailto:person${i % 97}@example.com`,
      `UID:${uid}`,
    ];
    for (let a = 0; a < 4; a++) {
      vevent.push(`ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=${a === 0 ? 'ACCEPTED' : 'NEEDS-ACTION'};RSVP=TRUE;CN=Colleague ${(i + a) % 211};X-NUM-GUESTS=0:mailto:colleague${(i + a) % 211}@example.com`);
    }
    vevent.push(
      `CREATED:${utcBasic(options.nowMs - 30 * 86_400_000)}`,
      `DESCRIPTION:${escapeText(`Agenda for meeting ${i}:\n- status of the quarter\n- open questions\n\nJoin: ${meeting}\n\n${'Notes and links for the people invited to this meeting. '.repeat(4)}`)}`,
      `LAST-MODIFIED:${utcBasic(options.nowMs - 86_400_000)}`,
      `LOCATION:${escapeText(random() < 0.3 ? `Room ${i % 40}, Building B` : meeting)}`,
      'SEQUENCE:0',
      'STATUS:CONFIRMED',
      `SUMMARY:${escapeText(`${['Weekly sync', 'Design review', '1:1', 'Customer call', 'Planning'][i % 5]} #${i}`)}`,
      'TRANSP:OPAQUE',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:This is an event reminder', 'TRIGGER:-P0DT0H10M0S', 'END:VALARM',
      'END:VEVENT',
    );
    lines.push(...vevent);
    if (isSeries && random() < 0.2) {
      // One occurrence moved by an hour: an override instance with RECURRENCE-ID (RFC 5545 3.8.4.4).
      const originalMs = startMs + 7 * 86_400_000;
      lines.push('BEGIN:VEVENT', timeLine('DTSTART', originalMs + 3_600_000, zone), timeLine('DTEND', originalMs + 3_600_000 + (endMs - startMs), zone),
        `DTSTAMP:${utcBasic(options.nowMs)}`, `UID:${uid}`, timeLine('RECURRENCE-ID', originalMs, zone), `SUMMARY:Moved #${i}`,
        `LOCATION:${escapeText(meeting)}`, 'SEQUENCE:1', 'STATUS:CONFIRMED', 'END:VEVENT');
    }
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join(CRLF) + CRLF;
}

function code(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(97 + Math.floor(random() * 26));
  return text;
}

/**
 * Hostile: `depth` components opened inside one another (`BEGIN:X` ... `END:X`). RFC 5545 nests
 * at most three deep in practice (VCALENDAR > VEVENT > VALARM); 40,000 levels are 640 KB.
 */
export function nestedFeed(depth: number): string {
  return [...FEED_HEAD, ...new Array<string>(depth).fill('BEGIN:X'), ...new Array<string>(depth).fill('END:X'), 'END:VCALENDAR'].join(CRLF) + CRLF;
}

/**
 * Hostile: one event whose DESCRIPTION is `descriptionBytes` long, folded as RFC 5545 3.1 asks;
 * `meetingUrl` is its LOCATION.
 */
export function oversizedEventFeed(options: { descriptionBytes: number; startMs: number; meetingUrl: string; uid?: string; summaryBytes?: number }): string {
  const description = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(options.descriptionBytes / 57)).slice(0, options.descriptionBytes);
  const summary = options.summaryBytes ? 'S'.repeat(options.summaryBytes) : 'Oversized';
  const lines = [...FEED_HEAD, 'BEGIN:VEVENT', `UID:${options.uid ?? 'oversized@feed'}`, `DTSTAMP:${utcBasic(options.startMs)}`,
    `DTSTART:${utcBasic(options.startMs)}`, `DTEND:${utcBasic(options.startMs + 3_600_000)}`, `SUMMARY:${summary}`,
    `LOCATION:${options.meetingUrl}`, `DESCRIPTION:${description}`, 'END:VEVENT', 'END:VCALENDAR'];
  return lines.map(fold).join(CRLF) + CRLF;
}

/** Wraps VEVENT lines (or anything else) in a calendar. */
export function feedOf(body: string[]): string {
  return [...FEED_HEAD, ...body, 'END:VCALENDAR'].map(fold).join(CRLF) + CRLF;
}
