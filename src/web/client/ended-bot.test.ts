// How Ended says why a bot ended, beside the status it already shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endReasonCell, endReasonWords } from './ended-bot.ts';

test('why a bot ended does not say its status again', () => {
  assert.equal(endReasonWords('Cancelled', 'Cancelled from the dashboard'), 'From the dashboard');
  assert.equal(endReasonWords('Cancelled', 'Cancelled through the API'), 'Through the API');
  assert.equal(endReasonWords('Cancelled', 'Cancelled'), '', 'only the status: nothing more to say');
  // A reason that does not start with the status, its code in words as everywhere else.
  assert.equal(endReasonWords('Done', 'Reported by the runtime: Done'), 'Reported by the runtime: Done');
  assert.equal(endReasonWords('Cancelled', 'calendar_access_revoked: its calendars lost their access'), 'Calendar access lost: its calendars lost their access');
  // The status as the badge words it (NotAllowed is "Not allowed").
  assert.equal(endReasonWords('NotAllowed', 'Not allowed: the host did not let it in'), 'The host did not let it in');
});

test('Why it ended says nothing more where the reason was only the status, not that none was given', () => {
  assert.equal(endReasonCell('Cancelled', 'Cancelled', false), null, 'a reason was given: the status beside it says it all');
  assert.equal(endReasonCell('NotAllowed', 'Not allowed', false), null);
  assert.deepEqual(endReasonCell('Cancelled', 'Cancelled from the dashboard', false), { text: 'From the dashboard', isMuted: false });
  assert.deepEqual(endReasonCell('Error', '', false), { text: 'No reason given', isMuted: true });
  assert.deepEqual(endReasonCell('Cancelled', '', true), { text: 'Not kept: its data was deleted', isMuted: true });
});
