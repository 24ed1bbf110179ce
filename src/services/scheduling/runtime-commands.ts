// After launch, calendar changes reach the bot through its runtime: an update when the meeting
// moved or changed, a stop when it went away. Queued in the changing transaction, sent by the
// dispatcher.
import type { BotEventRow, BotRow } from '../../db/schema.ts';
import type { LinkedEventInfo } from '../../adapters/bot-runtimes/bot-runtime.ts';
import { parseOccurrenceKey } from '../../domain/recurrence.ts';
import { formatInstant } from '../../lib/time.ts';
import { randomToken } from '../../lib/ids.ts';
import * as bots from '../../store/bot-store.ts';
import type { Db } from '../../store/event-store.ts';
import { enqueueRuntimeCommand } from '../../store/runtime-command-store.ts';
import { recordLaunchIfPending } from './bot-lifecycle.ts';

export function linkedEventsOf(links: readonly BotEventRow[]): LinkedEventInfo[] {
  return links.map((l) => {
    const originalStartMs = l.occurrence_key === '' ? null : parseOccurrenceKey(l.occurrence_key);
    return {
      event_id: l.event_id,
      occurrence_start: originalStartMs === null ? null : formatInstant(originalStartMs),
      start_time: formatInstant(l.start_ms),
      end_time: formatInstant(l.end_ms),
    };
  });
}

/** Queues a command for a launched bot and logs it; the caller holds the bot's lock. */
export async function requestRuntimeCommand(trx: Db, bot: BotRow, action: 'update' | 'stop', reason: string, nowMs: number): Promise<void> {
  // A launch whose record the dispatcher has not written yet: the record comes first in the log.
  await recordLaunchIfPending(trx, bot, nowMs);
  const links = await bots.listLiveLinksOfBot(trx, bot.id);
  await enqueueRuntimeCommand(trx, {
    action,
    bot_id: bot.id,
    reason,
    meeting_url: bot.meeting_url,
    platform: bot.meeting_platform,
    events: linkedEventsOf(links),
    idempotency_key: `${action}-${bot.id}-${randomToken(10)}`,
  }, nowMs);
  await bots.appendDecision(trx, bot.id, nowMs, action === 'stop' ? 'stop_requested' : 'update_requested', `${reason}; the bot was already launched, so the runtime is asked to ${action === 'stop' ? 'stop it' : 'update it'}`, {});
}
