import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** The bot statuses of a bot that may still join (LIVE_STATUSES in src/domain/bot-status.ts, as of this migration). */
const LIVE = ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving'];

/**
 * series_bookings: a series booked with schedule_all_occurrences, so that an occurrence that
 * appears later (an RDATE, one moved in, a re-timed series) gets its bot too, up to the last
 * occurrence the batch covered. base_key is the client's key ('' when each occurrence's key was
 * derived from its meeting, DEDUPLICATION_KEY_REQUIRED=false). Unscheduling the series ends it.
 *
 * Before this table the batches were read back from their bots' keys ("<key>@<occurrence>"),
 * which a derived key cannot tell from a single booking and which kept a series the client had
 * unscheduled. The batches of that reading whose bots may still join are recorded here.
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
      .addColumn('until_ms', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('series_bookings_pk', ['series_event_id', 'base_key'])
      .execute();
    await db.schema.createIndex('series_bookings_user').on('series_bookings').column('user_id').execute();

    const rows: { event_id: string; user_id: string; deduplication_key: string; bot_config: string; start_ms: number | string; status: string; updated_at: number | string }[] = await db
      .selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id').innerJoin('events', 'events.id', 'bot_events.event_id')
      .select(['bot_events.event_id', 'bots.user_id', 'bots.deduplication_key', 'bots.bot_config', 'bot_events.start_ms', 'bots.status', 'bots.updated_at'])
      .where('bot_events.occurrence_key', '!=', '').where('events.recurrence', 'is not', null).where('events.is_deleted', '=', 0)
      .orderBy('bot_events.id')
      .execute();
    const batches = new Map<string, { series_event_id: string; base_key: string; user_id: string; bot_config: string; until_ms: number; live: boolean; at: number }>();
    for (const row of rows) {
      const suffix = /@\d{8}T\d{6}Z$/.exec(row.deduplication_key);
      if (!suffix || row.deduplication_key.startsWith('meeting:')) continue;
      const baseKey = row.deduplication_key.slice(0, suffix.index);
      const id = `${row.event_id}|${baseKey}`;
      const batch = batches.get(id);
      batches.set(id, {
        series_event_id: row.event_id, base_key: baseKey, user_id: row.user_id, bot_config: row.bot_config,
        until_ms: Math.max(batch?.until_ms ?? 0, Number(row.start_ms)), live: (batch?.live ?? false) || LIVE.includes(row.status),
        at: Math.max(batch?.at ?? 0, Number(row.updated_at)),
      });
    }
    for (const batch of batches.values()) {
      if (!batch.live) continue;
      await db.insertInto('series_bookings').values({
        series_event_id: batch.series_event_id, base_key: batch.base_key, user_id: batch.user_id, bot_config: batch.bot_config,
        until_ms: batch.until_ms, created_at: batch.at, updated_at: batch.at,
      }).execute();
    }
  },
};
