// The met / not met verdicts and the ratios of the benchmark table. Run: npx node --test bench/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalsPer100ms, latenessFrom } from './lib/stats.ts';
import { betterPeerP99, limitMultiple, ratiosOf, targetsOf, type TargetRow } from './targets.ts';

function burst(overrides: Record<string, number> = {}) {
  return { n: 1000, launched: 1000, first_ms: 10, p50_ms: 100, p99_ms: 200, max_ms: 250, all_launched_ms: 250, early: 0, repeats: 0, ...overrides };
}

function results(overrides: Record<string, any> = {}): Record<string, any> {
  return {
    raw_launch: { n: 1000, per_s: 5000, n_over_rate_ms: 200 },
    fire_precision: { sqlite: burst(), pg_boss_http: burst({ p99_ms: 600 }), bullmq_http: burst({ p99_ms: 400 }) },
    schedule_api: {},
    steady: {},
    scale: {},
    ...overrides,
  };
}

const row = (rows: TargetRow[], figure: string) => {
  const found = rows.find((r) => r.figure.includes(figure));
  assert.ok(found, `no row for ${figure}`);
  return found;
};

test('the burst multiple is all-launched over N / raw rate, and meets 1.25 only at or under it', () => {
  assert.equal(limitMultiple(250, results()), 1.25);
  assert.equal(limitMultiple(251, results()), 1.255);
  assert.equal(row(targetsOf(results()), 'SQLite: all launched').met, true);
  const late = results({ fire_precision: { sqlite: burst({ all_launched_ms: 251 }) } });
  assert.equal(row(targetsOf(late), 'SQLite: all launched').met, false);
  assert.ok(Number.isNaN(limitMultiple(250, results({ raw_launch: undefined }))));
  assert.equal(row(targetsOf(results({ raw_launch: undefined })), 'SQLite: all launched').met, null);
});

test('our p99 is compared with half the better peer over HTTP, never with the no-HTTP figures', () => {
  const r = results({ fire_precision: { sqlite: burst({ p99_ms: 200 }), pg_boss_http: burst({ p99_ms: 600 }), bullmq_http: burst({ p99_ms: 400 }), bullmq: burst({ p99_ms: 50 }) } });
  assert.deepEqual(betterPeerP99(r), { name: 'BullMQ', p99_ms: 400 });
  assert.equal(row(targetsOf(r), 'SQLite: p99').met, true);
  r.fire_precision.sqlite.p99_ms = 201;
  assert.equal(row(targetsOf(r), 'SQLite: p99').met, false);
});

test('a peer that did not launch everything is not the one we are compared with', () => {
  const r = results({ fire_precision: { sqlite: burst(), pg_boss_http: burst({ p99_ms: 600 }), bullmq_http: burst({ p99_ms: 10, launched: 990 }) } });
  assert.deepEqual(betterPeerP99(r), { name: 'pg-boss', p99_ms: 600 });
});

test('a burst with a repeat, an early launch or a missing bot fails its exactly-once row', () => {
  const cases: Record<string, number>[] = [{ repeats: 1 }, { early: 1 }, { launched: 999, all_launched_ms: Number.NaN }];
  for (const bad of cases) {
    const r = results({ fire_precision: { sqlite: burst(bad), bullmq_http: burst() } });
    assert.equal(row(targetsOf(r), 'SQLite: every bot launched').met, false, JSON.stringify(bad));
  }
  assert.equal(row(targetsOf(results()), 'SQLite: first launch').met, true);
  assert.equal(row(targetsOf(results({ fire_precision: { sqlite: burst({ first_ms: 21 }) } })), 'SQLite: first launch').met, false);
});

test('steady p99 must be under 10 ms with every bot launched once', () => {
  const steady = (o: Record<string, number>) => ({ n: 1000, window_s: 60, launched: 1000, p50_ms: 2, p99_ms: 9.9, max_ms: 30, early: 0, repeats: 0, ...o });
  assert.equal(row(targetsOf(results({ steady: { postgres: steady({}) } })), 'PostgreSQL: p99 lateness').met, true);
  assert.equal(row(targetsOf(results({ steady: { postgres: steady({ p99_ms: 10 }) } })), 'PostgreSQL: p99 lateness').met, false);
  assert.equal(row(targetsOf(results({ steady: { postgres: steady({ repeats: 1 }) } })), 'PostgreSQL: p99 lateness').met, false);
});

test('three instances: each launches a part, none twice, no later than one alone', () => {
  const three = { ...burst({ all_launched_ms: 240 }), shares: { a: 400, b: 300, c: 300 }, one_instance: { all_launched_ms: 250 } };
  const rows = targetsOf(results({ three_instances: three }));
  assert.equal(row(rows, 'each instance').met, true);
  assert.equal(row(rows, 'one instance alone').met, true);
  assert.equal(ratiosOf(results({ three_instances: three })).three_instances_over_one, 0.96);
  const idle = targetsOf(results({ three_instances: { ...three, shares: { a: 1000, b: 0, c: 0 } } }));
  assert.equal(row(idle, 'each instance').met, false);
  const slower = targetsOf(results({ three_instances: { ...three, all_launched_ms: 260 } }));
  assert.equal(row(slower, 'one instance alone').met, false);
});

test('schedule endpoint fraction and scale limits', () => {
  const r = results({
    schedule_api: { sqlite: { rps: 250, raw_txn_per_s: 1000, fraction_of_raw: 0.25 }, postgres: { rps: 200, raw_txn_per_s: 1000, fraction_of_raw: 0.2 } },
    scale: { sqlite: { schedules: 1_000_000, rss_mb: 299.9, rss_after_mb: 310, ready_ms: 5000 } },
  });
  const rows = targetsOf(r);
  assert.equal(row(rows, 'SQLite: req/s').met, true);
  assert.equal(row(rows, 'PostgreSQL: req/s').met, false);
  assert.equal(row(rows, 'SQLite: RSS').met, true);
  assert.equal(row(rows, 'SQLite: ready').met, false);
});

test('lateness figures: nearest-rank percentiles, the first and last arrival, early arrivals', () => {
  const late = Array.from({ length: 100 }, (_, i) => i + 1);
  const figures = latenessFrom(100, [-1, ...late.slice(1)]);
  assert.equal(figures.first_ms, -1);
  assert.equal(figures.early, 1);
  assert.equal(figures.p50_ms, 50);
  assert.equal(figures.p99_ms, 99);
  assert.equal(figures.all_launched_ms, 100);
  assert.ok(Number.isNaN(latenessFrom(101, late).all_launched_ms), 'not all arrived: no all-launched time');
  assert.deepEqual(arrivalsPer100ms([0, 99, 100, 350, -5]), [3, 1, 0, 1]);
});
