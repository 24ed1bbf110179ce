// Data access for series booked with schedule_all_occurrences (series_bookings, migration 017):
// what auto-schedule's top-up books later occurrences from.
import { sql, type Selectable } from 'kysely';
import type { SeriesBookingsTable } from '../db/schema.ts';
import type { Db } from './event-store.ts';

export type SeriesBookingRow = Selectable<SeriesBookingsTable>;

/**
 * Records a batch, or widens the one under the same key: the latest config, and the later of the
 * two last occurrences (a batch repeated with a smaller occurrence_limit keeps what it covered).
 */
export async function saveSeriesBooking(db: Db, row: Omit<SeriesBookingRow, 'created_at' | 'updated_at'>, nowMs: number): Promise<void> {
  await db.insertInto('series_bookings')
    .values({ ...row, created_at: nowMs, updated_at: nowMs })
    .onConflict((oc) => oc.columns(['series_event_id', 'base_key']).doUpdateSet({
      bot_config: row.bot_config,
      until_ms: sql<number>`case when series_bookings.until_ms > ${row.until_ms} then series_bookings.until_ms else ${row.until_ms} end`,
      updated_at: nowMs,
    }))
    .execute();
}

export async function listSeriesBookings(db: Db, userId: string): Promise<SeriesBookingRow[]> {
  return db.selectFrom('series_bookings').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('series_event_id').orderBy('base_key').execute();
}

/**
 * The series was unscheduled: its batches end, or from `fromMs` on they stop short of it (the
 * occurrences before it stay booked, and so do their top-ups).
 */
export async function endSeriesBookings(db: Db, seriesId: string, fromMs: number | null, nowMs: number): Promise<void> {
  if (fromMs === null) {
    await db.deleteFrom('series_bookings').where('series_event_id', '=', seriesId).execute();
    return;
  }
  await db.updateTable('series_bookings').set({ until_ms: fromMs - 1, updated_at: nowMs })
    .where('series_event_id', '=', seriesId).where('until_ms', '>=', fromMs).execute();
}

/** The batch's series is gone: nothing is left to top up. */
export async function deleteSeriesBooking(db: Db, seriesId: string, baseKey: string): Promise<void> {
  await db.deleteFrom('series_bookings').where('series_event_id', '=', seriesId).where('base_key', '=', baseKey).execute();
}

/** A series split at the provider: its batches that reach past the split go on in the continuation. */
export async function carrySeriesBookings(db: Db, fromSeriesId: string, toSeriesId: string, reachingMs: number, nowMs: number): Promise<void> {
  const batches = await db.selectFrom('series_bookings').selectAll().where('series_event_id', '=', fromSeriesId).where('until_ms', '>=', reachingMs).execute();
  for (const batch of batches) {
    await saveSeriesBooking(db, { series_event_id: toSeriesId, base_key: batch.base_key, user_id: batch.user_id, bot_config: batch.bot_config, until_ms: Number(batch.until_ms) }, nowMs);
  }
}
