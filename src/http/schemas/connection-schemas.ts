import { Type } from 'typebox';
import { Nullable, OptionalField } from './common.ts';
import { NULL_HINT_KEYWORD } from '../validation.ts';
import { BotConfig } from './schedule-schemas.ts';
import { AccountIdQuery, ProviderQuery } from './event-schemas.ts';
import { PROVIDER_NAMES } from '../../services/calendars/calendar-scope.ts';

const Secret = (name: string) => Type.String({ minLength: 1, maxLength: 4096, description: `${name} (stored encrypted, never returned)` });
const CallbackUrl = OptionalField(Type.String({
  maxLength: 2048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', 'x-error-code': 'callback_url_not_allowed',
  description: 'Where connection webhooks (calendar.auth_revoked, calendar.sync_failing, calendar.sync_restored) are sent; defaults to the auto-schedule callback_url',
}));

// No null: left out, a first connect syncs every calendar of the account (a null, often a
// selection that found nothing, would widen what is synced and booked), so null is refused.
const CalendarIds = Type.Optional(Type.Union([
  Type.Literal('all'),
  Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { minItems: 1, maxItems: 500 }),
], {
  [NULL_HINT_KEYWORD]: 'give "all" or a list of calendar ids; leave it out only to sync every calendar (on a first connect) or keep the earlier choice (on a reconnect)',
  description: 'Which calendars of the account to sync: "all" (the default: the primary calendar and every other calendar the account owns) or a list of calendar ids from available_calendars. Calendars added to the account later are picked up when "all" is chosen. On a reconnect without this field the earlier choice stays.',
}));

export const IcsConnectBody = Type.Object({
  ics_url: Type.String({ minLength: 1, maxLength: 4096, description: 'https:// or webcal:// iCalendar feed URL (stored encrypted when a key is configured, shown redacted)' }),
  callback_url: CallbackUrl,
}, { additionalProperties: true });

export const GoogleConnectBody = Type.Object({
  google_client_id: Secret('OAuth client id'),
  google_client_secret: Secret('OAuth client secret'),
  google_refresh_token: Secret('Refresh token with calendar.readonly'),
  callback_url: CallbackUrl,
  calendar_ids: CalendarIds,
}, { additionalProperties: true });

export const MicrosoftConnectBody = Type.Object({
  microsoft_client_id: Secret('Application (client) id'),
  microsoft_client_secret: Secret('Client secret value'),
  microsoft_refresh_token: Secret('Refresh token with Calendars.Read, User.Read and offline_access'),
  replace: OptionalField(Type.Boolean({ default: false, description: 'Replace the connection if this account is already connected (otherwise 409)' })),
  callback_url: CallbackUrl,
  calendar_ids: CalendarIds,
}, { additionalProperties: true });

export const CalendarIdParams = Type.Object({ calendar_id: Type.String({ minLength: 1, maxLength: 200 }) });

/** MeetStream's calendar fields (GetCalendarsResponse), from the account's calendar list as last read. */
const MeetStreamCalendarFields = {
  description: Nullable(Type.String()),
  accessRole: Nullable(Type.String({ description: 'owner | writer | reader | freeBusyReader' })),
  backgroundColor: Nullable(Type.String({ description: 'Hex colour, e.g. #9fe1e7' })),
  foregroundColor: Nullable(Type.String()),
  selected: Type.Boolean({ description: 'Shown in the account\'s calendar UI (Google\'s flag; true for Outlook and ICS)' }),
  hidden: Type.Boolean({ description: 'Hidden from the account\'s calendar list (Google\'s flag; false for Outlook and ICS)' }),
};

const CalendarView = Type.Object({
  id: Type.String(),
  summary: Nullable(Type.String()),
  isPrimary: Type.Boolean(),
  timeZone: Nullable(Type.String()),
  ...MeetStreamCalendarFields,
  push: Type.Object({
    active: Type.Boolean(),
    channel_id: Nullable(Type.String()),
    expires_at: Nullable(Type.String({ format: 'date-time' })),
    last_notification_at: Nullable(Type.String({ format: 'date-time' })),
    error: Nullable(Type.String()),
  }),
  read_error: Nullable(Type.String({ description: 'Why the last read of this calendar failed, when the failure was the calendar\'s ("kind: message": not_found, auth_revoked, permanent); null once a read works' })),
  next_read_at: Nullable(Type.String({ format: 'date-time', description: 'When a calendar failing while the account\'s others sync is read again (it backs off on its own, 30 s doubling to an hour; POST .../sync and a reconnect read it at once); null when it is read at every sync' })),
  access_refused_since: Nullable(Type.String({ format: 'date-time', description: 'Since when this calendar refuses its reader or is gone (403, 404) while the account\'s others read; its bots that depend on nothing else are at risk (bot.at_risk) and are not launched unless a read works before their join time. Null once a read works' })),
});

const ConnectionFields = {
  calendar_id: Type.String({ description: 'cal_...' }),
  provider: Type.String({ description: 'ics | google | outlook' }),
  platform: Type.String({ description: 'ics_calendar | google_calendar | outlook_calendar' }),
  account_id: Nullable(Type.String()),
  user_email: Nullable(Type.String()),
  user_name: Nullable(Type.String()),
  ics_url: Nullable(Type.String({ description: 'The feed URL with its path hidden' })),
  primary_calendar_id: Nullable(Type.String()),
  status: Type.String({ description: 'active | auth_revoked' }),
  callback_url: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  last_sync_at: Nullable(Type.String({ format: 'date-time' })),
  last_error: Nullable(Type.String()),
  last_error_at: Nullable(Type.String({ format: 'date-time' })),
  sync_failing_since: Nullable(Type.String({ format: 'date-time', description: 'When the current run of failed syncs began; null while the last sync worked. Once it has lasted CALENDAR_SYNC_FAILING_AFTER_SECONDS a calendar.sync_failing webhook is sent' })),
  sync_failing_reported_at: Nullable(Type.String({ format: 'date-time', description: 'When the current run of failed syncs was reported (calendar.sync_failing); null while it is not' })),
  failing_calendars: Nullable(Type.Array(Type.String(), { description: 'While the run is reported: the provider ids of the calendars the report is about, as the last calendar.sync_failing named them; null when it is about the whole connection, or not reported' })),
  next_sync_at: Nullable(Type.String({ format: 'date-time' })),
  push_enabled: Type.Boolean(),
  calendars: Type.Array(CalendarView),
};

export const ConnectionResponse = Type.Object(ConnectionFields);

export const ConnectionListResponse = Type.Object({ total: Type.Integer(), connections: Type.Array(ConnectionResponse) });

export const ConnectResponse = Type.Object({
  ...ConnectionFields,
  message: Type.String(),
  replaced: Type.Boolean({ description: 'True when the account or feed was connected already and this connect replaced that connection (its id, its calendars\' sync state and, without calendar_ids, its choice of calendars stay); false for a new connection.' }),
  available_calendars: Type.Array(Type.Object({
    id: Type.String(), summary: Nullable(Type.String()), isPrimary: Type.Boolean(), accessRole: Nullable(Type.String()), timeZone: Nullable(Type.String()), synced: Type.Boolean(),
  })),
  watch_setup: Type.Object({
    success: Type.Boolean(),
    status: Type.String(),
    watches_setup: Type.Integer(),
    subscriptions_setup: Type.Optional(Type.Integer({ description: 'Outlook: the same count, under MeetStream\'s name for Graph subscriptions' })),
    message: Type.String(),
    failed_calendars: Type.Array(Type.String()),
    watch_results: Type.Array(Type.Object({ calendar_id: Type.String(), calendar_summary: Nullable(Type.String()), channel_id: Type.String(), expiration: Type.String() })),
  }),
  sync: Type.Object({ synced: Type.Boolean(), created: Type.Integer(), updated: Type.Integer(), cancelled: Type.Integer(), error: Nullable(Type.String()) }),
});

export const SyncResponse = Type.Object({
  calendar_id: Type.String(),
  synced: Type.Boolean(),
  created: Type.Integer(),
  updated: Type.Integer(),
  cancelled: Type.Integer(),
  status: Type.String(),
  synced_at: Nullable(Type.String({ format: 'date-time' })),
  next_sync_at: Nullable(Type.String({ format: 'date-time' })),
  failure: Nullable(Type.Object({ kind: Type.String({ description: 'auth_revoked | rate_limited | not_found | transient | permanent' }), message: Type.String(), retry_after_seconds: Type.Optional(Type.Integer()) })),
  message: Type.String(),
});

export const DisconnectResponse = Type.Object({
  calendar_id: Type.String(),
  disconnected: Type.Boolean(),
  events_deleted: Type.Integer(),
  events_kept: Type.Integer({ description: 'With purge_events=false: the events kept, no longer synced' }),
  bots_cancelled: Type.Integer(),
  watch_channels_stopped: Type.Integer(),
  message: Type.String(),
});

// No schema default: the disconnect merges the query with the body, and a default filled into
// an absent body field would win over the query's purge_events=false (the service defaults it).
const PurgeEvents = Type.Boolean({ [NULL_HINT_KEYWORD]: 'give true or false; leave it out only to delete the connection\'s events (true)', description: 'false keeps the connection\'s events (no longer synced, calendar_id null); their scheduled bots are cancelled either way. Default: true' });

export const DisconnectQuery = Type.Object({
  purge_events: Type.Optional(PurgeEvents),
}, { additionalProperties: true });

const DisconnectProvider = Type.Enum([...PROVIDER_NAMES], { [NULL_HINT_KEYWORD]: 'name the provider; leave it out only to take the query\'s provider, or the only connection', description: 'Remove this provider\'s connections: google, outlook or ics' });
const DisconnectAccount = Type.String({ minLength: 1, maxLength: 320, [NULL_HINT_KEYWORD]: 'name the account; leave it out only to disconnect every account of the provider', description: 'With provider: remove only this account\'s connection (its email)' });

/**
 * MeetStream's scoped disconnect; every field optional, unknown fields (e.g. Google credentials)
 * ignored. None takes null: each one left out widens what is removed (no account_id: every
 * connection of the provider; no provider: the query's, or the only connection; no purge_events:
 * the events are deleted), so a null, often a lookup that found nothing, is refused rather than
 * read as left out.
 */
export const ScopedDisconnectBody = Type.Object({
  provider: Type.Optional(DisconnectProvider),
  account_id: Type.Optional(DisconnectAccount),
  purge_events: Type.Optional(PurgeEvents),
}, { additionalProperties: true });
export const ScopedDisconnectQuery = Type.Object({
  provider: Type.Optional(DisconnectProvider),
  account_id: Type.Optional(DisconnectAccount),
  purge_events: Type.Optional(PurgeEvents),
}, { additionalProperties: true });

export const ScopedDisconnectResponse = Type.Object({
  disconnected: Type.Boolean(),
  user_id: Type.String(),
  watch_channel_stopped: Type.Boolean({ description: 'Whether a push channel or subscription was stopped' }),
  watch_channels_stopped: Type.Integer(),
  events_deleted: Type.Integer(),
  events_kept: Type.Integer(),
  schedules_cancelled: Type.Integer({ description: 'Scheduled bots cancelled (each had one schedule)' }),
  bots_cancelled: Type.Integer(),
  message: Type.String(),
  disconnected_connections: Type.Array(Type.Object({
    ...DisconnectResponse.properties,
    provider: Type.String(),
    account_id: Nullable(Type.String()),
  })),
});

export const CalendarListQuery = Type.Object({
  provider: Type.Optional(ProviderQuery),
  account_id: Type.Optional(AccountIdQuery),
}, { additionalProperties: true });

const ConnectionSummary = Type.Object({
  connection_id: Type.String(),
  account_id: Nullable(Type.String()),
  email: Nullable(Type.String()),
  status: Type.String(),
  calendars_count: Type.Integer(),
});

export const CalendarListResponse = Type.Object({
  total: Type.Integer({ description: 'Number of calendars listed' }),
  user_id: Type.String(),
  calendars: Type.Array(Type.Object({
    id: Type.String({ description: 'The provider\'s calendar id (Google: an email or group id; Outlook: Graph\'s id); for an ICS feed its connection id' }),
    summary: Nullable(Type.String()),
    isPrimary: Type.Boolean(),
    timeZone: Nullable(Type.String()),
    ...MeetStreamCalendarFields,
    provider: Type.String({ description: 'google | outlook | ics' }),
    account_id: Nullable(Type.String({ description: 'The account\'s email; null for ICS' })),
    connection_id: Type.String({ description: 'cal_...' }),
    synced: Type.Boolean({ description: 'Whether Rollcall syncs this calendar\'s events' }),
  })),
  google: Type.Array(ConnectionSummary),
  outlook: Type.Array(ConnectionSummary),
  ics: Type.Array(ConnectionSummary),
});

// The rules take no null: a rule left out is its widest value (every meeting gets a bot), and a
// null, often a setting that was never loaded, is refused rather than read so.
const AutoScheduleRules = Type.Object({
  organizer: Type.Optional(Type.Union([Type.Literal('anyone'), Type.Literal('me')], { [NULL_HINT_KEYWORD]: 'give anyone or me; leave it out only for anyone (meetings of every organizer)', description: 'me: only meetings the calendar\'s owner organizes (default anyone)' })),
  response: Type.Optional(Type.Union([Type.Literal('any'), Type.Literal('accepted')], { [NULL_HINT_KEYWORD]: 'give any or accepted; leave it out only for any (invitations not accepted too)', description: 'accepted: only meetings the owner accepted or organizes; tentative and unanswered invitations are left (default any; declined ones never get a bot)' })),
  participants: Type.Optional(Type.Union([Type.Literal('any'), Type.Literal('external'), Type.Literal('internal')], { [NULL_HINT_KEYWORD]: 'give any, external or internal; leave it out only for any (meetings with or without outside guests)', description: 'external: only meetings with someone from another email domain than the calendar account\'s; internal: only meetings without (rooms do not count; default any)' })),
  recurring: Type.Optional(Type.Union([Type.Literal('include'), Type.Literal('exclude')], { [NULL_HINT_KEYWORD]: 'give include or exclude; leave it out only for include (every occurrence of a series)', description: 'exclude: no occurrence of a recurring series (default include)' })),
}, { additionalProperties: false, description: 'Which meetings get a bot (Rollcall\'s own). Given, they replace the stored rules (each one left out is its default); left out, the stored rules stay. Rules about the owner\'s part never hold for an ICS feed\'s events (a feed names nobody)' });

export const AutoScheduleEnableBody = Type.Object({
  default_bot_config: OptionalField(BotConfig),
  rules: OptionalField(AutoScheduleRules),
}, { additionalProperties: true, description: 'Both optional (MeetStream\'s SetupCronRequest, which its SDKs send as {} by default): default_bot_config left out is the stored one ({} the first time), rules left out the stored rules' });

export const AutoSchedulePreviewBody = Type.Object({
  default_bot_config: OptionalField(BotConfig),
  rules: OptionalField(AutoScheduleRules),
}, { additionalProperties: true, description: 'An enable body to preview. rules as enable takes them (each one left out is its default); left out, the stored rules. default_bot_config (left out: the stored one) decides which meetings a booking would refuse' });

export const AutoSchedulePreviewResponse = Type.Object({
  rules: Type.Object({
    organizer: Type.String(), response: Type.String(), participants: Type.String(), recurring: Type.String(),
  }, { description: 'The rules previewed, defaults filled in' }),
  bots_scheduled: Type.Integer({ description: 'Upcoming synced meetings that would get a new bot' }),
  bots_taken_back: Type.Integer({ description: 'Meetings that would lose the bot auto-schedule booked for them (not launched yet)' }),
  taken_back: Type.Array(Type.Object({
    event_id: Type.String(),
    title: Nullable(Type.String()),
    start_time: Type.String({ format: 'date-time' }),
    bot_id: Type.String(),
    refusal: Type.String({ description: 'Which rule refuses the meeting' }),
    bot_cancelled: Type.Boolean({ description: 'Whether the bot is cancelled (false: it stays for another copy of the meeting that passes)' }),
  }), { description: 'Those meetings, soonest first, at most 50' }),
});

export const AutoScheduleResponse = Type.Object({
  auto_schedule_enabled: Type.Boolean(),
  default_bot_config: Type.Object({}, { additionalProperties: true, description: '{} when auto-schedule was never enabled' }),
  rules: Type.Object({
    organizer: Type.String(), response: Type.String(), participants: Type.String(), recurring: Type.String(),
  }, { description: 'The rules in force, defaults filled in' }),
  message: Type.Optional(Type.String()),
  bots_scheduled: Type.Optional(Type.Integer()),
  bots_taken_back: Type.Optional(Type.Integer({ description: 'Meetings whose auto-scheduled bot (not launched) was taken back because they no longer pass the rules' })),
});
