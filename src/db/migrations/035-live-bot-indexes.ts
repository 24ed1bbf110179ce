import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Indexes over live bots only (partial on is_live = 1, which SQLite and PostgreSQL both support),
 * for reads that ask for live bots and were walking every bot a user or the service ever had:
 * - `bots_user_live_join` (user, join time, id): the upcoming and scheduled lists, the launch
 *   chart, and auto-schedule's look for a live bot in the same meeting. bots_user_join starts at
 *   the user's oldest bot, so a user with 40,000 ended bots had every list page skip them all
 *   (13 ms on SQLite, 10-37 ms on PostgreSQL; 0.2-0.3 ms on this index).
 * - `bots_live_meeting_end` (meeting end): the silent-bot sweep's live bots whose meeting is over
 *   (12-21 ms a sweep over 60,000 bots; 0.03 ms).
 * A query uses them only with `is_live = 1` among its conditions.
 */
export const liveBotIndexes: Migration = {
  version: 35,
  name: 'live-bot-indexes',
  async up(db: Kysely<any>) {
    await db.schema.createIndex('bots_user_live_join').on('bots').columns(['user_id', 'join_at_ms', 'id'])
      .where(sql.ref('is_live'), '=', sql.lit(1)).execute();
    await db.schema.createIndex('bots_live_meeting_end').on('bots').column('meeting_end_ms')
      .where(sql.ref('is_live'), '=', sql.lit(1)).execute();
  },
};
