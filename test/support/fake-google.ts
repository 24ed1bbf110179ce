// A local stand-in for Google's OAuth token endpoint and Calendar API v3. Every behaviour it
// simulates cites its source beside the code that simulates it. In short: calendarList (paged),
// events.list (pageToken paging, nextSyncToken on the last page only, showDeleted, 410
// fullSyncRequired for a stale syncToken, 400 for parameters Google refuses beside a syncToken),
// events.get (a deleted event answered cancelled, one no longer kept 404, an occurrence by its
// instance id), events.instances by originalStart (one occurrence, cancelled ones with
// showDeleted), calendars.get (refused, with eventsOnlyScopes, as to a token without its scopes),
// cancelled instances that keep only their identity, "this and following events" splitting a
// series into `<id>_R<time>` (or, with opaqueInstanceIds, ids of no known shape), events.watch,
// channels.stop, and push notifications with the X-Goog-* headers. Tests drive it to create,
// move, cancel and recur events, revoke tokens, inject failures and take the API down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { RRuleTemporal } from 'rrule-temporal';
import { Temporal } from 'temporal-polyfill';
import type { GoogleEvent } from '../../src/adapters/calendars/google-calendar-provider.ts';

/** How the fake reaches Rollcall's notification route (tests pass app.inject). */
export type Deliver = (url: string, request: { headers: Record<string, string>; body?: string }) => Promise<{ status: number; body: string; headers: Record<string, string> }>;

interface StoredEvent {
  event: GoogleEvent & Record<string, unknown>;
  seq: number;
}

interface Calendar {
  id: string;
  summary: string;
  timeZone: string;
  accessRole: string;
  isPrimary: boolean;
  events: Map<string, StoredEvent>;
  /** Calendar-list entry fields a test may set (defaults: no description, Google's teal, selected, not hidden). */
  description?: string;
  backgroundColor?: string;
  foregroundColor?: string;
  isSelected?: boolean;
  isHidden?: boolean;
}

export interface CalendarListFields {
  summary?: string;
  description?: string;
  backgroundColor?: string;
  foregroundColor?: string;
  isSelected?: boolean;
  isHidden?: boolean;
}

interface Account {
  email: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  isRevoked: boolean;
  /** The app's OAuth client was deleted (deleteClient). */
  isClientDeleted?: boolean;
  calendars: Map<string, Calendar>;
}

interface Channel {
  id: string;
  resourceId: string;
  token: string | undefined;
  address: string;
  expiration: number;
  email: string;
  calendarId: string;
  isStopped: boolean;
  messageNumber: number;
  notifiedSeq: number;
  /** channels.stop requests that named this channel, answered or failed. */
  stopRequests: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  authorization: string | undefined;
}

export class FakeGoogleCalendar {
  readonly requests: RecordedRequest[] = [];
  readonly channels: Channel[] = [];
  /** While set, events.watch answers (and makes its channel) only once it settles. */
  delayWatch: Promise<void> | null = null;
  /** events.watch requests that waited for delayWatch. */
  watchesDelayed = 0;
  /**
   * While set, events.watch makes its channel and sends its "sync" message at once, and answers
   * only once it settles: the push guide ("Sync message") does not order that message against the
   * watch answer, so a receiver can hear of a channel well before its caller has the answer.
   */
  holdWatchAnswers: Promise<void> | null = null;
  /** events.watch answers held by holdWatchAnswers, their channels made and "sync" sent. */
  watchAnswersHeld = 0;
  /**
   * How many of the next events.watch requests make their channel (and send its "sync" message)
   * and then reset the connection instead of answering: a call carried out whose answer never
   * reaches the caller. Google documents no such failure, and no public report of one on
   * events.watch is cited here: the fake simulates a network fault, which any HTTP exchange can
   * meet after the server has acted on the request. The channel runs on: only channels.stop,
   * which needs its id and resourceId (channels reference,
   * developers.google.com/workspace/calendar/api/v3/reference/channels/stop), or its expiry ends it
   * (push guide, "Stop notifications").
   */
  loseWatchAnswers = 0;
  /**
   * While set, events.list reads the calendar on arrival and answers that only once it settles: a
   * slow page, whose answer misses changes made while it was under way.
   */
  delayListing: Promise<void> | null = null;
  /** As delayListing, for the events.list requests of one calendar only (by its id). */
  readonly delayListingOf = new Map<string, Promise<void>>();
  /** events.list requests that waited for delayListing or delayListingOf. */
  listingsDelayed = 0;
  readonly notifications: { channelId: string; state: string; status: number }[] = [];
  /** While set, every API and token request gets this answer. */
  outage: { status: number; retryAfterSeconds?: number } | null = null;
  /**
   * Calendars whose events.list answers this status (backendError) until removed: one calendar of
   * an account can answer 503 for days while its others read (aronwoost/google-calendar-hours
   * issue 75).
   */
  readonly failingCalendars = new Map<string, number>();
  /**
   * Calendars whose events.watch answers this status until removed, their reads going on: a test
   * control for a channel that fails to open on one calendar of an account. Google answers
   * 500/503 backendError to any request now and then (errors guide, "500: Backend error"), and
   * refuses a watch on calendars it generates, such as a country's holidays, while reading them
   * (qiita.com/koshilife/items/0f861513d8965d321904; the reason is
   * pushNotSupportedForRequestedResource). A 401 is the refusal of the notification address
   * (reason push.webhookUrlUnauthorized, message "Unauthorized WebHook callback channel: <address>",
   * given when the address's domain is not verified), which Google's errors guide does not list:
   * the status as stackoverflow.com/questions/40156523 reports it, the body's reason and message as
   * third-party code handling it shows them (others report it as 400 or 403).
   */
  readonly failingWatches = new Map<string, number>();
  /**
   * While set, channels.stop answers this status (backendError; 403 and 429 rateLimitExceeded)
   * and the channel runs on: Google answers 500/503 backendError to any request now and then, and
   * 403/429 rateLimitExceeded past a usage limit, naming no wait (errors guide, "500: Backend
   * error", "403: Rate limit exceeded", developers.google.com/workspace/calendar/api/guides/errors),
   * and a channel not stopped notifies until it expires (push guide, "Stop notifications": the
   * expiration stops it otherwise).
   */
  failingStops: number | null = null;
  /**
   * While set, channels.stop answers only after this many real milliseconds (then as it would
   * have): a request Google takes in and leaves without an answer for longer than the client
   * waits. Google documents no time for an answer; a public report shows a Calendar API request
   * (events.list, not channels.stop) whose connection Google accepted and never answered
   * (github.com/openclaw/openclaw/pull/102157), and a client bounds each request by its own
   * timeout (CALENDAR_HTTP_TIMEOUT_MS here).
   */
  delayStopsMs: number | null = null;
  /**
   * Failures for the next API requests, first one first. Google documents no Retry-After on its
   * usage limits (errors guide: 403/429 rateLimitExceeded, back off exponentially); a test sets
   * retryAfterSeconds only to check that a header, were one sent, is honoured.
   */
  readonly failNext: { status: number; reason: string; retryAfterSeconds?: number }[] = [];
  /**
   * Bodies answered with 200, first one first, in place of the next events.list listings (after
   * a stale syncToken has had its 410). Not a behaviour Google documents: its events.list answer always has items[], and
   * nextSyncToken on the last page (developers.google.com/workspace/calendar/api/v3/reference/events/list);
   * this stands in for a proxy or an outage that answers 200 with something else (a `{}`).
   */
  readonly malformedListings: unknown[] = [];
  /**
   * Failures for pages of a full listing (no syncToken), by their number in the listing (1: the
   * first page), each answered once, to the next request for that page; the page itself is served
   * to a later request for the same pageToken. Errors guide
   * (developers.google.com/workspace/calendar/api/guides/errors): 403/429 rateLimitExceeded ("Rate
   * Limit Exceeded", back off exponentially, no Retry-After documented) and 500/503 backendError
   * ("Backend Error", retry with exponential backoff) may answer any request.
   */
  readonly failListingPages = new Map<number, { status: number; reason: string; retryAfterSeconds?: number }>();
  /**
   * Failures for pages of an incremental listing (a syncToken's), by their number in the listing
   * (1: the first page, the one asked with the syncToken alone), each answered to the next `times`
   * requests for that page; the page itself is served to a later request for the same pageToken.
   * The sync guide (developers.google.com/workspace/calendar/api/guides/sync) pages an incremental
   * listing as a full one (nextPageToken, nextSyncToken on the last page), and the errors guide's
   * 403/429 rateLimitExceeded and 500/503 backendError may answer any request.
   */
  readonly failIncrementalPages = new Map<number, { status: number; reason: string; retryAfterSeconds?: number; times: number }>();
  /**
   * While set, events.get and events.instances are answered with this failure (see #getEvent,
   * #listInstances): for every event, or only for those in `ids` (a series by its master's id); a
   * Retry-After of `retryAfterSeconds` when given.
   */
  failEventLookups: { status: number; reason: string; retryAfterSeconds?: number; ids?: readonly string[] } | null = null;
  /**
   * Run once, at the next events.get or events.instances, before it is answered: a test's change
   * made between the pages a read lists and its lookups (the calendar deleted or unshared
   * meanwhile).
   */
  beforeNextEventLookup: (() => void) | null = null;
  /**
   * The tokens' scopes are calendar.events.readonly and calendar.calendarlist.readonly: the
   * calendar list, events.list, events.get and events.watch answer (each one's Authorization in
   * its reference page lists calendar.events.readonly or calendar.calendarlist.readonly), and
   * calendars.get, whose Authorization lists neither
   * (developers.google.com/workspace/calendar/api/v3/reference/calendars/get), answers 403
   * insufficientPermissions, "Request had insufficient authentication scopes." (GeneralTask/
   * task-manager pull request 2160; receptron/mulmoclaude pull request 2737).
   */
  eventsOnlyScopes = false;
  /** Size of events.list pages when the client does not ask (Google: 250). */
  defaultPageSize = 250;
  /** Google may answer with fewer items than maxResults; a small cap makes every sync page. */
  pageSizeCap = Infinity;
  /**
   * Ids of no known shape for what is made from now on: exceptions (moved or cancelled
   * occurrences) and the series a "this and following" edit starts. Google's notice of October
   * 2025 (quoted in phw198/OutlookGoogleCalendarSync issue 2205): from Q3 2026 "there will be an
   * update to the format in which Calendar generates and accepts new event IDs", it "will only
   * affect event IDs of instances in recurring events", and "Event IDs must be treated as opaque
   * identifiers". Exceptions made before keep their ids, as the notice says existing ones do.
   * Off: the historical shapes, `<series>_<original start, UTC basic>` and `<series>_R<time>`.
   * The new series' iCalUID is then its own (`<id>@google.com`): nothing says that it keeps
   * the old series' stem, so the fake assumes the least.
   */
  opaqueInstanceIds = false;
  readonly #accounts = new Map<string, Account>();
  readonly #accessTokens = new Map<string, { email: string; expiresAt: number }>();
  /** `page`: the number in its listing of the page a token asks for (1: the first); `epoch`: the page tokens' epoch it was issued in. */
  readonly #pages = new Map<string, { items: StoredEvent['event'][]; nextSyncToken: string; pageSize: number; page: number; epoch: number }>();
  #pageTokenEpoch = 0;
  readonly #now: () => number;
  readonly #deliver: Deliver;
  #seq = 0;
  #tokenEpoch = 0;
  #server: Server | null = null;

  constructor(options: { now: () => number; deliver: Deliver }) {
    this.#now = options.now;
    this.#deliver = options.deliver;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  // ----- driving the fake --------------------------------------------------------------------

  createAccount(options: { timeZone?: string } = {}): { email: string; clientId: string; clientSecret: string; refreshToken: string } {
    const email = `user-${randomBytes(4).toString('hex')}@example.com`;
    const account: Account = {
      email, clientId: `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`, clientSecret: `GOCSPX-${randomBytes(12).toString('base64url')}`,
      refreshToken: `1//0${randomBytes(24).toString('base64url')}`, isRevoked: false, calendars: new Map(),
    };
    account.calendars.set(email, { id: email, summary: email, timeZone: options.timeZone ?? 'Europe/Berlin', accessRole: 'owner', isPrimary: true, events: new Map() });
    account.calendars.set('en.usa#holiday@group.v.calendar.google.com', { id: 'en.usa#holiday@group.v.calendar.google.com', summary: 'Holidays in United States', timeZone: 'UTC', accessRole: 'reader', isPrimary: false, events: new Map() });
    this.#accounts.set(email, account);
    return { email, clientId: account.clientId, clientSecret: account.clientSecret, refreshToken: account.refreshToken };
  }

  addCalendar(email: string, calendar: { id: string; summary: string; accessRole?: string; timeZone?: string } & CalendarListFields): void {
    this.#account(email).calendars.set(calendar.id, { ...calendar, timeZone: calendar.timeZone ?? 'UTC', accessRole: calendar.accessRole ?? 'owner', isPrimary: false, events: new Map() });
  }

  /** Changes a calendar's list entry (its description, colours, selected and hidden flags). */
  setCalendarListFields(email: string, calendarId: string, fields: CalendarListFields): void {
    Object.assign(this.#account(email).calendars.get(calendarId)!, fields);
  }

  /**
   * Every event comes with an `eventType`, `default` unless made as another (Calendar API "Event
   * types" guide: focusTime, outOfOffice and workingLocation on primary calendars, birthday,
   * fromGmail); a test passes the type in `fields`. events.list without `eventTypes` lists every
   * type, which is how Rollcall lists.
   */
  insertEvent(email: string, calendarId: string, fields: Partial<GoogleEvent>): string {
    const id = eventId();
    const now = new Date(this.#now()).toISOString();
    this.#store(email, calendarId, {
      kind: 'calendar#event', id, status: 'confirmed', htmlLink: `https://www.google.com/calendar/event?eid=${id}`, created: now,
      creator: { email, self: true }, organizer: { email, self: true }, iCalUID: `${id}@google.com`, sequence: 0,
      reminders: { useDefault: true }, eventType: 'default', ...fields,
    });
    return id;
  }

  getEvent(email: string, calendarId: string, id: string): GoogleEvent | undefined {
    return this.#calendar(email, calendarId).events.get(id)?.event;
  }

  patchEvent(email: string, calendarId: string, id: string, patch: Partial<GoogleEvent>): void {
    const stored = this.#calendar(email, calendarId).events.get(id);
    if (!stored) throw new Error(`no event ${id}`);
    this.#store(email, calendarId, { ...stored.event, ...patch, sequence: Number(stored.event.sequence ?? 0) + 1 });
  }

  /**
   * Deleting leaves a cancelled tombstone that incremental syncs (and showDeleted) return; only
   * its id is guaranteed (developers.google.com/workspace/calendar/api/v3/reference/events, status).
   */
  deleteEvent(email: string, calendarId: string, id: string): void {
    const stored = this.#calendar(email, calendarId).events.get(id)!;
    this.#store(email, calendarId, { kind: 'calendar#event', id, status: 'cancelled', ...(stored.event.recurringEventId ? { recurringEventId: stored.event.recurringEventId, originalStartTime: stored.event.originalStartTime } : {}) });
  }

  /**
   * The event no longer listed at all, not even cancelled. Google documents no time for which a
   * deleted event stays listed with showDeleted (events.list reference, showDeleted; events
   * resource, status), and the sync guide has a client whose token is gone clear its store and
   * list again: what the new full listing lacks is gone. This stands for a tombstone Google no
   * longer keeps, met by a full listing.
   */
  forgetEvent(email: string, calendarId: string, id: string): void {
    this.#calendar(email, calendarId).events.delete(id);
  }

  /**
   * events.move: "Moves an event to another calendar, i.e. changes an event's organizer"
   * (developers.google.com/calendar/api/v3/reference/events/move; default events only). The
   * source calendar no longer has it, so its incremental sync lists it as cancelled, which for a
   * single event means deleted (events resource, status); the destination lists it as a change,
   * with its iCalUID ("used to uniquely identify events across calendaring systems", events
   * resource). The fake keeps its id too; Rollcall does not rely on that.
   */
  moveEvent(email: string, fromCalendarId: string, id: string, toCalendarId: string): void {
    const stored = this.#calendar(email, fromCalendarId).events.get(id)!.event;
    if (stored.recurrence || stored.recurringEventId) throw new Error('the fake moves single events only');
    this.deleteEvent(email, fromCalendarId, id);
    this.#store(email, toCalendarId, { ...stored, organizer: { email: toCalendarId, self: true }, sequence: Number(stored.sequence ?? 0) + 1 });
  }

  /**
   * Moves (or otherwise changes) one occurrence: an exception instance with recurringEventId and
   * the immutable originalStartTime (events resource), whose id is <series>_<original start in
   * UTC basic format> as Google names instances (events.instances answers), or with
   * opaqueInstanceIds one of no known shape. An exception changed again keeps its id.
   */
  patchInstance(email: string, calendarId: string, seriesId: string, originalStartMs: number, patch: Partial<GoogleEvent>): string {
    const series = this.#calendar(email, calendarId).events.get(seriesId)!.event;
    const id = this.#instanceId(email, calendarId, seriesId, originalStartMs);
    const existing = this.#calendar(email, calendarId).events.get(id)?.event;
    const duration = Date.parse(series.end!.dateTime!) - Date.parse(series.start!.dateTime!);
    this.#store(email, calendarId, {
      kind: 'calendar#event', id, status: 'confirmed', summary: series.summary, location: series.location, description: series.description,
      // An occurrence is of its series' type: the type cannot change once an event is made (events resource, eventType).
      eventType: series.eventType,
      start: { dateTime: new Date(originalStartMs).toISOString(), timeZone: series.start?.timeZone }, end: { dateTime: new Date(originalStartMs + duration).toISOString(), timeZone: series.end?.timeZone },
      ...existing,
      recurringEventId: seriesId, originalStartTime: { dateTime: new Date(originalStartMs).toISOString(), timeZone: series.start?.timeZone },
      iCalUID: series.iCalUID, ...patch,
    });
    return id;
  }

  /**
   * A cancelled occurrence of a live series: only id, recurringEventId and originalStartTime are
   * guaranteed, and the record lives as long as its series (events resource, status).
   */
  cancelInstance(email: string, calendarId: string, seriesId: string, originalStartMs: number): string {
    const series = this.#calendar(email, calendarId).events.get(seriesId)!.event;
    const id = this.#instanceId(email, calendarId, seriesId, originalStartMs);
    this.#store(email, calendarId, { kind: 'calendar#event', id, status: 'cancelled', recurringEventId: seriesId, originalStartTime: { dateTime: new Date(originalStartMs).toISOString(), timeZone: series.start?.timeZone } });
    return id;
  }

  /**
   * "This and following events" from the occurrence at originalStartMs on: the series is split.
   * The old master ends before that occurrence (its rule gets an UNTIL) and a new master with the
   * id `<old id>_R<original start, UTC basic>` carries the rest, with the patch applied (odoo/odoo
   * PR 287171 handles these `_R` ids; googleapis/google-api-php-client issue 2009 observed the new
   * recurringEventId of the later instances). Both changes reach the next incremental sync.
   * With opaqueInstanceIds the new master's id and iCalUID are of no known shape. Supports the
   * COUNT rules the tests make. Returns the new master's id.
   * What becomes of the old series' exceptions at or after the split point Google's reference
   * does not say. By default they are left as they are; with `cancelOldExceptions` they are
   * answered cancelled (only their id, recurringEventId and originalStartTime, as a cancelled
   * exception: events resource, `status`), as instances past a rule's new UNTIL were found listed
   * with status "cancelled" under showDeleted (Stack Overflow question 79674021, "Cancelling all
   * Recurring Events past a certain date").
   */
  splitSeries(email: string, calendarId: string, seriesId: string, originalStartMs: number, patch: Partial<GoogleEvent> = {}, options: { cancelOldExceptions?: boolean } = {}): string {
    const calendar = this.#calendar(email, calendarId);
    const series = calendar.events.get(seriesId)!.event;
    const rule = (series.recurrence ?? []).find((line) => line.startsWith('RRULE:'))!;
    const count = Number(/COUNT=(\d+)/.exec(rule)?.[1] ?? 0);
    const firstMs = Date.parse(series.start!.dateTime!);
    const weeks = Math.round((originalStartMs - firstMs) / (7 * 86_400_000));
    const basic = basicUtc(originalStartMs);
    const until = basicUtc(originalStartMs - 1000) ;
    const oldRule = rule.replace(/;?COUNT=\d+/, '') + `;UNTIL=${until}`;
    this.#store(email, calendarId, { ...series, recurrence: [oldRule, ...(series.recurrence ?? []).filter((l) => l !== rule)], sequence: Number(series.sequence ?? 0) + 1 });
    if (options.cancelOldExceptions) {
      for (const { event } of [...calendar.events.values()]) {
        const original = event.originalStartTime?.dateTime;
        if (event.recurringEventId !== seriesId || original === undefined || Date.parse(original) < originalStartMs || event.status === 'cancelled') continue;
        this.#store(email, calendarId, { kind: 'calendar#event', id: event.id, status: 'cancelled', recurringEventId: seriesId, originalStartTime: event.originalStartTime });
      }
    }
    const id = this.opaqueInstanceIds ? eventId() : `${seriesId}_R${basic.replace(/Z$/, '')}`;
    const duration = Date.parse(series.end!.dateTime!) - firstMs;
    this.#store(email, calendarId, {
      ...series, id, iCalUID: `${id}@google.com`, sequence: 0,
      start: { dateTime: new Date(originalStartMs).toISOString(), timeZone: series.start?.timeZone }, end: { dateTime: new Date(originalStartMs + duration).toISOString(), timeZone: series.end?.timeZone },
      recurrence: [rule.replace(/COUNT=\d+/, `COUNT=${count - weeks}`)], ...patch,
    });
    return id;
  }

  /** A calendar deleted from the account: gone from calendarList, its events answer 404. */
  removeCalendar(email: string, calendarId: string): void {
    this.#account(email).calendars.delete(calendarId);
  }

  /** The user removed the app's access: refresh fails with invalid_grant, access tokens stop working. */
  revoke(email: string): void {
    this.#account(email).isRevoked = true;
    for (const [token, owner] of this.#accessTokens) if (owner.email === email) this.#accessTokens.delete(token);
  }

  /**
   * The app's OAuth client was deleted in its Google Cloud project: the token endpoint answers
   * 401 deleted_client, "The OAuth client was deleted." (google-api-nodejs-client issue 1256, on a
   * refresh; r-lib/httr PR 687, which found Google answering it outside the codes RFC 6749 lists),
   * and its access tokens stop working.
   */
  deleteClient(email: string): void {
    this.#account(email).isClientDeleted = true;
    for (const [token, owner] of this.#accessTokens) if (owner.email === email) this.#accessTokens.delete(token);
  }

  /** The user granted access again: a new refresh token works (an OAuth consent gives a new one). */
  restore(email: string): string {
    const account = this.#account(email);
    account.isRevoked = false;
    account.refreshToken = `1//0${randomBytes(24).toString('base64url')}`;
    return account.refreshToken;
  }

  /**
   * Every sync token issued so far answers 410 Gone from now on, which asks for a full sync
   * (developers.google.com/workspace/calendar/api/guides/sync).
   */
  expireSyncTokens(): void {
    this.#tokenEpoch++;
  }

  /**
   * Every page token issued so far answers 410 Gone from now on. Google documents 410 for sync
   * state gone stale (errors guide, "410: Gone": a syncToken or updatedMin too old, "a full sync
   * is required") and promises no lifetime for a page token; a page token that a listing resumed
   * later can no longer use is read by Rollcall as that 410 (docs/providers/google-calendar.md),
   * and this makes one so, with the same body as for a sync token.
   */
  expirePageTokens(): void {
    this.#pageTokenEpoch++;
  }

  /** Sends a notification on every live channel of the account whose calendar changed since the last one. */
  async notifyChanges(email: string): Promise<void> {
    for (const channel of this.channels) {
      if (channel.email !== email || channel.isStopped || channel.expiration <= this.#now()) continue;
      const calendar = this.#calendar(email, channel.calendarId);
      const latest = Math.max(0, ...[...calendar.events.values()].map((e) => e.seq));
      if (latest <= channel.notifiedSeq) continue;
      channel.notifiedSeq = latest;
      await this.notify(channel, 'exists');
    }
  }

  /**
   * One notification as Google sends it: headers only, empty body; message number 1 for "sync",
   * then rising but not consecutive (developers.google.com/workspace/calendar/api/guides/push).
   * The receiver's status is recorded and returned; the guide ("Respond to notifications") takes
   * 200, 201, 202, 204 and 102 as success, retries 500, 502, 503 and 504 with exponential backoff,
   * and counts any other status as a failed message, not sent again. The fake sends each once and
   * leaves retries to the test.
   */
  async notify(channel: Channel, state: 'sync' | 'exists' | 'not_exists', overrides: Record<string, string> = {}): Promise<number> {
    channel.messageNumber = state === 'sync' ? 1 : channel.messageNumber + 1 + Math.floor(Math.random() * 3);
    const headers: Record<string, string> = {
      'x-goog-channel-id': channel.id,
      'x-goog-message-number': String(channel.messageNumber),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-state': state,
      'x-goog-resource-uri': `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      ...(channel.token !== undefined ? { 'x-goog-channel-token': channel.token } : {}),
      ...overrides,
    };
    const answer = await this.#deliver(channel.address, { headers });
    this.notifications.push({ channelId: channel.id, state, status: answer.status });
    return answer.status;
  }

  liveChannels(email: string): Channel[] {
    return this.channels.filter((c) => c.email === email && !c.isStopped && c.expiration > this.#now());
  }

  // ----- HTTP --------------------------------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status, authorization: req.headers.authorization });
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (this.outage) {
      send(this.outage.status, googleError(this.outage.status, 'backendError', 'Backend Error'), this.outage.retryAfterSeconds !== undefined ? { 'retry-after': String(this.outage.retryAfterSeconds) } : {});
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') return this.#token(body, send);
    if (!url.pathname.startsWith('/calendar/v3/')) return send(404, googleError(404, 'notFound', 'Not Found'));
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const owner = auth ? this.#accessTokens.get(auth[1]!) : undefined;
    if (!owner || owner.expiresAt <= this.#now()) {
      return send(401, {
        error: {
          code: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          errors: [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' }], status: 'UNAUTHENTICATED',
        },
      });
    }
    const failure = this.failNext.shift();
    if (failure) return send(failure.status, googleError(failure.status, failure.reason, failure.reason), failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {});
    const path = url.pathname.slice('/calendar/v3'.length);
    const account = this.#account(owner.email);
    if (req.method === 'GET' && path === '/users/me/calendarList') return this.#calendarList(account, url.searchParams, send);
    const watch = /^\/calendars\/([^/]+)\/events\/watch$/.exec(path);
    const watchFailure = watch ? this.failingWatches.get(decodeURIComponent(watch[1]!)) : undefined;
    if (req.method === 'POST' && watchFailure === 401) {
      const address = (JSON.parse(body) as { address?: string }).address ?? '';
      return send(401, { error: { errors: [{ domain: 'global', reason: 'push.webhookUrlUnauthorized', message: `Unauthorized WebHook callback channel: ${address}` }], code: 401, message: `Unauthorized WebHook callback channel: ${address}` } });
    }
    if (req.method === 'POST' && watchFailure !== undefined) return send(watchFailure, googleError(watchFailure, watchFailure === 400 ? 'pushNotSupportedForRequestedResource' : 'backendError', watchFailure === 400 ? 'Push notifications are not supported by this resource.' : 'Backend Error'));
    if (req.method === 'POST' && watch && this.delayWatch) {
      // A slow answer: the channel is made when the answer goes.
      this.watchesDelayed += 1;
      void this.delayWatch.then(() => this.#watch(account, decodeURIComponent(watch[1]!), body, send));
      return;
    }
    if (req.method === 'POST' && watch && this.holdWatchAnswers) {
      const gate = this.holdWatchAnswers;
      void this.#watch(account, decodeURIComponent(watch[1]!), body, (...answer) => {
        this.watchAnswersHeld += 1;
        void gate.then(() => send(...answer));
      });
      return;
    }
    if (req.method === 'POST' && watch && this.loseWatchAnswers > 0) {
      this.loseWatchAnswers -= 1;
      void this.#watch(account, decodeURIComponent(watch[1]!), body, (status) => {
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status, authorization: req.headers.authorization });
        res.destroy();
      });
      return;
    }
    if (req.method === 'POST' && watch) {
      void this.#watch(account, decodeURIComponent(watch[1]!), body, send);
      return;
    }
    const instances = /^\/calendars\/([^/]+)\/events\/([^/]+)\/instances$/.exec(path);
    if (req.method === 'GET' && instances) return this.#listInstances(account, decodeURIComponent(instances[1]!), decodeURIComponent(instances[2]!), url.searchParams, send);
    const one = /^\/calendars\/([^/]+)\/events\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) return this.#getEvent(account, decodeURIComponent(one[1]!), decodeURIComponent(one[2]!), send);
    const calendarGet = /^\/calendars\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && calendarGet) return this.#getCalendar(account, decodeURIComponent(calendarGet[1]!), send);
    const list = /^\/calendars\/([^/]+)\/events$/.exec(path);
    const failingStatus = list ? this.failingCalendars.get(decodeURIComponent(list[1]!)) : undefined;
    if (req.method === 'GET' && failingStatus !== undefined) return send(failingStatus, googleError(failingStatus, 'backendError', 'Backend Error'));
    const listingGate = list ? this.delayListingOf.get(decodeURIComponent(list[1]!)) ?? this.delayListing : null;
    if (req.method === 'GET' && list && listingGate) {
      const gate = listingGate;
      this.listingsDelayed += 1;
      return this.#listEvents(account, decodeURIComponent(list[1]!), url.searchParams, (...answer) => void gate.then(() => send(...answer)));
    }
    if (req.method === 'GET' && list) return this.#listEvents(account, decodeURIComponent(list[1]!), url.searchParams, send);
    if (req.method === 'POST' && path === '/channels/stop') return this.#stopChannel(body, send);
    send(404, googleError(404, 'notFound', 'Not Found'));
  }

  /**
   * The refresh-token grant (developers.google.com/identity/protocols/oauth2/web-server#offline):
   * an unknown client is invalid_client, a deleted one deleted_client (see deleteClient), a revoked refresh token invalid_grant; access tokens
   * last 3599 s.
   */
  #token(body: string, send: (status: number, payload?: unknown) => void): void {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'refresh_token') return send(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + form.get('grant_type') });
    const account = [...this.#accounts.values()].find((a) => a.clientId === form.get('client_id'));
    if (account?.isClientDeleted) return send(401, { error: 'deleted_client', error_description: 'The OAuth client was deleted.' });
    if (!account || account.clientSecret !== form.get('client_secret')) return send(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    if (account.isRevoked || account.refreshToken !== form.get('refresh_token')) return send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    this.#accessTokens.set(accessToken, { email: account.email, expiresAt: this.#now() + 3599_000 });
    send(200, { access_token: accessToken, expires_in: 3599, scope: 'https://www.googleapis.com/auth/calendar.readonly', token_type: 'Bearer' });
  }

  /**
   * calendarList.list: entries with accessRole and `primary` on the primary calendar, paged with
   * maxResults (default 100, at most 250) and pageToken; hidden entries only with showHidden=true
   * (developers.google.com/workspace/calendar/api/v3/reference/calendarList/list). Per the
   * calendarListEntry resource (developers.google.com/workspace/calendar/api/v3/reference/calendarList),
   * `description` is optional, `selected` is optional and false when absent, and `hidden` is only
   * sent when it is true.
   */
  #calendarList(account: Account, query: URLSearchParams, send: (status: number, payload?: unknown) => void): void {
    const showHidden = query.get('showHidden') === 'true';
    const entries = [...account.calendars.values()].filter((c) => showHidden || c.isHidden !== true).map((c) => ({
      kind: 'calendar#calendarListEntry', etag: `"${c.id.length}"`, id: c.id, summary: c.summary, ...(c.description !== undefined ? { description: c.description } : {}),
      timeZone: c.timeZone, colorId: '14', backgroundColor: c.backgroundColor ?? '#9fe1e7', foregroundColor: c.foregroundColor ?? '#000000',
      ...(c.isSelected !== false ? { selected: true } : {}), ...(c.isHidden === true ? { hidden: true } : {}), accessRole: c.accessRole, defaultReminders: [],
      ...(c.isPrimary ? { primary: true, conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] } } : {}),
    }));
    const size = Math.min(Number(query.get('maxResults') ?? 100), 250);
    const offset = Number(query.get('pageToken') ?? 0);
    const page = entries.slice(offset, offset + size);
    const hasMore = offset + size < entries.length;
    send(200, { kind: 'calendar#calendarList', etag: '"p33c"', ...(hasMore ? { nextPageToken: String(offset + size) } : { nextSyncToken: `cl${this.#seq}` }), items: page });
  }

  /**
   * events.list (developers.google.com/workspace/calendar/api/v3/reference/events/list and the
   * sync guide): maxResults default 250, at most 2500; nextSyncToken only on the last page; with a
   * syncToken, timeMin, timeMax, orderBy, q, updatedMin, iCalUID and the extended-property filters
   * are refused and showDeleted=false is not allowed; a stale token answers 410 fullSyncRequired;
   * without showDeleted a full list leaves cancelled events out.
   */
  #listEvents(account: Account, calendarId: string, query: URLSearchParams, send: (status: number, payload?: unknown, headers?: Record<string, string>) => void): void {
    const calendar = account.calendars.get(calendarId);
    if (!calendar) return send(404, googleError(404, 'notFound', 'Not Found'));
    const syncToken = query.get('syncToken');
    if (syncToken !== null) {
      for (const forbidden of ['timeMin', 'timeMax', 'orderBy', 'q', 'updatedMin', 'iCalUID', 'privateExtendedProperty', 'sharedExtendedProperty']) {
        if (query.has(forbidden)) return send(400, googleError(400, 'invalid', `Invalid value for: ${forbidden} cannot be used with syncToken`));
      }
      if (query.get('showDeleted') === 'false') return send(400, googleError(400, 'invalid', 'showDeleted=false cannot be used with syncToken'));
    }
    // Not Google's behaviour: the fake does not expand series, and refuses rather than answer wrongly.
    if (query.get('singleEvents') === 'true') return send(400, googleError(400, 'invalid', 'this fake does not expand instances'));
    const pageToken = query.get('pageToken');
    let snapshot = pageToken ? this.#pages.get(pageToken) : undefined;
    if (pageToken && !snapshot) return send(400, googleError(400, 'invalid', 'Invalid page token value.'));
    if (snapshot && snapshot.epoch !== this.#pageTokenEpoch) {
      return send(410, { error: { errors: [{ domain: 'calendar', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.', locationType: 'parameter', location: 'pageToken' }], code: 410, message: 'Sync token is no longer valid, a full sync is required.' } });
    }
    const pageNumber = snapshot?.page ?? 1;
    const pageFailure = syncToken === null ? this.failListingPages.get(pageNumber) : this.failIncrementalPages.get(pageNumber);
    if (pageFailure) {
      if (syncToken === null) this.failListingPages.delete(pageNumber);
      else if (--this.failIncrementalPages.get(pageNumber)!.times <= 0) this.failIncrementalPages.delete(pageNumber);
      return send(pageFailure.status, googleError(pageFailure.status, pageFailure.reason, pageFailure.reason === 'rateLimitExceeded' ? 'Rate Limit Exceeded' : 'Backend Error'), pageFailure.retryAfterSeconds !== undefined ? { 'retry-after': String(pageFailure.retryAfterSeconds) } : {});
    }
    if (!snapshot) {
      let items: StoredEvent[];
      if (syncToken !== null) {
        const match = /^st(\d+)e(\d+)$/.exec(syncToken);
        if (!match || Number(match[2]) !== this.#tokenEpoch) {
          return send(410, { error: { errors: [{ domain: 'calendar', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.', locationType: 'parameter', location: 'syncToken' }], code: 410, message: 'Sync token is no longer valid, a full sync is required.' } });
        }
        if (this.malformedListings.length > 0) return send(200, this.malformedListings.shift());
        items = [...calendar.events.values()].filter((e) => e.seq > Number(match[1]));
      } else {
        if (this.malformedListings.length > 0) return send(200, this.malformedListings.shift());
        // Cancelled events only with showDeleted=true, except cancelled instances of a recurring
        // event, which a listing with singleEvents and showDeleted both false still includes
        // (events.list reference, showDeleted).
        items = [...calendar.events.values()].filter((e) => query.get('showDeleted') === 'true' || e.event.status !== 'cancelled' || (query.get('singleEvents') !== 'true' && e.event.recurringEventId !== undefined));
      }
      items.sort((a, b) => a.seq - b.seq);
      snapshot = { items: items.map((e) => e.event), nextSyncToken: `st${this.#seq}e${this.#tokenEpoch}`, pageSize: Math.min(Number(query.get('maxResults') ?? this.defaultPageSize), 2500, this.pageSizeCap), page: 1, epoch: this.#pageTokenEpoch };
    }
    const page = snapshot.items.slice(0, snapshot.pageSize);
    const rest = snapshot.items.slice(snapshot.pageSize);
    let next: Record<string, string>;
    if (rest.length > 0) {
      const token = randomBytes(12).toString('base64url');
      this.#pages.set(token, { ...snapshot, items: rest, page: snapshot.page + 1 });
      next = { nextPageToken: token };
    } else {
      next = { nextSyncToken: snapshot.nextSyncToken };
    }
    send(200, {
      kind: 'calendar#events', etag: `"${this.#seq}"`, summary: calendar.summary, description: '', updated: new Date(this.#now()).toISOString(),
      timeZone: calendar.timeZone, accessRole: calendar.accessRole, defaultReminders: [], ...next, items: page,
    });
  }

  /**
   * The test controls of a lookup of `id` (events.get of it, events.instances of it as a series):
   * beforeNextEventLookup runs first, once; failEventLookups naming it (or every id) answers it
   * with its limit or backend error (errors guide, developers.google.com/workspace/calendar/api/
   * guides/errors: 403/429 rateLimitExceeded, 500/503 backendError may answer any request), in
   * which case it is answered here (true).
   */
  #answeredByLookupControls(id: string, send: (status: number, payload?: unknown, headers?: Record<string, string>) => void): boolean {
    const before = this.beforeNextEventLookup;
    this.beforeNextEventLookup = null;
    before?.();
    const failure = this.failEventLookups;
    if (!failure || (failure.ids !== undefined && !failure.ids.includes(id))) return false;
    send(failure.status, googleError(failure.status, failure.reason, failure.reason === 'rateLimitExceeded' ? 'Rate Limit Exceeded' : failure.reason), failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {});
    return true;
  }

  /**
   * events.get (developers.google.com/workspace/calendar/api/v3/reference/events/get): the event,
   * a deleted one too, answered with status "cancelled" and what deleteEvent kept of it (events
   * resource, `status`: "The get method always returns them"; googleapis/google-api-java-client
   * issue 1535 shows a get after a delete that succeeds); 404 notFound for an id the calendar no
   * longer has at all (forgetEvent: a tombstone Google no longer keeps; errors guide,
   * developers.google.com/workspace/calendar/api/guides/errors, "404: Not found").
   * A calendar the account no longer has answers 404 notFound for its events too, as its listing
   * does (errors guide: notFound for a calendar as for an event).
   * failEventLookups answers each GET of one event with a limit or a backend error instead
   * (errors guide: 403/429 rateLimitExceeded, 500/503 backendError may answer any request).
   */
  #getEvent(account: Account, calendarId: string, eventId: string, send: (status: number, payload?: unknown, headers?: Record<string, string>) => void): void {
    if (this.#answeredByLookupControls(eventId, send)) return;
    const calendar = account.calendars.get(calendarId);
    const stored = calendar?.events.get(eventId)?.event ?? (calendar ? this.#plainOccurrence(calendar, eventId) : undefined);
    if (!stored) return send(404, googleError(404, 'notFound', 'Not Found'));
    send(200, stored);
  }

  /**
   * An occurrence of a live series that no exception changed, asked for by its instance id
   * (`<series id>_<original start, UTC basic>`): Google answers it as the instance, with
   * recurringEventId and originalStartTime. An instance is an event of its own, with its own id,
   * which the events methods take (recurring events guide,
   * developers.google.com/workspace/calendar/api/guides/recurringevents: the instances listed by
   * events.instances are changed by their ids with events.update, on the same
   * /calendars/{calendarId}/events/{eventId} that events.get reads; events resource,
   * `recurringEventId`, `originalStartTime`). Undefined for a time that is no occurrence of the
   * series' rule, or with opaqueInstanceIds (an id of no known shape names no occurrence).
   */
  #plainOccurrence(calendar: Calendar, eventId: string): StoredEvent['event'] | undefined {
    const match = /^(.+)_(\d{8}T\d{6}Z)$/.exec(eventId);
    if (this.opaqueInstanceIds || !match) return undefined;
    const master = calendar.events.get(match[1]!)?.event;
    const b = match[2]!;
    const originalMs = Date.parse(`${b.slice(0, 4)}-${b.slice(4, 6)}-${b.slice(6, 8)}T${b.slice(9, 11)}:${b.slice(11, 13)}:${b.slice(13, 15)}Z`);
    return master ? this.#ruleOccurrence(calendar, master, originalMs, eventId) : undefined;
  }

  /** The occurrence of a live series at `originalMs` as its rule has it, as the instance `id`; undefined for a time that is no occurrence of the rule. */
  #ruleOccurrence(calendar: Calendar, master: StoredEvent['event'], originalMs: number, id: string): StoredEvent['event'] | undefined {
    const rule = master.recurrence?.find((line) => line.startsWith('RRULE:'));
    if (master.status === 'cancelled' || !rule || !master.start?.dateTime || !master.end?.dateTime) return undefined;
    const zone = master.start.timeZone ?? calendar.timeZone;
    const dtstart = Temporal.Instant.fromEpochMilliseconds(Date.parse(master.start.dateTime)).toZonedDateTimeISO(zone);
    const occurrences = new RRuleTemporal({ rruleString: rule, dtstart, includeDtstart: true }).between(new Date(originalMs - 1), new Date(originalMs + 1), true);
    if (!occurrences.some((o) => o.epochMilliseconds === originalMs)) return undefined;
    const at = (ms: number) => ({ dateTime: new Date(ms).toISOString(), timeZone: zone });
    const { recurrence: _rule, ...rest } = master;
    return {
      ...rest, id, recurringEventId: master.id, originalStartTime: at(originalMs),
      start: at(originalMs), end: at(originalMs + Date.parse(master.end.dateTime) - Date.parse(master.start.dateTime)),
    };
  }

  /**
   * events.instances (developers.google.com/workspace/calendar/api/v3/reference/events/instances),
   * asked for one instance by `originalStart` ("The original start time of the instance in the
   * result"): an events list (`kind` calendar#events, the calendar's `timeZone`, `items[]`)
   * holding that instance: the exception the series has for it (moved or otherwise changed, or
   * cancelled: cancelled ones only with showDeleted=true, "Whether to include deleted events (with
   * status equals "cancelled") in the result"; a cancelled instance carries only its id,
   * recurringEventId and originalStartTime, events resource, `status`), else the occurrence as the
   * rule has it, an instance with its own id, recurringEventId and originalStartTime (recurring
   * events guide, developers.google.com/workspace/calendar/api/guides/recurringevents: the
   * instances events.instances lists are events of their own). Google documents no answer for an
   * originalStart that is no occurrence of the series; the fake answers the list without items.
   * A series the calendar no longer has at all answers 404 notFound, one deleted (its master a
   * cancelled tombstone) 410 deleted. The 410 is an assumption: no source shows what
   * events.instances answers for a deleted series; the errors guide
   * (developers.google.com/workspace/calendar/api/guides/errors) gives 404 for an event not
   * found and 410 Gone for a resource already deleted, and Rollcall reads 404, 410 and a
   * cancelled master alike. A calendar the account no longer has answers 404 notFound, as its
   * listing does.
   * failEventLookups (its `ids` naming the series) and beforeNextEventLookup act on it as on
   * events.get: errors guide, 403/429 rateLimitExceeded and 500/503 backendError may answer any
   * request. Not Google's behaviour: without originalStart the fake refuses (400) rather than
   * list every instance, which Rollcall never asks for.
   */
  #listInstances(account: Account, calendarId: string, seriesId: string, query: URLSearchParams, send: (status: number, payload?: unknown, headers?: Record<string, string>) => void): void {
    if (this.#answeredByLookupControls(seriesId, send)) return;
    const calendar = account.calendars.get(calendarId);
    const master = calendar?.events.get(seriesId)?.event;
    if (!calendar || !master) return send(404, googleError(404, 'notFound', 'Not Found'));
    if (master.status === 'cancelled') return send(410, googleError(410, 'deleted', 'Resource has been deleted'));
    const originalStart = query.get('originalStart');
    const originalMs = originalStart === null ? NaN : Date.parse(originalStart);
    if (!Number.isFinite(originalMs)) return send(400, googleError(400, 'invalid', 'this fake answers events.instances for one originalStart only'));
    let instance: StoredEvent['event'] | undefined;
    for (const { event } of calendar.events.values()) {
      const original = event.originalStartTime?.dateTime;
      if (event.recurringEventId === seriesId && original !== undefined && Date.parse(original) === originalMs) instance = event;
    }
    if (instance?.status === 'cancelled' && query.get('showDeleted') !== 'true') instance = undefined;
    else if (instance === undefined) instance = this.#ruleOccurrence(calendar, master, originalMs, this.opaqueInstanceIds ? opaqueIdOf(seriesId, originalMs) : `${seriesId}_${basicUtc(originalMs)}`);
    send(200, {
      kind: 'calendar#events', etag: `"${this.#seq}"`, summary: calendar.summary, description: '', updated: new Date(this.#now()).toISOString(),
      timeZone: calendar.timeZone, accessRole: calendar.accessRole, defaultReminders: [], items: instance ? [instance] : [],
    });
  }

  /**
   * calendars.get (developers.google.com/workspace/calendar/api/v3/reference/calendars/get,
   * "Returns metadata for a calendar"): the Calendars resource (kind, etag, id, summary,
   * timeZone), or 404 notFound for a calendar the account no longer has (errors guide,
   * developers.google.com/workspace/calendar/api/guides/errors, "404: Not found").
   */
  #getCalendar(account: Account, calendarId: string, send: (status: number, payload?: unknown) => void): void {
    if (this.eventsOnlyScopes) {
      return send(403, { error: { code: 403, message: 'Request had insufficient authentication scopes.', errors: [{ domain: 'global', reason: 'insufficientPermissions', message: 'Insufficient Permission' }], status: 'PERMISSION_DENIED' } });
    }
    const calendar = account.calendars.get(calendarId);
    if (!calendar) return send(404, googleError(404, 'notFound', 'Not Found'));
    send(200, { kind: 'calendar#calendar', etag: `"${this.#seq}"`, id: calendar.id, summary: calendar.summary, timeZone: calendar.timeZone });
  }

  /**
   * events.watch (developers.google.com/workspace/calendar/api/guides/push): channel id up to 64
   * characters, type web_hook, token up to 256 characters, ttl in params (default 604800 s),
   * expiration in ms in the answer.
   */
  async #watch(account: Account, calendarId: string, body: string, send: (status: number, payload?: unknown) => void): Promise<void> {
    if (!account.calendars.has(calendarId)) return send(404, googleError(404, 'notFound', 'Not Found'));
    const request = JSON.parse(body) as { id?: string; type?: string; address?: string; token?: string; params?: { ttl?: string } };
    if (!request.id || request.id.length > 64 || !/^[A-Za-z0-9\-_+/=]+$/.test(request.id)) return send(400, googleError(400, 'invalid', 'Invalid channel id'));
    if (request.type !== 'web_hook' || !request.address) return send(400, googleError(400, 'invalid', 'Invalid channel type or address'));
    if (request.token !== undefined && request.token.length > 256) return send(400, googleError(400, 'invalid', 'Channel token too long'));
    if (this.channels.some((c) => c.id === request.id)) return send(400, googleError(400, 'channelIdNotUnique', `Channel id ${request.id} not unique`));
    const ttlSeconds = Number(request.params?.ttl ?? 604800);
    const channel: Channel = {
      id: request.id, resourceId: resourceIdOf(account.email, calendarId), token: request.token, address: request.address, expiration: this.#now() + ttlSeconds * 1000,
      email: account.email, calendarId, isStopped: false, messageNumber: 0, stopRequests: 0, notifiedSeq: Math.max(0, ...[...account.calendars.get(calendarId)!.events.values()].map((e) => e.seq)),
    };
    this.channels.push(channel);
    // A new channel's first message is "sync" (push guide, "Sync message": sent after a channel is
    // created, X-Goog-Resource-State: sync, message number 1). The guide does not order it against
    // the watch answer; it goes first here, the order a receiver can get wrong.
    await this.notify(channel, 'sync').catch(() => 0);
    send(200, { kind: 'api#channel', id: channel.id, resourceId: channel.resourceId, resourceUri: `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events?alt=json`, ...(channel.token !== undefined ? { token: channel.token } : {}), expiration: String(channel.expiration) });
  }

  /**
   * channels.stop takes id and resourceId (channels reference); an unknown channel is a 404 "Channel
   * '<id>' not found for project '<n>'" (google-api-nodejs-client issue 627; the reference lists no
   * error answers). delayStopsMs holds the answer back: a request Google never answers, which a
   * client only ends by its own timeout (openclaw/openclaw pull request 102157 reports it of
   * events.list).
   */
  #stopChannel(body: string, send: (status: number, payload?: unknown) => void): void {
    const request = JSON.parse(body) as { id?: string; resourceId?: string };
    const named = this.channels.find((c) => c.id === request.id);
    if (named) named.stopRequests += 1;
    if (this.delayStopsMs !== null) {
      const delayed = (status: number, payload?: unknown) => setTimeout(() => {
        try {
          send(status, payload);
        } catch {
          // The client gave up and closed the request.
        }
      }, this.delayStopsMs!);
      return this.#answerStop(request, delayed);
    }
    this.#answerStop(request, send);
  }

  #answerStop(request: { id?: string; resourceId?: string }, send: (status: number, payload?: unknown) => void): void {
    // A usage limit is 403 (or 429) rateLimitExceeded, without a Retry-After (errors guide).
    if (this.failingStops === 403 || this.failingStops === 429) return send(this.failingStops, googleError(this.failingStops, 'rateLimitExceeded', 'Rate Limit Exceeded'));
    // Any request may fail with a 5xx backendError (errors guide, "backendError").
    if (this.failingStops !== null) return send(this.failingStops, googleError(this.failingStops, 'backendError', 'Backend Error'));
    const channel = this.channels.find((c) => c.id === request.id && c.resourceId === request.resourceId && !c.isStopped);
    if (!channel) return send(404, googleError(404, 'notFound', `Channel '${request.id}' not found for project '123456789'`));
    channel.isStopped = true;
    send(204);
  }

  #store(email: string, calendarId: string, event: StoredEvent['event']): void {
    this.#seq++;
    const updated = { ...event, etag: `"${3_000_000_000_000 + this.#seq}"`, updated: new Date(this.#now()).toISOString() };
    this.#calendar(email, calendarId).events.set(event.id, { event: updated, seq: this.#seq });
  }

  /**
   * The id of the exception for one occurrence: the one it has already (an exception's identity
   * is its series and original start: events resource, originalStartTime), else a new one.
   */
  #instanceId(email: string, calendarId: string, seriesId: string, originalStartMs: number): string {
    if (!this.opaqueInstanceIds) return `${seriesId}_${basicUtc(originalStartMs)}`;
    for (const { event } of this.#calendar(email, calendarId).events.values()) {
      const original = event.originalStartTime?.dateTime;
      if (event.recurringEventId === seriesId && original !== undefined && Date.parse(original) === originalStartMs) return event.id;
    }
    return eventId();
  }

  #account(email: string): Account {
    const account = this.#accounts.get(email);
    if (!account) throw new Error(`no account ${email}`);
    return account;
  }

  #calendar(email: string, calendarId: string): Calendar {
    const calendar = this.#account(email).calendars.get(calendarId);
    if (!calendar) throw new Error(`no calendar ${calendarId}`);
    return calendar;
  }
}

/** Google's error body; the usage limits (rateLimitExceeded, userRateLimitExceeded, quotaExceeded) come under domain usageLimits (errors guide). */
function googleError(code: number, reason: string, message: string) {
  return { error: { errors: [{ domain: /^(rateLimitExceeded|userRateLimitExceeded|quotaExceeded)$/.test(reason) ? 'usageLimits' : 'global', reason, message }], code, message } };
}

/** Google event ids: base32hex (a-v, 0-9), 5 to 1024 characters. */
function eventId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  return [...randomBytes(26)].map((b) => alphabet[b % 32]).join('');
}

/** An instance id of no known shape (opaqueInstanceIds) for an occurrence no exception names: the same for the same occurrence. */
function opaqueIdOf(seriesId: string, originalStartMs: number): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  return [...createHash('sha256').update(`${seriesId}\n${originalStartMs}`).digest()].slice(0, 26).map((b) => alphabet[b % 32]).join('');
}

function basicUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * The watched resource's id: opaque, and the same for every channel on one calendar (the watch
 * reference: "an opaque ID that identifies the resource being watched on this channel";
 * google-api-nodejs-client issue 1402 shows three channels on one calendar sharing it).
 */
function resourceIdOf(email: string, calendarId: string): string {
  return createHash('sha256').update(`${email}\n${calendarId}`).digest('base64url').slice(0, 27);
}
