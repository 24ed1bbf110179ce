import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * bots.provider_reported_at_ms: when the latest status report a bot provider made for the bot
 * happened, by the provider's own clock (the time in its webhook). Webhooks come retried and out
 * of order; a report older than this one changes nothing (src/services/scheduling/bot-status-reports.ts).
 */
export const providerReportedAt: Migration = {
  version: 26,
  name: 'provider-reported-at',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('provider_reported_at_ms', 'bigint').execute();
  },
};
