// Managing bots once they are scheduled (spec section 3): unscheduling an event, changing or
// cancelling one bot, and MeetStream's older paths that take either an event id or a bot id.
// Every change runs in one transaction that also moves or closes the bot's timer, and tells the
// dispatchers through the schedule signal.
import type { BotProviderName } from '../../config.ts';
import { findProviderInputProblem } from '../../domain/provider-input-limits.ts';
import { requestOriginWords, type RequestOrigin } from '../../domain/action-origin.ts';
import type { Transaction } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import type { Database, Engine } from '../../db/database.ts';
import type { BotEventRow, BotRow, EventRow, Schema } from '../../db/schema.ts';
import { isActive, type BotStatus } from '../../domain/bot-status.ts';
import { AD_HOC_BOT_SOURCE, CALENDAR_BOT_OWN_ATTRIBUTES, CALENDAR_BOT_SOURCE, deduplicationKeyHash, mergeCustomAttributes } from '../../domain/bot-config.ts';
import { occurrenceIdOf, parseOccurrenceId } from '../../domain/occurrence-id.ts';
import { occurrenceKey, parseOccurrenceKey } from '../../domain/recurrence.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant, isIsoDate, parseInstant } from '../../lib/time.ts';
import * as bots from '../../store/bot-store.ts';
import { findEvent, listSeriesInstances, lockInstanceSeries } from '../../store/event-store.ts';
import { instanceSeriesId, instanceSeriesOf } from '../../domain/instance-series.ts';
import { cancelBotInTransaction, endLaunchNotAccepted, isLaunchWaitingForRetry, joinTimeFromLinks, moveBotJoinTime, transitionBot, type ScheduleChangeSignal } from './bot-lifecycle.ts';
import { requestRuntimeCommand } from './runtime-commands.ts';
import { requestProviderSync } from '../providers/provider-sync.ts';
import { enqueueStatusWebhook } from '../webhooks/status-webhooks.ts';
import { disableChain } from '../../store/chain-store.ts';
import { compiledSeriesOf, type StoredZoneWarnings } from '../calendars/calendar-events.ts';
import { retryingLostRaces } from '../../db/race-retry.ts';
import { endSeriesBookings } from '../../store/series-booking-store.ts';
import { forgetHeldDetails } from '../../store/provider-handover-store.ts';

export interface UnscheduleOptions {
  cancel_all_occurrences?: boolean;
  from_date?: string | null;
}

export interface UnscheduleResult {
  unscheduled: boolean;
  message: string;
  event_id: string;
  cancelled_schedules: string[];
  schedules_cancelled: number;
  bots_deleted: number;
  cancelled_bots: string[];
  bots_unlinked: string[];
  bots_already_launched: string[];
  cancel_all_occurrences: boolean;
  from_date: string | null;
  is_recurring_series: boolean;
  cancelled?: boolean;
  master_event_id?: string;
  occurrences_affected?: number;
}

export interface BotPatch {
  scheduled_join_time?: string;
  bot_username?: string;
  custom_attributes?: Record<string, string>;
  transcription_enabled?: boolean;
  recording_enabled?: boolean;
  screenshot_enabled?: boolean;
}

export interface BotUpdateResult {
  /** Always true: MeetStream's older reschedule answer had it, and clients may test it. */
  success: true;
  message: string;
  bot_id: string;
  updated_fields: string[];
  schedule_updated: boolean;
  scheduled_join_time: string;
}

export interface BotDeleteResult {
  message: string;
  bot_id: string;
}

export interface RemoveBotResult {
  message: string;
  bot_id: string;
  status: string;
}

export interface DeleteBotDataResult {
  message: string;
  bot_id: string;
  /** Stored records removed or scrubbed (decisions, status reasons, links, sent webhooks, commands, the bot's own fields). */
  deleted_objects: number;
}

const PATCHABLE_FIELDS = ['scheduled_join_time', 'bot_username', 'custom_attributes', 'transcription_enabled', 'recording_enabled', 'screenshot_enabled'] as const;
const FLAG_FIELDS = ['transcription_enabled', 'recording_enabled', 'screenshot_enabled'] as const;

/** What an event id names for unscheduling: the links in it are what gets unscheduled. */
type EventScope =
  | { kind: 'single'; event: EventRow }
  | { kind: 'series'; series: EventRow }
  | { kind: 'occurrence'; series: EventRow; key: string };

/** from_date as given: an instant, or a local date read in the series' time zone. */
type FromDate = { kind: 'instant'; ms: number } | { kind: 'date'; date: string };

export class BotManagement {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #joinLeadMs: number;
  readonly #signal: ScheduleChangeSignal;

  /** The bot provider bots are handed to (BOT_RUNTIME), whose limits a change is held to. */
  readonly #botProvider: BotProviderName | null;

  /** Where stored zone rules that cannot be read are reported (the container's, shared with CalendarEvents). */
  readonly #zoneWarnings: StoredZoneWarnings | null;

  constructor(deps: { database: Database; clock: Clock; joinLeadSeconds: number; signal: ScheduleChangeSignal; botProvider?: BotProviderName | null; zoneWarnings?: StoredZoneWarnings }) {
    this.#botProvider = deps.botProvider ?? null;
    this.#zoneWarnings = deps.zoneWarnings ?? null;
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#joinLeadMs = deps.joinLeadSeconds * 1000;
    this.#signal = deps.signal;
  }

  /** PATCH /calendar/schedule/{id}: the prefix tells a bot id from an event id. */
  async updateScheduleTarget(userId: string, id: string, patch: BotPatch, origin: RequestOrigin = 'api'): Promise<BotUpdateResult> {
    return isBotId(id) ? this.updateBot(userId, id, patch, origin) : this.rescheduleEvent(userId, id, patch, origin);
  }

  /** DELETE /calendar/schedule/{id}: the prefix tells a bot id from an event id. */
  async deleteScheduleTarget(userId: string, id: string, options: UnscheduleOptions, origin: RequestOrigin = 'api'): Promise<UnscheduleResult | BotDeleteResult> {
    return isBotId(id) ? this.cancelBot(userId, id, origin) : this.unscheduleEvent(userId, id, options, origin);
  }

  /**
   * Unschedules an event, one occurrence, or (part of) a series. A bot that another live event
   * still uses is only unlinked from this one; a bot already launched is left alone. Calling it
   * again finds nothing left to do and answers with zero counts. `origin`: where the request came
   * from, which the bots' reasons say (as for every change below).
   */
  async unscheduleEvent(userId: string, eventId: string, options: UnscheduleOptions, origin: RequestOrigin = 'api'): Promise<UnscheduleResult> {
    const fromDate = parseFromDate(options.from_date);
    const wantsWholeSeries = options.cancel_all_occurrences === true || fromDate !== null;
    return this.#change(async (trx, now) => {
      const scope = await this.#resolveScope(trx, userId, eventId);
      // from_date: null widens nothing on a one-off event (MeetStream's own answer for one carries
      // { cancel_all_occurrences: false, from_date: null }), cancel_all_occurrences or not: it has
      // no other occurrence. Anywhere else, left out it means every occurrence (or, on an
      // occurrence asked for alone, a narrower scope than a date): a null (a date not computed) is
      // not read so.
      if (options.from_date === null && (scope.kind !== 'single' || instanceSeriesOf(scope.event) !== null)) {
        throw new ApiError('invalid_time', `from_date: may not be null ${nullFromDateAdvice(scope.kind === 'series', options.cancel_all_occurrences === true)}`, { details: { field: 'from_date' } });
      }
      // An Outlook instance with a series option stands for its series: the master's other instances.
      const instances = scope.kind === 'single' && wantsWholeSeries ? instanceSeriesOf(scope.event) : null;
      if (scope.kind === 'single' && fromDate !== null && instances === null) {
        throw new ApiError('event_not_recurring', `from_date: event ${eventId} is not a recurring series`, { details: { field: 'from_date' } });
      }
      const series = scope.kind === 'single' ? null : scope.series;
      // An occurrence id with a series option widens to the series, like MeetStream's instance ids.
      const isWholeSeries = scope.kind === 'series' || (scope.kind === 'occurrence' && wantsWholeSeries) || instances !== null;
      // Unscheduling the series (or its rest) also stops chain mode, or the chain would book the
      // next occurrence again. The chain row is locked before any bot, as on every chain path.
      // An Outlook series' own lock comes first, as for its batches (lockInstanceSeries).
      if (instances !== null) await lockInstanceSeries(trx, this.#database.engine, instances);
      const chainId = series?.id ?? (instances ? instanceSeriesId(instances) : null);
      const stoppedChain = chainId !== null && isWholeSeries && await disableChain(trx, chainId, now);
      // So does a schedule_all_occurrences batch: no occurrence appearing later gets a bot.
      const fromMs = fromDate === null || !isWholeSeries ? null : fromDateToMs(fromDate, series ?? (scope.kind === 'single' ? scope.event : null), this.#zoneWarnings);
      if (isWholeSeries) await endSeriesBookings(trx, series?.id ?? instanceSeriesId(instances!), fromMs, now);
      let links: BotEventRow[];
      if (instances !== null) {
        links = [];
        for (const instance of await listSeriesInstances(trx, userId, instances)) {
          links.push(...(await bots.listLiveLinksOfEvent(trx, instance.id)).filter((l) => fromMs === null || l.start_ms >= fromMs));
        }
      } else if (scope.kind === 'single') {
        links = await bots.listLiveLinksOfEvent(trx, scope.event.id);
      } else if (!isWholeSeries && scope.kind === 'occurrence') {
        links = (await bots.listLiveLinksOfEvent(trx, scope.series.id)).filter((l) => l.occurrence_key === scope.key);
      } else {
        // The occurrence's current start decides, so a moved occurrence counts where it now is.
        links = (await bots.listLiveLinksOfEvent(trx, scope.series.id)).filter((l) => fromMs === null || l.start_ms >= fromMs);
      }
      const what = isWholeSeries
        ? `series ${series?.id ?? `of event ${eventId}`}${fromDate !== null ? ` from ${options.from_date}` : ''}`
        : scope.kind === 'occurrence' ? `occurrence ${scope.series.id}_${scope.key}` : `event ${eventId}`;
      const outcome = await this.#unlink(trx, links, `Unscheduled ${requestOriginWords(origin)} (${what})`, now);

      const count = outcome.cancelledSchedules.length;
      const result: UnscheduleResult = {
        unscheduled: true,
        message: unscheduleMessage(count, outcome.unlinkedBots.length, outcome.launchedBots.length),
        event_id: eventId,
        cancelled_schedules: outcome.cancelledSchedules,
        schedules_cancelled: count,
        bots_deleted: outcome.cancelledBots.length,
        cancelled_bots: outcome.cancelledBots,
        bots_unlinked: outcome.unlinkedBots,
        bots_already_launched: outcome.launchedBots,
        cancel_all_occurrences: options.cancel_all_occurrences === true,
        from_date: options.from_date ?? null,
        is_recurring_series: isWholeSeries,
      };
      if (stoppedChain) result.message += '; chain mode of the series turned off';
      if (series || instances) {
        result.master_event_id = series?.id ?? eventId;
        result.occurrences_affected = outcome.occurrencesAffected;
        if (isWholeSeries) result.cancelled = true;
      }
      return result;
    });
  }

  /**
   * Ends the given links. Each bot is locked before its remaining links are read, so a
   * concurrent schedule request that shares the bot is either seen here or sees the outcome.
   */
  async #unlink(trx: Transaction<Schema>, links: BotEventRow[], reason: string, now: number) {
    const outcome = { cancelledSchedules: [] as string[], cancelledBots: [] as string[], unlinkedBots: [] as string[], launchedBots: [] as string[], occurrencesAffected: 0 };
    const byBot = new Map<string, Set<number>>();
    for (const link of links) byBot.set(link.bot_id, (byBot.get(link.bot_id) ?? new Set()).add(link.id));
    // One lock order for every caller keeps two unschedules of overlapping events from deadlocking.
    for (const botId of [...byBot.keys()].sort()) {
      const bot = (await bots.findBotById(trx, botId, { engine: this.#database.engine, forUpdate: true }))!;
      const liveLinks = await bots.listLiveLinksOfBot(trx, botId);
      const mine = liveLinks.filter((l) => byBot.get(botId)!.has(l.id));
      if (mine.length === 0) continue;
      if (bot.status !== 'Scheduled') {
        // Launched: the runtime has it, and stopping a bot in a meeting is not this route's job.
        outcome.launchedBots.push(botId);
        continue;
      }
      for (const link of mine) await bots.endLink(trx, link.id, now);
      outcome.occurrencesAffected += mine.length;
      const remaining = liveLinks.filter((l) => !byBot.get(botId)!.has(l.id));
      if (remaining.length > 0) {
        await bots.appendDecision(trx, botId, now, 'unlinked_event', `${reason}; the bot stays for its ${remaining.length} other event(s)`, { event_ids: mine.map(linkLabel) });
        await this.#followRemainingLinks(trx, bot, remaining, now);
        outcome.unlinkedBots.push(botId);
        continue;
      }
      await cancelBotInTransaction(trx, bot, reason, now);
      const schedule = await bots.findScheduleOfBot(trx, botId);
      if (schedule) outcome.cancelledSchedules.push(schedule.id);
      outcome.cancelledBots.push(botId);
    }
    return outcome;
  }

  /** With an event gone, a shared bot joins for the earliest of the events it still serves. */
  async #followRemainingLinks(trx: Transaction<Schema>, bot: BotRow, remaining: BotEventRow[], now: number): Promise<void> {
    const meetingEndMs = Math.max(...remaining.map((l) => l.end_ms));
    if (meetingEndMs !== bot.meeting_end_ms) await trx.updateTable('bots').set({ meeting_end_ms: meetingEndMs, updated_at: now }).where('id', '=', bot.id).execute();
    if (bot.is_join_time_pinned) return;
    await moveBotJoinTime(trx, { ...bot, meeting_end_ms: meetingEndMs }, joinTimeFromLinks(remaining, now, this.#joinLeadMs), now, 'Join time is the earliest of the events still linked');
  }

  /** PATCH /calendar/scheduled/{bot_id}. */
  async updateBot(userId: string, botId: string, patch: BotPatch, origin: RequestOrigin = 'api'): Promise<BotUpdateResult> {
    const joinAtMs = checkPatch(patch);
    return this.#change(async (trx, now) => {
      const bot = await bots.findBot(trx, userId, botId, { engine: this.#database.engine, forUpdate: true });
      if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
      return this.#applyPatch(trx, bot, patch, joinAtMs, origin, now);
    });
  }

  /**
   * PATCH /calendar/schedule/{event_id} ("Reschedule Event"): the patch applies to the event's
   * live bot. For a series that is the bot of its soonest occurrence still waiting to join.
   */
  async rescheduleEvent(userId: string, eventId: string, patch: BotPatch, origin: RequestOrigin = 'api'): Promise<BotUpdateResult> {
    const joinAtMs = checkPatch(patch);
    return this.#change(async (trx, now) => {
      const scope = await this.#resolveScope(trx, userId, eventId);
      const eventLinks = await bots.listLiveLinksOfEvent(trx, scope.kind === 'single' ? scope.event.id : scope.series.id);
      const links = eventLinks.filter((l) => scope.kind !== 'occurrence' || l.occurrence_key === scope.key)
        .sort((a, b) => a.start_ms - b.start_ms || a.id - b.id);
      let chosenId: string | undefined;
      for (const link of links) {
        chosenId ??= link.bot_id;
        if ((await bots.findBotById(trx, link.bot_id))?.status === 'Scheduled') {
          chosenId = link.bot_id;
          break;
        }
      }
      if (!chosenId) throw new ApiError('bot_not_found', `Event ${eventId} has no scheduled bot`, { details: { field: 'event_id' } });
      // Only the chosen bot is locked; its status is checked again on the locked row.
      const bot = (await bots.findBotById(trx, chosenId, { engine: this.#database.engine, forUpdate: true }))!;
      return this.#applyPatch(trx, bot, patch, joinAtMs, origin, now);
    });
  }

  async #applyPatch(trx: Transaction<Schema>, bot: BotRow, patch: BotPatch, joinAtMs: number | null, origin: RequestOrigin, now: number): Promise<BotUpdateResult> {
    if (bot.status !== 'Scheduled') {
      throw new ApiError('bot_already_joined', `Bot ${bot.id} is ${bot.status}; only a Scheduled bot can be changed`, { details: { status: bot.status } });
    }
    // An ad-hoc bot's meeting has no end of its own: it is the join time plus the bot's meeting
    // length (src/services/scheduling/ad-hoc-bots.ts), so it moves with the join time.
    const isAdHoc = bot.source === AD_HOC_BOT_SOURCE && (await bots.listLiveLinksOfBot(trx, bot.id)).length === 0;
    if (joinAtMs !== null) {
      if (joinAtMs <= now) throw new ApiError('invalid_join_at', 'scheduled_join_time must be in the future', { details: { field: 'scheduled_join_time' } });
      if (!isAdHoc && joinAtMs >= bot.meeting_end_ms) {
        throw new ApiError('invalid_join_at', `scheduled_join_time is after the meeting ends (${formatInstant(bot.meeting_end_ms)})`, { details: { field: 'scheduled_join_time' } });
      }
    }
    const config = JSON.parse(bot.bot_config) as Record<string, unknown> & { bot_name?: string; custom_attributes?: Record<string, string> };
    const attributes = JSON.parse(bot.custom_attributes) as Record<string, string>;
    const updatedFields: string[] = [];
    if (joinAtMs !== null && joinAtMs !== bot.join_at_ms) updatedFields.push('scheduled_join_time');
    if (patch.bot_username !== undefined && patch.bot_username !== config.bot_name) {
      config.bot_name = patch.bot_username;
      updatedFields.push('bot_username');
    }
    if (patch.custom_attributes !== undefined && Object.entries(patch.custom_attributes).some(([k, v]) => attributes[k] !== v)) {
      const owned = bot.source === CALENDAR_BOT_SOURCE ? CALENDAR_BOT_OWN_ATTRIBUTES : new Set<string>();
      const merge = mergeCustomAttributes(attributes, patch.custom_attributes, owned, true);
      if (!merge.ok) {
        const field = merge.name === undefined ? 'custom_attributes' : `custom_attributes.${merge.name}`;
        throw new ApiError('validation_error', `${field}: ${merge.reason}`, { details: { field } });
      }
      Object.assign(attributes, merge.attributes);
      // The runtime receives bot_config; keep its copy of the attributes in step.
      config.custom_attributes = { ...config.custom_attributes, ...patch.custom_attributes };
      updatedFields.push('custom_attributes');
    }
    // A name or attributes the bot provider would refuse when the bot is handed over (or updated there).
    const changedForProvider = updatedFields.filter((f) => f === 'bot_username' || f === 'custom_attributes');
    if (this.#botProvider !== null && changedForProvider.length > 0) {
      const problem = findProviderInputProblem(this.#botProvider, { botName: config.bot_name ?? '', customAttributes: config.custom_attributes ?? {} });
      if (problem) {
        const field = problem.field === 'bot_name' ? 'bot_username' : 'custom_attributes';
        throw new ApiError('validation_error', `${field}: ${problem.problem}`, { details: { field } });
      }
    }
    for (const field of FLAG_FIELDS) {
      const value = patch[field];
      if (value !== undefined && config[field] !== value) {
        config[field] = value;
        updatedFields.push(field);
      }
    }
    // A join time the client names is theirs: calendar moves no longer override it. The stored
    // configuration says so too (join_at), as bot_config.join_at would have: whatever books the
    // bot again from it (auto-schedule linking a copy of the meeting) keeps the pin where it is.
    if (joinAtMs !== null) config.join_at = formatInstant(joinAtMs);
    const isPinned = joinAtMs !== null ? 1 : bot.is_join_time_pinned;
    const meetingEndMs = isAdHoc && joinAtMs !== null ? bot.meeting_end_ms + (joinAtMs - bot.join_at_ms) : bot.meeting_end_ms;
    const updated: BotRow = { ...bot, bot_config: JSON.stringify(config), custom_attributes: JSON.stringify(attributes), is_join_time_pinned: isPinned, meeting_end_ms: meetingEndMs, updated_at: now };
    if (updatedFields.length > 0 || isPinned !== bot.is_join_time_pinned) {
      await trx.updateTable('bots')
        .set({ bot_config: updated.bot_config, custom_attributes: updated.custom_attributes, is_join_time_pinned: isPinned, meeting_end_ms: meetingEndMs, updated_at: now })
        .where('id', '=', bot.id).execute();
    }
    if (updatedFields.length > 0) {
      await bots.appendDecision(trx, bot.id, now, 'updated', `Updated ${requestOriginWords(origin)}: ${updatedFields.join(', ')}`, { updated_fields: updatedFields, ...(joinAtMs !== null ? { join_time_pinned: true } : {}) });
    }
    const scheduleUpdated = joinAtMs !== null && await moveBotJoinTime(trx, updated, joinAtMs, now, `Join time set ${requestOriginWords(origin)}`);
    // A bot a provider already holds gets its new settings there too (one sync covers a move as well).
    const changedSettings = updatedFields.filter((f) => f !== 'scheduled_join_time');
    if (changedSettings.length > 0) await requestProviderSync(trx, updated, `Settings changed ${requestOriginWords(origin)}: ${changedSettings.join(', ')}`, now);
    return {
      success: true,
      message: updatedFields.length > 0 ? 'Scheduled bot updated successfully' : 'Nothing changed',
      bot_id: bot.id,
      updated_fields: updatedFields,
      schedule_updated: scheduleUpdated,
      scheduled_join_time: formatInstant(scheduleUpdated ? joinAtMs! : bot.join_at_ms),
    };
  }

  /**
   * DELETE /calendar/scheduled/{bot_id}: cancels the bot and its timer, for all of its events.
   * Cancelling a cancelled bot succeeds again; a launched or finished bot cannot be cancelled.
   */
  async cancelBot(userId: string, botId: string, origin: RequestOrigin = 'api'): Promise<BotDeleteResult> {
    return this.#change(async (trx, now) => {
      const bot = await bots.findBot(trx, userId, botId, { engine: this.#database.engine, forUpdate: true });
      if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
      const status = bot.status as BotStatus;
      if (status === 'Cancelled') return { message: 'Scheduled bot was already deleted', bot_id: bot.id };
      if (isActive(status)) {
        throw new ApiError('bot_active', `Bot ${bot.id} is ${status}: it is joining or in the meeting and cannot be cancelled`, { details: { status } });
      }
      if (status !== 'Scheduled') {
        throw new ApiError('bot_already_joined', `Bot ${bot.id} is ${status}: it has finished, so there is no schedule left to cancel`, { details: { status } });
      }
      // The API's word is its verb's (DELETE); the dashboard's button says Cancel bot.
      await cancelBotInTransaction(trx, bot, origin === 'dashboard' ? 'Cancelled from the dashboard' : 'Deleted through the API', now);
      return { message: 'Scheduled bot deleted successfully', bot_id: bot.id };
    });
  }

  /**
   * GET /bots/{bot_id}/remove_bot (MeetStream's leave call, a GET with an effect). A bot still
   * waiting to join is cancelled; a bot joining, in the meeting or leaving gets a stop command for
   * its runtime (sent by the dispatcher, like a stop after a calendar cancellation), once; a
   * cancelled bot answers again; a finished one is 409 bot_not_in_meeting.
   */
  async removeBot(userId: string, botId: string, origin: RequestOrigin = 'api'): Promise<RemoveBotResult> {
    return this.#change(async (trx, now) => {
      const bot = await bots.findBot(trx, userId, botId, { engine: this.#database.engine, forUpdate: true });
      if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
      const status = bot.status as BotStatus;
      if (status === 'Scheduled') {
        await cancelBotInTransaction(trx, bot, `Removed ${requestOriginWords(origin)} (remove_bot) before it joined`, now);
        return { message: 'Bot removed: it had not joined yet, so its schedule was cancelled', bot_id: bot.id, status: 'Cancelled' };
      }
      if (status === 'Cancelled') return { message: 'Bot was already removed', bot_id: bot.id, status };
      if (!isActive(status)) {
        throw new ApiError('bot_not_in_meeting', `Bot ${bot.id} is ${status}: it has already left the meeting`, { details: { status } });
      }
      const pendingStop = await trx.selectFrom('runtime_commands').select('id')
        .where('bot_id', '=', bot.id).where('action', '=', 'stop').where('state', '=', 'pending').executeTakeFirst();
      if (!pendingStop) await requestRuntimeCommand(trx, bot, 'stop', `Removed ${requestOriginWords(origin)} (remove_bot)`, now);
      // A launch waiting to be retried (the runtime has not taken it) is not tried again: it would
      // reach the runtime after the stop. The stop stays, should an unanswered attempt have started it.
      if (await isLaunchWaitingForRetry(trx, bot)) {
        await endLaunchNotAccepted(trx, bot, `Removed ${requestOriginWords(origin)} (remove_bot)`, now);
        return { message: 'Bot removed: its launch was waiting to be retried and is not tried again', bot_id: bot.id, status: 'Stopped' };
      }
      return { message: 'Bot is leaving the meeting: its runtime was asked to stop it', bot_id: bot.id, status };
    });
  }

  /**
   * DELETE /bots/{bot_id}/delete: the bot's stored data goes (its configuration, attributes, meeting
   * link, key, decision log, status reasons, sent webhooks and commands; its links to events are
   * ended and hidden, kept as the fact that the event had a bot); a
   * data_deletion webhook tells its callback_url. The row itself stays, scrubbed, because the
   * dispatcher and the schedule rows rely on bot rows never disappearing. A bot still waiting is
   * cancelled first; a bot in a meeting must be removed first (400 bot_active). Idempotent.
   */
  async deleteBotData(userId: string, botId: string, origin: RequestOrigin = 'api'): Promise<DeleteBotDataResult> {
    return this.#change(async (trx, now) => {
      let bot = await bots.findBot(trx, userId, botId, { engine: this.#database.engine, forUpdate: true });
      if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
      if (bot.data_deleted_at !== null) return { message: 'The bot\'s data was already deleted', bot_id: bot.id, deleted_objects: 0 };
      const status = bot.status as BotStatus;
      if (isActive(status)) {
        throw new ApiError('bot_active', `Bot ${bot.id} is ${status}: remove it from the meeting first (GET /bots/${bot.id}/remove_bot), then delete its data`, { details: { status } });
      }
      if (status === 'Scheduled') {
        // A provider's bot for it goes too (the sync needs only the provider's ids, kept below).
        await cancelBotInTransaction(trx, bot, `Cancelled because its data was deleted ${requestOriginWords(origin)}`, now);
        bot = (await bots.findBotById(trx, bot.id))!;
      }
      // Told before the scrub, which removes the callback_url; the notice itself carries no data.
      await enqueueStatusWebhook(trx, { ...bot, custom_attributes: '{}' }, { event: 'data_deletion', status: bot.status as BotStatus, message: 'The bot\'s stored data was deleted', statusCode: 200 }, now);
      let deleted = 0;
      const count = (result: { numDeletedRows?: bigint; numUpdatedRows?: bigint }) => Number(result.numDeletedRows ?? result.numUpdatedRows ?? 0n);
      deleted += count(await trx.deleteFrom('bot_decisions').where('bot_id', '=', bot.id).executeTakeFirst());
      deleted += count(await trx.updateTable('bot_status_changes').set({ reason: '' }).where('bot_id', '=', bot.id).where('reason', '!=', '').executeTakeFirst());
      // The links stay, ended: the event (or occurrence) had a bot, and auto-schedule and the
      // series top-ups never book one again for it (they would, with no trace left of this one).
      await trx.updateTable('bot_events').set({ is_live: 0, updated_at: now }).where('bot_id', '=', bot.id).where('is_live', '=', 1).execute();
      // Webhooks still to be sent keep their place in the bot's order; the sent ones go. The
      // records of the failing URLs that name them are locked first: the order of every writer of
      // both (a redelivery, the sender), so that none waits for another in a circle.
      const urlRecords = await lockUrlRecords(trx, this.#database.engine, userId, bot.id);
      deleted += count(await trx.deleteFrom('webhook_deliveries').where('bot_id', '=', bot.id).where('state', '!=', 'pending').executeTakeFirst());
      await forgetDeletedMessagesOfUrls(trx, userId, bot.id, urlRecords);
      deleted += count(await trx.deleteFrom('runtime_commands').where('bot_id', '=', bot.id).where('state', '!=', 'pending').executeTakeFirst());
      await forgetHeldDetails(trx, bot.id, now);
      const scrubbedKey = `deleted:${bot.id}`;
      await trx.updateTable('bots').set({
        meeting_url: '', meeting_identity: scrubbedKey, bot_config: '{}', custom_attributes: '{}',
        deduplication_key: scrubbedKey, deduplication_key_hash: deduplicationKeyHash(scrubbedKey), data_deleted_at: now, updated_at: now,
      }).where('id', '=', bot.id).execute();
      deleted += 1;
      await bots.appendDecision(trx, bot.id, now, 'data_deleted', `Stored data deleted ${requestOriginWords(origin)}`, { deleted_objects: deleted });
      return { message: 'The bot\'s stored data was deleted', bot_id: bot.id, deleted_objects: deleted };
    });
  }

  /** Event, series or occurrence for an id; another user's, or none, is 404. */
  async #resolveScope(trx: Transaction<Schema>, userId: string, eventId: string): Promise<EventScope> {
    const ref = parseOccurrenceId(eventId);
    if (ref) {
      // The occurrence itself need not exist any more (EXDATE, re-timed series): its links may.
      const series = await findEvent(trx, userId, ref.seriesId);
      if (!series || series.recurrence === null) throw new ApiError('event_not_found', `No event ${eventId}`);
      return { kind: 'occurrence', series, key: ref.key };
    }
    const event = await findEvent(trx, userId, eventId);
    if (!event) throw new ApiError('event_not_found', `No event ${eventId}`);
    if (event.recurrence !== null) return { kind: 'series', series: event };
    if (event.recurring_event_id !== null && event.original_start_ms !== null) {
      // An override instance stands for its occurrence, whose bots hang off the series.
      const series = await findEvent(trx, userId, event.recurring_event_id);
      if (series && series.recurrence !== null) return { kind: 'occurrence', series, key: occurrenceKey(event.original_start_ms) };
    }
    return { kind: 'single', event };
  }

  async #change<T>(work: (trx: Transaction<Schema>, now: number) => Promise<T>): Promise<T> {
    // A deadlock with a booking that locks the same rows in another order is run again.
    const result = await retryingLostRaces(() => this.#database.db.transaction().execute(async (trx) => {
      const value = await work(trx, this.#clock.now());
      return value;
    }));
    this.#signal.afterCommit();
    return result;
  }
}

interface UrlRecords {
  holds: { url: string; message_id: string | null; run_message_id: string | null }[];
  gone: { url: string; message_id: string }[];
}

/**
 * The records of the failing callback URLs of a user (webhook_url_holds) and of one of its bots
 * (gone_webhook_urls), locked on PostgreSQL (each in URL order) before any message row is: the
 * lock order of the outbox (docs/architecture.md).
 */
async function lockUrlRecords(trx: Transaction<Schema>, engine: Engine, userId: string, botId: string): Promise<UrlRecords> {
  let holds = trx.selectFrom('webhook_url_holds').select(['url', 'message_id', 'run_message_id']).where('user_id', '=', userId).orderBy('url');
  let gone = trx.selectFrom('gone_webhook_urls').select(['url', 'message_id']).where('bot_id', '=', botId).orderBy('url');
  if (engine === 'postgres') {
    holds = holds.forUpdate();
    gone = gone.forUpdate();
  }
  return { holds: await holds.execute(), gone: await gone.execute() };
}

/**
 * After a bot's sent webhooks are deleted: the records of its failing callback URLs
 * (webhook_url_holds, the user's; gone_webhook_urls, the bot's; `records`, locked before the
 * deletion) name a message to redeliver. A hold naming a deleted message names the latest
 * message of the user's left for its URL instead, or none when none is left (migration 055); a
 * hold naming none stays so (each message to its URL given up unsent names itself, until one
 * fails or is taken), its URL's messages not looked through again by each later deletion. A hold
 * whose run of failures began with a deleted message keeps no trace of it (run_message_id null:
 * any message failing next is another one). A hold never goes: the URL stays disabled, paused or
 * paced, its run of failures going on, until a message to it is taken, whatever is deleted. The
 * message named may be one still waiting: to a disabled URL it fails unsent when its turn comes,
 * its error naming itself to redeliver; to a URL that is not, it is sent when its turn comes, and
 * its answer is recorded as any other's (taken, the hold goes; failing, it is named again). A gone
 * line naming a deleted message names the latest of its bot's messages to the URL that failed
 * instead, or goes when none did (as migration 054 does): never a message still waiting, which
 * would then fail unsent for a 410 to itself. The bot's sent messages having gone, its line goes:
 * its waiting messages are then sent, and a receiver still gone refuses the first, which closes
 * the line again on it.
 */
async function forgetDeletedMessagesOfUrls(trx: Transaction<Schema>, userId: string, botId: string, records: UrlRecords): Promise<void> {
  const latestLeft = async (url: string, ofBot: boolean) => {
    let q = trx.selectFrom('webhook_deliveries').select('message_id').where('user_id', '=', userId).where('url', '=', url);
    if (ofBot) q = q.where('bot_id', '=', botId).where('state', '=', 'failed');
    return (await q.orderBy('id', 'desc').limit(1).executeTakeFirst())?.message_id;
  };
  const isLeft = async (messageId: string) => (await trx.selectFrom('webhook_deliveries').select('id').where('message_id', '=', messageId).executeTakeFirst()) !== undefined;
  for (const hold of records.holds) {
    const holdOf = trx.updateTable('webhook_url_holds').where('user_id', '=', userId).where('url', '=', hold.url);
    const isNamedLeft = hold.message_id === null || await isLeft(hold.message_id);
    if (!isNamedLeft) await holdOf.set({ message_id: (await latestLeft(hold.url, false)) ?? null }).execute();
    const isRunLeft = hold.run_message_id === null || (hold.run_message_id === hold.message_id ? isNamedLeft : await isLeft(hold.run_message_id));
    if (!isRunLeft) await holdOf.set({ run_message_id: null }).execute();
  }
  for (const line of records.gone) {
    if (await isLeft(line.message_id)) continue;
    const latest = await latestLeft(line.url, true);
    if (latest === undefined) await trx.deleteFrom('gone_webhook_urls').where('bot_id', '=', botId).where('url', '=', line.url).execute();
    else await trx.updateTable('gone_webhook_urls').set({ message_id: latest, user_id: userId }).where('bot_id', '=', botId).where('url', '=', line.url).execute();
  }
}

function isBotId(id: string): boolean {
  return id.startsWith('bot_');
}

/** Checks what the schema cannot: at least one field, and a join time that parses. */
function checkPatch(patch: BotPatch): number | null {
  if (!PATCHABLE_FIELDS.some((f) => patch[f] !== undefined)) {
    throw new ApiError('validation_error', `body: nothing to update; send at least one of ${PATCHABLE_FIELDS.join(', ')}`, { details: { field: 'body' } });
  }
  if (patch.scheduled_join_time === undefined) return null;
  const ms = parseInstant(patch.scheduled_join_time);
  if (ms === null) {
    throw new ApiError('invalid_join_at', 'scheduled_join_time must be an ISO 8601 date-time with an offset, e.g. 2026-11-24T15:00:00Z', { details: { field: 'scheduled_join_time' } });
  }
  return ms;
}

/**
 * What a refused `from_date: null` (on a series or an occurrence: a one-off event takes it) says,
 * by what leaving it out would do there: on a series, or beside cancel_all_occurrences, every
 * occurrence is unscheduled; on an occurrence asked for alone, that occurrence only.
 */
function nullFromDateAdvice(isSeries: boolean, cancelsAll: boolean): string {
  if (cancelsAll) return 'with cancel_all_occurrences; leave it out to unschedule every occurrence, or give the first date to unschedule';
  if (isSeries) return 'on a recurring series; leave it out to unschedule every occurrence, or give the first date to unschedule';
  return 'on an occurrence of a series; leave it out to unschedule this occurrence alone, or give a date to unschedule the series from then on';
}

function parseFromDate(value: string | null | undefined): FromDate | null {
  if (value === undefined || value === null) return null;
  const ms = parseInstant(value);
  if (ms !== null) return { kind: 'instant', ms };
  if (isIsoDate(value)) return { kind: 'date', date: value };
  throw new ApiError('invalid_time', 'from_date must be YYYY-MM-DD or an ISO 8601 date-time with an offset', { details: { field: 'from_date' } });
}

/**
 * A date means the start of that day where the series happens (not always midnight): in its zone's
 * own rules for an ICS series that has them (its timezone is then a stand-in of one offset, an
 * hour off half the year), else in its time zone (an Outlook instance's own, for its series).
 */
function fromDateToMs(fromDate: FromDate, series: EventRow | null, zoneWarnings: StoredZoneWarnings | null): number {
  if (fromDate.kind === 'instant') return fromDate.ms;
  if (series !== null && series.recurrence !== null && series.zone_rules !== null) {
    try {
      return compiledSeriesOf(series, zoneWarnings).localDayStartMs(fromDate.date);
    } catch (error) {
      // A series that cannot be read at all: its date is read in its time zone, as before.
      if (!(error instanceof RangeError)) throw error;
    }
  }
  return Temporal.PlainDate.from(fromDate.date).toZonedDateTime(series?.timezone ?? 'UTC').epochMilliseconds;
}

function linkLabel(link: BotEventRow): string {
  if (link.occurrence_key === '') return link.event_id;
  const startMs = parseOccurrenceKey(link.occurrence_key);
  return startMs === null ? link.event_id : occurrenceIdOf(link.event_id, startMs);
}

function unscheduleMessage(cancelled: number, unlinked: number, launched: number): string {
  if (cancelled + unlinked + launched === 0) return 'Nothing was scheduled for this event';
  const parts = [`${cancelled} bot(s) cancelled`];
  if (unlinked > 0) parts.push(`${unlinked} shared bot(s) kept for their other events`);
  if (launched > 0) parts.push(`${launched} bot(s) already launched were left as they are`);
  return parts.join('; ');
}
