import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideLateEdit, diffSettings, removalWording, type LateEditRules } from './late-edit.ts';

const MIN = 60_000;
// Recall.ai's rules: updates and deletes need ten minutes.
const recall: LateEditRules = { updateCutoffMs: 10 * MIN, editCutoffMs: 1 * MIN, deleteCutoffMs: 10 * MIN, canUpdateMeetingUrl: true };
const meetstream: LateEditRules = { updateCutoffMs: 2 * MIN, editCutoffMs: 2 * MIN, deleteCutoffMs: 1 * MIN, canUpdateMeetingUrl: false };
const now = Date.UTC(2026, 5, 1, 8, 0);

test('a move well outside the cutoff is an update', () => {
  const action = decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 90 * MIN });
  assert.equal(action.kind, 'update');
});

test('a move to inside the cutoff is delete-and-create with a new idempotency key', () => {
  const action = decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 5 * MIN });
  assert.deepEqual({ kind: action.kind, by: action.kind === 'replace' && action.by, key: action.kind === 'replace' && action.needsNewIdempotencyKey }, { kind: 'replace', by: 'delete', key: true });
  assert.match(action.reason, /inside the provider's 10 min edit cutoff/);
});

test('exactly at the cutoff an update still fits; a millisecond inside it does not', () => {
  assert.equal(decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 10 * MIN }).kind, 'update');
  assert.equal(decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 10 * MIN - 1 }).kind, 'replace');
});

test('a bot already inside the cutoff (dispatched) cannot be deleted: it is made to leave and replaced', () => {
  const action = decideLateEdit(recall, now, now + 5 * MIN, { kind: 'moved', newJoinAtMs: now + 60 * MIN });
  assert.equal(action.kind, 'replace');
  assert.equal(action.kind === 'replace' && action.by, 'leave');
});

test('cancelled: deleted while it can be, made to leave after', () => {
  const early = decideLateEdit(recall, now, now + 30 * MIN, { kind: 'cancelled' });
  assert.deepEqual([early.kind, early.kind === 'remove' && early.by], ['remove', 'delete']);
  const late = decideLateEdit(recall, now, now + 3 * MIN, { kind: 'cancelled' });
  assert.deepEqual([late.kind, late.kind === 'remove' && late.by], ['remove', 'leave']);
  const inMeeting = decideLateEdit(recall, now, now - 3 * MIN, { kind: 'cancelled' });
  assert.deepEqual([inMeeting.kind, inMeeting.kind === 'remove' && inMeeting.by], ['remove', 'leave']);
});

test('a changed link is an update where the provider can change links, else a new bot', () => {
  assert.equal(decideLateEdit(recall, now, now + 60 * MIN, { kind: 'link-changed', newJoinAtMs: now + 60 * MIN }).kind, 'update');
  // At the same join time inside Recall's ten minutes too; with a move there, a new bot.
  assert.equal(decideLateEdit(recall, now, now + 3 * MIN, { kind: 'link-changed', newJoinAtMs: now + 3 * MIN }).kind, 'update');
  assert.equal(decideLateEdit(recall, now, now + 3 * MIN, { kind: 'link-changed', newJoinAtMs: now + 4 * MIN }).kind, 'replace');
  const ms = decideLateEdit(meetstream, now, now + 60 * MIN, { kind: 'link-changed', newJoinAtMs: now + 60 * MIN });
  assert.equal(ms.kind, 'replace');
  assert.equal(ms.kind === 'replace' && ms.by, 'delete');
});

test('nothing when the time did not change, or once the bot has joined', () => {
  assert.equal(decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 60 * MIN }).kind, 'nothing');
  assert.equal(decideLateEdit(recall, now, now - MIN, { kind: 'moved', newJoinAtMs: now + 60 * MIN }).kind, 'nothing');
});

test('never an update the provider would refuse', () => {
  for (let handed = -5; handed <= 30; handed++) {
    for (let target = 0; target <= 30; target++) {
      const action = decideLateEdit(recall, now, now + handed * MIN, { kind: 'moved', newJoinAtMs: now + target * MIN });
      if (action.kind === 'update') assert.ok(target >= 10 && handed >= 10, `update at handed ${handed} target ${target}`);
      if (action.kind === 'replace' || action.kind === 'remove') assert.equal(action.by === 'delete', handed >= 10);
    }
  }
});

test('changed settings: an update where the provider can change them all and the cutoff allows, else a new bot; nothing once joined', () => {
  const name = { fields: ['bot_name'], updatable: true };
  const onlySettings = decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 60 * MIN, settings: name });
  assert.equal(onlySettings.kind, 'update');
  assert.match(onlySettings.reason, /settings \(bot_name\) changed/);
  const withMove = decideLateEdit(recall, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 90 * MIN, settings: name });
  assert.equal(withMove.kind, 'update');
  assert.match(withMove.reason, /moved and the bot's settings/);
  const fixed = decideLateEdit(meetstream, now, now + 60 * MIN, { kind: 'moved', newJoinAtMs: now + 60 * MIN, settings: { fields: ['bot_message', 'bot_name'], updatable: false } });
  assert.deepEqual([fixed.kind, fixed.kind === 'replace' && fixed.by], ['replace', 'delete']);
  assert.match(fixed.reason, /cannot change bot_message, bot_name/);
  // Inside the ten minutes Recall still takes changes that keep the join time, until the bot is on
  // its way (editCutoffMs); MeetStream's cutoff is one for both.
  assert.equal(decideLateEdit(recall, now, now + 5 * MIN, { kind: 'moved', newJoinAtMs: now + 5 * MIN, settings: name }).kind, 'update');
  const late = decideLateEdit(recall, now, now + MIN / 2, { kind: 'moved', newJoinAtMs: now + MIN / 2, settings: name });
  assert.deepEqual([late.kind, late.kind === 'replace' && late.by], ['replace', 'leave']);
  const lateMove = decideLateEdit(recall, now, now + 5 * MIN, { kind: 'moved', newJoinAtMs: now + 6 * MIN, settings: name });
  assert.deepEqual([lateMove.kind, lateMove.kind === 'replace' && lateMove.by], ['replace', 'leave']);
  assert.equal(decideLateEdit(meetstream, now, now + MIN, { kind: 'moved', newJoinAtMs: now + MIN, settings: { fields: [], updatable: true } }).kind, 'replace');
  assert.equal(decideLateEdit(recall, now, now - MIN, { kind: 'moved', newJoinAtMs: now - MIN, settings: name }).kind, 'nothing');
});

test('settings are compared field by field, nested values by value; a field taken away cannot be updated', () => {
  const held = { bot_name: 'Scribe', metadata: { team: 'a', rollcall_bot_id: 'bot_1' } };
  assert.equal(diffSettings(held, { bot_name: 'Scribe', metadata: { rollcall_bot_id: 'bot_1', team: 'a' } }, ['bot_name', 'metadata']), undefined);
  assert.deepEqual(diffSettings(held, { bot_name: 'Notes', metadata: { team: 'b', rollcall_bot_id: 'bot_1' } }, ['bot_name', 'metadata']), { fields: ['bot_name', 'metadata'], updatable: true });
  assert.deepEqual(diffSettings(held, { bot_name: 'Notes', metadata: held.metadata }, ['metadata']), { fields: ['bot_name'], updatable: false });
  assert.deepEqual(diffSettings({ ...held, automatic_leave: { waiting_room_timeout: 60 } }, held, ['bot_name', 'metadata', 'automatic_leave']), { fields: ['automatic_leave'], updatable: false });
  // A custom attribute dropped: the provider might merge the object and keep it.
  assert.deepEqual(diffSettings(held, { ...held, metadata: { rollcall_bot_id: 'bot_1' } }, ['metadata']), { fields: ['metadata'], updatable: false });
  assert.deepEqual(diffSettings(held, { ...held, metadata: { ...held.metadata, room: '4' } }, ['metadata']), { fields: ['metadata'], updatable: true });
  // A provider whose update takes every creation field: any field, added or changed, but still not taken away.
  assert.deepEqual(diffSettings(held, { ...held, recording_config: { transcript: { provider: { meeting_captions: {} } } } }, 'every'), { fields: ['recording_config'], updatable: true });
  assert.deepEqual(diffSettings({ ...held, recording_config: {} }, held, 'every'), { fields: ['recording_config'], updatable: false });
});

test('a provider that deletes a bot until it starts it: inside the cutoff the removal is still "leave", worded as a delete tried first', () => {
  // Attendee's rules (attendee-bot-provider.ts): updates until six minutes out, delete sure until ten.
  const attendee: LateEditRules = { updateCutoffMs: 6 * MIN, editCutoffMs: 6 * MIN, deleteCutoffMs: 10 * MIN, canUpdateMeetingUrl: true, deletesUntilStarted: true };
  const late = decideLateEdit(attendee, now, now + 7 * MIN, { kind: 'cancelled' });
  assert.deepEqual([late.kind, late.kind === 'remove' && late.by], ['remove', 'leave']);
  assert.match(late.reason, /deleted if the provider has not started it yet, else made to leave/);
  assert.doesNotMatch(decideLateEdit(recall, now, now + 7 * MIN, { kind: 'cancelled' }).reason, /deleted if/);
  // Seven minutes out a move is still an update; five minutes out it is a replacement.
  assert.equal(decideLateEdit(attendee, now, now + 7 * MIN, { kind: 'moved', newJoinAtMs: now + 37 * MIN }).kind, 'update');
  const moved = decideLateEdit(attendee, now, now + 5 * MIN, { kind: 'moved', newJoinAtMs: now + 35 * MIN });
  assert.deepEqual([moved.kind, moved.kind === 'replace' && moved.by], ['replace', 'leave']);
  assert.match(moved.reason, /the bot is deleted if the provider has not started it yet, else made to leave and another created/);
  assert.equal(removalWording(attendee, 'delete'), 'deleted');
  // Cancelled after the join time: the provider may not have started the bot yet (its scheduler behind).
  const afterJoin = decideLateEdit(attendee, now, now - 10_000, { kind: 'cancelled' });
  assert.deepEqual([afterJoin.kind, afterJoin.kind === 'remove' && afterJoin.by], ['remove', 'leave']);
  assert.match(afterJoin.reason, /cancelled after the bot's join time: it is deleted if the provider has not started it yet, else made to leave/);
  assert.doesNotMatch(afterJoin.reason, /while the bot was in it/);
  assert.doesNotMatch(decideLateEdit(recall, now, now - 10_000, { kind: 'cancelled' }).reason, /deleted if|while the bot was in it/);
  assert.equal(removalWording(recall, 'leave'), 'made to leave');
});
