import { Type } from 'typebox';
import { RETIRED_STATUS_NAMES, RUNTIME_REPORTABLE_STATUSES } from '../../domain/bot-status.ts';
import { Nullable } from './common.ts';

export const BotIdParams = Type.Object({ bot_id: Type.String({ minLength: 1, maxLength: 200 }) });

const StringMap = Type.Record(Type.String(), Type.String());

export const BotStatusResponse = Type.Object({ bot_id: Type.String(), status: Type.String(), custom_attributes: StringMap });

/** GET /bots/{bot_id} and GET /bots/upcoming: why a waiting bot will not join unless something changes first. */
export const BotAtRisk = Nullable(Type.Object({
  reason: Type.Literal('calendar_access_revoked', {
    description: 'Every event the bot is linked to is on a calendar Rollcall can no longer read (its connection lost its access, or the calendar refuses its reader): unless access returns before the join time, the bot is cancelled then with this reason. More reasons may be added',
  }),
  calendars: Type.Array(Type.Object({
    calendar_id: Type.String({ description: 'The calendar connection (as GET /calendar/connections lists it)' }),
    provider: Type.Union([Type.Literal('ics'), Type.Literal('google'), Type.Literal('outlook')]),
    account: Nullable(Type.String({ description: 'The account\'s address (Google, Outlook), or the feed\'s address without its path and query (ICS; as the connection\'s ics_url shows it)' })),
    provider_calendar_id: Nullable(Type.String({ description: 'The provider\'s id for the calendar within the account; null for a feed' })),
    name: Nullable(Type.String({ description: 'The calendar\'s own name, as the provider gives it; null when it has none' })),
    cause: Type.Union([Type.Literal('connection_revoked'), Type.Literal('calendar_refused')], {
      description: 'connection_revoked: the connection lost its access (auth_revoked); calendar_refused: this calendar refuses its reader or is gone while the account\'s others read',
    }),
  }), { description: 'The calendars the bot\'s meetings are on that Rollcall cannot read: connect the account again (or give it access to the calendar) to keep the bot' }),
}, { description: 'Set while the bot waits (Scheduled) and would be cancelled at its join time; null otherwise' }));

/** GET /bots/{bot_id} and GET /bots/upcoming: a launch being retried after the runtime refused it or did not answer. */
export const BotLaunchFailing = Nullable(Type.Object({
  attempts: Type.Integer({ description: 'Launch attempts so far' }),
  last_error: Type.String({ description: 'Why the last attempt failed (the runtime\'s answer, or no answer)' }),
  next_attempt_at: Type.String({ format: 'date-time' }),
  fails_at_meeting_end: Type.Boolean({ description: 'The runtime asked to wait past the meeting\'s end: next_attempt_at is that end, where the bot fails (Error) without another attempt, unless the meeting moves later first' }),
}, { description: 'A launch the runtime refused or did not answer, being retried (same idempotency key); null otherwise' }));

/** What booked a bot (bots.origin), as a bot's detail and the dashboard's lists give it. */
export const BotOrigin = Nullable(Type.Union([Type.Literal('api'), Type.Literal('dashboard'), Type.Literal('auto_schedule'), Type.Literal('chain'), Type.Literal('batch_top_up')]), { description: 'What booked the bot: api (a request with an API key), dashboard (the same request from the dashboard), auto_schedule, chain (chain mode booking the next occurrence), batch_top_up (a schedule_all_occurrences batch booking an occurrence that had no bot); null for a bot booked before origins were stored whose history did not say' });

export const BotDetailResponse = Type.Object({
  bot_id: Type.String(),
  status: Type.String(),
  platform: Nullable(Type.String()),
  meeting_url: Type.String(),
  meeting_identity: Type.String(),
  deduplication_key: Type.String(),
  scheduled_time: Type.String({ format: 'date-time' }),
  scheduled_join_time: Type.String({ format: 'date-time' }),
  launched_at: Nullable(Type.String({ format: 'date-time' })),
  schedule_id: Nullable(Type.String()),
  schedule_state: Nullable(Type.String()),
  bot_config: Type.Object({}, { additionalProperties: true }),
  custom_attributes: StringMap,
  events: Type.Array(Type.Object({
    event_id: Type.String(),
    occurrence_id: Nullable(Type.String()),
    occurrence_start: Nullable(Type.String()),
    start_time: Type.String(),
    end_time: Type.String(),
    is_linked: Type.Boolean({ description: 'Whether this event still holds the bot: false once it let go of the bot, or once the bot ended (which lets go of every event)' }),
    removed_at: Nullable(Type.String({ format: 'date-time', description: 'When this event let go of the bot while the bot was live, whether or not the bot ended for it: the event deleted or cancelled (or its occurrence gone), moved into the past before the bot went to its meeting (a bot whose launch the runtime took, joining or in its meeting, keeps its event however late the meeting runs), its meeting link taken out or changed to one a bot cannot be sent to, or, shared with other events, now pointing at another meeting; the bot unscheduled from it or its calendar disconnected; auto-schedule taking back its bot (the invitation declined, or the meeting no longer passing the rules); or the bot giving way at launch to another bot going to the same meeting, which took the event. Null while it holds the bot, for an event the bot let go of by ending (it ran its meeting, was missed, failed or was cancelled), and for one that let go of it before this was stored (migration 058)' })),
    is_all_day: Type.Boolean({ description: 'An all-day event, or an occurrence of an all-day series: the pages name it by its date, not a time' }),
    all_day_zone: Nullable(Type.String({ description: 'For an all-day one, the zone whose midnights its times and its occurrences\' keys are, to read its dates in (the event\'s zone for Google and ICS, UTC for Outlook); null otherwise' })),
  })),
  status_timeline: Type.Array(Type.Object({ status: Type.String(), at: Type.String(), reason: Type.String() })),
  decisions: Type.Array(Type.Object({ at: Type.String(), kind: Type.String(), reason: Type.String(), details: Type.Object({}, { additionalProperties: true }) })),
  created_at: Type.String(),
  updated_at: Type.String(),
  at_risk: BotAtRisk,
  launch_failing: BotLaunchFailing,
  data_deleted_at: Nullable(Type.String({ format: 'date-time', description: 'When the bot\'s stored data was deleted (DELETE /bots/{bot_id}/delete): its meeting link, configuration, key, decision log and status reasons are gone; null while it has them' })),
  origin: BotOrigin,
});

export const StatusReportBody = Type.Object({
  // Retired names (Failed) are still accepted from runtimes written before the rename.
  status: Type.Union([...RUNTIME_REPORTABLE_STATUSES, ...Object.keys(RETIRED_STATUS_NAMES)].map((s) => Type.Literal(s)), { 'x-error-code': 'validation_error', description: 'Failed is still accepted and means Error' }),
  message: Type.Optional(Type.String({ maxLength: 2000 })),
  kicked: Type.Optional(Type.Boolean({ 'x-error-code': 'validation_error', description: 'With Stopped: the host removed the bot from the meeting (the webhook is bot.kicked instead of bot.stopped)' })),
}, { additionalProperties: true });

export const StatusReportResponse = Type.Object({
  bot_id: Type.String(),
  status: Type.String(),
  previous_status: Type.String(),
  changed: Type.Boolean(),
  already_ended: Type.Optional(Type.Literal(true, { description: 'The bot had ended (or was cancelled) and the report names another ending: the first stands, nothing changed' })),
});

export const WebhookSecretResponse = Type.Object({
  secret: Type.String(),
  rotated_at: Nullable(Type.String()),
  previous_secret_valid_until: Nullable(Type.String({ description: 'When the last of the rotated-out secrets still signing stops (each signs for a day after its own rotation); null when none does' })),
});
