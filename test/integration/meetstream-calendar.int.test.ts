// The calendar side of the MeetStream drop-in surface (spec sections 1, 7 and 10; background in
// reference/meetstream.md sections 5 and 10): GET /calendar and its alias, scoped
// POST|DELETE /calendar/disconnect, the events' platform / platform_id / ical_uid, their provider,
// account_id and provider-calendar-id filters, raw with Google's keys for API-written and ICS
// events, and MeetStream's names in the connect answers. Google, Microsoft and the ICS feed are
// local fakes at the HTTP boundary; everything else is real, on both engines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/lib/clock.ts';
import { migrate } from '../../src/db/migrator.ts';
import { fakeCalendarUrls, startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { FakeGoogleCalendar, type Deliver } from '../support/fake-google.ts';
import { FakeMicrosoftGraph } from '../support/fake-microsoft.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const KEY = Buffer.alloc(32, 9).toString('base64');
const NOW = Date.parse('2026-11-20T09:00:00Z');

interface Env {
  rc: TestRollcall;
  hooks: FakeHttpReceiver;
  hooksUrl: string;
  clock: ManualClock;
  ics: FakeIcsServer;
  google: FakeGoogleCalendar;
  microsoft: FakeMicrosoftGraph;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomUrl(): string {
  return `https://zoom.us/j/${Math.floor(1e9 + Math.random() * 8e9)}`;
}

let env: Env;

before(async () => {
  const clock = new ManualClock(NOW);
  // The fakes reach Rollcall's notification routes through inject, as the providers would over HTTPS.
  const deliver: Deliver = async (url, request) => {
    const target = new URL(url);
    const res = await env.rc.app.inject({ method: 'POST', url: `${target.pathname}${target.search}`, headers: request.headers, ...(request.body !== undefined ? { payload: request.body } : {}) });
    return { status: res.statusCode, body: res.body, headers: res.headers as Record<string, string> };
  };
  const ics = new FakeIcsServer();
  const google = new FakeGoogleCalendar({ now: () => clock.now(), deliver });
  const microsoft = new FakeMicrosoftGraph({ now: () => clock.now(), deliver });
  const hooks = new FakeHttpReceiver();
  const hooksUrl = `${await hooks.start()}/hooks`;
  await ics.start();
  const googleBase = await google.start();
  const microsoftBase = await microsoft.start();
  const rc = await startTestRollcall({
    clock,
    settings: {
      OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: KEY, CALENDAR_PUSH: 'on',
      ...fakeCalendarUrls(googleBase, microsoftBase),
    },
  });
  env = { rc, hooks, hooksUrl, clock, ics, google, microsoft };
});

after(async () => {
  await env.rc.close();
  await Promise.all([env.hooks.stop(), env.ics.stop(), env.google.stop(), env.microsoft.stop()]);
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function ok(method: string, url: string, auth: string, body?: unknown) {
  const res = await env.rc.request(method, url, { auth, ...(body !== undefined ? { body } : {}) });
  assert.equal(res.status, 200, `${method} ${url}: ${JSON.stringify(res.body)}`);
  return res.body;
}

function expectError(res: { status: number; body: any }, status: number, code: string, field?: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, code, JSON.stringify(res.body));
  if (field !== undefined) {
    assert.equal(res.body.details?.field, field, JSON.stringify(res.body));
    assert.match(res.body.error, new RegExp(`^${field}\\b`), 'the message names the field');
  }
}

async function connectGoogle(auth: string, prepare?: (email: string) => void) {
  const account = env.google.createAccount();
  prepare?.(account.email);
  const res = await env.rc.request('POST', '/api/v1/calendar/create_calendar', {
    auth, body: { google_client_id: account.clientId, google_client_secret: account.clientSecret, google_refresh_token: account.refreshToken },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { account, connectionId: res.body.calendar_id as string, body: res.body };
}

async function connectMicrosoft(auth: string, prepare?: (email: string) => void) {
  const account = env.microsoft.createAccount();
  prepare?.(account.email);
  const res = await env.rc.request('POST', '/api/v1/calendar/create_outlook_calendar', {
    auth, body: { microsoft_client_id: account.clientId, microsoft_client_secret: account.clientSecret, microsoft_refresh_token: account.refreshToken },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { account, connectionId: res.body.calendar_id as string, body: res.body };
}

async function connectIcs(auth: string, feed: string) {
  const res = await env.rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: feed } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { connectionId: res.body.calendar_id as string, body: res.body };
}

/** Events in the next 60 days, as a client lists them. */
async function listEvents(auth: string, query = ''): Promise<any[]> {
  const window = `time_min=${encodeURIComponent(iso(env.clock.now() - HOUR))}&time_max=${encodeURIComponent(iso(env.clock.now() + 60 * DAY))}&limit=100`;
  const body = await ok('GET', `/api/v1/calendar/events?${window}${query ? `&${query}` : ''}`, auth);
  assert.equal(body.has_more, false);
  return body.results;
}

function googleTimed(startMs: number, minutes = 60, zone?: string) {
  return { start: { dateTime: iso(startMs), ...(zone ? { timeZone: zone } : {}) }, end: { dateTime: iso(startMs + minutes * MIN), ...(zone ? { timeZone: zone } : {}) } };
}

async function schedule(auth: string, eventId: string, key: string, botName = 'Scribe'): Promise<string> {
  const body = await ok('POST', `/api/v1/calendar/schedule/${eventId}`, auth, { deduplication_key: key, bot_config: { bot_name: botName, callback_url: env.hooksUrl } });
  return body.bot_id as string;
}

async function botStatus(auth: string, botId: string): Promise<string> {
  return (await ok('GET', `/api/v1/bots/${botId}`, auth)).status;
}

async function connectionIds(auth: string): Promise<string[]> {
  return (await ok('GET', '/api/v1/calendar/connections', auth)).connections.map((c: { calendar_id: string }) => c.calendar_id);
}

// ---------------------------------------------------------------------------------------------

describe('GET /calendar (and /calendar/calendars)', () => {
  test('every calendar of every connected account, with MeetStream\'s fields, the provider\'s ids and whether it is synced', async () => {
    const user = await env.rc.newUser();
    const teamId = `team-${randomUUID()}@group.calendar.google.com`;
    const hiddenId = `hidden-${randomUUID()}@group.calendar.google.com`;
    const google = await connectGoogle(user.auth, (email) => {
      env.google.addCalendar(email, { id: teamId, summary: 'Team', description: 'Team meetings', backgroundColor: '#ff7537', foregroundColor: '#ffffff', isSelected: false, timeZone: 'America/New_York' });
      env.google.addCalendar(email, { id: hiddenId, summary: 'Hidden one', isHidden: true });
    });
    let projectsId = '';
    const outlook = await connectMicrosoft(user.auth, (email) => {
      projectsId = env.microsoft.addCalendar(email, { name: 'Projects', hexColor: '#a4c2f4' });
    });
    const feed = env.ics.createFeed('Work feed', { description: 'Shared team feed' });
    const ics = await connectIcs(user.auth, feed);

    const listed = await ok('GET', '/api/v1/calendar', user.auth);
    assert.equal(listed.user_id, user.userId);
    assert.equal(listed.total, listed.calendars.length);
    const byId = new Map<string, any>(listed.calendars.map((c: any) => [c.id, c]));
    const email = google.account.email;
    // Google: the primary calendar's id is the account's email; the holiday calendar is listed but not synced.
    assert.deepEqual(byId.get(email), {
      id: email, summary: email, description: null, isPrimary: true, accessRole: 'owner', timeZone: 'Europe/Berlin', backgroundColor: '#9fe1e7',
      foregroundColor: '#000000', selected: true, hidden: false, provider: 'google', account_id: email, connection_id: google.connectionId, synced: true,
    });
    assert.deepEqual(byId.get(teamId), {
      id: teamId, summary: 'Team', description: 'Team meetings', isPrimary: false, accessRole: 'owner', timeZone: 'America/New_York', backgroundColor: '#ff7537',
      foregroundColor: '#ffffff', selected: false, hidden: false, provider: 'google', account_id: email, connection_id: google.connectionId, synced: true,
    });
    const holidays = byId.get('en.usa#holiday@group.v.calendar.google.com');
    assert.deepEqual([holidays.accessRole, holidays.synced, holidays.isPrimary], ['reader', false, false]);
    // A calendar hidden from Google's list is listed (showHidden=true), but not synced by default when first seen.
    assert.deepEqual([byId.get(hiddenId).hidden, byId.get(hiddenId).synced], [true, false]);
    // Outlook: Graph's ids; Birthdays is read-only and not synced; a colour the user picked is backgroundColor.
    const outlookCalendars = listed.calendars.filter((c: any) => c.provider === 'outlook');
    const defaultId = env.microsoft.defaultCalendarId(outlook.account.email);
    assert.deepEqual(outlookCalendars.map((c: any) => [c.id === defaultId ? 'default' : c.id === projectsId ? 'projects' : c.summary, c.isPrimary, c.accessRole, c.synced, c.backgroundColor]), [
      ['default', true, 'owner', true, null],
      ['Birthdays', false, 'reader', false, null],
      ['projects', false, 'owner', true, '#a4c2f4'],
    ]);
    assert.ok(outlookCalendars.every((c: any) => c.account_id === outlook.account.email && c.connection_id === outlook.connectionId && c.selected === true && c.hidden === false));
    // ICS: one calendar, whose id is the connection's.
    assert.deepEqual(byId.get(ics.connectionId), {
      id: ics.connectionId, summary: 'Work feed', description: 'Shared team feed', isPrimary: true, accessRole: 'reader', timeZone: null, backgroundColor: null,
      foregroundColor: null, selected: true, hidden: false, provider: 'ics', account_id: null, connection_id: ics.connectionId, synced: true,
    });
    // The connect answer and the connection name the feed's calendar by that id too (a client
    // passes primary_calendar_id on as the events listing's calendar_id).
    const connection = await ok('GET', `/api/v1/calendar/connections/${ics.connectionId}`, user.auth);
    for (const answer of [ics.body, connection]) {
      assert.equal(answer.primary_calendar_id, ics.connectionId);
      assert.deepEqual(answer.calendars.map((c: any) => c.id), [ics.connectionId]);
    }
    assert.deepEqual(ics.body.available_calendars.map((c: any) => [c.id, c.synced]), [[ics.connectionId, true]]);
    assert.equal(listed.total, 4 + 3 + 1);
    // The connections behind them, by provider, as MeetStream's templates read them.
    assert.deepEqual(listed.google, [{ connection_id: google.connectionId, account_id: email, email, status: 'active', calendars_count: 4 }]);
    assert.deepEqual(listed.outlook.map((c: any) => [c.connection_id, c.account_id, c.calendars_count]), [[outlook.connectionId, outlook.account.email, 3]]);
    assert.deepEqual(listed.ics.map((c: any) => [c.connection_id, c.account_id, c.calendars_count]), [[ics.connectionId, null, 1]]);

    // The alias answers the same.
    assert.deepEqual(await ok('GET', '/api/v1/calendar/calendars', user.auth), listed);

    // Filters: provider, provider + account_id (an email in any case), an account that is not connected.
    const outlookOnly = await ok('GET', '/api/v1/calendar?provider=outlook', user.auth);
    assert.deepEqual(outlookOnly.calendars.map((c: any) => c.id), outlookCalendars.map((c: any) => c.id));
    assert.deepEqual([outlookOnly.total, outlookOnly.google, outlookOnly.ics], [3, [], []]);
    const one = await ok('GET', `/api/v1/calendar/calendars?provider=google&account_id=${encodeURIComponent(email.toUpperCase())}`, user.auth);
    assert.deepEqual(one.calendars.map((c: any) => c.connection_id), [google.connectionId, google.connectionId, google.connectionId, google.connectionId]);
    const none = await ok('GET', `/api/v1/calendar?provider=google&account_id=${encodeURIComponent('someone-else@example.com')}`, user.auth);
    assert.deepEqual([none.total, none.calendars], [0, []]);
    assert.equal((await ok('GET', '/api/v1/calendar?provider=ics', user.auth)).total, 1);

    // Another user sees none of it.
    const other = await env.rc.newUser();
    const theirs = await ok('GET', '/api/v1/calendar', other.auth);
    assert.deepEqual([theirs.total, theirs.calendars, theirs.user_id], [0, [], other.userId]);
  });

  test('bad filters are 400s naming the field', async () => {
    const user = await env.rc.newUser();
    for (const path of ['/api/v1/calendar', '/api/v1/calendar/calendars']) {
      expectError(await env.rc.request('GET', `${path}?account_id=a%40example.com`, { auth: user.auth }), 400, 'validation_error', 'account_id');
      expectError(await env.rc.request('GET', `${path}?provider=yahoo`, { auth: user.auth }), 400, 'validation_error', 'provider');
      expectError(await env.rc.request('GET', `${path}?provider=google&account_id=`, { auth: user.auth }), 400, 'validation_error', 'account_id');
    }
    assert.equal((await env.rc.request('GET', '/api/v1/calendar')).status, 401);
  });

  test('answered from the list each sync keeps: a change at the provider shows once the list is read again (at most hourly)', async () => {
    const user = await env.rc.newUser();
    const { account } = await connectGoogle(user.auth);
    env.google.setCalendarListFields(account.email, account.email, { summary: 'Renamed', backgroundColor: '#123456' });
    env.google.addCalendar(account.email, { id: `new-${randomUUID()}@group.calendar.google.com`, summary: 'Added later' });
    const before = await ok('GET', '/api/v1/calendar?provider=google', user.auth);
    assert.deepEqual(before.calendars.map((c: any) => c.summary), [account.email, 'Holidays in United States'], 'no provider call per request');
    const calls = env.google.requests.length;
    await ok('GET', '/api/v1/calendar', user.auth);
    assert.equal(env.google.requests.length, calls, 'GET /calendar does not call Google');

    env.clock.advance(61 * MIN);
    await env.rc.calendarSync.runDue();
    const afterRefresh = await ok('GET', '/api/v1/calendar?provider=google', user.auth);
    assert.deepEqual(afterRefresh.calendars.map((c: any) => [c.summary, c.synced]), [['Renamed', true], ['Holidays in United States', false], ['Added later', true]]);
    assert.equal(afterRefresh.calendars[0].backgroundColor, '#123456');
  });
});

describe('connect answers with MeetStream\'s names', () => {
  test('Outlook: watch_setup.subscriptions_setup beside watches_setup; every answer\'s calendars carry MeetStream\'s calendar fields', async () => {
    const user = await env.rc.newUser();
    const outlook = await connectMicrosoft(user.auth);
    assert.equal(outlook.body.watch_setup.watches_setup, 1);
    assert.equal(outlook.body.watch_setup.subscriptions_setup, 1);
    assert.equal(outlook.body.watch_setup.success, true);
    // What MeetStream's Outlook template reads from the answer.
    for (const field of ['calendar_id', 'platform', 'provider', 'account_id', 'user_email', 'user_name', 'primary_calendar_id', 'calendars', 'watch_setup', 'message']) {
      assert.ok(outlook.body[field] !== undefined && outlook.body[field] !== null, field);
    }
    assert.deepEqual([outlook.body.provider, outlook.body.platform, outlook.body.account_id], ['outlook', 'outlook_calendar', outlook.account.email]);
    const google = await connectGoogle(user.auth);
    assert.equal(google.body.watch_setup.subscriptions_setup, undefined, 'Google has watch channels, not subscriptions');
    assert.deepEqual(google.body.calendars.map((c: any) => [c.id, c.summary, c.isPrimary, c.accessRole, c.timeZone, c.backgroundColor, c.foregroundColor, c.selected, c.hidden, c.description]), [
      [google.account.email, google.account.email, true, 'owner', 'Europe/Berlin', '#9fe1e7', '#000000', true, false, null],
    ]);
    assert.equal(google.body.calendars[0].push.active, true, 'Rollcall\'s own fields stay');
    const view = await ok('GET', `/api/v1/calendar/connections/${outlook.connectionId}`, user.auth);
    assert.deepEqual(view.calendars.map((c: any) => [c.isPrimary, c.accessRole, c.selected, c.hidden]), [[true, 'owner', true, false]]);
  });
});

describe('events: platform, platform_id, ical_uid, raw', () => {
  test('Google: the provider\'s own id and iCalUID, raw untouched; an occurrence Rollcall expands carries its series\' id', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    let singleId = '';
    let seriesId = '';
    const { account, connectionId } = await connectGoogle(user.auth, (email) => {
      singleId = env.google.insertEvent(email, email, { summary: 'One-off', location: zoomUrl(), ...googleTimed(start) });
      seriesId = env.google.insertEvent(email, email, { summary: 'Weekly', location: zoomUrl(), ...googleTimed(start + 2 * HOUR, 30, 'Europe/Berlin'), recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'] });
    });
    const events = await listEvents(user.auth);
    const single = events.find((e) => e.title === 'One-off');
    assert.deepEqual([single.platform, single.platform_id, single.ical_uid, single.calendar_id], ['google_calendar', singleId, `${singleId}@google.com`, connectionId]);
    assert.equal(single.raw.kind, 'calendar#event');
    assert.equal(single.raw.id, singleId);
    assert.deepEqual(single.raw, env.google.getEvent(account.email, account.email, singleId), 'raw is the event as Google sent it');
    const occurrences = events.filter((e) => e.title === 'Weekly');
    assert.equal(occurrences.length, 3);
    for (const occurrence of occurrences) {
      assert.deepEqual([occurrence.platform, occurrence.platform_id, occurrence.ical_uid], ['google_calendar', seriesId, `${seriesId}@google.com`]);
      assert.deepEqual(occurrence.raw.recurrence, ['RRULE:FREQ=WEEKLY;COUNT=3'], 'Google\'s master, untouched');
    }
  });

  test('Outlook: Graph\'s id and iCalUId, raw stays Graph\'s', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    let eventId = '';
    await connectMicrosoft(user.auth, (email) => {
      eventId = env.microsoft.createEvent(email, { subject: 'Teams sync', startMs: start, endMs: start + HOUR, joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d' });
    });
    const [event] = await listEvents(user.auth);
    assert.deepEqual([event.platform, event.platform_id], ['outlook_calendar', eventId]);
    assert.equal(event.raw.id, eventId);
    assert.equal(event.raw.subject, 'Teams sync');
    assert.equal(event.raw.summary, undefined, 'no Google keys are added to Graph\'s payload');
    assert.equal(typeof event.ical_uid, 'string');
    assert.equal(event.ical_uid, event.raw.iCalUId);
  });

  test('ICS: the UID is platform_id and ical_uid; raw has Google\'s keys, a series its recurrence, occurrences their series and original start', async () => {
    const user = await env.rc.newUser();
    const feed = env.ics.createFeed();
    const start = NOW + DAY;
    const seriesStart = NOW + 2 * DAY;
    env.ics.edit(feed, (events) => {
      events.push({ uid: 'single@feed', summary: 'Review', startMs: start, endMs: start + HOUR, location: zoomUrl() });
      events.push({ uid: 'series@feed', summary: 'Standup', startMs: seriesStart, endMs: seriesStart + 15 * MIN, timeZone: 'Europe/Berlin', location: zoomUrl(), rrule: 'FREQ=WEEKLY;COUNT=3' });
      events.push({ uid: 'series@feed', summary: 'Standup (moved)', startMs: seriesStart + 7 * DAY + HOUR, endMs: seriesStart + 7 * DAY + HOUR + 15 * MIN, timeZone: 'Europe/Berlin', recurrenceIdMs: seriesStart + 7 * DAY, location: zoomUrl() });
    });
    const { connectionId } = await connectIcs(user.auth, feed);
    const events = await listEvents(user.auth);
    const single = events.find((e) => e.title === 'Review');
    assert.deepEqual([single.platform, single.platform_id, single.ical_uid, single.calendar_id], ['ics', 'single@feed', 'single@feed', connectionId]);
    assert.equal(single.raw.summary, 'Review');
    assert.deepEqual([single.raw.start.dateTime, single.raw.end.dateTime, single.raw.status, single.raw.iCalUID], [iso(start), iso(start + HOUR), 'confirmed', 'single@feed']);
    assert.equal(single.raw.recurrence, undefined);
    assert.equal(single.raw.recurringEventId, undefined);
    assert.equal(single.raw.uid, 'single@feed', 'what the feed said stays beside Google\'s keys');
    assert.match(single.raw.vevent, /^BEGIN:VEVENT/);

    const standups = events.filter((e) => e.title.startsWith('Standup'));
    assert.deepEqual(standups.map((e) => e.start_time), [iso(seriesStart), iso(seriesStart + 7 * DAY + HOUR), iso(seriesStart + 14 * DAY)]);
    const seriesEventId = standups[0].recurring_event_id as string;
    for (const [i, occurrence] of standups.entries()) {
      const originalStart = seriesStart + i * 7 * DAY;
      assert.deepEqual([occurrence.platform, occurrence.platform_id, occurrence.ical_uid], ['ics', 'series@feed', 'series@feed']);
      assert.equal(occurrence.raw.recurringEventId, seriesEventId, 'Rollcall\'s series id, usable with this API');
      assert.deepEqual(occurrence.raw.originalStartTime, { dateTime: iso(originalStart), timeZone: 'Europe/Berlin' });
      assert.deepEqual(occurrence.raw.start, { dateTime: occurrence.start_time, timeZone: 'Europe/Berlin' });
      assert.equal(occurrence.raw.recurrence, undefined, 'an occurrence has no recurrence of its own');
      assert.equal(occurrence.raw.iCalUID, 'series@feed');
    }
    assert.equal(standups[1].raw.summary, 'Standup (moved)', 'the override\'s own data');
    const series = await ok('GET', `/api/v1/calendar/events/${seriesEventId}`, user.auth);
    assert.deepEqual(series.raw.recurrence, ['RRULE:FREQ=WEEKLY;COUNT=3']);
    assert.equal(series.raw.recurringEventId, undefined);
    assert.deepEqual([series.platform_id, series.ical_uid], ['series@feed', 'series@feed']);
  });

  test('API-written: platform, platform_id and ical_uid are null; raw has Google\'s keys, for series and occurrences too; bots carry bot_username and platform', async () => {
    const user = await env.rc.newUser();
    const start = '2026-11-24T10:00:00+01:00';
    const created = await env.rc.request('POST', '/api/v1/calendar/events', {
      auth: user.auth,
      body: { title: 'Weekly', description: 'Agenda', location: zoomUrl(), start_time: start, end_time: '2026-11-24T10:30:00+01:00', timezone: 'Europe/Berlin', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const series = created.body;
    assert.deepEqual([series.platform, series.platform_id, series.ical_uid], [null, null, null]);
    assert.deepEqual(series.raw, {
      summary: 'Weekly', description: 'Agenda', location: series.location,
      start: { dateTime: '2026-11-24T09:00:00.000Z', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-11-24T09:30:00.000Z', timeZone: 'Europe/Berlin' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], status: 'confirmed', iCalUID: null,
    });
    const moved = await env.rc.request('POST', '/api/v1/calendar/events', {
      auth: user.auth, body: { recurring_event_id: series.id, original_start_time: '2026-12-01T09:00:00Z', start_time: '2026-12-01T11:00:00Z', end_time: '2026-12-01T11:30:00Z' },
    });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    assert.deepEqual([moved.body.raw.recurringEventId, moved.body.raw.originalStartTime], [series.id, { dateTime: '2026-12-01T09:00:00.000Z', timeZone: 'Europe/Berlin' }]);
    const occurrences = (await listEvents(user.auth)).filter((e) => e.recurring_event_id === series.id);
    assert.deepEqual(occurrences.map((o) => [o.raw.recurringEventId, o.raw.originalStartTime.dateTime, o.raw.start.dateTime, o.raw.recurrence, o.platform]), [
      [series.id, '2026-11-24T09:00:00.000Z', '2026-11-24T09:00:00.000Z', undefined, null],
      [series.id, '2026-12-01T09:00:00.000Z', '2026-12-01T11:00:00.000Z', undefined, null],
      [series.id, '2026-12-08T09:00:00.000Z', '2026-12-08T09:00:00.000Z', undefined, null],
    ]);
    // A client that detects series from raw finds them on every source.
    assert.ok(occurrences.every((o) => typeof o.raw.recurringEventId === 'string'));

    const botId = await schedule(user.auth, occurrences[0].id, 'weekly-first', 'Note Taker');
    const withBot = await ok('GET', `/api/v1/calendar/events/${occurrences[0].id}`, user.auth);
    assert.deepEqual(withBot.bots.map((b: any) => [b.id, b.bot_username, b.platform, b.is_scheduled]), [[botId, 'Note Taker', 'zoom', true]]);
  });
});

describe('calendar bots\' custom_attributes', () => {
  test('a bot of a connected calendar\'s event carries its calendar_id (the connection\'s id, as on the event); one of an API-written event none', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => events.push({ uid: 'attrs@feed', summary: 'Synced', startMs: start, endMs: start + HOUR, location: zoomUrl() }));
    const { connectionId } = await connectIcs(user.auth, feed);
    const [synced] = await listEvents(user.auth);
    assert.equal(synced.calendar_id, connectionId);
    const written = await env.rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Written', start_time: new Date(start + 2 * HOUR).toISOString(), end_time: new Date(start + 3 * HOUR).toISOString(), meeting_url: zoomUrl() } });
    assert.equal(written.status, 201, JSON.stringify(written.body));
    const attributesOf = async (eventId: string) => {
      const botId = await schedule(user.auth, eventId, `attrs-${eventId}`);
      return (await env.rc.request('GET', `/api/v1/bots/${botId}/status`, { auth: user.auth })).body.custom_attributes;
    };
    const syncedAttributes = await attributesOf(synced.id);
    assert.deepEqual([syncedAttributes.calendar_id, syncedAttributes.event_id], [connectionId, synced.id]);
    assert.equal('calendar_id' in (await attributesOf(written.body.id)), false);
  });
});

describe('events: calendar_id takes the provider\'s calendar id; provider and account_id filters', () => {
  test('filters by provider calendar id, connection id, primary, provider and account', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const teamId = `team-${randomUUID()}@group.calendar.google.com`;
    const a = await connectGoogle(user.auth, (email) => {
      env.google.addCalendar(email, { id: teamId, summary: 'Team' });
      env.google.insertEvent(email, email, { summary: 'A primary', location: zoomUrl(), ...googleTimed(start) });
      env.google.insertEvent(email, teamId, { summary: 'A team', location: zoomUrl(), ...googleTimed(start + HOUR) });
    });
    const b = await connectGoogle(user.auth, (email) => {
      env.google.insertEvent(email, email, { summary: 'B primary', location: zoomUrl(), ...googleTimed(start + 2 * HOUR) });
    });
    let projectsId = '';
    const outlook = await connectMicrosoft(user.auth, (email) => {
      projectsId = env.microsoft.addCalendar(email, { name: 'Projects' });
      env.microsoft.createEvent(email, { subject: 'O default', startMs: start + 3 * HOUR, endMs: start + 4 * HOUR, location: zoomUrl() });
      env.microsoft.createEvent(email, { subject: 'O projects', startMs: start + 4 * HOUR, endMs: start + 5 * HOUR, location: zoomUrl(), calendarId: projectsId });
    });
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => events.push({ uid: 'feed-event@x', summary: 'I feed', startMs: start + 5 * HOUR, endMs: start + 6 * HOUR, location: zoomUrl() }));
    const ics = await connectIcs(user.auth, feed);
    await env.rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'API', location: zoomUrl(), start_time: iso(start + 6 * HOUR), end_time: iso(start + 7 * HOUR) } });

    const titles = async (query: string) => (await listEvents(user.auth, query)).map((e) => e.title);
    assert.deepEqual(await titles(''), ['A primary', 'A team', 'B primary', 'O default', 'O projects', 'I feed', 'API']);
    // The provider's calendar id (MeetStream's clients send it), or Rollcall's connection id.
    assert.deepEqual(await titles(`calendar_id=${encodeURIComponent(a.account.email)}`), ['A primary']);
    assert.deepEqual(await titles(`calendar_id=${encodeURIComponent(teamId)}`), ['A team']);
    assert.deepEqual(await titles(`calendar_id=${encodeURIComponent(projectsId)}`), ['O projects']);
    assert.deepEqual(await titles(`calendar_id=${a.connectionId}`), ['A primary', 'A team']);
    assert.deepEqual(await titles(`calendar_id=${ics.connectionId}`), ['I feed']);
    // primary: each connection's primary calendar (an ICS feed's only one).
    assert.deepEqual(await titles('calendar_id=primary'), ['A primary', 'B primary', 'O default', 'I feed']);
    assert.deepEqual(await titles('calendar_id=primary&provider=outlook'), ['O default']);
    // provider, and provider with account_id.
    assert.deepEqual(await titles('provider=google'), ['A primary', 'A team', 'B primary']);
    assert.deepEqual(await titles('provider=outlook'), ['O default', 'O projects']);
    assert.deepEqual(await titles('provider=ics'), ['I feed']);
    assert.deepEqual(await titles(`provider=google&account_id=${encodeURIComponent(b.account.email)}`), ['B primary']);
    assert.deepEqual(await titles(`provider=outlook&account_id=${encodeURIComponent(outlook.account.email)}&calendar_id=${encodeURIComponent(projectsId)}`), ['O projects']);
    assert.deepEqual(await titles(`provider=google&account_id=${encodeURIComponent(outlook.account.email)}`), [], 'that account is not a Google one');
    assert.deepEqual(await titles('calendar_id=no-such-calendar'), []);
    // Paging keeps the filter.
    const page = await ok('GET', `/api/v1/calendar/events?provider=google&limit=2&time_min=${encodeURIComponent(iso(NOW))}`, user.auth);
    assert.deepEqual([page.results.length, page.has_more], [2, true]);
    const rest = await ok('GET', `/api/v1/calendar/events?provider=google&limit=2&time_min=${encodeURIComponent(iso(NOW))}&cursor=${encodeURIComponent(page.next)}`, user.auth);
    assert.deepEqual(rest.results.map((e: any) => e.title), ['B primary']);

    // Another user gets nothing for these ids.
    const other = await env.rc.newUser();
    assert.deepEqual(await listEvents(other.auth, `calendar_id=${encodeURIComponent(a.account.email)}`), []);
    assert.deepEqual(await listEvents(other.auth, `calendar_id=${a.connectionId}`), []);
    assert.deepEqual(await listEvents(other.auth, `provider=google&account_id=${encodeURIComponent(a.account.email)}`), []);
  });

  test('bad filters are 400s naming the field', async () => {
    const user = await env.rc.newUser();
    expectError(await env.rc.request('GET', '/api/v1/calendar/events?account_id=a%40example.com', { auth: user.auth }), 400, 'validation_error', 'account_id');
    const provider = await env.rc.request('GET', '/api/v1/calendar/events?provider=microsoft', { auth: user.auth });
    expectError(provider, 400, 'validation_error', 'provider');
    // The message lists what the field takes, not "must be equal to constant".
    assert.match(provider.body.error, /must be one of google, outlook, ics/);
    expectError(await env.rc.request('GET', `/api/v1/calendar/events?calendar_id=${'x'.repeat(1025)}`, { auth: user.auth }), 400, 'validation_error', 'calendar_id');
  });
});

describe('events: sync=true syncs before it lists', () => {
  // MeetStream documents sync=true on GET /calendar/events as "force a sync from Google" (its
  // older API reference; ../shared/reference/meetstream.md 5.4) and gives "auto" as the default.
  test('the calendars in scope are synced first; without it the stored events are listed; a failing feed does not fail the listing', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const google = await connectGoogle(user.auth, (email) => {
      env.google.insertEvent(email, email, { summary: 'G before', location: zoomUrl(), ...googleTimed(start) });
    });
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => events.push({ uid: 'before@x', summary: 'I before', startMs: start + HOUR, endMs: start + 2 * HOUR, location: zoomUrl() }));
    const ics = await connectIcs(user.auth, feed);
    // Changed at the providers after connecting; no background sync runs in this test.
    env.google.insertEvent(google.account.email, google.account.email, { summary: 'G after', location: zoomUrl(), ...googleTimed(start + 2 * HOUR) });
    env.ics.edit(feed, (events) => events.push({ uid: 'after@x', summary: 'I after', startMs: start + 3 * HOUR, endMs: start + 4 * HOUR, location: zoomUrl() }));
    const titles = async (query: string) => (await listEvents(user.auth, query)).map((e) => e.title);

    assert.deepEqual(await titles(''), ['G before', 'I before']);
    assert.deepEqual(await titles('sync=auto'), ['G before', 'I before']);
    assert.deepEqual(await titles('sync=false'), ['G before', 'I before']);
    // Scoped: only the feed is synced (and listed).
    assert.deepEqual(await titles('sync=true&provider=ics'), ['I before', 'I after']);
    assert.deepEqual(await titles(''), ['G before', 'I before', 'I after']);
    // A connection id in calendar_id syncs that connection.
    assert.deepEqual(await titles(`sync=true&calendar_id=${google.connectionId}`), ['G before', 'G after']);
    assert.deepEqual(await titles(''), ['G before', 'I before', 'G after', 'I after']);

    // The feed down: the listing still answers, from what is stored, and the failure is on the connection.
    env.ics.edit(feed, (events) => events.push({ uid: 'later@x', summary: 'I later', startMs: start + 5 * HOUR, endMs: start + 6 * HOUR, location: zoomUrl() }));
    env.ics.outage = { status: 503 };
    try {
      assert.deepEqual(await titles('sync=true'), ['G before', 'I before', 'G after', 'I after']);
    } finally {
      env.ics.outage = null;
    }
    const connection = (await ok('GET', '/api/v1/calendar/connections', user.auth)).connections.find((c: { calendar_id: string }) => c.calendar_id === ics.connectionId);
    assert.match(JSON.stringify(connection), /503/, 'the failed sync shows on the connection');
    // Until its next attempt is due (the backoff, or a provider's Retry-After), sync=true leaves
    // the failed connection alone; then it syncs it again.
    assert.deepEqual(await titles('sync=true'), ['G before', 'I before', 'G after', 'I after']);
    assert.ok(Date.parse(connection.next_sync_at) > env.clock.now());
    env.clock.set(Date.parse(connection.next_sync_at) + 1);
    assert.deepEqual(await titles('sync=true'), ['G before', 'I before', 'G after', 'I after', 'I later']);
  });

  test('a sync slower than the listing\'s bound: the listing answers from what is stored after about 5 s, and the sync goes on', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => events.push({ uid: 'slow-before@x', summary: 'S before', startMs: start, endMs: start + HOUR, location: zoomUrl() }));
    await connectIcs(user.auth, feed);
    env.ics.edit(feed, (events) => events.push({ uid: 'slow-after@x', summary: 'S after', startMs: start + HOUR, endMs: start + 2 * HOUR, location: zoomUrl() }));
    let answer!: () => void;
    env.ics.holdAnswers = new Promise<void>((resolve) => { answer = resolve; });
    try {
      const asked = performance.now();
      assert.deepEqual((await listEvents(user.auth, 'sync=true&provider=ics')).map((e) => e.title), ['S before']);
      const waited = performance.now() - asked;
      assert.ok(waited >= 4900 && waited < 9000, `the listing waited ${Math.round(waited)} ms for the sync`);
    } finally {
      env.ics.holdAnswers = null;
      answer();
    }
    // The sync was not abandoned: once the feed answers, its events are stored.
    for (let i = 0; i < 100 && (await listEvents(user.auth, 'provider=ics')).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await listEvents(user.auth, 'provider=ics')).map((e) => e.title), ['S before', 'S after']);
  });

  test('sync takes true, false, auto, 1 or 0 in any case; anything else is a 400 naming it', async () => {
    const user = await env.rc.newUser();
    const feed = env.ics.createFeed();
    await connectIcs(user.auth, feed);
    const start = NOW + DAY;
    let n = 0;
    const addEvent = () => env.ics.edit(feed, (events) => events.push({ uid: `case-${++n}@x`, summary: `C${n}`, startMs: start + n * HOUR, endMs: start + (n + 1) * HOUR, location: zoomUrl() }));
    for (const value of ['True', 'TRUE', '1']) {
      addEvent();
      assert.equal((await listEvents(user.auth, `sync=${value}`)).length, n, `sync=${value} syncs`);
    }
    for (const value of ['False', '0', 'AUTO']) {
      addEvent();
      assert.equal((await listEvents(user.auth, `sync=${value}`)).length, n - 1, `sync=${value} reads what is stored`);
      await listEvents(user.auth, 'sync=true');
    }
    expectError(await env.rc.request('GET', '/api/v1/calendar/events?sync=yes', { auth: user.auth }), 400, 'validation_error', 'sync');
    const nobody = await env.rc.newUser();
    assert.equal((await env.rc.request('GET', '/api/v1/calendar/events?sync=true', { auth: nobody.auth })).status, 200, 'no connection: nothing to sync');
  });
});

describe('POST|DELETE /calendar/disconnect', () => {
  test('no connection: 400 calendar_not_connected', async () => {
    const user = await env.rc.newUser();
    for (const method of ['POST', 'DELETE']) expectError(await env.rc.request(method, '/api/v1/calendar/disconnect', { auth: user.auth, body: {} }), 400, 'calendar_not_connected');
  });

  test('{} with several connections is refused with scope, connection_count and next_steps; nothing is removed', async () => {
    const user = await env.rc.newUser();
    await connectGoogle(user.auth);
    await connectMicrosoft(user.auth);
    const before = await connectionIds(user.auth);
    for (const method of ['POST', 'DELETE']) {
      const res = await env.rc.request(method, '/api/v1/calendar/disconnect', { auth: user.auth, body: {} });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'multiple_calendar_connections');
      assert.equal(res.body.scope, 'all');
      assert.equal(res.body.connection_count, 2);
      assert.equal(typeof res.body.next_steps, 'string');
      assert.ok(res.body.next_steps.includes('account_id'));
      assert.equal(res.body.message, res.body.error);
    }
    assert.deepEqual(await connectionIds(user.auth), before);
  });

  test('{provider, account_id} removes exactly that connection: channel stopped, events gone, its scheduled bots cancelled with webhooks', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const a = await connectGoogle(user.auth, (email) => env.google.insertEvent(email, email, { summary: 'Goes', location: zoomUrl(), ...googleTimed(start) }));
    const b = await connectGoogle(user.auth, (email) => env.google.insertEvent(email, email, { summary: 'Stays', location: zoomUrl(), ...googleTimed(start) }));
    const events = await listEvents(user.auth);
    const goingBot = await schedule(user.auth, events.find((e) => e.title === 'Goes').id, 'goes');
    const stayingBot = await schedule(user.auth, events.find((e) => e.title === 'Stays').id, 'stays');
    assert.equal(env.google.liveChannels(a.account.email).length, 1);

    const res = await ok('POST', '/api/v1/calendar/disconnect', user.auth, { provider: 'google', account_id: a.account.email });
    assert.deepEqual(
      [res.disconnected, res.user_id, res.watch_channel_stopped, res.events_deleted, res.schedules_cancelled, res.events_kept],
      [true, user.userId, true, 1, 1, 0],
    );
    assert.equal(typeof res.message, 'string');
    assert.deepEqual(res.disconnected_connections.map((c: any) => [c.calendar_id, c.provider, c.account_id]), [[a.connectionId, 'google', a.account.email]]);
    assert.equal(env.google.liveChannels(a.account.email).length, 0);
    assert.equal(env.google.liveChannels(b.account.email).length, 1);
    assert.deepEqual(await connectionIds(user.auth), [b.connectionId]);
    assert.equal(await botStatus(user.auth, goingBot), 'Cancelled');
    assert.equal(await botStatus(user.auth, stayingBot), 'Scheduled');
    assert.deepEqual((await listEvents(user.auth)).map((e) => e.title), ['Stays']);
    await env.rc.webhooks.runDue();
    assert.equal(env.hooks.received.filter((r) => r.json?.bot_id === goingBot).at(-1)?.json.bot_event, 'bot.cancelled');
    assert.ok(!env.hooks.received.some((r) => r.json?.bot_id === stayingBot && r.json.bot_event === 'bot.cancelled'));
    const gone = await env.rc.database.db.selectFrom('calendar_connections').select('id').where('id', '=', a.connectionId).execute();
    assert.deepEqual(gone, [], 'the credentials went with the row');
  });

  test('{provider} removes every connection of that provider; DELETE with an empty JSON body; {} with one connection removes it', async () => {
    const user = await env.rc.newUser();
    await connectMicrosoft(user.auth);
    await connectMicrosoft(user.auth);
    const google = await connectGoogle(user.auth);
    const res = await ok('DELETE', '/api/v1/calendar/disconnect', user.auth, { provider: 'outlook' });
    assert.equal(res.disconnected_connections.length, 2);
    assert.ok(res.disconnected_connections.every((c: any) => c.provider === 'outlook'));
    assert.equal(res.watch_channels_stopped, 2);
    assert.deepEqual(await connectionIds(user.auth), [google.connectionId]);
    // A client that always sends Content-Type: application/json, here with no body at all.
    const empty = await env.rc.app.inject({ method: 'DELETE', url: '/api/v1/calendar/disconnect', headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: '' });
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(empty.json().disconnected_connections.map((c: any) => c.calendar_id), [google.connectionId]);
    assert.deepEqual(await connectionIds(user.auth), []);
    expectError(await env.rc.request('POST', '/api/v1/calendar/disconnect', { auth: user.auth }), 400, 'calendar_not_connected');
  });

  test('a null scope field is refused, naming it, and removes nothing: account_id: null is not "every connection of the provider", provider: null does not let the query\'s provider win', async () => {
    // Left out, account_id means every connection of the provider and provider the query's (or
    // the only connection), and purge_events true: a null there, often a lookup that found
    // nothing, would widen an irreversible removal, so it is not read as left out.
    const user = await env.rc.newUser();
    const first = await connectIcs(user.auth, env.ics.createFeed('First'));
    const second = await connectIcs(user.auth, env.ics.createFeed('Second'));
    const before = await connectionIds(user.auth);
    assert.deepEqual([...before].sort(), [first.connectionId, second.connectionId].sort());
    for (const method of ['POST', 'DELETE']) {
      expectError(await env.rc.request(method, '/api/v1/calendar/disconnect', { auth: user.auth, body: { provider: 'ics', account_id: null } }), 400, 'validation_error', 'account_id');
      expectError(await env.rc.request(method, '/api/v1/calendar/disconnect?provider=ics', { auth: user.auth, body: { provider: null } }), 400, 'validation_error', 'provider');
      expectError(await env.rc.request(method, '/api/v1/calendar/disconnect?purge_events=false', { auth: user.auth, body: { provider: 'ics', purge_events: null } }), 400, 'validation_error', 'purge_events');
    }
    assert.deepEqual(await connectionIds(user.auth), before, 'nothing was removed');
  });

  test('purge_events: false keeps the events (detached, never auto-scheduled); their scheduled bots are cancelled anyway', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => {
      events.push({ uid: 'kept-1@feed', summary: 'Kept with bot', startMs: start, endMs: start + HOUR, location: zoomUrl() });
      events.push({ uid: 'kept-2@feed', summary: 'Kept without bot', startMs: start + 2 * HOUR, endMs: start + 3 * HOUR, location: zoomUrl() });
    });
    const { connectionId } = await connectIcs(user.auth, feed);
    const [withBot] = await listEvents(user.auth);
    const botId = await schedule(user.auth, withBot.id, 'kept');
    // The flag also comes in the query string; the body wins.
    const res = await ok('POST', '/api/v1/calendar/disconnect?purge_events=true', user.auth, { purge_events: false });
    assert.deepEqual([res.events_deleted, res.events_kept, res.schedules_cancelled, res.watch_channel_stopped], [0, 2, 1, false]);
    assert.equal(await botStatus(user.auth, botId), 'Cancelled');
    const kept = await listEvents(user.auth);
    assert.deepEqual(kept.map((e) => [e.title, e.calendar_id, e.platform, e.platform_id, e.is_deleted]), [
      ['Kept with bot', null, 'ics', 'kept-1@feed', false],
      ['Kept without bot', null, 'ics', 'kept-2@feed', false],
    ]);
    assert.deepEqual(await listEvents(user.auth, 'provider=ics'), kept, 'still found by provider');
    assert.deepEqual(await connectionIds(user.auth), []);
    // Auto-schedule books connected calendars' events only: the kept rows are not booked.
    const enabled = await ok('POST', '/api/v1/calendar/auto-schedule/enable', user.auth, { default_bot_config: { bot_name: 'Auto' } });
    assert.equal(enabled.bots_scheduled, 0);
    for (const event of await listEvents(user.auth)) assert.ok(!event.bots.some((b: any) => b.status === 'Scheduled'), event.title);
    const rows = await env.rc.database.db.selectFrom('events').select('id').where('calendar_id', '=', connectionId).execute();
    assert.deepEqual(rows, [], 'nothing points at the removed connection');
  });

  test('purge_events=false in the query string alone keeps the events, with no body, {} or an empty JSON body', async () => {
    // Before: the body's default (true) was filled into the empty body and won over the query.
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const sends: Record<string, () => Promise<{ statusCode: number; json(): any }>> = {
      'no body': () => env.rc.app.inject({ method: 'DELETE', url: '/api/v1/calendar/disconnect?purge_events=false', headers: { authorization: user.auth } }),
      '{}': () => env.rc.app.inject({ method: 'DELETE', url: '/api/v1/calendar/disconnect?purge_events=false', headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: '{}' }),
      'an empty JSON body': () => env.rc.app.inject({ method: 'POST', url: '/api/v1/calendar/disconnect?purge_events=false', headers: { authorization: user.auth, 'content-type': 'application/json' }, payload: '' }),
    };
    for (const [shape, send] of Object.entries(sends)) {
      const feed = env.ics.createFeed();
      env.ics.edit(feed, (events) => events.push({ uid: `kept-${shape}@feed`, summary: `Kept (${shape})`, startMs: start, endMs: start + HOUR, location: zoomUrl() }));
      await connectIcs(user.auth, feed);
      const res = await send();
      assert.equal(res.statusCode, 200, `${shape}: ${JSON.stringify(res.json())}`);
      assert.deepEqual([res.json().events_deleted, res.json().events_kept], [0, 1], shape);
    }
    assert.deepEqual((await listEvents(user.auth)).map((e) => e.title).sort(), Object.keys(sends).map((shape) => `Kept (${shape})`).sort());
  });

  test('a query flag written as Python writes a boolean (requests sends params={"purge_events": False} as purge_events=False) is read as the flag', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    for (const [written, kept] of [['False', 1], ['TRUE', 0]] as const) {
      const feed = env.ics.createFeed();
      env.ics.edit(feed, (events) => events.push({ uid: `python-${written}@feed`, summary: `Python ${written}`, startMs: start, endMs: start + HOUR, location: zoomUrl() }));
      await connectIcs(user.auth, feed);
      const res = await env.rc.app.inject({ method: 'DELETE', url: `/api/v1/calendar/disconnect?provider=ics&purge_events=${written}`, headers: { authorization: user.auth } });
      assert.equal(res.statusCode, 200, `${written}: ${res.body}`);
      assert.equal(res.json().events_kept, kept, written);
    }
    // Anything else is still refused, naming the parameter.
    const feed = env.ics.createFeed();
    await connectIcs(user.auth, feed);
    const refused = await env.rc.app.inject({ method: 'DELETE', url: '/api/v1/calendar/disconnect?purge_events=nope', headers: { authorization: user.auth } });
    assert.equal(`${refused.statusCode} ${refused.json().details?.field}`, '400 purge_events', refused.body);
  });

  test('a kept series in chain mode books nothing more: the chain ends with its calendar', async () => {
    const user = await env.rc.newUser();
    const first = NOW + DAY;
    const feed = env.ics.createFeed();
    env.ics.edit(feed, (events) => events.push({ uid: 'chain@feed', summary: 'Chained', startMs: first, endMs: first + HOUR, timeZone: 'Europe/Berlin', location: zoomUrl(), rrule: 'FREQ=WEEKLY;COUNT=5' }));
    await connectIcs(user.auth, feed);
    const [occurrence] = await listEvents(user.auth);
    const seriesId = occurrence.recurring_event_id as string;
    const chained = await ok('POST', `/api/v1/calendar/schedule/${seriesId}`, user.auth, { deduplication_key: 'chain', bot_config: { bot_name: 'Chain' }, recurring_event: true });
    assert.equal(chained.recurring_enabled, true);
    await ok('POST', '/api/v1/calendar/disconnect', user.auth, { purge_events: false });
    assert.equal(await botStatus(user.auth, chained.bot_id), 'Cancelled');
    assert.equal((await env.rc.chains.advance()).booked, 0, 'the cancelled bot does not move the chain on');
    const live = await env.rc.database.db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id').select('bots.id')
      .where('bot_events.event_id', '=', seriesId).where('bots.status', '=', 'Scheduled').execute();
    assert.deepEqual(live, []);
  });

  test('DELETE /calendar/connections/{id}?purge_events=false keeps the events too', async () => {
    const user = await env.rc.newUser();
    const start = NOW + DAY;
    const { connectionId } = await connectGoogle(user.auth, (email) => env.google.insertEvent(email, email, { summary: 'Kept', location: zoomUrl(), ...googleTimed(start) }));
    const res = await ok('DELETE', `/api/v1/calendar/connections/${connectionId}?purge_events=false`, user.auth);
    assert.deepEqual([res.events_deleted, res.events_kept], [0, 1]);
    const [event] = await listEvents(user.auth);
    assert.deepEqual([event.title, event.calendar_id, event.platform], ['Kept', null, 'google_calendar']);
    expectError(await env.rc.request('DELETE', `/api/v1/calendar/connections/${connectionId}?purge_events=maybe`, { auth: user.auth }), 400, 'validation_error', 'purge_events');
  });

  test('a bot already in its meeting is left to finish; a scheduled one is cancelled', async () => {
    const user = await env.rc.newUser();
    const soon = NOW + 10 * MIN;
    const later = NOW + DAY;
    await connectGoogle(user.auth, (email) => {
      env.google.insertEvent(email, email, { summary: 'Now', location: zoomUrl(), ...googleTimed(soon) });
      env.google.insertEvent(email, email, { summary: 'Later', location: zoomUrl(), ...googleTimed(later) });
    });
    const events = await listEvents(user.auth);
    const inMeeting = await schedule(user.auth, events.find((e) => e.title === 'Now').id, 'now');
    const waiting = await schedule(user.auth, events.find((e) => e.title === 'Later').id, 'later');
    for (const status of ['Joining', 'InMeeting']) await ok('POST', `/api/v1/bots/${inMeeting}/status`, user.auth, { status });

    const res = await ok('POST', '/api/v1/calendar/disconnect', user.auth, {});
    assert.deepEqual([res.schedules_cancelled, res.events_deleted], [1, 2]);
    assert.equal(await botStatus(user.auth, inMeeting), 'InMeeting');
    assert.equal(await botStatus(user.auth, waiting), 'Cancelled');
    const commands = await env.rc.database.db.selectFrom('runtime_commands').select('action').where('bot_id', '=', inMeeting).execute();
    assert.deepEqual(commands, [], 'no stop command');
    const detail = await ok('GET', `/api/v1/bots/${inMeeting}`, user.auth);
    assert.ok(detail.decisions.some((d: any) => d.kind === 'unlinked_event' && /disconnected/.test(d.reason) && /stays until it ends/.test(d.reason)), JSON.stringify(detail.decisions));
  });

  test('bad input is a 400 naming the field and changes nothing; another user\'s account is not theirs to disconnect', async () => {
    const user = await env.rc.newUser();
    const google = await connectGoogle(user.auth);
    const feed = await connectIcs(user.auth, env.ics.createFeed());
    const cases: [unknown, string, string][] = [
      [{ account_id: google.account.email }, 'validation_error', 'account_id'],
      [{ provider: 'yahoo' }, 'validation_error', 'provider'],
      [{ provider: 'google', purge_events: 'no' }, 'validation_error', 'purge_events'],
      [{ provider: 'google', account_id: 42 }, 'validation_error', 'account_id'],
      [{ provider: 'outlook' }, 'calendar_not_connected', 'provider'],
      [{ provider: 'google', account_id: 'nobody@example.com' }, 'calendar_not_connected', 'account_id'],
      [{ provider: 'ics', account_id: feed.connectionId }, 'calendar_not_connected', 'account_id'],
    ];
    for (const [body, code, field] of cases) {
      for (const method of ['POST', 'DELETE']) expectError(await env.rc.request(method, '/api/v1/calendar/disconnect', { auth: user.auth, body }), 400, code, field);
    }
    expectError(await env.rc.request('POST', '/api/v1/calendar/disconnect', { auth: user.auth, body: '{"provider":' }), 400, 'invalid_json');
    expectError(await env.rc.request('DELETE', '/api/v1/calendar/disconnect?account_id=x%40example.com', { auth: user.auth }), 400, 'validation_error', 'account_id');
    const other = await env.rc.newUser();
    expectError(await env.rc.request('POST', '/api/v1/calendar/disconnect', { auth: other.auth, body: { provider: 'google', account_id: google.account.email } }), 400, 'calendar_not_connected');
    assert.deepEqual((await connectionIds(user.auth)).sort(), [google.connectionId, feed.connectionId].sort());
    assert.equal(env.google.liveChannels(google.account.email).length, 1);
    assert.equal((await env.rc.request('POST', '/api/v1/calendar/disconnect', { body: {} })).status, 401);
  });
});

describe('migration 010', () => {
  test('fills platform and the provider calendar of stored events, and has Google and Microsoft lists read again', async () => {
    await withSchemaBefore(10, 'usr_m', async (database) => {
      const db = database.db as any;
      const connection = (id: string, provider: string) => ({
        id, user_id: 'usr_m', provider, account_id: `${id}@example.com`, user_email: null, user_name: null, display_url: null, credentials: null, callback_url: null,
        status: 'active', last_sync_at: null, last_error: null, last_error_at: null, consecutive_failures: 0, next_sync_at: null, lease_until: null,
        created_at: NOW, updated_at: NOW, calendar_selection: null, calendars_listed_at: NOW,
      });
      await db.insertInto('calendar_connections').values([connection('cal_g', 'google'), connection('cal_m', 'microsoft'), connection('cal_i', 'ics')]).execute();
      const calendar = (connectionId: string, providerCalendarId: string) => ({
        connection_id: connectionId, provider_calendar_id: providerCalendarId, name: null, time_zone: null, is_primary: 0, sync_cursor: null, last_full_sync_at: null,
        push_channel_id: null, push_resource_id: null, push_secret_hash: null, push_expires_at: null, push_last_message_at: null, push_error: null, created_at: NOW, updated_at: NOW,
      });
      // Two Google calendars, one id a prefix of the other's: the longest match wins.
      await db.insertInto('connected_calendars').values([calendar('cal_g', 'team@x.com'), calendar('cal_g', 'team@x.com/sub'), calendar('cal_m', 'AAMk=='), calendar('cal_i', '')]).execute();
      const event = (id: string, calendarId: string | null, providerEventId: string | null) => ({
        id, user_id: 'usr_m', calendar_id: calendarId, provider_event_id: providerEventId, title: null, description: null, location: null, start_ms: NOW, end_ms: NOW + HOUR,
        timezone: null, meeting_url: null, meeting_platform: null, meeting_identity: null, recurrence: null, recurring_event_id: null, original_start_ms: null,
        status: 'confirmed', is_deleted: 0, raw: '{}', created_at: NOW, updated_at: NOW, provider_series_id: null,
      });
      await db.insertInto('events').values([
        event('evt_g1', 'cal_g', 'team@x.com/abc'), event('evt_g2', 'cal_g', 'team@x.com/sub/def'), event('evt_m', 'cal_m', 'AAMk==/AAMkEvent='),
        event('evt_i', 'cal_i', 'uid@feed'), event('evt_api', null, null),
      ]).execute();

      await migrate(database.db, database.engine);
      const rows = await db.selectFrom('events').select(['id', 'platform', 'provider_calendar_id']).orderBy('id').execute();
      assert.deepEqual(rows.map((r: any) => ({ ...r })), [
        { id: 'evt_api', platform: null, provider_calendar_id: null },
        { id: 'evt_g1', platform: 'google_calendar', provider_calendar_id: 'team@x.com' },
        { id: 'evt_g2', platform: 'google_calendar', provider_calendar_id: 'team@x.com/sub' },
        { id: 'evt_i', platform: 'ics', provider_calendar_id: null },
        { id: 'evt_m', platform: 'outlook_calendar', provider_calendar_id: 'AAMk==' },
      ]);
      const listed = await db.selectFrom('calendar_connections').select(['id', 'calendars_listed_at', 'calendar_list']).orderBy('id').execute();
      assert.deepEqual(listed.map((r: any) => [r.id, r.calendars_listed_at === null ? null : Number(r.calendars_listed_at), r.calendar_list]), [
        ['cal_g', null, null], ['cal_i', NOW, null], ['cal_m', null, null],
      ]);
    });
  });
});
