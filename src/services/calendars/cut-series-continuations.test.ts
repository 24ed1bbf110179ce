import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventRow } from '../../db/schema.ts';
import { findCutContinuations } from './cut-series-continuations.ts';

const START_MS = Date.parse('2026-12-07T09:00:00Z');

function seriesRow(id: string, rrule: string, timezone: string): EventRow {
  return {
    id, provider_event_id: id, start_ms: START_MS, end_ms: START_MS + 1_800_000, timezone, recurrence: JSON.stringify([rrule]), zone_rules: null,
    is_deleted: 0, status: 'confirmed', title: 'Weekly sync', meeting_url: 'https://meet.google.com/abc-defg-hij', organizer_email: 'a@example.com', raw: '{}',
  } as unknown as EventRow;
}

// A changed series whose new rule has no end (no UNTIL or COUNT) lost no tail, so it is not
// compiled at all: a sync that changed thousands of series pays nothing for them, and one whose
// stored fields cannot be read (here a zone no longer known) does not fail the sync.
test('a changed series without an end to its rule is no cut, and is not read: one that cannot be read is passed over', () => {
  const changed = [{
    before: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'Nowhere/Zone'),
    after: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO,TU', 'Nowhere/Zone'),
  }];
  const appeared = [seriesRow('e2', 'RRULE:FREQ=WEEKLY;BYDAY=WE', 'UTC')];
  assert.deepEqual(findCutContinuations(changed, appeared, Date.parse('2026-12-07T00:00:00Z'), null), []);
});
