// The one port every calendar source implements: an ICS feed, Google Calendar, Microsoft Graph.
//
// - What a provider can do is declared up front in `capabilities`; a provider without push has
//   `push === null` instead of methods that fail at run time.
// - Every failure leaves an adapter as a CalendarProviderError carrying one of five kinds. The
//   sync service decides on the kind (and, for the record of a push channel asked for, on whether
//   the provider refused the call: `isRefusal`) and never sees an HTTP status.
// - Providers know nothing of storage: credentials, cursors and channels come in as arguments
//   and go out as return values.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mapBounded } from '../../lib/bounded-parallel.ts';

export type ProviderKind = 'ics' | 'google' | 'microsoft';

/**
 * Longest provider event (or series) id stored, in bytes. Google's ids are at most 1,024
 * characters (the events resource, `id`), an instance's its series' id and `_` and its start; Graph's
 * are about 150. The id is part of a key PostgreSQL indexes, which cannot hold one over about
 * 2.7 KB: a longer id would fail the write of its whole calendar, sync after sync, so the entry
 * that carries one is skipped instead (ICS UIDs, which have no limit, are hashed: ics-parser.ts).
 */
export const MAX_PROVIDER_EVENT_ID_BYTES = 2000;

/**
 * A text field of a provider's entry, or null when it is not text. The providers document these as
 * strings; anything else (a number, an object) is read as absent rather than let through to code
 * that would throw on it and fail the whole read.
 */
export function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** True when `id` is a string too long to be stored as an event's key (MAX_PROVIDER_EVENT_ID_BYTES). */
export function isOverlongEventId(id: unknown): boolean {
  return typeof id === 'string' && Buffer.byteLength(id) > MAX_PROVIDER_EVENT_ID_BYTES;
}

export type ProviderFailure =
  /** The credentials no longer work (revoked, expired, consent withdrawn): a person must reconnect. */
  | { kind: 'auth_revoked'; message: string }
  /** The provider asked us to slow down; try again no sooner than retryAfterMs from now. */
  | { kind: 'rate_limited'; retryAfterMs: number; message: string }
  /** The calendar (or channel) no longer exists at the provider. */
  | { kind: 'not_found'; message: string }
  /** Network trouble or a 5xx: trying again later should work. */
  | { kind: 'transient'; message: string }
  /** The provider refuses in a way retrying will not fix (a malformed feed, a 400 we caused). */
  | { kind: 'permanent'; message: string };

export type ProviderFailureKind = ProviderFailure['kind'];

/** A token endpoint's refusal, by its codes (never its description, which can echo the request). */
export interface OAuthRefusal {
  error: string;
  errorCodes: number[];
}

export class CalendarProviderError extends Error {
  override name = 'CalendarProviderError';
  readonly failure: ProviderFailure;
  /**
   * The provider answered the call with a refusal (a 4xx status): it did nothing. False whenever
   * it may have acted before the call failed: a timeout, a reset connection, a 5xx (whatever its
   * Retry-After), a success whose body could not be read. What keeps the record of a push channel
   * asked for (a refused call made none; any other may have made one).
   */
  readonly isRefusal: boolean;
  /**
   * The OAuth token endpoint's own error code (`error`, RFC 6749 section 5.2) and, from Microsoft,
   * the numbers of its AADSTS codes (`error_codes`); null when the failure is not a token
   * endpoint's refusal. What a connect refusal tells its caller, for it to say which credential.
   */
  readonly oauth: OAuthRefusal | null;

  constructor(failure: ProviderFailure, options: { isRefusal?: boolean; oauth?: OAuthRefusal } = {}) {
    super(failure.message);
    this.failure = failure;
    this.isRefusal = options.isRefusal === true;
    this.oauth = options.oauth ?? null;
  }
}

/**
 * A read that went on with a round read in parts (FetchResult.round) failed in a way going on
 * would meet again (the round over the limits of one listing, checkSyncSize): the round is given
 * up. The sync drops what the round kept and the calendar's cursor, so that the next read lists
 * the calendar from its first page, as a listing read at once did after such a failure; the
 * failure is recorded as any other.
 */
export class RoundGivenUp extends CalendarProviderError {
  override name = 'RoundGivenUp';
}

/**
 * A read failed (transient) because the provider did not find ids it listed live, which it may
 * just not have yet: `ids`, every such id of the read. The sync keeps them on the calendar
 * (connected_calendars.missed_ids) and passes them back (FetchContext.missedBefore), so that the
 * next read lets their listed copies stand rather than failing for as long as the provider errs.
 */
export class NotFoundYet extends CalendarProviderError {
  override name = 'NotFoundYet';
  readonly ids: readonly string[];
  /** Of FetchContext.missedBefore, the ids this read found (or settled as gone): no longer kept. */
  readonly found: readonly string[];

  constructor(ids: readonly string[], message: string, found: readonly string[] = []) {
    super({ kind: 'transient', message });
    this.ids = ids;
    this.found = found;
  }
}

/**
 * The provider takes no push channel on this calendar at all, however often it is asked (Google
 * answers events.watch on the calendars it generates, a country's holidays say, with 400
 * pushNotSupportedForRequestedResource), or none to Rollcall's notification address until an
 * operator acts (Google's push.webhookUrlUnauthorized: the address's domain is not verified). A
 * `permanent` failure the sync service remembers per calendar for a day, rather than asking again
 * at every sync; the calendar is polled.
 */
export class PushNotSupported extends CalendarProviderError {
  override name = 'PushNotSupported';

  constructor(message: string) {
    super({ kind: 'permanent', message }, { isRefusal: true });
  }
}

export interface ProviderCapabilities {
  /** How changes after the first sync are found. */
  readonly incrementalSync: 'sync_token' | 'delta_link' | 'conditional_get';
  /** Push notifications the provider sends, or null when it can only be polled. */
  readonly push: 'watch_channel' | 'graph_subscription' | null;
  /**
   * How recurring events arrive: as a series (RRULE lines) plus exception instances, which Rollcall
   * expands itself; or as instances the provider already expanded inside a time window.
   */
  readonly recurrence: 'series_with_exceptions' | 'expanded_instances';
  /** Whether the change feed only covers a time window around now (then syncs pass one). */
  readonly isWindowed: boolean;
  /**
   * Whether an incremental read can miss a deletion: then the meetings whose bots join soon are
   * looked up one by one at the sync before their join time (FetchContext.confirm).
   */
  readonly canMissDeletions: boolean;
}

export interface ProviderCalendar {
  /** The provider's calendar id; '' for the single calendar of an ICS feed. */
  id: string;
  name: string | null;
  timeZone: string | null;
  isPrimary: boolean;
  accessRole: string | null;
  /**
   * Whether it belongs to "every calendar of the account", what a connection syncs unless the
   * client chose calendars by id (docs/calendar-sync.md says which ones and why).
   */
  isSynced: boolean;
  /** What the provider says about the calendar besides its name, where it has it (GET /calendar shows these). */
  description?: string | null;
  /** Hex colours, e.g. #9fe1e7. */
  backgroundColor?: string | null;
  foregroundColor?: string | null;
  /** Google's calendar-list flags: shown in the user's calendar UI, hidden from the list. */
  isSelected?: boolean;
  isHidden?: boolean;
}

export interface ProviderAccount {
  /** Stable account key: the email for Google/Microsoft. */
  accountId: string;
  email: string | null;
  name: string | null;
  calendars: ProviderCalendar[];
}

export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

/** One event as the provider describes it, already translated into Rollcall's terms. */
export interface ProviderEvent {
  /** Unique within its calendar; for an exception instance it names that instance. */
  providerEventId: string;
  title: string | null;
  description: string | null;
  location: string | null;
  startMs: number;
  endMs: number;
  /** IANA zone; required for a series (it is expanded in this zone). */
  timeZone: string | null;
  isAllDay: boolean;
  /** The provider's own conference link (hangoutLink, onlineMeeting.joinUrl, X-GOOGLE-CONFERENCE). */
  conferenceUrl: string | null;
  /** RFC 5545 RRULE/RDATE/EXDATE lines for a series master; null otherwise. */
  recurrence: string[] | null;
  /**
   * An ICS series whose DTSTART's zone no IANA zone keeps: that VTIMEZONE's rules
   * (domain/observed-offsets.ts, observancesText), by which it is expanded; `timeZone` is then a
   * fixed-offset stand-in, for display. Absent or null for every other event.
   */
  zoneRules?: string | null;
  /** For an instance that overrides one occurrence of a series: the series' providerEventId. */
  seriesProviderEventId: string | null;
  /** For such an instance: the start the occurrence had under the rule. */
  originalStartMs: number | null;
  /**
   * Expanded-instance providers (Graph): the provider id of the series this occurrence or
   * exception belongs to, whose data it was completed from; null for everything else.
   */
  providerSeriesId?: string | null;
  /**
   * For such an occurrence: the series' rule as one RRULE line, when the series master was at
   * hand and its pattern can be written as one; null when it cannot; undefined when this read did
   * not see the master (what was stored is kept).
   */
  seriesRule?: string | null;
  status: EventStatus;
  /** The account's own attendee answered "declined" (auto-schedule skips such events). */
  isDeclined: boolean;
  /** The provider's untouched payload. */
  raw: unknown;
}

export type ProviderChange =
  | { type: 'upsert'; event: ProviderEvent }
  /** The event is gone (deleted, or cancelled in a way that leaves only its id). */
  | { type: 'removed'; providerEventId: string };

export interface FetchContext {
  nowMs: number;
  /** Windowed providers sync [now - 1 day, now + horizon]. */
  horizonMs: number;
  /**
   * Meetings whose bots join soon, for a provider that can miss a deletion (canMissDeletions), or
   * for a calendar whose round read in parts is under way (Google: nothing of the round is applied
   * before its last part): each one the read does not mention is looked up, and reported removed
   * if the provider no longer has it.
   */
  confirm?: readonly MeetingToConfirm[];
  /**
   * The ids the calendar's reads did not find (NotFoundYet.ids, FetchResult.missedAgain), kept
   * until a read finds them or for a while after the last miss (domain/missed-ids.ts): a provider
   * that has a round read again for an id it expects to find by then tells a later miss from it
   * and lets the round through.
   */
  missedBefore?: readonly string[];
}

/** A stored event of the calendar a bot joins soon: the provider's id and its stored times. */
export interface MeetingToConfirm {
  providerEventId: string;
  startMs: number;
  endMs: number;
  /** Its series' provider id, when it is an instance of one: a read that looks up masters looks this series' up first. */
  seriesId?: string | null;
  /**
   * One occurrence of a series stored as its master, not as an exception of its own: its original
   * start (the occurrence key's instant). `providerEventId` is then the master's id, and `startMs`
   * and `endMs` the occurrence's times as its bot has them; the read looks up that occurrence
   * (Google: events.instances by its original start), not the series. Absent or null otherwise.
   */
  occurrenceStartMs?: number | null;
  /**
   * One occurrence of a series stored as an exception of its own: its original start.
   * `providerEventId` is then the exception's id and `seriesId` its series' (the master's id): the
   * read settles it by the series too, a series deleted or cancelled cancelling it. Absent or null
   * otherwise.
   */
  exceptionOriginalStartMs?: number | null;
}

/**
 * Meetings looked up one by one in one calendar read, at most, and the requests a read sends for
 * them (FetchContext.confirm): a Google occurrence stored as an exception of its own costs two,
 * itself and its series.
 */
export const MEETINGS_CONFIRMED_PER_READ = 20;

export interface FetchResult {
  /**
   * True when `changes` is the whole state of the calendar (a first sync, or a resync after the
   * provider expired our cursor): stored events it does not mention are gone. For a windowed
   * provider the whole state covers `window` only.
   */
  isFullSync: boolean;
  /** The window a windowed provider's fetch covers (full or incremental); null otherwise. */
  window: { fromMs: number; toMs: number } | null;
  /**
   * Series (by providerSeriesId) whose instances inside `window` are complete in `changes`:
   * stored instances of these series that `changes` does not mention are gone. Graph sends a
   * series master with every instance it still has and never says which one was deleted.
   */
  completeSeries?: string[];
  /**
   * Of completeSeries, those whose list of instances holds one it could not read that is not
   * stored: a stored instance may have moved there (an Outlook series moved to another day gives
   * its instances new ids). A stored instance of theirs that the list lacks, and whose bot follows
   * no new instance, stays as stored with that bot rather than going.
   */
  unreadableNewIn?: string[];
  /** Nothing changed since the cursor (an ICS 304, or an empty delta). */
  isUnchanged: boolean;
  changes: ProviderChange[];
  /** Store and pass back next time; opaque outside the adapter. */
  cursor: string | null;
  /**
   * Provider ids left as stored, neither changed nor, in a full sync, taken as gone: entries the
   * read listed in a shape it could not read (a start that is not a date, say), and (Graph) stored
   * instances a series' list lacks whose own lookup could not settle them in this read
   * (series-completeness.ts).
   */
  unreadable?: string[];
  /** What the adapter read in a way the owner may not expect (an ICS time zone it does not know, read as UTC); logged. */
  warnings?: string[];
  /**
   * Of FetchContext.confirm, the meetings the read looked up and found still there at their stored
   * times: settled for this read, they are not looked up again in it (series-completeness.ts keeps
   * them as stored). One found at other times is not named here but comes as a change in `changes`.
   */
  confirmedPresent?: string[];
  /**
   * Of FetchContext.confirm, the meetings the read looked up and found gone, named removed in
   * `changes`. An instance of a series among them goes as one its series' list lacks: its bot
   * follows the instance that replaced it (a series moved to another day gives its occurrences new
   * ids), and in one part of a round read in parts, one whose series is left to a later part
   * (`seriesLeft`) keeps its bot until that part (see SyncedEventWriter.removeMissingInstances).
   */
  goneOnLookup?: string[];
  /**
   * With hasMore: the series (by providerSeriesId) the round lists that a later part of it is to
   * bring (Graph: their masters not looked up yet). Not those an earlier part completed, nor those
   * the round does not list at all: no later part brings anything of them.
   */
  seriesLeft?: string[];
  /**
   * Of FetchContext.missedBefore, the ids this read did not find again, their listed copies left
   * to stand (or a missing master's occurrences looked up one by one): kept on the calendar
   * (connected_calendars.missed_ids), so that a later round listing them does not fail again.
   */
  missedAgain?: string[];
  /** Of FetchContext.missedBefore, the ids this read found (or settled as gone): no longer kept. */
  foundAgain?: string[];
  /**
   * A full listing read in parts whose parts each list a share of the calendar (Google: page after
   * page), set on every read of such a listing. `kept`: the read is a part that is not the round's
   * last (hasMore); its changes and `unreadable` are not applied but kept by the sync service, and
   * applied with the last part's as one batch, as though the round were one read (a series' master
   * and its exceptions, or a split's two masters, may come in different parts and are written
   * together). `resumed`: the read went on from where a kept part stopped, so what the calendar
   * keeps is this round's; a read not resumed began the listing from its first page, and what an
   * abandoned round kept is dropped.
   */
  round?: { kept: boolean; resumed: boolean };
  /**
   * An incremental listing read in parts (Google: from a sync token), set on each part and on the
   * listing's last part, and on a listing read again from its first page after its page token was
   * refused. Its entries are changes, never the whole calendar: nothing is taken as gone by absence.
   * `kept`: a part that is not the listing's last (hasMore); its single events are applied at once,
   * its series entries (a master with a recurrence, an occurrence of a series) and any entry whose
   * id the listing already holds are held by the sync service until the last part and applied with
   * it as one batch, so that a series' master and its exceptions, or a split's two masters, listed
   * in different parts are written together, masters first. `resumed`: the read went on from a part
   * before it, whose held entries are this listing's; a read not resumed drops what is held.
   */
  incremental?: { kept: boolean; resumed: boolean };
  /**
   * With round.kept: what the read found of FetchContext.confirm's meetings that changes them
   * (gone, cancelled, or at other times), looked up or listed by this part. Applied at once, not
   * only at the round's last part, so that their bots are cancelled or follow the move before they
   * launch; the lookups' changes are in `changes` too, after what the part listed, so that the
   * last part's batch, in the order read, ends with them.
   */
  confirmedChanges?: ProviderChange[];
  /**
   * The read is one part of a round: it stopped at its limit of lookups (Graph: MAX_MASTER_LOOKUPS
   * series masters), or at a limit or outage on one, with part of what it listed kept as stored
   * (`unreadable`), and `cursor` still at the same round with what it has done; or (Google) at its
   * limit of pages of a listing (PAGES_PER_PART), or at a page that failed in passing, with
   * `cursor` at the page to read next and what it read kept for the last part (`round`: a full
   * listing) or, an incremental listing (`incremental`), whose entries are each an event's current
   * state, its single events applied now and its series entries held for the last part). The
   * calendar is to be read again soon (CONTINUED_READ_AFTER_MS, or continueAfterMs), not at the usual interval,
   * and that read goes on where this one stopped. Such a part is no full sync (isFullSync false):
   * only the round's last part takes what the window no longer lists as gone.
   */
  hasMore?: boolean;
  /**
   * With hasMore: the read stopped its lookups at a limit (a 429 and its Retry-After), so the
   * next read waits this long rather than CONTINUED_READ_AFTER_MS, and nothing calls the provider
   * for the connection before (retry_not_before). A read that stopped so before any of its
   * lookups was answered is no part: it fails with the limit. Google: also on a round's last part
   * whose looks before joins (FetchContext.confirm) met a limit, the meetings not answered left as
   * stored; the read is applied, and nothing calls the provider before the wait ends.
   */
  continueAfterMs?: number;
}

export interface PushChannel {
  /** Google channel id or Graph subscription id. */
  channelId: string;
  /** Google's resourceId (needed to stop the channel); null for Graph. */
  resourceId: string | null;
  expiresAtMs: number;
}

export interface PushRequest {
  calendarId: string;
  /** Where the provider posts change notifications. */
  address: string;
  /** Where Graph posts lifecycle notifications. */
  lifecycleAddress: string;
  /** Sent with the channel (Google token, Graph clientState); notifications must carry it back. */
  secret: string;
  /**
   * The id a new Google channel gets (Google takes the caller's; push guide, "Create notification
   * channels"), chosen before the call so that a channel whose answer is lost can still be known
   * by its notifications. Graph chooses its subscription ids itself and ignores it.
   */
  channelId: string;
  nowMs: number;
}

/** Push channels of a provider that has them (`capabilities.push` is not null). */
export interface PushChannels {
  /** Opens a channel; throws PushNotSupported when the provider takes none on this calendar. */
  open(request: PushRequest): Promise<PushChannel>;
  /**
   * Extends a channel before it expires. Google channels cannot be extended, so its adapter opens
   * a new one (a new id) and leaves the old one running: the caller records the new one, then
   * stops the old one with `close` (and asks again later if that fails, the old one notifying
   * until it is stopped or expires). Graph extends the same subscription (the same id).
   */
  renew(channel: PushChannel, request: PushRequest): Promise<PushChannel>;
  close(channel: PushChannel): Promise<void>;
  /** The expiry a new channel is asked for: one made by a call whose answer was lost is gone by then. */
  requestedExpiryMs(request: PushRequest): number;
}

export interface CalendarProvider {
  readonly kind: ProviderKind;
  readonly capabilities: ProviderCapabilities;
  /** Null exactly when capabilities.push is null. */
  readonly push: PushChannels | null;
  /** Checks the credentials and reads the account and its calendars. */
  describeAccount(): Promise<ProviderAccount>;
  /**
   * Changes since `cursor` (null: everything). A provider whose cursor expired starts over by
   * itself and answers with isFullSync, so callers never handle "token expired".
   */
  fetchChanges(calendarId: string, cursor: string | null, context: FetchContext): Promise<FetchResult>;
  /**
   * Providers whose series arrive as expanded instances (Graph): the instances a series has now
   * inside `window`, as upserts; null when the series is gone. For a series a round did not
   * bring although it may have changed (truncated-series.ts). An instance it leaves out (one whose
   * id is too long to be stored, or one it cannot read) is named in `warnings`, when given, to be logged.
   */
  fetchSeriesInstances?(calendarId: string, seriesId: string, window: { fromMs: number; toMs: number }, warnings?: string[]): Promise<SeriesInstances | null>;
  /**
   * Providers whose list of a series' instances may leave some out (Graph's can omit exceptions):
   * one instance looked up by its id, before a stored instance the list lacks is taken as gone.
   * `stored`, the instance's stored times: a "not found" is then checked against the provider's
   * listing of those times, and is `gone` only when that listing lacks the instance too.
   * Failures other than "gone" are thrown (CalendarProviderError).
   */
  lookUpInstance?(calendarId: string, seriesId: string, instanceId: string, window: { fromMs: number; toMs: number }, stored?: { startMs: number; endMs: number }): Promise<InstanceLookup>;
}

/**
 * One instance looked up by its id: `gone` (the provider no longer has it); `found`, with the
 * change that brings it up to date (an upsert, or a removal when it now lies outside the window);
 * `unreadable`, an answer that is not an event the adapter can read (kept as stored); `listed`,
 * a "not found" that the provider's listing of the given times contradicts (it has the instance,
 * in a state this lookup could not read: kept as stored).
 */
export type InstanceLookup = { kind: 'gone' } | { kind: 'found'; change: ProviderChange } | { kind: 'unreadable' | 'listed'; warning: string };

/** A series' instances as the provider lists them now. */
export interface SeriesInstances {
  changes: ProviderChange[];
  /**
   * Provider ids of instances listed in a shape that cannot be read: still the series', to be kept
   * as stored (FetchResult.unreadable), neither changed nor taken as gone.
   */
  unreadable: string[];
}

/** Credentials as the service keeps them (sealed at rest); a provider receives them decrypted. */
export type ProviderCredentials =
  | { kind: 'ics'; url: string }
  | { kind: 'google'; clientId: string; clientSecret: string; refreshToken: string }
  | { kind: 'microsoft'; clientId: string; clientSecret: string; refreshToken: string };

/**
 * Lookups of one read (GET of one event, of a series' instances) a calendar sync has in flight at
 * once. Graph's Outlook limit is 4 concurrent requests per app per mailbox
 * (learn.microsoft.com/graph/throttling-limits#outlook-service-limits); a fifth is answered 429
 * ApplicationThrottled, "Application is over its MailboxConcurrency limit" (alcionai/corso issue
 * 3695). The limit is the mailbox's, not this sync's: while a sync holds its connection's lease,
 * the same app may still ask the same mailbox for other things (another connection of that mailbox
 * syncing, another instance's lookup of a meeting before its bot joins, a push subscription being
 * made or extended). So one read leaves one of the four to them. Each group of lookups runs by
 * itself (one group ends before the next starts), so a read never has more than this many in
 * flight. Within one process, every Graph request to a mailbox also takes one of its four slots
 * (MAILBOX_REQUESTS_AT_ONCE in microsoft-calendar-provider.ts), so two reads of one mailbox side
 * by side wait for each other rather than go past the limit; together they may take all four,
 * leaving none to other instances, whose requests are not counted there: a 429 so caused is
 * handled as any.
 */
export const PROVIDER_LOOKUPS_AT_ONCE = 3;

/** The lookup a request is made for: its group's stop signal, and whether it was stopped by it. */
interface Lookup {
  readonly stop: AbortSignal;
  stopped: boolean;
}

const currentLookup = new AsyncLocalStorage<Lookup>();

/**
 * What a lookup throws when it would send a request after its group was stopped (another lookup of
 * the group failed the read, or was answered 429): a transient failure, which every caller passes
 * on or takes as "not looked up". Never the read's failure: the group's own is.
 */
export class LookupsStopped extends CalendarProviderError {
  override name = 'LookupsStopped';

  constructor() {
    super({ kind: 'transient', message: 'no further request sent: another lookup of the read failed' });
  }
}

/**
 * Called by an adapter before each request it sends: throws LookupsStopped when the request is
 * made for a lookup (lookUpEach, inLookupGroup) whose group was stopped. Graph has said "wait" (or
 * the read has failed), and the answer would be thrown away; one by one it was never sent.
 */
export function throwIfLookupsStopped(): void {
  const lookup = currentLookup.getStore();
  if (lookup?.stop.aborted) {
    lookup.stopped = true;
    throw new LookupsStopped();
  }
}

/**
 * Sends one request of the lookup under way, if any (outside a lookup, `send` is called as it is):
 * none once its group was stopped (throwIfLookupsStopped), and `send` is given the group's stop
 * signal, to end the request with when the group stops while it is in flight. A request that
 * fails once its group has stopped (ended by the stop, or failing as it came) throws
 * LookupsStopped rather than its own failure: it is not a failure of the lookup that could end the
 * read, nor an answer (never "gone"). A request whose answer came before the stop returns it; what
 * the lookup then does with it is unused, the group having failed.
 */
export async function sendForLookup<R>(send: (stop: AbortSignal | undefined) => Promise<R>): Promise<R> {
  throwIfLookupsStopped();
  try {
    return await send(currentLookup.getStore()?.stop);
  } catch (error) {
    if (error instanceof CalendarProviderError) throwIfLookupsStopped();
    throw error;
  }
}

/** `work` as one lookup of the group `stop` ends: once it is aborted, the lookup sends no further request, and its request in flight is ended (sendForLookup). */
export function inLookupGroup<R>(stop: AbortSignal, work: () => Promise<R>): Promise<R> {
  return currentLookup.run({ stop, stopped: false }, work);
}

/**
 * `work` over `items`, PROVIDER_LOOKUPS_AT_ONCE at a time, answers in the items' order: the
 * lookups of one read whose items do not depend on each other. A failure thrown by `work` (each
 * caller first turns the failures it settles per item into answers) starts no further lookup, as
 * it stopped the loop that made them one by one, and stops the group: the lookups in flight send
 * no further request (throwIfLookupsStopped), their requests in flight are ended rather than
 * waited for (sendForLookup: the read fails without waiting up to a request's timeout for
 * answers it would not use), and what they had found is unused. The read fails
 * with the failure one by one would have met first, as far as it can be known:
 * - an error that is not a provider failure (a bug, a failed write of a rotated token) is thrown
 *   as it is, the first in the items' order;
 * - else the first item's provider failure in the items' order (one that was stopped excepted,
 *   an item's own group of lookups stopped by this group's stop too);
 *   a limit (429) waits the longest Retry-After of the group's limits, so that none Graph gave is
 *   cut short. A limit behind a failure of an earlier item is not the read's: one by one, it
 *   was never asked.
 */
export async function lookUpEach<T, R>(items: readonly T[], work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const outer = currentLookup.getStore()?.stop;
  const stopping = new AbortController();
  const stop = outer ? AbortSignal.any([outer, stopping.signal]) : stopping.signal;
  const failures: { index: number; error: unknown }[] = [];
  const answers = await mapBounded(items, PROVIDER_LOOKUPS_AT_ONCE, async (item, index) => {
    const lookup: Lookup = { stop, stopped: false };
    try {
      return await currentLookup.run(lookup, () => work(item, index));
    } catch (error) {
      // Stopped: by this group (the lookup's own request), or, for an item that runs a group of
      // its own, by this group's stop reaching the inner one (its LookupsStopped thrown on here).
      if (!lookup.stopped && !(error instanceof LookupsStopped && stop.aborted)) failures.push({ index, error });
      stopping.abort();
      throw error;
    }
  }).catch((error: unknown) => {
    if (failures.length === 0) throw error;
    return null;
  });
  if (answers !== null) return answers;
  throw readFailure(failures);
}

/** The failure a group of lookups ends the read with (see lookUpEach); `failures` not empty. */
function readFailure(failures: readonly { index: number; error: unknown }[]): unknown {
  const inOrder = [...failures].sort((a, b) => a.index - b.index).map((f) => f.error);
  const bug = inOrder.findIndex((error) => !(error instanceof CalendarProviderError));
  if (bug >= 0) return inOrder[bug];
  const first = inOrder[0] as CalendarProviderError;
  if (first.failure.kind !== 'rate_limited') return first;
  const longest = Math.max(...inOrder.map((error) => ((error as CalendarProviderError).failure.kind === 'rate_limited' ? ((error as CalendarProviderError).failure as { retryAfterMs: number }).retryAfterMs : 0)));
  if (longest <= first.failure.retryAfterMs) return first;
  return new CalendarProviderError({ ...first.failure, retryAfterMs: longest }, { isRefusal: first.isRefusal });
}

export function isProviderError(error: unknown): error is CalendarProviderError {
  return error instanceof CalendarProviderError;
}

/** Wraps anything unexpected (a bug, a parse error) as a permanent failure, keeping known ones. */
export function toProviderFailure(error: unknown): ProviderFailure {
  if (error instanceof CalendarProviderError) return error.failure;
  return { kind: 'permanent', message: error instanceof Error ? error.message : String(error) };
}

/** A sync that brings more changes than this for one calendar is refused rather than held in memory. */
export const MAX_CHANGES_PER_SYNC = 100_000;

/**
 * Pages read for one calendar in one sync, at most. A page may hold fewer items than asked, or none
 * while more follow (Google's events.list, maxResults; Graph's delta-query overview: the number of
 * objects in each page can vary), so the changes are what is bounded (MAX_CHANGES_PER_SYNC); this
 * only stops a provider that keeps sending empty pages.
 */
export const MAX_PAGES_PER_SYNC = 5_000;

/** Throws when a sync has read more changes or pages than a calendar may bring in one sync. */
export function checkSyncSize(changes: number, pages: number): void {
  if (changes > MAX_CHANGES_PER_SYNC) throw new CalendarProviderError({ kind: 'permanent', message: `the calendar has more than ${MAX_CHANGES_PER_SYNC} changes in one sync` });
  if (pages >= MAX_PAGES_PER_SYNC) throw new CalendarProviderError({ kind: 'permanent', message: `the calendar sent more than ${MAX_PAGES_PER_SYNC} pages in one sync` });
}
