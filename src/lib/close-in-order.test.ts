import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseError, closeInOrder } from './close-in-order.ts';

test('every step runs, in order, each after the one before has settled', async () => {
  const seen: string[] = [];
  await closeInOrder([
    { name: 'server', stop: async () => { await new Promise((r) => setTimeout(r, 20)); seen.push('server'); } },
    { name: 'dispatcher', stop: () => { seen.push('dispatcher'); } },
    { name: 'database', stop: async () => { seen.push('database'); } },
  ]);
  assert.deepEqual(seen, ['server', 'dispatcher', 'database']);
});

test('a step that fails does not keep the later ones from running, and every failure is reported', async () => {
  const seen: string[] = [];
  const error = await closeInOrder([
    { name: 'http client', stop: async () => { throw new Error('socket hang up'); } },
    { name: 'checkpoints', stop: () => { throw 'worker gone'; } },
    { name: 'database', stop: async () => { seen.push('database'); } },
  ]).then(() => null, (e: unknown) => e);
  assert.deepEqual(seen, ['database']);
  assert.ok(error instanceof CloseError);
  assert.deepEqual(error.failedSteps, ['http client', 'checkpoints']);
  assert.equal(error.errors.length, 2);
  assert.equal((error.errors[0] as Error).message, 'socket hang up');
  assert.match(error.message, /http client \(socket hang up\), checkpoints \(worker gone\)/);
});

test('a group of steps is stopped all at once: their waits do not add up, and the next step waits for all of them', async () => {
  const seen: string[] = [];
  const began = performance.now();
  const error = await closeInOrder([
    { name: 'server', stop: () => { seen.push('server'); } },
    [
      { name: 'dispatcher', stop: async () => { await new Promise((r) => setTimeout(r, 400)); seen.push('dispatcher'); } },
      { name: 'webhooks', stop: async () => { await new Promise((r) => setTimeout(r, 400)); throw new Error('receiver hung'); } },
      { name: 'sync', stop: async () => { await new Promise((r) => setTimeout(r, 200)); seen.push('sync'); } },
    ],
    { name: 'database', stop: () => { seen.push('database'); } },
  ]).then(() => null, (e: unknown) => e);
  const tookMs = performance.now() - began;
  assert.deepEqual(seen, ['server', 'sync', 'dispatcher', 'database']);
  // Together 400 ms; one after another 1,000 ms (the margin is for a busy machine's late timers).
  assert.ok(tookMs < 800, `took ${Math.round(tookMs)} ms: the group's waits added up`);
  assert.ok(error instanceof CloseError);
  assert.deepEqual(error.failedSteps, ['webhooks']);
});
