import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentLine, parseIcs } from './ics-parser.ts';
import { expandSeries } from '../../domain/recurrence.ts';

const NOW = Date.parse('2026-11-20T00:00:00Z');

function feed(...body: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...body, 'END:VCALENDAR'].join('\r\n');
}

test('content lines: quoted parameters may hold ":" and ";", values keep their colons', () => {
  const line = parseContentLine('DTSTART;TZID="America/New_York;odd:name";VALUE=DATE-TIME:20261124T090000');
  assert.deepEqual([line?.name, line?.params.get('TZID'), line?.params.get('VALUE'), line?.value], ['DTSTART', 'America/New_York;odd:name', 'DATE-TIME', '20261124T090000']);
  assert.equal(parseContentLine('URL:https://zoom.us/j/1?pwd=a:b')?.value, 'https://zoom.us/j/1?pwd=a:b');
});

test('folded lines are unfolded and text escapes undone', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:1', 'DTSTART:20261124T140000Z', 'DTEND:20261124T150000Z',
    'SUMMARY:Budget\\, Q4\\; final', 'DESCRIPTION:Line one\\nJoin https://meet.goog', ' le.com/abc-defg-hij', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.equal(events[0]!.title, 'Budget, Q4; final');
  assert.equal(events[0]!.description, 'Line one\nJoin https://meet.google.com/abc-defg-hij');
});

test('UTC, TZID, floating (X-WR-TIMEZONE) and all-day times; DURATION instead of DTEND', () => {
  const { events } = parseIcs(feed(
    'X-WR-TIMEZONE:America/New_York',
    'BEGIN:VEVENT', 'UID:utc', 'DTSTART:20261124T140000Z', 'DURATION:PT45M', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:tz', 'DTSTART;TZID=Europe/Berlin:20261124T090000', 'DTEND;TZID=Europe/Berlin:20261124T100000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:floating', 'DTSTART:20261124T090000', 'DTEND:20261124T093000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:allday', 'DTSTART;VALUE=DATE:20261126', 'END:VEVENT',
  ), { nowMs: NOW });
  const byId = new Map(events.map((e) => [e.providerEventId, e]));
  assert.equal(byId.get('utc')!.endMs - byId.get('utc')!.startMs, 45 * 60_000);
  assert.equal(new Date(byId.get('tz')!.startMs).toISOString(), '2026-11-24T08:00:00.000Z');
  assert.equal(byId.get('tz')!.timeZone, 'Europe/Berlin');
  assert.equal(new Date(byId.get('floating')!.startMs).toISOString(), '2026-11-24T14:00:00.000Z');
  assert.equal(byId.get('allday')!.isAllDay, true);
  assert.equal(new Date(byId.get('allday')!.startMs).toISOString(), '2026-11-26T05:00:00.000Z');
  assert.equal(byId.get('allday')!.endMs - byId.get('allday')!.startMs, 24 * 3_600_000);
});

test('a VTIMEZONE with a Windows or made-up name becomes the IANA zone with the same rules', () => {
  const vtimezone = (tzid: string) => [
    'BEGIN:VTIMEZONE', `TZID:${tzid}`,
    'BEGIN:STANDARD', 'DTSTART:16011104T020000', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010311T020000', 'RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'END:DAYLIGHT',
    'END:VTIMEZONE',
  ];
  const { events, warnings } = parseIcs(feed(
    ...vtimezone('Eastern Standard Time'), ...vtimezone('Company HQ time'),
    'BEGIN:VEVENT', 'UID:win', 'DTSTART;TZID=Eastern Standard Time:20260706T090000', 'DTEND;TZID=Eastern Standard Time:20260706T100000', 'RRULE:FREQ=DAILY;COUNT=2', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:custom', 'DTSTART;TZID=Company HQ time:20260706T090000', 'DTEND;TZID=Company HQ time:20260706T100000', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(warnings, []);
  assert.equal(events[0]!.timeZone, 'America/New_York');
  assert.equal(new Date(events[0]!.startMs).toISOString(), '2026-07-06T13:00:00.000Z');
  assert.equal(events[1]!.timeZone, 'America/New_York');
  assert.equal(new Date(events[1]!.startMs).toISOString(), '2026-07-06T13:00:00.000Z');
});

test('RRULE, EXDATE and RDATE become recurrence lines in the series zone; they expand across DST', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:weekly', 'DTSTART;TZID=Europe/Berlin:20261019T090000', 'DTEND;TZID=Europe/Berlin:20261019T100000',
    'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20261102T090000', 'RDATE;TZID=Europe/Berlin:20261030T090000', 'END:VEVENT',
  ), { nowMs: NOW });
  const series = events[0]!;
  assert.deepEqual(series.recurrence, ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;TZID=Europe/Berlin:20261102T090000', 'RDATE;TZID=Europe/Berlin:20261030T090000']);
  const starts = expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone!, recurrence: series.recurrence! }, { fromMs: 0, toMs: Date.parse('2027-01-01T00:00:00Z') })
    .map((o) => new Date(o.startMs).toISOString());
  // 09:00 Berlin stays 09:00 after the switch to winter time on 25 October.
  assert.deepEqual(starts, ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z', '2026-10-30T08:00:00.000Z', '2026-11-09T08:00:00.000Z']);
});

test('RECURRENCE-ID overrides and STATUS:CANCELLED', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:s', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', 'RRULE:FREQ=DAILY;COUNT=5', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20261125T090000Z', 'DTSTART:20261125T120000Z', 'DTEND:20261125T130000Z', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID:20261126T090000Z', 'DTSTART:20261126T090000Z', 'DTEND:20261126T100000Z', 'STATUS:CANCELLED', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:gone', 'DTSTART:20261127T090000Z', 'DTEND:20261127T100000Z', 'STATUS:CANCELLED', 'END:VEVENT',
  ), { nowMs: NOW });
  const moved = events.find((e) => e.originalStartMs === Date.parse('2026-11-25T09:00:00Z'))!;
  assert.equal(moved.seriesProviderEventId, 's');
  assert.equal(moved.providerEventId, 's|20261125T090000Z');
  assert.equal(new Date(moved.startMs).toISOString(), '2026-11-25T12:00:00.000Z');
  assert.equal(events.find((e) => e.originalStartMs === Date.parse('2026-11-26T09:00:00Z'))!.status, 'cancelled');
  assert.equal(events.find((e) => e.providerEventId === 'gone')!.status, 'cancelled');
});

test('conference links: X-GOOGLE-CONFERENCE wins; an unknown TZID is read as UTC with a warning', () => {
  const { events, warnings } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:c', 'DTSTART;TZID=Mars/Olympus:20261124T090000', 'DTEND;TZID=Mars/Olympus:20261124T100000',
    'X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij', 'LOCATION:Room 1', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.equal(events[0]!.conferenceUrl, 'https://meet.google.com/abc-defg-hij');
  assert.equal(new Date(events[0]!.startMs).toISOString(), '2026-11-24T09:00:00.000Z');
  assert.match(warnings[0]!, /Mars\/Olympus/);
});

test('a broken VEVENT is skipped, the rest of the feed is kept; a non-calendar is refused', () => {
  const { events, warnings } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:bad', 'DTSTART:not-a-date', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:good', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(events.map((e) => e.providerEventId), ['good']);
  assert.equal(warnings.length, 1);
  assert.throws(() => parseIcs('<html>nope</html>', { nowMs: NOW }), /not an iCalendar feed/);
});
