import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapBounded } from './bounded-parallel.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('mapBounded: answers in input order with never more than `limit` items in flight, and uses that many', async () => {
  let inFlight = 0;
  let most = 0;
  const results = await mapBounded([5, 1, 4, 2, 3, 1, 2, 5, 1], 4, async (ms, index) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await tick(ms);
    inFlight -= 1;
    return `${index}:${ms}`;
  });
  assert.deepEqual(results, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:1', '6:2', '7:5', '8:1']);
  assert.equal(most, 4);
  assert.deepEqual(await mapBounded([], 4, async () => 1), []);
});

test('mapBounded: after a failure no further item starts; the running ones end and the first failure is thrown', async () => {
  const started: number[] = [];
  let running = 0;
  const outcome = mapBounded([0, 1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    started.push(n);
    running += 1;
    await tick(n === 1 ? 1 : 10);
    running -= 1;
    if (n === 1) throw new Error('limited');
    if (n === 2) throw new Error('second failure');
    return n;
  });
  await assert.rejects(outcome, /limited/);
  assert.equal(running, 0, 'the items in flight were waited for');
  assert.deepEqual(started, [0, 1, 2], 'nothing started after the failure');
  await assert.rejects(mapBounded([1], 0, async (n) => n), RangeError);
});
