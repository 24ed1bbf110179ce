import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcsParseError, parseContentLine, parseIcs, parseIcsYielding, ZoneNameChecks } from './ics-parser.ts';
import { FeedText } from './feed-text.ts';
import { expandSeries, isValidTimeZone } from '../../domain/recurrence.ts';
import { storedZoneRules } from '../../domain/observed-offsets.ts';
import { measureStall } from '../../../test/support/stall-probe.ts';

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

test('an all-day series whose EXDATE and RECURRENCE-ID are midnights in a zone (as Exchange publishes them) names days: the day is removed, the override lands on its day', () => {
  const westEurope = [
    'BEGIN:VTIMEZONE', 'TZID:W. Europe Standard Time',
    'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT',
    'END:VTIMEZONE',
  ];
  for (const feedZone of [[], ['X-WR-TIMEZONE:America/New_York']]) {
    const { events } = parseIcs(feed(...feedZone, ...westEurope,
      'BEGIN:VEVENT', 'UID:offsite', 'DTSTART;VALUE=DATE:20261207', 'DTEND;VALUE=DATE:20261208', 'RRULE:FREQ=DAILY;COUNT=5',
      'EXDATE;TZID=W. Europe Standard Time:20261208T000000', 'EXDATE:20261209T000000Z', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:offsite', 'RECURRENCE-ID;TZID=W. Europe Standard Time:20261210T000000', 'DTSTART;VALUE=DATE:20261214', 'DTEND;VALUE=DATE:20261215', 'SUMMARY:Moved', 'END:VEVENT',
    ), { nowMs: NOW });
    const series = events.find((e) => e.recurrence)!;
    const override = events.find((e) => e.originalStartMs !== null)!;
    const days = expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone!, recurrence: series.recurrence! }, { fromMs: NOW, toMs: Date.parse('2027-01-01') })
      .map((o) => o.originalStartMs);
    const day = (d: string) => series.startMs + (Date.parse(d) - Date.parse('2026-12-07'));
    assert.deepEqual(days, [day('2026-12-07'), day('2026-12-10'), day('2026-12-11')], String(feedZone));
    assert.equal(override.originalStartMs, day('2026-12-10'), String(feedZone));
  }
});

test('a Windows TZID beside its VTIMEZONE: the definition decides when the name\'s mapping disagrees with it; without one, the name maps', () => {
  // Outlook writes the Windows zone's own rules. "Central Asia Standard Time" is UTC+6 all year;
  // an out-of-date mapping (Asia/Almaty, UTC+5 since 2024) would put the meeting an hour off.
  const fixed = (tzid: string, offset: string) => [
    'BEGIN:VTIMEZONE', `TZID:${tzid}`,
    'BEGIN:STANDARD', 'DTSTART:16010101T000000', `TZOFFSETFROM:${offset}`, `TZOFFSETTO:${offset}`, 'END:STANDARD',
    'END:VTIMEZONE',
  ];
  const { events, warnings } = parseIcs(feed(
    ...fixed('Central Asia Standard Time', '+0600'), ...fixed('Mountain Standard Time (Mexico)', '-0700'),
    'BEGIN:VEVENT', 'UID:astana', 'DTSTART;TZID=Central Asia Standard Time:20260706T090000', 'DTEND;TZID=Central Asia Standard Time:20260706T100000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:mazatlan', 'DTSTART;TZID=Mountain Standard Time (Mexico):20260706T090000', 'DTEND;TZID=Mountain Standard Time (Mexico):20260706T100000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:bare', 'DTSTART;TZID=Egypt Standard Time:20260106T090000', 'DTEND;TZID=Egypt Standard Time:20260106T100000', 'END:VEVENT',
    // A feed that defines a Windows name with rules other than the zone it maps to (Moscow's
    // UTC+4 of 2011-2014, as an export of that time carries): the feed's own definition times it.
    ...fixed('Russian Standard Time', '+0400'),
    'BEGIN:VEVENT', 'UID:moscow', 'DTSTART;TZID=Russian Standard Time:20260706T090000', 'DTEND;TZID=Russian Standard Time:20260706T100000', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(warnings, []);
  const byUid = new Map(events.map((e) => [e.providerEventId, e]));
  assert.equal(new Date(byUid.get('astana')!.startMs).toISOString(), '2026-07-06T03:00:00.000Z');
  assert.equal(new Date(byUid.get('mazatlan')!.startMs).toISOString(), '2026-07-06T16:00:00.000Z');
  assert.equal(new Date(byUid.get('moscow')!.startMs).toISOString(), '2026-07-06T05:00:00.000Z');
  // No definition in the feed: the name alone (CLDR), Cairo at UTC+2 in January.
  assert.equal(byUid.get('bare')!.timeZone, 'Africa/Cairo');
  assert.equal(new Date(byUid.get('bare')!.startMs).toISOString(), '2026-01-06T07:00:00.000Z');
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

test('a series whose DTSTART falls in a spring-forward gap: the first occurrence an hour on (RFC 5545 3.3.5), every later one at the time written', () => {
  // New York skips 02:00-03:00 on 14 March 2027. RFC 5545 3.3.5 reads 02:30 that night as 03:30
  // EDT; the rule's time of day is still 02:30 (3.3.10: absent BYHOUR/BYMINUTE/BYSECOND come from
  // DTSTART as written), so the next days are at 02:30 EDT, where the feed's own EXDATE and
  // RECURRENCE-ID name them.
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:daily', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T040000',
    'RRULE:FREQ=DAILY;COUNT=4', 'EXDATE;TZID=America/New_York:20270316T023000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:daily', 'RECURRENCE-ID;TZID=America/New_York:20270315T023000', 'DTSTART;TZID=America/New_York:20270315T050000',
    'DTEND;TZID=America/New_York:20270315T053000', 'SUMMARY:Moved', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:weekly', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T040000',
    'RRULE:FREQ=WEEKLY;BYDAY=SU,MO;UNTIL=20270322T000000Z', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:hourly', 'DTSTART;TZID=America/New_York:20270314T013000', 'RRULE:FREQ=HOURLY;COUNT=2', 'END:VEVENT',
  ), { nowMs: NOW });
  const starts = (uid: string) => {
    const series = events.find((e) => e.providerEventId === uid)!;
    return expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone!, recurrence: series.recurrence! }, { fromMs: 0, toMs: Date.parse('2027-04-01T00:00:00Z') })
      .map((o) => new Date(o.startMs).toISOString());
  };
  assert.deepEqual(starts('daily'), ['2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z', '2027-03-17T06:30:00.000Z']);
  assert.deepEqual(starts('weekly'), ['2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z', '2027-03-21T06:30:00.000Z']);
  // The override names the occurrence the rule makes on the 15th.
  assert.equal(events.find((e) => e.title === 'Moved')!.originalStartMs, Date.parse('2027-03-15T06:30:00.000Z'));
  // The time written is stated in the rule; a rule that steps by the hour is left as it was.
  assert.deepEqual(events.find((e) => e.providerEventId === 'daily')!.recurrence, ['RRULE:FREQ=DAILY;COUNT=4;BYHOUR=2;BYMINUTE=30;BYSECOND=0', 'EXDATE;TZID=America/New_York:20270316T023000']);
  assert.deepEqual(events.find((e) => e.providerEventId === 'hourly')!.recurrence, ['RRULE:FREQ=HOURLY;COUNT=2']);
  assert.deepEqual(starts('hourly'), ['2027-03-14T06:30:00.000Z', '2027-03-14T07:30:00.000Z']);
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

test('RECURRENCE-ID;RANGE=THISANDFUTURE overrides its one occurrence, keeps the later ones, and says so in the warnings', () => {
  // RFC 5545 3.8.4.4 and 3.2.13 (RANGE=THISANDFUTURE); the shape of libical issue 185's example,
  // a RANGE beside a TZID.
  const { events, warnings } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:s', 'DTSTART;TZID=Europe/Berlin:20261201T090000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=4', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s', 'RECURRENCE-ID;TZID=Europe/Berlin;RANGE=THISANDFUTURE:20261202T090000', 'DTSTART;TZID=Europe/Berlin:20261202T110000', 'DURATION:PT1H', 'END:VEVENT',
  ), { nowMs: NOW });
  const series = events.find((e) => e.recurrence)!;
  const starts = expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone!, recurrence: series.recurrence! }, { fromMs: 0, toMs: Date.parse('2027-01-01T00:00:00Z') })
    .map((o) => new Date(o.startMs).toISOString());
  assert.deepEqual(starts, ['2026-12-01T08:00:00.000Z', '2026-12-02T08:00:00.000Z', '2026-12-03T08:00:00.000Z', '2026-12-04T08:00:00.000Z']);
  const override = events.find((e) => e.originalStartMs !== null)!;
  assert.deepEqual([override.providerEventId, new Date(override.startMs).toISOString()], ['s|20261202T080000Z', '2026-12-02T10:00:00.000Z']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /s\|20261202T080000Z: RECURRENCE-ID;RANGE=THISANDFUTURE is read as a change to that one occurrence/);
});

test('a DTEND, EXDATE, RDATE or RECURRENCE-ID without a zone is read in its DTSTART\'s zone, not the feed\'s', () => {
  // Written by a tool that drops the TZID of these (sabre/vobject issue 722); the feed has no
  // X-WR-TIMEZONE, so the feed's own zone would be UTC, an hour off Berlin's 09:00.
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:w', 'DTSTART;TZID=Europe/Berlin:20261102T090000', 'DTEND:20261102T100000',
    'RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE:20261109T090000', 'RDATE:20261111T090000', 'END:VEVENT',
    // Moved to a New York afternoon: its RECURRENCE-ID still names the series' 09:00 Berlin.
    'BEGIN:VEVENT', 'UID:w', 'RECURRENCE-ID:20261116T090000', 'DTSTART;TZID=America/New_York:20261116T090000', 'DTEND;TZID=America/New_York:20261116T100000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:w', 'RECURRENCE-ID:20261123T090000', 'DTSTART;TZID=Europe/Berlin:20261123T090000', 'DTEND;TZID=Europe/Berlin:20261123T100000', 'STATUS:CANCELLED', 'END:VEVENT',
  ), { nowMs: NOW });
  const series = events.find((e) => e.originalStartMs === null)!;
  assert.equal(series.endMs - series.startMs, 3_600_000, 'DTEND at 10:00 Berlin: an hour');
  const starts = expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone!, recurrence: series.recurrence! }, { fromMs: 0, toMs: Date.parse('2027-01-01T00:00:00Z') })
    .map((o) => new Date(o.startMs).toISOString());
  // 9 November excluded, 11 November added, each at 09:00 Berlin (08:00 UTC).
  assert.deepEqual(starts, ['2026-11-02T08:00:00.000Z', '2026-11-11T08:00:00.000Z', '2026-11-16T08:00:00.000Z', '2026-11-23T08:00:00.000Z']);
  // The overrides name the occurrences they replace: 09:00 Berlin.
  assert.deepEqual(events.filter((e) => e.originalStartMs !== null).map((e) => [new Date(e.originalStartMs!).toISOString(), e.status]),
    [['2026-11-16T08:00:00.000Z', 'confirmed'], ['2026-11-23T08:00:00.000Z', 'cancelled']]);
});

test('a TZID with a prefix before its zone name is read in that zone, also without a VTIMEZONE', () => {
  const { events, warnings } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:citadel', 'DTSTART;TZID=/citadel.org/20190903_1/Europe/Berlin:20261124T090000', 'DURATION:PT1H', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:mozilla', 'DTSTART;TZID=/mozilla.org/20050126_1/America/Argentina/Buenos_Aires:20261124T090000', 'DURATION:PT1H', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:label', 'DTSTART;TZID="(UTC+01:00) Europe/Berlin":20261124T090000', 'DURATION:PT1H', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(warnings, []);
  assert.deepEqual(events.map((e) => [e.providerEventId, e.timeZone, new Date(e.startMs).toISOString()]), [
    ['citadel', 'Europe/Berlin', '2026-11-24T08:00:00.000Z'],
    ['mozilla', 'America/Argentina/Buenos_Aires', '2026-11-24T12:00:00.000Z'],
    ['label', 'Europe/Berlin', '2026-11-24T08:00:00.000Z'],
  ]);
});

test('an event starting in a spring-forward gap keeps the length written: both ends in the gap move an hour on, and an end just past the gap does not cut it to nothing', () => {
  // New York skips 02:00-03:00 on 14 March 2027. RFC 5545 3.3.5 reads a time in the gap by the
  // gap's length later: 02:30 is 03:30 EDT. An end written at 03:00 is a real time, before that.
  const { events } = parseIcs(feed(
    'X-WR-TIMEZONE:America/New_York',
    'BEGIN:VEVENT', 'UID:both-in-gap', 'DTSTART;TZID=America/New_York:20270314T021500', 'DTEND;TZID=America/New_York:20270314T024500', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:ends-at-gap-end', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T030000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:ends-after-gap', 'DTSTART:20270314T023000', 'DTEND:20270314T031500', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:series', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T030000', 'RRULE:FREQ=DAILY;COUNT=2', 'END:VEVENT',
    // Past the gap's end, the end written stands even though shorter than the length written.
    'BEGIN:VEVENT', 'UID:long', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T040000', 'END:VEVENT',
    // An end written before the start stays a meeting of no length.
    'BEGIN:VEVENT', 'UID:backwards', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=America/New_York:20270314T020000', 'END:VEVENT',
  ), { nowMs: NOW });
  const spans = new Map(events.map((e) => [e.providerEventId, [new Date(e.startMs).toISOString(), (e.endMs - e.startMs) / 60_000]]));
  assert.deepEqual(Object.fromEntries(spans), {
    'both-in-gap': ['2027-03-14T07:15:00.000Z', 30],
    'ends-at-gap-end': ['2027-03-14T07:30:00.000Z', 30],
    'ends-after-gap': ['2027-03-14T07:30:00.000Z', 45],
    series: ['2027-03-14T07:30:00.000Z', 30],
    long: ['2027-03-14T07:30:00.000Z', 30],
    backwards: ['2027-03-14T07:30:00.000Z', 0],
  });
  // An end under another TZID (here another name of the same zone) is taken as the instant written.
  const other = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:other-name', 'DTSTART;TZID=America/New_York:20270314T023000', 'DTEND;TZID=/example.org/tz/America/New_York:20270314T030000', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.equal(other.events[0]!.endMs - other.events[0]!.startMs, 0);
});

test('a TZID whose VTIMEZONE matches no IANA zone is read by that VTIMEZONE\'s rules, not in the calendar\'s X-WR-TIMEZONE, which its offsets may be far from', () => {
  // Summer time from the first Sunday of April to the first of September, offsets +0000/+0100:
  // no IANA zone keeps it, and in November it says +0000.
  const odd = ['BEGIN:VTIMEZONE', 'TZID:Custom Office Time',
    'BEGIN:STANDARD', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0000', 'RRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=1SU', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T010000', 'TZOFFSETFROM:+0000', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU', 'END:DAYLIGHT',
    'END:VTIMEZONE'];
  const { events, warnings } = parseIcs(feed('X-WR-TIMEZONE:America/Los_Angeles', ...odd,
    'BEGIN:VEVENT', 'UID:a', 'DTSTART;TZID=Custom Office Time:20261124T100000', 'DURATION:PT1H', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:b', 'DTSTART;TZID=Custom Office Time:20270801T100000', 'DURATION:PT1H', 'END:VEVENT'), { nowMs: NOW });
  assert.deepEqual(events.map((e) => [new Date(e.startMs).toISOString(), e.timeZone]), [['2026-11-24T10:00:00.000Z', 'UTC'], ['2027-08-01T09:00:00.000Z', 'Etc/GMT-1']]);
  assert.match(warnings.join('\n'), /"Custom Office Time" matches no IANA zone; its times are read by its VTIMEZONE's own rules/);
  // Past the limit of definitions compared, one that would match London is not compared, and is
  // read by its own rules too: the same instants as London's.
  const london = ['BEGIN:VTIMEZONE', 'TZID:My London',
    'BEGIN:STANDARD', 'DTSTART:16010101T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T010000', 'TZOFFSETFROM:+0000', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT', 'END:VTIMEZONE'];
  const unmatched = parseIcs(feed('X-WR-TIMEZONE:America/Los_Angeles', ...london,
    'BEGIN:VEVENT', 'UID:b', 'DTSTART;TZID=My London:20261124T100000', 'DURATION:PT1H', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:c', 'DTSTART;TZID=My London:20270615T100000', 'DURATION:PT1H', 'END:VEVENT'), { nowMs: NOW, limits: { maxZoneMatches: 0 } });
  assert.deepEqual(unmatched.events.map((e) => new Date(e.startMs).toISOString()), ['2026-11-24T10:00:00.000Z', '2027-06-15T09:00:00.000Z']);
  // Past the limit of zones read by their own rules, such times are read as UTC, as they were.
  const capped = parseIcs(feed(...london, 'BEGIN:VEVENT', 'UID:c', 'DTSTART;TZID=My London:20270615T100000', 'DURATION:PT1H', 'END:VEVENT'),
    { nowMs: NOW, limits: { maxZoneMatches: 0, maxOwnRuleZones: 0 } });
  assert.equal(new Date(capped.events[0]!.startMs).toISOString(), '2027-06-15T10:00:00.000Z');
  assert.match(capped.warnings.join('\n'), /"My London" is not known; its times are read as UTC \(its VTIMEZONE matches no IANA zone\)/);
});

test('a stream of several calendar objects: the events of each are read, floating times in its own X-WR-TIMEZONE', () => {
  const text = [
    feed('X-WR-CALNAME:Joined', 'X-WR-TIMEZONE:America/New_York', 'BEGIN:VEVENT', 'UID:ny', 'DTSTART:20261124T090000', 'DURATION:PT1H', 'END:VEVENT'),
    feed('X-WR-TIMEZONE:Europe/Berlin',
      'BEGIN:VTIMEZONE', 'TZID:Office', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'END:DAYLIGHT', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:berlin', 'DTSTART:20261124T090000', 'DURATION:PT1H', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:office', 'DTSTART;TZID=Office:20261124T100000', 'DURATION:PT1H', 'END:VEVENT'),
  ].join('\r\n');
  const parsed = parseIcs(text, { nowMs: NOW });
  assert.equal(parsed.name, 'Joined');
  assert.equal(parsed.timeZone, 'America/New_York');
  assert.deepEqual(parsed.events.map((e) => [e.providerEventId, new Date(e.startMs).toISOString()]), [
    ['ny', '2026-11-24T14:00:00.000Z'],
    ['berlin', '2026-11-24T08:00:00.000Z'],
    ['office', '2026-11-24T09:00:00.000Z'],
  ]);
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

test('a TZID nothing resolves, in a feed that states X-WR-TIMEZONE: read in that zone (the calendar\'s own), with a warning; each calendar of a stream in its own', () => {
  // Google's feeds state the calendar's zone so (mangstadt/biweekly issue 90); a made-up TZID
  // with no VTIMEZONE is far likelier to mean the calendar's zone than UTC.
  const { events, warnings } = parseIcs(feed(
    'X-WR-TIMEZONE:Europe/Berlin',
    'BEGIN:VEVENT', 'UID:one', 'DTSTART;TZID=Office local time:20261124T090000', 'DTEND;TZID=Office local time:20261124T100000', 'END:VEVENT',
    // A series across the end of summer time keeps 09:00 Berlin time; its EXDATE names the second day.
    'BEGIN:VEVENT', 'UID:series', 'DTSTART;TZID=Office local time:20261024T090000', 'DTEND;TZID=Office local time:20261024T093000',
    'RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;TZID=Office local time:20261025T090000', 'END:VEVENT',
    'END:VCALENDAR', 'BEGIN:VCALENDAR', 'X-WR-TIMEZONE:America/New_York',
    'BEGIN:VEVENT', 'UID:two', 'DTSTART;TZID=Office local time:20261124T090000', 'DURATION:PT1H', 'END:VEVENT',
  ), { nowMs: NOW });
  const byId = new Map(events.map((e) => [e.providerEventId, e]));
  assert.equal(new Date(byId.get('one')!.startMs).toISOString(), '2026-11-24T08:00:00.000Z');
  assert.equal(new Date(byId.get('one')!.endMs).toISOString(), '2026-11-24T09:00:00.000Z');
  assert.equal(byId.get('one')!.timeZone, 'Europe/Berlin');
  const series = byId.get('series')!;
  assert.equal(series.timeZone, 'Europe/Berlin');
  const occurrences = expandSeries({ startMs: series.startMs, endMs: series.endMs, timeZone: series.timeZone, recurrence: series.recurrence! }, { fromMs: Date.parse('2026-10-01T00:00:00Z'), toMs: Date.parse('2026-11-01T00:00:00Z') });
  assert.deepEqual(occurrences.map((o) => new Date(o.startMs).toISOString()), ['2026-10-24T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  assert.equal(new Date(byId.get('two')!.startMs).toISOString(), '2026-11-24T14:00:00.000Z');
  assert.equal(byId.get('two')!.timeZone, 'America/New_York');
  assert.deepEqual(warnings, [
    'time zone "Office local time" is not known; its times are read in Europe/Berlin, the calendar\'s X-WR-TIMEZONE',
    'time zone "Office local time" is not known; its times are read in America/New_York, the calendar\'s X-WR-TIMEZONE',
  ]);
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

// ---------------------------------------------------------------------------------------------
// Hostile and oversized feeds: limits, linear cost, and slices that leave the event loop free

function vevent(uid: string, ...extra: string[]): string[] {
  return ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTART:20261124T140000Z', 'DTEND:20261124T150000Z', ...extra, 'END:VEVENT'];
}

test('each limit refuses the feed as a whole with a message naming it', () => {
  const refuses = (text: string, limits: Parameters<typeof parseIcs>[1]['limits'], pattern: RegExp) =>
    assert.throws(() => parseIcs(text, { nowMs: NOW, limits }), (error: Error) => error instanceof IcsParseError && pattern.test(error.message));
  const three = feed(...vevent('a'), ...vevent('b'), ...vevent('c'));
  refuses(three, { maxChars: 100 }, /characters long; at most 100 are read/);
  refuses(three, { maxLines: 10 }, /more than 10 content lines/);
  refuses(three, { maxComponents: 3 }, /more than 3 components/);
  refuses(three, { maxEvents: 2 }, /has 3 events; at most 2 are read/);
  refuses(feed(...vevent('a', ...Array.from({ length: 20 }, (_, i) => `ATTENDEE:mailto:p${i}@example.com`))), { maxPropertiesPerComponent: 10 }, /VEVENT component has more than 10 properties \(line 15\)/);
  refuses(feed('BEGIN:VEVENT', 'BEGIN:VALARM', 'BEGIN:X-DEEPER', 'END:X-DEEPER', 'END:VALARM', 'END:VEVENT'), { maxDepth: 3 }, /nests components more than 3 deep \(line 6: BEGIN:X-DEEPER\)/);
  // The same feeds pass under the service's limits.
  assert.equal(parseIcs(three, { nowMs: NOW }).events.length, 3);
});

test('40,000 nested components are refused at the eleventh level, in time proportional to what was read', () => {
  const nested = ['BEGIN:VCALENDAR', ...new Array<string>(40_000).fill('BEGIN:X'), ...new Array<string>(40_000).fill('END:X'), 'END:VCALENDAR'].join('\r\n');
  const began = performance.now();
  assert.throws(() => parseIcs(nested, { nowMs: NOW }), /nests components more than 10 deep \(line 11: BEGIN:X\); a calendar needs 3/);
  assert.ok(performance.now() - began < 1_000);
  // At the limit itself a feed is read: VCALENDAR and nine more levels.
  const ten = ['BEGIN:VCALENDAR', ...new Array<string>(9).fill('BEGIN:X'), ...new Array<string>(9).fill('END:X'), ...vevent('ok'), 'END:VCALENDAR'].join('\r\n');
  assert.deepEqual(parseIcs(ten, { nowMs: NOW }).events.map((e) => e.providerEventId), ['ok']);
});

test('cost grows linearly with the feed: 16x the events take far under 256x the time', () => {
  // (The events joined first: 16,000 of them are too many lines to spread as arguments.)
  const build = (n: number) => feed(Array.from({ length: n }, (_, i) => vevent(`e${i}`, `SUMMARY:Meeting ${i}`, 'BEGIN:VALARM', 'TRIGGER:-PT10M', 'END:VALARM')).flat().join('\r\n'));
  // Main-thread CPU time per parse, best of five: a busy machine inflates the wall clock, not
  // this, and a garbage collection (of this file's earlier tests too) lands in some samples, not
  // all. Thread CPU time can tick as coarsely as 4 ms, so each sample parses the small feed 16
  // times and the large one once: the same work, long enough for the clock to see. The sizes are
  // far apart (linear: 16x, quadratic: 256x) and the bound between them (64x), because a large
  // feed also costs more per event when another process shares the caches (10-15x for 4x the
  // events was seen beside other tests).
  const best = (text: string, repeats: number) => Math.min(...[0, 1, 2, 3, 4].map(() => {
    const before = process.threadCpuUsage();
    for (let i = 0; i < repeats; i++) parseIcs(text, { nowMs: NOW });
    const used = process.threadCpuUsage(before);
    return (used.user + used.system) / repeats;
  }));
  const small = build(1_000);
  const large = build(16_000);
  best(small, 1);
  const ratio = best(large, 1) / best(small, 16);
  assert.ok(ratio < 64, `16,000 events took ${ratio.toFixed(1)}x the time of 1,000`);
});

test('a 19 MB folded value is read in slices: its line kept up to 1 MiB, the event loop never held long', async () => {
  const description = 'Lorem ipsum dolor sit amet. '.repeat(700_000);
  const line = `DESCRIPTION:${description}`;
  const folded = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) folded.push(` ${line.slice(i, i + 74)}`);
  const text = [feed(...vevent('big', 'LOCATION:https://zoom.us/j/1234567890')).replace('END:VEVENT', folded.join('\r\n') + '\r\nEND:VEVENT')].join('');
  // As a fetched feed reaches the parser: in the pieces it was decoded in (outbound-http.ts), cut
  // before the clock starts (the text built here is a rope; flattening it is not the parser's work).
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 65_536) pieces.push(text.slice(i, i + 65_536));
  const { result, stall } = await measureStall(() => parseIcsYielding(new FeedText(pieces), { nowMs: NOW }));
  const event = result.events[0]!;
  assert.equal(event.description!.length, 1_048_576 - 'DESCRIPTION:'.length, 'the line, name included, is kept up to 1 MiB');
  assert.ok(description.startsWith(event.description!));
  assert.equal(event.conferenceUrl, null);
  assert.ok(stall.busyMs < 100, `held the event loop for ${stall.busyMs} ms of work`);
});

test('events with thousands of EXDATEs are built a bounded number of properties per step: 50 events of 6,000 each never hold the event loop long', async () => {
  const events = Array.from({ length: 50 }, (_, e) => ['BEGIN:VEVENT', `UID:e${e}`, 'DTSTART;TZID=Europe/Berlin:20261121T090000', 'RRULE:FREQ=DAILY;COUNT=3',
    ...Array.from({ length: 6_000 }, () => 'EXDATE;TZID=Europe/Berlin:20300101T090000'), 'END:VEVENT'].join('\r\n'));
  const text = feed(...events);
  await parseIcsYielding(feed(...vevent('warm-up')), { nowMs: NOW });
  const { result, stall } = await measureStall(() => parseIcsYielding(text, { nowMs: NOW }));
  console.log(`50 events x 6,000 EXDATEs: longest busy stretch ${stall.busyMs} ms (wall ${stall.wallMs} ms, collector ${stall.gcMs} ms)`);
  assert.equal(result.events.length, 50);
  assert.ok(result.events.every((e) => e.recurrence!.filter((l) => l.startsWith('EXDATE')).length === 6_000));
  assert.ok(stall.busyMs < 100, `held the event loop for ${stall.busyMs} ms of work`);
});

test('zone-name checks: past the budget, a name not listed is taken for no zone unchecked; listed names are always checked', () => {
  const checked: string[] = [];
  const budget = 500;
  const checks = new ZoneNameChecks(budget, (name) => {
    checked.push(name);
    return isValidTimeZone(name);
  });
  assert.equal(checks.isZone('Europe/Berlin'), true);
  for (let i = 0; i < 10_000; i++) assert.equal(checks.isZone(`Made/Up${i}`), false);
  // The made-up names cost `budget` checks, not 10,000, besides Europe/Berlin's.
  assert.equal(checks.made, budget + 1);
  assert.equal(checked.length, budget + 1);
  assert.equal(checked.at(-1), `Made/Up${budget - 1}`);
  assert.equal(checks.refused, 10_000 - budget);
  // Past the budget, listed names are checked still (and once each), aliases included; a
  // listed name the runtime does not have is still no zone.
  for (const name of ['US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta', 'UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'US/Eastern']) assert.equal(checks.isZone(name), true, name);
  assert.equal(checks.isZone('Etc/Unknown'), false);
  assert.deepEqual(checked.slice(budget + 1), ['US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta', 'UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'Etc/Unknown']);
  // A zone written in another case than listed is not listed: refused too, as a made-up name.
  assert.equal(checks.isZone('europe/berlin'), false);
  assert.equal(checked.length, budget + 8);
});

test('zone-name checks: a step ends after 100 checks or 2,000 names refused unchecked', () => {
  const checks = new ZoneNameChecks(150);
  for (let i = 0; i < 99; i++) checks.isZone(`Made/Up${i}`);
  assert.equal(checks.stepIsFull, false);
  checks.isZone('Made/Up99');
  assert.equal(checks.stepIsFull, true);
  checks.stepTaken();
  for (let i = 100; i < 150; i++) checks.isZone(`Made/Up${i}`);
  for (let i = 150; i < 2_149; i++) checks.isZone(`Made/Up${i}`);
  assert.equal(checks.stepIsFull, false, '50 checks and 1,999 refusals');
  checks.isZone('Made/Up2149');
  assert.equal(checks.stepIsFull, true);
});

test('a feed past the budget of unlisted zone-name checks: its other made-up TZIDs fall back as unknown ones do, listed zones and names ending in one still resolve, and the first warning says so', () => {
  const made = Array.from({ length: 30 }, (_, i) => vevent(`made${i}`).map((line) => line.replace('DTSTART:20261124T140000Z', `DTSTART;TZID=Made/Up${i}:20261124T090000`)));
  const text = feed('X-WR-TIMEZONE:America/New_York', ...made.flat(),
    'BEGIN:VEVENT', 'UID:alias', 'DTSTART;TZID=US/Pacific:20261124T090000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:prefixed', 'DTSTART;TZID=/citadel.org/20190903_1/Europe/Berlin:20261124T090000', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:lower-case', 'DTSTART;TZID=europe/berlin:20261124T090000', 'END:VEVENT');
  const zonesOf = (parsed: ReturnType<typeof parseIcs>) => new Map(parsed.events.map((e) => [e.providerEventId, [e.timeZone, new Date(e.startMs).toISOString()]]));
  const cut = parseIcs(text, { nowMs: NOW, limits: { maxUnlistedZoneChecks: 20 } });
  const whole = parseIcs(text, { nowMs: NOW });
  const [cutZones, wholeZones] = [zonesOf(cut), zonesOf(whole)];
  for (let i = 0; i < 30; i++) assert.deepEqual(cutZones.get(`made${i}`), ['America/New_York', '2026-11-24T14:00:00.000Z'], `made${i}`);
  assert.deepEqual(cutZones.get('alias'), ['US/Pacific', '2026-11-24T17:00:00.000Z']);
  assert.deepEqual(cutZones.get('prefixed'), ['Europe/Berlin', '2026-11-24T08:00:00.000Z']);
  // A name in another case than any listed one is checked within the budget only.
  assert.deepEqual(wholeZones.get('lower-case'), ['europe/berlin', '2026-11-24T08:00:00.000Z']);
  assert.deepEqual(cutZones.get('lower-case'), ['America/New_York', '2026-11-24T14:00:00.000Z']);
  for (const id of wholeZones.keys()) if (id !== 'lower-case') assert.deepEqual(cutZones.get(id), wholeZones.get(id), id);
  // Made/Up0..19 checked; Made/Up20..29, /citadel.org/20190903_1/Europe/Berlin, its ends
  // citadel.org/20190903_1/Europe/Berlin and 20190903_1/Europe/Berlin, and europe/berlin not.
  assert.equal(cut.warnings[0], 'time zone names: 20 names that are not listed IANA names were checked, and no more; 14 more were taken for no zone unchecked, as unknown names are');
  assert.ok(!whole.warnings.some((w) => w.startsWith('time zone names:')));
});

test('a UID too long to index stands in by its hash; raw keeps the UID as given', () => {
  const long = `${'u'.repeat(600)}@example.com`;
  const { events } = parseIcs(feed(...vevent(long), 'BEGIN:VEVENT', `UID:${long}`, 'RECURRENCE-ID:20261124T140000Z', 'DTSTART:20261124T160000Z', 'END:VEVENT'), { nowMs: NOW });
  assert.match(events[0]!.providerEventId, /^sha256-[0-9a-f]{64}$/);
  assert.equal((events[0]!.raw as { uid: string }).uid, long);
  assert.equal(events[1]!.seriesProviderEventId, events[0]!.providerEventId);
  assert.equal(parseIcs(feed(...vevent('short@example.com')), { nowMs: NOW }).events[0]!.providerEventId, 'short@example.com');
});

test('warnings are capped; a UID repeated 10,000 times is read in linear time', () => {
  const broken = Array.from({ length: 150 }, (_, i) => ['BEGIN:VEVENT', `UID:bad${i}`, 'DTSTART:nope', 'END:VEVENT']).flat();
  const { warnings } = parseIcs(feed(...broken), { nowMs: NOW });
  assert.equal(warnings.length, 101);
  assert.equal(warnings.at(-1), '50 more warnings not listed');
  // Every other event is a copy of UID "same" at the same start: one event, the last copy.
  const repeats = Array.from({ length: 20_000 }, (_, i) => vevent(i % 2 === 0 ? `same` : `other${i}`, `SUMMARY:copy ${i}`)).flat();
  const began = performance.now();
  const { events } = parseIcs(feed(...repeats), { nowMs: NOW });
  assert.ok(performance.now() - began < 5_000);
  assert.equal(events.length, 10_001);
  assert.equal(events.find((e) => e.providerEventId === 'same')!.title, 'copy 19998');
  // 10,000 copies of one UID at 10,000 starts: 10,000 events.
  const starts = Array.from({ length: 10_000 }, (_, i) => ['BEGIN:VEVENT', 'UID:weekly', `DTSTART:${new Date(NOW + i * 3_600_000).toISOString().replace(/[-:]|\.\d{3}/g, '')}`, 'END:VEVENT']).flat();
  const began2 = performance.now();
  assert.equal(new Set(parseIcs(feed(...starts), { nowMs: NOW }).events.map((e) => e.providerEventId)).size, 10_000);
  assert.ok(performance.now() - began2 < 5_000);
});

// Several VEVENTs with one UID and no RECURRENCE-ID: meetings an exporter gave one UID (every slot
// of a programme item: emfcamp/Website issue 2097; a UID per day: SERG-Delft/serg-delft.github.io
// issue 90), or one event written more than once (nextcloud/calendar issue 4580).
test('a UID written by several VEVENTs without RECURRENCE-ID: each start is its own event, keyed by the UID and that start', () => {
  const copy = (start: string, ...extra: string[]) => ['BEGIN:VEVENT', 'UID:day-2026-11-24@example.com', `DTSTART:${start}`, 'DURATION:PT1H', ...extra, 'END:VEVENT'];
  const { events, warnings } = parseIcs(feed(
    ...copy('20261124T090000Z', 'SUMMARY:Standup', 'URL:https://zoom.us/j/111'),
    ...copy('20261124T140000Z', 'SUMMARY:Review', 'URL:https://zoom.us/j/222'),
    ...vevent('alone@example.com'),
  ), { nowMs: NOW });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.title, e.conferenceUrl]), [
    ['day-2026-11-24@example.com#20261124T090000Z', 'Standup', 'https://zoom.us/j/111'],
    ['day-2026-11-24@example.com#20261124T140000Z', 'Review', 'https://zoom.us/j/222'],
    ['alone@example.com', null, null],
  ]);
  assert.deepEqual(events.map((e) => (e.raw as { uid: string }).uid), ['day-2026-11-24@example.com', 'day-2026-11-24@example.com', 'alone@example.com']);
  assert.match(warnings.join('\n'), /UID day-2026-11-24@example\.com is written by 2 events without RECURRENCE-ID/);

  // While the UID has several copies, a copy keyed by its start keeps its key when a third copy
  // appears, the copies are reordered or one is retitled; a copy moved is a new key (and its old
  // one is gone). A lone copy is keyed by the plain UID, which the sync follows (calendar-sync.ts).
  const again = parseIcs(feed(
    ...copy('20261124T160000Z', 'SUMMARY:Retro'),
    ...copy('20261124T140000Z', 'SUMMARY:Review (renamed)', 'URL:https://zoom.us/j/222'),
    ...copy('20261124T100000Z', 'SUMMARY:Standup', 'URL:https://zoom.us/j/111'),
  ), { nowMs: NOW });
  assert.deepEqual(again.events.map((e) => e.providerEventId), [
    'day-2026-11-24@example.com#20261124T160000Z',
    'day-2026-11-24@example.com#20261124T140000Z',
    'day-2026-11-24@example.com#20261124T100000Z',
  ]);
});

test('copies of a UID at the same start are one event: identical ones, and versions of one event (the highest SEQUENCE, else the last)', () => {
  const copy = (...extra: string[]) => ['BEGIN:VEVENT', 'UID:u1', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', ...extra, 'END:VEVENT'];
  const identical = parseIcs(feed(...copy('SUMMARY:Same'), ...copy('SUMMARY:Same')), { nowMs: NOW });
  assert.deepEqual(identical.events.map((e) => [e.providerEventId, e.title]), [['u1', 'Same']]);
  const versions = parseIcs(feed(...copy('SEQUENCE:2', 'SUMMARY:Newer'), ...copy('SEQUENCE:1', 'SUMMARY:Older')), { nowMs: NOW });
  assert.deepEqual(versions.events.map((e) => [e.providerEventId, e.title]), [['u1', 'Newer']]);
  const unsequenced = parseIcs(feed(...copy('SUMMARY:First'), ...copy('SUMMARY:Second')), { nowMs: NOW });
  assert.deepEqual(unsequenced.events.map((e) => [e.providerEventId, e.title]), [['u1', 'Second']]);
  // Two starts, one of them written twice: two events, each keyed by its start.
  const mixed = parseIcs(feed(...copy('SUMMARY:A'), ...copy('SUMMARY:A'), 'BEGIN:VEVENT', 'UID:u1', 'DTSTART:20261125T090000Z', 'END:VEVENT'), { nowMs: NOW });
  assert.deepEqual(mixed.events.map((e) => e.providerEventId), ['u1#20261124T090000Z', 'u1#20261125T090000Z']);
});

test('a series and single events sharing its UID: the series keeps the UID (its overrides name it), the others are keyed by their start', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:s1', 'DTSTART:20261123T090000Z', 'DURATION:PT30M', 'RRULE:FREQ=WEEKLY;COUNT=4', 'SUMMARY:Weekly', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s1', 'RECURRENCE-ID:20261130T090000Z', 'DTSTART:20261130T100000Z', 'DURATION:PT30M', 'SUMMARY:Weekly (moved)', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:s1', 'DTSTART:20261125T150000Z', 'DURATION:PT30M', 'SUMMARY:Extra', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.seriesProviderEventId, e.title]), [
    ['s1', null, 'Weekly'],
    ['s1|20261130T090000Z', 's1', 'Weekly (moved)'],
    ['s1#20261125T150000Z', null, 'Extra'],
  ]);
});

test('a UID written by two series: each override belongs to the series that has an occurrence at its RECURRENCE-ID', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:w', 'DTSTART:20261123T090000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=4', 'SUMMARY:Mon', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:w', 'DTSTART:20261125T090000Z', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=4', 'SUMMARY:Wed', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:w', 'RECURRENCE-ID:20261202T090000Z', 'DTSTART:20261202T150000Z', 'DURATION:PT1H', 'SUMMARY:Wed moved', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:w', 'RECURRENCE-ID:20261130T090000Z', 'DTSTART:20261130T090000Z', 'DURATION:PT1H', 'STATUS:CANCELLED', 'END:VEVENT',
    // No series has an occurrence there: it names the UID, as an override of nothing does.
    'BEGIN:VEVENT', 'UID:w', 'RECURRENCE-ID:20261201T090000Z', 'DTSTART:20261201T090000Z', 'DURATION:PT1H', 'SUMMARY:Stray', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.seriesProviderEventId, e.title]), [
    ['w#20261123T090000Z', null, 'Mon'],
    ['w#20261125T090000Z', null, 'Wed'],
    ['w|20261202T090000Z', 'w#20261125T090000Z', 'Wed moved'],
    ['w|20261130T090000Z', 'w#20261123T090000Z', null],
    ['w|20261201T090000Z', 'w', 'Stray'],
  ]);
});

test('150 daily series under one UID and 150 overrides none of them has: the search for their series never holds the event loop, and is bounded', async () => {
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const body: string[] = [];
  const base = Date.parse('2016-01-04T09:00:00Z');
  for (let i = 0; i < 150; i++) {
    const start = base + i * 60_000;
    body.push('BEGIN:VEVENT', 'UID:course@x', `DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 1_800_000)}`, 'RRULE:FREQ=DAILY', 'SUMMARY:s', 'END:VEVENT');
  }
  // At a second no series has, so that every series is asked about every override.
  for (let i = 0; i < 150; i++) {
    const at = Date.parse('2026-12-01T09:00:07Z') + i * 86_400_000;
    body.push('BEGIN:VEVENT', 'UID:course@x', `RECURRENCE-ID:${stamp(at)}`, `DTSTART:${stamp(at)}`, `DTEND:${stamp(at + 1_800_000)}`, 'SUMMARY:o', 'END:VEVENT');
  }
  const text = feed(...body);
  const { result, stall } = await measureStall(() => parseIcsYielding(text, { nowMs: NOW }));
  assert.equal(result.events.length, 300);
  assert.ok(stall.busyMs < 100, `held the event loop for ${stall.busyMs} ms (a feed of ${text.length} characters)`);
  assert.ok(result.events.slice(150).every((e) => e.seriesProviderEventId === 'course@x'), 'each override stands alone, naming the UID');
  assert.match(result.warnings.join('\n'), /RECURRENCE-ID overrides of UID course@x were not compared with all of its series/);
});

test('copies of a UID at different starts are different meetings whatever their SEQUENCEs: a programme slot edited with a raised SEQUENCE leaves the other slots', () => {
  const copy = (sequence: number, start: string, title: string) => ['BEGIN:VEVENT', 'UID:m', `SEQUENCE:${sequence}`, `DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:${title}`, 'END:VEVENT'];
  const slots = parseIcs(feed(...copy(0, '20261124T090000Z', 'Workshop'), ...copy(1, '20261125T090000Z', 'Workshop (room B)'), ...copy(0, '20261126T090000Z', 'Workshop')), { nowMs: NOW });
  assert.deepEqual(slots.events.map((e) => [e.providerEventId, e.title]), [
    ['m#20261124T090000Z', 'Workshop'],
    ['m#20261125T090000Z', 'Workshop (room B)'],
    ['m#20261126T090000Z', 'Workshop'],
  ]);
  assert.doesNotMatch(slots.warnings.join('\n'), /SEQUENCE/);
});

test('a weekly series and one of its occurrences re-written without RECURRENCE-ID with a raised SEQUENCE: the series stays, the copy beside it', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:weekly@x', 'SEQUENCE:0', 'DTSTART:20261123T090000Z', 'DTEND:20261123T100000Z', 'RRULE:FREQ=WEEKLY;COUNT=10', 'SUMMARY:Standup', 'LOCATION:https://zoom.us/j/1234567890', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:weekly@x', 'SEQUENCE:1', 'DTSTART:20261130T090000Z', 'DTEND:20261130T100000Z', 'SUMMARY:Standup (agenda)', 'LOCATION:https://zoom.us/j/1234567890', 'END:VEVENT',
  ), { nowMs: NOW });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.title, e.recurrence !== null]), [
    ['weekly@x', 'Standup', true],
    ['weekly@x#20261130T090000Z', 'Standup (agenda)', false],
  ]);
});

test('copies of a UID at one start with one SEQUENCE: the one LAST-MODIFIED (else DTSTAMP) latest is the event, whatever the order written', () => {
  const copy = (title: string, ...extra: string[]) => ['BEGIN:VEVENT', 'UID:v', 'DTSTART:20261124T090000Z', 'DURATION:PT1H', `SUMMARY:${title}`, ...extra, 'END:VEVENT'];
  const byLastModified = parseIcs(feed(
    ...copy('Newer', 'LAST-MODIFIED:20261110T120000Z', 'DTSTAMP:20261101T000000Z'),
    ...copy('Older', 'LAST-MODIFIED:20261105T120000Z', 'DTSTAMP:20261119T000000Z'),
  ), { nowMs: NOW });
  assert.deepEqual(byLastModified.events.map((e) => e.title), ['Newer']);
  const byStamp = parseIcs(feed(...copy('Newer', 'DTSTAMP:20261110T120000Z'), ...copy('Older', 'DTSTAMP:20261105T120000Z')), { nowMs: NOW });
  assert.deepEqual(byStamp.events.map((e) => e.title), ['Newer']);
  // The same stamp (an export writes its own time into every DTSTAMP): the last written.
  const sameStamp = parseIcs(feed(...copy('First', 'DTSTAMP:20261110T120000Z'), ...copy('Second', 'DTSTAMP:20261110T120000Z')), { nowMs: NOW });
  assert.deepEqual(sameStamp.events.map((e) => e.title), ['Second']);
});

test('line breaks CR, LF and CRLF, a byte-order mark, tab folding, stray and missing END lines', () => {
  const text = '\uFEFFBEGIN:VCALENDAR\rBEGIN:VEVENT\nUID:x\r\nDTSTART:20261124T140000Z\r\nSUMMARY:Long\r\n\ttitle\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:y\r\nDTSTART:20261125T140000Z\r\n';
  const { events } = parseIcs(text, { nowMs: NOW });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.title]), [['x', 'Longtitle'], ['y', null]]);
  assert.match((events[0]!.raw as { vevent: string }).vevent, /^BEGIN:VEVENT\nUID:x[\s\S]*END:VEVENT\r\n$/);
});

test('time zones: a VTIMEZONE whose rules are not time-zone rules is not compared; at most 16 are', () => {
  const hostile = ['BEGIN:VTIMEZONE', 'TZID:Hostile', 'BEGIN:STANDARD', 'DTSTART:16011104T020000', 'RRULE:FREQ=SECONDLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'END:STANDARD', 'END:VTIMEZONE'];
  const began = performance.now();
  const { events, warnings } = parseIcs(feed(...hostile, 'BEGIN:VEVENT', 'UID:h', 'DTSTART;TZID=Hostile:20261124T090000', 'END:VEVENT'), { nowMs: NOW });
  assert.ok(performance.now() - began < 1_000);
  assert.equal(events[0]!.timeZone, 'UTC');
  assert.match(warnings[0]!, /"Hostile" is not known/);
  const eastern = (tzid: string) => ['BEGIN:VTIMEZONE', `TZID:${tzid}`,
    'BEGIN:STANDARD', 'DTSTART:16011104T020000', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010311T020000', 'RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'END:DAYLIGHT', 'END:VTIMEZONE'];
  const body = Array.from({ length: 18 }, (_, i) => [...eastern(`Office ${i}`), 'BEGIN:VEVENT', `UID:o${i}`, `DTSTART;TZID=Office ${i}:20260706T090000`, 'END:VEVENT']).flat();
  const many = parseIcs(feed(...body), { nowMs: NOW });
  // Past the 16 compared, the others are read by their own rules: the same instants, at a fixed offset.
  assert.deepEqual(many.events.map((e) => e.timeZone), [...new Array<string>(16).fill('America/New_York'), 'Etc/GMT+4', 'Etc/GMT+4']);
  assert.ok(many.events.every((e) => e.startMs === Date.parse('2026-07-06T13:00:00Z')));
});

test('time zones: a customized definition whose transitions fall at another hour of the same nights is the zone whose days agree', () => {
  // Outlook's "Customized Time Zone": UK offsets, but the autumn change written at 03:00 local
  // (Europe/London changes at 02:00). Its summer meetings are BST, not UTC.
  const customized = [
    'BEGIN:VTIMEZONE', 'TZID:Customized Time Zone',
    'BEGIN:STANDARD', 'DTSTART:16010101T030000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0000', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T010000', 'TZOFFSETFROM:+0000', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3', 'END:DAYLIGHT',
    'END:VTIMEZONE',
  ];
  const summer = ['BEGIN:VEVENT', 'UID:summer', 'DTSTART;TZID=Customized Time Zone:20270615T090000', 'DTEND;TZID=Customized Time Zone:20270615T100000', 'END:VEVENT'];
  const { events, warnings } = parseIcs(feed(...customized, ...summer), { nowMs: NOW });
  assert.deepEqual(warnings, []);
  assert.equal(events[0]!.timeZone, 'Europe/London');
  assert.equal(new Date(events[0]!.startMs!).toISOString(), '2027-06-15T08:00:00.000Z');
});

test('time zones: each definition is the zone whose offsets it keeps, a familiar zone first, or read by its own rules when none keeps them', () => {
  // A definition's zone is found among the zones that have its offset at the first instant
  // compared (kept for every zone); these are the zones every zone compared at every instant gave.
  const definition = (std: string, dst: string | null, [stdRule, dstRule]: readonly string[] = [], [stdAt, dstAt] = ['030000', '020000']) => ['BEGIN:VTIMEZONE', 'TZID:Custom',
    'BEGIN:STANDARD', `DTSTART:16010101T${stdAt}`, `TZOFFSETFROM:${dst ?? std}`, `TZOFFSETTO:${std}`, ...(dst ? [`RRULE:${stdRule}`] : []), 'END:STANDARD',
    ...(dst ? ['BEGIN:DAYLIGHT', `DTSTART:16010101T${dstAt}`, `TZOFFSETFROM:${std}`, `TZOFFSETTO:${dst}`, `RRULE:${dstRule}`, 'END:DAYLIGHT'] : []), 'END:VTIMEZONE'];
  const eu = ['FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3'];
  const us = ['FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', 'FREQ=YEARLY;BYDAY=2SU;BYMONTH=3'];
  const australia = ['FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=10'];
  const cases: Array<[string, string[], [string, string, string, string]]> = [
    ['Berlin-like', definition('+0100', '+0200', eu), ['Europe/Berlin', '2027-01-15T08:00:00.000Z', 'Europe/Berlin', '2027-07-15T07:00:00.000Z']],
    ['New York-like', definition('-0500', '-0400', us, ['020000', '020000']), ['America/New_York', '2027-01-15T14:00:00.000Z', 'America/New_York', '2027-07-15T13:00:00.000Z']],
    ['Outlook\'s, both changes at 03:00', definition('+0100', '+0200', eu, ['030000', '030000']), ['Europe/Berlin', '2027-01-15T08:00:00.000Z', 'Europe/Berlin', '2027-07-15T07:00:00.000Z']],
    ['half-hour, Adelaide-like', definition('+0930', '+1030', australia), ['Australia/Adelaide', '2027-01-14T22:30:00.000Z', 'Australia/Adelaide', '2027-07-14T23:30:00.000Z']],
    ['half-hour, St John\'s-like', definition('-0330', '-0230', us, ['020000', '020000']), ['America/St_Johns', '2027-01-15T12:30:00.000Z', 'America/St_Johns', '2027-07-15T11:30:00.000Z']],
    ['+05:30 all year (a familiar zone)', definition('+0530', null), ['Asia/Kolkata', '2027-01-15T03:30:00.000Z', 'Asia/Kolkata', '2027-07-15T03:30:00.000Z']],
    ['+05:45 all year (not a familiar one)', definition('+0545', null), ['Asia/Katmandu', '2027-01-15T03:15:00.000Z', 'Asia/Katmandu', '2027-07-15T03:15:00.000Z']],
    // Matching nothing: its own rules, stored in a stand-in zone of the offset (UTC for one no zone keeps).
    ['+01:17/+02:17, matching nothing', definition('+0117', '+0217', eu), ['UTC', '2027-01-15T07:43:00.000Z', 'UTC', '2027-07-15T06:43:00.000Z']],
    ['+05:45/+06:45, matching nothing', definition('+0545', '+0645', eu), ['Asia/Katmandu', '2027-01-15T03:15:00.000Z', 'UTC', '2027-07-15T02:15:00.000Z']],
  ];
  // Nepal's zone is listed by the runtime's ICU under its older name, Asia/Katmandu, or under
  // Asia/Kathmandu by a newer one: either is the zone.
  const nepal = (zone: string | null) => (zone === 'Asia/Kathmandu' ? 'Asia/Katmandu' : zone);
  for (const [name, zone, expected] of cases) {
    const { events } = parseIcs(feed(...zone, 'BEGIN:VEVENT', 'UID:winter', 'DTSTART;TZID=Custom:20270115T090000', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:summer', 'DTSTART;TZID=Custom:20270715T090000', 'END:VEVENT'), { nowMs: NOW });
    assert.deepEqual(events.flatMap((e) => [nepal(e.timeZone), new Date(e.startMs).toISOString()]), expected, name);
  }
});

/** US Eastern under its 1987-2006 rules (summer time from the first Sunday of April to the last of October), which no IANA zone keeps now. */
const customEastern = [
  'BEGIN:VTIMEZONE', 'TZID:Customized Time Zone',
  'BEGIN:STANDARD', 'DTSTART:16010101T020000', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'END:STANDARD',
  'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', 'END:DAYLIGHT',
  'END:VTIMEZONE',
];
const customTz = 'TZID=Customized Time Zone';

/** A parsed series as the service expands it: in its zone's own rules when it carries them. */
function definitionOf(e: { startMs: number; endMs: number; timeZone?: string | null; recurrence?: string[] | null; zoneRules?: string | null }) {
  return { startMs: e.startMs, endMs: e.endMs, timeZone: e.timeZone!, recurrence: e.recurrence!, zoneRules: storedZoneRules(e.zoneRules) };
}

function originalStarts(e: Parameters<typeof definitionOf>[0], from: string, to: string): string[] {
  return expandSeries(definitionOf(e), { fromMs: Date.parse(from), toMs: Date.parse(to) }).map((o) => new Date(o.originalStartMs).toISOString());
}

test('time zones: a "Customized Time Zone" no IANA zone matches is read by its own VTIMEZONE rules, a weekly series across its changes included', () => {
  // US Eastern offsets under the rules of 1987-2006, as an Outlook whose zone data predates 2007
  // still exports them. In 2027 New York changes on 14 March and 7 November instead.
  const { events, warnings } = parseIcs(feed(...customEastern,
    'BEGIN:VEVENT', 'UID:weekly', `DTSTART;${customTz}:20270301T090000`, `DTEND;${customTz}:20270301T093000`, 'RRULE:FREQ=WEEKLY;BYDAY=MO',
    `EXDATE;${customTz}:20270412T090000`, 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:weekly', `RECURRENCE-ID;${customTz}:20270419T090000`, `DTSTART;${customTz}:20270419T100000`, `DTEND;${customTz}:20270419T103000`, 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:once', `DTSTART;${customTz}:20270322T090000`, `DTEND;${customTz}:20270322T100000`, 'END:VEVENT',
  ), { nowMs: NOW });
  assert.match(warnings.join('\n'), /"Customized Time Zone" matches no IANA zone; its times are read by its VTIMEZONE's own rules/);
  const byKey = new Map(events.map((e) => [e.providerEventId, e]));
  // 22 March 2027 is still standard time by these rules (-05:00): 14:00Z, not New York's 13:00Z.
  assert.equal(new Date(byKey.get('once')!.startMs).toISOString(), '2027-03-22T14:00:00.000Z');
  assert.equal(byKey.get('once')!.endMs - byKey.get('once')!.startMs, 3_600_000);
  assert.equal(byKey.get('once')!.zoneRules, undefined, 'a single event needs no rules');
  const series = byKey.get('weekly')!;
  // Stored in the stand-in zone of its start, with the zone's rules, and its lines as written (the EXDATE an instant).
  assert.equal(series.timeZone, 'Etc/GMT+5');
  assert.deepEqual(series.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE:20270412T130000Z']);
  assert.deepEqual(JSON.parse(series.zoneRules!), [[Date.parse('1601-01-01T02:00:00Z'), -4 * 3_600_000, -5 * 3_600_000, 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', []], [Date.parse('1601-01-01T02:00:00Z'), -5 * 3_600_000, -4 * 3_600_000, 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', []]]);
  assert.deepEqual(originalStarts(series, '2027-03-01T00:00:00Z', '2027-04-27T00:00:00Z'), [
    '2027-03-01T14:00:00.000Z', '2027-03-08T14:00:00.000Z', '2027-03-15T14:00:00.000Z', '2027-03-22T14:00:00.000Z', '2027-03-29T14:00:00.000Z',
    '2027-04-05T13:00:00.000Z', /* 12 April removed by EXDATE */ '2027-04-19T13:00:00.000Z', '2027-04-26T13:00:00.000Z',
  ]);
  // The autumn change on 31 October: the Monday after is back at -05:00 (New York changes a week later).
  assert.deepEqual(originalStarts(series, '2027-10-25T00:00:00Z', '2027-11-09T00:00:00Z'), ['2027-10-25T13:00:00.000Z', '2027-11-01T14:00:00.000Z', '2027-11-08T14:00:00.000Z']);
  // And so in every year: 2029 changes on 1 April and 28 October.
  assert.deepEqual(originalStarts(series, '2029-03-26T00:00:00Z', '2029-04-03T00:00:00Z'), ['2029-03-26T14:00:00.000Z', '2029-04-02T13:00:00.000Z']);
  assert.deepEqual(originalStarts(series, '2029-10-22T00:00:00Z', '2029-10-30T00:00:00Z'), ['2029-10-22T13:00:00.000Z', '2029-10-29T14:00:00.000Z']);
  // The override names the occurrence it replaces by its real start.
  assert.equal(byKey.get('weekly|20270419T130000Z')?.startMs, Date.parse('2027-04-19T14:00:00Z'));
});

test('time zones: many series in zones read by their own rules are parsed in steps, each carrying its zone\'s rules', async () => {
  const oldRules = (tzid: string, extra: string[] = []) => ['BEGIN:VTIMEZONE', `TZID:${tzid}`,
    'BEGIN:STANDARD', 'DTSTART:16010101T020000', 'TZOFFSETFROM:-0400', 'TZOFFSETTO:-0500', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', ...extra, 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T020000', 'TZOFFSETFROM:-0500', 'TZOFFSETTO:-0400', 'RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', 'END:DAYLIGHT', 'END:VTIMEZONE'];
  const series = Array.from({ length: 300 }, (_, i) => ['BEGIN:VEVENT', `UID:daily${i}`, 'DTSTART;TZID=Custom:20270301T090000', 'DURATION:PT30M', 'RRULE:FREQ=DAILY', 'END:VEVENT']).flat();
  const { result, stall } = await measureStall(() => parseIcsYielding(feed(...oldRules('Custom'), ...series), { nowMs: NOW }));
  assert.ok(stall.busyMs < 100, `held the event loop for ${stall.busyMs} ms of work`);
  assert.equal(result.events.length, 300);
  assert.ok(result.events.every((e) => e.zoneRules === result.events[0]!.zoneRules && e.zoneRules !== undefined));
  assert.deepEqual(originalStarts(result.events[299]!, '2027-04-10T00:00:00Z', '2027-04-11T00:00:00Z'), ['2027-04-10T13:00:00.000Z']);
  assert.deepEqual(originalStarts(result.events[299]!, '2030-04-10T00:00:00Z', '2030-04-11T00:00:00Z'), ['2030-04-10T13:00:00.000Z']);
  assert.ok(!result.warnings.some((w) => /keep the offset/.test(w)), result.warnings.join('\n'));
  // A definition listing more onsets than are read (RDATE) is not read by its rules: UTC, as before.
  const rdates = Array.from({ length: 1_001 }, (_, i) => `RDATE:${2000 + Math.floor(i / 12)}${String((i % 12) + 1).padStart(2, '0')}01T020000`);
  const listed = parseIcs(feed(...oldRules('Listed', rdates), 'BEGIN:VEVENT', 'UID:l', 'DTSTART;TZID=Listed:20270615T090000', 'RRULE:FREQ=DAILY', 'END:VEVENT'), { nowMs: NOW, limits: { maxZoneMatches: 0 } });
  assert.equal(new Date(listed.events[0]!.startMs).toISOString(), '2027-06-15T09:00:00.000Z');
  assert.equal(listed.events[0]!.zoneRules, undefined);
});

// A COUNT rule is counted from its DTSTART, however far back, by the comparison with the IANA
// zones as much as by the reading by its own rules: a COUNT of 9999 from 1601 held the loop for
// seconds in the comparison before its rules were read.
for (const end of ['UNTIL=20000101T000000Z', 'COUNT=9999']) test(`a VTIMEZONE whose ended rules name too many onsets (${end.split('=')[0]}) is read as UTC, without holding the event loop`, async () => {
  // A hundred observances of seven onsets a year from 1601, offsets no IANA zone has.
  const observances = Array.from({ length: 100 }, (_, i) => [i % 2 ? 'BEGIN:STANDARD' : 'BEGIN:DAYLIGHT', 'DTSTART:16010101T000000',
    `TZOFFSETFROM:${i % 2 ? '+0117' : '+0017'}`, `TZOFFSETTO:${i % 2 ? '+0017' : '+0117'}`,
    `RRULE:FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1,2,3,4,5,6,7;${end}`, i % 2 ? 'END:STANDARD' : 'END:DAYLIGHT']).flat();
  const text = feed('BEGIN:VTIMEZONE', 'TZID:Hostile', ...observances, 'END:VTIMEZONE',
    'BEGIN:VEVENT', 'UID:h', 'DTSTART;TZID=Hostile:20270615T090000', 'DURATION:PT30M', 'END:VEVENT');
  const { result, stall } = await measureStall(() => parseIcsYielding(text, { nowMs: NOW }));
  assert.equal(result.events.length, 1);
  assert.equal(new Date(result.events[0]!.startMs).toISOString(), '2027-06-15T09:00:00.000Z');
  assert.ok(result.warnings.some((w) => w.includes('"Hostile"') && w.includes('as UTC')), result.warnings.join('\n'));
  assert.ok(stall.busyMs < 200, `held the event loop for ${stall.busyMs} ms`);
});

test('an override or EXDATE in a zone read by its own rules names the occurrence at its real start, however far ahead', () => {
  const series = ['BEGIN:VEVENT', 'UID:weekly', `DTSTART;${customTz}:20270301T090000`, `DTEND;${customTz}:20270301T093000`, 'RRULE:FREQ=WEEKLY;BYDAY=MO'];
  // 12 June 2028 and 11 June 2029, 09:00 at -04:00: 13:00Z (the stand-in's -05:00 would say 14:00Z).
  for (const [local, key] of [['20270607T090000', '20270607T130000Z'], ['20280612T090000', '20280612T130000Z'], ['20290611T090000', '20290611T130000Z']] as const) {
    const moved = parseIcs(feed(...customEastern, ...series, 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:weekly', `RECURRENCE-ID;${customTz}:${local}`, `DTSTART;${customTz}:${local.slice(0, 9)}110000`, `DTEND;${customTz}:${local.slice(0, 9)}113000`, 'END:VEVENT'),
    { nowMs: NOW }).events;
    const master = moved.find((e) => e.providerEventId === 'weekly')!;
    const override = moved.find((e) => e.providerEventId.startsWith('weekly|'))!;
    assert.equal(override.providerEventId, `weekly|${key}`);
    const day = Date.parse(`${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}T00:00:00Z`);
    assert.deepEqual(originalStarts(master, new Date(day).toISOString(), new Date(day + 86_400_000).toISOString()), [new Date(override.originalStartMs!).toISOString()]);
  }
  // An EXDATE years ahead removes its occurrence, and only it.
  const deleted = parseIcs(feed(...customEastern, ...series, `EXDATE;${customTz}:20290611T090000`, 'END:VEVENT'), { nowMs: NOW }).events;
  assert.deepEqual(deleted[0]!.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE:20290611T130000Z']);
  assert.deepEqual(originalStarts(deleted[0]!, '2029-06-10T00:00:00Z', '2029-06-20T00:00:00Z'), ['2029-06-18T13:00:00.000Z']);
});

// RFC 5545 3.3.5 calls a local time without TZID floating; beside a DTSTART with one, it is read in
// DTSTART's zone (as for an IANA zone): here by the VTIMEZONE's rules, at the offset in force at
// that time, not at the start's (-05:00 until 4 April 2027 by these rules, -04:00 after).
test('time zones: a DTEND without TZID beside a DTSTART in a zone read by its own rules is read by those rules across its change', () => {
  // From Friday 2 April 09:00 (-05:00) to Tuesday 6 April 09:00 (-04:00): 95 hours.
  const { events } = parseIcs(feed(...customEastern, 'BEGIN:VEVENT', 'UID:offsite', `DTSTART;${customTz}:20270402T090000`, 'DTEND:20270406T090000', 'END:VEVENT'), { nowMs: NOW });
  assert.equal(new Date(events[0]!.endMs).toISOString(), '2027-04-06T13:00:00.000Z');
});

test('time zones: a DURATION in days from a DTSTART in a zone read by its own rules keeps the clock time across its change (days are nominal)', () => {
  // Seven days and an hour from Friday 2 April 09:00: Friday 9 April at 10:00 local (-04:00), as RFC 5545 3.3.6 counts days.
  const { events } = parseIcs(feed(...customEastern, 'BEGIN:VEVENT', 'UID:week', `DTSTART;${customTz}:20270402T090000`, 'DURATION:P1WT1H', 'END:VEVENT'), { nowMs: NOW });
  assert.equal(new Date(events[0]!.endMs).toISOString(), '2027-04-09T14:00:00.000Z');
});

test('time zones: a RECURRENCE-ID without TZID of a series in a zone read by its own rules names the occurrence at its real start past the change', () => {
  // A series begun in standard time; its override names the occurrence of 19 April (summer time) without a TZID.
  const { events } = parseIcs(feed(...customEastern,
    'BEGIN:VEVENT', 'UID:weekly', `DTSTART;${customTz}:20270301T090000`, `DTEND;${customTz}:20270301T093000`, 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:weekly', 'RECURRENCE-ID:20270419T090000', `DTSTART;${customTz}:20270419T100000`, `DTEND;${customTz}:20270419T103000`, 'END:VEVENT',
  ), { nowMs: NOW });
  const byKey = new Map(events.map((e) => [e.providerEventId, e]));
  // The override replaces the rule's occurrence at its real start (13:00Z), which the series has.
  assert.deepEqual(originalStarts(byKey.get('weekly')!, '2027-04-19T00:00:00Z', '2027-04-20T00:00:00Z'), ['2027-04-19T13:00:00.000Z']);
  const override = byKey.get('weekly|20270419T130000Z');
  assert.ok(override, `the override keyed by the occurrence it replaces, not ${[...byKey.keys()].join(', ')}`);
  assert.equal(new Date(override.startMs).toISOString(), '2027-04-19T14:00:00.000Z');
});

// RFC 5545 3.3.5: a RECURRENCE-ID should have its DTSTART's value type, but a date is seen beside a
// date-time series; it names the series' local midnight of that day, in a zone read by its own
// rules as in an IANA zone (-04:00 on 19 April 2027 by both: summer time, not the -05:00 of March).
for (const [name, zone] of [['an IANA zone', 'TZID=America/New_York'], ['a zone read by its own rules', customTz]] as const) {
  test(`time zones: a RECURRENCE-ID;VALUE=DATE of a midnight series in ${name} names its occurrence of that day past the change`, () => {
    const { events } = parseIcs(feed(...customEastern,
      'BEGIN:VEVENT', 'UID:daily', `DTSTART;${zone}:20270301T000000`, 'DURATION:PT30M', 'RRULE:FREQ=DAILY', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:daily', 'RECURRENCE-ID;VALUE=DATE:20270419', `DTSTART;${zone}:20270419T010000`, 'DURATION:PT30M', 'END:VEVENT',
    ), { nowMs: NOW });
    const override = events.find((e) => e.originalStartMs !== null);
    assert.equal(new Date(override!.originalStartMs!).toISOString(), '2027-04-19T04:00:00.000Z');
  });
}

// An hourly rule across both changes of a year: in a zone read by its own rules its occurrences are
// the instants they are in the IANA zone with the same offsets (here America/New_York, on its own
// change nights), not other ones.
test('time zones: an HOURLY rule across a change places the same instants in a zone read by its own rules as in an IANA zone', () => {
  const hourly = (zone: string, start: string) => {
    const { events } = parseIcs(feed(...customEastern, 'BEGIN:VEVENT', 'UID:hourly', `DTSTART;${zone}:${start}`, 'DURATION:PT10M', 'RRULE:FREQ=HOURLY;COUNT=6', 'END:VEVENT'), { nowMs: NOW });
    return expandSeries(definitionOf(events[0]!), { fromMs: 0, toMs: Date.parse('2030-01-01T00:00:00Z') }).map((o) => new Date(o.startMs).toISOString().slice(11, 16));
  };
  // Spring: the night of 4 April 2027 by the custom rules, of 14 March in New York.
  // 23:00 -05:00 to 01:00, then 02:00 (skipped: 03:00 -04:00), on to 05:00.
  const spring = hourly(customTz, '20270403T230000');
  assert.deepEqual(spring, ['04:00', '05:00', '06:00', '07:00', '08:00', '09:00']);
  assert.deepEqual(hourly('TZID=America/New_York', '20270313T230000'), spring);
  // Fall: the night of 31 October 2027 by the custom rules, of 7 November in New York. 23:00
  // -04:00 to 01:00 -04:00; the repeated 01:00 (-05:00, 06:00Z) is not an occurrence; 02:00 -05:00 on.
  const fall = hourly(customTz, '20271030T230000');
  assert.deepEqual(fall, ['03:00', '04:00', '05:00', '07:00', '08:00', '09:00']);
  assert.deepEqual(hourly('TZID=America/New_York', '20271106T230000'), fall);
});
