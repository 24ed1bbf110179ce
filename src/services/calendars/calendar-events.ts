// Calendar events written through the API: create, read, change, delete and list, with recurring
// series listed as their occurrences. Changes are handed to the bot reconciler in the same
// transaction, so a moved or cancelled meeting moves or cancels its bots atomically.
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { EventRow, Schema } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import { decodeCursor, encodeCursor, positionCursor, type Position } from '../paging-cursor.ts';
import { FEED_START, isAheadOfServer, listEventChanges, type ChangePosition } from '../../store/event-change-store.ts';
import type { Engine } from '../../db/database.ts';
import { serverIdentifier } from '../../db/event-feed-server.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { formatInstant, formatOptionalInstant, parseInstant, parseQueryInstant } from '../../lib/time.ts';
import { resolveMeetingLink, isHttpUrl } from '../../domain/meeting-url.ts';
import {
  compileSeries, isValidTimeZone, validateRecurrence, occurrenceKey,
  type CompiledSeries, type Occurrence, type SeriesDefinition,
} from '../../domain/recurrence.ts';
import { occurrenceIdOf, parseOccurrenceId } from '../../domain/occurrence-id.ts';
import { storedZoneRules } from '../../domain/observed-offsets.ts';
import * as store from '../../store/event-store.ts';
import { listBotsForEvents, type LinkedBotSummary } from '../../store/bot-store.ts';
import { quietSignal, type ScheduleChangeSignal } from '../scheduling/bot-lifecycle.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';
import { paceSteps } from '../../lib/steps.ts';
import { LIMITS_RAW_KEY } from '../../domain/event-field-limits.ts';
import { allDayZone } from '../../domain/all-day.ts';
import { SERIES_HORIZON_MS } from '../../domain/series-horizon.ts';
import { nearestReplacement, overrideTimesAfterChange, reanchorOverrides, usualSpacingMs } from '../../domain/series-move.ts';
import * as connections from '../../store/connection-store.ts';
import { matchesScope, parseCalendarScope, platformOf, type CalendarScopeInput } from './calendar-scope.ts';
import { isUniqueViolation, retryingLostRaces } from '../../db/race-retry.ts';

export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface EventInput {
  title?: string | null;
  description?: string | null;
  location?: string | null;
  start_time?: string;
  end_time?: string;
  timezone?: string | null;
  meeting_url?: string | null;
  recurrence?: string[] | null;
  recurring_event_id?: string | null;
  original_start_time?: string | null;
  status?: EventStatus;
}

export interface EventBotView {
  id: string;
  bot_id: string;
  status: string;
  scheduled_join_time: string;
  scheduled_time: string;
  is_scheduled: boolean;
  /** MeetStream's names: bot_config.bot_name, and the bot's meeting platform. */
  bot_username: string | null;
  platform: string | null;
}

export interface EventView {
  id: string;
  calendar_id: string | null;
  title: string | null;
  description: string | null;
  location: string | null;
  start_time: string;
  end_time: string;
  timezone: string | null;
  meeting_url: string | null;
  meeting_platform: string | null;
  recurrence: string[] | null;
  recurring_event_id: string | null;
  original_start_time: string | null;
  status: string;
  is_deleted: boolean;
  created_at: string;
  updated_at: string;
  raw: Record<string, unknown>;
  bots: EventBotView[];
  /** Where the event came from: google_calendar, outlook_calendar, ics, or null (written through the API). */
  platform: string | null;
  /** The event's id at the provider (for an occurrence Rollcall expands, its series' id); null when written through the API. */
  platform_id: string | null;
  /** The iCalendar UID the provider gives (shared by every occurrence of a series); null when written through the API. */
  ical_uid: string | null;
  /** An all-day event (a day, not a time: events.is_all_day); an occurrence expanded from a series is as its series, an override as its own row. */
  is_all_day: boolean;
}

export interface ListQuery extends CalendarScopeInput {
  time_min?: string;
  time_max?: string;
  /** A connection id, a provider calendar id, or `primary` (each connection's primary calendar). */
  calendar_id?: string;
  limit?: number;
  cursor?: string;
}

export interface EventPage {
  results: EventView[];
  next: string | null;
  /** Pages go forward only (a cursor past the last row seen): there is never a previous one to name. */
  previous: null;
  has_more: boolean;
}

/** A page of GET /calendar/events/changes: `next_cursor` is where the next call goes on, always given. */
export interface EventChangePage {
  results: EventView[];
  next_cursor: string;
  has_more: boolean;
}

/**
 * What scheduling sees of an event id: a single event, a whole series, or one occurrence of a
 * series (with any override applied).
 */
export type EventTarget =
  | { kind: 'single'; event: EventRow }
  | { kind: 'series'; series: EventRow }
  | { kind: 'occurrence'; series: EventRow; occurrence: EffectiveOccurrence };

/** An occurrence as it will actually happen: the series' rule with its override (if any) applied. */
export interface EffectiveOccurrence {
  seriesId: string;
  key: string;
  originalStartMs: number;
  startMs: number;
  endMs: number;
  status: string;
  meetingUrl: string | null;
  meetingPlatform: string | null;
  meetingIdentity: string | null;
  title: string | null;
  /** The override event that moved or cancelled it, if any. */
  override: EventRow | null;
}

/** Bots follow event changes through this; the scheduling service implements it. */
/**
 * Why an event reaches the bots: it changed, it was deleted, or its calendar was disconnected
 * (the bots leave it either way; one already in its meeting is only stopped when it was deleted).
 */
export type EventChangeReason = 'updated' | 'deleted' | 'disconnected';

export interface EventChangeListener {
  /**
   * `movedOccurrences`: for a series whose time or rule changed, the occurrences its overrides
   * were moved to (old original start -> new), which the bots of those occurrences follow.
   */
  eventChanged(trx: Transaction<Schema>, userId: string, eventId: string, reason: EventChangeReason, movedOccurrences?: ReadonlyMap<number, number>): Promise<void>;
}

const DAY_MS = 86_400_000;
const MAX_DURATION_MS = 31 * DAY_MS;
/** Occurrences a series' usual spacing is measured over (SeriesOccurrences.#spacingAround). */
const SPACING_SAMPLE = 6;

export class CalendarEvents {
  readonly #db: Kysely<Schema>;
  readonly #engine: Engine;
  readonly #clock: Clock;
  #listener: EventChangeListener | null = null;

  readonly #signal: ScheduleChangeSignal;
  /** The database server's identifier (PostgreSQL), read once. */
  #feedServer: Promise<string> | null = null;

  /** Where stored zone rules that cannot be read are reported; not reported without one (as in unit tests). */
  readonly #zoneWarnings: StoredZoneWarnings | null;

  constructor(deps: { db: Kysely<Schema>; engine: Engine; clock: Clock; signal?: ScheduleChangeSignal; zoneWarnings?: StoredZoneWarnings }) {
    this.#db = deps.db;
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#signal = deps.signal ?? quietSignal;
    this.#zoneWarnings = deps.zoneWarnings ?? null;
  }

  /** Where stored zone rules that cannot be read are reported, for those that compile series this instance stores (a sync). */
  get zoneWarnings(): StoredZoneWarnings | null {
    return this.#zoneWarnings;
  }

  /** Runs a change in a transaction and tells dispatchers, since bots may have moved with it. */
  async #change<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    // A change reaches bots that a booking may lock in another order (a batch over an Outlook
    // series locks its instances in id order, a sync writes them in the provider's): the loser of
    // a deadlock runs again, whole.
    const result = await retryingLostRaces(() => this.#db.transaction().execute(async (trx) => {
      const value = await work(trx);
      return value;
    }));
    this.#signal.afterCommit();
    return result;
  }

  setChangeListener(listener: EventChangeListener): void {
    this.#listener = listener;
  }

  /**
   * Calendar sync writes events through here: `work` writes rows in one transaction and names the
   * events it changed; each of them then reaches the bots through the same listener as an API
   * change, in the same transaction, and dispatchers are told after commit.
   */
  async applyExternalChanges<T>(userId: string, work: (trx: Transaction<Schema>) => Promise<{ result: T; changed: ReadonlyMap<string, EventChangeReason> }>): Promise<T> {
    return this.#change(async (trx) => {
      const { result, changed } = await work(trx);
      // A turn for the event loop between events: a feed read again in full names every event.
      const pacer = new EventLoopPacer();
      for (const [eventId, reason] of changed) {
        await pacer.pace();
        await this.#listener?.eventChanged(trx, userId, eventId, reason);
      }
      return result;
    });
  }

  async create(userId: string, input: EventInput): Promise<EventView> {
    const now = this.#clock.now();
    const id = newId('evt');
    await this.#change(async (trx) => {
      // A new override is checked against its series under the series' lock: a re-time of the
      // series under way commits first and is seen here, or waits and then takes the override
      // along with the others (update below).
      if (typeof input.recurring_event_id === 'string') await store.lockEvent(trx, this.#engine, userId, input.recurring_event_id);
      const row = await this.#buildRow(trx, userId, input, null);
      try {
        await store.insertEvent(trx, { ...row, id, user_id: userId, calendar_id: null, provider_event_id: null, is_deleted: 0, created_at: now, updated_at: now });
      } catch (error) {
        if (isUniqueViolation(error)) throw overrideTakenError();
        throw error;
      }
      if (row.recurring_event_id) await this.#listener?.eventChanged(trx, userId, row.recurring_event_id, 'updated');
    });
    return this.get(userId, id);
  }

  async get(userId: string, id: string): Promise<EventView> {
    const occurrenceRef = parseOccurrenceId(id);
    if (occurrenceRef) {
      const target = await this.resolveTarget(this.#db, userId, id);
      if (target.kind !== 'occurrence') throw notFound(id);
      if (target.occurrence.override) return (await this.#views([target.occurrence.override]))[0]!;
      return (await this.#views([occurrenceRow(target.series, target.occurrence)]))[0]!;
    }
    const row = await store.findEvent(this.#db, userId, id);
    if (!row) throw notFound(id);
    return (await this.#views([row]))[0]!;
  }

  async update(userId: string, id: string, patch: EventInput): Promise<EventView> {
    if (parseOccurrenceId(id)) {
      throw new ApiError('validation_error', 'event_id: an occurrence cannot be changed directly; create an override instance with recurring_event_id and original_start_time', { details: { field: 'event_id' } });
    }
    await this.#change(async (trx) => {
      // Locked before it is read: two changes of one event run one after the other, the second
      // merged over the first's result rather than over what both read. A series' overrides are
      // locked before the series, the order every path takes (a change of an override, or a bot
      // booked for one, locks the override and then its series).
      const peek = await store.findEvent(trx, userId, id);
      if (peek && peek.recurrence !== null && peek.calendar_id === null) await store.lockOverrides(trx, this.#engine, userId, id);
      const existing = await store.lockEvent(trx, this.#engine, userId, id);
      if (!existing || existing.is_deleted) throw notFound(id);
      const row = await this.#buildRow(trx, userId, patch, existing);
      // A series written through the API whose occurrences may have moved takes its overrides
      // along, all of them: read again now that the series is locked, which finds one created
      // (committed) since the first read, and none can be added until this commits (create
      // above). A synced series' overrides are the calendar's: its next sync sends them again.
      const isRetimed = existing.recurrence !== null && existing.calendar_id === null
        && (row.start_ms !== existing.start_ms || row.end_ms !== existing.end_ms || row.timezone !== existing.timezone || row.recurrence !== existing.recurrence);
      const overrides = isRetimed ? await store.lockOverrides(trx, this.#engine, userId, id) : [];
      try {
        await store.updateEvent(trx, userId, id, { ...row, updated_at: this.#clock.now() });
      } catch (error) {
        if (isUniqueViolation(error)) throw overrideTakenError();
        throw error;
      }
      const moved = isRetimed ? await this.#reanchorOverrides(trx, userId, existing, { ...existing, ...row }, overrides) : undefined;
      await this.#listener?.eventChanged(trx, userId, id, 'updated', moved);
      // The bots of an overridden occurrence are linked to the series' occurrence, not to the override.
      if (existing.recurring_event_id) await this.#listener?.eventChanged(trx, userId, existing.recurring_event_id, 'updated');
    });
    return this.get(userId, id);
  }

  /** Soft delete: the row stays with is_deleted, its bots are cancelled (unless shared). Idempotent. */
  async remove(userId: string, id: string): Promise<EventView> {
    if (parseOccurrenceId(id)) {
      throw new ApiError('validation_error', 'event_id: to remove one occurrence, create an override instance with status "cancelled"', { details: { field: 'event_id' } });
    }
    await this.#change(async (trx) => {
      const existing = await store.findEvent(trx, userId, id);
      if (!existing) throw notFound(id);
      if (existing.is_deleted) return;
      await store.updateEvent(trx, userId, id, { is_deleted: 1, updated_at: this.#clock.now() });
      // A series goes with its override instances (their bots hang off the series' links).
      if (existing.recurrence !== null) await store.deleteOverrides(trx, userId, id, this.#clock.now());
      await this.#listener?.eventChanged(trx, userId, id, 'deleted');
      if (existing.recurring_event_id) await this.#listener?.eventChanged(trx, userId, existing.recurring_event_id, 'updated');
    });
    const row = await store.findEvent(this.#db, userId, id);
    return (await this.#views([row!]))[0]!;
  }

  async list(userId: string, query: ListQuery): Promise<EventPage> {
    const now = this.#clock.now();
    const fromMs = query.time_min !== undefined ? requireInstant(query.time_min, 'time_min', parseQueryInstant) : now - DAY_MS;
    // Without time_max the window ends 28 days out, or 28 days after a later time_min.
    const toMs = query.time_max !== undefined ? requireInstant(query.time_max, 'time_max', parseQueryInstant) : Math.max(now, fromMs) + 28 * DAY_MS;
    if (toMs <= fromMs) throw new ApiError('invalid_time', 'time_max must be after time_min', { details: { field: 'time_max' } });
    const limit = query.limit ?? 50;
    const after = query.cursor !== undefined ? eventCursor.decode(query.cursor) : null;
    const source = await this.#sourceFilter(userId, query);

    // One extra row tells whether another page exists.
    const plain = await store.listPlainEventsInWindow(this.#db, { userId, fromMs, toMs, source, after: after && { startMs: after.ms, id: after.id }, limit: limit + 1 });
    const occurrences: EventRow[] = [];
    // Series are expanded up to a horizon (see SERIES_HORIZON_MS); the stored events are listed
    // to time_max whatever it is.
    const seriesToMs = Math.min(toMs, Math.max(now, fromMs) + SERIES_HORIZON_MS);
    const seriesList = seriesToMs > fromMs ? await store.listSeriesInWindow(this.#db, userId, { fromMs, toMs: seriesToMs }, source) : [];
    const pacer = new EventLoopPacer();
    for (const series of seriesList) {
      await pacer.pace();
      const overrides = await store.findOverrides(this.#db, userId, series.id);
      const skip = new Set(overrides.map((o) => o.original_start_ms!));
      // A page needs at most limit + 1 rows from any one series (they come in start order): a
      // dense series is expanded that far, not to the 10,000 occurrences a window may hold.
      // Rows after the cursor start at or after its start, so the expansion can begin there.
      let taken = 0;
      const window = { fromMs: after ? Math.max(fromMs, after.ms) : fromMs, toMs: seriesToMs };
      const compiled = compiledSeriesOf(series, this.#zoneWarnings);
      for (const _ of compiled.walkUntil(seriesToMs)) await pacer.pace();
      // In steps: a rule that seldom matches can search years of the window for its next one.
      for (const occurrence of compiled.overlappingInSteps(window, { skipOriginalStartsMs: skip })) {
        if (occurrence === null) {
          await pacer.pace();
          continue;
        }
        const row = occurrenceRow(series, effectiveFromRule(series, occurrence));
        if (after && !isAfter(row, after)) continue;
        occurrences.push(row);
        if (++taken > limit) break;
      }
    }
    const merged = [...plain, ...occurrences].sort(compareRows).slice(0, limit + 1);
    const hasMore = merged.length > limit;
    const page = merged.slice(0, limit);
    const last = page.at(-1);
    return {
      results: await this.#views(page),
      next: hasMore && last ? eventCursor.encode(last.start_ms, last.id) : null,
      previous: null,
      has_more: hasMore,
    };
  }

  /**
   * GET /calendar/events/changes: the user's events in the order of their latest change, each as
   * stored (a series as its own row, deleted ones with is_deleted), from the position a cursor
   * names (from the beginning without one). An event changed again moves to its new place, so a
   * client that reads to the end holds the latest state of every event; `next_cursor` is where
   * to go on from later, even on an empty page.
   */
  async changes(userId: string, query: { cursor?: string; limit?: number }): Promise<EventChangePage> {
    const limit = query.limit ?? 50;
    // Positions on PostgreSQL are its transaction ids: a cursor names the server that issued it.
    this.#feedServer ??= this.#engine === 'postgres'
      ? serverIdentifier(this.#db).catch((error: unknown) => {
        this.#feedServer = null;
        throw error;
      })
      : Promise.resolve('');
    const server = await this.#feedServer;
    const cursor = query.cursor !== undefined ? changeCursor.decode(query.cursor) : { ...FEED_START, server };
    if (cursor.server !== server || (this.#engine === 'postgres' && await isAheadOfServer(this.#db, cursor))) {
      throw new ApiError('invalid_cursor', 'cursor: issued before the database moved to another server or was restored to an earlier point; start again without a cursor', { details: { field: 'cursor' } });
    }
    // One extra row tells whether another page exists.
    const found = await listEventChanges(this.#db, this.#engine, userId, cursor, limit + 1);
    const page = found.slice(0, limit);
    return {
      results: await this.#views(page.map((change) => change.row)),
      next_cursor: changeCursor.encode({ ...(page.at(-1)?.position ?? cursor), server }),
      has_more: found.length > limit,
    };
  }

  /**
   * The listing's source filters. calendar_id is a connection id or a provider calendar id
   * (MeetStream's clients send the latter), or `primary`: the primary calendar of each connection
   * in scope (an ICS feed's one calendar counts as primary). provider and account_id narrow to
   * connections as GET /calendar lists them; events of a disconnected calendar that were kept
   * (purge_events: false) still match provider and calendar_id, not account_id.
   */
  async #sourceFilter(userId: string, query: ListQuery): Promise<store.EventSourceFilter | null> {
    const scope = parseCalendarScope(query);
    const filter: store.EventSourceFilter = {};
    if (scope.provider !== null) filter.platform = platformOf(scope.provider);
    const isPrimary = query.calendar_id === 'primary';
    if (scope.accountId !== null || isPrimary) {
      const rows = (await connections.listConnections(this.#db, userId)).filter((row) => matchesScope(row, scope));
      if (isPrimary) {
        filter.calendars = [];
        for (const row of rows) {
          if (row.provider === 'ics') {
            filter.calendars.push({ connectionId: row.id, providerCalendarId: null });
            continue;
          }
          const primary = (await connections.listCalendars(this.#db, row.id)).find((c) => c.is_primary === 1);
          if (primary) filter.calendars.push({ connectionId: row.id, providerCalendarId: primary.provider_calendar_id });
        }
      } else {
        filter.connectionIds = rows.map((row) => row.id);
      }
    }
    if (query.calendar_id !== undefined && !isPrimary) filter.calendarId = query.calendar_id;
    return Object.keys(filter).length === 0 ? null : filter;
  }

  /** Resolves an event id (single, series or occurrence id) for scheduling. */
  async resolveTarget(db: store.Db, userId: string, eventId: string, known: ReadonlyMap<string, EventRow> = new Map()): Promise<EventTarget> {
    // Rows the caller has just read (and locked) need not be read again.
    const find = async (id: string) => known.get(id) ?? store.findEvent(db, userId, id);
    const ref = parseOccurrenceId(eventId);
    if (ref) {
      const series = await find(ref.seriesId);
      if (!series || series.recurrence === null) throw notFound(eventId);
      const occurrence = await this.findEffectiveOccurrence(db, userId, series, ref.originalStartMs);
      if (!occurrence) throw notFound(eventId);
      return { kind: 'occurrence', series, occurrence };
    }
    const event = await find(eventId);
    if (!event) throw notFound(eventId);
    if (event.recurrence !== null) return { kind: 'series', series: event };
    if (event.recurring_event_id !== null && event.original_start_ms !== null) {
      // An override instance stands for the occurrence it replaces.
      const series = await find(event.recurring_event_id);
      if (series && series.recurrence !== null) {
        return { kind: 'occurrence', series, occurrence: effectiveFromOverride(series, event) };
      }
    }
    return { kind: 'single', event };
  }

  /** The occurrence with this original start, as it will happen (override applied), or null. */
  async findEffectiveOccurrence(db: store.Db, userId: string, series: EventRow, originalStartMs: number): Promise<EffectiveOccurrence | null> {
    const override = await store.findOverride(db, userId, series.id, originalStartMs);
    if (override) return effectiveFromOverride(series, override);
    const occurrence = await ruleOccurrence(series, originalStartMs, this.#zoneWarnings);
    return occurrence ? effectiveFromRule(series, occurrence) : null;
  }

  /**
   * Occurrences of a series that have not ended at `afterMs` and start within five years of it,
   * in order, overrides applied. Rule occurrences are found from `afterMs` on (never by walking
   * the series from its start, except for a COUNT rule, whose walk gives the event loop turns),
   * and overridden ones through their override rows, so a series that began long ago, or in
   * year 0, is as cheap as a new one. When the rule cannot be counted up to `afterMs` within the
   * expansion's work limit (a COUNT rule with more than 10,000 instances before it) nothing is
   * found; with refuseUncountable that is a 400 recurrence_too_long rather than a silent "ended"
   * (scheduling asks for it; auto-schedule just finds nothing to book).
   */
  async upcomingOccurrences(db: store.Db, userId: string, series: EventRow, afterMs: number, limit: number, options: { refuseUncountable?: boolean } = {}): Promise<EffectiveOccurrence[]> {
    return (await this.#upcoming(db, userId, series, afterMs, limit, options)).occurrences;
  }

  /**
   * upcomingOccurrences, and when the series' rule ends as that walk found it
   * (SeriesOccurrences.countedLastEndMs): known for a COUNT rule whatever its COUNT once the walk
   * counted it out, null for a rule without end or one too long to count.
   */
  async upcomingAndLastEnd(db: store.Db, userId: string, series: EventRow, afterMs: number, limit: number, options: { refuseUncountable?: boolean } = {}): Promise<{ occurrences: EffectiveOccurrence[]; lastEndMs: number | null }> {
    const { view, occurrences, pacer } = await this.#upcoming(db, userId, series, afterMs, limit, options);
    return { occurrences, lastEndMs: await view.countedLastEndMs(pacer) };
  }

  async #upcoming(db: store.Db, userId: string, series: EventRow, afterMs: number, limit: number, options: { refuseUncountable?: boolean }) {
    const beforeMs = afterMs + SERIES_HORIZON_MS;
    const view = await this.seriesOccurrences(db, userId, series);
    const pacer = new EventLoopPacer();
    await view.walkUntil(beforeMs, pacer);
    return { view, occurrences: await view.upcoming(afterMs, beforeMs, limit, pacer, options), pacer };
  }

  /** A series with its overrides, read once, for the many questions one change or request asks. */
  async seriesOccurrences(db: store.Db, userId: string, series: EventRow): Promise<SeriesOccurrences> {
    return new SeriesOccurrences(series, await store.findOverrides(db, userId, series.id), this.#zoneWarnings);
  }

  /**
   * The overrides of a series whose time or rule changed (`before` -> `after`) follow their
   * occurrences (reanchorOverrides in series-move.ts): each moves to the occurrence that replaced
   * its own, keeping a time of its own and otherwise taking the new occurrence's
   * (overrideTimesAfterChange); one whose occurrence is gone (dropped by the change, or its
   * replacement cannot be told) is deleted. Answers the occurrences overrides moved from and to.
   */
  async #reanchorOverrides(trx: Transaction<Schema>, userId: string, before: EventRow, after: EventRow, live: readonly EventRow[]): Promise<Map<number, number>> {
    const moved = new Map<number, number>();
    const overrides = live.filter((o) => o.original_start_ms !== null);
    if (overrides.length === 0) return moved;
    const old = new SeriesOccurrences(before, [], this.#zoneWarnings);
    const changed = after.recurrence !== null ? new SeriesOccurrences(after, [], this.#zoneWarnings) : null;
    // A COUNT rule is counted once, in steps, past the last override's day (its replacement may be later).
    const pacer = new EventLoopPacer();
    const lastMs = Math.max(...overrides.map((o) => o.original_start_ms!));
    await old.walkUntil(lastMs + 1, pacer);
    await changed?.walkUntil(lastMs + 2 * DAY_MS, pacer);
    const anchors = reanchorOverrides(overrides.map((o) => ({ id: o.id, originalStartMs: o.original_start_ms! })), {
      has: (ms) => changed?.find(ms) != null,
      hadBefore: (ms) => old.find(ms) !== null,
      replacementFor: (ms, isFree) => changed?.replacementFor(ms, isFree),
    });
    const now = this.#clock.now();
    // Those that go first, so that no override is moved onto an original start another still names.
    const gone = overrides.filter((o) => anchors.get(o.id) === null);
    if (gone.length > 0) await trx.updateTable('events').set({ is_deleted: 1, updated_at: now }).where('user_id', '=', userId).where('id', 'in', gone.map((o) => o.id)).execute();
    for (const override of overrides) {
      const anchor = anchors.get(override.id);
      if (anchor === null || anchor === undefined || !changed) continue;
      const occurrence = changed.find(anchor)!;
      const previous = old.find(override.original_start_ms!);
      const times = overrideTimesAfterChange({ startMs: override.start_ms, endMs: override.end_ms }, previous, occurrence);
      if (anchor === override.original_start_ms && times.startMs === override.start_ms && times.endMs === override.end_ms) continue;
      await store.updateEvent(trx, userId, override.id, { original_start_ms: anchor, start_ms: times.startMs, end_ms: times.endMs, updated_at: now });
      if (anchor !== override.original_start_ms) moved.set(override.original_start_ms!, anchor);
    }
    return moved;
  }

  async #views(rows: EventRow[]): Promise<EventView[]> {
    const links = await listBotsForEvents(this.#db, rows.map((r) => linkKeyOfRow(r)));
    const seriesZones = await this.#seriesDayZones(rows);
    return rows.map((row) => toView(row, links.get(linkKeyString(linkKeyOfRow(row))) ?? [], seriesZones));
  }

  /**
   * The all-day zone of the series of each occurrence among these rows whose raw Rollcall shapes
   * (googleShapedRaw: its originalStartTime is in its series' form), keyed "<user id> <series id>".
   */
  async #seriesDayZones(rows: readonly EventRow[]): Promise<Map<string, string | null>> {
    const wanted = new Map<string, string[]>();
    for (const row of rows) {
      if (!isShapedRaw(row) || row.recurring_event_id === null || row.original_start_ms === null) continue;
      wanted.set(row.user_id, [...(wanted.get(row.user_id) ?? []), row.recurring_event_id]);
    }
    const zones = new Map<string, string | null>();
    for (const [userId, ids] of wanted) {
      for (const [id, zone] of await store.allDayZonesOfEvents(this.#db, userId, ids)) zones.set(`${userId} ${id}`, zone);
    }
    return zones;
  }

  /** Validates input (merged over `existing` for a patch) into the columns to store. */
  async #buildRow(db: store.Db, userId: string, input: EventInput, existing: EventRow | null) {
    const pick = <K extends keyof EventInput>(key: K, current: EventInput[K]): EventInput[K] =>
      Object.hasOwn(input, key) ? input[key] : current;
    const seriesId = pick('recurring_event_id', existing?.recurring_event_id ?? null) ?? null;
    // A synced occurrence of a series that is not stored has an original start and no series: it
    // is kept as it is (below), not read as an override asked for without its series.
    const isLoneOccurrence = existing !== null && existing.recurring_event_id === null && existing.original_start_ms !== null;
    const originalStart = pick('original_start_time', isLoneOccurrence ? null : formatOptionalInstant(existing?.original_start_ms)) ?? null;
    if (existing && seriesId !== existing.recurring_event_id) {
      throw new ApiError('validation_error', 'recurring_event_id cannot be changed', { details: { field: 'recurring_event_id' } });
    }

    let series: EventRow | null = null;
    let originalStartMs: number | null = null;
    let occurrence: Occurrence | null = null;
    if (seriesId !== null || originalStart !== null) {
      if (seriesId === null || originalStart === null) {
        throw new ApiError('validation_error', 'recurring_event_id and original_start_time must be given together', { details: { field: seriesId === null ? 'recurring_event_id' : 'original_start_time' } });
      }
      originalStartMs = requireInstant(originalStart, 'original_start_time');
      series = (await store.findEvent(db, userId, seriesId)) ?? null;
      if (!series || series.is_deleted || series.recurrence === null) {
        throw new ApiError('event_not_found', `recurring_event_id: no recurring series ${seriesId}`, { details: { field: 'recurring_event_id' } });
      }
      occurrence = await ruleOccurrence(series, originalStartMs, this.#zoneWarnings);
      if (!occurrence) {
        throw new ApiError('occurrence_not_found', `original_start_time: series ${seriesId} has no occurrence starting at ${formatInstant(originalStartMs)}`, { details: { field: 'original_start_time' } });
      }
    }

    const title = pick('title', existing ? existing.title : series?.title ?? null) ?? null;
    const description = pick('description', existing ? existing.description : series?.description ?? null) ?? null;
    const location = pick('location', existing ? existing.location : series?.location ?? null) ?? null;
    const timezone = pick('timezone', existing ? existing.timezone : series?.timezone ?? null) ?? null;
    const recurrence = pick('recurrence', existing?.recurrence ? (JSON.parse(existing.recurrence) as string[]) : null) ?? null;
    const status = pick('status', (existing?.status as EventStatus | undefined) ?? 'confirmed') ?? 'confirmed';
    // The stored meeting_url is either the one a client gave or one detected from location /
    // description; only a given one is kept when those change, a detected one is detected again.
    // A new override starts from its series' link as the series holds it: given, or found in the
    // text the override copies (and then looked for again when the override's text changes).
    const givenMeetingUrl = pick('meeting_url', existing ? explicitMeetingUrlOf(existing) : series ? explicitMeetingUrlOf(series) : null) ?? null;

    const defaultStart = existing ? formatInstant(existing.start_ms) : occurrence ? formatInstant(occurrence.startMs) : undefined;
    const defaultEnd = existing ? formatInstant(existing.end_ms) : occurrence ? formatInstant(occurrence.endMs) : undefined;
    const startText = pick('start_time', defaultStart);
    const endText = pick('end_time', defaultEnd);
    if (startText === undefined) throw new ApiError('validation_error', 'start_time is required', { details: { field: 'start_time' } });
    if (endText === undefined) throw new ApiError('validation_error', 'end_time is required', { details: { field: 'end_time' } });
    const startMs = requireInstant(startText, 'start_time');
    const endMs = requireInstant(endText, 'end_time');
    if (endMs <= startMs) throw new ApiError('invalid_time', 'end_time must be after start_time', { details: { field: 'end_time' } });
    if (endMs - startMs > MAX_DURATION_MS) throw new ApiError('invalid_time', 'end_time: an event may last at most 31 days', { details: { field: 'end_time' } });

    if (timezone !== null && !isValidTimeZone(timezone)) {
      throw new ApiError('invalid_recurrence', `timezone: "${timezone}" is not an IANA time zone`, { details: { field: 'timezone' } });
    }
    if (recurrence !== null) {
      if (series) throw new ApiError('validation_error', 'recurrence: an override instance cannot have its own recurrence', { details: { field: 'recurrence' } });
      if (timezone === null) throw new ApiError('validation_error', 'timezone is required when recurrence is set', { details: { field: 'timezone' } });
      if (recurrence.length === 0) throw new ApiError('invalid_recurrence', 'recurrence: give at least an RRULE or RDATE line, or null for a single event', { details: { field: 'recurrence' } });
      const check = validateRecurrence(recurrence);
      if (!check.ok) throw new ApiError('invalid_recurrence', `recurrence[${check.line}]: ${check.message}`, { details: { field: `recurrence.${check.line}` } });
    }
    if (existing && existing.recurrence === null && recurrence !== null && (await store.findOverrides(db, userId, existing.id)).length > 0) {
      throw new ApiError('validation_error', 'recurrence: this event has override instances', { details: { field: 'recurrence' } });
    }
    if (givenMeetingUrl !== null && !isHttpUrl(givenMeetingUrl)) {
      throw new ApiError('invalid_meeting_url', 'meeting_url must be an absolute http(s) URL', { details: { field: 'meeting_url' } });
    }
    const meeting = resolveMeetingLink({ meetingUrl: givenMeetingUrl, location, description });

    const recurrenceText = recurrence === null ? null : JSON.stringify(recurrence);
    // A synced series in a zone no IANA zone keeps stays in it while its time zone is not changed
    // (its timezone is that zone's stand-in); a time zone given names an IANA zone instead.
    const zoneRules = recurrenceText !== null && existing && existing.timezone === timezone ? existing.zone_rules : null;
    return {
      title, description, location, timezone, status,
      start_ms: startMs,
      end_ms: endMs,
      recurrence: recurrenceText,
      zone_rules: zoneRules,
      series_end_ms: await seriesEndToStore({ start_ms: startMs, end_ms: endMs, timezone, recurrence: recurrenceText, zone_rules: zoneRules }, existing),
      recurring_event_id: seriesId,
      // Only while it stays a single event: given a recurrence, it is a series of its own, no occurrence.
      original_start_ms: originalStartMs ?? (isLoneOccurrence && seriesId === null && recurrence === null ? existing.original_start_ms : null),
      meeting_url: meeting?.url ?? null,
      meeting_platform: meeting?.platform ?? null,
      meeting_identity: meeting?.identity ?? null,
      meeting_url_given: givenMeetingUrl !== null ? 1 : 0,
      raw: JSON.stringify({ summary: title, description, location }),
      // An event written here is a time. A synced all-day event stays a day while its start, end
      // and time zone stay as they are (a new title or link); given other times, it is those times.
      is_all_day: existing !== null && existing.is_all_day === 1 && startMs === existing.start_ms && endMs === existing.end_ms && timezone === existing.timezone ? 1 : 0,
    };
  }
}

/**
 * One series as a change (or a request) sees it: its rule compiled once, its overrides read
 * once, each local day it is asked about expanded once. BotScheduling.eventChanged asks it about
 * every linked bot, so that a series with hundreds of bots is expanded once per change rather
 * than once per bot.
 */
export class SeriesOccurrences {
  readonly series: EventRow;
  readonly #compiled: CompiledSeries;
  readonly #overrides: Map<number, EventRow>;
  /** Per local date: the original starts generated so far, and the rest still to generate. */
  readonly #days = new Map<string, { starts: number[]; rest: Iterator<Occurrence> | null }>();
  /** The rule's usual spacing (#spacingAround), once asked. */
  #spacing: number | null | undefined;

  constructor(series: EventRow, overrides: readonly EventRow[], warnings: StoredZoneWarnings | null) {
    this.series = series;
    this.#compiled = compiledSeriesOf(series, warnings);
    this.#overrides = new Map();
    for (const override of overrides) {
      if (override.original_start_ms !== null && !this.#overrides.has(override.original_start_ms)) this.#overrides.set(override.original_start_ms, override);
    }
  }

  /** The occurrence with this original start as it will happen (override applied), or null. */
  find(originalStartMs: number): EffectiveOccurrence | null {
    const override = this.#overrides.get(originalStartMs);
    if (override) return effectiveFromOverride(this.series, override);
    const occurrence = this.#compiled.find(originalStartMs);
    return occurrence ? effectiveFromRule(this.series, occurrence) : null;
  }

  /**
   * The index-th original start of the rule's occurrences on a local date (series zone), in
   * order, or undefined past the last. Each date is generated once and only as far as asked: a
   * dense series asked for its first free occurrence of a day pays for those it passes.
   */
  originalStartOnLocalDate(isoDate: string, index: number): number | undefined {
    let day = this.#days.get(isoDate);
    if (!day) {
      day = { starts: [], rest: this.#compiled.startingOnLocalDate(isoDate) };
      this.#days.set(isoDate, day);
    }
    while (day.starts.length <= index && day.rest) {
      const next = day.rest.next();
      if (next.done) day.rest = null;
      else day.starts.push(next.value.originalStartMs);
    }
    return day.starts[index];
  }

  /**
   * The original start of the occurrence that took the place of one the rule no longer has (the
   * series was re-timed or moved): the first on the same local date that `isFree` accepts; else,
   * for a series moved to another day (unless `isSameDayOnly`), the nearest accepted one within
   * half the series' usual spacing (series-move.ts). Undefined when neither: the occurrence was
   * dropped.
   */
  replacementFor(originalStartMs: number, isFree: (originalStartMs: number) => boolean, options: { isSameDayOnly?: boolean } = {}): number | undefined {
    const day = this.localDateOf(originalStartMs);
    for (let i = 0, candidate = this.originalStartOnLocalDate(day, i); candidate !== undefined; candidate = this.originalStartOnLocalDate(day, ++i)) {
      if (isFree(candidate)) return candidate;
    }
    if (options.isSameDayOnly) return undefined;
    const spacing = this.#spacingAround(originalStartMs);
    if (spacing === null) return undefined;
    const near = this.#compiled.expand({ fromMs: originalStartMs - spacing / 2, toMs: originalStartMs + spacing / 2 }, { limit: 16 });
    return nearestReplacement(originalStartMs, near.map((o) => o.originalStartMs).filter(isFree), spacing);
  }

  /**
   * The rule's usual spacing near an instant, measured once per change over at least
   * SPACING_SAMPLE occurrences when the series has them (a month either side, else a year, else
   * ten): fewer would let the gap the vanished occurrence left count as the usual one, and a
   * monthly occurrence dropped by an EXDATE would "move" to the month before.
   */
  #spacingAround(ms: number): number | null {
    if (this.#spacing === undefined) {
      let starts: number[] = [];
      for (const reach of [32 * DAY_MS, 400 * DAY_MS, 4000 * DAY_MS]) {
        starts = this.#compiled.expand({ fromMs: ms - reach, toMs: ms + reach }, { limit: 64 }).map((o) => o.originalStartMs);
        if (starts.length >= SPACING_SAMPLE) break;
      }
      this.#spacing = usualSpacingMs(starts);
    }
    return this.#spacing;
  }

  /**
   * Walks a COUNT rule up to `untilMs` giving the event loop turns (CompiledSeries.walkUntil), so
   * that questions about instants before it are answered from memory.
   */
  async walkUntil(untilMs: number, pacer: EventLoopPacer): Promise<void> {
    await paceSteps(this.#compiled.walkUntil(untilMs), pacer);
  }

  /** The local date (YYYY-MM-DD) of an instant in the series zone. */
  localDateOf(ms: number): string {
    return this.#compiled.localDateOf(ms);
  }

  /**
   * When the rule's last occurrence ends, as far as it is counted (CompiledSeries.countedLastEndMs);
   * a COUNT rule short enough to be counted out is walked to its end in steps first.
   */
  async countedLastEndMs(pacer: EventLoopPacer): Promise<number | null> {
    await paceSteps(this.#compiled.lastEndSteps(), pacer);
    return this.#compiled.countedLastEndMs();
  }

  /**
   * The occurrence a local date (series zone) names, as it will happen: one that happens on that
   * date (its own occurrence before one moved there from another day, one going ahead before a
   * cancelled one); else one whose original start is on the date and that was moved to another
   * day (still the one the date named). Null when the date has neither. Of a day with several
   * (a rule that repeats within a day), one that has not ended at `nowMs` comes before those
   * that have: "today's" is the one still to come. Walk a COUNT rule past the date and the
   * overrides first (walkUntil).
   */
  onLocalDate(isoDate: string, nowMs: number): EffectiveOccurrence | null {
    const candidates: { occurrence: EffectiveOccurrence; rank: number }[] = [];
    for (let i = 0, start = this.originalStartOnLocalDate(isoDate, i); start !== undefined; start = this.originalStartOnLocalDate(isoDate, ++i)) {
      const occurrence = this.find(start);
      if (!occurrence) continue;
      const movedAway = this.localDateOf(occurrence.startMs) !== isoDate;
      candidates.push({ occurrence, rank: movedAway ? 4 : occurrence.status === 'cancelled' ? 2 : 0 });
    }
    for (const [originalStartMs, override] of this.#overrides) {
      if (this.localDateOf(override.start_ms) !== isoDate || this.localDateOf(originalStartMs) === isoDate) continue;
      if (!this.#compiled.find(originalStartMs)) continue;
      const occurrence = effectiveFromOverride(this.series, override);
      candidates.push({ occurrence, rank: occurrence.status === 'cancelled' ? 3 : 1 });
    }
    // Those going ahead on the date (ranks 0 and 1) first, the ones still to come before them.
    const order = ({ occurrence, rank }: { occurrence: EffectiveOccurrence; rank: number }) => (rank <= 1 ? (occurrence.endMs <= nowMs ? 1 : 0) : rank);
    candidates.sort((a, b) => order(a) - order(b) || a.rank - b.rank || a.occurrence.startMs - b.occurrence.startMs);
    return candidates[0]?.occurrence ?? null;
  }

  /**
   * The series' first `limit` occurrences by original start that had not ended at `afterMs` (by
   * their original times) and start before `beforeMs`, overrides applied: a set that moving one of
   * them does not change. It is what a `schedule_all_occurrences` batch booked at `afterMs` covers
   * of what can be booked now: a booking reaches SERIES_HORIZON_MS ahead of its time
   * (CalendarEvents.upcomingOccurrences), so the caller asks up to the horizon from now, and the
   * search stops there rather than at the 10,000-instance cap; it goes in steps, with `pacer`
   * giving the event loop turns between them. Walk a COUNT rule up to `beforeMs` first (walkUntil).
   */
  async firstByOriginalStart(afterMs: number, limit: number, beforeMs: number, pacer: EventLoopPacer): Promise<EffectiveOccurrence[]> {
    const found = await paceSteps(this.#compiled.upcomingSteps(afterMs, limit, { beforeMs }), pacer);
    return found.occurrences.map((o) => this.find(o.originalStartMs) ?? effectiveFromRule(this.series, o));
  }

  /**
   * Whether the rule has an occurrence not ended at `afterMs` (by its original times) that starts
   * before `beforeMs`, or cannot tell (its search stopped at a work cap). A rule whose end is known
   * and comes by `afterMs` has none; otherwise the first such occurrence is searched for in steps,
   * with `pacer` giving the event loop turns between them, however far it lies.
   */
  async hasOccurrenceAfter(afterMs: number, beforeMs: number, pacer: EventLoopPacer): Promise<boolean> {
    const lastEndMs = await this.countedLastEndMs(pacer);
    if (lastEndMs !== null && lastEndMs <= afterMs) return false;
    const found = await paceSteps(this.#compiled.upcomingSteps(afterMs, 1, { beforeMs }), pacer);
    return found.occurrences.length > 0 || found.isTruncated;
  }

  /** The latest original start an override of this series names (how far a COUNT rule is walked for onLocalDate). */
  get lastOverriddenStartMs(): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const startMs of this.#overrides.keys()) if (startMs > last) last = startMs;
    return last;
  }

  /**
   * See CalendarEvents.upcomingOccurrences (walk a COUNT rule up to beforeMs first, to spread its
   * cost). The rule is searched in steps with `pacer` giving the event loop turns between them.
   */
  async upcoming(afterMs: number, beforeMs: number, limit: number, pacer: EventLoopPacer, options: { refuseUncountable?: boolean } = {}): Promise<EffectiveOccurrence[]> {
    // The first `limit` rule occurrences that no override replaces, plus every override of an
    // occurrence the rule still has: an override can move its occurrence anywhere, so those are
    // checked one by one instead of being looked for near `afterMs`.
    const found = await paceSteps(this.#compiled.upcomingSteps(afterMs, limit, { beforeMs, skipOriginalStartsMs: new Set(this.#overrides.keys()) }), pacer);
    const result = found.occurrences.map((o) => effectiveFromRule(this.series, o));
    for (const [originalStartMs, override] of this.#overrides) {
      if (override.end_ms <= afterMs || override.start_ms >= beforeMs) continue;
      if (!this.#compiled.find(originalStartMs)) continue;
      result.push(effectiveFromOverride(this.series, override));
    }
    if (result.length === 0 && found.isTruncated && options.refuseUncountable) {
      throw new ApiError('recurrence_too_long', `Series ${this.series.id}: its rule has more occurrences before ${formatInstant(afterMs)} than Rollcall counts (10,000 from the series start); end the series and start a new one from today`, { details: { field: 'recurrence' } });
    }
    result.sort((a, b) => a.startMs - b.startMs || a.originalStartMs - b.originalStartMs);
    return result.slice(0, limit);
  }
}

/**
 * The rule's occurrence at an original start, or null. A COUNT rule is counted from its start in
 * steps that give the event loop turns, so a long one does not hold it.
 */
async function ruleOccurrence(series: EventRow, originalStartMs: number, warnings: StoredZoneWarnings | null): Promise<Occurrence | null> {
  const compiled = compiledSeriesOf(series, warnings);
  const pacer = new EventLoopPacer();
  for (const _ of compiled.walkUntil(originalStartMs + 1)) await pacer.pace();
  return compiled.find(originalStartMs);
}

/** The meeting_url of a stored event if a client gave it; null if it was found in the text. */
function explicitMeetingUrlOf(row: EventRow): string | null {
  if (row.meeting_url === null || row.meeting_url_given === 0) return null;
  if (row.meeting_url_given === 1) return row.meeting_url;
  // Synced, or written before migration 033: a link the text does not hold was given.
  const detected = resolveMeetingLink({ meetingUrl: null, location: row.location, description: row.description });
  return detected?.url === row.meeting_url ? null : row.meeting_url;
}

/** A series' stored fields; `id` names it in the warning about stored zone rules that cannot be read (a row being written has none yet). */
type SeriesFields = Pick<EventRow, 'start_ms' | 'end_ms' | 'timezone' | 'recurrence' | 'zone_rules'> & { id?: string };

/**
 * The series_end_ms to write with a row (migration 036): null for a single event; the end stored
 * before when the rule, times and zone are as they were (a COUNT rule is walked only when it
 * changes); else the end its rule gives.
 */
export async function seriesEndToStore(row: SeriesFields, before: (SeriesFields & Pick<EventRow, 'series_end_ms'>) | null | undefined, pacer = new EventLoopPacer()): Promise<number | null> {
  if (row.recurrence === null) return null;
  if (before && before.series_end_ms !== null && before.recurrence === row.recurrence && before.start_ms === row.start_ms
    && before.end_ms === row.end_ms && before.timezone === row.timezone && before.zone_rules === row.zone_rules) return Number(before.series_end_ms);
  try {
    // A row being written: the sync reading its feed reports what it cannot read. Its COUNT walk
    // gives the event loop turns (in a zone read by its own rules, a hundred yearly instances took
    // 30-50 ms, over 100 ms on a busy machine), and so does the compile when the work before it
    // (reading and checking the row) has used up a slice: a series with thousands of EXDATE/RDATE
    // values reads and sorts them (their placement waits for a question that reaches them).
    await pacer.pace();
    return await paceSteps(compiledSeriesOf(row, null).lastEndSteps(), pacer);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

/** Series reported, kept so that a series read for each of its occurrences is reported once; bounded. */
const REPORTED_ZONES_KEPT = 4096;

/**
 * Reports stored zone rules Rollcall cannot read, once per series and stored text, to one
 * instance's logger. Made by the container and handed to what compiles stored series
 * (CalendarEvents, which CalendarSync reads it from, and BotManagement), so that two instances
 * in one process report each to its own logger.
 */
export class StoredZoneWarnings {
  readonly #logger: Pick<Logger, 'warn'>;
  readonly #reported = new Set<string>();

  constructor(logger: Pick<Logger, 'warn'>) {
    this.#logger = logger;
  }

  report(series: SeriesFields, reason: string): void {
    if (series.id === undefined) return;
    // Keyed by the text's length and ends too, so that other rules stored later are reported again.
    const text = series.zone_rules ?? '';
    const key = `${series.id}\n${text.length}\n${text.slice(0, 64)}\n${text.slice(-64)}`;
    if (this.#reported.has(key)) return;
    if (this.#reported.size >= REPORTED_ZONES_KEPT) this.#reported.clear();
    this.#reported.add(key);
    this.#logger.warn({ eventId: series.id, zoneRulesChars: text.length, reason },
      'a recurring series\' stored zone rules cannot be read; it is placed in its stand-in zone (its timezone) until its feed writes them again');
  }
}

/**
 * A stored series parsed and placed once. An ICS series in a zone no IANA zone keeps is placed by
 * that zone's rules, every year. Stored rules that cannot place the series (a row written by
 * hand, or damaged) leave it in its stand-in zone (its timezone), as a row without them is read,
 * rather than failing every read; that is reported to `warnings` (once per series), when given.
 * Throws RangeError, as compileSeries does, for a series that cannot be read at all.
 */
export function compiledSeriesOf(series: SeriesFields, warnings: StoredZoneWarnings | null): CompiledSeries {
  const definition: SeriesDefinition = {
    startMs: series.start_ms,
    endMs: series.end_ms,
    timeZone: series.timezone ?? 'UTC',
    recurrence: series.recurrence ? (JSON.parse(series.recurrence) as string[]) : [],
  };
  if (series.zone_rules === null || series.zone_rules === undefined) return compileSeries(definition);
  const zoneRules = storedZoneRules(series.zone_rules);
  if (zoneRules === null) {
    const plain = compileSeries(definition);
    warnings?.report(series, 'not zone rules Rollcall reads (longer than 64 KB, not of their form, or past the limits a VTIMEZONE is read within)');
    return plain;
  }
  try {
    return compileSeries({ ...definition, zoneRules });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // A series that cannot be read in its stand-in zone either throws here, and is not the zone's fault.
    const plain = compileSeries(definition);
    warnings?.report(series, `they cannot place the series: ${error.message}`);
    return plain;
  }
}

function effectiveFromRule(series: EventRow, occurrence: Occurrence): EffectiveOccurrence {
  return {
    seriesId: series.id,
    key: occurrenceKey(occurrence.originalStartMs),
    originalStartMs: occurrence.originalStartMs,
    startMs: occurrence.startMs,
    endMs: occurrence.endMs,
    // Occurrences of a deleted series are gone with it.
    status: series.is_deleted ? 'cancelled' : series.status,
    meetingUrl: series.meeting_url,
    meetingPlatform: series.meeting_platform,
    meetingIdentity: series.meeting_identity,
    title: series.title,
    override: null,
  };
}

function effectiveFromOverride(series: EventRow, override: EventRow): EffectiveOccurrence {
  return {
    seriesId: series.id,
    key: occurrenceKey(override.original_start_ms!),
    originalStartMs: override.original_start_ms!,
    startMs: override.start_ms,
    endMs: override.end_ms,
    // An override cannot outlive its series: a deleted or cancelled series cancels it too.
    status: override.is_deleted || series.is_deleted || series.status === 'cancelled' ? 'cancelled' : override.status,
    meetingUrl: override.meeting_url,
    meetingPlatform: override.meeting_platform,
    meetingIdentity: override.meeting_identity,
    title: override.title,
    override,
  };
}

/** The id the event list shows for an occurrence: its override's when one moved or changed it, else its own. */
export function listedIdOf(occurrence: EffectiveOccurrence): string {
  return occurrence.override?.id ?? occurrenceIdOf(occurrence.seriesId, occurrence.originalStartMs);
}

/** A virtual row for one rule-generated occurrence, listed like an event. */
function occurrenceRow(series: EventRow, occurrence: EffectiveOccurrence): EventRow {
  return {
    ...series,
    id: occurrenceIdOf(series.id, occurrence.originalStartMs),
    start_ms: occurrence.startMs,
    end_ms: occurrence.endMs,
    recurrence: null,
    recurring_event_id: series.id,
    original_start_ms: occurrence.originalStartMs,
  };
}

/** Bots are linked to (series, occurrence key) for occurrences, whether overridden or not. */
function linkKeyOfRow(row: EventRow): { eventId: string; occurrenceKey: string } {
  if (row.recurring_event_id !== null && row.original_start_ms !== null) {
    return { eventId: row.recurring_event_id, occurrenceKey: occurrenceKey(row.original_start_ms) };
  }
  return { eventId: row.id, occurrenceKey: '' };
}

function linkKeyString(key: { eventId: string; occurrenceKey: string }): string {
  return `${key.eventId}|${key.occurrenceKey}`;
}

/** Google's and Graph's payloads stay as the provider sent them; the others get Google's keys (googleShapedRaw). */
function isShapedRaw(row: EventRow): boolean {
  return row.platform !== 'google_calendar' && row.platform !== 'outlook_calendar';
}

function toView(row: EventRow, bots: LinkedBotSummary[], seriesZones: ReadonlyMap<string, string | null>): EventView {
  const stored = JSON.parse(row.raw) as Record<string, unknown>;
  const platformId = platformIdOf(row, stored);
  const icalUid = icalUidOf(row, stored, platformId);
  return {
    id: row.id,
    calendar_id: row.calendar_id,
    title: row.title,
    description: row.description,
    location: row.location,
    start_time: formatInstant(row.start_ms),
    end_time: formatInstant(row.end_ms),
    timezone: row.timezone,
    meeting_url: row.meeting_url,
    meeting_platform: row.meeting_platform,
    recurrence: row.recurrence ? (JSON.parse(row.recurrence) as string[]) : null,
    recurring_event_id: row.recurring_event_id,
    original_start_time: formatOptionalInstant(row.original_start_ms),
    status: row.status,
    is_deleted: row.is_deleted === 1,
    created_at: formatInstant(row.created_at),
    updated_at: formatInstant(row.updated_at),
    raw: isShapedRaw(row) ? googleShapedRaw(row, stored, icalUid, seriesZones.get(`${row.user_id} ${row.recurring_event_id}`)) : stored,
    bots: bots.map((b) => ({
      id: b.botId,
      bot_id: b.botId,
      status: b.status,
      scheduled_join_time: formatInstant(b.joinAtMs),
      scheduled_time: formatInstant(b.joinAtMs),
      is_scheduled: b.status === 'Scheduled',
      bot_username: b.botName,
      platform: b.meetingPlatform,
    })),
    platform: row.platform,
    platform_id: platformId,
    ical_uid: icalUid,
    is_all_day: row.is_all_day === 1,
  };
}

/**
 * The event's id as its provider knows it: the stored key without the calendar prefix for Google
 * and Microsoft (`<calendar>/<event>`), the UID for an ICS event (an override shares its series'
 * UID; its RECURRENCE-ID is original_start_time). An occurrence Rollcall expands from a series
 * carries the series' id: Google treats instance ids as opaque and changes their format, so
 * Rollcall does not make them up.
 */
function platformIdOf(row: EventRow, raw: Record<string, unknown>): string | null {
  if (row.platform === null || row.provider_event_id === null) return null;
  if (row.platform === 'ics') return typeof raw.uid === 'string' ? raw.uid : row.provider_event_id.split('|')[0]!;
  const prefix = row.provider_calendar_id === null ? null : `${row.provider_calendar_id}/`;
  if (prefix !== null && row.provider_event_id.startsWith(prefix)) return row.provider_event_id.slice(prefix.length);
  return typeof raw.id === 'string' ? raw.id : row.provider_event_id;
}

/** A stored event's iCalendar UID (icalUidOf), read from its stored payload; null when that cannot be read. */
export function storedIcalUid(row: EventRow): string | null {
  let raw: unknown;
  try {
    raw = JSON.parse(row.raw);
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object') return null;
  const payload = raw as Record<string, unknown>;
  return icalUidOf(row, payload, platformIdOf(row, payload));
}

/** The provider's iCalendar UID: Google's iCalUID, Graph's iCalUId, an ICS feed's UID. */
function icalUidOf(row: EventRow, raw: Record<string, unknown>, platformId: string | null): string | null {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  switch (row.platform) {
    case 'google_calendar': return text(raw.iCalUID);
    case 'outlook_calendar': return text(raw.iCalUId);
    case 'ics': return platformId;
    default: return null;
  }
}

/**
 * raw for events written through the API and ICS events, with the keys of a Google Calendar
 * event, so that a client reading raw (for the title, or for recurrence) reads every source
 * alike: a series has `recurrence`; an occurrence (expanded or overridden) has
 * `recurringEventId` (Rollcall's series id, usable with this API) and `originalStartTime`, and an
 * occurrence of a series Rollcall does not store (a feed's override whose series is not in the
 * feed) `originalStartTime` alone, as it has no series id to give. What
 * was stored stays beside them (an ICS event's uid and VEVENT text, raw._rollcall); a text field
 * that was dropped from raw for size (raw._rollcall.dropped_raw_fields) is not put back.
 */
function googleShapedRaw(row: EventRow, stored: Record<string, unknown>, icalUid: string | null, seriesDayZone: string | null | undefined): Record<string, unknown> {
  const limits = stored[LIMITS_RAW_KEY] as { dropped_raw_fields?: unknown } | undefined;
  const dropped = new Set(Array.isArray(limits?.dropped_raw_fields) ? limits.dropped_raw_fields : []);
  // An all-day event's times are midnights in its zone (allDayZone): Google gives such an event
  // its days alone, as `date` (YYYY-MM-DD) with no dateTime or timeZone.
  const dayZone = allDayZone({ is_all_day: row.is_all_day === 1, platform: row.platform, timezone: row.timezone });
  const timeIn = (zone: string | null, timezone: string | null) => (ms: number) => (zone !== null
    ? { date: calendarDateIn(ms, zone) }
    : { dateTime: formatInstant(ms), ...(timezone !== null ? { timeZone: timezone } : {}) });
  const time = timeIn(dayZone, row.timezone);
  const shaped: Record<string, unknown> = { ...stored };
  for (const [key, value] of [['summary', row.title], ['description', row.description], ['location', row.location]] as const) {
    if (!Object.hasOwn(stored, key) && !dropped.has(key)) shaped[key] = value;
  }
  shaped.start = time(row.start_ms);
  shaped.end = time(row.end_ms);
  if (row.recurrence !== null) shaped.recurrence = JSON.parse(row.recurrence) as string[];
  if (row.recurring_event_id !== null) shaped.recurringEventId = row.recurring_event_id;
  // Where the series' rule put the occurrence, in the series' form whatever the override's own:
  // a date for an all-day series, a time for a timed one. Google's events resource: originalStartTime
  // is "the time at which this event would start according to the recurrence data in the recurring
  // event" (https://developers.google.com/workspace/calendar/api/v3/reference/events, field
  // originalStartTime; the same text in its discovery document, as in
  // https://pub.dev/documentation/googleapis/latest/calendar_v3/Event/originalStartTime.html).
  // A series not found (not expected) leaves the override's own form.
  if (row.original_start_ms !== null) {
    shaped.originalStartTime = (seriesDayZone === undefined ? time : timeIn(seriesDayZone, row.timezone))(row.original_start_ms);
  }
  shaped.status = row.status;
  shaped.iCalUID = icalUid;
  return shaped;
}

/** The calendar date (YYYY-MM-DD) an instant falls on in a zone. */
function calendarDateIn(ms: number, zone: string): string {
  let format = dateFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(zone, format);
  }
  return format.format(ms);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function compareRows(a: EventRow, b: EventRow): number {
  return a.start_ms - b.start_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Events and occurrences are paged by start, then id. */
const eventCursor = positionCursor('s');

/** The change feed's position: transaction id (x), sequence (q), event id (i), and the server (s) whose ids they are. */
const changeCursor = {
  encode: (position: ChangePosition & { server: string }) => encodeCursor({ x: position.xid, q: position.seq, i: position.id, s: position.server }),
  decode: (cursor: string) => decodeCursor<ChangePosition & { server: string }>(cursor, (value) => {
    const { x, q, i, s } = value;
    const isValid = typeof x === 'string' && /^\d{1,20}$/.test(x) && typeof q === 'number' && Number.isSafeInteger(q) && q >= 0
      && typeof i === 'string' && i.length <= 200 && typeof s === 'string' && /^\d{0,20}$/.test(s);
    return isValid ? { xid: x, seq: q, id: i, server: s } : null;
  }),
};

function isAfter(row: EventRow, after: Position): boolean {
  return row.start_ms > after.ms || (row.start_ms === after.ms && row.id > after.id);
}

/** `parse`: parseQueryInstant for a value from a query string. */
export function requireInstant(value: string, field: string, parse: (value: string) => number | null = parseInstant): number {
  const ms = parse(value);
  if (ms === null) {
    throw new ApiError('invalid_time', `${field} must be an ISO 8601 date-time with an offset, e.g. 2026-11-24T15:00:00Z`, { details: { field } });
  }
  return ms;
}

function notFound(id: string): ApiError {
  return new ApiError('event_not_found', `No event ${id}`);
}

/** One override instance per occurrence (a unique index): a second one for the same original start. */
function overrideTakenError(): ApiError {
  return new ApiError('validation_error', 'original_start_time: this occurrence already has an override instance; change that event instead', { details: { field: 'original_start_time' } });
}
