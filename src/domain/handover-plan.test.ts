import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextCreationAtMs, planHandovers, planningHorizon, type UpcomingBot } from './handover-plan.ts';

const MIN = 60_000;
const nine = Date.UTC(2026, 5, 1, 9, 0);

function wave(count: number, joinAtMs: number, prefix = 'b'): UpcomingBot[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${String(i).padStart(4, '0')}`, joinAtMs }));
}

test('600 meetings at 09:00 at 60 creates a minute with a 15-minute lead: all in time, one a second, the last at 08:45', () => {
  const plan = planHandovers(wave(600, nine), nine - 2 * 3_600_000, 15 * MIN, 60);
  assert.equal(plan.late.length, 0);
  assert.equal(plan.slots.length, 600);
  assert.equal(plan.slots.at(-1)!.handoverAtMs, nine - 15 * MIN);
  assert.equal(plan.slots[0]!.handoverAtMs, nine - 15 * MIN - 599_000);
  for (let i = 1; i < plan.slots.length; i++) assert.ok(plan.slots[i]!.handoverAtMs - plan.slots[i - 1]!.handoverAtMs >= 1000);
});

test('a wave planned too late is reported ahead: the bots that cannot make their lead', () => {
  // At 08:40 with a 15-minute lead nothing can reach Recall by 08:45 for 600 bots at 60 a minute
  // beyond the first 300 (5 minutes of slots).
  const plan = planHandovers(wave(600, nine), nine - 20 * MIN, 15 * MIN, 60);
  assert.equal(plan.slots.filter((s) => s.isInTime).length, 301);
  assert.equal(plan.late.length, 299);
  assert.ok(plan.late.every((s) => s.handoverAtMs > s.deadlineMs));
});

test('earliest join first, ties by id; later meetings wait for their own lead', () => {
  const bots: UpcomingBot[] = [{ id: 'c', joinAtMs: nine + 30 * MIN }, { id: 'b', joinAtMs: nine }, { id: 'a', joinAtMs: nine }];
  const plan = planHandovers(bots, nine - 3_600_000, 15 * MIN, 60);
  assert.deepEqual(plan.slots.map((s) => s.id), ['a', 'b', 'c']);
  assert.equal(plan.slots[2]!.handoverAtMs, nine + 15 * MIN);
  assert.equal(plan.slots[1]!.handoverAtMs, nine - 15 * MIN);
  assert.equal(plan.slots[0]!.handoverAtMs, nine - 15 * MIN - 1000);
});

test('two waves close together: the first is pulled earlier so the second keeps its slots', () => {
  const bots = [...wave(120, nine, 'x'), ...wave(120, nine + MIN, 'y')];
  const plan = planHandovers(bots, nine - 3_600_000, 15 * MIN, 60);
  assert.equal(plan.late.length, 0);
  // 240 slots a second apart ending at 08:46.
  assert.equal(plan.slots.at(-1)!.handoverAtMs, nine - 14 * MIN);
  assert.equal(plan.slots[0]!.handoverAtMs, nine - 14 * MIN - 239_000);
});

test('never before now; the rate holds between every pair', () => {
  const plan = planHandovers(wave(10, nine), nine - 15 * MIN + 2000, 15 * MIN, 30);
  assert.ok(plan.slots.every((s) => s.handoverAtMs >= nine - 15 * MIN + 2000));
  for (let i = 1; i < plan.slots.length; i++) assert.equal(plan.slots[i]!.handoverAtMs - plan.slots[i - 1]!.handoverAtMs, 2000);
  assert.equal(plan.late.length, 10);
  assert.throws(() => planHandovers([], nine, MIN, 0), RangeError);
});

test('planning horizon: a far wave too big for its lead is planned hours ahead; a small one waits', () => {
  const noon = nine + 3 * 3_600_000;
  const minuteOf = (ms: number) => ({ startMs: ms, count: 0 });
  // 10,000 bots at 12:00 need 10,000 s of creations at 60 a minute: the first goes at 08:58:21.
  const big = planningHorizon([{ ...minuteOf(noon), count: 10_000 }], nine, 15 * MIN, 60, 3_600_000);
  assert.equal(big.endMs, Infinity);
  assert.equal(big.nextLatestMs, Infinity);
  // Ten bots at 12:00 go from 11:44:51: nothing to plan at 09:00 with an hour ahead.
  const small = planningHorizon([{ ...minuteOf(noon), count: 10 }], nine, 15 * MIN, 60, 3_600_000);
  assert.equal(small.endMs, null);
  assert.equal(small.nextLatestMs, noon - 15 * MIN - 9000);
  // A near wave is planned; a far one is left for later, and the near one leaves room before it.
  const both = planningHorizon([{ startMs: nine + 30 * MIN, count: 5 }, { startMs: noon, count: 10 }], nine, 15 * MIN, 60, 3_600_000);
  assert.equal(both.endMs, noon - 1);
  assert.equal(both.nextLatestMs, noon - 15 * MIN - 9000);
  assert.deepEqual(planningHorizon([], nine, 15 * MIN, 60, 3_600_000), { endMs: null, nextLatestMs: Infinity });
});

test('planning horizon agrees with the plan: the far wave is seen in time, and its first handover is the one predicted', () => {
  const noon = nine + 3 * 3_600_000;
  const eight = nine - 3_600_000;
  const horizon = planningHorizon([{ startMs: noon, count: 10_000 }], eight, 15 * MIN, 60, 3_600_000);
  assert.equal(horizon.endMs, Infinity);
  const plan = planHandovers(wave(10_000, noon), eight, 15 * MIN, 60);
  assert.equal(plan.slots[0]!.handoverAtMs, noon - 15 * MIN - 9_999_000);
  assert.equal(plan.late.length, 0);
});

test('planning horizon: the bots after the horizon push the planned ones earlier (nextLatestMs)', () => {
  // 5 bots at 09:30 and 600 at 09:31. The 09:31 wave starts at 09:16 - 599 s = 09:06:01, so the
  // 09:30 bots go by 09:06:00 at the latest, the first at 09:05:56.
  const near = nine + 30 * MIN;
  const buckets = [{ startMs: near, count: 5 }, { startMs: near + MIN, count: 600 }];
  assert.equal(planningHorizon(buckets, nine, 15 * MIN, 60, 0).endMs, null, 'nothing is due before 09:05:56');
  const horizon = planningHorizon(buckets, nine + 6 * MIN, 15 * MIN, 60, 0);
  assert.equal(horizon.endMs, near + MIN - 1, 'at 09:06 the 09:30 bots are planned, the 09:31 wave not yet');
  assert.equal(horizon.nextLatestMs, nine + 6 * MIN + 1000);
  const full = planHandovers([...wave(5, near, 'n'), ...wave(600, near + MIN, 'w')], nine, 15 * MIN, 60);
  const withTail = planHandovers(wave(5, near, 'n'), nine, 15 * MIN, 60, horizon.nextLatestMs);
  assert.deepEqual(withTail.slots, full.slots.slice(0, 5), 'nextLatestMs stands for the whole wave after the horizon');
  assert.equal(planHandovers(wave(5, near, 'n'), nine, 15 * MIN, 60).slots[4]!.handoverAtMs, near - 15 * MIN, 'without it the bots would wait for their own lead');
  assert.equal(full.slots[4]!.handoverAtMs, nine + 6 * MIN);
});

test('at send time: creations that came due together go out a spacing apart, and never more than the provider\'s figure in a minute', () => {
  const spacing = 1021;
  // Nothing sent lately: now.
  assert.equal(nextCreationAtMs([], 5000, 60, spacing), 5000);
  // The previous one a little early or late by the plan's timers (up to a quarter spacing): now.
  assert.equal(nextCreationAtMs([4000], 4000 + 800, 60, spacing), 4800);
  assert.equal(nextCreationAtMs([4000], 4000 + 766, 60, spacing), 4766);
  // Timers due together after a stall: a full spacing after the previous one.
  assert.equal(nextCreationAtMs([4000], 4003, 60, spacing), 5021);
  assert.equal(nextCreationAtMs([5021, 4000], 5030, 60, spacing), 6042);
  // Sixty in the last minute (at 60 a minute): the next waits until the oldest leaves the window.
  const minute = Array.from({ length: 60 }, (_, i) => 1000 + i * 990);
  const now = minute.at(-1)! + 995;
  assert.equal(nextCreationAtMs(minute, now, 60, 990), 1000 + 60_000);
  // Fifty-nine: the spacing alone decides.
  assert.equal(nextCreationAtMs(minute.slice(1), now, 60, 990), now);
  // Creations older than a minute do not count; a rate under one a minute still lets one through.
  assert.equal(nextCreationAtMs([0, 10], 70_000, 1, 60_000), 70_000);
  // Under one a minute the spacing (two minutes here) decides, not the window.
  assert.equal(nextCreationAtMs([30_000], 70_000, 0.5, 120_000), 150_000);
});

test('at send time, whatever came before: the answer is never before now, and a creation sent at it keeps both rules', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 80 }), fc.integer({ min: 60_000, max: 180_000 }), fc.integer({ min: 1, max: 120 }),
    (recent, now, perMinute) => {
      const spacing = Math.ceil(60_000 / (perMinute * 0.98));
      const past = recent.filter((t) => t <= now);
      const at = nextCreationAtMs(past, now, perMinute, spacing);
      assert.ok(at >= now);
      const before = past.filter((t) => t > at - 60_000 && t <= at);
      assert.ok(before.length < perMinute, `${before.length} in the minute before ${at}`);
      const last = Math.max(...past);
      assert.ok(past.length === 0 || at - last >= spacing * 0.75);
    },
  ));
});
