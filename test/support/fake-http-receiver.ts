// A local HTTP server standing in for the outside world (a bot runtime, a webhook receiver):
// records every request and answers as the test tells it to.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  /** Which request this is on its connection: 1 for the first, 2 for the first reuse of a kept-alive one, ... */
  onConnection: number;
}

/**
 * How a receiver can fail to answer, beyond a status (each seen of real receivers; see the
 * comments where they are acted out):
 * - `reset`: reads the whole request, then resets the connection without a word;
 * - `endless`: answers the status and headers, then a body that never ends.
 */
export type Misbehaviour = 'reset' | 'endless';

export class FakeHttpReceiver {
  readonly received: ReceivedRequest[] = [];
  /**
   * Decides the answer; defaults to 200. `release` (or `delayMs`): the answer waits until it
   * settles, as a receiver that works before it answers (Standard Webhooks, "Request timeouts",
   * expects senders to wait 15 to 30 s for those; one that never settles stands for a receiver
   * that took the body and hung). `holdBody`: the status and headers go at once, the body's end
   * waits until it settles (a test control for a slow body after the status). `misbehave`: see
   * Misbehaviour.
   */
  respond: (request: ReceivedRequest) => { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number; release?: Promise<unknown>; holdBody?: Promise<unknown>; misbehave?: Misbehaviour } = () => ({ status: 200, body: { ok: true } });
  #server: Server | null = null;
  #waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  /** Requests seen per connection (for `onConnection`). */
  readonly #perSocket = new WeakMap<object, number>();
  /** Bytes of endless bodies written, all told (a sender that reads them whole keeps this growing). */
  endlessBytesWritten = 0;

  async start(port = 0): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          // not JSON
        }
        const onConnection = (this.#perSocket.get(req.socket) ?? 0) + 1;
        this.#perSocket.set(req.socket, onConnection);
        const request: ReceivedRequest = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json, onConnection };
        this.received.push(request);
        const answer = this.respond(request);
        const send = () => {
          if (answer.misbehave === 'reset') {
            // A connection reset after the request was read: a receiver that crashed or was
            // redeployed while handling it, a proxy or load balancer cutting an idle or overloaded
            // connection. Standard Webhooks counts it a failed delivery to retry ("Delivery success
            // and failure": "connection resets"), and a server closing a kept-alive connection just
            // as the next request goes out looks the same to the client (RFC 9112 section 9.3.1;
            // the race in undici: nodejs/undici#3141, #5450; undici resends no POST then, as
            // RFC 9110 section 9.2.2 leaves non-idempotent requests alone: cashubtc/cashu-ts#799).
            req.socket.resetAndDestroy();
            return;
          }
          if (answer.misbehave === 'endless') {
            // A test control for a hostile or broken receiver (an endpoint that streams, a URL that
            // is no webhook receiver at all): HTTP/1.1 lets a chunked body run without a known end
            // (RFC 9112 section 7.1), so only the sender can bound what it reads.
            res.writeHead(answer.status, { 'content-type': 'text/plain' });
            const chunk = Buffer.alloc(64 * 1024, 'x');
            const pump = () => {
              while (!res.destroyed) {
                this.endlessBytesWritten += chunk.length;
                if (!res.write(chunk)) {
                  res.once('drain', pump);
                  return;
                }
              }
            };
            pump();
            return;
          }
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
          if (!answer.holdBody) {
            res.end(text);
            return;
          }
          res.flushHeaders();
          res.write(' ');
          const end = () => res.end(text);
          void answer.holdBody.then(end, end);
        };
        if (answer.release) void answer.release.then(send, send);
        else if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
        this.#check();
      });
    });
    this.#server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * Closes the connections that wait idle for a next request, saying so first (as a server whose
   * keep-alive timeout ran out: Node's http.Server `keepAliveTimeout` and `closeIdleConnections()`
   * docs), and waits until the client can have heard it: the next request goes on a new
   * connection (a test control).
   */
  async closeIdleConnections(): Promise<void> {
    this.#server!.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  get port(): number {
    return (this.#server!.address() as AddressInfo).port;
  }

  /** Resolves when the predicate holds, or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms; received ${this.received.length} requests`)), timeoutMs);
      this.#waiters.push({ predicate, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    this.#server = null;
  }
}
