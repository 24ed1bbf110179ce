import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestReplacement, overrideTimesAfterChange, reanchorOverrides, usualSpacingMs, type RuleAfterChange } from './series-move.ts';

const DAY = 86_400_000;

test('a series\' usual spacing is the lower median gap: one moved occurrence or a cancelled day does not change it', () => {
  assert.equal(usualSpacingMs([0, 7, 14, 21].map((d) => d * DAY)), 7 * DAY);
  assert.equal(usualSpacingMs([0, 7, 7.1, 14, 21, 28].map((d) => d * DAY)), 7 * DAY);
  // A week without its occurrence (two weeks' gap once).
  assert.equal(usualSpacingMs([0, 7, 21, 28].map((d) => d * DAY)), 7 * DAY);
  // Twice a week, two and five days apart: the shorter.
  assert.equal(usualSpacingMs([0, 2, 7, 9].map((d) => d * DAY)), 2 * DAY);
  assert.equal(usualSpacingMs([28, 0, 14, 7].map((d) => d * DAY)), 7 * DAY, 'in any order');
  assert.equal(usualSpacingMs([5, 5]), null);
  assert.equal(usualSpacingMs([5]), null);
  assert.equal(usualSpacingMs([]), null);
});

test('the replacement of a vanished occurrence is the nearest within half the spacing, earlier or later', () => {
  const weekly = 7 * DAY;
  // Moved two days earlier and two days later: the same week's occurrence, not the one before or after.
  assert.equal(nearestReplacement(14 * DAY, [5, 12, 19].map((d) => d * DAY), weekly), 12 * DAY);
  assert.equal(nearestReplacement(14 * DAY, [9, 16, 23].map((d) => d * DAY), weekly), 16 * DAY);
  // Half a week away or more is no one's replacement: an occurrence only dropped keeps none.
  assert.equal(nearestReplacement(14 * DAY, [7, 21].map((d) => d * DAY), weekly), undefined);
  assert.equal(nearestReplacement(14 * DAY, [10.5 * DAY, 17.5 * DAY], weekly), undefined);
  // As near on both sides: the earlier.
  assert.equal(nearestReplacement(14 * DAY, [15, 13].map((d) => d * DAY), weekly), 13 * DAY);
  assert.equal(nearestReplacement(14 * DAY, [13 * DAY], null), undefined);
  assert.equal(nearestReplacement(14 * DAY, [], weekly), undefined);
});

const HOUR = 3_600_000;

/** A rule before and after a change, given by its starts (in days); replacements as SeriesOccurrences finds them: same day, else nearest within half the spacing. */
function ruleOf(before: number[], after: number[]): RuleAfterChange {
  const beforeMs = new Set(before.map((d) => d * DAY));
  const afterMs = after.map((d) => d * DAY);
  const spacing = usualSpacingMs(afterMs);
  return {
    has: (ms) => afterMs.includes(ms),
    hadBefore: (ms) => beforeMs.has(ms),
    replacementFor: (ms, isFree) => afterMs.find((start) => Math.floor(start / DAY) === Math.floor(ms / DAY) && isFree(start))
      ?? nearestReplacement(ms, afterMs.filter(isFree), spacing),
  };
}

const at = (id: string, days: number) => ({ id, originalStartMs: days * DAY });

test('overrides of a series moved an hour later, or to another weekday, follow their occurrences', () => {
  const weekly = [0, 7, 14, 21].map((d) => d + 10 / 24);
  const anHourLater = weekly.map((d) => d + 1 / 24);
  assert.deepEqual(reanchorOverrides([at('a', weekly[1]!), at('b', weekly[3]!)], ruleOf(weekly, anHourLater)), new Map([['a', anHourLater[1]! * DAY], ['b', anHourLater[3]! * DAY]]));
  // Tuesday to Thursday (two days later) and to Monday (a day earlier): each in its own week.
  const thursday = weekly.map((d) => d + 2);
  assert.deepEqual(reanchorOverrides([at('a', weekly[1]!)], ruleOf(weekly, thursday)), new Map([['a', thursday[1]! * DAY]]));
  const monday = weekly.map((d) => d - 1);
  assert.deepEqual(reanchorOverrides([at('a', weekly[1]!), at('b', weekly[2]!)], ruleOf(weekly, monday)), new Map([['a', monday[1]! * DAY], ['b', monday[2]! * DAY]]));
});

test('an override whose occurrence the changed rule still has stays; one whose occurrence was dropped or cannot be told is dropped', () => {
  const weekly = [0, 7, 14, 21];
  // An EXDATE, a shortened series: no replacement.
  assert.deepEqual(reanchorOverrides([at('kept', 7), at('excluded', 14)], ruleOf(weekly, [0, 7, 21])), new Map([['kept', 7 * DAY], ['excluded', null]]));
  assert.deepEqual(reanchorOverrides([at('past-until', 21)], ruleOf(weekly, [0, 7, 14])), new Map([['past-until', null]]));
  // Moved by half a week: as far from the occurrence before as from the one after, the replacement cannot be told.
  assert.deepEqual(reanchorOverrides([at('a', 7)], ruleOf(weekly, weekly.map((d) => d + 3.5))), new Map([['a', null]]));
  // Only the duration changed: every original start is still there.
  assert.deepEqual(reanchorOverrides([at('a', 7)], ruleOf(weekly, weekly)), new Map([['a', 7 * DAY]]));
});

test('an override takes no occurrence the series had before, nor one another override holds', () => {
  // Daily turned into Mondays and Thursdays (days 0 and 3 of each week): the Tuesday's override
  // would be nearest the Monday, which was there already and keeps its own identity.
  const daily = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(reanchorOverrides([at('tuesday', 1)], ruleOf(daily, [0, 3, 7, 10])), new Map([['tuesday', null]]));
  // Two overrides whose occurrences both vanish towards one new occurrence: the earlier takes it.
  const twiceADay = [0, 0.5, 7, 7.5].map((d) => d + 0.1);
  const onceADay = [0, 7].map((d) => d + 0.3);
  assert.deepEqual(reanchorOverrides([at('late', 7.6), at('early', 7.1)], ruleOf(twiceADay, onceADay)), new Map([['early', 7.3 * DAY], ['late', null]]));
  // An override that stays holds its occurrence before a vanished one chooses.
  assert.deepEqual(reanchorOverrides([at('vanished', 7.6), at('stays', 7.3)], {
    has: (ms) => ms === 7.3 * DAY, hadBefore: () => false, replacementFor: (_ms, isFree) => [7.3 * DAY].find(isFree),
  }), new Map([['stays', 7.3 * DAY], ['vanished', null]]));
});

test('an override keeps a time of its own; one that kept its occurrence\'s times takes the new ones', () => {
  const before = { startMs: 10 * HOUR, endMs: 11 * HOUR };
  const after = { startMs: 11 * HOUR, endMs: 12 * HOUR };
  assert.deepEqual(overrideTimesAfterChange({ startMs: 10 * HOUR, endMs: 11 * HOUR }, before, after), after);
  assert.deepEqual(overrideTimesAfterChange({ startMs: 15 * HOUR, endMs: 16 * HOUR }, before, after), { startMs: 15 * HOUR, endMs: 16 * HOUR });
  // Only its end of its own (a longer meeting): a time of its own all the same.
  assert.deepEqual(overrideTimesAfterChange({ startMs: 10 * HOUR, endMs: 12 * HOUR }, before, after), { startMs: 10 * HOUR, endMs: 12 * HOUR });
  // Its occurrence unknown to the old rule: nothing says its times were the rule's.
  assert.deepEqual(overrideTimesAfterChange({ startMs: 10 * HOUR, endMs: 11 * HOUR }, null, after), { startMs: 10 * HOUR, endMs: 11 * HOUR });
});
