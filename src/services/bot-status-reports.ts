// POST /bots/{bot_id}/status: a runtime reports progress. Authorized by the owner's API key or by
// the per-launch status token the launch request carried.
import { timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { canTransition, type BotStatus, type RuntimeReportableStatus } from '../domain/bot-status.ts';
import * as bots from '../store/bot-store.ts';
import { transitionBot, type ScheduleChangeSignal } from './bot-lifecycle.ts';

export type StatusReporter = { userId: string } | { statusToken: string };

export interface StatusReportResult {
  bot_id: string;
  status: string;
  previous_status: string;
  changed: boolean;
}

export class BotStatusReports {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #signal: ScheduleChangeSignal;

  constructor(deps: { database: Database; clock: Clock; signal: ScheduleChangeSignal }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#signal = deps.signal;
  }

  async report(botId: string, reporter: StatusReporter, status: RuntimeReportableStatus, message: string | undefined): Promise<StatusReportResult> {
    const result = await this.#database.db.transaction().execute(async (trx): Promise<StatusReportResult> => {
      const bot = await bots.findBotById(trx, botId, { engine: this.#database.engine, forUpdate: true });
      if ('userId' in reporter) {
        if (!bot || bot.user_id !== reporter.userId) throw new ApiError('bot_not_found', `No bot ${botId}`);
      } else {
        const schedule = bot ? await bots.findScheduleOfBot(trx, bot.id) : undefined;
        if (!bot || !schedule || !sameToken(schedule.status_token, reporter.statusToken)) {
          throw new ApiError('unauthorized', 'The status token does not belong to this bot');
        }
      }
      const from = bot.status as BotStatus;
      if (from === status) return { bot_id: bot.id, status, previous_status: from, changed: false };
      if (!canTransition(from, status)) {
        throw new ApiError('invalid_status_transition', `status: a bot cannot go from ${from} to ${status}`, { details: { field: 'status', from, to: status } });
      }
      await transitionBot(trx, bot, status, message ?? `Reported by the runtime: ${status}`, this.#clock.now());
      return { bot_id: bot.id, status, previous_status: from, changed: true };
    });
    // The change queued a webhook: let the delivery loop know.
    if (result.changed) this.#signal.afterCommit();
    return result;
  }
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
