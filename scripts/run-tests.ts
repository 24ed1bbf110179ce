// Runs the test suites: unit tests under two process time zones (results must not depend on
// TZ), then the integration suite once per database engine.
import { globSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { engine: { type: 'string' }, 'test-name-pattern': { type: 'string' } },
});
const suite = positionals[0] ?? 'unit';
const TEST_TIMEOUT_MS = 300_000;
const extraFiles = positionals.slice(1);

// Every test file runs in a process of its own, and many start `rollcall` children besides: each
// would strip the types of the same few hundred modules and compile them again. Node's compile
// cache (https://nodejs.org/api/module.html#module-compile-cache) keeps both on disk, keyed by
// each file's content, so a changed file is compiled afresh; the children inherit the setting.
// It halved the CPU time of a `rollcall` start (0.8 s to 0.4 s on the two-core machine). A
// directory set by the caller (or NODE_DISABLE_COMPILE_CACHE=1) is left as it is.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'rollcall-test-compile-cache');

/**
 * Runs `files` in the order given, `concurrency` at once, each in a process of its own, reported as
 * `node --test` reports them. Through node:test's run() rather than `node --test`, which sorts the
 * files it is given by name whatever their order.
 */
async function runFiles(label: string, files: string[], env: Record<string, string>, concurrency: number): Promise<boolean> {
  if (files.length === 0) {
    process.stderr.write(`${label}: no test files\n`);
    return false;
  }
  process.stdout.write(`\n== ${label} (${files.length} files)\n`);
  // A test that hangs (a database that never answers, a promise never settled) fails after five
  // minutes under its own name instead of stalling the run silently; its file's after-hooks then
  // close what it opened. The longest test takes about a minute. (forceExit would also end a file
  // left with an open handle, but with it node's runner skipped some tests that loops declare:
  // 150-152 of 158 in one file, a different number each run.)
  const pattern = values['test-name-pattern'];
  const stream = run({
    files: files.map((file) => resolve(file)), concurrency, timeout: TEST_TIMEOUT_MS, env: { ...process.env, ...env },
    ...(pattern ? { testNamePatterns: [pattern] } : {}),
  });
  let success = false;
  // The last summary is the whole run's (the others are each file's).
  stream.on('test:summary', (summary) => {
    if (summary.file === undefined) success = summary.success;
  });
  const report = stream.compose(spec);
  report.pipe(process.stdout, { end: false });
  await finished(report);
  return success;
}

let ok = true;
if (suite === 'unit') {
  // The benchmark's own logic (its targets and the no-op runtime) is tested with the unit tests.
  const files = extraFiles.length > 0 ? extraFiles : [...globSync('src/**/*.test.ts'), ...globSync('bench/**/*.test.ts')].sort();
  for (const tz of ['UTC', 'America/Los_Angeles']) ok = await runFiles(`unit tests, TZ=${tz}`, files, { TZ: tz }, 2) && ok;
} else if (suite === 'integration') {
  // The largest files first: runFiles starts them in the order given, and a long file started last
  // would run on alone after the others had finished. Size stands in for duration (the largest
  // hold the most tests); replayed against one run's per-file times, this order ended the SQLite
  // pass 27 s sooner than alphabetical order (263 s against 290 s) and the PostgreSQL pass 14 s sooner.
  const bySizeDescending = (a: string, b: string) => statSync(b).size - statSync(a).size || a.localeCompare(b);
  const files = extraFiles.length > 0 ? extraFiles : globSync('test/integration/**/*.int.test.ts').sort(bySizeDescending);
  // Files that measure how long the event loop is held (test/support/stall-probe.ts) run on their
  // own, after the rest: a second file beside them (Chromium drawing the dashboard, say) slowed
  // the measured work on a two-core machine enough to cross the 100 ms bound now and then.
  const measuresStalls = (file: string) => readFileSync(file, 'utf8').includes('support/stall-probe.ts');
  const shared = files.filter((file) => !measuresStalls(file));
  const alone = files.filter(measuresStalls);
  const engines = values.engine ? [values.engine] : ['sqlite', 'postgres'];
  // Files side by side, per engine. On SQLite much of a test's time is spent waiting (timers,
  // child processes, Chromium), so a third file fills the gaps: measured on the two-core machine,
  // 327 s against 372 s at two, no failure. On PostgreSQL the server's own work fills both cores
  // already: 574 s at three against 568 s at two.
  const filesAtOnce: Record<string, number> = { sqlite: 3, postgres: 2 };
  for (const engine of engines) {
    const env = { ROLLCALL_TEST_ENGINE: engine };
    if (shared.length > 0) ok = await runFiles(`integration tests on ${engine}`, shared, env, filesAtOnce[engine] ?? 2) && ok;
    if (alone.length > 0) ok = await runFiles(`integration tests on ${engine}, event-loop measurements alone`, alone, env, 1) && ok;
  }
} else {
  process.stderr.write(`unknown suite ${suite}; use unit or integration\n`);
  ok = false;
}
process.exitCode = ok ? 0 : 1;
