import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAILING_RUN_GAP_MS, holdsUrl, isDueToDisable, nextUrlHold } from './webhook-url-hold.ts';

const delay = (failures: number) => 1000 * 2 ** (failures - 1);

test('the answers that hold a URL back: 429, 502, 503, 504 and no answer; not a refusal of the message, a 500, or a guard refusal', () => {
  assert.deepEqual([429, 502, 503, 504].map((s) => holdsUrl(s, false)), [true, true, true, true]);
  assert.deepEqual([200, 400, 404, 410, 422, 500, 301].map((s) => holdsUrl(s, false)), [false, false, false, false, false, false, false]);
  assert.equal(holdsUrl(null, true), true);
  assert.equal(holdsUrl(null, false), false);
});

test('a first failure pauses the URL for the backoff; each later round doubles it', () => {
  const first = nextUrlHold(null, { startedAtMs: 0, nowMs: 100, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(first, { pausedUntilMs: 1100, failures: 1, lastFailureAtMs: 100, failingSinceMs: 100 });
  const second = nextUrlHold(first, { startedAtMs: 1200, nowMs: 1300, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(second, { pausedUntilMs: 3300, failures: 2, lastFailureAtMs: 1300, failingSinceMs: 100 });
});

test('attempts under way when a failure was recorded are of the same round: no doubling per message', () => {
  const first = nextUrlHold(null, { startedAtMs: 0, nowMs: 100, retryAfterMs: null, isStruggling: true }, delay);
  const sibling = nextUrlHold(first, { startedAtMs: 5, nowMs: 120, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(sibling, { pausedUntilMs: 1120, failures: 1, lastFailureAtMs: 120, failingSinceMs: 100 });
});

test('a Retry-After is the pause, longer or shorter than the backoff; a longer pause already recorded stands', () => {
  assert.equal(nextUrlHold(null, { startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000, isStruggling: true }, delay).pausedUntilMs, 60_000);
  const long = nextUrlHold(null, { startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000, isStruggling: true }, delay);
  assert.equal(nextUrlHold(long, { startedAtMs: 10, nowMs: 20, retryAfterMs: 2000, isStruggling: true }, delay).pausedUntilMs, 60_000);
  const after = nextUrlHold(long, { startedAtMs: 70_000, nowMs: 70_000, retryAfterMs: 2000, isStruggling: true }, delay);
  assert.deepEqual(after, { pausedUntilMs: 72_000, failures: 2, lastFailureAtMs: 70_000, failingSinceMs: 0 });
});

test('another failure (a 500, a refusal) holds nothing back and releases nothing: it only extends the run of failures', () => {
  const refused = nextUrlHold(null, { startedAtMs: 0, nowMs: 10, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual(refused, { pausedUntilMs: 0, failures: 0, lastFailureAtMs: 10, failingSinceMs: 10 });
  const held = nextUrlHold(refused, { startedAtMs: 20, nowMs: 30, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(held, { pausedUntilMs: 1030, failures: 1, lastFailureAtMs: 30, failingSinceMs: 10 });
  assert.deepEqual(nextUrlHold(held, { startedAtMs: 2000, nowMs: 2100, retryAfterMs: null, isStruggling: false }, delay), { pausedUntilMs: 1030, failures: 1, lastFailureAtMs: 2100, failingSinceMs: 10 });
});

test('a run of failures ends after a day without one: the next failure starts a new run', () => {
  const first = nextUrlHold(null, { startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: false }, delay);
  assert.equal(nextUrlHold(first, { startedAtMs: FAILING_RUN_GAP_MS, nowMs: FAILING_RUN_GAP_MS, retryAfterMs: null, isStruggling: false }, delay).failingSinceMs, 0);
  assert.equal(nextUrlHold(first, { startedAtMs: FAILING_RUN_GAP_MS + 1, nowMs: FAILING_RUN_GAP_MS + 1, retryAfterMs: null, isStruggling: false }, delay).failingSinceMs, FAILING_RUN_GAP_MS + 1);
});

test('a URL failing for the whole period is disabled; 0 never disables', () => {
  const days = 3 * FAILING_RUN_GAP_MS;
  assert.equal(isDueToDisable(0, days - 1, days), false);
  assert.equal(isDueToDisable(0, days, days), true);
  assert.equal(isDueToDisable(0, 10 * days, 0), false);
});
