// The no-op runtime, in both places it can run: first arrivals per bot and per path, repeats,
// signatures, and anything that is not a launch request. Run: npx node --test bench/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLaunchClient, launchRequestOf } from './launch-client.ts';
import { startNoopRuntime } from './noop-runtime.ts';
import { launchJob } from './seed.ts';

for (const mode of ['process', 'inline'] as const) {
  test(`the runtime (${mode}) records each bot's first arrival and path, and counts repeats`, async () => {
    const runtime = await startNoopRuntime(mode);
    const a = createLaunchClient(runtime.url('/launch/a'));
    const b = createLaunchClient(runtime.url('/launch/b'));
    try {
      const before = Date.now();
      const jobs = [0, 1, 2].map((i) => launchJob('usr_test', i, before));
      for (const outcome of await Promise.all([a.launch(launchRequestOf(jobs[0]!)), b.launch(launchRequestOf(jobs[1]!)), b.launch(launchRequestOf(jobs[2]!))])) assert.equal(outcome.ok, true);
      // The same bot again, through the other path: a repeat, and its first path stays.
      assert.equal((await b.launch(launchRequestOf(jobs[0]!))).ok, true);
      const notALaunch = await fetch(runtime.url('/launch/a'), { method: 'POST', body: '{"action":"stop"}' });
      assert.equal(notALaunch.status, 202);
      assert.equal(await runtime.count(), 3);
      const seen = await runtime.snapshot();
      assert.equal(seen.requests, 5);
      assert.equal(seen.malformed, 1);
      assert.equal(seen.signed, 4, 'the launch client signs, the bare fetch does not');
      assert.deepEqual(seen.requestsByPath, { '/launch/a': 2, '/launch/b': 3 });
      const byBot = new Map(seen.arrivals.map(([id, at, path]) => [id, { at, path }]));
      assert.equal(byBot.get(jobs[0]!.bot.id)?.path, '/launch/a');
      assert.equal(byBot.get(jobs[2]!.bot.id)?.path, '/launch/b');
      for (const { at } of byBot.values()) assert.ok(at >= before && at <= Date.now());
      await runtime.reset();
      assert.equal(await runtime.count(), 0);
      assert.equal((await runtime.snapshot()).requests, 0);
    } finally {
      await a.close();
      await b.close();
      await runtime.stop();
    }
  });
}

test('the launch request a peer sends is the one Rollcall builds for the same bot', () => {
  const job = launchJob('usr_test', 7, Date.parse('2030-01-01T10:00:00.123Z'));
  const request = launchRequestOf(job);
  assert.equal(request.action, 'launch');
  assert.equal(request.bot_id, job.bot.id);
  assert.equal(request.scheduled_time, '2030-01-01T10:00:00.123Z');
  assert.equal(request.idempotency_key, job.schedule.idempotency_key);
  assert.equal(request.events.length, 1);
  assert.equal(request.events[0]!.event_id, job.links[0]!.event_id);
  assert.match(request.status_url, new RegExp(`/api/v1/bots/${job.bot.id}/status$`));
  assert.ok(Object.keys(request.bot_config).length > 0, 'the full default bot config, as the seeded bots carry');
});
