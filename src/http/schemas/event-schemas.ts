import { Type } from 'typebox';
import { DateTimeWithOffset, Nullable, QueryDateTimeWithOffset } from './common.ts';
import { PROVIDER_NAMES } from '../../services/calendars/calendar-scope.ts';

/** MeetStream's provider filter: google, outlook or ics. */
export const ProviderQuery = Type.Enum([...PROVIDER_NAMES], { description: 'Only this provider\'s calendars: google, outlook or ics' });
/** MeetStream's account filter: the account's email, with provider. */
export const AccountIdQuery = Type.String({ minLength: 1, maxLength: 320, description: 'Only this account (its email, as GET /calendar lists account_id); needs provider' });

const EventFields = {
  title: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 100_000 }))),
  location: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
  start_time: Type.Optional(DateTimeWithOffset({ description: 'Start, ISO 8601 with offset' })),
  end_time: Type.Optional(DateTimeWithOffset({ description: 'End, ISO 8601 with offset' })),
  timezone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone; required with recurrence', 'x-error-code': 'invalid_recurrence' }))),
  meeting_url: Type.Optional(Nullable(Type.String({ maxLength: 4096, description: 'Meeting link; if absent it is detected from location and description', 'x-error-code': 'invalid_meeting_url' }))),
  recurrence: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 100, description: 'RFC 5545 lines: RRULE:, EXDATE:, RDATE:', 'x-error-code': 'invalid_recurrence' }))),
  recurring_event_id: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'For an override instance: the series it belongs to' }))),
  original_start_time: Type.Optional(Nullable(DateTimeWithOffset({ description: 'For an override instance: the original start of the occurrence it replaces' }))),
  status: Type.Optional(Type.Union([Type.Literal('confirmed'), Type.Literal('tentative'), Type.Literal('cancelled')])),
};

export const EventCreateBody = Type.Object(EventFields, { additionalProperties: true });
export const EventPatchBody = Type.Object(EventFields, { additionalProperties: true });

export const EventBot = Type.Object({
  id: Type.String(),
  bot_id: Type.String(),
  status: Type.String(),
  scheduled_join_time: Type.String({ format: 'date-time' }),
  scheduled_time: Type.String({ format: 'date-time' }),
  is_scheduled: Type.Boolean(),
  bot_username: Nullable(Type.String({ description: 'bot_config.bot_name' })),
  platform: Nullable(Type.String({ description: 'The bot\'s meeting platform (zoom, google_meet, microsoft_teams, ...)' })),
});

export const EventResponse = Type.Object({
  id: Type.String(),
  calendar_id: Nullable(Type.String()),
  title: Nullable(Type.String()),
  description: Nullable(Type.String()),
  location: Nullable(Type.String()),
  start_time: Type.String({ format: 'date-time' }),
  end_time: Type.String({ format: 'date-time' }),
  timezone: Nullable(Type.String()),
  meeting_url: Nullable(Type.String()),
  meeting_platform: Nullable(Type.String()),
  recurrence: Nullable(Type.Array(Type.String())),
  recurring_event_id: Nullable(Type.String()),
  original_start_time: Nullable(Type.String({ format: 'date-time', description: 'For an occurrence: where its series\' rule put it (an override\'s original start). Set with recurring_event_id null for a synced occurrence of a series Rollcall does not store (an invitation to one occurrence of someone else\'s series, a feed\'s override whose series is not in the feed); null for any other event' })),
  status: Type.String(),
  is_deleted: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  raw: Type.Object({}, { additionalProperties: true, description: 'Google\'s and Microsoft\'s payload as the provider sent it; for API-written and ICS events an object with Google\'s keys (summary, description, location, start, end, recurrence, recurringEventId, originalStartTime, status, iCalUID)' }),
  bots: Type.Array(EventBot),
  platform: Nullable(Type.String({ description: 'google_calendar | outlook_calendar | ics; null for an event written through the API' })),
  platform_id: Nullable(Type.String({ description: 'The event\'s id at the provider (an occurrence Rollcall expands carries its series\' id); null for an event written through the API' })),
  ical_uid: Nullable(Type.String({ description: 'The iCalendar UID the provider gives (Google and ICS feeds: shared by the occurrences of a series; Outlook: each occurrence its own)' })),
  is_all_day: Type.Boolean({ description: 'An all-day event: a day (Google\'s start.date, Outlook\'s isAllDay, a feed\'s date-valued DTSTART), not a time. start_time and end_time are then midnights: in timezone for Google and ICS events, in UTC for Outlook\'s (Graph gives every all-day event so). Stored as the provider said at the last sync. An occurrence Rollcall expands is as its series, an override instance as its own row; a PATCH keeps it while start_time, end_time and timezone stay as they are, and a PATCH of any of them makes it false. Always false for an event written through the API' }),
});

export const EventListQuery = Type.Object({
  time_min: Type.Optional(QueryDateTimeWithOffset({ description: 'Window start (default now - 1 day)' })),
  time_max: Type.Optional(QueryDateTimeWithOffset({ description: 'Window end (default now + 28 days). Series are expanded only up to 1,830 days (five years) after time_min, or after now when time_min is earlier; ask from a later time_min for their later occurrences' })),
  calendar_id: Type.Optional(Type.String({ maxLength: 1024, description: 'A connection id (cal_...), a provider calendar id (as GET /calendar lists it), or primary' })),
  provider: Type.Optional(ProviderQuery),
  account_id: Type.Optional(AccountIdQuery),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor' })),
  sync: Type.Optional(Type.String({
    pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Aa][Uu][Tt][Oo]|1|0)$',
    description: 'true (or 1, any case): sync the calendars this listing reads from (every connection in the scope, or the one calendar_id names) before reading, for up to 5 s; a sync that fails or takes longer does not fail the listing. false, 0 or auto (the default): read what background sync has stored',
  })),
}, { additionalProperties: true });

export const EventListResponse = Type.Object({
  results: Type.Array(EventResponse),
  next: Nullable(Type.String()),
  previous: Type.Null({ description: 'Always null: pages go forward only (MeetStream\'s list has the field)' }),
  has_more: Type.Boolean(),
  sync_deferred: Type.Optional(Type.Array(Type.Object({
    calendar_id: Type.String({ description: 'The connection not synced' }),
    reason: Type.Union([Type.Literal('retry_after'), Type.Literal('backoff')], { description: 'retry_after: its calendar provider asked Rollcall to wait (Retry-After); backoff: its last syncs failed, and it waits before trying again (the failure is on GET /calendar/connections)' }),
    retry_at: Type.String({ format: 'date-time', description: 'When the wait ends' }),
    next_sync_at: Type.String({ format: 'date-time', description: 'When the connection syncs by itself next' }),
  }), { description: 'With sync=true only, when some connection in scope was not synced because its calendar provider asked Rollcall to wait (Retry-After) or it waits out the backoff after failed syncs: the listing answers from what is stored for it' })),
});

export const EventChangesQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 2000, 'x-error-code': 'invalid_cursor', description: 'next_cursor of the previous page; without it the feed starts from the beginning' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
}, { additionalProperties: true });

export const EventChangesResponse = Type.Object({
  results: Type.Array(EventResponse, { description: 'Events in the order of their latest change, each as stored: a series as its own row, a deleted event with is_deleted true' }),
  next_cursor: Type.String({ description: 'Where to go on from, now or later; given on every page, an empty one included' }),
  has_more: Type.Boolean({ description: 'More changes are there now: ask again at once with next_cursor' }),
});

export const EventIdParams = Type.Object({ event_id: Type.String({ minLength: 1, maxLength: 200 }) });
