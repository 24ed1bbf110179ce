// The printed report: one section per measurement, then the table of every figure with a target
// and whether this run met it (bench/targets.ts computes it; the JSON holds the same rows).
import { round } from './lib/stats.ts';
import { limitMultiple } from './targets.ts';

type Log = (line: string) => void;

function table(headers: string[], rows: (string | number | undefined | null)[][], log: Log): void {
  const text = rows.map((r) => r.map((c) => (c === undefined || c === null || (typeof c === 'number' && Number.isNaN(c)) ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  log(line(headers));
  log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of text) log(line(r));
}

/** Left-aligned columns, for the targets table whose cells are text. */
function textTable(headers: string[], rows: string[][], log: Log): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  log(line(headers));
  log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) log(line(r));
}

export function printReport(r: Record<string, any>, log: Log): void {
  log(`\nResults (${r.quick ? 'quick' : 'full'} run, ${r.when}, Node ${r.node}, ${r.machine.cpus} CPUs, load average ${r.machine.load_average_at_start?.join(' ') ?? '?'} at start, commit ${r.git?.commit ?? '?'}${r.git?.changed_src_files ? ` + ${r.git.changed_src_files} changed src files` : ''})`);
  log(`The no-op runtime ran ${r.runtime === 'inline' ? 'inside the benchmark process' : 'in a process of its own'}. Compare figures within this run only.`);
  const engines = ['sqlite', 'postgres'];

  if (Object.keys(r.schedule_api).length > 0) {
    log('\nschedule_api: POST /calendar/schedule/{event_id}, each request a new bot');
    table(['engine', 'req/s', 'p50 ms', 'p99 ms', 'half-load req/s', 'p50 ms', 'p99 ms', 'raw txn/s', 'req/s / raw', 'errors'],
      engines.filter((e) => r.schedule_api[e]).map((e) => {
        const a = r.schedule_api[e];
        return [e, a.rps, a.p50_ms, a.p99_ms, a.half_load.rps, a.half_load.p50_ms, a.half_load.p99_ms, a.raw_txn_per_s, a.fraction_of_raw, a.saturation.errors + a.half_load.errors];
      }), log);
  }

  const raw = r.raw_launch;
  if (raw) {
    log(`\nraw launch rate: ${raw.n} signed launch requests from one Node process through Rollcall's client, no database`);
    table(['best req/s', 'N / rate ms', 'before req/s', 'after req/s', 'attempts (req/s)'],
      [[raw.per_s, raw.n_over_rate_ms, raw.before_per_s, raw.after_per_s, raw.attempts.map((a: any) => `${a.per_s}${a.in_flight ? '' : '*'}`).join(' ')]], log);
    log('  (* = all N handed to the client at once; the others keep 256 in flight)');
  }

  const fire = r.fire_precision;
  const bursts: [string, string, any][] = [
    ['Rollcall SQLite', 'runtime arrival', fire.sqlite],
    ['Rollcall PostgreSQL', 'runtime arrival', fire.postgres],
    ['Rollcall PostgreSQL, one alone', 'runtime arrival', fire.postgres ? undefined : r.three_instances?.one_instance],
    ['Rollcall PostgreSQL x3', 'runtime arrival', r.three_instances],
    ['pg-boss, HTTP', 'runtime arrival', fire.pg_boss_http],
    ['BullMQ, HTTP', 'runtime arrival', fire.bullmq_http],
    ['pg-boss, no HTTP', 'handler start', fire.pg_boss],
    ['BullMQ, no HTTP', 'handler start', fire.bullmq],
  ];
  if (bursts.some(([, , f]) => f)) {
    log('\nburst: N jobs due at the same instant; lateness = measured point - due instant');
    table(['scheduler', 'measured at', 'n', 'launched', 'first ms', 'p50 ms', 'p99 ms', 'max ms', 'all launched ms', 'x N/raw', 'twice', 'early'],
      bursts.filter(([, , f]) => f).map(([label, at, f]) => [label, at, f.n, f.launched, f.first_ms, f.p50_ms, f.p99_ms, f.max_ms, f.all_launched_ms, at === 'runtime arrival' ? round(limitMultiple(f.all_launched_ms, r), 2) : undefined, f.repeats, f.early]), log);
  }

  const t = r.three_instances;
  if (t) {
    log('\nthree instances on one PostgreSQL database: launches per instance');
    table(['a', 'b', 'c', 'all launched ms', 'one instance alone ms'], [[t.shares.a, t.shares.b, t.shares.c, t.all_launched_ms, t.one_instance?.all_launched_ms]], log);
  }

  const steady = r.steady;
  const steadyRows: [string, any][] = [['Rollcall SQLite', steady.sqlite], ['Rollcall PostgreSQL', steady.postgres], ['pg-boss, HTTP', steady.pg_boss_http], ['BullMQ, HTTP', steady.bullmq_http]];
  if (steadyRows.some(([, s]) => s)) {
    log(`\nsteady: ${steady.n} jobs due at random instants over ${steady.window_s} s (the same instants for all); lateness at the runtime`);
    table(['scheduler', 'launched', 'p50 ms', 'p99 ms', 'max ms', 'early', 'twice'],
      steadyRows.filter(([, s]) => s).map(([label, s]) => [label, `${s.launched}/${s.n}`, s.p50_ms, s.p99_ms, s.max_ms, s.early, s.repeats]), log);
  }

  if (Object.keys(r.scale).length > 0) {
    log('\nscale: pending schedules in the database');
    table(['engine', 'schedules', 'RSS MB', 'RSS after MB', 'ready ms', 'list p50', 'list p99', 'schedule p50', 'schedule p99'],
      engines.filter((e) => r.scale[e]).map((e) => {
        const s = r.scale[e];
        return [e, s.schedules, s.rss_mb, s.rss_after_mb, s.ready_ms, s.list_p50_ms, s.list_p99_ms, s.schedule_p50_ms, s.schedule_p99_ms];
      }), log);
    for (const e of engines) if (r.scale[e] && r.scale[e].list_route !== '/api/v1/calendar/scheduled?limit=100') log(`  (${e}: list figures are ${r.scale[e].list_route})`);
  }

  if (Object.keys(r.recurring).length > 0) {
    log('\nrecurring: schedule_all_occurrences on a 52-week series');
    table(['engine', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
      engines.filter((e) => r.recurring[e]).map((e) => [e, r.recurring[e].samples, r.recurring[e].p50_ms, r.recurring[e].p99_ms, r.recurring[e].max_ms]), log);
  }

  if (r.ratios && Object.keys(r.ratios).length > 0) {
    log('\nratios');
    for (const [k, v] of Object.entries(r.ratios)) log(`  ${k}: ${v}`);
  }

  if (r.targets?.length > 0) {
    const met = r.targets.filter((t: any) => t.met === true).length;
    const notMet = r.targets.filter((t: any) => t.met === false).length;
    log(`\nEvery figure and its target (${met} met, ${notMet} not met${r.quick ? '; quick run: the targets applied to the quick sizes' : ''})`);
    textTable(['measurement', 'figure', 'value', 'target', 'met'],
      r.targets.map((t: any) => [t.measurement, t.figure, t.value, t.target, t.met === null ? 'n/a' : t.met ? 'met' : 'NOT MET']), log);
  }
}
