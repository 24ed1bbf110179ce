// The bot page's at-risk note names the calendars it cannot be read from, as Calendars names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atRiskCalendarLabels, atRiskCalendarWords, isOnlyRefused } from './at-risk.ts';
import type { AtRiskCalendar } from './types.ts';

const feed: AtRiskCalendar = { calendar_id: 'cal_feed', provider: 'ics', account: 'https://feeds.example/…', provider_calendar_id: null, name: 'Old', cause: 'connection_revoked' };
const colleague: AtRiskCalendar = { calendar_id: 'cal_work', provider: 'outlook', account: 'ana@contoso.example', provider_calendar_id: 'AAMk=', name: 'Colleague', cause: 'calendar_refused' };

test('each calendar is named by its connection as Calendars names it, with what went wrong', () => {
  const names = new Map([['cal_feed', 'Old (feeds.example)'], ['cal_work', 'ana@contoso.example']]);
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

test('a list\'s row names the calendars in short, the provider in words', () => {
  const names = new Map([['cal_feed', 'Old (feeds.example)'], ['cal_work', 'ana@contoso.example']]);
  assert.deepEqual(atRiskCalendarLabels([feed, colleague], names), ['ICS feed Old (feeds.example)', 'Microsoft Outlook calendar Colleague of ana@contoso.example']);
  // Before the connections are read: by the account, or the feed's own name.
  assert.deepEqual(atRiskCalendarLabels([feed, { ...colleague, name: null }], new Map()), ['ICS feed Old', 'Microsoft Outlook calendar AAMk= of ana@contoso.example']);
});
