import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SKEW_TOLERANCE_MS, skewOf, skewProblem } from './clock-skew.ts';

test('the skew is read at the round trip\'s midpoint; a slow round trip tells nothing', () => {
  assert.equal(skewOf({ sentAtMs: 1_000, receivedAtMs: 1_040, serverMs: 990 }), 30);
  assert.equal(skewOf({ sentAtMs: 31_000, receivedAtMs: 31_010, serverMs: 1_005 }), 30_000);
  assert.equal(skewOf({ sentAtMs: 1_000, receivedAtMs: 1_000 + 501, serverMs: 1_000 }), null);
});

test('within the tolerance nothing is said; past it, which way and what it does to launches', () => {
  assert.equal(skewProblem(null), null);
  assert.equal(skewProblem(SKEW_TOLERANCE_MS), null);
  assert.equal(skewProblem(-SKEW_TOLERANCE_MS), null);
  assert.match(skewProblem(30_000)!, /30\.0 s ahead .* launch 30\.0 s early/);
  assert.match(skewProblem(-5_500)!, /5\.5 s behind .* launch 5\.5 s late/);
});
