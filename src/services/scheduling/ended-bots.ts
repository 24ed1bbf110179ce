// What happened: the user's bots that have ended (done, failed, cancelled), the latest to end first,
// with the meeting they were for and why each ended, filtered by outcome and calendar and paged.
import type { Kysely } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import { decodeCursor, encodeCursor } from '../paging-cursor.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import { outcomeOf, statusesOfOutcome, type BotStatus, type EndedOutcome } from '../../domain/bot-status.ts';
import { isLiveBot } from '../../store/bot-store.ts';
import { actionOriginOf, type ActionOrigin } from '../../domain/action-origin.ts';
import { listTitledEventsOfBots } from '../../store/event-store.ts';

export interface EndedBot {
  bot_id: string;
  status: string;
  outcome: EndedOutcome;
  platform: string | null;
  meeting_url: string;
  bot_name: string;
  scheduled_join_time: string;
  /** When it reached its status; null for a bot whose change was never recorded (rows from before the log). */
  ended_at: string | null;
  /** The reason given with that change (the runtime's error, the cancellation's cause); '' when none was. */
  end_reason: string;
  /** When its stored data was deleted: its meeting link, name, events and end reason are gone; null while it has them. */
  data_deleted_at: string | null;
  /** The events it was for. An ended bot lets go of its events, so most are no longer linked; the meeting still names it. */
  /** `all_day_zone`: for an all-day event (or occurrence), the zone whose midnights its times are (allDayZone); null otherwise. */
  events: { event_id: string; title: string | null; calendar_id: string | null; start_time: string; is_linked: boolean; is_all_day: boolean; all_day_zone: string | null }[];
  /** What booked it (GET /bots/{bot_id}'s origin); null for a bot booked before origins were stored whose history did not say. */
  origin: ActionOrigin | null;
}

export interface EndedQuery {
  /** One of ENDED_OUTCOMES (the route's schema checks it). */
  outcome?: EndedOutcome;
  /** Only bots for an event of this calendar connection, linked still or not. */
  calendar_id?: string;
  limit?: number;
  cursor?: string;
}

/** Where a page of ended bots ends: the last bot's end, join time and id. */
interface EndedPosition {
  endedMs: number;
  joinMs: number;
  id: string;
}

/**
 * Ended bots are paged by the time they ended, latest first, then by join time, soonest first, then
 * id. The keys are their own ('f', 'j'), so another listing's cursor is refused, and so are the ones
 * from when they were paged by join time alone ('e') or by end time and id ('d').
 */
const endedCursor = {
  encode: (p: EndedPosition): string => encodeCursor({ f: p.endedMs, j: p.joinMs, i: p.id }),
  decode: (cursor: string): EndedPosition => decodeCursor(cursor, (v) => (
    Number.isSafeInteger(v.f) && Number.isSafeInteger(v.j) && typeof v.i === 'string' ? { endedMs: v.f as number, joinMs: v.j as number, id: v.i } : null
  )),
};

export class EndedBots {
  readonly #db: Kysely<Schema>;

  constructor(deps: { db: Kysely<Schema> }) {
    this.#db = deps.db;
  }

  /**
   * Ended bots, the latest to end first (a bot cancelled ahead of a later meeting is listed when it
   * was cancelled); bots that ended at the same instant (a series cancelled from a date) the soonest
   * meeting first. Pages are keyed on (end time, join time, bot id), read on the index (user,
   * ended_at_ms descending, join_at_ms, id) from the cursor on: a bot that ends while the list is
   * paged ends after every bot listed, so it comes before the page shown, and none repeats or goes
   * missing. An ended bot's join time no longer changes.
   */
  async list(userId: string, query: EndedQuery): Promise<{ bots: EndedBot[]; next: string | null; has_more: boolean }> {
    const limit = query.limit ?? 50;
    const after = query.cursor !== undefined ? endedCursor.decode(query.cursor) : null;
    let q = this.#db.selectFrom('bots').select(['id', 'status', 'meeting_platform', 'meeting_url', 'bot_config', 'join_at_ms', 'data_deleted_at', 'ended_at_ms', 'origin'])
      .where('user_id', '=', userId).where('ended_at_ms', 'is not', null);
    q = query.outcome !== undefined ? q.where('status', 'in', [...statusesOfOutcome(query.outcome)]) : q.where((eb) => eb.not(isLiveBot()));
    if (query.calendar_id !== undefined) {
      // An ended bot has let go of its events: any link counts, as the list shows them. A bot
      // whose data was deleted shows none, and matches no calendar.
      const calendarId = query.calendar_id;
      q = q.where('data_deleted_at', 'is', null).where(({ exists, selectFrom }) => exists(
        selectFrom('bot_events as be').innerJoin('events as e', 'e.id', 'be.event_id').select('be.id')
          .whereRef('be.bot_id', '=', 'bots.id').where('e.calendar_id', '=', calendarId),
      ));
    }
    if (after) {
      // The first condition alone bounds the index range; the second breaks ties.
      q = q.where('ended_at_ms', '<=', after.endedMs).where((eb) => eb.or([
        eb('ended_at_ms', '<', after.endedMs),
        eb.and([eb('ended_at_ms', '=', after.endedMs), eb.or([
          eb('join_at_ms', '>', after.joinMs),
          eb.and([eb('join_at_ms', '=', after.joinMs), eb('id', '>', after.id)]),
        ])]),
      ]));
    }
    const rows = await q.orderBy('ended_at_ms', 'desc').orderBy('join_at_ms', 'asc').orderBy('id', 'asc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const ids = page.map((b) => b.id);
    // A bot whose data was deleted keeps its links only so that no sync books its event again (as its detail).
    const withData = page.filter((b) => b.data_deleted_at === null).map((b) => b.id);
    const [links, changes] = await Promise.all([
      listTitledEventsOfBots(this.#db, userId, withData),
      ids.length === 0 ? [] : this.#db.selectFrom('bot_status_changes').select(['bot_id', 'status', 'reason', 'at_ms'])
        .where('bot_id', 'in', ids).orderBy('id').execute(),
    ]);
    const linksByBot = Map.groupBy(links, (l) => l.bot_id);
    const changesByBot = Map.groupBy(changes, (c) => c.bot_id);
    const last = page.at(-1);
    return {
      bots: page.map((bot) => {
        const config = JSON.parse(bot.bot_config) as { bot_name?: string };
        // The change that brought it to its status: a later ending reported after the first changes nothing.
        const ending = changesByBot.get(bot.id)?.findLast((c) => c.status === bot.status);
        return {
          bot_id: bot.id,
          status: bot.status,
          // Stored statuses are the lifecycle's own, and none of these is live.
          outcome: outcomeOf(bot.status as BotStatus)!,
          platform: bot.meeting_platform,
          meeting_url: bot.meeting_url,
          bot_name: config.bot_name ?? '',
          scheduled_join_time: formatInstant(bot.join_at_ms),
          ended_at: formatOptionalInstant(ending?.at_ms ?? null),
          end_reason: ending?.reason ?? '',
          data_deleted_at: formatOptionalInstant(bot.data_deleted_at),
          events: (linksByBot.get(bot.id) ?? []).map((l) => ({
            event_id: l.event_id, title: l.title, calendar_id: l.calendar_id, start_time: formatInstant(l.start_ms), is_linked: l.is_live === 1,
            is_all_day: l.all_day_zone !== null, all_day_zone: l.all_day_zone,
          })),
          origin: actionOriginOf(bot.origin),
        };
      }),
      next: rows.length > limit && last ? endedCursor.encode({ endedMs: last.ended_at_ms!, joinMs: last.join_at_ms, id: last.id }) : null,
      has_more: rows.length > limit,
    };
  }
}
