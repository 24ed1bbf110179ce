import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Temporal } from 'temporal-polyfill';
import { findInstanceOn, instanceChainPosition, instanceSeriesId, instanceSeriesOf, instanceSeriesPattern, claimServedSlots, currentSlotOf, likelySlotOf, placesZoneOf, isPlainOccurrence, isStoredException, parseInstanceChainPosition, parseInstanceSeriesId, type SlottedInstance } from './instance-series.ts';

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

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Instances on their slots (plain occurrences), on the days given (day 0: Thursday 1 January 1970, UTC). */
const onSlots = (...days: number[]) => days.map((d) => ({ startMs: d * DAY, slotMs: d * DAY }));
const weeklyOnThursday = { rule: 'RRULE:FREQ=WEEKLY;BYDAY=TH;WKST=SU', timeZone: 'UTC' };
/**
 * likelySlotOf with the series' current slot as the chain gives it: that of the plain occurrence
 * written last; here, of instances synced together, the one on its slot that starts last.
 */
const likely = (startMs: number, known: readonly SlottedInstance[], series: { rule: string | null; timeZone: string | null },
  currentSlotMs = known.filter((i) => i.startMs === i.slotMs).reduce<number | null>((last, i) => last === null || i.slotMs > last ? i.slotMs : last, null)) =>
  likelySlotOf(startMs, known, { ...series, currentSlotMs });

test('the likely slot of an instance first listed moved: the one place of the series\' rule free in the gap of known slots it lies in, less than a spacing away', () => {
  const weekly = onSlots(0, 14, 21, 28);
  // Week 1 (day 7) moved to day 5, or to day 11: its place is free.
  assert.equal(likely(5 * DAY, weekly, weeklyOnThursday), 7 * DAY);
  assert.equal(likely(11 * DAY, weekly, weeklyOnThursday), 7 * DAY);
  // Before the first known slot, or after the last: the one free place less than a spacing away.
  assert.equal(likely(-5 * DAY, weekly, weeklyOnThursday), -7 * DAY);
  assert.equal(likely(33 * DAY, weekly, weeklyOnThursday), 35 * DAY);
  // Past the last known slot by more than a spacing: two places less than a spacing away, or none.
  assert.equal(likely(38 * DAY, weekly, weeklyOnThursday), null);
  assert.equal(likely(100 * DAY, weekly, weeklyOnThursday), null);
  assert.equal(likely(-10 * DAY, weekly, weeklyOnThursday), null);
  // Unsorted and repeated known slots read the same.
  assert.equal(likely(10 * DAY, onSlots(28, 0, 21, 0, 7, 28, 35, 7), weeklyOnThursday), 14 * DAY);
  // No known slot, no guess.
  assert.equal(likely(5 * DAY, [], weeklyOnThursday), null);
});

test('the likely slot follows the rule\'s interval: every other week, every day', () => {
  const biweekly = { rule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;WKST=SU', timeZone: 'UTC' };
  for (const start of [22, 25, 28.5, 31, 34]) assert.equal(likely(start * DAY, onSlots(0, 14, 42, 56), biweekly), 28 * DAY, `start day ${start}`);
  const daily = { rule: 'RRULE:FREQ=DAILY', timeZone: 'UTC' };
  assert.equal(likely(3 * DAY + 5 * HOUR, onSlots(0, 1, 2, 4, 5), daily), 3 * DAY);
  assert.equal(likely(3 * DAY - 5 * HOUR, onSlots(0, 1, 2, 4, 5), daily), 3 * DAY);
  // One known slot is enough: the rule gives the spacing.
  assert.equal(likely(5 * DAY, onSlots(7), weeklyOnThursday), 0);
});

test('the rule, not the known slots\' gaps, gives the spacing: a cancelled week between the only known slots does not double it', () => {
  // Weekly; week 7 cancelled (Outlook deletes it): known 0 and 14. Week 21 moved to day 18.
  assert.equal(likely(18 * DAY, onSlots(0, 14), weeklyOnThursday), 21 * DAY);
  // Week -7 moved to day -4, before the first known slot.
  assert.equal(likely(-4 * DAY, onSlots(0, 14), weeklyOnThursday), -7 * DAY);
  // Every other week unknown (weeks 7 and 21 cancelled); week 35 moved to day 31.
  assert.equal(likely(31 * DAY, onSlots(0, 14, 28), weeklyOnThursday), 35 * DAY);
  // Recorded as served, the guess claims no other week: week 28, listed later, is not taken for it.
  const guess = likely(18 * DAY, onSlots(0, 14), weeklyOnThursday)!;
  const claimed = claimServedSlots([{ id: 'week0', slotMs: 0 }, { id: 'week14', slotMs: 14 * DAY }, { id: 'week28', slotMs: 28 * DAY }, { id: 'week35', slotMs: 35 * DAY }], [0, 14 * DAY, guess], 7 * DAY);
  assert.deepEqual([...claimed].sort(), ['week0', 'week14']);
});

test('no likely slot for an instance whose gap of known slots holds two free places: a cancelled week (Outlook deletes it) leaves its place free too', () => {
  // Weekly; week 2 (day 14) cancelled; week 1 (day 7) moved to day 11, nearer day 14.
  assert.equal(likely(11 * DAY, onSlots(0, 21, 28), weeklyOnThursday), null);
  // Week 1 moved past the cancelled week's place (day 15): only day 14 is less than a spacing away.
  assert.equal(likely(15 * DAY, onSlots(0, 21, 28), weeklyOnThursday), null);
  // Week 3 (day 21) moved to day 17, week 2 cancelled.
  assert.equal(likely(17 * DAY, onSlots(0, 7, 28), weeklyOnThursday), null);
  assert.equal(likely(9 * DAY, onSlots(0, 21, 28), weeklyOnThursday), null);
  assert.equal(likely(16 * DAY, onSlots(0, 21, 28), weeklyOnThursday), null);
  // Every other week; the occurrence of day 28 moved to day 21, the one of day 14 cancelled.
  const biweekly = { rule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH', timeZone: 'UTC' };
  assert.equal(likely(21 * DAY, onSlots(0, 42, 56), biweekly), null);
  // The same with no week cancelled: its own place, alone in its gap.
  assert.equal(likely(21 * DAY, onSlots(0, 14, 42, 56), biweekly), 28 * DAY);
});

test('no likely slot for an instance with a known instance moved across its start: which gap it came from is not clear', () => {
  // Weekly; week 14 moved to day 8 (an exception keeps its slot, 14), week 7 cancelled, then week
  // 21 moved to day 12, past week 14's place: the gap of slots (0, 14) would give day 7.
  const known = [...onSlots(0), { startMs: 8 * DAY, slotMs: 14 * DAY }, ...onSlots(28, 35, 42, 49, 56)];
  assert.equal(likely(12 * DAY, known, weeklyOnThursday), null);
  // Moved across nothing, week 21 moved to day 24 gets its place.
  assert.equal(likely(24 * DAY, known, weeklyOnThursday), 21 * DAY);
});

test('no likely slot for a rule that does not meet once a period, nor without a rule or a zone, nor with known slots the rule does not make', () => {
  // Monday, Wednesday and Friday; only Monday and Friday known: next Wednesday (day 9) moved to Tuesday.
  assert.equal(likely(8 * DAY, onSlots(0, 4), { rule: 'RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;WKST=SU', timeZone: 'UTC' }), null);
  // Tuesday and Thursday with only Thursdays known: a Tuesday (day 15) moved to Wednesday.
  assert.equal(likely(16 * DAY, onSlots(3, 10), { rule: 'RRULE:FREQ=WEEKLY;BYDAY=TU,TH', timeZone: 'UTC' }), null);
  // Weekdays: Tuesday (day 8) moved to its afternoon.
  assert.equal(likely(8 * DAY + 5 * HOUR, onSlots(0, 1, 2, 3, 4, 7, 9, 10, 11), { rule: 'RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;WKST=SU', timeZone: 'UTC' }), null);
  // Monthly on the 15th (Graph's absoluteMonthly), on the second Thursday, yearly.
  const at = (date: string) => Temporal.ZonedDateTime.from(`${date}T10:00[Europe/Berlin]`).epochMilliseconds;
  const months = ['2026-07-15', '2026-08-15', '2026-09-15'].map((d) => ({ startMs: at(d), slotMs: at(d) }));
  for (const rule of ['RRULE:FREQ=MONTHLY;BYMONTHDAY=15', 'RRULE:FREQ=MONTHLY;BYDAY=TH;BYSETPOS=2', 'RRULE:FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=15', 'RRULE:FREQ=DAILY;BYDAY=MO', 'RRULE:FREQ=WEEKLY', 'FREQ=WEEKLY;BYDAY=TH', 'RRULE:FREQ=WEEKLY;INTERVAL=0;BYDAY=TH']) {
    assert.equal(likely(at('2026-10-12'), months, { rule, timeZone: 'Europe/Berlin' }), null, rule);
  }
  assert.equal(likely(5 * DAY, onSlots(0, 14, 21), { rule: null, timeZone: 'UTC' }), null);
  assert.equal(likely(5 * DAY, onSlots(0, 14, 21), { rule: weeklyOnThursday.rule, timeZone: null }), null);
  assert.equal(likely(5 * DAY, onSlots(0, 14, 21), { rule: weeklyOnThursday.rule, timeZone: 'Not/AZone' }), null);
  // Known slots on Thursdays, the rule now on Fridays (the series moved since): none.
  assert.equal(likely(5 * DAY, onSlots(0, 14, 21), { rule: 'RRULE:FREQ=WEEKLY;BYDAY=FR', timeZone: 'UTC' }), null);
  // Known slots a day apart under a weekly rule: the slot after the start is not one of its places.
  assert.equal(likely(5 * DAY, onSlots(0, 8), weeklyOnThursday), null);
});

test('a series across a change of UTC offset gets its true slot: the rule\'s places are laid in its zone', () => {
  for (const [zone, spring, fall] of [['Europe/Berlin', '2026-03-16', '2026-10-12'], ['America/New_York', '2026-03-02', '2026-10-26']] as const) {
    for (const from of [spring, fall]) {
      // Mondays at 10:00 from a Monday two weeks before the change; each of weeks 1 to 3 moved three days later.
      const weeks = Array.from({ length: 6 }, (_, i) => Temporal.ZonedDateTime.from(`${from}T10:00[${zone}]`).add({ weeks: i }).epochMilliseconds);
      const weekly = { rule: 'RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU', timeZone: zone };
      for (const k of [1, 2, 3]) {
        const known = weeks.filter((_, i) => i !== k).map((w) => ({ startMs: w, slotMs: w }));
        assert.equal(likely(weeks[k]! + 3 * DAY, known, weekly), weeks[k], `${zone} from ${from}, week ${k}`);
      }
      // Before the first known slot and after the last, across the change (between weeks 1 and 2) too.
      const slotted = (...ks: number[]) => ks.map((k) => ({ startMs: weeks[k]!, slotMs: weeks[k]! }));
      assert.equal(likely(weeks[1]! + 3 * DAY, slotted(2, 3, 4), weekly), weeks[1], `${zone} from ${from}, before the first`);
      assert.equal(likely(weeks[2]! - 3 * DAY, slotted(0, 1), weekly), weeks[2], `${zone} from ${from}, after the last`);
      // Every day at 10:00 for three weeks; each day moved four hours later.
      const days = Array.from({ length: 21 }, (_, i) => Temporal.ZonedDateTime.from(`${from}T10:00[${zone}]`).add({ days: i }).epochMilliseconds);
      const daily = { rule: 'RRULE:FREQ=DAILY', timeZone: zone };
      for (let k = 1; k < 20; k++) {
        const known = days.filter((_, i) => i !== k).map((d) => ({ startMs: d, slotMs: d }));
        assert.equal(likely(days[k]! + 4 * HOUR, known, daily), days[k], `${zone} from ${from}, day ${k}`);
      }
    }
  }
});

test('a known slot far from the start costs no more than a near one: the places are moved to by whole periods, not laid one by one', () => {
  // Count the Temporal steps a call takes (each a move of a date or a reading in a zone).
  let steps = 0;
  const counted = <T extends object>(proto: T, name: keyof T) => {
    const original = proto[name] as (...args: unknown[]) => unknown;
    mock.method(proto, name as never, function (this: unknown, ...args: unknown[]) { steps++; return original.apply(this, args); } as never);
  };
  for (const name of ['add', 'subtract', 'toPlainDateTime'] as const) counted(Temporal.ZonedDateTime.prototype, name);
  for (const name of ['add', 'subtract', 'toZonedDateTime'] as const) counted(Temporal.PlainDateTime.prototype, name);
  counted(Temporal.PlainDate.prototype, 'add');
  counted(Temporal.Instant.prototype, 'toZonedDateTimeISO');
  try {
    const daily = { rule: 'RRULE:FREQ=DAILY', timeZone: 'Europe/Berlin' };
    const at = (date: string, time = '10:00') => Temporal.ZonedDateTime.from(`${date}T${time}[Europe/Berlin]`).epochMilliseconds;
    const cases: [string, number, { startMs: number; slotMs: number }[], number | null][] = [
      // Every day at 10:00, the last known slot fifty years back: a day on its place is that place...
      ['fifty years after the last known slot, on a place', at('2076-03-30'), [{ startMs: at('2026-03-30'), slotMs: at('2026-03-30') }], at('2076-03-30')],
      // ... a day moved off its place has two places less than a day from it, and gets none.
      ['fifty years after the last known slot, off a place', at('2076-03-30', '17:00'), [{ startMs: at('2026-03-30'), slotMs: at('2026-03-30') }], null],
      ['fifty years before the first known slot', at('1976-03-30'), [{ startMs: at('2026-03-30'), slotMs: at('2026-03-30') }], at('1976-03-30')],
      ['five years after the last of three known slots', at('2031-03-30'), ['2026-03-28', '2026-03-29', '2026-03-30'].map((d) => ({ startMs: at(d), slotMs: at(d) })), at('2031-03-30')],
    ];
    for (const [label, start, known, expected] of cases) {
      steps = 0;
      const guess = likely(start, known, daily);
      assert.ok(steps <= 10, `${label}: ${steps} Temporal steps`);
      assert.equal(guess, expected, label);
    }
  } finally {
    mock.restoreAll();
  }
});

test('no likely slot next to a known slot taken under another rule, nor where the known slots next to the start are not whole periods of the rule apart', () => {
  const weekly = 'RRULE:FREQ=WEEKLY;BYDAY=TH;WKST=SU';
  const biweekly = { rule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;WKST=SU', timeZone: 'UTC' };
  // Weekly on Thursdays (weeks 0 to 21, synced under that rule) became every other Thursday from
  // day 28 (28, 42, ...); week 28 moved to day 30, week 42 not listed yet: its slot is 28, not 35.
  const old = onSlots(0, 7, 14, 21).map((i) => ({ ...i, rule: weekly }));
  assert.equal(likely(30 * DAY, old, biweekly), null);
  // The same slots with no rule told: the last two known slots are a week apart, not two.
  assert.equal(likely(30 * DAY, onSlots(0, 7, 14, 21), biweekly), null);
  assert.equal(likely(5 * DAY, onSlots(14, 21, 28), biweekly), null);
  // Between a slot of the old rule and one of the new: none either.
  const both = [...old, ...onSlots(42, 56).map((i) => ({ ...i, rule: biweekly.rule }))];
  assert.equal(likely(30 * DAY, both, biweekly), null);
  // Past the new rule's known slots (42, 56), week 70 moved to day 66: its place, old slots or not.
  assert.equal(likely(66 * DAY, both, biweekly), 70 * DAY);
  // A slot taken before the series' end was changed (its COUNT or UNTIL) lays the same places.
  const ended = onSlots(0, 7, 14).map((i) => ({ ...i, rule: 'RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TH;WKST=SU' }));
  assert.equal(likely(18 * DAY, ended, { rule: 'RRULE:FREQ=WEEKLY;UNTIL=19700401T000000Z;BYDAY=TH;WKST=SU', timeZone: 'UTC' }), 21 * DAY);
  assert.equal(likely(18 * DAY, onSlots(0, 7, 14).map((i) => ({ ...i, rule: null })), { rule: weekly, timeZone: 'UTC' }), null);
});

test('a rule whose interval runs past the dates Temporal can hold gets no likely slot, and throws nothing', () => {
  for (const rule of ['RRULE:FREQ=WEEKLY;INTERVAL=999999999;BYDAY=TH;WKST=SU', 'RRULE:FREQ=DAILY;INTERVAL=999999999']) {
    assert.equal(likely(10 * DAY, onSlots(0, 7, 21, 28), { rule, timeZone: 'UTC' }), null, rule);
    assert.equal(likely(40 * DAY, onSlots(0, 7, 21, 28), { rule, timeZone: 'UTC' }), null, rule);
    assert.equal(likely(-10 * DAY, onSlots(0, 7, 21, 28), { rule, timeZone: 'UTC' }), null, rule);
  }
});

test('an Outlook all-day series\' places are UTC midnights, as Graph gives its days, whatever its zone', () => {
  const midnight = (date: string) => Date.parse(`${date}T00:00:00Z`);
  const days = (...dates: string[]) => dates.map((d) => ({ startMs: midnight(d), slotMs: midnight(d) }));
  const onMondays = 'RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU';
  const outlook = (timezone: string | null, allDay: boolean) => ({ is_all_day: allDay, platform: 'outlook_calendar', timezone });
  assert.equal(placesZoneOf(outlook('Europe/Berlin', false)), 'Europe/Berlin');
  assert.equal(placesZoneOf(outlook(null, true)), 'UTC');
  // Mondays in Berlin across the change to summer time (29 March 2026): Monday 30 March moved to
  // Thursday 26 is recorded at Monday 30's UTC midnight, not an hour before it.
  const berlin = { rule: onMondays, timeZone: placesZoneOf(outlook('Europe/Berlin', true)) };
  assert.equal(likely(midnight('2026-03-26'), days('2026-03-16', '2026-03-23'), berlin), midnight('2026-03-30'));
  assert.equal(likely(midnight('2026-03-24'), days('2026-03-16', '2026-03-30'), berlin), midnight('2026-03-23'));
  // Mondays in New York, whose UTC midnights fall on Sunday evenings there: the Monday its days are.
  const newYork = { rule: onMondays, timeZone: placesZoneOf(outlook('America/New_York', true)) };
  assert.equal(likely(midnight('2026-10-29'), days('2026-10-19', '2026-10-26'), newYork), midnight('2026-11-02'));
  assert.equal(likely(midnight('2026-10-29'), days('2026-10-19', '2026-10-26'), { rule: onMondays, timeZone: 'America/New_York' }), null);
});

test('no likely slot from known slots off the series\' current slot: its time of day or its phase changed, which the rule does not tell', () => {
  const at = (day: number, hour: number) => day * DAY + hour * HOUR;
  const plain = (...ms: number[]) => ms.map((m) => ({ startMs: m, slotMs: m }));
  // Every third Thursday (0, 21, 42 known), the series' start moved on a week since: it meets on
  // days 49, 70, ... (a week written last at 70); week 49 moved to day 47 has its place at 49, not 63.
  const everyThird = { rule: 'RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=TH;WKST=SU', timeZone: 'UTC' };
  const thirds = plain(0, 21 * DAY, 42 * DAY).map((i) => ({ ...i, rule: everyThird.rule }));
  assert.equal(likely(47 * DAY, thirds, everyThird, 70 * DAY), null);
  // Every other Thursday (0, 14, 28 known), moved on a week (7, 21, 35, ...): week 35 moved to day 33.
  const biweekly = { rule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;WKST=SU', timeZone: 'UTC' };
  assert.equal(likely(33 * DAY, onSlots(0, 14, 28), biweekly, 49 * DAY), null);
  // Every day at 08:00 (days 0 to 4 known), at 21:00 since (a day written last at 21:00): day 5,
  // moved to 08:00, has its place at 21:00.
  const daily = { rule: 'RRULE:FREQ=DAILY', timeZone: 'UTC' };
  const mornings = plain(...[0, 1, 2, 3, 4].map((d) => at(d, 8)));
  assert.equal(likely(at(5, 8), mornings, daily, at(6, 21)), null);
  assert.equal(likely(at(5, 17), mornings, daily, at(6, 21)), null);
  // Thursdays at 10:00 (weeks 0 to 28 known), at 15:00 since: week 35 moved to 10:00.
  assert.equal(likely(at(35, 10), plain(...[0, 7, 14, 21, 28].map((d) => at(d, 10))), weeklyOnThursday, at(42, 15)), null);
  // With the known slots next to the start on the series' time now (days 3 and 4 listed again at
  // 21:00), its place; with only the one next to it so, none (the one beyond is at 08:00).
  assert.equal(likely(at(5, 8), [...mornings.slice(0, 3), ...plain(at(3, 21), at(4, 21))], daily), at(5, 21));
  assert.equal(likely(at(5, 8), [...mornings.slice(0, 4), ...plain(at(4, 21))], daily), null);
  // Past the known slots of the new phase (49, 70), week 91 moved to day 89: its place.
  assert.equal(likely(89 * DAY, [...thirds, ...plain(49 * DAY, 70 * DAY)], everyThird), 91 * DAY);
  // No current slot known (no plain occurrence with a slot): none.
  assert.equal(likely(5 * DAY, onSlots(0, 14, 21), weeklyOnThursday, null), null);
});

test('the places are laid from a slot on a day of 24 hours: a time the clocks skip is held later that day only', () => {
  // Every day, and every Sunday, at a time the change to summer time skips: the slot of that
  // Sunday is held after the gap (02:30 at 03:30), the days after are back at 02:30.
  for (const [zone, sunday, time] of [['Europe/Berlin', '2026-03-29', '02:30'], ['America/New_York', '2026-03-08', '02:30'], ['Australia/Sydney', '2026-10-04', '02:30'], ['Australia/Lord_Howe', '2026-10-04', '02:15']] as const) {
    for (const [rule, unit] of [['RRULE:FREQ=DAILY', 'days'], ['RRULE:FREQ=WEEKLY;BYDAY=SU;WKST=SU', 'weeks']] as const) {
      const series = { rule, timeZone: zone };
      const slot = (periods: number) => Temporal.ZonedDateTime.from(`${sunday}T${time}[${zone}]`).add({ [unit]: periods }).epochMilliseconds;
      const label = `${zone} ${rule}`;
      const changeDay = Temporal.Instant.fromEpochMilliseconds(slot(0)).toZonedDateTimeISO(zone);
      assert.notEqual(changeDay.toPlainTime().toString().slice(0, 5), time, `${label}: the change day's slot is held later`);
      assert.notEqual(changeDay.hoursInDay, 24, label);
      // The slot of the change day alone known (and the series' current one): the next period on
      // its place, or moved an hour, gets none rather than the held time.
      const held = [{ startMs: slot(0), slotMs: slot(0) }];
      assert.equal(likely(slot(1), held, series), null, `${label}: on its place`);
      assert.equal(likely(slot(1) + HOUR, held, series), null, `${label}: moved an hour`);
      // With the current slot on a day of 24 hours, the places are those of the series.
      const known = [slot(-1), slot(0), slot(2)].map((ms) => ({ startMs: ms, slotMs: ms }));
      assert.equal(likely(slot(1) + 5 * HOUR, known, series), slot(1), `${label}: between`);
      assert.equal(likely(slot(1), known.slice(0, 2), series, slot(-1)), slot(1), `${label}: after the last, on its place`);
      assert.equal(likely(slot(-2) + HOUR, known, series), slot(-2), `${label}: before the first`);
    }
  }
});

test('the current slot is that of the plain occurrence written last; an exception, a row without a slot or a payload that is not JSON is passed over', () => {
  const DAY = 86_400_000;
  const plain = JSON.stringify({ type: 'occurrence' });
  const moved = JSON.stringify({ type: 'exception' });
  const row = (id: string, startMs: number, updatedAt: number, raw = plain) => ({ id, raw, updated_at: updatedAt, start_ms: startMs });
  const slots = new Map([['a', 0], ['b', 7 * DAY], ['c', 14 * DAY], ['d', 21 * DAY]]);
  // b was written last: its slot, whatever the starts.
  assert.equal(currentSlotOf([row('a', 0, 100), row('b', 7 * DAY, 300), row('c', 14 * DAY, 200)], slots), 7 * DAY);
  // Written together: the later start.
  assert.equal(currentSlotOf([row('a', 0, 100), row('c', 14 * DAY, 100), row('b', 7 * DAY, 100)], slots), 14 * DAY);
  // An exception keeps a slot from before any change, so it never tells the current one.
  assert.equal(currentSlotOf([row('a', 0, 100), row('d', 25 * DAY, 900, moved)], slots), 0);
  // A row with no slot known, or a payload that cannot be read, is passed over.
  assert.equal(currentSlotOf([row('a', 0, 100), row('x', 28 * DAY, 900)], slots), 0);
  assert.equal(currentSlotOf([row('a', 0, 100), row('b', 7 * DAY, 900, '{not json')], slots), 0);
  // Stored as text (PostgreSQL's bigint): compared as numbers, not strings.
  assert.equal(currentSlotOf([row('a', 0, 900), { id: 'b', raw: plain, updated_at: '1000', start_ms: String(7 * DAY) }], slots), 7 * DAY);
  assert.equal(currentSlotOf([row('d', 25 * DAY, 900, moved)], slots), null);
  assert.equal(currentSlotOf([], slots), null);
});
