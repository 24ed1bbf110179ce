// Data access for series booked with schedule_all_occurrences (series_bookings, migration 017):
// what auto-schedule's top-up books later occurrences from.
import { sql, type Selectable } from 'kysely';
import type { Engine } from '../db/database.ts';
import type { SeriesBookingsTable } from '../db/schema.ts';
import type { Db } from './event-store.ts';

export type SeriesBookingRow = Selectable<SeriesBookingsTable>;
/** A batch as one reader saw it. */
export interface SeriesBookingVersion { seriesId: string; baseKey: string; version: number }

/** before_ms of a batch nothing has cut short: the end of year 9999 (the latest instant Rollcall keeps). */
export const NO_END_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Records a batch, or replaces the one under the same key by the latest request's (a new booking reopens an ended one). */
export async function saveSeriesBooking(db: Db, batch: Pick<SeriesBookingRow, 'series_event_id' | 'base_key' | 'user_id' | 'bot_config' | 'from_ms' | 'occurrence_count'>, nowMs: number): Promise<void> {
  await db.insertInto('series_bookings')
    .values({ ...batch, before_ms: NO_END_MS, version: 1, created_at: nowMs, updated_at: nowMs })
    .onConflict((oc) => oc.columns(['series_event_id', 'base_key']).doUpdateSet({
      bot_config: batch.bot_config, from_ms: batch.from_ms, occurrence_count: batch.occurrence_count, before_ms: NO_END_MS,
      version: sql<number>`series_bookings.version + 1`, updated_at: nowMs,
    }))
    .execute();
}

/**
 * forUpdate (PostgreSQL): locked until the transaction ends, so that an unscheduling that ends the
 * batch meanwhile is seen (it commits first) or sees what this transaction booked (it waits).
 */
export async function findSeriesBooking(db: Db, seriesId: string, baseKey: string, options: { engine?: Engine; forUpdate?: boolean } = {}): Promise<SeriesBookingRow | undefined> {
  let query = db.selectFrom('series_bookings').selectAll().where('series_event_id', '=', seriesId).where('base_key', '=', baseKey);
  if (options.forUpdate && options.engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The user's batches that still cover something. */
export async function listOpenSeriesBookings(db: Db, userId: string): Promise<SeriesBookingRow[]> {
  return db.selectFrom('series_bookings').selectAll().where('user_id', '=', userId).where('occurrence_count', '>', 0)
    .orderBy('created_at').orderBy('series_event_id').orderBy('base_key').execute();
}

/**
 * The series was unscheduled: its batches cover nothing more, or, from `fromMs` on, nothing that
 * starts from then (the occurrences before it stay booked, and topped up). The rows stay, so that
 * a split's carry does not bring a batch back (carrySeriesBookings).
 */
export async function endSeriesBookings(db: Db, seriesId: string, fromMs: number | null, nowMs: number): Promise<void> {
  await db.updateTable('series_bookings')
    .set(fromMs === null
      ? { occurrence_count: 0, version: sql<number>`version + 1`, updated_at: nowMs }
      : { before_ms: sql<number>`case when before_ms < ${fromMs} then before_ms else ${fromMs} end`, version: sql<number>`version + 1`, updated_at: nowMs })
    .where('series_event_id', '=', seriesId).execute();
}

/**
 * The batch's series is gone, or every occurrence it covers is over: nothing is left to top up.
 * Only the version that was read goes: a batch booked again meanwhile covers new occurrences.
 */
export async function deleteSeriesBooking(db: Db, batch: Pick<SeriesBookingRow, 'series_event_id' | 'base_key' | 'version'>): Promise<void> {
  await db.deleteFrom('series_bookings').where('series_event_id', '=', batch.series_event_id).where('base_key', '=', batch.base_key)
    .where('version', '=', batch.version).execute();
}

/**
 * A series split at the provider: its open batches go on in the continuation, once, with what
 * they have left: the occurrences of their count the old series did not use up before the split
 * (`usedBefore`). A continuation that has a batch under the key already (carried before, or
 * unscheduled since) keeps it as it is.
 */
export async function carrySeriesBookings(db: Db, fromSeriesId: string, toSeriesId: string, nowMs: number, usedBefore: (batch: SeriesBookingRow) => Promise<number>): Promise<void> {
  const batches = await db.selectFrom('series_bookings').selectAll().where('series_event_id', '=', fromSeriesId).where('occurrence_count', '>', 0).execute();
  for (const batch of batches) {
    const left = batch.occurrence_count - await usedBefore(batch);
    if (left <= 0) continue;
    await db.insertInto('series_bookings')
      .values({ ...batch, series_event_id: toSeriesId, occurrence_count: left, version: 1, created_at: nowMs, updated_at: nowMs })
      .onConflict((oc) => oc.columns(['series_event_id', 'base_key']).doNothing())
      .execute();
  }
}
