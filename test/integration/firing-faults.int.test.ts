// Faults inside the fire path, on both engines: a statement of the due-instant decision fails
// after another one of the same batch has committed. A database trigger of the test's own makes
// the chosen statement fail (SQLite's RAISE, PostgreSQL's RAISE EXCEPTION), the way a dropped
// connection or a full disk would, but for one row and at a known moment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { requestRuntimeCommand } from '../../src/services/scheduling/runtime-commands.ts';

async function scheduleBot(rc: TestRollcall, auth: string, key: string, joinAtMs: number, meetingId: number): Promise<string> {
  const start = joinAtMs + 600_000;
  const event = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: key, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${meetingId}` } });
  assert.equal(event.status, 201, JSON.stringify(event.body));
  const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth, body: { deduplication_key: key, bot_config: { join_at: new Date(joinAtMs).toISOString() } } });
  assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
  return scheduled.body.bot_id;
}

/**
 * A trigger of the test's own that makes `event` (e.g. "update of state", "insert") on `table`
 * fail for the rows matching `when` (an SQL condition on `new`, the same on both engines).
 */
async function failWrites(rc: TestRollcall, name: string, event: string, table: string, when: string): Promise<void> {
  const db = rc.database.db;
  if (rc.database.engine === 'sqlite') {
    await sql.raw(`create trigger ${name} before ${event} on ${table} when ${when} begin select raise(abort, 'injected fault'); end`).execute(db);
    return;
  }
  await sql.raw(`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$`).execute(db);
  // PostgreSQL names no column in the event of a row trigger's WHEN clause ("update", not "update of state").
  await sql.raw(`create trigger ${name} before ${event.split(' ')[0]} on ${table} for each row when (${when}) execute function ${name}()`).execute(db);
}

/** Makes every change of `botId`'s schedule to 'launching' fail while the table fault_switch has a row. */
async function failLaunchingOf(rc: TestRollcall, botId: string): Promise<void> {
  await sql`create table fault_switch (on_ integer)`.execute(rc.database.db);
  await sql`insert into fault_switch values (1)`.execute(rc.database.db);
  // A subquery is not allowed in PostgreSQL's WHEN: the switch is read by the condition's function there.
  const switchOn = rc.database.engine === 'sqlite' ? 'exists (select 1 from fault_switch)' : 'fault_switch_on()';
  if (rc.database.engine === 'postgres') await sql.raw('create function fault_switch_on() returns boolean language sql as $$ select exists (select 1 from fault_switch) $$').execute(rc.database.db);
  await failWrites(rc, 'fail_launching', 'update of state', 'schedules', `new.state = 'launching' and new.bot_id = '${botId}' and ${switchOn}`);
}

/**
 * Loses the answer of the next query whose text contains `fragment`, once armed, after it ran: a
 * write commits (outside a transaction), and the process sees an error, as when the connection
 * breaks between the commit and its answer.
 */
class LoseAnswerOf implements KyselyPlugin {
  armed = false;
  lost = 0;
  readonly #fragment: string;
  readonly #matching = new Set<unknown>();

  constructor(fragment: string) {
    this.#fragment = fragment;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.armed && JSON.stringify(args.node).includes(this.#fragment)) this.#matching.add(args.queryId);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (!this.#matching.delete(args.queryId) || !this.armed) return args.result;
    this.armed = false;
    this.lost++;
    // The message pg gives for a connection closed under a query.
    throw new Error('Connection terminated unexpectedly');
  }
}

/** Makes every insert into `table` for `botId` fail. */
async function failInsertsOf(rc: TestRollcall, table: 'bot_decisions', botId: string): Promise<void> {
  await failWrites(rc, `fail_${table}`, 'insert', table, `new.bot_id = '${botId}'`);
}

function launchesOf(runtime: FakeHttpReceiver, botId: string) {
  return runtime.received.filter((r) => r.json?.bot_id === botId && r.json?.action === 'launch');
}

describe('faults in the fire path', () => {
  let rc: TestRollcall;
  const runtime = new FakeHttpReceiver();
  // The launch preparation's read of the bots' versions (readBotVersions), right after a claim.
  const failPreparation = new LoseAnswerOf('as version from bots b');
  // The confirmation's statement (src/store/firing-store.ts).
  const loseConfirmation = new LoseAnswerOf("update schedules s set state = 'launching'");

  before(async () => {
    const runtimeUrl = await runtime.start();
    // A long lease: a row left to wait for its lease to run out shows as a launch 20 s late.
    rc = await startTestRollcall({ background: true, plugins: [failPreparation, loseConfirmation], settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '20' } });
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
  });

  test('a claim committed whose launch preparation failed: the bot still launches at its join time', async (t) => {
    const { auth } = await rc.newUser();
    failPreparation.armed = true;
    const joinAt = Date.now() + 3000;
    const botId = await scheduleBot(rc, auth, 'unprepared', joinAt, 8_200_000_009);
    await runtime.waitFor(() => launchesOf(runtime, botId).length > 0, 25_000);
    assert.equal(failPreparation.lost, 1, 'the preparation did not fail');
    const lateness = launchesOf(runtime, botId)[0]!.at - joinAt;
    // Left to its lease, the bot would go out some 20 s late; on time it is out within a second or
    // so. The bound sits between, well clear of both: a busy machine has taken over 1.5 s.
    assert.ok(lateness >= 0 && lateness < 6000, `launched ${lateness} ms after its join time (a lease is 20 s)`);
    t.diagnostic(`preparation failed after the claim; launched ${lateness} ms after the join time`);
  });

  test('one row\'s decision keeps failing: the rest of its batch launches at once (confirmed, or decided apart from it); it launches after the fault, each once', async (t) => {
    const { auth } = await rc.newUser();
    const joinAt = Date.now() + 4000;
    const unchanged = await scheduleBot(rc, auth, 'fast', joinAt, 8_200_000_001);
    const changed = await scheduleBot(rc, auth, 'slow', joinAt, 8_200_000_002);
    const alsoChanged = await scheduleBot(rc, auth, 'slow-ok', joinAt, 8_200_000_003);
    const states = () => rc.database.db.selectFrom('schedules').select('state').where('bot_id', 'in', [unchanged, changed, alsoChanged]).execute();
    while (!(await states()).every((s) => s.state === 'claimed')) {
      assert.ok(Date.now() < joinAt - 1000, 'not claimed ahead in time: too slow a machine for what this test checks');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Both are prepared once claimed; a change to one bot after that sends it down the slow path
    // at the due instant (decided from fresh data in a second transaction), where it fails.
    await new Promise((r) => setTimeout(r, 300));
    await rc.database.db.updateTable('bots').set({ updated_at: sql<number>`updated_at + 1` }).where('id', 'in', [changed, alsoChanged]).execute();
    await failLaunchingOf(rc, changed);
    assert.ok(Date.now() < joinAt - 300, 'the fault was in place only after the join time: too slow a machine');

    // The fault stays until 2 s after the join time: by then the unchanged bot is out, the other is not.
    await new Promise((r) => setTimeout(r, joinAt + 2000 - Date.now()));
    const fast = launchesOf(runtime, unchanged);
    assert.equal(fast.length, 1, 'the confirmed launch did not go out while the slow path was failing');
    assert.ok(fast[0]!.at - joinAt < 1500, `the confirmed launch went out ${fast[0]!.at - joinAt} ms after its join time`);
    const apart = launchesOf(runtime, alsoChanged);
    assert.equal(apart.length, 1, 'a row decided in the same slow path as the failing one did not go out');
    assert.ok(apart[0]!.at - joinAt < 1500, `the row decided apart went out ${apart[0]!.at - joinAt} ms after its join time`);
    assert.equal(launchesOf(runtime, changed).length, 0, 'launched although its decision kept failing');

    await sql`delete from fault_switch`.execute(rc.database.db);
    await runtime.waitFor(() => launchesOf(runtime, changed).length > 0, 10_000);
    const slowAt = launchesOf(runtime, changed)[0]!.at - joinAt;
    // Every result written, then nothing more was sent.
    for (const deadline = Date.now() + 8000; (await states()).some((s) => s.state !== 'done');) {
      assert.ok(Date.now() < deadline, `results not written: ${JSON.stringify(await states())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const id of [unchanged, changed, alsoChanged]) assert.equal(launchesOf(runtime, id).length, 1);
    const attempts = await rc.database.db.selectFrom('schedules').select(['bot_id', 'attempts']).where('bot_id', 'in', [unchanged, changed, alsoChanged]).execute();
    for (const row of attempts) assert.equal(row.attempts, 1, `bot ${row.bot_id} took ${row.attempts} attempts`);
    t.diagnostic(`confirmed launch ${fast[0]!.at - joinAt} ms after the join time, the one decided apart ${apart[0]!.at - joinAt} ms; the failing one ${slowAt} ms after (fault lifted at 2000 ms)`);
  });

  test('one launch\'s result cannot be written: the others of its burst are recorded at once; it is left for a takeover, launched once meanwhile', async (t) => {
    const { auth } = await rc.newUser();
    const joinAt = Date.now() + 3000;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await scheduleBot(rc, auth, `result-${i}`, joinAt, 8_200_000_020 + i));
    const [poisoned, ...others] = ids as [string, ...string[]];
    await failInsertsOf(rc, 'bot_decisions', poisoned);
    await runtime.waitFor(() => ids.every((id) => launchesOf(runtime, id).length > 0), 10_000);
    const state = async (id: string) => (await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', id).executeTakeFirstOrThrow()).state;
    for (const deadline = Date.now() + 5000; (await Promise.all(others.map(state))).some((s) => s !== 'done');) {
      assert.ok(Date.now() < deadline, `the other results were not recorded: ${JSON.stringify(await Promise.all(others.map(state)))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const recordedAfter = Date.now() - joinAt;
    for (const id of others) {
      const detail = await rc.request('GET', `/api/v1/bots/${id}`, { auth });
      assert.equal(detail.body.status, 'Joining');
      assert.ok(detail.body.decisions.some((d: { kind: string }) => d.kind === 'launched'));
    }
    // Its row is still launching (for a takeover after the lease); nothing was sent twice.
    assert.equal(await state(poisoned), 'launching');
    for (const id of ids) assert.equal(launchesOf(runtime, id).length, 1);
    t.diagnostic(`the other results recorded ${recordedAfter} ms after the join time`);
  });

  // A confirmation is one statement on PostgreSQL, committed on its own: its answer can be lost on
  // the way back. SQLite runs in the process, where a commit and its answer cannot part.
  test('a confirmation committed whose answer was lost: the rows it confirmed are launched on the next pass (taken over, same idempotency key), not a lease later, each once', async (t) => {
    if (rc.database.engine !== 'postgres') return t.skip('PostgreSQL only: SQLite commits in the process');
    const { auth } = await rc.newUser();
    const joinAt = Date.now() + 3000;
    const botIds = [
      await scheduleBot(rc, auth, 'lost-1', joinAt, 8_300_000_001),
      await scheduleBot(rc, auth, 'lost-2', joinAt, 8_300_000_002),
    ];
    loseConfirmation.armed = true;
    await runtime.waitFor(() => botIds.every((id) => launchesOf(runtime, id).length > 0), 10_000);
    assert.equal(loseConfirmation.lost, 1, 'no confirmation answer was lost');
    const lateness = botIds.map((id) => launchesOf(runtime, id)[0]!.at - joinAt);
    assert.ok(Math.max(...lateness) < 5000, `launched ${lateness.join(', ')} ms after the join time (a lease is 20 s)`);
    const schedules = () => rc.database.db.selectFrom('schedules').select(['bot_id', 'state', 'attempts', 'idempotency_key']).where('bot_id', 'in', botIds).execute();
    for (const deadline = Date.now() + 8000; (await schedules()).some((s) => s.state !== 'done');) {
      assert.ok(Date.now() < deadline, `results not written: ${JSON.stringify(await schedules())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const row of await schedules()) {
      const launches = launchesOf(runtime, row.bot_id);
      assert.equal(launches.length, 1, `bot ${row.bot_id} was sent ${launches.length} launch requests`);
      assert.equal(launches[0]!.json.idempotency_key, row.idempotency_key);
      // The lost confirmation counts as an attempt: the bot's log says the launch was retried.
      assert.equal(row.attempts, 2);
      const detail = await rc.request('GET', `/api/v1/bots/${row.bot_id}`, { auth });
      assert.equal(detail.body.status, 'Joining');
      const kinds = detail.body.decisions.map((d: { kind: string }) => d.kind);
      assert.equal(kinds.filter((k: string) => k === 'launched').length, 1, JSON.stringify(kinds));
    }
    t.diagnostic(`confirmation answer lost at the join time; launched ${lateness.join(', ')} ms after it`);
  });
});

/**
 * A Rollcall on `clock` whose http runtime is `runtime`, with `ics` serving feeds beside it, and a
 * user's credentials. A held launch stays on the wire up to 6 s: long enough for a test's API call
 * to land meanwhile on a loaded machine, short enough for a test that waits it out.
 */
async function startBesideRuntime(runtime: FakeHttpReceiver, ics: FakeIcsServer, clock: ManualClock): Promise<{ rc: TestRollcall; auth: string }> {
  const runtimeUrl = await runtime.start();
  await ics.start();
  const rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_TIMEOUT_MS: '6000', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
  return { rc, auth: (await rc.newUser()).auth };
}

async function stopBesideRuntime(rc: TestRollcall, runtime: FakeHttpReceiver, ics: FakeIcsServer): Promise<void> {
  await rc.close();
  await runtime.stop();
  await ics.stop();
}

describe('a runtime refusing launches: back after an outage, or asking to wait', () => {
  const runtime = new FakeHttpReceiver();
  const ics = new FakeIcsServer();
  const clock = new ManualClock(Date.parse('2026-12-07T09:00:00Z'));
  let rc: TestRollcall;
  let auth: string;

  before(async () => {
    ({ rc, auth } = await startBesideRuntime(runtime, ics, clock));
  });
  after(() => stopBesideRuntime(rc, runtime, ics));

  const scheduleRow = (botId: string) => rc.database.db.selectFrom('schedules').selectAll().where('bot_id', '=', botId).executeTakeFirstOrThrow();
  // Launches only: a command (an update after a move) goes to the same URL, another `action`.
  const launchesOf = (botId: string) => runtime.received.filter((r) => r.json?.bot_id === botId && r.json?.action === 'launch');

  test('launches waiting out their backoff go as soon as the runtime takes one again, not up to a minute later; a Retry-After wait is kept', async () => {
    const t0 = clock.now();
    const early = await scheduleBot(rc, auth, 'backoff-early', t0 + 60_000, 81_000_000_001);
    const polite = await scheduleBot(rc, auth, 'backoff-retry-after', t0 + 60_000, 81_000_000_002);
    // The runtime is down (503), asking one launch to wait 300 s (Retry-After).
    runtime.respond = (r) => (r.json?.bot_id === polite ? { status: 503, headers: { 'retry-after': '300' }, body: {} } : { status: 503, body: {} });
    clock.set(t0 + 60_000);
    await rc.dispatcher.runDue();
    // The early bot fails again and again: its backoff grows to half a minute.
    for (let i = 0; i < 5; i++) {
      clock.set(Number((await scheduleRow(early)).due_at_ms));
      await rc.dispatcher.runDue();
    }
    const waitingUntil = Number((await scheduleRow(early)).due_at_ms);
    assert.ok(waitingUntil - clock.now() >= 20_000, `the early bot waits ${waitingUntil - clock.now()} ms`);
    // The runtime comes back; a bot due now has its first launch taken.
    runtime.respond = () => ({ status: 202, body: {} });
    const late = await scheduleBot(rc, auth, 'backoff-late', clock.now() + 1_000, 81_000_000_003);
    clock.advance(1_000);
    await rc.dispatcher.runDue();
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(late)).state, 'done');
    assert.equal((await scheduleRow(early)).state, 'done', `the early bot was launched at once (its retry was due ${waitingUntil - clock.now()} ms later)`);
    assert.equal(launchesOf(early).length, 7, 'six refused attempts, then the one taken');
    assert.ok(Number((await scheduleRow(polite)).due_at_ms) > clock.now() + 100_000, 'the launch asked to wait by Retry-After still waits');
  });

  const eventOf = new Map<string, string>();
  /** A bot joining at the start of a meeting of `minutes`, asked to be refused with `retryAfter`. */
  async function refusedBot(key: string, startMs: number, minutes: number, meetingId: number, retryAfter: string): Promise<string> {
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: key, start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + minutes * 60_000).toISOString(), meeting_url: `https://zoom.us/j/${meetingId}` } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth, body: { deduplication_key: key, bot_config: { join_at: new Date(startMs).toISOString(), callback_url: 'http://127.0.0.1:9/hooks' } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    eventOf.set(botId, event.body.id);
    const usual = runtime.respond;
    runtime.respond = (r) => (r.json?.bot_id === botId ? { status: 429, headers: { 'retry-after': retryAfter }, body: {} } : usual(r));
    return botId;
  }
  const statusOf = async (botId: string) => (await rc.request('GET', `/api/v1/bots/${botId}`, { auth })).body;

  test('a Retry-After reaching past the meeting\'s end: the bot waits no later than the end, and fails there (Error, bot.failed) without another launch', async () => {
    const start = clock.now() + 60_000;
    const end = start + 60_000;
    const botId = await refusedBot('wait-past-end', start, 1, 82_000_000_001, '3600');
    clock.set(start);
    await rc.dispatcher.runDue();
    const waiting = await scheduleRow(botId);
    assert.equal(waiting.state, 'pending');
    assert.equal(Number(waiting.due_at_ms), end, 'the retry waits for the meeting\'s end, not an hour');
    assert.equal((await statusOf(botId)).status, 'Joining');
    clock.set(end - 1);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 1, 'the runtime that asked to wait is not called again during the meeting');
    clock.set(end);
    await rc.dispatcher.runDue();
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Error');
    assert.match(detail.status_timeline.at(-1).reason, /did not accept the launch before the meeting ended \(runtime answered 429\)/);
    assert.equal(launchesOf(botId).length, 1);
    const payloads = await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).execute();
    assert.equal(JSON.parse(payloads.at(-1)!.payload).bot_event, 'bot.failed');
    assert.equal((await scheduleRow(botId)).state, 'done');
  });

  test('a Retry-After of 20 digits is read as an hour: written (PostgreSQL\'s bigint included) and waited out, not relaunched at each lease', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('wait-absurd', start, 180, 82_000_000_002, '100000000000000000000');
    clock.set(start);
    await rc.dispatcher.runDue();
    const waiting = await scheduleRow(botId);
    assert.equal(waiting.state, 'pending', waiting.last_error ?? '');
    assert.equal(Number(waiting.due_at_ms), start + 3_600_000);
    // Past several leases, nothing is sent again before the hour.
    clock.set(start + 3_599_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 1);
    runtime.respond = () => ({ status: 202, body: {} });
    clock.set(start + 3_600_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 2);
    assert.equal((await scheduleRow(botId)).state, 'done');
  });

  /** Moves the bot's event (PATCH, as a calendar change would) to end at `endMs`. */
  async function moveEnd(botId: string, endMs: number): Promise<void> {
    const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventOf.get(botId)}`, { auth, body: { end_time: new Date(endMs).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
  }

  test('a meeting moved later while its launch waits past the end it had: the bot is not failed at the old end, and is tried when the runtime asked', async () => {
    const start = clock.now() + 60_000;
    const end = start + 60_000;
    const botId = await refusedBot('moved-later', start, 1, 82_000_000_003, '1800');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), end, 'held to the meeting\'s end');
    // The meeting now lasts two hours: the retry is due when the runtime asked (30 min), not at the end it had.
    await moveEnd(botId, start + 2 * 3_600_000);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 1_800_000);
    clock.set(end);
    await rc.dispatcher.runDue();
    assert.equal((await statusOf(botId)).status, 'Joining', 'not failed at the end the meeting had');
    assert.equal(launchesOf(botId).length, 1, 'nor tried before the time the runtime asked for');
    runtime.respond = () => ({ status: 202, body: {} });
    clock.set(start + 1_800_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 2);
    assert.equal((await scheduleRow(botId)).state, 'done');
    assert.equal((await statusOf(botId)).status, 'Joining');
  });

  test('a meeting moved later, then still refused: the bot fails at the new end (Error, bot.failed), not at the old one', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-later-refused', start, 1, 82_000_000_004, '3600');
    clock.set(start);
    await rc.dispatcher.runDue();
    const newEnd = start + 10 * 60_000;
    await moveEnd(botId, newEnd);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), newEnd);
    clock.set(start + 60_000);
    await rc.dispatcher.runDue();
    assert.equal((await statusOf(botId)).status, 'Joining');
    clock.set(newEnd);
    await rc.dispatcher.runDue();
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Error');
    assert.equal(launchesOf(botId).length, 1);
    const payloads = await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).execute();
    assert.equal(JSON.parse(payloads.at(-1)!.payload).bot_event, 'bot.failed');
  });

  test('a meeting moved earlier while its launch waits: the retry is held to the new end, where the bot fails', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-earlier', start, 180, 82_000_000_005, '3600');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 3_600_000);
    const newEnd = start + 5 * 60_000;
    await moveEnd(botId, newEnd);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), newEnd, 'not left waiting past the new end');
    clock.set(newEnd);
    await rc.dispatcher.runDue();
    assert.equal((await statusOf(botId)).status, 'Error');
    assert.equal(launchesOf(botId).length, 1);
    assert.equal((await scheduleRow(botId)).state, 'done');
  });

  test('a meeting moved later while its launch is on the wire: a refusal that comes back is held to the new end, not the old', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-in-flight', start, 1, 82_000_000_009, '1800');
    let release!: () => void;
    const answered = new Promise<void>((resolve) => { release = resolve; });
    const refusing = runtime.respond;
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { ...refusing(r), release: answered } : refusing(r));
    clock.set(start);
    const firing = rc.dispatcher.runDue();
    await runtime.waitFor(() => launchesOf(botId).length === 1);
    await moveEnd(botId, start + 2 * 3_600_000);
    release();
    await firing;
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 1_800_000, 'the time the runtime asked for, within the new end');
  });

  test('a calendar sync that moves the meeting later while its launch waits: the retry follows the new end, and the bot is not failed at the old one', async () => {
    // On a whole minute: an iCalendar feed says its times to the second.
    const start = Math.ceil((clock.now() + 60_000) / 60_000) * 60_000;
    const end = start + 60_000;
    const feed = ics.createFeed();
    ics.edit(feed, (events) => events.push({ uid: 'moved-by-sync@fake', summary: 'Moved by sync', startMs: start, endMs: end, location: 'https://zoom.us/j/82000000008' }));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const eventId = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}`, { auth })).body.results[0].id as string;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'moved-by-sync', bot_config: { join_at: new Date(start).toISOString() } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    const usual = runtime.respond;
    runtime.respond = (r) => (r.json?.bot_id === botId ? { status: 429, headers: { 'retry-after': '1200' }, body: {} } : usual(r));
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), end, 'held to the meeting\'s end');
    // The organiser makes the meeting an hour long; the next sync reads it.
    ics.edit(feed, (events) => { events[0]!.endMs = start + 3_600_000; });
    const sync = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth });
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 1_200_000, 'the time the runtime asked for, within the new end');
    clock.set(end);
    await rc.dispatcher.runDue();
    assert.equal((await statusOf(botId)).status, 'Joining');
    assert.equal(launchesOf(botId).length, 1);
  });

  test('a meeting deleted while its launch waits to be retried: the launch is not tried again (the bot is Stopped), and the runtime is asked to stop it', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('deleted-while-waiting', start, 180, 82_000_000_006, '600');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(botId)).state, 'pending');
    const deleted = await rc.request('DELETE', `/api/v1/calendar/events/${eventOf.get(botId)}`, { auth });
    assert.ok(deleted.status < 300, JSON.stringify(deleted.body));
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Stopped');
    assert.equal((await scheduleRow(botId)).state, 'done');
    clock.set(start + 600_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 1, 'no launch into a meeting that is gone');
    assert.ok(runtime.received.some((r) => r.json?.bot_id === botId && r.json?.action === 'stop'), 'a stop, should an unanswered attempt have started it');
  });

  test('a meeting moved into the past while its launch waits to be retried: the bot fails at once (Error), not launched into a meeting that is over', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-into-the-past', start, 180, 82_000_000_007, '600');
    clock.set(start + 120_000);
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(botId)).state, 'pending');
    await moveMeeting(botId, start - 3_600_000, start - 1_800_000);
    assert.equal((await statusOf(botId)).status, 'Error');
    clock.set(start + 720_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 1);
  });

  test('each of a bot\'s events says when it let go of the bot while the bot was live (removed_at), also once the bot ended for it; not an event the bot let go of by ending', async () => {
    const eventRemovedAt = async (botId: string) => {
      const detail = await statusOf(botId);
      assert.equal(detail.events.length, 1, JSON.stringify(detail.events));
      return { status: detail.status as string, isLinked: detail.events[0].is_linked as boolean, removedAt: detail.events[0].removed_at as string | null };
    };
    const report = async (botId: string, status: string) => {
      const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', botId).executeTakeFirstOrThrow();
      const answer = await rc.request('POST', `/api/v1/bots/${botId}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    };
    // A launch waiting to be retried when its meeting is deleted: Stopped at that very instant.
    let start = clock.now() + 60_000;
    const waiting = await refusedBot('removed-while-waiting', start, 180, 82_000_000_031, '600');
    clock.set(start);
    await rc.dispatcher.runDue();
    clock.advance(5_000);
    const deletedAt = new Date(clock.now()).toISOString();
    assert.ok((await rc.request('DELETE', `/api/v1/calendar/events/${eventOf.get(waiting)}`, { auth })).status < 300);
    assert.deepEqual(await eventRemovedAt(waiting), { status: 'Stopped', isLinked: false, removedAt: deletedAt });
    // Moved to a time already over while its launch waits: Error at that instant.
    start = clock.now() + 60_000;
    const moved = await refusedBot('removed-moved-past', start, 180, 82_000_000_032, '600');
    clock.set(start + 120_000);
    await rc.dispatcher.runDue();
    const movedAt = new Date(clock.now()).toISOString();
    await moveMeeting(moved, start - 3_600_000, start - 1_800_000);
    assert.deepEqual(await eventRemovedAt(moved), { status: 'Error', isLinked: false, removedAt: movedAt });
    // In its meeting when its event is deleted: the runtime is asked to stop it, and reports Stopped later.
    runtime.respond = () => ({ status: 202, body: {} });
    start = clock.now() + 60_000;
    const inMeeting = await scheduleBot(rc, auth, 'removed-in-meeting', start, 82_000_000_033);
    eventOf.set(inMeeting, (await statusOf(inMeeting)).events[0].event_id);
    clock.set(start);
    await rc.dispatcher.runDue();
    await report(inMeeting, 'InMeeting');
    clock.advance(5_000);
    const goneAt = new Date(clock.now()).toISOString();
    assert.ok((await rc.request('DELETE', `/api/v1/calendar/events/${eventOf.get(inMeeting)}`, { auth })).status < 300);
    assert.deepEqual(await eventRemovedAt(inMeeting), { status: 'InMeeting', isLinked: false, removedAt: goneAt });
    clock.advance(5_000);
    await report(inMeeting, 'Stopped');
    assert.deepEqual(await eventRemovedAt(inMeeting), { status: 'Stopped', isLinked: false, removedAt: goneAt });
    // Ran its meeting and ended, or cancelled by the client: ending let go of the event, which took nothing from it.
    start = clock.now() + 60_000;
    const ran = await scheduleBot(rc, auth, 'ran-and-ended', start, 82_000_000_034);
    clock.set(start);
    await rc.dispatcher.runDue();
    await report(ran, 'InMeeting');
    clock.advance(5_000);
    await report(ran, 'Done');
    assert.deepEqual(await eventRemovedAt(ran), { status: 'Done', isLinked: false, removedAt: null });
    const cancelled = await scheduleBot(rc, auth, 'cancelled-by-client', clock.now() + 3_600_000, 82_000_000_035);
    const removed = await rc.request('GET', `/api/v1/bots/${cancelled}/remove_bot`, { auth });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(await eventRemovedAt(cancelled), { status: 'Cancelled', isLinked: false, removedAt: null });
    // Unscheduled from its event: the event let go of it, and it is cancelled for that.
    const unscheduled = await scheduleBot(rc, auth, 'unscheduled', clock.now() + 3_600_000, 82_000_000_036);
    const unscheduledAt = new Date(clock.now()).toISOString();
    const unscheduling = await rc.request('DELETE', `/api/v1/calendar/schedule/${(await statusOf(unscheduled)).events[0].event_id}`, { auth });
    assert.equal(unscheduling.status, 200, JSON.stringify(unscheduling.body));
    assert.deepEqual(await eventRemovedAt(unscheduled), { status: 'Cancelled', isLinked: false, removedAt: unscheduledAt });
  });

  test('an event that let go of a bot in its meeting keeps its removed_at when the runtime reports the bot Stopped in that same millisecond', async () => {
    runtime.respond = () => ({ status: 202, body: {} });
    const start = clock.now() + 60_000;
    const botId = await scheduleBot(rc, auth, 'same-ms-stop', start, 82_000_000_041);
    const eventId = (await statusOf(botId)).events[0].event_id;
    clock.set(start);
    await rc.dispatcher.runDue();
    const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', botId).executeTakeFirstOrThrow();
    const report = async (status: string) => {
      const answer = await rc.request('POST', `/api/v1/bots/${botId}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    };
    await report('InMeeting');
    clock.advance(5_000);
    const goneAt = new Date(clock.now()).toISOString();
    assert.ok((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth })).status < 300);
    assert.equal((await statusOf(botId)).events[0].removed_at, goneAt, 'while in the meeting');
    // The clock has not moved: the runtime's report ends the bot in the instant its event let go of it.
    await report('Stopped');
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Stopped');
    assert.equal(detail.events[0].removed_at, goneAt, 'once the runtime stopped it');
  });

  test('an event unscheduled and then scheduled again onto the bot it had let go of is listed once, holding it, not as removed', async () => {
    const start = clock.now() + 3_600_000;
    const mk = async (title: string) => {
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: 'https://zoom.us/j/82000000099' } });
      assert.equal(event.status, 201, JSON.stringify(event.body));
      return event.body.id as string;
    };
    const [e1, e2] = [await mk('relink-1'), await mk('relink-2')];
    const book = async (eventId: string) => {
      const r = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'relink', bot_config: {} } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.bot_id as string;
    };
    const botId = await book(e1);
    assert.equal(await book(e2), botId, 'one bot for the meeting');
    const un = await rc.request('DELETE', `/api/v1/calendar/schedule/${e1}`, { auth });
    assert.equal(un.status, 200, JSON.stringify(un.body));
    clock.advance(1_000);
    assert.equal(await book(e1), botId, 'scheduled again, onto the same bot');
    const detail = await statusOf(botId);
    const e1Entries = (detail.events as { event_id: string; is_linked: boolean; removed_at: string | null }[]).filter((e) => e.event_id === e1);
    assert.deepEqual(e1Entries.map((e) => [e.is_linked, e.removed_at]), [[true, null]], `event ${e1} holds the bot again: ${JSON.stringify(detail.events)}`);
  });


  /** The runtime takes the bot's commands (update, stop) while it keeps refusing its launches. */
  function takeCommands(botId: string): void {
    const refusing = runtime.respond;
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action !== 'launch' ? { status: 202, body: {} } : refusing(r));
  }
  /** The bot's next launch is answered (as before: refused) only once the returned function is called. */
  function holdLaunch(botId: string): () => void {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => { release = resolve; });
    const refusing = runtime.respond;
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { ...refusing(r), release: answered } : refusing(r));
    return release;
  }
  const actionsOf = (botId: string) => runtime.received.filter((r) => r.json?.bot_id === botId).map((r) => r.json?.action as string);
  /** The bot ended in `status` once: one status change to it, one webhook of it, and one bot.joining before. */
  async function assertEndedOnce(botId: string, status: string, botEvent: string): Promise<void> {
    const detail = await statusOf(botId);
    assert.equal(detail.status, status);
    assert.equal(detail.status_timeline.filter((c: { status: string }) => c.status === status).length, 1, JSON.stringify(detail.status_timeline));
    const events = (await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).execute()).map((w) => JSON.parse(w.payload).bot_event as string);
    assert.equal(events.filter((e) => e === botEvent).length, 1, events.join(','));
    assert.equal(events.filter((e) => e === 'bot.joining').length, 1, events.join(','));
    assert.equal((await scheduleRow(botId)).state, 'done');
  }
  /**
   * Fires the bot at `start` and runs `meanwhile` while its launch is held on the wire; then the
   * runtime's refusal comes back (with `isAnswered: false` none does: the client gives up at its
   * timeout), and the dispatcher looks once more.
   */
  async function whileLaunchOnWire(botId: string, start: number, meanwhile: () => Promise<void>, { isAnswered = true } = {}): Promise<void> {
    takeCommands(botId);
    const release = holdLaunch(botId);
    clock.set(start);
    const firing = rc.dispatcher.runDue();
    await runtime.waitFor(() => launchesOf(botId).length === 1);
    await meanwhile();
    if (isAnswered) release();
    await firing;
    await rc.dispatcher.runDue();
  }
  /** Moves the bot's event to [startMs, endMs) through the API. */
  async function moveMeeting(botId: string, startMs: number, endMs: number): Promise<void> {
    const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventOf.get(botId)}`, { auth, body: { start_time: new Date(startMs).toISOString(), end_time: new Date(endMs).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
  }
  /** Takes the meeting link out of the bot's event (moved to a room). */
  async function takeLinkOut(botId: string): Promise<void> {
    const patched = await rc.request('PATCH', `/api/v1/calendar/events/${eventOf.get(botId)}`, { auth, body: { meeting_url: null, location: 'Room 4' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
  }
  /** Lets the bot's retry come due with a runtime that now takes everything; nothing may go out but what `expected` says. */
  async function passRetry(botId: string, atMs: number, expected: string[]): Promise<void> {
    runtime.respond = () => ({ status: 202, body: {} });
    clock.set(atMs);
    await rc.dispatcher.runDue();
    await rc.dispatcher.runDue();
    assert.deepEqual(actionsOf(botId), expected);
  }

  test('a meeting deleted while its launch is on the wire: the refusal that comes back ends the bot (Stopped, once), and the launch is not tried again after the stop', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('deleted-in-flight', start, 180, 82_000_000_011, '600');
    await whileLaunchOnWire(botId, start, async () => {
      const deleted = await rc.request('DELETE', `/api/v1/calendar/events/${eventOf.get(botId)}`, { auth });
      assert.ok(deleted.status < 300, JSON.stringify(deleted.body));
      assert.equal((await statusOf(botId)).status, 'Joining', 'on the wire, the launch may yet be taken: a stop is queued');
    });
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
  });

  test('a meeting moved into the past while its launch is on the wire: the bot has not gone, so a stop is queued; the refusal that comes back ends it (Stopped, once), and it is not tried again', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-past-in-flight', start, 180, 82_000_000_013, '600');
    await whileLaunchOnWire(botId, start, async () => {
      await moveMeeting(botId, start - 7_200_000, start - 3_600_000);
      const detail = await statusOf(botId);
      assert.equal(detail.status, 'Joining', 'on the wire, the launch may yet be taken: a stop is queued');
      assert.ok(detail.decisions.some((d: { kind: string; reason: string }) => d.kind === 'stop_requested' && /moved into the past/.test(d.reason)), JSON.stringify(detail.decisions));
      assert.ok(!detail.decisions.some((d: { kind: string }) => d.kind === 'moved_by_calendar'), JSON.stringify(detail.decisions));
    });
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    const ended = (await statusOf(botId)).decisions.filter((d: { kind: string }) => d.kind === 'stopped');
    assert.equal(ended.length, 1, JSON.stringify(ended));
    assert.match(ended[0].reason, /moved into the past; the runtime had not accepted the bot's launch, which is not tried again/);
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
  });

  test('a stop queued after the refusal was written (a deletion committing between the two) ends the bot when its retry comes due, without launching it', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('stopped-after-refusal', start, 180, 82_000_000_012, '600');
    takeCommands(botId);
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(botId)).state, 'pending');
    // What the deletion writes for a bot whose launch is on the wire: a stop, the bot left Joining.
    await rc.database.db.transaction().execute(async (trx) => {
      const bot = await trx.selectFrom('bots').selectAll().where('id', '=', botId).executeTakeFirstOrThrow();
      await requestRuntimeCommand(trx, bot, 'stop', `Event ${eventOf.get(botId)} was deleted`, clock.now());
    });
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    assert.match((await statusOf(botId)).status_timeline.at(-1).reason, /was deleted; the runtime had not accepted the bot's launch/);
  });

  test('remove_bot while the launch waits to be retried: the bot is Stopped at once (once), the retry is not launched, and the runtime is asked to stop it', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('removed-while-waiting', start, 180, 82_000_000_013, '600');
    takeCommands(botId);
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(botId)).state, 'pending');
    const removed = await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.status, 'Stopped');
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    const again = await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'bot_not_in_meeting');
  });

  test('remove_bot while the launch is on the wire: the refusal that comes back ends the bot (Stopped, once) instead of a retry after the stop', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('removed-in-flight', start, 180, 82_000_000_014, '600');
    await whileLaunchOnWire(botId, start, async () => {
      const removed = await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(removed.body.status, 'Joining', 'on the wire, the launch may yet be taken: a stop is queued');
    });
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
  });

  test('the meeting link taken out of the event while the launch waits to be retried: the bot does not go (Stopped, once), and the event may be booked again', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('link-removed-while-waiting', start, 180, 82_000_000_015, '600');
    takeCommands(botId);
    clock.set(start);
    await rc.dispatcher.runDue();
    await takeLinkOut(botId);
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    const link = await rc.database.db.selectFrom('bot_events').select(['is_live', 'end_cause']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(Number(link.is_live), 0);
    assert.equal(link.end_cause, 'link_removed', 'the bot never reached the meeting: the event did not have one');
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
    assert.ok(!(await statusOf(botId)).decisions.some((d: { kind: string }) => d.kind === 'launch_retried'));
  });

  test('the meeting link taken out of the event while the launch is on the wire: the refusal that comes back ends the bot, not a retry to the removed link', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('link-removed-in-flight', start, 180, 82_000_000_016, '600');
    await whileLaunchOnWire(botId, start, () => takeLinkOut(botId));
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    await passRetry(botId, start + 600_000, ['launch']);
  });

  test('the calendar disconnected while the launch waits to be retried: the bot has not gone, so it is Stopped (once) as a waiting bot is cancelled, not launched afterwards', async () => {
    const start = Math.ceil((clock.now() + 60_000) / 60_000) * 60_000;
    const feed = ics.createFeed();
    ics.edit(feed, (events) => events.push({ uid: 'disconnected-while-waiting@fake', summary: 'Disconnected', startMs: start, endMs: start + 3_600_000, location: 'https://zoom.us/j/82000000022' }));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const eventId = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}`, { auth })).body.results[0].id as string;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'disconnected-while-waiting', bot_config: { join_at: new Date(start).toISOString(), callback_url: 'http://127.0.0.1:9/hooks' } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { status: 429, headers: { 'retry-after': '600' }, body: {} } : { status: 202, body: {} });
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(botId)).state, 'pending');
    const disconnected = await rc.request('DELETE', `/api/v1/calendar/connections/${calendarId}`, { auth });
    assert.equal(disconnected.status, 200, JSON.stringify(disconnected.body));
    assert.equal(disconnected.body.bots_cancelled, 1, 'counted among the bots the disconnect ended');
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
  });

  test('a meeting moved a day later while its launch waits to be retried: the retry waits for the new join time and carries it, instead of going a day early', async () => {
    const start = clock.now() + 60_000;
    const day = 86_400_000;
    const botId = await refusedBot('moved-next-day', start, 60, 82_000_000_017, '600');
    clock.set(start);
    await rc.dispatcher.runDue();
    await moveMeeting(botId, start + day, start + day + 3_600_000);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + day, 'the pinned join time moved with the start');
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Joining', 'the one launch the runtime refused is still to be tried');
    assert.equal(detail.decisions.at(-1).kind, 'launch_retry_moved');
    runtime.respond = () => ({ status: 202, body: {} });
    clock.set(start + 600_000);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 1, 'not into the empty room at the old time');
    clock.set(start + day);
    await rc.dispatcher.runDue();
    assert.equal(launchesOf(botId).length, 2);
    assert.equal(launchesOf(botId)[1]!.json?.scheduled_time, new Date(start + day).toISOString());
    assert.equal(launchesOf(botId)[1]!.json?.idempotency_key, launchesOf(botId)[0]!.json?.idempotency_key, 'the same launch, tried again');
    assert.equal((await scheduleRow(botId)).state, 'done');
  });

  test('a meeting moved a day later while its launch is on the wire: the refusal that comes back waits for the new join time, not only for Retry-After', async () => {
    const start = clock.now() + 60_000;
    const day = 86_400_000;
    const botId = await refusedBot('moved-next-day-in-flight', start, 60, 82_000_000_018, '600');
    await whileLaunchOnWire(botId, start, () => moveMeeting(botId, start + day, start + day + 3_600_000));
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + day);
  });

  test('a meeting moved a day later while a launch refused without Retry-After is on the wire: the runtime taking another launch does not bring it forward to now', async () => {
    const start = clock.now() + 60_000;
    const day = 86_400_000;
    const botId = await refusedBot('moved-next-day-backoff', start, 60, 82_000_000_020, '600');
    // Refused as in an outage: 503, no Retry-After (a retry that waits for its backoff only).
    runtime.respond = (r) => (r.json?.bot_id === botId ? { status: 503, body: {} } : { status: 202, body: {} });
    await whileLaunchOnWire(botId, start, () => moveMeeting(botId, start + day, start + day + 3_600_000));
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + day);
    // The runtime takes another bot's launch: retries waiting for their backoff go now, not this one.
    const other = await scheduleBot(rc, auth, 'taken-after-next-day-move', clock.now() + 1_000, 82_000_000_021);
    clock.advance(1_000);
    await rc.dispatcher.runDue();
    await rc.dispatcher.runDue();
    assert.equal((await scheduleRow(other)).state, 'done');
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + day, 'it waits for the moved meeting');
    assert.equal(launchesOf(botId).length, 1);
  });

  test('a meeting moved a day later and back again while its launch waits (an edit undone): the retry goes when the runtime asked, not at the meeting\'s end', async () => {
    const start = clock.now() + 60_000;
    const day = 86_400_000;
    const botId = await refusedBot('moved-next-day-and-back', start, 60, 82_000_000_031, '600');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 600_000);
    await moveMeeting(botId, start + day, start + day + 3_600_000);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + day);
    // A mistaken edit undone a minute later: the meeting is back where it was, and running.
    clock.set(start + 60_000);
    await moveMeeting(botId, start, start + 3_600_000);
    const row = await scheduleRow(botId);
    const detail = await statusOf(botId);
    runtime.respond = () => ({ status: 202, body: {} });
    clock.set(start + 600_000);
    await rc.dispatcher.runDue();
    clock.set(start + 3_600_000);
    await rc.dispatcher.runDue();
    const end = await statusOf(botId);
    assert.deepEqual([end.status, launchesOf(botId).length], ['Joining', 2], `${end.status} ${launchesOf(botId).length} ${JSON.stringify(end.decisions.at(-1))}`);
    assert.equal(Number(row.due_at_ms), start + 600_000, `due ${new Date(Number(row.due_at_ms)).toISOString()}, join_at ${detail.join_at}; ${JSON.stringify(detail.decisions.at(-1))}`);
  });

  test('a meeting moved 30 minutes later and back again while its launch waits: the retry goes when the runtime asked, not 28 minutes late', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-later-and-back', start, 60, 82_000_000_032, '120');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 120_000);
    await moveMeeting(botId, start + 1_800_000, start + 5_400_000);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 1_800_000);
    clock.set(start + 60_000);
    await moveMeeting(botId, start, start + 3_600_000);
    const row = await scheduleRow(botId);
    assert.equal(Number(row.due_at_ms), start + 120_000, `due ${new Date(Number(row.due_at_ms)).toISOString()}`);
  });

  test('a meeting moved into the past while a launch that gets no answer is on the wire: the bot ends Stopped (once), and the runtime (which may hold it) is asked to stop it', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('moved-past-no-answer', start, 180, 82_000_000_099, '600');
    // Never answered: the runtime's client gives up after BOT_RUNTIME_TIMEOUT_MS.
    await whileLaunchOnWire(botId, start, () => moveMeeting(botId, start - 7_200_000, start - 3_600_000), { isAnswered: false });
    await assertEndedOnce(botId, 'Stopped', 'bot.stopped');
    const commands = await rc.database.db.selectFrom('runtime_commands').select('action').where('bot_id', '=', botId).execute();
    assert.deepEqual(commands.map((c) => c.action), ['stop']);
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
  });

  test('the meeting link taken out while a launch that gets no answer is on the wire: the bot ends Stopped, and the runtime (which may hold it) is asked to stop it', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('link-removed-no-answer', start, 180, 82_000_000_033, '600');
    // Never answered: the runtime's client gives up after BOT_RUNTIME_TIMEOUT_MS.
    await whileLaunchOnWire(botId, start, () => takeLinkOut(botId), { isAnswered: false });
    const detail = await statusOf(botId);
    assert.equal(detail.status, 'Stopped', JSON.stringify(detail.decisions.slice(-3)));
    await passRetry(botId, start + 600_000, ['launch', 'stop']);
  });

  test('the meeting link taken out while the launch is on the wire, then refused: the bot never went, so its event may be booked again (link_removed)', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('link-removed-in-flight-cause', start, 180, 82_000_000_034, '600');
    await whileLaunchOnWire(botId, start, () => takeLinkOut(botId));
    assert.equal((await statusOf(botId)).status, 'Stopped');
    const link = await rc.database.db.selectFrom('bot_events').select(['is_live', 'end_cause']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(link.end_cause, 'link_removed');
  });

  test('a bot shared by two events, one unscheduled by the user, the other\'s link taken out while a refused launch is on the wire: only that one may be booked again', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('shared-unscheduled', start, 180, 82_000_000_091, '600');
    const other = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'shared-unscheduled-a', start_time: new Date(start).toISOString(), end_time: new Date(start + 180 * 60_000).toISOString(), meeting_url: 'https://zoom.us/j/82000000091' } });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const shared = await rc.request('POST', `/api/v1/calendar/schedule/${other.body.id}`, { auth, body: { deduplication_key: 'shared-unscheduled', bot_config: { join_at: new Date(start).toISOString(), callback_url: 'http://127.0.0.1:9/hooks' } } });
    assert.equal(shared.body.bot_id, botId);
    const unscheduled = await rc.request('DELETE', `/api/v1/calendar/schedule/${other.body.id}`, { auth });
    assert.ok(unscheduled.status < 300, JSON.stringify(unscheduled.body));
    const linkOf = async (eventId: string) => ({ ...(await rc.database.db.selectFrom('bot_events').select(['is_live', 'end_cause']).where('event_id', '=', eventId).executeTakeFirstOrThrow()) });
    await whileLaunchOnWire(botId, start, () => takeLinkOut(botId));
    assert.equal((await statusOf(botId)).status, 'Stopped');
    assert.deepEqual(await linkOf(eventOf.get(botId)!), { is_live: 0, end_cause: 'link_removed' });
    assert.deepEqual(await linkOf(other.body.id), { is_live: 0, end_cause: null }, 'the event the user unscheduled keeps counting as booked');
  });

  test('a retry written by a version that kept no asked time (a stale one left in the row): a move of the meeting keeps the retry\'s own due time, not sooner than the runtime asked', async () => {
    const start = clock.now() + 60_000;
    const botId = await refusedBot('stale-asked-time', start, 180, 82_000_000_019, '600');
    clock.set(start);
    await rc.dispatcher.runDue();
    assert.equal(Number((await scheduleRow(botId)).retry_asked_at_ms), start + 600_000);
    // The second attempt, refused with Retry-After: 1200 by an instance of a version before
    // migration 040's column was written: the due time moves, the asked time stays the first one.
    clock.set(start + 600_000);
    await rc.database.db.updateTable('schedules').set({ due_at_ms: start + 1_800_000, attempts: 2 }).where('bot_id', '=', botId).execute();
    await moveEnd(botId, start + 4 * 3_600_000);
    assert.equal(Number((await scheduleRow(botId)).due_at_ms), start + 1_800_000, 'the runtime asked for 20 minutes');
  });
});

describe('a runtime whose answers never end', () => {
  // It answers 202 at once, then writes a space every 50 ms and never ends the body: each answer
  // held its pooled connection, and the launches queued for one waited without a deadline.
  const clock = new ManualClock(Date.parse('2026-12-07T09:00:00Z'));
  const received = new Map<string, number>();
  const drips = new Set<NodeJS.Timeout>();
  const runtime = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const botId = (JSON.parse(body) as { bot_id: string }).bot_id;
      received.set(botId, (received.get(botId) ?? 0) + 1);
      res.writeHead(202, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write(' '), 50);
      drips.add(drip);
      res.on('close', () => {
        clearInterval(drip);
        drips.delete(drip);
      });
    });
  });
  let rc: TestRollcall;
  let auth: string;

  before(async () => {
    await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', resolve));
    const { port } = runtime.address() as AddressInfo;
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `http://127.0.0.1:${port}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000' } });
    auth = (await rc.newUser()).auth;
  });
  after(async () => {
    await rc.close();
    for (const drip of drips) clearInterval(drip);
    runtime.closeAllConnections();
    await new Promise((resolve) => runtime.close(resolve));
  });

  test('a burst larger than the connection pool: every launch is sent and settled', { timeout: 60_000 }, async () => {
    // The pool keeps 128 connections to the runtime.
    const BOTS = 140;
    const t0 = clock.now();
    const botIds: string[] = [];
    for (let i = 0; i < BOTS; i++) botIds.push(await scheduleBot(rc, auth, `trickle-${i}`, t0 + 60_000, 82_000_000_000 + i));
    const rows = () => rc.database.db.selectFrom('schedules').select(['bot_id', 'state', 'due_at_ms']).where('bot_id', 'in', botIds).execute();
    clock.set(t0 + 60_000);
    await rc.dispatcher.runDue();
    // Launches that waited for a connection past the timeout were not sent: they are tried again.
    for (let round = 0; (await rows()).some((row) => row.state !== 'done'); round++) {
      assert.ok(round < 10, `launches not settled: ${JSON.stringify((await rows()).filter((row) => row.state !== 'done'))}`);
      clock.set(Math.max(clock.now(), ...(await rows()).filter((row) => row.state === 'pending').map((row) => Number(row.due_at_ms))));
      await rc.dispatcher.runDue();
    }
    // Each reached the runtime (again, under its idempotency key, if its answer came after the timeout).
    assert.deepEqual([...received.keys()].sort(), [...botIds].sort());
    for (const botId of botIds) {
      const bot = await rc.request('GET', `/api/v1/bots/${botId}`, { auth });
      assert.equal(bot.body.status, 'Joining');
      assert.equal(bot.body.launch_failing, null);
    }
  });
});

describe('a calendar change reaching a bot whose meeting runs past its scheduled end', () => {
  // Meetings overrun: a 10:00-10:30 meeting still going at 10:40, its bot recording it. A change
  // of the event after 10:30 (a sync, an edit of its title, another occurrence of its series
  // edited) is no sign that the meeting ended, and does not stop the bot.
  const runtime = new FakeHttpReceiver();
  const ics = new FakeIcsServer();
  const clock = new ManualClock(Date.parse('2026-12-07T09:00:00Z'));
  let rc: TestRollcall;
  let auth: string;

  before(async () => {
    ({ rc, auth } = await startBesideRuntime(runtime, ics, clock));
    runtime.respond = () => ({ status: 202, body: {} });
  });
  after(() => stopBesideRuntime(rc, runtime, ics));

  const detailOf = async (botId: string) => (await rc.request('GET', `/api/v1/bots/${botId}`, { auth })).body;
  const actionsOf = (botId: string) => runtime.received.filter((r) => r.json?.bot_id === botId).map((r) => r.json?.action as string);
  const queuedStops = async (botId: string) => (await rc.database.db.selectFrom('runtime_commands').select('id').where('bot_id', '=', botId).where('action', '=', 'stop').execute()).length;
  async function report(botId: string, status: string): Promise<void> {
    const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', botId).executeTakeFirstOrThrow();
    const answer = await rc.request('POST', `/api/v1/bots/${botId}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
  /** Books the event (or the series' occurrence at `occurrenceStart`) and launches its bot at its join time; the runtime takes it. */
  async function launched(eventId: string, key: string, occurrenceStart?: number): Promise<string> {
    const body = { deduplication_key: key, bot_config: {}, ...(occurrenceStart !== undefined ? { occurrence_date: new Date(occurrenceStart).toISOString() } : {}) };
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    clock.set(Date.parse(scheduled.body.scheduled_time));
    await rc.dispatcher.runDue();
    assert.deepEqual(actionsOf(botId), ['launch']);
    assert.equal((await detailOf(botId)).status, 'Joining');
    return botId;
  }
  async function createEvent(body: Record<string, unknown>): Promise<string> {
    const created = await rc.request('POST', '/api/v1/calendar/events', { auth, body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  }
  /** The bot is still in its meeting, holding its event: no stop queued or sent, the event still linked. */
  async function assertStays(botId: string, status: string, eventId: string, times: { startMs: number; endMs: number }): Promise<void> {
    await rc.dispatcher.runDue();
    const detail = await detailOf(botId);
    assert.equal(detail.status, status, JSON.stringify(detail.decisions));
    assert.equal(await queuedStops(botId), 0, JSON.stringify(detail.decisions));
    assert.ok(!actionsOf(botId).includes('stop'), actionsOf(botId).join(','));
    assert.ok(!detail.decisions.some((d: { kind: string }) => d.kind === 'stop_requested' || d.kind === 'unlinked_event'), JSON.stringify(detail.decisions));
    const held = (detail.events as { event_id: string; is_linked: boolean; removed_at: string | null; start_time: string; end_time: string }[]).filter((e) => e.event_id === eventId || e.event_id.startsWith(`${eventId}_`));
    assert.equal(held.length, 1, JSON.stringify(detail.events));
    assert.deepEqual([held[0]!.is_linked, held[0]!.removed_at], [true, null], JSON.stringify(held));
    const link = await rc.database.db.selectFrom('bot_events').select(['start_ms', 'end_ms', 'is_live']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(link.start_ms), Number(link.end_ms), Number(link.is_live)], [times.startMs, times.endMs, 1]);
  }

  test('an overrunning event retitled through the API after its end: the bot in the meeting stays, its event still holds it, nothing is stopped', async () => {
    const start = clock.now() + 3_600_000;
    const end = start + 1_800_000;
    const eventId = await createEvent({ title: 'Planning', start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(), meeting_url: 'https://zoom.us/j/83000000001' });
    const botId = await launched(eventId, 'overrun-title');
    await report(botId, 'InMeeting');
    // Ten minutes past the scheduled end, still recording.
    clock.set(end + 600_000);
    const decisionsBefore = (await detailOf(botId)).decisions;
    const patched = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth, body: { title: 'Planning (notes in the doc)' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.title, 'Planning (notes in the doc)');
    await assertStays(botId, 'InMeeting', eventId, { startMs: start, endMs: end });
    assert.deepEqual((await detailOf(botId)).decisions, decisionsBefore, 'nothing to say: the meeting goes on as it was');
    assert.deepEqual(actionsOf(botId), ['launch'], 'no command');
    // The runtime says when the bot leaves.
    await report(botId, 'Done');
    assert.equal((await detailOf(botId)).status, 'Done');
  });

  test('an overrunning event a bot shares with another copy of the meeting, both edited after their end: the bot stays for both', async () => {
    const start = clock.now() + 3_600_000;
    const end = start + 1_800_000;
    const times = { start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString() };
    const mine = await createEvent({ title: 'Review', ...times, meeting_url: 'https://zoom.us/j/83000000002' });
    const theirs = await createEvent({ title: 'Review', ...times, meeting_url: 'https://zoom.us/j/83000000002' });
    const booked = await rc.request('POST', `/api/v1/calendar/schedule/${theirs}`, { auth, body: { deduplication_key: 'overrun-shared', bot_config: {} } });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    const botId = await launched(mine, 'overrun-shared');
    assert.equal(booked.body.bot_id, botId);
    await report(botId, 'InMeeting');
    clock.set(end + 300_000);
    for (const id of [mine, theirs]) {
      const patched = await rc.request('PATCH', `/api/v1/calendar/events/${id}`, { auth, body: { description: 'Agenda v2' } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
    }
    await rc.dispatcher.runDue();
    const detail = await detailOf(botId);
    assert.equal(detail.status, 'InMeeting');
    assert.equal(await queuedStops(botId), 0, JSON.stringify(detail.decisions));
    assert.deepEqual((detail.events as { is_linked: boolean; removed_at: string | null }[]).map((e) => [e.is_linked, e.removed_at]), [[true, null], [true, null]], JSON.stringify(detail.events));
  });

  test('an ICS feed synced after its event\'s end, the event having gained a description: the bot joining the meeting stays', async () => {
    // On a whole minute: an iCalendar feed says its times to the second.
    const start = Math.ceil((clock.now() + 3_600_000) / 60_000) * 60_000;
    const end = start + 1_800_000;
    const feed = ics.createFeed();
    ics.edit(feed, (events) => events.push({ uid: 'overrun@fake', summary: 'Weekly sync', startMs: start, endMs: end, location: 'https://zoom.us/j/83000000003' }));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const eventId = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}`, { auth })).body.results[0].id as string;
    // Launched, and the runtime has not reported it in the meeting yet (still joining: a waiting room).
    const botId = await launched(eventId, 'overrun-ics');
    clock.set(end + 600_000);
    ics.edit(feed, (events) => { events[0]!.description = 'Notes: https://docs.example/notes'; });
    const sync = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth });
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    const event = (await rc.request('GET', `/api/v1/calendar/events/${eventId}`, { auth })).body;
    assert.equal(event.description, 'Notes: https://docs.example/notes', 'the sync read the change');
    await assertStays(botId, 'Joining', eventId, { startMs: start, endMs: end });
    await report(botId, 'InMeeting');
    assert.equal((await detailOf(botId)).status, 'InMeeting');
  });

  test('an occurrence of a series running past its end while another occurrence is edited: its bot stays', async () => {
    const first = Math.ceil((clock.now() + 3_600_000) / 3_600_000) * 3_600_000;
    const seriesId = await createEvent({ title: 'Standup', start_time: new Date(first).toISOString(), end_time: new Date(first + 1_800_000).toISOString(), timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=5'], meeting_url: 'https://zoom.us/j/83000000004' });
    const botId = await launched(seriesId, 'overrun-series', first);
    await report(botId, 'InMeeting');
    clock.set(first + 1_800_000 + 900_000);
    // Tomorrow's occurrence is moved an hour later: a change of the series.
    const tomorrow = first + 86_400_000;
    const override = await createEvent({ recurring_event_id: seriesId, original_start_time: new Date(tomorrow).toISOString(), start_time: new Date(tomorrow + 3_600_000).toISOString(), end_time: new Date(tomorrow + 5_400_000).toISOString() });
    assert.ok(override);
    await assertStays(botId, 'InMeeting', seriesId, { startMs: first, endMs: first + 1_800_000 });
    // The series itself retitled, later still.
    clock.advance(300_000);
    const patched = await rc.request('PATCH', `/api/v1/calendar/events/${seriesId}`, { auth, body: { title: 'Standup (team B)' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await assertStays(botId, 'InMeeting', seriesId, { startMs: first, endMs: first + 1_800_000 });
  });

  test('an event moved wholly into the past while its bot is in the meeting: the bot stays, its event holds it at the new times, and the runtime hears of the move', async () => {
    const start = clock.now() + 3_600_000;
    const end = start + 3_600_000;
    const eventId = await createEvent({ title: 'Interview', start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(), meeting_url: 'https://zoom.us/j/83000000005' });
    const botId = await launched(eventId, 'overrun-moved-past');
    await report(botId, 'InMeeting');
    // Forty minutes in, the organiser shortens the meeting to the half hour it was meant to take.
    clock.set(start + 2_400_000);
    const patched = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth, body: { end_time: new Date(start + 1_800_000).toISOString() } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await assertStays(botId, 'InMeeting', eventId, { startMs: start, endMs: start + 1_800_000 });
    // Then moves it to yesterday's slot, wholly over.
    const patchedAgain = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth, body: { start_time: new Date(start - 86_400_000).toISOString(), end_time: new Date(start - 86_400_000 + 1_800_000).toISOString() } });
    assert.equal(patchedAgain.status, 200, JSON.stringify(patchedAgain.body));
    await assertStays(botId, 'InMeeting', eventId, { startMs: start - 86_400_000, endMs: start - 86_400_000 + 1_800_000 });
    const detail = await detailOf(botId);
    const moves = detail.decisions.filter((d: { kind: string }) => d.kind === 'moved_by_calendar');
    assert.equal(moves.length, 2, JSON.stringify(detail.decisions));
    assert.match(moves[1].reason, /already past; the bot went to its meeting and stays/);
    const updates = runtime.received.filter((r) => r.json?.bot_id === botId && r.json?.action === 'update');
    assert.equal(updates.length, 2);
    assert.equal(updates[1]!.json.events[0].end_time, new Date(start - 86_400_000 + 1_800_000).toISOString());
    // A runtime that never reports the end is still given six hours from the end the bot went to, not from yesterday's.
    const { meeting_end_ms: meetingEndMs } = await rc.database.db.selectFrom('bots').select('meeting_end_ms').where('id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(Number(meetingEndMs), end);
  });

  test('a bot that has not gone to its meeting still lets go of one moved into the past: cancelled while waiting, failed while its launch waits to be retried', async () => {
    const start = clock.now() + 3_600_000;
    const end = start + 1_800_000;
    const waitingId = await createEvent({ title: 'Later', start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(), meeting_url: 'https://zoom.us/j/83000000006' });
    const waiting = await rc.request('POST', `/api/v1/calendar/schedule/${waitingId}`, { auth, body: { deduplication_key: 'not-gone-waiting', bot_config: {} } });
    assert.equal(waiting.status, 200, JSON.stringify(waiting.body));
    const moved = await rc.request('PATCH', `/api/v1/calendar/events/${waitingId}`, { auth, body: { start_time: new Date(clock.now() - 7_200_000).toISOString(), end_time: new Date(clock.now() - 3_600_000).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const cancelled = await detailOf(waiting.body.bot_id);
    assert.equal(cancelled.status, 'Cancelled');
    assert.ok(cancelled.decisions.some((d: { reason: string }) => /moved into the past/.test(d.reason)), JSON.stringify(cancelled.decisions));

    // Its launch refused, to be tried again: it has not gone, and an edit after the end fails it as before.
    const refusedId = await createEvent({ title: 'Refused', start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(), meeting_url: 'https://zoom.us/j/83000000007' });
    const refused = await rc.request('POST', `/api/v1/calendar/schedule/${refusedId}`, { auth, body: { deduplication_key: 'not-gone-refused', bot_config: {} } });
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    const botId = refused.body.bot_id as string;
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { status: 429, headers: { 'retry-after': '3600' }, body: {} } : { status: 202, body: {} });
    try {
      clock.set(Date.parse(refused.body.scheduled_time));
      await rc.dispatcher.runDue();
      assert.equal((await detailOf(botId)).status, 'Joining');
      clock.set(end + 300_000);
      const retitled = await rc.request('PATCH', `/api/v1/calendar/events/${refusedId}`, { auth, body: { title: 'Refused, retitled' } });
      assert.equal(retitled.status, 200, JSON.stringify(retitled.body));
      assert.equal((await detailOf(botId)).status, 'Error');
    } finally {
      runtime.respond = () => ({ status: 202, body: {} });
    }
  });

  test('a meeting moved to yesterday while its launch is on the wire, the runtime then taking it: the bot had not gone, so it lets go of the event and the runtime is sent a stop; it is not swept as silent while it leaves', async () => {
    const start = clock.now() + 3_600_000;
    const end = start + 3_600_000;
    const eventId = await createEvent({ title: 'On the wire', start_time: new Date(start).toISOString(), end_time: new Date(end).toISOString(), meeting_url: 'https://zoom.us/j/84000000001' });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'wire-yesterday', bot_config: {} } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    let release!: () => void;
    const answered = new Promise<void>((resolve) => { release = resolve; });
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { status: 202, body: {}, release: answered } : { status: 202, body: {} });
    try {
      clock.set(Date.parse(scheduled.body.scheduled_time));
      const firing = rc.dispatcher.runDue();
      await runtime.waitFor(() => actionsOf(botId).includes('launch'));
      // While the launch is on the wire, the organiser moves the meeting to yesterday's slot.
      const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth, body: { start_time: new Date(start - 86_400_000).toISOString(), end_time: new Date(end - 86_400_000).toISOString() } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      const meanwhile = await detailOf(botId);
      assert.equal(meanwhile.status, 'Joining');
      assert.equal(await queuedStops(botId), 1, JSON.stringify(meanwhile.decisions));
      assert.ok(!meanwhile.decisions.some((d: { kind: string }) => d.kind === 'moved_by_calendar'), 'no decision says the bot went to its meeting and stays');
      const link = (meanwhile.events as { is_linked: boolean; removed_at: string | null }[])[0]!;
      assert.equal(link.is_linked, false, JSON.stringify(meanwhile.events));
      assert.notEqual(link.removed_at, null);
      release();
      await firing;
      await rc.dispatcher.runDue();
    } finally {
      runtime.respond = () => ({ status: 202, body: {} });
    }
    // The runtime took the launch, and is asked to stop the bot it started.
    assert.deepEqual(actionsOf(botId), ['launch', 'stop']);
    // The bot got into the meeting before the stop reached it: it leaves when its runtime says so,
    // and the six-hour sweep counts from the end the bot went to, not yesterday's.
    await report(botId, 'InMeeting');
    clock.set(start + 600_000);
    await rc.silentBots.sweep();
    assert.equal((await detailOf(botId)).status, 'InMeeting');
    const { meeting_end_ms: meetingEndMs } = await rc.database.db.selectFrom('bots').select('meeting_end_ms').where('id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(Number(meetingEndMs), end);
    await report(botId, 'Stopped');
    assert.equal((await detailOf(botId)).status, 'Stopped');
  });
});
