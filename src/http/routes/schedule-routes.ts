// Scheduling bots for events (spec sections 2 and 3).
import { applyBotConfigDefaults, findRuntimeSettingProblem } from '../../domain/bot-config.ts';
import { ApiError } from '../../errors.ts';
import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_OPTIONAL_KEYWORD, errorResponses } from '../schemas/common.ts';
import { EventIdParams } from '../schemas/event-schemas.ts';
import { ScheduleBody, ScheduleResponse, ToggleRecurrenceBody, ToggleRecurrenceResponse } from '../schemas/schedule-schemas.ts';

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
      [BODY_OPTIONAL_KEYWORD]: true,
    },
    // Every field of the body is optional, so none at all (or an empty one) is {}. A JSON null is
    // a body, and no object: refused as create_bot refuses it.
    preValidation: async (request) => {
      if (request.body === undefined) request.body = {};
    },
  }, async (request) => {
    // Checked on the request, not inside schedule(): auto-schedule also books through it, with
    // default configs stored before these checks existed, and must not stop booking over them.
    // A request without bot_config (what MeetStream's SDKs send for a plain schedule call: {}) gets the defaults.
    const body = { ...request.body, bot_config: request.body.bot_config ?? {} };
    const problem = findRuntimeSettingProblem(body.bot_config, 'bot_config.');
    if (problem) throw new ApiError('invalid_bot_config', problem.problem, { details: { field: problem.field } });
    // Settings the bot provider refuses together (a live transcript with a post-call provider).
    const providerProblem = deps.scheduling.findProviderInputProblem(applyBotConfigDefaults(body.bot_config, deps.scheduling.defaultBotName), undefined, { isRequest: true });
    if (providerProblem) throw new ApiError('invalid_bot_config', `bot_config.${providerProblem.field}: ${providerProblem.problem}`, { details: { field: `bot_config.${providerProblem.field}` } });
    return deps.scheduling.schedule(request.userId, request.params.event_id, body, { origin: request.origin });
  });

  const chains = deps.chains;
  if (!chains) return;
  app.post('/calendar/toggle-recurrence', {
    schema: {
      tags,
      summary: 'Turn chain mode of a recurring series on or off',
      description: 'On: the next occurrence is booked now if none is, and each following one when the previous one is launched. Off: the bot already booked stays; nothing further is booked. 400 event_not_recurring when the event has no recurrence rule (MeetStream\'s way to ask "is this recurring").',
      body: ToggleRecurrenceBody,
      response: { 200: ToggleRecurrenceResponse, ...errorResponses(404, 409) },
    },
  }, async (request) => chains.toggle(request.userId, request.body.event_id, request.body.recurring_enabled));
}
