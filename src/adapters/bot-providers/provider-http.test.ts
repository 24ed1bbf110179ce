import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOfAnswer, type ProviderResult } from './provider-http.ts';

const NOW = Date.parse('2026-12-01T09:00:00Z');

function answer(status: number, json: unknown = null, headers: Record<string, string> = {}): ProviderResult {
  return { ok: true, answer: { status, headers, json, text: json === null ? '' : JSON.stringify(json) } };
}

test('402 (the account\'s credit ran out) is an account problem: the bot waits a minute at least and is tried again, nothing was made', () => {
  // Recall's errors page: 402, "(Self-serve customers) Insufficient credit balance -- Top up balance in the dashboard".
  const outcome = outcomeOfAnswer('recall', 'bot creation', answer(402, { detail: 'Insufficient credit balance' }), NOW);
  assert.deepEqual(outcome, {
    ok: false, failure: 'transient', createdNothing: true, blocksEveryBot: true, retryAfterMs: 60_000,
    message: 'provider_account_blocked: recall refused the bot creation for the account (HTTP 402: its credit ran out); top up the balance in recall\'s dashboard: Insufficient credit balance',
  });
  const later = outcomeOfAnswer('meetstream', 'bot creation', answer(402, null, { 'retry-after': '600' }), NOW);
  assert.equal(!later.ok && later.retryAfterMs, 600_000, 'a longer Retry-After is kept');
});

test('Recall\'s 403 is its firewall, not the key: handled as a refusal of the deployment, named for what it is; 401 is the key', () => {
  const blocked = outcomeOfAnswer('recall', 'bot creation', answer(403, { detail: 'Request blocked' }), NOW);
  assert.ok(!blocked.ok && blocked.failure === 'permanent' && blocked.isAuthFailure === true);
  assert.match(!blocked.ok ? blocked.message : '', /^provider_request_blocked: recall's firewall refused the bot creation \(HTTP 403: for the request's content or this server's address/);
  for (const [provider, status] of [['recall', 401], ['attendee', 403], ['meetstream', 403], ['attendee', 401]] as const) {
    const refused = outcomeOfAnswer(provider, 'bot creation', answer(status), NOW);
    assert.ok(!refused.ok && refused.failure === 'permanent' && refused.isAuthFailure === true, `${provider} ${status}`);
    assert.match(!refused.ok ? refused.message : '', /^provider_auth_failed: /);
  }
});
