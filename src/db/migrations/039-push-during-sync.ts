import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `calendar_connections.pushed_during`: the lease token of the sync that held the connection when
 * a push notification for it arrived. That sync may have read the calendar before the change the
 * push announces; when it ends, a connection whose token is still there is made due at once, so
 * the change is read by the next sync rather than at the next routine look (hours away with push
 * on). Null: no push came during a sync.
 */
export const pushDuringSync: Migration = {
  version: 39,
  name: 'push-during-sync',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('pushed_during', 'text').execute();
  },
};
