// Microsoft Graph (Outlook calendars) as a CalendarProvider.
//
// - Calendars: every calendar of the account (GET /me/calendars); each synced one has its own
//   delta round and subscription. "Every calendar" leaves out calendars the account does not own
//   or cannot edit (Birthdays, colleagues' shared calendars).
// - Sync: GET /me/calendars/{id}/calendarView/delta?startDateTime&endDateTime, following
//   @odata.nextLink to the round's @odata.deltaLink, which is the cursor. The calendar-scoped
//   path works on v1.0 for any calendar of the user (learn.microsoft.com/graph/delta-query-events;
//   microsoft-graph-docs issue #7632 uses it). The window is fixed when a round starts, so the
//   adapter starts a fresh round (a full sync of a new window) once the horizon has moved a day on.
// - Recurrence: a round brings series masters (full data, with the first occurrence's start) and
//   their occurrences as bare stubs: id, type, seriesMasterId, start and end only
//   (microsoft-graph-docs issues #7632, #1716, #22197; keeper.sh PR #409; OpenWhispr PR #1665).
//   Each occurrence is completed from its master: from the same round, else fetched with
//   GET /me/calendars/{calendar}/events/{master} (calendar-scoped, as OpenWhispr PR #1835 found
//   works for shared calendars too), PROVIDER_LOOKUPS_AT_ONCE at a time and at most MAX_MASTER_LOOKUPS a read (a
//   round lacking more is read in parts: #lookUpMasters); a 404 there means the series is gone. An exception
//   (type: exception) carries its own data, which wins over the master's. The master itself is
//   not an event: its start only repeats the first occurrence's.
// - A deleted occurrence has no @removed entry: the master comes again with the occurrences it
//   still has, all on one page (microsoft-graph-docs PR #4501). So when a master arrives, its
//   occurrences in the round are the series' complete set in the window (`completeSeries`).
//   A series' list of instances (event-list-instances), read to confirm such a set, may leave out
//   its exceptions (microsoft-graph-docs issue 15611): a stored instance missing from it is looked
//   up by its id (lookUpInstance) before it goes.
// - An expired delta token (410 Gone, or a 400/404 with syncStateNotFound, syncStateInvalid or
//   resyncRequired) starts a full sync at once.
// - A round that loops (Graph serving one page over and over, each time with a new nextLink and
//   never a deltaLink: msgraph-sdk-dotnet issues 3082 and 3070, on mailboxes with many series) is
//   given up after its third identical page, and the window is read whole from calendarView
//   instead (no delta link: a full sync each time), for DELTA_RETRY_AFTER_MS before delta is
//   tried again. Without this the calendar would never finish a sync again.
// - A deleted event a delta round never names (no @removed at all: see #withGoneMeetings): the
//   meetings whose bots join soon are looked up by their ids at the sync before their join time.
// - Push: a subscription per calendar to me/calendars/{id}/events with clientState and a
//   lifecycleNotificationUrl, extended with PATCH before it expires. A calendar of another mailbox
//   (a colleague's, shared with the user) takes none with delegated permissions: its creation
//   answers 403 ExtensionError "[Status Code: Forbidden; Reason: Forbidden]", which fails as
//   PushNotSupported (see #failure).
import { createHash } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import {
  CalendarProviderError, checkSyncSize, lookUpEach, PROVIDER_LOOKUPS_AT_ONCE, isOverlongEventId, MAX_PROVIDER_EVENT_ID_BYTES, NotFoundYet, PushNotSupported, sendForLookup, textOrNull, throwIfLookupsStopped, type CalendarProvider, type FetchContext, type FetchResult, type MeetingToConfirm, type ProviderAccount, type ProviderCapabilities,
  type InstanceLookup, type ProviderChange, type PushChannel, type PushChannels, type PushRequest, type SeriesInstances,
} from './calendar-provider.ts';
import type { AccessTokenSource } from './oauth-token-client.ts';
import { DEFAULT_RATE_LIMIT_WAIT_MS, failureFromStatus, isRefusalStatus, isSuccess, parseJson, parseRetryAfterMs, refusedFreshToken, type HttpResponse, type HttpSend } from './provider-http.ts';
import { conferenceLinkToFollow, findMeetingLink } from '../../domain/meeting-url.ts';
import { ianaZoneOf } from './time-zone-names.ts';
import { rruleOfGraphRecurrence } from '../../domain/graph-recurrence.ts';
import { mapBounded } from '../../lib/bounded-parallel.ts';
import { SlotWaitEnded, SlotWaitTimedOut } from '../../lib/keyed-slots.ts';

export const MICROSOFT_CAPABILITIES: ProviderCapabilities = Object.freeze({
  incrementalSync: 'delta_link',
  push: 'graph_subscription',
  recurrence: 'expanded_instances',
  isWindowed: true,
  canMissDeletions: true,
});

/**
 * Graph requests of one app to one mailbox this process has in flight at once, at most: Graph's
 * Outlook limit is 4 concurrent requests per app per mailbox
 * (learn.microsoft.com/graph/throttling-limits#outlook-service-limits; "the MailboxConcurrency for
 * the Graph is 4 requests", Microsoft Q&A 734143), a fifth answered 429 ApplicationThrottled. One
 * read has at most PROVIDER_LOOKUPS_AT_ONCE in flight, but two connections of one mailbox (two
 * users who connected the same account) sync side by side, and a disconnect's stops or a connect's
 * reads may come meanwhile: their requests share these slots (mailboxSlots). Requests of other
 * instances are not counted: past the limit, Graph's 429 is handled as any.
 */
export const MAILBOX_REQUESTS_AT_ONCE = 4;

/**
 * Runs one Graph request in a slot of its mailbox (see MAILBOX_REQUESTS_AT_ONCE). `stop` ends a
 * wait for one at once (SlotWaitEnded); a wait longer than `maxWaitMs` ends too (SlotWaitTimedOut).
 */
export type MailboxSlots = <R>(send: () => Promise<R>, wait: { stop: AbortSignal | undefined; maxWaitMs: number }) => Promise<R>;

/** Delegated Calendars.Read and User.Read, plus offline_access so refresh tokens keep coming. */
export const MICROSOFT_SCOPE = 'offline_access https://graph.microsoft.com/Calendars.Read https://graph.microsoft.com/User.Read';

const DAY_MS = 86_400_000;
/** Asked-for subscription lifetime: just under the 4,230 minutes Outlook events allow; Graph's answer counts. */
const SUBSCRIPTION_MINUTES = 4_200;
const PAGE_SIZE = 100;
const MAX_PAGES = 500;
/** Meetings whose bots join soon looked up in one read (see #withGoneMeetings). */
const MAX_CONFIRM_LOOKUPS = 20;

/**
 * Lookups one read makes to settle what its round lists (#settledItems: series and events listed
 * more than once, events named only @removed; #settledOrphans: occurrences of a master still not
 * found), one budget for the read. Each lookup is a few requests at most: see docs/providers/microsoft-outlook.md.
 */
const MAX_SETTLING_LOOKUPS = 50;

/**
 * Series masters one read looks up (GET .../events/{master}) to complete the occurrences its round
 * lists without their master. A round after a long outage, or the first of a large mailbox, can
 * list occurrences of hundreds of series; past this many, the occurrences of the other series are
 * kept as stored, the round is read again soon from the same cursor, and the series looked up
 * already are not looked up again (DeltaCursor.mastersRead). See #lookUpMasters.
 */
export const MAX_MASTER_LOOKUPS = 200;

/** The same page this many times in one round: Graph's paging has looped (see the header). */
const LOOPED_PAGE_REPEATS = 3;
/** After a round looped, the window is read from calendarView for this long before delta is tried again. */
const DELTA_RETRY_AFTER_MS = 6 * 3_600_000;

interface DeltaCursor {
  /**
   * Null after a window read from calendarView, or a round that listed an entry without an id (no
   * delta round to go on from: the next read is a new round, a full sync of the window).
   */
  deltaLink: string | null;
  fromMs: number;
  toMs: number;
  /** When a delta round last looped; delta is not tried again before DELTA_RETRY_AFTER_MS. */
  deltaLoopedAtMs?: number;
  /**
   * Set while a round is read in parts (MAX_MASTER_LOOKUPS reached, or a lookup limited): the
   * series whose master an earlier part looked up, whatever it answered, each as seriesDigest of
   * the series and its occurrences as the round listed them. Listed the same again, without their
   * master, they are kept as stored rather than looked up again, so that each part gets further.
   */
  mastersRead?: string[];
}

interface GraphDate {
  dateTime?: string;
  timeZone?: string;
}

export interface GraphEvent {
  id: string;
  '@removed'?: { reason?: string };
  type?: string;
  subject?: string | null;
  bodyPreview?: string | null;
  body?: { contentType?: string; content?: string } | null;
  location?: { displayName?: string | null } | null;
  start?: GraphDate;
  end?: GraphDate;
  isAllDay?: boolean;
  isCancelled?: boolean;
  originalStartTimeZone?: string | null;
  onlineMeeting?: { joinUrl?: string | null } | null;
  onlineMeetingUrl?: string | null;
  responseStatus?: { response?: string };
  /** The free/busy display; not read (it is not the meeting's status: see toChange). */
  showAs?: string;
  seriesMasterId?: string | null;
  recurrence?: unknown;
  lastModifiedDateTime?: string;
}

interface GraphCalendar {
  id: string;
  name?: string;
  isDefaultCalendar?: boolean;
  canEdit?: boolean;
  owner?: { name?: string; address?: string } | null;
  /** '#RRGGBB', or empty when the user never chose a colour (learn.microsoft.com/graph/api/resources/calendar). */
  hexColor?: string;
}

interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export class MicrosoftCalendarProvider implements CalendarProvider {
  readonly kind = 'microsoft' as const;
  readonly capabilities = MICROSOFT_CAPABILITIES;
  readonly push: PushChannels;
  readonly #baseUrl: string;
  readonly #tokens: AccessTokenSource;
  readonly #send: HttpSend;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #masterLookups: number;
  readonly #slots: MailboxSlots;

  /**
   * `masterLookups`: MAX_MASTER_LOOKUPS unless given (a test's smaller round). `mailboxSlots`: the
   * process's slots of the mailbox read (MAILBOX_REQUESTS_AT_ONCE); without them (connecting,
   * the mailbox not known yet) requests are sent as they come.
   */
  constructor(options: { baseUrl: string; tokens: AccessTokenSource; send: HttpSend; timeoutMs: number; now: () => number; masterLookups?: number; mailboxSlots?: MailboxSlots }) {
    this.#masterLookups = options.masterLookups ?? MAX_MASTER_LOOKUPS;
    this.#slots = options.mailboxSlots ?? ((send) => send());
    this.#baseUrl = options.baseUrl;
    this.#tokens = options.tokens;
    this.#send = options.send;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
    this.push = {
      open: (request) => this.#subscribe(request),
      renew: (channel, request) => this.#extend(channel, request),
      close: (channel) => this.#unsubscribe(channel),
      requestedExpiryMs: (request) => request.nowMs + SUBSCRIPTION_MINUTES * 60_000,
    };
  }

  async describeAccount(): Promise<ProviderAccount> {
    const me = parseJson<{ id?: string; displayName?: string | null; mail?: string | null; userPrincipalName?: string | null }>(await this.#request('GET', `${this.#baseUrl}/me`), 'Graph /me');
    const calendars: GraphCalendar[] = [];
    let next: string | undefined = `${this.#baseUrl}/me/calendars`;
    while (next) {
      const page: GraphPage<GraphCalendar> & { value: unknown[] } = checkedPage<GraphCalendar>(parseJson(await this.#request('GET', next), 'Graph /me/calendars'), 'Graph /me/calendars');
      calendars.push(...(page.value.filter((c) => isRecord(c) && typeof c.id === 'string') as GraphCalendar[]));
      next = page['@odata.nextLink'];
    }
    const email = me.mail ?? me.userPrincipalName ?? null;
    if (!email && !me.id) throw new CalendarProviderError({ kind: 'permanent', message: 'Graph /me answered without an account' });
    const isOwn = (c: GraphCalendar) => !c.owner?.address || (email !== null && c.owner.address.toLowerCase() === email.toLowerCase());
    return {
      accountId: (email ?? me.id!).toLowerCase(),
      email,
      name: me.displayName ?? null,
      calendars: calendars.map((c) => ({
        id: c.id,
        name: c.name ?? null,
        timeZone: null,
        isPrimary: c.isDefaultCalendar === true,
        accessRole: c.canEdit ? (isOwn(c) ? 'owner' : 'writer') : 'reader',
        // The account's own calendars hold its meetings; read-only ones (Birthdays, holidays)
        // and colleagues' calendars shared with it do not.
        isSynced: c.isDefaultCalendar === true || (c.canEdit === true && isOwn(c)),
        // Graph has no description, text colour or list flags for a calendar: every one is shown.
        description: null,
        backgroundColor: c.hexColor ? c.hexColor : null,
        foregroundColor: null,
        isSelected: true,
        isHidden: false,
      })),
    };
  }

  async fetchChanges(calendarId: string, cursor: string | null, context: FetchContext): Promise<FetchResult> {
    const result = await this.#fetchWindow(calendarId, cursor, context);
    return result.isFullSync || !context.confirm?.length ? result : this.#withGoneMeetings(calendarId, result, context.confirm);
  }

  /**
   * A delta round can leave out a deleted event altogether: no @removed entry, ever (reported in
   * microsoft-graph-docs issue 11728 and microsoft-graph-docs-contrib issue 5902, both closed
   * without an answer; the next full round, up to a day later, no longer lists it). So the
   * meetings whose bots join soon that the round does not mention are looked up, each by its id
   * (GET .../events/{id}), PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach). A 404 alone is not taken as gone (Graph answers ErrorItemNotFound for
   * an event it has at times: msgraph-sdk-java issue 1225): the meeting's own stretch of
   * calendarView must not list it either. At most MAX_CONFIRM_LOOKUPS a read. An outage or a limit
   * on a lookup has the read tried again; any other refusal (a 403 on one item, a malformed id)
   * leaves that meeting as it is: a lookup never costs a meeting its bot, nor the read its changes.
   * One found still there at other times than the stored ones (a stored exception kept as it was
   * because an earlier lookup could not settle it, say) comes back as the change that brings it up
   * to date, its bot following; one found at its stored times is named in `confirmedPresent`; one
   * found gone is named removed, and in `goneOnLookup` (an occurrence of a series moved to another
   * day is gone under its old id too: the sync lets its bot follow the new one before it deletes it).
   * Either way no later lookup in the same read (series-completeness.ts) asks again, where a 404
   * would undo this check.
   */
  async #withGoneMeetings(calendarId: string, result: FetchResult, meetings: readonly MeetingToConfirm[]): Promise<FetchResult> {
    const mentioned = new Set([...result.changes.map((c) => (c.type === 'removed' ? c.providerEventId : c.event.providerEventId)), ...(result.unreadable ?? [])]);
    const gone: ProviderChange[] = [];
    const present: string[] = [];
    const goneOnLookup: string[] = [];
    const toLookUp = meetings.filter((m) => !mentioned.has(m.providerEventId)).slice(0, MAX_CONFIRM_LOOKUPS);
    const answers = await lookUpEach(toLookUp, (meeting) => this.#isGone(calendarId, meeting.providerEventId, meeting).then(async (now) => {
      if (typeof now === 'boolean') return now;
      if (result.window === null || sameTimes(now, meeting)) return false;
      return this.#changeOfFound(calendarId, now, result.window);
    }).catch((error: unknown) => {
      if (error instanceof CalendarProviderError && !isOutageOrLimit(error)) return undefined;
      throw error;
    }));
    for (const [index, meeting] of toLookUp.entries()) {
      const found = answers[index];
      if (found === true) {
        gone.push({ type: 'removed', providerEventId: meeting.providerEventId });
        goneOnLookup.push(meeting.providerEventId);
      } else if (found === false || found === null) present.push(meeting.providerEventId);
      else if (found !== undefined) gone.push(found);
    }
    if (gone.length === 0 && present.length === 0) return result;
    return {
      ...result,
      ...(gone.length === 0 ? {} : { isUnchanged: false, changes: [...result.changes, ...gone] }),
      ...(goneOnLookup.length === 0 ? {} : { goneOnLookup }),
      ...(present.length === 0 ? {} : { confirmedPresent: present }),
    };
  }

  /**
   * Whether Graph no longer has the event: a 404 on its GET, and no listing of it in calendarView
   * over `times` (see #withGoneMeetings). Still there: the event as the GET answered it, or false
   * when that answer cannot be read (still a 200: Graph has something under that id).
   */
  async #isGone(calendarId: string, eventId: string, times: { startMs: number; endMs: number }): Promise<boolean | GraphEvent> {
    const found = await this.#fetchEvent(calendarId, eventId).catch((error: unknown) => {
      if (error instanceof UnreadableEvent) return false as const;
      throw error;
    });
    if (found !== null) return found;
    return this.#isUnlisted(calendarId, eventId, times);
  }

  /**
   * An event as a GET answered it, as a change: removed when it now lies outside the window; an
   * instance answered bare is completed from its master (the series' rule left as stored). Null
   * when it cannot be made one (its master not found, a series master): left as it is.
   */
  async #changeOfFound(calendarId: string, found: GraphEvent, window: { fromMs: number; toMs: number }): Promise<ProviderChange | null> {
    if (!isWithin(found, window)) return { type: 'removed', providerEventId: found.id };
    const seriesId = (found.type === 'occurrence' || found.type === 'exception') && found.seriesMasterId ? found.seriesMasterId : null;
    let event = found;
    if (seriesId !== null && event.subject === undefined) {
      const master = await this.#fetchEvent(calendarId, seriesId);
      if (master === null) return null;
      event = completeFromMaster(event, master);
    }
    return toChange(event, seriesId);
  }

  /** Whether calendarView over `times`, a minute either side, lists no event under `eventId`. */
  async #isUnlisted(calendarId: string, eventId: string, times: { startMs: number; endMs: number }): Promise<boolean> {
    const view = await this.#readView(calendarId, { fromMs: times.startMs - 60_000, toMs: times.endMs + 60_000 });
    return !view.items.some((i) => i.id === eventId) && !view.skipped.unreadable.includes(eventId);
  }

  async #fetchWindow(calendarId: string, cursor: string | null, context: FetchContext): Promise<FetchResult> {
    const previous = cursor ? (JSON.parse(cursor) as DeltaCursor) : null;
    const wantedEnd = context.nowMs + context.horizonMs;
    const window = { fromMs: context.nowMs - DAY_MS, toMs: wantedEnd };
    return this.#readWindow(calendarId, previous, window, context, {
      missedBefore: new Set(context.missedBefore ?? []),
      mastersRead: new Set(previous?.mastersRead ?? []),
      firstSeries: new Set((context.confirm ?? []).flatMap((m) => (m.seriesId ? [m.seriesId] : []))),
    });
  }

  async #readWindow(calendarId: string, previous: DeltaCursor | null, window: { fromMs: number; toMs: number }, context: FetchContext, settling: ReadBefore): Promise<FetchResult> {
    const wantedEnd = window.toMs;
    const loopedAtMs = previous?.deltaLoopedAtMs;
    if (loopedAtMs !== undefined && context.nowMs - loopedAtMs < DELTA_RETRY_AFTER_MS) return this.#listWindow(calendarId, window, loopedAtMs, settling);
    try {
      // A delta round keeps its window; when the horizon has moved on, a new round takes the new one.
      if (previous?.deltaLink && wantedEnd - previous.toMs < DAY_MS) {
        try {
          return await this.#round(calendarId, previous.deltaLink, previous, false, settling);
        } catch (error) {
          if (!(error instanceof DeltaExpired)) throw error;
        }
      }
      const query = new URLSearchParams({ startDateTime: new Date(window.fromMs).toISOString(), endDateTime: new Date(window.toMs).toISOString() });
      return await this.#round(calendarId, `${this.#calendarPath(calendarId)}/calendarView/delta?${query}`, window, true, settling);
    } catch (error) {
      if (!(error instanceof DeltaLooped)) throw error;
      return this.#listWindow(calendarId, window, context.nowMs, settling);
    }
  }

  /**
   * The window read whole from calendarView (learn.microsoft.com/graph/api/calendar-list-calendarview:
   * its occurrences, exceptions and single events, each with every property; no series masters),
   * as a full sync: for a calendar whose delta rounds loop. Series rules come from the masters,
   * looked up as for a delta round.
   */
  async #listWindow(calendarId: string, window: { fromMs: number; toMs: number }, deltaLoopedAtMs: number, settling: ReadBefore): Promise<FetchResult> {
    // Pages follow one another by position ($skip): an event deleted or added while they are read
    // shifts the later ones, and one can be missed. Missed from a full sync, its bot would be
    // cancelled. So a listing of several pages is read twice, and counts as the whole calendar only
    // when both reads list the same events; otherwise its events are taken in, but nothing is
    // removed until a read agrees with itself (the next sync's, most likely).
    const first = await this.#readView(calendarId, window);
    const second = first.pages > 1 ? await this.#readView(calendarId, window) : first;
    const ids = (read: { items: GraphEvent[] }) => read.items.map((i) => i.id).sort().join('\n');
    // An entry without an id could be any stored event: a read that holds one removes nothing.
    const isWhole = (first === second || ids(first) === ids(second)) && !hasIdless(second.skipped);
    // Its entries carry every property: those of a series past the read's master lookups are
    // stored as listed, the series' rule left as stored, and nothing is read again for them.
    const { changes, completeSeries, misses } = await this.#changesOf(calendarId, second.items, window, second.skipped, { ...settling, mastersRead: new Set() });
    return {
      isFullSync: isWhole,
      window,
      completeSeries: isWhole ? completeSeries : [],
      isUnchanged: false,
      changes: isWhole ? changes : changes.filter((c) => c.type === 'upsert'),
      cursor: JSON.stringify({ deltaLink: null, fromMs: window.fromMs, toMs: window.toMs, deltaLoopedAtMs } satisfies DeltaCursor),
      ...skippedOf(second.skipped),
      ...misses,
    };
  }

  /** One read of a window's calendarView, every page. */
  async #readView(calendarId: string, window: { fromMs: number; toMs: number }): Promise<{ items: GraphEvent[]; pages: number; skipped: Skipped }> {
    const query = new URLSearchParams({ startDateTime: new Date(window.fromMs).toISOString(), endDateTime: new Date(window.toMs).toISOString() });
    const items: GraphEvent[] = [];
    const skipped = noneSkipped();
    let url: string | undefined = `${this.#calendarPath(calendarId)}/calendarView?${query}`;
    let pages = 0;
    for (; url; pages++) {
      checkSyncSize(items.length, pages);
      const response = await this.#request('GET', url, undefined, { prefer: `odata.maxpagesize=${PAGE_SIZE}, outlook.timezone="UTC"` });
      const page = checkedPage<GraphEvent>(parseJson(response, 'Graph calendarView'), 'Graph calendarView');
      items.push(...readableItems(page.value, skipped));
      url = page['@odata.nextLink'];
    }
    return { items, pages, skipped };
  }

  /**
   * GET /me/calendars/{calendar}/events/{series}/instances (learn.microsoft.com/graph/api/event-list-instances):
   * the occurrences and exceptions of the series in the window, with every property; occurrences
   * cancelled from the series are not listed. Null when the series is gone (404). The exceptions
   * may be missing from it (see lookUpInstance): a stored instance it lacks is looked up by its id
   * before it is taken as gone (series-completeness.ts).
   */
  async fetchSeriesInstances(calendarId: string, seriesId: string, window: { fromMs: number; toMs: number }, warnings?: string[]): Promise<SeriesInstances | null> {
    const query = new URLSearchParams({ startDateTime: new Date(window.fromMs).toISOString(), endDateTime: new Date(window.toMs).toISOString() });
    let url: string | undefined = `${this.#calendarPath(calendarId)}/events/${encodeURIComponent(seriesId)}/instances?${query}`;
    const changes: ProviderChange[] = [];
    const unreadable: string[] = [];
    let master: GraphEvent | null | undefined;
    for (let pages = 0; url; pages++) {
      if (pages >= MAX_PAGES) throw new CalendarProviderError({ kind: 'permanent', message: `the series has more than ${MAX_PAGES * PAGE_SIZE} instances in the sync window` });
      let response: HttpResponse;
      try {
        response = await this.#request('GET', url, undefined, { prefer: `odata.maxpagesize=${PAGE_SIZE}, outlook.timezone="UTC"` });
      } catch (error) {
        if (error instanceof CalendarProviderError && error.failure.kind === 'not_found') return null;
        throw error;
      }
      const page = checkedPage<GraphEvent>(parseJson(response, 'Graph event instances'), 'Graph event instances');
      // An instance whose id is too long to be stored (MAX_PROVIDER_EVENT_ID_BYTES) has nothing
      // stored under it, as every listing skips it too: skipped here with a warning, the rest of
      // the series is read. Failing the lookup for it would fail the calendar at every sync.
      const storable = page.value.filter((item) => {
        if (!isRecord(item) || !(isOverlongEventId(item.id) || isOverlongEventId(item.seriesMasterId))) return true;
        warnings?.push(`Graph listed an instance of series ${seriesId} whose id is over ${MAX_PROVIDER_EVENT_ID_BYTES} bytes; skipped`);
        return false;
      });
      const skipped = noneSkipped();
      const readable = readableItems(storable, skipped);
      // The list stands for the series' every instance in the window. One it cannot read (a start
      // in a zone it cannot place, say) is named back as unreadable, to be kept as stored rather
      // than taken as gone with its bot; failing the lookup instead would fail the calendar's
      // round at every sync while Graph lists it so. An entry without an id could be any stored
      // instance: the lookup fails for it, and the round is read again.
      if (hasIdless(skipped)) throw new CalendarProviderError({ kind: 'transient', message: `Graph event instances of ${seriesId}: ${skipped.warnings.join('; ')}` });
      unreadable.push(...skipped.unreadable);
      warnings?.push(...skipped.warnings.map((warning) => `series ${seriesId}: ${warning}`));
      for (let item of readable) {
        // Listed instances carry every property; should one come bare, its master completes it.
        if (item.subject === undefined) {
          if (master === undefined) master = await this.#fetchEvent(calendarId, seriesId);
          if (master === null) return null;
          item = completeFromMaster(item, master);
        }
        const change = toChange(item, seriesId, master ? seriesRuleOf(master) : undefined);
        if (change) changes.push(change);
      }
      url = page['@odata.nextLink'];
    }
    return { changes, unreadable };
  }

  /**
   * One instance of a series by its id (GET .../events/{id}, learn.microsoft.com/graph/api/event-get),
   * for a stored instance the series' list of instances lacks. That list is documented to hold the
   * series' occurrences and exceptions, but has been reported to leave the exceptions out
   * (microsoft-graph-docs issue 15611, open, and its copy microsoft-graph-docs-contrib issue 540;
   * issue 4294, where a Microsoft writer saw exceptions listed): an occurrence moved or edited is
   * then missing from it although it is still there. Found, the instance as Graph has it now (an
   * exception carries its current times), or removed when it now lies outside the window. A 404
   * (ErrorItemNotFound) alone does not make it gone, since Graph answers it at times for an event
   * it has (msgraph-sdk-java issue 1225): given the stored times, calendarView over them must not
   * list it either, else it is `listed` (kept as stored), as the check before a bot joins
   * does (#withGoneMeetings). An answer that is not an event is `unreadable` too: Graph has
   * something under that id. Other failures are thrown.
   */
  async lookUpInstance(calendarId: string, seriesId: string, instanceId: string, window: { fromMs: number; toMs: number }, stored?: { startMs: number; endMs: number }): Promise<InstanceLookup> {
    const goneUnlessListed = async (what: string): Promise<InstanceLookup> => {
      if (stored === undefined || await this.#isUnlisted(calendarId, instanceId, stored)) return { kind: 'gone' };
      return { kind: 'listed', warning: `Graph answered 404 for ${what}, yet calendarView lists instance ${instanceId}` };
    };
    let event: GraphEvent | null;
    try {
      event = await this.#fetchEvent(calendarId, instanceId);
    } catch (error) {
      if (error instanceof UnreadableEvent) return { kind: 'unreadable', warning: error.message };
      throw error;
    }
    if (event === null) return goneUnlessListed(`instance ${instanceId}`);
    if (!isWithin(event, window)) return { kind: 'found', change: { type: 'removed', providerEventId: instanceId } };
    // An instance answered bare (not seen from a GET, which gives every property) is completed from its master.
    if (event.subject === undefined) {
      const master = await this.#fetchEvent(calendarId, seriesId);
      if (master === null) return goneUnlessListed(`its series ${seriesId}`);
      event = completeFromMaster(event, master);
    }
    // The series' rule is left as stored (undefined): the master is not read for it.
    const change = toChange(event, seriesId);
    return change === null ? { kind: 'unreadable', warning: `Graph answered the lookup of instance ${instanceId} with a series master` } : { kind: 'found', change };
  }

  #calendarPath(calendarId: string): string {
    return `${this.#baseUrl}/me/calendars/${encodeURIComponent(calendarId)}`;
  }

  async #round(calendarId: string, firstUrl: string, window: { fromMs: number; toMs: number }, isFull: boolean, settling: ReadBefore): Promise<FetchResult> {
    const items: GraphEvent[] = [];
    const skipped = noneSkipped();
    const pageRepeats = new Map<string, number>();
    let url: string | undefined = firstUrl;
    for (let pages = 0; url; pages++) {
      checkSyncSize(items.length, pages);
      const response = await this.#request('GET', url, undefined, { prefer: `odata.maxpagesize=${PAGE_SIZE}, outlook.timezone="UTC"` }, isFull ? 'full' : 'incremental');
      // Every page of a round is a collection: `value`, the entities, beside @odata.nextLink, or
      // on the last page @odata.deltaLink (learn.microsoft.com/graph/delta-query-overview, "Use
      // delta query to track changes in a resource collection"; learn.microsoft.com/graph/api/event-delta).
      // A page without its `value` list is not part of a round: taken as an empty one, a full
      // round would delete every event of the window and cancel their bots.
      const page = checkedPage<GraphEvent>(parseJson(response, 'Graph calendarView/delta'), 'Graph calendarView/delta');
      // Empty pages with a nextLink are usual (microsoft-graph-docs-contrib issue 1316); the same
      // page with entities in it again and again is a loop (see the header).
      if (page.value.length > 0) {
        const digest = createHash('sha256').update(JSON.stringify(page.value)).digest('base64');
        const seen = (pageRepeats.get(digest) ?? 0) + 1;
        if (seen >= LOOPED_PAGE_REPEATS) throw new DeltaLooped();
        pageRepeats.set(digest, seen);
      }
      items.push(...readableItems(page.value, skipped));
      if (page['@odata.deltaLink']) {
        const { changes, completeSeries, misses, parted } = await this.#changesOf(calendarId, items, window, skipped, settling);
        // Read in parts (MAX_MASTER_LOOKUPS reached, or a lookup limited): what this part completed is applied, the
        // occurrences of the series left are kept as stored (skipped.unreadable), and the cursor
        // stays at this round (a new round's: none, the next read starts one over the window) with
        // the series done, so that the next read, soon (FetchResult.hasMore), goes on from there.
        // Moving on to the round's delta link instead would lose those occurrences' changes.
        if (parted !== null) {
          return {
            // Only the round's last part is the whole window: one before it would take what it
            // keeps for later parts as listed, but not what those parts will bring (a series
            // moved to another day, whose new occurrences a later part completes), as gone.
            isFullSync: false,
            window,
            // In a new round a series is listed whole, so one this part completed from its
            // master is complete here: its stored instances the round no longer lists go in the
            // same write as the ones it brings, and bots follow a series moved to another day.
            completeSeries: hasIdless(skipped) ? [] : [...completeSeries, ...(isFull ? parted.completed : [])],
            isUnchanged: false,
            changes,
            cursor: JSON.stringify({ deltaLink: isFull ? null : firstUrl, fromMs: window.fromMs, toMs: window.toMs, mastersRead: parted.mastersRead } satisfies DeltaCursor),
            hasMore: true,
            // The series a later part of the round looks up: only an instance of one of these,
            // found gone before its bot joins, may yet have moved to an instance that part brings.
            ...(parted.left.length === 0 ? {} : { seriesLeft: parted.left }),
            ...(parted.continueAfterMs === undefined ? {} : { continueAfterMs: parted.continueAfterMs }),
            ...skippedOf(skipped),
            ...misses,
          };
        }
        // An entry without an id could be any stored event: nothing unlisted is taken as gone.
        // In a round from a delta link, whatever change it stood for (a deletion, a move) no later
        // round of that link brings again: such a round keeps no delta link, so the next sync
        // reads the window whole in a new round, which deletes then what Graph no longer lists.
        // A new round that holds one keeps its link: it names no deletions to lose, and reading
        // the window whole again would delete nothing either while Graph lists such an entry
        // (what it no longer lists is looked up before its bot joins, as after any partial read).
        const isWhole = !hasIdless(skipped);
        const keepsLink = isWhole || isFull;
        return {
          isFullSync: isFull && isWhole,
          window,
          completeSeries: isWhole ? completeSeries : [],
          isUnchanged: !isFull && changes.length === 0 && completeSeries.length === 0,
          changes,
          cursor: JSON.stringify({ deltaLink: keepsLink ? page['@odata.deltaLink'] : null, fromMs: window.fromMs, toMs: window.toMs } satisfies DeltaCursor),
          ...skippedOf(skipped),
          ...misses,
        };
      }
      url = page['@odata.nextLink'];
    }
    throw new CalendarProviderError({ kind: 'transient', message: 'Graph delta ended without a deltaLink' });
  }

  /**
   * One entry per event of a round (see oneEntryPerEvent). An event the round names both removed
   * and not, or in versions it cannot order, is looked up: gone (404, when the round names it
   * removed; else the round is read again), or outside the round's window, it is removed; else it
   * is what Graph has now. A series listed more than once has its
   * instances read from Graph (fetchSeriesInstances) instead of taken from the round, and those of
   * its instances the round lists but the list lacks looked up each by its id (lookUpInstance). At most
   * MAX_SETTLING_LOOKUPS lookups a read (settling.lookupsLeft, shared with #settledOrphans); past them, and when a lookup is refused for good (not
   * an outage or a limit, which have the round read again), the newest version listed stands.
   */
  async #settledItems(calendarId: string, items: readonly GraphEvent[], window: { fromMs: number; toMs: number }, skipped: Skipped, settling: Settling): Promise<{ items: GraphEvent[]; looked: Map<string, GraphEvent | null>; seriesInstances: Map<string, ProviderChange[] | null> }> {
    const { entries, unsure, repeatedSeries } = oneEntryPerEvent(items);
    const looked = new Map<string, GraphEvent | null>();
    const seriesInstances = new Map<string, ProviderChange[] | null>();
    /** undefined: not looked up (past the cap, or refused for good). */
    const lookUp = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      if (settling.lookupsLeft <= 0) return undefined;
      settling.lookupsLeft -= 1;
      try {
        return await work();
      } catch (error) {
        if (isOutageOrLimit(error)) throw error;
        return undefined;
      }
    };
    // Ids the round itself names removed: a 404 on their lookup agrees. A 404 for an id the round
    // lists only live is Graph not having it yet (msgraph-sdk-java issue 1225): the round is read
    // again at the next sync. Once only for each id: nothing bounds how long such a 404 lasts (one
    // lasting weeks is reported in msgraph-sdk-dotnet issue 2398, for an id Teams gave), and a round
    // read again for as long would leave every other change of the calendar unread. Missed a second time, the
    // id's copy the round lists stands (`stillNotFound` says whether it is that time).
    // Each such id is noted in `settling.missed` and settled as at the second miss; the read fails
    // after the round is settled when one of them is missed for the first time (#changesOf), naming
    // every id it missed, so that ids missing together are all known as missed at the next read
    // (failing at the first, two lasting misses would take turns failing every read).
    const namedRemoved = new Set(items.filter((i) => i['@removed']).map((i) => i.id));
    const stillNotFound = (id: string, kept: string): boolean => {
      settling.missed.push(id);
      if (isMissedBefore(settling, id)) skipped.warnings.push(`Graph again did not find ${id}, which the round lists; ${kept}`);
      return true;
    };
    for (const seriesId of repeatedSeries) {
      const read = await lookUp(() => this.fetchSeriesInstances(calendarId, seriesId, window, skipped.warnings));
      // Not found again: the series' entries in the round stand, as past the lookup cap.
      const instances = read === null && !namedRemoved.has(seriesId) && stillNotFound(seriesId, 'its series is taken as the round lists it') ? undefined : read;
      if (read !== undefined && instances !== undefined) noteFound(settling, seriesId);
      if (instances === undefined) continue;
      // Instances the list holds in a shape that cannot be read: kept as stored.
      skipped.unreadable.push(...(instances?.unreadable ?? []));
      const changes = instances?.changes ?? null;
      // The round's instances of the series the list lacks are looked up each by its id: the list may
      // leave exceptions out (lookUpInstance), and one new in this round is stored nowhere yet.
      if (changes !== null) {
        const listed = new Set([...changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)), ...instances!.unreadable]);
        const lacking = new Set(entries.filter((e) => !e['@removed'] && e.seriesMasterId === seriesId && !listed.has(e.id)).map((e) => e.id));
        const listedTimes = new Map(entries.flatMap((e) => {
          const startMs = graphTimeMs(e.start as GraphDate | undefined);
          return lacking.has(e.id) && startMs !== null ? [[e.id, { startMs, endMs: graphTimeMs(e.end as GraphDate | undefined) ?? startMs }] as const] : [];
        }));
        // PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach): each takes its share of the read's
        // budget as it starts, in the order of `lacking`, as one by one; the answers are used in that order.
        const ids = [...lacking];
        const answers = await lookUpEach(ids, (id) => lookUp(() => this.lookUpInstance(calendarId, seriesId, id, window, listedTimes.get(id))));
        for (const [index, id] of ids.entries()) {
          // A 404 is checked against calendarView over the times the round lists it at. Listed
          // there, Graph has it: not found yet, as for any id the round lists live, and the round
          // is read again. Missing there too, it is gone: a copy of the series from before one of
          // its occurrences was deleted lists that occurrence live, and Graph names no @removed for
          // it (see the header); read again, such a round would fail the same way.
          // Gone, it is named removed: settled here, it is not looked up again after the round
          // (series-completeness.ts looks up only what the round does not mention).
          const found = answers[index];
          const isNotFound = found?.kind === 'listed' || (found?.kind === 'gone' && !listedTimes.has(id));
          // Past the cap, refused for good, or not found again: left as stored.
          if (found === undefined || found.kind === 'unreadable' || (isNotFound && stillNotFound(id, 'kept as stored'))) skipped.unreadable.push(id);
          else if (found.kind === 'gone') {
            noteFound(settling, id);
            changes.push({ type: 'removed', providerEventId: id });
          } else if (found.kind === 'found') {
            noteFound(settling, id);
            changes.push(found.change);
          }
        }
      }
      seriesInstances.set(seriesId, changes);
    }
    const isOfReadSeries = (entry: GraphEvent) => repeatedSeries.has(entry.id) || (entry.seriesMasterId != null && repeatedSeries.has(entry.seriesMasterId));
    const toLookUp = entries.filter((entry) => unsure.has(entry.id) && !isOfReadSeries(entry));
    // PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach), each taking its share of the budget as it
    // starts, in the entries' order; the answers are settled in that order below.
    const answers = new Map(zip(toLookUp, await lookUpEach(toLookUp, (entry) => lookUp(() => this.#fetchEvent(calendarId, entry.id).catch((error: unknown) => {
      if (error instanceof UnreadableEvent) return error;
      throw error;
    })))));
    const settled: GraphEvent[] = [];
    for (const entry of entries) {
      if (!answers.has(entry)) {
        settled.push(entry);
        continue;
      }
      const now = answers.get(entry);
      if (now instanceof UnreadableEvent) {
        // Neither the event nor a sign that it is gone. Named only removed by the round, which is
        // what the lookup was to check, it is kept as stored (FetchResult.unreadable): Graph
        // answers 200 for it. Listed live too (named removed as well or not), the newest live
        // version stands, as past the lookup cap: the round's entries come in no order
        // (delta-query-overview), and event-delta documents an @removed for a merely changed event,
        // so the live one is as likely the news. Kept as stored instead, a moved or new meeting
        // would wait for the next new round, up to a day, its bot at the old time or missing; a
        // live version that was in fact deleted is looked up before its bot joins (#withGoneMeetings).
        const isKept = entry['@removed'] !== undefined;
        skipped.warnings.push(`${now.message}; ${isKept ? 'kept as stored' : 'the version the round lists stands'}`);
        if (isKept) skipped.unreadable.push(entry.id);
        else settled.push(entry);
        continue;
      }
      if (now === undefined) {
        settled.push(entry);
        continue;
      }
      if (now === null && !namedRemoved.has(entry.id) && stillNotFound(entry.id, 'the version the round lists stands')) {
        settled.push(entry);
        continue;
      }
      // A series master named removed although Graph still has it (its series changed outside the
      // window, as event-delta documents): left as named, for the series' instances to settle
      // (series-completeness.ts); read as live, the master would make the round its whole series.
      // Its answer completes the series' occurrences (#changesOf), which are not looked up again.
      if (entry['@removed'] && now?.type === 'seriesMaster') {
        looked.set(entry.id, now);
        settled.push(entry);
        continue;
      }
      noteFound(settling, entry.id);
      looked.set(entry.id, now);
      settled.push(now && isWithin(now, window) ? now : { id: entry.id, '@removed': { reason: 'deleted' } });
    }
    return { items: settled, looked, seriesInstances };
  }

  /**
   * A round's items as changes: occurrences completed from their masters, masters left out.
   * `parted`: the round was read in part (#lookUpMasters): the series done so far (mastersRead),
   * those this part completed from a master it looked up (completed), those left to a later part
   * (left), and the wait a limit asked for before the next part (continueAfterMs).
   */
  async #changesOf(calendarId: string, roundItems: GraphEvent[], window: { fromMs: number; toMs: number }, skipped: Skipped, readBefore: ReadBefore): Promise<{ changes: ProviderChange[]; completeSeries: string[]; misses: Pick<FetchResult, 'missedAgain' | 'foundAgain'>; parted: { mastersRead: string[]; completed: string[]; left: string[]; continueAfterMs?: number } | null }> {
    const settling: Settling = { missedBefore: readBefore.missedBefore, missed: [], found: new Set(), lookupsLeft: MAX_SETTLING_LOOKUPS };
    const { items, looked, seriesInstances } = await this.#settledItems(calendarId, roundItems, window, skipped, settling);
    // Masters looked up already are not looked up again.
    const masters = new Map<string, GraphEvent | null>([...looked].filter(([, event]) => event === null || event.type === 'seriesMaster'));
    const complete = new Set<string>();
    const removed = new Set<string>();
    const changes: ProviderChange[] = [];
    /** Occurrences the round lists live whose master Graph does not find, by series (see below). */
    const orphans = new Map<string, GraphEvent[]>();
    // A series read from Graph: its instances as Graph lists them, every other one of it gone.
    for (const [seriesId, instances] of seriesInstances) {
      complete.add(seriesId);
      if (instances === null) removed.add(seriesId);
      else changes.push(...instances);
    }
    for (const item of items) {
      if (item['@removed']) {
        // A removed id may be a series master; its instances are then gone with it.
        complete.add(item.id);
        removed.add(item.id);
      } else if (item.type === 'seriesMaster') {
        masters.set(item.id, item);
        complete.add(item.id);
      }
    }
    // A series read from Graph whose master came in the round too: its instances carry its rule.
    for (const [seriesId, instances] of seriesInstances) {
      const master = masters.get(seriesId);
      if (!master) continue;
      for (const change of instances ?? []) if (change.type === 'upsert' && change.event.seriesRule === undefined) change.event.seriesRule = seriesRuleOf(master);
    }
    // The masters of the series the round lists occurrences of and not the master, looked up
    // PROVIDER_LOOKUPS_AT_ONCE at a time, at most this.#masterLookups a read (#lookUpMasters).
    const seriesOf = (item: GraphEvent) => ((item.type === 'occurrence' || item.type === 'exception') && item.seriesMasterId ? item.seriesMasterId : null);
    const masterless = new Map<string, GraphEvent[]>();
    for (const item of items) {
      const seriesId = item['@removed'] || item.type === 'seriesMaster' ? null : seriesOf(item);
      if (seriesId === null || seriesInstances.has(seriesId) || masters.has(seriesId)) continue;
      masterless.set(seriesId, [...(masterless.get(seriesId) ?? []), item]);
    }
    const lookedUp = await this.#lookUpMasters(calendarId, masterless, removed, readBefore.mastersRead, readBefore.firstSeries);
    for (const [seriesId, master] of lookedUp.masters) masters.set(seriesId, master);
    // A series left to the round's next part (its master named removed, say) is not complete in
    // this one: its occurrences are kept as stored, and none of its stored instances goes.
    for (const seriesId of lookedUp.left) complete.delete(seriesId);
    for (const item of items) {
      if (item['@removed']) {
        changes.push({ type: 'removed', providerEventId: item.id });
        continue;
      }
      if (item.type === 'seriesMaster') continue;
      const seriesId = seriesOf(item);
      if (seriesId !== null && seriesInstances.has(seriesId)) {
        if (seriesInstances.get(seriesId) === null) changes.push({ type: 'removed', providerEventId: item.id });
        continue;
      }
      if (seriesId === null) {
        const change = toChange(item);
        if (change) changes.push(change);
        continue;
      }
      // Not looked up in this read (past its master lookups, or completed by an earlier part of
      // the round): an occurrence that carries its own data (calendarView gives every property)
      // is stored as listed, the series' rule left as stored; a bare one (a delta round's stub)
      // is kept as stored, for the round's next part to complete.
      if (!masters.has(seriesId)) {
        const change = item.subject !== undefined ? toChange(item, seriesId) : null;
        if (change) changes.push(change);
        else skipped.unreadable.push(item.id);
        continue;
      }
      const master = masters.get(seriesId)!;
      if (master !== null) noteFound(settling, seriesId);
      if (master === null) {
        // The round names the series removed: so are its instances.
        if (removed.has(seriesId)) {
          changes.push({ type: 'removed', providerEventId: item.id });
          continue;
        }
        // Graph lists the occurrence but not its master: not there yet (a GET of an event Graph
        // has just named answers ErrorItemNotFound at times: msgraph-sdk-java issue 1225), or
        // deleted since the round was read. Dropping the occurrences would lose a new series
        // until the next full round; the round is read again from the same delta link instead,
        // which then finds the master, or names the series removed. Once only (as for any id the
        // round lists live that Graph does not find, #settledItems): the second time, each of
        // the series' occurrences is settled on its own (#settledOrphans).
        orphans.set(seriesId, [...(orphans.get(seriesId) ?? []), item]);
        continue;
      }
      const change = toChange(completeFromMaster(item, master), seriesId, seriesRuleOf(master));
      if (change) changes.push(change);
    }
    for (const seriesId of orphans.keys()) settling.missed.push(seriesId);
    const firstMisses = settling.missed.filter((id) => !isMissedBefore(settling, id));
    if (firstMisses.length > 0) {
      const missed = [...new Set(settling.missed)];
      throw new NotFoundYet(missed, `${missed.map(notFoundYetMessage).join(' ')} which the round lists; the round is read again`, [...settling.found]);
    }
    if (orphans.size > 0) changes.push(...await this.#settledOrphans(calendarId, orphans, window, skipped, settling));
    // Bare occurrences of the series left were kept as stored: the round is read again, in parts.
    const kept = lookedUp.left.reduce((sum, seriesId) => sum + masterless.get(seriesId)!.filter((o) => o.subject === undefined).length, 0);
    const stop = lookedUp.stoppedBy;
    // Stopped by a limit or an outage with nothing kept for a next part (entries that carry their
    // own data), or before any lookup of this read was answered (a part that looks nothing up gets
    // the round no further: taken as read, it would be a sync that worked, again and again, while
    // Graph refuses every lookup): the read fails as any other lookup's would, and is tried again
    // after the wait, from the same place of the round.
    if (stop !== null && (kept === 0 || lookedUp.masters.size === 0)) throw stop;
    const completed = [...lookedUp.masters].flatMap(([seriesId, master]) => (master === null ? [] : [seriesId]));
    const continueAfterMs = stop?.failure.kind === 'rate_limited' ? stop.failure.retryAfterMs : undefined;
    const parted = kept === 0 ? null : { mastersRead: lookedUp.done, completed, left: lookedUp.left, ...(continueAfterMs === undefined ? {} : { continueAfterMs }) };
    if (stop !== null) skipped.warnings.push(`a series master lookup failed (${stop.failure.kind}: ${stop.failure.message}): ${lookedUp.masters.size} looked up, the rest left to the round's next part`);
    if (lookedUp.left.length > 0) {
      const why = stop !== null ? 'the lookups stopped' : `the round lists occurrences of ${masterless.size} series without their master, more than the ${this.#masterLookups} looked up in a read`;
      skipped.warnings.push(kept > 0
        ? `${why}: ${kept} occurrence(s) of ${lookedUp.left.length} series kept as stored, the round read again soon`
        : `${why}: those of ${lookedUp.left.length} series stored as listed, their series' rule left as stored`);
    }
    return { changes, completeSeries: [...complete], misses: missesOf(settling), parted };
  }

  /**
   * The masters of the series a round lists occurrences of without the master (GET .../events/{master},
   * learn.microsoft.com/graph/api/event-get; null when Graph answers 404), in the order the round
   * first lists them, those of `firstSeries` (the series of meetings whose bots join soon) before
   * the others, so that the part that checks those meetings (#withGoneMeetings) also brings their
   * series whole, and a bot whose occurrence moved follows it in that part. PROVIDER_LOOKUPS_AT_ONCE at a time and at most this.#masterLookups a read: the
   * series beyond are `left`, their occurrences kept as stored and read again in the round's next
   * part. Each part gets further: a series an earlier part looked up (`mastersRead`, by
   * seriesDigest) that the round lists the same again (the same occurrences, its master neither
   * listed nor named removed unless it was then too) is not looked up again, whatever that lookup
   * answered; its occurrences are kept as stored, as that part left them. Listed otherwise (an
   * occurrence added, moved or deleted since, its master named removed since), it is looked up as
   * any other. `done`: the digests of the series looked up by this part or an earlier one, for the
   * next part. A limit (429) or an outage on a lookup starts no further lookup; the others in
   * flight end and are kept (`stoppedBy`), the series not looked up are `left`. Any other failure
   * (an answer that is not an event: completed from it, the occurrences would lose their title
   * and link) fails the read.
   */
  async #lookUpMasters(calendarId: string, masterless: ReadonlyMap<string, readonly GraphEvent[]>, removed: ReadonlySet<string>, mastersRead: ReadonlySet<string>, firstSeries: ReadonlySet<string>): Promise<{ masters: Map<string, GraphEvent | null>; left: string[]; done: string[]; stoppedBy: CalendarProviderError | null }> {
    const done: string[] = [];
    const wanted: string[] = [];
    const digestOf = (seriesId: string) => seriesDigest(seriesId, masterless.get(seriesId)!, removed.has(seriesId));
    const order = [...masterless.keys()];
    for (const seriesId of [...order.filter((id) => firstSeries.has(id)), ...order.filter((id) => !firstSeries.has(id))]) {
      const digest = digestOf(seriesId);
      if (mastersRead.has(digest)) done.push(digest);
      else wanted.push(seriesId);
    }
    const now = wanted.slice(0, this.#masterLookups);
    let stoppedBy: CalendarProviderError | null = null;
    const found = await mapBounded(now, PROVIDER_LOOKUPS_AT_ONCE, async (seriesId): Promise<GraphEvent | null | undefined> => {
      if (stoppedBy !== null) return undefined;
      try {
        return await this.#fetchEvent(calendarId, seriesId);
      } catch (error) {
        if (!(error instanceof CalendarProviderError) || error instanceof UnreadableEvent || !isOutageOrLimit(error)) throw error;
        stoppedBy ??= error;
        return undefined;
      }
    });
    const masters = new Map<string, GraphEvent | null>();
    const left: string[] = [];
    now.forEach((seriesId, i) => {
      const answer = found[i];
      if (answer === undefined) left.push(seriesId);
      else {
        masters.set(seriesId, answer);
        done.push(digestOf(seriesId));
      }
    });
    return { masters, left: [...left, ...wanted.slice(this.#masterLookups)], done, stoppedBy };
  }

  /**
   * Occurrences a round lists live whose master Graph did not find at this read nor at the one
   * before (a lasting 404: msgraph-sdk-dotnet issue 2398 reports one of about two weeks; or the
   * series deleted while no delta round names it removed). Reading the round again each time
   * would keep every other change of the calendar out for as long. So each occurrence is looked
   * up by its own id (lookUpInstance, with the times the round lists it at): found (a GET gives
   * every property), it is what Graph answers, the series' rule left as stored; a 404 that
   * calendarView over its times agrees with, it is gone (its bot cancelled); listed there
   * although its GET answers 404, or past the read's MAX_SETTLING_LOOKUPS (settling.lookupsLeft), or refused for good, it is kept
   * as stored (FetchResult.unreadable), to be settled by a later round or the next new round of
   * the window. An outage or a limit fails the read, which is tried again.
   */
  async #settledOrphans(calendarId: string, orphans: ReadonlyMap<string, readonly GraphEvent[]>, window: { fromMs: number; toMs: number }, skipped: Skipped, settling: Pick<Settling, 'lookupsLeft'>): Promise<ProviderChange[]> {
    // The read's budget goes to the occurrences in the order the round lists their series, as one
    // by one; those within it are looked up PROVIDER_LOOKUPS_AT_ONCE at a time (lookUpEach), and
    // their answers used in that order, each series' warning before those of its occurrences.
    const all = [...orphans].flatMap(([seriesId, occurrences]) => occurrences.map((occurrence) => ({ seriesId, occurrence })));
    const looked = all.slice(0, Math.max(0, settling.lookupsLeft));
    settling.lookupsLeft -= looked.length;
    const answers = await lookUpEach(looked, async ({ seriesId, occurrence }): Promise<InstanceLookup | { kind: 'refused'; error: CalendarProviderError }> => {
      try {
        return await this.lookUpInstance(calendarId, seriesId, occurrence.id, window, listedTimesOf(occurrence));
      } catch (error) {
        if (!(error instanceof CalendarProviderError) || isOutageOrLimit(error)) throw error;
        return { kind: 'refused', error };
      }
    });
    const found = new Map(zip(looked.map((l) => l.occurrence), answers));
    const changes: ProviderChange[] = [];
    for (const [seriesId, occurrences] of orphans) {
      skipped.warnings.push(`Graph again did not find the series ${seriesId}, which the round lists live; its ${occurrences.length} listed occurrence(s) looked up each by its id`);
      for (const occurrence of occurrences) {
        const answer = found.get(occurrence);
        if (answer === undefined) skipped.unreadable.push(occurrence.id);
        else if (answer.kind === 'found') changes.push(answer.change);
        else if (answer.kind === 'gone') changes.push({ type: 'removed', providerEventId: occurrence.id });
        else {
          skipped.warnings.push(answer.kind === 'refused' ? `occurrence ${occurrence.id}: ${answer.error.failure.kind}: ${answer.error.failure.message}; kept as stored` : `${answer.warning}; kept as stored`);
          skipped.unreadable.push(occurrence.id);
        }
      }
    }
    return changes;
  }

  /**
   * The event (a series master, an occurrence, a single event) as Graph has it now, or null when it
   * no longer has it (404). An answer in a shape that cannot be read (graphEventProblem) throws
   * UnreadableEvent: each caller decides what that means, never taken as the event nor as gone.
   */
  async #fetchEvent(calendarId: string, eventId: string): Promise<GraphEvent | null> {
    let response: HttpResponse;
    try {
      response = await this.#request('GET', `${this.#calendarPath(calendarId)}/events/${encodeURIComponent(eventId)}`, undefined, { prefer: 'outlook.timezone="UTC"' });
    } catch (error) {
      if (error instanceof CalendarProviderError && error.failure.kind === 'not_found') return null;
      throw error;
    }
    const event = parseJson<unknown>(response, 'Graph event');
    const problem = graphEventProblem(event);
    if (problem !== null) throw new UnreadableEvent(eventId, problem);
    return event as GraphEvent;
  }

  async #subscribe(request: PushRequest): Promise<PushChannel> {
    const response = await this.#request('POST', `${this.#baseUrl}/subscriptions`, {
      changeType: 'created,updated,deleted',
      notificationUrl: request.address,
      lifecycleNotificationUrl: request.lifecycleAddress,
      resource: `me/calendars/${request.calendarId}/events`,
      expirationDateTime: new Date(request.nowMs + SUBSCRIPTION_MINUTES * 60_000).toISOString(),
      clientState: request.secret,
    });
    const answer = parseJson<{ id?: string; expirationDateTime?: string }>(response, 'Graph /subscriptions');
    if (!answer.id) throw new CalendarProviderError({ kind: 'permanent', message: 'Graph created a subscription without an id' });
    return { channelId: answer.id, resourceId: null, expiresAtMs: Date.parse(answer.expirationDateTime ?? '') || request.nowMs + SUBSCRIPTION_MINUTES * 60_000 };
  }

  async #extend(channel: PushChannel, request: PushRequest): Promise<PushChannel> {
    const response = await this.#request('PATCH', `${this.#baseUrl}/subscriptions/${encodeURIComponent(channel.channelId)}`, {
      expirationDateTime: new Date(request.nowMs + SUBSCRIPTION_MINUTES * 60_000).toISOString(),
    });
    const answer = parseJson<{ id?: string; expirationDateTime?: string }>(response, 'Graph /subscriptions');
    return { channelId: answer.id ?? channel.channelId, resourceId: null, expiresAtMs: Date.parse(answer.expirationDateTime ?? '') || request.nowMs + SUBSCRIPTION_MINUTES * 60_000 };
  }

  async #unsubscribe(channel: PushChannel): Promise<void> {
    try {
      await this.#request('DELETE', `${this.#baseUrl}/subscriptions/${encodeURIComponent(channel.channelId)}`);
    } catch (error) {
      if (error instanceof CalendarProviderError && error.failure.kind === 'not_found') return;
      throw error;
    }
  }

  async #request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}, round: 'incremental' | 'full' | null = null): Promise<HttpResponse> {
    // A lookup whose group was stopped (a 429 or a failure of another lookup of the read) sends
    // nothing more, and its request in flight is ended by the stop (sendForLookup). The token
    // endpoint's requests are not: a refresh may be shared with other requests, and its answer
    // (a rotated refresh token) is kept whatever the group does.
    throwIfLookupsStopped();
    let token = await this.#tokens.get();
    for (let attempt = 1; ; attempt++) {
      // Sent once a slot of the mailbox is free (MAILBOX_REQUESTS_AT_ONCE); a lookup stopped while
      // it waits sends nothing, and leaves the queue at once. The wait has the request's own
      // timeout for bound: behind other connections' requests to the mailbox (each up to that
      // timeout, a hung one included), a request could otherwise wait several of them before it
      // is even sent. One that waited so long fails as a timeout would (transient), having held
      // no slot.
      const response = await sendForLookup((stop) => this.#slots(() => this.#send({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: this.#timeoutMs,
        ...(stop ? { signal: stop } : {}),
      }), { stop, maxWaitMs: this.#timeoutMs }).catch((error: unknown) => {
        if (error instanceof SlotWaitEnded) throw new CalendarProviderError({ kind: 'transient', message: 'Graph: not sent, its lookup stopped while it waited for a free request of the mailbox' });
        if (error instanceof SlotWaitTimedOut) {
          throw new CalendarProviderError({ kind: 'transient', message: `Graph: not sent, it waited ${error.waitedMs} ms for one of the mailbox's ${MAILBOX_REQUESTS_AT_ONCE} request slots, all held by other requests to it` });
        }
        throw error;
      }));
      if (isSuccess(response)) return response;
      if (response.status === 401 && attempt === 1) {
        token = await this.#tokens.renew(token);
        continue;
      }
      if (response.status === 401) throw refusedFreshToken('Graph');
      throw this.#failure(response, round, method === 'POST' && url === `${this.#baseUrl}/subscriptions`);
    }
  }

  #failure(response: HttpResponse, round: 'incremental' | 'full' | null, isNewSubscription = false): Error {
    let code = '';
    let detail = '';
    try {
      const error = (JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } }).error;
      code = typeof error?.code === 'string' ? error.code : '';
      detail = typeof error?.message === 'string' ? error.message : '';
    } catch {
      // judged by status alone
    }
    const message = `Graph: HTTP ${response.status}${code ? ` ${code}` : ''}`;
    // A 4xx refuses the call (nothing done); a 5xx may come after Graph acted, Retry-After or not
    // (a 503/504 naming a wait is still no refusal).
    const answered = { isRefusal: isRefusalStatus(response.status) };
    // A subscription Graph never creates on this calendar. Delegated permissions subscribe only to
    // folders of the signed-in user's own mailbox; a calendar shared by (or delegated from) another
    // mailbox takes subscriptions with application permissions alone, which Rollcall does not use
    // (learn.microsoft.com/graph/outlook-change-notifications-overview, "Request permissions";
    // learn.microsoft.com/graph/outlook-get-shared-events-calendars). Graph refuses such a creation
    // with 403 ExtensionError "Operation: Create; Exception: [Status Code: Forbidden; Reason:
    // Forbidden]" (microsoft-graph-docs issue 3436; issue 3510, where Microsoft answers that a
    // shared calendar takes subscriptions with application permissions only). Only that reason:
    // the same code and status with "Reason: Maximum number of subscriptions has been reached"
    // (microsoft-graph-docs issue 21403) is the mailbox's limit of 1,000 subscriptions, which frees
    // up as subscriptions expire, and stays asked again at the next sync like every other failure
    // (a ValidationError is Rollcall's own endpoint not answering the check; a 5xx, a 429).
    if (isNewSubscription && response.status === 403 && code === 'ExtensionError' && /\[Status Code:\s*Forbidden;\s*Reason:\s*Forbidden\s*\]/i.test(detail)) {
      return new PushNotSupported(`${message}: Graph takes no subscription on this calendar with delegated permissions (a calendar of another mailbox)`);
    }
    const isSyncStateLost = round !== null && (response.status === 410 || /^(syncStateNotFound|syncStateInvalid|resyncRequired)$/i.test(code));
    if (isSyncStateLost && round === 'incremental') return new DeltaExpired();
    // Lost in the middle of a full round (a page link expired): the next attempt starts over.
    if (isSyncStateLost) return new CalendarProviderError({ kind: 'transient', message }, answered);
    if (response.status === 429 || ((response.status === 503 || response.status === 504) && response.headers['retry-after'])) {
      return new CalendarProviderError({ kind: 'rate_limited', retryAfterMs: parseRetryAfterMs(response.headers, this.#now()) ?? DEFAULT_RATE_LIMIT_WAIT_MS, message }, answered);
    }
    if (response.status === 403 && /ErrorAccessDenied|Authorization_RequestDenied|AccessDenied/i.test(code)) {
      return new CalendarProviderError({ kind: 'auth_revoked', message }, answered);
    }
    // A mailbox without an Exchange Online licence (taken away, or never given), inactive,
    // soft-deleted or on-premises: Graph answers 404 MailboxNotEnabledForRESTAPI ("REST API is not
    // yet supported for this mailbox": O365/python-o365 issue 588; "The mailbox is either inactive,
    // soft-deleted, or is hosted on-premise": msgraph-sdk-javascript issue 1756). The token still
    // works, but Rollcall can no longer see the meetings: lost access, handled as a revocation and
    // probed until the licence is back.
    if (/^MailboxNotEnabledForRESTAPI$/i.test(code)) return new CalendarProviderError({ kind: 'auth_revoked', message }, answered);
    return new CalendarProviderError({ ...failureFromStatus(response, this.#now(), 'Graph'), message }, answered);
  }
}

/** Graph no longer knows the delta token: a new round (full sync) is needed. */
class DeltaExpired extends Error {
  override name = 'DeltaExpired';
}

/**
 * Graph answered a GET of one event (200) with something that is not an event: not an object, no
 * string id, or no start or end with a dateTime string (every event has all three: the event
 * resource, learn.microsoft.com/graph/api/resources/event). Transient where it fails a read.
 */
class UnreadableEvent extends CalendarProviderError {
  override name = 'UnreadableEvent';

  constructor(eventId: string, problem: string) {
    super({ kind: 'transient', message: `Graph answered the lookup of event ${eventId} with ${problem}` });
  }
}

/** Whether Graph's event starts and ends at the stored times (an end it lacks is its start). */
function sameTimes(event: GraphEvent, stored: { startMs: number; endMs: number }): boolean {
  const startMs = graphTimeMs(event.start);
  return startMs === null || (startMs === stored.startMs && (graphTimeMs(event.end) ?? startMs) === stored.endMs);
}

/** The times a round lists an occurrence at (its end its start when it has none readable). */
function listedTimesOf(occurrence: GraphEvent): { startMs: number; endMs: number } {
  const startMs = graphTimeMs(occurrence.start)!;
  return { startMs, endMs: graphTimeMs(occurrence.end) ?? startMs };
}

/** Each item with its answer, in order. */
function zip<T, R>(items: readonly T[], answers: readonly R[]): [T, R][] {
  return items.map((item, index) => [item, answers[index] as R]);
}

/** An outage or a limit (429): a failure that passes, after which the read is tried again rather than settled without the answer. */
function isOutageOrLimit(error: unknown): boolean {
  return error instanceof CalendarProviderError && (error.failure.kind === 'transient' || error.failure.kind === 'rate_limited');
}

/** How a failed read names an id the round lists that Graph did not find (the ids themselves go in NotFoundYet.ids). */
function notFoundYetMessage(eventId: string): string {
  return `Graph did not find ${eventId},`;
}

/** What a read is given from the ones before it: the ids the last one missed, the series a round read in parts has done. */
/**
 * `firstSeries`: the series of the meetings whose bots join soon (FetchContext.confirm), whose
 * masters are looked up before the others (#lookUpMasters).
 */
type ReadBefore = Pick<Settling, 'missedBefore'> & { mastersRead: ReadonlySet<string>; firstSeries: ReadonlySet<string> };

/**
 * A series and its occurrences as a round lists them without their master (ids, kinds, times),
 * and whether the round names its master removed, as a short digest (DeltaCursor.mastersRead):
 * the same only when the round lists the series the same way.
 */
function seriesDigest(seriesId: string, occurrences: readonly GraphEvent[], isNamedRemoved: boolean): string {
  const listed = [...occurrences].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((o) => JSON.stringify(o));
  return createHash('sha256').update(JSON.stringify([seriesId, isNamedRemoved, listed])).digest('base64url').slice(0, 22);
}

/** What a read knows of the one before it (see #settledItems), and the ids it did not find. */
interface Settling {
  /** FetchContext.missedBefore: the ids the last read failed for not finding. */
  missedBefore: ReadonlySet<string>;
  /** Ids the round lists live that Graph did not find in this read (a master, an event, an instance). */
  missed: string[];
  /** Of missedBefore, the ids this read found (or settled as gone): FetchResult.foundAgain. */
  found: Set<string>;
  /** Lookups left to this read for settling (MAX_SETTLING_LOOKUPS, shared by #settledItems and #settledOrphans). */
  lookupsLeft: number;
}

/** An id of missedBefore found (or settled as gone) in this read. */
function noteFound(settling: Settling, id: string): void {
  if (settling.missedBefore.has(id)) settling.found.add(id);
}

/** What a read reports of the ids it did not find before (FetchResult.missedAgain and foundAgain). */
function missesOf(settling: Settling): Pick<FetchResult, 'missedAgain' | 'foundAgain'> {
  const missed = [...new Set(settling.missed)];
  return { ...(missed.length > 0 ? { missedAgain: missed } : {}), ...(settling.found.size > 0 ? { foundAgain: [...settling.found] } : {}) };
}

/** Whether the read before this one failed for not finding `id` too: this is its second miss. */
function isMissedBefore(settling: Pick<Settling, 'missedBefore'>, id: string): boolean {
  return settling.missedBefore.has(id);
}

/** Graph served the same page of a round again and again: the round would never end. */
class DeltaLooped extends Error {
  override name = 'DeltaLooped';
}

/** Entries of a read left out, and why. */
interface Skipped {
  warnings: string[];
  /** Ids of those that have one: left as stored (FetchResult.unreadable). */
  unreadable: string[];
  /** How many had no id. */
  idless: number;
}

function noneSkipped(): Skipped {
  return { warnings: [], unreadable: [], idless: 0 };
}

/** Some entry was skipped without an id: it could have been any stored event. */
function hasIdless(skipped: Skipped): boolean {
  return skipped.idless > 0;
}

function skippedOf(skipped: Skipped): Pick<FetchResult, 'warnings' | 'unreadable'> {
  return { ...(skipped.unreadable.length > 0 ? { unreadable: skipped.unreadable } : {}), ...(skipped.warnings.length > 0 ? { warnings: skipped.warnings } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A page of a Graph collection as documented: an object whose `value` is an array, with links
 * that are strings when present. Anything else fails the read as transient, writing nothing.
 */
function checkedPage<T>(page: unknown, what: string): GraphPage<T> & { value: unknown[] } {
  const malformed = (why: string) => new CalendarProviderError({ kind: 'transient', message: `${what} answered ${why}; nothing of the read is applied` });
  if (!isRecord(page) || !Array.isArray(page.value)) throw malformed('without a value list');
  for (const link of ['@odata.nextLink', '@odata.deltaLink'] as const) {
    if (page[link] !== undefined && (typeof page[link] !== 'string' || page[link] === '')) throw malformed(`an ${link} that is not a link`);
  }
  return page as unknown as GraphPage<T> & { value: unknown[] };
}

/** The entries of a page Graph listed in a shape that can be read; the others skipped, each with a warning. */
function readableItems(value: readonly unknown[], skipped: Skipped): GraphEvent[] {
  const items: GraphEvent[] = [];
  for (const item of value) {
    const problem = graphItemProblem(item);
    if (problem === null) {
      items.push(item as GraphEvent);
      continue;
    }
    skipped.warnings.push(problem.message);
    if (problem.id !== null) skipped.unreadable.push(problem.id);
    else skipped.idless += 1;
  }
  return items;
}

/**
 * Why one entry of a Graph page cannot be read, or null when it can: not an object, an id that is
 * not a string (id-less entries would all be one event), a start or end whose dateTime or
 * timeZone is not a string, or (an entry not @removed) no start that reads as a time. `id`: the
 * entry's id when it has one.
 */
export function graphItemProblem(item: unknown): { id: string | null; message: string } | null {
  if (!isRecord(item) || typeof item.id !== 'string' || item.id === '') return { id: null, message: 'Graph listed an event without an id; skipped' };
  if (isOverlongEventId(item.id) || isOverlongEventId(item.seriesMasterId)) return { id: item.id, message: `Graph listed an event whose id is over ${MAX_PROVIDER_EVENT_ID_BYTES} bytes; skipped` };
  for (const field of ['start', 'end'] as const) {
    const value = item[field];
    if (value === undefined || value === null) continue;
    if (!isRecord(value) || (value.dateTime !== undefined && value.dateTime !== null && typeof value.dateTime !== 'string') || (value.timeZone !== undefined && value.timeZone !== null && typeof value.timeZone !== 'string')) {
      return { id: item.id, message: `Graph listed event ${item.id} with a ${field} that is not a date and time; skipped, kept as stored` };
    }
  }
  // A live entry (not @removed) whose start cannot be read as a time (none, or text that is no
  // date): read, it would make no change, and a full read would take the event as gone.
  if (!item['@removed'] && graphTimeMs(item.start as GraphDate | undefined) === null) {
    return { id: item.id, message: `Graph listed event ${item.id} without a start it can read; skipped, kept as stored` };
  }
  return null;
}

/**
 * Why an event Graph answered to a GET cannot be read, or null when it can: what graphItemProblem
 * checks of a listed entry, and besides a start and an end that each read as a time, which a
 * listed @removed entry lacks but an event never does.
 */
export function graphEventProblem(event: unknown): string | null {
  if (!isRecord(event) || typeof event.id !== 'string' || event.id === '') return 'something that is not an event with an id';
  if (isOverlongEventId(event.id) || isOverlongEventId(event.seriesMasterId)) return `an id over ${MAX_PROVIDER_EVENT_ID_BYTES} bytes`;
  for (const field of ['start', 'end'] as const) {
    const value = event[field];
    if (!isRecord(value) || typeof value.dateTime !== 'string' || (value.timeZone !== undefined && value.timeZone !== null && typeof value.timeZone !== 'string') || graphTimeMs(value as GraphDate) === null) {
      return `a ${field} that is not a date and time`;
    }
  }
  return null;
}

/**
 * Graph dateTimes come without an offset, in the zone named beside them: UTC, as every request
 * asks (Prefer: outlook.timezone="UTC"). Graph applies that header to reads (GET and lists, as
 * Microsoft's writers answered in microsoft-graph-docs issues 116 and 8755); the reports of it
 * ignored (microsoft-graph-docs-contrib issues 5029 and 8645) are of the answers to an update
 * and a create, which Rollcall does not make. So a dateTime in another zone, named beside it
 * (often a Windows one, "W. Europe Standard Time"), is not expected: it is read rightly all the
 * same, a safeguard against a proxy or a Graph change that drops the header. Such a wall time is placed in its zone with the zone's
 * rules at that date (Temporal): a time the clocks skip when summer time starts reads as the same
 * length of time later, and a time that comes twice when it ends as the first of the two.
 */
export function graphTimeMs(value: GraphDate | undefined): number | null {
  if (typeof value?.dateTime !== 'string' || value.dateTime === '') return null;
  const text = value.dateTime.replace(/(\.\d{3})\d*$/, '$1');
  const zone = value.timeZone ?? 'UTC';
  if (/^(UTC|Etc\/UTC|GMT)$/i.test(zone) || /(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`);
    return Number.isFinite(ms) ? ms : null;
  }
  const iana = ianaZoneOf(zone);
  if (!iana) return null;
  try {
    return Temporal.PlainDateTime.from(text).toZonedDateTime(iana, { disambiguation: 'compatible' }).epochMilliseconds;
  } catch {
    // Not a date and time (or a zone Temporal does not know).
    return null;
  }
}

/**
 * An occurrence or exception with the master's data under its own: a bare occurrence takes the
 * master's title, body, location, meeting link, iCalUId, organizer and attendees; an exception
 * keeps every field it carries. Times and identity are always the instance's own.
 */
export function completeFromMaster(item: GraphEvent, master: GraphEvent): GraphEvent {
  const { id: _id, type: _type, start: _start, end: _end, recurrence: _recurrence, '@odata.etag': _etag, ...inherited } = master as GraphEvent & { '@odata.etag'?: string };
  return { ...inherited, ...item };
}

/**
 * A delta round's items, one entry per event id. Graph may list an entity more than once in a
 * round, anywhere in its pages, and says not to assume any order (learn.microsoft.com/graph/
 * delta-query-overview: "A single entity can be contained multiple times in the response", and
 * "Don't assume a specific sequence of the responses"), so the position of an entry says nothing
 * of which is newer. Versions that are the same: one. Versions that differ, each with its
 * lastModifiedDateTime: the one modified last. Otherwise (one without a time, as occurrences come
 * bare, an id named both removed and not, or named removed only): `unsure`, to be looked up, so
 * that a stale copy neither brings back a deleted meeting nor a stray @removed cancels a live one. `repeatedSeries`:
 * the series with an id listed more than once (its master or an instance): a stale copy of the
 * series may carry an occurrence deleted since, which no entry names removed, so the series'
 * instances are to be read from Graph. Entries keep the place of the event's first one.
 */
export function oneEntryPerEvent(items: readonly GraphEvent[]): { entries: GraphEvent[]; unsure: Set<string>; repeatedSeries: Set<string> } {
  const byId = new Map<string, GraphEvent[]>();
  for (const item of items) {
    const versions = byId.get(item.id);
    if (versions) versions.push(item);
    else byId.set(item.id, [item]);
  }
  const unsure = new Set<string>();
  const repeatedSeries = new Set<string>();
  const entries: GraphEvent[] = [];
  for (const [id, versions] of byId) {
    const live = versions.filter((v) => !v['@removed']);
    if (versions.length > 1) {
      const series = live.find((v) => v.type === 'seriesMaster')?.id ?? live.find((v) => v.seriesMasterId)?.seriesMasterId;
      if (series) repeatedSeries.add(series);
    }
    if (live.length === 0) {
      // Named only removed: Graph has been seen to name live, merely changed events so
      // (microsoft-graph-docs issues 10243 and 4659), so it is looked up before its bot is cancelled.
      entries.push(versions.at(-1)!);
      unsure.add(id);
      continue;
    }
    const distinct = new Set(live.map((v) => JSON.stringify(v)));
    if (live.length < versions.length || (distinct.size > 1 && live.some((v) => Number.isNaN(Date.parse(v.lastModifiedDateTime ?? ''))))) unsure.add(id);
    const modifiedMs = (v: GraphEvent) => Date.parse(v.lastModifiedDateTime ?? '') || -Infinity;
    entries.push(live.reduce((newest, v) => (modifiedMs(v) >= modifiedMs(newest) ? v : newest)));
  }
  return { entries, unsure, repeatedSeries };
}

/**
 * Whether an event looked up is in a round's window: a master always (its series may reach in);
 * an event whose start cannot be read is kept (toChange leaves it alone). An all-day event's times
 * come as midnight in UTC whatever its zone, while the window is filtered on its real time: a day
 * of slack either side.
 */
function isWithin(event: GraphEvent, window: { fromMs: number; toMs: number }): boolean {
  if (event.type === 'seriesMaster') return true;
  const startMs = graphTimeMs(event.start);
  if (startMs === null) return true;
  const endMs = graphTimeMs(event.end) ?? startMs;
  const slack = event.isAllDay ? DAY_MS : 0;
  return startMs < window.toMs + slack && endMs > window.fromMs - slack;
}

/**
 * A series master's pattern as one RRULE line (null when it cannot be written as one). Graph's
 * recurrenceTimeZone is often a Windows zone name; the master's own zone stands in when it is absent.
 */
function seriesRuleOf(master: GraphEvent): string | null {
  // Worked out once per master object: a round applies it to each of the series' occurrences.
  let rule = RULES_OF_MASTERS.get(master);
  if (rule === undefined) {
    rule = rruleOfGraphRecurrence(master.recurrence, { timeZone: ianaZoneOf(master.originalStartTimeZone), resolveTimeZone: ianaZoneOf, isAllDay: master.isAllDay === true });
    RULES_OF_MASTERS.set(master, rule);
  }
  return rule;
}

const RULES_OF_MASTERS = new WeakMap<GraphEvent, string | null>();

/**
 * One item as a change. `seriesRule`: the rule of the series an occurrence or exception belongs
 * to (seriesRuleOf its master), undefined when its master was not read.
 */
export function toChange(item: GraphEvent, seriesId: string | null = null, seriesRule?: string | null): ProviderChange | null {
  if (item['@removed']) return { type: 'removed', providerEventId: item.id };
  // A master only repeats its first occurrence, which arrives on its own.
  if (item.type === 'seriesMaster') return null;
  const startMs = graphTimeMs(item.start);
  if (startMs === null) return null;
  const endMs = graphTimeMs(item.end) ?? startMs;
  const body = textOrNull(item.body?.content);
  const location = textOrNull(item.location?.displayName);
  const bodyLink = body ? findMeetingLink(body)?.url ?? null : null;
  return {
    type: 'upsert',
    event: {
      providerEventId: item.id,
      title: textOrNull(item.subject),
      description: textOrNull(item.bodyPreview),
      location,
      startMs,
      endMs,
      timeZone: ianaZoneOf(item.originalStartTimeZone),
      isAllDay: item.isAllDay === true,
      // A Teams meeting Outlook may have added by itself yields to a Zoom, Meet... link the organiser wrote (conferenceLinkToFollow).
      conferenceUrl: conferenceLinkToFollow({ conferenceUrl: textOrNull(item.onlineMeeting?.joinUrl) ?? textOrNull(item.onlineMeetingUrl), calendarPlatform: 'microsoft_teams', location, description: body }) ?? bodyLink,
      recurrence: null,
      seriesProviderEventId: null,
      originalStartMs: null,
      providerSeriesId: seriesId,
      seriesRule: seriesId === null ? null : seriesRule,
      // Graph has no tentative meeting (Google's status: tentative): showAs is how the time shows
      // as free/busy, `tentative` on every invitation not yet answered (Graph eventMessage resource).
      status: item.isCancelled ? 'cancelled' : 'confirmed',
      isDeclined: item.responseStatus?.response === 'declined',
      raw: item,
    },
  };
}
