// What a stop does with the server's connections. Node's server.close() (which app.close() calls
// after the preClose hooks) stops accepting, closes the idle keep-alive connections and then
// waits for every other connection to end. Two kinds of connection would make it wait until
// their client closes them, which can be the keep-alive timeout (72 s) or never; the stop's own
// deadline (10 s) then ends the process with exit code 1, before the database is closed:
//
// - A connection that has not sent a byte. Node counts it as busy, not idle: it is waiting for
//   a request (https://github.com/nodejs/node/issues/63452; Node's fix, nodejs/node#63470,
//   closes such connections in closeIdleConnections, and is not in every Node 24). Browsers open
//   such connections ahead of need, and fetch (undici) opens one again on its own after a
//   streamed response it aborted, a live status stream closed by its reader
//   (https://github.com/nodejs/undici/issues/5845).
// - A connection whose request was under way as the stop began: its answer offered to keep the
//   connection for the next request, and Node closes idle connections once, when the stop begins,
//   not when they become idle later.
import type { Socket } from 'node:net';
import type { App } from './app.ts';

export function closeConnectionsOnStop(app: App): void {
  const connections = new Set<Socket>();
  let isStopping = false;
  app.server.on('connection', (socket: Socket) => {
    // Accepted in the moment between the stop's start and the listener's close: nothing was sent
    // on it, and nothing sent on it would be served (the answer would be a 503).
    if (isStopping) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.addHook('preClose', async () => {
    isStopping = true;
    // Not a byte received: no request can be lost. A request partly received is waited for and
    // answered (Fastify answers one that arrives during the stop with a 503 and closes).
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
  });
  // Whatever is answered from now on, the answer to a request under way as the stop began
  // included, ends its connection.
  app.addHook('onSend', async (_request, reply) => {
    if (isStopping) void reply.header('connection', 'close');
  });
}
