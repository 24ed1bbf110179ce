// A fake Recall.ai at the HTTP boundary (docs/providers/recall.md): bots with their status, the
// Idempotency-Key cache, the ten-minute rules for scheduled bots, the ad-hoc pool and its 507,
// the per-workspace limit on bot creation, and Svix-signed status webhooks.
import { Webhook } from 'standardwebhooks';
import { FakeProviderServer, fakeId, postWebhook, type FakeAnswer, type FakeRequest } from './fake-provider-kit.ts';

export interface FakeRecallBot {
  id: string;
  meeting_url: string;
  bot_name: string;
  join_at: string | null;
  metadata: Record<string, string>;
  /** The latest status code (ready, joining_call, in_call_recording, call_ended, done...). */
  status: string;
  deleted: boolean;
}

const TEN_MINUTES_MS = 10 * 60_000;
/** A Google Meet lookup link: no meeting code right after meet.google.com/ (docs.recall.ai/docs/meeting-urls). */
const MEET_LOOKUP_LINK = /meet\.google\.com\/(_meet\/)?lookup\//i;

function idempotencyKeyOf(request: FakeRequest): string | null {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' && ['POST', 'PATCH', 'PUT'].includes(request.method) ? `${request.method} ${request.path} ${key}` : null;
}

export class FakeRecall extends FakeProviderServer {
  readonly bots = new Map<string, FakeRecallBot>();
  /** Bot creations allowed per rolling minute. */
  createsPerMinute = 60;
  /** Ad-hoc bots left in the pool; Infinity: never runs dry. */
  adHocPool = Infinity;
  /** Bots on one page of List Bots (Recall does not publish its page size). */
  listPageSize = 10;
  readonly #creations: number[] = [];
  readonly #listings: number[] = [];
  /** "METHOD path key" -> the answer first given to it, with when. */
  readonly #idempotency = new Map<string, { at: number; answer: FakeAnswer }>();
  /** "METHOD path key" of requests received and not answered yet; repeats that arrived meanwhile. */
  readonly #running = new Set<string>();
  readonly #repeatsWhileRunning = new WeakSet<FakeRequest>();
  readonly #signer: Webhook;

  readonly webhookSecret: string;

  constructor(apiKey: string, webhookSecret: string) {
    super(apiKey);
    this.webhookSecret = webhookSecret;
    this.#signer = new Webhook(webhookSecret);
  }

  get liveBots(): FakeRecallBot[] {
    return [...this.bots.values()].filter((b) => !b.deleted);
  }

  /** A repeat of a request that is still running is refused with 409 (https://docs.recall.ai/reference/idempotency). */
  protected override onArrival(request: FakeRequest): void {
    const cacheKey = idempotencyKeyOf(request);
    if (cacheKey === null || this.#idempotency.has(cacheKey)) return;
    if (this.#running.has(cacheKey)) this.#repeatsWhileRunning.add(request);
    else this.#running.add(cacheKey);
  }

  protected override onAnswered(request: FakeRequest): void {
    const cacheKey = idempotencyKeyOf(request);
    if (cacheKey !== null && !this.#repeatsWhileRunning.has(request)) this.#running.delete(cacheKey);
  }

  protected handle(request: FakeRequest): FakeAnswer {
    // Idempotency applies to PUT, POST and PATCH, keyed by method and endpoint, and a completed
    // request's answer is replayed for an hour, error answers (a 507) included
    // (https://docs.recall.ai/reference/idempotency).
    const cacheKey = idempotencyKeyOf(request);
    if (this.#repeatsWhileRunning.has(request)) return { status: 409, body: { detail: 'A request with this idempotency key is already in progress.' } };
    if (cacheKey) {
      const cached = this.#idempotency.get(cacheKey);
      if (cached && this.now() - cached.at < 3_600_000) return cached.answer;
    }
    const answer = this.#route(request);
    // 429s are not stored: the request never ran (the limit is checked first). Recall's docs do not
    // say either way; a 429 replayed for the hour would hold a handover back that long.
    if (cacheKey && answer.status !== 429) this.#idempotency.set(cacheKey, { at: this.now(), answer });
    return answer;
  }

  #route(request: FakeRequest): FakeAnswer {
    if (request.method === 'POST' && request.path === '/api/v1/bot/') return this.#create(request.body ?? {});
    if (request.method === 'GET' && request.path === '/api/v1/bot/') return this.#list(request.query);
    const match = /^\/api\/v1\/bot\/([^/]+)\/(leave_call\/)?$/.exec(request.path);
    const bot = match ? this.bots.get(match[1]!) : undefined;
    if (!match || !bot || bot.deleted) return { status: 404, body: { detail: 'Not found.' } };
    if (match[2] && request.method === 'POST') return this.#leave(bot);
    if (request.method === 'GET') return { status: 200, body: this.#view(bot) };
    if (request.method === 'PATCH') return this.#update(bot, request.body ?? {});
    if (request.method === 'DELETE') return this.#delete(bot);
    return { status: 405, body: { detail: 'Method not allowed.' } };
  }

  #create(body: Record<string, any>): FakeAnswer {
    const now = this.now();
    // Create Bot is limited per workspace; over it, 429 with Retry-After in seconds
    // (https://docs.recall.ai/reference/bot_create; https://docs.recall.ai/docs/errors).
    while (this.#creations.length > 0 && this.#creations[0]! <= now - 60_000) this.#creations.shift();
    if (this.#creations.length >= this.createsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil(((this.#creations[0] ?? now) + 60_000 - now) / 1000));
      return { status: 429, headers: { 'retry-after': String(retryAfter) }, body: { detail: 'Request was throttled.' } };
    }
    this.#creations.push(now);
    if (typeof body.meeting_url !== 'string') return { status: 400, body: { meeting_url: ['This field is required.'] } };
    // A Google Meet link is a meeting code right after meet.google.com/ in Recall's meeting-URL
    // guide (https://docs.recall.ai/docs/meeting-urls); a lookup link names none. Refused in the
    // field-error form of the other 400s here (Recall's own wording is not documented).
    if (MEET_LOOKUP_LINK.test(body.meeting_url)) return { status: 400, body: { meeting_url: ['Invalid meeting URL.'] } };
    // Each metadata value is at most 500 characters (https://docs.recall.ai/docs/custom-metadata,
    // "Field Limitations"); refused in the field-error form of the other 400s here.
    const metadata = (body.metadata ?? {}) as Record<string, unknown>;
    if (Object.values(metadata).some((value) => typeof value === 'string' && value.length > 500)) return { status: 400, body: { metadata: ['Ensure each value has no more than 500 characters.'] } };
    const joinAt = typeof body.join_at === 'string' ? Date.parse(body.join_at) : null;
    if (joinAt !== null && Number.isNaN(joinAt)) return { status: 400, body: { join_at: ['Datetime has wrong format.'] } };
    // More than ten minutes ahead: a scheduled bot with its own instance. Anything else, a
    // join_at in the past included, takes an ad-hoc bot from the pool at once; an empty pool is a
    // 507, to be retried after 30 s or Retry-After (https://docs.recall.ai/docs/scheduling-bots-best-practices;
    // https://docs.recall.ai/docs/errors; Recall KB "What happens when the bot's join_at is in the past").
    const isScheduled = joinAt !== null && joinAt - now > TEN_MINUTES_MS;
    if (!isScheduled) {
      if (this.adHocPool <= 0) return { status: 507, headers: { 'retry-after': '30' }, body: { detail: 'Out of ad-hoc bots, please retry in 30 seconds.' } };
      this.adHocPool--;
    }
    const bot: FakeRecallBot = {
      id: fakeId('rcl-'),
      meeting_url: body.meeting_url,
      bot_name: typeof body.bot_name === 'string' ? body.bot_name : 'Meeting Notetaker',
      join_at: joinAt === null ? null : new Date(joinAt).toISOString(),
      metadata: body.metadata ?? {},
      // An ad-hoc bot with a join_at still ahead waits for it and can be updated until it starts
      // joining (best practices: "original join_at is less than 10 minutes from the current time -
      // you can update all properties"); one without, or with one past, joins at once.
      status: joinAt !== null && joinAt > now ? 'ready' : 'joining_call',
      deleted: false,
    };
    this.bots.set(bot.id, bot);
    return { status: 201, body: this.#view(bot) };
  }

  #list(query: URLSearchParams): FakeAnswer {
    // List Bots is limited to 60 requests a minute per workspace; `metadata__KEY=VALUE` parameters
    // keep the bots with every such pair; `page` numbers the pages of { count, next, previous,
    // results } (https://docs.recall.ai/reference/bot_list, "Custom Metadata Filtering";
    // https://docs.recall.ai/docs/custom-metadata). That answer is Django REST framework's page
    // number pagination, which answers a page past the end 404 "Invalid page.". Whether a deleted
    // scheduled bot is still listed is not documented: the fake leaves it out.
    const now = this.now();
    while (this.#listings.length > 0 && this.#listings[0]! <= now - 60_000) this.#listings.shift();
    if (this.#listings.length >= 60) return { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil((this.#listings[0]! + 60_000 - now) / 1000))) }, body: { detail: 'Request was throttled.' } };
    this.#listings.push(now);
    const wanted = [...query.entries()].filter(([name]) => name.startsWith('metadata__')).map(([name, value]) => [name.slice('metadata__'.length), value] as const);
    const matching = this.liveBots.filter((bot) => wanted.every(([name, value]) => bot.metadata[name] === value));
    const page = Number(query.get('page') ?? '1');
    if (!Number.isInteger(page) || page < 1) return { status: 404, body: { detail: 'Invalid page.' } };
    const results = matching.slice((page - 1) * this.listPageSize, page * this.listPageSize);
    if (page > 1 && results.length === 0) return { status: 404, body: { detail: 'Invalid page.' } };
    const pageUrl = (n: number) => `${this.url}/api/v1/bot/?${new URLSearchParams([...query.entries()].filter(([name]) => name !== 'page').concat([['page', String(n)]]))}`;
    return {
      status: 200,
      body: {
        count: matching.length,
        next: page * this.listPageSize < matching.length ? pageUrl(page + 1) : null,
        previous: page > 1 ? pageUrl(page - 1) : null,
        results: results.map((bot) => this.#view(bot)),
      },
    };
  }

  #update(bot: FakeRecallBot, body: Record<string, any>): FakeAnswer {
    const now = this.now();
    // Once the bot starts joining it cannot be updated; a new join_at must be more than ten
    // minutes out, else update_bot_failed "Not enough time to launch new bot"
    // (https://docs.recall.ai/docs/scheduling-bots-best-practices; Recall KB "Scheduling Bots Close to the Present").
    // The first refusal's wording is the errors page's ("Only non-dispatched bots can be updated",
    // for a bot already sent to its call: https://docs.recall.ai/reference/errors).
    if (bot.status !== 'ready') return { status: 400, body: { code: 'update_bot_failed', detail: 'Only non-dispatched bots can be updated' } };
    if (typeof body.join_at === 'string') {
      const joinAt = Date.parse(body.join_at);
      if (Number.isNaN(joinAt) || joinAt - now <= TEN_MINUTES_MS) return { status: 400, body: { code: 'update_bot_failed', detail: 'Not enough time to launch new bot' } };
      bot.join_at = new Date(joinAt).toISOString();
    }
    // The link is read as at creation (the lookup links above).
    if (typeof body.meeting_url === 'string' && MEET_LOOKUP_LINK.test(body.meeting_url)) return { status: 400, body: { meeting_url: ['Invalid meeting URL.'] } };
    if (typeof body.meeting_url === 'string') bot.meeting_url = body.meeting_url;
    // The other Create Bot settings change too, each optional (https://docs.recall.ai/reference/bot_partial_update).
    // Whether a nested object is merged or replaced is not documented; Rollcall sends whole ones.
    if (typeof body.bot_name === 'string') bot.bot_name = body.bot_name;
    if (body.metadata !== null && typeof body.metadata === 'object') bot.metadata = body.metadata;
    return { status: 200, body: this.#view(bot) };
  }

  #delete(bot: FakeRecallBot): FakeAnswer {
    // Only a scheduled bot that has not been dispatched, i.e. more than ten minutes before its
    // join_at; after that DELETE answers 405 (https://docs.recall.ai/reference/bot_destroy;
    // https://docs.recall.ai/docs/errors, 405).
    const joinAt = bot.join_at === null ? 0 : Date.parse(bot.join_at);
    if (bot.status !== 'ready' || joinAt - this.now() <= TEN_MINUTES_MS) return { status: 405, body: { detail: 'Bot has already been dispatched.' } };
    bot.deleted = true;
    return { status: 204 };
  }

  #leave(bot: FakeRecallBot): FakeAnswer {
    // Removes the bot from the call; irreversible (https://docs.recall.ai/reference/bot_leave_call_create).
    // It is also how a scheduled bot is removed once it is dispatched, less than ten minutes before
    // its join_at, before it starts joining (https://docs.recall.ai/docs/scheduling-bots-best-practices,
    // "Deleting scheduled bots": Remove Bot From Call from then on); such a bot never joins. An
    // ad-hoc bot still waiting for a near join_at is taken alike here: the guide's ad-hoc section
    // is not publicly quoted in full, and an ad-hoc bot cannot be deleted either. Which status
    // either then reports is not documented: call_ended here, as for a bot in the call.
    // The Remove Bot From Call reference lists a 400 among its answers
    // (https://docs.recall.ai/reference/bot_leave_call_create) without saying when; the fake gives
    // it for a bot not dispatched yet (more than ten minutes out, where Delete Scheduled Bot is the
    // call) or one that finished, which the adapter reads as "not in a state to leave" (tried again
    // later, or given up at the end). Its body is not documented.
    const isDispatched = bot.status === 'ready' && bot.join_at !== null && Date.parse(bot.join_at) - this.now() <= TEN_MINUTES_MS;
    if (!isDispatched && !['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'].includes(bot.status)) {
      return { status: 400, body: { detail: `Bot is not in a call (status ${bot.status}).` } };
    }
    bot.status = 'call_ended';
    return { status: 200, body: this.#view(bot) };
  }

  #view(bot: FakeRecallBot): Record<string, unknown> {
    return { id: bot.id, meeting_url: bot.meeting_url, bot_name: bot.bot_name, join_at: bot.join_at, metadata: bot.metadata, status_changes: [{ code: bot.status }] };
  }

  /**
   * A bot status webhook as Recall sends it through Svix: { event: "bot.<code>", data: { data:
   * { code, sub_code, updated_at }, bot: { id, metadata } } } with webhook-id, webhook-timestamp and
   * webhook-signature headers (https://docs.recall.ai/docs/bot-status-change-events;
   * https://docs.recall.ai/docs/status-change-webhooks-setup-verification). Moves the bot's status.
   */
  statusWebhook(botId: string, code: string, options: { subCode?: string; secret?: string; legacyHeaders?: boolean; metadata?: Record<string, string> | null } = {}): { rawBody: string; headers: Record<string, string> } {
    const bot = this.bots.get(botId);
    if (bot) bot.status = code;
    const rawBody = JSON.stringify({
      event: `bot.${code}`,
      data: { data: { code, sub_code: options.subCode ?? null, updated_at: new Date(this.now()).toISOString() }, bot: { id: botId, metadata: options.metadata !== undefined ? options.metadata : bot?.metadata ?? {} } },
    });
    return this.#signedDelivery(rawBody, options);
  }

  /**
   * A recording's or transcript's webhook (https://docs.recall.ai/docs/recording-webhooks): the
   * bot events' shape (data.data.code, data.bot), sent to the same endpoint when it takes every
   * event type (https://docs.svix.com/receiving/using-app-portal/adding-endpoints). Its "done" is
   * the media's, not the bot's.
   */
  mediaWebhook(botId: string, event: 'recording.done' | 'transcript.done'): { rawBody: string; headers: Record<string, string> } {
    const media = event.split('.')[0]!;
    const rawBody = JSON.stringify({
      event,
      data: { data: { code: 'done', sub_code: null, updated_at: new Date(this.now()).toISOString() }, [media]: { id: fakeId(''), metadata: {} }, bot: { id: botId, metadata: this.bots.get(botId)?.metadata ?? {} } },
    });
    return this.#signedDelivery(rawBody, {});
  }

  #signedDelivery(rawBody: string, options: { secret?: string; legacyHeaders?: boolean }): { rawBody: string; headers: Record<string, string> } {
    const id = `msg_${fakeId('')}`;
    // Svix checks the timestamp against the real clock (five minutes either way), so sign with it.
    const at = new Date();
    const signer = options.secret ? new Webhook(options.secret) : this.#signer;
    const signature = signer.sign(id, at, rawBody);
    const timestamp = Math.floor(at.getTime() / 1000).toString();
    // Workspaces created before late 2025 get svix-* headers, later ones webhook-* (same scheme).
    const prefix = options.legacyHeaders ? 'svix' : 'webhook';
    return { rawBody, headers: { [`${prefix}-id`]: id, [`${prefix}-timestamp`]: timestamp, [`${prefix}-signature`]: signature } };
  }

  async sendStatusWebhook(url: string, botId: string, code: string, options: { subCode?: string } = {}): Promise<{ status: number; body: any }> {
    const { rawBody, headers } = this.statusWebhook(botId, code, options);
    return postWebhook(url, rawBody, headers);
  }
}
