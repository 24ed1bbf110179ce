// Data access for calendar events. Every query is scoped to the owning user.
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { EventRow, NewEventRow, EventUpdate, Schema } from '../db/schema.ts';
import type { Engine } from '../db/database.ts';
import { instanceSeriesId, type InstanceSeries } from '../domain/instance-series.ts';
import { occurrenceKey } from '../domain/recurrence.ts';
import { allDayZone } from '../domain/all-day.ts';

export type Db = Kysely<Schema> | Transaction<Schema>;

export async function insertEvent(db: Db, row: NewEventRow): Promise<void> {
  await db.insertInto('events').values(row).execute();
}

export async function findEvent(db: Db, userId: string, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

/**
 * Locks an event row until the transaction ends (PostgreSQL; SQLite has one writer at a time).
 * Whoever reads an event to schedule a bot for it, and whoever changes it and then reads its
 * links, takes this lock first: the two then run one after the other, so a bot is never linked
 * to an event that a concurrent request has just deleted, moved or cancelled. Lock order: the
 * event named, then its series, then bots, then schedules.
 */
export async function lockEvent(db: Db, engine: Engine, userId: string, id: string): Promise<EventRow | undefined> {
  let query = db.selectFrom('events').selectAll().where('id', '=', id).where('user_id', '=', userId);
  if (engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function updateEvent(db: Db, userId: string, id: string, changes: EventUpdate): Promise<void> {
  await db.updateTable('events').set(changes).where('id', '=', id).where('user_id', '=', userId).execute();
}

/**
 * Locks a series the provider delivers expanded until the transaction ends (PostgreSQL): it has no
 * row of its own to lock, so a transaction-scoped advisory lock named after it stands in. Whoever
 * books or unschedules several of its instances at once takes it before any of them.
 */
export async function lockInstanceSeries(db: Db, engine: Engine, series: InstanceSeries): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${instanceSeriesId(series)}, 0))`.execute(db);
}

/** The live instances of a series the provider delivers expanded (instance-series.ts), in start order. */
export async function listSeriesInstances(db: Db, userId: string, series: InstanceSeries): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll()
    .where('user_id', '=', userId).where('calendar_id', '=', series.calendarId).where('provider_series_id', '=', series.providerSeriesId)
    .where('recurrence', 'is', null).where('is_deleted', '=', 0)
    .orderBy('start_ms').orderBy('id').execute();
}

/** Live override instances of one series (moved or cancelled occurrences). */
export async function findOverrides(db: Db, userId: string, seriesId: string): Promise<EventRow[]> {
  // By the series (events_one_override_per_occurrence). Without statistics SQLite's planner takes
  // the user's index instead, reading every event the user has (41 ms a series with 100,000 of
  // them, against 0.04 ms): `user_id || ''` keeps it off that index; PostgreSQL plans alike either way.
  return db.selectFrom('events').selectAll()
    .where(sql<string>`user_id || ''`, '=', userId).where('recurring_event_id', '=', seriesId).where('is_deleted', '=', 0)
    .execute();
}

/**
 * The live override instances of a series, locked until the transaction ends (PostgreSQL), in id
 * order: taken before the series itself is changed, as a change to one override takes it and then
 * its series.
 */
export async function lockOverrides(db: Db, engine: Engine, userId: string, seriesId: string): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll()
    .where('user_id', '=', userId).where('recurring_event_id', '=', seriesId).where('is_deleted', '=', 0)
    .orderBy('id');
  if (engine === 'postgres') query = query.forUpdate();
  return query.execute();
}

/** Soft-deletes the live override instances of a series (when the series itself is deleted). */
export async function deleteOverrides(db: Db, userId: string, seriesId: string, nowMs: number): Promise<void> {
  await db.updateTable('events').set({ is_deleted: 1, updated_at: nowMs })
    .where('user_id', '=', userId).where('recurring_event_id', '=', seriesId).where('is_deleted', '=', 0)
    .execute();
}

export async function findOverride(db: Db, userId: string, seriesId: string, originalStartMs: number): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll()
    .where('user_id', '=', userId).where('recurring_event_id', '=', seriesId)
    .where('original_start_ms', '=', originalStartMs).where('is_deleted', '=', 0)
    .executeTakeFirst();
}

/**
 * Which events a listing keeps, by where they came from; every part given must hold.
 * - calendarId: a connection id (`cal_...`) or a provider calendar id (a Google calendar id, a
 *   Graph calendar id).
 * - calendars: (connection, provider calendar) pairs, providerCalendarId null for every calendar
 *   of that connection; an empty list keeps nothing.
 * - connectionIds: only events of these connections; an empty list keeps nothing.
 * - platform: google_calendar, outlook_calendar or ics.
 */
export interface EventSourceFilter {
  calendarId?: string;
  calendars?: { connectionId: string; providerCalendarId: string | null }[];
  connectionIds?: string[];
  platform?: string;
}

/** The filter as one condition on the events table (true when there is nothing to filter). */
function sourceCondition(eb: ExpressionBuilder<Schema, 'events'>, filter: EventSourceFilter | null): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (filter?.calendarId !== undefined) {
    parts.push(eb.or([eb('calendar_id', '=', filter.calendarId), eb('provider_calendar_id', '=', filter.calendarId)]));
  }
  if (filter?.calendars !== undefined) {
    parts.push(eb.or(filter.calendars.map((c) => (c.providerCalendarId === null
      ? eb('calendar_id', '=', c.connectionId)
      : eb.and([eb('calendar_id', '=', c.connectionId), eb('provider_calendar_id', '=', c.providerCalendarId)])))));
  }
  if (filter?.connectionIds !== undefined) {
    parts.push(filter.connectionIds.length === 0 ? eb.or([]) : eb('calendar_id', 'in', filter.connectionIds));
  }
  if (filter?.platform !== undefined) parts.push(eb('platform', '=', filter.platform));
  return eb.and(parts);
}

export interface WindowQuery {
  userId: string;
  fromMs: number;
  toMs: number;
  source: EventSourceFilter | null;
  /** Only rows that sort after this (start, id) position. */
  after: { startMs: number; id: string } | null;
  limit: number;
}

/**
 * Events that are not series masters and overlap the window: single events and override
 * instances that were not cancelled, ordered by (start, id).
 */
export async function listPlainEventsInWindow(db: Db, q: WindowQuery): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll()
    .where('user_id', '=', q.userId)
    .where('is_deleted', '=', 0)
    .where('recurrence', 'is', null)
    .where('start_ms', '<', q.toMs)
    .where('end_ms', '>', q.fromMs)
    .where((eb) => eb.or([eb('recurring_event_id', 'is', null), eb('status', '!=', 'cancelled')]));
  if (q.source !== null) query = query.where((eb) => sourceCondition(eb, q.source));
  if (q.after) {
    const { startMs, id } = q.after;
    query = query.where((eb) => eb.or([eb('start_ms', '>', startMs), eb.and([eb('start_ms', '=', startMs), eb('id', '>', id)])]));
  }
  return query.orderBy('start_ms').orderBy('id').limit(q.limit).execute();
}

/**
 * Series masters whose rule may make an occurrence that overlaps [fromMs, toMs): started before
 * `toMs`, and not over by `fromMs` (series_end_ms; null, a rule without end). Their override
 * instances are events of their own, read apart. Two lookups on events_user_series_end, one per
 * kind of end: with the two as one OR, or with the start beside them, the planners walk every
 * series (PostgreSQL) or every event (SQLite, on events_user_start) of the user.
 */
export async function listSeriesInWindow(db: Db, userId: string, window: { fromMs: number; toMs: number }, source: EventSourceFilter | null): Promise<EventRow[]> {
  const series = (end: (eb: ExpressionBuilder<Schema, 'events'>) => Expression<SqlBool>) => {
    let query = db.selectFrom('events').selectAll()
      .where('user_id', '=', userId).where('recurrence', 'is not', null).where(end).where('is_deleted', '=', 0);
    if (source !== null) query = query.where((eb) => sourceCondition(eb, source));
    return query.execute();
  };
  const endless = await series((eb) => eb('series_end_ms', 'is', null));
  const ending = await series((eb) => eb('series_end_ms', '>=', window.fromMs));
  return [...endless, ...ending].filter((row) => row.start_ms < window.toMs);
}

/** Live series of the user among `ids` (read by their primary key). */
export async function findLiveSeries(db: Db, userId: string, ids: readonly string[]): Promise<EventRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('events').selectAll()
    .where('user_id', '=', userId).where('id', 'in', [...ids]).where('recurrence', 'is not', null).where('is_deleted', '=', 0)
    .execute();
}

/**
 * Every event these bots were linked to, live or ended, in link order, titled as the pages name
 * them: an occurrence by its override's title when one changed it. `is_live` 0: a link the bot let
 * go of (an ended bot has let go of them all). `all_day_zone`: for an all-day event or occurrence
 * (an override by its own row, else its series'), the zone whose midnights its times are
 * (allDayZone); null otherwise.
 */
export async function listTitledEventsOfBots(db: Db, userId: string, botIds: readonly string[]) {
  if (botIds.length === 0) return [];
  const links = await db.selectFrom('bot_events as be').innerJoin('events as e', 'e.id', 'be.event_id')
    .select(['be.bot_id', 'be.event_id', 'be.occurrence_key', 'be.start_ms', 'be.is_live', 'e.title', 'e.calendar_id', 'e.is_all_day', 'e.platform', 'e.timezone'])
    .where('be.bot_id', 'in', [...botIds]).orderBy('be.id').execute();
  const overrides = await occurrenceOverrides(db, userId, links);
  return links.map(({ is_all_day: isAllDay, platform, timezone, ...l }) => {
    const override = overrides.get(`${l.event_id} ${l.occurrence_key}`);
    const own = override ?? { is_all_day: isAllDay, platform, timezone };
    return { ...l, title: override?.title ?? l.title, all_day_zone: allDayZoneOfRow(own) };
  });
}

/**
 * The all-day zone of each of these links' events (allDayZone), keyed "<event id> <occurrence
 * key>": an occurrence's from its override when one changed it (an override may be timed in an
 * all-day series, or a day in a timed one), else its series'. Null: not all-day.
 */
export async function allDayZonesOfLinks(db: Db, userId: string, links: readonly { event_id: string; occurrence_key: string }[]): Promise<Map<string, string | null>> {
  const ofEvents = await allDayZonesOfEvents(db, userId, links.map((l) => l.event_id));
  const overrides = await occurrenceOverrides(db, userId, links);
  const zones = new Map<string, string | null>();
  for (const link of links) {
    const key = `${link.event_id} ${link.occurrence_key}`;
    const override = overrides.get(key);
    zones.set(key, override !== undefined ? allDayZoneOfRow(override) : ofEvents.get(link.event_id) ?? null);
  }
  return zones;
}

/**
 * The all-day zone (allDayZone; null: timed) of each of these events by its own row, keyed by id,
 * read whether live or deleted; an id not found is left out.
 */
export async function allDayZonesOfEvents(db: Db, userId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  const zones = new Map<string, string | null>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 500) {
    const read = await db.selectFrom('events').select(['id', 'is_all_day', 'platform', 'timezone'])
      .where('user_id', '=', userId).where('id', 'in', unique.slice(i, i + 500)).execute();
    for (const row of read) zones.set(row.id, allDayZoneOfRow(row));
  }
  return zones;
}

function allDayZoneOfRow(row: { is_all_day: number; platform: string | null; timezone: string | null }): string | null {
  return allDayZone({ is_all_day: row.is_all_day === 1, platform: row.platform, timezone: row.timezone });
}

/**
 * The overrides that changed the occurrences these links are for (keyed "<series id> <occurrence
 * key>"): an occurrence is listed by its own title, as the bot's page heads it, and is all-day or
 * not as its own row says.
 */
async function occurrenceOverrides(db: Db, userId: string, links: readonly { event_id: string; occurrence_key: string }[]) {
  type Override = { title: string | null; is_all_day: number; platform: string | null; timezone: string | null };
  const found = new Map<string, Override>();
  const occurrenceLinks = links.filter((l) => l.occurrence_key !== '');
  if (occurrenceLinks.length === 0) return found;
  const wanted = new Set(occurrenceLinks.map((l) => `${l.event_id} ${l.occurrence_key}`));
  const seriesIds = [...new Set(occurrenceLinks.map((l) => l.event_id))];
  for (let i = 0; i < seriesIds.length; i += 500) {
    const overrides = await db.selectFrom('events').select(['recurring_event_id', 'original_start_ms', 'title', 'is_all_day', 'platform', 'timezone'])
      .where('user_id', '=', userId).where('is_deleted', '=', 0)
      .where('recurring_event_id', 'in', seriesIds.slice(i, i + 500)).execute();
    for (const { recurring_event_id: seriesId, original_start_ms: originalStartMs, ...o } of overrides) {
      if (originalStartMs === null) continue;
      const key = `${seriesId} ${occurrenceKey(originalStartMs)}`;
      if (wanted.has(key)) found.set(key, o);
    }
  }
  return found;
}

/** An Outlook instance listed as a plain occurrence at `startMs`: that is its slot in its series (instance_slots). */
export async function recordInstanceSlot(db: Db, eventId: string, startMs: number): Promise<void> {
  await db.insertInto('instance_slots').values({ event_id: eventId, slot_start_ms: startMs })
    .onConflict((oc) => oc.column('event_id').doUpdateSet({ slot_start_ms: startMs }))
    .execute();
}

/** The slots recorded for these instances (instance_slots), by event id; an instance never listed as a plain occurrence has none. */
export async function findInstanceSlots(db: Db, eventIds: readonly string[]): Promise<Map<string, number>> {
  const slots = new Map<string, number>();
  for (let i = 0; i < eventIds.length; i += 500) {
    const rows = await db.selectFrom('instance_slots').select(['event_id', 'slot_start_ms']).where('event_id', 'in', eventIds.slice(i, i + 500)).execute();
    for (const row of rows) slots.set(row.event_id, Number(row.slot_start_ms));
  }
  return slots;
}
