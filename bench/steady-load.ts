// steady: the realistic case. N bots due at random instants, uniform over a window (60 s full,
// 20 s quick), fired by the real server into the no-op runtime; the same offsets through pg-boss
// and BullMQ over HTTP in the same run. Lateness = arrival minus each bot's own due time.
import type { Engine } from '../src/db/database.ts';
import { measureBullMq, measurePgBoss } from './competitors.ts';
import { steadyFigures, type SteadyFigures } from './fire-precision.ts';
import type { RuntimeMode } from './lib/noop-runtime.ts';
import type { ProfileWindow } from './lib/profile.ts';
import { runRollcallFiring } from './lib/rollcall-firing.ts';

export interface SteadyOptions {
  runtime: RuntimeMode;
  profileDir: string | null;
  log: (line: string) => void;
}

/** N offsets drawn uniformly from [0, windowMs), whole ms (due times are stored as epoch ms). */
export function uniformOffsets(n: number, windowMs: number): number[] {
  return Array.from({ length: n }, () => Math.floor(Math.random() * windowMs));
}

export async function measureRollcallSteady(engine: Engine, offsetsMs: readonly number[], windowMs: number, options: SteadyOptions): Promise<SteadyFigures & { profile_window: ProfileWindow; unsettled: number }> {
  const run = await runRollcallFiring({
    engine,
    offsetsMs,
    instances: [''],
    runtime: options.runtime,
    profileDir: options.profileDir,
    profileName: `steady-${engine}`,
    log: options.log,
  });
  return { ...steadyFigures(run.n, windowMs, run.late, run.seen.requests - run.seen.arrivals.length), unsettled: run.unsettled, profile_window: run.profile_window };
}

export async function measurePeerSteady(peer: 'pg_boss' | 'bullmq', offsetsMs: readonly number[], windowMs: number, options: SteadyOptions): Promise<SteadyFigures & { settings: Record<string, unknown> }> {
  const measure = peer === 'pg_boss' ? measurePgBoss : measureBullMq;
  const result = await measure({ mode: 'http', offsetsMs, runtime: options.runtime, log: options.log });
  return {
    n: result.n,
    window_s: Math.round(windowMs / 1000),
    launched: result.launched,
    p50_ms: result.p50_ms,
    p99_ms: result.p99_ms,
    max_ms: result.max_ms,
    early: result.early,
    repeats: result.repeats,
    settings: result.settings,
  };
}
