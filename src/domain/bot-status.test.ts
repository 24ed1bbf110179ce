import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOT_STATUSES, canTransition, isLive, webhookEventFor } from './bot-status.ts';

test('the usual path is allowed', () => {
  const path = ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Stopped', 'Done'] as const;
  for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`);
});

test('skipping the launch is refused', () => {
  assert.equal(canTransition('Scheduled', 'Done'), false);
  assert.equal(canTransition('Scheduled', 'InMeeting'), false);
});

test('nothing follows a terminal status', () => {
  for (const terminal of ['Done', 'NotAllowed', 'Denied', 'Failed', 'Cancelled', 'Missed'] as const) {
    for (const to of BOT_STATUSES) assert.equal(canTransition(terminal, to), false, `${terminal} -> ${to}`);
  }
});

test('live statuses are exactly the unfinished ones', () => {
  assert.deepEqual(BOT_STATUSES.filter(isLive), ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting']);
});

test('every status has a webhook event name', () => {
  assert.equal(new Set(BOT_STATUSES.map(webhookEventFor)).size, BOT_STATUSES.length);
});
