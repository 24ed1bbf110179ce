// npm run bench:alternate -- --before=<checkout> [--engine=sqlite|postgres] [--rounds=3] [--n=10000]
// A change measured against the code before it, in turns: one burst of N bots by the checkout in
// --before (another working tree of this repository, with its own node_modules and built
// dashboard), then one by this checkout, and again, --rounds times. On a shared machine the speed
// moves between runs by more than most changes; alternating puts both sides in the same minutes.
// Each burst runs in a process of its own, through that checkout's own measureRollcallBurst.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    engine: { type: 'string', default: 'sqlite' },
    rounds: { type: 'string', default: '3' },
    n: { type: 'string', default: '10000' },
  },
});
if (!values.before) throw new Error('--before=<another checkout of this repository> is required');
const before = resolve(values.before);
const after = resolve(new URL('..', import.meta.url).pathname);
for (const dir of [before, after]) {
  if (!existsSync(join(dir, 'bench/fire-precision.ts'))) throw new Error(`${dir} has no bench/fire-precision.ts`);
}
const engine = values.engine;
if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`--engine: ${engine}; choose sqlite or postgres`);
const rounds = Number(values.rounds);
const n = Number(values.n);

// One burst in the checkout it runs in; prints its figures as one JSON line.
const ONE_BURST = `
const { measureRollcallBurst } = await import(process.cwd() + '/bench/fire-precision.ts');
const { cleanupAll, installSignalCleanup } = await import(process.cwd() + '/bench/lib/cleanup.ts');
installSignalCleanup();
try {
  const r = await measureRollcallBurst(process.argv[1], { n: Number(process.argv[2]), runtime: 'process', profileDir: null, log: () => {} });
  console.log(JSON.stringify({ first_ms: r.first_ms, p99_ms: r.p99_ms, all_launched_ms: r.all_launched_ms, launched: r.launched, repeats: r.repeats }));
} finally {
  await cleanupAll();
}`;

interface Figures { first_ms: number; p99_ms: number; all_launched_ms: number; launched: number; repeats: number }

function burstIn(dir: string): Figures {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', ONE_BURST, engine!, String(n)], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) throw new Error(`burst in ${dir} failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(line) as Figures;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seen: Record<'before' | 'after', Figures[]> = { before: [], after: [] };
console.log(`${rounds} rounds of a ${n} burst on ${engine}, before (${before}) then after (${after})`);
for (let round = 1; round <= rounds; round++) {
  for (const side of ['before', 'after'] as const) {
    const figures = burstIn(side === 'before' ? before : after);
    seen[side].push(figures);
    const problems = figures.launched !== n || figures.repeats !== 0 ? ` (launched ${figures.launched}, repeats ${figures.repeats})` : '';
    console.log(`  ${side.padEnd(6)} first ${figures.first_ms} ms, p99 ${figures.p99_ms} ms, all launched ${figures.all_launched_ms} ms${problems}`);
  }
}
for (const side of ['before', 'after'] as const) {
  const runs = seen[side];
  console.log(`${side.padEnd(6)} median: first ${median(runs.map((r) => r.first_ms))} ms, all launched ${median(runs.map((r) => r.all_launched_ms))} ms`);
}
