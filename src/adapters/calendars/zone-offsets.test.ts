import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_COMPARED_MONTH, hasZoneOffsetsAt, ianaZones, keptZoneOffsetAt, monthlyInstant, warmUpZoneOffsets, zoneOffsetAt, zoneOffsetsAt, ZONES_PER_STEP } from './zone-offsets.ts';

const HOUR = 3_600_000;

test('a zone\'s offset at an instant: summer and winter time, half and quarter hours, west of Greenwich', () => {
  assert.equal(zoneOffsetAt('Europe/Berlin', Date.parse('2027-01-15T12:00:00Z')), HOUR);
  assert.equal(zoneOffsetAt('Europe/Berlin', Date.parse('2027-07-15T12:00:00Z')), 2 * HOUR);
  assert.equal(zoneOffsetAt('Asia/Kolkata', Date.parse('2027-07-15T12:00:00Z')), 5.5 * HOUR);
  assert.equal(zoneOffsetAt('Asia/Kathmandu', Date.parse('2027-07-15T12:00:00Z')), 5.75 * HOUR);
  assert.equal(zoneOffsetAt('America/St_Johns', Date.parse('2027-01-15T12:00:00Z')), -3.5 * HOUR);
  assert.equal(zoneOffsetAt('UTC', Date.parse('2027-01-15T12:00:00Z')), 0);
  assert.throws(() => zoneOffsetAt('Not/A_Zone', 0));
});

test('the monthly instant is the 15th at 12:00 UTC, the same all month, across years', () => {
  assert.equal(monthlyInstant(Date.parse('2026-11-01T00:00:00Z'), 0), Date.parse('2026-11-15T12:00:00Z'));
  assert.equal(monthlyInstant(Date.parse('2026-11-30T23:59:59Z'), 0), Date.parse('2026-11-15T12:00:00Z'));
  assert.equal(monthlyInstant(Date.parse('2026-11-20T09:00:00Z'), FIRST_COMPARED_MONTH), Date.parse('2025-11-15T12:00:00Z'));
  assert.equal(monthlyInstant(Date.parse('2026-11-20T09:00:00Z'), 2), Date.parse('2027-01-15T12:00:00Z'));
});

test('every zone\'s offset at an instant is read in steps of a few zones; a build stopped half-way is carried on, not begun again', () => {
  const at = Date.parse('2031-03-15T12:00:00Z');
  const zones = ianaZones();
  assert.ok(zones.length > 300, `${zones.length} zones`);
  assert.equal(hasZoneOffsetsAt(at), false);
  // Two steps, then stopped (a parse given up half-way).
  const first = zoneOffsetsAt(at);
  assert.equal(first.next().done, false);
  assert.equal(first.next().done, false);
  assert.equal(hasZoneOffsetsAt(at), false);
  // A later build yields once per ZONES_PER_STEP zones left.
  const rest = zoneOffsetsAt(at);
  let yields = 0;
  let step = rest.next();
  for (; !step.done; step = rest.next()) yields++;
  assert.equal(yields, Math.ceil((zones.length - 2 * ZONES_PER_STEP) / ZONES_PER_STEP) - 1);
  assert.equal(hasZoneOffsetsAt(at), true);
  const offsets = step.value;
  assert.equal(offsets.size, zones.length);
  for (const zone of zones) assert.equal(offsets.get(zone), zoneOffsetAt(zone, at), zone);
  // Read already: at once.
  assert.equal(zoneOffsetsAt(at).next().done, true);
  assert.equal(keptZoneOffsetAt('Europe/Berlin', at), HOUR);
  // A zone the list does not hold (an alias) and an instant not kept are read.
  assert.equal(keptZoneOffsetAt('Asia/Kolkata', at), 5.5 * HOUR);
  assert.equal(keptZoneOffsetAt('Europe/Berlin', Date.parse('2031-07-15T12:00:00Z')), 2 * HOUR);
});

test('the start-up warm-up reads this month\'s first compared instant, giving the event loop a turn between its steps', async () => {
  const now = Date.parse('2032-05-03T10:00:00Z');
  const at = monthlyInstant(now, FIRST_COMPARED_MONTH);
  assert.equal(hasZoneOffsetsAt(at), false);
  let turns = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  await warmUpZoneOffsets(now);
  counting = false;
  assert.equal(hasZoneOffsetsAt(at), true);
  assert.ok(turns >= Math.ceil(ianaZones().length / ZONES_PER_STEP) - 1, `${turns} turns of the loop`);
});
