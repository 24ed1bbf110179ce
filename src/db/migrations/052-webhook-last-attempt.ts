import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `webhook_deliveries.last_attempt_at_ms`: when the message's latest attempt was sent (null: never
 * tried). A URL held back takes one message at a time: of its oldest messages that may be sent,
 * one never tried, else the least recently tried, so that one message its receiver keeps failing
 * does not starve the others. Null here for the messages already tried: they count as never tried
 * until their next attempt.
 * `webhook_deliveries_url_waiting` (user, URL, id; partial on the waiting messages, which SQLite
 * and PostgreSQL both support): that round reads a user's waiting messages to one URL, oldest
 * first, and stops after a few, however many the user has sent or queued (webhook_deliveries_user
 * walks the delivered ones too). A query uses it only with `state = 'pending'` (a literal) among
 * its conditions.
 */
export const webhookLastAttempt: Migration = {
  version: 52,
  name: 'webhook-last-attempt',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('webhook_deliveries').addColumn('last_attempt_at_ms', 'bigint').execute();
    await db.schema.createIndex('webhook_deliveries_url_waiting').on('webhook_deliveries').columns(['user_id', 'url', 'id'])
      .where(sql.ref('state'), '=', sql.lit('pending')).execute();
  },
};
