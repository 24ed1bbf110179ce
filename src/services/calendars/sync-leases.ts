// The connections this process holds for a sync, and keeping them held while it works.
//
// A sync holds its connection through a lease: calendar_connections.lease_until, and a token of
// its own in lease_owner (migration 025). Other syncs (another instance's loop, a sync asked for
// through the API) leave a held connection alone until the lease runs out. A sync can take longer
// than a lease (a calendar of many pages, a provider slow to answer, a batch of connections
// synced one after another), so a heartbeat moves the end of every lease still held a lease
// ahead. A process that stalls longer than a lease (a pause, the database unreachable) loses its
// connections to other syncs; its own writes check the token first (`stateIn`, `end`), so
// it writes nothing more: an older answer of the provider applied after a newer one would take a
// moved meeting back to its old time until the next sync.
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

/** One sync's hold on one connection. */
export interface SyncHold {
  readonly connectionId: string;
  /** The token its writes name (lease_owner). */
  readonly owner: string;
}

export class SyncLeases {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #logger: Logger;
  readonly #held = new Set<SyncHold>();
  #heartbeat: NodeJS.Timeout | null = null;
  #isRenewing = false;

  constructor(deps: { database: Database; clock: Clock; leaseMs: number; logger: Logger }) {
    this.#database = deps.database;
    this.#clock = deps.clock;
    this.#leaseMs = deps.leaseMs;
    this.#logger = deps.logger;
  }

  /** Takes up to `limit` connections that are due and held by no sync. */
  async claimDue(limit: number): Promise<{ connection: CalendarConnectionRow; hold: SyncHold }[]> {
    const now = this.#clock.now();
    const owner = randomUUID();
    const claimed = await this.#database.db.transaction().execute((trx) =>
      connections.claimDueConnections(trx, this.#database.engine, now, { owner, untilMs: now + this.#leaseMs }, limit));
    return claimed.map((connection) => ({ connection, hold: this.#hold({ connectionId: connection.id, owner }) }));
  }

  /** Takes one connection if no sync holds it; null if one does. */
  async claim(connectionId: string): Promise<SyncHold | null> {
    const now = this.#clock.now();
    const owner = randomUUID();
    if (!(await connections.claimConnection(this.#database.db, connectionId, now, { owner, untilMs: now + this.#leaseMs }))) return null;
    return this.#hold({ connectionId, owner });
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
   * Writes the sync's outcome and lets the connection go (`write`, given the hold, for an outcome
   * written with more in one transaction); false when another sync had taken it, and nothing was
   * written.
   */
  async end(hold: SyncHold, changes: connections.ConnectionUpdate, write?: (hold: SyncHold) => Promise<boolean>): Promise<boolean> {
    try {
      return write ? await write(hold) : await connections.endHeldSync(this.#database.db, hold.connectionId, hold.owner, changes);
    } finally {
      this.#forget(hold);
    }
  }

  /** Lets the connection go without writing anything else. */
  async release(hold: SyncHold): Promise<void> {
    try {
      await connections.releaseConnection(this.#database.db, hold.connectionId, hold.owner);
    } finally {
      this.#forget(hold);
    }
  }

  /** Moves every hold's lease a lease ahead (the heartbeat does, a third of a lease apart). */
  async renew(): Promise<void> {
    if (this.#isRenewing || this.#held.size === 0) return;
    this.#isRenewing = true;
    try {
      const holds = [...this.#held];
      const lost = new Set(await connections.renewLeases(this.#database.db, holds.map((h) => ({ id: h.connectionId, owner: h.owner })), this.#clock.now() + this.#leaseMs));
      // The sync finds out at its next write, and stops there.
      for (const hold of holds) if (lost.has(hold.connectionId) && this.#held.has(hold)) this.#logger.warn({ calendarId: hold.connectionId }, 'a calendar sync lost its hold on the connection to another sync');
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
