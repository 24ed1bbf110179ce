// The calendar routes as MeetStream's own public client code calls them, each answer read the way
// that code reads it. The calls and the fields read come from MeetStream's first-party code:
// - its Node SDK, meetstream-ai/meetstream-node src/resources/calendar.ts and src/client.ts
//   (JSON body on POST/PATCH, `{}` when given nothing; an error's text read from message, detail
//   or error);
// - its Python SDK, meetstream-ai/meetstream-python src/meetstream/resources/calendar.py
//   (reschedule sends only scheduled_join_time);
// - its CLI and MCP server, meetstream-ai/meetstream-cli src/api.js and src/commands/misc.js,
//   meetstream-ai/meetstream-mcp src/api.js (Content-Type: application/json on every request,
//   schedule with no body, disable with the default_bot_config it was given);
// - its example templates, meetstream-ai/labs calendar-schedule-bot/src/schedule.js,
//   calendar-event-sync/src/events.js and index.js, manage-scheduled-bots (list, PATCH, DELETE),
//   calendar-disconnect/src/disconnect.js;
// - the answer shapes of its OpenAPI document (the copy in meetstream-ai/labs
//   openclaw-x-meetstream-skill/references/openapi.json): ScheduleEventResponse,
//   FetchEventsResponse, RescheduleBotResponse, DeleteScheduledBotResponse, SetupCronResponse,
//   Calendar_listScheduledBots_Response_200.
// Events are written through Rollcall's own API (no provider is needed for these routes); the
// calendar connection routes, as clients call them, are in meetstream-calendar.int.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 86_400_000;
const JSON_HEADERS = { 'content-type': 'application/json' };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomUrl(): string {
  return `https://zoom.us/j/8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

describe('MeetStream\'s calendar routes as its public clients call them', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);

  before(async () => {
    rc = await startTestRollcall({ clock });
  });
  after(async () => {
    await rc.close();
  });

  async function event(auth: string, body: Record<string, unknown>): Promise<any> {
    const res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'Meeting', ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function oneOff(auth: string, startInMs = 2 * HOUR): Promise<any> {
    const start = clock.now() + startInMs;
    return event(auth, { start_time: iso(start), end_time: iso(start + HOUR), meeting_url: zoomUrl() });
  }

  /** The text an SDK raises for a failure: message, else detail, else error (client.ts messageFrom). */
  function sdkMessage(body: any): string | undefined {
    for (const key of ['message', 'detail', 'error']) if (typeof body?.[key] === 'string' && body[key]) return body[key];
    return undefined;
  }

  test('POST /calendar/schedule/{event_id}: the fields ScheduleEventResponse types are in the answer (existing_schedules aside), occurrence_date null and is_recurring_occurrence false for a one-off event', async () => {
    const user = await rc.newUser();
    const meeting = await oneOff(user.auth);
    // calendar-schedule-bot/src/schedule.js: { bot_config } with the documented calendar fields,
    // the deduplication key inside bot_config.
    const res = await rc.request('POST', `/api/v1/calendar/schedule/${encodeURIComponent(meeting.id)}`, {
      auth: user.auth, headers: JSON_HEADERS,
      body: { bot_config: { bot_name: 'MeetStream Calendar Bot', audio_required: true, video_required: false, automatic_leave: { everyone_left_timeout: 300 }, transcription: { deepgram: { model: 'nova-3', language: 'en' } }, deduplication_key: 'one-off' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // ScheduleEventResponse: occurrence_date is a string or null, is_recurring_occurrence a
    // boolean; a client that reads them (Python's d["is_recurring_occurrence"]) finds them.
    for (const field of ['scheduled', 'schedule_id', 'bot_id', 'schedule_group', 'event_id', 'scheduled_time', 'occurrence_date', 'is_recurring_occurrence', 'bot_config']) {
      assert.ok(field in res.body, `${field} is in the answer: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual([res.body.scheduled, res.body.event_id, res.body.schedule_group, res.body.occurrence_date, res.body.is_recurring_occurrence], [true, meeting.id, 'zoom', null, false]);
    assert.equal(res.body.scheduled_time, iso(Date.parse(meeting.start_time) - 3 * 60_000));
    assert.deepEqual([res.body.bot_config.bot_name, res.body.bot_config.deduplication_key], ['MeetStream Calendar Bot', 'one-off']);

    // The same event again under another key: 409, the existing bot's id at the top level (the
    // template accepts 409 and reads data.bot_id), and a message the SDKs can show.
    const again = await rc.request('POST', `/api/v1/calendar/schedule/${meeting.id}`, { auth: user.auth, headers: JSON_HEADERS, body: { bot_config: { deduplication_key: 'another' } } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.bot_id, res.body.bot_id);
    assert.ok(sdkMessage(again.body));
  });

  test('POST /calendar/schedule/{event_id}: a series answers for the occurrence booked; schedule_all_occurrences for its first one', async () => {
    const user = await rc.newUser();
    const start = clock.now() + 2 * HOUR;
    const series = await event(user.auth, { start_time: iso(start), end_time: iso(start + HOUR), timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], meeting_url: zoomUrl() });
    const next = await rc.request('POST', `/api/v1/calendar/schedule/${series.id}`, { auth: user.auth, body: { deduplication_key: 'next', bot_config: {} } });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual([next.body.occurrence_date, next.body.is_recurring_occurrence], [iso(start), true]);

    const other = await event(user.auth, { start_time: iso(start + HOUR), end_time: iso(start + 2 * HOUR), timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], meeting_url: zoomUrl() });
    // Python code patterns (claude-plugin, code-patterns-python.md): schedule_all_occurrences with
    // occurrence_limit 52.
    const all = await rc.request('POST', `/api/v1/calendar/schedule/${other.id}`, { auth: user.auth, body: { deduplication_key: 'all', bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 52 } });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual([all.body.occurrences_scheduled, all.body.master_event_id, all.body.is_recurring_occurrence, all.body.occurrence_date], [3, other.id, true, iso(start + HOUR)]);
    assert.equal(all.body.bot_id, all.body.schedules_created[0].bot_id);
  });

  test('GET /calendar/events: paged as the event-sync template pages (has_more and next), each result with the fields it reads', async () => {
    const user = await rc.newUser();
    for (let i = 0; i < 3; i++) await oneOff(user.auth, (i + 1) * HOUR);
    // calendar-event-sync/index.js: time_min and time_max from toISOString(), limit, and the
    // cursor from the page before (events.js fetchAllEvents).
    const seen: any[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const query = new URLSearchParams({ time_min: iso(clock.now()), time_max: iso(clock.now() + 14 * DAY), limit: '2', ...(cursor ? { cursor } : {}) });
      const page = await rc.request('GET', `/api/v1/calendar/events?${query}`, { auth: user.auth });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(Array.isArray(page.body.results));
      seen.push(...page.body.results);
      if (!page.body.has_more || !page.body.next || page.body.results.length === 0) break;
      cursor = page.body.next;
    }
    assert.equal(seen.length, 3);
    for (const e of seen) {
      // FetchEventsResponseResultsItems, and what the templates read: id, start_time, meeting_url,
      // meeting_platform, is_deleted, raw.summary, bots[].
      for (const field of ['id', 'start_time', 'end_time', 'calendar_id', 'platform', 'platform_id', 'ical_uid', 'meeting_platform', 'meeting_url', 'created_at', 'updated_at', 'is_deleted', 'raw', 'bots']) {
        assert.ok(field in e, `${field} is in each result`);
      }
      assert.deepEqual([e.is_deleted, e.meeting_platform, e.raw.summary, e.bots], [false, 'zoom', 'Meeting', []]);
      assert.ok(!Number.isNaN(Date.parse(e.start_time)));
    }
  });

  test('scheduled bots: list, reschedule, delete as the SDKs and the manage-scheduled-bots template do', async () => {
    const user = await rc.newUser();
    const meeting = await oneOff(user.auth);
    const booked = await rc.request('POST', `/api/v1/calendar/schedule/${meeting.id}`, { auth: user.auth, body: { deduplication_key: 'managed', bot_config: { bot_name: 'Notes' } } });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    const botId = booked.body.bot_id;

    // listScheduledBots(limit = 100): data.scheduled_bots, each with the list's fields.
    const list = await rc.request('GET', '/api/v1/calendar/scheduled_bots?limit=100', { auth: user.auth });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const item = list.body.scheduled_bots.find((b: any) => b.bot_id === botId);
    assert.ok(item, JSON.stringify(list.body));
    assert.deepEqual([item.status, item.bot_username, item.meeting_link, item.scheduled_join_time, item.custom_attributes.event_id], ['Scheduled', 'Notes', meeting.meeting_url, booked.body.scheduled_time, meeting.id]);

    // Python SDK reschedule_bot: only scheduled_join_time, from toISOString() (a Z offset) or as
    // Python writes it (+00:00). RescheduleBotResponse: message, bot_id, updated_fields, schedule_updated.
    const earlier = Date.parse(meeting.start_time) - 10 * 60_000;
    for (const when of [iso(earlier), iso(earlier - 60_000).replace('.000Z', '+00:00')]) {
      const moved = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${encodeURIComponent(botId)}`, { auth: user.auth, body: { scheduled_join_time: when } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.deepEqual([moved.body.bot_id, moved.body.updated_fields, moved.body.schedule_updated, typeof moved.body.message], [botId, ['scheduled_join_time'], true, 'string']);
    }
    // The template's PATCH with a name only.
    const renamed = await rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: user.auth, body: { bot_username: 'Renamed' } });
    assert.deepEqual([renamed.status, renamed.body.updated_fields], [200, ['bot_username']]);

    // DeleteScheduledBotResponse: message, bot_id; the bot leaves the list.
    const deleted = await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: user.auth, headers: JSON_HEADERS });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual([deleted.body.bot_id, typeof deleted.body.message], [botId, 'string']);
    const after = await rc.request('GET', '/api/v1/calendar/scheduled_bots', { auth: user.auth });
    assert.equal(after.body.scheduled_bots.some((b: any) => b.bot_id === botId), false);
    // An id that is no bot of this user: 404 (the older reference's { error: "Bot not found" }), on
    // both the PATCH and the DELETE.
    for (const method of ['PATCH', 'DELETE']) {
      const missing = await rc.request(method, '/api/v1/calendar/scheduled_bots/bot_missing', { auth: user.auth, ...(method === 'PATCH' ? { body: { scheduled_join_time: iso(earlier) } } : {}) });
      assert.equal(missing.status, 404, `${method}: ${JSON.stringify(missing.body)}`);
      assert.ok(sdkMessage(missing.body));
    }
  });

  test('DELETE /calendar/schedule/{event_id}: with no body (the SDKs), and with { cancel_all_occurrences: false } (the Python code patterns)', async () => {
    const user = await rc.newUser();
    for (const body of [undefined, { cancel_all_occurrences: false }]) {
      const meeting = await oneOff(user.auth);
      const booked = await rc.request('POST', `/api/v1/calendar/schedule/${meeting.id}`, { auth: user.auth, body: { deduplication_key: `unschedule-${body ? 'body' : 'none'}`, bot_config: {} } });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const res = await rc.request('DELETE', `/api/v1/calendar/schedule/${meeting.id}`, { auth: user.auth, headers: JSON_HEADERS, ...(body ? { body } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.unscheduled, res.body.event_id, res.body.schedules_cancelled, res.body.bots_deleted, res.body.cancelled_schedules], [true, meeting.id, 1, 1, [booked.body.schedule_id]]);
    }
  });

  test('auto-schedule: enable with a default_bot_config, disable as the CLI does (with one), settings read back', async () => {
    const user = await rc.newUser();
    const config = { bot_name: 'Notetaker', audio_required: true, video_required: false, automatic_leave: { everyone_left_timeout: 60 } };
    // meetstream-cli `calendar auto-join on|off`: the same body to enable and to disable.
    const on = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: config } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.deepEqual([on.body.auto_schedule_enabled, on.body.default_bot_config.bot_name, typeof on.body.message], [true, 'Notetaker', 'string']);
    const off = await rc.request('POST', '/api/v1/calendar/auto-schedule/disable', { auth: user.auth, body: { default_bot_config: { ...config, bot_name: 'Other' } } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const settings = await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: user.auth });
    assert.deepEqual([settings.status, settings.body.auto_schedule_enabled, settings.body.default_bot_config.bot_name], [200, false, 'Notetaker']);
  });

  test('POST /calendar/toggle-recurrence: { event_id, recurring_enabled } in the body; a one-off event is 400', async () => {
    const user = await rc.newUser();
    const start = clock.now() + 2 * HOUR;
    const series = await event(user.auth, { start_time: iso(start), end_time: iso(start + HOUR), timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=5'], meeting_url: zoomUrl() });
    const res = await rc.request('POST', '/api/v1/calendar/toggle-recurrence', { auth: user.auth, body: { event_id: series.id, recurring_enabled: true } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.event_id, res.body.recurring_enabled, res.body.recurrence_rule, res.body.summary, res.body.start_time], [series.id, true, 'RRULE:FREQ=DAILY;COUNT=5', 'Meeting', iso(start)]);
    const single = await oneOff(user.auth);
    const refused = await rc.request('POST', '/api/v1/calendar/toggle-recurrence', { auth: user.auth, body: { event_id: single.id, recurring_enabled: true } });
    assert.equal(refused.status, 400);
    assert.ok(sdkMessage(refused.body));
  });
});
