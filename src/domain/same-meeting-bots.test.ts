import { test } from 'node:test';
import assert from 'node:assert/strict';
import { botThatGivesWay } from './same-meeting-bots.ts';

const auto = (key = 'auto:zoom:85551234567:2026-12-08T15:00:00.000Z') => ({ deduplicationKey: key, isAutoScheduled: true });
const client = (key: string) => ({ deduplicationKey: key, isAutoScheduled: false });

test('a bot auto-schedule booked gives way to the client\'s, whichever moved', () => {
  assert.equal(botThatGivesWay(auto(), client('standup')), 'moved');
  assert.equal(botThatGivesWay(client('standup'), auto()), 'other');
});

test('two of auto-schedule\'s: the one that moved in gives way', () => {
  assert.equal(botThatGivesWay(auto('auto:zoom:1:2026-12-08T16:00:00.000Z'), auto()), 'moved');
});

test('two occurrences of one series key (a batch, a chain, derived keys): the one that moved in gives way', () => {
  assert.equal(botThatGivesWay(client('weekly@20270111T140000Z'), client('weekly@20270118T140000Z')), 'moved');
  assert.equal(botThatGivesWay(client('meeting:zoom:1@20270111T140000Z'), client('meeting:zoom:1@20270118T140000Z')), 'moved');
  assert.equal(botThatGivesWay(client('weekly@evt_abc123_20270111T140000Z'), client('weekly@evt_abc123_20270118T140000Z')), 'moved');
  assert.equal(botThatGivesWay(client('weekly@20270111T140000.500Z'), client('weekly@20270118T140000Z')), 'moved');
});

test('two bookings under keys of the client\'s own that share no series: both stay, as asked', () => {
  assert.equal(botThatGivesWay(client('a'), client('b')), null);
  assert.equal(botThatGivesWay(client('weekly@20270111T140000Z'), client('other@20270118T140000Z')), null);
  // An address is no occurrence key: alice@x and alice@y are two keys, not one series.
  assert.equal(botThatGivesWay(client('alice@example.com'), client('alice@example.org')), null);
  assert.equal(botThatGivesWay(client('weekly@20270111T140000Z'), client('weekly')), null);
});
