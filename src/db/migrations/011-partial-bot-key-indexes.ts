import { sql, type Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * The two unique indexes over bot columns that most bots leave empty (the provider's bot id, the
 * ad-hoc idempotency key) now hold only the bots that have one. Uniqueness is unchanged (NULLs were
 * always distinct) and lookups by a value use them as before on both engines (`x = ?` implies
 * `x IS NOT NULL`). What changes is the cost of every other write to a bot on PostgreSQL: a status
 * change cannot be a heap-only update (the status is in the live-key index's predicate), so each
 * one added an entry to every index of the table, these two included. Measured on the due-instant
 * confirmation of 500 bots (EXPLAIN ANALYZE, 10,000 seeded): 4,620 WAL records for the bots'
 * update before, 3,590 after; 13.8-16.6 ms before, 12.0 ms after.
 */
export const partialBotKeyIndexes: Migration = {
  version: 11,
  name: 'partial-bot-key-indexes',
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('bots_provider_bot').execute();
    await db.schema.createIndex('bots_provider_bot').on('bots').columns(['provider_name', 'provider_bot_id']).unique()
      .where(sql.ref('provider_bot_id'), 'is not', null).execute();
    await db.schema.dropIndex('bots_user_idempotency_key').execute();
    await db.schema.createIndex('bots_user_idempotency_key').on('bots').columns(['user_id', 'idempotency_key_hash']).unique()
      .where(sql.ref('idempotency_key_hash'), 'is not', null).execute();
  },
};
