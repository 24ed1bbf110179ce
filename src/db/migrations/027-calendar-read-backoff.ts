import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * A calendar that fails on its own (refused, gone, too large to sync) while its account's other
 * calendars sync: how many reads in a row failed, the failure ("kind: message"), and when it is
 * read again. Until then a sync counts it as failing without reading it, so that a calendar
 * refused as too large is not read whole at every sync (src/services/calendars/calendar-sync.ts).
 */
export const calendarReadBackoff: Migration = {
  version: 27,
  name: 'calendar-read-backoff',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('read_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('connected_calendars').addColumn('read_error', 'text').execute();
    await db.schema.alterTable('connected_calendars').addColumn('next_read_at', 'bigint').execute();
  },
};
