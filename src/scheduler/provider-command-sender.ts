// Keeps a provider's bot in step with the Rollcall bot it was handed over for, from the command
// outbox (runtime_commands), in two lanes each in order per bot:
// - provider_sync: compare what the provider holds (its bot, join time, link, settings) with the
//   bot now, and apply src/domain/late-edit.ts: update the provider's bot, or replace it (create another
//   under a new idempotency key, then let the old one go), or let it go (the bot was cancelled);
// - provider_retire: remove a provider bot Rollcall let go of: delete it while the provider still
//   allows (inside its delete cutoff too, and past the join time, where it deletes any bot it has
//   not started: Attendee), else make it leave (at once where the provider takes that before the bot
//   joins, as Recall does inside its last ten minutes, else once it is in the call).
// A sync also settles a creation that got no answer (it may have made a bot nobody was told of)
// once that bot is not wanted: the bot was cancelled, or the old bot's join time came first. The
// request is sent again under its key (or the bot looked up, where the provider no longer replays
// the key) and the bot the provider answers with is let go of.
// A failed call is retried with backoff (a 429 after its Retry-After) and never dropped before
// it stops mattering: the meeting's end for a sync, an hour after the old bot's join time for a
// removal. A crash leaves the command leased; it is sent again after the lease, and every step is
// safe to repeat (the state it wrote says the provider is in step, a deleted bot answers 404, the
// replacement is created under the same idempotency key).
import { FAILURE_STATUS } from '../domain/bot-status.ts';
import type { DecisionKind } from '../domain/decision-kinds.ts';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { BotRow, ScheduleRow } from '../db/schema.ts';
import { madeNothing, type BotRuntime, type RuntimeOutcome, type SchedulingRules } from '../adapters/bot-runtimes/bot-runtime.ts';
import { decideLateEdit, diffSettings, removalWording, type MeetingChange, type RemovalKind } from '../domain/late-edit.ts';
import type { Clock } from '../lib/clock.ts';
import { formatInstant } from '../lib/time.ts';
import * as bots from '../store/bot-store.ts';
import * as commands from '../store/runtime-command-store.ts';
import * as handovers from '../store/provider-handover-store.ts';
import { cancelBotInTransaction, transitionBot } from '../services/scheduling/bot-lifecycle.ts';
import * as schedules from '../store/schedule-store.ts';
import { CALENDAR_ACCESS_LOST_REASON, findBotsWithoutCalendarAccess } from '../store/connection-store.ts';
import { FailureLog } from '../lib/failure-log.ts';
import { PROVIDER_RETIRE, PROVIDER_SYNC, requestChaseIfUnanswered, requestProviderRetire, requestProviderSync, type ProviderRetirePayload, type ProviderSyncPayload } from '../services/providers/provider-sync.ts';
import { launchRetryDelayMs } from './backoff.ts';
import { buildLaunchRequest } from './dispatcher.ts';
import { reasonPrefix } from '../domain/reason-codes.ts';

/**
 * The dispatcher launched the bot at its join time under the very key of the lost creation (it
 * does when the lost request asked for what the launch asks: BotHandover.keyForLaunchNow): the
 * provider's answer to the launch is the bot that joins, and the key is settled by it. A chase
 * would let go of that very bot.
 */
function isLaunchOwnKey(bot: Pick<BotRow, 'launched_at'>, launchKey: string, lostKey: string): boolean {
  return bot.launched_at !== null && launchKey === lostKey;
}

/** A handed-over bot whose calendars lost their access is withdrawn this long before the provider's delete cutoff (room for retries). */
const WITHDRAW_MARGIN_MS = 120_000;
/**
 * A bot whose provider bot could not be withdrawn is cancelled this long before its join time: the
 * provider reports its bot joining at the join time, and a bot no longer Scheduled is not cancelled.
 */
const CANCEL_AHEAD_MS = 30_000;
/** A bot that is not in the call yet, its join time past, is asked to leave again this much later. */
const LEAVE_RETRY_MS = 30_000;
/**
 * Before its join time it is asked again at that time, and no sooner than this: a staged Attendee
 * bot starts joining a few seconds before its join time (attendee-labs/attendee
 * bots/bot_controller/bot_controller.py join_if_staged_and_time_to_join, ahead by the adapter's
 * get_staged_bot_join_delay_seconds), so by then leave reaches it.
 */
const LEAVE_RETRY_BEFORE_JOIN_MIN_MS = 5_000;
/** A removal is given up this long after the old bot's join time (it never turned up in a call). */
const RETIRE_WINDOW_MS = 3_600_000;
const BATCH = 50;
/** A creation request is taken as finished this long after its own timeout (the time to send it). */
const ANSWER_GRACE_MS = 5_000;

/** How a replacement goes (see #replace). */
interface ReplaceOptions {
  /** Only settings changed: refused, the provider's bot stays as it is. */
  isSettingsOnly?: boolean;
  /** Refused (not the key): what to do instead of failing the bot. */
  whenRefused?: (() => Promise<Settle>) | undefined;
  /** The bot carries the settings the provider's bot has, not its own (they were refused). */
  keepingSettings?: boolean;
}

type Settle =
  | { kind: 'done' }
  /**
   * isTimer: waiting for a time chosen here, not a backoff; a new change for the bot brings it
   * forward. isWaiting: asked again later because the moment has not come (a bot not in its call
   * yet), not because something failed.
   */
  | { kind: 'retry'; atMs: number; error: string; isTimer?: boolean; isWaiting?: boolean }
  | { kind: 'failed'; error: string };

const DONE: Settle = { kind: 'done' };

export interface ProviderCommandSenderOptions {
  database: Database;
  clock: Clock;
  /** The runtime; it must declare `scheduling`. */
  runtime: BotRuntime;
  logger: Logger;
  publicUrl: string;
  leaseMs: number;
  /** How long a request to the provider may take (BOT_RUNTIME_TIMEOUT_MS). */
  requestTimeoutMs: number;
}

export class ProviderCommandSender {
  readonly #o: ProviderCommandSenderOptions;
  readonly #rules: SchedulingRules;
  /** Updates, replacements and removals the provider refused or did not answer, logged (a provider down logs a few and a count). */
  readonly #failures: FailureLog;

  constructor(options: ProviderCommandSenderOptions) {
    if (!options.runtime.scheduling) throw new Error(`the ${options.runtime.name} runtime holds no scheduled bots to keep in step`);
    this.#o = options;
    this.#rules = options.runtime.scheduling.rules;
    this.#failures = new FailureLog(options.logger, `${options.runtime.name} command failed`);
  }

  /** Says now what the failure log held back (the process is stopping). */
  flushFailureLog(): void {
    this.#failures.flush();
  }

  get #provider(): string {
    return this.#o.runtime.name;
  }

  /** Sends every due sync, then every due removal (a cancel's sync queues its removal). */
  async sendDue(): Promise<void> {
    for (const lane of [[PROVIDER_SYNC], [PROVIDER_RETIRE]]) {
      for (;;) {
        const { database, clock, leaseMs } = this.#o;
        const batch = await database.db.transaction().execute((trx) => commands.claimRuntimeCommands(trx, database.engine, clock.now(), leaseMs, BATCH, lane));
        if (batch.length === 0) break;
        await Promise.all(batch.map((row) => this.#send(row)));
      }
    }
  }

  async #send(row: commands.RuntimeCommandRow): Promise<void> {
    const { database, clock, logger } = this.#o;
    let settle: Settle;
    /** Logged in full already (an internal error): not noted again as a failure. */
    let isLogged = false;
    try {
      settle = row.action === PROVIDER_SYNC
        ? await this.#sync(row, JSON.parse(row.payload) as ProviderSyncPayload)
        : await this.#retire(row, JSON.parse(row.payload) as ProviderRetirePayload);
    } catch (error) {
      // A database outage mid-way: the lease keeps the command; it is sent again after it.
      if (database.health.observe(error)) return;
      // Anything else is retried with backoff rather than at every pass.
      logger.error({ err: error, botId: row.bot_id, action: row.action }, 'provider command failed');
      isLogged = true;
      settle = { kind: 'retry', atMs: clock.now() + launchRetryDelayMs(row.attempts), error: `internal error: ${(error as Error).message}` };
    }
    if (!isLogged && (settle.kind === 'failed' || (settle.kind === 'retry' && settle.isTimer !== true && settle.isWaiting !== true))) {
      this.#failures.note({ botId: row.bot_id, action: row.action, attempt: row.attempts, outcome: settle.kind === 'failed' ? 'given up' : 'retried', reason: settle.error });
    }
    const now = clock.now();
    try {
      if (settle.kind === 'retry' && settle.isTimer === true) {
        await this.#settleTimer(row, settle, now);
      } else {
        await commands.settleRuntimeCommand(database.db, row.id, settle.kind === 'retry' ? { state: 'pending', retryAtMs: settle.atMs } : { state: settle.kind }, settle.kind === 'done' ? null : settle.error.slice(0, 1000), now);
      }
    } catch (error) {
      if (!database.health.observe(error)) logger.error({ err: error, botId: row.bot_id }, 'could not record a provider command result');
    }
  }

  /**
   * A sync that comes back at a time of its own. A change made while it was being sent queued a
   * sync behind it (it was in flight, so nothing could bring it forward): that one reads the bot
   * anew and sets its own time, so this one is done. Under the bot's lock, which the changes that
   * queue a sync hold while they do: one still being committed is waited for, not missed.
   */
  async #settleTimer(row: commands.RuntimeCommandRow, settle: { atMs: number; error: string }, now: number): Promise<void> {
    const { database } = this.#o;
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [row.bot_id]);
      const isOvertaken = await commands.hasNewerPendingCommand(trx, row);
      await commands.settleRuntimeCommand(trx, row.id, isOvertaken ? { state: 'done' } : { state: 'pending', retryAtMs: settle.atMs, wakesOnChange: true }, isOvertaken ? null : settle.error.slice(0, 1000), now);
    });
  }

  #retryAt(row: commands.RuntimeCommandRow, outcome: RuntimeOutcome & { ok: false }): number {
    return this.#o.clock.now() + Math.max(outcome.retryAfterMs ?? 0, launchRetryDelayMs(row.attempts));
  }

  /** Records a decision in its own transaction. */
  async #decide(botId: string, kind: DecisionKind, reason: string, details: Record<string, unknown> = {}): Promise<void> {
    await bots.appendDecision(this.#o.database.db, botId, this.#o.clock.now(), kind, reason, details);
  }

  /** A failure that will be retried, unless the meeting is over by then. */
  async #retryOrGiveUp(row: commands.RuntimeCommandRow, bot: BotRow, outcome: RuntimeOutcome & { ok: false }, what: string): Promise<Settle> {
    const atMs = this.#retryAt(row, outcome);
    if (atMs <= bot.meeting_end_ms) return { kind: 'retry', atMs, error: outcome.message };
    await this.#decide(bot.id, 'provider_sync_failed', `${what} did not reach ${this.#provider} before the meeting ended: ${outcome.message}`);
    return { kind: 'failed', error: outcome.message };
  }

  async #sync(row: commands.RuntimeCommandRow, payload: ProviderSyncPayload): Promise<Settle> {
    const { database, clock } = this.#o;
    const bot = await bots.findBotById(database.db, payload.bot_id);
    const held = await handovers.findHandover(database.db, payload.bot_id);
    if (!bot || !held) return DONE;
    const now = clock.now();
    if (bot.status !== 'Scheduled') {
      // Cancelled: the provider's bot goes. Joined (the provider said so): from here a changed
      // meeting is an update or stop command. Either way a creation still unanswered may have
      // made a bot that nobody would send away: it is found and let go of.
      if (bot.launched_at === null && held.provider_bot_id !== null && held.join_at_ms !== null) {
        await this.#letGo(bot, { id: held.provider_bot_id, joinAtMs: Number(held.join_at_ms) }, now);
      }
      return held.first_sent === null ? DONE : this.#chaseUnanswered(row, bot, held);
    }
    if (held.provider_bot_id === null || held.join_at_ms === null || held.meeting_url === null) return DONE;
    const heldBot = { id: held.provider_bot_id, joinAtMs: Number(held.join_at_ms), meetingUrl: held.meeting_url, generation: held.generation };
    // A replacement whose creation got no answer may have been made: it is finished, under its
    // own key (the provider answers with the bot it made, or makes it now), whatever this change
    // alone would call for; an update of the old bot would leave that one behind, a second bot
    // in the meeting. Not once the old bot's join time has come (it is in the meeting by now).
    if (held.first_sent !== null && heldBot.joinAtMs > now) {
      const by: RemovalKind = heldBot.joinAtMs - now >= this.#rules.deleteCutoffMs ? 'delete' : 'leave';
      return this.#replace(row, bot, heldBot, by, `A replacement of ${this.#provider}'s bot ${heldBot.id} got no answer and may have been made: it is finished under its idempotency key`);
    }
    // Once it has come, the old bot is the one joining: a replacement it may have been given goes.
    if (held.first_sent !== null) return this.#chaseUnanswered(row, bot, held);
    const access = await this.#accessVerdict(bot, heldBot, now);
    if (access.kind === 'withdraw') return this.#withdraw(bot, held, heldBot);
    if (access.kind === 'cancel') return this.#cancelForAccess(bot);
    const settle = await this.#follow(row, bot, held, heldBot, now);
    // Access still lost: come back when the provider's bot is to be withdrawn (or the bot cancelled).
    if (access.kind === 'wait') {
      return settle.kind === 'retry' ? { ...settle, atMs: Math.min(settle.atMs, access.atMs) } : { kind: 'retry', atMs: access.atMs, error: settle.kind === 'done' ? access.why : settle.error, isTimer: true };
    }
    return settle;
  }

  /**
   * A handed-over bot whose calendars have all lost their access (docs/behaviour.md, "Revoked
   * access"): its provider bot is left alone while access may still return, deleted at the last
   * moment the provider allows it (its delete cutoff, less a margin for retries), and the bot then
   * waits for its join time like one never handed over. Too late to delete, the bot is cancelled
   * just before its join time if access is still lost, and its provider bot is made to leave.
   */
  async #accessVerdict(bot: BotRow, heldBot: { joinAtMs: number }, now: number): Promise<{ kind: 'fine' | 'withdraw' | 'cancel' } | { kind: 'wait'; atMs: number; why: string }> {
    const blocked = await findBotsWithoutCalendarAccess(this.#o.database.db, [bot.id]);
    if (!blocked.has(bot.id)) return { kind: 'fine' };
    // The earlier of the provider's join time and the bot's: a bot moved earlier is followed
    // there by the provider's (an update), and withdrawn by that time.
    const joinAtMs = Math.min(heldBot.joinAtMs, bot.join_at_ms);
    const withdrawAtMs = joinAtMs - this.#rules.deleteCutoffMs - WITHDRAW_MARGIN_MS;
    if (now < withdrawAtMs) return { kind: 'wait', atMs: withdrawAtMs, why: `calendar access lost: ${this.#provider}'s bot is withdrawn at ${formatInstant(withdrawAtMs)} unless access returns first` };
    if (heldBot.joinAtMs - now >= this.#rules.deleteCutoffMs) return { kind: 'withdraw' };
    const cancelAtMs = joinAtMs - CANCEL_AHEAD_MS;
    if (now < cancelAtMs) return { kind: 'wait', atMs: cancelAtMs, why: `calendar access lost too late to withdraw ${this.#provider}'s bot: the bot is cancelled at ${formatInstant(cancelAtMs)} unless access returns first` };
    return { kind: 'cancel' };
  }

  async #withdraw(bot: BotRow, held: handovers.ProviderHandoverRow, heldBot: { id: string; joinAtMs: number }): Promise<Settle> {
    const { database, clock } = this.#o;
    const schedule = await bots.findScheduleOfBot(database.db, bot.id);
    if (!schedule) return DONE;
    const generation = held.generation + 1;
    const key = handovers.withdrawalKey(schedule.idempotency_key, generation);
    const now = clock.now();
    const reason = `${reasonPrefix('calendar_access_revoked')}the calendars of this bot's events lost their access, so ${this.#provider}'s bot ${heldBot.id} is deleted while it still can be. If access returns before ${formatInstant(bot.join_at_ms)} the bot is handed over again (idempotency key ${key}), else it is cancelled then`;
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [bot.id]);
      const current = await bots.findBotById(trx, bot.id);
      // Changed since it was read (cancelled, joined, replaced): the sync that change queued decides.
      if (current?.status !== 'Scheduled' || current.provider_bot_id !== heldBot.id) return;
      if (!(await schedules.reopenSchedule(trx, schedule.id, current.join_at_ms, key, now))) return;
      await handovers.retireProviderBot(trx, this.#provider, heldBot.id, bot.id, reason, now);
      await requestProviderRetire(trx, { bot_id: bot.id, provider_bot_id: heldBot.id, by: 'delete', join_at_ms: heldBot.joinAtMs, reason }, now);
      await handovers.withdrawHeld(trx, bot.id, generation, now);
      await bots.appendDecision(trx, bot.id, now, 'provider_withdrawn', reason, { provider: this.#provider, provider_bot_id: heldBot.id, idempotency_key: key, join_at: formatInstant(current.join_at_ms) });
    });
    return DONE;
  }

  /** The join time came with access still lost: cancelled, as any bot then; the cancel's sync lets the provider's bot go. */
  async #cancelForAccess(bot: BotRow): Promise<Settle> {
    const { database, clock } = this.#o;
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [bot.id]);
      const current = await bots.findBotById(trx, bot.id);
      if (current?.status !== 'Scheduled') return;
      await cancelBotInTransaction(trx, current, CALENDAR_ACCESS_LOST_REASON, clock.now());
    });
    return DONE;
  }

  /**
   * Brings the provider's bot in step with the bot: nothing, an update, or a replacement. With
   * `keepingSettings`, after the provider refused the bot's new settings: the meeting's move or new
   * link is followed with the settings the provider's bot has, so that settings it will not take
   * never cost the meeting its bot.
   */
  async #follow(row: commands.RuntimeCommandRow, bot: BotRow, held: handovers.ProviderHandoverRow, heldBot: { id: string; joinAtMs: number; meetingUrl: string; generation: number }, now: number, keepingSettings = false): Promise<Settle> {
    const { database, clock } = this.#o;
    // Settings the provider sees (its display name, say), compared in its own field names: a
    // change only Rollcall sees (callback_url) leaves the provider's bot alone.
    const scheduling = this.#o.runtime.scheduling!;
    const current = scheduling.settingsOf(JSON.parse(bot.bot_config) as Record<string, unknown>, bot.id);
    const settings = held.bot_config === null || keepingSettings ? undefined : diffSettings(scheduling.settingsOf(JSON.parse(held.bot_config) as Record<string, unknown>, bot.id), current, this.#rules.updatableSettings);
    /** The bot as the provider is to get it: with the settings its bot has, when keeping them. */
    const sent = keepingSettings && held.bot_config !== null ? { ...bot, bot_config: held.bot_config } : bot;
    const followKeepingSettings = settings ? () => this.#follow(row, bot, held, heldBot, now, true) : undefined;
    const change: MeetingChange | null = bot.meeting_url !== heldBot.meetingUrl
      ? { kind: 'link-changed', newJoinAtMs: bot.join_at_ms, ...(settings ? { settings } : {}) }
      : bot.join_at_ms !== heldBot.joinAtMs || settings ? { kind: 'moved', newJoinAtMs: bot.join_at_ms, ...(settings ? { settings } : {}) } : null;
    if (change === null) return DONE;
    const action = decideLateEdit(this.#rules, now, heldBot.joinAtMs, change);
    const details = { provider: this.#provider, provider_bot_id: heldBot.id, join_at: formatInstant(bot.join_at_ms), held_join_at: formatInstant(heldBot.joinAtMs) };
    if (action.kind === 'nothing' || action.kind === 'remove') {
      await this.#decide(bot.id, 'provider_edit_skipped', `${action.reason}; ${this.#provider}'s bot ${heldBot.id} keeps ${formatInstant(heldBot.joinAtMs)}`, details);
      return DONE;
    }
    // Only settings changed: a provider that refuses the new ones keeps the bot it has (with its
    // old settings) rather than the meeting losing its bot over a display name.
    const isSettingsOnly = change.kind === 'moved' && bot.join_at_ms === heldBot.joinAtMs;
    const replaceOptions = { isSettingsOnly, whenRefused: isSettingsOnly ? undefined : followKeepingSettings, keepingSettings };
    if (action.kind === 'replace') return this.#replace(row, sent, heldBot, action.by, action.reason, replaceOptions);
    const outcome = await scheduling.update(heldBot.id, {
      // The join time only when it moves: Recall refuses any join_at inside its ten minutes, even
      // the one the bot has, where it still takes a new link.
      ...(bot.join_at_ms !== heldBot.joinAtMs ? { join_at: formatInstant(bot.join_at_ms) } : {}),
      ...(change.kind === 'link-changed' ? { meeting_url: bot.meeting_url } : {}),
      ...(settings ? { settings: Object.fromEntries(settings.fields.map((f) => [f, current[f]])) } : {}),
      // Not the refused request's key: the provider may replay its refusal under it.
    }, `${row.idempotency_key}~${row.attempts}${keepingSettings ? '~kept' : ''}`);
    if (outcome.ok) {
      // Settings never compared (a bot handed over before they were recorded) stay unknown.
      await handovers.recordHeld(database.db, bot.id, this.#provider, { providerBotId: heldBot.id, joinAtMs: bot.join_at_ms, meetingUrl: bot.meeting_url, botConfig: held.bot_config === null ? null : sent.bot_config }, clock.now());
      await this.#decide(bot.id, 'provider_updated', `${action.reason}; ${this.#provider}'s bot ${heldBot.id} now joins at ${formatInstant(bot.join_at_ms)}${change.kind === 'link-changed' ? ` on ${bot.meeting_url}` : ''}${settings ? ` with the new ${settings.fields.join(', ')}` : ''}`, { ...details, ...(settings ? { settings: settings.fields } : {}) });
      return DONE;
    }
    if (outcome.failure !== 'permanent') return this.#retryOrGiveUp(row, bot, outcome, 'The update');
    // New settings refused for what they are stay refused: the bot keeps the ones it has. Refused
    // for the bot's state (started early), they go to a new bot as a move would, while the join
    // time is ahead (after it, a new bot would join late beside one already joining).
    if (outcome.isAuthFailure || (isSettingsOnly && (outcome.isPastScheduled !== true || heldBot.joinAtMs <= clock.now()))) {
      await this.#decide(bot.id, 'provider_sync_failed', `The update was refused: ${outcome.message}${isSettingsOnly ? `; ${this.#provider}'s bot ${heldBot.id} keeps its settings` : ''}`, details);
      return { kind: 'failed', error: outcome.message };
    }
    // The provider's own rules were stricter than the declared cutoff (its clock, a staged bot):
    // the bot is replaced, as inside the cutoff. Only settings changed: a refused replacement
    // leaves the bot it has.
    const by: RemovalKind = heldBot.joinAtMs - clock.now() >= this.#rules.deleteCutoffMs ? 'delete' : 'leave';
    return this.#replace(row, sent, heldBot, by, `${this.#provider} refused the update (${outcome.message}): the bot is replaced instead, under a new idempotency key`, isSettingsOnly ? { isSettingsOnly, keepingSettings } : { whenRefused: followKeepingSettings, keepingSettings });
  }

  /**
   * Creates the replacement first (so the bot is never left without one), then lets the old one
   * go. The replacement's idempotency key is the launch's with the replacement's number: the same
   * on every retry of this replacement, new for the next one.
   */
  async #replace(row: commands.RuntimeCommandRow, bot: BotRow, held: { id: string; joinAtMs: number; generation: number }, by: RemovalKind, reason: string, options: ReplaceOptions = {}): Promise<Settle> {
    const { database, clock, runtime, publicUrl } = this.#o;
    const { isSettingsOnly = false, whenRefused, keepingSettings = false } = options;
    const schedule = await bots.findScheduleOfBot(database.db, bot.id);
    if (!schedule) return DONE;
    const links = await bots.listLiveLinksOfBot(database.db, bot.id);
    // Keeping the old settings after a refused replacement: past that replacement's key, whose
    // refusal the provider may replay.
    const generation = held.generation + (keepingSettings ? 2 : 1);
    const request = buildLaunchRequest(schedule, bot, links, publicUrl);
    request.idempotency_key = handovers.replacementKey(schedule.idempotency_key, generation);
    if (bot.join_at_ms > clock.now()) request.join_at = formatInstant(bot.join_at_ms);
    const unansweredSince = await handovers.unansweredSince(database.db, bot.id, request.idempotency_key);
    if (unansweredSince !== undefined) request.unanswered_since_ms = unansweredSince;
    // A replacement is a creation too: the handover plan paces from it.
    const sent = handovers.sentOf(bot);
    await handovers.recordAttempts(database.db, this.#provider, [{ botId: bot.id, sent, key: request.idempotency_key }], clock.now());
    const outcome = await runtime.launch(request);
    // Refused before anything was created: the next request is a first again.
    if (madeNothing(outcome)) await handovers.forgetFirstSentIfLatest(database.db, bot.id, clock.now());
    if (!outcome.ok && outcome.failure !== 'permanent') return this.#retryOrGiveUp(row, bot, outcome, 'The replacement bot');
    if (!outcome.ok && isSettingsOnly) {
      await this.#decide(bot.id, 'provider_sync_failed', `${reason}, but ${this.#provider} refused the new bot (${outcome.message}): its bot ${held.id} stays, with its old settings`, { provider: this.#provider, provider_bot_id: held.id });
      // An earlier request for this replacement that got no answer may have made a bot: the sync
      // comes back when the old bot's join time has come, and lets that one go.
      if (await handovers.hasUnansweredCreation(database.db, bot.id)) return { kind: 'retry', atMs: held.joinAtMs, error: outcome.message, isTimer: true };
      return { kind: 'failed', error: outcome.message };
    }
    if (!outcome.ok && !outcome.isAuthFailure && whenRefused) {
      await this.#decide(bot.id, 'provider_sync_failed', `${reason}, but ${this.#provider} refused the new bot (${outcome.message}): the meeting's change is followed with the settings its bot ${held.id} has`, { provider: this.#provider, provider_bot_id: held.id });
      // An earlier request for this replacement that got no answer may have made a bot: chased
      // and let go of once the change is followed, as after any refused replacement.
      const settle = await whenRefused();
      if (await handovers.hasUnansweredCreation(database.db, bot.id)) {
        await database.db.transaction().execute((trx) => requestChaseIfUnanswered(trx, bot.id, 'The replacement was refused after a request that got no answer', clock.now()));
      }
      return settle;
    }
    const now = clock.now();
    const retire: ProviderRetirePayload = { bot_id: bot.id, provider_bot_id: held.id, by, join_at_ms: held.joinAtMs, reason };
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [bot.id]);
      const current = await bots.findBotById(trx, bot.id);
      await handovers.retireProviderBot(trx, this.#provider, held.id, bot.id, reason, now);
      await requestProviderRetire(trx, retire, now);
      if (!outcome.ok) {
        await handovers.releaseHeld(trx, bot.id, now);
        if (current?.status === 'Scheduled') await transitionBot(trx, current, FAILURE_STATUS, `${reason}, but ${this.#provider} refused the new bot: ${outcome.message}`, now, { decisionKind: 'failed' });
        // An earlier request for this replacement that got no answer may have made a bot.
        await requestChaseIfUnanswered(trx, bot.id, 'The replacement was refused after a request that got no answer', now);
        return;
      }
      const newId = outcome.providerBotId!;
      // The provider may have answered with the bot an earlier request of this replacement made.
      const created = handovers.sentFirst(await handovers.findHandover(trx, bot.id), sent);
      await handovers.replaceProviderBot(trx, bot.id, this.#provider, newId, now);
      await handovers.recordHeld(trx, bot.id, this.#provider, { providerBotId: newId, ...created, generation, handedOverAtMs: now }, now);
      await bots.appendDecision(trx, bot.id, now, 'provider_replaced',
        `${reason}. New ${this.#provider} bot ${newId} (idempotency key ${request.idempotency_key}) joins at ${formatInstant(bot.join_at_ms)}; the old one, ${held.id}, is ${by === 'delete' || this.#rules.deletesUntilStarted ? removalWording(this.#rules, by) : 'made to leave (at once where the provider takes that before it joins, else once it is in the call)'}`,
        { provider: this.#provider, provider_bot_id: newId, previous_provider_bot_id: held.id, idempotency_key: request.idempotency_key, join_at: formatInstant(bot.join_at_ms) });
      // Its settings kept on purpose (the provider refused the new ones), a bot whose settings differ is not a change made meanwhile.
      if (current && (current.status !== 'Scheduled' || current.join_at_ms !== created.joinAtMs || current.meeting_url !== created.meetingUrl || (!keepingSettings && current.bot_config !== created.botConfig))) {
        await requestProviderSync(trx, { id: bot.id, provider_bot_id: newId }, 'The bot changed while its replacement was being created', now);
      }
    });
    return outcome.ok ? DONE : { kind: 'failed', error: outcome.message };
  }

  /**
   * A bot that will not join through a new provider bot (cancelled, or joining with the one it
   * has) while a creation request for it got no answer: the request is sent again under its
   * idempotency key, with what it first carried, and whatever the provider answers with (the bot
   * the lost request made, or one made now) is let go of; a provider that no longer replays the key
   * is asked for the bot instead (findLostCreation). Sent only once the first request has had its
   * time (a request still on the wire could race its own retry), and only before the join time it
   * asked for: after that a bot made now would join at once, and only a lookup is made (for an
   * hour, as a removal is tried).
   */
  async #chaseUnanswered(row: commands.RuntimeCommandRow, bot: BotRow, held: handovers.ProviderHandoverRow): Promise<Settle> {
    const { database, clock, runtime, publicUrl, requestTimeoutMs } = this.#o;
    const first = handovers.firstSentOf(held)!;
    const schedule = await bots.findScheduleOfBot(database.db, bot.id);
    if (!schedule) return DONE;
    const key = handovers.keyOfFirstSent(schedule.idempotency_key, held);
    if (isLaunchOwnKey(bot, schedule.idempotency_key, key)) {
      await handovers.forgetFirstSent(database.db, bot.id, clock.now());
      return DONE;
    }
    const details = { provider: this.#provider, idempotency_key: key, join_at: formatInstant(first.joinAtMs) };
    const sentAtMs = held.last_attempt_at_ms === null ? 0 : Number(held.last_attempt_at_ms);
    const answeredByMs = sentAtMs + requestTimeoutMs + Math.max(ANSWER_GRACE_MS, this.#rules.unansweredCreationRunsMs);
    let now = clock.now();
    if (now < answeredByMs) return { kind: 'retry', atMs: answeredByMs, error: `the creation request under ${key} may still be on the wire`, isTimer: true };
    // Past the join time a request sent again would make a bot that joins at once: only a provider
    // that can look the lost one up is asked, for as long as a removal is tried.
    const isPastJoin = first.joinAtMs <= now;
    if (isPastJoin && !runtime.scheduling?.findLostCreation) return this.#giveUpChase(bot, held, key, `its join time (${formatInstant(first.joinAtMs)}) came first`, details);
    const deadlineMs = isPastJoin ? first.joinAtMs + RETIRE_WINDOW_MS : first.joinAtMs;
    if (now >= deadlineMs) return this.#giveUpChase(bot, held, key, `its join time (${formatInstant(first.joinAtMs)}) is more than an hour ago`, details);
    const { outcome, lookedUp } = await this.#lookUpLostCreation(bot, schedule, first, key, isPastJoin);
    now = clock.now();
    // The provider refused the lookup: nothing is known of the lost request.
    if (lookedUp && !outcome.ok && outcome.failure === 'permanent') return this.#giveUpChase(bot, held, key, outcome.message, details);
    // Tried again: a failure that says nothing of the lost request, and Recall's 507 (it made
    // nothing of this request, but the lost one may have gone under the key's next generation,
    // which the adapter sends next). A refused API key proves nothing either.
    if (!outcome.ok && outcome.failure !== 'permanent') {
      const atMs = this.#retryAt(row, outcome);
      if (atMs < deadlineMs) return { kind: 'retry', atMs, error: outcome.message };
      return this.#giveUpChase(bot, held, key, outcome.message, details);
    }
    if (!outcome.ok && outcome.isAuthFailure) return this.#giveUpChase(bot, held, key, outcome.message, details);
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [bot.id]);
      await handovers.forgetFirstSent(trx, bot.id, now);
      const current = await bots.findBotById(trx, bot.id);
      if (!outcome.ok || outcome.providerBotId === undefined || outcome.providerBotId === current?.provider_bot_id) {
        const answer = !outcome.ok ? outcome.message : outcome.providerBotId === undefined ? `${this.#provider} ${lookedUp ? 'lists none under the key' : 'named none'}` : `it is the bot Rollcall holds, ${outcome.providerBotId}`;
        await bots.appendDecision(trx, bot.id, now, 'provider_creation_settled', `A creation request to ${this.#provider} that got no answer (idempotency key ${key}) left no other bot: ${answer}`, details);
        return;
      }
      const id = outcome.providerBotId;
      const by: RemovalKind = first.joinAtMs - now >= this.#rules.deleteCutoffMs ? 'delete' : 'leave';
      const why = bot.status === 'Cancelled' ? 'The bot was cancelled' : bot.status === 'Scheduled' ? `The join time of ${this.#provider}'s bot ${bot.provider_bot_id} came` : `The bot is ${bot.status}`;
      const how = lookedUp ? `looked up by its idempotency key ${key}, ${this.#provider} has bot ${id}` : `sent again under its idempotency key ${key}, ${this.#provider} answered with bot ${id}`;
      const reason = `${why} while a creation request to ${this.#provider} had no answer; ${how}, which is let go of`;
      await handovers.retireProviderBot(trx, this.#provider, id, bot.id, reason, now);
      await requestProviderRetire(trx, { bot_id: bot.id, provider_bot_id: id, by, join_at_ms: first.joinAtMs, reason }, now);
      await bots.appendDecision(trx, bot.id, now, 'provider_removal_requested', reason, { ...details, provider_bot_id: id, by, already_made: outcome.alreadyDone });
    });
    return DONE;
  }

  /**
   * What the lost creation made: the provider's answer to it sent again under its key (a creation
   * like any other, which the handover plan paces from), or, where the provider no longer replays
   * the key, its lookup (no bot id when it found none).
   */
  async #lookUpLostCreation(bot: BotRow, schedule: ScheduleRow, first: handovers.FirstSent, key: string, always: boolean): Promise<{ outcome: RuntimeOutcome; lookedUp: boolean }> {
    const { database, clock, runtime, publicUrl } = this.#o;
    const found = await runtime.scheduling?.findLostCreation?.(key, first.sentAtMs ?? 0, { always });
    // Past the join time nothing is sent again, whatever the provider says.
    if (!found && always) return { lookedUp: true, outcome: { ok: false, failure: 'permanent', retryAfterMs: null, message: `${this.#provider} did not look the bot up` } };
    if (found) return { lookedUp: true, outcome: found.ok ? { ok: true, alreadyDone: true, ...(found.providerBotId !== null ? { providerBotId: found.providerBotId } : {}) } : found };
    const request = buildLaunchRequest(schedule, { ...bot, join_at_ms: first.joinAtMs, meeting_url: first.meetingUrl, bot_config: first.botConfig }, await bots.listLinksOfBot(database.db, bot.id), publicUrl);
    request.idempotency_key = key;
    request.join_at = formatInstant(first.joinAtMs);
    await handovers.recordAttempts(database.db, this.#provider, [{ botId: bot.id, sent: first, key }], clock.now());
    return { lookedUp: false, outcome: await runtime.launch(request) };
  }

  async #giveUpChase(bot: BotRow, held: handovers.ProviderHandoverRow, key: string, why: string, details: Record<string, unknown>): Promise<Settle> {
    const { database, clock } = this.#o;
    const message = `A creation request to ${this.#provider} that got no answer (idempotency key ${key}) could not be checked: ${why}. If it made a bot, that bot is not Rollcall's to remove`;
    await handovers.forgetFirstSent(database.db, bot.id, clock.now());
    await this.#decide(bot.id, 'provider_removal_failed', message, details);
    this.#o.logger.warn({ botId: bot.id, provider: this.#provider, idempotencyKey: key, generation: held.generation }, 'an unanswered provider creation could not be checked');
    return { kind: 'failed', error: why };
  }

  /** The bot will not join (cancelled): the provider's bot goes, deleted or made to leave. */
  async #letGo(bot: BotRow, held: { id: string; joinAtMs: number }, now: number): Promise<void> {
    const { database } = this.#o;
    const action = decideLateEdit(this.#rules, now, held.joinAtMs, { kind: 'cancelled' });
    const by: RemovalKind = action.kind === 'remove' ? action.by : 'delete';
    await database.db.transaction().execute(async (trx) => {
      await bots.lockBots(trx, database.engine, [bot.id]);
      await handovers.retireProviderBot(trx, this.#provider, held.id, bot.id, action.reason, now);
      await requestProviderRetire(trx, { bot_id: bot.id, provider_bot_id: held.id, by, join_at_ms: held.joinAtMs, reason: action.reason }, now);
      await handovers.releaseHeld(trx, bot.id, now);
      await bots.appendDecision(trx, bot.id, now, 'provider_removal_requested', `${action.reason} (${this.#provider} bot ${held.id})`, { provider: this.#provider, provider_bot_id: held.id, by });
    });
  }

  async #retire(row: commands.RuntimeCommandRow, payload: ProviderRetirePayload): Promise<Settle> {
    const { runtime, clock } = this.#o;
    const id = payload.provider_bot_id;
    const details = { provider: this.#provider, provider_bot_id: id };
    // Made to leave, inside the delete cutoff: a provider that still deletes a bot it has not
    // started is asked to first, before each leave (leave reaches the bot only once it is joining,
    // which is the very thing a removal is for). Past the join time too: a provider running behind
    // starts a bot late (Attendee launches one up to five minutes after its join time), and until
    // then the bot is still deleted; one started answers the delete with a refusal, and leave follows.
    const isLateDelete = payload.by === 'leave' && this.#rules.deletesUntilStarted;
    if (payload.by === 'delete' || isLateDelete) {
      const deleted = await runtime.scheduling!.delete(id);
      if (deleted.ok) {
        await this.#decide(payload.bot_id, 'provider_bot_removed', `${this.#provider}'s bot ${id} was deleted${deleted.alreadyDone ? ' (it was already gone)' : isLateDelete ? ' (it had not been started yet)' : ''}`, details);
        return DONE;
      }
      if (deleted.failure !== 'permanent') return { kind: 'retry', atMs: this.#retryAt(row, deleted), error: deleted.message };
      if (deleted.isAuthFailure) return this.#giveUpRemoval(payload, deleted.message);
      // Started (dispatched, staged) meanwhile: only leaving reaches it now.
    }
    const live = runtime.live;
    if (!live) return this.#giveUpRemoval(payload, `${this.#provider} cannot make a bot leave`);
    const left = await live.leave(id);
    if (left.ok) {
      await this.#decide(payload.bot_id, 'provider_bot_removed', `${this.#provider}'s bot ${id} was made to leave`, details);
      return DONE;
    }
    if (left.failure !== 'permanent') return { kind: 'retry', atMs: this.#retryAt(row, left), error: left.message };
    if (left.isAuthFailure) return this.#giveUpRemoval(payload, left.message);
    // Not in a call yet (it is on its way, or waits for its join time): ask again once it may be,
    // at its join time while that is ahead (the old bot must not join next to its replacement).
    const now = clock.now();
    if (now >= payload.join_at_ms + RETIRE_WINDOW_MS) return this.#giveUpRemoval(payload, `it was never found in a call: ${left.message}`);
    const atMs = now < payload.join_at_ms
      ? Math.max(now + LEAVE_RETRY_BEFORE_JOIN_MIN_MS, Math.min(payload.join_at_ms, now + RETIRE_WINDOW_MS))
      : now + LEAVE_RETRY_MS;
    return { kind: 'retry', atMs, error: left.message, isWaiting: true };
  }

  async #giveUpRemoval(payload: ProviderRetirePayload, message: string): Promise<Settle> {
    await this.#decide(payload.bot_id, 'provider_removal_failed', `${this.#provider}'s bot ${payload.provider_bot_id} could not be removed: ${message}`, { provider: this.#provider, provider_bot_id: payload.provider_bot_id });
    return { kind: 'failed', error: message };
  }
}
