// schedule_api: POST /api/v1/calendar/schedule/{event_id} under autocannon against the real server
// process, at saturation and at half of that rate. Every request names a fresh event and key, so
// each one creates a bot (the expensive path), never an update. Then recurring, on the same server.
import autocannon from 'autocannon';
import type { Engine } from '../src/db/database.ts';
import { createBenchDatabase } from './lib/databases.ts';
import { seedEvents } from './lib/seed.ts';
import { createApiKeyWithCli, profilePath, startServer } from './lib/server.ts';
import { pacedLoad, type PacedResult } from './lib/paced-load.ts';
import { monotonicUs, type ProfileWindow } from './lib/profile.ts';
import { round } from './lib/stats.ts';
import { measureRawInsertRate, type RawInsertRate } from './raw-insert.ts';
import { measureRecurring, type RecurringResult } from './recurring.ts';

export interface LoadFigures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  seconds: number;
  connections: number;
  target_rps?: number;
}

export interface ScheduleApiResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  raw_txn_per_s: number;
  /** rps / raw_txn_per_s */
  fraction_of_raw: number;
  raw: RawInsertRate & { before_per_s: number; after_per_s: number; after_serial_per_s: number };
  saturation: LoadFigures;
  half_load: PacedResult;
  /** The saturation run: the stretch of the server's CPU profile that is summarised. */
  profile_window: ProfileWindow;
}

export interface ScheduleApiOptions {
  quick: boolean;
  profileDir: string | null;
  log: (line: string) => void;
}

const CONNECTIONS = 16;

export async function measureScheduleApi(engine: Engine, options: ScheduleApiOptions): Promise<{ api: ScheduleApiResult; recurring: RecurringResult }> {
  const seconds = options.quick ? 5 : 15;
  const db = await createBenchDatabase(engine, `api-${engine}`);
  try {
    const key = await createApiKeyWithCli(db.url, db.dir);
    const database = await db.open();
    const user = await database.db.selectFrom('users').select('id').where('name', '=', 'bench').executeTakeFirstOrThrow();
    await database.close();

    const raw = await measureRawInsertRate(db, options.quick ? 2 : 5);
    options.log(`  raw insert transactions: ${raw.per_s}/s (serial ${raw.serial_per_s}/s)`);

    // Enough fresh events for saturation and half load even if the server does the raw rate.
    const poolSize = Math.ceil(Math.min(Math.max(raw.per_s, 2000), 6000) * seconds * 1.6) + 2000;
    const firstStart = Date.now() + 2 * 86_400_000;
    const eventIds = await seedEvents(db, user.id, poolSize, (i) => firstStart + i * 60_000);
    let next = 0;

    let measured: { saturation: LoadFigures; halfLoad: PacedResult; recurring: RecurringResult; profileWindow: ProfileWindow };
    const server = await startServer({
      databaseUrl: db.url,
      cwd: db.dir,
      ...(options.profileDir ? { cpuProfile: profilePath(options.profileDir, `schedule_api-${engine}`) } : {}),
    });
    try {
      const nextRequest = () => {
        const index = next++;
        const eventId = eventIds[index % eventIds.length]!;
        return { path: `/api/v1/calendar/schedule/${eventId}`, body: JSON.stringify({ deduplication_key: `load-${index}`, bot_config: { bot_name: 'Bench' } }) };
      };
      const load = async (duration: number, cap: number): Promise<LoadFigures> => {
        let sent = 0;
        const started = performance.now();
        const result = await autocannon({
          url: server.baseUrl,
          connections: CONNECTIONS,
          duration,
          maxOverallRequests: cap,
          headers: { authorization: `Token ${key}`, 'content-type': 'application/json' },
          method: 'POST',
          requests: [{
            setupRequest: (req: any) => {
              sent++;
              return { ...req, ...nextRequest() };
            },
          }],
        });
        const wall = (performance.now() - started) / 1000;
        const ok = result['2xx'];
        if (next > eventIds.length) options.log(`  warning: the event pool (${eventIds.length}) ran out; later requests updated existing bots`);
        return {
          rps: round(ok / wall, 0),
          p50_ms: round(result.latency.p50, 1),
          p99_ms: round(result.latency.p99, 1),
          requests: sent,
          errors: result.non2xx + result.errors + result.timeouts,
          seconds: round(wall, 1),
          connections: CONNECTIONS,
        };
      };

      // Warm the JIT and the caches before anything is measured.
      await load(1, 1000);
      const remaining = () => eventIds.length - next;
      const saturationFrom = monotonicUs();
      const saturation = await load(seconds, Math.floor(remaining() * 0.6));
      const profileWindow = { fromUs: saturationFrom, toUs: monotonicUs() };
      options.log(`  saturation: ${saturation.rps} req/s, p50 ${saturation.p50_ms} ms, p99 ${saturation.p99_ms} ms, ${saturation.errors} errors`);
      const halfRate = Math.max(1, Math.round(saturation.rps / 2));
      // Half the measured saturation rate, evenly paced (see lib/paced-load.ts for why not autocannon's rate).
      const halfLoad = await pacedLoad({ baseUrl: server.baseUrl, auth: key, rate: halfRate, seconds, next: () => (remaining() > 0 ? nextRequest() : null) });
      options.log(`  half load (${halfRate}/s): ${halfLoad.rps} req/s, p50 ${halfLoad.p50_ms} ms, p99 ${halfLoad.p99_ms} ms, ${halfLoad.errors} errors`);

      const recurring = await measureRecurring(server, key, 20);
      options.log(`  recurring (52 occurrences): p50 ${recurring.p50_ms} ms`);
      measured = { saturation, halfLoad, recurring, profileWindow };
    } finally {
      await server.stop();
    }
    // The commit rate swings with other disk users on a shared machine: measure the ceiling again
    // after the load, and compare with the better of the two, so a bad moment cannot flatter us.
    const rawAfter = await measureRawInsertRate(db, options.quick ? 2 : 5);
    options.log(`  raw insert transactions after the load: ${rawAfter.per_s}/s (serial ${rawAfter.serial_per_s}/s)`);
    const ceiling = Math.max(raw.per_s, rawAfter.per_s);
    const { saturation, halfLoad, recurring, profileWindow } = measured;
    return {
      api: {
        rps: saturation.rps,
        p50_ms: saturation.p50_ms,
        p99_ms: saturation.p99_ms,
        raw_txn_per_s: ceiling,
        fraction_of_raw: round(saturation.rps / ceiling, 3),
        raw: { ...raw, before_per_s: raw.per_s, after_per_s: rawAfter.per_s, after_serial_per_s: rawAfter.serial_per_s },
        saturation,
        half_load: halfLoad,
        profile_window: profileWindow,
      },
      recurring,
    };
  } finally {
    await db.drop();
  }
}
