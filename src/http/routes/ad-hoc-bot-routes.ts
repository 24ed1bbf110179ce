// MeetStream's bot routes (spec section 10): create a bot for a meeting link, list every bot,
// MeetStream's detail shape, make a bot leave, delete a bot's data. Calendar bots answer here too.
import { ApiError } from '../../errors.ts';
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { BotIdParams } from '../schemas/bot-schemas.ts';
import { errorResponses } from '../schemas/common.ts';
import {
  BotListQuery, BotListResponse, BotResponse, CreateBotBody, CreateBotHeaders, DeleteBotDataResponse, LegacyDeleteBotDataResponse, MAX_CUSTOM_ATTRIBUTE_FILTERS,
  MeetStreamBotDetailResponse, RemoveBotResponse,
} from '../schemas/ad-hoc-bot-schemas.ts';

const CUSTOM_ATTR = /^custom_attr\[(.+)\]$/;
const STATUS_OF = { created: 201, existing: 200, replayed: 507 } as const;
/** CreateBotHeaders' rule for the key, checked before the schema runs (a repeat skips it). */
const IDEMPOTENCY_KEY_SHAPE = /^[!-~]{1,255}$/;

export function registerAdHocBotRoutes(app: App, deps: AppDeps): void {
  const adHocBots = deps.adHocBots;
  if (!adHocBots) return;
  const tags = ['Bots'];

  app.post('/bots/create_bot', {
    schema: {
      tags,
      summary: 'Create a bot for a meeting link, now or at join_at (MeetStream\'s create_bot)',
      description: 'The bot goes through the same durable schedule, dispatcher, runtime, status route and webhooks as a calendar bot. 201: created. 200: deduplication_key replay for the same meeting (the existing bot). 507: Idempotency-Key repeat, a success carrying the original bot (MeetStream\'s convention). 409: the deduplication_key belongs to a bot for another meeting.',
      headers: CreateBotHeaders,
      body: CreateBotBody,
      response: { 201: BotResponse, 200: BotResponse, 507: BotResponse, ...errorResponses(409) },
    },
    // A repeat of an Idempotency-Key is answered before its body is validated: MeetStream ignores
    // a repeat's body, so a client's retry with another (even a malformed) body still gets its bot.
    preValidation: async (request, reply) => {
      const header = request.headers['idempotency-key'];
      if (typeof header !== 'string' || !IDEMPOTENCY_KEY_SHAPE.test(header)) return;
      const replay = await adHocBots.replayOf(request.userId, header);
      if (replay) return reply.status(507).send(replay);
    },
  }, async (request, reply) => {
    const header = request.headers['idempotency-key'];
    const outcome = await adHocBots.create(request.userId, request.body, typeof header === 'string' ? header : undefined, request.origin);
    return reply.status(STATUS_OF[outcome.kind]).send(outcome.bot);
  });

  app.get('/bots', {
    schema: {
      tags,
      summary: 'Every bot of the caller (calendar and ad-hoc), newest first',
      description: 'Filters: status, from / to (creation date), platform, and custom_attr[<name>]=<value> (combined with AND). Pages: pass nextCursor as cursor.',
      querystring: BotListQuery,
      response: { 200: BotListResponse, ...errorResponses() },
    },
  }, async (request) => {
    const { status, from, to, platform, limit, cursor } = request.query;
    return deps.botQueries.list(request.userId, {
      ...(status !== undefined ? { status } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}),
      ...(platform !== undefined ? { platform } : {}), ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}),
      customAttributes: customAttributeFilters(request.query as Record<string, unknown>),
    });
  });

  // /details is the older API reference's name for the same answer.
  for (const path of ['/bots/:bot_id/detail', '/bots/:bot_id/details']) {
    app.get(path, {
      schema: { tags, summary: 'A bot in MeetStream\'s detail shape (bot_details with StatusTimeline and RequestPayload)', params: BotIdParams, response: { 200: MeetStreamBotDetailResponse, ...errorResponses(404) } },
    }, async (request) => deps.botQueries.meetStreamDetail(request.userId, request.params.bot_id));
  }

  // A GET that changes state answers no HEAD: Fastify would run this handler for one, so a link
  // checker or monitor asking `curl -I` with a key would remove the bot.
  app.get('/bots/:bot_id/remove_bot', {
    exposeHeadRoute: false,
    config: { changesState: true },
    schema: {
      tags,
      summary: 'Make a bot leave (MeetStream\'s remove_bot; a GET that changes state)',
      description: 'A bot still waiting to join is cancelled; one joining, in the meeting or leaving gets a stop command for its runtime. Again on a cancelled bot: 200. A bot that has already left: 409 bot_not_in_meeting.',
      params: BotIdParams,
      response: { 200: RemoveBotResponse, ...errorResponses(404, 409) },
    },
  }, async (request) => deps.management.removeBot(request.userId, request.params.bot_id, request.origin));

  app.delete('/bots/:bot_id/delete', {
    schema: {
      tags,
      summary: 'Delete a bot\'s stored data (a data_deletion webhook follows)',
      description: 'The configuration, attributes, meeting link, key, event links, decision log, status reasons and sent webhooks go; the bot stays readable by id with its status and times. A bot still waiting is cancelled first; one in a meeting must be removed first (400 bot_active). Again: 200 with deleted_objects 0.',
      params: BotIdParams,
      response: { 200: DeleteBotDataResponse, ...errorResponses(404) },
    },
  }, async (request) => deps.management.deleteBotData(request.userId, request.params.bot_id, request.origin));

  // The older reference's name for the same deletion, a GET answering { success, message }. A 404
  // here would tell a client of that reference the bot is gone while its data stays.
  app.get('/bots/:bot_id/delete_data', {
    exposeHeadRoute: false,
    config: { changesState: true },
    schema: {
      tags,
      summary: 'Delete a bot\'s stored data (MeetStream\'s older delete_data; a GET that changes state)',
      description: 'The same as DELETE /bots/{bot_id}/delete, with success: true in the answer.',
      params: BotIdParams,
      response: { 200: LegacyDeleteBotDataResponse, ...errorResponses(404) },
    },
  }, async (request) => ({ success: true as const, ...await deps.management.deleteBotData(request.userId, request.params.bot_id, request.origin) }));
}

/** custom_attr[<name>]=<value> query parameters, checked like any other field. */
function customAttributeFilters(query: Record<string, unknown>): Record<string, string> {
  // Without a prototype: custom_attr[__proto__] is a filter like any other, not dropped.
  const filters: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [parameter, value] of Object.entries(query)) {
    const name = CUSTOM_ATTR.exec(parameter)?.[1];
    if (name === undefined) continue;
    const field = `custom_attr[${name.slice(0, 100)}]`;
    if (typeof value !== 'string') throw new ApiError('validation_error', `${field} (query): give it once`, { details: { field, location: 'query' } });
    if (name.length > 100 || value.length > 1000) throw new ApiError('validation_error', `${field} (query): the name may be 100 characters and the value 1000`, { details: { field, location: 'query' } });
    filters[name] = value;
  }
  if (Object.keys(filters).length > MAX_CUSTOM_ATTRIBUTE_FILTERS) {
    throw new ApiError('validation_error', `custom_attr (query): at most ${MAX_CUSTOM_ATTRIBUTE_FILTERS} filters`, { details: { field: 'custom_attr', location: 'query' } });
  }
  return filters;
}
