import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Calendar connections (ICS feeds, Google, Microsoft), the provider calendars each one syncs with
 * their sync cursors and push channels, per-user auto-schedule settings, and the index that lets
 * a sync upsert events by the provider's identity.
 */
export const calendarConnections: Migration = {
  version: 2,
  name: 'calendar-connections',
  async up(db: Kysely<any>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    const autoId = (c: any) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());

    await db.schema.createTable('calendar_connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('user_email', 'text')
      .addColumn('user_name', 'text')
      .addColumn('display_url', 'text')
      .addColumn('credentials', 'text')
      .addColumn('callback_url', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_sync_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('last_error_at', 'bigint')
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_sync_at', 'bigint')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // One connection per account and provider for a user: connecting again replaces it.
    await db.schema.createIndex('calendar_connections_one_per_account').on('calendar_connections')
      .columns(['user_id', 'provider', 'account_id']).unique().execute();
    await db.schema.createIndex('calendar_connections_due').on('calendar_connections').columns(['next_sync_at']).execute();

    await db.schema.createTable('connected_calendars')
      .addColumn('id', serial, autoId)
      .addColumn('connection_id', 'text', (c) => c.notNull().references('calendar_connections.id').onDelete('cascade'))
      .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('time_zone', 'text')
      .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sync_cursor', 'text')
      .addColumn('last_full_sync_at', 'bigint')
      .addColumn('push_channel_id', 'text')
      .addColumn('push_resource_id', 'text')
      .addColumn('push_secret_hash', 'text')
      .addColumn('push_expires_at', 'bigint')
      .addColumn('push_last_message_at', 'bigint')
      .addColumn('push_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('connected_calendars_one_per_calendar').on('connected_calendars')
      .columns(['connection_id', 'provider_calendar_id']).unique().execute();
    await db.schema.createIndex('connected_calendars_push_channel').on('connected_calendars').column('push_channel_id').execute();

    await db.schema.createTable('auto_schedule_settings')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
      .addColumn('is_enabled', 'integer', (c) => c.notNull())
      .addColumn('default_bot_config', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    // A synced event is found again by (connection, provider id): repeated syncs update it in place.
    // NULLs are distinct on both engines, so API-written events (no provider id) are unaffected.
    await db.schema.createIndex('events_one_per_provider_event').on('events')
      .columns(['calendar_id', 'provider_event_id']).unique().execute();
    await db.schema.createIndex('events_calendar').on('events').columns(['calendar_id', 'is_deleted']).execute();
  },
};
