// BOT_RUNTIME=http against local HTTP servers: what each answer means, the signature, and the
// timeouts and lost connections. undici's own timers (headersTimeout, bodyTimeout) tick about twice a
// second: a timeout fires within a second or so of its time.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { HttpBotRuntime, toSigningSecret } from './http-bot-runtime.ts';
import type { LaunchRequest } from './bot-runtime.ts';

const SECRET = 'whsec_dGVzdC1zZWNyZXQtZm9yLWxhdW5jaGVz';
const TIMEOUT_MS = 300;

const request: LaunchRequest = {
  action: 'launch', bot_id: 'bot_1', meeting_url: 'https://zoom.us/j/123', platform: 'zoom', bot_config: {}, events: [],
  scheduled_time: '2026-12-01T10:00:00.000Z', idempotency_key: 'launch-bot_1', status_url: 'http://127.0.0.1/api/v1/bots/bot_1/status', status_token: 'bst_x',
};

const servers: ReturnType<typeof createServer>[] = [];
after(() => {
  for (const server of servers) server.closeAllConnections();
  for (const server of servers) server.close();
});

/** A runtime answering with `handle`; answers a client pointed at it. */
async function runtimeWith(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void, timeoutMs = TIMEOUT_MS): Promise<HttpBotRuntime> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => handle(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new HttpBotRuntime({ url: `http://127.0.0.1:${port}/launch`, secret: SECRET, timeoutMs, now: () => Date.now() });
}

describe('HttpBotRuntime', () => {
  test('2xx is accepted, 409 already had it, 429 is rate limited with its Retry-After, 500 is transient', async () => {
    const answers = [[202, {}], [409, {}], [429, { 'retry-after': '7' }], [500, {}]] as const;
    let next = 0;
    const runtime = await runtimeWith((_req, res) => {
      const [status, headers] = answers[next++]!;
      res.writeHead(status, headers).end('{}');
    });
    assert.deepEqual(await runtime.launch(request), { ok: true, alreadyDone: false });
    assert.deepEqual(await runtime.launch(request), { ok: true, alreadyDone: true });
    assert.deepEqual(await runtime.launch(request), { ok: false, failure: 'rate_limited', retryAfterMs: 7000, message: 'runtime answered 429' });
    assert.deepEqual(await runtime.launch(request), { ok: false, failure: 'transient', retryAfterMs: null, message: 'runtime answered 500' });
    await runtime.close();
  });

  test('the body is the launch request, signed with Standard Webhooks headers; a prepared launch sends the same', async () => {
    const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
    const runtime = await runtimeWith((req, res, body) => {
      seen.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
    await runtime.launch(request);
    await runtime.launch(request, runtime.prepareLaunch(request));
    const verifier = new Webhook(toSigningSecret(SECRET));
    for (const { headers, body } of seen) {
      assert.deepEqual(JSON.parse(body), request);
      assert.equal(headers['idempotency-key'], request.idempotency_key);
      assert.doesNotThrow(() => verifier.verify(body, headers as Record<string, string>));
    }
    await runtime.close();
  });

  test('a runtime that never answers is a transient failure once the timeout has passed', { timeout: 10_000 }, async () => {
    const runtime = await runtimeWith(() => {
      // Reads the request, never answers.
    });
    const started = performance.now();
    const outcome = await runtime.launch(request);
    const took = performance.now() - started;
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.failure, 'transient');
    assert.match(!outcome.ok ? outcome.message : '', /^runtime unreachable: /);
    assert.ok(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS + 2500, `gave up after ${Math.round(took)} ms`);
    await runtime.close();
  });

  test('the final status is the answer: a body that stalls or never ends does not hold up the launch, and close() does not wait for it', { timeout: 10_000 }, async () => {
    const drips: NodeJS.Timeout[] = [];
    const runtime = await runtimeWith((req, res) => {
      if (req.headers['idempotency-key'] === 'stall') {
        res.writeHead(202, { 'content-length': '100' });
        res.write('{"acc');
        return;
      }
      // A byte every 50 ms, for ever: no pause long enough for the body timeout.
      res.writeHead(202, { 'content-type': 'text/plain' });
      drips.push(setInterval(() => res.write('.'), 50));
    }, 3000);
    for (const key of ['stall', 'drip']) {
      const started = performance.now();
      const outcome = await runtime.launch({ ...request, idempotency_key: key });
      assert.deepEqual(outcome, { ok: true, alreadyDone: false }, key);
      // Waiting for the stalled body would take the 3 s body timeout; the endless one, for ever.
      assert.ok(performance.now() - started < 1500, `${key}: settled at the status line, after ${Math.round(performance.now() - started)} ms`);
    }
    const closing = performance.now();
    await runtime.close();
    assert.ok(performance.now() - closing < 5000, 'close() gave up on the endless body');
    for (const drip of drips) clearInterval(drip);
  });

  test('answers whose body trickles for ever do not keep the rest of a burst from its runtime: each launch is sent and settled', { timeout: 15_000 }, async () => {
    // A runtime answers 202 at once, then writes a byte every 50 ms and never ends: more launches
    // than the pool has connections, each failed one tried again as the dispatcher would.
    const CONNECTIONS = 4;
    const LAUNCHES = 3 * CONNECTIONS + 1;
    const received = new Map<string, number>();
    const drips: NodeJS.Timeout[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = String(req.headers['idempotency-key']);
        received.set(key, (received.get(key) ?? 0) + 1);
        res.writeHead(202, { 'content-type': 'text/plain' });
        const drip = setInterval(() => res.write(' '), 50);
        drips.push(drip);
        res.on('close', () => clearInterval(drip));
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const runtime = new HttpBotRuntime({ url: `http://127.0.0.1:${port}/launch`, secret: null, timeoutMs: TIMEOUT_MS, now: () => Date.now(), connections: CONNECTIONS });
    const keys = Array.from({ length: LAUNCHES }, (_, i) => `trickle-${i}`);
    let pending = keys;
    for (let round = 0; pending.length > 0; round++) {
      assert.ok(round < 10, `launches still not accepted after ${round} rounds: ${pending.join(', ')}`);
      const outcomes = await Promise.all(pending.map((key) => runtime.launch({ ...request, idempotency_key: key })));
      for (const outcome of outcomes) if (!outcome.ok) assert.match(outcome.message, /^runtime unreachable: /);
      pending = pending.filter((_, i) => !outcomes[i]!.ok);
    }
    // Every launch reached the runtime (one written just before its deadline and answered after
    // it is sent again, under its idempotency key, as the dispatcher would).
    assert.deepEqual([...received.keys()].sort(), [...keys].sort());
    await runtime.close();
    for (const drip of drips) clearInterval(drip);
  });

  test('a 1xx is not the answer: the final status after it is, and a connection lost after it is unreachable', { timeout: 10_000 }, async () => {
    const runtime = await runtimeWith((req, res) => {
      res.writeEarlyHints({ link: '</status>; rel=preload' });
      if (req.headers['idempotency-key'] === 'lost') req.socket.destroy();
      else res.writeHead(202).end();
    });
    assert.deepEqual(await runtime.launch(request), { ok: true, alreadyDone: false });
    const lost = await runtime.launch({ ...request, idempotency_key: 'lost' });
    assert.equal(!lost.ok && lost.failure, 'transient');
    assert.match(!lost.ok ? lost.message : '', /^runtime unreachable: /);
    await runtime.close();
  });

  test('a connection reset before any answer, and a refused connection, are unreachable', { timeout: 10_000 }, async () => {
    const runtime = await runtimeWith((req) => req.socket.destroy());
    const reset = await runtime.launch(request);
    assert.match(!reset.ok ? reset.message : '', /^runtime unreachable: /);
    await runtime.close();
    // Nothing listens on the port any more.
    const server = servers.pop()!;
    const { port } = server.address() as AddressInfo;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const refused = new HttpBotRuntime({ url: `http://127.0.0.1:${port}/launch`, secret: null, timeoutMs: TIMEOUT_MS, now: () => Date.now() });
    const outcome = await refused.launch(request);
    assert.equal(!outcome.ok && outcome.failure, 'transient');
    assert.match(!outcome.ok ? outcome.message : '', /^runtime unreachable: /);
    await refused.close();
  });
});
