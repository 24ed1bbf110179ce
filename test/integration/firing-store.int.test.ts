// The due-instant confirmation (src/store/firing-store.ts) on its own, on each engine: which
// prepared launches it lets through, and what it answers about the others, so that the dispatcher
// can tell a changed bot (decided again from fresh data) from a moved or lost schedule (dropped).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { confirmLaunches, readBotVersions, type LaunchToConfirm } from '../../src/store/firing-store.ts';
import * as schedules from '../../src/store/schedule-store.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const OWNER = 'instance-a';
let rc: TestRollcall;
let user: { auth: string };
const clock = new ManualClock(NOW);

before(async () => {
  rc = await startTestRollcall({ clock });
  user = await rc.newUser();
});
after(() => rc.close());

/** A scheduled bot whose schedule this instance has claimed and which is due now. */
async function claimedBot(index: number): Promise<LaunchToConfirm> {
  const start = NOW + 3_600_000;
  const event = await rc.request('POST', '/api/v1/calendar/events', {
    auth: user.auth, body: { title: `Meeting ${index}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/9${String(index).padStart(9, '0')}` },
  });
  assert.equal(event.status, 201, JSON.stringify(event.body));
  const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `k${index}`, bot_config: {} } });
  assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
  const db = rc.database.db;
  await db.updateTable('schedules').set({ state: 'claimed', lease_owner: OWNER, lease_until_ms: NOW + 60_000, due_at_ms: NOW - 5 })
    .where('id', '=', scheduled.body.schedule_id).execute();
  const versions = await readBotVersions(db, [scheduled.body.bot_id]);
  return { scheduleId: scheduled.body.schedule_id, botId: scheduled.body.bot_id, version: versions.get(scheduled.body.bot_id)! };
}

test('only unchanged, still claimed and due launches are confirmed; the others come back with their bots as they are now', async () => {
  const [untouched, changed, moved, ended, otherOwner, untouched2] = await Promise.all([1, 2, 3, 4, 5, 6].map(claimedBot));
  const db = rc.database.db;
  // The bot itself changed after the launch was prepared (its config, say): decided again.
  await db.updateTable('bots').set({ bot_config: '{"bot_name":"Renamed"}', updated_at: NOW - 1 }).where('id', '=', changed!.botId).execute();
  // The schedule went back to pending (a move elsewhere), the meeting is over, another instance holds one.
  await db.updateTable('schedules').set({ state: 'pending', lease_owner: null }).where('id', '=', moved!.scheduleId).execute();
  await db.updateTable('bots').set({ meeting_end_ms: NOW - 1 }).where('id', '=', ended!.botId).execute();
  await db.updateTable('schedules').set({ lease_owner: 'instance-b' }).where('id', '=', otherOwner!.scheduleId).execute();

  const launches = [untouched!, changed!, moved!, ended!, otherOwner!, untouched2!];
  const result = await confirmLaunches(rc.database, OWNER, launches, NOW, 30_000);

  assert.deepEqual(result.confirmed.map((c) => c.scheduleId).sort(), [untouched!.scheduleId, untouched2!.scheduleId].sort());
  for (const c of result.confirmed) {
    assert.equal(c.attempts, 1);
    assert.equal(c.dueAtMs, NOW - 5);
  }
  const rows = await db.selectFrom('schedules').innerJoin('bots', 'bots.id', 'schedules.bot_id')
    .select(['schedules.id', 'schedules.state', 'bots.status']).where('schedules.id', 'in', launches.map((l) => l.scheduleId)).execute();
  const stateOf = new Map(rows.map((r) => [r.id, [r.state, r.status]]));
  assert.deepEqual(stateOf.get(untouched!.scheduleId), ['launching', 'Joining']);
  assert.deepEqual(stateOf.get(untouched2!.scheduleId), ['launching', 'Joining']);
  for (const l of [changed!, ended!, otherOwner!]) assert.deepEqual(stateOf.get(l.scheduleId), ['claimed', 'Scheduled']);
  assert.deepEqual(stateOf.get(moved!.scheduleId), ['pending', 'Scheduled']);

  // What the dispatcher reads for the rest: the changed bot's new version, the ended meeting, and
  // unchanged bots whose schedules were not ours to launch.
  const states = new Map(result.bots.map((b) => [b.id, b]));
  for (const l of [changed!, moved!, ended!, otherOwner!]) assert.ok(states.has(l.botId), `state of ${l.botId}`);
  assert.notEqual(states.get(changed!.botId)!.version, changed!.version);
  assert.equal(states.get(moved!.botId)!.version, moved!.version);
  assert.equal(states.get(otherOwner!.botId)!.version, otherOwner!.version);
  assert.equal(states.get(ended!.botId)!.meetingEndMs, NOW - 1);

  // Confirming again confirms nothing: the launches are no longer claimed.
  const again = await confirmLaunches(rc.database, OWNER, [untouched!, untouched2!], NOW, 30_000);
  assert.deepEqual(again.confirmed, []);
});

test('the lease heartbeat extends only this owner\'s leases, never shortens one, and answers the rows it extended', async () => {
  const [short, long, notOurs] = await Promise.all([11, 12, 13].map(claimedBot));
  const db = rc.database.db;
  // claimedBot leases each to NOW + 60 s; one is leased further (claimed far ahead of its due time), one is another's.
  await db.updateTable('schedules').set({ lease_until_ms: NOW + 600_000 }).where('id', '=', long!.scheduleId).execute();
  await db.updateTable('schedules').set({ lease_owner: 'instance-b' }).where('id', '=', notOurs!.scheduleId).execute();

  const renewed = await schedules.renewLeases(db, rc.database.engine, OWNER, [short!.scheduleId, long!.scheduleId, notOurs!.scheduleId], NOW + 90_000, NOW);

  assert.deepEqual(renewed, [short!.scheduleId]);
  const leases = new Map((await db.selectFrom('schedules').select(['id', 'lease_until_ms']).where('id', 'in', [short!.scheduleId, long!.scheduleId, notOurs!.scheduleId]).execute()).map((r) => [r.id, Number(r.lease_until_ms)]));
  assert.equal(leases.get(short!.scheduleId), NOW + 90_000);
  assert.equal(leases.get(long!.scheduleId), NOW + 600_000, 'a longer lease is not shortened');
  assert.equal(leases.get(notOurs!.scheduleId), NOW + 60_000, 'another owner\'s lease is not touched');
});

test('a launch result settles only its own attempt: a late result of attempt 1 leaves attempt 2 alone', async () => {
  const [first, second] = await Promise.all([21, 22].map(claimedBot));
  const db = rc.database.db;
  // Both launching as their second attempt (the first was retried, and launched again).
  await db.updateTable('schedules').set({ state: 'launching', attempts: 2 }).where('id', 'in', [first!.scheduleId, second!.scheduleId]).execute();
  // A plain object: SQLite's rows have no prototype.
  const row = async (id: string) => ({ ...await db.selectFrom('schedules').select(['state', 'attempts', 'due_at_ms', 'lease_owner']).where('id', '=', id).executeTakeFirstOrThrow() });

  await schedules.completeSchedules(db, OWNER, [{ id: first!.scheduleId, attempt: 1 }], NOW);
  assert.equal(await schedules.retrySchedule(db, OWNER, second!.scheduleId, 1, NOW + 5000, 'late answer of attempt 1', NOW), false);
  assert.deepEqual(await row(first!.scheduleId), { state: 'launching', attempts: 2, due_at_ms: NOW - 5, lease_owner: OWNER });
  assert.deepEqual(await row(second!.scheduleId), { state: 'launching', attempts: 2, due_at_ms: NOW - 5, lease_owner: OWNER });

  // Attempt 2's own results do settle them, one statement per attempt number.
  await schedules.completeSchedules(db, OWNER, [{ id: first!.scheduleId, attempt: 2 }], NOW);
  assert.equal(await schedules.retrySchedule(db, OWNER, second!.scheduleId, 2, NOW + 5000, 'runtime busy', NOW), true);
  assert.equal((await row(first!.scheduleId)).state, 'done');
  assert.deepEqual(await row(second!.scheduleId), { state: 'pending', attempts: 2, due_at_ms: NOW + 5000, lease_owner: null });
});
