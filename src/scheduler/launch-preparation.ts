// Decide ahead, confirm at once. When rows are claimed, about two seconds before they come due,
// everything a launch needs is read and built: the bot, its linked events, whether its calendars
// still have access, the launch request, and (where the runtime can) the encoded and signed body.
// At the due instant the dispatcher only has to confirm, in one statement per batch, that nothing
// changed since (the bot's version) and send. A bot that did change, or that needs more than a
// plain launch (its meeting ended, a takeover, no runtime), is decided at the due instant from
// fresh data instead: the slow path, rare by construction.
import type { BotEventRow, BotRow, ScheduleRow } from '../db/schema.ts';
import type { Engine } from '../db/database.ts';
import type { BotRuntime, LaunchRequest, PreparedLaunch } from '../adapters/bot-runtimes/bot-runtime.ts';
import { formatInstant } from '../lib/time.ts';
import { linkedEventsOf } from '../services/scheduling/runtime-commands.ts';
import { readBotVersions } from '../store/firing-store.ts';
import type { Db } from '../store/event-store.ts';
import { findBotsWithoutCalendarAccess } from '../store/connection-store.ts';
import { findKeepers } from '../services/scheduling/meeting-keepers.ts';

/** A claimed row held on the dispatcher's timer. */
export interface Claimed {
  scheduleId: string;
  botId: string;
  dueAtMs: number;
  /** The end of the lease the claim wrote (the due time plus a lease, for a row claimed ahead). */
  leaseUntilMs: number;
  /** The row was already 'launching' under a dead holder: launch again, do not re-decide. */
  isTakeover: boolean;
  /**
   * A decision about this row failed, possibly after it committed (its answer lost, or a later
   * statement of the batch failing): the row may already be 'launching' under this dispatcher.
   */
  mayBeLaunching?: boolean;
  /** How many decisions about this row failed (each failure waits longer before the next try). */
  failures?: number;
  /** Ready to send at the due instant if the bot is still at `version`; null: decide then. */
  ready: ReadyLaunch | null;
}

export interface ReadyLaunch {
  /** The bot as it was read at claim time (for the Joining bookkeeping and its webhook). */
  bot: BotRow;
  /**
   * Its version then (the bot row's last change and its links' last change; every write to a bot
   * or a link sets its updated_at): any change since makes the launch go the slow path.
   */
  version: string;
  request: LaunchRequest;
  prepared: PreparedLaunch | null;
  /** When it was prepared: a preparation kept past PREPARED_LAUNCH_MAX_AGE_MS is not used. */
  preparedAtMs: number;
}

/**
 * A prepared launch carries a signature timestamp; one held this long (the database was down, say)
 * is encoded again at sending instead, well before receivers' five-minute tolerance would refuse it.
 */
export const PREPARED_LAUNCH_MAX_AGE_MS = 60_000;

/** Reads and builds what each claimed row needs; rows that cannot take the fast path get `ready: null`. */
export async function prepareClaimed(db: Db, engine: Engine, runtime: BotRuntime, rows: readonly ScheduleRow[], publicUrl: string, nowMs: number): Promise<Claimed[]> {
  const fresh = rows.filter((r) => r.state !== 'launching');
  const botIds = [...new Set(fresh.map((r) => r.bot_id))];
  const [botRows, versions, links, blocked] = botIds.length === 0 || !runtime.canLaunch
    ? [[], new Map<string, string>(), [], new Set<string>()] as const
    : await Promise.all([
      db.selectFrom('bots').selectAll().where('id', 'in', botIds).execute(),
      readBotVersions(db, botIds),
      db.selectFrom('bot_events').selectAll().where('bot_id', 'in', botIds).where('is_live', '=', 1).execute(),
      // A bot whose calendars all lost their access is not launched (the slow path cancels it).
      findBotsWithoutCalendarAccess(db, botIds),
    ]);
  const botsById = new Map(botRows.map((b) => [b.id, b]));
  const versionsById = versions;
  const linksByBot = Map.groupBy(links as BotEventRow[], (l) => l.bot_id);
  // An auto-scheduled bot that another bot of the user keeps the meeting from is decided at the
  // due instant, from fresh data (src/services/scheduling/meeting-keepers.ts).
  const keepers = await findKeepers(db, botRows as BotRow[], linksByBot);
  return rows.map((row) => {
    const claimed = unprepared(row, nowMs);
    const isTakeover = claimed.isTakeover;
    const bot = botsById.get(row.bot_id);
    const version = versionsById.get(row.bot_id);
    // A bot provider that takes a future join time gets its bots handed over ahead (bot-handover.ts),
    // paced under its creation limit: never a burst, so always the path that decides from fresh data.
    if (runtime.scheduling) return claimed;
    if (isTakeover || !bot || version === undefined || bot.status !== 'Scheduled' || bot.meeting_end_ms <= row.due_at_ms || blocked.has(bot.id) || keepers.has(bot.id)) return claimed;
    const request = buildLaunchRequest(row, bot, linksByBot.get(bot.id) ?? [], publicUrl);
    claimed.ready = { bot, version, request, prepared: runtime.prepareLaunch?.(request) ?? null, preparedAtMs: nowMs };
    return claimed;
  });
}

/** A claimed row as it is held without preparation: decided from fresh data when it is due (a takeover at once). */
export function unprepared(row: ScheduleRow, nowMs: number): Claimed {
  const isTakeover = row.state === 'launching';
  return { scheduleId: row.id, botId: row.bot_id, dueAtMs: isTakeover ? nowMs : row.due_at_ms, leaseUntilMs: Number(row.lease_until_ms ?? 0), isTakeover, ready: null };
}

export function buildLaunchRequest(schedule: Pick<ScheduleRow, 'idempotency_key' | 'status_token'>, bot: BotRow, links: readonly BotEventRow[], publicUrl: string): LaunchRequest {
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
