// Status changes and schedule moves shared by scheduling, management, firing and calendar sync.
// Each runs inside the caller's transaction and writes the status, the log and the webhook together.
import type { Insertable } from 'kysely';
import type { BotEventRow, BotEventsTable, BotRow } from '../../db/schema.ts';
import type { Engine } from '../../db/database.ts';
import { canTransition, isActive, isLive, type BotStatus } from '../../domain/bot-status.ts';
import type { DecisionKind } from '../../domain/decision-kinds.ts';
import { formatInstant } from '../../lib/time.ts';
import { randomToken } from '../../lib/ids.ts';
import * as bots from '../../store/bot-store.ts';
import { ApiError } from '../../errors.ts';
import { AUTO_SCHEDULE_KEY_PREFIX } from '../../domain/bot-config.ts';
import type { Db } from '../../store/event-store.ts';
import { MOVABLE_STATES } from '../../store/schedule-store.ts';
import { launchRetryAtMs } from '../../scheduler/backoff.ts';
import { enqueueStatusWebhook, enqueueStatusWebhooks, statusWebhook, statusWebhookRows } from '../webhooks/status-webhooks.ts';
import { requestProviderSync } from '../providers/provider-sync.ts';

/** Tells dispatchers, after a commit, that schedules changed (src/scheduler/schedule-signal.ts). */
export interface ScheduleChangeSignal {
  afterCommit(): void;
}

export const quietSignal: ScheduleChangeSignal = { afterCommit: () => {} };

/** The earliest join time over a bot's live links; never earlier than now. */
export function joinTimeFromLinks(links: readonly Pick<BotEventRow, 'start_ms'>[], nowMs: number, joinLeadMs: number): number {
  const earliestStart = Math.min(...links.map((l) => l.start_ms));
  return Math.max(nowMs, earliestStart - joinLeadMs);
}

/** Moves a scheduled bot's join time and its timer; logs and notifies only when it really moved. */
export async function moveBotJoinTime(trx: Db, bot: BotRow, joinAtMs: number, nowMs: number, reason: string): Promise<boolean> {
  if (bot.join_at_ms === joinAtMs) return false;
  await trx.updateTable('bots').set({ join_at_ms: joinAtMs, updated_at: nowMs }).where('id', '=', bot.id).execute();
  // A claimed timer goes back to pending: its dispatcher's in-memory copy is now stale, and the
  // conditional fire (markLaunching) will not find it claimed.
  await trx.updateTable('schedules').set({ due_at_ms: joinAtMs, state: 'pending', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
    .where('bot_id', '=', bot.id).where('state', 'in', MOVABLE_STATES).execute();
  await bots.appendDecision(trx, bot.id, nowMs, 'rescheduled', `${reason}: ${formatInstant(bot.join_at_ms)} -> ${formatInstant(joinAtMs)}`, { from: formatInstant(bot.join_at_ms), to: formatInstant(joinAtMs) });
  await enqueueStatusWebhook(trx, bot, { event: 'bot.rescheduled', status: 'Scheduled', message: `Bot will now join at ${formatInstant(joinAtMs)}`, statusCode: 200 }, nowMs);
  // A bot already handed to a provider moves there too (its timer is finished).
  await requestProviderSync(trx, bot, reason, nowMs);
  return true;
}

/**
 * Ends, as Stopped, a launched bot whose launch the runtime has not accepted (waiting to be
 * retried, or refused) and that is not to be launched again: `why` says what let go of it. An
 * attempt that got no answer may still have started the bot; the caller asks the runtime to stop it.
 */
export async function endLaunchNotAccepted(trx: Db, bot: BotRow, why: string, nowMs: number): Promise<void> {
  await transitionBot(trx, bot, 'Stopped', `${why}; the runtime had not accepted the bot's launch, which is not tried again`, nowMs, { decisionKind: 'stopped' });
}

/** Whether the bot's launch waits to be retried (Joining, its timer back to pending or claimed: the runtime has not taken it). */
export async function isLaunchWaitingForRetry(trx: Db, bot: Pick<BotRow, 'id' | 'status'>): Promise<boolean> {
  if (bot.status !== 'Joining') return false;
  const retry = await trx.selectFrom('schedules').select('id').where('bot_id', '=', bot.id).where('state', 'in', MOVABLE_STATES).executeTakeFirst();
  return retry !== undefined;
}

/**
 * Whether the bot has gone to its meeting: launched, still live, and its launch taken by the
 * runtime (its answer accepted the launch, or the runtime or bot provider reported it past
 * joining: in the waiting room, in the meeting, recording, leaving). A launch on the wire (its
 * answer not in yet) or waiting to be retried has not gone: the runtime may never take it. A
 * bot that has gone is in its meeting, or joining it, whatever time the calendar now gives the
 * meeting, and stays until its runtime reports that it left.
 */
export async function hasGoneToItsMeeting(trx: Db, bot: Pick<BotRow, 'id' | 'status' | 'launched_at'>): Promise<boolean> {
  if (bot.launched_at === null || !isActive(bot.status as BotStatus)) return false;
  if (bot.status !== 'Joining') return true;
  const untaken = await trx.selectFrom('schedules').select('id').where('bot_id', '=', bot.id).where('state', 'in', [...MOVABLE_STATES, 'launching']).executeTakeFirst();
  return untaken === undefined;
}

/**
 * Of the given events, those a bot that has gone to its meeting (hasGoneToItsMeeting) holds by a
 * live link: past its scheduled end, such an event is a meeting that may still be running, the
 * bot in it.
 */
export async function eventsWithBotInItsMeeting(db: Db, eventIds: readonly string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (let i = 0; i < eventIds.length; i += 500) {
    const links = await db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.event_id', 'bots.id', 'bots.status', 'bots.launched_at'])
      .where('bot_events.event_id', 'in', eventIds.slice(i, i + 500)).where('bot_events.is_live', '=', 1)
      .where('bots.launched_at', 'is not', null).where('bots.is_live', '=', 1).orderBy('bots.id').execute();
    for (const link of links) {
      if (!held.has(link.event_id) && await hasGoneToItsMeeting(db, link)) held.add(link.event_id);
    }
  }
  return held;
}

/**
 * The rows not over at `now`, and of those over, the ones a bot in its meeting holds
 * (eventsWithBotInItsMeeting): the meetings that may still be going on.
 */
export async function meetingsNotOver<T extends { id: string; end_ms: number }>(db: Db, rows: readonly T[], now: number): Promise<T[]> {
  const over = rows.filter((row) => row.end_ms <= now);
  const held = over.length === 0 ? new Set<string>() : await eventsWithBotInItsMeeting(db, over.map((row) => row.id));
  return rows.filter((row) => row.end_ms > now || held.has(row.id));
}

/**
 * A launched bot's meeting moved (a calendar change or an edit): it now ends at `meeting.endMs`,
 * and its join time, derived from its events as for a bot still waiting, is `meeting.joinAtMs`.
 * While its launch waits to be retried (Joining: the runtime has not taken it yet), the bot follows
 * the move: its meeting end, its join time when that is still to come (a meeting moved later: the
 * launch then carries the new scheduled time), and the retry's time, derived again as the later of
 * the time the retry asked for and the join time, held to the new end. A meeting moved later is
 * then not failed at the end it had, nor joined before it begins, nor tried sooner than the
 * runtime asked; one moved earlier does not wait past its new end, where the bot fails. The bot
 * stays Joining throughout (its launch, with its idempotency key, is the one the runtime refused):
 * one launch is tried again, never a second one started. A bot the runtime took (its timer done)
 * is the runtime's to follow (an update command).
 */
export async function followMeetingEnd(trx: Db, bot: BotRow, meeting: { endMs: number; joinAtMs: number }, nowMs: number): Promise<void> {
  if (bot.status !== 'Joining') return;
  // A launch in flight too: its result, if a failure, is held to the end the bot has then and
  // waits for the join time it has then.
  const retry = await trx.selectFrom('schedules').select(['id', 'state', 'due_at_ms', 'retry_asked_at_ms'])
    .where('bot_id', '=', bot.id).where('state', 'in', [...MOVABLE_STATES, 'launching']).executeTakeFirst();
  if (!retry) return;
  const oldEndMs = Number(bot.meeting_end_ms);
  // A join time already passed is the meeting having begun: the bot's own stays as it was.
  const oldJoinAtMs = Number(bot.join_at_ms);
  const joinAtMs = meeting.joinAtMs > nowMs || oldJoinAtMs > nowMs ? meeting.joinAtMs : oldJoinAtMs;
  if (meeting.endMs === oldEndMs && joinAtMs === Number(bot.join_at_ms)) return;
  await trx.updateTable('bots').set({ meeting_end_ms: meeting.endMs, join_at_ms: joinAtMs, updated_at: nowMs }).where('id', '=', bot.id).execute();
  if (retry.state === 'launching') return;
  const dueAtMs = Number(retry.due_at_ms);
  // The time the retry asked for. A due time before the old end was not held to it, and is the
  // time asked (a row written by a version that kept no asked time, a retry brought forward when
  // the runtime came back): a kept asked time may be older than it. One held to the end asked for
  // the end or later.
  const isJoinWait = dueAtMs === oldJoinAtMs && retry.retry_asked_at_ms !== null && Number(retry.retry_asked_at_ms) <= dueAtMs;
  const askedAtMs = isJoinWait ? Number(retry.retry_asked_at_ms) : dueAtMs < oldEndMs ? dueAtMs : Math.max(dueAtMs, Number(retry.retry_asked_at_ms ?? dueAtMs));
  const waitAtMs = Math.max(askedAtMs, joinAtMs);
  const retryAtMs = launchRetryAtMs(waitAtMs, meeting.endMs, nowMs);
  if (retryAtMs !== dueAtMs || askedAtMs !== Number(retry.retry_asked_at_ms ?? NaN)) {
    // A claimed row goes back to pending, as in moveBotJoinTime: its dispatcher's copy is stale.
    await trx.updateTable('schedules').set({ due_at_ms: retryAtMs, retry_asked_at_ms: askedAtMs, state: 'pending', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
      .where('id', '=', retry.id).where('state', 'in', MOVABLE_STATES).execute();
  }
  const what = [
    ...(joinAtMs !== Number(bot.join_at_ms) ? [`the bot now joins at ${formatInstant(joinAtMs)} (it was to join at ${formatInstant(Number(bot.join_at_ms))})`] : []),
    ...(meeting.endMs !== oldEndMs ? [`it now ends at ${formatInstant(meeting.endMs)} (it ended at ${formatInstant(oldEndMs)})`] : []),
  ].join(', and ');
  await bots.appendDecision(trx, bot.id, nowMs, 'launch_retry_moved',
    `The meeting moved: ${what}; the launch waiting to be retried is tried at ${formatInstant(retryAtMs)}${retryAtMs === meeting.endMs ? ', its end, where the bot fails unless the meeting lasts longer' : ''}`,
    { meeting_end: formatInstant(meeting.endMs), join_at: formatInstant(joinAtMs), retry_at: formatInstant(retryAtMs) });
}

/**
 * Moves a bot to a new status if the lifecycle allows it. A bot that stops being live releases
 * its deduplication key and its events, and its timer is closed.
 */
export async function transitionBot(trx: Db, bot: BotRow, to: BotStatus, reason: string, nowMs: number, extra: { decisionKind?: DecisionKind; webhookMessage?: string; kicked?: boolean } = {}): Promise<boolean> {
  const from = bot.status as BotStatus;
  if (!canTransition(from, to)) return false;
  await recordLaunchIfPending(trx, bot, nowMs);
  // Ending releases the deduplication key (the live-key index is partial on is_live, migration 012)
  // and places the bot on the Ended list (by ended_at_ms, migration 034).
  await trx.updateTable('bots').set({
    status: to, updated_at: nowMs, ...(to === 'Joining' ? { launched_at: nowMs } : {}), ...(isLive(to) ? {} : { is_live: 0, ended_at_ms: nowMs }),
  }).where('id', '=', bot.id).execute();
  await bots.appendStatusChange(trx, bot.id, nowMs, to, reason);
  if (extra.decisionKind) await bots.appendDecision(trx, bot.id, nowMs, extra.decisionKind, reason, { from, to });
  if (!isLive(to)) {
    await bots.endLinksOfBot(trx, bot.id, nowMs);
    // A bot that went to its meeting and finished there leaves the events that moved on past it
    // while it was in the meeting (their link followed the move) free to be booked again; not one
    // the client or the host removed (Stopped first). See #releaseMeetingsHeldBeforeAMove.
    if ((to === 'Done' || to === 'Error') && from !== 'Stopped' && bot.launched_at !== null) await bots.releaseLinksMovedOnPast(trx, bot.id, bot.launched_at, nowMs);
    await trx.updateTable('schedules').set({ state: to === 'Cancelled' ? 'cancelled' : 'done', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
      .where('bot_id', '=', bot.id).where('state', 'in', [...MOVABLE_STATES, 'launching']).execute();
  }
  await enqueueStatusWebhook(trx, bot, statusWebhook(to, extra.webhookMessage ?? reason, extra.kicked), nowMs);
  return true;
}

/** Cancels a bot that has not been launched (status Cancelled, timer gone, webhook). */
export async function cancelBotInTransaction(trx: Db, bot: BotRow, reason: string, nowMs: number): Promise<boolean> {
  const cancelled = await transitionBot(trx, bot, 'Cancelled', reason, nowMs, { decisionKind: 'cancelled' });
  // A bot already handed to a provider is removed there too.
  if (cancelled) await requestProviderSync(trx, bot, reason, nowMs);
  return cancelled;
}

/**
 * Scheduled -> Joining for many bots at once: the status only, in one statement. This is what the
 * dispatcher commits before a launch goes out, so that the API sees a launched bot as launched
 * (a cancel is then refused as bot_active). The rest of the record (status change, decision,
 * webhook) is written by recordLaunchStarts.
 */
export async function setBotsJoining(trx: Db, botIds: readonly string[], nowMs: number): Promise<void> {
  if (botIds.length === 0) return;
  await trx.updateTable('bots').set({ status: 'Joining', launched_at: nowMs, updated_at: nowMs }).where('id', 'in', botIds).where('status', '=', 'Scheduled').execute();
}

export interface LaunchStart {
  bot: Pick<BotRow, 'id' | 'user_id' | 'bot_config' | 'custom_attributes'>;
  reason: string;
  /** When the launch was decided (the record is dated then, even when written later). */
  atMs: number;
}

/**
 * The record of launches: the Joining status change, the `launched` decision and the
 * bot.joining webhook, for many bots in a handful of statements. The dispatcher writes it with
 * the launch's result, after the request is out (writing it first would put a transaction between
 * the timer and the wire). Written once per bot whoever gets there first: anything written to a
 * launched bot's log in the meantime writes it first (recordLaunchIfPending), so the timeline and
 * the webhooks stay in order. Callers hold the bots' locks on PostgreSQL, so that two writers do
 * not both find it missing.
 */
export async function recordLaunchStarts(trx: Db, starts: readonly LaunchStart[]): Promise<void> {
  if (starts.length === 0) return;
  const recorded = new Set<string>();
  for (let i = 0; i < starts.length; i += 500) {
    const rows = await trx.selectFrom('bot_status_changes').select('bot_id')
      .where('bot_id', 'in', starts.slice(i, i + 500).map((s) => s.bot.id)).where('status', '=', 'Joining').execute();
    for (const row of rows) recorded.add(row.bot_id);
  }
  const missing: LaunchStart[] = [];
  for (const start of starts) {
    if (recorded.has(start.bot.id)) continue;
    recorded.add(start.bot.id);
    missing.push(start);
  }
  for (let i = 0; i < missing.length; i += 500) {
    const chunk = missing.slice(i, i + 500);
    await trx.insertInto('bot_status_changes').values(chunk.map((s) => ({ bot_id: s.bot.id, at_ms: s.atMs, status: 'Joining', reason: s.reason }))).execute();
    await trx.insertInto('bot_decisions').values(chunk.map((s) => ({ bot_id: s.bot.id, at_ms: s.atMs, kind: 'launched', reason: s.reason, details: JSON.stringify({ from: 'Scheduled', to: 'Joining' }) }))).execute();
    // Dated when the launch was decided; a batch shares one instant.
    for (const [atMs, group] of Map.groupBy(chunk, (s) => s.atMs)) {
      await enqueueStatusWebhooks(trx, group.map((s) => ({ bot: s.bot, webhook: statusWebhook('Joining', 'Bot is joining the meeting') })), atMs);
    }
  }
}

/**
 * For a bot the dispatcher launched whose record it has not written yet (it writes it with the
 * launch's result): writes it now, before whatever the caller writes to the bot's log next (a
 * status change, a runtime command). The caller holds the bot's lock.
 */
export async function recordLaunchIfPending(trx: Db, bot: BotRow, nowMs: number): Promise<void> {
  if (bot.status !== 'Joining') return;
  await recordLaunchStarts(trx, [{ bot, reason: 'Launched through the bot runtime', atMs: bot.launched_at ?? nowMs }]);
}

/** Scheduled -> Joining with its whole record at once (the dispatcher's slow path). */
export async function markBotsJoining(trx: Db, launches: { bot: BotRow; reason: string }[], nowMs: number): Promise<void> {
  if (launches.length === 0) return;
  await setBotsJoining(trx, launches.map((l) => l.bot.id), nowMs);
  await recordLaunchStarts(trx, launches.map((l) => ({ bot: l.bot, reason: l.reason, atMs: nowMs })));
}

/**
 * Writes a new Scheduled bot with its durable timer: the bot, its link to an event (calendar
 * bots), its schedule row, a `scheduled` decision, the Scheduled status change and (unless
 * `webhookMessage` is null) the bot.scheduled webhook, together (bots.insertNewBot: one statement
 * on PostgreSQL). Calendar bots and ad-hoc bots are both created here, so both are fired, logged
 * and reported the same way.
 */
export async function insertScheduledBot(
  trx: Db,
  engine: Engine,
  bot: BotRow,
  schedule: { id: string; group: string },
  log: { reason: string; details: Record<string, unknown>; statusReason: string; webhookMessage: string | null },
  nowMs: number,
  link: Insertable<BotEventsTable> | null = null,
): Promise<void> {
  await bots.insertNewBot(trx, engine, {
    bot,
    link,
    schedule: {
      id: schedule.id, bot_id: bot.id, user_id: bot.user_id, schedule_group: schedule.group, due_at_ms: bot.join_at_ms, state: 'pending',
      attempts: 0, lease_owner: null, lease_until_ms: null, idempotency_key: `launch-${bot.id}`, status_token: `bst_${randomToken(32)}`, last_error: null, created_at: nowMs, updated_at: nowMs,
    },
    decision: { bot_id: bot.id, at_ms: nowMs, kind: 'scheduled', reason: log.reason, details: JSON.stringify(log.details) },
    statusChange: { bot_id: bot.id, at_ms: nowMs, status: 'Scheduled', reason: log.statusReason },
    webhooks: log.webhookMessage === null ? [] : statusWebhookRows([{ bot, webhook: statusWebhook('Scheduled', log.webhookMessage) }], nowMs),
  });
}

/**
 * A client's request naming one of auto-schedule's keys: they are what makes a bot auto-schedule's
 * (one it may take back when the meeting stops passing the rules), so no client may use one.
 */
export function autoScheduleKeyRefused(): ApiError {
  return new ApiError('invalid_deduplication_key', `deduplication_key: keys starting with "${AUTO_SCHEDULE_KEY_PREFIX}" are auto-schedule's own`, { details: { field: 'deduplication_key' } });
}
