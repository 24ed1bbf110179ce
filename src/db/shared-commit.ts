// Group commit for SQLite: the write transactions that are ready in the same turn of the event
// loop run one after another inside one transaction (every one after the first behind a savepoint
// of its own) and are made durable by one commit.
//
// Why: with synchronous=FULL a SQLite commit writes the transaction's pages to the write-ahead log
// and waits for fsync, on the main thread (node:sqlite is synchronous). A request that creates a
// bot touches a dozen pages (rows and their index entries), and its commit was half the server's
// busy time under load. N requests sharing one commit pay for one fsync instead of N.
//
// What a member is told does not change: success only once the shared commit is on disk, and a
// failure only once the group has ended, because a member can fail on what an earlier member
// wrote (a key it took) and that may yet be undone. A member that fails is rolled back to its
// savepoint alone (the first member, which has none, rolls the transaction back whole: it holds
// nothing else). If the group fails (the commit, or SQLite rolling the transaction back itself
// on a full disk or an I/O error), every member gets that error and nothing of the group is stored.
// PostgreSQL groups commits in the server; there each work has a transaction of its own.
//
// The work must use only the `trx` it is given: never the database's own `db` (that waits for the
// connection this group holds: the process hangs), never `transact` again, never the network.
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

class TransactionEndedError extends Error {
  override name = 'TransactionEndedError';
}

export class SharedCommit {
  readonly #db: Kysely<Schema>;
  readonly #isInTransaction: () => boolean;
  readonly #limits: typeof GROUP_LIMITS;
  #queue: Member[] = [];
  #isScheduled = false;

  /** `isInTransaction`: whether the connection is inside a transaction (node:sqlite's `isTransaction`). */
  constructor(db: Kysely<Schema>, isInTransaction: () => boolean, limits = GROUP_LIMITS) {
    this.#db = db;
    this.#isInTransaction = isInTransaction;
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
    const outcomes: Array<{ member: Member; ok: true; value: unknown } | { member: Member; ok: false; error: unknown }> = [];
    try {
      const trx = await this.#db.startTransaction().execute();
      try {
        // Members are taken once the connection is ours: those queued while it was busy join too.
        const startedAt = performance.now();
        while (this.#queue.length > 0 && (members.length === 0 || (members.length < this.#limits.maxMembers && performance.now() - startedAt < this.#limits.maxMs))) {
          const member = this.#queue.shift() as Member;
          members.push(member);
          const isFirst = members.length === 1;
          if (!isFirst) await sql`savepoint member`.execute(trx);
          try {
            const value = await member.work(trx);
            this.#assertStillInTransaction();
            if (!isFirst) await sql`release member`.execute(trx);
            outcomes.push({ member, ok: true, value });
          } catch (error) {
            if (isFirst) {
              // Nothing else is in the transaction: undo it whole, and this member's answer
              // depends on nothing uncommitted. The members queued meanwhile start a new group.
              await trx.rollback().execute();
              member.reject(error);
              return;
            }
            if (!this.#isInTransaction()) {
              // SQLite rolled the whole transaction back itself (a full disk, an I/O error): the
              // earlier members' work went with it, and this member's error is the cause.
              throw error;
            }
            await sql`rollback to member`.execute(trx);
            await sql`release member`.execute(trx);
            outcomes.push({ member, ok: false, error });
          }
        }
        this.#assertStillInTransaction();
        await trx.commit().execute();
      } catch (error) {
        await trx.rollback().execute().catch(() => {});
        throw error;
      }
      for (const outcome of outcomes) {
        if (outcome.ok) outcome.member.resolve(outcome.value);
        else outcome.member.reject(outcome.error);
      }
    } catch (error) {
      // The transaction could not start or was lost, or the commit failed: nothing of the group
      // is stored, and every member (those that failed on their own too: they may have failed on
      // another member's undone write) gets the group's error. When the transaction could not
      // start, one queued member gets it per turn, so that a database that stays broken answers
      // every request and one that recovers serves the rest.
      for (const member of members.length > 0 ? members : this.#queue.splice(0, 1)) member.reject(error);
    } finally {
      this.#isScheduled = false;
      this.#schedule();
    }
  }

  #assertStillInTransaction(): void {
    // A member that caught an error after SQLite had rolled the transaction back would go on
    // writing outside it (each statement committed at once); whatever follows must not act as if
    // the group were intact.
    if (!this.#isInTransaction()) throw new TransactionEndedError('The shared transaction ended inside a member');
  }
}
