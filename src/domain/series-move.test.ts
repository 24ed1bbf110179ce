import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestReplacement, usualSpacingMs } from './series-move.ts';

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
