// fire_precision (Rollcall): N bots all due at the same instant (a whole second), fired by the
// real server process into the no-op runtime. Lateness = arrival at the runtime minus the due
// instant. Also the shared shapes of the steady load and the three-instance burst.
import type { Engine } from '../src/db/database.ts';
import type { RuntimeMode } from './lib/noop-runtime.ts';
import type { ProfileWindow } from './lib/profile.ts';
import { runRollcallFiring, type RollcallFiringRun } from './lib/rollcall-firing.ts';
import { arrivalsPer100ms, latenessFrom, percentile, round, type Lateness } from './lib/stats.ts';

export interface FireOptions {
  n: number;
  runtime: RuntimeMode;
  profileDir: string | null;
  log: (line: string) => void;
}

export interface RollcallBurst extends Lateness {
  /** Launch requests sent more than once (must be 0). */
  repeats: number;
  /** Every launch request carried a Standard Webhooks signature. */
  signed: boolean;
  seed_ms: number;
  /**
   * The server's own view (rollcall_fire_lateness_seconds: due time until the dispatcher hands
   * the launch to the runtime client), as cumulative counts per bucket bound in ms. Set beside
   * the arrival figures it tells the database decision apart from the HTTP leg.
   */
  server_fired_within_ms: Record<string, number>;
  /** Launches arriving in each 100 ms after the due instant. */
  arrivals_per_100ms: number[];
  /** Schedules still claimed or launching when the server stopped (0: every result was written). */
  unsettled: number;
}

export async function measureRollcallBurst(engine: Engine, options: FireOptions): Promise<RollcallBurst & { profile_window: ProfileWindow }> {
  const run = await runRollcallFiring({
    engine,
    offsetsMs: new Array<number>(options.n).fill(0),
    instances: [''],
    runtime: options.runtime,
    profileDir: options.profileDir,
    profileName: `fire_precision-${engine}`,
    log: options.log,
  });
  return { ...burstFigures(run), server_fired_within_ms: run.instances[0]!.server_fired_within_ms, profile_window: run.profile_window };
}

/** The figures of a burst from what the runtime saw. */
export function burstFigures(run: RollcallFiringRun): Omit<RollcallBurst, 'server_fired_within_ms'> {
  return {
    ...latenessFrom(run.n, run.late),
    repeats: run.seen.requests - run.seen.arrivals.length,
    signed: run.seen.requests > 0 && run.seen.signed === run.seen.requests,
    seed_ms: run.seed_ms,
    arrivals_per_100ms: arrivalsPer100ms(run.late),
    unsettled: run.unsettled,
  };
}

export interface SteadyFigures {
  n: number;
  window_s: number;
  launched: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Arrivals before their due time (must be 0). */
  early: number;
  repeats: number;
}

/** Lateness figures of a steady load (each arrival against its own due time). */
export function steadyFigures(n: number, windowMs: number, late: readonly number[], repeats: number): SteadyFigures {
  return {
    n,
    window_s: round(windowMs / 1000, 0),
    launched: late.length,
    p50_ms: round(percentile(late, 50)),
    p99_ms: round(percentile(late, 99)),
    max_ms: late.length > 0 ? round(Math.max(...late)) : Number.NaN,
    early: late.filter((l) => l < 0).length,
    repeats,
  };
}
