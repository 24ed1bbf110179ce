import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MISSED_IDS, MISSED_ID_KEEP_MS, missedIdsAfter, parseMissedIds } from './missed-ids.ts';

const NOW = 1_000_000_000_000;

test('a read keeps the ids it missed, drops those it found, and leaves the others as they were', () => {
  const previous = [{ id: 'a', untilMs: NOW + 10 }, { id: 'b', untilMs: NOW + 20 }, { id: 'c', untilMs: NOW + 30 }];
  const next = parseMissedIds(missedIdsAfter(previous, { missed: ['a', 'd'], found: ['b'] }, NOW), NOW);
  assert.deepEqual(new Map(next.map((m) => [m.id, m.untilMs])), new Map([['a', NOW + MISSED_ID_KEEP_MS], ['d', NOW + MISSED_ID_KEEP_MS], ['c', NOW + 30]]));
});

test('an id not missed again for MISSED_ID_KEEP_MS goes; none left is null', () => {
  const stored = missedIdsAfter([], { missed: ['a'], found: [] }, NOW);
  assert.deepEqual(parseMissedIds(stored, NOW + MISSED_ID_KEEP_MS - 1).map((m) => m.id), ['a']);
  assert.deepEqual(parseMissedIds(stored, NOW + MISSED_ID_KEEP_MS), []);
  assert.equal(missedIdsAfter(parseMissedIds(stored, NOW), { missed: [], found: ['a'] }, NOW), null);
  assert.equal(missedIdsAfter([{ id: 'a', untilMs: NOW }], { missed: [], found: [] }, NOW), null);
});

test('at most MAX_MISSED_IDS are kept, those missed last', () => {
  const previous = Array.from({ length: MAX_MISSED_IDS }, (_, i) => ({ id: `old${i}`, untilMs: NOW + i + 1 }));
  const next = parseMissedIds(missedIdsAfter(previous, { missed: ['new'], found: [] }, NOW), NOW);
  assert.equal(next.length, MAX_MISSED_IDS);
  assert.ok(next.some((m) => m.id === 'new'));
  assert.ok(!next.some((m) => m.id === 'old0'), 'the one due to go first is dropped');
});

test('the first stored form, a bare array of ids, reads as kept from now; anything else as none', () => {
  assert.deepEqual(parseMissedIds('["x","y"]', NOW), [{ id: 'x', untilMs: NOW + MISSED_ID_KEEP_MS }, { id: 'y', untilMs: NOW + MISSED_ID_KEEP_MS }]);
  assert.deepEqual(parseMissedIds('not json', NOW), []);
  assert.deepEqual(parseMissedIds('{"id":"x"}', NOW), []);
  assert.deepEqual(parseMissedIds('[1, {"id": "z"}, {"id": "w", "untilMs": "soon"}]', NOW), []);
  assert.deepEqual(parseMissedIds(null, NOW), []);
});
