import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `webhook_url_holds`: a user's callback URL that is struggling, written by an answer that says so
 * (429, 502, 503, 504, or no answer at all: refused, unreachable, timed out) and deleted when a
 * message to that URL is taken (2xx). Nothing of the user's goes to that URL before
 * `paused_until_ms` (the receiver's Retry-After, or the URL's own backoff, doubling per failure in
 * `failures`); after it, one message at a time until one is taken. `last_failure_at_ms`: when the
 * latest failure was recorded; an attempt started before it is of the same outage and adds no
 * failure (many messages under way at once, all answered 502, double the backoff once).
 */
export const webhookUrlHolds: Migration = {
  version: 48,
  name: 'webhook-url-holds',
  async up(db: Kysely<any>) {
    await db.schema.createTable('webhook_url_holds')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('paused_until_ms', 'bigint', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_url_holds_pk', ['user_id', 'url'])
      .execute();
  },
};
