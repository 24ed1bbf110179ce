import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { sql, type KyselyPlugin } from 'kysely';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';

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

  /** A user of its own, so that listings see only what the test made. */
  async function freshUser(): Promise<string> {
    return (await rc.newUser()).auth;
  }

  async function create(auth: string, body: Record<string, unknown>): Promise<any> {
    const res = await rc.request('POST', EVENTS, { auth, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function list(auth: string, query = ''): Promise<any> {
    const res = await rc.request('GET', `${EVENTS}${query ? `?${query}` : ''}`, { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  /** Every page of a listing, following `next`. */
  async function listAll(auth: string, query: string): Promise<{ pages: any[]; ids: string[] }> {
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(auth, `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(page);
      cursor = page.next;
      assert.ok(pages.length < 50, 'paging does not end');
    } while (cursor !== null);
    return { pages, ids: pages.flatMap((p) => p.results.map((r: any) => r.id)) };
  }

  test('creates an event and detects its meeting from the location', async () => {
    const res = await rc.request('POST', EVENTS, {
      auth: alice.auth,
      body: { title: 'Standup', start_time: '2026-12-01T10:00:00-05:00', end_time: '2026-12-01T10:30:00-05:00', location: 'Zoom: https://us02web.zoom.us/j/85551234567?pwd=abc.' },
    });
    assert.equal(res.status, 201);
    assert.match(res.body.id, /^evt_/);
    assert.equal(res.body.start_time, '2026-12-01T15:00:00.000Z');
    assert.equal(res.body.end_time, '2026-12-01T15:30:00.000Z');
    assert.equal(res.body.meeting_url, 'https://us02web.zoom.us/j/85551234567?pwd=abc');
    assert.equal(res.body.meeting_platform, 'zoom');
    assert.deepEqual(res.body.raw, {
      summary: 'Standup', description: null, location: 'Zoom: https://us02web.zoom.us/j/85551234567?pwd=abc.',
      start: { dateTime: '2026-12-01T15:00:00.000Z' }, end: { dateTime: '2026-12-01T15:30:00.000Z' }, status: 'confirmed', iCalUID: null,
    });
    assert.equal(res.body.calendar_id, null);
    assert.equal(res.body.status, 'confirmed');
    assert.equal(res.body.is_deleted, false);
    assert.equal(res.body.recurrence, null);
    assert.equal(res.body.recurring_event_id, null);
    assert.equal(res.body.original_start_time, null);
    assert.equal(res.body.timezone, null);
    assert.equal(res.body.created_at, '2026-11-20T12:00:00.000Z');
    assert.equal(res.body.updated_at, '2026-11-20T12:00:00.000Z');
    assert.deepEqual(res.body.bots, []);

    const got = await rc.request('GET', `${EVENTS}/${res.body.id}`, { auth: alice.auth });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, res.body);
  });

  test('an explicit meeting_url wins over the location; an unknown id is a 404', async () => {
    const event = await create(alice.auth, {
      title: 'Sync', start_time: '2026-12-01T16:00:00Z', end_time: '2026-12-01T16:30:00Z',
      location: 'https://zoom.us/j/1112223334', meeting_url: 'https://meet.google.com/abc-defg-hij',
    });
    assert.equal(event.meeting_url, 'https://meet.google.com/abc-defg-hij');
    assert.equal(event.meeting_platform, 'google_meet');

    const missing = await rc.request('GET', `${EVENTS}/evt_doesnotexist`, { auth: alice.auth });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'event_not_found');
  });

  test('PATCH changes only the given fields, re-detects the meeting and clears fields set to null', async () => {
    const event = await create(alice.auth, {
      title: 'Planning', description: 'Agenda: roadmap', start_time: '2026-12-03T15:00:00Z', end_time: '2026-12-03T16:00:00Z',
      location: 'https://us02web.zoom.us/j/85550001111',
    });
    assert.equal(event.meeting_platform, 'zoom');
    clock.set(NOW + 60_000);
    try {
      const renamed = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { title: 'Planning v2' } });
      assert.equal(renamed.status, 200);
      assert.equal(renamed.body.title, 'Planning v2');
      assert.equal(renamed.body.description, 'Agenda: roadmap');
      assert.equal(renamed.body.start_time, '2026-12-03T15:00:00.000Z');
      assert.equal(renamed.body.end_time, '2026-12-03T16:00:00.000Z');
      assert.equal(renamed.body.meeting_url, 'https://us02web.zoom.us/j/85550001111');
      assert.equal(renamed.body.created_at, '2026-11-20T12:00:00.000Z');
      assert.equal(renamed.body.updated_at, '2026-11-20T12:01:00.000Z');
      assert.deepEqual(
        [renamed.body.raw.summary, renamed.body.raw.description, renamed.body.raw.location],
        ['Planning v2', 'Agenda: roadmap', 'https://us02web.zoom.us/j/85550001111'],
      );

      // A new location: the meeting is detected again from it.
      const moved = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { location: 'Room 4 / https://meet.google.com/xyz-abcd-efg' } });
      assert.equal(moved.status, 200);
      assert.equal(moved.body.meeting_url, 'https://meet.google.com/xyz-abcd-efg');
      assert.equal(moved.body.meeting_platform, 'google_meet');
      assert.equal(moved.body.title, 'Planning v2');

      // Only the end moves.
      const longer = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { end_time: '2026-12-03T17:00:00+00:00' } });
      assert.equal(longer.status, 200);
      assert.equal(longer.body.start_time, '2026-12-03T15:00:00.000Z');
      assert.equal(longer.body.end_time, '2026-12-03T17:00:00.000Z');

      // null clears a field; without a location there is no meeting left to detect.
      const cleared = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { description: null, location: null } });
      assert.equal(cleared.status, 200);
      assert.equal(cleared.body.description, null);
      assert.equal(cleared.body.location, null);
      assert.equal(cleared.body.meeting_url, null);
      assert.equal(cleared.body.meeting_platform, null);
      assert.equal(cleared.body.title, 'Planning v2');

      const got = await rc.request('GET', `${EVENTS}/${event.id}`, { auth: alice.auth });
      assert.deepEqual(got.body, cleared.body);

      // A PATCH that would leave end before start is refused and changes nothing.
      const inverted = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: '2026-12-03T18:00:00Z' } });
      assert.equal(inverted.status, 400);
      assert.equal(inverted.body.code, 'invalid_time');
      assert.match(inverted.body.error, /end_time/);
      const after = await rc.request('GET', `${EVENTS}/${event.id}`, { auth: alice.auth });
      assert.equal(after.body.start_time, '2026-12-03T15:00:00.000Z');
    } finally {
      clock.set(NOW);
    }
  });

  test('PATCH of an explicit meeting_url to null falls back to the link in the location', async () => {
    const event = await create(alice.auth, {
      title: 'Override', start_time: '2026-12-03T15:00:00Z', end_time: '2026-12-03T16:00:00Z',
      location: 'https://zoom.us/j/4445556667', meeting_url: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
    });
    assert.equal(event.meeting_platform, 'microsoft_teams');
    const res = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { meeting_url: null } });
    assert.equal(res.status, 200);
    assert.equal(res.body.meeting_url, 'https://zoom.us/j/4445556667');
    assert.equal(res.body.meeting_platform, 'zoom');
  });

  test('DELETE is soft and idempotent: GET still answers with is_deleted, the listing drops it', async () => {
    const auth = await freshUser();
    const keep = await create(auth, { title: 'Keep', start_time: '2026-11-25T10:00:00Z', end_time: '2026-11-25T11:00:00Z' });
    const gone = await create(auth, { title: 'Gone', start_time: '2026-11-25T12:00:00Z', end_time: '2026-11-25T13:00:00Z' });
    assert.deepEqual((await list(auth)).results.map((r: any) => r.id), [keep.id, gone.id]);

    const first = await rc.request('DELETE', `${EVENTS}/${gone.id}`, { auth });
    assert.equal(first.status, 200);
    assert.equal(first.body.id, gone.id);
    assert.equal(first.body.is_deleted, true);
    assert.equal(first.body.title, 'Gone');

    const got = await rc.request('GET', `${EVENTS}/${gone.id}`, { auth });
    assert.equal(got.status, 200);
    assert.equal(got.body.is_deleted, true);

    const again = await rc.request('DELETE', `${EVENTS}/${gone.id}`, { auth });
    assert.equal(again.status, 200);
    assert.equal(again.body.is_deleted, true);

    const listed = await list(auth);
    assert.deepEqual(listed.results.map((r: any) => r.id), [keep.id]);
    assert.equal(listed.has_more, false);
    assert.equal(listed.next, null);

    const patch = await rc.request('PATCH', `${EVENTS}/${gone.id}`, { auth, body: { title: 'Back' } });
    assert.equal(patch.status, 404);
    assert.equal(patch.body.code, 'event_not_found');
  });

  test('list: default window is now - 1 day to now + 28 days; time_min/time_max select by overlap', async () => {
    const auth = await freshUser();
    const tooOld = await create(auth, { title: 'old', start_time: '2026-11-18T10:00:00Z', end_time: '2026-11-18T11:00:00Z' });
    const overlapsStart = await create(auth, { title: 'overlaps start', start_time: '2026-11-19T11:00:00Z', end_time: '2026-11-19T13:00:00Z' });
    const soon = await create(auth, { title: 'soon', start_time: '2026-11-21T10:00:00Z', end_time: '2026-11-21T11:00:00Z' });
    const late = await create(auth, { title: 'late', start_time: '2026-12-18T11:00:00Z', end_time: '2026-12-18T11:30:00Z' });
    const tooLate = await create(auth, { title: 'too late', start_time: '2026-12-18T12:00:00Z', end_time: '2026-12-18T13:00:00Z' });

    const byDefault = await list(auth);
    assert.deepEqual(byDefault.results.map((r: any) => r.title), ['overlaps start', 'soon', 'late']);
    assert.equal(byDefault.has_more, false);
    assert.equal(byDefault.next, null);

    const windowed = await list(auth, `time_min=${encodeURIComponent('2026-11-18T10:30:00Z')}&time_max=${encodeURIComponent('2026-11-21T10:00:00Z')}`);
    assert.deepEqual(windowed.results.map((r: any) => r.id), [tooOld.id, overlapsStart.id]);

    const wide = await list(auth, `time_min=${encodeURIComponent('2026-11-01T00:00:00+01:00')}&time_max=${encodeURIComponent('2027-01-01T00:00:00Z')}`);
    assert.deepEqual(wide.results.map((r: any) => r.id), [tooOld.id, overlapsStart.id, soon.id, late.id, tooLate.id]);
    // The same window with its + offset pasted into the URL unencoded (it arrives as a space).
    const pasted = await list(auth, 'time_min=2026-11-01T00:00:00+01:00&time_max=2027-01-01T00:00:00+00:00');
    assert.deepEqual(pasted.results.map((r: any) => r.id), wide.results.map((r: any) => r.id));

    const inverted = await rc.request('GET', `${EVENTS}?time_min=2026-12-01T00:00:00Z&time_max=2026-11-01T00:00:00Z`, { auth });
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.code, 'invalid_time');

    const noOffset = await rc.request('GET', `${EVENTS}?time_min=2026-12-01T00:00:00`, { auth });
    assert.equal(noOffset.status, 400);
    assert.equal(noOffset.body.code, 'invalid_time');
    assert.match(noOffset.body.error, /time_min/);
  });

  test('list: calendar_id filters', async () => {
    const { userId, auth } = await rc.newUser();
    const synced = await create(auth, { title: 'synced', start_time: '2026-11-22T10:00:00Z', end_time: '2026-11-22T11:00:00Z' });
    const direct = await create(auth, { title: 'direct', start_time: '2026-11-22T12:00:00Z', end_time: '2026-11-22T13:00:00Z' });
    // Calendar sync is not built yet: mark one event as coming from a connected calendar.
    await rc.database.db.updateTable('events').set({ calendar_id: 'cal_work' }).where('id', '=', synced.id).where('user_id', '=', userId).execute();

    const all = await list(auth);
    assert.deepEqual(all.results.map((r: any) => [r.id, r.calendar_id]), [[synced.id, 'cal_work'], [direct.id, null]]);
    assert.deepEqual((await list(auth, 'calendar_id=cal_work')).results.map((r: any) => r.id), [synced.id]);
    assert.deepEqual((await list(auth, 'calendar_id=cal_other')).results, []);
  });

  test('list: limit must be an integer from 1 to 100', async () => {
    const auth = await freshUser();
    for (let i = 0; i < 3; i++) await create(auth, { title: `e${i}`, start_time: `2026-11-2${i + 1}T10:00:00Z`, end_time: `2026-11-2${i + 1}T11:00:00Z` });
    const one = await list(auth, 'limit=1');
    assert.equal(one.results.length, 1);
    assert.equal(one.results[0].title, 'e0');
    assert.equal(one.has_more, true);
    assert.equal(typeof one.next, 'string');
    assert.equal((await list(auth, 'limit=100')).results.length, 3);
    // Without a limit, 50 per page.
    const many = await freshUser();
    for (let i = 0; i < 51; i++) {
      const start = Date.parse('2026-11-21T00:00:00Z') + i * 3_600_000;
      await create(many, { title: `m${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString() });
    }
    const firstPage = await list(many);
    assert.equal(firstPage.results.length, 50);
    assert.equal(firstPage.has_more, true);
    const secondPage = await list(many, `cursor=${encodeURIComponent(firstPage.next)}`);
    assert.deepEqual(secondPage.results.map((r: any) => r.title), ['m50']);
    assert.equal(secondPage.has_more, false);
    for (const bad of ['0', '101', '-1', '2.5', 'ten']) {
      const res = await rc.request('GET', `${EVENTS}?limit=${bad}`, { auth });
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'validation_error', bad);
      assert.match(res.body.error, /limit/, bad);
    }
  });

  test('list: cursor paging walks every event and occurrence once, in order, with has_more and next', async () => {
    const auth = await freshUser();
    const created: string[] = [];
    // Two events share a start time so that the id breaks the tie.
    for (const start of ['2026-11-21T10:00:00Z', '2026-11-21T10:00:00Z', '2026-11-23T09:00:00Z', '2026-11-26T15:00:00Z', '2026-12-02T08:00:00Z']) {
      created.push((await create(auth, { title: start, start_time: start, end_time: new Date(Date.parse(start) + 1_800_000).toISOString() })).id);
    }
    const series = await create(auth, {
      title: 'daily', start_time: '2026-11-22T09:00:00Z', end_time: '2026-11-22T09:15:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=4'],
    });
    const expectedCount = created.length + 4;

    const { pages, ids } = await listAll(auth, 'limit=3');
    assert.deepEqual(pages.map((p) => p.results.length), [3, 3, 3]);
    assert.deepEqual(pages.map((p) => p.has_more), [true, true, false]);
    assert.equal(pages.at(-1).next, null);
    assert.equal(ids.length, expectedCount);
    assert.equal(new Set(ids).size, expectedCount, 'no duplicates');
    for (const id of created) assert.ok(ids.includes(id), `missing ${id}`);
    for (const key of ['20261122T090000Z', '20261123T090000Z', '20261124T090000Z', '20261125T090000Z']) {
      assert.ok(ids.includes(`${series.id}_${key}`), `missing occurrence ${key}`);
    }
    // Same order as one big page.
    const whole = await list(auth, 'limit=100');
    assert.deepEqual(ids, whole.results.map((r: any) => r.id));
    const starts = whole.results.map((r: any) => r.start_time);
    assert.deepEqual(starts, [...starts].sort());

    // A page boundary that falls exactly at the end still says there is no more.
    const exact = await listAll(auth, 'limit=9');
    assert.deepEqual(exact.pages.map((p) => [p.results.length, p.has_more, p.next === null]), [[9, false, true]]);
  });

  test('list: a cursor this API did not issue is 400 invalid_cursor', async () => {
    const auth = await freshUser();
    const forged = Buffer.from(JSON.stringify({ s: 'x', i: 5 })).toString('base64url');
    for (const cursor of ['garbage', forged, '!!!']) {
      const res = await rc.request('GET', `${EVENTS}?cursor=${encodeURIComponent(cursor)}`, { auth });
      assert.equal(res.status, 400, cursor);
      assert.equal(res.body.code, 'invalid_cursor', cursor);
      assert.match(res.body.error, /cursor/);
    }
  });

  test('a weekly series is listed as occurrences with ids <series>_<key>, each GET-able', async () => {
    const auth = await freshUser();
    const series = await create(auth, {
      title: 'Weekly 1:1', start_time: '2026-11-24T10:00:00+01:00', end_time: '2026-11-24T10:30:00+01:00',
      timezone: 'Europe/Berlin', recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4'], location: 'https://meet.google.com/aaa-bbbb-ccc',
    });
    assert.deepEqual(series.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4']);
    assert.equal(series.timezone, 'Europe/Berlin');
    assert.equal(series.recurring_event_id, null);

    const listed = await list(auth);
    assert.deepEqual(listed.results.map((r: any) => r.id), ['20261124T090000Z', '20261201T090000Z', '20261208T090000Z', '20261215T090000Z'].map((k) => `${series.id}_${k}`));
    for (const occurrence of listed.results) {
      assert.equal(occurrence.recurring_event_id, series.id);
      assert.equal(occurrence.original_start_time, occurrence.start_time);
      assert.equal(occurrence.title, 'Weekly 1:1');
      assert.equal(occurrence.meeting_platform, 'google_meet');
      assert.equal(occurrence.recurrence, null);
      assert.equal(Date.parse(occurrence.end_time) - Date.parse(occurrence.start_time), 1_800_000);
      const got = await rc.request('GET', `${EVENTS}/${occurrence.id}`, { auth });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, occurrence);
    }
    assert.deepEqual(listed.results.map((r: any) => r.start_time), ['2026-11-24T09:00:00.000Z', '2026-12-01T09:00:00.000Z', '2026-12-08T09:00:00.000Z', '2026-12-15T09:00:00.000Z']);

    // The series itself is GET-able by its own id and keeps its rule.
    const master = await rc.request('GET', `${EVENTS}/${series.id}`, { auth });
    assert.equal(master.status, 200);
    assert.deepEqual(master.body.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4']);

    // An id with a time that is not an occurrence is a 404.
    const notOne = await rc.request('GET', `${EVENTS}/${series.id}_20261125T090000Z`, { auth });
    assert.equal(notOne.status, 404);
    assert.equal(notOne.body.code, 'event_not_found');
  });

  test('EXDATE removes an occurrence', async () => {
    const auth = await freshUser();
    const series = await create(auth, {
      title: 'Daily', start_time: '2026-11-23T14:00:00Z', end_time: '2026-11-23T14:15:00Z', timezone: 'UTC',
      recurrence: ['RRULE:FREQ=DAILY;COUNT=4', 'EXDATE:20261124T140000Z'],
    });
    const listed = await list(auth);
    assert.deepEqual(listed.results.map((r: any) => r.id), [`${series.id}_20261123T140000Z`, `${series.id}_20261125T140000Z`, `${series.id}_20261126T140000Z`]);
    const excluded = await rc.request('GET', `${EVENTS}/${series.id}_20261124T140000Z`, { auth });
    assert.equal(excluded.status, 404);
  });

  test('an override instance moves one occurrence; a cancelled one removes it', async () => {
    const auth = await freshUser();
    const series = await create(auth, {
      title: 'Team sync', start_time: '2026-11-23T15:00:00Z', end_time: '2026-11-23T16:00:00Z', timezone: 'UTC',
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], location: 'https://zoom.us/j/9998887776',
    });
    const moved = await create(auth, {
      recurring_event_id: series.id, original_start_time: '2026-11-30T15:00:00Z',
      start_time: '2026-12-01T17:00:00Z', end_time: '2026-12-01T18:00:00Z', title: 'Team sync (moved)',
    });
    assert.match(moved.id, /^evt_/);
    assert.equal(moved.recurring_event_id, series.id);
    assert.equal(moved.original_start_time, '2026-11-30T15:00:00.000Z');
    assert.equal(moved.meeting_url, 'https://zoom.us/j/9998887776');
    assert.equal(moved.status, 'confirmed');

    const cancelled = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-07T15:00:00Z', status: 'cancelled' });
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.start_time, '2026-12-07T15:00:00.000Z');
    assert.equal(cancelled.end_time, '2026-12-07T16:00:00.000Z');

    const listed = await list(auth);
    assert.deepEqual(listed.results.map((r: any) => [r.id, r.start_time, r.title]), [
      [`${series.id}_20261123T150000Z`, '2026-11-23T15:00:00.000Z', 'Team sync'],
      [moved.id, '2026-12-01T17:00:00.000Z', 'Team sync (moved)'],
      [`${series.id}_20261214T150000Z`, '2026-12-14T15:00:00.000Z', 'Team sync'],
    ]);
    assert.equal(listed.results[1].recurring_event_id, series.id);
    assert.equal(listed.results[1].original_start_time, '2026-11-30T15:00:00.000Z');

    // The occurrence id now answers with the override.
    const byOccurrenceId = await rc.request('GET', `${EVENTS}/${series.id}_20261130T150000Z`, { auth });
    assert.equal(byOccurrenceId.status, 200);
    assert.equal(byOccurrenceId.body.id, moved.id);
    assert.equal(byOccurrenceId.body.start_time, '2026-12-01T17:00:00.000Z');

    // A second override for the same occurrence is refused.
    const twice = await rc.request('POST', EVENTS, { auth, body: { recurring_event_id: series.id, original_start_time: '2026-11-30T15:00:00Z', title: 'again' } });
    assert.equal(twice.status, 400);
    assert.match(twice.body.error, /original_start_time/);
    // So is moving another override onto it.
    const onto = await rc.request('PATCH', `${EVENTS}/${cancelled.id}`, { auth, body: { original_start_time: '2026-11-30T15:00:00Z' } });
    assert.equal(onto.status, 400, JSON.stringify(onto.body));
    assert.equal(onto.body.code, 'validation_error');
    assert.match(onto.body.error, /original_start_time/);
  });

  test('deleting a series removes its occurrences and override instances from the listing', async () => {
    const auth = await freshUser();
    const series = await create(auth, {
      title: 'Retro', start_time: '2026-11-23T15:00:00Z', end_time: '2026-11-23T16:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
    });
    const override = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-11-30T15:00:00Z', start_time: '2026-12-01T15:00:00Z', end_time: '2026-12-01T16:00:00Z' });
    assert.equal((await list(auth)).results.length, 3);
    const deleted = await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.is_deleted, true);
    assert.deepEqual((await list(auth)).results, []);
    const overrideAfter = await rc.request('GET', `${EVENTS}/${override.id}`, { auth });
    assert.equal(overrideAfter.status, 200);
    assert.equal(overrideAfter.body.is_deleted, true);
  });

  test('DST: a weekly 09:00 America/New_York series stays at 09:00 local across 2026-11-01', async () => {
    const auth = await freshUser();
    const series = await create(auth, {
      title: 'NY standup', start_time: '2026-10-20T09:00:00-04:00', end_time: '2026-10-20T09:30:00-04:00',
      timezone: 'America/New_York', recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=TU'],
    });
    const listed = await list(auth, `time_min=2026-10-15T00:00:00Z&time_max=2026-11-15T00:00:00Z`);
    assert.deepEqual(listed.results.map((r: any) => [r.id, r.start_time, r.end_time]), [
      [`${series.id}_20261020T130000Z`, '2026-10-20T13:00:00.000Z', '2026-10-20T13:30:00.000Z'],
      [`${series.id}_20261027T130000Z`, '2026-10-27T13:00:00.000Z', '2026-10-27T13:30:00.000Z'],
      [`${series.id}_20261103T140000Z`, '2026-11-03T14:00:00.000Z', '2026-11-03T14:30:00.000Z'],
      [`${series.id}_20261110T140000Z`, '2026-11-10T14:00:00.000Z', '2026-11-10T14:30:00.000Z'],
    ]);
    const after = await rc.request('GET', `${EVENTS}/${series.id}_20261103T140000Z`, { auth });
    assert.equal(after.status, 200);
    assert.equal(after.body.start_time, '2026-11-03T14:00:00.000Z');
  });

  test('DST edges: a repeated local time is its first instant; a missing one is read with the offset before the gap, and counted', async () => {
    const auth = await freshUser();
    const fallBack = await create(auth, {
      title: 'fall back', start_time: '2026-10-30T01:30:00-04:00', end_time: '2026-10-30T02:00:00-04:00',
      timezone: 'America/New_York', recurrence: ['RRULE:FREQ=DAILY;COUNT=4'],
    });
    const springForward = await create(auth, {
      title: 'spring forward', start_time: '2027-03-12T02:30:00-05:00', end_time: '2027-03-12T03:00:00-05:00',
      timezone: 'America/New_York', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'], meeting_url: 'https://meet.google.com/abc-defg-hij',
    });
    const startsOf = async (seriesId: string, from: string, to: string) =>
      (await list(auth, `time_min=${from}&time_max=${to}`)).results.filter((r: any) => r.recurring_event_id === seriesId).map((r: any) => r.start_time);
    assert.deepEqual(await startsOf(fallBack.id, '2026-10-29T00:00:00Z', '2026-11-10T00:00:00Z'), [
      '2026-10-30T05:30:00.000Z', '2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z',
    ]);
    // 02:30 does not exist in New York on 2027-03-14: that occurrence is at 03:30 EDT (07:30Z), as
    // Google Calendar shows it, and it is the third of COUNT=3.
    assert.deepEqual(await startsOf(springForward.id, '2027-03-10T00:00:00Z', '2027-03-20T00:00:00Z'), [
      '2027-03-12T07:30:00.000Z', '2027-03-13T07:30:00.000Z', '2027-03-14T07:30:00.000Z',
    ]);
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${springForward.id}_20270314T073000Z`, { auth, body: { deduplication_key: 'gap-day', bot_config: {} } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    assert.equal(scheduled.body.scheduled_time, '2027-03-14T07:27:00.000Z');
  });

  test('recurrence errors: no timezone, bad RRULE, override of an occurrence that does not exist', async () => {
    const base = { title: 'r', start_time: '2026-11-23T15:00:00Z', end_time: '2026-11-23T16:00:00Z' };
    const noZone = await rc.request('POST', EVENTS, { auth: alice.auth, body: { ...base, recurrence: ['RRULE:FREQ=WEEKLY'] } });
    assert.equal(noZone.status, 400);
    assert.equal(noZone.body.code, 'validation_error');
    assert.match(noZone.body.error, /timezone/);
    assert.equal(noZone.body.details.field, 'timezone');

    const badRule = await rc.request('POST', EVENTS, { auth: alice.auth, body: { ...base, timezone: 'UTC', recurrence: ['RRULE:FREQ=SOMETIMES'] } });
    assert.equal(badRule.status, 400);
    assert.equal(badRule.body.code, 'invalid_recurrence');
    assert.match(badRule.body.error, /recurrence/);

    const emptyRule = await rc.request('POST', EVENTS, { auth: alice.auth, body: { ...base, timezone: 'UTC', recurrence: [] } });
    assert.equal(emptyRule.status, 400);
    assert.equal(emptyRule.body.code, 'invalid_recurrence');

    const badZone = await rc.request('POST', EVENTS, { auth: alice.auth, body: { ...base, timezone: 'Mars/Olympus', recurrence: ['RRULE:FREQ=WEEKLY'] } });
    assert.equal(badZone.status, 400);
    assert.equal(badZone.body.code, 'invalid_recurrence');
    assert.match(badZone.body.error, /timezone/);

    const series = await create(alice.auth, { ...base, timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'] });
    const noSuch = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-11-24T15:00:00Z', status: 'cancelled' } });
    assert.equal(noSuch.status, 404);
    assert.equal(noSuch.body.code, 'occurrence_not_found');
    assert.match(noSuch.body.error, /original_start_time/);

    const afterCount = await rc.request('POST', EVENTS, { auth: alice.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-07T15:00:00Z', status: 'cancelled' } });
    assert.equal(afterCount.status, 404);
    assert.equal(afterCount.body.code, 'occurrence_not_found');
  });

  test('input errors: inverted times, wrong types, huge bodies, malformed JSON', async () => {
    const inverted = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'x', start_time: '2026-12-01T11:00:00Z', end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.code, 'invalid_time');
    assert.match(inverted.body.error, /end_time/);

    const missingStart = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'x', end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(missingStart.status, 400);
    assert.match(missingStart.body.error, /start_time/);

    const numericStart = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'x', start_time: 5, end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(numericStart.status, 400);
    assert.match(numericStart.body.error, /start_time/);
    assert.equal(numericStart.body.details.field, 'start_time');

    const objectTitle = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: {}, start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(objectTitle.status, 400);
    assert.match(objectTitle.body.error, /title/);
    assert.equal(objectTitle.body.details.field, 'title');

    const badStatus = await rc.request('POST', EVENTS, { auth: alice.auth, body: { status: 'maybe', start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.body.error, /status/);

    const notUrl = await rc.request('POST', EVENTS, { auth: alice.auth, body: { meeting_url: 'zoommtg://zoom.us/join?confno=1', start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z' } });
    assert.equal(notUrl.status, 400);
    assert.equal(notUrl.body.code, 'invalid_meeting_url');

    // Unknown fields are ignored.
    const extra = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'x', start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z', colour: 'blue' } });
    assert.equal(extra.status, 201);

    const huge = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'x', start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z', padding: 'a'.repeat(1024 * 1024) } });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'payload_too_large');
    assert.equal(huge.body.status_code, 413);

    // A body in any other type is a 415, a JSON text sent as text/plain too (errors.md).
    for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await rc.request('POST', EVENTS, { auth: alice.auth, body: '{"title":"x","start_time":"2026-12-01T09:00:00Z","end_time":"2026-12-01T10:00:00Z"}', headers: { 'content-type': type } });
      assert.equal(`${res.status} ${res.body.code}`, '415 unsupported_media_type', type);
    }
    // ...but an empty body is no body, whatever its label (fetch() sends an empty string as text/plain).
    const doomed = await rc.request('POST', EVENTS, { auth: alice.auth, body: { title: 'doomed', start_time: '2026-12-01T09:00:00Z', end_time: '2026-12-01T10:00:00Z' } });
    const emptyPlain = await rc.request('DELETE', `${EVENTS}/${doomed.body.id}`, { auth: alice.auth, body: '', headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    assert.equal(emptyPlain.status, 200, JSON.stringify(emptyPlain.body));

    const malformed = await rc.request('POST', EVENTS, { auth: alice.auth, body: '{"title": "x", ' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'invalid_json');
    // Valid JSON with a key that could poison a prototype is refused as such, not as bad JSON.
    // Escaped too: JSON reads "\\u005f_proto__" as "__proto__".
    for (const [poisoned, field] of [['{"title":"x","bot_config":{"__proto__":{"admin":true}}}', '__proto__'], ['{"title":"x","bot_config":{"\\u005f_proto__":{"admin":true}}}', '__proto__'], ['{"title":"x","constructor":{"prototype":{}}}', 'constructor'], ['{"title":"x","constructor":{"\\u0070rototype":{}}}', 'constructor']] as const) {
      const refused = await rc.request('POST', EVENTS, { auth: alice.auth, body: poisoned });
      assert.equal(`${refused.status} ${refused.body.code} ${refused.body.details?.field}`, `400 validation_error ${field}`, JSON.stringify(refused.body));
      assert.match(refused.body.error, /"__proto__" key, or "prototype" inside "constructor", is not accepted/);
    }
    assert.equal((await rc.request('POST', EVENTS, { auth: alice.auth, body: '{"title": "x", "__proto__": ' })).body.code, 'invalid_json', 'bad JSON stays bad JSON');

    const patchWrongType = await rc.request('PATCH', `${EVENTS}/${extra.body.id}`, { auth: alice.auth, body: { end_time: 5 } });
    assert.equal(patchWrongType.status, 400);
    assert.match(patchWrongType.body.error, /end_time/);
    const patchBadRecurrence = await rc.request('PATCH', `${EVENTS}/${extra.body.id}`, { auth: alice.auth, body: { recurrence: 'RRULE:FREQ=DAILY' } });
    assert.equal(patchBadRecurrence.status, 400);
    assert.match(patchBadRecurrence.body.error, /recurrence/);

    // A value outside a field's choices is answered with the choices.
    const patchBadStatus = await rc.request('PATCH', `${EVENTS}/${extra.body.id}`, { auth: alice.auth, body: { status: 'bogus' } });
    assert.equal(`${patchBadStatus.status} ${patchBadStatus.body.code}`, '400 validation_error');
    assert.equal(patchBadStatus.body.error, 'status: must be one of confirmed, tentative, cancelled');

    const patchMalformed = await rc.request('PATCH', `${EVENTS}/${extra.body.id}`, { auth: alice.auth, body: '{nope' });
    assert.equal(patchMalformed.status, 400);
    assert.equal(patchMalformed.body.code, 'invalid_json');
  });

  describe('a series re-timed through PATCH takes its overrides along', () => {
    const ZOOM = 'https://zoom.us/j/8123456789';

    /** Books a bot for every occurrence of a series; answers the bots by original start. */
    async function botsForAll(auth: string, seriesId: string): Promise<Map<string, string>> {
      const res = await rc.request('POST', `/api/v1/calendar/schedule/${seriesId}`, { auth, body: { deduplication_key: `all-${seriesId}`, bot_config: {}, schedule_all_occurrences: true } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return new Map(res.body.schedules_created.map((s: any) => [s.occurrence_start, s.bot_id]));
    }

    async function statusOf(auth: string, botId: string): Promise<string> {
      const res = await rc.request('GET', `/api/v1/bots/${botId}/status`, { auth });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.status;
    }

    /** The series' listed occurrences: id, start, title, original start and bots (id, status, join time). */
    async function occurrencesOf(auth: string, seriesId: string): Promise<unknown[]> {
      const listed = await list(auth, 'time_min=2026-11-20T00:00:00Z&time_max=2027-01-31T00:00:00Z&limit=100');
      return listed.results.filter((r: any) => r.recurring_event_id === seriesId)
        .map((r: any) => [r.id, r.start_time, r.title, r.original_start_time, r.bots.map((b: any) => [b.bot_id, b.status, b.scheduled_time])]);
    }

    async function patch(auth: string, id: string, body: Record<string, unknown>): Promise<any> {
      const res = await rc.request('PATCH', `${EVENTS}/${id}`, { auth, body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    async function getOk(auth: string, id: string): Promise<any> {
      const res = await rc.request('GET', `${EVENTS}/${id}`, { auth });
      assert.equal(res.status, 200, `${id}: ${JSON.stringify(res.body)}`);
      return res.body;
    }

    test('moved an hour later, then to another weekday: a cancelled occurrence stays cancelled, a moved one is listed once, and each bot stays with its occurrence', async () => {
      const auth = await freshUser();
      const series = await create(auth, {
        title: 'Weekly', start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], location: ZOOM,
      });
      const bots = await botsForAll(auth, series.id);
      const bot = (start: string) => bots.get(start)!;
      const cancelled = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', status: 'cancelled' });
      const moved = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-08T10:00:00Z', start_time: '2026-12-10T15:00:00Z', end_time: '2026-12-10T16:00:00Z', title: 'Moved' });
      const retitled = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-15T10:00:00Z', title: 'Retitled' });
      assert.equal(await statusOf(auth, bot('2026-12-01T10:00:00.000Z')), 'Cancelled');

      await patch(auth, series.id, { start_time: '2026-11-24T11:00:00Z', end_time: '2026-11-24T12:00:00Z' });
      assert.deepEqual(await occurrencesOf(auth, series.id), [
        [`${series.id}_20261124T110000Z`, '2026-11-24T11:00:00.000Z', 'Weekly', '2026-11-24T11:00:00.000Z', [[bot('2026-11-24T10:00:00.000Z'), 'Scheduled', '2026-11-24T10:57:00.000Z']]],
        // The moved occurrence stays where it was moved to, now standing for the 11:00 occurrence.
        [moved.id, '2026-12-10T15:00:00.000Z', 'Moved', '2026-12-08T11:00:00.000Z', [[bot('2026-12-08T10:00:00.000Z'), 'Scheduled', '2026-12-10T14:57:00.000Z']]],
        // An override that kept its occurrence's time moves with it.
        [retitled.id, '2026-12-15T11:00:00.000Z', 'Retitled', '2026-12-15T11:00:00.000Z', [[bot('2026-12-15T10:00:00.000Z'), 'Scheduled', '2026-12-15T10:57:00.000Z']]],
      ]);
      // The overrides answer by their own ids and by the new occurrences' ids; the old ones are gone.
      const cancelledNow = await getOk(auth, cancelled.id);
      assert.deepEqual([cancelledNow.status, cancelledNow.is_deleted, cancelledNow.original_start_time, cancelledNow.start_time, cancelledNow.bots], ['cancelled', false, '2026-12-01T11:00:00.000Z', '2026-12-01T11:00:00.000Z', []]);
      assert.equal((await getOk(auth, `${series.id}_20261201T110000Z`)).id, cancelled.id);
      assert.equal((await getOk(auth, `${series.id}_20261208T110000Z`)).id, moved.id);
      assert.equal((await getOk(auth, moved.id)).original_start_time, '2026-12-08T11:00:00.000Z');
      for (const old of ['20261201T100000Z', '20261208T100000Z']) assert.equal((await rc.request('GET', `${EVENTS}/${series.id}_${old}`, { auth })).status, 404, old);
      // The cancelled occurrence cannot be booked again at its new time.
      const again = await rc.request('POST', `/api/v1/calendar/schedule/${series.id}_20261201T110000Z`, { auth, body: { deduplication_key: 'again', bot_config: {} } });
      assert.equal(`${again.status} ${again.body.code}`, '400 event_cancelled');

      // Tuesday to Thursday: each override stays in its own week.
      await patch(auth, series.id, { start_time: '2026-11-26T11:00:00Z', end_time: '2026-11-26T12:00:00Z' });
      assert.deepEqual(await occurrencesOf(auth, series.id), [
        [`${series.id}_20261126T110000Z`, '2026-11-26T11:00:00.000Z', 'Weekly', '2026-11-26T11:00:00.000Z', [[bot('2026-11-24T10:00:00.000Z'), 'Scheduled', '2026-11-26T10:57:00.000Z']]],
        [moved.id, '2026-12-10T15:00:00.000Z', 'Moved', '2026-12-10T11:00:00.000Z', [[bot('2026-12-08T10:00:00.000Z'), 'Scheduled', '2026-12-10T14:57:00.000Z']]],
        [retitled.id, '2026-12-17T11:00:00.000Z', 'Retitled', '2026-12-17T11:00:00.000Z', [[bot('2026-12-15T10:00:00.000Z'), 'Scheduled', '2026-12-17T10:57:00.000Z']]],
      ]);
      assert.equal((await getOk(auth, `${series.id}_20261203T110000Z`)).id, cancelled.id);
      assert.equal(await statusOf(auth, bot('2026-12-01T10:00:00.000Z')), 'Cancelled');

      // The change feed holds each override once, as it is now. (On PostgreSQL a change shows once
      // every older transaction in the cluster has ended, and other test files share the server:
      // it is waited for, a few seconds at most.)
      let overrides: any[] = [];
      for (const deadline = Date.now() + 10_000; overrides.length < 3 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const feed = await rc.request('GET', `${EVENTS}/changes?limit=100`, { auth });
        assert.equal(feed.status, 200);
        overrides = feed.body.results.filter((r: any) => r.recurring_event_id === series.id);
      }
      assert.deepEqual(overrides.map((r: any) => [r.id, r.original_start_time, r.start_time, r.status, r.is_deleted]).sort(), [
        [cancelled.id, '2026-12-03T11:00:00.000Z', '2026-12-03T11:00:00.000Z', 'cancelled', false],
        [moved.id, '2026-12-10T11:00:00.000Z', '2026-12-10T15:00:00.000Z', 'confirmed', false],
        [retitled.id, '2026-12-17T11:00:00.000Z', '2026-12-17T11:00:00.000Z', 'confirmed', false],
      ].sort());

      // Only the end changes: the retitled occurrence ends with the series, the moved one keeps its own end.
      await patch(auth, series.id, { end_time: '2026-11-26T12:30:00Z' });
      assert.deepEqual([(await getOk(auth, retitled.id)).end_time, (await getOk(auth, moved.id)).end_time], ['2026-12-17T12:30:00.000Z', '2026-12-10T16:00:00.000Z']);
      assert.equal((await getOk(auth, `${series.id}_20261217T110000Z`)).id, retitled.id);
    });

    test('the bot of a moved occurrence goes where its override went, even when another vanished occurrence\'s bot would take that occurrence first', async () => {
      const auth = await freshUser();
      // Twice a day, 09:00 and 14:00; the 14:00 of the 25th moved to 16:00.
      const series = await create(auth, {
        title: 'Twice daily', start_time: '2026-11-24T09:00:00Z', end_time: '2026-11-24T10:00:00Z', timezone: 'UTC',
        recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9,14;COUNT=6'], location: ZOOM,
      });
      const bots = await botsForAll(auth, series.id);
      const bot = (start: string) => bots.get(start)!;
      const moved = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-11-25T14:00:00Z', start_time: '2026-11-25T16:00:00Z', end_time: '2026-11-25T17:00:00Z' });

      // Once a day at 10:00: both of the 25th's occurrences vanish towards its one new occurrence, which the override takes.
      await patch(auth, series.id, { start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
      assert.deepEqual(await occurrencesOf(auth, series.id), [
        [`${series.id}_20261124T100000Z`, '2026-11-24T10:00:00.000Z', 'Twice daily', '2026-11-24T10:00:00.000Z', [[bot('2026-11-24T09:00:00.000Z'), 'Scheduled', '2026-11-24T09:57:00.000Z']]],
        [moved.id, '2026-11-25T16:00:00.000Z', 'Twice daily', '2026-11-25T10:00:00.000Z', [[bot('2026-11-25T14:00:00.000Z'), 'Scheduled', '2026-11-25T15:57:00.000Z']]],
        [`${series.id}_20261126T100000Z`, '2026-11-26T10:00:00.000Z', 'Twice daily', '2026-11-26T10:00:00.000Z', [[bot('2026-11-26T09:00:00.000Z'), 'Scheduled', '2026-11-26T09:57:00.000Z']]],
      ]);
      for (const start of ['2026-11-24T14:00:00.000Z', '2026-11-25T09:00:00.000Z', '2026-11-26T14:00:00.000Z']) assert.equal(await statusOf(auth, bot(start)), 'Cancelled', start);
    });

    test('an override whose occurrence the change drops (an EXDATE, a shorter series, a move that cannot be told) is deleted, and its bot cancelled', async () => {
      const auth = await freshUser();
      const series = await create(auth, {
        title: 'Weekly', start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=5'], location: ZOOM,
      });
      const bots = await botsForAll(auth, series.id);
      const bot = (start: string) => bots.get(start)!;
      const excluded = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-01T10:00:00Z', start_time: '2026-12-02T15:00:00Z', end_time: '2026-12-02T16:00:00Z' });
      const cut = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-22T10:00:00Z', status: 'cancelled' });
      const later = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-15T10:00:00Z', start_time: '2026-12-16T15:00:00Z', end_time: '2026-12-16T16:00:00Z' });

      await patch(auth, series.id, { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20261201T100000Z'] });
      for (const gone of [excluded, cut]) {
        const row = await getOk(auth, gone.id);
        assert.equal(row.is_deleted, true, gone.id);
        assert.deepEqual(row.bots, []);
      }
      assert.equal(await statusOf(auth, bot('2026-12-01T10:00:00.000Z')), 'Cancelled');
      assert.deepEqual(await occurrencesOf(auth, series.id), [
        [`${series.id}_20261124T100000Z`, '2026-11-24T10:00:00.000Z', 'Weekly', '2026-11-24T10:00:00.000Z', [[bot('2026-11-24T10:00:00.000Z'), 'Scheduled', '2026-11-24T09:57:00.000Z']]],
        [`${series.id}_20261208T100000Z`, '2026-12-08T10:00:00.000Z', 'Weekly', '2026-12-08T10:00:00.000Z', [[bot('2026-12-08T10:00:00.000Z'), 'Scheduled', '2026-12-08T09:57:00.000Z']]],
        [later.id, '2026-12-16T15:00:00.000Z', 'Weekly', '2026-12-15T10:00:00.000Z', [[bot('2026-12-15T10:00:00.000Z'), 'Scheduled', '2026-12-16T14:57:00.000Z']]],
      ]);

      // Moved by half a week (Tuesday 10:00 to Friday 22:00): which new occurrence the moved one stands for cannot be told.
      await patch(auth, series.id, { start_time: '2026-11-27T22:00:00Z', end_time: '2026-11-27T23:00:00Z' });
      assert.equal((await getOk(auth, later.id)).is_deleted, true);
      assert.equal(await statusOf(auth, bot('2026-12-15T10:00:00.000Z')), 'Cancelled');
      const listed = await occurrencesOf(auth, series.id) as any[];
      // (The EXDATE names 10:00 on a Tuesday, which no longer excludes anything.)
      assert.deepEqual(listed.map((o) => o[0]), ['20261127T220000Z', '20261204T220000Z', '20261211T220000Z', '20261218T220000Z'].map((k) => `${series.id}_${k}`));
      // No occurrence holds two bots, and no bot two occurrences.
      const held = listed.flatMap((o) => o[4].map((b: any) => b[0]));
      assert.equal(new Set(held).size, held.length);
      assert.ok(listed.every((o) => o[4].length <= 1));

      // A series that no longer repeats takes its overrides with it.
      const lastCancelled = await create(auth, { recurring_event_id: series.id, original_start_time: '2026-12-11T22:00:00Z', status: 'cancelled' });
      await patch(auth, series.id, { recurrence: null });
      assert.equal((await getOk(auth, lastCancelled.id)).is_deleted, true);
      assert.deepEqual(await occurrencesOf(auth, series.id), []);
    });
  });

  test("another user's event is a 404", async () => {
    const created = await rc.request('POST', EVENTS, {
      auth: alice.auth, body: { title: 'Private', start_time: '2026-12-02T10:00:00Z', end_time: '2026-12-02T11:00:00Z' },
    });
    for (const [method, body] of [['GET', undefined], ['PATCH', { title: 'x' }], ['DELETE', undefined]] as const) {
      const res = await rc.request(method, `${EVENTS}/${created.body.id}`, { auth: bob.auth, body });
      assert.equal(res.status, 404, method);
      assert.equal(res.body.code, 'event_not_found');
      assert.ok(!JSON.stringify(res.body).includes('Private'));
    }
  });

  test("another user's series, occurrence and override are 404s and never listed", async () => {
    const series = await create(alice.auth, {
      title: 'Secret series', start_time: '2026-11-23T15:00:00Z', end_time: '2026-11-23T16:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    });
    for (const id of [series.id, `${series.id}_20261124T150000Z`]) {
      const res = await rc.request('GET', `${EVENTS}/${id}`, { auth: bob.auth });
      assert.equal(res.status, 404, id);
      assert.equal(res.body.code, 'event_not_found');
      assert.ok(!JSON.stringify(res.body).includes('Secret'));
    }
    const override = await rc.request('POST', EVENTS, { auth: bob.auth, body: { recurring_event_id: series.id, original_start_time: '2026-11-24T15:00:00Z', status: 'cancelled' } });
    assert.equal(override.status, 404);
    assert.equal(override.body.code, 'event_not_found');
    const bobsList = await list(bob.auth, 'limit=100');
    assert.ok(!bobsList.results.some((r: any) => String(r.id).startsWith(series.id)));
    // And alice still sees all three occurrences.
    const alicesList = await list(alice.auth, 'limit=100');
    assert.equal(alicesList.results.filter((r: any) => r.recurring_event_id === series.id).length, 3);
  });

  test('401 without a usable key, 403 with an unknown one', async () => {
    for (const header of [undefined, 'Bearer abc', 'Token']) {
      const res = await rc.request('GET', EVENTS, header ? { auth: header } : {});
      assert.equal(res.status, 401, String(header));
      assert.equal(res.body.code, 'unauthorized');
    }
    const unknown = await rc.request('GET', EVENTS, { auth: 'Token rck_nope' });
    assert.equal(`${unknown.status} ${unknown.body.code}`, '403 forbidden');
  });
});

describe('changes of one series at the same time', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  // While `slowWrites` names a kind of statement, the answer of each such write to the events
  // table comes 300 ms late: its transaction stays open while the test sends another change.
  let slowWrites: 'InsertQueryNode' | 'UpdateQueryNode' | null = null;
  let slowed = 0;
  const held = new Set<unknown>();
  const lateAnswers: KyselyPlugin = {
    transformQuery: (args) => {
      const node = args.node as { kind: string; into?: { table: { identifier: { name: string } } }; table?: { table: { identifier: { name: string } } } };
      const table = node.kind === 'InsertQueryNode' ? node.into?.table.identifier.name : node.kind === 'UpdateQueryNode' ? node.table?.table?.identifier.name : undefined;
      if (slowWrites !== null && node.kind === slowWrites && table === 'events') held.add(args.queryId);
      return args.node;
    },
    transformResult: async (args) => {
      if (held.delete(args.queryId)) {
        slowed++;
        await new Promise((r) => setTimeout(r, 300));
        slowed--;
      }
      return args.result;
    },
  };

  before(async () => {
    rc = await startTestRollcall({ clock, plugins: [lateAnswers] });
  });
  after(() => rc.close());

  async function ok(method: 'POST' | 'PATCH' | 'GET', path: string, auth: string, body?: Record<string, unknown>): Promise<any> {
    const res = await rc.request(method, path, { auth, ...(body ? { body } : {}) });
    assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Starts `first` with its write held open, and sends `second` while it is. */
  async function overlapping(kind: 'InsertQueryNode' | 'UpdateQueryNode', first: () => Promise<unknown>, second: () => Promise<unknown>): Promise<void> {
    slowWrites = kind;
    const firstDone = first();
    try {
      while (slowed === 0) await new Promise((r) => setTimeout(r, 5));
      slowWrites = null;
      await Promise.all([firstDone, second()]);
    } finally {
      slowWrites = null;
    }
  }

  test('an override created while its series is re-timed moves with the series, never left on an occurrence that is gone', async () => {
    const { auth } = await rc.newUser();
    const series = await ok('POST', EVENTS, auth, {
      title: 'Weekly', start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
    });
    let override: any;
    await overlapping('InsertQueryNode',
      async () => { override = await ok('POST', EVENTS, auth, { recurring_event_id: series.id, original_start_time: '2026-12-08T10:00:00Z', title: 'Renamed' }); },
      () => ok('PATCH', `${EVENTS}/${series.id}`, auth, { start_time: '2026-11-24T11:00:00Z', end_time: '2026-11-24T12:00:00Z' }));
    const now = await ok('GET', `${EVENTS}/${override.id}`, auth);
    assert.deepEqual([now.original_start_time, now.start_time, now.title], ['2026-12-08T11:00:00.000Z', '2026-12-08T11:00:00.000Z', 'Renamed']);
    const listed = await ok('GET', `${EVENTS}?time_min=2026-11-20T00:00:00Z&time_max=2027-01-31T00:00:00Z&limit=100`, auth);
    assert.deepEqual(listed.results.map((r: any) => [r.start_time, r.title]), [
      ['2026-11-24T11:00:00.000Z', 'Weekly'], ['2026-12-01T11:00:00.000Z', 'Weekly'], ['2026-12-08T11:00:00.000Z', 'Renamed'], ['2026-12-15T11:00:00.000Z', 'Weekly'],
    ]);
  });

  test('an override changed while its series is re-timed: both stand, one after the other, and the re-time holds no lock on the series while it waits for the override (overrides before their series, on every path: no deadlock)', async () => {
    const { auth } = await rc.newUser();
    const series = await ok('POST', EVENTS, auth, {
      title: 'Weekly', start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
    });
    const override = await ok('POST', EVENTS, auth, { recurring_event_id: series.id, original_start_time: '2026-12-08T10:00:00Z', title: 'Renamed' });
    let seriesLockedWhileWaiting: boolean | null = null;
    await overlapping('UpdateQueryNode',
      () => ok('PATCH', `${EVENTS}/${override.id}`, auth, { title: 'Renamed again' }),
      async () => {
        const retime = ok('PATCH', `${EVENTS}/${series.id}`, auth, { start_time: '2026-11-24T11:00:00Z', end_time: '2026-11-24T12:00:00Z' });
        if (rc.database.engine === 'postgres') {
          // Once the re-time waits for the override the other change holds: is the series locked?
          // If so, the override's change, which locks its series next, closes a cycle.
          let settled = false;
          void retime.finally(() => { settled = true; });
          let waiting = 0;
          while (waiting === 0 && !settled) {
            waiting = Number((await sql<{ n: number }>`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(rc.database.db)).rows[0]!.n);
          }
          if (waiting > 0) seriesLockedWhileWaiting = await rc.database.db.transaction().execute(async (trx) => {
            try {
              await sql`select id from events where id = ${series.id} for update nowait`.execute(trx);
              return false;
            } catch (error) {
              if ((error as { code?: string }).code === '55P03') return true;
              throw error;
            }
          });
        }
        await retime;
      });
    // (On a machine slow enough for the override's change to end before the re-time reached it, nothing waited and nothing is asked.)
    assert.notEqual(seriesLockedWhileWaiting, true, 'the re-time waited for the override without holding its series');
    const now = await ok('GET', `${EVENTS}/${override.id}`, auth);
    assert.deepEqual([now.original_start_time, now.start_time, now.title], ['2026-12-08T11:00:00.000Z', '2026-12-08T11:00:00.000Z', 'Renamed again']);
  });

  test('two changes of one event at once both stand: the second is merged over the first, not over what both read', async () => {
    const { auth } = await rc.newUser();
    const event = await ok('POST', EVENTS, auth, { title: 'Planning', start_time: '2026-11-24T10:00:00Z', end_time: '2026-11-24T11:00:00Z' });
    await overlapping('UpdateQueryNode',
      () => ok('PATCH', `${EVENTS}/${event.id}`, auth, { title: 'Planning (moved room)' }),
      () => ok('PATCH', `${EVENTS}/${event.id}`, auth, { location: 'https://zoom.us/j/8123456789' }));
    const now = await ok('GET', `${EVENTS}/${event.id}`, auth);
    assert.deepEqual([now.title, now.location], ['Planning (moved room)', 'https://zoom.us/j/8123456789']);
  });
});

describe('series ends (migration 036)', () => {
  test('a series written through the API stores when its rule is over; a change of the rule by a writer that leaves the end as it was makes the database forget it, and the series is still listed', async () => {
    const rc = await startTestRollcall({ clock: new ManualClock(NOW) });
    try {
      const { auth, userId } = await rc.newUser();
      const created = await rc.request('POST', EVENTS, { auth, body: {
        title: 'Weekly', start_time: '2026-11-02T10:00:00Z', end_time: '2026-11-02T11:00:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'], meeting_url: 'https://zoom.us/j/123456789',
      } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const endOf = async () => (await rc.database.db.selectFrom('events').select('series_end_ms').where('id', '=', created.body.id).executeTakeFirstOrThrow()).series_end_ms;
      assert.equal(Number(await endOf()), Date.parse('2026-11-09T11:00:00Z'));
      assert.equal((await rc.request('PATCH', `${EVENTS}/${created.body.id}`, { auth, body: { title: 'Weekly sync' } })).status, 200);
      assert.equal(Number(await endOf()), Date.parse('2026-11-09T11:00:00Z'), 'a change of the title keeps it');
      const listed = async () => (await rc.request('GET', `${EVENTS}?time_min=2026-11-20T00:00:00Z&time_max=2026-12-20T00:00:00Z`, { auth })).body.results.map((e: { start_time: string }) => e.start_time);
      assert.deepEqual(await listed(), []);
      // As an instance of a release before migration 036 writes it: the rule, and nothing of its end.
      await rc.database.db.updateTable('events').set({ recurrence: JSON.stringify(['RRULE:FREQ=WEEKLY;COUNT=52']), updated_at: NOW }).where('user_id', '=', userId).where('id', '=', created.body.id).execute();
      assert.equal(await endOf(), null);
      assert.deepEqual(await listed(), ['2026-11-23T10:00:00.000Z', '2026-11-30T10:00:00.000Z', '2026-12-07T10:00:00.000Z', '2026-12-14T10:00:00.000Z']);
      // Written again through the API, it has an end once more.
      assert.equal((await rc.request('PATCH', `${EVENTS}/${created.body.id}`, { auth, body: { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'] } })).status, 200);
      assert.equal(Number(await endOf()), Date.parse('2026-11-16T11:00:00Z'));
    } finally {
      await rc.close();
    }
  });
});

describe('migration 036', () => {
  test('every stored series gets the end of its rule, and the change feed is not told', async () => {
    const at = Date.parse('2025-03-03T09:00:00Z');
    const hour = 3_600_000;
    await withSchemaBefore(36, 'usr_ends', async (database) => {
      const db = database.db;
      const event = (id: string, recurrence: string[] | null) => ({
        id, user_id: 'usr_ends', calendar_id: null, provider_event_id: null, title: id, description: null, location: null, start_ms: at, end_ms: at + hour,
        timezone: 'Europe/Berlin', meeting_url: null, meeting_platform: null, meeting_identity: null, recurrence: recurrence && JSON.stringify(recurrence),
        recurring_event_id: null, original_start_ms: null, status: 'confirmed', is_deleted: 0, raw: '{}', created_at: at, updated_at: at,
        provider_series_id: null, platform: null, provider_calendar_id: null, series_rule: null, meeting_url_given: 1,
      });
      await db.insertInto('events').values([
        event('evt_count', ['RRULE:FREQ=WEEKLY;COUNT=3']),
        event('evt_until', ['RRULE:FREQ=DAILY;UNTIL=20250310T000000Z']),
        event('evt_endless', ['RRULE:FREQ=WEEKLY']),
        event('evt_single', null),
      ]).execute();
      const positions = async () => (await sql<{ id: string; position: string }>`select id, ${sql.raw(database.engine === 'postgres' ? "change_xid::text || '/' || change_seq" : 'change_seq')} as position from events order by id`.execute(db)).rows;
      const before = await positions();
      await migrate(db, database.engine, MIGRATIONS);
      const ends = await db.selectFrom('events').select(['id', 'series_end_ms']).orderBy('id').execute();
      assert.deepEqual(ends.map((r) => [r.id, r.series_end_ms === null ? null : new Date(Number(r.series_end_ms)).toISOString()]), [
        ['evt_count', '2025-03-17T10:00:00.000Z'],
        ['evt_endless', null],
        ['evt_single', null],
        ['evt_until', '2025-03-10T01:00:00.000Z'],
      ]);
      assert.deepEqual(await positions(), before);
      // The feed's trigger is back: a later write is a change.
      await db.updateTable('events').set({ title: 'renamed' }).where('id', '=', 'evt_single').execute();
      assert.notDeepEqual((await positions()).find((r) => r.id === 'evt_single'), before.find((r) => r.id === 'evt_single'));
    });
  });
});
