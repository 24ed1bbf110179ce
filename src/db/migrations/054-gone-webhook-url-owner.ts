import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';
import type { Engine } from '../database.ts';

/**
 * `gone_webhook_urls.user_id`: the user whose bot's line is gone, the owner of the message the
 * line names (a gone line's bot_id may be a calendar connection's, for its own webhooks: the
 * message says whose it is either way). GET /webhooks/urls reads a user's gone lines by
 * `gone_webhook_urls_user` (user, URL, bot) instead of every user's joined to their messages.
 * Filled here from the message each line names. A line whose message is no longer there (deleted
 * with its bot's data) names instead the latest message of its bot to its URL that failed (refused
 * with the 410, or given up unsent for the line), and takes that message's owner: one its owner
 * can redeliver to open the line. With none, the line goes, as a deletion of a bot's data drops
 * it now (bot-management.ts, forgetDeletedMessagesOfUrls): a message still waiting is not named,
 * since it would then fail unsent, telling of a 410 to itself; it is sent, and a receiver still
 * gone refuses it, which closes the line again.
 * The table is built again to have the column NOT NULL on both engines (SQLite adds a column
 * NOT NULL only with a default).
 */
export const goneWebhookUrlOwner: Migration = {
  version: 54,
  name: 'gone-webhook-url-owner',
  async up(db: Kysely<any>, engine: Engine) {
    // The latest failed message left of the line's bot to its URL, for a line naming a deleted message.
    await sql`
      UPDATE gone_webhook_urls SET message_id = (
        SELECT d.message_id FROM webhook_deliveries d
        WHERE d.bot_id = gone_webhook_urls.bot_id AND d.url = gone_webhook_urls.url AND d.state = 'failed' ORDER BY d.id DESC LIMIT 1
      )
      WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = gone_webhook_urls.message_id)
        AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.bot_id = gone_webhook_urls.bot_id AND d.url = gone_webhook_urls.url AND d.state = 'failed')
    `.execute(db);
    await db.schema.alterTable('gone_webhook_urls').renameTo('gone_webhook_urls_053').execute();
    // (On PostgreSQL the primary key's index keeps its name through the rename: it is renamed too, for the new table's.)
    if (engine === 'postgres') await sql`ALTER INDEX gone_webhook_urls_pk RENAME TO gone_webhook_urls_053_pk`.execute(db);
    await db.schema.createTable('gone_webhook_urls')
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('gone_webhook_urls_pk', ['bot_id', 'url'])
      .execute();
    // Lines still naming no message left (their bot has no failed one to the URL) are not carried over.
    await sql`
      INSERT INTO gone_webhook_urls (bot_id, url, user_id, message_id)
      SELECT g.bot_id, g.url, d.user_id, g.message_id FROM gone_webhook_urls_053 g JOIN webhook_deliveries d ON d.message_id = g.message_id
    `.execute(db);
    await db.schema.dropTable('gone_webhook_urls_053').execute();
    await db.schema.createIndex('gone_webhook_urls_user').on('gone_webhook_urls').columns(['user_id', 'url', 'bot_id']).execute();
  },
};

