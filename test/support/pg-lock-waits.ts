// How many PostgreSQL sessions wait, directly or behind another waiter, on a lock the session
// `holderPid` holds. A row's second waiter waits on the first waiter's tuple lock, not on the
// holder itself, so the count follows pg_blocking_pids transitively; sessions of other test
// files on the same server, waiting on locks of their own, are not counted.
import { sql, type Kysely } from 'kysely';

export async function sessionsWaitingOn(db: Kysely<any>, holderPid: number): Promise<number> {
  const rows = (await sql<{ pid: number; blockers: number[] }>`select pid, pg_blocking_pids(pid) as blockers from pg_stat_activity where cardinality(pg_blocking_pids(pid)) > 0`.execute(db)).rows;
  const waiting = new Set<number>();
  for (let grew = true; grew;) {
    grew = false;
    for (const row of rows) {
      if (waiting.has(row.pid)) continue;
      if (row.blockers.some((pid) => pid === holderPid || waiting.has(pid))) {
        waiting.add(row.pid);
        grew = true;
      }
    }
  }
  return waiting.size;
}

/** The PostgreSQL backend pid of the connection `db` runs on (call it inside a transaction). */
export async function backendPid(db: Kysely<any>): Promise<number> {
  return (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
}

/**
 * Waits (up to five seconds) until `n` sessions wait on the session `holderPid`, or until `isDone`
 * says that the work expected to wait has ended without waiting, and says how many wait then.
 */
export async function untilSessionsWaitOn(db: Kysely<any>, holderPid: number, n: number, isDone: () => boolean = () => false): Promise<number> {
  for (let i = 0; i < 500 && !isDone() && await sessionsWaitingOn(db, holderPid) < n; i++) await new Promise((r) => setTimeout(r, 10));
  return sessionsWaitingOn(db, holderPid);
}
