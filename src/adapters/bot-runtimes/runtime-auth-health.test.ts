import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeAuthHealth } from './runtime-auth-health.ts';

const T = Date.parse('2026-12-01T09:00:00Z');

test('a refused key is cleared by any accepted answer; an account out of credit only by an accepted creation', () => {
  const health = new RuntimeAuthHealth();
  health.observe({ ok: false, failure: 'permanent', retryAfterMs: null, isAuthFailure: true, message: 'provider_auth_failed: x' }, T);
  assert.match(health.problem ?? '', /^provider_auth_failed: x \(since 2026-12-01T09:00:00.000Z\)$/);
  health.observe({ ok: true, alreadyDone: false }, T + 1);
  assert.equal(health.problem, null);

  health.observe({ ok: false, failure: 'transient', retryAfterMs: 60_000, createdNothing: true, blocksEveryBot: true, message: 'provider_account_blocked: y' }, T + 2);
  // A delete or a look-up still goes through while creations are refused: still not ready.
  health.observe({ ok: true, alreadyDone: true }, T + 3);
  assert.match(health.problem ?? '', /^provider_account_blocked: y/);
  // Another kind of failure (an outage) says nothing about the account.
  health.observe({ ok: false, failure: 'transient', retryAfterMs: null, message: 'recall answered 503' }, T + 4);
  assert.match(health.problem ?? '', /^provider_account_blocked: y/);
  health.observe({ ok: true, alreadyDone: false, providerBotId: 'b1' }, T + 5, true);
  assert.equal(health.problem, null);
});
