import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHandovers, type UpcomingBot } from './handover-plan.ts';

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
