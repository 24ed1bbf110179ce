// scale: a database holding N pending schedules (bulk-loaded in the service's own row shapes, due
// over the next 30 days), then the real server started on it: memory, start-up time, and the
// latency of listing upcoming bots and of scheduling one more, one request at a time.
import { statSync } from 'node:fs';
import { sql } from 'kysely';
import type { Engine } from '../src/db/database.ts';
import { createBenchDatabase } from './lib/databases.ts';
import { checkSeedShape, seed } from './lib/seed.ts';
import { createApiKeyWithCli, request, rssMb, startServer } from './lib/server.ts';
import { percentile, round } from './lib/stats.ts';

export interface ScaleResult {
  schedules: number;
  rss_mb: number;
  rss_after_mb: number;
  ready_ms: number;
  list_p50_ms: number;
  list_p99_ms: number;
  /** Which request list_* measured: the scheduled-bots list, or a bot's detail if that route is missing. */
  list_route: string;
  schedule_p50_ms: number;
  schedule_p99_ms: number;
  seed_s: number;
  database_mb: number;
  shape_warnings: string[];
}

export async function measureScale(engine: Engine, options: { n: number; samples: number; log: (line: string) => void }): Promise<ScaleResult> {
  const db = await createBenchDatabase(engine, `scale-${engine}`);
  try {
    const key = await createApiKeyWithCli(db.url, db.dir);
    const database = await db.open();
    const user = await database.db.selectFrom('users').select('id').where('name', '=', 'bench').executeTakeFirstOrThrow();
    await database.close();
    const shapeWarnings = await checkSeedShape(db, user.id);
    for (const warning of shapeWarnings) options.log(`  seed shape differs from the service: ${warning}`);

    const from = Date.now() + 3_600_000;
    const span = 30 * 86_400_000;
    let lastReport = 0;
    const seeded = await seed(db, {
      userId: user.id,
      bots: options.n,
      spareEvents: options.samples,
      startMsOf: (i) => from + Math.floor((i / options.n) * span),
      batchSize: 10_000,
      onProgress: (done) => {
        if (done - lastReport >= 250_000) {
          lastReport = done;
          options.log(`  seeded ${done}`);
        }
      },
    });
    options.log(`  seeded ${options.n} pending schedules in ${round(seeded.ms / 1000)} s`);

    const server = await startServer({ databaseUrl: db.url, cwd: db.dir, readyTimeoutMs: 300_000 });
    try {
      const rssReady = rssMb(server.pid);
      options.log(`  ready in ${Math.round(server.readyMs)} ms, RSS ${rssReady} MB`);

      let listRoute = '/api/v1/calendar/scheduled?limit=100';
      const probe = await request('GET', `${server.baseUrl}${listRoute}`, { auth: key });
      if (probe.status === 404) {
        listRoute = '/api/v1/bots/{id}';
        options.log('  GET /calendar/scheduled is missing: measuring GET /bots/{id} instead');
      } else if (probe.status !== 200 || !Array.isArray(probe.body.scheduled_bots) || probe.body.scheduled_bots.length !== 100) {
        throw new Error(`GET ${listRoute}: ${probe.status} ${JSON.stringify(probe.body).slice(0, 300)}`);
      }
      const listTimes: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        const path = listRoute.includes('{id}') ? `/api/v1/bots/${seeded.botIds[Math.floor(Math.random() * seeded.botIds.length)]!}` : listRoute;
        const answer = await request('GET', `${server.baseUrl}${path}`, { auth: key });
        if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status}`);
        listTimes.push(answer.ms);
      }
      const scheduleTimes: number[] = [];
      for (const [i, eventId] of seeded.spareEventIds.entries()) {
        const answer = await request('POST', `${server.baseUrl}/api/v1/calendar/schedule/${eventId}`, { auth: key, body: { deduplication_key: `more-${i}`, bot_config: {} } });
        if (answer.status !== 200 || answer.body.updated_existing !== false) throw new Error(`scheduling one more: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        scheduleTimes.push(answer.ms);
      }
      const rssAfter = rssMb(server.pid);
      return {
        schedules: options.n,
        rss_mb: rssReady,
        rss_after_mb: rssAfter,
        ready_ms: Math.round(server.readyMs),
        list_p50_ms: round(percentile(listTimes, 50)),
        list_p99_ms: round(percentile(listTimes, 99)),
        list_route: listRoute,
        schedule_p50_ms: round(percentile(scheduleTimes, 50)),
        schedule_p99_ms: round(percentile(scheduleTimes, 99)),
        seed_s: round(seeded.ms / 1000),
        database_mb: await databaseSizeMb(db.engine, db.location, db.open),
        shape_warnings: shapeWarnings,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await db.drop();
  }
}

async function databaseSizeMb(engine: Engine, location: string, open: () => Promise<import('../src/db/database.ts').Database>): Promise<number> {
  if (engine === 'sqlite') {
    let bytes = statSync(location).size;
    try {
      bytes += statSync(`${location}-wal`).size;
    } catch {
      // no WAL file
    }
    return round(bytes / 1048576);
  }
  const database = await open();
  try {
    const row = await sql<{ bytes: number }>`select pg_database_size(current_database())::bigint as bytes`.execute(database.db);
    return round(Number(row.rows[0]!.bytes) / 1048576);
  } finally {
    await database.close();
  }
}
