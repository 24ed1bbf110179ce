// Rollcall firing into the no-op runtime, the part every firing measurement shares: N bots seeded
// an hour out, one or more real server processes started on the database, then every bot's due
// time moved to a base instant plus its own offset (all 0: a burst at one instant; spread: a
// steady load), and the arrivals collected at the runtime. Each server launches to its own path
// of the runtime (`/launch/<instance>`), so the runtime tells the instances apart.
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../src/db/database.ts';
import type { Schema } from '../../src/db/schema.ts';
import { migrate } from '../../src/db/migrator.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createBenchDatabase } from './databases.ts';
import { runtimeEnv } from './launch-client.ts';
import { startNoopRuntime, type RuntimeMode, type RuntimeSnapshot } from './noop-runtime.ts';
import { monotonicUs, type ProfileWindow } from './profile.ts';
import { seed } from './seed.ts';
import { profilePath, request, startServer, type RunningServer } from './server.ts';
import { waitUntil, wholeSecondAfter } from './stats.ts';

/** How far ahead the base instant is set once the servers are ready: past one idle poll (5 s) plus the 2 s claim lookahead. */
const LEAD_MS = 9000;

export interface RollcallFiringOptions {
  engine: Engine;
  /** Per bot: how long after the base instant it is due (ms); the length is the number of bots. */
  offsetsMs: readonly number[];
  /** One server per name; '' is a single server launching to `/launch`. */
  instances: readonly string[];
  runtime: RuntimeMode;
  /** Profile each server into this directory (`--profile`), as `<profileName>[-<instance>]`. */
  profileDir: string | null;
  profileName: string;
  log: (line: string) => void;
}

export interface InstanceView {
  name: string;
  /** The runtime path this server launched to. */
  path: string;
  /** The server's own rollcall_fire_lateness_seconds histogram: cumulative counts per bound (ms). */
  server_fired_within_ms: Record<string, number>;
  /** The profile name of this server (when profiling). */
  profile: string;
}

export interface RollcallFiringRun {
  n: number;
  /** Due time per bot id (epoch ms). */
  dueMs: Map<string, number>;
  seen: RuntimeSnapshot;
  /** Arrival minus the bot's own due time, per arrived bot, in arrival order of the snapshot. */
  late: number[];
  instances: InstanceView[];
  seed_ms: number;
  /** Rows not yet written back as done when the servers stopped (0 once every launch was recorded). */
  unsettled: number;
  /** From just before the first due time to the last arrival, for the profile summary. */
  profile_window: ProfileWindow;
}

export async function runRollcallFiring(options: RollcallFiringOptions): Promise<RollcallFiringRun> {
  const n = options.offsetsMs.length;
  const db = await createBenchDatabase(options.engine, options.profileName.endsWith(options.engine) ? options.profileName : `${options.profileName}-${options.engine}`);
  const runtime = await startNoopRuntime(options.runtime);
  try {
    const database = await db.open();
    let userId: string;
    try {
      await migrate(database.db, database.engine);
      ({ userId } = await createApiKey(database.db, 'bench', systemClock));
    } finally {
      await database.close();
    }
    // Seeded an hour out; moved to their due times once the servers are up.
    const parked = Date.now() + 3_600_000;
    const seeded = await seed(db, { userId, bots: n, startMsOf: () => parked + 180_000 });
    options.log(`  seeded ${n} bots in ${Math.round(seeded.ms)} ms`);

    const servers: { name: string; path: string; profile: string; server: RunningServer }[] = [];
    const dueMs = new Map<string, number>();
    let unsettled = Number.NaN;
    const views: InstanceView[] = [];
    try {
      for (const name of options.instances) {
        const path = name ? `/launch/${name}` : '/launch';
        const profile = name ? `${options.profileName}-${name}` : options.profileName;
        const server = await startServer({
          databaseUrl: db.url,
          cwd: db.dir,
          env: runtimeEnv(runtime.url(path)),
          ...(options.profileDir ? { cpuProfile: profilePath(options.profileDir, profile) } : {}),
        });
        servers.push({ name, path, profile, server });
      }
      const baseMs = wholeSecondAfter(LEAD_MS);
      seeded.botIds.forEach((id, i) => dueMs.set(id, baseMs + options.offsetsMs[i]!));
      const moved = await db.open();
      try {
        await moveDueTimes(moved.db, options.engine, seeded.botIds, options.offsetsMs, baseMs);
      } finally {
        await moved.close();
      }
      const firstDue = Math.min(...dueMs.values());
      const lastDue = Math.max(...dueMs.values());
      if (Date.now() > firstDue - 3000) options.log('  warning: the first due time was set less than 3 s ahead');
      await waitUntil(async () => (await runtime.count()) >= n, lastDue - Date.now() + 120_000, 50);
      // Let every launch result be written, so that a launch sent twice would show up before the stop.
      const check = await db.open();
      try {
        await waitUntil(async () => (unsettled = await countUnsettled(check.db)) === 0, 10_000, 50);
      } finally {
        await check.close();
      }
      for (const { name, path, profile, server } of servers) views.push({ name, path, profile, server_fired_within_ms: await firedWithin(server.baseUrl) });
    } finally {
      for (const { server } of servers) await server.stop();
    }
    const seen = await runtime.snapshot();
    const late = seen.arrivals.map(([botId, at]) => at - (dueMs.get(botId) ?? Number.NaN));
    const firstDue = Math.min(...dueMs.values());
    const lastArrival = Math.max(firstDue, ...seen.arrivals.map(([, at]) => at));
    const toMonotonic = (epochMs: number) => monotonicUs() - (Date.now() - epochMs) * 1000;
    return {
      n,
      dueMs,
      seen,
      late,
      instances: views,
      seed_ms: Math.round(seeded.ms),
      unsettled,
      profile_window: { fromUs: toMonotonic(firstDue - 200), toUs: toMonotonic(lastArrival + 200) },
    };
  } finally {
    await runtime.stop();
    await db.drop();
  }
}

/** Sets every schedule's due time and bot's join time (one transaction), then wakes the servers. */
async function moveDueTimes(db: Kysely<Schema>, engine: Engine, botIds: readonly string[], offsetsMs: readonly number[], baseMs: number): Promise<void> {
  const isBurst = offsetsMs.every((o) => o === offsetsMs[0]);
  await db.transaction().execute(async (trx) => {
    if (isBurst) {
      const due = baseMs + (offsetsMs[0] ?? 0);
      await trx.updateTable('schedules').set({ due_at_ms: due }).execute();
      await trx.updateTable('bots').set({ join_at_ms: due }).execute();
    } else if (engine === 'postgres') {
      const dues = offsetsMs.map((o) => baseMs + o);
      await sql`update schedules set due_at_ms = v.due from unnest(${botIds}::text[], ${dues}::bigint[]) as v(bot_id, due) where schedules.bot_id = v.bot_id`.execute(trx);
      await sql`update bots set join_at_ms = v.due from unnest(${botIds}::text[], ${dues}::bigint[]) as v(bot_id, due) where bots.id = v.bot_id`.execute(trx);
    } else {
      for (const [i, botId] of botIds.entries()) {
        const due = baseMs + offsetsMs[i]!;
        await trx.updateTable('schedules').set({ due_at_ms: due }).where('bot_id', '=', botId).execute();
        await trx.updateTable('bots').set({ join_at_ms: due }).where('id', '=', botId).execute();
      }
    }
    // Tell the servers now (PostgreSQL); on SQLite the next idle poll (at most 5 s) finds the rows.
    if (engine === 'postgres') await sql`select pg_notify('rollcall_schedules', '')`.execute(trx);
  });
}

/** Schedules still held by a dispatcher (claimed or launching): their results are not written yet. */
async function countUnsettled(db: Kysely<Schema>): Promise<number> {
  const row = await db.selectFrom('schedules').select((eb) => eb.fn.countAll<number>().as('c')).where('state', 'in', ['claimed', 'launching']).executeTakeFirstOrThrow();
  return Number(row.c);
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
