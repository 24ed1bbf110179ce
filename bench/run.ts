// npm run bench [-- --quick] [--only=schedule_api,fire_precision,three_instances,steady,scale]
//   [--engines=sqlite,postgres] [--runtime=process|inline] [--profile[=dir]] [--out=file]
// Starts everything it measures (Rollcall processes on SQLite and PostgreSQL, a no-op bot runtime,
// pg-boss, BullMQ), cleans all of it up, writes bench/results/latest.json and prints a table with
// every figure and its target. It measures; it never fails on speed (only when a measurement
// could not run at all).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Engine } from '../src/db/database.ts';
import { cleanupAll, installSignalCleanup } from './lib/cleanup.ts';
import type { RuntimeMode } from './lib/noop-runtime.ts';
import { formatSummary, summariseProfile, type ProfileSummary, type ProfileWindow } from './lib/profile.ts';
import { profilePath } from './lib/server.ts';
import { round } from './lib/stats.ts';
import { measureBullMq, measurePgBoss, type PeerOptions } from './competitors.ts';
import { measureRollcallBurst } from './fire-precision.ts';
import { measureRawLaunchRate, type RawLaunchRate } from './raw-launch.ts';
import { measureScale } from './scale.ts';
import { measureScheduleApi } from './schedule-api.ts';
import { measurePeerSteady, measureRollcallSteady, uniformOffsets } from './steady-load.ts';
import { measureThreeInstances } from './three-instances.ts';
import { ratiosOf, targetsOf } from './targets.ts';
import { printReport } from './report.ts';

const MEASUREMENTS = ['schedule_api', 'fire_precision', 'three_instances', 'steady', 'scale'] as const;
type Measurement = (typeof MEASUREMENTS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    engines: { type: 'string' },
    runtime: { type: 'string', default: 'process' },
    profile: { type: 'string' },
    out: { type: 'string' },
  },
  // `--profile` alone is allowed: parseArgs needs a value for strings, so accept it bare below.
  args: process.argv.slice(2).map((a) => (a === '--profile' ? '--profile=' : a)),
});

const quick = values.quick === true;
const only = new Set((values.only ?? MEASUREMENTS.join(',')).split(',').map((s) => s.trim()) as Measurement[]);
for (const m of only) if (!MEASUREMENTS.includes(m)) throw new Error(`--only: unknown measurement ${m}; choose from ${MEASUREMENTS.join(', ')}`);
const engines = (values.engines ?? 'sqlite,postgres').split(',').map((s) => s.trim()) as Engine[];
for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--engines: unknown engine ${e}; choose from sqlite, postgres`);
if (values.runtime !== 'process' && values.runtime !== 'inline') throw new Error(`--runtime: ${values.runtime}; choose process or inline`);
const runtime = values.runtime as RuntimeMode;
const profileDir = values.profile === undefined ? null : values.profile || join(tmpdir(), `rollcall-bench-profiles-${Date.now()}`);
const outFile = values.out ?? new URL('./results/latest.json', import.meta.url).pathname;

const SIZES = quick
  ? { fireN: 2000, rawRounds: 2, steadyN: 1000, steadyWindowMs: 20_000, scaleN: 100_000, scaleSamples: 200 }
  : { fireN: 10_000, rawRounds: 3, steadyN: 1000, steadyWindowMs: 60_000, scaleN: 1_000_000, scaleSamples: 300 };

const log = (line: string) => process.stdout.write(`${line}\n`);
const results: Record<string, any> = {
  quick,
  node: process.version,
  when: new Date().toISOString(),
  git: gitState(),
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: round(totalmem() / 2 ** 30), load_average_at_start: loadavg().map((l) => round(l, 2)) },
  runtime,
  schedule_api: {},
  fire_precision: {},
  steady: {},
  scale: {},
  recurring: {},
  errors: [] as string[],
};
const profiles: Record<string, ProfileSummary> = {};

async function step(label: string, work: () => Promise<void>): Promise<void> {
  log(`\n== ${label}`);
  const started = performance.now();
  try {
    await work();
  } catch (error) {
    const message = `${label}: ${(error as Error).stack ?? String(error)}`;
    results.errors.push(message);
    log(`  FAILED: ${message}`);
  }
  log(`  (${round((performance.now() - started) / 1000)} s)`);
}

/** Summarises a server's profile over the measured stretch only (not start-up or idle waiting). */
function collectProfile(name: string, window: ProfileWindow): void {
  if (!profileDir) return;
  const file = profilePath(profileDir, name);
  try {
    profiles[name] = summariseProfile(file, 15, window);
    log(formatSummary(`  profile ${file}`, profiles[name]));
  } catch (error) {
    log(`  no profile read from ${file}: ${(error as Error).message}`);
  }
}

const burstOf = (n: number): PeerOptions => ({ mode: 'http', offsetsMs: new Array<number>(n).fill(0), runtime, log });

installSignalCleanup();
const runStarted = performance.now();
if (profileDir) mkdirSync(profileDir, { recursive: true });
log(`Rollcall benchmark (${quick ? 'quick' : 'full'}), Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, no-op runtime ${runtime === 'process' ? 'in its own process' : 'inside the benchmark process'}${profileDir ? `, CPU profiles in ${profileDir}` : ''}`);

try {
  if (only.has('schedule_api')) {
    for (const engine of engines) {
      await step(`schedule_api + recurring on ${engine}`, async () => {
        const { api, recurring } = await measureScheduleApi(engine, { quick, profileDir, log });
        const { profile_window: window, ...figures } = api;
        results.schedule_api[engine] = figures;
        results.recurring[engine] = recurring;
        collectProfile(`schedule_api-${engine}`, window);
      });
    }
  }
  const raws: RawLaunchRate[] = [];
  const measureRaw = (when: string) => step(`raw launch rate (${when}): ${SIZES.fireN} launch requests, no database`, async () => {
    raws.push(await measureRawLaunchRate(SIZES.fireN, { runtime, rounds: SIZES.rawRounds, log }));
    results.raw_launch = combineRaw(raws);
  });
  if (only.has('fire_precision') || only.has('three_instances')) await measureRaw('before the bursts');
  if (only.has('fire_precision')) {
    for (const engine of engines) {
      await step(`fire_precision: Rollcall on ${engine}, ${SIZES.fireN} bots due at one instant`, async () => {
        const { profile_window: window, ...figures } = await measureRollcallBurst(engine, { n: SIZES.fireN, runtime, profileDir, log });
        results.fire_precision[engine] = figures;
        collectProfile(`fire_precision-${engine}`, window);
      });
    }
  }
  if (only.has('three_instances') && engines.includes('postgres')) {
    // Beside one instance alone: the burst just measured on PostgreSQL, or one of its own.
    let one = results.fire_precision.postgres;
    if (!one) {
      await step(`three_instances: one instance alone first, ${SIZES.fireN} bots`, async () => {
        const { profile_window: window, ...figures } = await measureRollcallBurst('postgres', { n: SIZES.fireN, runtime, profileDir, log });
        one = figures;
        collectProfile('fire_precision-postgres', window);
      });
    }
    await step(`three_instances: three Rollcall servers on one PostgreSQL database, ${SIZES.fireN} bots due at one instant`, async () => {
      const { profile_window: window, ...figures } = await measureThreeInstances({ n: SIZES.fireN, runtime, profileDir, log });
      results.three_instances = { ...figures, one_instance: one ? { ...one, source: results.fire_precision.postgres ? 'fire_precision.postgres' : 'measured for this comparison' } : null };
      for (const name of figures.profiles) collectProfile(name, window);
    });
  }
  if (only.has('fire_precision')) {
    if (engines.includes('postgres')) {
      await step(`fire_precision: pg-boss over HTTP, ${SIZES.fireN} jobs due at one instant`, async () => {
        results.fire_precision.pg_boss_http = await measurePgBoss(burstOf(SIZES.fireN));
      });
    }
    await step(`fire_precision: BullMQ over HTTP, ${SIZES.fireN} jobs due at one instant`, async () => {
      results.fire_precision.bullmq_http = await measureBullMq(burstOf(SIZES.fireN));
    });
    if (engines.includes('postgres')) {
      await step(`fire_precision: pg-boss, handler start (no HTTP), ${SIZES.fireN} jobs`, async () => {
        results.fire_precision.pg_boss = await measurePgBoss({ ...burstOf(SIZES.fireN), mode: 'handler' });
      });
    }
    await step(`fire_precision: BullMQ, handler start (no HTTP), ${SIZES.fireN} jobs`, async () => {
      results.fire_precision.bullmq = await measureBullMq({ ...burstOf(SIZES.fireN), mode: 'handler' });
    });
  }
  if (only.has('fire_precision') || only.has('three_instances')) await measureRaw('after the bursts');
  if (only.has('steady')) {
    // The same random instants for every scheduler, so that they face the same load.
    const offsets = uniformOffsets(SIZES.steadyN, SIZES.steadyWindowMs);
    const options = { runtime, profileDir, log };
    results.steady.n = SIZES.steadyN;
    results.steady.window_s = SIZES.steadyWindowMs / 1000;
    for (const engine of engines) {
      await step(`steady: Rollcall on ${engine}, ${SIZES.steadyN} bots due at random over ${SIZES.steadyWindowMs / 1000} s`, async () => {
        const { profile_window: window, ...figures } = await measureRollcallSteady(engine, offsets, SIZES.steadyWindowMs, options);
        results.steady[engine] = figures;
        collectProfile(`steady-${engine}`, window);
      });
    }
    if (engines.includes('postgres')) {
      await step(`steady: pg-boss over HTTP, the same ${SIZES.steadyN} instants`, async () => {
        results.steady.pg_boss_http = await measurePeerSteady('pg_boss', offsets, SIZES.steadyWindowMs, options);
      });
    }
    await step(`steady: BullMQ over HTTP, the same ${SIZES.steadyN} instants`, async () => {
      results.steady.bullmq_http = await measurePeerSteady('bullmq', offsets, SIZES.steadyWindowMs, options);
    });
  }
  if (only.has('scale')) {
    for (const engine of engines) {
      await step(`scale on ${engine}: ${SIZES.scaleN} pending schedules`, async () => {
        results.scale[engine] = await measureScale(engine, { n: SIZES.scaleN, samples: SIZES.scaleSamples, log });
      });
    }
  }
} finally {
  await cleanupAll();
}

results.duration_s = round((performance.now() - runStarted) / 1000);
results.machine.load_average_at_end = loadavg().map((l) => round(l, 2));
if (profileDir) results.profiles = { dir: profileDir, ...profiles };
results.ratios = ratiosOf(results);
results.targets = targetsOf(results);
mkdirSync(join(outFile, '..'), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
printReport(results, log);
log(`\nWrote ${outFile} (${results.duration_s} s)`);
if (results.errors.length > 0) {
  log(`${results.errors.length} measurement(s) could not run; see errors in the JSON`);
  process.exitCode = 1;
}

/** The limit is the best rate seen before and after the bursts (a busy moment must not flatter the multiples). */
function combineRaw(measured: RawLaunchRate[]): RawLaunchRate & { before_per_s: number; after_per_s: number | null } {
  const best = measured.reduce((a, b) => (b.n_over_rate_ms < a.n_over_rate_ms ? b : a));
  return {
    ...best,
    attempts: measured.flatMap((m) => m.attempts),
    signed: measured.every((m) => m.signed),
    before_per_s: measured[0]!.per_s,
    after_per_s: measured[1]?.per_s ?? null,
  };
}

/** Which code was measured: the commit, and the source files changed since it (read-only git calls). */
function gitState(): { commit: string; changed_src_files: number } | null {
  try {
    const cwd = new URL('..', import.meta.url).pathname;
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit, changed_src_files: changed };
  } catch {
    return null;
  }
}
