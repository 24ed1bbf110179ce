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
  const first = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 100, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(first, { pausedUntilMs: 1100, failures: 1, lastFailureAtMs: 100, failingSinceMs: 100, runMessageId: 'm1', hasSeveralMessages: false });
  const second = nextUrlHold(first, { messageId: 'm1', startedAtMs: 1200, nowMs: 1300, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(second, { pausedUntilMs: 3300, failures: 2, lastFailureAtMs: 1300, failingSinceMs: 100, runMessageId: 'm1', hasSeveralMessages: false });
});

test('attempts under way when a failure was recorded are of the same round: no doubling per message', () => {
  const first = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 100, retryAfterMs: null, isStruggling: true }, delay);
  const sibling = nextUrlHold(first, { messageId: 'm1', startedAtMs: 5, nowMs: 120, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(sibling, { pausedUntilMs: 1120, failures: 1, lastFailureAtMs: 120, failingSinceMs: 100, runMessageId: 'm1', hasSeveralMessages: false });
});

test('a Retry-After is the pause, longer or shorter than the backoff; a longer pause already recorded stands', () => {
  assert.equal(nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000, isStruggling: true }, delay).pausedUntilMs, 60_000);
  const long = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 0, retryAfterMs: 60_000, isStruggling: true }, delay);
  assert.equal(nextUrlHold(long, { messageId: 'm1', startedAtMs: 10, nowMs: 20, retryAfterMs: 2000, isStruggling: true }, delay).pausedUntilMs, 60_000);
  const after = nextUrlHold(long, { messageId: 'm1', startedAtMs: 70_000, nowMs: 70_000, retryAfterMs: 2000, isStruggling: true }, delay);
  assert.deepEqual(after, { pausedUntilMs: 72_000, failures: 2, lastFailureAtMs: 70_000, failingSinceMs: 0, runMessageId: 'm1', hasSeveralMessages: false });
});

test('another failure (a 500, a refusal) holds nothing back and releases nothing: it only extends the run of failures', () => {
  const refused = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 10, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual(refused, { pausedUntilMs: 0, failures: 0, lastFailureAtMs: 10, failingSinceMs: 10, runMessageId: 'm1', hasSeveralMessages: false });
  const held = nextUrlHold(refused, { messageId: 'm1', startedAtMs: 20, nowMs: 30, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual(held, { pausedUntilMs: 1030, failures: 1, lastFailureAtMs: 30, failingSinceMs: 10, runMessageId: 'm1', hasSeveralMessages: false });
  assert.deepEqual(nextUrlHold(held, { messageId: 'm1', startedAtMs: 2000, nowMs: 2100, retryAfterMs: null, isStruggling: false }, delay), { pausedUntilMs: 1030, failures: 1, lastFailureAtMs: 2100, failingSinceMs: 10, runMessageId: 'm1', hasSeveralMessages: false });
});

test('a run of failures ends after a day without one: the next failure starts a new run', () => {
  const first = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: false }, delay);
  assert.equal(nextUrlHold(first, { messageId: 'm1', startedAtMs: FAILING_RUN_GAP_MS, nowMs: FAILING_RUN_GAP_MS, retryAfterMs: null, isStruggling: false }, delay).failingSinceMs, 0);
  assert.equal(nextUrlHold(first, { messageId: 'm1', startedAtMs: FAILING_RUN_GAP_MS + 1, nowMs: FAILING_RUN_GAP_MS + 1, retryAfterMs: null, isStruggling: false }, delay).failingSinceMs, FAILING_RUN_GAP_MS + 1);
});

test('a disabled URL\'s run goes on after a quiet day: a redelivered message failing days later keeps its start', () => {
  const first = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: true }, delay);
  const later = nextUrlHold({ ...first, hasSeveralMessages: true }, { messageId: 'm2', startedAtMs: 3 * FAILING_RUN_GAP_MS, nowMs: 3 * FAILING_RUN_GAP_MS, retryAfterMs: null, isStruggling: true, isDisabled: true }, delay);
  assert.deepEqual([later.failingSinceMs, later.runMessageId, later.hasSeveralMessages, later.lastFailureAtMs], [0, 'm1', true, 3 * FAILING_RUN_GAP_MS]);
});

test('a disabled URL\'s failures start again after a quiet day: a redelivered message failing then is paused for the first step, the run kept', () => {
  let hold = nextUrlHold(null, { messageId: 'm1', startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: true }, delay);
  for (let i = 1; i <= 12; i++) hold = nextUrlHold(hold, { messageId: 'm2', startedAtMs: i * 3_600_000, nowMs: i * 3_600_000, retryAfterMs: null, isStruggling: true, isDisabled: true }, delay);
  assert.equal(hold.failures, 13, 'the run\'s rounds, a step each');
  const at = 12 * 3_600_000 + 2 * FAILING_RUN_GAP_MS;
  const later = nextUrlHold(hold, { messageId: 'm3', startedAtMs: at, nowMs: at, retryAfterMs: null, isStruggling: true, isDisabled: true }, delay);
  assert.deepEqual(later, { pausedUntilMs: at + 1000, failures: 1, lastFailureAtMs: at, failingSinceMs: 0, runMessageId: 'm1', hasSeveralMessages: true });
  const next = nextUrlHold(later, { messageId: 'm3', startedAtMs: at + 2000, nowMs: at + 2000, retryAfterMs: null, isStruggling: true, isDisabled: true }, delay);
  assert.equal(next.failures, 2, 'within the day, each round a step again');
  const refused = nextUrlHold(hold, { messageId: 'm3', startedAtMs: at, nowMs: at, retryAfterMs: null, isStruggling: false, isDisabled: true }, delay);
  assert.deepEqual([refused.failures, refused.failingSinceMs], [0, 0], 'a failure of another kind after a quiet day: no step, the run kept');
});

test('a URL failing for the whole period, with failures of two messages or more, is disabled; 0 never disables', () => {
  const days = 5 * FAILING_RUN_GAP_MS;
  const several = { failingSinceMs: 0, hasSeveralMessages: true };
  assert.equal(isDueToDisable(several, days - 1, days), false);
  assert.equal(isDueToDisable(several, days, days), true);
  assert.equal(isDueToDisable(several, 10 * days, 0), false);
  assert.equal(isDueToDisable({ failingSinceMs: 0, hasSeveralMessages: false }, 10 * days, days), false, 'one message failing on its own does not disable its URL');
});

test('a run counts the messages that failed in it: one message failing again and again is one; another one makes several', () => {
  const first = nextUrlHold(null, { messageId: 'a', startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: false }, delay);
  const again = nextUrlHold(first, { messageId: 'a', startedAtMs: 1000, nowMs: 1000, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual([again.runMessageId, again.hasSeveralMessages], ['a', false]);
  const other = nextUrlHold(again, { messageId: 'b', startedAtMs: 2000, nowMs: 2000, retryAfterMs: null, isStruggling: true }, delay);
  assert.deepEqual([other.runMessageId, other.hasSeveralMessages], ['a', true]);
  assert.equal(nextUrlHold(other, { messageId: 'a', startedAtMs: 3000, nowMs: 3000, retryAfterMs: null, isStruggling: false }, delay).hasSeveralMessages, true);
  const later = nextUrlHold(other, { messageId: 'c', startedAtMs: 2 * FAILING_RUN_GAP_MS, nowMs: 2 * FAILING_RUN_GAP_MS, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual([later.runMessageId, later.hasSeveralMessages], ['c', false], 'a new run starts with its own first message');
});

test('a run whose first message was deleted (run message null) goes on naming none: the next message failing is another, making several', () => {
  const first = nextUrlHold(null, { messageId: 'a', startedAtMs: 0, nowMs: 0, retryAfterMs: null, isStruggling: false }, delay);
  const deleted = { ...first, runMessageId: null };
  const next = nextUrlHold(deleted, { messageId: 'b', startedAtMs: 1000, nowMs: 1000, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual([next.runMessageId, next.hasSeveralMessages, next.failingSinceMs], [null, true, 0]);
  const later = nextUrlHold(deleted, { messageId: 'c', startedAtMs: 2 * FAILING_RUN_GAP_MS, nowMs: 2 * FAILING_RUN_GAP_MS, retryAfterMs: null, isStruggling: false }, delay);
  assert.deepEqual([later.runMessageId, later.hasSeveralMessages], ['c', false], 'a new run starts with its own first message');
});

test('a new run of failures (after a day with none) starts the backoff again at its first step', () => {
  // A URL that struggled for a while, whose messages then all ended without a 2xx (expired, set
  // aside, gone): its row stays, with its backoff at the one-hour cap.
  const capped = (failures: number) => Math.min(3_600_000, 5000 * 2 ** (failures - 1));
  const old = { pausedUntilMs: 10 * 3_600_000, failures: 12, lastFailureAtMs: 9 * 3_600_000, failingSinceMs: 0, runMessageId: 'a', hasSeveralMessages: true };
  const weekLater = 9 * 3_600_000 + 7 * FAILING_RUN_GAP_MS;
  const next = nextUrlHold(old, { messageId: 'b', startedAtMs: weekLater, nowMs: weekLater, retryAfterMs: null, isStruggling: true }, capped);
  assert.equal(next.failingSinceMs, weekLater, 'a new run');
  assert.deepEqual([next.failures, next.pausedUntilMs - weekLater], [1, 5000]);
});
