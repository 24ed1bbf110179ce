// Where a schedule fires. Each process runs one Dispatcher:
//   1. a little before rows come due it claims them (lease) and keeps them on an in-memory timer;
//   2. at the due moment it re-checks them in the database (markLaunching): a row moved, cancelled
//      or taken over since the claim is dropped; the rest become 'launching' and their bots
//      'Joining' in the same transaction;
//   3. then it calls the bot runtime, and marks each row done or puts it back for a retry.
// A process that dies between 2 and 3 leaves rows 'launching' with a lease; when the lease runs
// out another process (or this one, restarted) launches them again with the same idempotency key.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { BotEventRow, BotRow, ScheduleRow } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Metrics } from '../lib/metrics.ts';
import { formatInstant } from '../lib/time.ts';
import type { BotCommand, BotRuntime, RuntimeOutcome, LaunchRequest } from '../adapters/bot-runtimes/bot-runtime.ts';
import * as schedules from '../store/schedule-store.ts';
import * as bots from '../store/bot-store.ts';
import * as commands from '../store/runtime-command-store.ts';
import { transitionBot } from '../services/bot-lifecycle.ts';
import type { BotStatus } from '../domain/bot-status.ts';
import { launchRetryDelayMs, restartDelayMs } from './backoff.ts';
import { linkedEventsOf } from '../services/runtime-commands.ts';

export interface DispatcherOptions {
  database: Database;
  clock: Clock;
  runtime: BotRuntime;
  logger: Logger;
  metrics: Metrics;
  publicUrl: string;
  /** How long a claim or a launch in flight holds its row. Must exceed the runtime timeout. */
  leaseMs: number;
  /** How far ahead rows are claimed onto the in-memory timer. (Default: 2000) */
  lookaheadMs?: number;
  /** Longest sleep without looking at the database (a safety net for missed signals). */
  pollIntervalMs?: number;
  /** Launches in flight at once. */
  maxConcurrentLaunches?: number;
  /** Rows claimed per statement. */
  batchSize?: number;
  /** Called after each launch attempt (tests and the benchmark observe firing through it). */
  onLaunchAttempt?: (event: { botId: string; scheduleId: string; dueAtMs: number; firedAtMs: number; attempt: number; outcome: RuntimeOutcome }) => void;
}

/** Update and stop commands are useful only around the meeting; after an hour they are given up. */
const COMMAND_RETRY_WINDOW_MS = 3_600_000;

interface Claimed {
  scheduleId: string;
  botId: string;
  dueAtMs: number;
  /** The row was already 'launching' under a dead holder: launch again, do not re-decide. */
  isTakeover: boolean;
}

export class Dispatcher {
  readonly owner = `dsp_${randomUUID()}`;
  readonly #o: Required<Omit<DispatcherOptions, 'onLaunchAttempt'>> & Pick<DispatcherOptions, 'onLaunchAttempt'>;
  readonly #claimed = new Map<string, Claimed>();
  #running = false;
  #pollTimer: NodeJS.Timeout | null = null;
  #fireTimer: NodeJS.Timeout | null = null;
  #fireTimerAt = Infinity;
  #cycle: Promise<void> | null = null;
  #wakeRequested = false;
  #failures = 0;
  #inFlight = 0;
  readonly #launches = new Set<Promise<void>>();
  readonly #slotWaiters: (() => void)[] = [];

  constructor(options: DispatcherOptions) {
    this.#o = {
      lookaheadMs: 2000,
      pollIntervalMs: 5000,
      maxConcurrentLaunches: 256,
      batchSize: 500,
      ...options,
    };
  }

  get isRunning(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (!this.#o.runtime.canLaunch) {
      this.#o.logger.warn('No bot runtime is configured (BOT_RUNTIME): due bots will fail with reason no_runtime');
    }
    this.wake();
  }

  /** Stops timers, waits for launches in flight, and hands unfired claims back. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#fireTimer) clearTimeout(this.#fireTimer);
    await this.#cycle;
    await Promise.allSettled([...this.#launches]);
    this.#claimed.clear();
    await schedules.releaseClaims(this.#o.database.db, this.owner, this.#o.clock.now()).catch(() => {});
  }

  /** Something changed (a schedule was created, moved or cancelled): look again now. */
  wake(): void {
    if (!this.#running) return;
    if (this.#cycle) {
      this.#wakeRequested = true;
      return;
    }
    this.#cycle = this.#runCycle().finally(() => {
      this.#cycle = null;
      if (this.#wakeRequested && this.#running) {
        this.#wakeRequested = false;
        this.wake();
      }
    });
  }

  /** Fires everything due now and waits for the launches (tests with a manual clock use this). */
  async runDue(): Promise<void> {
    const wasRunning = this.#running;
    this.#running = true;
    try {
      await this.#claim();
      await this.#fireDue();
      await Promise.allSettled([...this.#launches]);
    } finally {
      this.#running = wasRunning;
    }
  }

  /** One pass: claim what is near, fire what is due, then sleep until the next moment. */
  async #runCycle(): Promise<void> {
    try {
      await this.#claim();
      await this.#fireDue();
      await this.#sendCommands();
      this.#failures = 0;
      await this.#arm();
    } catch (error) {
      // The loop never dies: log, count, and try again after a capped, jittered pause.
      this.#failures++;
      this.#o.metrics.loopRestarts.inc({ loop: 'dispatcher' });
      const delay = restartDelayMs(this.#failures);
      this.#o.logger.error({ err: error, retryInMs: delay }, 'dispatcher cycle failed');
      this.#setPoll(delay);
    }
  }

  async #claim(): Promise<void> {
    const { database, clock, batchSize, lookaheadMs, leaseMs } = this.#o;
    for (;;) {
      const now = clock.now();
      const rows = await database.db.transaction().execute((trx) =>
        schedules.claimSchedules(trx, database.engine, this.owner, now, now + lookaheadMs, leaseMs, batchSize));
      for (const row of rows) {
        this.#claimed.set(row.id, { scheduleId: row.id, botId: row.bot_id, dueAtMs: row.state === 'launching' ? now : row.due_at_ms, isTakeover: row.state === 'launching' });
      }
      if (rows.length < batchSize) return;
    }
  }

  async #fireDue(): Promise<void> {
    for (;;) {
      const now = this.#o.clock.now();
      const due = [...this.#claimed.values()].filter((c) => c.dueAtMs <= now).sort((a, b) => a.dueAtMs - b.dueAtMs);
      if (due.length === 0) return;
      for (let i = 0; i < due.length; i += this.#o.batchSize) {
        await this.#fireBatch(due.slice(i, i + this.#o.batchSize));
      }
    }
  }

  async #arm(): Promise<void> {
    if (!this.#running) return;
    const now = this.#o.clock.now();
    const nextClaimed = Math.min(...[...this.#claimed.values()].map((c) => c.dueAtMs));
    if (Number.isFinite(nextClaimed)) this.#setFireTimer(nextClaimed);
    const nextInDb = await schedules.nextWakeAt(this.#o.database.db);
    const untilClaim = nextInDb === null ? Infinity : nextInDb - this.#o.lookaheadMs - now;
    const nextCommand = await commands.nextRuntimeCommandAt(this.#o.database.db);
    const untilCommand = nextCommand === null ? Infinity : nextCommand - now;
    this.#setPoll(Math.max(0, Math.min(this.#o.pollIntervalMs, untilClaim, untilCommand)));
  }

  #setFireTimer(atMs: number): void {
    if (this.#fireTimer && this.#fireTimerAt <= atMs) return;
    if (this.#fireTimer) clearTimeout(this.#fireTimer);
    this.#fireTimerAt = atMs;
    this.#fireTimer = setTimeout(() => {
      this.#fireTimer = null;
      this.#fireTimerAt = Infinity;
      this.wake();
    }, Math.max(0, atMs - this.#o.clock.now()));
  }

  #setPoll(delayMs: number): void {
    if (!this.#running) return;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = null;
      this.wake();
    }, delayMs);
  }

  /** Sends queued update and stop commands for launched bots; retries for up to an hour. */
  async #sendCommands(): Promise<void> {
    const { database, clock, runtime, logger } = this.#o;
    for (;;) {
      const now = clock.now();
      const batch = await database.db.transaction().execute((trx) =>
        commands.claimRuntimeCommands(trx, database.engine, now, this.#o.leaseMs, 50));
      if (batch.length === 0) return;
      await Promise.all(batch.map(async (row) => {
        const command = JSON.parse(row.payload) as BotCommand;
        let outcome: RuntimeOutcome;
        try {
          outcome = await runtime.send(command);
        } catch (error) {
          outcome = { ok: false, failure: 'transient', retryAfterMs: null, message: `runtime error: ${(error as Error).message}` };
        }
        const at = clock.now();
        const givesUp = !outcome.ok && (outcome.failure === 'permanent' || at - row.created_at > COMMAND_RETRY_WINDOW_MS);
        try {
          await database.db.transaction().execute(async (trx) => {
            if (outcome.ok) {
              await commands.settleRuntimeCommand(trx, row.id, { state: 'done' }, null, at);
              await bots.appendDecision(trx, row.bot_id, at, `${row.action}_delivered`, `The runtime accepted the ${row.action} command`, { idempotency_key: row.idempotency_key });
            } else if (givesUp) {
              await commands.settleRuntimeCommand(trx, row.id, { state: 'failed' }, outcome.message, at);
              await bots.appendDecision(trx, row.bot_id, at, `${row.action}_failed`, `The runtime did not accept the ${row.action} command: ${outcome.message}`, { idempotency_key: row.idempotency_key });
            } else {
              const retryAt = at + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(row.attempts));
              await commands.settleRuntimeCommand(trx, row.id, { state: 'pending', retryAtMs: retryAt }, outcome.message, at);
            }
          });
        } catch (error) {
          logger.error({ err: error, botId: row.bot_id }, 'could not record a runtime command result');
        }
      }));
    }
  }

  /** The fire decision for a batch, in one transaction; then the launches start. */
  async #fireBatch(batch: Claimed[]): Promise<void> {
    const { database, clock, leaseMs } = this.#o;
    const now = clock.now();
    for (const c of batch) this.#claimed.delete(c.scheduleId);
    const launches = await database.db.transaction().execute(async (trx) => {
      const decided = await schedules.markLaunching(trx, this.owner, batch.filter((c) => !c.isTakeover).map((c) => c.scheduleId), now, leaseMs);
      const retaken = await schedules.takeOverLaunching(trx, this.owner, batch.filter((c) => c.isTakeover).map((c) => c.scheduleId), now, leaseMs);
      const rows = [...decided, ...retaken];
      if (rows.length === 0) return [];
      const botRows = await trx.selectFrom('bots').selectAll().where('id', 'in', rows.map((r) => r.bot_id)).execute();
      const botsById = new Map(botRows.map((b) => [b.id, b]));
      const links = await trx.selectFrom('bot_events').selectAll().where('bot_id', 'in', rows.map((r) => r.bot_id)).where('is_live', '=', 1).execute();
      const toLaunch: { schedule: ScheduleRow; bot: BotRow; links: BotEventRow[] }[] = [];
      for (const schedule of rows) {
        const bot = botsById.get(schedule.bot_id)!;
        const verdict = await this.#decide(trx, schedule, bot, now);
        if (verdict === 'launch') toLaunch.push({ schedule, bot, links: links.filter((l) => l.bot_id === bot.id) });
      }
      return toLaunch;
    });
    for (const item of launches) await this.#startLaunch(item.schedule, item.bot, item.links);
  }

  /** Re-checks the bot as it is now and records what happens to it. */
  async #decide(trx: Parameters<typeof transitionBot>[0], schedule: ScheduleRow, bot: BotRow, now: number): Promise<'launch' | 'skip'> {
    const status = bot.status as BotStatus;
    const lateMs = now - schedule.due_at_ms;
    if (status !== 'Scheduled' && status !== 'Joining') {
      await schedules.finishSchedule(trx, schedule.id, 'done', now);
      return 'skip';
    }
    if (bot.meeting_end_ms <= now) {
      if (status === 'Scheduled') {
        await transitionBot(trx, bot, 'Missed', `The meeting ended at ${formatInstant(bot.meeting_end_ms)} before the bot could be launched (the schedule was due at ${formatInstant(schedule.due_at_ms)})`, now, { decisionKind: 'missed', webhookMessage: 'The meeting ended before the bot could join' });
      } else {
        await transitionBot(trx, bot, 'Failed', `The runtime did not accept the launch before the meeting ended (${schedule.last_error ?? 'no answer'})`, now, { decisionKind: 'failed' });
      }
      return 'skip';
    }
    if (!this.#o.runtime.canLaunch) {
      await transitionBot(trx, bot, 'Failed', 'no_runtime: no bot runtime is configured', now, { decisionKind: 'failed', webhookMessage: 'no_runtime: no bot runtime is configured' });
      return 'skip';
    }
    if (status === 'Scheduled') {
      await transitionBot(trx, bot, 'Joining', `Launching through the ${this.#o.runtime.name} runtime, ${lateMs} ms after the scheduled time`, now, { decisionKind: 'launched', webhookMessage: 'Bot is joining the meeting' });
    } else {
      await bots.appendDecision(trx, bot.id, now, 'launch_retried', `Launch attempt ${schedule.attempts} (same idempotency key ${schedule.idempotency_key})${schedule.last_error ? ` after: ${schedule.last_error}` : ''}`, { attempt: schedule.attempts });
    }
    return 'launch';
  }

  async #startLaunch(schedule: ScheduleRow, bot: BotRow, links: BotEventRow[]): Promise<void> {
    while (this.#inFlight >= this.#o.maxConcurrentLaunches) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#inFlight++;
    const launch = this.#launch(schedule, bot, links).finally(() => {
      this.#inFlight--;
      this.#slotWaiters.shift()?.();
      this.#launches.delete(launch);
    });
    this.#launches.add(launch);
  }

  async #launch(schedule: ScheduleRow, bot: BotRow, links: BotEventRow[]): Promise<void> {
    const { clock, runtime, metrics, database, logger } = this.#o;
    const request = buildLaunchRequest(schedule, bot, links, this.#o.publicUrl);
    const firedAtMs = clock.now();
    if (schedule.attempts === 1) metrics.fireLatenessSeconds.observe(Math.max(0, firedAtMs - schedule.due_at_ms) / 1000);
    let outcome: RuntimeOutcome;
    try {
      outcome = await runtime.launch(request);
    } catch (error) {
      outcome = { ok: false, failure: 'transient', retryAfterMs: null, message: `runtime error: ${(error as Error).message}` };
    }
    metrics.launches.inc({ outcome: outcome.ok ? (outcome.alreadyDone ? 'already_launched' : 'accepted') : outcome.failure });
    this.#o.onLaunchAttempt?.({ botId: bot.id, scheduleId: schedule.id, dueAtMs: schedule.due_at_ms, firedAtMs, attempt: schedule.attempts, outcome });
    const now = clock.now();
    try {
      await database.db.transaction().execute(async (trx) => {
        if (outcome.ok) {
          await schedules.completeSchedules(trx, this.owner, [schedule.id], now);
          if (outcome.alreadyDone) await bots.appendDecision(trx, bot.id, now, 'launch_confirmed', 'The runtime already had this launch (same idempotency key); nothing was started twice', {});
          return;
        }
        if (outcome.failure === 'permanent') {
          const current = (await bots.findBotById(trx, bot.id))!;
          await transitionBot(trx, current, 'Failed', outcome.message, now, { decisionKind: 'failed' });
          return;
        }
        const retryAt = now + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(schedule.attempts));
        await schedules.retrySchedule(trx, this.owner, schedule.id, retryAt, outcome.message, now);
        await bots.appendDecision(trx, bot.id, now, 'launch_failed', `${outcome.message}; next attempt at ${formatInstant(retryAt)}`, { attempt: schedule.attempts });
      });
    } catch (error) {
      // The lease will run out and the row will be launched again with the same key.
      logger.error({ err: error, botId: bot.id }, 'could not record a launch result');
    }
    if (!outcome.ok && outcome.failure !== 'permanent') this.wake();
  }
}

export function buildLaunchRequest(schedule: ScheduleRow, bot: BotRow, links: BotEventRow[], publicUrl: string): LaunchRequest {
  return {
    action: 'launch',
    bot_id: bot.id,
    meeting_url: bot.meeting_url,
    platform: bot.meeting_platform,
    bot_config: JSON.parse(bot.bot_config) as Record<string, unknown>,
    events: linkedEventsOf(links),
    scheduled_time: formatInstant(bot.join_at_ms),
    idempotency_key: schedule.idempotency_key,
    status_url: `${publicUrl}/api/v1/bots/${bot.id}/status`,
    status_token: schedule.status_token,
  };
}
