// A fake MeetStream at the HTTP boundary (docs/providers/meetstream.md lists the pages): create_bot
// with its Idempotency-Key replay (507 with the original bot), the scheduled-bot reschedule and
// delete, remove_bot, and workspace webhooks signed with X-MeetStream-Signature.
import { createHmac } from 'node:crypto';
import { FakeProviderServer, fakeId, postWebhook, type FakeAnswer, type FakeRequest } from './fake-provider-kit.ts';

export interface FakeMeetStreamBot {
  bot_id: string;
  meeting_link: string;
  bot_name: string;
  join_at: string | null;
  custom_attributes: Record<string, string>;
  /** Scheduled, Joining, InWaitingRoom, InMeeting, Recording, Leaving, Stopped, Done, ... */
  status: string;
  deleted: boolean;
}

/** The status each bot_event leaves the bot in (webhooks guide, labs' terminal mapping). */
const STATUS_OF_EVENT: Record<string, string> = {
  'bot.joining': 'Joining', 'bot.in_waiting_room': 'InWaitingRoom', 'bot.inmeeting': 'InMeeting', 'bot.recording': 'Recording',
  'bot.leaving': 'Leaving', 'bot.stopped': 'Stopped', 'bot.kicked': 'Stopped', 'bot.notallowed': 'NotAllowed', 'bot.denied': 'Denied',
  'bot.failed': 'Error', 'bot.done': 'Done',
};

export class FakeMeetStream extends FakeProviderServer {
  readonly bots = new Map<string, FakeMeetStreamBot>();
  /** Idempotency-Key -> bot id (keys are scoped per API key; this fake has one). */
  readonly #keys = new Map<string, string>();
  /** Creations that arrived while no creation under their key had finished. */
  readonly #firstCreates = new WeakSet<FakeRequest>();

  readonly webhookSecret: string;

  constructor(apiKey: string, webhookSecret: string) {
    super(apiKey);
    this.webhookSecret = webhookSecret;
  }

  get liveBots(): FakeMeetStreamBot[] {
    return [...this.bots.values()].filter((b) => !b.deleted);
  }

  /**
   * 401 when no Authorization header arrives, 403 when a key arrives that is unknown, revoked or of
   * another workspace (MeetStream's error-handling template in github.com/meetstream-ai/labs, and
   * the API reference's 403 answers). The body's wording is not documented; this one is a guess.
   */
  protected override refuseKey(authorization: string | undefined): FakeAnswer {
    return authorization === undefined
      ? { status: 401, body: { detail: 'Authentication credentials were not provided.' } }
      : { status: 403, body: { detail: 'Invalid API key.' } };
  }

  /**
   * Neither the Idempotency-Key nor the deduplication_key protects against two simultaneous first
   * creates (MeetStream's deduplication and idempotency keys guide, as summarised in
   * github.com/meetstream-ai/labs, openclaw OPERATIONS.md): a creation that arrives while none
   * under its key has finished makes a bot, whatever finishes meanwhile.
   */
  protected override onArrival(request: FakeRequest): void {
    const key = request.headers['idempotency-key'];
    if (request.method === 'POST' && request.path === '/api/v1/bots/create_bot' && typeof key === 'string' && !this.#keys.has(key)) this.#firstCreates.add(request);
  }

  protected handle(request: FakeRequest): FakeAnswer {
    if (request.method === 'POST' && request.path === '/api/v1/bots/create_bot') return this.#create(request);
    let match = /^\/api\/v1\/calendar\/scheduled_bots\/([^/]+)$/.exec(request.path);
    if (match) {
      const bot = this.bots.get(match[1]!);
      // Error bodies of the scheduled-bot pages: { error, status_code }.
      if (!bot || bot.deleted) return { status: 404, body: { error: 'Bot not found', status_code: 404 } };
      if (request.method === 'PATCH') return this.#reschedule(bot, request.body ?? {});
      if (request.method === 'DELETE') return this.#delete(bot);
    }
    match = /^\/api\/v1\/bots\/([^/]+)\/remove_bot$/.exec(request.path);
    if (match && request.method === 'GET') {
      const bot = this.bots.get(match[1]!);
      if (!bot || bot.deleted) return { status: 404, body: { error: 'Bot not found', status_code: 404 } };
      return this.#remove(bot);
    }
    return { status: 404, body: { error: 'Not found', status_code: 404 } };
  }

  #create(request: FakeRequest): FakeAnswer {
    const body = (request.body ?? {}) as Record<string, any>;
    // The first call with an Idempotency-Key answers 201; any repeat with the same key answers 507
    // with the original bot (status as it is now), creating nothing
    // (https://docs.meetstream.ai/guides/get-started/idempotency-keys).
    const key = request.headers['idempotency-key'];
    const known = typeof key === 'string' && !this.#firstCreates.has(request) ? this.#keys.get(key) : undefined;
    if (known) {
      const bot = this.bots.get(known)!;
      return { status: 507, body: { bot_id: bot.bot_id, transcript_id: null, meeting_url: bot.meeting_link, status: bot.status } };
    }
    // meeting_link and bot_name are required (OpenAPI CreateBotRequest).
    if (typeof body.meeting_link !== 'string' || typeof body.bot_name !== 'string') return { status: 400, body: { error: 'meeting_link and bot_name are required', status_code: 400 } };
    const joinAt = typeof body.join_at === 'string' ? Date.parse(body.join_at) : null;
    if (joinAt !== null && Number.isNaN(joinAt)) return { status: 400, body: { error: 'join_at must be an ISO 8601 date-time', status_code: 400 } };
    const isScheduled = joinAt !== null && joinAt > this.now();
    const bot: FakeMeetStreamBot = {
      bot_id: fakeId('ms-'),
      meeting_link: body.meeting_link,
      bot_name: body.bot_name,
      join_at: joinAt === null ? null : new Date(joinAt).toISOString(),
      custom_attributes: body.custom_attributes ?? {},
      status: isScheduled ? 'Scheduled' : 'Joining',
      deleted: false,
    };
    this.bots.set(bot.bot_id, bot);
    if (typeof key === 'string' && !this.#keys.has(key)) this.#keys.set(key, bot.bot_id);
    // 201 BotResponse { bot_id, transcript_id, meeting_url, status } (OpenAPI).
    return { status: 201, body: { bot_id: bot.bot_id, transcript_id: null, meeting_url: bot.meeting_link, status: 'Active' } };
  }

  #reschedule(bot: FakeMeetStreamBot, body: Record<string, any>): FakeAnswer {
    // scheduled_join_time is required, ISO 8601 with an explicit ±HH:MM offset (the reschedule
    // page's format, YYYY-MM-DDTHH:mm:ss±HH:MM: reference meetstream.md 4.3; a "Z" is not that
    // form, so it is refused here); only bots that have not joined; the new time in the future.
    const raw = body.scheduled_join_time;
    if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$/.test(raw)) {
      return { status: 400, body: { error: 'Invalid date format. Please use ISO 8601 format with timezone', status_code: 400 } };
    }
    if (bot.status !== 'Scheduled') return { status: 400, body: { error: 'Cannot reschedule bot that has already joined the meeting', status_code: 400 } };
    if (Date.parse(raw) <= this.now()) return { status: 400, body: { error: 'scheduled_join_time must be in the future', status_code: 400 } };
    bot.join_at = new Date(Date.parse(raw)).toISOString();
    return { status: 200, body: { message: 'Bot rescheduled successfully', bot_id: bot.bot_id, updated_fields: ['scheduled_join_time'], schedule_updated: true } };
  }

  #delete(bot: FakeMeetStreamBot): FakeAnswer {
    // A bot that is not scheduled (in a meeting, say) cannot be deleted (delete scheduled bot page).
    if (bot.status !== 'Scheduled') return { status: 400, body: { error: 'Cannot delete an active bot', status_code: 400 } };
    bot.deleted = true;
    return { status: 200, body: { message: 'Scheduled bot deleted successfully', bot_id: bot.bot_id } };
  }

  #remove(bot: FakeMeetStreamBot): FakeAnswer {
    // remove_bot makes a live bot leave (GET with a side effect). What it answers for a bot not in a
    // meeting is not documented: a 400 here, which the adapter reads as "not in a state to leave".
    if (!['Joining', 'InWaitingRoom', 'InMeeting', 'Recording'].includes(bot.status)) return { status: 400, body: { error: `Bot is not in a meeting (${bot.status})`, status_code: 400 } };
    bot.status = 'Leaving';
    return { status: 200, body: { message: 'Bot removed', bot_id: bot.bot_id } };
  }

  /**
   * A workspace webhook delivery: { event, bot_event, bot_id, bot_status, message, status_code,
   * timestamp, custom_attributes }, signed X-MeetStream-Signature: sha256=<hex HMAC-SHA256 of the
   * raw body>, with X-MeetStream-Timestamp as an ISO time (MeetStream's webhook skill and labs).
   */
  statusWebhook(botId: string, botEvent: string, options: { secret?: string; metadata?: Record<string, string> | null } = {}): { rawBody: string; headers: Record<string, string> } {
    const bot = this.bots.get(botId);
    const status = STATUS_OF_EVENT[botEvent] ?? bot?.status ?? 'Unknown';
    if (bot) bot.status = status;
    const isFailure = ['NotAllowed', 'Denied', 'Error'].includes(status);
    const rawBody = JSON.stringify({
      event: ['bot.kicked', 'bot.notallowed', 'bot.denied', 'bot.failed'].includes(botEvent) ? 'bot.stopped' : botEvent,
      bot_event: botEvent,
      bot_id: botId,
      bot_status: status,
      message: `Bot status ${status}`,
      status_code: isFailure ? 500 : 200,
      timestamp: new Date(this.now()).toISOString(),
      custom_attributes: options.metadata !== undefined ? options.metadata : bot?.custom_attributes ?? {},
    });
    const signature = createHmac('sha256', options.secret ?? this.webhookSecret).update(rawBody).digest('hex');
    return { rawBody, headers: { 'x-meetstream-signature': `sha256=${signature}`, 'x-meetstream-timestamp': new Date(this.now()).toISOString() } };
  }

  async sendStatusWebhook(url: string, botId: string, botEvent: string): Promise<{ status: number; body: any }> {
    const { rawBody, headers } = this.statusWebhook(botId, botEvent);
    return postWebhook(url, rawBody, headers);
  }
}
