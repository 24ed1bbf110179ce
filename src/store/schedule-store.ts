// The durable timers. A schedule row moves pending -> claimed -> launching -> done (or back to
// pending for a retry, or to cancelled). Every move is a conditional UPDATE, so two dispatchers
// never both act on one row, and a row changed by the API after it was claimed is not fired stale.
import { sql, type ExpressionBuilder } from 'kysely';
import type { Engine } from '../db/database.ts';
import type { ScheduleRow, Schema } from '../db/schema.ts';
import type { Db } from './event-store.ts';

/** Schedule states in which the bot has not been launched and its timer can still move. */
export const MOVABLE_STATES = ['pending', 'claimed'] as const;

/** The earliest moment something needs this dispatcher: a pending due time or an expired lease. */
export async function nextWakeAt(db: Db): Promise<number | null> {
  const due = await db.selectFrom('schedules').select((eb) => eb.fn.min('due_at_ms').as('t')).where('state', '=', 'pending').executeTakeFirst();
  const lease = await db.selectFrom('schedules').select((eb) => eb.fn.min('lease_until_ms').as('t')).where('state', 'in', ['claimed', 'launching']).executeTakeFirst();
  const times = [due?.t, lease?.t].filter((t): t is number => t !== null && t !== undefined).map(Number);
  return times.length > 0 ? Math.min(...times) : null;
}

/**
 * Claims up to `limit` rows that are due before `horizonMs` (pending), or whose holder's lease
 * ran out (claimed or launching by a process that died). Returns the claimed rows.
 */
export async function claimSchedules(db: Db, engine: Engine, owner: string, nowMs: number, horizonMs: number, leaseMs: number, limit: number, live: { holders: readonly string[]; stuckAfterMs: number } = { holders: [], stuckAfterMs: 0 }): Promise<ScheduleRow[]> {
  // A holder known to be alive (its liveness marker is there) keeps its rows past its lease: it is
  // only slow (a busy machine, a long burst), and taking over would launch them a second time.
  // Only when its lease ran out long ago is it taken to be stuck.
  const expired = (eb: ExpressionBuilder<Schema, 'schedules'>) => live.holders.length === 0
    ? eb('lease_until_ms', '<', nowMs)
    : eb.and([eb('lease_until_ms', '<', nowMs), eb.or([eb('lease_owner', 'not in', live.holders), eb('lease_until_ms', '<', nowMs - live.stuckAfterMs)])]);
  const candidates = db.selectFrom('schedules').select('id')
    .where((eb) => eb.or([
      eb.and([eb('state', '=', 'pending'), eb('due_at_ms', '<=', horizonMs)]),
      eb.and([eb('state', 'in', ['claimed', 'launching']), expired(eb)]),
    ]))
    .orderBy('due_at_ms')
    .limit(limit);
  // SKIP LOCKED lets several instances claim disjoint rows at once; SQLite has one writer.
  const locked = engine === 'postgres' ? candidates.forUpdate().skipLocked() : candidates;
  // A row whose launch was decided before its holder died stays 'launching': it must be launched
  // again (with the same idempotency key), never re-decided.
  return db.updateTable('schedules')
    .set({
      state: sql<string>`case when state = 'launching' then 'launching' else 'claimed' end`,
      lease_owner: owner,
      lease_until_ms: sql<number>`(case when due_at_ms > ${nowMs} then due_at_ms else ${nowMs} end) + ${leaseMs}`,
      updated_at: nowMs,
    })
    .where('id', 'in', locked)
    .returningAll()
    .execute();
}

/**
 * The fire decision: of the rows this owner claimed, those still due now become 'launching'.
 * A row moved later, cancelled or taken over since it was claimed is not returned.
 */
export async function markLaunching(db: Db, owner: string, ids: readonly string[], nowMs: number, leaseMs: number): Promise<ScheduleRow[]> {
  if (ids.length === 0) return [];
  // The state and due time are compared as expressions on purpose: as plain columns they tempt
  // SQLite into the (state, due_at_ms) index, which visits every claimed row due so far instead
  // of the few hundred ids asked for, and firing ran quadratic at the top of the hour.
  return db.updateTable('schedules')
    .set({ state: 'launching', attempts: sql<number>`attempts + 1`, lease_until_ms: nowMs + leaseMs, updated_at: nowMs })
    .where('id', 'in', ids).where('lease_owner', '=', owner)
    .where(sql<string>`state || ''`, '=', 'claimed').where(sql<number>`due_at_ms + 0`, '<=', nowMs)
    .returningAll()
    .execute();
}

/** Re-launches of rows whose earlier holder died mid-launch (state stayed 'launching'). */
export async function takeOverLaunching(db: Db, owner: string, ids: readonly string[], nowMs: number, leaseMs: number): Promise<ScheduleRow[]> {
  if (ids.length === 0) return [];
  return db.updateTable('schedules')
    .set({ attempts: sql<number>`attempts + 1`, lease_until_ms: nowMs + leaseMs, updated_at: nowMs })
    .where('id', 'in', ids).where('lease_owner', '=', owner).where('state', '=', 'launching')
    .returningAll()
    .execute();
}

/**
 * Launches the runtime accepted: their rows are done. Each is matched by its attempt too, so that
 * the result of one attempt never settles a later one (a retry whose write was committed but not
 * acknowledged can have launched again meanwhile).
 */
export async function completeSchedules(db: Db, owner: string, launches: readonly { id: string; attempt: number }[], nowMs: number): Promise<void> {
  // One statement per attempt number: in a burst, every launch is attempt 1.
  for (const [attempt, group] of Map.groupBy(launches, (l) => l.attempt)) {
    // The state as an expression, for the reason given at markLaunching: the ids decide the plan.
    await db.updateTable('schedules')
      .set({ state: 'done', lease_owner: null, lease_until_ms: null, last_error: null, updated_at: nowMs })
      .where('id', 'in', group.map((l) => l.id)).where('lease_owner', '=', owner).where(sql<string>`state || ''`, '=', 'launching')
      .where('attempts', '=', attempt)
      .execute();
  }
}

/**
 * Extends the leases of rows this owner is still working on (a live dispatcher's heartbeat), never
 * shortening one; answers the ids whose lease now ends at `leaseUntilMs` or later.
 */
export async function renewLeases(db: Db, engine: Engine, owner: string, ids: readonly string[], leaseUntilMs: number, nowMs: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const ours = db.selectFrom('schedules').select('id')
    .where('id', 'in', ids).where('lease_owner', '=', owner).where(sql<string>`state || ''`, 'in', ['claimed', 'launching'])
    .where('lease_until_ms', '<', leaseUntilMs);
  // A row locked right now is being confirmed or settled by another transaction, which may write
  // its lease or roll back; waiting for it could deadlock with that statement (the two visit the
  // rows in different orders), and PostgreSQL would then abort one of them after a second. Such a
  // row is not in the answer, so the caller tries it again at the next heartbeat.
  const renewed = await db.updateTable('schedules')
    .set({ lease_until_ms: leaseUntilMs, updated_at: nowMs })
    .where('id', 'in', engine === 'postgres' ? ours.forUpdate().skipLocked() : ours)
    .returning('id')
    .execute();
  return renewed.map((r) => r.id);
}

/**
 * Puts a failed launch (attempt `attempt`, as completeSchedules) back to pending for another try at
 * `retryAtMs`; `askedAtMs`: the time the retry asked for before it was held to the meeting's end
 * (a move of the meeting derives the due time again from it: followMeetingEnd).
 */
export async function retrySchedule(db: Db, owner: string, id: string, attempt: number, retryAtMs: number, error: string, nowMs: number, askedAtMs: number = retryAtMs): Promise<boolean> {
  const result = await db.updateTable('schedules')
    .set({ state: 'pending', due_at_ms: retryAtMs, retry_asked_at_ms: askedAtMs, lease_owner: null, lease_until_ms: null, last_error: error.slice(0, 1000), updated_at: nowMs })
    .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'launching').where('attempts', '=', attempt)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Makes launches waiting for their backoff due now, each only while it is as the retry left it
 * (its attempt count, its due time and its last write: nobody launched, moved or cancelled it
 * since); answers how many moved.
 */
export async function bringRetriesForward(db: Db, rows: readonly { id: string; attempt: number; retriedAtMs: number; retryAtMs: number }[], nowMs: number): Promise<number> {
  let moved = 0;
  // One transaction: after an outage of the runtime there can be thousands.
  await db.transaction().execute(async (trx) => {
    for (const row of rows) {
      const result = await trx.updateTable('schedules').set({ due_at_ms: nowMs, updated_at: nowMs })
      .where('id', '=', row.id).where('state', '=', 'pending').where('attempts', '=', row.attempt)
      .where('due_at_ms', '=', row.retryAtMs).where('updated_at', '=', row.retriedAtMs).where('due_at_ms', '>', nowMs)
      .executeTakeFirst();
      moved += Number(result.numUpdatedRows);
    }
  });
  return moved;
}

/** Releases claimed rows this owner will not fire (shutting down). */
export async function releaseClaims(db: Db, owner: string, nowMs: number): Promise<void> {
  await db.updateTable('schedules')
    .set({ state: 'pending', lease_owner: null, lease_until_ms: null, updated_at: nowMs })
    .where('lease_owner', '=', owner).where('state', '=', 'claimed')
    .execute();
}

/** The launch's idempotency key from now on (its retries keep it). */
export async function setLaunchKey(db: Db, id: string, key: string, nowMs: number): Promise<void> {
  await db.updateTable('schedules').set({ idempotency_key: key, updated_at: nowMs }).where('id', '=', id).execute();
}

/**
 * A finished launch to be made again (a provider bot withdrawn before its join time): pending at
 * `dueAtMs`, attempts from the start, under a new idempotency key. Only a row still done.
 */
export async function reopenSchedule(db: Db, id: string, dueAtMs: number, key: string, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('schedules')
    .set({ state: 'pending', due_at_ms: dueAtMs, attempts: 0, idempotency_key: key, lease_owner: null, lease_until_ms: null, last_error: null, updated_at: nowMs })
    .where('id', '=', id).where('state', '=', 'done')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * A launch this dispatcher was deciding is put off: its row, 'launching' under `owner`, goes back to
 * pending at `dueAtMs`, the attempt it had just been counted taken back.
 */
export async function deferLaunch(db: Db, owner: string, id: string, dueAtMs: number, nowMs: number): Promise<void> {
  await db.updateTable('schedules')
    .set({ state: 'pending', due_at_ms: dueAtMs, attempts: sql<number>`attempts - 1`, lease_owner: null, lease_until_ms: null, updated_at: nowMs })
    .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'launching')
    .execute();
}

export async function finishSchedule(db: Db, id: string, state: 'done' | 'cancelled', nowMs: number, error: string | null = null): Promise<void> {
  await db.updateTable('schedules')
    .set({ state, lease_owner: null, lease_until_ms: null, last_error: error, updated_at: nowMs })
    .where('id', '=', id)
    .execute();
}

/** Who holds rows right now (claimed or launching), other than `exceptOwner`. */
export async function findOtherHolders(db: Db, exceptOwner: string): Promise<string[]> {
  const rows = await db.selectFrom('schedules').select('lease_owner').distinct()
    .where('state', 'in', ['claimed', 'launching']).where('lease_owner', 'is not', null).where('lease_owner', '<>', exceptOwner)
    .execute();
  return rows.map((r) => r.lease_owner!);
}

/**
 * Ends the leases of dead holders now, so that the next claim takes their rows over: claimed rows
 * are decided again, launching rows are launched again with their own idempotency key.
 */
export async function expireLeasesOf(db: Db, owners: readonly string[], nowMs: number): Promise<number> {
  if (owners.length === 0) return 0;
  const result = await db.updateTable('schedules').set({ lease_until_ms: 0, updated_at: nowMs })
    .where('lease_owner', 'in', owners).where('state', 'in', ['claimed', 'launching'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
