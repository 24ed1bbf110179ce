// npm run bench [-- --quick] [--only=schedule_api,fire_precision,scale] [--engines=sqlite,postgres] [--profile[=dir]]
// Starts everything it measures (Rollcall processes on SQLite and PostgreSQL, a no-op bot runtime,
// pg-boss, BullMQ), cleans all of it up, writes bench/results/latest.json and prints a table.
// It measures; it never fails on speed (only when a measurement could not run at all).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Engine } from '../src/db/database.ts';
import { cleanupAll, installSignalCleanup } from './lib/cleanup.ts';
import { formatSummary, summariseProfile, type ProfileSummary, type ProfileWindow } from './lib/profile.ts';
import { profilePath } from './lib/server.ts';
import { round } from './lib/stats.ts';
import { measureBullMq, measurePgBoss } from './competitors.ts';
import { measureRollcallFiring } from './fire-precision.ts';
import { measureScale } from './scale.ts';
import { measureScheduleApi } from './schedule-api.ts';
import { printReport } from './report.ts';

const MEASUREMENTS = ['schedule_api', 'fire_precision', 'scale'] as const;
type Measurement = (typeof MEASUREMENTS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    engines: { type: 'string' },
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
const profileDir = values.profile === undefined ? null : values.profile || join(tmpdir(), `rollcall-bench-profiles-${Date.now()}`);
const outFile = values.out ?? new URL('./results/latest.json', import.meta.url).pathname;

const SIZES = quick
  ? { fireN: 2000, scaleN: 100_000, scaleSamples: 200 }
  : { fireN: 10_000, scaleN: 1_000_000, scaleSamples: 300 };

const log = (line: string) => process.stdout.write(`${line}\n`);
const results: Record<string, any> = {
  quick,
  node: process.version,
  when: new Date().toISOString(),
  git: gitState(),
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: round(totalmem() / 2 ** 30) },
  schedule_api: {},
  fire_precision: {},
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

installSignalCleanup();
const runStarted = performance.now();
if (profileDir) mkdirSync(profileDir, { recursive: true });
log(`Rollcall benchmark (${quick ? 'quick' : 'full'}), Node ${process.version}, ${cpus().length} CPUs${profileDir ? `, CPU profiles in ${profileDir}` : ''}`);

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
  if (only.has('fire_precision')) {
    for (const engine of engines) {
      await step(`fire_precision: Rollcall on ${engine}, ${SIZES.fireN} bots due in one second`, async () => {
        const { profile_window: window, ...figures } = await measureRollcallFiring(engine, { n: SIZES.fireN, profileDir, log });
        results.fire_precision[engine] = figures;
        collectProfile(`fire_precision-${engine}`, window);
      });
    }
    if (engines.includes('postgres')) {
      await step(`fire_precision: pg-boss, ${SIZES.fireN} jobs due in one second`, async () => {
        results.fire_precision.pg_boss = await measurePgBoss(SIZES.fireN, log);
      });
    }
    await step(`fire_precision: BullMQ, ${SIZES.fireN} jobs due in one second`, async () => {
      results.fire_precision.bullmq = await measureBullMq(SIZES.fireN, log);
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
if (profileDir) results.profiles = { dir: profileDir, ...profiles };
results.ratios = ratiosOf(results);
mkdirSync(join(outFile, '..'), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
printReport(results, log);
log(`\nWrote ${outFile} (${results.duration_s} s)`);
if (results.errors.length > 0) {
  log(`${results.errors.length} measurement(s) could not run; see errors in the JSON`);
  process.exitCode = 1;
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

/** Side-by-side ratios: how many times lower our p99 lateness is, and our rps over the raw limit. */
function ratiosOf(r: Record<string, any>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const engine of ['sqlite', 'postgres']) {
    const ours = r.fire_precision[engine]?.p99_ms;
    if (ours !== undefined) {
      // A floor of 1 ms keeps a near-zero p99 from turning the ratio into infinity.
      const denominator = Math.max(1, ours);
      if (r.fire_precision.pg_boss) out[`fire_p99_pg_boss_over_${engine}`] = round(r.fire_precision.pg_boss.p99_ms / denominator, 1);
      if (r.fire_precision.bullmq) out[`fire_p99_bullmq_over_${engine}`] = round(r.fire_precision.bullmq.p99_ms / denominator, 1);
    }
    const api = r.schedule_api[engine];
    if (api) out[`schedule_rps_over_raw_${engine}`] = api.fraction_of_raw;
  }
  return out;
}
