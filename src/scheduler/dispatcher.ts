// Where a schedule fires. Each process runs one Dispatcher:
//   1. a little before rows come due it claims them (lease), reads and builds what their launches
//      need (launch-preparation.ts), and keeps them on an in-memory timer (working-set.ts);
//   2. at the due instant it confirms them in the database with one statement per batch: a row
//      moved, cancelled or taken over since the claim is dropped, a bot changed since goes the slow
//      path (decided again from fresh data); the rest become 'launching', their bots 'Joining';
//   3. the launch requests go out at once, and the results are written in batches after the burst.
// A process that dies between 2 and 3 leaves rows 'launching'. Another instance takes them over
// when the dead one's liveness marker has been gone for a second (dispatcher-liveness.ts), or when its lease runs out,
// and launches them again with the same idempotency key. A decision that fails in a live process
// (its answer lost, say) is taken up again by the next pass, the same way.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { inTransactionWithoutWaitingForDisk, type Database } from '../db/database.ts';
import type { Transaction } from 'kysely';
import type { BotRow, ScheduleRow, Schema } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Metrics } from '../lib/metrics.ts';
import { formatInstant } from '../lib/time.ts';
import type { BotCommand, BotRuntime, RuntimeOutcome, LaunchRequest, PreparedLaunch } from '../adapters/bot-runtimes/bot-runtime.ts';
import * as schedules from '../store/schedule-store.ts';
import * as bots from '../store/bot-store.ts';
import * as commands from '../store/runtime-command-store.ts';
import { recordProviderBot } from '../store/provider-bot-store.ts';
import { CALENDAR_ACCESS_LOST_REASON, findBotsWithoutCalendarAccess } from '../store/connection-store.ts';
import { cancelBotInTransaction, endLaunchNotAccepted, markBotsJoining, recordLaunchStarts, transitionBot, type LaunchStart } from '../services/scheduling/bot-lifecycle.ts';
import { FAILURE_STATUS, type BotStatus } from '../domain/bot-status.ts';
import { requestRuntimeCommand } from '../services/scheduling/runtime-commands.ts';
import { madeNothing } from '../adapters/bot-runtimes/bot-runtime.ts';
import { launchRetryAtMs, launchRetryDelayMs, restartDelayMs } from './backoff.ts';
import { WorkingSet } from './working-set.ts';
import { runApart } from '../lib/run-apart.ts';
import { createDispatcherLiveness, MissingHolders, type DispatcherLiveness } from './dispatcher-liveness.ts';
import { buildLaunchRequest, prepareClaimed, PREPARED_LAUNCH_MAX_AGE_MS, unprepared, type Claimed } from './launch-preparation.ts';
import { confirmLaunches } from '../store/firing-store.ts';
import { heartbeatIntervalMs } from './lease-renewal.ts';
import type { BotHandover } from '../services/providers/bot-handover.ts';
import type { ProviderCommandSender } from './provider-command-sender.ts';
import { FailureLog } from '../lib/failure-log.ts';
import { findKeepers, giveWay } from '../services/scheduling/meeting-keepers.ts';
import { reasonPrefix } from '../domain/reason-codes.ts';

export { buildLaunchRequest } from './launch-preparation.ts';

export interface DispatcherOptions {
  database: Database;
  clock: Clock;
  runtime: BotRuntime;
  logger: Logger;
  metrics: Metrics;
  publicUrl: string;
  /** How long a claim or a launch in flight holds its row. Must exceed the runtime timeout. */
  leaseMs: number;
  /** How far ahead rows are claimed and prepared onto the in-memory timer. (Default: 10000) */
  lookaheadMs?: number;
  /** Longest sleep without looking at the database (a safety net for missed signals). */
  pollIntervalMs?: number;
  /** Launches in flight at once. */
  maxConcurrentLaunches?: number;
  /** Rows claimed per statement, and confirmed per statement at the due instant. */
  batchSize?: number;
  /** Called after each launch attempt (tests and the benchmark observe firing through it). */
  onLaunchAttempt?: (event: { botId: string; scheduleId: string; dueAtMs: number; firedAtMs: number; attempt: number; outcome: RuntimeOutcome }) => void;
  /** Early handover, for a runtime with `scheduling` (src/services/providers/bot-handover.ts). */
  handover?: BotHandover;
  /** Late edits of bots a provider holds (src/scheduler/provider-command-sender.ts). */
  providerCommands?: ProviderCommandSender;
}

/** Update and stop commands are useful only around the meeting; after an hour they are given up. */
const COMMAND_RETRY_WINDOW_MS = 3_600_000;

/** Claims look this much further ahead than the lookahead, and the next claim waits as long. */
const CLAIM_STEP_MS = 250;

/** How long launch results wait to be written together. */
const RESULT_FLUSH_MS = 10;

/**
 * While launches are still going out or waiting for their answers, their results wait until every
 * launch of the burst has its answer (up to this long): on SQLite every write runs on this thread,
 * on PostgreSQL the results' statements share the machine with the launches, and writing them in
 * the middle of a burst delays the launches that are not out yet. Measured on a 10,000 burst
 * (2 cores, SQLite): a 500 ms bound wrote results twice during the burst and added 300-400 ms to
 * the last launch. A burst of 10,000 is answered in about 1-2 s; a longer one, or a runtime slow
 * to answer, has its results (and so its bot.joining webhooks) written every 5 s meanwhile.
 */
const RESULT_FLUSH_MAX_DEFER_MS = 5000;

/** Retries waiting for their backoff that one accepted launch brings forward, at most (a burst's worth). */
const MAX_BROUGHT_FORWARD = 5_000;

/** Writes of one result that fail on their own (not an outage) before it is given up. */
const RESULT_WRITE_TRIES = 3;

/** How often a PostgreSQL dispatcher looks for rows held by dispatchers that died. */
const ORPHAN_SWEEP_MS = 500;

/**
 * A live dispatcher's rows are taken over only once their lease has run out this many times over:
 * it is then taken to be stuck (alive, but not getting anything done), not merely slow.
 */
const STUCK_LEASES = 10;

/**
 * A bot another transaction holds at the due moment (an API request changing it, or, for a moment,
 * the webhook sender recording an attempt of one of its webhooks) is decided again this much later.
 */
const BUSY_BOT_RETRY_MS = 5;

/**
 * The first batch confirmed at the due instant is small, so that the first launches are on the
 * wire within a few milliseconds; the rest are confirmed in full batches while those are sent.
 * Measured on a 2,000 burst (2 cores): 64 put the first launch 19-31 ms after the due instant,
 * 16 put it at 13-23 ms. Later, on PostgreSQL, where confirming 16 took 8-12 ms at the due
 * instant: 16 gave 20-34 ms (6 runs), 8 gave 20-29 ms, 4 gave 15-21 ms (5 runs), with the whole
 * burst no later (SQLite: 12-15 ms with 16, 9-14 ms with 4).
 */
const FIRST_BATCH_SIZE = 4;

interface PendingLaunch {
  scheduleId: string;
  botId: string;
  dueAtMs: number;
  /** This launch's attempt number (1 for the first). */
  attempt: number;
  request: LaunchRequest;
  prepared: PreparedLaunch | null;
  /** The launch's record still to be written (status change, decision, webhook); null: written. */
  start: LaunchStart | null;
  /** A handover ahead of the join time (the request carries join_at; the bot stays Scheduled). */
  handover?: { schedule: ScheduleRow; bot: BotRow };
}

/** What a decision left for each row of a batch: launches to send, rows with nothing to send, rows whose bot another transaction holds. */
interface Decided {
  launches: PendingLaunch[];
  dropped: string[];
  busy: Claimed[];
}

/** The confirmation's answer; `slow`: rows to decide from fresh data. */
interface Confirmed extends Decided {
  slow: Claimed[];
}

interface LaunchResult {
  launch: PendingLaunch;
  outcome: RuntimeOutcome;
  /** How many writes of this result failed on their own (not an outage). */
  writeFailures?: number;
}

/** Why a refused launch ends when no event holds the bot's meeting any more (#findStoppedBots). */
const NO_LIVE_EVENT = 'None of the bot\'s events holds its meeting any more';

export class Dispatcher {
  readonly owner = `dsp_${randomUUID()}`;
  readonly #o: Required<Omit<DispatcherOptions, 'onLaunchAttempt' | 'handover' | 'providerCommands'>> & Pick<DispatcherOptions, 'onLaunchAttempt' | 'handover' | 'providerCommands'>;
  /** Failed launch attempts, logged (a runtime down for a burst logs a few and a count). */
  readonly #launchFailures: FailureLog;
  /** The rows this process works on, from claim to written result (src/scheduler/working-set.ts). */
  readonly #rows = new WorkingSet();
  #running = false;
  #pollTimer: NodeJS.Timeout | null = null;
  #fireTimer: NodeJS.Timeout | null = null;
  #fireTimerAt = Infinity;
  #cycle: Promise<void> | null = null;
  #wakeRequested = false;
  /** While runDue drives the dispatcher by hand, a wake starts no cycle of its own: runDue does that work. */
  #isDrivenByHand = false;
  #firing: Promise<void> | null = null;
  #fireRequested = false;
  #failures = 0;
  #fireFailures = 0;
  #inFlight = 0;
  readonly #launches = new Set<Promise<void>>();
  readonly #launchQueue: PendingLaunch[] = [];
  /** The fire path waiting for the launch queue to drain (see #roomToSend). */
  readonly #roomWaiters: (() => void)[] = [];
  #launchHead = 0;
  readonly #results: LaunchResult[] = [];
  /** When the oldest result still waiting to be written arrived (wall clock). */
  #oldestResultAt = 0;
  #flushTimer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #flushFailures = 0;
  /** Wall-clock time before which a failed results write is not tried again. */
  #flushBackoffUntil = 0;
  /** The fire path does not run before this (a failed pass backs off; rows already due wait). */
  #fireBackoffUntil = 0;
  readonly #liveness: DispatcherLiveness;
  #sweepTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #sweeping = false;
  #renewing = false;
  /** Other dispatchers that held rows and were alive at the last sweep (PostgreSQL). */
  #liveHolders: string[] = [];
  /**
   * Launches this dispatcher put back to wait for their backoff (no Retry-After asked for) while
   * the runtime took none (an outage of it), by schedule id, as the retry left them: when the
   * runtime accepts a launch again, they are tried at once instead of each waiting out up to a
   * minute (#bringRetriesForward).
   */
  readonly #backingOff = new Map<string, { attempt: number; retriedAtMs: number; retryAtMs: number }>();
  /** Rows brought forward once already: the next failure of one waits its backoff, so that a launch the runtime keeps refusing is not tried at every success of the others. */
  readonly #broughtForward = new Set<string>();
  /** Holders seen without their lock, and since when: dead only after a grace (dispatcher-liveness.ts). */
  readonly #missingHolders = new MissingHolders();
  #hasSweptOnce = false;
  /** A decision of the batch put a launch off (a bot waiting for the one that keeps its meeting): claim again after it. */
  #mustWakeAfterBatch = false;
  #stopListening: (() => void) | null = null;

  constructor(options: DispatcherOptions) {
    this.#o = {
      // Claiming also prepares each launch; ten seconds leaves room to prepare a burst of tens of
      // thousands before it is due, on a busy machine.
      lookaheadMs: 10_000,
      pollIntervalMs: 5000,
      maxConcurrentLaunches: 256,
      batchSize: 500,
      ...options,
    };
    // A lock lost while running (its connection ended) is taken again at once: the next cycle does.
    this.#liveness = createDispatcherLiveness(options.database, this.owner, options.logger, () => this.wake());
    this.#launchFailures = new FailureLog(options.logger, 'bot launch failed');
  }

  get isRunning(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // Loops that failed on an outage wait for the database to come back instead of retrying on
    // their own timers: the moment it answers, everything runs again.
    this.#stopListening = this.#o.database.health.onRecovered(() => {
      this.#missingHolders.databaseReturned(performance.now());
      this.#fireBackoffUntil = 0;
      this.#flushFailures = 0;
      this.#flushBackoffUntil = 0;
      this.wake();
      this.#armFire();
      if (this.#results.length > 0) this.#flushSoon();
    });
    if (!this.#liveness.isSoleProcess) {
      this.#sweepTimer = setInterval(() => void this.#sweepOrphans(), ORPHAN_SWEEP_MS);
      this.#sweepTimer.unref();
    }
    // A live dispatcher keeps the leases of the rows it works on fresh, so that nobody takes over
    // a row that is merely slow (a busy machine, a long burst): only dead holders lose rows.
    this.#heartbeatTimer = setInterval(() => void this.#renewLeases(), heartbeatIntervalMs(this.#o.leaseMs));
    this.#heartbeatTimer.unref();
    this.wake();
  }

  /**
   * The stop has begun (before the parts stopped ahead of this one): nothing more is claimed, fired
   * or sent from here on. stop() does the rest.
   */
  beginStop(): void {
    this.#running = false;
    // A pass waiting for room to send would wait for ever: nothing more is sent.
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  /** Stops timers, waits for launches in flight, and hands unfired claims back. */
  async stop(): Promise<void> {
    this.beginStop();
    this.#stopListening?.();
    this.#stopListening = null;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#fireTimer) clearTimeout(this.#fireTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#sweepTimer = null;
    this.#heartbeatTimer = null;
    await this.#cycle;
    // A pass may ask for another as it ends; #fire starts none once stopped.
    while (this.#firing) await this.#firing;
    await this.#drainLaunches();
    this.#launchFailures.flush();
    this.#o.providerCommands?.flushFailureLog();
    this.#rows.dropHeld();
    await schedules.releaseClaims(this.#o.database.db, this.owner, this.#o.clock.now()).catch(() => {});
    await this.#liveness.release();
  }

  /** Something changed (a schedule was created, moved or cancelled): look again now. */
  wake(): void {
    this.#o.handover?.markStale();
    if (!this.#running) return;
    if (this.#cycle || this.#isDrivenByHand) {
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
    this.#isDrivenByHand = true;
    try {
      if (!this.#liveness.isHeld) await this.#liveness.acquire();
      await this.#o.handover?.plan();
      await this.#claim();
      await this.#fireDue();
      await this.#sendCommands();
      await this.#o.providerCommands?.sendDue();
      await this.#drainLaunches();
    } finally {
      this.#isDrivenByHand = false;
      this.#running = wasRunning;
      // A wake that came meanwhile (a failed launch asks for one) runs now if the loops run.
      const isWakeDue = this.#wakeRequested;
      this.#wakeRequested = false;
      if (isWakeDue && wasRunning) this.wake();
    }
  }

  /**
   * The database side: claim what comes due soon, send queued commands, then sleep until the
   * next claim is needed. Firing runs on its own timer so that it never waits for this.
   */
  async #runCycle(): Promise<void> {
    try {
      // Nothing is claimed before this dispatcher is visibly alive to the others.
      if (!this.#liveness.isHeld) await this.#liveness.acquire();
      if (this.#liveness.isSoleProcess && !this.#hasSweptOnce) await this.#sweepOrphans();
      await this.#o.handover?.planIfDue();
      await this.#claim();
      this.#armFire();
      await this.#sendCommands();
      await this.#o.providerCommands?.sendDue();
      this.#failures = 0;
      await this.#armPoll();
    } catch (error) {
      // The loop never dies: log, count, and try again after a capped, jittered pause (or as
      // soon as the database is back, when it was an outage).
      this.#failures++;
      const delay = restartDelayMs(this.#failures);
      // An outage is not counted as the loop's failure: rollcall_database_up shows it.
      if (this.#o.database.health.observe(error)) this.#o.logger.debug({ retryInMs: delay }, 'dispatcher cycle failed: database unavailable');
      else {
        this.#o.metrics.loopRestarts.inc({ loop: 'dispatcher' });
        this.#o.logger.error({ err: error, retryInMs: delay }, 'dispatcher cycle failed');
      }
      this.#setPoll(delay);
    }
  }

  /**
   * Rows held by dispatchers that are gone are released at once instead of waiting out their
   * lease: on PostgreSQL a holder without its advisory lock is dead; on SQLite (one process per
   * file) every other holder is a predecessor that did not stop cleanly.
   */
  async #sweepOrphans(): Promise<void> {
    if (this.#sweeping || !this.#running) return;
    if (!this.#liveness.isSoleProcess && !this.#liveness.isHeld) return;
    this.#sweeping = true;
    try {
      const { database, clock, logger } = this.#o;
      const holders = await schedules.findOtherHolders(database.db, this.owner);
      const withoutLock = await this.#liveness.findDeadOwners(holders);
      // Real time, not the service clock: a lock's absence is a fact about connections.
      const dead = this.#liveness.isSoleProcess ? withoutLock : this.#missingHolders.confirm(withoutLock, performance.now());
      if (!this.#liveness.isSoleProcess) this.#liveHolders = holders.filter((h) => !dead.includes(h));
      const released = await schedules.expireLeasesOf(database.db, dead, clock.now());
      this.#hasSweptOnce = true;
      if (released > 0) {
        logger.info({ rows: released, holders: dead.length }, 'took over the schedules of dispatchers that stopped without releasing them');
        this.wake();
      }
    } catch (error) {
      if (!this.#o.database.health.observe(error)) this.#o.logger.warn({ err: error }, 'could not look for schedules held by stopped dispatchers');
    } finally {
      this.#sweeping = false;
    }
  }

  /** Extends the leases that would run out within two heartbeats (src/scheduler/lease-renewal.ts); one renewal at a time. */
  async #renewLeases(): Promise<void> {
    if (!this.#running || this.#renewing || this.#rows.size === 0) return;
    const { database, clock, leaseMs, batchSize } = this.#o;
    const ids = this.#rows.leasesToRenew(clock.now(), leaseMs);
    if (ids.length === 0) return;
    this.#renewing = true;
    try {
      for (let i = 0; i < ids.length; i += batchSize) {
        const piece = ids.slice(i, i + batchSize);
        const leaseUntilMs = clock.now() + leaseMs;
        // Only what the statement renewed: a row it passed over (locked by another transaction on
        // PostgreSQL) keeps its old end here and is tried again at the next heartbeat.
        for (const id of await schedules.renewLeases(database.db, database.engine, this.owner, piece, leaseUntilMs, clock.now())) {
          this.#rows.renewed(id, leaseUntilMs);
        }
      }
    } catch (error) {
      if (!database.health.observe(error)) this.#o.logger.warn({ err: error }, 'could not renew schedule leases');
    } finally {
      this.#renewing = false;
    }
  }

  async #claim(): Promise<void> {
    const { database, clock, batchSize, lookaheadMs, leaseMs, runtime, publicUrl } = this.#o;
    for (;;) {
      // Nothing is claimed while this dispatcher is not visibly alive (its lock lost meanwhile).
      if (!this.#liveness.isHeld) return;
      const now = clock.now();
      // Claiming a little beyond the lookahead lets the next claim wait CLAIM_STEP_MS, instead of
      // running for every few rows that cross the horizon while a burst streams in.
      const claimed = await database.db.transaction().execute((trx) =>
        schedules.claimSchedules(trx, database.engine, this.owner, now, now + lookaheadMs + CLAIM_STEP_MS, leaseMs, batchSize, { holders: this.#liveHolders, stuckAfterMs: leaseMs * STUCK_LEASES }));
      // A row claimed again while we work on it (moved meanwhile) replaces our earlier entry; one
      // we are sending is not taken over by ourselves (WorkingSet.accepts).
      const rows = claimed.filter((r) => this.#rows.accepts(r));
      let prepared: Claimed[];
      try {
        prepared = await prepareClaimed(database.db, database.engine, runtime, rows, publicUrl, now);
      } catch (error) {
        // Claimed (committed) but not prepared: held all the same, to be decided from fresh data
        // when due; left unheld, they would wait for their lease to run out.
        for (const row of rows) this.#rows.hold(unprepared(row, now), Number(row.lease_until_ms ?? 0));
        this.#armFire();
        throw error;
      }
      for (const c of prepared) this.#rows.hold(c, c.leaseUntilMs);
      if (claimed.length < batchSize) return;
    }
  }

  async #fireDue(): Promise<void> {
    for (let pass = 0; ; pass++) {
      // Stopping: rows not taken yet stay claimed, and the stop hands them back.
      if (!this.#running) return;
      const limit = pass === 0 ? FIRST_BATCH_SIZE : this.#o.batchSize;
      const batch = this.#rows.takeDue(this.#o.clock.now(), limit);
      if (batch.length === 0) return;
      // An outage puts the rows whose decision it stopped back on the timer (they are still ours
      // in the database, so nothing is lost) and backs the fire path off (#fire).
      await this.#fireBatch(batch);
      // Confirm the next batch only once most of this one is on the wire: on SQLite the
      // confirmation runs on this thread, and confirming everything before sending anything
      // would make every launch as late as the last confirmation.
      await this.#roomToSend();
    }
  }

  /** Runs the fire path on its own, one pass at a time; a failure is retried after a pause. */
  #fire(): void {
    if (!this.#running) return;
    if (this.#firing) {
      this.#fireRequested = true;
      return;
    }
    this.#firing = this.#fireDue()
      .then(() => {
        this.#fireFailures = 0;
      })
      .catch((error: unknown) => {
        // Back off: the held rows are already due, and re-arming the timer at once would retry
        // hundreds of times a second against a database that is down.
        this.#fireFailures++;
        const delay = restartDelayMs(this.#fireFailures);
        this.#fireBackoffUntil = this.#o.clock.now() + delay;
        if (this.#o.database.health.observe(error)) this.#o.logger.debug({ retryInMs: delay }, 'firing failed: database unavailable');
        else {
          this.#o.metrics.loopRestarts.inc({ loop: 'dispatcher_fire' });
          this.#o.logger.error({ err: error, retryInMs: delay }, 'firing failed; retrying');
        }
      })
      .finally(() => {
        this.#firing = null;
        if (this.#fireRequested) {
          this.#fireRequested = false;
          this.#fire();
        } else {
          this.#armFire();
        }
      });
  }

  /** Sets the fire timer for the earliest held row. */
  #armFire(): void {
    if (!this.#running) return;
    const nextDueAt = this.#rows.nextDueAt();
    if (nextDueAt === undefined) return;
    const at = Math.max(nextDueAt, this.#fireBackoffUntil);
    if (this.#fireTimer && this.#fireTimerAt <= at) return;
    if (this.#fireTimer) clearTimeout(this.#fireTimer);
    this.#fireTimerAt = at;
    this.#fireTimer = setTimeout(() => {
      this.#fireTimer = null;
      this.#fireTimerAt = Infinity;
      this.#fire();
    }, Math.max(0, at - this.#o.clock.now()));
  }

  async #armPoll(): Promise<void> {
    if (!this.#running) return;
    const now = this.#o.clock.now();
    const nextInDb = await schedules.nextWakeAt(this.#o.database.db);
    const untilClaim = nextInDb === null ? Infinity : Math.max(CLAIM_STEP_MS, nextInDb - this.#o.lookaheadMs - now);
    const nextCommand = await commands.nextRuntimeCommandAt(this.#o.database.db);
    const untilCommand = nextCommand === null ? Infinity : nextCommand - now;
    this.#setPoll(Math.max(0, Math.min(this.#o.pollIntervalMs, untilClaim, untilCommand)));
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
        commands.claimRuntimeCommands(trx, database.engine, now, this.#o.leaseMs, 50, commands.RUNTIME_COMMAND_ACTIONS));
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
        // Claimed with RUNTIME_COMMAND_ACTIONS only: its decisions are update_* or stop_*.
        const action = row.action as (typeof commands.RUNTIME_COMMAND_ACTIONS)[number];
        const givesUp = !outcome.ok && (outcome.failure === 'permanent' || at - row.created_at > COMMAND_RETRY_WINDOW_MS);
        try {
          await database.db.transaction().execute(async (trx) => {
            if (outcome.ok) {
              await commands.settleRuntimeCommand(trx, row.id, { state: 'done' }, null, at);
              await bots.appendDecision(trx, row.bot_id, at, `${action}_delivered`, `The runtime accepted the ${row.action} command`, { idempotency_key: row.idempotency_key });
            } else if (givesUp) {
              await commands.settleRuntimeCommand(trx, row.id, { state: 'failed' }, outcome.message, at);
              await bots.appendDecision(trx, row.bot_id, at, `${action}_failed`, `The runtime did not accept the ${row.action} command: ${outcome.message}`, { idempotency_key: row.idempotency_key });
            } else {
              const retryAt = at + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(row.attempts));
              await commands.settleRuntimeCommand(trx, row.id, { state: 'pending', retryAtMs: retryAt }, outcome.message, at);
            }
          });
        } catch (error) {
          // The command stays leased and is sent again (same idempotency key) after the lease.
          if (!database.health.observe(error)) logger.error({ err: error, botId: row.bot_id }, 'could not record a runtime command result');
        }
      }));
    }
  }

  /**
   * The fire decision for a batch; then the launches start. Rows prepared at claim time whose bot
   * has not changed since are confirmed with one statement (one transaction on SQLite) and sent at
   * once; every other row is then decided from fresh data (the slow path). What was confirmed is
   * on its way whatever happens after. An outage puts the undecided rows back (possibly confirmed:
   * WorkingSet.holdAfterFailure) and backs the fire path off; any other failure is taken to be a
   * row's own (a constraint, a bug): the rows are decided apart (src/lib/run-apart.ts) until the
   * failing ones are alone, and only those wait, each with its own backoff.
   */
  async #fireBatch(batch: Claimed[]): Promise<void> {
    const { clock, database } = this.#o;
    const now = clock.now();
    const slow: Claimed[] = [];
    const fast: Claimed[] = [];
    for (const c of batch) (c.ready && !c.isTakeover ? fast : slow).push(c);
    if (fast.length > 0) {
      let confirmed: Confirmed;
      try {
        confirmed = await this.#confirmPrepared(fast, now);
      } catch (error) {
        if (database.health.observe(error)) {
          this.#rows.holdAfterFailure(batch);
          throw error;
        }
        // A statement that failed on its own did not commit: decide these rows the slow way.
        confirmed = { launches: [], dropped: [], busy: [], slow: fast };
      }
      this.#send(confirmed.launches, now);
      this.#settle(confirmed.dropped, confirmed.busy, now);
      slow.push(...confirmed.slow);
    }
    if (slow.length === 0) return;
    const apart = await runApart(slow, (rows) => this.#decideSlow(rows, now), (error) => database.health.observe(error));
    for (const { result } of apart.done) {
      this.#send(result.launches, now);
      this.#settle(result.dropped, result.busy, now);
    }
    if (apart.stopped) {
      this.#rows.holdAfterFailure(apart.stopped.items);
      throw apart.stopped.error;
    }
    for (const { item, error } of apart.failed) {
      this.#o.logger.error({ err: error, scheduleId: item.scheduleId, botId: item.botId }, 'could not decide a launch; trying it again after a pause');
      this.#rows.holdAfterFailure([item], clock.now() + restartDelayMs((item.failures ?? 0) + 1));
    }
    if (apart.failed.length > 0) this.#armFire();
    if (this.#mustWakeAfterBatch) {
      this.#mustWakeAfterBatch = false;
      this.wake();
    }
  }

  /**
   * The confirmation, one statement on PostgreSQL (src/store/firing-store.ts): bots locked first
   * (one lock order everywhere: a bot, then its schedule), skipping any another transaction holds
   * right now (a request changing it, or the webhook sender recording an attempt: BUSY_BOT_RETRY_MS);
   * unchanged since they were prepared; their schedules still claimed by us and due (a move puts a
   * row back to pending, a cancel ends it).
   */
  async #confirmPrepared(fast: Claimed[], now: number): Promise<Confirmed> {
    const { confirmed, bots: states } = await confirmLaunches(this.#o.database, this.owner, fast.map((c) => ({ scheduleId: c.scheduleId, botId: c.botId, version: c.ready!.version })), now, this.#o.leaseMs);
    const launches: PendingLaunch[] = [];
    const dropped: string[] = [];
    const busy: Claimed[] = [];
    const slow: Claimed[] = [];
    const byId = new Map(fast.map((c) => [c.scheduleId, c]));
    for (const row of confirmed) {
      const c = byId.get(row.scheduleId)!;
      byId.delete(row.scheduleId);
      const prepared = now - c.ready!.preparedAtMs <= PREPARED_LAUNCH_MAX_AGE_MS ? c.ready!.prepared : null;
      // The rest of the launch's record (status change, decision, webhook) is written by the
      // result flush once it is sent, for a single bot as for a burst: the confirmation alone
      // stands between the timer and the wire. Whatever reaches the bot's log first writes that
      // record first (recordLaunchIfPending).
      const start = { bot: c.ready!.bot, reason: this.#launchReason(now, row.dueAtMs), atMs: now };
      launches.push({ scheduleId: row.scheduleId, botId: row.botId, dueAtMs: row.dueAtMs, attempt: row.attempts, request: c.ready!.request, prepared, start });
    }
    const stateById = new Map(states.map((b) => [b.id, b]));
    for (const c of byId.values()) {
      const state = stateById.get(c.botId);
      // Held by a request right now: decided again a moment later, after that request commits.
      if (!state) busy.push(c);
      // Unchanged, yet not confirmed: the schedule moved, was cancelled, or is not ours any more.
      else if (state.status === 'Scheduled' && state.meetingEndMs > now && state.version === c.ready!.version) dropped.push(c.scheduleId);
      // Changed since it was prepared (or confirmed by a pass that failed after): decided from fresh data.
      else slow.push(c);
    }
    return { launches, dropped, busy, slow };
  }

  /** The slow path, in one transaction: bots locked (skipping those another transaction holds), then decided. */
  #decideSlow(slow: Claimed[], now: number): Promise<Decided> {
    const { database } = this.#o;
    return inTransactionWithoutWaitingForDisk(database, async (trx) => {
      const locked = await bots.lockBotsSkippingBusy(trx, database.engine, slow.map((c) => c.botId));
      const free: Claimed[] = [];
      const busy: Claimed[] = [];
      for (const c of slow) (locked.has(c.botId) ? free : busy).push(c);
      const decided = free.length === 0 ? { launches: [], dropped: [] } : await this.#decideFromFreshData(trx, free, now);
      return { ...decided, busy };
    });
  }

  /** Launches decided: on their way (their rows now hold a lease from `now`). */
  #send(launches: PendingLaunch[], now: number): void {
    if (launches.length === 0) return;
    this.#rows.sending(launches.map((l) => l.scheduleId), now + this.#o.leaseMs);
    this.#enqueueLaunches(launches);
  }

  /** Rows a decision left with nothing to send, and rows whose bot another transaction held (tried again shortly). */
  #settle(dropped: readonly string[], busy: readonly Claimed[], now: number): void {
    for (const id of dropped) this.#rows.settled(id);
    for (const c of busy) this.#rows.holdLater(c, now + BUSY_BOT_RETRY_MS);
    if (busy.length > 0) this.#armFire();
  }

  #launchReason(now: number, dueAtMs: number): string {
    return `Launching through the ${this.#o.runtime.name} runtime, ${now - dueAtMs} ms after the scheduled time`;
  }

  /**
   * The slow path: rows whose bot changed since the claim, takeovers, rows a failed pass may have
   * confirmed, and anything unusual. Answers the launches and the rows left with nothing to send.
   */
  async #decideFromFreshData(trx: Transaction<Schema>, slow: Claimed[], now: number): Promise<{ launches: PendingLaunch[]; dropped: string[] }> {
    const { leaseMs, publicUrl } = this.#o;
    // Taken over first: a row a failed pass may have confirmed is either still 'claimed' (then
    // markLaunching below finds it) or 'launching' under this dispatcher (then this finds it).
    const retaken = await schedules.takeOverLaunching(trx, this.owner, slow.filter((c) => this.#rows.mayTakeOver(c)).map((c) => c.scheduleId), now, leaseMs);
    const retakenIds = new Set(retaken.map((r) => r.id));
    const decided = await schedules.markLaunching(trx, this.owner, slow.filter((c) => !c.isTakeover && !retakenIds.has(c.scheduleId)).map((c) => c.scheduleId), now, leaseMs);
    const rows = [...decided, ...retaken];
    const kept = new Set(rows.map((r) => r.id));
    const dropped = slow.filter((c) => !kept.has(c.scheduleId)).map((c) => c.scheduleId);
    if (rows.length === 0) return { launches: [], dropped };
    const botRows = await trx.selectFrom('bots').selectAll().where('id', 'in', rows.map((r) => r.bot_id)).execute();
    const botsById = new Map(botRows.map((b) => [b.id, b]));
    const links = await trx.selectFrom('bot_events').selectAll().where('bot_id', 'in', rows.map((r) => r.bot_id)).where('is_live', '=', 1).execute();
    const linksByBot = Map.groupBy(links, (l) => l.bot_id);
    // A bot whose calendars all lost their access is not launched: nobody can tell whether its meeting still exists.
    const blocked = await findBotsWithoutCalendarAccess(trx, botRows.filter((b) => b.status === 'Scheduled').map((b) => b.id));
    // An auto-scheduled bot a calendar change brought to where another bot of the user goes gives way to it.
    const keepers = await findKeepers(trx, botRows.filter((b) => !blocked.has(b.id) && b.meeting_end_ms > now), linksByBot);
    const launches: PendingLaunch[] = [];
    const firstLaunches: { bot: BotRow; reason: string }[] = [];
    const handovers: { schedule: ScheduleRow; bot: BotRow }[] = [];
    // Handovers are paced again at send time (timers that came due together go out apart).
    if (this.#o.handover && botRows.some((b) => b.status === 'Scheduled' && b.join_at_ms > now)) await this.#o.handover.beginFireBatch(trx, now);
    for (const schedule of rows) {
      const bot = botsById.get(schedule.bot_id)!;
      if (blocked.has(bot.id)) {
        // A handover waits for access to come back, until the join time (the rule is the join time's).
        if (this.#o.handover && bot.status === 'Scheduled' && bot.join_at_ms > now) await this.#o.handover.holdForAccess(trx, this.owner, schedule, bot, now);
        else await cancelBotInTransaction(trx, bot, CALENDAR_ACCESS_LOST_REASON, now);
        dropped.push(schedule.id);
        continue;
      }
      const keeper = keepers.get(bot.id);
      if (keeper) {
        const handover = this.#o.handover;
        await giveWay(trx, this.#o.database.engine, this.owner, schedule.id, bot, keeper, now, handover && ((untilMs) => handover.holdUntil(trx, bot.id, untilMs, now)));
        // A launch put off is claimed again by the next cycle, once this commits.
        this.#mustWakeAfterBatch = true;
        dropped.push(schedule.id);
        continue;
      }
      const verdict = await this.#decide(trx, schedule, bot, now);
      if (verdict === 'skip') {
        dropped.push(schedule.id);
        continue;
      }
      if (verdict === 'first-launch') firstLaunches.push({ bot, reason: this.#launchReason(now, schedule.due_at_ms) });
      if (verdict === 'first-launch' && this.#o.handover) await this.#o.handover.keyForLaunchNow(trx, schedule, bot, now);
      const request = buildLaunchRequest(schedule, bot, linksByBot.get(bot.id) ?? [], publicUrl);
      if (this.#o.handover) await this.#o.handover.noteUnanswered(trx, bot, request, verdict === 'relaunch');
      if (verdict === 'handover') {
        request.join_at = formatInstant(bot.join_at_ms);
        handovers.push({ schedule, bot });
        launches.push({ scheduleId: schedule.id, botId: bot.id, dueAtMs: schedule.due_at_ms, attempt: schedule.attempts, request, prepared: null, start: null, handover: { schedule, bot } });
        continue;
      }
      // A relaunch (a takeover, or a row a failed pass confirmed): its launch record may not be written.
      const start = verdict === 'relaunch' ? { bot, reason: 'Launched through the bot runtime', atMs: bot.launched_at ?? now } : null;
      launches.push({ scheduleId: schedule.id, botId: bot.id, dueAtMs: schedule.due_at_ms, attempt: schedule.attempts, request, prepared: null, start });
    }
    await markBotsJoining(trx, firstLaunches, now);
    if (handovers.length > 0) await this.#o.handover!.recordAttempts(trx, handovers, now);
    return { launches, dropped };
  }

  /** Re-checks the bot as it is now and records what happens to it. */
  async #decide(trx: Parameters<typeof transitionBot>[0], schedule: ScheduleRow, bot: BotRow, now: number): Promise<'first-launch' | 'relaunch' | 'handover' | 'skip'> {
    const status = bot.status as BotStatus;
    const lateMs = now - schedule.due_at_ms;
    if (status !== 'Scheduled' && status !== 'Joining') {
      await schedules.finishSchedule(trx, schedule.id, 'done', now);
      return 'skip';
    }
    // A launch to be tried again for a bot that was asked to stop since (#findStoppedBots): it
    // ends here instead of reaching the runtime after the stop.
    if (status === 'Joining') {
      const stopped = (await this.#findStoppedBots(trx, [bot.id])).get(bot.id);
      if (stopped !== undefined) {
        await this.#endStoppedLaunch(trx, bot, stopped, now);
        return 'skip';
      }
    }
    if (bot.meeting_end_ms <= now) {
      // A bot still waiting whose last attempt was refused (a handover the provider kept refusing,
      // its retry held to the meeting's end) could not be launched by the end: it failed, as a
      // launch the runtime refused until then does. Missed is for a bot nobody tried in time.
      if (status === 'Scheduled' && schedule.last_error !== null) {
        await transitionBot(trx, bot, FAILURE_STATUS, `${this.#o.runtime.name} did not accept the bot before the meeting ended (${schedule.last_error})`, now, { decisionKind: 'failed' });
      } else if (status === 'Scheduled') {
        await transitionBot(trx, bot, 'Missed', `The meeting ended at ${formatInstant(bot.meeting_end_ms)} before the bot could be launched (the schedule was due at ${formatInstant(schedule.due_at_ms)})`, now, { decisionKind: 'missed', webhookMessage: 'The meeting ended before the bot could join' });
      } else {
        await transitionBot(trx, bot, FAILURE_STATUS, `The runtime did not accept the launch before the meeting ended (${schedule.last_error ?? 'no answer'})`, now, { decisionKind: 'failed' });
      }
      return 'skip';
    }
    if (!this.#o.runtime.canLaunch) {
      await transitionBot(trx, bot, FAILURE_STATUS, `${reasonPrefix('no_runtime')}no bot runtime is configured`, now, { decisionKind: 'failed', webhookMessage: `${reasonPrefix('no_runtime')}no bot runtime is configured` });
      return 'skip';
    }
    // A provider that takes a future join time gets the bot ahead of it (src/services/providers/bot-handover.ts).
    const handover = this.#o.handover?.verdict(bot, now);
    if (handover === 'handover') return 'handover';
    if (handover === 'wait') {
      await this.#o.handover!.defer(trx, this.owner, schedule, bot, now);
      return 'skip';
    }
    // The common case, Scheduled -> Joining, is written for the whole batch by the caller.
    if (status === 'Scheduled') return 'first-launch';
    await bots.appendDecision(trx, bot.id, now, 'launch_retried', `Launch attempt ${schedule.attempts} (same idempotency key ${schedule.idempotency_key})${schedule.last_error ? ` after: ${schedule.last_error}` : ''}`, { attempt: schedule.attempts, late_ms: lateMs });
    return 'relaunch';
  }

  /**
   * Of these launched bots, those that must not be launched again, with why: a stop was queued for
   * the bot since its launch (its meeting deleted or cancelled while a refused attempt was on the
   * wire, a remove_bot), or the calendar bot has no event left (its link taken out of the event
   * meanwhile). Launched again, such a bot would reach the runtime after its stop, or go to a
   * meeting none of its events holds. A bot is stopped only once it is launched, so any stop counts.
   */
  async #findStoppedBots(trx: Parameters<typeof transitionBot>[0], botIds: readonly string[]): Promise<Map<string, string>> {
    const stopped = new Map<string, string>();
    for (let i = 0; i < botIds.length; i += 500) {
      const chunk = botIds.slice(i, i + 500);
      const stops = await trx.selectFrom('runtime_commands').select(['bot_id', 'payload']).where('bot_id', 'in', chunk).where('action', '=', 'stop').orderBy('id').execute();
      for (const stop of stops) {
        if (!stopped.has(stop.bot_id)) stopped.set(stop.bot_id, (JSON.parse(stop.payload) as { reason?: string }).reason ?? 'The bot was asked to stop');
      }
      const links = await trx.selectFrom('bot_events').select(['bot_id', 'is_live']).where('bot_id', 'in', chunk).execute();
      for (const [botId, ofBot] of Map.groupBy(links, (l) => l.bot_id)) {
        if (!stopped.has(botId) && !ofBot.some((l) => Number(l.is_live) === 1)) stopped.set(botId, NO_LIVE_EVENT);
      }
    }
    return stopped;
  }

  /** Ends a launched bot whose launch the runtime has not taken and that must not be launched again (#findStoppedBots). */
  async #endStoppedLaunch(trx: Parameters<typeof transitionBot>[0], bot: BotRow, why: string, now: number, mayHaveStarted = true): Promise<void> {
    // An attempt that got no answer may have started the bot: the runtime is asked to stop it. A
    // bot ended for a stop queued meanwhile has that one (#findStoppedBots names it for no other).
    if (mayHaveStarted) {
      if (why === NO_LIVE_EVENT) await requestRuntimeCommand(trx, bot, 'stop', why, now);
    } else if (why === NO_LIVE_EVENT) {
      // An event that let go of it while the launch was on the wire because its link was taken out:
      // the bot never went, so as for a bot that had not launched, the event may be booked again
      // if a link comes back. Only such a one: a link the user ended before the launch (an
      // unschedule, which a launched bot refuses) or one whose event moved to another meeting
      // keeps counting as booked.
      await trx.updateTable('bot_events').set({ end_cause: 'link_removed', updated_at: now })
        .where('bot_id', '=', bot.id).where('is_live', '=', 0).where('end_cause', 'is', null)
        .where('updated_at', '>=', Number(bot.launched_at ?? now))
        .where('event_id', 'in', (eb) => eb.selectFrom('events').select('events.id').where('events.meeting_identity', 'is', null))
        .execute();
    }
    await endLaunchNotAccepted(trx, bot, why, now);
  }

  /**
   * Decided launches wait here for a free slot. The fire path only enqueues, so the next batch's
   * decision is made while this batch's requests are on the wire.
   */
  #enqueueLaunches(items: PendingLaunch[]): void {
    this.#launchQueue.push(...items);
    this.#pump();
  }

  /** Resolves when at most half a batch of decided launches is still waiting to be sent (at once when stopping: nothing more is sent). */
  #roomToSend(): Promise<void> {
    if (!this.#running || this.#launchQueue.length - this.#launchHead <= this.#o.batchSize / 2) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #pump(): void {
    // Stopping: a launch not sent yet stays unsent; its row, 'launching' under this dispatcher,
    // is taken over once the process is gone and sent then, once. Sending it now would race that
    // takeover if the stop ends before its answer is written.
    while (this.#running && this.#inFlight < this.#o.maxConcurrentLaunches && this.#launchHead < this.#launchQueue.length) {
      const launch = this.#launchQueue[this.#launchHead++]!;
      if (this.#launchHead === this.#launchQueue.length) {
        this.#launchQueue.length = 0;
        this.#launchHead = 0;
      }
      this.#inFlight++;
      const sending = this.#launch(launch).finally(() => {
        this.#inFlight--;
        this.#launches.delete(sending);
        this.#pump();
      });
      this.#launches.add(sending);
    }
    if (this.#roomWaiters.length > 0 && this.#launchQueue.length - this.#launchHead <= this.#o.batchSize / 2) {
      for (const resolve of this.#roomWaiters.splice(0)) resolve();
    }
  }

  async #launch(launch: PendingLaunch): Promise<void> {
    const { clock, runtime, metrics } = this.#o;
    const firedAtMs = clock.now();
    if (launch.attempt === 1) metrics.fireLatenessSeconds.observe(Math.max(0, firedAtMs - launch.dueAtMs) / 1000);
    let outcome: RuntimeOutcome;
    try {
      outcome = await runtime.launch(launch.request, launch.prepared ?? undefined);
    } catch (error) {
      outcome = { ok: false, failure: 'transient', retryAfterMs: null, message: `runtime error: ${(error as Error).message}` };
    }
    metrics.launches.inc({ outcome: outcome.ok ? (outcome.alreadyDone ? 'already_launched' : 'accepted') : outcome.failure });
    if (!outcome.ok) this.#launchFailures.note({ botId: launch.botId, attempt: launch.attempt, failure: outcome.failure, reason: outcome.message });
    this.#o.onLaunchAttempt?.({ botId: launch.botId, scheduleId: launch.scheduleId, dueAtMs: launch.dueAtMs, firedAtMs, attempt: launch.attempt, outcome });
    if (this.#results.length === 0) this.#oldestResultAt = Date.now();
    this.#results.push({ launch, outcome });
    this.#flushSoon();
  }

  /** Whether launches are still being decided or sent (their results then wait). */
  #isBursting(): boolean {
    return this.#firing !== null || this.#launchHead < this.#launchQueue.length || this.#inFlight > 0;
  }

  /**
   * Launch results are written in batches: one commit (and one fsync) per few milliseconds
   * instead of one per bot, and while a burst is still going out, after it (up to a bound), so
   * that writing results never delays a launch that is not out yet. A crash before the flush
   * leaves rows 'launching'; they are launched again with the same idempotency key, which the
   * runtime drops.
   */
  #flushSoon(): void {
    if (this.#flushTimer || this.#flushing) return;
    const delay = Math.max(RESULT_FLUSH_MS, this.#flushBackoffUntil - Date.now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      // Stopping, results are written as they come: a stop may end before the last answer does.
      if (this.#running && this.#isBursting() && Date.now() - this.#oldestResultAt < RESULT_FLUSH_MAX_DEFER_MS) {
        this.#flushSoon();
        return;
      }
      this.#flushing = this.#flushResults().finally(() => {
        this.#flushing = null;
        if (this.#results.length > 0) this.#flushSoon();
      });
    }, delay);
  }

  async #flushResults(): Promise<void> {
    const { database, logger } = this.#o;
    const all = this.#results.splice(0, this.#results.length);
    if (all.length === 0) return;
    // One result that cannot be written (a constraint, a bug) holds no other back (run-apart.ts).
    const apart = await runApart(all, (results) => this.#writeResults(results), (error) => database.health.observe(error));
    for (const { items } of apart.done) for (const { launch } of items) this.#rows.resultWritten(launch.scheduleId);
    // A result whose write keeps failing on its own is given up after a few tries: its row stays
    // 'launching' and is launched again, with the same idempotency key, by whoever takes it over
    // once its lease runs out; the runtime drops the repeat and its answer is recorded then. Until
    // then it is tried again with the next flush, a few milliseconds on: new results do not wait.
    for (const { item, error } of apart.failed) {
      const failures = (item.writeFailures ?? 0) + 1;
      logger.error({ err: error, botId: item.launch.botId, scheduleId: item.launch.scheduleId, failures }, 'could not record a launch result');
      if (failures < RESULT_WRITE_TRIES) {
        this.#results.unshift({ ...item, writeFailures: failures });
        continue;
      }
      logger.error({ botId: item.launch.botId, scheduleId: item.launch.scheduleId }, 'gave up recording a launch result; its row is left to be taken over after its lease (same idempotency key)');
      this.#rows.resultWritten(item.launch.scheduleId);
    }
    if (apart.stopped) {
      // Kept, and written when the database answers again (a recovery wakes the flush) or after a
      // capped backoff. Should this process die first, the rows are still 'launching' and are
      // launched again with the same idempotency keys.
      this.#results.unshift(...apart.stopped.items);
      this.#flushFailures++;
      const delay = restartDelayMs(this.#flushFailures);
      this.#flushBackoffUntil = Date.now() + delay;
      logger.debug({ results: apart.stopped.items.length, retryInMs: delay }, 'launch results not recorded yet (database unavailable); retrying');
    } else {
      this.#flushFailures = 0;
    }
    if (apart.done.some((d) => d.result)) this.wake();
  }

  /** The results' records, in one transaction; answers whether any launch will be tried again. */
  async #writeResults(all: LaunchResult[]): Promise<boolean> {
    const { clock, database } = this.#o;
    const handovers = all.filter((r) => r.launch.handover).map((r) => ({ ...r.launch.handover!, outcome: r.outcome }));
    const results = handovers.length === 0 ? all : all.filter((r) => !r.launch.handover);
    const now = clock.now();
    let retries = false;
    let backingOff: [string, { attempt: number; retriedAtMs: number; retryAtMs: number }][] = [];
    // A failure beside an accepted launch is this launch's, not the runtime's: it keeps its backoff.
    const isAccepting = results.some((r) => r.outcome.ok && !r.outcome.alreadyDone);
    await inTransactionWithoutWaitingForDisk(database, async (trx) => {
      retries = false;
      backingOff = [];
      // Bots before schedules, as everywhere: the bots this flush changes are locked first, and
      // so are those whose launch record it writes (a status report or a runtime command may be
      // writing it at the same moment; under the lock one of the two finds it written).
      const lockedBotIds = results.filter((r) => r.launch.start || (!r.outcome.ok && r.outcome.failure === 'permanent')).map((r) => r.launch.botId);
      // A refused launch of a bot asked to stop while it was on the wire ends instead of waiting
      // to be retried (the fire decision would end it then; its status would say Joining until).
      // Read under the bots' locks, so that a stop (or a move of the meeting) committed meanwhile
      // is seen; one queued after this is found by that decision.
      const refused = [...new Set(results.filter((r) => !r.outcome.ok && r.outcome.failure !== 'permanent').map((r) => r.launch.botId))];
      await bots.lockBots(trx, database.engine, [...new Set([...lockedBotIds, ...refused, ...handovers.map((r) => r.bot.id)])]);
      const stopped = refused.length === 0 ? new Map<string, string>() : await this.#findStoppedBots(trx, refused);
      if (handovers.length > 0 && await this.#o.handover!.recordResults(trx, this.owner, handovers, now)) retries = true;
      // First the record of each launch, so that it comes before anything that followed it.
      await recordLaunchStarts(trx, results.flatMap((r) => (r.launch.start ? [r.launch.start] : [])));
      const accepted = results.filter((r) => r.outcome.ok);
      // A retry is never later than its meeting's end, where the fire decision ends the bot
      // (Error, "did not accept the launch before the meeting ended") without launching it. The
      // time asked is kept with the row: a move of the meeting while the retry waits derives the
      // due time again from it and the new end (followMeetingEnd in bot-lifecycle.ts).
      // Nor before the bot's join time: a meeting moved later while the attempt was on the wire
      // (followMeetingEnd moved the bot's join time) is not joined before it begins.
      const meetings = refused.length === 0 ? new Map<string, { endMs: number; joinAtMs: number }>()
        : new Map((await trx.selectFrom('bots').select(['id', 'meeting_end_ms', 'join_at_ms']).where('id', 'in', refused).execute())
          .map((b) => [b.id, { endMs: Number(b.meeting_end_ms), joinAtMs: Number(b.join_at_ms) }]));
      for (let i = 0; i < accepted.length; i += this.#o.batchSize) {
        await schedules.completeSchedules(trx, this.owner, accepted.slice(i, i + this.#o.batchSize).map((r) => ({ id: r.launch.scheduleId, attempt: r.launch.attempt })), now);
      }
      for (const { launch, outcome } of results) {
        if (outcome.ok) {
          if (outcome.alreadyDone) await bots.appendDecision(trx, launch.botId, now, 'launch_confirmed', 'The runtime already had this launch (same idempotency key); nothing was started twice', {});
          // A bot provider names its bot: record it, so that its webhooks and later commands find this bot.
          if (outcome.providerBotId && await recordProviderBot(trx, launch.botId, this.#o.runtime.name, outcome.providerBotId, now)) {
            await bots.appendDecision(trx, launch.botId, now, 'provider_bot_recorded', `${this.#o.runtime.name} holds this bot as ${outcome.providerBotId}`, { provider: this.#o.runtime.name, provider_bot_id: outcome.providerBotId });
          }
          continue;
        }
        if (outcome.failure === 'permanent') {
          const current = (await bots.findBotById(trx, launch.botId))!;
          await transitionBot(trx, current, FAILURE_STATUS, outcome.message, now, { decisionKind: 'failed' });
          continue;
        }
        const why = stopped.get(launch.botId);
        if (why !== undefined) {
          const current = (await bots.findBotById(trx, launch.botId))!;
          if (current.status === 'Joining') {
            await bots.appendDecision(trx, launch.botId, now, 'launch_failed', outcome.message, { attempt: launch.attempt });
            await this.#endStoppedLaunch(trx, current, why, now, !madeNothing(outcome));
            continue;
          }
        }
        retries = true;
        const meeting = meetings.get(launch.botId);
        const backoffAt = now + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(launch.attempt));
        const askedAt = Math.max(backoffAt, meeting?.joinAtMs ?? 0);
        const meetingEndMs = meeting?.endMs ?? askedAt;
        const retryAt = launchRetryAtMs(askedAt, meetingEndMs, now);
        const isRetried = await schedules.retrySchedule(trx, this.owner, launch.scheduleId, launch.attempt, retryAt, outcome.message, now, backoffAt);
        // Only a wait for the backoff: one for the join time of a meeting moved later is kept.
        if (isRetried && !isAccepting && outcome.retryAfterMs === null && outcome.failure === 'transient' && askedAt === backoffAt && !this.#broughtForward.has(launch.scheduleId)) {
          backingOff.push([launch.scheduleId, { attempt: launch.attempt, retriedAtMs: now, retryAtMs: retryAt }]);
        }
        await bots.appendDecision(trx, launch.botId, now, 'launch_failed', askedAt > retryAt
          ? `${outcome.message}; the next attempt would be at ${formatInstant(askedAt)}, after the meeting ends at ${formatInstant(meetingEndMs)}: the bot fails then unless the meeting lasts longer`
          : `${outcome.message}; next attempt at ${formatInstant(retryAt)}`, { attempt: launch.attempt });
      }
    });
    for (const [id, retry] of backingOff) this.#backingOff.set(id, retry);
    if (isAccepting) {
      // After the results are in: failing here leaves those retries to their backoff, nothing worse.
      await this.#bringRetriesForward().catch((error: unknown) => {
        if (!database.health.observe(error)) this.#o.logger.warn({ err: error }, 'could not bring the launches waiting to be retried forward');
      });
    }
    return retries;
  }

  /**
   * The runtime took a launch: launches waiting for their backoff after it failed (an outage of
   * the runtime, say) are due now, not up to a minute after it came back. Once per row: a launch
   * the runtime keeps refusing while it takes others goes back to its backoff. Only rows still
   * waiting as this dispatcher left them (nothing wrote the row since) are moved; Retry-After
   * waits are kept.
   */
  async #bringRetriesForward(): Promise<void> {
    if (this.#backingOff.size === 0) return;
    const { database, clock } = this.#o;
    const waiting = [...this.#backingOff].slice(0, MAX_BROUGHT_FORWARD);
    this.#backingOff.clear();
    if (this.#broughtForward.size > 10 * MAX_BROUGHT_FORWARD) this.#broughtForward.clear();
    for (const [id] of waiting) this.#broughtForward.add(id);
    const moved = await schedules.bringRetriesForward(database.db, waiting.map(([id, retry]) => ({ id, ...retry })), clock.now());
    if (moved > 0) {
      this.#o.logger.info({ launches: moved }, 'the runtime took a launch again: launches waiting to be retried go now');
      this.wake();
    }
  }

  /** Waits until every launch in flight has finished and its result is written. */
  async #drainLaunches(): Promise<void> {
    while (this.#launches.size > 0) await Promise.allSettled([...this.#launches]);
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    await this.#flushing;
    await this.#flushResults();
    if (!this.#running && this.#flushTimer) {
      // Stopping: results that could not be written stay with their 'launching' rows, which are
      // launched again (same idempotency key) by whoever takes them over.
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
  }
}

