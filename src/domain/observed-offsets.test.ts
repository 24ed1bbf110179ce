import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ZONE_TEXT_CHARS, ObservedOffsets, observancesProblem, observancesText, ruleWalls, storedZoneRules, ZONE_ONSETS_WALKED, type ObservanceRule } from './observed-offsets.ts';
import { compileSeries, expandSeries, seriesEndMs } from './recurrence.ts';

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

test('a stored zone text with a number that is not a whole millisecond, an offset of a day, or more RDATEs than the parser reads is none', () => {
  const rdates = (n: number) => Array.from({ length: n }, (_, i) => wall('1700-01-01T02:00:00') + i * 86_400_000);
  for (const bad of [
    [[0, 0.5, 0.5, null, []]],
    [[0.5, 0, H, null, []]],
    [[0, 0, H, null, [1.5]]],
    [[0, 0, 24 * H, null, []]],
    [[Number.MAX_SAFE_INTEGER + 2, 0, H, null, []]],
    [[1e300, 0, H, null, []]],
    [[0, -5 * H, -4 * H, null, rdates(600)], [0, -4 * H, -5 * H, null, rdates(401)]],
  ]) {
    assert.equal(storedZoneRules(JSON.stringify(bad)), null, JSON.stringify(bad).slice(0, 80));
  }
  assert.ok(storedZoneRules(JSON.stringify([[0, -5 * H, -4 * H, null, rdates(600)], [0, -4 * H, -5 * H, null, rdates(400)]])));
});

test('a stored zone text longer than any the parser writes is refused before it is parsed', () => {
  // 100 observances of 1,000 RDATE onsets each: 1.5 MB, which took tens of milliseconds to build.
  const rows = Array.from({ length: 100 }, (_, i) => [wall('1601-01-01T02:00:00') + i, -5 * H, -4 * H, null, Array.from({ length: 1_000 }, (_, j) => wall('1700-01-01T02:00:00') + (i * 1_000 + j) * 86_400_000)]);
  const junk = JSON.stringify(Array.from({ length: 2_000_000 }, (_, i) => i));
  for (const text of [JSON.stringify(rows), junk]) {
    assert.ok(text.length > MAX_ZONE_TEXT_CHARS);
    const t0 = performance.now();
    assert.equal(storedZoneRules(text), null);
    assert.ok(performance.now() - t0 < 5, `${(text.length / 1e6).toFixed(1)} MB held the event loop ${(performance.now() - t0).toFixed(0)} ms`);
  }
  // The largest zone the parser reads fits: 100 observances with rules, 1,000 RDATEs in all.
  const largest = Array.from({ length: 100 }, (_, i): ObservanceRule => ({
    wallStartMs: wall('1601-01-01T02:00:00') - i * 1000, offsetFromMs: -(5 * H + 59 * 60_000 + 59_000), offsetToMs: -(4 * H + 59 * 60_000 + 59_000),
    rrule: 'FREQ=YEARLY;BYMONTH=10;BYDAY=SU;BYMONTHDAY=-1,-2,-3,-4,-5,-6,-7;WKST=MO', rdatesWallMs: Array.from({ length: 10 }, (_, j) => wall('9999-01-01T02:00:00') - (i * 10 + j) * 86_400_000),
  }));
  assert.ok(observancesText(largest).length <= MAX_ZONE_TEXT_CHARS, `${observancesText(largest).length} characters`);
  assert.ok(storedZoneRules(observancesText(largest)));
});

test('more zones than are kept: those in use stay built, the least recently used one is dropped for a new one', () => {
  // A zone whose rules end, walked from 1601 when it is built.
  const ended = (k: number): ObservanceRule[] => [
    { wallStartMs: wall('1601-01-01T02:00:00') + k * 1000, offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20061029T060000Z', rdatesWallMs: [] },
    { wallStartMs: wall('1601-01-01T02:00:00') + k * 1000, offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T070000Z', rdatesWallMs: [] },
  ];
  // Twenty zones in use all along, while 300 others are read once each, more than are kept.
  const hotTexts = Array.from({ length: 20 }, (_, k) => observancesText(ended(k)));
  const hot = hotTexts.map((t) => storedZoneRules(t));
  for (let k = 0; k < 300; k++) {
    storedZoneRules(observancesText(ended(100 + k)));
    hotTexts.forEach((t, i) => assert.equal(storedZoneRules(t), hot[i], `zone ${i} built again after ${k + 1} others`));
  }
});

test('the onsets of a yearly rule on a month are those the calendar library names, in every form real zones use', () => {
  const expected = (o: ObservanceRule, fromMs: number, toMs: number, limit: number) => {
    const rule = o.rrule!.replace(/UNTIL=(\d{8}T\d{6})Z/i, (_, until: string) => {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(until)!;
      return `UNTIL=${new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + o.offsetFromMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}`;
    });
    return expandSeries({ startMs: o.wallStartMs, endMs: o.wallStartMs, timeZone: 'UTC', recurrence: [`RRULE:${rule}`] }, { fromMs, toMs: toMs + 1 }, { limit })
      .map((x) => x.startMs).filter((w) => w >= fromMs && w <= toMs).map(iso);
  };
  const rules = [
    'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU', 'FREQ=YEARLY;BYDAY=5SU;BYMONTH=3', 'FREQ=YEARLY;BYDAY=-5FR;BYMONTH=2',
    'FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYMONTHDAY=8,9,10,11,12,13,14', 'FREQ=YEARLY;BYMONTH=4;BYDAY=SU', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29',
    'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1,30,1', 'FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=-31,31', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;COUNT=5',
    'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T070000Z', 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T020000', 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402',
    'FREQ=YEARLY;BYMONTH=11', 'FREQ=YEARLY;INTERVAL=1;BYMONTH=3;BYDAY=-1SU;WKST=MO', 'freq=yearly;bymonth=3;byday=+2su;count=40', 'FREQ=YEARLY;BYMONTH=1;BYDAY=1MO;UNTIL=16020101T000000Z',
    'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;COUNT=1', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3',
  ];
  for (const rrule of rules) {
    for (const start of ['1601-01-01T02:00:00', '1996-01-31T23:30:00', '0050-06-15T01:00:00']) {
      const o: ObservanceRule = { wallStartMs: wall(start), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule, rdatesWallMs: [] };
      for (const [from, to, limit] of [[wall(start), wall(start) + 150 * 365 * 86_400_000, 1_001], [wall('2024-12-30T00:00:00'), wall('2026-01-03T00:00:00'), 16], [wall('1990-01-01T00:00:00'), wall('1999-01-01T00:00:00'), 3]] as const) {
        assert.deepEqual(ruleWalls(o, from, to, limit).map(iso), expected(o, from, to, limit), `${rrule} from ${start}, [${iso(from)}, ${iso(to)}] limit ${limit}`);
      }
    }
  }
});

/** America/New_York since 2007, as a VTIMEZONE writes it. */
const nyRules: ObservanceRule[] = [
  { wallStartMs: wall('2007-11-04T02:00:00'), offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=11', rdatesWallMs: [] },
  { wallStartMs: wall('2007-03-11T02:00:00'), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYDAY=2SU;BYMONTH=3', rdatesWallMs: [] },
];

test('the end of a yearly series of 100 occurrences in a zone given by its rules is that of the IANA zone, found about as fast', () => {
  const startMs = Date.parse('2027-01-04T14:00:00Z');
  const series = { startMs, endMs: startMs + H, recurrence: ['RRULE:FREQ=YEARLY;COUNT=100'] };
  seriesEndMs({ ...series, timeZone: 'America/New_York' });
  let t = performance.now();
  const ianaEnd = seriesEndMs({ ...series, timeZone: 'America/New_York' });
  const ianaMs = performance.now() - t;
  // A zone not read before (each text is built once and kept).
  const zone = storedZoneRules(observancesText(nyRules.map((o) => ({ ...o, wallStartMs: o.wallStartMs + 7_000 }))))!;
  t = performance.now();
  const end = seriesEndMs({ ...series, timeZone: 'Etc/GMT+5', zoneRules: zone });
  const ms = performance.now() - t;
  assert.equal(end, ianaEnd);
  assert.equal(iso(end!), '2126-01-04T15:00:00.000Z');
  assert.ok(ms < Math.max(100, 3 * ianaMs), `${ms.toFixed(0)} ms by the zone's rules, ${ianaMs.toFixed(0)} ms in America/New_York`);
});

test('a zone whose rules are written from 1601 and end is built in a few milliseconds', () => {
  const took: number[] = [];
  for (let k = 0; k < 5; k++) {
    const ended: ObservanceRule[] = [
      { wallStartMs: wall('1601-01-01T02:00:00') + k * 1000, offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20061029T060000Z', rdatesWallMs: [] },
      { wallStartMs: wall('1601-01-01T02:00:00') + k * 1000, offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T070000Z', rdatesWallMs: [] },
    ];
    const t = performance.now();
    const zone = new ObservedOffsets(ended);
    took.push(performance.now() - t);
    // After the rules end, the last onset (29 October 2006) stays: -05:00 in every later summer.
    assert.equal(zone.offsetAt(Date.parse('2030-07-01T12:00:00Z')), -5 * H);
    assert.equal(zone.offsetAt(Date.parse('2005-07-01T12:00:00Z')), -4 * H);
  }
  const median = took.sort((a, b) => a - b)[2]!;
  assert.ok(median < 20, `built in ${took.map((x) => x.toFixed(1)).join(', ')} ms`);
});
