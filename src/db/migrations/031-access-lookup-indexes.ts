import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * For the sync loop's minute check that bots booked on meetings Rollcall cannot see get their
 * last look before their join time (CalendarSync #reviewLastLooks): indexes that find the
 * calendars that refuse their reader, and the revoked connections, without reading every row
 * (partial, since the rows they hold are rare; SQLite and PostgreSQL alike support them), and
 * `calendar_connections.retry_not_before`, the end of a provider's Retry-After, which no look may
 * come before.
 */
export const accessLookupIndexes: Migration = {
  version: 31,
  name: 'access-lookup-indexes',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_connections').addColumn('retry_not_before', 'bigint').execute();
    await db.schema.createIndex('connected_calendars_refused').on('connected_calendars').column('connection_id')
      .where(sql.ref('access_refused_at'), 'is not', null).execute();
    await db.schema.createIndex('calendar_connections_revoked').on('calendar_connections').column('id')
      .where(sql.ref('status'), '=', sql.lit('auth_revoked')).execute();
  },
};
