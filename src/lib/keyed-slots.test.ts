import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSlots, SlotWaitEnded } from './keyed-slots.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('KeyedSlots: at most `limit` pieces of work of one key at once, in the order they came; other keys do not wait for it', async () => {
  const slots = new KeyedSlots(2);
  let inFlight = 0;
  let most = 0;
  const started: string[] = [];
  const work = (name: string, ms: number) => async () => {
    started.push(name);
    inFlight += 1;
    most = Math.max(most, inFlight);
    await tick(ms);
    inFlight -= 1;
    return name;
  };
  const other = slots.run('b', async () => started.slice());
  const answers = await Promise.all([slots.run('a', work('a1', 15)), slots.run('a', work('a2', 15)), slots.run('a', work('a3', 1)), slots.run('a', work('a4', 1))]);
  assert.deepEqual(answers, ['a1', 'a2', 'a3', 'a4']);
  assert.equal(most, 2);
  assert.deepEqual(started, ['a1', 'a2', 'a3', 'a4']);
  assert.deepEqual(await other, [], 'key b started at once, before any of a\'s');
  assert.deepEqual([slots.running('a'), slots.running('b')], [0, 0]);
});

test('KeyedSlots: a failing piece of work frees its slot; a wait whose signal is aborted ends with SlotWaitEnded, its work never started, and the next waiter gets the slot', async () => {
  const slots = new KeyedSlots(1);
  const failed = slots.run('a', async () => { await tick(10); throw new Error('boom'); });
  const stop = new AbortController();
  let isStarted = false;
  const dropped = slots.run('a', async () => { isStarted = true; }, stop.signal);
  const next = slots.run('a', async () => 'next');
  stop.abort();
  await assert.rejects(dropped, SlotWaitEnded);
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'next');
  assert.equal(isStarted, false);
  assert.equal(slots.running('a'), 0);
  // Aborted before it asks: never waits, never starts.
  await assert.rejects(slots.run('a', async () => { isStarted = true; }, stop.signal), SlotWaitEnded);
  assert.equal(isStarted, false);
});
