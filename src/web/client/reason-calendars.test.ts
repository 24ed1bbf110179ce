// A decision's reason names the connection it is about by its id and the API's provider word; the
// bot page names it as Calendars does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameCalendarsInReason, reasonNamesConnection } from './reason-calendars.ts';
import type { Connection } from './types.ts';

function connection(fields: Partial<Connection> & Pick<Connection, 'calendar_id' | 'provider'>): Connection {
  return {
    user_email: null, user_name: null, ics_url: null, status: 'active', last_sync_at: null, last_error: null, last_error_at: null, sync_failing_since: null,
    sync_failing_reported_at: null, failing_calendars: null, next_sync_at: null, push_enabled: false, calendars: [], ...fields,
  };
}

const calendar = (id: string, summary: string | null) => ({ id, summary, isPrimary: false, push: { active: false, channel_id: null, expires_at: null, last_notification_at: null, error: null }, read_error: null, next_read_at: null, access_refused_since: null });
const outlook = connection({ calendar_id: 'cal_work1', provider: 'outlook', user_email: 'ana@contoso.example', calendars: [calendar('AAMk1=', 'Calendar'), calendar('AAMk2=', 'Colleague')] });
const feed = connection({ calendar_id: 'cal_feed1', provider: 'ics', ics_url: 'feeds.example', calendars: [calendar('feed', 'Team')] });
const google = connection({ calendar_id: 'cal_goog1', provider: 'google', user_email: 'bo@example.com' });

const REVOKED = 'Calendar access lost: calendar connection cal_work1 (microsoft) lost its access, so Rollcall can no longer see whether this meeting still exists.';

test('a connection is named by its account and the provider in words, a feed by its own name', () => {
  const all = [outlook, feed, google];
  assert.equal(nameCalendarsInReason(REVOKED, all),
    'Calendar access lost: the Microsoft Outlook account ana@contoso.example lost its access, so Rollcall can no longer see whether this meeting still exists.');
  assert.equal(nameCalendarsInReason('calendar connection cal_feed1 (ics) lost its access', all), 'the ICS feed Team (feeds.example) lost its access');
  assert.equal(nameCalendarsInReason('the calendar of this meeting in connection cal_goog1 (google) refuses its reader', all),
    'the calendar of this meeting in the Google Calendar account bo@example.com refuses its reader');
  // At the start of a sentence, and without the provider beside the id.
  assert.equal(nameCalendarsInReason('Calendar connection cal_feed1 has its access again; the bot launches as planned', all),
    'The ICS feed Team (feeds.example) has its access again; the bot launches as planned');
});

test('the calendars of a failing sync are named as the account names them', () => {
  assert.equal(nameCalendarsInReason('calendar connection cal_work1 (microsoft), calendars AAMk2=, AAMk9=, has failed to sync', [outlook]),
    'the Microsoft Outlook account ana@contoso.example, calendars Colleague, AAMk9=, has failed to sync');
  assert.equal(nameCalendarsInReason('calendar connection cal_work1 (microsoft), calendar AAMk2=, has failed to sync', [outlook]),
    'the Microsoft Outlook account ana@contoso.example, calendar Colleague, has failed to sync');
});

const FAILING = 'Calendar not syncing: calendar connection cal_work1 (microsoft), calendar AAMk2=, has failed to sync since Dec 6, 10:00 AM (permanent: calendar AAMk2=: HTTP 403). The bot keeps the meeting as last synced (it was connected) and launches at its join time unless a sync brings a change first';

test('a failing sync\'s quoted error says its kind in words and names its calendar as the sentence and Calendars do', () => {
  assert.equal(nameCalendarsInReason(FAILING, [outlook], { calendar_id: 'cal_work1' }),
    'Calendar not syncing: the Microsoft Outlook account ana@contoso.example, calendar Colleague, has failed to sync since Dec 6, 10:00 AM (Refused: calendar Colleague: HTTP 403). The bot keeps the meeting as last synced (it was connected) and launches at its join time unless a sync brings a change first');
  // Without details (the connection taken from the text), and before the connections are read (the kind in words, the calendar by its id).
  assert.match(nameCalendarsInReason(FAILING, [outlook]), /\(Refused: calendar Colleague: HTTP 403\)\. The bot keeps/);
  assert.match(nameCalendarsInReason(FAILING, null, { calendar_id: 'cal_work1' }), /^Calendar not syncing: calendar connection cal_work1 \(Microsoft Outlook\), calendar AAMk2=, has failed to sync since Dec 6, 10:00 AM \(Refused: calendar AAMk2=: HTTP 403\)\. The bot keeps/);
});

test('the connection a decision\'s details name is the one whose calendars its quoted error is about', () => {
  // A reason whose connection is not where the text is matched: the details still say which it is.
  const other = connection({ calendar_id: 'cal_work2', provider: 'outlook', user_email: 'ana@contoso.example', calendars: [calendar('AAMk2=', 'Board')] });
  const text = 'Its calendar has failed to sync since Dec 6, 10:00 AM (transient: calendar AAMk2=: HTTP 500). The bot keeps the meeting as last synced (it was connected)';
  assert.equal(nameCalendarsInReason(text, [outlook, other], { calendar_id: 'cal_work2' }),
    'Its calendar has failed to sync since Dec 6, 10:00 AM (Temporary failure: calendar Board: HTTP 500). The bot keeps the meeting as last synced (it was connected)');
});

const BOOKED = 'Calendar access lost: the calendars of this bot\'s meetings cannot be read (a connection that lost its access, or a calendar that refuses its reader or is gone), so Rollcall can no longer see whether the meeting still exists. Unless access returns before Dec 9, 10:00 AM, the bot will not be launched';

test('a bot booked at risk: the calendars its decision\'s details name, named as Calendars names them, in place of the general words', () => {
  const details = { calendars: [{ calendar_id: 'cal_work1', provider: 'outlook', provider_calendar_id: 'AAMk2=', cause: 'calendar_refused' }, { calendar_id: 'cal_feed1', provider: 'ics', provider_calendar_id: null, cause: 'connection_revoked' }], join_at: '2026-12-09T10:00:00.000Z' };
  assert.equal(nameCalendarsInReason(BOOKED, [outlook, feed], details),
    'Calendar access lost: its meeting is only on calendar Colleague of ana@contoso.example, which refuses Rollcall or is gone; and the feed Team (feeds.example), whose access was revoked, so Rollcall can no longer see whether the meeting still exists. Unless access returns before Dec 9, 10:00 AM, the bot will not be launched');
  // A connection not listed (disconnected since), the list not read, or details without calendars: the general words stand.
  assert.equal(nameCalendarsInReason(BOOKED, [outlook], details), BOOKED);
  assert.equal(nameCalendarsInReason(BOOKED, null, details), BOOKED);
  assert.equal(nameCalendarsInReason(BOOKED, [outlook, feed], { join_at: '2026-12-09T10:00:00.000Z' }), BOOKED);
  assert.equal(nameCalendarsInReason(BOOKED, [outlook, feed], { calendars: [{ calendar_id: 7 }] }), BOOKED);
});

test('an account without an address goes by its owner\'s name, else says it has none', () => {
  const named = connection({ calendar_id: 'cal_goog2', provider: 'google', user_name: 'Bo Li' });
  const bare = connection({ calendar_id: 'cal_goog3', provider: 'google' });
  assert.equal(nameCalendarsInReason('calendar connection cal_goog2 (google) lost its access', [named, bare]), 'the Google Calendar account Bo Li lost its access');
  assert.equal(nameCalendarsInReason('calendar connection cal_goog3 (google) lost its access', [named, bare]), 'the Google Calendar account without an email address lost its access');
  // Two such accounts are told apart by the ends of their ids, as Calendars tells them apart.
  const other = connection({ calendar_id: 'cal_goog4', provider: 'google' });
  assert.equal(nameCalendarsInReason('calendar connection cal_goog3 (google) lost its access', [bare, other]), 'the Google Calendar account without an email address · id …_goog3 lost its access');
});

test('a connection disconnected since is said to be, by its id; before the connections are read, the provider is said in words', () => {
  assert.equal(nameCalendarsInReason(REVOKED, [feed]),
    'Calendar access lost: a Microsoft Outlook connection since disconnected (cal_work1, its name is no longer known) lost its access, so Rollcall can no longer see whether this meeting still exists.');
  assert.equal(nameCalendarsInReason('calendar connection cal_feed1 (ics) lost its access', []), 'an ICS feed connection since disconnected (cal_feed1, its name is no longer known) lost its access');
  assert.equal(nameCalendarsInReason('Calendar connection cal_work1 syncs again', []), 'A calendar connection since disconnected (cal_work1, its name is no longer known) syncs again');
  assert.equal(nameCalendarsInReason(REVOKED, null),
    'Calendar access lost: calendar connection cal_work1 (Microsoft Outlook) lost its access, so Rollcall can no longer see whether this meeting still exists.');
});

test('reasons that name no connection are left as they are', () => {
  const text = 'Calendar access lost: the calendars of this bot\'s meetings cannot be read (a connection that lost its access, or a calendar that refuses its reader or is gone)';
  assert.equal(nameCalendarsInReason(text, [outlook]), text);
  assert.equal(reasonNamesConnection(text), false);
  assert.equal(reasonNamesConnection(REVOKED), true);
});
