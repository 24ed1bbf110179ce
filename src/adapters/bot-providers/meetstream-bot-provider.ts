// BOT_RUNTIME=meetstream: bots run on MeetStream (docs/providers/meetstream.md).
//
// create_bot takes an Idempotency-Key: the first call answers 201, any repeat with the same key
// answers 507 with the original bot, which is a success here ("already launched"). Status comes
// from workspace webhooks signed with X-MeetStream-Signature; per-bot callback_url deliveries are
// unsigned, so Rollcall does not ask for them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  BotCommand, BotRuntime, LaunchOutcome, LaunchRequest, LiveBotOperations, RuntimeOutcome, ScheduledBotChange,
  ScheduledBotOperations, StatusWebhookVerifier, WebhookParseResult,
} from '../bot-runtimes/bot-runtime.ts';
import { deliveryFacts } from '../bot-runtimes/bot-runtime.ts';
import { MIN_JOIN_AT_LEAD_MS, futureJoinAt, headerValue, outcomeOfAnswer, sendProviderRequest, stringValues, tokenHeader } from './provider-http.ts';
import { readWebhookBody, toLifecycleStatus, type TargetStatus } from './provider-status.ts';
import type { ProviderRuntimeOptions } from './provider-options.ts';
import { meetstreamCreateFields } from '../../domain/meetstream-create-fields.ts';

export const MEETSTREAM_DEFAULT_BASE_URL = 'https://api.meetstream.ai';

/**
 * bot_event names of MeetStream webhooks to Rollcall (webhooks guide; labs' terminal mapping).
 * null: acknowledged, changes nothing (scheduling confirmations, media follow-ups, the non-terminal
 * bot.error of a streaming provider).
 */
export const MEETSTREAM_EVENT_MAP: Record<string, TargetStatus | null> = {
  'bot.scheduled': null,
  'bot.joining': 'Joining',
  'bot.in_waiting_room': 'InWaitingRoom',
  'bot.inmeeting': 'InMeeting',
  'bot.recording_permission_allowed': null,
  'bot.recording_permission_denied': null,
  'bot.recording': 'Recording',
  'bot.leaving': 'Leaving',
  'bot.stopped': 'Stopped',
  'bot.kicked': 'Stopped',
  'bot.notallowed': 'NotAllowed',
  'bot.denied': 'Denied',
  'bot.failed': 'Error',
  'bot.error': null,
  'bot.done': 'Done',
};

/** The endings a generic bot.stopped delivery's bot_status may name. */
const MEETSTREAM_ENDINGS: ReadonlySet<TargetStatus> = new Set(['Stopped', 'NotAllowed', 'Denied', 'Error', 'Done']);

/** bot_status values, for deliveries that carry no bot_event (older envelope). Casing varies. */
const MEETSTREAM_STATUS_MAP: Record<string, TargetStatus> = {
  joining: 'Joining', inwaitingroom: 'InWaitingRoom', inmeeting: 'InMeeting', recording: 'Recording', leaving: 'Leaving',
  stopped: 'Stopped', notallowed: 'NotAllowed', denied: 'Denied', error: 'Error', failed: 'Error', done: 'Done',
};

/**
 * How long a create_bot that got no answer may still be running at MeetStream. Neither its
 * Idempotency-Key nor its deduplication_key protects against two simultaneous first creates (its
 * deduplication and idempotency keys guide, as summarised in github.com/meetstream-ai/labs), so a
 * repeat waits this long. MeetStream does not publish how long a request may run; 30 s is a
 * guess at the limit of the gateway in front of it (AWS API Gateway, for one, ends a request after
 * 29 s; MeetStream's scheduling runs on AWS EventBridge), not a documented figure.
 */
const MEETSTREAM_CREATION_RUNS_MS = 30_000;

export class MeetStreamBotProvider implements BotRuntime {
  readonly name = 'meetstream';
  readonly canLaunch = true;
  readonly scheduling: ScheduledBotOperations;
  readonly live: LiveBotOperations;
  readonly statusWebhooks: StatusWebhookVerifier;
  readonly #o: ProviderRuntimeOptions;

  constructor(options: ProviderRuntimeOptions) {
    this.#o = options;
    this.scheduling = {
      rules: {
        handoverLeadMs: options.handoverLeadMs,
        // MeetStream documents only "the new time must be in the future" and "not joined yet".
        // Unpublished margins get a conservative two minutes for an update, one for a delete.
        updateCutoffMs: 120_000,
        editCutoffMs: 120_000,
        deleteCutoffMs: 60_000,
        // What a delete inside that minute does is not documented: not tried.
        deletesUntilStarted: false,
        // The scheduled-bot update takes a join time only: a new link is delete and create.
        canUpdateMeetingUrl: false,
        // The same endpoint takes no settings either; its "Update Scheduled Bot" (bot_username,
        // custom_attributes, recording toggles) is documented for calendar-scheduled bots, not
        // for create_bot ones: a changed setting is delete and create.
        updatableSettings: [],
        createsPerMinute: options.createsPerMinute,
        unansweredCreationRunsMs: MEETSTREAM_CREATION_RUNS_MS,
      },
      settingsOf: meetstreamSettings,
      update: (id, change) => this.#update(id, change),
      delete: (id) => this.#delete(id),
    };
    this.live = { leave: (id) => this.#leave(id) };
    this.statusWebhooks = { parse: (headers, body) => parseMeetStreamWebhook(options.webhookSecret, headers, body) };
  }

  #url(path: string): string {
    return `${this.#o.baseUrl}/api/v1${path}`;
  }

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    const outcome = await this.#create(request);
    // No answer: the creation may still be running at MeetStream, and a repeat that arrives
    // meanwhile makes a second bot. The next attempt waits for it to be over.
    if (!outcome.ok && outcome.failure === 'transient' && outcome.mayStillRun) {
      return { ok: false, failure: 'transient', retryAfterMs: MEETSTREAM_CREATION_RUNS_MS, message: `${outcome.message}; sent again under its key once it cannot be running at meetstream any more (${MEETSTREAM_CREATION_RUNS_MS / 1000} s)` };
    }
    return outcome;
  }

  async #create(request: LaunchRequest): Promise<LaunchOutcome & { mayStillRun?: boolean }> {
    const now = this.#o.now();
    const body: Record<string, unknown> = { ...meetstreamSettings(request.bot_config, request.bot_id), meeting_link: request.meeting_url };
    const joinAt = futureJoinAt(request.join_at, now, MIN_JOIN_AT_LEAD_MS);
    if (joinAt) body.join_at = joinAt;
    const result = await sendProviderRequest(this.#o.http, {
      method: 'POST', url: this.#url('/bots/create_bot'), headers: { ...tokenHeader(this.#o.apiKey), 'idempotency-key': request.idempotency_key }, body, timeoutMs: this.#o.timeoutMs,
    });
    const botId = result.ok ? (result.answer.json as { bot_id?: unknown } | null)?.bot_id : undefined;
    // A repeat of the same Idempotency-Key: the original bot, nothing created twice.
    if (result.ok && result.answer.status === 507) {
      return typeof botId === 'string'
        ? { ok: true, alreadyDone: true, providerBotId: botId }
        : { ok: false, failure: 'transient', retryAfterMs: null, message: 'meetstream replayed the launch (507) without a bot id' };
    }
    const outcome = outcomeOfAnswer('meetstream', 'bot creation', result, now);
    if (!outcome.ok) return { ...outcome, mayStillRun: !result.ok && result.mayHaveArrived };
    if (typeof botId !== 'string') return { ok: false, failure: 'transient', retryAfterMs: null, message: 'meetstream accepted the bot but its answer had no bot_id' };
    return { ok: true, alreadyDone: false, providerBotId: botId };
  }

  async send(command: BotCommand): Promise<RuntimeOutcome> {
    const providerBotId = await this.#o.resolveProviderBotId(command.bot_id);
    if (providerBotId === null) return { ok: false, failure: 'transient', retryAfterMs: null, message: 'meetstream bot id not recorded yet (the launch is still being written)' };
    if (command.action === 'update') {
      if (!command.join_at) return { ok: false, failure: 'permanent', retryAfterMs: null, message: 'meetstream can change only the join time of a scheduled bot; this update carries none' };
      return this.#update(providerBotId, { join_at: command.join_at });
    }
    const deleted = await this.#delete(providerBotId);
    if (deleted.ok || deleted.failure !== 'permanent') return deleted;
    // In a meeting already (or on its way in): make it leave.
    const left = await this.#leave(providerBotId);
    return left.ok || left.failure !== 'permanent' ? left : { ok: false, failure: 'transient', retryAfterMs: 30_000, message: `${left.message}; will try again` };
  }

  async #update(providerBotId: string, change: ScheduledBotChange): Promise<RuntimeOutcome> {
    if (change.join_at === undefined) {
      return { ok: false, failure: 'permanent', retryAfterMs: null, message: 'meetstream cannot change the meeting link of a scheduled bot; delete it and create another' };
    }
    // The offset is required; an ISO instant in UTC carries +00:00.
    const scheduledJoinTime = new Date(change.join_at).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const result = await sendProviderRequest(this.#o.http, {
      method: 'PATCH', url: this.#url(`/calendar/scheduled_bots/${encodeURIComponent(providerBotId)}`), headers: tokenHeader(this.#o.apiKey), body: { scheduled_join_time: scheduledJoinTime }, timeoutMs: this.#o.timeoutMs,
    });
    return outcomeOfAnswer('meetstream', 'scheduled bot update', result, this.#o.now());
  }

  async #delete(providerBotId: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'DELETE', url: this.#url(`/calendar/scheduled_bots/${encodeURIComponent(providerBotId)}`), headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    if (result.ok && result.answer.status === 404) return { ok: true, alreadyDone: true };
    return outcomeOfAnswer('meetstream', 'scheduled bot deletion', result, this.#o.now());
  }

  async #leave(providerBotId: string): Promise<RuntimeOutcome> {
    // MeetStream's leave is a GET with a side effect.
    const result = await sendProviderRequest(this.#o.http, { method: 'GET', url: this.#url(`/bots/${encodeURIComponent(providerBotId)}/remove_bot`), headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    return outcomeOfAnswer('meetstream', 'remove bot', result, this.#o.now());
  }
}

/** The create_bot fields that come from the bot's settings (meetstreamCreateFields: the same the booking checks). */
function meetstreamSettings(config: Record<string, unknown>, botId: string): Record<string, unknown> {
  return {
    bot_name: typeof config.bot_name === 'string' ? config.bot_name : 'Rollcall Notetaker',
    custom_attributes: { ...stringValues(config.custom_attributes), rollcall_bot_id: botId },
    ...meetstreamCreateFields(config),
  };
}

/** Verifies X-MeetStream-Signature (sha256=<hex HMAC-SHA256 of the raw body>) and reads the delivery. */
export function parseMeetStreamWebhook(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string): WebhookParseResult {
  const given = headerValue(headers, 'x-meetstream-signature') ?? '';
  const expected = `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
  const a = Buffer.from(given.trim().toLowerCase());
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'bad_signature', message: 'X-MeetStream-Signature is missing or does not match the body' };
  const body = readWebhookBody(rawBody);
  if ('problem' in body) return { ok: false, reason: 'malformed', message: body.problem };
  const payload: Record<string, unknown> = body.payload;
  const botId = payload.bot_id;
  const eventName = typeof payload.bot_event === 'string' ? payload.bot_event : typeof payload.event === 'string' ? payload.event : null;
  const botStatus = typeof payload.bot_status === 'string' ? payload.bot_status : null;
  if (typeof botId !== 'string' || (eventName === null && botStatus === null)) return { ok: false, reason: 'malformed', message: 'not a bot webhook: bot_id or bot_event missing' };
  let target: TargetStatus | null;
  // `event` alone is the generic name: on every ending it is bot.stopped, whatever the ending was
  // (reference meetstream.md 6.2, from MeetStream's labs: `bot_event` names the specific one). A
  // delivery without bot_event says which ending through bot_status (NotAllowed, Denied, Error...).
  // Only an ending's bot_status says which ending; one that names a stage before it (a status
  // lagging behind) leaves the delivery at what its event says: stopped.
  const statusTarget = botStatus !== null ? MEETSTREAM_STATUS_MAP[botStatus.toLowerCase()] ?? null : null;
  const isGenericEnding = typeof payload.bot_event !== 'string' && eventName === 'bot.stopped' && statusTarget !== null && MEETSTREAM_ENDINGS.has(statusTarget);
  if (eventName !== null && eventName in MEETSTREAM_EVENT_MAP && !isGenericEnding) target = MEETSTREAM_EVENT_MAP[eventName]!;
  else target = statusTarget;
  const message = typeof payload.message === 'string' ? payload.message.slice(0, 300) : `MeetStream reported ${eventName ?? botStatus}`;
  // bot.kicked is Stopped with the host as the cause (labs' terminal mapping): passed on as such.
  // timestamp: when it happened (reference meetstream.md 6.2; the labs give it on every delivery).
  return { ok: true, event: { providerBotId: botId, providerStatus: eventName ?? botStatus!, status: toLifecycleStatus(target), message, ...(eventName === 'bot.kicked' ? { kicked: true } : {}), ...deliveryFacts(payload.timestamp, payload.custom_attributes) } };
}
