// Early handover and late edits, end to end against each bot provider's fake, on the engine of
// the run, on a manual clock: a meeting booked a day ahead is handed over at the lead, moved
// outside and inside the provider's edit cutoff, then cancelled; a second meeting runs through
// joining, in call and done from the provider's webhooks; an outage and a 429 at the handover are
// retried without a second bot; a provider refusing the key fails the bot and /readyz.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createRollcall } from '../../src/container.ts';
import { MIN_JOIN_AT_LEAD_MS } from '../../src/adapters/bot-providers/provider-http.ts';
import { deduplicationKeyHash } from '../../src/domain/bot-config.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeRecall } from '../support/fake-recall.ts';
import { FakeMeetStream } from '../support/fake-meetstream.ts';
import { FakeAttendee } from '../support/fake-attendee.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { CapturedLog } from '../support/captured-log.ts';

const API_KEY = 'handover-api-key-8Rt2Wq';
const MIN = 60_000;
const HOUR = 3_600_000;
const JOIN_LEAD_MS = 180_000;
/**
 * How long Rollcall waits for a provider's answer (BOT_RUNTIME_TIMEOUT_MS): a held creation is
 * given up after this much real time, which the "no answer" tests wait out, a few dozen times per
 * run. Tests that act while a request is on the wire (an edit, a cancel, a sync) do so within it:
 * a tenth of a second on a loaded machine, so a second leaves ample room.
 */
const NO_ANSWER_MS = 1000;

type Kind = 'recall' | 'meetstream' | 'attendee';
type Fake = FakeRecall | FakeMeetStream | FakeAttendee;

/** What the test needs to know of each provider, in its own words. */
interface ProviderCase {
  kind: Kind;
  fake: Fake;
  secret: string;
  /** The provider's status names for joining, in the call, finished, and recording or not in the call. */
  statusNames: { joining: string; inCall: string; done: string; recording: string; notRecording: string };
  /** What the provider's in-call status means here: recording (Recall, Attendee) or just in the meeting (MeetStream's bot.inmeeting). */
  inCallAs: 'Recording' | 'InMeeting';
  /** Rollcall's declared rules for it (docs/providers/<kind>.md). */
  leadMs: number;
  updateCutoffMs: number;
  /** How long Rollcall leaves a creation that got no answer before it sends it again (docs/providers/<kind>.md). */
  creationRunsMs: number;
}

function providerCase(kind: Kind): ProviderCase {
  if (kind === 'recall') {
    const secret = `whsec_${Buffer.from('handover-recall-secret-32-bytes!').toString('base64')}`;
    return { kind, fake: new FakeRecall(API_KEY, secret), secret, statusNames: { joining: 'joining_call', inCall: 'in_call_recording', done: 'done', recording: 'in_call_recording', notRecording: 'in_call_not_recording' }, inCallAs: 'Recording', leadMs: 900_000, updateCutoffMs: 600_000, creationRunsMs: 0 };
  }
  if (kind === 'meetstream') {
    const secret = 'handover-meetstream-secret-5Vb';
    return { kind, fake: new FakeMeetStream(API_KEY, secret), secret, statusNames: { joining: 'bot.joining', inCall: 'bot.inmeeting', done: 'bot.done', recording: 'bot.recording', notRecording: 'bot.inmeeting' }, inCallAs: 'InMeeting', leadMs: 300_000, updateCutoffMs: 120_000, creationRunsMs: 30_000 };
  }
  const secret = Buffer.from('handover-attendee-project-secret').toString('base64');
  return { kind, fake: new FakeAttendee(API_KEY, secret), secret, statusNames: { joining: 'joining', inCall: 'joined_recording', done: 'ended', recording: 'joined_recording', notRecording: 'joined_not_recording' }, inCallAs: 'Recording', leadMs: 900_000, updateCutoffMs: 360_000, creationRunsMs: 0 };
}

interface AnyFakeBot {
  id: string;
  meetingUrl: string;
  joinAt: string | null;
  state: string;
  deleted: boolean;
}

/** The fake's bots in one shape. */
function botsOf(fake: Fake): AnyFakeBot[] {
  if (fake instanceof FakeRecall) return [...fake.bots.values()].map((b) => ({ id: b.id, meetingUrl: b.meeting_url, joinAt: b.join_at, state: b.status, deleted: b.deleted }));
  if (fake instanceof FakeMeetStream) return [...fake.bots.values()].map((b) => ({ id: b.bot_id, meetingUrl: b.meeting_link, joinAt: b.join_at, state: b.status, deleted: b.deleted }));
  return [...fake.bots.values()].map((b) => ({ id: b.id, meetingUrl: b.meeting_url, joinAt: b.join_at, state: b.state, deleted: b.deleted }));
}

/** Deleted, or made to leave: a bot that will not sit in the meeting. */
function isGone(bot: AnyFakeBot): boolean {
  return bot.deleted || ['call_ended', 'done', 'Leaving', 'Stopped', 'Done', 'leaving', 'post_processing', 'ended'].includes(bot.state);
}

/**
 * The provider starts the bot on its way into the call at its join time (its own scheduler's job);
 * a bot removed before then (Recall takes leave_call for a dispatched bot) does not start.
 */
function startJoining(fake: Fake, id: string): void {
  if (botsOf(fake).some((b) => b.id === id && isGone(b))) return;
  if (fake instanceof FakeRecall) fake.bots.get(id)!.status = 'joining_call';
  else if (fake instanceof FakeMeetStream) fake.bots.get(id)!.status = 'Joining';
  else fake.bots.get(id)!.state = 'joining';
}

function createRequests(fake: Fake) {
  const path = fake instanceof FakeRecall ? '/api/v1/bot/' : fake instanceof FakeMeetStream ? '/api/v1/bots/create_bot' : '/api/v1/bots';
  return fake.requests.filter((r) => r.method === 'POST' && r.path === path);
}

const iso = (ms: number) => new Date(ms).toISOString();

for (const kind of ['recall', 'meetstream', 'attendee'] as const) {
  describe(`handover and late edits: ${kind}`, () => {
    const provider = providerCase(kind);
    const fake = provider.fake;
    const receiver = new FakeHttpReceiver();
    const ics = new FakeIcsServer();
    const t0 = Math.ceil(Date.now() / HOUR) * HOUR;
    const clock = new ManualClock(t0);
    let rc: TestRollcall;
    let user: { auth: string; userId: string };
    let hooksUrl: string;
    const log = new CapturedLog();

    before(async () => {
      const url = await fake.start();
      fake.now = () => clock.now();
      hooksUrl = `${await receiver.start()}/hooks`;
      await ics.start();
      rc = await startTestRollcall({
        clock,
        settings: {
          BOT_RUNTIME: kind, BOT_PROVIDER_API_KEY: API_KEY, BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: provider.secret,
          BOT_RUNTIME_TIMEOUT_MS: String(NO_ANSWER_MS), DISPATCH_LEASE_SECONDS: '5', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        },
        overrides: { logger: createLogger('warn', log) },
      });
      user = await rc.newUser();
    });
    after(async () => {
      await rc.close();
      await fake.stop();
      await receiver.stop();
      await ics.stop();
    });

    async function scheduleMeeting(startMs: number, meetingUrl: string, key: string): Promise<{ eventId: string; botId: string }> {
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: key, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: meetingUrl } });
      assert.equal(event.status, 201, JSON.stringify(event.body));
      const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { bot_name: key, callback_url: hooksUrl } } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      return { eventId: event.body.id, botId: scheduled.body.bot_id };
    }
    /** A meeting two hours out, booked, planned, and the clock at its handover time. */
    async function bookedToHandOver(meetingUrl: string, key: string): Promise<{ botId: string; joinAtMs: number }> {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { botId } = await scheduleMeeting(startMs, meetingUrl, key);
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      clock.set(joinAtMs - provider.leadMs);
      return { botId, joinAtMs };
    }
    const botRow = (id: string) => rc.database.db.selectFrom('bots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const handoverRow = (id: string) => rc.database.db.selectFrom('provider_handovers').selectAll().where('bot_id', '=', id).executeTakeFirst();
    const scheduleRow = (id: string) => rc.database.db.selectFrom('schedules').selectAll().where('bot_id', '=', id).executeTakeFirstOrThrow();
    const decisions = async (id: string) => (await rc.request('GET', `/api/v1/bots/${id}`, { auth: user.auth })).body.decisions as { kind: string; reason: string; details: Record<string, unknown> }[];
    const callbacks = async (id: string) => {
      await rc.webhooks.runDue();
      return receiver.received.filter((r) => r.json?.bot_id === id).map((r) => r.json.event === 'bot.stopped' ? r.json.bot_event : r.json.event);
    };
    const providerWebhook = (providerBotId: string, name: string) => {
      const { rawBody, headers } = fake.statusWebhook(providerBotId, name);
      return rc.app.inject({ method: 'POST', url: `/api/v1/providers/${kind}/webhook`, payload: rawBody, headers: { 'content-type': 'application/json', ...headers } });
    };

    test('a meeting booked a day ahead: handed over at the lead, moved outside then inside the cutoff, then cancelled', async () => {
      const meetingUrl = 'https://meet.google.com/day-ahea-dmt';
      const startMs = t0 + 24 * HOUR;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const handoverAtMs = joinAtMs - provider.leadMs;
      const { eventId, botId } = await scheduleMeeting(startMs, meetingUrl, `day-ahead-${kind}`);
      await rc.dispatcher.runDue();
      assert.equal(botsOf(fake).length, 0, 'nothing goes to the provider a day ahead');

      // Within the hour before the handover the plan announces it and moves the timer there.
      clock.set(handoverAtMs - 30 * MIN);
      await rc.dispatcher.runDue();
      const planned = (await decisions(botId)).find((d) => d.kind === 'handover_planned');
      assert.ok(planned, 'the plan is in the decision log');
      assert.match(planned.reason, new RegExp(`handed over to ${kind} at ${iso(handoverAtMs)}.*the handover lead`));
      assert.equal(Number((await scheduleRow(botId)).due_at_ms), handoverAtMs);
      assert.equal(botsOf(fake).length, 0);

      clock.set(handoverAtMs);
      await rc.dispatcher.runDue();
      const [handed] = botsOf(fake);
      assert.ok(handed && botsOf(fake).length === 1, 'one bot at the provider');
      assert.equal(handed.joinAt, iso(joinAtMs), 'the provider joins at the join time');
      let bot = await botRow(botId);
      assert.equal(bot.status, 'Scheduled', 'handed over, not joined');
      assert.equal(bot.provider_bot_id, handed.id);
      assert.equal((await scheduleRow(botId)).state, 'done', 'the timer is finished');
      const handedOver = (await decisions(botId)).find((d) => d.kind === 'handed_over');
      assert.ok(handedOver);
      assert.equal(handedOver.reason, `Handed over to ${kind} as ${handed.id}, joins at ${iso(joinAtMs)}`);

      // Moved an hour later in the calendar: outside the cutoff, the provider's bot is updated.
      const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(startMs + HOUR), end_time: iso(startMs + 2 * HOUR) } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      await rc.dispatcher.runDue();
      assert.equal(botsOf(fake).filter((b) => !b.deleted).length, 1);
      assert.equal(fake.bots.size, 1, 'updated in place, nothing created');
      assert.equal(botsOf(fake)[0]!.joinAt, iso(joinAtMs + HOUR));
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_updated' && d.reason.includes(`now joins at ${iso(joinAtMs + HOUR)}`)));

      // Moved again, through the bot, to a join time inside the provider's edit cutoff: an
      // update would fail, so the bot is replaced under a new idempotency key.
      const insideMs = Math.floor((clock.now() + provider.updateCutoffMs / 2) / 1000) * 1000;
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { scheduled_join_time: iso(insideMs) } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await rc.dispatcher.runDue();
      const replaced = (await decisions(botId)).find((d) => d.kind === 'provider_replaced');
      assert.ok(replaced, 'the decision log says the bot was replaced');
      assert.match(replaced.reason, /inside the provider's .* edit cutoff.*new idempotency key/);
      assert.equal(replaced.details.idempotency_key, `launch-${botId}.r1`);
      const live = botsOf(fake).filter((b) => !isGone(b));
      assert.equal(live.length, 1, `one live bot at the provider: ${JSON.stringify(botsOf(fake))}`);
      assert.equal(botsOf(fake).find((b) => b.id === handed.id)!.deleted, true, 'the old bot is deleted');
      assert.equal(live[0]!.joinAt, iso(insideMs));
      bot = await botRow(botId);
      assert.equal(bot.provider_bot_id, live[0]!.id, 'the Rollcall bot names the new provider bot');
      assert.equal(createRequests(fake).at(-1)!.headers['idempotency-key'] ?? createRequests(fake).at(-1)!.body.deduplication_key, `launch-${botId}.r1`);

      // Cancelled in the calendar: the provider's bot is removed.
      const replacement = live[0]!;
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      await rc.dispatcher.runDue();
      bot = await botRow(botId);
      assert.equal(bot.status, 'Cancelled');
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_removal_requested'));
      // Recall removes a dispatched scheduled bot (inside its ten minutes, not joining yet) with
      // leave_call (https://docs.recall.ai/docs/scheduling-bots-best-practices): gone at once, it
      // never joins the cancelled meeting.
      if (kind === 'recall') assert.ok(isGone(botsOf(fake).find((b) => b.id === replacement.id)!), `the replacement was not removed before its join time: ${JSON.stringify((await decisions(botId)).map((d) => [d.kind, d.reason]))}`);
      if (!isGone(botsOf(fake).find((b) => b.id === replacement.id)!)) {
        // Inside the provider's delete window the bot can only be made to leave, once it is in.
        clock.set(insideMs + 1000);
        startJoining(fake, replacement.id);
        // Its webhook for a bot Rollcall let go of is acknowledged and changes nothing.
        const hook = await providerWebhook(replacement.id, provider.statusNames.joining);
        assert.equal(hook.statusCode, 200, hook.body);
        assert.equal(hook.json().retired, true);
        await rc.dispatcher.runDue();
      }
      assert.ok(botsOf(fake).every(isGone), `every provider bot is gone: ${JSON.stringify(botsOf(fake))}`);
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_bot_removed'));
      assert.equal((await botRow(botId)).status, 'Cancelled');
      assert.deepEqual(await callbacks(botId), ['bot.scheduled', 'bot.rescheduled', 'bot.rescheduled', 'bot.cancelled']);
    });

    const requestsFor = (providerBotId: string) => fake.requests.filter((r) => r.path.includes(providerBotId)).map((r) => `${r.method} ${r.path} -> ${r.status}`);

    test('cancelled seven minutes before its join time: the bot never joins; Attendee, which has not staged it yet, deletes it; Recall, past its ten minutes, is never sent a delete it would refuse', async () => {
      const { eventId, botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/can-cela-sev', `cancel-7-${kind}`);
      clock.set(joinAtMs - 7 * MIN);
      // Inside Attendee's ten-minute cutoff, outside its five-minute staging (run_scheduler.py).
      if (fake instanceof FakeAttendee) assert.equal(fake.bots.get(providerBotId)!.state, 'scheduled');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      await rc.dispatcher.runDue();
      const old = botsOf(fake).find((b) => b.id === providerBotId)!;
      assert.ok(isGone(old), `removed before its join time: ${JSON.stringify(old)}; ${JSON.stringify(requestsFor(providerBotId))}`);
      if (kind !== 'recall') assert.equal(old.deleted, true, `deleted, not left to start joining: ${JSON.stringify(requestsFor(providerBotId))}`);
      if (kind === 'recall') assert.deepEqual(fake.requests.filter((r) => r.method === 'DELETE' && r.path.includes(providerBotId)), [], 'no delete inside Recall\'s ten minutes');
      const removed = (await decisions(botId)).find((d) => d.kind === 'provider_bot_removed');
      assert.ok(removed);
      assert.match(removed.reason, kind === 'recall' ? /made to leave/ : /was deleted/);
    });

    test('attendee: cancelled seven minutes out, the bot staged early (the scheduler\'s start jitter): the refused delete falls through to leave, sent once the bot is joining', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { eventId, botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/sta-gede-arl', `cancel-staged-${kind}`);
      fake.stagingWindowMs = 10 * MIN;
      t.after(() => { fake.stagingWindowMs = 5 * MIN; });
      clock.set(joinAtMs - 7 * MIN);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.state, 'staged');
      assert.deepEqual(requestsFor(providerBotId), [`DELETE /api/v1/bots/${providerBotId} -> 400`, `POST /api/v1/bots/${providerBotId}/leave -> 400`]);
      clock.set(joinAtMs);
      startJoining(fake, providerBotId);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.state, 'leaving');
      assert.deepEqual(requestsFor(providerBotId).slice(2), [`DELETE /api/v1/bots/${providerBotId} -> 400`, `POST /api/v1/bots/${providerBotId}/leave -> 200`], 'a delete before each leave, refused once the bot is joining');
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_bot_removed' && /made to leave/.test(d.reason)));
    });

    test('attendee: cancelled just after its join time, the bot not started yet (the scheduler behind): deleted, it never starts joining the cancelled meeting', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { eventId, botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/lat-ecan-cel', `cancel-late-${kind}`);
      // The scheduler stages the bot two minutes after its join time (it launches bots missed by
      // up to five minutes: run_scheduler.py, join_at_lower_threshold).
      fake.stagingWindowMs = -2 * MIN;
      t.after(() => { fake.stagingWindowMs = 5 * MIN; });
      clock.set(joinAtMs + 10_000);
      assert.equal(fake.bots.get(providerBotId)!.state, 'scheduled');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.deleted, true, `deleted, not left to start joining: ${JSON.stringify(requestsFor(providerBotId))}`);
      assert.deepEqual(requestsFor(providerBotId), [`DELETE /api/v1/bots/${providerBotId} -> 200`]);
      const ds = await decisions(botId);
      assert.match(ds.find((d) => d.kind === 'provider_removal_requested')!.reason, /cancelled after the bot's join time: it is deleted if the provider has not started it yet, else made to leave/);
      assert.match(ds.find((d) => d.kind === 'provider_bot_removed')!.reason, /was deleted \(it had not been started yet\)/);
    });

    test('moved half an hour later, seven minutes before its join time: the old bot does not start joining beside the one that joins at the new time', async () => {
      const { botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/mov-edse-ven', `move-7-${kind}`);
      clock.set(joinAtMs - 7 * MIN);
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { scheduled_join_time: iso(joinAtMs + 30 * MIN) } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await rc.dispatcher.runDue();
      const current = (await botRow(botId)).provider_bot_id!;
      const mine = botsOf(fake).filter((b) => b.id === providerBotId || b.id === current);
      const live = mine.filter((b) => !isGone(b));
      assert.deepEqual(live.map((b) => [b.id, b.joinAt]), [[current, iso(joinAtMs + 30 * MIN)]], `one bot, at the new time: ${JSON.stringify(mine)}; ${JSON.stringify(requestsFor(providerBotId))}`);
      // MeetStream (two-minute cutoff) and Attendee (six: it has not staged the bot) update it in
      // place; Recall's is replaced.
      if (kind !== 'recall') assert.equal(current, providerBotId, 'updated in place');
    });

    test('attendee: moved seven minutes out, the bot staged early (the scheduler\'s start jitter): the refused update is a replacement, and the old bot is made to leave once it is joining', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/sta-gedm-ove', `move-staged-${kind}`);
      fake.stagingWindowMs = 10 * MIN;
      t.after(() => { fake.stagingWindowMs = 5 * MIN; });
      clock.set(joinAtMs - 7 * MIN);
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { scheduled_join_time: iso(joinAtMs + 30 * MIN) } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await rc.dispatcher.runDue();
      assert.deepEqual(requestsFor(providerBotId), [`PATCH /api/v1/bots/${providerBotId} -> 400`, `DELETE /api/v1/bots/${providerBotId} -> 400`, `POST /api/v1/bots/${providerBotId}/leave -> 400`]);
      const current = (await botRow(botId)).provider_bot_id!;
      assert.notEqual(current, providerBotId);
      assert.equal(fake.bots.get(current)!.join_at, iso(joinAtMs + 30 * MIN));
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_replaced' && /refused the update/.test(d.reason)));
      clock.set(joinAtMs);
      startJoining(fake, providerBotId);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.state, 'leaving');
      assert.equal(fake.bots.get(current)!.state, 'scheduled', 'the replacement waits for its own time');
    });

    test('attendee: renamed 20 s before its join time, the old bot staged: refused delete and leave are tried again at the join time, not 30 s later, so the old bot does not join next to its replacement', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/ren-amel-ate', `rename-20s-${kind}`);
      clock.set(joinAtMs - 20_000);
      const renamed = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { bot_username: 'Renamed Late' } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      await rc.dispatcher.runDue();
      const current = (await botRow(botId)).provider_bot_id!;
      assert.notEqual(current, providerBotId, 'replaced');
      assert.deepEqual(requestsFor(providerBotId).slice(-2), [`DELETE /api/v1/bots/${providerBotId} -> 400`, `POST /api/v1/bots/${providerBotId}/leave -> 400`]);
      // A staged Attendee bot starts joining a few seconds before its join time
      // (bots/bot_controller/bot_controller.py join_if_staged_and_time_to_join): by the join time it is.
      clock.set(joinAtMs);
      startJoining(fake, providerBotId);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.state, 'leaving', JSON.stringify(requestsFor(providerBotId)));
      assert.equal((await botRow(botId)).provider_bot_id, current);
    });

    test('attendee: renamed seven minutes out, the bot staged early (the scheduler\'s start jitter): the update refused for the bot\'s state, a replacement carries the new name and the old bot leaves once joining', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/sta-gedr-nme', `rename-staged-${kind}`);
      fake.stagingWindowMs = 10 * MIN;
      t.after(() => { fake.stagingWindowMs = 5 * MIN; });
      clock.set(joinAtMs - 7 * MIN);
      const renamed = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { bot_username: 'Renamed Notetaker' } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      await rc.dispatcher.runDue();
      assert.deepEqual(requestsFor(providerBotId), [`PATCH /api/v1/bots/${providerBotId} -> 400`, `DELETE /api/v1/bots/${providerBotId} -> 400`, `POST /api/v1/bots/${providerBotId}/leave -> 400`]);
      const current = (await botRow(botId)).provider_bot_id!;
      const ds = await decisions(botId);
      assert.notEqual(current, providerBotId, `replaced: ${JSON.stringify(ds.slice(-2).map((d) => [d.kind, d.reason]))}`);
      assert.equal(fake.bots.get(current)!.bot_name, 'Renamed Notetaker');
      assert.equal(fake.bots.get(current)!.join_at, iso(joinAtMs), 'the replacement joins at the same time');
      assert.ok(ds.some((d) => d.kind === 'provider_replaced' && /refused the update/.test(d.reason)));
      assert.ok(!ds.some((d) => d.kind === 'provider_sync_failed'));
      clock.set(joinAtMs);
      startJoining(fake, providerBotId);
      await rc.dispatcher.runDue();
      assert.equal(fake.bots.get(providerBotId)!.state, 'leaving');
      assert.equal((await botRow(botId)).provider_bot_id, current);
    });

    test('attendee: moved half an hour later, five and a half minutes before its join time (inside the update cutoff, before staging): replaced, and the old bot deleted, not left to start joining', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s staging');
      const { botId, joinAtMs, first: providerBotId } = await handedOver(2, 'https://meet.google.com/mov-edfi-ven', `move-5-${kind}`);
      clock.set(joinAtMs - 5.5 * MIN);
      assert.equal(fake.bots.get(providerBotId)!.state, 'scheduled');
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { scheduled_join_time: iso(joinAtMs + 30 * MIN) } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await rc.dispatcher.runDue();
      const current = (await botRow(botId)).provider_bot_id!;
      assert.notEqual(current, providerBotId, 'replaced');
      assert.equal(fake.bots.get(current)!.join_at, iso(joinAtMs + 30 * MIN));
      assert.equal(fake.bots.get(providerBotId)!.deleted, true, `deleted: ${JSON.stringify(requestsFor(providerBotId))}`);
      assert.match((await decisions(botId)).find((d) => d.kind === 'provider_replaced')!.reason, /deleted if the provider has not started it yet, else made to leave/);
    });

    test('a second meeting runs through joining, in call and done from the provider\'s webhooks, each reaching the callback', async () => {
      const { botId, joinAtMs } = await bookedToHandOver('https://meet.google.com/sec-ondm-eet', `second-${kind}`);
      await rc.dispatcher.runDue();
      const providerBotId = (await botRow(botId)).provider_bot_id!;
      assert.ok(providerBotId);
      assert.equal((await botRow(botId)).status, 'Scheduled');
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the join time alone changes nothing: the provider says when it joins');
      for (const [name, status] of [[provider.statusNames.joining, 'Joining'], [provider.statusNames.inCall, provider.inCallAs], [provider.statusNames.done, 'Done']] as const) {
        const answer = await providerWebhook(providerBotId, name);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal((await botRow(botId)).status, status);
      }
      assert.deepEqual(await callbacks(botId), ['bot.scheduled', 'bot.joining', provider.inCallAs === 'Recording' ? 'bot.recording' : 'bot.inmeeting', 'bot.done']);
      assert.equal(createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId).length, 1);
    });

    test('attendee: the meeting runs longer while the bot is in it: the update Rollcall sends repeats the link, which Attendee takes (it refuses only a change); a new link is refused', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s PATCH of a bot past `scheduled`');
      const meetingUrl = 'https://meet.google.com/run-slon-ger';
      const { eventId, botId, joinAtMs, first: providerBotId } = await handedOver(2, meetingUrl, `runs-longer-${kind}`);
      clock.set(joinAtMs);
      for (const name of [provider.statusNames.joining, provider.statusNames.inCall]) assert.equal((await providerWebhook(providerBotId, name)).statusCode, 200);
      assert.equal((await botRow(botId)).status, 'Recording');
      const startMs = joinAtMs + JOIN_LEAD_MS;
      const longer = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { end_time: iso(startMs + 2 * HOUR) } });
      assert.equal(longer.status, 200, JSON.stringify(longer.body));
      await rc.dispatcher.runDue();
      const patches = () => fake.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/bots/${providerBotId}`);
      assert.deepEqual(patches().map((r) => [r.body.meeting_url, r.status]), [[meetingUrl, 200]], 'the link it has, taken');
      const kinds = () => decisions(botId).then((ds) => ds.map((d) => d.kind));
      assert.ok((await kinds()).includes('update_delivered'), (await kinds()).join(', '));
      assert.ok(!(await kinds()).includes('update_failed'));
      // patch_bot refuses a change of link outside `scheduled`: the bot stays where it is.
      const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { meeting_url: 'https://meet.google.com/new-link-now' } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      await rc.dispatcher.runDue();
      assert.deepEqual(patches().slice(1).map((r) => [r.body.meeting_url, r.status]), [['https://meet.google.com/new-link-now', 400]]);
      assert.equal(fake.bots.get(providerBotId)!.meeting_url, meetingUrl);
      assert.ok((await kinds()).includes('update_failed'));
    });

    test('the provider\'s joining report lost: its in-call report moves the bot through Joining, and the client hears both', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/los-tjoi-nin', `lost-joining-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const providerBotId = (await botRow(botId)).provider_bot_id!;
      assert.ok(providerBotId);
      clock.set(joinAtMs + 30_000);
      // The joining delivery never arrives (MeetStream does not retry a failed one).
      const answer = await providerWebhook(providerBotId, provider.statusNames.inCall);
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal((await botRow(botId)).status, provider.inCallAs);
      const timeline = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.status_timeline as { status: string; reason: string }[];
      assert.deepEqual(timeline.slice(-2).map((c) => c.status), ['Joining', provider.inCallAs]);
      assert.match(timeline.at(-2)!.reason, /without reporting joining first/);
      assert.ok((await botRow(botId)).launched_at !== null, 'counted as launched');
      const done = await providerWebhook(providerBotId, provider.statusNames.done);
      assert.equal(done.statusCode, 200, done.body);
      assert.deepEqual(await callbacks(botId), ['bot.scheduled', 'bot.joining', provider.inCallAs === 'Recording' ? 'bot.recording' : 'bot.inmeeting', 'bot.done']);
    });

    test('reports delivered late and out of order: one older than a report applied already changes nothing and is acknowledged', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/lat-eord-ere', `out-of-order-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const providerBotId = (await botRow(botId)).provider_bot_id!;
      assert.ok(providerBotId);
      const post = ({ rawBody, headers }: { rawBody: string; headers: Record<string, string> }) =>
        rc.app.inject({ method: 'POST', url: `/api/v1/providers/${kind}/webhook`, payload: rawBody, headers: { 'content-type': 'application/json', ...headers } });
      clock.set(joinAtMs);
      const joining = fake.statusWebhook(providerBotId, provider.statusNames.joining);
      assert.equal((await post(joining)).statusCode, 200);
      // In the call, not recording yet: this delivery fails and comes again later.
      clock.advance(10_000);
      const notRecording = fake.statusWebhook(providerBotId, provider.statusNames.notRecording);
      clock.advance(10_000);
      const recording = await post(fake.statusWebhook(providerBotId, provider.statusNames.recording));
      assert.equal(recording.statusCode, 200, recording.body);
      assert.equal((await botRow(botId)).status, 'Recording');
      // The retried deliveries: acknowledged, and the bot stays recording.
      for (const late of [notRecording, joining]) {
        const answer = await post(late);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.deepEqual([answer.json().stale, answer.json().changed], [true, false]);
        assert.equal((await botRow(botId)).status, 'Recording');
      }
      assert.deepEqual(await callbacks(botId), ['bot.scheduled', 'bot.joining', 'bot.recording']);
      // Two reports of one instant: the one that goes back is taken as the older.
      const sameInstant = fake.statusWebhook(providerBotId, provider.statusNames.notRecording);
      const tied = await post(sameInstant);
      assert.equal(tied.statusCode, 200, tied.body);
      assert.equal(tied.json().stale, true);
      assert.equal((await botRow(botId)).status, 'Recording');
      // A later one is a recording that paused: applied.
      clock.advance(10_000);
      const paused = await post(fake.statusWebhook(providerBotId, provider.statusNames.notRecording));
      assert.equal(paused.json().changed, true);
      assert.equal((await botRow(botId)).status, 'InMeeting');
    });

    test('what the provider refuses at creation is refused at booking, naming the field: nothing is stored, nothing reaches the provider', async () => {
      const startMs = Math.ceil((clock.now() + 26 * HOUR) / MIN) * MIN;
      const event = async (meetingUrl: string) => (await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Limits', start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: meetingUrl } })).body.id as string;
      const zoom = await event('https://zoom.us/j/85550007777');
      const blueJeans = await event('https://bluejeans.com/123456789');
      // Link shapes a provider refuses on a platform it joins (provider-input-limits.ts).
      const meetLookup = await event('https://meet.google.com/lookup/weekly-sync');
      const teamsWithoutContext = await event('https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjExOTkx%40thread.v2/0');
      const before = botsOf(fake).length;
      const botsBefore = (await rc.database.db.selectFrom('bots').select('id').execute()).length;
      const refused: [string, string, unknown, string][] = [
        // [what, event, bot_config, expected "status code field"]
        ['a meeting on a platform no provider here joins', blueJeans, {}, '400 invalid_meeting_url meeting_url'],
        ...(kind === 'recall' ? [
          ['a 101-character name (Recall: 1 to 100)', zoom, { bot_name: 'n'.repeat(101) }, '400 invalid_bot_config bot_config.bot_name'],
          ['a Google Meet lookup link on the event (Recall: a meeting code)', meetLookup, {}, '400 invalid_meeting_url meeting_url'],
        ] as [string, string, unknown, string][] : []),
        ...(kind === 'attendee' ? [
          ['a name with an emoji (Attendee: none beyond U+FFFF)', zoom, { bot_name: 'Notes 📝' }, '400 invalid_bot_config bot_config.bot_name'],
          ['attributes over Attendee\'s 1,000-character metadata', zoom, { custom_attributes: { notes: 'x'.repeat(990) } }, '400 invalid_bot_config bot_config.custom_attributes'],
          ['a Webex link given for the bot (Attendee: Zoom, Meet, Teams)', zoom, { meeting_url: 'https://acme.webex.com/meet/jane' }, '400 invalid_meeting_url bot_config.meeting_url'],
          ['a Zoom personal link given for the bot (Attendee: a meeting number)', zoom, { meeting_url: 'https://zoom.us/my/jane.doe' }, '400 invalid_meeting_url bot_config.meeting_url'],
          ['a ZoomGov link given for the bot (Attendee: zoom.us, zoom.com)', zoom, { meeting_url: 'https://agency.zoomgov.com/j/1612345678' }, '400 invalid_meeting_url bot_config.meeting_url'],
          ['a Teams link on the event without tenant and organizer (Attendee)', teamsWithoutContext, {}, '400 invalid_meeting_url meeting_url'],
        ] as [string, string, unknown, string][] : []),
        ...(kind === 'meetstream' ? [
          // MeetStream answers 400 to live_transcription_required with a post-call provider (the
          // Node SDK's CreateBotParams, meetstream-ai/meetstream-node src/types.ts; the labs'
          // live-captions-overlay/index.js): given as the calendar's transcription, or as create_bot's.
          ['a live transcript with a post-call provider (transcription)', zoom, { transcription: { deepgram: { model: 'nova-3' } }, live_transcription_required: { webhook_url: 'https://captions.example.com/live' } }, '400 invalid_bot_config bot_config.live_transcription_required'],
          ['a live transcript with a post-call provider (recording_config)', zoom, { recording_config: { transcript: { provider: { assemblyai: {} } } }, live_transcription_required: { webhook_url: 'https://captions.example.com/live' } }, '400 invalid_bot_config bot_config.live_transcription_required'],
          ['a live transcript with a post-call provider (provider_settings.meetstream)', zoom, { provider_settings: { meetstream: { recording_config: { transcript: { provider: { sarvam: {} } } } } }, live_transcription_required: { webhook_url: 'https://captions.example.com/live' } }, '400 invalid_bot_config bot_config.live_transcription_required'],
        ] as [string, string, unknown, string][] : []),
      ];
      for (const [what, eventId, botConfig, expected] of refused) {
        const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: `limits-${kind}`, bot_config: botConfig } });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, expected, `${what}: ${JSON.stringify(res.body)}`);
      }
      const adHoc = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: 'https://bluejeans.com/123456789', bot_name: 'Now' } });
      assert.equal(`${adHoc.status} ${adHoc.body.code} ${adHoc.body.details?.field}`, '400 invalid_meeting_url meeting_link');
      if (kind === 'meetstream') {
        const live = { live_transcription_required: { webhook_url: 'https://captions.example.com/live' }, recording_config: { transcript: { provider: { deepgram: {} } } } };
        const liveNow = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: 'https://zoom.us/j/85550007777', bot_name: 'Now', join_at: iso(startMs), ...live } });
        assert.equal(`${liveNow.status} ${liveNow.body.code} ${liveNow.body.details?.field}`, '400 invalid_bot_config live_transcription_required', JSON.stringify(liveNow.body));
        assert.match(liveNow.body.message, /^live_transcription_required: needs a streaming transcription provider .*deepgram_streaming.*"deepgram"/);
        const liveAuto = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { transcription: { meetstream: {} }, live_transcription_required: live.live_transcription_required } } });
        assert.equal(`${liveAuto.status} ${liveAuto.body.code} ${liveAuto.body.details?.field}`, '400 invalid_bot_config default_bot_config.live_transcription_required', JSON.stringify(liveAuto.body));
      }
      // Why, in the message: the event's link, and what to give instead.
      if (kind !== 'meetstream') {
        const why = await rc.request('POST', `/api/v1/calendar/schedule/${kind === 'recall' ? meetLookup : teamsWithoutContext}`, { auth: user.auth, body: { deduplication_key: `limits-why-${kind}`, bot_config: {} } });
        assert.match(why.body.error, kind === 'recall' ? /^The meeting of event .*: The bot provider \(Recall\) does not take Google Meet lookup links .*; pass bot_config.meeting_url$/ : /^The meeting of event .*: The bot provider \(Attendee\) needs a Microsoft Teams link that names the meeting's tenant and organizer/, JSON.stringify(why.body));
        const refusedNow = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: kind === 'recall' ? 'https://meet.google.com/lookup/weekly-sync' : 'https://zoom.us/my/jane.doe', bot_name: 'Now' } });
        assert.equal(`${refusedNow.status} ${refusedNow.body.code} ${refusedNow.body.details?.field}`, '400 invalid_meeting_url meeting_link', JSON.stringify(refusedNow.body));
      }
      assert.equal((await rc.database.db.selectFrom('bots').select('id').execute()).length, botsBefore, 'nothing stored');
      // Auto-schedule's default config would fail every bot it books: refused when saved.
      if (kind !== 'meetstream') {
        const enable = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: kind === 'recall' ? 'n'.repeat(101) : 'Notes 📝' } } });
        assert.equal(`${enable.status} ${enable.body.code} ${enable.body.details?.field}`, '400 invalid_bot_config default_bot_config.bot_name', JSON.stringify(enable.body));
      }
      // What the provider takes is booked; a rename it would refuse is refused too.
      const ok = await rc.request('POST', `/api/v1/calendar/schedule/${zoom}`, { auth: user.auth, body: { deduplication_key: `limits-${kind}`, bot_config: { bot_name: 'n'.repeat(100) } } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const rename = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${ok.body.bot_id}`, { auth: user.auth, body: { bot_username: kind === 'attendee' ? 'Notes 📝' : 'n'.repeat(101) } });
      assert.equal(`${rename.status} ${rename.body.code} ${rename.body.details?.field}`, kind === 'meetstream' ? '200 undefined undefined' : '400 validation_error bot_username', JSON.stringify(rename.body));
      if (kind === 'meetstream') {
        // A live transcript with a streaming provider is booked (and {} is no live transcript).
        const liveEvent = await event('https://zoom.us/j/85550008888');
        for (const botConfig of [
          { transcription: { deepgram_streaming: {} }, live_transcription_required: { webhook_url: 'https://captions.example.com/live' } },
          { recording_config: { transcript: { provider: { meetstream_streaming: {} } } }, live_transcription_required: { webhook_url: 'https://captions.example.com/live' } },
          { transcription: { deepgram: {} }, live_transcription_required: {} },
        ]) {
          const booked = await rc.request('POST', `/api/v1/calendar/schedule/${liveEvent}`, { auth: user.auth, body: { deduplication_key: `limits-live-${randomUUID()}`, bot_config: botConfig } });
          assert.equal(booked.status, 200, `${JSON.stringify(botConfig)}: ${JSON.stringify(booked.body)}`);
          assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${booked.body.bot_id}`, { auth: user.auth })).status, 200);
        }
        // MeetStream documents no link shapes: both are booked.
        for (const eventId of [meetLookup, teamsWithoutContext]) {
          const booked = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: `limits-shape-${eventId}`, bot_config: {} } });
          assert.equal(booked.status, 200, JSON.stringify(booked.body));
          assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${booked.body.bot_id}`, { auth: user.auth })).status, 200);
        }
      }
      assert.equal(botsOf(fake).length, before, 'nothing reached the provider (the booking is a day ahead)');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${ok.body.bot_id}`, { auth: user.auth })).status, 200);
    });

    test('meetstream: a live transcript is checked beside the transcription provider create_bot sends, provider_settings.meetstream laid over the rest as the launch lays it', async (t) => {
      if (kind !== 'meetstream') return t.skip('MeetStream\'s rule: a live transcript only with a streaming transcription provider');
      // MeetStream answers 400 to live_transcription_required beside a post-call provider
      // (meetstream-ai/meetstream-node src/types.ts, CreateBotParams). What Rollcall takes must
      // never reach it so, whichever part of the config names the two.
      const live = { webhook_url: 'https://captions.example.com/live' };
      const bodies: Record<string, unknown>[] = [
        // provider_settings.meetstream.transcription is sent as a field of its own; the provider
        // MeetStream reads (recording_config.transcript.provider) still comes from `transcription`.
        { live_transcription_required: live, transcription: { deepgram: {} }, provider_settings: { meetstream: { transcription: { deepgram_streaming: {} } } } },
        // provider_settings.meetstream's live transcript, {} too, is sent over the top-level one.
        { live_transcription_required: live, transcription: { deepgram: {} }, provider_settings: { meetstream: { live_transcription_required: {} } } },
        { transcription: { assemblyai: {} }, provider_settings: { meetstream: { live_transcription_required: live } } },
        // Accepted: the streaming provider is what is sent.
        { live_transcription_required: live, transcription: { deepgram: {} }, provider_settings: { meetstream: { recording_config: { transcript: { provider: { deepgram_streaming: {} } } } } } },
      ];
      const before = createRequests(fake).length;
      const accepted: string[] = [];
      for (const [i, body] of bodies.entries()) {
        const res = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/8555000${String(i).padStart(4, '0')}`, bot_name: 'Live', ...body } });
        if (res.status === 201) accepted.push(res.body.bot_id);
        else assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, '400 invalid_bot_config live_transcription_required', JSON.stringify(res.body));
        // A calendar bot_config is held to the same reading.
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: `live-${i}`, start_time: iso(clock.now() + 24 * HOUR), end_time: iso(clock.now() + 25 * HOUR), meeting_url: `https://zoom.us/j/8555100${String(i).padStart(4, '0')}` } });
        const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `live-${i}`, bot_config: body } });
        assert.equal(`${scheduled.status} ${scheduled.body.details?.field ?? ''}`, res.status === 201 ? '200 ' : '400 bot_config.live_transcription_required', JSON.stringify(scheduled.body));
        if (scheduled.status === 200) assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${scheduled.body.bot_id}`, { auth: user.auth })).status, 200);
      }
      assert.equal(accepted.length, 1, 'only the streaming provider is accepted');
      await rc.dispatcher.runDue();
      const sent = createRequests(fake).slice(before).map((r) => r.body as Record<string, any>);
      assert.equal(sent.length, 1);
      const postCall = ['deepgram', 'assemblyai', 'sarvam', 'jigsawstack', 'meetstream'];
      for (const body of sent) {
        const named = Object.keys(body.recording_config?.transcript?.provider ?? {})[0];
        assert.ok(!(body.live_transcription_required !== undefined && named !== undefined && postCall.includes(named)), JSON.stringify(body));
        assert.equal(named, 'deepgram_streaming');
      }
    });

    test('attendee: a repeated launch whose key an ended bot also had finds the bot that holds it, not the ended one', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s deduplication key is the only one that outlives its bot');
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/end-edke-yon', `ended-key-${kind}`);
      // Made under the launch's key before (an earlier attempt's bot that failed, then another
      // attempt's, still waiting); List Bots gives them oldest first.
      const key = `launch-${botId}`;
      const base = { meeting_url: 'https://meet.google.com/end-edke-yon', bot_name: 'x', join_at: null, metadata: { rollcall_bot_id: botId }, deduplication_key: key, deleted: false };
      fake.bots.set('bot_ended_first', { ...base, id: 'bot_ended_first', state: 'fatal_error' });
      fake.bots.set('bot_holding_key', { ...base, id: 'bot_holding_key', state: 'scheduled' });
      clock.set(startMs - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, 'bot_holding_key');
    });

    test('attendee: the bot holding a repeated launch\'s key is found on a later page of List Bots, past the ended ones', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s deduplication key is the only one that outlives its bot');
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/pag-edke-yon', `paged-key-${kind}`);
      // List Bots answers 25 bots a page, oldest first, finished ones included (BotCursorPagination
      // in bots/bots_api_views.py): a page of ended bots under the key comes before the one holding it.
      const key = `launch-${botId}`;
      const base = { meeting_url: 'https://meet.google.com/pag-edke-yon', bot_name: 'x', join_at: null, metadata: { rollcall_bot_id: botId }, deduplication_key: key, deleted: false };
      for (let i = 0; i < fake.listPageSize; i++) fake.bots.set(`bot_ended_${i}`, { ...base, id: `bot_ended_${i}`, state: 'ended' });
      fake.bots.set('bot_holding_key_late', { ...base, id: 'bot_holding_key_late', state: 'scheduled' });
      clock.set(startMs - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, 'bot_holding_key_late');
      const lookups = fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/bots' && r.query.get('deduplication_key') === key);
      assert.equal(lookups.length, 2, 'the second page asked for with the cursor of the first page\'s next');
      assert.ok(lookups[1]!.query.get('cursor'));
    });

    test('attendee: a key refused for a bot that finished before the lookup is answered with that bot, the newest under the key, not an older one', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s deduplication key is the only one that outlives its bot');
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/fin-edke-yon', `finished-key-${kind}`);
      // Two bots made under the launch's key, both finished by the time of the lookup; the refusal
      // came while the second still held the key (unique among unfinished bots: the
      // unique_bot_deduplication_key constraint in bots/models.py).
      const key = `launch-${botId}`;
      const base = { meeting_url: 'https://meet.google.com/fin-edke-yon', bot_name: 'x', join_at: null, metadata: { rollcall_bot_id: botId }, deduplication_key: key, deleted: false };
      fake.bots.set('bot_failed_long_ago', { ...base, id: 'bot_failed_long_ago', state: 'fatal_error' });
      fake.bots.set('bot_just_finished', { ...base, id: 'bot_just_finished', state: 'ended' });
      fake.failNext(/^POST \/api\/v1\/bots$/, { status: 400, body: { error: 'Deduplication key already in use. A bot in a non-terminal state with this deduplication key already exists. Please use a different deduplication key or wait for that bot to terminate.' } });
      clock.set(startMs - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, 'bot_just_finished');
    });

    test('attendee: a holder past the fifth page of List Bots (125 ended bots before it) is not taken for an ended one: the launch waits, and the holder is not made to leave', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee\'s deduplication key is the only one that outlives its bot');
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/cap-edke-yon', `capped-key-${kind}`);
      // 125 ended bots under the launch's key fill the five pages read (BotCursorPagination, 25 a
      // page, oldest first: bots/bots_api_views.py); the one holding the key is on the sixth.
      const key = `launch-${botId}`;
      const base = { meeting_url: 'https://meet.google.com/cap-edke-yon', bot_name: 'x', join_at: null, metadata: { rollcall_bot_id: botId }, deduplication_key: key, deleted: false };
      for (let i = 0; i < 5 * fake.listPageSize; i++) fake.bots.set(`bot_capped_ended_${i}`, { ...base, id: `bot_capped_ended_${i}`, state: 'ended' });
      fake.bots.set('bot_capped_holder', { ...base, id: 'bot_capped_holder', state: 'scheduled' });
      clock.set(startMs - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, null, 'no ended bot recorded as the launch\'s');
      assert.match((await scheduleRow(botId)).last_error ?? '', new RegExp(`deduplication key ${key} .*more than 5 pages`));
      const lookups = fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/bots' && r.query.get('deduplication_key') === key);
      assert.equal(lookups.length, 5);
      // The holder's first state change is not read as a second bot's: nothing makes it leave.
      clock.set(startMs - JOIN_LEAD_MS);
      const report = await providerWebhook('bot_capped_holder', 'joining');
      await rc.dispatcher.runDue();
      // Refused as a bot whose id is not recorded yet (Attendee retries the delivery), not retired.
      assert.equal(report.statusCode, 404, report.body);
      assert.equal(report.json().code, 'provider_bot_not_found');
      const kinds = (await decisions(botId)).map((d) => d.kind);
      assert.ok(!kinds.includes('provider_removal_requested') && !kinds.includes('handed_over'), kinds.join(', '));
      assert.ok(!fake.requests.some((r) => r.path.startsWith('/api/v1/bots/bot_capped_holder') && r.method !== 'GET'), 'nothing sent to remove the holder');
      assert.equal(fake.bots.get('bot_capped_holder')!.state, 'joining');
    });

    test('a bot booked 90 s before its join time is handed over at once with its join time (Attendee too: it asks only for a future join_at, ideally two minutes ahead)', async () => {
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      clock.set(joinAtMs - 90_000);
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/lat-eboo-ked', `late-booked-${kind}`);
      await rc.dispatcher.runDue();
      clock.advance(2_000);
      await rc.dispatcher.runDue();
      const made = createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId);
      assert.equal(made.length, 1);
      assert.equal(Date.parse(made[0]!.body.join_at), joinAtMs, 'with its join time: sent without one, the bot would join at once, early');
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the provider says when it joins');
    });

    test('an outage and a 429 at the handover are retried, the 429 after its Retry-After, without a second bot', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const meetingUrl = 'https://meet.google.com/out-agem-eet';
      const { botId } = await scheduleMeeting(startMs, meetingUrl, `outage-${kind}`);
      const attemptsFor = () => createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId);
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      clock.set(joinAtMs - provider.leadMs);
      // An outage (503, which every provider answers when overloaded: Recall's errors page) ...
      fake.failNext(/^POST /, { status: 503, body: { detail: 'Service unavailable' } });
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 1);
      assert.equal((await botRow(botId)).provider_bot_id, null);
      // ... then a 429 with Retry-After (Recall's errors page; Attendee's ProjectPostThrottle; MeetStream's proxies).
      fake.failNext(/^POST /, { status: 429, headers: { 'retry-after': '7' }, body: { detail: 'Request was throttled.' } });
      clock.advance(2000);
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 2);
      const failures = (await decisions(botId)).filter((d) => d.kind === 'handover_failed');
      assert.equal(failures.length, 2, JSON.stringify(failures));
      assert.match(failures[1]!.reason, /no bot is handed over before/);
      clock.advance(5000);
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 2, 'nothing is sent before the Retry-After has passed');
      clock.advance(2500);
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 3);
      assert.deepEqual(attemptsFor().map((r) => r.status), [503, 429, 201]);
      const atProvider = botsOf(fake).filter((b) => b.meetingUrl === meetingUrl);
      assert.equal(atProvider.length, 1, 'one bot at the provider');
      const bot = await botRow(botId);
      assert.equal(bot.provider_bot_id, atProvider[0]!.id);
      assert.equal(bot.status, 'Scheduled');
      assert.equal(new Set(attemptsFor().map((r) => r.headers['idempotency-key'] ?? r.body.deduplication_key)).size, 1, 'every attempt under the launch\'s idempotency key');
    });

    // The rule is the handover's own, the same for every provider: tried with one.
    if (kind === 'recall') test('a Retry-After reaching past the join time delays the handover to the join time at most, where the bot is launched to join at once', async () => {
      const { botId, joinAtMs } = await bookedToHandOver('https://meet.google.com/wai-tpas-tjo', `wait-past-join-${kind}`);
      const attemptsFor = () => createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId);
      fake.failNext(/^POST /, { status: 503, headers: { 'retry-after': '3600' }, body: { detail: 'Service unavailable' } });
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 1);
      assert.equal(Number((await scheduleRow(botId)).due_at_ms), joinAtMs, 'the retry waits for the join time, not an hour');
      clock.set(joinAtMs - 1);
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 1, 'nothing is sent before');
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      assert.equal(attemptsFor().length, 2);
      assert.ok((await botRow(botId)).provider_bot_id, 'launched at its join time');
    });

    // The rule is the fire decision's, the same for every provider: tried with one.
    if (kind === 'recall') test('a handover still refused when the meeting ends (its answer came after the join time, asking to wait past the end) fails the bot (Error, bot.failed), not Missed', async () => {
      const { botId, joinAtMs } = await bookedToHandOver('https://meet.google.com/ref-used-end', `refused-to-end-${kind}`);
      const attemptsFor = () => createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId);
      // The creation reaches the provider before the join time and is answered after it: a 503
      // asking to wait an hour (Recall's errors page: 503 with Retry-After when overloaded).
      const release = fake.holdNext(/^POST /);
      fake.failNext(/^POST /, { status: 503, headers: { 'retry-after': '3600' }, body: { detail: 'Service unavailable' } });
      const firing = rc.dispatcher.runDue();
      for (const deadline = Date.now() + 30_000; attemptsFor().length === 0;) {
        assert.ok(Date.now() < deadline, 'the handover never reached the provider');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Answered once the meeting has begun: its hour reaches past the meeting's end.
      clock.set(joinAtMs + JOIN_LEAD_MS + 5 * MIN);
      release();
      await firing;
      const endMs = joinAtMs + JOIN_LEAD_MS + HOUR;
      assert.equal(Number((await scheduleRow(botId)).due_at_ms), endMs, 'the retry waits no later than the meeting\'s end');
      assert.equal((await botRow(botId)).status, 'Scheduled');
      clock.set(endMs);
      await rc.dispatcher.runDue();
      const bot = await botRow(botId);
      assert.equal(bot.status, 'Error', 'the provider refused it until the end: a failure, not a meeting Rollcall let pass');
      assert.equal(attemptsFor().length, 1, 'nothing more is sent at the end');
      const failed = (await decisions(botId)).find((d) => d.kind === 'failed');
      assert.match(failed?.reason ?? '', /did not accept the bot before the meeting ended \(.*503/, JSON.stringify(await decisions(botId)));
      assert.equal((await callbacks(botId)).at(-1), 'bot.failed');
    });

    test('a changed meeting link: updated where the provider can change it, else replaced; a 429 delays the edit and a restart does not lose it', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/old-link-aaa', `link-${kind}`);
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first);
      // The provider asks to slow down on the edit (429 with Retry-After: Recall's errors page).
      fake.failNext(/^(PATCH|POST) /, { status: 429, headers: { 'retry-after': '5' }, body: { detail: 'Request was throttled.' } });
      const newLink = 'https://meet.google.com/new-link-bbb';
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { meeting_url: newLink } })).status, 200);
      await rc.dispatcher.runDue();
      assert.ok(botsOf(fake).every((b) => b.meetingUrl !== newLink), 'nothing changed at the provider yet');
      const pending = await rc.database.db.selectFrom('runtime_commands').selectAll().where('bot_id', '=', botId).where('state', '=', 'pending').execute();
      assert.equal(pending.length, 1);
      assert.match(pending[0]!.last_error ?? '', /HTTP 429/);
      assert.ok(Number(pending[0]!.next_attempt_at_ms) >= clock.now() + 5000, 'the retry waits for Retry-After');

      // Another process over the same database (a restart) sends it once the wait is over.
      const restarted = await createRollcall(rc.config, { database: await rc.testDatabase.open(), clock, logger: createLogger('silent'), collectDefaultMetrics: false });
      try {
        clock.advance(5000);
        await restarted.dispatcher.runDue();
      } finally {
        await restarted.close();
      }
      const live = botsOf(fake).filter((b) => b.meetingUrl === newLink && !isGone(b));
      assert.equal(live.length, 1, JSON.stringify(botsOf(fake)));
      const kinds = (await decisions(botId)).map((d) => d.kind);
      if (kind === 'meetstream') {
        // MeetStream's scheduled-bot update takes a join time only: a new link is a new bot.
        assert.ok(kinds.includes('provider_replaced'), kinds.join(', '));
        assert.notEqual(live[0]!.id, first);
        assert.equal(botsOf(fake).find((b) => b.id === first)!.deleted, true);
      } else {
        assert.ok(kinds.includes('provider_updated'), kinds.join(', '));
        assert.equal(live[0]!.id, first, 'the same provider bot, now on the new link');
      }
      assert.equal((await botRow(botId)).provider_bot_id, live[0]!.id);
    });

    test('a calendar change to a link the provider refuses: the bot follows it with a warning in its log, and fails at the handover with the provider\'s answer', async (t) => {
      if (kind === 'meetstream') return t.skip('MeetStream documents no link shapes it refuses');
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/ref-usel-ink', `refused-link-${kind}`);
      const warnings = async () => (await decisions(botId)).filter((d) => d.kind === 'link_refused_by_provider');
      // Another link the provider takes: followed, no warning.
      const takes = kind === 'recall' ? 'https://meet.google.com/abc-defg-hij' : 'https://zoom.us/j/85550001111';
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { meeting_url: takes } })).status, 200);
      assert.equal((await botRow(botId)).meeting_url, takes);
      assert.deepEqual(await warnings(), []);
      // One it refuses at creation (Recall: a Meet lookup link; Attendee: a Zoom personal link).
      const refused = kind === 'recall' ? 'https://meet.google.com/lookup/weekly-sync' : 'https://zoom.us/my/jane.doe';
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { meeting_url: refused } })).status, 200);
      const bot = await botRow(botId);
      assert.deepEqual([bot.status, bot.meeting_url], ['Scheduled', refused], 'the bot keeps its place and follows the calendar');
      const warned = await warnings();
      assert.equal(warned.length, 1, JSON.stringify(await decisions(botId)));
      assert.match(warned[0]!.reason, kind === 'recall' ? /bot provider refuses: The bot provider \(Recall\) does not take Google Meet lookup links/ : /bot provider refuses: The bot provider \(Attendee\) needs a Zoom link with the meeting's number/);
      assert.deepEqual(warned[0]!.details, { event_id: eventId, meeting_url: refused });
      // At the handover the provider refuses the link (as its fake does, after its real parser): the bot fails.
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Error', JSON.stringify(await decisions(botId)));
      assert.ok((await decisions(botId)).some((d) => d.kind === 'failed' && /Invalid meeting URL/.test(d.reason)), JSON.stringify(await decisions(botId)));
      assert.ok(botsOf(fake).every((b) => b.meetingUrl !== refused), 'no provider bot on the refused link');
    });

    test('a changed link five minutes before the join time: Recall updates its bot in place (until the bot starts joining, only a new join time needs ten minutes); the others replace it', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/lat-elin-kaa', `late-link-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first);
      clock.set(joinAtMs - 5 * MIN);
      const newLink = 'https://meet.google.com/lat-elin-kbb';
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { meeting_url: newLink } })).status, 200);
      await rc.dispatcher.runDue();
      const kinds = (await decisions(botId)).map((d) => d.kind);
      const onNewLink = botsOf(fake).filter((b) => b.meetingUrl === newLink && !isGone(b));
      assert.equal(onNewLink.length, 1, JSON.stringify(botsOf(fake)));
      if (kind === 'recall') {
        // "The bot's original join_at is less than 10 minutes from the current time - You can update
        // all properties" (https://docs.recall.ai/docs/scheduling-bots-best-practices).
        assert.ok(kinds.includes('provider_updated') && !kinds.includes('provider_replaced'), kinds.join(', '));
        assert.equal(onNewLink[0]!.id, first, 'the same provider bot, no ad-hoc one');
        assert.equal(onNewLink[0]!.joinAt, iso(joinAtMs));
      } else {
        // Attendee's bot is staged by now; MeetStream's update takes no link.
        assert.ok(kinds.includes('provider_replaced'), kinds.join(', '));
        assert.notEqual(onNewLink[0]!.id, first);
      }
      assert.equal((await botRow(botId)).provider_bot_id, onNewLink[0]!.id);
    });

    test('changed settings after the handover: the provider\'s bot gets them (updated where it can be, else replaced); a setting only Rollcall uses changes nothing there', async () => {
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/set-tngs-aaa', `settings-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first);
      const nameOf = (id: string) => {
        if (fake instanceof FakeRecall) return fake.bots.get(id)!.bot_name;
        if (fake instanceof FakeMeetStream) return fake.bots.get(id)!.bot_name;
        return fake.bots.get(id)!.bot_name;
      };
      const requestsBefore = fake.requests.length;

      // Scheduled again with the same key and a new callback_url: the provider never sees it.
      const again = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: user.auth, body: { deduplication_key: `settings-${kind}`, bot_config: { bot_name: `settings-${kind}`, callback_url: `${hooksUrl}?again=1` } } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      await rc.dispatcher.runDue();
      assert.equal(fake.requests.length, requestsBefore, `requests to the provider: ${JSON.stringify(fake.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`))}`);

      // A new display name through the update endpoint.
      const renamed = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { bot_username: 'Renamed Notetaker' } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      await rc.dispatcher.runDue();
      const current = (await botRow(botId)).provider_bot_id!;
      assert.equal(nameOf(current), 'Renamed Notetaker');
      const decided = await decisions(botId);
      if (kind === 'meetstream') {
        // Its scheduled-bot update takes a join time only: new settings are a new bot.
        assert.notEqual(current, first);
        assert.ok(decided.some((d) => d.kind === 'provider_replaced' && /cannot change bot_name/.test(d.reason)), JSON.stringify(decided.map((d) => d.reason)));
        assert.equal(botsOf(fake).find((b) => b.id === first)!.deleted, true);
      } else {
        assert.equal(current, first, 'the same provider bot, renamed');
        const patch = fake.requests.filter((r) => r.method === 'PATCH').at(-1)!;
        assert.deepEqual(Object.keys(patch.body).sort(), ['bot_name'], 'only what changed is sent');
        assert.ok(decided.some((d) => d.kind === 'provider_updated' && /with the new bot_name/.test(d.reason)), JSON.stringify(decided.map((d) => d.reason)));
      }
      assert.equal(botsOf(fake).filter((b) => !isGone(b) && b.meetingUrl === 'https://meet.google.com/set-tngs-aaa').length, 1, 'one provider bot for the meeting');
      // Nothing more to do: a second pass sends nothing.
      const settled = fake.requests.length;
      await rc.dispatcher.runDue();
      assert.equal(fake.requests.length, settled);

      // A name the provider refuses (a 400 validation answer to the update, or to the replacement's
      // creation where settings mean a new bot), for a reason Rollcall cannot check at the PATCH
      // (the limits it knows are checked there: provider-input-limits.ts): the bot it has stays,
      // with its old name.
      fake.failNext(kind === 'meetstream' ? /^POST / : /^PATCH /, { status: 400, body: kind === 'recall' ? { bot_name: ['This name is not allowed.'] } : { error: 'bot_name is not valid' } });
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { bot_username: 'N'.repeat(90) } })).status, 200);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, current, 'the provider bot was not replaced');
      assert.equal((await botRow(botId)).status, 'Scheduled');
      assert.equal(nameOf(current), 'Renamed Notetaker');
      assert.ok(!isGone(botsOf(fake).find((b) => b.id === current)!), 'the provider bot was let go of');
      assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_sync_failed' && /keeps its settings|stays, with its old settings/.test(d.reason)));
      // The operator's log says so too, with the bot and the provider's answer.
      const refused = log.entries<{ msg: string; botId?: string; outcome?: string; reason?: string }>().filter((l) => l.msg === `${kind} command failed` && l.botId === botId);
      assert.equal(refused.length, 1, JSON.stringify(log.entries().slice(-5)));
      assert.equal(refused[0]!.outcome, 'given up');
      assert.match(refused[0]!.reason ?? '', /400/);
    });

    test('provider_settings reach the provider\'s create-bot request in its own names; changed after the handover, the provider\'s bot gets them (Recall updates in place, the others replace it)', async () => {
      // Each provider's own name for a transcript: Recall's recording_config.transcript.provider
      // (https://docs.recall.ai/docs/quickstart), Attendee's transcription_settings (docs/openapi.yml of
      // attendee-labs/attendee), MeetStream's recording_config.transcript.provider (its create_bot).
      const transcript = (language: string): Record<string, unknown> => kind === 'attendee'
        ? { transcription_settings: { deepgram: { language } } }
        : { recording_config: { transcript: { provider: kind === 'recall' ? { recallai_streaming: { language_code: language } } : { deepgram: { language } } } } };
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const key = `provider-settings-${kind}`;
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: key, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: 'https://meet.google.com/prv-stng-aaa' } });
      // Another provider's section goes to nobody but that provider.
      const other = kind === 'recall' ? 'attendee' : 'recall';
      const settingsFor = (language: string) => ({ [kind]: { ...transcript(language), zoom_speaker_view: true }, [other]: { other_providers_field: true } });
      const schedule = (language: string) => rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, {
        auth: user.auth, body: { deduplication_key: key, bot_config: { bot_name: key, callback_url: hooksUrl, provider_settings: settingsFor(language) } },
      });
      const scheduled = await schedule('en');
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      assert.deepEqual(scheduled.body.bot_config.provider_settings, settingsFor('en'), 'echoed as given');
      const botId = scheduled.body.bot_id as string;
      clock.set(startMs - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first);
      const created = createRequests(fake).at(-1)!.body as Record<string, unknown>;
      assert.deepEqual(Object.fromEntries(Object.keys(transcript('en')).map((name) => [name, created[name]])), transcript('en'));
      assert.equal(created.zoom_speaker_view, true);
      assert.equal(created.other_providers_field, undefined, 'another provider\'s section is not sent');

      // A new transcript language: Recall's Update Scheduled Bot takes every Create Bot field
      // (docs.recall.ai/reference/bot_partial_update), so its bot is updated; the others' updates
      // take a join time, a link and a name only, so theirs is replaced.
      assert.equal((await schedule('fr')).status, 200);
      await rc.dispatcher.runDue();
      const current = (await botRow(botId)).provider_bot_id!;
      if (kind === 'recall') {
        assert.equal(current, first, 'the same Recall bot');
        const patch = fake.requests.filter((r) => r.method === 'PATCH').at(-1)!.body as Record<string, unknown>;
        assert.deepEqual(Object.keys(patch), Object.keys(transcript('fr')), 'only what changed is sent');
        assert.deepEqual(Object.fromEntries(Object.keys(transcript('fr')).map((name) => [name, patch[name]])), transcript('fr'));
        assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_updated'), JSON.stringify((await decisions(botId)).map((d) => d.reason)));
      } else {
        assert.notEqual(current, first);
        const recreated = createRequests(fake).at(-1)!.body as Record<string, unknown>;
        assert.deepEqual(Object.fromEntries(Object.keys(transcript('fr')).map((name) => [name, recreated[name]])), transcript('fr'));
        assert.ok(isGone(botsOf(fake).find((b) => b.id === first)!), 'the old provider bot was let go of');
        assert.ok((await decisions(botId)).some((d) => d.kind === 'provider_replaced'), JSON.stringify((await decisions(botId)).map((d) => d.reason)));
      }
      assert.equal(botsOf(fake).filter((b) => !isGone(b) && b.meetingUrl === 'https://meet.google.com/prv-stng-aaa').length, 1, 'one provider bot for the meeting');

      // New settings the provider refuses (a 400 to the replacement's creation), with a move of the
      // meeting: the move still reaches the provider's bot, which keeps the settings it has; the
      // bot does not fail over settings.
      assert.equal((await schedule('xx')).status, 200);
      const movedJoinMs = startMs - JOIN_LEAD_MS + 30 * MIN;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth, body: { scheduled_join_time: iso(movedJoinMs) } })).status, 200);
      const createsBefore = createRequests(fake).length;
      // Recall refuses them in the update first (then in the replacement's creation).
      if (kind === 'recall') fake.failNext(/^PATCH /, { status: 400, body: { recording_config: ['Unknown language code: xx'] } });
      fake.failNext(/^POST /, { status: 400, body: kind === 'recall' ? { recording_config: ['Unknown language code: xx'] } : { error: 'unknown language xx' } });
      await rc.dispatcher.runDue();
      assert.equal(createRequests(fake).length, createsBefore + 1, 'one creation, refused');
      const row = await botRow(botId);
      assert.equal(row.status, 'Scheduled');
      assert.equal(row.provider_bot_id, current, 'the same provider bot');
      assert.equal(botsOf(fake).find((b) => b.id === current)!.joinAt, iso(movedJoinMs), 'moved at the provider');
      assert.ok(!isGone(botsOf(fake).find((b) => b.id === current)!));
      const afterRefusal = await decisions(botId);
      assert.ok(afterRefusal.some((d) => d.kind === 'provider_sync_failed' && /followed with the settings its bot/.test(d.reason)), JSON.stringify(afterRefusal.map((d) => d.reason)));
      assert.ok(afterRefusal.some((d) => d.kind === 'provider_updated'), JSON.stringify(afterRefusal.map((d) => d.reason)));
      // Its held settings stay the old ones: nothing more is sent until the bot changes again.
      const settled = fake.requests.length;
      await rc.dispatcher.runDue();
      assert.equal(fake.requests.length, settled);
    });

    test('a handover that timed out after the provider created the bot, retried after the meeting moved: the provider\'s bot is moved too', async () => {
      const startMs = Math.ceil((clock.now() + 5 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/tmo-outs-aaa', `timeout-${kind}`);
      const before = new Set(botsOf(fake).map((b) => b.id));
      // The provider receives the creation but answers only after Rollcall gave up waiting (NO_ANSWER_MS).
      const release = fake.holdNext(/^POST /);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, null);
      assert.match((await scheduleRow(botId)).last_error ?? '', /no answer within/, JSON.stringify({ schedule: await scheduleRow(botId), decisions: (await decisions(botId)).map((d) => [d.kind, d.reason]) }));
      // The meeting moves two minutes later meanwhile (so the retry, at the new handover time,
      // still comes well before the old join time); then the provider finishes the creation,
      // with the time it was sent.
      const movedStart = startMs + 2 * MIN;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(movedStart), end_time: iso(movedStart + HOUR) } })).status, 200);
      release();
      for (const deadline = Date.now() + 5000; botsOf(fake).every((b) => before.has(b.id));) {
        assert.ok(Date.now() < deadline, 'the provider never created the held bot');
        await new Promise((r) => setTimeout(r, 20));
      }
      const created = botsOf(fake).find((b) => !before.has(b.id))!;
      assert.equal(Date.parse(created.joinAt!), joinAtMs, 'the provider created the bot with the first request\'s time');
      // The retry, under the same key: the provider answers with that bot (a replay, its
      // deduplication key, a 507), at the old time. Rollcall takes that as held, and moves it.
      const movedJoinAtMs = movedStart - JOIN_LEAD_MS;
      clock.set(movedJoinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id !== null, true);
      const live = botsOf(fake).filter((b) => !isGone(b) && b.meetingUrl === 'https://meet.google.com/tmo-outs-aaa');
      assert.equal(live.length, 1, JSON.stringify(botsOf(fake).filter((b) => !before.has(b.id))));
      assert.equal(Date.parse(live[0]!.joinAt!), movedJoinAtMs, `the provider's bot joins at ${live[0]!.joinAt}, not at the moved time ${iso(movedJoinAtMs)}`);
      const kinds = (await decisions(botId)).map((d) => d.kind);
      assert.ok(kinds.includes('handed_over'), kinds.join(', '));
    });

    test('a creation the provider refused without making anything (Recall\'s 507), retried after a move: the bot made by the retry is kept as it is', async (t) => {
      if (!(fake instanceof FakeRecall)) return t.skip('the 507 of an empty ad-hoc pool is Recall\'s');
      // Booked less than ten minutes before it joins: Recall takes an ad-hoc bot, and the pool is empty.
      const startMs = Math.ceil((clock.now() + 6 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      clock.set(joinAtMs - 8 * MIN);
      fake.adHocPool = 0;
      const { eventId, botId } = await scheduleMeeting(startMs, 'https://meet.google.com/poo-lemp-tyy', `pool-${kind}`);
      const before = new Set(botsOf(fake).map((b) => b.id));
      try {
        await rc.dispatcher.runDue();
        assert.match((await scheduleRow(botId)).last_error ?? '', /507/);
        // Moved a minute later meanwhile; then the pool has bots again.
        const movedStart = startMs + MIN;
        assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(movedStart), end_time: iso(movedStart + HOUR) } })).status, 200);
        fake.adHocPool = 5;
        clock.advance(31_000);
        await rc.dispatcher.runDue();
        await rc.dispatcher.runDue();
      } finally {
        fake.adHocPool = Infinity;
      }
      const made = botsOf(fake).filter((b) => !before.has(b.id));
      assert.equal(made.length, 1, `provider bots made: ${JSON.stringify(made)}`);
      assert.equal(Date.parse(made[0]!.joinAt!), startMs + MIN - JOIN_LEAD_MS);
      const kinds = (await decisions(botId)).map((d) => d.kind);
      assert.ok(kinds.includes('handed_over') && !kinds.includes('provider_replaced'), kinds.join(', '));
      // The log names the key Recall got, so its logs can be matched: the launch key moved on.
      const launchKey = (await scheduleRow(botId)).idempotency_key;
      const sentKeys = createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId).map((r) => r.headers['idempotency-key']);
      assert.deepEqual(sentKeys, [launchKey, `${launchKey}~1`]);
      const handedOver = (await decisions(botId)).find((d) => d.kind === 'handed_over')!;
      assert.deepEqual([handedOver.details.idempotency_key, handedOver.details.provider_idempotency_key], [launchKey, `${launchKey}~1`]);
      const retried = (await decisions(botId)).find((d) => d.kind === 'handover_retried')!;
      assert.match(retried.reason, new RegExp(`HTTP 507 to the idempotency key ${launchKey}\\); retrying under ${launchKey}~1`));
    });

    test('Recall\'s 507, then a restart: the restarted process sends the key that moved on, not the one whose 507 Recall has cached', async (t) => {
      if (!(fake instanceof FakeRecall)) return t.skip('the 507 of an empty ad-hoc pool is Recall\'s');
      const startMs = Math.ceil((clock.now() + 7 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      clock.set(joinAtMs - 8 * MIN);
      fake.adHocPool = 0;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/res-tart-poo', `pool-restart-${kind}`);
      const sentBefore = createRequests(fake).length;
      try {
        await rc.dispatcher.runDue();
      } finally {
        fake.adHocPool = Infinity;
      }
      const first = createRequests(fake).slice(sentBefore);
      assert.equal(first.length, 1);
      const key = String(first[0]!.headers['idempotency-key']);
      assert.match((await scheduleRow(botId)).last_error ?? '', /507/);
      const kept = () => rc.database.db.selectFrom('provider_key_generations').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
      assert.equal(Number((await kept())?.generation), 1, 'the key\'s next generation is kept in the database');
      // A new process on the same database (a restart, or another instance) retries once the
      // 507's wait is over: it goes straight to the key Recall has no answer cached for.
      const restarted = await createRollcall(rc.config, { database: await rc.testDatabase.open(), clock, logger: createLogger('silent'), collectDefaultMetrics: false });
      try {
        clock.advance(31_000);
        await restarted.dispatcher.runDue();
      } finally {
        await restarted.close();
      }
      const retries = createRequests(fake).slice(sentBefore + 1);
      assert.deepEqual(retries.map((r) => r.headers['idempotency-key']), [`${key}~1`]);
      const row = await botRow(botId);
      assert.ok(row.provider_bot_id, JSON.stringify((await decisions(botId)).map((d) => [d.kind, d.reason])));
      assert.equal(fake.bots.get(row.provider_bot_id!)!.meeting_url, 'https://meet.google.com/res-tart-poo');
      // Kept after the creation is accepted: a launch sent again (its result not written) must
      // go under the key Recall answers with that bot, not the plain key's cached 507.
      assert.equal(Number((await kept())?.generation), 1);
    });

    test('a replacement whose creation got no answer, then a move that an update could follow: the replacement is finished, no second bot is left behind', async () => {
      const startMs = Math.ceil((clock.now() + 8 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const meetingUrl = 'https://meet.google.com/rep-lace-ccc';
      const { eventId, botId } = await scheduleMeeting(startMs, meetingUrl, `unanswered-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first);
      const moveTo = async (newJoinAtMs: number) => {
        const newStart = newJoinAtMs + JOIN_LEAD_MS;
        assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(newStart), end_time: iso(newStart + HOUR) } })).status, 200);
      };
      // Moved to join inside the provider's edit cutoff: a replacement, whose creation the provider
      // makes but answers only after Rollcall gave up waiting.
      const release = fake.holdNext(/^POST /);
      await moveTo(clock.now() + Math.floor(provider.updateCutoffMs / 2));
      await rc.dispatcher.runDue();
      const before = new Set(botsOf(fake).map((b) => b.id));
      release();
      for (const deadline = Date.now() + 5000; botsOf(fake).every((b) => before.has(b.id));) {
        assert.ok(Date.now() < deadline, 'the provider never made the held replacement');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await botRow(botId)).provider_bot_id, first, 'the replacement was recorded although it got no answer');
      // Moved again, an hour out: an update of the first bot would do, but the replacement the
      // provider made must not be left behind.
      const finalJoinAtMs = clock.now() + HOUR;
      await moveTo(finalJoinAtMs);
      for (let i = 0; i < 4; i++) {
        clock.advance(40_000);
        await rc.dispatcher.runDue();
      }
      // One provider bot stays for the meeting; any other is let go of (deleted, or made to leave
      // once the provider has it in the call: a removal still waiting for that counts as let go).
      const retired = new Set((await rc.database.db.selectFrom('retired_provider_bots').select('provider_bot_id').execute()).map((r) => r.provider_bot_id));
      const staying = botsOf(fake).filter((b) => !isGone(b) && b.meetingUrl === meetingUrl && !retired.has(b.id));
      assert.equal(staying.length, 1, `provider bots that stay for the meeting: ${JSON.stringify(staying)}`);
      assert.equal(Date.parse(staying[0]!.joinAt!), finalJoinAtMs);
      assert.equal((await botRow(botId)).provider_bot_id, staying[0]!.id);
    });

    /** Waits until the fake holds a bot it did not hold before (a held request was processed). */
    async function madeSince(before: Set<string>): Promise<AnyFakeBot> {
      for (const deadline = Date.now() + 5000; botsOf(fake).every((b) => before.has(b.id));) {
        assert.ok(Date.now() < deadline, 'the provider never made the held bot');
        await new Promise((r) => setTimeout(r, 20));
      }
      return botsOf(fake).find((b) => !before.has(b.id))!;
    }
    /** Provider bots that will sit in this meeting: not gone, and not let go of by Rollcall. */
    async function staying(meetingUrl: string): Promise<AnyFakeBot[]> {
      const retired = new Set((await rc.database.db.selectFrom('retired_provider_bots').select('provider_bot_id').execute()).map((r) => r.provider_bot_id));
      return botsOf(fake).filter((b) => !isGone(b) && b.meetingUrl === meetingUrl && !retired.has(b.id));
    }

    /** Books a meeting `hours` ahead and hands it over: answers the provider's bot. */
    async function handedOver(hours: number, meetingUrl: string, key: string) {
      const startMs = Math.ceil((clock.now() + hours * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, meetingUrl, key);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const first = (await botRow(botId)).provider_bot_id!;
      assert.ok(first, 'not handed over');
      return { startMs, joinAtMs, eventId, botId, first };
    }

    /**
     * Books a meeting `hours` ahead and fires its handover, whose creation the provider receives
     * but answers only when `release` is called (after Rollcall gave up waiting).
     */
    async function loseHandover(hours: number, meetingUrl: string, key: string, options: { inTransit?: boolean } = {}) {
      const startMs = Math.ceil((clock.now() + hours * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { eventId, botId } = await scheduleMeeting(startMs, meetingUrl, key);
      const before = new Set(botsOf(fake).map((b) => b.id));
      const release = fake.holdNext(/^POST /, options);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      return { eventId, botId, joinAtMs, before, release };
    }

    test('a handover that got no answer, then the meeting cancelled: the bot the provider made is found and deleted', async () => {
      const meetingUrl = 'https://meet.google.com/han-dunc-anc';
      const { eventId, botId, before, release } = await loseHandover(9, meetingUrl, `unanswered-cancel-${kind}`);
      assert.match((await scheduleRow(botId)).last_error ?? '', /no answer within/);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      assert.equal((await botRow(botId)).status, 'Cancelled');
      release();
      const made = await madeSince(before);
      // The sync waits until the lost request has had its time, then sends it again.
      await rc.dispatcher.runDue();
      assert.ok(!isGone(botsOf(fake).find((b) => b.id === made.id)!), 'the request was sent again while the first could still be on the wire');
      clock.advance(10_000 + provider.creationRunsMs);
      const chasedAtMs = clock.now();
      await rc.dispatcher.runDue();
      assert.deepEqual(await staying(meetingUrl), []);
      assert.ok(botsOf(fake).find((b) => b.id === made.id)!.deleted, 'the bot the lost request made was deleted');
      assert.equal(Number((await handoverRow(botId))?.last_attempt_at_ms), chasedAtMs, 'the request sent again counts for the handover pace');
      assert.equal(botsOf(fake).filter((b) => !before.has(b.id)).length, 1, 'the second request made another bot');
      const kinds = (await decisions(botId)).map((d) => d.kind);
      assert.ok(kinds.includes('provider_removal_requested') && kinds.includes('provider_bot_removed'), kinds.join(', '));
      assert.equal((await handoverRow(botId))?.first_sent, null);
    });

    test('a handover that never reached the provider, then the meeting cancelled: the bot its retry makes is deleted at once', async () => {
      const meetingUrl = 'https://meet.google.com/nev-erre-ach';
      // On its way until the end of the test: the provider gets it only then.
      const { eventId, joinAtMs, before, release } = await loseHandover(10, meetingUrl, `lost-cancel-${kind}`, { inTransit: true });
      try {
        assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
        clock.advance(10_000 + provider.creationRunsMs);
        await rc.dispatcher.runDue();
        assert.deepEqual(await staying(meetingUrl), []);
        const made = botsOf(fake).filter((b) => !before.has(b.id));
        assert.equal(made.length, 1, JSON.stringify(made));
        assert.ok(made[0]!.deleted);
      } finally {
        release();
      }
      // The first request, processed at last, meets the key its retry used: nothing new stays.
      // Not at Attendee: its deduplication key only covers bots not yet finished, and the retry's
      // bot is deleted by then (docs/providers/attendee.md, "Limits").
      if (kind === 'attendee') return;
      const lost = createRequests(fake).find((r) => r.at === joinAtMs - provider.leadMs)!;
      for (const deadline = Date.now() + 5000; lost.status === undefined;) {
        assert.ok(Date.now() < deadline, 'the provider never answered the held request');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(await staying(meetingUrl), []);
    });

    test('a handover that got no answer, still running at the provider when a retry would go: one bot', async () => {
      const meetingUrl = 'https://meet.google.com/sti-llru-nni';
      const { botId, before, release } = await loseHandover(12, meetingUrl, `still-running-${kind}`);
      // The backoff's first retry would go now, while the provider is still making the bot.
      clock.advance(3_000);
      await rc.dispatcher.runDue();
      release();
      await madeSince(before);
      for (let i = 0; i < 3; i++) {
        clock.advance(provider.creationRunsMs + 5_000);
        await rc.dispatcher.runDue();
      }
      const held = (await botRow(botId)).provider_bot_id;
      assert.ok(held, 'not handed over');
      assert.deepEqual((await staying(meetingUrl)).map((b) => b.id), [held], `requests: ${createRequests(fake).filter((r) => r.at >= clock.now() - 2 * MIN - 2 * provider.creationRunsMs).map((r) => `${r.at} ${r.status}`).join(', ')}`);
    });

    test('a replacement whose creation got no answer, then the meeting cancelled: both provider bots are let go of', async () => {
      const meetingUrl = 'https://meet.google.com/rep-canc-ddd';
      const { eventId, botId, first } = await handedOver(11, meetingUrl, `unanswered-replacement-cancel-${kind}`);
      // Moved to join inside the edit cutoff (more than the delete cutoff ahead): a replacement,
      // which the provider makes but answers too late.
      const release = fake.holdNext(/^POST /);
      const newStart = clock.now() + Math.floor(provider.updateCutoffMs / 2) + JOIN_LEAD_MS;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(newStart), end_time: iso(newStart + HOUR) } })).status, 200);
      await rc.dispatcher.runDue();
      const before = new Set(botsOf(fake).map((b) => b.id));
      release();
      const replacement = await madeSince(before);
      assert.equal((await botRow(botId)).provider_bot_id, first);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
      for (let i = 0; i < 3; i++) {
        clock.advance(10_000 + provider.creationRunsMs);
        await rc.dispatcher.runDue();
      }
      assert.deepEqual(await staying(meetingUrl), [], JSON.stringify({ first, replacement: replacement.id, decisions: (await decisions(botId)).map((d) => [d.kind, d.reason]) }));
      const retired = (await rc.database.db.selectFrom('retired_provider_bots').select('provider_bot_id').where('bot_id', '=', botId).execute()).map((r) => r.provider_bot_id);
      assert.deepEqual(new Set(retired), new Set([first, replacement.id]));
      // The first is deleted (its join time is still more than the cutoff away); the replacement,
      // due inside it, is made to leave (once it is in the call, where the provider needs that).
      assert.ok(botsOf(fake).find((b) => b.id === first)!.deleted);
      const removals = await rc.database.db.selectFrom('runtime_commands').select('payload').where('bot_id', '=', botId).where('action', '=', 'provider_retire').execute();
      const ofReplacement = removals.map((r) => JSON.parse(r.payload) as { provider_bot_id: string; by: string }).filter((r) => r.provider_bot_id === replacement.id);
      assert.deepEqual(ofReplacement.map((r) => r.by), ['leave']);
    });

    // A later answer about the retry says nothing of a first request that got no answer: a 429 is
    // checked before anything runs, a refusal is of the retry's own values.
    const retryAnswers = [
      { what: 'a 429 on its retry, then the meeting cancelled', hours: 13, meetingUrl: 'https://meet.google.com/tmo-then-fou', answer: { status: 429, headers: { 'retry-after': '5' }, body: { detail: 'Request was throttled.' } }, cancels: true },
      { what: 'its retry refused for good (the bot fails)', hours: 17, meetingUrl: 'https://meet.google.com/ref-used-ret', answer: { status: 400, body: { detail: 'Invalid request.' } }, cancels: false },
    ];
    for (const retry of retryAnswers) {
      test(`a handover that got no answer, then ${retry.what}: the bot the first request made is still found`, async () => {
        const { eventId, botId, before, release } = await loseHandover(retry.hours, retry.meetingUrl, `unanswered-${retry.answer.status}-${kind}`);
        fake.failNext(/^POST /, retry.answer);
        clock.advance(MIN);
        await rc.dispatcher.runDue();
        assert.ok(createRequests(fake).some((r) => r.status === retry.answer.status && r.at === clock.now()), `the retry was not answered ${retry.answer.status}`);
        assert.notEqual((await handoverRow(botId))?.first_sent, null, 'the answer erased the request that got no answer');
        if (retry.cancels) assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
        else assert.equal((await botRow(botId)).status, 'Error');
        release();
        const made = await madeSince(before);
        clock.advance(10_000 + provider.creationRunsMs);
        await rc.dispatcher.runDue();
        assert.ok(botsOf(fake).find((b) => b.id === made.id)!.deleted, JSON.stringify((await decisions(botId)).map((d) => [d.kind, d.reason])));
        assert.deepEqual(await staying(retry.meetingUrl), []);
      });
    }

    test('a handover that got no answer, then the meeting moved to now: the bot joins at once under a key of its own, and the lost request\'s bot goes', async () => {
      const meetingUrl = 'https://meet.google.com/mov-edto-now';
      const { eventId, botId, before, release } = await loseHandover(14, meetingUrl, `unanswered-launched-${kind}`);
      release();
      const made = await madeSince(before);
      clock.advance(10_000 + provider.creationRunsMs);
      // Moved to start in a minute: the bot joins at once. Under the handover's key the provider
      // would answer with the bot the lost request made, which joins at the old time, hours late.
      const soon = clock.now() + MIN;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(soon), end_time: iso(soon + HOUR) } })).status, 200);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      const bot = await botRow(botId);
      assert.equal(bot.status, 'Joining');
      assert.ok(bot.provider_bot_id && bot.provider_bot_id !== made.id, `the launch was answered with ${bot.provider_bot_id}, the lost request's bot`);
      const joining = botsOf(fake).find((b) => b.id === bot.provider_bot_id)!;
      assert.ok(joining.joinAt === null || Date.parse(joining.joinAt) <= clock.now(), `the launched bot joins at ${joining.joinAt}`);
      assert.ok(botsOf(fake).find((b) => b.id === made.id)!.deleted, 'the lost request\'s bot stays');
      assert.deepEqual((await staying(meetingUrl)).map((b) => b.id), [bot.provider_bot_id]);
      assert.equal((await handoverRow(botId))?.first_sent, null);
      assert.ok((await decisions(botId)).some((d) => d.kind === 'launch_key_changed'));
    });

    test('a handover that got no answer, then its join time came: the launch under the same key joins with the bot the lost request made', async () => {
      const startMs = Math.ceil((clock.now() + 16 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const meetingUrl = 'https://meet.google.com/joi-ntim-eca';
      const { botId } = await scheduleMeeting(startMs, meetingUrl, `unanswered-join-time-${kind}`);
      const before = new Set(botsOf(fake).map((b) => b.id));
      // Handed over inside the provider's minimum lead (the plan can be late), so that its join
      // time comes while the retries wait.
      clock.set(joinAtMs - 3 * MIN);
      const release = fake.holdNext(/^POST /);
      await rc.dispatcher.runDue();
      release();
      const made = await madeSince(before);
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      clock.advance(10_000);
      await rc.dispatcher.runDue();
      const bot = await botRow(botId);
      assert.equal(bot.status, 'Joining');
      assert.equal(bot.provider_bot_id, made.id, 'a second bot was made for the same meeting');
      assert.ok(!isGone(botsOf(fake).find((b) => b.id === made.id)!));
      assert.deepEqual((await staying(meetingUrl)).map((b) => b.id), [made.id]);
    });

    test('deleting a handed-over bot\'s data removes the provider\'s bot too', async () => {
      const startMs = Math.ceil((clock.now() + 15 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const meetingUrl = 'https://meet.google.com/del-etem-ydt';
      const { botId } = await scheduleMeeting(startMs, meetingUrl, `data-deleted-${kind}`);
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      const held = (await botRow(botId)).provider_bot_id!;
      assert.ok(held);
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: user.auth })).status, 200);
      assert.equal((await botRow(botId)).status, 'Cancelled');
      const row = await handoverRow(botId);
      assert.deepEqual([row?.meeting_url, row?.bot_config], [null, null], 'what the provider was given stays stored');
      await rc.dispatcher.runDue();
      assert.ok(botsOf(fake).find((b) => b.id === held)!.deleted);
    });

    test('a replacement whose creation got no answer until the old bot\'s join time came: the old bot joins, the replacement is deleted', async () => {
      const meetingUrl = 'https://meet.google.com/old-join-sfi';
      const { startMs, joinAtMs, eventId, botId, first } = await handedOver(12, meetingUrl, `unanswered-replacement-late-${kind}`);
      // Inside the edit cutoff the meeting moves half an hour later: a replacement, made by the
      // provider but answered too late.
      clock.set(joinAtMs - Math.floor(provider.updateCutoffMs / 2));
      const release = fake.holdNext(/^POST /);
      const movedStart = startMs + 30 * MIN;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: user.auth, body: { start_time: iso(movedStart), end_time: iso(movedStart + HOUR) } })).status, 200);
      await rc.dispatcher.runDue();
      const before = new Set(botsOf(fake).map((b) => b.id));
      release();
      const replacement = await madeSince(before);
      assert.equal(Date.parse(replacement.joinAt!), movedStart - JOIN_LEAD_MS);
      // The sync comes back after the old bot's join time (no webhook from it yet).
      clock.set(joinAtMs + MIN);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      assert.ok(botsOf(fake).find((b) => b.id === replacement.id)!.deleted, JSON.stringify((await decisions(botId)).map((d) => [d.kind, d.reason])));
      assert.deepEqual((await staying(meetingUrl)).map((b) => b.id), [first]);
      assert.equal((await botRow(botId)).provider_bot_id, first);
    });

    /** A feed with one meeting at `startMs`, connected, synced and scheduled; its access can be revoked and given back (connected again). */
    async function feedMeeting(name: string, startMs: number) {
      const feed = ics.createFeed(name);
      const meetingUrl = `https://meet.google.com/${name.slice(0, 3)}-acce-ss${kind[0]}`;
      ics.edit(feed, (events) => events.push({ uid: `${name}-${kind}@feed`, summary: name, startMs, endMs: startMs + HOUR, location: meetingUrl }));
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const calendarId = connected.body.calendar_id as string;
      const listed = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${iso(startMs - HOUR)}&time_max=${iso(startMs + HOUR)}`, { auth: user.auth });
      const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${listed.body.results[0].id}`, { auth: user.auth, body: { deduplication_key: `access-${name}-${kind}`, bot_config: { bot_name: name } } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      const revoke = async () => {
        ics.revoke(feed);
        await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: user.auth });
        assert.equal((await rc.request('GET', `/api/v1/calendar/connections/${calendarId}`, { auth: user.auth })).body.status, 'auth_revoked');
      };
      const reconnect = async () => {
        ics.restore(feed);
        const again = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed } });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.calendar_id, calendarId);
      };
      return { feed, meetingUrl, calendarId, botId: scheduled.body.bot_id as string, revoke, reconnect };
    }

    test('auto-schedule counts, in its preview, only meetings the bot provider takes, and says why it did not book one it refuses', async () => {
      const owner = await rc.newUser();
      const feed = ics.createFeed(`auto-links-${kind}`);
      const startMs = Math.ceil((clock.now() + 5 * HOUR) / MIN) * MIN;
      // ZoomGov: Attendee takes zoom.us and zoom.com links only (bots/meeting_url_utils.py); Recall
      // and MeetStream are not known to refuse it, so it is left to them.
      ics.edit(feed, (events) => events.push(
        { uid: `auto-ok-${kind}@feed`, summary: 'Zoom', startMs, endMs: startMs + HOUR, location: 'https://zoom.us/j/81234567890' },
        { uid: `auto-gov-${kind}@feed`, summary: 'ZoomGov', startMs: startMs + HOUR, endMs: startMs + 2 * HOUR, location: 'https://agency.zoomgov.com/j/1612345678' },
      ));
      assert.equal((await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: owner.auth, body: { ics_url: feed } })).status, 200);
      const takesGov = kind !== 'attendee';
      const preview = await rc.request('POST', '/api/v1/calendar/auto-schedule/preview', { auth: owner.auth, body: { default_bot_config: { bot_name: 'Auto' } } });
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.equal(preview.body.bots_scheduled, takesGov ? 2 : 1);
      const warnings = log.entries<{ msg: string; eventId?: string; code?: string; reason?: string }>().length;
      const enabled = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: owner.auth, body: { default_bot_config: { bot_name: 'Auto' } } });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal(enabled.body.bots_scheduled, preview.body.bots_scheduled);
      const told = log.entries<{ msg: string; code?: string; reason?: string }>().slice(warnings).filter((e) => e.msg === 'auto-schedule could not book a meeting');
      assert.deepEqual(told.map((e) => e.code), takesGov ? [] : ['invalid_meeting_url']);
      if (!takesGov) assert.match(told[0]!.reason!, /Attendee\) takes Zoom links of zoom\.us and zoom\.com only/);
      // Told once: the run after the next sync refuses it again, quietly.
      await rc.calendarSync.runDue();
      await rc.autoSchedule.run(owner.userId);
      assert.equal(log.entries<{ msg: string }>().slice(warnings).filter((e) => e.msg === 'auto-schedule could not book a meeting').length, told.length);
      assert.equal((await rc.request('POST', '/api/v1/calendar/auto-schedule/disable', { auth: owner.auth })).status, 200);
    });

    test('a revoked feed is probed before its bot\'s handover time and again before its join time: access back after the handover time still gets the bot handed over in time', async () => {
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const meeting = await feedMeeting('lookedat', startMs);
      await meeting.revoke();
      const planned: number[] = [];
      let isBack = false;
      for (let i = 0; i < 30; i++) {
        const next = Date.parse((await rc.request('GET', `/api/v1/calendar/connections/${meeting.calendarId}`, { auth: user.auth })).body.next_sync_at);
        planned.push(next);
        if (next >= joinAtMs) break;
        clock.set(Math.max(clock.now(), next));
        // The feed answers again only after the handover time has passed with it refused.
        if (!isBack && clock.now() > joinAtMs - provider.leadMs) {
          ics.restore(meeting.feed);
          isBack = true;
        }
        await rc.calendarSync.runDue();
        await rc.dispatcher.runDue();
      }
      assert.ok(planned.includes(joinAtMs - provider.leadMs - 2 * MIN), `a probe before the handover: ${planned.map(iso)}`);
      assert.ok(planned.includes(joinAtMs - 2 * MIN), `a probe before the join time: ${planned.map(iso)}`);
      assert.equal((await rc.request('GET', `/api/v1/calendar/connections/${meeting.calendarId}`, { auth: user.auth })).body.status, 'active');
      // Access back: the held bot is handed over at once (within the pace), joining at its time.
      clock.advance(2_000);
      await rc.dispatcher.runDue();
      const handed = await botRow(meeting.botId);
      assert.ok(handed.provider_bot_id, JSON.stringify((await decisions(meeting.botId)).map((d) => [d.kind, d.reason])));
      assert.equal(Date.parse(botsOf(fake).find((b) => b.id === handed.provider_bot_id)!.joinAt!), joinAtMs);
    });

    test('a bot whose calendar lost its access is not handed over while it stays lost: handed over once it returns, else cancelled at its join time', async () => {
      const startMs = Math.ceil((clock.now() + 4 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const returns = await feedMeeting('returns', startMs);
      const stays = await feedMeeting('stays', startMs);
      // One loses its access before its handover is planned, the other after.
      await returns.revoke();
      clock.set(joinAtMs - provider.leadMs - 40 * MIN);
      await rc.dispatcher.runDue();
      await stays.revoke();
      // Access comes back for the first (the hourly probe finds the feed working again).
      ics.restore(returns.feed);
      await rc.calendarSync.runDue();
      // The handover time: the first is handed over (within the pace); the second waits (was:
      // cancelled at once).
      clock.set(joinAtMs - provider.leadMs);
      await rc.dispatcher.runDue();
      clock.advance(2_000);
      await rc.dispatcher.runDue();
      const handed = await botRow(returns.botId);
      assert.ok(handed.provider_bot_id, JSON.stringify((await decisions(returns.botId)).map((d) => [d.kind, d.reason])));
      assert.equal(Date.parse(botsOf(fake).find((b) => b.id === handed.provider_bot_id)!.joinAt!), joinAtMs);
      const waiting = await botRow(stays.botId);
      assert.deepEqual([waiting.status, waiting.provider_bot_id], ['Scheduled', null]);
      assert.ok((await decisions(stays.botId)).some((d) => d.kind === 'handover_held'));
      // Its join time comes with access still missing: cancelled, and nothing reached the provider.
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      const cancelled = await botRow(stays.botId);
      assert.equal(cancelled.status, 'Cancelled');
      assert.ok((await decisions(stays.botId)).some((d) => d.kind === 'cancelled' && /calendar_access_revoked/.test(d.reason)));
      assert.deepEqual(botsOf(fake).filter((b) => b.meetingUrl === stays.meetingUrl), []);
    });

    test('a handed-over bot whose calendar then lost its access: its provider bot is deleted before the provider\'s cutoff, handed over again if access returns, else cancelled at the join time', async () => {
      const startMs = Math.ceil((clock.now() + 4 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const deleteCutoffMs = kind === 'meetstream' ? MIN : 10 * MIN;
      const withdrawAtMs = joinAtMs - deleteCutoffMs - 2 * MIN;
      const back = await feedMeeting('comesback', startMs);
      const gone = await feedMeeting('goneaway', startMs);
      const late = await feedMeeting('latelost', startMs);
      const dropped = await feedMeeting('droppedbyuser', startMs);
      const early = await feedMeeting('earlier', startMs);
      // Handed over about a second apart (the provider's pace).
      clock.set(joinAtMs - provider.leadMs);
      for (let i = 0; i < 5; i++) {
        await rc.dispatcher.runDue();
        clock.advance(1_500);
      }
      const firstIds = new Map<string, string>();
      for (const m of [back, gone, late, dropped, early]) {
        const row = await botRow(m.botId);
        assert.ok(row.provider_bot_id, `${m.meetingUrl}: ${JSON.stringify((await decisions(m.botId)).map((d) => [d.kind, d.reason]))}`);
        firstIds.set(m.botId, row.provider_bot_id);
      }
      const liveOn = (meetingUrl: string) => botsOf(fake).filter((b) => b.meetingUrl === meetingUrl && !isGone(b));

      // Two lose their access a minute after the handover: their provider bots stay while it may return.
      clock.advance(MIN);
      await back.revoke();
      await gone.revoke();
      await dropped.revoke();
      await early.revoke();
      await rc.dispatcher.runDue();
      // One is moved so much earlier that its withdrawal time has passed: withdrawn at once, not
      // moved there by the provider (where it would join before anything withdrew it).
      const earlierJoinMs = clock.now() + deleteCutoffMs + MIN;
      assert.equal((await rc.request('PATCH', `/api/v1/calendar/scheduled/${early.botId}`, { auth: user.auth, body: { scheduled_join_time: iso(earlierJoinMs) } })).status, 200);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      assert.deepEqual(liveOn(early.meetingUrl), [], JSON.stringify((await decisions(early.botId)).map((d) => [d.kind, d.reason])));
      assert.ok((await decisions(early.botId)).some((d) => d.kind === 'provider_withdrawn'));
      assert.equal(liveOn(back.meetingUrl).length, 1);
      assert.equal(liveOn(gone.meetingUrl).length, 1);
      // Meanwhile its user moves one two minutes later, then cancels it while that move is on the
      // wire: the sync waiting for the withdrawal time is brought forward by the move, and the
      // cancel, queued behind it, is not held back until that time either.
      const sentBefore = fake.requests.length;
      const release = fake.holdNext(/^PATCH /);
      const moved = await rc.request('PATCH', `/api/v1/calendar/scheduled/${dropped.botId}`, { auth: user.auth, body: { scheduled_join_time: iso(joinAtMs + 2 * MIN) } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      const sending = rc.dispatcher.runDue();
      for (let i = 0; i < 500 && !fake.requests.slice(sentBefore).some((r) => r.method === 'PATCH'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(fake.requests.slice(sentBefore).some((r) => r.method === 'PATCH'), 'the move reached the provider before the withdrawal time');
      assert.equal((await rc.request('GET', `/api/v1/bots/${dropped.botId}/remove_bot`, { auth: user.auth })).status, 200);
      release();
      await sending;
      await rc.dispatcher.runDue();
      assert.deepEqual(liveOn(dropped.meetingUrl), [], JSON.stringify((await decisions(dropped.botId)).map((d) => [d.kind, d.reason])));
      assert.equal(liveOn(back.meetingUrl).length, 1, 'the others still wait');

      // The last moment before the provider's delete cutoff (less a margin): both are withdrawn.
      clock.set(withdrawAtMs);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      for (const m of [back, gone]) {
        assert.deepEqual(liveOn(m.meetingUrl), [], `${m.meetingUrl}: ${JSON.stringify((await decisions(m.botId)).map((d) => [d.kind, d.reason]))}`);
        const row = await botRow(m.botId);
        assert.deepEqual([row.status, row.provider_bot_id], ['Scheduled', null]);
        assert.ok((await decisions(m.botId)).some((d) => d.kind === 'provider_withdrawn'));
      }
      // The third loses its access only inside the cutoff: too late to delete its provider bot.
      clock.set(joinAtMs - deleteCutoffMs + 30_000);
      await late.revoke();
      await rc.dispatcher.runDue();
      assert.equal(liveOn(late.meetingUrl).length, 1);

      // Access comes back for the first (connected again): handed over again, under a new key.
      await back.reconnect();
      for (let i = 0; i < 4; i++) {
        clock.advance(11_000);
        await rc.dispatcher.runDue();
      }
      const again = await botRow(back.botId);
      assert.ok(again.provider_bot_id && again.provider_bot_id !== firstIds.get(back.botId), JSON.stringify((await decisions(back.botId)).map((d) => [d.kind, d.reason])));
      // With its join time, unless that is too close to be sure to arrive ahead of it (MeetStream's
      // delete cutoff is a minute): then the bot is created to join at once.
      const handedOverAheadMs = deleteCutoffMs - 30_000 - 11_000;
      const isSent = kind === 'recall' || handedOverAheadMs >= MIN_JOIN_AT_LEAD_MS;
      assert.deepEqual(liveOn(back.meetingUrl).map((b) => [b.id, Date.parse(b.joinAt!)]), [[again.provider_bot_id, isSent ? joinAtMs : NaN]]);

      // The join time: the other two are cancelled; the one whose bot could not be deleted has it made to leave.
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      for (const m of [gone, late]) {
        const row = await botRow(m.botId);
        assert.equal(row.status, 'Cancelled', `${m.meetingUrl}: ${JSON.stringify((await decisions(m.botId)).map((d) => [d.kind, d.reason]))}`);
        assert.ok((await decisions(m.botId)).some((d) => d.kind === 'cancelled' && /calendar_access_revoked/.test(d.reason)));
      }
      assert.deepEqual(liveOn(gone.meetingUrl), []);
      assert.equal((await botRow(back.botId)).status, 'Scheduled');
      // The provider starts the late one's bot into the call; the removal then makes it leave.
      startJoining(fake, firstIds.get(late.botId)!);
      clock.advance(40_000);
      await rc.dispatcher.runDue();
      assert.deepEqual(liveOn(late.meetingUrl), [], JSON.stringify((await decisions(late.botId)).map((d) => [d.kind, d.reason])));
    });

    test('access lost while the handover is on the wire: the provider\'s bot it made is still withdrawn in time', async () => {
      const startMs = Math.ceil((clock.now() + 5 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const deleteCutoffMs = kind === 'meetstream' ? MIN : 10 * MIN;
      const m = await feedMeeting('onthewire', startMs);
      clock.set(joinAtMs - provider.leadMs);
      const sentBefore = fake.requests.length;
      const release = fake.holdNext(/^POST /);
      const firing = rc.dispatcher.runDue();
      for (let i = 0; i < 500 && !fake.requests.slice(sentBefore).some((r) => r.method === 'POST'); i++) await new Promise((r) => setTimeout(r, 10));
      await m.revoke();
      // The sync the revocation queued runs while the handover is still unanswered: it finds no
      // provider bot to withdraw yet.
      const meanwhile = rc.dispatcher.runDue();
      const syncDone = () => rc.database.db.selectFrom('runtime_commands').select('id').where('bot_id', '=', m.botId).where('state', '=', 'done').executeTakeFirst();
      for (let i = 0; i < 100 && !(await syncDone()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(await syncDone(), 'the sync ran while the handover was unanswered');
      release();
      await Promise.all([firing, meanwhile]);
      await rc.dispatcher.runDue();
      const handed = (await botRow(m.botId)).provider_bot_id;
      assert.ok(handed, JSON.stringify((await decisions(m.botId)).map((d) => [d.kind, d.reason])));
      clock.set(joinAtMs - deleteCutoffMs - 2 * MIN);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      assert.deepEqual(botsOf(fake).filter((b) => b.meetingUrl === m.meetingUrl && !isGone(b)), [], JSON.stringify((await decisions(m.botId)).map((d) => [d.kind, d.reason])));
      clock.set(joinAtMs);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(m.botId)).status, 'Cancelled');
    });

    test('a move and a cancel made while the handover is on the wire still reach the provider', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const moving = await scheduleMeeting(startMs, 'https://meet.google.com/mov-ingw-ire', `in-flight-move-${kind}`);
      const going = await scheduleMeeting(startMs + 5 * MIN, 'https://meet.google.com/can-celw-ire', `in-flight-cancel-${kind}`);
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      const before = fake.requests.length;
      const waitForCreate = async () => {
        for (let i = 0; i < 500 && !fake.requests.slice(before).some((r) => r.method === 'POST'); i++) await new Promise((r) => setTimeout(r, 10));
      };

      // The first handover is held at the provider while its meeting moves an hour later.
      let release = fake.holdNext(/^POST /);
      clock.set(joinAtMs - provider.leadMs);
      let firing = rc.dispatcher.runDue();
      await waitForCreate();
      const moved = await rc.request('PATCH', `/api/v1/calendar/events/${moving.eventId}`, { auth: user.auth, body: { start_time: iso(startMs + HOUR), end_time: iso(startMs + 2 * HOUR) } });
      assert.equal(moved.status, 200);
      release();
      await firing;
      const movedId = (await botRow(moving.botId)).provider_bot_id!;
      assert.equal(botsOf(fake).find((b) => b.id === movedId)!.joinAt, iso(joinAtMs), 'handed over with the time it had when it was sent');
      await rc.dispatcher.runDue();
      assert.equal(botsOf(fake).find((b) => b.id === movedId)!.joinAt, iso(joinAtMs + HOUR), 'then brought in step');

      // The second is held while its meeting is cancelled.
      const sentBefore = fake.requests.length;
      release = fake.holdNext(/^POST /);
      clock.set(joinAtMs + 5 * MIN - provider.leadMs);
      firing = rc.dispatcher.runDue();
      for (let i = 0; i < 500 && !fake.requests.slice(sentBefore).some((r) => r.method === 'POST'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${going.eventId}`, { auth: user.auth })).status, 200);
      release();
      await firing;
      const goneId = (await botRow(going.botId)).provider_bot_id!;
      assert.ok(goneId, 'the provider\'s answer is recorded on the cancelled bot');
      assert.equal((await botRow(going.botId)).status, 'Cancelled');
      await rc.dispatcher.runDue();
      assert.ok(isGone(botsOf(fake).find((b) => b.id === goneId)!), 'and its bot is removed at the provider');
      assert.ok((await decisions(going.botId)).some((d) => d.kind === 'provider_bot_removed'));
    });

    test('the provider refusing the account (402, its credit ran out): the bot is not failed but tried again, /readyz says why, and the handover goes once the account takes bots', async () => {
      const { botId } = await bookedToHandOver('https://meet.google.com/cre-ditl-eft', `credit-${kind}`);
      // Recall documents 402 for a self-serve account out of credit (https://docs.recall.ai/reference/errors).
      fake.failNext(/^POST /, { status: 402, body: { detail: 'Insufficient credit balance' } });
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the bot waits for the account');
      assert.match((await scheduleRow(botId)).last_error ?? '', /provider_account_blocked: .*HTTP 402/);
      const ready = await rc.request('GET', '/readyz');
      assert.equal(ready.body.checks.runtime, false);
      assert.match(ready.body.reasons.runtime, /provider_account_blocked/);
      // Tried again no sooner than a minute later, and taken once the balance is topped up.
      clock.advance(30_000);
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).provider_bot_id, null);
      clock.advance(31_000);
      await rc.dispatcher.runDue();
      assert.ok((await botRow(botId)).provider_bot_id, 'handed over once the account takes bots');
      assert.equal((await rc.request('GET', '/readyz')).body.checks.runtime, true);
      if (fake instanceof FakeRecall) {
        // Recall answers a key it has seen within the hour with its first answer (its idempotency
        // page): the retry goes under the next key, or it would get the 402 again after the top-up.
        const launchKey = (await scheduleRow(botId)).idempotency_key;
        const keys = createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId).map((r) => r.headers['idempotency-key']);
        assert.deepEqual(keys, [launchKey, `${launchKey}~1`]);
      }
    });

    test('a join time that may be past when the request arrives is not sent to a provider that refuses a past one (Attendee; MeetStream): the bot joins at once instead of being refused; Recall, which takes a past join_at as "now", gets it', async () => {
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      // Booked a second before its join time, with the provider's clock two seconds ahead of
      // ours (or the request two seconds on its way).
      clock.set(joinAtMs - 1_000);
      fake.now = () => clock.now() + 2_000;
      try {
        const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/pas-tjoi-nat', `past-join-${kind}`);
        await rc.dispatcher.runDue();
        const made = createRequests(fake).filter((r) => (r.body?.metadata ?? r.body?.custom_attributes)?.rollcall_bot_id === botId);
        assert.equal(made.length, 1);
        if (kind === 'recall') assert.equal(Date.parse(made[0]!.body.join_at), joinAtMs, 'Recall gets its join time');
        else assert.equal(made[0]!.body.join_at, undefined, 'no join time: the bot is created to join at once');
        assert.ok(made[0]!.status! < 300, `accepted (${made[0]!.status})`);
        assert.ok((await botRow(botId)).provider_bot_id);
        assert.notEqual((await botRow(botId)).status, 'Error');
      } finally {
        fake.now = () => clock.now();
      }
    });

    test('attendee: the project\'s refusals (out of credits, at its limit of bots in meetings, its own failure), all 400s, make the bot wait, not fail', async (t) => {
      if (!(fake instanceof FakeAttendee)) return t.skip('Attendee answers these with 400; the others with their own codes');
      const { botId } = await bookedToHandOver('https://meet.google.com/pro-ject-ref', `project-refusals-${kind}`);
      // create_bot's own messages (bots_api_utils.py in attendee-labs/attendee), each answered 400
      // by BotListCreateView.post (bots_api_views.py).
      fake.failNext(/^POST /, { status: 400, body: { error: 'Organization has run out of credits. Please add more credits in the Account -> Billing page.' } });
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the bot waits for the credits');
      assert.match((await scheduleRow(botId)).last_error ?? '', /provider_account_blocked: attendee .*ran out of credits/);
      assert.match((await rc.request('GET', '/readyz')).body.reasons.runtime, /provider_account_blocked/);
      clock.advance(61_000);
      fake.failNext(/^POST /, { status: 400, body: { error: 'You have exceeded the maximum number of concurrent bots (10) for your account. Please reach out to customer support to increase the limit.' } });
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the bot waits for a bot to leave');
      assert.match((await scheduleRow(botId)).last_error ?? '', /as many bots in meetings as it may/);
      clock.advance(61_000);
      fake.failNext(/^POST /, { status: 400, body: { error: 'An error occurred while creating the bot. Error ID: 1c1f4d0e-2b4e-4a47-9f0c-6b0b3a4f5e21' } });
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled');
      clock.advance(61_000);
      await rc.dispatcher.runDue();
      const providerBotId = (await botRow(botId)).provider_bot_id;
      assert.ok(providerBotId, 'handed over once the project takes it');
      assert.equal(createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId && r.status! < 300).length, 1, 'one bot made');
      assert.equal((await rc.request('GET', '/readyz')).body.checks.runtime, true);
    });

    test('a base URL that redirects (http:// for https://, a moved proxy): no bot fails; they wait, /readyz names the redirect, and go once it is fixed', async () => {
      const { botId } = await bookedToHandOver('https://meet.google.com/red-irec-ted', `redirected-${kind}`);
      // Injected: a front end answering for the provider (none of the three documents redirects).
      fake.failNext(/^POST /, { status: 301, headers: { location: 'https://api.provider.example/api/v1/' }, body: {} });
      await rc.dispatcher.runDue();
      assert.equal((await botRow(botId)).status, 'Scheduled', 'the bot waits');
      assert.match((await scheduleRow(botId)).last_error ?? '', /provider_redirected: .*HTTP 301 to https:\/\/api\.provider\.example/);
      const ready = await rc.request('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.match(ready.body.reasons.runtime, /provider_redirected: .*BOT_PROVIDER_BASE_URL/);
      clock.advance(61_000);
      await rc.dispatcher.runDue();
      assert.ok((await botRow(botId)).provider_bot_id, 'handed over once the address answers');
      assert.equal((await rc.request('GET', '/readyz')).body.checks.runtime, true);
    });

    test('the provider refusing the key: the bot fails with the reason, and /readyz says why', async () => {
      const startMs = Math.ceil((clock.now() + 2 * HOUR) / MIN) * MIN;
      const joinAtMs = startMs - JOIN_LEAD_MS;
      const { botId } = await scheduleMeeting(startMs, 'https://meet.google.com/key-refu-sed', `refused-${kind}`);
      // (The dispatcher check is false here: tests drive it by hand instead of starting its loop.)
      assert.equal((await rc.request('GET', '/readyz')).body.checks.runtime, true);
      clock.set(joinAtMs - provider.leadMs - MIN);
      await rc.dispatcher.runDue();
      clock.set(joinAtMs - provider.leadMs);
      fake.failNext(/^POST /, { status: 401, body: { detail: 'Invalid token.' } });
      await rc.dispatcher.runDue();
      const bot = await botRow(botId);
      assert.equal(bot.status, 'Error');
      assert.ok((await decisions(botId)).some((d) => d.kind === 'failed' && d.reason.includes('provider_auth_failed')));
      const ready = await rc.request('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.runtime, false);
      assert.match(ready.body.reasons.runtime, /provider_auth_failed: .* refused the API key/);
      assert.ok(!JSON.stringify(ready.body).includes(API_KEY));
      // The next accepted answer clears it.
      const { botId: next } = await scheduleMeeting(clock.now() + 2 * HOUR, 'https://meet.google.com/key-acce-pte', `accepted-${kind}`);
      clock.advance(2 * HOUR - JOIN_LEAD_MS - provider.leadMs);
      await rc.dispatcher.runDue();
      assert.ok((await botRow(next)).provider_bot_id);
      const again = await rc.request('GET', '/readyz');
      assert.equal(again.body.checks.runtime, true);
      assert.equal(again.body.reasons, undefined);
    });

    test('an auto-scheduled bot waiting for the client\'s bot in its meeting is left alone by the handover plan, says so once, and hands over its event once the client\'s is held', async () => {
      const startMs = Math.ceil((clock.now() + 3 * HOUR) / MIN) * MIN;
      const url = `https://meet.google.com/kee-perx-${kind.slice(0, 3)}`;
      const { botId: auto } = await scheduleMeeting(startMs, url, `auto-${kind}`);
      // As auto-schedule leaves a bot after a calendar change brought it into this meeting (the API refuses its keys, so it is written here).
      const key = `auto:gmeet:kee-perx:${iso(startMs - 24 * HOUR)}`;
      await rc.database.db.updateTable('bots').set({ deduplication_key: key, deduplication_key_hash: deduplicationKeyHash(key), custom_attributes: JSON.stringify({ auto_scheduled: 'true' }) }).where('id', '=', auto).execute();
      // The client's own bot for the same meeting, joining 20 minutes in.
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'mine', start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: url } });
      const mine = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `mine-${kind}`, bot_config: { bot_name: 'mine', join_at: iso(startMs + 20 * MIN) } } });
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      for (let at = startMs - JOIN_LEAD_MS - provider.leadMs - 2 * MIN; at <= startMs + 20 * MIN; at += 5000) {
        clock.set(at);
        await rc.dispatcher.runDue();
      }
      const kinds = (await decisions(auto)).map((d) => d.kind);
      assert.equal(kinds.filter((k) => k === 'waiting_for_keeper').length, 1, kinds.join(', '));
      assert.ok(kinds.filter((k) => k === 'handover_planned').length <= 2, `the plan does not move it back again and again: ${kinds.join(', ')}`);
      const row = await botRow(auto);
      assert.deepEqual([row.status, row.provider_bot_id], ['Cancelled', null], 'nothing handed over for it');
      assert.equal(kinds.at(-1), 'gave_way');
    });
  });
}

describe('handover with the loops running on the real clock', () => {
  const provider = providerCase('recall');
  const fake = provider.fake as FakeRecall;
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    const url = await fake.start();
    rc = await startTestRollcall({
      background: true,
      settings: { BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: API_KEY, BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: provider.secret, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5' },
    });
    user = await rc.newUser();
  });
  after(async () => {
    await rc.close();
    await fake.stop();
  });

  test('bots booked inside their lead are handed over within seconds, about a second apart, and joined by the provider at their join time', async () => {
    const startMs = Math.ceil((Date.now() + 8 * MIN) / 1000) * 1000;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: `now ${i}`, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: `https://meet.google.com/now-live-aa${'bcd'[i]}` } });
      const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `now-${i}`, bot_config: { bot_name: 'Now' } } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      ids.push(scheduled.body.bot_id);
    }
    const booked = Date.now();
    const handedOver = async () => (await rc.database.db.selectFrom('bots').select(['status', 'provider_bot_id']).where('id', 'in', ids).execute()).filter((b) => b.provider_bot_id !== null).length;
    for (let i = 0; i < 200 && await handedOver() < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.liveBots.length, 3, 'all three handed over');
    assert.ok(Date.now() - booked < 10_000, `handed over ${Date.now() - booked} ms after booking`);
    // Paced when sent; the provider sees them a network's jitter apart. Each bot's first request
    // counts: a loaded machine can time one out and send it again (same idempotency key), and a
    // retry follows its own backoff, not the pace.
    const firsts = new Map<string, number>();
    for (const r of createRequests(fake)) {
      const key = String(r.headers['idempotency-key']);
      if (!firsts.has(key)) firsts.set(key, r.at);
    }
    const sent = [...firsts.values()].sort((a, b) => a - b);
    assert.equal(sent.length, 3, 'one creation per bot');
    // Arrival times at the fake: each carries its request's transit, so a first request slowed on
    // a busy machine arrives late and narrows the gap a little; a second apart means at least 900 ms.
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]! - sent[i - 1]! >= 900, `creations ${sent[i]! - sent[i - 1]!} ms apart (every create request at ${createRequests(fake).map((r) => `${r.at} ${String(r.headers['idempotency-key'])}`).join(', ')})`);
    assert.ok(fake.liveBots.every((b) => b.join_at === iso(startMs - JOIN_LEAD_MS)));
    const rows = await rc.database.db.selectFrom('bots').select(['status', 'provider_bot_id']).where('id', 'in', ids).execute();
    assert.ok(rows.every((b) => b.status === 'Scheduled' && b.provider_bot_id !== null));
  });
});

// Recall replays the answer to an Idempotency-Key for an hour (https://docs.recall.ai/reference/idempotency):
// a creation that got no answer and is sent again later than that makes a second bot. With a
// handover lead of hours, an outage longer than that hour falls between the two.
describe('Recall: a creation that got no answer, sent again after the hour Recall replays its key', () => {
  const provider = providerCase('recall');
  const fake = provider.fake as FakeRecall;
  const clock = new ManualClock(Math.ceil(Date.now() / HOUR) * HOUR);
  const LEAD_MS = 3 * HOUR;
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    const url = await fake.start();
    fake.now = () => clock.now();
    rc = await startTestRollcall({
      clock,
      settings: {
        BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: API_KEY, BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: provider.secret,
        BOT_PROVIDER_HANDOVER_LEAD_SECONDS: String(LEAD_MS / 1000), BOT_RUNTIME_TIMEOUT_MS: String(NO_ANSWER_MS), DISPATCH_LEASE_SECONDS: '5',
      },
    });
    user = await rc.newUser();
  });
  after(async () => {
    await rc.close();
    await fake.stop();
  });

  const botRow = (id: string) => rc.database.db.selectFrom('bots').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const lookups = () => fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/bot/');
  const staying = (meetingUrl: string) => fake.liveBots.filter((b) => !['call_ended', 'done'].includes(b.status) && b.meeting_url === meetingUrl);

  /** Books a meeting, fires its handover, and lets Recall make the bot only after Rollcall gave up waiting. */
  async function loseHandover(meetingUrl: string, key: string, options: { answered: boolean }) {
    const startMs = Math.ceil((clock.now() + LEAD_MS + 2 * HOUR) / MIN) * MIN;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: key, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: meetingUrl } });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { bot_name: key } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id as string;
    const before = new Set(fake.bots.keys());
    const release = fake.holdNext(/^POST /, { inTransit: !options.answered });
    clock.set(startMs - JOIN_LEAD_MS - LEAD_MS);
    await rc.dispatcher.runDue();
    assert.equal((await botRow(botId)).provider_bot_id, null);
    if (!options.answered) return { eventId: event.body.id as string, botId, lost: null, release, creations: () => createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId) };
    release();
    for (const deadline = Date.now() + 5000; [...fake.bots.keys()].every((id) => before.has(id));) {
      assert.ok(Date.now() < deadline, 'Recall never made the held bot');
      await new Promise((r) => setTimeout(r, 20));
    }
    const lost = [...fake.bots.values()].find((b) => !before.has(b.id))!;
    return { eventId: event.body.id as string, botId, lost, release, creations: () => createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId) };
  }

  test('every creation carries its launch key in the metadata, List Bots\' filter', async () => {
    const { botId, lost, creations } = await loseHandover('https://meet.google.com/key-inme-tad', 'lost-metadata', { answered: true });
    const key = String(creations()[0]!.headers['idempotency-key']);
    assert.equal(lost!.metadata.rollcall_launch_key, key);
    assert.equal(lost!.metadata.rollcall_bot_id, botId);
    // Inside the hour the retry goes under the key and Recall answers it with the lost bot.
    clock.advance(20 * MIN);
    const before = lookups().length;
    await rc.dispatcher.runDue();
    assert.equal((await botRow(botId)).provider_bot_id, lost!.id);
    assert.equal(creations().length, 2);
    assert.equal(lookups().length, before, 'looked up while Recall still replays the key');
  });

  test('the handover retried after an outage of more than an hour holds the bot the lost request made, with no second one', async () => {
    const meetingUrl = 'https://meet.google.com/los-tfor-hou';
    const { botId, lost, creations } = await loseHandover(meetingUrl, 'lost-hour-handover', { answered: true });
    // Nothing runs for 70 minutes; then List Bots first answers 429 (its own limit).
    clock.advance(70 * MIN);
    fake.failNext(/^GET \/api\/v1\/bot\/$/, { status: 429, headers: { 'retry-after': '20' }, body: { detail: 'Request was throttled.' } });
    await rc.dispatcher.runDue();
    assert.equal((await botRow(botId)).provider_bot_id, null);
    assert.equal(creations().length, 1, 'a creation was sent without knowing whether the lost one made a bot');
    clock.advance(MIN);
    await rc.dispatcher.runDue();
    const bot = await botRow(botId);
    assert.equal(bot.provider_bot_id, lost!.id);
    assert.equal(creations().length, 1, 'a second creation was sent');
    assert.deepEqual(staying(meetingUrl).map((b) => b.id), [lost!.id]);
    const decisions = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.decisions as { kind: string; reason: string }[];
    assert.match(decisions.find((d) => d.kind === 'handed_over')!.reason, /already had this launch/);
  });

  test('the meeting cancelled more than an hour after a handover that got no answer: the bot that request made is found and deleted, and none is made', async () => {
    const meetingUrl = 'https://meet.google.com/los-tcan-cel';
    const { eventId, botId, lost, creations } = await loseHandover(meetingUrl, 'lost-hour-cancel', { answered: true });
    clock.advance(70 * MIN);
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
    await rc.dispatcher.runDue();
    await rc.dispatcher.runDue();
    assert.equal((await botRow(botId)).status, 'Cancelled');
    assert.ok(fake.bots.get(lost!.id)!.deleted, JSON.stringify({ decisions: (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.decisions, commands: await rc.database.db.selectFrom('runtime_commands').selectAll().where('bot_id', '=', botId).execute(), lookups: lookups().length }));
    assert.equal(creations().length, 1, 'a creation was sent to find the lost one');
    assert.deepEqual(staying(meetingUrl), []);
  });

  test('a handover that got no answer, the meeting cancelled only after its join time: the bot the request made is looked up and made to leave', async () => {
    const meetingUrl = 'https://meet.google.com/pas-tjoi-nti';
    const { eventId, botId, lost, creations } = await loseHandover(meetingUrl, 'lost-past-join', { answered: true });
    const joinAtMs = Date.parse(lost!.join_at!);
    // Nothing runs until after the join time; Recall's bot is in the call by then.
    clock.set(joinAtMs + 5 * MIN);
    fake.bots.get(lost!.id)!.status = 'in_call_recording';
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: user.auth })).status, 200);
    await rc.dispatcher.runDue();
    await rc.dispatcher.runDue();
    assert.equal((await botRow(botId)).status, 'Cancelled');
    assert.equal(fake.bots.get(lost!.id)!.status, 'call_ended', 'the lost request\'s bot stays in the call');
    assert.equal(creations().length, 1, 'a creation was sent after the join time');
  });

  test('List Bots refusing the lookup: the handover creates anyway (a bot rather than none); the chase gives up and says so', async () => {
    const meetingUrl = 'https://meet.google.com/ref-used-loo';
    const first = await loseHandover(meetingUrl, 'lost-lookup-refused', { answered: true });
    clock.advance(70 * MIN);
    fake.failNext(/^GET \/api\/v1\/bot\/$/, { status: 400, body: { detail: 'Unknown filter.' } });
    await rc.dispatcher.runDue();
    const bot = await botRow(first.botId);
    assert.ok(bot.provider_bot_id && bot.provider_bot_id !== first.lost!.id, 'not handed over');
    assert.equal(first.creations().length, 2);

    const other = await loseHandover('https://meet.google.com/ref-used-cha', 'lost-lookup-refused-chase', { answered: true });
    clock.advance(70 * MIN);
    fake.failNext(/^GET \/api\/v1\/bot\/$/, { status: 400, body: { detail: 'Unknown filter.' } });
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${other.eventId}`, { auth: user.auth })).status, 200);
    await rc.dispatcher.runDue();
    const decisions = (await rc.request('GET', `/api/v1/bots/${other.botId}`, { auth: user.auth })).body.decisions as { kind: string; reason: string }[];
    assert.match(decisions.find((d) => d.kind === 'provider_removal_failed')?.reason ?? '', /could not be checked: recall refused the bot lookup \(HTTP 400\)/, JSON.stringify(decisions));
    assert.equal(other.creations().length, 1);
  });

  test('a lost request Recall never processed: found nowhere, the bot is created under the same key', async () => {
    const meetingUrl = 'https://meet.google.com/nev-erpr-ocs';
    const { botId, release, creations } = await loseHandover(meetingUrl, 'lost-hour-never', { answered: false });
    try {
      clock.advance(70 * MIN);
      const before = lookups().length;
      await rc.dispatcher.runDue();
      assert.equal(lookups().length, before + 1);
      const bot = await botRow(botId);
      assert.ok(bot.provider_bot_id, 'not handed over');
      assert.equal(creations().length, 2);
      assert.deepEqual(staying(meetingUrl).map((b) => b.id), [bot.provider_bot_id]);
    } finally {
      release();
    }
  });
  /** Books a meeting with `config` and brings the clock to its handover. */
  async function book(meetingUrl: string, key: string, config: Record<string, unknown>) {
    const startMs = Math.ceil((clock.now() + LEAD_MS + 2 * HOUR) / MIN) * MIN;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: key, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: meetingUrl } });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { bot_name: key, ...config } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    clock.set(startMs - JOIN_LEAD_MS - LEAD_MS);
    return scheduled.body.bot_id as string;
  }

  test('an attribute longer than Recall\'s 500-character metadata limit: the bot is made, with the first 500 there and the whole value kept; everyone_left_timeout in Recall\'s object form', async () => {
    const long = `${'x'.repeat(499)}\u{1F600}${'y'.repeat(100)}`;
    const botId = await book('https://meet.google.com/lon-gatt-rbu', 'long-attribute', { custom_attributes: { note: long, team: 'core' }, automatic_leave: { everyone_left_timeout: 60, waiting_room_timeout: 300 } });
    await rc.dispatcher.runDue();
    const row = await botRow(botId);
    assert.ok(row.provider_bot_id, 'handed over');
    const sent = createRequests(fake).filter((r) => r.body?.metadata?.rollcall_bot_id === botId);
    assert.equal(sent.length, 1);
    // Cut before the emoji rather than through it.
    assert.equal(sent[0]!.body.metadata.note, 'x'.repeat(499));
    assert.equal(sent[0]!.body.metadata.team, 'core');
    assert.deepEqual(sent[0]!.body.automatic_leave, { everyone_left_timeout: { timeout: 60 }, waiting_room_timeout: 300 });
    const bot = await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth: user.auth });
    assert.equal(bot.body.custom_attributes.note, long, 'Rollcall keeps and sends the whole value');
  });
});
