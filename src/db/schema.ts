// Table shapes as the database stores them. Times are epoch milliseconds (bigint on PostgreSQL,
// INTEGER on SQLite) so that comparisons and ordering mean the same on both engines; booleans
// are 0/1 integers for the same reason; JSON documents are stored as text.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { DecisionKind } from '../domain/decision-kinds.ts';

export interface UsersTable {
  id: string;
  name: string;
  /** Standard Webhooks secret (whsec_...) used to sign this user's status webhooks. */
  webhook_secret: string;
  webhook_secret_rotated_at: number | null;
  created_at: number;
}

/** A webhook secret a rotation replaced: it signs beside the current one until valid_until (migration 028). */
export interface RetiredWebhookSecretsTable {
  id: Generated<number>;
  user_id: string;
  /** Sealed like users.webhook_secret. */
  secret: string;
  retired_at: number;
  valid_until: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  /** sha256 of the whole key; the key itself is never stored. */
  key_hash: string;
  /** First characters of the key, shown in listings so a person can tell keys apart. */
  key_prefix: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface EventsTable {
  id: string;
  user_id: string;
  calendar_id: string | null;
  /** The provider's own id for synced events; null for events written through the API. */
  provider_event_id: string | null;
  title: string | null;
  description: string | null;
  location: string | null;
  start_ms: number;
  end_ms: number;
  timezone: string | null;
  meeting_url: string | null;
  meeting_platform: string | null;
  meeting_identity: string | null;
  /** JSON array of RFC 5545 lines; null for a single event or an override instance. */
  recurrence: string | null;
  recurring_event_id: string | null;
  original_start_ms: number | null;
  status: string;
  is_deleted: number;
  /** JSON: the provider payload, or { summary, description, location } for API-written events. */
  raw: string;
  created_at: number;
  updated_at: number;
  /** Expanded-instance providers (Graph): the provider id of the series this instance belongs to (migration 005). */
  provider_series_id: string | null;
  /** google_calendar | outlook_calendar | ics for a synced event; null when written through the API (migration 010). */
  platform: string | null;
  /** The provider's id of the calendar a Google or Microsoft event is on; null otherwise (migration 010). */
  provider_calendar_id: string | null;
  /** An Outlook occurrence's series rule as one RRULE line (its master's pattern); null otherwise (migration 030). */
  series_rule: string | null;
  /** 1: the client gave meeting_url; 0: it was found in the text; null: synced, or written before migration 033. */
  meeting_url_given: number | null;
  /**
   * A series: an instant after which none of the occurrences its rule makes (RRULE, RDATE, EXDATE;
   * not its override instances) is going on; null when the rule has no end (migration 036).
   * Null for every other event.
   */
  series_end_ms: number | null;
  /**
   * An ICS series in a zone no IANA zone keeps: its VTIMEZONE's observances as JSON
   * (observed-offsets.ts, observancesText), by which it is expanded (migration 049). Null otherwise.
   */
  zone_rules: string | null;
  /**
   * 1: an all-day event (a day, not a time: Google's start.date, Graph's isAllDay, a feed's
   * date-valued DTSTART), as the provider said when it was last read; 0 otherwise, and always for
   * an event written through the API (migration 053). Every write in the server gives it; 0 by default.
   */
  is_all_day: ColumnType<number, number | undefined, number>;
}

export interface BotsTable {
  id: string;
  user_id: string;
  deduplication_key: string;
  /** sha256 (hex) of deduplication_key (migration 004). */
  deduplication_key_hash: string;
  /**
   * 1 while the bot is live (LIVE_STATUSES), 0 once it has ended: the one-live-bot-per-key unique
   * index is partial on this (migration 012), so that a change between two live statuses (the
   * launch) touches no index.
   */
  is_live: number;
  meeting_url: string;
  meeting_platform: string | null;
  meeting_identity: string;
  status: string;
  /** JSON: the applied bot_config with defaults filled in. */
  bot_config: string;
  /** JSON object of string values. */
  custom_attributes: string;
  /** Current join time. */
  join_at_ms: number;
  /** 1 when the client fixed the join time (join_at / PATCH); calendar moves then leave it alone. */
  is_join_time_pinned: number;
  /** Latest end of the meetings this bot serves; after it, launching is pointless. */
  meeting_end_ms: number;
  launched_at: number | null;
  source: string;
  /** The bot provider holding this bot (recall, meetstream, attendee); null for other runtimes. */
  provider_name: string | null;
  /** The provider's id for this bot, recorded when the launch was accepted. */
  provider_bot_id: string | null;
  /** When the provider's latest applied status report happened, by its clock (migration 026); older ones change nothing. */
  provider_reported_at_ms: number | null;
  created_at: number;
  updated_at: number;
  /** sha256 of the Idempotency-Key of POST /bots/create_bot; one bot per key and user (migration 008). */
  idempotency_key_hash: string | null;
  /** When DELETE /bots/{id}/delete scrubbed the bot's stored data; the row itself stays. */
  data_deleted_at: number | null;
  /** When the bot reached the status it ended in (transitionBot); null while it is live (migration 034). */
  ended_at_ms: number | null;
  /** What booked it (ActionOrigin: api, dashboard, auto_schedule, chain, batch_top_up); null for a bot created before migration 050 whose status reason did not say. */
  origin: string | null;
}

export interface BotEventsTable {
  id: Generated<number>;
  bot_id: string;
  user_id: string;
  event_id: string;
  /** '' for a single event; the occurrence key (e.g. 20261124T140000Z) for one occurrence of a series. */
  occurrence_key: string;
  /** Start and end of the (occurrence of the) event when it was linked or last synced. */
  start_ms: number;
  end_ms: number;
  /** Whether this link still holds: 0 once the event is unscheduled or the bot has finished. */
  is_live: number;
  /** Why an ended link ended, where it matters: 'declined' or 'rules' (migration 020: auto-schedule took it back); else null. */
  end_cause: string | null;
  /**
   * When the event let go of the bot while the bot was live (migration 058: deleted, cancelled or
   * moved into the past before the bot went to its meeting, its meeting link taken out or now another meeting's, unscheduled, its
   * calendar disconnected, an invitation declined or the rules no longer passed so auto-schedule
   * took the bot back, or the bot giving way to another at launch); null while the link holds,
   * for a link the bot's own ending ended, and for links ended before migration 058.
   */
  let_go_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface SchedulesTable {
  id: string;
  bot_id: string;
  user_id: string;
  schedule_group: string;
  due_at_ms: number;
  /** pending -> firing -> done; or cancelled. */
  state: string;
  attempts: number;
  /** While firing: the instance that claimed it and until when the claim holds. */
  lease_owner: string | null;
  lease_until_ms: number | null;
  /** Stays the same on every retry of one launch, so the runtime can drop repeats. */
  idempotency_key: string;
  /** Capability token a runtime presents to report this bot's status. */
  status_token: string;
  last_error: string | null;
  /** A launch retry's time as asked (backoff or Retry-After), before it was held to the meeting's end; null when no retry wrote it (migration 040). */
  retry_asked_at_ms: number | null;
  created_at: number;
  updated_at: number;
}

export interface BotDecisionsTable {
  id: Generated<number>;
  bot_id: string;
  at_ms: number;
  /** Read as a string (a row may predate today's kinds); written only as one of DECISION_KINDS. */
  kind: ColumnType<string, DecisionKind, DecisionKind>;
  reason: string;
  /** JSON object with the facts behind the decision. */
  details: string;
}

export interface BotStatusChangesTable {
  id: Generated<number>;
  bot_id: string;
  at_ms: number;
  status: string;
  reason: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  /** The webhook-id header value: the same on every attempt. */
  message_id: string;
  user_id: string;
  bot_id: string;
  url: string;
  /** The exact JSON body that is signed and sent. */
  payload: string;
  /** pending -> delivered | failed */
  state: string;
  attempts: number;
  next_attempt_at_ms: number;
  lease_until_ms: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  /** 1 once its owner redelivered it: sent even to a URL gone for its bot (migration 046). */
  redelivered: Generated<number>;
  /** When its latest attempt was sent; null if never tried (migration 052). */
  last_attempt_at_ms: Generated<number | null>;
}

/**
 * A bot's callback URL whose receiver answered 410 Gone, until a message of the bot to it is taken
 * (migration 046). `bot_id` is the outbox's (a bot, or a calendar connection).
 */
export interface GoneWebhookUrlsTable {
  bot_id: string;
  url: string;
  /** The owner of the message named (migration 054): GET /webhooks/urls reads a user's lines by it. */
  user_id: string;
  /** The latest message the receiver answered 410: the one to redeliver. */
  message_id: string;
}

/** A user's callback URL that is failing (migration 048): held back while struggling (nothing before paused_until_ms, then one message at a time until one is taken), disabled after days of it. */
export interface WebhookUrlHoldsTable {
  user_id: string;
  url: string;
  paused_until_ms: number;
  /** Failed attempts in a row (those started after the previous one was recorded): the backoff's exponent. */
  failures: number;
  last_failure_at_ms: number;
  /** The first failure of the run: every attempt since failed. */
  failing_since_ms: number;
  /**
   * The latest message that failed: the one a notice names to redeliver. Once that one is deleted
   * with its bot's data, the latest of the user's messages to the URL left; null when none is
   * (migration 055), until a message to the URL fails.
   */
  message_id: string | null;
  /**
   * The message whose failure started the run; null once that one is deleted with its bot's data
   * (migration 055): any message failing next is then another.
   */
  run_message_id: string | null;
  /** 1 once a message other than run_message_id failed in the run too (a URL is disabled only then). */
  several_messages: number;
  /** When the run had lasted WEBHOOK_DISABLE_AFTER_HOURS and the URL was disabled; null while it is not. */
  disabled_at_ms: number | null;
}

/** A user's link to one calendar account or feed (calendar connections, docs/calendar-sync.md). */
export interface CalendarConnectionsTable {
  /** cal_... */
  id: string;
  user_id: string;
  /** ics | google | microsoft */
  provider: string;
  /** The account's email for Google and Microsoft; a hash of the feed URL for ICS. */
  account_id: string;
  user_email: string | null;
  user_name: string | null;
  /** ICS: the feed URL with its secret path and query hidden, for display. */
  display_url: string | null;
  /** Sealed JSON (SecretBox) of the client id/secret/refresh token or feed URL; null once disconnected. */
  credentials: string | null;
  /** Where connection-level webhooks (calendar.auth_revoked, calendar.sync_failing, calendar.sync_restored) go; null: none. */
  callback_url: string | null;
  /** active | auth_revoked */
  status: string;
  last_sync_at: number | null;
  last_error: string | null;
  /** While auth_revoked: when the access was lost (a probe leaves it). */
  last_error_at: number | null;
  consecutive_failures: number;
  /** When the current run of failed syncs began; null while the last sync worked (migration 019). */
  failing_since: number | null;
  /** When that run was reported (calendar.sync_failing); null: not reported (migration 019). */
  failing_reported_at: number | null;
  /**
   * JSON array of the provider ids of the calendars the failing-sync report was about (some
   * failed while the others read); null when it was about the whole connection (migration 029).
   */
  failing_calendars: string | null;
  /** In a reported run, JSON: each calendar failing outside the report, since when; null: none (migration 032). */
  failing_pending: string | null;
  /** When the background sync should next look at it; null: never (auth_revoked). */
  next_sync_at: number | null;
  /** Until when the provider asked not to be called (the Retry-After of a limited sync); null: no such wait (migration 031). */
  retry_not_before: number | null;
  /** While a sync runs: until when it holds the connection. */
  lease_until: number | null;
  /** While a sync runs: the token of that sync, which its writes check (migration 025). */
  lease_owner: string | null;
  /** The lease_owner of the sync a push notification arrived during: when it ends, the connection is due at once (migration 039). */
  pushed_during: string | null;
  created_at: number;
  updated_at: number;
  /** Calendars chosen at connect time: null for every calendar of the account, else a JSON array of provider calendar ids (migration 005). */
  calendar_selection: string | null;
  /** When the account's calendar list was last read (new calendars are discovered then). */
  calendars_listed_at: number | null;
  /** JSON: every calendar of the account as last listed, for GET /calendar (migration 010). */
  calendar_list: string | null;
}

/** One provider calendar a connection syncs, with its sync cursor and push channel. */
export interface ConnectedCalendarsTable {
  id: Generated<number>;
  connection_id: string;
  provider_calendar_id: string;
  name: string | null;
  time_zone: string | null;
  is_primary: number;
  /** Opaque to the service: the provider's sync token, delta link or ETag, as the adapter wrote it. */
  sync_cursor: string | null;
  last_full_sync_at: number | null;
  /** Google channel id or Graph subscription id. */
  push_channel_id: string | null;
  /** Google resourceId (needed to stop the channel). */
  push_resource_id: string | null;
  /** sha256 of the channel token / clientState sent with the channel; notifications must carry it. */
  push_secret_hash: string | null;
  push_expires_at: number | null;
  push_last_message_at: number | null;
  push_error: string | null;
  created_at: number;
  updated_at: number;
  /** JSON [{ seriesId, untilMs }]: series new on this calendar in the last hour (migration 023; truncated-series.ts). */
  recent_series: string | null;
  /**
   * JSON [{ eventId, untilMs }]: instances a bot in its meeting holds, left out by their Outlook
   * series whose range was cut, kept until untilMs for the new series of a split to continue
   * them (migration 059; domain/split-hold.ts). Null when none.
   */
  held_instances: string | null;
  /**
   * JSON [{ id, untilMs }]: ids reads listed live that the provider did not find, kept until a read
   * finds them or untilMs (migration 045; domain/missed-ids.ts); later reads let them stand. Null when none.
   */
  missed_ids: string | null;
  /** Reads of this calendar in a row that failed on their own, its account's others syncing (migration 027). */
  read_failures: Generated<number>;
  /** The last failure of a read of this calendar that was the calendar's own, "kind: message"; null once a read works. */
  read_error: string | null;
  /** Not read again before this (epoch ms) while it keeps failing; null: read at every sync. */
  next_read_at: number | null;
  /**
   * Since when reads of this calendar are refused (403) or find it gone (404) while the account's
   * other calendars read; null once a read works. Bots that depend only on refused calendars or
   * revoked connections are at risk and not launched (migration 029).
   */
  access_refused_at: number | null;
  /**
   * When the provider last said that this calendar takes no push channel at all (Google's
   * pushNotSupportedForRequestedResource); none is asked for again for a day. Null otherwise
   * (migration 042).
   */
  push_refused_at: number | null;
  /**
   * When a sync last left this calendar unread, having stopped at a limit another calendar of the
   * account met without failing; read first by the next sync, and null once a sync reaches it
   * (migration 057).
   */
  left_unread_at: number | null;
}

/**
 * A push channel replaced by a renewal, or of a calendar no longer synced, whose stop the provider
 * has not yet confirmed: a later sync of the connection asks again once next_stop_at has come,
 * until it is stopped, gone or expired (migration 043).
 */
export interface RetiredPushChannelsTable {
  id: Generated<number>;
  connection_id: string;
  provider_calendar_id: string;
  channel_id: string;
  resource_id: string | null;
  /** sha256 of the channel's token, as push_secret_hash was: its notifications are told from forged ones by it. */
  secret_hash: string | null;
  expires_at: number;
  stop_attempts: Generated<number>;
  /** The last failure of a stop, "kind: message". */
  last_error: string | null;
  /** Not asked to stop before this (a backoff from stop_attempts, or a limit's wait); null: at the next sync. */
  next_stop_at: number | null;
  retired_at: number;
}

/**
 * A push channel being opened whose answer has not been stored: written before the call, deleted
 * in the write that stores its answer. One left over may be a live channel Rollcall never heard
 * of; a notification naming it fills in channel_id (Graph) or resource_id (Google), and the next
 * sync retires it to be stopped (migration 044).
 */
export interface PendingPushChannelsTable {
  id: Generated<number>;
  connection_id: string;
  provider_calendar_id: string;
  /** Google: the channel id Rollcall chose before the call. Graph: null until a notification names the subscription. */
  channel_id: string | null;
  /** Google's resource id, once a notification has carried it; null for Graph. */
  resource_id: string | null;
  /** sha256 of the secret sent with the call (Google's token, Graph's clientState). */
  secret_hash: string;
  /** The expiry the call asked for: the channel, if made, is gone by then. */
  expires_at: number;
  opened_at: number;
  /** When a notification first named it; null: none yet. */
  heard_at: number | null;
}

export interface AutoScheduleSettingsTable {
  user_id: string;
  is_enabled: number;
  /** JSON: the bot_config every auto-scheduled bot gets. */
  default_bot_config: string;
  updated_at: number;
  /** JSON: which meetings it books (AutoScheduleRules); null: every meeting with a link (migration 022). */
  rules: string | null;
}

export interface RuntimeCommandsTable {
  id: Generated<number>;
  bot_id: string;
  /** 'update' (the meeting moved or changed) or 'stop' (it was cancelled). */
  action: string;
  /** The exact JSON sent to the runtime. */
  payload: string;
  idempotency_key: string;
  /** pending -> done | failed */
  state: string;
  attempts: number;
  next_attempt_at_ms: number;
  lease_until_ms: number | null;
  last_error: string | null;
  /** 1 while it waits for a time it chose (not a backoff): a new change brings it forward (migration 016). */
  wakes_on_change: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** Chain mode of a recurring series (spec section 8, src/services/scheduling/recurring-chains.ts). */
/**
 * An Outlook instance's slot in its series (migration 051): the start it had when Graph last listed
 * it as a plain occurrence, kept when it is moved (Graph gives no original start).
 */
export interface InstanceSlotsTable {
  event_id: string;
  slot_start_ms: number;
}

export interface RecurringChainsTable {
  series_event_id: string;
  user_id: string;
  /** 1 while each launched occurrence books the next one (POST /calendar/toggle-recurrence). */
  is_enabled: number;
  /** The series key; each occurrence's bot gets "<key>@<occurrence key>". Null: derived from the meeting. */
  deduplication_key: string | null;
  /** JSON: the applied bot_config every bot of the chain gets. */
  bot_config: string;
  /** The bot booked last, and the occurrence it was booked for. */
  current_bot_id: string | null;
  current_occurrence_key: string | null;
  /**
   * JSON array: the occurrences (keys; an Outlook series' chain: instance ids) the chain passed
   * because they could not be booked then (no link, their key taken), the latest 50; each is booked
   * once it can be, while still to come. Null: none (migration 038).
   */
  passed_keys: string | null;
  /**
   * An Outlook series' chain: the start the instance it was started at had then; instances
   * starting before it are not the chain's to book (migration 047). Null: a series row's chain,
   * or an Outlook chain from before, which takes its place as its floor at its next pass.
   */
  floor_start_ms: number | null;
  /**
   * An Outlook series' chain: JSON array of [slot, bot id], the slots (instance_slots) of the
   * instances it booked, or for one first listed moved the slot it most likely had (likelySlotOf),
   * each with the bot booked, the latest 50, so that a
   * week it served is known again under a new id once moved (migration 051). Null: none recorded.
   */
  served_slots: string | null;
  /** Not looked at before this (a series with nothing left to book is looked at again later). */
  next_check_at_ms: number | null;
  /** Why the last attempt to book an occurrence did not book it. */
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** One row the database health probe writes (src/db/database-health.ts). */
export interface ServiceHealthTable {
  id: number;
  probed_at: number;
  padding: string | null;
}

/** A dashboard sign-in (an API key exchanged for a session cookie); see docs/dashboard.md. */
export interface DashboardSessionsTable {
  /** sha256 (hex) of the session token; the token itself is only in the browser's cookie. */
  token_hash: string;
  user_id: string;
  /** The key the session was opened with: revoking the key ends the session. */
  api_key_id: string;
  created_at: number;
  /** The absolute end: use does not move it. */
  expires_at: number;
  /** Last use, written at most once a minute; null until the first write, read as created_at (migration 041). */
  last_seen_at: number | null;
}

/** A bot handed (or to be handed) to a bot provider ahead of its join time (migration 009). */
export interface ProviderHandoversTable {
  bot_id: string;
  provider: string;
  /** The handover time the plan last announced (a decision); null until planned. */
  planned_at_ms: number | null;
  /** The latest handover that still gives the provider its full lead. */
  deadline_ms: number | null;
  /** 1 once the plan reported the bot late (decision and bot.handover_at_risk webhook). */
  is_at_risk: number;
  /** When the latest creation request for this bot was decided (pacing counts from it). */
  last_attempt_at_ms: number | null;
  /** A failed handover backs off until then; the plan leaves its timer alone meanwhile. */
  not_before_ms: number | null;
  /** The provider bot Rollcall keeps in step; null before the handover and once let go of. */
  provider_bot_id: string | null;
  handed_over_at_ms: number | null;
  /** The join time and meeting link that provider bot has. */
  join_at_ms: number | null;
  meeting_url: string | null;
  /** The bot_config (JSON) that provider bot was created or last updated with (migration 013); null: not known. */
  bot_config: string | null;
  /** What the first creation request under the current key sent (JSON SentBot, migration 014); null once one is accepted. */
  first_sent: string | null;
  /** How many times the provider bot was replaced (the next replacement's idempotency key uses it). */
  generation: number;
  created_at: number;
  updated_at: number;
}

/** How far a provider adapter moved on from an idempotency key whose cached answer was a failure (migration 015). */
export interface ProviderKeyGenerationsTable {
  idempotency_key: string;
  /** The generation of the key to send next (0 is the key itself). */
  generation: number;
  updated_at_ms: number;
}

/**
 * A series booked with schedule_all_occurrences: occurrences that appear later inside what the
 * batch covered get a bot too (auto-schedule.ts, topUpSeries). Migration 017.
 */
export interface SeriesBookingsTable {
  series_event_id: string;
  /** The client's key; each occurrence's bot has "<key>@<occurrence key>". '': derived from the meeting. */
  base_key: string;
  user_id: string;
  /** The applied bot config (JSON) the batch booked with. */
  bot_config: string;
  /** The batch covers the first occurrence_count occurrences (by original start) not ended at from_ms (its booking)... */
  from_ms: number;
  /** ...0: ended (the series was unscheduled)... */
  occurrence_count: number;
  /** ...of those, the ones starting before before_ms (unscheduled from a date; else the end of year 9999). */
  before_ms: number;
  /** Moves on with every write: a top-up books for the version it read. */
  version: number;
  created_at: number;
  updated_at: number;
}

/** A provider bot Rollcall let go of (replaced or cancelled): its webhooks are acknowledged and ignored. */
export interface RetiredProviderBotsTable {
  provider: string;
  provider_bot_id: string;
  bot_id: string;
  reason: string;
  retired_at_ms: number;
}

/**
 * The changes of the parts of a full listing read in parts that are not its last, kept until the
 * last part applies them with its own (migration 056). Deleted with their calendar.
 */
export interface CalendarRoundChangesTable {
  calendar_id: number;
  /** The row's number in its round, from 1, in the order read. */
  seq: number;
  /** JSON: { changes: ProviderChange[]; unreadable: string[] }. */
  payload: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Schema {
  users: UsersTable;
  api_keys: ApiKeysTable;
  events: EventsTable;
  bots: BotsTable;
  bot_events: BotEventsTable;
  schedules: SchedulesTable;
  bot_decisions: BotDecisionsTable;
  bot_status_changes: BotStatusChangesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  gone_webhook_urls: GoneWebhookUrlsTable;
  webhook_url_holds: WebhookUrlHoldsTable;
  runtime_commands: RuntimeCommandsTable;
  schema_migrations: SchemaMigrationsTable;
  service_health: ServiceHealthTable;
  calendar_connections: CalendarConnectionsTable;
  connected_calendars: ConnectedCalendarsTable;
  auto_schedule_settings: AutoScheduleSettingsTable;
  dashboard_sessions: DashboardSessionsTable;
  recurring_chains: RecurringChainsTable;
  instance_slots: InstanceSlotsTable;
  provider_handovers: ProviderHandoversTable;
  retired_provider_bots: RetiredProviderBotsTable;
  provider_key_generations: ProviderKeyGenerationsTable;
  series_bookings: SeriesBookingsTable;
  retired_webhook_secrets: RetiredWebhookSecretsTable;
  retired_push_channels: RetiredPushChannelsTable;
  pending_push_channels: PendingPushChannelsTable;
  calendar_round_changes: CalendarRoundChangesTable;
}

export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;
export type EventUpdate = Updateable<EventsTable>;
export type BotRow = Selectable<BotsTable>;
export type ScheduleRow = Selectable<SchedulesTable>;
export type BotEventRow = Selectable<BotEventsTable>;
export type CalendarConnectionRow = Selectable<CalendarConnectionsTable>;
export type ConnectedCalendarRow = Selectable<ConnectedCalendarsTable>;
export type RetiredPushChannelRow = Selectable<RetiredPushChannelsTable>;
export type PendingPushChannelRow = Selectable<PendingPushChannelsTable>;
export type RecurringChainRow = Selectable<RecurringChainsTable>;
