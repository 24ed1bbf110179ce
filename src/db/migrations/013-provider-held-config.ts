import type { Kysely } from 'kysely';
import type { Migration } from '../migrator.ts';

/**
 * provider_handovers.bot_config: the bot's settings (Rollcall's bot_config, as JSON) that the
 * provider's bot was created or last updated with, so that a later change of a setting the
 * provider sees (its display name, say) reaches that bot too. Null for bots handed over before
 * this migration: their settings are not compared (nothing is known of what the provider holds).
 */
export const providerHeldConfig: Migration = {
  version: 13,
  name: 'provider-held-config',
  async up(db: Kysely<any>) {
    await db.schema.alterTable('provider_handovers').addColumn('bot_config', 'text').execute();
  },
};
