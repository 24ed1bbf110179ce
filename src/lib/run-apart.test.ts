import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runApart } from './run-apart.ts';

const STOP = new Error('database unavailable');

test('one run when the work succeeds', async () => {
  let calls = 0;
  const outcome = await runApart([1, 2, 3], async (group) => { calls++; return group.length; }, () => false);
  assert.deepEqual(outcome, { done: [{ items: [1, 2, 3], result: 3 }], failed: [] });
  assert.equal(calls, 1);
});

test('every item is done, failed alone, or left by a stop: never two of these, never none', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 40 }).map((xs) => [...new Set(xs)]),
    fc.array(fc.integer({ min: 0, max: 99 })),
    fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }),
    async (items, badList, stopper) => {
      const bad = new Set(badList);
      const outcome = await runApart(items, async (group) => {
        if (stopper !== undefined && group.includes(stopper)) throw STOP;
        if (group.some((x) => bad.has(x))) throw new Error('bad item');
        return group;
      }, (error) => error === STOP);
      const done = outcome.done.flatMap((d) => d.items);
      const failed = outcome.failed.map((f) => f.item);
      const left = outcome.stopped?.items ?? [];
      assert.deepEqual([...done, ...failed, ...left].sort((a, b) => a - b), [...items].sort((a, b) => a - b));
      // Only bad items fail alone; a good item is done unless a stop left it.
      for (const x of failed) assert.ok(bad.has(x));
      for (const x of items) if (!bad.has(x) && !left.includes(x)) assert.ok(done.includes(x));
      if (stopper === undefined || !items.includes(stopper)) assert.equal(outcome.stopped, undefined);
      else assert.equal(outcome.stopped?.error, STOP);
    },
  ));
});

test('a stop ends the run: nothing after it is tried', async () => {
  const tried: number[][] = [];
  const outcome = await runApart([1, 2, 3, 4], async (group) => {
    tried.push(group);
    if (group.includes(4)) throw new Error('bad');
    if (group.length === 1 && group[0] === 3) throw STOP;
    return null;
  }, (error) => error === STOP);
  assert.deepEqual(tried, [[1, 2, 3, 4], [1, 2], [3, 4], [3]]);
  assert.deepEqual(outcome.stopped?.items, [3, 4]);
  assert.deepEqual(outcome.done.map((d) => d.items), [[1, 2]]);
});
