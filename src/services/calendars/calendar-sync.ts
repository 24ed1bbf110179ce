// Calendar sync: pulls changes from each connection's provider, writes them as events (upserted
// by provider identity, so a repeated sync never duplicates anything), and lets every change
// reach the bots through the same path as an API change. Keeps push channels open and renewed,
// takes push notifications in, and runs as a background loop that never crashes the process.
//
// Failures arrive as the provider port's closed set and are handled by kind:
// - auth_revoked: the connection is marked auth_revoked and a webhook goes out; each bot linked
//   only to events Rollcall cannot see (of revoked connections or refused calendars, below) gets
//   an `at_risk` decision and a bot.at_risk webhook
//   (the dispatcher cancels it at its join time if access has not come back). Syncing stops,
//   except for a probe (hourly at first, daily after a week: revokedCheckDelayMs) that notices access coming back; connecting again also restores it.
// - rate_limited: the next attempt waits at least retryAfterMs (an hour at most: parseRetryAfterMs),
//   which does not hold back the report of a failing run: the connection is looked at when it
//   is due, without calling the provider (runDue). Nothing calls the provider during the wait,
//   and nothing during it counts as a failed attempt: a push is kept for the wait's end
//   (#lookDuringWait), a sync asked for is put off to it (SyncDeferred). A limit a read meets
//   without failing (a part of a round that ended at one) waits the same way, and ends the sync:
//   the account's calendars not read yet are left, unfailed, for the next sync, which reads them
//   first (#readCalendars, readingOrder).
// - transient, not_found, permanent: retried with capped backoff; last_error says why. A run
//   of failures that lasts syncFailingAfterMs is reported once (calendar.sync_failing, a
//   `sync_failing` decision per scheduled bot) and its end too (calendar.sync_restored); the
//   bots launch on the meeting as last synced (connection-health.ts, domain/sync-health.ts).
// - not_found, auth_revoked or permanent of one calendar while the account's others read: those
//   sync, and that calendar alone backs off (not read again for 30 s doubling to an hour; a sync
//   asked for by a person, or a reconnect, reads it at once). transient of one calendar counts so
//   when another calendar reads in the same sync (two before any read stop it, as the account's),
//   with no backoff: it is read again, last, at the next sync (readingOrder). A calendar refused or gone (not
//   permanent) is marked until a read works, and the bots that depend only on such calendars or
//   revoked connections are at risk as for a revoked connection (#recordCalendarReads).
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Transaction } from 'kysely';
import type { Database, Engine } from '../../db/database.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow, EventRow, Schema } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { databaseGauge, type Metrics } from '../../lib/metrics.ts';
import { RequestInterrupter } from '../../lib/request-interrupter.ts';
import { newId, randomToken } from '../../lib/ids.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { formatInstant } from '../../lib/time.ts';
import type { DecisionKind } from '../../domain/decision-kinds.ts';
import { resolveMeetingLink } from '../../domain/meeting-url.ts';
import { isValidTimeZone, occurrenceKey, parseOccurrenceKey, validateRecurrence } from '../../domain/recurrence.ts';
import { isMeetingUrlWithinLimit, limitEventFields } from '../../domain/event-field-limits.ts';
import { missedIdsAfter, parseMissedIds } from '../../domain/missed-ids.ts';
import {
  CalendarProviderError, MEETINGS_CONFIRMED_PER_READ, NotFoundYet, PushNotSupported, RoundGivenUp, toProviderFailure, type CalendarProvider, type FetchResult, type MeetingToConfirm, type ProviderAccount, type ProviderCredentials, type ProviderEvent,
  type ProviderChange, type ProviderFailure, type PushChannel,
} from '../../adapters/calendars/calendar-provider.ts';
import { BackgroundLoop } from '../../scheduler/background-loop.ts';
import { compiledSeriesOf, seriesEndToStore, type CalendarEvents, type StoredZoneWarnings } from './calendar-events.ts';
import * as connections from '../../store/connection-store.ts';
import { calendarsWithRoundUnderway, changeId, dropKeptParts, keepPart, keptChangeIds, keptRowsUnchanged, readKeptRound, type KeptRound } from '../../store/round-change-store.ts';
import * as bots from '../../store/bot-store.ts';
import { carrySeriesBookings } from '../../store/series-booking-store.ts';
import { carryChain } from '../../store/chain-store.ts';
import { followMeetingToOtherCalendar, orderForMoves } from './calendar-moves.ts';
import { followMovedInstances } from './instance-moves.ts';
import { escapeLike } from '../../lib/like-pattern.ts';
import { isDeclinedInvitation } from '../../domain/invitation.ts';
import { continuationIdAffixes, parseSplitId } from '../../domain/series-split.ts';
import { findCutContinuations } from './cut-series-continuations.ts';
import { holdsFor, roundSeriesRules } from './split-holds.ts';
import { expiredHolds, holdsAfterRound, nextHoldEnd, parseHeldInstances, storedHeldInstances, type HeldInstance } from '../../domain/split-hold.ts';
import { noteCalendarAccessChanges, reportAccessRevoked, reportFailingCalendarsChanged, reportRevokedForClientRefusal, reportSyncFailing, reportSyncRestored } from './connection-health.ts';
import { recheckTruncatedSeries, type Recheck } from './truncated-series.ts';
import { confirmCompleteSeries } from './series-completeness.ts';
import { SyncLeases, type SyncHold } from './sync-leases.ts';
import {
  afterFailedSync, afterGoodSync, failingCalendarsAfter, firstPendingFailure, HEALTHY, LAST_LOOK_BEFORE_JOIN_MS, LAST_LOOK_MIN_GAP_MS, lookAgainAt, retryDelayMs, revokedCheckDelayMs, type ReportedCalendars, type ReportedCalendarsChange,
  type SyncHealth,
} from '../../domain/sync-health.ts';
import { readingOrder } from '../../domain/calendar-read-order.ts';
import { CAPABILITIES_BY_KIND } from '../../adapters/calendars/provider-factory.ts';
import { isClientRefusal } from '../../adapters/calendars/oauth-token-client.ts';
import { sql } from 'kysely';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';
import { paceSteps } from '../../lib/steps.ts';
import { otherFormOfCopyKey } from '../../domain/ics-copy-keys.ts';
import { retryingConflicts } from '../../db/race-retry.ts';
import { recordInstanceSlot, type Db } from '../../store/event-store.ts';
import { isPlainOccurrence } from '../../domain/instance-series.ts';

const DAY_MS = 86_400_000;
/** How often the loop checks that bots booked since a look was planned get theirs (#reviewLastLooks). */
const LOOK_REVIEW_INTERVAL_MS = 60_000;

const PROVIDERS_THAT_CAN_MISS_DELETIONS = (Object.keys(CAPABILITIES_BY_KIND) as (keyof typeof CAPABILITIES_BY_KIND)[]).filter((kind) => CAPABILITIES_BY_KIND[kind].canMissDeletions);

function canMissDeletions(connection: Pick<CalendarConnectionRow, 'provider'>): boolean {
  return PROVIDERS_THAT_CAN_MISS_DELETIONS.includes(connection.provider as keyof typeof CAPABILITIES_BY_KIND);
}
/** The account's calendar list is read again (to find calendars added since) at most this often. */
const CALENDAR_LIST_REFRESH_MS = 3_600_000;
/** A calendar answering 404 has the list read again within this long. */
const LIST_REREAD_AFTER_NOT_FOUND_MS = 10 * 60_000;
/**
 * Failures that may be one calendar's own: it is gone (404), refuses this reader (a 403 on a
 * calendar shared without the rights to read it, Graph's ErrorAccessDenied), or cannot be read
 * (its answer is refused as too large). The account's other calendars sync all the same.
 */
const CALENDAR_LEVEL_FAILURES: ReadonlySet<ProviderFailure['kind']> = new Set(['not_found', 'auth_revoked', 'permanent']);
/** Of those, the ones that leave Rollcall unable to see the calendar's meetings (access_refused_at). */
const REFUSALS: ReadonlySet<ProviderFailure['kind']> = new Set(['not_found', 'auth_revoked']);

/** Builds the adapter for a connection's credentials; the composition root provides it. */
export type ProviderFactory = (credentials: ProviderCredentials, hooks: { onRefreshTokenRotated(refreshToken: string): Promise<void>; cacheKey?: string; mailbox?: string }) => CalendarProvider;

/** Runs after a connection synced: auto-schedule and series top-ups (see auto-schedule.ts). */
export interface AfterSyncHook {
  afterSync(userId: string): Promise<void>;
}

export interface SyncCounts {
  created: number;
  updated: number;
  cancelled: number;
}

export interface SyncReport extends SyncCounts {
  calendar_id: string;
  /** Whether every calendar of the connection synced. */
  synced: boolean;
  status: string;
  failure: ProviderFailure | null;
  synced_at: string | null;
}

export interface CalendarSyncOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  events: CalendarEvents;
  providers: ProviderFactory;
  box: SecretBox | null;
  publicUrl: string;
  pollIntervalMs: number;
  pushPollIntervalMs: number;
  horizonMs: number;
  pushRenewBeforeMs: number;
  isPushEnabled: boolean;
  /** How long a sync holds its connection against other instances. (Default: 10 min) */
  leaseMs?: number;
  /** How long a connection's syncs fail before its client is told (calendar.sync_failing). (Default: 15 min) */
  syncFailingAfterMs?: number;
  /**
   * How long before a bot's join time a calendar Rollcall cannot see is looked at once more, one
   * look per lead (lookAgainAt). (Default: [2 min]; with a bot provider the composition root adds
   * its handover lead + 2 min, since a bot at risk is handed over only once access is back.)
   */
  lastLookLeadsMs?: readonly number[];
  /** Ends the provider requests under way when a stop has waited stopGraceMs for them. */
  requests?: RequestInterrupter;
  /** How long a stop waits for the syncs under way before it ends their requests. (Default: 3000) */
  stopGraceMs?: number;
  /**
   * How many connections the loop syncs at once (CALENDAR_SYNC_CONCURRENCY). A sync mostly waits for
   * its provider: one slow to answer, or a calendar of many pages, must not hold every other
   * connection's sync behind it. (Default: 4)
   */
  syncConcurrency?: number;
}

// ---------------------------------------------------------------------------------------------
// Credentials at rest

/**
 * Seals credentials with the deployment's key. Without one only an ICS feed URL may be stored,
 * in the clear (connect refuses Google and Microsoft before getting here).
 */
export function sealCredentials(box: SecretBox | null, credentials: ProviderCredentials): string {
  const json = JSON.stringify(credentials);
  if (box) return box.encrypt(json);
  if (credentials.kind !== 'ics') throw new Error('refusing to store OAuth credentials without CREDENTIALS_ENCRYPTION_KEY');
  return json;
}

export function openCredentials(box: SecretBox | null, stored: string): ProviderCredentials {
  if (stored.startsWith('{')) return JSON.parse(stored) as ProviderCredentials;
  if (!box) throw new CalendarProviderError({ kind: 'permanent', message: 'the credentials are sealed but CREDENTIALS_ENCRYPTION_KEY is not set' });
  try {
    return JSON.parse(box.decrypt(stored)) as ProviderCredentials;
  } catch {
    throw new CalendarProviderError({ kind: 'permanent', message: 'the credentials cannot be opened with this CREDENTIALS_ENCRYPTION_KEY' });
  }
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function secretMatches(secret: string | undefined, expectedHash: string | null): boolean {
  if (!secret || !expectedHash) return false;
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Capped, jittered pause before a failing connection is tried again: 30 s doubling to 1 h. */
export function syncRetryDelayMs(failures: number): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** The end of the first hold of these calendars not over at `nowMs` (connected_calendars.held_instances); Infinity when none. */
function firstHoldEnd(calendars: readonly ConnectedCalendarRow[], nowMs: number): number {
  return Math.min(Infinity, ...calendars.map((c) => nextHoldEnd(parseHeldInstances(c.held_instances), nowMs) ?? Infinity));
}

/** Until when a provider asked not to be called again (a limit's Retry-After); null for any other failure. */
function retryAfterEnd(failure: ProviderFailure, nowMs: number): number | null {
  return failure.kind === 'rate_limited' ? nowMs + failure.retryAfterMs : null;
}

/** The end of the wait a provider asked for (Retry-After) of an active connection, while it runs; else null. */
export function providerWaitEnd(connection: Pick<CalendarConnectionRow, 'status' | 'retry_not_before'>, nowMs: number): number | null {
  return connection.status === 'active' && connection.retry_not_before !== null && connection.retry_not_before > nowMs ? connection.retry_not_before : null;
}

/**
 * A sync asked for (POST .../sync, a listing with sync=true) while the provider's Retry-After
 * still runs: the provider was not called; the connection syncs at `untilMs`.
 */
export class SyncDeferred extends Error {
  override name = 'SyncDeferred';
  readonly connectionId: string;
  readonly untilMs: number;
  constructor(connectionId: string, untilMs: number) {
    super(`the calendar provider asked not to be called before ${formatInstant(untilMs)} (Retry-After)`);
    this.connectionId = connectionId;
    this.untilMs = untilMs;
  }
}

function healthOf(connection: CalendarConnectionRow): SyncHealth {
  return { failingSince: connection.failing_since, reportedAt: connection.failing_reported_at };
}

function reportedCalendarsOf(connection: CalendarConnectionRow): ReportedCalendars {
  return {
    calendars: connections.reportedFailingCalendars(connection),
    pending: connection.failing_pending === null ? {} : JSON.parse(connection.failing_pending) as Record<string, number>,
  };
}

function storedHealth(health: SyncHealth): { failing_since: number | null; failing_reported_at: number | null } {
  return { failing_since: health.failingSince, failing_reported_at: health.reportedAt };
}

/** A synced event's key within its connection: provider calendar and provider event ids. */
export function storedEventId(calendar: Pick<ConnectedCalendarRow, 'provider_calendar_id'>, providerEventId: string): string {
  return calendar.provider_calendar_id === '' ? providerEventId : `${calendar.provider_calendar_id}/${providerEventId}`;
}

/**
 * How long a calendar the provider refused push on for good (PushNotSupported: Google's generated
 * calendars) goes without a channel being asked for: a day. Google documents no change of mind
 * for such calendars; asking daily costs one call a day, where asking at each sync cost one every
 * 5 minutes, and still notices a calendar that comes to take channels. A reconnect forgets it
 * (connections.clearPushRefusals), and a calendar dropped and synced again starts without it.
 */
export const PUSH_REFUSAL_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * How many retired channels one sync asks to stop at most: the stops run after the sync's outcome
 * is written, but a connection's syncs run one after another in the loop, and a stop the provider
 * leaves hanging costs CALENDAR_HTTP_TIMEOUT_MS each. The rest wait for later syncs.
 */
export const RETIRED_STOPS_PER_SYNC = 3;

/**
 * How many records of channels being opened that no notification has named a calendar keeps: a
 * watch that times out at every sync leaves one each time; the newest are kept.
 */
export const PENDING_CHANNELS_KEPT = 5;

/**
 * When a retired channel whose stop has failed `attempts` times is asked again: 5 minutes,
 * doubling to 6 hours (a Google channel lives 7 days at most, so some 30 asks in all, where
 * asking at every sync was up to 2,000). A limit's wait, when longer, is waited instead.
 */
export function retiredStopRetryDelayMs(attempts: number): number {
  return Math.min(6 * 3_600_000, 5 * 60_000 * 2 ** Math.max(0, attempts - 1));
}

export const NOTIFICATION_PATHS = {
  google: '/api/v1/calendar/notifications/google',
  microsoft: '/api/v1/calendar/notifications/microsoft',
  microsoftLifecycle: '/api/v1/calendar/notifications/microsoft/lifecycle',
} as const;

/** Thrown inside a sync that finds another sync holding its connection: it stops, writing nothing. */
class SyncSuperseded extends Error {
  override name = 'SyncSuperseded';
}

/** A stop ended the sync's provider requests: it ends without recording anything. */
class SyncInterrupted extends Error {
  override name = 'SyncInterrupted';
}

/** What a sync made of one calendar: read, failed on its own, or held back by its backoff (standing for its last failure). */
/**
 * `continueAfterMs`: the read is one part of a round, to go on soon (FetchResult.hasMore), after
 * this wait; `limitWaitMs`: the read met a limit it did not fail on (a part that ended at one, or
 * Google's lookups of a round under way: FetchResult.continueAfterMs), whose Retry-After this is
 * (no call to the provider before it ends).
 */
/**
 * `isKeptPart`: the read was a part of a round read in parts that is not its last (kept, nothing
 * applied). It shows the provider answers, not that the calendar syncs: a failure recorded before
 * it stays until a round completes (a round given up at the limits of one listing fails each time).
 */
type CalendarRead = { calendar: ConnectedCalendarRow; outcome: 'read'; continueAfterMs?: number; limitWaitMs?: number; isKeptPart?: boolean } | { calendar: ConnectedCalendarRow; outcome: 'failed' | 'held'; failure: ProviderFailure };

/**
 * The wait before a calendar whose read is one part of a round (FetchResult.hasMore) is read
 * again, when the usual wait is longer. A minute. One part of a Graph round asks for every page of
 * the round again (at most 100 entries a page) and at most MAX_MASTER_LOOKUPS (200) masters: a
 * round of 2,000 series with two occurrences each (40 pages, 10 parts) asks for about 2,400
 * requests per 10 minutes of the 10,000 an app may make to one mailbox
 * (learn.microsoft.com/graph/throttling-limits#outlook-service-limits); a larger window's pages
 * weigh more (30,000 entries, 300 pages a part: about 5,000 per 10 minutes). A part of a Google
 * full listing asks for at most PAGES_PER_PART (40) pages, never one an earlier part read.
 */
export const CONTINUED_READ_AFTER_MS = 60_000;

/**
 * What the calendars that failed on their own make of a sync. None: it worked. Every calendar
 * refused access in this sync (none held back by its backoff): the account's access is gone. Otherwise the first calendar's failure, a refusal
 * of access named as that calendar's (the others read fine with the same token), so that the
 * client hears of it as a failing sync while the other calendars go on.
 */
function failureOfCalendars(reads: readonly CalendarRead[]): ProviderFailure | null {
  const calendarCount = reads.length;
  const failures = reads.filter((r) => r.outcome !== 'read');
  const [first] = failures;
  if (!first) return null;
  const revoked = failures.find((f) => f.failure.kind === 'auth_revoked');
  // A calendar held back by its backoff may read again at its next try: it is no refusal now.
  const isEveryCalendarRead = !reads.some((r) => r.outcome === 'held');
  if (revoked && failures.length === calendarCount && isEveryCalendarRead) return revoked.failure;
  // A connection of one calendar (every feed) needs no calendar named.
  if (calendarCount === 1) return first.failure;
  const named = `calendar ${first.calendar.provider_calendar_id}: ${first.failure.message}`;
  return first.failure.kind === 'auth_revoked' ? { kind: 'permanent', message: `${named} (access to this calendar refused)` } : { ...first.failure, message: named };
}

/**
 * The failure a calendar that keeps failing on its own stands for until its next read is due (a
 * sync counts it as failing without reading it); null when it is due, or did not fail.
 */
export function heldCalendarFailure(calendar: Pick<ConnectedCalendarRow, 'read_error' | 'next_read_at'>, nowMs: number): ProviderFailure | null {
  if (calendar.next_read_at === null || calendar.next_read_at <= nowMs) return null;
  return storedCalendarFailure(calendar.read_error, `read again at ${formatInstant(calendar.next_read_at)}`);
}

/**
 * The failure of its own a calendar's last read recorded (read_error), `note` added; null when it
 * has none, or (unless `anyKind`) when it is no calendar-level failure (a server error is read
 * again at each sync rather than held back).
 */
function storedCalendarFailure(readError: string | null, note: string, options: { anyKind?: boolean } = {}): ProviderFailure | null {
  if (readError === null) return null;
  const separator = readError.indexOf(': ');
  const kind = readError.slice(0, separator) as ProviderFailure['kind'];
  if (separator >= 0 && CALENDAR_LEVEL_FAILURES.has(kind)) return { kind, message: `${readError.slice(separator + 2)} (${note})` } as ProviderFailure;
  if (!options.anyKind) return null;
  // A server error or a timeout (or a text of no known kind): transient, as it was recorded.
  return { kind: 'transient', message: `${separator >= 0 && kind === 'transient' ? readError.slice(separator + 2) : readError} (${note})` };
}

/** The connection was disconnected while it synced: nothing more of it is read. */
class ConnectionRemoved extends CalendarProviderError {
  constructor() {
    super({ kind: 'permanent', message: 'the connection was removed during the sync' });
  }
}

// ---------------------------------------------------------------------------------------------

export class CalendarSync {
  readonly #o: Required<CalendarSyncOptions>;
  /** When #reviewLastLooks runs next (clock time). */
  #nextLookReview = 0;
  #afterSync: AfterSyncHook | null = null;
  readonly #syncs: Counter<'provider' | 'outcome'>;
  readonly #notifications: Counter<'provider' | 'outcome'>;
  readonly #pushRefusals: Counter<'provider'>;
  readonly #retiredStops: Counter<'provider' | 'outcome'>;
  readonly #loop: BackgroundLoop;
  /** Syncs asked for directly (syncNow), until they end. */
  readonly #direct = new Set<Promise<void>>();
  readonly #leases: SyncLeases;
  /** Set by stop: a pass ends with the sync under way, leaving the rest due for the next instance. */
  #isStopping = false;

  constructor(options: CalendarSyncOptions) {
    this.#o = { leaseMs: 600_000, syncFailingAfterMs: 900_000, lastLookLeadsMs: [LAST_LOOK_BEFORE_JOIN_MS], requests: new RequestInterrupter(), stopGraceMs: 3000, syncConcurrency: 4, ...options };
    this.#leases = new SyncLeases({ database: options.database, clock: options.clock, leaseMs: this.#o.leaseMs, logger: options.logger });
    this.#syncs = new Counter({ name: 'rollcall_calendar_syncs_total', help: 'Calendar connection syncs by provider and outcome', labelNames: ['provider', 'outcome'], registers: [options.metrics.registry] });
    this.#notifications = new Counter({ name: 'rollcall_calendar_notifications_total', help: 'Calendar push notifications by provider and outcome', labelNames: ['provider', 'outcome'], registers: [options.metrics.registry] });
    this.#pushRefusals = new Counter({ name: 'rollcall_calendar_push_refusals_total', help: 'Push channels a provider refused for good on a calendar (not asked again for a day)', labelNames: ['provider'], registers: [options.metrics.registry] });
    this.#retiredStops = new Counter({ name: 'rollcall_calendar_retired_channel_stops_total', help: 'Attempts to stop replaced push channels, by outcome (stopped, failed, expired)', labelNames: ['provider', 'outcome'], registers: [options.metrics.registry] });

    this.#registerHealthGauges(options.metrics.registry);
    this.#loop = new BackgroundLoop({
      name: 'calendar_sync',
      health: options.database.health,
      logger: options.logger,
      metrics: options.metrics,
      pass: async () => {
        await this.runDue();
        const next = await connections.nextDueAt(this.#o.database.db);
        // Another instance may add or move connections; look again at least every 30 s. A due
        // connection another instance holds is not ours to spin on: wait a second at least.
        return next === null ? 30_000 : Math.min(30_000, Math.max(1000, next - this.#o.clock.now()));
      },
    });
  }

  setAfterSyncHook(hook: AfterSyncHook): void {
    this.#afterSync = hook;
  }

  get isRunning(): boolean {
    return this.#loop.isRunning;
  }

  // ----- the background loop -----------------------------------------------------------------

  start(): void {
    this.#isStopping = false;
    this.#o.requests.renew();
    this.#loop.start();
  }

  /**
   * Stops the loop after the sync under way (a pass claims no further connection: after an outage
   * hundreds may be due, and a process has seconds to stop; syncNow starts none either), and waits
   * for the syncs under way, the loop's and those asked for directly: up to stopGraceMs, then their
   * provider requests are ended and the syncs end without recording anything, their connections
   * handed back for the next instance (a provider may take CALENDAR_HTTP_TIMEOUT_MS to answer).
   */
  async stop(): Promise<void> {
    this.#isStopping = true;
    // (Renewed at the end: connecting a calendar, through the API, reads through the same providers.)
    await this.#o.requests.endWithin(Promise.all([this.#loop.stop(), this.#directSettled()]).then(() => {}), this.#o.stopGraceMs);
    this.#leases.stop();
  }

  /** Until no sync asked for directly is running (one may start another as it ends: a listing's lane). */
  async #directSettled(): Promise<void> {
    while (this.#direct.size > 0) await Promise.allSettled([...this.#direct]);
  }

  wake(): void {
    this.#loop.wake();
  }

  /**
   * Syncs every connection that is due now, until none is (tests drive the loop with this):
   * syncConcurrency at a time, each claimed by its lease as another instance's would be.
   */
  async runDue(): Promise<number> {
    await this.#reviewLastLooks();
    const counts = await Promise.all(Array.from({ length: this.#o.syncConcurrency }, () => this.#syncWhileDue()));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Claims and syncs due connections one after another until none is left unclaimed. */
  async #syncWhileDue(): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.#isStopping) return total;
      const claimed = await this.#leases.claimNext();
      if (!claimed) return total;
      const { connection, hold } = claimed;
      try {
        // Due while the provider's Retry-After still runs (woken for the failing report, or by a
        // push): the provider is not called, and the wait is no failed attempt (#lookDuringWait).
        const waitEnd = providerWaitEnd(connection, this.#o.clock.now());
        if (waitEnd !== null) await this.#lookDuringWait(connection, hold, waitEnd);
        else await this.#syncClaimed(connection, hold);
      } catch (error) {
        // One broken connection must not stop the others.
        this.#o.logger.error({ err: error, calendarId: connection.id }, 'calendar sync failed unexpectedly');
        await this.#leases.end(hold, { next_sync_at: this.#o.clock.now() + syncRetryDelayMs(connection.consecutive_failures + 1) })
          .catch(() => this.#leases.release(hold));
      }
      total++;
    }
  }

  /**
   * Syncs one connection now (POST .../sync, and right after connecting). `provider`: the adapter
   * that connecting has just used, when it may be used again (an ICS feed's keeps the feed it read).
   * `readHeld`: calendars backing off on their own are read too (a person asked for this sync,
   * perhaps after fixing one).
   */
  syncNow(connectionId: string, provider?: CalendarProvider, options: { readHeld?: boolean } = {}): Promise<SyncReport> {
    if (this.#isStopping) return Promise.reject(new CalendarProviderError({ kind: 'transient', message: 'this instance is stopping; another one syncs the connection' }));
    const sync = (async () => {
      const hold = await this.#hold(connectionId);
      try {
        const connection = await connections.findConnectionById(this.#o.database.db, connectionId);
        if (!connection) throw new CalendarProviderError({ kind: 'permanent', message: 'the connection was removed' });
        // Whoever asks, the provider is not called before the end of the wait it asked for: the
        // sync asked for runs then (the connection's next sync is brought to the wait's end).
        const waitEnd = providerWaitEnd(connection, this.#o.clock.now());
        if (waitEnd !== null) {
          const nextSyncAt = Math.min(connection.next_sync_at ?? waitEnd, waitEnd);
          if (!(await this.#leases.end(hold, { next_sync_at: nextSyncAt }))) throw new CalendarProviderError({ kind: 'transient', message: 'another sync of this connection took it over' });
          throw new SyncDeferred(connection.id, waitEnd);
        }
        return await this.#syncClaimed(connection, hold, provider, options.readHeld === true);
      } finally {
        // Ended by the sync as a rule; a sync that threw (the database gone mid-way) lets it go here.
        await this.#leases.release(hold);
      }
    })();
    // Tracked until it ends: a caller may stop waiting for it (GET /calendar/events?sync=true
    // does after a bound), and a stop must not close the database under it.
    const tracked = sync.then(() => {}, () => {});
    this.#direct.add(tracked);
    void tracked.finally(() => this.#direct.delete(tracked));
    return sync;
  }

  /**
   * Runs `work` while holding the connection, so that no sync writes its events meanwhile
   * (disconnecting); the hold ends with `work` unless `work` removed the connection.
   */
  async whileHolding<T>(connectionId: string, work: () => Promise<T>): Promise<T> {
    let hold: SyncHold | null = null;
    try {
      hold = await this.#hold(connectionId);
    } catch {
      // A sync that outlasts the wait cannot write for a removed connection anyway: each
      // transaction of a sync first locks the connection row and gives up if it is gone.
    }
    try {
      return await work();
    } finally {
      if (hold) await this.#leases.release(hold);
    }
  }

  /** Takes the connection's lease, waiting (up to ~5 s) for a sync in progress to finish. */
  async #hold(connectionId: string): Promise<SyncHold> {
    for (let attempt = 0; ; attempt++) {
      const hold = await this.#leases.claim(connectionId);
      if (hold) return hold;
      if (attempt >= 25) throw new CalendarProviderError({ kind: 'transient', message: 'another sync of this connection is still running' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Gauges read at scrape time, for alerts on a sync that stops quietly: how many connections are
   * in each state, how late the most overdue sync is (the loop is stuck or cannot keep up), and how
   * long ago the least recently synced active connection last synced (one keeps failing).
   */
  #registerHealthGauges(registry: Registry): void {
    const { database, clock } = this.#o;
    const secondsSince = (atMs: number | null) => (atMs === null ? 0 : Math.max(0, clock.now() - atMs) / 1000);
    databaseGauge({ name: 'rollcall_calendar_connections', help: 'Calendar connections by provider and state (active, failing: active but its last sync failed, auth_revoked, ...)', labelNames: ['provider', 'state'], registers: [registry] }, database.health, async (gauge) => {
      const counts = await connections.countConnectionsByState(database.db);
      gauge.reset();
      for (const c of counts) gauge.set({ provider: c.provider, state: c.state }, c.count);
    });
    databaseGauge({ name: 'rollcall_calendar_sync_overdue_seconds', help: 'How long the most overdue calendar sync has been due and not done (0: none)', registers: [registry] }, database.health, async (gauge) => {
      gauge.set(secondsSince(await connections.findOldestDueSyncAt(database.db, clock.now())));
    });
    databaseGauge({ name: 'rollcall_calendar_oldest_sync_age_seconds', help: 'Time since the least recently synced active calendar connection last synced successfully (0: none)', registers: [registry] }, database.health, async (gauge) => {
      gauge.set(secondsSince(await connections.findOldestSuccessfulSyncAt(database.db)));
    });
  }

  /** Asks for a sync of a connection soon (a notification came) and wakes the loop. */
  async requestSync(connectionId: string): Promise<void> {
    await connections.requestSync(this.#o.database.db, connectionId, this.#o.clock.now());
    this.wake();
  }

  // ----- one connection ------------------------------------------------------------------------

  /**
   * A connection due while the wait a provider asked for (its Retry-After, kept in
   * retry_not_before) still runs: a push came, or the report of its failing run is due. The
   * provider is not called, and nothing of the failure is changed: not the attempt count (the
   * backoff grows by attempts), not last_error, not the wait. The run is reported if its report is
   * due (a wait up to an hour must not delay it); the connection syncs when the wait ends, so a
   * change a push announced meanwhile is read then (or at the report, if it comes first).
   */
  async #lookDuringWait(connection: CalendarConnectionRow, hold: SyncHold, waitEnd: number): Promise<void> {
    const { database, clock, logger } = this.#o;
    const now = clock.now();
    // The wait after a part of a round that ended at a limit, the sync itself having worked: no
    // failing run starts.
    if (connection.consecutive_failures === 0 && connection.failing_since === null) {
      await this.#leases.end(hold, { next_sync_at: waitEnd, updated_at: now });
      return;
    }
    const { health, isReportDue } = afterFailedSync(healthOf(connection), now, this.#o.syncFailingAfterMs);
    const reportDueAt = health.reportedAt === null && health.failingSince !== null ? health.failingSince + this.#o.syncFailingAfterMs : null;
    const update = { next_sync_at: reportDueAt !== null && reportDueAt > now && reportDueAt < waitEnd ? reportDueAt : waitEnd, updated_at: now, ...storedHealth(health), failing_since: health.failingSince! };
    if (!isReportDue) {
      await this.#leases.end(hold, update);
      return;
    }
    // The report names the failure the wait stands for (last_error, as the attempt left it).
    const lastError = connection.last_error ?? `rate_limited: not called before ${formatInstant(waitEnd)}, as the provider asked (Retry-After)`;
    const scheduled = await this.#leases.endWith(hold, (owner) => reportSyncFailing(database, connection, owner, { ...update, last_error: lastError }, null, now));
    if (scheduled === null) return;
    logger.warn({ calendarId: connection.id, provider: connection.provider, failingSinceMs: health.failingSince, scheduledBots: scheduled, waitEndMs: waitEnd }, 'calendar sync keeps failing (the provider asked to wait); reported to the client');
  }

  async #syncClaimed(connection: CalendarConnectionRow, hold: SyncHold, given?: CalendarProvider, readHeld = false): Promise<SyncReport> {
    const { database, clock } = this.#o;
    const totals: SyncCounts = { created: 0, updated: 0, cancelled: 0 };
    const wasRevoked = connection.status === 'auth_revoked';
    if ((connection.status !== 'active' && !wasRevoked) || connection.credentials === null) {
      await this.#leases.release(hold);
      return this.#report(connection.id, totals, null);
    }
    let failure: ProviderFailure | null = null;
    /** Some calendars failed on their own and the others synced. */
    let isPartial = false;
    /** Their provider ids, when isPartial. */
    let failingCalendars: string[] | null = null;
    /** Its adapter, once made: it stops the retired channels after the outcome is written. */
    let provider: CalendarProvider | null = null;
    /** A calendar's read was one part of a round: the next sync comes after this wait (CONTINUED_READ_AFTER_MS, or a limit's). */
    let continueAfterMs: number | null = null;
    /** A calendar's part of a round ended at a limit: its Retry-After, which holds every call to the provider as a failure's does. */
    let limitWaitMs: number | null = null;
    /** Every calendar read a part of a round that is not its last: the connection's sync has not worked yet (CalendarRead.isKeptPart). */
    let isRoundUnfinished = false;
    try {
      provider = given ?? this.#providerFor(connection);
      await this.#refreshCalendarList(connection, hold, provider);
      const calendars = await connections.listCalendars(database.db, connection.id);
      const reads = await this.#readCalendars(connection, hold, provider, calendars, readHeld, totals);
      // A stop ended requests of this sync: what failed did not fail on its own, and is not recorded.
      if (this.#o.requests.isInterrupted) throw new SyncInterrupted();
      await this.#recordCalendarReads(connection, hold, reads);
      for (const read of reads) if (read.outcome === 'read' && read.continueAfterMs !== undefined) continueAfterMs = Math.max(continueAfterMs ?? 0, read.continueAfterMs);
      for (const read of reads) if (read.outcome === 'read' && read.limitWaitMs !== undefined) limitWaitMs = Math.max(limitWaitMs ?? 0, read.limitWaitMs);
      isRoundUnfinished = reads.length > 0 && reads.every((r) => r.outcome === 'read' && r.isKeptPart === true);
      const failures = reads.filter((r) => r.outcome !== 'read');
      // After a limit met without failing, nothing more is asked of the provider in this sync once
      // the read that met it is done (its Retry-After holds every call): channels to open, renew
      // or stop wait for the next sync, which comes after the wait, before the renewal lead (a
      // day) runs out.
      if (limitWaitMs === null) await this.#keepPushOpen(connection, hold, provider, new Set(failures.map((f) => f.calendar.id)));
      if (failures.some((f) => f.failure.kind === 'not_found')) await this.#readListSoon(connection.id);
      failure = failureOfCalendars(reads);
      isPartial = failures.length > 0 && failures.length < reads.length;
      if (isPartial) failingCalendars = failures.map((f) => f.calendar.provider_calendar_id);
      // A revoked connection some of whose calendars read again has its access back (one refused
      // calendar had it marked revoked before refusals were told apart per calendar); a calendar
      // that still fails is the next sync's failure, on an active connection.
      if (wasRevoked && isPartial && failure?.kind !== 'auth_revoked') failure = null;
    } catch (error) {
      if (error instanceof SyncSuperseded) return this.#superseded(connection, hold, totals);
      if (error instanceof SyncInterrupted || (this.#o.requests.isInterrupted && error instanceof CalendarProviderError && error.failure.kind === 'transient')) {
        await this.#leases.release(hold);
        this.#o.logger.info({ calendarId: connection.id }, 'calendar sync ended by the stop; the connection is synced again by the next instance');
        return this.#report(connection.id, totals, { kind: 'transient', message: 'ended by a stop of this instance' });
      }
      failure = toProviderFailure(error);
      if (!(error instanceof CalendarProviderError)) this.#o.logger.error({ err: error, calendarId: connection.id }, 'calendar sync failed');
    }
    if (provider?.push) await this.#retireHeardPendingChannels(connection, hold);
    const now = clock.now();
    // A read that met a limit without failing (a part of a round that ended at one, or lookups
    // that met one): until its Retry-After ends, nothing calls the provider (retry_not_before: pushes, syncs asked for, the looks before join times wait), as
    // after a sync that failed at a limit.
    const partWaitEnd = limitWaitMs === null ? null : now + limitWaitMs;
    if (failure === null) {
      const { health, isRecoveryReported } = afterGoodSync(healthOf(connection));
      const calendars = await connections.listCalendars(database.db, connection.id);
      const nextSyncAt = await this.#nextSyncAt(connection, calendars, await this.#confirmingLookAt(connection, now + this.#usualIntervalMs(calendars, now, continueAfterMs), now), now, { notBeforeMs: partWaitEnd ?? now, readsWereTried: true });
      // Only parts of rounds not finished read, on a connection failing: its failing run goes on
      // (its backoff, its report), as a round given up at the limits of one listing fails again
      // at its end; a round that completes is the sync that works.
      if (isRoundUnfinished && !wasRevoked && (connection.consecutive_failures > 0 || connection.failing_since !== null)) {
        const update = { retry_not_before: partWaitEnd, next_sync_at: Math.max(nextSyncAt, partWaitEnd ?? 0), updated_at: now };
        if (!(await this.#leases.end(hold, update))) return this.#superseded(connection, hold, totals);
        this.#syncs.inc({ provider: connection.provider, outcome: 'ok' });
      } else {
        const update = {
          status: 'active', last_sync_at: now, last_error: null, last_error_at: null, consecutive_failures: 0, retry_not_before: partWaitEnd,
          next_sync_at: Math.max(nextSyncAt, partWaitEnd ?? 0), updated_at: now, ...storedHealth(health),
        };
        const isReported = wasRevoked || isRecoveryReported;
        const isWritten = isReported ? (await this.#leases.endWith(hold, (owner) => reportSyncRestored(database, connection, owner, update, now))) !== null : await this.#leases.end(hold, update);
        if (!isWritten) return this.#superseded(connection, hold, totals);
        if (isReported) this.#o.logger.info({ calendarId: connection.id, provider: connection.provider }, wasRevoked ? 'calendar connection has its access again' : 'calendar connection syncs again');
        this.#syncs.inc({ provider: connection.provider, outcome: 'ok' });
        await this.#runAfterSync(connection);
      }
    } else if (failure.kind === 'auth_revoked' || wasRevoked) {
      if (wasRevoked && isClientRefusal(failure) && /\b(invalid_client|deleted_client)\b/.test(connection.last_error ?? '')) {
        // Revoked for invalid_client or deleted_client (as release 0.1 did), and the client refused still: the app's
        // credentials, not the user's access. Active with its sync failing since it was revoked,
        // reported at once, its bots given back (access_restored) to launch as last synced. One
        // revoked for another reason (invalid_grant) whose client is refused now stays revoked:
        // the refusal of the client says nothing of the user's grant.
        const failures = connection.consecutive_failures + 1;
        const health: SyncHealth = { failingSince: connection.last_error_at ?? now, reportedAt: now };
        const update = {
          last_error: `${failure.kind}: ${failure.message}`.slice(0, 500), last_error_at: now, consecutive_failures: failures, retry_not_before: null,
          next_sync_at: now + syncRetryDelayMs(failures), updated_at: now, ...storedHealth(health), failing_since: health.failingSince!,
        };
        const told = await this.#leases.endWith(hold, (owner) => reportRevokedForClientRefusal(database, connection, owner, update, now));
        if (told === null) return this.#superseded(connection, hold, totals);
        this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider, scheduledBots: told }, 'calendar connection revoked for a refused OAuth client is active again with its sync failing; its bots launch as last synced');
      } else if (wasRevoked) {
        // Still revoked, or a probe that could not tell (the provider down): everything was said
        // when access was lost, and a revoked connection is no failing sync; look again later.
        // A probe the provider answered with a limit waits its Retry-After, and so does every look.
        const retryNotBefore = retryAfterEnd(failure, now);
        // last_error_at: when the access was lost (a probe leaves it).
        // Counted, so that the next probe reads the calendars in another order (readingOrder).
        const update = {
          next_sync_at: await this.#nextProbeAt(connection, connection.last_error_at ?? now, now, retryNotBefore ?? now), retry_not_before: retryNotBefore,
          consecutive_failures: connection.consecutive_failures + 1, updated_at: now, ...storedHealth(HEALTHY),
        };
        if (!(await this.#leases.end(hold, update))) return this.#superseded(connection, hold, totals);
      } else {
        const update = {
          status: 'auth_revoked', last_error: `auth_revoked: ${failure.message}`.slice(0, 500), last_error_at: now,
          next_sync_at: await this.#nextProbeAt(connection, now, now, now), retry_not_before: null, updated_at: now, ...storedHealth(HEALTHY),
        };
        const atRisk = await this.#leases.endWith(hold, (owner) => reportAccessRevoked(database, connection, owner, update, now));
        if (atRisk === null) return this.#superseded(connection, hold, totals);
        this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider, botsAtRisk: atRisk }, 'calendar connection lost its access (auth_revoked)');
      }
      this.#syncs.inc({ provider: connection.provider, outcome: failure.kind });
    } else {
      const failures = connection.consecutive_failures + 1;
      const { health, isReportDue } = afterFailedSync(healthOf(connection), now, this.#o.syncFailingAfterMs);
      const calendars = await connections.listCalendars(database.db, connection.id);
      // A run reported already follows the calendars that fail since (one more failing, one reading again).
      const reportedAt = connection.failing_reported_at;
      const reported = isReportDue || reportedAt === null ? null
        : failingCalendarsAfter(reportedCalendarsOf(connection), failingCalendars, calendars.map((c) => c.provider_calendar_id), now, this.#o.syncFailingAfterMs,
          new Set(calendars.filter((c) => c.created_at > reportedAt).map((c) => c.provider_calendar_id)));
      // A report whose calendars all read again ends; those failing since start a run of their own.
      const runHealth: SyncHealth = reported?.ends ? { failingSince: reported.failingSince, reportedAt: null } : health;
      const backoffMs = Math.max(failure.kind === 'rate_limited' ? failure.retryAfterMs : 0,
        retryDelayMs(runHealth, now, syncRetryDelayMs(failures), this.#o.syncFailingAfterMs, reported && !reported.ends ? firstPendingFailure(reported.next) : null));
      // The calendars that synced are read at least as often as usual: one that fails on its own
      // (deleted, or refused) must not leave the others to be read an hour apart.
      // No later than a hold's end either: its instance is deleted then, read or not (#settleHoldsUnread).
      const plannedMs = now + Math.min(isPartial ? Math.min(backoffMs, this.#usualIntervalMs(calendars, now, continueAfterMs)) : backoffMs, firstHoldEnd(calendars, now) - now);
      // A calendar that refuses its reader is read again before its bots' join times: the connection
      // syncs by then, though not before a provider's Retry-After (the failure's, or that of a
      // part of a round another calendar read).
      const failureWaitEnd = retryAfterEnd(failure, now);
      const retryNotBefore = failureWaitEnd === null && partWaitEnd === null ? null : Math.max(failureWaitEnd ?? 0, partWaitEnd ?? 0);
      const syncAt = Math.max(retryNotBefore ?? 0, await this.#nextSyncAt(connection, calendars, plannedMs, now, { notBeforeMs: retryNotBefore ?? now, readsWereTried: isPartial }));
      // A provider's Retry-After (up to an hour) does not hold back the report of the run: the
      // connection is looked at when the report is due, without calling the provider (runDue).
      const reportDueAt = runHealth.reportedAt === null && runHealth.failingSince !== null ? runHealth.failingSince + this.#o.syncFailingAfterMs : null;
      const waitMs = (reportDueAt !== null && reportDueAt > now && reportDueAt < syncAt ? reportDueAt : syncAt) - now;
      const update = {
        last_error: `${failure.kind}: ${failure.message}`.slice(0, 500), last_error_at: now, consecutive_failures: failures, retry_not_before: retryNotBefore,
        next_sync_at: now + waitMs, updated_at: now, ...storedHealth(runHealth), failing_since: runHealth.failingSince!,
      };
      const scheduled = isReportDue
        ? await this.#leases.endWith(hold, (owner) => reportSyncFailing(database, connection, owner, update, failingCalendars, now))
        : reported !== null
          ? await this.#endReportedRun(hold, connection, update, reported, now)
          : (await this.#leases.end(hold, update)) ? 0 : null;
      if (scheduled === null) return this.#superseded(connection, hold, totals);
      if (isReportDue) this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider, failingSinceMs: health.failingSince, scheduledBots: scheduled }, 'calendar sync keeps failing; reported to the client');
      this.#syncs.inc({ provider: connection.provider, outcome: failure.kind });
      this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider, failure: failure.kind, retryInMs: waitMs }, 'calendar sync failed; will retry');
      // The calendars that synced get what follows a sync (auto-schedule, series top-ups) as usual.
      if (isPartial) await this.#runAfterSync(connection);
    }
    // Once the outcome is written and the connection let go (a disconnect waits for no stop): not
    // while the provider asks to wait, nor with access lost (the stops would fail as the reads did).
    if (provider && !wasRevoked && failure?.kind !== 'rate_limited' && failure?.kind !== 'auth_revoked' && limitWaitMs === null) await this.#stopRetiredChannels(connection, provider);
    return this.#report(connection.id, totals, failure);
  }

  /**
   * Ends a failed sync of a run reported already, telling what changed in which calendars fail
   * (failingCalendarsAfter), or ending the report when every calendar of it reads again. Null: superseded.
   */
  async #endReportedRun(hold: SyncHold, connection: CalendarConnectionRow, update: Parameters<typeof reportSyncFailing>[3], reported: ReportedCalendarsChange, now: number): Promise<number | null> {
    const { database, logger } = this.#o;
    const where = { calendarId: connection.id, provider: connection.provider };
    if (reported.ends) {
      const ended = { ...update, failing_calendars: null, failing_pending: null };
      if ((await this.#leases.endWith(hold, (owner) => reportSyncRestored(database, connection, owner, ended, now, { stillFailing: reported.stillFailing }))) === null) return null;
      logger.info({ ...where, readAgain: reported.readAgain, stillFailing: reported.stillFailing }, 'the calendars reported failing sync again; others that began failing since are not reported yet');
      return 0;
    }
    const pending = Object.keys(reported.next.pending).length === 0 ? null : JSON.stringify(reported.next.pending);
    const stored = { ...update, failing_calendars: connections.storedFailingCalendars(reported.next.calendars), failing_pending: pending };
    if (reported.joined.length === 0 && reported.readAgain.length === 0) return (await this.#leases.end(hold, stored)) ? 0 : null;
    const scheduled = await this.#leases.endWith(hold, (owner) => reportFailingCalendarsChanged(database, connection, owner, stored, reported, now));
    if (scheduled !== null) {
      logger.warn({ ...where, failingCalendars: reported.next.calendars, joined: reported.joined, readAgain: reported.readAgain },
        reported.joined.length > 0 ? 'more calendars of a connection reported failing keep failing; reported to the client' : 'calendars of a connection reported failing sync again; told to the client');
    }
    return scheduled;
  }

  /**
   * Reads each calendar of the connection and applies what it brings, one after another. A
   * calendar backing off on its own is not read (unless `readHeld`): it stands for its last
   * failure. A failure that is one calendar's own (deleted, shared without the rights to read it,
   * too large) leaves the account's others to read; an outage, a limit or a lost token stops
   * them all (thrown).
   *
   * A read that meets a limit without failing (a part of a round that ended at one, lookups that
   * met one: limitWaitMs) ends the reads too, what was read written as usual: the provider's
   * quotas are the account's, not the calendar's (Google's per project and per user,
   * developers.google.com/workspace/calendar/api/guides/quota; Graph's per app and mailbox,
   * learn.microsoft.com/graph/throttling-limits#outlook-service-limits), so the next calendar's
   * read would meet the limit again, and fail the sync. A calendar left whose last read failed
   * on its own (any failure, a server error included) stands for that failure (held), as one
   * held back by its backoff does; the others are neither failed nor refused: they are marked
   * (left_unread_at), asked for first by the next sync, which comes after the Retry-After
   * (readingOrder). A calendar asked for loses its mark, even in a sync that then stops (stop):
   * a mark puts it first once. When a stop of this instance ended the sync's requests, every
   * mark stays as it was.
   */
  async #readCalendars(connection: CalendarConnectionRow, hold: SyncHold, provider: CalendarProvider, calendars: readonly ConnectedCalendarRow[], readHeld: boolean, totals: SyncCounts): Promise<CalendarRead[]> {
    const { database, clock } = this.#o;
    const reads: CalendarRead[] = [];
    const inOrder = readingOrder(calendars, connection.consecutive_failures);
    /**
     * A server error or a timeout met before any calendar read in this sync. It may be the
     * provider's or the account's: a second one stops the sync (an outage costs two requests, not
     * one per calendar). Once another calendar reads in this sync, before or after it, it is that
     * calendar's own (a calendar can answer 503 for days while the others read:
     * aronwoost/google-calendar-hours issue 75).
     */
    let unexplained: { read: CalendarRead & { outcome: 'failed' }; error: unknown } | null = null;
    /**
     * What was read and is not written yet. Written once every calendar is read, those a meeting
     * moved to first (calendar-moves.ts), so that its bots follow it rather than go with the event
     * that left; and when the sync stops early, so that a cancellation read does not wait.
     */
    const unwritten: { calendar: ConnectedCalendarRow; result: FetchResult; recheck: Recheck }[] = [];
    const write = async () => {
      const ordered = await orderForMoves(database.db, connection.id, unwritten.splice(0), storedEventId);
      for (const { calendar, result, recheck } of ordered) {
        // Written at the clock of the write, not of the read before the fetch (which may have taken
        // seconds): a row's updated_at is when it changed (the chain loop reads changes by it).
        const counts = await this.#apply(connection, hold, calendar, result, clock.now(), recheck);
        totals.created += counts.created;
        totals.updated += counts.updated;
        totals.cancelled += counts.cancelled;
      }
    };
    /** The calendars this sync asked the provider for; those it came to and held back are in `reads` alone. */
    const reached = new Set<number>();
    const settleUnread = () => {
      const read = new Set(reads.filter((r) => r.outcome === 'read').map((r) => r.calendar.id));
      return this.#settleHoldsUnread(connection, hold, inOrder.filter((c) => !read.has(c.id)), totals);
    };
    const stop = async (error: unknown, options: { write: boolean } = { write: true }): Promise<never> => {
      try {
        if (options.write) await write();
      } catch (writeError) {
        // The reason the sync stops (a limit, a revoked token) is what the connection records;
        // a write that failed on the way out is logged. A sync that lost its hold says so.
        if (writeError instanceof SyncSuperseded || writeError instanceof ConnectionRemoved) throw writeError;
        this.#o.logger.error({ err: writeError, calendarId: connection.id }, 'calendar sync could not write what it read before it stopped');
      }
      // The calendars read before the sync stopped were read: one refused before is no longer
      // (its bots would be cancelled at their join time though it reads), and its backoff ends.
      if (reads.some((r) => r.outcome === 'read')) await this.#recordCalendarReads(connection, hold, reads);
      // A hold whose hour is over ends though the calendar did not read (#settleHoldsUnread).
      try {
        await settleUnread();
      } catch (settleError) {
        if (settleError instanceof SyncSuperseded || settleError instanceof ConnectionRemoved) throw settleError;
        this.#o.logger.error({ err: settleError, calendarId: connection.id }, 'calendar sync could not end the holds over of the calendars it did not read');
      }
      // Those asked for lose their mark whatever came of it (read, failed, or the outage that
      // stops the sync): a calendar left unread at a limit is read first once, and no more, so
      // that marked calendars failing sync after sync cannot keep the failure rotation
      // (readingOrder) from the account's others. Not when a stop of this instance ended the
      // requests: nothing was learnt of them.
      if (!this.#o.requests.isInterrupted) {
        try {
          await this.#unmark(hold, inOrder.filter((c) => reached.has(c.id)));
        } catch (markError) {
          if (markError instanceof SyncSuperseded || markError instanceof ConnectionRemoved) throw markError;
          this.#o.logger.error({ err: markError, calendarId: connection.id }, 'calendar sync could not clear the marks of the calendars it read before it stopped');
        }
      }
      throw error;
    };
    // Calendars whose round read in parts is under way: their stored events wait for its last part.
    const inRound = await calendarsWithRoundUnderway(database.db, connection.id);
    for (const calendar of inOrder) {
      const now = clock.now();
      const held = readHeld ? null : heldCalendarFailure(calendar, now);
      if (held) {
        reads.push({ calendar, outcome: 'held', failure: held });
        continue;
      }
      // A read met a limit without failing: no further calendar is read in this sync. One whose
      // last read failed on its own, of any kind (a server error it alone answers included),
      // still stands for that failure, as one held back by its backoff does (the sync is no good
      // one while it fails, and a run reported failing goes on); the others are left unread
      // (#markLeftUnread).
      if (reads.some((r) => r.outcome === 'read' && r.limitWaitMs !== undefined)) {
        const standing = storedCalendarFailure(calendar.read_error, 'not read again in this sync: another calendar of the account met a provider limit', { anyKind: true });
        if (standing) reads.push({ calendar, outcome: 'held', failure: standing });
        continue;
      }
      reached.add(calendar.id);
      const storedId = (id: string) => storedEventId(calendar, id);
      try {
        const confirm = provider.capabilities.canMissDeletions || inRound.has(calendar.id) ? await this.#meetingsToConfirm(connection, calendar, now) : [];
        const missedBefore = parseMissedIds(calendar.missed_ids, now).map((m) => m.id);
        const fetched = await provider.fetchChanges(calendar.provider_calendar_id, calendar.sync_cursor, { nowMs: now, horizonMs: this.#o.horizonMs, ...(confirm.length > 0 ? { confirm } : {}), ...(missedBefore.length > 0 ? { missedBefore } : {}) });
        if (fetched.warnings) {
          // Once per read of the feed (an unchanged feed that sends ETag or Last-Modified is not read again), the first ones in full.
          this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider, warnings: fetched.warnings.slice(0, 10), count: fetched.warnings.length }, 'calendar read with warnings');
        }
        const recheck = await recheckTruncatedSeries(database.db, provider, connection, calendar, fetched, storedId, now, this.#o.logger);
        const confirmed = await confirmCompleteSeries(database.db, provider, connection, calendar, recheck.result, recheck.lookedUp, storedId, now, this.#o.logger);
        unwritten.push({ calendar, result: confirmed, recheck });
        reads.push({
          // A part of an incremental listing applies its single events: a sync that works.
          calendar, outcome: 'read', ...(fetched.round?.kept ? { isKeptPart: true } : {}),
          ...(fetched.hasMore ? { continueAfterMs: Math.max(CONTINUED_READ_AFTER_MS, fetched.continueAfterMs ?? 0) } : {}),
          // A limit met without failing the read (a round's last part whose lookups met one, too).
          ...(fetched.continueAfterMs === undefined ? {} : { limitWaitMs: fetched.continueAfterMs }),
        });
        if (unexplained) reads.push(unexplained.read);
        unexplained = null;
      } catch (error) {
        // The ids the provider did not find, kept for the later reads of the calendar (whether this
        // failure turns out the calendar's or the connection's), which let them stand.
        if (error instanceof NotFoundYet) {
          const missedIds = missedIdsAfter(parseMissedIds(calendar.missed_ids, now), { missed: error.ids, found: error.found }, now);
          await this.#writeIfStillHeld(hold, (trx) => connections.updateCalendar(trx, calendar.id, { missed_ids: missedIds, updated_at: now }));
        }
        // A round read in parts that cannot go on: what it kept goes, and the next read lists the
        // calendar from its first page.
        if (error instanceof RoundGivenUp) {
          await this.#writeIfStillHeld(hold, async (trx) => {
            await dropKeptParts(trx, calendar.id);
            await connections.updateCalendar(trx, calendar.id, { sync_cursor: null, updated_at: now });
          });
        }
        const failure = error instanceof CalendarProviderError && !(error instanceof ConnectionRemoved) ? error.failure : null;
        // Only a read shows the account can be read: a refusal beside a server error does not
        // (an Outlook colleague's calendar shared as free/busy refuses, the user's own answers 503).
        const hasRead = reads.some((r) => r.outcome === 'read');
        if (failure !== null && (CALENDAR_LEVEL_FAILURES.has(failure.kind) || (failure.kind === 'transient' && hasRead))) {
          reads.push({ calendar, outcome: 'failed', failure });
        } else if (failure?.kind === 'transient' && unexplained === null) {
          unexplained = { read: { calendar, outcome: 'failed', failure }, error };
        } else {
          await stop(error);
        }
      }
    }
    // Met with no calendar read: the account's (every other one refusing included: a server error
    // says nothing of the account's access, and one 503 must not make it revoked).
    if (unexplained) await stop(unexplained.error);
    try {
      await write();
    } catch (error) {
      await stop(error, { write: false });
    }
    try {
      await settleUnread();
    } catch (settleError) {
      // As in stop: the reads were made and are recorded below; a hold left is ended by a later sync.
      if (settleError instanceof SyncSuperseded || settleError instanceof ConnectionRemoved) throw settleError;
      this.#o.logger.error({ err: settleError, calendarId: connection.id }, 'calendar sync could not end the holds over of the calendars it did not read');
    }
    // A stop of this instance ended requests of this sync (SyncInterrupted follows): nothing was
    // learnt of the calendars whose requests it ended, which keep their marks, as in stop.
    if (!this.#o.requests.isInterrupted) await this.#markLeftUnread(connection, hold, inOrder, reached, reads);
    return reads;
  }

  /**
   * Ends the holds whose hour is over (connected_calendars.held_instances) of calendars this sync
   * did not read: one whose read failed, one held back by its backoff, one left for a later sync.
   * That a hold is over needs nothing from the provider, and its instance must not outlive its
   * hour while reads fail: it is deleted as a round that reads would delete it (its bot stopped
   * if still in its meeting), one calendar per transaction, while this sync holds the connection.
   */
  async #settleHoldsUnread(connection: CalendarConnectionRow, hold: SyncHold, calendars: readonly ConnectedCalendarRow[], totals: SyncCounts): Promise<void> {
    const now = this.#o.clock.now();
    for (const calendar of calendars) {
      if (expiredHolds(parseHeldInstances(calendar.held_instances), now).length === 0) continue;
      const counts: SyncCounts = { created: 0, updated: 0, cancelled: 0 };
      await this.#o.events.applyExternalChanges(connection.user_id, async (trx) => {
        Object.assign(counts, { created: 0, updated: 0, cancelled: 0 });
        await this.#checkHold(trx, hold);
        // As stored now: nothing but this sync writes the holds while it holds the connection.
        const current = await trx.selectFrom('connected_calendars').selectAll().where('id', '=', calendar.id).executeTakeFirst();
        if (current === undefined) return { result: undefined, changed: new Map() };
        const writer = new SyncedEventWriter(trx, this.#o.database.engine, connection, current, now, counts, this.#o.events.zoneWarnings);
        const held = await writer.settleHolds();
        if (held !== undefined) await connections.updateCalendar(trx, calendar.id, { held_instances: held, updated_at: now });
        return { result: undefined, changed: writer.changed };
      });
      totals.cancelled += counts.cancelled;
    }
  }

  /**
   * After a sync that met a limit without failing and read no further calendar: the calendars it
   * did not come to are marked left unread (since now, unless marked already: the longest left
   * go first), and those it asked the provider for lose their mark. One held back by its own
   * backoff, or standing for its last failure, is not left unread (its state stands): it keeps
   * what it had.
   */
  async #markLeftUnread(connection: CalendarConnectionRow, hold: SyncHold, calendars: readonly ConnectedCalendarRow[], reached: ReadonlySet<number>, reads: readonly CalendarRead[]): Promise<void> {
    const cameTo = new Set(reads.map((r) => r.calendar.id));
    const left = calendars.filter((c) => !cameTo.has(c.id));
    const newlyLeft = left.filter((c) => c.left_unread_at === null);
    const reachedAgain = calendars.filter((c) => reached.has(c.id) && c.left_unread_at !== null);
    if (newlyLeft.length === 0 && reachedAgain.length === 0) return;
    // Later than every mark standing, so that those left before go first, whatever the clock.
    const at = Math.max(this.#o.clock.now(), ...calendars.map((c) => (c.left_unread_at ?? Number.NEGATIVE_INFINITY) + 1));
    await this.#writeIfStillHeld(hold, async (trx) => {
      for (const calendar of newlyLeft) await connections.updateCalendar(trx, calendar.id, { left_unread_at: at });
      for (const calendar of reachedAgain) await connections.updateCalendar(trx, calendar.id, { left_unread_at: null });
    });
    if (left.length === 0) return;
    const limitWaitMs = Math.max(...reads.map((r) => (r.outcome === 'read' ? r.limitWaitMs ?? 0 : 0)));
    this.#o.logger.info({ calendarId: connection.id, provider: connection.provider, calendarsRead: reached.size, calendarsLeft: left.length, retryAfterMs: limitWaitMs },
      `calendar sync met a provider limit; ${left.length} calendar${left.length === 1 ? '' : 's'} left for the next sync, after the wait`);
  }

  /** The calendars a sync asked the provider for lose their left-unread mark (#markLeftUnread). */
  async #unmark(hold: SyncHold, reached: readonly ConnectedCalendarRow[]): Promise<void> {
    const marked = reached.filter((c) => c.left_unread_at !== null);
    if (marked.length === 0) return;
    await this.#writeIfStillHeld(hold, async (trx) => {
      for (const calendar of marked) await connections.updateCalendar(trx, calendar.id, { left_unread_at: null });
    });
  }

  /**
   * What a sync learnt of each calendar's reads, written while the sync still holds the connection
   * (a sync that lost it to another writes nothing). A calendar that read clears its backoff.
   * Failing while others of the account read, a calendar is read again only after a backoff of
   * its own (30 s doubling to an hour), not at every sync: one refused as too large would be read
   * whole each time. When none read, the failure is the connection's and so is the backoff: every
   * calendar, those held back included, is read at the connection's next sync (access given back
   * reaches all of them at once).
   *
   * A calendar that refuses its reader or is gone (403, 404) while another of the account reads
   * is marked refused until a read of it works, and the bots that depend only on what Rollcall
   * cannot see are put at risk (noteCalendarAccessChanges; at every sync while it refuses, so
   * that bots booked since hear it too). When none read, nothing new is marked: the refusal is
   * the account's, and a revoked connection says it (reportAccessRevoked).
   */
  async #recordCalendarReads(connection: CalendarConnectionRow, hold: SyncHold, reads: readonly CalendarRead[]): Promise<void> {
    const readWell = reads.filter((r) => r.outcome === 'read').map((r) => r.calendar);
    const failedReads = reads.filter((r): r is CalendarRead & { outcome: 'failed' } => r.outcome === 'failed');
    const heldBack = reads.filter((r) => r.outcome === 'held').map((r) => r.calendar);
    // A kept part of a round shows the calendar can be read (a refusal ends), not that it syncs:
    // its failures and backoff stay until a round completes (one given up at the limits of one
    // listing fails again at every round).
    const recovered = reads.filter((r) => r.outcome === 'read' && !r.isKeptPart).map((r) => r.calendar)
      .filter((c) => c.read_failures > 0 || c.read_error !== null || c.access_refused_at !== null);
    const readableAgain = reads.filter((r) => r.outcome === 'read' && r.isKeptPart && r.calendar.access_refused_at !== null).map((r) => r.calendar);
    const isConnectionFailure = readWell.length === 0;
    const heldRefused = heldBack.filter((c) => c.access_refused_at !== null);
    if (recovered.length === 0 && readableAgain.length === 0 && failedReads.length === 0 && heldRefused.length === 0 && !(isConnectionFailure && heldBack.length > 0)) return;
    const now = this.#o.clock.now();
    const refusedAt = (calendar: ConnectedCalendarRow, failure: ProviderFailure): number | null => {
      // Neither the account's failure nor a server error says whether the calendar can be read.
      if (isConnectionFailure || failure.kind === 'transient') return calendar.access_refused_at;
      return REFUSALS.has(failure.kind) ? calendar.access_refused_at ?? now : null;
    };
    // Refused, newly or still: a bot booked on one of its meetings since (by chain mode, a series
    // top-up, auto-schedule or a client) hears that it is at risk at the next sync; none twice.
    const refused = [...failedReads.filter((r) => refusedAt(r.calendar, r.failure) !== null).map((r) => r.calendar), ...heldRefused];
    const readAgain = [
      ...recovered.filter((c) => c.access_refused_at !== null), ...readableAgain,
      ...failedReads.filter((r) => r.calendar.access_refused_at !== null && refusedAt(r.calendar, r.failure) === null).map((r) => r.calendar),
    ];
    await this.#writeIfStillHeld(hold, async (trx) => {
      for (const calendar of recovered) await connections.updateCalendar(trx, calendar.id, { read_failures: 0, read_error: null, next_read_at: null, access_refused_at: null, updated_at: now });
      for (const calendar of readableAgain) await connections.updateCalendar(trx, calendar.id, { access_refused_at: null, updated_at: now });
      for (const { calendar, failure } of failedReads) {
        // Counted only against a calendar failing on its own: the connection's failures have their own count.
        const failures = isConnectionFailure ? calendar.read_failures : calendar.read_failures + 1;
        const refused = refusedAt(calendar, failure) !== null;
        const backoffUntil = now + syncRetryDelayMs(failures);
        await connections.updateCalendar(trx, calendar.id, {
          read_failures: failures, read_error: `${failure.kind}: ${failure.message}`.slice(0, 500),
          // A server error is not held back: the calendar is read at each sync of the connection
          // (last); held back, it would keep a sync in which every other calendar refuses its
          // reader from seeing the account revoked.
          next_read_at: isConnectionFailure || failure.kind === 'transient' ? null : refused ? await this.#lastLookAt(trx, connection, calendar, backoffUntil, now) : backoffUntil,
          access_refused_at: refusedAt(calendar, failure), updated_at: now,
        });
      }
      // Still refusing and not due yet: a bot booked on its meetings since may need it sooner.
      // One due already (next_read_at null: held only because a limit ended the sync before it)
      // is read at the next sync whatever its bots ask.
      for (const calendar of isConnectionFailure ? [] : heldRefused) {
        const dueAt = calendar.next_read_at;
        if (dueAt === null) continue;
        const lookAt = await this.#lastLookAt(trx, connection, calendar, dueAt, now);
        if (lookAt < dueAt) await connections.updateCalendar(trx, calendar.id, { next_read_at: lookAt, updated_at: now });
      }
      if (isConnectionFailure) for (const calendar of heldBack) await connections.updateCalendar(trx, calendar.id, { next_read_at: null, updated_at: now });
      if (refused.length > 0 || readAgain.length > 0) await noteCalendarAccessChanges(trx, this.#o.database.engine, connection, { refused, readAgain }, now);
    });
  }

  /**
   * Whether the calendar's round is still the one whose kept rows were read (some kept, the same
   * rows, and the cursor the last part's read began from): nothing but this sync writes them
   * while it holds the connection, so this fails only if the rows went missing. An incremental
   * listing (`mayHoldNone`) may have held nothing: its parts applied what they read.
   */
  async #isRoundAsRead(trx: Transaction<Schema>, calendar: ConnectedCalendarRow, kept: KeptRound, mayHoldNone: boolean): Promise<boolean> {
    if (kept.rows === 0 && !mayHoldNone) return false;
    const row = await trx.selectFrom('connected_calendars').select('sync_cursor').where('id', '=', calendar.id).executeTakeFirst();
    return row?.sync_cursor === calendar.sync_cursor && (await keptRowsUnchanged(trx, calendar.id, kept));
  }

  /** Runs `work` in a transaction that first checks that this sync still holds the connection (else SyncSuperseded). */
  async #writeIfStillHeld(hold: SyncHold, work: (trx: Transaction<Schema>) => Promise<void>): Promise<void> {
    // Run again when PostgreSQL rolls it back for a deadlock: `work` may lock bots.
    await retryingConflicts(() => this.#o.database.db.transaction().execute(async (trx) => {
      await this.#checkHold(trx, hold);
      await work(trx);
    }));
  }

  /**
   * The earliest look a bot on these meetings asks for, from `plannedMs` (a backoff, a revoked
   * probe): one at each lead (lastLookLeadsMs: 2 min, and with a bot provider its handover lead
   * + 2 min) before the first join time whose look at that lead is still ahead (lookAgainAt).
   */
  async #lookAt(db: Db, connection: { id: string; user_id: string }, plannedMs: number, nowMs: number, providerCalendarIds?: readonly string[]): Promise<number> {
    let at = plannedMs;
    for (const lead of this.#o.lastLookLeadsMs) {
      const firstJoin = await connections.firstJoinOnConnection(db, connection, nowMs + lead, providerCalendarIds);
      at = Math.min(at, lookAgainAt(nowMs, plannedMs, firstJoin, lead));
    }
    return at;
  }

  /**
   * A provider whose incremental reads can miss a deletion (canMissDeletions: Graph), or a
   * connection with a calendar whose round read in parts is under way (Google: its stored events
   * keep their old state until the round's last part), is read again shortly before the join
   * times of the bots on its meetings (#lookAt), where those meetings are looked up one by one
   * (#meetingsToConfirm): a deleted meeting the delta never named, or one deleted or moved while
   * the round is read, loses its bot (or follows the move) then rather than at the next full round
   * (Graph: up to a day later) or at the round's last part.
   */
  async #confirmingLookAt(connection: CalendarConnectionRow, plannedMs: number, nowMs: number): Promise<number> {
    if (!(await this.#confirmsBeforeJoins(connection))) return plannedMs;
    return this.#lookAt(this.#o.database.db, connection, plannedMs, nowMs);
  }

  /** Whether the meetings of this connection whose bots join soon are looked up at the syncs before (#confirmingLookAt). */
  async #confirmsBeforeJoins(connection: CalendarConnectionRow): Promise<boolean> {
    return canMissDeletions(connection) || (await calendarsWithRoundUnderway(this.#o.database.db, connection.id)).size > 0;
  }

  /**
   * The meetings of this calendar whose bots join before the next look (the longest lead, and a
   * review's minute on): each single event, and each occurrence of a series (by its original
   * start, when stored only as its series' master) a bot is on.
   */
  async #meetingsToConfirm(connection: CalendarConnectionRow, calendar: ConnectedCalendarRow, nowMs: number): Promise<MeetingToConfirm[]> {
    const aheadMs = Math.max(...this.#o.lastLookLeadsMs) + LOOK_REVIEW_INTERVAL_MS;
    const prefix = calendar.provider_calendar_id === '' ? '' : `${calendar.provider_calendar_id}/`;
    const rows = await connections.eventsJoinedWithin(this.#o.database.db, connection, calendar.provider_calendar_id, nowMs, nowMs + aheadMs, MEETINGS_CONFIRMED_PER_READ);
    return rows.filter((r) => r.provider_event_id.startsWith(prefix)).map((r) => ({
      providerEventId: r.provider_event_id.slice(prefix.length), startMs: r.start_ms, endMs: r.end_ms,
      // An exception's series: the provider's own series id when it gives one (Outlook), else its master's id.
      seriesId: r.provider_series_id ?? (r.exception_of !== null && r.exception_of.series_provider_event_id.startsWith(prefix) ? r.exception_of.series_provider_event_id.slice(prefix.length) : null),
      ...(r.occurrence_start_ms === null ? {} : { occurrenceStartMs: r.occurrence_start_ms }),
      ...(r.exception_of === null ? {} : { exceptionOriginalStartMs: r.exception_of.original_start_ms }),
    }));
  }

  /**
   * When to read a calendar that refuses its reader again: after its backoff (`plannedMs`), or
   * shortly before the join times of the bots on its meetings (#lookAt), so that access given back
   * in the meantime reaches them before they would be cancelled.
   */
  #lastLookAt(db: Db, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow, plannedMs: number, nowMs: number): Promise<number> {
    return this.#lookAt(db, connection, plannedMs, nowMs, [calendar.provider_calendar_id]);
  }

  /**
   * The next probe of a connection that lost its access at `revokedAtMs`: hourly at first, less
   * often the longer it stays lost (revokedCheckDelayMs), or before the join times of its bots;
   * never before `notBeforeMs`.
   */
  async #nextProbeAt(connection: CalendarConnectionRow, revokedAtMs: number, nowMs: number, notBeforeMs: number): Promise<number> {
    return Math.max(notBeforeMs, await this.#lookAt(this.#o.database.db, connection, nowMs + revokedCheckDelayMs(nowMs - revokedAtMs), nowMs));
  }

  /**
   * At most once a minute: a bot booked on a meeting Rollcall cannot see after its calendar's next
   * look was planned (a booking on a revoked connection, a join time moved earlier) brings that
   * look forward, as a sync would have planned it, though never before a provider's Retry-After
   * (retry_not_before). Only connections that are revoked or have a refused calendar are looked
   * at, and active ones of a provider that can miss deletions or with a calendar whose round read
   * in parts is under way (#confirmingLookAt); a connection
   * whose next sync changed meanwhile (a sync ended) is left as that sync planned it. A failure is
   * logged.
   */
  async #reviewLastLooks(): Promise<void> {
    const { database, clock } = this.#o;
    const now = clock.now();
    if (now < this.#nextLookReview) return;
    this.#nextLookReview = now + LOOK_REVIEW_INTERVAL_MS;
    try {
      const withoutFullAccess = await connections.listConnectionsWithoutFullAccess(database.db);
      // Those whose bots' looks come within the next two reviews (a look is at most the longest lead before a timer).
      const missingDeletions = await connections.listActiveConnectionsWithLaunchesDue(database.db, PROVIDERS_THAT_CAN_MISS_DELETIONS, now, now + Math.max(...this.#o.lastLookLeadsMs) + 2 * LOOK_REVIEW_INTERVAL_MS);
      const reviewed = new Map([...missingDeletions, ...withoutFullAccess].map((c) => [c.id, c]));
      for (const connection of reviewed.values()) {
        const plannedSync = connection.next_sync_at;
        if (plannedSync === null || plannedSync <= now) continue;
        // Only the looks before join times move a sync; a read already due waits for the next one.
        let syncAt = connection.status === 'active' && (await this.#confirmsBeforeJoins(connection)) ? await this.#lookAt(database.db, connection, Infinity, now) : Infinity;
        if (connection.status === 'auth_revoked') syncAt = await this.#lookAt(database.db, connection, Infinity, now);
        else {
          for (const calendar of await connections.listCalendars(database.db, connection.id)) {
            if (calendar.access_refused_at === null) continue;
            const lookAt = await this.#lastLookAt(database.db, connection, calendar, Infinity, now);
            if (calendar.next_read_at !== null && lookAt < calendar.next_read_at) await connections.bringReadForward(database.db, calendar.id, lookAt);
            syncAt = Math.min(syncAt, lookAt);
          }
        }
        syncAt = Math.max(syncAt, connection.retry_not_before ?? 0);
        if (syncAt < plannedSync) await connections.bringSyncForward(database.db, connection.id, plannedSync, syncAt);
      }
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'could not review the last looks before join times');
    }
  }

  /**
   * The next sync of a connection that still has access, `plannedMs` or earlier: by the time a
   * calendar that refuses its reader is due (its next_read_at, brought before its bots' join times
   * by #lastLookAt; one already due, soon), and, for one whose reads were all cleared by a failure
   * of the whole account, before the join times of the bots on its meetings. Calendars are read
   * only when their connection syncs. Never before `notBeforeMs` (a provider's Retry-After).
   * `readsWereTried`: the sync read its calendars (it did not stop at an account-wide failure).
   */
  async #nextSyncAt(connection: CalendarConnectionRow, calendars: readonly ConnectedCalendarRow[], plannedMs: number, nowMs: number, options: { notBeforeMs: number; readsWereTried: boolean }): Promise<number> {
    const refused = calendars.filter((c) => c.access_refused_at !== null);
    if (refused.length === 0) return plannedMs;
    const looks = await this.#lookAt(this.#o.database.db, connection, plannedMs, nowMs, refused.map((c) => c.provider_calendar_id));
    // Its calendars' own planned reads count only after a sync that got to its calendars: after
    // one that stopped first (an outage, a limit), the connection's backoff stands.
    const due = !options.readsWereTried ? [] : refused.map((c) => c.next_read_at).filter((at): at is number => at !== null)
      .map((at) => (at > nowMs ? at : nowMs + LAST_LOOK_MIN_GAP_MS));
    return Math.max(options.notBeforeMs, Math.min(plannedMs, looks, ...due));
  }

  /** Auto-schedule, series top-ups and chains after a sync that brought the user's calendars in; a failure is logged. */
  async #runAfterSync(connection: CalendarConnectionRow): Promise<void> {
    try {
      await this.#afterSync?.afterSync(connection.user_id);
    } catch (error) {
      this.#o.logger.error({ err: error, calendarId: connection.id }, 'auto-schedule after sync failed');
    }
  }

  /**
   * The wait to the next sync of a connection that syncs well (its calendars as the sync left
   * them): longer only while every calendar that reads has a live push channel. One whose channel
   * failed to open hears of no change but through a poll, whatever its account's other calendars
   * hear; a calendar whose reads fail goes by its own backoff (next_read_at). No later than the
   * end of a calendar's first hold (connected_calendars.held_instances): the round then deletes
   * the instance it held if no new series has continued it, which no push announces.
   */
  #usualIntervalMs(calendars: readonly ConnectedCalendarRow[], now: number, continueAfterMs: number | null = null): number {
    return Math.min(this.#intervalWithoutHoldsMs(calendars, now, continueAfterMs), firstHoldEnd(calendars, now) - now);
  }

  #intervalWithoutHoldsMs(calendars: readonly ConnectedCalendarRow[], now: number, continueAfterMs: number | null): number {
    // A read that was one part of a round goes on soon, push or not: a minute (at most the poll
    // interval) unless a limit asked for longer (its Retry-After).
    if (continueAfterMs !== null) return continueAfterMs > CONTINUED_READ_AFTER_MS ? continueAfterMs : Math.min(CONTINUED_READ_AFTER_MS, this.#o.pollIntervalMs);
    const reading = calendars.filter((c) => c.read_error === null);
    const hasLivePush = reading.length > 0 && reading.every((c) => c.push_channel_id !== null && (c.push_expires_at ?? 0) > now);
    if (!hasLivePush) return this.#o.pollIntervalMs;
    // A channel whose renewals failed still expires: push ends then, and polling takes over from
    // there rather than up to the push interval later.
    const firstExpiryMs = Math.min(...reading.map((c) => Number(c.push_expires_at)));
    return Math.max(this.#o.pollIntervalMs, Math.min(this.#o.pushPollIntervalMs, firstExpiryMs - now));
  }

  /**
   * A calendar answered 404 (deleted, most likely): the list is read again within ten minutes, not
   * an hour, which drops it (one still listed but answering 404 has it read every ten minutes or
   * so, not at every sync).
   */
  async #readListSoon(connectionId: string): Promise<void> {
    const listedAt = (await connections.findConnectionById(this.#o.database.db, connectionId))?.calendars_listed_at ?? null;
    if (listedAt === null) return;
    await connections.updateConnection(this.#o.database.db, connectionId, { calendars_listed_at: Math.min(listedAt, this.#o.clock.now() + LIST_REREAD_AFTER_NOT_FOUND_MS - CALENDAR_LIST_REFRESH_MS) });
  }

  /**
   * A sync that found another sync holding its connection (it outlived its lease: see
   * sync-leases.ts) stops without writing: what it read may be older than what the other one
   * writes. The caller is told it did not sync.
   */
  async #superseded(connection: CalendarConnectionRow, hold: SyncHold, counts: SyncCounts): Promise<SyncReport> {
    await this.#leases.release(hold);
    // Disconnected meanwhile: nothing is left to sync.
    if (!(await connections.findConnectionById(this.#o.database.db, connection.id))) return this.#report(connection.id, counts, { kind: 'permanent', message: 'the connection was removed during the sync' });
    this.#syncs.inc({ provider: connection.provider, outcome: 'superseded' });
    this.#o.logger.warn({ calendarId: connection.id, provider: connection.provider }, 'calendar sync stopped: it outlived its lease and another sync holds the connection now');
    return this.#report(connection.id, counts, { kind: 'transient', message: 'another sync of this connection took it over; that sync writes what it finds' });
  }

  /** Reads the account's calendar list again when it is older than an hour (ICS has none). */
  async #refreshCalendarList(connection: CalendarConnectionRow, hold: SyncHold, provider: CalendarProvider): Promise<void> {
    if (provider.kind === 'ics') return;
    const now = this.#o.clock.now();
    const row = await connections.findConnectionById(this.#o.database.db, connection.id);
    if (row?.calendars_listed_at != null && now - row.calendars_listed_at < CALENDAR_LIST_REFRESH_MS) return;
    await this.applyCalendarList({ ...connection, calendar_selection: row?.calendar_selection ?? connection.calendar_selection }, await provider.describeAccount(), provider, hold);
  }

  /**
   * Makes the connection's synced calendars what its selection asks of this calendar list: new
   * calendars are added (their first sync is a full one), calendars no longer in the account or
   * no longer selected are dropped with their events (their pending bots are cancelled, unless
   * another live event still uses them). Cursors and channels of the others are kept.
   */
  async applyCalendarList(connection: CalendarConnectionRow, account: ProviderAccount, provider: CalendarProvider | null, hold?: SyncHold, options: { keepSynced: boolean } = { keepSynced: true }): Promise<void> {
    const db = this.#o.database.db;
    const now = this.#o.clock.now();
    const selection = parseCalendarSelection(connection.calendar_selection);
    const stored = await connections.listCalendars(db, connection.id);
    // Without a list of ids, the provider's defaults pick each calendar when it is first seen; one
    // synced already stays while the account has it (hidden in Google's list since, say, or a
    // default changed by an upgrade): dropping it would delete its events and cancel its bots.
    // A client that asks for the defaults ("all") gets them as they are.
    const isKept = (id: string) => options.keepSynced && stored.some((s) => s.provider_calendar_id === id);
    const wanted = account.calendars.filter((c) => (selection === null ? c.isSynced || isKept(c.id) : selection.includes(c.id)));
    await db.transaction().execute(async (trx) => {
      // A sync that lost its connection to another sync lists no calendars: its list may be older.
      if (hold) await this.#checkHold(trx, hold);
      for (const calendar of wanted) {
        const row = stored.find((s) => s.provider_calendar_id === calendar.id);
        const info = { name: calendar.name, time_zone: calendar.timeZone, is_primary: calendar.isPrimary ? 1 : 0, updated_at: now };
        if (row) await connections.updateCalendar(trx, row.id, info);
        else {
          await connections.insertCalendar(trx, {
            connection_id: connection.id, provider_calendar_id: calendar.id, ...info, sync_cursor: null, last_full_sync_at: null,
            push_channel_id: null, push_resource_id: null, push_secret_hash: null, push_expires_at: null, push_last_message_at: null, push_error: null, push_refused_at: null, created_at: now,
            recent_series: null, held_instances: null, missed_ids: null, read_failures: 0, read_error: null, next_read_at: null, access_refused_at: null, left_unread_at: null,
          });
        }
      }
      await connections.updateConnection(trx, connection.id, { calendar_list: storedCalendarList(account) });
    });
    for (const row of stored) {
      if (!wanted.some((c) => c.id === row.provider_calendar_id)) await this.#dropCalendar(connection, row, provider, hold);
    }
    // Listed once every change is written: a list applied halfway is read again at the next sync.
    await connections.updateConnection(db, connection.id, { calendars_listed_at: now });
  }

  /** Stops syncing one calendar: its events are deleted, then its push channel closed (best effort). */
  async #dropCalendar(connection: CalendarConnectionRow, calendar: ConnectedCalendarRow, provider: CalendarProvider | null, hold: SyncHold | undefined): Promise<void> {
    const now = this.#o.clock.now();
    const deleted = await this.#o.events.applyExternalChanges(connection.user_id, async (trx) => {
      if (hold) await this.#checkHold(trx, hold);
      const prefix = storedEventId(calendar, '');
      const rows = (await trx.selectFrom('events').select(['id', 'provider_event_id']).where('calendar_id', '=', connection.id).where('is_deleted', '=', 0).execute())
        .filter((r) => r.provider_event_id?.startsWith(prefix));
      for (let i = 0; i < rows.length; i += 500) {
        await trx.updateTable('events').set({ is_deleted: 1, updated_at: now }).where('id', 'in', rows.slice(i, i + 500).map((r) => r.id)).execute();
      }
      await connections.deleteCalendar(trx, calendar.id);
      return { result: rows.length, changed: new Map(rows.map((r) => [r.id, 'deleted' as const])) };
    });
    const channel = currentChannel(calendar);
    if (channel && provider) {
      await this.#stopOrRetire(connection, provider, { provider_calendar_id: calendar.provider_calendar_id, channel, secretHash: calendar.push_secret_hash }, 'the push channel of a dropped calendar');
    }
    this.#o.logger.info({ calendarId: connection.id, eventsDeleted: deleted }, 'a calendar is no longer synced (gone from the account or not selected)');
  }

  async #report(connectionId: string, counts: SyncCounts, failure: ProviderFailure | null): Promise<SyncReport> {
    const row = await connections.findConnectionById(this.#o.database.db, connectionId);
    return {
      calendar_id: connectionId,
      synced: failure === null,
      ...counts,
      status: row?.status ?? 'disconnected',
      failure,
      synced_at: row?.last_sync_at ? new Date(row.last_sync_at).toISOString() : null,
    };
  }

  #providerFor(connection: CalendarConnectionRow): CalendarProvider {
    const credentials = openCredentials(this.#o.box, connection.credentials!);
    return this.#o.providers(credentials, {
      cacheKey: connection.id,
      // Graph requests to one mailbox share its slots in the process, whichever connection reads it.
      mailbox: connection.account_id,
      // Microsoft may rotate the refresh token on every use; the new one must be kept or the
      // next refresh fails.
      onRefreshTokenRotated: async (refreshToken) => {
        if (credentials.kind === 'ics') return;
        const sealed = sealCredentials(this.#o.box, { ...credentials, refreshToken });
        await connections.updateConnection(this.#o.database.db, connection.id, { credentials: sealed, updated_at: this.#o.clock.now() });
      },
    });
  }

  // ----- writing events ------------------------------------------------------------------------

  async #apply(connection: CalendarConnectionRow, hold: SyncHold, calendar: ConnectedCalendarRow, read: FetchResult, now: number, recheck: Pick<Recheck, 'asNew' | 'recentSeries'>): Promise<SyncCounts> {
    const counts: SyncCounts = { created: 0, updated: 0, cancelled: 0 };
    const recent = recheck.recentSeries === undefined ? {} : { recent_series: recheck.recentSeries };
    // Ids the read did not find again stay kept (a lasting 404 then fails no later round that
    // lists them); those it found go, the others stay until they expire (domain/missed-ids.ts).
    const missedIds = missedIdsAfter(parseMissedIds(calendar.missed_ids, now), { missed: read.missedAgain ?? [], found: read.foundAgain ?? [] }, now);
    // A full listing read in parts (deleting by absence at its last part), or an incremental one
    // (its entries changes only: isFullSync stays false at its last part, held entries included).
    const round = read.round ?? read.incremental;
    if (round?.kept) {
      // A part of a full listing that is not its last (Google): kept, nothing of it applied, with
      // the cursor at the page the next part reads, in one transaction (another instance that took
      // the connection over writes neither). A part that begins the listing drops what a round
      // abandoned before it kept. A part of an incremental listing keeps its series entries only
      // (heldUntilLastPart) and applies its single events now.
      const parted = read.round === undefined ? await this.#heldUntilLastPart(connection.id, calendar, read.changes, round.resumed) : { held: read.changes, now: [] };
      const keep = async (trx: Transaction<Schema>) => {
        if (!round.resumed) await dropKeptParts(trx, calendar.id);
        // (An incremental part that holds nothing keeps no row: no round is under way for it.)
        if (read.round !== undefined || parted.held.length > 0) await keepPart(trx, calendar.id, { changes: parted.held, unreadable: read.unreadable ?? [] });
        await connections.updateCalendar(trx, calendar.id, { sync_cursor: read.cursor, ...recent, missed_ids: missedIds, updated_at: now });
      };
      const nowIds = new Set(parted.now.map(changeId));
      const confirmed = [...parted.now, ...(read.confirmedChanges ?? []).filter((change) => !nowIds.has(changeId(change)))];
      if (confirmed.length === 0) {
        await this.#writeIfStillHeld(hold, keep);
        return counts;
      }
      // What the read found of the meetings whose bots join soon (FetchContext.confirm: gone,
      // cancelled or moved) is applied now, in the part's transaction, so that their bots are
      // cancelled or follow the move before they launch rather than at the round's last part. It
      // is kept with the part as well (the adapter puts it after what the part listed), so that the
      // last part's batch ends with it and does not bring back what an earlier part listed.
      return this.#o.events.applyExternalChanges(connection.user_id, async (trx) => {
        Object.assign(counts, { created: 0, updated: 0, cancelled: 0 });
        await this.#checkHold(trx, hold);
        await keep(trx);
        const lookedUp: FetchResult = { isFullSync: false, window: null, isUnchanged: false, changes: confirmed, cursor: read.cursor, ...(read.goneOnLookup ? { goneOnLookup: read.goneOnLookup } : {}) };
        const writer = new SyncedEventWriter(trx, this.#o.database.engine, connection, calendar, now, counts, this.#o.events.zoneWarnings);
        await writer.load(lookedUp);
        await writeChanges(writer, lookedUp);
        await writer.removeMissingInstances(lookedUp);
        const held = await writer.settleHolds();
        if (held !== undefined) await connections.updateCalendar(trx, calendar.id, { held_instances: held });
        return { result: counts, changed: writer.changed };
      });
    }
    let result = read;
    // A hold whose hour is over is settled by a round that brings nothing too.
    const isHoldOver = expiredHolds(parseHeldInstances(calendar.held_instances), now).length > 0;
    if (result.isUnchanged && result.changes.length === 0 && (result.completeSeries ?? []).length === 0 && read.incremental === undefined && !isHoldOver) {
      if (result.cursor !== calendar.sync_cursor || recheck.recentSeries !== undefined || missedIds !== calendar.missed_ids) {
        await this.#writeIfStillHeld(hold, (trx) => connections.updateCalendar(trx, calendar.id, { sync_cursor: result.cursor, ...recent, missed_ids: missedIds, updated_at: now }));
      }
      return counts;
    }
    // The last part of a full listing read in parts: what the parts before it kept, read before
    // the transaction (readKeptRound), which checks it is still what the round keeps.
    const kept = round?.resumed ? await readKeptRound(this.#o.database.db, calendar.id) : null;
    return this.#o.events.applyExternalChanges(connection.user_id, async (trx) => {
      // Counted again if the transaction runs again (a deadlock lost).
      Object.assign(counts, { created: 0, updated: 0, cancelled: 0 });
      await this.#checkHold(trx, hold);
      if (kept !== null && !(await this.#isRoundAsRead(trx, calendar, kept, read.round === undefined))) {
        // None of the earlier parts kept (a database edited or restored by hand: every kept part
        // is a row, dropped only with the cursor), or not those read: applied alone, the last part
        // would write a series' exceptions without their master. Nothing is applied; the round
        // starts again from its first page at the next sync.
        await dropKeptParts(trx, calendar.id);
        await connections.updateCalendar(trx, calendar.id, { sync_cursor: null, missed_ids: missedIds, ...recent, updated_at: now });
        this.#o.logger.warn({ calendarId: connection.id, calendar: calendar.provider_calendar_id, keptRows: kept.rows }, 'the last part of a listing read in parts did not find its earlier parts kept: nothing applied, the calendar is listed again from its first page at the next sync');
        return { result: counts, changed: new Map() };
      }
      if (round) {
        // The last part of a full listing read in parts (or the whole listing in one read): the
        // parts kept before it are applied with it as one batch, as a listing read at once is, so
        // that a series' master and its exceptions, or a split's two masters, are written together
        // whatever part each came in; and the kept parts are dropped in the same transaction.
        if (kept !== null) result = withKeptParts(read, kept);
        await dropKeptParts(trx, calendar.id);
      }
      const writer = new SyncedEventWriter(trx, this.#o.database.engine, connection, calendar, now, counts, this.#o.events.zoneWarnings);
      await writer.load(result, recheck.asNew);
      await writer.followRekeyedCopies(result.changes);
      await writeChanges(writer, result);
      // Listed, but in a shape the adapter could not read: left as stored, not taken as gone.
      for (const id of result.unreadable ?? []) writer.keep(id);
      if (result.isFullSync) await writer.removeUnseen(result.window);
      else await writer.removeMissingInstances(result);
      await writer.followSeriesSplits();
      const held = await writer.settleHolds();
      await connections.updateCalendar(trx, calendar.id, {
        sync_cursor: result.cursor,
        missed_ids: missedIds,
        ...(result.isFullSync ? { last_full_sync_at: now } : {}),
        ...recent,
        ...(held === undefined ? {} : { held_instances: held }),
        updated_at: now,
      });
      return { result: counts, changed: writer.changed };
    });
  }

  /**
   * A part of an incremental listing that is not its last, divided: `now`, its single events (no
   * recurrence, no series), applied at once; `held`, its series entries (a master with a
   * recurrence, an occurrence of a series, and the deletion or other entry of a master whose
   * occurrences come in the same part), kept until the listing's last part and applied with it as one batch. Applied at once, a
   * series' exception whose master comes in a later part would be written without it (a
   * cancelled one dropped, a moved one stored on its own, each given a bot by the master later),
   * and a split's shortened old master would cancel the bots its new one carries on. An entry whose
   * id an earlier part of the listing holds (or the master of an occurrence it holds: a series
   * deleted, or made a single event) is held too, so that no older state of it is applied after a
   * newer one, nor a master after its occurrences. An occurrence of a series already stored, whose
   * master is neither held nor in the part, has its master to be written with: it is applied at
   * once, as a listing read in one sync would (a week cancelled on the first page loses its bot
   * then, not parts later). Read before the part's transaction (as readKeptRound is).
   */
  async #heldUntilLastPart(connectionId: string, calendar: ConnectedCalendarRow, changes: readonly ProviderChange[], resumed: boolean): Promise<{ held: ProviderChange[]; now: ProviderChange[] }> {
    const heldIds = resumed ? await keptChangeIds(this.#o.database.db, calendar.id) : new Set<string>();
    const series = new Set(changes.flatMap((change) => change.type === 'upsert' && change.event.seriesProviderEventId !== null ? [change.event.seriesProviderEventId] : []));
    const inPart = new Set(changes.map(changeId));
    const stored = await this.#storedSeriesMasters(connectionId, calendar, changes.flatMap((change) => {
      const master = change.type === 'upsert' && change.event.recurrence === null ? change.event.seriesProviderEventId : null;
      return master !== null && !heldIds.has(master) && !inPart.has(master) ? [master] : [];
    }));
    const held: ProviderChange[] = [];
    const now: ProviderChange[] = [];
    for (const change of changes) {
      const id = changeId(change);
      const master = change.type === 'upsert' ? change.event.seriesProviderEventId : null;
      const hasStoredMaster = master !== null && change.type === 'upsert' && change.event.recurrence === null && stored.has(master);
      const isSeries = series.has(id) || (change.type === 'upsert' && (change.event.recurrence !== null || change.event.seriesProviderEventId !== null));
      if ((isSeries && !hasStoredMaster) || heldIds.has(id)) {
        heldIds.add(id);
        held.push(change);
      } else now.push(change);
    }
    return { held, now };
  }

  /** Of `masterIds` (provider ids of series masters), those stored for `calendar` as a live series. */
  async #storedSeriesMasters(connectionId: string, calendar: ConnectedCalendarRow, masterIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const byStoredId = new Map([...new Set(masterIds)].map((id) => [storedEventId(calendar, id), id]));
    const storedIds = [...byStoredId.keys()];
    for (let i = 0; i < storedIds.length; i += 500) {
      const rows = await this.#o.database.db.selectFrom('events').select('provider_event_id')
        .where('calendar_id', '=', connectionId).where('provider_event_id', 'in', storedIds.slice(i, i + 500))
        .where('is_deleted', '=', 0).where('recurrence', 'is not', null).execute();
      for (const row of rows) found.add(byStoredId.get(row.provider_event_id!)!);
    }
    return found;
  }

  /**
   * First in every transaction of a sync that writes: the connection row locked, so that a
   * disconnect in progress either finishes before it (then nothing is written for a connection
   * that is gone) or waits for it (then it removes what it wrote too); and nothing is written
   * once another sync holds the connection (this one outlived its lease).
   */
  async #checkHold(trx: Transaction<Schema>, hold: SyncHold): Promise<void> {
    const state = await this.#leases.stateIn(trx, hold);
    if (state === 'gone') throw new ConnectionRemoved();
    if (state === 'lost') throw new SyncSuperseded();
  }

  // ----- push channels -----------------------------------------------------------------------

  async #keepPushOpen(connection: CalendarConnectionRow, hold: SyncHold, provider: CalendarProvider, failedCalendarIds: ReadonlySet<number>): Promise<void> {
    if (!provider.push || !this.#o.isPushEnabled) return;
    const calendars = await connections.listCalendars(this.#o.database.db, connection.id);
    for (const calendar of calendars) {
      if (failedCalendarIds.has(calendar.id)) continue;
      // A stop ended this sync's requests: no channel is opened now (the next instance does it).
      if (this.#o.requests.isInterrupted) throw new SyncInterrupted();
      const now = this.#o.clock.now();
      const isFresh = calendar.push_channel_id !== null && calendar.push_expires_at !== null && calendar.push_expires_at - now > this.#o.pushRenewBeforeMs;
      if (isFresh) continue;
      // The provider said lately that this calendar takes no channel at all: not asked again before
      // PUSH_REFUSAL_MEMORY_MS is over (the calendar is polled meanwhile, as without push).
      if (calendar.push_refused_at !== null && now - calendar.push_refused_at < PUSH_REFUSAL_MEMORY_MS) continue;
      const secret = randomToken(40);
      const request = {
        calendarId: calendar.provider_calendar_id,
        address: `${this.#o.publicUrl}${provider.kind === 'google' ? NOTIFICATION_PATHS.google : NOTIFICATION_PATHS.microsoft}`,
        lifecycleAddress: `${this.#o.publicUrl}${NOTIFICATION_PATHS.microsoftLifecycle}`,
        secret,
        channelId: randomUUID(),
        nowMs: now,
      };
      const isGoogle = provider.capabilities.push === 'watch_channel';
      // The call about to be made, recorded first: one whose answer never comes (a timeout, a reset
      // connection, a crash before the write) may have made a channel, which is then found by its
      // notifications (acceptGoogleNotification, acceptGraphNotifications) and stopped.
      const pendingRow = {
        connection_id: connection.id, provider_calendar_id: calendar.provider_calendar_id, channel_id: isGoogle ? request.channelId : null, resource_id: null,
        secret_hash: hashSecret(secret), expires_at: provider.push.requestedExpiryMs(request), opened_at: now, heard_at: null,
      };
      let pendingId: number | null = null;
      const recordPending = () => this.#writeIfStillHeld(hold, async (trx) => {
        await connections.prunePendingPushChannels(trx, connection.id, calendar.provider_calendar_id, PENDING_CHANNELS_KEPT - 1);
        pendingId = await connections.insertPendingPushChannel(trx, pendingRow);
      });
      try {
        let channel: PushChannel;
        let secretHash = hashSecret(secret);
        const current = currentChannel(calendar);
        // A Google renewal makes a new channel; extending a Graph subscription makes none. Not when
        // another sync holds the connection now: a renewal would stop the channel it keeps.
        if (current && !isGoogle) await this.#writeIfStillHeld(hold, async () => {});
        else await recordPending();
        if (current) {
          try {
            channel = await provider.push.renew(current, request);
            // Extending a Graph subscription keeps its clientState; a new Google channel has the new token.
            if (channel.channelId === current.channelId) secretHash = calendar.push_secret_hash ?? secretHash;
          } catch (error) {
            if (!(error instanceof CalendarProviderError) || error.failure.kind !== 'not_found') throw error;
            if (pendingId === null) await recordPending();
            channel = await provider.push.open(request);
          }
        } else {
          channel = await provider.push.open(request);
        }
        // A renewal that made a new channel (Google's) leaves the old one running: it is kept as
        // retired in the same write, and stopped just after (and at later syncs if that fails).
        const replaced = current !== null && channel.channelId !== current.channelId ? current : null;
        try {
          await this.#writeIfStillHeld(hold, async (trx) => {
            await connections.updateCalendar(trx, calendar.id, {
              push_channel_id: channel.channelId, push_resource_id: channel.resourceId, push_secret_hash: secretHash,
              push_expires_at: channel.expiresAtMs, push_error: null, push_refused_at: null, updated_at: now,
            });
            if (pendingId !== null) await connections.deletePendingPushChannel(trx, pendingId);
            if (replaced) {
              await connections.insertRetiredPushChannel(trx, {
                connection_id: connection.id, provider_calendar_id: calendar.provider_calendar_id, channel_id: replaced.channelId, resource_id: replaced.resourceId,
                secret_hash: calendar.push_secret_hash, expires_at: replaced.expiresAtMs, last_error: null, retired_at: now,
              });
            }
          });
        } catch (error) {
          // Not recorded: another sync holds the connection now (this one stalled past its lease)
          // and keeps its channels, the connection was disconnected meanwhile, or the write failed.
          // A channel opened here would notify with an id nobody knows until it expired.
          if (channel.channelId !== current?.channelId) {
            await this.#stopOrRetire(connection, provider, { provider_calendar_id: calendar.provider_calendar_id, channel, secretHash, pendingId }, 'a push channel opened by a sync that could not record it');
          }
          throw error;
        }
      } catch (error) {
        if (error instanceof SyncSuperseded) throw error;
        // Ended by a stop, not refused: nothing to record. The record of the call stays: a channel
        // the provider made meanwhile is known by its notifications and stopped by a later sync.
        if (this.#o.requests.isInterrupted) throw new SyncInterrupted();
        const failure = toProviderFailure(error);
        // Push is an optimisation: without it the connection is polled more often. A refusal here
        // is the calendar's (Graph takes no subscription to a calendar shared with the user): the
        // same token has just read the calendars, and a token that stops working fails the next
        // sync's reads.
        // One the provider will never take a channel on is remembered, so that it is not asked at
        // every sync; any other failure (a 5xx, a limit, the network) is asked again at the next.
        const isRefused = error instanceof PushNotSupported;
        // A provider's answer refusing the call (a 4xx) made no channel: the record of it goes. A
        // timeout, a reset or a 5xx may have come after the channel was made, a 5xx naming a wait
        // (Retry-After) as much as any: kept, to know it by its notifications until its asked-for
        // expiry.
        const isUnanswered = !(error instanceof CalendarProviderError && error.isRefusal);
        await this.#writeIfStillHeld(hold, async (trx) => {
          await connections.updateCalendar(trx, calendar.id, {
            push_error: `${failure.kind}: ${failure.message}`.slice(0, 500), ...(isRefused ? { push_refused_at: now } : {}), updated_at: now,
          });
          if (pendingId !== null && !isUnanswered) await connections.deletePendingPushChannel(trx, pendingId);
        });
        if (isRefused) this.#pushRefusals.inc({ provider: provider.kind });
        this.#o.logger.warn({ calendarId: connection.id, failure: failure.kind, isRefused }, isRefused ? 'the calendar takes no push channel; polling it, and not asking again for a day' : 'could not open a push channel; polling instead');
      }
    }
  }

  /**
   * Stops a channel no calendar row names (now) or, when that fails, keeps it in
   * retired_push_channels to be stopped at a later sync (#stopRetiredChannels), unless the
   * connection is gone (a disconnect has removed what it had). The row is written in a transaction
   * of its own that finds the connection first: this runs outside the sync's hold (a sync that
   * lost it, or let the calendar go), and a disconnect in between must not fail the sync.
   * `pendingId`: the record of the call that opened the channel (pending_push_channels), which goes
   * once the channel is stopped or retired, in the retiring write: left, a notification may have
   * named it (Google sends "sync" before the answer), and a later sync would retire the channel a
   * second time.
   */
  async #stopOrRetire(connection: CalendarConnectionRow, provider: CalendarProvider, orphan: { provider_calendar_id: string; channel: PushChannel; secretHash: string | null; pendingId?: number | null }, what: string): Promise<void> {
    if (!provider.push) return;
    const { channel } = orphan;
    const pendingId = orphan.pendingId ?? null;
    try {
      await provider.push.close(channel);
      if (pendingId !== null) {
        await connections.deletePendingPushChannel(this.#o.database.db, pendingId).catch((error: unknown) => {
          this.#o.logger.warn({ err: error, calendarId: connection.id }, `stopped ${what}, but could not drop the record of its call; a later sync asks Google to stop it again`);
        });
      }
    } catch (error) {
      const failure = toProviderFailure(error);
      const now = this.#o.clock.now();
      try {
        const isKept = await connections.retirePushChannelIfConnected(this.#o.database.db, this.#o.database.engine, {
          connection_id: connection.id, provider_calendar_id: orphan.provider_calendar_id, channel_id: channel.channelId, resource_id: channel.resourceId,
          secret_hash: orphan.secretHash, expires_at: channel.expiresAtMs, stop_attempts: 1, last_error: `${failure.kind}: ${failure.message}`.slice(0, 500),
          next_stop_at: now + retiredStopRetryDelayMs(1), retired_at: now,
        }, pendingId);
        this.#o.logger.warn({ calendarId: connection.id, failure: failure.kind, isKept }, isKept ? `could not stop ${what}; asking again later` : `could not stop ${what}, and its connection is gone; it runs until it expires`);
      } catch (writeError) {
        this.#o.logger.error({ err: writeError, calendarId: connection.id, failure: failure.kind }, `could not stop ${what}, nor keep it to stop later; it runs until it expires`);
      }
    }
  }

  /**
   * Channels opened by a call whose answer never came: those a notification has named since are
   * live and Rollcall's, and join the retired ones to be stopped; those that heard nothing by
   * their expiry go. Done while the sync still holds the connection, before its outcome is
   * written: then no other sync of it has a call under way (a record is heard as soon as Google
   * sends "sync", which can be before the call's answer; moved once the lease is let go, the record
   * of the next sync's watch could be, and the channel that sync stores stopped). A sync that
   * lost the connection moves nothing; a failure here is logged and fails no sync.
   */
  async #retireHeardPendingChannels(connection: CalendarConnectionRow, hold: SyncHold): Promise<void> {
    try {
      let found = 0;
      let unheard = 0;
      await this.#writeIfStillHeld(hold, async (trx) => {
        const now = this.#o.clock.now();
        unheard = await connections.deleteExpiredPendingPushChannels(trx, connection.id, now);
        found = await connections.retireHeardPendingPushChannels(trx, connection.id, now);
      });
      if (found > 0 || unheard > 0) this.#o.logger.info({ calendarId: connection.id, found, unheard }, 'push channels opened without an answer: stopping those found, dropping those expired unheard');
    } catch (error) {
      if (error instanceof SyncSuperseded || error instanceof ConnectionRemoved) return;
      this.#o.logger.error({ err: error, calendarId: connection.id }, 'could not retire the push channels opened without an answer; trying again at a later sync');
    }
  }

  /**
   * Stops the connection's retired channels (replaced by a renewal, or of a calendar no longer
   * synced, whose stop failed so far): one left running notifies until it expires, up to 7 days
   * on. Each goes once stopped, gone at the provider (the adapter takes that as stopped) or
   * expired. Only those due are asked, RETIRED_STOPS_PER_SYNC at most; a failure is noted and
   * asked again after a growing wait (retiredStopRetryDelayMs), and a failure of the provider
   * rather than of the channel (an outage, a timeout, a limit) ends the round: the others wait for
   * a later sync. Runs after the sync's outcome is written, and never fails it.
   */
  async #stopRetiredChannels(connection: CalendarConnectionRow, provider: CalendarProvider): Promise<void> {
    if (!provider.push) return;
    const db = this.#o.database.db;
    try {
      const now = this.#o.clock.now();
      const expired = await connections.deleteExpiredRetiredPushChannels(db, connection.id, now);
      if (expired > 0) this.#retiredStops.inc({ provider: provider.kind, outcome: 'expired' }, expired);
      for (const retired of await connections.listDueRetiredPushChannels(db, connection.id, now, RETIRED_STOPS_PER_SYNC)) {
        if (this.#o.requests.isInterrupted) return;
        const attempts = Number(retired.stop_attempts) + 1;
        const nextStopAt = now + retiredStopRetryDelayMs(attempts);
        // Counted before the call: another sync of the connection (this one has let it go) takes another.
        if (!(await connections.claimRetiredPushChannelStop(db, retired.id, Number(retired.stop_attempts), nextStopAt))) continue;
        try {
          await provider.push.close({ channelId: retired.channel_id, resourceId: retired.resource_id, expiresAtMs: Number(retired.expires_at) });
          await connections.deleteRetiredPushChannel(db, retired.id);
          this.#retiredStops.inc({ provider: provider.kind, outcome: 'stopped' });
        } catch (error) {
          if (this.#o.requests.isInterrupted) return;
          const failure = toProviderFailure(error);
          const waitEnd = failure.kind === 'rate_limited' ? Math.max(nextStopAt, this.#o.clock.now() + failure.retryAfterMs) : nextStopAt;
          await connections.noteRetiredPushChannelStopFailed(db, retired.id, `${failure.kind}: ${failure.message}`.slice(0, 500), waitEnd);
          this.#retiredStops.inc({ provider: provider.kind, outcome: 'failed' });
          this.#o.logger.warn({ calendarId: connection.id, failure: failure.kind, attempts, nextStopAtMs: waitEnd }, 'could not stop a replaced push channel; asking again later');
          // A limit holds back every stop of the connection until its wait ends.
          if (failure.kind === 'rate_limited') await connections.deferRetiredPushChannelStops(db, connection.id, waitEnd);
          // The provider failing or slow, not this channel: the others would cost as much.
          if (failure.kind === 'transient' || failure.kind === 'rate_limited') return;
        }
      }
    } catch (error) {
      this.#o.logger.error({ err: error, calendarId: connection.id }, 'could not stop retired push channels; asking again at a later sync');
    }
  }

  /**
   * Stops a connection's push channels on disconnect, as the connection's rows go with it and
   * nothing would ask again: every calendar's live channel, then at most RETIRED_STOPS_PER_SYNC of
   * its retired ones not yet stopped (and of channels whose opening answer was lost, once a
   * notification named them), those with the longest to run first. A disconnect answers while the
   * user waits, and each stop Google leaves hanging costs CALENDAR_HTTP_TIMEOUT_MS: the others,
   * and all of them once the provider fails or limits one, run until they expire (7 days at most
   * for Google, about 3 for Graph), their notifications refused. Failures are only logged.
   */
  async closePush(connection: CalendarConnectionRow): Promise<number> {
    if (connection.credentials === null) return 0;
    let provider: CalendarProvider;
    try {
      provider = this.#providerFor(connection);
    } catch {
      return 0;
    }
    if (!provider.push) return 0;
    const db = this.#o.database.db;
    let closed = 0;
    for (const calendar of await connections.listCalendars(db, connection.id)) {
      const channel = currentChannel(calendar);
      if (!channel) continue;
      try {
        await provider.push.close(channel);
        closed++;
      } catch (error) {
        this.#o.logger.warn({ calendarId: connection.id, failure: toProviderFailure(error).kind }, 'could not stop a push channel');
      }
    }
    const now = this.#o.clock.now();
    const leftOver: PushChannel[] = [
      ...(await connections.listRetiredPushChannels(db, connection.id)).map((r) => ({ channelId: r.channel_id, resourceId: r.resource_id, expiresAtMs: Number(r.expires_at) })),
      ...(await connections.listHeardPendingPushChannels(db, connection.id)).map((r) => ({ channelId: r.channel_id!, resourceId: r.resource_id, expiresAtMs: Number(r.expires_at) })),
    ].filter((c) => c.expiresAtMs > now).sort((a, b) => b.expiresAtMs - a.expiresAtMs);
    let asked = 0;
    for (const channel of leftOver.slice(0, RETIRED_STOPS_PER_SYNC)) {
      asked++;
      try {
        await provider.push.close(channel);
        closed++;
      } catch (error) {
        const failure = toProviderFailure(error);
        this.#o.logger.warn({ calendarId: connection.id, failure: failure.kind }, 'could not stop a replaced push channel');
        // The provider failing or slow, not this channel: the others would cost as much.
        if (failure.kind === 'transient' || failure.kind === 'rate_limited') break;
      }
    }
    const notAsked = leftOver.length - asked;
    if (notAsked > 0) this.#o.logger.info({ calendarId: connection.id, notAsked }, 'disconnected with replaced push channels not asked to stop; they run until they expire, their notifications refused');
    return closed;
  }

  // ----- notifications -----------------------------------------------------------------------

  /**
   * A Google watch-channel notification (headers only). Answers whether it was ours; a valid
   * one asks for a sync of the connection rather than syncing inline, so the answer is fast.
   */
  async acceptGoogleNotification(headers: { channelId?: string; token?: string; resourceId?: string; state?: string }): Promise<boolean> {
    const calendar = headers.channelId ? await connections.findCalendarByChannel(this.#o.database.db, headers.channelId) : undefined;
    const retired = !calendar && headers.channelId ? await connections.findRetiredPushChannel(this.#o.database.db, headers.channelId) : undefined;
    if (retired && secretMatches(headers.token, retired.secret_hash) && (retired.resource_id === null || headers.resourceId === retired.resource_id)) {
      // A retired channel not yet stopped: ours, so acknowledged (anything but 2xx or 102 is a
      // failed message to Google, push guide "Respond to notifications"). As a rule it asks for
      // nothing: the channel that replaced it watches the same calendar and tells of the same
      // change, and the calendar of a dropped one is no longer read. One whose opening answer was
      // lost has no such successor while the calendar's next opening has not succeeded: a change
      // it tells of then asks for a sync (#askSyncForUnwatched).
      this.#notifications.inc({ provider: 'google', outcome: 'retired' });
      if (headers.state !== 'sync') await this.#askSyncForUnwatched(retired.connection_id, retired.provider_calendar_id);
      return true;
    }
    const pending = !calendar && !retired && headers.channelId ? await connections.findPendingPushChannelById(this.#o.database.db, headers.channelId) : undefined;
    if (pending && secretMatches(headers.token, pending.secret_hash) && headers.resourceId) {
      // A channel Rollcall asked for whose answer has not been stored: the call may be under way
      // (Google's "sync" can come before the answer), or its answer was lost. Ours, so acknowledged;
      // the resource id it carries is what stopping it takes (channels.stop needs id and
      // resourceId), and the connection's next sync stops it unless the answer is stored first.
      // A change it tells of ("exists", "not_exists") asks for that sync: when the calendar's
      // first channel is the one whose answer was lost, no other channel tells of it.
      await connections.notePendingPushChannelHeard(this.#o.database.db, pending.id, { channel_id: headers.channelId!, resource_id: headers.resourceId, heard_at: this.#o.clock.now() });
      this.#notifications.inc({ provider: 'google', outcome: 'pending' });
      if (headers.state !== 'sync') await this.requestSync(pending.connection_id);
      return true;
    }
    if (!calendar && headers.state === 'sync') {
      // Google sends "sync" as it opens a channel, which can be before events.watch has answered
      // and the channel is stored here. It asks for nothing, so it is acknowledged unmatched
      // rather than answered with an error Google counts as a failed message.
      this.#notifications.inc({ provider: 'google', outcome: 'sync_unmatched' });
      return true;
    }
    if (!calendar || !secretMatches(headers.token, calendar.push_secret_hash) || (calendar.push_resource_id !== null && headers.resourceId !== calendar.push_resource_id)) {
      this.#notifications.inc({ provider: 'google', outcome: 'rejected' });
      return false;
    }
    const now = this.#o.clock.now();
    await connections.updateCalendar(this.#o.database.db, calendar.id, { push_last_message_at: now, updated_at: now });
    this.#notifications.inc({ provider: 'google', outcome: headers.state ?? 'unknown' });
    // "sync" only announces the new channel; "exists" / "not_exists" mean something changed.
    if (headers.state !== 'sync') await this.requestSync(calendar.connection_id);
    return true;
  }

  /**
   * A change told by a retired channel of a calendar still read that has no live channel (the
   * channel whose opening answer was lost, the opening since failed or not yet asked again): no
   * other channel tells of it, so the connection is synced.
   */
  async #askSyncForUnwatched(connectionId: string, providerCalendarId: string): Promise<void> {
    const calendar = (await connections.listCalendars(this.#o.database.db, connectionId)).find((c) => c.provider_calendar_id === providerCalendarId);
    if (calendar && calendar.push_channel_id === null) await this.requestSync(connectionId);
  }

  /**
   * Graph change and lifecycle notifications. Items whose subscription or clientState is not
   * ours are dropped; the answer is 202 either way (Graph retries anything else).
   */
  async acceptGraphNotifications(items: GraphNotification[]): Promise<number> {
    let accepted = 0;
    const now = this.#o.clock.now();
    for (const item of items) {
      // Graph subscription ids are GUIDs; anything else (an unauthenticated caller's NUL, say,
      // which PostgreSQL text cannot even compare) is not ours and is not looked up.
      const isPlausibleId = typeof item.subscriptionId === 'string' && /^[0-9A-Za-z-]{1,128}$/.test(item.subscriptionId);
      const calendar = isPlausibleId ? await connections.findCalendarByChannel(this.#o.database.db, item.subscriptionId!) : undefined;
      const retired = !calendar && isPlausibleId ? await connections.findRetiredPushChannel(this.#o.database.db, item.subscriptionId!) : undefined;
      if (retired && secretMatches(item.clientState, retired.secret_hash)) {
        // A subscription retired and not yet deleted (of a calendar no longer synced, or one whose
        // POST /subscriptions answer was lost, waiting for its DELETE): ours, so not counted as
        // rejected. As a rule it asks for nothing: the calendar's live subscription tells of the
        // same change, and a dropped calendar is no longer read; a calendar still read with no
        // live subscription (its opening failed since) is synced (#askSyncForUnwatched).
        this.#notifications.inc({ provider: 'microsoft', outcome: 'retired' });
        if (item.lifecycleEvent === undefined || item.lifecycleEvent === 'missed') await this.#askSyncForUnwatched(retired.connection_id, retired.provider_calendar_id);
        continue;
      }
      const pending = !calendar && !retired && isPlausibleId && typeof item.clientState === 'string' && item.clientState.length > 0
        ? await connections.findPendingPushChannelBySecret(this.#o.database.db, hashSecret(item.clientState)) : undefined;
      if (pending && (pending.channel_id === null || pending.channel_id === item.subscriptionId)) {
        // A subscription Rollcall asked for whose answer was never stored: its clientState, a
        // secret only that call carried, names it, and the notification its id (change and
        // lifecycle notifications both carry subscriptionId and clientState:
        // learn.microsoft.com/graph/api/resources/changenotification). The connection's next sync
        // deletes the subscription; a change it tells of (or changes it missed) asks for that sync
        // now: when the calendar's first subscription is the one whose answer was lost, none other
        // tells of it.
        await connections.notePendingPushChannelHeard(this.#o.database.db, pending.id, { channel_id: item.subscriptionId!, resource_id: null, heard_at: now });
        this.#notifications.inc({ provider: 'microsoft', outcome: 'pending' });
        if (item.lifecycleEvent === undefined || item.lifecycleEvent === 'missed') await this.requestSync(pending.connection_id);
        continue;
      }
      if (!calendar || !secretMatches(item.clientState, calendar.push_secret_hash)) {
        this.#notifications.inc({ provider: 'microsoft', outcome: 'rejected' });
        continue;
      }
      accepted++;
      const lifecycle = item.lifecycleEvent;
      this.#notifications.inc({ provider: 'microsoft', outcome: lifecycle ?? 'change' });
      if (lifecycle === 'reauthorizationRequired') {
        // Renewing (PATCH with a new expiry) is how Graph is reauthorized: make it due now.
        await connections.updateCalendar(this.#o.database.db, calendar.id, { push_expires_at: now, push_last_message_at: now, updated_at: now });
      } else if (lifecycle === 'subscriptionRemoved') {
        // The subscription is gone: open a new one, and resync for what was missed meanwhile.
        await connections.updateCalendar(this.#o.database.db, calendar.id, { push_channel_id: null, push_resource_id: null, push_expires_at: null, push_last_message_at: now, updated_at: now });
      } else {
        await connections.updateCalendar(this.#o.database.db, calendar.id, { push_last_message_at: now, updated_at: now });
      }
      await this.requestSync(calendar.connection_id);
    }
    return accepted;
  }
}

export interface GraphNotification {
  subscriptionId?: string;
  clientState?: string;
  changeType?: string;
  lifecycleEvent?: string;
}

function currentChannel(calendar: ConnectedCalendarRow): PushChannel | null {
  if (calendar.push_channel_id === null) return null;
  return { channelId: calendar.push_channel_id, resourceId: calendar.push_resource_id, expiresAtMs: calendar.push_expires_at ?? 0 };
}

/** One calendar of an account as GET /calendar shows it (stored in calendar_connections.calendar_list). */
export interface ListedCalendar {
  id: string;
  summary: string | null;
  description: string | null;
  isPrimary: boolean;
  accessRole: string | null;
  timeZone: string | null;
  backgroundColor: string | null;
  foregroundColor: string | null;
  selected: boolean;
  hidden: boolean;
}

/** A calendar list holds no more than this many calendars, and its texts are cut, so a hostile feed or account stays small. */
const MAX_LISTED_CALENDARS = 1000;

/** The account's calendar list as stored for GET /calendar: every calendar, synced or not. */
export function storedCalendarList(account: ProviderAccount): string {
  const cut = (value: string | null | undefined, limit: number) => (value == null ? null : value.length > limit ? value.slice(0, limit) : value);
  const list: ListedCalendar[] = account.calendars.slice(0, MAX_LISTED_CALENDARS).map((c) => ({
    id: c.id,
    summary: cut(c.name, 1024),
    description: cut(c.description, 4096),
    isPrimary: c.isPrimary,
    accessRole: cut(c.accessRole, 64),
    timeZone: cut(c.timeZone, 64),
    backgroundColor: cut(c.backgroundColor, 32),
    foregroundColor: cut(c.foregroundColor, 32),
    selected: c.isSelected ?? true,
    hidden: c.isHidden ?? false,
  }));
  return JSON.stringify(list);
}

/** The stored calendar list, or null when there is none (or it cannot be read). */
export function parseCalendarList(stored: string | null): ListedCalendar[] | null {
  if (stored === null) return null;
  try {
    const list = JSON.parse(stored) as unknown;
    return Array.isArray(list) ? (list as ListedCalendar[]) : null;
  } catch {
    return null;
  }
}

/** A connection's calendar choice: null for every calendar of the account, else the chosen ids. */
export function parseCalendarSelection(stored: string | null): string[] | null {
  if (stored === null) return null;
  try {
    const ids = JSON.parse(stored) as unknown;
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes a read's changes: in the provider's order (a later entry for the same event wins), except
 * that instances overriding a series wait until every series of the batch is written, so they
 * find it.
 */
async function writeChanges(writer: SyncedEventWriter, result: FetchResult): Promise<void> {
  const isOverride = (c: FetchResult['changes'][number]) => c.type === 'upsert' && c.event.seriesProviderEventId !== null;
  // A turn for the event loop every slice: on SQLite each write runs synchronously, and a feed
  // of thousands of events would hold it for the whole batch.
  const pacer = new EventLoopPacer();
  const goneOnLookup = new Set(result.goneOnLookup ?? []);
  for (const change of result.changes.filter((c) => !isOverride(c))) {
    await pacer.pace();
    if (change.type === 'upsert') await writer.upsert(change.event);
    else await writer.remove(change.providerEventId, goneOnLookup.has(change.providerEventId));
  }
  for (const change of result.changes.filter(isOverride)) {
    await pacer.pace();
    if (change.type === 'upsert') await writer.upsert(change.event);
  }
}

/** The last part of a full listing read in parts with what the parts before it kept, in the order they were read: one batch. */
function withKeptParts(last: FetchResult, kept: KeptRound): FetchResult {
  const unreadable = [...kept.unreadable, ...(last.unreadable ?? [])];
  return { ...last, changes: [...kept.changes, ...last.changes], ...(unreadable.length > 0 ? { unreadable } : {}) };
}

/** The decision a bot kept at its time for an unreadable occurrence of its series gets. */
const MEETING_UNREADABLE = 'meeting_unreadable' satisfies DecisionKind;

class SyncedEventWriter {
  readonly changed = new Map<string, 'updated' | 'deleted'>();
  readonly #trx: Transaction<Schema>;
  readonly #engine: Engine;
  readonly #connection: CalendarConnectionRow;
  readonly #calendar: ConnectedCalendarRow;
  readonly #now: number;
  readonly #counts: SyncCounts;
  /** Stored rows of this calendar by their provider id. */
  readonly #rows = new Map<string, EventRow>();
  readonly #seen = new Set<string>();
  /** Series rows this batch wrote (keys), checked for "this and following" splits afterwards. */
  readonly #upsertedSeries = new Set<string>();
  /** Of those, the ones this batch inserted: a split's continuation is one. */
  readonly #insertedSeries = new Set<string>();
  /** Stored series whose rule this batch changed (key), as they were before it: a split's old series is one. */
  readonly #ruleChanges = new Map<string, EventRow>();
  /** Instance rows this batch inserted or brought back: those that replace deleted ones take their bots (instance-moves.ts). */
  readonly #arrived: EventRow[] = [];
  /** Instances of series the read looked up before their bots join and found gone (FetchResult.goneOnLookup), deleted with those their series' list lacks. */
  readonly #goneOnLookup: EventRow[] = [];
  #isFull = false;
  /** The calendar's held instances as the round found them (connected_calendars.held_instances; domain/split-hold.ts). */
  readonly #held: HeldInstance[];
  /** Holds this round gives (or keeps giving) instances its series' lists leave out. */
  readonly #newHolds: HeldInstance[] = [];
  /** The rule each series whose master this round brings has now (split-holds.ts). */
  #roundRules = new Map<string, string | null>();
  /** Where stored zone rules that cannot be read are reported (CalendarEvents.zoneWarnings). */
  readonly #zoneWarnings: StoredZoneWarnings | null;

  constructor(trx: Transaction<Schema>, engine: Engine, connection: CalendarConnectionRow, calendar: ConnectedCalendarRow, now: number, counts: SyncCounts, zoneWarnings: StoredZoneWarnings | null) {
    this.#trx = trx;
    this.#zoneWarnings = zoneWarnings;
    this.#engine = engine;
    this.#connection = connection;
    this.#calendar = calendar;
    this.#now = now;
    this.#counts = counts;
    this.#held = parseHeldInstances(calendar.held_instances);
  }

  /**
   * Loads the rows the changes may touch: all of the calendar's for a full sync. The instances of
   * `asNew` (series stored in an earlier round, treated as arriving in this one) are loaded too.
   */
  async load(result: FetchResult, asNew: readonly string[] = []): Promise<void> {
    this.#isFull = result.isFullSync;
    this.#roundRules = roundSeriesRules(result.changes);
    const prefix = storedEventId(this.#calendar, '');
    if (result.isFullSync) {
      const rows = await this.#trx.selectFrom('events').selectAll().where('calendar_id', '=', this.#connection.id).execute();
      for (const row of rows) if (row.provider_event_id?.startsWith(prefix)) this.#rows.set(row.provider_event_id, row);
      return;
    }
    const ids = new Set<string>();
    for (const change of result.changes) {
      if (change.type === 'removed') ids.add(storedEventId(this.#calendar, change.providerEventId));
      else {
        ids.add(storedEventId(this.#calendar, change.event.providerEventId));
        if (change.event.seriesProviderEventId) ids.add(storedEventId(this.#calendar, change.event.seriesProviderEventId));
      }
    }
    const list = [...ids];
    for (let i = 0; i < list.length; i += 500) {
      const rows = await this.#trx.selectFrom('events').selectAll()
        .where('calendar_id', '=', this.#connection.id).where('provider_event_id', 'in', list.slice(i, i + 500)).execute();
      for (const row of rows) this.#rows.set(row.provider_event_id!, row);
    }
    // The stored instances of series that arrived complete: those not in the batch are gone.
    const series = [...(result.completeSeries ?? []), ...asNew];
    const isNew = new Set(asNew);
    for (let i = 0; i < series.length; i += 500) {
      const rows = await this.#trx.selectFrom('events').selectAll()
        .where('calendar_id', '=', this.#connection.id).where('provider_series_id', 'in', series.slice(i, i + 500)).execute();
      for (const row of rows) {
        if (!row.provider_event_id?.startsWith(prefix)) continue;
        this.#rows.set(row.provider_event_id, row);
        // Those over too: one may still be the meeting a bot is in (followMovedInstances keeps those only).
        if (isNew.has(row.provider_series_id!) && row.is_deleted === 0) this.#arrived.push(row);
      }
    }
  }

  /**
   * A feed's copy of a UID changes key between `UID` and `UID#<start>` when another copy of its
   * UID appears or goes (domain/ics-copy-keys.ts), though it is the same meeting. Before the
   * changes are written, a stored event under one form, whose other form arrives as a copy of it
   * (the same UID as written, the same start, and a series if and only if it is one), is renamed
   * to it: updated in place, it keeps its id and its bots, where a delete and an insert would
   * cancel the bots (a bot in the call stopped, one booked through the API not replaced). That
   * holds while its old key is listed again for another copy (a series that took the plain UID
   * beside it), and while its new key holds a stored event the copy is not (the series that had
   * the plain UID and went), which then takes the old key, where the copy listed there, if any,
   * updates it, or the end of the sync deletes it. Only for a full read of a feed, which lists
   * every event, so that "no longer listed" is known.
   */
  async followRekeyedCopies(changes: FetchResult['changes']): Promise<void> {
    if (!this.#isFull || this.#connection.provider !== 'ics') return;
    const stored = (id: string) => storedEventId(this.#calendar, id);
    /** The events listed, by stored key; null for one listed as removed. */
    const listed = new Map<string, ProviderEvent | null>();
    for (const c of changes) listed.set(stored(c.type === 'upsert' ? c.event.providerEventId : c.providerEventId), c.type === 'upsert' ? c.event : null);
    /** Keys a copy was renamed from: not used again. */
    const vacated = new Set<string>();
    // A turn for the event loop every slice, as for the writes that follow: on SQLite each rename
    // runs synchronously, and a feed whose thousands of UIDs each gain a copy renames thousands.
    const pacer = new EventLoopPacer();
    for (const change of changes) {
      await pacer.pace();
      if (change.type !== 'upsert' || change.event.originalStartMs !== null) continue;
      const event = change.event;
      const uid = writtenUidOf(event.raw);
      if (uid === null) continue;
      const key = stored(event.providerEventId);
      const current = this.#rows.get(key);
      if (current && !current.is_deleted && isStoredCopyOf(current, event, uid)) continue;
      const formerId = otherFormOfCopyKey(event.providerEventId, event.startMs);
      if (formerId === null) continue;
      const formerKey = stored(formerId);
      const former = this.#rows.get(formerKey);
      if (!former || former.is_deleted || vacated.has(formerKey) || !isStoredCopyOf(former, event, uid)) continue;
      // The copy listed under the old key, if it is this stored event's, keeps it.
      const listedThere = listed.get(formerKey);
      if (listedThere === null || (listedThere !== undefined && isStoredCopyOf(former, listedThere, uid))) continue;
      // The unique (calendar, key) index: the event under the new key takes the old one, by way of
      // a key of its own id (no feed key holds one).
      if (current) await this.#trx.updateTable('events').set({ provider_event_id: `${current.id}:renaming` }).where('id', '=', current.id).execute();
      await this.#trx.updateTable('events').set({ provider_event_id: key, updated_at: this.#now }).where('id', '=', former.id).execute();
      this.#rows.delete(formerKey);
      this.#rows.set(key, { ...former, provider_event_id: key, updated_at: this.#now });
      if (current) {
        await this.#trx.updateTable('events').set({ provider_event_id: formerKey }).where('id', '=', current.id).execute();
        this.#rows.set(formerKey, { ...current, provider_event_id: formerKey });
      }
      vacated.add(formerKey);
    }
  }

  async upsert(event: ProviderEvent): Promise<void> {
    const key = storedEventId(this.#calendar, event.providerEventId);
    this.#seen.add(key);
    const existing = this.#rows.get(key);
    let series: EventRow | undefined;
    if (event.seriesProviderEventId !== null) {
      series = this.#rows.get(storedEventId(this.#calendar, event.seriesProviderEventId));
      if (series && (series.is_deleted || series.recurrence === null)) series = undefined;
      // An instance whose series is not ours (an invitation to one occurrence of someone
      // else's series) stands alone; a cancelled one then has nothing to cancel.
      if (!series && event.status === 'cancelled' && !existing) return;
    }
    const isOld = Math.max(event.endMs, event.originalStartMs ?? 0) < this.#now - DAY_MS;
    if (!existing && isOld && event.recurrence === null) return;

    const columns = this.#columns(event, series, existing);
    if (columns === null) return;
    const values = { ...columns, series_end_ms: await seriesEndToStore(columns, existing) };
    // An occurrence read without its series master keeps the rule it had.
    if (event.seriesRule === undefined && existing) values.series_rule = existing.series_rule;
    if (!existing) {
      const row: EventRow = {
        ...values, id: newId('evt'), user_id: this.#connection.user_id, calendar_id: this.#connection.id,
        provider_event_id: key, is_deleted: 0, created_at: this.#now, updated_at: this.#now,
      };
      await this.#trx.insertInto('events').values(row).execute();
      if (row.provider_series_id !== null && row.recurrence === null && isPlainOccurrence(event.raw)) await recordInstanceSlot(this.#trx, row.id, row.start_ms);
      this.#rows.set(key, row);
      if (row.provider_series_id !== null) this.#arrived.push(row);
      if (row.recurrence !== null) {
        this.#upsertedSeries.add(key);
        this.#insertedSeries.add(key);
      }
      if (values.status !== 'cancelled') this.#counts.created++;
      else this.#counts.cancelled++;
      if (row.recurring_event_id) this.changed.set(row.recurring_event_id, 'updated');
      return;
    }
    // The owner's answer lives in raw only; a decline takes back the bot auto-schedule booked.
    const isMeaningful = existing.is_deleted === 1 || MEANINGFUL_COLUMNS.some((c) => existing[c] !== values[c])
      || (existing.raw !== values.raw && isDeclinedInvitation(existing.raw) !== isDeclinedInvitation(values.raw));
    const isSameSource = existing.platform === values.platform && existing.provider_calendar_id === values.provider_calendar_id;
    if (!isMeaningful && existing.raw === values.raw && isSameSource && existing.series_rule === values.series_rule && existing.is_all_day === values.is_all_day) return;
    const updated: EventRow = { ...existing, ...values, is_deleted: 0, updated_at: this.#now };
    await this.#trx.updateTable('events').set({ ...values, is_deleted: 0, updated_at: this.#now }).where('id', '=', existing.id).execute();
    // An Outlook instance listed as a plain occurrence: its start is its slot (instance_slots),
    // written again when that start changes (a series re-timed on the same day keeps the ids).
    if (updated.provider_series_id !== null && updated.recurrence === null && isPlainOccurrence(event.raw)
      && (existing.is_deleted === 1 || existing.start_ms !== updated.start_ms || !isPlainOccurrence(existing.raw))) await recordInstanceSlot(this.#trx, existing.id, updated.start_ms);
    this.#rows.set(key, updated);
    // A series moved back to a day it had before brings back the instance ids of that day.
    if (existing.is_deleted === 1 && updated.provider_series_id !== null) this.#arrived.push(updated);
    if (updated.recurrence !== null) this.#upsertedSeries.add(key);
    if (existing.is_deleted === 0 && existing.recurrence !== null && updated.recurrence !== existing.recurrence && !this.#ruleChanges.has(key)) this.#ruleChanges.set(key, existing);
    // An occurrence stored alone whose series has now arrived is that series' override from here on.
    if (existing.is_deleted === 0 && existing.recurring_event_id === null && updated.recurring_event_id !== null && updated.original_start_ms !== null) {
      await this.#followIntoSeries(existing, updated.recurring_event_id, updated.original_start_ms);
    }
    if (!isMeaningful) return;
    if (existing.is_deleted === 1) this.#counts.created++;
    else if (values.status === 'cancelled' && existing.status !== 'cancelled') this.#counts.cancelled++;
    else this.#counts.updated++;
    this.changed.set(existing.id, 'updated');
    // Bots of an occurrence hang off the series (old and new series, should it have changed).
    if (existing.recurring_event_id) this.changed.set(existing.recurring_event_id, 'updated');
    if (updated.recurring_event_id) this.changed.set(updated.recurring_event_id, 'updated');
  }

  /** The event is listed but was not read: whatever is stored for it stays, and is not unseen. */
  keep(providerEventId: string): void {
    this.#seen.add(storedEventId(this.#calendar, providerEventId));
  }

  /**
   * `isGoneOnLookup`: the read looked the event up before its bot joins and found it gone
   * (FetchResult.goneOnLookup). An instance of a series so found goes after the batch is written,
   * with the instances its series' list lacks (removeMissingInstances, removeUnseen): a series
   * moved to another day gives its occurrences new ids, and the bot of the old one follows the new
   * one rather than being cancelled.
   */
  async remove(providerEventId: string, isGoneOnLookup = false): Promise<void> {
    const key = storedEventId(this.#calendar, providerEventId);
    this.#seen.add(key);
    const existing = this.#rows.get(key);
    if (!existing || existing.is_deleted) return;
    if (isGoneOnLookup && existing.provider_series_id !== null && existing.recurrence === null) {
      this.#goneOnLookup.push(existing);
      return;
    }
    await this.#delete(existing);
  }

  /** After a full sync: stored events the provider no longer has are gone (within its window). */
  async removeUnseen(window: { fromMs: number; toMs: number } | null): Promise<void> {
    if (!this.#isFull) return;
    const gone: EventRow[] = [];
    for (const [key, row] of this.#rows) {
      if (this.#seen.has(key) || row.is_deleted) continue;
      if (window && row.recurrence === null && (row.end_ms <= window.fromMs || row.start_ms >= window.toMs)) continue;
      // An event that ended long ago and was skipped as old is not news.
      if (row.recurrence === null && row.end_ms < this.#now - DAY_MS) continue;
      gone.push(row);
    }
    await this.#deleteInstancesAndSeries([...gone, ...this.#goneOnLookup]);
  }

  /**
   * After an incremental fetch: a series that arrived complete (Graph resends a series master
   * with every occurrence it still has) has lost the stored instances the fetch did not bring,
   * inside the fetch's window. This is how a deleted occurrence, or the old occurrences of a
   * series moved to another weekday (whose instance ids change with the date), go away within
   * one sync round rather than at the next full sync. In one part of a round read in parts
   * (FetchResult.hasMore), an instance that holds a live bot and whose bot followed nothing stays:
   * the instance it moved to may be in a series a later part brings (the other half of a "this and
   * following" split), and the round's last part, which takes what the window no longer lists as
   * gone, lets the bot follow it then. An instance the read looked up before its bot joins and
   * found gone (remove, isGoneOnLookup) goes with them, its bot following the instance that
   * replaced it in this batch, if one did; in such a part, one whose series is left to a later part
   * (FetchResult.seriesLeft: a series moved to another day whose master this part did not look up)
   * stays with its live bot until then, the instance it moved to perhaps coming in that part. Any
   * other goes at once, its bot cancelled: its series brought whole by this part, completed by an
   * earlier one (later parts skip it), or not listed in the round at all (its only occurrence in
   * the window deleted): no later part brings an instance of it to follow.
   */
  async removeMissingInstances(result: FetchResult): Promise<void> {
    const series = new Set(result.completeSeries ?? []);
    if (series.size === 0 && this.#goneOnLookup.length === 0) return;
    const gone: EventRow[] = [];
    for (const [key, row] of this.#rows) {
      if (row.provider_series_id === null || !series.has(row.provider_series_id) || this.#seen.has(key) || row.is_deleted) continue;
      if (result.window && (row.end_ms <= result.window.fromMs || row.start_ms >= result.window.toMs)) continue;
      if (row.end_ms < this.#now - DAY_MS) continue;
      gone.push(row);
    }
    const isPart = result.hasMore === true;
    const lookedUp = new Set(this.#goneOnLookup.map((row) => row.id));
    const left = new Set(result.seriesLeft ?? []);
    await this.#deleteInstancesAndSeries([...gone, ...this.#goneOnLookup], new Set(result.unreadableNewIn ?? []),
      (row) => isPart && (!lookedUp.has(row.id) || left.has(row.provider_series_id!)));
  }

  /**
   * Deletes what the provider no longer has, once the bots of instances it gave new ids have
   * followed them. In `unreadableNewIn` (series listing an instance that cannot be read and is not
   * stored), an instance whose live bot followed nothing may have moved to that one: it stays,
   * unless the check before its bot joins found it gone (that check is what settles it); so does
   * every such instance `isLeftToLaterPart` names (in one part of a round read in parts: see
   * removeMissingInstances). One that an Outlook series cut short left out while a bot is in its
   * meeting, with nothing continuing it yet, is held for the new series of a split (holdsFor).
   */
  async #deleteInstancesAndSeries(missing: readonly EventRow[], unreadableNewIn: ReadonlySet<string> = new Set(), isLeftToLaterPart: (row: EventRow) => boolean = () => false): Promise<void> {
    if (missing.length > 0 && this.#arrived.length > 0) {
      const goneIds = new Set(missing.map((row) => row.id));
      const alive = [...this.#rows.values()].filter((row) => !row.is_deleted && !goneIds.has(row.id));
      for (const id of await followMovedInstances(this.#trx, this.#engine, this.#now, missing, this.#arrived, alive)) this.changed.set(id, 'updated');
    }
    // An Outlook split's old series cut short before its new series came: the instance a bot is in
    // the meeting of stays, held for the new series to continue (domain/split-hold.ts).
    const holds = missing.length === 0 ? [] : await holdsFor(this.#trx, missing, this.#roundRules, this.#held, this.#now);
    this.#newHolds.push(...holds);
    const heldIds = new Set(holds.map((hold) => hold.eventId));
    const gone = missing.filter((row) => !heldIds.has(row.id));
    const isUnreadableKept = (row: EventRow) => unreadableNewIn.has(row.provider_series_id!) && !this.#goneOnLookup.includes(row);
    const unsure = gone.filter((row) => row.provider_series_id !== null && (isLeftToLaterPart(row) || isUnreadableKept(row)));
    const kept = unsure.length === 0 ? [] : await this.#trx.selectFrom('bot_events').select(['event_id', 'bot_id']).distinct()
      .where('event_id', 'in', unsure.map((row) => row.id)).where('is_live', '=', 1).execute();
    const withBots = new Set(kept.map((link) => link.event_id));
    for (const row of gone) if (!withBots.has(row.id)) await this.#delete(row);
    await this.#noteKeptForUnreadable(kept.filter((link) => unsure.some((row) => row.id === link.event_id && isUnreadableKept(row))).map((link) => link.bot_id));
  }

  /**
   * Tells each bot kept on an instance its series may have moved to one that cannot be read why it
   * stays at its old time (once: the same listing comes at every round).
   */
  async #noteKeptForUnreadable(botIds: readonly string[]): Promise<void> {
    if (botIds.length === 0) return;
    const told = new Set((await this.#trx.selectFrom('bot_decisions').select('bot_id')
      .where('bot_id', 'in', [...botIds]).where('kind', '=', MEETING_UNREADABLE).execute()).map((row) => row.bot_id));
    for (const botId of new Set(botIds)) {
      if (told.has(botId)) continue;
      await bots.appendDecision(this.#trx, botId, this.#now, MEETING_UNREADABLE,
        'The calendar lists this meeting\'s series with an occurrence whose start Rollcall cannot read (a time zone it does not know), and this occurrence no longer; it may have moved there, so the bot is kept at its time until the calendar is read whole again or the meeting is looked up before the bot joins');
    }
  }

  /**
   * Google's "this and following events" splits a series: the old master gets an UNTIL and a new
   * master carries the rest. Links of bots to occurrences the old series no longer has move to
   * the continuation, under the same key and configuration, so that the client's intent (a bot
   * for that occurrence, or for every occurrence) follows the series; the continuation's own
   * reconciliation then moves them to its times.
   *
   * The continuation is found by its id where it has the historical shape `<old id>_R<original
   * start of the first moved occurrence>` (odoo PR 287171, google-api-php-client issue 2009; in
   * a feed Google publishes, the UIDs `<id>@google.com` and `<id>_R…@google.com`:
   * series-split.ts), whichever of the two masters arrives first. Google's ids are to be treated
   * as opaque since its change of format (its notice, phw198/OutlookGoogleCalendarSync issue
   * 2205), so a series cut in this batch is also tied to a series inserted in it that carries on
   * the same meeting from the cut (cut-series-continuations.ts); that needs both halves in one
   * batch, which is how Google's own split arrives (one edit, both masters in the next listing).
   */
  async followSeriesSplits(): Promise<void> {
    // Series tied by id to a series new in this batch: the rule without ids leaves them be.
    const tied = new Set<string>();
    const tie = async (base: EventRow, continuation: EventRow, splitMs: number) => {
      await this.#relinkSplit(base, continuation, splitMs);
      if (this.#insertedSeries.has(continuation.provider_event_id ?? '')) tied.add(base.id).add(continuation.id);
    };
    const idPrefix = storedEventId(this.#calendar, '');
    // A full read holds every stored event of the calendar (load): continuations are looked up in
    // it, indexed once. A query per series would read the calendar's events once per series, on
    // SQLite with the event loop held (a feed of 8,000 series held it for 24 s).
    const continuationsInRows = this.#isFull && this.#upsertedSeries.size > 0 ? this.#continuationsByBase(idPrefix) : null;
    for (const key of this.#upsertedSeries) {
      const row = this.#rows.get(key);
      if (!row || row.is_deleted || row.recurrence === null) continue;
      const providerId = key.slice(idPrefix.length);
      const split = parseSplitId(providerId);
      if (split) {
        const baseKey = storedEventId(this.#calendar, split.baseId);
        const base = this.#isFull ? this.#rows.get(baseKey) : await this.#trx.selectFrom('events').selectAll().where('calendar_id', '=', this.#connection.id)
          .where('provider_event_id', '=', baseKey).executeTakeFirst();
        if (base) await tie(base, row, split.splitMs);
      }
      const continuations = continuationsInRows ? continuationsInRows.get(providerId) ?? [] : await this.#storedContinuations(idPrefix, providerId);
      for (const { continuation, splitMs } of continuations) {
        await tie(row, continuation, splitMs);
      }
    }
    if (this.#ruleChanges.size === 0 || this.#insertedSeries.size === 0) return;
    const changed = [...this.#ruleChanges].map(([key, before]) => ({ before, after: this.#rows.get(key)! })).filter(({ after }) => !tied.has(after.id));
    const inserted = [...this.#insertedSeries].map((key) => this.#rows.get(key)!).filter((row) => !tied.has(row.id));
    for (const { base, continuation, splitMs } of await findCutContinuations(changed, inserted, this.#now, this.#zoneWarnings)) await this.#relinkSplit(base, continuation, splitMs);
  }

  /**
   * The calendar's holds after this round (connected_calendars.held_instances), undefined when
   * they did not change. A held instance that the round listed again, deleted, or whose bot
   * followed into a new series (which deleted it) is no longer held; one whose hour is over is
   * deleted now, as its series' list had it, its bot stopped if it is still in its meeting.
   */
  async settleHolds(): Promise<string | null | undefined> {
    const tracked = [...this.#held, ...this.#newHolds];
    if (tracked.length === 0) return undefined;
    const ids = [...new Set(tracked.map((hold) => hold.eventId))];
    const rows = new Map<string, EventRow>();
    for (let i = 0; i < ids.length; i += 500) {
      const found = await this.#trx.selectFrom('events').selectAll().where('calendar_id', '=', this.#connection.id).where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const row of found) rows.set(row.id, row);
    }
    const heldNow = new Set(this.#newHolds.map((hold) => hold.eventId));
    const settled = new Set<string>();
    for (const id of ids) {
      const row = rows.get(id);
      const isListedAgain = row !== undefined && !heldNow.has(id) && this.#seen.has(row.provider_event_id ?? '');
      if (row === undefined || row.is_deleted === 1 || isListedAgain) settled.add(id);
    }
    for (const hold of expiredHolds(this.#held, this.#now)) {
      if (settled.has(hold.eventId) || heldNow.has(hold.eventId)) continue;
      await this.#delete(rows.get(hold.eventId)!);
      settled.add(hold.eventId);
    }
    const { kept, evicted } = holdsAfterRound(this.#held, this.#newHolds, settled, this.#now);
    // Past the most a calendar keeps: deleted now, as at their hour's end.
    for (const hold of evicted) await this.#delete(rows.get(hold.eventId)!);
    const stored = storedHeldInstances(kept);
    return stored === (this.#calendar.held_instances ?? null) ? undefined : stored;
  }

  /** The calendar's live series continuations among the loaded rows, by the provider id of the series each continues. */
  #continuationsByBase(idPrefix: string): Map<string, { continuation: EventRow; splitMs: number }[]> {
    const byBase = new Map<string, { continuation: EventRow; splitMs: number }[]>();
    for (const [key, continuation] of this.#rows) {
      if (continuation.is_deleted || !key.startsWith(idPrefix)) continue;
      const of = parseSplitId(key.slice(idPrefix.length));
      if (!of) continue;
      const list = byBase.get(of.baseId) ?? [];
      list.push({ continuation, splitMs: of.splitMs });
      byBase.set(of.baseId, list);
    }
    return byBase;
  }

  /** The stored live continuations of one series (`<id>_R…`), for a batch that loaded only what it changes. */
  async #storedContinuations(idPrefix: string, providerId: string): Promise<{ continuation: EventRow; splitMs: number }[]> {
    const affixes = continuationIdAffixes(providerId);
    const pattern = `${escapeLike(idPrefix + affixes.prefix)}%${escapeLike(affixes.suffix)}`;
    const rows = await this.#trx.selectFrom('events').selectAll().where('calendar_id', '=', this.#connection.id)
      .where(sql<boolean>`provider_event_id like ${pattern} escape '\\'`).where('is_deleted', '=', 0).execute();
    return rows.flatMap((continuation) => {
      const of = parseSplitId((continuation.provider_event_id ?? '').slice(idPrefix.length));
      return of?.baseId === providerId ? [{ continuation, splitMs: of.splitMs }] : [];
    });
  }

  /**
   * An occurrence stored on its own (its series was not stored: an invitation to one occurrence,
   * a feed's override without its series) has become an override of its series, which arrived
   * since. Its bots were linked to it as to a single event; they now link as a bot booked on an
   * override is, to the series and the occurrence's original start, so that the series' bookings
   * (schedule_all_occurrences, auto-schedule, a schedule through the series' id) find the
   * occurrence taken and the event list shows the bot on the override. As for a split series, the
   * ended links of bots that never launched move too: an occurrence the client unscheduled stays
   * without a bot. A live link where the series already has one for that occurrence stays.
   */
  async #followIntoSeries(lone: EventRow, seriesId: string, originalStartMs: number): Promise<void> {
    const key = occurrenceKey(originalStartMs);
    const links = await this.#trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.id', 'bot_events.bot_id', 'bot_events.is_live'])
      .where('bot_events.event_id', '=', lone.id).where('bot_events.occurrence_key', '=', '')
      .where((eb) => eb.or([eb('bot_events.is_live', '=', 1), eb.and([eb('bots.launched_at', 'is', null), eb('bot_events.start_ms', '>', this.#now)])]))
      .orderBy('bot_events.is_live', 'desc').orderBy('bot_events.id').execute();
    for (const link of links) {
      if (link.is_live === 0) {
        // updated_at stays, as for an ended link that follows a split: the bot is untouched.
        await this.#trx.updateTable('bot_events').set({ event_id: seriesId, occurrence_key: key }).where('id', '=', link.id).execute();
        continue;
      }
      const taken = await this.#trx.selectFrom('bot_events').select('id')
        .where('event_id', '=', seriesId).where('occurrence_key', '=', key).where('is_live', '=', 1).executeTakeFirst();
      if (taken) continue;
      await this.#trx.updateTable('bot_events').set({ event_id: seriesId, occurrence_key: key, updated_at: this.#now }).where('id', '=', link.id).execute();
      await bots.appendDecision(this.#trx, link.bot_id, this.#now, 'followed_into_series',
        `Event ${lone.id}, one occurrence of a series that was not stored, is now an override of series ${seriesId}, which arrived since; the bot follows occurrence ${key} of that series`,
        { from_event_id: lone.id, to_event_id: seriesId, occurrence_key: key });
      this.changed.set(lone.id, 'updated');
      this.changed.set(seriesId, 'updated');
    }
  }

  async #relinkSplit(base: EventRow, continuation: EventRow, splitMs: number): Promise<void> {
    if (base.is_deleted || base.recurrence === null || continuation.is_deleted || continuation.recurrence === null) return;
    // A schedule_all_occurrences batch over the split goes on in the continuation (auto-schedule's
    // top-up), and so does chain mode. The old series uses up its occurrences before the
    // continuation's start, those past the horizon too: its batch books them as time brings them
    // within reach (SeriesOccurrences.firstByOriginalStart), so they are counted up to that start
    // wherever it lies. The cut rule ends there; the search is paced, and stops at the batch's
    // count and the work caps.
    const compiled = compiledSeriesOf(base, this.#zoneWarnings);
    const pacer = new EventLoopPacer();
    await carrySeriesBookings(this.#trx, base.id, continuation.id, this.#now, async (batch) => (await paceSteps(compiled.upcomingSteps(Number(batch.from_ms), batch.occurrence_count,
      { beforeMs: continuation.start_ms }), pacer)).occurrences.length);
    await carryChain(this.#trx, base.id, continuation.id, this.#now);
    // Live links, and the ended links of bots that never launched (an occurrence the client
    // unscheduled or cancelled): those are the fact that the occurrence had a bot, which keeps
    // auto-schedule and the carried batch from booking it again in the continuation.
    const links = await this.#trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.id', 'bot_events.bot_id', 'bot_events.occurrence_key', 'bot_events.is_live'])
      .where('bot_events.event_id', '=', base.id).where('bot_events.occurrence_key', '!=', '')
      .where((eb) => eb.or([eb('bot_events.is_live', '=', 1), eb.and([eb('bots.launched_at', 'is', null), eb('bot_events.start_ms', '>', this.#now)])]))
      .orderBy('bot_events.is_live', 'desc').orderBy('bot_events.id').execute();
    for (const link of links) {
      const originalMs = parseOccurrenceKey(link.occurrence_key);
      // The id's time is read as UTC; a day of slack covers a provider writing it in local time.
      if (originalMs === null || originalMs < splitMs - DAY_MS) continue;
      if (compiled.find(originalMs)) continue;
      const taken = await this.#trx.selectFrom('bot_events').select('id')
        .where('event_id', '=', continuation.id).where('occurrence_key', '=', link.occurrence_key)
        .$if(link.is_live === 1, (q) => q.where('is_live', '=', 1)).executeTakeFirst();
      if (taken) continue;
      this.changed.set(continuation.id, 'updated');
      this.changed.set(base.id, 'updated');
      if (link.is_live === 0) {
        // updated_at stays, as when an ended link follows a re-time (bot-scheduling.ts): the bot is untouched.
        await this.#trx.updateTable('bot_events').set({ event_id: continuation.id }).where('id', '=', link.id).execute();
        continue;
      }
      await this.#trx.updateTable('bot_events').set({ event_id: continuation.id, updated_at: this.#now }).where('id', '=', link.id).execute();
      await bots.appendDecision(this.#trx, link.bot_id, this.#now, 'followed_series_split',
        `Series ${base.id} was split at the provider ("this and following events"); occurrence ${link.occurrence_key} continues in series ${continuation.id}`,
        { from_event_id: base.id, to_event_id: continuation.id, occurrence_key: link.occurrence_key });
    }
  }

  async #delete(row: EventRow): Promise<void> {
    // The meeting moved to another calendar of the account: its bots follow it there.
    const followed = await followMeetingToOtherCalendar(this.#trx, this.#engine, this.#now, row);
    if (followed !== null) this.changed.set(followed, 'updated');
    await this.#trx.updateTable('events').set({ is_deleted: 1, updated_at: this.#now }).where('id', '=', row.id).execute();
    this.#rows.set(row.provider_event_id!, { ...row, is_deleted: 1 });
    if (row.recurrence !== null) {
      // A series goes with its instances (their bots hang off the series' links).
      await this.#trx.updateTable('events').set({ is_deleted: 1, updated_at: this.#now })
        .where('user_id', '=', row.user_id).where('recurring_event_id', '=', row.id).where('is_deleted', '=', 0).execute();
    }
    if (row.status !== 'cancelled') this.#counts.cancelled++;
    this.changed.set(row.id, 'deleted');
    if (row.recurring_event_id) this.changed.set(row.recurring_event_id, 'updated');
  }

  /** The stored columns for a provider event; null when it cannot be stored (logged by count). */
  #columns(event: ProviderEvent, series: EventRow | undefined, existing: EventRow | undefined) {
    // Cut to the API's own field limits, raw bounded, before anything reads the texts.
    const limited = limitEventFields(event);
    let recurrence = limited.recurrence;
    let timezone = event.timeZone && isValidTimeZone(event.timeZone) ? event.timeZone : null;
    if (recurrence !== null) {
      timezone ??= this.#calendar.time_zone && isValidTimeZone(this.#calendar.time_zone) ? this.#calendar.time_zone : 'UTC';
      const check = validateRecurrence(recurrence);
      if (!check.ok) {
        // A rule Rollcall cannot expand (EXRULE, RDATE periods...): keep the lines that work, so
        // that the first occurrence at least is known, rather than drop the event.
        recurrence = recurrence.filter((line) => validateRecurrence([line]).ok);
        if (recurrence.length === 0 || !validateRecurrence(recurrence).ok) recurrence = null;
      }
    }
    const found = resolveMeetingLink({ meetingUrl: limited.conferenceUrl, location: limited.location, description: limited.description });
    const meeting = found && isMeetingUrlWithinLimit(found.url) ? found : null;
    const recurrenceText = recurrence === null ? null : JSON.stringify(recurrence);
    // A series in a zone no IANA zone keeps is expanded by that zone's rules (its timezone is a stand-in).
    const zoneRules = recurrence !== null && timezone === event.timeZone ? event.zoneRules ?? null : null;
    const raw = limited.rawJson;
    const provider = this.#connection.provider;
    return {
      title: limited.title,
      description: limited.description,
      location: limited.location,
      start_ms: event.startMs,
      end_ms: Math.max(event.endMs, event.startMs),
      timezone,
      meeting_url: meeting?.url ?? null,
      meeting_platform: meeting?.platform ?? null,
      meeting_identity: meeting?.identity ?? null,
      recurrence: recurrenceText,
      zone_rules: zoneRules,
      recurring_event_id: series ? series.id : null,
      // An occurrence whose series is not stored (an invitation to one occurrence of someone
      // else's series, a feed's RECURRENCE-ID override whose series is not in the feed) keeps its
      // original start too, beside no series: it is still that occurrence (a schedule answer says so).
      original_start_ms: event.originalStartMs,
      status: event.status,
      raw,
      provider_series_id: event.providerSeriesId ?? null,
      platform: provider === 'google' ? 'google_calendar' : provider === 'microsoft' ? 'outlook_calendar' : 'ics',
      provider_calendar_id: provider === 'ics' ? null : this.#calendar.provider_calendar_id,
      series_rule: event.seriesRule ?? null,
      // As the provider gives it now: raw may lose what says so (a feed's VEVENT text cut for size).
      is_all_day: event.isAllDay ? 1 : 0,
      // The provider gives the link (conference data) or the text holds it: not a client's.
      meeting_url_given: null,
    };
  }
}

const MEANINGFUL_COLUMNS = [
  'title', 'description', 'location', 'start_ms', 'end_ms', 'timezone', 'meeting_url', 'meeting_platform', 'meeting_identity',
  'recurrence', 'zone_rules', 'recurring_event_id', 'original_start_ms', 'status',
] as const;

/** Whether a stored ICS event is a copy of `event`: the same UID as written, the same start, and a series if and only if `event` is one. */
function isStoredCopyOf(row: EventRow, event: ProviderEvent, uid: string): boolean {
  return row.start_ms === event.startMs && (row.recurrence !== null) === (event.recurrence !== null) && writtenUidOf(row.raw) === uid;
}

/** The UID an ICS event was written with (its raw `uid`); null for other events. */
function writtenUidOf(raw: unknown): string | null {
  try {
    const value = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { uid?: unknown } | null;
    return typeof value?.uid === 'string' ? value.uid : null;
  } catch {
    return null;
  }
}
