// Ad-hoc bots (spec section 10, reference meetstream.md section 2): POST /bots/create_bot and the
// bot routes MeetStream clients call (GET /bots, /bots/{id}/detail, /bots/{id}/remove_bot,
// DELETE /bots/{id}/delete). An ad-hoc bot goes through the same schedule, dispatcher, runtime,
// status route, webhooks and decision log as a calendar bot; these tests drive it through all of
// them with a manual clock, and once in real time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { randomToken } from '../../src/lib/ids.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { checkErrorBody, diffSnapshots, snapshotDatabase } from '../support/openapi.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const CREATE = '/api/v1/bots/create_bot';
const BOOKKEEPING = { api_keys: ['last_used_at'] };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomNumber(): string {
  return `8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

describe('ad-hoc bots', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  const runtime = new FakeHttpReceiver();
  let alice: { auth: string; userId: string };
  let bob: { auth: string; userId: string };
  let runtimeUrl: string;

  before(async () => {
    runtimeUrl = await runtime.start();
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    alice = await rc.newUser('alice');
    bob = await rc.newUser('bob');
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
  });

  function create(auth: string, body: unknown, headers: Record<string, string> = {}) {
    return rc.request('POST', CREATE, { auth, body, headers });
  }

  async function createOk(auth: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any> {
    const res = await create(auth, body, headers);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function statusOf(auth: string, botId: string): Promise<string> {
    return (await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth })).body.status;
  }

  async function webhooksOf(botId: string): Promise<any[]> {
    const rows = await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).orderBy('id').execute();
    return rows.map((r) => JSON.parse(r.payload));
  }

  function launchesOf(botId: string) {
    return runtime.received.filter((r) => r.url === '/launch' && r.json?.bot_id === botId);
  }

  describe('POST /bots/create_bot', () => {
    test('a bot without join_at is created (201, MeetStream\'s shape) and launched now with the request\'s fields, events none', async () => {
      const link = `https://zoom.us/j/${zoomNumber()}?pwd=abc`;
      const body = {
        meeting_link: link, bot_name: 'Scribe', bot_message: 'Hello', callback_url: 'http://127.0.0.1:9/hooks',
        custom_attributes: { team: 'red' }, zoom: { zak_url: 'https://example.com/zak' }, live_audio_required: { websocket_url: 'wss://example.com/audio' },
        recording_config: { transcript: { provider: { deepgram: { model: 'nova-3' } } } }, automatic_leave: { waiting_room_timeout: 300 }, future_field: { x: 1 },
      };
      const created = await createOk(alice.auth, body);
      assert.deepEqual(Object.keys(created).sort(), ['bot_id', 'meeting_url', 'status', 'transcript_id']);
      assert.deepEqual({ ...created, bot_id: 'x' }, { bot_id: 'x', transcript_id: null, meeting_url: link, status: 'Scheduled' });
      await rc.dispatcher.runDue();
      const launches = launchesOf(created.bot_id);
      assert.equal(launches.length, 1);
      const launch = launches[0]!.json;
      assert.equal(launch.meeting_url, link);
      assert.equal(launch.platform, 'zoom');
      assert.deepEqual(launch.events, []);
      assert.equal(launch.scheduled_time, iso(clock.now()));
      const { bot_name, bot_message, video_required, audio_required, custom_attributes, zoom, live_audio_required, recording_config, automatic_leave, future_field, callback_url } = launch.bot_config;
      assert.deepEqual({ bot_name, bot_message, video_required, audio_required, custom_attributes, zoom, live_audio_required, recording_config, automatic_leave, future_field, callback_url }, {
        bot_name: 'Scribe', bot_message: 'Hello', video_required: true, audio_required: true, custom_attributes: { team: 'red' }, zoom: body.zoom,
        live_audio_required: body.live_audio_required, recording_config: body.recording_config, automatic_leave: body.automatic_leave, future_field: { x: 1 }, callback_url: body.callback_url,
      });
      assert.ok(!('meeting_link' in launch.bot_config) && !('deduplication_key' in launch.bot_config));
      assert.equal(await statusOf(alice.auth, created.bot_id), 'Joining');
      // MeetStream's older shape gives socket_connection_url as the address: sent on in the current one.
      const legacy = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Legacy', socket_connection_url: 'wss://control.example.com/s' });
      await rc.dispatcher.runDue();
      assert.deepEqual(launchesOf(legacy.bot_id)[0]!.json.bot_config.socket_connection_url, { websocket_url: 'wss://control.example.com/s' });
      // The runtime reports through the same status route, with the launch's token.
      const reported = await rc.request('POST', `/api/v1/bots/${created.bot_id}/status`, { headers: { authorization: `Bearer ${launch.status_token}` }, body: { status: 'InMeeting' } });
      assert.equal(reported.status, 200, JSON.stringify(reported.body));
      // A bot that joins now gets no bot.scheduled (MeetStream sends it for a future join_at only).
      assert.deepEqual((await webhooksOf(created.bot_id)).map((w) => [w.event, w.bot_event, w.custom_attributes.team]), [['bot.joining', 'bot.joining', 'red'], ['bot.inmeeting', 'bot.inmeeting', 'red']]);
      const detail = (await rc.request('GET', `/api/v1/bots/${created.bot_id}`, { auth: alice.auth })).body;
      assert.deepEqual(detail.decisions.map((d: any) => d.kind), ['scheduled', 'launched']);
      assert.deepEqual(detail.events, []);
      // Another runDue launches nothing more.
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(created.bot_id).length, 1);
    });

    test('custom attributes with number and boolean values (MeetStream takes arbitrary metadata) are kept as their text, everywhere', async () => {
      const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Typed', join_at: iso(clock.now() + 45 * 60_000), callback_url: 'http://127.0.0.1:9/hooks', custom_attributes: { tenant_id: 42, is_test: true, ratio: 0.5, team: 'red' } });
      const expected = { tenant_id: '42', is_test: 'true', ratio: '0.5', team: 'red' };
      const status = await rc.request('GET', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth });
      assert.deepEqual(status.body.custom_attributes, expected);
      assert.deepEqual((await webhooksOf(created.bot_id)).map((w) => w.custom_attributes.tenant_id), ['42']);
      const listed = await rc.request('GET', '/api/v1/bots?custom_attr[tenant_id]=42&custom_attr[is_test]=true', { auth: alice.auth });
      assert.deepEqual(listed.body.bots.map((b: { bot_id: string }) => b.bot_id), [created.bot_id]);
      // Changed the same way through the scheduled-bot PATCH.
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${created.bot_id}`, { auth: alice.auth, body: { custom_attributes: { tenant_id: 43 } } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual((await rc.request('GET', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth })).body.custom_attributes, { ...expected, tenant_id: '43' });
    });

    test('a future join_at is a scheduled bot (bot.scheduled) launched once at that time', async () => {
      const joinAt = clock.now() + 30 * 60_000;
      const created = await createOk(alice.auth, { meeting_link: 'https://meet.google.com/xyz-abcd-efg', bot_name: 'Later', join_at: iso(joinAt), callback_url: 'http://127.0.0.1:9/hooks' });
      assert.equal(created.status, 'Scheduled');
      assert.deepEqual((await webhooksOf(created.bot_id)).map((w) => w.event), ['bot.scheduled']);
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(created.bot_id).length, 0);
      clock.set(joinAt);
      await rc.dispatcher.runDue();
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(created.bot_id).length, 1);
      assert.equal(await statusOf(alice.auth, created.bot_id), 'Joining');
    });

    test('a join_at that has just passed (a client\'s clock, a queued request) joins now, like none; more than ten minutes ago is 400', async () => {
      for (const agoMs of [1, 60_000, 10 * 60_000]) {
        const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Late', join_at: iso(clock.now() - agoMs), callback_url: 'http://127.0.0.1:9/hooks' });
        assert.deepEqual(await webhooksOf(created.bot_id), [], 'no bot.scheduled for a bot that joins now');
        await rc.dispatcher.runDue();
        const launches = launchesOf(created.bot_id);
        assert.equal(launches.length, 1, `${agoMs} ms ago`);
        assert.equal(launches[0]!.json.scheduled_time, iso(clock.now()));
      }
    });

    test('Idempotency-Key: a repeat answers 507 with the original bot and its current status, whatever the body', async () => {
      const key = `idem-${randomToken(8)}`;
      const first = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Once', join_at: iso(clock.now() + 3_600_000) }, { 'Idempotency-Key': key });
      const repeat = await create(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Other' }, { 'idempotency-key': key });
      assert.equal(repeat.status, 507);
      assert.deepEqual(repeat.body, first);
      await rc.request('GET', `/api/v1/bots/${first.bot_id}/remove_bot`, { auth: alice.auth });
      const afterRemove = await create(alice.auth, { meeting_link: `https://meet.google.com/abc-defg-hij`, bot_name: 'y', join_at: iso(clock.now() + 7_200_000) }, { 'Idempotency-Key': key });
      assert.equal(`${afterRemove.status} ${afterRemove.body.status} ${afterRemove.body.bot_id}`, `507 Cancelled ${first.bot_id}`, 'the key stays bound to its bot');
      // The body of a repeat is not looked at: one that would be refused as a first request gets the bot too.
      const refusable = await create(alice.auth, { meeting_link: 'http://localhost:8080/x', bot_name: 'z', callback_url: 'http://10.0.0.1/hook', transcription: { otter: {} } }, { 'Idempotency-Key': key });
      assert.equal(`${refusable.status} ${refusable.body.bot_id}`, `507 ${first.bot_id}`);
      // Nor its shape: MeetStream ignores a repeat's body.
      for (const body of [{}, { meeting_link: 42, bot_name: ['x'] }, { meeting_link: 'https://zoom.us/j/1', bot_name: 'x', automatic_leave: { waiting_room_timeout: 'soon' } }]) {
        const shapeless = await create(alice.auth, body, { 'Idempotency-Key': key });
        assert.equal(`${shapeless.status} ${shapeless.body.bot_id}`, `507 ${first.bot_id}`, JSON.stringify(body));
      }
      // A first request with such a body is still a 400 naming the field.
      const fresh = await create(alice.auth, {}, { 'Idempotency-Key': `${key}-new` });
      assert.equal(fresh.status, 400);
      // Keys are per user.
      const bobs = await create(bob.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Bob' }, { 'Idempotency-Key': key });
      assert.equal(bobs.status, 201);
      assert.notEqual(bobs.body.bot_id, first.bot_id);
    });

    test('Idempotency-Key: simultaneous first requests make one bot', async () => {
      const key = `race-${randomToken(8)}`;
      const body = { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Race', join_at: iso(clock.now() + 3_600_000) };
      const answers = await Promise.all(Array.from({ length: 12 }, () => create(alice.auth, body, { 'Idempotency-Key': key })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, ...Array(11).fill(507)]);
      assert.equal(new Set(answers.map((a) => a.body.bot_id)).size, 1);
    });

    test('deduplication_key: the same meeting answers 200 with the bot it names, for the bot\'s lifetime; another meeting is 409', async () => {
      const number = zoomNumber();
      const key = `dedup-${randomToken(8)}`;
      const first = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${number}`, bot_name: 'A', deduplication_key: key });
      const replay = await create(alice.auth, { meeting_link: `https://us06web.zoom.us/j/${number}?pwd=zz`, bot_name: 'B', deduplication_key: key });
      assert.equal(replay.status, 200);
      assert.equal(replay.body.bot_id, first.bot_id);
      const conflict = await create(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'C', deduplication_key: key });
      assert.equal(`${conflict.status} ${conflict.body.code} ${conflict.body.bot_id}`, `409 deduplication_conflict ${first.bot_id}`);
      // Finished, the key still names it.
      await rc.dispatcher.runDue();
      for (const status of ['InMeeting', 'Stopped', 'Done']) await rc.request('POST', `/api/v1/bots/${first.bot_id}/status`, { auth: alice.auth, body: { status } });
      const later = await create(alice.auth, { meeting_link: `https://zoom.us/j/${number}`, bot_name: 'D', deduplication_key: key });
      assert.deepEqual([later.status, later.body.bot_id, later.body.status], [200, first.bot_id, 'Done']);
      // Simultaneous first requests with one key: one bot.
      const raceKey = `dedup-race-${randomToken(8)}`;
      const link = `https://zoom.us/j/${zoomNumber()}`;
      const answers = await Promise.all(Array.from({ length: 10 }, () => create(alice.auth, { meeting_link: link, bot_name: 'R', deduplication_key: raceKey, join_at: iso(clock.now() + 3_600_000) })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(answers.map((a) => a.body.bot_id)).size, 1);
    });

    test('bad input is a 400 naming the field, and writes nothing', async () => {
      const link = `https://zoom.us/j/${zoomNumber()}`;
      const cases: [unknown, Record<string, string>, string, string][] = [
        [{ bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        [{ meeting_link: 'not a url', bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        [{ meeting_link: 'ftp://zoom.us/j/1', bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        // The runtime would open these from its own network: the cloud's metadata service, itself.
        [{ meeting_link: 'http://169.254.169.254/latest/meta-data/', bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        [{ meeting_link: 'http://localhost:8080/admin', bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        [{ meeting_link: 'https://user:pass@zoom.us/j/1', bot_name: 'x' }, {}, 'invalid_meeting_url', 'meeting_link'],
        [{ meeting_link: link, bot_name: 7 }, {}, 'invalid_bot_config', 'bot_name'],
        [{ meeting_link: link, bot_name: '' }, {}, 'invalid_bot_config', 'bot_name'],
        [{ meeting_link: link, bot_name: 'x', join_at: '2026-11-20T15:00:00' }, {}, 'invalid_join_at', 'join_at'],
        [{ meeting_link: link, bot_name: 'x', join_at: iso(clock.now() - 10 * 60_000 - 1) }, {}, 'invalid_join_at', 'join_at'],
        [{ meeting_link: link, bot_name: 'x', callback_url: 'http://10.0.0.1/hook' }, {}, 'callback_url_not_allowed', 'callback_url'],
        [{ meeting_link: link, bot_name: 'x', callback_url: 'ftp://example.com' }, {}, 'callback_url_not_allowed', 'callback_url'],
        [{ meeting_link: link, bot_name: 'x', automatic_leave: { in_call_recording_timeout: 300 } }, {}, 'invalid_bot_config', 'automatic_leave.in_call_recording_timeout'],
        [{ meeting_link: link, bot_name: 'x', automatic_leave: { waiting_room_timeout: 'long' } }, {}, 'invalid_bot_config', 'automatic_leave.waiting_room_timeout'],
        [{ meeting_link: link, bot_name: 'x', zoom: { zak_url: 'https://a.example/z', obf_url: 'https://a.example/o' } }, {}, 'validation_error', 'zoom'],
        [{ meeting_link: link, bot_name: 'x', zoom: { use_zoom_obf: true } }, {}, 'validation_error', 'zoom.use_zoom_obf'],
        [{ meeting_link: link, bot_name: 'x', recording_config: { transcript: { provider: { whisperx: {} } } } }, {}, 'invalid_bot_config', 'recording_config.transcript.provider'],
        [{ meeting_link: link, bot_name: 'x', recording_config: { transcript: { provider: { deepgram: {}, assemblyai: {} } } } }, {}, 'invalid_bot_config', 'recording_config.transcript.provider'],
        [{ meeting_link: link, bot_name: 'x', recording_config: { transcript: {} } }, {}, 'invalid_bot_config', 'recording_config.transcript.provider'],
        [{ meeting_link: link, bot_name: 'x', transcription: { otter: {} } }, {}, 'invalid_bot_config', 'transcription'],
        // Other addresses the runtime opens: public hosts only, like the meeting link.
        [{ meeting_link: link, bot_name: 'x', bot_image_url: 'http://169.254.169.254/latest/meta-data/' }, {}, 'invalid_bot_config', 'bot_image_url'],
        [{ meeting_link: link, bot_name: 'x', live_audio_required: { websocket_url: 'ws://10.0.0.7:9000/audio' } }, {}, 'invalid_bot_config', 'live_audio_required.websocket_url'],
        [{ meeting_link: link, bot_name: 'x', socket_connection_url: 'ws://10.0.0.7:9000/s' }, {}, 'invalid_bot_config', 'socket_connection_url'],
        [{ meeting_link: link, bot_name: 'x', socket_connection_url: 7 }, {}, 'invalid_bot_config', 'socket_connection_url'],
        [{ meeting_link: link, bot_name: 'x', recording_config: { realtime_endpoints: [{ type: 'websocket', url: 'ws://localhost:8080/rt' }] } }, {}, 'invalid_bot_config', 'recording_config.realtime_endpoints[0].url'],
        [{ meeting_link: link, bot_name: 'x', deduplication_key: ' ' }, {}, 'invalid_deduplication_key', 'deduplication_key'],
        // Auto-schedule's keys are its own (they make a bot one it may take back).
        [{ meeting_link: link, bot_name: 'x', deduplication_key: 'auto:zoom:81234567890:2026-12-01T10:00:00.000Z' }, {}, 'invalid_deduplication_key', 'deduplication_key'],
        // One code for the field, whether the whole or one of its values is wrong.
        [{ meeting_link: link, bot_name: 'x', custom_attributes: 'x' }, {}, 'invalid_bot_config', 'custom_attributes'],
        [{ meeting_link: link, bot_name: 'x', custom_attributes: { n: { deep: 1 } } }, {}, 'invalid_bot_config', 'custom_attributes.n'],
        [{ meeting_link: link, bot_name: 'x', custom_attributes: { n: ['a'] } }, {}, 'invalid_bot_config', 'custom_attributes.n'], // (an attribute given null is one not set: meetstream-conventions)
        [{ meeting_link: link, bot_name: 'x' }, { 'Idempotency-Key': '' }, 'invalid_idempotency_key', 'idempotency-key'],
        [{ meeting_link: link, bot_name: 'x' }, { 'Idempotency-Key': 'has space' }, 'invalid_idempotency_key', 'idempotency-key'],
        [{ meeting_link: link, bot_name: 'x' }, { 'Idempotency-Key': 'k'.repeat(256) }, 'invalid_idempotency_key', 'idempotency-key'],
        [{ meeting_link: link, bot_name: 'x' }, { 'Idempotency-Key': 'caf\u00e9' }, 'invalid_idempotency_key', 'idempotency-key'],
      ];
      for (const [body, headers, code, field] of cases) {
        const before = await snapshotDatabase(rc, BOOKKEEPING);
        const res = await create(alice.auth, body, headers);
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, `400 ${code} ${field}`, `${JSON.stringify(body)} ${JSON.stringify(headers)}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(checkErrorBody(400, res.body, String(res.headers['content-type'])), []);
        assert.match(res.body.message, new RegExp(field.split('.')[0]!.replace(/[[\]]/g, '\\$&'), 'i'));
        assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, BOOKKEEPING)), [], JSON.stringify(body));
      }
      // The legacy empty transcription object is accepted (MeetStream's own examples send it).
      assert.equal((await create(alice.auth, { meeting_link: link, bot_name: 'x', transcription: {}, join_at: iso(clock.now() + 3_600_000) })).status, 201);
    });

    test('a bot the dispatcher could not launch before its meeting length passed is Missed; the length follows in_call_recording_timeout', async () => {
      const start = clock.now() + 60_000;
      const short = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Short', join_at: iso(start), automatic_leave: { in_call_recording_timeout: 600 }, callback_url: 'http://127.0.0.1:9/h' });
      const long = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Long', join_at: iso(start) });
      // Down from before the join time until 20 minutes after it.
      clock.set(start + 20 * 60_000);
      await rc.dispatcher.runDue();
      assert.equal(await statusOf(alice.auth, short.bot_id), 'Missed');
      assert.equal(await statusOf(alice.auth, long.bot_id), 'Joining', 'the default length is four hours');
      assert.deepEqual((await webhooksOf(short.bot_id)).map((w) => [w.event, w.bot_event, w.status_code]), [['bot.scheduled', 'bot.scheduled', 200], ['bot.stopped', 'bot.missed', 500]]);
    });

    test('PATCH /calendar/scheduled_bots/{id} moves a join_at bot, and its meeting length moves with it', async () => {
      const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Move', join_at: iso(clock.now() + 3_600_000) });
      const target = clock.now() + 10 * 3_600_000;
      const moved = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${created.bot_id}`, { auth: alice.auth, body: { scheduled_join_time: iso(target) } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.deepEqual([moved.body.schedule_updated, moved.body.scheduled_join_time], [true, iso(target)]);
      clock.set(target + 60_000);
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(created.bot_id).length, 1, 'launched at the new time, not missed');
    });
  });

  describe('GET /bots', () => {
    test('lists calendar and ad-hoc bots newest first, with MeetStream\'s filters; the scheduled-bot list has both kinds', async () => {
      const carol = await rc.newUser('carol');
      const made: { id: string; created: number }[] = [];
      const at = (minutes: number) => clock.now() + minutes * 60_000;
      const base = clock.now();
      const mk = async (body: Record<string, unknown>) => {
        const created = await createOk(carol.auth, { join_at: iso(at(600)), ...body });
        made.push({ id: created.bot_id, created: clock.now() });
        clock.advance(1000);
        return created.bot_id as string;
      };
      const zoomRed = await mk({ meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'z1', custom_attributes: { team: 'red', kind: 'sync' } });
      const meetRed = await mk({ meeting_link: 'https://meet.google.com/aaa-bbbb-ccc', bot_name: 'm1', custom_attributes: { team: 'red' } });
      const teamsBlue = await mk({ meeting_link: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0', bot_name: 't1', custom_attributes: { team: 'blue' } });
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: carol.auth, body: { start_time: iso(at(300)), end_time: iso(at(360)), meeting_url: `https://zoom.us/j/${zoomNumber()}` } });
      const calendarBot = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: carol.auth, body: { deduplication_key: 'cal', bot_config: { custom_attributes: { team: 'red' } } } })).body.bot_id as string;
      clock.advance(1000);
      await rc.request('GET', `/api/v1/bots/${meetRed}/remove_bot`, { auth: carol.auth });

      const list = async (query: string) => {
        const res = await rc.request('GET', `/api/v1/bots${query}`, { auth: carol.auth });
        assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      const all = await list('');
      assert.deepEqual(all.bots.map((b: any) => b.bot_id), [calendarBot, teamsBlue, meetRed, zoomRed]);
      assert.deepEqual([all.hasNextPage, all.nextCursor], [false, null]);
      const first = all.bots.find((b: any) => b.bot_id === zoomRed);
      assert.deepEqual({ ...first, bot_id: 'x', meeting_link: 'x', created_at: 'x' }, {
        bot_id: 'x', status: 'Scheduled', platform: 'Zoom', meeting_link: 'x', bot_name: 'z1', scheduled_join_time: iso(base + 600 * 60_000),
        created_at: 'x', source: 'create_bot_api', custom_attributes: { team: 'red', kind: 'sync' },
      });
      assert.equal(all.bots[0].source, 'calendar_schedule_api');
      const ids = (body: any) => body.bots.map((b: any) => b.bot_id);
      assert.deepEqual(ids(await list('?status=Cancelled')), [meetRed]);
      // MeetStream's status names vary in case, and its failure is also called Failed.
      assert.deepEqual(ids(await list('?status=cancelled')), [meetRed]);
      assert.deepEqual(ids(await list('?status=SCHEDULED&platform=Teams')), [teamsBlue]);
      for (const failure of ['Failed', 'FAILED', 'ERROR', 'Error']) assert.deepEqual(ids(await list(`?status=${failure}`)), [], failure);
      assert.deepEqual(ids(await list('?platform=GMeet')), [meetRed]);
      assert.deepEqual(ids(await list('?platform=google_meet')), [meetRed]);
      assert.deepEqual(ids(await list('?platform=Teams')), [teamsBlue]);
      // In any case, as status is.
      assert.deepEqual(ids(await list('?platform=teams')), [teamsBlue]);
      assert.deepEqual(ids(await list('?platform=GOOGLE_MEET')), [meetRed]);
      assert.deepEqual(ids(await list('?platform=Zoom')), [calendarBot, zoomRed]);
      assert.deepEqual(ids(await list('?custom_attr[team]=red')), [calendarBot, meetRed, zoomRed]);
      assert.deepEqual(ids(await list('?custom_attr%5Bteam%5D=red&custom_attr[kind]=sync')), [zoomRed]);
      assert.deepEqual(ids(await list('?custom_attr[team]=red&status=Scheduled&platform=Zoom')), [calendarBot, zoomRed]);
      // Names an object's prototype carries are filters like any other (no bot has them).
      for (const name of ['__proto__', 'constructor', 'toString']) assert.deepEqual(ids(await list(`?custom_attr[${name}]=x`)), [], name);
      assert.deepEqual(ids(await list(`?from=${iso(made[1]!.created)}&to=${iso(made[2]!.created)}`)), [teamsBlue, meetRed]);
      assert.deepEqual(ids(await list(`?from=${iso(base).slice(0, 10)}&to=${iso(base).slice(0, 10)}`)).length, 4);
      assert.deepEqual(ids(await list(`?to=${iso(base - 86_400_000).slice(0, 10)}`)), []);
      // One at a time, through every page.
      const paged: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const body = await list(`?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...ids(body));
        if (!body.hasNextPage) break;
        cursor = body.nextCursor;
      }
      assert.deepEqual(paged, ids(all));
      // The scheduled-bot list (either path) has all the user's bots still to come, join_at bots
      // included (cancelled ones not), each with its source.
      for (const path of ['/api/v1/calendar/scheduled_bots', '/api/v1/calendar/scheduled']) {
        const scheduled = await rc.request('GET', path, { auth: carol.auth });
        assert.deepEqual(scheduled.body.scheduled_bots.map((b: any) => [b.bot_id, b.custom_attributes.source]), [
          [calendarBot, 'calendar_schedule_api'], [zoomRed, 'create_bot_api'], [teamsBlue, 'create_bot_api'],
        ], path);
      }
      // Other users see none of them.
      assert.deepEqual((await rc.request('GET', '/api/v1/bots?limit=100', { auth: bob.auth })).body.bots.filter((b: any) => ids(all).includes(b.bot_id)), []);
    });

    test('bad filters are a 400 naming the parameter', async () => {
      const cases: [string, string, string][] = [
        ['?platform=Skype', 'validation_error', 'platform'],
        ['?platform=g_meet', 'validation_error', 'platform'],
        ['?status=Lost', 'validation_error', 'status'],
        ['?from=yesterday', 'invalid_time', 'from'],
        ['?to=2026-02-30', 'invalid_time', 'to'],
        ['?from=2026-11-21&to=2026-11-20', 'invalid_time', 'to'],
        ['?limit=0', 'validation_error', 'limit'],
        ['?cursor=nope', 'invalid_cursor', 'cursor'],
        ['?custom_attr[team]=a&custom_attr[team]=b', 'validation_error', 'custom_attr[team]'],
        [`?${Array.from({ length: 21 }, (_, i) => `custom_attr[k${i}]=v`).join('&')}`, 'validation_error', 'custom_attr'],
      ];
      for (const [query, code, field] of cases) {
        const res = await rc.request('GET', `/api/v1/bots${query}`, { auth: alice.auth });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, `400 ${code} ${field}`, `${query}: ${JSON.stringify(res.body)}`);
      }
      // A platform it does not know is answered with those it does.
      const skype = await rc.request('GET', '/api/v1/bots?platform=Skype', { auth: alice.auth });
      assert.match(skype.body.error, /^platform \(query\): must be one of GMeet, Zoom, Teams, /);
    });
  });

  describe('GET /bots/{id}/detail', () => {
    test('MeetStream\'s bot_details: status timeline under its names, the request payload, attributes, link and platform', async () => {
      const link = 'https://meet.google.com/qrs-tuvw-xyz';
      const created = await createOk(alice.auth, { meeting_link: link, bot_name: 'Detail', bot_message: 'hi', custom_attributes: { ticket: 'T-1' }, recording_config: { retention: { type: 'timed', hours: 24 } } });
      await rc.dispatcher.runDue();
      for (const status of ['InWaitingRoom', 'InMeeting', 'Recording', 'Leaving', 'Stopped']) {
        assert.equal((await rc.request('POST', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth, body: { status } })).status, 200);
      }
      const res = await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth });
      assert.equal(res.status, 200);
      const d = res.body.bot_details;
      assert.deepEqual([d.BotID, d.UserID, d.Status, d.Platform, d.MeetingLink, d.BotUsername, d.BotMessage, d.BotImageURL, d.transcript_id], [created.bot_id, alice.userId, 'Stopped', 'GMeet', link, 'Detail', 'hi', null, null]);
      assert.deepEqual(d.custom_attributes, { ticket: 'T-1' });
      assert.equal(d.RequestPayload.meeting_link, link);
      assert.equal(d.RequestPayload.bot_name, 'Detail');
      assert.deepEqual(d.RequestPayload.recording_config, { retention: { type: 'timed', hours: 24 } });
      const reached = Object.entries(d.StatusTimeline).filter(([, v]: [string, any]) => v.status).map(([k]) => k);
      assert.deepEqual(reached.sort(), ['InMeeting', 'Joining', 'Leaving', 'Recording', 'Scheduled', 'Stopped', 'WaitingRoom']);
      assert.deepEqual(d.StatusTimeline.BotNotAllowed, { status: false, timestamp: null, message: null });
      assert.equal(d.StatusTimeline.Joining.timestamp, iso(clock.now()));
      assert.equal(d.StartTime, iso(clock.now()));
      assert.equal(d.EndTime, iso(clock.now()));
      assert.equal(d.Duration, 0);
      // Calendar bots answer too; another user's bot is a 404.
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: bob.auth })).status, 404);
    });

    test('bot detail always carries Platform, BotUsername, BotMessage, StartTime and EndTime, null while Rollcall has no value; the scheduled list always carries platform', async () => {
      // MeetStream's BotDetailsResponseBotDetails (docs.meetstream.ai/api-reference/ap-is/bot-endpoints/get-bot-details.md)
      // types these as plain strings, but every example of its answer (the older get-bot-detail
      // page, its first-party examples) has all of them, and its primary client is Python, which
      // reads d["StartTime"]: a missing key is a KeyError, a null is None.
      const KEYS = ['Platform', 'BotUsername', 'BotMessage', 'StartTime', 'EndTime'];
      const created = await createOk(alice.auth, { meeting_link: 'https://meet.example.com/room-7', bot_name: 'Plain', join_at: iso(clock.now() + 3_600_000) });
      const waiting = (await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth })).body.bot_details;
      assert.deepEqual(KEYS.filter((key) => !(key in waiting)), [], 'every key is there');
      assert.deepEqual(KEYS.map((key) => waiting[key]), [null, 'Plain', null, null, null], 'no platform, message, start or end yet');
      assert.deepEqual([waiting.BotImageURL, waiting.transcript_id], [null, null]);
      // The scheduled list: the bot on a platform Rollcall does not know is listed with platform null.
      const listed = (await rc.request('GET', '/api/v1/calendar/scheduled_bots?limit=100', { auth: alice.auth })).body.scheduled_bots;
      const item = listed.find((b: any) => b.bot_id === created.bot_id);
      assert.ok(item, JSON.stringify(listed));
      assert.equal('platform' in item, true, JSON.stringify(item));
      assert.equal(item.platform, null);
      // After its data is deleted the bot has no name either: still every key, each null.
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: alice.auth })).status, 200);
      const deleted = (await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth })).body.bot_details;
      assert.deepEqual(KEYS.map((key) => [key, key in deleted ? deleted[key] : 'missing']), KEYS.map((key) => [key, null]));
      // The served document says so: each is required, a string or null.
      const doc = (await rc.request('GET', '/openapi.json')).body;
      const schema = doc.paths['/api/v1/bots/{bot_id}/detail'].get.responses['200'].content['application/json'].schema.properties.bot_details;
      for (const key of KEYS) {
        assert.equal(schema.required.includes(key), true, key);
        assert.deepEqual(schema.properties[key].anyOf.map((branch: { type: string }) => branch.type), ['string', 'null'], key);
      }
      const list = doc.paths['/api/v1/calendar/scheduled_bots'].get.responses['200'].content['application/json'].schema.properties.scheduled_bots.items;
      assert.equal(list.required.includes('platform'), true);
      assert.deepEqual(list.properties.platform.anyOf.map((branch: { type: string }) => branch.type), ['string', 'null']);
    });

    test('the older reference\'s path, /bots/{id}/details, answers the same, so a client written against it does not read "no such bot"', async () => {
      // MeetStream's older API reference (docs.meetstream.ai/api-reference/endpoint/get-bot-detail)
      // documents GET /bots/{bot_id}/details; the current one /bots/{bot_id}/detail.
      const created = await createOk(alice.auth, { meeting_link: 'https://meet.google.com/abc-dexy-zzz', bot_name: 'Older client' });
      const current = await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth });
      const older = await rc.request('GET', `/api/v1/bots/${created.bot_id}/details`, { auth: alice.auth });
      assert.equal(older.status, 200, JSON.stringify(older.body));
      assert.deepEqual(older.body, current.body);
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.bot_id}/details`, { auth: bob.auth })).status, 404);
    });
  });

  describe('GET /bots/{id}/remove_bot', () => {
    test('the GETs that change state answer no HEAD (a link checker\'s curl -I with a key): the bot and its data stay', async () => {
      const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Headed', join_at: iso(clock.now() + 3_600_000), custom_attributes: { team: 'red' } });
      for (const path of ['remove_bot', 'delete_data']) {
        const head = await rc.app.inject({ method: 'HEAD', url: `/api/v1/bots/${created.bot_id}/${path}`, headers: { authorization: alice.auth } });
        assert.equal(head.statusCode, 405, path);
        assert.equal(head.headers.allow, 'GET', path);
      }
      const detail = await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth });
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth })).body.status, 'Scheduled');
      assert.match(JSON.stringify(detail.body), /red/, 'its attributes are kept');
    });

    test('a waiting bot is cancelled; a bot in a meeting gets one stop command; a finished one is 409', async () => {
      const waiting = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'W', join_at: iso(clock.now() + 3_600_000), callback_url: 'http://127.0.0.1:9/h' });
      const removed = await rc.request('GET', `/api/v1/bots/${waiting.bot_id}/remove_bot`, { auth: alice.auth });
      assert.deepEqual([removed.status, removed.body.status, removed.body.bot_id], [200, 'Cancelled', waiting.bot_id]);
      assert.equal(typeof removed.body.message, 'string');
      assert.deepEqual((await webhooksOf(waiting.bot_id)).map((w) => w.bot_event), ['bot.scheduled', 'bot.cancelled']);
      assert.equal((await rc.request('GET', `/api/v1/bots/${waiting.bot_id}/remove_bot`, { auth: alice.auth })).status, 200, 'again: nothing left to do');
      clock.advance(3_700_000);
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(waiting.bot_id).length, 0, 'a cancelled bot is never launched');

      const live = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'L' });
      await rc.dispatcher.runDue();
      await rc.request('POST', `/api/v1/bots/${live.bot_id}/status`, { auth: alice.auth, body: { status: 'InMeeting' } });
      for (let i = 0; i < 2; i++) {
        const res = await rc.request('GET', `/api/v1/bots/${live.bot_id}/remove_bot`, { auth: alice.auth });
        assert.deepEqual([res.status, res.body.status], [200, 'InMeeting']);
      }
      await rc.dispatcher.runDue();
      const stops = runtime.received.filter((r) => r.json?.action === 'stop' && r.json?.bot_id === live.bot_id);
      assert.equal(stops.length, 1, 'one stop command, sent by the dispatcher');
      const detail = (await rc.request('GET', `/api/v1/bots/${live.bot_id}`, { auth: alice.auth })).body;
      assert.ok(detail.decisions.some((d: any) => d.kind === 'stop_requested') && detail.decisions.some((d: any) => d.kind === 'stop_delivered'));
      // The runtime reports the bot leaving; after that there is nothing to remove.
      for (const status of ['Leaving', 'Stopped']) await rc.request('POST', `/api/v1/bots/${live.bot_id}/status`, { auth: alice.auth, body: { status } });
      const late = await rc.request('GET', `/api/v1/bots/${live.bot_id}/remove_bot`, { auth: alice.auth });
      assert.equal(`${late.status} ${late.body.code}`, '409 bot_not_in_meeting');
      assert.equal((await rc.request('GET', '/api/v1/bots/bot_nosuchbot/remove_bot', { auth: alice.auth })).status, 404);
      assert.equal((await rc.request('GET', `/api/v1/bots/${live.bot_id}/remove_bot`, { auth: bob.auth })).status, 404);
    });
  });

  describe('DELETE /bots/{id}/delete', () => {
    test('the stored data goes, a data_deletion webhook follows, the bot stays readable by id; a bot in a meeting must be removed first', async () => {
      const created = await createOk(alice.auth, {
        meeting_link: `https://zoom.us/j/${zoomNumber()}?pwd=secret`, bot_name: 'Private', deduplication_key: 'private-key', custom_attributes: { customer: 'ACME' }, callback_url: 'http://127.0.0.1:9/h',
      }, { 'Idempotency-Key': `del-${randomToken(6)}` });
      await rc.dispatcher.runDue();
      await rc.request('POST', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth, body: { status: 'InMeeting' } });
      const tooEarly = await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: alice.auth });
      assert.equal(`${tooEarly.status} ${tooEarly.body.code}`, '400 bot_active');
      await rc.request('POST', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth, body: { status: 'Stopped' } });
      // Mark the earlier webhooks delivered, as the delivery loop would.
      await rc.database.db.updateTable('webhook_deliveries').set({ state: 'delivered', delivered_at: clock.now() }).where('bot_id', '=', created.bot_id).execute();

      const deleted = await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: alice.auth });
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.equal(deleted.body.bot_id, created.bot_id);
      assert.ok(deleted.body.deleted_objects >= 5, JSON.stringify(deleted.body));
      const stored = JSON.stringify(await rc.database.db.selectFrom('bots').selectAll().where('id', '=', created.bot_id).execute())
        + JSON.stringify(await rc.database.db.selectFrom('bot_decisions').selectAll().where('bot_id', '=', created.bot_id).execute())
        + JSON.stringify(await rc.database.db.selectFrom('bot_status_changes').selectAll().where('bot_id', '=', created.bot_id).execute())
        + JSON.stringify(await rc.database.db.selectFrom('bot_events').selectAll().where('bot_id', '=', created.bot_id).execute())
        + JSON.stringify(await rc.database.db.selectFrom('runtime_commands').selectAll().where('bot_id', '=', created.bot_id).execute());
      for (const secret of ['secret', 'ACME', 'private-key', 'Private', '127.0.0.1', 'zoom.us']) assert.ok(!stored.includes(secret), `${secret} is still stored`);
      // The outbox keeps only the notice still to be sent (with the address it goes to), no data.
      const outbox = JSON.stringify(await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', created.bot_id).execute());
      for (const secret of ['secret', 'ACME', 'private-key', 'Private', 'zoom.us']) assert.ok(!outbox.includes(secret), `${secret} is still in the outbox`);
      const hooks = await webhooksOf(created.bot_id);
      assert.deepEqual(hooks.map((w) => [w.event, w.bot_event, w.bot_status, w.custom_attributes]), [['data_deletion', 'data_deletion', 'Stopped', {}]]);
      const queued = await rc.database.db.selectFrom('webhook_deliveries').select('url').where('bot_id', '=', created.bot_id).executeTakeFirstOrThrow();
      assert.equal(queued.url, 'http://127.0.0.1:9/h', 'sent to the callback_url the bot had');
      const status = await rc.request('GET', `/api/v1/bots/${created.bot_id}/status`, { auth: alice.auth });
      assert.deepEqual(status.body, { bot_id: created.bot_id, status: 'Stopped', custom_attributes: {} });
      const detail = (await rc.request('GET', `/api/v1/bots/${created.bot_id}/detail`, { auth: alice.auth })).body.bot_details;
      assert.deepEqual([detail.RequestPayload, detail.MeetingLink, detail.StatusTimeline.InMeeting.status, detail.StatusTimeline.InMeeting.message], [{}, '', true, null]);
      const again = await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: alice.auth });
      assert.deepEqual([again.status, again.body.deleted_objects], [200, 0]);
      assert.equal((await webhooksOf(created.bot_id)).length, 1, 'no second data_deletion');
    });

    test('the older reference\'s GET /bots/{id}/delete_data deletes the same, answering its success: true; it is not a 404 that reads as "already gone"', async () => {
      // MeetStream's older API reference (docs.meetstream.ai/api-reference/endpoint/delete-bot-data):
      // GET /bots/{bot_id}/delete_data answers { success, message }.
      const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Older delete', join_at: iso(clock.now() + 60_000), custom_attributes: { customer: 'Initech' }, callback_url: 'http://127.0.0.1:9/h' });
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.bot_id}/delete_data`, { auth: bob.auth })).status, 404, 'another user\'s bot is unknown');
      const res = await rc.request('GET', `/api/v1/bots/${created.bot_id}/delete_data`, { auth: alice.auth });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      assert.equal(typeof res.body.message, 'string');
      assert.equal(res.body.bot_id, created.bot_id);
      assert.equal(await statusOf(alice.auth, created.bot_id), 'Cancelled');
      assert.deepEqual((await webhooksOf(created.bot_id)).map((w) => w.bot_event ?? w.event), ['bot.scheduled', 'bot.cancelled', 'data_deletion']);
      const stored = JSON.stringify(await rc.database.db.selectFrom('bots').selectAll().where('id', '=', created.bot_id).execute());
      assert.ok(!stored.includes('Initech'), 'the attributes are gone');
    });

    test('a waiting bot is cancelled, then its data deleted; it is never launched', async () => {
      const created = await createOk(alice.auth, { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Soon', join_at: iso(clock.now() + 60_000), callback_url: 'http://127.0.0.1:9/h' });
      const res = await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: alice.auth });
      assert.equal(res.status, 200);
      assert.equal(await statusOf(alice.auth, created.bot_id), 'Cancelled');
      assert.deepEqual((await webhooksOf(created.bot_id)).map((w) => w.bot_event ?? w.event), ['bot.scheduled', 'bot.cancelled', 'data_deletion']);
      clock.advance(120_000);
      await rc.dispatcher.runDue();
      assert.equal(launchesOf(created.bot_id).length, 0);
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${created.bot_id}/delete`, { auth: bob.auth })).status, 404);
    });

    test('a calendar bot\'s data can be deleted too: it leaves its event', async () => {
      const event = await rc.request('POST', '/api/v1/calendar/events', { auth: alice.auth, body: { start_time: iso(clock.now() + 7_200_000), end_time: iso(clock.now() + 9_000_000), meeting_url: `https://zoom.us/j/${zoomNumber()}` } });
      const bot = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: alice.auth, body: { deduplication_key: `cal-${randomToken(6)}`, bot_config: {} } });
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${bot.body.bot_id}/delete`, { auth: alice.auth })).status, 200);
      assert.deepEqual((await rc.request('GET', `/api/v1/calendar/events/${event.body.id}`, { auth: alice.auth })).body.bots, []);
      const again = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: alice.auth, body: { deduplication_key: `cal-${randomToken(6)}`, bot_config: {} } });
      assert.equal(again.status, 200);
    });
  });
});

describe('ad-hoc bots in real time', () => {
  test('a bot created without join_at is launched at once and its webhooks are delivered', async () => {
    const runtime = new FakeHttpReceiver();
    const receiver = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    const hooks = `${await receiver.start()}/hooks`;
    const rc = await startTestRollcall({ background: true, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '100' } });
    try {
      const user = await rc.newUser();
      const startedAt = Date.now();
      const res = await rc.request('POST', CREATE, { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Now', callback_url: hooks } });
      assert.equal(res.status, 201);
      await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === res.body.bot_id), 8000);
      const launchedAfterMs = runtime.received.find((r) => r.json?.bot_id === res.body.bot_id)!.at - startedAt;
      assert.ok(launchedAfterMs < 2000, `launched ${launchedAfterMs} ms after the request`);
      await receiver.waitFor(() => receiver.received.some((r) => r.json?.bot_id === res.body.bot_id), 8000);
      const delivered = receiver.received.filter((r) => r.json?.bot_id === res.body.bot_id).map((r) => [r.json.event, r.json.bot_event, r.json.bot_status]);
      assert.deepEqual(delivered[0], ['bot.joining', 'bot.joining', 'Joining']);
    } finally {
      await rc.close();
      await runtime.stop();
      await receiver.stop();
    }
  });
});
