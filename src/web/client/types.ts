// Shapes of the API answers the pages read (see /docs for the full schemas).

import type { ActionOrigin } from '../../domain/action-origin.ts';
export interface UpcomingBot {
  bot_id: string;
  status: string;
  platform: string | null;
  meeting_url: string;
  bot_name: string;
  scheduled_join_time: string;
  source: 'api' | 'calendar' | 'auto_schedule';
  /** Its linked events; a bot with none left lists those it had, with is_linked false. */
  events: { event_id: string; title: string | null; calendar_id: string | null; start_time: string; is_linked: boolean; is_all_day: boolean; all_day_zone: string | null }[];
  at_risk: AtRisk | null;
  launch_failing: LaunchFailing | null;
  /** What booked it, as BotDetail's origin. */
  origin: ActionOrigin | null;
}

/** How an ended bot's run came out (ENDED_OUTCOMES in src/domain/bot-status.ts). */
export type EndedOutcome = 'done' | 'failed' | 'cancelled';

export interface EndedBot {
  bot_id: string;
  status: string;
  outcome: EndedOutcome;
  platform: string | null;
  meeting_url: string;
  bot_name: string;
  scheduled_join_time: string;
  ended_at: string | null;
  end_reason: string;
  /** When its stored data was deleted (its meeting link, name, events and reasons went); null while it has them. */
  data_deleted_at: string | null;
  events: { event_id: string; title: string | null; calendar_id: string | null; start_time: string; is_linked: boolean; is_all_day: boolean; all_day_zone: string | null }[];
  /** What booked it, as BotDetail's origin. */
  origin: ActionOrigin | null;
}

/** A launch the runtime refused or did not answer, while it is tried again (the same launch, same idempotency key). */
export interface LaunchFailing {
  attempts: number;
  last_error: string;
  next_attempt_at: string;
  /** next_attempt_at is the meeting's end, where the bot fails without another attempt. */
  fails_at_meeting_end: boolean;
}

/** Why a waiting bot will be cancelled at its join time unless its calendar's access returns first (spec section 12). */
export interface AtRisk {
  reason: string;
  /** The calendars its meetings are on that Rollcall cannot read (AtRiskCalendar in src/services/scheduling/upcoming-bots.ts). */
  calendars: AtRiskCalendar[];
}

export interface AtRiskCalendar {
  /** The connection's id, as Connection's calendar_id. */
  calendar_id: string;
  provider: 'ics' | 'google' | 'outlook';
  account: string | null;
  provider_calendar_id: string | null;
  name: string | null;
  cause: 'connection_revoked' | 'calendar_refused' | (string & {});
}

export interface Page<T> {
  next: string | null;
  has_more: boolean;
  items: T[];
}

export interface LaunchHistogram {
  from: string;
  to: string;
  bucket_minutes: number;
  buckets: { start: string; launches: number }[];
  total: number;
  peak: { start: string; launches: number } | null;
  launch_limit_per_minute: number | null;
}

export interface StatusChange {
  id: number;
  bot_id: string;
  status: string;
  reason: string;
  at: string;
}

export interface BotDetail {
  bot_id: string;
  status: string;
  platform: string | null;
  meeting_url: string;
  deduplication_key: string;
  scheduled_join_time: string;
  launched_at: string | null;
  schedule_id: string | null;
  schedule_state: string | null;
  bot_config: { bot_name?: string; callback_url?: string } & Record<string, unknown>;
  custom_attributes: Record<string, string>;
  /** `all_day_zone`: for an all-day event, the zone whose midnights its times and its occurrences' keys are; null otherwise. */
  events: { event_id: string; occurrence_id: string | null; occurrence_start: string | null; start_time: string; end_time: string; is_linked: boolean; removed_at: string | null; is_all_day: boolean; all_day_zone: string | null }[];
  status_timeline: { status: string; at: string; reason: string }[];
  decisions: { at: string; kind: string; reason: string; details: Record<string, unknown> }[];
  created_at: string;
  at_risk: AtRisk | null;
  launch_failing: LaunchFailing | null;
  /** When its stored data was deleted; null while it has it. */
  data_deleted_at: string | null;
  /** What booked it; null for a bot booked before origins were stored whose history did not say. */
  origin: ActionOrigin | null;
}

export interface Delivery {
  delivery_id: string;
  bot_id: string;
  /** The bot's meeting as the pages name it; '' once its data was deleted. */
  meeting_title: string;
  bot_name: string;
  /** The payload's bot_event (bot.cancelled); `payload_event` is its event (bot.stopped for every end). */
  event: string;
  payload_event: string;
  bot_status: string | null;
  url: string;
  status: 'pending' | 'retrying' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  /** The oldest message of its bot to its URL still to go out, which this one waits for; null when none is older. */
  queued_behind: { delivery_id: string; event: string; next_attempt_at: string } | null;
}

/** A bot's line to a callback URL, gone after a 410: `delivery_id`, redelivered and taken, opens it again. */
export interface GoneLine {
  bot_id: string;
  /** '' when unknown. */
  meeting_title: string;
  delivery_id: string;
}

/** A callback URL and how it stands (GET /webhooks/urls). */
export interface WebhookUrl {
  url: string;
  state: 'ok' | 'paused' | 'disabled';
  /** Its messages go one at a time until one is taken (a struggling receiver's pause over). */
  paced: boolean;
  failing_since: string | null;
  last_failure_at: string | null;
  paused_until: string | null;
  disabled_at: string | null;
  /** The latest message that failed: redelivered and taken, it opens the URL again. */
  reopen_delivery_id: string | null;
  waiting: number;
  failed_unsent: number;
  gone_bots: number;
  gone_lines: GoneLine[];
  last_queued_at: string | null;
}

export interface Connection {
  calendar_id: string;
  provider: 'ics' | 'google' | 'outlook';
  user_email: string | null;
  user_name: string | null;
  ics_url: string | null;
  status: string;
  last_sync_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  sync_failing_since: string | null;
  /** When the failing run was reported (calendar.sync_failing); null: not reported, or not failing. */
  sync_failing_reported_at: string | null;
  /** The provider ids of the calendars the report is about; null: the whole connection, or not reported. */
  failing_calendars: string[] | null;
  next_sync_at: string | null;
  push_enabled: boolean;
  calendars: { id: string; summary: string | null; isPrimary: boolean; push: { active: boolean; channel_id: string | null; expires_at: string | null; last_notification_at: string | null; error: string | null }; read_error: string | null; next_read_at: string | null; access_refused_since: string | null }[];
}

export interface AutoScheduleRules {
  organizer: 'anyone' | 'me';
  response: 'any' | 'accepted';
  participants: 'any' | 'external' | 'internal';
  recurring: 'include' | 'exclude';
}

export interface AutoScheduleSettings {
  auto_schedule_enabled: boolean;
  default_bot_config: Record<string, unknown>;
  rules: AutoScheduleRules;
  message?: string;
  bots_scheduled?: number;
  bots_taken_back?: number;
}

/** What saving rules would do now (POST /calendar/auto-schedule/preview). */
export interface AutoSchedulePreview {
  rules: AutoScheduleRules;
  bots_scheduled: number;
  bots_taken_back: number;
  taken_back: { event_id: string; title: string | null; start_time: string; bot_id: string; refusal: string; bot_cancelled: boolean }[];
}

export interface CalendarEvent {
  id: string;
  calendar_id: string | null;
  title: string | null;
  start_time: string;
  end_time: string;
  meeting_url: string | null;
  meeting_platform: string | null;
  recurring_event_id: string | null;
  status: string;
  timezone: string | null;
  platform: string | null;
  /** A day, not a time: its start and end are midnights (allDayZone in src/domain/all-day.ts says whose). */
  is_all_day: boolean;
  bots: { bot_id: string; status: string; scheduled_join_time: string; is_scheduled: boolean }[];
}

export interface WebhookSecret {
  secret: string;
  rotated_at: string | null;
  previous_secret_valid_until: string | null;
}
