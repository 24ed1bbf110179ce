import { test } from 'node:test';
import assert from 'node:assert/strict';
import { troubleRank, urlHealthOf, type UrlHoldRecord } from './webhook-url-health.ts';
import { FAILING_RUN_GAP_MS } from './webhook-url-hold.ts';

const NOW = 10 * FAILING_RUN_GAP_MS;
const hold = (fields: Partial<UrlHoldRecord>): UrlHoldRecord => ({ pausedUntilMs: 0, failures: 1, lastFailureAtMs: NOW - 1000, failingSinceMs: NOW - 5000, messageId: 'msg_latest', disabledAtMs: null, ...fields });

test('no record: ok, nothing to tell', () => {
  assert.deepEqual(urlHealthOf(null, NOW), { state: 'ok', failingSinceMs: null, pausedUntilMs: null, disabledAtMs: null, reopenMessageId: null, isPaced: false, isTroubled: false });
});

test('a pause still running: paused until its end, since the run\'s first failure, the latest failed message to redeliver', () => {
  assert.deepEqual(urlHealthOf(hold({ pausedUntilMs: NOW + 60_000 }), NOW), { state: 'paused', failingSinceMs: NOW - 5000, pausedUntilMs: NOW + 60_000, disabledAtMs: null, reopenMessageId: 'msg_latest', isPaced: false, isTroubled: true });
});

test('a pause that ended, the run going on: ok but failing, with no pause', () => {
  assert.deepEqual(urlHealthOf(hold({ pausedUntilMs: NOW }), NOW), { state: 'ok', failingSinceMs: NOW - 5000, pausedUntilMs: null, disabledAtMs: null, reopenMessageId: 'msg_latest', isPaced: true, isTroubled: true });
});

test('a run with no failure for over a day is over: the record tells nothing', () => {
  const old = hold({ lastFailureAtMs: NOW - FAILING_RUN_GAP_MS - 1, pausedUntilMs: NOW - FAILING_RUN_GAP_MS, failures: 0 });
  assert.deepEqual(urlHealthOf(old, NOW), urlHealthOf(null, NOW));
  // Held back by struggling answers, it is still paced (one at a time) until a message is taken, however long ago.
  assert.deepEqual(urlHealthOf({ ...old, failures: 2 }, NOW), { ...urlHealthOf(null, NOW), isPaced: true });
  assert.equal(urlHealthOf(hold({ lastFailureAtMs: NOW - FAILING_RUN_GAP_MS }), NOW).isTroubled, true, 'a day to the millisecond is still the run');
});

test('disabled stays disabled, however long ago its last failure, and says a pause of a redelivered message too', () => {
  const disabled = hold({ disabledAtMs: NOW - 3 * FAILING_RUN_GAP_MS, lastFailureAtMs: NOW - 3 * FAILING_RUN_GAP_MS, failingSinceMs: NOW - 8 * FAILING_RUN_GAP_MS });
  assert.deepEqual(urlHealthOf(disabled, NOW), { state: 'disabled', failingSinceMs: NOW - 8 * FAILING_RUN_GAP_MS, pausedUntilMs: null, disabledAtMs: NOW - 3 * FAILING_RUN_GAP_MS, reopenMessageId: 'msg_latest', isPaced: true, isTroubled: true });
  assert.equal(urlHealthOf({ ...disabled, pausedUntilMs: NOW + 5000 }, NOW).pausedUntilMs, NOW + 5000);
  assert.equal(urlHealthOf({ ...disabled, pausedUntilMs: NOW + 5000 }, NOW).state, 'disabled');
});

test('troubled URLs come first: disabled, paused, failing, gone lines only, then the rest', () => {
  const ranks = [
    troubleRank(urlHealthOf(hold({ disabledAtMs: NOW }), NOW), 0),
    troubleRank(urlHealthOf(hold({ pausedUntilMs: NOW + 1 }), NOW), 0),
    troubleRank(urlHealthOf(hold({}), NOW), 0),
    troubleRank(urlHealthOf(null, NOW), 2),
    troubleRank(urlHealthOf(null, NOW), 0),
  ];
  assert.deepEqual(ranks, [0, 1, 2, 3, 4]);
});

test('paced only after struggling answers (failures > 0), never while paused; a disabled URL too, as its redelivered messages go one at a time', () => {
  assert.equal(urlHealthOf(hold({ failures: 0 }), NOW).isPaced, false, 'a run of 500s paces nothing');
  assert.equal(urlHealthOf(hold({ failures: 2 }), NOW).isPaced, true);
  assert.equal(urlHealthOf(hold({ failures: 2, pausedUntilMs: NOW + 1 }), NOW).isPaced, false);
  assert.equal(urlHealthOf(hold({ failures: 2, disabledAtMs: NOW }), NOW).isPaced, true);
  assert.equal(urlHealthOf(hold({ failures: 0, disabledAtMs: NOW }), NOW).isPaced, false, 'disabled by a run of 500s: its redelivered messages go at the usual pace');
  assert.equal(urlHealthOf(hold({ failures: 2, disabledAtMs: NOW, pausedUntilMs: NOW + 1 }), NOW).isPaced, false);
});
