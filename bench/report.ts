// The printed table: every figure of latest.json, one section per measurement.
type Log = (line: string) => void;

function table(headers: string[], rows: (string | number | undefined)[][], log: Log): void {
  const text = rows.map((r) => r.map((c) => (c === undefined || (typeof c === 'number' && Number.isNaN(c)) ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  log(line(headers));
  log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of text) log(line(r));
}

export function printReport(r: Record<string, any>, log: Log): void {
  log(`\nResults (${r.quick ? 'quick' : 'full'} run, ${r.when}, Node ${r.node}, ${r.machine.cpus} CPUs)`);
  const engines = ['sqlite', 'postgres'];

  log('\nschedule_api: POST /calendar/schedule/{event_id}, each request a new bot');
  table(['engine', 'req/s', 'p50 ms', 'p99 ms', 'half-load req/s', 'p50 ms', 'p99 ms', 'raw txn/s', 'req/s / raw', 'errors'],
    engines.filter((e) => r.schedule_api[e]).map((e) => {
      const a = r.schedule_api[e];
      return [e, a.rps, a.p50_ms, a.p99_ms, a.half_load.rps, a.half_load.p50_ms, a.half_load.p99_ms, a.raw_txn_per_s, a.fraction_of_raw, a.saturation.errors + a.half_load.errors];
    }), log);

  log('\nfire_precision: N jobs due in the same second; lateness = arrival - due time');
  table(['scheduler', 'n', 'launched', 'p50 ms', 'p99 ms', 'max ms', 'all launched ms'],
    ['sqlite', 'postgres', 'pg_boss', 'bullmq'].filter((k) => r.fire_precision[k]).map((k) => {
      const f = r.fire_precision[k];
      const label = k === 'sqlite' || k === 'postgres' ? `Rollcall ${k}` : k === 'pg_boss' ? 'pg-boss' : 'BullMQ';
      return [label, f.n, f.launched, f.p50_ms, f.p99_ms, f.max_ms, f.all_launched_ms];
    }), log);

  log('\nscale: pending schedules in the database');
  table(['engine', 'schedules', 'RSS MB', 'RSS after MB', 'ready ms', 'list p50', 'list p99', 'schedule p50', 'schedule p99'],
    engines.filter((e) => r.scale[e]).map((e) => {
      const s = r.scale[e];
      return [e, s.schedules, s.rss_mb, s.rss_after_mb, s.ready_ms, s.list_p50_ms, s.list_p99_ms, s.schedule_p50_ms, s.schedule_p99_ms];
    }), log);
  for (const e of engines) if (r.scale[e] && r.scale[e].list_route !== '/api/v1/calendar/scheduled?limit=100') log(`  (${e}: list figures are ${r.scale[e].list_route})`);

  log('\nrecurring: schedule_all_occurrences on a 52-week series');
  table(['engine', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
    engines.filter((e) => r.recurring[e]).map((e) => [e, r.recurring[e].samples, r.recurring[e].p50_ms, r.recurring[e].p99_ms, r.recurring[e].max_ms]), log);

  if (r.ratios && Object.keys(r.ratios).length > 0) {
    log('\nratios');
    for (const [k, v] of Object.entries(r.ratios)) log(`  ${k}: ${v}`);
  }
}
