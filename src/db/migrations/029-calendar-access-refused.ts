import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * A calendar that refuses its reader, or is gone, while its account's other calendars still read:
 * since when. While it is set, a bot whose live links all lead to refused calendars or revoked
 * connections is at risk and is not launched (spec section 12, applied to one calendar); a read
 * that works clears it (src/services/calendars/calendar-sync.ts). And the calendars a connection's
 * failing-sync report was about (`failing_calendars`, JSON provider ids; null: the whole
 * connection), so that only their bots wait for its end before hearing that syncing works again.
 */
export const calendarAccessRefused: Migration = {
  version: 29,
  name: 'calendar-access-refused',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('connected_calendars').addColumn('access_refused_at', 'bigint').execute();
    await db.schema.alterTable('calendar_connections').addColumn('failing_calendars', 'text').execute();
  },
};
