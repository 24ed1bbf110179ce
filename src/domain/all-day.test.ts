import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allDayZone } from './all-day.ts';

test('allDayZone: a Google or ICS all-day event is read in its own zone, an Outlook one in UTC, a timed one not at all', () => {
  assert.equal(allDayZone({ is_all_day: true, platform: 'google_calendar', timezone: 'Europe/Berlin' }), 'Europe/Berlin');
  assert.equal(allDayZone({ is_all_day: true, platform: 'ics', timezone: 'Asia/Tokyo' }), 'Asia/Tokyo');
  // Graph's all-day times are midnights in UTC whatever zone the event names.
  assert.equal(allDayZone({ is_all_day: true, platform: 'outlook_calendar', timezone: 'America/New_York' }), 'UTC');
  assert.equal(allDayZone({ is_all_day: true, platform: 'google_calendar', timezone: null }), 'UTC');
  assert.equal(allDayZone({ is_all_day: false, platform: 'google_calendar', timezone: 'Europe/Berlin' }), null);
  assert.equal(allDayZone({ is_all_day: false, platform: null, timezone: 'Europe/Berlin' }), null);
});
