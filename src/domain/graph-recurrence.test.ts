// Expectations are concrete UTC instants so that they hold whatever the process zone is (the unit
// suite runs under TZ=UTC and TZ=America/Los_Angeles).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rruleOfGraphRecurrence, type GraphRecurrenceOptions } from './graph-recurrence.ts';
import { expandSeries, validateRecurrence, type SeriesDefinition } from './recurrence.ts';

const MIN = 60_000;
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  assert.ok(Number.isFinite(ms), `bad test instant ${iso}`);
  return ms;
};
const EVERYTHING = { fromMs: at('1900-01-01T00:00:00Z'), toMs: at('2200-01-01T00:00:00Z') };

/** Graph's own placeholders for fields a pattern type does not use (as event responses carry them). */
const PLACEHOLDERS = { month: 0, dayOfMonth: 0, firstDayOfWeek: 'sunday', index: 'first' };
const noEnd = (startDate: string) => ({ type: 'noEnd', startDate, endDate: '0001-01-01', recurrenceTimeZone: 'Eastern Standard Time', numberOfOccurrences: 0 });
const numbered = (startDate: string, n: number) => ({ type: 'numbered', startDate, endDate: '0001-01-01', numberOfOccurrences: n });
const until = (startDate: string, endDate: string, recurrenceTimeZone?: string) => ({
  type: 'endDate', startDate, endDate, numberOfOccurrences: 0, ...(recurrenceTimeZone === undefined ? {} : { recurrenceTimeZone }),
});

/** The rule for a pattern and range; asserts it is non-null and that recurrence.ts accepts it. */
function rule(pattern: object, range: object, options?: GraphRecurrenceOptions): string {
  const line = rruleOfGraphRecurrence({ pattern, range }, options);
  assert.ok(line !== null, `expected a rule for ${JSON.stringify({ pattern, range })}`);
  assert.deepEqual(validateRecurrence([line]), { ok: true }, line);
  return line;
}

/** Starts (ISO, UTC) of every occurrence of a finite series. */
function starts(startIso: string, timeZone: string, line: string): string[] {
  const startMs = at(startIso);
  const series: SeriesDefinition = { startMs, endMs: startMs + 30 * MIN, timeZone, recurrence: [line] };
  return expandSeries(series, EVERYTHING).map((o) => new Date(o.startMs).toISOString());
}

describe('pattern types (learn.microsoft.com/graph/api/resources/recurrencepattern)', () => {
  test('daily: FREQ=DAILY, INTERVAL only when it is not 1, placeholders ignored', () => {
    assert.equal(rule({ type: 'daily', interval: 1, ...PLACEHOLDERS }, noEnd('2026-01-05')), 'RRULE:FREQ=DAILY');
    assert.equal(rule({ type: 'daily', interval: 3, ...PLACEHOLDERS, daysOfWeek: [] }, noEnd('2026-01-05')), 'RRULE:FREQ=DAILY;INTERVAL=3');
  });

  test('weekly: BYDAY in RRULE order, deduplicated, with WKST from firstDayOfWeek (default sunday)', () => {
    // The shape Graph returns for "every Tuesday and Thursday".
    assert.equal(
      rule({ type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: ['tuesday', 'thursday'], firstDayOfWeek: 'sunday', index: 'first' }, noEnd('2017-08-15')),
      'RRULE:FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU',
    );
    assert.equal(
      rule({ type: 'weekly', interval: 2, daysOfWeek: ['friday', 'monday', 'friday'], firstDayOfWeek: 'monday' }, noEnd('2026-01-05')),
      'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=MO',
    );
    assert.equal(rule({ type: 'weekly', interval: 1, daysOfWeek: ['sunday'] }, noEnd('2026-01-04')), 'RRULE:FREQ=WEEKLY;BYDAY=SU;WKST=SU');
  });

  test('weekly WKST decides which Sunday goes with which Monday when interval > 1', () => {
    // Every other week on Sunday and Monday, first occurrence Monday 2026-01-05 09:00 UTC.
    const pattern = (firstDayOfWeek: string) => ({ type: 'weekly', interval: 2, daysOfWeek: ['sunday', 'monday'], firstDayOfWeek });
    const sundayWeeks = starts('2026-01-05T09:00:00Z', 'UTC', rule(pattern('sunday'), numbered('2026-01-05', 4)));
    const mondayWeeks = starts('2026-01-05T09:00:00Z', 'UTC', rule(pattern('monday'), numbered('2026-01-05', 4)));
    // Weeks Sun..Sat: the Sunday before the start is in the first week (and skipped); then Sun 18, Mon 19.
    assert.deepEqual(sundayWeeks, ['2026-01-05T09:00:00.000Z', '2026-01-18T09:00:00.000Z', '2026-01-19T09:00:00.000Z', '2026-02-01T09:00:00.000Z']);
    // Weeks Mon..Sun: the Sunday after the start is in the first week.
    assert.deepEqual(mondayWeeks, ['2026-01-05T09:00:00.000Z', '2026-01-11T09:00:00.000Z', '2026-01-19T09:00:00.000Z', '2026-01-25T09:00:00.000Z']);
  });

  test('absoluteMonthly: BYMONTHDAY, and a day some months lack falls on their last day (Exchange rule)', () => {
    assert.equal(rule({ type: 'absoluteMonthly', interval: 3, dayOfMonth: 15, ...{ month: 0, index: 'first' } }, noEnd('2026-01-15')), 'RRULE:FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15');
    assert.equal(rule({ type: 'absoluteMonthly', interval: 1, dayOfMonth: 28 }, noEnd('2026-01-28')), 'RRULE:FREQ=MONTHLY;BYMONTHDAY=28');
    const on31 = rule({ type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, numbered('2026-01-31', 4));
    assert.equal(on31, 'RRULE:FREQ=MONTHLY;COUNT=4;BYMONTHDAY=28,29,30,31;BYSETPOS=-1');
    assert.deepEqual(starts('2026-01-31T10:00:00Z', 'UTC', on31), ['2026-01-31T10:00:00.000Z', '2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z', '2026-04-30T10:00:00.000Z']);
    const on30 = rule({ type: 'absoluteMonthly', interval: 1, dayOfMonth: 30 }, numbered('2028-01-30', 3));
    assert.deepEqual(starts('2028-01-30T10:00:00Z', 'UTC', on30), ['2028-01-30T10:00:00.000Z', '2028-02-29T10:00:00.000Z', '2028-03-30T10:00:00.000Z']);
  });

  test('relativeMonthly with several days: "first weekday" is BYDAY=MO..FR;BYSETPOS=1', () => {
    const first = rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'first', ...{ month: 0, dayOfMonth: 0, firstDayOfWeek: 'sunday' } }, numbered('2026-01-01', 3));
    assert.equal(first, 'RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1');
    // 2026-02-01 is a Sunday and 2026-03-01 too: their first weekdays are the 2nd.
    assert.deepEqual(starts('2026-01-01T15:00:00Z', 'UTC', first), ['2026-01-01T15:00:00.000Z', '2026-02-02T15:00:00.000Z', '2026-03-02T15:00:00.000Z']);
  });

  test('relativeMonthly index last is BYSETPOS=-1 ("last weekday")', () => {
    const last = rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday', 'thursday', 'wednesday', 'tuesday', 'monday'], index: 'last' }, until('2026-01-30', '2026-05-31', 'UTC'));
    assert.equal(last, 'RRULE:FREQ=MONTHLY;UNTIL=20260531T235959Z;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1');
    // 2026-05-31 is a Sunday, so May's last weekday is Friday the 29th.
    assert.deepEqual(starts('2026-01-30T15:00:00Z', 'UTC', last), [
      '2026-01-30T15:00:00.000Z', '2026-02-27T15:00:00.000Z', '2026-03-31T15:00:00.000Z', '2026-04-30T15:00:00.000Z', '2026-05-29T15:00:00.000Z',
    ]);
  });

  test('relativeMonthly: one day uses the same BYDAY+BYSETPOS form; index defaults to first', () => {
    // Graph's example: "the second Thursday or Friday every three months".
    assert.equal(rule({ type: 'relativeMonthly', interval: 3, daysOfWeek: ['thursday', 'friday'], index: 'second' }, noEnd('2026-01-08')), 'RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=TH,FR;BYSETPOS=2');
    const secondThursday = rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['thursday'], index: 'second' }, numbered('2026-01-08', 3));
    assert.equal(secondThursday, 'RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TH;BYSETPOS=2');
    assert.deepEqual(starts('2026-01-08T15:00:00Z', 'UTC', secondThursday), ['2026-01-08T15:00:00.000Z', '2026-02-12T15:00:00.000Z', '2026-03-12T15:00:00.000Z']);
    assert.equal(rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday'] }, noEnd('2026-01-05')), 'RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1');
    assert.equal(rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday'], index: null }, noEnd('2026-01-05')), 'RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1');
    for (const [index, position] of [['third', 3], ['fourth', 4]] as const) {
      assert.equal(rule({ type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday'], index }, noEnd('2026-01-05')), `RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=${position}`);
    }
  });

  test('absoluteYearly: BYMONTH + BYMONTHDAY; 29 February falls on the 28th in common years', () => {
    // Graph's example: "the 15th of March every 3 years".
    assert.equal(rule({ type: 'absoluteYearly', interval: 3, month: 3, dayOfMonth: 15, ...{ firstDayOfWeek: 'sunday', index: 'first' } }, noEnd('2026-03-15')), 'RRULE:FREQ=YEARLY;INTERVAL=3;BYMONTH=3;BYMONTHDAY=15');
    const leapDay = rule({ type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 29 }, numbered('2028-02-29', 3));
    assert.equal(leapDay, 'RRULE:FREQ=YEARLY;COUNT=3;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1');
    assert.deepEqual(starts('2028-02-29T12:00:00Z', 'UTC', leapDay), ['2028-02-29T12:00:00.000Z', '2029-02-28T12:00:00.000Z', '2030-02-28T12:00:00.000Z']);
  });

  test('relativeYearly: BYMONTH + BYDAY + BYSETPOS (fourth Thursday of November; last weekday of March)', () => {
    const thanksgiving = rule({ type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['thursday'], index: 'fourth', dayOfMonth: 0 }, numbered('2026-11-26', 3));
    assert.equal(thanksgiving, 'RRULE:FREQ=YEARLY;COUNT=3;BYMONTH=11;BYDAY=TH;BYSETPOS=4');
    assert.deepEqual(starts('2026-11-26T17:00:00Z', 'UTC', thanksgiving), ['2026-11-26T17:00:00.000Z', '2027-11-25T17:00:00.000Z', '2028-11-23T17:00:00.000Z']);
    const lastWeekday = rule({ type: 'relativeYearly', interval: 2, month: 3, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'last' }, numbered('2026-03-31', 2));
    assert.equal(lastWeekday, 'RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=2;BYMONTH=3;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1');
    // 2028-03-31 is a Friday.
    assert.deepEqual(starts('2026-03-31T08:00:00Z', 'UTC', lastWeekday), ['2026-03-31T08:00:00.000Z', '2028-03-31T08:00:00.000Z']);
  });

  test('enumeration values are matched without regard to case (older Outlook APIs wrote PascalCase)', () => {
    assert.equal(rule({ type: 'RelativeMonthly', interval: 1, daysOfWeek: ['Monday'], index: 'Last' }, { type: 'NoEnd', startDate: '2026-01-26' }), 'RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1');
  });
});

describe('range types (learn.microsoft.com/graph/api/resources/recurrencerange)', () => {
  const weekly = { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' };

  test('noEnd adds nothing, whatever placeholders it carries', () => {
    assert.equal(rule(weekly, noEnd('2026-01-05')), 'RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU');
    assert.equal(rule(weekly, { type: 'noEnd', startDate: '2026-01-05' }), 'RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU');
  });

  test('numbered is COUNT=n and yields n occurrences', () => {
    const line = rule(weekly, numbered('2026-01-05', 3));
    assert.equal(line, 'RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=MO;WKST=SU');
    assert.equal(starts('2026-01-05T09:00:00Z', 'Europe/Berlin', line).length, 3);
  });

  test('endDate with a known zone: UNTIL is the last second of the end date there, in UTC', () => {
    assert.equal(rule(weekly, until('2026-01-05', '2026-03-30'), { timeZone: 'Europe/Berlin' }), 'RRULE:FREQ=WEEKLY;UNTIL=20260330T215959Z;BYDAY=MO;WKST=SU');
    assert.equal(rule(weekly, until('2026-01-05', '2026-01-26'), { timeZone: 'America/New_York' }), 'RRULE:FREQ=WEEKLY;UNTIL=20260127T045959Z;BYDAY=MO;WKST=SU');
    assert.equal(rule(weekly, until('2026-01-05', '2026-01-26', 'UTC')), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T235959Z;BYDAY=MO;WKST=SU');
    // Same start and end date: a one-occurrence range is valid.
    assert.equal(rule(weekly, until('2026-01-05', '2026-01-05', 'UTC')), 'RRULE:FREQ=WEEKLY;UNTIL=20260105T235959Z;BYDAY=MO;WKST=SU');
  });

  test('endDate west of UTC: an occurrence on the end date (next day in UTC) is kept, none after', () => {
    // Fridays 17:00 in Los Angeles start on Saturday in UTC; the range ends Friday 2026-03-27.
    const pattern = { type: 'weekly', interval: 1, daysOfWeek: ['friday'], firstDayOfWeek: 'sunday' };
    const line = rule(pattern, until('2026-03-06', '2026-03-27'), { timeZone: 'America/Los_Angeles' });
    assert.equal(line, 'RRULE:FREQ=WEEKLY;UNTIL=20260328T065959Z;BYDAY=FR;WKST=SU');
    const expected = ['2026-03-07T01:00:00.000Z', '2026-03-14T00:00:00.000Z', '2026-03-21T00:00:00.000Z', '2026-03-28T00:00:00.000Z'];
    assert.deepEqual(starts('2026-03-07T01:00:00Z', 'America/Los_Angeles', line), expected);
    // Why not a fixed UTC end of day: it loses the end date's occurrence.
    assert.deepEqual(starts('2026-03-07T01:00:00Z', 'America/Los_Angeles', 'RRULE:FREQ=WEEKLY;UNTIL=20260327T235959Z;BYDAY=FR;WKST=SU'), expected.slice(0, 3));
  });

  test('endDate east of UTC: the day after the end date is excluded even when it is still the end date in UTC', () => {
    // 08:00 in Kiritimati (UTC+14) is 18:00 UTC of the previous day.
    const daily = { type: 'daily', interval: 1 };
    const line = rule(daily, until('2026-03-25', '2026-03-27'), { timeZone: 'Pacific/Kiritimati' });
    assert.equal(line, 'RRULE:FREQ=DAILY;UNTIL=20260327T095959Z');
    assert.deepEqual(starts('2026-03-24T18:00:00Z', 'Pacific/Kiritimati', line), ['2026-03-24T18:00:00.000Z', '2026-03-25T18:00:00.000Z', '2026-03-26T18:00:00.000Z']);
  });

  test('an occurrence at 23:59 local on the end date is kept; one at 00:00 the next day is not', () => {
    const line = rule({ type: 'daily', interval: 1 }, until('2026-06-01', '2026-06-03'), { timeZone: 'Asia/Kolkata' });
    assert.equal(starts('2026-06-01T18:29:00Z', 'Asia/Kolkata', line).at(-1), '2026-06-03T18:29:00.000Z'); // 23:59 IST on 06-03
    assert.deepEqual(starts('2026-06-01T18:30:00Z', 'Asia/Kolkata', line), ['2026-06-01T18:30:00.000Z', '2026-06-02T18:30:00.000Z']); // 00:00 IST on 06-02, 06-03
  });

  test('recurrenceTimeZone governs endDate when it is (or resolves to) an IANA zone', () => {
    const weeklyRule = (range: object, options?: GraphRecurrenceOptions) => rule(weekly, range, options);
    assert.equal(weeklyRule(until('2026-01-05', '2026-01-26', 'Asia/Tokyo'), { timeZone: 'Europe/London' }), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T145959Z;BYDAY=MO;WKST=SU');
    const resolveTimeZone = (name: string) => (name === 'Tokyo Standard Time' ? 'Asia/Tokyo' : null);
    assert.equal(weeklyRule(until('2026-01-05', '2026-01-26', 'Tokyo Standard Time'), { timeZone: 'Europe/London', resolveTimeZone }), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T145959Z;BYDAY=MO;WKST=SU');
    // Unresolvable (or a resolver answering junk, or throwing): the series zone.
    assert.equal(weeklyRule(until('2026-01-05', '2026-01-26', 'Tokyo Standard Time'), { timeZone: 'Europe/London' }), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T235959Z;BYDAY=MO;WKST=SU');
    assert.equal(weeklyRule(until('2026-01-05', '2026-01-26', 'Tokyo Standard Time'), { timeZone: 'Europe/London', resolveTimeZone: () => '+09:00' }), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T235959Z;BYDAY=MO;WKST=SU');
    assert.equal(weeklyRule(until('2026-01-05', '2026-01-26', 'Tokyo Standard Time'), { timeZone: 'Europe/London', resolveTimeZone: () => { throw new Error('boom'); } }), 'RRULE:FREQ=WEEKLY;UNTIL=20260126T235959Z;BYDAY=MO;WKST=SU');
  });

  test('endDate with no usable zone: no rule (a bare UNTIL date beside a date-time start is not RFC 5545); an all-day series ends on the date itself', () => {
    const pattern = { type: 'weekly', interval: 1, daysOfWeek: ['friday'], firstDayOfWeek: 'sunday' };
    for (const options of [undefined, {}, { timeZone: null }, { timeZone: 'Not/AZone' }, { timeZone: '+02:00' }]) {
      assert.equal(rruleOfGraphRecurrence({ pattern, range: until('2026-03-06', '2026-03-27', 'Pacific Standard Time') }, options), null);
    }
    // Years outside 1000..9998 cannot be written either.
    assert.equal(rruleOfGraphRecurrence({ pattern, range: until('2026-03-06', '9999-12-31') }, { timeZone: 'America/Los_Angeles' }), null);
    // All-day: DTSTART is a date, so UNTIL is the end date, whatever the zone.
    const allDay = rule(pattern, until('2026-03-06', '2026-03-27', 'Pacific Standard Time'), { isAllDay: true });
    assert.equal(allDay, 'RRULE:FREQ=WEEKLY;UNTIL=20260327;BYDAY=FR;WKST=SU');
    assert.equal(rule(pattern, until('2026-03-06', '2026-03-27'), { isAllDay: true, timeZone: 'America/Los_Angeles' }), allDay);
    assert.deepEqual(starts('2026-03-06T08:00:00Z', 'America/Los_Angeles', allDay), ['2026-03-06T08:00:00.000Z', '2026-03-13T07:00:00.000Z', '2026-03-20T07:00:00.000Z', '2026-03-27T07:00:00.000Z']);
  });

  test('a local midnight skipped or repeated by DST ends the day where recurrence.ts says it does', () => {
    const daily = { type: 'daily', interval: 1 };
    // Sao Paulo, 2018-11-04: 00:00 -03 jumped to 01:00 -02, so that day began at 03:00Z.
    assert.equal(rule(daily, until('2018-11-01', '2018-11-03'), { timeZone: 'America/Sao_Paulo' }), 'RRULE:FREQ=DAILY;UNTIL=20181104T025959Z');
    // Sao Paulo, 2018-02-17: 24:00 -02 went back to 23:00 -03; 2018-02-18 began once, at 03:00Z.
    assert.equal(rule(daily, until('2018-02-14', '2018-02-17'), { timeZone: 'America/Sao_Paulo' }), 'RRULE:FREQ=DAILY;UNTIL=20180218T025959Z');
    // The second 23:30 of 2018-02-17 is not a new occurrence (recurrence.ts takes the first), and 02-18 is out.
    assert.deepEqual(starts('2018-02-16T01:30:00Z', 'America/Sao_Paulo', rule(daily, until('2018-02-15', '2018-02-17'), { timeZone: 'America/Sao_Paulo' })), [
      '2018-02-16T01:30:00.000Z', '2018-02-17T01:30:00.000Z', '2018-02-18T01:30:00.000Z',
    ]);
  });

  test('the UTC form and the date form of UNTIL expand alike, across DST and zones whose midnight can be skipped or repeated', () => {
    const zones = ['America/Los_Angeles', 'Europe/Berlin', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'America/Sao_Paulo', 'Australia/Lord_Howe'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 5 * 365 }), // start day offset from 2014-01-01
        fc.integer({ min: 0, max: 40 }), // range length in days
        fc.constantFrom(0, 15, 30, 60, 9 * 60, 23 * 60, 23 * 60 + 30, 23 * 60 + 59), // local minutes after midnight
        (zone, startOffset, length, minutes) => {
          const startDay = new Date(Date.UTC(2014, 0, 1) + startOffset * 86_400_000);
          const endDay = new Date(startDay.getTime() + length * 86_400_000);
          const iso = (d: Date) => d.toISOString().slice(0, 10);
          const pattern = { type: 'daily', interval: 1 };
          const exact = rule(pattern, until(iso(startDay), iso(endDay)), { timeZone: zone });
          assert.match(exact, /;?UNTIL=\d{8}T\d{6}Z/);
          // recurrence.ts reads a bare UNTIL date as the whole local end date: Graph's meaning.
          const dateOnly = exact.replace(/UNTIL=\d{8}T\d{6}Z/, `UNTIL=${iso(endDay).replaceAll('-', '')}`);
          // Start roughly at the local time wanted (the first occurrence's exact instant does not matter).
          const startMs = startDay.getTime() + minutes * MIN + 12 * 60 * MIN;
          const series = (line: string): SeriesDefinition => ({ startMs, endMs: startMs + 30 * MIN, timeZone: zone, recurrence: [line] });
          assert.deepEqual(expandSeries(series(exact), EVERYTHING), expandSeries(series(dateOnly), EVERYTHING));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('hostile or malformed input gives null, never an exception', () => {
  const good = { pattern: { type: 'daily', interval: 1 }, range: noEnd('2026-01-05') };
  const withPattern = (patch: object) => ({ ...good, pattern: { ...good.pattern, ...patch } });
  const withRange = (patch: object) => ({ ...good, range: { ...good.range, ...patch } });

  test('the baseline is accepted', () => {
    assert.equal(rruleOfGraphRecurrence(good), 'RRULE:FREQ=DAILY');
  });

  test('not an object, or pattern/range missing', () => {
    for (const [i, input] of [undefined, null, 0, 42, NaN, '', 'RRULE:FREQ=DAILY', true, [], [good], () => good, Symbol('x'), 10n,
      {}, { pattern: good.pattern }, { range: good.range }, { pattern: null, range: good.range }, { pattern: good.pattern, range: [] },
      { pattern: [good.pattern], range: good.range }, { pattern: 'daily', range: good.range }].entries()) {
      assert.equal(rruleOfGraphRecurrence(input), null, `input #${i}`);
    }
  });

  test('bad pattern type and injection attempts', () => {
    for (const type of [undefined, null, '', 'hourly', 'yearly', 'monthly', 'daily;COUNT=1', 'daily\r\nRRULE:FREQ=SECONDLY', ' daily', 7, ['daily'], { toString: () => 'daily' }, '__proto__', 'constructor']) {
      assert.equal(rruleOfGraphRecurrence(withPattern({ type })), null, String(type));
    }
    assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'weekly', daysOfWeek: ['monday;COUNT=1'] })), null);
    assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'weekly', daysOfWeek: ['monday'], firstDayOfWeek: 'MO;COUNT=1' })), null);
    assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'relativeMonthly', daysOfWeek: ['monday'], index: '1;COUNT=1' })), null);
    assert.equal(rruleOfGraphRecurrence(withRange({ type: 'noEnd;COUNT=1' })), null);
  });

  test('interval: required, a positive integer that recurrence.ts can take', () => {
    for (const interval of [undefined, null, 0, -1, 1.5, NaN, Infinity, -Infinity, '2', '1', [2], { valueOf: () => 2 }, 1e10, 2 ** 53, Number.MAX_VALUE, 1_000_000_000]) {
      assert.equal(rruleOfGraphRecurrence(withPattern({ interval })), null, String(interval));
    }
    assert.equal(rule({ type: 'daily', interval: 999_999_999 }, noEnd('2026-01-05')), 'RRULE:FREQ=DAILY;INTERVAL=999999999');
  });

  test('daysOfWeek, firstDayOfWeek, index, dayOfMonth and month out of their documented values', () => {
    const weekly = (patch: object) => withPattern({ type: 'weekly', daysOfWeek: ['monday'], firstDayOfWeek: 'sunday', ...patch });
    for (const daysOfWeek of [undefined, null, [], 'monday', ['funday'], ['monday', 'funday'], [null], [{}], [1], ['mon'], new Array(100).fill('monday')]) {
      assert.equal(rruleOfGraphRecurrence(weekly({ daysOfWeek })), null, JSON.stringify(daysOfWeek));
    }
    for (const firstDayOfWeek of ['', 'mon', 1, ['sunday'], {}]) assert.equal(rruleOfGraphRecurrence(weekly({ firstDayOfWeek })), null, JSON.stringify(firstDayOfWeek));
    const relative = (patch: object) => withPattern({ type: 'relativeMonthly', daysOfWeek: ['monday'], ...patch });
    for (const index of ['fifth', 'First ', '', 1, -1, ['first']]) assert.equal(rruleOfGraphRecurrence(relative({ index })), null, JSON.stringify(index));
    for (const dayOfMonth of [undefined, null, 0, 32, -1, 15.5, '15']) {
      assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'absoluteMonthly', dayOfMonth })), null, String(dayOfMonth));
      assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'absoluteYearly', month: 3, dayOfMonth })), null, String(dayOfMonth));
    }
    for (const month of [undefined, null, 0, 13, 2.5, '3']) {
      assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'absoluteYearly', month, dayOfMonth: 15 })), null, String(month));
      assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'relativeYearly', month, daysOfWeek: ['monday'], index: 'first' })), null, String(month));
    }
    assert.equal(rruleOfGraphRecurrence(withPattern({ type: 'relativeYearly', month: 3, index: 'first' })), null);
  });

  test('range: unknown type, missing or impossible dates, non-positive counts', () => {
    for (const range of [
      { type: 'forever', startDate: '2026-01-05' },
      { type: 'noEnd' },
      { type: 'noEnd', startDate: '2026-13-01' },
      { type: 'noEnd', startDate: '2026-1-5' },
      { type: 'noEnd', startDate: 20260105 },
      { type: 'endDate', startDate: '2026-01-05' },
      { type: 'endDate', startDate: '2026-01-05', endDate: '0001-01-01' },
      { type: 'endDate', startDate: '2026-01-05', endDate: '2026-01-04' },
      { type: 'endDate', startDate: '2026-01-05', endDate: '2026-02-30' },
      { type: 'endDate', startDate: '2026-01-05', endDate: '2026-02-28T00:00:00Z' },
      { type: 'endDate', startDate: '2026-01-05', endDate: 'tomorrow' },
      { type: 'numbered', startDate: '2026-01-05' },
      { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: 0 },
      { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: -3 },
      { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: '5' },
      { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: 2.5 },
      { type: 'numbered', startDate: '2026-01-05', numberOfOccurrences: 1e12 },
    ]) {
      assert.equal(rruleOfGraphRecurrence({ pattern: good.pattern, range }), null, JSON.stringify(range));
    }
  });

  test('inherited, prototype-polluting and exotic objects', () => {
    assert.equal(rruleOfGraphRecurrence(Object.create(good)), null);
    assert.equal(rruleOfGraphRecurrence(JSON.parse('{"__proto__": {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-01-05"}}}')), null);
    assert.equal(rruleOfGraphRecurrence({ pattern: Object.create({ type: 'daily', interval: 1 }), range: good.range }), null);
    const throwing = { get pattern(): never { throw new Error('getter'); }, range: good.range };
    assert.equal(rruleOfGraphRecurrence(throwing), null);
    const proxy = new Proxy({}, { get() { throw new Error('trap'); }, has() { throw new Error('trap'); }, getOwnPropertyDescriptor() { throw new Error('trap'); } });
    assert.equal(rruleOfGraphRecurrence(proxy), null);
    assert.equal(rruleOfGraphRecurrence({ pattern: proxy, range: good.range }), null);
    // Junk options are ignored, not trusted.
    assert.equal(rruleOfGraphRecurrence({ pattern: good.pattern, range: until('2026-01-05', '2026-01-06') }, 'UTC' as unknown as GraphRecurrenceOptions), null);
    assert.equal(rruleOfGraphRecurrence({ pattern: good.pattern, range: until('2026-01-05', '2026-01-06') }, { timeZone: 7, resolveTimeZone: 'x' } as unknown as GraphRecurrenceOptions), null);
    assert.equal(rruleOfGraphRecurrence({ pattern: good.pattern, range: until('2026-01-05', '2026-01-06', 'UTC') }, { timeZone: 7, resolveTimeZone: 'x', isAllDay: 'yes' } as unknown as GraphRecurrenceOptions), 'RRULE:FREQ=DAILY;UNTIL=20260106T235959Z');
  });

  test('any value at all: null or a rule recurrence.ts accepts, never a throw', () => {
    const day = fc.constantFrom('sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday');
    const pattern = fc.record({
      type: fc.oneof(fc.constantFrom('daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'), fc.anything()),
      interval: fc.oneof(fc.integer({ min: -2, max: 1000 }), fc.double(), fc.anything()),
      daysOfWeek: fc.oneof(fc.array(day, { maxLength: 9 }), fc.array(fc.oneof(day, fc.string()), { maxLength: 3 }), fc.anything()),
      firstDayOfWeek: fc.oneof(day, fc.anything()),
      index: fc.oneof(fc.constantFrom('first', 'second', 'third', 'fourth', 'last'), fc.anything()),
      dayOfMonth: fc.oneof(fc.integer({ min: -1, max: 33 }), fc.anything()),
      month: fc.oneof(fc.integer({ min: -1, max: 14 }), fc.anything()),
    }, { requiredKeys: [] });
    const date = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    const range = fc.record({
      type: fc.oneof(fc.constantFrom('endDate', 'noEnd', 'numbered'), fc.anything()),
      startDate: fc.oneof(date, fc.anything()),
      endDate: fc.oneof(date, fc.anything()),
      numberOfOccurrences: fc.oneof(fc.integer({ min: -1, max: 2_000_000_000 }), fc.anything()),
      recurrenceTimeZone: fc.oneof(fc.constantFrom('UTC', 'Europe/Berlin', 'Pacific Standard Time', 'Pacific/Kiritimati'), fc.anything()),
    }, { requiredKeys: [] });
    const options = fc.oneof(fc.constant(undefined), fc.record({ timeZone: fc.oneof(fc.constantFrom('America/Los_Angeles', 'Asia/Tokyo', null), fc.anything()) }), fc.anything());
    fc.assert(
      fc.property(fc.oneof(fc.record({ pattern, range }), fc.anything()), options, (input, opts) => {
        const line = rruleOfGraphRecurrence(input, opts as GraphRecurrenceOptions);
        if (line === null) return;
        assert.match(line, /^RRULE:FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[0-9A-Z,+-]+)*$/);
        assert.deepEqual(validateRecurrence([line]), { ok: true }, line);
      }),
      { numRuns: 2000 },
    );
  });
});
