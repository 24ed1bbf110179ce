import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seriesEndToStore } from './calendar-events.ts';
import { EventLoopPacer } from '../../lib/event-loop-pacer.ts';

const start = Date.parse('2026-12-01T14:00:00Z');
const yearly = { start_ms: start, end_ms: start + 30 * 60_000, timezone: 'America/New_York', recurrence: JSON.stringify(['RRULE:FREQ=YEARLY;COUNT=100']), zone_rules: null };

test('a series end counted when the row is written gives the event loop turns while it walks the COUNT rule', async () => {
  // A slice of 0: a turn at every step of the walk.
  const pacer = new EventLoopPacer(0);
  assert.equal(await seriesEndToStore(yearly, null, pacer), Date.parse('2125-12-01T14:30:00Z'));
  assert.ok(pacer.turns >= 2, `${pacer.turns} turn(s)`);
});

test('a series end stored with the same rule, times and zone is kept without a walk; another rule is walked again', async () => {
  const pacer = new EventLoopPacer(0);
  const stored = { ...yearly, series_end_ms: 123 };
  assert.equal(await seriesEndToStore(yearly, stored, pacer), 123);
  assert.equal(pacer.turns, 0);
  const shorter = { ...yearly, recurrence: JSON.stringify(['RRULE:FREQ=YEARLY;COUNT=2']) };
  assert.equal(await seriesEndToStore(shorter, stored, pacer), Date.parse('2027-12-01T14:30:00Z'));
  assert.equal(await seriesEndToStore({ ...yearly, recurrence: null }, stored, pacer), null);
  assert.equal(await seriesEndToStore({ ...yearly, recurrence: JSON.stringify(['RRULE:FREQ=DAILY']) }, null, pacer), null);
});
