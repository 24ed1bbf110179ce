import { Type } from 'typebox';
import { NULL_HINT_KEYWORD } from '../validation.ts';
import { CustomAttributesInput, DateTimeWithOffset, FreeObject, LiveStreamFields, Nullable, OptionalField, ProviderSettings } from './common.ts';

const Seconds = Type.Integer({ description: 'Seconds', 'x-error-code': 'invalid_bot_config' });

export const AutomaticLeave = Type.Object({
  waiting_room_timeout: OptionalField(Seconds),
  no_one_joined_timeout: OptionalField(Seconds),
  everyone_left_timeout: OptionalField(Seconds),
  voice_inactivity_timeout: OptionalField(Seconds),
  in_call_recording_timeout: OptionalField(Seconds),
  recording_permission_denied_timeout: OptionalField(Seconds),
  bot_detection: OptionalField(Type.Object({
    using_participant_names: OptionalField(Type.Object({
      matches: OptionalField(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100, 'x-error-code': 'invalid_bot_config' })),
      activate_after: OptionalField(Seconds),
      timeout: OptionalField(Seconds),
    }, { additionalProperties: true, 'x-error-code': 'invalid_bot_config' })),
  }, { additionalProperties: true, 'x-error-code': 'invalid_bot_config' })),
}, { additionalProperties: true, 'x-error-code': 'invalid_bot_config', description: 'Integer seconds within MeetStream\'s ranges' });


export const BotConfig = Type.Object({
  bot_name: OptionalField(Type.String({ maxLength: 200, 'x-error-code': 'invalid_bot_config' })),
  bot_message: OptionalField(Type.String({ maxLength: 4000, 'x-error-code': 'invalid_bot_config' })),
  audio_required: OptionalField(Type.Boolean({ default: true, 'x-error-code': 'invalid_bot_config' })),
  video_required: OptionalField(Type.Boolean({ default: false, 'x-error-code': 'invalid_bot_config' })),
  meeting_url: OptionalField(Type.String({ maxLength: 4096, 'x-error-code': 'invalid_meeting_url' })),
  join_at: OptionalField(DateTimeWithOffset({ description: 'Override the join time', errorCode: 'invalid_join_at' })),
  transcription: OptionalField(FreeObject('Passed to the bot runtime')),
  callback_url: OptionalField(Type.String({ maxLength: 2048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', 'x-error-code': 'callback_url_not_allowed', description: 'http(s) URL for status webhooks' })),
  automatic_leave: OptionalField(AutomaticLeave),
  recording_config: OptionalField(FreeObject('Passed to the bot runtime')),
  // No null attribute: scheduling again under the same deduplication_key, or auto-scheduling a
  // meeting that already has a bot, merges these into the bot's, where null would read as
  // "remove" and silently keep the old value instead; refused, naming the attribute, as in a PATCH.
  custom_attributes: OptionalField(CustomAttributesInput({ errorCode: 'invalid_bot_config', description: 'Merged into the bot\'s attributes when the request reaches an existing bot (numbers and booleans as their text; null, which would read as removing one, is refused)' })),
  provider_settings: OptionalField(ProviderSettings),
  deduplication_key: OptionalField(Type.String({ minLength: 1, maxLength: 2000, 'x-error-code': 'invalid_deduplication_key' })),
  // MeetStream's calendar bot_config names live_audio_required and live_transcription_required
  // (its ScheduleEventResponse's bot_config); the create_bot streams are taken the same way here.
  ...LiveStreamFields,
}, { additionalProperties: true, 'x-error-code': 'invalid_bot_config' });

export const ScheduleBody = Type.Object({
  deduplication_key: OptionalField(Type.String({ minLength: 1, maxLength: 2000, 'x-error-code': 'invalid_deduplication_key', description: 'Required here or inside bot_config (the top-level one wins), unless the deployment sets DEDUPLICATION_KEY_REQUIRED=false: then a missing key is derived from the meeting and the occurrence\'s original start' })),
  // Left out: {} (the default name and settings). MeetStream's spec lists bot_config as required,
  // yet both its SDKs send {} for a schedule call given no body (meetstream-ai/meetstream-node
  // src/resources/calendar.ts scheduleEvent, meetstream-ai/meetstream-python
  // resources/calendar.py schedule_event); null stays refused.
  bot_config: Type.Optional({ ...BotConfig, [NULL_HINT_KEYWORD]: 'leave it out for the default configuration', description: 'Left out: {} (BOT_DEFAULT_NAME and the defaults below)' }),
  occurrence_date: OptionalField(Type.String({ maxLength: 64, 'x-error-code': 'invalid_occurrence_date', description: 'YYYY-MM-DD or ISO 8601 date-time with offset' })),
  schedule_all_occurrences: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error' })),
  occurrence_limit: OptionalField(Type.Integer({ minimum: 1, maximum: 500, default: 52, 'x-error-code': 'invalid_occurrence_limit' })),
  recurring_event: OptionalField(Type.Boolean({ 'x-error-code': 'validation_error', description: 'Chain mode: book the series\' next occurrence only; each time an occurrence\'s bot is launched (or the occurrence ends) the next one is booked with the same configuration, under the key "<deduplication_key>@<occurrence>". Turn off with POST /calendar/toggle-recurrence' })),
}, { additionalProperties: true });

export const AppliedBotConfig = Type.Object({
  bot_name: Type.String(),
  audio_required: Type.Boolean(),
  video_required: Type.Boolean(),
  custom_attributes: Type.Record(Type.String(), Type.String()),
}, { additionalProperties: true });

export const ScheduleResponse = Type.Object({
  scheduled: Type.Boolean(),
  schedule_id: Nullable(Type.String()),
  schedule_group: Nullable(Type.String()),
  event_id: Type.String(),
  scheduled_time: Nullable(Type.String({ format: 'date-time' })),
  bot_id: Nullable(Type.String()),
  bot_config: AppliedBotConfig,
  message: Type.String(),
  updated_existing: Type.Boolean(),
  occurrence_date: Nullable(Type.String({ format: 'date-time', description: 'The original start of the occurrence bot_id joins; null when the event is no occurrence of a series' })),
  is_recurring_occurrence: Type.Boolean({ description: 'Whether bot_id joins an occurrence of a recurring series' }),
  master_event_id: Type.Optional(Type.String()),
  total_occurrences: Type.Optional(Type.Integer()),
  occurrences_scheduled: Type.Optional(Type.Integer()),
  occurrences_failed: Type.Optional(Type.Integer()),
  schedules_created: Type.Optional(Type.Array(Type.Object({
    occurrence_start: Type.String(),
    bot_id: Type.String(),
    schedule_id: Type.String(),
    scheduled_time: Type.String(),
  }))),
  failed_occurrences: Type.Optional(Type.Array(Type.Object({
    occurrence_start: Type.String(),
    code: Type.String(),
    error: Type.String(),
  }))),
  recurring_enabled: Type.Optional(Type.Boolean({ description: 'Chain mode is on for the series (recurring_event: true)' })),
});

export const ToggleRecurrenceBody = Type.Object({
  event_id: Type.String({ minLength: 1, maxLength: 200, description: 'The series, or one of its occurrences or override instances' }),
  recurring_enabled: Type.Boolean(),
}, { additionalProperties: true });

export const ToggleRecurrenceResponse = Type.Object({
  event_id: Type.String(),
  recurring_enabled: Type.Boolean(),
  recurrence_rule: Nullable(Type.String()),
  message: Type.String(),
  summary: Nullable(Type.String()),
  start_time: Type.String({ format: 'date-time' }),
  end_time: Type.String({ format: 'date-time' }),
  bot_id: Nullable(Type.String({ description: 'The bot booked for the chain\'s next occurrence, if one is waiting' })),
});
