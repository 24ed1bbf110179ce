// The calendar providers' HTTP send over a real local server that resets a kept-alive connection
// on its second request, as a server whose idle timeout runs out just as a request arrives does
// (RFC 9112 section 9.3.1; nodejs/undici#3141).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboundGuard } from '../outbound-guard.ts';
import { OutboundHttp } from '../outbound-http.ts';
import { CalendarProviderError } from './calendar-provider.ts';
import { createHttpSend } from './provider-http.ts';

const perConnection = new WeakMap<object, number>();
let received = 0;
const server: Server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    received++;
    const onConnection = (perConnection.get(request.socket) ?? 0) + 1;
    perConnection.set(request.socket, onConnection);
    if (onConnection === 2) request.socket.resetAndDestroy();
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 60_000;
let base = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Two requests in turn on one client: the second goes out on the first's kept-alive connection. */
async function secondOf(method: 'GET' | 'POST'): Promise<unknown> {
  const http = new OutboundHttp({ guard: new OutboundGuard([]) });
  const send = createHttpSend(http);
  const request = { method, url: `${base}/calendar`, headers: {}, timeoutMs: 5000, ...(method === 'POST' ? { body: '{}' } : {}) };
  try {
    await send(request);
    // A moment idle: undici checks a freed connection before it takes it again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return await send(request).then((response) => response.status, (error: unknown) => error);
  } finally {
    await http.close();
  }
}

test('a read lost on a kept-alive connection the server closed is sent again on a new one, and answered', async () => {
  received = 0;
  assert.equal(await secondOf('GET'), 200);
  assert.equal(received, 3, 'the first read, the lost one, the one sent again');
});

test('a write so lost is not sent again: it fails as a transient failure, sent once', async () => {
  received = 0;
  const failure = await secondOf('POST');
  assert.ok(failure instanceof CalendarProviderError, String(failure));
  assert.equal(failure.failure.kind, 'transient');
  assert.equal(received, 2);
});
