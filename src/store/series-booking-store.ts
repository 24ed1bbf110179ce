// Data access for series booked with schedule_all_occurrences (series_bookings, migration 017):
// what auto-schedule's top-up books later occurrences from.
import { sql, type Selectable } from 'kysely';
import type { Engine } from '../db/database.ts';
import type { SeriesBookingsTable } from '../db/schema.ts';
import type { Db } from './event-store.ts';

export type SeriesBookingRow = Selectable<SeriesBookingsTable>;
/** A batch as one reader saw it: a writer changes updated_at. */
export interface SeriesBookingVersion { seriesId: string; baseKey: string; updatedAt: number }
type Batch = Omit<SeriesBookingRow, 'created_at' | 'updated_at'>;

/**
 * Records a batch, or replaces the one under the same key by the latest request's, keeping the
 * later last occurrence of the two (a batch repeated with a smaller occurrence_limit keeps what
 * it covered).
 */
export async function saveSeriesBooking(db: Db, batch: Batch, nowMs: number): Promise<void> {
  await db.insertInto('series_bookings')
    .values({ ...batch, created_at: nowMs, updated_at: nowMs })
    .onConflict((oc) => oc.columns(['series_event_id', 'base_key']).doUpdateSet({
      bot_config: batch.bot_config,
      from_ms: batch.from_ms,
      occurrence_count: batch.occurrence_count,
      until_ms: sql<number>`case when series_bookings.until_ms > excluded.until_ms then series_bookings.until_ms else excluded.until_ms end`,
      updated_at: nowMs,
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

/** The user's batches that may still cover an occurrence to come. */
export async function listOpenSeriesBookings(db: Db, userId: string): Promise<SeriesBookingRow[]> {
  return db.selectFrom('series_bookings').selectAll().where('user_id', '=', userId).where((eb) => eb.or([eb('until_ms', '>', 0), eb('occurrence_count', '>', 0)]))
    .orderBy('created_at').orderBy('series_event_id').orderBy('base_key').execute();
}

/**
 * The series was unscheduled: its batches cover nothing more, or, from `fromMs` on, nothing after
 * it (the occurrences before it stay booked and topped up). The rows stay, so that a split's carry
 * does not bring a batch back (carrySeriesBookings).
 */
export async function endSeriesBookings(db: Db, seriesId: string, fromMs: number | null, nowMs: number): Promise<void> {
  await db.updateTable('series_bookings')
    .set({ until_ms: fromMs === null ? 0 : sql<number>`case when until_ms < ${fromMs - 1} then until_ms else ${fromMs - 1} end`, occurrence_count: 0, updated_at: nowMs })
    .where('series_event_id', '=', seriesId).execute();
}

/** The batch's series is gone, or it covers nothing to come: nothing is left to top up. */
export async function deleteSeriesBooking(db: Db, seriesId: string, baseKey: string): Promise<void> {
  await db.deleteFrom('series_bookings').where('series_event_id', '=', seriesId).where('base_key', '=', baseKey).execute();
}

/**
 * A series split at the provider: its batches that still reach past the split go on in the
 * continuation, once, with what they had left: the occurrences of their count that the old series
 * did not use up before the split (`usedBefore`), and their last occurrence as booked. A
 * continuation that has a batch under the key already (carried before, or unscheduled since)
 * keeps it as it is.
 */
export async function carrySeriesBookings(db: Db, fromSeriesId: string, toSeriesId: string, splitMs: number, nowMs: number, usedBefore: (batch: SeriesBookingRow) => number): Promise<void> {
  const batches = await db.selectFrom('series_bookings').selectAll().where('series_event_id', '=', fromSeriesId)
    .where((eb) => eb.or([eb('until_ms', '>=', Math.max(splitMs, nowMs)), eb('occurrence_count', '>', 0)])).execute();
  for (const batch of batches) {
    const left = Math.max(0, batch.occurrence_count - usedBefore(batch));
    if (left === 0 && Number(batch.until_ms) < Math.max(splitMs, nowMs)) continue;
    await db.insertInto('series_bookings')
      .values({ ...batch, series_event_id: toSeriesId, occurrence_count: left, created_at: nowMs, updated_at: nowMs })
      .onConflict((oc) => oc.columns(['series_event_id', 'base_key']).doNothing())
      .execute();
  }
}
