// Data access for calendar connections, the provider calendars they sync, and auto-schedule
// settings. Queries that take a user id are scoped to it; the sync loop works by connection id.
import { sql, type Insertable, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { Engine } from '../db/database.ts';
import type {
  AutoScheduleSettingsTable, CalendarConnectionRow, CalendarConnectionsTable, ConnectedCalendarRow, ConnectedCalendarsTable, RetiredPushChannelRow, RetiredPushChannelsTable, PendingPushChannelRow, PendingPushChannelsTable, Schema,
} from '../db/schema.ts';
import type { Db } from './event-store.ts';
import { reasonPrefix } from '../domain/reason-codes.ts';
import { parseOccurrenceKey } from '../domain/occurrence-key.ts';

export type ConnectionUpdate = Updateable<CalendarConnectionsTable>;
export type CalendarUpdate = Updateable<ConnectedCalendarsTable>;

/**
 * The provider ids of the calendars a connection's failing-sync report is about, as stored in
 * `failing_calendars` (JSON); null: the whole connection, or nothing reported.
 */
export function reportedFailingCalendars(row: Pick<CalendarConnectionRow, 'failing_calendars'>): string[] | null {
  return row.failing_calendars === null ? null : JSON.parse(row.failing_calendars) as string[];
}

/** `calendars` as `failing_calendars` stores them (reportedFailingCalendars reads them back). */
export function storedFailingCalendars(calendars: readonly string[] | null): string | null {
  return calendars === null ? null : JSON.stringify(calendars);
}

export async function insertConnection(db: Db, row: CalendarConnectionRow): Promise<void> {
  await db.insertInto('calendar_connections').values(row).execute();
}

export async function findConnection(db: Db, userId: string, id: string): Promise<CalendarConnectionRow | undefined> {
  return db.selectFrom('calendar_connections').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export async function findConnectionById(db: Db, id: string): Promise<CalendarConnectionRow | undefined> {
  return db.selectFrom('calendar_connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findConnectionByAccount(db: Db, userId: string, provider: string, accountId: string): Promise<CalendarConnectionRow | undefined> {
  return db.selectFrom('calendar_connections').selectAll()
    .where('user_id', '=', userId).where('provider', '=', provider).where('account_id', '=', accountId)
    .executeTakeFirst();
}

export async function listConnections(db: Db, userId: string): Promise<CalendarConnectionRow[]> {
  return db.selectFrom('calendar_connections').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
}

export async function countConnections(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('calendar_connections').select(sql<number>`count(*)`.as('n')).where('user_id', '=', userId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Answers false when the connection is gone (disconnected meanwhile). */
export async function updateConnection(db: Db, id: string, changes: ConnectionUpdate): Promise<boolean> {
  const result = await db.updateTable('calendar_connections').set(changes).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Of the given bots, those with a live link to an event of another connection whose failing sync
 * was reported and has not ended (calendar.sync_failing without calendar.sync_restored yet).
 */
export async function findBotsOnOtherFailingConnections(db: Db, botIds: readonly string[], connectionId: string): Promise<Set<string>> {
  return new Set((await linksToReportedFailures(db, botIds, connectionId)).map((row) => row.bot_id));
}

/** The connections reported failing (and not recovered) that the bot has a live link to an event of a failing calendar of, soonest failing first. */
export async function reportedFailuresOfBot(db: Db, botId: string): Promise<CalendarConnectionRow[]> {
  const ids = new Set((await linksToReportedFailures(db, [botId])).map((row) => row.connection_id));
  if (ids.size === 0) return [];
  // Read again, the report may have ended meanwhile.
  return db.selectFrom('calendar_connections').selectAll().where('id', 'in', [...ids]).where('failing_reported_at', 'is not', null)
    .orderBy('failing_since').orderBy('id').execute();
}

/** The bots' live links to events of calendars a report of failing syncs is about (of connections other than `exceptConnectionId`). */
async function linksToReportedFailures(db: Db, botIds: readonly string[], exceptConnectionId?: string): Promise<{ bot_id: string; connection_id: string }[]> {
  const found: { bot_id: string; connection_id: string }[] = [];
  for (let i = 0; i < botIds.length; i += 500) {
    let query = db.selectFrom('bot_events').innerJoin('events', 'events.id', 'bot_events.event_id')
      .innerJoin('calendar_connections', 'calendar_connections.id', 'events.calendar_id')
      .select(['bot_events.bot_id', 'calendar_connections.id as connection_id', 'calendar_connections.failing_calendars', 'events.provider_calendar_id']).distinct()
      .where('bot_events.bot_id', 'in', botIds.slice(i, i + 500)).where('bot_events.is_live', '=', 1)
      .where('calendar_connections.failing_reported_at', 'is not', null);
    if (exceptConnectionId !== undefined) query = query.where('calendar_connections.id', '!=', exceptConnectionId);
    // A report about some calendars of its connection (the others sync) was not about the bots of the others.
    for (const row of await query.execute()) {
      const calendars = reportedFailingCalendars(row);
      if (calendars === null || (row.provider_calendar_id !== null && calendars.includes(row.provider_calendar_id))) found.push({ bot_id: row.bot_id, connection_id: row.connection_id });
    }
  }
  return found;
}

export async function deleteConnection(db: Db, id: string): Promise<void> {
  await db.deleteFrom('connected_calendars').where('connection_id', '=', id).execute();
  await db.deleteFrom('calendar_connections').where('id', '=', id).execute();
}

/**
 * Takes the connection most overdue for a sync that no other sync holds, and holds it for
 * `lease.owner` until `lease.untilMs`. On PostgreSQL, a row another instance is claiming is skipped.
 */
export async function claimDueConnection(db: Db, engine: Engine, nowMs: number, lease: { owner: string; untilMs: number }): Promise<CalendarConnectionRow | undefined> {
  // Revoked connections are due too, rarely: a probe finds out whether access came back.
  let candidates = db.selectFrom('calendar_connections').select('id')
    .where('status', 'in', ['active', 'auth_revoked']).where('next_sync_at', '<=', nowMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .orderBy('next_sync_at').limit(1);
  if (engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
  const candidate = await candidates.executeTakeFirst();
  if (!candidate) return undefined;
  return db.updateTable('calendar_connections').set({ lease_until: lease.untilMs, lease_owner: lease.owner })
    .where('id', '=', candidate.id)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .returningAll().executeTakeFirst();
}

/** Holds one connection for `owner`; false when another sync holds it. */
export async function claimConnection(db: Db, id: string, nowMs: number, lease: { owner: string; untilMs: number }): Promise<boolean> {
  const result = await db.updateTable('calendar_connections').set({ lease_until: lease.untilMs, lease_owner: lease.owner })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Moves the end of the leases `owner` still holds to `untilMs`; answers the connections it holds no longer. */
export async function renewLeases(db: Db, leases: { id: string; owner: string }[], untilMs: number): Promise<string[]> {
  const lost: string[] = [];
  for (const lease of leases) {
    const result = await db.updateTable('calendar_connections').set({ lease_until: untilMs })
      .where('id', '=', lease.id).where('lease_owner', '=', lease.owner).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) lost.push(lease.id);
  }
  return lost;
}

/**
 * Whether `owner` holds the connection: 'held', 'lost' (another sync took it), or 'gone' (it was
 * removed). In a transaction on PostgreSQL, the row stays locked until the transaction ends.
 */
export async function leaseStateOf(db: Db, engine: Engine, id: string, owner: string): Promise<'held' | 'lost' | 'gone'> {
  let query = db.selectFrom('calendar_connections').select('lease_owner').where('id', '=', id);
  if (engine === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row === undefined ? 'gone' : row.lease_owner === owner ? 'held' : 'lost';
}

/** Writes a sync's outcome and ends its lease, only while `owner` holds the connection; false: it did not. */
export async function endHeldSync(db: Db, id: string, owner: string, changes: ConnectionUpdate): Promise<boolean> {
  const result = await db.updateTable('calendar_connections').set({ ...changes, lease_until: null, lease_owner: null })
    .where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends `owner`'s lease (a lease another sync has taken since is left alone). */
export async function releaseConnection(db: Db, id: string, owner: string): Promise<void> {
  await db.updateTable('calendar_connections').set({ lease_until: null, lease_owner: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();
}

// For /metrics: read at scrape time, never on a hot path.

/** Connections per provider and state: the stored status, or `failing` for an active one whose last sync failed. */
export async function countConnectionsByState(db: Db): Promise<{ provider: string; state: string; count: number }[]> {
  const failing = sql<number>`case when status = 'active' and consecutive_failures > 0 then 1 else 0 end`;
  const rows = await db.selectFrom('calendar_connections')
    .select(['provider', 'status', failing.as('failing'), sql<number>`count(*)`.as('n')])
    .groupBy(['provider', 'status', failing])
    .execute();
  return rows.map((r) => ({ provider: r.provider, state: Number(r.failing) === 1 ? 'failing' : r.status, count: Number(r.n) }));
}

/**
 * When the earliest sync that is due and not done came due; null: none. A sync under way counts:
 * one that hangs holds its lease for minutes, and a loop that cannot keep up leaves its claimed
 * connections due as long as the rest.
 */
export async function findOldestDueSyncAt(db: Db, nowMs: number): Promise<number | null> {
  const row = await db.selectFrom('calendar_connections').select((eb) => eb.fn.min('next_sync_at').as('t'))
    .where('status', 'in', ['active', 'auth_revoked']).where('next_sync_at', '<=', nowMs)
    .executeTakeFirst();
  return row?.t == null ? null : Number(row.t);
}

/** The least recent successful sync (or creation, if never synced) among active connections; null: none. */
export async function findOldestSuccessfulSyncAt(db: Db): Promise<number | null> {
  const row = await db.selectFrom('calendar_connections').select(sql<number | null>`min(coalesce(last_sync_at, created_at))`.as('t'))
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row?.t == null ? null : Number(row.t);
}

/**
 * Asks the sync loop to look at a connection now (a push notification arrived). A sync holding it
 * meanwhile may have read the calendar before the change: its token is noted, and when it ends the
 * connection is due again at once (`syncAgainIfPushedDuring`).
 */
export async function requestSync(db: Db, id: string, nowMs: number): Promise<void> {
  // One statement: a sync ending between two would leave its token unnoted and its due time set
  // after the push.
  await db.updateTable('calendar_connections')
    .set((eb) => ({ next_sync_at: dueNow(nowMs), pushed_during: eb.ref('lease_owner') }))
    .where('id', '=', id).where('status', '=', 'active')
    .execute();
}

/** next_sync_at brought forward to `nowMs`, if it was later or unset. */
function dueNow(nowMs: number) {
  return sql<number>`case when next_sync_at is null or next_sync_at > ${nowMs} then ${nowMs} else next_sync_at end`;
}

/** After the sync `owner` ended: due at once if a push arrived while it held the connection. */
export async function syncAgainIfPushedDuring(db: Db, id: string, owner: string, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('calendar_connections')
    .set({ pushed_during: null, next_sync_at: dueNow(nowMs) })
    .where('id', '=', id).where('pushed_during', '=', owner).where('status', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The earliest time any active connection is due, for the loop's timer. */
export async function nextDueAt(db: Db): Promise<number | null> {
  const row = await db.selectFrom('calendar_connections').select(sql<number | null>`min(next_sync_at)`.as('at'))
    .where('status', 'in', ['active', 'auth_revoked']).executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}

export async function listCalendars(db: Db, connectionId: string): Promise<ConnectedCalendarRow[]> {
  return db.selectFrom('connected_calendars').selectAll().where('connection_id', '=', connectionId).orderBy('id').execute();
}

export async function insertCalendar(db: Db, row: Omit<ConnectedCalendarRow, 'id'>): Promise<void> {
  await db.insertInto('connected_calendars').values(row).execute();
}

export async function updateCalendar(db: Db, id: number, changes: CalendarUpdate): Promise<void> {
  await db.updateTable('connected_calendars').set(changes).where('id', '=', id).execute();
}

/** Every calendar of the connection read at the next sync, however long it failed before (a reconnect). */
export async function clearCalendarReadBackoff(db: Db, connectionId: string, nowMs: number): Promise<void> {
  await db.updateTable('connected_calendars').set({ read_failures: 0, read_error: null, next_read_at: null, updated_at: nowMs })
    .where('connection_id', '=', connectionId).where((eb) => eb.or([eb('read_failures', '>', 0), eb('read_error', 'is not', null)])).execute();
}

/**
 * Forgets that the provider refused push on the connection's calendars (a reconnect): a channel is
 * asked for on each at the next sync.
 */
export async function clearPushRefusals(db: Db, connectionId: string, nowMs: number): Promise<void> {
  await db.updateTable('connected_calendars').set({ push_refused_at: null, updated_at: nowMs })
    .where('connection_id', '=', connectionId).where('push_refused_at', 'is not', null).execute();
}

export async function deleteCalendar(db: Db, id: number): Promise<void> {
  await db.deleteFrom('connected_calendars').where('id', '=', id).execute();
}

export async function insertRetiredPushChannel(db: Db, row: Omit<Insertable<RetiredPushChannelsTable>, 'id'>): Promise<void> {
  await db.insertInto('retired_push_channels').values(row).execute();
}

/**
 * Keeps a channel to be stopped later, unless its connection is gone (a disconnect stopped or gave
 * up what it had): the connection row is locked first, so that a disconnect either removed it
 * already (false, nothing written) or waits for this. For writes outside a sync's hold.
 * `pendingId`: the record of the call that opened the channel, dropped in the same write (a
 * channel is either pending or retired).
 */
export async function retirePushChannelIfConnected(db: Kysely<Schema>, engine: Engine, row: Omit<Insertable<RetiredPushChannelsTable>, 'id'>, pendingId: number | null = null): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('calendar_connections').select('id').where('id', '=', row.connection_id);
    if (engine === 'postgres') query = query.forUpdate();
    if ((await query.executeTakeFirst()) === undefined) return false;
    await trx.insertInto('retired_push_channels').values(row).execute();
    if (pendingId !== null) await trx.deleteFrom('pending_push_channels').where('id', '=', pendingId).execute();
    return true;
  });
}

export async function listRetiredPushChannels(db: Db, connectionId: string): Promise<RetiredPushChannelRow[]> {
  return db.selectFrom('retired_push_channels').selectAll().where('connection_id', '=', connectionId).orderBy('id').execute();
}

/** Up to `limit` retired channels of a connection whose next stop is due, those never asked first. */
export async function listDueRetiredPushChannels(db: Db, connectionId: string, nowMs: number, limit: number): Promise<RetiredPushChannelRow[]> {
  return db.selectFrom('retired_push_channels').selectAll().where('connection_id', '=', connectionId)
    .where((eb) => eb.or([eb('next_stop_at', 'is', null), eb('next_stop_at', '<=', nowMs)]))
    .orderBy('stop_attempts').orderBy('id').limit(limit).execute();
}

/** Drops the connection's retired channels that have expired (they notify no more); how many. */
export async function deleteExpiredRetiredPushChannels(db: Db, connectionId: string, nowMs: number): Promise<number> {
  const result = await db.deleteFrom('retired_push_channels').where('connection_id', '=', connectionId).where('expires_at', '<=', nowMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteRetiredPushChannel(db: Db, id: number): Promise<void> {
  await db.deleteFrom('retired_push_channels').where('id', '=', id).execute();
}

/**
 * Counts a stop about to be asked and sets when the next may be, before the call: another sync of
 * the connection meanwhile leaves the channel alone, and one that dies mid-call does not have it
 * asked again at once. False: another sync took it first (`attemptsSeen` changed).
 */
export async function claimRetiredPushChannelStop(db: Db, id: number, attemptsSeen: number, nextStopAt: number): Promise<boolean> {
  const result = await db.updateTable('retired_push_channels').set({ stop_attempts: attemptsSeen + 1, next_stop_at: nextStopAt })
    .where('id', '=', id).where('stop_attempts', '=', attemptsSeen).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function noteRetiredPushChannelStopFailed(db: Db, id: number, error: string, nextStopAt: number): Promise<void> {
  await db.updateTable('retired_push_channels').set({ last_error: error, next_stop_at: nextStopAt }).where('id', '=', id).execute();
}

/** Holds back every stop of the connection's retired channels until `untilMs` (the provider asked to wait). */
export async function deferRetiredPushChannelStops(db: Db, connectionId: string, untilMs: number): Promise<void> {
  await db.updateTable('retired_push_channels').set({ next_stop_at: untilMs }).where('connection_id', '=', connectionId)
    .where((eb) => eb.or([eb('next_stop_at', 'is', null), eb('next_stop_at', '<', untilMs)])).execute();
}

/** A retired channel not yet stopped, by its id (its notifications are acknowledged, not refused). */
export async function findRetiredPushChannel(db: Db, channelId: string): Promise<RetiredPushChannelRow | undefined> {
  return db.selectFrom('retired_push_channels').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
}

/** Records a channel about to be opened (before the call); its id. */
export async function insertPendingPushChannel(db: Db, row: Omit<Insertable<PendingPushChannelsTable>, 'id'>): Promise<number> {
  const inserted = await db.insertInto('pending_push_channels').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export async function deletePendingPushChannel(db: Db, id: number): Promise<void> {
  await db.deleteFrom('pending_push_channels').where('id', '=', id).execute();
}

/**
 * Keeps the `keep` newest pending channels of a calendar that no notification has named, and
 * drops the older ones: a watch that times out at every sync leaves one each time, and the
 * newest are the ones whose channels may still be heard of.
 */
export async function prunePendingPushChannels(db: Db, connectionId: string, providerCalendarId: string, keep: number): Promise<void> {
  const kept = await db.selectFrom('pending_push_channels').select('id').where('connection_id', '=', connectionId)
    .where('provider_calendar_id', '=', providerCalendarId).where('heard_at', 'is', null).orderBy('id', 'desc').limit(keep).execute();
  if (kept.length < keep) return;
  await db.deleteFrom('pending_push_channels').where('connection_id', '=', connectionId).where('provider_calendar_id', '=', providerCalendarId)
    .where('heard_at', 'is', null).where('id', 'not in', kept.map((k) => k.id)).execute();
}

/** A pending Google channel, by the id Rollcall chose for it. */
export async function findPendingPushChannelById(db: Db, channelId: string): Promise<PendingPushChannelRow | undefined> {
  return db.selectFrom('pending_push_channels').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
}

/** A pending channel, by the hash of its secret (Graph's clientState). */
export async function findPendingPushChannelBySecret(db: Db, secretHash: string): Promise<PendingPushChannelRow | undefined> {
  return db.selectFrom('pending_push_channels').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

/** Notes what a notification told of a pending channel: Google's resource id, Graph's subscription id. */
export async function notePendingPushChannelHeard(db: Db, id: number, heard: { channel_id: string; resource_id: string | null; heard_at: number }): Promise<void> {
  await db.updateTable('pending_push_channels').set({ channel_id: heard.channel_id, resource_id: heard.resource_id }).where('id', '=', id).execute();
  await db.updateTable('pending_push_channels').set({ heard_at: heard.heard_at }).where('id', '=', id).where('heard_at', 'is', null).execute();
}

/** Drops the connection's pending channels whose asked-for expiry has passed; how many. */
export async function deleteExpiredPendingPushChannels(db: Db, connectionId: string, nowMs: number): Promise<number> {
  const result = await db.deleteFrom('pending_push_channels').where('connection_id', '=', connectionId).where('expires_at', '<=', nowMs).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Moves the connection's pending channels a notification has named to retired_push_channels, due
 * to be stopped now; how many. For a sync of the connection that still holds it, in the
 * transaction that checks the hold (no other sync's call is under way then): a channel is either
 * pending or retired.
 */
export async function retireHeardPendingPushChannels(trx: Transaction<Schema>, connectionId: string, nowMs: number): Promise<number> {
  const heard = await trx.selectFrom('pending_push_channels').selectAll().where('connection_id', '=', connectionId)
    .where('heard_at', 'is not', null).where('channel_id', 'is not', null).execute();
  for (const row of heard) {
    await trx.insertInto('retired_push_channels').values({
      connection_id: row.connection_id, provider_calendar_id: row.provider_calendar_id, channel_id: row.channel_id!, resource_id: row.resource_id,
      secret_hash: row.secret_hash, expires_at: Number(row.expires_at), last_error: null, next_stop_at: null, retired_at: nowMs,
    }).execute();
    await trx.deleteFrom('pending_push_channels').where('id', '=', row.id).execute();
  }
  return heard.length;
}

/** The connection's pending channels a notification has named (a disconnect stops them with the rest). */
export async function listHeardPendingPushChannels(db: Db, connectionId: string): Promise<PendingPushChannelRow[]> {
  return db.selectFrom('pending_push_channels').selectAll().where('connection_id', '=', connectionId)
    .where('heard_at', 'is not', null).where('channel_id', 'is not', null).orderBy('id').execute();
}

/** The calendar (and its connection) a push channel or subscription belongs to. */
export async function findCalendarByChannel(db: Db, channelId: string): Promise<ConnectedCalendarRow | undefined> {
  return db.selectFrom('connected_calendars').selectAll().where('push_channel_id', '=', channelId).executeTakeFirst();
}

export async function findAutoSchedule(db: Db, userId: string): Promise<{ is_enabled: number; default_bot_config: string; rules: string | null; updated_at: number } | undefined> {
  return db.selectFrom('auto_schedule_settings').select(['is_enabled', 'default_bot_config', 'rules', 'updated_at']).where('user_id', '=', userId).executeTakeFirst();
}

/** Saves the settings in one statement; `rules` left undefined keeps the stored ones (null for a new row). */
export async function saveAutoSchedule(db: Db, row: Omit<AutoScheduleSettingsTable, 'rules'> & { rules?: string | null }): Promise<void> {
  const values = { is_enabled: row.is_enabled, default_bot_config: row.default_bot_config, updated_at: row.updated_at };
  // updated_at is also the settings' version (auto-schedule books and takes back only under the
  // settings it read): two saves in one millisecond still get two values.
  const kept = {
    ...values,
    updated_at: sql<number>`case when excluded.updated_at > auto_schedule_settings.updated_at then excluded.updated_at else auto_schedule_settings.updated_at + 1 end`,
  };
  await db.insertInto('auto_schedule_settings').values({ ...values, user_id: row.user_id, rules: row.rules ?? null })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(row.rules === undefined ? kept : { ...kept, rules: row.rules }))
    .execute();
}

/** Why a bot findBotsWithoutCalendarAccess names is cancelled at its join time (spec section 12). */
export const CALENDAR_ACCESS_LOST_REASON = `${reasonPrefix('calendar_access_revoked')}the calendars of this bot's events lost their access (a connection revoked, or a calendar that refuses its reader or is gone) and it did not come back before the join time`;

/**
 * Of the given bots, those whose every live link is to an event Rollcall can no longer see: of a
 * connection that lost its access (auth_revoked), or of a calendar that refuses its reader or is
 * gone while the account's others read (access_refused_at). Whether their meetings still exist
 * is unknown. A bot with one link to an API-written event or to a calendar that still reads is
 * not among them, nor is a bot without live links. One query for the whole batch.
 */
export async function findBotsWithoutCalendarAccess(db: Db, botIds: readonly string[]): Promise<Set<string>> {
  const blocked = new Set<string>();
  for (let i = 0; i < botIds.length; i += 500) {
    const rows = await db.selectFrom('bot_events')
      .innerJoin('events', 'events.id', 'bot_events.event_id')
      .leftJoin('calendar_connections', 'calendar_connections.id', 'events.calendar_id')
      .leftJoin('connected_calendars', (join) => join.onRef('connected_calendars.connection_id', '=', 'events.calendar_id')
        .onRef('connected_calendars.provider_calendar_id', '=', 'events.provider_calendar_id'))
      .select('bot_events.bot_id')
      .where('bot_events.bot_id', 'in', botIds.slice(i, i + 500)).where('bot_events.is_live', '=', 1)
      .groupBy('bot_events.bot_id')
      .having(sql<number>`sum(case when calendar_connections.status = 'auth_revoked' or connected_calendars.access_refused_at is not null then 0 else 1 end)`, '=', 0)
      .execute();
    for (const row of rows) blocked.add(row.bot_id);
  }
  return blocked;
}

/** A calendar a bot's meeting is on that Rollcall cannot read, and its connection. */
export interface UnreadableCalendarRow {
  bot_id: string;
  connection_id: string;
  provider: string;
  user_email: string | null;
  display_url: string | null;
  /** The connection lost its access (auth_revoked); otherwise the calendar alone refuses its reader or is gone. */
  is_connection_revoked: boolean;
  provider_calendar_id: string | null;
  calendar_name: string | null;
}

/**
 * The calendars of these bots' live links that Rollcall cannot read, the ones that make
 * findBotsWithoutCalendarAccess name a bot: so that whoever reads why a bot is at risk learns which
 * calendar to connect again. One row per bot and calendar, in the order of the bots' links.
 */
export async function listUnreadableCalendarsOfBots(db: Db, botIds: readonly string[]): Promise<Map<string, UnreadableCalendarRow[]>> {
  const byBot = new Map<string, UnreadableCalendarRow[]>();
  for (let i = 0; i < botIds.length; i += 500) {
    const rows = await db.selectFrom('bot_events')
      .innerJoin('events', 'events.id', 'bot_events.event_id')
      .innerJoin('calendar_connections', 'calendar_connections.id', 'events.calendar_id')
      // A feed's events have no calendar id; its one calendar's is '' (ICS_CALENDAR_ID).
      .leftJoin('connected_calendars', (join) => join.onRef('connected_calendars.connection_id', '=', 'events.calendar_id')
        .on((eb) => eb('connected_calendars.provider_calendar_id', '=', eb.fn.coalesce('events.provider_calendar_id', sql.lit('')))))
      .select(['bot_events.bot_id', 'bot_events.id as link_id', 'calendar_connections.id as connection_id', 'calendar_connections.provider', 'calendar_connections.user_email',
        'calendar_connections.display_url', 'calendar_connections.status', 'events.provider_calendar_id', 'connected_calendars.name as calendar_name'])
      .where('bot_events.bot_id', 'in', botIds.slice(i, i + 500)).where('bot_events.is_live', '=', 1)
      .where((eb) => eb.or([eb('calendar_connections.status', '=', 'auth_revoked'), eb('connected_calendars.access_refused_at', 'is not', null)]))
      .orderBy('bot_events.bot_id').orderBy('bot_events.id')
      .execute();
    for (const row of rows) {
      const calendars = byBot.get(row.bot_id) ?? [];
      // A bot linked to several events of one calendar names it once.
      if (calendars.some((c) => c.connection_id === row.connection_id && c.provider_calendar_id === row.provider_calendar_id)) continue;
      calendars.push({
        bot_id: row.bot_id, connection_id: row.connection_id, provider: row.provider, user_email: row.user_email, display_url: row.display_url,
        is_connection_revoked: row.status === 'auth_revoked', provider_calendar_id: row.provider_calendar_id, calendar_name: row.calendar_name,
      });
      byBot.set(row.bot_id, calendars);
    }
  }
  return byBot;
}

/** Connections Rollcall cannot fully see: revoked, or with a calendar that refuses its reader. */
export async function listConnectionsWithoutFullAccess(db: Db): Promise<CalendarConnectionRow[]> {
  // Each through its partial index (migration 031), whose condition the query repeats literally.
  const revoked = await db.selectFrom('calendar_connections').selectAll().where('status', '=', sql.lit('auth_revoked')).execute();
  const refusing = await db.selectFrom('calendar_connections').selectAll().where('status', '=', 'active')
    .where('id', 'in', (eb) => eb.selectFrom('connected_calendars').select('connection_id').where('access_refused_at', 'is not', null)).execute();
  return [...revoked, ...refusing];
}

/**
 * Active connections of these kinds of provider, or with a calendar whose round read in parts is
 * under way (whatever the provider), with a bot on their meetings whose timer (its launch, or its
 * handover to a bot provider) comes due within [fromMs, toMs]: found from the timers
 * (schedules_due), so the cost follows the launches coming up, not the connections.
 */
export async function listActiveConnectionsWithLaunchesDue(db: Db, providers: readonly string[], fromMs: number, toMs: number): Promise<CalendarConnectionRow[]> {
  const ids = db.selectFrom('schedules').innerJoin('bot_events', 'bot_events.bot_id', 'schedules.bot_id').innerJoin('events', 'events.id', 'bot_events.event_id')
    .select('events.calendar_id')
    .where('schedules.state', 'in', ['pending', 'claimed']).where('schedules.due_at_ms', '>=', fromMs).where('schedules.due_at_ms', '<=', toMs)
    .where('bot_events.is_live', '=', 1).where('events.calendar_id', 'is not', null);
  // And those with a calendar whose round read in parts is under way (calendar_round_changes, by
  // its key's calendar_id): its stored events wait for the round's last part.
  const inRound = db.selectFrom('calendar_round_changes').innerJoin('connected_calendars', 'connected_calendars.id', 'calendar_round_changes.calendar_id').select('connected_calendars.connection_id');
  return db.selectFrom('calendar_connections').selectAll().where('status', '=', 'active')
    .where((eb) => (providers.length === 0 ? eb('id', 'in', inRound) : eb.or([eb('provider', 'in', providers), eb('id', 'in', inRound)])))
    .where('id', 'in', ids).execute();
}

/**
 * Moves a connection's next sync from `plannedMs` to `atMs`, unless it changed meanwhile (a sync
 * that ended planned its own) or the provider's Retry-After ends later.
 */
export async function bringSyncForward(db: Db, connectionId: string, plannedMs: number, atMs: number): Promise<void> {
  await db.updateTable('calendar_connections').set({ next_sync_at: atMs }).where('id', '=', connectionId).where('next_sync_at', '=', plannedMs)
    .where((eb) => eb.or([eb('retry_not_before', 'is', null), eb('retry_not_before', '<=', atMs)])).execute();
}

/** Moves a calendar's next read to `atMs` if it is later. */
export async function bringReadForward(db: Db, calendarRowId: number, atMs: number): Promise<void> {
  await db.updateTable('connected_calendars').set({ next_read_at: atMs }).where('id', '=', calendarRowId).where('next_read_at', '>', atMs).execute();
}

/**
 * The earliest join time after `afterMs` of a scheduled bot with a live link to an event of this
 * connection (or only of the calendars named by their provider ids); null when there is none.
 */
export async function firstJoinOnConnection(db: Db, connection: { id: string; user_id: string }, afterMs: number, providerCalendarIds?: readonly string[]): Promise<number | null> {
  if (providerCalendarIds?.length === 0) return null;
  // From the owner's live bots ahead of afterMs (bots_user_live_join), not from every event of the connection.
  let query = db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
    .select((eb) => eb.fn.min<number>('bots.join_at_ms').as('first'))
    .where('bots.user_id', '=', connection.user_id).where('bots.is_live', '=', 1).where('bots.join_at_ms', '>', afterMs).where('bots.status', '=', 'Scheduled')
    .where('events.calendar_id', '=', connection.id).where('bot_events.is_live', '=', 1);
  if (providerCalendarIds) query = query.where('events.provider_calendar_id', 'in', providerCalendarIds);
  const row = await query.executeTakeFirst();
  return row?.first === null || row?.first === undefined ? null : Number(row.first);
}

/** A meeting of a calendar whose bot joins soon (eventsJoinedWithin). */
export interface JoinedMeetingRow {
  /** The stored provider id of what the bot joins: an event, an occurrence's own exception, or the master of a series whose occurrence it is. */
  provider_event_id: string;
  /** The times the bot has: the event's, the exception's, or the occurrence's (its link's). */
  start_ms: number;
  end_ms: number;
  provider_series_id: string | null;
  /** An occurrence of a series stored as its master (provider_event_id the master's): its original start; null otherwise. */
  occurrence_start_ms: number | null;
  /**
   * An occurrence stored as an exception of its own (provider_event_id the exception's): its
   * series' master (its stored provider id) and its original start, so that the series being
   * deleted settles it too; null otherwise.
   */
  exception_of: { series_provider_event_id: string; original_start_ms: number } | null;
}

/**
 * The events of one calendar of this connection whose bots (Scheduled, with a live link) join
 * within [fromMs, toMs], the soonest join first: each single event, and each occurrence of a
 * series a bot is on (its link's occurrence key). An occurrence stored as its own exception
 * comes as that row (its own provider id and times), with its series' master and original start
 * (`exception_of`); one stored only as its series' master comes as the master with its original
 * start (`occurrence_start_ms`) and the times its bot has.
 */
export async function eventsJoinedWithin(db: Db, connection: { id: string; user_id: string }, providerCalendarId: string, fromMs: number, toMs: number, limit: number): Promise<JoinedMeetingRow[]> {
  // From the owner's live bots in the span (bots_user_live_join), not from every event of the connection.
  const rows = await db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
    .select(['events.id', 'events.provider_event_id', 'events.start_ms', 'events.end_ms', 'events.provider_series_id', 'events.recurrence', 'bot_events.occurrence_key'])
    .select((eb) => [eb.fn.min<number>('bot_events.start_ms').as('link_start_ms'), eb.fn.min<number>('bot_events.end_ms').as('link_end_ms'), eb.fn.min<number>('bots.join_at_ms').as('first_join')])
    .where('bots.user_id', '=', connection.user_id).where('bots.is_live', '=', 1).where('bots.join_at_ms', '>=', fromMs).where('bots.join_at_ms', '<=', toMs).where('bots.status', '=', 'Scheduled')
    .where('events.calendar_id', '=', connection.id).where('events.provider_calendar_id', '=', providerCalendarId).where('events.is_deleted', '=', 0)
    .where('bot_events.is_live', '=', 1).where('events.provider_event_id', 'is not', null)
    .groupBy(['events.id', 'events.provider_event_id', 'events.start_ms', 'events.end_ms', 'events.provider_series_id', 'events.recurrence', 'bot_events.occurrence_key'])
    .orderBy('first_join').limit(limit)
    .execute();
  const occurrenceOf = (r: (typeof rows)[number]) => (r.occurrence_key === '' || r.recurrence === null ? null : parseOccurrenceKey(r.occurrence_key));
  // The occurrences among them stored as exceptions of their own (one query for all), by their
  // series (events_one_override_per_occurrence; `user_id || ''` keeps SQLite's planner off the
  // user's index, as findOverrides does).
  const occurrences = rows.filter((r) => occurrenceOf(r) !== null);
  const exceptions = occurrences.length === 0 ? [] : await db.selectFrom('events')
    .select(['recurring_event_id', 'original_start_ms', 'provider_event_id', 'start_ms', 'end_ms', 'provider_series_id'])
    .where(sql<string>`user_id || ''`, '=', connection.user_id).where('recurring_event_id', 'in', [...new Set(occurrences.map((r) => r.id))])
    .where('original_start_ms', 'in', [...new Set(occurrences.map((r) => occurrenceOf(r)!))]).where('is_deleted', '=', 0).where('provider_event_id', 'is not', null)
    .execute();
  const exceptionOf = new Map(exceptions.map((e) => [`${e.recurring_event_id} ${Number(e.original_start_ms)}`, e]));
  return rows.map((r) => {
    const originalStartMs = occurrenceOf(r);
    if (originalStartMs === null) return { provider_event_id: r.provider_event_id!, start_ms: Number(r.start_ms), end_ms: Number(r.end_ms), provider_series_id: r.provider_series_id, occurrence_start_ms: null, exception_of: null };
    const exception = exceptionOf.get(`${r.id} ${originalStartMs}`);
    if (exception) {
      return {
        provider_event_id: exception.provider_event_id!, start_ms: Number(exception.start_ms), end_ms: Number(exception.end_ms), provider_series_id: exception.provider_series_id, occurrence_start_ms: null,
        exception_of: { series_provider_event_id: r.provider_event_id!, original_start_ms: originalStartMs },
      };
    }
    return { provider_event_id: r.provider_event_id!, start_ms: Number(r.link_start_ms), end_ms: Number(r.link_end_ms), provider_series_id: r.provider_series_id, occurrence_start_ms: originalStartMs, exception_of: null };
  });
}

/**
 * Scheduled bots with a live link to an event of this connection, or only of one of its calendars
 * (by their provider ids) when `providerCalendarIds` is given.
 */
export async function listScheduledBotsOfConnection(db: Db, connectionId: string, providerCalendarIds?: readonly string[]): Promise<string[]> {
  if (providerCalendarIds?.length === 0) return [];
  let query = db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').innerJoin('events', 'events.id', 'bot_events.event_id')
    .select('bots.id').distinct()
    .where('events.calendar_id', '=', connectionId).where('bot_events.is_live', '=', 1).where('bots.status', '=', 'Scheduled');
  if (providerCalendarIds) query = query.where('events.provider_calendar_id', 'in', providerCalendarIds);
  const rows = await query.execute();
  return rows.map((r) => r.id);
}
