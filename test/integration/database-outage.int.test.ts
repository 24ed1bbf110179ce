// Database outages, for real: a PostgreSQL server of the test's own (never the shared one) has its
// connections terminated and is stopped and started again while Rollcall fires bots and answers
// requests; the disk fills up, on SQLite and on PostgreSQL (a throwaway server again, its tables on
// a small filesystem of the test's own). No database error may end the process; requests answer 503
// database_unavailable; /readyz follows the outage; bots that came due during it launch within 2 s
// of the database's return, each once (a repeat only with the same idempotency key); and the outage
// costs a few log lines, not thousands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createRollcall, type Rollcall } from '../../src/container.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { ThrowawayPostgres } from '../support/throwaway-postgres.ts';
import { SmallDisk } from '../support/small-disk.ts';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, startTestRollcall, TEST_ENGINE, testConfig } from '../support/harness.ts';
import pg from 'pg';
import { sql } from 'kysely';
import { latestVersion, migrate, POSTGRES_MIGRATION_LOCK_ID } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { ManualClock } from '../../src/lib/clock.ts';

/** How long the server stays down in the restart test (the promise covers outages up to a minute). */
const OUTAGE_MS = Number(process.env.ROLLCALL_FAULT_OUTAGE_SECONDS ?? 12) * 1000;

interface LogLine { level: number; msg: string; [key: string]: unknown }

/** A Rollcall in this process on `databaseUrl`, launching into `runtime`, with its log lines kept. */
async function startRollcall(databaseUrl: string, runtimeUrl: string, logs: LogLine[]): Promise<Rollcall> {
  const config = parseConfig({
    DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '0',
    BOT_RUNTIME: 'http', BOT_RUNTIME_URL: runtimeUrl, BOT_RUNTIME_TIMEOUT_MS: '1000', DISPATCH_LEASE_SECONDS: '3',
  });
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const database = await openDatabase(databaseUrl);
  const rollcall = await createRollcall(config, { database, logger, collectDefaultMetrics: false });
  await rollcall.app.listen({ port: 0, host: '127.0.0.1' });
  await rollcall.startBackground();
  return rollcall;
}

/** Schedules `count` bots whose join time is `joinAtMs`, through the API. */
let scheduledSoFar = 0;
async function scheduleBots(rollcall: Rollcall, auth: string, count: number, joinAtMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const i = scheduledSoFar++;
    const start = joinAtMs + 600_000;
    const event = await rollcall.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: auth }, payload: { title: `m${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${8_100_000_000 + i}` } });
    assert.equal(event.statusCode, 201, event.body);
    const scheduled = await rollcall.app.inject({ method: 'POST', url: `/api/v1/calendar/schedule/${event.json().id}`, headers: { authorization: auth }, payload: { deduplication_key: `k${i}`, bot_config: { join_at: new Date(joinAtMs).toISOString() } } });
    assert.equal(scheduled.statusCode, 200, scheduled.body);
    ids.push(scheduled.json().bot_id);
  }
  return ids;
}

/** Launch requests by bot: idempotency keys seen and when the first arrived. */
/**
 * Whether each of these bots reached the runtime. Counted by id, not by how many bots did: a
 * runtime shared with an earlier test may also receive that test's launches, taken over from its
 * Rollcall once it stopped with launches unanswered (a loaded machine), which would otherwise
 * count for this test's.
 */
function allLaunched(runtime: FakeHttpReceiver, botIds: readonly string[]): boolean {
  const launches = launchesOf(runtime);
  return botIds.every((id) => launches.has(id));
}

function launchesOf(runtime: FakeHttpReceiver): Map<string, { keys: Set<string>; count: number; firstAt: number }> {
  const byBot = new Map<string, { keys: Set<string>; count: number; firstAt: number }>();
  for (const r of runtime.received) {
    if (r.json?.action !== 'launch') continue;
    const entry = byBot.get(r.json.bot_id) ?? { keys: new Set<string>(), count: 0, firstAt: r.at };
    entry.keys.add(r.json.idempotency_key);
    entry.count++;
    byBot.set(r.json.bot_id, entry);
  }
  return byBot;
}

/** Moves every pending schedule (and its bot's join time) to `dueAtMs`: seeding takes a while on a busy machine. */
async function pullDueTimes(rollcall: Rollcall, dueAtMs: number): Promise<void> {
  await rollcall.database.db.transaction().execute(async (trx) => {
    await trx.updateTable('schedules').set({ due_at_ms: dueAtMs }).where('state', '=', 'pending').execute();
    await trx.updateTable('bots').set({ join_at_ms: dueAtMs }).where('status', '=', 'Scheduled').execute();
  });
  rollcall.dispatcher.wake();
}

function assertEachLaunchedOnce(runtime: FakeHttpReceiver, botIds: string[]): number {
  const launches = launchesOf(runtime);
  let repeats = 0;
  for (const id of botIds) {
    const entry = launches.get(id);
    assert.ok(entry, `bot ${id} was never launched`);
    assert.equal(entry.keys.size, 1, `bot ${id} was launched under ${entry.keys.size} idempotency keys`);
    repeats += entry.count - 1;
  }
  return repeats;
}

type ScheduleAnswer = { eventId: string; status: number; botId?: string };

/** Each schedule request answered 200 stored whole (its link, timer and decision), each answered 503 nothing. */
async function assertStoredWholeOrNotAtAll(db: Rollcall['database']['db'], answers: readonly ScheduleAnswer[]): Promise<void> {
  for (const answer of answers) {
    const links = await db.selectFrom('bot_events').select(['bot_id']).where('event_id', '=', answer.eventId).execute();
    if (answer.status === 503) {
      assert.deepEqual(links, [], `event ${answer.eventId} was answered 503 and has no bot`);
      continue;
    }
    assert.deepEqual(links.map((link) => link.bot_id), [answer.botId], `event ${answer.eventId} was answered 200 and has its bot`);
    const schedule = await db.selectFrom('schedules').select('id').where('bot_id', '=', answer.botId!).executeTakeFirst();
    assert.ok(schedule, `bot ${answer.botId} has its schedule`);
    const decisions = await db.selectFrom('bot_decisions').select('id').where('bot_id', '=', answer.botId!).execute();
    assert.ok(decisions.length >= 1, `bot ${answer.botId} has its decision`);
  }
}

describe('database outages on PostgreSQL (a throwaway server of this test\'s own)', { skip: TEST_ENGINE !== 'postgres' ? 'runs in the PostgreSQL pass' : !ThrowawayPostgres.isAvailable() ? 'no PostgreSQL server binaries here' : false }, () => {
  let server: ThrowawayPostgres;
  const runtime = new FakeHttpReceiver();
  let runtimeUrl: string;

  before(async () => {
    server = await ThrowawayPostgres.start();
    runtimeUrl = await runtime.start();
  });
  after(async () => {
    await runtime.stop();
    await server?.destroy();
  });

  test('connections terminated and the server restarted while bots fire and requests run: the process lives, requests are 2xx or 503, every bot launches once', async (t) => {
    const logs: LogLine[] = [];
    const rollcall = await startRollcall(server.url, runtimeUrl, logs);
    try {
      const { key } = await createApiKey(rollcall.database.db, 'terminated', rollcall.clock);
      const auth = `Token ${key}`;
      const botIds = await scheduleBots(rollcall, auth, 150, Date.now() + 600_000);
      const joinAtMs = Date.now() + 3000;
      await pullDueTimes(rollcall, joinAtMs);
      // Terminate every connection every 250 ms from 1.5 s before the due time to 2.5 s after,
      // with one fast restart in the middle, while requests keep coming.
      const statuses = new Map<number, number>();
      const badBodies: string[] = [];
      let stop = false;
      let inFlight = '';
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          inFlight = i % 2 ? 'GET /api/v1/calendar/events' : 'POST /api/v1/calendar/events';
          const res = await rollcall.app.inject({ method: i % 2 ? 'GET' : 'POST', url: i % 2 ? '/api/v1/calendar/events?limit=5' : '/api/v1/calendar/events', headers: { authorization: auth }, ...(i % 2 ? {} : { payload: { title: 'load', start_time: new Date(joinAtMs + 7_200_000).toISOString(), end_time: new Date(joinAtMs + 9_000_000).toISOString() } }) });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500 && res.json().code !== 'database_unavailable') badBodies.push(res.body);
          if (res.statusCode === 503) assert.doesNotMatch(res.body, /at .*\.ts|stack/i);
        }
      })();
      await new Promise((r) => setTimeout(r, joinAtMs - 1500 - Date.now()));
      let terminated = 0;
      let restarts = 0;
      for (const until = joinAtMs + 2500; Date.now() < until;) {
        terminated += await server.terminateBackends();
        if (restarts === 0 && Date.now() >= joinAtMs) {
          await server.restart('fast');
          restarts++;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      await runtime.waitFor(() => allLaunched(runtime, botIds), 30_000);
      stop = true;
      // Every request is answered (2xx or 503): one that never is fails here, saying which, with
      // the last log lines, instead of holding the test until its timeout.
      const answered = await Promise.race([load.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 30_000))]);
      const lastLines = () => JSON.stringify(logs.filter((l) => l.level >= 30).slice(-15).map((l) => `${l.level} ${l.msg}${l.err ? ` (${(l.err as { message?: string }).message})` : ''}`));
      assert.ok(answered, `a request got no answer 30 s after the outage: ${inFlight}; ${botIds.filter((id) => launchesOf(runtime).has(id)).length} of ${botIds.length} bots launched; last log lines: ${lastLines()}`);
      const repeats = assertEachLaunchedOnce(runtime, botIds);
      assert.deepEqual(badBodies, [], 'a 5xx other than 503 database_unavailable');
      for (const code of statuses.keys()) assert.ok(code < 300 || code === 503, `status ${code}`);
      assert.ok(terminated > 0);
      assert.equal(restarts, 1);
      t.diagnostic(`${botIds.length} bots launched; ${terminated} connections terminated and ${restarts} fast restart at the due moment; ${repeats} repeated launch requests (same key); request statuses ${JSON.stringify(Object.fromEntries(statuses))}; ${logs.filter((l) => l.level >= 40).length} warn/error log lines`);
    } finally {
      try {
        await rollcall.close();
      } finally {
        // The next test counts launches from zero even if this close fails.
        runtime.received.length = 0;
      }
    }
  });

  test(`the server down for ${OUTAGE_MS / 1000} s: 503 database_unavailable and /readyz 503 during it, 200 after; bots due in it launch within 2 s of its return, once each; a few log lines`, async (t) => {
    const logs: LogLine[] = [];
    const rollcall = await startRollcall(server.url, runtimeUrl, logs);
    const base = `http://127.0.0.1:${(rollcall.app.server.address() as { port: number }).port}`;
    try {
      const { key } = await createApiKey(rollcall.database.db, 'stopped', rollcall.clock);
      const auth = `Token ${key}`;
      // Far enough ahead for the 120 schedule requests below, on a slow machine too.
      const downAt = Date.now() + 15_000;
      // Due early in the outage, in its middle, and just before its end.
      const early = await scheduleBots(rollcall, auth, 40, downAt + 1000);
      const middle = await scheduleBots(rollcall, auth, 40, downAt + OUTAGE_MS / 2);
      const late = await scheduleBots(rollcall, auth, 40, downAt + OUTAGE_MS - 500);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      await new Promise((r) => setTimeout(r, downAt - Date.now()));
      const logsBefore = logs.length;
      await server.stopServer('fast');

      // /metrics still answers (it was a 503 like the API), within its 2 s for figures read from
      // the database, even before anything else met the outage: the figures read from it have no
      // value, the process's own are there, and the failed read tells the database's health.
      const scrapedAt = Date.now();
      const scrape = await fetch(`${base}/metrics`);
      const figures = await scrape.text();
      assert.equal(scrape.status, 200, figures.slice(0, 300));
      assert.ok(Date.now() - scrapedAt < 4000, `the scrape took ${Date.now() - scrapedAt} ms`);
      // (prom-client writes NaN as "Nan"; Prometheus reads it either way.)
      assert.match(figures, /^rollcall_schedules_pending nan$/im, 'no figure rather than a stale or zero one');
      assert.match(figures, /^# TYPE rollcall_launches_total counter$/m);
      assert.match(await (await fetch(`${base}/metrics`)).text(), /^rollcall_database_up 0$/m);

      const during = await fetch(`${base}/api/v1/calendar/events`, { headers: { authorization: auth } });
      const body = await during.json() as { code: string; error: string };
      assert.equal(during.status, 503);
      assert.equal(body.code, 'database_unavailable');
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      // Counted once the outage is seen: on a loaded machine the stop can take effect after the
      // first bots were due (a second after downAt), and those then launch before it.
      const launchedOf = (ids: readonly string[]) => ids.filter((id) => launchesOf(runtime).has(id)).length;
      const launchedBeforeOutage = launchedOf([...early, ...middle, ...late]);
      await new Promise((r) => setTimeout(r, downAt + OUTAGE_MS - Date.now()));
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      assert.equal(launchedOf([...early, ...middle, ...late]), launchedBeforeOutage, 'nothing can launch while the database is down');

      await server.startServer();
      const upAt = Date.now();
      let readyAt = 0;
      for (; readyAt === 0 && Date.now() - upAt < 10_000;) {
        if ((await fetch(`${base}/readyz`)).status === 200) readyAt = Date.now();
        else await new Promise((r) => setTimeout(r, 50));
      }
      const all = [...early, ...middle, ...late];
      await runtime.waitFor(() => allLaunched(runtime, all), 10_000).catch(() => {});
      const launches = launchesOf(runtime);
      const notLaunched = all.filter((id) => !launches.has(id));
      const since = logs.slice(logsBefore).filter((l) => l.level >= 30).slice(-15).map((l) => `${l.level} ${l.msg}${l.err ? ` (${(l.err as { message?: string }).message})` : ''}`);
      assert.equal(notLaunched.length, 0, `${notLaunched.length} bots not launched 10 s after the database returned (ready again after ${readyAt - upAt} ms); last log lines: ${JSON.stringify(since)}`);
      const lastLaunchAfterReturn = Math.max(...all.map((id) => launches.get(id)!.firstAt)) - upAt;
      const repeats = assertEachLaunchedOnce(runtime, all);
      assert.ok(readyAt > 0, '/readyz never became 200 again');
      const back = await (await fetch(`${base}/metrics`)).text();
      assert.match(back, /^rollcall_database_up 1$/m);
      assert.match(back, /^rollcall_schedules_pending \d+$/m);
      // The outage shows in rollcall_database_up; no loop counts it as a failure of its own (the
      // restart counter is alerted on).
      const restarts = back.split('\n').filter((line) => /^rollcall_loop_restarts_total\{/.test(line) && !/ 0$/.test(line));
      assert.deepEqual(restarts, [], 'loop restarts counted for an outage');
      assert.ok(lastLaunchAfterReturn <= 2000, `the last bot launched ${lastLaunchAfterReturn} ms after the database returned`);
      const outageLines = logs.slice(logsBefore).filter((l) => l.level >= 40);
      assert.ok(outageLines.length <= 30, `${outageLines.length} warn/error lines during the outage: ${JSON.stringify(outageLines.slice(0, 5))}`);
      assert.ok(outageLines.some((l) => /database unavailable/.test(l.msg)), 'the outage itself is logged');
      t.diagnostic(`${all.length} bots due during a ${OUTAGE_MS / 1000} s outage; all launched ${lastLaunchAfterReturn} ms after the database returned (ready again after ${readyAt - upAt} ms); ${repeats} repeats; ${outageLines.length} warn/error log lines during the outage`);
    } finally {
      try {
        await rollcall.close();
      } finally {
        // The next test counts launches from zero even if this close fails.
        runtime.received.length = 0;
      }
    }
  });
});

describe(`a full disk (SQLite)`, { skip: TEST_ENGINE !== 'sqlite' ? 'runs in the SQLite pass (PostgreSQL has its own full disk below, on a throwaway server)' : false }, () => {
  let rc: Awaited<ReturnType<typeof startTestRollcall>>;
  const logs: LogLine[] = [];

  before(async () => {
    rc = await startTestRollcall({ background: true, overrides: { logger: createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }) } });
  });
  after(() => rc.close());

  test('writes fail: 503 database_unavailable naming nothing internal, the real cause in the log, /readyz 503; space returns: ready again and writes work', async () => {
    const { auth } = await rc.newUser();
    const sqlite = rc.database.sqlite!;
    const pages = Number((sqlite.prepare('pragma page_count').get() as { page_count: number }).page_count);
    // SQLite's own limit on the file's size, the same SQLITE_FULL a full disk gives.
    sqlite.exec(`pragma max_page_count = ${pages + 1}`);
    const big = 'x'.repeat(60_000);
    let res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'full', description: big, start_time: new Date(Date.now() + 3_600_000).toISOString(), end_time: new Date(Date.now() + 7_200_000).toISOString() } });
    for (let i = 0; res.status !== 503 && i < 20; i++) {
      res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'full', description: big, start_time: new Date(Date.now() + 3_600_000).toISOString(), end_time: new Date(Date.now() + 7_200_000).toISOString() } });
    }
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'database_unavailable');
    assert.ok(logs.some((l) => JSON.stringify(l).includes('database or disk is full')), 'the log names the real cause');
    assert.ok(!logs.some((l) => JSON.stringify(l).includes('no transaction is active')), 'the cause is not masked by a failed rollback');
    const notReady = await rc.request('GET', '/readyz');
    assert.equal(notReady.status, 503);
    assert.deepEqual([notReady.body.checks.database, notReady.body.reasons?.migrations], [false, 'not known while the database is unreachable']);
    const scrape = await rc.request('GET', '/metrics');
    assert.equal(scrape.status, 200, 'metrics answer during the outage');
    assert.match(String(scrape.body), /^rollcall_database_up 0$/m);

    sqlite.exec('pragma max_page_count = 1073741823');
    let ready = false;
    for (const until = Date.now() + 5000; !ready && Date.now() < until;) {
      ready = (await rc.request('GET', '/readyz')).status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ready, '/readyz did not recover once writes worked again');
    const after = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'ok', start_time: new Date(Date.now() + 3_600_000).toISOString(), end_time: new Date(Date.now() + 7_200_000).toISOString() } });
    assert.equal(after.status, 201);
  });

  test('schedule requests that share a commit when the disk fills: each is 200 and stored whole, or 503 and not stored at all', async () => {
    const { auth } = await rc.newUser();
    const start = Date.now() + 3_600_000;
    const eventIds: string[] = [];
    for (let i = 0; i < 360; i++) {
      const created = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: `fill ${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/7${String(i).padStart(9, '0')}` } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      eventIds.push(created.body.id);
    }
    const sqlite = rc.database.sqlite!;
    const pages = Number((sqlite.prepare('pragma page_count').get() as { page_count: number }).page_count);
    // Room for a few new pages beyond the free ones (the test before this one left some): some
    // rounds fit, then the file is full. Rounds of 12 requests at once, so that they share
    // commits (src/db/shared-commit.ts).
    sqlite.exec(`pragma max_page_count = ${pages + 3}`);
    const answers: ScheduleAnswer[] = [];
    try {
      for (let round = 0; round * 12 < eventIds.length && !answers.some((a) => a.status === 503); round++) {
        const batch = eventIds.slice(round * 12, round * 12 + 12);
        const results = await Promise.all(batch.map((eventId) => rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: `full-${eventId}`, bot_config: { bot_name: 'x'.repeat(200) } } })));
        for (const [index, result] of results.entries()) {
          assert.ok(result.status === 200 || result.status === 503, `${result.status} ${JSON.stringify(result.body)}`);
          if (result.status === 503) assert.equal(result.body.code, 'database_unavailable');
          answers.push({ eventId: batch[index]!, status: result.status, botId: result.body.bot_id });
        }
      }
    } finally {
      sqlite.exec('pragma max_page_count = 1073741823');
    }
    assert.ok(answers.some((a) => a.status === 503), 'the disk filled up during the rounds');
    const db = rc.database.db;
    await assertStoredWholeOrNotAtAll(db, answers);
    const { user_id: userId } = await db.selectFrom('events').select('user_id').where('id', '=', eventIds[0]!).executeTakeFirstOrThrow();
    const stored = await db.selectFrom('bots').select('id').where('user_id', '=', userId).execute();
    const answeredOk = answers.filter((a) => a.status === 200).map((a) => a.botId!);
    const orphans = stored.filter((bot) => !answeredOk.includes(bot.id));
    assert.deepEqual(orphans, [], 'no bot was stored for a request answered 503');
  });
});

describe('a full disk (PostgreSQL: a throwaway server whose tables live on a small filesystem of the test\'s own)', { skip: TEST_ENGINE !== 'postgres' ? 'runs in the PostgreSQL pass' : !ThrowawayPostgres.isAvailable() ? 'no PostgreSQL server binaries here' : !SmallDisk.isAvailable() ? 'mounting a small filesystem needs root here' : false }, () => {
  // The database's tablespace is a 32 MB tmpfs; filling it with a file of the test's own makes the
  // server's next write that needs new space fail with ENOSPC (SQLSTATE 53100, "could not extend
  // file ... No space left on device"), and deleting the file gives the space back while the
  // server runs on. The WAL stays in the data directory, as on a server whose data volume filled.
  let server: ThrowawayPostgres;
  let disk: SmallDisk;
  let rollcall: Rollcall;
  let auth: string;
  const runtime = new FakeHttpReceiver();
  const logs: LogLine[] = [];

  before(async () => {
    server = await ThrowawayPostgres.start();
    disk = SmallDisk.mount(32 * 1024 * 1024, ThrowawayPostgres.serverOwner());
    const url = await server.createDatabaseIn(disk.dir, 'rollcall_full');
    rollcall = await startRollcall(url, await runtime.start(), logs);
    auth = `Token ${(await createApiKey(rollcall.database.db, 'full', rollcall.clock)).key}`;
  });
  after(async () => {
    try {
      await rollcall?.close();
      await runtime.stop();
    } finally {
      await server?.destroy();
      disk?.unmount();
    }
  });

  const newEvent = (title: string, extra: Record<string, unknown> = {}, as = auth) => rollcall.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: as }, payload: { title, start_time: new Date(Date.now() + 3_600_000).toISOString(), end_time: new Date(Date.now() + 7_200_000).toISOString(), ...extra } });

  test('writes fail: 503 database_unavailable naming nothing internal, the real cause in the log, /readyz 503; space returns: ready again, writes work, the bots that came due meanwhile launch, each once', async (t) => {
    const botIds = await scheduleBots(rollcall, auth, 20, Date.now() + 600_000);
    const dueAtMs = Date.now() + 1500;
    await pullDueTimes(rollcall, dueAtMs);
    disk.fill();
    t.after(() => disk.free());
    // Incompressible, so that it needs new pages of the events table's TOAST.
    const big = randomBytes(30_000).toString('base64');
    let res = await newEvent('full', { description: big });
    for (let i = 0; res.statusCode !== 503 && i < 20; i++) res = await newEvent('full', { description: big });
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().code, 'database_unavailable');
    assert.doesNotMatch(res.body, /No space|could not extend|base\/\d+/);
    assert.ok(logs.some((l) => /database cannot write \(storage full/.test(l.msg) && String(l.cause).includes('No space left on device')), `the log names the real cause: ${JSON.stringify(logs.filter((l) => l.level >= 50).slice(0, 2))}`);
    const notReady = await rollcall.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.deepEqual([notReady.json().checks.database, notReady.json().reasons?.migrations], [false, 'not known while the database is unreachable']);
    const scrape = await rollcall.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(scrape.statusCode, 200, 'metrics answer during the outage');
    assert.match(scrape.body, /^rollcall_database_up 0$/m);
    // The bots come due while the disk is full, and the probe keeps failing past their due time.
    await new Promise((r) => setTimeout(r, dueAtMs + 1500 - Date.now()));
    assert.equal((await rollcall.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503, 'the probe\'s write failed too');

    // A probe that only proved the server answers would call it back here, and the next write
    // that needs space would end it again: one outage, not a flapping one.
    assert.deepEqual(logs.filter((l) => /database available again/.test(l.msg)), [], 'available again before the space returned');
    const launchedWhileFull = botIds.filter((id) => launchesOf(runtime).has(id)).length;
    disk.free();
    const freedAt = Date.now();
    let ready = false;
    for (const until = Date.now() + 5000; !ready && Date.now() < until;) {
      ready = (await rollcall.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ready, '/readyz did not recover once writes worked again');
    assert.equal((await newEvent('ok', { description: big })).statusCode, 201);
    await runtime.waitFor(() => allLaunched(runtime, botIds), 10_000).catch(() => {});
    const repeats = assertEachLaunchedOnce(runtime, botIds);
    const lastAfterFree = Math.max(...botIds.map((id) => launchesOf(runtime).get(id)!.firstAt)) - freedAt;
    t.diagnostic(`${launchedWhileFull} of ${botIds.length} bots launched while the disk was full${launchedWhileFull > 0 ? ' (their writes fitted in pages the tables had)' : ''}${lastAfterFree > 0 ? `, the rest within ${lastAfterFree} ms of the space's return` : ''}; ${repeats} repeated launch requests (same key); ${logs.filter((l) => l.level >= 40).length} warn/error log lines`);
  });

  test('schedule requests at once when the disk fills: each is 200 and stored whole, or 503 and not stored at all', async (t) => {
    const { key, userId } = await createApiKey(rollcall.database.db, 'full-schedules', rollcall.clock);
    const own = `Token ${key}`;
    const eventIds: string[] = [];
    for (let i = 0; i < 240; i++) {
      const created = await newEvent(`fill ${i}`, { meeting_url: `https://zoom.us/j/6${String(i).padStart(9, '0')}` }, own);
      assert.equal(created.statusCode, 201, created.body);
      eventIds.push(created.json().id);
    }
    const waitUntilAvailable = async () => {
      for (const until = Date.now() + 5000; !rollcall.database.health.isAvailable && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
      assert.ok(rollcall.database.health.isAvailable, 'the database did not come back once the space returned');
    };
    // Room for a few new pages: some rounds of 12 requests at once fit, then the disk is full.
    // Three times over, each from a different point of the tables' pages, so that the request that
    // meets the full disk meets it in different ones of its writes (its bot, timer, link, decision).
    const answers: ScheduleAnswer[] = [];
    let next = 0;
    let fillsMet = 0;
    for (let fill = 0; fill < 3; fill++) {
      disk.fill(48 * 1024);
      try {
        for (let failed = false; !failed && next < eventIds.length;) {
          const batch = eventIds.slice(next, next + 12);
          next += batch.length;
          const results = await Promise.all(batch.map((eventId) => rollcall.app.inject({ method: 'POST', url: `/api/v1/calendar/schedule/${eventId}`, headers: { authorization: own }, payload: { deduplication_key: `full-${eventId}`, bot_config: {} } })));
          for (const [index, result] of results.entries()) {
            assert.ok(result.statusCode === 200 || result.statusCode === 503, `${result.statusCode} ${result.body}`);
            if (result.statusCode === 503) assert.equal(result.json().code, 'database_unavailable');
            failed ||= result.statusCode === 503;
            answers.push({ eventId: batch[index]!, status: result.statusCode, botId: result.json().bot_id });
          }
        }
      } finally {
        disk.free();
      }
      if (answers.at(-1)?.status === 503 || answers.slice(-12).some((a) => a.status === 503)) fillsMet++;
      await waitUntilAvailable();
    }
    assert.equal(fillsMet, 3, 'the disk filled up during the rounds, each time');
    assert.ok(answers.some((a) => a.status === 200), 'some requests fitted before it did');
    const db = rollcall.database.db;
    await assertStoredWholeOrNotAtAll(db, answers);
    const stored = await db.selectFrom('bots').select('id').where('user_id', '=', userId).execute();
    const answeredOk = new Set(answers.filter((a) => a.status === 200).map((a) => a.botId!));
    const orphans = stored.filter((bot) => !answeredOk.has(bot.id));
    assert.deepEqual(orphans, [], 'no bot was stored for a request answered 503');
    t.diagnostic(`${answers.filter((a) => a.status === 200).length} requests answered 200, ${answers.filter((a) => a.status === 503).length} answered 503`);
  });
});

describe('readiness during a rolling upgrade', () => {
  test('a database a newer release migrated leaves a running instance ready (it keeps working until replaced); one behind its migrations is not', async () => {
    const rc = await startTestRollcall({});
    try {
      const next = latestVersion() + 1;
      await rc.database.db.insertInto('schema_migrations').values({ version: next, name: 'from-a-newer-release', applied_at: Date.now() }).execute();
      // (The dispatcher check is false here: tests drive it by hand instead of starting its loop.)
      const during = await rc.request('GET', '/readyz');
      assert.equal(during.body.checks.migrations, true, JSON.stringify(during.body));
      await rc.database.db.deleteFrom('schema_migrations').where('version', '>=', latestVersion()).execute();
      const behind = await rc.request('GET', '/readyz');
      assert.equal(behind.body.checks.migrations, false, JSON.stringify(behind.body));
    } finally {
      await rc.close();
    }
  });
});

describe('statements the server gives up on (PostgreSQL)', { skip: TEST_ENGINE !== 'postgres' ? 'statement_timeout is PostgreSQL\'s' : false }, () => {
  test('a write cancelled by statement_timeout (57014) is a 503 database_busy, not a 500, and no outage: the instance stays ready; nothing of it is stored, and the same request goes through once the server can', async () => {
    const testDatabase = await createTestDatabase();
    // Every connection of the service's pool with a 300 ms statement_timeout, as an operator might
    // set on its role (the setting rides on the connection's options after the search path).
    const database = await openDatabase(testDatabase.url, { searchPath: `${testDatabase.searchPath!} -c statement_timeout=300` });
    const rollcall = await createRollcall(testConfig({ DATABASE_URL: testDatabase.url }), { database, logger: createLogger('silent'), collectDefaultMetrics: false });
    const blocker = new pg.Client({ connectionString: testDatabase.url });
    await blocker.connect();
    try {
      const { key } = await createApiKey(database.db, 'patient', rollcall.clock);
      const create = () => rollcall.app.inject({ method: 'POST', url: '/api/v1/bots/create_bot', headers: { authorization: `Token ${key}` }, payload: { meeting_link: 'https://meet.google.com/abc-defg-hij', bot_name: 'Notes' } });
      // Another session holds the bots table: the insert waits for it until the server cancels it.
      await blocker.query('begin');
      await blocker.query(`lock table ${testDatabase.searchPath!}.bots in access exclusive mode`);
      const refused = await create();
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json().code, 'database_busy');
      // To the loops such an error is no outage either: a batch that meets it is split, so that
      // a lock held on one row holds up that row alone (run-apart.ts).
      const givenUp = await sql`select count(*) from bots`.execute(database.db).then(() => null, (error: unknown) => error);
      assert.equal((givenUp as { code?: string } | null)?.code, '57014');
      assert.equal(rollcall.database.health.observe(givenUp), false);
      // One statement given up on: the database answers, and the instance stays in service.
      assert.equal(rollcall.database.health.isAvailable, true);
      assert.equal((await rollcall.app.inject({ method: 'GET', url: '/readyz' })).json().checks.database, true);
      await blocker.query('rollback');
      const created = await create();
      assert.equal(created.statusCode, 201, created.body);
      const { rows } = await blocker.query(`select count(*)::int as n from ${testDatabase.searchPath!}.bots`);
      assert.equal(rows[0].n, 1, 'the cancelled request left nothing behind');
    } finally {
      await blocker.end();
      await rollcall.close();
      await testDatabase.drop();
    }
  });

  // Either timeout set on the role, as an operator might for the service's queries: the wait for
  // the migration lock is a statement (statement_timeout) waiting on a lock (lock_timeout).
  for (const setting of ['statement_timeout', 'lock_timeout'] as const) test(`a ${setting} on the role does not stop an instance from starting: it waits out another instance's migrations and runs its own`, async () => {
    const testDatabase = await createTestDatabase();
    const database = await openDatabase(testDatabase.url, { searchPath: `${testDatabase.searchPath!} -c ${setting}=300` });
    const otherInstance = new pg.Client({ connectionString: testDatabase.url });
    await otherInstance.connect();
    try {
      // Another instance is migrating: it holds the migration lock for well over the timeout.
      await otherInstance.query('begin');
      await otherInstance.query('select pg_advisory_xact_lock($1)', [POSTGRES_MIGRATION_LOCK_ID]);
      const migrating = migrate(database.db, 'postgres');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await otherInstance.query('commit');
      const result = await migrating;
      assert.equal(result.currentVersion, latestVersion());
      assert.equal(result.applied.length, MIGRATIONS.length, 'every migration ran');
      // The service's own statements keep the timeout the role gives them.
      const { rows } = await sql<Record<string, string>>`show ${sql.raw(setting)}`.execute(database.db);
      assert.equal(rows[0]![setting], '300ms');
    } finally {
      await otherInstance.end();
      await database.close();
      await testDatabase.drop();
    }
  });
});

describe('clocks on PostgreSQL', { skip: TEST_ENGINE !== 'postgres' ? 'one SQLite process has nothing to compare its clock with' : false }, () => {
  test('an instance whose clock is 30 s ahead of the database server\'s says so (the gauge, a warning) instead of launching early unnoticed; one in step measures about nothing', async () => {
    const logs: string[] = [];
    const fast = await startTestRollcall({ clock: new ManualClock(Date.now() + 30_000), background: true, overrides: { logger: createLogger('warn', { write: (line: string) => void logs.push(line) }) } });
    const inStep = await startTestRollcall({ background: true });
    try {
      /** The gauge once measured (NaN before the first comparison). */
      const skewOf = async (rc: typeof fast) => {
        for (const until = Date.now() + 30_000; Date.now() < until;) {
          const value = /^rollcall_clock_skew_seconds (\S+)$/m.exec(String((await rc.request('GET', '/metrics')).body))?.[1];
          if (value !== undefined && !Number.isNaN(Number(value))) return Number(value);
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`the clock was never compared; log: ${logs.slice(-5).join(' | ')}`);
      };
      const skew = await skewOf(fast);
      assert.ok(skew > 28 && skew < 31, `skew ${skew} s`);
      // The test's clock stands still while the server's runs on: measured a second or two after
      // the start on a busy machine, the lead is 28-something seconds.
      assert.ok(logs.some((l) => /clock is (2[89]|30)\.\d s ahead of the database server's: its bots launch (2[89]|30)\.\d s early/.test(l)), `a warning in the log (skew ${skew} s): ${logs.slice(-3).join(' | ')}`);
      assert.ok(Math.abs(await skewOf(inStep)) < 1);
    } finally {
      await fast.close();
      await inStep.close();
    }
  });
});
