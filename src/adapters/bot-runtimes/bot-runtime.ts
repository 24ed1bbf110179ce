// The port every bot runtime implements. A runtime answers with one of a small closed set of
// outcomes; the dispatcher never sees an HTTP status or an exit code.
//
// A runtime also says what it can do (docs/providers/): whether it takes a join time in the
// future, updates or deletes a bot it already holds, makes a live bot leave, and verifies status
// webhooks. An operation a runtime cannot do is absent (null), never a method that throws
// "not supported" at run time.

import { reasonPrefix } from '../../domain/reason-codes.ts';

export interface LinkedEventInfo {
  event_id: string;
  occurrence_start: string | null;
  start_time: string;
  end_time: string;
}

export interface LaunchRequest {
  action: 'launch';
  bot_id: string;
  meeting_url: string;
  platform: string | null;
  bot_config: Record<string, unknown>;
  events: LinkedEventInfo[];
  scheduled_time: string;
  /**
   * When the bot should join, if that is later than now: a runtime with `scheduling` hands the
   * bot over ahead of time. Absent: join at once.
   */
  join_at?: string;
  /** The same on every retry of this launch: a runtime drops repeats by it. */
  idempotency_key: string;
  /**
   * Bot providers only (never set for an HTTP runtime): an earlier creation request under this key
   * got no answer, and went out at this instant. A provider whose replay of a key runs out looks
   * for the bot that request made before it creates one (ScheduledBotOperations.findLostCreation).
   */
  unanswered_since_ms?: number;
  /** Where to report progress: POST {status, message?} with Authorization: Bearer <status_token>. */
  status_url: string;
  status_token: string;
}

/** Sent for a bot that was already launched when its meeting changed (update) or went away (stop). */
export interface BotCommand {
  action: 'update' | 'stop';
  bot_id: string;
  reason: string;
  meeting_url: string;
  platform: string | null;
  events: LinkedEventInfo[];
  /** The join time the bot should now have, when the command moves it. */
  join_at?: string;
  /** Unique per command and the same on its retries. */
  idempotency_key: string;
}

export type RuntimeOutcome =
  /** sentKey: the idempotency key the provider got, where it is not the launch's (Recall after a 507). */
  | { ok: true; alreadyDone: boolean; providerBotId?: string; sentKey?: string }
  /** createdNothing: the provider made nothing of this request for sure (a retry is a first request again). */
  /**
   * blocksEveryBot: the provider takes no bot from this deployment now: its account ran out of
   * credit, or its base URL answers with a redirect. Every bot waits for it, retried; the instance
   * reports it as not ready until an answer is accepted.
   */
  | { ok: false; failure: 'transient' | 'rate_limited'; retryAfterMs: number | null; message: string; createdNothing?: boolean; blocksEveryBot?: boolean }
  /**
   * isAuthFailure: the provider refused the API key (401/403); the instance reports it as not ready.
   * isPastScheduled: an update refused because the provider has started the bot (Attendee: staged
   * or further), not for what it carried; a new bot would take it.
   */
  | { ok: false; failure: 'permanent'; retryAfterMs: null; message: string; isAuthFailure?: boolean; isPastScheduled?: boolean };

/**
 * The request made nothing for sure: a refusal, a 429 (a limit is checked before anything runs),
 * or a failure that says so (Recall's 507).
 */
export function madeNothing(outcome: RuntimeOutcome): boolean {
  return !outcome.ok && (outcome.failure !== 'transient' || outcome.createdNothing === true);
}

/** A launch made ready ahead of time by the runtime that will send it; opaque to everyone else. */
export interface PreparedLaunch {
  readonly request: LaunchRequest;
}

/** What a launch answered: the outcome, and on success the provider's id for the bot (if it has one). */
export type LaunchOutcome = RuntimeOutcome;

/** A change to a bot the provider already holds. Absent fields stay as they are. */
export interface ScheduledBotChange {
  join_at?: string;
  meeting_url?: string;
  /** Settings in the provider's own field names (from settingsOf), only those that changed. */
  settings?: Record<string, unknown>;
}

/** Rules a provider sets for bots handed over ahead of their join time. */
export interface SchedulingRules {
  /** How long before the join time the bot is handed over (setting; default per provider). */
  handoverLeadMs: number;
  /** An update that moves the join time must leave the bot at least this long before the old and the new one. */
  updateCutoffMs: number;
  /**
   * An update that keeps the join time (a new link, new settings) must come at least this long
   * before it; at most updateCutoffMs (a provider that takes such changes until the bot is on its
   * way has it shorter).
   */
  editCutoffMs: number;
  /** A scheduled bot can be deleted for certain while its join time is at least this far away. */
  deleteCutoffMs: number;
  /**
   * Whether a delete may still work inside deleteCutoffMs, until the provider starts the bot, and
   * is refused cleanly where it no longer does: the cutoff then only says when a delete is sure to
   * work, and a removal made to leave tries a delete before each leave, past the join time too
   * (Attendee deletes any bot it has not started yet, and may start one after its join time). False where a delete inside the cutoff is
   * known to fail (Recall) or its outcome is not documented (MeetStream).
   */
  deletesUntilStarted: boolean;
  /** Whether an update may change the meeting link (else a changed link is delete and create). */
  canUpdateMeetingUrl: boolean;
  /**
   * The settings (settingsOf's field names) an update of a scheduled bot can change; another is
   * delete and create. 'every': the update takes every field the creation does (Recall).
   */
  updatableSettings: readonly string[] | 'every';
  /** Bot creations the provider allows per minute (its documented limit, or a conservative one). */
  createsPerMinute: number;
  /**
   * How long a creation that got no answer may still be running at the provider, where a repeat
   * under its key arriving meanwhile makes a second bot (MeetStream): the repeat waits that long.
   * 0 where the provider refuses a repeat while the first runs (Recall's 409).
   */
  unansweredCreationRunsMs: number;
}

/** Operations on a bot that was handed over and has not joined yet. */
export interface ScheduledBotOperations {
  readonly rules: SchedulingRules;
  /** What a bot's settings (Rollcall's bot_config) become on the provider's bot: the fields its creation sends. */
  settingsOf(botConfig: Record<string, unknown>, botId: string): Record<string, unknown>;
  update(providerBotId: string, change: ScheduledBotChange, idempotencyKey: string): Promise<RuntimeOutcome>;
  /** Deleting a bot the provider no longer has counts as done. */
  delete(providerBotId: string): Promise<RuntimeOutcome>;
  /**
   * A creation under `key` that went out at `sentAtMs` got no answer. Where the provider may no
   * longer answer the key with the bot that request made (Recall replays a key for an hour), looks
   * that bot up: its id, or null when there is none. Answers null itself (absent method too) while
   * sending the request again under the key is still the exact way to find it, unless `always`
   * (past the join time, where a request sent again would make a bot that joins at once).
   */
  findLostCreation?(key: string, sentAtMs: number, options?: { always?: boolean }): Promise<LostCreationSearch | null>;
}

/** What a search for a lost creation found: the provider's bot, none, or a failure to ask. */
export type LostCreationSearch = { ok: true; providerBotId: string | null } | Extract<RuntimeOutcome, { ok: false }>;

/** Operations on a bot in a meeting. */
export interface LiveBotOperations {
  leave(providerBotId: string): Promise<RuntimeOutcome>;
}

/** One status change a provider reported, already mapped to Rollcall's words. */
export interface ProviderStatusEvent {
  providerBotId: string;
  /** The provider's own status name (for the log and the decision). */
  providerStatus: string;
  /** Rollcall's status name for it; null when the event does not change Rollcall's status. */
  status: string | null;
  message: string;
  /** The host removed the bot from the meeting (status Stopped; the webhook says bot.kicked). */
  kicked?: boolean;
  /** When it happened, by the provider's clock (its webhooks come retried and out of order); absent when the delivery does not say. */
  occurredAtMs?: number;
  /**
   * The Rollcall bot id the delivery's bot metadata names (`rollcall_bot_id`, which every bot
   * Rollcall makes carries), or null when the metadata names none; absent when the delivery does
   * not show the metadata. A provider sends every bot's events of an account to every endpoint:
   * another application's bots, or another Rollcall deployment's, are told apart by it.
   */
  rollcallBotId?: string | null;
}

/**
 * The Rollcall bot id in a provider bot's metadata as a delivery shows it (see
 * ProviderStatusEvent.rollcallBotId): null when the metadata is there without one (`nullIsNone`:
 * a null metadata counts as metadata without one, where the provider sends null for a bot made
 * without any), undefined when the delivery does not show it.
 */
export function rollcallBotIdIn(metadata: unknown, options: { nullIsNone?: boolean } = {}): string | null | undefined {
  if (metadata === null) return options.nullIsNone ? null : undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const id = (metadata as Record<string, unknown>).rollcall_bot_id;
  return typeof id === 'string' ? id : null;
}

/**
 * What a delivery says of when its report happened (`at`, the provider's time field) and whose bot
 * it is (`metadata`, the bot's metadata as the delivery shows it): the event's optional fields.
 */
export function deliveryFacts(at: unknown, metadata: unknown, options: { nullIsNone?: boolean } = {}): Pick<ProviderStatusEvent, 'occurredAtMs' | 'rollcallBotId'> {
  const occurredAtMs = providerInstant(at);
  const rollcallBotId = rollcallBotIdIn(metadata, options);
  return { ...(occurredAtMs !== undefined ? { occurredAtMs } : {}), ...(rollcallBotId !== undefined ? { rollcallBotId } : {}) };
}

/**
 * An instant a provider wrote (ISO 8601), as epoch ms; undefined when absent or unreadable. A time
 * without an offset (Python's isoformat, or str(), of a naive UTC time: a space for the T) is read
 * as UTC, not as this server's local time.
 */
export function providerInstant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const naive = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/.exec(value);
  const withZone = naive ? `${naive[1]}T${naive[2]}Z` : value;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}

export type WebhookParseResult =
  | { ok: true; event: ProviderStatusEvent | null }
  | { ok: false; reason: 'bad_signature' | 'malformed'; message: string };

/** Verifies a provider's status webhook over its raw body, then reads it. */
export interface StatusWebhookVerifier {
  parse(headers: Record<string, string | string[] | undefined>, rawBody: string, nowMs: number): WebhookParseResult;
}

export interface BotRuntime {
  /** Short name for logs, decisions and the provider webhook path. */
  readonly name: string;
  /** False when no runtime is configured: due bots then fail with reason no_runtime. */
  readonly canLaunch: boolean;
  /** Present when the runtime takes a future join_at and can change or delete such a bot. */
  readonly scheduling: ScheduledBotOperations | null;
  /** Present when the runtime can make a bot in a meeting leave. */
  readonly live: LiveBotOperations | null;
  /** Present when the runtime reports status through signed webhooks. */
  readonly statusWebhooks: StatusWebhookVerifier | null;
  /**
   * The most launches a minute the runtime takes, where it declares one (a provider's documented
   * limit on creating bots). Informational: the dashboard draws it over the launches per minute.
   */
  readonly launchLimitPerMinute?: number;
  /**
   * Does ahead of time the work a launch needs before it can be sent (encoding, signing), so that
   * at the due instant sending is all that is left. The dispatcher calls it when it claims the row
   * (about two seconds early) and passes the result to launch(); a runtime without it does that
   * work in launch().
   */
  prepareLaunch?(request: LaunchRequest): PreparedLaunch;
  launch(request: LaunchRequest, prepared?: PreparedLaunch): Promise<LaunchOutcome>;
  send(command: BotCommand): Promise<RuntimeOutcome>;
  close?(): Promise<void>;
}

const NO_RUNTIME: RuntimeOutcome = { ok: false, failure: 'permanent', retryAfterMs: null, message: `${reasonPrefix('no_runtime')}no bot runtime is configured (set BOT_RUNTIME)` };

/** Used when BOT_RUNTIME is not set: every launch fails visibly instead of silently. */
export const noRuntime: BotRuntime = {
  name: 'none',
  canLaunch: false,
  scheduling: null,
  live: null,
  statusWebhooks: null,
  launch: async () => NO_RUNTIME,
  send: async () => NO_RUNTIME,
};
