import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Temporal } from 'temporal-polyfill';
import { findInstanceOn, instanceChainPosition, instanceSeriesId, instanceSeriesOf, instanceSeriesPattern, claimServedSlots, likelySlotOf, isPlainOccurrence, isStoredException, parseInstanceChainPosition, parseInstanceSeriesId } from './instance-series.ts';

test('an instance of a provider series belongs to its master in its connection; a series row or a plain event does not', () => {
  const instance = { calendar_id: 'cal_1', provider_series_id: 'AAMkAGI2=', recurrence: null };
  assert.deepEqual(instanceSeriesOf(instance), { calendarId: 'cal_1', providerSeriesId: 'AAMkAGI2=' });
  assert.equal(instanceSeriesOf({ ...instance, provider_series_id: null }), null);
  assert.equal(instanceSeriesOf({ ...instance, calendar_id: null }), null);
  assert.equal(instanceSeriesOf({ ...instance, recurrence: '["RRULE:FREQ=WEEKLY"]' }), null);
});

test('the batch id of an instance series reads back, colons in the master id included; other ids are not one', () => {
  const series = { calendarId: 'cal_abc', providerSeriesId: 'AAMk:with:colons/and=' };
  assert.deepEqual(parseInstanceSeriesId(instanceSeriesId(series)), series);
  for (const id of ['evt_123', 'instances:', 'instances:cal_1', 'instances::x', 'instances:cal_1:']) assert.equal(parseInstanceSeriesId(id), null, id);
});

test('the LIKE pattern of a connection\'s instance series escapes its id, so that cal_1 does not match cal21', () => {
  assert.equal(instanceSeriesPattern('cal_1'), 'instances:cal\\_1:%');
  assert.equal(instanceSeriesPattern('c%l\\'), 'instances:c\\%l\\\\:%');
});

test('a chain position keeps the instance and the start it was booked at, whatever the id holds', () => {
  const instance = { id: 'evt_a:b', start_ms: Date.parse('2026-12-07T09:00:00Z') };
  assert.deepEqual(parseInstanceChainPosition(instanceChainPosition(instance)), { instanceId: 'evt_a:b', startMs: instance.start_ms });
  assert.deepEqual(parseInstanceChainPosition(instanceChainPosition({ id: 'evt_x', start_ms: -5 })), { instanceId: 'evt_x', startMs: -5 });
  for (const position of [null, '20261207T090000Z', 'evt_x', ':evt_x', '12:']) assert.equal(parseInstanceChainPosition(position), null, String(position));
});

test('occurrence_date names the instance starting at an instant, or the first starting on a local date in the zone', () => {
  const at = (iso: string) => ({ start_ms: Date.parse(iso), end_ms: Date.parse(iso) + 30 * 60_000 });
  const now = Date.parse('2026-12-01T00:00:00Z');
  const instances = [{ id: 'a', ...at('2026-12-07T23:30:00Z'), status: 'confirmed' }, { id: 'b', ...at('2026-12-08T09:00:00Z'), status: 'confirmed' }];
  assert.equal(findInstanceOn(instances, { instantMs: Date.parse('2026-12-08T09:00:00Z') }, 'UTC', now)?.id, 'b');
  assert.equal(findInstanceOn(instances, { instantMs: Date.parse('2026-12-08T09:00:01Z') }, 'UTC', now), undefined);
  // 23:30 UTC on the 7th is the 8th in Berlin: the first of that day there.
  assert.equal(findInstanceOn(instances, { isoDate: '2026-12-08' }, 'Europe/Berlin', now)?.id, 'a');
  assert.equal(findInstanceOn(instances, { isoDate: '2026-12-08' }, 'UTC', now)?.id, 'b');
  assert.equal(findInstanceOn(instances, { isoDate: '2026-12-09' }, 'UTC', now), undefined);
  // A cancelled one is named only when its day has no other.
  const withCancelled = [{ ...instances[0]!, ...at('2026-12-08T07:00:00Z'), status: 'cancelled' }, instances[1]!];
  assert.equal(findInstanceOn(withCancelled, { isoDate: '2026-12-08' }, 'UTC', now)?.id, 'b');
  assert.equal(findInstanceOn([withCancelled[0]!], { isoDate: '2026-12-08' }, 'UTC', now)?.status, 'cancelled');
});

test('occurrence_date: of a day with several instances, the first still to come; the first of all once every one has ended', () => {
  const at = (id: string, iso: string) => ({ id, start_ms: Date.parse(iso), end_ms: Date.parse(iso) + 30 * 60_000, status: 'confirmed' });
  const day = [at('morning', '2026-12-08T09:00:00Z'), at('noon', '2026-12-08T12:00:00Z'), at('evening', '2026-12-08T17:00:00Z')];
  const on = { isoDate: '2026-12-08' };
  assert.equal(findInstanceOn(day, on, 'UTC', Date.parse('2026-12-08T08:00:00Z'))?.id, 'morning');
  // The morning one under way has not ended: still today's.
  assert.equal(findInstanceOn(day, on, 'UTC', Date.parse('2026-12-08T09:20:00Z'))?.id, 'morning');
  assert.equal(findInstanceOn(day, on, 'UTC', Date.parse('2026-12-08T09:30:00Z'))?.id, 'noon');
  assert.equal(findInstanceOn(day, on, 'UTC', Date.parse('2026-12-08T13:00:00Z'))?.id, 'evening');
  assert.equal(findInstanceOn(day, on, 'UTC', Date.parse('2026-12-08T20:00:00Z'))?.id, 'morning', 'all ended: the first (the request is then refused as ended)');
  // A cancelled one still to come does not win over one going ahead that has ended.
  assert.equal(findInstanceOn([day[0]!, { ...day[1]!, status: 'cancelled' }], on, 'UTC', Date.parse('2026-12-08T10:00:00Z'))?.id, 'morning');
});

test('a stored instance is an exception only when Graph\'s payload says so; a plain occurrence, a payload without a type or one that is not JSON is not', () => {
  assert.equal(isStoredException(JSON.stringify({ id: 'X1', type: 'exception', seriesMasterId: 'M' })), true);
  for (const raw of [JSON.stringify({ id: 'O1', type: 'occurrence', seriesMasterId: 'M' }), JSON.stringify({ id: 'S1' }), 'null', '"exception"', '{not json', '']) {
    assert.equal(isStoredException(raw), false, raw);
  }
});

test('a plain occurrence is told by its payload, fetched or stored; an exception, a master or a payload that cannot be read is not one', () => {
  assert.equal(isPlainOccurrence({ type: 'occurrence', id: 'AAMk=' }), true);
  assert.equal(isPlainOccurrence('{"id":"AAMk=","type":"occurrence"}'), true);
  assert.equal(isPlainOccurrence('{"type":"exception"}'), false);
  assert.equal(isPlainOccurrence({ type: 'seriesMaster' }), false);
  assert.equal(isPlainOccurrence('not json'), false);
  assert.equal(isPlainOccurrence(null), false);
});

test('served slots: each claimed by one instance at most, the one on it first, else the nearest under half the spacing; each instance claims one at most', () => {
  const DAY = 86_400_000;
  const WEEK = 7 * DAY;
  const claimed = (instances: [string, number][], served: number[], spacing: number | null) => [...claimServedSlots(instances.map(([id, slotMs]) => ({ id, slotMs })), served, spacing)].sort();
  assert.deepEqual(claimed([['a', 0], ['b', 7 * DAY], ['c', 14 * DAY]], [0, 7 * DAY], WEEK), ['a', 'b']);
  // The series moved two days later: those weeks under their new slots.
  assert.deepEqual(claimed([['a', 2 * DAY], ['b', 9 * DAY], ['c', 16 * DAY]], [0, 7 * DAY], WEEK), ['a', 'b']);
  // Half a week away is the next week's, not this one's.
  assert.deepEqual(claimed([['a', 10.5 * DAY]], [7 * DAY], WEEK), []);
  // Mondays, Tuesdays and Fridays (spacing three days): Monday, on the slot, takes it; Tuesday is free.
  assert.deepEqual(claimed([['mon', 0], ['tue', DAY], ['fri', 4 * DAY]], [0], 3 * DAY), ['mon']);
  // One slot, two instances as near: the earlier takes it; one instance, two slots near it: one only.
  assert.deepEqual(claimed([['a', 5 * DAY], ['b', 9 * DAY]], [7 * DAY], WEEK), ['a']);
  assert.deepEqual(claimed([['a', 8 * DAY]], [7 * DAY, 9 * DAY], WEEK), ['a']);
  assert.deepEqual(claimed([['a', 7 * DAY], ['b', 8 * DAY]], [7 * DAY], null), ['a']);
  assert.deepEqual(claimed([['a', 8 * DAY]], [7 * DAY], null), []);
  assert.deepEqual(claimed([['a', 7 * DAY]], [], WEEK), []);
  // Two instances on one slot: the one with the smaller id, in whatever order they are listed.
  assert.deepEqual(claimed([['b', 7 * DAY], ['a', 7 * DAY]], [7 * DAY], WEEK), ['a']);
  assert.deepEqual(claimed([['a', 7 * DAY], ['b', 7 * DAY]], [7 * DAY], WEEK), ['a']);
});

test('the likely slot of an instance first listed moved: the one place the series\' spacing leaves free in the gap of known slots it lies in, less than a spacing away', () => {
  const DAY = 86_400_000;
  const weekly = [0, 14, 21, 28].map((d) => d * DAY);
  // Week 1 (day 7) moved to day 5, or to day 11: its place is free.
  assert.equal(likelySlotOf(5 * DAY, weekly), 7 * DAY);
  assert.equal(likelySlotOf(11 * DAY, weekly), 7 * DAY);
  // Before the first known slot, or after the last: a spacing from it.
  assert.equal(likelySlotOf(-5 * DAY, weekly), -7 * DAY);
  assert.equal(likelySlotOf(33 * DAY, weekly), 35 * DAY);
  // Past the last known slot by more than a spacing: two places less than a spacing away, or none.
  assert.equal(likelySlotOf(38 * DAY, weekly), null);
  assert.equal(likelySlotOf(100 * DAY, weekly), null);
  assert.equal(likelySlotOf(-10 * DAY, weekly), null);
  // A place an hour off the spacing (a change of offset between) is still free; no spacing, no guess.
  assert.equal(likelySlotOf(6 * DAY, [0, 14 * DAY + 3_600_000, 21 * DAY + 3_600_000]), 7 * DAY);
  assert.equal(likelySlotOf(5 * DAY, [0]), null);
  assert.equal(likelySlotOf(5 * DAY, []), null);
});

test('no likely slot for an instance whose gap of known slots holds two free places: a cancelled week (Outlook deletes it) leaves its place free too', () => {
  const DAY = 86_400_000;
  const days = (...d: number[]) => d.map((n) => n * DAY);
  // Weekly; week 2 (day 14) cancelled; week 1 (day 7) moved to Friday, day 11, nearer day 14.
  assert.equal(likelySlotOf(11 * DAY, days(0, 21, 28)), null);
  // Week 1 moved past the cancelled week's place (day 15): only day 14 is less than a spacing away.
  assert.equal(likelySlotOf(15 * DAY, days(0, 21, 28)), null);
  // Week 3 (day 21) moved to the Thursday before (day 17), week 2 cancelled.
  assert.equal(likelySlotOf(17 * DAY, days(0, 7, 28)), null);
  // Every other week; the occurrence of day 28 moved to day 21, the one of day 14 cancelled: days
  // 14 and 28 both a week away.
  assert.equal(likelySlotOf(21 * DAY, days(0, 42, 56)), null);
  // The same with no week cancelled: its own place, alone in its gap.
  assert.equal(likelySlotOf(21 * DAY, days(0, 14, 42, 56)), 28 * DAY);
});

test('no likely slot for a series that meets on several days a week, whose gaps are not whole spacings; weekdays guess only within their own gap', () => {
  const DAY = 86_400_000;
  const HOUR = 3_600_000;
  const days = (...d: number[]) => d.map((n) => n * DAY);
  // Monday, Wednesday, Friday: Friday (day 4) moved to Saturday; Monday (day 14) moved to Saturday (day 13).
  assert.equal(likelySlotOf(5 * DAY, days(0, 2, 7, 9, 11, 14)), null);
  assert.equal(likelySlotOf(13 * DAY, days(0, 2, 4, 7, 9, 11, 16, 18)), null);
  // Wednesday (day 9) moved back past Monday to Saturday (day 5): in the three days from Friday to
  // Monday, the spacing (two days) would put a place on Sunday, when the series never meets.
  assert.equal(likelySlotOf(5 * DAY, days(0, 2, 4, 7, 11, 14, 16, 18, 21, 23, 25)), null);
  // Tuesday and Thursday: Tuesday (day 8) moved to Wednesday.
  assert.equal(likelySlotOf(9 * DAY, days(1, 3, 10, 15, 17)), null);
  // Weekdays: Monday (day 7) moved to Friday afternoon: Saturday, Sunday and Monday free in its gap.
  assert.equal(likelySlotOf(4 * DAY + 5 * HOUR, days(0, 1, 2, 3, 4, 8, 9, 10, 11)), null);
  // Weekdays: Tuesday (day 8) moved to its afternoon: its place alone in its gap.
  assert.equal(likelySlotOf(8 * DAY + 5 * HOUR, days(0, 1, 2, 3, 4, 7, 9, 10, 11)), 8 * DAY);
});

test('a weekly series across a change of UTC offset still has a likely slot, an hour off at most', () => {
  const at = (date: string) => Temporal.ZonedDateTime.from(`${date}T10:00[Europe/Berlin]`).epochMilliseconds;
  // Mondays; 30 March 2026 (after the change of 29 March) moved to Thursday 2 April.
  const known = ['2026-03-16', '2026-03-23', '2026-04-06', '2026-04-13'].map(at);
  assert.equal(likelySlotOf(at('2026-04-02'), known), at('2026-03-23') + 7 * 86_400_000);
  assert.equal(at('2026-03-30') - at('2026-03-23'), 7 * 86_400_000 - 3_600_000);
  // The change falls in a gap with no place free: 23 March moved to Thursday 26 March.
  assert.equal(likelySlotOf(at('2026-03-26'), ['2026-03-16', '2026-03-30', '2026-04-06'].map(at)), at('2026-03-23'));
});
