// A process killed with SIGKILL in the middle of a burst leaves rows it had claimed or was
// launching. They must not wait out their lease (30 s by default): on PostgreSQL another live
// instance takes them over within 3 s (the dead instance's advisory lock has been gone for a second,
// the grace a live instance gets to take its lock again); on SQLite the
// restarted process takes them at start-up. Every bot still launches, repeats only with the
// launch's own idempotency key.
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
import { lockKeyOf } from '../../src/scheduler/dispatcher-liveness.ts';

const BOTS = 300;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;


async function seedBots(testDb: TestDatabase): Promise<string[]> {
  const database = await testDb.open();
  const rollcall = await createRollcall(parseConfig({ LOG_LEVEL: 'silent', DATABASE_URL: testDb.url }), { database, logger: createLogger('silent'), collectDefaultMetrics: false });
  const { userId } = await createApiKey(database.db, 'takeover', rollcall.clock);
  const start = Date.now() + 3_600_000;
  const ids: string[] = [];
  for (let i = 0; i < BOTS; i++) {
    const event = await rollcall.events.create(userId, { title: `m${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/${6_400_000_000 + i}` });
    ids.push((await rollcall.scheduling.schedule(userId, event.id, { deduplication_key: `k${i}`, bot_config: {} })).bot_id!);
  }
  await rollcall.close();
  return ids;
}

/** Sets every bot due at `dueAtMs` (seeding is slow on a busy machine; the timing starts here). */
async function setDue(testDb: TestDatabase, dueAtMs: number): Promise<void> {
  const database = await testDb.open();
  await database.db.transaction().execute(async (trx) => {
    await trx.updateTable('schedules').set({ due_at_ms: dueAtMs }).execute();
    await trx.updateTable('bots').set({ join_at_ms: dueAtMs }).execute();
  });
  await database.close();
}

async function countHeld(testDb: TestDatabase): Promise<number> {
  const database = await testDb.open();
  const row = await database.db.selectFrom('schedules').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', ['claimed', 'launching']).executeTakeFirst();
  await database.close();
  return Number(row?.n ?? 0);
}

interface Instance { child: ChildProcess; ready: Promise<{ port: number; dispatcher: string }>; output: string[] }

/**
 * Starts `rollcall serve` on a port of its own choosing (PORT=0: a port picked here and handed over
 * could be taken meanwhile by another test process). Its ready line names its port and its
 * dispatcher, which is how its rows are told apart.
 */
function startInstance(testDb: TestDatabase, runtimeUrl: string, databaseUrl = testDb.processUrl): Instance {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    // The lease is left at its default (30 s): a takeover that waited for it would be obvious.
    cwd: childCwd(),
    env: { ...inheritedEnv(), DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', BOT_RUNTIME: 'http', BOT_RUNTIME_URL: runtimeUrl, BOT_RUNTIME_TIMEOUT_MS: '5000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The last lines it wrote, for a failure to show why it never became ready.
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line.slice(0, 500));
    if (output.length > 20) output.shift();
  };
  child.stderr!.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
  const ready = new Promise<{ port: number; dispatcher: string }>((resolve) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        keep(line);
        if (line.includes('Rollcall is ready')) {
          const { port, dispatcher } = JSON.parse(line) as { port: number; dispatcher: string };
          resolve({ port, dispatcher });
        }
      }
    });
  });
  return { child, ready, output };
}

/** When the instance answers /readyz 200; fails with its exit code and last output otherwise. */
async function waitReady(instance: Instance, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  const exited = new Promise<string>((resolve) => instance.child.once('exit', (code, signal) => resolve(`exited (${code ?? signal})`)));
  const timedOut = new Promise<string>((resolve) => setTimeout(() => resolve('no ready line'), timeoutMs).unref());
  const started = await Promise.race([instance.ready, exited, timedOut]);
  if (typeof started === 'string') throw new Error(`instance never became ready: ${started}; last output: ${instance.output.join(' | ')}`);
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${started.port}/readyz`)).status === 200) return Date.now();
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`instance never answered /readyz 200; last output: ${instance.output.join(' | ')}`);
}

async function holders(testDb: TestDatabase): Promise<Map<string, number>> {
  const database = await testDb.open();
  const rows = await database.db.selectFrom('schedules').select(['lease_owner', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['claimed', 'launching']).groupBy('lease_owner').execute();
  await database.close();
  return new Map(rows.map((r) => [r.lease_owner!, Number(r.n)]));
}

async function stopAll(instances: Instance[]): Promise<void> {
  for (const { child } of instances) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await once(child, 'exit');
    clearTimeout(force);
  }
}

function firstLaunches(runtime: FakeHttpReceiver): Map<string, { at: number; keys: Set<string>; count: number }> {
  const byBot = new Map<string, { at: number; keys: Set<string>; count: number }>();
  for (const r of runtime.received) {
    const entry = byBot.get(r.json.bot_id) ?? { at: r.at, keys: new Set<string>(), count: 0 };
    entry.keys.add(r.json.idempotency_key);
    entry.count++;
    byBot.set(r.json.bot_id, entry);
  }
  return byBot;
}

describe(`crash takeover (${TEST_ENGINE})`, () => {
  test(TEST_ENGINE === 'postgres'
    ? `an instance SIGKILLed mid-burst: another live instance takes its rows over within 3 s, not after the 30 s lease, and launches every bot once`
    : `the process SIGKILLed mid-burst and restarted: it launches its predecessor's claims at start-up, not after the 30 s lease`, async (t) => {
    const testDb = await createTestDatabase();
    const runtime = new FakeHttpReceiver();
    // Slow answers keep many launches in flight when the kill lands.
    runtime.respond = () => ({ status: 202, delayMs: 400 });
    const runtimeUrl = await runtime.start();
    const instances: Instance[] = [];
    try {
      const botIds = await seedBots(testDb);
      const victim = startInstance(testDb, runtimeUrl);
      instances.push(victim);
      await waitReady(victim);
      if (TEST_ENGINE === 'postgres') {
        // Two instances up well before the burst; whichever claims it is killed as it fires.
        const other = startInstance(testDb, runtimeUrl);
        instances.push(other);
        await waitReady(other);
        const dueAt = Date.now() + 3000;
        await setDue(testDb, dueAt);
        let held = new Map<string, number>();
        for (let i = 0; i < 200; i++) {
          held = await holders(testDb);
          if ([...held.values()].reduce((a, b) => a + b, 0) >= BOTS) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        const owners = new Map([[(await victim.ready).dispatcher, victim], [(await other.ready).dispatcher, other]]);
        const [busiest, rows] = [...held.entries()].sort((a, b) => b[1] - a[1])[0]!;
        const killed = owners.get(busiest)!;
        await runtime.waitFor(() => runtime.received.length >= 1, Math.max(5000, dueAt + 5000 - Date.now()));
        killed.child.kill('SIGKILL');
        const killedAt = Date.now();
        await once(killed.child, 'exit');
        // Taken over: no row is held by the dead instance any more.
        let takenOverAt = 0;
        for (const until = killedAt + 30_000; takenOverAt === 0 && Date.now() < until;) {
          if (!(await holders(testDb)).has(busiest)) takenOverAt = Date.now();
          else await new Promise((r) => setTimeout(r, 20));
        }
        await runtime.waitFor(() => firstLaunches(runtime).size >= BOTS, 25_000);
        // Rows the dead instance held are launched (again, same key) by the survivor.
        await new Promise((r) => setTimeout(r, 2500));
        const launches = firstLaunches(runtime);
        const afterKill = runtime.received.filter((r) => r.at > killedAt);
        const lastAfterKill = afterKill.length === 0 ? 0 : Math.max(...afterKill.map((r) => r.at)) - killedAt;
        let repeats = 0;
        for (const id of botIds) {
          assert.equal(launches.get(id)!.keys.size, 1, `bot ${id} launched under two keys`);
          repeats += launches.get(id)!.count - 1;
        }
        assert.ok(afterKill.length > 0, 'nothing was left to take over: the kill came too late to test anything');
        assert.equal(await countHeld(testDb), 0, 'rows are still held after the takeover');
        assert.ok(takenOverAt > 0 && takenOverAt - killedAt <= 3000, `the dead instance's rows were taken over ${takenOverAt - killedAt} ms after the kill`);
        t.diagnostic(`${BOTS} bots; the instance holding ${rows} of them was killed after ${runtime.received.filter((r) => r.at <= killedAt).length} launch requests; its rows were taken over ${takenOverAt - killedAt} ms after the kill; the survivor sent ${afterKill.length} launch requests, the last ${lastAfterKill} ms after the kill; ${repeats} repeats (same key)`);
      } else {
        const dueAt = Date.now() + 3000;
        await setDue(testDb, dueAt);
        await runtime.waitFor(() => runtime.received.length >= 20, 15_000);
        victim.child.kill('SIGKILL');
        await once(victim.child, 'exit');
        const sentBeforeKill = runtime.received.length;
        const held = await countHeld(testDb);
        const restarted = startInstance(testDb, runtimeUrl);
        instances.push(restarted);
        const readyAt = await waitReady(restarted);
        await runtime.waitFor(() => firstLaunches(runtime).size >= BOTS, 25_000);
        const launches = firstLaunches(runtime);
        const lastAfterReady = Math.max(...botIds.map((id) => launches.get(id)!.at)) - readyAt;
        let repeats = 0;
        for (const id of botIds) {
          assert.equal(launches.get(id)!.keys.size, 1, `bot ${id} launched under two keys`);
          repeats += launches.get(id)!.count - 1;
        }
        assert.ok(held > 0, 'the kill left no held rows: the test did not exercise a takeover');
        assert.ok(lastAfterReady <= 2000, `the last bot launched ${lastAfterReady} ms after the restarted process was ready`);
        t.diagnostic(`${BOTS} bots; killed after ${sentBeforeKill} launch requests with ${held} rows held; after the restart the last launched ${lastAfterReady} ms after ready; ${repeats} repeats (same key)`);
      }
    } finally {
      await stopAll(instances);
      await runtime.stop();
      await testDb.drop();
    }
  });
  test('a live instance whose lock connection is cut (a proxy, an idle-session limit, pg_terminate_backend) while its launches are on the wire keeps its rows: it takes the lock again and nobody sends them twice; an idle-session limit never cuts it', { skip: TEST_ENGINE !== 'postgres' ? 'the liveness lock is PostgreSQL\'s' : false }, async (t) => {
    const testDb = await createTestDatabase();
    const runtime = new FakeHttpReceiver();
    // Answers slow enough that every launch is on the wire when the lock goes.
    runtime.respond = () => ({ status: 202, delayMs: 3000 });
    const runtimeUrl = await runtime.start();
    // Sessions of these instances end after 7 s idle (PostgreSQL's idle_session_timeout, which
    // managed services and poolers set): the lock's connection must not be one of them.
    const url = new URL(testDb.processUrl);
    url.searchParams.set('options', `${url.searchParams.get('options') ?? ''} -c idle_session_timeout=7s`.trim());
    const instances: Instance[] = [];
    const admin = await testDb.open();
    const lockPid = async (owner: string) => {
      const row = await admin.pool!.query<{ pid: number }>(`select pid from pg_locks where locktype = 'advisory' and granted and classid = 727274002 and objid = $1 and objsubid = 2`, [lockKeyOf(owner)]);
      return row.rows[0]?.pid ?? null;
    };
    try {
      const botIds = await seedBots(testDb);
      const first = startInstance(testDb, runtimeUrl, url.toString());
      const second = startInstance(testDb, runtimeUrl, url.toString());
      instances.push(first, second);
      await waitReady(first);
      await waitReady(second);
      const owners = new Map([[(await first.ready).dispatcher, first], [(await second.ready).dispatcher, second]]);
      const pidsAtStart = new Map(await Promise.all([...owners.keys()].map(async (o) => [o, await lockPid(o)] as const)));
      const dueAt = Date.now() + 3000;
      await setDue(testDb, dueAt);
      await runtime.waitFor(() => runtime.received.length >= 1, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      const held = await holders(testDb);
      const [busiest, rows] = [...held.entries()].sort((a, b) => b[1] - a[1])[0]!;
      const cutPid = await lockPid(busiest);
      assert.ok(cutPid, 'the busiest instance holds its lock');
      await admin.pool!.query('select pg_terminate_backend($1)', [cutPid]);
      const cutAt = Date.now();
      await runtime.waitFor(() => firstLaunches(runtime).size >= BOTS, 30_000);
      // Past the grace, and past the lease renewals and answers.
      await new Promise((r) => setTimeout(r, 5000));
      const launches = firstLaunches(runtime);
      const repeats = botIds.reduce((sum, id) => sum + launches.get(id)!.count - 1, 0);
      const retaken = await lockPid(busiest);
      assert.ok(retaken !== null && retaken !== cutPid, 'the instance took its lock again');
      assert.equal(repeats, 0, `launches sent again after a live instance's lock connection was cut: ${repeats}`);
      assert.equal(await countHeld(testDb), 0);
      const other = [...owners.keys()].find((o) => o !== busiest)!;
      assert.equal(await lockPid(other), pidsAtStart.get(other), 'the other instance\'s lock connection lived through the idle-session limit (its keepalive)');
      t.diagnostic(`${BOTS} bots; the lock of the instance holding ${rows} of them was cut ${cutAt - dueAt} ms after they were due; ${repeats} repeats; lock taken again on a new connection`);
    } finally {
      await admin.close();
      await stopAll(instances);
      await runtime.stop();
      await testDb.drop();
    }
  });

  test('a second process started on a SQLite file another one serves (a deploy that starts the new before stopping the old) sends nothing twice: it answers the API and waits, then takes over when the first stops', { skip: TEST_ENGINE !== 'sqlite' ? 'PostgreSQL runs any number of instances' : false }, async (t) => {
    const testDb = await createTestDatabase();
    const runtime = new FakeHttpReceiver();
    // Slow answers: launches are in flight when the second process starts.
    runtime.respond = () => ({ status: 202, delayMs: 2000 });
    const runtimeUrl = await runtime.start();
    const instances: Instance[] = [];
    try {
      const botIds = await seedBots(testDb);
      const first = startInstance(testDb, runtimeUrl);
      instances.push(first);
      await waitReady(first);
      await setDue(testDb, Date.now() + 2000);
      await runtime.waitFor(() => runtime.received.length >= 20, 15_000);
      const second = startInstance(testDb, runtimeUrl);
      instances.push(second);
      const waits = () => second.output.some((line) => line.includes('another Rollcall process serves this SQLite file'));
      for (const until = Date.now() + 20_000; !waits() && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
      assert.ok(waits(), `the second process did not say it waits; its output: ${second.output.join(' | ')}`);
      await runtime.waitFor(() => firstLaunches(runtime).size >= BOTS, 30_000);
      // Past the answers still on the wire.
      await new Promise((r) => setTimeout(r, 3000));
      const launches = firstLaunches(runtime);
      const repeats = botIds.reduce((sum, id) => sum + launches.get(id)!.count - 1, 0);
      assert.equal(repeats, 0, `launches sent twice while two processes ran on one SQLite file: ${repeats}`);
      // The first stops: the second starts its dispatcher and becomes ready.
      first.child.kill('SIGTERM');
      await once(first.child, 'exit');
      await waitReady(second);
      t.diagnostic(`${BOTS} bots launched once each with a second process waiting beside the first; it became ready once the first stopped`);
    } finally {
      await stopAll(instances);
      await runtime.stop();
      await testDb.drop();
    }
  });
});
