// A fake Attendee at the HTTP boundary (docs/providers/attendee.md): bots and their states, the
// deduplication key, scheduled bots that are staged before their join time (after which they can
// no longer be updated or deleted), leave, and bot.state_change webhooks with Attendee's signature.
import { pythonJsonLength } from '../../src/domain/provider-input-limits.ts';
import { createHmac } from 'node:crypto';
import { FakeProviderServer, fakeId, postWebhook, type FakeAnswer, type FakeRequest } from './fake-provider-kit.ts';

export interface FakeAttendeeBot {
  id: string;
  meeting_url: string;
  bot_name: string;
  join_at: string | null;
  metadata: Record<string, string>;
  deduplication_key: string | null;
  state: string;
  deleted: boolean;
}

/**
 * The link as Attendee keeps it, or null where its parser cannot read it (bots/meeting_url_utils.py,
 * normalize_meeting_url and normalize_meeting_url_raw). PatchBotSerializer and CreateBotSerializer
 * refuse a link it cannot read, and otherwise return the normalised one
 * (BotValidationMixin.validate_meeting_url in bots/serializers.py: `return normalized_url`), which
 * is what the bot stores and what patch_bot compares. It strips the link (and trailing ">"), and
 * tries it as given, then unquoted once and twice:
 * - Zoom (a registered domain of zoom.us or zoom.com): zoom.com made zoom.us, the path cut at its
 *   first character outside letters, digits, "/", "_" and "-" and its slashes collapsed, a digit
 *   required in it, and of the query only `pwd` (its leading letters and digits, with an optional
 *   ".digits") and `tk` kept;
 * - Google Meet (the host meet.google.com): https://meet.google.com/ and the code after it;
 * - Teams (four hosts): a meetup-join link with ?context= naming "Tid" and then "Oid", rebuilt from
 *   those parts (teams.live.com made teams.microsoft.com), or a /meet/<id> link with ?p=, kept as
 *   host, id and passcode.
 * Not modelled: its check for a second link inside the first (contains_multiple_urls), and the
 * light-meetings launch links (Rollcall does not recognise them as Teams links, so never sends one
 * here unless a client gives it).
 */
export function normalizeMeetingUrl(url: string): string | null {
  let reading = url.trim().replace(/>+$/, '');
  for (let pass = 0; pass < 3; pass++) {
    const normalised = normaliseOnce(reading);
    if (normalised !== null) return normalised;
    reading = reading.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => new TextDecoder().decode(new Uint8Array(run.split('%').slice(1).map((hex) => Number.parseInt(hex, 16)))));
  }
  return null;
}

/** Whether Attendee's parser reads the link (normalizeMeetingUrl). */
export function readsMeetingUrl(url: string): boolean {
  return normalizeMeetingUrl(url) !== null;
}

const TEAMS_HOSTS = ['teams.microsoft.com', 'teams.live.com', 'gov.teams.microsoft.us', 'dod.teams.microsoft.us'];
/** Longest first, as TEAMS_HOSTS_PATTERN orders them. */
const TEAMS_HOSTS_PATTERN = [...TEAMS_HOSTS].sort((a, b) => b.length - a.length).map((h) => h.replace(/\./g, '\\.')).join('|');
const TEAMS_MEETUP_JOIN = new RegExp(`(?:${TEAMS_HOSTS_PATTERN})(?:/[^/]*)*?/l/meetup-join/([^/]+)/([^?]+)\\?context=.*?"Tid":"([^"]+)".*?"Oid":"([^"]+)"`);
const TEAMS_MEET = new RegExp(`(${TEAMS_HOSTS_PATTERN})(?:/[^/]*)*?/meet/([^?]+)\\?p=([^&\\s]+)`);

function normaliseOnce(url: string): string | null {
  const parts = /^https?:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (parts === null) return null;
  const netloc = parts[1]!.toLowerCase();
  const host = netloc.replace(/:.*$/, '');
  if (/(^|\.)zoom\.(us|com)$/.test(host)) {
    const path = `/${/^[a-zA-Z0-9/_-]*/.exec(parts[2]!)![0]}`.replace(/\/+/g, '/');
    if (!/[0-9]/.test(path)) return null;
    const query = new URLSearchParams(parts[3] ?? '');
    const kept: string[] = [];
    const pwd = /^[a-zA-Z0-9]+(?:\.\d+)?/.exec(query.get('pwd') ?? '');
    if (pwd) kept.push(`pwd=${pwd[0]}`);
    const tk = (query.get('tk') ?? '').trim();
    if (tk !== '') kept.push(`tk=${tk}`);
    const zoomNetloc = netloc === 'zoom.com' ? 'zoom.us' : netloc.endsWith('.zoom.com') ? `${netloc.slice(0, -'.zoom.com'.length)}.zoom.us` : netloc;
    return `https://${zoomNetloc}${path}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  }
  if (host === 'meet.google.com') {
    const code = /meet\.google\.com\/([a-zA-Z0-9-]+)/.exec(url);
    return code ? `https://meet.google.com/${code[1]}` : null;
  }
  if (TEAMS_HOSTS.includes(host)) {
    const join = TEAMS_MEETUP_JOIN.exec(url);
    if (join) return `https://${host === 'teams.live.com' ? 'teams.microsoft.com' : host}/l/meetup-join/${join[1]}/${join[2]}?context={"Tid":"${join[3]}","Oid":"${join[4]}"}`;
    const meet = TEAMS_MEET.exec(url);
    if (meet) return `https://${meet[1]}/meet/${meet[2]}?p=${meet[3]}`;
  }
  return null;
}

/**
 * The event whose transition leads to each state (BotEventManager.VALID_TRANSITIONS and
 * BotEventTypes.type_to_api_code in bots/models.py of attendee-labs/attendee). A state reached by
 * more than one event is settled by the state left, in eventTypeOf.
 */
const EVENT_TYPE_OF_STATE: Record<string, string> = {
  staged: 'staged',
  joining: 'join_requested',
  waiting_room: 'put_in_waiting_room',
  joined_not_recording: 'joined_meeting',
  joined_recording: 'recording_permission_granted',
  joined_recording_paused: 'recording_paused',
  joined_recording_permission_denied: 'recording_permission_denied',
  joining_breakout_room: 'began_joining_breakout_room',
  leaving_breakout_room: 'began_leaving_breakout_room',
  leaving: 'leave_requested',
  ended: 'post_processing_completed',
  fatal_error: 'fatal_error',
  data_deleted: 'data_deleted',
};

/**
 * The event_type of a move from `oldState` to `newState`, per VALID_TRANSITIONS: post_processing
 * is reached by left_meeting from leaving and by meeting_ended otherwise; joined_recording by
 * recording_resumed from joined_recording_paused and by recording_permission_granted otherwise;
 * the state a bot had before a breakout room, by joined_breakout_room or left_breakout_room from
 * joining_breakout_room or leaving_breakout_room.
 */
function eventTypeOf(oldState: string, newState: string): string {
  if (newState === 'post_processing') return oldState === 'leaving' ? 'left_meeting' : 'meeting_ended';
  const isJoined = ['joined_not_recording', 'joined_recording', 'joined_recording_paused', 'joined_recording_permission_denied'].includes(newState);
  if (isJoined && oldState === 'joining_breakout_room') return 'joined_breakout_room';
  if (isJoined && oldState === 'leaving_breakout_room') return 'left_breakout_room';
  if (newState === 'joined_recording' && oldState === 'joined_recording_paused') return 'recording_resumed';
  return EVENT_TYPE_OF_STATE[newState] ?? newState;
}

/** States after which a bot is finished and frees its deduplication key (bots_api_utils create_bot). */
const TERMINAL = new Set(['ended', 'fatal_error', 'data_deleted']);

export class FakeAttendee extends FakeProviderServer {
  readonly bots = new Map<string, FakeAttendeeBot>();
  /**
   * How far ahead of join_at the scheduler stages a scheduled bot: run_scheduler picks bots whose
   * join_at is within five minutes ("Give the bots 5 minutes to spin up",
   * bots/management/commands/run_scheduler.py), and launch_scheduled_bot moves them to staged
   * (bots/tasks/launch_scheduled_bot_task.py). Its start jitter runs only when both
   * SCHEDULED_BOT_JITTER_START_SECONDS and SCHEDULED_BOT_JITTER_END_SECONDS are set
   * (_run_scheduled_bots); it then picks bots as far ahead as the end (a value of 300 and 600 is
   * ten minutes) and stages each at a random moment before the start: a test sets this to model
   * that. A negative value models a scheduler running behind: it still launches a bot whose
   * join_at passed less than five minutes ago (join_at_lower_threshold).
   */
  stagingWindowMs = 5 * 60_000;
  /** Bots on one page of List Bots: BotCursorPagination.page_size (bots/bots_api_views.py). */
  listPageSize = 25;
  /**
   * POSTs to the bots endpoint a project may make per rolling minute: BotListCreateView's
   * ProjectPostThrottle (bots/throttling.py), a Django REST framework SimpleRateThrottle keyed on
   * the project, at PROJECT_POST_THROTTLE_RATE, 3000/min unless set (attendee/settings/base.py).
   */
  postsPerMinute = 3000;
  readonly #posts: number[] = [];

  readonly webhookSecret: string;

  constructor(apiKey: string, webhookSecret: string) {
    super(apiKey);
    this.webhookSecret = webhookSecret;
  }

  get liveBots(): FakeAttendeeBot[] {
    return [...this.bots.values()].filter((b) => !b.deleted);
  }

  protected handle(request: FakeRequest): FakeAnswer {
    this.#stageDueBots();
    if (request.path === '/api/v1/bots') {
      if (request.method === 'POST') return this.#throttled() ?? this.#create(request.body ?? {});
      if (request.method === 'GET') return this.#list(request.query);
    }
    const match = /^\/api\/v1\/bots\/([^/]+)(\/leave)?$/.exec(request.path);
    const bot = match ? this.bots.get(match[1]!) : undefined;
    if (!match || !bot || bot.deleted) return { status: 404, body: { error: 'Bot not found' } };
    if (match[2] && request.method === 'POST') return this.#leave(bot);
    if (request.method === 'GET') return { status: 200, body: this.#view(bot) };
    if (request.method === 'PATCH') return this.#patch(bot, request.body ?? {});
    if (request.method === 'DELETE') return this.#delete(bot);
    return { status: 405, body: { error: 'Method not allowed' } };
  }

  /**
   * List Bots (BotListCreateView.get in bots/bots_api_views.py): the project's bots, filterable by
   * deduplication_key, ordered by created_at, oldest first, in pages of 25 under Django REST
   * framework's cursor pagination (BotCursorPagination): { next, previous, results }, `next` a URL
   * carrying an opaque `cursor` parameter, null on the last page. Finished bots stay listed (only a
   * deleted scheduled bot is gone: delete_bot in bots/bots_api_utils.py removes its row). Opaque
   * here too: the cursor is the offset, encoded.
   */
  #list(query: URLSearchParams): FakeAnswer {
    const key = query.get('deduplication_key');
    const matching = this.liveBots.filter((b) => !key || b.deduplication_key === key);
    const cursor = query.get('cursor');
    const offset = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^o=/, ''));
    // DRF answers a cursor it cannot read with 404 "Invalid cursor" (CursorPagination.decode_cursor).
    if (!Number.isInteger(offset) || offset < 0) return { status: 404, body: { detail: 'Invalid cursor' } };
    const page = matching.slice(offset, offset + this.listPageSize);
    const pageUrl = (at: number) => `${this.url}/api/v1/bots?${new URLSearchParams([...query.entries()].filter(([name]) => name !== 'cursor').concat([['cursor', Buffer.from(`o=${at}`).toString('base64url')]]))}`;
    return {
      status: 200,
      body: {
        next: offset + this.listPageSize < matching.length ? pageUrl(offset + this.listPageSize) : null,
        previous: offset > 0 ? pageUrl(Math.max(0, offset - this.listPageSize)) : null,
        results: page.map((b) => this.#view(b)),
      },
    };
  }

  /**
   * Over the project's rate, 429 with Retry-After in seconds and DRF's Throttled body; the
   * throttle runs after authentication and before the view, so the request does nothing
   * (APIView.initial checks authentication, permissions, then throttles).
   */
  #throttled(): FakeAnswer | null {
    const now = this.now();
    while (this.#posts.length > 0 && this.#posts[0]! <= now - 60_000) this.#posts.shift();
    if (this.#posts.length >= this.postsPerMinute) {
      const wait = Math.max(1, Math.ceil((this.#posts[0]! + 60_000 - now) / 1000));
      return { status: 429, headers: { 'retry-after': String(wait) }, body: { detail: `Request was throttled. Expected available in ${wait} seconds.` } };
    }
    this.#posts.push(now);
    return null;
  }

  /** The scheduler's job: scheduled bots whose join time is near become staged. */
  #stageDueBots(): void {
    for (const bot of this.liveBots) {
      if (bot.state === 'scheduled' && bot.join_at !== null && Date.parse(bot.join_at) - this.now() <= this.stagingWindowMs) bot.state = 'staged';
    }
  }

  #create(body: Record<string, any>): FakeAnswer {
    // meeting_url and bot_name are required CharFields of CreateBotSerializer (bots/serializers.py):
    // Django REST framework's field errors, "This field is required." under each one missing.
    const missing = ['meeting_url', 'bot_name'].filter((field) => typeof body[field] !== 'string');
    if (missing.length > 0) return { status: 400, body: Object.fromEntries(missing.map((field) => [field, ['This field is required.']])) };
    // Field errors of CreateBotSerializer (bots/serializers.py): a blank name (DRF's CharField), one
    // with a character beyond the Basic Multilingual Plane (BotValidationMixin.validate_bot_name);
    // metadata whose json.dumps text is over MAX_METADATA_LENGTH, 1,000 by default
    // (_validate_metadata_attribute); a link its parser cannot read (readsMeetingUrl).
    if (body.bot_name.trim() === '') return { status: 400, body: { bot_name: ['This field may not be blank.'] } };
    if ([...body.bot_name].some((c) => c.codePointAt(0)! > 0xffff)) return { status: 400, body: { bot_name: ['Bot name cannot contain emojis or rare script characters.'] } };
    if (body.metadata !== undefined && pythonJsonLength(body.metadata) > 1000) return { status: 400, body: { metadata: ['Metadata must be less than 1000 characters'] } };
    const meetingUrl = normalizeMeetingUrl(body.meeting_url);
    if (meetingUrl === null) return { status: 400, body: { meeting_url: ['Invalid meeting URL'] } };
    let joinAt: number | null = null;
    if (body.join_at !== undefined) {
      joinAt = Date.parse(body.join_at);
      // Refused when past on arrival, as a serializer field error (bots/serializers.py,
      // validate_join_at; the scheduled bots guide: "Cannot be in the past").
      if (Number.isNaN(joinAt)) return { status: 400, body: { join_at: ['Datetime has wrong format.'] } };
      if (joinAt < this.now()) return { status: 400, body: { join_at: ['join_at cannot be in the past'] } };
    }
    const key = typeof body.deduplication_key === 'string' ? body.deduplication_key : null;
    // Unique among bots that have not finished; the message create_bot returns on the constraint.
    if (key !== null && this.liveBots.some((b) => b.deduplication_key === key && !TERMINAL.has(b.state))) {
      return { status: 400, body: { error: 'Deduplication key already in use. A bot in a non-terminal state with this deduplication key already exists. Please use a different deduplication key or wait for that bot to terminate.' } };
    }
    const bot: FakeAttendeeBot = {
      id: fakeId('bot_'),
      // Stored as validate_meeting_url returns it: normalised.
      meeting_url: meetingUrl,
      bot_name: body.bot_name,
      join_at: joinAt === null ? null : new Date(joinAt).toISOString(),
      metadata: body.metadata ?? {},
      deduplication_key: key,
      state: joinAt === null ? 'joining' : 'scheduled',
      deleted: false,
    };
    this.bots.set(bot.id, bot);
    this.#stageDueBots();
    return { status: 201, body: this.#view(bot) };
  }

  #patch(bot: FakeAttendeeBot, body: Record<string, any>): FakeAnswer {
    // patch_bot (bots/bots_api_utils.py) validates the request first: PatchBotSerializer reads
    // meeting_url as creation does and hands on the normalised link
    // (BotValidationMixin.validate_meeting_url in bots/serializers.py).
    let meetingUrl: string | undefined;
    if (body.meeting_url !== undefined) {
      const normalised = typeof body.meeting_url === 'string' ? normalizeMeetingUrl(body.meeting_url) : null;
      if (normalised === null) return { status: 400, body: { meeting_url: ['Invalid meeting URL'] } };
      meetingUrl = normalised;
    }
    let joinAt: string | undefined;
    if (body.join_at !== undefined) {
      const ms = Date.parse(body.join_at);
      // PatchBotSerializer.validate_join_at (bots/serializers.py), as at creation.
      if (Number.isNaN(ms)) return { status: 400, body: { join_at: ['Datetime has wrong format.'] } };
      if (ms < this.now()) return { status: 400, body: { join_at: ['join_at cannot be in the past'] } };
      joinAt = new Date(ms).toISOString();
    }
    // Then it sets each given field on the bot and compares with the value it had: outside the
    // scheduled state it refuses a join_at, meeting_url or bot_name that CHANGES (the same value
    // again passes; a link is compared normalised, so one that differs only in what normalisation
    // drops, a Meet link's ?authuser=1 say, is no change), and any bot_image or recording_settings
    // given; metadata goes through in any state; omitted fields keep their value (patch_bot,
    // "update_only_legal_for_scheduled_bots";
    // https://docs.attendee.dev/api-reference/tag/bots/patch/api/v1/bots/object_id).
    const changes = joinAt !== undefined && joinAt !== bot.join_at
      || meetingUrl !== undefined && meetingUrl !== bot.meeting_url
      || typeof body.bot_name === 'string' && body.bot_name !== bot.bot_name
      || Boolean(body.bot_image) || Boolean(body.recording_settings);
    if (bot.state !== 'scheduled' && changes) return { status: 400, body: { error: `Bot is in state ${bot.state} but join_at, meeting_url, bot_name, bot_image and recording_settings can only be updated when in the scheduled state` } };
    if (joinAt !== undefined) bot.join_at = joinAt;
    if (meetingUrl !== undefined) bot.meeting_url = meetingUrl;
    if (typeof body.bot_name === 'string') bot.bot_name = body.bot_name;
    if (body.metadata !== null && typeof body.metadata === 'object') bot.metadata = body.metadata;
    this.#stageDueBots();
    return { status: 200, body: this.#view(bot) };
  }

  #delete(bot: FakeAttendeeBot): FakeAnswer {
    // Only a scheduled bot, whatever its join time (bots_api_utils.py, delete_bot, looks at the
    // state alone): inside the scheduler's window a bot not staged yet is still deleted.
    if (bot.state !== 'scheduled') return { status: 400, body: { error: `Bot is in state ${bot.state} but can only be deleted when in scheduled state` } };
    bot.deleted = true;
    return { status: 200 };
  }

  #leave(bot: FakeAttendeeBot): FakeAnswer {
    // 400 when the bot is not in a state it can leave from (openapi.yml, Leave Meeting): the states
    // LEAVE_REQUESTED moves from (BotEventManager.VALID_TRANSITIONS in bots/models.py).
    if (!['joining', 'waiting_room', 'joined_not_recording', 'joined_recording', 'joined_recording_paused', 'joined_recording_permission_denied', 'joining_breakout_room', 'leaving_breakout_room'].includes(bot.state)) {
      return { status: 400, body: { error: `Bot is in state ${bot.state} and cannot leave` } };
    }
    bot.state = 'leaving';
    return { status: 200, body: this.#view(bot) };
  }

  #view(bot: FakeAttendeeBot): Record<string, unknown> {
    return { id: bot.id, meeting_url: bot.meeting_url, state: bot.state, join_at: bot.join_at, metadata: bot.metadata, deduplication_key: bot.deduplication_key, events: [], transcription_state: 'not_started', recording_state: 'not_started' };
  }

  /**
   * A bot.state_change delivery: { idempotency_key, bot_id, bot_metadata, trigger, data: { new_state,
   * old_state, created_at, event_type, event_sub_type } } with X-Webhook-Signature: base64
   * HMAC-SHA256, keyed with the base64-decoded secret, of the payload as JSON with sorted keys and
   * no spaces (attendee-labs/attendee docs/webhooks.md). Moves the bot's state.
   */
  statusWebhook(botId: string, newState: string, options: { eventType?: string; eventSubType?: string; eventMetadata?: Record<string, unknown>; secret?: string; metadata?: Record<string, string> | null } = {}): { rawBody: string; headers: Record<string, string> } {
    const bot = this.bots.get(botId);
    const oldState = bot?.state ?? 'joining';
    if (bot) bot.state = newState;
    // event_type names the event that caused the change (eventTypeOf): post_processing_completed
    // for the move to ended (also docs/webhooks.md); could_not_join_meeting for a refused join,
    // which also ends in fatal_error, is named by the test that sends it.
    const eventType = options.eventType ?? eventTypeOf(oldState, newState);
    // Where credits are charged (hosted Attendee), the change that ends a bot's run carries what it
    // cost as centicredits / 100, a Python float: 1.0 for a run of a whole credit (bots/models.py,
    // additional_event_metadata["credits_consumed"]).
    const eventMetadata = options.eventMetadata ?? (newState === 'ended' || newState === 'fatal_error' ? { credits_consumed: new PythonFloat(1) } : {});
    const payload = {
      idempotency_key: crypto.randomUUID(),
      bot_id: botId,
      bot_metadata: options.metadata !== undefined ? options.metadata : bot?.metadata ?? {},
      trigger: 'bot.state_change',
      data: { new_state: newState, old_state: oldState, created_at: new Date(this.now()).toISOString(), event_type: eventType, event_sub_type: options.eventSubType ?? null, event_metadata: eventMetadata },
    };
    // Attendee's sender posts json.dumps of the payload (Python's defaults: ", " and ": ", keys in
    // insertion order, non-ASCII escaped); the signature covers the canonical form (docs/webhooks.md).
    const rawBody = pythonJson(payload, { sortKeys: false, compact: false, asciiOnly: true });
    const signed = pythonJson(payload, { sortKeys: true, compact: true, asciiOnly: false });
    const signature = createHmac('sha256', Buffer.from(options.secret ?? this.webhookSecret, 'base64')).update(signed, 'utf8').digest('base64');
    return { rawBody, headers: { 'x-webhook-signature': signature } };
  }

  /**
   * A participant removed the bot (Teams): meeting_ended, the bot to post_processing, and
   * event_metadata.bot_removed_by naming who (docs/webhooks.md, "Knowing who removed the bot").
   */
  removedWebhook(botId: string): { rawBody: string; headers: Record<string, string> } {
    return this.statusWebhook(botId, 'post_processing', {
      eventType: 'meeting_ended',
      eventMetadata: { bot_removed_by: { id: 'par_host0000000001', name: 'Host', uuid: '8:orgid:00000000-0000-0000-0000-000000000001', user_uuid: null, is_host: true } },
    });
  }

  async sendStatusWebhook(url: string, botId: string, newState: string): Promise<{ status: number; body: any }> {
    const { rawBody, headers } = this.statusWebhook(botId, newState);
    return postWebhook(url, rawBody, headers);
  }
}

/** A number Python holds as a float: json.dumps writes a whole one with its fraction (1.0). */
class PythonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** Python's json.dumps for the values used here: `sortKeys`, `compact` separators, `asciiOnly` (ensure_ascii). */
function pythonJson(value: unknown, style: { sortKeys: boolean; compact: boolean; asciiOnly: boolean }): string {
  const [item, key] = style.compact ? [',', ':'] : [', ', ': '];
  const text = (s: string) => (style.asciiOnly ? JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : JSON.stringify(s));
  if (value instanceof PythonFloat) return Number.isInteger(value.value) ? `${value.value}.0` : String(value.value);
  if (typeof value === 'string') return text(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => pythonJson(v, style)).join(item)}]`;
  const keys = Object.keys(value);
  if (style.sortKeys) keys.sort();
  return `{${keys.map((k) => `${text(k)}${key}${pythonJson((value as Record<string, unknown>)[k], style)}`).join(item)}}`;
}
