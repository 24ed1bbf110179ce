// Calendar connections, sync, provider push notifications and auto-schedule (spec section 7).
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors.ts';
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_OPTIONAL_KEYWORD, errorResponses } from '../schemas/common.ts';
import {
  AutoScheduleEnableBody, AutoSchedulePreviewBody, AutoSchedulePreviewResponse, AutoScheduleResponse, CalendarIdParams, CalendarListQuery, CalendarListResponse, ConnectionListResponse, ConnectionResponse, ConnectResponse,
  DisconnectQuery, DisconnectResponse, GoogleConnectBody, IcsConnectBody, MicrosoftConnectBody, ScopedDisconnectBody, ScopedDisconnectQuery,
  ScopedDisconnectResponse, SyncResponse,
} from '../schemas/connection-schemas.ts';
import type { GraphNotification } from '../../services/calendars/calendar-sync.ts';
import type { ScopedDisconnectRequest } from '../../services/calendars/calendar-connections.ts';

export function registerCalendarConnectionRoutes(app: App, deps: AppDeps): void {
  const calendar = deps.calendar;
  if (!calendar) return;
  const tags = ['Calendar connections'];

  app.post('/calendar/create_ics_calendar', {
    schema: { tags, summary: 'Connect an ICS feed', description: 'The URL must reach a public address. The feed is fetched once to check it, then polled with conditional GETs.', body: IcsConnectBody, response: { 200: ConnectResponse, ...errorResponses(413, 415, 503) } },
  }, async (request) => calendar.connections.connectIcs(request.userId, request.body));

  app.post('/calendar/create_calendar', {
    schema: { tags, summary: 'Connect a Google account', description: 'Checks the credentials with Google, reads the calendar list, stores the credentials encrypted, syncs, and opens watch channels. Connecting the same account again replaces the connection.', body: GoogleConnectBody, response: { 200: ConnectResponse, ...errorResponses(413, 415, 503) } },
  }, async (request) => calendar.connections.connectGoogle(request.userId, request.body));

  app.post('/calendar/create_outlook_calendar', {
    schema: { tags, summary: 'Connect a Microsoft (Outlook) account', description: 'Checks the credentials, reads the account through Graph /me, stores the credentials encrypted, syncs the default calendar, and subscribes to changes. An account already connected needs replace: true (else 409).', body: MicrosoftConnectBody, response: { 200: ConnectResponse, ...errorResponses(409, 413, 415, 503) } },
  }, async (request) => calendar.connections.connectMicrosoft(request.userId, request.body));

  app.get('/calendar/connections', {
    schema: { tags, summary: 'List calendar connections', response: { 200: ConnectionListResponse, ...errorResponses() } },
  }, async (request) => calendar.connections.list(request.userId));

  app.get('/calendar/connections/:calendar_id', {
    schema: { tags, summary: 'A calendar connection: status, last sync, last error, push state', params: CalendarIdParams, response: { 200: ConnectionResponse, ...errorResponses(404) } },
  }, async (request) => calendar.connections.get(request.userId, request.params.calendar_id));

  app.delete('/calendar/connections/:calendar_id', {
    schema: { tags, summary: 'Disconnect: stop push, delete its events (pending bots cancelled with webhooks) and the credentials', description: 'purge_events=false keeps the events (no longer synced, detached from the connection); the pending bots are cancelled either way.', params: CalendarIdParams, querystring: DisconnectQuery, response: { 200: DisconnectResponse, ...errorResponses(404) } },
  }, async (request) => calendar.connections.disconnect(request.userId, request.params.calendar_id, { purgeEvents: request.query.purge_events !== false }));

  // MeetStream's calendar list and disconnect (docs/calendar-sync.md, "MeetStream's calendar routes").
  const listCalendars = {
    schema: {
      tags, summary: 'Every calendar of the connected accounts (MeetStream\'s GET /calendar)',
      description: 'Answered from the calendar list each sync keeps (read at connect time and again at most hourly), not read live from the provider. account_id needs provider.',
      querystring: CalendarListQuery, response: { 200: CalendarListResponse, ...errorResponses() },
    },
  } as const;
  app.get('/calendar', listCalendars, async (request) => calendar.connections.listCalendars(request.userId, request.query));
  app.get('/calendar/calendars', listCalendars, async (request) => calendar.connections.listCalendars(request.userId, request.query));

  // Clients send this with no body, {}, or an empty body under a JSON content type (a shared
  // header set, read as no body: app.ts): all three mean "no scope".
  void app.register(async (scoped) => {
    const disconnect = {
      // No body at all (no content type) is the same request as {}.
      preValidation: async (request: { body: unknown }) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags, summary: 'Disconnect by provider and account (MeetStream\'s /calendar/disconnect)',
        description: '{} removes the only connection (400 multiple_calendar_connections when there are several); {provider} removes that provider\'s connections; {provider, account_id} exactly one. purge_events=false keeps their events. Scheduled bots of removed connections are cancelled. The fields may also come in the query string; the body wins.',
        querystring: ScopedDisconnectQuery, body: ScopedDisconnectBody, response: { 200: ScopedDisconnectResponse, ...errorResponses(413, 415) },
        [BODY_OPTIONAL_KEYWORD]: true,
      },
    } as const;
    const typed = scoped.withTypeProvider<TypeBoxTypeProvider>();
    const handle = (request: { userId: string; query: ScopedDisconnectRequest; body: ScopedDisconnectRequest | undefined }) =>
      calendar.connections.disconnectMatching(request.userId, { ...request.query, ...request.body });
    typed.post('/calendar/disconnect', disconnect, async (request) => handle(request));
    typed.delete('/calendar/disconnect', disconnect, async (request) => handle(request));
  });

  app.post('/calendar/connections/:calendar_id/sync', {
    schema: { tags, summary: 'Sync now; answers what changed', description: '200 whenever the sync ran; a provider failure is reported in `failure` (and `synced: false`) and retried in the background. 409 when the connection has already lost its access. 503 calendar_sync_deferred while the wait the provider asked for (Retry-After) runs: the provider is not called, and the connection syncs by itself when the wait ends (Retry-After, details.next_sync_at).', params: CalendarIdParams, response: { 200: SyncResponse, ...errorResponses(404, 409, 503) } },
  }, async (request) => calendar.connections.sync(request.userId, request.params.calendar_id));

  // Provider notifications authenticate with the channel token / clientState, not an API key.
  // They get their own body parsing: Google posts an empty body, Graph's handshake is text/plain.
  void app.register(async (push) => {
    push.removeAllContentTypeParsers();
    push.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    const pushTags = ['Calendar push notifications'];

    push.post('/calendar/notifications/google', {
      config: { auth: 'custom' },
      schema: {
        tags: pushTags, summary: 'Google Calendar watch-channel notifications', description: 'Checks X-Goog-Channel-ID, X-Goog-Channel-Token and X-Goog-Resource-ID against the channel Rollcall opened, then asks for a sync. A retired channel not yet stopped (replaced by a renewal, of a calendar no longer synced, or opened by a watch whose answer was lost) is acknowledged (200) without a sync, unless it tells of a change on a calendar with no live channel. A channel whose events.watch answer Rollcall has not stored (the call under way, or its answer lost) is recognised by its channel id and token: acknowledged (200, outcome pending), its resource id noted so that the connection\'s next sync stops it, and a change it tells of (exists, not_exists) asks for that sync.',
        security: [],
        response: { 200: Type.Null({ description: 'Accepted (empty body). A sync follows, except for a channel Rollcall has replaced or no longer uses and not yet stopped, and for a `sync` message, which ask for none' }), ...errorResponses() },
      },
    }, async (request, reply) => {
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const accepted = await calendar.sync.acceptGoogleNotification({
        channelId: header('x-goog-channel-id'), token: header('x-goog-channel-token'), resourceId: header('x-goog-resource-id'), state: header('x-goog-resource-state'),
      });
      if (!accepted) throw new ApiError('invalid_notification', 'Unknown channel or wrong channel token');
      return reply.status(200).send();
    });

    const graphRoute = (path: string, summary: string) => push.post(path, {
      config: { auth: 'custom' },
      schema: {
        tags: pushTags,
        summary,
        description: 'With ?validationToken=... (subscription handshake) answers 200 text/plain with the decoded token. Otherwise accepts { value: [...] }, drops items whose clientState does not match, and answers 202. Items of a retired subscription not yet deleted (outcome retired) and of one whose POST /subscriptions answer Rollcall has not stored, known by its clientState (outcome pending: the connection\'s next sync deletes it, and a change asks for that sync), are acknowledged too.',
        querystring: Type.Object({ validationToken: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: true }),
        security: [],
        response: {
          200: { description: 'The decoded validationToken (subscription handshake)', content: { 'text/plain': { schema: Type.String() } } },
          202: Type.Null({ description: 'Accepted (empty body)' }),
          ...errorResponses(),
        },
      },
    }, async (request, reply) => {
      const { validationToken } = request.query as { validationToken?: string };
      if (validationToken !== undefined) return reply.status(200).type('text/plain; charset=utf-8').send(validationToken);
      let items: GraphNotification[] = [];
      try {
        const parsed = JSON.parse(typeof request.body === 'string' ? request.body : '') as { value?: unknown };
        if (Array.isArray(parsed.value)) items = parsed.value.filter((v): v is GraphNotification => typeof v === 'object' && v !== null);
      } catch {
        throw new ApiError('invalid_json', 'body: expected a JSON object with a value array');
      }
      await calendar.sync.acceptGraphNotifications(items);
      return reply.status(202).send();
    });
    graphRoute('/calendar/notifications/microsoft', 'Microsoft Graph change notifications');
    graphRoute('/calendar/notifications/microsoft/lifecycle', 'Microsoft Graph lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)');
  });

  const autoTags = ['Auto-schedule'];
  app.post('/calendar/auto-schedule/enable', {
    schema: { tags: autoTags, summary: 'Turn auto-schedule on: every upcoming synced event with a meeting URL gets a bot', body: AutoScheduleEnableBody, response: { 200: AutoScheduleResponse, ...errorResponses(413, 415) }, [BODY_OPTIONAL_KEYWORD]: true },
    // Everything in the body is optional, so none at all is an empty one. A JSON null is a body,
    // and no object: refused.
    preValidation: async (request) => {
      if (request.body === undefined) request.body = {};
    },
  }, async (request) => {
    // Left out, the configuration is the one stored (a disable keeps it), as preview reads it.
    const defaultBotConfig = request.body.default_bot_config ?? (await calendar.autoSchedule.settings(request.userId)).default_bot_config;
    return calendar.autoSchedule.enable(request.userId, defaultBotConfig, request.body.rules);
  });

  app.post('/calendar/auto-schedule/preview', {
    schema: {
      tags: autoTags, summary: 'What saving these rules would do now, written nowhere: meetings that would get a bot, and those that would lose the bot auto-schedule booked for them',
      body: AutoSchedulePreviewBody, response: { 200: AutoSchedulePreviewResponse, ...errorResponses(413, 415) },
    },
  }, async (request) => calendar.autoSchedule.preview(request.userId, request.body.rules, request.body.default_bot_config));

  app.post('/calendar/auto-schedule/disable', {
    schema: { tags: autoTags, summary: 'Turn auto-schedule off; bots already scheduled stay', response: { 200: AutoScheduleResponse, ...errorResponses() } },
  }, async (request) => calendar.autoSchedule.disable(request.userId));

  app.get('/calendar/auto-schedule/settings', {
    schema: { tags: autoTags, summary: 'Auto-schedule settings', response: { 200: AutoScheduleResponse, ...errorResponses() } },
  }, async (request) => calendar.autoSchedule.settings(request.userId));
}
