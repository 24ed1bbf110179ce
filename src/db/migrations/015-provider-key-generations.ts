import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * provider_key_generations: how far a bot provider adapter has moved on from an idempotency key
 * whose cached answer is a failure it must not get again (Recall caches a 507 for an hour under
 * its key). Kept in the database rather than in the adapter's memory, so that a restarted process
 * or another instance retries under the key that can still succeed, and finds the bot a request
 * without an answer made under it. A row goes a day after it was last written (the provider's
 * cache is long gone by then); it stays after a creation under it is accepted, so that a launch
 * sent again (its result not written) goes under the key the provider answers with that bot.
 */
export const providerKeyGenerations: Migration = {
  version: 15,
  name: 'provider-key-generations',
  async up(db: Kysely<any>) {
    await db.schema.createTable('provider_key_generations')
      .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('provider_key_generations_age').on('provider_key_generations').column('updated_at_ms').execute();
  },
};
