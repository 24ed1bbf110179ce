import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * `webhook_deliveries.last_attempt_at_ms`: when the message's latest attempt was sent (null: never
 * tried). A URL held back takes one message at a time, the least recently tried first, so that
 * one message its receiver keeps failing does not starve the others. Null here for the messages
 * already tried: they count as never tried until their next attempt (then the oldest goes first).
 */
export const webhookLastAttempt: Migration = {
  version: 52,
  name: 'webhook-last-attempt',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('webhook_deliveries').addColumn('last_attempt_at_ms', 'bigint').execute();
  },
};
