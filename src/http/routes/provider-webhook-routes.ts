// Bot provider status webhooks (spec section 11; docs/providers/). No API key: the provider's
// signature over the raw body is the authentication, so the body is kept as the bytes it came as.
import { Type } from 'typebox';
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { errorResponses } from '../schemas/common.ts';
import { ApiError } from '../../errors.ts';

const ProviderParams = Type.Object({
  provider_name: Type.Union([Type.Literal('recall'), Type.Literal('meetstream'), Type.Literal('attendee')], { description: 'The BOT_RUNTIME this deployment runs bots on' }),
});

const ProviderWebhookResponse = Type.Union([
  Type.Object({
    bot_id: Type.String(),
    status: Type.String(),
    previous_status: Type.String(),
    changed: Type.Boolean(),
    provider_status: Type.String(),
    retired: Type.Optional(Type.Literal(true, { description: 'The provider bot was replaced or cancelled: acknowledged, nothing changed' })),
    stale: Type.Optional(Type.Literal(true, { description: 'A later report was applied already (deliveries come retried and out of order): acknowledged, nothing changed' })),
    already_ended: Type.Optional(Type.Literal(true, { description: 'The bot had ended and the report names another ending (Recall\'s done after a refusal at the waiting room): the first ending stands, acknowledged, nothing changed' })),
  }),
  Type.Object({ ignored: Type.Literal(true) }),
]);

export function registerProviderWebhookRoutes(app: App, deps: AppDeps): void {
  const webhooks = deps.providerWebhooks;
  if (!webhooks) {
    // A provider posting here while BOT_RUNTIME names none (the operator registered the URL, then
    // forgot the setting) is told so: without the route it would get the API key's 401, and its
    // dashboard would show an error about a key it was never meant to send. Not in the OpenAPI
    // document, as nothing is served here.
    void app.register(async (raw) => {
      takeBodiesAsText(raw);
      raw.post('/providers/:provider_name/webhook', { config: { auth: 'custom' }, schema: { hide: true } }, async () => {
        throw new ApiError('provider_not_configured', `provider_name: this deployment does not run bots on a provider (BOT_RUNTIME is ${deps.config.botRuntime}); set BOT_RUNTIME to the provider that sends these webhooks`, { details: { field: 'provider_name' } });
      });
    });
    return;
  }
  void app.register(async (raw) => {
    takeBodiesAsText(raw);
    raw.post('/providers/:provider_name/webhook', {
      config: { auth: 'custom' },
      schema: {
        tags: ['Bot providers'],
        summary: 'Status webhooks from Recall.ai, MeetStream or Attendee',
        description: 'Register this URL with the provider (docs/providers/<name>.md). The signature is checked over the raw body with BOT_PROVIDER_WEBHOOK_SECRET; the provider status is mapped to a Rollcall status, which reaches the user\'s callback_url as a Rollcall webhook. A bad signature (401), an unknown provider bot made by Rollcall (404: the retry finds it once its id is recorded) or a transition the lifecycle forbids (409: a live status after an ending) changes nothing; a second ending after an ending (done after a refusal) is acknowledged (200, already_ended) and the first stands; another application\'s or another deployment\'s bot in the same provider account (its metadata has no rollcall_bot_id, or one this deployment does not have) and a report older than one applied already are acknowledged (200) and change nothing.',
        security: [],
        params: ProviderParams,
        response: { 200: ProviderWebhookResponse, ...errorResponses(404, 409, 413) },
      },
    }, async (request) => webhooks.accept((request.params as { provider_name: string }).provider_name, request.headers, typeof request.body === 'string' ? request.body : ''));
  });
}

/** The body as the bytes it came as, whatever its type: the signature is over them. */
function takeBodiesAsText(raw: App): void {
  raw.removeAllContentTypeParsers();
  raw.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
