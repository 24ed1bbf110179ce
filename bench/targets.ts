// Every figure with a target, and whether this run met it, computed from the results (never by
// hand), plus the side-by-side ratios. The targets are Rollcall's performance goals (see
// docs/performance.md); a quick run applies them to its smaller sizes.
import { round } from './lib/stats.ts';

export interface TargetRow {
  measurement: string;
  figure: string;
  /** The figure as printed, with what it was compared with. */
  value: string;
  target: string;
  /** null: not measured in this run (or not measurable: the burst did not complete). */
  met: boolean | null;
}

const ENGINES = ['sqlite', 'postgres'] as const;
const LABEL: Record<string, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/** At most 20 ms from the due instant to the first launch at the runtime. */
export const FIRST_LAUNCH_MS = 20;
/** All launched within 1.25 × (N / raw launch rate). */
export const LIMIT_MULTIPLE = 1.25;
/** p99 at most half the better peer's (both over HTTP). */
export const PEER_P99_FRACTION = 0.5;
export const STEADY_P99_MS = 10;
export const SCHEDULE_FRACTION_OF_RAW = 0.25;
export const RSS_MB = 300;
export const READY_MS = 5000;

const ms = (v: number) => (Number.isFinite(v) ? `${v.toLocaleString('en-US')} ms` : 'n/a');
const known = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * all_launched_ms as a multiple of N / raw rate (unrounded: verdicts compare the exact figure),
 * or NaN when either is missing.
 */
export function limitMultiple(allLaunchedMs: number | undefined, r: Record<string, any>): number {
  const floor = r.raw_launch?.n_over_rate_ms;
  if (!known(allLaunchedMs) || !known(floor) || floor <= 0) return Number.NaN;
  return allLaunchedMs / floor;
}

/** The better (lower) p99 of the peers measured over HTTP in this run's burst, with its name. */
export function betterPeerP99(r: Record<string, any>): { name: string; p99_ms: number } | null {
  const peers = [['pg-boss', r.fire_precision?.pg_boss_http], ['BullMQ', r.fire_precision?.bullmq_http]] as const;
  let best: { name: string; p99_ms: number } | null = null;
  for (const [name, f] of peers) {
    // A peer that did not launch every job has no meaningful p99 to be compared with.
    if (f && known(f.p99_ms) && f.launched === f.n && (!best || f.p99_ms < best.p99_ms)) best = { name, p99_ms: f.p99_ms };
  }
  return best;
}

export function targetsOf(r: Record<string, any>): TargetRow[] {
  const rows: TargetRow[] = [];
  const add = (measurement: string, figure: string, value: string, target: string, met: boolean | null) => rows.push({ measurement, figure, value, target, met });
  const n = r.fire_precision?.sqlite?.n ?? r.fire_precision?.postgres?.n ?? r.raw_launch?.n;
  const burst = `burst of ${n?.toLocaleString('en-US') ?? 'N'}`;

  const better = betterPeerP99(r);
  for (const e of ENGINES) {
    const f = r.fire_precision?.[e];
    if (!f) continue;
    const complete = f.launched === f.n;
    add(burst, `Rollcall ${LABEL[e]}: every bot launched, once, none early`, `${f.launched} of ${f.n}, ${f.repeats} twice, ${f.early} early`, `${f.n}, 0, 0`, complete && f.repeats === 0 && f.early === 0);
    add(burst, `Rollcall ${LABEL[e]}: first launch after the due instant`, ms(f.first_ms), `≤ ${FIRST_LAUNCH_MS} ms`, known(f.first_ms) ? f.first_ms <= FIRST_LAUNCH_MS : null);
    const multiple = limitMultiple(f.all_launched_ms, r);
    add(burst, `Rollcall ${LABEL[e]}: all launched, × (N / raw launch rate)`, known(multiple) ? `${ms(f.all_launched_ms)} = ${round(multiple, 2)} × ${ms(r.raw_launch.n_over_rate_ms)}` : `${ms(f.all_launched_ms)} (limit ${ms(r.raw_launch?.n_over_rate_ms)})`, `≤ ${LIMIT_MULTIPLE} ×`, known(multiple) ? multiple <= LIMIT_MULTIPLE : null);
    const half = better ? round(better.p99_ms * PEER_P99_FRACTION) : Number.NaN;
    add(burst, `Rollcall ${LABEL[e]}: p99 vs half the better peer's p99 (HTTP)`, better ? `${ms(f.p99_ms)} vs ${ms(half)} (${better.name} ${ms(better.p99_ms)})` : `${ms(f.p99_ms)} (no peer measured)`, '≤ half', better && complete && known(f.p99_ms) ? f.p99_ms <= half : null);
  }

  for (const e of ENGINES) {
    const s = r.steady?.[e];
    if (!s) continue;
    const complete = s.launched === s.n && s.repeats === 0 && s.early === 0;
    add(`steady, ${s.n.toLocaleString('en-US')} over ${s.window_s} s`, `Rollcall ${LABEL[e]}: p99 lateness (p50 / max beside)`, `${ms(s.p99_ms)} (p50 ${ms(s.p50_ms)}, max ${ms(s.max_ms)}; ${s.launched} of ${s.n}, ${s.repeats} twice, ${s.early} early)`, `< ${STEADY_P99_MS} ms, all once`, known(s.p99_ms) ? complete && s.p99_ms < STEADY_P99_MS : null);
  }

  for (const e of ENGINES) {
    const a = r.schedule_api?.[e];
    if (!a) continue;
    add('schedule endpoint', `${LABEL[e]}: req/s ÷ raw single-insert txn/s`, `${a.rps} ÷ ${a.raw_txn_per_s} = ${a.fraction_of_raw}`, `≥ ${SCHEDULE_FRACTION_OF_RAW}`, known(a.fraction_of_raw) ? a.fraction_of_raw >= SCHEDULE_FRACTION_OF_RAW : null);
  }

  const t = r.three_instances;
  if (t) {
    const group = `three instances, burst of ${t.n.toLocaleString('en-US')}`;
    const shares = Object.entries(t.shares as Record<string, number>);
    add(group, 'each instance launches a part', shares.map(([k, v]) => `${k} ${v}`).join(', '), 'each > 0', shares.length === 3 && shares.every(([, v]) => v > 0));
    add(group, 'every bot launched, none twice, none early', `${t.launched} of ${t.n}, ${t.repeats} twice, ${t.early} early`, `${t.n}, 0, 0`, t.launched === t.n && t.repeats === 0 && t.early === 0);
    const one = t.one_instance?.all_launched_ms;
    add(group, 'all launched vs one instance alone', `${ms(t.all_launched_ms)} vs ${ms(one)}`, '≤ one alone', known(t.all_launched_ms) && known(one) ? t.all_launched_ms <= one : null);
  }

  for (const e of ENGINES) {
    const s = r.scale?.[e];
    if (!s) continue;
    const group = `scale, ${s.schedules.toLocaleString('en-US')} pending`;
    add(group, `${LABEL[e]}: RSS at ready`, `${s.rss_mb} MB (after the requests ${s.rss_after_mb} MB)`, `< ${RSS_MB} MB`, known(s.rss_mb) ? s.rss_mb < RSS_MB : null);
    add(group, `${LABEL[e]}: ready`, ms(s.ready_ms), `< ${ms(READY_MS)}`, known(s.ready_ms) ? s.ready_ms < READY_MS : null);
  }
  return rows;
}

/** Side-by-side ratios, all from this run. */
export function ratiosOf(r: Record<string, any>): Record<string, number> {
  const out: Record<string, number> = {};
  const fire = r.fire_precision ?? {};
  for (const e of ENGINES) {
    const ours = fire[e]?.p99_ms;
    if (known(ours)) {
      // A floor of 1 ms keeps a near-zero p99 from turning the ratio into infinity.
      const denominator = Math.max(1, ours);
      for (const peer of ['pg_boss', 'bullmq', 'pg_boss_http', 'bullmq_http']) {
        if (known(fire[peer]?.p99_ms)) out[`fire_p99_${peer}_over_${e}`] = round(fire[peer].p99_ms / denominator, 2);
      }
    }
    const api = r.schedule_api?.[e];
    if (api) out[`schedule_rps_over_raw_${e}`] = api.fraction_of_raw;
  }
  for (const key of ['sqlite', 'postgres', 'pg_boss_http', 'bullmq_http']) {
    const multiple = limitMultiple(fire[key]?.all_launched_ms, r);
    if (known(multiple)) out[`burst_all_launched_over_limit_${key}`] = round(multiple, 2);
  }
  const t = r.three_instances;
  if (t) {
    const multiple = limitMultiple(t.all_launched_ms, r);
    if (known(multiple)) out.burst_all_launched_over_limit_three_instances = round(multiple, 2);
    if (known(t.all_launched_ms) && known(t.one_instance?.all_launched_ms)) out.three_instances_over_one = round(t.all_launched_ms / t.one_instance.all_launched_ms, 2);
  }
  return out;
}
