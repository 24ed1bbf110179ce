// Exactly once, with real processes: 2,000 bots come due within a few seconds while Rollcall
// processes are killed with SIGKILL and restarted. Every bot must be launched, and every repeat
// of a launch must carry the launch's idempotency key, so that the runtime can drop it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createTestDatabase, TEST_ENGINE, type TestDatabase } from '../support/harness.ts';
import { childCwd, inheritedEnv } from '../support/child-env.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { createRollcall } from '../../src/container.ts';
import { parseConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';

const BOTS = 2000;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

interface Run {
  launchesByBot: Map<string, Set<string>>;
  requestsByBot: Map<string, number>;
  repeats: number;
  kills: number;
}

/** Creates BOTS bots through the real service, then pulls their due times into the next seconds. */
async function seedBots(testDb: TestDatabase): Promise<string[]> {
  const database = await testDb.open();
  const rollcall = await createRollcall(parseConfig({ LOG_LEVEL: 'silent', DATABASE_URL: testDb.url }), { database, logger: createLogger('silent'), collectDefaultMetrics: false });
  const { userId } = await createApiKey(database.db, 'crash-test', rollcall.clock);
  const start = Date.now() + 3_600_000;
  const ids: string[] = [];
  // Eight bookings at a time, as clients calling the API at once would: one after another, each
  // waited on the database's round trips (on PostgreSQL, 500 took 3.4 s that way, 2.2 s like this).
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = next++; i < BOTS; i = next++) {
      const event = await rollcall.events.create(userId, { title: `m${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/${9_000_000_000 + i}` });
      const scheduled = await rollcall.scheduling.schedule(userId, event.id, { deduplication_key: `k${i}`, bot_config: {} });
      ids.push(scheduled.bot_id!);
    }
  }));
  // Due times spread over 4 s, starting 2 s after the processes come up.
  const base = Date.now() + 4000;
  const rows = await database.db.selectFrom('schedules').select(['id']).orderBy('id').execute();
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    await database.db.transaction().execute(async (trx) => {
      for (const [j, row] of chunk.entries()) {
        const due = base + Math.floor(((i + j) / BOTS) * 4000);
        await trx.updateTable('schedules').set({ due_at_ms: due }).where('id', '=', row.id).execute();
      }
    });
  }
  await database.db.updateTable('bots').set({ join_at_ms: base }).execute();
  await rollcall.close();
  return ids;
}

/**
 * Short deadlines (the default) make a killed instance's launches taken over quickly. Without
 * kills, a repeat may only come from Rollcall itself deciding twice: the deadlines are then far
 * above any stall of a loaded machine (a launch that timed out is a failure, retried under its key
 * by design, and would be counted as a repeat).
 */
interface Deadlines { runtimeTimeoutMs: number; leaseSeconds: number }
const KILL_DEADLINES: Deadlines = { runtimeTimeoutMs: 1000, leaseSeconds: 2 };
const CALM_DEADLINES: Deadlines = { runtimeTimeoutMs: 10_000, leaseSeconds: 15 };

function startProcess(testDb: TestDatabase, runtimeUrl: string, deadlines: Deadlines): ChildProcess {
  const url = testDb.processUrl;
  return spawn(process.execPath, [MAIN, 'serve'], {
    cwd: childCwd(),
    env: {
      ...inheritedEnv(),
      DATABASE_URL: url,
      PORT: '0',
      LOG_LEVEL: 'silent',
      BOT_RUNTIME: 'http',
      BOT_RUNTIME_URL: runtimeUrl,
      BOT_RUNTIME_TIMEOUT_MS: String(deadlines.runtimeTimeoutMs),
      DISPATCH_LEASE_SECONDS: String(deadlines.leaseSeconds),
    },
    stdio: 'ignore',
  });
}

async function runWithKills(testDb: TestDatabase, botIds: string[], instances: number, kills: number): Promise<Run> {
  const runtime = new FakeHttpReceiver();
  const launchesByBot = new Map<string, Set<string>>();
  const requestsByBot = new Map<string, number>();
  runtime.respond = (request) => {
    const botId = request.json.bot_id as string;
    const keys = launchesByBot.get(botId) ?? new Set<string>();
    keys.add(request.json.idempotency_key as string);
    launchesByBot.set(botId, keys);
    requestsByBot.set(botId, (requestsByBot.get(botId) ?? 0) + 1);
    // A launch takes a while to be accepted, so that kills land on launches in flight.
    return { status: 202, delayMs: 20 + Math.floor(Math.random() * 80) };
  };
  const runtimeUrl = await runtime.start();
  const deadlines = kills > 0 ? KILL_DEADLINES : CALM_DEADLINES;
  const processes: ChildProcess[] = [];
  for (let i = 0; i < instances; i++) processes.push(startProcess(testDb, runtimeUrl, deadlines));
  let killed = 0;
  try {
    const deadline = Date.now() + 90_000;
    // Once firing has begun, kill a random instance every 0.3-0.9 s, then let them finish.
    if (kills > 0) await runtime.waitFor(() => runtime.received.length > 0, 30_000);
    while (killed < kills && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 600));
      const victim = Math.floor(Math.random() * processes.length);
      const child = processes[victim]!;
      child.kill('SIGKILL');
      await once(child, 'exit');
      killed++;
      processes[victim] = startProcess(testDb, runtimeUrl, deadlines);
    }
    await runtime.waitFor(() => launchesByBot.size >= botIds.length, Math.max(1000, deadline - Date.now()));
  } finally {
    for (const child of processes) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      // A graceful stop has 15 s; then it is killed, and the test says nothing about it.
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await once(child, 'exit');
      clearTimeout(force);
    }
    await runtime.stop();
  }
  let repeats = 0;
  for (const count of requestsByBot.values()) repeats += count - 1;
  return { launchesByBot, requestsByBot, repeats, kills: killed };
}

describe(`exactly once under SIGKILL (${TEST_ENGINE})`, () => {
  const instances = TEST_ENGINE === 'postgres' ? 3 : 1;

  test(`${BOTS} bots, ${instances} instance(s), killed at random 5+ times: every bot launched, repeats carry the same key`, async (t) => {
    const testDb = await createTestDatabase();
    try {
      const botIds = await seedBots(testDb);
      const run = await runWithKills(testDb, botIds, instances, 6);
      assert.ok(run.kills >= 5, `only ${run.kills} kills`);
      for (const id of botIds) {
        const keys = run.launchesByBot.get(id);
        assert.ok(keys, `bot ${id} was never launched`);
        assert.equal(keys.size, 1, `bot ${id} was launched with ${keys.size} different idempotency keys`);
      }
      t.diagnostic(`${botIds.length} bots launched; ${run.kills} kills; ${run.repeats} repeated launch requests (all with the launch's own idempotency key)`);
    } finally {
      await testDb.drop();
    }
  });

  test(`${BOTS} bots, ${instances} instance(s), no crashes: no launch request is sent twice`, async (t) => {
    const testDb = await createTestDatabase();
    try {
      const botIds = await seedBots(testDb);
      const run = await runWithKills(testDb, botIds, instances, 0);
      assert.equal(run.launchesByBot.size, botIds.length);
      assert.equal(run.repeats, 0, `${run.repeats} launch requests were sent twice`);
      t.diagnostic(`${botIds.length} bots launched exactly once each`);
    } finally {
      await testDb.drop();
    }
  });
});
