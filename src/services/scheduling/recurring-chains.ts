// Chain mode (spec section 8): a series scheduled with recurring_event: true has its next
// occurrence booked, and each time the bot of the booked occurrence is launched (or its occurrence
// ends, or the bot is cancelled) the occurrence after it gets a bot with the same configuration,
// under the key "<series key>@<occurrence key>". The bots themselves are ordinary bots: calendar
// edits move and cancel them like any other, and they fire through the one dispatcher.
//
// Exactly once, whatever runs at the same time: each step runs in one transaction that locks the
// chain row first (then the series event, then bots: the order every chain path follows), checks
// again that the chain is due, books through the scheduling use case and moves the chain on. A
// second instance that saw the same chain due waits for the lock and then finds it booked. The
// per-occurrence key would stop a second bot even without the lock.
//
// What drives it: a small background loop (every CHAIN_POLL_MS, and at once when a launch was
// attempted or schedules changed), and POST /calendar/toggle-recurrence, which books at once.
import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BotRow, EventRow, RecurringChainRow, Schema } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Metrics } from '../../lib/metrics.ts';
import { formatInstant } from '../../lib/time.ts';
import { AUTO_SCHEDULE_KEY_PREFIX, DERIVED_KEY_PREFIX, applyBotConfigDefaults, occurrenceDeduplicationKey, type AppliedBotConfig, type BotConfigInput } from '../../domain/bot-config.ts';
import { occurrenceIdOf, parseOccurrenceId } from '../../domain/occurrence-id.ts';
import { parseOccurrenceKey } from '../../domain/recurrence.ts';
import { isInstanceSeriesOver, isSeriesOver, mayClearWithoutSeriesChange, nextChainCheckMs } from '../../domain/chain-rest.ts';
import { BackgroundLoop } from '../../scheduler/background-loop.ts';
import * as bots from '../../store/bot-store.ts';
import { findChain, listDueChains, saveChain, updateChain } from '../../store/chain-store.ts';
import { findEvent, findInstanceSlots, listSeriesInstances, lockEvent, lockInstanceSeries, recordInstanceSlot } from '../../store/event-store.ts';
import { instanceChainPosition, instanceSeriesId, instanceSeriesOf, claimServedSlots, currentSlotOf, isPlainOccurrence, likelySlotOf, placesZoneOf, isStoredException, parseInstanceChainPosition, parseInstanceSeriesId, type InstanceSeries } from '../../domain/instance-series.ts';
import { usualSpacingMs } from '../../domain/series-move.ts';
import type { BotScheduling, ScheduledOne } from './bot-scheduling.ts';
import type { CalendarEvents } from '../calendars/calendar-events.ts';
import { retryingLostRaces } from '../../db/race-retry.ts';
import { isStatementGivenUp } from '../../db/database-health.ts';
import type { ScheduleChangeSignal } from './bot-lifecycle.ts';

/** How often the loop looks for chains to move on when nothing woke it. */
const CHAIN_POLL_MS = 5000;
/**
 * Wake-ups (one per launch attempt) are gathered for this long into one pass: at the top of the
 * hour thousands of launches would otherwise each cost a query on the dispatcher's database.
 */
const WAKE_GATHER_MS = 100;
/** A chain with no bookable occurrence ahead is looked at again after this; one whose series is over rests (chain-rest.ts). */
const EXHAUSTED_RECHECK_MS = 3_600_000;
/** When a chain that passed an occurrence for a key another meeting's bot holds looks again (chain-rest.ts). */
const KEY_RECHECK_MS = 60_000;
/** When a chain whose step the database gave up on (a lock or time limit) is looked at again. */
const GIVEN_UP_RECHECK_MS = 30_000;
/** Chains moved on per statement batch. */
const BATCH = 100;
/** Why a chain books nothing: its series has ended (it rests, a day at a time, until the series changes: chain-rest.ts). */
const SERIES_ENDED = 'the series has ended';
/** Why a chain books nothing: its series is called off (it rests until the series changes, as above). */
const SERIES_CALLED_OFF = 'the series is cancelled or no longer recurring';
/**
 * Why a chain books nothing: an Outlook series' instances still to come or under way are all behind
 * it (before where it was started, or weeks it served): only a change of the series, which makes
 * it due at once, can bring one it books; it rests as above.
 */
const SERIES_LEFT_BEHIND = 'every occurrence of the series left is behind the chain';
/** Occurrences looked at per step: the next bookable one is almost always the first. */
const LOOKAHEAD = 20;

export interface ToggleRecurrenceResult {
  event_id: string;
  recurring_enabled: boolean;
  recurrence_rule: string | null;
  message: string;
  summary: string | null;
  start_time: string;
  end_time: string;
  /** The bot booked for the chain's next occurrence, if any. */
  bot_id: string | null;
}

/**
 * What one look at a chain did: the bot it booked or adopted in turn (for `booked` out of turn
 * only, the first of those), and how many bots it booked in all (out of turn too).
 */
type Step = { outcome: 'idle' | 'waiting' | 'booked' | 'adopted'; botId: string | null; booked: number };
const IDLE: Step = { outcome: 'idle', botId: null, booked: 0 };

/**
 * An occurrence the chain could book next: where the chain stands once it is booked
 * (current_occurrence_key), what its bot's key adds to the series key, the live bot it may have
 * already, and how to book it.
 */
interface ChainCandidate {
  position: string;
  keyPart: string;
  /** When the occurrence starts now (moved or not). */
  startMs: number;
  /** Its place in the chain's order: a series occurrence's original start; an Outlook instance's start. */
  orderMs: number;
  /**
   * Behind the chain's place (series rows only), and owed a bot: `returned`, back in the calendar
   * after every bot it had ended because it was cancelled, lost its link or moved past that bot's
   * meeting; `passed`, passed by the chain when it could not be booked (no link, its key taken:
   * recurring_chains.passed_keys). One that has a bot meanwhile is left (#bookOutOfTurn).
   * `moved` (an Outlook series' instance): it starts now between where the chain was started and
   * its place (moved earlier than the instance booked last), and has not started.
   */
  behind?: 'returned' | 'passed' | 'moved';
  /**
   * An Outlook instance's slot in its series (instance_slots), else the slot it most likely has
   * (likelySlotOf), if any: what the chain records as served once it books it.
   */
  slotMs?: number;
  findLive(): Promise<{ bot_id: string; bot_status: string } | undefined>;
  /** Whether it has had a bot that counts (hasHadBot): one the client cancelled, or one that went, among them. */
  hadBot(): Promise<boolean>;
  book(key: string | null, config: AppliedBotConfig): Promise<ScheduledOne>;
}

export class RecurringChains {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #events: CalendarEvents;
  readonly #scheduling: BotScheduling;
  readonly #signal: ScheduleChangeSignal;
  readonly #logger: Logger;
  readonly #loop: BackgroundLoop;
  #wakeTimer: NodeJS.Timeout | null = null;

  constructor(deps: { database: Database; clock: Clock; events: CalendarEvents; scheduling: BotScheduling; signal: ScheduleChangeSignal; logger: Logger; metrics: Metrics }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#scheduling = deps.scheduling;
    this.#signal = deps.signal;
    this.#logger = deps.logger;
    this.#loop = new BackgroundLoop({
      name: 'recurring_chains',
      logger: deps.logger,
      metrics: deps.metrics,
      health: deps.database.health,
      pass: async () => ((await this.advance()).full ? 0 : CHAIN_POLL_MS),
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    await this.#loop.stop();
  }

  /** A launch was attempted or schedules changed: look for chains to move on (within WAKE_GATHER_MS). */
  wake(): void {
    if (this.#wakeTimer || !this.#loop.isRunning) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = null;
      this.#loop.wake();
    }, WAKE_GATHER_MS);
  }

  /**
   * One pass: every due chain books its next occurrence. Returns how many bots were booked, and
   * whether the batch was full (more may be due). Tests with a manual clock call this directly.
   */
  async advance(): Promise<{ booked: number; full: boolean }> {
    const due = await listDueChains(this.#database.db, this.#database.engine, this.#clock.now(), BATCH);
    let booked = 0;
    for (const seriesId of due) {
      let step: Step;
      try {
        step = await this.#inTransaction((trx) => this.#step(trx, seriesId, this.#clock.now()));
      } catch (error) {
        // An outage stops the pass (the loop waits for the database); anything else is this
        // chain's own problem: it is set aside for a while so that it cannot hold up the others.
        if (this.#database.health.observe(error)) throw error;
        // A statement the database gave up on (its lock_timeout, statement_timeout) is tried again
        // soon: parked an hour, an hourly series would lose its next bot.
        const isGivenUp = isStatementGivenUp(error);
        this.#logger[isGivenUp ? 'warn' : 'error']({ err: error, seriesId }, 'chain mode could not move a chain on; trying it again later');
        const now = this.#clock.now();
        // updated_at too: a chain is due again early only for a change of its series after it looked.
        await updateChain(this.#database.db, seriesId, { next_check_at_ms: now + (isGivenUp ? GIVEN_UP_RECHECK_MS : EXHAUSTED_RECHECK_MS), last_error: `${isGivenUp ? 'database' : 'internal'} error: ${(error as Error).message}`.slice(0, 1000), updated_at: now }).catch(() => {});
        continue;
      }
      booked += step.booked;
      if (step.outcome === 'booked') {
        this.#logger.debug({ seriesId, botId: step.botId }, 'chain mode booked the next occurrence');
      }
    }
    if (booked > 0) this.#signal.afterCommit();
    return { booked, full: due.length === BATCH };
  }

  /**
   * POST /calendar/toggle-recurrence. On: the series books its next occurrence now if none is
   * booked, then keeps going. Off: the bot already booked stays; nothing further is booked.
   */
  async toggle(userId: string, eventId: string, isEnabled: boolean): Promise<ToggleRecurrenceResult> {
    const result = await this.#inTransaction(async (trx) => {
      // An occurrence id gone stale (the series re-timed since the client got it, so that its
      // occurrences have other ids) still names its series: off turns the series' chain off; on
      // turns it on and answers with the occurrence the chain booked (below).
      const { chainId, named: asNamed, linkedEventIds, rule, isStale } = await this.#seriesOf(trx, userId, eventId);
      let named = asNamed;
      let answeredId = eventId;
      const now = this.#clock.now();
      let chain = await findChain(trx, chainId, { engine: this.#database.engine, forUpdate: true });
      if (!chain && isEnabled) {
        chain = await this.#newChain(trx, userId, chainId, linkedEventIds, now);
        await saveChain(trx, chain);
      } else if (chain && (chain.is_enabled === 1) !== isEnabled) {
        await updateChain(trx, chainId, { is_enabled: isEnabled ? 1 : 0, next_check_at_ms: null, updated_at: now });
        if (chain.current_bot_id) {
          await bots.appendDecision(trx, chain.current_bot_id, now, isEnabled ? 'chain_started' : 'chain_stopped', isEnabled
            ? 'Chain mode turned on: the next occurrence is booked when this one is launched'
            : 'Chain mode turned off: this bot stays; no further occurrence is booked', { series_event_id: chainId });
        }
      } else if (chain && isEnabled) {
        await updateChain(trx, chainId, { next_check_at_ms: null, updated_at: now });
      }
      // On: the bot booked for the next occurrence; off: the one that stays booked.
      let botId: string | null = chain?.current_bot_id ?? null;
      if (isEnabled) {
        const step = await this.#step(trx, chainId, now);
        botId = (step.outcome === 'booked' || step.outcome === 'adopted') && step.botId !== null ? step.botId : (await findChain(trx, chainId))?.current_bot_id ?? null;
      }
      const current = botId ? await bots.findBotById(trx, botId) : undefined;
      if (current?.status !== 'Scheduled') botId = null;
      if (isEnabled && isStale && botId !== null) {
        // The id named no occurrence there is now: the answer is the occurrence the chain booked
        // (its id, title and times), so that the client learns the id it goes by now.
        const booked = await this.#bookedOccurrence(trx, userId, chainId, botId);
        if (booked) ({ eventId: answeredId, named } = booked);
      }
      const hasEnded = isEnabled && botId === null && (await findChain(trx, chainId))?.last_error === SERIES_ENDED;
      return {
        event_id: answeredId,
        recurring_enabled: isEnabled,
        recurrence_rule: rule,
        message: isEnabled
          ? botId ? 'Recurring scheduling enabled: the next occurrence is booked, and each following one is booked when the previous one is launched'
            : hasEnded ? 'Recurring scheduling enabled, but the series has ended: no occurrence is left to book until the series is extended'
              : 'Recurring scheduling enabled; no upcoming occurrence could be booked yet'
          : 'Recurring scheduling disabled: the bot already scheduled stays; no further occurrences are booked',
        summary: named.title,
        start_time: formatInstant(named.startMs),
        end_time: formatInstant(named.endMs),
        bot_id: botId,
      };
    });
    this.#signal.afterCommit();
    return result;
  }

  /**
   * Moves one chain on, inside the caller's transaction: re-checks that it is due (under its lock),
   * books what is out of turn (below), then, unless its booked bot still waits, books the first
   * bookable occurrence after the one booked last.
   */
  async #step(trx: Transaction<Schema>, seriesId: string, now: number): Promise<Step> {
    const engine = this.#database.engine;
    const instances = parseInstanceSeriesId(seriesId);
    // An Outlook series' own lock comes before its chain row, as on every path that takes both.
    if (instances) await lockInstanceSeries(trx, engine, instances);
    const chain = await findChain(trx, seriesId, { engine, forUpdate: true });
    if (!chain || chain.is_enabled !== 1) return IDLE;
    const current = chain.current_bot_id ? await bots.findBotById(trx, chain.current_bot_id) : undefined;
    const isWaiting = current !== undefined && current.status === 'Scheduled' && current.meeting_end_ms > now;
    const next = instances ? await this.#nextInstances(trx, chain, instances, current, now) : await this.#nextOccurrences(trx, chain, current, now);
    // The series gone (the chain ended with it): nothing to book. Not bookable now: a chain whose
    // bot waits leaves it to that bot's own calendar change; one that has to book waits.
    if (next === null) return IDLE;
    if (typeof next === 'string') {
      await updateChain(trx, seriesId, isWaiting ? { next_check_at_ms: null, updated_at: now } : { next_check_at_ms: nextChainCheckMs(next === SERIES_ENDED || next === SERIES_CALLED_OFF || next === SERIES_LEFT_BEHIND, now, EXHAUSTED_RECHECK_MS), last_error: next, updated_at: now });
      return isWaiting ? IDLE : { outcome: 'waiting', botId: null, booked: 0 };
    }
    const inTurn = next.filter((c) => !c.behind);
    // Out of turn, before the chain's own step: occurrences behind the chain's place that came back
    // or that it passed and can be booked now, and, while its booked bot waits, ones that now start
    // before that bot's meeting.
    let outOfTurn = next.filter((c) => c.behind);
    if (isWaiting) {
      const links = await bots.listLiveLinksOfBot(trx, current.id);
      const bookedStartMs = links.length === 0 ? current.join_at_ms : Math.min(...links.map((l) => l.start_ms));
      outOfTurn = [...outOfTurn, ...inTurn.filter((c) => c.startMs < bookedStartMs)];
    }
    const extra = await this.#bookOutOfTurn(trx, chain, outOfTurn, current, now);
    if (isWaiting) {
      // Looked at: not due again until the series' next change, or in a minute while an
      // occurrence it passed waits for a key to be freed.
      await updateChain(trx, seriesId, { next_check_at_ms: extra.waitsForKey ? now + KEY_RECHECK_MS : null, served_slots: withServed(chain, extra.slots), updated_at: now });
      return extra.booked === 0 ? IDLE : { outcome: 'booked', botId: extra.firstBotId, booked: extra.booked };
    }
    const config = JSON.parse(chain.bot_config) as AppliedBotConfig;
    let lastError: string | null = null;
    // Those that cannot be booked now: once the chain books one after them, they are behind it,
    // and booked out of turn when they can be (no link yet, a key taken).
    const passedNow: string[] = [];
    let waitsForKey = extra.waitsForKey;
    // In the chain's order (original starts), so that it never stands past an occurrence it has
    // not booked; one moved ahead of the occurrence it books gets its bot out of turn.
    const ordered = [...inTurn].sort((a, b) => a.orderMs - b.orderMs);
    for (const candidate of ordered) {
      // Already covered (a batch bot, or a bot the client booked by hand): the chain follows it,
      // unless that bot has left already (an occurrence moved ahead of the chain's last one, or a
      // batch's bot launched while the chain was behind): following it would take the chain past
      // the occurrences between, which nothing has booked.
      const live = await candidate.findLive();
      if (live && live.bot_status !== 'Scheduled') continue;
      // A bot the client cancelled (or one that went) is not booked again behind its back.
      if (!live && await candidate.hadBot()) continue;
      let step: Step;
      if (live) {
        await updateChain(trx, seriesId, { current_bot_id: live.bot_id, current_occurrence_key: candidate.position, passed_keys: withPassed(chain, passedNow), served_slots: withServed(chain, [...extra.slots, { slot: candidate.slotMs, bot: live.bot_id }]), next_check_at_ms: waitsForKey ? now + KEY_RECHECK_MS : null, last_error: null, updated_at: now, ...floorOf(chain, instances, ordered[0]!) });
        step = { outcome: 'adopted', botId: live.bot_id, booked: extra.booked };
      } else {
        const key = chain.deduplication_key === null ? null : occurrenceDeduplicationKey(chain.deduplication_key, candidate.keyPart);
        try {
          const booked = await candidate.book(key, config);
          await updateChain(trx, seriesId, { current_bot_id: booked.botId, current_occurrence_key: candidate.position, passed_keys: withPassed(chain, passedNow), served_slots: withServed(chain, [...extra.slots, { slot: candidate.slotMs, bot: booked.botId }]), next_check_at_ms: waitsForKey ? now + KEY_RECHECK_MS : null, last_error: null, updated_at: now, ...floorOf(chain, instances, ordered[0]!) });
          await bots.appendDecision(trx, booked.botId, now, 'chain_booked', `Booked by chain mode of series ${seriesId}${current ? ` after bot ${current.id} (${current.status})` : ''}`, { series_event_id: seriesId, previous_bot_id: current?.id ?? null });
          step = { outcome: 'booked', botId: booked.botId, booked: 1 + extra.booked };
        } catch (error) {
          // This occurrence cannot have a bot (no meeting link, a key taken by another meeting...):
          // the chain goes on with the one after it. Nothing was written for it.
          if (!(error instanceof ApiError)) throw error;
          lastError = `${candidate.keyPart}: ${error.code}: ${error.message}`;
          passedNow.push(candidate.keyPart);
          waitsForKey ||= mayClearWithoutSeriesChange(error.code);
          continue;
        }
      }
      // (Not those it could not book a moment ago: they wait until they can be.)
      const ahead = await this.#bookOutOfTurn(trx, chain, ordered.filter((c) => c !== candidate && c.startMs < candidate.startMs && !passedNow.includes(c.keyPart)), step.botId === null ? current : await bots.findBotById(trx, step.botId), now);
      if (ahead.slots.length > 0) await updateChain(trx, seriesId, { served_slots: withServed(chain, [...extra.slots, ...(step.botId === null ? [] : [{ slot: candidate.slotMs, bot: step.botId }]), ...ahead.slots]) });
      return { ...step, booked: step.booked + ahead.booked };
    }
    // Nothing booked: one it passed for a key another meeting's bot holds (the series' last, say)
    // is looked at again within a minute, as when the chain books one after it.
    await updateChain(trx, seriesId, { next_check_at_ms: waitsForKey ? now + KEY_RECHECK_MS : now + EXHAUSTED_RECHECK_MS, last_error: lastError ?? 'no upcoming occurrence to book', served_slots: withServed(chain, extra.slots), updated_at: now });
    return { outcome: 'waiting', botId: extra.firstBotId, booked: extra.booked };
  }

  /**
   * Books occurrences out of the chain's turn, each with the chain's configuration and key, while
   * the chain stays where it stands (its place and booked bot): the occurrences between are still
   * its to book one by one, and one booked here is passed over when the chain comes to it (its bot
   * has left by then, or is adopted while it waits). An occurrence with a live bot already is left.
   */
  async #bookOutOfTurn(trx: Transaction<Schema>, chain: RecurringChainRow, candidates: readonly ChainCandidate[], current: BotRow | undefined, now: number): Promise<{ booked: number; firstBotId: string | null; waitsForKey: boolean; slots: BookedSlot[] }> {
    const seriesId = chain.series_event_id;
    // One it passed still held by another meeting's bot's key: that bot may go, the series unchanged.
    let waitsForKey = false;
    const config = JSON.parse(chain.bot_config) as AppliedBotConfig;
    let booked = 0;
    let firstBotId: string | null = null;
    // The slots of the Outlook instances booked (the chain records them as served: withServed).
    const slots: BookedSlot[] = [];
    for (const candidate of candidates) {
      // Covered, or had a bot that counts (the client cancelled it, or it went): not booked again.
      if (await candidate.findLive() || await candidate.hadBot()) continue;
      const key = chain.deduplication_key === null ? null : occurrenceDeduplicationKey(chain.deduplication_key, candidate.keyPart);
      try {
        const bot = await candidate.book(key, config);
        const why = candidate.behind === 'returned'
          ? `Booked by chain mode of series ${seriesId}: this occurrence is back in the calendar (its earlier bot ended when it was cancelled, lost its link, or moved past that bot's meeting)`
          : candidate.behind === 'passed'
            ? `Booked by chain mode of series ${seriesId}: the chain passed this occurrence when it could not be booked (no meeting link, or its key taken); it can be now`
            : candidate.behind === 'moved'
              ? `Booked by chain mode of series ${seriesId}: this occurrence now starts before the one the chain booked last, and has not started`
              : `Booked by chain mode of series ${seriesId}: this occurrence now starts before the one bot ${current?.id} waits for`;
        await bots.appendDecision(trx, bot.botId, now, 'chain_booked', why, { series_event_id: seriesId, previous_bot_id: current?.id ?? null });
        firstBotId ??= bot.botId;
        booked++;
        slots.push({ slot: candidate.slotMs, bot: bot.botId });
      } catch (error) {
        // No bot for this one (no meeting link...): as when the chain comes to it in turn. One it
        // passed for that reason is expected to fail until its link comes: not worth an info line.
        if (!(error instanceof ApiError)) throw error;
        if (candidate.behind === 'passed' && mayClearWithoutSeriesChange(error.code)) waitsForKey = true;
        this.#logger[candidate.behind === 'passed' ? 'debug' : 'info']({ seriesId, occurrence: candidate.keyPart, code: error.code }, 'chain mode could not book an occurrence out of turn');
      }
    }
    return { booked, firstBotId, waitsForKey, slots };
  }

  /**
   * A series row's occurrences after the one the chain stands at, in order: null when the chain
   * ended with its series, a reason to wait when the series cannot be booked now.
   */
  async #nextOccurrences(trx: Transaction<Schema>, chain: RecurringChainRow, current: BotRow | undefined, now: number): Promise<ChainCandidate[] | string | null> {
    const seriesId = chain.series_event_id;
    const series = await lockEvent(trx, this.#database.engine, chain.user_id, seriesId);
    if (!series || series.is_deleted === 1) {
      // A deleted event never comes back: the chain ends with it.
      await updateChain(trx, seriesId, { is_enabled: 0, last_error: 'the series was deleted', updated_at: now });
      return null;
    }
    if (series.status === 'cancelled' || series.recurrence === null) return SERIES_CALLED_OFF;
    // Where the chain stands: the occurrence its current bot serves now (a re-timed series moves
    // the bot's link along), else the one it was booked for.
    const afterKey = (current ? await latestOccurrenceKeyOf(trx, current.id, seriesId) : null) ?? chain.current_occurrence_key;
    const afterMs = afterKey === null ? null : parseOccurrenceKey(afterKey);
    const { occurrences: ahead, lastEndMs } = await this.#events.upcomingAndLastEnd(trx, chain.user_id, series, now, LOOKAHEAD);
    // series_end_ms is stored only for rules cheap to count (a COUNT up to 100); the walk that
    // found nothing ahead has counted a longer one out, unless it was too long to count.
    const seriesEndMs = series.series_end_ms !== null ? Number(series.series_end_ms) : lastEndMs;
    if (isSeriesOver({ seriesEndMs, hasOccurrenceAhead: ahead.length > 0 }, now)) return SERIES_ENDED;
    const upcoming = ahead.filter((o) => o.status !== 'cancelled');
    const isBehind = (o: { originalStartMs: number }) => afterMs !== null && o.originalStartMs <= afterMs;
    const returned = upcoming.some(isBehind) ? await bots.listOccurrencesFreedByCalendar(trx, seriesId) : new Set<string>();
    const passed = passedKeysOf(chain);
    // The occurrence the chain stands at, back after its bot ended for the calendar's sake (the
    // series or that occurrence cancelled and brought back before the chain moved on): the chain
    // books it again in turn, as its own next one, and nothing after it until that bot leaves, so
    // that one bot waits for the series, not that one out of turn and the one after it in turn.
    const isOwnReturned = (o: { key: string }) => o.key === afterKey && returned.has(o.key);
    const behindOf = (o: { key: string; originalStartMs: number }): ChainCandidate['behind'] => {
      if (!isBehind(o) || isOwnReturned(o)) return undefined;
      if (returned.has(o.key)) return 'returned';
      return passed.has(o.key) ? 'passed' : undefined;
    };
    return upcoming
      .filter((o) => !isBehind(o) || isOwnReturned(o) || behindOf(o) !== undefined)
      .map((occurrence) => ({
        position: occurrence.key,
        keyPart: occurrence.key,
        startMs: occurrence.startMs,
        orderMs: occurrence.originalStartMs,
        behind: behindOf(occurrence),
        findLive: () => bots.findLiveLink(trx, series.id, occurrence.key),
        hadBot: () => bots.hasHadBot(trx, series.id, occurrence.key),
        book: (key, config) => this.#scheduling.bookOccurrence(trx, chain.user_id, series, occurrence, key, config, now),
      }));
  }

  /**
   * An Outlook series' instances (no series row: instance-series.ts) starting after the place the
   * chain stands at (and, out of turn, those now behind it that it may book: below): the start its booked instance had when it was booked, so that moving or
   * deleting that instance (Outlook cancels an occurrence by deleting it) does not move the chain
   * back or past one; nor does its bot following it to a new id (a series moved to another day:
   * instance-moves.ts), as no instance its bot served comes next. Only as far as the sync window
   * has brought instances; a series with none left (deleted, or its calendar no longer synced)
   * ends the chain.
   */
  async #nextInstances(trx: Transaction<Schema>, chain: RecurringChainRow, series: InstanceSeries, current: BotRow | undefined, now: number): Promise<ChainCandidate[] | string | null> {
    const instances = await listSeriesInstances(trx, chain.user_id, series);
    if (instances.length === 0) {
      await updateChain(trx, chain.series_event_id, { is_enabled: 0, last_error: 'the series has no occurrence left', updated_at: now });
      return null;
    }
    const at = parseInstanceChainPosition(chain.current_occurrence_key);
    const served = new Set(current ? (await bots.listLinksOfBot(trx, current.id)).map((l) => l.event_id) : []);
    // A week the chain has served may come back under a new id (Graph gives a series' occurrences
    // new ids when the series moves to another day, and its bot that left does not follow) and be
    // moved from there, an exception that carries no original start (microsoft-graph-docs issue
    // 4353). Its slot tells it: the start it had when Graph listed it as a plain occurrence
    // (instance_slots). Each slot the chain booked (served_slots) is claimed by one instance at
    // most (claimServedSlots): the one on it, else the nearest less than half the series' spacing
    // away (the series moved by less than that); the spacing is the smaller of the instances' and
    // the served slots' own, so that weeks the organizer cancelled do not widen it. An instance that
    // claims a slot is never the chain's again, ahead of its place or behind it, unless it has bot
    // links of its own (the instance the chain booked, under the id it had): whether those count
    // (hasHadBot: one whose bot left its meeting before the meeting moved on past it does not)
    // decides then.
    const slots = await findInstanceSlots(trx, instances.map((i) => i.id));
    // A plain occurrence stored by an instance of an earlier release has no slot yet: its start is it.
    for (const instance of instances) {
      if (slots.has(instance.id) || !isPlainOccurrence(instance.raw)) continue;
      await recordInstanceSlot(trx, instance.id, instance.start_ms);
      slots.set(instance.id, instance.start_ms);
    }
    // A slot whose bot never launched, its links ended for the calendar's sake (the organizer
    // cancelled that week, or its meeting link went), was not served: that week is owed a bot still.
    const recorded = servedSlotsOf(chain);
    const freed = await bots.botsFreedByCalendar(trx, recorded.map(([, bot]) => bot));
    const servedSlots = recorded.filter(([, bot]) => !freed.has(bot)).map(([slot]) => slot);
    // A chain from before migration 051 recorded none: it takes the slot of the instance at its
    // place (kept after that instance is gone), if known, as served, so that the slots it books
    // next add to it. What it served before that slot it does not know (isMovedHere, below).
    if (chain.served_slots === null && at !== null) {
      const placeSlot = slots.get(at.instanceId) ?? (await findInstanceSlots(trx, [at.instanceId])).get(at.instanceId);
      if (placeSlot !== undefined && current) {
        recorded.push([placeSlot, current.id]);
        if (!freed.has(current.id)) servedSlots.push(placeSlot);
        chain.served_slots = JSON.stringify(recorded);
        await updateChain(trx, chain.series_event_id, { served_slots: chain.served_slots });
      }
    }
    const spacings = [usualSpacingMs([...slots.values()]), usualSpacingMs(servedSlots)].filter((gap): gap is number => gap !== null);
    const claiming = claimServedSlots([...slots].map(([id, slotMs]) => ({ id, slotMs })), servedSlots, spacings.length === 0 ? null : Math.min(...spacings));
    const linked = await bots.eventsWithAnyLinks(trx, [...claiming]);
    const servedWeeks = new Set([...claiming].filter((id) => !linked.has(id)));
    const isServedWeek = (i: EventRow) => servedWeeks.has(i.id);
    const isOpen = (i: EventRow) => i.end_ms > now && i.status !== 'cancelled' && !served.has(i.id) && (at === null || i.id !== at.instanceId) && !isServedWeek(i);
    const upcoming = instances.filter((i) => isOpen(i) && (at === null || i.start_ms > at.startMs));
    // Behind the chain's place and not started, but not before where the chain was started (those
    // the client left out): an instance Graph lists as an exception of the series (moved there,
    // keeping its id) that now starts before the one booked last, or one the chain passed for want
    // of a link or a key. It is the chain's, booked out of turn unless it has a bot already or had
    // one that counts (#bookOutOfTurn); the chain's place does not move. A plain occurrence behind
    // the place is not: one that came under a new id, or came back under an old one, when the
    // series moved to another day (which drops its exceptions) may be a week a bot of the chain
    // has served under another id, and so may an exception made of such an instance since the
    // chain booked the bot it waits for (stored after that bot: the instance's created_at).
    const floor = chain.floor_start_ms === null ? at?.startMs ?? null : Number(chain.floor_start_ms);
    // A chain from before migration 047 has no floor: it takes its place as its floor, so that
    // what is moved to before the instance it books next is its to book.
    if (chain.floor_start_ms === null && floor !== null) await updateChain(trx, chain.series_event_id, { floor_start_ms: floor });
    const placedAtMs = current ? Number(current.created_at) : null;
    const passed = passedKeysOf(chain);
    // An exception behind the place is the chain's only if it was stored before the bot the chain
    // waits for, whatever its slot: the served slots add weeks to leave alone (isOpen, above), they
    // do not vouch for the others, as they are not every week the chain booked (none is recorded
    // for a week first listed moved whose likely slot could not be told, nor by an instance of an
    // earlier release booking during an upgrade), and a likely slot is a guess.
    const isMovedHere = (i: EventRow) => isStoredException(i.raw) && Number(i.created_at) < placedAtMs!;
    const behind = at === null || floor === null || placedAtMs === null ? []
      : instances.filter((i) => isOpen(i) && i.start_ms <= at.startMs && i.start_ms > now && i.start_ms >= floor && (passed.has(i.id) || isMovedHere(i)));
    if (upcoming.length === 0 && behind.length === 0) {
      const lastInstanceEndMs = Math.max(...instances.map((i) => i.end_ms));
      if (isInstanceSeriesOver({ rule: newestSeriesRule(instances), lastInstanceEndMs }, now)) return SERIES_ENDED;
      // Instances left that have not ended, none the chain's (before its floor, behind its place,
      // weeks it served): time alone brings nothing; a change of the series does, at once.
      return lastInstanceEndMs > now ? SERIES_LEFT_BEHIND : 'no upcoming occurrence of the series is synced yet';
    }
    // An instance whose slot is not known (Graph listed it moved the first time) is recorded as
    // served, once booked, at the slot it most likely has (likelySlotOf: the place of the series'
    // rule its week left free among the known slots, when that place alone fits), so that the week,
    // come back under a new id when the series moves to another day or time, stands for it as any
    // served week does. Each known slot goes with the rule its instance was synced under: one taken
    // under a rule that laid other places lays none of the newest's. An all-day Outlook series'
    // places are UTC midnights (placesZoneOf). The rule tells neither the series' time of day nor
    // its phase: the slot of the plain occurrence written last does (currentSlotOf).
    const slotted = instances.flatMap((i) => slots.has(i.id) ? [{ startMs: i.start_ms, slotMs: slots.get(i.id)!, rule: i.series_rule }] : []);
    const ruleRow = newestRuleRow(instances);
    const seriesRule = {
      rule: ruleRow?.series_rule ?? null,
      timeZone: ruleRow ? placesZoneOf({ is_all_day: ruleRow.is_all_day === 1, platform: ruleRow.platform, timezone: ruleRow.timezone }) : null,
      currentSlotMs: currentSlotOf(instances, slots),
    };
    return [...behind.slice(0, LOOKAHEAD), ...upcoming.slice(0, LOOKAHEAD)].map((instance) => ({
      position: instanceChainPosition(instance),
      keyPart: instance.id,
      startMs: instance.start_ms,
      orderMs: instance.start_ms,
      behind: behind.includes(instance) ? passed.has(instance.id) ? 'passed' as const : 'moved' as const : undefined,
      slotMs: slots.get(instance.id) ?? likelySlotOf(instance.start_ms, slotted, seriesRule) ?? undefined,
      findLive: () => bots.findLiveLink(trx, instance.id, ''),
      hadBot: () => bots.hasHadBot(trx, instance.id, ''),
      book: (key, config) => this.#scheduling.bookInstance(trx, chain.user_id, instance.id, key, config, now),
    }));
  }

  /**
   * The series an id names: itself, or the series of an occurrence id or override instance; for an
   * Outlook occurrence (no series row), its instance series. With the chain's id, the events whose
   * bots it may take its settings from, and the event named as it is now (the answer's summary
   * and times): the series, or the one occurrence an occurrence id or an override names, moved or
   * renamed as its override has it. An occurrence id the series has no occurrence for (gone stale:
   * the series re-timed, an occurrence removed) names the series (its first occurrence, as the
   * series id does), `isStale`; one whose series is not the user's, or not there, is 404.
   */
  async #seriesOf(trx: Transaction<Schema>, userId: string, eventId: string): Promise<{ chainId: string; named: NamedEvent; linkedEventIds: string[]; rule: string | null; isStale: boolean }> {
    const ref = parseOccurrenceId(eventId);
    const notFound = () => new ApiError('event_not_found', `No event ${eventId}`, { details: { field: 'event_id' } });
    const found = await findEvent(trx, userId, ref?.seriesId ?? eventId);
    if (!found) throw notFound();
    // An Outlook instance Graph no longer lists (its series moved to another day, which gives
    // every occurrence a new id) still names its series while the series has instances stored.
    const goneInstances = found.is_deleted === 1 ? instanceSeriesOf(found) : null;
    if (found.is_deleted === 1 && !goneInstances) throw notFound();
    let event = found;
    if (event.recurrence === null && event.recurring_event_id !== null) event = await findEvent(trx, userId, event.recurring_event_id) ?? event;
    const instances = event.recurrence === null ? instanceSeriesOf(event) : null;
    if (instances) {
      // Before the chain row is locked, as on every path that takes both.
      await lockInstanceSeries(trx, this.#database.engine, instances);
      const rows = await listSeriesInstances(trx, userId, instances);
      if (goneInstances && rows.length === 0) throw notFound();
      // A gone instance is answered for by the series' first instance stored (as a series row's id answers with its first occurrence).
      const named = goneInstances ? namedEventOf(rows[0]!) : namedEventOf(event);
      return { chainId: instanceSeriesId(instances), named, linkedEventIds: rows.map((i) => i.id), rule: newestSeriesRule(rows), isStale: goneInstances !== null };
    }
    if (event.recurrence === null) {
      throw new ApiError('event_not_recurring', `event_id: event ${eventId} has no recurrence rule`, { details: { field: 'event_id' } });
    }
    // An occurrence id names the occurrence with that original start; an override, its own.
    const originalStartMs = ref?.originalStartMs ?? (found.id !== event.id ? found.original_start_ms : null);
    let named = namedEventOf(event);
    let isStale = false;
    if (originalStartMs !== null) {
      const occurrence = await this.#events.findEffectiveOccurrence(trx, userId, event, originalStartMs);
      if (occurrence) named = { title: occurrence.title ?? event.title, startMs: occurrence.startMs, endMs: occurrence.endMs };
      else isStale = true;
    }
    return { chainId: event.id, named, linkedEventIds: [event.id], rule: recurrenceRuleOf(event), isStale };
  }

  /** The occurrence (of a series row, or an Outlook instance) a bot of its chain waits for: its id and how it stands now. */
  async #bookedOccurrence(trx: Transaction<Schema>, userId: string, seriesId: string, botId: string): Promise<{ eventId: string; named: NamedEvent } | null> {
    if (parseInstanceSeriesId(seriesId)) {
      const link = (await bots.listLiveLinksOfBot(trx, botId)).at(-1);
      const instance = link ? await findEvent(trx, userId, link.event_id) : undefined;
      return instance && instance.is_deleted === 0 ? { eventId: instance.id, named: namedEventOf(instance) } : null;
    }
    const key = await latestOccurrenceKeyOf(trx, botId, seriesId);
    const originalStartMs = key === null ? null : parseOccurrenceKey(key);
    const series = originalStartMs === null ? undefined : await findEvent(trx, userId, seriesId);
    if (!series || originalStartMs === null) return null;
    const occurrence = await this.#events.findEffectiveOccurrence(trx, userId, series, originalStartMs);
    if (!occurrence) return null;
    return { eventId: occurrenceIdOf(seriesId, originalStartMs), named: { title: occurrence.title ?? series.title, startMs: occurrence.startMs, endMs: occurrence.endMs } };
  }

  /**
   * A chain turned on for a series that never had one: it takes the configuration and key of the
   * series' most recent bot, so that it goes on as that bot was booked; without one, the default
   * configuration and keys derived from the meeting.
   */
  async #newChain(trx: Transaction<Schema>, userId: string, chainId: string, linkedEventIds: string[], now: number): Promise<RecurringChainRow> {
    const latest = linkedEventIds.length === 0 ? undefined : await trx.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bots.id', 'bots.deduplication_key', 'bots.bot_config', 'bot_events.occurrence_key', 'bot_events.event_id'])
      .where('bot_events.event_id', 'in', linkedEventIds).where('bots.user_id', '=', userId).where('bots.data_deleted_at', 'is', null)
      .orderBy('bot_events.id', 'desc').limit(1).executeTakeFirst();
    let key: string | null = null;
    let config = applyBotConfigDefaults({}, this.#scheduling.defaultBotName);
    if (latest) {
      config = applyBotConfigDefaults(JSON.parse(latest.bot_config) as BotConfigInput);
      // A join time pinned for that one bot (join_at, or a PATCH) is no time for the next occurrences.
      delete config.join_at;
      // A series occurrence's bot is keyed "<key>@<occurrence key>", an Outlook instance's "<key>@<event id>".
      const suffix = `@${latest.occurrence_key === '' ? latest.event_id : latest.occurrence_key}`;
      key = latest.deduplication_key.endsWith(suffix) ? latest.deduplication_key.slice(0, -suffix.length) : latest.deduplication_key;
      if (key.startsWith(DERIVED_KEY_PREFIX)) key = null;
      // A chain the client turns on over auto-schedule's bots is the client's: not auto-schedule's
      // keys (one meeting each), nor its mark on the bots it books.
      if (key?.startsWith(AUTO_SCHEDULE_KEY_PREFIX)) {
        key = null;
        const { auto_scheduled: _auto, ...attributes } = config.custom_attributes ?? {};
        config = { ...config, custom_attributes: attributes };
      }
    }
    return {
      series_event_id: chainId, user_id: userId, is_enabled: 1, deduplication_key: key, bot_config: JSON.stringify(config),
      current_bot_id: null, current_occurrence_key: null, passed_keys: null, floor_start_ms: null, served_slots: null, next_check_at_ms: null, last_error: null, created_at: now, updated_at: now,
    };
  }

  /**
   * Runs `work` in a transaction, again when a concurrent one won a race (unique key, deadlock).
   * Only a step that booked tells the other instances (NOTIFY): an idle pass that did would wake
   * every other instance's loop, and theirs this one's, for ever.
   */
  #inTransaction<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    return retryingLostRaces(() => this.#database.db.transaction().execute(work));
  }
}

/** The event a toggle-recurrence request named, as its answer describes it. */
interface NamedEvent {
  title: string | null;
  startMs: number;
  endMs: number;
}

function namedEventOf(event: EventRow): NamedEvent {
  return { title: event.title, startMs: event.start_ms, endMs: event.end_ms };
}

/** How many passed occurrences a chain remembers: the latest ones (a chain rarely passes more than one or two). */
const PASSED_KEPT = 50;

/** The occurrences the chain passed for want of a link or a key (an Outlook series' chain records instance ids). */
function passedKeysOf(chain: RecurringChainRow): Set<string> {
  return new Set(chain.passed_keys === null ? [] : JSON.parse(chain.passed_keys) as string[]);
}

/**
 * An Outlook series' chain taking its first place (turned on by toggle-recurrence, with no instance
 * named): it starts at the first instance it looked at, `first`, whether it booked that one or
 * went past it (no link, its key taken, a bot had already), so that one it passed is still its to
 * book once it can be. That instance's start is its floor. Nothing for a chain that has one.
 */
function floorOf(chain: RecurringChainRow, instances: InstanceSeries | null, first: ChainCandidate): { floor_start_ms?: number } {
  return instances !== null && chain.floor_start_ms === null && chain.current_occurrence_key === null ? { floor_start_ms: first.startMs } : {};
}

/** An Outlook instance the chain booked: its slot (known or likely), if any, and the bot booked for it. */
interface BookedSlot {
  slot: number | undefined;
  bot: string;
}

/** The slots of the Outlook instances the chain booked, each with the bot booked for it (recurring_chains.served_slots). */
function servedSlotsOf(chain: RecurringChainRow): [number, string][] {
  return chain.served_slots === null ? [] : JSON.parse(chain.served_slots) as [number, string][];
}

/**
 * The chain's served slots with those booked now added (series rows' occurrences have none; nor
 * has an instance whose slot is neither known nor likely), the latest PASSED_KEPT.
 */
function withServed(chain: RecurringChainRow, bookedNow: readonly BookedSlot[]): string | null {
  const added = bookedNow.filter((b): b is { slot: number; bot: string } => b.slot !== undefined).map((b): [number, string] => [b.slot, b.bot]);
  if (added.length === 0) return chain.served_slots;
  const kept = servedSlotsOf(chain).filter(([slot]) => !added.some(([a]) => a === slot));
  return JSON.stringify([...kept, ...added].slice(-PASSED_KEPT));
}

/** The chain's passed occurrences with those passed now added, the latest PASSED_KEPT; null for none. */
function withPassed(chain: RecurringChainRow, passedNow: readonly string[]): string | null {
  if (passedNow.length === 0) return chain.passed_keys;
  const kept = [...passedKeysOf(chain)].filter((key) => !passedNow.includes(key));
  return JSON.stringify([...kept, ...passedNow].slice(-PASSED_KEPT));
}

/** The occurrence the bot's most recent link to the series names. */
async function latestOccurrenceKeyOf(trx: Transaction<Schema>, botId: string, seriesId: string): Promise<string | null> {
  const row = await trx.selectFrom('bot_events').select('occurrence_key')
    .where('bot_id', '=', botId).where('event_id', '=', seriesId).where('occurrence_key', '!=', '')
    .orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.occurrence_key ?? null;
}

/** The series' RRULE line (MeetStream answers with the rule), else its first recurrence line. */
function recurrenceRuleOf(series: EventRow): string | null {
  const lines = series.recurrence ? (JSON.parse(series.recurrence) as string[]) : [];
  return lines.find((l) => /^RRULE:/i.test(l)) ?? lines[0] ?? null;
}

/**
 * An Outlook series' rule: its master's pattern as each occurrence last stored it (series_rule).
 * The occurrence written last carries the master as Graph has it now; one Graph no longer sends
 * (past, or moved out by an edit) keeps the rule it had then. Null when none has one.
 */
function newestSeriesRule(instances: readonly EventRow[]): string | null {
  return newestRuleRow(instances)?.series_rule ?? null;
}

/** The instance that carries the newest rule (newestSeriesRule), whose zone is the series'; null when none has one. */
function newestRuleRow(instances: readonly EventRow[]): EventRow | null {
  let newest: EventRow | null = null;
  for (const row of instances) if (row.series_rule !== null && (newest === null || row.updated_at > newest.updated_at)) newest = row;
  return newest;
}
