// What a stop does with the server's connections. Node's server.close() (which app.close() calls
// after the preClose hooks) stops accepting, closes the idle keep-alive connections once and then
// waits for every other connection to end. Two kinds of connection would make it wait until
// their client closes them, which can be the keep-alive timeout (72 s) or never; the stop's own
// deadline (10 s) then ends the process with exit code 1, before the database is closed:
//
// - A connection that has not sent a byte. Node counts it as busy, not idle: it is waiting for
//   a request (https://github.com/nodejs/node/issues/63452; Node's fix, nodejs/node#63470,
//   closes such connections in closeIdleConnections, and is not in Node 24.21). Browsers open
//   such connections ahead of need, and fetch (undici) opens one again on its own after a
//   streamed response it aborted, a live status stream closed by its reader
//   (https://github.com/nodejs/undici/issues/5845).
// - A connection whose request was under way as the stop began: once answered it is idle, but
//   Node closes idle connections once, when the stop begins, not when they become idle later.
//
// So, until the server has closed, the idle connections are closed again every 50 ms. Node's
// closeIdleConnections() leaves a connection alone while a request on it is being received or
// its answer is not yet complete, an answer to a pipelined request queued behind it included
// (https://nodejs.org/api/http.html#servercloseidleconnections; nodejs/node#43890): every request
// it has begun processing is answered before its connection is closed (except an answer already
// complete as the stop begins and mostly unsent to a slow reader: Node's own close, which runs
// once as the stop begins, counts its connection idle). One socket still sending holds the
// closing of every idle connection until it has sent; the stop cannot end before it anyway. A connection that has sent
// nothing is closed after a short grace: a request already on its way as the stop began is then
// read, and answered 503 (Fastify's answer to a request that arrives during a stop) rather than
// reset.
import type { Socket } from 'node:net';
import type { App } from './app.ts';

/** How often, during a stop, the connections that became idle are closed. */
export const STOP_CHECK_MS = 50;
/** How long, after a stop begins, a connection that has sent nothing is left for its first bytes. */
export const UNUSED_CONNECTION_GRACE_MS = 150;

export function closeConnectionsOnStop(app: App): void {
  const connections = new Set<Socket>();
  let timer: NodeJS.Timeout | undefined;
  // A connection accepted during the stop (before its listener closes) is kept like any other.
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.addHook('preClose', async () => {
    const startedAt = performance.now();
    timer = setInterval(() => {
      // An answer Node has been given whole but has not yet handed to the network counts as
      // complete for closeIdleConnections(), which would cut it off: wait until it is sent.
      let isSending = false;
      for (const socket of connections) if (socket.writableLength > 0) isSending = true;
      if (!isSending) app.server.closeIdleConnections();
      if (performance.now() - startedAt < UNUSED_CONNECTION_GRACE_MS) return;
      for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
    }, STOP_CHECK_MS).unref();
    app.server.once('close', () => clearInterval(timer));
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
