import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSlots, SlotWaitEnded } from './keyed-slots.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('KeyedSlots: at most `limit` pieces of work of one key at once, in the order they came', async () => {
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
  const answers = await Promise.all([slots.run('a', work('a1', 15)), slots.run('a', work('a2', 15)), slots.run('a', work('a3', 1)), slots.run('a', work('a4', 1))]);
  assert.deepEqual(answers, ['a1', 'a2', 'a3', 'a4']);
  assert.equal(most, 2);
  assert.deepEqual(started, ['a1', 'a2', 'a3', 'a4']);
  assert.equal(slots.running('a'), 0);
});

test('KeyedSlots: a key whose slots are all taken does not hold up another key', async () => {
  const slots = new KeyedSlots(1);
  let release!: () => void;
  const a = slots.run('a', () => new Promise<void>((resolve) => { release = resolve; }));
  let isBStarted = false;
  const b = slots.run('b', async () => { isBStarted = true; });
  await tick(10);
  assert.equal(isBStarted, true, 'b waited for a\'s slot');
  release();
  await Promise.all([a, b]);
});

test('KeyedSlots: a key holds nothing once idle, whether its work ended, failed or its wait was ended', async () => {
  const slots = new KeyedSlots(1);
  const held = slots.run('a', () => tick(10));
  const stop = new AbortController();
  const dropped = slots.run('a', async () => {}, stop.signal);
  const failed = slots.run('b', async () => { throw new Error('boom'); });
  assert.equal(slots.keysInUse, 2);
  await assert.rejects(failed, /boom/);
  assert.equal(slots.keysInUse, 1, 'b is gone once its work failed');
  stop.abort();
  await assert.rejects(dropped, SlotWaitEnded);
  await held;
  assert.equal(slots.keysInUse, 0, 'a is gone once its last work ended');
  // Many keys used one after the other leave nothing behind.
  for (let i = 0; i < 100; i++) await slots.run(`key-${i}`, async () => i);
  assert.equal(slots.keysInUse, 0);
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
