// BOT_RUNTIME=recall: bots run on Recall.ai (docs/providers/recall.md).
//
// Create Bot is POST /api/v1/bot/ with an Idempotency-Key; a bot whose join_at is more than ten
// minutes out is a "scheduled bot" with its own instance, anything sooner is taken from a shared
// ad-hoc pool that can run dry (507). Recall caches the answer to a key for an hour, a 507
// included, so a retry after a 507 must use a new key: this adapter derives the key it sends from
// the launch's own key plus a generation that moves on after each 507. The generation is kept in
// the database (options.keyGenerations), so a restarted process or another instance sends the
// key that can still succeed, and a retry of a request that got no answer goes under the same
// key as that request (Recall answers it with the bot it made, not a second one) for as long as
// Recall replays the key. Past that hour the bot is looked up instead: every bot is created with
// its launch key in its metadata, and List Bots filters on metadata.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { toSigningSecret } from '../bot-runtimes/http-bot-runtime.ts';
import type {
  BotCommand, BotRuntime, LaunchOutcome, LaunchRequest, LiveBotOperations, LostCreationSearch, RuntimeOutcome, ScheduledBotChange,
  ScheduledBotOperations, SchedulingRules, StatusWebhookVerifier, WebhookParseResult,
} from '../bot-runtimes/bot-runtime.ts';
import { deliveryFacts } from '../bot-runtimes/bot-runtime.ts';
import { parseRetryAfterMs as retryAfterMs } from '../outbound-http.ts';
import { describeError, futureJoinAt, headerValue, outcomeOfAnswer, sendProviderRequest, stringValues, tokenHeader, updateBody } from './provider-http.ts';
import { readWebhookBody, toLifecycleStatus, type TargetStatus } from './provider-status.ts';
import type { ProviderRuntimeOptions } from './provider-options.ts';
import { providerSettingsOf } from '../../domain/provider-settings.ts';

/** A scheduled bot's join_at is more than ten minutes after the request (scheduling best practices). */
export const RECALL_SCHEDULED_BOT_MIN_LEAD_MS = 10 * 60_000;

/** How long before its join_at a scheduled bot last takes an update that keeps the join_at. */
const RECALL_EDIT_MARGIN_MS = 60_000;

/** Recall asks for a retry after 30 s when the ad-hoc pool is empty and no Retry-After came (errors page). */
const RECALL_POOL_RETRY_MS = 30_000;

/** Recall replays a completed request's answer to its Idempotency-Key for an hour (https://docs.recall.ai/reference/idempotency). */
const RECALL_KEY_REPLAY_MS = 3_600_000;
/**
 * A lost creation is looked up, not sent again, from this long before its hour may be over: the
 * hour runs from when Recall finished the request, later than Rollcall sent it, but clocks differ.
 */
const KEY_REPLAY_MARGIN_MS = 5 * 60_000;
/** The metadata entry holding the launch key a bot was created under (without the 507 generation). */
export const RECALL_LAUNCH_KEY_METADATA = 'rollcall_launch_key';
/** List Bots pages read in one search; one launch key names one bot, a few at worst. */
const MAX_LOOKUP_PAGES = 5;
/** Statuses of a bot that will not join any more (https://docs.recall.ai/docs/bot-status-change-events). */
const RECALL_FINISHED_CODES = new Set(['call_ended', 'done', 'fatal', 'analysis_done', 'analysis_failed', 'media_expired']);

/**
 * Status codes of bot webhooks (https://docs.recall.ai/docs/bot-status-change-events) to Rollcall.
 * null: the event changes nothing in Rollcall (recording permission notices, media follow-ups).
 */
export const RECALL_STATUS_MAP: Record<string, TargetStatus | null> = {
  joining_call: 'Joining',
  in_waiting_room: 'InWaitingRoom',
  in_call_not_recording: 'InMeeting',
  recording_permission_allowed: null,
  recording_permission_denied: null,
  in_call_recording: 'Recording',
  call_ended: 'Stopped',
  done: 'Done',
  fatal: 'Error',
};

/** call_ended sub codes that mean the bot never got in (https://docs.recall.ai/docs/sub-codes). */
const CALL_ENDED_SUB_CODES: Record<string, TargetStatus> = {
  timeout_exceeded_waiting_room: 'NotAllowed',
  call_ended_by_platform_waiting_room_timeout: 'NotAllowed',
  bot_kicked_from_waiting_room: 'Denied',
};

/** The call_ended sub code of a bot the host removed from the call (https://docs.recall.ai/docs/sub-codes): Stopped, webhook bot.kicked. */
const KICKED_SUB_CODE = 'bot_kicked_from_call';

export class RecallBotProvider implements BotRuntime {
  readonly name = 'recall';
  readonly canLaunch = true;
  readonly scheduling: ScheduledBotOperations;
  readonly live: LiveBotOperations;
  readonly statusWebhooks: StatusWebhookVerifier;
  readonly #o: ProviderRuntimeOptions;

  constructor(options: ProviderRuntimeOptions) {
    this.#o = options;
    const rules: SchedulingRules = {
      handoverLeadMs: options.handoverLeadMs,
      // An update to a join_at less than ten minutes out fails with update_bot_failed.
      updateCutoffMs: RECALL_SCHEDULED_BOT_MIN_LEAD_MS,
      // Every other property can still be updated inside those ten minutes, until the bot starts
      // joining the call at its join_at (https://docs.recall.ai/docs/scheduling-bots-best-practices,
      // "Updating scheduled bots"): a minute's margin for the request's way and the clocks.
      editCutoffMs: RECALL_EDIT_MARGIN_MS,
      // Closer than ten minutes the instance is dispatched: DELETE answers 405, leave_call remains.
      deleteCutoffMs: RECALL_SCHEDULED_BOT_MIN_LEAD_MS,
      // Dispatched is dispatched: a delete inside those ten minutes only ever answers 405.
      deletesUntilStarted: false,
      canUpdateMeetingUrl: true,
      // Update Scheduled Bot takes every setting Create Bot does (https://docs.recall.ai/reference/bot_partial_update):
      // a provider setting changed after the handover (a transcript provider, say) is updated in place.
      updatableSettings: 'every',
      createsPerMinute: options.createsPerMinute,
      // A repeat while the first runs is refused with 409 (https://docs.recall.ai/reference/idempotency).
      unansweredCreationRunsMs: 0,
    };
    this.scheduling = {
      rules, settingsOf: recallSettings, update: (id, change, key) => this.#update(id, change, key), delete: (id) => this.#delete(id),
      findLostCreation: (key, sentAtMs, options) => this.#findLostCreation(key, sentAtMs, options?.always === true),
    };
    this.live = { leave: (id) => this.#leave(id) };
    const verifier = new Webhook(toSigningSecret(options.webhookSecret));
    this.statusWebhooks = { parse: (headers, body) => parseRecallWebhook(verifier, headers, body) };
  }

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    if (request.unanswered_since_ms !== undefined) {
      const found = await this.#findLostCreation(request.idempotency_key, request.unanswered_since_ms);
      // Refused for good (not the key): Recall will not answer the lookup; a creation is still
      // better than no bot at all, and its join time comes.
      if (found && !found.ok && (found.failure !== 'permanent' || found.isAuthFailure)) return found;
      if (found?.ok && found.providerBotId) return { ok: true, alreadyDone: true, providerBotId: found.providerBotId };
    }
    const now = this.#o.now();
    let generation: number;
    try {
      generation = await this.#o.keyGenerations.current(request.idempotency_key);
    } catch (error) {
      // Sent under a key that may hold a cached 507, the request could only fail again: wait.
      return { ok: false, failure: 'transient', createdNothing: true, retryAfterMs: null, message: `the idempotency key's generation could not be read: ${(error as Error).message}` };
    }
    const key = generation === 0 ? request.idempotency_key : `${request.idempotency_key}~${generation}`;
    const settings = recallSettings(request.bot_config, request.bot_id);
    const body: Record<string, unknown> = { ...settings, meeting_url: request.meeting_url, metadata: { ...settings.metadata as Record<string, string>, [RECALL_LAUNCH_KEY_METADATA]: request.idempotency_key } };
    const joinAt = futureJoinAt(request.join_at, now, 1);
    if (joinAt) body.join_at = joinAt;
    const result = await sendProviderRequest(this.#o.http, {
      method: 'POST', url: `${this.#o.baseUrl}/api/v1/bot/`, headers: { ...tokenHeader(this.#o.apiKey), 'idempotency-key': key }, body, timeoutMs: this.#o.timeoutMs,
    });
    if (result.ok && result.answer.status === 507) {
      // Out of ad-hoc bots. The cached 507 would come back for this key for an hour: move on.
      // Not recorded (the database is down): the retry gets the cached 507 once more and moves on then.
      await this.#o.keyGenerations.moveOn(request.idempotency_key, generation + 1).catch(() => undefined);
      return { ok: false, failure: 'transient', createdNothing: true, retryAfterMs: retryAfterMs(result.answer.headers, now) ?? RECALL_POOL_RETRY_MS, message: `recall is out of ad-hoc bots (HTTP 507 to the idempotency key ${key}); retrying under ${request.idempotency_key}~${generation + 1}${describeError(result.answer)}` };
    }
    const outcome = outcomeOfAnswer('recall', 'bot creation', result, now);
    if (result.ok && result.answer.status === 402) {
      // Out of credit: nothing was made, and Recall would answer the key with this 402 for an hour
      // after the balance is topped up. The retry goes under the next key, as after a 507.
      await this.#o.keyGenerations.moveOn(request.idempotency_key, generation + 1).catch(() => undefined);
    }
    if (!outcome.ok || !result.ok) return outcome;
    const id = (result.answer.json as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return { ok: false, failure: 'transient', retryAfterMs: null, message: 'recall accepted the bot but its answer had no bot id' };
    return { ok: true, alreadyDone: false, providerBotId: id, ...(key !== request.idempotency_key ? { sentKey: key } : {}) };
  }

  /**
   * Past the hour Recall replays the key of a creation that got no answer, a request sent again
   * would make a second bot: List Bots, filtered on the launch key in the metadata
   * (https://docs.recall.ai/reference/bot_list, "Custom Metadata Filtering"), finds the first. A
   * bot that has finished is not the one to keep or remove. A failure that may pass is a wait,
   * not a creation made blind; a 429 too, but as a plain wait: List Bots has a limit of its own
   * (60 a minute), not the creations' that pauses the handover plan. A refusal (a 4xx other than
   * those) is answered as it is: the launch then creates anyway, the chase gives up and says so.
   */
  async #findLostCreation(key: string, sentAtMs: number, always = false): Promise<LostCreationSearch | null> {
    if (!always && this.#o.now() - sentAtMs < RECALL_KEY_REPLAY_MS - KEY_REPLAY_MARGIN_MS) return null;
    for (let page = 1; page <= MAX_LOOKUP_PAGES; page++) {
      const query = new URLSearchParams({ [`metadata__${RECALL_LAUNCH_KEY_METADATA}`]: key, page: String(page) });
      const result = await sendProviderRequest(this.#o.http, { method: 'GET', url: `${this.#o.baseUrl}/api/v1/bot/?${query}`, headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
      const outcome = outcomeOfAnswer('recall', 'bot lookup', result, this.#o.now());
      if (!outcome.ok) {
        if (outcome.failure === 'permanent') return outcome;
        return { ok: false, failure: 'transient', retryAfterMs: outcome.retryAfterMs, message: `${outcome.message}; a creation that got no answer more than an hour ago is looked up before another is sent` };
      }
      const listed = (result.ok ? result.answer.json : null) as { results?: unknown; next?: unknown } | null;
      if (!listed || !Array.isArray(listed.results)) return { ok: false, failure: 'transient', retryAfterMs: null, message: 'recall answered the bot lookup without a list of bots' };
      const found = (listed.results as RecallListedBot[]).find((bot) => bot?.metadata?.[RECALL_LAUNCH_KEY_METADATA] === key && typeof bot.id === 'string' && !isFinished(bot));
      if (found) return { ok: true, providerBotId: found.id as string };
      if (!listed.next) break;
    }
    return { ok: true, providerBotId: null };
  }

  /** Update and stop for a bot the dispatcher already handed over. */
  async send(command: BotCommand): Promise<RuntimeOutcome> {
    const providerBotId = await this.#o.resolveProviderBotId(command.bot_id);
    if (providerBotId === null) return { ok: false, failure: 'transient', retryAfterMs: null, message: 'recall bot id not recorded yet (the launch is still being written)' };
    if (command.action === 'update') {
      const change: ScheduledBotChange = { meeting_url: command.meeting_url, ...(command.join_at ? { join_at: command.join_at } : {}) };
      return this.#update(providerBotId, change, command.idempotency_key);
    }
    const deleted = await this.#delete(providerBotId);
    if (deleted.ok || deleted.failure !== 'permanent') return deleted;
    // Dispatched already: the bot is on its way in; make it leave. Before it is in the call this
    // answers 400, and the command is tried again later.
    const left = await this.#leave(providerBotId);
    return left.ok || left.failure !== 'permanent' ? left : { ok: false, failure: 'transient', retryAfterMs: 30_000, message: `${left.message}; will try again once the bot is in the call` };
  }

  async #update(providerBotId: string, change: ScheduledBotChange, idempotencyKey: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, {
      method: 'PATCH', url: `${this.#o.baseUrl}/api/v1/bot/${encodeURIComponent(providerBotId)}/`, headers: { ...tokenHeader(this.#o.apiKey), 'idempotency-key': idempotencyKey }, body: updateBody(change), timeoutMs: this.#o.timeoutMs,
    });
    return outcomeOfAnswer('recall', 'scheduled bot update', result, this.#o.now());
  }

  async #delete(providerBotId: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'DELETE', url: `${this.#o.baseUrl}/api/v1/bot/${encodeURIComponent(providerBotId)}/`, headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    // Deleting what is already gone is done.
    if (result.ok && result.answer.status === 404) return { ok: true, alreadyDone: true };
    return outcomeOfAnswer('recall', 'scheduled bot deletion', result, this.#o.now());
  }

  async #leave(providerBotId: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'POST', url: `${this.#o.baseUrl}/api/v1/bot/${encodeURIComponent(providerBotId)}/leave_call/`, headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    return outcomeOfAnswer('recall', 'leave call', result, this.#o.now());
  }
}

/** Verifies a Svix-signed bot webhook (webhook-* headers, or svix-* on older workspaces) and reads it. */
export function parseRecallWebhook(verifier: Webhook, headers: Record<string, string | string[] | undefined>, rawBody: string): WebhookParseResult {
  const pick = (name: string) => headerValue(headers, `webhook-${name}`) ?? headerValue(headers, `svix-${name}`) ?? '';
  try {
    verifier.verify(rawBody, { 'webhook-id': pick('id'), 'webhook-timestamp': pick('timestamp'), 'webhook-signature': pick('signature') });
  } catch (error) {
    // The library parses the body once the signature holds: a SyntaxError is a signed body that is
    // not JSON, which the read below names.
    if (!(error instanceof SyntaxError)) return { ok: false, reason: 'bad_signature', message: error instanceof WebhookVerificationError ? error.message : 'signature did not verify' };
  }
  const body = readWebhookBody(rawBody);
  if ('problem' in body) return { ok: false, reason: 'malformed', message: body.problem };
  const payload = body.payload as { event?: unknown; data?: Record<string, any> };
  // An endpoint gets every event type it did not narrow to some (https://docs.svix.com/receiving/using-app-portal/adding-endpoints),
  // and Recall's other events share the bot events' shape: recording.done and transcript.done carry
  // data.data.code "done" and data.bot (https://docs.recall.ai/docs/recording-webhooks), yet say
  // nothing of where the bot is. Only bot.* events are statuses; the others are acknowledged and
  // left alone (refused, each would be retried for a day: https://docs.svix.com/retries).
  if (typeof payload.event === 'string' && !payload.event.startsWith('bot.')) return { ok: true, event: null };
  const data = payload.data !== null && typeof payload.data === 'object' ? payload.data : {};
  // Current shape: data.bot.id and data.data.{code, sub_code}; the older one: data.bot_id and data.status.
  const botId = data.bot?.id ?? data.bot_id;
  const status = data.data ?? data.status ?? {};
  const code = typeof status.code === 'string' ? status.code : typeof payload.event === 'string' ? payload.event.replace(/^bot\./, '') : undefined;
  if (typeof botId !== 'string' || typeof code !== 'string') return { ok: false, reason: 'malformed', message: 'not a bot status webhook: bot id or status code missing' };
  if (!(code in RECALL_STATUS_MAP)) return { ok: true, event: { providerBotId: botId, providerStatus: code, status: null, message: `Recall reported ${code}` } };
  const subCode = typeof status.sub_code === 'string' ? status.sub_code : null;
  const target = code === 'call_ended' && subCode ? CALL_ENDED_SUB_CODES[subCode] ?? 'Stopped' : RECALL_STATUS_MAP[code]!;
  return {
    ok: true,
    event: {
      providerBotId: botId, providerStatus: subCode ? `${code}/${subCode}` : code, status: toLifecycleStatus(target), message: `Recall reported ${code}${subCode ? ` (${subCode})` : ''}`,
      ...(code === 'call_ended' && subCode === KICKED_SUB_CODE ? { kicked: true } : {}),
      // When the status changed: data.data.updated_at, or the older shape's data.status.created_at
      // (https://docs.recall.ai/v1.10/docs/bot-status-change-events); data.bot.metadata: the bot's
      // metadata, on every current status webhook (https://docs.recall.ai/docs/bot-status-change-events).
      ...deliveryFacts(status.updated_at ?? status.created_at, data.bot?.metadata),
    },
  };
}

/** A bot as List Bots shows it: the fields a lookup reads. */
interface RecallListedBot {
  id?: unknown;
  metadata?: Record<string, unknown> | null;
  status_changes?: { code?: unknown }[];
}

function isFinished(bot: RecallListedBot): boolean {
  const changes = Array.isArray(bot.status_changes) ? bot.status_changes : [];
  const latest = changes.at(-1)?.code;
  return typeof latest === 'string' && RECALL_FINISHED_CODES.has(latest);
}

/**
 * Recall refuses a metadata value longer than 500 characters (https://docs.recall.ai/docs/custom-metadata,
 * "Field Limitations"); Rollcall keeps custom attributes up to 1,000. Recall gets the first 500
 * (the attributes Rollcall sends in its own webhooks stay whole): a bot refused for a label would
 * be a meeting without its bot.
 */
export const RECALL_METADATA_VALUE_LIMIT = 500;

function withinRecallLimit(value: string): string {
  if (value.length <= RECALL_METADATA_VALUE_LIMIT) return value;
  const cut = value.slice(0, RECALL_METADATA_VALUE_LIMIT);
  // Not half of a surrogate pair.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** The Create Bot fields that come from the bot's settings. */
function recallSettings(config: Record<string, unknown>, botId: string): Record<string, unknown> {
  const attributes = Object.fromEntries(Object.entries(stringValues(config.custom_attributes)).map(([name, value]) => [name, withinRecallLimit(value)]));
  const settings: Record<string, unknown> = { metadata: { ...attributes, rollcall_bot_id: botId } };
  if (typeof config.bot_name === 'string') settings.bot_name = config.bot_name;
  const automaticLeave = recallAutomaticLeave(config.automatic_leave);
  if (automaticLeave) settings.automatic_leave = automaticLeave;
  return { ...settings, ...providerSettingsOf(config, 'recall') };
}

/**
 * Rollcall's automatic_leave (MeetStream's names) in Recall's names, where Recall has the setting.
 * everyone_left_timeout is an object in Recall's current API, { timeout, activate_after }
 * (https://docs.recall.ai/docs/automatic-leaving-behavior, "Default timeout values"; a plain number
 * in its v1.10 docs): Rollcall's seconds go in `timeout`, `activate_after` keeps Recall's default.
 */
function recallAutomaticLeave(value: unknown): Record<string, number | { timeout: number }> | null {
  if (!value || typeof value !== 'object') return null;
  const input = value as Record<string, unknown>;
  const names: Record<string, string> = {
    waiting_room_timeout: 'waiting_room_timeout',
    no_one_joined_timeout: 'noone_joined_timeout',
    everyone_left_timeout: 'everyone_left_timeout',
    in_call_recording_timeout: 'in_call_recording_timeout',
    recording_permission_denied_timeout: 'recording_permission_denied_timeout',
  };
  const out: Record<string, number | { timeout: number }> = {};
  for (const [ours, theirs] of Object.entries(names)) if (typeof input[ours] === 'number') out[theirs] = input[ours];
  if (typeof out.everyone_left_timeout === 'number') out.everyone_left_timeout = { timeout: out.everyone_left_timeout };
  return Object.keys(out).length > 0 ? out : null;
}
