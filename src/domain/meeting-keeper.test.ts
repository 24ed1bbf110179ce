import { test } from 'node:test';
import assert from 'node:assert/strict';
import { givesWayTo, keeperOf, type BotInMeeting } from './meeting-keeper.ts';

const bot = (id: string, over: Partial<BotInMeeting> = {}): BotInMeeting => ({ id, isAutoScheduled: true, isLaunched: false, createdAtMs: 1000, ...over });

test('alone, a bot keeps its meeting', () => {
  assert.equal(givesWayTo(bot('bot_a'), []), null);
  assert.equal(givesWayTo(bot('bot_a'), [bot('bot_a')]), null, 'itself among the others');
  assert.equal(keeperOf([]), null);
});

test('two auto-scheduled bots: the older keeps the meeting, then the lower id; each side reaches the same answer', () => {
  const older = bot('bot_z', { createdAtMs: 500 });
  const newer = bot('bot_a', { createdAtMs: 900 });
  assert.equal(givesWayTo(newer, [older])?.id, 'bot_z');
  assert.equal(givesWayTo(older, [newer]), null);
  const [x, y] = [bot('bot_a'), bot('bot_b')];
  assert.equal(givesWayTo(y, [x])?.id, 'bot_a');
  assert.equal(givesWayTo(x, [y]), null);
});

test('an auto-scheduled bot gives way to the client\'s own bot, even an older auto-scheduled one does', () => {
  const own = bot('bot_m', { isAutoScheduled: false, createdAtMs: 5000 });
  assert.equal(givesWayTo(bot('bot_a', { createdAtMs: 1 }), [own])?.id, 'bot_m');
});

test('the client\'s own bots never give way, to each other or to an auto-scheduled one', () => {
  const own = bot('bot_m', { isAutoScheduled: false });
  assert.equal(givesWayTo(own, [bot('bot_n', { isAutoScheduled: false, createdAtMs: 1 })]), null);
  assert.equal(givesWayTo(own, [bot('bot_a', { isLaunched: true })]), null);
});

test('a bot already launched keeps the meeting over any that is not, and a launched one never gives way', () => {
  const launched = bot('bot_z', { createdAtMs: 9000, isLaunched: true });
  assert.equal(givesWayTo(bot('bot_a', { createdAtMs: 1 }), [launched])?.id, 'bot_z');
  assert.equal(givesWayTo(launched, [bot('bot_a', { isAutoScheduled: false, createdAtMs: 1 })]), null);
});

test('three in one meeting: every one that gives way gives way to the same keeper', () => {
  const bots = [bot('bot_c', { createdAtMs: 3 }), bot('bot_b', { createdAtMs: 2 }), bot('bot_m', { isAutoScheduled: false, createdAtMs: 9 })];
  assert.deepEqual(bots.map((b) => givesWayTo(b, bots)?.id ?? null), ['bot_m', 'bot_m', null]);
});
