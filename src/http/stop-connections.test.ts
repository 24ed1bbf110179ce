// A stop closes a connection once its answers are sent, not before: an answer larger than the
// network takes at once, to a client that reads it slowly, arrives whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import Fastify from 'fastify';
import type { App } from './app.ts';
import { closeConnectionsOnStop, UNUSED_CONNECTION_GRACE_MS } from './stop-connections.ts';

test('an answer given during a stop reaches a client that reads it slowly whole', async () => {
  const app = Fastify() as unknown as App;
  closeConnectionsOnStop(app);
  // Far more than the kernel's buffers of both ends hold: most of it waits in the server's socket.
  const size = 64 * 1024 * 1024;
  let isAsked = false;
  app.get('/large', async (_request, reply) => {
    isAsked = true;
    // Answered once the stop has begun and its grace for unused connections is over.
    await new Promise((resolve) => setTimeout(resolve, UNUSED_CONNECTION_GRACE_MS * 2));
    return reply.type('application/octet-stream').send(Buffer.alloc(size, 'x'));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const client = connect((app.server.address() as { port: number }).port, '127.0.0.1');
  let received = 0;
  client.on('error', () => {});
  const closed = once(client, 'close');
  await once(client, 'connect');
  client.write('GET /large HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!isAsked) await new Promise((resolve) => setTimeout(resolve, 5));
  const stopped = app.close();
  // The client reads nothing for a while, then slowly.
  client.pause();
  await new Promise((resolve) => setTimeout(resolve, UNUSED_CONNECTION_GRACE_MS * 4));
  client.on('data', (chunk: Buffer) => {
    received += chunk.length;
    client.pause();
    setTimeout(() => client.resume(), 1);
  });
  client.resume();
  await closed;
  await stopped;
  // The head, then the whole body.
  assert.ok(received > size, `${received} bytes of ${size} arrived`);
});
