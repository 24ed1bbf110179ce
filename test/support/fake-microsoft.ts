// A local stand-in for the Microsoft identity platform token endpoint and Microsoft Graph v1.0.
// Every behaviour it simulates cites its source beside the code that simulates it. In short:
// /me, /me/calendars (several calendars per account), calendarView delta per calendar (windowed,
// paged, ending in a deltaLink; series masters with bare occurrences; no @removed for a deleted
// occurrence; 410 SyncStateNotFound for an evicted token; on demand, a round that loops), the
// plain calendarView of a window, GET of one event (the way to complete an occurrence from its
// master; 404 once the series is gone), the instances of a series in a range, subscriptions with the validation
// handshake (refused on a calendar of another mailbox), PATCH and DELETE, and change and lifecycle
// notifications with clientState.
// Tests drive it to create, move, cancel and recur events, revoke tokens and fail requests, and,
// beyond what Graph documents, to answer in shapes a proxy or a fault could (an entry without its
// id, a numeric start, an id too long to store, a lookup answered 200 with no event), each marked so.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import type { Deliver } from './fake-google.ts';

interface Item {
  id: string;
  calendarId: string;
  subject: string;
  startMs: number;
  endMs: number;
  location: string;
  timeZone: string;
  isCancelled: boolean;
  joinUrl: string | null;
  /** A weekly series of this many occurrences; 0 for a single event. */
  weeklyCount: number;
  /** Per occurrence index: moved, or deleted. */
  exceptions: Map<number, { startMs: number; endMs: number } | 'deleted'>;
  isDeleted: boolean;
  version: number;
  /** When it last changed: its lastModifiedDateTime (learn.microsoft.com/graph/api/resources/event). */
  modifiedAtMs: number;
  /** An invitation: someone else organizes it and the account's owner answered (or not). */
  invitation: Invitation | null;
  /** Guests besides the owner (and the organizer); a room has type resource. */
  attendees: { address: string; type?: 'required' | 'optional' | 'resource' }[];
  /** An all-day event: its start and end are midnights (learn.microsoft.com/graph/api/resources/event, isAllDay). */
  isAllDay: boolean;
  /** What its iCalUId is made from: its first id, kept when a move to another calendar gives it a new one. */
  uidSeed?: string;
}

/** The owner's answer to someone else's meeting, in Graph's words (responseStatus.response). */
interface Invitation {
  organizer: string;
  response: 'none' | 'notResponded' | 'tentativelyAccepted' | 'accepted' | 'declined';
}

interface Account {
  email: string;
  userId: string;
  clientId: string;
  clientSecret: string;
  refreshTokens: Set<string>;
  latestRefreshToken: string;
  isRevoked: boolean;
  /** The app's client secret has expired (expireClientSecret). */
  isSecretExpired?: boolean;
  /** The default calendar's id. */
  calendarId: string;
  calendars: Map<string, FakeCalendar>;
  items: Map<string, Item>;
}

interface FakeCalendar {
  id: string;
  name: string;
  isDefaultCalendar: boolean;
  canEdit: boolean;
  ownerAddress: string;
  hexColor?: string;
  /** Listed, but its events cannot be read with the user's token (refuseReads). */
  refusesReads?: boolean;
  /** Its next this many event reads answer 503 (failReadsOf). */
  failingReads?: number;
  /** Takes no subscription, as a calendar of another mailbox (refuseSubscriptions). */
  refusesSubscriptions?: boolean;
}

interface Subscription {
  id: string;
  email: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | undefined;
  resource: string;
  changeType: string;
  expiration: number;
  isDeleted: boolean;
}

/** What is left of a delta round: its groups of items, and how many pages it has served. */
interface DeltaPages {
  groups: unknown[][];
  state: DeltaState;
  pageSize: number;
  path: string;
  served?: number;
}

interface DeltaState {
  email: string;
  calendarId: string;
  fromMs: number;
  toMs: number;
  /** What the client has seen: id -> serialized item. */
  seen: Map<string, string>;
  epoch: number;
  /** Ids named @removed outside the window in the round that followed this state (the same on a re-read of its token). */
  removedOutside?: string[];
  /** Ids listed once more in the round that followed this state (listAgainInNextRound; the same on a re-read). */
  listedAgain?: { id: string; as: 'removed' | 'earlier'; where: 'first' | 'last' }[];
}

// Outlook event subscriptions: at most 4,230 minutes ahead (the lifetime table of
// learn.microsoft.com/graph/api/resources/subscription as archived; newer copies say 10,080: the
// adapter asks for less than either and stores what Graph answers).
const MAX_SUBSCRIPTION_MINUTES = 4230;

// Graph's Outlook limit of requests one app may have in flight to one mailbox at once
// (learn.microsoft.com/graph/throttling-limits#outlook-service-limits: "4 concurrent requests").
// One more is answered 429 with code ApplicationThrottled, "Application is over its
// MailboxConcurrency limit." (the answer quoted in alcionai/corso issue 3695 and
// magodo/terraform-provider-outlook issue 21), with a Retry-After as 429s carry
// (learn.microsoft.com/graph/throttling, "Best practices to handle throttling").
const MAILBOX_CONCURRENCY = 4;

export class FakeMicrosoftGraph {
  readonly requests: { method: string; path: string; query: URLSearchParams; status: number; prefer: string | undefined }[] = [];
  readonly subscriptions: Subscription[] = [];
  readonly notifications: { subscriptionId: string; kind: string; status: number }[] = [];
  /**
   * How many of the next POST /subscriptions make their subscription and then reset the
   * connection instead of answering 201: a call carried out whose answer never reaches the caller
   * (Graph documents none; any HTTP call can lose its answer after the server acted). The
   * subscription lives on until DELETE /subscriptions/{id}
   * (learn.microsoft.com/graph/api/subscription-delete) or its expirationDateTime, and its
   * notifications carry subscriptionId and clientState (learn.microsoft.com/graph/api/resources/changenotification).
   */
  loseSubscriptionAnswers = 0;
  /**
   * The next POST /subscriptions makes its subscription, then answers this 5xx (with a Retry-After
   * when given) instead of 201: a gateway that stopped waiting for the service behind it, which did
   * the work. Graph lists 504 Gateway Timeout (a proxy not answered in time by the server behind
   * it) and 503 with a Retry-After among its answers (learn.microsoft.com/graph/errors, "HTTP
   * status codes"), and says nothing of whether the work was done: a caller cannot tell.
   */
  failSubscriptionAfterMaking: { status: number; retryAfterSeconds?: number } | null = null;
  /**
   * While set, DELETE /subscriptions/{id} answers this status and the subscription lives on until
   * its expirationDateTime: Graph answers 500/503 to any request now and then
   * (learn.microsoft.com/graph/errors, "HTTP status codes").
   */
  failingDeletes: number | null = null;
  /** Refresh tokens the token endpoint was called with, in order. */
  readonly usedRefreshTokens: string[] = [];
  /** Ids fetched with GET .../events/{id} (how the adapter completes occurrences from their master). */
  readonly eventLookups: string[] = [];
  /** Series whose instances were listed with GET .../events/{id}/instances. */
  readonly instanceLookups: string[] = [];
  /**
   * Each GET of one event, or of a series' list of instances, is answered this many (real) milliseconds after it arrives. Not a Graph
   * behaviour: a test control, so that requests a client makes side by side are in flight
   * together and the mailbox's concurrency limit (MAILBOX_CONCURRENCY) can be met.
   */
  eventLookupDelayMs = 0;
  /**
   * While set and not yet met, each GET of one event is held in flight until `count` such GETs are
   * held together (then all of them go on, and later ones are not held), or for `maxMs` at most.
   * `met` says whether the count was reached, `tokens` the access tokens of the GETs held then
   * (one per client that refreshed its own). Not a Graph behaviour: a test control, so that
   * requests of two clients are known to be in flight together, whatever the timing.
   */
  holdEventLookups: { count: number; maxMs: number; met: boolean; tokens: string[] } | null = null;
  readonly #held: { token: string; release: () => void }[] = [];
  /** The most requests of one mailbox in flight at once, and how many were refused for going past MAILBOX_CONCURRENCY. */
  readonly concurrency = { most: 0, refused: 0 };
  readonly #inFlight = new Map<string, number>();
  /**
   * Series whose next listings of instances answer 503 serviceNotAvailable (a transient failure
   * to retry, learn.microsoft.com/graph/errors; event-list-instances can meet it as any request
   * can, learn.microsoft.com/en-us/graph/api/event-list-instances), by provider
   * series id, and how many more (failInstanceListsOf). Per series, not a count shared by the whole
   * fake: on a shared Rollcall every connection due in a runDue syncs, and another account's lookup
   * (a split check kept open for an hour, a usual 30-minute read) would otherwise take the failure
   * meant for the test's own series. A 503 on Graph is an answer to one request.
   */
  readonly failingInstanceLists = new Map<string, number>();
  /**
   * The list of a series' instances leaves out its exceptions (occurrences moved or edited),
   * answering its plain occurrences only. event-list-instances documents "the occurrences and
   * exceptions", but clients report getting the occurrences alone (microsoft-graph-docs issue
   * 15611, open: "I only get the occurrences but no exceptions", copied as
   * microsoft-graph-docs-contrib issue 540; earlier issue 4294, contrib 7293, where a Microsoft
   * writer answered that she did get exceptions). Both behaviours exist: off by default (as
   * documented), on for the tests that must hold under either.
   */
  instancesOmitExceptions = false;
  /**
   * Series whose list of instances also lists one more occurrence whose id is over 2,000 bytes.
   * Not seen from Graph, whose event ids run to about 150 characters (those of
   * learn.microsoft.com/graph/api/event-list-instances, "Response"); it stands for an id past
   * the length Rollcall can store, to check that one such instance does not fail its series.
   */
  readonly overlongInstanceIn = new Set<string>();
  /**
   * Events (occurrences among them) listed with a start whose dateTime is a number, in delta
   * rounds and in their series' list of instances alike. Not a behaviour Graph documents: a
   * start is a dateTimeTimeZone whose dateTime is a string (learn.microsoft.com/graph/api/
   * resources/datetimetimezone); it stands for an entry a proxy or a fault mangled.
   */
  readonly numericStartOf = new Set<string>();
  /**
   * Events (occurrences among them) listed with a start in the zone "tzone://Microsoft/Custom", in
   * delta rounds and in their series' list of instances alike. The adapter asks for every time in
   * UTC (Prefer: outlook.timezone, learn.microsoft.com/graph/api/event-get, "Support various time
   * zones"); Graph documents that a GET or a list honours it, and no source found shows a start
   * listed in another zone under it. The zone name itself is Graph's for a custom zone set in
   * Outlook desktop (the event resource's originalStartTimeZone, added in microsoft-graph-docs PR
   * 812), and clients reading calendars through Graph meet it (phw198/OutlookGoogleCalendarSync
   * issue 2148; issue 2339 sees it on events accepted from invitations), neither saying in which
   * field nor under which Prefer header. So this is a test control, not documented behaviour: a
   * start the adapter cannot place in time.
   */
  readonly customZoneStartOf = new Set<string>();
  outage: { status: number; retryAfterSeconds?: number } | null = null;
  readonly failNext: { status: number; code: string; retryAfterSeconds?: number }[] = [];
  /**
   * A test control: once `after` more GETs of one event have been answered, each further one is
   * answered 429 with a Retry-After of `retryAfterSeconds` until this is set back to null, as Graph
   * throttles a mailbox's requests past its limits (learn.microsoft.com/graph/throttling: 429 Too
   * Many Requests with a Retry-After header; the code ApplicationThrottled as alcionai/corso issue
   * 3695 quotes it).
   */
  throttleEventLookups: { after: number; retryAfterSeconds: number } | null = null;
  readonly #removedOutsideWindow = new Map<string, string[]>();
  readonly #unannouncedDeletions = new Set<string>();
  readonly #missedLookups = new Map<string, number>();
  readonly #missedInstanceLists = new Map<string, number>();
  readonly #listedWithoutId = new Map<string, string[]>();
  readonly #alwaysWithoutId = new Map<string, Set<string>>();
  readonly #oddLookups = new Map<string, unknown>();
  readonly #listedAgain = new Map<string, { id: string; as: 'removed' | 'earlier'; where: 'first' | 'last' }[]>();
  /**
   * The first round of a window leaves series masters out, bringing their occurrences and
   * exceptions only: Graph did so for a meeting poll's series (microsoft-graph-docs issue 2182,
   * where Microsoft answered that a calendar view expands a series into its instances and names
   * the master only by seriesMasterId). Off by default: other clients find the master in the
   * round, with its own first dates, for series begun long before the window (keeper.sh PRs 409
   * and 410). On for the tests of an occurrence whose master must be looked up.
   */
  firstRoundsOmitMasters = false;
  /** Page size when the client sends no Prefer: odata.maxpagesize. */
  defaultPageSize = 10;
  /** Graph may send smaller pages than asked; a small cap makes every round page. */
  pageSizeCap = Infinity;
  /**
   * From this page of a delta round on (1 = the first), Graph serves that same page again at
   * every nextLink, each time with a new link and never a deltaLink: the loop reported on
   * mailboxes with many series (msgraph-sdk-dotnet issue 3082: "the full page payload repeats
   * unchanged except for the @odata.nextLink value"; issue 3070, labelled a service issue).
   * Null: rounds end as documented.
   */
  loopDeltaFromPage: number | null = null;
  /**
   * Bodies answered with 200, first one first, in place of the first page of the next delta
   * rounds (after a stale token has had its 410). Not a behaviour Graph documents: every page of
   * a round is a collection with `value` (learn.microsoft.com/graph/delta-query-overview); this
   * stands in for a proxy or an outage that answers 200 with something else, such as a deltaLink
   * alone.
   */
  readonly malformedDeltaPages: unknown[] = [];
  /** Non-delta calendarView listings begun (GET .../calendarView, first pages). */
  viewListings = 0;
  /** Called before each calendarView page is made, with its $skip: a test changes the calendar between two page reads. */
  beforeViewPage: ((skip: number) => void) | null = null;
  readonly #accounts = new Map<string, Account>();
  readonly #accessTokens = new Map<string, { email: string; expiresAt: number }>();
  readonly #deltaTokens = new Map<string, DeltaState>();
  readonly #pages = new Map<string, DeltaPages>();
  readonly #now: () => number;
  readonly #deliver: Deliver;
  #epoch = 0;
  #baseUrl = '';
  #server: Server | null = null;

  constructor(options: { now: () => number; deliver: Deliver }) {
    this.#now = options.now;
    this.#deliver = options.deliver;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#handle(req, res, Buffer.concat(chunks).toString('utf8')));
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

  // ----- driving the fake --------------------------------------------------------------------

  createAccount(): { email: string; clientId: string; clientSecret: string; refreshToken: string } {
    const email = `user-${randomBytes(4).toString('hex')}@contoso.onmicrosoft.com`;
    const refreshToken = `0.AX${randomBytes(30).toString('base64url')}`;
    const calendarId = `AAMkAD${randomBytes(20).toString('base64url')}AAA=`;
    this.#accounts.set(email, {
      email, userId: randomUUID(), clientId: randomUUID(), clientSecret: `${randomBytes(3).toString('hex')}~${randomBytes(16).toString('base64url')}`,
      refreshTokens: new Set([refreshToken]), latestRefreshToken: refreshToken, isRevoked: false, calendarId, items: new Map(),
      // Every mailbox has its default calendar plus the read-only Birthdays calendar
      // (learn.microsoft.com/graph/api/user-list-calendars shows both in its example answer).
      calendars: new Map([
        [calendarId, { id: calendarId, name: 'Calendar', isDefaultCalendar: true, canEdit: true, ownerAddress: email }],
        ['birthdays', { id: `AAMkAD${randomBytes(8).toString('base64url')}BBB=`, name: 'Birthdays', isDefaultCalendar: false, canEdit: false, ownerAddress: email }],
      ]),
    });
    const account = this.#accounts.get(email)!;
    const birthdays = account.calendars.get('birthdays')!;
    account.calendars.delete('birthdays');
    account.calendars.set(birthdays.id, birthdays);
    return { email, clientId: account.clientId, clientSecret: account.clientSecret, refreshToken };
  }

  latestRefreshToken(email: string): string {
    return this.#account(email).latestRefreshToken;
  }

  /** Another calendar of the account (a user-created one, or one shared by a colleague with ownerAddress). */
  addCalendar(email: string, fields: { name: string; canEdit?: boolean; ownerAddress?: string; hexColor?: string }): string {
    const id = `AAMkAD${randomBytes(20).toString('base64url')}CCC=`;
    this.#account(email).calendars.set(id, { id, name: fields.name, isDefaultCalendar: false, canEdit: fields.canEdit ?? true, ownerAddress: fields.ownerAddress ?? email, hexColor: fields.hexColor });
    return id;
  }

  /**
   * A calendar listed for the user whose events the user's token may not read: a colleague's
   * calendar shared without the rights the token carries (reading one needs Calendars.Read.Shared:
   * learn.microsoft.com/graph/outlook-get-shared-events-calendars). Its paths answer 403
   * ErrorAccessDenied, "Access is denied. Check credentials and try again." (the body Graph gives
   * for a calendar view the delegated token may not read: microsoftgraph-postman-collections issue
   * 48, microsoft-graph-docs issue 12822); Graph takes no subscription to it either (delegated
   * subscriptions are for the user's own folders: learn.microsoft.com/graph/outlook-change-notifications-overview).
   */
  refuseReads(email: string, calendarId: string): void {
    this.#account(email).calendars.get(calendarId)!.refusesReads = true;
  }

  /**
   * Subscriptions to this calendar are refused as Graph refuses them on a calendar of another
   * mailbox (which a calendar added with another ownerAddress is already): 403 ExtensionError
   * (see #subscribe). For a calendar that stands for one whose owner the test does not model.
   */
  refuseSubscriptions(email: string, calendarId: string): void {
    this.#account(email).calendars.get(calendarId)!.refusesSubscriptions = true;
  }

  /**
   * The next incremental round of this calendar names `id` under @removed with reason deleted,
   * as Graph does for an event outside the round's window that was added, deleted or updated
   * (learn.microsoft.com/graph/api/event-delta, "Response": filter such entries by the date range).
   * A series master lies outside the window when its series began before it.
   */
  nameRemovedOutsideWindow(email: string, calendarId: string, id: string): void {
    this.#account(email);
    this.#removedOutsideWindow.set(calendarId, [...(this.#removedOutsideWindow.get(calendarId) ?? []), id]);
  }

  /**
   * The next incremental round of this calendar lists `id` once more, `first` or `last` in the
   * round: as an @removed entry, or as the version the previous round gave (older, with its older
   * lastModifiedDateTime; for a series master, the series as it was: master and occurrences). Graph may list an entity more than once in a round and in any order
   * (learn.microsoft.com/graph/delta-query-overview: "A single entity can be contained multiple
   * times in the response", "Don't assume a specific sequence of the responses"; reported as
   * microsoft-graph-docs issues 6785 and 3121). An unchanged event named `removed` is an @removed
   * entry alone for an event Graph still has, as clients reported for events only updated
   * (microsoft-graph-docs issues 10243 and 4659, closed without a fix).
   */
  listAgainInNextRound(calendarId: string, id: string, as: 'removed' | 'earlier', where: 'first' | 'last'): void {
    this.#listedAgain.set(calendarId, [...(this.#listedAgain.get(calendarId) ?? []), { id, as, where }]);
  }

  /**
   * The next incremental round of this calendar lists the entry for `id` (for a deleted event, its
   * @removed entry) without its `id`. Not a behaviour Graph documents: every entity of a delta
   * page names its id, a removed one as its id beside @removed (learn.microsoft.com/graph/
   * delta-query-overview, "Resource representation in the delta query response"). It stands for
   * a proxy or a fault of the service that loses it; the client cannot tell which event it was.
   */
  listWithoutIdInNextRound(calendarId: string, id: string): void {
    this.#listedWithoutId.set(calendarId, [...(this.#listedWithoutId.get(calendarId) ?? []), id]);
  }

  /** As listWithoutIdInNextRound, in every round from now on, a new round over the window too (equally undocumented). */
  listWithoutIdInEveryRound(calendarId: string, id: string): void {
    this.#alwaysWithoutId.set(calendarId, new Set([...(this.#alwaysWithoutId.get(calendarId) ?? []), id]));
  }

  /**
   * The next `times` GETs of this event answer 404 ErrorItemNotFound although it exists, as Graph
   * does at times for an event it has just named (msgraph-sdk-java issue 1225: "The Graph API
   * returns ErrorItemNotFound upon ... retrieve an Event ... based upon an Id provided through a
   * notification", intermittently). Many times stands for a lasting miss: a meeting Teams showed
   * whose GET answered "The specified object was not found in the store." for about two weeks
   * (msgraph-sdk-dotnet issue 2398; there the id came from Teams, not from a Graph listing).
   */
  missEventLookups(id: string, times = 1): void {
    this.#missedLookups.set(id, times);
  }

  /**
   * A test control: once `after` more GETs of one event have come in (counted as each is taken up,
   * after eventLookupDelayMs, whether or not its answer has gone out yet), the next one answers
   * `status` with Graph's error `code` (and a Retry-After when given), and the ones after it as
   * usual. Graph answers any single request 429 Too Many Requests with a Retry-After when an app
   * goes past a limit (learn.microsoft.com/graph/throttling, "Best practices to handle throttling";
   * the code ApplicationThrottled as alcionai/corso issue 3695 quotes it), and 500, 503 or 504 now
   * and then (learn.microsoft.com/graph/errors, "HTTP status codes"): one request failing while
   * others of the same client succeed.
   */
  failOneEventLookup: { after: number; status: number; code: string; retryAfterSeconds?: number } | null = null;
  /**
   * GETs of these events (by id) are answered only this many (real) milliseconds after they come
   * in, or never when the client hangs up first; those it hung up on are named in
   * `hungUpLookups`. A test control: no public report of a slow GET of one event was found, so a
   * slow answer is simulated as any answer slow to come over the network. What Graph documents is
   * that any request may end in 504 Gateway Timeout (learn.microsoft.com/graph/errors, "HTTP status
   * codes"; the same table in Dev Proxy's GraphRandomErrorPlugin page), an answer that comes only
   * once its gateway gave up waiting; calendar reads were answered so (calendarView delta pages,
   * microsoft-graph-docs issues 2240 and 3657). A held GET is counted by failOneEventLookup only
   * once its wait is over.
   */
  readonly slowEventLookups = new Map<string, number>();
  readonly hungUpLookups: string[] = [];


  /**
   * The next `times` reads of this series' list of instances answer 404 ErrorItemNotFound although
   * the series exists. Reported for a GET of an event Graph has (msgraph-sdk-java issue 1225,
   * above); the list of a series' instances is a read of the same item
   * (learn.microsoft.com/graph/api/event-list-instances: GET .../events/{id}/instances), and no
   * public report shows it on that path: it stands for the same fault there, so that a 404 of the
   * list alone is not what cancels a bot.
   */
  missInstanceLists(seriesId: string, times = 1): void {
    this.#missedInstanceLists.set(seriesId, times);
  }

  /** The next `times` listings of this series' instances answer 503 serviceNotAvailable. */
  failInstanceListsOf(seriesId: string, times = 1): void {
    this.failingInstanceLists.set(seriesId, times);
  }

  /**
   * The next GET of this event answers 200 with `body` instead of the event. Not a behaviour Graph
   * documents: event-get answers the event, with its id, start and end (learn.microsoft.com/graph/
   * api/event-get, learn.microsoft.com/graph/api/resources/event). It stands for a proxy or a
   * fault that answers 200 with something else (a JSON null, `{}`).
   */
  answerEventLookupWith(id: string, body: unknown): void {
    this.#oddLookups.set(id, body);
  }

  /**
   * The next `times` reads of this calendar's events answer 503 serviceNotAvailable, Graph's
   * "service is unavailable" to be retried after a delay (learn.microsoft.com/graph/errors, "HTTP
   * status codes" and "Code property"); the account's other calendars read as usual.
   */
  failReadsOf(email: string, calendarId: string, times = 1): void {
    this.#account(email).calendars.get(calendarId)!.failingReads = times;
  }

  /** The calendar's events can be read again (the rights were granted). */
  allowReads(email: string, calendarId: string): void {
    this.#account(email).calendars.get(calendarId)!.refusesReads = false;
  }

  /** A calendar deleted by the user: gone from /me/calendars, its paths answer 404. */
  removeCalendar(email: string, calendarId: string): void {
    this.#account(email).calendars.delete(calendarId);
  }

  defaultCalendarId(email: string): string {
    return this.#account(email).calendarId;
  }

  createEvent(email: string, fields: { subject: string; startMs: number; endMs: number; location?: string; joinUrl?: string; weeklyCount?: number; timeZone?: string; calendarId?: string; invitation?: Invitation; attendees?: Item['attendees']; isAllDay?: boolean }): string {
    // Graph gives an all-day event as midnight to midnight in UTC, whatever zone it was made in
    // (its originalStartTimeZone) and whatever zone the request prefers: "by design"
    // (microsoftgraph/microsoft-graph-docs issues 1802 and 6003). A test gives such times.
    if (fields.isAllDay && (fields.startMs % 86_400_000 !== 0 || fields.endMs % 86_400_000 !== 0 || fields.endMs <= fields.startMs)) {
      throw new Error('an all-day Graph event runs from a midnight in UTC to a later one');
    }
    const id = `AAMkAD${randomBytes(24).toString('base64url')}AAA=`;
    const account = this.#account(email);
    this.#account(email).items.set(id, {
      id, calendarId: fields.calendarId ?? account.calendarId, subject: fields.subject, startMs: fields.startMs, endMs: fields.endMs, location: fields.location ?? '', timeZone: fields.timeZone ?? 'UTC',
      isCancelled: false, joinUrl: fields.joinUrl ?? null, weeklyCount: fields.weeklyCount ?? 0, exceptions: new Map(), isDeleted: false, version: 1, modifiedAtMs: this.#now(),
      invitation: fields.invitation ?? null, attendees: fields.attendees ?? [], isAllDay: fields.isAllDay ?? false,
    });
    return id;
  }

  /** A change to an item: a new version (its etag and changeKey) and modification time. */
  #touch(item: Item): void {
    item.version++;
    item.modifiedAtMs = this.#now();
  }

  /** The owner answers an invitation (accepts it, say): a change like any other. */
  answerInvitation(email: string, id: string, response: Invitation['response']): void {
    const item = this.#item(email, id);
    item.invitation = { ...item.invitation!, response };
    this.#touch(item);
  }

  /**
   * An edit by the organizer. Guests added or removed (`attendees`) change the item like any other
   * edit: Graph's attendees is a property of the event resource, and changing it is an update
   * (learn.microsoft.com/graph/api/event-update lists attendees among the properties one updates).
   */
  updateEvent(email: string, id: string, patch: { startMs?: number; endMs?: number; subject?: string; location?: string; joinUrl?: string | null; isCancelled?: boolean; attendees?: Item['attendees'] }): void {
    const item = this.#item(email, id);
    Object.assign(item, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
    this.#touch(item);
  }

  deleteEvent(email: string, id: string): void {
    this.#item(email, id).isDeleted = true;
  }

  /**
   * The user drags a single event to another of the mailbox's calendars. Its id changes with the
   * container it is in ("By default, this value changes when the item is moved from one container
   * (such as a folder or calendar) to another": the event resource's id, and
   * learn.microsoft.com/graph/outlook-immutable-id), so the old calendar's delta names the old id
   * as removed and the new calendar's lists a new id. Its iCalUId, "a unique identifier for an
   * event across calendars" (event resource), stays. Answers the new id.
   */
  moveEvent(email: string, id: string, toCalendarId: string): string {
    const item = this.#item(email, id);
    if (item.weeklyCount > 0) throw new Error('the fake moves single events only');
    const newId = `AAMkAD${randomBytes(24).toString('base64url')}AAA=`;
    item.isDeleted = true;
    this.#account(email).items.set(newId, { ...item, id: newId, calendarId: toCalendarId, isDeleted: false, exceptions: new Map(), uidSeed: item.uidSeed ?? item.id, version: item.version + 1, modifiedAtMs: this.#now() });
    return newId;
  }

  /**
   * A deletion no delta round ever names: the event is gone (GET answers 404, calendarView no
   * longer lists it), but no round carries an @removed entry for it. Clients have reported this
   * for events deleted in Outlook (microsoft-graph-docs issue 11728 and microsoft-graph-docs-contrib
   * issue 5902, both closed without an answer);
   * Graph's delta documentation says deleted items come as @removed, so this is the exception the
   * service must survive, not the rule.
   */
  deleteEventUnannounced(email: string, id: string): void {
    this.#item(email, id).isDeleted = true;
    this.#unannouncedDeletions.add(id);
  }

  /** The Graph id of a series' occurrence, by its start under the rule. */
  occurrenceId(email: string, seriesId: string, originalStartMs: number): string {
    const found = this.#instances(this.#account(email), this.#item(email, seriesId)).find((i) => i.originalMs === originalStartMs);
    if (!found) throw new Error('no such occurrence');
    return found.id;
  }

  /**
   * One occurrence moved: it becomes an exception of its series, still pointing at the master by
   * seriesMasterId and keeping its id (it is updated through that id: Microsoft Q&A 499823), and
   * the series' instances list it at its new start with type `exception`, whatever its place
   * among the others (learn.microsoft.com graph/api/resources/event, `type`; a Tech Community
   * thread on deleted occurrences, officegraph 2724556, notes that /instances gives an exception
   * for an occurrence whose start was changed). Clients also report the list of a series' instances
   * leaving its exceptions out, giving only the plain occurrences (microsoft-graph-docs issue 15611,
   * microsoft-graph-docs-contrib issue 540, both open): with `instancesOmitExceptions` set, the
   * moved occurrence is answered by calendarView and delta only, as an exception, and not by the
   * instance list.
   */
  updateOccurrence(email: string, seriesId: string, originalStartMs: number, times: { startMs: number; endMs: number }): void {
    const item = this.#item(email, seriesId);
    item.exceptions.set(this.#indexOf(item, originalStartMs), times);
    this.#touch(item);
  }

  /**
   * The organizer cancels (deletes) one occurrence: it is gone from the series' list of instances,
   * with no exception left in its place (a Tech Community question, "Receiving notification for
   * deleted non series-master events", observed this of /instances), and the master's recurrence,
   * its range included, stays as it was: Graph names the occurrence in the master's
   * cancelledOccurrences instead (learn.microsoft.com/en-us/graph/api/resources/event). The fake
   * keeps the range; Rollcall does not read cancelledOccurrences.
   */
  cancelOccurrence(email: string, seriesId: string, originalStartMs: number): void {
    const item = this.#item(email, seriesId);
    item.exceptions.set(this.#indexOf(item, originalStartMs), 'deleted');
    this.#touch(item);
  }

  /**
   * The whole series moves by deltaMs. Occurrence ids are derived from the series and the
   * occurrence's date (AvengeMedia/dankcalendar issue 95 found this in Graph's answers; odoo/odoo
   * PR 271529 saw a shifted series' instances come back with new ids), so a series re-timed on the
   * same day keeps its occurrence ids and one moved to another day gets new ones. Changing a
   * series' times drops its exceptions: Outlook warns that "any exceptions associated with this
   * recurring appointment will be cancelled" and the occurrences follow the rule again (IT Support
   * Forum's page on that message; HumanWare's BrailleNote guide, 9.5.5.2, on Exchange calendars).
   */
  shiftSeries(email: string, seriesId: string, deltaMs: number): void {
    const item = this.#item(email, seriesId);
    item.startMs += deltaMs;
    item.endMs += deltaMs;
    item.exceptions.clear();
    this.#touch(item);
  }

  /**
   * "This and following events" from the occurrence at originalStartMs, with new times: Outlook
   * ends the series before that occurrence and creates a new series for the rest (odoo/odoo PR
   * 260329 describes a split as truncating the original series and creating a new one). The new
   * master and its instances have new ids and nothing in them names the original series
   * (OfficeDev/office-js issue 1571: the items of a "this and all following" edit carry no id of
   * the original series). The new series is made from the edited occurrence, so its subject,
   * location and organizer are the original's; whether Teams keeps the same join link is not
   * documented: the fake keeps it, and Rollcall also ties the two by title and organizer when it
   * changes (a unit test of pickInstanceContinuation covers that). Answers the new master's id.
   */
  splitSeries(email: string, seriesId: string, originalStartMs: number, times: { startMs: number; endMs: number }): string {
    const item = this.#item(email, seriesId);
    const rest = item.weeklyCount - this.#indexOf(item, originalStartMs);
    this.truncateSeries(email, seriesId, originalStartMs);
    return this.createEvent(email, {
      subject: item.subject, startMs: times.startMs, endMs: times.endMs, location: item.location, joinUrl: item.joinUrl ?? undefined,
      weeklyCount: rest, timeZone: item.timeZone, calendarId: item.calendarId,
    });
  }

  /**
   * The first half of a split alone: the series ends before the occurrence at originalStartMs.
   * With createEvent for the second half, a test can let a sync run between Outlook's two writes
   * (odoo/odoo PR 260329 describes the split as exactly these two: truncate the original, create
   * a new series). The series ends earlier by its recurrence range: the fake's series are
   * numbered ranges, so numberOfOccurrences becomes the count before that occurrence (a range
   * ends after a number of occurrences or by an endDate: learn.microsoft.com/en-us/graph/api/
   * resources/recurrencerange). The master then changes, and a delta round of a window that
   * still holds one of its instances brings it with the occurrences it has left (a calendarView
   * delta round gives series masters and their occurrences: microsoft-graph-docs issue 7632; a
   * series is not split across delta pages and a deleted occurrence is not named, as
   * microsoft-graph-docs PR 4501 found), the ones cut off simply missing.
   */
  truncateSeries(email: string, seriesId: string, originalStartMs: number): void {
    const item = this.#item(email, seriesId);
    const index = this.#indexOf(item, originalStartMs);
    item.weeklyCount = index;
    for (const key of [...item.exceptions.keys()]) if (key >= index) item.exceptions.delete(key);
    this.#touch(item);
  }

  /** The user consented again: a new refresh token works. */
  restore(email: string): string {
    const account = this.#account(email);
    account.isRevoked = false;
    const token = `0.AX${randomBytes(30).toString('base64url')}`;
    account.refreshTokens.add(token);
    account.latestRefreshToken = token;
    return token;
  }

  /**
   * The client secret of the app the account was connected with expires (Entra ID secrets have a
   * lifetime): the token endpoint answers 401 invalid_client with AADSTS7000222, "The provided
   * client secret keys ... are expired" (its body as quoted in Azure-Samples/ms-identity-python-webapp
   * issue 67 and liprec/vsts-release-aas issue 119). The user's grant is untouched.
   */
  expireClientSecret(email: string): void {
    this.#account(email).isSecretExpired = true;
    for (const [token, owner] of this.#accessTokens) if (owner.email === email) this.#accessTokens.delete(token);
  }

  revoke(email: string): void {
    this.#account(email).isRevoked = true;
    for (const [token, owner] of this.#accessTokens) if (owner.email === email) this.#accessTokens.delete(token);
  }

  /**
   * Every delta token issued so far is evicted: Outlook delta tokens have no fixed lifetime and
   * are dropped from a size-limited cache (learn.microsoft.com/graph/delta-query-overview).
   */
  expireDeltaTokens(): void {
    this.#epoch++;
  }

  liveSubscriptions(email: string): Subscription[] {
    return this.subscriptions.filter((s) => s.email === email && !s.isDeleted && s.expiration > this.#now());
  }

  /**
   * A change notification on each live subscription of the account: subscriptionId, changeType,
   * resource, resourceData and clientState (learn.microsoft.com/graph/change-notifications-delivery-webhooks).
   */
  async notifyChanges(email: string, options: { clientState?: string } = {}): Promise<void> {
    const account = this.#account(email);
    for (const subscription of this.liveSubscriptions(email)) {
      const eventId = [...account.items.keys()].at(-1) ?? 'none';
      const body = {
        value: [{
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: new Date(subscription.expiration).toISOString(),
          changeType: 'updated',
          resource: `Users/${account.userId}/Events/${eventId}`,
          resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/${account.userId}/Events/${eventId}`, '@odata.etag': 'W/"DwAAABYAAAA="', id: eventId },
          clientState: options.clientState ?? subscription.clientState,
          tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
        }],
      };
      const answer = await this.#deliver(subscription.notificationUrl, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
      this.notifications.push({ subscriptionId: subscription.id, kind: 'change', status: answer.status });
    }
  }

  /** Lifecycle notifications (learn.microsoft.com/graph/change-notifications-lifecycle-events). */
  async sendLifecycle(email: string, lifecycleEvent: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<void> {
    for (const subscription of this.liveSubscriptions(email)) {
      if (!subscription.lifecycleNotificationUrl) continue;
      if (lifecycleEvent === 'subscriptionRemoved') subscription.isDeleted = true;
      const body = { value: [{ subscriptionId: subscription.id, subscriptionExpirationDateTime: new Date(subscription.expiration).toISOString(), tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95', clientState: subscription.clientState, lifecycleEvent }] };
      const answer = await this.#deliver(subscription.lifecycleNotificationUrl, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) });
      this.notifications.push({ subscriptionId: subscription.id, kind: lifecycleEvent, status: answer.status });
    }
  }

  // ----- HTTP --------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status, prefer: req.headers.prefer as string | undefined });
      res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (this.outage) return send(this.outage.status, graphError('serviceNotAvailable', 'Service Unavailable'), this.outage.retryAfterSeconds !== undefined ? { 'retry-after': String(this.outage.retryAfterSeconds) } : {});
    if (req.method === 'POST' && url.pathname === '/common/oauth2/v2.0/token') return this.#token(body, send);
    if (!url.pathname.startsWith('/v1.0/')) return send(404, graphError('UnknownError', 'Not found'));
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const owner = auth ? this.#accessTokens.get(auth[1]!) : undefined;
    if (!owner || owner.expiresAt <= this.#now()) return send(401, graphError('InvalidAuthenticationToken', 'Access token has expired or is not yet valid.'));
    // At most MAILBOX_CONCURRENCY requests of one mailbox at once; one more is throttled. A
    // request counts until its connection closes, so one the client hung up on (its timeout) stops
    // counting only once this side has read the hang-up, which on a busy machine can come after
    // the client's next request, sent at once into the slot it freed. A request that finds the
    // mailbox full is so counted only after a moment in which hang-ups already on their way are
    // read. (Whether Graph itself stops counting a request its client left is not documented; the
    // fake takes the client's view: what it no longer waits for is not in flight.)
    if ((this.#inFlight.get(owner.email) ?? 0) >= MAILBOX_CONCURRENCY) await new Promise((resolve) => setTimeout(resolve, 25));
    const inFlight = (this.#inFlight.get(owner.email) ?? 0) + 1;
    if (inFlight > MAILBOX_CONCURRENCY) {
      this.concurrency.refused += 1;
      return send(429, graphError('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'), { 'retry-after': '1' });
    }
    this.#inFlight.set(owner.email, inFlight);
    this.concurrency.most = Math.max(this.concurrency.most, inFlight);
    res.once('close', () => this.#inFlight.set(owner.email, this.#inFlight.get(owner.email)! - 1));
    const hold = this.holdEventLookups;
    if (hold && !hold.met && req.method === 'GET' && /^\/v1\.0\/me(?:\/calendars\/[^/]+)?\/events\/[^/]+$/.test(url.pathname)) {
      await new Promise<void>((resolve) => {
        const held = { token: auth![1]!, release: () => { clearTimeout(timer); resolve(); } };
        const timer = setTimeout(() => {
          this.#held.splice(this.#held.indexOf(held), 1);
          resolve();
        }, hold.maxMs);
        this.#held.push(held);
        if (this.#held.length < hold.count) return;
        hold.met = true;
        hold.tokens = this.#held.map((h) => h.token);
        for (const h of this.#held.splice(0)) h.release();
      });
    }
    if (this.eventLookupDelayMs > 0 && req.method === 'GET' && /^\/v1\.0\/me(?:\/calendars\/[^/]+)?\/events\/[^/]+(?:\/instances)?$/.test(url.pathname)) {
      await new Promise((resolve) => setTimeout(resolve, this.eventLookupDelayMs));
    }
    const failure = this.failNext.shift();
    if (failure) return send(failure.status, graphError(failure.code, failure.code), failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {});
    const throttle = this.throttleEventLookups;
    if (throttle && req.method === 'GET' && /^\/v1\.0\/me(?:\/calendars\/[^/]+)?\/events\/[^/]+$/.test(url.pathname)) {
      if (throttle.after <= 0) return send(429, graphError('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'), { 'retry-after': String(throttle.retryAfterSeconds) });
      throttle.after -= 1;
    }
    const account = this.#account(owner.email);
    const path = url.pathname.slice('/v1.0'.length);
    if (req.method === 'GET' && path === '/me') {
      return send(200, {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity', businessPhones: [], displayName: 'Megan Bowen', givenName: 'Megan', jobTitle: null,
        mail: account.email, mobilePhone: null, officeLocation: null, preferredLanguage: 'en-US', surname: 'Bowen', userPrincipalName: account.email, id: account.userId,
      });
    }
    if (req.method === 'GET' && path === '/me/calendars') {
      // Shape of learn.microsoft.com/graph/api/user-list-calendars: isDefaultCalendar, canEdit, owner.
      return send(200, {
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${account.userId}')/calendars`,
        value: [...account.calendars.values()].map((c) => ({
          // hexColor is empty until the user picks a colour (learn.microsoft.com/graph/api/resources/calendar).
          id: c.id, name: c.name, color: c.hexColor ? 'lightBlue' : 'auto', hexColor: c.hexColor ?? '', isDefaultCalendar: c.isDefaultCalendar, changeKey: 'nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==', canShare: c.canEdit,
          canViewPrivateItems: true, canEdit: c.canEdit, allowedOnlineMeetingProviders: c.canEdit ? ['teamsForBusiness'] : [], defaultOnlineMeetingProvider: c.canEdit ? 'teamsForBusiness' : 'unknown',
          isTallyingResponses: c.isDefaultCalendar, isRemovable: !c.isDefaultCalendar, owner: { name: c.ownerAddress === account.email ? 'Megan Bowen' : 'Colleague', address: c.ownerAddress },
        })),
      });
    }
    // calendarView delta of the default calendar (learn.microsoft.com/graph/api/event-delta) or of
    // any calendar of the user (learn.microsoft.com/graph/delta-query-events: "from the default
    // calendar or some other specified calendar"; used so in microsoft-graph-docs issue 7632).
    const underCalendar = /^\/me\/calendars\/([^/]+)\//.exec(path);
    if (underCalendar && account.calendars.get(decodeURIComponent(underCalendar[1]!))?.refusesReads) {
      return send(403, graphError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));
    }
    const failing = underCalendar ? account.calendars.get(decodeURIComponent(underCalendar[1]!)) : undefined;
    if (failing?.failingReads) {
      failing.failingReads--;
      return send(503, graphError('serviceNotAvailable', 'Service Unavailable'));
    }
    const calendarDelta = /^\/me\/calendars\/([^/]+)\/calendarView\/delta$/.exec(path);
    if (req.method === 'GET' && (path === '/me/calendarView/delta' || calendarDelta)) {
      const calendarId = calendarDelta ? decodeURIComponent(calendarDelta[1]!) : account.calendarId;
      if (!account.calendars.has(calendarId)) return send(404, graphError('ErrorItemNotFound', 'The specified object was not found in the store.'));
      return this.#delta(account, calendarId, path, url.searchParams, req.headers.prefer as string | undefined, send);
    }
    // calendarView (learn.microsoft.com/graph/api/calendar-list-calendarview): the occurrences,
    // exceptions and single events of a time range, each with every property, series masters left
    // out; startDateTime and endDateTime required; paged with @odata.nextLink, Prefer:
    // odata.maxpagesize honoured (learn.microsoft.com/graph/paging).
    const calendarView = /^\/me\/calendars\/([^/]+)\/calendarView$/.exec(path);
    if (req.method === 'GET' && calendarView) {
      const calendarId = decodeURIComponent(calendarView[1]!);
      if (!account.calendars.has(calendarId)) return send(404, graphError('ErrorItemNotFound', 'The specified object was not found in the store.'));
      const fromMs = Date.parse(url.searchParams.get('startDateTime') ?? '');
      const toMs = Date.parse(url.searchParams.get('endDateTime') ?? '');
      if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return send(400, graphError('ErrorInvalidParameter', 'The following parameters are required: startDateTime, endDateTime.'));
      this.beforeViewPage?.(Number(url.searchParams.get('$skip') ?? 0));
      const all = [...this.#view(account, calendarId, fromMs, toMs, true).values()]
        .filter((item) => item.type !== 'seriesMaster')
        .map((item) => (item.type === 'occurrence' ? this.#findEvent(account, calendarId, item.id as string)! : item));
      const pageSize = Math.min(Number(/odata\.maxpagesize=(\d+)/.exec((req.headers.prefer as string | undefined) ?? '')?.[1] ?? this.defaultPageSize), this.pageSizeCap);
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      if (skip === 0) this.viewListings++;
      const page = all.slice(skip, skip + pageSize);
      const next = new URLSearchParams(url.searchParams);
      next.set('$skip', String(skip + page.length));
      return send(200, {
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${account.userId}')/calendars('${calendarId}')/calendarView`,
        ...(skip + page.length < all.length ? { '@odata.nextLink': `${this.#baseUrl}/v1.0${path}?${next}` } : {}),
        value: page,
      });
    }
    // One event, by the mailbox-wide or the calendar-scoped path (learn.microsoft.com/graph/api/event-get);
    // a deleted one is a 404 ErrorItemNotFound (keeper.sh PR 409 and OpenWhispr PR 1835 rely on that).
    const oneEvent = /^\/me(?:\/calendars\/([^/]+))?\/events\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && oneEvent) {
      const holdMs = this.slowEventLookups.get(decodeURIComponent(oneEvent[2]!));
      if (holdMs !== undefined) {
        const isHungUp = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), holdMs);
          res.once('close', () => {
            clearTimeout(timer);
            resolve(!res.writableFinished);
          });
        });
        if (isHungUp) {
          this.hungUpLookups.push(decodeURIComponent(oneEvent[2]!));
          return;
        }
      }
      const failing = this.failOneEventLookup;
      if (failing && failing.after-- <= 0) {
        this.failOneEventLookup = null;
        return send(failing.status, graphError(failing.code, failing.code), failing.retryAfterSeconds !== undefined ? { 'retry-after': String(failing.retryAfterSeconds) } : {});
      }
      const item = this.#findEvent(account, oneEvent[1] ? decodeURIComponent(oneEvent[1]) : null, decodeURIComponent(oneEvent[2]!));
      const missed = this.#missedLookups.get(decodeURIComponent(oneEvent[2]!)) ?? 0;
      if (missed > 0) this.#missedLookups.set(decodeURIComponent(oneEvent[2]!), missed - 1);
      if (!item || missed > 0) return send(404, graphError('ErrorItemNotFound', 'The specified object was not found in the store.'));
      this.eventLookups.push(decodeURIComponent(oneEvent[2]!));
      if (this.#oddLookups.has(decodeURIComponent(oneEvent[2]!))) {
        const body = this.#oddLookups.get(decodeURIComponent(oneEvent[2]!));
        this.#oddLookups.delete(decodeURIComponent(oneEvent[2]!));
        return send(200, body);
      }
      return send(200, { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/events/$entity', ...item });
    }
    // The instances of a series in a time range (learn.microsoft.com/graph/api/event-list-instances):
    // its occurrences and exceptions with every property, occurrences cancelled from the series
    // left out; startDateTime and endDateTime required; paged with @odata.nextLink
    // (learn.microsoft.com/graph/paging). A series that is gone is a 404 ErrorItemNotFound, as for
    // GET of the event.
    const instances = /^\/me(?:\/calendars\/([^/]+))?\/events\/([^/]+)\/instances$/.exec(path);
    if (req.method === 'GET' && instances) {
      const calendarId = instances[1] ? decodeURIComponent(instances[1]) : null;
      const item = account.items.get(decodeURIComponent(instances[2]!));
      const missed = this.#missedInstanceLists.get(decodeURIComponent(instances[2]!)) ?? 0;
      if (missed > 0) this.#missedInstanceLists.set(decodeURIComponent(instances[2]!), missed - 1);
      if (!item || item.isDeleted || item.weeklyCount === 0 || (calendarId !== null && item.calendarId !== calendarId) || missed > 0) {
        return send(404, graphError('ErrorItemNotFound', 'The specified object was not found in the store.'));
      }
      const fromMs = Date.parse(url.searchParams.get('startDateTime') ?? '');
      const toMs = Date.parse(url.searchParams.get('endDateTime') ?? '');
      if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return send(400, graphError('ErrorInvalidParameter', 'The following parameters are required: startDateTime, endDateTime.'));
      const failing = this.failingInstanceLists.get(item.id) ?? 0;
      if (failing > 0) {
        this.failingInstanceLists.set(item.id, failing - 1);
        return send(503, graphError('serviceNotAvailable', 'Service Unavailable'));
      }
      this.instanceLookups.push(item.id);
      const all = this.#instances(account, item).filter((i) => i.startMs < toMs && i.endMs > fromMs && !(this.instancesOmitExceptions && i.isException))
        .map((i) => (i.payload.type === 'exception' ? i.payload : this.#event(account, item, i.id, 'occurrence', i.startMs, i.endMs, i.startMs)));
      if (this.overlongInstanceIn.has(item.id) && all.length > 0) all.push({ ...all.at(-1)!, id: `AAMkAD${'x'.repeat(2_100)}AAA=` });
      for (const [index, instance] of all.entries()) all[index] = this.#mangled(instance);
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      const page = all.slice(skip, skip + this.defaultPageSize);
      const next = new URLSearchParams(url.searchParams);
      next.set('$skip', String(skip + page.length));
      return send(200, {
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${account.userId}')/events('${item.id}')/instances`,
        ...(skip + page.length < all.length ? { '@odata.nextLink': `${this.#baseUrl}/v1.0${url.pathname.slice('/v1.0'.length)}?${next}` } : {}),
        value: page,
      });
    }
    if (req.method === 'POST' && path === '/subscriptions' && this.failSubscriptionAfterMaking) {
      const after = this.failSubscriptionAfterMaking;
      this.failSubscriptionAfterMaking = null;
      const error = after.status === 504 ? graphError('UnknownError', 'Gateway Timeout') : graphError('serviceNotAvailable', 'Service Unavailable');
      return this.#subscribe(account, body, () => send(after.status, error, after.retryAfterSeconds !== undefined ? { 'retry-after': String(after.retryAfterSeconds) } : {}));
    }
    if (req.method === 'POST' && path === '/subscriptions' && this.loseSubscriptionAnswers > 0) {
      this.loseSubscriptionAnswers -= 1;
      return this.#subscribe(account, body, (status) => {
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status, prefer: req.headers.prefer as string | undefined });
        res.destroy();
      });
    }
    if (req.method === 'POST' && path === '/subscriptions') return this.#subscribe(account, body, send);
    const one = /^\/subscriptions\/([^/]+)$/.exec(path);
    if (one) {
      const subscription = this.subscriptions.find((s) => s.id === decodeURIComponent(one[1]!) && !s.isDeleted && s.email === account.email);
      if (!subscription) return send(404, graphError('ResourceNotFound', 'The object was not found.'));
      if (req.method === 'DELETE' && this.failingDeletes !== null) return send(this.failingDeletes, graphError(this.failingDeletes === 503 ? 'serviceNotAvailable' : 'generalException', 'The service failed.'));
      if (req.method === 'DELETE') {
        subscription.isDeleted = true;
        return send(204);
      }
      if (req.method === 'PATCH') {
        const patch = JSON.parse(body) as { expirationDateTime?: string };
        const expiration = Date.parse(patch.expirationDateTime ?? '');
        if (!Number.isFinite(expiration) || expiration - this.#now() > MAX_SUBSCRIPTION_MINUTES * 60_000) return send(400, graphError('ExtensionError', `Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`));
        subscription.expiration = expiration;
        return send(200, subscriptionBody(subscription));
      }
    }
    send(404, graphError('UnknownError', 'Not found'));
  }

  #token(body: string, send: (status: number, payload?: unknown) => void): void {
    const form = new URLSearchParams(body);
    const account = [...this.#accounts.values()].find((a) => a.clientId === form.get('client_id'));
    const trace = { timestamp: new Date(this.#now()).toISOString().replace('T', ' ').slice(0, 19) + 'Z', trace_id: randomUUID(), correlation_id: randomUUID() };
    if (!account) {
      // An app id the directory does not know: 400 unauthorized_client, AADSTS700016 "Application with
      // identifier ... was not found in the directory", error_codes [700016] (a refresh answered so in
      // Azure/go-autorest issue 626; the code in Microsoft Entra's error code reference,
      // learn.microsoft.com/entra/identity-platform/reference-error-codes, which shows error_codes).
      return send(400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory 'Default Directory'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, error_codes: [700016], ...trace, error_uri: 'https://login.microsoftonline.com/error?code=700016' });
    }
    if (account.clientSecret !== form.get('client_secret')) {
      return send(401, { error: 'invalid_client', error_description: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.", error_codes: [7000215], ...trace, error_uri: 'https://login.microsoftonline.com/error?code=7000215' });
    }
    if (account.isSecretExpired) {
      return send(401, { error: 'invalid_client', error_description: `AADSTS7000222: The provided client secret keys for app '${account.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`, error_codes: [7000222], ...trace, error_uri: 'https://login.microsoftonline.com/error?code=7000222' });
    }
    const refreshToken = form.get('refresh_token') ?? '';
    this.usedRefreshTokens.push(refreshToken);
    if (form.get('grant_type') !== 'refresh_token' || account.isRevoked || !account.refreshTokens.has(refreshToken)) {
      return send(400, { error: 'invalid_grant', error_description: "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.", error_codes: [70008], ...trace, error_uri: 'https://login.microsoftonline.com/error?code=70008' });
    }
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`;
    const rotated = `0.AX${randomBytes(30).toString('base64url')}`;
    account.refreshTokens.add(rotated);
    account.latestRefreshToken = rotated;
    this.#accessTokens.set(accessToken, { email: account.email, expiresAt: this.#now() + 3599_000 });
    send(200, { token_type: 'Bearer', scope: 'https://graph.microsoft.com/Calendars.Read https://graph.microsoft.com/User.Read', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken, refresh_token: rotated });
  }

  #delta(account: Account, calendarId: string, path: string, query: URLSearchParams, prefer: string | undefined, send: (status: number, payload?: unknown) => void): void {
    // Page size from Prefer: odata.maxpagesize (learn.microsoft.com/graph/delta-query-events).
    const pageSize = Math.min(Number(/odata\.maxpagesize=(\d+)/.exec(prefer ?? '')?.[1] ?? this.defaultPageSize), this.pageSizeCap);
    const skip = query.get('$skiptoken');
    if (skip !== null) {
      const pending = this.#pages.get(skip);
      if (!pending) return send(400, graphError('syncStateNotFound', 'The sync state generation is not found.'));
      return this.#page(pending, send);
    }
    let state: DeltaState;
    const deltaToken = query.get('$deltatoken');
    if (deltaToken !== null) {
      const previous = this.#deltaTokens.get(deltaToken);
      // An evicted token: 410 Gone with the code SyncStateNotFound, as a calendarView delta client
      // logged it (microsoft-graph-docs issue 2350); delta-query-overview says only "a 40X-series
      // error" with codes such as syncStateNotFound (the 400 form is in provider-error-answers.test.ts).
      if (!previous || previous.epoch !== this.#epoch || previous.email !== account.email || previous.calendarId !== calendarId) {
        return send(410, graphError('SyncStateNotFound', 'The sync state generation is not found.'));
      }
      // The round after a token is the same whenever the token is read again (a client that failed
      // to apply it reads it again): ids named @removed outside the window stay with it.
      previous.removedOutside = [...(previous.removedOutside ?? []), ...(this.#removedOutsideWindow.get(calendarId) ?? [])];
      this.#removedOutsideWindow.delete(calendarId);
      previous.listedAgain = [...(previous.listedAgain ?? []), ...(this.#listedAgain.get(calendarId) ?? [])];
      this.#listedAgain.delete(calendarId);
      state = { ...previous, seen: new Map(previous.seen), removedOutside: previous.removedOutside, listedAgain: previous.listedAgain };
    } else {
      // startDateTime and endDateTime are required on calendarView delta (learn.microsoft.com/graph/api/event-delta).
      const fromMs = Date.parse(query.get('startDateTime') ?? '');
      const toMs = Date.parse(query.get('endDateTime') ?? '');
      if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return send(400, graphError('ErrorInvalidParameter', 'The following parameters are required: startDateTime, endDateTime.'));
      state = { email: account.email, calendarId, fromMs, toMs, seen: new Map(), epoch: this.#epoch };
    }
    if (this.malformedDeltaPages.length > 0) return send(200, this.malformedDeltaPages.shift());
    const isFirst = deltaToken === null;
    const current = this.#view(account, calendarId, state.fromMs, state.toMs, isFirst);
    // Groups of items that travel together: a single event, or a series (master and instances).
    const groups: unknown[][] = [];
    const seriesOf = (item: Record<string, unknown>) => (item.type === 'seriesMaster' ? item.id as string : (item.seriesMasterId as string | null) ?? null);
    const bySeries = new Map<string, Record<string, unknown>[]>();
    for (const item of current.values()) {
      const series = seriesOf(item);
      if (series === null) {
        if (state.seen.get(item.id as string) !== JSON.stringify(item)) groups.push([item]);
        continue;
      }
      bySeries.set(series, [...(bySeries.get(series) ?? []), item]);
    }
    const liveSeries = new Set(bySeries.keys());
    for (const [series, items] of bySeries) {
      const seenBefore = [...state.seen.entries()].filter(([, text]) => seriesOfText(text) === series);
      const isChanged = items.some((item) => state.seen.get(item.id as string) !== JSON.stringify(item))
        || seenBefore.some(([id]) => !current.has(id));
      if (!isChanged) continue;
      // Upon a change to any occurrence the round returns the series master and all of its
      // occurrences, on one page; a deleted occurrence is only missing from them, with no
      // @removed entry (microsoft-graph-docs PR 4501, event-delta "Series").
      // (In a window's first round the view already decided whether the master comes.)
      const master = isFirst ? null : this.#masterPayload(account, series);
      groups.push(master && !items.some((i) => i.id === series) ? [master, ...items] : items);
    }
    // Deleted single events and deleted series come as @removed entries
    // (learn.microsoft.com/graph/delta-query-overview, "Resource representation in the delta query response").
    const removed: unknown[] = [];
    for (const [id, text] of state.seen) {
      if (current.has(id) || this.#unannouncedDeletions.has(id)) continue;
      const series = seriesOfText(text);
      if (series !== null && liveSeries.has(series)) continue;
      if (series !== null && this.#itemAlive(account, series)) continue;
      removed.push({ '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } });
    }
    // Ids outside the window named @removed although only changed (see nameRemovedOutsideWindow).
    for (const id of state.removedOutside ?? []) removed.push({ '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } });
    if (removed.length > 0) groups.push(removed);
    // Ids listed once more (see listAgainInNextRound), the same whenever the token is read again.
    // A series travels whole (master and occurrences), its earlier version too.
    for (const again of state.listedAgain ?? []) {
      const earlier = again.as === 'removed' ? [{ '@odata.type': '#microsoft.graph.event', id: again.id, '@removed': { reason: 'deleted' } }]
        : [...state.seen.entries()].filter(([id, text]) => id === again.id || seriesOfText(text) === again.id).map(([, text]) => JSON.parse(text) as unknown);
      if (earlier.length === 0) continue;
      if (again.where === 'first') groups.unshift(earlier);
      else groups.push(earlier);
    }
    // Entries that lose their id in this round (see listWithoutIdInNextRound), or whose start is mangled (numericStartOf).
    const withoutId = new Set([...(deltaToken !== null ? this.#listedWithoutId.get(calendarId) ?? [] : []), ...(this.#alwaysWithoutId.get(calendarId) ?? [])]);
    this.#listedWithoutId.delete(calendarId);
    for (const group of groups) {
      for (const [index, item] of group.entries()) {
        const { id, ...rest } = item as Record<string, unknown>;
        group[index] = withoutId.has(id as string) ? rest : this.#mangled(item as Record<string, unknown>);
      }
    }
    state.seen = new Map([...current].map(([id, item]) => [id, JSON.stringify(item)]));
    delete state.listedAgain;
    delete state.removedOutside;
    this.#page({ groups, state, pageSize, path }, send);
  }

  /** Pages never cut a series in two (microsoft-graph-docs PR 4501), so a page may run over the size. */
  #page(pending: DeltaPages, send: (status: number, payload?: unknown) => void): void {
    const page: unknown[] = [];
    let used = 0;
    while (used < pending.groups.length && (page.length === 0 || page.length + pending.groups[used]!.length <= pending.pageSize)) {
      page.push(...pending.groups[used]!);
      used++;
    }
    const rest = pending.groups.slice(used);
    const context = { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Collection(event)' };
    const token = randomBytes(16).toString('base64url');
    const served = (pending.served ?? 0) + 1;
    // Looping (loopDeltaFromPage): the next link leads to this same page again.
    const isLooping = this.loopDeltaFromPage !== null && served >= this.loopDeltaFromPage && rest.length > 0;
    if (rest.length > 0) {
      this.#pages.set(token, isLooping ? { ...pending, served } : { ...pending, groups: rest, served });
      return send(200, { ...context, '@odata.nextLink': `${this.#baseUrl}/v1.0${pending.path}?$skiptoken=${token}`, value: page });
    }
    this.#deltaTokens.set(token, pending.state);
    send(200, { ...context, '@odata.deltaLink': `${this.#baseUrl}/v1.0${pending.path}?$deltatoken=${token}`, value: page });
  }

  /**
   * What calendarView delta shows of one calendar in a window: single events and exceptions with
   * every property; occurrences as bare stubs (id, type, seriesMasterId, start, end: microsoft-
   * graph-docs issues 7632, 1716, 22197); and each series master with an instance in the window,
   * with its first occurrence's start and end, however long before the window its series began
   * (keeper.sh PR 409: a yearly series from 2012 listed once, on its 2012 date; PR 410: masters
   * "pulled via calendarView/delta" carrying only their original dates). With
   * firstRoundsOmitMasters, a window's first round leaves the masters out (microsoft-graph-docs
   * issue 2182); incremental rounds bring a master with any change to its series (see #delta).
   */
  #view(account: Account, calendarId: string, fromMs: number, toMs: number, isFirst: boolean): Map<string, Record<string, unknown>> {
    const result = new Map<string, Record<string, unknown>>();
    for (const item of account.items.values()) {
      if (item.isDeleted || item.calendarId !== calendarId) continue;
      if (item.weeklyCount === 0) {
        if (item.startMs < toMs && item.endMs > fromMs) result.set(item.id, this.#event(account, item, item.id, 'singleInstance', item.startMs, item.endMs, null));
        continue;
      }
      let hasInstance = false;
      for (const instance of this.#instances(account, item)) {
        if (instance.startMs >= toMs || instance.endMs <= fromMs) continue;
        hasInstance = true;
        result.set(instance.id, instance.payload);
      }
      if (hasInstance && !(isFirst && this.firstRoundsOmitMasters)) result.set(item.id, this.#event(account, item, item.id, 'seriesMaster', item.startMs, item.endMs, null));
    }
    return result;
  }

  #instances(account: Account, item: Item): { id: string; startMs: number; endMs: number; originalMs: number; isException: boolean; payload: Record<string, unknown> }[] {
    const list: { id: string; startMs: number; endMs: number; originalMs: number; isException: boolean; payload: Record<string, unknown> }[] = [];
    for (let index = 0; index < item.weeklyCount; index++) {
      const exception = item.exceptions.get(index);
      if (exception === 'deleted') continue;
      const original = this.#occurrenceStart(item, index);
      const startMs = exception?.startMs ?? original;
      const endMs = exception?.endMs ?? original + (item.endMs - item.startMs);
      const id = `${item.id.slice(0, -4)}${Buffer.from(`|occ|${dateOf(original, item.timeZone)}`).toString('base64url')}AAA=`;
      const payload = exception
        ? this.#event(account, item, id, 'exception', startMs, endMs, original)
        : { '@odata.type': '#microsoft.graph.event', '@odata.etag': `W/"${Buffer.from(`${id}:${item.version}`).toString('base64').slice(0, 24)}"`, seriesMasterId: item.id, type: 'occurrence', id, start: graphTime(startMs), end: graphTime(endMs) };
      list.push({ id, startMs, endMs, originalMs: original, isException: exception !== undefined, payload });
    }
    return list;
  }

  /** An entry as listed: with a numeric start dateTime when numericStartOf names it, a start in a custom zone when customZoneStartOf does. */
  #mangled(item: Record<string, unknown>): Record<string, unknown> {
    if (this.numericStartOf.has(item.id as string)) return { ...item, start: { dateTime: 12, timeZone: 'UTC' } };
    if (this.customZoneStartOf.has(item.id as string)) return { ...item, start: { ...(item.start as Record<string, unknown>), timeZone: 'tzone://Microsoft/Custom' } };
    return item;
  }

  #masterPayload(account: Account, seriesId: string): Record<string, unknown> | null {
    const item = account.items.get(seriesId);
    if (!item || item.isDeleted) return null;
    return this.#event(account, item, item.id, 'seriesMaster', item.startMs, item.endMs, null);
  }

  #itemAlive(account: Account, id: string): boolean {
    const item = account.items.get(id);
    return item !== undefined && !item.isDeleted;
  }

  /** The full event for GET /events/{id}: a master, a single event, or an instance with every property. */
  #findEvent(account: Account, calendarId: string | null, id: string): Record<string, unknown> | null {
    for (const item of account.items.values()) {
      if (item.isDeleted || (calendarId !== null && item.calendarId !== calendarId)) continue;
      if (item.id === id) return this.#event(account, item, item.id, item.weeklyCount > 0 ? 'seriesMaster' : 'singleInstance', item.startMs, item.endMs, null);
      if (item.weeklyCount === 0) continue;
      const instance = this.#instances(account, item).find((i) => i.id === id);
      if (instance) return this.#event(account, item, id, instance.isException ? 'exception' : 'occurrence', instance.startMs, instance.endMs, instance.originalMs);
    }
    return null;
  }



  /**
   * POST /subscriptions (learn.microsoft.com/graph/api/subscription-post-subscriptions): resource,
   * changeType, notificationUrl and expirationDateTime required; clientState at most 128
   * characters; each URL must echo the validationToken as text/plain before the subscription
   * exists (learn.microsoft.com/graph/change-notifications-delivery-webhooks). Outlook event
   * resources: the mailbox's events (learn.microsoft.com/graph/outlook-change-notifications-overview
   * lists /me/events and /users/{id}/events) or one calendar's events, which that page does not
   * list but Graph accepts (microsoft-graph-docs issue 21978: "viable despite being undocumented").
   */
  async #subscribe(account: Account, body: string, send: (status: number, payload?: unknown) => void): Promise<void> {
    const request = JSON.parse(body) as { changeType?: string; notificationUrl?: string; lifecycleNotificationUrl?: string; resource?: string; expirationDateTime?: string; clientState?: string };
    const calendarResource = /^me\/calendars\/([^/]+)\/events$/.exec(request.resource ?? '');
    const calendar = calendarResource ? account.calendars.get(calendarResource[1]!) : undefined;
    if (calendar?.refusesReads) return send(403, graphError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));
    // Delegated permissions subscribe only to folders of the signed-in user's own mailbox: a calendar
    // shared from another mailbox takes subscriptions with application permissions alone
    // (learn.microsoft.com/graph/outlook-change-notifications-overview, "Request permissions";
    // learn.microsoft.com/graph/outlook-get-shared-events-calendars). The refusal as a delegated
    // subscription to another mailbox's calendar drew it (microsoft-graph-docs issue 3436; issue 3510
    // has Microsoft's answer that only application permissions can). The mailbox's limit of 1,000
    // subscriptions (the overview page) is not simulated.
    if (calendar && (calendar.refusesSubscriptions || calendar.ownerAddress !== account.email)) {
      return send(403, graphError('ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Forbidden]'));
    }
    if (request.resource !== undefined && request.resource !== 'me/events' && !(calendarResource && account.calendars.has(calendarResource[1]!))) {
      return send(400, graphError('InvalidRequest', `Resource '${request.resource}' is not supported.`));
    }
    const expiration = Date.parse(request.expirationDateTime ?? '');
    if (!request.notificationUrl || !request.resource || !request.changeType || !Number.isFinite(expiration)) return send(400, graphError('InvalidRequest', 'Missing subscription properties.'));
    if (expiration - this.#now() > MAX_SUBSCRIPTION_MINUTES * 60_000) return send(400, graphError('ExtensionError', `Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`));
    if (request.clientState !== undefined && request.clientState.length > 128) return send(400, graphError('InvalidRequest', 'clientState is longer than 128 characters.'));
    // Graph checks each URL before it creates the subscription: the answer must echo the token.
    for (const target of [request.notificationUrl, request.lifecycleNotificationUrl]) {
      if (!target) continue;
      const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
      const separator = target.includes('?') ? '&' : '?';
      const answer = await this.#deliver(`${target}${separator}validationToken=${encodeURIComponent(token)}`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
      if (answer.status !== 200 || answer.body !== token || !/^text\/plain/.test(answer.headers['content-type'] ?? '')) {
        return send(400, graphError('ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.'));
      }
    }
    const subscription: Subscription = {
      id: randomUUID(), email: account.email, notificationUrl: request.notificationUrl, lifecycleNotificationUrl: request.lifecycleNotificationUrl ?? null,
      clientState: request.clientState, resource: request.resource, changeType: request.changeType, expiration, isDeleted: false,
    };
    this.subscriptions.push(subscription);
    send(201, subscriptionBody(subscription));
  }

  /** An event with every property, as GET /events/{id} and calendarView give it (learn.microsoft.com/graph/api/resources/event). */
  #event(account: Account, item: Item, id: string, type: string, startMs: number, endMs: number, originalStartMs: number | null): Record<string, unknown> {
    return {
      '@odata.type': '#microsoft.graph.event',
      '@odata.etag': `W/"${Buffer.from(`${item.id}:${item.version}`).toString('base64').slice(0, 24)}"`,
      id,
      createdDateTime: '2026-11-01T10:00:00.0000000Z',
      lastModifiedDateTime: new Date(item.modifiedAtMs).toISOString(),
      changeKey: `${item.version}`,
      categories: [],
      originalStartTimeZone: windowsZoneOf(item.timeZone),
      originalEndTimeZone: windowsZoneOf(item.timeZone),
      // Unique across calendars, and (event resource, iCalUId) "different for each occurrence in a
      // recurring series": the item's own, an occurrence's with its original start in it.
      iCalUId: `040000008200E00074C5B7101A82E008${Buffer.from(originalStartMs === null ? item.uidSeed ?? item.id : `${item.id}@${originalStartMs}`).toString('hex').toUpperCase()}`,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: item.subject,
      bodyPreview: item.location ? `Join: ${item.location}` : '',
      importance: 'normal',
      sensitivity: 'normal',
      isAllDay: item.isAllDay,
      isCancelled: item.isCancelled,
      // isOrganizer: whether the calendar's owner organizes it; responseStatus.response is
      // 'organizer' then, else the owner's answer; attendees carry emailAddress and type
      // (required, optional, resource), the organizer in organizer.emailAddress
      // (learn.microsoft.com/graph/api/resources/event, attendee, responsestatus).
      isOrganizer: item.invitation === null,
      responseRequested: true,
      seriesMasterId: item.weeklyCount > 0 && type !== 'seriesMaster' ? item.id : null,
      // A received meeting request lands on the invitee's calendar with showAs: tentative (Graph
      // eventMessage resource), as does one tentatively accepted; others show busy.
      showAs: item.invitation !== null && (item.invitation.response === 'notResponded' || item.invitation.response === 'tentativelyAccepted') ? 'tentative' : 'busy',
      type,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: item.joinUrl !== null,
      onlineMeetingProvider: item.joinUrl !== null ? 'teamsForBusiness' : 'unknown',
      responseStatus: item.invitation === null ? { response: 'organizer', time: '0001-01-01T00:00:00Z' } : { response: item.invitation.response, time: '2026-11-01T10:00:00Z' },
      body: { contentType: 'html', content: `<html><body><p>${item.location ? `Join: <a href="${item.location}">${item.location}</a>` : ''}</p></body></html>` },
      start: graphTime(startMs),
      end: graphTime(endMs),
      // The event resource documents originalStart for occurrences and exceptions, but clients
      // find it null there (microsoft-graph-docs issue 4353, which Rollcall follows: it never
      // reads the field); sent as they find it, so that no test leans on a value Graph withholds.
      ...(originalStartMs !== null ? { originalStart: null } : {}),
      location: { displayName: item.location, locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      locations: [],
      // A master carries its patternedRecurrence (learn.microsoft.com/graph/api/resources/patternedrecurrence),
      // with Graph's placeholders in the fields its type does not use (month 0, dayOfMonth 0,
      // index "first", endDate "0001-01-01": the seriesMaster in learn.microsoft.com/graph/api/event-get's example).
      recurrence: type === 'seriesMaster' ? {
        pattern: { type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: [dayOfWeek(item.startMs, item.timeZone)], firstDayOfWeek: 'sunday', index: 'first' },
        range: { type: 'numbered', startDate: dateOf(item.startMs, item.timeZone), endDate: '0001-01-01', numberOfOccurrences: item.weeklyCount, recurrenceTimeZone: windowsZoneOf(item.timeZone) },
      } : null,
      attendees: [
        ...(item.invitation === null ? [] : [{ type: 'required', status: { response: item.invitation.response, time: '2026-11-01T10:00:00Z' }, emailAddress: { name: 'Megan Bowen', address: account.email } }]),
        ...item.attendees.map((a) => ({ type: a.type ?? 'required', status: { response: 'none', time: '0001-01-01T00:00:00Z' }, emailAddress: { name: a.address, address: a.address } })),
      ],
      organizer: { emailAddress: item.invitation === null ? { name: 'Megan Bowen', address: account.email } : { name: item.invitation.organizer, address: item.invitation.organizer } },
      onlineMeeting: item.joinUrl !== null ? { joinUrl: item.joinUrl } : null,
    };
  }

  #occurrenceStart(item: Item, index: number): number {
    return Temporal.Instant.fromEpochMilliseconds(item.startMs).toZonedDateTimeISO(item.timeZone).add({ weeks: index }).epochMilliseconds;
  }

  #indexOf(item: Item, originalStartMs: number): number {
    for (let index = 0; index < item.weeklyCount; index++) if (this.#occurrenceStart(item, index) === originalStartMs) return index;
    throw new Error('no such occurrence');
  }

  #account(email: string): Account {
    const account = this.#accounts.get(email);
    if (!account) throw new Error(`no account ${email}`);
    return account;
  }

  #item(email: string, id: string): Item {
    const item = this.#account(email).items.get(id);
    if (!item) throw new Error(`no event ${id}`);
    return item;
  }
}

function graphError(code: string, message: string) {
  return { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } };
}

function subscriptionBody(s: Subscription) {
  return {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity',
    id: s.id, resource: s.resource, applicationId: '24d3b144-21ae-4080-943f-7067b395b913', changeType: s.changeType, clientState: s.clientState ?? null,
    notificationUrl: s.notificationUrl, notificationQueryOptions: null, lifecycleNotificationUrl: s.lifecycleNotificationUrl, expirationDateTime: new Date(s.expiration).toISOString(),
    creatorId: '8ee44408-0679-472c-bc2a-692812af3437', includeResourceData: null, latestSupportedTlsVersion: 'v1_2', encryptionCertificate: null,
    encryptionCertificateId: null, notificationUrlAppId: null,
  };
}

/** Graph's dateTime shape: seven decimals, no offset, the zone beside it (UTC unless asked otherwise). */
function graphTime(ms: number): { dateTime: string; timeZone: string } {
  return { dateTime: new Date(ms).toISOString().replace('Z', '0000').replace(/\.(\d{3})0000$/, '.$10000'), timeZone: 'UTC' };
}

function seriesOfText(text: string): string | null {
  const item = JSON.parse(text) as { type?: string; id?: string; seriesMasterId?: string | null };
  return item.type === 'seriesMaster' ? item.id ?? null : item.seriesMasterId ?? null;
}

function dayOfWeek(ms: number, zone: string): string {
  return ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'][Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone).dayOfWeek - 1]!;
}

function dateOf(ms: number, zone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone).toPlainDate().toString();
}

function windowsZoneOf(zone: string): string {
  return zone === 'Europe/Berlin' ? 'W. Europe Standard Time' : zone === 'UTC' ? 'UTC' : zone;
}
