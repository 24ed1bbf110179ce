// The start-up warm-up of the HTTP client: two GETs of the given URL, and a start that never fails
// or hangs because of it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ownUrl, warmUpHttpClient } from './http-client-warm-up.ts';

const loopback = (port: number): AddressInfo => ({ address: '127.0.0.1', family: 'IPv4', port });

const servers: ReturnType<typeof createServer>[] = [];
after(() => {
  for (const server of servers) server.closeAllConnections();
  for (const server of servers) server.close();
});

async function serverWith(handle: RequestListener): Promise<number> {
  const server = createServer(handle);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('warmUpHttpClient', () => {
  test('sends two GETs to the URL and reports success', async () => {
    const seen: string[] = [];
    const port = await serverWith((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('{"status":"ok"}');
    });
    assert.equal(await warmUpHttpClient(loopback(port), '/healthz'), true);
    assert.deepEqual(seen, ['GET /healthz', 'GET /healthz']);
  });

  test('a closed port: false at once, no throw', async () => {
    const port = await serverWith((_req, res) => res.end());
    const closed = servers.pop()!;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = performance.now();
    assert.equal(await warmUpHttpClient(loopback(port), '/healthz'), false);
    assert.ok(performance.now() - started < 1000);
  });

  test('a listener that never answers: false after the timeout (for both requests together), no hang', async () => {
    const port = await serverWith(() => {});
    const started = performance.now();
    assert.equal(await warmUpHttpClient(loopback(port), '/healthz', 200), false);
    const took = performance.now() - started;
    assert.ok(took >= 150 && took < 3000, `took ${took} ms`);
  });

  test('the listener\'s URL: wildcards through loopback, IPv6 in brackets, a zoned address not at all', () => {
    const url = (address: string, family = 'IPv4') => ownUrl({ address, family, port: 3000 }, '/healthz')?.href ?? null;
    assert.equal(url('0.0.0.0'), 'http://127.0.0.1:3000/healthz');
    assert.equal(url('::', 'IPv6'), 'http://[::1]:3000/healthz');
    assert.equal(url('::1', 'IPv6'), 'http://[::1]:3000/healthz');
    assert.equal(url('10.1.2.3'), 'http://10.1.2.3:3000/healthz');
    assert.equal(url('2001:db8::5', 'IPv6'), 'http://[2001:db8::5]:3000/healthz');
    assert.equal(url('fe80::fc:ff:fe00:1%eth0', 'IPv6'), null);
  });
});
