import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readingOrder } from './calendar-read-order.ts';

const calendar = (id: string, read_failures = 0) => ({ id, read_failures });
const ids = (list: { id: string }[]) => list.map((c) => c.id);

test('calendars that failed on their own come last; the others start one further along after each failed sync', () => {
  const list = [calendar('a'), calendar('x', 3), calendar('b'), calendar('c'), calendar('y', 1)];
  assert.deepEqual(ids(readingOrder(list, 0)), ['a', 'b', 'c', 'x', 'y']);
  assert.deepEqual(ids(readingOrder(list, 1)), ['b', 'c', 'a', 'x', 'y']);
  assert.deepEqual(ids(readingOrder(list, 5)), ['c', 'a', 'b', 'x', 'y']);
  assert.deepEqual(ids(readingOrder([calendar('x', 1)], 7)), ['x']);
  assert.deepEqual(readingOrder([], 3), []);
});

test('whichever two calendars keep failing, a sync that stops at the first two it tries reaches one that works within as many syncs as there are calendars', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const x of names) {
    for (const y of names) {
      if (x === y) continue;
      // Both fail with server errors but have not been told apart from an outage yet.
      const list = names.map((id) => calendar(id));
      const reached = Array.from({ length: names.length }, (_, failedSyncs) => ids(readingOrder(list, failedSyncs)).slice(0, 2))
        .some((firstTwo) => firstTwo.some((id) => id !== x && id !== y));
      assert.ok(reached, `${x} and ${y} failing`);
    }
  }
});
