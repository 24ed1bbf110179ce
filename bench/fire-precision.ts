// fire_precision (Rollcall): N bots all due in the same second, fired by the real server process
// into the no-op runtime. Lateness = arrival at the runtime minus the due second.
import { sql } from 'kysely';
import type { Engine } from '../src/db/database.ts';
import { createApiKey } from '../src/services/api-keys.ts';
import { migrate } from '../src/db/migrator.ts';
import { systemClock } from '../src/lib/clock.ts';
import { createBenchDatabase } from './lib/databases.ts';
import { NoopRuntime } from './lib/noop-runtime.ts';
import { seed } from './lib/seed.ts';
import { profilePath, request, startServer } from './lib/server.ts';
import { monotonicUs, type ProfileWindow } from './lib/profile.ts';
import { latenessOf, waitUntil, wholeSecondAfter, type Lateness } from './lib/stats.ts';

export interface FireOptions {
  n: number;
  profileDir: string | null;
  log: (line: string) => void;
}

/** How far ahead the due second is set once the server is ready: past one idle poll (5 s) plus the 2 s claim lookahead. */
const LEAD_MS = 9000;

export interface RollcallFiring extends Lateness {
  repeats: number;
  seed_ms: number;
  /**
   * The server's own view (rollcall_fire_lateness_seconds: due time until the dispatcher hands
   * the launch to the runtime client), as cumulative counts per bucket bound in ms. Set beside
   * the arrival figures it tells the database decision apart from the HTTP leg.
   */
  server_fired_within_ms: Record<string, number>;
  /** Launches arriving in each 100 ms after the due second. */
  arrivals_per_100ms: number[];
  /** From just before the due second to the last arrival: the stretch of the server profile to summarise. */
  profile_window: ProfileWindow;
}

export async function measureRollcallFiring(engine: Engine, options: FireOptions): Promise<RollcallFiring> {
  const db = await createBenchDatabase(engine, `fire-${engine}`);
  const runtime = new NoopRuntime();
  try {
    const database = await db.open();
    let userId: string;
    try {
      await migrate(database.db, database.engine);
      ({ userId } = await createApiKey(database.db, 'bench', systemClock));
    } finally {
      await database.close();
    }
    // Seeded an hour out; moved to the common due second once the server is up.
    const parked = Date.now() + 3_600_000;
    const seeded = await seed(db, { userId, bots: options.n, startMsOf: () => parked + 180_000 });
    options.log(`  seeded ${options.n} bots in ${Math.round(seeded.ms)} ms`);

    const runtimeUrl = await runtime.start();
    const server = await startServer({
      databaseUrl: db.url,
      cwd: db.dir,
      env: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: runtimeUrl },
      ...(options.profileDir ? { cpuProfile: profilePath(options.profileDir, `fire_precision-${engine}`) } : {}),
    });
    let dueMs: number;
    let serverView: Record<string, number> = {};
    try {
      dueMs = wholeSecondAfter(LEAD_MS);
      const moved = await db.open();
      try {
        await moved.db.transaction().execute(async (trx) => {
          await trx.updateTable('schedules').set({ due_at_ms: dueMs }).execute();
          await trx.updateTable('bots').set({ join_at_ms: dueMs }).execute();
          // Tell the server now (PostgreSQL); on SQLite its next idle poll (at most 5 s) finds them.
          if (engine === 'postgres') await sql`select pg_notify('rollcall_schedules', '')`.execute(trx);
        });
      } finally {
        await moved.close();
      }
      if (Date.now() > dueMs - 3000) options.log('  warning: the due second was set less than 3 s ahead');
      await waitUntil(() => runtime.arrivals.size >= options.n, dueMs - Date.now() + 120_000, 50);
      serverView = await firedWithin(server.baseUrl);
    } finally {
      await server.stop();
    }
    const late = latenessOf(options.n, [...runtime.arrivals.values()], dueMs);
    const mismatched = [...runtime.scheduledTimes.values()].filter((t) => Date.parse(t) !== dueMs).length;
    if (mismatched > 0) options.log(`  warning: ${mismatched} launch requests carried a scheduled_time other than the due second`);
    const timeline: number[] = [];
    for (const at of runtime.arrivals.values()) {
      const slot = Math.max(0, Math.floor((at - dueMs) / 100));
      while (timeline.length <= slot) timeline.push(0);
      timeline[slot]!++;
    }
    const lastArrival = Math.max(dueMs, ...runtime.arrivals.values());
    const toMonotonic = (epochMs: number) => monotonicUs() - (Date.now() - epochMs) * 1000;
    const profileWindow = { fromUs: toMonotonic(dueMs - 200), toUs: toMonotonic(lastArrival + 200) };
    return { ...late, profile_window: profileWindow, repeats: runtime.requests - runtime.arrivals.size, seed_ms: Math.round(seeded.ms), server_fired_within_ms: serverView, arrivals_per_100ms: timeline };
  } finally {
    await runtime.stop();
    await db.drop();
  }
}

/** Cumulative bucket counts of rollcall_fire_lateness_seconds from GET /metrics, keyed by bound in ms. */
async function firedWithin(baseUrl: string): Promise<Record<string, number>> {
  const answer = await request('GET', `${baseUrl}/metrics`).catch(() => null);
  if (!answer || answer.status !== 200 || typeof answer.body !== 'string') return {};
  const out: Record<string, number> = {};
  for (const match of answer.body.matchAll(/^rollcall_fire_lateness_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) {
    const bound = match[1] === '+Inf' ? 'inf' : String(Math.round(Number(match[1]) * 1000));
    out[bound] = Number(match[2]);
  }
  return out;
}
