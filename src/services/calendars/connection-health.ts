// What a connection's client hears about its calendar's health, and what each affected bot's log
// says: access lost (auth_revoked, spec section 12: the bots will not launch unless it returns;
// the same for the bots of one calendar that refuses its reader while the account's others read),
// syncs failing for a while (the bots launch on the meeting as last synced), and syncing again.
// Connection webhooks go through the status-webhook outbox; the rules for when a failing sync is
// reported are in src/domain/sync-health.ts.
import type { Database, Engine } from '../../db/database.ts';
import type { BotRow, CalendarConnectionRow, ConnectedCalendarRow } from '../../db/schema.ts';
import type { DecisionKind } from '../../domain/decision-kinds.ts';
import { newId } from '../../lib/ids.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import * as connections from '../../store/connection-store.ts';
import * as bots from '../../store/bot-store.ts';
import type { Db } from '../../store/event-store.ts';
import { requestProviderSync } from '../providers/provider-sync.ts';
import { retryingConflicts } from '../../db/race-retry.ts';
import { enqueueStatusWebhook } from '../webhooks/status-webhooks.ts';
import { reasonPrefix } from '../../domain/reason-codes.ts';
import { findAtRisk } from '../scheduling/upcoming-bots.ts';
import { giveUpRoundsOfConnection } from '../../store/round-change-store.ts';

type ConnectionUpdate = Parameters<typeof connections.updateConnection>[2];

interface ConnectionWebhook {
  event: 'calendar.auth_revoked' | 'calendar.sync_failing' | 'calendar.sync_restored';
  /** The connection's status as of this webhook. */
  status: 'active' | 'auth_revoked';
  message: string;
  /** Extra fields of the body. */
  details?: Record<string, unknown>;
}

/**
 * Queues a connection-level webhook through the status webhook outbox (same signing, retries and
 * ordering; the outbox's bot_id column carries the connection id). It goes to the connection's
 * callback_url, else the auto-schedule default callback_url, else to the callback URLs of the
 * pending bots of the connection's events, so that whoever follows those bots hears of it.
 */
export async function enqueueConnectionWebhook(trx: Db, connection: CalendarConnectionRow, webhook: ConnectionWebhook, nowMs: number): Promise<number> {
  const urls = new Set<string>();
  if (connection.callback_url) urls.add(connection.callback_url);
  if (urls.size === 0) {
    const settings = await connections.findAutoSchedule(trx, connection.user_id);
    const url = settings ? (JSON.parse(settings.default_bot_config) as { callback_url?: string }).callback_url : undefined;
    if (url) urls.add(url);
  }
  if (urls.size === 0) {
    const rows = await trx.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
      .select('bots.bot_config').distinct()
      .where('events.calendar_id', '=', connection.id).where('bot_events.is_live', '=', 1).where('bots.status', '=', 'Scheduled')
      .execute();
    for (const row of rows) {
      const url = (JSON.parse(row.bot_config) as { callback_url?: string }).callback_url;
      if (url) urls.add(url);
    }
  }
  const payload = JSON.stringify({
    event: webhook.event,
    calendar_id: connection.id,
    provider: connection.provider,
    account_id: connection.provider === 'ics' ? null : connection.account_id,
    status: webhook.status,
    message: webhook.message,
    ...webhook.details,
    timestamp: new Date(nowMs).toISOString(),
  });
  for (const url of urls) {
    await trx.insertInto('webhook_deliveries').values({
      message_id: newId('msg'), user_id: connection.user_id, bot_id: connection.id, url, payload,
      state: 'pending', attempts: 0, next_attempt_at_ms: nowMs, lease_until_ms: null, last_error: null, created_at: nowMs, delivered_at: null,
    }).execute();
  }
  return urls.size;
}

/**
 * Marks the connection revoked (with `update`, ending the lease of the sync `heldBy` names) and
 * tells whoever listens: a connection webhook, and for each bot linked only to events Rollcall can
 * no longer see (findBotsWithoutCalendarAccess) an `at_risk` decision and a bot.at_risk webhook. Events and bots stay as they are;
 * the dispatcher decides at each join time. Answers how many bots are at risk, or null when that
 * sync no longer holds the connection (disconnected, or taken by another sync): nothing written.
 */
export async function reportAccessRevoked(database: Database, connection: CalendarConnectionRow, heldBy: string, update: ConnectionUpdate, nowMs: number): Promise<number | null> {
  return retryingConflicts(() => database.db.transaction().execute(async (trx) => {
    // Disconnected during the sync: nobody to tell.
    if (!(await connections.endHeldSync(trx, connection.id, heldBy, update))) return null;
    // A round read in parts left unfinished is given up rather than kept while access is gone.
    await giveUpRoundsOfConnection(trx, connection.id, nowMs);
    await enqueueConnectionWebhook(trx, connection, {
      event: 'calendar.auth_revoked', status: 'auth_revoked',
      message: 'The calendar provider no longer accepts this connection\'s credentials. Its events and bots are kept as they were; bots that depend only on it will not be launched unless access returns before their join time. Connect the account again to resume syncing.',
    }, nowMs);
    // Locked before the other connections are read (lockedBotsOfConnection), and like any change
    // that may queue a provider sync (see ProviderCommandSender's timers).
    const blocked = await connections.findBotsWithoutCalendarAccess(trx, await lockedBotsOfConnection(trx, database.engine, connection.id));
    await putAtRisk(trx, blocked, nowMs, (bot) => `${reasonPrefix('calendar_access_revoked')}calendar connection ${connection.id} (${connection.provider}) lost its access, so Rollcall can no longer see whether this meeting still exists. Unless access returns before ${formatInstant(bot.join_at_ms)}, the bot will not be launched`,
      { calendar_id: connection.id, provider: connection.provider });
    return blocked.size;
  }));
}

/**
 * Inside the transaction of a sync that still holds the connection, once it has written which of
 * its calendars refuse their reader or are gone (access_refused_at) and which read again: each bot
 * that now depends only on calendars Rollcall cannot see is put at risk (spec section 12 for one
 * calendar: not launched unless a read works before its join time), and each bot put at risk that
 * no longer does hears `access_restored`. A bot told already is not told twice.
 */
export async function noteCalendarAccessChanges(trx: Db, engine: Engine, connection: CalendarConnectionRow, changes: { refused: readonly ConnectedCalendarRow[]; readAgain: readonly ConnectedCalendarRow[] }, nowMs: number): Promise<void> {
  const refusedIds = changes.refused.map((c) => c.provider_calendar_id);
  const readAgainIds = changes.readAgain.map((c) => c.provider_calendar_id);
  const candidates = await lockedBotsOfConnection(trx, engine, connection.id, [...refusedIds, ...readAgainIds]);
  if (candidates.length === 0) return;
  const blocked = await connections.findBotsWithoutCalendarAccess(trx, candidates);
  await putAtRisk(trx, blocked, nowMs,
    (bot) => `${reasonPrefix('calendar_access_revoked')}the calendar of this meeting in connection ${connection.id} (${connection.provider}) refuses its reader or is gone while the account's other calendars read, so Rollcall can no longer see whether the meeting still exists. Unless a read of it works before ${formatInstant(bot.join_at_ms)}, the bot will not be launched`,
    { calendar_id: connection.id, provider: connection.provider });
  await appendFollowUps(trx, candidates.filter((id) => !blocked.has(id)), ['at_risk', 'access_restored'], nowMs,
    `Calendar connection ${connection.id} reads its calendars again; the bot launches as planned`, { calendar_id: connection.id });
}

/**
 * A bot just booked (or linked again) on a synced meeting hears what Rollcall knows of its
 * calendars. If every meeting it is linked to is on a calendar Rollcall cannot see (a revoked
 * connection, a refused calendar), it is at risk from the start and hears it now, not only when
 * its join time cancels it. A bot at risk that this link makes visible again (its meeting on a
 * calendar that reads) hears `access_restored`: it launches as planned, and its log says so. A bot
 * on a calendar reported failing hears `sync_failing`.
 */
export async function noteCalendarHealthAtBooking(trx: Db, botId: string, nowMs: number, isNewBot: boolean): Promise<void> {
  const blocked = await connections.findBotsWithoutCalendarAccess(trx, [botId]);
  if (blocked.size === 0) {
    if (!isNewBot) await appendFollowUps(trx, [botId], ['at_risk', 'access_restored'], nowMs, 'Linked to a meeting on a calendar Rollcall can read; the bot launches as planned', {});
    await noteBookedOnFailingCalendar(trx, botId, nowMs, isNewBot);
    return;
  }
  // The reason says it in general terms; its details say which calendars, as the bot's at_risk lists
  // them (by ids: their names are the connections' to give, as they are when read).
  const risk = (await findAtRisk(trx, [botId])).get(botId);
  const calendars = (risk?.calendars ?? []).map(({ calendar_id, provider, provider_calendar_id, cause }) => ({ calendar_id, provider, provider_calendar_id, cause }));
  await putAtRisk(trx, blocked, nowMs, (bot) => `${reasonPrefix('calendar_access_revoked')}the calendars of this bot's meetings cannot be read (a connection that lost its access, or a calendar that refuses its reader or is gone), so Rollcall can no longer see whether the meeting still exists. Unless access returns before ${formatInstant(bot.join_at_ms)}, the bot will not be launched`, { calendars });
}

/**
 * A bot just booked (or linked again) on a meeting of a calendar whose failing syncs were reported
 * hears it now, as the bots of that calendar did at the report: it launches on the meeting as last
 * synced. Told once, whichever connection told it.
 */
async function noteBookedOnFailingCalendar(trx: Db, botId: string, nowMs: number, isNewBot: boolean): Promise<void> {
  const [connection] = await connections.reportedFailuresOfBot(trx, botId);
  if (connection === undefined) return;
  if (!isNewBot && (await botsWhoseLatestIs(trx, [botId], ['sync_failing', 'sync_restored'], 'sync_failing')).size > 0) return;
  const failingCalendars = connections.reportedFailingCalendars(connection);
  await tellSyncFailing(trx, connection, { failing_since: connection.failing_since!, last_error: connection.last_error ?? 'unknown', failingCalendars }, [botId], nowMs);
}

/**
 * A new version for each bot, and an `at_risk` decision, a bot.at_risk webhook and a provider
 * sync for each bot not at risk already (a bot of a refused calendar whose connection is then revoked is told once); the
 * reason is each bot's.
 */
async function putAtRisk(trx: Db, botIds: ReadonlySet<string>, nowMs: number, reasonOf: (bot: BotRow) => string, details: Record<string, unknown>): Promise<void> {
  const toldAlready = await botsWhoseLatestIs(trx, [...botIds], ['at_risk', 'access_restored'], 'at_risk');
  for (const botId of botIds) {
    // A new version of the bot, told before or not (an old at_risk may stand while a link since
    // made it visible again): a launch prepared in the seconds before its join time (claimed
    // ahead) no longer matches it, and is decided again from fresh data, which cancels it.
    await bots.bumpVersion(trx, botId, nowMs);
    if (toldAlready.has(botId)) continue;
    const bot = (await bots.findBotById(trx, botId))!;
    const reason = reasonOf(bot);
    await bots.appendDecision(trx, botId, nowMs, 'at_risk', reason, { ...details, join_at: formatInstant(bot.join_at_ms) });
    await enqueueStatusWebhook(trx, bot, { event: 'bot.at_risk', status: 'Scheduled', message: reason, statusCode: 200 }, nowMs);
    // Handed over to a bot provider already: the sync withdraws that bot in time if access stays lost.
    await requestProviderSync(trx, bot, 'The calendars of its events lost their access', nowMs);
  }
}

/**
 * A connection marked auth_revoked because its token endpoint refused the OAuth client
 * (invalid_client, which release 0.1 took as lost access), found by a probe to be refused for
 * that still: it is not lost access (ClientCredentialsRefused), so the connection becomes
 * `active` with its failing sync reported at once (with `update`, which ends the lease of the
 * sync `heldBy` names): each bot it had put at risk hears `access_restored`, the client a
 * calendar.sync_failing, and each scheduled bot not at risk otherwise `sync_failing`: they
 * launch on their meetings as last synced. Answers how many bots were told it fails; null: that
 * sync no longer holds the connection, and nothing was written.
 */
export async function reportRevokedForClientRefusal(database: Database, connection: CalendarConnectionRow, heldBy: string, update: FailingUpdate, nowMs: number): Promise<number | null> {
  return retryingConflicts(() => database.db.transaction().execute(async (trx) => {
    if (!(await connections.endHeldSync(trx, connection.id, heldBy, { ...update, status: 'active', failing_calendars: null, failing_pending: null }))) return null;
    await noteConnectionRecovered(trx, database.engine, connection.id, { hadLostAccess: true, wasReportedFailing: false }, nowMs);
    const scheduled = await launchingBotsOf(trx, await connections.listScheduledBotsOfConnection(trx, connection.id));
    await enqueueFailingWebhook(trx, connection, update, null, scheduled.length, 'first', nowMs);
    await tellSyncFailing(trx, connection, { ...update, failingCalendars: null }, scheduled, nowMs);
    return scheduled.length;
  }));
}

/**
 * Reports a connection whose syncs have failed for a while (with `update`, which records the
 * report and ends the lease of the sync `heldBy` names): a calendar.sync_failing webhook, and a
 * `sync_failing` decision for each scheduled bot with a live link to its events, or only to the
 * events of `failingCalendars` (provider ids) when the account's other calendars sync. Nothing
 * else changes: the bots launch at their join time on the meeting as last synced, since a
 * provider outage would otherwise cost every meeting its bot. A bot at risk (every calendar of its
 * events refused or revoked) is not told that it launches. Null: that sync no longer holds the
 * connection, and nothing was written.
 */
export async function reportSyncFailing(database: Database, connection: CalendarConnectionRow, heldBy: string, update: FailingUpdate, failingCalendars: readonly string[] | null, nowMs: number): Promise<number | null> {
  return retryingConflicts(() => database.db.transaction().execute(async (trx) => {
    if (!(await connections.endHeldSync(trx, connection.id, heldBy, { ...update, failing_calendars: connections.storedFailingCalendars(failingCalendars), failing_pending: null }))) return null;
    // Locked like a recovery's (lockedBotsOfConnection): a bot's other connection recovering at
    // this moment reads this report once it is committed, not the decisions from before it.
    const scheduled = await launchingBotsOf(trx, await lockedBotsOfConnection(trx, database.engine, connection.id, failingCalendars ?? undefined));
    await enqueueFailingWebhook(trx, connection, update, failingCalendars, scheduled.length, 'first', nowMs);
    await tellSyncFailing(trx, connection, { ...update, failingCalendars }, scheduled, nowMs);
    return scheduled.length;
  }));
}

/**
 * A later failed sync of a reported run changed which calendars the report is about
 * (failingCalendarsAfter in src/domain/sync-health.ts), with `update`, which stores that and ends
 * the lease of the sync `heldBy` names. Each scheduled bot on a calendar the report is about now
 * that has not been told hears `sync_failing` (those of calendars that joined it, and any booked
 * since); those of calendars that read again hear `sync_restored` unless a calendar still
 * reported, of this connection or another, holds them; and calendar.sync_failing is sent again
 * with the calendars that fail now. Null: that sync no longer holds the connection, and nothing
 * was written.
 */
export async function reportFailingCalendarsChanged(database: Database, connection: CalendarConnectionRow, heldBy: string, update: FailingUpdate & { failing_calendars: string | null; failing_pending: string | null },
  change: { next: { calendars: readonly string[] | null }; joined: readonly string[]; joinedSince: number | null; readAgain: readonly string[] }, nowMs: number): Promise<number | null> {
  const failing = change.next.calendars;
  return retryingConflicts(() => database.db.transaction().execute(async (trx) => {
    if (!(await connections.endHeldSync(trx, connection.id, heldBy, update))) return null;
    // The bots of the calendars it touches locked at once, in one order, before any is decided.
    await lockedBotsOfConnection(trx, database.engine, connection.id, failing === null ? undefined : [...failing, ...change.readAgain]);
    const scheduled = await launchingBotsOf(trx, await connections.listScheduledBotsOfConnection(trx, connection.id, failing ?? undefined));
    const told = await botsWhoseLatestIs(trx, scheduled, ['sync_failing', 'sync_restored'], 'sync_failing');
    const joined = new Set(await connections.listScheduledBotsOfConnection(trx, connection.id, change.joined));
    await enqueueFailingWebhook(trx, connection, update, failing, scheduled.length, change, nowMs);
    // A bot of a calendar that joined fails since that calendar does; one booked since the report, since the run began.
    const untold = scheduled.filter((id) => !told.has(id));
    const since = change.joinedSince ?? update.failing_since;
    await tellSyncFailing(trx, connection, { ...update, failing_since: since, failingCalendars: change.joined }, untold.filter((id) => joined.has(id)), nowMs);
    await tellSyncFailing(trx, connection, { ...update, failingCalendars: failing }, untold.filter((id) => !joined.has(id)), nowMs);
    const readAgain = await connections.listScheduledBotsOfConnection(trx, connection.id, change.readAgain);
    const stillFailing = new Set([...scheduled, ...await connections.findBotsOnOtherFailingConnections(trx, readAgain, connection.id)]);
    await appendFollowUps(trx, readAgain.filter((id) => !stillFailing.has(id)), ['sync_failing', 'sync_restored'], nowMs,
      `Calendar connection ${connection.id} syncs this bot's calendar again (others of it still fail); the bot follows its meeting as the calendar now shows it`, { calendar_id: connection.id });
    return scheduled.length;
  }));
}

type FailingUpdate = ConnectionUpdate & { failing_since: number; last_error: string };

function lastSyncedOf(connection: CalendarConnectionRow): string {
  return connection.last_sync_at === null ? 'it was connected' : formatInstant(connection.last_sync_at);
}

/** Of the bots, those not at risk: they launch on their meetings as last synced. */
async function launchingBotsOf(trx: Db, candidates: string[]): Promise<string[]> {
  const atRisk = await connections.findBotsWithoutCalendarAccess(trx, candidates);
  return candidates.filter((id) => !atRisk.has(id));
}

/** calendar.sync_failing: the first report of a run, or a report sent again because calendars joined it or read again. */
async function enqueueFailingWebhook(trx: Db, connection: CalendarConnectionRow, update: FailingUpdate, failingCalendars: readonly string[] | null, scheduledBots: number,
  change: 'first' | { joined: readonly string[]; joinedSince: number | null; readAgain: readonly string[] }, nowMs: number): Promise<void> {
  const which = failingCalendars === null ? 'this calendar' : `calendar${failingCalendars.length === 1 ? '' : 's'} ${failingCalendars.join(', ')} of this connection (the others sync)`;
  const changed = change === 'first' ? [] : [
    change.joined.length > 0 && change.joinedSince !== null ? `Failing too now, since ${formatInstant(change.joinedSince)}: ${change.joined.join(', ')}.` : '',
    change.readAgain.length > 0 ? `Syncing again: ${change.readAgain.join(', ')}.` : '',
  ];
  const state = `Syncing ${which} has failed since ${formatInstant(update.failing_since)} (${update.last_error}). Its events are kept as last synced (${lastSyncedOf(connection)}) and its bots launch as planned on them (those of a calendar that refuses access are at risk, bot.at_risk); changes made in the calendar meanwhile are not seen.`;
  await enqueueConnectionWebhook(trx, connection, {
    event: 'calendar.sync_failing', status: 'active',
    message: [...changed, state, 'Rollcall keeps trying (at most an hour apart) and sends calendar.sync_restored when a sync works.'].filter(Boolean).join(' '),
    details: {
      failing_since: formatInstant(update.failing_since), last_synced_at: formatOptionalInstant(connection.last_sync_at), last_error: update.last_error,
      failing_calendars: failingCalendars, scheduled_bots: scheduledBots,
    },
  }, nowMs);
}

async function tellSyncFailing(trx: Db, connection: CalendarConnectionRow, failure: { failing_since: number; last_error: string; failingCalendars: readonly string[] | null }, botIds: readonly string[], nowMs: number): Promise<void> {
  if (botIds.length === 0) return;
  const calendars = failure.failingCalendars;
  const named = calendars === null ? '' : `, calendar${calendars.length === 1 ? '' : 's'} ${calendars.join(', ')},`;
  const reason = `${reasonPrefix('calendar_sync_failing')}calendar connection ${connection.id} (${connection.provider})${named} has failed to sync since ${formatInstant(failure.failing_since)} (${failure.last_error}). The bot keeps the meeting as last synced (${lastSyncedOf(connection)}) and launches at its join time unless a sync brings a change first`;
  for (const botId of botIds) {
    await bots.appendDecision(trx, botId, nowMs, 'sync_failing', reason, { calendar_id: connection.id, provider: connection.provider, failing_since: formatInstant(failure.failing_since) });
  }
}

/**
 * A sync worked after its connection was reported failing or revoked (with `update`, which clears
 * the failure and ends the lease of the sync `heldBy` names): a calendar.sync_restored webhook;
 * the bots told of the failure get `sync_restored`, the bots put at risk by a revocation
 * `access_restored`. Also when every calendar a report was about reads again while others
 * (`stillFailing`) have failed too briefly to report: those start a run of their own. Null: that
 * sync no longer holds the connection, and nothing was written.
 */
export async function reportSyncRestored(database: Database, connection: CalendarConnectionRow, heldBy: string, update: ConnectionUpdate, nowMs: number,
  options: { stillFailing?: readonly string[] } = {}): Promise<true | null> {
  const wasRevoked = connection.status === 'auth_revoked';
  const since = connection.failing_since ?? connection.last_error_at;
  const stillFailing = options.stillFailing ?? [];
  return retryingConflicts(() => database.db.transaction().execute(async (trx) => {
    if (!(await connections.endHeldSync(trx, connection.id, heldBy, update))) return null;
    await enqueueConnectionWebhook(trx, connection, {
      event: 'calendar.sync_restored', status: 'active',
      message: wasRevoked ? 'The calendar provider accepts this connection\'s credentials again; syncing has resumed and its bots launch as planned.'
        : stillFailing.length > 0 ? `The calendars reported failing sync again; their events and bots follow the calendar as it is now. Calendar${stillFailing.length === 1 ? '' : 's'} ${stillFailing.join(', ')} began failing a short while ago and ${stillFailing.length === 1 ? 'is' : 'are'} reported if ${stillFailing.length === 1 ? 'it goes' : 'they go'} on failing.`
          : 'Syncing this calendar works again; its events and bots follow the calendar as it is now.',
      details: {
        failing_since: formatOptionalInstant(since),
        // A report that ends while other calendars fail: this sync did not work, the last that did stands.
        last_synced_at: stillFailing.length > 0 ? formatOptionalInstant(connection.last_sync_at) : formatInstant(nowMs),
        ...(stillFailing.length > 0 ? { still_failing_calendars: stillFailing } : {}),
      },
    }, nowMs);
    await noteConnectionRecovered(trx, database.engine, connection.id, { hadLostAccess: wasRevoked, wasReportedFailing: true }, nowMs);
    return true as const;
  }));
}

/**
 * After a connection recovered: it had lost its access and has it again (a probe worked, or the
 * account was connected again), or its failing syncs had been reported and a sync works again (or
 * it was connected again). Each bot it had put at risk gets `access_restored` and each bot told of
 * the failure `sync_restored`, unless another connection of its events still lacks access, or is
 * still reported failing (it hears when that one recovers). The bots are listed and locked once.
 */
export async function noteConnectionRecovered(db: Db, engine: Engine, connectionId: string, was: { hadLostAccess: boolean; wasReportedFailing: boolean }, nowMs: number): Promise<void> {
  if (!was.hadLostAccess && !was.wasReportedFailing) return;
  const candidates = await lockedBotsOfConnection(db, engine, connectionId);
  if (was.hadLostAccess) {
    const stillBlocked = await connections.findBotsWithoutCalendarAccess(db, candidates);
    await appendFollowUps(db, candidates.filter((id) => !stillBlocked.has(id)), ['at_risk', 'access_restored'], nowMs,
      `Calendar connection ${connectionId} has its access again; the bot launches as planned`, { calendar_id: connectionId });
  }
  if (was.wasReportedFailing) {
    const stillFailing = await connections.findBotsOnOtherFailingConnections(db, candidates, connectionId);
    await appendFollowUps(db, candidates.filter((id) => !stillFailing.has(id)), ['sync_failing', 'sync_restored'], nowMs,
      `Calendar connection ${connectionId} syncs again; the bot follows its meeting as the calendar now shows it`, { calendar_id: connectionId });
  }
}

/**
 * The scheduled bots with a live link to the connection's events (of some of its calendars only,
 * when named), locked (PostgreSQL) before the
 * caller decides anything from the state of their other connections. Two connections of one bot
 * reported at once would otherwise each read the other as it was before (neither has committed):
 * both revoked, and neither sees the bot depend on revoked calendars only; both working again, and
 * each sees the other still failing. Locked, the second waits for the first and reads it committed.
 */
async function lockedBotsOfConnection(db: Db, engine: Engine, connectionId: string, providerCalendarIds?: readonly string[]): Promise<string[]> {
  const botIds = await connections.listScheduledBotsOfConnection(db, connectionId, providerCalendarIds);
  await bots.lockBots(db, engine, botIds);
  return botIds;
}

/** Appends the decision `to` to each bot whose latest decision of the pair is `from`; answers how many. */
async function appendFollowUps(db: Db, botIds: readonly string[], [from, to]: [DecisionKind, DecisionKind], nowMs: number, reason: string, details: Record<string, unknown>): Promise<number> {
  const due = await botsWhoseLatestIs(db, botIds, [from, to], from);
  for (const botId of due) await bots.appendDecision(db, botId, nowMs, to, reason, details);
  return due.size;
}

/** Of the bots, those whose latest decision of the pair is `kind`. */
async function botsWhoseLatestIs(db: Db, botIds: readonly string[], pair: [string, string], kind: string): Promise<Set<string>> {
  const found = new Set<string>();
  // One statement per 500 bots, each bot's newest decision of the pair read backwards along
  // bot_decisions_bot (bot_id, id) as one query per bot would: as fast on SQLite, one round trip on
  // PostgreSQL. (Grouping all their decisions first reads every one of them: 20 times slower.)
  for (let i = 0; i < botIds.length; i += 500) {
    const rows = await db.selectFrom('bots').where('bots.id', 'in', botIds.slice(i, i + 500))
      .select((eb) => ['bots.id', eb.selectFrom('bot_decisions').select('bot_decisions.kind').whereRef('bot_decisions.bot_id', '=', 'bots.id')
        .where('bot_decisions.kind', 'in', pair).orderBy('bot_decisions.id', 'desc').limit(1).as('kind')])
      .execute();
    for (const row of rows) if (row.kind === kind) found.add(row.id);
  }
  return found;
}
