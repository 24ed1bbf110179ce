// MeetStream's conventions that its clients depend on (spec sections 0 and 10, reference
// meetstream.md sections 0.1, 5b and 6): `message` in every error body, 401 for a missing key and
// 403 for an unknown one (also on unknown routes), keys derived when DEDUPLICATION_KEY_REQUIRED is
// false, cancelled bots gone from event.bots[], the Error / Recording / Leaving statuses and the
// bot.stopped envelope of terminal webhooks, and migration 008 renaming stored Failed rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { randomToken } from '../../src/lib/ids.ts';
import { createApiKey, revokeApiKey } from '../../src/services/access/api-keys.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { checkErrorBody } from '../support/openapi.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';
const SCHEDULE = '/api/v1/calendar/schedule';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomNumber(): string {
  return `8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

describe('MeetStream conventions', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  const runtime = new FakeHttpReceiver();
  let alice: { auth: string; userId: string };

  before(async () => {
    const runtimeUrl = await runtime.start();
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    alice = await rc.newUser('alice');
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
  });

  async function createEvent(auth: string, body: Record<string, unknown>): Promise<any> {
    const res = await rc.request('POST', EVENTS, { auth, body: { title: 'Meeting', ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function zoomEvent(auth: string, startInMinutes: number, url = `https://zoom.us/j/${zoomNumber()}`): Promise<any> {
    const start = clock.now() + startInMinutes * 60_000;
    return createEvent(auth, { start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: url });
  }

  async function queuedWebhooks(botId: string): Promise<{ event: string; bot_event: string; bot_status: string; status_code: number }[]> {
    const rows = await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).orderBy('id').execute();
    return rows.map((r) => JSON.parse(r.payload));
  }

  describe('error bodies', () => {
    test('every error carries message, the same text as error, whatever produced it', async () => {
      const event = await zoomEvent(alice.auth, 60);
      const first = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: 'first', bot_config: {} } });
      const answers = [
        await rc.request('GET', EVENTS, {}),
        await rc.request('GET', EVENTS, { auth: 'Token rck_unknown' }),
        await rc.request('GET', `${EVENTS}/evt_missing`, { auth: alice.auth }),
        await rc.request('POST', EVENTS, { auth: alice.auth, body: { start_time: 'tomorrow' } }),
        await rc.request('POST', EVENTS, { auth: alice.auth, body: '{"title":' }),
        await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: 'second', bot_config: {} } }),
        await rc.request('GET', `${EVENTS}/%E0%A4%A`, { auth: alice.auth }),
        await rc.request('GET', '/api/v1/no/such/route', { auth: alice.auth }),
      ];
      assert.deepEqual(answers.map((a) => a.status), [401, 403, 404, 400, 400, 409, 400, 404]);
      for (const answer of answers) {
        assert.deepEqual(checkErrorBody(answer.status, answer.body, String(answer.headers['content-type'])), [], JSON.stringify(answer.body));
        assert.equal(answer.body.message, answer.body.error);
        assert.ok(answer.body.message.length > 0);
      }
      // The 409 still names the bot at the top level.
      assert.equal(answers[5]!.body.bot_id, first.body.bot_id);
    });
  });

  describe('authentication', () => {
    test('a missing header or another scheme is 401; an unknown or revoked key is 403', async () => {
      const revoked = await createApiKey(rc.database.db, 'revoked-user', clock);
      await revokeApiKey(rc.database.db, revoked.keyId, clock);
      const cases: [Record<string, string>, number, string][] = [
        [{}, 401, 'unauthorized'],
        [{ authorization: 'Bearer abc' }, 401, 'unauthorized'],
        [{ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 401, 'unauthorized'],
        [{ authorization: 'Token' }, 401, 'unauthorized'],
        [{ authorization: 'Token rck_0000000000000000000000000000000000000000' }, 403, 'forbidden'],
        [{ authorization: `Token ${revoked.key}` }, 403, 'forbidden'],
      ];
      for (const [headers, status, code] of cases) {
        const res = await rc.request('GET', '/api/v1/calendar/scheduled_bots', { headers });
        assert.equal(`${res.status} ${res.body.code}`, `${status} ${code}`, JSON.stringify(headers));
      }
      assert.equal((await rc.request('GET', '/api/v1/calendar/scheduled_bots', { auth: alice.auth })).status, 200);
      // The scheme name is case-insensitive (RFC 9110 section 11.1).
      const key = alice.auth.slice('Token '.length);
      for (const scheme of ['token', 'TOKEN', 'ToKeN']) {
        assert.equal((await rc.request('GET', '/api/v1/calendar/scheduled_bots', { headers: { authorization: `${scheme} ${key}` } })).status, 200, scheme);
      }
    });

    test('under /api/v1 the key is checked before the route: an unknown route is 401 or 403 without a valid key, 404 with one (405 with Allow where the path takes other methods)', async () => {
      const cases = [
        ['GET', '/api/v1/nope', '404 not_found', undefined],
        ['POST', '/api/v1/bots/bot_x/fly', '404 not_found', undefined],
        ['GET', '/api/v1', '404 not_found', undefined],
        ['PUT', '/api/v1/calendar/events', '405 method_not_allowed', 'GET, HEAD, POST'],
        ['DELETE', '/api/v1/calendar/toggle-recurrence', '405 method_not_allowed', 'POST'],
        ['POST', '/api/v1/bots/bot_x/remove_bot/', '405 method_not_allowed', 'GET'],
        ['PUT', '/api/v1/calendar/events/evt_x?x=1', '405 method_not_allowed', 'DELETE, GET, HEAD, PATCH'],
        // The path as the router reads it (percent-decoded) decides: no route names leak without a key.
        ['PUT', '/%61pi/v1/calendar/events', '405 method_not_allowed', 'GET, HEAD, POST'],
      ] as const;
      for (const [method, url, answer, allow] of cases) {
        const none = await rc.request(method, url);
        assert.equal(`${none.status} ${none.body.code}`, '401 unauthorized', `${method} ${url}`);
        const unknown = await rc.request(method, url, { auth: 'Token rck_nope' });
        assert.equal(`${unknown.status} ${unknown.body.code}`, '403 forbidden', `${method} ${url}`);
        const valid = await rc.request(method, url, { auth: alice.auth });
        assert.equal(`${valid.status} ${valid.body.code}`, answer, `${method} ${url}`);
        assert.equal(valid.headers.allow, allow, `${method} ${url}`);
      }
      // Outside the API nothing needs a key; the documentation's routes are known too.
      assert.equal((await rc.request('GET', '/nope')).status, 404);
      const docs = await rc.request('POST', '/docs/json');
      assert.deepEqual([docs.status, docs.headers.allow], [405, 'GET, HEAD']);
      assert.equal((await rc.request('GET', '/healthz')).status, 200);
    });
  });

  test('the names and fields of MeetStream\'s older documentation: GET /calendar/events/list and GET /calendar/schedule list, previous in an event page, success in a reschedule answer', async () => {
    // reference/meetstream.md 5.4 (the events list's alias, {next, previous, has_more, results}),
    // 4.1 (the scheduled list's alias) and 4.3 (the reschedule answer {success: true, ...}).
    const bob = await rc.newUser('bob-older-names');
    const event = await zoomEvent(bob.auth, 180);
    const scheduled = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: bob.auth, body: { deduplication_key: 'older-names', bot_config: {} } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const window = `time_min=${encodeURIComponent(iso(NOW))}&time_max=${encodeURIComponent(iso(NOW + 86_400_000))}`;
    const listed = await rc.request('GET', `${EVENTS}?${window}`, { auth: bob.auth });
    for (const alias of [`${EVENTS}/list`, '/api/v1/calendar/get_events']) {
      const aliased = await rc.request('GET', `${alias}?${window}`, { auth: bob.auth });
      assert.equal(aliased.status, 200, JSON.stringify(aliased.body));
      assert.deepEqual(aliased.body, listed.body);
    }
    assert.deepEqual(Object.keys(listed.body).sort(), ['has_more', 'next', 'previous', 'results']);
    assert.equal(listed.body.previous, null);
    assert.deepEqual(listed.body.results.map((e: { id: string }) => e.id), [event.id]);
    const scheduledList = await rc.request('GET', '/api/v1/calendar/scheduled', { auth: bob.auth });
    const older = await rc.request('GET', '/api/v1/calendar/schedule?limit=10', { auth: bob.auth });
    assert.equal(older.status, 200, JSON.stringify(older.body));
    assert.deepEqual(older.body, scheduledList.body);
    assert.deepEqual(older.body.scheduled_bots.map((b: { bot_id: string }) => b.bot_id), [scheduled.body.bot_id]);
    const moved = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${scheduled.body.bot_id}`, { auth: bob.auth, body: { scheduled_join_time: iso(NOW + 170 * 60_000) } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.success, true);
    assert.equal(moved.body.schedule_updated, true);
  });

  test('MeetStream routes Rollcall does not serve are 501 route_not_served saying where that lives, not a 404 that MeetStream\'s SDKs read as "no such bot"; only with a valid key', async () => {
    const carol = await rc.newUser('carol-unserved');
    const event = await zoomEvent(carol.auth, 240);
    const scheduled = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: carol.auth, body: { deduplication_key: 'unserved', bot_config: {} } });
    const botId = scheduled.body.bot_id as string;
    // The calls of MeetStream's Node SDK (meetstream-ai/meetstream-node, src/resources/*.ts).
    const calls: [string, string, RegExp][] = [
      ['GET', `/api/v1/bots/${botId}/get_audio`, /kept by the bot runtime/],
      ['GET', `/api/v1/bots/${botId}/transcriptions`, /kept by the bot runtime/],
      ['GET', '/api/v1/transcript/tr_1/get_transcript', /kept by the bot runtime/],
      ['POST', `/api/v1/bots/${botId}/send_message`, /live control/],
      ['POST', `/api/v1/bots/${botId}/pause_recording`, /live control/],
      ['POST', '/api/v1/mia', /agent configurations/],
      ['GET', '/api/v1/zoom/oauth/connections', /settings of the bot runtime/],
      ['POST', '/api/v1/calendar/auto-reschedule', /toggle-recurrence/],
    ];
    for (const [method, path, reason] of calls) {
      const answer = await rc.request(method as 'GET' | 'POST', path, { auth: carol.auth, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(answer.status, 501, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, 'route_not_served');
      assert.match(answer.body.message, reason);
    }
    // As the router reads it, repeated slashes and all.
    assert.equal((await rc.request('GET', `/api/v1//bots/${botId}/get_audio`, { auth: carol.auth })).status, 501);
    // The key first, as on every route; an unknown path stays a 404.
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/get_audio`)).status, 401);
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/get_audio`, { auth: 'Token wrong-key' })).status, 403);
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/no_such_thing`, { auth: carol.auth })).status, 404);
    // The bot is still there for the routes Rollcall serves.
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/detail`, { auth: carol.auth })).status, 200);
  });

  test('a request with no body under Content-Type: application/json (one header set for every request) is answered as one without a body', async () => {
    const empty = async (method: 'DELETE' | 'POST', url: string) => {
      const res = await rc.app.inject({ method, url, headers: { authorization: alice.auth, 'content-type': 'application/json' }, payload: '' });
      return { status: res.statusCode, body: res.json() };
    };
    const scheduleOne = async (key: string) => {
      const event = await zoomEvent(alice.auth, 120);
      const res = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: key, bot_config: {} } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { eventId: event.id as string, botId: res.body.bot_id as string };
    };
    const first = await scheduleOne('empty-body-1');
    const cancelled = await empty('DELETE', `/api/v1/calendar/scheduled_bots/${first.botId}`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const second = await scheduleOne('empty-body-2');
    const unscheduled = await empty('DELETE', `${SCHEDULE}/${second.eventId}`);
    assert.equal(unscheduled.status, 200, JSON.stringify(unscheduled.body));
    assert.equal(unscheduled.body.bots_deleted, 1);
    const disabled = await empty('POST', '/api/v1/calendar/auto-schedule/disable');
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const deleted = await empty('DELETE', `/api/v1/bots/${first.botId}/delete`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    // A route that needs a body still says so, naming the body (Fastify validates a missing
    // body as null: not said as a null the client sent).
    const refused = await empty('POST', '/api/v1/bots/create_bot');
    assert.equal(`${refused.status} ${refused.body.code} ${refused.body.details?.field}`, '400 validation_error body', JSON.stringify(refused.body));
    assert.equal(refused.body.message, 'body: is required (a JSON object)');
    const none = await rc.app.inject({ method: 'POST', url: '/api/v1/bots/create_bot', headers: { authorization: alice.auth } });
    assert.equal(none.json().message, 'body: is required (a JSON object)', none.body);
  });

  test('an empty body under curl\'s form type (`curl -X POST -d \'\'`) is answered as no body; a form with fields is still refused', async () => {
    // curl's -d (--data) labels what it sends application/x-www-form-urlencoded, an empty string
    // too: the usual way to POST to a route that takes no body, such as MeetStream's disconnect
    // ("Request Body: None required") or auto-schedule/disable.
    const curlEmpty = async (method: 'DELETE' | 'POST', url: string) => {
      const res = await rc.app.inject({ method, url, headers: { authorization: alice.auth, 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }, payload: '' });
      return { status: res.statusCode, body: res.json() };
    };
    const disabled = await curlEmpty('POST', '/api/v1/calendar/auto-schedule/disable');
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.auto_schedule_enabled, false);
    const disconnect = await curlEmpty('POST', '/api/v1/calendar/disconnect');
    assert.equal(`${disconnect.status} ${disconnect.body.code}`, '400 calendar_not_connected', JSON.stringify(disconnect.body));
    const event = await zoomEvent(alice.auth, 120);
    const scheduled = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: 'curl-empty', bot_config: {} } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const cancelled = await curlEmpty('DELETE', `/api/v1/calendar/scheduled_bots/${scheduled.body.bot_id}`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    // A route that needs a body names it, as for an empty JSON body.
    const refused = await curlEmpty('POST', `${SCHEDULE}/${event.id}`);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.message, /body/);
    // Fields sent as a form are not read as JSON: 415, whatever the route.
    for (const [method, url, payload] of [['POST', '/api/v1/calendar/disconnect', 'provider=google'], ['POST', '/api/v1/calendar/toggle-recurrence', `event_id=${event.id}&recurring_enabled=true`]] as const) {
      const res = await rc.app.inject({ method, url, headers: { authorization: alice.auth, 'content-type': 'application/x-www-form-urlencoded' }, payload });
      assert.equal(`${res.statusCode} ${res.json().code}`, '415 unsupported_media_type', url);
    }
  });

  test('auto-schedule/enable without default_bot_config (MeetStream\'s SDKs send {} by default) turns it on; a config left out is the stored one', async () => {
    // SetupCronRequest in MeetStream's OpenAPI document lists default_bot_config as optional, and
    // the official SDKs' enable_auto_schedule() / enableAutoSchedule() send {} when given nothing.
    const user = await rc.newUser('auto-sdk');
    // Never enabled: the settings read {} as their config, as disable's answer for the same user does.
    const never = await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: user.auth });
    assert.equal(never.status, 200, JSON.stringify(never.body));
    assert.deepEqual([never.body.auto_schedule_enabled, never.body.default_bot_config], [false, {}]);
    const bare = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: {} });
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    assert.equal(bare.body.auto_schedule_enabled, true);
    assert.deepEqual(bare.body.default_bot_config, {});
    const configured = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Notes', bot_message: 'hello' } } });
    assert.equal(configured.status, 200, JSON.stringify(configured.body));
    assert.equal((await rc.request('POST', '/api/v1/calendar/auto-schedule/disable', { auth: user.auth })).status, 200);
    // On again with nothing (an empty JSON body, or none): the stored configuration comes back.
    for (const send of [() => rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: {} }), () => rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth })]) {
      const again = await send();
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.auto_schedule_enabled, true);
      assert.equal(again.body.default_bot_config.bot_name, 'Notes');
      assert.equal(again.body.default_bot_config.bot_message, 'hello');
    }
    const settings = await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: user.auth });
    assert.equal(settings.body.auto_schedule_enabled, true);
    // A config given but of the wrong type is still refused, naming it.
    const wrong = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: 'Notes' } });
    assert.equal(`${wrong.status} ${wrong.body.details?.field}`, '400 default_bot_config', JSON.stringify(wrong.body));
  });

  test('an empty cursor (a client paging with cursor=${next ?? ""}), or one that reads null or undefined (cursor=${next}, URLSearchParams of a missing cursor), asks for the first page on every listing that pages; a cursor not issued is still refused', async () => {
    const user = await rc.newUser('empty-cursor');
    const event = await zoomEvent(user.auth, 90);
    const booked = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: {} } });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    for (const path of [`${EVENTS}?time_min=${iso(NOW)}&limit=5`, '/api/v1/calendar/scheduled?limit=5', '/api/v1/bots?limit=5', '/api/v1/calendar/events/changes?limit=5', '/api/v1/bots/ended?limit=5', '/api/v1/bots/upcoming?limit=5', '/api/v1/webhooks/deliveries?limit=5']) {
      const first = await rc.request('GET', path, { auth: user.auth });
      assert.equal(first.status, 200, `${path}: ${JSON.stringify(first.body)}`);
      for (const unset of ['', 'null', 'undefined']) {
        const asked = await rc.request('GET', `${path}&cursor=${unset}`, { auth: user.auth });
        assert.equal(asked.status, 200, `${path} cursor=${unset}: ${JSON.stringify(asked.body)}`);
      }
      for (const cased of ['NULL', 'None']) {
        const refused = await rc.request('GET', `${path}&cursor=${cased}`, { auth: user.auth });
        assert.equal(`${refused.status} ${refused.body.code}`, '400 invalid_cursor', `${path} cursor=${cased}`);
      }
      const refused = await rc.request('GET', `${path}&cursor=nope`, { auth: user.auth });
      assert.equal(`${refused.status} ${refused.body.code}`, '400 invalid_cursor', path);
    }
    const bots = await rc.request('GET', '/api/v1/calendar/scheduled?limit=5&cursor=', { auth: user.auth });
    assert.ok(JSON.stringify(bots.body).includes(booked.body.bot_id), JSON.stringify(bots.body));
  });

  describe('null for an optional field is the field left out', () => {
    // JavaScript clients write `field: null` for "not set" (a form's empty input, a generated
    // client's optional property), and so does a Python caller's None: MeetStream's Python client
    // drops None from query parameters only and sends a JSON body as given (meetstream-ai/
    // meetstream-python src/meetstream/_client.py, request()). Null in an optional field reads as
    // the field left out, defaults included. A required field given null is still a 400 naming it,
    // and so is a null where leaving the field out would mean more than a null says.
    test('POST /calendar/schedule/{event_id}: every optional field, top level and in bot_config, as null', async () => {
      const user = await rc.newUser('nulls-schedule');
      const event = await zoomEvent(user.auth, 60);
      const res = await rc.request('POST', `${SCHEDULE}/${event.id}`, {
        auth: user.auth,
        body: {
          deduplication_key: `k-${randomToken(6)}`,
          occurrence_date: null, schedule_all_occurrences: null, occurrence_limit: null, recurring_event: null,
          bot_config: {
            bot_name: null, bot_message: null, audio_required: null, video_required: null, meeting_url: null, join_at: null,
            transcription: null, callback_url: null, recording_config: null, custom_attributes: null, provider_settings: null,
            deduplication_key: null, automatic_leave: { waiting_room_timeout: null, everyone_left_timeout: 120, bot_detection: null },
          },
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.scheduled_time, iso(Date.parse(event.start_time) - 3 * 60_000));
      assert.equal(res.body.bot_config.audio_required, true);
      assert.equal(res.body.bot_config.video_required, false);
      assert.equal(res.body.bot_config.meeting_url ?? event.meeting_url, event.meeting_url);
      assert.deepEqual(res.body.bot_config.automatic_leave, { everyone_left_timeout: 120 });
      for (const key of ['bot_message', 'join_at', 'callback_url', 'transcription', 'recording_config']) assert.equal(key in res.body.bot_config, false, key);
      const bot = await rc.request('GET', `/api/v1/bots/${res.body.bot_id}`, { auth: user.auth });
      assert.equal(bot.body.meeting_url, event.meeting_url);
    });

    test('POST /calendar/schedule/{event_id}: a required field given null is 400 naming it', async () => {
      const user = await rc.newUser('nulls-required');
      const event = await zoomEvent(user.auth, 60);
      const noConfig = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: null } });
      assert.equal(`${noConfig.status} ${noConfig.body.code} ${noConfig.body.details?.field}`, '400 invalid_bot_config bot_config', JSON.stringify(noConfig.body));
      const noKey = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: null, bot_config: { deduplication_key: null } } });
      assert.equal(`${noKey.status} ${noKey.body.code}`, '400 invalid_deduplication_key', JSON.stringify(noKey.body));
      assert.match(noKey.body.message, /deduplication_key/);
      const wrongType = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: { audio_required: 'yes' } } });
      assert.equal(`${wrongType.status} ${wrongType.body.code} ${wrongType.body.details?.field}`, '400 invalid_bot_config bot_config.audio_required', JSON.stringify(wrongType.body));
    });

    test('POST /bots/create_bot: optional fields as null are left out (zoom.obf_url: null beside zak_url is not "both"; bot_name: null is the default name); meeting_link null is 400, and so is join_at null, which would read as "now"', async () => {
      const user = await rc.newUser('nulls-create-bot');
      const res = await rc.request('POST', '/api/v1/bots/create_bot', {
        auth: user.auth,
        body: {
          meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: null,
          deduplication_key: null, callback_url: null, custom_attributes: null, video_required: null, bot_message: null,
          bot_image_url: null, audio_separate_streams: null, video_separate_streams: null, automatic_leave: null, recording_config: null,
          socket_connection_url: null, live_audio_required: null, live_video_required: null, live_transcription_required: null,
          provider_settings: null, workflow_config_ids: null, zoom: { zak_url: 'https://zak.example.com/mint', obf_url: null },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const detail = await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/detail`, { auth: user.auth });
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.deepEqual(detail.body.bot_details.RequestPayload.zoom, { zak_url: 'https://zak.example.com/mint' });
      assert.equal(detail.body.bot_details.RequestPayload.video_required, true);
      assert.equal(detail.body.bot_details.BotUsername, 'Rollcall Notetaker');
      // A refused null says so, and what to do instead (not "must be of type string").
      for (const [field, code, message] of [
        ['meeting_link', 'invalid_meeting_url', 'meeting_link: may not be null'],
        // A join time the client failed to compute, read as "now", would send the bot hours early.
        ['join_at', 'invalid_join_at', 'join_at: may not be null; leave it out to join now'],
      ] as const) {
        const refused = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', [field]: null } });
        assert.equal(`${refused.status} ${refused.body.code} ${refused.body.details?.field}`, `400 ${code} ${field}`, JSON.stringify(refused.body));
        assert.equal(refused.body.message, message);
        assert.deepEqual(checkErrorBody(refused.status, refused.body), [], JSON.stringify(refused.body));
      }
      assert.equal((await rc.request('GET', '/api/v1/bots', { auth: user.auth })).body.bots.length, 1, 'only the first request made a bot');
    });

    test('POST /bots/create_bot without bot_name (MeetStream\'s SDKs type it optional) names the bot as a calendar bot without one is named', async () => {
      // CreateBotParams.bot_name is optional in meetstream-ai/meetstream-node src/types.ts, and
      // Pipedream's MeetStream "Create Bot" action leaves it optional (pipedream.com/apps/meetstream-ai/actions/create-bot).
      const user = await rc.newUser('no-bot-name');
      const res = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const detail = await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/detail`, { auth: user.auth });
      assert.equal(detail.body.bot_details.BotUsername, 'Rollcall Notetaker');
      assert.equal(detail.body.bot_details.RequestPayload.bot_name, 'Rollcall Notetaker');
      const listed = (await rc.request('GET', '/api/v1/bots', { auth: user.auth })).body.bots;
      assert.equal(listed[0].bot_name, 'Rollcall Notetaker');
    });

    test('POST /bots/create_bot: a stream\'s websocket_url given null is refused, naming it, not stored as an empty object that turns the stream on with no address', async () => {
      // At MeetStream live_audio_required, live_video_required and socket_connection_url are
      // { websocket_url } objects whose presence turns the stream on (CreateBotRequest,
      // docs.meetstream.ai/api-reference/endpoint/post-create-bot).
      const user = await rc.newUser('nulls-streams');
      for (const field of ['live_audio_required', 'live_video_required', 'socket_connection_url']) {
        const res = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', [field]: { websocket_url: null } } });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, `400 invalid_bot_config ${field}.websocket_url`, JSON.stringify(res.body));
      }
      assert.deepEqual((await rc.request('GET', '/api/v1/bots', { auth: user.auth })).body.bots, [], 'no bot was created');
      // The stream itself given null is the field left out, as before.
      const left = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', live_audio_required: null } });
      assert.equal(left.status, 201, JSON.stringify(left.body));
      const detail = await rc.request('GET', `/api/v1/bots/${left.body.bot_id}/detail`, { auth: user.auth });
      assert.equal('live_audio_required' in detail.body.bot_details.RequestPayload, false, JSON.stringify(detail.body.bot_details.RequestPayload));
    });

    test('a live stream object given empty ({}, as a sample generated from the schema sends it) is the stream left out: on create_bot, in a calendar bot_config and in auto-schedule\'s default; not stored, not sent to the runtime', async () => {
      // Its presence turns the stream on at MeetStream (CreateBotParams in meetstream-ai/
      // meetstream-node src/types.ts: { websocket_url } or, for the live transcript, { webhook_url });
      // {} names no address to stream to.
      const user = await rc.newUser('empty-streams');
      const empty = { live_audio_required: {}, live_video_required: {}, socket_connection_url: {}, live_transcription_required: {} };
      const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', ...empty } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const event = await zoomEvent(user.auth, 1);
      const booked = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: { ...empty } } });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      for (const botId of [created.body.bot_id, booked.body.bot_id]) {
        const payload = (await rc.request('GET', `/api/v1/bots/${botId}/detail`, { auth: user.auth })).body.bot_details.RequestPayload;
        for (const field of Object.keys(empty)) assert.equal(field in payload, false, `${botId} ${field}: ${JSON.stringify(payload)}`);
      }
      for (const field of Object.keys(empty)) assert.equal(field in booked.body.bot_config, false, field);
      // Both are due now: what the runtime receives has no stream either.
      const seen = runtime.received.length;
      await rc.dispatcher.runDue();
      const launches = runtime.received.slice(seen).map((r) => r.json).filter((j) => j.action === 'launch' && [created.body.bot_id, booked.body.bot_id].includes(j.bot_id));
      assert.equal(launches.length, 2, JSON.stringify(runtime.received.slice(seen).map((r) => r.json)));
      for (const launch of launches) for (const field of Object.keys(empty)) assert.equal(field in launch.bot_config, false, `${field}: ${JSON.stringify(launch.bot_config)}`);
      const auto = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto', ...empty } } });
      assert.equal(auto.status, 200, JSON.stringify(auto.body));
      assert.deepEqual(auto.body.default_bot_config, { bot_name: 'Auto', audio_required: true, video_required: false });
      // With its address, the stream is kept as given.
      const kept = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', live_audio_required: { websocket_url: 'wss://audio.example.com/in' } } });
      const keptPayload = (await rc.request('GET', `/api/v1/bots/${kept.body.bot_id}/detail`, { auth: user.auth })).body.bot_details.RequestPayload;
      assert.deepEqual(keptPayload.live_audio_required, { websocket_url: 'wss://audio.example.com/in' });
    });

    test('live_transcription_required is { webhook_url } (or the older { websocket_url }): an address given null, or an object naming neither, is 400 naming the field, on create_bot and in a calendar bot_config', async () => {
      // CreateBotParams.live_transcription_required is { webhook_url: string } in meetstream-ai/
      // meetstream-node src/types.ts; the older create_bot reference also took websocket_url.
      const user = await rc.newUser('live-transcript');
      const event = await zoomEvent(user.auth, 60);
      const cases: [unknown, string, RegExp][] = [
        [{ webhook_url: null }, 'live_transcription_required.webhook_url', /^live_transcription_required\.webhook_url: may not be null; leave it out$/],
        [{ websocket_url: null }, 'live_transcription_required.websocket_url', /^live_transcription_required\.websocket_url: may not be null/],
        [{ webhook_url: 42 }, 'live_transcription_required.webhook_url', /must be of type string/],
        [{ language: 'en' }, 'live_transcription_required', /^live_transcription_required must give webhook_url \(or websocket_url\)/],
      ];
      for (const [value, field, message] of cases) {
        const adHoc = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, live_transcription_required: value } });
        assert.equal(`${adHoc.status} ${adHoc.body.code} ${adHoc.body.details?.field}`, `400 invalid_bot_config ${field}`, `${JSON.stringify(value)}: ${JSON.stringify(adHoc.body)}`);
        assert.match(adHoc.body.message, message);
        const calendar = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: { live_transcription_required: value } } });
        assert.equal(`${calendar.status} ${calendar.body.code} ${calendar.body.details?.field}`, `400 invalid_bot_config bot_config.${field}`, `${JSON.stringify(value)}: ${JSON.stringify(calendar.body)}`);
      }
      assert.deepEqual((await rc.request('GET', '/api/v1/bots', { auth: user.auth })).body.bots, [], 'no bot was created');
      const given = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, live_transcription_required: { webhook_url: 'https://captions.example.com/live', mode: 'sentence' } } });
      assert.equal(given.status, 201, JSON.stringify(given.body));
      const payload = (await rc.request('GET', `/api/v1/bots/${given.body.bot_id}/detail`, { auth: user.auth })).body.bot_details.RequestPayload;
      assert.deepEqual(payload.live_transcription_required, { webhook_url: 'https://captions.example.com/live', mode: 'sentence' });
    });

    test('custom_attributes: an attribute given null is not set on create_bot; where a request may merge into an existing bot (schedule, auto-schedule, PATCH) it is refused, naming the attribute', async () => {
      // MeetStream's CreateBotRequest types custom_attributes as an object of any values, and a
      // JavaScript client writes { customer_id: user?.id ?? null }. Stored attributes are text.
      const user = await rc.newUser('nulls-attributes');
      const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${zoomNumber()}`, bot_name: 'Notes', custom_attributes: { customer_id: null, team: 'a' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual((await rc.request('GET', `/api/v1/bots/${created.body.bot_id}/status`, { auth: user.auth })).body.custom_attributes, { team: 'a' });
      const event = await zoomEvent(user.auth, 60);
      const key = `k-${randomToken(6)}`;
      const booked = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { custom_attributes: { team: 'b' } } } });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      // Scheduled again under the same key, the attributes are merged into the bot's: null would
      // read as "remove team" and keep "b" unsaid. Refused, and the bot is left as it was.
      const again = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: key, bot_config: { custom_attributes: { team: null, other: 'c' } } } });
      assert.equal(`${again.status} ${again.body.code} ${again.body.details?.field}`, '400 invalid_bot_config bot_config.custom_attributes.team', JSON.stringify(again.body));
      const attributes = (await rc.request('GET', `/api/v1/bots/${booked.body.bot_id}/status`, { auth: user.auth })).body.custom_attributes;
      assert.equal(attributes.team, 'b');
      assert.equal('other' in attributes, false);
      const auto = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { custom_attributes: { customer_id: null } } } });
      assert.equal(`${auto.status} ${auto.body.code} ${auto.body.details?.field}`, '400 invalid_bot_config default_bot_config.custom_attributes.customer_id', JSON.stringify(auto.body));
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled/${booked.body.bot_id}`, { auth: user.auth, body: { custom_attributes: { team: null } } });
      assert.equal(`${patched.status} ${patched.body.code} ${patched.body.details?.field}`, '400 validation_error custom_attributes.team', JSON.stringify(patched.body));
    });

    test('scheduled-bot PATCH, unschedule, auto-schedule and disconnect: null fields change nothing', async () => {
      const user = await rc.newUser('nulls-manage');
      const event = await zoomEvent(user.auth, 120);
      const booked = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: { bot_name: 'Kept', custom_attributes: { team: 'a' } } } });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const moved = iso(Date.parse(event.start_time) - 10 * 60_000);
      const patched = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${booked.body.bot_id}`, {
        auth: user.auth, body: { scheduled_join_time: moved, bot_username: null, custom_attributes: null, transcription_enabled: null, recording_enabled: null, screenshot_enabled: null },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.updated_fields, ['scheduled_join_time']);
      const status = await rc.request('GET', `/api/v1/bots/${booked.body.bot_id}/status`, { auth: user.auth });
      assert.equal(status.body.custom_attributes.team, 'a');
      const listed = await rc.request('GET', '/api/v1/calendar/scheduled', { auth: user.auth });
      assert.equal(listed.body.scheduled_bots[0].bot_username, 'Kept');

      const unscheduled = await rc.request('DELETE', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { cancel_all_occurrences: null } });
      assert.equal(unscheduled.status, 200, JSON.stringify(unscheduled.body));
      assert.equal(unscheduled.body.schedules_cancelled, 1);
      assert.equal(unscheduled.body.from_date, null);

      const enabled = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto', bot_message: null, automatic_leave: null }, rules: null } });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.deepEqual(enabled.body.default_bot_config, { bot_name: 'Auto', audio_required: true, video_required: false });
      const again = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: null, rules: { recurring: 'exclude' } } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.default_bot_config.bot_name, 'Auto', 'null keeps the stored configuration, as leaving it out does');
      assert.equal(`${again.body.rules.organizer} ${again.body.rules.recurring}`, 'anyone exclude');
      const kept = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { rules: null } });
      assert.equal(`${kept.status} ${kept.body.rules?.recurring}`, '200 exclude', 'rules: null keeps the stored rules, as leaving them out does');
    });

    test('auto-schedule default_bot_config keeps bot_config\'s defaults (audio_required true, video_required false), also for a field given null; no default in the served document sits where it is not applied', async () => {
      const user = await rc.newUser('nulls-defaults');
      const expected = { bot_name: 'Auto', audio_required: true, video_required: false };
      const enabled = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto' } } });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.deepEqual(enabled.body.default_bot_config, expected);
      assert.deepEqual((await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: user.auth })).body.default_bot_config, expected);
      const nulls = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto', audio_required: null, video_required: null } } });
      assert.deepEqual(nulls.body.default_bot_config, expected, 'null is the default, as the document says');
      const preview = await rc.request('POST', '/api/v1/calendar/auto-schedule/preview', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto', audio_required: null } } });
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      // Ajv fills no default inside a union (anyOf / oneOf), at any depth: a default the served
      // document shows there is one the validator never applies, unless the schema holding the
      // union repeats it (OptionalField lifts a field's own default so).
      const doc = (await rc.request('GET', '/openapi.json')).body;
      const lost: string[] = [];
      const walk = (node: unknown, path: string, inUnion: boolean, liftedDefault: unknown): void => {
        if (node === null || typeof node !== 'object') return;
        if (Array.isArray(node)) { node.forEach((item, i) => walk(item, `${path}/${i}`, inUnion, liftedDefault)); return; }
        const schema = node as Record<string, unknown>;
        if (inUnion && 'default' in schema && !(liftedDefault !== undefined && schema.default === liftedDefault)) lost.push(path);
        for (const [key, value] of Object.entries(schema)) {
          if (key === 'anyOf' || key === 'oneOf') {
            (value as unknown[]).forEach((branch, i) => walk(branch, `${path}/${key}/${i}`, true, inUnion ? undefined : schema.default));
          } else {
            walk(value, `${path}/${key}`, inUnion, undefined);
          }
        }
      };
      walk(doc.paths, '', false, undefined);
      assert.deepEqual(lost, []);
    });

    test('unschedule of a one-off event with from_date: null unschedules it, with cancel_all_occurrences false (the values MeetStream\'s own answer shows for one) or true (which changes nothing there)', async () => {
      // MeetStream's unschedule answer for a single event echoes cancel_all_occurrences: false and
      // from_date: null (reference meetstream.md, section 1.6); a client sends them back as given.
      // A one-off event has no other occurrence, so neither the null nor cancel_all_occurrences widens it.
      const user = await rc.newUser('nulls-one-off');
      for (const cancelAll of [false, true]) {
        const event = await zoomEvent(user.auth, 120);
        const booked = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: {} } });
        assert.equal(booked.status, 200, JSON.stringify(booked.body));
        const res = await rc.request('DELETE', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { cancel_all_occurrences: cancelAll, from_date: null } });
        assert.equal(res.status, 200, `cancel_all_occurrences: ${cancelAll}: ${JSON.stringify(res.body)}`);
        assert.deepEqual([res.body.schedules_cancelled, res.body.cancelled_bots, res.body.from_date, res.body.is_recurring_series], [1, [booked.body.bot_id], null, false]);
      }
    });

    test('a null that would widen what a request reaches is refused, naming the field: unschedule\'s from_date, disconnect\'s scope, auto-schedule rules, connect\'s calendar_ids', async () => {
      // Each of these, left out, reaches further than any value does (every occurrence of the
      // series, every connection, every meeting, every calendar); a null, often a value the
      // client failed to compute, is not read as left out.
      const user = await rc.newUser('nulls-widen');
      const start = clock.now() + 3 * 3_600_000;
      const series = await createEvent(user.auth, { start_time: iso(start), end_time: iso(start + 1_800_000), meeting_url: `https://zoom.us/j/${zoomNumber()}`, timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] });
      const booked = await rc.request('POST', `${SCHEDULE}/${series.id}`, { auth: user.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: {}, schedule_all_occurrences: true } });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      // Said as a null, not as the types the field could have been, and never "leave it out"
      // alone: left out, each of these reaches further (docs/behaviour.md, "null never widens").
      const calendarIds = 'calendar_ids: may not be null; give "all" or a list of calendar ids; leave it out only to sync every calendar (on a first connect) or keep the earlier choice (on a reconnect)';
      const cases: [string, string, unknown, string, string, string][] = [
        ['DELETE', `${SCHEDULE}/${series.id}`, { from_date: null }, 'invalid_time', 'from_date', 'from_date: may not be null on a recurring series; leave it out to unschedule every occurrence, or give the first date to unschedule'],
        ['POST', '/api/v1/calendar/disconnect', { provider: null }, 'validation_error', 'provider', 'provider: may not be null; name the provider; leave it out only to take the query\'s provider, or the only connection'],
        ['POST', '/api/v1/calendar/disconnect', { provider: 'ics', account_id: null }, 'validation_error', 'account_id', 'account_id: may not be null; name the account; leave it out only to disconnect every account of the provider'],
        ['POST', '/api/v1/calendar/disconnect', { purge_events: null }, 'validation_error', 'purge_events', 'purge_events: may not be null; give true or false; leave it out only to delete the connection\'s events (true)'],
        ['POST', '/api/v1/calendar/auto-schedule/enable', { rules: { organizer: null } }, 'validation_error', 'rules.organizer', 'rules.organizer: may not be null; give anyone or me; leave it out only for anyone (meetings of every organizer)'],
        ['POST', '/api/v1/calendar/auto-schedule/enable', { rules: { response: null } }, 'validation_error', 'rules.response', 'rules.response: may not be null; give any or accepted; leave it out only for any (invitations not accepted too)'],
        ['POST', '/api/v1/calendar/auto-schedule/enable', { rules: { participants: null } }, 'validation_error', 'rules.participants', 'rules.participants: may not be null; give any, external or internal; leave it out only for any (meetings with or without outside guests)'],
        ['POST', '/api/v1/calendar/auto-schedule/preview', { rules: { recurring: null } }, 'validation_error', 'rules.recurring', 'rules.recurring: may not be null; give include or exclude; leave it out only for include (every occurrence of a series)'],
        ['POST', '/api/v1/calendar/create_calendar', { google_client_id: 'a', google_client_secret: 'b', google_refresh_token: 'c', calendar_ids: null }, 'validation_error', 'calendar_ids', calendarIds],
        ['POST', '/api/v1/calendar/create_outlook_calendar', { microsoft_client_id: 'a', microsoft_client_secret: 'b', microsoft_refresh_token: 'c', calendar_ids: null }, 'validation_error', 'calendar_ids', calendarIds],
      ];
      for (const [method, url, body, code, field, message] of cases) {
        const res = await rc.request(method, url, { auth: user.auth, body });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, `400 ${code} ${field}`, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.message, message);
      }
      // An occurrence of the series, or cancel_all_occurrences beside it: refused too, saying what
      // leaving it out does there (the occurrence alone; with cancel_all_occurrences, every one).
      const occurrenceId = `${series.id}_${iso(start).replace(/[-:]|\.\d{3}/g, '')}`;
      for (const [body, message] of [
        [{ from_date: null, cancel_all_occurrences: false }, 'from_date: may not be null on an occurrence of a series; leave it out to unschedule this occurrence alone, or give a date to unschedule the series from then on'],
        [{ from_date: null }, 'from_date: may not be null on an occurrence of a series; leave it out to unschedule this occurrence alone, or give a date to unschedule the series from then on'],
        [{ from_date: null, cancel_all_occurrences: true }, 'from_date: may not be null with cancel_all_occurrences; leave it out to unschedule every occurrence, or give the first date to unschedule'],
      ] as const) {
        const res = await rc.request('DELETE', `${SCHEDULE}/${occurrenceId}`, { auth: user.auth, body });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, '400 invalid_time from_date', `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.message, message);
      }
      // Nothing was unscheduled.
      const bots = await rc.request('GET', '/api/v1/calendar/scheduled', { auth: user.auth });
      assert.equal(bots.body.scheduled_bots.length, booked.body.occurrences_scheduled, JSON.stringify(booked.body));
      // What the occurrence's message says: left out, that occurrence alone is unscheduled.
      const leftOut = await rc.request('DELETE', `${SCHEDULE}/${occurrenceId}`, { auth: user.auth, body: {} });
      assert.equal(leftOut.body.schedules_cancelled, 1, JSON.stringify(leftOut.body));
    });
  });

  describe('event.bots[]', () => {
    test('lists the bots that are not Cancelled; a cancelled bot stays readable by id', async () => {
      const event = await zoomEvent(alice.auth, 90);
      const first = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: {} } });
      assert.deepEqual((await rc.request('GET', `${EVENTS}/${event.id}`, { auth: alice.auth })).body.bots.map((b: any) => b.bot_id), [first.body.bot_id]);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${first.body.bot_id}`, { auth: alice.auth })).status, 200);
      const view = await rc.request('GET', `${EVENTS}/${event.id}`, { auth: alice.auth });
      assert.deepEqual(view.body.bots, []);
      const listed = await rc.request('GET', `${EVENTS}?time_min=${iso(NOW)}&limit=100`, { auth: alice.auth });
      assert.deepEqual(listed.body.results.find((e: any) => e.id === event.id).bots, []);
      assert.equal((await rc.request('GET', `/api/v1/bots/${first.body.bot_id}/status`, { auth: alice.auth })).body.status, 'Cancelled');
      // So a client that picks "events without a bot" can schedule it again.
      const again = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: `k-${randomToken(6)}`, bot_config: {} } });
      assert.equal(again.status, 200);
      assert.deepEqual((await rc.request('GET', `${EVENTS}/${event.id}`, { auth: alice.auth })).body.bots.map((b: any) => [b.bot_id, b.status]), [[again.body.bot_id, 'Scheduled']]);
    });
  });

  describe('statuses and webhooks', () => {
    async function launchedBot(callbackUrl = 'http://127.0.0.1:9/hooks'): Promise<string> {
      const event = await zoomEvent(alice.auth, 1);
      const res = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: `k-${randomToken(8)}`, bot_config: { callback_url: callbackUrl } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await rc.dispatcher.runDue();
      assert.equal((await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/status`, { auth: alice.auth })).body.status, 'Joining');
      return res.body.bot_id;
    }

    async function report(botId: string, status: string): Promise<{ status: number; body: any }> {
      return rc.request('POST', `/api/v1/bots/${botId}/status`, { auth: alice.auth, body: { status } });
    }

    test('a runtime reports Recording and Leaving; progress webhooks have event equal to bot_event', async () => {
      const botId = await launchedBot();
      for (const status of ['InMeeting', 'Recording', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'Done']) {
        const res = await report(botId, status);
        assert.equal(res.status, 200, `${status}: ${JSON.stringify(res.body)}`);
      }
      const sent = (await queuedWebhooks(botId)).map((w) => [w.event, w.bot_event, w.bot_status, w.status_code]);
      assert.deepEqual(sent, [
        ['bot.scheduled', 'bot.scheduled', 'Scheduled', 200],
        ['bot.joining', 'bot.joining', 'Joining', 200],
        ['bot.inmeeting', 'bot.inmeeting', 'InMeeting', 200],
        ['bot.recording', 'bot.recording', 'Recording', 200],
        ['bot.inmeeting', 'bot.inmeeting', 'InMeeting', 200],
        ['bot.recording', 'bot.recording', 'Recording', 200],
        ['bot.leaving', 'bot.leaving', 'Leaving', 200],
        ['bot.stopped', 'bot.stopped', 'Stopped', 200],
        ['bot.done', 'bot.done', 'Done', 200],
      ]);
      const detail = await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth });
      assert.deepEqual(detail.body.status_timeline.map((t: any) => t.status), ['Scheduled', 'Joining', 'InMeeting', 'Recording', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'Done']);
    });

    test('a bot in Recording or Leaving still holds its key and its event: it is live', async () => {
      const botId = await launchedBot();
      assert.equal((await report(botId, 'Recording')).status, 200);
      const bot = await rc.database.db.selectFrom('bots').selectAll().where('id', '=', botId).executeTakeFirstOrThrow();
      const again = await rc.request('POST', `${SCHEDULE}/${(await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.events[0].event_id}`, { auth: alice.auth, body: { deduplication_key: bot.deduplication_key, bot_config: {} } });
      assert.equal(again.status, 200);
      assert.equal(again.body.bot_id, botId, 'the same key finds the recording bot, no second bot');
      assert.equal((await report(botId, 'Leaving')).status, 200);
      const links = await rc.database.db.selectFrom('bot_events').select('is_live').where('bot_id', '=', botId).execute();
      assert.deepEqual(links.map((l) => l.is_live), [1]);
      // After Leaving only an end may follow.
      assert.equal((await report(botId, 'Recording')).body.code, 'invalid_status_transition');
    });

    test('another ending after an ending (Done after Error, Error after Done) is acknowledged with already_ended; the first stands and nothing is sent', async () => {
      const botId = await launchedBot();
      assert.equal((await report(botId, 'Error')).status, 200);
      const sent = async () => (await rc.database.db.selectFrom('webhook_deliveries').select('id').where('bot_id', '=', botId).execute()).length;
      const before = await sent();
      for (const status of ['Done', 'Stopped', 'NotAllowed']) {
        const answer = await report(botId, status);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.deepEqual(answer.body, { bot_id: botId, status: 'Error', previous_status: 'Error', changed: false, already_ended: true });
      }
      assert.equal(await sent(), before);
      // Nothing changes, but the bot's log keeps each one.
      const noted = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.decisions.filter((d: { kind: string }) => d.kind === 'later_ending').map((d: { reason: string }) => d.reason);
      assert.deepEqual(noted, ['Done', 'Stopped', 'NotAllowed'].map((s) => `The runtime reported ${s} after the bot had ended as Error: the first ending stands`));
      assert.equal((await report(botId, 'InMeeting')).body.code, 'invalid_status_transition', 'a live status after an ending stays refused');
    });

    test('every end of a bot\'s time in the meeting is sent as event bot.stopped with the specific bot_event', async () => {
      const expected: Record<string, [string, string, number]> = {
        Stopped: ['bot.stopped', 'bot.stopped', 200],
        NotAllowed: ['bot.stopped', 'bot.notallowed', 500],
        Denied: ['bot.stopped', 'bot.denied', 500],
        Error: ['bot.stopped', 'bot.failed', 500],
      };
      for (const [status, [event, botEvent, code]] of Object.entries(expected)) {
        const botId = await launchedBot();
        assert.equal((await report(botId, status)).status, 200, status);
        const last = (await queuedWebhooks(botId)).at(-1)!;
        assert.deepEqual([last.event, last.bot_event, last.bot_status, last.status_code], [event, botEvent, status, code], status);
      }
    });

    test('a bot the host removed: Stopped with kicked: true is sent as bot.stopped / bot.kicked; kicked with any other status is 400 naming it', async () => {
      const botId = await launchedBot();
      assert.equal((await report(botId, 'InMeeting')).status, 200);
      for (const status of ['InMeeting', 'Done', 'Error']) {
        const refused = await rc.request('POST', `/api/v1/bots/${botId}/status`, { auth: alice.auth, body: { status, kicked: true } });
        assert.equal(refused.status, 400, status);
        assert.equal(refused.body.code, 'validation_error');
        assert.match(refused.body.message, /kicked/);
      }
      const notBoolean = await rc.request('POST', `/api/v1/bots/${botId}/status`, { auth: alice.auth, body: { status: 'Stopped', kicked: 'yes' } });
      assert.equal(notBoolean.status, 400);
      assert.match(notBoolean.body.message, /kicked/);
      assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth: alice.auth })).body.status, 'InMeeting', 'a refused report changes nothing');
      const res = await rc.request('POST', `/api/v1/bots/${botId}/status`, { auth: alice.auth, body: { status: 'Stopped', kicked: true } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const last = (await queuedWebhooks(botId)).at(-1)!;
      assert.deepEqual([last.event, last.bot_event, last.bot_status, last.status_code], ['bot.stopped', 'bot.kicked', 'Stopped', 200]);
      const detail = await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth });
      assert.match(detail.body.status_timeline.at(-1).reason, /removed from the meeting by the host/i);
      // kicked: false is an ordinary Stopped.
      const other = await launchedBot();
      assert.equal((await rc.request('POST', `/api/v1/bots/${other}/status`, { auth: alice.auth, body: { status: 'Stopped', kicked: false } })).status, 200);
      assert.equal((await queuedWebhooks(other)).at(-1)!.bot_event, 'bot.stopped');
    });

    test('Failed is retired: a runtime that still reports it gets Error; nothing is stored or sent as Failed', async () => {
      const botId = await launchedBot();
      const res = await report(botId, 'Failed');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'Error');
      assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth: alice.auth })).body.status, 'Error');
      const payloads = await rc.database.db.selectFrom('webhook_deliveries').select('payload').where('bot_id', '=', botId).execute();
      assert.ok(payloads.every((p) => !p.payload.includes('"Failed"')));
      const stored = await rc.database.db.selectFrom('bot_status_changes').select('status').where('status', '=', 'Failed').execute();
      assert.deepEqual(stored, []);
    });

    test('a launch the runtime never accepts before the meeting ends is Error, sent as bot.stopped / bot.failed', async () => {
      runtime.respond = () => ({ status: 503, body: { error: 'no capacity' } });
      try {
        const event = await zoomEvent(alice.auth, 1);
        const res = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: `k-${randomToken(8)}`, bot_config: { callback_url: 'http://127.0.0.1:9/hooks' } } });
        await rc.dispatcher.runDue();
        assert.equal((await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/status`, { auth: alice.auth })).body.status, 'Joining');
        clock.advance(2 * 3_600_000);
        await rc.dispatcher.runDue();
        assert.equal((await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/status`, { auth: alice.auth })).body.status, 'Error');
        const last = (await queuedWebhooks(res.body.bot_id)).at(-1)!;
        assert.deepEqual([last.event, last.bot_event, last.bot_status, last.status_code], ['bot.stopped', 'bot.failed', 'Error', 500]);
      } finally {
        runtime.respond = () => ({ status: 200, body: { ok: true } });
      }
    });

    test('a cancelled bot\'s webhook is event bot.stopped (the one end of a bot\'s life MeetStream\'s clients wait for), bot_event bot.cancelled', async () => {
      const event = await zoomEvent(alice.auth, 120);
      const res = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: alice.auth, body: { deduplication_key: `k-${randomToken(8)}`, bot_config: { callback_url: 'http://127.0.0.1:9/hooks' } } });
      await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${res.body.bot_id}`, { auth: alice.auth });
      const last = (await queuedWebhooks(res.body.bot_id)).at(-1)!;
      assert.deepEqual([last.event, last.bot_event, last.bot_status], ['bot.stopped', 'bot.cancelled', 'Cancelled']);
    });
  });
});

describe('BOT_DEFAULT_NAME', () => {
  test('names the bots booked without bot_name, a series\' chain bots too; a bot_name given wins', async () => {
    const clock = new ManualClock(NOW);
    const rc = await startTestRollcall({ clock, settings: { BOT_DEFAULT_NAME: 'Acme Notes' } });
    try {
      const user = await rc.newUser();
      const event = async (url: string) => (await rc.request('POST', EVENTS, { auth: user.auth, body: { start_time: iso(NOW + 3_600_000), end_time: iso(NOW + 7_200_000), meeting_url: url } })).body.id as string;
      const unnamed = await rc.request('POST', `${SCHEDULE}/${await event('https://zoom.us/j/81234567891')}`, { auth: user.auth, body: { deduplication_key: 'unnamed', bot_config: {} } });
      assert.equal(unnamed.body.bot_config.bot_name, 'Acme Notes');
      const named = await rc.request('POST', `${SCHEDULE}/${await event('https://zoom.us/j/81234567892')}`, { auth: user.auth, body: { deduplication_key: 'named', bot_config: { bot_name: 'Scribe' } } });
      assert.equal(named.body.bot_config.bot_name, 'Scribe');
      const series = await rc.request('POST', EVENTS, { auth: user.auth, body: { start_time: iso(NOW + 3_600_000), end_time: iso(NOW + 7_200_000), meeting_url: 'https://zoom.us/j/81234567893', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], timezone: 'UTC' } });
      assert.equal(series.status, 201, JSON.stringify(series.body));
      const chained = await rc.request('POST', '/api/v1/calendar/toggle-recurrence', { auth: user.auth, body: { event_id: series.body.id, recurring_enabled: true } });
      assert.equal(chained.status, 200, JSON.stringify(chained.body));
      const bots = await rc.database.db.selectFrom('bots').select(['bot_config', 'deduplication_key']).execute();
      const names = bots.map((b) => (JSON.parse(b.bot_config) as { bot_name: string }).bot_name).sort();
      assert.ok(names.length >= 3, JSON.stringify(bots));
      assert.deepEqual(names.filter((n) => n !== 'Scribe'), names.filter((n) => n !== 'Scribe').map(() => 'Acme Notes'));
    } finally {
      await rc.close();
    }
  });
});

describe('DEDUPLICATION_KEY_REQUIRED', () => {
  const clock = new ManualClock(NOW);

  test('by default a schedule request without a key is 400 invalid_deduplication_key', async () => {
    const rc = await startTestRollcall({ clock });
    try {
      const user = await rc.newUser();
      const event = await rc.request('POST', EVENTS, { auth: user.auth, body: { start_time: iso(NOW + 3_600_000), end_time: iso(NOW + 7_200_000), meeting_url: 'https://zoom.us/j/81234567890' } });
      // Without bot_config too ({}, what MeetStream's SDKs send for a plain schedule call): the key is what is missing.
      for (const body of [{ bot_config: {} }, {}]) {
        const res = await rc.request('POST', `${SCHEDULE}/${event.body.id}`, { auth: user.auth, body });
        assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, '400 invalid_deduplication_key deduplication_key', JSON.stringify(res.body));
      }
      assert.equal((await rc.database.db.selectFrom('bots').select('id').execute()).length, 0);
    } finally {
      await rc.close();
    }
  });

  describe('false: a missing key is derived from the meeting and the occurrence', () => {
    let rc: TestRollcall;
    let user: { auth: string };
    before(async () => {
      rc = await startTestRollcall({ clock, settings: { DEDUPLICATION_KEY_REQUIRED: 'false' } });
      user = await rc.newUser();
    });
    after(() => rc.close());

    async function createEvent(body: Record<string, unknown>): Promise<any> {
      const res = await rc.request('POST', EVENTS, { auth: user.auth, body: { title: 'Meeting', ...body } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    }

    async function scheduleOk(eventId: string, body: Record<string, unknown>): Promise<any> {
      const res = await rc.request('POST', `${SCHEDULE}/${eventId}`, { auth: user.auth, body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    async function keyOf(botId: string): Promise<string> {
      return (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.deduplication_key;
    }

    test('a schedule request of {} (what both MeetStream SDKs send for scheduleEvent(id) / schedule_event(id)) books the bot with the default bot_config', async () => {
      // meetstream-ai/meetstream-node src/resources/calendar.ts: scheduleEvent(eventId, body = {});
      // meetstream-ai/meetstream-python src/meetstream/resources/calendar.py: schedule_event sends body or {}.
      const start = NOW + 5 * 3_600_000;
      const event = await createEvent({ start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: `https://zoom.us/j/${zoomNumber()}` });
      const booked = await scheduleOk(event.id, {});
      assert.equal(booked.scheduled_time, iso(start - 3 * 60_000));
      assert.deepEqual([booked.bot_config.bot_name, booked.bot_config.audio_required, booked.bot_config.video_required], ['Rollcall Notetaker', true, false]);
      assert.match(await keyOf(booked.bot_id), /^meeting:/);
      // Again: the same derived key, the same bot; with no body at all, or an empty one under
      // Content-Type: application/json, too (every field is optional, so no body is {}).
      assert.equal((await scheduleOk(event.id, {})).bot_id, booked.bot_id);
      const bare = await rc.app.inject({ method: 'POST', url: `${SCHEDULE}/${event.id}`, headers: { authorization: user.auth } });
      assert.equal(bare.statusCode, 200, bare.body);
      assert.equal(bare.json().bot_id, booked.bot_id);
      const emptyJson = await rc.app.inject({ method: 'POST', url: `${SCHEDULE}/${event.id}`, headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: '' });
      assert.equal(emptyJson.statusCode, 200, emptyJson.body);
      assert.equal(emptyJson.json().bot_id, booked.bot_id);
      // bot_config: null stays refused, saying what to do.
      const nulled = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { bot_config: null } });
      assert.equal(`${nulled.status} ${nulled.body.code} ${nulled.body.details?.field}`, '400 invalid_bot_config bot_config', JSON.stringify(nulled.body));
      assert.equal(nulled.body.message, 'bot_config: may not be null; leave it out for the default configuration');
    });

    test('a JSON body of null is refused as create_bot refuses it, on schedule, unschedule, auto-schedule enable and disconnect, changing nothing: only no body (or an empty one) is {}', async () => {
      const start = NOW + 5 * 3_600_000;
      const event = await createEvent({ start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: `https://zoom.us/j/${zoomNumber()}` });
      const botsBefore = (await rc.database.db.selectFrom('bots').select('id').execute()).length;
      const nullBody = (url: string) => rc.app.inject({ method: 'POST', url, headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: 'null' });
      const createBot = await nullBody('/api/v1/bots/create_bot');
      const scheduled = await nullBody(`${SCHEDULE}/${event.id}`);
      for (const res of [createBot, scheduled]) {
        assert.equal(`${res.statusCode} ${res.json().code} ${res.json().details?.field}`, '400 validation_error body', res.body);
        assert.equal(res.json().message, 'body: is required (a JSON object)');
      }
      assert.equal((await rc.database.db.selectFrom('bots').select('id').execute()).length, botsBefore, 'no bot booked');
      // So are the other routes whose body may be left out: a null is no object, never "no options".
      const bot = await scheduleOk(event.id, { bot_config: {} });
      const others = [
        await nullBody('/api/v1/calendar/auto-schedule/enable'),
        await rc.app.inject({ method: 'DELETE', url: `${SCHEDULE}/${event.id}`, headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: 'null' }),
        await nullBody('/api/v1/calendar/disconnect'),
      ];
      for (const res of others) {
        assert.equal(`${res.statusCode} ${res.json().code} ${res.json().details?.field}`, '400 validation_error body', res.body);
        assert.equal(res.json().message, 'body: is required (a JSON object)');
      }
      assert.equal((await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: user.auth })).body.auto_schedule_enabled, false, 'auto-schedule not turned on');
      assert.equal((await rc.database.db.selectFrom('bots').select('status').where('id', '=', bot.bot_id).executeTakeFirstOrThrow()).status, 'Scheduled', 'the bot not unscheduled');
    });

    test('the OpenAPI document does not mark a body required where none is {} (schedule, unschedule, auto-schedule enable, disconnect)', async () => {
      const doc = (await rc.request('GET', '/openapi.json')).body;
      const operation = doc.paths['/api/v1/calendar/schedule/{event_id}'].post;
      assert.equal(operation.requestBody.required, false);
      assert.ok(operation.requestBody.content['application/json'].schema, 'the body is still described');
      assert.equal(operation['x-body-optional'], undefined, 'the marker is not shown');
      // Nor the other routes whose body may be left out.
      for (const [path, method] of [['/api/v1/calendar/auto-schedule/enable', 'post'], ['/api/v1/calendar/schedule/{event_id}', 'delete'], ['/api/v1/calendar/disconnect', 'post']] as const) {
        assert.equal(doc.paths[path][method].requestBody.required, false, `${method} ${path}`);
      }
      // A body that is needed stays required.
      assert.equal(doc.paths['/api/v1/bots/create_bot'].post.requestBody.required, true);
    });

    test('one bot per meeting occurrence: again for the same event updates it, another event for the same meeting at the same time shares it', async () => {
      const number = zoomNumber();
      const start = NOW + 5 * 3_600_000;
      const a = await createEvent({ start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: `https://zoom.us/j/${number}` });
      const b = await createEvent({ start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: `https://us02web.zoom.us/j/${number}?pwd=xyz` });
      const first = await scheduleOk(a.id, { bot_config: { bot_name: 'One' } });
      assert.equal(first.updated_existing, false);
      assert.equal(await keyOf(first.bot_id), `meeting:zoom:${number}@${iso(start).replace(/[-:]/g, '').replace('.000', '')}`);
      const again = await scheduleOk(a.id, { bot_config: { bot_name: 'Two' } });
      assert.deepEqual([again.bot_id, again.updated_existing, again.bot_config.bot_name], [first.bot_id, true, 'Two']);
      const shared = await scheduleOk(b.id, { bot_config: {} });
      assert.deepEqual([shared.bot_id, shared.updated_existing], [first.bot_id, true]);
      // The same meeting at another time is another occurrence: its own bot.
      const later = await createEvent({ start_time: iso(start + 86_400_000), end_time: iso(start + 90_000_000), meeting_url: `https://zoom.us/j/${number}` });
      assert.notEqual((await scheduleOk(later.id, { bot_config: {} })).bot_id, first.bot_id);
    });

    test('exactly as if the client had sent the key: the derived key sent explicitly finds the same bot', async () => {
      const start = NOW + 7 * 3_600_000;
      const event = await createEvent({ start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: `https://zoom.us/j/${zoomNumber()}` });
      const derived = await scheduleOk(event.id, { bot_config: {} });
      const explicit = await scheduleOk(event.id, { deduplication_key: await keyOf(derived.bot_id), bot_config: {} });
      assert.deepEqual([explicit.bot_id, explicit.updated_existing], [derived.bot_id, true]);
      // A different explicit key on the same event is the usual 409.
      const other = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: 'mine', bot_config: {} } });
      assert.equal(`${other.status} ${other.body.code} ${other.body.bot_id}`, `409 event_already_scheduled ${derived.bot_id}`);
      // A key that is given must still be a valid one.
      const blank = await rc.request('POST', `${SCHEDULE}/${event.id}`, { auth: user.auth, body: { deduplication_key: '  ', bot_config: {} } });
      assert.equal(blank.body.code, 'invalid_deduplication_key');
    });

    test('each occurrence of a series gets its own key (its original start), for one occurrence and for all of them', async () => {
      const series = await createEvent({
        start_time: '2026-11-23T09:00:00+01:00', end_time: '2026-11-23T09:30:00+01:00', timezone: 'Europe/Berlin',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], meeting_url: 'https://meet.google.com/abc-defg-hij',
      });
      const one = await scheduleOk(series.id, { bot_config: {}, occurrence_date: '2026-11-30' });
      assert.equal(await keyOf(one.bot_id), 'meeting:google_meet:abc-defg-hij@20261130T080000Z');
      const all = await scheduleOk(series.id, { bot_config: {}, schedule_all_occurrences: true });
      assert.equal(all.occurrences_scheduled, 4);
      assert.equal(all.schedules_created[1].bot_id, one.bot_id, 'the occurrence booked alone is the same bot');
      assert.deepEqual(await Promise.all(all.schedules_created.map((c: any) => keyOf(c.bot_id))), [
        'meeting:google_meet:abc-defg-hij@20261123T080000Z', 'meeting:google_meet:abc-defg-hij@20261130T080000Z',
        'meeting:google_meet:abc-defg-hij@20261207T080000Z', 'meeting:google_meet:abc-defg-hij@20261214T080000Z',
      ]);
      // A moved occurrence keeps its key: the key is of the original start.
      const moved = await createEvent({ recurring_event_id: series.id, original_start_time: '2026-12-07T08:00:00Z', start_time: '2026-12-07T15:00:00Z', end_time: '2026-12-07T15:30:00Z' });
      const rescheduled = await scheduleOk(moved.id, { bot_config: {} });
      assert.deepEqual([rescheduled.bot_id, rescheduled.updated_existing], [all.schedules_created[2].bot_id, true]);
    });
  });
});

/** A bot row as the schema before migration 012 had it (no is_live). */
function storedBot(id: string, status: string, key: string) {
  return {
    id, user_id: 'usr_old', deduplication_key: key, deduplication_key_hash: `hash-${key}`, meeting_url: 'https://zoom.us/j/1', meeting_platform: 'zoom', meeting_identity: 'zoom:1',
    status, bot_config: '{}', custom_attributes: '{}', join_at_ms: NOW, is_join_time_pinned: 0, meeting_end_ms: NOW + 1, launched_at: NOW, source: 'calendar_schedule_api',
    created_at: NOW, updated_at: NOW, provider_name: null, provider_bot_id: null,
  };
}

describe('migration 008', () => {
  test('stored Failed rows become Error, and the live-key rule covers Recording and Leaving', async () => {
    await withSchemaBefore(8, 'usr_old', async (database) => {
      const db = database.db;
      await (db as any).insertInto('bots').values([storedBot('bot_failed', 'Failed', 'a'), storedBot('bot_done', 'Done', 'b')]).execute();
      await db.insertInto('bot_status_changes').values([
        { bot_id: 'bot_failed', at_ms: NOW, status: 'Joining', reason: 'launched' },
        { bot_id: 'bot_failed', at_ms: NOW + 1, status: 'Failed', reason: 'the runtime refused' },
      ]).execute();
      await db.insertInto('bot_decisions').values({ bot_id: 'bot_failed', at_ms: NOW + 1, kind: 'failed', reason: 'the runtime refused', details: '{"from":"Joining","to":"Failed"}' }).execute();

      // Up to 011: from migration 012 on the live-key rule is on a flag of its own (tested below).
      await migrate(db, database.engine, MIGRATIONS.filter((m) => m.version < 12));
      const bots = await db.selectFrom('bots').select(['id', 'status', 'idempotency_key_hash', 'data_deleted_at']).orderBy('id').execute();
      assert.deepEqual(bots.map((b) => ({ ...b })), [
        { id: 'bot_done', status: 'Done', idempotency_key_hash: null, data_deleted_at: null },
        { id: 'bot_failed', status: 'Error', idempotency_key_hash: null, data_deleted_at: null },
      ]);
      assert.deepEqual((await db.selectFrom('bot_status_changes').select('status').orderBy('id').execute()).map((r) => r.status), ['Joining', 'Error']);
      assert.equal((await db.selectFrom('bot_decisions').select('details').executeTakeFirstOrThrow()).details, '{"from":"Joining","to":"Error"}');
      // Two live bots under one key are refused, Recording and Leaving included; finished ones are not.
      await (db as any).insertInto('bots').values(storedBot('bot_rec', 'Recording', 'live')).execute();
      await assert.rejects((db as any).insertInto('bots').values(storedBot('bot_leave', 'Leaving', 'live')).execute());
      await (db as any).insertInto('bots').values(storedBot('bot_error', 'Error', 'live')).execute();
    });
  });
});

describe('migration 012', () => {
  test('live bots get is_live = 1, ended ones 0; the index refuses a second live bot per key, whatever its live status', async () => {
    await withSchemaBefore(12, 'usr_old', async (database) => {
      const db = database.db as any;
      const bot = (id: string, status: string, key: string) => ({ ...storedBot(id, status, key), idempotency_key_hash: null, data_deleted_at: null });
      await db.insertInto('bots').values([bot('bot_a', 'Scheduled', 'a'), bot('bot_b', 'Recording', 'b'), bot('bot_c', 'Done', 'c'), bot('bot_d', 'Cancelled', 'a')]).execute();

      await migrate(database.db, database.engine);
      const rows = await db.selectFrom('bots').select(['id', 'is_live']).orderBy('id').execute();
      assert.deepEqual(rows.map((r: any) => ({ ...r })), [
        { id: 'bot_a', is_live: 1 },
        { id: 'bot_b', is_live: 1 },
        { id: 'bot_c', is_live: 0 },
        { id: 'bot_d', is_live: 0 },
      ]);
      // A second live bot under a live key is refused; under an ended key (c) it is accepted.
      await assert.rejects(db.insertInto('bots').values({ ...bot('bot_e', 'Scheduled', 'b'), is_live: 1 }).execute());
      await db.insertInto('bots').values({ ...bot('bot_f', 'Scheduled', 'c'), is_live: 1 }).execute();
      // A status change between live statuses leaves the key held.
      await db.updateTable('bots').set({ status: 'Joining' }).where('id', '=', 'bot_a').execute();
      await assert.rejects(db.insertInto('bots').values({ ...bot('bot_g', 'Scheduled', 'a'), is_live: 1 }).execute());
    });
  });
});
