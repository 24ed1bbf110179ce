import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * The Ended list breaks ties between bots that ended at the same instant (a series cancelled from a
 * date ends all its bots in one change) by join time, the soonest meeting first, then id: they had
 * come in the order of their random ids. `bots_user_ended_join` (user, ended_at_ms descending, join
 * time, id) is read in that order from a page's cursor on; it replaces `bots_user_ended` (migration
 * 034), which nothing else reads.
 */
export const endedJoinOrder: Migration = {
  version: 37,
  name: 'ended-join-order',
  async up(db: Kysely<any>) {
    await db.schema.createIndex('bots_user_ended_join').on('bots').columns(['user_id', 'ended_at_ms desc', 'join_at_ms', 'id']).execute();
    await db.schema.dropIndex('bots_user_ended').execute();
  },
};
