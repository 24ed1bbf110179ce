// An event whose calendar added its own conference link (Meet on Google, Teams on Outlook) while
// the organiser wrote a link of another platform: the bot goes to the written one, and a bot
// already booked follows when the written link appears later (the "link changed" path).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import { fakeCalendarUrls, startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeGoogleCalendar, type Deliver } from '../support/fake-google.ts';
import { FakeMicrosoftGraph } from '../support/fake-microsoft.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const KEY = Buffer.alloc(32, 7).toString('base64');
const MEET = 'https://meet.google.com/abc-defg-hij';
const ZOOM = 'https://us02web.zoom.us/j/85412345678?pwd=abc';
const TEAMS = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';

interface Env { rc: TestRollcall; clock: ManualClock; google: FakeGoogleCalendar; microsoft: FakeMicrosoftGraph }

const iso = (ms: number): string => new Date(ms).toISOString();

async function eventsOf(env: Env, auth: string, calendarId: string, fromMs: number, toMs: number) {
  const res = await env.rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${iso(fromMs)}&time_max=${iso(toMs)}&limit=100`, { auth });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results as { id: string; title: string; meeting_url: string | null }[];
}

async function schedule(env: Env, auth: string, eventId: string, key: string): Promise<string> {
  const res = await env.rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: key, bot_config: { bot_name: 'Scribe' } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.bot_id as string;
}

/** After the provider's push and the sync it makes due: the one event around `start`, and its meeting link. */
async function syncedEvent(env: Env, announce: () => Promise<void>, auth: string, calendarId: string, start: number) {
  await announce();
  await env.rc.calendarSync.runDue();
  const events = await eventsOf(env, auth, calendarId, start - HOUR, start + 2 * HOUR);
  assert.equal(events.length, 1);
  return events[0]!;
}

async function botOf(env: Env, auth: string, botId: string) {
  const res = await env.rc.request('GET', `/api/v1/bots/${botId}`, { auth });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { status: string; meeting_url: string; platform: string; decisions: { kind: string; reason: string }[] };
}

describe('a conference link the calendar added against a link the organiser wrote', () => {
  let env: Env;
  before(async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T09:00:00Z'));
    const deliver: Deliver = async (url, request) => {
      const target = new URL(url);
      const res = await env.rc.app.inject({ method: 'POST', url: `${target.pathname}${target.search}`, headers: request.headers, ...(request.body !== undefined ? { payload: request.body } : {}) });
      return { status: res.statusCode, body: res.body, headers: res.headers as Record<string, string> };
    };
    const google = new FakeGoogleCalendar({ now: () => clock.now(), deliver });
    const microsoft = new FakeMicrosoftGraph({ now: () => clock.now(), deliver });
    const googleBase = await google.start();
    const microsoftBase = await microsoft.start();
    const rc = await startTestRollcall({
      clock,
      settings: {
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: KEY, CALENDAR_PUSH: 'on',
        ...fakeCalendarUrls(googleBase, microsoftBase),
      },
    });
    env = { rc, clock, google, microsoft };
  });
  after(async () => {
    await env.rc.close();
    await Promise.all([env.google.stop(), env.microsoft.stop()]);
  });

  test('Google: a Meet link Google added, then a Zoom link written into the location: the booked bot follows it to Zoom', async () => {
    const user = await env.rc.newUser();
    const account = env.google.createAccount();
    const connected = await env.rc.request('POST', '/api/v1/calendar/create_calendar', { auth: user.auth, body: { google_client_id: account.clientId, google_client_secret: account.clientSecret, google_refresh_token: account.refreshToken } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const start = env.clock.now() + DAY;
    // A Meet conference as the event resource gives it: hangoutLink, and conferenceData with the
    // hangoutsMeet solution (developers.google.com/calendar/api/v3/reference/events).
    const conferenceData = { conferenceSolution: { key: { type: 'hangoutsMeet' } }, entryPoints: [{ entryPointType: 'video', uri: MEET }] };
    const id = env.google.insertEvent(account.email, account.email, {
      summary: 'Pipeline review', location: 'HQ, room 4', start: { dateTime: iso(start) }, end: { dateTime: iso(start + HOUR) }, hangoutLink: MEET, conferenceData,
    });
    const announce = () => env.google.notifyChanges(account.email);
    const event = await syncedEvent(env, announce, user.auth, calendarId, start);
    assert.equal(event.meeting_url, MEET);
    const botId = await schedule(env, user.auth, event.id, 'pipeline');

    env.google.patchEvent(account.email, account.email, id, { location: `Zoom: ${ZOOM}` });
    assert.equal((await syncedEvent(env, announce, user.auth, calendarId, start)).meeting_url, ZOOM);
    const moved = await botOf(env, user.auth, botId);
    assert.equal(moved.status, 'Scheduled');
    assert.equal(moved.meeting_url, ZOOM);
    assert.equal(moved.platform, 'zoom');
    assert.ok(moved.decisions.some((d) => d.kind === 'moved_by_calendar' && d.reason.includes('zoom:85412345678')), JSON.stringify(moved.decisions));
  });

  test('Outlook: a Teams meeting Outlook added with a Zoom link in the location goes to Zoom; the link taken out of the location sends the bot back to Teams', async () => {
    const user = await env.rc.newUser();
    const account = env.microsoft.createAccount();
    const connected = await env.rc.request('POST', '/api/v1/calendar/create_outlook_calendar', { auth: user.auth, body: { microsoft_client_id: account.clientId, microsoft_client_secret: account.clientSecret, microsoft_refresh_token: account.refreshToken } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const start = env.clock.now() + DAY;
    const id = env.microsoft.createEvent(account.email, { subject: 'Vendor call', startMs: start, endMs: start + HOUR, location: ZOOM, joinUrl: TEAMS });
    const announce = () => env.microsoft.notifyChanges(account.email);
    const event = await syncedEvent(env, announce, user.auth, calendarId, start);
    assert.equal(event.meeting_url, ZOOM);
    const botId = await schedule(env, user.auth, event.id, 'vendor');
    assert.equal((await botOf(env, user.auth, botId)).platform, 'zoom');

    env.microsoft.updateEvent(account.email, id, { location: 'Microsoft Teams Meeting' });
    assert.equal((await syncedEvent(env, announce, user.auth, calendarId, start)).meeting_url, TEAMS);
    const moved = await botOf(env, user.auth, botId);
    assert.equal(moved.status, 'Scheduled');
    assert.equal(moved.meeting_url, TEAMS);
    assert.equal(moved.platform, 'microsoft_teams');
    assert.ok(moved.decisions.some((d) => d.kind === 'moved_by_calendar'), JSON.stringify(moved.decisions));
  });
});
