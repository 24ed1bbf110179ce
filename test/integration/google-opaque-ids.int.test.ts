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

  before(async () => {
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
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: KEY, CALENDAR_PUSH: 'on', JOIN_LEAD_SECONDS: String(LEAD_MS / 1000),
        GOOGLE_OAUTH_TOKEN_URL: `${base}/token`, GOOGLE_CALENDAR_API_URL: `${base}/calendar/v3`,
      },
    });
  });
  after(async () => {
    await rc.close();
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
});
