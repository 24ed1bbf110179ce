import { Type } from 'typebox';
import { CustomAttributesInput, DateTimeWithOffset, Nullable, OptionalField } from './common.ts';

const StringMap = Type.Record(Type.String(), Type.String());

export const ScheduleTargetParams = Type.Object({
  event_id: Type.String({ minLength: 1, maxLength: 200, description: 'An event id (evt_...), an occurrence id (<series id>_<YYYYMMDDTHHMMSSZ>), or a bot id (bot_...)' }),
});

export const UnscheduleBody = Type.Object({
  cancel_all_occurrences: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error', description: 'For a series or one of its occurrences: unschedule every occurrence of the series' })),
  // null only where it widens nothing: without from_date a series id unschedules every occurrence,
  // so on a series or an occurrence a null, a date the client failed to compute, is refused
  // naming the field (bot-management.ts). On a one-off event it is MeetStream's own answer's value
  // for "none" ({ "cancel_all_occurrences": false, "from_date": null }), taken with
  // cancel_all_occurrences too, which widens nothing there.
  from_date: Type.Optional(Nullable(Type.String({ maxLength: 64, 'x-error-code': 'invalid_time' }), { 'x-error-code': 'invalid_time', description: 'YYYY-MM-DD (in the series time zone) or ISO 8601 date-time with offset: unschedule the occurrences starting at or after it; earlier ones keep their bots. null: taken for a one-off event only' })),
}, { additionalProperties: true });

export const UnscheduleEventResponse = Type.Object({
  unscheduled: Type.Boolean(),
  message: Type.String(),
  event_id: Type.String(),
  cancelled_schedules: Type.Array(Type.String(), { description: 'Schedule ids cancelled by this call' }),
  schedules_cancelled: Type.Integer(),
  bots_deleted: Type.Integer({ description: 'Bots cancelled by this call (status Cancelled)' }),
  cancelled_bots: Type.Array(Type.String()),
  bots_unlinked: Type.Array(Type.String(), { description: 'Shared bots that stay because another live event still uses them; this event was unlinked from them' }),
  bots_already_launched: Type.Array(Type.String(), { description: 'Bots already on their way into (or in) the meeting; left as they are' }),
  cancel_all_occurrences: Type.Boolean(),
  from_date: Nullable(Type.String()),
  is_recurring_series: Type.Boolean(),
  cancelled: Type.Optional(Type.Boolean()),
  master_event_id: Type.Optional(Type.String()),
  occurrences_affected: Type.Optional(Type.Integer()),
});

export const DeleteBotResponse = Type.Object({
  message: Type.String(),
  bot_id: Type.String(),
});

export const DeleteScheduleResponse = Type.Union([UnscheduleEventResponse, DeleteBotResponse]);

export const BotPatchBody = Type.Object({
  scheduled_join_time: OptionalField(DateTimeWithOffset({ description: 'New join time: in the future, with an offset. Pins the join time: later calendar moves leave it alone', errorCode: 'invalid_join_at' })),
  bot_username: OptionalField(Type.String({ minLength: 1, maxLength: 200, 'x-error-code': 'validation_error', description: 'The bot\'s display name (bot_config.bot_name)' })),
  custom_attributes: OptionalField(CustomAttributesInput({ errorCode: 'validation_error', description: 'Merged into the existing attributes (numbers and booleans as their text; null, which would remove one, is refused)' })),
  transcription_enabled: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error' })),
  recording_enabled: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error' })),
  screenshot_enabled: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error' })),
}, { additionalProperties: true });

export const BotUpdateResponse = Type.Object({
  success: Type.Literal(true, { description: 'MeetStream\'s older reschedule answer carries it' }),
  message: Type.String(),
  bot_id: Type.String(),
  updated_fields: Type.Array(Type.String(), { description: 'The fields whose stored value changed' }),
  schedule_updated: Type.Boolean({ description: 'Whether the join time (and so the timer) moved' }),
  scheduled_join_time: Type.String({ format: 'date-time' }),
});

export const ScheduledBotsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, 'x-error-code': 'validation_error' })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor' })),
}, { additionalProperties: true });

export const ScheduledBotsResponse = Type.Object({
  scheduled_bots: Type.Array(Type.Object({
    bot_id: Type.String(),
    platform: Nullable(Type.String({ description: 'The meeting\'s platform (zoom, google_meet, microsoft_teams, ...); null when unknown (MeetStream types it as a plain string, and shows it on every item)' })),
    status: Type.String(),
    scheduled_join_time: Type.String({ format: 'date-time' }),
    bot_username: Type.String(),
    meeting_link: Type.String(),
    custom_attributes: StringMap,
    is_scheduled: Type.Boolean(),
  })),
  next: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last page' })),
  has_more: Type.Boolean(),
});
