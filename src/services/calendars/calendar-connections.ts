// Calendar connections: connect an ICS feed, a Google account or a Microsoft account; list,
// inspect, force a sync, disconnect. Credentials are checked with the provider before anything is
// stored, stored sealed, and never returned.
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow } from '../../db/schema.ts';
import { instanceSeriesPattern } from '../../domain/instance-series.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { settledWithin } from '../../lib/deadline.ts';
import { newId } from '../../lib/ids.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { formatOptionalInstant, formatInstant } from '../../lib/time.ts';
import type { GuardResult, OutboundGuard } from '../../adapters/outbound-guard.ts';
import {
  CalendarProviderError, toProviderFailure, type OAuthRefusal, type ProviderAccount, type ProviderCredentials, type ProviderFailure, type ProviderKind,
} from '../../adapters/calendars/calendar-provider.ts';
import { feedAccountId, normalizeFeedUrl, redactFeedUrl } from '../../adapters/calendars/ics-calendar-provider.ts';
import type { CalendarEvents, EventChangeReason } from './calendar-events.ts';
import { parseCalendarList, providerWaitEnd, sealCredentials, SyncDeferred, type CalendarSync, type ListedCalendar, type ProviderFactory, type SyncReport } from './calendar-sync.ts';
import { noteConnectionRecovered } from './connection-health.ts';
import { retryingConflicts } from '../../db/race-retry.ts';
import { matchesScope, parseCalendarScope, providerNameOf, type CalendarScopeInput, type ProviderName } from './calendar-scope.ts';
import * as connections from '../../store/connection-store.ts';

/** MeetStream's cap: Google and Outlook connections combined, per user (ICS counted too here). */
export const MAX_CONNECTIONS_PER_USER = 200;

export interface IcsConnectRequest {
  ics_url: string;
  callback_url?: string;
}

/** Which calendars of the account are synced: "all" (the default) or a list of provider calendar ids. */
export type CalendarIdsChoice = 'all' | string[];

export interface GoogleConnectRequest {
  google_client_id: string;
  google_client_secret: string;
  google_refresh_token: string;
  callback_url?: string;
  calendar_ids?: CalendarIdsChoice;
}

export interface MicrosoftConnectRequest {
  microsoft_client_id: string;
  microsoft_client_secret: string;
  microsoft_refresh_token: string;
  replace?: boolean;
  callback_url?: string;
  calendar_ids?: CalendarIdsChoice;
}

export interface CalendarView {
  id: string;
  summary: string | null;
  isPrimary: boolean;
  timeZone: string | null;
  /** MeetStream's calendar fields, from the account's calendar list as last read. */
  description: string | null;
  accessRole: string | null;
  backgroundColor: string | null;
  foregroundColor: string | null;
  selected: boolean;
  hidden: boolean;
  push: {
    active: boolean;
    channel_id: string | null;
    expires_at: string | null;
    last_notification_at: string | null;
    error: string | null;
  };
  /** Why the last read of this calendar failed, when the failure was the calendar's; null once a read works. */
  read_error: string | null;
  /** Since when it refuses its reader or is gone while the account's others read (its bots are at risk); null once a read works. */
  access_refused_since: string | null;
  /** When a calendar failing while its account's others sync is read again (not at every sync meanwhile). */
  next_read_at: string | null;
}

export interface ConnectionView {
  calendar_id: string;
  provider: 'ics' | 'google' | 'outlook';
  platform: 'ics_calendar' | 'google_calendar' | 'outlook_calendar';
  account_id: string | null;
  user_email: string | null;
  user_name: string | null;
  ics_url: string | null;
  primary_calendar_id: string | null;
  status: string;
  callback_url: string | null;
  created_at: string;
  updated_at: string;
  last_sync_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  sync_failing_since: string | null;
  sync_failing_reported_at: string | null;
  failing_calendars: string[] | null;
  next_sync_at: string | null;
  push_enabled: boolean;
  calendars: CalendarView[];
}

export interface ConnectResponse extends ConnectionView {
  message: string;
  /** The account or feed was connected already: this connect replaced that connection (its id, and without calendar_ids its choice of calendars, stay). */
  replaced: boolean;
  /** Every calendar of the account, and whether Rollcall syncs it. */
  available_calendars: { id: string; summary: string | null; isPrimary: boolean; accessRole: string | null; timeZone: string | null; synced: boolean }[];
  watch_setup: {
    success: boolean;
    status: 'active' | 'partial' | 'failed' | 'not_supported' | 'disabled';
    watches_setup: number;
    /** Outlook only: the same count under MeetStream's name for Graph subscriptions. */
    subscriptions_setup?: number;
    message: string;
    failed_calendars: string[];
    watch_results: { calendar_id: string; calendar_summary: string | null; channel_id: string; expiration: string }[];
  };
  sync: { synced: boolean; created: number; updated: number; cancelled: number; error: string | null };
}

/**
 * A connection a listing with sync=true did not sync: its provider's Retry-After runs until
 * retry_at (`retry_after`), or it is waiting out the backoff after failed syncs (`backoff`).
 */
export interface SyncDeferral {
  calendar_id: string;
  reason: 'retry_after' | 'backoff';
  /** When the wait ends. */
  retry_at: string;
  /** When the connection syncs next (the wait's end, or a backoff beyond it). */
  next_sync_at: string;
}

export interface SyncAnswer {
  calendar_id: string;
  synced: boolean;
  created: number;
  updated: number;
  cancelled: number;
  status: string;
  synced_at: string | null;
  next_sync_at: string | null;
  failure: { kind: string; message: string; retry_after_seconds?: number } | null;
  message: string;
}

export interface DisconnectResponse {
  calendar_id: string;
  disconnected: true;
  events_deleted: number;
  /** Events kept (purge_events: false): no longer synced, detached from the connection. */
  events_kept: number;
  bots_cancelled: number;
  watch_channels_stopped: number;
  message: string;
}

export interface DisconnectOptions {
  /** false keeps the connection's events (detached, no longer synced); default true. */
  purgeEvents?: boolean;
}

/** MeetStream's disconnect: `{}` (the only connection), `{provider}` or `{provider, account_id}`. */
export interface ScopedDisconnectRequest extends CalendarScopeInput {
  purge_events?: boolean;
}

export interface ScopedDisconnectResponse {
  disconnected: true;
  user_id: string;
  /** Whether a push channel or subscription was stopped. */
  watch_channel_stopped: boolean;
  watch_channels_stopped: number;
  events_deleted: number;
  events_kept: number;
  /** The bots whose schedules were cancelled (MeetStream's name), and the same under Rollcall's. */
  schedules_cancelled: number;
  bots_cancelled: number;
  message: string;
  disconnected_connections: (DisconnectResponse & { provider: ProviderName; account_id: string | null })[];
}

/** One calendar of a connected account as GET /calendar lists it. */
export interface ListedCalendarView extends ListedCalendar {
  provider: ProviderName;
  account_id: string | null;
  connection_id: string;
  /** Whether Rollcall syncs this calendar's events (see calendar_ids at connect time). */
  synced: boolean;
}

export interface ConnectionSummary {
  connection_id: string;
  account_id: string | null;
  email: string | null;
  status: string;
  calendars_count: number;
}

export interface CalendarListResponse {
  total: number;
  user_id: string;
  calendars: ListedCalendarView[];
  /** The connections the calendars come from, by provider (MeetStream's templates read these). */
  google: ConnectionSummary[];
  outlook: ConnectionSummary[];
  ics: ConnectionSummary[];
}

export class CalendarConnections {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #providers: ProviderFactory;
  readonly #box: SecretBox | null;
  /** A key is set, but this process uses none: it opens none of the values sealed before. */
  readonly #isKeyUnusable: boolean;
  readonly #guard: OutboundGuard;
  readonly #sync: CalendarSync;
  readonly #events: CalendarEvents;
  readonly #isPushEnabled: boolean;
  readonly #logger: Logger;

  constructor(deps: { database: Database; clock: Clock; providers: ProviderFactory; box: SecretBox | null; isKeyUnusable?: boolean; guard: OutboundGuard; sync: CalendarSync; events: CalendarEvents; isPushEnabled: boolean; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#providers = deps.providers;
    this.#box = deps.box;
    this.#isKeyUnusable = deps.isKeyUnusable ?? false;
    this.#guard = deps.guard;
    this.#sync = deps.sync;
    this.#events = deps.events;
    this.#isPushEnabled = deps.isPushEnabled;
    this.#logger = deps.logger;
  }

  async connectIcs(userId: string, request: IcsConnectRequest): Promise<ConnectResponse> {
    const url = normalizeFeedUrl(request.ics_url);
    if (!/^https?:\/\//i.test(url)) throw new ApiError('calendar_url_not_allowed', 'ics_url must be an http(s) or webcal URL', { details: { field: 'ics_url' } });
    const check = await checkUrlPromptly(this.#guard, url);
    if (!check.ok) throw new ApiError('calendar_url_not_allowed', `ics_url ${check.reason}`, { details: { field: 'ics_url' } });
    return this.#connect(userId, { kind: 'ics', url }, { callbackUrl: request.callback_url, replace: true, displayUrl: redactFeedUrl(url), accountId: feedAccountId(url) });
  }

  async connectGoogle(userId: string, request: GoogleConnectRequest): Promise<ConnectResponse> {
    this.#requireKey('Google');
    return this.#connect(userId, {
      kind: 'google', clientId: request.google_client_id, clientSecret: request.google_client_secret, refreshToken: request.google_refresh_token,
    }, { callbackUrl: request.callback_url, replace: true, calendarIds: request.calendar_ids });
  }

  /** Reconnecting an account already connected needs replace: true (MeetStream's rule). */
  async connectMicrosoft(userId: string, request: MicrosoftConnectRequest): Promise<ConnectResponse> {
    this.#requireKey('Microsoft');
    return this.#connect(userId, {
      kind: 'microsoft', clientId: request.microsoft_client_id, clientSecret: request.microsoft_client_secret, refreshToken: request.microsoft_refresh_token,
    }, { callbackUrl: request.callback_url, replace: request.replace === true, calendarIds: request.calendar_ids });
  }

  async list(userId: string): Promise<{ total: number; connections: ConnectionView[] }> {
    const rows = await connections.listConnections(this.#database.db, userId);
    const views = await Promise.all(rows.map((row) => this.#view(row)));
    return { total: views.length, connections: views };
  }

  async get(userId: string, calendarId: string): Promise<ConnectionView> {
    return this.#view(await this.#find(userId, calendarId));
  }

  /**
   * GET /calendar: every calendar of the user's connected accounts, from the calendar list each
   * sync keeps (read at connect time and again at most hourly), not read live from the provider:
   * a user may have 200 connections, a provider may be down or rate limiting, and a connection
   * that lost its access still has calendars worth showing (docs/calendar-sync.md).
   */
  async listCalendars(userId: string, query: CalendarScopeInput): Promise<CalendarListResponse> {
    const scope = parseCalendarScope(query);
    const rows = (await connections.listConnections(this.#database.db, userId)).filter((row) => matchesScope(row, scope));
    const answer: CalendarListResponse = { total: 0, user_id: userId, calendars: [], google: [], outlook: [], ics: [] };
    for (const row of rows) {
      const provider = providerNameOf(row.provider as ProviderKind);
      const accountId = provider === 'ics' ? null : row.account_id;
      const synced = await connections.listCalendars(this.#database.db, row.id);
      const listed = parseCalendarList(row.calendar_list) ?? synced.map(listedFromSynced);
      for (const calendar of listed) {
        answer.calendars.push({
          ...calendar,
          id: publicCalendarId(row, calendar.id),
          provider, account_id: accountId, connection_id: row.id,
          synced: synced.some((c) => c.provider_calendar_id === calendar.id),
        });
      }
      answer[provider].push({ connection_id: row.id, account_id: accountId, email: row.user_email, status: row.status, calendars_count: listed.length });
    }
    answer.total = answer.calendars.length;
    return answer;
  }

  /**
   * GET /calendar/events?sync=true (MeetStream's "force a sync"): syncs the connections the listing
   * reads from, SYNC_BEFORE_LISTING_CONCURRENCY at a time: the one a connection id in calendar_id
   * names, else every connection in the provider / account_id scope. Left out: connections that
   * lost their access, and those waiting out a failure (a provider's Retry-After, the backoff; not
   * one whose failures are some calendars' own, #failsInPart).
   * A sync that fails, or is still running after SYNC_BEFORE_LISTING_MS, does not fail the
   * listing: it answers from what is stored, the failure shows on the connection, and a sync
   * still running goes on (a shutdown waits for it). Answers the connections not synced because
   * their provider's Retry-After still runs, or that wait out their backoff (the listing names
   * them in `sync_deferred`, with the reason).
   */
  async syncBeforeListing(userId: string, query: CalendarScopeInput & { calendar_id?: string }): Promise<SyncDeferral[]> {
    const scope = parseCalendarScope(query);
    const now = this.#clock.now();
    const named = query.calendar_id?.startsWith('cal_') ? query.calendar_id : null;
    const inScope = (await connections.listConnections(this.#database.db, userId)).filter((row) =>
      matchesScope(row, scope) && (named === null || row.id === named) && row.status !== 'auth_revoked');
    const deferred = new Map<string, SyncDeferral>();
    const defer = (row: CalendarConnectionRow, reason: SyncDeferral['reason'], waitEnd: number, nextSyncAt: number) =>
      deferred.set(row.id, { calendar_id: row.id, reason, retry_at: formatInstant(waitEnd), next_sync_at: formatInstant(nextSyncAt) });
    for (const row of inScope) {
      const waitEnd = providerWaitEnd(row, now);
      if (waitEnd !== null) defer(row, 'retry_after', waitEnd, Math.max(waitEnd, row.next_sync_at ?? waitEnd));
      else if (row.consecutive_failures > 0 && row.next_sync_at !== null && Number(row.next_sync_at) > now && !(await this.#failsInPart(row))) {
        defer(row, 'backoff', Number(row.next_sync_at), Number(row.next_sync_at));
      }
    }
    const queue = inScope.filter((row) => !deferred.has(row.id));
    const lane = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        // A limit met since the rows were read (syncNow checks again while it holds the
        // connection, and brings its next sync to the wait's end).
        await this.#sync.syncNow(row.id).catch((error: unknown) => (error instanceof SyncDeferred ? defer(row, 'retry_after', error.untilMs, error.untilMs) : undefined));
      }
    };
    const lanes = Promise.all(Array.from({ length: Math.min(SYNC_BEFORE_LISTING_CONCURRENCY, queue.length) }, lane));
    await settledWithin(lanes.then(() => undefined), SYNC_BEFORE_LISTING_MS, undefined);
    return [...deferred.values()];
  }

  /**
   * Whether a connection's last failure was some calendars' own (a colleague's calendar refused,
   * one deleted) while others read: a sync then reads those others and leaves the failing ones to
   * their own backoff, so a listing that asks for a sync has it. The last failure names a calendar
   * then (failureOfCalendars); one that does not (the token endpoint or the calendar list failing,
   * a provider outage) holds the whole connection to its backoff.
   */
  async #failsInPart(row: CalendarConnectionRow): Promise<boolean> {
    if (!/^[a-z_]+: calendar /.test(row.last_error ?? '')) return false;
    const calendars = await connections.listCalendars(this.#database.db, row.id);
    return calendars.some((c) => c.read_error !== null) && calendars.some((c) => c.read_error === null);
  }

  /**
   * Syncs now. The answer is 200 whenever the sync ran, also when the provider failed: the
   * failure is then recorded on the connection (as the background sync would) and reported in the
   * body (`synced: false`, `failure`), with when the next attempt is due.
   */
  async sync(userId: string, calendarId: string): Promise<SyncAnswer> {
    const connection = await this.#find(userId, calendarId);
    if (connection.status === 'auth_revoked') {
      throw new ApiError('calendar_auth_revoked', `Calendar connection ${calendarId} lost its access at the provider; connect the account again`, { extra: { calendar_id: calendarId } });
    }
    let report: SyncReport;
    try {
      // Asked for by a person (perhaps after fixing a calendar): calendars backing off are read too.
      report = await this.#sync.syncNow(connection.id, undefined, { readHeld: true });
    } catch (error) {
      if (error instanceof SyncDeferred) {
        // Not a failure (the sync did not run): 503 with the wait's end, as a Retry-After. The
        // sync asked for runs then by itself; asking again then is not needed.
        const retryAfterSeconds = Math.max(1, Math.ceil((error.untilMs - this.#clock.now()) / 1000));
        throw new ApiError('calendar_sync_deferred', `Calendar connection ${calendarId} was not synced: ${error.message}. It syncs by itself then`, {
          details: { retry_after_seconds: retryAfterSeconds, next_sync_at: formatInstant(error.untilMs) }, extra: { calendar_id: calendarId },
        });
      }
      if (!(error instanceof CalendarProviderError)) throw error;
      // Another sync of this connection is still running: it will bring the changes.
      report = { calendar_id: connection.id, synced: false, created: 0, updated: 0, cancelled: 0, status: connection.status, failure: error.failure, synced_at: formatOptionalInstant(connection.last_sync_at) };
    }
    const row = await connections.findConnectionById(this.#database.db, connection.id);
    const failure = report.failure
      ? { kind: report.failure.kind, message: report.failure.message, ...(report.failure.kind === 'rate_limited' ? { retry_after_seconds: Math.ceil(report.failure.retryAfterMs / 1000) } : {}) }
      : null;
    return {
      calendar_id: report.calendar_id,
      synced: report.synced,
      created: report.created,
      updated: report.updated,
      cancelled: report.cancelled,
      status: report.status,
      synced_at: report.synced_at,
      next_sync_at: formatOptionalInstant(row?.next_sync_at),
      failure,
      message: failure
        ? `The provider failed (${failure.kind}); ${nextStepAfter(failure.kind, report.status)}`
        : `Synced: ${report.created} created, ${report.updated} updated, ${report.cancelled} cancelled`,
    };
  }

  /**
   * Stops push channels, deletes the connection's events (their pending bots are cancelled with
   * webhooks, unless another live event still links them) and the credentials.
   */
  async disconnect(userId: string, calendarId: string, options: DisconnectOptions = {}): Promise<DisconnectResponse> {
    const found = await this.#find(userId, calendarId);
    return this.#sync.whileHolding(found.id, async () => {
      const connection = (await connections.findConnection(this.#database.db, userId, calendarId)) ?? found;
      return this.#disconnectHeld(userId, calendarId, connection, options.purgeEvents !== false);
    });
  }

  /**
   * MeetStream's POST|DELETE /calendar/disconnect: picks the connections the request names and
   * disconnects each through `disconnect`. Without provider or account_id it removes the user's
   * only connection, and refuses when there are several. Each connection goes in its own
   * transaction; if one fails, those before it are gone and the same request removes the rest.
   */
  async disconnectMatching(userId: string, request: ScopedDisconnectRequest): Promise<ScopedDisconnectResponse> {
    const scope = parseCalendarScope(request);
    const all = await connections.listConnections(this.#database.db, userId);
    if (all.length === 0) {
      throw new ApiError('calendar_not_connected', 'No calendar connection: this user has no calendar connected');
    }
    const matched = all.filter((row) => matchesScope(row, scope));
    if (matched.length === 0) {
      const field = scope.accountId !== null ? 'account_id' : 'provider';
      const what = scope.accountId !== null
        ? scope.provider === 'ics' ? 'ICS feeds have no account_id; disconnect one feed with DELETE /calendar/connections/{calendar_id}' : `no ${scope.provider} connection has account_id ${scope.accountId}`
        : `no ${scope.provider} calendar is connected`;
      throw new ApiError('calendar_not_connected', `${field}: ${what}`, { details: { field } });
    }
    if (scope.provider === null && matched.length > 1) {
      const message = `Several calendar connections (${matched.length}) exist; name the one to remove with provider and account_id, or send provider alone to remove all of that provider's`;
      throw new ApiError('multiple_calendar_connections', message, {
        extra: {
          scope: 'all',
          connection_count: matched.length,
          next_steps: 'Send {"provider": "google" | "outlook" | "ics", "account_id": "<account email>"} to remove one connection, or {"provider": ...} to remove every connection of that provider. GET /calendar lists them.',
        },
      });
    }
    const purgeEvents = request.purge_events !== false;
    const done: ScopedDisconnectResponse['disconnected_connections'] = [];
    for (const row of matched) {
      try {
        const result = await this.disconnect(userId, row.id, { purgeEvents });
        const provider = providerNameOf(row.provider as ProviderKind);
        done.push({ ...result, provider, account_id: provider === 'ics' ? null : row.account_id });
      } catch (error) {
        // Removed by a concurrent request meanwhile: nothing left to do for it.
        if (error instanceof ApiError && error.code === 'calendar_not_found') continue;
        throw error;
      }
    }
    const sum = (pick: (r: DisconnectResponse) => number) => done.reduce((total, r) => total + pick(r), 0);
    const stopped = sum((r) => r.watch_channels_stopped);
    const cancelled = sum((r) => r.bots_cancelled);
    return {
      disconnected: true,
      user_id: userId,
      watch_channel_stopped: stopped > 0,
      watch_channels_stopped: stopped,
      events_deleted: sum((r) => r.events_deleted),
      events_kept: sum((r) => r.events_kept),
      schedules_cancelled: cancelled,
      bots_cancelled: cancelled,
      message: `Disconnected ${done.length} calendar connection(s): ${purgeEvents ? 'their events were deleted' : 'their events were kept but are no longer synced'}, their scheduled bots cancelled and their credentials removed.`,
      disconnected_connections: done,
    };
  }

  async #disconnectHeld(userId: string, calendarId: string, connection: CalendarConnectionRow, purgeEvents: boolean): Promise<DisconnectResponse> {
    const channelsStopped = await this.#sync.closePush(connection);
    const db = this.#database.db;
    const liveBots = await db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
      .select('bots.id').distinct()
      .where('events.calendar_id', '=', connection.id).where('bot_events.is_live', '=', 1).where('bots.status', 'in', ['Scheduled', 'Joining'])
      .execute();
    const now = this.#clock.now();
    const affected = await this.#events.applyExternalChanges(userId, async (trx) => {
      // The connection row goes first: that waits for a sync writing events right now (it holds
      // the row), so the events read next include whatever it wrote.
      await connections.deleteConnection(trx, connection.id);
      const rows = await trx.selectFrom('events').select(['id', 'recurrence']).where('calendar_id', '=', connection.id).where('is_deleted', '=', 0).execute();
      // Chain mode ends with the calendar: a kept series would otherwise book its next occurrence
      // once the current bot is cancelled below. Chain rows are locked before events, as on every
      // chain path.
      const seriesIds = rows.filter((r) => r.recurrence !== null).map((r) => r.id);
      for (let i = 0; i < seriesIds.length; i += 500) {
        await trx.updateTable('recurring_chains').set({ is_enabled: 0, last_error: 'its calendar was disconnected', updated_at: now })
          .where('series_event_id', 'in', seriesIds.slice(i, i + 500)).where('is_enabled', '=', 1).execute();
      }
      // And so does the chain of an Outlook series (no series row: named after the connection).
      await trx.updateTable('recurring_chains').set({ is_enabled: 0, last_error: 'its calendar was disconnected', updated_at: now })
        .where(sql<boolean>`series_event_id like ${instanceSeriesPattern(connection.id)} escape '\\'`).where('is_enabled', '=', 1).execute();
      if (purgeEvents) {
        await trx.updateTable('events').set({ is_deleted: 1, updated_at: now }).where('calendar_id', '=', connection.id).where('is_deleted', '=', 0).execute();
      } else {
        // Kept rows are detached: no connection will sync them again, auto-schedule (which books
        // only connected calendars' events) leaves them alone, and they keep their platform.
        await trx.updateTable('events').set({ calendar_id: null, updated_at: now }).where('calendar_id', '=', connection.id).execute();
      }
      // Either way the bots leave these events: scheduled ones are cancelled (unless another
      // live event still uses them); one already in its meeting stays until it ends.
      const changed = new Map<string, EventChangeReason>(rows.map((r) => [r.id, 'disconnected' as const]));
      return { result: rows.length, changed };
    });
    const deleted = purgeEvents ? affected : 0;
    const ids = liveBots.map((b) => b.id);
    // A bot whose launch was waiting to be retried ends Stopped (it may have reached the runtime): as good as cancelled here.
    const cancelled = ids.length === 0 ? [] : await db.selectFrom('bots').select('id').where('id', 'in', ids).where('status', 'in', ['Cancelled', 'Stopped']).execute();
    this.#logger.info({ calendarId, provider: connection.provider, eventsDeleted: deleted, eventsKept: affected - deleted, botsCancelled: cancelled.length }, 'calendar disconnected');
    return {
      calendar_id: calendarId,
      disconnected: true,
      events_deleted: deleted,
      events_kept: affected - deleted,
      bots_cancelled: cancelled.length,
      watch_channels_stopped: channelsStopped,
      message: purgeEvents
        ? 'Calendar disconnected. Its events were removed, their pending bots cancelled, and its credentials deleted.'
        : 'Calendar disconnected. Its events were kept (no longer synced), their pending bots cancelled, and its credentials deleted.',
    };
  }

  // ----- internals ---------------------------------------------------------------------------

  #requireKey(provider: string): void {
    if (this.#box !== null) return;
    if (this.#isKeyUnusable) {
      // Saying the key is not set would send the operator looking in the wrong place. The counts
      // are the deployment's, not this user's business: /readyz and the start-up log give them.
      throw new ApiError('encryption_key_not_configured', `Connecting ${provider} needs a CREDENTIALS_ENCRYPTION_KEY this server can use, so that the credentials are encrypted at rest: the key set opens none of the values sealed before (see /readyz). Set the key that sealed them, or add it to CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS`);
    }
    throw new ApiError('encryption_key_not_configured', `Connecting ${provider} needs CREDENTIALS_ENCRYPTION_KEY to be set on the server, so that the credentials are encrypted at rest (generate one with: openssl rand -base64 32)`);
  }

  async #find(userId: string, calendarId: string): Promise<CalendarConnectionRow> {
    const row = await connections.findConnection(this.#database.db, userId, calendarId);
    if (!row) throw new ApiError('calendar_not_found', `No calendar connection ${calendarId}`);
    return row;
  }

  async #connect(userId: string, credentials: ProviderCredentials, options: { callbackUrl: string | undefined; replace: boolean; displayUrl?: string; accountId?: string; calendarIds?: CalendarIdsChoice }): Promise<ConnectResponse> {
    if (options.callbackUrl !== undefined) {
      const check = await checkUrlPromptly(this.#guard, options.callbackUrl);
      if (!check.ok) throw new ApiError('callback_url_not_allowed', `callback_url ${check.reason}`, { details: { field: 'callback_url' } });
    }
    let rotatedRefreshToken: string | null = null;
    const provider = this.#providers(credentials, { onRefreshTokenRotated: async (token) => { rotatedRefreshToken = token; } });
    let account: ProviderAccount;
    try {
      account = await provider.describeAccount();
    } catch (error) {
      throw connectFailureError(credentials.kind, toProviderFailure(error), error instanceof CalendarProviderError ? error.oauth : null);
    }
    if (rotatedRefreshToken !== null && credentials.kind !== 'ics') credentials = { ...credentials, refreshToken: rotatedRefreshToken };
    if (Array.isArray(options.calendarIds)) {
      const unknown = options.calendarIds.filter((id) => !account.calendars.some((c) => c.id === id));
      if (unknown.length > 0) {
        throw new ApiError('validation_error', `calendar_ids: the account has no calendar ${unknown.map((id) => JSON.stringify(id)).join(', ')}; its calendars are listed by id in available_calendars of a connect answer`, { details: { field: 'calendar_ids' } });
      }
    }
    const accountId = options.accountId ?? account.accountId;
    const db = this.#database.db;
    const now = this.#clock.now();
    const existing = await connections.findConnectionByAccount(db, userId, credentials.kind, accountId);
    if (existing && !options.replace) {
      throw new ApiError('calendar_already_connected', `This account (${account.email ?? accountId}) is already connected as ${existing.id}; send replace: true to replace it`, { extra: { calendar_id: existing.id } });
    }
    if (!existing && (await connections.countConnections(db, userId)) >= MAX_CONNECTIONS_PER_USER) {
      throw new ApiError('calendar_connection_limit', `Maximum of ${MAX_CONNECTIONS_PER_USER} calendar connections per user reached; disconnect one first`);
    }
    const id = existing?.id ?? newId('cal');
    const sealed = sealCredentials(this.#box, credentials);
    // Not given on a reconnect: the earlier choice stays. "all" is stored as null.
    const selection = options.calendarIds === undefined ? existing?.calendar_selection ?? null
      : options.calendarIds === 'all' || credentials.kind === 'ics' ? null : JSON.stringify([...new Set(options.calendarIds)]);
    // Locks the bots it tells (a deadlock with a sync of another calendar of theirs is retried).
    await retryingConflicts(() => db.transaction().execute(async (trx) => {
      const fields = {
        user_email: account.email, user_name: account.name, display_url: options.displayUrl ?? null, credentials: sealed,
        callback_url: options.callbackUrl ?? existing?.callback_url ?? null, status: 'active', last_error: null, last_error_at: null,
        consecutive_failures: 0, failing_since: null, failing_reported_at: null, failing_calendars: null, failing_pending: null, next_sync_at: now, retry_not_before: null, updated_at: now, calendar_selection: selection,
      };
      if (existing) {
        await connections.updateConnection(trx, id, fields);
      } else {
        await connections.insertConnection(trx, {
          id, user_id: userId, provider: credentials.kind, account_id: accountId, ...fields, last_sync_at: null, lease_until: null, lease_owner: null, pushed_during: null, created_at: now, calendars_listed_at: null, calendar_list: null,
        });
      }
      // Connected again while it had lost its access, or while its failing syncs were reported: the
      // bots told of it hear the end.
      await noteConnectionRecovered(trx, this.#database.engine, id, { hadLostAccess: existing?.status === 'auth_revoked', wasReportedFailing: existing?.failing_reported_at != null }, now);
    }));
    // Calendars keep their cursors and channels across a reconnect; ones no longer chosen go, with
    // their events. Held like a sync: a sync of this connection under way finishes first.
    // A choice given now ("all" included) applies as given; without one, calendars synced so far stay.
    // Connected again, a calendar that kept failing starts afresh: read at once, its count reset
    // (held like the list, so that a sync under way cannot set its backoff again after this).
    await this.#sync.whileHolding(id, async () => {
      await connections.clearCalendarReadBackoff(db, id, now);
      // And a channel is asked for again on a calendar that refused one: the account may have
      // changed (a reauthorisation is also how a person asks for everything to be tried again).
      await connections.clearPushRefusals(db, id, now);
      const connection = await connections.findConnectionById(db, id);
      if (!connection) throw removedWhileConnecting(id);
      await this.#sync.applyCalendarList(connection, account, provider, undefined, { keepSynced: options.calendarIds === undefined });
    });
    let report: SyncReport | null = null;
    let syncError: string | null = null;
    try {
      // A feed's adapter has the feed it just read: the first sync uses it instead of fetching it
      // again. An OAuth adapter is not reused: a refresh token rotated during the sync must be
      // stored, which only the sync's own adapter does.
      report = await this.#sync.syncNow(id, credentials.kind === 'ics' ? provider : undefined, { readHeld: true });
      if (report.failure) syncError = `${report.failure.kind}: ${report.failure.message}`;
    } catch (error) {
      syncError = error instanceof CalendarProviderError ? `${error.failure.kind}: ${error.message}` : 'the first sync failed; the background sync will retry';
      if (!(error instanceof CalendarProviderError)) this.#logger.error({ err: error, calendarId: id }, 'first sync after connecting failed');
    }
    const row = await connections.findConnectionById(db, id);
    if (!row) throw removedWhileConnecting(id);
    const view = await this.#view(row);
    return {
      ...view,
      message: existing ? 'Calendar connection replaced' : 'Calendar connected',
      replaced: existing !== undefined && existing !== null,
      available_calendars: account.calendars.map((c) => {
        const id = publicCalendarId(row, c.id);
        return { id, summary: c.name, isPrimary: c.isPrimary, accessRole: c.accessRole, timeZone: c.timeZone, synced: view.calendars.some((v) => v.id === id) };
      }),
      watch_setup: watchSetup(credentials.kind, this.#isPushEnabled, view.calendars),
      sync: { synced: report?.synced ?? false, created: report?.created ?? 0, updated: report?.updated ?? 0, cancelled: report?.cancelled ?? 0, error: syncError },
    };
  }

  async #view(row: CalendarConnectionRow): Promise<ConnectionView> {
    const calendars = await connections.listCalendars(this.#database.db, row.id);
    const listed = parseCalendarList(row.calendar_list) ?? [];
    const now = this.#clock.now();
    const provider = row.provider as ProviderKind;
    return {
      calendar_id: row.id,
      provider: provider === 'microsoft' ? 'outlook' : provider,
      platform: provider === 'microsoft' ? 'outlook_calendar' : provider === 'google' ? 'google_calendar' : 'ics_calendar',
      account_id: provider === 'ics' ? null : row.account_id,
      user_email: row.user_email,
      user_name: row.user_name,
      ics_url: provider === 'ics' ? row.display_url : null,
      primary_calendar_id: primaryOf(calendars, row),
      status: row.status,
      callback_url: row.callback_url,
      created_at: formatInstant(row.created_at),
      updated_at: formatInstant(row.updated_at),
      last_sync_at: formatOptionalInstant(row.last_sync_at),
      last_error: row.last_error,
      last_error_at: formatOptionalInstant(row.last_error_at),
      sync_failing_since: formatOptionalInstant(row.failing_since),
      sync_failing_reported_at: formatOptionalInstant(row.failing_reported_at),
      failing_calendars: row.failing_reported_at === null ? null : connections.reportedFailingCalendars(row)?.map((id) => publicCalendarId(row, id)) ?? null,
      next_sync_at: formatOptionalInstant(row.next_sync_at),
      push_enabled: this.#isPushEnabled && provider !== 'ics',
      calendars: calendars.map((c) => calendarView(c, publicCalendarId(row, c.provider_calendar_id), listed.find((l) => l.id === c.provider_calendar_id) ?? listedFromSynced(c), now)),
    };
  }
}

/**
 * The id a client sees for a connection's calendar: the provider's (an email or `primary` for
 * Google, Graph's id), and for an ICS feed, whose one calendar has no id of its own, the
 * connection's, which the events listing's `calendar_id` filter also takes.
 */
function publicCalendarId(connection: CalendarConnectionRow, providerCalendarId: string): string {
  return connection.provider === 'ics' ? connection.id : providerCalendarId;
}

function primaryOf(calendars: readonly ConnectedCalendarRow[], connection: CalendarConnectionRow): string | null {
  const primary = calendars.find((c) => c.is_primary === 1);
  return primary ? publicCalendarId(connection, primary.provider_calendar_id) : null;
}

function calendarView(row: ConnectedCalendarRow, id: string, listed: ListedCalendar, now: number): CalendarView {
  return {
    id,
    summary: row.name,
    isPrimary: row.is_primary === 1,
    timeZone: row.time_zone,
    description: listed.description,
    accessRole: listed.accessRole,
    backgroundColor: listed.backgroundColor,
    foregroundColor: listed.foregroundColor,
    selected: listed.selected,
    hidden: listed.hidden,
    push: {
      active: row.push_channel_id !== null && (row.push_expires_at ?? 0) > now,
      channel_id: row.push_channel_id,
      expires_at: formatOptionalInstant(row.push_expires_at),
      last_notification_at: formatOptionalInstant(row.push_last_message_at),
      error: row.push_error,
    },
    read_error: row.read_error,
    next_read_at: row.read_error === null ? null : formatOptionalInstant(row.next_read_at),
    access_refused_since: formatOptionalInstant(row.access_refused_at),
  };
}

/** A synced calendar as GET /calendar lists it when the account's list was not read yet (before migration 010). */
function listedFromSynced(row: ConnectedCalendarRow): ListedCalendar {
  return {
    id: row.provider_calendar_id, summary: row.name, description: null, isPrimary: row.is_primary === 1, accessRole: null,
    timeZone: row.time_zone, backgroundColor: null, foregroundColor: null, selected: true, hidden: false,
  };
}

/** MeetStream's watch_setup; for Outlook also under its name for Graph subscriptions. */
function watchSetup(kind: ProviderKind, isPushEnabled: boolean, calendars: CalendarView[]): ConnectResponse['watch_setup'] {
  const setup = pushSetup(kind, isPushEnabled, calendars);
  return kind === 'microsoft' ? { ...setup, subscriptions_setup: setup.watches_setup } : setup;
}

function pushSetup(kind: ProviderKind, isPushEnabled: boolean, calendars: CalendarView[]): ConnectResponse['watch_setup'] {
  if (kind === 'ics') return { success: false, status: 'not_supported', watches_setup: 0, message: 'ICS feeds have no push notifications; the feed is polled', failed_calendars: [], watch_results: [] };
  if (!isPushEnabled) return { success: false, status: 'disabled', watches_setup: 0, message: 'Push notifications are off (CALENDAR_PUSH, or PUBLIC_URL is not https); calendars are polled', failed_calendars: [], watch_results: [] };
  const active = calendars.filter((c) => c.push.active);
  const failed = calendars.filter((c) => !c.push.active);
  return {
    success: failed.length === 0,
    status: failed.length === 0 ? 'active' : active.length === 0 ? 'failed' : 'partial',
    watches_setup: active.length,
    message: failed.length === 0 ? `Push notifications active for ${active.length} calendar(s)` : `Push notifications could not be set up for ${failed.length} calendar(s); they are polled instead`,
    failed_calendars: failed.map((c) => c.id),
    watch_results: active.map((c) => ({ calendar_id: c.id, calendar_summary: c.summary, channel_id: c.push.channel_id!, expiration: c.push.expires_at! })),
  };
}

/**
 * A refused account's `details`: the token endpoint's OAuth error code (`oauth_error`, RFC 6749
 * section 5.2) and Microsoft's AADSTS numbers (`provider_error_codes`), which say which credential
 * was refused better than the message's words; none when the provider gave no such code.
 */
function authFailureDetails(oauth: OAuthRefusal | null): { details?: Record<string, unknown> } {
  if (oauth === null) return {};
  return { details: { oauth_error: oauth.error, ...(oauth.errorCodes.length > 0 ? { provider_error_codes: oauth.errorCodes } : {}) } };
}

function connectFailureError(kind: ProviderKind, failure: ProviderFailure, oauth: OAuthRefusal | null): ApiError {
  switch (failure.kind) {
    case 'auth_revoked':
      return kind === 'ics'
        ? new ApiError('calendar_feed_invalid', `ics_url: the feed refused access (${failure.message})`, { details: { field: 'ics_url' } })
        : new ApiError('calendar_auth_failed', `The provider refused the credentials (${failure.message}); check the client id, client secret and refresh token`, authFailureDetails(oauth));
    case 'rate_limited':
    case 'transient':
      return new ApiError('calendar_provider_unavailable', `The calendar provider did not answer usefully (${failure.message}); try again later`, {
        details: { retry_after_seconds: failure.kind === 'rate_limited' ? Math.ceil(failure.retryAfterMs / 1000) : 30 },
      });
    case 'not_found':
    case 'permanent':
      return kind === 'ics'
        ? new ApiError('calendar_feed_invalid', `ics_url: ${failure.message}`, { details: { field: 'ics_url' } })
        : new ApiError('calendar_auth_failed', `The provider refused the connection (${failure.message})`, authFailureDetails(oauth));
  }
}

/**
 * How long GET /calendar/events?sync=true waits for its syncs before it reads what is stored: well
 * inside the 10 s a shutdown gives requests in flight.
 */
const SYNC_BEFORE_LISTING_MS = 5_000;

/** How many connections GET /calendar/events?sync=true syncs at once. */
const SYNC_BEFORE_LISTING_CONCURRENCY = 4;

/** How long a URL check may wait for DNS before the URL is refused. */
const URL_CHECK_TIMEOUT_MS = 5000;

/** The outbound guard's check, with an answer in bounded time (a resolver can hang much longer). */
export function checkUrlPromptly(guard: OutboundGuard, url: string): Promise<GuardResult> {
  return settledWithin(guard.checkUrl(url), URL_CHECK_TIMEOUT_MS, { ok: false, reason: `host did not resolve within ${URL_CHECK_TIMEOUT_MS / 1000} s` });
}

/** What happens after a sync-now that failed, as its answer says it. */
function nextStepAfter(kind: string, status: string): string {
  if (status === 'auth_revoked') return 'the connection lost its access: connect the account again';
  // A permanent failure is read again too (after 30 s, doubling to an hour): the feed or calendar may be mended.
  if (kind === 'permanent') return 'the same read fails until the feed or calendar changes; the background sync tries again, less often each time (at most hourly)';
  return 'the background sync retries on its own';
}

/** A disconnect of the same connection removed it while it was being connected again. */
function removedWhileConnecting(id: string): ApiError {
  return new ApiError('calendar_not_found', `No calendar connection ${id}: it was disconnected while it was being connected again; connect the account again`);
}
