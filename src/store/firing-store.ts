// The due-instant confirmation of prepared launches (src/scheduler/launch-preparation.ts), written
// for speed: it runs at the top of the hour for thousands of bots at once, and whatever it costs
// makes every launch after the first that much later.
//
// - The id lists are bound as one parameter (a PostgreSQL array; a JSON array read with
//   json_each on SQLite), so the statement text is the same for every batch size: it is parsed
//   and planned once, not once per batch size.
// - On PostgreSQL the whole confirmation is one statement, and so one round trip: data-modifying
//   CTEs lock the bots (skipping any another transaction holds: a request changing one, or the
//   webhook sender recording an attempt of one's webhook), keep those whose version is unchanged,
//   turn their still-claimed, still-due schedules into 'launching' and the bots into 'Joining'. Its
//   commit does not wait for the disk (set_config local to the statement's own transaction; see
//   inTransactionWithoutWaitingForDisk for why that is safe here).
// - On SQLite the check and the schedules' change are one conditional update (UPDATE ... FROM),
//   the bots' change a second, in one transaction in this process; bots are read only for the
//   launches that were not confirmed.
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Db } from './event-store.ts';
import { inTransactionWithoutWaitingForDisk } from '../db/database.ts';

export interface LaunchToConfirm {
  scheduleId: string;
  botId: string;
  /** The bot's version when the launch was prepared (botVersionOf). */
  version: string;
}

export interface ConfirmedLaunch {
  scheduleId: string;
  botId: string;
  dueAtMs: number;
  attempts: number;
}

export interface BotState {
  id: string;
  status: string;
  meetingEndMs: number;
  version: string;
}

export interface Confirmation {
  /** Now 'launching', their bots 'Joining': send them. */
  confirmed: ConfirmedLaunch[];
  /**
   * The bots that could be locked, as they are now (on SQLite only those of the launches not
   * confirmed); a bot missing here is held by another transaction (a request, or the webhook
   * sender).
   */
  bots: BotState[];
}

/** The version expression, the same on both engines and in botVersionOf. */
const VERSION_SQL = `cast(b.updated_at as text) || '/' || cast(coalesce((select max(e.updated_at) from bot_events e where e.bot_id = b.id), 0) as text)`;

/** The versions of some bots now, as confirmLaunches will compare them (launch preparation). */
export async function readBotVersions(db: Db, botIds: readonly string[]): Promise<Map<string, string>> {
  if (botIds.length === 0) return new Map();
  const rows = await sql<{ id: string; version: string }>`
    select b.id, ${sql.raw(VERSION_SQL)} as version from bots b where b.id in (${sql.join(botIds)})
  `.execute(db);
  return new Map(rows.rows.map((r) => [r.id, r.version]));
}

export async function confirmLaunches(database: Database, owner: string, launches: readonly LaunchToConfirm[], nowMs: number, leaseMs: number): Promise<Confirmation> {
  if (launches.length === 0) return { confirmed: [], bots: [] };
  return database.engine === 'postgres' ? confirmOnPostgres(database, owner, launches, nowMs, leaseMs) : confirmOnSqlite(database, owner, launches, nowMs, leaseMs);
}

interface ConfirmRow {
  kind: 'bot' | 'confirmed';
  id: string;
  status: string | null;
  meeting_end_ms: number | null;
  version: string | null;
  bot_id: string | null;
  due_at_ms: number | null;
  attempts: number | null;
}

async function confirmOnPostgres(database: Database, owner: string, launches: readonly LaunchToConfirm[], nowMs: number, leaseMs: number): Promise<Confirmation> {
  const botIds = launches.map((l) => l.botId);
  const scheduleIds = launches.map((l) => l.scheduleId);
  const versions = launches.map((l) => l.version);
  // The planner knows nothing of a CTE's size; each step is written so that the plan it picks is
  // index lookups driven by the (small) list: the list joined to bots by primary key, schedules
  // joined to those by bot (unique).
  const result = await sql<ConfirmRow>`
    with locked as (
      select b.id, w.schedule_id, w.version as expected, b.status, b.meeting_end_ms, ${sql.raw(VERSION_SQL)} as version
        from unnest(${botIds}::text[], ${scheduleIds}::text[], ${versions}::text[]) as w(bot_id, schedule_id, version)
        join bots b on b.id = w.bot_id
       -- The list again as a filter on bots itself: the bots not in the batch are dropped before
       -- the join, not after (EXPLAIN ANALYZE, 500 of 10,000 bots: 6.4 ms for this step before,
       -- 4.3 ms after; with many more bots the planner reads them by primary key instead).
       where b.id = any(${botIds}::text[])
       order by b.id for update of b skip locked
    ), launching as (
      update schedules s set state = 'launching', attempts = s.attempts + 1, lease_until_ms = ${nowMs + leaseMs}, updated_at = ${nowMs}
        from locked l
       where s.id = l.schedule_id and s.bot_id = l.id
         and l.status = 'Scheduled' and l.meeting_end_ms > ${nowMs} and l.version = l.expected
         -- State and due time as expressions: as columns they invite the (state, ...) indexes,
         -- whose statistics know nothing of a burst, into a plan that scans every claimed row.
         and s.lease_owner = ${owner} and s.state || '' = 'claimed' and s.due_at_ms + 0 <= ${nowMs}
      returning s.id, s.bot_id, s.due_at_ms, s.attempts
    ), joining as (
      update bots b set status = 'Joining', launched_at = ${nowMs}, updated_at = ${nowMs}
        from launching c
       where b.id = c.bot_id and b.status = 'Scheduled'
    ), relaxed as (
      select set_config('synchronous_commit', 'off', true)
    )
    select 'bot' as kind, l.id, l.status, l.meeting_end_ms, l.version, null as bot_id, null::bigint as due_at_ms, null::int as attempts from locked l, relaxed
    union all
    select 'confirmed', c.id, null, null, null, c.bot_id, c.due_at_ms, c.attempts from launching c
  `.execute(database.db);
  return toConfirmation(result.rows);
}

async function confirmOnSqlite(database: Database, owner: string, launches: readonly LaunchToConfirm[], nowMs: number, leaseMs: number): Promise<Confirmation> {
  const expected = JSON.stringify(launches.map((l) => [l.scheduleId, l.version]));
  return inTransactionWithoutWaitingForDisk(database, async (trx) => {
    // The check and the state change in one statement: a schedule turns 'launching' only if its bot
    // is still Scheduled, its meeting not over and its version the one prepared. No bot row is read
    // into this process for the launches that pass, which are nearly all of them.
    // (The state and due time as expressions, for the reason given at markLaunching.)
    const confirmed = (await sql<{ id: string; bot_id: string; due_at_ms: number; attempts: number }>`
      with w(schedule_id, version) as (select value ->> 0, value ->> 1 from json_each(${expected}))
      update schedules set state = 'launching', attempts = attempts + 1, lease_until_ms = ${nowMs + leaseMs}, updated_at = ${nowMs}
        from w, bots b
       where schedules.id = w.schedule_id and b.id = schedules.bot_id and schedules.lease_owner = ${owner}
         and schedules.state || '' = 'claimed' and schedules.due_at_ms + 0 <= ${nowMs}
         and b.status = 'Scheduled' and b.meeting_end_ms > ${nowMs} and ${sql.raw(VERSION_SQL)} = w.version
      returning schedules.id, schedules.bot_id, schedules.due_at_ms, schedules.attempts
    `.execute(trx)).rows;
    if (confirmed.length > 0) {
      await sql`
        update bots set status = 'Joining', launched_at = ${nowMs}, updated_at = ${nowMs}
         where id in (select value from json_each(${JSON.stringify(confirmed.map((c) => c.bot_id))})) and status = 'Scheduled'
      `.execute(trx);
    }
    // The rest (rare): their bots as they are now, for the dispatcher to tell a change from a move.
    const confirmedIds = new Set(confirmed.map((c) => c.id));
    const others = launches.filter((l) => !confirmedIds.has(l.scheduleId)).map((l) => l.botId);
    const states = others.length === 0 ? [] : (await sql<{ id: string; status: string; meeting_end_ms: number; version: string }>`
      select b.id, b.status, b.meeting_end_ms, ${sql.raw(VERSION_SQL)} as version
        from bots b where b.id in (select value from json_each(${JSON.stringify(others)}))
    `.execute(trx)).rows;
    return toConfirmation([
      ...states.map((b) => ({ kind: 'bot' as const, id: b.id, status: b.status, meeting_end_ms: b.meeting_end_ms, version: b.version, bot_id: null, due_at_ms: null, attempts: null })),
      ...confirmed.map((c) => ({ kind: 'confirmed' as const, id: c.id, status: null, meeting_end_ms: null, version: null, bot_id: c.bot_id, due_at_ms: c.due_at_ms, attempts: c.attempts })),
    ]);
  });
}

function toConfirmation(rows: readonly ConfirmRow[]): Confirmation {
  const confirmation: Confirmation = { confirmed: [], bots: [] };
  for (const row of rows) {
    if (row.kind === 'bot') confirmation.bots.push({ id: row.id, status: row.status!, meetingEndMs: Number(row.meeting_end_ms), version: row.version! });
    else confirmation.confirmed.push({ scheduleId: row.id, botId: row.bot_id!, dueAtMs: Number(row.due_at_ms), attempts: Number(row.attempts) });
  }
  return confirmation;
}
