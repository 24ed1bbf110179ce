// What is about to join: the user's live bots with where they came from (API, calendar,
// auto-schedule), filtered by status and calendar and paged; and how many launch in each minute
// of the next hours, which is where the top-of-the-hour spikes show.
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import { positionCursor } from '../paging-cursor.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant } from '../../lib/time.ts';
import { isAutoScheduledBot } from '../../domain/bot-config.ts';
import { actionOriginOf, type ActionOrigin } from '../../domain/action-origin.ts';
import { isLiveBot, isLiveFlag } from '../../store/bot-store.ts';
import { findBotsWithoutCalendarAccess, listUnreadableCalendarsOfBots } from '../../store/connection-store.ts';
import { listTitledEventsOfBots } from '../../store/event-store.ts';

/** Where a bot came from, as the dashboard shows it. */
export type BotSource = 'api' | 'calendar' | 'auto_schedule';

export interface UpcomingBot {
  bot_id: string;
  status: string;
  platform: string | null;
  meeting_url: string;
  bot_name: string;
  scheduled_join_time: string;
  source: BotSource;
  /**
   * Its live links; a bot that has none left (its meeting left the calendar while the bot was in
   * it) lists those it had, with is_linked false, so that the row can still name its meeting.
   */
  events: UpcomingEvent[];
  /** Why the bot will be cancelled at its join time unless something changes first; null when it will not. */
  at_risk: AtRisk | null;
  /** Launch attempts the runtime refused or did not answer, while they are being retried; null otherwise. */
  launch_failing: LaunchFailing | null;
  /** What booked it (GET /bots/{bot_id}'s origin); null for a bot booked before origins were stored whose history did not say. */
  origin: ActionOrigin | null;
}

/** An event (or one occurrence of a series) an upcoming bot is or was for. */
export interface UpcomingEvent {
  event_id: string;
  title: string | null;
  calendar_id: string | null;
  start_time: string;
  is_linked: boolean;
  /** An all-day event (or an occurrence of an all-day series). */
  is_all_day: boolean;
  /** For an all-day one, the zone whose midnights its times and its occurrences' keys are (allDayZone); null otherwise. */
  all_day_zone: string | null;
}

/** A launch being retried: how many attempts failed, the last one's cause, and when the next is due. */
export interface LaunchFailing {
  attempts: number;
  last_error: string;
  next_attempt_at: string;
  /**
   * The runtime asked to wait past the meeting's end: next_attempt_at is that end, where the bot
   * fails (Error) without another attempt, unless the meeting moves later first.
   */
  fails_at_meeting_end: boolean;
}

export interface UpcomingQuery {
  /** One of the live statuses (the route's schema checks it). */
  status?: string;
  calendar_id?: string;
  limit?: number;
  cursor?: string;
}

export interface LaunchHistogram {
  from: string;
  to: string;
  bucket_minutes: number;
  buckets: { start: string; launches: number }[];
  total: number;
  peak: { start: string; launches: number } | null;
  /** The runtime's declared launch limit per minute, where it declares one. */
  launch_limit_per_minute: number | null;
}

/**
 * Why a waiting bot will not join unless something changes first. One risk is known: every event
 * the bot is linked to is on a calendar Rollcall can no longer read (a revoked connection, or a
 * calendar refusing its reader), and the bot is cancelled at its join time with this reason code
 * unless access returns before then (spec section 12).
 */
export interface AtRisk {
  reason: 'calendar_access_revoked';
  /** The calendars it cannot be read from, and why each (so that it says which one to connect again). */
  calendars: AtRiskCalendar[];
}

/** A calendar an at-risk bot's meeting is on, which Rollcall cannot read. */
export interface AtRiskCalendar {
  /** The connection (cal_...), as GET /calendar/connections lists it. */
  calendar_id: string;
  provider: 'ics' | 'google' | 'outlook';
  /** The account's address (Google, Outlook), or the feed's address without its path and query, which usually hold its secret (ICS; as the connection's `ics_url` shows it). */
  account: string | null;
  /** The provider's id for the calendar within the account; null for a feed. */
  provider_calendar_id: string | null;
  /** The calendar's own name, as the provider gives it; null when it has none. */
  name: string | null;
  /** connection_revoked: the whole connection lost its access; calendar_refused: this calendar refuses its reader or is gone. */
  cause: 'connection_revoked' | 'calendar_refused';
}

/** Upcoming bots are paged by join time, then id (cursors as the management listing's). */
const upcomingCursor = positionCursor('j');

export class UpcomingBots {
  readonly #db: Kysely<Schema>;
  readonly #clock: Clock;
  readonly #launchLimitPerMinute: number | null;

  constructor(deps: { db: Kysely<Schema>; clock: Clock; launchLimitPerMinute?: number | null }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#launchLimitPerMinute = deps.launchLimitPerMinute ?? null;
  }

  /**
   * Live bots soonest first. Pages are keyed on (join time, bot id), so bots added or removed
   * between pages never make another one repeat or go missing.
   */
  async list(userId: string, query: UpcomingQuery): Promise<{ bots: UpcomingBot[]; next: string | null; has_more: boolean }> {
    const limit = query.limit ?? 50;
    const after = query.cursor !== undefined ? upcomingCursor.decode(query.cursor) : null;
    let q = this.#db.selectFrom('bots').select(['id', 'status', 'meeting_platform', 'meeting_url', 'bot_config', 'join_at_ms', 'deduplication_key', 'custom_attributes', 'origin'])
      // The flag beside the statuses: the live bots' own index (bots_user_live_join), not every bot the user ever had.
      .where('user_id', '=', userId).where(isLiveFlag()).where(isLiveBot());
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.calendar_id !== undefined) {
      const calendarId = query.calendar_id;
      // The bots whose row names the calendar: a live link to one of its events, or, for a bot
      // with no live link left (its row lists the events it had), any link to one.
      q = q.where(({ exists, not, or, selectFrom }) => exists(
        selectFrom('bot_events as be').innerJoin('events as e', 'e.id', 'be.event_id').select('be.id')
          .whereRef('be.bot_id', '=', 'bots.id').where('e.calendar_id', '=', calendarId)
          .where(or([
            isLiveFlag('be.is_live'),
            not(exists(selectFrom('bot_events as held').select('held.id').whereRef('held.bot_id', '=', 'bots.id').where(isLiveFlag('held.is_live')))),
          ])),
      ));
    }
    if (after) {
      q = q.where((eb) => eb.or([eb('join_at_ms', '>', after.ms), eb.and([eb('join_at_ms', '=', after.ms), eb('id', '>', after.id)])]));
    }
    const rows = await q.orderBy('join_at_ms').orderBy('id').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    // Ended links too: where a bot's meeting came from outlives them (sourceOf).
    const links = await listTitledEventsOfBots(this.#db, userId, page.map((b) => b.id));
    const linksByBot = Map.groupBy(links, (l) => l.bot_id);
    // One query for the page, as the dispatcher asks it at the join time (spec section 12).
    const atRisk = await findAtRisk(this.#db, page.filter((b) => b.status === 'Scheduled').map((b) => b.id));
    const failing = await findFailingLaunches(this.#db, page.filter((b) => b.status === 'Joining').map((b) => b.id));
    const last = page.at(-1);
    return {
      bots: page.map((bot) => {
        const all = (linksByBot.get(bot.id) ?? []).map((l): UpcomingEvent => ({
          event_id: l.event_id, title: l.title, calendar_id: l.calendar_id, start_time: formatInstant(l.start_ms),
          is_linked: l.is_live === 1, is_all_day: l.all_day_zone !== null, all_day_zone: l.all_day_zone,
        }));
        const live = all.filter((e) => e.is_linked);
        const events = live.length > 0 ? live : all;
        const config = JSON.parse(bot.bot_config) as { bot_name?: string };
        return {
          bot_id: bot.id,
          status: bot.status,
          platform: bot.meeting_platform,
          meeting_url: bot.meeting_url,
          bot_name: config.bot_name ?? '',
          scheduled_join_time: formatInstant(bot.join_at_ms),
          source: sourceOf(bot, all),
          events,
          at_risk: atRiskOf(bot, atRisk),
          launch_failing: failing.get(bot.id) ?? null,
          origin: actionOriginOf(bot.origin),
        };
      }),
      next: rows.length > limit && last ? upcomingCursor.encode(last.join_at_ms, last.id) : null,
      has_more: rows.length > limit,
    };
  }


  /**
   * Live bots per bucket of join time, from the start of the current bucket for `hours`. Every
   * bucket is listed, empty ones too, so a chart can draw the axis from the data alone.
   */
  async launchHistogram(userId: string, query: { hours?: number; bucket_minutes?: number }): Promise<LaunchHistogram> {
    const hours = query.hours ?? 6;
    const bucketMinutes = query.bucket_minutes ?? 1;
    const bucketMs = bucketMinutes * 60_000;
    const fromMs = Math.floor(this.#clock.now() / bucketMs) * bucketMs;
    const toMs = fromMs + hours * 3_600_000;
    // Literals, not parameters: PostgreSQL would see "(x - $1) / $2" in the select list and a
    // grouping on another parameter as different expressions. Both are integers computed here.
    const bucket = sql<number>`(${sql.ref('join_at_ms')} - ${sql.lit(fromMs)}) / ${sql.lit(bucketMs)}`;
    const rows = await this.#db.selectFrom('bots')
      .select([bucket.as('bucket'), (eb) => eb.fn.countAll<number>().as('launches')])
      .where('user_id', '=', userId).where(isLiveFlag()).where(isLiveBot())
      .where('join_at_ms', '>=', fromMs).where('join_at_ms', '<', toMs)
      .groupBy(sql`1`)
      .execute();
    const counts = new Map(rows.map((r) => [Number(r.bucket), Number(r.launches)]));
    const buckets: LaunchHistogram['buckets'] = [];
    let total = 0;
    let peak: LaunchHistogram['peak'] = null;
    for (let i = 0; i < (toMs - fromMs) / bucketMs; i++) {
      const launches = counts.get(i) ?? 0;
      const entry = { start: formatInstant(fromMs + i * bucketMs), launches };
      buckets.push(entry);
      total += launches;
      if (launches > 0 && (peak === null || launches > peak.launches)) peak = entry;
    }
    return { from: formatInstant(fromMs), to: formatInstant(toMs), bucket_minutes: bucketMinutes, buckets, total, peak, launch_limit_per_minute: this.#launchLimitPerMinute };
  }
}

/**
 * Auto-schedule's bots are told by their key and attribute (isAutoScheduledBot); a bot any of whose
 * events, linked or no longer, came from a connected calendar was scheduled for a calendar meeting
 * (one that stays in its meeting after its event left the calendar still came from there);
 * everything else came through the API.
 */
export function sourceOf(bot: { deduplication_key: string; custom_attributes: string }, events: { calendar_id: string | null }[]): BotSource {
  if (isAutoScheduledBot(bot)) return 'auto_schedule';
  return events.some((e) => e.calendar_id !== null) ? 'calendar' : 'api';
}

/**
 * The risks of these waiting bots: those findBotsWithoutCalendarAccess names (the question the
 * dispatcher asks at the join time), each with the calendars it cannot be read from.
 */
export async function findAtRisk(db: Kysely<Schema>, waitingBotIds: readonly string[]): Promise<Map<string, AtRisk>> {
  const blocked = [...await findBotsWithoutCalendarAccess(db, waitingBotIds)];
  const calendars = await listUnreadableCalendarsOfBots(db, blocked);
  return new Map(blocked.map((botId) => [botId, {
    reason: 'calendar_access_revoked',
    calendars: (calendars.get(botId) ?? []).map((c) => ({
      calendar_id: c.connection_id,
      provider: c.provider === 'microsoft' ? 'outlook' : c.provider as AtRiskCalendar['provider'],
      account: c.user_email ?? c.display_url,
      provider_calendar_id: c.provider === 'ics' ? null : c.provider_calendar_id,
      name: c.calendar_name,
      cause: c.is_connection_revoked ? 'connection_revoked' : 'calendar_refused',
    })),
  }]));
}

/** A bot's risk, from findAtRisk. Only a bot still waiting is at risk: a launched one is not stopped when its calendar's access goes. */
export function atRiskOf(bot: { id: string; status: string }, atRisk: ReadonlyMap<string, AtRisk>): AtRisk | null {
  return bot.status === 'Scheduled' ? atRisk.get(bot.id) ?? null : null;
}

/** Of these launched bots, those whose launch failed and waits for its next attempt (LaunchFailing). */
export async function findFailingLaunches(db: Kysely<Schema>, botIds: string[]): Promise<Map<string, LaunchFailing>> {
  if (botIds.length === 0) return new Map();
  const rows = await db.selectFrom('schedules').innerJoin('bots', 'bots.id', 'schedules.bot_id')
    .select(['schedules.bot_id', 'schedules.attempts', 'schedules.last_error', 'schedules.due_at_ms', 'bots.meeting_end_ms'])
    // While its next attempt is claimed or under way too: the last one still failed.
    .where('schedules.bot_id', 'in', botIds).where('schedules.state', 'in', ['pending', 'claimed', 'launching']).where('schedules.last_error', 'is not', null).execute();
  // A retry held to the meeting's end (the dispatcher never waits past it) is no attempt: the bot fails there.
  return new Map(rows.map((r) => [r.bot_id, { attempts: r.attempts, last_error: r.last_error!, next_attempt_at: formatInstant(r.due_at_ms), fails_at_meeting_end: Number(r.due_at_ms) >= Number(r.meeting_end_ms) }]));
}
