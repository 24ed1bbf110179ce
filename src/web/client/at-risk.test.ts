// The bot page's at-risk note names the calendars it cannot be read from, as Calendars names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atRiskCalendarLabels, atRiskCalendarWords, atRiskSummary, isOnlyRefused } from './at-risk.ts';
import { connectionNamesWithKinds, type ConnectionName } from './connection-names.ts';
import type { AtRiskCalendar, Connection } from './types.ts';

const feed: AtRiskCalendar = { calendar_id: 'cal_feed', provider: 'ics', account: 'https://feeds.example/…', provider_calendar_id: null, name: 'Old', cause: 'connection_revoked' };
const colleague: AtRiskCalendar = { calendar_id: 'cal_work', provider: 'outlook', account: 'ana@contoso.example', provider_calendar_id: 'AAMk=', name: 'Colleague', cause: 'calendar_refused' };
const team: AtRiskCalendar = { calendar_id: 'cal_goog', provider: 'google', account: 'bo@example.com', provider_calendar_id: 'team@group.calendar.google.com', name: 'Team', cause: 'calendar_refused' };
const NAMES: ReadonlyMap<string, ConnectionName> = new Map([['cal_feed', { text: 'Old (feeds.example)', kind: 'feed' }], ['cal_work', { text: 'ana@contoso.example', kind: 'account' }], ['cal_goog', { text: 'bo@example.com', kind: 'account' }]]);

function connection(fields: Partial<Connection> & Pick<Connection, 'calendar_id' | 'provider'>): Connection {
  return {
    user_email: null, user_name: null, ics_url: null, status: 'active', last_sync_at: null, last_error: null, last_error_at: null, sync_failing_since: null,
    sync_failing_reported_at: null, failing_calendars: null, next_sync_at: null, push_enabled: false, calendars: [], ...fields,
  };
}

test('each calendar is named by its connection as Calendars names it, with what went wrong', () => {
  const names = NAMES;
  assert.equal(atRiskCalendarWords([feed], names), 'the feed Old (feeds.example), whose access was revoked');
  assert.equal(atRiskCalendarWords([feed, colleague], names),
    'the feed Old (feeds.example), whose access was revoked; and calendar Colleague of ana@contoso.example, which refuses Rollcall or is gone');
  assert.equal(atRiskCalendarWords([{ ...colleague, cause: 'connection_revoked' }], names), 'calendar Colleague of ana@contoso.example, whose connection lost its access');
});

test('before the connections are read, a calendar goes by its account; one without a name by its id; a new cause by its code', () => {
  assert.equal(atRiskCalendarWords([{ ...colleague, name: null }], new Map()), 'calendar AAMk= of ana@contoso.example, which refuses Rollcall or is gone');
  // A feed by its own name, which the API gives beside its address; without one, by its address.
  assert.equal(atRiskCalendarWords([feed], new Map()), 'the feed Old, whose access was revoked');
  assert.equal(atRiskCalendarWords([{ ...feed, name: null }], new Map()), 'the feed https://feeds.example/…, whose access was revoked');
  assert.equal(atRiskCalendarWords([{ ...feed, name: null, account: null }], new Map()), 'the feed cal_feed, whose access was revoked');
  assert.equal(atRiskCalendarWords([{ ...colleague, cause: 'calendar_deleted' }], new Map()), 'calendar Colleague of ana@contoso.example, which cannot be read (calendar_deleted)');
  assert.equal(atRiskCalendarWords([], new Map()), 'a calendar whose access was lost');
});

test('only calendars that refuse their reader: access to them is what to fix', () => {
  assert.equal(isOnlyRefused([colleague]), true);
  assert.equal(isOnlyRefused([colleague, feed]), false);
  assert.equal(isOnlyRefused([]), false);
});

test('a list\'s row names the calendars in short, what each is in words', () => {
  assert.deepEqual(atRiskCalendarLabels([feed, colleague, team], NAMES),
    ['ICS feed Old (feeds.example)', 'Outlook calendar Colleague of ana@contoso.example', 'Google calendar Team of bo@example.com']);
  // Before the connections are read: by the account, or the feed's own name.
  assert.deepEqual(atRiskCalendarLabels([feed, { ...colleague, name: null }], new Map()), ['ICS feed Old', 'Outlook calendar AAMk= of ana@contoso.example']);
});

test('an account without an email address is "the" account the words describe, in the note and in a list\'s row', () => {
  const names = connectionNamesWithKinds([connection({ calendar_id: 'cal_goog', provider: 'google' }), connection({ calendar_id: 'cal_work', provider: 'outlook', user_name: 'Ana Lima' })]);
  const work: AtRiskCalendar = { ...team, account: null, name: 'Work', cause: 'connection_revoked' };
  assert.equal(atRiskCalendarWords([work], names), 'calendar Work of the Google Calendar account without an email address, whose connection lost its access');
  assert.deepEqual(atRiskCalendarLabels([work], names), ['Google calendar Work of the Google Calendar account without an email address']);
  // An owner's name is a name: no article.
  assert.deepEqual(atRiskCalendarLabels([{ ...colleague, account: null }], names), ['Outlook calendar Colleague of Ana Lima']);
});

test('a list\'s row says what went wrong and what follows, in short', () => {
  assert.equal(atRiskSummary([feed]), 'Feed access revoked: cancelled at its join time unless access returns.');
  assert.equal(atRiskSummary([{ ...team, cause: 'connection_revoked' }]), 'Account lost its access: cancelled at its join time unless access returns.');
  assert.equal(atRiskSummary([colleague, team, feed]), 'Calendar refuses Rollcall or is gone and feed access revoked: cancelled at its join time unless access returns.');
  assert.equal(atRiskSummary([]), 'Calendar access lost: cancelled at its join time unless access returns.');
});
