// A database of its own for a migration test: migrated up to (not including) a version, with one
// user, handed to the test and dropped afterwards. The test then writes rows as the older schema
// had them and migrates the rest of the way.
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { createTestDatabase } from './harness.ts';

export async function withSchemaBefore(version: number, userId: string, work: (database: Database) => Promise<void>): Promise<void> {
  const testDb = await createTestDatabase();
  const database = await testDb.open();
  try {
    await migrate(database.db, database.engine, MIGRATIONS.filter((m) => m.version < version));
    await database.db.insertInto('users').values({ id: userId, name: userId, webhook_secret: 'whsec_x', webhook_secret_rotated_at: null, created_at: 0 }).execute();
    await work(database);
  } finally {
    await database.close();
    await testDb.drop();
  }
}

// Rows as the schemas of the last releases had them (every column those migrations' tests write),
// for a test to insert before it migrates the rest of the way. `at` is every row's creation time.

/** A calendar connection, active, never synced. */
export function oldConnectionRow(id: string, userId: string, provider: string, at: number) {
  return {
    id, user_id: userId, provider, account_id: `${id}@example.com`, user_email: null, user_name: null, display_url: null, credentials: null, callback_url: null,
    status: 'active', last_sync_at: null, last_error: null, last_error_at: null, consecutive_failures: 0, next_sync_at: null, lease_until: null,
    created_at: at, updated_at: at, calendar_selection: null, calendars_listed_at: at,
  };
}

/** A connection's calendar, primary, with no push channel; `cursor` as stored (JSON text, or null). */
export function oldCalendarRow(connectionId: string, providerCalendarId: string, cursor: string | null, at: number) {
  return {
    connection_id: connectionId, provider_calendar_id: providerCalendarId, name: null, time_zone: null, is_primary: 1, sync_cursor: cursor, last_full_sync_at: null,
    push_channel_id: null, push_resource_id: null, push_secret_hash: null, push_expires_at: null, push_last_message_at: null, push_error: null, created_at: at, updated_at: at,
  };
}

/** An event of a calendar, an hour from `at`, confirmed, titled by its id; `fields` overrides any column. */
export function oldEventRow(id: string, userId: string, calendarId: string | null, at: number, fields: Record<string, unknown> = {}) {
  return {
    id, user_id: userId, calendar_id: calendarId, provider_event_id: calendarId === null ? null : id, title: id, description: null, location: null, start_ms: at, end_ms: at + 3_600_000,
    timezone: 'UTC', meeting_url: null, meeting_platform: null, meeting_identity: null, recurrence: null, recurring_event_id: null, original_start_ms: null,
    status: 'confirmed', is_deleted: 0, raw: '{}', created_at: at, updated_at: at, provider_series_id: null, platform: null, provider_calendar_id: null,
    ...fields,
  };
}
