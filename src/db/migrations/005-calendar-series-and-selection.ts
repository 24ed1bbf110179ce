import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Calendar sync as the providers really behave:
 * - `events.provider_series_id`: for providers that deliver expanded instances (Graph), the
 *   provider id of the series an instance belongs to, so that a delta round that brings a series
 *   master with its instances can tell which stored instances of that series are gone.
 * - `calendar_connections.calendar_selection`: which calendars of the account are synced, chosen
 *   at connect time: null (every calendar of the account, the default) or a JSON array of ids.
 * - `calendar_connections.calendars_listed_at`: when the account's calendar list was last read,
 *   so that calendars added later are discovered without listing them on every sync.
 */
export const calendarSeriesAndSelection: Migration = {
  version: 5,
  name: 'calendar-series-and-selection',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('provider_series_id', 'text').execute();
    await db.schema.createIndex('events_provider_series').on('events').columns(['calendar_id', 'provider_series_id']).execute();
    await db.schema.alterTable('calendar_connections').addColumn('calendar_selection', 'text').execute();
    await db.schema.alterTable('calendar_connections').addColumn('calendars_listed_at', 'bigint').execute();
  },
};
