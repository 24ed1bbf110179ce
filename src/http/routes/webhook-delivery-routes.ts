// The status webhooks Rollcall sent or tries to send for the caller: recent deliveries and
// failures, the deliveries of one bot, redelivery, and how each callback URL stands.
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { BotIdParams } from '../schemas/bot-schemas.ts';
import { errorResponses } from '../schemas/common.ts';
import { DeliveriesQuery, DeliveriesResponse, Delivery, DeliveryIdParams, WebhookUrlsResponse } from '../schemas/delivery-schemas.ts';

export function registerWebhookDeliveryRoutes(app: App, deps: AppDeps): void {
  const tags = ['Webhooks'];

  app.get('/webhooks/deliveries', {
    schema: {
      tags,
      summary: 'The caller\'s status webhook deliveries, newest first',
      description: 'Each with its status, attempts, next retry and last error; status=failing lists the ones that failed at least once and are not delivered.',
      querystring: DeliveriesQuery,
      response: { 200: DeliveriesResponse, ...errorResponses() },
    },
  }, async (request) => deps.deliveryLog.list(request.userId, request.query));

  app.get('/bots/:bot_id/deliveries', {
    schema: {
      tags,
      summary: 'The status webhook deliveries of one bot, newest first',
      params: BotIdParams,
      querystring: DeliveriesQuery,
      response: { 200: DeliveriesResponse, ...errorResponses(404) },
    },
  }, async (request) => deps.deliveryLog.listForBot(request.userId, request.params.bot_id, request.query));

  app.post('/webhooks/deliveries/:delivery_id/redeliver', {
    schema: {
      tags,
      summary: 'Send a delivery again now, with the same webhook-id',
      description: 'Whatever its status: a failed one gets another attempt now (and its usual retries while it is younger than three days), a delivered one is sent once more (receivers that dedupe on webhook-id will ignore it), a pending one stops waiting for its backoff. Answers the delivery as it now stands.',
      params: DeliveryIdParams,
      response: { 200: Delivery, ...errorResponses(404) },
    },
  }, async (request) => deps.deliveryLog.redeliver(request.userId, request.params.delivery_id));

  app.get('/webhooks/urls', {
    schema: {
      tags,
      summary: 'The caller\'s callback URLs and how each stands: ok, paused or disabled',
      description: 'The URLs with a record of trouble (paused or failing, disabled after days of failures, or with bots whose line is gone after a 410), then those the caller\'s latest 1000 messages went to; the worst first, at most 100. Each says since when it fails, until when a pause lasts, the message to redeliver to open it again, and how many messages wait or failed unsent.',
      response: { 200: WebhookUrlsResponse, ...errorResponses() },
    },
  }, async (request) => deps.webhookUrls.list(request.userId));
}
