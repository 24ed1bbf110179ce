import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSlots, MAX_WAIT_MS, SlotWaitEnded, SlotWaitTimedOut } from './keyed-slots.ts';

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
  const dropped = slots.run('a', async () => {}, { signal: stop.signal });
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
  const dropped = slots.run('a', async () => { isStarted = true; }, { signal: stop.signal });
  const next = slots.run('a', async () => 'next');
  stop.abort();
  await assert.rejects(dropped, SlotWaitEnded);
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'next');
  assert.equal(isStarted, false);
  assert.equal(slots.running('a'), 0);
  // Aborted before it asks: never waits, never starts.
  await assert.rejects(slots.run('a', async () => { isStarted = true; }, { signal: stop.signal }), SlotWaitEnded);
  assert.equal(isStarted, false);
});

/** A piece of work that runs until `release` is called. */
const held = () => {
  let release!: () => void;
  const done = new Promise<void>((resolve) => { release = resolve; });
  return { work: () => done, release: () => release() };
};

test('KeyedSlots: a wait bounded by maxWaitMs ends with SlotWaitTimedOut once the bound is over, its work never started, the slots held as they were', async () => {
  const slots = new KeyedSlots(1);
  const holder = held();
  const running = slots.run('a', holder.work);
  let isStarted = false;
  const started = performance.now();
  const bounded = slots.run('a', async () => { isStarted = true; }, { maxWaitMs: 30 });
  assert.equal(slots.waiting('a'), 1);
  const error = await bounded.then(() => null, (e: unknown) => e);
  const waitedMs = performance.now() - started;
  assert.ok(error instanceof SlotWaitTimedOut, String(error));
  assert.equal(error.waitedMs, 30);
  assert.ok(waitedMs >= 25 && waitedMs < 1000, `ended after ${Math.round(waitedMs)} ms`);
  assert.deepEqual([isStarted, slots.running('a'), slots.waiting('a')], [false, 1, 0], 'left the queue; the holder keeps its slot');
  holder.release();
  await running;
  assert.equal(slots.keysInUse, 0);
  // A slot free at once: no wait, whatever the bound.
  assert.equal(await slots.run('a', async () => 'at once', { maxWaitMs: 0 }), 'at once');
  await assert.rejects(slots.run('a', async () => {}, { maxWaitMs: -1 }), RangeError);
});

test('KeyedSlots: a wait whose slot comes within its bound is not ended by the bound later, however long its work runs', async () => {
  const slots = new KeyedSlots(1);
  const holder = held();
  const running = slots.run('a', holder.work);
  const waiter = slots.run('a', () => tick(60).then(() => 'done'), { maxWaitMs: 20 });
  await tick(5);
  holder.release();
  await running;
  assert.equal(await waiter, 'done');
  assert.equal(slots.keysInUse, 0);
});

test('KeyedSlots: an aborted wait leaves the queue at once, before any slot is freed', async () => {
  const slots = new KeyedSlots(1);
  const holder = held();
  const running = slots.run('a', holder.work);
  const stop = new AbortController();
  const dropped = slots.run('a', async () => {}, { signal: stop.signal, maxWaitMs: 10_000 });
  const next = slots.run('a', async () => 'next');
  assert.equal(slots.waiting('a'), 2);
  stop.abort();
  assert.equal(slots.waiting('a'), 1, 'gone from the queue as the signal was aborted');
  await assert.rejects(dropped, SlotWaitEnded);
  holder.release();
  await running;
  assert.equal(await next, 'next');
  assert.equal(slots.keysInUse, 0, 'no timer or entry left behind');
});

test('KeyedSlots: a slot freed after a waiter timed out goes to the next waiter; none is lost, none given to the waiter that left', async () => {
  const slots = new KeyedSlots(2);
  const holders = [held(), held()];
  const runs = holders.map((h) => slots.run('a', h.work));
  const started: string[] = [];
  const work = (name: string) => async () => {
    started.push(name);
    await tick(5);
    return name;
  };
  const timedOut = slots.run('a', work('timed out'), { maxWaitMs: 20 });
  const second = slots.run('a', work('second'), { maxWaitMs: 5000 });
  const third = slots.run('a', work('third'));
  await assert.rejects(timedOut, SlotWaitTimedOut);
  assert.deepEqual([slots.running('a'), slots.waiting('a')], [2, 2]);
  holders[0]!.release();
  assert.equal(await second, 'second');
  holders[1]!.release();
  assert.equal(await third, 'third');
  await Promise.all(runs);
  assert.deepEqual(started, ['second', 'third']);
  assert.deepEqual([slots.running('a'), slots.keysInUse], [0, 0]);
  // Both slots are there still: two pieces of work run at once, as before.
  let inFlight = 0;
  let most = 0;
  await Promise.all([0, 1, 2].map(() => slots.run('a', async () => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await tick(10);
    inFlight -= 1;
  }, { maxWaitMs: 1000 })));
  assert.equal(most, 2);
});

for (const maxWaitMs of [Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 40]) {
  test(`KeyedSlots: a bound of ${maxWaitMs} ms, past the longest timer delay, does not end the wait at once`, async () => {
    const slots = new KeyedSlots(1);
    const holder = held();
    const running = slots.run('a', holder.work);
    let outcome = 'waiting';
    const waiter = slots.run('a', async () => 'ran', { maxWaitMs }).then((v) => { outcome = v; }, (e: unknown) => { outcome = String(e); });
    await tick(30);
    assert.equal(outcome, 'waiting');
    holder.release();
    await running;
    await waiter;
    assert.equal(outcome, 'ran');
    assert.equal(slots.keysInUse, 0);
  });
}

test('KeyedSlots: a bound above 2^31 - 1 ms is clamped to it; Infinity is no bound; NaN and negative bounds are refused', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const slots = new KeyedSlots(1);
  const holder = held();
  const running = slots.run('a', holder.work);
  const clamped = slots.run('a', async () => {}, { maxWaitMs: 2 ** 40 }).then(() => null, (e: unknown) => e);
  const unbounded = slots.run('a', async () => 'ran', { maxWaitMs: Infinity });
  mock.timers.tick(MAX_WAIT_MS - 1);
  await Promise.resolve();
  assert.equal(slots.waiting('a'), 2);
  mock.timers.tick(1);
  const error = await clamped;
  assert.ok(error instanceof SlotWaitTimedOut, String(error));
  assert.equal(error.waitedMs, MAX_WAIT_MS);
  assert.equal(slots.waiting('a'), 1, 'the wait with no bound is still there');
  holder.release();
  await running;
  assert.equal(await unbounded, 'ran');
  await assert.rejects(slots.run('a', async () => {}, { maxWaitMs: Number.NaN }), RangeError);
  await assert.rejects(slots.run('a', async () => {}, { maxWaitMs: -Infinity }), RangeError);
});
