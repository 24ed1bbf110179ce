// The same jobs through pg-boss (PostgreSQL) and BullMQ (Redis), on the same servers and in the
// same run as Rollcall, measured two ways:
// - 'http': the handler builds the launch request Rollcall would send for the job's bot (the same
//   function, from the same row shapes) and POSTs it to the no-op runtime with Rollcall's own
//   client (lib/launch-client.ts: same library, pool, timeout and signing); lateness is the
//   arrival at the runtime minus the job's due time, exactly as for Rollcall.
// - 'handler': lateness is the handler's start, inside the worker, with no HTTP leg (which
//   favours them; kept beside the HTTP figures because earlier results used it).
// Due times are given as offsets from a base instant the measurement picks (all 0: a burst at
// one instant; spread: the steady load).
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { PgBoss } from 'pg-boss';
import { randomToken } from '../src/lib/ids.ts';
import { onCleanup } from './lib/cleanup.ts';
import { createBenchDatabase } from './lib/databases.ts';
import { createLaunchClient, launchRequestOf } from './lib/launch-client.ts';
import { startNoopRuntime, type NoopRuntime, type RuntimeMode } from './lib/noop-runtime.ts';
import { launchJob, type LaunchJob } from './lib/seed.ts';
import { arrivalsPer100ms, latenessFrom, waitUntil, wholeSecondAfter, type Lateness } from './lib/stats.ts';

export const REDIS = { host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };

/**
 * pg-boss at its fastest documented setting (work() options,
 * https://github.com/timgit/pg-boss/blob/12.37.0/docs/api/workers.md): the minimum base poll
 * (0.5 s; delayed jobs never NOTIFY, so polling is what finds them), big fetches, fetching again
 * at once while a fetch comes back full, and several local workers polling independently.
 */
export const PG_BOSS_WORK = { pollingIntervalSeconds: 0.5, batchSize: 100, burstWhenBatchFull: true, localConcurrency: 4 } as const;

/**
 * BullMQ: a high local concurrency factor, as its docs advise for jobs that wait on I/O such as an
 * HTTP call (https://docs.bullmq.io/guide/workers/concurrency).
 */
export const BULLMQ_CONCURRENCY = 100;

export type PeerMode = 'http' | 'handler';

export interface PeerOptions {
  mode: PeerMode;
  /** Per job: how long after the base instant it is due (ms). */
  offsetsMs: readonly number[];
  runtime: RuntimeMode;
  log: (line: string) => void;
}

export interface PeerResult extends Lateness {
  /** Where lateness was taken: at the runtime ('runtime arrival') or in the handler ('handler start'). */
  measured_at: 'runtime arrival' | 'handler start';
  settings: Record<string, unknown>;
  enqueue_ms: number;
  /** Launch requests sent more than once (HTTP only). */
  repeats: number;
  /** Launches the client reported as failed (HTTP only). */
  failed: number;
  arrivals_per_100ms: number[];
}

/** Jobs, their due times, and where their arrivals are collected; shared by both peers. */
class PeerRun {
  readonly n: number;
  readonly dueMs: number[];
  readonly jobs: (LaunchJob & { i: number })[];
  readonly #handlerStarts = new Map<number, number>();
  readonly #botIndex = new Map<string, number>();
  readonly #runtime: NoopRuntime | null;
  readonly #client: ReturnType<typeof createLaunchClient> | null;
  failed = 0;

  private constructor(options: PeerOptions, baseMs: number, runtime: NoopRuntime | null) {
    this.n = options.offsetsMs.length;
    this.dueMs = options.offsetsMs.map((o) => baseMs + o);
    this.jobs = this.dueMs.map((due, i) => ({ ...launchJob('usr_bench', i, due), i }));
    for (const job of this.jobs) this.#botIndex.set(job.bot.id, job.i);
    this.#runtime = runtime;
    this.#client = runtime ? createLaunchClient(runtime.url('/launch')) : null;
  }

  static async start(options: PeerOptions, leadMs: number): Promise<PeerRun> {
    const runtime = options.mode === 'http' ? await startNoopRuntime(options.runtime) : null;
    return new PeerRun(options, wholeSecondAfter(leadMs), runtime);
  }

  /** The handler's work for one job: note its start, or launch it over HTTP. */
  async handle(job: LaunchJob & { i: number }): Promise<void> {
    if (!this.#client) {
      if (!this.#handlerStarts.has(job.i)) this.#handlerStarts.set(job.i, Date.now());
      return;
    }
    // A failed launch is counted, not thrown: throwing would fail (and retry) the whole batch.
    const outcome = await this.#client.launch(launchRequestOf(job));
    if (!outcome.ok) this.failed++;
  }

  async arrived(): Promise<number> {
    return this.#runtime ? this.#runtime.count() : this.#handlerStarts.size;
  }

  async waitForAll(): Promise<void> {
    const lastDue = Math.max(...this.dueMs);
    await waitUntil(async () => (await this.arrived()) >= this.n, lastDue - Date.now() + 120_000, 50);
  }

  async result(settings: Record<string, unknown>, enqueueMs: number): Promise<PeerResult> {
    let late: number[];
    let repeats = 0;
    if (this.#runtime) {
      const seen = await this.#runtime.snapshot();
      late = seen.arrivals.map(([botId, at]) => at - this.dueMs[this.#botIndex.get(botId)!]!);
      repeats = seen.requests - seen.arrivals.length;
    } else {
      late = [...this.#handlerStarts].map(([i, at]) => at - this.dueMs[i]!);
    }
    return {
      ...latenessFrom(this.n, late),
      measured_at: this.#runtime ? 'runtime arrival' : 'handler start',
      settings,
      enqueue_ms: Math.round(enqueueMs),
      repeats,
      failed: this.failed,
      arrivals_per_100ms: arrivalsPer100ms(late),
    };
  }

  async close(): Promise<void> {
    await this.#client?.close();
    await this.#runtime?.stop();
  }
}

export async function measurePgBoss(options: PeerOptions): Promise<PeerResult> {
  const db = await createBenchDatabase('postgres', 'pgboss');
  const boss = new PgBoss({ connectionString: db.url, max: 10 });
  boss.on('error', (error: Error) => options.log(`  pg-boss error: ${error.message}`));
  const stop = onCleanup('pg-boss', () => boss.stop({ graceful: false, timeout: 5000 }).catch(() => {}));
  // Insert time grows with n; leave room so that every job is in before the first is due.
  const run = await PeerRun.start(options, 4000 + options.offsetsMs.length * 0.6);
  try {
    await boss.start();
    const queue = `bench_fire_${randomToken(6).toLowerCase()}`;
    await boss.createQueue(queue);
    const started = performance.now();
    for (let i = 0; i < run.n; i += 1000) {
      const chunk = run.jobs.slice(i, i + 1000).map((job) => ({ data: job, startAfter: new Date(run.dueMs[job.i]!) }));
      await boss.insert(queue, chunk);
    }
    const enqueueMs = performance.now() - started;
    if (Date.now() > Math.min(...run.dueMs) - 1000) options.log('  warning: pg-boss jobs were still being inserted within 1 s of the first due time');
    await boss.work<LaunchJob & { i: number }>(queue, PG_BOSS_WORK, async (jobs) => {
      await Promise.all(jobs.map((job) => run.handle(job.data)));
    });
    await run.waitForAll();
    return await run.result({ ...PG_BOSS_WORK }, enqueueMs);
  } finally {
    await stop();
    await run.close();
    await db.drop();
  }
}

export async function measureBullMq(options: PeerOptions): Promise<PeerResult> {
  // A prefix of our own: nothing else in this Redis is touched, and every key goes afterwards.
  const prefix = `rcbench_${randomToken(10)}`;
  const name = 'fire';
  const queue = new Queue(name, { connection: { ...REDIS, maxRetriesPerRequest: null }, prefix });
  let worker: Worker | null = null;
  const cleanup = onCleanup(`BullMQ prefix ${prefix}`, async () => {
    await worker?.close(true).catch(() => {});
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close().catch(() => {});
    const redis = new Redis({ ...REDIS, lazyConnect: true });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = nextCursor;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  const run = await PeerRun.start(options, 4000 + options.offsetsMs.length * 0.3);
  try {
    await queue.waitUntilReady();
    const started = performance.now();
    for (let i = 0; i < run.n; i += 1000) {
      // delay is relative: computed at add time, as BullMQ's docs say to for an absolute time
      // (https://docs.bullmq.io/guide/jobs/delayed).
      const now = Date.now();
      await queue.addBulk(run.jobs.slice(i, i + 1000).map((job) => ({ name, data: job, opts: { delay: run.dueMs[job.i]! - now, removeOnComplete: true, removeOnFail: true } })));
    }
    const enqueueMs = performance.now() - started;
    if (Date.now() > Math.min(...run.dueMs) - 1000) options.log('  warning: BullMQ jobs were still being added within 1 s of the first due time');
    worker = new Worker<LaunchJob & { i: number }>(name, (job) => run.handle(job.data), { connection: { ...REDIS, maxRetriesPerRequest: null }, prefix, concurrency: BULLMQ_CONCURRENCY });
    worker.on('error', (error) => options.log(`  BullMQ worker error: ${error.message}`));
    await run.waitForAll();
    return await run.result({ concurrency: BULLMQ_CONCURRENCY }, enqueueMs);
  } finally {
    await cleanup();
    await run.close();
  }
}
