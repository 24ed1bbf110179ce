import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `dashboard_sessions.last_seen_at`: when the session was last used (to the minute; see
 * src/services/access/dashboard-sessions.ts), for the idle timeout (DASHBOARD_SESSION_IDLE_MINUTES).
 * Null means not used since it was opened, and is read as `created_at`: rows from before this
 * column, and a row an instance still running the previous release writes during an upgrade, then
 * idle from their sign-in, with nothing to backfill.
 */
export const sessionLastSeen: Migration = {
  version: 41,
  name: 'session-last-seen',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('dashboard_sessions').addColumn('last_seen_at', 'bigint').execute();
  },
};
