// Read models of bots: detail with its timeline and decision log, MeetStream's status shape, and
// the paged list of a user's upcoming bots.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { BotRow, Schema } from '../../db/schema.ts';
import type { Engine } from '../../db/database.ts';
import { ApiError } from '../../errors.ts';
import { positionCursor } from '../paging-cursor.ts';
import { formatInstant, formatOptionalInstant, isIsoDate, parseQueryInstant } from '../../lib/time.ts';
import { BOT_STATUSES, statusNamedInFilter, type BotStatus } from '../../domain/bot-status.ts';
import { meetStreamPlatformOf, PLATFORM_FILTERS, platformOfFilter } from '../../domain/platform-names.ts';
import { parseOccurrenceKey } from '../../domain/recurrence.ts';
import { occurrenceIdOf } from '../../domain/occurrence-id.ts';
import * as bots from '../../store/bot-store.ts';
import { allDayZonesOfLinks } from '../../store/event-store.ts';
import { actionOriginOf, type ActionOrigin } from '../../domain/action-origin.ts';
import { atRiskOf, findAtRisk, findFailingLaunches, type AtRisk, type LaunchFailing } from './upcoming-bots.ts';

export interface BotDetail {
  bot_id: string;
  status: string;
  platform: string | null;
  meeting_url: string;
  meeting_identity: string;
  deduplication_key: string;
  scheduled_time: string;
  scheduled_join_time: string;
  launched_at: string | null;
  schedule_id: string | null;
  schedule_state: string | null;
  bot_config: Record<string, unknown>;
  custom_attributes: Record<string, string>;
  /** `all_day_zone`: for an all-day event (or occurrence), the zone whose midnights its times and key are (allDayZone); null otherwise. */
  events: { event_id: string; occurrence_id: string | null; occurrence_start: string | null; start_time: string; end_time: string; is_linked: boolean; removed_at: string | null; is_all_day: boolean; all_day_zone: string | null }[];
  status_timeline: { status: string; at: string; reason: string }[];
  decisions: { at: string; kind: string; reason: string; details: Record<string, unknown> }[];
  created_at: string;
  updated_at: string;
  /** Why it will be cancelled at its join time unless something changes first; null when it will not. */
  at_risk: AtRisk | null;
  /** A launch the runtime refused or did not answer, while it is retried (as in GET /bots/upcoming); null otherwise. */
  launch_failing: LaunchFailing | null;
  /** When its stored data was deleted (DELETE /bots/{bot_id}/delete); null while it has its data. */
  data_deleted_at: string | null;
  /** What booked it (migration 050); null for a bot booked before that whose status reason did not say. */
  origin: ActionOrigin | null;
}

export interface ScheduledBotItem {
  bot_id: string;
  platform: string | null;
  status: string;
  scheduled_join_time: string;
  bot_username: string;
  meeting_link: string;
  custom_attributes: Record<string, string>;
  is_scheduled: boolean;
}

/** GET /bots filters (MeetStream's names). custom_attr holds the custom_attr[<name>] parameters. */
export interface BotListQuery {
  /** A status name, in any case (statusNamedInFilter). */
  status?: string;
  from?: string;
  to?: string;
  platform?: string;
  limit?: number;
  cursor?: string;
  customAttributes: Record<string, string>;
}

export interface BotListItem {
  bot_id: string;
  status: string;
  platform: string | null;
  meeting_link: string;
  bot_name: string | null;
  scheduled_join_time: string;
  created_at: string;
  source: string;
  custom_attributes: Record<string, string>;
}

/** One status in MeetStream's StatusTimeline: whether the bot reached it, when (last), and why. */
export interface TimelineEntry {
  status: boolean;
  timestamp: string | null;
  message: string | null;
}

export interface MeetStreamBotDetail {
  bot_details: {
    BotID: string;
    UserID: string;
    Status: string;
    Platform: string | null;
    MeetingLink: string;
    BotUsername: string | null;
    BotMessage: string | null;
    BotImageURL: string | null;
    CreatedAt: string;
    StartTime: string | null;
    EndTime: string | null;
    Duration: number;
    LastUpdatedAt: number;
    StatusTimeline: Record<string, TimelineEntry>;
    RequestPayload: Record<string, unknown>;
    custom_attributes: Record<string, string>;
    transcript_id: null;
  };
}


/** StatusTimeline keys: MeetStream's names where they differ from Rollcall's statuses. */
const TIMELINE_KEY: Record<BotStatus, string> = {
  Scheduled: 'Scheduled', Joining: 'Joining', InWaitingRoom: 'WaitingRoom', InMeeting: 'InMeeting', Recording: 'Recording',
  Leaving: 'Leaving', Stopped: 'Stopped', Done: 'Done', NotAllowed: 'BotNotAllowed', Denied: 'BotRejected', Error: 'Error',
  Cancelled: 'Cancelled', Missed: 'Missed',
};

const DAY_MS = 86_400_000;

/**
 * One link per event (or occurrence) of a bot: an event booked again onto the bot it had let go
 * of has a new link beside its ended one, and the event is listed once, as it stands: by its live
 * link, else by its latest.
 */
export function oneLinkPerEvent<L extends { event_id: string; occurrence_key: string; is_live: number }>(links: readonly L[]): L[] {
  const chosen = new Map<string, L>();
  for (const link of links) {
    const key = `${link.event_id} ${link.occurrence_key}`;
    const held = chosen.get(key);
    if (held === undefined || held.is_live !== 1) chosen.set(key, link);
  }
  return links.filter((link) => chosen.get(`${link.event_id} ${link.occurrence_key}`) === link);
}

export class BotQueries {
  readonly #db: Kysely<Schema>;
  readonly #engine: Engine;

  constructor(deps: { db: Kysely<Schema>; engine?: Engine }) {
    this.#db = deps.db;
    this.#engine = deps.engine ?? 'sqlite';
  }

  async #ownBot(userId: string, botId: string): Promise<BotRow> {
    const bot = await bots.findBot(this.#db, userId, botId);
    if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
    return bot;
  }

  async status(userId: string, botId: string): Promise<{ bot_id: string; status: string; custom_attributes: Record<string, string> }> {
    const bot = await this.#ownBot(userId, botId);
    return { bot_id: bot.id, status: bot.status, custom_attributes: JSON.parse(bot.custom_attributes) as Record<string, string> };
  }

  async detail(userId: string, botId: string): Promise<BotDetail> {
    const bot = await this.#ownBot(userId, botId);
    const [schedule, links, timeline, decisions, atRisk, failing] = await Promise.all([
      bots.findScheduleOfBot(this.#db, bot.id),
      // A bot whose data was deleted keeps its links only so that no sync books its event again.
      bot.data_deleted_at === null ? bots.listLinksOfBot(this.#db, bot.id) : [],
      this.#db.selectFrom('bot_status_changes').selectAll().where('bot_id', '=', bot.id).orderBy('id').execute(),
      // In the order things happened: a launch is stamped when it went out, but written with its
      // result, after decisions made meanwhile (a relaunch after a crash).
      this.#db.selectFrom('bot_decisions').selectAll().where('bot_id', '=', bot.id).orderBy('at_ms').orderBy('id').execute(),
      bot.status === 'Scheduled' ? findAtRisk(this.#db, [bot.id]) : new Map<string, AtRisk>(),
      bot.status === 'Joining' ? findFailingLaunches(this.#db, [bot.id]) : new Map<string, LaunchFailing>(),
    ]);
    const zones = await allDayZonesOfLinks(this.#db, userId, links);
    return {
      bot_id: bot.id,
      status: bot.status,
      platform: bot.meeting_platform,
      meeting_url: bot.meeting_url,
      meeting_identity: bot.meeting_identity,
      deduplication_key: bot.deduplication_key,
      scheduled_time: formatInstant(bot.join_at_ms),
      scheduled_join_time: formatInstant(bot.join_at_ms),
      launched_at: formatOptionalInstant(bot.launched_at),
      schedule_id: schedule?.id ?? null,
      schedule_state: schedule?.state ?? null,
      bot_config: JSON.parse(bot.bot_config) as Record<string, unknown>,
      custom_attributes: JSON.parse(bot.custom_attributes) as Record<string, string>,
      events: oneLinkPerEvent(links).map((l) => {
        const originalStartMs = l.occurrence_key === '' ? null : parseOccurrenceKey(l.occurrence_key);
        const zone = zones.get(`${l.event_id} ${l.occurrence_key}`) ?? null;
        return {
          event_id: l.event_id,
          occurrence_id: originalStartMs === null ? null : occurrenceIdOf(l.event_id, originalStartMs),
          occurrence_start: formatOptionalInstant(originalStartMs),
          start_time: formatInstant(l.start_ms),
          end_time: formatInstant(l.end_ms),
          is_linked: l.is_live === 1,
          removed_at: formatOptionalInstant(l.let_go_at),
          is_all_day: zone !== null,
          all_day_zone: zone,
        };
      }),
      status_timeline: timeline.map((t) => ({ status: t.status, at: formatInstant(t.at_ms), reason: t.reason })),
      decisions: decisions.map((d) => ({ at: formatInstant(d.at_ms), kind: d.kind, reason: d.reason, details: JSON.parse(d.details) as Record<string, unknown> })),
      created_at: formatInstant(bot.created_at),
      updated_at: formatInstant(bot.updated_at),
      at_risk: atRiskOf(bot, atRisk),
      launch_failing: failing.get(bot.id) ?? null,
      data_deleted_at: formatOptionalInstant(bot.data_deleted_at),
      origin: actionOriginOf(bot.origin),
    };
  }

  /**
   * GET /bots: every bot of the user (calendar and ad-hoc), newest first, with MeetStream's
   * filters. `from` / `to` bound the creation time: a date is a whole UTC day (both ends
   * included), a date-time is an instant. Pages are keyed on (creation time, id).
   */
  async list(userId: string, query: BotListQuery): Promise<{ bots: BotListItem[]; hasNextPage: boolean; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const fromMs = query.from === undefined ? null : boundOf(query.from, 'from');
    const toMs = query.to === undefined ? null : boundOf(query.to, 'to');
    if (fromMs !== null && toMs !== null && toMs <= fromMs) throw new ApiError('invalid_time', 'to must not be before from', { details: { field: 'to' } });
    const after = query.cursor !== undefined ? botCursor.decode(query.cursor) : null;
    let q = this.#db.selectFrom('bots').selectAll().where('user_id', '=', userId);
    if (query.status !== undefined) {
      const status = statusNamedInFilter(query.status);
      if (status === null) throw new ApiError('validation_error', `status (query): must be one of ${BOT_STATUSES.join(', ')} (any case; Failed means Error)`, { details: { field: 'status', location: 'query' } });
      q = q.where('status', '=', status);
    }
    if (query.platform !== undefined) {
      const platform = platformOfFilter(query.platform);
      if (platform === null) throw new ApiError('validation_error', `platform (query): must be one of ${PLATFORM_FILTERS.join(', ')} (any case)`, { details: { field: 'platform', location: 'query' } });
      q = q.where('meeting_platform', '=', platform);
    }
    if (fromMs !== null) q = q.where('created_at', '>=', fromMs);
    if (toMs !== null) q = q.where('created_at', '<', toMs);
    for (const [name, value] of Object.entries(query.customAttributes)) q = q.where(this.#customAttributeIs(name, value));
    if (after) {
      q = q.where((eb) => eb.or([eb('created_at', '<', after.ms), eb.and([eb('created_at', '=', after.ms), eb('id', '<', after.id)])]));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      bots: page.map((bot) => {
        const config = JSON.parse(bot.bot_config) as { bot_name?: string };
        return {
          bot_id: bot.id,
          status: bot.status,
          platform: meetStreamPlatformOf(bot.meeting_platform),
          meeting_link: bot.meeting_url,
          bot_name: config.bot_name ?? null,
          scheduled_join_time: formatInstant(bot.join_at_ms),
          created_at: formatInstant(bot.created_at),
          source: bot.source,
          custom_attributes: JSON.parse(bot.custom_attributes) as Record<string, string>,
        };
      }),
      hasNextPage: rows.length > limit,
      nextCursor: rows.length > limit && last ? botCursor.encode(last.created_at, last.id) : null,
    };
  }

  /** custom_attributes.<name> = value, on either engine (the attributes are a JSON object of strings). */
  #customAttributeIs(name: string, value: string) {
    return this.#engine === 'postgres'
      ? sql<SqlBool>`(bots.custom_attributes::jsonb ->> ${name}) = ${value}`
      : sql<SqlBool>`exists (select 1 from json_each(bots.custom_attributes) as a where a.key = ${name} and a.value = ${value})`;
  }

  /** GET /bots/{bot_id}/detail: MeetStream's BotDetailsResponse. */
  async meetStreamDetail(userId: string, botId: string): Promise<MeetStreamBotDetail> {
    const bot = await this.#ownBot(userId, botId);
    const timeline = await this.#db.selectFrom('bot_status_changes').selectAll().where('bot_id', '=', bot.id).orderBy('id').execute();
    const reached = new Map(timeline.map((t) => [t.status, t]));
    const statusTimeline: Record<string, TimelineEntry> = {};
    for (const [status, name] of Object.entries(TIMELINE_KEY)) {
      const entry = reached.get(status);
      statusTimeline[name] = { status: entry !== undefined, timestamp: entry ? formatInstant(entry.at_ms) : null, message: entry ? entry.reason || null : null };
    }
    const ended = timeline.findLast((t) => ['Stopped', 'Done', 'NotAllowed', 'Denied', 'Error', 'Cancelled', 'Missed'].includes(t.status));
    const config = JSON.parse(bot.bot_config) as Record<string, unknown> & { bot_name?: string; bot_message?: string; bot_image_url?: string };
    const attributes = JSON.parse(bot.custom_attributes) as Record<string, string>;
    const startMs = bot.launched_at;
    const endMs = ended && startMs !== null ? ended.at_ms : null;
    return {
      bot_details: {
        BotID: bot.id,
        UserID: bot.user_id,
        Status: bot.status,
        // MeetStream's document types Platform, BotUsername, BotMessage, StartTime and EndTime as
        // plain strings, but every example of its answer has all five keys, and Python clients
        // index them (d["StartTime"]): a value Rollcall does not have is null, never a missing key.
        Platform: meetStreamPlatformOf(bot.meeting_platform),
        MeetingLink: bot.meeting_url,
        BotUsername: typeof config.bot_name === 'string' ? config.bot_name : null,
        BotMessage: typeof config.bot_message === 'string' ? config.bot_message : null,
        BotImageURL: typeof config.bot_image_url === 'string' ? config.bot_image_url : null,
        CreatedAt: formatInstant(bot.created_at),
        StartTime: formatOptionalInstant(startMs),
        EndTime: formatOptionalInstant(endMs),
        Duration: startMs !== null && endMs !== null ? Math.max(0, Math.round((endMs - startMs) / 1000)) : 0,
        LastUpdatedAt: Math.floor(bot.updated_at / 1000),
        StatusTimeline: statusTimeline,
        RequestPayload: bot.data_deleted_at !== null ? {} : { meeting_link: bot.meeting_url, ...config, custom_attributes: attributes },
        custom_attributes: attributes,
        transcript_id: null,
      },
    };
  }

  /**
   * The user's bots that are still to come or under way, soonest first. The cursor is the last
   * (join time, id) seen, so inserts and deletes between pages never cause a skip or a repeat of
   * a bot that did not move. Every bot of the user, calendar and create_bot alike (the contract's
   * "the user's future bots"; MeetStream's current list has join_at bots too); `source` in each
   * item's `custom_attributes` tells them apart.
   */
  async listScheduled(userId: string, query: { limit?: number; cursor?: string }): Promise<{ scheduled_bots: ScheduledBotItem[]; next: string | null; has_more: boolean }> {
    const limit = query.limit ?? 100;
    const after = query.cursor !== undefined ? botCursor.decode(query.cursor) : null;
    // The flag beside the statuses: the live bots' own index (bots_user_live_join), not every bot the user ever had.
    let q = this.#db.selectFrom('bots').selectAll().where('user_id', '=', userId).where(bots.isLiveFlag()).where(bots.isLiveBot());
    if (after) {
      q = q.where((eb) => eb.or([eb('join_at_ms', '>', after.ms), eb.and([eb('join_at_ms', '=', after.ms), eb('id', '>', after.id)])]));
    }
    const rows = await q.orderBy('join_at_ms').orderBy('id').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      scheduled_bots: page.map((bot) => {
        const config = JSON.parse(bot.bot_config) as { bot_name?: string };
        return {
          bot_id: bot.id,
          // Always there, null for a platform Rollcall does not know: MeetStream's list shows it on every item.
          platform: bot.meeting_platform,
          status: bot.status,
          scheduled_join_time: formatInstant(bot.join_at_ms),
          bot_username: config.bot_name ?? '',
          meeting_link: bot.meeting_url,
          custom_attributes: { source: bot.source, ...(JSON.parse(bot.custom_attributes) as Record<string, string>) },
          is_scheduled: bot.status === 'Scheduled',
        };
      }),
      next: rows.length > limit && last ? botCursor.encode(last.join_at_ms, last.id) : null,
      has_more: rows.length > limit,
    };
  }
}



/** Bots are paged by an instant (join or creation time), then id. */
const botCursor = positionCursor('j');

/** A from/to filter: a date (a whole UTC day) or a date-time with offset. */
function boundOf(value: string, field: 'from' | 'to'): number {
  if (isIsoDate(value)) return Date.parse(`${value}T00:00:00Z`) + (field === 'to' ? DAY_MS : 0);
  const ms = parseQueryInstant(value);
  if (ms === null) throw new ApiError('invalid_time', `${field} must be YYYY-MM-DD or an ISO 8601 date-time with an offset`, { details: { field } });
  return field === 'to' ? ms + 1 : ms;
}
