// POST /calendar/schedule/{event_id}: where deduplication and sharing are decided, and where
// calendar changes move, re-link or cancel the bots of an event.
import type { Transaction } from 'kysely';
import type { BotProviderName } from '../../config.ts';
import { findProviderInputProblem, findProviderLinkProblem } from '../../domain/provider-input-limits.ts';
import type { Database, Engine } from '../../db/database.ts';
import type { BotEventRow, BotRow, EventRow, Schema } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { formatInstant, isIsoDate, parseInstant } from '../../lib/time.ts';
import { AUTO_SCHEDULE_KEY_PREFIX, CALENDAR_BOT_OWN_ATTRIBUTES, CALENDAR_BOT_SOURCE, mergeCustomAttributes, DEFAULT_BOT_NAME, DERIVED_KEY_PREFIX, applyBotConfigDefaults, isAutoScheduledBot, findBookingRefusal, deduplicationKeyHash, derivedDeduplicationKey, isValidDeduplicationKey, occurrenceDeduplicationKey, type AppliedBotConfig, type BotConfigInput } from '../../domain/bot-config.ts';
import { computeJoinTime, pinnedJoinTimeAfterMove } from '../../domain/join-time.ts';
import { linkForSharedBot, parseMeetingLink, scheduleGroupOf, type MeetingLink, type MeetingPlatform, type ScheduleGroup } from '../../domain/meeting-url.ts';
import { occurrenceKey, parseOccurrenceKey } from '../../domain/recurrence.ts';
import { occurrenceIdOf } from '../../domain/occurrence-id.ts';
import type { OutboundGuard } from '../../adapters/outbound-guard.ts';
import { listedIdOf, type CalendarEvents, type EffectiveOccurrence, type EventChangeListener, type SeriesOccurrences } from '../calendars/calendar-events.ts';
import { retryingLostRaces } from '../../db/race-retry.ts';
import { findEvent, findInstanceSlots, findOverride, listSeriesInstances, lockEvent, lockInstanceSeries } from '../../store/event-store.ts';
import { findInstanceOn, instanceChainPosition, instanceSeriesId, instanceSeriesOf, parseInstanceChainPosition, parseInstanceSeriesId, type InstanceSeries } from '../../domain/instance-series.ts';
import { parseOccurrenceId } from '../../domain/occurrence-id.ts';
import * as bots from '../../store/bot-store.ts';
import { scheduledReason, type ActionOrigin } from '../../domain/action-origin.ts';
import { autoScheduleKeyRefused, cancelBotInTransaction, endLaunchNotAccepted, followMeetingEnd, hasGoneToItsMeeting, insertScheduledBot, isLaunchWaitingForRetry, transitionBot, moveBotJoinTime, joinTimeFromLinks, type ScheduleChangeSignal } from './bot-lifecycle.ts';
import { findChain, saveChain } from '../../store/chain-store.ts';
import { findSeriesBooking, saveSeriesBooking, type SeriesBookingVersion } from '../../store/series-booking-store.ts';
import { requestRuntimeCommand } from './runtime-commands.ts';
import { requestProviderSync } from '../providers/provider-sync.ts';
import { noteCalendarHealthAtBooking } from '../calendars/connection-health.ts';
import { FAILURE_STATUS, isActive, type BotStatus } from '../../domain/bot-status.ts';
import { isDeclinedInvitation, isDeclinedOccurrence, ownerAnswerOf } from '../../domain/invitation.ts';
import { checkMeetingUrl } from '../../domain/meeting-url.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';

export interface ScheduleRequest {
  deduplication_key?: string;
  bot_config: BotConfigInput;
  occurrence_date?: string;
  schedule_all_occurrences?: boolean;
  occurrence_limit?: number;
  recurring_event?: boolean;
}

export interface ScheduledOccurrence {
  occurrence_start: string;
  bot_id: string;
  schedule_id: string;
  scheduled_time: string;
}

export interface FailedOccurrence {
  occurrence_start: string;
  code: string;
  error: string;
}

export interface ScheduleResponse {
  scheduled: boolean;
  schedule_id: string | null;
  schedule_group: ScheduleGroup | null;
  event_id: string;
  scheduled_time: string | null;
  bot_id: string | null;
  bot_config: AppliedBotConfig;
  message: string;
  updated_existing: boolean;
  /** The original start of the occurrence `bot_id` joins; null when that is no occurrence of a series. */
  occurrence_date: string | null;
  is_recurring_occurrence: boolean;
  master_event_id?: string;
  total_occurrences?: number;
  occurrences_scheduled?: number;
  occurrences_failed?: number;
  schedules_created?: ScheduledOccurrence[];
  failed_occurrences?: FailedOccurrence[];
  /** Chain mode (recurring_event: true): the series now books its next occurrence each time one is launched. */
  recurring_enabled?: boolean;
}

/** One event, or one occurrence of a series, as the thing a bot is scheduled for. */
interface ScheduleTarget {
  /** The id the event list shows for what the bot joins: the event, an occurrence, or the override that moved one. */
  listedEventId: string;
  linkEventId: string;
  occurrenceKey: string;
  /** The occurrence of a stored series the link names (its derived key's start); null for an event linked as itself. */
  originalStartMs: number | null;
  /**
   * The original start the bot's custom attributes name (occurrence_start_time, is_recurring):
   * originalStartMs, or for an event linked as itself that is still one occurrence of a series (an
   * occurrence of a series Rollcall does not store, an Outlook occurrence) that occurrence's.
   */
  attributedStartMs: number | null;
  startMs: number;
  endMs: number;
  isCancelled: boolean;
  meeting: MeetingLink | null;
  title: string | null;
  /** The connection of the event's calendar; null for an event written through the API. */
  calendarId: string | null;
}

export interface ScheduledOne {
  botId: string;
  scheduleId: string;
  scheduleGroup: ScheduleGroup;
  joinAtMs: number;
  updatedExisting: boolean;
  message: string;
  config: AppliedBotConfig;
  /** The bot's deduplication key (given, derived, or the batch's or chain's per occurrence). */
  deduplicationKey: string;
}

const DAY_MS = 86_400_000;

/**
 * What auto-schedule read when it decided on a meeting: the stored copy its rules read (the event,
 * or an occurrence's own copy, else its series) and when the user's settings were last saved. A
 * booking or a take-back is done only while both are still so; else the run that follows the
 * change decides again.
 */
export interface AutoScheduleRead {
  copyId: string;
  raw: string;
  settingsUpdatedAt: number;
}

export class BotScheduling implements EventChangeListener {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #events: CalendarEvents;
  readonly #joinLeadMs: number;
  readonly #guard: OutboundGuard;
  readonly #signal: ScheduleChangeSignal;
  readonly #isKeyRequired: boolean;

  constructor(deps: { database: Database; clock: Clock; events: CalendarEvents; joinLeadSeconds: number; guard: OutboundGuard; signal: ScheduleChangeSignal; isDeduplicationKeyRequired?: boolean; defaultBotName?: string; botProvider?: BotProviderName | null }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#joinLeadMs = deps.joinLeadSeconds * 1000;
    this.#guard = deps.guard;
    this.#signal = deps.signal;
    this.#isKeyRequired = deps.isDeduplicationKeyRequired ?? true;
    this.defaultBotName = deps.defaultBotName ?? DEFAULT_BOT_NAME;
    this.#botProvider = deps.botProvider ?? null;
  }

  /** The bot provider bots are handed to (BOT_RUNTIME), whose creation limits a booking is held to. */
  readonly #botProvider: BotProviderName | null;

  /** The name of a bot booked without bot_name (BOT_DEFAULT_NAME). */
  readonly defaultBotName: string;

  get joinLeadMs(): number {
    return this.#joinLeadMs;
  }

  /**
   * `options.ifNeverScheduled` (auto-schedule): refuse with event_already_scheduled, inside the
   * scheduling transaction, when the event or occurrence has ever had a bot, so that concurrent
   * runs cannot both book (or re-book) it, or when its invitation was declined meanwhile.
   * `options.origin`: where the request came from, which a new bot's status reason says (api by default).
   */
  async schedule(userId: string, eventId: string, request: ScheduleRequest, options: { ifNeverScheduled?: boolean; ifBatchUnchanged?: SeriesBookingVersion; asRead?: AutoScheduleRead; origin?: ActionOrigin } = {}): Promise<ScheduleResponse> {
    const origin = options.origin ?? 'api';
    const isChain = request.recurring_event === true;
    if (isChain && request.schedule_all_occurrences === true) {
      throw new ApiError('validation_error', 'recurring_event: cannot be combined with schedule_all_occurrences (one books each occurrence as the previous one is launched, the other books them all now)', { details: { field: 'recurring_event' } });
    }
    if (request.occurrence_date !== undefined && request.schedule_all_occurrences === true) {
      throw new ApiError('validation_error', 'occurrence_date: cannot be combined with schedule_all_occurrences (one books the occurrence it names, the other every upcoming one)', { details: { field: 'occurrence_date' } });
    }
    // null: no key given; with DEDUPLICATION_KEY_REQUIRED=false each target derives its own.
    const key = request.deduplication_key ?? request.bot_config.deduplication_key ?? null;
    if (key === null && this.#isKeyRequired) throw new ApiError('invalid_deduplication_key', 'deduplication_key is required, in the body or in bot_config (this service is set to refuse a booking without one: DEDUPLICATION_KEY_REQUIRED)', { details: { field: 'deduplication_key' } });
    if (key !== null && !isValidDeduplicationKey(key)) {
      throw new ApiError('invalid_deduplication_key', 'deduplication_key must be 1-2000 printable characters', { details: { field: 'deduplication_key' } });
    }
    // Auto-schedule's keys say a bot is auto-schedule's (one it may take back): a client's request cannot name one.
    if (key !== null && key.startsWith(AUTO_SCHEDULE_KEY_PREFIX) && !options.asRead) throw autoScheduleKeyRefused();
    const config = applyBotConfigDefaults(request.bot_config, this.defaultBotName);
    if (config.callback_url !== undefined) {
      const check = await this.#guard.checkUrl(config.callback_url);
      if (!check.ok) throw new ApiError('callback_url_not_allowed', `bot_config.callback_url ${check.reason}`, { details: { field: 'bot_config.callback_url' } });
    }
    const occurrenceDate = request.occurrence_date;
    if (occurrenceDate !== undefined && parseInstant(occurrenceDate) === null && !isIsoDate(occurrenceDate)) {
      throw new ApiError('invalid_occurrence_date', 'occurrence_date must be YYYY-MM-DD or an ISO 8601 date-time with an offset', { details: { field: 'occurrence_date' } });
    }

    const response = await retryingLostRaces(() => this.#database.transact(async (trx) => {
      await this.#lockInstanceSeriesFirst(trx, userId, eventId, request, options);
      // Chain mode locks the series' chain first: the chain loop takes the same locks in the same
      // order (chain, event, bots), so the two never wait on each other in a circle.
      const chainSeriesId = isChain ? await this.#lockChainOf(trx, userId, eventId) : null;
      const locked = await this.#lockTarget(trx, userId, eventId);
      const now = this.#clock.now();
      const resolved = await this.#events.resolveTarget(trx, userId, eventId, locked);
      if (options.ifNeverScheduled && resolved.kind !== 'series') {
        const [linkEventId, occurrenceKey] = resolved.kind === 'single' ? [resolved.event.id, ''] : [resolved.series.id, resolved.occurrence.key];
        // The event (and its series) is locked above, so a run that books it in the meantime has
        // committed before this check, or waits until this one has.
        if (await bots.hasHadBot(trx, linkEventId, occurrenceKey)) throw new ApiError('event_already_scheduled', `Event ${eventId} has already had a bot`);
        // Declined since auto-schedule read it (a sync that committed meanwhile, under this lock).
        const isDeclined = resolved.kind === 'single' ? isDeclinedInvitation(resolved.event.raw) : isDeclinedOccurrence(ownerAnswerOf(resolved.series.raw), resolved.occurrence.override);
        if (isDeclined) throw new ApiError('event_already_scheduled', `Event ${eventId} was declined`);
        // Changed since auto-schedule read it (the meeting, or the rules): the run after that change decides.
        const copy = resolved.kind === 'single' ? resolved.event : resolved.occurrence.override ?? resolved.series;
        if (options.asRead && !(await isAsRead(trx, userId, copy, options.asRead))) throw new ApiError('event_already_scheduled', `Event ${eventId} changed since auto-schedule read it`);
      }
      if (options.ifBatchUnchanged) {
        // A top-up books for a batch as it read it; unscheduled (or booked again) meanwhile, it waits for the next round.
        const { seriesId, baseKey, version } = options.ifBatchUnchanged;
        const batch = await findSeriesBooking(trx, seriesId, baseKey, { engine: this.#database.engine, forUpdate: true });
        if (!batch || batch.version !== version) throw new ApiError('event_already_scheduled', `The batch of series ${seriesId} changed while its top-up was read`);
      }
      const wantsOccurrences = occurrenceDate !== undefined || request.schedule_all_occurrences === true;
      // An Outlook occurrence stands for its series (it has no row of its own) with any series option.
      const instanceSeries = resolved.kind === 'single' ? instanceSeriesOf(resolved.event) : null;
      if (resolved.kind === 'single' && instanceSeries) {
        if (request.schedule_all_occurrences === true) return this.#scheduleAllInstances(trx, userId, eventId, instanceSeries, key, config, origin, request.occurrence_limit ?? 52, now);
        if (occurrenceDate !== undefined || isChain) return this.#scheduleInstance(trx, userId, eventId, resolved.event, instanceSeries, { occurrenceDate, chainSeriesId }, key, config, origin, now);
      }
      // An occurrence id with a series option widens to its series (as for an Outlook occurrence
      // above, and as unscheduling does): the ids the event list gives are occurrence ids.
      const target = resolved.kind === 'occurrence' && wantsOccurrences ? { kind: 'series' as const, series: resolved.series } : resolved;
      if (target.kind !== 'series' && wantsOccurrences) {
        throw new ApiError('event_not_recurring', `${occurrenceDate !== undefined ? 'occurrence_date' : 'schedule_all_occurrences'}: event ${eventId} is not a recurring series`, { details: { field: occurrenceDate !== undefined ? 'occurrence_date' : 'schedule_all_occurrences' } });
      }
      if (target.kind === 'single') {
        if (isChain) throw new ApiError('event_not_recurring', `recurring_event: event ${eventId} is not a recurring series`, { details: { field: 'recurring_event' } });
        const one = await this.#scheduleOne(trx, userId, eventId, singleTarget(target.event), key, config, origin, now);
        // An Outlook occurrence named alone is still an occurrence, answered as #scheduleInstance answers it.
        if (instanceSeries) return { ...singleResponse(eventId, one), occurrence_date: formatInstant(target.event.start_ms), is_recurring_occurrence: true, master_event_id: eventId };
        // So is an occurrence of a series that is not stored (an invitation to one occurrence of
        // someone else's series, a feed's override whose series is not in it): its original start
        // is known, its series is not, so the answer has no master_event_id.
        if (target.event.original_start_ms !== null) return { ...singleResponse(eventId, one), occurrence_date: formatInstant(target.event.original_start_ms), is_recurring_occurrence: true };
        return singleResponse(eventId, one);
      }
      if (target.kind === 'occurrence') {
        const one = await this.#scheduleOne(trx, userId, eventId, occurrenceTarget(target.occurrence, target.series), isChain ? chainKey(key, target.occurrence.key) : key, config, origin, now);
        if (isChain) await this.#startChain(trx, userId, chainSeriesId ?? target.series.id, key, config, one, target.occurrence.key, true, now);
        return { ...singleResponse(eventId, one), occurrence_date: formatInstant(target.occurrence.originalStartMs), is_recurring_occurrence: true, master_event_id: target.series.id, ...(isChain ? { recurring_enabled: true } : {}) };
      }
      const series = target.series;
      if (series.is_deleted || series.status === 'cancelled') throw new ApiError('event_cancelled', `Event ${eventId} is cancelled`, { details: { field: 'event_id' } });
      if (request.schedule_all_occurrences === true) {
        return this.#scheduleAll(trx, userId, eventId, series, key, config, origin, request.occurrence_limit ?? 52, now);
      }
      const occurrence = occurrenceDate !== undefined
        ? await this.#occurrenceOnDate(trx, userId, series, occurrenceDate, isChain ? null : key, now)
        : (isChain ? await this.#chainPosition(trx, userId, series, now) : null) ?? await this.#nextOccurrence(trx, userId, series, now);
      const one = await this.#scheduleOne(trx, userId, eventId, occurrenceTarget(occurrence, series), isChain ? chainKey(key, occurrence.key) : key, config, origin, now);
      if (isChain) await this.#startChain(trx, userId, series.id, key, config, one, occurrence.key, occurrenceDate !== undefined, now);
      return { ...singleResponse(eventId, one), occurrence_date: formatInstant(occurrence.originalStartMs), is_recurring_occurrence: true, master_event_id: series.id, ...(isChain ? { recurring_enabled: true } : {}) };
    }));
    this.#signal.afterCommit();
    return response;
  }

  /**
   * Books one occurrence of a series inside the caller's transaction (the chain loop does, with the
   * chain row already locked): the same rules and the same writes as a schedule request. Throws
   * ApiError, before writing anything, when the occurrence cannot be booked.
   */
  async bookOccurrence(trx: Transaction<Schema>, userId: string, series: EventRow, occurrence: EffectiveOccurrence, key: string | null, config: AppliedBotConfig, now: number): Promise<ScheduledOne> {
    await lockEvent(trx, this.#database.engine, userId, series.id);
    return this.#scheduleOne(trx, userId, occurrenceIdOf(series.id, occurrence.originalStartMs), occurrenceTarget(occurrence, series), key, config, 'chain', now);
  }

  /**
   * A request with a series option through an Outlook occurrence (a batch, occurrence_date, chain
   * mode) and a batch's top-ups lock other instances than the one named. With no series row to
   * lock first, two of them through different instances would take the same locks in different
   * orders; they take the series' own lock first (lockInstanceSeries), so they run one after the
   * other.
   */
  async #lockInstanceSeriesFirst(trx: Transaction<Schema>, userId: string, eventId: string, request: ScheduleRequest, options: { ifBatchUnchanged?: SeriesBookingVersion }): Promise<void> {
    if (this.#database.engine !== 'postgres') return;
    let series = options.ifBatchUnchanged ? parseInstanceSeriesId(options.ifBatchUnchanged.seriesId) : null;
    const hasSeriesOption = request.schedule_all_occurrences === true || request.occurrence_date !== undefined || request.recurring_event === true;
    if (series === null && hasSeriesOption && !parseOccurrenceId(eventId)) {
      const named = await findEvent(trx, userId, eventId);
      series = named ? instanceSeriesOf(named) : null;
    }
    if (series !== null) await lockInstanceSeries(trx, this.#database.engine, series);
  }

  /** Books one instance of an Outlook series inside the caller's transaction (the chain loop does), as bookOccurrence does an occurrence. */
  async bookInstance(trx: Transaction<Schema>, userId: string, instanceId: string, key: string | null, config: AppliedBotConfig, now: number): Promise<ScheduledOne> {
    const instance = await lockEvent(trx, this.#database.engine, userId, instanceId);
    if (!instance) throw new ApiError('event_not_found', `No event ${instanceId}`);
    return this.#scheduleOne(trx, userId, instanceId, singleTarget(instance), key, config, 'chain', now);
  }

  /** The series an id names (itself, or the series of an occurrence or override), with its chain row locked. */
  async #lockChainOf(trx: Transaction<Schema>, userId: string, eventId: string): Promise<string | null> {
    const seriesId = parseOccurrenceId(eventId)?.seriesId ?? eventId;
    const named = await findEvent(trx, userId, seriesId);
    if (!named) return null;
    const instances = instanceSeriesOf(named);
    const id = named.recurrence !== null ? named.id : instances ? instanceSeriesId(instances) : named.recurring_event_id;
    // A single event has no chain; the request is refused once the event is resolved.
    if (id === null) return null;
    // An Outlook series' own lock comes before its chain row, as on every path that takes both.
    if (instances) await lockInstanceSeries(trx, this.#database.engine, instances);
    await findChain(trx, id, { engine: this.#database.engine, forUpdate: true });
    return id;
  }

  /**
   * Records (or replaces) the chain of a series, with the bot just booked as its current one. An
   * occurrence named starts the chain there, with nothing passed behind it (those before it the
   * client left out); the request sent again to a running chain, naming none, keeps the
   * occurrences it passed for want of a link, still to be booked when they can be.
   */
  async #startChain(trx: Transaction<Schema>, userId: string, seriesId: string, key: string | null, config: AppliedBotConfig, booked: ScheduledOne, occurrenceKey: string, isNamed: boolean, now: number): Promise<void> {
    const existing = await findChain(trx, seriesId);
    // The chain books every later occurrence with this configuration: a join_at given for this
    // booking pins this bot alone (later ones would be refused as joining in the past).
    const { join_at: _pinned, ...chainConfig } = config;
    // An Outlook series' chain records the slot of the instance booked as served (recurring-chains.ts);
    // an instance whose slot is not known (first listed moved) adds none.
    const position = parseInstanceSeriesId(seriesId) ? parseInstanceChainPosition(occurrenceKey) : null;
    const slot = position === null ? undefined : (await findInstanceSlots(trx, [position.instanceId])).get(position.instanceId);
    const servedBefore = existing?.served_slots ? (JSON.parse(existing.served_slots) as [number, string][]).filter(([s]) => s !== slot) : [];
    await saveChain(trx, {
      series_event_id: seriesId, user_id: userId, is_enabled: 1, deduplication_key: key, bot_config: JSON.stringify(chainConfig),
      current_bot_id: booked.botId, current_occurrence_key: occurrenceKey,
      passed_keys: existing?.is_enabled === 1 && !isNamed ? existing.passed_keys : null,
      // An Outlook series' chain starts at the instance booked: those starting before it the client left out.
      floor_start_ms: parseInstanceSeriesId(seriesId) ? parseInstanceChainPosition(occurrenceKey)?.startMs ?? null : null,
      served_slots: position === null ? existing?.served_slots ?? null : JSON.stringify(slot === undefined ? servedBefore : [...servedBefore, [slot, booked.botId]].slice(-50)),
      next_check_at_ms: null, last_error: null, created_at: existing?.created_at ?? now, updated_at: now,
    });
    if (existing?.is_enabled !== 1 || existing.current_bot_id !== booked.botId) {
      await bots.appendDecision(trx, booked.botId, now, 'chain_started', `Chain mode: each time this series' booked occurrence is launched (or ends), the next one is booked with the same configuration`, { series_event_id: seriesId });
    }
  }

  /**
   * Locks the event being scheduled (and its series, for an occurrence or an override) before it
   * is read, so that a concurrent delete, move or cancel of it runs entirely before or entirely
   * after this request: never between the read and the link (see lockEvent).
   */
  async #lockTarget(trx: Transaction<Schema>, userId: string, eventId: string): Promise<Map<string, EventRow>> {
    const engine = this.#database.engine;
    const locked = new Map<string, EventRow>();
    if (engine !== 'postgres') return locked;
    const seriesId = parseOccurrenceId(eventId)?.seriesId;
    const named = await lockEvent(trx, engine, userId, seriesId ?? eventId);
    if (named) locked.set(named.id, named);
    if (!seriesId && named?.recurring_event_id) {
      const series = await lockEvent(trx, engine, userId, named.recurring_event_id);
      if (series) locked.set(series.id, series);
    }
    return locked;
  }

  /**
   * The occurrence occurrence_date names. A date picks by the clock (the day's first occurrence
   * still to come), so the same request sent again under the same key keeps to the occurrence
   * that key's live bot was booked for on that day: a retry after that one has begun would
   * otherwise name the next one, and move the bot in the meeting there.
   */
  async #occurrenceOnDate(trx: Transaction<Schema>, userId: string, series: EventRow, occurrenceDate: string, key: string | null, now: number): Promise<EffectiveOccurrence> {
    const instant = parseInstant(occurrenceDate);
    let found: EffectiveOccurrence | null = null;
    if (instant !== null) {
      found = await this.#events.findEffectiveOccurrence(trx, userId, series, instant);
    } else {
      const view = await this.#events.seriesOccurrences(trx, userId, series);
      // Past the date's end in any time zone, and past every override that could be moved onto it.
      const pastTheDateMs = Date.parse(`${occurrenceDate}T00:00:00Z`) + 2 * DAY_MS;
      await view.walkUntil(Math.max(pastTheDateMs, view.lastOverriddenStartMs + 1), new EventLoopPacer());
      const booked = key === null ? undefined : await bots.findLiveBotByKey(trx, this.#database.engine, userId, key);
      const bookedOnDate = booked === undefined ? [] : (await bots.listLiveLinksOfBot(trx, booked.id))
        .filter((l) => l.event_id === series.id).map((l) => parseOccurrenceKey(l.occurrence_key)).filter((ms): ms is number => ms !== null)
        .map((ms) => view.find(ms)).filter((o): o is EffectiveOccurrence => o !== null && o !== undefined && view.localDateOf(o.startMs) === occurrenceDate);
      found = bookedOnDate[0] ?? view.onLocalDate(occurrenceDate, now);
    }
    if (!found) throw new ApiError('occurrence_not_found', `occurrence_date: series ${series.id} has no occurrence at ${occurrenceDate}`, { details: { field: 'occurrence_date' } });
    return found;
  }

  /**
   * Where a series' chain stands, for a chain-mode request that names no occurrence: the
   * occurrence its booked bot waits for, when the chain is on and that bot has not launched. The
   * request sent again (a client retrying, or setting the chain up at every start) then updates
   * that bot. Resolved as "the next occurrence" it would take the chain back to the occurrence
   * under way, or to one whose bot the client cancelled (the chain had moved past it), and book
   * it again: two or three chain bots at once. Null: the request books the next occurrence.
   */
  async #chainPosition(trx: Transaction<Schema>, userId: string, series: EventRow, now: number): Promise<EffectiveOccurrence | null> {
    const chain = await findChain(trx, series.id);
    if (!chain || chain.is_enabled !== 1 || chain.current_bot_id === null || chain.current_occurrence_key === null) return null;
    const booked = await bots.findBotById(trx, chain.current_bot_id);
    const originalStartMs = parseOccurrenceKey(chain.current_occurrence_key);
    if (originalStartMs === null) return null;
    if (booked && booked.status === 'Scheduled') {
      const occurrence = await this.#events.findEffectiveOccurrence(trx, userId, series, originalStartMs);
      if (occurrence && occurrence.status !== 'cancelled' && occurrence.endMs > now) return occurrence;
    }
    // Its bot launched, cancelled or gone, and the chain loop not past it yet (it runs within
    // seconds): the request books what the loop would, the first occurrence after the chain's
    // position, never the one under way or one the client cancelled the bot of.
    const upcoming = await this.#events.upcomingOccurrences(trx, userId, series, now, 100, { refuseUncountable: true });
    const next = upcoming.find((o) => o.status !== 'cancelled' && o.originalStartMs > originalStartMs);
    if (!next) throw new ApiError('event_ended', `Series ${series.id} has no upcoming occurrence after the one its chain booked last`);
    return next;
  }

  async #nextOccurrence(trx: Transaction<Schema>, userId: string, series: EventRow, now: number): Promise<EffectiveOccurrence> {
    const upcoming = await this.#events.upcomingOccurrences(trx, userId, series, now, 100, { refuseUncountable: true });
    const next = upcoming.find((o) => o.status !== 'cancelled');
    if (!next) throw new ApiError('event_ended', `Series ${series.id} has no upcoming occurrence`);
    return next;
  }

  /** `eventId`: the id named, the series' or one of its occurrences' (the answer's event_id; master_event_id is the series'). */
  async #scheduleAll(trx: Transaction<Schema>, userId: string, eventId: string, series: EventRow, key: string | null, config: AppliedBotConfig, origin: ActionOrigin, limit: number, now: number): Promise<ScheduleResponse> {
    // The batch row before any bot, the order an unscheduling and a top-up take them in.
    await findSeriesBooking(trx, series.id, key ?? '', { engine: this.#database.engine, forUpdate: true });
    const upcoming = await this.#events.upcomingOccurrences(trx, userId, series, now, limit, { refuseUncountable: true });
    if (upcoming.length === 0) throw new ApiError('event_ended', `Series ${series.id} has no upcoming occurrence`);
    // Each occurrence gets its own bot: the key is made unique per occurrence.
    return this.#bookBatch(trx, userId, { seriesId: series.id, eventId, masterEventId: series.id, key, config, limit }, upcoming.map((occurrence) => ({
      startMs: occurrence.originalStartMs,
      book: async () => this.#scheduleOne(trx, userId, occurrenceIdOf(series.id, occurrence.originalStartMs), occurrenceTarget(occurrence, series), await batchKeyOf(trx, series.id, occurrence.key, key), config, origin, now),
    })), now);
  }

  /**
   * schedule_all_occurrences on an instance of a series the provider delivers expanded (Outlook):
   * each stored instance of the series not yet ended, up to the limit, gets its own bot, under the
   * key plus the instance's event id (stable while the instance exists, moved or not). The batch is
   * recorded like a series row's, so instances that enter the sync window later are topped up.
   * Only the instances inside the sync window exist: the response counts those.
   */
  async #scheduleAllInstances(trx: Transaction<Schema>, userId: string, eventId: string, series: InstanceSeries, key: string | null, config: AppliedBotConfig, origin: ActionOrigin, limit: number, now: number): Promise<ScheduleResponse> {
    const batchId = instanceSeriesId(series);
    // After the series' own lock (#lockInstanceSeriesFirst) and the instance named: the batch row, then the other instances.
    await findSeriesBooking(trx, batchId, key ?? '', { engine: this.#database.engine, forUpdate: true });
    const upcoming = (await listSeriesInstances(trx, userId, series)).filter((i) => i.end_ms > now).slice(0, limit);
    if (upcoming.length === 0) throw new ApiError('event_ended', `Event ${eventId} has no upcoming occurrence`);
    // Each instance is its own event: locked (in id order) before it is read again and linked.
    const locked = new Map<string, EventRow>();
    for (const id of upcoming.map((i) => i.id).sort()) locked.set(id, (await lockEvent(trx, this.#database.engine, userId, id))!);
    // No series row: the instance named stands for its series (master_event_id), as it does for cancel_all_occurrences and from_date.
    return this.#bookBatch(trx, userId, { seriesId: batchId, eventId, masterEventId: eventId, key, config, limit }, upcoming.map((listed) => locked.get(listed.id)!).map((instance) => ({
      startMs: instance.start_ms,
      book: async () => {
        const instanceKey = key !== null ? occurrenceDeduplicationKey(key, instance.id) : await derivedKeyOfLiveBot(trx, instance.id);
        if (instanceKey === null) await refuseDerivedKeyOfMovedBot(trx, this.#database.engine, userId, instance, config);
        return this.#scheduleOne(trx, userId, instance.id, singleTarget(instance), instanceKey, config, origin, now);
      },
    })), now);
  }

  /**
   * An Outlook occurrence named with occurrence_date (the series' instance on that date or at that
   * instant) or with recurring_event (chain mode from that instance): booked as the event it is,
   * under the key as given, or in chain mode under the key plus its event id, the series' later
   * instances following.
   */
  async #scheduleInstance(trx: Transaction<Schema>, userId: string, eventId: string, named: EventRow, series: InstanceSeries, options: { occurrenceDate: string | undefined; chainSeriesId: string | null }, key: string | null, config: AppliedBotConfig, origin: ActionOrigin, now: number): Promise<ScheduleResponse> {
    let instance = named;
    if (options.occurrenceDate !== undefined) {
      const instant = parseInstant(options.occurrenceDate);
      let instances = await listSeriesInstances(trx, userId, series);
      // Sent again under its key: the day's instance that key's live bot was booked for, as for a
      // series row's occurrence (#occurrenceOnDate), not the next one once that one has begun.
      const booked = instant === null && key !== null && options.chainSeriesId === null ? await bots.findLiveBotByKey(trx, this.#database.engine, userId, key) : undefined;
      if (booked) {
        const linked = new Set((await bots.listLiveLinksOfBot(trx, booked.id)).map((l) => l.event_id));
        const own = instances.filter((i) => linked.has(i.id));
        if (findInstanceOn(own, { isoDate: options.occurrenceDate }, named.timezone ?? 'UTC', now)) instances = own;
      }
      const found = findInstanceOn(instances, instant !== null ? { instantMs: instant } : { isoDate: options.occurrenceDate }, named.timezone ?? 'UTC', now);
      if (!found) throw new ApiError('occurrence_not_found', `occurrence_date: the series of event ${eventId} has no occurrence at ${options.occurrenceDate}`, { details: { field: 'occurrence_date' } });
      instance = (await lockEvent(trx, this.#database.engine, userId, found.id))!;
    }
    const isChain = options.chainSeriesId !== null;
    const one = await this.#scheduleOne(trx, userId, instance.id, singleTarget(instance), isChain ? chainKey(key, instance.id) : key, config, origin, now);
    if (isChain) await this.#startChain(trx, userId, options.chainSeriesId!, key, config, one, instanceChainPosition(instance), true, now);
    return { ...singleResponse(eventId, one), occurrence_date: formatInstant(instance.start_ms), is_recurring_occurrence: true, master_event_id: eventId, ...(isChain ? { recurring_enabled: true } : {}) };
  }

  /**
   * Books each occurrence of a schedule_all_occurrences batch (one that fails does not stop the
   * others), records the batch so that occurrences appearing later inside its range get their bots
   * too (auto-schedule.ts), and answers for all of them.
   */
  async #bookBatch(trx: Transaction<Schema>, userId: string, batch: { seriesId: string; eventId: string; masterEventId: string; key: string | null; config: AppliedBotConfig; limit: number }, items: { startMs: number; book: () => Promise<ScheduledOne> }[], now: number): Promise<ScheduleResponse> {
    const created: ScheduledOccurrence[] = [];
    const failed: FailedOccurrence[] = [];
    let first: ScheduledOne | null = null;
    let allUpdated = true;
    // On SQLite each booking runs synchronously: hundreds of them would hold the event loop for
    // as many hundred milliseconds. Launches already confirmed, webhooks and requests' parsing get
    // turns between slices (other transactions still wait for this one: it is all or nothing).
    const pacer = new EventLoopPacer();
    for (const item of items) {
      await pacer.pace();
      try {
        const one = await item.book();
        first ??= one;
        allUpdated &&= one.updatedExisting;
        created.push({ occurrence_start: formatInstant(item.startMs), bot_id: one.botId, schedule_id: one.scheduleId, scheduled_time: formatInstant(one.joinAtMs) });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        failed.push({ occurrence_start: formatInstant(item.startMs), code: error.code, error: error.message });
      }
    }
    if (created.length > 0) {
      await saveSeriesBooking(trx, { series_event_id: batch.seriesId, base_key: batch.key ?? '', user_id: userId, bot_config: JSON.stringify(batch.config), from_ms: now, occurrence_count: batch.limit }, now);
    }
    return batchResponse(batch.eventId, batch.masterEventId, items.length, first, batch.config, created, failed, allUpdated);
  }

  /**
   * Schedules, updates or shares the bot for one target. Throws ApiError before writing anything.
   * A null key is derived from the meeting and the occurrence's original start (the event's start
   * for a single event), exactly as if the client had sent it.
   */
  async #scheduleOne(trx: Transaction<Schema>, userId: string, eventId: string, target: ScheduleTarget, givenKey: string | null, config: AppliedBotConfig, origin: ActionOrigin, now: number): Promise<ScheduledOne> {
    if (target.isCancelled) throw new ApiError('event_cancelled', `Event ${eventId} is cancelled or deleted`, { details: { field: 'event_id' } });
    let meeting = target.meeting;
    if (config.meeting_url !== undefined) {
      meeting = parseMeetingLink(config.meeting_url);
      if (!meeting) throw new ApiError('invalid_meeting_url', 'bot_config.meeting_url must be an absolute http(s) URL', { details: { field: 'bot_config.meeting_url' } });
    }
    if (!meeting) throw new ApiError('no_meeting_url', `Event ${eventId} has no meeting URL; pass bot_config.meeting_url`, { details: { field: 'bot_config.meeting_url' } });
    // The runtime opens this URL from its own network: public hosts only.
    const refusal = findBookingRefusal(meeting.url, meeting.platform, config.automatic_leave);
    if (refusal?.kind === 'meeting_url') {
      const isGiven = config.meeting_url !== undefined;
      throw new ApiError('invalid_meeting_url', isGiven ? `bot_config.meeting_url ${refusal.reason}` : `The meeting_url of event ${eventId} ${refusal.reason}; pass bot_config.meeting_url`, { details: { field: isGiven ? 'bot_config.meeting_url' : 'meeting_url' } });
    }
    if (refusal?.kind === 'automatic_leave') throw new ApiError('invalid_bot_config', refusal.message, { details: { field: refusal.message.split(' ')[0] } });
    this.#checkProviderInput(eventId, config, meeting);
    let requestedJoinAtMs: number | null = null;
    if (config.join_at !== undefined) {
      requestedJoinAtMs = parseInstant(config.join_at);
      if (requestedJoinAtMs === null) throw new ApiError('invalid_join_at', 'bot_config.join_at must be an ISO 8601 date-time with an offset', { details: { field: 'bot_config.join_at' } });
    }
    const join = computeJoinTime({ startMs: target.startMs, endMs: target.endMs, nowMs: now, joinLeadMs: this.#joinLeadMs, requestedJoinAtMs });
    const key = givenKey ?? derivedDeduplicationKey(meeting.identity, target.originalStartMs ?? target.startMs);
    const ended = target.originalStartMs === null ? `Event ${eventId} has already ended` : `The occurrence of ${eventId} at ${formatInstant(target.startMs)} has already ended`;
    if (!join.ok) throw new ApiError(join.code, join.code === 'invalid_join_at' ? join.message : ended, { details: { field: join.code === 'invalid_join_at' ? 'bot_config.join_at' : 'event_id' } });

    const existingLink = await bots.findLiveLink(trx, target.linkEventId, target.occurrenceKey);
    if (existingLink && existingLink.deduplication_key !== key) {
      // A series booked whole keys each occurrence's bot "<key>@<occurrence>": the same key sent
      // for one occurrence names the booking that covers it, not another client's.
      const coveringKey = existingLink.deduplication_key.startsWith(`${key}@`);
      const message = coveringKey
        ? `The occurrence of event ${eventId} already has a bot from the series booking under this deduplication_key (schedule_all_occurrences); change it with PATCH /calendar/scheduled_bots/{bot_id}`
        : `Event ${eventId} already has a bot under another deduplication_key`;
      throw new ApiError('event_already_scheduled', message, { extra: { bot_id: existingLink.bot_id } });
    }
    const attributes = customAttributesFor(config, key, target);
    const existing = await bots.findLiveBotByKey(trx, this.#database.engine, userId, key);
    if (!existing) {
      return this.#createBot(trx, userId, eventId, target, key, config, meeting, attributes, join.joinAtMs, requestedJoinAtMs !== null, origin, now);
    }
    if (existing.meeting_identity !== meeting.identity) {
      throw new ApiError('deduplication_conflict', 'deduplication_key is already used by a bot for a different meeting', { extra: { bot_id: existing.id } });
    }
    const schedule = (await bots.findScheduleOfBot(trx, existing.id))!;
    const group = scheduleGroupOf(existing.meeting_platform as MeetingPlatform | null);
    if (existing.status !== 'Scheduled') {
      // Already launched: the runtime has it. Record the extra event, change nothing else.
      if (!existingLink) await this.#insertLink(trx, existing, target, now);
      return { botId: existing.id, scheduleId: schedule.id, scheduleGroup: group, joinAtMs: existing.join_at_ms, updatedExisting: true, message: 'The bot has already been launched; its configuration was not changed', config: JSON.parse(existing.bot_config) as AppliedBotConfig, deduplicationKey: key };
    }

    if (existingLink) {
      await trx.updateTable('bot_events').set({ start_ms: target.startMs, end_ms: target.endMs, updated_at: now }).where('id', '=', existingLink.id).execute();
    } else {
      await this.#insertLink(trx, existing, target, now);
    }
    const links = await bots.listLiveLinksOfBot(trx, existing.id);
    const isPinned = requestedJoinAtMs !== null;
    const joinAtMs = isPinned ? requestedJoinAtMs! : joinTimeFromLinks(links, now, this.#joinLeadMs);
    const merge = mergeCustomAttributes(JSON.parse(existing.custom_attributes) as Record<string, string>, config.custom_attributes ?? {}, CALENDAR_BOT_OWN_ATTRIBUTES, false);
    if (!merge.ok) throw new ApiError('invalid_bot_config', `bot_config.custom_attributes: ${merge.reason}`, { details: { field: 'bot_config.custom_attributes' } });
    const updated: BotRow = {
      ...existing,
      bot_config: JSON.stringify(config),
      custom_attributes: JSON.stringify(merge.attributes),
      meeting_url: linkForSharedBot(existing.meeting_url, meeting.url, config.meeting_url !== undefined),
      is_join_time_pinned: isPinned ? 1 : 0,
      meeting_end_ms: Math.max(...links.map((l) => l.end_ms)),
      updated_at: now,
    };
    await trx.updateTable('bots').set({
      bot_config: updated.bot_config,
      custom_attributes: updated.custom_attributes,
      meeting_url: updated.meeting_url,
      is_join_time_pinned: updated.is_join_time_pinned,
      meeting_end_ms: updated.meeting_end_ms,
      updated_at: now,
    }).where('id', '=', existing.id).execute();
    if (existingLink) {
      await bots.appendDecision(trx, existing.id, now, 'updated', `Scheduled again with the same deduplication_key for event ${eventId}: configuration replaced`, { event_id: eventId });
    } else {
      const keptLink = updated.meeting_url === existing.meeting_url && meeting.url !== existing.meeting_url ? '; the bot keeps its link, which carries the meeting\'s passcode' : '';
      await bots.appendDecision(trx, existing.id, now, 'shared_with_event', `Event ${eventId} is the same meeting (${meeting.identity}) under the same deduplication_key, so it shares this bot; its configuration is this request's${keptLink}`, { event_id: eventId, meeting_identity: meeting.identity });
    }
    await moveBotJoinTime(trx, updated, joinAtMs, now, existingLink ? 'Join time recomputed after the bot was updated' : `Join time is the earliest of the ${links.length} linked events`);
    if (updated.meeting_url !== existing.meeting_url) await requestProviderSync(trx, updated, 'Scheduled again with another meeting link', now);
    else if (updated.bot_config !== existing.bot_config) await requestProviderSync(trx, updated, 'Scheduled again with other settings', now);
    if (target.calendarId !== null) await noteCalendarHealthAtBooking(trx, existing.id, now, false);
    return {
      botId: existing.id,
      scheduleId: schedule.id,
      scheduleGroup: group,
      joinAtMs,
      updatedExisting: true,
      message: existingLink ? 'Existing bot updated' : 'Event linked to the existing bot for this meeting',
      config,
      deduplicationKey: key,
    };
  }

  /**
   * What the bot provider would refuse of a configuration's name and attributes, and of a meeting
   * link when one is given (auto-schedule's default config, and its preview of each meeting).
   * `isRequest`: the config is a request's, not a stored one: the fields the provider refuses in
   * combination are checked too (a stored config, booked by auto-schedule, keeps being booked).
   */
  findProviderInputProblem(config: AppliedBotConfig, meeting?: Pick<MeetingLink, 'url' | 'platform' | 'identity'>, options: { isRequest?: boolean } = {}): { field: string; problem: string } | null {
    return this.#botProvider === null ? null : findProviderInputProblem(this.#botProvider, { botName: config.bot_name, customAttributes: config.custom_attributes, ...(meeting ? { meeting } : {}), ...(options.isRequest === true ? { config } : {}) });
  }

  /**
   * Refuses now what the bot provider would refuse at handover, minutes before the meeting
   * (provider-input-limits.ts): a name, attributes or meeting link it does not take.
   */
  #checkProviderInput(eventId: string, config: AppliedBotConfig, meeting: MeetingLink): void {
    if (this.#botProvider === null) return;
    const problem = findProviderInputProblem(this.#botProvider, { botName: config.bot_name, customAttributes: config.custom_attributes, meeting });
    if (!problem) return;
    if (problem.field === 'meeting_url') {
      const isGiven = config.meeting_url !== undefined;
      throw new ApiError('invalid_meeting_url', isGiven ? `bot_config.meeting_url: ${problem.problem}` : `The meeting of event ${eventId}: ${problem.problem}; pass bot_config.meeting_url`, { details: { field: isGiven ? 'bot_config.meeting_url' : 'meeting_url' } });
    }
    throw new ApiError('invalid_bot_config', `bot_config.${problem.field}: ${problem.problem}`, { details: { field: `bot_config.${problem.field}` } });
  }

  async #createBot(trx: Transaction<Schema>, userId: string, eventId: string, target: ScheduleTarget, key: string, config: AppliedBotConfig, meeting: MeetingLink, attributes: Record<string, string>, joinAtMs: number, isPinned: boolean, origin: ActionOrigin, now: number): Promise<ScheduledOne> {
    const botId = newId('bot');
    const scheduleId = newId('sch');
    const group = scheduleGroupOf(meeting.platform);
    const bot: BotRow = {
      id: botId,
      user_id: userId,
      deduplication_key: key,
      deduplication_key_hash: deduplicationKeyHash(key),
      is_live: 1,
      meeting_url: meeting.url,
      meeting_platform: meeting.platform,
      meeting_identity: meeting.identity,
      status: 'Scheduled',
      bot_config: JSON.stringify(config),
      custom_attributes: JSON.stringify(attributes),
      join_at_ms: joinAtMs,
      is_join_time_pinned: isPinned ? 1 : 0,
      meeting_end_ms: target.endMs,
      launched_at: null,
      source: CALENDAR_BOT_SOURCE,
      created_at: now,
      updated_at: now,
      provider_name: null,
      provider_bot_id: null,
      provider_reported_at_ms: null,
      idempotency_key_hash: null,
      data_deleted_at: null,
      ended_at_ms: null,
      origin,
    };
    const when = isPinned ? 'at the requested join_at' : joinAtMs === now ? 'now (the meeting is about to start or under way)' : `${Math.round(this.#joinLeadMs / 1000)} s before the start`;
    await insertScheduledBot(trx, this.#database.engine, bot, { id: scheduleId, group }, {
      reason: `Scheduled for event ${eventId} (${meeting.identity}); joins ${when}`,
      details: { event_id: eventId, join_at: formatInstant(joinAtMs), meeting_identity: meeting.identity },
      statusReason: scheduledReason(origin),
      webhookMessage: `Bot scheduled to join at ${formatInstant(joinAtMs)}`,
    }, now, linkRow(bot, target, now));
    if (target.calendarId !== null) await noteCalendarHealthAtBooking(trx, botId, now, true);
    return { botId, scheduleId, scheduleGroup: group, joinAtMs, updatedExisting: false, message: `Bot scheduled to join ${when}`, config, deduplicationKey: key };
  }

  async #insertLink(trx: Transaction<Schema>, bot: Pick<BotRow, 'id' | 'user_id'>, target: ScheduleTarget, now: number): Promise<void> {
    await trx.insertInto('bot_events').values(linkRow(bot, target, now)).execute();
  }


  /**
   * A calendar change (through the API or a sync) reaches the bots here, inside the change's own
   * transaction: each live link of the event is compared with what the event now says.
   *
   * A series is compiled and its overrides read once for all of its links (SeriesOccurrences),
   * so the cost is one expansion per change plus a lookup per linked bot, not an expansion per
   * bot; which occurrence keys are held by live links is tracked here rather than asked of the
   * database per candidate. The loop gives the event loop a turn every slice (EventLoopPacer),
   * since on SQLite every query of it runs synchronously.
   */
  async eventChanged(trx: Transaction<Schema>, userId: string, eventId: string, reason: 'updated' | 'deleted' | 'disconnected', movedOccurrences?: ReadonlyMap<number, number>): Promise<void> {
    // The event's lock comes before reading its links: a schedule request for it that is under
    // way commits first and its link is seen here, or it waits and sees this change.
    await lockEvent(trx, this.#database.engine, userId, eventId);
    const now = this.#clock.now();
    if (reason === 'updated') await this.#releaseMeetingsHeldBeforeAMove(trx, userId, eventId, now);
    const links = await bots.listLiveLinksOfEvent(trx, eventId);
    if (links.length === 0) {
      await this.#followEndedLinks(trx, userId, eventId, null, now, movedOccurrences);
      return;
    }
    const event = await trx.selectFrom('events').selectAll().where('id', '=', eventId).where('user_id', '=', userId).executeTakeFirst();
    // All of the links' bots at once, in id order: the one lock order that firing and every other
    // path that locks several bots also follow.
    await bots.lockBots(trx, this.#database.engine, [...new Set(links.map((l) => l.bot_id))]);
    const pacer = new EventLoopPacer();
    const series = event && event.recurrence !== null ? await this.#events.seriesOccurrences(trx, userId, event) : null;
    if (series) {
      // A COUNT rule is counted once, in steps, up to the last linked occurrence's local day.
      const lastMs = Math.max(...links.map((l) => parseOccurrenceKey(l.occurrence_key) ?? -Infinity));
      if (Number.isFinite(lastMs)) await series.walkUntil(lastMs + 2 * DAY_MS, pacer);
    }
    // Occurrence key -> bot of the live link holding it (one live link per key, by index).
    const holders = new Map(links.map((l) => [l.occurrence_key, l.bot_id]));
    // Occurrences that had a bot (an ended link: one the client unscheduled, one attended): a bot
    // whose occurrence vanished does not take one of them as its replacement. Only recent ones: a
    // replacement that is over by now is no target anyway.
    const hadBots = series ? new Set((await trx.selectFrom('bot_events').select('occurrence_key').where('event_id', '=', eventId).where('is_live', '=', 0)
      .where('occurrence_key', '!=', '').where('start_ms', '>', now - DAY_MS).execute()).map((l) => l.occurrence_key)) : new Set<string>();
    const touchedBots = new Set<string>();
    /** The starts links had before this change moved them, by bot and link (a pinned join time moves as far). */
    const movedFrom = new Map<string, Map<number, number>>();
    const noteMove = (botId: string, link: BotEventRow) => {
      if (!movedFrom.has(botId)) movedFrom.set(botId, new Map());
      if (!movedFrom.get(botId)!.has(link.id)) movedFrom.get(botId)!.set(link.id, link.start_ms);
    };
    // The owner's answer, read once per event (raw can be 64 KB): an occurrence's own answer wins.
    const eventAnswer = event ? ownerAnswerOf(event.raw) : null;
    const isDeclinedTarget = (target: ScheduleTarget): boolean =>
      isDeclinedOccurrence(eventAnswer, series && target.originalStartMs !== null ? series.find(target.originalStartMs)?.override ?? null : null);
    for (const link of links) {
      await pacer.pace();
      const bot = (await bots.findBotById(trx, link.bot_id, { engine: this.#database.engine, forUpdate: true }))!;
      const target = event ? this.#currentTarget(event, series, link, holders, hadBots, bot.launched_at !== null, movedOccurrences) : null;
      const config = JSON.parse(bot.bot_config) as AppliedBotConfig;
      // Auto-schedule books no declined invitation, and takes back what it booked for one the owner
      // declines later (a bot booked by the client stays: it asked for that meeting).
      const isDeclined = target !== null && isDeclinedTarget(target) && await isTakeBackable(trx, bot);
      // The calendar's clock is no evidence that a meeting is over: meetings run late, and a bot
      // that went to its meeting (its launch taken by the runtime: joining it, or in it) stays
      // until its runtime says it left. Its link stays too, following the event's times even when
      // they are moved wholly into the past (it is still that event's meeting). A bot that has not
      // gone (still waiting, its launch on the wire or waiting to be retried) lets go of a meeting
      // whose end has passed: a launch on the wire is sent a stop, should the runtime take it.
      const isOverForBot = target !== null && target.endMs <= now && !(await hasGoneToItsMeeting(trx, bot));
      if (!target || target.isCancelled || isOverForBot || reason !== 'updated' || isDeclined) {
        // Gone from the calendar (cancelled, deleted, an occurrence no longer in the series): if it
        // comes back, a series' batch or auto-schedule books it again (the client ended nothing).
        const isGoneFromCalendar = reason === 'deleted' || !target || target.isCancelled;
        await bots.endLink(trx, link.id, now, isDeclined ? 'declined' : isGoneFromCalendar ? 'calendar_cancelled' : null);
        holders.delete(link.occurrence_key);
        const why = reason === 'disconnected' ? `The calendar of event ${eventId} was disconnected` : reason === 'deleted' ? `Event ${eventId} was deleted` : !target ? `The occurrence ${link.occurrence_key} of ${eventId} no longer exists` : target.isCancelled ? (link.occurrence_key === '' ? `Event ${eventId} was cancelled` : `The occurrence ${link.occurrence_key} of series ${eventId} was cancelled`) : isDeclined ? `The invitation to event ${eventId} was declined (auto-schedule had booked this bot)` : `Event ${eventId} moved into the past`;
        // A disconnect says nothing about the meeting itself: a bot already in it stays.
        await this.#afterUnlink(trx, bot, why, now, { isStoppingLaunched: reason !== 'disconnected', hasMeetingEnded: !isGoneFromCalendar && !isDeclined && target.endMs <= now });
        continue;
      }
      if (config.meeting_url === undefined && !target.meeting) {
        // The event no longer names a meeting (moved to a room, its link taken out): the bot was
        // booked for the event's link, and sending it there would put it in a meeting the calendar
        // no longer holds (a personal room is someone else's meeting by then). A bot already in
        // its meeting stays, and the event counts as having had it; one that did not go leaves the
        // event free for auto-schedule and series top-ups to book again if a link comes back.
        // A launch waiting to be retried counts as not launched: the runtime has not taken it.
        const isLaunched = bot.launched_at !== null && !(await isLaunchWaitingForRetry(trx, bot));
        await bots.endLink(trx, link.id, now, isLaunched ? null : 'link_removed');
        holders.delete(link.occurrence_key);
        await this.#afterUnlink(trx, bot, `The meeting link of event ${eventId} was removed`, now, { isStoppingLaunched: false });
        continue;
      }
      if (config.meeting_url === undefined && target.meeting && target.meeting.identity !== bot.meeting_identity) {
        // The start may move with the link (a pinned join time follows it: #recomputeBot).
        if (link.start_ms !== target.startMs) noteMove(bot.id, link);
        if (await this.#followMeetingChange(trx, bot, link, target, now)) holders.delete(link.occurrence_key);
        touchedBots.add(bot.id);
        continue;
      }
      // The same meeting under another link (its passcode regenerated, the link written out
      // again): a bot still waiting takes it, unless it would drop the passcode the bot's link
      // carries, the rule a bot shared by two events follows.
      if (config.meeting_url === undefined && target.meeting && bot.status === 'Scheduled') {
        const url = linkForSharedBot(bot.meeting_url, target.meeting.url, false);
        if (url !== bot.meeting_url) {
          await trx.updateTable('bots').set({ meeting_url: url }).where('id', '=', bot.id).execute();
          await bots.bumpVersion(trx, bot.id, now);
          await bots.appendDecision(trx, bot.id, now, 'moved_by_calendar', `The meeting link of event ${eventId} changed, for the same meeting (${target.meeting.identity}); the bot takes it`, { event_id: eventId, meeting_identity: target.meeting.identity });
          await this.#noteLinkTheProviderRefuses(trx, bot.id, url, eventId, now);
          touchedBots.add(bot.id);
        }
      }
      if (link.start_ms !== target.startMs || link.end_ms !== target.endMs || link.occurrence_key !== target.occurrenceKey) {
        noteMove(bot.id, link);
        await trx.updateTable('bot_events').set({ start_ms: target.startMs, end_ms: target.endMs, occurrence_key: target.occurrenceKey, updated_at: now }).where('id', '=', link.id).execute();
        if (link.occurrence_key !== target.occurrenceKey) {
          holders.delete(link.occurrence_key);
          holders.set(target.occurrenceKey, link.bot_id);
        }
        const isMovedPastItsBot = target.endMs <= now && link.end_ms !== target.endMs;
        const moveReason = isMovedPastItsBot ? `Event ${eventId} moved to ${formatInstant(target.startMs)}, ending at ${formatInstant(target.endMs)}, already past; the bot went to its meeting and stays until its runtime reports that it left` : `Event ${eventId} moved to ${formatInstant(target.startMs)}`;
        await bots.appendDecision(trx, bot.id, now, 'moved_by_calendar', moveReason, { event_id: eventId, start_time: formatInstant(target.startMs), end_time: formatInstant(target.endMs) });
        touchedBots.add(bot.id);
      }
    }
    for (const botId of touchedBots) {
      await pacer.pace();
      await this.#recomputeBot(trx, botId, now, movedFrom.get(botId));
    }
    if (series) await this.#followEndedLinks(trx, userId, eventId, series, now, movedOccurrences);
  }

  /**
   * Takes back what auto-schedule booked for one event or occurrence that no longer passes the
   * user's rules (AutoSchedule decides): each live link of it whose bot auto-schedule booked and
   * that has not launched ends, recording why (`rules`: once the meeting passes again it is
   * booked again), and a bot left without events is cancelled. A bot the client booked stays.
   * Nothing is taken back when the copy the rules read (`subject`: the event, or the occurrence's
   * own copy) is no longer what the decision read: a sync changed it meanwhile, and the run after
   * that sync decides again. Returns how many links ended.
   */
  async takeBackAutoBooking(userId: string, target: { eventId: string; occurrenceKey: string }, asRead: AutoScheduleRead, why: string): Promise<number> {
    const { engine } = this.#database;
    const ended = await retryingLostRaces(() => this.#database.transact(async (trx) => {
      // The lock a sync's change of this event (or of an occurrence's own copy) takes too
      // (eventChanged): a change that committed before it is seen below, one after it comes with
      // its own run.
      const event = await lockEvent(trx, engine, userId, target.eventId);
      if (!event) return 0;
      const originalStartMs = target.occurrenceKey === '' ? null : parseOccurrenceKey(target.occurrenceKey);
      const override = originalStartMs === null ? undefined : await findOverride(trx, userId, event.id, originalStartMs);
      if (!(await isAsRead(trx, userId, override ?? event, asRead))) return 0;
      const links = await trx.selectFrom('bot_events').selectAll().where('event_id', '=', target.eventId).where('occurrence_key', '=', target.occurrenceKey).where('is_live', '=', 1).execute();
      if (links.length === 0) return 0;
      await bots.lockBots(trx, engine, [...new Set(links.map((l) => l.bot_id))]);
      const now = this.#clock.now();
      let count = 0;
      for (const link of links) {
        const bot = (await bots.findBotById(trx, link.bot_id, { engine, forUpdate: true }))!;
        if (!(await isTakeBackable(trx, bot))) continue;
        await bots.endLink(trx, link.id, now, 'rules');
        await this.#afterUnlink(trx, bot, why, now);
        count++;
      }
      return count;
    }));
    if (ended > 0) this.#signal.afterCommit();
    return ended;
  }

  /**
   * The ended links of a series' occurrences to come whose bot never launched (unscheduled,
   * cancelled, or its data deleted) follow a re-timed or moved series to their occurrence's
   * replacement, as live links do, bots untouched: the link is the fact that the occurrence had a bot, which keeps
   * auto-schedule and the series top-ups from booking it again under its new original start. An
   * occurrence whose override the change moved (`moved`) goes where its override went.
   */
  async #followEndedLinks(trx: Transaction<Schema>, userId: string, eventId: string, known: SeriesOccurrences | null, now: number, moved?: ReadonlyMap<number, number>): Promise<void> {
    // Only bots that never launched: a bot that went to its meeting keeps the occurrence it attended.
    const ended = await trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.id', 'bot_events.occurrence_key']).where('bot_events.event_id', '=', eventId).where('bot_events.is_live', '=', 0)
      .where('bot_events.occurrence_key', '!=', '').where('bot_events.start_ms', '>', now).where('bots.launched_at', 'is', null)
      .orderBy('bot_events.id').execute();
    if (ended.length === 0) return;
    let series = known;
    if (!series) {
      const event = await trx.selectFrom('events').selectAll().where('id', '=', eventId).where('user_id', '=', userId).executeTakeFirst();
      if (!event || event.recurrence === null || event.is_deleted === 1) return;
      series = await this.#events.seriesOccurrences(trx, userId, event);
    }
    const lastMs = Math.max(...ended.map((l) => parseOccurrenceKey(l.occurrence_key) ?? -Infinity));
    if (Number.isFinite(lastMs)) await series.walkUntil(lastMs + 2 * DAY_MS, new EventLoopPacer());
    const taken = new Set((await trx.selectFrom('bot_events').select('occurrence_key').where('event_id', '=', eventId).where('start_ms', '>', now - DAY_MS).execute()).map((l) => l.occurrence_key));
    const pacer = new EventLoopPacer();
    for (const link of ended) {
      await pacer.pace();
      const originalStartMs = parseOccurrenceKey(link.occurrence_key);
      if (originalStartMs === null || series.find(originalStartMs)) continue;
      const overrideWent = moved?.get(originalStartMs);
      const candidate = overrideWent !== undefined && !taken.has(occurrenceKey(overrideWent))
        ? overrideWent
        : series.replacementFor(originalStartMs, (start) => !taken.has(occurrenceKey(start)) && !isOverridesNewPlace(moved, start));
      const replacement = candidate === undefined ? null : series.find(candidate);
      if (!replacement) continue;
      // updated_at stays: it is part of a bot's version (firing-store.ts), and the bot itself is untouched.
      await trx.updateTable('bot_events').set({ occurrence_key: replacement.key, start_ms: replacement.startMs, end_ms: replacement.endMs }).where('id', '=', link.id).execute();
      taken.add(replacement.key);
    }
  }

  /**
   * An event (or occurrence) whose bot went to its meeting, finished there (Done, or Error: it
   * could not stay), and which now starts at or after the moment that bot left (a meeting nobody
   * came to, moved to Thursday; an event reused for the next sitting) is a meeting still to come:
   * the attended one no longer counts as "this event has had a bot" (end cause
   * `held_before_move`), so auto-schedule and a series' top-ups book it again. A bot still live
   * keeps counting (it may still be in that very meeting), as does one the client or the host
   * removed (its timeline holds Stopped) or the host refused (NotAllowed, Denied): nobody wanted it
   * there, and one that failed before its meeting began (its event has not moved: another bot
   * would fail the same way). The reading is made again at every change of the event (moved back
   * before the bot left, it counts again). Only links ended in the last 30 days are looked at.
   */
  async #releaseMeetingsHeldBeforeAMove(trx: Transaction<Schema>, userId: string, eventId: string, now: number): Promise<void> {
    const attended = await trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.id', 'bot_events.bot_id', 'bot_events.occurrence_key', 'bot_events.start_ms', 'bot_events.end_cause'])
      .where('bot_events.event_id', '=', eventId).where('bot_events.is_live', '=', 0).where('bots.launched_at', 'is not', null)
      .where('bots.status', 'in', ['Done', 'Error']).where('bot_events.end_ms', '>', now - 30 * DAY_MS)
      .where((eb) => eb.or([eb('bot_events.end_cause', 'is', null), eb('bot_events.end_cause', '=', HELD_BEFORE_A_MOVE)]))
      .execute();
    if (attended.length === 0) return;
    const timelines = await trx.selectFrom('bot_status_changes').select(['bot_id', 'status', 'at_ms']).where('bot_id', 'in', [...new Set(attended.map((l) => l.bot_id))]).execute();
    const leftAt = new Map<string, number>();
    const removed = new Set<string>();
    for (const change of timelines) {
      leftAt.set(change.bot_id, Math.max(leftAt.get(change.bot_id) ?? -Infinity, Number(change.at_ms)));
      if (change.status === 'Stopped') removed.add(change.bot_id);
    }
    const event = await trx.selectFrom('events').selectAll().where('id', '=', eventId).where('user_id', '=', userId).executeTakeFirst();
    if (!event || event.is_deleted === 1) return;
    const series = event.recurrence !== null ? await this.#events.seriesOccurrences(trx, userId, event) : null;
    const lastMs = Math.max(...attended.map((l) => parseOccurrenceKey(l.occurrence_key) ?? -Infinity));
    if (series && Number.isFinite(lastMs)) await series.walkUntil(lastMs + 2 * DAY_MS, new EventLoopPacer());
    for (const link of attended) {
      const originalStartMs = parseOccurrenceKey(link.occurrence_key);
      const startMs = link.occurrence_key === '' ? event.start_ms : originalStartMs === null ? undefined : series?.find(originalStartMs)?.startMs;
      if (startMs === undefined) continue;
      // Moved since the bot left (its ended link keeps the start it had then), or freed already:
      // a bot that failed before its meeting began does not free it by the event merely changing.
      const hasMoved = Number(startMs) !== Number(link.start_ms) || link.end_cause === HELD_BEFORE_A_MOVE;
      const isMovedOn = hasMoved && !removed.has(link.bot_id) && Number(startMs) >= (leftAt.get(link.bot_id) ?? Infinity);
      const cause = isMovedOn ? HELD_BEFORE_A_MOVE : null;
      if (cause !== link.end_cause) await trx.updateTable('bot_events').set({ end_cause: cause }).where('id', '=', link.id).execute();
    }
  }

  /** `movedFrom`: the starts of the bot's links that this change moved, before it did (by link id). */
  async #recomputeBot(trx: Transaction<Schema>, botId: string, now: number, movedFrom?: ReadonlyMap<number, number>): Promise<void> {
    const bot = (await bots.findBotById(trx, botId))!;
    if (isActive(bot.status as BotStatus)) {
      await requestRuntimeCommand(trx, bot, 'update', 'The meeting changed after launch', now);
      // A launch still waiting to be retried follows the moved meeting (its end, its join time).
      const links = await bots.listLiveLinksOfBot(trx, botId);
      if (links.length > 0) {
        const endMs = Math.max(...links.map((l) => l.end_ms));
        await followMeetingEnd(trx, bot, { endMs, joinAtMs: this.#joinTimeAfterMove(bot, links, endMs, now, movedFrom) }, now);
      }
      return;
    }
    if (bot.status !== 'Scheduled') return;
    // Handed to a provider already: the provider's bot follows (a moved time, a new link).
    await requestProviderSync(trx, bot, 'The meeting changed', now);
    const links = await bots.listLiveLinksOfBot(trx, botId);
    if (links.length === 0) return;
    const meetingEndMs = Math.max(...links.map((l) => l.end_ms));
    if (meetingEndMs !== bot.meeting_end_ms) await trx.updateTable('bots').set({ meeting_end_ms: meetingEndMs, updated_at: now }).where('id', '=', botId).execute();
    if (bot.is_join_time_pinned) {
      const joinAtMs = this.#joinTimeAfterMove(bot, links, meetingEndMs, now, movedFrom);
      if (joinAtMs === bot.join_at_ms) return;
      // The configuration says where the pin is now, as a PATCH of the join time would.
      const config = { ...(JSON.parse(bot.bot_config) as AppliedBotConfig), join_at: formatInstant(joinAtMs) };
      await trx.updateTable('bots').set({ bot_config: JSON.stringify(config), updated_at: now }).where('id', '=', botId).execute();
      await moveBotJoinTime(trx, { ...bot, meeting_end_ms: meetingEndMs }, joinAtMs, now, 'The pinned join time moves with the meeting, keeping its place before the start');
      return;
    }
    await moveBotJoinTime(trx, { ...bot, meeting_end_ms: meetingEndMs }, joinTimeFromLinks(links, now, this.#joinLeadMs), now, 'Join time follows the moved event');
  }

  /**
   * A bot's join time after its events moved: derived from them, or, pinned, moved as far as its
   * meeting's start (unmoved and still inside the meeting, the pin holds as the client set it).
   */
  #joinTimeAfterMove(bot: BotRow, links: readonly BotEventRow[], meetingEndMs: number, now: number, movedFrom?: ReadonlyMap<number, number>): number {
    if (!bot.is_join_time_pinned) return joinTimeFromLinks(links, now, this.#joinLeadMs);
    const newStartMs = Math.min(...links.map((l) => l.start_ms));
    const oldStartMs = Math.min(...links.map((l) => movedFrom?.get(l.id) ?? l.start_ms));
    if (newStartMs === oldStartMs && bot.join_at_ms < meetingEndMs) return bot.join_at_ms;
    return pinnedJoinTimeAfterMove({ pinnedMs: bot.join_at_ms, oldStartMs, newStartMs, endMs: meetingEndMs, nowMs: now, joinLeadMs: this.#joinLeadMs });
  }

  /**
   * The event's meeting changed to another meeting: the bot follows if the event is its only one.
   * Answers whether the link was ended instead (the bot is shared with other events).
   */
  async #followMeetingChange(trx: Transaction<Schema>, bot: BotRow, link: BotEventRow, target: ScheduleTarget, now: number): Promise<boolean> {
    const links = await bots.listLiveLinksOfBot(trx, bot.id);
    const meeting = target.meeting!;
    await trx.updateTable('bot_events').set({ start_ms: target.startMs, end_ms: target.endMs, updated_at: now }).where('id', '=', link.id).execute();
    // A bot is handed only links on public hosts (the check the schedule request makes): a calendar
    // that now points somewhere internal loses its bot rather than sending it there.
    const check = checkMeetingUrl(meeting.url);
    if (!check.ok) {
      await bots.endLink(trx, link.id, now);
      await this.#afterUnlink(trx, bot, `The meeting link of event ${link.event_id} changed to one a bot cannot be sent to (it ${check.reason})`, now);
      return true;
    }
    if (links.length === 1) {
      await trx.updateTable('bots').set({ meeting_url: meeting.url, meeting_platform: meeting.platform, meeting_identity: meeting.identity, updated_at: now }).where('id', '=', bot.id).execute();
      await trx.updateTable('schedules').set({ schedule_group: scheduleGroupOf(meeting.platform), updated_at: now }).where('bot_id', '=', bot.id).execute();
      await bots.appendDecision(trx, bot.id, now, 'moved_by_calendar', `The event's meeting link changed to ${meeting.identity}; the bot follows it`, { event_id: link.event_id, meeting_identity: meeting.identity });
      await this.#noteLinkTheProviderRefuses(trx, bot.id, meeting.url, link.event_id, now);
      return false;
    }
    // Shared with other events that still point at the old meeting: this event leaves the bot.
    await bots.endLink(trx, link.id, now);
    await bots.appendDecision(trx, bot.id, now, 'unlinked_event', `Event ${link.event_id} now points at another meeting (${meeting.identity}); it no longer shares this bot`, { event_id: link.event_id, meeting_identity: meeting.identity });
    return true;
  }

  /**
   * The bot followed its event to a link the bot provider refuses at creation (provider-input-limits.ts).
   * The calendar is the client's to fix, so the bot keeps the link and its place; the warning in its
   * decision log is there before the handover, which would fail with the provider's answer.
   */
  async #noteLinkTheProviderRefuses(trx: Transaction<Schema>, botId: string, url: string, eventId: string, now: number): Promise<void> {
    const meeting = this.#botProvider === null ? null : parseMeetingLink(url);
    const problem = meeting ? findProviderLinkProblem(this.#botProvider!, meeting) : null;
    if (problem === null) return;
    await bots.appendDecision(trx, botId, now, 'link_refused_by_provider', `The new meeting link of event ${eventId} is one the bot provider refuses: ${problem}. The bot keeps it, and fails at its handover unless the link changes before then`, { event_id: eventId, meeting_url: url });
  }

  /** `hasMeetingEnded`: the link ended because its meeting moved to a time already over. */
  async #afterUnlink(trx: Transaction<Schema>, bot: BotRow, why: string, now: number, options: { isStoppingLaunched?: boolean; hasMeetingEnded?: boolean } = {}): Promise<void> {
    const remaining = await bots.listLiveLinksOfBot(trx, bot.id);
    if (remaining.length > 0) {
      await bots.appendDecision(trx, bot.id, now, 'unlinked_event', `${why}; the bot stays for its ${remaining.length} other event(s)`, {});
      await this.#recomputeBot(trx, bot.id, now);
      return;
    }
    if (isActive(bot.status as BotStatus)) {
      // A launch waiting to be retried is not in the meeting: it is stopped below, not kept.
      if (options.isStoppingLaunched === false && !(await isLaunchWaitingForRetry(trx, bot))) {
        await bots.appendDecision(trx, bot.id, now, 'unlinked_event', `${why}; the bot is already in the meeting and stays until it ends`, {});
        return;
      }
      await requestRuntimeCommand(trx, bot, 'stop', why, now);
      // A launch waiting to be retried (the runtime has not taken it) is not tried again: the stop
      // could reach the runtime before it, and the bot would go to a meeting that is gone. (The
      // stop stays, should an attempt that got no answer have started the bot.)
      if (await isLaunchWaitingForRetry(trx, bot)) {
        if (options.hasMeetingEnded) await transitionBot(trx, bot, FAILURE_STATUS, `${why}: the meeting is over, and the runtime did not accept the launch before then`, now, { decisionKind: 'failed' });
        else await endLaunchNotAccepted(trx, bot, why, now);
      }
      return;
    }
    await cancelBotInTransaction(trx, bot, why, now);
  }

  /**
   * What a link's event or occurrence now is. An occurrence the series no longer has (the series
   * was re-timed or moved) hands its bot to its replacement that no other bot's live link holds
   * (`holders`) and that never had a bot (`hadBots`): the first on the same local day, else, for
   * a bot not launched yet, the nearest within half the series' spacing
   * (SeriesOccurrences.replacementFor). A bot in its meeting is not sent to another day's. An
   * occurrence whose override the change moved (`moved`: the series was re-timed) hands its bot to
   * where the override went, and no other bot takes that occurrence.
   */
  #currentTarget(event: EventRow, series: SeriesOccurrences | null, link: BotEventRow, holders: ReadonlyMap<string, string>, hadBots: ReadonlySet<string>, isLaunched: boolean, moved?: ReadonlyMap<number, number>): ScheduleTarget | null {
    if (link.occurrence_key === '') return singleTarget(event);
    if (event.recurrence === null || series === null) return null;
    const originalStartMs = parseOccurrenceKey(link.occurrence_key);
    if (originalStartMs === null) return null;
    const occurrence = series.find(originalStartMs);
    if (occurrence) return { ...occurrenceTarget(occurrence, event), isCancelled: occurrence.status === 'cancelled' || event.is_deleted === 1 || event.status === 'cancelled' };
    const overrideWent = moved?.get(originalStartMs);
    const overridden = overrideWent === undefined ? null : series.find(overrideWent);
    if (overridden) {
      const holder = holders.get(overridden.key);
      // A bot in its meeting follows only a meeting that stays on its day, or at its time.
      const isSameMeeting = !isLaunched || overridden.startMs === link.start_ms || series.localDateOf(overrideWent!) === series.localDateOf(originalStartMs);
      if ((holder === undefined || holder === link.bot_id) && isSameMeeting) {
        return { ...occurrenceTarget(overridden, event), isCancelled: overridden.status === 'cancelled' || event.status === 'cancelled' };
      }
    }
    const candidate = series.replacementFor(originalStartMs, (start) => {
      const key = occurrenceKey(start);
      const holder = holders.get(key);
      return (holder === link.bot_id || (holder === undefined && !hadBots.has(key))) && !isOverridesNewPlace(moved, start);
    }, { isSameDayOnly: isLaunched });
    const replacement = candidate === undefined ? null : series.find(candidate);
    if (!replacement) return null;
    return { ...occurrenceTarget(replacement, event), isCancelled: replacement.status === 'cancelled' || event.status === 'cancelled' };
  }
}

/** Whether an override moved to this occurrence in this change (its own occurrence's bot goes there, no other). */
function isOverridesNewPlace(moved: ReadonlyMap<number, number> | undefined, originalStartMs: number): boolean {
  if (!moved) return false;
  for (const to of moved.values()) if (to === originalStartMs) return true;
  return false;
}

/** The end cause of a link whose bot went to its meeting before the event moved past it (#releaseMeetingsHeldBeforeAMove). */
const HELD_BEFORE_A_MOVE: bots.LinkEndCause = 'held_before_move';

function linkRow(bot: Pick<BotRow, 'id' | 'user_id'>, target: ScheduleTarget, now: number) {
  return {
    bot_id: bot.id, user_id: bot.user_id, event_id: target.linkEventId, occurrence_key: target.occurrenceKey,
    start_ms: target.startMs, end_ms: target.endMs, is_live: 1, created_at: now, updated_at: now,
  };
}

function singleTarget(event: EventRow): ScheduleTarget {
  return {
    listedEventId: event.id,
    linkEventId: event.id,
    occurrenceKey: '',
    originalStartMs: null,
    // Its own start stands for an Outlook occurrence's original one, which Graph does not give.
    attributedStartMs: event.original_start_ms ?? (instanceSeriesOf(event) ? event.start_ms : null),
    startMs: event.start_ms,
    endMs: event.end_ms,
    isCancelled: event.is_deleted === 1 || event.status === 'cancelled',
    meeting: meetingOf(event.meeting_url, event.meeting_platform, event.meeting_identity),
    title: event.title,
    calendarId: event.calendar_id,
  };
}

function occurrenceTarget(occurrence: EffectiveOccurrence, series: Pick<EventRow, 'calendar_id'>): ScheduleTarget {
  return {
    listedEventId: listedIdOf(occurrence),
    linkEventId: occurrence.seriesId,
    occurrenceKey: occurrence.key,
    originalStartMs: occurrence.originalStartMs,
    attributedStartMs: occurrence.originalStartMs,
    startMs: occurrence.startMs,
    endMs: occurrence.endMs,
    isCancelled: occurrence.status === 'cancelled',
    meeting: meetingOf(occurrence.meetingUrl, occurrence.meetingPlatform, occurrence.meetingIdentity),
    title: occurrence.title,
    calendarId: series.calendar_id,
  };
}

function meetingOf(url: string | null, platform: string | null, identity: string | null): MeetingLink | null {
  if (url === null || identity === null) return null;
  return { url, platform: platform as MeetingPlatform | null, identity };
}

/**
 * What a calendar bot carries for its client beside the client's own attributes. `event_id` is
 * the id the event list shows for what the bot joins: an occurrence's whichever way it was booked
 * (through its own id, the series' with occurrence_date or without, schedule_all_occurrences, a
 * chain), so that webhooks map back to one listed event; `calendar_id` is the connection's id, as
 * on the event.
 */
function customAttributesFor(config: AppliedBotConfig, key: string, target: ScheduleTarget): Record<string, string> {
  return {
    ...config.custom_attributes,
    source: CALENDAR_BOT_SOURCE,
    event_id: target.listedEventId,
    ...(target.calendarId !== null ? { calendar_id: target.calendarId } : {}),
    deduplication_key: key,
    ...(target.attributedStartMs !== null ? { occurrence_start_time: formatInstant(target.attributedStartMs), is_recurring: 'true' } : {}),
    ...(target.title ? { event_summary: target.title } : {}),
  };
}

/** The key of one occurrence's bot in a batch or a chain: the series key plus the occurrence; null stays null (derived per occurrence). */
function chainKey(seriesKey: string | null, occurrenceKey: string): string | null {
  return seriesKey === null ? null : occurrenceDeduplicationKey(seriesKey, occurrenceKey);
}

/**
 * The key a batch books an occurrence under: `<key>@<occurrence>`, or the key of this batch's bot
 * that holds the occurrence already under another occurrence's name (a bot carried into a split's
 * continuation keeps the key of the occurrence it was booked for): the batch sent again updates
 * that bot rather than being refused for a bot "under another key" that is its own.
 */
async function batchKeyOf(trx: Transaction<Schema>, seriesId: string, occurrenceKey: string, seriesKey: string | null): Promise<string | null> {
  const own = chainKey(seriesKey, occurrenceKey);
  if (seriesKey === null) return own;
  const held = await bots.findLiveLink(trx, seriesId, occurrenceKey);
  const prefix = occurrenceDeduplicationKey(seriesKey, '');
  // Only a key this batch would have given (its key, then an occurrence's original start): not a
  // bot the client booked under "<key>@anything", nor another batch's ("<key>@x@<occurrence>").
  const isBatchKey = held !== undefined && held.deduplication_key.startsWith(prefix) && parseOccurrenceKey(held.deduplication_key.slice(prefix.length)) !== null;
  return isBatchKey && held.deduplication_key !== own ? held.deduplication_key : own;
}

/**
 * The derived key of the bot an event has: derived from its start when it was booked, it stays the
 * bot's key when the event moves (a batch repeated without a key updates that bot, as it would a
 * series occurrence's, whose derived key follows the original start). Null: none, derive anew.
 */
async function derivedKeyOfLiveBot(trx: Transaction<Schema>, eventId: string): Promise<string | null> {
  const link = await bots.findLiveLink(trx, eventId, '');
  return link?.deduplication_key.startsWith(DERIVED_KEY_PREFIX) ? link.deduplication_key : null;
}

/**
 * An instance about to get the key derived from its current start, which the bot of another
 * instance of the series still holds (booked at this start, since moved away): sharing it would
 * send one bot to two times. The same meeting at this very time on another calendar shares, as
 * any derived key does.
 */
async function refuseDerivedKeyOfMovedBot(trx: Transaction<Schema>, engine: Engine, userId: string, instance: EventRow, config: AppliedBotConfig): Promise<void> {
  const identity = config.meeting_url !== undefined ? parseMeetingLink(config.meeting_url)?.identity : instance.meeting_identity;
  if (!identity) return;
  const key = derivedDeduplicationKey(identity, instance.start_ms);
  const holder = await bots.findLiveBotByKey(trx, engine, userId, key);
  if (!holder) return;
  const links = await bots.listLiveLinksOfBot(trx, holder.id);
  if (links.some((l) => l.start_ms === instance.start_ms)) return;
  throw new ApiError('deduplication_conflict', `The key derived for event ${instance.id} (${key}) is held by bot ${holder.id}, booked for another occurrence of the series at this time and moved since`, { details: { bot_id: holder.id } });
}

/** The bot config an answer shows: the bot's, with its deduplication key (MeetStream's answer has it there). */
function answeredConfig(one: ScheduledOne): AppliedBotConfig & { deduplication_key: string } {
  return { ...one.config, deduplication_key: one.deduplicationKey };
}

/**
 * The answer to schedule_all_occurrences: the first booked occurrence at the top, then each one.
 * `eventId` is the id the request named (an occurrence id stands for its series), as every other
 * answer gives it; `masterEventId` the series'.
 */
function batchResponse(eventId: string, masterEventId: string, total: number, first: ScheduledOne | null, config: AppliedBotConfig, created: ScheduledOccurrence[], failed: FailedOccurrence[], allUpdated: boolean): ScheduleResponse {
  return {
    scheduled: created.length > 0,
    schedule_id: first?.scheduleId ?? null,
    schedule_group: first?.scheduleGroup ?? null,
    event_id: eventId,
    scheduled_time: first ? formatInstant(first.joinAtMs) : null,
    bot_id: first?.botId ?? null,
    bot_config: first ? answeredConfig(first) : config,
    message: `Scheduled ${created.length} of ${total} upcoming occurrences${failed.length > 0 ? `; ${failed.length} failed` : ''}`,
    updated_existing: created.length > 0 && allUpdated,
    occurrence_date: created[0]?.occurrence_start ?? null,
    is_recurring_occurrence: first !== null,
    master_event_id: masterEventId,
    total_occurrences: total,
    occurrences_scheduled: created.length,
    occurrences_failed: failed.length,
    schedules_created: created,
    failed_occurrences: failed,
  };
}

/**
 * The answer for one bot. Not an occurrence of a series until the caller says so: occurrence_date
 * null and is_recurring_occurrence false are there rather than left out, as MeetStream's
 * ScheduleEventResponse types occurrence_date as a string or null beside a plain boolean.
 */
function singleResponse(eventId: string, one: ScheduledOne): ScheduleResponse {
  return {
    scheduled: true,
    schedule_id: one.scheduleId,
    schedule_group: one.scheduleGroup,
    event_id: eventId,
    scheduled_time: formatInstant(one.joinAtMs),
    bot_id: one.botId,
    bot_config: answeredConfig(one),
    message: one.message,
    updated_existing: one.updatedExisting,
    occurrence_date: null,
    is_recurring_occurrence: false,
  };
}

/**
 * Whether auto-schedule may take the bot back (the owner declined, the meeting stopped passing the
 * rules): it booked it (its key and attribute: isAutoScheduledBot), the bot has not gone to its meeting, and no chain the client
 * turned on for the series has made it its own (a chain adopts the live bot of the occurrence it
 * stands at).
 */
async function isTakeBackable(db: Transaction<Schema>, bot: BotRow): Promise<boolean> {
  if (bot.status !== 'Scheduled' || bot.launched_at !== null || !isAutoScheduledBot(bot)) return false;
  return (await db.selectFrom('recurring_chains').select('series_event_id').where('current_bot_id', '=', bot.id).limit(1).executeTakeFirst()) === undefined;
}

/** Whether the copy of a meeting and the user's settings are what auto-schedule read (AutoScheduleRead). */
async function isAsRead(db: Transaction<Schema>, userId: string, copy: Pick<EventRow, 'id' | 'raw'>, asRead: AutoScheduleRead): Promise<boolean> {
  if (copy.id !== asRead.copyId || copy.raw !== asRead.raw) return false;
  const settings = await db.selectFrom('auto_schedule_settings').select('updated_at').where('user_id', '=', userId).executeTakeFirst();
  return settings !== undefined && Number(settings.updated_at) === asRead.settingsUpdatedAt;
}
