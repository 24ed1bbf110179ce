// Scheduled-bot management (spec section 3) end to end on a real database: unscheduling events
// and series, listing, updating, rescheduling and cancelling bots, and the paths that take a bot
// id or an event id. What changed is read back through the bot detail and event APIs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { newId, randomToken } from '../../src/lib/ids.ts';
import { deduplicationKeyHash } from '../../src/domain/bot-config.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';
const SCHEDULE = '/api/v1/calendar/schedule';
const CALLBACK = 'http://127.0.0.1:9/hooks';
const SETTINGS = { RATE_LIMIT_PER_MINUTE: '0', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', JOIN_LEAD_SECONDS: '180' };
const UNSCHEDULE_FIELDS = ['bots_already_launched', 'bots_deleted', 'bots_unlinked', 'cancel_all_occurrences', 'cancelled_bots', 'cancelled_schedules', 'event_id', 'from_date', 'is_recurring_series', 'message', 'schedules_cancelled', 'unscheduled'];
const SERIES_FIELDS = [...UNSCHEDULE_FIELDS, 'cancelled', 'master_event_id', 'occurrences_affected'].sort();

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomUrl(): string {
  return `https://zoom.us/j/8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

function newKey(): string {
  return `key-${randomToken(10)}`;
}

type Response = { status: number; body: any };

function expectError(res: Response, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  assert.equal(res.body.status_code, status);
  if (message) assert.match(res.body.error, message);
}

/** The API calls the tests share, bound to one Rollcall. */
function apiOf(rc: TestRollcall) {
  return {
    async createEvent(auth: string, body: Record<string, unknown>): Promise<any> {
      const res = await rc.request('POST', EVENTS, { auth, body: { title: 'Meeting', ...body } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    },
    /** A one-hour event starting `startInMinutes` after NOW. */
    async event(auth: string, startInMinutes: number, url = zoomUrl()): Promise<any> {
      const start = NOW + startInMinutes * 60_000;
      return this.createEvent(auth, { start_time: iso(start), end_time: iso(start + 3_600_000), meeting_url: url });
    },
    async schedule(auth: string, eventId: string, body: Record<string, unknown> = {}): Promise<any> {
      const res = await rc.request('POST', `${SCHEDULE}/${eventId}`, { auth, body: { deduplication_key: newKey(), bot_config: { callback_url: CALLBACK }, ...body } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    async bot(auth: string, botId: string): Promise<any> {
      const res = await rc.request('GET', `/api/v1/bots/${botId}`, { auth });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    async report(auth: string, botId: string, status: string): Promise<void> {
      const res = await rc.request('POST', `/api/v1/bots/${botId}/status`, { auth, body: { status } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    },
    /** Bot events queued for the bot's callback_url, in order. */
    async webhooks(botId: string): Promise<string[]> {
      const rows = await rc.database.db.selectFrom('webhook_deliveries').select(['payload']).where('bot_id', '=', botId).orderBy('id').execute();
      return rows.map((r) => (JSON.parse(r.payload) as { bot_event: string }).bot_event);
    },
  };
}

describe('scheduled-bot management', () => {
  let rc: TestRollcall;
  let api: ReturnType<typeof apiOf>;
  let alice: { auth: string };
  let bob: { auth: string };
  const clock = new ManualClock(NOW);

  before(async () => {
    rc = await startTestRollcall({ clock, settings: SETTINGS });
    api = apiOf(rc);
    alice = await rc.newUser('alice');
    bob = await rc.newUser('bob');
  });
  after(() => rc.close());

  const unschedule = (auth: string, id: string, body?: unknown) => rc.request('DELETE', `${SCHEDULE}/${id}`, body === undefined ? { auth } : { auth, body });

  describe('DELETE /calendar/schedule/{event_id}', () => {
    test('unschedules a single event: bot Cancelled, timer cancelled, webhook queued; again is 200 with zero counts', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const res = await unschedule(alice.auth, event.id);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), UNSCHEDULE_FIELDS);
      assert.equal(res.body.unscheduled, true);
      assert.equal(res.body.event_id, event.id);
      assert.deepEqual(res.body.cancelled_schedules, [scheduled.schedule_id]);
      assert.equal(res.body.schedules_cancelled, 1);
      assert.equal(res.body.bots_deleted, 1);
      assert.deepEqual(res.body.cancelled_bots, [scheduled.bot_id]);
      assert.deepEqual(res.body.bots_unlinked, []);
      assert.deepEqual(res.body.bots_already_launched, []);
      assert.equal(res.body.cancel_all_occurrences, false);
      assert.equal(res.body.from_date, null);
      assert.equal(res.body.is_recurring_series, false);

      const bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.status, 'Cancelled');
      assert.equal(bot.schedule_state, 'cancelled');
      assert.equal(bot.decisions.at(-1).kind, 'cancelled');
      assert.match(bot.decisions.at(-1).reason, new RegExp(`Unscheduled through the API \\(event ${event.id}\\)`));
      assert.deepEqual(await api.webhooks(scheduled.bot_id), ['bot.scheduled', 'bot.cancelled']);

      const again = await unschedule(alice.auth, event.id);
      assert.equal(again.status, 200);
      assert.equal(again.body.unscheduled, true);
      assert.deepEqual(again.body.cancelled_schedules, []);
      assert.equal(again.body.schedules_cancelled, 0);
      assert.equal(again.body.bots_deleted, 0);
      assert.equal(again.body.message, 'Nothing was scheduled for this event');

      // The event can be scheduled afresh.
      const fresh = await api.schedule(alice.auth, event.id);
      assert.notEqual(fresh.bot_id, scheduled.bot_id);
    });

    test('an event that never had a bot answers 200 with zero counts; an empty JSON body is fine', async () => {
      const event = await api.event(alice.auth, 60);
      const res = await unschedule(alice.auth, event.id, {});
      assert.equal(res.status, 200);
      assert.equal(res.body.bots_deleted, 0);
      assert.equal(res.body.unscheduled, true);
    });

    test('unknown events and other users\' events are 404 event_not_found, and nothing changes', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      expectError(await unschedule(alice.auth, 'evt_doesnotexist'), 404, 'event_not_found');
      expectError(await unschedule(bob.auth, event.id), 404, 'event_not_found');
      expectError(await unschedule(bob.auth, `${event.id}_20261124T100000Z`), 404, 'event_not_found');
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).status, 'Scheduled');
      expectError(await rc.request('DELETE', `${SCHEDULE}/${event.id}`), 401, 'unauthorized');
    });

    test('bad options: from_date malformed is 400 invalid_time naming it; wrong types are 400; from_date on a single event is event_not_recurring', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      for (const fromDate of ['yesterday', '2026-13-01', '2026-12-01T10:00:00', 20261201]) {
        expectError(await unschedule(alice.auth, event.id, { from_date: fromDate }), 400, 'invalid_time', /from_date/);
      }
      expectError(await unschedule(alice.auth, event.id, { cancel_all_occurrences: 'yes' }), 400, 'validation_error', /cancel_all_occurrences/);
      expectError(await unschedule(alice.auth, event.id, { from_date: '2026-12-01' }), 400, 'event_not_recurring', /from_date/);
      expectError(await unschedule(alice.auth, event.id, '[1,2'), 400, 'invalid_json');
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).status, 'Scheduled');
      // cancel_all_occurrences on a single event covers that event, and is echoed.
      const res = await unschedule(alice.auth, event.id, { cancel_all_occurrences: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.bots_deleted, 1);
      assert.equal(res.body.cancel_all_occurrences, true);
      assert.equal(res.body.is_recurring_series, false);
    });

    test('a shared bot survives the unscheduling of one event and is cancelled with the last', async () => {
      const url = zoomUrl();
      const early = await api.event(alice.auth, 60, url);
      const late = await api.event(alice.auth, 120, url);
      const key = newKey();
      const first = await api.schedule(alice.auth, early.id, { deduplication_key: key });
      const second = await api.schedule(alice.auth, late.id, { deduplication_key: key });
      assert.equal(second.bot_id, first.bot_id);
      assert.equal(second.scheduled_time, iso(NOW + 57 * 60_000));

      const res = await unschedule(alice.auth, early.id);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.bots_unlinked, [first.bot_id]);
      assert.equal(res.body.bots_deleted, 0);
      assert.deepEqual(res.body.cancelled_schedules, []);
      assert.match(res.body.message, /kept for their other events/);
      let bot = await api.bot(alice.auth, first.bot_id);
      assert.equal(bot.status, 'Scheduled');
      assert.equal(bot.schedule_state, 'pending');
      // It now joins for the later event only.
      assert.equal(bot.scheduled_time, iso(NOW + 117 * 60_000));
      assert.deepEqual(bot.events.map((e: any) => [e.event_id, e.is_linked]), [[early.id, false], [late.id, true]]);
      assert.deepEqual(bot.decisions.slice(-2).map((d: any) => d.kind), ['unlinked_event', 'rescheduled']);
      assert.deepEqual((await rc.request('GET', `${EVENTS}/${early.id}`, { auth: alice.auth })).body.bots, []);

      const again = await unschedule(alice.auth, early.id);
      assert.deepEqual(again.body.bots_unlinked, []);

      const last = await unschedule(alice.auth, late.id);
      assert.deepEqual(last.body.cancelled_bots, [first.bot_id]);
      assert.deepEqual(last.body.cancelled_schedules, [first.schedule_id]);
      assert.deepEqual(last.body.bots_unlinked, []);
      bot = await api.bot(alice.auth, first.bot_id);
      assert.equal(bot.status, 'Cancelled');
      assert.equal(bot.schedule_state, 'cancelled');
    });

    test('a bot that has already launched is left alone and reported', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      await api.report(alice.auth, scheduled.bot_id, 'Joining');
      const res = await unschedule(alice.auth, event.id);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.bots_already_launched, [scheduled.bot_id]);
      assert.equal(res.body.bots_deleted, 0);
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).status, 'Joining');
    });

    describe('recurring series', () => {
      /** Weekly on Tuesdays 10:00 Europe/Berlin from 2026-11-24, eight times. */
      async function series(auth: string): Promise<any> {
        return api.createEvent(auth, {
          title: 'Weekly', start_time: '2026-11-24T10:00:00+01:00', end_time: '2026-11-24T11:00:00+01:00', timezone: 'Europe/Berlin',
          recurrence: ['RRULE:FREQ=WEEKLY;COUNT=8'], meeting_url: zoomUrl(),
        });
      }
      async function scheduleAll(auth: string, seriesId: string): Promise<any[]> {
        const res = await api.schedule(auth, seriesId, { schedule_all_occurrences: true, occurrence_limit: 5 });
        assert.equal(res.occurrences_scheduled, 5);
        return res.schedules_created;
      }
      const statusesOf = (created: any[]) => Promise.all(created.map(async (c) => (await api.bot(alice.auth, c.bot_id)).status));

      test('from_date keeps the earlier occurrences\' bots and cancels the rest; again is a no-op', async () => {
        const s = await series(alice.auth);
        const created = await scheduleAll(alice.auth, s.id);
        assert.deepEqual(created.map((c) => c.occurrence_start.slice(0, 10)), ['2026-11-24', '2026-12-01', '2026-12-08', '2026-12-15', '2026-12-22']);
        const res = await unschedule(alice.auth, s.id, { from_date: '2026-12-08' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(Object.keys(res.body).sort(), SERIES_FIELDS);
        assert.equal(res.body.master_event_id, s.id);
        assert.equal(res.body.is_recurring_series, true);
        assert.equal(res.body.cancelled, true);
        assert.equal(res.body.from_date, '2026-12-08');
        assert.equal(res.body.occurrences_affected, 3);
        assert.equal(res.body.schedules_cancelled, 3);
        assert.equal(res.body.bots_deleted, 3);
        assert.deepEqual([...res.body.cancelled_schedules].sort(), created.slice(2).map((c) => c.schedule_id).sort());
        assert.deepEqual(await statusesOf(created), ['Scheduled', 'Scheduled', 'Cancelled', 'Cancelled', 'Cancelled']);
        const occurrence = await rc.request('GET', `${EVENTS}/${s.id}_20261208T090000Z`, { auth: alice.auth });
        // The cancelled bot is no longer the occurrence's (it stays readable by id, above).
        assert.deepEqual(occurrence.body.bots, []);

        const again = await unschedule(alice.auth, s.id, { from_date: '2026-12-08' });
        assert.equal(again.body.occurrences_affected, 0);
        assert.equal(again.body.schedules_cancelled, 0);

        // A date-time with an offset works too; Dec 1 10:00 Berlin is 09:00Z.
        const byInstant = await unschedule(alice.auth, s.id, { from_date: '2026-12-01T09:00:00Z' });
        assert.deepEqual(byInstant.body.cancelled_bots, [created[1].bot_id]);
        assert.deepEqual(await statusesOf(created), ['Scheduled', 'Cancelled', 'Cancelled', 'Cancelled', 'Cancelled']);
      });

      test('a date in from_date is read in the series time zone', async () => {
        const s = await api.createEvent(alice.auth, {
          title: 'Late', start_time: '2026-11-24T00:30:00+01:00', end_time: '2026-11-24T01:00:00+01:00', timezone: 'Europe/Berlin',
          recurrence: ['RRULE:FREQ=DAILY;COUNT=3'], meeting_url: zoomUrl(),
        });
        const res = await api.schedule(alice.auth, s.id, { schedule_all_occurrences: true });
        // 2026-11-25 00:30 Berlin is 2026-11-24T23:30Z: a UTC reading of the date would keep it.
        const cut = await unschedule(alice.auth, s.id, { from_date: '2026-11-25' });
        assert.deepEqual([...cut.body.cancelled_bots].sort(), res.schedules_created.slice(1).map((c: any) => c.bot_id).sort());
      });

      test('an occurrence id unschedules that occurrence only; with cancel_all_occurrences it covers the series', async () => {
        const s = await series(alice.auth);
        const created = await scheduleAll(alice.auth, s.id);
        const one = await unschedule(alice.auth, `${s.id}_20261201T090000Z`);
        assert.equal(one.status, 200);
        assert.equal(one.body.event_id, `${s.id}_20261201T090000Z`);
        assert.equal(one.body.master_event_id, s.id);
        assert.equal(one.body.is_recurring_series, false);
        assert.equal(one.body.occurrences_affected, 1);
        assert.deepEqual(one.body.cancelled_bots, [created[1].bot_id]);
        assert.equal(one.body.cancelled, undefined);
        assert.deepEqual(await statusesOf(created), ['Scheduled', 'Cancelled', 'Scheduled', 'Scheduled', 'Scheduled']);

        const all = await unschedule(alice.auth, `${s.id}_20261215T090000Z`, { cancel_all_occurrences: true });
        assert.equal(all.body.is_recurring_series, true);
        assert.equal(all.body.cancel_all_occurrences, true);
        assert.equal(all.body.occurrences_affected, 4);
        assert.deepEqual(await statusesOf(created), ['Cancelled', 'Cancelled', 'Cancelled', 'Cancelled', 'Cancelled']);
      });

      test('a series id without options unschedules every occurrence', async () => {
        const s = await series(alice.auth);
        const created = await scheduleAll(alice.auth, s.id);
        const res = await unschedule(alice.auth, s.id);
        assert.equal(res.body.occurrences_affected, 5);
        assert.equal(res.body.is_recurring_series, true);
        assert.equal(res.body.cancel_all_occurrences, false);
        assert.deepEqual(await statusesOf(created), ['Cancelled', 'Cancelled', 'Cancelled', 'Cancelled', 'Cancelled']);
      });

      test('an override instance id stands for its occurrence', async () => {
        const s = await series(alice.auth);
        const created = await scheduleAll(alice.auth, s.id);
        const moved = await api.createEvent(alice.auth, { recurring_event_id: s.id, original_start_time: '2026-12-08T09:00:00Z', start_time: '2026-12-08T13:00:00Z', end_time: '2026-12-08T14:00:00Z' });
        const res = await unschedule(alice.auth, moved.id);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.cancelled_bots, [created[2].bot_id]);
        assert.equal(res.body.master_event_id, s.id);
      });
    });

    test('a bot id deletes that bot (MeetStream\'s older alias)', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const res = await unschedule(alice.auth, scheduled.bot_id, { cancel_all_occurrences: true });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { message: 'Scheduled bot deleted successfully', bot_id: scheduled.bot_id });
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).status, 'Cancelled');
      expectError(await unschedule(bob.auth, scheduled.bot_id), 404, 'bot_not_found');
    });
  });

  describe('GET /calendar/scheduled and /calendar/scheduled_bots', () => {
    test('lists the caller\'s live bots soonest first with MeetStream\'s fields, under both paths', async () => {
      const carol = await rc.newUser();
      const later = await api.schedule(carol.auth, (await api.event(carol.auth, 300)).id, { bot_config: { bot_name: 'Later', custom_attributes: { team: 'sales' } } });
      const sooner = await api.schedule(carol.auth, (await api.event(carol.auth, 100, 'https://meet.google.com/abc-defg-hij')).id, { bot_config: { bot_name: 'Sooner' } });
      const gone = await api.schedule(carol.auth, (await api.event(carol.auth, 200)).id);
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${gone.bot_id}`, { auth: carol.auth });
      await api.schedule(bob.auth, (await api.event(bob.auth, 50)).id);

      const res = await rc.request('GET', '/api/v1/calendar/scheduled', { auth: carol.auth });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['has_more', 'next', 'scheduled_bots']);
      assert.equal(res.body.has_more, false);
      assert.equal(res.body.next, null);
      assert.deepEqual(res.body.scheduled_bots.map((b: any) => b.bot_id), [sooner.bot_id, later.bot_id]);
      const [first, second] = res.body.scheduled_bots;
      assert.deepEqual(Object.keys(first).sort(), ['bot_id', 'bot_username', 'custom_attributes', 'is_scheduled', 'meeting_link', 'platform', 'scheduled_join_time', 'status']);
      assert.equal(first.platform, 'google_meet');
      assert.equal(first.status, 'Scheduled');
      assert.equal(first.is_scheduled, true);
      assert.equal(first.bot_username, 'Sooner');
      assert.equal(first.meeting_link, 'https://meet.google.com/abc-defg-hij');
      assert.equal(first.scheduled_join_time, iso(NOW + 97 * 60_000));
      assert.equal(first.custom_attributes.source, 'calendar_schedule_api');
      assert.match(first.custom_attributes.deduplication_key, /^key-/);
      assert.ok(first.custom_attributes.event_id.startsWith('evt_'));
      assert.equal(second.custom_attributes.team, 'sales');
      assert.equal(second.platform, 'zoom');

      const alias = await rc.request('GET', '/api/v1/calendar/scheduled_bots', { auth: carol.auth });
      assert.deepEqual(alias.body, res.body);

      const paged = await rc.request('GET', '/api/v1/calendar/scheduled_bots?limit=1', { auth: carol.auth });
      assert.deepEqual(paged.body.scheduled_bots.map((b: any) => b.bot_id), [sooner.bot_id]);
      assert.equal(paged.body.has_more, true);
      const rest = await rc.request('GET', `/api/v1/calendar/scheduled_bots?limit=1&cursor=${paged.body.next}`, { auth: carol.auth });
      assert.deepEqual(rest.body.scheduled_bots.map((b: any) => b.bot_id), [later.bot_id]);
      assert.equal(rest.body.has_more, false);
    });

    test('limit must be 1-100; a cursor we did not issue is invalid_cursor', async () => {
      for (const limit of ['0', '101', 'ten', '1.5']) {
        expectError(await rc.request('GET', `/api/v1/calendar/scheduled?limit=${limit}`, { auth: alice.auth }), 400, 'validation_error', /limit/);
      }
      expectError(await rc.request('GET', '/api/v1/calendar/scheduled?cursor=bm9wZQ', { auth: alice.auth }), 400, 'invalid_cursor', /cursor/);
      expectError(await rc.request('GET', '/api/v1/calendar/scheduled_bots'), 401, 'unauthorized');
    });
  });

  describe('PATCH /calendar/scheduled/{bot_id}', () => {
    const patch = (auth: string, path: string, body: unknown) => rc.request('PATCH', path, { auth, body });

    test('a new join time moves the timer, pins it against calendar moves, and is logged', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const target = '2026-11-20T13:30:00+01:00';
      const res = await patch(alice.auth, `/api/v1/calendar/scheduled/${scheduled.bot_id}`, { scheduled_join_time: target });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { success: true, message: 'Scheduled bot updated successfully', bot_id: scheduled.bot_id, updated_fields: ['scheduled_join_time'], schedule_updated: true, scheduled_join_time: '2026-11-20T12:30:00.000Z' });
      let bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.scheduled_time, '2026-11-20T12:30:00.000Z');
      assert.equal(bot.schedule_state, 'pending');
      assert.deepEqual(bot.decisions.slice(-2).map((d: any) => d.kind), ['updated', 'rescheduled']);
      assert.deepEqual(bot.decisions.at(-2).details.updated_fields, ['scheduled_join_time']);
      const due = await rc.database.db.selectFrom('schedules').select('due_at_ms').where('bot_id', '=', scheduled.bot_id).executeTakeFirstOrThrow();
      assert.equal(Number(due.due_at_ms), Date.parse('2026-11-20T12:30:00Z'));
      assert.deepEqual(await api.webhooks(scheduled.bot_id), ['bot.scheduled', 'bot.rescheduled']);

      // The same time again changes nothing.
      const same = await patch(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, { scheduled_join_time: '2026-11-20T12:30:00Z' });
      assert.deepEqual(same.body, { success: true, message: 'Nothing changed', bot_id: scheduled.bot_id, updated_fields: [], schedule_updated: false, scheduled_join_time: '2026-11-20T12:30:00.000Z' });

      // A calendar move does not put the bot back on the usual lead: the pinned time moves with
      // the meeting, keeping its half hour before the start.
      const moved = await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { start_time: iso(NOW + 90 * 60_000), end_time: iso(NOW + 150 * 60_000) } });
      assert.equal(moved.status, 200);
      bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.scheduled_time, '2026-11-20T13:00:00.000Z');
      assert.equal(bot.bot_config.join_at, '2026-11-20T13:00:00.000Z');
      // Only its end moving leaves it where it is.
      assert.equal((await rc.request('PATCH', `${EVENTS}/${event.id}`, { auth: alice.auth, body: { end_time: iso(NOW + 180 * 60_000) } })).status, 200);
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).scheduled_time, '2026-11-20T13:00:00.000Z');
    });

    test('name, custom attributes (merged) and feature flags are stored; updated_fields lists only real changes', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id, { bot_config: { bot_name: 'Old', custom_attributes: { team: 'sales', region: 'eu' } } });
      const body = { bot_username: 'New name', custom_attributes: { region: 'us', tier: 'gold' }, transcription_enabled: true, recording_enabled: false, screenshot_enabled: true };
      const res = await patch(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.updated_fields, ['bot_username', 'custom_attributes', 'transcription_enabled', 'recording_enabled', 'screenshot_enabled']);
      assert.equal(res.body.schedule_updated, false);
      assert.equal(res.body.scheduled_join_time, scheduled.scheduled_time);
      const bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.bot_config.bot_name, 'New name');
      assert.equal(bot.bot_config.transcription_enabled, true);
      assert.equal(bot.bot_config.recording_enabled, false);
      assert.equal(bot.bot_config.screenshot_enabled, true);
      assert.deepEqual(bot.bot_config.custom_attributes, { team: 'sales', region: 'us', tier: 'gold' });
      assert.equal(bot.custom_attributes.team, 'sales');
      assert.equal(bot.custom_attributes.region, 'us');
      assert.equal(bot.custom_attributes.tier, 'gold');
      assert.equal(bot.custom_attributes.source, 'calendar_schedule_api');
      assert.equal(bot.scheduled_time, scheduled.scheduled_time);
      assert.equal(bot.decisions.at(-1).kind, 'updated');
      const listed = await rc.request('GET', '/api/v1/calendar/scheduled?limit=100', { auth: alice.auth });
      assert.equal(listed.body.scheduled_bots.find((b: any) => b.bot_id === scheduled.bot_id).bot_username, 'New name');

      const again = await patch(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, { ...body, transcription_enabled: false });
      assert.deepEqual(again.body.updated_fields, ['transcription_enabled']);
      const decisionsBefore = (await api.bot(alice.auth, scheduled.bot_id)).decisions.length;
      const noop = await patch(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, { bot_username: 'New name' });
      assert.deepEqual(noop.body.updated_fields, []);
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).decisions.length, decisionsBefore);
    });

    test('bad input is 400 naming the field; nothing changes', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const path = `/api/v1/calendar/scheduled/${scheduled.bot_id}`;
      expectError(await patch(alice.auth, path, { scheduled_join_time: iso(NOW - 60_000) }), 400, 'invalid_join_at', /scheduled_join_time.*future/);
      expectError(await patch(alice.auth, path, { scheduled_join_time: iso(NOW) }), 400, 'invalid_join_at', /scheduled_join_time/);
      expectError(await patch(alice.auth, path, { scheduled_join_time: '2026-11-20T13:00:00' }), 400, 'invalid_join_at', /scheduled_join_time/);
      expectError(await patch(alice.auth, path, { scheduled_join_time: 'soon' }), 400, 'invalid_join_at', /scheduled_join_time/);
      expectError(await patch(alice.auth, path, { scheduled_join_time: iso(NOW + 2 * 3_600_000) }), 400, 'invalid_join_at', /after the meeting ends/);
      expectError(await patch(alice.auth, path, {}), 400, 'validation_error', /nothing to update/);
      expectError(await patch(alice.auth, path, { unknown_field: 1 }), 400, 'validation_error', /nothing to update/);
      expectError(await patch(alice.auth, path, { bot_username: 42 }), 400, 'validation_error', /bot_username/);
      expectError(await patch(alice.auth, path, { custom_attributes: { n: [1] } }), 400, 'validation_error', /custom_attributes/);
      expectError(await patch(alice.auth, path, { recording_enabled: 'true' }), 400, 'validation_error', /recording_enabled/);
      const bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.scheduled_time, scheduled.scheduled_time);
      assert.equal(bot.decisions.length, 1);
    });

    test('custom attributes do not grow without bound, and the ones Rollcall sets are not the client\'s to change', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id, { bot_config: { custom_attributes: { team: 'sales' } } });
      const path = `/api/v1/calendar/scheduled/${scheduled.bot_id}`;
      const fifty = (prefix: string) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${prefix}${i}`, 'x'.repeat(1000)]));
      // Fifty at once is fine; fifty more would make over 64 in all.
      assert.equal((await patch(alice.auth, path, { custom_attributes: fifty('a') })).status, 200);
      expectError(await patch(alice.auth, path, { custom_attributes: fifty('b') }), 400, 'validation_error', /custom_attributes: a bot carries at most 64 attributes in all .* would make 1\d\d/);
      // The attributes that map webhooks back to the event.
      for (const name of ['source', 'event_id', 'deduplication_key']) {
        const refused = await patch(alice.auth, path, { custom_attributes: { [name]: 'hijack' } });
        expectError(refused, 400, 'validation_error', new RegExp(`custom_attributes\\.${name}: ${name} is set by Rollcall`));
        assert.equal(refused.body.details.field, `custom_attributes.${name}`);
      }
      // A read, modify, write of the whole map (Rollcall's own sent back as read) is fine.
      const read = (await rc.request('GET', `/api/v1/bots/${scheduled.bot_id}/status`, { auth: alice.auth })).body.custom_attributes;
      const rewritten = await patch(alice.auth, path, { custom_attributes: { source: read.source, event_id: read.event_id, deduplication_key: read.deduplication_key, team: 'marketing' } });
      assert.equal(rewritten.status, 200, JSON.stringify(rewritten.body));
      const bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.custom_attributes.team, 'marketing');
      assert.equal(bot.custom_attributes.source, 'calendar_schedule_api');
      assert.equal(bot.custom_attributes.event_id, event.id);
      assert.equal(Object.keys(bot.custom_attributes).filter((k: string) => k.startsWith('b')).length, 0, 'nothing of the refused PATCH stored');
      // The schedule request sent again merges as well, within the same bound, and Rollcall's own stay.
      const again = await rc.request('POST', `/api/v1/calendar/schedule/${event.id}`, { auth: alice.auth, body: { deduplication_key: bot.custom_attributes.deduplication_key, bot_config: { custom_attributes: { ...Object.fromEntries(Object.entries(fifty('c')).slice(0, 49)), source: 'hijack' } } } });
      expectError(again, 400, 'invalid_bot_config', /bot_config\.custom_attributes: a bot carries at most 64/);
      const small = await rc.request('POST', `/api/v1/calendar/schedule/${event.id}`, { auth: alice.auth, body: { deduplication_key: bot.custom_attributes.deduplication_key, bot_config: { custom_attributes: { tier: 'gold', source: 'hijack' } } } });
      assert.equal(small.status, 200, JSON.stringify(small.body));
      const after = await api.bot(alice.auth, scheduled.bot_id);
      assert.deepEqual([after.custom_attributes.source, after.custom_attributes.tier, after.custom_attributes.team], ['calendar_schedule_api', 'gold', 'marketing']);
    });

    test('unknown and other users\' bots are 404 bot_not_found; a bot past Scheduled is bot_already_joined', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const body = { bot_username: 'X' };
      expectError(await patch(alice.auth, '/api/v1/calendar/scheduled/bot_nope', body), 404, 'bot_not_found');
      expectError(await patch(bob.auth, `/api/v1/calendar/scheduled/${scheduled.bot_id}`, body), 404, 'bot_not_found');
      expectError(await patch(bob.auth, `${SCHEDULE}/${scheduled.bot_id}`, body), 404, 'bot_not_found');
      await api.report(alice.auth, scheduled.bot_id, 'Joining');
      expectError(await patch(alice.auth, `/api/v1/calendar/scheduled/${scheduled.bot_id}`, body), 400, 'bot_already_joined', /Joining/);
      expectError(await patch(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, { scheduled_join_time: iso(NOW + 30 * 60_000) }), 400, 'bot_already_joined');

      const other = await api.schedule(alice.auth, (await api.event(alice.auth, 60)).id);
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${other.bot_id}`, { auth: alice.auth });
      expectError(await patch(alice.auth, `/api/v1/calendar/scheduled/${other.bot_id}`, body), 400, 'bot_already_joined', /Cancelled/);
    });

    test('PATCH /calendar/schedule/{id}: a bot id updates the bot; an event id reschedules the event\'s bot', async () => {
      const event = await api.event(alice.auth, 60);
      const scheduled = await api.schedule(alice.auth, event.id);
      const byBot = await patch(alice.auth, `${SCHEDULE}/${scheduled.bot_id}`, { bot_username: 'Via alias' });
      assert.equal(byBot.status, 200);
      assert.deepEqual(byBot.body.updated_fields, ['bot_username']);

      const byEvent = await patch(alice.auth, `${SCHEDULE}/${event.id}`, { scheduled_join_time: iso(NOW + 40 * 60_000) });
      assert.equal(byEvent.status, 200, JSON.stringify(byEvent.body));
      assert.deepEqual(byEvent.body, { success: true, message: 'Scheduled bot updated successfully', bot_id: scheduled.bot_id, updated_fields: ['scheduled_join_time'], schedule_updated: true, scheduled_join_time: iso(NOW + 40 * 60_000) });
      assert.equal((await api.bot(alice.auth, scheduled.bot_id)).scheduled_time, iso(NOW + 40 * 60_000));

      const bare = await api.event(alice.auth, 60);
      expectError(await patch(alice.auth, `${SCHEDULE}/${bare.id}`, { scheduled_join_time: iso(NOW + 40 * 60_000) }), 404, 'bot_not_found');
      expectError(await patch(alice.auth, `${SCHEDULE}/evt_nope`, { scheduled_join_time: iso(NOW + 40 * 60_000) }), 404, 'event_not_found');
      expectError(await patch(bob.auth, `${SCHEDULE}/${event.id}`, { scheduled_join_time: iso(NOW + 40 * 60_000) }), 404, 'event_not_found');
      expectError(await patch(alice.auth, `${SCHEDULE}/${event.id}`, { scheduled_join_time: iso(NOW - 1000) }), 400, 'invalid_join_at');
    });

    test('rescheduling a series moves the bot of its soonest waiting occurrence; an occurrence id names one', async () => {
      const s = await api.createEvent(alice.auth, {
        title: 'Daily', start_time: '2026-11-21T10:00:00Z', end_time: '2026-11-21T11:00:00Z', timezone: 'UTC',
        recurrence: ['RRULE:FREQ=DAILY;COUNT=3'], meeting_url: zoomUrl(),
      });
      const all = await api.schedule(alice.auth, s.id, { schedule_all_occurrences: true });
      const [first, second] = all.schedules_created;
      const bySeries = await patch(alice.auth, `${SCHEDULE}/${s.id}`, { scheduled_join_time: '2026-11-21T09:30:00Z' });
      assert.equal(bySeries.body.bot_id, first.bot_id);
      const byOccurrence = await patch(alice.auth, `${SCHEDULE}/${s.id}_20261122T100000Z`, { scheduled_join_time: '2026-11-22T09:45:00Z' });
      assert.equal(byOccurrence.body.bot_id, second.bot_id);
      assert.equal((await api.bot(alice.auth, second.bot_id)).scheduled_time, '2026-11-22T09:45:00.000Z');
    });
  });

  describe('DELETE /calendar/scheduled/{bot_id}', () => {
    const remove = (auth: string, path: string) => rc.request('DELETE', path, { auth });

    test('cancels the bot for all its events: Cancelled, timer cancelled, bot.cancelled webhook; again is 200', async () => {
      const url = zoomUrl();
      const one = await api.event(alice.auth, 60, url);
      const two = await api.event(alice.auth, 90, url);
      const key = newKey();
      const scheduled = await api.schedule(alice.auth, one.id, { deduplication_key: key });
      await api.schedule(alice.auth, two.id, { deduplication_key: key });
      const res = await remove(alice.auth, `/api/v1/calendar/scheduled/${scheduled.bot_id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { message: 'Scheduled bot deleted successfully', bot_id: scheduled.bot_id });
      const bot = await api.bot(alice.auth, scheduled.bot_id);
      assert.equal(bot.status, 'Cancelled');
      assert.equal(bot.schedule_state, 'cancelled');
      assert.deepEqual(bot.events.map((e: any) => e.is_linked), [false, false]);
      assert.equal(bot.decisions.at(-1).kind, 'cancelled');
      assert.deepEqual(bot.status_timeline.map((t: any) => t.status), ['Scheduled', 'Cancelled']);
      assert.deepEqual(await api.webhooks(scheduled.bot_id), ['bot.scheduled', 'bot.cancelled']);

      const again = await remove(alice.auth, `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`);
      assert.equal(again.status, 200);
      assert.equal(again.body.bot_id, scheduled.bot_id);
      assert.deepEqual(await api.webhooks(scheduled.bot_id), ['bot.scheduled', 'bot.cancelled']);
    });

    test('a bot joining or in a meeting is 400 bot_active; a finished one is bot_already_joined; others\' are 404', async () => {
      const joining = await api.schedule(alice.auth, (await api.event(alice.auth, 60)).id);
      await api.report(alice.auth, joining.bot_id, 'Joining');
      expectError(await remove(alice.auth, `/api/v1/calendar/scheduled/${joining.bot_id}`), 400, 'bot_active', /Joining/);
      await api.report(alice.auth, joining.bot_id, 'InMeeting');
      expectError(await remove(alice.auth, `/api/v1/calendar/scheduled_bots/${joining.bot_id}`), 400, 'bot_active', /InMeeting/);
      expectError(await remove(alice.auth, `${SCHEDULE}/${joining.bot_id}`), 400, 'bot_active');
      await api.report(alice.auth, joining.bot_id, 'Done');
      expectError(await remove(alice.auth, `/api/v1/calendar/scheduled/${joining.bot_id}`), 400, 'bot_already_joined', /Done/);

      const mine = await api.schedule(alice.auth, (await api.event(alice.auth, 60)).id);
      expectError(await remove(bob.auth, `/api/v1/calendar/scheduled/${mine.bot_id}`), 404, 'bot_not_found');
      expectError(await remove(bob.auth, `/api/v1/calendar/scheduled_bots/${mine.bot_id}`), 404, 'bot_not_found');
      expectError(await remove(alice.auth, '/api/v1/calendar/scheduled/bot_nope'), 404, 'bot_not_found');
      assert.equal((await api.bot(alice.auth, mine.bot_id)).status, 'Scheduled');
    });
  });
});

describe('a moved bot fires at its new time', () => {
  test('PATCH moves a claimed timer: nothing fires at the old time, one launch at the new one', async () => {
    const clock = new ManualClock(NOW);
    const runtime = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    const rc = await startTestRollcall({ clock, settings: { ...SETTINGS, BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '30' } });
    try {
      const api = apiOf(rc);
      const user = await rc.newUser();
      const event = await api.event(user.auth, 60);
      const scheduled = await api.schedule(user.auth, event.id);
      const oldJoin = NOW + 57 * 60_000;
      // One second before the old time the dispatcher has claimed the row onto its timer.
      clock.set(oldJoin - 1000);
      await rc.dispatcher.runDue();
      const claimed = await rc.database.db.selectFrom('schedules').select('state').where('bot_id', '=', scheduled.bot_id).executeTakeFirstOrThrow();
      assert.equal(claimed.state, 'claimed');

      const newJoin = NOW + 70 * 60_000;
      const res = await rc.request('PATCH', `/api/v1/calendar/scheduled/${scheduled.bot_id}`, { auth: user.auth, body: { scheduled_join_time: iso(newJoin) } });
      assert.equal(res.body.schedule_updated, true);
      const detail = await api.bot(user.auth, scheduled.bot_id);
      assert.equal(detail.scheduled_time, iso(newJoin));
      assert.equal(detail.schedule_state, 'pending');
      assert.ok(detail.decisions.some((d: any) => d.kind === 'updated'));

      clock.set(oldJoin);
      await rc.dispatcher.runDue();
      clock.set(newJoin - 1);
      await rc.dispatcher.runDue();
      assert.equal(runtime.received.length, 0);
      assert.equal((await api.bot(user.auth, scheduled.bot_id)).status, 'Scheduled');

      clock.set(newJoin);
      await rc.dispatcher.runDue();
      assert.deepEqual(runtime.received.map((r) => r.json.bot_id), [scheduled.bot_id]);
      assert.equal(runtime.received[0]!.json.scheduled_time, iso(newJoin));
      const launched = await api.bot(user.auth, scheduled.bot_id);
      assert.equal(launched.status, 'Joining');
      assert.equal(launched.decisions.at(-1).kind, 'launched');
      await rc.dispatcher.runDue();
      assert.equal(runtime.received.length, 1);
    } finally {
      await rc.close();
      await runtime.stop();
    }
  });

  test('a bot cancelled through the API never fires', async () => {
    const clock = new ManualClock(NOW);
    const runtime = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    const rc = await startTestRollcall({ clock, settings: { ...SETTINGS, BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '30' } });
    try {
      const api = apiOf(rc);
      const user = await rc.newUser();
      const scheduled = await api.schedule(user.auth, (await api.event(user.auth, 60)).id);
      clock.set(NOW + 57 * 60_000 - 1000);
      await rc.dispatcher.runDue();
      const res = await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${scheduled.bot_id}`, { auth: user.auth });
      assert.equal(res.status, 200);
      clock.set(NOW + 57 * 60_000);
      await rc.dispatcher.runDue();
      clock.advance(3_600_000);
      await rc.dispatcher.runDue();
      assert.equal(runtime.received.length, 0);
      assert.equal((await api.bot(user.auth, scheduled.bot_id)).status, 'Cancelled');
    } finally {
      await rc.close();
      await runtime.stop();
    }
  });
});

describe('paging through 10,000 bots while bots come and go', () => {
  test('pages of 100: no bot twice, no bot that existed throughout missed, soonest first', async () => {
    const clock = new ManualClock(NOW);
    const rc = await startTestRollcall({ clock, settings: SETTINGS });
    try {
      const user = await rc.newUser();
      const db = rc.database.db;
      // Deterministic randomness, so that a failure can be replayed.
      let seed = 42;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
      // Four bots share each join time, so the id tie-break is exercised on every page.
      const joinTimeAt = (slot: number) => NOW + 3_600_000 + slot * 60_000;
      const makeBot = (joinAtMs: number) => {
        const id = newId('bot');
        return {
          bot: {
            id, user_id: user.userId, deduplication_key: `bulk-${id}`, deduplication_key_hash: deduplicationKeyHash(`bulk-${id}`), is_live: 1, meeting_url: 'https://zoom.us/j/1234567890', meeting_platform: 'zoom',
            meeting_identity: 'zoom:1234567890', status: 'Scheduled', bot_config: '{"bot_name":"Bulk"}', custom_attributes: '{}', join_at_ms: joinAtMs,
            is_join_time_pinned: 0, meeting_end_ms: joinAtMs + 3_600_000, launched_at: null, source: 'calendar_schedule_api', created_at: NOW, updated_at: NOW,
          },
          schedule: {
            id: newId('sch'), bot_id: id, user_id: user.userId, schedule_group: 'zoom', due_at_ms: joinAtMs, state: 'pending', attempts: 0,
            lease_owner: null, lease_until_ms: null, idempotency_key: `launch-${id}`, status_token: `bst_${id}`, last_error: null, created_at: NOW, updated_at: NOW,
          },
        };
      };
      const insert = async (rows: ReturnType<typeof makeBot>[]) => {
        for (let i = 0; i < rows.length; i += 500) {
          const chunk = rows.slice(i, i + 500);
          await db.transaction().execute(async (trx) => {
            await trx.insertInto('bots').values(chunk.map((r) => r.bot)).execute();
            await trx.insertInto('schedules').values(chunk.map((r) => r.schedule)).execute();
          });
        }
      };
      const initial = Array.from({ length: 10_000 }, (_, i) => makeBot(joinTimeAt(Math.floor(i / 4))));
      await insert(initial);

      const live = new Set(initial.map((r) => r.bot.id));
      const deleted = new Set<string>();
      const added = new Set<string>();
      const seen: string[] = [];
      const seenJoinTimes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/v1/calendar/scheduled?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
        // Between pages, and alongside the page request: cancel three live bots (seen or not yet
        // seen) through the API, and add three new ones anywhere in the order.
        const victims = [...Array(3)].map(() => [...live][Math.floor(random() * live.size)]!).filter((id, i, all) => all.indexOf(id) === i);
        for (const id of victims) {
          live.delete(id);
          deleted.add(id);
        }
        const fresh = [...Array(3)].map(() => makeBot(joinTimeAt(Math.floor(random() * 2600))));
        for (const r of fresh) added.add(r.bot.id);
        const [page] = await Promise.all([
          rc.request('GET', url, { auth: user.auth }),
          ...victims.map(async (id) => {
            const res = await rc.request('DELETE', `/api/v1/calendar/scheduled/${id}`, { auth: user.auth });
            assert.equal(res.status, 200, JSON.stringify(res.body));
          }),
          insert(fresh),
        ]);
        for (const r of fresh) live.add(r.bot.id);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.scheduled_bots.length <= 100);
        for (const bot of page.body.scheduled_bots) {
          seen.push(bot.bot_id);
          seenJoinTimes.push(Date.parse(bot.scheduled_join_time));
        }
        assert.equal(page.body.has_more, page.body.next !== null);
        cursor = page.body.next;
        pages++;
        assert.ok(pages < 200, 'paging does not end');
      } while (cursor !== null);

      assert.equal(new Set(seen).size, seen.length, 'a bot was listed twice');
      const seenSet = new Set(seen);
      const missed = initial.map((r) => r.bot.id).filter((id) => !deleted.has(id) && !seenSet.has(id));
      assert.deepEqual(missed, [], 'a bot that existed throughout was missed');
      for (const id of seen) assert.ok(live.has(id) || deleted.has(id), `listed an unknown bot ${id}`);
      for (let i = 1; i < seenJoinTimes.length; i++) assert.ok(seenJoinTimes[i]! >= seenJoinTimes[i - 1]!, 'not soonest first');
      assert.ok(pages >= 100, `only ${pages} pages`);
      assert.ok(deleted.size > 250);
      assert.ok(added.size === pages * 3);
    } finally {
      await rc.close();
    }
  });
});
