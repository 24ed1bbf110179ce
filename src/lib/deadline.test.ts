import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledWithin } from './deadline.ts';

test('the work\'s value when it settles in time, the stand-in when it does not', async () => {
  assert.equal(await settledWithin(Promise.resolve('done'), 1000, 'late'), 'done');
  const started = performance.now();
  assert.equal(await settledWithin(new Promise<string>(() => {}), 50, 'late'), 'late');
  assert.ok(performance.now() - started >= 45);
});

test('a failure in time is the caller\'s to handle', async () => {
  await assert.rejects(settledWithin(Promise.reject(new Error('boom')), 1000, 'late'), /boom/);
});

test('no timer is left behind once the work has settled', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await settledWithin(Promise.resolve(1), 60_000, 0);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
});
