// Google Calendar API v3 as a CalendarProvider.
//
// - Sync: events.list with singleEvents=false and showDeleted=true, paged with pageToken, the
//   nextSyncToken of the last page kept as the cursor. The full sync is not bounded by timeMin,
//   by choice: Google takes timeMin on a full sync (only a request that carries a syncToken
//   refuses it), but it does not document whether a series whose first occurrence ended before
//   timeMin comes back, nor which time it filters moved and cancelled occurrences on; a series
//   left out would lose its bots and be swept as unseen. Old single events are dropped by the
//   sync service, not here.
// - Recurrence: series masters come with RFC 5545 recurrence lines and are expanded by Rollcall;
//   moved or cancelled occurrences come as instances with recurringEventId and originalStartTime.
//   showDeleted=true: a sync token's listing must show deletions (Google refuses showDeleted=false
//   with one), and a full sync then lists the same way; without it, cancelled occurrences would
//   still come (Google includes them when showDeleted and singleEvents are both false) but
//   cancelled single events would not.
// - A listing is read in parts (FetchResult.hasMore) of at most PAGES_PER_PART pages: a part
//   ends at that bound, or at a page that fails in passing (a limit, a 5xx, a timeout) once it has
//   read one, and the cursor keeps the page to ask for next and the listing's counts.
// - An incremental listing (from a sync token) is read part by part (FetchResult.incremental): the
//   sync guide has each entry be the event's current state, so nothing is taken as gone by absence,
//   at any part. Its single events are applied part by part; its series entries are held by the
//   sync service until the last part and applied with it, so that a series' master and its
//   exceptions (or a split's two masters) that fall in different parts are written together.
//   The cursor says "mid-listing at page token X, from sync token Y" (`incremental`); a refused
//   page token reads the listing again from Y (entries are states: what is read twice
//   is the same or a later state, pages being served in the order they are applied; what was held
//   is dropped), and a 410 on Y lists the calendar whole.
// - A full listing's part that is not the last is kept by the sync service, not applied
//   (FetchResult.round); the last part, with its nextSyncToken, is applied with every kept part
//   as one full sync, so that a series' master and its exceptions (or a split's two masters)
//   listed in different parts are written together. Changes made while the round is read come through that token: the listing goes on
//   from its page tokens, and the sync guide promises that entries appearing while one pages are
//   not missed.
// - 410 on a syncToken (fullSyncRequired): the cursor is dropped and a full sync done at once. A
//   page token refused (a 410, or any 4xx but 401, 403 and 429: Google documents no lifetime for a
//   page token nor the error for a stale one, and answers 400 to an invalid parameter value) starts
//   a full round again from its first page, or an incremental listing again from its sync token, once.
// - While a round read in parts is under way (nothing of it applied before its last part), the
//   meetings whose bots join soon (FetchContext.confirm) are settled at each read of the round:
//   by the part's entry, or with events.get, which answers a deleted event with status
//   "cancelled" (events resource) and one no longer kept with 404 (a deletion once events.list of
//   the calendar, maxResults=1, finds it: Google answers 404 for a calendar gone too); an
//   occurrence of a series stored as its master with events.instances of the master by its
//   original start (originalStart, showDeleted), which answers that instance, cancelled or moved
//   or as the rule has it, under Google's own id. What changes them is applied
//   at once (FetchResult.confirmedChanges); a lookup that fails leaves its meeting as stored and
//   never costs the part, a limit's Retry-After becoming its wait; see #withConfirmed.
// - Push: events.watch channels (web_hook). Channels cannot be extended: renewing opens a new
//   channel, and the sync service stops the old one once the new one is recorded. A calendar that
//   takes no channel (400 pushNotSupportedForRequestedResource) fails as PushNotSupported, and so
//   does a watch whose notification address Google will not send to (push.webhookUrlUnauthorized,
//   see isWebhookAddressRefusal): that refusal is read before a 401 is taken for a stale token.
import { Temporal } from 'temporal-polyfill';
import {
  CalendarProviderError, checkSyncSize, lookUpEach, PushNotSupported, RoundGivenUp, isOverlongEventId, MAX_PROVIDER_EVENT_ID_BYTES, MEETINGS_CONFIRMED_PER_READ, textOrNull, throwIfLookupsStopped, type CalendarProvider, type FetchContext, type FetchResult, type MeetingToConfirm, type ProviderAccount, type ProviderCapabilities,
  type ProviderChange, type ProviderFailure, type ProviderEvent, type PushChannel, type PushChannels, type PushRequest,
} from './calendar-provider.ts';
import type { AccessTokenSource } from './oauth-token-client.ts';
import { DEFAULT_RATE_LIMIT_WAIT_MS, failureFromStatus, isRefusalStatus, isSuccess, parseJson, parseRetryAfterMs, refusedFreshToken, type HttpResponse, type HttpSend } from './provider-http.ts';
import { ianaZoneOf } from './time-zone-names.ts';
import { conferenceLinkToFollow } from '../../domain/meeting-url.ts';
import { compileSeries } from '../../domain/recurrence.ts';

export const GOOGLE_CAPABILITIES: ProviderCapabilities = Object.freeze({
  incrementalSync: 'sync_token',
  push: 'watch_channel',
  recurrence: 'series_with_exceptions',
  isWindowed: false,
  canMissDeletions: false,
});

/** Read-only access is enough; the OAuth client must have asked for it when the token was made. */
export const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/calendar.readonly';

/** Requested channel lifetime (Google's default, 7 days); the answer's expiration is what counts. */
const CHANNEL_TTL_SECONDS = 604_800;
const PAGE_SIZE = 250;

/**
 * Pages of a listing one read takes at most: 40 pages, each of up to 250 entries (Google may
 * answer fewer than maxResults), so at most 10,000 entries. A longer listing (years of history; an
 * incremental one after an outage or a burst of changes) is read in parts (FetchResult.hasMore),
 * the next part a minute later (CONTINUED_READ_AFTER_MS) from the page this one stopped at, so that a page that fails in passing (a 429, a 5xx, a timeout)
 * costs the pages after the last part, not the whole listing. A part of a full listing is kept by
 * the sync service and the whole round applied at its last part (FetchResult.round); a part of an
 * incremental listing applies its single events at once and its series entries with the last part
 * (FetchResult.incremental); a calendar of 30,000 events is
 * read in three parts, about three minutes; and 40 requests
 * a minute stay far below the per-user-per-minute quota Google applies to the Calendar API
 * (developers.google.com/workspace/calendar/api/guides/quota).
 */
export const PAGES_PER_PART = 40;

/**
 * The cursor: the sync token of the last full or incremental listing; or a full listing read in
 * parts (`listing`); or an incremental listing read in parts (`incremental`: mid-listing, at its
 * page token, from the sync token it began with).
 */
interface GoogleCursor {
  syncToken?: string;
  listing?: ListingInParts;
  incremental?: IncrementalInParts;
}

/** An incremental listing read in parts, where its last part stopped: the next part goes on from `pageToken`. */
interface IncrementalInParts extends ListingInParts {
  /** The sync token the listing began from: read again from its first page if `pageToken` is refused. */
  syncToken: string;
}

/** The time zone of the calendar as the read's last page of events.list gave it (the events.get answer has none). */
interface ListedZone {
  zone: string | null;
}

/** A full listing read in parts, where its last part stopped. */
interface ListingInParts {
  /** The page the next part asks for first. */
  pageToken: string;
  /** Pages and entries the round's parts read so far (its bounds are the round's: checkSyncSize). */
  pages: number;
  entries: number;
  /** Entries listed without an id so far: the round then takes nothing as gone. */
  idless: number;
}

interface GoogleError {
  error?: { code?: number; message?: string; errors?: { reason?: string; domain?: string }[]; status?: string };
}

interface GoogleDate {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export interface GoogleEvent {
  id: string;
  status?: string;
  summary?: string;
  description?: string;
  location?: string;
  start?: GoogleDate;
  end?: GoogleDate;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: GoogleDate;
  hangoutLink?: string;
  /** default, or a kind of entry that is no meeting (focusTime, outOfOffice...): read from the stored payload by src/domain/auto-schedule-rules.ts. */
  eventType?: string;
  conferenceData?: { entryPoints?: { entryPointType?: string; uri?: string }[] };
  /** Read from the stored payload by src/domain/auto-schedule-rules.ts, not here. */
  organizer?: { email?: string; self?: boolean; displayName?: string };
  attendees?: { email?: string; self?: boolean; organizer?: boolean; resource?: boolean; responseStatus?: string }[];
}

interface EventsPage {
  timeZone?: string;
  items?: GoogleEvent[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

interface CalendarListPage {
  items?: {
    id: string; summary?: string; summaryOverride?: string; description?: string; timeZone?: string; primary?: boolean; accessRole?: string; deleted?: boolean;
    backgroundColor?: string; foregroundColor?: string; selected?: boolean; hidden?: boolean;
  }[];
  nextPageToken?: string;
}

/** Google's reasons for a limit reached (a 403 or 429 to wait out). */
const USAGE_LIMIT_REASONS: ReadonlySet<string> = new Set([
  'rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'calendarUsageLimitsExceeded', 'dailyLimitExceeded',
]);

export class GoogleCalendarProvider implements CalendarProvider {
  readonly kind = 'google' as const;
  readonly capabilities = GOOGLE_CAPABILITIES;
  readonly push: PushChannels;
  readonly #baseUrl: string;
  readonly #tokens: AccessTokenSource;
  readonly #send: HttpSend;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #pagesPerPart: number;

  /** `pagesPerPart`: PAGES_PER_PART unless given (a test's shorter part). */
  constructor(options: { baseUrl: string; tokens: AccessTokenSource; send: HttpSend; timeoutMs: number; now: () => number; pagesPerPart?: number }) {
    this.#pagesPerPart = options.pagesPerPart ?? PAGES_PER_PART;
    this.#baseUrl = options.baseUrl;
    this.#tokens = options.tokens;
    this.#send = options.send;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
    this.push = {
      open: (request) => this.#openChannel(request),
      // A new channel beside the old one, which the caller stops once the new one is recorded
      // (the push guide: a channel cannot be renewed, a new one is made, and both run meanwhile).
      renew: (_channel, request) => this.#openChannel(request),
      close: (channel) => this.#stopChannel(channel),
      requestedExpiryMs: (request) => request.nowMs + CHANNEL_TTL_SECONDS * 1000,
    };
  }

  async describeAccount(): Promise<ProviderAccount> {
    const entries: NonNullable<CalendarListPage['items']> = [];
    let pageToken: string | undefined;
    do {
      // Hidden calendars too: hiding one is a display setting of Google's list (calendarList
      // reference: hidden, "whether the calendar has been hidden from the list"), and a calendar
      // left out here would be dropped with its bots.
      const page = await this.#json<CalendarListPage>('GET', '/users/me/calendarList', { maxResults: '250', showHidden: 'true', ...(pageToken ? { pageToken } : {}) });
      // calendarList.list answers `items[]` (developers.google.com/workspace/calendar/api/v3/reference/calendarList/list);
      // an answer without it says nothing of the account's calendars.
      if (!isAnObject(page) || !Array.isArray(page.items)) throw malformedListing('calendarList answered without an items list');
      entries.push(...page.items.filter((e) => isRecord(e) && typeof e.id === 'string'));
      pageToken = page.nextPageToken;
    } while (pageToken);
    const primary = entries.find((e) => e.primary);
    if (!primary) throw new CalendarProviderError({ kind: 'permanent', message: 'the account has no primary calendar' });
    return {
      // The primary calendar's id is the account's email address.
      accountId: primary.id,
      email: primary.id,
      name: primary.summaryOverride ?? primary.summary ?? null,
      calendars: entries.filter((e) => !e.deleted).map((e) => ({
        id: e.id,
        name: e.summaryOverride ?? e.summary ?? null,
        timeZone: e.timeZone ?? null,
        isPrimary: e.primary === true,
        accessRole: e.accessRole ?? null,
        // Calendars the account owns hold its meetings; subscribed ones (holidays, colleagues') do
        // not, nor does one the user hid from Google's list when Rollcall first sees it (one synced
        // already stays synced when hidden: calendar-sync.ts, applyCalendarList).
        isSynced: e.primary === true || (e.accessRole === 'owner' && !isAnotherPersonsCalendar(e.id) && e.hidden !== true),
        description: e.description ?? null,
        backgroundColor: e.backgroundColor ?? null,
        foregroundColor: e.foregroundColor ?? null,
        // Both are optional and default to false; hidden is only sent when true (and hidden
        // entries are only listed with showHidden=true, which Rollcall asks for).
        isSelected: e.selected === true,
        isHidden: e.hidden === true,
      })),
    };
  }

  async fetchChanges(calendarId: string, cursor: string | null, context: FetchContext): Promise<FetchResult> {
    const listed: ListedZone = { zone: null };
    const result = await this.#read(calendarId, cursor, listed);
    // Only a read of a round read in parts looks meetings up (the sync passes `confirm` only while
    // one is under way): a sync token's listing misses no deletion.
    return result.round === undefined || !context.confirm?.length ? result : this.#withConfirmed(calendarId, result, context.confirm, listed.zone);
  }

  async #read(calendarId: string, cursor: string | null, listed: ListedZone): Promise<FetchResult> {
    const stored = cursor ? (JSON.parse(cursor) as GoogleCursor) : {};
    if (stored.incremental !== undefined) return this.#readIncremental(calendarId, stored.incremental.syncToken, stored.incremental, listed);
    const syncToken = stored.syncToken ?? null;
    if (syncToken !== null) return this.#readIncremental(calendarId, syncToken, null, listed);
    return this.#readFull(calendarId, stored.listing ?? null, listed);
  }

  /**
   * An incremental listing from `syncToken`, from its first page or, `resumed`, from the page an
   * earlier part stopped at. A page token refused (ListingGone: the rule of #failure) reads the
   * listing again from the sync token it came from, once, in the same read: its entries are each
   * an event's state when served, so reading again what an earlier part applied brings the same
   * or a later state, never an older one. A 410 on the sync token (FullSyncRequired) lists the
   * calendar whole, as a new round.
   */
  async #readIncremental(calendarId: string, syncToken: string, resumed: IncrementalInParts | null, listed: ListedZone): Promise<FetchResult> {
    try {
      return await this.#list(calendarId, syncToken, resumed, listed);
    } catch (error) {
      if (error instanceof FullSyncRequired) return this.#listAgain(calendarId, listed);
      if (!(error instanceof ListingGone)) throw error;
    }
    try {
      const again = await this.#list(calendarId, syncToken, null, listed);
      // Read again whole from its sync token: what the abandoned listing's parts held is dropped.
      return resumed !== null && again.incremental === undefined ? { ...again, incremental: { kept: false, resumed: false } } : again;
    } catch (again) {
      if (again instanceof FullSyncRequired) return this.#listAgain(calendarId, listed);
      if (again instanceof ListingGone) throw new CalendarProviderError({ kind: 'transient', message: again.message });
      throw again;
    }
  }

  /** A full listing, from its first page or, `resumed`, from the page an earlier part of the round stopped at. */
  async #readFull(calendarId: string, resumed: ListingInParts | null, listed: ListedZone): Promise<FetchResult> {
    try {
      return await this.#list(calendarId, null, resumed, listed);
    } catch (error) {
      if (!(error instanceof ListingGone)) throw error;
      return this.#listAgain(calendarId, listed);
    }
  }

  /**
   * The sync token gone (a full sync is needed), or a page of a full listing gone stale (this
   * read's, or the one an earlier part of the round stopped at): listed again from its first page,
   * once, as a new round (what the abandoned one read is neither counted nor applied); a second
   * refusal waits for the next attempt.
   */
  async #listAgain(calendarId: string, listed: ListedZone): Promise<FetchResult> {
    try {
      return await this.#list(calendarId, null, null, listed);
    } catch (again) {
      if (again instanceof ListingGone) throw new CalendarProviderError({ kind: 'transient', message: again.message });
      throw again;
    }
  }

  /**
   * One read: an incremental listing from `syncToken`, or a full listing (syncToken null), from its
   * first page or, `resumed`, from the page an earlier part stopped at, read up to #pagesPerPart
   * pages or up to a page that fails in passing (see PAGES_PER_PART). A part of a full listing is
   * kept for the round's last part (FetchResult.round); a part of an incremental one is marked
   * (FetchResult.incremental: its entries are each an event's current state, nothing taken as gone
   * by absence; its single events applied at once, its series entries held for its last part),
   * and the cursor says where the next part goes on (IncrementalInParts).
   */
  async #list(calendarId: string, syncToken: string | null, resumed: ListingInParts | null, listed: ListedZone): Promise<FetchResult> {
    const changes: ProviderChange[] = [];
    const warnings: string[] = [];
    const unreadable: string[] = [];
    const isFullListing = syncToken === null;
    let idless = resumed?.idless ?? 0;
    let pageToken: string | undefined = resumed?.pageToken;
    let nextSyncToken: string | undefined;
    /** The listing's pages and entries before this read (a listing read in parts). */
    const earlierPages = resumed?.pages ?? 0;
    const earlierEntries = resumed?.entries ?? 0;
    for (let pages = 0; ; pages++) {
      try {
        checkSyncSize(earlierEntries + changes.length + unreadable.length, earlierPages + pages);
      } catch (error) {
        // Over the limits across the listing's parts: going on from this page would fail the same
        // way at every read, a full round's kept parts held for good. The listing is given up
        // (full or incremental: the cursor is dropped); the next read lists the calendar from its
        // first page (and fails so again while it is that large).
        if (resumed !== null && error instanceof CalendarProviderError) throw new RoundGivenUp(error.failure);
        throw error;
      }
      // A listing stops at its part's bound, or at a page that fails in passing once this read
      // has one, and the next read, soon, asks for this page. A full listing's part is kept for
      // the round's last part; an incremental listing's is marked (`incremental`), its cursor
      // naming the sync token the listing began from, to read again if the page token is refused.
      const part = (continueAfterMs?: number): FetchResult => {
        const at: ListingInParts = { pageToken: pageToken!, pages: earlierPages + pages, entries: earlierEntries + changes.length + unreadable.length, idless };
        return {
          isFullSync: false,
          window: null,
          isUnchanged: false,
          changes,
          cursor: JSON.stringify((syncToken === null ? { listing: at } : { incremental: { ...at, syncToken } }) satisfies GoogleCursor),
          hasMore: true,
          ...(isFullListing ? { round: { kept: true, resumed: resumed !== null } } : { incremental: { kept: true, resumed: resumed !== null } }),
          ...(continueAfterMs !== undefined ? { continueAfterMs } : {}),
          ...(unreadable.length > 0 ? { unreadable } : {}),
          ...(warnings.length > 0 ? { warnings } : {}),
        };
      };
      if (pageToken !== undefined && pages >= this.#pagesPerPart) return part();
      // The same parameters on every call of a sync, as Google requires for the syncToken to apply.
      const query: Record<string, string> = { maxResults: String(PAGE_SIZE), showDeleted: 'true', singleEvents: 'false' };
      if (syncToken) query.syncToken = syncToken;
      if (pageToken) query.pageToken = pageToken;
      let page: EventsPage;
      try {
        page = await this.#json<EventsPage>('GET', `/calendars/${encodeURIComponent(calendarId)}/events`, query, undefined, pageToken !== undefined ? 'page' : syncToken !== null ? 'sync' : null);
      } catch (error) {
        // A limit (the errors guide: 403/429 rateLimitExceeded, back off), a 5xx (backendError) or
        // a timeout: passing failures. A read that has a page ends as a part (a full listing's
        // kept, an incremental one's series entries held); one that has none fails (the cursor stays where it was).
        const failure = error instanceof CalendarProviderError ? error.failure : null;
        if (pageToken !== undefined && pages > 0 && (failure?.kind === 'transient' || failure?.kind === 'rate_limited')) {
          warnings.push(`events.list page ${earlierPages + pages + 1} failed (${failure.message}); the listing goes on from it at the next read`);
          return part(failure.kind === 'rate_limited' ? failure.retryAfterMs : undefined);
        }
        throw error;
      }
      // The events.list response (developers.google.com/workspace/calendar/api/v3/reference/events/list,
      // "Response body"): `items[]`, the events; `nextPageToken`, "Omitted if no further results
      // are available, in which case nextSyncToken is provided". An answer without the list is
      // not a listing: taken as one, an empty full listing would delete every event of the
      // calendar and cancel their bots. The read fails instead, and is tried again. (A last page
      // without its sync token is read as changes only: below.)
      if (!isAnObject(page) || !Array.isArray(page.items)) throw malformedListing('events.list answered without an items list');
      const zone = typeof page.timeZone === 'string' ? page.timeZone : null;
      listed.zone = zone;
      for (const item of page.items as unknown[]) {
        const problem = googleItemProblem(item);
        if (problem === null) {
          changes.push(toChange(item as GoogleEvent, zone));
          continue;
        }
        // One entry that cannot be read costs that entry, not the rest of the page.
        warnings.push(problem.message);
        if (problem.id !== null) unreadable.push(problem.id);
        else idless++;
      }
      if (page.nextPageToken !== undefined && (typeof page.nextPageToken !== 'string' || page.nextPageToken === '')) throw malformedListing('events.list answered a nextPageToken that is not a token');
      pageToken = page.nextPageToken;
      nextSyncToken = page.nextSyncToken ?? undefined;
      if (!pageToken) break;
    }
    if (nextSyncToken !== undefined && (typeof nextSyncToken !== 'string' || nextSyncToken === '')) throw malformedListing('events.list answered a nextSyncToken that is not a token');
    // A last page without its sync token is no complete listing to delete by (nor a point to go
    // on from): its entries are applied as changes (a deleted event still comes, cancelled, with
    // showDeleted), nothing unlisted is taken as gone, and the next sync reads the calendar whole
    // again. Failing instead would stop for good a calendar for which Google never gives one.
    if (nextSyncToken === undefined) warnings.push('events.list ended without a nextSyncToken: applied as changes only, listed again from its first page at the next sync');
    // An entry without an id could be any stored event: a full listing that holds one (in any part
    // of its round) deletes nothing it does not list (it is applied as changes), lest it take that
    // event as gone.
    const isFullSync = isFullListing && idless === 0 && nextSyncToken !== undefined;
    return {
      isFullSync,
      window: null,
      // The last part of an incremental listing read in parts is never unchanged: it applies what the parts before it held.
      isUnchanged: syncToken !== null && resumed === null && nextSyncToken !== undefined && changes.length === 0,
      changes,
      // Nor does a listing holding one go on from its token: a full one could not delete by
      // absence, and the change an incremental one's entry stood for (a deletion, a move) no later
      // listing from that token brings again. The next sync reads the calendar whole, and deletes
      // then what it no longer lists. (The look before a bot joins, #withConfirmed, is made only
      // while a round read in parts is under way, not for reads from a sync token.)
      cursor: nextSyncToken === undefined || idless > 0 ? null : JSON.stringify({ syncToken: nextSyncToken } satisfies GoogleCursor),
      ...(isFullListing ? { round: { kept: false, resumed: resumed !== null } } : resumed !== null ? { incremental: { kept: false, resumed: true } } : {}),
      ...(unreadable.length > 0 ? { unreadable } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  /**
   * A round read in parts is applied only at its last part, and a listing a minute a part (longer
   * under a limit's Retry-After) can span many minutes: until then a meeting deleted, cancelled or
   * moved at the source keeps its bot, which could launch into it. So at each read of a round, the
   * meetings whose bots join soon (`meetings`) are settled one by one:
   * - one this read lists is settled by its entry; an occurrence of a series stored as its master
   *   (MeetingToConfirm.occurrenceStartMs) by its instance's entry (its series and original start),
   *   or by its master's when that is gone or cancelled; one stored as an exception of its own
   *   (MeetingToConfirm.exceptionOriginalStartMs) by its series' entry when that is gone or
   *   cancelled, else by its own;
   * - any other single event, or occurrence stored as an exception of its own, is looked up with
   *   events.get (#lookUpEvent), an exception with its series' master too (one lookup for all the
   *   exceptions of a series): the series gone or cancelled settles it as gone with its series;
   *   the exception gone (404 once the calendar answers, or 410) while its series lives is the
   *   occurrence cancelled, as a listing brings a cancelled exception, never the occurrence back
   *   at the rule's time (a live series keeps its cancelled exceptions, events resource,
   *   `status`: "Clients should store these events for the lifetime of the parent recurring
   *   event"); at its stored times it is present only once its series is answered live. A deleted event is answered as an event with status "cancelled":
   *   "The get method always returns them" (events resource, `status`,
   *   developers.google.com/workspace/calendar/api/v3/reference/events; googleapis/
   *   google-api-java-client issue 1535, a get after a delete that succeeds), a single event
   *   carrying perhaps only its id, an occurrence of a series its id, recurringEventId and
   *   originalStartTime. Such entries "will eventually disappear": then a 404 notFound (errors
   *   guide, developers.google.com/workspace/calendar/api/guides/errors, "404: Not found"), or the
   *   410 the guide gives for a resource already deleted; both are read as gone, a 404 only once
   *   the calendar itself is found still there (#calendarStillThere);
   * - any other occurrence of a series is looked up with events.instances of its master, by its
   *   original start (#lookUpOccurrence): the occurrence as its own instance, cancelled or moved
   *   or as the rule has it, its id Google's own (instance ids are opaque: none is made up here).
   * At most MEETINGS_CONFIRMED_PER_READ requests a read, the soonest joins first: the meetings
   * past them are left as stored, with a warning, until the next read.
   * The lookups never cost the part: a lookup that fails (a limit, a 5xx, a timeout, another
   * refusal, an answer that cannot be read) leaves its meeting as stored, "not answered", and the
   * answers the others got are used. A limit's Retry-After becomes the part's wait
   * (continueAfterMs: the next read, and any call to Google for the connection, wait it out), and
   * a listing that stopped at a limit looks nothing up.
   * What an answer says of its meeting is confirmedVerdict's: gone (named removed: an occurrence
   * whose master is gone, as the master), cancelled (a cancelled occurrence comes as the cancelled
   * instance listings bring), at other times than stored (moved: the change that brings it up to
   * date, its bot following as after any move, unless it is a series' master, left to the round:
   * written alone, its exceptions kept in parts would be overridden), or at its stored times
   * (named in `confirmedPresent`). In a part that is not the last, what changes them is
   * `confirmedChanges` (applied at once) and the lookups' changes go after the part's own in
   * `changes` (kept, in the order read); in the last part they are appended to the batch, which
   * ends with them.
   */
  async #withConfirmed(calendarId: string, result: FetchResult, meetings: readonly MeetingToConfirm[], zone: string | null): Promise<FetchResult> {
    const listedChanges = new Map<string, ProviderChange>();
    const listedInstances = new Map<string, ProviderChange>();
    for (const change of result.changes) {
      listedChanges.set(changeIdOf(change), change);
      if (change.type === 'upsert' && change.event.seriesProviderEventId !== null && change.event.originalStartMs !== null) listedInstances.set(occurrenceKeyOf(change.event.seriesProviderEventId, change.event.originalStartMs), change);
    }
    const unreadable = new Set(result.unreadable ?? []);
    const isKeptPart = result.round?.kept === true;
    // AS_STORED: left as stored for this read, neither settled nor looked up.
    const listedFor = (meeting: MeetingToConfirm): ProviderChange | typeof AS_STORED | undefined => {
      if (meeting.occurrenceStartMs === undefined || meeting.occurrenceStartMs === null) {
        // An instance (an exception stored as its own row) goes with its series listed deleted or cancelled, whatever its own entry says.
        const ended = meeting.seriesId ? seriesEnded(listedChanges.get(meeting.seriesId)) : undefined;
        if (ended !== undefined) return ended;
        const own = listedChanges.get(meeting.providerEventId);
        const seriesId = exceptionSeriesOf(meeting);
        // An exception listed gone or cancelled in a kept part is its occurrence cancelled only if
        // its series still has that occurrence (seriesStillHas): by the series' entry when the
        // part lists it, else by both looked up. The last part is applied whole by the round.
        if (own === undefined || seriesId === null || !isKeptPart || seriesEnded(own) === undefined) return own;
        const series = listedChanges.get(seriesId);
        if (series === undefined) return undefined;
        return seriesStillHas(series, meeting.exceptionOriginalStartMs!) ? own : AS_STORED;
      }
      const instance = listedInstances.get(meetingKeyOf(meeting));
      if (instance !== undefined) return instance;
      // The master listed live says nothing of one occurrence (its exceptions are entries of their own).
      return seriesEnded(listedChanges.get(meeting.providerEventId));
    };
    // A listing that stopped at a limit (continueAfterMs) asks nothing more of Google in this read.
    const toLookUp = result.continueAfterMs !== undefined ? [] : meetings.filter((m) => listedFor(m) === undefined && !unreadable.has(m.providerEventId));
    // What each meeting asks, the soonest join first, within MEETINGS_CONFIRMED_PER_READ requests a
    // read: an exception and its series cost two (a series asked for once for all its exceptions).
    const lookups = new Map<string, GoogleLookup>();
    const budgetWarnings: string[] = [];
    let notLookedUp = 0;
    for (const m of toLookUp) {
      const wanted: GoogleLookup[] = m.occurrenceStartMs !== undefined && m.occurrenceStartMs !== null
        ? [{ kind: 'occurrence', seriesId: m.providerEventId, originalStartMs: m.occurrenceStartMs }]
        : [{ kind: 'event', id: m.providerEventId }, ...(exceptionSeriesOf(m) === null ? [] : [{ kind: 'event', id: exceptionSeriesOf(m)! } as const])];
      const fresh = wanted.filter((lookup) => !lookups.has(lookupKeyOf(lookup)));
      // One that does not fit is passed over; a later one that still fits (one request) is asked.
      if (lookups.size + fresh.length > MEETINGS_CONFIRMED_PER_READ) {
        notLookedUp++;
        continue;
      }
      for (const lookup of fresh) lookups.set(lookupKeyOf(lookup), lookup);
    }
    if (notLookedUp > 0) budgetWarnings.push(`${notLookedUp} meeting(s) whose bots join soon not looked up in this read (at most ${MEETINGS_CONFIRMED_PER_READ} lookups a read); left as stored until a later read`);
    const looked = await this.#lookUpEvents(calendarId, [...lookups.values()], zone);
    // An exception's answer: its series ended (deleted, gone, cancelled) settles it; else its own,
    // an exception Google no longer has (404 once the calendar answers, 410) read as the occurrence
    // cancelled: a live series keeps its cancelled exceptions (events resource, `status`), so one
    // gone is no occurrence at the rule's time either. An exception gone or cancelled is that only
    // while its series, answered live in this read, still has the occurrence: a series split
    // ("this and following") or retimed ends or moves its rule before its exceptions, and the
    // occurrence then lives on in the new series, which the round brings (seriesStillHas); it is
    // left as stored. At its stored times, it is present only once its series is answered live.
    const answerFor = (meeting: MeetingToConfirm): ProviderChange | undefined => {
      const seriesId = exceptionSeriesOf(meeting);
      if (seriesId === null) return looked.answers.get(meetingKeyOf(meeting));
      const series = looked.answers.get(seriesId);
      const ended = seriesEnded(series);
      if (ended !== undefined) return ended;
      const own = looked.answers.get(meeting.providerEventId);
      if (own === undefined) return undefined;
      if (seriesEnded(own) !== undefined) {
        if (!seriesStillHas(series, meeting.exceptionOriginalStartMs!)) return undefined;
        return own.type === 'removed' ? cancelledInstanceOf(meeting.providerEventId, seriesId, meeting.exceptionOriginalStartMs!, zone) : own;
      }
      return series === undefined && confirmedVerdict(own, meeting) === 'present' ? undefined : own;
    };
    const confirmedChanges = new Map<string, ProviderChange>();
    const fromLookups = new Map<string, ProviderChange>();
    const goneOnLookup = new Set<string>();
    const present = new Set<string>();
    for (const meeting of meetings) {
      const listed = listedFor(meeting);
      if (listed === AS_STORED) continue;
      // Listed in a part that is applied now (the last) needs nothing more.
      if (listed !== undefined && !isKeptPart) continue;
      const change = listed ?? answerFor(meeting);
      if (change === undefined) continue;
      const verdict = confirmedVerdict(change, meeting);
      if (verdict === 'present') {
        present.add(meeting.providerEventId);
        continue;
      }
      const id = changeIdOf(change);
      if (verdict === 'gone') goneOnLookup.add(id);
      confirmedChanges.set(id, change);
      if (listed === undefined) fromLookups.set(id, change);
    }
    const warnings = [...(result.warnings ?? []), ...budgetWarnings, ...looked.warnings];
    return {
      ...result,
      ...(fromLookups.size === 0 ? {} : { isUnchanged: false, changes: [...result.changes, ...fromLookups.values()] }),
      ...(isKeptPart && confirmedChanges.size > 0 ? { confirmedChanges: [...confirmedChanges.values()] } : {}),
      ...(goneOnLookup.size === 0 ? {} : { goneOnLookup: [...goneOnLookup] }),
      ...(present.size === 0 ? {} : { confirmedPresent: [...present] }),
      ...(looked.limitWaitMs === undefined ? {} : { continueAfterMs: Math.max(result.continueAfterMs ?? 0, looked.limitWaitMs) }),
      ...(warnings.length === 0 ? {} : { warnings }),
    };
  }

  /**
   * Each lookup, PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach): an event by its id (events.get,
   * #lookUpEvent) or an occurrence by its series and original start (events.instances,
   * #lookUpOccurrence). `answers`, by the meeting's key (meetingKeyOf), the change each answer
   * brings; a lookup without one is not answered, left as stored. A failed lookup costs only its
   * own answer: after a limit (403/429 rateLimitExceeded) no further lookup is sent, its
   * Retry-After (`limitWaitMs`) the wait before the next read; after a 5xx or a timeout the others
   * go on. Events (or an occurrence's master) answered 404 are gone only once the calendar
   * answers (#calendarStillThere): Google answers notFound for a calendar the user can no longer
   * reach as for an event, and a calendar gone fails the read as its listing's 404 would. Any
   * other refusal of that check (a 403 of any reason, a 401, a limit, a 5xx, a timeout) leaves the
   * 404s not answered: the listing has just been read, so it says nothing of the access to the
   * calendar.
   */
  async #lookUpEvents(calendarId: string, lookups: readonly GoogleLookup[], zone: string | null): Promise<{ answers: Map<string, ProviderChange>; limitWaitMs?: number; warnings: string[] }> {
    const answers = new Map<string, ProviderChange>();
    const warnings: string[] = [];
    let limitWaitMs: number | undefined;
    const notAnswered = (failure: ProviderFailure, what: string) => {
      if (failure.kind === 'rate_limited') limitWaitMs = Math.max(limitWaitMs ?? 0, failure.retryAfterMs);
      warnings.push(`${what} failed (${failure.message}); not answered, left as stored until a later read`);
    };
    const notFound: GoogleLookup[] = [];
    await lookUpEach(lookups, async (lookup) => {
      if (limitWaitMs !== undefined) return;
      try {
        const answer = lookup.kind === 'event' ? await this.#lookUpEvent(calendarId, lookup.id, zone) : await this.#lookUpOccurrence(calendarId, lookup.seriesId, lookup.originalStartMs, zone, warnings);
        if (answer === 'not_found') notFound.push(lookup);
        else if (answer !== undefined) answers.set(lookupKeyOf(lookup), answer);
      } catch (error) {
        if (!(error instanceof CalendarProviderError)) throw error;
        notAnswered(error.failure, lookup.kind === 'event' ? `events.get of ${lookup.id}` : `events.instances of ${lookup.seriesId} at ${new Date(lookup.originalStartMs).toISOString()}`);
      }
    });
    if (notFound.length > 0 && limitWaitMs === undefined) {
      try {
        await this.#calendarStillThere(calendarId);
        // An occurrence whose series Google no longer has goes as its master does.
        for (const lookup of notFound) answers.set(lookupKeyOf(lookup), { type: 'removed', providerEventId: lookup.kind === 'event' ? lookup.id : lookup.seriesId });
      } catch (error) {
        // The calendar's own 404 fails the read as its listing's would; not known to be there
        // otherwise, the 404s are not answered.
        if (error instanceof ListingGone) notAnswered({ kind: 'transient', message: error.message }, 'the check of the calendar');
        else if (!(error instanceof CalendarProviderError) || error.failure.kind === 'not_found') throw error;
        else notAnswered(error.failure, 'the check of the calendar');
      }
    }
    return { answers, ...(limitWaitMs === undefined ? {} : { limitWaitMs }), warnings };
  }

  /**
   * Checks that the calendar itself still answers, before 404s on its events are taken as
   * deletions: events.list of the calendar asking one entry (GET /calendars/{calendarId}/events?
   * maxResults=1, developers.google.com/workspace/calendar/api/v3/reference/events/list), the
   * listing's own call, so under the scopes the listing already works with (its Authorization:
   * calendar.readonly, calendar, calendar.events.readonly, calendar.events among them) and with its
   * 404 meaning what the listing's 404 means. calendars.get would not do: its scopes
   * (developers.google.com/workspace/calendar/api/v3/reference/calendars/get, Authorization:
   * calendar.readonly, calendar, calendar.app.created, calendar.calendars,
   * calendar.calendars.readonly) leave out calendar.events.readonly, with which the listing and
   * events.get work, and Google answers a call outside the token's scopes 403
   * insufficientPermissions (GeneralTask/task-manager pull request 2160;
   * receptron/mulmoclaude pull request 2737, calendars.get refused so under narrower scopes).
   * Its failure is thrown as #request throws it; #lookUpEvents decides what it means.
   */
  async #calendarStillThere(calendarId: string): Promise<void> {
    await this.#request('GET', `/calendars/${encodeURIComponent(calendarId)}/events`, { maxResults: '1' });
  }

  /**
   * One event by its id (events.get), as a change: removed when Google answers 410, 'not_found'
   * for a 404 (see #lookUpEvents), or the event as it answers it (a cancelled one is read as the
   * listings read it); undefined when the answer leaves it as it is (any other refusal: a 401
   * after a fresh token, a 403 on one item, a 400; an answer that cannot be read). A limit, a 5xx
   * or a timeout is thrown.
   */
  async #lookUpEvent(calendarId: string, eventId: string, zone: string | null): Promise<ProviderChange | 'not_found' | undefined> {
    throwIfLookupsStopped();
    let item: unknown;
    try {
      item = await this.#json<unknown>('GET', `/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(eventId)}`, {});
    } catch (error) {
      return lookupFailureAnswer(error, eventId);
    }
    if (googleItemProblem(item) !== null || (item as GoogleEvent).id !== eventId) return undefined;
    return toChange(item as GoogleEvent, zone);
  }

  /**
   * One occurrence of a series, by its original start: events.instances of the master asking for
   * that instance (GET /calendars/{calendarId}/events/{eventId}/instances?originalStart=...
   * &showDeleted=true; developers.google.com/workspace/calendar/api/v3/reference/events/instances:
   * `originalStart`, "The original start time of the instance in the result"; `showDeleted`,
   * "Whether to include deleted events (with status equals "cancelled") in the result"). The
   * answer is an events list (`items[]`, the calendar's `timeZone`); the instance in it is the
   * one whose recurringEventId is the series and whose originalStartTime is that start, read as a
   * listed entry is (toChange): a cancelled occurrence as the cancelled instance a listing brings
   * (only its id, recurringEventId and originalStartTime are sure: events resource, `status`), a
   * moved one with its times, one as the rule has it at them. Its id is the one Google gives.
   * The series gone: 410 (errors guide, "410: Gone") is removed, a 404 'not_found' (see
   * #lookUpEvents), the master's id (Google documents neither answer for a deleted series: both
   * are taken as the series gone). An answer without that instance (an empty list, or a first
   * page without it and a nextPageToken: Google documents neither the answer to a time that is no
   * occurrence nor how it pages this one) is not answered, left as stored, with a warning: the
   * round's last part brings the series as it is. A limit, a 5xx or a timeout is thrown; any other
   * refusal, or an answer that cannot be read, is not answered.
   */
  async #lookUpOccurrence(calendarId: string, seriesId: string, originalStartMs: number, zone: string | null, warnings: string[]): Promise<ProviderChange | 'not_found' | undefined> {
    throwIfLookupsStopped();
    const originalStart = new Date(originalStartMs).toISOString();
    let page: unknown;
    try {
      page = await this.#json<unknown>('GET', `/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(seriesId)}/instances`, { originalStart, showDeleted: 'true' });
    } catch (error) {
      return lookupFailureAnswer(error, seriesId);
    }
    if (!isRecord(page) || !Array.isArray(page.items)) return undefined;
    const answerZone = typeof page.timeZone === 'string' ? page.timeZone : zone;
    const instance = (page.items as unknown[]).find((item) => googleItemProblem(item) === null && (item as GoogleEvent).recurringEventId === seriesId
      && googleTimeMs((item as GoogleEvent).originalStartTime, answerZone) === originalStartMs);
    if (instance === undefined) {
      warnings.push(`events.instances of ${seriesId} answered no occurrence at ${originalStart}${typeof page.nextPageToken === 'string' ? ' on its first page' : ''}; not answered, left as stored until a later read`);
      return undefined;
    }
    return toChange(instance as GoogleEvent, answerZone);
  }

  async #openChannel(request: PushRequest): Promise<PushChannel> {
    const answer = await this.#json<{ id?: string; resourceId?: string; expiration?: string }>('POST', `/calendars/${encodeURIComponent(request.calendarId)}/events/watch`, {}, {
      id: request.channelId,
      type: 'web_hook',
      address: request.address,
      token: request.secret,
      params: { ttl: String(CHANNEL_TTL_SECONDS) },
    });
    if (!answer.id || !answer.resourceId) throw new CalendarProviderError({ kind: 'permanent', message: 'events.watch answered without a channel id or resourceId' });
    const expiration = Number(answer.expiration);
    return { channelId: answer.id, resourceId: answer.resourceId, expiresAtMs: Number.isFinite(expiration) ? expiration : request.nowMs + CHANNEL_TTL_SECONDS * 1000 };
  }

  async #stopChannel(channel: PushChannel): Promise<void> {
    try {
      await this.#request('POST', '/channels/stop', {}, { id: channel.channelId, resourceId: channel.resourceId });
    } catch (error) {
      // Already gone is what we wanted.
      if (error instanceof CalendarProviderError && error.failure.kind === 'not_found') return;
      throw error;
    }
  }

  /** `listingToken`: the listing state the call carries (events.list: a syncToken, or a full listing's pageToken). */
  async #json<T>(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown, listingToken: ListingToken = null): Promise<T> {
    const response = await this.#request(method, path, query, body, listingToken);
    return parseJson<T>(response, `Google ${path}`);
  }

  async #request(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown, listingToken: ListingToken = null): Promise<HttpResponse> {
    const url = `${this.#baseUrl}${path}${Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : ''}`;
    let token = await this.#tokens.get();
    for (let attempt = 1; ; attempt++) {
      const response = await this.#send({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: this.#timeoutMs,
      });
      if (isSuccess(response)) return response;
      // Google refusing the address a channel would notify, not the token: a fresh token changes
      // nothing (and the watch is not sent twice).
      if (isWebhookAddressRefusal(response)) throw this.#failure(response, path, listingToken);
      // An access token can be refused before its stated expiry; one fresh token is worth a try.
      if (response.status === 401 && attempt === 1) {
        token = await this.#tokens.renew(token);
        continue;
      }
      if (response.status === 401) throw refusedFreshToken('Google');
      throw this.#failure(response, path, listingToken);
    }
  }

  #failure(response: HttpResponse, path: string, listingToken: ListingToken): Error {
    let body: GoogleError = {};
    try {
      body = JSON.parse(response.body) as GoogleError;
    } catch {
      // judged by status alone
    }
    const reasons = (body.error?.errors ?? []).map((e) => e.reason ?? '');
    // The limits the errors guide lists, and the project's daily quota (dailyLimitExceeded, which
    // Google's other APIs document): the project's or the user's, not one calendar's, so a wait.
    // Named one by one: the usageLimits domain also carries settings that waiting never clears
    // (accessNotConfigured: the Calendar API is off in the project; ipRefererBlocked).
    const isUsageLimit = reasons.some((r) => USAGE_LIMIT_REASONS.has(r));
    const what = `Google ${path}`;
    // A 4xx refuses the call (nothing done); a 5xx may come after Google acted, Retry-After or not.
    const answered = { isRefusal: isRefusalStatus(response.status) };
    if (response.status === 410 && listingToken === 'sync') return new FullSyncRequired();
    // A page token refused (a full listing's, or an incremental one's, which carries its sync token
    // too): Google documents no lifetime for a page token, nor the answer to a stale one (the
    // errors guide answers 400 to "an invalid value" of a parameter, a permanent error not to be
    // retried as it is). Any refusal but of the access (401, 403) or a limit (429) starts the
    // listing over, once (#readFull, #readIncremental): a full one from its first page, an
    // incremental one from its sync token, whose own 410 then asks for a full sync; kept, the
    // token would fail every later read of the calendar. A refusal that is the calendar's (a 404)
    // comes again without the token and is then the calendar's.
    if (listingToken === 'page' && response.status >= 400 && response.status < 500 && ![401, 403, 429].includes(response.status)) {
      return new ListingGone(`${what}: HTTP ${response.status} ${reasons.join(',')} on a page token`.trimEnd());
    }
    // 410 Gone is about sync state (the errors guide: a syncToken or updatedMin too old), never
    // the calendar: in a listing without a token (a page token gone stale) the listing starts over
    // (fetchChanges). Read as a 404 it would mark the calendar refused and its bots at risk.
    if (response.status === 410) return new ListingGone(`${what}: HTTP 410 ${reasons.join(',')}`.trimEnd());
    // events.watch on a calendar Google generates (holidays, say): it will not take a channel however
    // often asked, where a 5xx or a limit is worth asking again at the next sync.
    if (response.status === 400 && reasons.includes('pushNotSupportedForRequestedResource')) return new PushNotSupported(`${what}: HTTP 400 pushNotSupportedForRequestedResource`);
    if (isWebhookAddressRefusal(response)) {
      return new PushNotSupported(`${what}: HTTP ${response.status} push.webhookUrlUnauthorized: Google sends no notifications to this address (its domain is not verified for the Google Cloud project of the OAuth client; see PUBLIC_URL); polled meanwhile`);
    }
    if ((response.status === 403 || response.status === 429) && isUsageLimit) {
      return new CalendarProviderError({ kind: 'rate_limited', retryAfterMs: parseRetryAfterMs(response.headers, this.#now()) ?? DEFAULT_RATE_LIMIT_WAIT_MS, message: `${what}: HTTP ${response.status} ${reasons.join(',')}` }, answered);
    }
    if (response.status === 403 && reasons.some((r) => /insufficientPermissions|authError/i.test(r))) {
      return new CalendarProviderError({ kind: 'auth_revoked', message: `${what}: HTTP 403 ${reasons.join(',')}` }, answered);
    }
    const failure = failureFromStatus(response, this.#now(), what);
    return new CalendarProviderError(reasons.length > 0 ? { ...failure, message: `${failure.message} ${reasons.join(',')}` } : failure, answered);
  }
}

/**
 * Another person's own calendar: its id is their address (a primary calendar's id is its owner's
 * email), where the account's own secondary, imported and resource calendars have ids under
 * calendar.google.com. Listed as `owner` when shared with "make changes and manage sharing" (an
 * assistant's view of a manager's calendar: accessRole is the account's effective role, ACL
 * reference), it holds that person's meetings, not the account's: not synced unless named.
 */
function isAnotherPersonsCalendar(calendarId: string): boolean {
  return calendarId.includes('@') && !/\.calendar\.google\.com$/i.test(calendarId);
}

/**
 * Google's refusal of the address a watch names, as others report it: reason
 * `push.webhookUrlUnauthorized`, message "Unauthorized WebHook callback channel: <address>", when
 * the address's domain is not verified for the project of the OAuth client. Google's errors guide
 * lists neither; the status differs between reports: 401 (stackoverflow.com/questions/40156523,
 * "Google Calendar API push notification: 401 Unauthorized WebHook callback channel"), 400 and 403
 * in third-party code and setup notes. So any 4xx carrying the reason or the message is read as
 * it, before a 401 is taken for a stale token.
 */
function isWebhookAddressRefusal(response: HttpResponse): boolean {
  if (response.status < 400 || response.status >= 500) return false;
  let body: GoogleError = {};
  try {
    body = JSON.parse(response.body) as GoogleError;
  } catch {
    return false;
  }
  const reasons = (body.error?.errors ?? []).map((e) => e.reason ?? '');
  if (reasons.includes('push.webhookUrlUnauthorized')) return true;
  const message = typeof body.error?.message === 'string' ? body.error.message : '';
  return /unauthorized webhook callback channel/i.test(message);
}

/** Google answered 410 to a syncToken: the token is gone and a full sync is needed. */
class FullSyncRequired extends Error {
  override name = 'FullSyncRequired';
}

/** What listing state an events.list call carries: a syncToken alone, a pageToken (with a syncToken or not), or neither. */
type ListingToken = 'sync' | 'page' | null;

/** Google refused a page token (gone stale), or answered 410 where no sync token is sent: listed again from the start. */
class ListingGone extends Error {
  override name = 'ListingGone';
}

function malformedListing(message: string): CalendarProviderError {
  return new CalendarProviderError({ kind: 'transient', message: `Google ${message}; nothing of the read is applied` });
}

/** A JSON object (not null, not an array); no narrowing, for answers typed as the provider documents them. */
function isAnObject(value: unknown): boolean {
  return isRecord(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why one entry of an events.list page cannot be read, or null when it can: not an object, an id
 * that is not a string (every such entry would be stored under one key), or a start, end or
 * originalStartTime whose dateTime or date is not a string (a number would be parsed as some
 * date). `id`: the entry's id when it has one, so that the sync leaves the stored event as it is.
 *
 * A cancelled entry is read by what its removal needs, as Google's events resource (`status`)
 * promises no more: a deleted event is only sure to carry its id, a cancelled occurrence of a
 * series its id, recurringEventId and originalStartTime. Its start and end, whatever they hold,
 * are not looked at; a cancelled occurrence whose original start cannot be read stays unreadable
 * (which occurrence it cancels is not known).
 */
export function googleItemProblem(item: unknown): { id: string | null; message: string } | null {
  if (!isRecord(item) || typeof item.id !== 'string' || item.id === '') return { id: null, message: 'Google listed an event without an id; skipped' };
  if (isOverlongEventId(item.id) || isOverlongEventId(item.recurringEventId)) return { id: item.id, message: `Google listed an event whose id is over ${MAX_PROVIDER_EVENT_ID_BYTES} bytes (its API allows 1,024 characters); skipped` };
  const isCancelled = item.status === 'cancelled';
  const checked = !isCancelled ? (['start', 'end', 'originalStartTime'] as const) : typeof item.recurringEventId === 'string' ? (['originalStartTime'] as const) : ([] as const);
  for (const field of checked) {
    const value = item[field];
    if (value === undefined || value === null) continue;
    if (!isRecord(value) || (value.dateTime !== undefined && typeof value.dateTime !== 'string') || (value.date !== undefined && typeof value.date !== 'string') || (value.timeZone !== undefined && value.timeZone !== null && typeof value.timeZone !== 'string')
      // Its zone only places a date; whether it reads at all does not depend on it.
      || googleTimeMs(value as GoogleDate, null) === null) {
      return { id: item.id, message: `Google listed event ${item.id} with a ${field} that is not a date or time; skipped, kept as stored` };
    }
  }
  // A live event always has a start (events resource: start and end are required); one listed
  // without would otherwise read as removed, and its bot be cancelled (an occurrence, placed at its
  // original start, would lose its title and link, and so its bot).
  if (!isCancelled && (item.start === undefined || item.start === null)) {
    return { id: item.id, message: `Google listed event ${item.id} without a start; skipped, kept as stored` };
  }
  return null;
}

/** Epoch ms of a Google start/end: a dateTime with offset, or an all-day date in the given zone. */
function googleTimeMs(value: GoogleDate | undefined, fallbackZone: string | null): number | null {
  if (!value) return null;
  if (typeof value.dateTime === 'string' && value.dateTime !== '') {
    const ms = Date.parse(value.dateTime);
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof value.date === 'string' && value.date !== '') {
    const zone = ianaZoneOf(value.timeZone) ?? ianaZoneOf(fallbackZone) ?? 'UTC';
    try {
      return Temporal.PlainDate.from(value.date).toZonedDateTime(zone).epochMilliseconds;
    } catch {
      return null;
    }
  }
  return null;
}

/** What a look before a join asks Google: one event by its id (events.get), or one occurrence of a series by its original start (events.instances). */
type GoogleLookup = { kind: 'event'; id: string } | { kind: 'occurrence'; seriesId: string; originalStartMs: number };

function changeIdOf(change: ProviderChange): string {
  return change.type === 'removed' ? change.providerEventId : change.event.providerEventId;
}

function occurrenceKeyOf(seriesId: string, originalStartMs: number): string {
  return `${seriesId} ${originalStartMs}`;
}

/** An entry that ends a series: removed, or its master cancelled (what a listing or events.get brings of a series deleted). */
function seriesEnded(change: ProviderChange | undefined): ProviderChange | undefined {
  return change !== undefined && (change.type === 'removed' || change.event.status === 'cancelled') ? change : undefined;
}

/**
 * What a failed lookup of `goneId` (events.get of an event, events.instances of a series) answers:
 * a 410 (ListingGone) is it removed, a 404 'not_found' (#lookUpEvents checks the calendar before
 * taking it as gone); a limit, a 5xx or a timeout is thrown (#lookUpEvents stops or goes on); any
 * other refusal leaves it not answered (undefined).
 */
function lookupFailureAnswer(error: unknown, goneId: string): ProviderChange | 'not_found' | undefined {
  if (error instanceof ListingGone) return { type: 'removed', providerEventId: goneId };
  if (!(error instanceof CalendarProviderError)) throw error;
  if (error.failure.kind === 'not_found') return 'not_found';
  if (error.failure.kind === 'transient' || error.failure.kind === 'rate_limited') throw error;
  return undefined;
}

/** What listedFor (#withConfirmed) answers for a meeting left as stored in this read: neither settled by the part nor looked up. */
const AS_STORED = Symbol('as stored');

/**
 * Whether a series' master, as Google answers it (live, with its rule), still has an occurrence
 * whose original start is `originalStartMs`, its rule expanded there (recurrence.ts). False for a
 * master not answered, ended or without a rule, for a rule that cannot be read, and for one that
 * no longer lands there: an UNTIL or COUNT that ends before it (a series split "this and
 * following" ends its old rule before the edited occurrence: series-cut.ts) or a rule retimed.
 */
function seriesStillHas(series: ProviderChange | undefined, originalStartMs: number): boolean {
  if (series === undefined || seriesEnded(series) !== undefined || series.type !== 'upsert' || series.event.recurrence === null) return false;
  const { startMs, endMs, timeZone, recurrence } = series.event;
  try {
    return compileSeries({ startMs, endMs, timeZone: timeZone ?? 'UTC', recurrence }).find(originalStartMs) !== null;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/** The series of a meeting that is an occurrence stored as an exception of its own (MeetingToConfirm.exceptionOriginalStartMs); null for any other. */
function exceptionSeriesOf(meeting: MeetingToConfirm): string | null {
  return meeting.exceptionOriginalStartMs === undefined || meeting.exceptionOriginalStartMs === null || !meeting.seriesId ? null : meeting.seriesId;
}

/** The occurrence `exceptionId` of a live series cancelled, as a listing brings a cancelled exception (only its id, recurringEventId and originalStartTime: events resource, `status`). */
function cancelledInstanceOf(exceptionId: string, seriesId: string, originalStartMs: number, zone: string | null): ProviderChange {
  return toChange({ id: exceptionId, status: 'cancelled', recurringEventId: seriesId, originalStartTime: { dateTime: new Date(originalStartMs).toISOString() } }, zone);
}

/** A meeting to confirm's key: its id, or for an occurrence stored as its master, the master's id and its original start. */
function meetingKeyOf(meeting: MeetingToConfirm): string {
  return meeting.occurrenceStartMs === undefined || meeting.occurrenceStartMs === null ? meeting.providerEventId : occurrenceKeyOf(meeting.providerEventId, meeting.occurrenceStartMs);
}

function lookupKeyOf(lookup: GoogleLookup): string {
  return lookup.kind === 'event' ? lookup.id : occurrenceKeyOf(lookup.seriesId, lookup.originalStartMs);
}

/**
 * What Google's answer about a meeting whose bot joins soon (an entry a part lists, or a
 * lookup's) says of it: 'gone' (removed), 'changed' (cancelled, or at other times than `meeting`
 * has: an occurrence as its instance, a single event, an exception), or 'present'. A series'
 * master is 'changed' only when cancelled: its times are its first occurrence's, not the meeting's.
 */
export function confirmedVerdict(change: ProviderChange, meeting: Pick<MeetingToConfirm, 'startMs' | 'endMs'>): 'gone' | 'changed' | 'present' {
  if (change.type === 'removed') return 'gone';
  if (change.event.status === 'cancelled') return 'changed';
  if (change.event.recurrence !== null) return 'present';
  return change.event.startMs !== meeting.startMs || change.event.endMs !== meeting.endMs ? 'changed' : 'present';
}

export function toChange(listed: GoogleEvent, calendarZone: string | null): ProviderChange {
  // A cancelled entry's start and end are not checked (googleItemProblem): a start that is no date is read as none.
  const item: GoogleEvent = listed.status === 'cancelled' && googleTimeMs(listed.start, calendarZone) === null ? { ...listed, start: undefined, end: undefined } : listed;
  const isInstance = typeof item.recurringEventId === 'string' && item.originalStartTime !== undefined;
  const originalStartMs = isInstance ? googleTimeMs(item.originalStartTime, calendarZone) : null;
  if (item.status === 'cancelled' && !(isInstance && originalStartMs !== null)) {
    // Outside a live series a cancelled event is a deleted one, and may carry only its id.
    return { type: 'removed', providerEventId: item.id };
  }
  const zone = ianaZoneOf(item.start?.timeZone) ?? ianaZoneOf(calendarZone);
  // A cancelled instance carries only its id and original start: it starts and ends there.
  const startMs = googleTimeMs(item.start, calendarZone) ?? originalStartMs;
  if (startMs === null) return { type: 'removed', providerEventId: item.id };
  const endMs = googleTimeMs(item.end, calendarZone) ?? startMs;
  const entryPoints = Array.isArray(item.conferenceData?.entryPoints) ? item.conferenceData.entryPoints : [];
  const video = textOrNull(entryPoints.find((e) => isRecord(e) && e.entryPointType === 'video' && typeof e.uri === 'string')?.uri);
  const location = textOrNull(item.location);
  const description = textOrNull(item.description);
  const event: ProviderEvent = {
    providerEventId: item.id,
    title: textOrNull(item.summary),
    description,
    location,
    startMs,
    endMs,
    timeZone: zone,
    isAllDay: item.start?.date !== undefined && item.start.dateTime === undefined,
    // A Meet link Google may have added by itself yields to a Zoom, Teams... link the organiser wrote (conferenceLinkToFollow).
    conferenceUrl: conferenceLinkToFollow({ conferenceUrl: textOrNull(item.hangoutLink) ?? video, calendarPlatform: 'google_meet', location, description }),
    recurrence: !isInstance && Array.isArray(item.recurrence) && item.recurrence.length > 0 ? item.recurrence : null,
    seriesProviderEventId: isInstance ? item.recurringEventId! : null,
    originalStartMs,
    status: item.status === 'cancelled' ? 'cancelled' : item.status === 'tentative' ? 'tentative' : 'confirmed',
    isDeclined: item.attendees?.some((a) => a.self === true && a.responseStatus === 'declined') ?? false,
    raw: item,
  };
  return { type: 'upsert', event };
}
