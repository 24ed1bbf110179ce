import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** before_ms of a batch nothing has cut short: the end of year 9999 (the latest instant Rollcall keeps). */
const NO_END_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * series_bookings: a series booked with schedule_all_occurrences, so that an occurrence that
 * appears later (an RDATE, the series re-timed or extended) gets its bot too, inside what the
 * batch covered: the first `occurrence_count` occurrences of the series (by original start) not
 * ended at `from_ms` (the booking), of those starting before `before_ms` (moved only by
 * unscheduling with from_date). base_key is the client's key ('' when each occurrence's key was
 * derived from its meeting, DEDUPLICATION_KEY_REQUIRED=false). Unscheduling the series ends it:
 * the row stays covering nothing (count 0), so that a split's carry does not bring it back.
 * `version` moves on with every write: a top-up books for the version it read.
 *
 * Before this table the batches were read back from their bots' keys ("<key>@<occurrence>"),
 * which a derived key cannot tell from a single booking and which kept a series the client had
 * unscheduled. The batches of that reading with a link still live are recorded here (chain mode,
 * whose keys look the same, books its series itself and is left out).
 */
export const seriesBookings: Migration = {
  version: 17,
  name: 'series-bookings',
  async up(db: Kysely<any>) {
    await db.schema.createTable('series_bookings')
      .addColumn('series_event_id', 'text', (c) => c.notNull())
      .addColumn('base_key', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('bot_config', 'text', (c) => c.notNull())
      .addColumn('from_ms', 'bigint', (c) => c.notNull())
      .addColumn('occurrence_count', 'integer', (c) => c.notNull())
      .addColumn('before_ms', 'bigint', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('series_bookings_pk', ['series_event_id', 'base_key'])
      .execute();
    await db.schema.createIndex('series_bookings_user').on('series_bookings').column('user_id').execute();

    const rows: { event_id: string; user_id: string; deduplication_key: string; bot_config: string; is_live: number; created_at: number | string }[] = await db
      .selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id').innerJoin('events', 'events.id', 'bot_events.event_id')
      .select(['bot_events.event_id', 'bots.user_id', 'bots.deduplication_key', 'bots.bot_config', 'bot_events.is_live', 'bots.created_at'])
      .where('bot_events.occurrence_key', '!=', '').where('events.recurrence', 'is not', null).where('events.is_deleted', '=', 0)
      .where('bots.deduplication_key', 'like', '%@%')
      .orderBy('bot_events.id')
      .execute();
    const chains = new Set((await db.selectFrom('recurring_chains').select(['series_event_id', 'deduplication_key']).where('deduplication_key', 'is not', null).execute())
      .map((c: { series_event_id: string; deduplication_key: string }) => JSON.stringify([c.series_event_id, c.deduplication_key])));
    const batches = new Map<string, { series_event_id: string; base_key: string; user_id: string; bot_config: string; from_ms: number; count: number; live: boolean }>();
    for (const row of rows) {
      const suffix = /@\d{8}T\d{6}Z$/.exec(row.deduplication_key);
      if (!suffix || row.deduplication_key.startsWith('meeting:')) continue;
      const baseKey = row.deduplication_key.slice(0, suffix.index);
      const id = JSON.stringify([row.event_id, baseKey]);
      if (chains.has(id)) continue;
      const batch = batches.get(id);
      batches.set(id, {
        series_event_id: row.event_id, base_key: baseKey, user_id: row.user_id, bot_config: row.bot_config,
        from_ms: Math.min(batch?.from_ms ?? Infinity, Number(row.created_at)), count: (batch?.count ?? 0) + 1,
        live: (batch?.live ?? false) || row.is_live === 1,
      });
    }
    for (const batch of batches.values()) {
      if (!batch.live) continue;
      await db.insertInto('series_bookings').values({
        series_event_id: batch.series_event_id, base_key: batch.base_key, user_id: batch.user_id, bot_config: batch.bot_config,
        from_ms: batch.from_ms, occurrence_count: batch.count, before_ms: NO_END_MS, version: 1, created_at: batch.from_ms, updated_at: batch.from_ms,
      }).execute();
    }
  },
};
