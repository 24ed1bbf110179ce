// Bots (spec sections 3 and 6) and the webhook signing secret (section 5).
import { ApiError } from '../../errors.ts';
import type { App } from '../app.ts';
import { authenticateApiKey } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { errorResponses } from '../schemas/common.ts';
import type { StatusReporter } from '../../services/scheduling/bot-status-reports.ts';
import { RETIRED_STATUS_NAMES, type RuntimeReportableStatus } from '../../domain/bot-status.ts';
import { BotDetailResponse, BotIdParams, BotStatusResponse, StatusReportBody, StatusReportResponse, WebhookSecretResponse } from '../schemas/bot-schemas.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i; // scheme names are case-insensitive (RFC 9110 section 11.1)

/** The reporter a status request authenticated as, from its onRequest hook to its handler. */
const reporters = new WeakMap<object, StatusReporter>();

export function registerBotRoutes(app: App, deps: AppDeps): void {
  const tags = ['Bots'];

  app.get('/bots/:bot_id', {
    schema: { tags, summary: 'A bot with its status timeline, linked events and decision log', params: BotIdParams, response: { 200: BotDetailResponse, ...errorResponses(404) } },
  }, async (request) => deps.botQueries.detail(request.userId, request.params.bot_id));

  app.get('/bots/:bot_id/status', {
    schema: { tags, summary: 'A bot\'s status (MeetStream shape)', params: BotIdParams, response: { 200: BotStatusResponse, ...errorResponses(404) } },
  }, async (request) => deps.botQueries.status(request.userId, request.params.bot_id));

  app.post('/bots/:bot_id/status', {
    config: { auth: 'custom' },
    schema: {
      tags,
      summary: 'A bot runtime reports progress',
      description: 'Authorized by "Authorization: Bearer <status_token>" from the launch request, or by the owner\'s "Token <api_key>". Illegal transitions are 409 and change nothing.',
      params: BotIdParams,
      body: StatusReportBody,
      response: { 200: StatusReportResponse, ...errorResponses(404, 409) },
    },
    // Credentials first, before the body is parsed or validated: 401 before any 400.
    onRequest: async (request) => {
      const header = request.headers.authorization;
      const bearer = header ? BEARER.exec(header) : null;
      const reporter: StatusReporter = bearer ? { statusToken: bearer[1]! } : { userId: await authenticateApiKey(deps, header) };
      const botId = (request.params as { bot_id?: string }).bot_id ?? '';
      await deps.statusReports.authorize(botId, reporter);
      reporters.set(request, reporter);
    },
  }, async (request) => {
    const status = RETIRED_STATUS_NAMES[request.body.status] ?? (request.body.status as RuntimeReportableStatus);
    const kicked = request.body.kicked === true;
    if (kicked && status !== 'Stopped') throw new ApiError('validation_error', `kicked: only a Stopped report can say the host removed the bot (status is ${request.body.status})`, { details: { field: 'kicked' } });
    return deps.statusReports.report(request.params.bot_id, reporters.get(request)!, status, request.body.message, kicked);
  });

  app.get('/webhooks/secret', {
    schema: { tags: ['Webhooks'], summary: 'The secret status webhooks are signed with (Standard Webhooks)', response: { 200: WebhookSecretResponse, ...errorResponses() } },
  }, async (request) => deps.webhookSecrets.get(request.userId));

  app.post('/webhooks/secret/rotate', {
    schema: { tags: ['Webhooks'], summary: 'Replace the signing secret; the old one also signs for 24 hours', response: { 200: WebhookSecretResponse, ...errorResponses() } },
  }, async (request) => {
    if (request.body !== undefined && request.body !== null && typeof request.body !== 'object') throw new ApiError('validation_error', 'body must be empty or an object');
    return deps.webhookSecrets.rotate(request.userId);
  });
}
