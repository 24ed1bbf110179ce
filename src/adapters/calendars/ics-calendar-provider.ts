// An iCalendar feed (a calendar's "secret address", a published calendar) as a CalendarProvider.
// There is no change feed: every fetch is the whole calendar, made cheap with a conditional GET
// (If-None-Match / If-Modified-Since) so an unchanged feed costs a 304. No push; it is polled.
import { createHash } from 'node:crypto';
import {
  CalendarProviderError, type CalendarProvider, type FetchContext, type FetchResult, type ProviderAccount, type ProviderCapabilities,
} from './calendar-provider.ts';
import { failureFromStatus, type HttpResponse, type HttpSend } from './provider-http.ts';
import { FeedText } from './feed-text.ts';
import { IcsParseError, parseIcsYielding, type ParsedFeed } from './ics-parser.ts';
import { SplitCharacterFolds } from './split-character-folds.ts';

export const ICS_CAPABILITIES: ProviderCapabilities = Object.freeze({
  incrementalSync: 'conditional_get',
  push: null,
  recurrence: 'series_with_exceptions',
  isWindowed: false,
  canMissDeletions: false,
});

/** The one calendar of a feed. */
export const ICS_CALENDAR_ID = '';

const MAX_REDIRECTS = 5;
const MAX_FEED_BYTES = 20 * 1024 * 1024;

interface IcsCursor {
  etag: string | null;
  lastModified: string | null;
  /** How many events the last feed taken in held (absent in cursors written before it was kept). */
  events?: number;
  /** Since when the feed has come back empty after holding events, while that is not yet believed. */
  emptySinceMs?: number;
}

/**
 * How long a feed that held several events must come back empty before its emptiness is taken in. A
 * publishing service in trouble can serve a valid calendar with nothing in it for a while (sync
 * tools have deleted whole calendars so: OutlookGoogleCalendarSync issues 2137 and 2215,
 * GAS-ICS-Sync issue 118); read as the calendar, it would cancel every bot, and those bots would
 * not come back with the events (an occurrence that had a bot is not booked again by a batch or
 * auto-schedule).
 */
const EMPTY_FEED_GRACE_MS = 60 * 60_000;
/**
 * A feed held at least this many events for its emptying to be doubted: a small calendar whose
 * last events the owner deleted is usual, and its bots should go at once.
 */
const DOUBTED_EMPTYING_FROM_EVENTS = 5;

/** webcal:// is how calendar apps spell an https feed. */
export function normalizeFeedUrl(url: string): string {
  return url.trim().replace(/^webcals?:\/\//i, 'https://');
}

/** A stable account key for a feed that does not reveal it. */
export function feedAccountId(url: string): string {
  return `ics:${createHash('sha256').update(normalizeFeedUrl(url)).digest('hex').slice(0, 32)}`;
}

/** The feed URL without the parts that usually hold its secret (path and query), for display. */
export function redactFeedUrl(url: string): string {
  try {
    const parsed = new URL(normalizeFeedUrl(url));
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return '…';
  }
}

export class IcsCalendarProvider implements CalendarProvider {
  readonly kind = 'ics' as const;
  readonly capabilities = ICS_CAPABILITIES;
  readonly push = null;
  readonly #url: string;
  readonly #send: HttpSend;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /**
   * The feed describeAccount just read, with its validators, kept for this instance's next
   * fetchChanges from the start: connecting describes the feed and then syncs it, and a feed of
   * 20 MiB should be downloaded and parsed once for that, not twice.
   */
  #justRead: { feed: ParsedFeed; cursor: IcsCursor } | null = null;

  constructor(options: { url: string; send: HttpSend; timeoutMs: number; now: () => number }) {
    this.#url = normalizeFeedUrl(options.url);
    this.#send = options.send;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
  }

  async describeAccount(): Promise<ProviderAccount> {
    const { response } = await this.#get(null);
    const feed = await this.#parse(response);
    this.#justRead = { feed, cursor: cursorOf(response) };
    return {
      accountId: feedAccountId(this.#url),
      email: null,
      name: feed.name,
      calendars: [{ id: ICS_CALENDAR_ID, name: feed.name, timeZone: feed.timeZone, isPrimary: true, accessRole: 'reader', isSynced: true, description: feed.description, isSelected: true, isHidden: false }],
    };
  }

  async fetchChanges(_calendarId: string, cursor: string | null, _context: FetchContext): Promise<FetchResult> {
    const justRead = this.#justRead;
    this.#justRead = null;
    if (justRead && cursor === null) return fullSync(justRead.feed, justRead.cursor);
    const previous = cursor ? (JSON.parse(cursor) as IcsCursor) : null;
    // A cursor from before event counts were kept is read without its validators once, so that
    // the count is known before the feed can come back empty (see EMPTY_FEED_GRACE_MS).
    const { response } = await this.#get(previous?.events === undefined ? null : previous);
    if (response.status === 304 && previous) {
      return { isFullSync: false, window: null, isUnchanged: true, changes: [], cursor };
    }
    const feed = await this.#parse(response);
    if (feed.events.length === 0 && previous && (previous.events ?? 0) >= DOUBTED_EMPTYING_FROM_EVENTS) {
      const now = this.#now();
      const emptySinceMs = previous.emptySinceMs ?? now;
      // Not believed yet: the events stay as they are. The previous validators stay too, so
      // that the next poll reads the feed again rather than being told the empty one is current.
      if (now - emptySinceMs < EMPTY_FEED_GRACE_MS) {
        return { isFullSync: false, window: null, isUnchanged: true, changes: [], cursor: JSON.stringify({ ...previous, emptySinceMs } satisfies IcsCursor) };
      }
    }
    return fullSync(feed, cursorOf(response));
  }

  async #get(previous: IcsCursor | null): Promise<{ response: HttpResponse }> {
    // The URL is the user's: sent guarded, so the address of every connection, redirects
    // included, is checked when it is dialled (a refusal fails as `permanent`).
    const response = await this.#send({
      method: 'GET',
      url: this.#url,
      headers: {
        accept: 'text/calendar, text/plain;q=0.5, */*;q=0.1',
        ...(previous?.etag ? { 'if-none-match': previous.etag } : {}),
        ...(previous?.lastModified ? { 'if-modified-since': previous.lastModified } : {}),
      },
      timeoutMs: this.#timeoutMs,
      maxBytes: MAX_FEED_BYTES,
      redirects: MAX_REDIRECTS,
      guarded: true,
      // A fold that split a UTF-8 character is joined before the bytes are decoded.
      byteFilter: () => new SplitCharacterFolds(),
    });
    if (response.status === 304 || (response.status >= 200 && response.status < 300)) return { response };
    // A secret address that was reset (or a feed taken down) answers 401/403/404/410: like a
    // revoked token, it will not work again until the owner gives a new URL.
    if ([401, 403, 404, 410].includes(response.status)) throw new CalendarProviderError({ kind: 'auth_revoked', message: `the feed URL no longer grants access: HTTP ${response.status}` });
    throw new CalendarProviderError(failureFromStatus(response, this.#now(), 'fetching the feed'));
  }

  /**
   * Parses on the main thread in slices (parseIcsYielding): measured, a 20 MiB feed takes well
   * under a second and no slice holds the event loop for long, so a worker thread would only add
   * the cost of copying the events back (docs/ics-parsing.md). A feed over a parser limit
   * (nesting, size, lines...) is a permanent failure: fetching it again gives the same feed.
   */
  async #parse(response: HttpResponse): Promise<ParsedFeed> {
    const text = new FeedText(response.bodyPieces ?? response.body);
    if (!/BEGIN:VCALENDAR/i.test(text.slice(0, 4096))) {
      throw new CalendarProviderError({ kind: 'permanent', message: 'the URL did not answer with an iCalendar feed (no BEGIN:VCALENDAR)' });
    }
    // A feed without its closing line was cut short on the way (a connection dropped after the
    // answer began, where no Content-Length told the client to wait for more). Read as the whole
    // calendar, it would delete every event after the cut and cancel their bots: a passing failure
    // instead, as the next fetch is likely whole. (The parser itself forgives missing END lines
    // inside a feed; this is only about its end.)
    if (!endsWithCalendarEnd(text.slice(Math.max(0, text.length - 4096)))) {
      throw new CalendarProviderError({ kind: 'transient', message: 'the feed ends without END:VCALENDAR: it was cut short on the way, so the events of the last whole fetch stay' });
    }
    try {
      return await parseIcsYielding(text, { nowMs: this.#now() });
    } catch (error) {
      if (error instanceof IcsParseError) throw new CalendarProviderError({ kind: 'permanent', message: `the feed cannot be read: ${error.message}` });
      throw error;
    }
  }
}

/**
 * Whether the text's last line (white space after it aside) closes a calendar: a feed of several
 * VCALENDAR blocks cut inside a later one has an END:VCALENDAR near its end too, not as its last line.
 */
function endsWithCalendarEnd(tail: string): boolean {
  const trimmed = tail.trimEnd();
  const lastBreak = Math.max(trimmed.lastIndexOf('\n'), trimmed.lastIndexOf('\r'));
  return /^END:VCALENDAR$/i.test(trimmed.slice(lastBreak + 1).trim());
}

function fullSync(feed: ParsedFeed, cursor: IcsCursor): FetchResult {
  return {
    isFullSync: true,
    window: null,
    isUnchanged: false,
    changes: feed.events.map((event) => ({ type: 'upsert' as const, event })),
    cursor: JSON.stringify({ ...cursor, events: feed.events.length } satisfies IcsCursor),
    ...(feed.warnings.length > 0 ? { warnings: feed.warnings } : {}),
  };
}

/** The validators of an answer, for the next conditional GET. */
function cursorOf(response: HttpResponse): IcsCursor {
  return { etag: header(response, 'etag'), lastModified: header(response, 'last-modified') };
}

function header(response: HttpResponse, name: string): string | null {
  const value = response.headers[name];
  return typeof value === 'string' ? value : null;
}
