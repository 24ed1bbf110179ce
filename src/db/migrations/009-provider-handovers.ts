import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Early handover to a bot provider (docs/providers/, docs/behaviour.md "Handover"):
 * - provider_handovers: one row per bot that a provider with scheduling takes ahead of time: the
 *   plan (when it will be handed over, whether that is after its lead and was reported), the
 *   latest attempt (for pacing), and what the provider holds (its bot, join time and link), which
 *   late edits keep in step.
 * - retired_provider_bots: provider bots Rollcall has let go of (replaced or cancelled), so that
 *   their late status webhooks are acknowledged instead of refused.
 */
export const providerHandovers: Migration = {
  version: 9,
  name: 'provider-handovers',
  async up(db: Kysely<any>) {
    await db.schema.createTable('provider_handovers')
      .addColumn('bot_id', 'text', (c) => c.primaryKey())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('planned_at_ms', 'bigint')
      .addColumn('deadline_ms', 'bigint')
      .addColumn('is_at_risk', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_attempt_at_ms', 'bigint')
      .addColumn('not_before_ms', 'bigint')
      .addColumn('provider_bot_id', 'text')
      .addColumn('handed_over_at_ms', 'bigint')
      .addColumn('join_at_ms', 'bigint')
      .addColumn('meeting_url', 'text')
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Pacing reads the latest creation attempt of the provider.
    await db.schema.createIndex('provider_handovers_attempts').on('provider_handovers').columns(['provider', 'last_attempt_at_ms']).execute();
    await db.schema.createTable('retired_provider_bots')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('provider_bot_id', 'text', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('retired_at_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('retired_provider_bots_pk', ['provider', 'provider_bot_id'])
      .execute();
  },
};
