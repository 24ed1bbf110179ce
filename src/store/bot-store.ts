// Data access for bots, their links to events, their schedules and their logs.
import { sql, type Insertable, type SqlBool } from 'kysely';
import type { BotDecisionsTable, BotEventRow, BotEventsTable, BotRow, BotStatusChangesTable, BotsTable, ScheduleRow, SchedulesTable, WebhookDeliveriesTable } from '../db/schema.ts';
import { LIVE_STATUSES, type BotStatus } from '../domain/bot-status.ts';
import type { DecisionKind } from '../domain/decision-kinds.ts';
import { deduplicationKeyHash } from '../domain/bot-config.ts';
import type { Db } from './event-store.ts';
import type { Engine } from '../db/database.ts';

// The live predicates are written as literals, never as bound parameters: SQLite uses a partial
// index only when the query's WHERE visibly implies the index's own, and these match the partial
// indexes of migrations 001 and 012 word for word. With parameters it scanned all of a user's rows.
const LIVE_STATUS_LIST = sql.raw(LIVE_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * `status in ('Scheduled', ...)`. (No index has this predicate any more: the live-key index is
 * partial on is_live, migration 012; listings of a user's live bots walk bots_user_join.)
 */
export function isLiveBot(column = 'status') {
  return sql<SqlBool>`${sql.ref(column)} in (${LIVE_STATUS_LIST})`;
}

/**
 * `is_live = 1`, the flag of a live bot or a live link, as the partial indexes
 * bots_one_live_per_key (migration 012) and bot_events_one_live_per_occurrence say it.
 */
export function isLiveFlag(column = 'is_live') {
  return sql<SqlBool>`${sql.ref(column)} = 1`;
}

export interface LinkedBotSummary {
  botId: string;
  status: string;
  joinAtMs: number;
  /** The bot's meeting platform (zoom, google_meet, ...) and its bot_config.bot_name. */
  meetingPlatform: string | null;
  botName: string | null;
}

/**
 * Bots linked to each (event, occurrence), keyed "eventId|occurrenceKey", newest link last: the
 * live links, and the bots that ended while linked (done, missed...) as history. A bot that is
 * still live but left the event (the event was deleted or moved to another meeting while the bot
 * stays for the other events sharing it) is no longer this event's bot. Cancelled bots are left
 * out: MeetStream deletes an unscheduled bot, and its clients pick "events without a bot" to
 * schedule; a cancelled bot stays readable by its id.
 */
export async function listBotsForEvents(db: Db, keys: { eventId: string; occurrenceKey: string }[]): Promise<Map<string, LinkedBotSummary[]>> {
  const result = new Map<string, LinkedBotSummary[]>();
  if (keys.length === 0) return result;
  const eventIds = [...new Set(keys.map((k) => k.eventId))];
  const rows = await db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
    .select(['bot_events.event_id', 'bot_events.occurrence_key', 'bots.id', 'bots.status', 'bots.join_at_ms', 'bots.meeting_platform', 'bots.bot_config'])
    .where('bot_events.event_id', 'in', eventIds)
    .where((eb) => eb.or([isLiveFlag('bot_events.is_live'), eb.not(isLiveBot('bots.status'))]))
    .where('bots.status', '<>', 'Cancelled')
    // A bot whose data was deleted keeps its links only as the fact that the event had a bot.
    .where('bots.data_deleted_at', 'is', null)
    .orderBy('bot_events.id')
    .execute();
  for (const row of rows) {
    const key = `${row.event_id}|${row.occurrence_key}`;
    const list = result.get(key) ?? [];
    if (!list.some((b) => b.botId === row.id)) list.push({ botId: row.id, status: row.status, joinAtMs: row.join_at_ms, meetingPlatform: row.meeting_platform, botName: botNameOf(row.bot_config) });
    result.set(key, list);
  }
  return result;
}

export async function findLiveBotByKey(db: Db, engine: Engine, userId: string, key: string): Promise<BotRow | undefined> {
  let query = liveBotByKey(db, userId, key).selectAll();
  // On PostgreSQL the row lock serialises concurrent requests that share one bot, so that each
  // recomputes the join time from every committed link. SQLite runs one transaction at a time.
  if (engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Whether a live bot of the user holds `key`, read without a lock (findLiveBotByKey locks it). */
export async function isKeyHeldByLiveBot(db: Db, userId: string, key: string): Promise<boolean> {
  return (await liveBotByKey(db, userId, key).select('id').executeTakeFirst()) !== undefined;
}

/** The user's live bot under `key`, by its hash (bots_one_live_per_key). */
function liveBotByKey(db: Db, userId: string, key: string) {
  return db.selectFrom('bots').where('user_id', '=', userId).where('deduplication_key_hash', '=', deduplicationKeyHash(key)).where(isLiveFlag());
}

export async function findBot(db: Db, userId: string, botId: string, options: { engine?: Engine; forUpdate?: boolean } = {}): Promise<BotRow | undefined> {
  let query = db.selectFrom('bots').selectAll().where('id', '=', botId).where('user_id', '=', userId);
  if (options.forUpdate && options.engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findBotById(db: Db, botId: string, options: { engine?: Engine; forUpdate?: boolean } = {}): Promise<BotRow | undefined> {
  let query = db.selectFrom('bots').selectAll().where('id', '=', botId);
  if (options.forUpdate && options.engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The live link (and its bot) of one event or occurrence, if any. */
export async function findLiveLink(db: Db, eventId: string, occurrenceKey: string): Promise<(BotEventRow & { deduplication_key: string; bot_status: string }) | undefined> {
  return db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
    .selectAll('bot_events').select(['bots.deduplication_key', 'bots.status as bot_status'])
    .where('bot_events.event_id', '=', eventId).where('bot_events.occurrence_key', '=', occurrenceKey)
    .where(isLiveFlag('bot_events.is_live'))
    .executeTakeFirst();
}

export async function listLiveLinksOfBot(db: Db, botId: string): Promise<BotEventRow[]> {
  return db.selectFrom('bot_events').selectAll().where('bot_id', '=', botId).where(isLiveFlag()).orderBy('id').execute();
}

export async function listLinksOfBot(db: Db, botId: string): Promise<BotEventRow[]> {
  return db.selectFrom('bot_events').selectAll().where('bot_id', '=', botId).orderBy('id').execute();
}

export async function listLiveLinksOfEvent(db: Db, eventId: string): Promise<BotEventRow[]> {
  return db.selectFrom('bot_events').selectAll().where('event_id', '=', eventId).where(isLiveFlag()).orderBy('id').execute();
}

/** Of these events, those with a live link to a bot. */
export async function eventsWithLiveLinks(db: Db, eventIds: readonly string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (let i = 0; i < eventIds.length; i += 500) {
    const rows = await db.selectFrom('bot_events').select('event_id').where('event_id', 'in', eventIds.slice(i, i + 500)).where(isLiveFlag()).execute();
    for (const row of rows) held.add(row.event_id);
  }
  return held;
}

/** Of these events, those that have had a link to a bot, live or ended, whatever ended it. */
export async function eventsWithAnyLinks(db: Db, eventIds: readonly string[]): Promise<Set<string>> {
  const linked = new Set<string>();
  for (let i = 0; i < eventIds.length; i += 500) {
    const rows = await db.selectFrom('bot_events').select('event_id').distinct().where('event_id', 'in', eventIds.slice(i, i + 500)).execute();
    for (const row of rows) linked.add(row.event_id);
  }
  return linked;
}

/**
 * Of these bots, those that never launched and whose every link ended for the calendar's sake (the
 * occurrence cancelled or deleted, or its meeting link gone): the meeting they were booked for
 * never had them. Not held_before_move, which only a bot that launched has (releaseLinksMovedOnPast).
 */
export async function botsFreedByCalendar(db: Db, botIds: readonly string[]): Promise<Set<string>> {
  const freedBy = ['calendar_cancelled', 'link_removed'] satisfies LinkEndCause[];
  const freed = new Set<string>();
  const ids = [...new Set(botIds)];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id').select('bot_events.bot_id')
      .where('bot_events.bot_id', 'in', ids.slice(i, i + 500)).where('bots.launched_at', 'is', null)
      .groupBy('bot_events.bot_id')
      .having((eb) => eb.fn.sum<number>(eb.case().when(eb.and([eb('bot_events.is_live', '=', 0), eb('bot_events.end_cause', 'in', freedBy)])).then(0).else(1).end()), '=', 0)
      .execute();
    for (const row of rows) freed.add(row.bot_id);
  }
  return freed;
}

export async function findScheduleOfBot(db: Db, botId: string): Promise<ScheduleRow | undefined> {
  return db.selectFrom('schedules').selectAll().where('bot_id', '=', botId).executeTakeFirst();
}

/**
 * Whether an event (or one occurrence of a series: `occurrenceKey`) has had a bot: a link live or
 * ended, except links ended for a cause that leaves it free to be booked again (LinkEndCause:
 * auto-schedule took it back, the link or the meeting went, or the bot's meeting was held before
 * the event moved on past it).
 */
export async function hasHadBot(db: Db, eventId: string, occurrenceKey: string): Promise<boolean> {
  const row = await linksThatCount(db, eventId).select('id').where('occurrence_key', '=', occurrenceKey).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** The occurrence keys of a series that have had a bot, as hasHadBot counts them: one query for a whole series. */
export async function listOccurrencesThatHadBots(db: Db, seriesId: string): Promise<Set<string>> {
  const rows = await linksThatCount(db, seriesId).select('occurrence_key').distinct().execute();
  return new Set(rows.map((r) => r.occurrence_key));
}

/**
 * The occurrence keys of a series whose links all ended for the calendar's sake: the occurrence
 * was cancelled or deleted, lost its meeting link, or moved past its bot's meeting (not for
 * auto-schedule's rules or a decline, nor by the client). Such an occurrence, back in the calendar,
 * is owed a bot by whoever booked it.
 */
export async function listOccurrencesFreedByCalendar(db: Db, seriesId: string): Promise<Set<string>> {
  const freedBy = ['calendar_cancelled', 'link_removed', 'held_before_move'] satisfies LinkEndCause[];
  const rows = await db.selectFrom('bot_events').select('occurrence_key')
    .where('event_id', '=', seriesId).where('occurrence_key', '!=', '')
    .groupBy('occurrence_key')
    .having((eb) => eb.fn.sum<number>(eb.case().when(eb.and([eb('is_live', '=', 0), eb('end_cause', 'in', freedBy)])).then(0).else(1).end()), '=', 0)
    .execute();
  return new Set(rows.map((r) => r.occurrence_key));
}

function linksThatCount(db: Db, eventId: string) {
  return db.selectFrom('bot_events').where('event_id', '=', eventId).where((eb) => eb.or([eb('is_live', '=', 1), eb('end_cause', 'is', null)]));
}

/**
 * Why a link ended where that decides what may come after it: auto-schedule took it back (the
 * owner declined, or the meeting stopped passing the rules), the event lost its meeting link, or
 * the calendar cancelled or deleted the event or occurrence, or the bot went to its meeting and the
 * event moved on past it. Such a link does not count as "this
 * event has had a bot" (linksThatCount), so auto-schedule and a series' batch book the event
 * again once it passes, has a link, or is back in the calendar (a cancellation undone, an
 * occurrence restored). Links the client ended (unscheduled, cancelled) keep counting.
 */
export type LinkEndCause = 'declined' | 'rules' | 'link_removed' | 'calendar_cancelled' | 'held_before_move';

/**
 * Ends one live link because its event lets go of the bot while the bot is live (deleted, moved
 * into the past, unscheduled, disconnected, declined, taken back, its meeting link gone or now
 * another meeting's): `let_go_at` records that instant (migration 058), the event's `removed_at`.
 * `cause` is recorded where it decides what may follow (migration 020).
 */
export async function endLink(db: Db, linkId: number, nowMs: number, cause: LinkEndCause | null = null): Promise<void> {
  await db.updateTable('bot_events').set({ is_live: 0, end_cause: cause, updated_at: nowMs, let_go_at: nowMs }).where('id', '=', linkId).execute();
}

/**
 * Gives the bot a new version (its updated_at moves on, by a millisecond at least) without
 * changing anything else: a launch prepared under the old version goes the slow path.
 */
export async function bumpVersion(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('bots').set({ updated_at: sql<number>`case when updated_at >= ${nowMs} then updated_at + 1 else ${nowMs} end` }).where('id', '=', botId).execute();
}

export async function appendDecision(db: Db, botId: string, atMs: number, kind: DecisionKind, reason: string, details: Record<string, unknown> = {}): Promise<void> {
  await db.insertInto('bot_decisions').values({ bot_id: botId, at_ms: atMs, kind, reason, details: JSON.stringify(details) }).execute();
}

export async function appendStatusChange(db: Db, botId: string, atMs: number, status: BotStatus, reason: string): Promise<void> {
  await db.insertInto('bot_status_changes').values({ bot_id: botId, at_ms: atMs, status, reason }).execute();
}

/**
 * The ended links of a bot that has just left its meeting whose event or occurrence starts at or
 * after `leftAtMs` and that followed a calendar move after the launch (`moved_by_calendar` since
 * `launchedAtMs`): they stop counting as the event having had a bot (end cause held_before_move).
 * A bot that failed before its unmoved meeting began frees nothing.
 */
export async function releaseLinksMovedOnPast(db: Db, botId: string, launchedAtMs: number, leftAtMs: number): Promise<void> {
  const moved = await db.selectFrom('bot_decisions').select('id').where('bot_id', '=', botId).where('kind', '=', 'moved_by_calendar').where('at_ms', '>=', launchedAtMs).limit(1).executeTakeFirst();
  if (!moved) return;
  await db.updateTable('bot_events').set({ end_cause: 'held_before_move' satisfies LinkEndCause })
    .where('bot_id', '=', botId).where('is_live', '=', 0).where('end_cause', 'is', null).where('start_ms', '>=', leftAtMs)
    .execute();
}

/**
 * Ends every live link of a bot (used when the bot reaches a terminal status): the bot lets go of
 * its events by ending, so no `let_go_at` is written (the events took nothing from it).
 */
export async function endLinksOfBot(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('bot_events').set({ is_live: 0, updated_at: nowMs }).where('bot_id', '=', botId).where(isLiveFlag()).execute();
}

/**
 * Ends every live link of a live bot whose events let go of it all at once (it gives way to
 * another bot going to the same meeting, which takes them), recording that instant as for endLink.
 */
export async function letGoLinksOfBot(db: Db, botId: string, nowMs: number): Promise<void> {
  await db.updateTable('bot_events').set({ is_live: 0, updated_at: nowMs, let_go_at: nowMs }).where('bot_id', '=', botId).where(isLiveFlag()).execute();
}

export async function countPendingSchedules(db: Db): Promise<number> {
  const row = await db.selectFrom('schedules').select(sql<number>`count(*)`.as('n')).where('state', '=', 'pending').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Locks the bots of a firing batch in id order (PostgreSQL) and returns the ids it could lock: a
 * bot whose row another transaction holds (a request changing it, or the webhook sender recording
 * an attempt of one of its webhooks) is left out (SKIP LOCKED), and so is a bot that no longer
 * exists (bots are never deleted: deleting a bot's data scrubs the row); the caller decides
 * the missing ones again a moment later. On SQLite every existing bot is returned.
 */
export async function lockBotsSkippingBusy(db: Db, engine: Engine, botIds: readonly string[]): Promise<Set<string>> {
  if (botIds.length === 0) return new Set();
  let query = db.selectFrom('bots').select('id').where('id', 'in', botIds).orderBy('id');
  if (engine === 'postgres') query = query.forUpdate().skipLocked();
  return new Set((await query.execute()).map((r) => r.id));
}

/** Locks bots in id order (PostgreSQL), waiting for each; callers that lock several use this. */
export async function lockBots(db: Db, engine: Engine, botIds: readonly string[]): Promise<void> {
  if (engine !== 'postgres' || botIds.length === 0) return;
  // In pieces (a statement takes at most 65,535 parameters; a burst's result flush can lock more
  // bots than that), each piece in id order after the one before. Ids sort the same in JavaScript
  // as under any collation (src/lib/ids.ts), so the pieces keep the one lock order.
  const sorted = [...botIds].sort();
  for (let i = 0; i < sorted.length; i += LOCK_PIECE) {
    await db.selectFrom('bots').select('id').where('id', 'in', sorted.slice(i, i + LOCK_PIECE)).orderBy('id').forUpdate().execute();
  }
}

const LOCK_PIECE = 10_000;

/** Everything a newly scheduled bot is, written together. */
export interface NewBotRows {
  bot: Insertable<BotsTable>;
  /** The bot's first event link; null for a bot without an event (an ad-hoc bot). */
  link: Insertable<BotEventsTable> | null;
  schedule: Insertable<SchedulesTable>;
  decision: Insertable<BotDecisionsTable>;
  statusChange: Insertable<BotStatusChangesTable>;
  webhooks: Insertable<WebhookDeliveriesTable>[];
}

/**
 * Writes a new bot, its link, its timer, its first decision and status, and its bot.scheduled
 * webhook. On PostgreSQL in one statement (data-modifying CTEs): the schedule endpoint's cost there
 * is mostly round trips, and this was six of them. SQLite runs in this process, so there the
 * statements simply follow one another.
 */
export async function insertNewBot(db: Db, engine: Engine, rows: NewBotRows): Promise<void> {
  if (engine === 'postgres') {
    // A link and webhooks are optional; each shape of the statement is spelled out once.
    const base = db.with('new_bot', (q) => q.insertInto('bots').values(rows.bot))
      .with('new_schedule', (q) => q.insertInto('schedules').values(rows.schedule))
      .with('new_decision', (q) => q.insertInto('bot_decisions').values(rows.decision));
    // (The CTE names only matter to PostgreSQL; typed as the base statement either way.)
    const withLink = (rows.link ? base.with('new_link', (q) => q.insertInto('bot_events').values(rows.link!)) : base) as typeof base;
    if (rows.webhooks.length === 0) {
      await withLink.insertInto('bot_status_changes').values(rows.statusChange).execute();
    } else {
      await withLink.with('new_webhook', (q) => q.insertInto('webhook_deliveries').values(rows.webhooks))
        .insertInto('bot_status_changes').values(rows.statusChange).execute();
    }
    return;
  }
  await db.insertInto('bots').values(rows.bot).execute();
  if (rows.link) await db.insertInto('bot_events').values(rows.link).execute();
  await db.insertInto('schedules').values(rows.schedule).execute();
  await db.insertInto('bot_decisions').values(rows.decision).execute();
  await db.insertInto('bot_status_changes').values(rows.statusChange).execute();
  if (rows.webhooks.length > 0) await db.insertInto('webhook_deliveries').values(rows.webhooks).execute();
}

/** bot_config.bot_name of a stored configuration, or null. */
function botNameOf(botConfig: string): string | null {
  try {
    const name = (JSON.parse(botConfig) as { bot_name?: unknown }).bot_name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}
