import { test } from 'node:test';
import assert from 'node:assert/strict';
import { providerInstant, rollcallBotIdIn } from './bot-runtime.ts';

test('a provider\'s instant: with an offset as written, without one as UTC (not this server\'s zone), else nothing', () => {
  assert.equal(providerInstant('2026-12-03T10:00:00.123456Z'), Date.parse('2026-12-03T10:00:00.123Z'));
  assert.equal(providerInstant('2026-12-03T11:00:00+01:00'), Date.parse('2026-12-03T10:00:00Z'));
  assert.equal(providerInstant('2026-12-03T10:00:00.5'), Date.parse('2026-12-03T10:00:00.500Z'));
  assert.equal(providerInstant('2026-12-03T10:00'), Date.parse('2026-12-03T10:00:00Z'));
  assert.equal(providerInstant('2026-12-03 10:00:00.863543'), Date.parse('2026-12-03T10:00:00.863Z'));
  assert.equal(providerInstant('yesterday'), undefined);
  assert.equal(providerInstant(1733220000), undefined);
  assert.equal(providerInstant(undefined), undefined);
});

test('the Rollcall bot id a delivery\'s metadata shows: the id, null for none, undefined when no metadata is shown', () => {
  assert.equal(rollcallBotIdIn({ rollcall_bot_id: 'bot_1', team: 'red' }), 'bot_1');
  assert.equal(rollcallBotIdIn({ team: 'red' }), null);
  assert.equal(rollcallBotIdIn({ rollcall_bot_id: 7 }), null);
  assert.equal(rollcallBotIdIn(undefined), undefined);
  assert.equal(rollcallBotIdIn(['x']), undefined);
  assert.equal(rollcallBotIdIn(null), undefined);
  assert.equal(rollcallBotIdIn(null, { nullIsNone: true }), null);
});
