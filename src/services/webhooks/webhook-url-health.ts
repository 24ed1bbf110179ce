// The caller's callback URLs and how each stands (GET /webhooks/urls): the ones with a record of
// trouble (held back, disabled: webhook_url_holds; a bot's line gone after a 410:
// gone_webhook_urls), and the ones their latest messages went to. The outbox
// (webhook-delivery.ts) writes those records; this only reads them, for its owner alone.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Schema, WebhookUrlHoldsTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatInstant, formatOptionalInstant } from '../../lib/time.ts';
import { troubleRank, urlHealthOf, type UrlState } from '../../domain/webhook-url-health.ts';
import { NOT_SENT_PREFIX } from '../../domain/webhook-url-hold.ts';
import { userDeliveriesBefore } from '../../db/user-deliveries-range.ts';
import type { Engine } from '../../db/database.ts';
import { botNamesOf } from './webhook-delivery-log.ts';

/** At most this many URLs in an answer (`has_more` says when there were more). */
export const MAX_URLS = 100;
/** The caller's latest messages read for the URLs they went to and their counts of messages not sent. */
export const RECENT_MESSAGES = 1000;
/** At most this many gone lines named per URL (gone_bots counts them all). */
export const MAX_GONE_LINES = 10;

export interface GoneLineView {
  bot_id: string;
  /** The bot's meeting as the pages name it; '' when unknown (its data deleted, or a calendar connection's line). */
  meeting_title: string;
  /** The message the receiver answered 410 last: redelivered and taken, it opens the bot's line again. */
  delivery_id: string;
}

export interface WebhookUrlView {
  url: string;
  state: UrlState;
  paced: boolean;
  failing_since: string | null;
  last_failure_at: string | null;
  paused_until: string | null;
  disabled_at: string | null;
  reopen_delivery_id: string | null;
  waiting: number;
  failed_unsent: number;
  gone_bots: number;
  gone_lines: GoneLineView[];
  last_queued_at: string | null;
}

type HoldRow = Pick<Selectable<WebhookUrlHoldsTable>, 'url' | 'paused_until_ms' | 'failures' | 'last_failure_at_ms' | 'failing_since_ms' | 'message_id' | 'disabled_at_ms'>;

interface Entry {
  url: string;
  hold: HoldRow | null;
  goneBots: number;
  lastQueuedAtMs: number | null;
  failedUnsent: number;
}

export class WebhookUrlHealth {
  readonly #db: Kysely<Schema>;
  readonly #engine: Engine;
  readonly #clock: Clock;

  constructor(deps: { db: Kysely<Schema>; engine: Engine; clock: Clock }) {
    this.#db = deps.db;
    this.#engine = deps.engine;
    this.#clock = deps.clock;
  }

  /**
   * The user's URLs with a record of trouble, then those of their latest messages, the troubled
   * first (disabled, paused, failing, with gone lines), at most MAX_URLS. Every read is the
   * user's alone, by an index that starts with the user: the URL records by the table's key, the
   * gone lines by gone_webhook_urls_user, the latest messages by webhook_deliveries_user.
   */
  async list(userId: string): Promise<{ urls: WebhookUrlView[]; has_more: boolean }> {
    const now = this.#clock.now();
    const [holds, gone, recent] = await Promise.all([this.#holdsOf(userId, now), this.#goneCountsOf(userId), this.#recentOf(userId)]);
    const entries = new Map<string, Entry>();
    const entryOf = (url: string): Entry => {
      let entry = entries.get(url);
      if (!entry) entries.set(url, entry = { url, hold: null, goneBots: 0, lastQueuedAtMs: null, failedUnsent: 0 });
      return entry;
    };
    for (const hold of holds) entryOf(hold.url).hold = hold;
    for (const row of gone) entryOf(row.url).goneBots = Number(row.n);
    for (const row of recent) {
      const entry = entryOf(row.url);
      entry.lastQueuedAtMs = Math.max(entry.lastQueuedAtMs ?? 0, Number(row.created_at));
      if (row.state === 'failed' && row.last_error?.startsWith(NOT_SENT_PREFIX)) entry.failedUnsent += 1;
    }
    const ranked = [...entries.values()].map((entry) => {
      const health = urlHealthOf(entry.hold === null ? null : {
        pausedUntilMs: Number(entry.hold.paused_until_ms), failures: entry.hold.failures, lastFailureAtMs: Number(entry.hold.last_failure_at_ms),
        failingSinceMs: Number(entry.hold.failing_since_ms), messageId: entry.hold.message_id, disabledAtMs: entry.hold.disabled_at_ms === null ? null : Number(entry.hold.disabled_at_ms),
      }, now);
      return { entry, health, rank: troubleRank(health, entry.goneBots) };
    })
      // A record whose run of failures ended long ago, of a URL no recent message went to, tells nothing.
      .filter(({ entry, rank }) => rank < 4 || entry.lastQueuedAtMs !== null)
      // The worst first; among equals, the latest trouble (or message) first, then by URL.
      .sort((a, b) => a.rank - b.rank || latestOf(b.entry) - latestOf(a.entry) || (a.entry.url < b.entry.url ? -1 : a.entry.url > b.entry.url ? 1 : 0));
    const page = ranked.slice(0, MAX_URLS);
    const urls = page.map((r) => r.entry.url);
    const [waiting, lines] = await Promise.all([this.#waitingOf(userId, urls), this.#goneLinesOf(userId, page.filter((r) => r.entry.goneBots > 0).map((r) => r.entry.url))]);
    return {
      urls: page.map(({ entry, health }) => ({
        url: entry.url,
        state: health.state,
        paced: health.isPaced,
        failing_since: formatOptionalInstant(health.failingSinceMs),
        last_failure_at: health.failingSinceMs === null || entry.hold === null ? null : formatInstant(Number(entry.hold.last_failure_at_ms)),
        paused_until: formatOptionalInstant(health.pausedUntilMs),
        disabled_at: formatOptionalInstant(health.disabledAtMs),
        reopen_delivery_id: health.reopenMessageId,
        waiting: waiting.get(entry.url) ?? 0,
        failed_unsent: entry.failedUnsent,
        gone_bots: entry.goneBots,
        gone_lines: lines.get(entry.url) ?? [],
        last_queued_at: formatOptionalInstant(entry.lastQueuedAtMs),
      })),
      // (Each source read one more than it lists: more of one of them means more URLs.)
      has_more: ranked.length > MAX_URLS || holds.length > MAX_URLS || gone.length > MAX_URLS,
    };
  }

  /**
   * The user's URL records (by the table's key), the worst first: disabled, paused now, then the
   * latest failure first; at most MAX_URLS + 1.
   */
  #holdsOf(userId: string, now: number): Promise<HoldRow[]> {
    return this.#db.selectFrom('webhook_url_holds').select(['url', 'paused_until_ms', 'failures', 'last_failure_at_ms', 'failing_since_ms', 'message_id', 'disabled_at_ms'])
      .where('user_id', '=', userId)
      .orderBy(sql`case when disabled_at_ms is null then 1 else 0 end`)
      .orderBy(sql`case when paused_until_ms > ${now} then 0 else 1 end`)
      .orderBy('last_failure_at_ms', 'desc').orderBy('url')
      .limit(MAX_URLS + 1).execute();
  }

  /**
   * How many of the user's bots have their line to each URL gone (a gone line is the owner's of
   * the message it names: its user_id); at most MAX_URLS + 1 URLs. Read from
   * gone_webhook_urls_user alone (user, URL, bot): the user's lines, none of another's.
   */
  #goneCountsOf(userId: string) {
    return this.#db.selectFrom('gone_webhook_urls').select(['url', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('user_id', '=', userId).groupBy('url').orderBy('url').limit(MAX_URLS + 1).execute();
  }

  /**
   * The user's gone lines to each URL among `urls`, at most MAX_GONE_LINES per URL, by bot: each
   * URL gets its own, however many another has (numbered per URL, those past the bound dropped).
   */
  async #goneLinesOf(userId: string, urls: readonly string[]): Promise<Map<string, GoneLineView[]>> {
    if (urls.length === 0) return new Map();
    const numbered = this.#db.selectFrom('gone_webhook_urls').select(['url', 'bot_id', 'message_id', sql<number>`row_number() over (partition by url order by bot_id)`.as('n')])
      .where('user_id', '=', userId).where('url', 'in', urls);
    const rows = await this.#db.selectFrom(numbered.as('g')).select(['g.url', 'g.bot_id', 'g.message_id'])
      .where('g.n', '<=', MAX_GONE_LINES).orderBy('g.url').orderBy('g.bot_id').execute();
    const names = await botNamesOf(this.#db, userId, rows.map((r) => r.bot_id));
    const lines = new Map<string, GoneLineView[]>();
    for (const row of rows) {
      const list = lines.get(row.url) ?? [];
      list.push({ bot_id: row.bot_id, meeting_title: names.get(row.bot_id)?.meeting_title ?? '', delivery_id: row.message_id });
      lines.set(row.url, list);
    }
    return lines;
  }

  /**
   * The user's latest RECENT_MESSAGES messages, by webhook_deliveries_user from the user's newest
   * (userDeliveriesBefore): where each went, and how it stands.
   */
  #recentOf(userId: string) {
    return this.#db.selectFrom('webhook_deliveries').select(['url', 'state', 'last_error', 'created_at'])
      .where(userDeliveriesBefore(this.#engine, userId, null)).orderBy('user_id', 'desc').orderBy('id', 'desc').limit(RECENT_MESSAGES).execute();
  }

  /**
   * How many of the user's messages to each URL are still to go out: read by
   * webhook_deliveries_url_waiting (partial on the waiting messages: the state as a literal), so
   * the cost is the count, not the user's whole outbox.
   */
  async #waitingOf(userId: string, urls: readonly string[]): Promise<Map<string, number>> {
    if (urls.length === 0) return new Map();
    const rows = await this.#db.selectFrom('webhook_deliveries').select(['url', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('user_id', '=', userId).where('state', '=', sql.lit('pending')).where('url', 'in', urls).groupBy('url').execute();
    return new Map(rows.map((row) => [row.url, Number(row.n)]));
  }
}

/** When the URL last had news: its latest failure, else its latest message. */
function latestOf(entry: Entry): number {
  return Math.max(entry.hold === null ? 0 : Number(entry.hold.last_failure_at_ms), entry.lastQueuedAtMs ?? 0);
}
