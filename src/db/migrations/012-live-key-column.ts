import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * One live bot per (user, deduplication key) is now enforced on a column of its own: live_key_hash
 * holds the key's hash while the bot is live and is null once it ends (set by transitionBot, the
 * one place a bot stops being live). The unique index used to be partial on the status, so every
 * status change, even between two live statuses, rewrote its entry: on SQLite the launch's
 * Scheduled -> Joining spent more time in that index than in the rest of the update (due-instant
 * confirmation of 10,000 bots: the bots' update 97-112 ms with it, 28-29 ms without; the commit
 * 49-54 ms against 17-18 ms). On PostgreSQL no index mentions the status any more, so a status
 * change can be a heap-only update where the page has room.
 */
export const liveKeyColumn: Migration = {
  version: 12,
  name: 'live-key-column',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('live_key_hash', 'text').execute();
    // The live statuses as migration 008 wrote them into the index this one replaces.
    await sql`update bots set live_key_hash = deduplication_key_hash
               where status in ('Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving')`.execute(db);
    await db.schema.dropIndex('bots_one_live_per_key').execute();
    await db.schema.createIndex('bots_one_live_per_key').on('bots').columns(['user_id', 'live_key_hash']).unique()
      .where(sql.ref('live_key_hash'), 'is not', null).execute();
  },
};
