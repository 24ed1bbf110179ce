// A local server publishing iCalendar feeds the way calendar apps do (Google's "secret address in
// iCal format"): the whole calendar in one text/calendar document, with an ETag and
// Last-Modified, 304 for a conditional GET that matches. Tests edit the feed's events, take the
// feed down, or revoke its URL.
import { createServer, type Server } from 'node:http';
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
  events: IcsEvent[];
  version: number;
  modifiedAtMs: number;
  isRevoked: boolean;
  /** Served as is instead of rendering `events`. */
  raw?: string;
}

export class FakeIcsServer {
  readonly requests: { path: string; ifNoneMatch: string | undefined; status: number }[] = [];
  /** While set, every request is answered with this status (and Retry-After, if given). */
  outage: { status: number; retryAfterSeconds?: number } | null = null;
  /** Answers for the next requests, first one first (then back to normal). */
  readonly failNext: { status: number; retryAfterSeconds?: number }[] = [];
  readonly #feeds = new Map<string, Feed>();
  #server: Server | null = null;
  #baseUrl = '';

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const record = (status: number) => this.requests.push({ path, ifNoneMatch: req.headers['if-none-match'] as string | undefined, status });
      const failure = this.outage ?? this.failNext.shift();
      if (failure) {
        record(failure.status);
        res.writeHead(failure.status, { 'content-type': 'text/plain', ...(failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {}) });
        res.end('Service Unavailable');
        return;
      }
      const feed = this.#feeds.get(path);
      if (!feed || feed.isRevoked) {
        record(404);
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found');
        return;
      }
      const etag = `"v${feed.version}"`;
      const lastModified = new Date(feed.modifiedAtMs).toUTCString();
      if (req.headers['if-none-match'] === etag) {
        record(304);
        res.writeHead(304, { etag, 'last-modified': lastModified });
        res.end();
        return;
      }
      record(200);
      res.writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', etag, 'last-modified': lastModified });
      res.end(renderFeed(feed));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  /** A new feed; returns its secret URL. */
  createFeed(name = 'Work'): string {
    const path = `/calendar/ical/${randomUUID()}/private-${randomUUID().slice(0, 8)}/basic.ics`;
    this.#feeds.set(path, { name, events: [], version: 1, modifiedAtMs: Date.now(), isRevoked: false });
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

  /** Serves raw text at a new path (for parser edge cases). */
  publishRaw(text: string): string {
    const path = `/raw/${randomUUID()}.ics`;
    this.#feeds.set(path, { name: 'raw', events: [], version: 1, modifiedAtMs: Date.now(), isRevoked: false, raw: text });
    return `${this.#baseUrl}${path}`;
  }

  #feed(url: string): Feed {
    const feed = this.#feeds.get(new URL(url).pathname);
    if (!feed) throw new Error(`no feed at ${url}`);
    return feed;
  }
}

function renderFeed(feed: Feed): string {
  if (feed.raw !== undefined) return feed.raw;
  const zones = new Set(feed.events.map((e) => e.timeZone).filter((z): z is string => !!z && z !== 'UTC'));
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//Fake ICS//EN', 'CALSCALE:GREGORIAN', `X-WR-CALNAME:${feed.name}`];
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
