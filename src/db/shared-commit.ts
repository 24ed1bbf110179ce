// Group commit for SQLite: the write transactions that are ready in the same turn of the event
// loop run one after another inside one transaction, each behind a savepoint of its own, and are
// made durable by one commit.
//
// Why: with synchronous=FULL a SQLite commit writes the transaction's pages to the write-ahead log
// and waits for fsync, on the main thread (node:sqlite is synchronous). A request that creates a
// bot touches a dozen pages (rows and their index entries), and its commit was half the server's
// busy time under load. N requests sharing one commit pay for one fsync instead of N. Nothing is
// answered before the shared commit is on disk, so what a success promises does not change; a
// member that fails is rolled back to its savepoint alone, and a commit that fails fails every
// member (none of them was stored). PostgreSQL groups commits in the server; there the work runs
// in a transaction of its own.
//
// The work must only use the database: while it runs, the group's other members wait for it.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from './schema.ts';

export type TransactionWork<T> = (trx: Transaction<Schema>) => Promise<T>;

interface Member {
  work: TransactionWork<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * A group stops taking members at this many, or once its members have run this long, so that the
 * dispatcher's own transactions (which wait for the one connection) are not held up for long.
 */
export const GROUP_LIMITS = { maxMembers: 64, maxMs: 5 };

export class SharedCommit {
  readonly #db: Kysely<Schema>;
  readonly #limits: typeof GROUP_LIMITS;
  #queue: Member[] = [];
  #isScheduled = false;

  constructor(db: Kysely<Schema>, limits = GROUP_LIMITS) {
    this.#db = db;
    this.#limits = limits;
  }

  /** Runs `work` in a transaction; resolves once that transaction is committed and durable. */
  run<T>(work: TransactionWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#isScheduled || this.#queue.length === 0) return;
    this.#isScheduled = true;
    // setImmediate, not a microtask: the requests whose bodies arrived in this turn reach run()
    // before the group starts.
    setImmediate(() => void this.#runGroup());
  }

  async #runGroup(): Promise<void> {
    const members: Member[] = [];
    const done: Array<{ member: Member; value: unknown }> = [];
    try {
      const trx = await this.#db.startTransaction().execute();
      try {
        // Members are taken once the connection is ours: those queued while it was busy join too.
        const startedAt = performance.now();
        while (this.#queue.length > 0 && members.length < this.#limits.maxMembers && performance.now() - startedAt < this.#limits.maxMs) {
          const member = this.#queue.shift() as Member;
          members.push(member);
          // The first member needs no savepoint: when it fails, the transaction holds nothing else
          // and is rolled back whole (the members queued meanwhile wait for the next group).
          const isFirst = members.length === 1;
          if (!isFirst) await sql`savepoint member`.execute(trx);
          try {
            const value = await member.work(trx);
            if (!isFirst) await sql`release member`.execute(trx);
            done.push({ member, value });
          } catch (error) {
            member.reject(error);
            if (isFirst) {
              await trx.rollback().execute();
              return;
            }
            try {
              await sql`rollback to member`.execute(trx);
              await sql`release member`.execute(trx);
            } catch {
              // SQLite rolled the whole transaction back itself (a full disk, an I/O error): the
              // savepoint is gone with the earlier members' work. They fail with this member's
              // error, the real cause, not with "no such savepoint".
              throw error;
            }
          }
        }
        await trx.commit().execute();
      } catch (error) {
        await trx.rollback().execute().catch(() => {});
        throw error;
      }
      for (const { member, value } of done) member.resolve(value);
    } catch (error) {
      // The transaction could not start, SQLite rolled it back itself, or the commit failed:
      // nothing of the group is stored. A member already told of its own failure keeps it: a
      // promise settles once.
      for (const member of members.length > 0 ? members : this.#queue.splice(0, 1)) member.reject(error);
    } finally {
      this.#isScheduled = false;
      this.#schedule();
    }
  }
}
