import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * provider_handovers.first_sent: what the first creation request under the current idempotency
 * key sent (join time, link and settings, as JSON), until a creation is accepted. A request that
 * timed out may still have created the provider's bot; the provider then answers a retry under
 * the same key with that bot (a replayed answer, Attendee's deduplication key, MeetStream's 507),
 * which has the first request's values, not the retry's. On success these are what the provider
 * is taken to hold, and a bot changed since gets a sync.
 */
export const providerFirstSent: Migration = {
  version: 14,
  name: 'provider-first-sent',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('provider_handovers').addColumn('first_sent', 'text').execute();
  },
};
