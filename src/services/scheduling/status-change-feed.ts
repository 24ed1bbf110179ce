// Bot status changes as they happen, for the dashboard's live view. One poll loop per process
// reads bot_status_changes after the last id it saw and hands each row to the streams of the
// bot's owner, so a thousand open streams cost one query a second, and a change made by any
// instance (several share one PostgreSQL) reaches the streams of every instance.
//
// Ids are not commit order on PostgreSQL: a transaction can take id 10, another take 11 and
// commit first. The loop therefore remembers the ids it has not seen below the highest it has
// (gaps) and looks for them again on every poll, until they show up or a grace period passes (a
// rolled-back transaction leaves a gap for ever). On SQLite writers take turns, so there are none.
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Schema } from '../../db/schema.ts';
import { formatInstant } from '../../lib/time.ts';

export interface StatusChange {
  id: number;
  bot_id: string;
  status: string;
  reason: string;
  at: string;
}

export type StatusChangeListener = (change: StatusChange) => void;

export interface StatusChangeFeedOptions {
  db: Kysely<Schema>;
  logger: Logger;
  /** How often the loop looks for new rows while a stream is open. (Default: 1000) */
  pollIntervalMs?: number;
  /** How long an id missing below seen ones is looked for before it counts as rolled back. (Default: 30000) */
  gapGraceMs?: number;
  /** Rows read per query; the loop reads again at once when a batch was full. (Default: 2000) */
  batchSize?: number;
  /** Most changes replayed to a stream that reconnects with Last-Event-ID. (Default: 500) */
  replayLimit?: number;
}

interface Gap {
  from: number;
  to: number;
  sinceMs: number;
}

interface Subscriber {
  userId: string;
  listener: StatusChangeListener;
  /** Ids already sent by the replay; the loop may bring them again. */
  replayed: Set<number>;
  /** While the replay runs, live changes wait here. */
  buffer: StatusChange[] | null;
}

/** Most gaps remembered at once; beyond it the oldest is given up. */
const MAX_GAPS = 64;

export class StatusChangeFeed {
  readonly #o: Required<StatusChangeFeedOptions>;
  readonly #subscribers = new Set<Subscriber>();
  /** Highest id seen; null until the loop has read the current maximum. */
  #maxSeen: number | null = null;
  #gaps: Gap[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** Polls run one after another, whether the timer or pollNow asked. */
  #chain: Promise<unknown> = Promise.resolve();
  #starting: Promise<void> | null = null;
  #isStopped = false;

  constructor(options: StatusChangeFeedOptions) {
    this.#o = { pollIntervalMs: 1000, gapGraceMs: 30_000, batchSize: 2000, replayLimit: 500, ...options };
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * The user's changes after `after` (oldest first), or without it the latest `limit`, for
   * clients that poll instead of streaming.
   */
  async list(userId: string, query: { after?: number; limit?: number }): Promise<{ changes: StatusChange[]; last_id: number | null; has_more: boolean }> {
    const limit = query.limit ?? 100;
    const q = this.#o.db.selectFrom('bot_status_changes as c').innerJoin('bots as b', 'b.id', 'c.bot_id')
      .select(['c.id', 'c.bot_id', 'c.status', 'c.reason', 'c.at_ms']);
    let rows;
    if (query.after !== undefined) {
      // From the change ids after `after` (few), each checked for the user, rather than from the
      // user's bots (many): without statistics SQLite starts from the user's index on bots and
      // sorts every change of theirs (17 ms for a user with 40,000 bots, against 0.1 ms).
      rows = await q.where(sql<string>`b.user_id || ''`, '=', userId).where('c.id', '>', query.after).orderBy('c.id').limit(limit + 1).execute();
    } else {
      rows = (await q.where('b.user_id', '=', userId).orderBy('c.id', 'desc').limit(limit).execute()).reverse();
    }
    const hasMore = query.after !== undefined && rows.length > limit;
    const changes = rows.slice(0, limit).map(toChange);
    return { changes, last_id: changes.at(-1)?.id ?? query.after ?? null, has_more: hasMore };
  }

  /**
   * Calls `listener` with each of the user's status changes from now on; with `afterId`, first
   * with the ones after it (a reconnecting stream's Last-Event-ID), up to the replay limit.
   * Resolves with the function that ends the subscription.
   */
  async subscribe(userId: string, listener: StatusChangeListener, options: { afterId?: number } = {}): Promise<() => void> {
    const subscriber: Subscriber = { userId, listener, replayed: new Set(), buffer: options.afterId !== undefined ? [] : null };
    await this.#ensureStarted();
    this.#subscribers.add(subscriber);
    const unsubscribe = () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size > 0) return;
      // With nobody listening the loop stops, and forgets where it was: the next stream starts
      // from the rows of its own time, not from a backlog that accumulated meanwhile.
      this.#pause();
      this.#maxSeen = null;
      this.#gaps = [];
    };
    if (options.afterId !== undefined) {
      try {
        const { changes } = await this.list(userId, { after: options.afterId, limit: this.#o.replayLimit });
        for (const change of changes) {
          subscriber.replayed.add(change.id);
          listener(change);
        }
      } finally {
        const waiting = subscriber.buffer ?? [];
        subscriber.buffer = null;
        for (const change of waiting) this.#deliverTo(subscriber, change);
      }
    }
    return unsubscribe;
  }

  /** Ends the loop; subscriptions stay registered but get nothing more. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#pause();
    await this.#chain;
  }

  /** Reads what is new now (tests call this instead of waiting for the timer). */
  async pollNow(): Promise<void> {
    await this.#ensureStarted();
    await this.#runPoll();
  }

  #runPoll(): Promise<boolean> {
    const run = this.#chain.then(() => this.#poll());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #ensureStarted(): Promise<void> {
    if (this.#maxSeen === null) {
      this.#starting ??= (async () => {
        const row = await this.#o.db.selectFrom('bot_status_changes').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
        this.#maxSeen = Number(row?.max ?? 0);
      })().finally(() => {
        this.#starting = null;
      });
      await this.#starting;
    }
    if (this.#timer === null && !this.#isStopped) this.#schedule(this.#o.pollIntervalMs);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#subscribers.size === 0 || this.#isStopped) return;
      this.#runPoll().then(
        (isFull) => this.#schedule(isFull ? 0 : this.#o.pollIntervalMs),
        (error: unknown) => {
          // Never crash the process for a live view; try again after a pause.
          this.#o.logger.warn({ err: error }, 'status change feed: poll failed; retrying');
          this.#schedule(this.#o.pollIntervalMs * 5);
        },
      );
    }, delayMs);
    this.#timer.unref();
  }

  #pause(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One read; answers whether the batch was full (more may be waiting). */
  async #poll(): Promise<boolean> {
    const maxSeen = this.#maxSeen ?? 0;
    const now = performance.now();
    this.#gaps = this.#gaps.filter((g) => now - g.sinceMs < this.#o.gapGraceMs);
    const gaps = this.#gaps;
    const rows = await this.#o.db.selectFrom('bot_status_changes as c').innerJoin('bots as b', 'b.id', 'c.bot_id')
      .select(['c.id', 'c.bot_id', 'c.status', 'c.reason', 'c.at_ms', 'b.user_id'])
      .where((eb) => eb.or([eb('c.id', '>', maxSeen), ...gaps.map((g) => eb.between('c.id', g.from, g.to))]))
      .orderBy('c.id').limit(this.#o.batchSize).execute();
    const isFull = rows.length === this.#o.batchSize;
    // A full batch stops somewhere: ids above its last row are not missing, just not read yet.
    const readUpTo = isFull ? rows.at(-1)!.id : Infinity;
    const found: number[] = [];
    let newMax = maxSeen;
    for (const row of rows) {
      found.push(row.id);
      if (row.id > newMax) newMax = row.id;
      const change = toChange(row);
      for (const subscriber of this.#subscribers) {
        if (subscriber.userId === row.user_id) this.#deliverTo(subscriber, change);
      }
    }
    // Gaps shrink by what was found; new gaps open between the old and the new highest id.
    const next: Gap[] = [];
    for (const gap of gaps) next.push(...splitGap(gap, found, readUpTo));
    next.push(...splitGap({ from: maxSeen + 1, to: newMax, sinceMs: now }, found, readUpTo));
    this.#gaps = next.slice(-MAX_GAPS);
    this.#maxSeen = newMax;
    return isFull;
  }

  #deliverTo(subscriber: Subscriber, change: StatusChange): void {
    if (subscriber.buffer !== null) {
      subscriber.buffer.push(change);
      return;
    }
    if (subscriber.replayed.has(change.id)) return;
    try {
      subscriber.listener(change);
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'status change feed: a listener failed');
    }
  }
}

/**
 * What is left of `gap` once the ids in `found` (ascending) are taken out, looking only up to
 * `readUpTo`; the part above it was not read and stays as it is.
 */
function splitGap(gap: Gap, found: number[], readUpTo: number): Gap[] {
  if (gap.from > gap.to) return [];
  const parts: Gap[] = [];
  const last = Math.min(gap.to, readUpTo);
  let start = gap.from;
  for (const id of found) {
    if (id < start || id > last) continue;
    if (id > start) parts.push({ from: start, to: id - 1, sinceMs: gap.sinceMs });
    start = id + 1;
  }
  if (start <= last) parts.push({ from: start, to: last, sinceMs: gap.sinceMs });
  if (gap.to > readUpTo) parts.push({ from: Math.max(gap.from, readUpTo + 1), to: gap.to, sinceMs: gap.sinceMs });
  return parts;
}

function toChange(row: { id: number; bot_id: string; status: string; reason: string; at_ms: number }): StatusChange {
  return { id: Number(row.id), bot_id: row.bot_id, status: row.status, reason: row.reason, at: formatInstant(row.at_ms) };
}
