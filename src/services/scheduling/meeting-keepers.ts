// At the launch, an auto-scheduled bot that a calendar change brought to where another bot of the
// user goes (same meeting, a live link at the same start) gives way to it: the rule is
// src/domain/meeting-keeper.ts. Nothing is decided earlier, so a change taken back before the
// meeting leaves each bot where it was. The dispatcher asks here when it prepares a launch (such a
// bot is then decided from fresh data) and when it decides one.
import type { BotEventRow, BotRow } from '../../db/schema.ts';
import type { Engine } from '../../db/database.ts';
import { isAutoScheduledBot } from '../../domain/bot-config.ts';
import { givesWayTo, type BotInMeeting } from '../../domain/meeting-keeper.ts';
import { formatInstant } from '../../lib/time.ts';
import * as bots from '../../store/bot-store.ts';
import type { Db } from '../../store/event-store.ts';
import { deferLaunch } from '../../store/schedule-store.ts';
import { recordLaunchIfPending, transitionBot } from './bot-lifecycle.ts';
import { requestProviderSync } from '../providers/provider-sync.ts';

/**
 * Where the bot another gives way to stands: `scheduled` (not launched yet), `sending` (its launch
 * is out, not yet accepted by the runtime), `accepted` (the runtime or provider took it, or it
 * reported a status since), or `failing` (a launch attempt of it failed and it is trying again).
 */
export type KeeperState = 'scheduled' | 'sending' | 'accepted' | 'failing';

/** The bot another gives way to, as it was read. */
export interface Keeper {
  id: string;
  state: KeeperState;
  joinAtMs: number;
}

/** A bot waiting for a keeper on its way (its launch out, not yet answered) looks again this soon. */
export const KEEPER_ANSWER_RECHECK_MS = 2000;
/** A bot waiting for a keeper to launch looks again this long after the keeper's join time... */
export const KEEPER_JOIN_RECHECK_MS = 2000;
/** ...and at least this often meanwhile, so that a keeper cancelled or moved away is noticed. */
export const KEEPER_LONGEST_WAIT_MS = 30_000;
/** A keeper whose join time has passed without its launch (it waits itself): looked at this often. */
export const KEEPER_OVERDUE_RECHECK_MS = 5000;

/**
 * Rivals are looked for among bots whose join time lies within a day of the shared start: a join
 * time is the start less a lead of minutes, or one the client chose, which is within its meeting.
 */
const JOIN_WINDOW_MS = 86_400_000;

/**
 * For each auto-scheduled bot among `candidates` that is still to be launched, the bot it gives way
 * to, if any: a live bot of the same user with the same meeting identity and a live link at one of
 * its links' starts, that ranks before it. One query for the whole batch, and none at all when no
 * candidate is auto-scheduled (the common case of a burst).
 */
export async function findKeepers(db: Db, candidates: readonly BotRow[], linksByBot: ReadonlyMap<string, readonly BotEventRow[]>): Promise<Map<string, Keeper>> {
  const yielding = candidates.filter((b) => b.status === 'Scheduled' && b.provider_bot_id === null && isAutoScheduledBot(b) && (linksByBot.get(b.id)?.length ?? 0) > 0);
  const keepers = new Map<string, Keeper>();
  if (yielding.length === 0) return keepers;
  const starts = [...new Set(yielding.flatMap((b) => linksByBot.get(b.id)!.map((l) => Number(l.start_ms))))];
  const rows = await db.selectFrom('bots').innerJoin('bot_events', 'bot_events.bot_id', 'bots.id').leftJoin('schedules', 'schedules.bot_id', 'bots.id')
    .select(['bots.id', 'bots.user_id', 'bots.meeting_identity', 'bots.deduplication_key', 'bots.custom_attributes', 'bots.created_at', 'bots.status', 'bots.launched_at', 'bots.provider_bot_id', 'bots.join_at_ms', 'bot_events.start_ms', 'schedules.state as schedule_state', 'schedules.last_error'])
    .where('bots.user_id', 'in', [...new Set(yielding.map((b) => b.user_id))])
    .where('bots.meeting_identity', 'in', [...new Set(yielding.map((b) => b.meeting_identity))])
    .where('bots.join_at_ms', '>=', Math.min(...starts) - JOIN_WINDOW_MS).where('bots.join_at_ms', '<=', Math.max(...starts) + JOIN_WINDOW_MS)
    .where('bots.is_live', '=', 1).where('bot_events.is_live', '=', 1)
    .where('bot_events.start_ms', 'in', starts)
    .execute();
  const inMeeting = new Map<string, Map<string, BotInMeeting & { joinAtMs: number; state: KeeperState }>>();
  for (const row of rows) {
    const place = meetingPlace(row.user_id, row.meeting_identity, Number(row.start_ms));
    const there = inMeeting.get(place) ?? new Map();
    const state = keeperStateOf(row);
    there.set(row.id, { id: row.id, isAutoScheduled: isAutoScheduledBot(row), isLaunched: state !== 'scheduled', createdAtMs: Number(row.created_at), joinAtMs: Number(row.join_at_ms), state });
    inMeeting.set(place, there);
  }
  for (const bot of yielding) {
    const others = new Map<string, BotInMeeting & { joinAtMs: number; state: KeeperState }>();
    for (const link of linksByBot.get(bot.id)!) {
      for (const other of inMeeting.get(meetingPlace(bot.user_id, bot.meeting_identity, Number(link.start_ms)))?.values() ?? []) others.set(other.id, other);
    }
    const self: BotInMeeting = { id: bot.id, isAutoScheduled: true, isLaunched: false, createdAtMs: Number(bot.created_at) };
    // A bot whose launch (or handover) is failing keeps nobody's meeting: a second bot is better
    // than none. The next in rank may, then.
    const keeper = givesWayTo(self, [...others.values()].filter((o) => o.state !== 'failing'));
    if (keeper) keepers.set(bot.id, { id: keeper.id, state: others.get(keeper.id)!.state, joinAtMs: others.get(keeper.id)!.joinAtMs });
  }
  return keepers;
}

function keeperStateOf(row: { status: string; launched_at: number | null; provider_bot_id: string | null; schedule_state: string | null; last_error: string | null }): KeeperState {
  if (row.provider_bot_id !== null) return 'accepted';
  // A handover to a bot provider that failed leaves its bot Scheduled, its timer waiting to retry.
  if (row.status === 'Scheduled') return row.last_error === null || row.schedule_state === 'done' ? 'scheduled' : 'failing';
  if (row.status !== 'Joining' || row.schedule_state === 'done') return 'accepted';
  return row.last_error === null ? 'sending' : 'failing';
}

function meetingPlace(userId: string, meetingIdentity: string, startMs: number): string {
  return `${userId}\n${meetingIdentity}\n${startMs}`;
}

/**
 * In the fire transaction, with `bot` locked: the bot gives way to `keeper`. A keeper the runtime
 * (or bot provider) has taken takes the bot's events (their links move to it) and the bot is
 * cancelled, saying which bot joins instead. Otherwise the bot waits: its launch is put off and
 * decided again, just after the keeper's join time (at least every 30 s meanwhile, so that a
 * keeper cancelled or moved away is noticed), or 2 s on when the keeper's launch is out but not yet
 * answered. `holdHandover` keeps a bot provider's handover plan from placing the launch again
 * before then. Answers whether the bot was cancelled.
 *
 * The keeper is locked only if nobody holds it (never waiting, so the lock order of the fire path,
 * one bot after another in id order, cannot deadlock); one that is held right now is tried again
 * a moment later, as is one that is no longer live (the next look finds another keeper or none).
 */
export async function giveWay(trx: Db, engine: Engine, owner: string, scheduleId: string, bot: BotRow, keeper: Keeper, nowMs: number, holdHandover?: (untilMs: number) => Promise<void>): Promise<'cancelled' | 'waiting'> {
  // The plan is held for the whole wait (placed again meanwhile, the bot would be looked at each
  // time); the timer comes back sooner to look.
  const wait = async (recheckAtMs: number, planHeldUntilMs = recheckAtMs) => {
    await deferLaunch(trx, owner, scheduleId, recheckAtMs, nowMs);
    await holdHandover?.(planHeldUntilMs);
  };
  if (keeper.state !== 'accepted') {
    if (keeper.state === 'sending') await wait(nowMs + KEEPER_ANSWER_RECHECK_MS);
    else if (keeper.joinAtMs > nowMs) await wait(Math.min(keeper.joinAtMs + KEEPER_JOIN_RECHECK_MS, nowMs + KEEPER_LONGEST_WAIT_MS), keeper.joinAtMs + KEEPER_JOIN_RECHECK_MS);
    else await wait(nowMs + KEEPER_OVERDUE_RECHECK_MS);
    // Said once per keeper, however many looks the wait takes.
    const said = await trx.selectFrom('bot_decisions').select('details').where('bot_id', '=', bot.id).where('kind', '=', 'waiting_for_keeper').execute();
    if (said.some((d) => (JSON.parse(d.details) as { keeper_bot_id?: string }).keeper_bot_id === keeper.id)) return 'waiting';
    await bots.appendDecision(trx, bot.id, nowMs, 'waiting_for_keeper',
      `Bot ${keeper.id} goes to this meeting (${bot.meeting_identity}) at the same time and the runtime has not taken its launch yet: this bot waits, then hands it its events once it has, or launches if it no longer goes there or its launch fails`,
      { keeper_bot_id: keeper.id });
    return 'waiting';
  }
  const locked = await bots.lockBotsSkippingBusy(trx, engine, [keeper.id]);
  const current = locked.has(keeper.id) ? await bots.findBotById(trx, keeper.id) : undefined;
  if (!current || current.is_live !== 1) {
    await wait(nowMs + KEEPER_ANSWER_RECHECK_MS);
    return 'waiting';
  }
  // The keeper's own launch record comes first in its log (a launch's record may still be pending).
  await recordLaunchIfPending(trx, current, nowMs);
  const links = await bots.listLiveLinksOfBot(trx, bot.id);
  // Its events let go of it while it is live (they go to the keeper); its cancellation below ends none.
  await bots.letGoLinksOfBot(trx, bot.id, nowMs);
  if (links.length > 0) {
    await trx.insertInto('bot_events').values(links.map((l) => ({
      bot_id: current.id, user_id: current.user_id, event_id: l.event_id, occurrence_key: l.occurrence_key,
      start_ms: l.start_ms, end_ms: l.end_ms, is_live: 1, created_at: nowMs, updated_at: nowMs,
    }))).execute();
  }
  const meetingEndMs = Math.max(Number(current.meeting_end_ms), ...links.map((l) => Number(l.end_ms)));
  if (meetingEndMs > Number(current.meeting_end_ms)) await trx.updateTable('bots').set({ meeting_end_ms: meetingEndMs }).where('id', '=', current.id).execute();
  await bots.bumpVersion(trx, current.id, nowMs);
  for (const link of links) {
    await bots.appendDecision(trx, current.id, nowMs, 'shared_with_event',
      `Event ${link.event_id} is the same meeting (${current.meeting_identity}) at the same time; bot ${bot.id}, booked for it by auto-schedule, gave way to this bot at its launch`,
      { event_id: link.event_id, occurrence_key: link.occurrence_key, from_bot_id: bot.id });
  }
  const reason = `Bot ${current.id} is already on its way to this meeting (${bot.meeting_identity}) at the same time: this bot's events are now linked to it, so that one bot joins`;
  await transitionBot(trx, bot, 'Cancelled', reason, nowMs, { decisionKind: 'gave_way', webhookMessage: `Another bot (${current.id}) joins this meeting instead` });
  // A handover of this bot whose answer never came may have made a bot at the provider: it is looked for and removed.
  await requestProviderSync(trx, bot, reason, nowMs);
  return 'cancelled';
}
