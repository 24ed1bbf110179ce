import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeJoinTime } from './join-time.ts';

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
