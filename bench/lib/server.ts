// Rollcall as a child process, exactly as an operator runs it (`node src/main.ts serve`), plus the
// small HTTP client the sequential measurements use.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from './cleanup.ts';
import { waitUntil } from './stats.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const run = promisify(execFile);

/** Settings every benchmark server gets; a measurement adds its own (runtime, ...). */
function baseEnv(databaseUrl: string, port: number): NodeJS.ProcessEnv {
  // Inherit PATH and the like, but none of Rollcall's own settings from the caller's shell (a
  // provider key left exported would stop every start, BOT_RUNTIME being none here).
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(PORT|HOST|DATABASE_URL|LOG_LEVEL|JOIN_|RUN_MODE|PUBLIC_URL|BOT_RUNTIME|BOT_PROVIDER_|OUTBOUND_|WEBHOOK_|RATE_LIMIT|DISPATCH_|CREDENTIALS_|CALENDAR_|GOOGLE_|MICROSOFT_|ROLLCALL_)/.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    // The per-key limit (600/min by default) would turn a load test into a test of the limiter.
    RATE_LIMIT_PER_MINUTE: '0',
    BOT_RUNTIME: 'none',
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `node src/main.ts keys create --user <name>`: migrates, creates the user, prints the key. */
export async function createApiKeyWithCli(databaseUrl: string, cwd: string, user = 'bench'): Promise<string> {
  const { stdout } = await run(process.execPath, [MAIN, 'keys', 'create', '--user', user], { env: baseEnv(databaseUrl, 0), cwd, timeout: 60_000 });
  const key = stdout.trim();
  if (!key) throw new Error('keys create printed no key');
  return key;
}

export interface ServerOptions {
  databaseUrl: string;
  /** Working directory (a temp dir, so that no ./.env of the caller is read). */
  cwd: string;
  env?: Record<string, string>;
  /** Write a V8 CPU profile to this file when the server exits. */
  cpuProfile?: string;
  readyTimeoutMs?: number;
}

export interface RunningServer {
  pid: number;
  baseUrl: string;
  /** Spawn until GET /readyz answered 200. */
  readyMs: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const nodeArgs: string[] = [];
  if (options.cpuProfile) {
    const dir = options.cpuProfile.slice(0, options.cpuProfile.lastIndexOf('/'));
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${options.cpuProfile.slice(dir.length + 1)}`);
  }
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'serve'], {
    env: { ...baseEnv(options.databaseUrl, port), ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString('utf8');
  });
  const stop = onCleanup(`server pid ${child.pid}`, () => stopChild(child));
  const baseUrl = `http://127.0.0.1:${port}`;
  const ready = await waitUntil(async () => {
    if (child.exitCode !== null) return true;
    const answer = await request('GET', `${baseUrl}/readyz`).catch(() => null);
    return answer?.status === 200;
  }, options.readyTimeoutMs ?? 120_000, 10);
  const readyMs = performance.now() - started;
  if (!ready || child.exitCode !== null) {
    await stop();
    throw new Error(`Rollcall did not become ready (exit ${child.exitCode}): ${stderr.slice(0, 2000)}`);
  }
  return { pid: child.pid!, baseUrl, readyMs, child, stop };
}

/** SIGTERM (a graceful stop writes the CPU profile), SIGKILL after 20 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface Answer {
  status: number;
  body: any;
  ms: number;
}

/** One HTTP request over a kept-alive connection; `ms` runs from sending to the end of the body. */
export function request(method: string, url: string, options: { auth?: string; body?: unknown; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = `Token ${options.auth}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const started = performance.now();
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body, ms });
      });
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${url}: no answer in time`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function profilePath(dir: string, name: string): string {
  return join(dir, `${name}.cpuprofile`);
}
