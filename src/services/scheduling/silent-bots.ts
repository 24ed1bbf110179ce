// Bots whose runtime or provider went silent. A launched bot (or one handed to a provider) moves
// on only when whoever runs it reports; a report that never comes (a provider whose webhooks were
// never registered, MeetStream's single delivery lost, a runtime that does not report its end)
// would leave the bot live for good: listed as upcoming or in the meeting, and holding its
// deduplication key, so that the client's next booking under that key is refused as a conflict.
// Long after its meeting's end such a bot is taken as finished: Error, with a reason that says
// what was missing, its key and events released, its webhook sent.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Metrics } from '../../lib/metrics.ts';
import { FAILURE_STATUS, LIVE_STATUSES, type BotStatus } from '../../domain/bot-status.ts';
import { formatInstant } from '../../lib/time.ts';
import * as bots from '../../store/bot-store.ts';
import { BackgroundLoop } from '../../scheduler/background-loop.ts';
import { transitionBot, type ScheduleChangeSignal } from './bot-lifecycle.ts';
import { reasonPrefix } from '../../domain/reason-codes.ts';

/**
 * How long after its meeting's planned end a bot may go without a report before it is taken as
 * finished. Meetings overrun and bots stay until the room empties, but not by six hours.
 */
export const SILENT_AFTER_MS = 6 * 3_600_000;
const SWEEP_INTERVAL_MS = 5 * 60_000;
const BATCH = 100;

export class SilentBots {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #signal: ScheduleChangeSignal;
  readonly #runtimeName: string;
  readonly #loop: BackgroundLoop;

  constructor(deps: { database: Database; clock: Clock; logger: Logger; metrics: Metrics; signal: ScheduleChangeSignal; runtimeName: string }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#signal = deps.signal;
    this.#runtimeName = deps.runtimeName;
    this.#loop = new BackgroundLoop({
      name: 'silent-bots', health: deps.database.health, logger: deps.logger, metrics: deps.metrics,
      pass: async () => {
        await this.sweep();
        return SWEEP_INTERVAL_MS;
      },
    });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Finishes every silent bot due now; returns how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const finished = await this.#sweepBatch();
      total += finished;
      if (finished < BATCH) break;
    }
    if (total > 0) {
      this.#logger.warn({ bots: total }, 'bots with no status report long after their meeting ended were taken as finished (Error)');
      this.#signal.afterCommit();
    }
    return total;
  }

  async #sweepBatch(): Promise<number> {
    const { db, engine } = this.#database;
    const now = this.#clock.now();
    const silentSince = now - SILENT_AFTER_MS;
    const silent = (query: typeof db) => query.selectFrom('bots').select('id')
      // Live bots only, by their meeting's end (bots_live_meeting_end): not a walk through every bot.
      .where('is_live', '=', 1).where('status', 'in', LIVE_STATUSES).where('meeting_end_ms', '<', silentSince)
      // A bot never handed over is the dispatcher's: it is Missed when its meeting ends unlaunched.
      .where((eb) => eb.or([eb('status', '<>', 'Scheduled'), eb('provider_bot_id', 'is not', null)]));
    const ids = (await silent(db).orderBy('id').limit(BATCH).execute()).map((r) => r.id);
    if (ids.length === 0) return 0;
    return db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, engine, ids);
      let finished = 0;
      for (const id of ids) {
        // Read again under the lock: a report that arrived meanwhile wins.
        const bot = await bots.findBotById(trx, id);
        if (!bot || !LIVE_STATUSES.includes(bot.status as BotStatus) || bot.meeting_end_ms >= silentSince) continue;
        if (bot.status === 'Scheduled' && bot.provider_bot_id === null) continue;
        const reporter = bot.provider_name ?? this.#runtimeName;
        const reason = `${reasonPrefix('no_status_report')}${reporter} reported nothing that ended this bot (still ${bot.status}) by ${formatInstant(now)}, six hours after its meeting was to end (${formatInstant(bot.meeting_end_ms)}); it is taken as finished and its deduplication_key is free again. ${bot.provider_name ? `Check that ${bot.provider_name}'s status webhooks reach Rollcall (docs/providers/${bot.provider_name}.md)` : 'Check that the runtime reports each bot\'s end (README, "Bot runtimes")'}`;
        if (await transitionBot(trx, bot, FAILURE_STATUS, reason, now, { decisionKind: 'failed' })) finished++;
      }
      return finished;
    });
  }
}
