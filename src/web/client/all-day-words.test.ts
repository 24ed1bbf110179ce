// An all-day occurrence named by its date as the calendar has it, never by its midnight in the
// viewer's zone. `npm run test:unit` runs this file in UTC and in America/Los_Angeles: the second
// is a viewer west of every zone below, who would otherwise read the day before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allDayRangeWords, calendarDateWords, eventWhenTitle, eventWhenWords, formatInstant, formatTimeRange, occurrenceKeyWords, reasonWords } from './format.ts';
import { decisionReasonWords, nameEventsInReason, statusReasonWords, withAllDayOccurrences } from './bot-words.ts';
import { allDayZonesOfEvents, endReasonWords } from './ended-bot.ts';
import { occurrenceKey } from '../../domain/occurrence-key.ts';
import { allDayZone } from '../../domain/all-day.ts';

/** Midnight starting Dec 7, 2026 in Berlin (UTC+1): 23:00 on Dec 6 in UTC, 3 PM on Dec 6 in Los Angeles. */
const BERLIN_DEC_7 = Date.parse('2026-12-06T23:00:00Z');
const BERLIN_KEY = occurrenceKey(BERLIN_DEC_7);
const SERIES = 'evt_offsite0001';
const titles = new Map([[SERIES, 'Offsite']]);
const zones = new Map([[SERIES, 'Europe/Berlin']]);

test('an all-day midnight is read as its date in its own zone, whatever the viewer\'s', () => {
  assert.equal(BERLIN_KEY, '20261206T230000Z');
  assert.equal(calendarDateWords(new Date(BERLIN_DEC_7).toISOString(), 'Europe/Berlin'), 'Dec 7, 2026');
  // Outlook's all-day times are midnights in UTC (allDayZone): the viewer west of UTC reads the same day.
  assert.equal(calendarDateWords('2026-12-07T00:00:00.000Z', allDayZone({ is_all_day: true, platform: 'outlook_calendar', timezone: 'America/New_York' })!), 'Dec 7, 2026');
  // Tonga (UTC+13) is where reading the nearest UTC midnight would be a day out.
  assert.equal(calendarDateWords('2026-12-06T11:00:00.000Z', 'Pacific/Tongatapu'), 'Dec 7, 2026');
  assert.equal(calendarDateWords('2026-12-07T00:00:00.000Z', 'Not/A_Zone'), 'Dec 7, 2026', 'a zone the browser does not know is read as UTC');
});

test('an occurrence key of an all-day series is its date, with no time; a timed series\' key keeps its local time', () => {
  assert.equal(occurrenceKeyWords(BERLIN_KEY, 'Europe/Berlin'), 'Dec 7, 2026');
  assert.equal(occurrenceKeyWords(BERLIN_KEY), formatTimeRange('2026-12-06T23:00:00.000Z', null));
  assert.equal(occurrenceKeyWords('not-a-key', 'Europe/Berlin'), 'not-a-key');
});

test('the days of an all-day event: one day, or from its first to its last (its end is the midnight after)', () => {
  const endOfDay = new Date(BERLIN_DEC_7 + 86_400_000).toISOString();
  assert.equal(allDayRangeWords(new Date(BERLIN_DEC_7).toISOString(), endOfDay, 'Europe/Berlin'), 'Dec 7, 2026');
  const threeDays = new Date(BERLIN_DEC_7 + 3 * 86_400_000).toISOString();
  // Intl puts thin spaces around the dash.
  assert.match(allDayRangeWords(new Date(BERLIN_DEC_7).toISOString(), threeDays, 'Europe/Berlin'), /^Dec 7\s–\s9, 2026$/);
  // The day of the spring change (Berlin, Mar 28, 2027) has 23 hours: from midnight in winter
  // time (23:00Z the day before) to midnight in summer time (22:00Z); the autumn one (Oct 31,
  // 2027) has 25, from 22:00Z the day before to 23:00Z.
  assert.equal(allDayRangeWords('2027-03-27T23:00:00.000Z', '2027-03-28T22:00:00.000Z', 'Europe/Berlin'), 'Mar 28, 2027');
  assert.equal(allDayRangeWords('2027-10-30T22:00:00.000Z', '2027-10-31T23:00:00.000Z', 'Europe/Berlin'), 'Oct 31, 2027');
  assert.equal(eventWhenWords(new Date(BERLIN_DEC_7).toISOString(), endOfDay, 'Europe/Berlin'), 'Dec 7, 2026');
  assert.equal(eventWhenWords('2026-12-07T10:00:00.000Z', '2026-12-07T11:00:00.000Z', null), formatTimeRange('2026-12-07T10:00:00.000Z', '2026-12-07T11:00:00.000Z'));
});

test('a reason naming an all-day occurrence by its id says its series\' title and its date', () => {
  const reason = `Unscheduled from the dashboard (occurrence ${SERIES}_${BERLIN_KEY})`;
  assert.equal(nameEventsInReason(reason, titles, 'id', zones), 'Unscheduled from the dashboard (occurrence of “Offsite” on Dec 7, 2026)');
  assert.equal(nameEventsInReason(reason, new Map(), 'its', zones), 'Unscheduled from the dashboard (occurrence of its series on Dec 7, 2026)');
  // Without the zone it is named by its midnight in the viewer's zone, as a timed occurrence is.
  assert.equal(nameEventsInReason(reason, titles), `Unscheduled from the dashboard (occurrence of “Offsite” on ${formatTimeRange('2026-12-06T23:00:00.000Z', null)})`);
});

test('a reason naming an all-day occurrence by its key beside its series says its date', () => {
  const reason = `The occurrence ${BERLIN_KEY} of series ${SERIES} was cancelled`;
  assert.equal(withAllDayOccurrences(reason, zones), `The occurrence on Dec 7, 2026 of series ${SERIES} was cancelled`);
  assert.equal(withAllDayOccurrences(reason, new Map([['evt_other', 'UTC']])), reason, 'another series\' keys are left to reasonWords');
  assert.equal(decisionReasonWords({ kind: 'unlinked_event', reason: `${reason}; the bot is already in the meeting and stays until it ends`, details: {} }, { connections: null, eventTitles: titles, identities: [], allDayZones: zones }),
    'The occurrence on Dec 7, 2026 of series “Offsite” was cancelled; the bot is already in the meeting and stays until it ends');
  const gone = `The occurrence ${BERLIN_KEY} of ${SERIES} no longer exists`;
  assert.equal(endReasonWords('Cancelled', gone, titles, zones), 'The occurrence on Dec 7, 2026 of “Offsite” no longer exists');
  // A timed series' key stays in the viewer's local time, as before.
  assert.equal(endReasonWords('Cancelled', gone, titles), `The occurrence on ${formatTimeRange('2026-12-06T23:00:00.000Z', null)} of “Offsite” no longer exists`);
  assert.equal(reasonWords(withAllDayOccurrences(gone, zones)), 'The occurrence on Dec 7, 2026 of evt_offsite0001 no longer exists');
});

test('a list row\'s all-day events by id, for its reason', () => {
  assert.deepEqual([...allDayZonesOfEvents([{ event_id: SERIES, all_day_zone: 'Europe/Berlin' }, { event_id: 'evt_timed', all_day_zone: null }])], [[SERIES, 'Europe/Berlin']]);
});

test('the bot page\'s Status timeline names an all-day occurrence by the same day as its decision log', () => {
  // Dec 11, 2026 in Berlin begins at 23:00Z on Dec 10: the key the server writes.
  const reason = 'The occurrence 20261210T230000Z of series evt_offsite0001 was cancelled';
  const log = decisionReasonWords({ kind: 'cancelled', reason, details: {} }, { connections: null, eventTitles: titles, identities: [], allDayZones: zones });
  assert.equal(log, 'The occurrence on Dec 11, 2026 of series “Offsite” was cancelled');
  assert.equal(statusReasonWords('Cancelled', reason, titles, zones), log);
  // The status is not said twice: "Cancelled from the dashboard" beside Cancelled.
  assert.equal(statusReasonWords('Cancelled', 'Cancelled from the dashboard', titles, zones), 'From the dashboard');
  // By its id (an unscheduled occurrence): its series' title and its date, not the id.
  assert.equal(statusReasonWords('Cancelled', `Unscheduled from the dashboard (occurrence ${SERIES}_20261210T230000Z)`, titles, zones),
    'Unscheduled from the dashboard (occurrence of “Offsite” on Dec 11, 2026)');
  // A timed series' key in the viewer's time, and an event the page did not read by its id.
  assert.equal(statusReasonWords('Cancelled', `Unscheduled from the dashboard (occurrence evt_weekly0001_20261210T230000Z)`, new Map(), new Map()),
    `Unscheduled from the dashboard (occurrence of evt_weekly0001 on ${formatTimeRange('2026-12-10T23:00:00.000Z', null)})`);
});

test('the hover text of an all-day event is its days, of a timed one its instants', () => {
  const start = new Date(BERLIN_DEC_7).toISOString();
  assert.equal(eventWhenTitle(start, new Date(BERLIN_DEC_7 + 86_400_000).toISOString(), 'Europe/Berlin'), 'Dec 7, 2026, all day');
  assert.equal(eventWhenTitle('2026-12-07T10:00:00.000Z', '2026-12-07T11:00:00.000Z', null), `${formatInstant('2026-12-07T10:00:00.000Z')} to ${formatInstant('2026-12-07T11:00:00.000Z')}`);
});
