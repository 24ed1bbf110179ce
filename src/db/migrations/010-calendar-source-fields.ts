import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Where a synced event came from, kept on the event itself, and each account's calendar list:
 * - `events.platform`: `google_calendar`, `outlook_calendar` or `ics` for a synced event, null for
 *   one written through the API. Kept on the row because an event can outlive its connection
 *   (a disconnect with `purge_events: false` keeps the rows and detaches them).
 * - `events.provider_calendar_id`: the provider's id of the calendar a Google or Microsoft event
 *   is on (null for ICS and API-written events), so that `GET /calendar/events?calendar_id=`
 *   takes the provider's calendar id and `platform_id` can be read without parsing the stored key.
 * - `calendar_connections.calendar_list`: the account's calendar list as last read (JSON), every
 *   calendar and not only the synced ones, for `GET /calendar`.
 *
 * Existing rows are filled in: the platform from the connection, the calendar from the prefix of
 * the stored key (`<provider calendar id>/<provider event id>`, the longest matching calendar
 * of the connection). Google and Microsoft connections get their calendar list read again at
 * their next sync (calendars_listed_at cleared).
 */
export const calendarSourceFields: Migration = {
  version: 10,
  name: 'calendar-source-fields',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('events').addColumn('platform', 'text').execute();
    await db.schema.alterTable('events').addColumn('provider_calendar_id', 'text').execute();
    await db.schema.alterTable('calendar_connections').addColumn('calendar_list', 'text').execute();
    await sql`
      update events set platform = (
        select case c.provider when 'google' then 'google_calendar' when 'microsoft' then 'outlook_calendar' else 'ics' end
        from calendar_connections c where c.id = events.calendar_id
      ) where calendar_id is not null`.execute(db);
    await sql`
      update events set provider_calendar_id = (
        select cc.provider_calendar_id from connected_calendars cc
        where cc.connection_id = events.calendar_id and cc.provider_calendar_id <> ''
          and substr(events.provider_event_id, 1, length(cc.provider_calendar_id) + 1) = cc.provider_calendar_id || '/'
        order by length(cc.provider_calendar_id) desc limit 1
      ) where calendar_id is not null and platform in ('google_calendar', 'outlook_calendar')`.execute(db);
    await sql`update calendar_connections set calendars_listed_at = null where provider <> 'ics'`.execute(db);
  },
};
