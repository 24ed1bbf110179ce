import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `webhook_url_holds`: a user's callback URL that is failing, written by a failed attempt and
 * deleted when a message to that URL is taken (2xx). An answer that says the receiver struggles
 * (429, 502, 503, 504, or no answer at all: refused, unreachable, timed out) holds it back: nothing
 * of the user's goes to it before `paused_until_ms` (the receiver's Retry-After, or the URL's own
 * backoff, doubling per failure in `failures`); after it, one message at a time until one is
 * taken (`failures` > 0). `last_failure_at_ms`: when the latest failure was recorded; an attempt
 * started before it is of the same outage and adds no failure (many messages under way at once,
 * all answered 502, double the backoff once). `failing_since_ms`: the first failure of the run
 * (every attempt since failed); `message_id` the latest message that failed; `run_message_id` the
 * one whose failure started the run, `several_messages` 1 once another one failed in it too;
 * `disabled_at_ms` set once the run, of several messages, has lasted WEBHOOK_DISABLE_AFTER_HOURS:
 * the URL's messages then fail unsent, except those their owner redelivered.
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
      .addColumn('failing_since_ms', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('run_message_id', 'text', (c) => c.notNull())
      .addColumn('several_messages', 'integer', (c) => c.notNull())
      .addColumn('disabled_at_ms', 'bigint')
      .addPrimaryKeyConstraint('webhook_url_holds_pk', ['user_id', 'url'])
      .execute();
  },
};
