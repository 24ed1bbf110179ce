import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObservedOffsets, observancesProblem, observancesText, storedZoneRules, ZONE_ONSETS_WALKED, type ObservanceRule } from './observed-offsets.ts';
import { compileSeries, expandSeries } from './recurrence.ts';

const H = 3_600_000;
const wall = (text: string) => Date.parse(`${text}Z`);
const iso = (ms: number) => new Date(ms).toISOString();

/** US Eastern offsets under the rules of 1987-2006: summer time from the first Sunday of April to the last of October, at 02:00. */
const oldEastern: ObservanceRule[] = [
  { wallStartMs: wall('1601-01-01T02:00:00'), offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', rdatesWallMs: [] },
  { wallStartMs: wall('1601-01-01T02:00:00'), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', rdatesWallMs: [] },
];

test('the offset at an instant is that of the observance whose onset came last (RFC 5545 3.6.5)', () => {
  const zone = new ObservedOffsets(oldEastern);
  // 2027: summer time from 4 April 02:00 EST (07:00Z) to 31 October 02:00 EDT (06:00Z).
  assert.equal(zone.offsetAt(Date.parse('2027-03-20T12:00:00Z')), -5 * H);
  assert.equal(zone.offsetAt(Date.parse('2027-04-04T06:59:59Z')), -5 * H);
  assert.equal(zone.offsetAt(Date.parse('2027-04-04T07:00:00Z')), -4 * H);
  assert.equal(zone.offsetAt(Date.parse('2027-10-31T05:59:59Z')), -4 * H);
  assert.equal(zone.offsetAt(Date.parse('2027-10-31T06:00:00Z')), -5 * H);
  // New Year's Day takes the last change of the year before.
  assert.equal(zone.offsetAt(Date.parse('2028-01-01T00:30:00Z')), -5 * H);
});

test('a local time: a time the clocks skip is read with the offset before the gap, a repeated one is its first occurrence (RFC 5545 3.3.5)', () => {
  const zone = new ObservedOffsets(oldEastern);
  assert.equal(iso(zone.instantOf(wall('2027-03-29T09:00:00'))), '2027-03-29T14:00:00.000Z');
  assert.equal(iso(zone.instantOf(wall('2027-04-05T09:00:00'))), '2027-04-05T13:00:00.000Z');
  // 02:30 on 4 April 2027 does not exist: read at -05:00, it is 07:30Z (03:30 EDT).
  assert.equal(iso(zone.instantOf(wall('2027-04-04T02:30:00'))), '2027-04-04T07:30:00.000Z');
  // 01:30 on 31 October 2027 happens twice: the first, in summer time (-04:00).
  assert.equal(iso(zone.instantOf(wall('2027-10-31T01:30:00'))), '2027-10-31T05:30:00.000Z');
  assert.equal(iso(zone.instantOf(wall('2027-10-31T02:30:00'))), '2027-10-31T07:30:00.000Z');
});

test('before every onset the first observance\'s TZOFFSETFROM is in use; after a finished rule its last onset stays', () => {
  // Summer time kept from 2000 to 2010 (UNTIL), then standard time for good: a country that dropped DST.
  const dropped: ObservanceRule[] = [
    { wallStartMs: wall('2000-10-29T03:00:00'), offsetFromMs: 4 * H, offsetToMs: 3 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20101030T230000Z', rdatesWallMs: [] },
    { wallStartMs: wall('2000-03-26T02:00:00'), offsetFromMs: 3 * H, offsetToMs: 4 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3;UNTIL=20100327T230000Z', rdatesWallMs: [] },
  ];
  const zone = new ObservedOffsets(dropped);
  assert.equal(zone.offsetAt(Date.parse('1999-07-01T00:00:00Z')), 3 * H, 'before 26 March 2000: the earliest onset\'s TZOFFSETFROM');
  assert.equal(zone.offsetAt(Date.parse('2005-07-01T00:00:00Z')), 4 * H);
  assert.equal(zone.offsetAt(Date.parse('2010-10-31T00:30:00Z')), 3 * H, 'the UNTIL, in UTC, takes the last autumn change');
  assert.equal(zone.offsetAt(Date.parse('2027-07-01T00:00:00Z')), 3 * H, 'years after the rules ended');
  // RDATE onsets, and a zone with a single observance and no rule.
  const fixed = new ObservedOffsets([{ wallStartMs: wall('1601-01-01T00:00:00'), offsetFromMs: 5.25 * H, offsetToMs: 5.25 * H, rrule: null, rdatesWallMs: [] }]);
  assert.equal(iso(fixed.instantOf(wall('2027-06-01T09:00:00'))), '2027-06-01T03:45:00.000Z');
  const listed = new ObservedOffsets([
    { wallStartMs: wall('2026-01-01T00:00:00'), offsetFromMs: 0, offsetToMs: 0, rrule: null, rdatesWallMs: [wall('2027-09-01T00:00:00')] },
    { wallStartMs: wall('2027-05-01T00:00:00'), offsetFromMs: 0, offsetToMs: H, rrule: null, rdatesWallMs: [] },
  ]);
  assert.deepEqual([listed.offsetAt(Date.parse('2027-06-01T00:00:00Z')), listed.offsetAt(Date.parse('2027-10-01T00:00:00Z'))], [H, 0]);
});

test('observances that are not a time zone are refused: no rule but a yearly one, no offset of a day or more', () => {
  assert.match(observancesProblem([{ ...oldEastern[0]!, rrule: 'FREQ=SECONDLY;BYSECOND=1,2,3' }]) ?? '', /not a yearly/);
  assert.match(observancesProblem([{ ...oldEastern[0]!, offsetToMs: 30 * H }]) ?? '', /a day or more/);
  assert.match(observancesProblem([]) ?? '', /no STANDARD or DAYLIGHT/);
  assert.throws(() => new ObservedOffsets([]), RangeError);
  assert.equal(observancesProblem(oldEastern), null);
});

test('rules that end are walked once, within one budget for the whole zone: a zone past it cannot be read, one written from 1601 can', () => {
  // A hundred rules of seven onsets a year from 1601 to 2000 (2,800 onsets each): walked in full
  // for every year asked about, they held the event loop for seconds.
  const hostile: ObservanceRule[] = Array.from({ length: 100 }, (_, i) => ({
    wallStartMs: wall('1601-01-01T00:00:00'), offsetFromMs: (i % 2 ? 77 : 17) * 60_000, offsetToMs: (i % 2 ? 17 : 77) * 60_000,
    rrule: 'FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1,2,3,4,5,6,7;UNTIL=20000101T000000Z', rdatesWallMs: [],
  }));
  const started = performance.now();
  assert.throws(() => new ObservedOffsets(hostile), new RegExp(`more than ${ZONE_ONSETS_WALKED} onsets`));
  assert.ok(performance.now() - started < 1_000, `took ${performance.now() - started} ms`);
  // US Eastern written from 1601: the 1987-2006 rules until 2006 (about 400 onsets each), then today's.
  const eastern = new ObservedOffsets([
    { wallStartMs: wall('1601-10-28T02:00:00'), offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T060000Z', rdatesWallMs: [] },
    { wallStartMs: wall('1601-04-01T02:00:00'), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z', rdatesWallMs: [] },
    { wallStartMs: wall('2007-03-11T02:00:00'), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU', rdatesWallMs: [] },
    { wallStartMs: wall('2007-11-04T02:00:00'), offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU', rdatesWallMs: [] },
  ]);
  assert.deepEqual([
    eastern.offsetAt(Date.parse('1995-04-10T12:00:00Z')), eastern.offsetAt(Date.parse('1995-11-10T12:00:00Z')),
    eastern.offsetAt(Date.parse('2027-03-20T12:00:00Z')), eastern.offsetAt(Date.parse('2027-11-10T12:00:00Z')),
  ], [-4 * H, -5 * H, -4 * H, -5 * H]);
});

// A series in such a zone is expanded by its rules (domain/recurrence.ts, SeriesDefinition.zoneRules):
// its rule in local time, each local time placed by the zone's offsets, in every year. Its
// timeZone (Etc/GMT+5, the offset of its start) would keep that one offset all year.

/** A weekly Monday 09:00 series in oldEastern from 23 November 2026 (-05:00), with its stand-in zone. */
const weekly = (zone: ObservedOffsets | null, recurrence = ['RRULE:FREQ=WEEKLY;BYDAY=MO']) => ({
  startMs: Date.parse('2026-11-23T14:00:00Z'), endMs: Date.parse('2026-11-23T14:30:00Z'), timeZone: 'Etc/GMT+5', recurrence, zoneRules: zone,
});
const startsOf = (series: ReturnType<typeof weekly>, from: string, to: string) =>
  expandSeries(series, { fromMs: Date.parse(from), toMs: Date.parse(to) }).map((o) => iso(o.originalStartMs));

test('a weekly series in a zone given by its rules is placed by them in every year: three years on, across both of its changes', () => {
  const series = weekly(new ObservedOffsets(oldEastern));
  // 2029 under these rules: summer time from 1 April to 28 October (New York: 11 March to 4 November).
  assert.deepEqual(startsOf(series, '2029-03-19T00:00:00Z', '2029-04-10T00:00:00Z'), ['2029-03-19T14:00:00.000Z', '2029-03-26T14:00:00.000Z', '2029-04-02T13:00:00.000Z', '2029-04-09T13:00:00.000Z']);
  assert.deepEqual(startsOf(series, '2029-10-15T00:00:00Z', '2029-11-06T00:00:00Z'), ['2029-10-15T13:00:00.000Z', '2029-10-22T13:00:00.000Z', '2029-10-29T14:00:00.000Z', '2029-11-05T14:00:00.000Z']);
  // The same at any distance: 2041 (summer time from 7 April to 27 October).
  assert.deepEqual(startsOf(series, '2041-04-01T00:00:00Z', '2041-04-09T00:00:00Z'), ['2041-04-01T14:00:00.000Z', '2041-04-08T13:00:00.000Z']);
  const compiled = compileSeries(series);
  assert.equal(compiled.find(Date.parse('2029-04-02T13:00:00Z'))?.endMs, Date.parse('2029-04-02T13:30:00Z'));
  assert.equal(compiled.find(Date.parse('2029-04-02T14:00:00Z')), null);
  assert.deepEqual(compiled.upcoming(Date.parse('2029-10-23T00:00:00Z'), 1).occurrences.map((o) => iso(o.startMs)), ['2029-10-29T14:00:00.000Z']);
  // Without the zone's rules the series keeps the offset of its start: that is what changed.
  assert.deepEqual(startsOf(weekly(null), '2029-04-02T00:00:00Z', '2029-04-03T00:00:00Z'), ['2029-04-02T14:00:00.000Z']);
});

test('a series in a zone given by its rules: a skipped local time is read with the offset before the gap, a repeated one is the first; local dates are the zone\'s', () => {
  const zone = new ObservedOffsets(oldEastern);
  const daily = (time: string) => ({
    startMs: zone.instantOf(wall(`2026-12-01T${time}`)), endMs: zone.instantOf(wall(`2026-12-01T${time}`)) + H, timeZone: 'Etc/GMT+5', recurrence: ['RRULE:FREQ=DAILY'], zoneRules: zone,
  });
  // 1 April 2029, 02:30 does not exist (the clocks go from 02:00 to 03:00 EST): 07:30Z, 03:30 EDT.
  assert.deepEqual(startsOf(daily('02:30:00'), '2029-03-31T00:00:00Z', '2029-04-03T00:00:00Z'), ['2029-03-31T07:30:00.000Z', '2029-04-01T07:30:00.000Z', '2029-04-02T06:30:00.000Z']);
  // 28 October 2029, 01:30 happens twice: the first (EDT, 05:30Z), once.
  assert.deepEqual(startsOf(daily('01:30:00'), '2029-10-27T00:00:00Z', '2029-10-30T00:00:00Z'), ['2029-10-27T05:30:00.000Z', '2029-10-28T05:30:00.000Z', '2029-10-29T06:30:00.000Z']);
  // 23:30 on 1 April 2029 is 03:30Z on the 2nd: it belongs to the zone's 1 April, and an EXDATE of that day removes it.
  const late = { ...daily('23:30:00'), recurrence: ['RRULE:FREQ=DAILY', 'EXDATE;VALUE=DATE:20290401'] };
  assert.deepEqual(startsOf(late, '2029-03-31T00:00:00Z', '2029-04-04T00:00:00Z'), ['2029-03-31T04:30:00.000Z', '2029-04-01T04:30:00.000Z', '2029-04-03T03:30:00.000Z']);
  assert.deepEqual(compileSeries(daily('23:30:00')).onLocalDate('2029-04-01').map((o) => iso(o.startMs)), ['2029-04-02T03:30:00.000Z']);
  assert.equal(compileSeries(daily('23:30:00')).localDateOf(Date.parse('2029-04-02T03:30:00Z')), '2029-04-01');
});

test('a zone stored as text is read back with the same offsets, built once per text; a text that is no zone is none', () => {
  const text = observancesText(oldEastern);
  const zone = storedZoneRules(text)!;
  assert.ok(zone instanceof ObservedOffsets);
  assert.equal(storedZoneRules(text), zone);
  assert.deepEqual(zone.observances, oldEastern);
  assert.equal(zone.offsetAt(Date.parse('2029-04-02T12:00:00Z')), -4 * H);
  for (const bad of [null, undefined, '', '{', '[]', '[[1,2]]', JSON.stringify([[0, 0, 30 * H, null, []]]), JSON.stringify([[0, 0, H, 'FREQ=SECONDLY', []]])]) {
    assert.equal(storedZoneRules(bad), null, String(bad));
  }
});
