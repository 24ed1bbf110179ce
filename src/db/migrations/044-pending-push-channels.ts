import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `pending_push_channels`: a channel being opened, written before events.watch or POST
 * /subscriptions is sent and deleted in the write that stores its answer. One left over is a call
 * whose answer never came (a timeout, a reset connection, a crash between the call and the
 * write): the provider may have made the channel, which then notifies until it expires. A
 * notification that names it (Google: the channel id Rollcall chose and its token; Graph: the
 * clientState secret, whose hash is `secret_hash`) fills in what stopping it needs (Google's
 * resource id, Graph's subscription id), and the next sync moves it to retired_push_channels to be
 * stopped; one that hears nothing by `expires_at` (the expiry asked for) is dropped. Deleted with
 * its connection.
 */
export const pendingPushChannels: Migration = {
  version: 44,
  name: 'pending-push-channels',
  async up(db: Kysely<any>, engine) {
    await db.schema.createTable('pending_push_channels')
      .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('connection_id', 'text', (c) => c.notNull().references('calendar_connections.id').onDelete('cascade'))
      .addColumn('provider_calendar_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text')
      .addColumn('resource_id', 'text')
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('opened_at', 'bigint', (c) => c.notNull())
      .addColumn('heard_at', 'bigint')
      .execute();
    await db.schema.createIndex('pending_push_channels_connection').on('pending_push_channels').column('connection_id').execute();
    await db.schema.createIndex('pending_push_channels_channel').on('pending_push_channels').column('channel_id').execute();
    await db.schema.createIndex('pending_push_channels_secret').on('pending_push_channels').column('secret_hash').execute();
  },
};
