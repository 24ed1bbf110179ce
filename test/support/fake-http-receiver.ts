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
}

export class FakeHttpReceiver {
  readonly received: ReceivedRequest[] = [];
  /**
   * Decides the answer; defaults to 200. `release`: the answer waits until it settles.
   * `holdBody`: the status and headers go at once, the body's end waits until it settles.
   */
  respond: (request: ReceivedRequest) => { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number; release?: Promise<unknown>; holdBody?: Promise<unknown> } = () => ({ status: 200, body: { ok: true } });
  #server: Server | null = null;
  #waiters: { predicate: () => boolean; resolve: () => void }[] = [];

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
        const request: ReceivedRequest = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
        this.received.push(request);
        const answer = this.respond(request);
        const send = () => {
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
