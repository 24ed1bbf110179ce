import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * connected_calendars.missed_ids: the ids a failed read of the calendar listed live that the
 * provider did not find (Graph answers 404 at times for an event it has), as a JSON array; null
 * once a read works. The next read knows them as missed before and lets their listed copies stand
 * rather than failing again (microsoft-calendar-provider.ts, #settledItems). Before, it was told
 * from the text of the last failure, which is cut at 500 characters: a read that missed three or
 * more Graph ids (about 150 characters each) named some of them past the cut, failing every read.
 */
export const calendarMissedIds: Migration = {
  version: 45,
  name: 'calendar-missed-ids',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('missed_ids', 'text').execute();
  },
};
