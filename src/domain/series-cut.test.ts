import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriesCut, seriesCutSteps } from './series-cut.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const FIRST = Date.UTC(2026, 11, 7, 9, 0, 0);
const NOW = FIRST - DAY;
const basic = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
const weekly = (rule: string, startMs = FIRST, extra: string[] = []) => ({ startMs, endMs: startMs + HOUR, timeZone: 'Europe/Berlin', recurrence: [`RRULE:FREQ=WEEKLY;${rule}`, ...extra] });

test('a rule given an UNTIL before the third of four weeks lost the third and the fourth, and kept the first two', () => {
  const cut = seriesCut(weekly('COUNT=4'), weekly(`UNTIL=${basic(FIRST + 2 * WEEK - 1000)}`), NOW);
  assert.deepEqual(cut, { lostStartsMs: [FIRST + 2 * WEEK, FIRST + 3 * WEEK], keptStartsMs: [FIRST, FIRST + WEEK], spacingMs: WEEK });
});

test('an open-ended rule cut: the first lost occurrences are named (eight), from the cut on', () => {
  const cut = seriesCut(weekly('BYDAY=MO'), weekly(`BYDAY=MO;UNTIL=${basic(FIRST + WEEK)}`), NOW);
  assert.deepEqual(cut?.keptStartsMs, [FIRST, FIRST + WEEK]);
  assert.deepEqual(cut?.lostStartsMs, Array.from({ length: 8 }, (_, i) => FIRST + (i + 2) * WEEK));
  // A COUNT cut alike.
  assert.deepEqual(seriesCut(weekly('BYDAY=MO'), weekly('BYDAY=MO;COUNT=1'), NOW)?.lostStartsMs[0], FIRST + WEEK);
});

test('a cut from the next occurrence keeps nothing still to come; the spacing comes from the weeks before it', () => {
  const began = FIRST - 2 * WEEK;
  const cut = seriesCut(weekly('COUNT=5', began), weekly(`UNTIL=${basic(FIRST - 1000)}`, began), NOW);
  assert.deepEqual(cut, { lostStartsMs: [FIRST, FIRST + WEEK, FIRST + 2 * WEEK], keptStartsMs: [], spacingMs: WEEK });
});

test('a cut from the occurrence under way: that occurrence is lost, not ended yet', () => {
  const began = FIRST - WEEK;
  const cut = seriesCut(weekly('COUNT=3', began), weekly(`UNTIL=${basic(FIRST - 1000)}`, began), FIRST + 30 * 60_000);
  assert.deepEqual(cut?.lostStartsMs, [FIRST, FIRST + WEEK]);
  // Once it has ended, it is not counted.
  assert.deepEqual(seriesCut(weekly('COUNT=3', began), weekly(`UNTIL=${basic(FIRST - 1000)}`, began), FIRST + 2 * HOUR)?.lostStartsMs, [FIRST + WEEK]);
});

test('no cut: a series re-timed, an occurrence dropped in the middle, a series made longer, a rule with no end, a cut that is all over', () => {
  assert.equal(seriesCut(weekly('COUNT=4'), weekly('COUNT=4', FIRST + HOUR), NOW), null);
  // Moved two days earlier: its last occurrence now comes before the old last one, which is not a cut.
  assert.equal(seriesCut(weekly('COUNT=4'), weekly('COUNT=4', FIRST - 2 * DAY), NOW), null);
  assert.equal(seriesCut(weekly('COUNT=4'), weekly('COUNT=4', FIRST, [`EXDATE;TZID=Europe/Berlin:${basic(FIRST + WEEK + HOUR).replace(/Z$/, '')}`]), NOW), null);
  assert.equal(seriesCut(weekly('COUNT=4'), weekly('COUNT=6'), NOW), null);
  assert.equal(seriesCut(weekly('COUNT=4'), weekly('BYDAY=MO'), NOW), null);
  assert.equal(seriesCut(weekly('COUNT=4', FIRST - 10 * WEEK), weekly('COUNT=2', FIRST - 10 * WEEK), NOW), null);
});

test('a cut further out than a thousand occurrences still to come is not looked for', () => {
  const daily = (rule: string) => ({ startMs: FIRST, endMs: FIRST + HOUR, timeZone: 'UTC', recurrence: [`RRULE:FREQ=DAILY${rule}`] });
  assert.equal(seriesCut(daily(''), daily(`;UNTIL=${basic(FIRST + 1200 * DAY)}`), NOW), null);
  assert.equal(seriesCut(daily(''), daily(`;UNTIL=${basic(FIRST + 900 * DAY)}`), NOW)?.lostStartsMs[0], FIRST + 901 * DAY);
});

test('a cut is looked for within five years: a new rule that goes on past them, or whose first lost occurrence is past them, is no cut', () => {
  const monthly = (rule: string) => ({ startMs: FIRST, endMs: FIRST + HOUR, timeZone: 'Europe/Berlin', recurrence: [`RRULE:FREQ=MONTHLY;${rule}`] });
  // 48 months kept, then cut: found (the first lost month is the 49th).
  assert.equal(seriesCut(monthly(''), monthly(`UNTIL=${basic(FIRST + 47 * 31 * DAY)}`), NOW)?.keptStartsMs.length, 48);
  // Cut after 80 months (past the 1,830 days): no cut, though fewer than a thousand are kept.
  assert.equal(seriesCut(monthly(''), monthly(`UNTIL=${basic(FIRST + 79 * 31 * DAY)}`), NOW), null);
  // The old rule's next occurrence after the new rule's last lies past the horizon.
  assert.equal(seriesCut(monthly('BYMONTH=12;INTERVAL=7'), monthly('BYMONTH=12;INTERVAL=7;COUNT=1'), NOW), null);
  // A daily rule given an end 40 years on with its next 27 years removed: no cut, found without
  // searching those years (the rule's end says it goes on past the horizon). Five years of daily
  // instances are searched in paced steps of about 125 instances (a step per window, and one per
  // library call besides); the 27 years (9,855 instances) would take more steps than there are.
  const exdates = Array.from({ length: 100 }, (_, line) => `EXDATE:${Array.from({ length: 100 }, (_, i) => basic(FIRST + (line * 100 + i) * DAY)).join(',')}`);
  const daily = (rule: string, extra: string[] = []) => ({ startMs: FIRST, endMs: FIRST + HOUR, timeZone: 'UTC', recurrence: [`RRULE:FREQ=DAILY${rule}`, ...extra] });
  const steps = seriesCutSteps(daily(''), daily(`;UNTIL=${basic(FIRST + 40 * 366 * DAY)}`, exdates), NOW);
  let count = 0;
  let step = steps.next();
  for (; !step.done; step = steps.next()) count++;
  assert.equal(step.value, null);
  assert.ok(count >= 1_830 / 150 && count < 9_855 / 125, `${count} steps`);
});

test('a COUNT series begun 24 years ago and cut is counted out in steps of about 125 instances, both rules', () => {
  const began = NOW - 24 * 365 * DAY;
  const counted = (count: number) => ({ startMs: began, endMs: began + HOUR, timeZone: 'Europe/Berlin', recurrence: [`RRULE:FREQ=DAILY;COUNT=${count}`] });
  const steps = seriesCutSteps(counted(9_000), counted(8_900), NOW);
  let count = 0;
  let step = steps.next();
  for (; !step.done; step = steps.next()) count++;
  assert.deepEqual(step.value, seriesCut(counted(9_000), counted(8_900), NOW));
  // The 8,901st day (an hour off for the summer time the rule keeps its wall-clock time across).
  assert.ok(Math.abs(step.value!.lostStartsMs[0]! - (began + 8_900 * DAY)) <= HOUR, JSON.stringify(step.value));
  // Each rule has about 8,770 instances before now to count: two steps held the event loop for them.
  assert.ok(count >= (2 * 8_770) / 150, `${count} steps`);
});
