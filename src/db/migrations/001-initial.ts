import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** Users, API keys, events, bots, their links to events, durable schedules and their logs. */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db: Kysely<any>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    const autoId = (c: any) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());

    await db.schema.createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('webhook_secret', 'text', (c) => c.notNull())
      .addColumn('previous_webhook_secret', 'text')
      .addColumn('webhook_secret_rotated_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema.createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('api_keys_user').on('api_keys').column('user_id').execute();

    await db.schema.createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('calendar_id', 'text')
      .addColumn('provider_event_id', 'text')
      .addColumn('title', 'text')
      .addColumn('description', 'text')
      .addColumn('location', 'text')
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      .addColumn('end_ms', 'bigint', (c) => c.notNull())
      .addColumn('timezone', 'text')
      .addColumn('meeting_url', 'text')
      .addColumn('meeting_platform', 'text')
      .addColumn('meeting_identity', 'text')
      .addColumn('recurrence', 'text')
      .addColumn('recurring_event_id', 'text')
      .addColumn('original_start_ms', 'bigint')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('raw', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_user_start').on('events').columns(['user_id', 'start_ms', 'id']).execute();
    await db.schema.createIndex('events_series').on('events').columns(['recurring_event_id', 'original_start_ms']).execute();
    // One live override per occurrence of a series.
    await db.schema.createIndex('events_one_override_per_occurrence').on('events')
      .columns(['recurring_event_id', 'original_start_ms']).unique()
      .where(sql.ref('is_deleted'), '=', 0).where(sql.ref('recurring_event_id'), 'is not', null)
      .execute();

    await db.schema.createTable('bots')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('deduplication_key', 'text', (c) => c.notNull())
      .addColumn('meeting_url', 'text', (c) => c.notNull())
      .addColumn('meeting_platform', 'text')
      .addColumn('meeting_identity', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('bot_config', 'text', (c) => c.notNull())
      .addColumn('custom_attributes', 'text', (c) => c.notNull())
      .addColumn('join_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('is_join_time_pinned', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('meeting_end_ms', 'bigint', (c) => c.notNull())
      .addColumn('launched_at', 'bigint')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // The deduplication rule lives here: one unfinished bot per (user, key).
    await db.schema.createIndex('bots_one_live_per_key').on('bots')
      .columns(['user_id', 'deduplication_key']).unique()
      .where(sql.ref('status'), 'in', sql`('Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting')`)
      .execute();
    await db.schema.createIndex('bots_user_join').on('bots').columns(['user_id', 'join_at_ms', 'id']).execute();

    await db.schema.createTable('bot_events')
      .addColumn('id', serial, autoId)
      .addColumn('bot_id', 'text', (c) => c.notNull().references('bots.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull().references('events.id'))
      .addColumn('occurrence_key', 'text', (c) => c.notNull())
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      .addColumn('end_ms', 'bigint', (c) => c.notNull())
      .addColumn('is_live', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // An event (or one occurrence of it) has at most one live bot.
    await db.schema.createIndex('bot_events_one_live_per_occurrence').on('bot_events')
      .columns(['event_id', 'occurrence_key']).unique()
      .where(sql.ref('is_live'), '=', 1)
      .execute();
    await db.schema.createIndex('bot_events_bot').on('bot_events').column('bot_id').execute();
    await db.schema.createIndex('bot_events_event').on('bot_events').column('event_id').execute();

    await db.schema.createTable('schedules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('bot_id', 'text', (c) => c.notNull().unique().references('bots.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('schedule_group', 'text', (c) => c.notNull())
      .addColumn('due_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until_ms', 'bigint')
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('status_token', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('schedules_due').on('schedules').columns(['state', 'due_at_ms']).execute();
    // Finds leases that ran out (a dead instance's claims) without scanning the held rows.
    await db.schema.createIndex('schedules_lease').on('schedules').columns(['state', 'lease_until_ms']).execute();

    await db.schema.createTable('bot_decisions')
      .addColumn('id', serial, autoId)
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bot_decisions_bot').on('bot_decisions').columns(['bot_id', 'id']).execute();

    await db.schema.createTable('bot_status_changes')
      .addColumn('id', serial, autoId)
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('at_ms', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bot_status_changes_bot').on('bot_status_changes').columns(['bot_id', 'id']).execute();

    await db.schema.createTable('webhook_deliveries')
      .addColumn('id', serial, autoId)
      .addColumn('message_id', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('lease_until_ms', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries')
      .columns(['state', 'next_attempt_at_ms']).execute();
    await db.schema.createIndex('webhook_deliveries_bot').on('webhook_deliveries').columns(['bot_id', 'id']).execute();
  },
};
