import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdsUrl, nextUrlHold } from './webhook-url-hold.ts';

const delay = (failures: number) => 1000 * 2 ** (failures - 1);

test('the answers that hold a URL back: 429, 502, 503, 504 and no answer; not a refusal of the message, a 500, or a guard refusal', () => {
  assert.deepEqual([429, 502, 503, 504].map((s) => holdsUrl(s, false)), [true, true, true, true]);
  assert.deepEqual([200, 400, 404, 410, 422, 500, 301].map((s) => holdsUrl(s, false)), [false, false, false, false, false, false, false]);
  assert.equal(holdsUrl(null, true), true);
  assert.equal(holdsUrl(null, false), false);
});

test('a first failure pauses the URL for the backoff; each later round doubles it', () => {
  const first = nextUrlHold(null, { startedAtMs: 0, nowMs: 100, retryAfterMs: null }, delay);
  assert.deepEqual(first, { pausedUntilMs: 1100, failures: 1, lastFailureAtMs: 100 });
  const second = nextUrlHold(first, { startedAtMs: 1200, nowMs: 1300, retryAfterMs: null }, delay);
  assert.deepEqual(second, { pausedUntilMs: 3300, failures: 2, lastFailureAtMs: 1300 });
});

test('attempts under way when a failure was recorded are of the same round: no doubling per message', () => {
  const first = nextUrlHold(null, { startedAtMs: 0, nowMs: 100, retryAfterMs: null }, delay);
  const sibling = nextUrlHold(first, { startedAtMs: 5, nowMs: 120, retryAfterMs: null }, delay);
  assert.deepEqual(sibling, { pausedUntilMs: 1120, failures: 1, lastFailureAtMs: 120 });
});

test('a Retry-After is the pause, longer or shorter than the backoff; a longer pause already recorded stands', () => {
  assert.equal(nextUrlHold(null, { startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000 }, delay).pausedUntilMs, 60_000);
  const long = nextUrlHold(null, { startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000 }, delay);
  assert.equal(nextUrlHold(long, { startedAtMs: 10, nowMs: 20, retryAfterMs: 2000 }, delay).pausedUntilMs, 60_000);
  const after = nextUrlHold(long, { startedAtMs: 70_000, nowMs: 70_000, retryAfterMs: 2000 }, delay);
  assert.deepEqual(after, { pausedUntilMs: 72_000, failures: 2, lastFailureAtMs: 70_000 });
});
