// Is the dispatcher that holds a row still alive? Without an answer, the rows a killed process
// had claimed wait for their lease (30 s by default) before anyone launches them, and bots join
// late. With PostgreSQL the answer is exact and cheap: every dispatcher holds a session-level
// advisory lock named after itself on a connection of its own, and PostgreSQL releases it the
// moment that connection dies (process killed, host gone). A row whose holder has no lock is an
// orphan and can be taken over at once. On SQLite there is one process per file, so at start-up
// every claim in the file belongs to a predecessor.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';

/** The first half of every dispatcher's advisory lock key; the second half is its own. */
const LOCK_NAMESPACE = 727_274_002;

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

export function createDispatcherLiveness(database: Database, owner: string, logger: Logger): DispatcherLiveness {
  if (database.engine === 'postgres' && database.pool) return new PostgresLiveness(database.pool, owner, logger);
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
  /** The lock's connection, and how to give it back: once, whichever of stop or a lost connection comes first. */
  #held: { client: pg.PoolClient; giveBack: (destroy: boolean) => void } | null = null;

  constructor(pool: pg.Pool, owner: string, logger: Logger) {
    this.#pool = pool;
    this.#key = lockKeyOf(owner);
    this.#logger = logger;
  }

  get isHeld(): boolean {
    return this.#held !== null;
  }

  async acquire(): Promise<void> {
    if (this.#held) return;
    const client = await this.#pool.connect();
    // The pool throws on a second release, and a connection lost while release() is unlocking
    // reaches both the error handler and release()'s own catch.
    let isGivenBack = false;
    const held = {
      client,
      giveBack: (destroy: boolean) => {
        if (isGivenBack) return;
        isGivenBack = true;
        client.release(destroy);
      },
    };
    client.on('error', (error) => {
      // The lock went with the connection: others may now take our rows over, which is safe
      // (their conditional updates and our lease checks keep one launch per row), and we take
      // it again before claiming anything more.
      this.#logger.warn({ err: error }, 'dispatcher liveness connection lost; its rows may be taken over');
      if (this.#held === held) this.#held = null;
      held.giveBack(true);
    });
    try {
      await client.query('select pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, this.#key]);
    } catch (error) {
      held.giveBack(true);
      throw error;
    }
    this.#held = held;
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

  async release(): Promise<void> {
    const held = this.#held;
    this.#held = null;
    if (!held) return;
    try {
      await held.client.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, this.#key]);
      held.giveBack(false);
    } catch {
      // The connection is gone or broken: closing it drops the lock all the same.
      held.giveBack(true);
    }
  }
}
