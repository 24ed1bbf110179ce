import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continuationIdAffixes, isRangeCut, parseSplitId, pickInstanceContinuation, seriesToRecheck } from './series-split.ts';

test('a split continuation\'s id names its series and the split time, as the API gives it and as a Google feed\'s UID', () => {
  const at = Date.UTC(2026, 11, 3, 9, 0, 0);
  assert.deepEqual(parseSplitId('abc123_R20261203T090000'), { baseId: 'abc123', splitMs: at });
  assert.deepEqual(parseSplitId('abc123_R20261203T090000Z'), { baseId: 'abc123', splitMs: at });
  assert.deepEqual(parseSplitId('44v30hsam8_R20261203T090000@google.com'), { baseId: '44v30hsam8@google.com', splitMs: at });
  // A continuation of a continuation names the one before it.
  assert.deepEqual(parseSplitId('abc_R20261126T090000_R20261203T090000'), { baseId: 'abc_R20261126T090000', splitMs: at });
  for (const id of ['abc123', 'abc_R2026120T090000', '_R20261203T090000', 'abc@google.com', 'abc_R20261203T090000@']) assert.equal(parseSplitId(id), null, id);
});

test('a series\' continuations are looked for with its id\'s stem and domain', () => {
  assert.deepEqual(continuationIdAffixes('abc123'), { prefix: 'abc123_R', suffix: '' });
  assert.deepEqual(continuationIdAffixes('44v30hsam8@google.com'), { prefix: '44v30hsam8_R', suffix: '@google.com' });
  const { prefix, suffix } = continuationIdAffixes('44v30hsam8@google.com');
  assert.equal(parseSplitId(`${prefix}20261203T090000${suffix}`)?.baseId, '44v30hsam8@google.com');
});

test('an Outlook series split: the continuation is the series that appeared with the same meeting, starting near the first instance lost', () => {
  const DAY = 86_400_000;
  const WEEK = 7 * DAY;
  const lost = { seriesId: 'old', startsMs: [14 * DAY, 21 * DAY], meetingIdentity: 'zoom:1', title: 'Sync', organizer: 'a@x' };
  const series = (seriesId: string, firstMs: number, fields: Partial<typeof lost> = {}) => ({ seriesId, startsMs: [firstMs, firstMs + WEEK], meetingIdentity: 'zoom:1', title: 'Sync', organizer: 'a@x', ...fields });
  // Split at the third week, an hour later from then on.
  assert.equal(pickInstanceContinuation(lost, [series('new', 14 * DAY + 3_600_000)], WEEK), 'new');
  // Moved two days earlier from then on: still within half a week of the first lost one.
  assert.equal(pickInstanceContinuation(lost, [series('new', 12 * DAY)], WEEK), 'new');
  // The link changed (a new Teams meeting): the same title and organizer.
  assert.equal(pickInstanceContinuation(lost, [series('new', 14 * DAY, { meetingIdentity: 'teams:2' })], WEEK), 'new');
  // Another meeting, another organizer, or too far from the lost instances: none.
  assert.equal(pickInstanceContinuation(lost, [series('other', 14 * DAY, { meetingIdentity: 'zoom:9', title: 'Other' })], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [series('other', 14 * DAY, { meetingIdentity: 'zoom:9', organizer: 'b@x' })], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [series('late', 25 * DAY)], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [series('early', 10 * DAY)], WEEK), null);
  // A series that lost an occurrence in its middle was not split: it keeps a later one.
  assert.equal(pickInstanceContinuation({ ...lost, startsMs: [14 * DAY], keptStartsMs: [0, 7 * DAY, 21 * DAY] }, [series('new', 15 * DAY)], WEEK), null);
  assert.equal(pickInstanceContinuation({ ...lost, keptStartsMs: [0, 7 * DAY] }, [series('new', 15 * DAY)], WEEK), 'new');
  // Near the last lost instance but not the first: not its continuation.
  assert.equal(pickInstanceContinuation(lost, [series('later', 21 * DAY)], WEEK), null);
  // Of two, the nearer; the old series itself and an empty one never; no spacing known: none.
  assert.equal(pickInstanceContinuation(lost, [series('far', 16 * DAY), series('near', 14 * DAY + 60_000)], WEEK), 'near');
  assert.equal(pickInstanceContinuation(lost, [series('old', 14 * DAY), { ...series('empty', 0), startsMs: [] }], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [series('new', 14 * DAY)], null), null);
});

test('a series new in a round has the stored series it may continue looked up: the same meeting, with an instance near its first', () => {
  const DAY = 86_400_000;
  const WEEK = 7 * DAY;
  const stored = (seriesId: string, startsMs: number[], fields: Record<string, string | null> = {}) => ({ seriesId, startsMs, meetingIdentity: 'teams:1', title: 'Review', organizer: 'a@x', ...fields });
  const appeared = [stored('new', [DAY + 3_600_000, 8 * DAY + 3_600_000])];
  // Split from the next occurrence, an hour later: the old series' stored instances start there.
  assert.deepEqual(seriesToRecheck(appeared, [stored('old', [DAY, 8 * DAY, 15 * DAY])]), ['old']);
  // The link changed: the same title and organizer will do; moved two days: still within half a week.
  assert.deepEqual(seriesToRecheck(appeared, [stored('old', [DAY, 8 * DAY], { meetingIdentity: 'teams:2' })]), ['old']);
  assert.deepEqual(seriesToRecheck(appeared, [stored('old', [3 * DAY, 10 * DAY])]), ['old']);
  // Another meeting, an instance too far from the new series' first, or nothing stored: none.
  assert.deepEqual(seriesToRecheck(appeared, [stored('other', [DAY, 8 * DAY], { meetingIdentity: 'zoom:9', title: 'Other' })]), []);
  assert.deepEqual(seriesToRecheck(appeared, [stored('other', [DAY, 8 * DAY], { meetingIdentity: 'zoom:9', organizer: 'b@x' })]), []);
  assert.deepEqual(seriesToRecheck(appeared, [stored('far', [5 * DAY, 5 * DAY + WEEK])]), []);
  assert.deepEqual(seriesToRecheck(appeared, [stored('empty', [])]), []);
  // One stored instance gives no spacing: looked up.
  assert.deepEqual(seriesToRecheck(appeared, [stored('single', [20 * DAY])]), ['single']);
  // The new series itself is never looked up.
  assert.deepEqual(seriesToRecheck(appeared, [stored('new', [DAY])]), []);
});

test('a Google series cut with its UNTIL: the continuation is a series that appeared with the same meeting, or whose UID continues the old one\'s, near the cut', () => {
  const DAY = 86_400_000;
  const WEEK = 7 * DAY;
  // A split that changed both the link and the title: only a UID that continues the old one ties the halves.
  const lost = { seriesId: 'old', startsMs: [14 * DAY, 21 * DAY], keptStartsMs: [0, 7 * DAY], meetingIdentity: 'meet:abc', title: 'Sync', organizer: 'a@x', icalUid: 'q3v8k2@google.com' };
  const other = { seriesId: 'new', startsMs: [14 * DAY + 3_600_000], meetingIdentity: 'meet:xyz', title: 'Sync (new)', organizer: 'a@x' };
  assert.equal(pickInstanceContinuation(lost, [{ ...other, icalUid: 'q3v8k2_R20261221T090000@google.com' }], WEEK), 'new');
  // Another UID (Google's opaque one, or another domain's) is no sign; nor is the old UID itself.
  assert.equal(pickInstanceContinuation(lost, [{ ...other, icalUid: 'h7t0m1@google.com' }], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [{ ...other, icalUid: 'q3v8k2_R20261221T090000@example.com' }], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [{ ...other, icalUid: 'q3v8k2_R@google.com' }], WEEK), null);
  assert.equal(pickInstanceContinuation(lost, [{ ...other, icalUid: undefined }], WEEK), null);
  // The same meeting link with an opaque UID: the meeting decides, still within half a week of the cut.
  assert.equal(pickInstanceContinuation(lost, [{ ...other, meetingIdentity: 'meet:abc', icalUid: 'h7t0m1@google.com' }], WEEK), 'new');
  assert.equal(pickInstanceContinuation(lost, [{ ...other, startsMs: [18 * DAY], meetingIdentity: 'meet:abc', icalUid: 'h7t0m1@google.com' }], WEEK), null);
});

test('a series\' range is cut when its rule now ends earlier: a smaller COUNT, an earlier UNTIL, an end where there was none; a rule ending where it did (an occurrence cancelled) or unknown is not', () => {
  const weekly = 'RRULE:FREQ=WEEKLY;WKST=SU;BYDAY=TH';
  assert.equal(isRangeCut('RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TH', 'RRULE:FREQ=WEEKLY;COUNT=2;BYDAY=TH'), true);
  assert.equal(isRangeCut('RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TH', 'RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TH'), false);
  assert.equal(isRangeCut('RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TH', 'RRULE:FREQ=WEEKLY;COUNT=5;BYDAY=TH'), false);
  assert.equal(isRangeCut('RRULE:FREQ=DAILY;UNTIL=20261231T225959Z', 'RRULE:FREQ=DAILY;UNTIL=20261210T225959Z'), true);
  assert.equal(isRangeCut('RRULE:FREQ=DAILY;UNTIL=20261231T225959Z', 'RRULE:FREQ=DAILY;UNTIL=20261231T225959Z'), false);
  assert.equal(isRangeCut('RRULE:FREQ=DAILY;UNTIL=20261231', 'RRULE:FREQ=DAILY;UNTIL=20261210'), true);
  assert.equal(isRangeCut(weekly, 'RRULE:FREQ=WEEKLY;UNTIL=20261210T225959Z;WKST=SU;BYDAY=TH'), true);
  assert.equal(isRangeCut(weekly, 'RRULE:FREQ=WEEKLY;COUNT=4;WKST=SU;BYDAY=TH'), true);
  assert.equal(isRangeCut(weekly, weekly), false);
  assert.equal(isRangeCut('RRULE:FREQ=WEEKLY;COUNT=3', weekly), false, 'an end taken away cuts nothing');
  for (const [before, after] of [[null, 'RRULE:FREQ=DAILY;COUNT=2'], ['RRULE:FREQ=DAILY;COUNT=3', null], [undefined, undefined]] as const) assert.equal(isRangeCut(before, after), false);
});
