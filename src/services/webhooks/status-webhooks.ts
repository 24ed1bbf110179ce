// Status webhooks are written to the outbox in the same transaction as the change they report,
// so a committed change always has its webhook and a rolled-back one never does.
import type { Insertable } from 'kysely';
import type { BotRow, WebhookDeliveriesTable } from '../../db/schema.ts';
import { webhookEventFor, webhookGenericEventFor, webhookStatusCodeFor, type BotStatus } from '../../domain/bot-status.ts';
import { newId } from '../../lib/ids.ts';
import type { Db } from '../../store/event-store.ts';

export interface StatusWebhook {
  /** The specific name (`bot_event`): a status change (bot.scheduled, bot.joining, ...), bot.rescheduled, data_deletion. */
  event: string;
  /** The generic name (`event`), where it differs: bot.stopped for every end of a bot (a cancelled or missed one too). */
  genericEvent?: string;
  status: BotStatus;
  message: string;
  statusCode?: 200 | 500;
  /** More facts for this kind of webhook, after the standard fields (bot.handover_at_risk carries `handover`). */
  extra?: Record<string, unknown>;
}

/** The webhook of a status change; `kicked`: a Stopped bot the host removed (bot.kicked). */
export function statusWebhook(status: BotStatus, message: string, kicked = false): StatusWebhook {
  return { event: webhookEventFor(status, kicked), genericEvent: webhookGenericEventFor(status), status, message, statusCode: webhookStatusCodeFor(status) };
}

type WebhookBot = Pick<BotRow, 'id' | 'user_id' | 'bot_config' | 'custom_attributes'>;

/** Queues a webhook for the bot's callback_url; does nothing when the bot has none. */
export async function enqueueStatusWebhook(db: Db, bot: WebhookBot, webhook: StatusWebhook, nowMs: number): Promise<void> {
  await enqueueStatusWebhooks(db, [{ bot, webhook }], nowMs);
}

/** The same for many bots in one statement (the dispatcher launches hundreds at once). */
export async function enqueueStatusWebhooks(db: Db, items: { bot: WebhookBot; webhook: StatusWebhook }[], nowMs: number): Promise<void> {
  const rows = statusWebhookRows(items, nowMs);
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

/** The outbox rows of status webhooks, for bots that have a callback_url (none for the others). */
export function statusWebhookRows(items: { bot: WebhookBot; webhook: StatusWebhook }[], nowMs: number): Insertable<WebhookDeliveriesTable>[] {
  return items.flatMap(({ bot, webhook }) => {
    const config = JSON.parse(bot.bot_config) as { callback_url?: string };
    if (!config.callback_url) return [];
    const payload = {
      event: webhook.genericEvent ?? webhook.event,
      bot_event: webhook.event,
      bot_id: bot.id,
      bot_status: webhook.status,
      message: webhook.message,
      status_code: webhook.statusCode ?? 200,
      timestamp: new Date(nowMs).toISOString(),
      custom_attributes: JSON.parse(bot.custom_attributes) as Record<string, string>,
      ...webhook.extra,
    };
    return [{
      message_id: newId('msg'),
      user_id: bot.user_id,
      bot_id: bot.id,
      url: config.callback_url,
      payload: JSON.stringify(payload),
      state: 'pending',
      attempts: 0,
      next_attempt_at_ms: nowMs,
      lease_until_ms: null,
      last_error: null,
      created_at: nowMs,
      delivered_at: null,
    }];
  });
}
