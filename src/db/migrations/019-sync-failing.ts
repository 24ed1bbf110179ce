import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * calendar_connections.failing_since and failing_reported_at: when the current run of failed
 * syncs began, and when it was reported to the client (calendar.sync_failing). Both null while
 * the last sync worked (src/domain/sync-health.ts).
 */
export const syncFailing: Migration = {
  version: 19,
  name: 'sync-failing',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('failing_since', 'bigint').execute();
    await db.schema.alterTable('calendar_connections').addColumn('failing_reported_at', 'bigint').execute();
  },
};
