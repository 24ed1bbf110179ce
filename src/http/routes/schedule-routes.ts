// Scheduling bots for events (spec sections 2 and 3).
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { errorResponses } from '../schemas/common.ts';
import { EventIdParams } from '../schemas/event-schemas.ts';
import { ScheduleBody, ScheduleResponse } from '../schemas/schedule-schemas.ts';

export function registerScheduleRoutes(app: App, deps: AppDeps): void {
  const tags = ['Scheduling'];

  app.post('/calendar/schedule/:event_id', {
    schema: {
      tags,
      summary: 'Schedule a bot for an event, an occurrence, or every occurrence of a series',
      description: 'Deduplicates on deduplication_key: the same key on the same event updates the bot; on another event for the same meeting it shares the bot; on a different meeting it is a 409.',
      params: EventIdParams,
      body: ScheduleBody,
      response: { 200: ScheduleResponse, ...errorResponses(404, 409, 413) },
    },
  }, async (request) => deps.scheduling.schedule(request.userId, request.params.event_id, request.body));
}
