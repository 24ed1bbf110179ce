// Bots whose runtime or provider never reports their end (src/services/scheduling/silent-bots.ts):
// six hours after their meeting was to end they are taken as finished, and their key is free.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { SILENT_AFTER_MS } from '../../src/services/scheduling/silent-bots.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeRecall } from '../support/fake-recall.ts';

const NOW = Date.parse('2026-11-20T09:00:00Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('silent bots: an http runtime that never reports an end', () => {
  const clock = new ManualClock(NOW);
  const runtime = new FakeHttpReceiver();
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    const url = await runtime.start();
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${url}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', JOIN_LEAD_SECONDS: '120' } });
    user = await rc.newUser('silent');
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
  });

  async function book(key: string, startMs: number, link: string): Promise<string> {
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: key, start_time: iso(startMs), end_time: iso(startMs + HOUR), meeting_url: link } });
    const booked = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { callback_url: 'http://127.0.0.1:9/hooks' } } });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    return booked.body.bot_id;
  }
  const statusOf = async (id: string) => (await rc.request('GET', `/api/v1/bots/${id}`, { auth: user.auth })).body.status;

  test('a launched bot with no report of its end is Error six hours after its meeting, with the reason and its webhook; one that reported its end, or still has time, is left alone; the key is free again', async () => {
    const start = NOW + HOUR;
    const silent = await book('standup', start, 'https://zoom.us/j/81234567890');
    const reporting = await book('review', start, 'https://zoom.us/j/81234567891');
    clock.set(start - 120_000);
    await rc.dispatcher.runDue();
    assert.equal(await statusOf(silent), 'Joining');
    // One runtime reports its bot in and out; the other never says a word after the launch.
    for (const status of ['InMeeting', 'Stopped', 'Done']) assert.equal((await rc.request('POST', `/api/v1/bots/${reporting}/status`, { auth: user.auth, body: { status } })).status, 200);

    const meetingEnd = start + HOUR;
    clock.set(meetingEnd + SILENT_AFTER_MS - 60_000);
    assert.equal(await rc.silentBots.sweep(), 0, 'not before six hours have passed');
    assert.equal(await statusOf(silent), 'Joining');
    clock.set(meetingEnd + SILENT_AFTER_MS + 60_000);
    assert.equal(await rc.silentBots.sweep(), 1);
    assert.equal(await rc.silentBots.sweep(), 0, 'once');
    assert.equal(await statusOf(silent), 'Error');
    assert.equal(await statusOf(reporting), 'Done');
    const failed = (await rc.request('GET', `/api/v1/bots/${silent}`, { auth: user.auth })).body.decisions.find((d: { kind: string }) => d.kind === 'failed');
    assert.match(failed.reason, /^no_status_report: http reported nothing that ended this bot \(still Joining\) by .*six hours after its meeting was to end/);
    const payloads = (await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', silent).execute()).map((r) => JSON.parse(r.payload));
    assert.deepEqual(payloads.map((p) => p.bot_event), ['bot.scheduled', 'bot.joining', 'bot.failed']);
    // The key is free: the client's next booking under it is a new bot, not a conflict.
    const next = await book('standup', clock.now() + DAY_AHEAD, 'https://zoom.us/j/81234567899');
    assert.notEqual(next, silent);
  });

  test('a bot that was never launched is not this sweep\'s: the dispatcher makes it Missed', async () => {
    const start = clock.now() + HOUR;
    const id = await book('never-launched', start, 'https://zoom.us/j/81234567892');
    clock.set(start + HOUR + SILENT_AFTER_MS + 60_000);
    assert.equal(await rc.silentBots.sweep(), 0);
    assert.equal(await statusOf(id), 'Scheduled');
    await rc.dispatcher.runDue();
    assert.equal(await statusOf(id), 'Missed');
  });
});

const DAY_AHEAD = 24 * HOUR;

describe('silent bots: a provider whose webhooks never arrive', () => {
  const clock = new ManualClock(NOW);
  const secret = `whsec_${Buffer.from('recall-signing-secret-32-bytes!!').toString('base64')}`;
  const recall = new FakeRecall('recall-api-key', secret);
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    const url = await recall.start();
    recall.now = () => clock.now();
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: 'recall-api-key', BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: secret, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    user = await rc.newUser('unregistered');
  });
  after(async () => {
    await rc.close();
    await recall.stop();
  });

  test('a bot handed over to Recall and never reported on stays Scheduled until six hours after its meeting, then is Error naming the webhooks to check', async () => {
    const start = NOW + 2 * HOUR;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Planning', start_time: iso(start), end_time: iso(start + HOUR), meeting_url: 'https://meet.google.com/sil-entb-ots' } });
    const id = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'planning', bot_config: {} } })).body.bot_id;
    // Handed over at the join time (three minutes before the start) less Recall's 15-minute lead.
    clock.set(start - 19 * 60_000);
    await rc.dispatcher.runDue();
    clock.set(start - 18 * 60_000);
    await rc.dispatcher.runDue();
    const row = await rc.database.db.selectFrom('bots').select(['status', 'provider_bot_id']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.ok(row.provider_bot_id, 'handed over');
    clock.set(start + HOUR + SILENT_AFTER_MS + 60_000);
    await rc.dispatcher.runDue();
    assert.equal((await rc.database.db.selectFrom('bots').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'Scheduled', 'the dispatcher leaves a handed-over bot to its provider');
    assert.equal(await rc.silentBots.sweep(), 1);
    const bot = (await rc.request('GET', `/api/v1/bots/${id}`, { auth: user.auth })).body;
    assert.equal(bot.status, 'Error');
    assert.match(bot.decisions.find((d: { kind: string }) => d.kind === 'failed').reason, /recall reported nothing that ended this bot \(still Scheduled\).*Check that recall's status webhooks reach Rollcall \(docs\/providers\/recall\.md\)/);
  });
});
