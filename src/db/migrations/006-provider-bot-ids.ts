import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * Which provider holds a Rollcall bot, and under which id (BOT_RUNTIME=recall|meetstream|attendee):
 * provider webhooks name the provider's id, update and stop commands need it. One provider bot
 * belongs to at most one Rollcall bot.
 */
export const providerBotIds: Migration = {
  version: 6,
  name: 'provider-bot-ids',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('bots').addColumn('provider_name', 'text').execute();
    await db.schema.alterTable('bots').addColumn('provider_bot_id', 'text').execute();
    await db.schema.createIndex('bots_provider_bot').on('bots').columns(['provider_name', 'provider_bot_id']).unique().execute();
  },
};
