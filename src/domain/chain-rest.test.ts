import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHAIN_REST_RECHECK_MS, isInstanceSeriesOver, isSeriesOver, mayClearWithoutSeriesChange, nextChainCheckMs } from './chain-rest.ts';

const NOW = Date.parse('2026-11-24T11:30:00Z');
const HOUR = 3_600_000;

test('a series whose rule ended before now, with nothing still to come, is over', () => {
  assert.equal(isSeriesOver({ seriesEndMs: NOW - HOUR, hasOccurrenceAhead: false }, NOW), true);
  assert.equal(isSeriesOver({ seriesEndMs: NOW, hasOccurrenceAhead: false }, NOW), true, 'its last meeting ends now');
});

test('a series with its last meeting under way, or one moved past the rule\'s end, is not over', () => {
  assert.equal(isSeriesOver({ seriesEndMs: NOW + 10 * 60_000, hasOccurrenceAhead: true }, NOW), false);
  assert.equal(isSeriesOver({ seriesEndMs: NOW - HOUR, hasOccurrenceAhead: true }, NOW), false);
});

test('a rule without end, or whose end is not known, is never taken as over', () => {
  assert.equal(isSeriesOver({ seriesEndMs: null, hasOccurrenceAhead: false }, NOW), false);
});

test('a chain whose series is over rests a day, not for ever (a change it missed is seen then); any other looks again after the recheck', () => {
  assert.equal(nextChainCheckMs(true, NOW, HOUR), NOW + 24 * HOUR);
  assert.equal(CHAIN_REST_RECHECK_MS, 24 * HOUR);
  assert.equal(nextChainCheckMs(false, NOW, HOUR), NOW + HOUR);
});

test('an occurrence whose key another meeting\'s bot holds may clear without a series change; one without a usable link may not', () => {
  assert.equal(mayClearWithoutSeriesChange('deduplication_conflict'), true);
  for (const code of ['no_meeting_url', 'invalid_meeting_url', 'event_cancelled', 'event_ended']) assert.equal(mayClearWithoutSeriesChange(code), false, code);
});

test('an Outlook series is over when its rule has an end that has come and every synced instance has ended', () => {
  const ended = { lastInstanceEndMs: NOW - HOUR };
  assert.equal(isInstanceSeriesOver({ ...ended, rule: 'RRULE:FREQ=WEEKLY;COUNT=2;BYDAY=MO;WKST=SU' }, NOW), true);
  assert.equal(isInstanceSeriesOver({ ...ended, rule: 'RRULE:FREQ=WEEKLY;UNTIL=20261123T225959Z;BYDAY=MO' }, NOW), true);
  assert.equal(isInstanceSeriesOver({ ...ended, rule: 'RRULE:FREQ=DAILY;UNTIL=20261122' }, NOW), true, 'an all-day series\' date');
});

test('an Outlook series is not over with an instance still to come, a rule without end or unknown, or an UNTIL still to come', () => {
  assert.equal(isInstanceSeriesOver({ rule: 'RRULE:FREQ=WEEKLY;COUNT=2', lastInstanceEndMs: NOW + HOUR }, NOW), false);
  assert.equal(isInstanceSeriesOver({ rule: 'RRULE:FREQ=WEEKLY;BYDAY=MO', lastInstanceEndMs: NOW - HOUR }, NOW), false);
  assert.equal(isInstanceSeriesOver({ rule: null, lastInstanceEndMs: NOW - HOUR }, NOW), false);
  assert.equal(isInstanceSeriesOver({ rule: 'RRULE:FREQ=YEARLY;UNTIL=20301231T225959Z', lastInstanceEndMs: NOW - HOUR }, NOW), false, 'a sparse series\' next instance beyond the sync window');
  assert.equal(isInstanceSeriesOver({ rule: 'RRULE:FREQ=DAILY;UNTIL=20261124', lastInstanceEndMs: NOW - HOUR }, NOW), false, 'its date not over everywhere yet');
  assert.equal(isInstanceSeriesOver({ rule: 'RRULE:FREQ=WEEKLY;COUNT=2', lastInstanceEndMs: null }, NOW), false);
});
