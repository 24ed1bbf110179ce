import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `events.zone_rules`: an ICS series whose zone no IANA zone keeps (an Outlook "Customized Time
 * Zone") keeps its VTIMEZONE's observances (domain/observed-offsets.ts, observancesText), and is
 * expanded by them in every year; its `timezone` is then a fixed-offset stand-in, for display.
 * Null for every other event. A series stored before this change has none until its feed's next
 * read writes them (with its lines, which no longer carry EXDATE/RDATE corrections).
 */
export const seriesZoneRules: Migration = {
  version: 49,
  name: 'series-zone-rules',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('zone_rules', 'text').execute();
  },
};
