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
