// A wave against Recall.ai's fake, which enforces Recall's documented limit on bot creation (60 a
// minute per workspace, 429 with Retry-After past it): 600 meetings at one instant are handed over
// one every 1.02 s (98% of the rate), all before their lead runs out; a provider stricter than the
// configured rate answers 429s that delay the handovers without losing a bot or creating a second
// one; and a wave booked too late is reported ahead for the bots the rate cannot get there in time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { createRollcall } from '../../src/container.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { FakeRecall } from '../support/fake-recall.ts';
import type { FakeRequest } from '../support/fake-provider-kit.ts';

const API_KEY = 'wave-api-key-3Gh7Kd';
const SECRET = `whsec_${Buffer.from('wave-recall-signing-secret-32by!').toString('base64')}`;
const MIN = 60_000;
const HOUR = 3_600_000;
const LEAD_MS = 900_000;
const JOIN_LEAD_MS = 180_000;
const WAVE = 600;
/** Rollcall paces at 98% of the configured 60 a minute (src/services/providers/bot-handover.ts): 1021 ms apart. */
const SPACING_MS = Math.ceil(60_000 / (60 * 0.98));

const iso = (ms: number) => new Date(ms).toISOString();

describe('a wave of handovers under Recall\'s creation limit', () => {
  const fake = new FakeRecall(API_KEY, SECRET);
  const t0 = Math.ceil(Date.now() / HOUR) * HOUR;
  const clock = new ManualClock(t0);
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    const url = await fake.start();
    fake.now = () => clock.now();
    rc = await startTestRollcall({
      clock,
      settings: {
        BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: API_KEY, BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: SECRET,
        BOT_PROVIDER_CREATES_PER_MINUTE: '60', BOT_RUNTIME_TIMEOUT_MS: '5000', DISPATCH_LEASE_SECONDS: '30', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
      },
    });
    user = await rc.newUser();
  });
  after(async () => {
    await rc.close();
    await fake.stop();
  });

  /** Books `count` meetings whose bots join at `joinAtMs`; answers their bot ids. */
  async function bookWave(prefix: string, count: number, joinAtMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (let from = 0; from < count; from += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, count - from) }, async (_, k) => {
        const i = from + k;
        const startMs = joinAtMs + JOIN_LEAD_MS;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: `${prefix} ${i}`, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: `https://zoom.us/j/${prefix === 'a' ? 7 : prefix === 'b' ? 8 : prefix === 's' ? 6 : prefix === 'j' ? 5 : 9}${String(i).padStart(9, '0')}` } });
        assert.equal(event.status, 201, JSON.stringify(event.body));
        const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `${prefix}-${i}`, bot_config: { bot_name: `${prefix}${i}`, callback_url: 'http://127.0.0.1:9/hooks' } } });
        assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
        return scheduled.body.bot_id as string;
      }));
      ids.push(...batch);
    }
    return ids;
  }

  /** Moves the clock from one due timer to the next and fires, until none is due by `untilMs`. */
  async function driveUntil(untilMs: number): Promise<number> {
    let steps = 0;
    for (;;) {
      const row = await rc.database.db.selectFrom('schedules').select((eb) => eb.fn.min('due_at_ms').as('t')).where('state', 'in', ['pending', 'claimed']).executeTakeFirst();
      const next = row?.t === null || row?.t === undefined ? null : Number(row.t);
      if (next === null || next > untilMs) return steps;
      clock.set(Math.max(clock.now(), next));
      await rc.dispatcher.runDue();
      steps++;
      assert.ok(steps < 5000, 'the wave does not settle');
    }
  }

  const creates = (): FakeRequest[] => fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/bot/');
  const createsFor = (botIds: string[]) => {
    const wanted = new Set(botIds);
    return creates().filter((r) => wanted.has(r.body?.metadata?.rollcall_bot_id));
  };
  const decisionsOf = async (botIds: string[], kind: string) => rc.database.db.selectFrom('bot_decisions').selectAll().where('bot_id', 'in', botIds).where('kind', '=', kind).execute();
  const botsOf = (botIds: string[]) => rc.database.db.selectFrom('bots').selectAll().where('id', 'in', botIds).execute();

  test('600 meetings at one instant, planned ahead: one handover every 1.02 s, all before their lead runs out, no 429', async () => {
    const joinAtMs = t0 + 2 * HOUR;
    const deadlineMs = joinAtMs - LEAD_MS;
    const ids = await bookWave('a', WAVE, joinAtMs);
    await rc.dispatcher.runDue();
    assert.equal(creates().length, 0);

    // Half an hour before the first handover the plan has every bot, earliest slot first.
    clock.set(deadlineMs - (WAVE - 1) * SPACING_MS - 30 * MIN);
    await rc.dispatcher.runDue();
    const planned = await decisionsOf(ids, 'handover_planned');
    assert.equal(planned.length, WAVE, 'a decision per bot says when and why');
    assert.ok(planned.some((d) => /earlier than its lead needs: the bots joining around .* need recall's 60 creations a minute/.test(d.reason)));
    assert.equal((await decisionsOf(ids, 'handover_at_risk')).length, 0);
    const dues = (await rc.database.db.selectFrom('schedules').select('due_at_ms').where('bot_id', 'in', ids).orderBy('due_at_ms').execute()).map((r) => Number(r.due_at_ms));
    assert.equal(dues[0], deadlineMs - (WAVE - 1) * SPACING_MS);
    for (let i = 1; i < dues.length; i++) assert.equal(dues[i]! - dues[i - 1]!, SPACING_MS);
    assert.equal(dues.at(-1), deadlineMs);

    const started = Date.now();
    await driveUntil(joinAtMs);
    const sent = createsFor(ids);
    assert.equal(sent.length, WAVE, 'one creation per bot');
    assert.ok(sent.every((r) => r.status === 201), `no 429: ${sent.filter((r) => r.status !== 201).length} refused`);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]!.at - sent[i - 1]!.at >= SPACING_MS, `creations ${i - 1} and ${i} are ${sent[i]!.at - sent[i - 1]!.at} ms apart`);
    for (let i = 60; i < sent.length; i++) assert.ok(sent[i]!.at - sent[i - 60]!.at >= 60_000, 'never more than 60 in a minute');
    assert.ok(sent.every((r) => r.at <= deadlineMs), 'every bot reached Recall with its full lead');
    assert.ok(sent.every((r) => r.body.join_at === iso(joinAtMs)));
    const rows = await botsOf(ids);
    assert.ok(rows.every((b) => b.status === 'Scheduled' && b.provider_bot_id !== null));
    assert.equal(new Set(rows.map((b) => b.provider_bot_id)).size, WAVE);
    assert.equal(fake.liveBots.length, WAVE);
    assert.equal((await decisionsOf(ids, 'handed_over')).length, WAVE);
    process.stdout.write(`# wave of ${WAVE}: driven in ${Date.now() - started} ms of wall time\n`);
  });

  test('handover timers that came due together (the process stalled) go out a spacing apart, not at once', async () => {
    const joinAtMs = t0 + 3 * HOUR;
    // Booked inside their lead: the plan places them from now, one spacing apart.
    clock.set(joinAtMs - LEAD_MS + MIN);
    const ids = await bookWave('s', 5, joinAtMs);
    await rc.dispatcher.runDue();
    assert.equal(createsFor(ids).length, 1, 'the first at once');
    const planned = (await rc.database.db.selectFrom('schedules').select('due_at_ms').where('bot_id', 'in', ids).where('state', 'in', ['pending', 'claimed']).orderBy('due_at_ms').execute()).map((r) => Number(r.due_at_ms));
    assert.deepEqual(planned.map((d) => d - clock.now()), [1, 2, 3, 4].map((i) => i * SPACING_MS));
    // Six seconds pass with nothing running: the other four timers are due when the dispatcher
    // fires again, before the plan has run again (the loop's fire timer may come first).
    clock.set(clock.now() + 6000);
    const handover = rc.handover!;
    const plan = handover.plan;
    handover.plan = async () => {};
    try {
      await rc.dispatcher.runDue();
    } finally {
      handover.plan = plan;
    }
    assert.equal(createsFor(ids).length, 2, 'one creation now, not four');
    await driveUntil(joinAtMs);
    assert.equal(createsFor(ids).length, 5, 'one creation per bot');
    const attempts = (await rc.database.db.selectFrom('provider_handovers').select('last_attempt_at_ms').where('bot_id', 'in', ids).orderBy('last_attempt_at_ms').execute()).map((r) => Number(r.last_attempt_at_ms));
    for (let i = 1; i < attempts.length; i++) assert.ok(attempts[i]! - attempts[i - 1]! >= SPACING_MS, `creations ${i - 1} and ${i} went out ${attempts[i]! - attempts[i - 1]!} ms apart`);
    assert.ok((await botsOf(ids)).every((b) => b.status === 'Scheduled' && b.provider_bot_id !== null));
  });

  test('a handover the pace holds back never waits past its bot\'s join time: it is sent then', async () => {
    const joinAtMs = t0 + 4 * HOUR;
    // Booked three seconds before they join: the plan places them now and a spacing apart.
    clock.set(joinAtMs - 3000);
    const ids = await bookWave('j', 3, joinAtMs);
    await rc.dispatcher.runDue();
    assert.equal(createsFor(ids).length, 1, 'the first at once');
    // The process stalls 2.5 s: both other timers are due together when it fires again, before
    // the plan has run again. One goes now; the other would go a spacing later, past the join
    // time, and waits for the join time instead.
    clock.set(joinAtMs - 500);
    const handover = rc.handover!;
    const plan = handover.plan;
    handover.plan = async () => {};
    try {
      await rc.dispatcher.runDue();
      assert.equal(createsFor(ids).length, 2, 'one now, not both');
      const waiting = await rc.database.db.selectFrom('schedules').select('due_at_ms').where('bot_id', 'in', ids).where('state', 'in', ['pending', 'claimed']).execute();
      assert.deepEqual(waiting.map((w) => Number(w.due_at_ms)), [joinAtMs], `the last waits until the join time, not ${SPACING_MS} ms from now`);
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
    } finally {
      handover.plan = plan;
    }
    assert.equal(createsFor(ids).length, 3, 'all three sent by the join time');
  });

  test('Recall stricter than the configured rate: its 429s delay the handovers past their Retry-After, and lose or double none', async () => {
    const count = 90;
    const joinAtMs = t0 + 5 * HOUR;
    clock.set(joinAtMs - LEAD_MS - 30 * MIN);
    const ids = await bookWave('c', count, joinAtMs);
    // Recall takes 30 a minute here while Rollcall paces at 60.
    fake.createsPerMinute = 30;
    await rc.dispatcher.runDue();
    await driveUntil(joinAtMs);
    fake.createsPerMinute = 60;
    const sent = createsFor(ids);
    const refused = sent.filter((r) => r.status === 429);
    assert.ok(refused.length > 0, 'the stricter limit was hit');
    process.stdout.write(`# stricter limit: ${refused.length} refusals, ${sent.length} requests, last at ${(sent.at(-1)!.at - (joinAtMs - LEAD_MS)) / 1000} s after the lead ran out\n`);
    assert.equal(sent.filter((r) => r.status === 201).length, count, 'every bot created once');
    const rows = await botsOf(ids);
    assert.ok(rows.every((b) => b.status === 'Scheduled' && b.provider_bot_id !== null), 'no bot lost');
    const byMeeting = Map.groupBy([...fake.bots.values()].filter((b) => b.meeting_url.includes('/j/9')), (b) => b.meeting_url);
    assert.equal(byMeeting.size, count);
    assert.ok([...byMeeting.values()].every((list) => list.length === 1), 'no meeting got a second bot');
    // After each 429 nothing was sent before its Retry-After ran out.
    for (const refusal of refused) {
      const retryAfterMs = Number(refusal.answerHeaders!['retry-after']) * 1000;
      assert.ok(retryAfterMs >= 1000);
      const next = creates().find((r) => r.at > refusal.at);
      assert.ok(next, 'every refusal is followed by another attempt');
      assert.ok(next.at >= refusal.at + retryAfterMs, `sent ${next.at - refusal.at} ms after a 429 asking for ${retryAfterMs} ms`);
    }
    assert.ok(sent.every((r) => r.at < joinAtMs));
    assert.ok((await decisionsOf(ids, 'handover_failed')).every((d) => /rate limited the bot creation \(HTTP 429\); no bot is handed over before/.test(d.reason)));
  });

  test('a wave booked too late for the rate: the bots that cannot make their lead are reported ahead, and all still have a slot before they join', async () => {
    const joinAtMs = t0 + 8 * HOUR;
    const deadlineMs = joinAtMs - LEAD_MS;
    // Booked 5 minutes before the lead runs out: 5 minutes of slots hold 294 of the 600.
    const inTime = Math.floor(5 * MIN / SPACING_MS) + 1;
    assert.equal(inTime, 294);
    clock.set(deadlineMs - 5 * MIN);
    const ids = await bookWave('b', WAVE, joinAtMs);
    await rc.dispatcher.runDue();
    const atRisk = await decisionsOf(ids, 'handover_at_risk');
    assert.equal(atRisk.length, WAVE - inTime, 'the late ones, named 20 minutes before the meetings start');
    assert.match(atRisk[0]!.reason, /may reach recall with less than its 15 min lead/);
    const hooks = (await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', 'in', ids).execute())
      .map((r) => JSON.parse(r.payload)).filter((p) => p.event === 'bot.handover_at_risk');
    assert.equal(hooks.length, WAVE - inTime);
    const hook = hooks[0];
    assert.equal(hook.bot_status, 'Scheduled');
    assert.equal(hook.handover.provider, 'recall');
    assert.equal(hook.handover.deadline, iso(deadlineMs));
    assert.equal(hook.handover.join_at, iso(joinAtMs));
    assert.ok(Date.parse(hook.handover.planned_at) > deadlineMs);

    // Every bot still has a slot before it joins (the first wave showed the slots are kept).
    const dues = (await rc.database.db.selectFrom('schedules').select('due_at_ms').where('bot_id', 'in', ids).orderBy('due_at_ms').execute()).map((r) => Number(r.due_at_ms));
    assert.equal(dues[0], clock.now());
    assert.ok(dues.at(-1)! < joinAtMs, 'all are handed over before they join');
    assert.equal(dues.filter((d) => d <= deadlineMs).length, inTime);
    for (let i = 1; i < dues.length; i++) assert.equal(dues[i]! - dues[i - 1]!, SPACING_MS);
    // The first minute of them, driven: one every 1.02 s, none refused.
    await driveUntil(clock.now() + MIN);
    const sent = createsFor(ids);
    assert.equal(sent.length, Math.floor(MIN / SPACING_MS) + 1);
    assert.ok(sent.every((r) => r.status === 201));
  });

  // Several instances share one database on PostgreSQL only; SQLite is one process per file.
  test('two instances planning at once report each late bot once', { skip: TEST_ENGINE === 'sqlite' ? 'one process per SQLite file' : false }, async () => {
    const count = 100;
    const joinAtMs = t0 + 11 * HOUR;
    const deadlineMs = joinAtMs - LEAD_MS;
    clock.set(deadlineMs - 30_000);
    const ids = await bookWave('d', count, joinAtMs);
    const other = await createRollcall(rc.config, { database: await rc.testDatabase.open(), clock, logger: createLogger('silent'), collectDefaultMetrics: false });
    try {
      await Promise.all([rc.dispatcher.runDue(), other.dispatcher.runDue(), rc.dispatcher.runDue(), other.dispatcher.runDue()]);
    } finally {
      await other.close();
    }
    const late = count - (Math.floor(30_000 / SPACING_MS) + 1);
    const atRisk = await decisionsOf(ids, 'handover_at_risk');
    assert.equal(atRisk.length, late);
    assert.equal(new Set(atRisk.map((d) => d.bot_id)).size, late, 'once per bot');
    const hooks = (await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', 'in', ids).execute()).filter((r) => JSON.parse(r.payload).event === 'bot.handover_at_risk');
    assert.equal(hooks.length, late);
    assert.equal(new Set((await decisionsOf(ids, 'handover_planned')).map((d) => d.bot_id)).size, count);
  });
});
