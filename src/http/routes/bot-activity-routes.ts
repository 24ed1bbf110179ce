// What is about to join, what has ended and what just changed: the upcoming bots with their
// source, the ended ones with why, launches per minute over the next hours, and the user's bot
// status changes, as a page or a live stream.
import { Type } from 'typebox';
import { ApiError } from '../../errors.ts';
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { authenticateApiKeyUser } from '../auth.ts';
import { acceptsEventStream, isSecureRequest, sessionTokenOf } from '../session-auth.ts';
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { errorResponses } from '../schemas/common.ts';
import {
  EndedBotsQuery, EndedBotsResponse, LaunchHistogramQuery, LaunchHistogramResponse, StatusChangesQuery, StatusChangesResponse, UpcomingBotsQuery, UpcomingBotsResponse,
} from '../schemas/activity-schemas.ts';
import type { StatusChange } from '../../services/scheduling/status-change-feed.ts';

/**
 * A comment line this often keeps proxies from closing a quiet stream, and the stream's
 * credentials are checked again as often: a revoked key or ended session ends its streams too.
 */
const HEARTBEAT_MS = 10_000;
/** What EventSource waits before reconnecting after the stream ends. */
const RECONNECT_MS = 3000;
/** Events waiting for a slow client beyond this end its stream. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/**
 * Live streams one user may hold open on one instance. Each holds a connection and a subscription
 * for as long as it likes; without a bound one key opened over a thousand. A dashboard in a few
 * tabs and an integration or two use a handful.
 */
export const MAX_STREAMS_PER_USER = 20;

export function registerBotActivityRoutes(app: App, deps: AppDeps): void {
  const tags = ['Bot activity'];
  const openStreams = new Set<ServerResponse>();
  const streamsOfUser = new Map<string, number>();
  // Open streams would hold a graceful shutdown until its deadline; end them first. Browsers
  // reconnect (to another instance, or to this one once it is back) with Last-Event-ID.
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end();
  });

  app.get('/bots/upcoming', {
    schema: {
      tags,
      summary: 'The caller\'s live bots, soonest first, with where each came from',
      description: 'Bots that are scheduled, joining or in a meeting, with their linked events, source (api, calendar or auto_schedule) and origin (what booked each); filter by status and by calendar connection. Pages are keyed on (join time, bot id).',
      querystring: UpcomingBotsQuery,
      response: { 200: UpcomingBotsResponse, ...errorResponses() },
    },
  }, async (request) => deps.upcomingBots.list(request.userId, request.query));

  app.get('/bots/ended', {
    schema: {
      tags,
      summary: 'The caller\'s ended bots, the latest to end first, with why each ended',
      description: 'Bots that are done, failed or cancelled, the latest to reach its status first, with their events, origin (what booked each) and the reason given when they reached it; filter by outcome and by calendar connection. Pages are keyed on (the time each ended, bot id).',
      querystring: EndedBotsQuery,
      response: { 200: EndedBotsResponse, ...errorResponses() },
    },
  }, async (request) => deps.endedBots.list(request.userId, request.query));

  app.get('/bots/launch-histogram', {
    schema: {
      tags,
      summary: 'How many of the caller\'s bots launch in each minute of the next hours',
      description: 'Every bucket from the start of the current one, empty ones included; peak names the busiest. launch_limit_per_minute is the bot runtime\'s own limit where it declares one, to compare the spikes against.',
      querystring: LaunchHistogramQuery,
      response: { 200: LaunchHistogramResponse, ...errorResponses() },
    },
  }, async (request) => deps.upcomingBots.launchHistogram(request.userId, request.query));

  app.get('/bots/status-changes', {
    schema: {
      tags,
      summary: 'The caller\'s bot status changes: a page, or a live stream (server-sent events)',
      description: 'With "Accept: text/event-stream" the answer is a stream of `status` events (id: the change id, data: the change as JSON) from now on; a client that reconnects with Last-Event-ID (or ?after=) first gets what it missed, up to 500 changes. Otherwise a JSON page: the changes after `after`, oldest first, or without it the latest `limit`.',
      querystring: StatusChangesQuery,
      response: {
        200: {
          description: 'The changes (JSON), or a stream of them (text/event-stream)',
          content: {
            'application/json': { schema: StatusChangesResponse },
            'text/event-stream': { schema: Type.String({ description: 'id: <change id>\\nevent: status\\ndata: <change as JSON>' }) },
          },
        },
        ...errorResponses(),
      },
    },
  }, async (request, reply) => {
    if (!acceptsEventStream(request.headers.accept)) return deps.statusFeed.list(request.userId, request.query);
    const resumeFrom = lastEventIdOf(request.headers['last-event-id']) ?? request.query.after;
    const held = streamsOfUser.get(request.userId) ?? 0;
    if (held >= MAX_STREAMS_PER_USER) {
      throw new ApiError('too_many_streams', `At most ${MAX_STREAMS_PER_USER} live status streams per user are open at once on this instance; close one first`, { details: { limit: MAX_STREAMS_PER_USER } });
    }
    streamsOfUser.set(request.userId, held + 1);
    const stream = reply.raw;
    reply.hijack();
    stream.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
      // The connection ends with the stream. Kept alive, a stream the stop ends (preClose) would
      // leave an idle connection the server waits for until its keep-alive timeout (72 s), longer
      // than a supervisor's grace, whenever the end was not yet flushed as the server began to close.
      connection: 'close',
    });
    stream.write(`retry: ${RECONNECT_MS}\n\n`);
    openStreams.add(stream);
    const send = (change: StatusChange) => {
      // A client that stops reading would make its unsent events pile up here; past a limit the
      // stream ends instead, and the browser reconnects with Last-Event-ID and catches up.
      if (stream.writableLength > MAX_UNSENT_BYTES) stream.end();
      else stream.write(`id: ${change.id}\nevent: status\ndata: ${JSON.stringify(change)}\n\n`);
    };
    let unsubscribe: (() => void) | null = null;
    let isClosed = false;
    const isStillAuthorized = stillAuthorizedCheck(deps, request);
    const heartbeat = setInterval(() => {
      if (stream.destroyed) {
        close();
        return;
      }
      void isStillAuthorized().then((isAuthorized) => {
        if (isAuthorized) stream.write(': keep-alive\n\n');
        else stream.end();
      });
    }, HEARTBEAT_MS);
    const close = () => {
      if (isClosed) return;
      isClosed = true;
      clearInterval(heartbeat);
      openStreams.delete(stream);
      const left = (streamsOfUser.get(request.userId) ?? 1) - 1;
      if (left > 0) streamsOfUser.set(request.userId, left);
      else streamsOfUser.delete(request.userId);
      unsubscribe?.();
    };
    stream.on('close', close);
    // A client gone while its key was being checked closed the connection before this listener
    // was there: the stream ends now, or it would hold its user's place and its timer for ever.
    if (stream.destroyed || request.raw.destroyed) close();
    try {
      const end = await deps.statusFeed.subscribe(request.userId, send, resumeFrom === undefined ? {} : { afterId: resumeFrom });
      if (isClosed) end();
      else unsubscribe = end;
    } catch (error) {
      request.log.warn({ err: error }, 'status change stream could not start');
      stream.end();
    }
  });
}

/** Whether the credentials the stream was opened with still hold (same rules as the auth hook). */
function stillAuthorizedCheck(deps: AppDeps, request: FastifyRequest): () => Promise<boolean> {
  const header = request.headers.authorization;
  const sessionToken = header === undefined ? sessionTokenOf(request, isSecureRequest(deps, request)) : undefined;
  // The re-check is the server's, not the user's: it does not keep the session from idling out.
  if (sessionToken !== undefined) return async () => (await deps.sessions.authenticate(sessionToken, { isUse: false }).catch(() => null)) !== null;
  return () => authenticateApiKeyUser(deps, header).then(() => true, () => false);
}

function lastEventIdOf(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header)) return undefined;
  return Number(header);
}
