import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundLoop } from './background-loop.ts';
import { DatabaseHealth } from '../db/database-health.ts';
import { createLogger } from '../lib/logger.ts';
import { createMetrics } from '../lib/metrics.ts';

const restartsOf = async (metrics: ReturnType<typeof createMetrics>, loop: string) =>
  (await metrics.loopRestarts.get()).values.find((v) => v.labels.loop === loop)?.value ?? 0;

test('a pass that fails because the database is out is not counted in rollcall_loop_restarts_total; any other failure is', async () => {
  const metrics = createMetrics({ collectDefaults: false });
  const health = new DatabaseHealth({ probe: () => new Promise(() => {}), probeIntervalMs: 60_000 });
  const failures = [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), new Error('a bug')];
  let passes = 0;
  const loop = new BackgroundLoop({
    name: 'test_loop', logger: createLogger('silent'), metrics, health,
    pass: async () => {
      const failure = failures[passes++];
      if (failure) throw failure;
      return 60_000;
    },
  });
  try {
    loop.start();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(passes, 1);
    assert.equal(health.isAvailable, false, 'the outage was seen');
    assert.equal(await restartsOf(metrics, 'test_loop'), 0, 'an outage is not a loop failure');
    loop.wake();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(passes, 2);
    assert.equal(await restartsOf(metrics, 'test_loop'), 1, 'a failure of its own is counted');
  } finally {
    await loop.stop();
    health.close();
  }
});
