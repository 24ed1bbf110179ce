// Schemas of the webhook delivery routes.
import { Type } from 'typebox';
import { DELIVERY_FILTERS } from '../../services/webhooks/webhook-delivery-log.ts';
import { Nullable } from './common.ts';

export const DeliveryIdParams = Type.Object({ delivery_id: Type.String({ minLength: 1, maxLength: 200, description: 'The webhook-id of the delivery (msg_...)' }) });

export const DeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union(DELIVERY_FILTERS.map((s) => Type.Literal(s)), {
    description: 'pending (waiting, nothing failed: not tried yet, or sent again on request after it was delivered), retrying (failed, will be tried again), delivered, failed (given up), or failing (retrying or failed)',
  })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor' })),
}, { additionalProperties: true });

export const Delivery = Type.Object({
  delivery_id: Type.String({ description: 'The webhook-id header; the same on every attempt' }),
  bot_id: Type.String(),
  meeting_title: Type.String({ description: 'The bot\'s meeting, as the dashboard names it: its first linked event\'s title (else an event it was for), else the host of its meeting link; empty once the bot\'s data was deleted' }),
  bot_name: Type.String({ description: 'The bot\'s name; empty when it has none, or once its data was deleted' }),
  event: Type.String({ description: 'The payload\'s bot_event, the specific name: bot.scheduled, bot.joining, bot.cancelled, ...' }),
  payload_event: Type.String({ description: 'The payload\'s event, the generic name: the same as event, but bot.stopped for every end of a bot (bot.done, bot.cancelled, bot.missed, ...)' }),
  bot_status: Nullable(Type.String()),
  url: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('retrying'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer({ minimum: 0 }),
  next_attempt_at: Nullable(Type.String({ format: 'date-time' })),
  last_error: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  delivered_at: Nullable(Type.String({ format: 'date-time' })),
  queued_behind: Nullable(Type.Object({
    delivery_id: Type.String(),
    event: Type.String(),
    next_attempt_at: Type.String({ format: 'date-time' }),
  }, { description: 'A bot\'s messages to one URL go out in order: while an older one of them is still to go out, this one waits for it (the oldest, and when it is tried next); null otherwise' })),
});

export const DeliveriesResponse = Type.Object({
  deliveries: Type.Array(Delivery),
  next: Nullable(Type.String({ description: 'Pass as cursor for the next (older) page; null on the last page' })),
  has_more: Type.Boolean(),
});

export const WebhookUrl = Type.Object({
  url: Type.String({ description: 'A callback URL, compared character for character (another spelling of the same address is another URL)' }),
  state: Type.Union([Type.Literal('ok'), Type.Literal('paused'), Type.Literal('disabled')], {
    description: 'The URL as a whole (a bot whose line to it is gone has its messages fail unsent whatever this says: gone_bots). ok: neither paused nor disabled, its messages go to it, one at a time while paced; paused: nothing goes to it before paused_until; disabled: every attempt at it failed for days, so its messages fail unsent until a redelivered one is taken',
  }),
  paced: Type.Boolean({ description: 'The messages that go to it go one at a time (the next once the last is answered) until one is taken: its receiver answered 429, 502, 503 or 504, or did not answer, and no pause is running. Other failures (a 500, say) pace nothing. Of a disabled URL, its redelivered messages, the only ones it sends. False while paused' }),
  failing_since: Nullable(Type.String({ format: 'date-time', description: 'Every attempt at the URL has failed since then; null when it is not failing (a run with no failure for a day is over, except while the URL is disabled: its run, the one its unsent messages name, goes on until a message is taken)' })),
  last_failure_at: Nullable(Type.String({ format: 'date-time', description: 'Its latest failed attempt, while it is failing (for a disabled URL, a redelivered message\'s failure can come days after disabled_at)' })),
  paused_until: Nullable(Type.String({ format: 'date-time', description: 'Nothing goes to it before then (its receiver asked for a pause, or was found down); null when no pause is running' })),
  disabled_at: Nullable(Type.String({ format: 'date-time', description: 'When it was disabled; null while it is not' })),
  reopen_delivery_id: Nullable(Type.String({ description: 'The latest message that failed: redeliver it (POST /webhooks/deliveries/{delivery_id}/redeliver) to end a pause, or, taken by the receiver, to open a disabled URL again; null when the URL is not failing, or when none of the caller\'s messages to it is left to name (deleted with their bots\' data)' })),
  waiting: Type.Integer({ minimum: 0, description: 'Messages to it still to go out' }),
  failed_unsent: Type.Integer({ minimum: 0, description: 'Messages to it, among the caller\'s latest 1000, given up without being sent (last_error "not sent: ..."); they are not sent again by themselves' }),
  gone_bots: Type.Integer({ minimum: 0, description: 'Bots whose line to it is gone (the receiver answered 410 Gone to one of their messages): their messages to it fail unsent' }),
  gone_lines: Type.Array(Type.Object({
    bot_id: Type.String(),
    meeting_title: Type.String({ description: 'The bot\'s meeting as the dashboard names it; empty when unknown (its data deleted, or the line is a calendar connection\'s)' }),
    delivery_id: Type.String({ description: 'The message the receiver answered 410: redelivered and taken, it opens the bot\'s line again' }),
  }), { description: 'Up to 10 of its gone lines, by bot id (each URL its own ten)' }),
  last_queued_at: Nullable(Type.String({ format: 'date-time', description: 'When the latest of the caller\'s latest 1000 messages to it was queued; null when none of them went to it' })),
});

export const WebhookUrlsResponse = Type.Object({
  urls: Type.Array(WebhookUrl, { description: 'At most 100: disabled first, then paused, failing, with gone lines, then the rest, the latest news first' }),
  has_more: Type.Boolean({ description: 'More URLs than listed have a record or recent messages' }),
});
