import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `gone_webhook_urls`: a bot's callback URL whose receiver answered 410 Gone (`bot_id` is the
 * outbox's: a bot, or a calendar connection for its own webhooks). Written by the 410, naming the
 * latest message answered so, and deleted only when a message of that bot to that URL is taken
 * (2xx); while it is there the bot's messages to that URL fail unsent, except those their owner
 * redelivered (`webhook_deliveries.redelivered`, set by a redelivery and by nothing else).
 * Filled here from the failed deliveries answered 410, which is how the gone lines were told before.
 */
export const goneWebhookUrls: Migration = {
  version: 46,
  name: 'gone-webhook-urls',
  async up(db: Kysely<any>) {
    await db.schema.createTable('gone_webhook_urls')
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('gone_webhook_urls_pk', ['bot_id', 'url'])
      .execute();
    await db.schema.alterTable('webhook_deliveries').addColumn('redelivered', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await sql`
      INSERT INTO gone_webhook_urls (bot_id, url, message_id)
      SELECT bot_id, url, message_id FROM webhook_deliveries
      WHERE id IN (SELECT max(id) FROM webhook_deliveries WHERE state = 'failed' AND last_error LIKE 'HTTP 410 %' GROUP BY bot_id, url)
    `.execute(db);
  },
};
