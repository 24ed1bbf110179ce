// Rules about stored rows that no single constraint states, checked on every test database when its
// Rollcall closes: whatever a test file did, through whichever path, must leave them true.
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { LIVE_STATUSES } from '../../src/domain/bot-status.ts';
import { seriesEndMs } from '../../src/domain/recurrence.ts';
import { storedZoneRules } from '../../src/domain/observed-offsets.ts';

/** Rows that break a rule, described; empty when all hold. */
export async function storedInvariantViolations(database: Database): Promise<string[]> {
  const live = sql.join(LIVE_STATUSES.map((s) => sql.lit(s)));
  // is_live is 1 exactly while the bot is live (migration 012).
  const keys = await sql<{ id: string; status: string; is_live: number }>`
    select id, status, is_live from bots
     where (status in (${live})) <> (is_live = 1)
  `.execute(database.db);
  // A bot is launched once: its launch record (the Joining status change, the launched decision)
  // is written once, whoever writes it first (the dispatcher's result flush, a status report, a
  // runtime command).
  const launches = await sql<{ bot_id: string; kind: string; n: number }>`
    select bot_id, 'Joining status changes' as kind, count(*) as n from bot_status_changes where status = 'Joining' group by bot_id having count(*) > 1
    union all
    select bot_id, 'launched decisions', count(*) from bot_decisions where kind = 'launched' group by bot_id having count(*) > 1
  `.execute(database.db);
  // A series' stored end is the one its rule gives, or none (migration 036): an end too early
  // would have the events list and auto-schedule pass the series by. None is read every time (the
  // database forgets an end left as it was by a change of the rule).
  const series = await database.db.selectFrom('events').select(['id', 'start_ms', 'end_ms', 'timezone', 'recurrence', 'zone_rules', 'series_end_ms'])
    .where('recurrence', 'is not', null).execute();
  const ends = series.flatMap((r) => {
    const expected = seriesEndMs({ startMs: Number(r.start_ms), endMs: Number(r.end_ms), timeZone: r.timezone ?? 'UTC', recurrence: JSON.parse(r.recurrence!) as string[], zoneRules: storedZoneRules(r.zone_rules) });
    const stored = r.series_end_ms === null ? null : Number(r.series_end_ms);
    return stored === null || stored === expected ? [] : [`series ${r.id} has series_end_ms ${stored}, its rule ends at ${expected}`];
  });
  // A slot (migration 051) is an Outlook instance's: events are never removed, so its event is
  // there, an instance of a provider series (not a series row, not a single event).
  const slots = await sql<{ event_id: string }>`
    select s.event_id from instance_slots s left join events e on e.id = s.event_id
     where e.id is null or e.provider_series_id is null or e.recurrence is not null
  `.execute(database.db);
  // A chain's served slots are an Outlook series' (a series row's chain records none), the latest 50
  // at most, each a slot and the bot booked for it.
  const chains = await database.db.selectFrom('recurring_chains').select(['series_event_id', 'served_slots']).where('served_slots', 'is not', null).execute();
  const served = chains.flatMap((c) => {
    const list = JSON.parse(c.served_slots!) as unknown;
    const isWellFormed = Array.isArray(list) && list.length <= 50 && list.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'number' && typeof entry[1] === 'string');
    return isWellFormed && c.series_event_id.startsWith('instances:') ? [] : [`chain ${c.series_event_id} has served_slots ${c.served_slots}`];
  });
  return [
    ...slots.rows.map((r) => `instance_slots row for ${r.event_id}, not an Outlook instance's`),
    ...served,
    ...keys.rows.map((r) => `bot ${r.id} is ${r.status} with is_live ${r.is_live}`),
    ...launches.rows.map((r) => `bot ${r.bot_id} has ${Number(r.n)} ${r.kind}`),
    ...ends,
  ];
}
