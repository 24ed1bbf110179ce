// POST /bots/{bot_id}/status: a runtime reports progress. Authorized by the owner's API key or by
// the per-launch status token the launch request carried.
import { timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { canTransition, isLaterEnding, isStepBack, LIVE_STATUSES, type BotStatus, type RuntimeReportableStatus } from '../../domain/bot-status.ts';
import type { BotRow } from '../../db/schema.ts';
import type { RemovalKind } from '../../domain/late-edit.ts';
import * as bots from '../../store/bot-store.ts';
import { findBotByProviderBotId } from '../../store/provider-bot-store.ts';
import { findRetiredProviderBot, hasUnansweredCreation, retireProviderBot } from '../../store/provider-handover-store.ts';
import type { Db } from '../../store/event-store.ts';
import { requestProviderRetire } from '../providers/provider-sync.ts';
import { transitionBot, type ScheduleChangeSignal } from './bot-lifecycle.ts';

export type StatusReporter = { userId: string } | { statusToken: string };

export interface StatusReportResult {
  bot_id: string;
  status: string;
  previous_status: string;
  changed: boolean;
  /** Set when the bot had ended already and the report named another ending: the first stands. */
  already_ended?: true;
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

  /**
   * Checks the credentials alone, before the body is read: a caller without the right key or
   * token learns nothing about what a valid body would be (401 before any 400). Throws as report
   * would; report checks again inside its transaction.
   */
  async authorize(botId: string, reporter: StatusReporter): Promise<void> {
    const db = this.#database.db;
    const bot = await bots.findBotById(db, botId);
    if ('userId' in reporter) {
      if (!bot || bot.user_id !== reporter.userId) throw new ApiError('bot_not_found', `No bot ${botId}`);
      return;
    }
    const schedule = bot ? await bots.findScheduleOfBot(db, bot.id) : undefined;
    if (!bot || !schedule || !sameToken(schedule.status_token, reporter.statusToken)) {
      throw new ApiError('unauthorized', 'The status token does not belong to this bot');
    }
  }

  /** `kicked`: the runtime says the host removed the bot (with Stopped only; the route checks). */
  async report(botId: string, reporter: StatusReporter, status: RuntimeReportableStatus, message: string | undefined, kicked = false): Promise<StatusReportResult> {
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
      if (isLaterEnding(from, status)) {
        await noteLaterEnding(trx, bot.id, from, `the runtime reported ${status}`, this.#clock.now());
        return { bot_id: bot.id, status: from, previous_status: from, changed: false, already_ended: true };
      }
      if (!canTransition(from, status)) {
        throw new ApiError('invalid_status_transition', `status: a bot cannot go from ${from} to ${status}`, { details: { field: 'status', from, to: status } });
      }
      const reason = message ?? (kicked ? 'Removed from the meeting by the host (reported by the runtime)' : `Reported by the runtime: ${status}`);
      await transitionBot(trx, bot, status, reason, this.#clock.now(), { kicked });
      return { bot_id: bot.id, status, previous_status: from, changed: true };
    });
    // The change queued a webhook: let the delivery loop know.
    if (result.changed) this.#signal.afterCommit();
    return result;
  }
}

/** A status change a bot provider reported through its signed webhook (src/services/providers/provider-webhooks.ts). */
export interface ProviderStatusReport {
  provider: string;
  providerBotId: string;
  providerStatus: string;
  /** Rollcall's status for it; null when it changes nothing. */
  status: BotStatus | null;
  message: string;
  /** The provider says the host removed the bot (its status is then Stopped; webhook bot.kicked). */
  kicked?: boolean;
  /** When it happened, by the provider's clock; absent when the delivery does not say. */
  occurredAtMs?: number;
  /** The Rollcall bot id the delivery's metadata names, null for none; absent when it shows no metadata. */
  rollcallBotId?: string | null;
}

export interface ProviderStatusReportResult extends StatusReportResult {
  provider_status: string;
  /** Set when the provider bot is one Rollcall let go of (replaced or cancelled): acknowledged, nothing changes. */
  retired?: true;
  /** Set when a later report of the provider's was applied already: this one, delivered late, changes nothing. */
  stale?: true;
}

export class ProviderStatusReports {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #signal: ScheduleChangeSignal;

  constructor(deps: { database: Database; clock: Clock; signal: ScheduleChangeSignal }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#signal = deps.signal;
  }

  /**
   * Moves the bot the provider names through the same lifecycle as a runtime's report. Refused,
   * changing nothing: a provider bot of this deployment's not recorded yet, and a transition the
   * lifecycle forbids. Acknowledged, changing nothing: another application's or deployment's bot
   * ({ ignored }), a bot Rollcall let go of (retired), a report older than one applied (stale).
   */
  async report(report: ProviderStatusReport): Promise<ProviderStatusReportResult | { ignored: true }> {
    const result = await this.#database.db.transaction().execute(async (trx): Promise<ProviderStatusReportResult | { ignored: true }> => {
      // A provider bot that was replaced or cancelled still reports as it is deleted or leaves;
      // the provider would retry a refusal for hours, so it is acknowledged and changes nothing.
      const retired = await findRetiredProviderBot(trx, report.provider, report.providerBotId);
      if (retired) {
        const owner = await bots.findBotById(trx, retired.bot_id);
        const status = owner?.status ?? 'Cancelled';
        return { bot_id: retired.bot_id, status, previous_status: status, changed: false, provider_status: report.providerStatus, retired: true };
      }
      let bot = await findBotByProviderBotId(trx, report.provider, report.providerBotId, { engine: this.#database.engine, forUpdate: true });
      // Not a bot of this deployment's (another application's in the same provider account, or
      // another Rollcall's): acknowledged. A refusal would be retried for days, and a provider that
      // sees an endpoint fail that long turns it off (Recall, through Svix, after five days), this
      // deployment's reports with it. A bot of this deployment's whose provider id is still being
      // recorded is refused: the provider's retry finds it.
      if (!bot) {
        const named = typeof report.rollcallBotId === 'string' ? await bots.findBotById(trx, report.rollcallBotId, { engine: this.#database.engine, forUpdate: true }) : undefined;
        if (report.rollcallBotId !== undefined && !named) return { ignored: true } as const;
        // Read under the bot's lock: the launch's answer may have been recorded while this
        // waited for it (the look-up by provider id above saw the bot before that commit).
        if (named && named.provider_name === report.provider && named.provider_bot_id === report.providerBotId) bot = named;
        else if (named && await isStrayProviderBot(trx, named)) return this.#letStrayGo(trx, named, report);
        else throw new ApiError('provider_bot_not_found', `No bot is held by ${report.provider} as ${report.providerBotId}`, { details: { provider: report.provider, provider_bot_id: report.providerBotId } });
      }
      const from = bot.status as BotStatus;
      const base = { bot_id: bot.id, previous_status: from, provider_status: report.providerStatus };
      // Providers retry deliveries and do not keep their order (Svix, which sends Recall's, says so:
      // svix.com/blog/guaranteeing-webhook-ordering; Recall retries for a day). A report older than
      // one applied already would take the bot back (recording, then a late "not recording"), or be
      // refused and retried for nothing: acknowledged, and nothing changes.
      // Two reports of one instant (providers' times are read to the millisecond) are told apart by
      // the lifecycle: the one that goes back is the older.
      const lastAtMs = bot.provider_reported_at_ms === null ? null : Number(bot.provider_reported_at_ms);
      const isOlder = report.occurredAtMs !== undefined && lastAtMs !== null
        && (report.occurredAtMs < lastAtMs || (report.occurredAtMs === lastAtMs && report.status !== null && isStepBack(from, report.status)));
      if (isOlder) return { ...base, status: from, changed: false, stale: true };
      if (report.occurredAtMs !== undefined && report.status !== null) {
        await trx.updateTable('bots').set({ provider_reported_at_ms: Math.max(report.occurredAtMs, lastAtMs ?? -Infinity) }).where('id', '=', bot.id).execute();
      }
      if (report.status === null || report.status === from) return { ...base, status: from, changed: false };
      const now = this.#clock.now();
      // The provider's own status, unless the message names it already ("Recall reported joining_call").
      const reason = report.message.includes(report.providerStatus) ? report.message : `${report.message} (${report.provider} status ${report.providerStatus})`;
      // A handed-over bot waits in Scheduled for the provider's first report, joining. A provider
      // that lost that delivery (MeetStream does not retry one: reference meetstream.md 6.2) then
      // reports a later stage; refused, every report after it would be too and the bot would stay
      // Scheduled for good. Such a report says the bot joined: it goes through Joining to it.
      if (from === 'Scheduled' && !canTransition(from, report.status) && canTransition('Joining', report.status)) {
        await transitionBot(trx, bot, 'Joining', `Joined (${report.provider} reported ${report.providerStatus} without reporting joining first)`, now);
        await transitionBot(trx, { ...bot, status: 'Joining' }, report.status, reason, now, { kicked: report.kicked === true });
        return { ...base, status: report.status, changed: true };
      }
      if (isLaterEnding(from, report.status)) {
        await noteLaterEnding(trx, bot.id, from, `${report.provider} reported ${report.providerStatus} (${report.status})`, this.#clock.now());
        return { ...base, status: from, changed: false, already_ended: true };
      }
      if (!canTransition(from, report.status)) {
        throw new ApiError('invalid_status_transition', `status: a bot cannot go from ${from} to ${report.status} (${report.provider} reported ${report.providerStatus})`, { details: { field: 'status', from, to: report.status, provider_status: report.providerStatus } });
      }
      await transitionBot(trx, bot, report.status, reason, now, { kicked: report.kicked === true });
      return { ...base, status: report.status, changed: true };
    });
    if ('changed' in result && result.changed) this.#signal.afterCommit();
    return result;
  }

  /**
   * A second provider bot made for one Rollcall bot (a creation whose answer was lost, sent again
   * after the provider stopped replaying its key): it would sit in the meeting beside the bot
   * Rollcall holds, or in a meeting whose bot was cancelled. It is let go of (deleted, or made to
   * leave once it is in the call) and acknowledged, now and on every later report.
   */
  async #letStrayGo(trx: Db, named: BotRow, report: ProviderStatusReport): Promise<ProviderStatusReportResult> {
    const now = this.#clock.now();
    const status = named.status as BotStatus;
    const holds = named.provider_bot_id === null ? `holds no ${report.provider} bot (it is ${status})` : `holds ${report.provider}'s bot ${named.provider_bot_id}`;
    const reason = `${report.provider} reported a second bot ${report.providerBotId} made for this bot, which ${holds}: it is let go of`;
    await retireProviderBot(trx, report.provider, report.providerBotId, named.id, reason, now);
    const details = { provider: report.provider, provider_bot_id: report.providerBotId, provider_status: report.providerStatus };
    const hasFinished = report.status !== null && !LIVE_STATUSES.includes(report.status);
    if (hasFinished || report.status === 'Leaving') {
      await bots.appendDecision(trx, named.id, now, 'provider_duplicate_finished', `${reason}; it has ${report.status === 'Leaving' ? 'left already' : 'finished'}`, details);
    } else {
      const by: RemovalKind = report.status === null || report.status === 'Scheduled' ? 'delete' : 'leave';
      await requestProviderRetire(trx, { bot_id: named.id, provider_bot_id: report.providerBotId, by, join_at_ms: Math.max(now, named.join_at_ms), reason }, now);
      await bots.appendDecision(trx, named.id, now, 'provider_removal_requested', reason, { ...details, by });
    }
    return { bot_id: named.id, status, previous_status: status, changed: false, provider_status: report.providerStatus, retired: true };
  }
}

/**
 * Whether a provider bot whose reports name `named` (its metadata) but which `named` does not
 * hold is a second one, never to be held: `named` holds another, or has finished, and no creation
 * request for it is waiting for its answer (whose bot this may be, recorded any moment now).
 */
async function isStrayProviderBot(trx: Db, named: BotRow): Promise<boolean> {
  if (named.provider_bot_id === null && LIVE_STATUSES.includes(named.status as BotStatus)) return false;
  return !(await hasUnansweredCreation(trx, named.id));
}

/** A second ending changes nothing, but the bot's log keeps it: it can tell something (a bot that ran although cancelled). */
async function noteLaterEnding(trx: Db, botId: string, from: BotStatus, what: string, nowMs: number): Promise<void> {
  await bots.appendDecision(trx, botId, nowMs, 'later_ending', `${what[0]!.toUpperCase()}${what.slice(1)} after the bot had ended as ${from}: the first ending stands`, { status: from });
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
