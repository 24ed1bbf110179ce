import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAllDayRaw } from './053-events-all-day.ts';

test('migration 053 fills is_all_day from the payload: all-day events as Google, Graph and a feed give them; timed ones are not', () => {
  assert.equal(isAllDayRaw(JSON.stringify({ start: { date: '2026-12-04' }, end: { date: '2026-12-05' } })), true);
  assert.equal(isAllDayRaw(JSON.stringify({ start: { dateTime: '2026-12-04T10:00:00Z' } })), false);
  assert.equal(isAllDayRaw(JSON.stringify({ isAllDay: true, start: { dateTime: '2026-12-04T00:00:00.0000000', timeZone: 'UTC' } })), true);
  assert.equal(isAllDayRaw(JSON.stringify({ isAllDay: false })), false);
  const vevent = (dtstart: string) => JSON.stringify({ uid: 'a@b', vevent: `BEGIN:VEVENT\r\nUID:a@b\r\n${dtstart}\r\nSUMMARY:x\r\nEND:VEVENT` });
  assert.equal(isAllDayRaw(vevent('DTSTART;VALUE=DATE:20261204')), true);
  assert.equal(isAllDayRaw(vevent('DTSTART:20261204')), true);
  assert.equal(isAllDayRaw(vevent('DTSTART;TZID=Europe/Berlin:20261204T090000')), false);
  assert.equal(isAllDayRaw(vevent('DTSTART:20261204T090000Z')), false);
  assert.equal(isAllDayRaw('not json'), false);
});
