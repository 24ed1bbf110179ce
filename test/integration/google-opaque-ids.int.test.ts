// Google Calendar after its change of event id format (Q3 2026; the notice is quoted in
// phw198/OutlookGoogleCalendarSync issue 2205): the ids of new exceptions and of the series a
// "this and following" edit starts no longer have the shapes `<series>_<time>` and
// `<series>_R<time>`. The fake makes such ids (opaqueInstanceIds); everything else is real: the
// API, the sync, the database, the reconciliation of bots.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeGoogleCalendar } from '../support/fake-google.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const LEAD_MS = 180_000;
const KEY = Buffer.alloc(32, 7).toString('base64');

const iso = (ms: number) => new Date(ms).toISOString();
const meetingUrl = () => `https://zoom.us/j/${Math.floor(1e9 + Math.random() * 8e9)}`;
/** Google's documented id alphabet (base32hex) and nothing of the historical `_` and `_R` shapes. */
const OPAQUE = /^[0-9a-v]{5,1024}$/;

interface Listed { id: string; start_time: string; recurring_event_id: string | null; bots: { id: string }[] }
interface BotDetail { status: string; scheduled_join_time: string; decisions: { kind: string }[] }

describe('Google Calendar with opaque instance ids', () => {
  let rc: TestRollcall;
  let clock: ManualClock;
  let google: FakeGoogleCalendar;
  let runtime: FakeHttpReceiver;

  before(async () => {
    runtime = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    clock = new ManualClock(Date.parse('2026-12-05T09:00:00Z'));
    google = new FakeGoogleCalendar({
      now: () => clock.now(),
      deliver: async (url, request) => {
        const target = new URL(url);
        const res = await rc.app.inject({ method: 'POST', url: `${target.pathname}${target.search}`, headers: request.headers, ...(request.body !== undefined ? { payload: request.body } : {}) });
        return { status: res.statusCode, body: res.body, headers: res.headers as Record<string, string> };
      },
    });
    google.opaqueInstanceIds = true;
    const base = await google.start();
    rc = await startTestRollcall({
      clock,
      settings: {
        BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000',
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: KEY, CALENDAR_PUSH: 'on', JOIN_LEAD_SECONDS: String(LEAD_MS / 1000),
        GOOGLE_OAUTH_TOKEN_URL: `${base}/token`, GOOGLE_CALENDAR_API_URL: `${base}/calendar/v3`,
      },
    });
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
    await google.stop();
  });

  /**
   * A new user (with auto-schedule on when `isAutoScheduled`) whose Google account has a weekly
   * series of `count` in Europe/Berlin from `first` (tomorrow unless given), synced; `occurrences`
   * lists them from an hour before `first`.
   */
  async function weeklySeries(title: string, count: number, options: { first?: number; durationMs?: number; isAutoScheduled?: boolean } = {}) {
    const user = await rc.newUser();
    if (options.isAutoScheduled) assert.equal((await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto' } } })).status, 200);
    const account = google.createAccount();
    const connected = await rc.request('POST', '/api/v1/calendar/create_calendar', { auth: user.auth, body: { google_client_id: account.clientId, google_client_secret: account.clientSecret, google_refresh_token: account.refreshToken } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const first = options.first ?? clock.now() + DAY;
    const url = meetingUrl();
    const seriesId = google.insertEvent(account.email, account.email, {
      summary: title, location: url,
      start: { dateTime: iso(first), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(first + (options.durationMs ?? HOUR)), timeZone: 'Europe/Berlin' },
      recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${count}`],
    });
    const sync = async () => {
      await google.notifyChanges(account.email);
      await rc.calendarSync.runDue();
    };
    const occurrences = async (fromMs = first) => {
      const res = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${iso(fromMs - HOUR)}&time_max=${iso(first + (count + 1) * WEEK)}&limit=100`, { auth: user.auth });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.results as Listed[];
    };
    await sync();
    return { user, email: account.email, seriesId, first, url, sync, occurrences };
  }

  /** "This and following events" from the occurrence at `fromMs`, with new times from then on. */
  function split(series: { email: string; seriesId: string }, fromMs: number, startMs: number, endMs: number): string {
    return google.splitSeries(series.email, series.email, series.seriesId, fromMs, { start: { dateTime: iso(startMs), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(endMs), timeZone: 'Europe/Berlin' } });
  }

  async function bot(auth: string, botId: string): Promise<BotDetail> {
    const res = await rc.request('GET', `/api/v1/bots/${botId}`, { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as BotDetail;
  }

  async function schedule(auth: string, eventId: string, key: string): Promise<string> {
    const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: key, bot_config: { bot_name: 'Scribe' } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.bot_id as string;
  }

  test('one occurrence moved (an exception with an opaque id): its bot moves, the others stay', async () => {
    const series = await weeklySeries('Moved once', 3);
    const before = await series.occurrences();
    const bots = [];
    for (const [i, occurrence] of before.entries()) bots.push(await schedule(series.user.auth, occurrence.id, `moved-${i}`));
    const second = series.first + WEEK;
    const exceptionId = google.patchInstance(series.email, series.email, series.seriesId, second, { start: { dateTime: iso(second + 2 * HOUR), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(second + 3 * HOUR), timeZone: 'Europe/Berlin' } });
    assert.match(exceptionId, OPAQUE);
    await series.sync();
    const states = await Promise.all(bots.map((id) => bot(series.user.auth, id)));
    assert.deepEqual(states.map((s) => s.status), ['Scheduled', 'Scheduled', 'Scheduled']);
    assert.deepEqual(states.map((s) => s.scheduled_join_time), [iso(series.first - LEAD_MS), iso(second + 2 * HOUR - LEAD_MS), iso(series.first + 2 * WEEK - LEAD_MS)]);
    assert.ok(states[1]!.decisions.some((d) => d.kind === 'moved_by_calendar'), JSON.stringify(states[1]!.decisions));
    const after = await series.occurrences();
    assert.deepEqual(after.map((o) => o.start_time), [iso(series.first), iso(second + 2 * HOUR), iso(series.first + 2 * WEEK)]);
    assert.deepEqual(after.map((o) => o.bots.map((b) => b.id)), bots.map((id) => [id]));
    // Moved again: the same exception, the same bot.
    google.patchInstance(series.email, series.email, series.seriesId, second, { start: { dateTime: iso(second + 4 * HOUR), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(second + 5 * HOUR), timeZone: 'Europe/Berlin' } });
    await series.sync();
    assert.equal((await bot(series.user.auth, bots[1]!)).scheduled_join_time, iso(second + 4 * HOUR - LEAD_MS));
  });

  test('one occurrence cancelled (an opaque id, only its series and original start given): its bot is cancelled, the others stay', async () => {
    const series = await weeklySeries('Cancelled once', 3);
    const before = await series.occurrences();
    const bots = [];
    for (const [i, occurrence] of before.entries()) bots.push(await schedule(series.user.auth, occurrence.id, `cancelled-${i}`));
    const third = series.first + 2 * WEEK;
    assert.match(google.cancelInstance(series.email, series.email, series.seriesId, third), OPAQUE);
    await series.sync();
    const states = await Promise.all(bots.map((id) => bot(series.user.auth, id)));
    assert.deepEqual(states.map((s) => s.status), ['Scheduled', 'Scheduled', 'Cancelled']);
    assert.deepEqual((await series.occurrences()).map((o) => o.start_time), [iso(series.first), iso(series.first + WEEK)]);
  });

  test('"this and following events" (a new series of an opaque id and iCalUID): the bots of the later occurrences follow it to their new times', async () => {
    const series = await weeklySeries('Split', 4);
    const [occurrence] = await series.occurrences();
    const all = await rc.request('POST', `/api/v1/calendar/schedule/${occurrence!.recurring_event_id}`, { auth: series.user.auth, body: { deduplication_key: 'split', schedule_all_occurrences: true, bot_config: {} } });
    assert.equal(all.body.occurrences_scheduled, 4, JSON.stringify(all.body));
    const bots = (all.body.schedules_created as { bot_id: string }[]).map((c) => c.bot_id);
    const third = series.first + 2 * WEEK;
    const continuationId = split(series, third, third + HOUR, third + 2 * HOUR);
    assert.match(continuationId, OPAQUE);
    await series.sync();
    const after = await series.occurrences();
    assert.deepEqual(after.map((o) => o.start_time), [iso(series.first), iso(series.first + WEEK), iso(third + HOUR), iso(series.first + 3 * WEEK + HOUR)]);
    assert.notEqual(after[2]!.recurring_event_id, after[0]!.recurring_event_id, 'the later occurrences belong to the new series');
    const states = await Promise.all(bots.map((id) => bot(series.user.auth, id)));
    assert.deepEqual(states.map((s) => s.status), ['Scheduled', 'Scheduled', 'Scheduled', 'Scheduled']);
    assert.deepEqual(states.map((s) => s.scheduled_join_time), [iso(series.first - LEAD_MS), iso(series.first + WEEK - LEAD_MS), iso(third + HOUR - LEAD_MS), iso(series.first + 3 * WEEK + HOUR - LEAD_MS)]);
    assert.ok(states[2]!.decisions.some((d) => d.kind === 'followed_series_split'), JSON.stringify(states[2]!.decisions));
    assert.deepEqual(after.map((o) => o.bots.map((b) => b.id)), bots.map((id) => [id]), 'the same bots, one per occurrence');
  });

  test('"this and following events" from the next occurrence, under auto-schedule: each later occurrence keeps its one bot', async () => {
    // Began two weeks ago; the next occurrence is tomorrow.
    const next = clock.now() + DAY;
    const series = await weeklySeries('Standup', 5, { first: next - 2 * WEEK, durationMs: 30 * MIN, isAutoScheduled: true });
    const before = await series.occurrences(next);
    assert.deepEqual(before.map((o) => o.bots.length), [1, 1, 1]);
    const booked = before.map((o) => o.bots[0]!.id);
    // From tomorrow on, a quarter of an hour later.
    split(series, next, next + 15 * MIN, next + 45 * MIN);
    await series.sync();
    const after = await series.occurrences(next);
    assert.deepEqual(after.map((o) => o.start_time), [0, 1, 2].map((i) => iso(next + i * WEEK + 15 * MIN)));
    assert.deepEqual(after.map((o) => o.bots.map((b) => b.id)), booked.map((id) => [id]), 'the bots auto-schedule booked followed, none booked anew');
    for (const id of booked) assert.equal((await bot(series.user.auth, id)).status, 'Scheduled');
  });

  test('"this and following events" from the occurrence under way: its bot stays in the meeting, and no second bot joins', async () => {
    // The second occurrence started five minutes ago.
    const under = clock.now() - 5 * MIN;
    const series = await weeklySeries('Under way, then split', 4, { first: under - WEEK, isAutoScheduled: true });
    await rc.dispatcher.runDue();
    const botsSent = () => [...new Set(runtime.received.filter((r) => r.json?.meeting_url === series.url).map((r) => r.json.bot_id as string))];
    const [current] = await series.occurrences(under);
    const inMeeting = current!.bots[0]!.id;
    assert.deepEqual(botsSent(), [inMeeting], 'the bot is in the meeting');
    // From this occurrence on the meeting runs half an hour longer.
    split(series, under, under, under + 90 * MIN);
    await series.sync();
    await rc.dispatcher.runDue();
    assert.deepEqual(botsSent(), [inMeeting], 'no second bot');
    assert.equal((await bot(series.user.auth, inMeeting)).status, 'Joining');
    const after = await series.occurrences(under);
    assert.deepEqual(after.map((o) => [o.start_time, o.bots.length]), [0, 1, 2].map((i) => [iso(under + i * WEEK), 1]));
    assert.equal(after[0]!.bots[0]!.id, inMeeting);
  });

  test('a series ended early while another meeting\'s series appears: nothing is carried, the bots of the occurrences that went are cancelled', async () => {
    const series = await weeklySeries('Ends early', 4);
    const [occurrence] = await series.occurrences();
    const all = await rc.request('POST', `/api/v1/calendar/schedule/${occurrence!.recurring_event_id}`, { auth: series.user.auth, body: { deduplication_key: 'ended', schedule_all_occurrences: true, bot_config: {} } });
    const bots = (all.body.schedules_created as { bot_id: string }[]).map((c) => c.bot_id);
    const third = series.first + 2 * WEEK;
    // The organizer ends the series after its second week and books another meeting from then on.
    google.patchEvent(series.email, series.email, series.seriesId, { recurrence: [`RRULE:FREQ=WEEKLY;UNTIL=${new Date(third - 1000).toISOString().replace(/[-:]|\.\d{3}/g, '')}`] });
    google.insertEvent(series.email, series.email, {
      summary: 'Something else', location: meetingUrl(),
      start: { dateTime: iso(third), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(third + HOUR), timeZone: 'Europe/Berlin' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'],
    });
    await series.sync();
    const states = await Promise.all(bots.map((id) => bot(series.user.auth, id)));
    assert.deepEqual(states.map((s) => s.status), ['Scheduled', 'Scheduled', 'Cancelled', 'Cancelled']);
    assert.ok(!states.some((s) => s.decisions.some((d) => d.kind === 'followed_series_split')));
  });
});
