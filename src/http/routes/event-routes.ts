// Calendar events (spec section 1). Handlers parse, call the service, answer.
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { errorResponses } from '../schemas/common.ts';
import { EventChangesQuery, EventChangesResponse, EventCreateBody, EventIdParams, EventListQuery, EventListResponse, EventPatchBody, EventResponse } from '../schemas/event-schemas.ts';

export function registerEventRoutes(app: App, deps: AppDeps): void {
  const tags = ['Calendar events'];

  app.post('/calendar/events', {
    schema: { tags, summary: 'Create an event', body: EventCreateBody, response: { 201: EventResponse, ...errorResponses(404, 413) } },
  }, async (request, reply) => reply.status(201).send(await deps.events.create(request.userId, request.body)));

  // /calendar/events/list is the same list under the name older MeetStream documentation gives it;
  // /calendar/get_events is MeetStream's "cached events" (its store, no provider call), which this
  // list always is unless asked to sync.
  for (const path of ['/calendar/events', '/calendar/events/list', '/calendar/get_events']) {
    app.get(path, {
      schema: { tags, summary: 'List events in a time window (series as occurrences)', querystring: EventListQuery, response: { 200: EventListResponse, ...errorResponses() } },
    }, async (request) => {
      const deferred = /^(true|1)$/i.test(request.query.sync ?? '') ? await deps.calendar?.connections.syncBeforeListing(request.userId, request.query) : undefined;
      const listed = await deps.events.list(request.userId, request.query);
      return deferred && deferred.length > 0 ? { ...listed, sync_deferred: deferred } : listed;
    });
  }

  app.get('/calendar/events/changes', {
    schema: { tags, summary: 'Events in the order of their latest change, from a cursor (deleted ones included)', querystring: EventChangesQuery, response: { 200: EventChangesResponse, ...errorResponses() } },
  }, async (request) => deps.events.changes(request.userId, request.query));

  app.get('/calendar/events/:event_id', {
    schema: { tags, summary: 'Get an event or one occurrence of a series', params: EventIdParams, response: { 200: EventResponse, ...errorResponses(404) } },
  }, async (request) => deps.events.get(request.userId, request.params.event_id));

  app.patch('/calendar/events/:event_id', {
    schema: { tags, summary: 'Change an event; its bots follow', params: EventIdParams, body: EventPatchBody, response: { 200: EventResponse, ...errorResponses(404, 413) } },
  }, async (request) => deps.events.update(request.userId, request.params.event_id, request.body));

  app.delete('/calendar/events/:event_id', {
    schema: { tags, summary: 'Delete an event (kept with is_deleted); its bots are cancelled', params: EventIdParams, response: { 200: EventResponse, ...errorResponses(404) } },
  }, async (request) => deps.events.remove(request.userId, request.params.event_id));
}
