import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOT_STATUSES, ENDED_OUTCOMES, LIVE_STATUSES, RUNTIME_REPORTABLE_STATUSES, canTransition, isActive, isLaterEnding, isLive, isStepBack, outcomeOf, statusesOfOutcome, statusNamedInFilter, webhookEventFor, webhookGenericEventFor, webhookStatusCodeFor } from './bot-status.ts';

test('the usual path is allowed, with or without recording and leaving', () => {
  for (const path of [
    ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Stopped', 'Done'],
    ['Scheduled', 'Joining', 'InMeeting', 'Recording', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'Done'],
    ['Scheduled', 'Joining', 'InWaitingRoom', 'Leaving', 'NotAllowed'],
  ] as const) {
    for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`);
  }
});

test('skipping the launch is refused', () => {
  assert.equal(canTransition('Scheduled', 'Done'), false);
  assert.equal(canTransition('Scheduled', 'InMeeting'), false);
  assert.equal(canTransition('Scheduled', 'Recording'), false);
  assert.equal(canTransition('Stopped', 'Recording'), false);
});

test('nothing follows a terminal status', () => {
  for (const terminal of ['Done', 'NotAllowed', 'Denied', 'Error', 'Cancelled', 'Missed'] as const) {
    for (const to of BOT_STATUSES) assert.equal(canTransition(terminal, to), false, `${terminal} -> ${to}`);
  }
});

test('live statuses are exactly the unfinished ones, and the retired name is gone', () => {
  assert.deepEqual(BOT_STATUSES.filter(isLive), ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving']);
  assert.deepEqual([...LIVE_STATUSES], BOT_STATUSES.filter(isLive));
  assert.deepEqual(BOT_STATUSES.filter(isActive), ['Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving']);
  assert.ok(!(BOT_STATUSES as readonly string[]).includes('Failed'));
  assert.ok(RUNTIME_REPORTABLE_STATUSES.every((s) => (BOT_STATUSES as readonly string[]).includes(s)));
});

test('every status has its own webhook event name', () => {
  assert.equal(new Set(BOT_STATUSES.map((s) => webhookEventFor(s))).size, BOT_STATUSES.length);
  assert.equal(webhookEventFor('Error'), 'bot.failed');
  // A bot the host removed is Stopped, told apart by its event name alone.
  assert.equal(webhookEventFor('Stopped', true), 'bot.kicked');
  assert.equal(webhookGenericEventFor('Stopped'), 'bot.stopped');
  assert.deepEqual(BOT_STATUSES.filter((s) => webhookEventFor(s, true) !== webhookEventFor(s)), ['Stopped']);
  assert.equal(webhookEventFor('Recording'), 'bot.recording');
  assert.equal(webhookEventFor('Leaving'), 'bot.leaving');
});

test('every end of a bot is event bot.stopped, a cancelled or missed one too; progress keeps its own name', () => {
  const generic = Object.fromEntries(BOT_STATUSES.map((s) => [s, webhookGenericEventFor(s)]));
  assert.deepEqual(generic, {
    Scheduled: 'bot.scheduled', Joining: 'bot.joining', InWaitingRoom: 'bot.in_waiting_room', InMeeting: 'bot.inmeeting',
    Recording: 'bot.recording', Leaving: 'bot.leaving', Stopped: 'bot.stopped', Done: 'bot.done',
    NotAllowed: 'bot.stopped', Denied: 'bot.stopped', Error: 'bot.stopped', Cancelled: 'bot.stopped', Missed: 'bot.stopped',
  });
  assert.deepEqual(BOT_STATUSES.filter((s) => webhookStatusCodeFor(s) === 500), ['NotAllowed', 'Denied', 'Error', 'Missed']);
});

test('a list filter names a status in any case; Failed is the failure\'s other name', () => {
  assert.equal(statusNamedInFilter('Scheduled'), 'Scheduled');
  assert.equal(statusNamedInFilter('inmeeting'), 'InMeeting');
  assert.equal(statusNamedInFilter('FAILED'), 'Error');
  assert.equal(statusNamedInFilter('ERROR'), 'Error');
  assert.equal(statusNamedInFilter('Lost'), null);
  assert.equal(statusNamedInFilter(''), null);
});

test('a step back: a paused recording, or any earlier stage; an ending is never behind a stage', () => {
  assert.equal(isStepBack('Recording', 'InMeeting'), true);
  assert.equal(isStepBack('InMeeting', 'Joining'), true);
  assert.equal(isStepBack('Done', 'Joining'), true);
  assert.equal(isStepBack('InMeeting', 'Recording'), false);
  assert.equal(isStepBack('Recording', 'Stopped'), false);
  assert.equal(isStepBack('Joining', 'Joining'), false);
});

test('a second ending after an ending is a later ending (acknowledged, the first stands); a live status after one, or an allowed step, is not', () => {
  assert.equal(isLaterEnding('Denied', 'Done'), true, 'Recall: call_ended (refused at the waiting room), then done');
  assert.equal(isLaterEnding('NotAllowed', 'Done'), true, 'MeetStream: bot.notallowed, then bot.done');
  assert.equal(isLaterEnding('Error', 'Stopped'), true);
  assert.equal(isLaterEnding('Cancelled', 'Stopped'), true, 'a runtime told to stop a cancelled bot');
  assert.equal(isLaterEnding('Done', 'Error'), true);
  assert.equal(isLaterEnding('Stopped', 'Done'), false, 'an allowed step');
  assert.equal(isLaterEnding('Done', 'Joining'), false, 'a live status after an ending stays refused');
  assert.equal(isLaterEnding('Joining', 'Done'), false);
  // Exactly the pairs of two endings the lifecycle has no step for.
  const endings = BOT_STATUSES.filter((s) => !isLive(s));
  const later = BOT_STATUSES.flatMap((from) => BOT_STATUSES.filter((to) => to !== from && isLaterEnding(from, to)).map((to) => `${from}->${to}`));
  assert.equal(later.length, endings.length * (endings.length - 1) - 1, 'every ordered pair of two different endings but Stopped->Done');
  assert.ok(!later.includes('Stopped->Done'));
});

test('every ended status has exactly one outcome, and a live one has none', () => {
  const ended = BOT_STATUSES.filter((s) => !isLive(s));
  assert.deepEqual(ENDED_OUTCOMES.flatMap((o) => statusesOfOutcome(o)).sort(), [...ended].sort());
  for (const status of ended) assert.ok(statusesOfOutcome(outcomeOf(status)!).includes(status), status);
  for (const status of LIVE_STATUSES) assert.equal(outcomeOf(status), null, status);
  assert.deepEqual(['Done', 'Stopped', 'Error', 'Missed', 'Denied', 'Cancelled'].map((s) => outcomeOf(s as never)), ['done', 'done', 'failed', 'failed', 'failed', 'cancelled']);
});
