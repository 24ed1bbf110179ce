// Auto-schedule (per user, off by default): every upcoming event of the user's connected calendars
// that has a meeting URL gets a bot with the user's default bot_config, through the same schedule
// path as the API. Also tops up series scheduled with schedule_all_occurrences.
//
// Rules that keep it from doing harm:
// - One bot per meeting: the deduplication key is `auto:<meeting identity>:<start>`, so the same
//   meeting on several calendars (two attendees' calendars under one API user) shares one bot;
//   and a meeting that already has a live bot of this user at that time (a manual one) gets that
//   bot linked instead of a second one.
// - Once per event: an event or occurrence that has ever had a bot is never booked again, so a
//   bot the user cancelled stays cancelled and a finished bot is not re-sent every sync. A bot
//   taken back because the owner declined, or because the meeting stopped passing the rules,
//   does not count: accepting after all, or passing again, books it again.
// - Only upcoming events within the sync horizon, and meetings that started at most
//   LATE_START_GRACE_MS ago (a meeting created at its start, a link added late, a feed polled
//   after the start: the bot joins now); declined, cancelled, deleted and all-day events are
//   skipped, and so are entries that are no meeting (Google's focus time, out of office, working
//   location, birthdays, what Gmail made of an email: notAMeetingEntryType).
// - Only meetings the user's rules let through (src/domain/auto-schedule-rules.ts: organizer,
//   the owner's answer, participants, recurring); by default every one. A meeting that stops
//   passing them (the rules changed, or the meeting did) loses the bot this booked for it, until
//   that bot launches; it is booked again if it passes again.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import type { EventRow } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { AUTO_SCHEDULED_ATTRIBUTE, AUTO_SCHEDULE_KEY_PREFIX, DERIVED_KEY_PREFIX, applyBotConfigDefaults, findBookingRefusal, isAutoScheduledBot, autoScheduleKey, derivedDeduplicationKey, findRuntimeSettingProblem, occurrenceDeduplicationKey, type AppliedBotConfig, type BotConfigInput } from '../../domain/bot-config.ts';
import { occurrenceIdOf } from '../../domain/occurrence-id.ts';
import type { MeetingPlatform } from '../../domain/meeting-url.ts';
import { occurrenceKey } from '../../domain/recurrence.ts';
import { LIVE_STATUSES } from '../../domain/bot-status.ts';
import { isDeclinedInvitation, isDeclinedOccurrence, ownerAnswerOf } from '../../domain/invitation.ts';
import { DEFAULT_RULES, meetingFactsOf, notAMeetingEntryType, parseStoredRules, ruleRefusal, type AutoScheduleRules } from '../../domain/auto-schedule-rules.ts';
import type { OutboundGuard } from '../../adapters/outbound-guard.ts';
import type { CalendarEvents } from './calendar-events.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';
import type { BotScheduling } from '../scheduling/bot-scheduling.ts';
import * as connections from '../../store/connection-store.ts';
import { deleteSeriesBooking, listOpenSeriesBookings, type SeriesBookingRow } from '../../store/series-booking-store.ts';
import { findLiveSeries, listSeriesInstances, listSeriesInWindow } from '../../store/event-store.ts';
import { hasHadBot, isKeyHeldByLiveBot, listOccurrencesThatHadBots } from '../../store/bot-store.ts';
import { parseInstanceSeriesId, type InstanceSeries } from '../../domain/instance-series.ts';
import { SERIES_HORIZON_MS } from '../../domain/series-horizon.ts';
import type { AfterSyncHook } from './calendar-sync.ts';
import { checkUrlPromptly } from './calendar-connections.ts';

export interface AutoScheduleSettings {
  auto_schedule_enabled: boolean;
  /** {} for a user who never enabled it (as disable stores for one). */
  default_bot_config: BotConfigInput;
  /** Which meetings it books (defaults filled in). */
  rules: AutoScheduleRules;
}

interface Candidate {
  /** What the schedule endpoint is called with: an event id or an occurrence id. */
  eventId: string;
  linkEventId: string;
  occurrenceKey: string;
  startMs: number;
  meetingIdentity: string;
  meetingUrl: string | null;
  meetingPlatform: string | null;
  /** The copy the rules read. */
  subject: RuleSubject;
}

/** What the rules read of a candidate: the stored event that speaks for it, and its calendar. */
interface RuleSubject {
  /** The stored event whose copy is read (the event, or the occurrence's own copy). */
  eventId: string;
  raw: string;
  calendarId: string | null;
  isRecurring: boolean;
}

/** An upcoming meeting the rules leave without a bot: a bot auto-schedule booked for it is taken back. */
interface Refused {
  /** As in Candidate. */
  eventId: string;
  linkEventId: string;
  occurrenceKey: string;
  title: string | null;
  startMs: number;
  subject: RuleSubject;
  refusal: string;
}

/** What saving rules would do now (AutoSchedule.preview); nothing of it is written. */
export interface AutoSchedulePreview {
  /** The rules previewed, defaults filled in. */
  rules: AutoScheduleRules;
  /** Upcoming meetings that would get a new bot. */
  bots_scheduled: number;
  /** Meetings that would lose the bot auto-schedule booked for them (not launched yet). */
  bots_taken_back: number;
  /** Those meetings, soonest first, at most PREVIEW_LIST_LIMIT of them. */
  taken_back: PreviewedTakeBack[];
}

export interface PreviewedTakeBack {
  event_id: string;
  title: string | null;
  start_time: string;
  bot_id: string;
  /** Why the rules refuse the meeting. */
  refusal: string;
  /** Whether the bot goes with it (false: it stays for another copy of the meeting that passes). */
  bot_cancelled: boolean;
}

/** How many of the meetings that would lose their bot a preview names. */
const PREVIEW_LIST_LIMIT = 50;

/** Upcoming occurrences of one series looked at per pass. */
const OCCURRENCES_PER_SERIES = 100;

/**
 * How long after its start a meeting not yet booked still gets a bot (joining at once). Later
 * than this a bot arriving mid-meeting is more intrusion than help, and enabling auto-schedule
 * should not send bots into every meeting under way.
 */
export const LATE_START_GRACE_MS = 10 * 60_000;

/** A booking refused with these found the meeting changed or booked since it was read: no one needs to hear of it. */
const MOVED_ON: ReadonlySet<string> = new Set(['event_already_scheduled', 'deduplication_conflict', 'bot_active', 'bot_already_joined', 'event_ended', 'event_cancelled', 'event_not_found', 'occurrence_not_found']);
/** Refusals told at warn, remembered so that each is told once per process (runs repeat them after every sync). */
const TOLD_LIMIT = 10_000;

/** Over, or started more than LATE_START_GRACE_MS ago: no bot is booked for it any more. */
function hasStartedTooLongAgo(meeting: { startMs: number; endMs: number }, now: number): boolean {
  return meeting.startMs <= now - LATE_START_GRACE_MS || meeting.endMs <= now;
}

export class AutoSchedule implements AfterSyncHook {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #events: CalendarEvents;
  readonly #scheduling: BotScheduling;
  readonly #guard: OutboundGuard;
  readonly #horizonMs: number;
  readonly #logger: Logger;
  readonly #told = new Set<string>();

  constructor(deps: { database: Database; clock: Clock; events: CalendarEvents; scheduling: BotScheduling; guard: OutboundGuard; horizonMs: number; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#scheduling = deps.scheduling;
    this.#guard = deps.guard;
    this.#horizonMs = deps.horizonMs;
    this.#logger = deps.logger;
  }

  async settings(userId: string): Promise<AutoScheduleSettings> {
    const row = await connections.findAutoSchedule(this.#database.db, userId);
    return {
      auto_schedule_enabled: row?.is_enabled === 1,
      default_bot_config: row ? (JSON.parse(row.default_bot_config) as BotConfigInput) : {},
      rules: parseStoredRules(row?.rules ?? null),
    };
  }

  /** Turns it on with this configuration; `rules` given replace the stored ones (each one left out is its default), absent they stay. */
  async enable(userId: string, defaultBotConfig: BotConfigInput, rules?: Partial<AutoScheduleRules>): Promise<AutoScheduleSettings & { message: string; bots_scheduled: number; bots_taken_back: number }> {
    await this.#checkDefaultConfig(defaultBotConfig);
    // Rules left out stay as stored, in the same statement (a concurrent save cannot be undone by it).
    const newRules = rules === undefined ? undefined : JSON.stringify({ ...DEFAULT_RULES, ...rules });
    await connections.saveAutoSchedule(this.#database.db, { user_id: userId, is_enabled: 1, default_bot_config: JSON.stringify(defaultBotConfig), rules: newRules, updated_at: this.#clock.now() });
    const { booked, takenBack } = await this.run(userId);
    if (takenBack > 0) await this.topUpSeries(userId);
    return { ...(await this.settings(userId)), message: 'Auto-scheduling enabled successfully', bots_scheduled: booked, bots_taken_back: takenBack };
  }

  /** Refuses a default bot config here, as a whole, not at every meeting it would be applied to. */
  async #checkDefaultConfig(defaultBotConfig: BotConfigInput): Promise<void> {
    if (defaultBotConfig.callback_url !== undefined) {
      const check = await checkUrlPromptly(this.#guard, defaultBotConfig.callback_url);
      if (!check.ok) throw new ApiError('callback_url_not_allowed', `default_bot_config.callback_url ${check.reason}`, { details: { field: 'default_bot_config.callback_url' } });
    }
    if (defaultBotConfig.join_at !== undefined || defaultBotConfig.meeting_url !== undefined || defaultBotConfig.deduplication_key !== undefined) {
      const field = defaultBotConfig.join_at !== undefined ? 'join_at' : defaultBotConfig.meeting_url !== undefined ? 'meeting_url' : 'deduplication_key';
      throw new ApiError('invalid_bot_config', `default_bot_config.${field}: belongs to one meeting, not to every meeting`, { details: { field: `default_bot_config.${field}` } });
    }
    const problem = findRuntimeSettingProblem(defaultBotConfig, 'default_bot_config.');
    if (problem) throw new ApiError('invalid_bot_config', problem.problem, { details: { field: problem.field } });
    // A name, attributes or settings the bot provider refuses would fail every bot booked with them, at its handover.
    const providerProblem = this.#scheduling.findProviderInputProblem(applyBotConfigDefaults(defaultBotConfig, this.#scheduling.defaultBotName), undefined, { isRequest: true });
    if (providerProblem) {
      const field = `default_bot_config.${providerProblem.field}`;
      throw new ApiError('invalid_bot_config', `${field}: ${providerProblem.problem}`, { details: { field } });
    }
  }

  /** Stops new bookings; bots already scheduled stay. */
  async disable(userId: string): Promise<AutoScheduleSettings & { message: string }> {
    const row = await connections.findAutoSchedule(this.#database.db, userId);
    await connections.saveAutoSchedule(this.#database.db, { user_id: userId, is_enabled: 0, default_bot_config: row?.default_bot_config ?? '{}', updated_at: this.#clock.now() });
    return { ...(await this.settings(userId)), message: 'Auto-scheduling disabled; bots already scheduled stay scheduled' };
  }

  async afterSync(userId: string): Promise<void> {
    await this.topUpSeries(userId);
    const { takenBack } = await this.run(userId);
    // An occurrence a client's batch covers, which had the bot taken back, is the batch's now.
    if (takenBack > 0) await this.topUpSeries(userId);
  }

  /**
   * Books bots for the user's upcoming synced events that have none, and takes back those it
   * booked for meetings that no longer pass the rules; says how many of each.
   */
  async run(userId: string): Promise<{ booked: number; takenBack: number }> {
    const row = await connections.findAutoSchedule(this.#database.db, userId);
    if (!row || row.is_enabled !== 1) return { booked: 0, takenBack: 0 };
    const defaultConfig = JSON.parse(row.default_bot_config) as BotConfigInput;
    const now = this.#clock.now();
    const settingsUpdatedAt = Number(row.updated_at);
    const { candidates, refused } = await this.#candidates(userId, now, parseStoredRules(row.rules));
    let booked = 0;
    // Hundreds of meetings already booked are as many lookups, synchronous on SQLite.
    const pacer = new EventLoopPacer();
    for (const candidate of candidates) {
      await pacer.pace();
      const booking = await this.#bookingOf(userId, candidate, now);
      if (booking === null) continue;
      const shared = booking === 'new' ? null : booking;
      const request = shared
        ? { deduplication_key: shared.deduplication_key, bot_config: shared.config }
        : {
          deduplication_key: autoScheduleKey(candidate.meetingIdentity, candidate.startMs),
          bot_config: { ...defaultConfig, custom_attributes: { ...defaultConfig.custom_attributes, [AUTO_SCHEDULED_ATTRIBUTE]: 'true' } },
        };
      try {
        // The "ever had a bot?" check above is only a shortcut; the one that counts runs inside the
        // scheduling transaction, so two runs at once (two connections of the user syncing) cannot
        // both book the event, nor re-book it and log a spurious "updated".
        // And it books only while the meeting and the settings are as read here.
        const asRead = { copyId: candidate.subject.eventId, raw: candidate.subject.raw, settingsUpdatedAt };
        const response = await this.#scheduling.schedule(userId, candidate.eventId, request, { ifNeverScheduled: true, asRead, origin: 'auto_schedule' });
        if (!response.updated_existing) booked++;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // Another bot got there first, the event moved into the past meanwhile...: nothing to do.
        if (MOVED_ON.has(error.code)) this.#logger.debug({ eventId: candidate.eventId, code: error.code }, 'auto-schedule skipped an event');
        // What the booking refuses (a link the bot provider does not take, to a private address...)
        // stays refused at every run until the calendar changes: the operator is told why.
        else if (this.#isNewRefusal(`${userId} ${candidate.eventId} ${error.message}`)) {
          this.#logger.warn({ userId, eventId: candidate.eventId, code: error.code, reason: error.message }, 'auto-schedule could not book a meeting');
        }
      }
    }
    // After booking: a meeting on two calendars whose bot only the refused copy held keeps it for
    // the copy that passes (booked above under the same key) rather than losing it and getting another.
    const takenBack = await this.#takeBack(userId, refused, settingsUpdatedAt);
    return { booked, takenBack };
  }

  /** Whether this refusal (user, meeting, reason) has not been told yet; a change of reason is told again. */
  #isNewRefusal(refusal: string): boolean {
    if (this.#told.has(refusal)) return false;
    if (this.#told.size >= TOLD_LIMIT) this.#told.clear();
    this.#told.add(refusal);
    return true;
  }

  /**
   * What saving `rules` (given: replacing the stored ones, as enable does; left out: the stored
   * ones) would do now, written nowhere: how many upcoming meetings would get a bot, and which
   * would lose the bot auto-schedule booked for them, so that the client can ask before it saves.
   * The same reading as a run's; a sync or a booking in between can change what the save does.
   */
  async preview(userId: string, rules?: Partial<AutoScheduleRules>, defaultBotConfig?: BotConfigInput): Promise<AutoSchedulePreview> {
    const db = this.#database.db;
    const stored = await connections.findAutoSchedule(db, userId);
    const previewed = rules === undefined ? parseStoredRules(stored?.rules ?? null) : { ...DEFAULT_RULES, ...rules };
    // A config given is refused as enable would refuse it, before anything is counted with it.
    if (defaultBotConfig !== undefined) await this.#checkDefaultConfig(defaultBotConfig);
    const config = defaultBotConfig ?? (stored ? JSON.parse(stored.default_bot_config) as BotConfigInput : {});
    const applied = applyBotConfigDefaults(config, this.#scheduling.defaultBotName);
    const now = this.#clock.now();
    const { candidates, refused } = await this.#candidates(userId, now, previewed);
    /** The meetings that would get a bot, by its key: copies of one meeting share it. */
    const toBook = new Set<string>();
    /** The live bots a copy that passes would be linked to. */
    const linkedTo = new Set<string>();
    const pacer = new EventLoopPacer();
    for (const candidate of candidates) {
      await pacer.pace();
      const booking = await this.#bookingOf(userId, candidate, now);
      if (booking === null) continue;
      if (booking !== 'new') linkedTo.add(booking.botId);
      // What the booking itself refuses (a link to a private address, settings the platform does
      // not take, a link the bot provider does not take), a run skips.
      else if (candidate.meetingUrl !== null && findBookingRefusal(candidate.meetingUrl, candidate.meetingPlatform as MeetingPlatform | null, config.automatic_leave) === null
        && this.#scheduling.findProviderInputProblem(applied, { url: candidate.meetingUrl, platform: candidate.meetingPlatform as MeetingPlatform | null, identity: candidate.meetingIdentity }) === null) {
        toBook.add(autoScheduleKey(candidate.meetingIdentity, candidate.startMs));
      }
    }
    const held = await this.#heldByWaitingAutoBots(userId, refused);
    const botIds = [...new Set(held.values())];
    const links = botIds.length === 0 ? [] : await db.selectFrom('bot_events')
      .select(['bot_id', 'event_id', 'occurrence_key']).where('bot_id', 'in', botIds).where('is_live', '=', 1).execute();
    const refusedLinks = new Set(refused.map((r) => `${r.linkEventId} ${r.occurrenceKey}`));
    /** A bot stays when a link of it the rules keep remains, or a copy that passes is linked to it first. */
    const staying = new Set([...links.filter((l) => !refusedLinks.has(`${l.event_id} ${l.occurrence_key}`)).map((l) => l.bot_id), ...linkedTo]);
    const takenBack: PreviewedTakeBack[] = refused.flatMap((meeting) => {
      const botId = held.get(`${meeting.linkEventId} ${meeting.occurrenceKey}`);
      return botId === undefined ? [] : [{
        event_id: meeting.eventId, title: meeting.title, start_time: new Date(meeting.startMs).toISOString(), bot_id: botId, refusal: meeting.refusal, bot_cancelled: !staying.has(botId),
      }];
    }).sort((a, b) => a.start_time.localeCompare(b.start_time));
    return { rules: previewed, bots_scheduled: toBook.size, bots_taken_back: takenBack.length, taken_back: takenBack.slice(0, PREVIEW_LIST_LIMIT) };
  }

  /**
   * Whether a run books the candidate: null, not (it had a bot, or its meeting has one in it
   * already); 'new', a bot of its own; or the live bot of the same meeting it is linked to.
   */
  async #bookingOf(userId: string, candidate: Candidate, now: number): Promise<'new' | { botId: string; deduplication_key: string; config: AppliedBotConfig } | null> {
    if (await hasHadBot(this.#database.db, candidate.linkEventId, candidate.occurrenceKey)) return null;
    const shared = await this.#liveBotInSameMeeting(userId, candidate);
    if (shared) return shared;
    // A meeting whose bot is in it already, under another event id (the calendar connected
    // again, an occurrence given a new id while it runs): not a second bot.
    return (await this.#hasLaunchedBotInMeeting(userId, candidate.meetingIdentity, candidate.startMs, now)) ? null : 'new';
  }

  /**
   * A series booked with schedule_all_occurrences (series_bookings) gets bots for the occurrences
   * its batch covers that have none: the first occurrence_limit occurrences (by original start)
   * from the booking. So an occurrence added by an RDATE, those of a series re-timed to another
   * weekday, or of one extended within the limit. Each under the key the batch would have given
   * it; an occurrence that ever had a bot is left alone (it was booked, or unscheduled).
   */
  async topUpSeries(userId: string): Promise<number> {
    const db = this.#database.db;
    const now = this.#clock.now();
    let booked = 0;
    for (const batch of await listOpenSeriesBookings(db, userId)) {
      const instances = parseInstanceSeriesId(batch.series_event_id);
      if (instances) {
        booked += await this.#topUpInstances(userId, batch, instances, now);
        continue;
      }
      const series = await db.selectFrom('events').selectAll().where('id', '=', batch.series_event_id).where('user_id', '=', userId).executeTakeFirst();
      if (!series || series.is_deleted === 1 || series.recurrence === null) {
        await deleteSeriesBooking(db, batch);
        continue;
      }
      // Runs after a calendar sync: a series of the API's own is changed by the client, who books what it adds.
      if (series.calendar_id === null) continue;
      const view = await this.#events.seriesOccurrences(db, userId, series);
      // The batch's occurrences that can be booked now: up to the horizon from now, as a booking
      // reaches; those further on are topped up as time brings them within it.
      const reachMs = Math.max(now, Number(batch.from_ms)) + SERIES_HORIZON_MS;
      const walkPacer = new EventLoopPacer();
      await view.walkUntil(reachMs, walkPacer);
      const covered = await view.firstByOriginalStart(Number(batch.from_ms), batch.occurrence_count, reachMs, walkPacer);
      // Every occurrence of a full window is over: nothing can join it any more. So too for a
      // batch booked more than the horizon ago whose window is not full, every occurrence in reach
      // over, when the series has none past the reach that the batch would still cover (a yearly
      // series every eleven years keeps its batch for its next occurrence, whenever the syncs come).
      if (covered.every((o) => o.endMs <= now) && (covered.length === batch.occurrence_count
        || (now >= Number(batch.from_ms) + SERIES_HORIZON_MS && !(await view.hasOccurrenceAfter(reachMs, Number(batch.before_ms), walkPacer))))) {
        await deleteSeriesBooking(db, batch);
        continue;
      }
      const config = JSON.parse(batch.bot_config) as AppliedBotConfig;
      const version = { seriesId: batch.series_event_id, baseKey: batch.base_key, version: batch.version };
      // Read once for the batch (up to 500 occurrences): schedule() checks again, in its transaction.
      const hadBots = await listOccurrencesThatHadBots(db, series.id);
      const pacer = new EventLoopPacer();
      for (const occurrence of covered.sort((a, b) => a.startMs - b.startMs)) {
        await pacer.pace();
        if (hasStartedTooLongAgo(occurrence, now) || occurrence.startMs >= Number(batch.before_ms) || occurrence.status === 'cancelled' || occurrence.meetingIdentity === null) continue;
        if (hadBots.has(occurrence.key)) continue;
        if (await this.#hasLaunchedBotInMeeting(userId, occurrence.meetingIdentity, occurrence.startMs, now)) continue;
        const key = batch.base_key === '' ? derivedDeduplicationKey(occurrence.meetingIdentity, occurrence.originalStartMs) : occurrenceDeduplicationKey(batch.base_key, occurrence.key);
        // A live bot already holds this key for another occurrence (the series moved under it).
        if (await isKeyHeldByLiveBot(db, userId, key)) continue;
        try {
          await this.#scheduling.schedule(userId, occurrenceIdOf(series.id, occurrence.originalStartMs), { deduplication_key: key, bot_config: config }, { ifNeverScheduled: true, ifBatchUnchanged: version, origin: 'batch_top_up' });
          booked++;
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
        }
      }
    }
    return booked;
  }

  /**
   * The batch of a series delivered as instances (Outlook). Graph gives no reliable original start
   * for an instance (microsoft-graph-docs issue 4353: originalStart comes back null), so what the
   * batch covers is counted rather than placed: of the instances not ended at the booking, each
   * that had a bot of this batch (its key) or one from before the booking takes one of the
   * occurrence_count places (moving it changes nothing), and the places left go to the instances
   * without any bot, in start order, as the sync window brings them. An instance the provider
   * deleted no longer counts (a series moved to another day comes back as new instances, to which
   * the bots follow); with none left at all (the series or the connection gone) the batch goes.
   */
  async #topUpInstances(userId: string, batch: SeriesBookingRow, series: InstanceSeries, now: number): Promise<number> {
    const db = this.#database.db;
    const stored = await listSeriesInstances(db, userId, series);
    if (stored.length === 0) {
      await deleteSeriesBooking(db, batch);
      return 0;
    }
    const fromMs = Number(batch.from_ms);
    const instances = stored.filter((i) => i.end_ms > fromMs);
    const links = instances.length === 0 ? [] : await db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.event_id', 'bot_events.created_at', 'bots.deduplication_key'])
      .where('bot_events.event_id', 'in', instances.map((i) => i.id)).where('bot_events.occurrence_key', '=', '')
      // A link auto-schedule took back (a decline, the rules) is no bot of the instance's any more (hasHadBot).
      .where((eb) => eb.or([eb('bot_events.is_live', '=', 1), eb('bot_events.end_cause', 'is', null)])).execute();
    // A batch bot is keyed after the instance it was booked for; one that followed its instance to
    // a new id (a series moved to another day: instance-moves.ts) keeps that key and its place.
    const takesPlace = (link: (typeof links)[number]) => Number(link.created_at) < fromMs
      || (batch.base_key === '' ? link.deduplication_key.startsWith(DERIVED_KEY_PREFIX) : link.deduplication_key.startsWith(occurrenceDeduplicationKey(batch.base_key, '')));
    const placed = new Set(links.filter(takesPlace).map((l) => l.event_id));
    const hadBots = new Set(links.map((l) => l.event_id));
    const places = batch.occurrence_count - placed.size;
    // Every place taken and every instance holding one over: nothing is left to book.
    if (places <= 0 && instances.every((i) => !placed.has(i.id) || i.end_ms <= now)) {
      await deleteSeriesBooking(db, batch);
      return 0;
    }
    const config = JSON.parse(batch.bot_config) as AppliedBotConfig;
    const version = { seriesId: batch.series_event_id, baseKey: batch.base_key, version: batch.version };
    let booked = 0;
    for (const instance of instances.filter((i) => !hadBots.has(i.id)).slice(0, Math.max(places, 0))) {
      if (hasStartedTooLongAgo({ startMs: instance.start_ms, endMs: instance.end_ms }, now) || instance.start_ms >= Number(batch.before_ms) || instance.status === 'cancelled' || instance.meeting_identity === null) continue;
      if (await this.#hasLaunchedBotInMeeting(userId, instance.meeting_identity, instance.start_ms, now)) continue;
      const key = batch.base_key === '' ? derivedDeduplicationKey(instance.meeting_identity, instance.start_ms) : occurrenceDeduplicationKey(batch.base_key, instance.id);
      // A live bot holds this key already (a moved instance's derived key): sharing it would send one bot to two times.
      if (await isKeyHeldByLiveBot(db, userId, key)) continue;
      try {
        await this.#scheduling.schedule(userId, instance.id, { deduplication_key: key, bot_config: config }, { ifNeverScheduled: true, ifBatchUnchanged: version, origin: 'batch_top_up' });
        booked++;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
      }
    }
    return booked;
  }

  /**
   * Takes back the bots auto-schedule booked, not launched yet, for meetings the rules now refuse
   * (the rules changed, or the meeting did: a guest from outside removed, the owner no longer its
   * organizer). Read in one query per run: the user's auto-scheduled bots still waiting.
   */
  async #takeBack(userId: string, refused: Refused[], settingsUpdatedAt: number): Promise<number> {
    const held = await this.#heldByWaitingAutoBots(userId, refused);
    let takenBack = 0;
    for (const meeting of refused) {
      if (!held.has(`${meeting.linkEventId} ${meeting.occurrenceKey}`)) continue;
      const why = `The meeting no longer passes the auto-schedule rules (${meeting.refusal}); auto-schedule had booked this bot`;
      const asRead = { copyId: meeting.subject.eventId, raw: meeting.subject.raw, settingsUpdatedAt };
      const ended = await this.#scheduling.takeBackAutoBooking(userId, { eventId: meeting.linkEventId, occurrenceKey: meeting.occurrenceKey }, asRead, why);
      if (ended === 0) continue;
      takenBack++;
      this.#logger.info({ userId, eventId: meeting.linkEventId, occurrenceKey: meeting.occurrenceKey, refusal: meeting.refusal }, 'auto-schedule took back a bot: the meeting no longer passes the rules');
    }
    return takenBack;
  }

  /**
   * The refused meetings' live links to bots auto-schedule booked that still wait (its keys and
   * attribute; not a chain's current bot, which its chain answers for), by "<event id> <occurrence
   * key>", to the bot's id.
   */
  async #heldByWaitingAutoBots(userId: string, refused: readonly Refused[]): Promise<Map<string, string>> {
    const held = new Map<string, string>();
    if (refused.length === 0) return held;
    const db = this.#database.db;
    const waiting = await db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.event_id', 'bot_events.occurrence_key', 'bots.id', 'bots.deduplication_key', 'bots.custom_attributes'])
      .where('bots.user_id', '=', userId).where('bots.status', '=', 'Scheduled').where('bots.launched_at', 'is', null)
      .where('bots.deduplication_key', 'like', `${AUTO_SCHEDULE_KEY_PREFIX}%`).where('bot_events.is_live', '=', 1)
      .where('bot_events.event_id', 'in', [...new Set(refused.map((r) => r.linkEventId))])
      .where((eb) => eb.not(eb.exists(eb.selectFrom('recurring_chains').select('series_event_id').whereRef('recurring_chains.current_bot_id', '=', 'bots.id'))))
      .execute();
    for (const row of waiting) if (isAutoScheduledBot(row)) held.set(`${row.event_id} ${row.occurrence_key}`, row.id);
    return held;
  }

  async #candidates(userId: string, now: number, rules: AutoScheduleRules): Promise<{ candidates: Candidate[]; refused: Refused[] }> {
    const db = this.#database.db;
    const untilMs = now + this.#horizonMs;
    const refusalOf = await this.#ruleCheck(userId, rules);
    const refused: Refused[] = [];
    /** Whether the rules let the meeting through; one they refuse is noted. */
    const isWanted = (meeting: Omit<Refused, 'subject' | 'refusal'>, subject: RuleSubject): boolean => {
      const refusal = refusalOf(subject);
      if (refusal !== null) refused.push({ ...meeting, subject, refusal });
      return refusal === null;
    };
    /**
     * Whether the entry is no meeting (a focus-time block...), whatever the rules: noted as refused
     * all the same, so that a bot booked on it before such entries were told apart is taken back.
     */
    const isNotAMeeting = (meeting: Omit<Refused, 'subject' | 'refusal'>, subject: RuleSubject, typedRaw = subject.raw): boolean => {
      const type = notAMeetingEntryType(typedRaw);
      if (type !== null) refused.push({ ...meeting, subject, refusal: `not a meeting (a Google "${type}" entry)` });
      return type !== null;
    };
    const plain: EventRow[] = await db.selectFrom('events').selectAll()
      .where('user_id', '=', userId).where('calendar_id', 'is not', null).where('is_deleted', '=', 0).where('recurrence', 'is', null)
      .where('status', '!=', 'cancelled').where('meeting_identity', 'is not', null)
      .where('start_ms', '>', now - LATE_START_GRACE_MS).where('end_ms', '>', now).where('start_ms', '<', untilMs)
      .execute();
    const result: Candidate[] = [];
    /** Series with an override instance ahead, which may be past the end of the series' rule. */
    const withOverrideAhead = new Set<string>();
    for (const event of plain) {
      if (event.recurring_event_id !== null && event.original_start_ms !== null) {
        // An instance that overrides an occurrence is booked as that occurrence, below.
        withOverrideAhead.add(event.recurring_event_id);
        continue;
      }
      // An all-day event (a conference day, a day off with a personal meeting room in its notes)
      // is never booked by auto-schedule, whatever the rules: no meeting starts at midnight for a
      // bot to join. The client can still book one itself.
      if (isDeclinedInvitation(event.raw) || event.is_all_day === 1) continue;
      // An Outlook occurrence is an event of its own, of a series all the same.
      const subject = { eventId: event.id, raw: event.raw, calendarId: event.calendar_id, isRecurring: event.provider_series_id !== null };
      const meeting = { eventId: event.id, linkEventId: event.id, occurrenceKey: '', title: event.title, startMs: event.start_ms };
      if (isNotAMeeting(meeting, subject) || !isWanted(meeting, subject)) continue;
      result.push({ eventId: event.id, linkEventId: event.id, occurrenceKey: '', startMs: event.start_ms, meetingIdentity: event.meeting_identity!, meetingUrl: event.meeting_url, meetingPlatform: event.meeting_platform, subject });
    }
    // Series whose rule is not over (rather than every series the user ever had), and those an
    // override instance ahead belongs to.
    const notOver = await listSeriesInWindow(db, userId, { fromMs: now, toMs: untilMs }, null);
    const read = new Set(notOver.map((s) => s.id));
    const seriesList = [...notOver, ...await findLiveSeries(db, userId, [...withOverrideAhead].filter((id) => !read.has(id)))]
      .filter((s) => s.calendar_id !== null && s.status !== 'cancelled');
    for (const series of seriesList) {
      if (series.is_all_day === 1) continue;
      const seriesAnswer = ownerAnswerOf(series.raw);
      for (const occurrence of await this.#events.upcomingOccurrences(db, userId, series, now - LATE_START_GRACE_MS, OCCURRENCES_PER_SERIES)) {
        if (occurrence.startMs >= untilMs) break;
        if (hasStartedTooLongAgo(occurrence, now) || occurrence.status === 'cancelled' || occurrence.meetingIdentity === null) continue;
        // The series declined, or this one occurrence (Google records an answer to one on its instance, which wins).
        if (isDeclinedOccurrence(seriesAnswer, occurrence.override)) continue;
        const key = occurrenceKey(occurrence.originalStartMs);
        // The occurrence's own copy (an answer to it, guests added to it) speaks for it.
        const copy = occurrence.override ?? series;
        const subject = { eventId: copy.id, raw: copy.raw, calendarId: series.calendar_id, isRecurring: true };
        const eventId = occurrenceIdOf(series.id, occurrence.originalStartMs);
        const meeting = { eventId, linkEventId: series.id, occurrenceKey: key, title: occurrence.title, startMs: occurrence.startMs };
        // The series' type is its occurrences' (Google copies it to every instance); the refusal
        // names the copy read, as a take-back checks that copy is unchanged.
        if (isNotAMeeting(meeting, subject, series.raw) || !isWanted(meeting, subject)) continue;
        result.push({
          eventId, linkEventId: series.id, occurrenceKey: key,
          startMs: occurrence.startMs, meetingIdentity: occurrence.meetingIdentity, meetingUrl: occurrence.meetingUrl, meetingPlatform: occurrence.meetingPlatform, subject,
        });
      }
    }
    return { candidates: result.sort((a, b) => a.startMs - b.startMs), refused };
  }

  /**
   * The rules as a test of one candidate (why they refuse it, or null), each calendar's owner read
   * once. Every meeting passes the default rules without a look at it.
   */
  async #ruleCheck(userId: string, rules: AutoScheduleRules): Promise<(subject: RuleSubject) => string | null> {
    if (Object.entries(DEFAULT_RULES).every(([key, value]) => rules[key as keyof AutoScheduleRules] === value)) return () => null;
    // A Google or Microsoft account is its owner's address; an ICS feed names nobody.
    const owners = new Map((await connections.listConnections(this.#database.db, userId)).flatMap((c) => (c.provider === 'ics' ? [] : [[c.id, c.account_id] as const])));
    return (subject) => {
      const ownerEmail = subject.calendarId === null ? null : owners.get(subject.calendarId) ?? null;
      return ruleRefusal(rules, meetingFactsOf(subject.raw), { isRecurring: subject.isRecurring, ownerEmail });
    };
  }

  /**
   * Whether a launched bot of the user is still in this meeting (linked or not: a link ends when
   * its calendar goes), in the meeting that starts at `startMs` (it ends after that start).
   */
  async #hasLaunchedBotInMeeting(userId: string, meetingIdentity: string, startMs: number, now: number): Promise<boolean> {
    const row = await this.#database.db.selectFrom('bots').select('id')
      .where('user_id', '=', userId).where('meeting_identity', '=', meetingIdentity).where('status', 'in', LIVE_STATUSES)
      .where('launched_at', 'is not', null).where('join_at_ms', '<=', now).where('join_at_ms', '>', now - 86_400_000)
      .where('meeting_end_ms', '>', Math.max(now, startMs)).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** A live bot of the user already going to this meeting at this time (for example a manual one). */
  async #liveBotInSameMeeting(userId: string, candidate: Candidate): Promise<{ botId: string; deduplication_key: string; config: AppliedBotConfig } | null> {
    const row = await this.#database.db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id')
      .select(['bots.id', 'bots.deduplication_key', 'bots.bot_config', 'bots.join_at_ms', 'bots.is_join_time_pinned'])
      // Among the user's live bots (bots_user_live_join), not every bot they ever had.
      .where('bots.user_id', '=', userId).where('bots.is_live', '=', 1).where('bots.meeting_identity', '=', candidate.meetingIdentity)
      .where('bots.status', 'in', LIVE_STATUSES).where('bot_events.is_live', '=', 1).where('bot_events.start_ms', '=', candidate.startMs)
      .limit(1).executeTakeFirst();
    if (!row) return null;
    // The bot's own configuration, so that linking one more event changes nothing else about it:
    // its join time too. One the client pinned (bot_config.join_at, or a PATCH of
    // scheduled_join_time, which the stored configuration of older bots does not show) stays
    // pinned where it is now; an unpinned one stays free to follow the linked events.
    const config = applyBotConfigDefaults(JSON.parse(row.bot_config) as BotConfigInput);
    delete config.join_at;
    if (row.is_join_time_pinned === 1 && Number(row.join_at_ms) > this.#clock.now()) config.join_at = new Date(Number(row.join_at_ms)).toISOString();
    return { botId: row.id, deduplication_key: row.deduplication_key, config };
  }
}
