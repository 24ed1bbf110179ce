// The no-op bot runtime: answers 202 at once and notes when each bot's launch arrived. It runs in
// the benchmark process, which does nothing else while bots fire.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.ts';

export class NoopRuntime {
  /** First arrival (epoch ms) per bot id. */
  readonly arrivals = new Map<string, number>();
  /** Every launch request, repeats included. */
  requests = 0;
  /** scheduled_time as the launch request carried it, per bot id (for a cross-check). */
  readonly scheduledTimes = new Map<string, string>();
  #server: Server | null = null;
  #stop: (() => Promise<void>) | null = null;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const at = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Answer first: the runtime's own work must not delay the next launch.
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"accepted":true}');
        this.requests++;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bot_id?: string; scheduled_time?: string };
          if (body.bot_id && !this.arrivals.has(body.bot_id)) {
            this.arrivals.set(body.bot_id, at);
            if (body.scheduled_time) this.scheduledTimes.set(body.bot_id, body.scheduled_time);
          }
        } catch {
          // not a launch request
        }
      });
    });
    this.#server.keepAliveTimeout = 120_000;
    this.#server.maxConnections = 10_000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const server = this.#server;
    this.#stop = onCleanup('no-op runtime', async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/launch`;
  }

  async stop(): Promise<void> {
    await this.#stop?.();
    this.#server = null;
  }
}
