import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeJoinTime, pinnedJoinTimeAfterMove } from './join-time.ts';

const MIN = 60_000;
const start = Date.parse('2026-12-01T15:00:00Z');
const end = start + 30 * MIN;
const lead = 3 * MIN;

test('joins the lead time before the start', () => {
  const r = computeJoinTime({ startMs: start, endMs: end, nowMs: start - 60 * MIN, joinLeadMs: lead });
  assert.deepEqual(r, { ok: true, joinAtMs: start - lead, isJoiningNow: false });
});

test('a meeting already under way joins now', () => {
  const now = start + 5 * MIN;
  assert.deepEqual(computeJoinTime({ startMs: start, endMs: end, nowMs: now, joinLeadMs: lead }), { ok: true, joinAtMs: now, isJoiningNow: true });
});

test('inside the lead window joins now rather than in the past', () => {
  const now = start - MIN;
  assert.deepEqual(computeJoinTime({ startMs: start, endMs: end, nowMs: now, joinLeadMs: lead }), { ok: true, joinAtMs: now, isJoiningNow: true });
});

test('an ended meeting is refused', () => {
  const r = computeJoinTime({ startMs: start, endMs: end, nowMs: end, joinLeadMs: lead });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'event_ended');
});

test('an explicit join time is used as given', () => {
  const joinAt = start - 10 * MIN;
  assert.deepEqual(
    computeJoinTime({ startMs: start, endMs: end, nowMs: start - 60 * MIN, joinLeadMs: lead, requestedJoinAtMs: joinAt }),
    { ok: true, joinAtMs: joinAt, isJoiningNow: false },
  );
});

test('an explicit join time in the past or after the end is refused', () => {
  const now = start - 60 * MIN;
  for (const joinAt of [now - 1, end, end + MIN]) {
    const r = computeJoinTime({ startMs: start, endMs: end, nowMs: now, joinLeadMs: lead, requestedJoinAtMs: joinAt });
    assert.equal(!r.ok && r.code, 'invalid_join_at', `join at ${new Date(joinAt).toISOString()}`);
  }
});

test('a pinned join time keeps its place before the start when the calendar moves the meeting', () => {
  const at = (hhmm: string) => Date.parse(`2026-12-10T${hhmm}:00Z`);
  const base = { nowMs: at('08:00'), joinLeadMs: 180_000 };
  // Pinned at 09:55 for a 10:00-11:00 meeting.
  const moved = (newStart: string, newEnd: string, pinned = '09:55') => new Date(pinnedJoinTimeAfterMove({ ...base, pinnedMs: at(pinned), oldStartMs: at('10:00'), newStartMs: at(newStart), endMs: at(newEnd) })).toISOString().slice(11, 16);
  assert.equal(moved('12:00', '13:00'), '11:55', 'moved later: as long before the new start');
  assert.equal(moved('09:00', '09:30'), '08:55', 'moved earlier: before the new start, not after its end');
  assert.equal(moved('10:00', '10:30'), '09:55', 'only the end moved: the pin stays');
  // Pinned late in the meeting (10:50), the meeting moved later and cut to ten minutes: past the new end, so the usual lead.
  assert.equal(moved('12:00', '12:10', '10:50'), '11:57');
  // Moved earlier than now allows: now.
  assert.equal(moved('08:01', '09:00'), '08:00');
});
