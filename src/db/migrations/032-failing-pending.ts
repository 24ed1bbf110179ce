import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `calendar_connections.failing_pending`: in a failing run already reported, the calendars that
 * fail outside the report (`failing_calendars`), each with the first failed sync that saw it fail
 * (JSON, provider id to epoch ms; null: none). Each joins the report once it has failed as long as
 * a run must before it is reported (src/domain/sync-health.ts, failingCalendarsAfter).
 */
export const failingPending: Migration = {
  version: 32,
  name: 'failing-pending',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('failing_pending', 'text').execute();
  },
};
