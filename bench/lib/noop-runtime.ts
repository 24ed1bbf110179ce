// The no-op bot runtime: answers 202 at once and notes when each bot's launch arrived, and on
// which path (each Rollcall instance of a multi-instance run gets its own path). It runs in a
// process of its own by default, so that a scheduler whose client runs in the benchmark process
// (pg-boss, BullMQ, the raw limit) does not share an event loop with the runtime that times it;
// `--runtime=inline` runs it inside the benchmark process instead (see docs/performance.md for
// what that changes).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.ts';

export type RuntimeMode = 'process' | 'inline';

/** What the runtime saw, taken at the end of a measurement. */
export interface RuntimeSnapshot {
  /** First arrival per bot: [bot id, epoch ms, path]. */
  arrivals: [string, number, string][];
  /** Every launch request, repeats included. */
  requests: number;
  /** Launch requests per path, repeats included. */
  requestsByPath: Record<string, number>;
  /** Requests that carried a Standard Webhooks signature header. */
  signed: number;
  /** Requests whose body was not a launch request with a bot id. */
  malformed: number;
}

/** The recorder behind the HTTP server; the same code runs inline and in the child process. */
export class NoopRuntimeServer {
  readonly #firstArrival = new Map<string, { at: number; path: string }>();
  #requests = 0;
  #requestsByPath: Record<string, number> = {};
  #signed = 0;
  #malformed = 0;
  #server: Server | null = null;

  /** Listens on an ephemeral port of 127.0.0.1; answers the base URL (`http://127.0.0.1:port`). */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      // Arrival = the request's headers were read: the moment the launch reached the runtime.
      const at = Date.now();
      const path = req.url ?? '';
      const isSigned = req.headers['webhook-signature'] !== undefined;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Answer first: the runtime's own bookkeeping must not delay the next launch.
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"accepted":true}');
        this.#requests++;
        this.#requestsByPath[path] = (this.#requestsByPath[path] ?? 0) + 1;
        if (isSigned) this.#signed++;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { action?: string; bot_id?: string };
          if (body.action !== 'launch' || typeof body.bot_id !== 'string') {
            this.#malformed++;
            return;
          }
          if (!this.#firstArrival.has(body.bot_id)) this.#firstArrival.set(body.bot_id, { at, path });
        } catch {
          this.#malformed++;
        }
      });
    });
    server.keepAliveTimeout = 120_000;
    server.maxConnections = 10_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Distinct bots arrived so far. */
  count(): number {
    return this.#firstArrival.size;
  }

  snapshot(): RuntimeSnapshot {
    return {
      arrivals: [...this.#firstArrival].map(([botId, { at, path }]) => [botId, at, path]),
      requests: this.#requests,
      requestsByPath: { ...this.#requestsByPath },
      signed: this.#signed,
      malformed: this.#malformed,
    };
  }

  /** Forgets everything seen so far (between the attempts of one measurement). */
  reset(): void {
    this.#firstArrival.clear();
    this.#requests = 0;
    this.#requestsByPath = {};
    this.#signed = 0;
    this.#malformed = 0;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The benchmark's handle on a runtime, wherever it runs. */
export interface NoopRuntime {
  readonly mode: RuntimeMode;
  /** The launch URL for `path` (`/launch`, `/launch/a`, ...). */
  url(path?: string): string;
  count(): Promise<number>;
  snapshot(): Promise<RuntimeSnapshot>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNoopRuntime(mode: RuntimeMode): Promise<NoopRuntime> {
  return mode === 'inline' ? startInline() : startChild();
}

async function startInline(): Promise<NoopRuntime> {
  const server = new NoopRuntimeServer();
  const base = await server.listen();
  const stop = onCleanup('no-op runtime', () => server.close());
  return {
    mode: 'inline',
    url: (path = '/launch') => `${base}${path}`,
    count: async () => server.count(),
    snapshot: async () => server.snapshot(),
    reset: async () => server.reset(),
    stop,
  };
}

type Reply = { id: number; value: unknown };

async function startChild(): Promise<NoopRuntime> {
  const entry = new URL('./noop-runtime-process.ts', import.meta.url).pathname;
  // No inherited --cpu-prof or inspector flags: the runtime is not what is measured.
  const child: ChildProcess = fork(entry, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited = false;
  child.on('message', (message: Reply) => {
    waiting.get(message.id)?.resolve(message.value);
    waiting.delete(message.id);
  });
  child.on('exit', () => {
    exited = true;
    for (const [, { reject }] of waiting) reject(new Error('the no-op runtime process exited'));
    waiting.clear();
  });
  const ask = <T>(command: string): Promise<T> => {
    if (exited) return Promise.reject(new Error('the no-op runtime process exited'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, command });
    });
  };
  const stop = onCleanup(`no-op runtime pid ${child.pid}`, async () => {
    if (exited) return;
    const gone = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  });
  const base = await ask<string>('listen');
  return {
    mode: 'process',
    url: (path = '/launch') => `${base}${path}`,
    count: () => ask<number>('count'),
    snapshot: () => ask<RuntimeSnapshot>('snapshot'),
    reset: () => ask<void>('reset'),
    stop,
  };
}
