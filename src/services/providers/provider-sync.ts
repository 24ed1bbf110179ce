// A bot handed over to a provider ahead of its join time is kept in step with later edits through
// the command outbox (runtime_commands): a move, a new link, new settings or a cancellation
// queues one "sync" for the bot, in the changing transaction; the provider command sender
// (src/scheduler/provider-command-sender.ts) compares what the provider holds with what the bot
// is now when it sends, so that several edits in a row become one call, made by the rules that
// hold at that moment.
import type { BotRow } from '../../db/schema.ts';
import { randomToken } from '../../lib/ids.ts';
import type { RemovalKind } from '../../domain/late-edit.ts';
import { bringWaitingCommandForward, enqueueCommand } from '../../store/runtime-command-store.ts';
import type { Db } from '../../store/event-store.ts';
import { hasUnansweredCreation } from '../../store/provider-handover-store.ts';

/** Keep the provider's bot in step with the Rollcall bot (update, replace or remove it). */
export const PROVIDER_SYNC = 'provider_sync';
/** Remove a provider bot Rollcall has let go of (delete it, or make it leave). */
export const PROVIDER_RETIRE = 'provider_retire';

export interface ProviderSyncPayload {
  bot_id: string;
  reason: string;
}

export interface ProviderRetirePayload {
  bot_id: string;
  provider_bot_id: string;
  by: RemovalKind;
  /** The join time that provider bot has: it cannot leave a call before it is in one. */
  join_at_ms: number;
  reason: string;
}

/**
 * Queues a sync for a bot a provider holds, or may hold (a creation request for it got no answer
 * yet). A sync already waiting (not being sent) covers this change too: it reads the bot when it
 * is sent, and is brought forward to now if it was waiting for a later time. Does nothing for a
 * bot no provider holds.
 */
export async function requestProviderSync(trx: Db, bot: Pick<BotRow, 'id' | 'provider_bot_id'>, reason: string, nowMs: number): Promise<void> {
  if (bot.provider_bot_id === null && !(await hasUnansweredCreation(trx, bot.id))) return;
  if (await bringWaitingCommandForward(trx, bot.id, PROVIDER_SYNC, nowMs)) return;
  const payload: ProviderSyncPayload = { bot_id: bot.id, reason };
  await enqueueCommand(trx, { botId: bot.id, action: PROVIDER_SYNC, payload, idempotencyKey: `sync-${bot.id}-${randomToken(10)}` }, nowMs);
}

/**
 * Queues a sync for a bot a creation request may have made a provider bot for without answering
 * (the sync finds that bot and lets it go once it is not wanted); nothing otherwise.
 */
export async function requestChaseIfUnanswered(trx: Db, botId: string, reason: string, nowMs: number): Promise<void> {
  await requestProviderSync(trx, { id: botId, provider_bot_id: null }, reason, nowMs);
}

/** Queues the removal of a provider bot Rollcall let go of. */
export async function requestProviderRetire(trx: Db, payload: ProviderRetirePayload, nowMs: number): Promise<void> {
  await enqueueCommand(trx, { botId: payload.bot_id, action: PROVIDER_RETIRE, payload, idempotencyKey: `retire-${payload.bot_id}-${randomToken(10)}` }, nowMs);
}
