// CompiledSeries.upcomingSteps: the answer of upcoming() with the same end, in steps of a bounded
// number of rule instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeries, type SeriesDefinition } from './recurrence.ts';
import { finishSteps } from '../lib/steps.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 11, 7, 8, 0, 0);
const wall = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
const daily = (extra: string[] = [], rule = 'RRULE:FREQ=DAILY'): SeriesDefinition => ({ startMs: START, endMs: START + 30 * MIN, timeZone: 'Europe/Berlin', recurrence: [rule, ...extra] });
/** Every day from `fromDay` on for `days` days removed, in one EXDATE line per 100 values. */
const excluded = (fromDay: number, days: number) => Array.from({ length: Math.ceil(days / 100) }, (_, line) =>
  `EXDATE:${Array.from({ length: Math.min(100, days - line * 100) }, (_, i) => wall(START + (fromDay + line * 100 + i) * DAY)).join(',')}`);

test('upcomingSteps answers what upcoming answers with the same end, for every kind of series and question', () => {
  const series: SeriesDefinition[] = [
    daily(),
    daily(excluded(1, 9_990)),
    { ...daily(excluded(1, 9_990)), timeZone: 'UTC' },
    daily(excluded(0, 40)),
    daily([`RDATE:${wall(START + 3 * DAY + 2 * HOUR)},${wall(START + 900 * DAY + HOUR)}`, `EXDATE:${wall(START + DAY)}`]),
    daily([], 'RRULE:FREQ=DAILY;COUNT=300'),
    daily([], `RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=${wall(START + 700 * DAY)}`),
    daily([], 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29'),
    daily([], 'RRULE:FREQ=MINUTELY;INTERVAL=7'),
    { startMs: START, endMs: START + 30 * MIN, timeZone: 'UTC', recurrence: [`RDATE:${wall(START + 5 * DAY)},${wall(START + 6 * DAY)}`] },
  ];
  const questions = [
    { afterMs: START - DAY, limit: 1, beforeMs: START + 1830 * DAY },
    { afterMs: START + 10 * MIN, limit: 3, beforeMs: START + 1830 * DAY },
    { afterMs: START + 2 * DAY, limit: 50, beforeMs: START + 400 * DAY },
    { afterMs: START + 500 * DAY, limit: 1000, beforeMs: START + 1830 * DAY },
    { afterMs: START, limit: 0, beforeMs: START + DAY },
    { afterMs: START, limit: 5, beforeMs: START },
  ];
  for (const [index, definition] of series.entries()) {
    for (const { afterMs, limit, beforeMs } of questions) {
      const skipOriginalStartsMs = new Set([START + 4 * DAY, START + 501 * DAY]);
      const expected = compileSeries(definition).upcoming(afterMs, limit, { beforeMs, skipOriginalStartsMs });
      const got = finishSteps(compileSeries(definition).upcomingSteps(afterMs, limit, { beforeMs, skipOriginalStartsMs }));
      assert.deepEqual(got, expected, `series ${index}, ${JSON.stringify({ afterMs, limit, beforeMs })}`);
    }
  }
});

test('a daily series whose next 27 years are removed is searched over five years in many short steps, finding nothing', () => {
  const compiled = compileSeries({ ...daily(excluded(1, 9_990)), timeZone: 'UTC' });
  const steps = compiled.upcomingSteps(START + HOUR, 3, { beforeMs: START + 1830 * DAY });
  let count = 0;
  let step = steps.next();
  for (; !step.done; step = steps.next()) count++;
  assert.deepEqual(step.value, { occurrences: [], isTruncated: false });
  // 1,830 instances, about 125 a step (and a step per library call besides): a search in one step
  // would hold the event loop for all of them.
  assert.ok(count >= 1830 / 125, `${count} steps`);
});

/** Runs steps to their end, counting them. */
function stepsOf<T>(steps: Generator<unknown, T>): { count: number; value: T } {
  let count = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { count, value: step.value };
    count++;
  }
}

test('a COUNT rule begun 24 years ago is counted up to the question in steps of about 125 instances, not in one', () => {
  const now = START;
  const began = now - 24 * 365 * DAY;
  const definition: SeriesDefinition = { startMs: began, endMs: began + HOUR, timeZone: 'Europe/Berlin', recurrence: ['RRULE:FREQ=DAILY;COUNT=9000'] };
  const { count, value } = stepsOf(compileSeries(definition).upcomingSteps(now, 2, { beforeMs: now + 1830 * DAY }));
  assert.deepEqual(value, compileSeries(definition).upcoming(now, 2, { beforeMs: now + 1830 * DAY }));
  assert.equal(value.occurrences.length, 2);
  // About 8,770 instances counted before now: one step held the event loop for all of them.
  assert.ok(count >= 8_770 / 150, `${count} steps`);
  // The paced search of a window counts it in steps as well.
  const overlapping = [...compileSeries(definition).overlappingInSteps({ fromMs: now, toMs: now + DAY })];
  const pauses = overlapping.filter((o) => o === null).length;
  assert.equal(overlapping.length - pauses, 1);
  assert.ok(pauses >= 8_770 / 150, `${pauses} steps`);
});

test('a rule upcoming() gives up on (its library calls spent) is given up on by upcomingSteps too, its calls counted across its windows', () => {
  // Every 29 February at 09:00 as a MINUTELY rule: a call of at most 2,000 minutes at a time, so
  // the 1,000 calls reach about 1,380 days, short of 29 February 2032.
  const definition: SeriesDefinition = { startMs: Date.UTC(2028, 2, 1, 9), endMs: Date.UTC(2028, 2, 1, 10), timeZone: 'UTC', recurrence: ['RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9;BYMINUTE=0'] };
  const afterMs = Date.UTC(2028, 2, 2);
  const expected = compileSeries(definition).upcoming(afterMs, 1, { beforeMs: afterMs + 1830 * DAY });
  assert.deepEqual(expected, { occurrences: [], isTruncated: true });
  const { count, value } = stepsOf(compileSeries(definition).upcomingSteps(afterMs, 1, { beforeMs: afterMs + 1830 * DAY }));
  assert.deepEqual(value, expected, `${count} steps`);
  // A step after each window and after each call: about two for each of the 1,000 calls.
  assert.ok(count <= 2_100, `${count} steps`);
});

test('a series of thousands of RDATE values, all removed, is searched in steps of about 125 of them', () => {
  // 3,000 values over the next five years (six a day on some days), every one of their dates removed.
  const values = Array.from({ length: 3_000 }, (_, i) => START + DAY + Math.floor((i * 1_820) / 3_000) * DAY + (i % 6) * HOUR);
  const lines = (prefix: string, list: string[]) => Array.from({ length: Math.ceil(list.length / 100) }, (_, k) => prefix + list.slice(k * 100, (k + 1) * 100).join(','));
  const definition: SeriesDefinition = {
    startMs: START - 400 * DAY, endMs: START - 400 * DAY + HOUR, timeZone: 'Europe/Berlin',
    recurrence: [...lines('RDATE;TZID=Europe/Berlin:', values.map((ms) => wall(ms).slice(0, 15))), ...lines('EXDATE;VALUE=DATE:', [...new Set(values.map((ms) => wall(ms).slice(0, 8)))])],
  };
  const { count, value } = stepsOf(compileSeries(definition).upcomingSteps(START, 3, { beforeMs: START + 1830 * DAY }));
  assert.deepEqual(value, compileSeries(definition).upcoming(START, 3, { beforeMs: START + 1830 * DAY }));
  assert.deepEqual(value, { occurrences: [], isTruncated: false });
  // Each value is placed and checked against the removed dates: the search held the loop for all of them at once.
  assert.ok(count >= 3_000 / 150, `${count} steps`);
});
