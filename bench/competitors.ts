// The same N one-shot jobs, all due in the same second, through pg-boss (PostgreSQL) and BullMQ
// (Redis), on the same servers and in the same run as Rollcall. Lateness = handler start minus
// the due second, taken inside the worker (no HTTP hop, which if anything favours them).
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { PgBoss } from 'pg-boss';
import { randomToken } from '../src/lib/ids.ts';
import { onCleanup } from './lib/cleanup.ts';
import { createBenchDatabase } from './lib/databases.ts';
import { latenessOf, waitUntil, wholeSecondAfter, type Lateness } from './lib/stats.ts';

export const REDIS = { host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };

/**
 * pg-boss at its fastest documented setting: the minimum base poll (0.5 s; delayed jobs never
 * NOTIFY, so polling is what finds them), big fetches, and fetching again at once while a fetch
 * comes back full, with several local workers polling independently.
 */
export const PG_BOSS_WORK = { pollingIntervalSeconds: 0.5, batchSize: 100, burstWhenBatchFull: true, localConcurrency: 4 } as const;

/** BullMQ: high worker concurrency, as its docs suggest for I/O-bound jobs. */
export const BULLMQ_CONCURRENCY = 100;

export interface CompetitorResult extends Lateness {
  settings: Record<string, unknown>;
  enqueue_ms: number;
}

export async function measurePgBoss(n: number, log: (line: string) => void): Promise<CompetitorResult> {
  const db = await createBenchDatabase('postgres', 'pgboss');
  const boss = new PgBoss({ connectionString: db.url, max: 10 });
  boss.on('error', (error: Error) => log(`  pg-boss error: ${error.message}`));
  const stop = onCleanup('pg-boss', () => boss.stop({ graceful: false, timeout: 5000 }).catch(() => {}));
  try {
    await boss.start();
    const queue = `bench_fire_${randomToken(6).toLowerCase()}`;
    await boss.createQueue(queue);
    // Insert time grows with n; leave room so that every job is in before the due second.
    const dueMs = wholeSecondAfter(4000 + n * 0.6);
    const started = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ data: { i: i + j }, startAfter: new Date(dueMs) }));
      await boss.insert(queue, chunk);
    }
    const enqueueMs = performance.now() - started;
    if (Date.now() > dueMs - 1000) log('  warning: pg-boss jobs were still being inserted within 1 s of the due time');
    const arrivals = new Map<number, number>();
    await boss.work<{ i: number }>(queue, PG_BOSS_WORK, async (jobs) => {
      const at = Date.now();
      for (const job of jobs) if (!arrivals.has(job.data.i)) arrivals.set(job.data.i, at);
    });
    await waitUntil(() => arrivals.size >= n, dueMs - Date.now() + 120_000, 50);
    return { ...latenessOf(n, [...arrivals.values()], dueMs), settings: { ...PG_BOSS_WORK }, enqueue_ms: Math.round(enqueueMs) };
  } finally {
    await stop();
    await db.drop();
  }
}

export async function measureBullMq(n: number, log: (line: string) => void): Promise<CompetitorResult> {
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
  try {
    await queue.waitUntilReady();
    const dueMs = wholeSecondAfter(4000 + n * 0.3);
    const started = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const count = Math.min(1000, n - i);
      // delay is relative: computed at add time, as BullMQ's docs say to for an absolute time.
      const delay = dueMs - Date.now();
      await queue.addBulk(Array.from({ length: count }, (_, j) => ({ name, data: { i: i + j }, opts: { delay, removeOnComplete: true, removeOnFail: true } })));
    }
    const enqueueMs = performance.now() - started;
    if (Date.now() > dueMs - 1000) log('  warning: BullMQ jobs were still being added within 1 s of the due time');
    const arrivals = new Map<number, number>();
    worker = new Worker<{ i: number }>(name, async (job) => {
      if (!arrivals.has(job.data.i)) arrivals.set(job.data.i, Date.now());
    }, { connection: { ...REDIS, maxRetriesPerRequest: null }, prefix, concurrency: BULLMQ_CONCURRENCY });
    worker.on('error', (error) => log(`  BullMQ worker error: ${error.message}`));
    await waitUntil(() => arrivals.size >= n, dueMs - Date.now() + 120_000, 50);
    return { ...latenessOf(n, [...arrivals.values()], dueMs), settings: { concurrency: BULLMQ_CONCURRENCY }, enqueue_ms: Math.round(enqueueMs) };
  } finally {
    await cleanup();
  }
}
