// Schemas of the routes that show what is about to join and what just changed.
import { Type } from 'typebox';
import { ENDED_OUTCOMES, LIVE_STATUSES } from '../../domain/bot-status.ts';
import { Nullable } from './common.ts';
import { BotAtRisk, BotLaunchFailing, BotOrigin } from './bot-schemas.ts';

export const UpcomingBotsQuery = Type.Object({
  status: Type.Optional(Type.Union(LIVE_STATUSES.map((s) => Type.Literal(s)), { description: 'Only bots in this status' })),
  calendar_id: Type.Optional(Type.String({ maxLength: 200, description: 'Only bots with a live event from this calendar connection' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor' })),
}, { additionalProperties: true });

export const UpcomingBotsResponse = Type.Object({
  bots: Type.Array(Type.Object({
    bot_id: Type.String(),
    status: Type.String(),
    platform: Nullable(Type.String()),
    meeting_url: Type.String(),
    bot_name: Type.String(),
    scheduled_join_time: Type.String({ format: 'date-time' }),
    source: Type.Union([Type.Literal('api'), Type.Literal('calendar'), Type.Literal('auto_schedule')], {
      description: 'api: scheduled through the API for an event written through the API; calendar: for a synced event, still linked or no longer (a bot that stays in its meeting after its event left the calendar); auto_schedule: booked by auto-schedule',
    }),
    events: Type.Array(Type.Object({
      event_id: Type.String(),
      title: Nullable(Type.String()),
      calendar_id: Nullable(Type.String()),
      start_time: Type.String({ format: 'date-time' }),
      is_linked: Type.Boolean({ description: 'False only for a bot with no live link left, which lists the events it had' }),
      is_all_day: Type.Boolean({ description: 'An all-day event, or an occurrence of an all-day series: the pages name it by its date, not a time' }),
      all_day_zone: Nullable(Type.String({ description: 'For an all-day one, the zone whose midnights its times and its occurrences\' keys are, to read its dates in (the event\'s zone for Google and ICS, UTC for Outlook); null otherwise' })),
    }), { description: 'The bot\'s linked events; a bot with none left lists those it had (is_linked false)' }),
    at_risk: BotAtRisk,
    launch_failing: BotLaunchFailing,
    origin: BotOrigin,
  })),
  next: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last page' })),
  has_more: Type.Boolean(),
});

export const EndedBotsQuery = Type.Object({
  outcome: Type.Optional(Type.Union(ENDED_OUTCOMES.map((o) => Type.Literal(o)), {
    description: 'Only bots that ended this way: done (Done or Stopped), failed (Error, NotAllowed, Denied, Missed), cancelled (Cancelled)',
  })),
  calendar_id: Type.Optional(Type.String({ maxLength: 200, description: 'Only bots for an event from this calendar connection (an ended bot has let go of its events: linked or not)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor', description: 'next of the previous page' })),
}, { additionalProperties: true });

export const EndedBotsResponse = Type.Object({
  bots: Type.Array(Type.Object({
    bot_id: Type.String(),
    status: Type.String(),
    outcome: Type.Union([Type.Literal('done'), Type.Literal('failed'), Type.Literal('cancelled')], { description: 'done, failed or cancelled, as the outcome filter names them' }),
    platform: Nullable(Type.String()),
    meeting_url: Type.String(),
    bot_name: Type.String(),
    scheduled_join_time: Type.String({ format: 'date-time' }),
    ended_at: Nullable(Type.String({ format: 'date-time', description: 'When it reached its status' })),
    end_reason: Type.String({ description: 'The reason given with that change (the runtime\'s error, the cause of a cancellation); empty when none was, or once its data was deleted' }),
    data_deleted_at: Nullable(Type.String({ format: 'date-time', description: 'When the bot\'s stored data was deleted (DELETE /bots/{bot_id}/delete): its meeting link, name, events and reasons are gone; null while it has them' })),
    events: Type.Array(Type.Object({
      event_id: Type.String(),
      title: Nullable(Type.String()),
      calendar_id: Nullable(Type.String()),
      start_time: Type.String({ format: 'date-time' }),
      is_linked: Type.Boolean({ description: 'An ended bot lets go of its events: mostly false' }),
      is_all_day: Type.Boolean({ description: 'An all-day event, or an occurrence of an all-day series: the pages name it by its date, not a time' }),
      all_day_zone: Nullable(Type.String({ description: 'For an all-day one, the zone whose midnights its times and its occurrences\' keys are, to read its dates in (the event\'s zone for Google and ICS, UTC for Outlook); null otherwise' })),
    })),
    origin: BotOrigin,
  })),
  next: Nullable(Type.String({ description: 'Pass as cursor for the next (earlier) page; null on the last page' })),
  has_more: Type.Boolean(),
});

export const LaunchHistogramQuery = Type.Object({
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 48, default: 6, description: 'How far ahead' })),
  bucket_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 1, description: 'Width of one bucket' })),
}, { additionalProperties: true });

export const LaunchHistogramResponse = Type.Object({
  from: Type.String({ format: 'date-time', description: 'Start of the current bucket' }),
  to: Type.String({ format: 'date-time' }),
  bucket_minutes: Type.Integer(),
  buckets: Type.Array(Type.Object({ start: Type.String({ format: 'date-time' }), launches: Type.Integer({ minimum: 0 }) })),
  total: Type.Integer({ minimum: 0 }),
  peak: Nullable(Type.Object({ start: Type.String({ format: 'date-time' }), launches: Type.Integer({ minimum: 1 }) })),
  launch_limit_per_minute: Nullable(Type.Integer({ minimum: 1, description: 'The bot runtime\'s declared limit of launches per minute, where it declares one' })),
});

const StatusChange = Type.Object({
  id: Type.Integer({ description: 'Increases with each change; the SSE event id' }),
  bot_id: Type.String(),
  status: Type.String(),
  reason: Type.String(),
  at: Type.String({ format: 'date-time' }),
});

export const StatusChangesQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Only changes with a larger id (a stream: where to resume, like Last-Event-ID)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
}, { additionalProperties: true });

export const StatusChangesResponse = Type.Object({
  changes: Type.Array(StatusChange),
  last_id: Nullable(Type.Integer({ description: 'Pass as after to read on' })),
  has_more: Type.Boolean(),
});
