import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';
import type { Engine } from '../database.ts';

/**
 * `webhook_url_holds.message_id` may be null: the URL's record names no message when none of its
 * user's messages to the URL is left (deleted with their bots' data). A deletion of a bot's data
 * used to drop the record then, which opened a disabled URL, ended a pause and forgot the run of
 * failures, though its receiver had not taken a message; the record now stays, naming none, until
 * a message to the URL fails (it is named) or is taken (the record goes). `run_message_id` may be
 * null too: the message that started the run of failures, once deleted, is named by no record.
 * On SQLite, which cannot
 * drop a NOT NULL, the table is built again inside the migration's transaction.
 */
export const urlHoldWithoutMessage: Migration = {
  version: 55,
  name: 'url-hold-without-message',
  async up(db: Kysely<any>, engine: Engine) {
    if (engine === 'postgres') {
      await sql`ALTER TABLE webhook_url_holds ALTER COLUMN message_id DROP NOT NULL, ALTER COLUMN run_message_id DROP NOT NULL`.execute(db);
      return;
    }
    await db.schema.alterTable('webhook_url_holds').renameTo('webhook_url_holds_055').execute();
    await db.schema.createTable('webhook_url_holds')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('paused_until_ms', 'bigint', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('failing_since_ms', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('run_message_id', 'text')
      .addColumn('several_messages', 'integer', (c) => c.notNull())
      .addColumn('disabled_at_ms', 'bigint')
      .addPrimaryKeyConstraint('webhook_url_holds_pk', ['user_id', 'url'])
      .execute();
    await sql`
      INSERT INTO webhook_url_holds (user_id, url, paused_until_ms, failures, last_failure_at_ms, failing_since_ms, message_id, run_message_id, several_messages, disabled_at_ms)
      SELECT user_id, url, paused_until_ms, failures, last_failure_at_ms, failing_since_ms, message_id, run_message_id, several_messages, disabled_at_ms FROM webhook_url_holds_055
    `.execute(db);
    await db.schema.dropTable('webhook_url_holds_055').execute();
  },
};
