// Read models of bots: detail with its timeline and decision log, MeetStream's status shape, and
// the paged list of a user's upcoming bots.
import type { Kysely } from 'kysely';
import type { BotRow, Schema } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { formatInstant, formatOptionalInstant } from '../lib/time.ts';
import { parseOccurrenceKey } from '../domain/recurrence.ts';
import { occurrenceIdOf } from '../domain/occurrence-id.ts';
import * as bots from '../store/bot-store.ts';

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
  events: { event_id: string; occurrence_id: string | null; occurrence_start: string | null; start_time: string; end_time: string; is_linked: boolean }[];
  status_timeline: { status: string; at: string; reason: string }[];
  decisions: { at: string; kind: string; reason: string; details: Record<string, unknown> }[];
  created_at: string;
  updated_at: string;
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

export class BotQueries {
  readonly #db: Kysely<Schema>;

  constructor(deps: { db: Kysely<Schema> }) {
    this.#db = deps.db;
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
    const [schedule, links, timeline, decisions] = await Promise.all([
      bots.findScheduleOfBot(this.#db, bot.id),
      bots.listLinksOfBot(this.#db, bot.id),
      this.#db.selectFrom('bot_status_changes').selectAll().where('bot_id', '=', bot.id).orderBy('id').execute(),
      this.#db.selectFrom('bot_decisions').selectAll().where('bot_id', '=', bot.id).orderBy('id').execute(),
    ]);
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
      events: links.map((l) => {
        const originalStartMs = l.occurrence_key === '' ? null : parseOccurrenceKey(l.occurrence_key);
        return {
          event_id: l.event_id,
          occurrence_id: originalStartMs === null ? null : occurrenceIdOf(l.event_id, originalStartMs),
          occurrence_start: formatOptionalInstant(originalStartMs),
          start_time: formatInstant(l.start_ms),
          end_time: formatInstant(l.end_ms),
          is_linked: l.is_live === 1,
        };
      }),
      status_timeline: timeline.map((t) => ({ status: t.status, at: formatInstant(t.at_ms), reason: t.reason })),
      decisions: decisions.map((d) => ({ at: formatInstant(d.at_ms), kind: d.kind, reason: d.reason, details: JSON.parse(d.details) as Record<string, unknown> })),
      created_at: formatInstant(bot.created_at),
      updated_at: formatInstant(bot.updated_at),
    };
  }

  /**
   * The user's bots that are still to come or under way, soonest first. The cursor is the last
   * (join time, id) seen, so inserts and deletes between pages never cause a skip or a repeat of
   * a bot that did not move.
   */
  async listScheduled(userId: string, query: { limit?: number; cursor?: string }): Promise<{ scheduled_bots: ScheduledBotItem[]; next: string | null; has_more: boolean }> {
    const limit = query.limit ?? 100;
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : null;
    let q = this.#db.selectFrom('bots').selectAll()
      .where('user_id', '=', userId).where(bots.isLiveBot());
    if (after) {
      q = q.where((eb) => eb.or([eb('join_at_ms', '>', after.joinAtMs), eb.and([eb('join_at_ms', '=', after.joinAtMs), eb('id', '>', after.id)])]));
    }
    const rows = await q.orderBy('join_at_ms').orderBy('id').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      scheduled_bots: page.map((bot) => {
        const config = JSON.parse(bot.bot_config) as { bot_name?: string };
        return {
          bot_id: bot.id,
          platform: bot.meeting_platform,
          status: bot.status,
          scheduled_join_time: formatInstant(bot.join_at_ms),
          bot_username: config.bot_name ?? '',
          meeting_link: bot.meeting_url,
          custom_attributes: JSON.parse(bot.custom_attributes) as Record<string, string>,
          is_scheduled: bot.status === 'Scheduled',
        };
      }),
      next: rows.length > limit && last ? encodeCursor(last.join_at_ms, last.id) : null,
      has_more: rows.length > limit,
    };
  }
}

function encodeCursor(joinAtMs: number, id: string): string {
  return Buffer.from(JSON.stringify({ j: joinAtMs, i: id })).toString('base64url');
}

function decodeCursor(cursor: string): { joinAtMs: number; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { j?: unknown; i?: unknown };
    if (typeof value.j === 'number' && Number.isSafeInteger(value.j) && typeof value.i === 'string') return { joinAtMs: value.j, id: value.i };
  } catch {
    // fall through
  }
  throw new ApiError('invalid_cursor', 'cursor is not one this API issued', { details: { field: 'cursor' } });
}
