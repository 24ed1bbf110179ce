import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * One live bot per (user, deduplication key) is now enforced on a flag of its own: bots.is_live is
 * 1 while the bot is live and 0 once it has ended (set by transitionBot, the one place a bot stops
 * being live). The unique index used to be partial on the status, so every status change, even
 * between two live statuses, rewrote its entry: on SQLite the launch's Scheduled -> Joining spent
 * more time in that index than in the rest of the update (due-instant confirmation of 10,000 bots:
 * the bots' update 97-112 ms with it, 28-29 ms without; the commit 49-54 ms against 17-18 ms).
 * The flag does not change at a launch, so neither does the index.
 */
export const liveKeyFlag: Migration = {
  version: 12,
  name: 'live-key-flag',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('is_live', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // The live statuses as migration 008 wrote them into the index this one replaces.
    await sql`update bots set is_live = 1 where status in ('Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving')`.execute(db);
    await db.schema.dropIndex('bots_one_live_per_key').execute();
    await db.schema.createIndex('bots_one_live_per_key').on('bots').columns(['user_id', 'deduplication_key_hash']).unique()
      .where(sql.ref('is_live'), '=', sql.lit(1)).execute();
  },
};
