// Status changes and schedule moves shared by scheduling, management, firing and calendar sync.
// Each runs inside the caller's transaction and writes the status, the log and the webhook together.
import type { Transaction } from 'kysely';
import type { BotEventRow, BotRow, Schema } from '../db/schema.ts';
import { canTransition, isLive, type BotStatus } from '../domain/bot-status.ts';
import { formatInstant } from '../lib/time.ts';
import * as bots from '../store/bot-store.ts';
import type { Db } from '../store/event-store.ts';
import { MOVABLE_STATES } from '../store/schedule-store.ts';
import { enqueueStatusWebhook, enqueueStatusWebhooks, statusWebhook } from './status-webhooks.ts';
import { requestProviderSync } from './provider-sync.ts';

/** Tells dispatchers that schedules changed: inside the transaction (NOTIFY) and after commit (local timer). */
export interface ScheduleChangeSignal {
  inTransaction(trx: Transaction<Schema>): Promise<void>;
  afterCommit(): void;
}

export const quietSignal: ScheduleChangeSignal = { inTransaction: async () => {}, afterCommit: () => {} };

/** The earliest join time over a bot's live links; never earlier than now. */
export function joinTimeFromLinks(links: readonly Pick<BotEventRow, 'start_ms'>[], nowMs: number, joinLeadMs: number): number {
  const earliestStart = Math.min(...links.map((l) => l.start_ms));
  return Math.max(nowMs, earliestStart - joinLeadMs);
}

/** Moves a scheduled bot's join time and its timer; logs and notifies only when it really moved. */
export async function moveBotJoinTime(trx: Db, bot: BotRow, joinAtMs: number, nowMs: number, reason: string): Promise<boolean> {
  if (bot.join_at_ms === joinAtMs) return false;
  await trx.updateTable('bots').set({ join_at_ms: joinAtMs, updated_at: nowMs }).where('id', '=', bot.id).execute();
  // A claimed timer goes back to pending: its dispatcher's in-memory copy is now stale, and the
  // conditional fire (markLaunching) will not find it claimed.
  await trx.updateTable('schedules').set({ due_at_ms: joinAtMs, state: 'pending', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
    .where('bot_id', '=', bot.id).where('state', 'in', MOVABLE_STATES).execute();
  await bots.appendDecision(trx, bot.id, nowMs, 'rescheduled', `${reason}: ${formatInstant(bot.join_at_ms)} -> ${formatInstant(joinAtMs)}`, { from: formatInstant(bot.join_at_ms), to: formatInstant(joinAtMs) });
  await enqueueStatusWebhook(trx, bot, { event: 'bot.rescheduled', status: 'Scheduled', message: `Bot will now join at ${formatInstant(joinAtMs)}`, statusCode: 200 }, nowMs);
  // A bot already handed to a provider moves there too (its timer is finished).
  await requestProviderSync(trx, bot, reason, nowMs);
  return true;
}

/**
 * Moves a bot to a new status if the lifecycle allows it. A bot that stops being live releases
 * its deduplication key and its events, and its timer is closed.
 */
export async function transitionBot(trx: Db, bot: BotRow, to: BotStatus, reason: string, nowMs: number, extra: { decisionKind?: string; webhookMessage?: string } = {}): Promise<boolean> {
  const from = bot.status as BotStatus;
  if (!canTransition(from, to)) return false;
  await trx.updateTable('bots').set({ status: to, updated_at: nowMs, ...(to === 'Joining' ? { launched_at: nowMs } : {}) }).where('id', '=', bot.id).execute();
  await bots.appendStatusChange(trx, bot.id, nowMs, to, reason);
  if (extra.decisionKind) await bots.appendDecision(trx, bot.id, nowMs, extra.decisionKind, reason, { from, to });
  if (!isLive(to)) {
    await bots.endLinksOfBot(trx, bot.id, nowMs);
    await trx.updateTable('schedules').set({ state: to === 'Cancelled' ? 'cancelled' : 'done', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
      .where('bot_id', '=', bot.id).where('state', 'in', [...MOVABLE_STATES, 'launching']).execute();
  }
  await enqueueStatusWebhook(trx, bot, statusWebhook(to, extra.webhookMessage ?? reason), nowMs);
  return true;
}

/** Cancels a bot that has not been launched (status Cancelled, timer gone, webhook). */
export async function cancelBotInTransaction(trx: Db, bot: BotRow, reason: string, nowMs: number): Promise<boolean> {
  const cancelled = await transitionBot(trx, bot, 'Cancelled', reason, nowMs, { decisionKind: 'cancelled' });
  // A bot already handed to a provider is removed there too.
  if (cancelled) await requestProviderSync(trx, bot, reason, nowMs);
  return cancelled;
}

/**
 * Scheduled -> Joining for many bots at once, with their status changes, decisions and webhooks
 * in a handful of statements: at the top of the hour hundreds of bots launch in the same
 * millisecond, and one statement per bot per table would make the last of them late.
 */
export async function markBotsJoining(trx: Db, launches: { bot: BotRow; reason: string }[], nowMs: number): Promise<void> {
  if (launches.length === 0) return;
  const ids = launches.map((l) => l.bot.id);
  await trx.updateTable('bots').set({ status: 'Joining', launched_at: nowMs, updated_at: nowMs }).where('id', 'in', ids).where('status', '=', 'Scheduled').execute();
  await trx.insertInto('bot_status_changes').values(launches.map((l) => ({ bot_id: l.bot.id, at_ms: nowMs, status: 'Joining', reason: l.reason }))).execute();
  await trx.insertInto('bot_decisions').values(launches.map((l) => ({ bot_id: l.bot.id, at_ms: nowMs, kind: 'launched', reason: l.reason, details: JSON.stringify({ from: 'Scheduled', to: 'Joining' }) }))).execute();
  await enqueueStatusWebhooks(trx, launches.map((l) => ({ bot: l.bot, webhook: statusWebhook('Joining', 'Bot is joining the meeting') })), nowMs);
}
