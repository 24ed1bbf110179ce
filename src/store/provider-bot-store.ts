// Data access for the link between a Rollcall bot and the bot provider that holds it.
import type { BotRow } from '../db/schema.ts';
import type { Engine } from '../db/database.ts';
import type { Db } from './event-store.ts';

/** Records the provider's id for a bot. A bot keeps the id its first accepted launch gave it. */
export async function recordProviderBot(db: Db, botId: string, providerName: string, providerBotId: string, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('bots').set({ provider_name: providerName, provider_bot_id: providerBotId, updated_at: nowMs })
    .where('id', '=', botId).where('provider_bot_id', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function findProviderBotId(db: Db, botId: string): Promise<string | null> {
  const row = await db.selectFrom('bots').select(['provider_bot_id']).where('id', '=', botId).executeTakeFirst();
  return row?.provider_bot_id ?? null;
}

export async function findBotByProviderBotId(db: Db, providerName: string, providerBotId: string, options: { engine?: Engine; forUpdate?: boolean } = {}): Promise<BotRow | undefined> {
  let query = db.selectFrom('bots').selectAll().where('provider_name', '=', providerName).where('provider_bot_id', '=', providerBotId);
  if (options.forUpdate && options.engine === 'postgres') query = query.forUpdate();
  return query.executeTakeFirst();
}
