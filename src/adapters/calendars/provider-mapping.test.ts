import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleCalendarProvider, toChange as fromGoogle } from './google-calendar-provider.ts';
import { completeFromMaster, MicrosoftCalendarProvider, oneEntryPerEvent, toChange as fromGraph } from './microsoft-calendar-provider.ts';
import { OAuthTokenClient } from './oauth-token-client.ts';
import { CalendarProviderError } from './calendar-provider.ts';
import type { HttpResponse, HttpSend } from './provider-http.ts';
import { ianaZoneOf } from './time-zone-names.ts';
import { rruleOfGraphRecurrence } from '../../domain/graph-recurrence.ts';

test('Google: a cancelled event outside a series is a removal; a cancelled instance overrides its occurrence', () => {
  assert.deepEqual(fromGoogle({ id: 'abc', status: 'cancelled' }, 'UTC'), { type: 'removed', providerEventId: 'abc' });
  const change = fromGoogle({ id: 'abc_20261124T090000Z', status: 'cancelled', recurringEventId: 'abc', originalStartTime: { dateTime: '2026-11-24T10:00:00+01:00', timeZone: 'Europe/Berlin' } }, 'UTC');
  assert.equal(change.type, 'upsert');
  if (change.type !== 'upsert') return;
  assert.equal(change.event.status, 'cancelled');
  assert.equal(change.event.seriesProviderEventId, 'abc');
  assert.equal(change.event.originalStartMs, Date.parse('2026-11-24T09:00:00Z'));
});

test('Google: conference links, all-day dates in the calendar zone, declined invitations, series lines', () => {
  const meet = fromGoogle({
    id: 'm', summary: 'Sync', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T09:30:00Z' },
    conferenceData: { entryPoints: [{ entryPointType: 'phone', uri: 'tel:+1-555' }, { entryPointType: 'video', uri: 'https://meet.google.com/abc-defg-hij' }] },
    attendees: [{ email: 'me@x', self: true, responseStatus: 'declined' }],
  }, 'UTC');
  assert.ok(meet.type === 'upsert');
  assert.equal(meet.event.conferenceUrl, 'https://meet.google.com/abc-defg-hij');
  assert.equal(meet.event.isDeclined, true);
  const allDay = fromGoogle({ id: 'd', start: { date: '2026-11-26' }, end: { date: '2026-11-27' } }, 'America/New_York');
  assert.ok(allDay.type === 'upsert');
  assert.equal(allDay.event.isAllDay, true);
  assert.equal(allDay.event.startMs, Date.parse('2026-11-26T05:00:00Z'));
  const series = fromGoogle({ id: 's', start: { dateTime: '2026-11-24T09:00:00+01:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-11-24T10:00:00+01:00', timeZone: 'Europe/Berlin' }, recurrence: ['RRULE:FREQ=WEEKLY'], hangoutLink: 'https://meet.google.com/xyz-abcd-efg' }, 'UTC');
  assert.ok(series.type === 'upsert');
  assert.deepEqual(series.event.recurrence, ['RRULE:FREQ=WEEKLY']);
  assert.equal(series.event.timeZone, 'Europe/Berlin');
  assert.equal(series.event.conferenceUrl, 'https://meet.google.com/xyz-abcd-efg');
});

test('Graph: @removed entries, UTC dateTimes with seven decimals, Teams join URLs, cancelled meetings, Windows zones', () => {
  assert.deepEqual(fromGraph({ id: 'gone', '@removed': { reason: 'deleted' } }), { type: 'removed', providerEventId: 'gone' });
  assert.equal(fromGraph({ id: 'master', type: 'seriesMaster' }), null);
  const change = fromGraph({
    id: 'e1', type: 'occurrence', subject: 'Teams', isCancelled: true, originalStartTimeZone: 'W. Europe Standard Time',
    start: { dateTime: '2026-11-24T08:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-24T08:30:00.0000000', timeZone: 'UTC' },
    onlineMeeting: { joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0' }, responseStatus: { response: 'accepted' },
  });
  assert.ok(change?.type === 'upsert');
  assert.equal(change.event.startMs, Date.parse('2026-11-24T08:00:00Z'));
  assert.equal(change.event.endMs, Date.parse('2026-11-24T08:30:00Z'));
  assert.equal(change.event.status, 'cancelled');
  assert.equal(change.event.timeZone, 'Europe/Berlin');
  assert.match(change.event.conferenceUrl!, /^https:\/\/teams\.microsoft\.com/);
  const local = fromGraph({ id: 'e2', start: { dateTime: '2026-07-06T09:00:00.0000000', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-07-06T10:00:00.0000000', timeZone: 'Pacific Standard Time' }, body: { contentType: 'html', content: '<a href="https://zoom.us/j/123456789">Join</a>' } });
  assert.ok(local?.type === 'upsert');
  assert.equal(local.event.startMs, Date.parse('2026-07-06T16:00:00Z'));
  assert.equal(local.event.conferenceUrl, 'https://zoom.us/j/123456789');
});

test('Graph: showAs is the free/busy display, not the meeting\'s status: an unanswered invitation (shown tentative) is confirmed', () => {
  // Outlook puts a received meeting request on the invitee's calendar with showAs: tentative
  // (Graph eventMessage resource); the owner's answer is responseStatus, read for auto-schedule.
  for (const showAs of ['tentative', 'busy', 'free', 'oof', 'workingElsewhere', 'unknown']) {
    const change = fromGraph({
      id: `e-${showAs}`, showAs, responseStatus: { response: 'notResponded' },
      start: { dateTime: '2026-11-24T08:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-24T08:30:00.0000000', timeZone: 'UTC' },
    });
    assert.ok(change?.type === 'upsert');
    assert.equal(change.event.status, 'confirmed', showAs);
  }
});

test('Graph: any Windows zone CLDR knows, for times, an event\'s zone and a series\' end date', () => {
  // Graph writes Windows names (dateTimeTimeZone: "See TimeZoneInfo.Id in .NET"); these are beyond the common few.
  const riyadh = fromGraph({
    id: 'e3', originalStartTimeZone: 'Pacific SA Standard Time',
    start: { dateTime: '2026-07-06T09:00:00.0000000', timeZone: 'Arab Standard Time' }, end: { dateTime: '2026-07-06T10:00:00.0000000', timeZone: 'Arab Standard Time' },
  });
  assert.ok(riyadh?.type === 'upsert');
  assert.equal(riyadh.event.startMs, Date.parse('2026-07-06T06:00:00Z'));
  assert.equal(riyadh.event.timeZone, 'America/Santiago');
  // A weekly series ending on 2026-03-30 in Santiago (UTC-3 then): its last day ends at 02:59:59Z on the 31st.
  const range = { type: 'endDate', startDate: '2026-03-02', endDate: '2026-03-30', numberOfOccurrences: 0, recurrenceTimeZone: 'Pacific SA Standard Time' };
  const pattern = { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday', month: 0, dayOfMonth: 0, index: 'first' };
  assert.equal(rruleOfGraphRecurrence({ pattern, range }, { timeZone: ianaZoneOf('Pacific SA Standard Time'), resolveTimeZone: ianaZoneOf }), 'RRULE:FREQ=WEEKLY;UNTIL=20260331T025959Z;BYDAY=MO;WKST=SU');
});

test('Graph: a bare occurrence takes its master\'s data, an exception keeps its own, the master itself is no event', () => {
  const master = {
    id: 'M', type: 'seriesMaster', subject: 'Weekly sync', bodyPreview: 'Join', iCalUId: 'uid-1', location: { displayName: 'Room 1' },
    onlineMeeting: { joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_w%40thread.v2/0' }, responseStatus: { response: 'accepted' },
    start: { dateTime: '2026-11-23T09:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-23T10:00:00.0000000', timeZone: 'UTC' }, recurrence: { pattern: {} },
  };
  const bare = { id: 'O2', type: 'occurrence', seriesMasterId: 'M', start: { dateTime: '2026-11-30T09:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-30T10:00:00.0000000', timeZone: 'UTC' } };
  const occurrence = fromGraph(completeFromMaster(bare, master), 'M');
  assert.ok(occurrence?.type === 'upsert');
  assert.equal(occurrence.event.providerEventId, 'O2');
  assert.equal(occurrence.event.title, 'Weekly sync');
  assert.equal(occurrence.event.location, 'Room 1');
  assert.match(occurrence.event.conferenceUrl!, /^https:\/\/teams\.microsoft\.com/);
  assert.equal(occurrence.event.startMs, Date.parse('2026-11-30T09:00:00Z'), 'times are the occurrence\'s own');
  assert.equal(occurrence.event.providerSeriesId, 'M');
  assert.equal((occurrence.event.raw as { iCalUId: string }).iCalUId, 'uid-1');
  const exception = fromGraph(completeFromMaster({ ...bare, id: 'X3', type: 'exception', subject: 'Moved sync', location: { displayName: 'Room 2' } }, master), 'M');
  assert.ok(exception?.type === 'upsert');
  assert.equal(exception.event.title, 'Moved sync');
  assert.equal(exception.event.location, 'Room 2');
  assert.match(exception.event.conferenceUrl!, /teams/, 'what the exception does not carry still comes from the master');
  assert.equal(fromGraph(master), null);
});

function answering(status: number, body: unknown, headers: Record<string, string> = {}): HttpSend {
  return async (): Promise<HttpResponse> => ({ status, headers, body: JSON.stringify(body) });
}

async function refreshFailure(send: HttpSend) {
  const client = new OAuthTokenClient({ tokenUrl: 'https://login.example/token', send, timeoutMs: 1000, now: () => 0 });
  try {
    await client.refresh({ clientId: 'a', clientSecret: 'b', refreshToken: 'c' });
  } catch (error) {
    assert.ok(error instanceof CalendarProviderError);
    return error.failure;
  }
  assert.fail('expected a failure');
}

test('token refresh: invalid_grant is auth_revoked, invalid_client (the app\'s credentials) permanent, 429 waits, 5xx is transient; a rotated token is reported', async () => {
  assert.equal((await refreshFailure(answering(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }))).kind, 'auth_revoked');
  assert.equal((await refreshFailure(answering(401, { error: 'invalid_client' }))).kind, 'permanent');
  const limited = await refreshFailure(answering(429, {}, { 'retry-after': '7' }));
  assert.deepEqual([limited.kind, limited.kind === 'rate_limited' ? limited.retryAfterMs : 0], ['rate_limited', 7000]);
  assert.equal((await refreshFailure(answering(503, '<html>'))).kind, 'transient');
  const failure = await refreshFailure(answering(400, { error: 'invalid_grant', error_description: 'secret-bearing text' }));
  assert.ok(!failure.message.includes('secret-bearing'), 'descriptions are not kept');
  const client = new OAuthTokenClient({ tokenUrl: 'https://login.example/token', send: answering(200, { access_token: 'at', expires_in: 3599, refresh_token: 'new' }), timeoutMs: 1000, now: () => 1000 });
  assert.deepEqual(await client.refresh({ clientId: 'a', clientSecret: 'b', refreshToken: 'old' }), { accessToken: 'at', expiresAtMs: 1000 + 3599_000, refreshToken: 'new' });
});

test('Google: the calendars synced by default are the primary and the account\'s own secondary ones, not another person\'s calendar it may manage', async () => {
  // calendarList entries (developers.google.com/workspace/calendar/api/v3/reference/calendarList):
  // accessRole is the account's effective role, "owner" also for a calendar shared with it with
  // "make changes and manage sharing"; a person's primary calendar's id is their address.
  const entries = [
    { id: 'me@example.com', primary: true, accessRole: 'owner', summary: 'me@example.com' },
    { id: 'boss@example.com', accessRole: 'owner', summary: 'Boss' },
    { id: 'c_1f2e3d@group.calendar.google.com', accessRole: 'owner', summary: 'Team' },
    { id: 'abc123@import.calendar.google.com', accessRole: 'owner', summary: 'Imported' },
    { id: 'en.usa#holiday@group.v.calendar.google.com', accessRole: 'reader', summary: 'Holidays' },
    { id: 'c_hidden@group.calendar.google.com', accessRole: 'owner', summary: 'Hidden', hidden: true },
  ];
  const send: HttpSend = async (): Promise<HttpResponse> => ({ status: 200, headers: {}, body: JSON.stringify({ items: entries }) });
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const account = await provider.describeAccount();
  assert.deepEqual(account.calendars.map((c) => [c.id, c.isSynced]), [
    ['me@example.com', true], ['boss@example.com', false], ['c_1f2e3d@group.calendar.google.com', true], ['abc123@import.calendar.google.com', true], ['en.usa#holiday@group.v.calendar.google.com', false],
    ['c_hidden@group.calendar.google.com', false],
  ]);
});

test('Graph: a round that lists an event more than once keeps one entry, the one modified last, whatever the order; removed and not is unsure', () => {
  const v = (id: string, modified: string, subject: string) => ({ id, subject, lastModifiedDateTime: modified });
  const removed = (id: string) => ({ id, '@removed': { reason: 'deleted' } });
  const older = v('a', '2026-12-01T09:00:00Z', 'old');
  const newer = v('a', '2026-12-01T10:00:00Z', 'new');
  for (const items of [[older, newer], [newer, older]]) {
    const { entries, unsure } = oneEntryPerEvent([v('x', '2026-12-01T08:00:00Z', 'x'), ...items]);
    assert.deepEqual(entries.map((e) => `${e.id}:${e.subject}`), ['x:x', 'a:new']);
    assert.equal(unsure.size, 0);
  }
  // No modification time to tell: the later listed.
  assert.equal(oneEntryPerEvent([{ id: 'b', subject: '1' }, { id: 'b', subject: '2' }]).entries[0]!.subject, '2');
  // Removed twice: one removal. Removed and listed: unsure, either way round.
  assert.deepEqual(oneEntryPerEvent([removed('c'), removed('c')]), { entries: [removed('c')], unsure: new Set(['c']), repeatedSeries: new Set() });
  for (const items of [[removed('a'), older], [newer, removed('a')]]) assert.deepEqual([...oneEntryPerEvent(items).unsure], ['a']);
  // Versions that differ where one has no modification time (occurrences come bare): unsure.
  assert.deepEqual([...oneEntryPerEvent([{ id: 'o', subject: 'x', lastModifiedDateTime: '2026-12-01T09:00:00Z' }, { id: 'o', start: { dateTime: '2026-12-10T15:00:00' } }]).unsure], ['o']);
  // The same version twice: sure.
  assert.equal(oneEntryPerEvent([{ id: 'o', subject: 'x' }, { id: 'o', subject: 'x' }]).unsure.size, 0);
  // A series with an id listed twice (its master, or an instance) is to be read whole.
  const master = { id: 'm', type: 'seriesMaster' };
  const occurrence = { id: 'm-1', type: 'occurrence', seriesMasterId: 'm' };
  assert.deepEqual([...oneEntryPerEvent([master, occurrence, master]).repeatedSeries], ['m']);
  assert.deepEqual([...oneEntryPerEvent([occurrence, master, occurrence]).repeatedSeries], ['m']);
  assert.equal(oneEntryPerEvent([master, occurrence]).repeatedSeries.size, 0);
});

test('Google: entries without a string id, or with a start or end that is not a date, are skipped with a warning; the rest of the page applies', async () => {
  const page = {
    timeZone: 'UTC', nextSyncToken: 'sync-2',
    items: [
      null,
      { summary: 'No id', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 42, summary: 'Numeric id', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'numeric-start', summary: 'Numeric start', start: { dateTime: 12 }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'numeric-date', summary: 'Numeric date', start: { date: 20261124 }, end: { date: '2026-11-25' } },
      { id: 'string-end', summary: 'End as text', start: { dateTime: '2026-11-24T09:00:00Z' }, end: 'tomorrow' },
      { id: 'good', summary: 'Good', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'gone', status: 'cancelled' },
      // Over the 1,024 characters Google allows, too long for a key PostgreSQL can index.
      { id: 'v'.repeat(2001), summary: 'Long id', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'moved_20261124T090000Z', recurringEventId: 'v'.repeat(4500), originalStartTime: { dateTime: '2026-11-24T09:00:00Z' }, start: { dateTime: '2026-11-24T11:00:00Z' }, end: { dateTime: '2026-11-24T12:00:00Z' } },
    ],
  };
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify(page) });
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const result = await provider.fetchChanges('primary', null, { nowMs: 0, horizonMs: 0 });
  assert.deepEqual(result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : `-${c.providerEventId}`)), ['good', '-gone']);
  // An id too long to store is reported too: on SQLite, which stores it, it would otherwise be taken as gone.
  assert.deepEqual(result.unreadable, ['numeric-start', 'numeric-date', 'string-end', 'v'.repeat(2001), 'moved_20261124T090000Z']);
  assert.equal(result.warnings?.length, 8);
  assert.ok(result.warnings!.every((w) => /skipped/.test(w)));
  assert.equal(result.warnings!.filter((w) => /id is over 2000 bytes/.test(w)).length, 2);
  // Entries without an id could be any stored event: the full listing deletes nothing it does not
  // list, and keeps no token, so that the next sync reads the calendar whole again.
  assert.deepEqual([result.isFullSync, result.cursor], [false, null]);
});

test('Google: a cancelled entry is read by the fields its removal needs: a garbled start or end does not keep it, a garbled originalStartTime of a cancelled instance does', async () => {
  // The events resource (developers.google.com/calendar/api/v3/reference/events, `status`): a deleted
  // event is only sure to carry its id, a cancelled exception its id, recurringEventId and
  // originalStartTime; the other fields may be anything.
  const page = {
    timeZone: 'UTC', nextSyncToken: 'sync-3',
    items: [
      { id: 'deleted-numeric-start', status: 'cancelled', start: { dateTime: 12 }, end: 'later' },
      { id: 'deleted-text-start', status: 'cancelled', start: 'yesterday', originalStartTime: 7 },
      { id: 'weekly_20261124T090000Z', status: 'cancelled', recurringEventId: 'weekly', originalStartTime: { dateTime: '2026-11-24T09:00:00Z' }, start: { date: 20261124 }, end: { dateTime: false } },
      { id: 'weekly_20261201T090000Z', status: 'cancelled', recurringEventId: 'weekly', originalStartTime: { dateTime: 20261201 } },
      { id: 'live-numeric-start', summary: 'Live', start: { dateTime: 12 }, end: { dateTime: '2026-11-24T10:00:00Z' } },
    ],
  };
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify(page) });
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const result = await provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-2' }), { nowMs: 0, horizonMs: 0 });
  assert.deepEqual(result.changes.map((c) => (c.type === 'upsert' ? `${c.event.providerEventId} ${c.event.status} ${new Date(c.event.startMs).toISOString()}${c.event.isAllDay ? ' all day' : ''}` : `-${c.providerEventId}`)),
    ['-deleted-numeric-start', '-deleted-text-start', 'weekly_20261124T090000Z cancelled 2026-11-24T09:00:00.000Z']);
  // Without a readable original start the cancelled occurrence cannot be told apart: it stays as stored; so does a live event with a garbled start.
  assert.deepEqual(result.unreadable, ['weekly_20261201T090000Z', 'live-numeric-start']);
});

test('Google: a live entry without a start, or with one that reads as no date, is kept as stored, not taken as removed (which would cancel its bot)', async () => {
  // The events resource (developers.google.com/calendar/api/v3/reference/events): start and end are
  // required of an event; Google documents no entry without them but a cancelled one.
  const page = {
    timeZone: 'UTC', nextSyncToken: 'sync-4',
    items: [
      { id: 'no-start', summary: 'No start', end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'text-start', summary: 'Text start', start: { dateTime: 'soon' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
      { id: 'bad-date', summary: 'Bad date', start: { date: '2026-13-45' }, end: { date: '2026-11-25' } },
      { id: 'empty-end', summary: 'End without time', start: { dateTime: '2026-11-24T09:00:00Z' }, end: {} },
      { id: 'instance_20261124T090000Z', recurringEventId: 'instance', originalStartTime: { dateTime: '2026-11-24T09:00:00Z' }, summary: 'Occurrence without a start' },
      { id: 'good', summary: 'Good', start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } },
    ],
  };
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify(page) });
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const result = await provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-3' }), { nowMs: 0, horizonMs: 0 });
  assert.deepEqual(result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : `-${c.providerEventId}`)), ['good']);
  assert.deepEqual(result.unreadable, ['no-start', 'text-start', 'bad-date', 'empty-end', 'instance_20261124T090000Z']);
});

test('Google: an incremental listing holding an entry without an id keeps no sync token, so the change it stood for is read by the whole listing that follows', async () => {
  const page = { timeZone: 'UTC', nextSyncToken: 'sync-6', items: [{ summary: 'Moved, id lost', start: { dateTime: '2026-11-24T11:00:00Z' }, end: { dateTime: '2026-11-24T12:00:00Z' } }] };
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify(page) });
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const result = await provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-5' }), { nowMs: 0, horizonMs: 0 });
  assert.deepEqual([result.isFullSync, result.cursor, result.changes.length, result.warnings?.length], [false, null, 0, 1]);
});

test('Graph: entries without a string id, or with a start that is not a date and time, are skipped with a warning; the rest of the round applies', async () => {
  const time = (iso: string) => ({ dateTime: iso, timeZone: 'UTC' });
  const page = {
    '@odata.deltaLink': 'https://graph.test/v1.0/me/calendars/c/calendarView/delta?$deltatoken=next',
    value: [
      null,
      { subject: 'No id', start: time('2026-11-24T09:00:00.0000000'), end: time('2026-11-24T10:00:00.0000000') },
      { id: 7, subject: 'Numeric id', start: time('2026-11-24T09:00:00.0000000'), end: time('2026-11-24T10:00:00.0000000') },
      { id: 'numeric-start', subject: 'Numeric start', start: { dateTime: 12, timeZone: 'UTC' }, end: time('2026-11-24T10:00:00.0000000') },
      { id: 'string-end', subject: 'End as text', start: time('2026-11-24T09:00:00.0000000'), end: 'later' },
      { id: 'good', subject: 'Good', start: time('2026-11-24T09:00:00.0000000'), end: time('2026-11-24T10:00:00.0000000') },
      { id: 'A'.repeat(2001), subject: 'Long id', start: time('2026-11-24T09:00:00.0000000'), end: time('2026-11-24T10:00:00.0000000') },
    ],
  };
  // Read, these would make no change, and a full round would take the events as gone with their bots.
  const startless = [
    { id: 'no-start', subject: 'No start', end: time('2026-11-24T10:00:00.0000000') },
    { id: 'text-start', subject: 'Start as words', start: time('next Tuesday'), end: time('2026-11-24T10:00:00.0000000') },
  ];
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify(page) });
  const provider = new MicrosoftCalendarProvider({ baseUrl: 'https://graph.test/v1.0', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const nowMs = Date.parse('2026-11-20T00:00:00Z');
  const result = await provider.fetchChanges('c', null, { nowMs, horizonMs: 30 * 86_400_000 });
  assert.deepEqual(result.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : `-${c.providerEventId}`)), ['good']);
  assert.deepEqual(result.unreadable, ['numeric-start', 'string-end', 'A'.repeat(2001)]);
  assert.equal(result.warnings?.length, 6);
  assert.match(result.warnings!.at(-1)!, /id is over 2000 bytes/);
  assert.deepEqual([result.isFullSync, result.completeSeries], [false, []], 'entries without an id: nothing unlisted is taken as gone');
  // A new round names no deletions that moving on could lose: its link is kept.
  assert.equal(JSON.parse(result.cursor!).deltaLink, page['@odata.deltaLink']);
  // A round from that link, which could have named one, keeps none: the next read is a new round.
  const next = await provider.fetchChanges('c', result.cursor, { nowMs, horizonMs: 30 * 86_400_000 });
  assert.equal(next.isFullSync, false);
  assert.equal(JSON.parse(next.cursor!).deltaLink, null, 'nor is the delta link past them kept: the next read is a new round');

  // A full round whose entries all have ids: whole, but the events it cannot place in time are kept as stored.
  const full: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify({ ...page, value: [...startless, page.value[5]] }) });
  const whole = await new MicrosoftCalendarProvider({ baseUrl: 'https://graph.test/v1.0', tokens: { get: async () => 't', renew: async () => 't' }, send: full, timeoutMs: 1000, now: () => 0 }).fetchChanges('c', null, { nowMs, horizonMs: 30 * 86_400_000 });
  assert.equal(whole.isFullSync, true);
  assert.deepEqual(whole.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : `-${c.providerEventId}`)), ['good']);
  assert.deepEqual(whole.unreadable, ['no-start', 'text-start']);
  assert.match(whole.warnings!.join('\n'), /no-start without a start it can read; skipped, kept as stored/);
});

test('Graph: a series\' list of instances holding one whose id is over 2,000 bytes: that one is skipped with a warning, the rest read; one without an id still fails the lookup', async () => {
  const time = (iso: string) => ({ dateTime: iso, timeZone: 'UTC' });
  const instance = (id: unknown, start = time('2026-11-24T09:00:00.0000000')) => ({ id, type: 'occurrence', seriesMasterId: 'M', subject: 'Weekly', start, end: time('2026-11-24T10:00:00.0000000') });
  const lookUp = async (value: unknown[], warnings: string[]) => {
    const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify({ value }) });
    const provider = new MicrosoftCalendarProvider({ baseUrl: 'https://graph.test/v1.0', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
    return provider.fetchSeriesInstances('c', 'M', { fromMs: Date.parse('2026-11-20T00:00:00Z'), toMs: Date.parse('2026-12-20T00:00:00Z') }, warnings);
  };
  const warnings: string[] = [];
  const instances = await lookUp([instance('O1'), instance('O'.repeat(2001)), instance('O2')], warnings);
  assert.deepEqual(instances?.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)), ['O1', 'O2']);
  assert.deepEqual(instances?.unreadable, []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /instance of series M whose id is over 2000 bytes; skipped/);
  // Any stored instance could be one without an id: taken as missing from the list, it would be deleted.
  await assert.rejects(lookUp([instance('O1'), instance(undefined)], []), (error: unknown) => error instanceof CalendarProviderError && error.failure.kind === 'transient');
});

test('Graph: a series\' list of instances holding one whose start cannot be read (a zone it does not know, a number): the rest are read and that one is named back to be kept as stored, rather than the lookup failing', async () => {
  const time = (iso: string, timeZone = 'UTC') => ({ dateTime: iso, timeZone });
  const instance = (id: string, start = time('2026-11-24T09:00:00.0000000')) => ({ id, type: 'occurrence', seriesMasterId: 'M', subject: 'Weekly', start, end: time('2026-11-24T10:00:00.0000000') });
  const send: HttpSend = async () => ({ status: 200, headers: {}, body: JSON.stringify({
    value: [instance('O1'), instance('O2', time('2026-12-01T09:00:00.0000000', 'tzone://Microsoft/Custom')), instance('O3', { dateTime: 12 } as never), instance('O4')],
  }) });
  const provider = new MicrosoftCalendarProvider({ baseUrl: 'https://graph.test/v1.0', tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => 0 });
  const warnings: string[] = [];
  const instances = await provider.fetchSeriesInstances('c', 'M', { fromMs: Date.parse('2026-11-20T00:00:00Z'), toMs: Date.parse('2026-12-20T00:00:00Z') }, warnings);
  assert.deepEqual(instances?.changes.map((c) => (c.type === 'upsert' ? c.event.providerEventId : c.providerEventId)), ['O1', 'O4']);
  assert.deepEqual(instances?.unreadable, ['O2', 'O3']);
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /series M: .*O2 without a start it can read/);
});
