import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceSeriesId, instanceSeriesOf, parseInstanceSeriesId } from './instance-series.ts';

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
