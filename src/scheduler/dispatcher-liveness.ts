// Is the dispatcher that holds a row still alive? Without an answer, the rows a killed process
// had claimed wait for their lease (30 s by default) before anyone launches them, and bots join
// late. With PostgreSQL the answer is exact and cheap: every dispatcher holds a session-level
// advisory lock named after itself on a connection of its own, and PostgreSQL releases it the
// moment that connection dies (process killed, host gone). A row whose holder has no lock is an
// orphan and can be taken over. On SQLite there is one process per file, so at start-up every
// claim in the file belongs to a predecessor.
//
// A lock can also go while its dispatcher lives: the connection cut (a proxy or the server ending
// idle sessions, idle_session_timeout, pg_terminate_backend) or the server restarted. Such a
// dispatcher takes its lock again at once, and its launches on the wire must not be sent a second
// time by another instance meanwhile: a holder counts as dead only once its lock has been missing
// for ORPHAN_GRACE_MS (MissingHolders), and after an outage, when every lock went with its
// connection, for OUTAGE_GRACE_MS from the database's return. The lock's connection also runs a
// trivial query every KEEPALIVE_MS, so that a session idle timeout does not cut it at all.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';

/** The first half of every dispatcher's advisory lock key; the second half is its own. */
const LOCK_NAMESPACE = 727_274_002;

/** How often the lock's connection runs a query, so that no idle-session limit ends it. */
const KEEPALIVE_MS = 5_000;

/** How long a holder's lock must be missing before its rows are taken over (it may be taking it again). */
export const ORPHAN_GRACE_MS = 1_000;

/** After an outage (every lock lost with its connection), how long before anyone counts as dead. */
export const OUTAGE_GRACE_MS = 5_000;

/**
 * Which holders have had no lock for long enough to be dead, by the real time they were first
 * seen without one. Pure bookkeeping: the sweep supplies what it saw and when.
 */
export class MissingHolders {
  readonly #since = new Map<string, number>();
  #notBeforeMs = -Infinity;

  /** Of the holders without a lock now, those missing for ORPHAN_GRACE_MS or more; the others are forgotten. */
  confirm(missing: readonly string[], nowMs: number): string[] {
    for (const owner of this.#since.keys()) if (!missing.includes(owner)) this.#since.delete(owner);
    for (const owner of missing) if (!this.#since.has(owner)) this.#since.set(owner, nowMs);
    if (nowMs < this.#notBeforeMs) return [];
    return missing.filter((owner) => nowMs - this.#since.get(owner)! >= ORPHAN_GRACE_MS);
  }

  /** The database is back after an outage: every lock went with its connection, so nobody is dead for OUTAGE_GRACE_MS. */
  databaseReturned(nowMs: number): void {
    this.#since.clear();
    this.#notBeforeMs = nowMs + OUTAGE_GRACE_MS;
  }
}

export interface DispatcherLiveness {
  /** Whether this dispatcher's own marker is held right now (claiming waits until it is). */
  readonly isHeld: boolean;
  /** Takes this dispatcher's marker; throws when the database cannot be reached. */
  acquire(): Promise<void>;
  /** Of these holders, the ones that are certainly dead. */
  findDeadOwners(owners: readonly string[]): Promise<string[]>;
  /** True when every holder other than this one is dead by definition (SQLite). */
  readonly isSoleProcess: boolean;
  release(): Promise<void>;
}

/** The 31-bit number that names a dispatcher's lock (pg_locks shows it as objid). */
export function lockKeyOf(owner: string): number {
  return createHash('sha256').update(owner).digest().readUInt32BE(0) & 0x7fffffff;
}

/** `onLost`: the lock went while this dispatcher runs (its connection ended): take it again. */
export function createDispatcherLiveness(database: Database, owner: string, logger: Logger, onLost: () => void = () => {}): DispatcherLiveness {
  if (database.engine === 'postgres' && database.pool) return new PostgresLiveness(database.pool, owner, logger, onLost);
  return soleProcessLiveness;
}

const soleProcessLiveness: DispatcherLiveness = {
  isHeld: true,
  isSoleProcess: true,
  acquire: async () => {},
  findDeadOwners: async (owners) => [...owners],
  release: async () => {},
};

class PostgresLiveness implements DispatcherLiveness {
  readonly isSoleProcess = false;
  readonly #pool: pg.Pool;
  readonly #key: number;
  readonly #logger: Logger;
  readonly #onLost: () => void;
  /** The lock's connection, and how to give it back: once, whichever of stop or a lost connection comes first. */
  #held: { client: pg.PoolClient; giveBack: (destroy: boolean) => void; stopKeepalive: () => void } | null = null;
  /** Set by release(): a lock lost after it is not taken again. */
  #isReleased = false;
  #retaking: Promise<void> | null = null;
  #taking: Promise<void> | null = null;

  constructor(pool: pg.Pool, owner: string, logger: Logger, onLost: () => void) {
    this.#pool = pool;
    this.#key = lockKeyOf(owner);
    this.#logger = logger;
    this.#onLost = onLost;
  }

  get isHeld(): boolean {
    return this.#held !== null;
  }

  async acquire(): Promise<void> {
    this.#isReleased = false;
    await this.#take();
  }

  /**
   * One taking at a time (the cycle's and the retake's): a second session asking for the same
   * advisory lock would wait on the first for ever.
   */
  #take(): Promise<void> {
    if (this.#held) return Promise.resolve();
    this.#taking ??= this.#takeOnce().finally(() => {
      this.#taking = null;
    });
    return this.#taking;
  }

  async #takeOnce(): Promise<void> {
    const client = await this.#pool.connect();
    // The pool throws on a second release, and a connection lost while release() is unlocking
    // reaches both the error handler and release()'s own catch.
    let isGivenBack = false;
    let keepalive: NodeJS.Timeout | null = null;
    const stopKeepalive = () => {
      if (keepalive) clearInterval(keepalive);
      keepalive = null;
    };
    const held = {
      client,
      stopKeepalive,
      giveBack: (destroy: boolean) => {
        stopKeepalive();
        if (isGivenBack) return;
        isGivenBack = true;
        client.release(destroy);
      },
    };
    const lose = (error: unknown) => {
      if (isGivenBack) return;
      // The lock went with the connection. It is taken again at once (onLost), well inside the
      // grace the others give it; past that, they may take our rows over, which is safe (their
      // conditional updates and our lease checks keep one launch per row, sent again under its
      // idempotency key), and we claim nothing more until it is ours again.
      this.#logger.warn({ err: error }, 'dispatcher liveness connection lost; taking the lock again');
      if (this.#held === held) this.#held = null;
      held.giveBack(true);
      this.#retake();
      this.#onLost();
    };
    client.on('error', lose);
    try {
      await client.query('select pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, this.#key]);
    } catch (error) {
      held.giveBack(true);
      throw error;
    }
    // Lost while the lock was being taken (and answered all the same): not held.
    if (isGivenBack) throw new Error('the liveness connection was lost while taking the lock');
    this.#held = held;
    keepalive = setInterval(() => {
      client.query('select 1').catch((error: unknown) => lose(error));
    }, KEEPALIVE_MS);
    keepalive.unref();
  }

  async findDeadOwners(owners: readonly string[]): Promise<string[]> {
    if (owners.length === 0) return [];
    const result = await this.#pool.query<{ objid: string }>(
      `select objid::text as objid from pg_locks
        where locktype = 'advisory' and granted and classid = $1::oid and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())`,
      [LOCK_NAMESPACE],
    );
    const alive = new Set(result.rows.map((r) => Number(r.objid)));
    return owners.filter((owner) => !alive.has(lockKeyOf(owner)));
  }

  /**
   * Takes the lock again on a new connection, on its own: not behind the dispatcher's cycle, which
   * may be waiting seconds on a runtime while the others' grace runs out. Tried every quarter of a
   * second (the database may be restarting) until it is held or released.
   */
  #retake(): void {
    if (this.#retaking || this.#isReleased) return;
    this.#retaking = (async () => {
      for (let delay = 100; !this.#isReleased && !this.#held; delay = Math.min(delay * 2, 1_000)) {
        try {
          await this.#take();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
        }
      }
    })().finally(() => {
      this.#retaking = null;
      // Released while it was being taken: give it back.
      if (this.#isReleased && this.#held) void this.release();
    });
  }

  async release(): Promise<void> {
    this.#isReleased = true;
    const held = this.#held;
    this.#held = null;
    if (!held) return;
    held.stopKeepalive();
    try {
      await held.client.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, this.#key]);
      held.giveBack(false);
    } catch {
      // The connection is gone or broken: closing it drops the lock all the same.
      held.giveBack(true);
    }
  }
}
