import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * What MeetStream's clients need of the data (docs/meetstream-compatibility.md):
 * - The failure status is `Error` (MeetStream's name); stored `Failed` rows, their status changes
 *   and decision details are renamed.
 * - Runtimes may report `Recording` and `Leaving`: a bot in either is still in the meeting, so it
 *   keeps holding its deduplication key (the live-key index is rebuilt with them).
 * - Ad-hoc bots (POST /bots/create_bot): the Idempotency-Key a bot was created with (sha256, one
 *   bot per key and user for the bot's lifetime), when its stored data was deleted, and indexes
 *   for finding a user's bots by key (whatever their status) and newest first.
 * - Chain mode: one row per recurring series whose next occurrence is booked each time the bot of
 *   the current one is launched or its occurrence ends.
 */
export const meetstreamSurface: Migration = {
  version: 8,
  name: 'meetstream-surface',
  async up(db: Kysely<any>) {
    await db.updateTable('bots').set({ status: 'Error' }).where('status', '=', 'Failed').execute();
    await db.updateTable('bot_status_changes').set({ status: 'Error' }).where('status', '=', 'Failed').execute();
    await db.updateTable('bot_decisions')
      .set({ details: sql`replace(details, '"to":"Failed"', '"to":"Error"')` })
      .where('details', 'like', '%"to":"Failed"%')
      .execute();

    // The list must match LIVE_STATUSES (src/domain/bot-status.ts) word for word: SQLite uses a
    // partial index only when the query's predicate is the index's own.
    await db.schema.dropIndex('bots_one_live_per_key').execute();
    await db.schema.createIndex('bots_one_live_per_key').on('bots')
      .columns(['user_id', 'deduplication_key_hash']).unique()
      .where(sql.ref('status'), 'in', sql`('Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving')`)
      .execute();

    await db.schema.alterTable('bots').addColumn('idempotency_key_hash', 'text').execute();
    await db.schema.alterTable('bots').addColumn('data_deleted_at', 'bigint').execute();
    // NULLs are distinct in a unique index on both engines: only bots created with a key count.
    await db.schema.createIndex('bots_user_idempotency_key').on('bots').columns(['user_id', 'idempotency_key_hash']).unique().execute();
    await db.schema.createIndex('bots_user_key').on('bots').columns(['user_id', 'deduplication_key_hash']).execute();
    await db.schema.createIndex('bots_user_created').on('bots').columns(['user_id', 'created_at', 'id']).execute();

    await db.schema.createTable('recurring_chains')
      .addColumn('series_event_id', 'text', (c) => c.primaryKey().references('events.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('is_enabled', 'integer', (c) => c.notNull())
      .addColumn('deduplication_key', 'text')
      .addColumn('bot_config', 'text', (c) => c.notNull())
      .addColumn('current_bot_id', 'text')
      .addColumn('current_occurrence_key', 'text')
      .addColumn('next_check_at_ms', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recurring_chains_enabled').on('recurring_chains').columns(['is_enabled', 'next_check_at_ms']).execute();
  },
};
