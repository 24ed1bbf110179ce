// Scheduled-bot management (spec section 3), under both of MeetStream's path families:
// /calendar/scheduled/{bot_id} (older) and /calendar/scheduled_bots/{bot_id} (current), plus
// /calendar/schedule/{id}, which takes an event id or a bot id and tells them apart by prefix.
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { BotIdParams } from '../schemas/bot-schemas.ts';
import { BODY_OPTIONAL_KEYWORD, errorResponses } from '../schemas/common.ts';
import {
  BotPatchBody, BotUpdateResponse, DeleteBotResponse, DeleteScheduleResponse, ScheduledBotsQuery, ScheduledBotsResponse,
  ScheduleTargetParams, UnscheduleBody,
} from '../schemas/management-schemas.ts';

export function registerScheduledBotRoutes(app: App, deps: AppDeps): void {
  const tags = ['Scheduled bots'];

  app.delete('/calendar/schedule/:event_id', {
    schema: {
      tags,
      summary: 'Unschedule an event (or one occurrence, or a series from a date); with a bot id, delete that bot',
      description: 'A bot that another live event still uses is only unlinked from this event (bots_unlinked). A series id without options unschedules every occurrence; from_date keeps the occurrences before it; an occurrence id unschedules that occurrence, or the series with cancel_all_occurrences / from_date. Idempotent.',
      params: ScheduleTargetParams,
      body: UnscheduleBody,
      response: { 200: DeleteScheduleResponse, ...errorResponses(404) },
      [BODY_OPTIONAL_KEYWORD]: true,
    },
    // The body is optional on a DELETE: none at all means no options. A JSON null is no object,
    // and never "no options" (which on a series is every occurrence): refused.
    preValidation: async (request) => {
      if (request.body === undefined) request.body = {};
    },
  }, async (request) => deps.management.deleteScheduleTarget(request.userId, request.params.event_id, request.body, request.origin));

  app.patch('/calendar/schedule/:event_id', {
    schema: {
      tags,
      summary: 'Reschedule the bot of an event (or, with a bot id, update that bot)',
      description: 'For a series id the bot of the soonest occurrence still waiting to join is changed. An event without a scheduled bot is 404 bot_not_found.',
      params: ScheduleTargetParams,
      body: BotPatchBody,
      response: { 200: BotUpdateResponse, ...errorResponses(404) },
    },
  }, async (request) => deps.management.updateScheduleTarget(request.userId, request.params.event_id, request.body, request.origin));

  // /calendar/schedule is the list's older name in MeetStream's documentation (GET only: under it,
  // PATCH and DELETE name an event, above).
  for (const path of ['/calendar/scheduled', '/calendar/scheduled_bots', '/calendar/schedule']) {
    app.get(path, {
      schema: {
        tags,
        summary: 'The caller\'s upcoming and running bots, soonest first',
        description: 'Calendar and create_bot bots alike (custom_attributes.source tells them apart), while still to come or under way. Pages are keyed on (join time, bot id): bots added or removed between pages never make another bot appear twice or go missing.',
        querystring: ScheduledBotsQuery,
        response: { 200: ScheduledBotsResponse, ...errorResponses() },
      },
    }, async (request) => deps.botQueries.listScheduled(request.userId, request.query));
  }

  for (const base of ['/calendar/scheduled', '/calendar/scheduled_bots']) {
    app.patch(`${base}/:bot_id`, {
      schema: {
        tags,
        summary: 'Change a scheduled bot: join time, name, custom attributes, feature flags',
        description: 'Only a bot still in status Scheduled can change (else 400 bot_already_joined). A new scheduled_join_time moves the timer and pins the join time against later calendar moves.',
        params: BotIdParams,
        body: BotPatchBody,
        response: { 200: BotUpdateResponse, ...errorResponses(404) },
      },
    }, async (request) => deps.management.updateBot(request.userId, request.params.bot_id, request.body, request.origin));

    app.delete(`${base}/:bot_id`, {
      schema: {
        tags,
        summary: 'Cancel a scheduled bot',
        description: 'Status Cancelled, timer cancelled, bot.cancelled webhook. Again on a cancelled bot: 200. A bot joining or in a meeting: 400 bot_active; a finished bot: 400 bot_already_joined.',
        params: BotIdParams,
        response: { 200: DeleteBotResponse, ...errorResponses(404) },
      },
    }, async (request) => deps.management.cancelBot(request.userId, request.params.bot_id, request.origin));
  }
}
