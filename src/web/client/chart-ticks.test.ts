// The chart's axis labels fall on the viewer's hours. The zone is India's, half an hour off UTC
// (the suite's own zones, UTC and Los Angeles, are whole hours off, where UTC's hours are local too).
process.env.TZ = 'Asia/Kolkata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localTicks } from './chart-ticks.ts';

const HOUR_MS = 3_600_000;

test('hourly ticks are on local hours, not UTC hours', () => {
  const from = Date.parse('2026-12-05T09:47:00Z');
  const ticks = localTicks(from, from + 6 * HOUR_MS, 60);
  assert.equal(ticks.length, 6);
  for (const tick of ticks) assert.equal(new Date(tick).getMinutes(), 0, new Date(tick).toString());
  assert.equal(new Date(ticks[0]!).toISOString(), '2026-12-05T10:30:00.000Z', '16:00 in India');
  assert.ok(ticks.every((tick) => tick >= from && tick < from + 6 * HOUR_MS));
});

test('a step of several hours counts from local midnight', () => {
  const from = Date.parse('2026-12-05T00:00:00Z');
  const ticks = localTicks(from, from + 24 * HOUR_MS, 180);
  assert.deepEqual(ticks.map((tick) => new Date(tick).getHours()), [6, 9, 12, 15, 18, 21, 0, 3]);
  assert.ok(ticks.every((tick) => new Date(tick).getMinutes() === 0));
});

test('quarter hours are local quarter hours', () => {
  const from = Date.parse('2026-12-05T09:47:00Z');
  const ticks = localTicks(from, from + HOUR_MS, 15);
  assert.deepEqual(ticks.map((tick) => new Date(tick).getMinutes()), [30, 45, 0, 15]);
});
