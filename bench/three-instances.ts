// three_instances: three Rollcall server processes on one PostgreSQL database and one burst of N
// bots due at the same instant. Each server launches to its own runtime path (/launch/a, /b, /c),
// so the runtime counts each instance's share; a bot launched twice (by one instance or by two)
// shows as a repeat. Set beside one instance alone on the same burst size.
import { burstFigures, type RollcallBurst } from './fire-precision.ts';
import type { RuntimeMode } from './lib/noop-runtime.ts';
import type { ProfileWindow } from './lib/profile.ts';
import { runRollcallFiring } from './lib/rollcall-firing.ts';

export const INSTANCES = ['a', 'b', 'c'] as const;

export interface ThreeInstances extends Omit<RollcallBurst, 'server_fired_within_ms'> {
  /** Launches per instance (first arrivals, by the path the instance launches to). */
  shares: Record<string, number>;
  /** Each instance's own fire-lateness histogram. */
  server_fired_within_ms: Record<string, Record<string, number>>;
  /** Profile names of the three servers (when profiling). */
  profiles: string[];
}

export async function measureThreeInstances(options: { n: number; runtime: RuntimeMode; profileDir: string | null; log: (line: string) => void }): Promise<ThreeInstances & { profile_window: ProfileWindow }> {
  const run = await runRollcallFiring({
    engine: 'postgres',
    offsetsMs: new Array<number>(options.n).fill(0),
    instances: INSTANCES,
    runtime: options.runtime,
    profileDir: options.profileDir,
    profileName: 'three_instances',
    log: options.log,
  });
  const shares: Record<string, number> = {};
  for (const view of run.instances) shares[view.name] = 0;
  const nameOfPath = new Map(run.instances.map((v) => [v.path, v.name]));
  for (const [, , path] of run.seen.arrivals) {
    const name = nameOfPath.get(path) ?? path;
    shares[name] = (shares[name] ?? 0) + 1;
  }
  return {
    ...burstFigures(run),
    shares,
    server_fired_within_ms: Object.fromEntries(run.instances.map((v) => [v.name, v.server_fired_within_ms])),
    profiles: run.instances.map((v) => v.profile),
    profile_window: run.profile_window,
  };
}
