// MeetStream's bot routes (spec section 10): create_bot, the bot list, detail, remove and delete.
import { Type } from 'typebox';
import { BOT_STATUSES } from '../../domain/bot-status.ts';
import { PLATFORM_FILTERS } from '../../domain/platform-names.ts';
import { CustomAttributesInput, DateTimeWithOffset, FreeObject, LiveStreamFields, Nullable, OptionalField, ProviderSettings } from './common.ts';
import { AutomaticLeave } from './schedule-schemas.ts';

const StringMap = Type.Record(Type.String(), Type.String());
/** MeetStream's CreateBotRequest; fields Rollcall does not act on are passed to the bot runtime as they are. */
export const CreateBotBody = Type.Object({
  meeting_link: Type.String({ minLength: 1, maxLength: 4096, 'x-error-code': 'invalid_meeting_url', description: 'The meeting to join (Zoom, Google Meet, Teams, ...)' }),
  bot_name: OptionalField(Type.String({ minLength: 1, maxLength: 200, 'x-error-code': 'invalid_bot_config', description: 'Left out: the deployment\'s default name (BOT_DEFAULT_NAME), as for a calendar bot' })),
  // No null: MeetStream's create_bot reads join_at as "join then"; a null (a time the client failed
  // to compute) read as "now" would send the bot into a meeting hours early. Left out, it is now.
  join_at: Type.Optional(DateTimeWithOffset({ description: 'When to join (ISO 8601 with offset); absent, or at most ten minutes in the past: now. null is refused', errorCode: 'invalid_join_at', nullHint: 'leave it out to join now' })),
  deduplication_key: OptionalField(Type.String({ minLength: 1, maxLength: 2000, 'x-error-code': 'invalid_deduplication_key', description: 'The same key for the same meeting answers 200 with the bot it names; for another meeting 409' })),
  callback_url: OptionalField(Type.String({ maxLength: 2048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', 'x-error-code': 'callback_url_not_allowed', description: 'http(s) URL for status webhooks' })),
  custom_attributes: OptionalField(CustomAttributesInput({ errorCode: 'invalid_bot_config', nullIsUnset: true, description: 'Echoed in every webhook and listing (numbers and booleans as their text; an attribute given null is not set)' })),
  video_required: OptionalField(Type.Boolean({ 'x-error-code': 'invalid_bot_config', description: 'Default true (MeetStream\'s create_bot default)' })),
  bot_message: OptionalField(Type.String({ maxLength: 4000, 'x-error-code': 'invalid_bot_config' })),
  bot_image_url: OptionalField(Type.String({ maxLength: 4096, 'x-error-code': 'invalid_bot_config' })),
  audio_separate_streams: OptionalField(Type.Boolean({ 'x-error-code': 'invalid_bot_config' })),
  video_separate_streams: OptionalField(Type.Boolean({ 'x-error-code': 'invalid_bot_config' })),
  zoom: OptionalField(Type.Object({
    zak_url: OptionalField(Type.String({ maxLength: 4096, pattern: '^[Hh][Tt][Tt][Pp][Ss]://' })),
    obf_url: OptionalField(Type.String({ maxLength: 4096, pattern: '^[Hh][Tt][Tt][Pp][Ss]://' })),
  }, { additionalProperties: true, 'x-error-code': 'validation_error', description: 'Authenticated Zoom joins: zak_url or obf_url (https), not both' })),
  automatic_leave: OptionalField(AutomaticLeave),
  recording_config: OptionalField(FreeObject('Passed to the bot runtime; transcript.provider must name one known provider')),
  ...LiveStreamFields,
  provider_settings: OptionalField(ProviderSettings),
  workflow_config_ids: OptionalField(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50, 'x-error-code': 'invalid_bot_config' })),
}, { additionalProperties: true });

export const CreateBotHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1, maxLength: 255, pattern: '^[!-~]+$', 'x-error-code': 'invalid_idempotency_key',
    description: 'A repeat with the same key answers 507 with the original bot (MeetStream\'s convention); a UUID is a good key',
  })),
}, { additionalProperties: true });

export const BotResponse = Type.Object({
  bot_id: Type.String(),
  transcript_id: Type.Null(),
  meeting_url: Type.String(),
  status: Type.String(),
});


export const BotListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 32, description: `Only bots in this status: ${BOT_STATUSES.join(', ')}, in any case; Failed means Error` })),
  from: Type.Optional(Type.String({ maxLength: 64, 'x-error-code': 'invalid_time', description: 'Created on or after: YYYY-MM-DD (a UTC day) or a date-time with offset' })),
  to: Type.Optional(Type.String({ maxLength: 64, 'x-error-code': 'invalid_time', description: 'Created on or before: YYYY-MM-DD (a UTC day, included) or a date-time with offset' })),
  platform: Type.Optional(Type.String({ maxLength: 32, description: `In any case: ${PLATFORM_FILTERS.join(', ')} (MeetStream's GMeet, Zoom, Teams, or Rollcall's platform names)` })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor', description: 'nextCursor of the previous page' })),
}, { additionalProperties: true, description: 'Also custom_attr[<name>]=<value> (at most 20, combined with AND)' });

export const BotListResponse = Type.Object({
  bots: Type.Array(Type.Object({
    bot_id: Type.String(),
    status: Type.String(),
    platform: Nullable(Type.String()),
    meeting_link: Type.String(),
    bot_name: Nullable(Type.String()),
    scheduled_join_time: Type.String({ format: 'date-time' }),
    created_at: Type.String({ format: 'date-time' }),
    source: Type.String({ description: 'calendar_schedule_api or create_bot_api' }),
    custom_attributes: StringMap,
  })),
  hasNextPage: Type.Boolean(),
  nextCursor: Nullable(Type.String()),
});

const TimelineEntry = Type.Object({ status: Type.Boolean(), timestamp: Nullable(Type.String()), message: Nullable(Type.String()) });

export const MeetStreamBotDetailResponse = Type.Object({
  bot_details: Type.Object({
    BotID: Type.String(),
    UserID: Type.String(),
    Status: Type.String(),
    // MeetStream's BotDetailsResponseBotDetails types these as plain strings, yet every example of
    // its answer carries all of them: always present here, null when Rollcall has no value.
    Platform: Nullable(Type.String({ description: 'GMeet, Zoom, Teams (or Rollcall\'s name of another platform); null when the link\'s platform is unknown' })),
    MeetingLink: Type.String(),
    BotUsername: Nullable(Type.String({ description: 'null when the bot has no name (none given and no BOT_DEFAULT_NAME, or its data deleted)' })),
    BotMessage: Nullable(Type.String({ description: 'null when none was given' })),
    BotImageURL: Nullable(Type.String()),
    CreatedAt: Type.String(),
    StartTime: Nullable(Type.String({ description: 'When the bot was launched; null before' })),
    EndTime: Nullable(Type.String({ description: 'When the bot ended, once launched and ended; null before' })),
    Duration: Type.Integer(),
    LastUpdatedAt: Type.Integer(),
    StatusTimeline: Type.Record(Type.String(), TimelineEntry),
    RequestPayload: Type.Object({}, { additionalProperties: true }),
    custom_attributes: StringMap,
    transcript_id: Type.Null(),
  }),
});

export const RemoveBotResponse = Type.Object({ message: Type.String(), bot_id: Type.String(), status: Type.String() });

export const DeleteBotDataResponse = Type.Object({ message: Type.String(), bot_id: Type.String(), deleted_objects: Type.Integer() });

/** The older reference's delete_data answer: the same, with its success flag. */
export const LegacyDeleteBotDataResponse = Type.Object({ success: Type.Literal(true), message: Type.String(), bot_id: Type.String(), deleted_objects: Type.Integer() });

/** How many custom_attr[...] filters one listing takes. */
export const MAX_CUSTOM_ATTRIBUTE_FILTERS = 20;
