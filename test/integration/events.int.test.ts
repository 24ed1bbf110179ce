import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');

describe('calendar events API', () => {
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

  test('creates an event and detects its meeting from the location', async () => {
    const res = await rc.request('POST', '/api/v1/calendar/events', {
      auth: alice.auth,
      body: { title: 'Standup', start_time: '2026-12-01T10:00:00-05:00', end_time: '2026-12-01T10:30:00-05:00', location: 'Zoom: https://us02web.zoom.us/j/85551234567?pwd=abc.' },
    });
    assert.equal(res.status, 201);
    assert.match(res.body.id, /^evt_/);
    assert.equal(res.body.start_time, '2026-12-01T15:00:00.000Z');
    assert.equal(res.body.meeting_url, 'https://us02web.zoom.us/j/85551234567?pwd=abc');
    assert.equal(res.body.meeting_platform, 'zoom');
    assert.deepEqual(res.body.raw, { summary: 'Standup', description: null, location: 'Zoom: https://us02web.zoom.us/j/85551234567?pwd=abc.' });
    assert.equal(res.body.calendar_id, null);
    assert.deepEqual(res.body.bots, []);

    const got = await rc.request('GET', `/api/v1/calendar/events/${res.body.id}`, { auth: alice.auth });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, res.body);
  });

  test("another user's event is a 404", async () => {
    const created = await rc.request('POST', '/api/v1/calendar/events', {
      auth: alice.auth, body: { title: 'Private', start_time: '2026-12-02T10:00:00Z', end_time: '2026-12-02T11:00:00Z' },
    });
    for (const [method, body] of [['GET', undefined], ['PATCH', { title: 'x' }], ['DELETE', undefined]] as const) {
      const res = await rc.request(method, `/api/v1/calendar/events/${created.body.id}`, { auth: bob.auth, body });
      assert.equal(res.status, 404, method);
      assert.equal(res.body.code, 'event_not_found');
      assert.ok(!JSON.stringify(res.body).includes('Private'));
    }
  });

  test('rejects a time without an offset, naming the field', async () => {
    const res = await rc.request('POST', '/api/v1/calendar/events', {
      auth: alice.auth, body: { title: 'x', start_time: '2026-12-01T10:00:00', end_time: '2026-12-01T11:00:00Z' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'invalid_time');
    assert.match(res.body.error, /start_time/);
    assert.equal(res.body.status_code, 400);
  });

  test('401 without a valid key', async () => {
    for (const header of [undefined, 'Bearer abc', 'Token rck_nope', 'Token']) {
      const res = await rc.request('GET', '/api/v1/calendar/events', header ? { auth: header } : {});
      assert.equal(res.status, 401, String(header));
      assert.equal(res.body.code, 'unauthorized');
    }
  });
});
