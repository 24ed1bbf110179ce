// The user's status webhook deliveries as they stand in the outbox (src/services/webhooks/webhook-delivery.ts
// sends them): newest first, with attempts, the next retry and the last error; and redelivery of
// one, which makes it due now.
import { userDeliveriesBefore } from '../../db/user-deliveries-range.ts';
import type { Engine } from '../../db/database.ts';
import type { Kysely, Selectable } from 'kysely';
import type { Schema, WebhookDeliveriesTable } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../paging-cursor.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import { findBot } from '../../store/bot-store.ts';
import { meetingTitleOfEvents } from '../../domain/meeting-title.ts';
import { listTitledEventsOfBots } from '../../store/event-store.ts';
import { retryingConflicts } from '../../db/race-retry.ts';

/**
 * pending: not tried yet; retrying: tried and failed. Either is tried no earlier than
 * next_attempt_at (its own retry time, or the end of its URL's pause when the URL is held back,
 * whichever is later; at that time it may still wait its turn: the oldest message of its bot's
 * line goes first, and a held URL takes one message at a time). delivered: answered 2xx; failed:
 * given up (still failing, or still waiting, three days after it was queued; set aside as refused;
 * answered 410 Gone; not sent because its bot's URL answered 410 Gone; or not sent because its
 * URL is disabled after days of failures).
 */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Filter values: a status, or failing = retrying or failed. */
export const DELIVERY_FILTERS = [...DELIVERY_STATUSES, 'failing'] as const;
export type DeliveryFilter = (typeof DELIVERY_FILTERS)[number];

export interface DeliveryView {
  /** The webhook-id header the receiver sees; the same on every attempt. */
  delivery_id: string;
  bot_id: string;
  /** The bot's meeting as the dashboard names it (its event's title, else its link's host); '' once its data was deleted. */
  meeting_title: string;
  /** The bot's name ('' when it has none, or once its data was deleted). */
  bot_name: string;
  /** The payload's `bot_event`: the specific name (bot.cancelled, bot.rescheduled, ...). */
  event: string;
  /** The payload's `event`: the generic name, where it differs (bot.stopped for every end of a bot). */
  payload_event: string;
  bot_status: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  /**
   * A message still to go out waits for the oldest one of its bot to its URL that is still to go
   * out (they go out in order, webhook-delivery.ts): that one, and when it is tried next. Null when
   * none is older, or once this one is delivered or given up.
   */
  queued_behind: QueuedBehind | null;
}

export interface QueuedBehind {
  delivery_id: string;
  event: string;
  next_attempt_at: string;
}

export interface DeliveryQuery {
  status?: DeliveryFilter;
  limit?: number;
  cursor?: string;
}

type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export class WebhookDeliveryLog {
  readonly #db: Kysely<Schema>;
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #onRedeliver: () => void;

  /** `onRedeliver` wakes the delivery loop, so a redelivery goes out now rather than at its next poll. */
  constructor(deps: { db: Kysely<Schema>; engine: Engine; clock: Clock; onRedeliver?: () => void }) {
    this.#db = deps.db;
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#onRedeliver = deps.onRedeliver ?? (() => {});
  }

  async list(userId: string, query: DeliveryQuery): Promise<{ deliveries: DeliveryView[]; next: string | null; has_more: boolean }> {
    return this.#list(userId, null, query);
  }

  /** The deliveries of one of the user's bots; 404 for a bot that is not theirs. */
  async listForBot(userId: string, botId: string, query: DeliveryQuery): Promise<{ deliveries: DeliveryView[]; next: string | null; has_more: boolean }> {
    const bot = await findBot(this.#db, userId, botId);
    if (!bot) throw new ApiError('bot_not_found', `No bot ${botId}`);
    return this.#list(userId, bot.id, query);
  }

  /**
   * Sends the delivery again, now, with the same webhook-id (a receiver that already processed it
   * can tell it is the same message). A delivery that fails again is retried as usual while it is
   * younger than the outbox's give-up age, and marked failed after one attempt if older (or, when
   * it had been set aside as refused, when the receiver refuses it again). One that is being sent
   * at this moment keeps its claim (its lease is left as it is); its outcome is then what counts,
   * unless that claim runs out and another sender takes the message first (the sender's records
   * are fenced by the claim: webhook-delivery.ts). A redelivered message is sent
   * even to a URL its bot's receiver answered 410 Gone (`redelivered`, migration 046), and ends
   * the pause of a URL held back as struggling (webhook_url_holds, migration 048): its owner says
   * the receiver is back. The URL still takes one message at a time until one is taken: this one
   * first, as one never tried (unless an older one never tried may be sent to it too). A
   * transaction PostgreSQL rolls back for a deadlock or a serialization failure runs again, whole.
   */
  async redeliver(userId: string, deliveryId: string): Promise<DeliveryView> {
    const updated = await retryingConflicts(() => this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now();
      const found = await trx.selectFrom('webhook_deliveries').select('url').where('message_id', '=', deliveryId).where('user_id', '=', userId).executeTakeFirst();
      if (!found) return undefined;
      // The URL's row before the message's: the order in which the sender writes both (a failure
      // that disables the URL fails its waiting messages after it), so that neither waits for the
      // other in a circle.
      await trx.updateTable('webhook_url_holds').set({ paused_until_ms: now }).where('user_id', '=', userId).where('url', '=', found.url).where('paused_until_ms', '>', now).execute();
      return trx.updateTable('webhook_deliveries')
        // Marked as its owner's choice: it is sent even to a URL its bot's receiver said is gone.
        // Counted as never tried: the one a held URL's paced round sends first (by age among those).
        .set({ state: 'pending', next_attempt_at_ms: now, redelivered: 1, last_attempt_at_ms: null })
        .where('message_id', '=', deliveryId).where('user_id', '=', userId)
        .returningAll().executeTakeFirst();
    }));
    if (!updated) throw new ApiError('delivery_not_found', `No webhook delivery ${deliveryId}`);
    this.#onRedeliver();
    const [heads, bots, pauses] = await Promise.all([this.#linesOf([updated]), this.#botsOf(userId, [updated]), this.#pausesOf(userId, [updated])]);
    return toView(updated, heads, bots, pauses);
  }

  /** What names the bots of these rows: their meeting (as the dashboard names it) and their name. */
  #botsOf(userId: string, rows: readonly DeliveryRow[]): Promise<Map<string, BotNames>> {
    return botNamesOf(this.#db, userId, rows.map((r) => r.bot_id));
  }

  /** The pauses still running of the user's URLs held back (webhook_url_holds) among these rows' pending ones, by URL. */
  async #pausesOf(userId: string, rows: readonly DeliveryRow[]): Promise<Map<string, number>> {
    const urls = [...new Set(rows.filter((r) => r.state === 'pending').map((r) => r.url))];
    if (urls.length === 0) return new Map();
    const holds = await this.#db.selectFrom('webhook_url_holds').select(['url', 'paused_until_ms'])
      .where('user_id', '=', userId).where('url', 'in', urls).where('paused_until_ms', '>', this.#clock.now()).execute();
    return new Map(holds.map((h) => [h.url, Number(h.paused_until_ms)]));
  }

  /**
   * The head of each line the undelivered rows wait in: the oldest message still to go out of a
   * bot to a URL, keyed by bot and URL. Read for the rows themselves, whatever the list's filter or
   * page: the one they wait for may be filtered out (a retrying one under Pending) or on another page.
   */
  async #linesOf(rows: readonly DeliveryRow[]): Promise<Map<string, DeliveryRow>> {
    const botIds = [...new Set(rows.filter((r) => r.state === 'pending').map((r) => r.bot_id))];
    if (botIds.length === 0) return new Map();
    // The oldest of each line by id first, then those rows whole: a receiver down for days has
    // many messages waiting, and only the heads' payloads are wanted.
    const headIds = await this.#db.selectFrom('webhook_deliveries').select((eb) => eb.fn.min('id').as('id'))
      .where('bot_id', 'in', botIds).where('state', '=', 'pending').groupBy(['bot_id', 'url']).execute();
    if (headIds.length === 0) return new Map();
    const waiting = await this.#db.selectFrom('webhook_deliveries').selectAll().where('id', 'in', headIds.map((h) => Number(h.id))).execute();
    return new Map(waiting.map((row) => [lineOf(row), row]));
  }

  async #list(userId: string, botId: string | null, query: DeliveryQuery): Promise<{ deliveries: DeliveryView[]; next: string | null; has_more: boolean }> {
    const limit = query.limit ?? 50;
    const before = query.cursor !== undefined ? decodeCursor(query.cursor, (v) => (typeof v.d === 'number' && Number.isSafeInteger(v.d) && v.d > 0 ? v.d : null)) : null;
    // A bot's: by webhook_deliveries_bot. The user's: by webhook_deliveries_user, newest first (userDeliveriesBefore).
    let q = botId !== null
      ? this.#db.selectFrom('webhook_deliveries').selectAll().where('user_id', '=', userId).where('bot_id', '=', botId).$if(before !== null, (b) => b.where('id', '<', before!))
      : this.#db.selectFrom('webhook_deliveries').selectAll().where(userDeliveriesBefore(this.#engine, userId, before));
    switch (query.status) {
      // Retrying: tried and failed (last_error kept). A delivered message sent again on request
      // is tried again without having failed (its last_error was cleared when it was delivered).
      case 'pending': q = q.where('state', '=', 'pending').where('last_error', 'is', null); break;
      case 'retrying': q = q.where('state', '=', 'pending').where('last_error', 'is not', null); break;
      case 'delivered': q = q.where('state', '=', 'delivered'); break;
      case 'failed': q = q.where('state', '=', 'failed'); break;
      case 'failing': q = q.where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb('last_error', 'is not', null)])])); break;
      case undefined: break;
    }
    const rows = await (botId !== null ? q : q.orderBy('user_id', 'desc')).orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const [heads, bots, pauses] = await Promise.all([this.#linesOf(page), this.#botsOf(userId, page), this.#pausesOf(userId, page)]);
    return {
      deliveries: page.map((row) => toView(row, heads, bots, pauses)),
      next: rows.length > limit && last ? encodeCursor({ d: last.id }) : null,
      has_more: rows.length > limit,
    };
  }
}

function statusOf(row: DeliveryRow): DeliveryStatus {
  if (row.state === 'delivered') return 'delivered';
  if (row.state === 'failed') return 'failed';
  return row.last_error !== null ? 'retrying' : 'pending';
}

/** A bot's messages to one URL: one line, sent in order. */
function lineOf(row: DeliveryRow): string {
  return JSON.stringify([row.bot_id, row.url]);
}

function eventOf(row: DeliveryRow): string {
  const payload = JSON.parse(row.payload) as { bot_event?: string; event?: string };
  return payload.bot_event ?? payload.event ?? '';
}

/**
 * The meeting title and bot name of each of the user's bots among `botIds`, as the pages name
 * them ('' for a bot whose data was deleted; none for an id that is not a bot of the user's, a
 * calendar connection's for its own webhooks).
 */
export async function botNamesOf(db: Kysely<Schema>, userId: string, botIds: readonly string[]): Promise<Map<string, BotNames>> {
  const ids = [...new Set(botIds)];
  if (ids.length === 0) return new Map();
  const found = await db.selectFrom('bots').select(['id', 'meeting_url', 'bot_config', 'data_deleted_at'])
    .where('user_id', '=', userId).where('id', 'in', ids).execute();
  // A bot whose data was deleted keeps its links only so that no sync books its event again.
  const withData = found.filter((b) => b.data_deleted_at === null).map((b) => b.id);
  const linksByBot = Map.groupBy(await listTitledEventsOfBots(db, userId, withData), (l) => l.bot_id);
  return new Map(found.map((bot) => {
    if (bot.data_deleted_at !== null) return [bot.id, { meeting_title: '', bot_name: '' }];
    const events = (linksByBot.get(bot.id) ?? []).map((l) => ({ title: l.title, is_linked: l.is_live === 1 }));
    const config = JSON.parse(bot.bot_config) as { bot_name?: string };
    return [bot.id, { meeting_title: meetingTitleOfEvents(events, bot.meeting_url), bot_name: config.bot_name ?? '' }];
  }));
}

export interface BotNames {
  meeting_title: string;
  bot_name: string;
}

/** When a waiting message goes next: its own retry time, or the end of its URL's pause if later. */
function nextAttemptMs(row: DeliveryRow, pauses: ReadonlyMap<string, number>): number {
  return Math.max(row.next_attempt_at_ms, pauses.get(row.url) ?? 0);
}

/**
 * `heads`: the oldest undelivered message of each line (#linesOf); `bots`: what names each bot
 * (#botsOf); `pauses`: the end of the pause of each held URL (#pausesOf), before which nothing
 * goes to it.
 */
function toView(row: DeliveryRow, heads: ReadonlyMap<string, DeliveryRow>, bots: ReadonlyMap<string, BotNames>, pauses: ReadonlyMap<string, number>): DeliveryView {
  const payload = JSON.parse(row.payload) as { bot_status?: string; event?: string; bot_event?: string };
  const status = statusOf(row);
  const head = row.state === 'pending' ? heads.get(lineOf(row)) : undefined;
  return {
    delivery_id: row.message_id,
    bot_id: row.bot_id,
    meeting_title: bots.get(row.bot_id)?.meeting_title ?? '',
    bot_name: bots.get(row.bot_id)?.bot_name ?? '',
    event: eventOf(row),
    payload_event: payload.event ?? payload.bot_event ?? '',
    bot_status: payload.bot_status ?? null,
    url: row.url,
    status,
    attempts: row.attempts,
    next_attempt_at: status === 'pending' || status === 'retrying' ? formatInstant(nextAttemptMs(row, pauses)) : null,
    last_error: row.last_error,
    created_at: formatInstant(row.created_at),
    delivered_at: formatOptionalInstant(row.delivered_at),
    queued_behind: head !== undefined && head.id < row.id
      ? { delivery_id: head.message_id, event: eventOf(head), next_attempt_at: formatInstant(nextAttemptMs(head, pauses)) }
      : null,
  };
}
