import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiredHolds, holdCandidates, holdsAfterRound, MAX_HELD_INSTANCES, nextHoldEnd, parseHeldInstances, SPLIT_SECOND_HALF_MS, storedHeldInstances } from './split-hold.ts';

const NOW = Date.UTC(2026, 10, 20, 10, 50);
const WEEKLY_4 = 'RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=4';
const WEEKLY_1 = 'RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=1';
const missing = (eventId: string, storedRule: string | null = WEEKLY_4, seriesId = 'old') => ({ eventId, seriesId, storedRule });

test('an instance its series\' list leaves out while the round cuts the series\' range is held for the hour a split\'s second half may take', () => {
  assert.deepEqual(holdCandidates([missing('evt_running')], new Map([['old', WEEKLY_1]]), [], NOW), [{ eventId: 'evt_running', untilMs: NOW + SPLIT_SECOND_HALF_MS }]);
  // An UNTIL brought earlier, or an end where the series had none, is a cut too.
  const until = (date: string) => `RRULE:FREQ=DAILY;UNTIL=${date}T225959Z`;
  assert.equal(holdCandidates([missing('a', until('20261231'))], new Map([['old', until('20261119')]]), [], NOW).length, 1);
  assert.equal(holdCandidates([missing('a', 'RRULE:FREQ=DAILY')], new Map([['old', until('20261119')]]), [], NOW).length, 1);
});

test('an occurrence cancelled by its organizer (the range as it was), one whose series the round does not bring, and one whose rule is unknown are not held', () => {
  assert.deepEqual(holdCandidates([missing('evt_cancelled')], new Map([['old', WEEKLY_4]]), [], NOW), []);
  assert.deepEqual(holdCandidates([missing('evt_other')], new Map([['another', WEEKLY_1]]), [], NOW), []);
  assert.deepEqual(holdCandidates([missing('evt_unknown', null)], new Map([['old', WEEKLY_1]]), [], NOW), []);
  assert.deepEqual(holdCandidates([missing('evt_unknown')], new Map([['old', null]]), [], NOW), []);
  // A range made longer is no cut.
  assert.deepEqual(holdCandidates([missing('evt_longer', WEEKLY_1)], new Map([['old', WEEKLY_4]]), [], NOW), []);
});

test('a held instance stays held until its hour is over, whatever the rule of a later round, and the hour is not renewed', () => {
  const held = [{ eventId: 'evt_running', untilMs: NOW + 10 * 60_000 }];
  // The round lists its series again, with the range it now has (the same as the stored rule or not).
  assert.deepEqual(holdCandidates([missing('evt_running', WEEKLY_1)], new Map([['old', WEEKLY_1]]), held, NOW), held);
  assert.deepEqual(holdCandidates([missing('evt_running')], new Map(), held, NOW), held);
  // Its hour over: no longer held, even with the range cut again.
  assert.deepEqual(holdCandidates([missing('evt_running')], new Map([['old', WEEKLY_1]]), held, NOW + 10 * 60_000), []);
});

test('the holds after a round: those settled go, the expired go, new ones are added, at most MAX_HELD_INSTANCES ending last', () => {
  const held = [{ eventId: 'a', untilMs: NOW + 1 }, { eventId: 'b', untilMs: NOW }, { eventId: 'c', untilMs: NOW + 5 }];
  assert.deepEqual(holdsAfterRound(held, [{ eventId: 'd', untilMs: NOW + SPLIT_SECOND_HALF_MS }], new Set(['c']), NOW),
    { kept: [{ eventId: 'a', untilMs: NOW + 1 }, { eventId: 'd', untilMs: NOW + SPLIT_SECOND_HALF_MS }], evicted: [] });
  assert.deepEqual(expiredHolds(held, NOW), [{ eventId: 'b', untilMs: NOW }]);
  assert.equal(nextHoldEnd(held, NOW), NOW + 1);
  assert.equal(nextHoldEnd([{ eventId: 'b', untilMs: NOW }], NOW), null);
  const many = Array.from({ length: MAX_HELD_INSTANCES + 5 }, (_, i) => ({ eventId: `e${i}`, untilMs: NOW + 1 + i }));
  const { kept, evicted } = holdsAfterRound([], many, new Set(), NOW);
  assert.equal(kept.length, MAX_HELD_INSTANCES);
  assert.equal(kept[0]!.eventId, 'e5');
});

test('the holds past MAX_HELD_INSTANCES, those ending first, are evicted for the round to delete, held ones and new ones alike; none are settled or expired ones', () => {
  const held = Array.from({ length: MAX_HELD_INSTANCES }, (_, i) => ({ eventId: `h${i}`, untilMs: NOW + 10 + i }));
  const added = [{ eventId: 'new1', untilMs: NOW + 5 }, { eventId: 'new2', untilMs: NOW + SPLIT_SECOND_HALF_MS }];
  const expired = { eventId: 'old', untilMs: NOW };
  const { kept, evicted } = holdsAfterRound([expired, ...held], added, new Set(['h1']), NOW);
  assert.equal(kept.length, MAX_HELD_INSTANCES);
  assert.deepEqual(evicted.map((hold) => hold.eventId), ['new1']);
  assert.deepEqual(kept.map((hold) => hold.eventId), [...held.map((hold) => hold.eventId).filter((id) => id !== 'h1'), 'new2']);
  const more = holdsAfterRound(held, added, new Set(), NOW);
  assert.deepEqual(more.evicted.map((hold) => hold.eventId), ['new1', 'h0']);
  assert.ok(!more.kept.some((hold) => more.evicted.includes(hold)));
});

test('the stored list reads back, and anything else reads as none', () => {
  const held = [{ eventId: 'evt_a', untilMs: NOW }];
  assert.deepEqual(parseHeldInstances(storedHeldInstances(held)), held);
  assert.equal(storedHeldInstances([]), null);
  for (const text of [null, '', 'not json', '{}', '[{"eventId":1,"untilMs":2}]', '[{"eventId":"x"}]']) assert.deepEqual(parseHeldInstances(text), [], String(text));
  assert.deepEqual(parseHeldInstances('[{"eventId":"x","untilMs":5},{"eventId":"","untilMs":5},null]'), [{ eventId: 'x', untilMs: 5 }]);
});
