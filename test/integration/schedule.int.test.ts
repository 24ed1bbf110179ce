// POST /api/v1/calendar/schedule/{event_id} (spec section 2), end to end on a real database:
// every answer is checked field by field, and what was stored is read back through the events API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { randomToken } from '../../src/lib/ids.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';
const SCHEDULE = '/api/v1/calendar/schedule';
const DEFAULT_CONFIG = { bot_name: 'Rollcall Notetaker', audio_required: true, video_required: false, custom_attributes: {} };
// The seed's fields plus the contract's two additions, which Rollcall puts in every answer (null
// and false for an event that is no occurrence): MeetStream's ScheduleEventResponse types them.
const SINGLE_RESPONSE_FIELDS = ['bot_config', 'bot_id', 'event_id', 'is_recurring_occurrence', 'message', 'occurrence_date', 'schedule_group', 'schedule_id', 'scheduled', 'scheduled_time', 'updated_existing'];
const SCHEDULE_ID = /^[0-9A-Za-z._-]{1,64}$/;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A Zoom meeting number of its own, so that tests never share a meeting by accident. */
function zoomNumber(): string {
  return `8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

function newKey(): string {
  return `key-${randomToken(10)}`;
}

/** Local wall-clock "HH:MM" of an instant in a zone. */
function localTime(isoInstant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(isoInstant));
}

describe('POST /calendar/schedule/{event_id}', () => {
  let rc: TestRollcall;
  let alice: { auth: string };
  let bob: { auth: string };
  const clock = new ManualClock(NOW);

  before(async () => {
    rc = await startTestRollcall({ clock });
    alice = await rc.newUser('alice');
    bob = await rc.newUser('bob');
  });
  after(() => rc.close());

  async function createEvent(auth: string, body: Record<string, unknown>): Promise<any> {
    const res = await rc.request('POST', EVENTS, { auth, body: { title: 'Meeting', ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  /** A one-hour event starting `startInMinutes` from now, on a Zoom meeting of its own unless told. */
  async function zoomEvent(auth: string, startInMinutes: number, extra: Record<string, unknown> = {}): Promise<any> {
    const start = NOW + startInMinutes * 60_000;
    return createEvent(auth, { start_time: iso(start), end_time: iso(start + 3_600_000), location: `https://zoom.us/j/${zoomNumber()}`, ...extra });
  }

  function schedule(auth: string, eventId: string, body: unknown) {
    return rc.request('POST', `${SCHEDULE}/${eventId}`, { auth, body });
  }

  async function scheduleOk(auth: string, eventId: string, body: unknown): Promise<any> {
    const res = await schedule(auth, eventId, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  async function getEvent(auth: string, eventId: string): Promise<any> {
    const res = await rc.request('GET', `${EVENTS}/${eventId}`, { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  /** A bot's status, read by its id (a cancelled bot is no longer listed in its event's bots). */
  async function statusOf(auth: string, botId: string): Promise<string> {
    const res = await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.status;
  }

  /** The event's bots as [bot_id, status, scheduled_time]; cancelled bots are not listed (spec 10). */
  async function botsOf(auth: string, eventId: string): Promise<[string, string, string][]> {
    const event = await getEvent(auth, eventId);
    for (const bot of event.bots) {
      assert.equal(bot.id, bot.bot_id);
      assert.equal(bot.scheduled_join_time, bot.scheduled_time);
      assert.equal(bot.is_scheduled, bot.status === 'Scheduled');
    }
    return event.bots.map((b: any) => [b.bot_id, b.status, b.scheduled_time]);
  }

  async function expectError(res: { status: number; body: any }, status: number, code: string, field?: RegExp): Promise<void> {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.code, code, JSON.stringify(res.body));
    assert.equal(res.body.status_code, status);
    assert.equal(typeof res.body.error, 'string');
    if (field) assert.match(res.body.error, field);
  }

  describe('a single event', () => {
    test('happy path: the answer has exactly the seed fields, and the event lists the bot', async () => {
      const event = await zoomEvent(alice.auth, 7 * 24 * 60);
      const key = newKey();
      const res = await schedule(alice.auth, event.id, { deduplication_key: key, bot_config: {} });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), SINGLE_RESPONSE_FIELDS);
      assert.deepEqual([res.body.occurrence_date, res.body.is_recurring_occurrence], [null, false]);
      assert.equal(res.body.scheduled, true);
      assert.match(res.body.schedule_id, SCHEDULE_ID);
      assert.equal(res.body.schedule_group, 'zoom');
      assert.equal(res.body.event_id, event.id);
      assert.equal(res.body.scheduled_time, iso(Date.parse(event.start_time) - 180_000));
      assert.match(res.body.bot_id, /^bot_[0-9A-Za-z]+$/);
      // The effective config, with the bot's key (MeetStream's answer has it there too).
      assert.deepEqual(res.body.bot_config, { ...DEFAULT_CONFIG, deduplication_key: key });
      assert.equal(typeof res.body.message, 'string');
      assert.ok(res.body.message.length > 0);
      assert.equal(res.body.updated_existing, false);

      const got = await getEvent(alice.auth, event.id);
      assert.deepEqual(got.bots, [{
        id: res.body.bot_id, bot_id: res.body.bot_id, status: 'Scheduled',
        scheduled_join_time: res.body.scheduled_time, scheduled_time: res.body.scheduled_time, is_scheduled: true,
        bot_username: DEFAULT_CONFIG.bot_name, platform: 'zoom',
      }]);
    });

    test('the given bot_config is echoed with defaults filled in', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const config = {
        bot_name: 'Scribe', bot_message: 'Hello', video_required: true, transcription: { deepgram: { model: 'nova-3', language: 'en' } },
        recording_config: { video_layout: 'grid_view' }, automatic_leave: { waiting_room_timeout: 1200, everyone_left_timeout: 60 },
        custom_attributes: { team: 'core' },
      };
      const key = newKey();
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: config });
      assert.deepEqual(res.bot_config, { ...config, audio_required: true, deduplication_key: key });
    });

    test('schedule_group follows the platform of the meeting URL', async () => {
      const cases: [string, string][] = [
        ['https://meet.google.com/qwe-rtyu-iop', 'google_meet'],
        ['https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjY3%40thread.v2/0?context=%7b%7d', 'microsoft_teams'],
        ['https://acme.webex.com/meet/jdoe', 'default'],
        ['https://video.example.com/room/42', 'default'],
        [`https://us06web.zoom.us/j/${zoomNumber()}`, 'zoom'],
      ];
      for (const [url, group] of cases) {
        const event = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', meeting_url: url });
        const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
        assert.equal(res.schedule_group, group, url);
      }
    });

    test('join_at overrides the join time; in the past, after the end or without an offset it is 400 invalid_join_at', async () => {
      const event = await zoomEvent(alice.auth, 24 * 60);
      const start = Date.parse(event.start_time);
      const joinAt = iso(start - 15 * 60_000);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { join_at: joinAt.replace('.000Z', '+00:00') } });
      assert.equal(res.scheduled_time, joinAt);
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', joinAt]]);

      const other = await zoomEvent(alice.auth, 24 * 60);
      const bad: [string, RegExp][] = [
        [iso(NOW - 60_000), /past/],
        [iso(Date.parse(other.end_time) + 60_000), /after/],
        [iso(Date.parse(other.end_time)), /after/],
        ['2026-11-21T11:00:00', /join_at/],
        ['soon', /join_at/],
      ];
      for (const [joinAtValue, message] of bad) {
        const r = await schedule(alice.auth, other.id, { deduplication_key: newKey(), bot_config: { join_at: joinAtValue } });
        await expectError(r, 400, 'invalid_join_at', message);
      }
      assert.deepEqual(await botsOf(alice.auth, other.id), []);
    });

    test('a meeting under way gets a bot that joins now; an ended one is 400 event_ended', async () => {
      const running = await zoomEvent(alice.auth, -10);
      const res = await scheduleOk(alice.auth, running.id, { deduplication_key: newKey(), bot_config: {} });
      assert.equal(res.scheduled_time, iso(NOW));
      assert.deepEqual(await botsOf(alice.auth, running.id), [[res.bot_id, 'Scheduled', iso(NOW)]]);

      const startsInOneMinute = await zoomEvent(alice.auth, 1);
      assert.equal((await scheduleOk(alice.auth, startsInOneMinute.id, { deduplication_key: newKey(), bot_config: {} })).scheduled_time, iso(NOW));

      const ended = await zoomEvent(alice.auth, -61);
      await expectError(await schedule(alice.auth, ended.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_ended');
      assert.deepEqual(await botsOf(alice.auth, ended.id), []);
    });

    test('a cancelled or deleted event is 400 event_cancelled', async () => {
      const cancelled = await zoomEvent(alice.auth, 600, { status: 'cancelled' });
      await expectError(await schedule(alice.auth, cancelled.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_cancelled');
      const deleted = await zoomEvent(alice.auth, 600);
      assert.equal((await rc.request('DELETE', `${EVENTS}/${deleted.id}`, { auth: alice.auth })).status, 200);
      await expectError(await schedule(alice.auth, deleted.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_cancelled');
      assert.deepEqual(await botsOf(alice.auth, cancelled.id), []);
      assert.deepEqual(await botsOf(alice.auth, deleted.id), []);
    });

    test('unknown event or another user\'s event is 404', async () => {
      await expectError(await schedule(alice.auth, 'evt_nothere', { deduplication_key: newKey(), bot_config: {} }), 404, 'event_not_found');
      const bobs = await zoomEvent(bob.auth, 600);
      const res = await schedule(alice.auth, bobs.id, { deduplication_key: newKey(), bot_config: {} });
      await expectError(res, 404, 'event_not_found');
      assert.deepEqual(await botsOf(bob.auth, bobs.id), []);
      // The same for a series and for one of its occurrences.
      const bobsSeries = await createEvent(bob.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      for (const id of [bobsSeries.id, `${bobsSeries.id}_20261124T100000Z`]) {
        await expectError(await schedule(alice.auth, id, { deduplication_key: newKey(), bot_config: {} }), 404, 'event_not_found');
        assert.ok(!JSON.stringify((await schedule(alice.auth, id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true })).body).includes('zoom'));
      }
      assert.deepEqual(await botsOf(bob.auth, `${bobsSeries.id}_20261124T100000Z`), []);
    });

    test('bot_config.meeting_url overrides the event; none anywhere is no_meeting_url; not http(s) is invalid_meeting_url', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { meeting_url: 'https://meet.google.com/zzz-yyyy-xxx' } });
      assert.equal(res.schedule_group, 'google_meet');
      assert.equal(res.bot_config.meeting_url, 'https://meet.google.com/zzz-yyyy-xxx');

      const bare = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', location: 'Room 12' });
      assert.equal(bare.meeting_url, null);
      await expectError(await schedule(alice.auth, bare.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'no_meeting_url', /meeting_url/);
      for (const url of ['ftp://zoom.us/j/123', 'zoom.us/j/123', 'javascript:alert(1)', 'not a url']) {
        await expectError(await schedule(alice.auth, bare.id, { deduplication_key: newKey(), bot_config: { meeting_url: url } }), 400, 'invalid_meeting_url', /meeting_url/);
      }
      await expectError(await schedule(alice.auth, bare.id, { deduplication_key: newKey(), bot_config: { meeting_url: 5 } }), 400, 'invalid_meeting_url', /meeting_url/);
      assert.deepEqual(await botsOf(alice.auth, bare.id), []);
      // The override makes an event without a link schedulable.
      const ok = await scheduleOk(alice.auth, bare.id, { deduplication_key: newKey(), bot_config: { meeting_url: 'https://acme.webex.com/meet/jdoe' } });
      assert.equal(ok.schedule_group, 'default');
    });
  });

  describe('request validation', () => {
    let eventId: string;
    let seriesId: string;
    before(async () => {
      eventId = (await zoomEvent(alice.auth, 600)).id;
      seriesId = (await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=10'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      })).id;
    });

    test('deduplication_key: required, 1-2000 printable characters, top level or inside bot_config', async () => {
      await expectError(await schedule(alice.auth, eventId, { bot_config: {} }), 400, 'invalid_deduplication_key', /deduplication_key/);
      for (const key of ['', 'x'.repeat(2001), '   ', 'a\u0000b']) {
        await expectError(await schedule(alice.auth, eventId, { deduplication_key: key, bot_config: {} }), 400, 'invalid_deduplication_key', /deduplication_key/);
        await expectError(await schedule(alice.auth, eventId, { bot_config: { deduplication_key: key } }), 400, 'invalid_deduplication_key', /deduplication_key/);
      }
      await expectError(await schedule(alice.auth, eventId, { deduplication_key: 42, bot_config: {} }), 400, 'invalid_deduplication_key', /deduplication_key/);
      assert.deepEqual(await botsOf(alice.auth, eventId), []);

      // 2000 characters is fine.
      const longKeyEvent = await zoomEvent(alice.auth, 600);
      await scheduleOk(alice.auth, longKeyEvent.id, { deduplication_key: 'k'.repeat(2000), bot_config: {} });
    });

    test('deduplication_key inside bot_config works; the top-level one wins', async () => {
      const inside = await zoomEvent(alice.auth, 600);
      const insideKey = newKey();
      const first = await scheduleOk(alice.auth, inside.id, { bot_config: { deduplication_key: insideKey } });
      assert.equal(first.updated_existing, false);
      assert.equal(first.bot_config.deduplication_key, insideKey);
      const again = await scheduleOk(alice.auth, inside.id, { deduplication_key: insideKey, bot_config: {} });
      assert.equal(again.bot_id, first.bot_id);
      assert.equal(again.updated_existing, true);

      const both = await zoomEvent(alice.auth, 600);
      const topKey = newKey();
      const created = await scheduleOk(alice.auth, both.id, { deduplication_key: topKey, bot_config: { deduplication_key: newKey() } });
      // Had the inner key been used, the top-level key would now be another key on a scheduled event.
      const replay = await scheduleOk(alice.auth, both.id, { deduplication_key: topKey, bot_config: {} });
      assert.equal(replay.bot_id, created.bot_id);
      assert.equal(replay.updated_existing, true);
      assert.equal(created.bot_config.deduplication_key, topKey, 'the answer names the key used');
    });

    test('bot_config must be an object; left out it is {} (MeetStream\'s SDKs send no bot_config for a plain schedule call), null is refused', async () => {
      await expectError(await schedule(alice.auth, eventId, { deduplication_key: newKey(), bot_config: 'x' }), 400, 'invalid_bot_config', /bot_config/);
      await expectError(await schedule(alice.auth, eventId, { deduplication_key: newKey(), bot_config: null }), 400, 'invalid_bot_config', /^bot_config: may not be null; leave it out/);
      assert.deepEqual(await botsOf(alice.auth, eventId), []);
      const bare = await schedule(alice.auth, eventId, { deduplication_key: newKey() });
      assert.equal(bare.status, 200, JSON.stringify(bare.body));
      assert.deepEqual([bare.body.bot_config.bot_name, bare.body.bot_config.audio_required, bare.body.bot_config.video_required], ['Rollcall Notetaker', true, false]);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/schedule/${eventId}`, { auth: alice.auth })).status, 200);
    });

    test('occurrence_limit must be an integer from 1 to 500', async () => {
      for (const limit of [0, 501, 1.5, '10', -1]) {
        const res = await schedule(alice.auth, seriesId, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true, occurrence_limit: limit });
        await expectError(res, 400, 'invalid_occurrence_limit', /occurrence_limit/);
      }
      assert.deepEqual(await botsOf(alice.auth, `${seriesId}_20261124T100000Z`), []);
    });

    test('occurrence_date must be a date or a date-time with offset', async () => {
      for (const value of ['tomorrow', '2026-13-01', '2026-12-01T10:00:00', '2026-02-30', 20261201]) {
        const res = await schedule(alice.auth, seriesId, { deduplication_key: newKey(), bot_config: {}, occurrence_date: value });
        await expectError(res, 400, 'invalid_occurrence_date', /occurrence_date/);
      }
    });

    test('an occurrence a series booking covers, scheduled again under that booking\'s key: 409 naming the series booking, not "another deduplication_key"', async () => {
      const series = (await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      })).id;
      const key = newKey();
      const all = await schedule(alice.auth, series, { deduplication_key: key, bot_config: {}, schedule_all_occurrences: true });
      assert.equal(all.status, 200, JSON.stringify(all.body));
      const one = await schedule(alice.auth, series, { deduplication_key: key, bot_config: {}, occurrence_date: '2026-12-08' });
      await expectError(one, 409, 'event_already_scheduled', /series booking under this deduplication_key \(schedule_all_occurrences\)/);
      assert.ok(one.body.bot_id);
      // Another key still reads as another client's.
      await expectError(await schedule(alice.auth, series, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-08' }), 409, 'event_already_scheduled', /under another deduplication_key/);
    });

    test('occurrence_date with schedule_all_occurrences is a 400 naming the field, and books nothing', async () => {
      const res = await schedule(alice.auth, seriesId, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01', schedule_all_occurrences: true });
      await expectError(res, 400, 'validation_error', /occurrence_date.*schedule_all_occurrences/);
      assert.equal(res.body.details.field, 'occurrence_date');
      assert.deepEqual(await botsOf(alice.auth, `${seriesId}_20261201T100000Z`), []);
    });

    test('a transcription provider MeetStream does not know, an address for the runtime or the provider on a private host, or a provider setting Rollcall sends itself, is a 400 naming the field; {}, a known provider and provider settings are taken', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ transcription: { otter: {} } }, 'bot_config.transcription'],
        [{ transcription: { deepgram: {}, assemblyai: {} } }, 'bot_config.transcription'],
        [{ recording_config: { transcript: { provider: { whisperx: {} } } } }, 'bot_config.recording_config.transcript.provider'],
        [{ recording_config: { transcript: {} } }, 'bot_config.recording_config.transcript.provider'],
        // Addresses the runtime opens: public hosts only, like the meeting link.
        [{ bot_image_url: 'http://localhost/bot.png' }, 'bot_config.bot_image_url'],
        [{ live_transcription_required: { webhook_url: 'http://192.168.1.5/t' } }, 'bot_config.live_transcription_required.webhook_url'],
        // (in MeetStream's older shape too: the address itself)
        [{ socket_connection_url: 'ws://10.0.0.7:9000/s' }, 'bot_config.socket_connection_url'],
        // Provider settings: any URL in them, of any scheme, names a public host; the fields Rollcall
        // sends itself cannot be given there.
        [{ provider_settings: { recall: { recording_config: { realtime_endpoints: [{ type: 'webhook', url: 'https://hooks.example.com/a' }, { type: 'websocket', url: 'ws://10.0.0.7/rt' }] } } } }, 'bot_config.provider_settings.recall.recording_config.realtime_endpoints[1].url'],
        [{ provider_settings: { attendee: { rtmp_settings: { destination_url: 'rtmp://127.0.0.1/live' } } } }, 'bot_config.provider_settings.attendee.rtmp_settings.destination_url'],
        [{ provider_settings: { recall: { metadata: { team: 'x' } } } }, 'bot_config.provider_settings.recall.metadata'],
        [{ provider_settings: { meetstream: { join_at: '2026-11-27T10:00:00Z' } } }, 'bot_config.provider_settings.meetstream.join_at'],
        [{ provider_settings: { attendee: { webhooks: [{ url: 'https://hooks.example.com/b', triggers: ['bot.state_change'] }] } } }, 'bot_config.provider_settings.attendee.webhooks'],
        // One object per provider, under the provider's name.
        [{ provider_settings: { recording_config: {} } }, 'bot_config.provider_settings.recording_config'],
        [{ provider_settings: { recall: ['recording_config'] } }, 'bot_config.provider_settings.recall'],
        [{ provider_settings: ['recording_config'] }, 'bot_config.provider_settings'],
      ];
      for (const [config, field] of cases) {
        const res = await schedule(alice.auth, eventId, { deduplication_key: newKey(), bot_config: config });
        await expectError(res, 400, 'invalid_bot_config', new RegExp(field.replace(/[.[\]]/g, '\\$&')));
        assert.equal(res.body.details?.field, field);
      }
      assert.deepEqual(await botsOf(alice.auth, eventId), []);
      const providerSettings = { recall: { recording_config: { transcript: { provider: { meeting_captions: {} } }, realtime_endpoints: [{ type: 'websocket', url: 'wss://rt.example.com/stream' }] } }, attendee: { transcription_settings: { deepgram: { language: 'en' } } } };
      for (const config of [{ transcription: {} }, { transcription: { deepgram: { model: 'nova-3', language: 'en' } } }, { provider_settings: providerSettings }]) {
        const res = await schedule(alice.auth, eventId, { deduplication_key: newKey(), bot_config: config });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal((await rc.request('DELETE', `/api/v1/calendar/schedule/${eventId}`, { auth: alice.auth })).status, 200);
      }
    });

    test('automatic_leave values outside MeetStream\'s ranges are 400 naming the field', async () => {
      const meet = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', meeting_url: 'https://meet.google.com/aaa-bbbb-ddd' });
      const cases: [string, Record<string, unknown>, RegExp][] = [
        [eventId, { in_call_recording_timeout: 100 }, /in_call_recording_timeout/],
        [eventId, { recording_permission_denied_timeout: 301 }, /recording_permission_denied_timeout/],
        [eventId, { everyone_left_timeout: 59 }, /everyone_left_timeout/],
        [eventId, { waiting_room_timeout: 1300 }, /waiting_room_timeout/],
        [meet.id, { waiting_room_timeout: 1200 }, /waiting_room_timeout/],
        [eventId, { no_one_joined_timeout: '600' }, /no_one_joined_timeout/],
        [eventId, { voice_inactivity_timeout: 90.5 }, /voice_inactivity_timeout/],
        [eventId, { bot_detection: { using_participant_names: { matches: ['bot'], timeout: 301 } } }, /timeout/],
      ];
      for (const [id, automaticLeave, field] of cases) {
        const res = await schedule(alice.auth, id, { deduplication_key: newKey(), bot_config: { automatic_leave: automaticLeave } });
        await expectError(res, 400, 'invalid_bot_config', field);
        assert.match(res.body.error, /automatic_leave/);
      }
      assert.deepEqual(await botsOf(alice.auth, eventId), []);
      assert.deepEqual(await botsOf(alice.auth, meet.id), []);
      // 1200 s is allowed on Zoom, 600 s on Meet.
      await scheduleOk(alice.auth, eventId, { deduplication_key: newKey(), bot_config: { automatic_leave: { waiting_room_timeout: 1200 } } });
      await scheduleOk(alice.auth, meet.id, { deduplication_key: newKey(), bot_config: { automatic_leave: { waiting_room_timeout: 600 } } });
    });

    test('custom attributes with number and boolean values are kept as their text', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const res = await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { custom_attributes: { tenant_id: 42, is_test: false } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const status = await rc.request('GET', `/api/v1/bots/${res.body.bot_id}/status`, { auth: alice.auth });
      assert.equal(status.body.custom_attributes.tenant_id, '42');
      assert.equal(status.body.custom_attributes.is_test, 'false');
    });

    test('wrong types in bot_config are 400 naming the field; recurring_event: true on a single event is event_not_recurring', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ audio_required: 'yes' }, /bot_config\.audio_required/],
        [{ video_required: 1 }, /bot_config\.video_required/],
        [{ bot_name: ['x'] }, /bot_config\.bot_name/],
        [{ custom_attributes: { n: { deep: 1 } } }, /bot_config\.custom_attributes/],
        [{ transcription: 'on' }, /bot_config\.transcription/],
      ];
      for (const [config, field] of cases) {
        const res = await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: config });
        assert.equal(res.status, 400, JSON.stringify(config));
        assert.match(res.body.error, field);
      }
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: 'yes' }), 400, 'validation_error', /schedule_all_occurrences/);
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {}, recurring_event: true }), 400, 'event_not_recurring', /recurring_event/);
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {}, recurring_event: 'yes' }), 400, 'validation_error', /recurring_event/);
      await expectError(await schedule(alice.auth, event.id, '{"deduplication_key": '), 400, 'invalid_json');
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { bot_message: 'x'.repeat(1024 * 1024) } }), 413, 'payload_too_large');
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
      // recurring_event: false and unknown fields are accepted.
      await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { future_field: 1 }, recurring_event: false, something_new: true });
    });
  });

  describe('deduplication and sharing', () => {
    test('the same key on the same event updates the bot in place', async () => {
      const event = await zoomEvent(alice.auth, 3 * 24 * 60);
      const key = newKey();
      const first = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: { bot_name: 'First' } });
      assert.equal(first.updated_existing, false);
      const second = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: { bot_name: 'Second', video_required: true } });
      assert.deepEqual(Object.keys(second).sort(), SINGLE_RESPONSE_FIELDS);
      assert.equal(second.bot_id, first.bot_id);
      assert.equal(second.schedule_id, first.schedule_id);
      assert.equal(second.updated_existing, true);
      assert.equal(second.scheduled_time, first.scheduled_time);
      assert.deepEqual(second.bot_config, { ...DEFAULT_CONFIG, bot_name: 'Second', video_required: true, deduplication_key: key });
      assert.deepEqual(await botsOf(alice.auth, event.id), [[first.bot_id, 'Scheduled', first.scheduled_time]]);

      // A new join_at moves the same bot.
      const joinAt = iso(Date.parse(event.start_time) - 600_000);
      const third = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: { join_at: joinAt } });
      assert.equal(third.bot_id, first.bot_id);
      assert.equal(third.scheduled_time, joinAt);
      assert.deepEqual(await botsOf(alice.auth, event.id), [[first.bot_id, 'Scheduled', joinAt]]);
    });

    test('the same key on another event for the same meeting shares the bot, joining at the earliest time', async () => {
      const number = zoomNumber();
      const key = newKey();
      const later = await createEvent(alice.auth, { start_time: '2026-11-26T15:00:00Z', end_time: '2026-11-26T16:00:00Z', location: `https://us02web.zoom.us/j/${number}?pwd=Secret1` });
      const earlier = await createEvent(alice.auth, { start_time: '2026-11-26T14:30:00Z', end_time: '2026-11-26T15:30:00Z', meeting_url: `https://zoom.us/j/${number}` });
      const first = await scheduleOk(alice.auth, later.id, { deduplication_key: key, bot_config: { bot_name: 'A' } });
      assert.equal(first.scheduled_time, '2026-11-26T14:57:00.000Z');
      const shared = await scheduleOk(alice.auth, earlier.id, { deduplication_key: key, bot_config: { bot_name: 'B' } });
      assert.equal(shared.bot_id, first.bot_id);
      assert.equal(shared.schedule_id, first.schedule_id);
      assert.equal(shared.updated_existing, true);
      assert.equal(shared.event_id, earlier.id);
      assert.equal(shared.schedule_group, 'zoom');
      assert.equal(shared.scheduled_time, '2026-11-26T14:27:00.000Z');
      assert.equal(shared.bot_config.bot_name, 'B');
      assert.deepEqual(await botsOf(alice.auth, later.id), [[first.bot_id, 'Scheduled', '2026-11-26T14:27:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, earlier.id), [[first.bot_id, 'Scheduled', '2026-11-26T14:27:00.000Z']]);
      // The bot keeps the link that carries the passcode: the second event's has none.
      const linkOfBot = async () => (await rc.request('GET', `/api/v1/bots/${first.bot_id}`, { auth: alice.auth })).body.meeting_url;
      assert.equal(await linkOfBot(), `https://us02web.zoom.us/j/${number}?pwd=Secret1`);

      // A third spelling, scheduled later in time, keeps the earliest join time.
      const third = await createEvent(alice.auth, { start_time: '2026-11-26T16:00:00Z', end_time: '2026-11-26T16:30:00Z', meeting_url: `https://acme.zoom.us/j/${number}?pwd=Other` });
      const sharedAgain = await scheduleOk(alice.auth, third.id, { deduplication_key: key, bot_config: {} });
      assert.equal(sharedAgain.bot_id, first.bot_id);
      assert.equal(sharedAgain.scheduled_time, '2026-11-26T14:27:00.000Z');
      assert.deepEqual(await botsOf(alice.auth, third.id), [[first.bot_id, 'Scheduled', '2026-11-26T14:27:00.000Z']]);
      // It carries a passcode too (another one: the newest stands).
      assert.equal(await linkOfBot(), `https://acme.zoom.us/j/${number}?pwd=Other`);
    });

    test('an event whose link changes for the same meeting (a new passcode) gives its waiting bot the new link, never one that drops the passcode', async () => {
      const number = zoomNumber();
      const event = await createEvent(alice.auth, { start_time: '2026-11-26T15:00:00Z', end_time: '2026-11-26T16:00:00Z', location: `https://zoom.us/j/${number}?pwd=Secret1` });
      const booked = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const linkOfBot = async () => (await rc.request('GET', `/api/v1/bots/${booked.bot_id}`, { auth: alice.auth })).body.meeting_url;
      const relink = async (location: string) => assert.equal((await rc.request('PATCH', `/api/v1/calendar/events/${event.id}`, { auth: alice.auth, body: { location } })).status, 200);
      await relink(`https://zoom.us/j/${number}?pwd=Rotated2`);
      assert.equal(await linkOfBot(), `https://zoom.us/j/${number}?pwd=Rotated2`);
      await relink(`Dial in: https://zoom.us/j/${number}`);
      assert.equal(await linkOfBot(), `https://zoom.us/j/${number}?pwd=Rotated2`, 'the bare number keeps the passcode the bot has');
    });

    test('two spellings of one Google Meet code are one meeting', async () => {
      const key = newKey();
      const a = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', meeting_url: 'https://meet.google.com/mno-pqrs-tuv' });
      const b = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', location: 'Join: https://meet.google.com/MNO-PQRS-TUV?authuser=1&hs=179' });
      assert.equal(b.meeting_platform, 'google_meet');
      const first = await scheduleOk(alice.auth, a.id, { deduplication_key: key, bot_config: {} });
      const second = await scheduleOk(alice.auth, b.id, { deduplication_key: key, bot_config: {} });
      assert.equal(second.bot_id, first.bot_id);
      assert.equal(second.updated_existing, true);
      assert.equal(second.schedule_group, 'google_meet');
      assert.deepEqual(await botsOf(alice.auth, b.id), [[first.bot_id, 'Scheduled', '2026-11-27T09:57:00.000Z']]);
    });

    test('the same key on a different meeting is 409 deduplication_conflict with the bot_id', async () => {
      const key = newKey();
      const a = await zoomEvent(alice.auth, 600);
      const b = await zoomEvent(alice.auth, 600);
      const first = await scheduleOk(alice.auth, a.id, { deduplication_key: key, bot_config: {} });
      const res = await schedule(alice.auth, b.id, { deduplication_key: key, bot_config: {} });
      await expectError(res, 409, 'deduplication_conflict');
      assert.equal(res.body.bot_id, first.bot_id);
      assert.deepEqual(await botsOf(alice.auth, b.id), []);
      // A meeting_url override pointing at another meeting is a different meeting too.
      const viaOverride = await schedule(alice.auth, a.id, { deduplication_key: key, bot_config: { meeting_url: 'https://meet.google.com/ppp-qqqq-rrr' } });
      await expectError(viaOverride, 409, 'deduplication_conflict');
      assert.equal(viaOverride.body.bot_id, first.bot_id);
    });

    test('an event with a live bot under another key is 409 event_already_scheduled with the bot_id', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const first = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const res = await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      await expectError(res, 409, 'event_already_scheduled');
      assert.equal(res.body.bot_id, first.bot_id);
      assert.deepEqual(await botsOf(alice.auth, event.id), [[first.bot_id, 'Scheduled', first.scheduled_time]]);
    });

    test('keys are scoped to the user', async () => {
      const key = newKey();
      const url = `https://zoom.us/j/${zoomNumber()}`;
      const alicesEvent = await createEvent(alice.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', meeting_url: url });
      const bobsEvent = await createEvent(bob.auth, { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z', meeting_url: url });
      const alices = await scheduleOk(alice.auth, alicesEvent.id, { deduplication_key: key, bot_config: {} });
      const bobs = await scheduleOk(bob.auth, bobsEvent.id, { deduplication_key: key, bot_config: {} });
      assert.equal(bobs.updated_existing, false);
      assert.notEqual(bobs.bot_id, alices.bot_id);
      assert.notEqual(bobs.schedule_id, alices.schedule_id);
      assert.deepEqual(await botsOf(alice.auth, alicesEvent.id), [[alices.bot_id, 'Scheduled', '2026-11-27T09:57:00.000Z']]);
      assert.deepEqual(await botsOf(bob.auth, bobsEvent.id), [[bobs.bot_id, 'Scheduled', '2026-11-27T09:57:00.000Z']]);
      // Bob's key on another of his meetings conflicts only with his own bot.
      const bobsOther = await zoomEvent(bob.auth, 600);
      const conflict = await schedule(bob.auth, bobsOther.id, { deduplication_key: key, bot_config: {} });
      await expectError(conflict, 409, 'deduplication_conflict');
      assert.equal(conflict.body.bot_id, bobs.bot_id);
    });

    test('50 identical requests at once end with exactly one bot', async () => {
      const event = await zoomEvent(alice.auth, 2 * 24 * 60);
      const key = newKey();
      const responses = await Promise.all(Array.from({ length: 50 }, () => schedule(alice.auth, event.id, { deduplication_key: key, bot_config: { bot_name: 'Concurrent' } })));
      const statuses = responses.map((r) => r.status);
      assert.deepEqual(statuses, Array(50).fill(200), JSON.stringify(responses.find((r) => r.status !== 200)?.body));
      const botIds = new Set(responses.map((r) => r.body.bot_id));
      const scheduleIds = new Set(responses.map((r) => r.body.schedule_id));
      assert.equal(botIds.size, 1);
      assert.equal(scheduleIds.size, 1);
      assert.equal(responses.filter((r) => r.body.updated_existing === false).length, 1);
      const [botId] = botIds;
      assert.deepEqual(await botsOf(alice.auth, event.id), [[botId, 'Scheduled', iso(Date.parse(event.start_time) - 180_000)]]);
    });

    test('50 requests at once for one meeting on two events share one bot', async () => {
      const number = zoomNumber();
      const key = newKey();
      const a = await createEvent(alice.auth, { start_time: '2026-11-28T10:00:00Z', end_time: '2026-11-28T11:00:00Z', meeting_url: `https://zoom.us/j/${number}` });
      const b = await createEvent(alice.auth, { start_time: '2026-11-28T09:00:00Z', end_time: '2026-11-28T10:00:00Z', meeting_url: `https://us02web.zoom.us/j/${number}?pwd=x` });
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => schedule(alice.auth, i % 2 ? a.id : b.id, { deduplication_key: key, bot_config: {} })));
      assert.deepEqual(responses.map((r) => r.status), Array(50).fill(200), JSON.stringify(responses.find((r) => r.status !== 200)?.body));
      const botIds = new Set(responses.map((r) => r.body.bot_id));
      assert.equal(botIds.size, 1);
      const [botId] = botIds;
      assert.deepEqual(await botsOf(alice.auth, a.id), [[botId, 'Scheduled', '2026-11-28T08:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, b.id), [[botId, 'Scheduled', '2026-11-28T08:57:00.000Z']]);
    });
  });

  describe('concurrency across keys and occurrences', () => {
    test('20 requests at once with different keys for one event: one bot, the rest 409 event_already_scheduled', async () => {
      const event = await zoomEvent(alice.auth, 3 * 24 * 60);
      const responses = await Promise.all(Array.from({ length: 20 }, () => schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} })));
      const winners = responses.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, JSON.stringify(responses.map((r) => r.status)));
      const botId = winners[0]!.body.bot_id;
      for (const loser of responses.filter((r) => r.status !== 200)) {
        assert.equal(loser.status, 409);
        assert.equal(loser.body.code, 'event_already_scheduled');
        assert.equal(loser.body.bot_id, botId);
      }
      assert.deepEqual((await botsOf(alice.auth, event.id)).map(([id]) => id), [botId]);
    });

    test('10 identical schedule_all_occurrences requests at once end with one bot per occurrence', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-25T10:00:00Z', end_time: '2026-11-25T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const key = newKey();
      const responses = await Promise.all(Array.from({ length: 10 }, () => schedule(alice.auth, series.id, { deduplication_key: key, bot_config: {}, schedule_all_occurrences: true })));
      assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200), JSON.stringify(responses.find((r) => r.status !== 200)?.body));
      const first = responses[0]!.body.schedules_created.map((s: any) => s.bot_id);
      assert.equal(new Set(first).size, 3);
      for (const r of responses) {
        assert.equal(r.body.occurrences_scheduled, 3);
        assert.deepEqual(r.body.schedules_created.map((s: any) => s.bot_id), first);
      }
      for (const [i, key8601] of ['20261125T100000Z', '20261126T100000Z', '20261127T100000Z'].entries()) {
        assert.deepEqual((await botsOf(alice.auth, `${series.id}_${key8601}`)).map(([id]) => id), [first[i]]);
      }
    });
  });

  describe('recurring events', () => {
    /** Weekly on Tuesdays 10:00 UTC from 2026-11-17 (already over at NOW), ten times. */
    async function weeklySeries(auth: string, extra: Record<string, unknown> = {}): Promise<any> {
      return createEvent(auth, {
        title: 'Weekly', start_time: '2026-11-17T10:00:00Z', end_time: '2026-11-17T11:00:00Z', timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=10'], location: `https://zoom.us/j/${zoomNumber()}`, ...extra,
      });
    }

    test('a batch does not take over a bot the client booked on an occurrence under "<key>@something"', async () => {
      const series = await weeklySeries(alice.auth);
      const key = newKey();
      const vip = await scheduleOk(alice.auth, `${series.id}_20261124T100000Z`, { deduplication_key: `${key}@vip`, bot_config: { bot_name: 'VIP recorder' } });
      const batch = await scheduleOk(alice.auth, series.id, { deduplication_key: key, bot_config: { bot_name: 'Batch' }, schedule_all_occurrences: true, occurrence_limit: 3 });
      assert.deepEqual(batch.failed_occurrences.map((f: { code: string }) => f.code), ['event_already_scheduled'], JSON.stringify(batch));
      const kept = (await rc.request('GET', `/api/v1/bots/${vip.bot_id}`, { auth: alice.auth })).body;
      assert.equal(kept.bot_config.bot_name, 'VIP recorder');
    });

    test('an occurrence id with schedule_all_occurrences or occurrence_date stands for its series, as the list\'s ids are occurrence ids', async () => {
      const series = await weeklySeries(alice.auth);
      // The id the event list gives the occurrence of 2026-12-08; an override instance's id too.
      const occurrenceId = `${series.id}_20261208T100000Z`;
      const key = newKey();
      const all = await scheduleOk(alice.auth, occurrenceId, { deduplication_key: key, bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 3 });
      assert.deepEqual(all.schedules_created.map((c: { occurrence_start: string }) => c.occurrence_start), ['2026-11-24T10:00:00.000Z', '2026-12-01T10:00:00.000Z', '2026-12-08T10:00:00.000Z']);
      // The answer's event_id is the id named, as for occurrence_date and for unscheduling; master_event_id the series'.
      assert.deepEqual([all.event_id, all.master_event_id], [occurrenceId, series.id]);
      // The same batch through the series id finds the bots it made.
      const again = await scheduleOk(alice.auth, series.id, { deduplication_key: key, bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 3 });
      assert.deepEqual(again.schedules_created.map((c: { bot_id: string }) => c.bot_id), all.schedules_created.map((c: { bot_id: string }) => c.bot_id));
      assert.deepEqual([again.event_id, again.master_event_id], [series.id, series.id]);
      const moved = await createEvent(alice.auth, { recurring_event_id: series.id, original_start_time: '2026-12-15T10:00:00Z', start_time: '2026-12-15T12:00:00Z', end_time: '2026-12-15T13:00:00Z' });
      const dated = await scheduleOk(alice.auth, moved.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-22' });
      assert.deepEqual([dated.event_id, dated.occurrence_date, dated.master_event_id], [moved.id, '2026-12-22T10:00:00.000Z', series.id]);
      // An override instance's id with schedule_all_occurrences alike.
      const viaOverride = await scheduleOk(alice.auth, moved.id, { deduplication_key: key, bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 3 });
      assert.deepEqual([viaOverride.event_id, viaOverride.master_event_id], [moved.id, series.id]);
    });

    test('without options the next occurrence that has not ended is scheduled', async () => {
      const series = await weeklySeries(alice.auth);
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {} });
      assert.equal(res.scheduled, true);
      assert.equal(res.event_id, series.id);
      assert.equal(res.occurrence_date, '2026-11-24T10:00:00.000Z');
      assert.equal(res.is_recurring_occurrence, true);
      assert.equal(res.scheduled_time, '2026-11-24T09:57:00.000Z');
      assert.equal(res.updated_existing, false);
      assert.equal(res.schedule_group, 'zoom');
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261124T100000Z`), [[res.bot_id, 'Scheduled', '2026-11-24T09:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261201T100000Z`), []);
    });

    test('an occurrence under way is the next one, and its bot joins now', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-19T11:30:00Z', end_time: '2026-11-19T12:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      // 2026-11-20T11:30-12:30 is under way at NOW.
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {} });
      assert.equal(res.occurrence_date, '2026-11-20T11:30:00.000Z');
      assert.equal(res.scheduled_time, iso(NOW));
    });

    test('occurrence_date as a date or a date-time picks that occurrence; no match is 404', async () => {
      const series = await weeklySeries(alice.auth);
      const byDate = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' });
      assert.equal(byDate.occurrence_date, '2026-12-01T10:00:00.000Z');
      assert.equal(byDate.is_recurring_occurrence, true);
      assert.equal(byDate.scheduled_time, '2026-12-01T09:57:00.000Z');
      const byInstant = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-08T11:00:00+01:00' });
      assert.equal(byInstant.occurrence_date, '2026-12-08T10:00:00.000Z');
      assert.equal(byInstant.scheduled_time, '2026-12-08T09:57:00.000Z');
      assert.notEqual(byInstant.bot_id, byDate.bot_id);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261201T100000Z`), [[byDate.bot_id, 'Scheduled', '2026-12-01T09:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261208T100000Z`), [[byInstant.bot_id, 'Scheduled', '2026-12-08T09:57:00.000Z']]);

      for (const date of ['2026-12-02', '2026-12-08T10:30:00Z', '2027-06-01']) {
        const res = await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: date });
        await expectError(res, 404, 'occurrence_not_found', /occurrence_date/);
      }
      // An occurrence that is over cannot get a bot.
      await expectError(await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-17' }), 400, 'event_ended');
    });

    test('a date occurrence_date is read in the series time zone', async () => {
      // 23:30 in Los Angeles is the next day in UTC.
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-23T23:30:00-08:00', end_time: '2026-11-24T00:00:00-08:00', timezone: 'America/Los_Angeles',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-30' });
      assert.equal(res.occurrence_date, '2026-12-01T07:30:00.000Z');
      await expectError(await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' }), 404, 'occurrence_not_found');
    });

    test('a series with no occurrence left is 400 event_ended', async () => {
      const over = await createEvent(alice.auth, {
        start_time: '2026-11-10T10:00:00Z', end_time: '2026-11-10T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      await expectError(await schedule(alice.auth, over.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_ended');
      await expectError(await schedule(alice.auth, over.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true }), 400, 'event_ended');
    });

    test('occurrence options on a single event are 400 event_not_recurring', async () => {
      const event = await zoomEvent(alice.auth, 600);
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-20' }), 400, 'event_not_recurring', /occurrence_date/);
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true }), 400, 'event_not_recurring', /schedule_all_occurrences/);
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
    });

    test('an occurrence id can be scheduled directly', async () => {
      const series = await weeklySeries(alice.auth);
      const occurrenceId = `${series.id}_20261215T100000Z`;
      const res = await scheduleOk(alice.auth, occurrenceId, { deduplication_key: newKey(), bot_config: {} });
      assert.equal(res.event_id, occurrenceId);
      assert.equal(res.occurrence_date, '2026-12-15T10:00:00.000Z');
      assert.equal(res.is_recurring_occurrence, true);
      assert.equal(res.scheduled_time, '2026-12-15T09:57:00.000Z');
      assert.deepEqual(await botsOf(alice.auth, occurrenceId), [[res.bot_id, 'Scheduled', '2026-12-15T09:57:00.000Z']]);
      // Scheduling the same occurrence through occurrence_date under another key is a 409.
      const clash = await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-15' });
      await expectError(clash, 409, 'event_already_scheduled');
      assert.equal(clash.body.bot_id, res.bot_id);
    });

    test('schedule_all_occurrences gives each occurrence its own bot, up to occurrence_limit', async () => {
      const dave = await rc.newUser();
      const series = await weeklySeries(dave.auth);
      const key = newKey();
      const res = await scheduleOk(dave.auth, series.id, { deduplication_key: key, bot_config: { bot_name: 'Series bot' }, schedule_all_occurrences: true, occurrence_limit: 5 });
      const expectedStarts = ['2026-11-24', '2026-12-01', '2026-12-08', '2026-12-15', '2026-12-22'].map((d) => `${d}T10:00:00.000Z`);
      assert.equal(res.scheduled, true);
      assert.equal(res.master_event_id, series.id);
      assert.equal(res.event_id, series.id);
      assert.equal(res.total_occurrences, 5);
      assert.equal(res.occurrences_scheduled, 5);
      assert.equal(res.occurrences_failed, 0);
      assert.deepEqual(res.failed_occurrences, []);
      assert.equal(res.updated_existing, false);
      assert.equal(res.schedules_created.length, 5);
      assert.deepEqual(res.schedules_created.map((s: any) => s.occurrence_start), expectedStarts);
      for (const created of res.schedules_created) {
        assert.deepEqual(Object.keys(created).sort(), ['bot_id', 'occurrence_start', 'schedule_id', 'scheduled_time']);
        assert.match(created.bot_id, /^bot_/);
        assert.match(created.schedule_id, SCHEDULE_ID);
        assert.equal(created.scheduled_time, iso(Date.parse(created.occurrence_start) - 180_000));
      }
      assert.equal(new Set(res.schedules_created.map((s: any) => s.bot_id)).size, 5);
      assert.equal(new Set(res.schedules_created.map((s: any) => s.schedule_id)).size, 5);
      assert.equal(res.bot_id, res.schedules_created[0].bot_id);
      assert.equal(res.schedule_id, res.schedules_created[0].schedule_id);
      assert.equal(res.scheduled_time, res.schedules_created[0].scheduled_time);
      assert.equal(res.schedule_group, 'zoom');
      assert.equal(res.bot_config.bot_name, 'Series bot');

      // Each occurrence shows its own bot; the sixth has none.
      for (const created of res.schedules_created) {
        const key8601 = created.occurrence_start.replace(/[-:]/g, '').replace('.000', '');
        assert.deepEqual(await botsOf(dave.auth, `${series.id}_${key8601}`), [[created.bot_id, 'Scheduled', created.scheduled_time]]);
      }
      assert.deepEqual(await botsOf(dave.auth, `${series.id}_20261229T100000Z`), []);

      // Again with the same key: updated in place, no new bots.
      const again = await scheduleOk(dave.auth, series.id, { deduplication_key: key, bot_config: { bot_name: 'Renamed' }, schedule_all_occurrences: true, occurrence_limit: 5 });
      assert.equal(again.updated_existing, true);
      assert.equal(again.occurrences_scheduled, 5);
      assert.deepEqual(again.schedules_created, res.schedules_created);
      assert.equal(again.bot_config.bot_name, 'Renamed');
      const listed = await rc.request('GET', `${EVENTS}?time_min=2026-11-01T00:00:00Z&time_max=2027-02-01T00:00:00Z&limit=100`, { auth: dave.auth });
      const occurrences = listed.body.results.filter((r: any) => r.recurring_event_id === series.id);
      assert.equal(occurrences.length, 10);
      assert.deepEqual(occurrences.map((o: any) => o.bots.length), [0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
      assert.deepEqual(occurrences.flatMap((o: any) => o.bots.map((b: any) => b.bot_id)), res.schedules_created.map((s: any) => s.bot_id));
    });

    test('a cancelled occurrence is reported in failed_occurrences while the others succeed', async () => {
      const series = await weeklySeries(alice.auth);
      const cancelled = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', status: 'cancelled' } });
      assert.equal(cancelled.status, 201);
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 3 });
      assert.equal(res.total_occurrences, 3);
      assert.equal(res.occurrences_scheduled, 2);
      assert.equal(res.occurrences_failed, 1);
      assert.deepEqual(res.schedules_created.map((s: any) => s.occurrence_start), ['2026-11-24T10:00:00.000Z', '2026-12-08T10:00:00.000Z']);
      assert.equal(res.failed_occurrences.length, 1);
      assert.deepEqual(Object.keys(res.failed_occurrences[0]).sort(), ['code', 'error', 'occurrence_start']);
      assert.equal(res.failed_occurrences[0].occurrence_start, '2026-12-01T10:00:00.000Z');
      assert.equal(res.failed_occurrences[0].code, 'event_cancelled');
      assert.equal(typeof res.failed_occurrences[0].error, 'string');
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261208T100000Z`), [[res.schedules_created[1].bot_id, 'Scheduled', '2026-12-08T09:57:00.000Z']]);

      // Scheduling just the cancelled occurrence is refused.
      const cancelledOccurrence = await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' });
      await expectError(cancelledOccurrence, 400, 'event_cancelled');
      assert.equal(cancelledOccurrence.body.details?.field, 'event_id');
    });

    test('messages about one occurrence name the occurrence, not the series: its cancellation, and an occurrence that has ended', async () => {
      const series = await weeklySeries(alice.auth);
      const booked = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' });
      const cancelled = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', status: 'cancelled' } });
      assert.equal(cancelled.status, 201);
      const decisions = (await rc.request('GET', `/api/v1/bots/${booked.bot_id}`, { auth: alice.auth })).body.decisions as { kind: string; reason: string }[];
      assert.ok(decisions.some((d) => d.reason.includes(`The occurrence 20261201T100000Z of series ${series.id} was cancelled`)), JSON.stringify(decisions));
      const ended = await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-17' });
      await expectError(ended, 400, 'event_ended');
      assert.equal(ended.body.error, `The occurrence of ${series.id} at 2026-11-17T10:00:00.000Z has already ended`);
    });

    test('a moved occurrence is scheduled at its new time', async () => {
      const series = await weeklySeries(alice.auth);
      const moved = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-11-24T10:00:00Z', start_time: '2026-11-25T16:00:00Z', end_time: '2026-11-25T17:00:00Z' } });
      assert.equal(moved.status, 201);
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-24' });
      assert.equal(res.occurrence_date, '2026-11-24T10:00:00.000Z');
      assert.equal(res.scheduled_time, '2026-11-25T15:57:00.000Z');
      assert.deepEqual(await botsOf(alice.auth, moved.body.id), [[res.bot_id, 'Scheduled', '2026-11-25T15:57:00.000Z']]);
    });

    test('custom_attributes.event_id is the id the event list shows for the occurrence, however it was booked', async () => {
      // Before: a booking through the series' id (with occurrence_date or without) carried the
      // series' id, one through schedule_all_occurrences the occurrence's.
      const series = await weeklySeries(alice.auth);
      const moved = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', start_time: '2026-12-02T16:00:00Z', end_time: '2026-12-02T17:00:00Z' } });
      assert.equal(moved.status, 201);
      const listed = await rc.request('GET', `${EVENTS}?time_min=2026-11-20T00:00:00Z&time_max=2026-12-20T00:00:00Z&limit=100`, { auth: alice.auth });
      const idOn = (start: string) => listed.body.results.find((e: any) => e.recurring_event_id === series.id && e.start_time === start)?.id as string;
      const booked = {
        next: await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {} }),
        byDate: await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-08' }),
        byOwnId: await scheduleOk(alice.auth, idOn('2026-12-15T10:00:00.000Z'), { deduplication_key: newKey(), bot_config: {} }),
        moved: await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' }),
      };
      const eventIdOf = async (botId: string) => (await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth: alice.auth })).body.custom_attributes.event_id;
      assert.deepEqual({
        next: await eventIdOf(booked.next.bot_id),
        byDate: await eventIdOf(booked.byDate.bot_id),
        byOwnId: await eventIdOf(booked.byOwnId.bot_id),
        moved: await eventIdOf(booked.moved.bot_id),
      }, {
        next: idOn('2026-11-24T10:00:00.000Z'),
        byDate: idOn('2026-12-08T10:00:00.000Z'),
        byOwnId: idOn('2026-12-15T10:00:00.000Z'),
        moved: moved.body.id,
      });
      assert.equal(idOn('2026-12-02T16:00:00.000Z'), moved.body.id, 'the moved occurrence is listed through its override');
      // The answer still names the event asked for.
      assert.equal(booked.byDate.event_id, series.id);
    });

    test('a date occurrence_date names the occurrence happening that day: one moved there included, the day\'s own first', async () => {
      const series = await weeklySeries(alice.auth);
      // Tuesday 1 December moved to Thursday 3 December: the client sees it on the 3rd.
      const moved = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', start_time: '2026-12-03T15:00:00Z', end_time: '2026-12-03T16:00:00Z' } });
      assert.equal(moved.status, 201);
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-03' });
      assert.equal(res.occurrence_date, '2026-12-01T10:00:00.000Z');
      assert.equal(res.scheduled_time, '2026-12-03T14:57:00.000Z');
      // Its original date still names it.
      const again = await schedule(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' });
      await expectError(again, 409, 'event_already_scheduled');
      assert.equal(again.body.bot_id, res.bot_id);

      // Daily: the 3rd's own occurrence before the 2nd's moved onto the 3rd; the moved one once the 3rd's own is cancelled.
      const daily = await createEvent(alice.auth, {
        start_time: '2026-11-30T10:00:00Z', end_time: '2026-11-30T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=10'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      assert.equal((await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: daily.id, original_start_time: '2026-12-02T10:00:00Z', start_time: '2026-12-03T16:00:00Z', end_time: '2026-12-03T17:00:00Z' } })).status, 201);
      const own = await scheduleOk(alice.auth, daily.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-03' });
      assert.equal(own.occurrence_date, '2026-12-03T10:00:00.000Z');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/schedule/${daily.id}_20261203T100000Z`, { auth: alice.auth })).status, 200);
      assert.equal((await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: daily.id, original_start_time: '2026-12-03T10:00:00Z', status: 'cancelled' } })).status, 201);
      const movedIn = await scheduleOk(alice.auth, daily.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-03' });
      assert.equal(movedIn.occurrence_date, '2026-12-02T10:00:00.000Z');
      assert.equal(movedIn.scheduled_time, '2026-12-03T15:57:00.000Z');
    });

    test('a date of a series that meets several times that day names the first occurrence still to come', async () => {
      // Hourly from 09:00 UTC, half an hour each; it is 12:00: 09:00-11:00 have ended, 12:00 is under way.
      const hourly = await createEvent(alice.auth, {
        start_time: '2026-11-20T09:00:00Z', end_time: '2026-11-20T09:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=HOURLY;BYHOUR=9,10,11,12,13,14;COUNT=12'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const today = await scheduleOk(alice.auth, hourly.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-20' });
      assert.equal(today.occurrence_date, '2026-11-20T12:00:00.000Z');
      // Started 12:00, joins at once (it is under way).
      assert.equal(today.scheduled_time, iso(NOW));
      // The next one of the day, once that one is booked: asked by its instant.
      const next = await scheduleOk(alice.auth, hourly.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-20T13:00:00Z' });
      assert.equal(next.scheduled_time, '2026-11-20T12:57:00.000Z');
      // The same request sent again under its key after "its" occurrence ended keeps to that
      // occurrence (refused as ended), rather than moving its bot to the day's next one.
      const key = newKey();
      const booked = await scheduleOk(alice.auth, hourly.id, { deduplication_key: key, bot_config: {}, occurrence_date: '2026-11-21' });
      assert.equal(booked.occurrence_date, '2026-11-21T09:00:00.000Z');
      clock.set(Date.parse('2026-11-21T09:40:00Z'));
      try {
        await expectError(await schedule(alice.auth, hourly.id, { deduplication_key: key, bot_config: {}, occurrence_date: '2026-11-21' }), 400, 'event_ended');
        const bot = (await rc.request('GET', `/api/v1/bots/${booked.bot_id}`, { auth: alice.auth })).body;
        assert.deepEqual(bot.events.filter((e: { is_linked: boolean }) => e.is_linked).map((e: { start_time: string }) => e.start_time), ['2026-11-21T09:00:00.000Z'], 'still only its own occurrence');
        // Another key is told of the day's next occurrence still to come.
        const other = await scheduleOk(alice.auth, hourly.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-11-21' });
        assert.equal(other.occurrence_date, '2026-11-21T10:00:00.000Z');
      } finally {
        clock.set(NOW);
      }
    });

    test('a cancelled or deleted series is 400 event_cancelled', async () => {
      const cancelled = await weeklySeries(alice.auth, { status: 'cancelled' });
      const refused = await schedule(alice.auth, cancelled.id, { deduplication_key: newKey(), bot_config: {} });
      await expectError(refused, 400, 'event_cancelled');
      assert.deepEqual(refused.body.details, { field: 'event_id' }, 'the field is named, as for event_ended');
      await expectError(await schedule(alice.auth, cancelled.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true }), 400, 'event_cancelled');
      await expectError(await schedule(alice.auth, `${cancelled.id}_20261124T100000Z`, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_cancelled');
      const deleted = await weeklySeries(alice.auth);
      await rc.request('DELETE', `${EVENTS}/${deleted.id}`, { auth: alice.auth });
      await expectError(await schedule(alice.auth, deleted.id, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_cancelled');
      await expectError(await schedule(alice.auth, `${deleted.id}_20261124T100000Z`, { deduplication_key: newKey(), bot_config: {} }), 400, 'event_cancelled');
    });

    test('52 weekly occurrences at 09:00 America/New_York across DST all join at 08:57 local', async () => {
      // A user of its own, so that the year-long listing below holds only this series.
      const carol = await rc.newUser();
      const series = await createEvent(carol.auth, {
        title: 'NY weekly', start_time: '2026-11-24T09:00:00-05:00', end_time: '2026-11-24T09:30:00-05:00', timezone: 'America/New_York',
        recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU'], location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const res = await scheduleOk(carol.auth, series.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true });
      assert.equal(res.total_occurrences, 52);
      assert.equal(res.occurrences_scheduled, 52);
      assert.equal(res.occurrences_failed, 0);
      assert.equal(new Set(res.schedules_created.map((s: any) => s.bot_id)).size, 52);
      for (const created of res.schedules_created) {
        assert.equal(localTime(created.occurrence_start, 'America/New_York'), '09:00', created.occurrence_start);
        assert.equal(localTime(created.scheduled_time, 'America/New_York'), '08:57', created.scheduled_time);
      }
      // Both sides of the 2027-03-14 change are in the batch.
      const utcTimes = new Set(res.schedules_created.map((s: any) => s.scheduled_time.slice(11, 16)));
      assert.deepEqual([...utcTimes].sort(), ['12:57', '13:57']);
      assert.equal(res.schedules_created[0].scheduled_time, '2026-11-24T13:57:00.000Z');
      assert.equal(res.schedules_created.at(-1).occurrence_start, '2027-11-16T14:00:00.000Z');
      // Read back: every occurrence in the year lists its bot at 08:57 local.
      const listed = await rc.request('GET', `${EVENTS}?time_min=2026-11-20T00:00:00Z&time_max=2027-11-20T00:00:00Z&limit=100`, { auth: carol.auth });
      const occurrences = listed.body.results.filter((r: any) => r.recurring_event_id === series.id);
      assert.equal(occurrences.length, 52);
      for (const occurrence of occurrences) {
        assert.equal(occurrence.bots.length, 1, occurrence.id);
        assert.equal(localTime(occurrence.bots[0].scheduled_time, 'America/New_York'), '08:57');
      }
    });
  });

  describe('calendar changes move and cancel bots', () => {
    test('moving the event moves the bot', async () => {
      const event = await zoomEvent(alice.auth, 2 * 24 * 60);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const patched = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: '2026-11-23T08:00:00Z', end_time: '2026-11-23T09:00:00Z' } });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body.bots.map((b: any) => [b.bot_id, b.status, b.scheduled_time]), [[res.bot_id, 'Scheduled', '2026-11-23T07:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', '2026-11-23T07:57:00.000Z']]);
      // Moving it so that it is under way: the bot joins now.
      await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: iso(NOW - 60_000) } });
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', iso(NOW)]]);
    });

    test('a pinned join_at is kept when the event moves', async () => {
      const event = await zoomEvent(alice.auth, 2 * 24 * 60);
      const joinAt = iso(Date.parse(event.start_time) - 3_600_000);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { join_at: joinAt } });
      await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { end_time: iso(Date.parse(event.end_time) + 3_600_000) } });
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', joinAt]]);
    });

    test('a pinned join_at moves with its meeting when the calendar moves the start, so the bot neither joins hours early nor misses a meeting moved earlier', async () => {
      const event = await zoomEvent(alice.auth, 2 * 24 * 60);
      const start = Date.parse(event.start_time);
      const joinAt = iso(start - 10 * 60_000);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: { join_at: joinAt } });
      // Moved a day earlier (the old pin would be after the new end: the bot would be Missed).
      await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: iso(start - 86_400_000), end_time: iso(start - 86_400_000 + 3_600_000) } });
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', iso(start - 86_400_000 - 10 * 60_000)]]);
      // Moved two hours later than first planned: ten minutes before that start.
      await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: iso(start + 2 * 3_600_000), end_time: iso(start + 3 * 3_600_000) } });
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', iso(start + 2 * 3_600_000 - 10 * 60_000)]]);
      const bot = (await rc.request('GET', `/api/v1/bots/${res.bot_id}`, { auth: alice.auth })).body;
      assert.equal(bot.bot_config.join_at, iso(start + 2 * 3_600_000 - 10 * 60_000), 'the configuration shows the pin where it is');
      assert.ok(bot.decisions.some((d: { kind: string; reason: string }) => d.kind === 'rescheduled' && /pinned join time moves with the meeting/.test(d.reason)));
      // Moved and given another link in one change: the pin follows the start all the same.
      const otherLink = `https://zoom.us/j/${zoomNumber()}`;
      await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: iso(start + 26 * 3_600_000), end_time: iso(start + 27 * 3_600_000), location: otherLink } });
      const relinked = (await rc.request('GET', `/api/v1/bots/${res.bot_id}`, { auth: alice.auth })).body;
      assert.equal(relinked.meeting_url, otherLink);
      assert.equal(relinked.scheduled_join_time ?? relinked.scheduled_time, iso(start + 26 * 3_600_000 - 10 * 60_000));
    });

    test('cancelling the event cancels the bot', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const key = newKey();
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: {} });
      const patched = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { status: 'cancelled' } });
      assert.equal(patched.status, 200);
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
      // The key is free again once the bot is gone; the cancelled event still refuses a bot.
      await expectError(await schedule(alice.auth, event.id, { deduplication_key: key, bot_config: {} }), 400, 'event_cancelled');
      const reconfirmed = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { status: 'confirmed' } });
      assert.equal(reconfirmed.status, 200);
      const fresh = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: {} });
      assert.notEqual(fresh.bot_id, res.bot_id);
      assert.equal(fresh.updated_existing, false);
      assert.deepEqual((await botsOf(alice.auth, event.id)).map(([id, status]) => [id, status]), [[fresh.bot_id, 'Scheduled']]);
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
    });

    test('deleting the event cancels the bot', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const deleted = await rc.request('DELETE', `${EVENTS}/${event.id}`, { auth: alice.auth });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body.bots, []);
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
    });

    test('cancelling one occurrence cancels its bot only', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true });
      assert.equal(res.occurrences_scheduled, 4);
      const cancel = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', status: 'cancelled' } });
      assert.equal(cancel.status, 201);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261201T100000Z`), []);
      assert.equal(await statusOf(alice.auth, res.schedules_created[1].bot_id), 'Cancelled');
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261208T100000Z`), [[res.schedules_created[2].bot_id, 'Scheduled', '2026-12-08T09:57:00.000Z']]);
      // Moving another occurrence moves its bot.
      const move = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-15T10:00:00Z', start_time: '2026-12-15T14:00:00Z', end_time: '2026-12-15T15:00:00Z' } });
      assert.equal(move.status, 201);
      assert.deepEqual(await botsOf(alice.auth, move.body.id), [[res.schedules_created[3].bot_id, 'Scheduled', '2026-12-15T13:57:00.000Z']]);
      // Deleting the series cancels every bot that is left.
      await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: alice.auth });
      for (const occurrence of [`${series.id}_20261124T100000Z`, `${series.id}_20261208T100000Z`, move.body.id]) assert.deepEqual(await botsOf(alice.auth, occurrence), []);
      for (const index of [0, 2, 3]) assert.equal(await statusOf(alice.auth, res.schedules_created[index].bot_id), 'Cancelled');
    });

    test('re-timing a series moves the bots of its occurrences', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 2 });
      const patched = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: alice.auth, body: { start_time: '2026-11-24T11:00:00Z', end_time: '2026-11-24T12:00:00Z' } });
      assert.equal(patched.status, 200);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261124T110000Z`), [[res.schedules_created[0].bot_id, 'Scheduled', '2026-11-24T10:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261201T110000Z`), [[res.schedules_created[1].bot_id, 'Scheduled', '2026-12-01T10:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261208T110000Z`), []);
    });

    test('changing or deleting an override instance moves or cancels the bot of its occurrence', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const override = await createEvent(alice.auth, { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', start_time: '2026-12-02T10:00:00Z', end_time: '2026-12-02T11:00:00Z' });
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, occurrence_date: '2026-12-01' });
      assert.equal(res.scheduled_time, '2026-12-02T09:57:00.000Z');

      const moved = await rc.request('PATCH', `${EVENTS}/${override.id}`, { auth: alice.auth, body: { start_time: '2026-12-03T15:00:00Z', end_time: '2026-12-03T16:00:00Z' } });
      assert.equal(moved.status, 200);
      assert.deepEqual(await botsOf(alice.auth, override.id), [[res.bot_id, 'Scheduled', '2026-12-03T14:57:00.000Z']]);

      // Deleting the override puts the occurrence back at its rule time, and the bot with it.
      assert.equal((await rc.request('DELETE', `${EVENTS}/${override.id}`, { auth: alice.auth })).status, 200);
      assert.deepEqual(await botsOf(alice.auth, `${series.id}_20261201T100000Z`), [[res.bot_id, 'Scheduled', '2026-12-01T09:57:00.000Z']]);

      // A new override that is then cancelled by PATCH cancels the bot.
      const again = await createEvent(alice.auth, { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z' });
      assert.deepEqual(await botsOf(alice.auth, again.id), [[res.bot_id, 'Scheduled', '2026-12-01T09:57:00.000Z']]);
      const cancelled = await rc.request('PATCH', `${EVENTS}/${again.id}`, { auth: alice.auth, body: { status: 'cancelled' } });
      assert.equal(cancelled.status, 200);
      assert.deepEqual(await botsOf(alice.auth, again.id), []);
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
    });

    test('an EXDATE added to a series cancels the bot of the occurrence it removes', async () => {
      const series = await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const res = await scheduleOk(alice.auth, series.id, { deduplication_key: newKey(), bot_config: {}, schedule_all_occurrences: true });
      assert.equal(res.occurrences_scheduled, 4);
      const patched = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: alice.auth, body: { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20261208T100000Z'] } });
      assert.equal(patched.status, 200);
      const listed = await rc.request('GET', `${EVENTS}?time_min=2026-11-24T00:00:00Z&time_max=2026-12-31T00:00:00Z&limit=100`, { auth: alice.auth });
      const occurrences = listed.body.results.filter((r: any) => r.recurring_event_id === series.id);
      assert.deepEqual(occurrences.map((o: any) => [o.id, o.bots.map((b: any) => [b.bot_id, b.status])]), [
        [`${series.id}_20261124T100000Z`, [[res.schedules_created[0].bot_id, 'Scheduled']]],
        [`${series.id}_20261201T100000Z`, [[res.schedules_created[1].bot_id, 'Scheduled']]],
        [`${series.id}_20261215T100000Z`, [[res.schedules_created[3].bot_id, 'Scheduled']]],
      ]);
      // The removed occurrence cannot be fetched; its bot is cancelled.
      assert.equal((await rc.request('GET', `${EVENTS}/${series.id}_20261208T100000Z`, { auth: alice.auth })).status, 404);
      const removedBot = await rc.request('GET', `/api/v1/bots/${res.schedules_created[2].bot_id}`, { auth: alice.auth });
      assert.equal(removedBot.status, 200);
      assert.equal(removedBot.body.status, 'Cancelled');
    });

    test('a series moved to another day: each bot follows its own week (a bot booked by hand included); a monthly EXDATE moves no bot to the month beside it', async () => {
      const weekly = await createEvent(alice.auth, {
        start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const byHand = await scheduleOk(alice.auth, `${weekly.id}_20261208T100000Z`, { deduplication_key: newKey(), bot_config: {} });
      // Tuesday to Monday (a day earlier), then to Thursday.
      for (const [start, occurrence, join] of [['2026-11-23T10:00:00Z', '20261207T100000Z', '2026-12-07T09:57:00.000Z'], ['2026-11-26T10:00:00Z', '20261210T100000Z', '2026-12-10T09:57:00.000Z']] as const) {
        const patched = await rc.request('PATCH', `${EVENTS}/${weekly.id}`, { auth: alice.auth, body: { start_time: start, end_time: start.replace('T10', 'T11') } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.deepEqual(await botsOf(alice.auth, `${weekly.id}_${occurrence}`), [[byHand.bot_id, 'Scheduled', join]]);
      }
      const monthly = await createEvent(alice.auth, {
        start_time: '2027-01-01T10:00:00Z', end_time: '2027-01-01T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=MONTHLY;COUNT=12'],
        location: `https://zoom.us/j/${zoomNumber()}`,
      });
      const july = await scheduleOk(alice.auth, `${monthly.id}_20270701T100000Z`, { deduplication_key: newKey(), bot_config: {} });
      const patched = await rc.request('PATCH', `${EVENTS}/${monthly.id}`, { auth: alice.auth, body: { recurrence: ['RRULE:FREQ=MONTHLY;COUNT=12', 'EXDATE:20270701T100000Z'] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(await statusOf(alice.auth, july.bot_id), 'Cancelled');
      for (const neighbour of ['20270601T100000Z', '20270801T100000Z']) assert.deepEqual(await botsOf(alice.auth, `${monthly.id}_${neighbour}`), []);
    });

    test('a bot follows its event to a new meeting link', async () => {
      const key = newKey();
      const event = await zoomEvent(alice.auth, 600);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: key, bot_config: {} });
      const newUrl = `https://zoom.us/j/${zoomNumber()}`;
      const patched = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { location: newUrl } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.meeting_url, newUrl);
      assert.deepEqual(await botsOf(alice.auth, event.id), [[res.bot_id, 'Scheduled', res.scheduled_time]]);
      const bot = await rc.request('GET', `/api/v1/bots/${res.bot_id}`, { auth: alice.auth });
      assert.equal(bot.body.meeting_url, newUrl);
      // The key now stands for the new meeting: another event on it shares the bot...
      const sameNewMeeting = await createEvent(alice.auth, { start_time: '2026-11-22T10:00:00Z', end_time: '2026-11-22T11:00:00Z', meeting_url: newUrl });
      const shared = await scheduleOk(alice.auth, sameNewMeeting.id, { deduplication_key: key, bot_config: {} });
      assert.equal(shared.bot_id, res.bot_id);
      // ...and the old meeting is a different one.
      const oldMeeting = await createEvent(alice.auth, { start_time: '2026-11-22T10:00:00Z', end_time: '2026-11-22T11:00:00Z', meeting_url: event.meeting_url });
      const conflict = await schedule(alice.auth, oldMeeting.id, { deduplication_key: key, bot_config: {} });
      await expectError(conflict, 409, 'deduplication_conflict');
      assert.equal(conflict.body.bot_id, res.bot_id);
    });

    test('an event whose meeting link is taken out loses its bot, saying why; a bot booked with its own meeting_url keeps it; a shared bot stays for its other event', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const given = await zoomEvent(alice.auth, 600);
      const ownLink = await scheduleOk(alice.auth, given.id, { deduplication_key: newKey(), bot_config: { meeting_url: `https://zoom.us/j/${zoomNumber()}` } });
      // One meeting, two events (a second attendee's copy): the bot is shared.
      const number = zoomNumber();
      const mine = await createEvent(alice.auth, { start_time: iso(NOW + 600 * 60_000), end_time: iso(NOW + 660 * 60_000), location: `https://zoom.us/j/${number}` });
      const theirs = await createEvent(alice.auth, { start_time: iso(NOW + 600 * 60_000), end_time: iso(NOW + 660 * 60_000), location: `https://zoom.us/j/${number}` });
      const sharedKey = newKey();
      const shared = await scheduleOk(alice.auth, mine.id, { deduplication_key: sharedKey, bot_config: {} });
      assert.equal((await scheduleOk(alice.auth, theirs.id, { deduplication_key: sharedKey, bot_config: {} })).bot_id, shared.bot_id);

      for (const id of [event.id, given.id, mine.id]) {
        const patched = await rc.request('PATCH', `${EVENTS}/${id}`, { auth: alice.auth, body: { location: 'Room 4, second floor' } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.equal(patched.body.meeting_url, null);
      }
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
      const detail = (await rc.request('GET', `/api/v1/bots/${res.bot_id}`, { auth: alice.auth })).body;
      assert.ok(detail.decisions.some((d: any) => /meeting link of event .* was removed/.test(d.reason)), JSON.stringify(detail.decisions));
      assert.equal(await statusOf(alice.auth, ownLink.bot_id), 'Scheduled', 'the client named the meeting itself');
      assert.equal(await statusOf(alice.auth, shared.bot_id), 'Scheduled', 'the other copy still names the meeting');
      assert.deepEqual((await botsOf(alice.auth, theirs.id)).map(([id]) => id), [shared.bot_id]);
      assert.deepEqual(await botsOf(alice.auth, mine.id), []);
    });

    test('a meeting_url the client gave is kept when the description that also held it changes; a link found in the text is looked for again', async () => {
      const url = `https://us02web.zoom.us/j/${zoomNumber()}?pwd=abc`;
      const given = await zoomEvent(alice.auth, 600, { location: null, meeting_url: url, description: `Join: ${url}` });
      const givenBot = await scheduleOk(alice.auth, given.id, { deduplication_key: newKey(), bot_config: {} });
      const found = await zoomEvent(alice.auth, 600, { location: null, description: `Join: https://zoom.us/j/${zoomNumber()}` });
      const foundBot = await scheduleOk(alice.auth, found.id, { deduplication_key: newKey(), bot_config: {} });
      for (const id of [given.id, found.id]) {
        assert.equal((await rc.request('PATCH', `${EVENTS}/${id}`, { auth: alice.auth, body: { description: 'Agenda v2' } })).status, 200);
      }
      assert.equal((await getEvent(alice.auth, given.id)).meeting_url, url);
      assert.equal(await statusOf(alice.auth, givenBot.bot_id), 'Scheduled');
      assert.equal((await getEvent(alice.auth, found.id)).meeting_url, null);
      assert.equal(await statusOf(alice.auth, foundBot.bot_id), 'Cancelled');

      // An override of a series whose link is in its text carries that link as found: changing
      // the override's own text looks for it again.
      const series = await createEvent(alice.auth, { start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], description: `Join: https://zoom.us/j/${zoomNumber()}` });
      const override = await createEvent(alice.auth, { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', start_time: '2026-12-01T12:00:00Z', end_time: '2026-12-01T13:00:00Z' });
      assert.equal(override.meeting_url, series.meeting_url);
      const overrideBot = await scheduleOk(alice.auth, override.id, { deduplication_key: newKey(), bot_config: {} });
      assert.equal((await rc.request('PATCH', `${EVENTS}/${override.id}`, { auth: alice.auth, body: { description: 'Moved to Room 4' } })).status, 200);
      assert.equal((await getEvent(alice.auth, override.id)).meeting_url, null);
      assert.equal(await statusOf(alice.auth, overrideBot.bot_id), 'Cancelled');
    });

    test('moving an event into the past cancels its bot', async () => {
      const event = await zoomEvent(alice.auth, 600);
      const res = await scheduleOk(alice.auth, event.id, { deduplication_key: newKey(), bot_config: {} });
      const patched = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: '2026-11-19T10:00:00Z', end_time: '2026-11-19T11:00:00Z' } });
      assert.equal(patched.status, 200);
      assert.deepEqual(await botsOf(alice.auth, event.id), []);
      assert.equal(await statusOf(alice.auth, res.bot_id), 'Cancelled');
    });

    test('a shared bot survives the deletion of one of its events and is cancelled with the last', async () => {
      const number = zoomNumber();
      const key = newKey();
      const a = await createEvent(alice.auth, { start_time: '2026-11-26T14:00:00Z', end_time: '2026-11-26T15:00:00Z', meeting_url: `https://zoom.us/j/${number}` });
      const b = await createEvent(alice.auth, { start_time: '2026-11-26T15:00:00Z', end_time: '2026-11-26T16:00:00Z', meeting_url: `https://us02web.zoom.us/j/${number}?pwd=p` });
      const first = await scheduleOk(alice.auth, a.id, { deduplication_key: key, bot_config: {} });
      const shared = await scheduleOk(alice.auth, b.id, { deduplication_key: key, bot_config: {} });
      assert.equal(shared.bot_id, first.bot_id);
      assert.equal(shared.scheduled_time, '2026-11-26T13:57:00.000Z');

      assert.equal((await rc.request('DELETE', `${EVENTS}/${a.id}`, { auth: alice.auth })).status, 200);
      // The bot stays for b, and now joins for b's start.
      assert.deepEqual(await botsOf(alice.auth, b.id), [[first.bot_id, 'Scheduled', '2026-11-26T14:57:00.000Z']]);
      assert.deepEqual(await botsOf(alice.auth, a.id), []);

      assert.equal((await rc.request('DELETE', `${EVENTS}/${b.id}`, { auth: alice.auth })).status, 200);
      assert.deepEqual(await botsOf(alice.auth, b.id), []);
      assert.equal(await statusOf(alice.auth, first.bot_id), 'Cancelled');
    });
  });
});
