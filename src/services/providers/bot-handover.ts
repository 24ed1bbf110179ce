// Early handover to a bot provider (docs/behaviour.md, "Handover"). A runtime that takes a future
// join time (`scheduling`) gets each bot ahead of its join time: its timer is moved to a planned
// handover, the dispatcher fires it then and sends the launch with `join_at`, and the bot stays
// Scheduled, with the provider's bot id, until the provider's webhooks move it on.
//
// The plan (src/domain/handover-plan.ts) hands bots over earliest join first, at most the
// provider's creations per minute, each as late as its lead allows but early enough that a wave
// fits; bots the pace cannot get there within their lead are reported ahead (a decision and a
// bot.handover_at_risk webhook). A 429 pauses the plan until the provider's Retry-After. The
// pace is checked again at send time, so timers that came due together do not go out at once.
//
// The dispatcher calls these, and nothing else: planIfDue / plan (before it claims),
// beginFireBatch, verdict and defer (the fire decision), recordAttempts (in the fire transaction)
// and recordResults (in the results transaction).
import { FAILURE_STATUS } from '../../domain/bot-status.ts';
import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BotRow, ScheduleRow, Schema } from '../../db/schema.ts';
import { madeNothing, type BotRuntime, type LaunchRequest, type RuntimeOutcome, type SchedulingRules } from '../../adapters/bot-runtimes/bot-runtime.ts';
import { nextCreationAtMs, planHandovers, planningHorizon, type HandoverSlot } from '../../domain/handover-plan.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant } from '../../lib/time.ts';
import { launchRetryDelayMs } from '../../scheduler/backoff.ts';
import * as bots from '../../store/bot-store.ts';
import * as schedules from '../../store/schedule-store.ts';
import * as handovers from '../../store/provider-handover-store.ts';
import { recordProviderBot } from '../../store/provider-bot-store.ts';
import { findBotsWithoutCalendarAccess } from '../../store/connection-store.ts';
import type { Db } from '../../store/event-store.ts';
import { transitionBot } from '../scheduling/bot-lifecycle.ts';
import { requestChaseIfUnanswered, requestProviderSync } from './provider-sync.ts';
import { enqueueStatusWebhook } from '../webhooks/status-webhooks.ts';
import { reasonPrefix } from '../../domain/reason-codes.ts';

/** Bots whose handover may come within this are planned (given timers and a decision) now. */
const PLAN_AHEAD_MS = 3_600_000;
/** How far ahead the plan counts joins to see a wave that must start early (see planningHorizon). */
const PLAN_SPAN_MS = 24 * 3_600_000;
/** Plans at most this often when something changed, and at least this often otherwise. */
const PLAN_MIN_INTERVAL_MS = 1000;
const PLAN_MAX_INTERVAL_MS = 10_000;
/** A planned time that moves by less than this is not announced again. */
const PLAN_NOTICE_MS = 60_000;
/**
 * Creations are paced at this share of the provider's rate. Pacing counts from when a request is
 * sent, the provider counts when it arrives: at exactly the rate, a network's jitter puts one
 * creation in sixty over a sliding minute's limit now and then. 2% (1.02 s apart at 60 a minute)
 * absorbs over a second of jitter per minute.
 */
const PACE_SHARE = 0.98;
/** A bot made to join this soon after a launch decided now joins "at once" as well. */
const JOINS_NOW_MS = 60_000;

export interface HandoverLaunch {
  schedule: ScheduleRow;
  bot: BotRow;
}

export interface HandoverResult extends HandoverLaunch {
  outcome: RuntimeOutcome;
}

export interface BotHandoverOptions {
  database: Database;
  clock: Clock;
  /** The runtime; it must declare `scheduling`. */
  runtime: BotRuntime;
  logger: Logger;
}

export class BotHandover {
  readonly #o: BotHandoverOptions;
  readonly #rules: SchedulingRules;
  /** The provider asked to slow down (429) until then: no handover is planned before it. */
  #pausedUntilMs = 0;
  #lastPlanAtMs = -Infinity;
  #isStale = true;
  /** Plan at the next chance, however recent the last plan (the provider asked to slow down). */
  #mustPlan = false;
  #planning: Promise<void> | null = null;
  /** In the fire transaction under way: when this provider's creations of the last minute went out (beginFireBatch). */
  #recentAttemptsMs: number[] = [];
  /** The send-time pace made the last verdict `wait`: not before then. */
  #notBeforeMs = 0;
  #wake: () => void = () => {};
  #wakeTimer: NodeJS.Timeout | null = null;

  constructor(options: BotHandoverOptions) {
    if (!options.runtime.scheduling) throw new Error(`the ${options.runtime.name} runtime takes no future join time: nothing to hand over early`);
    this.#o = options;
    this.#rules = options.runtime.scheduling.rules;
  }

  get provider(): string {
    return this.#o.runtime.name;
  }

  /**
   * The fire decision: a Scheduled bot whose join time is still ahead is handed over (the launch
   * carries join_at and the bot stays Scheduled), or waits while the provider asked to slow down
   * (a timer the plan had not moved yet). One whose join time has come is launched as before
   * (Joining): its plan was overtaken, or it was scheduled to join at once.
   */
  verdict(bot: BotRow, nowMs: number): 'handover' | 'wait' | 'launch' {
    this.#notBeforeMs = 0;
    if (bot.status !== 'Scheduled' || bot.join_at_ms <= nowMs) return 'launch';
    if (nowMs < this.#pausedUntilMs) return 'wait';
    // Timers that came due together (a stall, a backlog) go out a spacing apart, not at once.
    const at = this.#nextCreationAtMs(this.#recentAttemptsMs, nowMs);
    if (at > nowMs) {
      this.#notBeforeMs = at;
      return 'wait';
    }
    this.#recentAttemptsMs.push(nowMs);
    return 'handover';
  }

  /**
   * In the fire transaction, before its verdicts: reads when this provider's creations of the last
   * minute went out (every instance's), for the send-time pace.
   */
  async beginFireBatch(trx: Db, nowMs: number): Promise<void> {
    this.#recentAttemptsMs = await this.#recentAttempts(trx, nowMs);
  }

  /**
   * In the fire transaction: a handover that has to wait goes back to its timer, the attempt
   * uncounted; never past the bot's join time, where it is launched without waiting.
   */
  async defer(trx: Db, owner: string, schedule: ScheduleRow, bot: Pick<BotRow, 'join_at_ms'>, nowMs: number): Promise<void> {
    await schedules.deferLaunch(trx, owner, schedule.id, Math.min(bot.join_at_ms, Math.max(this.#pausedUntilMs, this.#notBeforeMs, nowMs)), nowMs);
    this.#mustPlan = true;
  }

  /** When this provider's creations of the last minute (or spacing, when longer) went out, every instance's. */
  async #recentAttempts(db: Db, nowMs: number): Promise<number[]> {
    return handovers.attemptTimesSince(db, this.provider, nowMs - Math.max(60_000, pacedSpacingMs(this.#rules.createsPerMinute)));
  }

  #nextCreationAtMs(recentMs: readonly number[], nowMs: number): number {
    return nextCreationAtMs(recentMs, nowMs, this.#rules.createsPerMinute, pacedSpacingMs(this.#rules.createsPerMinute));
  }

  /**
   * In the fire transaction: a bot whose calendars all lost their access is not handed over while
   * they stay without it (nobody can tell whether its meeting still exists). Its timer waits for
   * the join time, where the bot is cancelled if access is still missing; the plan leaves it out
   * meanwhile and places it again as soon as access is back.
   */
  /**
   * In the fire transaction: a bot waiting for another bot that keeps its meeting
   * (src/services/scheduling/meeting-keepers.ts) is not placed again by the plan before `untilMs`,
   * when its timer comes due and it is decided again.
   */
  async holdUntil(trx: Db, botId: string, untilMs: number, nowMs: number): Promise<void> {
    await handovers.setBackoff(trx, botId, this.provider, untilMs, nowMs);
  }

  async holdForAccess(trx: Db, owner: string, schedule: ScheduleRow, bot: BotRow, nowMs: number): Promise<void> {
    await schedules.deferLaunch(trx, owner, schedule.id, bot.join_at_ms, nowMs);
    await bots.appendDecision(trx, bot.id, nowMs, 'handover_held',
      `${reasonPrefix('calendar_access_revoked')}not handed over to ${this.provider} while the calendars of its events have no access; handed over as soon as access returns, cancelled if it has not by the join time (${formatInstant(bot.join_at_ms)})`,
      { provider: this.provider, join_at: formatInstant(bot.join_at_ms) });
  }

  /** Something changed (a bot added, moved or cancelled): plan again soon. */
  markStale(): void {
    this.#isStale = true;
  }

  /** Called to come back when a change had to wait for the next plan (the dispatcher's wake). */
  setWake(wake: () => void): void {
    this.#wake = wake;
  }

  /**
   * Plans when something changed (at most once a second, so that a burst of bookings costs one
   * plan) or every ten seconds. A change that has to wait brings the dispatcher back for it.
   */
  async planIfDue(): Promise<void> {
    const sinceMs = this.#o.clock.now() - this.#lastPlanAtMs;
    if (this.#mustPlan || (this.#isStale && sinceMs >= PLAN_MIN_INTERVAL_MS) || sinceMs >= PLAN_MAX_INTERVAL_MS || sinceMs < 0) {
      await this.plan();
      return;
    }
    if (this.#isStale && this.#wakeTimer === null) {
      this.#wakeTimer = setTimeout(() => {
        this.#wakeTimer = null;
        this.#wake();
      }, PLAN_MIN_INTERVAL_MS - sinceMs);
      this.#wakeTimer.unref();
    }
  }

  /** Plans the handover of every bot whose handover may come within the next hour. */
  async plan(): Promise<void> {
    while (this.#planning) await this.#planning;
    this.#planning = this.#plan().finally(() => {
      this.#planning = null;
    });
    return this.#planning;
  }

  async #plan(): Promise<void> {
    const { database, clock } = this.#o;
    const now = clock.now();
    this.#lastPlanAtMs = now;
    this.#isStale = false;
    this.#mustPlan = false;
    const { handoverLeadMs: leadMs } = this.#rules;
    const createsPerMinute = this.#rules.createsPerMinute * PACE_SHARE;
    const spacingMs = pacedSpacingMs(this.#rules.createsPerMinute);
    const buckets = await handovers.countWaitingByMinute(database.db, now, now + PLAN_SPAN_MS);
    const horizon = planningHorizon(buckets, now, leadMs, createsPerMinute, PLAN_AHEAD_MS);
    if (horizon.endMs === null) return;
    const waiting = await handovers.listWaiting(database.db, now, Math.min(horizon.endMs, now + PLAN_SPAN_MS));
    // A bot backing off keeps its retry time; one whose calendars lost their access waits for it
    // (holdForAccess); the rest are placed anew.
    const backedOff = waiting.filter((w) => w.notBeforeMs === null || w.notBeforeMs <= now);
    const blocked = await findBotsWithoutCalendarAccess(database.db, backedOff.map((w) => w.botId));
    const placeable = backedOff.filter((w) => !blocked.has(w.botId));
    if (placeable.length === 0) return;
    // No sooner than a spacing after the latest creation, nor than the minute's count allows.
    const recent = await this.#recentAttempts(database.db, now);
    const lastAttemptMs = recent.length === 0 ? null : Math.max(...recent);
    const earliestMs = Math.max(now, this.#pausedUntilMs, lastAttemptMs === null ? -Infinity : lastAttemptMs + spacingMs, this.#nextCreationAtMs(recent, now));
    const plan = planHandovers(placeable.map((w) => ({ id: w.botId, joinAtMs: w.joinAtMs })), earliestMs, leadMs, createsPerMinute, horizon.nextLatestMs);
    const byId = new Map(placeable.map((w) => [w.botId, w]));
    const changes = plan.slots.flatMap((slot) => {
      const bot = byId.get(slot.id)!;
      // At risk: late by the plan although its lead had not run out when first seen late, i.e.
      // the pace (or a pause the provider asked for) makes it late, not a late booking. Once
      // reported it stays at risk until the plan has it in time again.
      const isAtRisk = !slot.isInTime && (bot.isAtRisk || slot.deadlineMs > now);
      const isAnnounced = bot.plannedAtMs !== null && Math.abs(bot.plannedAtMs - slot.handoverAtMs) < PLAN_NOTICE_MS && isAtRisk === bot.isAtRisk;
      return bot.dueAtMs === slot.handoverAtMs && isAnnounced ? [] : [{ slot, bot }];
    });
    if (changes.length === 0) return;
    await database.db.transaction().execute(async (trx) => {
      // Bots before schedules, the one lock order.
      await bots.lockBots(trx, database.engine, changes.map((c) => c.bot.botId));
      for (const { slot, bot } of changes) {
        if (bot.dueAtMs !== slot.handoverAtMs) {
          const moved = await handovers.moveHandoverTimer(trx, bot.scheduleId, bot.botId, bot.dueAtMs, bot.joinAtMs, slot.handoverAtMs, now);
          // The bot moved or went since it was read: the next plan sees it as it is now.
          if (!moved) continue;
        }
        // Read again under the bot's lock: another instance's plan may have announced it meanwhile,
        // and a bot is reported at risk once.
        const row = await handovers.findHandover(trx, bot.botId);
        const wasAtRisk = row?.is_at_risk === 1;
        const isAtRisk = !slot.isInTime && (wasAtRisk || slot.deadlineMs > now);
        const plannedAtMs = row?.planned_at_ms ?? null;
        if (plannedAtMs !== null && Math.abs(plannedAtMs - slot.handoverAtMs) < PLAN_NOTICE_MS && isAtRisk === wasAtRisk) continue;
        await this.#announce(trx, bot, slot, isAtRisk, wasAtRisk, now);
      }
    });
    this.#o.logger.debug({ provider: this.provider, planned: plan.slots.length, late: plan.late.length, changed: changes.length }, 'handover plan');
  }

  async #announce(trx: Transaction<Schema>, bot: handovers.WaitingBot, slot: HandoverSlot, isAtRisk: boolean, wasAtRisk: boolean, now: number): Promise<void> {
    const provider = this.provider;
    const { handoverLeadMs: leadMs, createsPerMinute } = this.#rules;
    const at = formatInstant(slot.handoverAtMs);
    const joins = formatInstant(slot.joinAtMs);
    const details = { provider, handover_at: at, deadline: formatInstant(slot.deadlineMs), join_at: joins, lead_seconds: leadMs / 1000, creates_per_minute: createsPerMinute };
    let reason: string;
    if (slot.isInTime && slot.handoverAtMs === slot.deadlineMs) {
      reason = `Will be handed over to ${provider} at ${at}, ${minutes(leadMs)} before it joins at ${joins} (the handover lead)`;
    } else if (slot.isInTime) {
      reason = `Will be handed over to ${provider} at ${at}, ${minutes(slot.deadlineMs - slot.handoverAtMs)} earlier than its lead needs: the bots joining around ${joins} need ${provider}'s ${creations(createsPerMinute)} a minute, earliest join first`;
    } else if (!isAtRisk) {
      reason = `Will be handed over to ${provider} at ${at}, as soon as the pace allows: it was booked less than the ${minutes(leadMs)} lead before it joins at ${joins}`;
    } else {
      reason = `Will be handed over to ${provider} at ${at}, ${minutes(slot.handoverAtMs - slot.deadlineMs)} after its lead runs out (${formatInstant(slot.deadlineMs)}): the bots joining before it take ${provider}'s ${creations(createsPerMinute)} a minute${this.#pausedUntilMs > now ? `, and ${provider} asked to wait until ${formatInstant(this.#pausedUntilMs)}` : ''}`;
    }
    await bots.appendDecision(trx, bot.botId, now, 'handover_planned', reason, details);
    await handovers.recordPlan(trx, bot.botId, provider, { plannedAtMs: slot.handoverAtMs, deadlineMs: slot.deadlineMs, isAtRisk }, now);
    if (isAtRisk && !wasAtRisk) {
      const message = `The bot may reach ${provider} with less than its ${minutes(leadMs)} lead: handover planned at ${at}, the lead runs out at ${formatInstant(slot.deadlineMs)}, it joins at ${joins}`;
      await bots.appendDecision(trx, bot.botId, now, 'handover_at_risk', message, details);
      const webhookBot = { id: bot.botId, user_id: bot.userId, bot_config: bot.botConfig, custom_attributes: bot.customAttributes };
      await enqueueStatusWebhook(trx, webhookBot, {
        event: 'bot.handover_at_risk', status: 'Scheduled', statusCode: 200, message,
        extra: { handover: { provider, planned_at: at, deadline: formatInstant(slot.deadlineMs), join_at: joins, lead_seconds: leadMs / 1000, creates_per_minute: createsPerMinute } },
      }, now);
    } else if (!isAtRisk && wasAtRisk) {
      await bots.appendDecision(trx, bot.botId, now, 'handover_in_time', `The plan has the bot within its lead again: handed over to ${provider} at ${at}`, details);
    }
  }

  /**
   * In the fire transaction, for a bot launched to join at once (its join time came before its
   * handover was answered): the key it goes under. A handover request under the launch's key that
   * got no answer may have made a bot, and the provider answers the launch with it: right when
   * that request asked for what the launch does (the same link and settings, a join time about
   * now), wrong otherwise (a meeting moved earlier: that bot would join hours late). Then the
   * launch takes a key of its own, and a sync lets the lost request's bot go
   * (provider-command-sender.ts, the chase). Changes `schedule.idempotency_key` in place.
   */
  async keyForLaunchNow(trx: Transaction<Schema>, schedule: ScheduleRow, bot: BotRow, nowMs: number): Promise<void> {
    const row = await handovers.findHandover(trx, bot.id);
    const first = handovers.firstSentOf(row);
    if (!row || !first || handovers.keyOfFirstSent(schedule.idempotency_key, row) !== schedule.idempotency_key) return;
    if (first.meetingUrl === bot.meeting_url && first.botConfig === bot.bot_config && first.joinAtMs <= nowMs + JOINS_NOW_MS) return;
    const lostKey = schedule.idempotency_key;
    schedule.idempotency_key = `${lostKey}.now`;
    await schedules.setLaunchKey(trx, schedule.id, schedule.idempotency_key, nowMs);
    await bots.appendDecision(trx, bot.id, nowMs, 'launch_key_changed',
      `A handover to ${this.provider} under ${lostKey} got no answer and asked for ${first.meetingUrl !== bot.meeting_url ? 'another link' : first.botConfig !== bot.bot_config ? 'other settings' : `a join at ${formatInstant(first.joinAtMs)}`}: the launch goes under ${schedule.idempotency_key}, and a bot that request made is let go of`,
      { provider: this.provider, idempotency_key: schedule.idempotency_key, lost_idempotency_key: lostKey });
    await requestChaseIfUnanswered(trx, bot.id, 'A handover that got no answer asked for something else than the launch', nowMs);
  }

  /**
   * In the fire transaction, before the request is recorded as sent: a creation sent again under
   * the key of one that got no answer carries when that one went out (the provider may have to
   * look its bot up: ScheduledBotOperations.findLostCreation).
   */
  async noteUnanswered(trx: Transaction<Schema>, bot: Pick<BotRow, 'id' | 'launched_at'>, request: LaunchRequest, isRelaunch: boolean): Promise<void> {
    // A relaunch (another instance took over a launch whose result was not written) is sent again
    // under the key of a launch sent at launched_at at the latest.
    const since = await handovers.unansweredSince(trx, bot.id, request.idempotency_key) ?? (isRelaunch && bot.launched_at !== null ? bot.launched_at : undefined);
    if (since !== undefined) request.unanswered_since_ms = since;
  }

  /** In the fire transaction: these bots' creation requests go out now (pacing counts from here). */
  async recordAttempts(trx: Transaction<Schema>, launches: readonly HandoverLaunch[], nowMs: number): Promise<void> {
    if (launches.length === 0) return;
    await handovers.recordAttempts(trx, this.provider, launches.map(({ schedule, bot }) => ({ botId: bot.id, sent: handovers.sentOf(bot), key: schedule.idempotency_key })), nowMs);
    for (const { schedule, bot } of launches) {
      if (schedule.attempts <= 1) continue;
      await bots.appendDecision(trx, bot.id, nowMs, 'handover_retried', `Handover to ${this.provider}, attempt ${schedule.attempts} (launch key ${schedule.idempotency_key})${schedule.last_error ? ` after: ${schedule.last_error}` : ''}`, { attempt: schedule.attempts });
    }
  }

  /**
   * In the results transaction, with the bots locked: an accepted handover finishes the timer and
   * records the provider's bot (what it holds: its id, join time and link); a refusal fails the bot;
   * anything else is tried again later (a 429 pauses the plan). A bot that changed while its
   * handover was in flight gets a sync, so the provider follows. Returns whether any will retry.
   */
  async recordResults(trx: Transaction<Schema>, owner: string, results: readonly HandoverResult[], nowMs: number): Promise<boolean> {
    const provider = this.provider;
    let retries = false;
    // Access lost while the handover was on the wire: the sync withdraws the bot in time.
    const blocked = await findBotsWithoutCalendarAccess(trx, results.filter((r) => r.outcome.ok).map((r) => r.bot.id));
    for (const { schedule, bot, outcome } of results) {
      const current = await bots.findBotById(trx, bot.id);
      if (outcome.ok) {
        await schedules.completeSchedules(trx, owner, [{ id: schedule.id, attempt: schedule.attempts }], nowMs);
        const providerBotId = outcome.providerBotId;
        if (providerBotId === undefined) {
          this.#o.logger.error({ botId: bot.id, provider }, 'the provider accepted a handover without naming its bot');
          continue;
        }
        await recordProviderBot(trx, bot.id, provider, providerBotId, nowMs);
        // The provider may have answered with the bot an earlier request (timed out here) made.
        const held = handovers.sentFirst(await handovers.findHandover(trx, bot.id), handovers.sentOf(bot));
        await handovers.recordHeld(trx, bot.id, provider, { providerBotId, ...held, handedOverAtMs: nowMs }, nowMs);
        await bots.appendDecision(trx, bot.id, nowMs, 'handed_over',
          `Handed over to ${provider} as ${providerBotId}, joins at ${formatInstant(bot.join_at_ms)}${outcome.alreadyDone ? ` (${provider} already had this launch under its idempotency key; nothing was created twice)` : ''}`,
          { provider, provider_bot_id: providerBotId, join_at: formatInstant(bot.join_at_ms), idempotency_key: schedule.idempotency_key, ...(outcome.sentKey ? { provider_idempotency_key: outcome.sentKey } : {}) });
        if (current && (current.status !== 'Scheduled' || current.join_at_ms !== held.joinAtMs || current.meeting_url !== held.meetingUrl || current.bot_config !== held.botConfig)) {
          await requestProviderSync(trx, { id: bot.id, provider_bot_id: providerBotId }, 'The bot changed while it was being handed over', nowMs);
        } else if (blocked.has(bot.id)) {
          await requestProviderSync(trx, { id: bot.id, provider_bot_id: providerBotId }, 'The calendars of its events lost their access while it was being handed over', nowMs);
        }
        continue;
      }
      // Refused before anything was created: the next request is a first again (unless an earlier
      // request got no answer: it stays recorded), whether or not the bot is still waiting.
      if (madeNothing(outcome)) await handovers.forgetFirstSentIfLatest(trx, bot.id, nowMs);
      if (outcome.failure === 'permanent') {
        if (current?.status === 'Scheduled') {
          await transitionBot(trx, current, FAILURE_STATUS, `The handover to ${provider} was refused: ${outcome.message}`, nowMs, { decisionKind: 'failed' });
          // An earlier request that got no answer may have made a bot: the sync looks for it.
          await requestChaseIfUnanswered(trx, bot.id, 'The handover was refused after a request that got no answer', nowMs);
        }
        continue;
      }
      const askedAtMs = nowMs + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(schedule.attempts));
      // Never past the join time, where the bot is launched to join at once (the provider asked
      // to wait longer than the bot can: one request then, not a bot left out of its meeting),
      // nor, once that has passed, past the meeting's end, where a bot the provider kept refusing fails (Error, `bot.failed`).
      const { join_at_ms: joinAtMs, meeting_end_ms: meetingEndMs } = current ?? bot;
      const retryAtMs = Math.max(nowMs, Math.min(askedAtMs, joinAtMs > nowMs ? joinAtMs : meetingEndMs));
      if (!(await schedules.retrySchedule(trx, owner, schedule.id, schedule.attempts, retryAtMs, outcome.message, nowMs))) continue;
      retries = true;
      if (outcome.failure === 'rate_limited') {
        // The limit is the provider's, for every bot: the whole plan waits, and this bot is placed
        // again with the others, earliest join first.
        this.#pausedUntilMs = Math.max(this.#pausedUntilMs, askedAtMs);
        this.#mustPlan = true;
        await handovers.setBackoff(trx, bot.id, provider, null, nowMs);
      } else {
        await handovers.setBackoff(trx, bot.id, provider, retryAtMs, nowMs);
      }
      await bots.appendDecision(trx, bot.id, nowMs, 'handover_failed',
        outcome.failure === 'rate_limited'
          ? `${outcome.message}; no bot is handed over before ${formatInstant(askedAtMs)}, then earliest join first`
          : `${outcome.message}; next attempt at ${formatInstant(retryAtMs)}`,
        { attempt: schedule.attempts, failure: outcome.failure });
    }
    return retries;
  }
}

/** The plan's spacing between two creations, at PACE_SHARE of the provider's rate. */
function pacedSpacingMs(createsPerMinute: number): number {
  return Math.ceil(60_000 / (createsPerMinute * PACE_SHARE));
}

function creations(perMinute: number): string {
  return `${perMinute} creation${perMinute === 1 ? '' : 's'}`;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 6000) / 10;
  return m < 1 ? `${Math.round(ms / 1000)} s` : `${m} min`;
}
