import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/** Update and stop commands for bots already handed to a runtime, delivered like an outbox. */
export const runtimeCommands: Migration = {
  version: 3,
  name: 'runtime-commands',
  async up(db: Kysely<any>, engine) {
    await db.schema.createTable('runtime_commands')
      .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('lease_until_ms', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('runtime_commands_due').on('runtime_commands').columns(['state', 'next_attempt_at_ms']).execute();
    await db.schema.createIndex('runtime_commands_bot').on('runtime_commands').columns(['bot_id', 'id']).execute();
  },
};
