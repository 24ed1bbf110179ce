// The connections this process holds for a sync, and keeping them held while it works.
//
// A sync holds its connection through a lease: calendar_connections.lease_until, and a token of
// its own in lease_owner (migration 025). Other syncs (another instance's loop, a sync asked for
// through the API) leave a held connection alone until the lease runs out. A sync can take longer
// than a lease (a calendar of many pages, a provider slow to answer), so a heartbeat moves the
// end of every lease still held a lease ahead, for at most MAX_HOLD_MS (a sync that runs longer
// is stuck: its lease is let run out). A process that stalls longer than a lease (a pause, the
// database unreachable) loses its connections to other syncs; its own writes check the token
// first (`stateIn`, `end`), so it writes nothing more: an older answer of the provider applied
// after a newer one would take a moved meeting back to its old time until the next sync.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import type { CalendarConnectionRow } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import * as connections from '../../store/connection-store.ts';

/** How often the heartbeat renews: a third of a lease, so that two may fail before one runs out. */
export function renewalIntervalMs(leaseMs: number): number {
  return Math.max(1000, Math.floor(leaseMs / 3));
}

/** How long the heartbeat keeps one hold: no sync of one connection takes an hour. */
export const MAX_HOLD_MS = 3_600_000;

/** One sync's hold on one connection. */
export interface SyncHold {
  readonly connectionId: string;
  /** The token its writes name (lease_owner). */
  readonly owner: string;
  /** When it was taken (this process's clock). */
  readonly sinceMs: number;
}

export class SyncLeases {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #maxHoldMs: number;
  readonly #logger: Logger;
  readonly #held = new Set<SyncHold>();
  #heartbeat: NodeJS.Timeout | null = null;
  #isRenewing = false;

  /** `maxHoldMs`: how long the heartbeat keeps one hold (default MAX_HOLD_MS). */
  constructor(deps: { database: Database; clock: Clock; leaseMs: number; maxHoldMs?: number; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#leaseMs = deps.leaseMs;
    this.#maxHoldMs = deps.maxHoldMs ?? MAX_HOLD_MS;
    this.#logger = deps.logger;
  }

  /**
   * Takes the connection most overdue for a sync that no sync holds; null: none is due. One at a
   * time, as each is synced: a connection waiting its turn is free for other instances.
   */
  async claimNext(): Promise<{ connection: CalendarConnectionRow; hold: SyncHold } | null> {
    const now = this.#clock.now();
    const owner = randomUUID();
    const connection = await this.#database.db.transaction().execute((trx) =>
      connections.claimDueConnection(trx, this.#database.engine, now, { owner, untilMs: now + this.#leaseMs }));
    return connection ? { connection, hold: this.#hold({ connectionId: connection.id, owner, sinceMs: Date.now() }) } : null;
  }

  /** Takes one connection if no sync holds it; null if one does. */
  async claim(connectionId: string): Promise<SyncHold | null> {
    const now = this.#clock.now();
    const owner = randomUUID();
    if (!(await connections.claimConnection(this.#database.db, connectionId, now, { owner, untilMs: now + this.#leaseMs }))) return null;
    return this.#hold({ connectionId, owner, sinceMs: Date.now() });
  }

  /**
   * Whether the hold still stands, read in the caller's transaction (on PostgreSQL the row stays
   * locked until it ends, so the answer holds for its writes): 'lost' when another sync took the
   * connection, 'gone' when it was removed.
   */
  async stateIn(trx: Database['db'], hold: SyncHold): Promise<'held' | 'lost' | 'gone'> {
    return connections.leaseStateOf(trx, this.#database.engine, hold.connectionId, hold.owner);
  }

  /**
   * Writes the sync's outcome and lets the connection go; false when another sync had taken it,
   * and nothing was written. A write that throws keeps the hold: the caller lets it go (`release`).
   */
  async end(hold: SyncHold, changes: connections.ConnectionUpdate): Promise<boolean> {
    return (await this.endWith(hold, async (owner) => ((await connections.endHeldSync(this.#database.db, hold.connectionId, owner, changes)) ? true : null))) !== null;
  }

  /**
   * As `end`, for an outcome written with more in one transaction by `write` (given the hold's
   * token), which answers null when the hold was no longer its own and it wrote nothing.
   */
  async endWith<T>(hold: SyncHold, write: (owner: string) => Promise<T | null>): Promise<T | null> {
    const written = await write(hold.owner);
    this.#forget(hold);
    if (written !== null) await this.#followPushDuring(hold);
    return written;
  }

  /**
   * A push that arrived while the hold stood may announce a change the sync read too early to see:
   * the connection is due again now, as a push makes it when no sync holds it. Best effort: if this
   * write fails, the change is read at the connection's next routine sync.
   */
  async #followPushDuring(hold: SyncHold): Promise<void> {
    try {
      if (await connections.syncAgainIfPushedDuring(this.#database.db, hold.connectionId, hold.owner, this.#clock.now())) {
        this.#logger.info({ calendarId: hold.connectionId }, 'a push notification arrived during the sync: syncing again');
      }
    } catch (error) {
      this.#logger.warn({ err: error, calendarId: hold.connectionId }, 'could not plan a sync for a push notification that arrived during the last one; the next routine sync reads it');
    }
  }

  /**
   * Lets the connection go without writing anything else. Never throws: when the database cannot
   * be reached the hold is forgotten all the same, and its lease runs out.
   */
  async release(hold: SyncHold): Promise<void> {
    // Ended already (its outcome written, or forgotten): nothing is left to let go.
    if (!this.#held.has(hold)) return;
    try {
      await connections.releaseConnection(this.#database.db, hold.connectionId, hold.owner);
    } catch (error) {
      this.#logger.warn({ err: error, calendarId: hold.connectionId }, 'releasing a calendar sync lease failed; it runs out by itself');
    } finally {
      this.#forget(hold);
    }
  }

  /** Moves every hold's lease a lease ahead (the heartbeat does, a third of a lease apart). */
  async renew(): Promise<void> {
    if (this.#isRenewing || this.#held.size === 0) return;
    this.#isRenewing = true;
    try {
      for (const hold of this.#held) {
        if (Date.now() - hold.sinceMs <= this.#maxHoldMs) continue;
        this.#logger.error({ calendarId: hold.connectionId, heldMs: Date.now() - hold.sinceMs }, 'a calendar sync has held its connection too long (stuck); its lease is let run out');
        this.#forget(hold);
      }
      const holds = [...this.#held];
      const lost = new Set(await connections.renewLeases(this.#database.db, holds.map((h) => ({ id: h.connectionId, owner: h.owner })), this.#clock.now() + this.#leaseMs));
      for (const hold of holds) {
        if (!lost.has(hold.connectionId) || !this.#held.has(hold)) continue;
        // Not ours any more (taken, or the connection removed): the sync finds out at its next
        // write, and stops there; nothing is renewed for it again.
        this.#logger.warn({ calendarId: hold.connectionId }, 'a calendar sync lost its hold on the connection to another sync');
        this.#forget(hold);
      }
    } catch (error) {
      // The database unreachable: the next heartbeat tries again, well before the lease runs out.
      this.#logger.warn({ err: error }, 'renewing calendar sync leases failed');
    } finally {
      this.#isRenewing = false;
    }
  }

  /** Stops the heartbeat (the process is stopping; its syncs have ended). */
  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }

  #hold(hold: SyncHold): SyncHold {
    this.#held.add(hold);
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => void this.renew(), renewalIntervalMs(this.#leaseMs));
      this.#heartbeat.unref();
    }
    return hold;
  }

  #forget(hold: SyncHold): void {
    this.#held.delete(hold);
    if (this.#held.size === 0) this.stop();
  }
}
