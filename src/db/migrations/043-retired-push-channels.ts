import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `retired_push_channels`: channels replaced by a renewal (or of a calendar no longer synced)
 * whose stop the provider has not confirmed yet. A Google channel not stopped notifies until it
 * expires, up to 7 days on: a later sync of the connection asks to stop it again once
 * `next_stop_at` has come (a backoff growing with `stop_attempts`, so that a stop Google keeps
 * failing or leaves hanging is not asked at every sync), and the row goes once it is stopped,
 * gone at the provider or expired (src/services/calendars/calendar-sync.ts, #stopRetiredChannels).
 * Its token hash and resource id tell a notification it still sends from a forged one. Deleted
 * with its connection.
 */
export const retiredPushChannels: Migration = {
  version: 43,
  name: 'retired-push-channels',
  async up(db: Kysely<any>, engine) {
    await db.schema.createTable('retired_push_channels')
      .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('connection_id', 'text', (c) => c.notNull().references('calendar_connections.id').onDelete('cascade'))
      .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text')
      .addColumn('secret_hash', 'text')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('stop_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('next_stop_at', 'bigint')
      .addColumn('retired_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('retired_push_channels_connection').on('retired_push_channels').column('connection_id').execute();
    await db.schema.createIndex('retired_push_channels_channel').on('retired_push_channels').column('channel_id').execute();
  },
};
