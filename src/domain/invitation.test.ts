import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeclinedInvitation, isDeclinedOccurrence, ownerAnswerOf } from './invitation.ts';

test('an invitation is declined when the owner\'s own attendee entry (Google) or responseStatus (Graph) says so', () => {
  assert.equal(isDeclinedInvitation(JSON.stringify({ attendees: [{ email: 'a@x', responseStatus: 'accepted' }, { email: 'me@x', self: true, responseStatus: 'declined' }] })), true);
  // Someone else declining says nothing about the owner.
  assert.equal(isDeclinedInvitation(JSON.stringify({ attendees: [{ email: 'a@x', responseStatus: 'declined' }, { email: 'me@x', self: true, responseStatus: 'needsAction' }] })), false);
  assert.equal(isDeclinedInvitation(JSON.stringify({ responseStatus: { response: 'declined', time: '2026-12-01T10:00:00Z' } })), true);
  assert.equal(isDeclinedInvitation(JSON.stringify({ responseStatus: { response: 'tentativelyAccepted' } })), false);
  for (const raw of ['', 'not json', 'null', '7', '{"attendees":"x"}', '{"attendees":[null]}', '{}']) assert.equal(isDeclinedInvitation(raw), false, raw);
});

test('an occurrence\'s own answer wins over its series\'; no answer on it leaves the series\' answer', () => {
  const google = (answer: string) => ({ raw: JSON.stringify({ attendees: [{ email: 'me@x', self: true, responseStatus: answer }] }) });
  const series = (answer: string) => ownerAnswerOf(google(answer).raw);
  assert.equal(isDeclinedOccurrence(series('declined'), null), true);
  assert.equal(isDeclinedOccurrence(series('declined'), google('accepted')), false, 'declined all, then accepted this one');
  assert.equal(isDeclinedOccurrence(series('accepted'), google('declined')), true);
  assert.equal(isDeclinedOccurrence(series('declined'), google('needsAction')), true);
  assert.equal(isDeclinedOccurrence(series('declined'), { raw: JSON.stringify({ summary: 'moved' }) }), true);
  assert.equal(isDeclinedOccurrence(null, null), false);
  assert.equal(ownerAnswerOf(JSON.stringify({ responseStatus: { response: 'organizer' } })), 'organizer');
  assert.equal(ownerAnswerOf(JSON.stringify({ responseStatus: { response: 'notResponded' } })), null);
});
