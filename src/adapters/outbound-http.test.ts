// Compressed answers through the one outbound client, from a local server: each encoding is
// decoded to the text, error answers too, the size cap holds for the decoded text, and what cannot
// be decoded is refused by name instead of being read as text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { OutboundGuard } from './outbound-guard.ts';
import { MAX_RETRY_AFTER_MS, OutboundError, OutboundHttp, parseRetryAfterMs, type OutboundRequest } from './outbound-http.ts';

const FEED = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:standup\r\nSUMMARY:Stand-up – café\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

/** Path → [status, Content-Encoding, body bytes]. */
const ROUTES: Record<string, [number, string | null, Buffer]> = {
  '/gzip': [200, 'gzip', gzipSync(FEED)],
  '/x-gzip': [200, 'x-gzip', gzipSync(FEED)],
  '/deflate': [200, 'deflate', deflateSync(FEED)],
  '/br': [200, 'br', brotliCompressSync(FEED)],
  '/zstd': [200, 'zstd', zstdCompressSync(FEED)],
  '/plain': [200, null, Buffer.from(FEED)],
  '/identity': [200, 'identity', Buffer.from(FEED)],
  '/error': [404, 'gzip', gzipSync('{"error":{"code":"itemNotFound"}}')],
  // Raw deflate, without the zlib wrapping the coding names: some servers send it so.
  '/raw-deflate': [200, 'deflate', deflateRawSync(FEED)],
  '/gzip-then-br': [200, 'gzip, br', brotliCompressSync(gzipSync(FEED))],
  // No body, or an empty one, with the header of a coding: nothing to decode.
  '/not-modified': [304, 'gzip', Buffer.alloc(0)],
  '/no-content': [204, 'gzip', Buffer.alloc(0)],
  '/empty': [200, 'gzip', Buffer.alloc(0)],
  '/compress': [200, 'compress', Buffer.from([0x1f, 0x9d, 0x90, 0x42])],
  '/corrupt-br': [200, 'br', Buffer.from('not brotli at all, not even close')],
  '/corrupt-zstd': [200, 'zstd', Buffer.from('not zstd at all, not even close')],
  '/corrupt': [200, 'gzip', Buffer.concat([gzipSync(FEED).subarray(0, 10), Buffer.from('not deflate data at all')])],
  // 64 MiB of one letter is about 64 KiB of gzip.
  '/bomb': [200, 'gzip', gzipSync(Buffer.alloc(64 * 1024 * 1024, 'x'), { level: 1 })],
};

const received: IncomingHttpHeaders[] = [];
const server: Server = createServer((request, response) => {
  received.push(request.headers);
  const route = ROUTES[request.url ?? ''];
  if (!route) {
    response.writeHead(404).end();
    return;
  }
  const [status, encoding, body] = route;
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...(encoding ? { 'content-encoding': encoding } : {}) });
  response.end(body);
});
let origin = '';
const http = new OutboundHttp({ guard: new OutboundGuard([]) });
const get = (path: string, options: Partial<OutboundRequest> = {}): OutboundRequest => ({ method: 'GET', url: `${origin}${path}`, timeoutMs: 5000, guarded: false, ...options });

async function failureOf(request: OutboundRequest): Promise<OutboundError> {
  try {
    const response = await http.request(request);
    assert.fail(`expected a refusal, got HTTP ${response.status} with ${JSON.stringify(response.body.slice(0, 40))}`);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    return error;
  }
}

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await http.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('compressed answers', () => {
  test('gzip, deflate and br are asked for; each of them, and zstd sent unasked, is decoded to the text', async () => {
    for (const path of ['/gzip', '/x-gzip', '/deflate', '/raw-deflate', '/br', '/zstd', '/gzip-then-br', '/plain', '/identity']) {
      received.length = 0;
      const response = await http.request(get(path));
      assert.equal(response.status, 200, path);
      assert.equal(response.body, FEED, path);
      assert.equal(response.isTruncated, false, path);
      assert.equal(received[0]?.['accept-encoding'], 'gzip, deflate, br', path);
    }
  });

  test('an answer without a body (304, 204) or with an empty one is empty, whatever coding its header names', async () => {
    for (const [path, status] of [['/not-modified', 304], ['/no-content', 204], ['/empty', 200]] as const) {
      const response = await http.request(get(path));
      assert.deepEqual([response.status, response.body], [status, ''], path);
    }
  });

  test('a caller that names its own Accept-Encoding keeps it', async () => {
    received.length = 0;
    const response = await http.request(get('/plain', { headers: { 'Accept-Encoding': 'identity' } }));
    assert.equal(response.body, FEED);
    assert.equal(received[0]?.['accept-encoding'], 'identity');
  });

  test('an error answer is decoded too: its body says what went wrong', async () => {
    const response = await http.request(get('/error'));
    assert.equal(response.status, 404);
    assert.deepEqual(JSON.parse(response.body), { error: { code: 'itemNotFound' } });
  });

  test('the size cap holds for the decoded text: 64 KiB that inflate to 64 MiB are cut at the cap', async () => {
    const response = await http.request(get('/bomb', { maxBytes: 1024 * 1024 }));
    assert.equal(response.isTruncated, true);
    assert.equal(response.body.length, 1024 * 1024);
    assert.match(response.body, /^x+$/);
  });

  test('an encoding the client cannot decode, and a body not valid in its encoding, are refused as undecodable', async () => {
    const unknown = await failureOf(get('/compress'));
    assert.equal(unknown.kind, 'undecodable');
    assert.match(unknown.message, /Content-Encoding: compress/);
    for (const path of ['/corrupt', '/corrupt-br', '/corrupt-zstd']) {
      const corrupt = await failureOf(get(path));
      assert.equal(corrupt.kind, 'undecodable', `${path}: ${corrupt.message}`);
    }
    // The client still works after both (the connections were closed or reused cleanly).
    assert.equal((await http.request(get('/gzip'))).body, FEED);
  });

  test('an answer whose body is not kept (maxBytes 0) answers at once, whatever its encoding', async () => {
    for (const path of ['/compress', '/corrupt', '/gzip']) assert.equal((await http.request(get(path, { maxBytes: 0 }))).status, 200, path);
  });
});

describe('a kept-alive connection closed under a request', () => {
  // A server that resets the connection once it has read a request, without a word: on the second
  // request of a kept-alive connection (`/closing`: a server whose idle timeout ran out just as the
  // request arrived, RFC 9112 section 9.3.1, the race of nodejs/undici#3141), or on any (`/crash`:
  // a server that fails while handling it).
  const perConnection = new WeakMap<object, number>();
  const seen: { url: string; onConnection: number }[] = [];
  const closing: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const onConnection = (perConnection.get(request.socket) ?? 0) + 1;
      perConnection.set(request.socket, onConnection);
      seen.push({ url: request.url ?? '', onConnection });
      if (request.url === '/crash' || (request.url === '/closing' && onConnection === 2)) request.socket.resetAndDestroy();
      else response.writeHead(200).end('ok');
    });
  });
  closing.keepAliveTimeout = 60_000;
  let base = '';
  const post = (path: string, options: Partial<OutboundRequest> = {}): OutboundRequest => ({ method: 'POST', url: `${base}${path}`, body: '{}', timeoutMs: 5000, guarded: false, ...options });

  before(async () => {
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(closing.address() as AddressInfo).port}`;
  });
  after(async () => {
    closing.closeAllConnections();
    await new Promise((resolve) => closing.close(resolve));
  });

  /** A moment idle: undici checks a connection that was just freed before it takes it again. */
  const idle = () => new Promise((resolve) => setTimeout(resolve, 20));

  /** A client of its own, so that the connections it keeps are those of the test. */
  async function withClient(run: (client: OutboundHttp) => Promise<void>): Promise<void> {
    const client = new OutboundHttp({ guard: new OutboundGuard([]) });
    try {
      await run(client);
    } finally {
      await client.close();
    }
  }

  test('a request marked safe to send twice is sent again at once on a new connection, and answered', async () => {
    await withClient(async (client) => {
      seen.length = 0;
      assert.equal((await client.request(post('/closing', { resendOnClosedReuse: true }))).status, 200);
      await idle();
      assert.equal((await client.request(post('/closing', { resendOnClosedReuse: true }))).status, 200);
      assert.deepEqual(seen, [{ url: '/closing', onConnection: 1 }, { url: '/closing', onConnection: 2 }, { url: '/closing', onConnection: 1 }]);
    });
  });

  test('without the mark it fails as unreachable, sent once', async () => {
    await withClient(async (client) => {
      seen.length = 0;
      await client.request(post('/closing'));
      await idle();
      assert.equal((await failureFrom(client, post('/closing'))).kind, 'unreachable');
      assert.equal(seen.length, 2);
    });
  });

  test('a reset of a new connection is not sent again: a server that fails on the request would fail twice', async () => {
    await withClient(async (client) => {
      seen.length = 0;
      assert.equal((await failureFrom(client, post('/crash', { resendOnClosedReuse: true }))).kind, 'unreachable');
      assert.deepEqual(seen, [{ url: '/crash', onConnection: 1 }]);
    });
  });
});

describe('a resend over TLS, where undici offers HTTP/2', () => {
  // undici's connector offers h2 and http/1.1 by ALPN unless built with allowH2: false
  // (docs/docs/api/Connector.md, lib/core/connect.js). Over h2 requests are concurrent streams of
  // one connection, so the count of requests on it says nothing about whether the one lost was
  // answered. A throwaway self-signed certificate, trusted for these tests only.
  const dir = mkdtempSync(join(tmpdir(), 'outbound-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  let rejectUnauthorized: string | undefined;

  /** Requests either server read to their end: path, HTTP version. */
  const seen: { path: string; version: string }[] = [];
  let firstArrived: () => void = () => {};
  const tcp: Socket[] = [];
  // h2 (and HTTP/1.1 to a client that offers only that): /first is read and left unanswered;
  // /second, a concurrent stream on the same connection, makes the server reset the connection.
  const h2: Http2SecureServer = createSecureServer({ ...tls, allowHTTP1: true }, (request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ path: request.url, version: request.httpVersion });
      if (request.httpVersion !== '2.0') response.writeHead(200).end('ok');
      else if (request.url === '/first') firstArrived();
      else tcp.at(-1)!.resetAndDestroy();
    });
  });
  h2.on('connection', (socket: Socket) => tcp.push(socket));
  // HTTP/1.1 over TLS that notes what each connection offered by ALPN, and resets the second
  // request of a kept-alive connection (the idle-timeout race of nodejs/undici#3141).
  const offered: string[][] = [];
  const onConnection = new WeakMap<object, number>();
  const https: HttpsServer = createHttpsServer({ ...tls, ALPNCallback: ({ protocols }) => { offered.push(protocols); return 'http/1.1'; } }, (request, response) => {
    request.resume();
    request.on('end', () => {
      const count = (onConnection.get(request.socket) ?? 0) + 1;
      onConnection.set(request.socket, count);
      seen.push({ path: request.url ?? '', version: request.httpVersion });
      // The TCP connection under it is reset (a TLS socket cannot be); one is open at a time here.
      if (count === 2) tcp.at(-1)!.resetAndDestroy();
      else response.writeHead(200).end('ok');
    });
  });
  https.on('connection', (socket: Socket) => tcp.push(socket));
  https.keepAliveTimeout = 60_000;
  let h2Base = '';
  let httpsBase = '';
  const post = (url: string): OutboundRequest => ({ method: 'POST', url, body: '{}', timeoutMs: 5000, guarded: false, resendOnClosedReuse: true });

  before(async () => {
    rejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    h2Base = `https://localhost:${(h2.address() as AddressInfo).port}`;
    httpsBase = `https://localhost:${(https.address() as AddressInfo).port}`;
  });
  after(async () => {
    if (rejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = rejectUnauthorized;
    https.closeAllConnections();
    await Promise.all([new Promise((resolve) => h2.close(resolve)), new Promise((resolve) => https.close(resolve))]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a request first on a new h2 connection is not sent again when a concurrent stream has the connection reset', async () => {
    seen.length = 0;
    const client = new OutboundHttp({ guard: new OutboundGuard([]) });
    try {
      const arrived = new Promise<void>((resolve) => { firstArrived = resolve; });
      const outcome = (request: Promise<unknown>) => request.then(() => 'answered', (error: unknown) => (error instanceof OutboundError ? error.kind : String(error)));
      const first = outcome(client.request(post(`${h2Base}/first`)));
      await arrived;
      const second = outcome(client.request(post(`${h2Base}/second`)));
      assert.deepEqual(await Promise.all([first, second]), ['unreachable', 'unreachable']);
      assert.deepEqual(seen, [{ path: '/first', version: '2.0' }, { path: '/second', version: '2.0' }]);
    } finally {
      await client.close();
    }
  });

  test('the resend of a request lost on a reused HTTP/1.1 connection goes on a connection that offers HTTP/1.1 only', async () => {
    seen.length = 0;
    offered.length = 0;
    const client = new OutboundHttp({ guard: new OutboundGuard([]) });
    try {
      assert.equal((await client.request(post(`${httpsBase}/one`))).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await client.request(post(`${httpsBase}/two`))).status, 200);
      assert.deepEqual(seen.map((r) => r.path), ['/one', '/two', '/two']);
      assert.deepEqual(offered, [['http/1.1', 'h2'], ['http/1.1']]);
    } finally {
      await client.close();
    }
  });
});

async function failureFrom(client: OutboundHttp, request: OutboundRequest): Promise<OutboundError> {
  try {
    const response = await client.request(request);
    return assert.fail(`expected a failure, got HTTP ${response.status}`);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    return error;
  }
}

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-06-01T09:00:00Z');
  const read = (value: string | undefined) => parseRetryAfterMs({ 'retry-after': value }, now);

  test('seconds and HTTP dates within the hour are read as they are', () => {
    assert.equal(read('7'), 7000);
    assert.equal(read(' 35 '), 35_000);
    assert.equal(read('0'), 0);
    assert.equal(read('3600'), MAX_RETRY_AFTER_MS);
    assert.equal(read('Mon, 01 Jun 2026 09:00:30 GMT'), 30_000);
    assert.equal(read('Mon, 01 Jun 2026 08:00:00 GMT'), 0);
    assert.equal(read(undefined), null);
    assert.equal(read('soon'), null);
  });

  test('a longer wait, however written, is read as the hour: a whole number of milliseconds the database can hold', () => {
    for (const value of ['3601', '2592000', '99999999999', '100000000000000000000', '9'.repeat(400), 'Fri, 31 Dec 9999 23:59:59 GMT', 'Tue, 01 Jun 2027 09:00:00 GMT']) {
      const ms = read(value);
      assert.equal(ms, MAX_RETRY_AFTER_MS, value.slice(0, 30));
      assert.ok(Number.isSafeInteger(ms));
    }
  });

  test('a date a fraction of a second ahead is a whole number of milliseconds', () => {
    const ms = parseRetryAfterMs({ 'retry-after': 'Mon, 01 Jun 2026 09:00:01 GMT' }, now + 0.5);
    assert.ok(Number.isInteger(ms), String(ms));
  });
});
