// Calendar connections: connect an ICS feed, a Google account or a Microsoft account; list,
// inspect, force a sync, disconnect. Credentials are checked with the provider before anything is
// stored, stored sealed, and never returned.
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { CalendarConnectionRow, ConnectedCalendarRow } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';
import type { SecretBox } from '../lib/secret-box.ts';
import { formatOptionalInstant, formatInstant } from '../lib/time.ts';
import type { GuardResult, OutboundGuard } from '../adapters/outbound-guard.ts';
import {
  CalendarProviderError, toProviderFailure, type ProviderAccount, type ProviderCredentials, type ProviderFailure, type ProviderKind,
} from '../adapters/calendars/calendar-provider.ts';
import { feedAccountId, normalizeFeedUrl, redactFeedUrl } from '../adapters/calendars/ics-calendar-provider.ts';
import type { CalendarEvents } from './calendar-events.ts';
import { noteAccessRestored, sealCredentials, type CalendarSync, type ProviderFactory, type SyncReport } from './calendar-sync.ts';
import * as connections from '../store/connection-store.ts';

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
  push: {
    active: boolean;
    channel_id: string | null;
    expires_at: string | null;
    last_notification_at: string | null;
    error: string | null;
  };
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
  next_sync_at: string | null;
  push_enabled: boolean;
  calendars: CalendarView[];
}

export interface ConnectResponse extends ConnectionView {
  message: string;
  /** Every calendar of the account, and whether Rollcall syncs it. */
  available_calendars: { id: string; summary: string | null; isPrimary: boolean; accessRole: string | null; timeZone: string | null; synced: boolean }[];
  watch_setup: {
    success: boolean;
    status: 'active' | 'partial' | 'failed' | 'not_supported' | 'disabled';
    watches_setup: number;
    message: string;
    failed_calendars: string[];
    watch_results: { calendar_id: string; calendar_summary: string | null; channel_id: string; expiration: string }[];
  };
  sync: { synced: boolean; created: number; updated: number; cancelled: number; error: string | null };
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
  bots_cancelled: number;
  watch_channels_stopped: number;
  message: string;
}

export class CalendarConnections {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #providers: ProviderFactory;
  readonly #box: SecretBox | null;
  readonly #guard: OutboundGuard;
  readonly #sync: CalendarSync;
  readonly #events: CalendarEvents;
  readonly #isPushEnabled: boolean;
  readonly #logger: Logger;

  constructor(deps: { database: Database; clock: Clock; providers: ProviderFactory; box: SecretBox | null; guard: OutboundGuard; sync: CalendarSync; events: CalendarEvents; isPushEnabled: boolean; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#providers = deps.providers;
    this.#box = deps.box;
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
      report = await this.#sync.syncNow(connection.id);
    } catch (error) {
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
        ? `The provider failed (${failure.kind}); ${report.status === 'auth_revoked' ? 'the connection lost its access: connect the account again' : 'the background sync retries on its own'}`
        : `Synced: ${report.created} created, ${report.updated} updated, ${report.cancelled} cancelled`,
    };
  }

  /**
   * Stops push channels, deletes the connection's events (their pending bots are cancelled with
   * webhooks, unless another live event still links them) and the credentials.
   */
  async disconnect(userId: string, calendarId: string): Promise<DisconnectResponse> {
    const found = await this.#find(userId, calendarId);
    return this.#sync.whileHolding(found.id, async () => {
      const connection = (await connections.findConnection(this.#database.db, userId, calendarId)) ?? found;
      return this.#disconnectHeld(userId, calendarId, connection);
    });
  }

  async #disconnectHeld(userId: string, calendarId: string, connection: CalendarConnectionRow): Promise<DisconnectResponse> {
    const channelsStopped = await this.#sync.closePush(connection);
    const db = this.#database.db;
    const liveBots = await db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
      .select('bots.id').distinct()
      .where('events.calendar_id', '=', connection.id).where('bot_events.is_live', '=', 1).where('bots.status', '=', 'Scheduled')
      .execute();
    const now = this.#clock.now();
    const deleted = await this.#events.applyExternalChanges(userId, async (trx) => {
      // The connection row goes first: that waits for a sync writing events right now (it holds
      // the row), so the events read next include whatever it wrote.
      await connections.deleteConnection(trx, connection.id);
      const rows = await trx.selectFrom('events').select(['id', 'recurring_event_id']).where('calendar_id', '=', connection.id).where('is_deleted', '=', 0).execute();
      await trx.updateTable('events').set({ is_deleted: 1, updated_at: now }).where('calendar_id', '=', connection.id).where('is_deleted', '=', 0).execute();
      const changed = new Map<string, 'updated' | 'deleted'>(rows.map((r) => [r.id, 'deleted' as const]));
      return { result: rows.length, changed };
    });
    const ids = liveBots.map((b) => b.id);
    const cancelled = ids.length === 0 ? [] : await db.selectFrom('bots').select('id').where('id', 'in', ids).where('status', '=', 'Cancelled').execute();
    this.#logger.info({ calendarId, provider: connection.provider, eventsDeleted: deleted, botsCancelled: cancelled.length }, 'calendar disconnected');
    return {
      calendar_id: calendarId,
      disconnected: true,
      events_deleted: deleted,
      bots_cancelled: cancelled.length,
      watch_channels_stopped: channelsStopped,
      message: 'Calendar disconnected. Its events were removed, their pending bots cancelled, and its credentials deleted.',
    };
  }

  // ----- internals ---------------------------------------------------------------------------

  #requireKey(provider: string): void {
    if (this.#box === null) {
      throw new ApiError('encryption_key_not_configured', `Connecting ${provider} needs CREDENTIALS_ENCRYPTION_KEY to be set on the server, so that the credentials are encrypted at rest (generate one with: openssl rand -base64 32)`);
    }
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
      throw connectFailureError(credentials.kind, toProviderFailure(error));
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
    await db.transaction().execute(async (trx) => {
      const fields = {
        user_email: account.email, user_name: account.name, display_url: options.displayUrl ?? null, credentials: sealed,
        callback_url: options.callbackUrl ?? existing?.callback_url ?? null, status: 'active', last_error: null, last_error_at: null,
        consecutive_failures: 0, next_sync_at: now, updated_at: now, calendar_selection: selection,
      };
      if (existing) {
        await connections.updateConnection(trx, id, fields);
      } else {
        await connections.insertConnection(trx, {
          id, user_id: userId, provider: credentials.kind, account_id: accountId, ...fields, last_sync_at: null, lease_until: null, created_at: now, calendars_listed_at: null,
        });
      }
      if (existing?.status === 'auth_revoked') await noteAccessRestored(trx, id, now);
    });
    // Calendars keep their cursors and channels across a reconnect; ones no longer chosen go, with their events.
    await this.#sync.applyCalendarList((await connections.findConnectionById(db, id))!, account, provider);
    let report: SyncReport | null = null;
    let syncError: string | null = null;
    try {
      report = await this.#sync.syncNow(id);
      if (report.failure) syncError = `${report.failure.kind}: ${report.failure.message}`;
    } catch (error) {
      syncError = error instanceof CalendarProviderError ? `${error.failure.kind}: ${error.message}` : 'the first sync failed; the background sync will retry';
      if (!(error instanceof CalendarProviderError)) this.#logger.error({ err: error, calendarId: id }, 'first sync after connecting failed');
    }
    const row = (await connections.findConnectionById(db, id))!;
    const view = await this.#view(row);
    return {
      ...view,
      message: existing ? 'Calendar connection replaced' : 'Calendar connected',
      available_calendars: account.calendars.map((c) => ({ id: c.id, summary: c.name, isPrimary: c.isPrimary, accessRole: c.accessRole, timeZone: c.timeZone, synced: view.calendars.some((v) => v.id === c.id) })),
      watch_setup: watchSetup(credentials.kind, this.#isPushEnabled, view.calendars),
      sync: { synced: report?.synced ?? false, created: report?.created ?? 0, updated: report?.updated ?? 0, cancelled: report?.cancelled ?? 0, error: syncError },
    };
  }

  async #view(row: CalendarConnectionRow): Promise<ConnectionView> {
    const calendars = await connections.listCalendars(this.#database.db, row.id);
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
      primary_calendar_id: calendars.find((c) => c.is_primary === 1)?.provider_calendar_id ?? null,
      status: row.status,
      callback_url: row.callback_url,
      created_at: formatInstant(row.created_at),
      updated_at: formatInstant(row.updated_at),
      last_sync_at: formatOptionalInstant(row.last_sync_at),
      last_error: row.last_error,
      last_error_at: formatOptionalInstant(row.last_error_at),
      next_sync_at: formatOptionalInstant(row.next_sync_at),
      push_enabled: this.#isPushEnabled && provider !== 'ics',
      calendars: calendars.map((c) => calendarView(c, now)),
    };
  }
}

function calendarView(row: ConnectedCalendarRow, now: number): CalendarView {
  return {
    id: row.provider_calendar_id,
    summary: row.name,
    isPrimary: row.is_primary === 1,
    timeZone: row.time_zone,
    push: {
      active: row.push_channel_id !== null && (row.push_expires_at ?? 0) > now,
      channel_id: row.push_channel_id,
      expires_at: formatOptionalInstant(row.push_expires_at),
      last_notification_at: formatOptionalInstant(row.push_last_message_at),
      error: row.push_error,
    },
  };
}

function watchSetup(kind: ProviderKind, isPushEnabled: boolean, calendars: CalendarView[]): ConnectResponse['watch_setup'] {
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

function connectFailureError(kind: ProviderKind, failure: ProviderFailure): ApiError {
  switch (failure.kind) {
    case 'auth_revoked':
      return kind === 'ics'
        ? new ApiError('calendar_feed_invalid', `ics_url: the feed refused access (${failure.message})`, { details: { field: 'ics_url' } })
        : new ApiError('calendar_auth_failed', `The provider refused the credentials (${failure.message}); check the client id, client secret and refresh token`);
    case 'rate_limited':
    case 'transient':
      return new ApiError('calendar_provider_unavailable', `The calendar provider did not answer usefully (${failure.message}); try again later`, {
        details: { retry_after_seconds: failure.kind === 'rate_limited' ? Math.ceil(failure.retryAfterMs / 1000) : 30 },
      });
    case 'not_found':
    case 'permanent':
      return kind === 'ics'
        ? new ApiError('calendar_feed_invalid', `ics_url: ${failure.message}`, { details: { field: 'ics_url' } })
        : new ApiError('calendar_auth_failed', `The provider refused the connection (${failure.message})`);
  }
}

/** How long a URL check may wait for DNS before the URL is refused. */
const URL_CHECK_TIMEOUT_MS = 5000;

/** The outbound guard's check, with an answer in bounded time (a resolver can hang much longer). */
export async function checkUrlPromptly(guard: OutboundGuard, url: string): Promise<GuardResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<GuardResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `host did not resolve within ${URL_CHECK_TIMEOUT_MS / 1000} s` }), URL_CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([guard.checkUrl(url), late]);
  } finally {
    clearTimeout(timer);
  }
}
