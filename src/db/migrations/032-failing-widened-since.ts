import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `calendar_connections.failing_widened_since`: in a failing run already reported, since when
 * calendars outside the report (`failing_calendars`) fail too. They join the report once they have
 * failed as long as a run must before it is reported (src/domain/sync-health.ts,
 * failingCalendarsAfter); null: none does.
 */
export const failingWidenedSince: Migration = {
  version: 32,
  name: 'failing-widened-since',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('failing_widened_since', 'bigint').execute();
  },
};
