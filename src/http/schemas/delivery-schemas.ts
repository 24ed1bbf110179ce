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
