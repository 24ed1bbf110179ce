import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObservedOffsets } from './observed-offsets.ts';
import { followObservedRules } from './observed-series.ts';
import { expandSeries } from './recurrence.ts';

const H = 3_600_000;
const wall = (text: string) => Date.parse(`${text}Z`);
const iso = (ms: number) => new Date(ms).toISOString();
const oldEastern = new ObservedOffsets([
  { wallStartMs: wall('1601-01-01T02:00:00'), offsetFromMs: -4 * H, offsetToMs: -5 * H, rrule: 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10', rdatesWallMs: [] },
  { wallStartMs: wall('1601-01-01T02:00:00'), offsetFromMs: -5 * H, offsetToMs: -4 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', rdatesWallMs: [] },
]);
const WINDOW = { fromMs: Date.parse('2026-01-01T00:00:00Z'), toMs: Date.parse('2030-01-01T00:00:00Z') };

function starts(lines: string[], startMs: number, zone: string, fromMs: number, toMs: number): string[] {
  return expandSeries({ startMs, endMs: startMs + 30 * 60_000, timeZone: zone, recurrence: lines }, { fromMs, toMs }).map((o) => iso(o.startMs));
}

test('a weekly series in a zone read by its own rules has, inside the window, the occurrences those rules give', () => {
  const startMs = Date.parse('2027-03-01T14:00:00Z'); // Monday 09:00 at -05:00
  const series = { lines: ['RRULE:FREQ=WEEKLY;BYDAY=MO'], startMs, endMs: startMs + 30 * 60_000, zone: 'Etc/GMT+5', wallStartMs: wall('2027-03-01T09:00:00'), offsets: oldEastern };
  const placed = followObservedRules(series, WINDOW, 1_500);
  assert.equal(placed.correctUntilMs, WINDOW.toMs);
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT+5', Date.parse('2027-03-28T00:00:00Z'), Date.parse('2027-04-13T00:00:00Z')),
    ['2027-03-29T14:00:00.000Z', '2027-04-05T13:00:00.000Z', '2027-04-12T13:00:00.000Z']);
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT+5', Date.parse('2027-10-24T00:00:00Z'), Date.parse('2027-11-02T00:00:00Z')),
    ['2027-10-25T13:00:00.000Z', '2027-11-01T14:00:00.000Z']);
  // Every occurrence in the window is the rule's local time read with the zone's offsets.
  const all = expandSeries({ startMs, endMs: startMs + 1, timeZone: 'Etc/GMT+5', recurrence: placed.lines }, WINDOW);
  assert.equal(all.length, 149);
  for (const o of all) assert.equal(new Date(o.startMs + oldEastern.offsetAt(o.startMs)).getUTCHours(), 9, iso(o.startMs));
  // Past the window the stand-in offset goes on.
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT+5', Date.parse('2030-06-03T00:00:00Z'), Date.parse('2030-06-04T00:00:00Z')), ['2030-06-03T14:00:00.000Z']);
});

test('an UNTIL in UTC ends the series at the same occurrence; a series denser than the cap is placed only as far as it reaches', () => {
  // Daily at 21:00 at +05:15, a zone no IANA zone keeps, stored in UTC: every occurrence moves.
  const plus = new ObservedOffsets([{ wallStartMs: wall('1601-01-01T00:00:00'), offsetFromMs: 5.25 * H, offsetToMs: 5.25 * H, rrule: null, rdatesWallMs: [] }]);
  const startMs = Date.parse('2027-01-04T15:45:00Z');
  const until = { lines: ['RRULE:FREQ=DAILY;UNTIL=20270106T154500Z'], startMs, endMs: startMs + 1, zone: 'UTC', wallStartMs: wall('2027-01-04T21:00:00'), offsets: plus };
  const placed = followObservedRules(until, WINDOW, 1_500);
  assert.deepEqual(starts(placed.lines, startMs, 'UTC', WINDOW.fromMs, WINDOW.toMs), ['2027-01-04T15:45:00.000Z', '2027-01-05T15:45:00.000Z', '2027-01-06T15:45:00.000Z']);
  const dense = followObservedRules({ ...until, lines: ['RRULE:FREQ=DAILY'] }, WINDOW, 100);
  assert.ok(dense.correctUntilMs < Date.parse('2027-04-15T00:00:00Z') && dense.correctUntilMs > Date.parse('2027-04-01T00:00:00Z'), iso(dense.correctUntilMs));
  const first = starts(dense.lines, startMs, 'UTC', WINDOW.fromMs, dense.correctUntilMs);
  assert.ok(first.length > 80 && first.every((s) => s.endsWith('T15:45:00.000Z')));
});

/** A window of two years, as the parser uses. */
const TWO_YEARS = { fromMs: Date.parse('2026-01-01T00:00:00Z'), toMs: Date.parse('2028-01-01T00:00:00Z') };

test('at the window\'s end, a local time whose stand-in instant is inside and real one outside is one occurrence, not two (southern hemisphere)', () => {
  // +10:00 standard, +11:00 from the first Sunday of October to the first Sunday of April (Sydney-like, but custom).
  const south = new ObservedOffsets([
    { wallStartMs: wall('1601-01-01T03:00:00'), offsetFromMs: 11 * H, offsetToMs: 10 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=4', rdatesWallMs: [] },
    { wallStartMs: wall('1601-01-01T02:00:00'), offsetFromMs: 10 * H, offsetToMs: 11 * H, rrule: 'FREQ=YEARLY;BYDAY=1SU;BYMONTH=10', rdatesWallMs: [] },
  ]);
  const startMs = Date.parse('2026-06-01T00:30:00Z'); // 10:30 at +10:00
  const series = { lines: ['RRULE:FREQ=DAILY'], startMs, endMs: startMs + 30 * 60_000, zone: 'Etc/GMT-10', wallStartMs: wall('2026-06-01T10:30:00'), offsets: south };
  const placed = followObservedRules(series, TWO_YEARS, 1_500);
  // Local 31 Dec 2027 10:30 and 1 Jan 2028 10:30, both at +11:00.
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT-10', Date.parse('2027-12-30T12:00:00Z'), Date.parse('2028-01-01T12:00:00Z')),
    ['2027-12-30T23:30:00.000Z', '2027-12-31T23:30:00.000Z']);
});

test('at the window\'s end, a local time whose stand-in instant is inside and real one outside is not lost (northern hemisphere)', () => {
    const startMs = Date.parse('2026-07-01T23:30:00Z'); // 19:30 at -04:00
  const series = { lines: ['RRULE:FREQ=DAILY'], startMs, endMs: startMs + 30 * 60_000, zone: 'Etc/GMT+4', wallStartMs: wall('2026-07-01T19:30:00'), offsets: oldEastern };
  const placed = followObservedRules(series, TWO_YEARS, 1_500);
  // Local 30 Dec and 31 Dec 2027 at 19:30 (-05:00): the second's stand-in time (23:30Z) is inside
  // the window and its real time (00:30Z on 1 January) past it; it is moved all the same.
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT+4', Date.parse('2027-12-31T00:00:00Z'), Date.parse('2028-01-01T12:00:00Z')),
    ['2027-12-31T00:30:00.000Z', '2028-01-01T00:30:00.000Z']);
});

test('at the window\'s start, a local time whose real instant is inside and stand-in one outside is one occurrence, not two', () => {
    const startMs = Date.parse('2026-07-01T23:55:00Z'); // 19:55 at -04:00
  const series = { lines: ['RRULE:FREQ=DAILY'], startMs, endMs: startMs + 30 * 60_000, zone: 'Etc/GMT+4', wallStartMs: wall('2026-07-01T19:55:00'), offsets: oldEastern };
  // The window a sync at 2027-01-01T00:02Z uses: 2027 and 2028.
  const placed = followObservedRules(series, { fromMs: Date.parse('2027-01-01T00:00:00Z'), toMs: Date.parse('2029-01-01T00:00:00Z') }, 1_500);
  // 31 Dec 2026 19:55 local is 00:55Z, inside; the stand-in's 23:55Z, outside, is removed all the
  // same (a sync 7 minutes after it would still book it: LATE_START_GRACE_MS).
  assert.deepEqual(starts(placed.lines, startMs, 'Etc/GMT+4', Date.parse('2026-12-31T20:00:00Z'), Date.parse('2027-01-01T02:00:00Z')), ['2027-01-01T00:55:00.000Z']);
});
