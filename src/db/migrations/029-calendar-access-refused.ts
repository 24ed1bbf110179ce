import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * A calendar that refuses its reader, or is gone, while its account's other calendars still read:
 * since when. While it is set, a bot whose live links all lead to refused calendars or revoked
 * connections is at risk and is not launched (spec section 12, applied to one calendar); a read
 * that works clears it (src/services/calendars/calendar-sync.ts).
 */
export const calendarAccessRefused: Migration = {
  version: 29,
  name: 'calendar-access-refused',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('access_refused_at', 'bigint').execute();
  },
};
