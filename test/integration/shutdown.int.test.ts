// Shutting down when a part refuses to stop: every later part is still stopped, the database last,
// and the failure names the part. Before, close() stopped at the first part that threw and left
// the database open (SQLite's file and PostgreSQL's connections held until the process died).
// And when a part's work would outlast the time a process gets to stop (a webhook receiver that
// does not answer): it is ended after a grace and handed back for the next instance, and a
// calendar sync pass claims no further connection.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createRollcall } from '../../src/container.ts';
import { noRuntime, type BotRuntime } from '../../src/adapters/bot-runtimes/bot-runtime.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { CloseError } from '../../src/lib/close-in-order.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestDatabase, startTestRollcall, TEST_ENGINE, testConfig, type TestRollcall } from '../support/harness.ts';
import { inheritedEnv } from '../support/child-env.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { slowQueries } from '../support/slow-queries.ts';

test(`a runtime client that fails to close does not keep the database open (${TEST_ENGINE})`, async () => {
  const testDatabase = await createTestDatabase();
  try {
    const database = await testDatabase.open();
    const rollcall = await createRollcall(testConfig({ DATABASE_URL: testDatabase.url }), {
      database,
      logger: createLogger('silent'),
      collectDefaultMetrics: false,
      runtime: { ...noRuntime, close: async () => { throw new Error('runtime connections would not close'); } },
    });
    await rollcall.startBackground();
    await sql`select 1`.execute(database.db);

    const error = await rollcall.close().then(() => null, (e: unknown) => e);
    assert.ok(error instanceof CloseError, `expected a CloseError, got ${String(error)}`);
    assert.deepEqual(error.failedSteps, ['bot runtime client']);
    assert.match(error.message, /runtime connections would not close/);
    // The database, closed after the failing step: it answers no more.
    await assert.rejects(sql`select 1`.execute(database.db));
    assert.equal(rollcall.dispatcher.isRunning, false);
  } finally {
    await testDatabase.drop();
  }
});

test(`a stop ends live status streams and their connections at once, a client that went away and came back among them (${TEST_ENGINE})`, async () => {
  const rc = await startTestRollcall();
  let isClosed = false;
  try {
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = rc.app.server.address() as { port: number };
    const user = await rc.newUser('watcher');
    // A user's 20 streams (the most one user may hold on an instance). fetch keeps a connection
    // for the next request once a response has ended, as browsers do.
    const readers = Array.from({ length: 20 }, () => new AbortController());
    const responses = await Promise.all(readers.map((reader) => fetch(`http://127.0.0.1:${port}/api/v1/bots/status-changes`, { headers: { accept: 'text/event-stream', authorization: user.auth }, signal: reader.signal })));
    const bodies = responses.map(async (response) => {
      assert.equal(response.status, 200);
      let text = '';
      try {
        for await (const chunk of response.body!) text += Buffer.from(chunk).toString();
      } catch {
        // the client that went away
      }
      return text;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // One client goes away, and comes back for a stream of its own while the server has not yet
    // seen it go (refused, 429, until it has).
    readers.pop()!.abort();
    for (let answered = 0; answered !== 200;) {
      const again = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/bots/status-changes`, { headers: { accept: 'text/event-stream', authorization: user.auth }, signal: again.signal });
      answered = response.status;
      again.abort();
    }
    const started = performance.now();
    await rc.close();
    isClosed = true;
    const stoppedInMs = performance.now() - started;
    for (const text of await Promise.all(bodies)) assert.match(text, /^retry: \d+/, 'each stream was open, and those still read were ended by the stop');
    // Before, the server then waited for a connection of the stream that went away until its
    // keep-alive timeout (72 s): longer than a supervisor's grace before it kills the process.
    assert.ok(stoppedInMs < 10_000, `the stop took ${Math.round(stoppedInMs)} ms`);
  } finally {
    if (!isClosed) await rc.close();
  }
});

/**
 * Runs `stop` (Rollcall's, or its HTTP server's) and fails if it takes longer than `limitMs`. A
 * stop still held then is forced (every connection closed), so that a failing test ends rather
 * than waiting with it.
 */
async function stopWithin(rc: TestRollcall, stop: () => Promise<void>, limitMs: number): Promise<void> {
  const startedAt = performance.now();
  const stopped = stop();
  let timer: NodeJS.Timeout | undefined;
  const isInTime = await Promise.race([stopped.then(() => true), new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), limitMs);
  })]);
  clearTimeout(timer);
  if (!isInTime) {
    rc.app.server.closeAllConnections();
    await stopped;
  }
  assert.ok(isInTime, `the stop was still waiting for a connection after ${Math.round(performance.now() - startedAt)} ms`);
}

test(`a stop does not wait for a connection on which no request was sent (one a browser opens ahead of need) (${TEST_ENGINE})`, async () => {
  const rc = await startTestRollcall();
  await rc.app.listen({ port: 0, host: '127.0.0.1' });
  const accepted = once(rc.app.server, 'connection');
  const unused = connect((rc.app.server.address() as { port: number }).port, '127.0.0.1');
  const closed = once(unused, 'close');
  try {
    await accepted;
    await stopWithin(rc, () => rc.close(), 3000);
    await closed;
  } finally {
    unused.destroy();
  }
});

test(`a stop answers a request under way as it began, and then does not wait for its connection (${TEST_ENGINE})`, async () => {
  // Every query answers 500 ms late while on: the request is still under way as the stop begins.
  const slow = slowQueries(500);
  const rc = await startTestRollcall({ plugins: [slow.plugin] });
  try {
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await rc.newUser('late');
    slow.isOn = true;
    const answer = fetch(`http://127.0.0.1:${(rc.app.server.address() as { port: number }).port}/api/v1/bots/status-changes`, { headers: { authorization: user.auth } })
      .then(async (response) => ({ status: response.status, body: await response.json() }));
    while (slow.held === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The HTTP server's stop, the first of Rollcall's: the request is answered meanwhile. fetch
    // keeps a connection whose answer offers it for as long as the answer says (72 s here).
    await stopWithin(rc, () => rc.app.close(), 5000);
    const { status, body } = await answer;
    assert.equal(status, 200, JSON.stringify(body));
  } finally {
    slow.isOn = false;
    await rc.close();
  }
});

test(`a stop answers every pipelined request it began processing before it closes their connection (${TEST_ENGINE})`, async () => {
  // Every query answers 150 ms late while on: both requests are under way as the stop begins.
  const slow = slowQueries(150);
  const rc = await startTestRollcall({ plugins: [slow.plugin] });
  try {
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await rc.newUser('pipeliner');
    const secret = () => rc.database.db.selectFrom('users').select('webhook_secret').where('id', '=', user.userId).executeTakeFirstOrThrow().then((row) => row.webhook_secret);
    assert.equal((await rc.request('GET', '/api/v1/webhooks/secret', { auth: user.auth })).status, 200);
    const before = await secret();
    slow.isOn = true;
    const client = connect((rc.app.server.address() as { port: number }).port, '127.0.0.1');
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => { received += chunk; });
    client.on('error', () => {});
    const closed = once(client, 'close');
    await once(client, 'connect');
    // HTTP/1.1 pipelining: the second request is sent before the first is answered. Node hands
    // both to the routes at once and queues the second answer behind the first.
    client.write(
      `GET /api/v1/bots/status-changes HTTP/1.1\r\nHost: x\r\nAuthorization: ${user.auth}\r\n\r\n`
      + `POST /api/v1/webhooks/secret/rotate HTTP/1.1\r\nHost: x\r\nAuthorization: ${user.auth}\r\nContent-Length: 0\r\n\r\n`,
    );
    while (slow.held < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await stopWithin(rc, () => rc.app.close(), 5000);
    await closed;
    slow.isOn = false;
    // The rotation was done: the client must have its answer, the new secret.
    assert.notEqual(await secret(), before);
    const answers = received.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200'], received);
  } finally {
    slow.isOn = false;
    await rc.close();
  }
});

test(`a request whose first bytes are on their way as a stop begins is answered, not reset (${TEST_ENGINE})`, async () => {
  const rc = await startTestRollcall();
  try {
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const accepted = once(rc.app.server, 'connection');
    const client = connect((rc.app.server.address() as { port: number }).port, '127.0.0.1');
    let received = '';
    let error: string | null = null;
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => { received += chunk; });
    client.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    const closed = once(client, 'close');
    await once(client, 'connect');
    await accepted;
    // The request reaches the server's side of the connection, and the stop begins before Node
    // has read it: the connection has sent nothing yet, as far as the server can tell.
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await stopWithin(rc, () => rc.app.close(), 3000);
    await closed;
    // Fastify answers a request that arrives during a stop 503, which tells its client it was not
    // processed; a request read just before the stop began is answered as usual.
    assert.match(received, /^HTTP\/1\.1 (503|200) /, `no answer; the client saw ${error ?? 'its connection closed'}`);
  } finally {
    await rc.close();
  }
});

test(`a stop does not wait for the connection fetch opens again after a live status stream it closed (${TEST_ENGINE})`, async (t) => {
  const rc = await startTestRollcall();
  await rc.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(rc.app.server.address() as { port: number }).port}/api/v1/bots/status-changes`;
  const accepted: Socket[] = [];
  rc.app.server.on('connection', (socket: Socket) => accepted.push(socket));
  const user = await rc.newUser('reader');
  // A page first: its answer offers to keep the connection 72 s, which fetch keeps to for that
  // connection and for the next it opens to the same place.
  assert.equal((await fetch(url, { headers: { authorization: user.auth } }).then(async (r) => { await r.arrayBuffer(); return r.status; })), 200);
  const reader = new AbortController();
  const stream = await fetch(url, { headers: { accept: 'text/event-stream', authorization: user.auth }, signal: reader.signal });
  assert.equal(stream.status, 200);
  const chunks = stream.body!.getReader();
  assert.match(new TextDecoder().decode((await chunks.read()).value), /^retry: /);
  reader.abort();
  // undici, aborting a response it is still reading, opens a new connection and sends nothing on
  // it (https://github.com/nodejs/undici/issues/5845: the issue dates it to undici 8.10.1, and
  // the undici 7.29.1 in Node 24.21 does it too). Once fetch no longer does, there is nothing to test.
  for (const deadline = Date.now() + 3000; !accepted.some((socket) => !socket.destroyed && socket.bytesRead === 0);) {
    if (Date.now() >= deadline) {
      t.skip(`fetch (undici ${process.versions.undici}) no longer opens a connection it sends nothing on after a stream it aborted`);
      await rc.close();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await stopWithin(rc, () => rc.close(), 3000);
  assert.deepEqual(accepted.filter((socket) => !socket.destroyed).map((socket) => socket.remotePort), [], 'no connection left open');
});

test(`a stop ends webhook deliveries whose receiver does not answer after a grace, and hands them back without counting the attempt (${TEST_ENGINE})`, async () => {
  const hooks = new FakeHttpReceiver();
  const hooksUrl = `${await hooks.start()}/hooks`;
  // WEBHOOK_TIMEOUT_MS is 15 s by default: longer than a process gets to stop (src/main.ts).
  const rc = await startTestRollcall({ settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
  try {
    const user = await rc.newUser();
    const start = Date.now() + 86_400_000;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'stop', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    let release!: () => void;
    const never = new Promise<void>((resolve) => { release = resolve; });
    hooks.respond = () => ({ status: 200, release: never });
    rc.webhooks.start();
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'stop', bot_config: { callback_url: hooksUrl } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    await hooks.waitFor(() => hooks.received.length === 1);

    const began = performance.now();
    await rc.webhooks.stop();
    const tookMs = performance.now() - began;
    release();
    assert.ok(tookMs >= 2900 && tookMs < 6000, `the stop took ${Math.round(tookMs)} ms (grace 3000 ms, receiver timeout 15000 ms)`);
    const row = await rc.database.db.selectFrom('webhook_deliveries').selectAll().where('bot_id', '=', scheduled.body.bot_id).executeTakeFirstOrThrow();
    assert.deepEqual([row.state, row.attempts, row.lease_until_ms, row.last_error], ['pending', 0, null, null], 'handed back as it was, not counted as a failed attempt');
    assert.ok(Number(row.next_attempt_at_ms) <= Date.now(), 'due at once, without a backoff');

    // The next to look (here the same instance, started again) sends it under the same webhook-id.
    hooks.respond = () => ({ status: 200 });
    await rc.webhooks.runDue();
    assert.equal(hooks.received.length, 2);
    assert.equal(hooks.received[1]!.headers['webhook-id'], hooks.received[0]!.headers['webhook-id']);
    const delivered = await rc.database.db.selectFrom('webhook_deliveries').select(['state', 'attempts']).where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.deepEqual([delivered.state, delivered.attempts], ['delivered', 1]);
  } finally {
    await rc.close();
    await hooks.stop();
  }
});

test(`a stop during a calendar sync pass ends it with the syncs under way: the connections still due are left for the next instance (${TEST_ENGINE})`, async () => {
  const ics = new FakeIcsServer();
  await ics.start();
  const rc = await startTestRollcall({ settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CALENDAR_PUSH: 'off', CALENDAR_SYNC_CONCURRENCY: '2' } });
  try {
    const user = await rc.newUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: ics.createFeed(`Feed ${i}`) } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      ids.push(connected.body.calendar_id);
    }
    const fetchedBefore = ics.requests.length;
    // All five due now (as after an outage), and the feed server slow to answer.
    await rc.database.db.updateTable('calendar_connections').set({ next_sync_at: Date.now() - 1000 }).where('id', 'in', ids).execute();
    let answer!: () => void;
    ics.holdAnswers = new Promise<void>((resolve) => { answer = resolve; });
    rc.calendarSync.start();
    const heldIds = async () => (await rc.database.db.selectFrom('calendar_connections').select('id').where('id', 'in', ids).where('lease_owner', 'is not', null).execute()).map((c) => c.id);
    const deadline = Date.now() + 10_000;
    // Both of the loop's syncs under way, each waiting for its feed.
    while ((await heldIds()).length < 2) {
      assert.ok(Date.now() < deadline, 'the two syncs did not start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stopped = rc.calendarSync.stop();
    answer();
    await stopped;
    ics.holdAnswers = null;
    assert.equal(ics.requests.length - fetchedBefore, 2, 'two feed reads: those under way when the stop came');
    assert.deepEqual(await heldIds(), [], 'no connection left held');
    const due = await rc.database.db.selectFrom('calendar_connections').select('id').where('id', 'in', ids).where('next_sync_at', '<=', Date.now()).execute();
    assert.equal(due.length, 3, 'the other three are still due, for the next instance');
  } finally {
    await rc.close();
    await ics.stop();
  }
});

test(`a stop ends a calendar sync whose provider does not answer after a grace: nothing recorded, the connection handed back (${TEST_ENGINE})`, async () => {
  const ics = new FakeIcsServer();
  await ics.start();
  // CALENDAR_HTTP_TIMEOUT_MS is 15 s by default: longer than a process gets to stop.
  const rc = await startTestRollcall({ settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CALENDAR_PUSH: 'off' } });
  let answer!: () => void;
  try {
    const user = await rc.newUser();
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: ics.createFeed('Slow') } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const id = connected.body.calendar_id as string;
    const before = await rc.database.db.selectFrom('calendar_connections').select(['last_sync_at', 'consecutive_failures', 'last_error']).where('id', '=', id).executeTakeFirstOrThrow();
    await rc.database.db.updateTable('calendar_connections').set({ next_sync_at: Date.now() - 1000 }).where('id', '=', id).execute();
    ics.holdAnswers = new Promise<void>((resolve) => { answer = resolve; });
    const requestsBefore = ics.requests.length;
    rc.calendarSync.start();
    const isHeld = async () => (await rc.database.db.selectFrom('calendar_connections').select('lease_owner').where('id', '=', id).executeTakeFirstOrThrow()).lease_owner !== null;
    const deadline = Date.now() + 10_000;
    while (!(await isHeld())) {
      assert.ok(Date.now() < deadline, 'the sync did not start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The feed request is on its way to the server, which holds its answer.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const began = performance.now();
    await rc.calendarSync.stop();
    const tookMs = performance.now() - began;
    assert.ok(tookMs >= 2900 && tookMs < 6000, `the stop took ${Math.round(tookMs)} ms (grace 3000 ms, provider timeout 15000 ms)`);
    assert.equal(ics.requests.length, requestsBefore, 'no answer was read');
    const after = await rc.database.db.selectFrom('calendar_connections').select(['last_sync_at', 'consecutive_failures', 'last_error', 'lease_owner', 'next_sync_at']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual([after.last_sync_at, after.consecutive_failures, after.last_error, after.lease_owner], [before.last_sync_at, before.consecutive_failures, before.last_error, null], 'nothing recorded; handed back');
    assert.ok(Number(after.next_sync_at) <= Date.now(), 'still due, for the next instance');
  } finally {
    answer?.();
    ics.holdAnswers = null;
    await rc.close();
    await ics.stop();
  }
});

test(`a stop asked for while the background work is starting starts nothing after it (${TEST_ENGINE})`, async () => {
  const testDatabase = await createTestDatabase();
  try {
    const database = await testDatabase.open();
    const rollcall = await createRollcall(testConfig({ DATABASE_URL: testDatabase.url }), { database, logger: createLogger('silent'), collectDefaultMetrics: false, runtime: noRuntime });
    // As SIGTERM during start-up: the start waits to listen for changes while the close runs.
    const starting = rollcall.startBackground();
    await rollcall.close();
    await starting;
    assert.deepEqual([rollcall.dispatcher.isRunning, rollcall.calendarSync.isRunning], [false, false], 'nothing runs against the closed database');
  } finally {
    await testDatabase.drop();
  }
});

test(`a stop during a burst sends no launch it had not sent yet, and writes the answers it gets as they come: the next instance sends the rest, nothing twice (${TEST_ENGINE})`, async () => {
  const testDatabase = await createTestDatabase();
  const sent: string[] = [];
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => { answer = resolve; });
  // A runtime that holds its answers until told: four launches on the wire when the stop comes.
  const slowRuntime: BotRuntime = {
    ...noRuntime, name: 'slow', canLaunch: true,
    launch: async (request) => {
      sent.push(request.bot_id);
      await answered;
      return { ok: true, alreadyDone: false };
    },
  };
  try {
    const open = async (runtime: BotRuntime) => createRollcall(testConfig({ DATABASE_URL: testDatabase.url }), {
      database: await testDatabase.open(), logger: createLogger('silent'), collectDefaultMetrics: false, runtime, dispatcher: { maxConcurrentLaunches: 4, batchSize: 10 },
    });
    const first = await open(slowRuntime);
    const { userId } = await createApiKey(first.database.db, 'stop-burst', first.clock);
    const start = Date.now() + 180_000 + 1_500;
    const ids: string[] = [];
    // More than the fire path queues before it waits for room to send (half a batch): a stop
    // must not wait for room that never comes.
    for (let i = 0; i < 40; i++) {
      const event = await first.events.create(userId, { title: `b${i}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/${7_100_000_000 + i}` });
      ids.push((await first.scheduling.schedule(userId, event.id, { deduplication_key: `stop-${i}`, bot_config: {} })).bot_id!);
    }
    await first.startBackground();
    for (const until = Date.now() + 15_000; sent.length < 4 && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sent.length, 4, 'four launches on the wire');
    const closing = first.close();
    await new Promise((r) => setTimeout(r, 200));
    answer();
    const closedIn = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing after 5 s'), 5000))]);
    assert.equal(closedIn, 'closed');
    assert.equal(sent.length, 4, 'nothing sent after the stop began');
    const db = await testDatabase.open();
    try {
      const done = await db.db.selectFrom('schedules').select(['bot_id']).where('state', '=', 'done').execute();
      assert.deepEqual(done.map((r) => r.bot_id).sort(), [...sent].sort(), 'the answers that came are written');
    } finally {
      await db.close();
    }
    // The next instance sends the others, once each.
    const fastRuntime: BotRuntime = { ...noRuntime, name: 'fast', canLaunch: true, launch: async (request) => { sent.push(request.bot_id); return { ok: true, alreadyDone: false }; } };
    const next = await open(fastRuntime);
    try {
      await next.startBackground();
      for (const until = Date.now() + 15_000; sent.length < 40 && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await next.close();
    }
    assert.deepEqual([...sent].sort(), [...ids].sort(), 'each bot sent once');
  } finally {
    await testDatabase.drop();
  }
});

test(`the README's npm start stops when its npm process is told to (a supervisor signals the process it started) (${TEST_ENGINE})`, async () => {
  const testDatabase = await createTestDatabase();
  const root = new URL('../..', import.meta.url).pathname;
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: { ...inheritedEnv(), DATABASE_URL: testDatabase.processUrl, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines: string[] = [];
    const server = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${lines.slice(-5).join(' | ')}`)), 30_000);
      let buffered = '';
      npm.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          lines.push(line);
          if (line.includes('Rollcall is ready')) {
            clearTimeout(timer);
            resolve((JSON.parse(line) as { pid: number }).pid);
          }
        }
      });
    });
    npm.kill('SIGTERM');
    const isRunning = () => {
      try {
        process.kill(server, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const until = Date.now() + 15_000; isRunning() && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
    const stillRunning = isRunning();
    if (stillRunning) process.kill(server, 'SIGKILL');
    assert.equal(stillRunning, false, 'the server outlived npm');
    assert.ok(lines.some((line) => line.includes('"msg":"stopped"')), `no orderly stop: ${lines.slice(-3).join(' | ')}`);
  } finally {
    npm.kill('SIGKILL');
    await testDatabase.drop();
  }
});
