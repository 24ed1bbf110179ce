import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { sql } from 'kysely';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { appendDecision } from '../../src/store/bot-store.ts';

const RUNTIME_SECRET = 'runtime-shared-secret';

async function createEvent(rc: TestRollcall, auth: string, startMs: number, endMs: number, url = 'https://meet.google.com/abc-defg-hij') {
  const res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'Sync', start_time: new Date(startMs).toISOString(), end_time: new Date(endMs).toISOString(), meeting_url: url } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

/** Waits until the dispatcher has written the launch's result (its schedule is done). */
async function waitForLaunchResult(rc: TestRollcall, botId: string): Promise<void> {
  const deadline = Date.now() + 8000;
  while ((await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', botId).executeTakeFirstOrThrow()).state !== 'done') {
    assert.ok(Date.now() < deadline, 'the launch result was not written within 8 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('firing: bots launch at their scheduled time', () => {
  let rc: TestRollcall;
  const runtime = new FakeHttpReceiver();
  const receiver = new FakeHttpReceiver();
  let user: { auth: string };
  let callbackUrl: string;

  before(async () => {
    const runtimeUrl = await runtime.start();
    callbackUrl = `${await receiver.start()}/hooks`;
    rc = await startTestRollcall({
      background: true,
      settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_SECRET: RUNTIME_SECRET, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '200', JOIN_LEAD_SECONDS: '180' },
    });
    user = await rc.newUser();
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
    await receiver.stop();
  });

  test('launches once at join_at with a signed, idempotent request; the runtime reports progress', async (t) => {
    const now = Date.now();
    const eventId = await createEvent(rc, user.auth, now + 10 * 60_000, now + 40 * 60_000);
    // Counted from after the event exists, with room for a slow request: a join_at already past
    // when the request is handled is refused (invalid_join_at), as it should be.
    const joinAt = Date.now() + 2500;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'fire-1', bot_config: { bot_name: 'Scribe', join_at: new Date(joinAt).toISOString(), callback_url: callbackUrl } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id;
    // The runtime holds its answer until it has reported progress, so the launch is still in
    // flight (and the rest of its record unwritten: the dispatcher writes it with the result).
    const answerDefault = runtime.respond;
    const held = Promise.withResolvers<void>();
    runtime.respond = (r) => (r.json?.bot_id === botId ? { status: 200, body: { ok: true }, release: held.promise } : answerDefault(r));
    t.after(() => {
      held.resolve();
      runtime.respond = answerDefault;
    });

    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === botId), 8000);
    const launch = runtime.received.find((r) => r.json?.bot_id === botId)!;
    const lateness = launch.at - joinAt;
    assert.ok(lateness >= 0 && lateness < 1000, `lateness ${lateness} ms`);
    assert.equal(launch.json.action, 'launch');
    assert.equal(launch.json.meeting_url, 'https://meet.google.com/abc-defg-hij');
    assert.equal(launch.json.platform, 'google_meet');
    assert.equal(launch.json.bot_config.bot_name, 'Scribe');
    assert.equal(launch.json.events[0].event_id, eventId);
    assert.equal(launch.headers['idempotency-key'], launch.json.idempotency_key);
    // The runtime can verify the request came from us.
    const verified = new Webhook(`whsec_${Buffer.from(RUNTIME_SECRET).toString('base64')}`).verify(launch.body, launch.headers as Record<string, string>);
    assert.equal((verified as { bot_id: string }).bot_id, botId);

    // Joining from before the request went out (a cancel is now refused as bot_active).
    const detail = await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth });
    assert.equal(detail.body.status, 'Joining');

    const inFlight = await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(inFlight.state, 'launching', 'the launch result must not be written before the runtime answers');

    // Progress reported with the per-launch token.
    const statusUrl = new URL(launch.json.status_url);
    assert.equal(statusUrl.pathname, `/api/v1/bots/${botId}/status`);
    const bearer = `Bearer ${launch.json.status_token}`;
    // The scheme name in any case (RFC 9110 section 11.1).
    const inMeeting = await rc.request('POST', statusUrl.pathname, { headers: { authorization: `bearer ${launch.json.status_token}` }, body: { status: 'InMeeting' } });
    assert.equal(inMeeting.status, 200);
    assert.deepEqual(inMeeting.body, { bot_id: botId, status: 'InMeeting', previous_status: 'Joining', changed: true });
    const wrongToken = await rc.request('POST', statusUrl.pathname, { headers: { authorization: 'Bearer nope' }, body: { status: 'Stopped' } });
    assert.equal(wrongToken.status, 401);
    const illegal = await rc.request('POST', statusUrl.pathname, { headers: { authorization: bearer }, body: { status: 'Joining' } });
    assert.equal(illegal.status, 409);
    assert.equal(illegal.body.code, 'invalid_status_transition');
    // The report wrote the launch's record first, so the timeline is in order before the result is in...
    const reported = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body;
    assert.deepEqual(reported.status_timeline.map((e: { status: string }) => e.status), ['Scheduled', 'Joining', 'InMeeting']);
    assert.equal(reported.decisions.filter((d: { kind: string }) => d.kind === 'launched').length, 1);
    // ...and the result, written after the runtime's late answer, does not write it twice.
    held.resolve();
    await waitForLaunchResult(rc, botId);
    const settled = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body;
    assert.deepEqual(settled.status_timeline.map((e: { status: string }) => e.status), ['Scheduled', 'Joining', 'InMeeting']);
    assert.equal(settled.decisions.filter((d: { kind: string }) => d.kind === 'launched').length, 1);

    // Webhooks: in order, signed with the user's secret, the same id never reused.
    await receiver.waitFor(() => receiver.received.filter((r) => r.json?.bot_id === botId).length >= 3, 8000);
    const hooks = receiver.received.filter((r) => r.json?.bot_id === botId);
    assert.deepEqual(hooks.map((h) => h.json.bot_event), ['bot.scheduled', 'bot.joining', 'bot.inmeeting']);
    const secret = (await rc.request('GET', '/api/v1/webhooks/secret', { auth: user.auth })).body.secret;
    for (const hook of hooks) new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>);
    assert.equal(new Set(hooks.map((h) => h.headers['webhook-id'])).size, 3);
    assert.equal(hooks[1]!.json.status_code, 200);
    assert.equal(runtime.received.filter((r) => r.json?.bot_id === botId).length, 1);
  });

  test('a bot removed while its launch is in flight: the launch comes before the stop in its log, each once', async (t) => {
    const eventId = await createEvent(rc, user.auth, Date.now() + 10 * 60_000, Date.now() + 40 * 60_000);
    const joinAt = Date.now() + 2500;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'fire-remove', bot_config: { join_at: new Date(joinAt).toISOString() } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id;
    const answerDefault = runtime.respond;
    const held = Promise.withResolvers<void>();
    runtime.respond = (r) => (r.json?.bot_id === botId && r.json?.action === 'launch' ? { status: 200, body: { ok: true }, release: held.promise } : answerDefault(r));
    t.after(() => {
      held.resolve();
      runtime.respond = answerDefault;
    });
    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === botId), 8000);
    assert.equal((await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', botId).executeTakeFirstOrThrow()).state, 'launching');

    const removed = await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth: user.auth });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const kinds = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.decisions.map((d: { kind: string }) => d.kind);
    assert.ok(kinds.indexOf('launched') >= 0 && kinds.indexOf('launched') < kinds.indexOf('stop_requested'), kinds.join(', '));

    held.resolve();
    await waitForLaunchResult(rc, botId);
    const settled = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body;
    assert.equal(settled.decisions.filter((d: { kind: string }) => d.kind === 'launched').length, 1);
    assert.deepEqual(settled.status_timeline.map((e: { status: string }) => e.status), ['Scheduled', 'Joining']);
  });

  test('a bot moved later fires only at the new time; a cancelled one never fires', async () => {
    const now = Date.now();
    // The join lead is 180 s: both bots are due 3 s from now, which leaves a loaded machine time to
    // create and schedule them before the last second.
    const oldJoinAt = now + 3000;
    const movedEvent = await createEvent(rc, user.auth, oldJoinAt + 180_000, now + 600_000, 'https://zoom.us/j/111222333');
    const cancelledEvent = await createEvent(rc, user.auth, oldJoinAt + 180_000, now + 600_000, 'https://zoom.us/j/444555666');
    const moved = await rc.request('POST', `/api/v1/calendar/schedule/${movedEvent}`, { auth: user.auth, body: { deduplication_key: 'move-1', bot_config: {} } });
    const cancelled = await rc.request('POST', `/api/v1/calendar/schedule/${cancelledEvent}`, { auth: user.auth, body: { deduplication_key: 'cancel-1', bot_config: {} } });
    assert.equal(moved.status, 200);
    // Within the last second before the old time: move the meeting 2.5 s later, cancel the other.
    await new Promise((r) => setTimeout(r, Math.max(0, oldJoinAt - 800 - Date.now())));
    const patched = await rc.request('PATCH', `/api/v1/calendar/events/${movedEvent}`, { auth: user.auth, body: { start_time: new Date(oldJoinAt + 180_000 + 2500).toISOString() } });
    assert.equal(patched.status, 200);
    const deleted = await rc.request('DELETE', `/api/v1/calendar/events/${cancelledEvent}`, { auth: user.auth });
    assert.equal(deleted.status, 200);
    assert.ok(Date.now() < oldJoinAt, `the move and the cancel were answered ${Date.now() - oldJoinAt} ms after the old join time: too late for what this test checks`);

    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === moved.body.bot_id), 8000);
    const launch = runtime.received.find((r) => r.json?.bot_id === moved.body.bot_id)!;
    assert.ok(launch.at >= oldJoinAt + 2500 - 50, `fired ${launch.at - oldJoinAt} ms after the old join time, expected >= 2500`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(runtime.received.filter((r) => r.json?.bot_id === cancelled.body.bot_id).length, 0);
    const cancelledBot = await rc.request('GET', `/api/v1/bots/${cancelled.body.bot_id}`, { auth: user.auth });
    assert.equal(cancelledBot.body.status, 'Cancelled');
    assert.equal(cancelledBot.body.schedule_state, 'cancelled');
  });

  test('after launch, a moved meeting reaches the runtime as an update and a cancelled one as a stop', async () => {
    const now = Date.now();
    const eventId = await createEvent(rc, user.auth, now + 120_000, now + 1_800_000, 'https://zoom.us/j/777888999');
    // The start is within the join lead, so the bot is launched at once.
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'after-launch', bot_config: {} } });
    const botId = scheduled.body.bot_id;
    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === botId && r.json.action === 'launch'), 8000);

    const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: new Date(now + 300_000).toISOString() } });
    assert.equal(moved.status, 200);
    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === botId && r.json.action === 'update'), 8000);
    const update = runtime.received.find((r) => r.json?.bot_id === botId && r.json.action === 'update')!;
    assert.equal(update.json.events[0].start_time, new Date(now + 300_000).toISOString());
    assert.equal(update.headers['idempotency-key'], update.json.idempotency_key);

    await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth });
    await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === botId && r.json.action === 'stop'), 8000);
    const actions = runtime.received.filter((r) => r.json?.bot_id === botId).map((r) => r.json.action);
    assert.deepEqual(actions, ['launch', 'update', 'stop']);
    await new Promise((r) => setTimeout(r, 200));
    const kinds = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.decisions.map((d: { kind: string }) => d.kind);
    for (const kind of ['launched', 'update_requested', 'update_delivered', 'stop_requested', 'stop_delivered']) assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(',')}`);
  });

  // The heartbeat renews only leases that would run out within two heartbeats (lease-renewal.ts);
  // a row held past its due time is the case that needs it. A request holding the bot's row is
  // how a row is kept from launching; SQLite has one writer, so no request holds a row there.
  test('a bot a request keeps busy past its lease keeps a live lease, and launches once when freed', async (t) => {
    if (rc.database.engine !== 'postgres') return t.skip('PostgreSQL only: SQLite has one writer, so no request holds a bot row');
    const now = Date.now();
    const eventId = await createEvent(rc, user.auth, now + 10 * 60_000, now + 40 * 60_000, 'https://zoom.us/j/777888999');
    const other = await rc.testDatabase.open();
    const joinAt = Date.now() + 4000;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'busy-lease', bot_config: { join_at: new Date(joinAt).toISOString() } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId: string = scheduled.body.bot_id;
    const schedule = () => rc.database.db.selectFrom('schedules').select(['state', 'lease_owner', 'lease_until_ms']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    try {
      // Claimed (its join time is within the dispatcher's lookahead), then held by a request from
      // before its join time to 1.5 leases (5 s each) past it.
      while ((await schedule()).state !== 'claimed') {
        assert.ok(Date.now() < joinAt - 500, 'not claimed in time');
        await new Promise((r) => setTimeout(r, 20));
      }
      await other.db.transaction().execute(async (trx) => {
        await sql`select id from bots where id = ${botId} for update`.execute(trx);
        assert.ok(Date.now() < joinAt, 'the bot was locked only after its join time: too slow a machine for what this test checks');
        const until = joinAt + 7500;
        let renewed = false;
        while (Date.now() < until) {
          const row = await schedule();
          assert.equal(row.state, 'claimed', 'the bot was launched while a request held it');
          assert.equal(row.lease_owner, rc.dispatcher.owner);
          assert.ok(Number(row.lease_until_ms) > Date.now(), `the lease ran out ${Date.now() - Number(row.lease_until_ms)} ms ago while the row was held`);
          if (Number(row.lease_until_ms) > joinAt + 5000) renewed = true;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(renewed, 'the lease was never renewed');
      });
      await waitForLaunchResult(rc, botId);
      assert.equal(runtime.received.filter((r) => r.json?.bot_id === botId && r.json?.action === 'launch').length, 1);
    } finally {
      await other.close();
    }
  });

  test('a bot\'s decision log reads in the order things happened, whatever order they were written in (a launch is written with its result, after a relaunch decided meanwhile)', async () => {
    const now = Date.now();
    const eventId = await createEvent(rc, user.auth, now + 3_600_000, now + 5_400_000, 'https://meet.google.com/ord-erof-log');
    const booked = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'log-order', bot_config: {} } });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    // Written last, stamped first: as a launch's record stamped when it went out.
    await appendDecision(rc.database.db, booked.body.bot_id, now - 60_000, 'launched', 'stamped before the rest', {});
    const decisions = (await rc.request('GET', `/api/v1/bots/${booked.body.bot_id}`, { auth: user.auth })).body.decisions as { at: string; kind: string }[];
    assert.equal(decisions[0]!.kind, 'launched');
    const times = decisions.map((d) => Date.parse(d.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  });

  test('runtime failures are retried with the same idempotency key', async () => {
    let failures = 2;
    runtime.respond = (r) => (r.json?.bot_config?.bot_name === 'Flaky' && failures-- > 0 ? { status: 503 } : { status: 202 });
    const now = Date.now();
    const eventId = await createEvent(rc, user.auth, now + 10 * 60_000, now + 40 * 60_000, 'https://teams.microsoft.com/meet/123456?p=abc');
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'flaky', bot_config: { bot_name: 'Flaky', join_at: new Date(now + 500).toISOString() } } });
    const botId = scheduled.body.bot_id;
    await runtime.waitFor(() => runtime.received.filter((r) => r.json?.bot_id === botId).length >= 3, 10_000);
    const attempts = runtime.received.filter((r) => r.json?.bot_id === botId);
    assert.equal(new Set(attempts.map((a) => a.json.idempotency_key)).size, 1);
    await new Promise((r) => setTimeout(r, 300));
    const detail = await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth });
    assert.equal(detail.body.schedule_state, 'done');
    assert.deepEqual(detail.body.decisions.map((d: { kind: string }) => d.kind).filter((k: string) => k.startsWith('launch')), ['launched', 'launch_failed', 'launch_retried', 'launch_failed', 'launch_retried']);
    runtime.respond = () => ({ status: 200 });
  });
});

describe('firing without a runtime, and after downtime', () => {
  test('with no runtime configured a due bot fails visibly with no_runtime', async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T12:00:00Z'));
    const rc = await startTestRollcall({ clock });
    try {
      const user = await rc.newUser();
      const eventId = await createEvent(rc, user.auth, clock.now() + 3_600_000, clock.now() + 5_400_000);
      const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: {} } });
      clock.advance(3_600_000 - 180_000);
      await rc.dispatcher.runDue();
      const detail = await rc.request('GET', `/api/v1/bots/${scheduled.body.bot_id}`, { auth: user.auth });
      assert.equal(detail.body.status, 'Error');
      assert.match(detail.body.status_timeline.at(-1).reason, /no_runtime/);
    } finally {
      await rc.close();
    }
  });

  test('a schedule that came due while down fires if the meeting runs, and is missed if it ended', async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T12:00:00Z'));
    const runtime = new FakeHttpReceiver();
    const url = await runtime.start();
    const settings = { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: url, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5' };
    const rc = await startTestRollcall({ clock, settings });
    try {
      const user = await rc.newUser();
      const running = await createEvent(rc, user.auth, clock.now() + 600_000, clock.now() + 3_600_000, 'https://zoom.us/j/1000');
      const ended = await createEvent(rc, user.auth, clock.now() + 600_000, clock.now() + 900_000, 'https://zoom.us/j/2000');
      const a = await rc.request('POST', `/api/v1/calendar/schedule/${running}`, { auth: user.auth, body: { deduplication_key: 'a', bot_config: {} } });
      const b = await rc.request('POST', `/api/v1/calendar/schedule/${ended}`, { auth: user.auth, body: { deduplication_key: 'b', bot_config: {} } });
      // The service was down from before the join times until after the second meeting ended.
      clock.advance(1_200_000);
      await rc.dispatcher.runDue();
      assert.equal((await rc.request('GET', `/api/v1/bots/${a.body.bot_id}`, { auth: user.auth })).body.status, 'Joining');
      const missed = await rc.request('GET', `/api/v1/bots/${b.body.bot_id}`, { auth: user.auth });
      assert.equal(missed.body.status, 'Missed');
      assert.ok(missed.body.decisions.some((d: { kind: string }) => d.kind === 'missed'));
      assert.deepEqual(runtime.received.map((r) => r.json.bot_id), [a.body.bot_id]);
    } finally {
      await rc.close();
      await runtime.stop();
    }
  });
});

describe('firing: a calendar whose access is lost in the seconds before the join time', () => {
  let rc: TestRollcall;
  const runtime = new FakeHttpReceiver();
  const ics = new FakeIcsServer();

  before(async () => {
    const runtimeUrl = await runtime.start();
    await ics.start();
    rc = await startTestRollcall({
      background: true,
      settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_SECRET: RUNTIME_SECRET, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', JOIN_LEAD_SECONDS: '180' },
    });
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
    await ics.stop();
  });

  test('a launch already claimed and prepared is not sent: the bot at risk is decided again at its join time and cancelled', async () => {
    const user = await rc.newUser();
    const feed = ics.createFeed();
    const joinAt = Date.now() + 4000;
    ics.edit(feed, (events) => events.push({ uid: 'revoked-at-the-last-moment@fake', summary: 'Standup', startMs: joinAt + 180_000, endMs: joinAt + 600_000, location: 'https://zoom.us/j/777888999' }));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const listed = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}`, { auth: user.auth });
    const eventId = listed.body.results[0].id as string;
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: 'revoked-late', bot_config: {} } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    // Due within the claim lookahead: the dispatcher claims it at once and prepares its launch.
    const deadline = Date.now() + 2500;
    while ((await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', botId).executeTakeFirstOrThrow()).state !== 'claimed') {
      assert.ok(Date.now() < deadline, 'not claimed ahead of its join time');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The feed's owner resets its address; a sync finds it before the join time.
    ics.revoke(feed);
    const sync = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: user.auth });
    assert.equal(sync.body.failure?.kind, 'auth_revoked', JSON.stringify(sync.body));
    assert.ok(Date.now() < joinAt - 200, `access was found lost ${Date.now() - joinAt} ms after the join time: too late for what this test checks`);
    await new Promise((r) => setTimeout(r, Math.max(0, joinAt + 1500 - Date.now())));
    assert.equal(runtime.received.filter((r) => r.json?.bot_id === botId).length, 0, 'not launched');
    const bot = await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth });
    assert.equal(bot.body.status, 'Cancelled');
    assert.ok(bot.body.decisions.some((d: { kind: string; reason: string }) => d.kind === 'cancelled' && /calendar_access_revoked/.test(d.reason)), JSON.stringify(bot.body.decisions));
  });
});
