// BOT_RUNTIME=attendee: bots run on a self-hosted (or hosted) Attendee (docs/providers/attendee.md).
//
// Attendee has no Idempotency-Key. Its deduplication_key is unique among a project's bots that
// have not finished: a second create with the same key is refused (400, "Deduplication key already
// in use"). The launch's idempotency key is sent as the deduplication key, and that refusal is
// answered by looking the bot up by the key: the repeat becomes "already launched" with the
// original bot's id. (Once that bot has finished, Attendee frees the key; launch retries happen
// within minutes of each other, long before.)
import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  BotCommand, BotRuntime, LaunchOutcome, LaunchRequest, LiveBotOperations, RuntimeOutcome, ScheduledBotChange,
  ScheduledBotOperations, StatusWebhookVerifier, WebhookParseResult,
} from '../bot-runtimes/bot-runtime.ts';
import { deliveryFacts } from '../bot-runtimes/bot-runtime.ts';
import { MIN_JOIN_AT_LEAD_MS, accountBlocked, futureJoinAt, headerValue, outcomeOfAnswer, sendProviderRequest, stringValues, tokenHeader, updateBody, type ProviderAnswer } from './provider-http.ts';
import { readWebhookBody, toLifecycleStatus, type TargetStatus } from './provider-status.ts';
import type { ProviderRuntimeOptions } from './provider-options.ts';
import { providerSettingsOf } from '../../domain/provider-settings.ts';


/** How long a creation refused at the project's limit of bots in meetings waits before it is tried again. */
const CONCURRENCY_RETRY_MS = 60_000;

/**
 * Attendee answers every refusal of a creation with 400 (bots_api_views.py, BotListCreateView.post),
 * those about the project as well as those about the request (bots_api_utils.py, create_bot). The
 * ones about the project are no fault of the bot's and pass: it waits for them, where a refusal of
 * the request fails it. Each made nothing: create_bot checks the first two before it writes and
 * writes in one transaction that the third rolled back.
 */
function projectRefusal(answer: ProviderAnswer): LaunchOutcome | null {
  const error = (answer.json as { error?: unknown } | null)?.error;
  if (typeof error !== 'string') return null;
  const detail = `: ${error.slice(0, 300)}`;
  // "Organization has run out of credits. Please add more credits in the Account -> Billing page."
  if (/run out of credits/i.test(error)) return accountBlocked('attendee', 'bot creation', 'HTTP 400: its organization ran out of credits', null, detail);
  // "You have exceeded the maximum number of concurrent bots (N) for your account. ..."
  if (/maximum number of concurrent bots/i.test(error)) {
    return { ok: false, failure: 'transient', createdNothing: true, retryAfterMs: CONCURRENCY_RETRY_MS, message: `attendee refused the bot creation: the project has as many bots in meetings as it may; tried again once one may have left${detail}` };
  }
  // "An error occurred while creating the bot. Error ID: ...": its own failure, logged under that id.
  if (/error occurred while creating the bot/i.test(error)) return { ok: false, failure: 'transient', createdNothing: true, retryAfterMs: null, message: `attendee failed to create the bot${detail}` };
  return null;
}

/**
 * List Bots pages read in one lookup (25 bots a page): a launch's key names the few bots its
 * attempts made, one after another as each finished; more is not Rollcall's doing
 * (docs/providers/attendee.md, "Repeated launches").
 */
const MAX_LOOKUP_PAGES = 5;

/** A lookup that could not read the list of bots under the key to its end: tried again. */
function unreadList(key: string, why: string): LaunchOutcome {
  return { ok: false, failure: 'transient', retryAfterMs: null, message: `attendee refused the deduplication key ${key} as in use, and the bot holding it was not found: ${why}; tried again` };
}

/** `: <detail>` of a DRF error body ({ "detail": "Invalid cursor" }), or nothing. */
function detailOf(answer: ProviderAnswer): string {
  const detail = (answer.json as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? `: ${detail.slice(0, 200)}` : '';
}

/** The `cursor` parameter of a `next` page URL; null when it has none. */
function cursorOf(next: string): string | null {
  try {
    return new URL(next).searchParams.get('cursor');
  } catch {
    return null;
  }
}

/** States after which a bot has finished and no longer holds its deduplication key (bots_api_utils.py, create_bot). */
const ATTENDEE_FINISHED_STATES = new Set(['ended', 'fatal_error', 'data_deleted']);

/**
 * Bot states of bot.state_change webhooks (docs/webhooks.md, openapi.yml in attendee-labs/attendee)
 * to Rollcall. null: the state changes nothing in Rollcall.
 */
export const ATTENDEE_STATE_MAP: Record<string, TargetStatus | null> = {
  ready: null,
  scheduled: null,
  staged: null,
  joining: 'Joining',
  waiting_room: 'InWaitingRoom',
  joined_not_recording: 'InMeeting',
  joined_recording: 'Recording',
  joined_recording_paused: null,
  joined_recording_permission_denied: null,
  joining_breakout_room: null,
  leaving_breakout_room: null,
  leaving: 'Leaving',
  post_processing: 'Stopped',
  ended: 'Done',
  fatal_error: 'Error',
  data_deleted: null,
};

/** could_not_join_meeting sub types that mean the host did not let the bot in. */
const COULD_NOT_JOIN: Record<string, TargetStatus> = {
  waiting_room_timeout_exceeded: 'NotAllowed',
  request_to_join_denied: 'Denied',
};

export class AttendeeBotProvider implements BotRuntime {
  readonly name = 'attendee';
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
        // Update and delete work only in the scheduled state (bots_api_utils.py, patch_bot and
        // delete_bot). The scheduler stages bots (allocates their pod) five minutes ahead; its
        // start jitter, on only when both SCHEDULED_BOT_JITTER_START_SECONDS and _END_SECONDS are
        // set, stages each at a random moment between the end and the start (run_scheduler.py).
        // An update is tried until six minutes out (the five, and a minute for the request's way
        // and the two clocks): a bot staged early answers 400 and is replaced, as inside the
        // cutoff (new settings alone too: its state refused them, see #update), and one still
        // scheduled takes it for good: launch_scheduled_bot stages a bot
        // only at the join_at it was picked up with (after_new_state_is_staged in bots/models.py
        // refuses another), so a launch already queued does not start a bot moved meanwhile.
        updateCutoffMs: 6 * 60_000,
        editCutoffMs: 6 * 60_000,
        // A delete is sure to work only while no jitter can have staged the bot: ten minutes,
        // which assumes a jitter end of at most 600 s. A larger end fails safely: the delete is
        // refused, and leave follows.
        deleteCutoffMs: 10 * 60_000,
        // Inside those ten minutes, and past the join time (the scheduler still launches a bot
        // missed by up to five minutes), a bot not staged yet is still deleted (delete_bot looks
        // at its state only), and a staged one answers 400, after which leave is what remains. Leave is
        // refused before the bot is joining (LEAVE_REQUESTED's from-states, bots/models.py): a
        // removal that went straight to it would wait for the bot to start joining the meeting.
        deletesUntilStarted: true,
        canUpdateMeetingUrl: true,
        // PATCH /api/v1/bots/{id} takes bot_name (scheduled state only) and metadata
        // (https://docs.attendee.dev/api-reference/tag/bots/patch/api/v1/bots/object_id).
        updatableSettings: ['bot_name', 'metadata'],
        createsPerMinute: options.createsPerMinute,
        // A repeat while the first creation runs meets the unique_bot_deduplication_key constraint (bots_api_utils.py, create_bot).
        unansweredCreationRunsMs: 0,
      },
      settingsOf: attendeeSettings,
      update: (id, change) => this.#update(id, change),
      delete: (id) => this.#delete(id),
    };
    this.live = { leave: (id) => this.#leave(id) };
    this.statusWebhooks = { parse: (headers, body) => parseAttendeeWebhook(options.webhookSecret, headers, body) };
  }

  #url(path: string): string {
    return `${this.#o.baseUrl}/api/v1${path}`;
  }

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    const now = this.#o.now();
    const body: Record<string, unknown> = { ...attendeeSettings(request.bot_config, request.bot_id), meeting_url: request.meeting_url, deduplication_key: request.idempotency_key };
    // A join time still ahead when the request arrives is sent: Attendee's scheduled bots guide
    // asks only that join_at be in the future, "ideally" two minutes ahead to spin the bot up. A
    // closer one still makes a scheduled bot that joins then (a little late at worst); one that
    // may be past on arrival is left out (futureJoinAt), and the bot joins at once.
    const joinAt = futureJoinAt(request.join_at, now, MIN_JOIN_AT_LEAD_MS);
    if (joinAt) body.join_at = joinAt;
    const result = await sendProviderRequest(this.#o.http, { method: 'POST', url: this.#url('/bots'), headers: tokenHeader(this.#o.apiKey), body, timeoutMs: this.#o.timeoutMs });
    if (result.ok && result.answer.status === 400 && /deduplication key already in use/i.test(result.answer.text)) {
      return this.#findByKey(request.idempotency_key);
    }
    if (result.ok && result.answer.status === 400) {
      const refusal = projectRefusal(result.answer);
      if (refusal) return refusal;
    }
    const outcome = outcomeOfAnswer('attendee', 'bot creation', result, now);
    if (!outcome.ok || !result.ok) return outcome;
    const id = (result.answer.json as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return { ok: false, failure: 'transient', retryAfterMs: null, message: 'attendee accepted the bot but its answer had no id' };
    return { ok: true, alreadyDone: false, providerBotId: id };
  }

  /**
   * The bot an earlier attempt of this launch created. List Bots gives every bot ever made under
   * the key (finished ones keep their row) oldest first, 25 to a page, each page's `next` a URL
   * with a `cursor`, null on the last page (BotListCreateView.get and BotCursorPagination in
   * bots/bots_api_views.py). The one holding the key is the one that has not finished (the key is
   * refused only while such a bot exists): pages are read until it is found. Only the cursor is
   * taken from `next`: the rest of that URL is Attendee's idea of its own address, which behind a
   * proxy need not be the base URL Rollcall reaches it at.
   *
   * With none unfinished, the newest is the answer only once the whole list has been read: the
   * holder finished since the refusal, and it is the last listed. A list not read to its end (more
   * pages than are read, a `next` without a cursor, a cursor refused) may hold the holder further
   * on: that is a transient failure, tried again, rather than a finished bot taken for the launch's.
   */
  async #findByKey(key: string): Promise<LaunchOutcome> {
    let newest: unknown;
    let cursor: string | null = null;
    for (let page = 1; page <= MAX_LOOKUP_PAGES; page++) {
      const query = new URLSearchParams({ deduplication_key: key, ...(cursor !== null ? { cursor } : {}) });
      const result = await sendProviderRequest(this.#o.http, { method: 'GET', url: this.#url(`/bots?${query}`), headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
      // A later page's 404 is about its cursor (DRF's "Invalid cursor"): the path answered page 1.
      if (cursor !== null && result.ok && result.answer.status === 404) {
        return unreadList(key, `the cursor of page ${page} was refused (HTTP 404${detailOf(result.answer)})`);
      }
      const outcome = outcomeOfAnswer('attendee', 'bot lookup', result, this.#o.now());
      if (!outcome.ok || !result.ok) return outcome;
      const list = result.answer.json as { results?: { id?: unknown; state?: unknown }[]; next?: unknown } | null;
      const listed = Array.isArray(list?.results) ? list.results : [];
      newest = listed.at(-1)?.id ?? newest;
      const holding = listed.find((bot) => typeof bot.state === 'string' && !ATTENDEE_FINISHED_STATES.has(bot.state))?.id;
      if (typeof holding === 'string') return { ok: true, alreadyDone: true, providerBotId: holding };
      if (list?.next === null) {
        // The whole list read and none unfinished any more: the one that held the key finished
        // since the refusal, and it is the newest listed (the older ones had finished before it
        // could be made).
        return typeof newest === 'string'
          ? { ok: true, alreadyDone: true, providerBotId: newest }
          : { ok: false, failure: 'transient', retryAfterMs: null, message: `attendee says the deduplication key ${key} is in use but lists no bot with it` };
      }
      cursor = typeof list?.next === 'string' ? cursorOf(list.next) : null;
      if (cursor === null) return unreadList(key, `page ${page}'s next names no page Rollcall can ask for`);
    }
    return unreadList(key, `it lists more than ${MAX_LOOKUP_PAGES} pages of bots under the key, and every one read has finished`);
  }

  async send(command: BotCommand): Promise<RuntimeOutcome> {
    const providerBotId = await this.#o.resolveProviderBotId(command.bot_id);
    if (providerBotId === null) return { ok: false, failure: 'transient', retryAfterMs: null, message: 'attendee bot id not recorded yet (the launch is still being written)' };
    if (command.action === 'update') return this.#update(providerBotId, { meeting_url: command.meeting_url, ...(command.join_at ? { join_at: command.join_at } : {}) });
    const deleted = await this.#delete(providerBotId);
    if (deleted.ok || deleted.failure !== 'permanent') return deleted;
    // Staged or further along: only leaving is left, and it works once the bot is joining or in.
    const left = await this.#leave(providerBotId);
    return left.ok || left.failure !== 'permanent' ? left : { ok: false, failure: 'transient', retryAfterMs: 30_000, message: `${left.message}; will try again once the bot is in the meeting` };
  }

  async #update(providerBotId: string, change: ScheduledBotChange): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'PATCH', url: this.#url(`/bots/${encodeURIComponent(providerBotId)}`), headers: tokenHeader(this.#o.apiKey), body: updateBody(change), timeoutMs: this.#o.timeoutMs });
    const outcome = outcomeOfAnswer('attendee', 'scheduled bot update', result, this.#o.now());
    // "Bot is in state staged but join_at, meeting_url, bot_name, ... can only be updated when in
    // the scheduled state" (bots_api_utils.py, patch_bot): the bot's state refused it, not the change.
    if (!outcome.ok && outcome.failure === 'permanent' && result.ok && result.answer.status === 400 && /can only be updated when in the scheduled state/i.test(result.answer.text)) {
      return { ...outcome, isPastScheduled: true };
    }
    return outcome;
  }

  async #delete(providerBotId: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'DELETE', url: this.#url(`/bots/${encodeURIComponent(providerBotId)}`), headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    if (result.ok && result.answer.status === 404) return { ok: true, alreadyDone: true };
    return outcomeOfAnswer('attendee', 'scheduled bot deletion', result, this.#o.now());
  }

  async #leave(providerBotId: string): Promise<RuntimeOutcome> {
    const result = await sendProviderRequest(this.#o.http, { method: 'POST', url: this.#url(`/bots/${encodeURIComponent(providerBotId)}/leave`), headers: tokenHeader(this.#o.apiKey), timeoutMs: this.#o.timeoutMs });
    return outcomeOfAnswer('attendee', 'leave meeting', result, this.#o.now());
  }
}

/**
 * Attendee signs the payload, not the bytes: base64 HMAC-SHA256, keyed with the base64-decoded
 * project secret, over the payload as Python's json.dumps writes it with sorted keys, no spaces
 * and no ASCII escaping (docs/webhooks.md of attendee-labs/attendee, "Verifying Webhooks"). That
 * text is rebuilt from the body, as Python would write it:
 * - each number as it was written: Python writes a whole float with its fraction
 *   (`credits_consumed` 1.0 in an ending's event_metadata where credits are charged:
 *   bots/models.py), which JSON.parse would make 1;
 * - keys in code-point order: JavaScript writes integer-like keys ("2", "10") first and in
 *   numeric order, and sorts by UTF-16 unit; `bot_metadata` holds the client's own attribute names.
 * Null when the body is not JSON.
 */
export function attendeeSignedText(rawBody: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(rawBody, (_key, parsed: unknown, context?: { source?: string }) =>
      typeof parsed === 'number' && context?.source !== undefined ? RAW_JSON.rawJSON(context.source) : parsed);
  } catch {
    return null;
  }
  return pythonSortedJson(value);
}

export function attendeeSignature(secret: string, signedText: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(signedText, 'utf8').digest('base64');
}

/** JSON.rawJSON (Node 21 and later): a number kept as the text it was written as. */
const RAW_JSON = JSON as JSON & { rawJSON(text: string): object; isRawJSON(value: unknown): value is { rawJSON: string } };

/** json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for a parsed body. */
function pythonSortedJson(value: unknown): string {
  if (RAW_JSON.isRawJSON(value)) return value.rawJSON;
  if (Array.isArray(value)) return `[${value.map(pythonSortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort(byCodePoint).map((k) => `${JSON.stringify(k)}:${pythonSortedJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Python's order of str: by code point (a character past U+FFFF sorts after U+FFFF, not among the surrogates). */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The create-bot fields that come from the bot's settings (bot_name is required there). */
function attendeeSettings(config: Record<string, unknown>, botId: string): Record<string, unknown> {
  return {
    bot_name: typeof config.bot_name === 'string' ? config.bot_name : 'Rollcall Notetaker',
    metadata: { ...stringValues(config.custom_attributes), rollcall_bot_id: botId },
    ...providerSettingsOf(config, 'attendee'),
  };
}

export function parseAttendeeWebhook(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string): WebhookParseResult {
  const body = readWebhookBody(rawBody);
  // Attendee signs the parsed payload: a body that is not a JSON object has no signature to check.
  if ('problem' in body) return { ok: false, reason: 'bad_signature', message: `${body.problem}, so its signature cannot be checked` };
  const payload = body.payload;
  const given = Buffer.from(headerValue(headers, 'x-webhook-signature') ?? '');
  const expected = Buffer.from(attendeeSignature(secret, attendeeSignedText(rawBody)!));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature', message: 'X-Webhook-Signature is missing or does not match the payload' };
  if (payload.trigger !== 'bot.state_change') return { ok: true, event: null };
  const botId = payload.bot_id;
  const data = (payload.data ?? {}) as Record<string, unknown>;
  const state = data.new_state;
  if (typeof botId !== 'string' || typeof state !== 'string') return { ok: false, reason: 'malformed', message: 'bot.state_change without bot_id or data.new_state' };
  const subType = typeof data.event_sub_type === 'string' ? data.event_sub_type : null;
  const target = data.event_type === 'could_not_join_meeting'
    ? (subType ? COULD_NOT_JOIN[subType] : undefined) ?? 'Error'
    : ATTENDEE_STATE_MAP[state] ?? null;
  // A participant removed the bot: its meeting_ended carries event_metadata.bot_removed_by (Teams
  // only; docs/webhooks.md of attendee-labs/attendee, "Knowing who removed the bot"). Its absence
  // proves nothing: the other platforms do not say who.
  const removedBy = (data.event_metadata as { bot_removed_by?: unknown } | null | undefined)?.bot_removed_by;
  const isRemoved = data.event_type === 'meeting_ended' && removedBy !== null && typeof removedBy === 'object';
  // data.created_at: when the state changed (docs/webhooks.md of attendee-labs/attendee, "Payload for
  // bot.state_change trigger"); bot_metadata is null for a bot made without any (Bot.metadata is nullable).
  return { ok: true, event: { providerBotId: botId, providerStatus: subType ? `${state}/${subType}` : state, status: toLifecycleStatus(target), message: `Attendee reported ${state}${subType ? ` (${subType})` : ''}${isRemoved ? ' (a participant removed the bot)' : ''}`, ...(isRemoved ? { kicked: true } : {}), ...deliveryFacts(data.created_at, payload.bot_metadata, { nullIsNone: true }) } };
}
