// Expectations are concrete UTC instants so the same assertions hold whatever the process zone is;
// the suite is meant to be run under TZ=UTC and TZ=America/Los_Angeles alike.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { RRuleTemporal } from 'rrule-temporal';
import {
  compileSeries, expandSeries, findOccurrence, findOccurrencesOnLocalDate, isValidTimeZone, nextOccurrences,
  occurrenceKey, parseOccurrenceKey, seriesEndMs, temporalPlacement, validateRecurrence,
  type Occurrence, type SeriesDefinition,
} from './recurrence.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  assert.ok(Number.isFinite(ms), `bad test instant ${iso}`);
  return ms;
};
const isoOf = (ms: number): string => new Date(ms).toISOString();
const starts = (occurrences: Occurrence[]): string[] => occurrences.map((o) => isoOf(o.startMs));
const EVERYTHING = { fromMs: at('1900-01-01T00:00:00Z'), toMs: at('2200-01-01T00:00:00Z') };

function series(startIso: string, timeZone: string, recurrence: string[], minutes = 30): SeriesDefinition {
  const startMs = at(startIso);
  return { startMs, endMs: startMs + minutes * MIN, timeZone, recurrence };
}

/** Starts of everything in a (finite) series. */
function all(s: SeriesDefinition): string[] {
  return starts(expandSeries(s, EVERYTHING));
}

function localOf(ms: number, zone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone);
}

// A generated local time that does not exist (a spring-forward gap) is read with the offset before
// the gap (RFC 5545 section 3.3.5), so it lands as many minutes after the gap as it was into it
// and counts toward COUNT: Google Calendar and Exchange show such an occurrence an hour late
// rather than leaving it out (mangstadt/biweekly issue 38), and Rollcall expands Google's series
// itself, so a bot must join where the user's calendar shows the meeting.
describe('DST: spring-forward gap', () => {
  test('New York daily 02:30 is at 03:30 EDT on 2026-03-08, and it counts toward COUNT', () => {
    const s = series('2026-03-06T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=5']);
    assert.deepEqual(all(s), [
      '2026-03-06T07:30:00.000Z',
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
    const local = expandSeries(s, EVERYTHING).map((o) => localOf(o.startMs, 'America/New_York').toPlainTime().toString());
    assert.deepEqual(local, ['02:30:00', '02:30:00', '03:30:00', '02:30:00', '02:30:00']);
  });

  test('Berlin daily 02:30 is at 03:30 CEST on 2026-03-29, then 02:30 again', () => {
    const s = series('2026-03-27T01:30:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;COUNT=5']);
    assert.deepEqual(all(s), [
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  test('an open-ended series expanded only around the gap (windowed path) shifts it too', () => {
    const s = series('2026-01-01T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY']);
    for (const window of [
      { fromMs: at('2026-03-06T00:00:00Z'), toMs: at('2026-03-11T00:00:00Z') },
      { fromMs: at('2026-03-08T07:30:00Z'), toMs: at('2026-03-08T07:30:00.001Z') },
      { fromMs: at('2026-03-08T07:00:00Z'), toMs: at('2026-03-08T08:00:00Z') },
    ]) {
      const expected = ['2026-03-06T07:30:00.000Z', '2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']
        .filter((iso) => at(iso) + 30 * MIN > window.fromMs && at(iso) < window.toMs);
      assert.deepEqual(starts(expandSeries(s, window)), expected, isoOf(window.fromMs));
    }
    assert.deepEqual(starts(nextOccurrences(s, at('2026-03-08T00:00:00Z'), 2)), ['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  test('monthly on the 8th at 02:30 New York is at 03:30 in March 2026 and counts', () => {
    const s = series('2026-01-08T07:30:00Z', 'America/New_York', ['RRULE:FREQ=MONTHLY;COUNT=3']);
    assert.deepEqual(all(s), ['2026-01-08T07:30:00.000Z', '2026-02-08T07:30:00.000Z', '2026-03-08T07:30:00.000Z']);
  });

  test('"the second Sunday at 02:30" keeps the changeover Sunday (the gap does not move BYSETPOS to the third)', () => {
    const s = series('2026-01-11T07:30:00Z', 'America/New_York', ['RRULE:FREQ=MONTHLY;BYDAY=SU;BYSETPOS=2;COUNT=4'], 60);
    assert.deepEqual(all(s), ['2026-01-11T07:30:00.000Z', '2026-02-08T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-04-12T06:30:00.000Z']);
  });

  test('02:00 and 03:00 on the changeover night are one instant, listed once and counted once', () => {
    const s = series('2026-03-07T07:00:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;BYHOUR=2,3;BYMINUTE=0;COUNT=6'], 15);
    assert.deepEqual(all(s), [
      '2026-03-07T07:00:00.000Z', '2026-03-07T08:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:00:00.000Z', '2026-03-09T07:00:00.000Z',
      '2026-03-10T06:00:00.000Z',
    ]);
  });

  test('a skipped day (Pacific/Apia, 2011-12-30) puts its meeting on the next day, which has one meeting, and COUNT still gives five', () => {
    const startMs = Temporal.ZonedDateTime.from('2011-12-28T09:00:00[Pacific/Apia]').epochMilliseconds;
    const s = { startMs, endMs: startMs + 30 * MIN, timeZone: 'Pacific/Apia', recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] };
    const local = expandSeries(s, EVERYTHING).map((o) => localOf(o.startMs, 'Pacific/Apia').toPlainDateTime().toString());
    assert.deepEqual(local, ['2011-12-28T09:00:00', '2011-12-29T09:00:00', '2011-12-31T09:00:00', '2012-01-01T09:00:00', '2012-01-02T09:00:00']);
  });

  test('an EXDATE written at the local time that does not exist removes the shifted occurrence', () => {
    const s = series('2026-03-06T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=4', 'EXDATE;TZID=America/New_York:20260308T023000']);
    assert.deepEqual(all(s), ['2026-03-06T07:30:00.000Z', '2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  test('a DTSTART written in the gap: the instant alone reads back 03:30, so the rule states the 02:30 written, and DTSTART still counts once', () => {
    // DTSTART;TZID=America/New_York:20270314T023000 is 03:30 EDT (07:30Z). A series stored by its
    // instant has 03:30 as its time of day, which is right for a series started at 03:30 ...
    const byInstant = series('2027-03-14T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(all(byInstant), ['2027-03-14T07:30:00.000Z', '2027-03-15T07:30:00.000Z', '2027-03-16T07:30:00.000Z']);
    // ... so a feed's 02:30 is kept in the rule (the ICS parser adds the parts DTSTART would give).
    for (const rule of ['RRULE:FREQ=DAILY;COUNT=3;BYHOUR=2;BYMINUTE=30;BYSECOND=0', 'RRULE:FREQ=WEEKLY;BYDAY=SU,MO,TU;COUNT=3;BYHOUR=2;BYMINUTE=30;BYSECOND=0']) {
      const written = series('2027-03-14T07:30:00Z', 'America/New_York', [rule]);
      assert.deepEqual(all(written), ['2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z', '2027-03-16T06:30:00.000Z'], rule);
      assert.deepEqual(starts(nextOccurrences(written, at('2027-03-14T12:00:00Z'), 1)), ['2027-03-15T06:30:00.000Z'], rule);
      assert.equal(findOccurrence(written, at('2027-03-14T07:30:00Z'))?.startMs, at('2027-03-14T07:30:00Z'), rule);
    }
  });

  test('a half-hour gap (Lord Howe, 02:00 to 02:30) moves 02:10 by thirty minutes', () => {
    // Australia/Lord_Howe goes from +10:30 to +11:00 at 02:00 local on 2026-10-04.
    const s = series('2026-10-02T15:40:00Z', 'Australia/Lord_Howe', ['RRULE:FREQ=DAILY;COUNT=3']);
    const local = expandSeries(s, EVERYTHING).map((o) => localOf(o.startMs, 'Australia/Lord_Howe').toPlainDateTime().toString());
    assert.deepEqual(local, ['2026-10-03T02:10:00', '2026-10-04T02:40:00', '2026-10-05T02:10:00']);
  });

  test('sub-daily rules step as before: HOURLY from 00:30 New York across the gap', () => {
    const s = series('2026-03-08T05:30:00Z', 'America/New_York', ['RRULE:FREQ=HOURLY;COUNT=4'], 15);
    const local = expandSeries(s, EVERYTHING).map((o) => localOf(o.startMs, 'America/New_York').toPlainTime().toString());
    assert.equal(local[0], '00:30:00');
    assert.equal(local.length, 4);
    assert.ok(local.every((time) => time !== '02:30:00'));
  });
});

describe('DST: fall-back overlap', () => {
  test('Berlin 02:30 on 2026-10-25 happens twice: the first (CEST) instant is used', () => {
    const s = series('2026-10-24T00:30:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(all(s), ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  test('Berlin 02:30 overlap via the windowed path', () => {
    const s = series('2026-01-01T01:30:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY']);
    const got = expandSeries(s, { fromMs: at('2026-10-24T00:00:00Z'), toMs: at('2026-10-27T00:00:00Z') });
    assert.deepEqual(starts(got), ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  test('New York 02:30 on 2026-11-01 exists once (EST)', () => {
    const s = series('2026-10-31T06:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(all(s), ['2026-10-31T06:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']);
  });

  test('New York 01:30 on 2026-11-01 happens twice: the first (EDT) instant is used', () => {
    const s = series('2026-10-31T05:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(all(s), ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  test('a series starting at the second 01:30 (EST) keeps that instant for its first occurrence, once', () => {
    const s = series('2026-11-01T06:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=3']);
    assert.deepEqual(all(s), ['2026-11-01T06:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z']);
  });

  test('HOURLY steps through the repeated hour once (library behaviour, consistent with "first instant")', () => {
    const s = series('2026-11-01T04:30:00Z', 'America/New_York', ['RRULE:FREQ=HOURLY;COUNT=4'], 15);
    assert.deepEqual(all(s), ['2026-11-01T04:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-01T08:30:00.000Z']);
  });
});

describe('DST: wall-clock time stays fixed', () => {
  test('weekly Monday 09:00 New York across spring forward: UTC moves from 14:00 to 13:00', () => {
    const s = series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3']);
    assert.deepEqual(all(s), ['2026-03-02T14:00:00.000Z', '2026-03-09T13:00:00.000Z', '2026-03-16T13:00:00.000Z']);
  });

  test('weekly Monday 09:00 Berlin across spring forward: UTC moves from 08:00 to 07:00', () => {
    const s = series('2026-03-23T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3']);
    assert.deepEqual(all(s), ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z']);
  });

  test('weekly Monday 09:00 across fall back (New York and Berlin): UTC moves one hour later', () => {
    assert.deepEqual(all(series('2026-10-26T13:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;COUNT=2'])), ['2026-10-26T13:00:00.000Z', '2026-11-02T14:00:00.000Z']);
    assert.deepEqual(all(series('2026-10-19T07:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;COUNT=2'])), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  });

  for (const [zone, startIso, utcHours, lastIso] of [
    ['America/New_York', '2026-01-05T14:00:00Z', [13, 14], '2026-12-28T14:00:00.000Z'],
    ['Europe/Berlin', '2026-01-05T08:00:00Z', [7, 8], '2026-12-28T08:00:00.000Z'],
  ] as const) {
    test(`52 weekly occurrences across both 2026 changes keep 09:00 Monday in ${zone}`, () => {
      const s = series(startIso, zone, ['RRULE:FREQ=WEEKLY;COUNT=52'], 45);
      const got = expandSeries(s, EVERYTHING);
      assert.equal(got.length, 52);
      let previous: Temporal.ZonedDateTime | undefined;
      for (const o of got) {
        const local = localOf(o.startMs, zone);
        assert.equal(local.dayOfWeek, 1);
        assert.equal(local.toPlainTime().toString(), '09:00:00');
        assert.equal(o.endMs - o.startMs, 45 * MIN);
        assert.equal(o.originalStartMs, o.startMs);
        if (previous) assert.equal(previous.toPlainDate().until(local.toPlainDate()).days, 7);
        previous = local;
      }
      assert.deepEqual([...new Set(got.map((o) => new Date(o.startMs).getUTCHours()))].sort(), [...utcHours]);
      assert.equal(isoOf(got[51]!.startMs), lastIso);
    });
  }
});

describe('EXDATE', () => {
  // Mondays 09:00 Berlin: 07:00Z until the 2026-10-25 change, 08:00Z after it.
  const base = ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6'];
  const full = [
    '2026-10-05T07:00:00.000Z', '2026-10-12T07:00:00.000Z', '2026-10-19T07:00:00.000Z',
    '2026-10-26T08:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-11-09T08:00:00.000Z',
  ];
  const berlin = (extra: string[]) => series('2026-10-05T07:00:00Z', 'Europe/Berlin', [...base, ...extra]);
  const without = (...removed: string[]) => full.filter((x) => !removed.includes(x));

  test('baseline', () => assert.deepEqual(all(berlin([])), full));
  test('UTC value', () => assert.deepEqual(all(berlin(['EXDATE:20261012T070000Z'])), without('2026-10-12T07:00:00.000Z')));
  test('TZID value in the series zone', () => assert.deepEqual(all(berlin(['EXDATE;TZID=Europe/Berlin:20261019T090000'])), without('2026-10-19T07:00:00.000Z')));
  test('TZID value in another zone (03:00 New York = 09:00 Berlin on 2026-11-02)', () => {
    assert.deepEqual(all(berlin(['EXDATE;TZID=America/New_York:20261102T030000'])), without('2026-11-02T08:00:00.000Z'));
  });
  test('floating value is read in the series zone', () => assert.deepEqual(all(berlin(['EXDATE:20261026T090000'])), without('2026-10-26T08:00:00.000Z')));
  test('VALUE=DATE removes that local date', () => assert.deepEqual(all(berlin(['EXDATE;VALUE=DATE:20261109'])), without('2026-11-09T08:00:00.000Z')));
  test('comma-separated list and several lines', () => {
    assert.deepEqual(
      all(berlin(['EXDATE:20261012T070000Z,20261019T070000Z', 'EXDATE;VALUE=DATE:20261102,20261109'])),
      without('2026-10-12T07:00:00.000Z', '2026-10-19T07:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-11-09T08:00:00.000Z'),
    );
  });
  test('a value that matches no occurrence removes nothing', () => assert.deepEqual(all(berlin(['EXDATE:20261012T080000Z'])), full));

  test('VALUE=DATE is the local date, not the UTC date', () => {
    // 21:00 in New York is 02:00Z the next day.
    const s = series('2026-11-10T02:00:00Z', 'America/New_York', ['RRULE:FREQ=DAILY;COUNT=3', 'EXDATE;VALUE=DATE:20261110']);
    assert.deepEqual(all(s), ['2026-11-10T02:00:00.000Z', '2026-11-12T02:00:00.000Z']);
  });

  test('EXDATE can remove DTSTART, which still counts toward COUNT', () => {
    const s = series('2026-03-03T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;COUNT=3', 'EXDATE:20260303T080000Z']);
    assert.deepEqual(all(s), ['2026-03-04T08:00:00.000Z', '2026-03-05T08:00:00.000Z']);
  });
});

describe('RDATE', () => {
  const berlin = (extra: string[]) => series('2026-10-19T07:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2', ...extra], 60);

  test('UTC list adds occurrences with the series duration', () => {
    const got = expandSeries(berlin(['RDATE:20261028T150000Z,20261030T150000Z']), EVERYTHING);
    assert.deepEqual(starts(got), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z', '2026-10-28T15:00:00.000Z', '2026-10-30T15:00:00.000Z']);
    for (const o of got) assert.equal(o.endMs - o.startMs, HOUR);
  });

  test('VALUE=DATE takes DTSTART\'s local time (09:00 Berlin, CET in December)', () => {
    assert.deepEqual(all(berlin(['RDATE;VALUE=DATE:20261224'])), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z', '2026-12-24T08:00:00.000Z']);
  });

  test('TZID and floating values', () => {
    assert.deepEqual(all(berlin(['RDATE;TZID=America/New_York:20261027T100000', 'RDATE:20261029T120000'])), [
      '2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z', '2026-10-27T14:00:00.000Z', '2026-10-29T11:00:00.000Z',
    ]);
  });

  test('an RDATE equal to a rule occurrence does not duplicate it', () => {
    assert.deepEqual(all(berlin(['RDATE:20261026T080000Z'])), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  });

  test('EXDATE beats RDATE, whatever the line order and form', () => {
    assert.deepEqual(all(berlin(['EXDATE:20261028T150000Z', 'RDATE:20261028T150000Z'])), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
    assert.deepEqual(all(berlin(['RDATE:20261028T150000Z', 'EXDATE;VALUE=DATE:20261028'])), ['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  });

  test('a series made only of DTSTART and RDATEs', () => {
    assert.deepEqual(all(series('2026-10-19T07:00:00Z', 'Europe/Berlin', ['RDATE:20261021T070000Z'])), ['2026-10-19T07:00:00.000Z', '2026-10-21T07:00:00.000Z']);
    assert.deepEqual(all(series('2026-10-19T07:00:00Z', 'Europe/Berlin', [])), ['2026-10-19T07:00:00.000Z']);
  });
});

describe('RRULE parts', () => {
  test('DTSTART is always the first instance and counts toward COUNT, even off-pattern', () => {
    // 2026-03-03 is a Tuesday.
    const s = series('2026-03-03T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3']);
    assert.deepEqual(all(s), ['2026-03-03T08:00:00.000Z', '2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z']);
    const open = { ...s, recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO'] };
    assert.deepEqual(starts(expandSeries(open, { fromMs: at('2026-03-01T00:00:00Z'), toMs: at('2026-03-17T00:00:00Z') })), ['2026-03-03T08:00:00.000Z', '2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z']);
  });

  test('UNTIL is inclusive (UTC, date-only, floating), and one second earlier excludes', () => {
    const daily = (until: string) => all(series('2026-03-03T08:00:00Z', 'Europe/Berlin', [`RRULE:FREQ=DAILY;UNTIL=${until}`]));
    const three = ['2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z', '2026-03-05T08:00:00.000Z'];
    assert.deepEqual(daily('20260305T080000Z'), three);
    assert.deepEqual(daily('20260305T075959Z'), three.slice(0, 2));
    assert.deepEqual(daily('20260305'), three);
    assert.deepEqual(daily('20260305T090000'), three);
  });

  test('UNTIL across a DST change and before DTSTART', () => {
    assert.deepEqual(all(series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;UNTIL=20260316T130000Z'])), ['2026-03-02T14:00:00.000Z', '2026-03-09T13:00:00.000Z', '2026-03-16T13:00:00.000Z']);
    assert.deepEqual(all(series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;UNTIL=20260101T000000Z'])), ['2026-03-02T14:00:00.000Z']);
  });

  test('INTERVAL with a BYDAY list', () => {
    // Every other week on Tuesday and Thursday, 10:00 New York, from Tuesday 2026-01-06.
    const s = series('2026-01-06T15:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5']);
    assert.deepEqual(all(s), ['2026-01-06T15:00:00.000Z', '2026-01-08T15:00:00.000Z', '2026-01-20T15:00:00.000Z', '2026-01-22T15:00:00.000Z', '2026-02-03T15:00:00.000Z']);
  });

  test('INTERVAL stays in phase when only a later window is expanded', () => {
    // Every third day from 2026-01-01: day 60 (03-02), 63 (03-05), 66 (03-08).
    const s = series('2026-01-01T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;INTERVAL=3']);
    assert.deepEqual(starts(expandSeries(s, { fromMs: at('2026-03-01T00:00:00Z'), toMs: at('2026-03-10T00:00:00Z') })), ['2026-03-02T08:00:00.000Z', '2026-03-05T08:00:00.000Z', '2026-03-08T08:00:00.000Z']);
  });

  test('BYDAY=MO,WE,FR across spring forward', () => {
    const s = series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6']);
    assert.deepEqual(all(s), [
      '2026-03-02T14:00:00.000Z', '2026-03-04T14:00:00.000Z', '2026-03-06T14:00:00.000Z',
      '2026-03-09T13:00:00.000Z', '2026-03-11T13:00:00.000Z', '2026-03-13T13:00:00.000Z',
    ]);
  });

  test('monthly BYDAY=1MO', () => {
    const s = series('2026-01-05T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=MONTHLY;BYDAY=1MO;COUNT=4']);
    assert.deepEqual(all(s), ['2026-01-05T08:00:00.000Z', '2026-02-02T08:00:00.000Z', '2026-03-02T08:00:00.000Z', '2026-04-06T07:00:00.000Z']);
  });

  test('monthly BYDAY=-1FR and BYMONTHDAY=31 (short months are skipped, not clamped)', () => {
    assert.deepEqual(all(series('2026-01-30T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3'])), ['2026-01-30T08:00:00.000Z', '2026-02-27T08:00:00.000Z', '2026-03-27T08:00:00.000Z']);
    assert.deepEqual(all(series('2026-01-31T15:00:00Z', 'America/New_York', ['RRULE:FREQ=MONTHLY;COUNT=3'])), ['2026-01-31T15:00:00.000Z', '2026-03-31T14:00:00.000Z', '2026-05-31T14:00:00.000Z']);
  });

  test('yearly: plain, fourth Thursday of November, and 29 February', () => {
    assert.deepEqual(all(series('2026-07-01T07:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=YEARLY;COUNT=3'])), ['2026-07-01T07:00:00.000Z', '2027-07-01T07:00:00.000Z', '2028-07-01T07:00:00.000Z']);
    assert.deepEqual(all(series('2026-11-26T17:00:00Z', 'America/New_York', ['RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=3'])), ['2026-11-26T17:00:00.000Z', '2027-11-25T17:00:00.000Z', '2028-11-23T17:00:00.000Z']);
    assert.deepEqual(all(series('2024-02-29T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=YEARLY;COUNT=2'])), ['2024-02-29T08:00:00.000Z', '2028-02-29T08:00:00.000Z']);
  });

  test('lower-case input and a trailing semicolon are accepted', () => {
    assert.deepEqual(all(series('2026-03-03T08:00:00Z', 'Europe/Berlin', ['rrule:freq=daily;count=2;'])), ['2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z']);
  });
});

describe('expandSeries window, limit and skips', () => {
  // Daily 09:00-10:00 UTC from 2026-05-01.
  const daily = series('2026-05-01T09:00:00Z', 'UTC', ['RRULE:FREQ=DAILY'], 60);

  test('an occurrence in progress at fromMs is included; one that ended exactly at fromMs is not', () => {
    assert.deepEqual(starts(expandSeries(daily, { fromMs: at('2026-05-02T09:30:00Z'), toMs: at('2026-05-03T12:00:00Z') })), ['2026-05-02T09:00:00.000Z', '2026-05-03T09:00:00.000Z']);
    assert.deepEqual(starts(expandSeries(daily, { fromMs: at('2026-05-02T10:00:00Z'), toMs: at('2026-05-03T12:00:00Z') })), ['2026-05-03T09:00:00.000Z']);
  });

  test('an occurrence starting exactly at toMs is not included; empty or inverted windows give nothing', () => {
    assert.deepEqual(starts(expandSeries(daily, { fromMs: at('2026-05-02T00:00:00Z'), toMs: at('2026-05-04T09:00:00Z') })), ['2026-05-02T09:00:00.000Z', '2026-05-03T09:00:00.000Z']);
    assert.deepEqual(expandSeries(daily, { fromMs: at('2026-05-02T09:00:00Z'), toMs: at('2026-05-02T09:00:00Z') }), []);
    assert.deepEqual(expandSeries(daily, { fromMs: at('2026-05-03T00:00:00Z'), toMs: at('2026-05-02T00:00:00Z') }), []);
  });

  test('a zero-length occurrence counts when it starts inside the window', () => {
    const point = series('2026-05-01T09:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=3'], 0);
    assert.deepEqual(starts(expandSeries(point, { fromMs: at('2026-05-02T09:00:00Z'), toMs: at('2026-05-03T09:00:00Z') })), ['2026-05-02T09:00:00.000Z']);
  });

  test('results carry original start, start and end', () => {
    const [first] = expandSeries(daily, { fromMs: at('2026-05-01T00:00:00Z'), toMs: at('2026-05-02T00:00:00Z') });
    assert.deepEqual(first, { originalStartMs: at('2026-05-01T09:00:00Z'), startMs: at('2026-05-01T09:00:00Z'), endMs: at('2026-05-01T10:00:00Z') });
  });

  test('limit caps the result; 0 gives nothing; a bad limit is refused', () => {
    assert.equal(expandSeries(daily, EVERYTHING, { limit: 3 }).length, 3);
    assert.deepEqual(expandSeries(daily, EVERYTHING, { limit: 0 }), []);
    assert.throws(() => expandSeries(daily, EVERYTHING, { limit: -1 }), RangeError);
    assert.throws(() => expandSeries(daily, EVERYTHING, { limit: 1.5 }), RangeError);
  });

  test('skipOriginalStartsMs removes those occurrences before the limit is applied', () => {
    const skip = new Set([at('2026-05-02T09:00:00Z'), at('2026-05-04T09:00:00Z')]);
    const window = { fromMs: at('2026-05-01T00:00:00Z'), toMs: at('2026-05-06T00:00:00Z') };
    assert.deepEqual(starts(expandSeries(daily, window, { skipOriginalStartsMs: skip })), ['2026-05-01T09:00:00.000Z', '2026-05-03T09:00:00.000Z', '2026-05-05T09:00:00.000Z']);
    assert.deepEqual(starts(expandSeries(daily, window, { skipOriginalStartsMs: skip, limit: 2 })), ['2026-05-01T09:00:00.000Z', '2026-05-03T09:00:00.000Z']);
  });

  test('a long-running open series is expanded near the window without walking from DTSTART', () => {
    const old = series('1990-01-01T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY']);
    assert.deepEqual(starts(expandSeries(old, { fromMs: at('2026-07-01T00:00:00Z'), toMs: at('2026-07-03T00:00:00Z') })), ['2026-07-01T07:00:00.000Z', '2026-07-02T07:00:00.000Z']);
  });

  test('invalid series definitions are refused', () => {
    assert.throws(() => expandSeries({ ...daily, timeZone: 'Mars/Olympus_Mons' }, EVERYTHING), RangeError);
    assert.throws(() => expandSeries({ ...daily, endMs: daily.startMs - 1 }, EVERYTHING), RangeError);
    assert.throws(() => expandSeries({ ...daily, startMs: daily.startMs + 0.5 }, EVERYTHING), RangeError);
    assert.throws(() => expandSeries({ ...daily, recurrence: ['RRULE:FREQ=DAILY;COUNT=2;UNTIL=20300101T000000Z'] }, EVERYTHING), /UNTIL and COUNT/);
  });
});

describe('nextOccurrences', () => {
  // Mondays 09:00-10:00 New York.
  const weekly = series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=America/New_York:20260323T090000'], 60);

  test('includes an occurrence still in progress and follows DST', () => {
    assert.deepEqual(starts(nextOccurrences(weekly, at('2026-03-09T13:30:00Z'), 3)), ['2026-03-09T13:00:00.000Z', '2026-03-16T13:00:00.000Z', '2026-03-30T13:00:00.000Z']);
  });

  test('an occurrence ending exactly at afterMs is over', () => {
    assert.deepEqual(starts(nextOccurrences(weekly, at('2026-03-09T14:00:00Z'), 1)), ['2026-03-16T13:00:00.000Z']);
  });

  test('before DTSTART starts at DTSTART; limit 0 gives nothing', () => {
    assert.deepEqual(starts(nextOccurrences(weekly, at('2020-01-01T00:00:00Z'), 2)), ['2026-03-02T14:00:00.000Z', '2026-03-09T13:00:00.000Z']);
    assert.deepEqual(nextOccurrences(weekly, at('2026-03-01T00:00:00Z'), 0), []);
  });

  test('a finite series runs out', () => {
    const s = series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;COUNT=3', 'RDATE:20260401T150000Z'], 60);
    assert.deepEqual(starts(nextOccurrences(s, at('2026-03-10T00:00:00Z'), 10)), ['2026-03-16T13:00:00.000Z', '2026-04-01T15:00:00.000Z']);
    assert.deepEqual(nextOccurrences(s, at('2027-01-01T00:00:00Z'), 10), []);
  });

  test('a yearly series years later', () => {
    const s = series('2024-02-29T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=YEARLY']);
    assert.deepEqual(starts(nextOccurrences(s, at('2026-01-01T00:00:00Z'), 2)), ['2028-02-29T08:00:00.000Z', '2032-02-29T08:00:00.000Z']);
  });
});

describe('findOccurrence', () => {
  const weekly = series('2026-03-02T14:00:00Z', 'America/New_York', ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE:20260316T130000Z', 'RDATE:20260318T160000Z'], 60);

  test('finds an exact original start, including after DST and far in the future', () => {
    assert.deepEqual(findOccurrence(weekly, at('2026-03-09T13:00:00Z')), { originalStartMs: at('2026-03-09T13:00:00Z'), startMs: at('2026-03-09T13:00:00Z'), endMs: at('2026-03-09T14:00:00Z') });
    assert.equal(findOccurrence(weekly, at('2090-03-06T14:00:00Z'))?.startMs, at('2090-03-06T14:00:00Z'));
    assert.equal(findOccurrence(weekly, at('2026-03-18T16:00:00Z'))?.startMs, at('2026-03-18T16:00:00Z'));
  });

  test('null for near misses, excluded dates and times before DTSTART; a gap time is found where it was moved', () => {
    assert.equal(findOccurrence(weekly, at('2026-03-09T14:00:00Z')), null); // the pre-DST UTC time
    assert.equal(findOccurrence(weekly, at('2026-03-09T13:01:00Z')), null);
    assert.equal(findOccurrence(weekly, at('2026-03-16T13:00:00Z')), null);
    assert.equal(findOccurrence(weekly, at('2026-02-23T14:00:00Z')), null);
    const gap = series('2026-03-06T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY']);
    assert.equal(findOccurrence(gap, at('2026-03-08T07:30:00Z'))?.startMs, at('2026-03-08T07:30:00Z')); // 03:30 EDT
    assert.equal(findOccurrence(gap, at('2026-03-08T06:30:00Z')), null); // 02:30 at the new offset does not exist
    assert.equal(findOccurrence(gap, Number.NaN), null);
  });
});

describe('findOccurrencesOnLocalDate', () => {
  test('uses the local date in the series zone, not the UTC date', () => {
    // 21:00 New York (EDT after 2026-03-08) is 01:00Z the next day.
    const s = series('2026-03-01T02:00:00Z', 'America/New_York', ['RRULE:FREQ=DAILY']);
    assert.deepEqual(starts(findOccurrencesOnLocalDate(s, '2026-03-10')), ['2026-03-11T01:00:00.000Z']);
  });

  test('several a day, one on the gap day (moved past the gap), none before DTSTART', () => {
    const twice = series('2026-06-01T07:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;BYHOUR=9,14']);
    assert.deepEqual(starts(findOccurrencesOnLocalDate(twice, '2026-06-03')), ['2026-06-03T07:00:00.000Z', '2026-06-03T12:00:00.000Z']);
    assert.deepEqual(findOccurrencesOnLocalDate(twice, '2026-05-31'), []);
    const gap = series('2026-03-06T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY']);
    assert.deepEqual(starts(findOccurrencesOnLocalDate(gap, '2026-03-08')), ['2026-03-08T07:30:00.000Z']);
  });

  test('refuses malformed dates', () => {
    const s = series('2026-03-01T02:00:00Z', 'America/New_York', ['RRULE:FREQ=DAILY']);
    for (const bad of ['2026-02-30', '2026-3-1', '20260301', 'tomorrow']) assert.throws(() => findOccurrencesOnLocalDate(s, bad), RangeError, bad);
  });
});

describe('occurrence keys', () => {
  test('compact UTC basic format and round trip', () => {
    const ms = at('2026-11-24T14:00:00Z');
    assert.equal(occurrenceKey(ms), '20261124T140000Z');
    assert.equal(parseOccurrenceKey('20261124T140000Z'), ms);
    for (const iso of ['1970-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '2026-03-08T07:30:00Z', '9999-12-31T23:59:59Z']) {
      assert.equal(parseOccurrenceKey(occurrenceKey(at(iso))), at(iso), iso);
    }
  });

  test('a millisecond part is kept so keys stay unique', () => {
    const ms = at('2026-11-24T14:00:00.250Z');
    assert.equal(occurrenceKey(ms), '20261124T140000.250Z');
    assert.equal(parseOccurrenceKey('20261124T140000.250Z'), ms);
  });

  test('anything else is rejected', () => {
    for (const bad of ['', 'garbage', '20261124T140000', '20261324T140000Z', '20260230T100000Z', '20261124T240000Z', '20261124T140060Z', '20261124T140000.000Z', '20261124t140000z', ' 20261124T140000Z']) {
      assert.equal(parseOccurrenceKey(bad), null, bad);
    }
    assert.throws(() => occurrenceKey(Number.NaN), RangeError);
    assert.throws(() => occurrenceKey(1.5), RangeError);
  });
});

describe('validateRecurrence', () => {
  test('accepts Google-style recurrence', () => {
    assert.deepEqual(validateRecurrence([
      'RRULE:FREQ=WEEKLY;WKST=SU;UNTIL=20261231T225959Z;INTERVAL=2;BYDAY=MO,WE,FR',
      'EXDATE;TZID=Europe/Berlin:20261102T090000',
      'EXDATE:20261102T080000Z',
      'EXDATE;VALUE=DATE:20261224',
      'RDATE;VALUE=DATE:20261224',
      'RDATE:20261103T090000Z,20261104T090000Z',
      'RDATE;TZID="America/New_York":20261105T090000',
    ]), { ok: true });
    assert.deepEqual(validateRecurrence(['RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=12']), { ok: true });
    assert.deepEqual(validateRecurrence([]), { ok: true });
  });

  test('accepts days that exist in some month of the rule, however seldom', () => {
    for (const rule of ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'RRULE:FREQ=YEARLY;BYMONTH=2,3;BYMONTHDAY=30', 'RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-29', 'RRULE:FREQ=MONTHLY;BYMONTHDAY=31', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO']) {
      assert.deepEqual(validateRecurrence([rule]), { ok: true }, rule);
    }
  });

  const rejects: Array<[string, string[], number, RegExp]> = [
    ['no FREQ', ['RRULE:COUNT=3'], 0, /FREQ/],
    ['UNTIL and COUNT', ['RRULE:FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z'], 0, /UNTIL and COUNT/],
    ['two RRULEs', ['RRULE:FREQ=DAILY', 'RRULE:FREQ=WEEKLY'], 1, /only one RRULE/],
    ['garbage line', ['RRULE:FREQ=DAILY', 'hello world'], 1, /cannot parse/],
    ['unknown property', ['FOO:BAR'], 0, /unsupported line/],
    ['EXRULE', ['EXRULE:FREQ=WEEKLY;BYDAY=MO'], 0, /EXRULE is not supported/],
    ['DTSTART line', ['DTSTART:20261102T080000Z'], 0, /DTSTART/],
    ['unknown FREQ', ['RRULE:FREQ=FORTNIGHTLY'], 0, /FREQ=FORTNIGHTLY/],
    ['unknown part', ['RRULE:FREQ=DAILY;FOO=1'], 0, /unknown part FOO/],
    ['BYHOUR out of range', ['RRULE:FREQ=DAILY;BYHOUR=25'], 0, /BYHOUR/],
    ['INTERVAL zero', ['RRULE:FREQ=DAILY;INTERVAL=0'], 0, /INTERVAL/],
    ['COUNT not a number', ['RRULE:FREQ=DAILY;COUNT=ten'], 0, /COUNT/],
    ['bad UNTIL', ['RRULE:FREQ=DAILY;UNTIL=2026-12-31'], 0, /UNTIL/],
    ['bad BYDAY', ['RRULE:FREQ=WEEKLY;BYDAY=XX'], 0, /BYDAY/],
    ['ordinal BYDAY with WEEKLY', ['RRULE:FREQ=WEEKLY;BYDAY=1MO'], 0, /ordinal/],
    ['BYSETPOS alone', ['RRULE:FREQ=MONTHLY;BYSETPOS=1'], 0, /BYSETPOS/],
    ['part twice', ['RRULE:FREQ=DAILY;COUNT=2;COUNT=3'], 0, /twice/],
    ['impossible EXDATE', ['RRULE:FREQ=DAILY', 'EXDATE:20261332T000000Z'], 1, /EXDATE/],
    ['unknown TZID', ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Mars/Base:20261102T090000'], 1, /time zone/],
    ['TZID with UTC value', ['EXDATE;TZID=Europe/Berlin:20261102T090000Z'], 0, /TZID/],
    ['date without VALUE=DATE', ['RDATE:20261224'], 0, /VALUE=DATE/],
    ['PERIOD', ['RDATE;VALUE=PERIOD:20261224T090000Z/20261224T100000Z'], 0, /PERIOD/],
    ['empty list item', ['RDATE:20261103T090000Z,,20261104T090000Z'], 0, /empty/],
    ['empty line', [''], 0, /empty/],
    ['a day no month of the rule has (30 February)', ['EXDATE:20261102T080000Z', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30'], 1, /never produces an occurrence.*BYMONTH=2.*BYMONTHDAY=30/],
    ['31 April and June, any frequency', ['RRULE:FREQ=DAILY;BYMONTH=4,6;BYMONTHDAY=31'], 0, /never produces an occurrence/],
    ['the 30th from the end of February', ['RRULE:FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30,-31'], 0, /never produces an occurrence/],
  ];
  for (const [name, lines, line, message] of rejects) {
    test(`rejects: ${name}`, () => {
      const result = validateRecurrence(lines);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.line, line);
      assert.match(result.message, message);
    });
  }
});

describe('isValidTimeZone', () => {
  test('IANA names are valid', () => {
    for (const zone of ['America/New_York', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'UTC', 'Etc/GMT+5']) assert.equal(isValidTimeZone(zone), true, zone);
  });
  test('unknown names, offsets and other strings are not', () => {
    for (const zone of ['', 'Mars/Olympus_Mons', 'Europe/Berlinn', '+01:00', '-05:00', '2026-01-01T00:00[Europe/Berlin]', 'Europe/Berlin ', 'local']) {
      assert.equal(isValidTimeZone(zone), false, zone);
    }
  });
});

describe('abusive rules stay bounded', () => {
  const wide = { fromMs: at('2026-02-01T00:00:00Z'), toMs: at('2036-01-01T00:00:00Z') };
  const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).join(',');

  for (const rule of [
    'RRULE:FREQ=SECONDLY',
    'RRULE:FREQ=MINUTELY',
    'RRULE:FREQ=SECONDLY;COUNT=100000000',
    `RRULE:FREQ=YEARLY;BYMONTH=${seq(1, 12)};BYMONTHDAY=${seq(1, 31)};BYHOUR=${seq(0, 23)};BYMINUTE=${seq(0, 59)};BYSECOND=${seq(0, 59)}`,
    'RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30',
  ]) {
    test(`${rule.slice(0, 60)} returns quickly with a bounded result`, () => {
      const s = series('2026-01-01T00:00:00Z', 'Europe/Berlin', [rule], 0);
      const began = Date.now();
      const expanded = expandSeries(s, wide);
      const next = nextOccurrences(s, wide.fromMs, 1_000_000);
      assert.ok(expanded.length <= 10_000, `expanded ${expanded.length}`);
      assert.ok(next.length <= 10_000, `next ${next.length}`);
      assert.ok(Date.now() - began < 10_000, 'took too long');
      for (let i = 1; i < expanded.length; i++) assert.ok(expanded[i]!.startMs > expanded[i - 1]!.startMs);
    });
  }

  test('a stored rule that can never match adds nothing and is not searched: DTSTART and RDATEs only', () => {
    const s = series('2026-12-10T10:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'RDATE:20270105T100000Z'], 30);
    const whole = { fromMs: at('2026-01-01T00:00:00Z'), toMs: at('9999-12-31T00:00:00Z') };
    const compiled = compileSeries(s);
    // Searched, the daily rule takes a thousand library calls to give up at year 9999.
    const work = { calls: 0 };
    for (const step of compiled.overlappingInSteps(whole)) if (step === null) work.calls++;
    assert.equal(work.calls, 0);
    assert.deepEqual(starts(compiled.expand(whole)), ['2026-12-10T10:00:00.000Z', '2027-01-05T10:00:00.000Z']);
    assert.deepEqual(starts(nextOccurrences(s, at('2027-01-01T00:00:00Z'), 5)), ['2027-01-05T10:00:00.000Z']);
    assert.equal(seriesEndMs(s), at('2027-01-05T10:30:00.000Z'));
  });

  test('a COUNT past the cap seriesEndMs counts is known to end once a walk has counted it out; a plain step at once; one too long to count, never', () => {
    const long = series('2026-07-01T10:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;COUNT=101'], 30);
    assert.equal(seriesEndMs(long), null, 'not counted when stored');
    const compiled = compileSeries(long);
    assert.equal(compiled.countedLastEndMs(), null, 'not walked yet');
    for (const _ of compiled.walkUntil(at('2026-08-01T00:00:00Z'))) { /* not far enough */ }
    assert.equal(compiled.countedLastEndMs(), null, 'walked only part of the way');
    for (const _ of compiled.walkUntil(at('2031-01-01T00:00:00Z'))) { /* past its end */ }
    // 101 days from 07-01: the last on 10-09, at 12:00 in Berlin as the first (still summer time).
    assert.equal(isoOf(compiled.countedLastEndMs()!), '2026-10-09T10:30:00.000Z');
    assert.equal(compileSeries(series('2026-07-01T10:00:00Z', 'UTC', ['RRULE:FREQ=MINUTELY;INTERVAL=30;COUNT=500'], 10)).countedLastEndMs(), at('2026-07-01T10:00:00Z') + 499 * 30 * MIN + 10 * MIN);
    // More instances than the walk counts (10,000): not ended, whatever the walk.
    const uncountable = compileSeries(series('2020-01-01T00:00:00Z', 'UTC', ['RRULE:FREQ=HOURLY;COUNT=20000'], 30));
    for (const _ of uncountable.walkUntil(at('2031-01-01T00:00:00Z'))) { /* as far as it goes */ }
    assert.equal(uncountable.countedLastEndMs(), null);
    // A rule without end: none.
    assert.equal(compileSeries(series('2026-07-01T10:00:00Z', 'UTC', ['RRULE:FREQ=DAILY'], 30)).countedLastEndMs(), null);
  });

  test('the end of a COUNT rule is found in steps a caller can pace, with the answer lastEndMs gives', () => {
    const yearly = series('2026-12-01T14:00:00Z', 'America/New_York', ['RRULE:FREQ=YEARLY;COUNT=100'], 30);
    const steps = compileSeries(yearly).lastEndSteps();
    let pauses = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) pauses++;
    // A hundred yearly instances are walked in windows of a few dozen: more than one step.
    assert.ok(pauses >= 2, `${pauses} pause(s)`);
    // The end of the last of the hundred occurrences the rule makes, expanded as a window.
    const all = expandSeries(yearly, { fromMs: at('2026-01-01T00:00:00Z'), toMs: at('2200-01-01T00:00:00Z') }, { limit: 1000 });
    assert.equal(all.length, 100);
    assert.equal(step.value, all.at(-1)!.endMs);
    assert.equal(isoOf(step.value!), '2125-12-01T14:30:00.000Z');
    // Past the cap, and without COUNT: nothing walked.
    assert.equal([...compileSeries(series('2026-07-01T10:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=101'], 30)).lastEndSteps()].length, 0);
    assert.equal([...compileSeries(series('2026-07-01T10:00:00Z', 'UTC', ['RRULE:FREQ=DAILY'], 30)).lastEndSteps()].length, 0);
  });

  test('a rule that seldom matches is searched in steps: a pause after each library call, the same occurrences between them', () => {
    // 29 February on a Monday: 2044, 2072, 2112 (2100 is no leap year), ...
    const s = series('2026-12-07T09:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO'], 30);
    const window = { fromMs: at('2026-12-08T00:00:00Z'), toMs: at('2200-01-01T00:00:00Z') };
    const compiled = compileSeries(s);
    const stepped = [...compiled.overlappingInSteps(window)];
    const occurrences = stepped.filter((step) => step !== null);
    assert.deepEqual(starts(occurrences), ['2044-02-29T09:00:00.000Z', '2072-02-29T09:00:00.000Z', '2112-02-29T09:00:00.000Z', '2140-02-29T09:00:00.000Z', '2168-02-29T09:00:00.000Z', '2196-02-29T09:00:00.000Z']);
    assert.deepEqual(starts([...compiled.overlapping(window)]), starts(occurrences));
    // Daily steps of at most 2,000 days: at least one pause for every 2,000 days searched.
    const pauses = stepped.length - occurrences.length;
    assert.ok(pauses >= Math.floor((window.toMs - window.fromMs) / (2000 * DAY)), `${pauses} pauses`);
  });

  test('the cap does not hide a sparse rule written at a fine frequency', () => {
    const s = series('2026-01-01T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=MINUTELY;BYHOUR=9;BYMINUTE=0'], 30);
    const got = nextOccurrences(s, at('2026-06-01T00:00:00Z'), 3);
    assert.deepEqual(starts(got), ['2026-06-01T07:00:00.000Z', '2026-06-02T07:00:00.000Z', '2026-06-03T07:00:00.000Z']);
  });
});

describe('windowed expansion agrees with full expansion', () => {
  const rules: SeriesDefinition[] = [
    series('2026-01-01T07:30:00Z', 'America/New_York', ['RRULE:FREQ=DAILY', 'EXDATE;VALUE=DATE:20260704', 'RDATE:20260310T120000Z'], 90),
    series('2026-01-05T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20271231T000000Z'], 60),
    series('2026-01-30T01:30:00Z', 'Europe/Berlin', ['RRULE:FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=2,9;BYMINUTE=30'], 45),
    series('2026-01-01T05:00:00Z', 'America/New_York', ['RRULE:FREQ=HOURLY;INTERVAL=7;BYDAY=MO,FR'], 20),
  ];
  const span = { fromMs: at('2025-12-01T00:00:00Z'), toMs: at('2028-01-01T00:00:00Z') };
  const fullByRule = rules.map((s) => expandSeries(s, span));

  test('property: any window equals the overlapping slice of one big expansion', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: rules.length - 1 }),
        fc.integer({ min: span.fromMs, max: span.toMs }),
        fc.integer({ min: 0, max: 120 * DAY }),
        (index, fromMs, width) => {
          const toMs = Math.min(fromMs + width, span.toMs);
          const s = rules[index]!;
          const expected = fullByRule[index]!.filter((o) => o.startMs < toMs && o.endMs > fromMs);
          assert.deepEqual(expandSeries(s, { fromMs, toMs }), expected);
          // Only the part inside the reference span can be compared.
          const next = nextOccurrences(s, fromMs, 5).filter((o) => o.startMs < span.toMs);
          assert.deepEqual(next, fullByRule[index]!.filter((o) => o.endMs > fromMs).slice(0, 5));
        },
      ),
      { numRuns: 60, seed: 20261025 },
    );
  });

  test('property: up to 600 upcoming, with many of them skipped, equal the full expansion (windows sized to what is wanted)', () => {
    // A weekday series with a run of EXDATEs: the rule yields instances the answer leaves out.
    const exdates = Array.from({ length: 40 }, (_, k) => `EXDATE:${isoOf(at('2026-03-02T08:00:00Z') + k * 7 * DAY).replace(/[-:]|\.000/g, '')}`);
    const dense = [...rules, series('2026-01-05T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', ...exdates], 30)];
    const full = dense.map((s) => expandSeries(s, span));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: dense.length - 1 }),
        fc.integer({ min: span.fromMs, max: at('2026-06-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 4 }),
        (index, afterMs, limit, skipEvery) => {
          const upcoming = full[index]!.filter((o) => o.endMs > afterMs);
          // Every k-th upcoming occurrence skipped (overridden elsewhere), as the events layer asks.
          const skip = new Set(skipEvery === 0 ? [] : upcoming.filter((_, k) => k % skipEvery === 0).map((o) => o.originalStartMs));
          const expected = upcoming.filter((o) => !skip.has(o.originalStartMs)).slice(0, limit).filter((o) => o.startMs < span.toMs);
          const got = compileSeries(dense[index]!).upcoming(afterMs, limit, { skipOriginalStartsMs: skip }).occurrences.filter((o) => o.startMs < span.toMs);
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 40, seed: 20261203 },
    );
  });
});

/** Main-thread CPU time of `work`, in ms: unlike the wall clock, not inflated by a busy machine. */
function cpuMs(work: () => void): number {
  const before = process.threadCpuUsage();
  work();
  const used = process.threadCpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('plain SECONDLY and MINUTELY rules are computed, not generated', () => {
  /** What the library itself generates for the rule in a window (the rule without UNTIL/COUNT handling of ours). */
  function libraryStarts(s: SeriesDefinition, rule: string, fromMs: number, toMs: number): string[] {
    const dtstart = Temporal.Instant.fromEpochMilliseconds(s.startMs).toZonedDateTimeISO(s.timeZone);
    const library = new RRuleTemporal({ rruleString: rule, dtstart, includeDtstart: true });
    return library.between(new Date(fromMs), new Date(toMs), true).map((z) => z.epochMilliseconds).filter((ms) => ms >= fromMs && ms < toMs).sort((a, b) => a - b).map(isoOf);
  }

  for (const zone of ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe']) {
    for (const rule of ['FREQ=MINUTELY;INTERVAL=7', 'FREQ=SECONDLY;INTERVAL=1277', 'FREQ=MINUTELY;INTERVAL=30']) {
      test(`${rule} in ${zone} across both DST changes matches the library instant for instant`, () => {
        const s = series('2026-01-01T05:00:17Z', zone, [`RRULE:${rule}`], 1);
        const windows: Array<[string, string]> = [['2026-03-07T00:00:00Z', '2026-03-09T00:00:00Z'], ['2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z'], ['2026-04-04T00:00:00Z', '2026-04-06T00:00:00Z'],
          ['2026-10-03T00:00:00Z', '2026-10-05T00:00:00Z'], ['2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'], ['2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z']];
        for (const [from, to] of windows) {
          const fromMs = at(from);
          const toMs = at(to);
          assert.deepEqual(starts(expandSeries(s, { fromMs, toMs })), libraryStarts(s, rule, fromMs, toMs), `${from}..${to}`);
        }
      });
    }
  }

  test('a SECONDLY series from year 0 reaches now at once; with COUNT it has long ended', () => {
    const now = at('2026-11-20T09:00:00.250Z');
    const open = series('0000-01-01T00:00:00Z', 'UTC', ['RRULE:FREQ=SECONDLY'], 0);
    let next!: ReturnType<ReturnType<typeof compileSeries>['upcoming']>;
    assert.ok(cpuMs(() => {
      next = compileSeries({ ...open, endMs: open.startMs + 1000 }).upcoming(now, 3);
    }) < 100);
    assert.deepEqual(starts(next.occurrences), ['2026-11-20T09:00:00.000Z', '2026-11-20T09:00:01.000Z', '2026-11-20T09:00:02.000Z']);
    assert.equal(next.isTruncated, false);
    assert.ok(findOccurrence(open, at('2026-11-20T09:00:05Z')));
    assert.equal(findOccurrence(open, at('2026-11-20T09:00:05.500Z')), null);
    const counted = series('0000-01-01T00:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=SECONDLY;COUNT=1000'], 0);
    assert.deepEqual(compileSeries(counted).upcoming(now, 3), { occurrences: [], isTruncated: false });
    assert.equal(expandSeries(counted, { fromMs: counted.startMs, toMs: counted.startMs + DAY }).length, 1000);
    // UNTIL and EXDATE apply as to any rule.
    const until = series('2026-11-20T09:00:00Z', 'UTC', ['RRULE:FREQ=MINUTELY;INTERVAL=10;UNTIL=20261120T093000Z', 'EXDATE:20261120T091000Z']);
    assert.deepEqual(all(until), ['2026-11-20T09:00:00.000Z', '2026-11-20T09:20:00.000Z', '2026-11-20T09:30:00.000Z']);
  });
});

describe('daily and longer rules, placed from local time, cost what their window holds', () => {
  // Local times are generated for the window's own span (widened only where the clocks change
  // within a day of an end), so a dense rule's narrow window stays cheap.
  for (const [rule, window, expected] of [
    ['FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=' + Array.from({ length: 60 }, (_, m) => m).join(','), HOUR, 60],
    ['FREQ=DAILY;BYMINUTE=' + Array.from({ length: 60 }, (_, m) => m).join(',') + ';BYSECOND=' + Array.from({ length: 60 }, (_, m) => m).join(','), 2 * MIN, 120],
  ] as const) {
    test(`${rule.slice(0, 40)}...: ${expected} occurrences in a ${window / MIN}-minute window, in little CPU`, () => {
      const s = series('2026-01-05T09:00:00Z', 'Europe/Berlin', [`RRULE:${rule}`], 0);
      // 10:00 in Berlin (CEST), inside the hour the second rule keeps (DTSTART's, 10:00 local).
      const fromMs = at('2026-06-10T08:00:00Z');
      let got: Occurrence[] = [];
      const used = cpuMs(() => {
        got = expandSeries(s, { fromMs, toMs: fromMs + window });
      });
      assert.equal(got.length, expected);
      assert.ok(used < 150, `${used.toFixed(0)} ms of CPU`);
      assert.equal(compileSeries(s).upcoming(fromMs, 5).occurrences.length, 5);
    });
  }
});

describe('COUNT rules are counted once, in steps', () => {
  test('the walk goes in short steps; later questions are answered from it', () => {
    const s = series('2000-01-03T09:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;COUNT=5000']);
    const compiled = compileSeries(s);
    const walk = compiled.walkUntil(at('2030-01-01T00:00:00Z'));
    let steps = 0;
    let longest = 0;
    let total = 0;
    for (let done = false; !done;) {
      const step = cpuMs(() => {
        done = walk.next().done === true;
      });
      longest = Math.max(longest, step);
      total += step;
      steps++;
    }
    assert.ok(steps > 5, `${steps} steps`);
    // Short against the whole walk (alone here: 10-50 ms a step of 320-440 ms): a bound in
    // milliseconds would measure the machine, which other processes share, not the stepping. A
    // walk in one piece would be one step of all of it; under half leaves room for the first
    // step's compilation and a garbage collection landing in one step (118 of 320 ms was seen
    // beside another test process).
    assert.ok(longest < total / 2, `a step took ${longest} ms of CPU, of ${total} ms for the walk`);
    const days = compiled.expand({ fromMs: at('2005-01-01T00:00:00Z'), toMs: at('2006-05-01T00:00:00Z') });
    assert.equal(days.length, 485);
    const lookups = cpuMs(() => {
      for (const day of days) assert.deepEqual(compiled.find(day.originalStartMs), day);
    });
    assert.ok(lookups < 200, `lookups after the walk took ${lookups} ms of CPU`);
    // The count still ends the series where it should: the 5,000th day (10:00 Berlin, CEST).
    const last5000 = compiled.upcoming(at('2013-09-01T00:00:00Z'), 10).occurrences;
    assert.equal(isoOf(last5000.at(-1)!.startMs), '2013-09-10T08:00:00.000Z');
    assert.deepEqual(starts(expandSeries(s, { fromMs: at('2013-09-09T00:00:00Z'), toMs: at('2014-01-01T00:00:00Z') })), ['2013-09-09T08:00:00.000Z', '2013-09-10T08:00:00.000Z']);
  });

  test('a COUNT rule too long to count up to the asked instant says so; an open rule never does', () => {
    const now = at('2026-11-20T09:00:00Z');
    const long = compileSeries(series('1900-01-01T09:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=100000']));
    assert.deepEqual(long.upcoming(now, 3), { occurrences: [], isTruncated: true });
    const open = compileSeries(series('1900-01-01T09:00:00Z', 'UTC', ['RRULE:FREQ=DAILY']));
    const next = open.upcoming(now, 3);
    assert.equal(next.isTruncated, false);
    assert.deepEqual(starts(next.occurrences), ['2026-11-20T09:00:00.000Z', '2026-11-21T09:00:00.000Z', '2026-11-22T09:00:00.000Z']);
    const ended = compileSeries(series('1900-01-01T09:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=10']));
    assert.deepEqual(ended.upcoming(now, 3), { occurrences: [], isTruncated: false });
  });

  test('overlapping() stops generating when its caller stops', () => {
    const dense = compileSeries(series('2026-01-01T00:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=SECONDLY;BYMINUTE=0,15,30,45'], 0));
    const first: Occurrence[] = [];
    const used = cpuMs(() => {
      for (const occurrence of dense.overlapping({ fromMs: at('2026-06-01T00:00:00Z'), toMs: at('2026-07-01T00:00:00Z') })) {
        first.push(occurrence);
        if (first.length === 101) break;
      }
    });
    assert.equal(isoOf(first[60]!.startMs), '2026-06-01T00:15:00.000Z');
    assert.ok(used < 500, `${used} ms of CPU`);
  });
});

describe('seriesEndMs: when a series is over', () => {
  const lastEnd = (s: SeriesDefinition): number => Math.max(...expandSeries(s, EVERYTHING).map((o) => o.endMs));

  test('a COUNT rule ends with its last occurrence, in its zone across a clock change', () => {
    const weekly = series('2026-10-05T07:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6'], 45);
    // Six Mondays at 09:00 Berlin: the last (Nov 9) is after the clocks went back, 08:00 UTC.
    assert.equal(isoOf(seriesEndMs(weekly)!), '2026-11-09T08:45:00.000Z');
    assert.equal(seriesEndMs(weekly), lastEnd(weekly));
  });

  test('an UNTIL rule is over an occurrence\'s length after its UNTIL, at the latest', () => {
    const until = series('2026-01-05T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=WEEKLY;UNTIL=20260301T000000Z'], 60);
    assert.equal(isoOf(seriesEndMs(until)!), '2026-03-01T01:00:00.000Z');
    assert.ok(seriesEndMs(until)! >= lastEnd(until));
    // A date-only UNTIL keeps its whole local day.
    const byDate = series('2026-01-05T08:00:00Z', 'Europe/Berlin', ['RRULE:FREQ=DAILY;UNTIL=20260110'], 60);
    assert.equal(isoOf(lastEnd(byDate)), '2026-01-10T09:00:00.000Z');
    assert.ok(seriesEndMs(byDate)! >= lastEnd(byDate));
  });

  test('an RDATE after the rule\'s end, or a series of RDATEs alone, ends with its latest date', () => {
    const later = series('2026-01-05T08:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=3', 'RDATE:20270101T120000Z'], 30);
    assert.equal(isoOf(seriesEndMs(later)!), '2027-01-01T12:30:00.000Z');
    const dates = series('2026-01-05T08:00:00Z', 'UTC', ['RDATE:20260301T090000Z,20260201T090000Z'], 30);
    assert.equal(isoOf(seriesEndMs(dates)!), '2026-03-01T09:30:00.000Z');
  });

  test('a rule without COUNT or UNTIL has no end; a COUNT too long to walk is taken as none', () => {
    assert.equal(seriesEndMs(series('2026-01-05T08:00:00Z', 'UTC', ['RRULE:FREQ=WEEKLY'])), null);
    assert.equal(seriesEndMs(series('2026-01-05T08:00:00Z', 'UTC', ['RRULE:FREQ=DAILY;COUNT=100000'])), null);
    // Unreadable series are read as endless (the caller then reads them every time).
    assert.equal(seriesEndMs({ startMs: 0, endMs: 60_000, timeZone: 'Not/AZone', recurrence: ['RRULE:FREQ=DAILY;COUNT=2'] }), null);
  });

  test('property: no occurrence of a series ends after seriesEndMs; without EXDATE it is the last one\'s end', () => {
    const freqs = ['MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...freqs),
        fc.integer({ min: 1, max: 3 }),
        fc.oneof(fc.record({ count: fc.integer({ min: 1, max: 60 }) }), fc.record({ untilDays: fc.integer({ min: 0, max: 400 }), dateOnly: fc.boolean() })),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'),
        fc.integer({ min: 0, max: 365 * DAY }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 800 * DAY })),
        (freq, interval, end, zone, offsetMs, dropSecond, rdateOffset) => {
          const startMs = at('2026-01-01T00:00:00Z') + Math.floor(offsetMs / MIN) * MIN;
          const compact = (ms: number) => isoOf(ms).replace(/[-:]|\.000/g, '');
          const endPart = 'count' in end ? `COUNT=${end.count}` : `UNTIL=${end.dateOnly ? compact(startMs + end.untilDays * DAY).slice(0, 8) : compact(startMs + end.untilDays * DAY)}`;
          const lines = [`RRULE:FREQ=${freq};INTERVAL=${interval};${endPart}`];
          if (rdateOffset !== null) lines.push(`RDATE:${compact(startMs + Math.floor(rdateOffset / MIN) * MIN)}`);
          const occurrences = expandSeries({ startMs, endMs: startMs + 30 * MIN, timeZone: zone, recurrence: lines }, EVERYTHING);
          if (dropSecond && occurrences.length > 1) lines.push(`EXDATE:${compact(occurrences.at(-1)!.startMs)}`);
          const s: SeriesDefinition = { startMs, endMs: startMs + 30 * MIN, timeZone: zone, recurrence: lines };
          const endMs = seriesEndMs(s);
          assert.notEqual(endMs, null);
          const all = expandSeries(s, EVERYTHING);
          for (const o of all) assert.ok(o.endMs <= endMs!, `${isoOf(o.endMs)} after ${isoOf(endMs!)} for ${lines.join(' ')} in ${zone}`);
          if ('count' in end && !dropSecond) assert.equal(endMs, Math.max(...all.map((o) => o.endMs)));
        },
      ),
      { numRuns: 100, seed: 20261205 },
    );
  });
});

describe('EXDATE and RDATE values are placed as Temporal places them', () => {
  const GAP_SERIES = [
    'RRULE:FREQ=DAILY;UNTIL=20261102',
    'EXDATE;TZID=America/New_York:20260308T023000',
    'EXDATE;TZID=America/New_York:20260309T023000,20260309T023000,20260310T023000',
    'EXDATE:20260311T063000Z',
    'EXDATE;VALUE=DATE:20261031,20261031',
    'RDATE;TZID=America/New_York:20260308T021500,20260308T030000',
    'RDATE;TZID=Europe/Berlin:20260329T023000,20261025T023000',
    'RDATE:20260312T023000',
    'RDATE;VALUE=DATE:20261101,20261101',
    'RDATE;TZID=America/New_York:20261101T013000',
    'RDATE;TZID=Pacific/Apia:20111230T120000,20111229T233000',
    'RDATE;TZID=Europe/Berlin:00010101T000000,99991231T233000',
    'RDATE;TZID=Australia/Lord_Howe:20261004T021500,20260405T013000',
    'RDATE:20261102T120000Z,20261102T120000Z',
  ];

  test('values in a spring-forward gap, a fall-back overlap, a skipped day, half-hour changes, year 1 and 9999, dates, UTC, floating, comma lists and duplicates', () => {
    // A daily 02:30 New York series: on 8 March 02:30 does not exist (03:30 EDT); on 1 November 01:30 happens twice.
    const compiled = compileSeries(series('2026-03-06T07:30:00Z', 'America/New_York', GAP_SERIES));
    const window = (from: string, to: string) => starts(compiled.expand({ fromMs: at(from), toMs: at(to) }));
    assert.deepEqual(window('2026-03-05T00:00:00Z', '2026-03-13T00:00:00Z'), ['2026-03-06T07:30:00.000Z', '2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:15:00.000Z', '2026-03-12T06:30:00.000Z']);
    assert.deepEqual(window('2026-10-30T00:00:00Z', '2026-11-04T00:00:00Z'), ['2026-10-30T06:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z', '2026-11-02T12:00:00.000Z']);
    assert.deepEqual(window('2026-03-28T12:00:00Z', '2026-03-29T03:00:00Z'), ['2026-03-29T01:30:00.000Z']);
    assert.deepEqual(window('2026-04-04T14:00:00Z', '2026-04-04T16:00:00Z'), ['2026-04-04T14:30:00.000Z']);
    assert.deepEqual(window('2026-10-03T15:00:00Z', '2026-10-03T16:00:00Z'), ['2026-10-03T15:45:00.000Z']);
    assert.deepEqual(window('2026-10-25T00:00:00Z', '2026-10-25T03:00:00Z'), ['2026-10-25T00:30:00.000Z']);
    assert.deepEqual(starts(compiled.expand({ fromMs: at('0000-01-01T00:00:00Z'), toMs: at('9999-12-31T23:59:59Z') }, { limit: 3 })), ['0000-12-31T23:06:32.000Z', '2011-12-30T09:30:00.000Z', '2011-12-30T22:00:00.000Z']);
    assert.equal(isoOf(compiled.lastEndMs()!), '9999-12-31T23:00:00.000Z');
  });

  test('values inside a fall-back overlap take its first instant, and an EXDATE there removes the rule instance', () => {
    const compiled = compileSeries(series('2026-10-30T05:30:00Z', 'America/New_York', [
      'RRULE:FREQ=DAILY;COUNT=8',
      'EXDATE;TZID=America/New_York:20261101T013000',
      'EXDATE;TZID=Europe/Berlin:20261103T073000',
      'EXDATE;VALUE=DATE:20261104',
      'RDATE;TZID=America/New_York:20261101T015959,20261101T010000,20261101T020000',
      'RDATE;VALUE=DATE:20261101',
    ]));
    assert.deepEqual(starts(compiled.expand({ fromMs: at('2026-10-29T00:00:00Z'), toMs: at('2026-11-05T00:00:00Z') })), ['2026-10-30T05:30:00.000Z', '2026-10-31T05:30:00.000Z', '2026-11-01T05:00:00.000Z', '2026-11-01T05:59:59.000Z', '2026-11-01T07:00:00.000Z', '2026-11-02T06:30:00.000Z']);
    assert.equal(isoOf(compiled.lastEndMs()!), '2026-11-06T07:00:00.000Z');
  });

  test('a value every 7 h 45 min through a year of clock changes, in six zones, lands where Temporal puts it', () => {
    for (const zone of ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Tehran', 'Pacific/Apia']) {
      const wallTimes: Temporal.PlainDateTime[] = [];
      for (let t = Temporal.PlainDateTime.from('2011-03-01T00:00'); Temporal.PlainDateTime.compare(t, '2012-03-01T00:00') < 0; t = t.add({ hours: 7, minutes: 45 })) wallTimes.push(t);
      const text = (t: Temporal.PlainDateTime) => t.toString().replace(/[-:]/g, '').slice(0, 15);
      const lines = wallTimes.map((t) => `RDATE;TZID=${zone}:${text(t)}`);
      const expected = [...new Set(wallTimes.map((t) => t.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds))].sort((a, b) => a - b);
      const found = compileSeries(series('2011-01-01T00:00:00Z', 'UTC', lines)).expand({ fromMs: at('2011-02-01T00:00:00Z'), toMs: at('2012-04-01T00:00:00Z') }).map((o) => o.startMs);
      assert.deepEqual(found.map(isoOf), expected.map(isoOf), zone);
    }
  });

  test('invalid dates and times are refused with the same messages', () => {
    const answers: Array<[string, ReturnType<typeof validateRecurrence>]> = [
      ['EXDATE;TZID=Europe/Berlin:20260230T090000', { ok: false, line: 0, message: 'EXDATE: "20260230T090000" is not a date-time (YYYYMMDDTHHMMSS[Z])' }],
      ['EXDATE:20260101T240000', { ok: false, line: 0, message: 'EXDATE: "20260101T240000" is not a date-time (YYYYMMDDTHHMMSS[Z])' }],
      ['EXDATE:20260101T235960', { ok: false, line: 0, message: 'EXDATE: "20260101T235960" is not a date-time (YYYYMMDDTHHMMSS[Z])' }],
      ['EXDATE;VALUE=DATE:00000229', { ok: true }],
      ['EXDATE;VALUE=DATE:19000229', { ok: false, line: 0, message: 'EXDATE: "19000229" is not a date (YYYYMMDD)' }],
      ['RDATE;VALUE=DATE:20240229', { ok: true }],
      ['EXDATE;TZID=Mars/Base:20260101T090000', { ok: false, line: 0, message: 'EXDATE: unknown time zone TZID=Mars/Base' }],
      ['EXDATE;TZID=Europe/Berlin:20260101T090000Z', { ok: false, line: 0, message: 'EXDATE: a UTC value ("20260101T090000Z") cannot also carry TZID' }],
      ['RDATE:20260101', { ok: false, line: 0, message: 'RDATE: "20260101" is not a date-time (YYYYMMDDTHHMMSS[Z]) (date-only values need VALUE=DATE)' }],
      ['EXDATE;VALUE=DATE:2026010', { ok: false, line: 0, message: 'EXDATE: "2026010" is not a date (YYYYMMDD)' }],
      ['RRULE:FREQ=DAILY;UNTIL=20260231', { ok: false, line: 0, message: 'RRULE: UNTIL=20260231 is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])' }],
    ];
    for (const [line, answer] of answers) assert.deepEqual(validateRecurrence([line]), answer, line);
  });

  test('a long list read again (validated, then compiled twice) gives the same answers, and a bad line in it is still named', () => {
    const lines = ['RRULE:FREQ=DAILY', ...Array.from({ length: 3000 }, (_, i) => `EXDATE;TZID=Europe/Berlin:${Temporal.PlainDate.from('2026-01-02').add({ days: i }).toString().replace(/-/g, '')}T090000`)];
    assert.deepEqual(validateRecurrence(lines), { ok: true });
    const definition = series('2026-01-01T08:00:00Z', 'Europe/Berlin', lines);
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(starts(compileSeries({ ...definition, recurrence: [...lines] }).expand({ fromMs: at('2025-12-31T00:00:00Z'), toMs: at('2034-03-25T00:00:00Z') })), ['2026-01-01T08:00:00.000Z', '2034-03-21T08:00:00.000Z', '2034-03-22T08:00:00.000Z', '2034-03-23T08:00:00.000Z', '2034-03-24T08:00:00.000Z']);
    }
    const bad = [...lines];
    bad[1500] = 'EXDATE;TZID=Europe/Berlin:20260230T090000';
    assert.deepEqual(validateRecurrence(bad), { ok: false, line: 1500, message: 'EXDATE: "20260230T090000" is not a date-time (YYYYMMDDTHHMMSS[Z])' });
    assert.deepEqual(validateRecurrence(lines), { ok: true });
  });
});

describe('EXDATE and RDATE values spread over many clock changes', () => {
  const text = (t: Temporal.PlainDateTime) => t.toString().replace(/[-:]/g, '').slice(0, 15);
  const wallMsOf = (t: Temporal.PlainDateTime) => t.toZonedDateTime('UTC').epochMilliseconds;

  test('9,999 RDATE values one a year (years 1-9999) are placed with a bounded number of transition searches, each where Temporal puts it', () => {
    const zone = 'Europe/Berlin';
    const wallTimes = Array.from({ length: 9999 }, (_, i) => Temporal.PlainDateTime.from({ year: i + 1, month: 7, day: 1, hour: 9 }));
    const lines: string[] = [];
    for (let i = 0; i < wallTimes.length; i += 100) lines.push(`RDATE;TZID=${zone}:${wallTimes.slice(i, i + 100).map(text).join(',')}`);
    assert.deepEqual(validateRecurrence(lines), { ok: true });
    const definition = series('2026-01-01T08:00:00Z', zone, lines);
    // The searches for a zone's transitions are what costs (each 100 µs or more in the centuries
    // without one): counted rather than timed. Values this far apart have a clock change between
    // each two, so a placement that walked from one to the next would search thousands of times.
    const prototype = Temporal.ZonedDateTime.prototype;
    const search = prototype.getTimeZoneTransition;
    let searches = 0;
    prototype.getTimeZoneTransition = function (this: Temporal.ZonedDateTime, direction: 'next' | 'previous') {
      searches++;
      return search.call(this, { direction });
    } as typeof search;
    let found;
    try {
      // Compiled, and every value placed (the values are placed when an expansion reaches them).
      const compiled = compileSeries({ ...definition, recurrence: [...lines] });
      found = compiled.expand({ fromMs: at('0000-01-01T00:00:00Z'), toMs: at('9999-12-31T23:59:59Z') }).map((o) => o.startMs).filter((ms) => ms !== definition.startMs);
    } finally {
      prototype.getTimeZoneTransition = search;
    }
    // A series' stretch reads: 32, and an eighth of one more per value placed from stretches
    // already read; two searches each.
    assert.ok(searches <= 2 * (32 + wallTimes.length / 8), `${searches} transition searches`);
    const expected = wallTimes.map((t) => t.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds);
    assert.deepEqual(found.map(isoOf), expected.map(isoOf));
  });

  test('in 30 zones, local times around every transition from 1970 to 2040 land where Temporal puts them', () => {
    const zones = [
      'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Anchorage', 'America/Havana',
      'America/Santiago', 'America/Asuncion', 'America/Sao_Paulo', 'America/St_Johns', 'America/Godthab', 'Atlantic/Azores',
      'Europe/London', 'Europe/Berlin', 'Europe/Moscow', 'Europe/Istanbul', 'Europe/Kiev', 'Africa/Cairo', 'Africa/Casablanca',
      'Asia/Tehran', 'Asia/Jerusalem', 'Asia/Beirut', 'Asia/Gaza', 'Asia/Kolkata', 'Asia/Pyongyang', 'Australia/Sydney',
      'Australia/Lord_Howe', 'Pacific/Auckland', 'Pacific/Chatham', 'Pacific/Apia',
    ];
    let checked = 0;
    for (const zone of zones) {
      // Per decade, so that each compile stays within its stretch reads and places every value itself.
      for (let year = 1970; year < 2040; year += 10) {
        const wallTimes: Temporal.PlainDateTime[] = [];
        const end = Temporal.Instant.from(`${year + 10}-01-01T00:00:00Z`);
        let zdt: Temporal.ZonedDateTime | null = Temporal.Instant.from(`${year}-01-01T00:00:00Z`).toZonedDateTimeISO(zone);
        while ((zdt = zdt.getTimeZoneTransition('next')) !== null && Temporal.Instant.compare(zdt.toInstant(), end) < 0) {
          const before = zdt.subtract({ nanoseconds: 1 }).toPlainDateTime().round('second');
          const after = zdt.toPlainDateTime();
          for (const local of [before, after]) {
            for (const seconds of [-5400, -1800, -1, 0, 1, 1799, 1800, 3600, 5400]) wallTimes.push(local.add({ seconds }));
          }
        }
        if (wallTimes.length === 0) continue;
        const lines = wallTimes.map((t) => `RDATE;TZID=${zone}:${text(t)}`);
        const expected = [...new Set(wallTimes.map((t) => temporalPlacement(wallMsOf(t), zone)))].sort((a, b) => a - b);
        const found = compileSeries(series('1969-01-01T00:00:00Z', 'UTC', lines))
          .expand({ fromMs: at(`${year - 1}-01-01T00:00:00Z`), toMs: at(`${year + 11}-01-01T00:00:00Z`) }).map((o) => o.startMs).filter((ms) => ms !== at('1969-01-01T00:00:00Z'));
        assert.deepEqual(found.map(isoOf), expected.map(isoOf), `${zone} ${year}s`);
        checked += wallTimes.length;
      }
    }
    assert.ok(checked > 20_000, `${checked} local times checked`);
  });
});

describe('EXDATE and RDATE values are placed only when a question reaches them', () => {
  const DATE_TIME = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15);
  const yearlyLines = (name: string, zone: string) => {
    const lines: string[] = [];
    for (let year = 1; year <= 9999; year += 100) {
      lines.push(`${name};TZID=${zone}:${Array.from({ length: Math.min(100, 10_000 - year) }, (_, i) => `${String(year + i).padStart(4, '0')}0101T090000`).join(',')}`);
    }
    return lines;
  };

  /** Runs `work` counting Temporal's own placements of a local time and its searches for a zone's transitions. */
  function counting<T>(work: () => T): { result: T; placements: number; searches: number } {
    const dateTime = Temporal.PlainDateTime.prototype;
    const zoned = Temporal.ZonedDateTime.prototype;
    const place = dateTime.toZonedDateTime;
    const search = zoned.getTimeZoneTransition;
    let placements = 0;
    let searches = 0;
    dateTime.toZonedDateTime = function (this: Temporal.PlainDateTime, ...args: Parameters<typeof place>) {
      placements++;
      return place.apply(this, args);
    } as typeof place;
    zoned.getTimeZoneTransition = function (this: Temporal.ZonedDateTime, direction: 'next' | 'previous') {
      searches++;
      return search.call(this, { direction });
    } as typeof search;
    try {
      return { result: work(), placements, searches };
    } finally {
      dateTime.toZonedDateTime = place;
      zoned.getTimeZoneTransition = search;
    }
  }

  test('a series of 9,999 RDATE values one a year compiles without placing them, and a question places the few near it', () => {
    // A zone the rest of the suite does not read, so that no stretch of it is known yet.
    const zone = 'Europe/Vienna';
    const definition = series('2026-11-23T08:00:00Z', zone, yearlyLines('RDATE', zone));
    const compiled = counting(() => compileSeries(definition));
    // DTSTART's own local time is read once; no value is placed.
    assert.ok(compiled.placements <= 1 && compiled.searches === 0, `compile: ${compiled.placements} placements, ${compiled.searches} searches`);
    const next = counting(() => compiled.result.upcoming(at('2026-12-01T00:00:00Z'), 3).occurrences.map((o) => isoOf(o.startMs)));
    assert.deepEqual(next.result, ['2027-01-01T08:00:00.000Z', '2028-01-01T08:00:00.000Z', '2029-01-01T08:00:00.000Z']);
    // A block of values around those years, never the thousands of others.
    assert.ok(next.placements + next.searches <= 40, `upcoming: ${next.placements} placements, ${next.searches} searches`);
    const found = counting(() => compiled.result.find(at('5000-01-01T08:00:00Z')));
    assert.equal(isoOf(found.result!.startMs), '5000-01-01T08:00:00.000Z');
    assert.ok(found.placements + found.searches <= 40, `find: ${found.placements} placements, ${found.searches} searches`);
    const end = counting(() => compiled.result.lastEndMs());
    assert.equal(isoOf(end.result!), '9999-01-01T08:30:00.000Z');
    assert.ok(end.placements + end.searches <= 40, `lastEndMs: ${end.placements} placements, ${end.searches} searches`);
  });

  test('a daily series with 9,999 EXDATE values one a year compiles without placing them; the days near a question are still removed', () => {
    const zone = 'Europe/Vienna';
    const definition = series('2026-11-23T08:00:00Z', zone, ['RRULE:FREQ=DAILY', ...yearlyLines('EXDATE', zone)]);
    const compiled = counting(() => compileSeries(definition));
    assert.ok(compiled.placements <= 1 && compiled.searches === 0, `compile: ${compiled.placements} placements, ${compiled.searches} searches`);
    const around = counting(() => starts(compiled.result.expand({ fromMs: at('2026-12-31T00:00:00Z'), toMs: at('2027-01-03T00:00:00Z') })));
    assert.deepEqual(around.result, ['2026-12-31T08:00:00.000Z', '2027-01-02T08:00:00.000Z']);
    assert.ok(around.placements + around.searches <= 40, `expand: ${around.placements} placements, ${around.searches} searches`);
    assert.equal(compiled.result.find(at('3000-01-01T08:00:00Z')), null);
    assert.equal(isoOf(compiled.result.find(at('3000-01-02T08:00:00Z'))!.startMs), '3000-01-02T08:00:00.000Z');
  });

  // Every answer of a compiled series about its RDATE/EXDATE values against the recurrence set
  // worked out here with Temporal directly (each value placed as a PlainDateTime in its zone,
  // 'compatible'), over generated series, with the questions asked in a random order so that
  // what is placed first differs from one series to the next.
  test('property: every answer is the one Temporal gives, whatever is asked first', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Pacific/Apia', 'Australia/Lord_Howe', 'UTC', 'America/Santiago', 'Pacific/Kiritimati', 'Asia/Tehran'];
    const place = (wallMs: number, zone: string) => temporalPlacement(wallMs, zone);
    const localDate = (ms: number, zone: string) => localOf(ms, zone).toPlainDate().toString();
    const wallArb = fc.oneof(
      // Near DTSTART (days or hours around it, before it too), in a gap or overlap of 2026, or any year.
      fc.tuple(fc.integer({ min: -40, max: 400 }), fc.constantFrom(0, 0, 0, -3, -1, 1, 5)).map(([days, hours]) => ({ near: true, offsetMs: days * DAY + hours * HOUR })),
      fc.constantFrom(Date.UTC(2026, 2, 8, 2, 30), Date.UTC(2026, 2, 29, 2, 30), Date.UTC(2026, 9, 25, 2, 30), Date.UTC(2026, 10, 1, 1, 30), Date.UTC(2011, 11, 30, 10), Date.UTC(2026, 3, 5, 1, 45))
        .map((wallMs) => ({ near: false, offsetMs: wallMs })),
      fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => ({ near: false, offsetMs: new Date(Date.UTC(2000, m, d, 9)).setUTCFullYear(y) })),
    );
    const valueArb = fc.record({
      name: fc.constantFrom('RDATE', 'EXDATE'),
      kind: fc.constantFrom('utc', 'zoned', 'other-zone', 'floating', 'date', 'dtstart'),
      wall: wallArb,
      zone: fc.constantFrom(...zones),
    });
    fc.assert(fc.property(
      fc.constantFrom(...zones), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 }), fc.array(valueArb, { maxLength: 40 }), fc.constantFrom(0, 30, 1440),
      fc.array(fc.integer({ min: -60, max: 500 }), { minLength: 6, maxLength: 6 }), fc.integer(),
      (zone, ruleKind, count, values, minutes, probes, seed) => {
        const startWall = Date.UTC(2026, 0, 5, 9, 30);
        const startMs = place(startWall, zone);
        const rule = ['', `RRULE:FREQ=DAILY;COUNT=${count + 1}`, 'RRULE:FREQ=WEEKLY', `RRULE:FREQ=HOURLY;INTERVAL=${count + 5};COUNT=${count + 1}`][ruleKind]!;
        const lines = rule ? [rule] : [];
        const explicit = new Set([startMs]);
        const exInstants = new Set<number>();
        const exDates = new Set<string>();
        for (const v of values) {
          const wallMs = v.wall.near ? startWall + v.wall.offsetMs : v.wall.offsetMs;
          let line: string;
          let instant: number;
          switch (v.kind) {
            case 'utc': line = `${v.name}:${DATE_TIME(wallMs)}Z`; instant = wallMs; break;
            case 'zoned': line = `${v.name};TZID=${zone}:${DATE_TIME(wallMs)}`; instant = place(wallMs, zone); break;
            case 'other-zone': line = `${v.name};TZID=${v.zone}:${DATE_TIME(wallMs)}`; instant = place(wallMs, v.zone); break;
            case 'floating': line = `${v.name}:${DATE_TIME(wallMs)}`; instant = place(wallMs, zone); break;
            case 'dtstart': line = `${v.name};TZID=${zone}:${DATE_TIME(startWall)}`; instant = startMs; break;
            default: {
              const day = DATE_TIME(wallMs).slice(0, 8);
              line = `${v.name};VALUE=DATE:${day}`;
              // A date takes DTSTART's local time (09:30). Date.UTC would read years 0-99 as 1900-1999.
              const d = new Date(0);
              d.setUTCFullYear(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
              instant = place(d.getTime() + 9.5 * HOUR, zone);
              if (v.name === 'EXDATE') exDates.add(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`);
            }
          }
          lines.push(line);
          if (v.name === 'RDATE') explicit.add(instant);
          else if (v.kind !== 'date') exInstants.add(instant);
        }
        const definition: SeriesDefinition = { startMs, endMs: startMs + minutes * MIN, timeZone: zone, recurrence: lines };
        // The rule's instances from Temporal: a daily or weekly one at DTSTART's local time, placed
        // like the values (two local times on one instant are one, and count once); an hourly one
        // a fixed step of absolute time (this zone's changes within a few hundred hours of January
        // move none of it).
        const ruleInstants: number[] = [];
        if (ruleKind === 1 || ruleKind === 2) {
          for (let k = 0; ruleKind === 2 ? k < 120 : ruleInstants.length < count + 1; k++) {
            const ms = k === 0 ? startMs : place(startWall + k * (ruleKind === 2 ? 7 : 1) * DAY, zone);
            if (ms !== ruleInstants.at(-1)) ruleInstants.push(ms);
          }
        } else if (ruleKind === 3) {
          for (let k = 0; k <= count; k++) ruleInstants.push(startMs + k * (count + 5) * HOUR);
        }
        const isExcluded = (ms: number) => exInstants.has(ms) || exDates.has(localDate(ms, zone));
        const occurrences = [...new Set([...explicit, ...ruleInstants])].filter((ms) => !isExcluded(ms)).sort((a, b) => a - b);
        // A weekly rule has no end: it is compared up to 119 weeks, well past every question.
        const horizon = ruleKind === 2 ? startMs + 119 * 7 * DAY : Infinity;
        const known = occurrences.filter((ms) => ms < horizon);
        const durationMs = minutes * MIN;
        const questions: Array<[string, (s: ReturnType<typeof compileSeries>) => unknown, unknown]> = [];
        questions.push(['all', (s) => s.expand({ fromMs: at('0000-01-01T00:00:00Z'), toMs: Math.min(horizon, at('9999-12-31T23:59:59Z')) }).map((o) => o.startMs), known]);
        for (const days of probes) {
          const afterMs = startMs + days * DAY;
          const expected = known.filter((ms) => ms + durationMs > afterMs).slice(0, 3);
          questions.push([`upcoming ${days}`, (s) => s.upcoming(afterMs, 3).occurrences.map((o) => o.startMs), expected]);
          const date = localDate(afterMs, zone);
          questions.push([`on ${date}`, (s) => s.onLocalDate(date).map((o) => o.startMs), known.filter((ms) => localDate(ms, zone) === date)]);
        }
        for (const ms of [...explicit, ...exInstants, ...ruleInstants.filter((ms) => ms < horizon)]) {
          questions.push([`find ${isoOf(ms)}`, (s) => s.find(ms)?.startMs ?? null, occurrences.includes(ms) ? ms : null]);
        }
        if (ruleKind !== 2 && count + 1 <= 100) {
          const lastExplicit = Math.max(...explicit);
          const lastRule = ruleInstants.filter((ms) => !isExcluded(ms)).reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
          questions.push(['lastEndMs', (s) => s.lastEndMs(), Math.max(lastExplicit, lastRule) + durationMs]);
        }
        // Asked in an order of the seed's choosing, of a fresh compile.
        let state = seed;
        const shuffled = questions.map((q) => ({ q, key: (state = (state * 1103515245 + 12345) % 2147483648) })).sort((a, b) => a.key - b.key).map(({ q }) => q);
        const compiled = compileSeries(definition);
        for (const [label, ask, expected] of shuffled) assert.deepEqual(ask(compiled), expected, `${label} of ${JSON.stringify(lines)}`);
      },
    ), { numRuns: 120 });
  });
});
