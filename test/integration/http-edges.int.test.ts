// Edges of the HTTP surface that clients meet on a real socket: a body over the limit is answered
// with a 413 the client can read (not a reset while it is still uploading); the runtime status
// route checks credentials before it looks at the body; deduplication keys are counted in
// characters and work at any byte length on both engines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';

/**
 * Sends a POST with `bytes` of body in 64 KiB pieces, a few milliseconds apart, on a raw socket, and
 * reports what came back and whether every piece could be written (a server that closes while
 * the upload is still arriving makes the later writes fail).
 */
function slowUpload(port: number, path: string, headers: Record<string, string>, bytes: number): Promise<{ response: string; writeFailed: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let writeFailed: string | null = null;
    let sent = 0;
    const piece = Buffer.alloc(64 * 1024, 'x');
    socket.on('data', (chunk) => { response += chunk.toString('utf8'); });
    socket.on('error', (error: NodeJS.ErrnoException) => { writeFailed ??= error.code ?? error.message; });
    socket.on('close', () => resolve({ response, writeFailed }));
    socket.on('connect', () => {
      const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${bytes}`, 'Content-Type: application/json', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
      socket.write(head);
      const pump = () => {
        if (socket.destroyed) return;
        if (sent >= bytes) return;
        const n = Math.min(piece.length, bytes - sent);
        socket.write(piece.subarray(0, n), (error) => { if (error) writeFailed ??= (error as NodeJS.ErrnoException).code ?? error.message; });
        sent += n;
        setTimeout(pump, 3);
      };
      pump();
    });
  });
}

describe('HTTP edges', () => {
  let rc: TestRollcall;
  let auth: string;
  let port: number;

  before(async () => {
    rc = await startTestRollcall();
    auth = (await rc.newUser()).auth;
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    port = (rc.app.server.address() as { port: number }).port;
  });
  after(() => rc.close());

  test('a 2 MiB upload is answered 413 and read to its end, so the client sees the answer, not a reset', async (t) => {
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { response, writeFailed } = await slowUpload(port, '/api/v1/calendar/events', { Authorization: auth }, 2 * 1024 * 1024);
      assert.match(response, /^HTTP\/1\.1 413 /, `attempt ${i}: ${response.slice(0, 200)}`);
      assert.match(response, /"code":"payload_too_large"/);
      assert.equal(writeFailed, null, `attempt ${i}: the server stopped reading while the upload was still arriving (${writeFailed})`);
      results.push('413');
    }
    // And through Node's own client, which is where the reset showed.
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/calendar/events`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024 + i) });
      assert.equal(res.status, 413);
      await res.text();
    }
    t.diagnostic(`5 slow raw uploads and 30 fetch uploads of 2 MiB: every one answered 413 and read`);
  });

  test('HTTP the parser refuses is answered in the API\'s error shape and the connection closed: a control character in a header, Content-Length beside Transfer-Encoding, headers over 16 KiB', async () => {
    const raw = (request: string) => new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let response = '';
      socket.on('data', (chunk) => { response += chunk.toString('utf8'); });
      socket.on('error', () => {});
      socket.on('close', () => resolve(response));
      socket.on('connect', () => socket.write(request));
    });
    const cases: [string, number, string][] = [
      [`GET /api/v1/calendar/events HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n`, 400, 'malformed_request'],
      [`POST /api/v1/calendar/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`, 400, 'malformed_request'],
      [`POST /api/v1/calendar/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`, 400, 'malformed_request'],
      [`GET /api/v1/calendar/events HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 431, 'headers_too_large'],
    ];
    for (const [request, status, code] of cases) {
      const response = await raw(request);
      assert.match(response, new RegExp(`^HTTP/1.1 ${status} `), response.slice(0, 200));
      assert.match(response, /connection: close/i);
      const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
      assert.deepEqual([body.code, body.status_code, typeof body.error, typeof body.message], [code, status, 'string', 'string'], JSON.stringify(body));
    }
  });

  // Node's HTTP server ends the request; the database answers only the key's lookup, as in every
  // other test of either engine, so the 30 s wait runs in the SQLite pass alone.
  test('a request whose body trickles in is ended at the request time limit (30 s), with or without a key, and answered 408', { skip: TEST_ENGINE !== 'sqlite' ? 'Node\'s request timeout, the same whatever the engine: waited out in the SQLite pass' : false }, async () => {
    // Node reads the limit when the server is made, so the test waits the service's own 30 s.
    const trickle = (headers: string) => new Promise<{ response: string; closedAfterMs: number }>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const startedAt = Date.now();
      let response = '';
      socket.on('data', (chunk) => { response += chunk.toString('utf8'); });
      socket.on('error', () => {});
      const timer = setInterval(() => { if (!socket.destroyed) socket.write(' '); }, 500);
      socket.on('close', () => { clearInterval(timer); resolve({ response, closedAfterMs: Date.now() - startedAt }); });
      socket.on('connect', () => socket.write(`POST /api/v1/calendar/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n${headers}\r\n{`));
    });
    const [keyless, keyed] = await Promise.all([trickle(''), trickle(`Authorization: ${auth}\r\n`)]);
    // Without a key the 401 goes at once, and the connection with it.
    assert.match(keyless.response, /^HTTP\/1.1 401 /);
    assert.ok(keyless.closedAfterMs < 5_000, `without a key: closed after ${keyless.closedAfterMs} ms`);
    // With one, at the limit and one check of Node's (REQUEST_TIMEOUT_CHECK_MS, 5 s), with room for a busy machine.
    assert.match(keyed.response, /^HTTP\/1.1 408 /);
    assert.equal(JSON.parse(keyed.response.slice(keyed.response.indexOf('\r\n\r\n') + 4)).code, 'request_timeout');
    assert.ok(keyed.closedAfterMs >= 29_000 && keyed.closedAfterMs < 45_000, `with a key: closed after ${keyed.closedAfterMs} ms`);
  });

  test('every answer says nosniff and, outside the dashboard, runs nothing and is framed by no one: an error, a 404, and the keyless validationToken echo (text that the caller chose)', async () => {
    const echo = await fetch(`http://127.0.0.1:${port}/api/v1/calendar/notifications/microsoft?validationToken=${encodeURIComponent('<script>alert(1)</script>')}`, { method: 'POST' });
    assert.equal(echo.status, 200);
    assert.match(echo.headers.get('content-type') ?? '', /^text\/plain/);
    for (const response of [echo, await fetch(`http://127.0.0.1:${port}/api/v1/calendar/events`), await fetch(`http://127.0.0.1:${port}/nowhere`)]) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', response.url);
      assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'", response.url);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', response.url);
    }
    // The dashboard keeps its own policy, which lets its script and stylesheet load.
    const page = await fetch(`http://127.0.0.1:${port}/dashboard`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });

  test('a base URL ending in a slash (a doubled slash in the path) or a trailing slash reaches the route; the key is still checked', async () => {
    for (const path of ['/api/v1//calendar/events', '/api/v1/calendar//events', '/api/v1/calendar/events/', '//api/v1/calendar/events']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: auth } });
      assert.equal(res.status, 200, `${path}: ${await res.text()}`);
      await res.text().catch(() => '');
      const without = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(without.status, 401, path);
      assert.equal(without.headers.get('www-authenticate'), 'Token', path);
      await without.text();
    }
    // An unknown route under the API in any spelling: the key first, so no route names leak.
    for (const path of ['/api/v1/no-such-route', '//api/v1/no-such-route', '/api//v1/no-such-route']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('www-authenticate'), 'Token', path);
      await res.text();
    }
    const wrongMethod = await fetch(`http://127.0.0.1:${port}/api/v1//calendar/events`, { method: 'PUT', headers: { authorization: auth } });
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.text();
  });

  test('a doubled slash before a route that redirects does not send the browser to another host ("//docs/" is the host "docs")', async () => {
    for (const path of ['//docs/static/index.html', '///docs/static/index.html?x=1', '//docs']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' });
      await res.text();
      const location = res.headers.get('location');
      if (location === null) continue;
      assert.equal(new URL(location, `http://127.0.0.1:${port}${path}`).host, `127.0.0.1:${port}`, `${path} -> ${location}`);
    }
    const direct = await fetch(`http://127.0.0.1:${port}//docs/static/index.html`, { redirect: 'manual' });
    await direct.text();
    assert.ok([200, 301, 302].includes(direct.status), String(direct.status));
  });

  test('the runtime status route checks credentials before the body: no or wrong credentials are 401 whatever the body', async () => {
    for (const body of [{ status: 'Bogus' }, 'not json', {}]) {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      const anonymous = await rc.app.inject({ method: 'POST', url: '/api/v1/bots/bot_nope/status', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(anonymous.statusCode, 401, anonymous.body);
      const wrongToken = await rc.app.inject({ method: 'POST', url: '/api/v1/bots/bot_nope/status', headers: { 'content-type': 'application/json', authorization: 'Bearer bst_wrong' }, payload });
      assert.equal(wrongToken.statusCode, 401, wrongToken.body);
    }
  });

  test('deduplication keys: 900 CJK characters (2,700 bytes) and 2,000 emoji work; 2,001 emoji are refused naming the field', async () => {
    const start = Date.now() + 7_200_000;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'keys', start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: 'https://zoom.us/j/5550001111' } });
    assert.equal(event.status, 201);
    const cjk = '会'.repeat(900);
    const first = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth, body: { deduplication_key: cjk, bot_config: {} } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth, body: { deduplication_key: cjk, bot_config: { bot_name: 'again' } } });
    assert.equal(again.status, 200);
    assert.equal(again.body.bot_id, first.body.bot_id, 'the same long key finds the same bot');
    assert.equal(again.body.updated_existing, true);

    const other = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'emoji', start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: 'https://zoom.us/j/5550002222' } });
    const emoji = await rc.request('POST', `/api/v1/calendar/schedule/${other.body.id}`, { auth, body: { deduplication_key: '🎉'.repeat(2000), bot_config: {} } });
    assert.equal(emoji.status, 200, JSON.stringify(emoji.body));
    const tooLong = await rc.request('POST', `/api/v1/calendar/schedule/${other.body.id}`, { auth, body: { deduplication_key: '🎉'.repeat(2001), bot_config: {} } });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.code, 'invalid_deduplication_key');
    assert.match(tooLong.body.error, /deduplication_key/);
  });

  test('a body that is not UTF-8 (a title typed in Latin-1) is 400 invalid_json naming the field, not stored with replacement characters', async () => {
    // RFC 8259 section 8.1: JSON exchanged between systems is UTF-8. "Café" written in Latin-1 ends
    // in the byte 0xE9, which UTF-8 reads as the start of a character that never comes.
    const start = Date.now() + 7_200_000;
    const text = `{"title":"Caf\u00e9 sync","start_time":"${new Date(start).toISOString()}","end_time":"${new Date(start + 1_800_000).toISOString()}"}`;
    const latin1 = await rc.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: auth, 'content-type': 'application/json' }, payload: Buffer.from(text, 'latin1') });
    assert.equal(latin1.statusCode, 400, latin1.body);
    assert.equal(latin1.json().code, 'invalid_json');
    assert.equal(latin1.json().details.field, 'title');
    assert.match(latin1.json().message, /^title: is not valid UTF-8/);
    // The same text as UTF-8 is taken, and a body that is malformed in both ways names the body.
    const utf8 = await rc.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: auth, 'content-type': 'application/json' }, payload: Buffer.from(text, 'utf8') });
    assert.equal(utf8.statusCode, 201, utf8.body);
    assert.equal(utf8.json().title, 'Caf\u00e9 sync');
    const broken = await rc.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: auth, 'content-type': 'application/json' }, payload: Buffer.from([0x7b, 0xff, 0x7d]) });
    assert.equal(`${broken.statusCode} ${broken.json().code} ${broken.json().details?.field}`, '400 invalid_json body', broken.body);
  });

  test('a bad byte in a half-megabyte key is answered with the key cut short, not repeated three times over', async () => {
    const key = 'k'.repeat(500_000);
    const payload = Buffer.concat([Buffer.from(`{"custom_attributes":{"${key}`), Buffer.from([0xe9]), Buffer.from('":"x"}}')]);
    const res = await rc.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: auth, 'content-type': 'application/json' }, payload });
    assert.equal(`${res.statusCode} ${res.json().code}`, '400 invalid_json', res.body.slice(0, 300));
    assert.equal(res.json().details.field, `custom_attributes.${'k'.repeat(82)}…`);
    assert.ok(res.body.length < 2_000, `an answer of ${res.body.length} characters`);
  });
});
