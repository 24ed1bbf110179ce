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
test('a changed series without an end to its rule is no cut, and is not read: one that cannot be read is passed over', async () => {
  const changed = [{
    before: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'Nowhere/Zone'),
    after: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO,TU', 'Nowhere/Zone'),
  }];
  const appeared = [seriesRow('e2', 'RRULE:FREQ=WEEKLY;BYDAY=WE', 'UTC')];
  assert.deepEqual(await findCutContinuations(changed, appeared, Date.parse('2026-12-07T00:00:00Z'), null), []);
});

// A series that cannot be read at all (compileSeries' RangeError) is passed over wherever it is, so
// that it does not fail the search, and with it the sync, for every other series.
test('a cut series that cannot be read is passed over, as is a new series that cannot be read', async () => {
  const nowMs = Date.parse('2026-12-07T00:00:00Z');
  const unreadableCut = [{
    before: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'Nowhere/Zone'),
    after: seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T000000Z', 'Nowhere/Zone'),
  }];
  assert.deepEqual(await findCutContinuations(unreadableCut, [seriesRow('e2', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'UTC')], nowMs, null), []);
  const sameMeeting = { meeting_identity: 'google_meet:abc-defg-hij' };
  const readableCut = [{
    before: { ...seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'UTC'), ...sameMeeting } as EventRow,
    after: { ...seriesRow('e1', 'RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261215T000000Z', 'UTC'), ...sameMeeting } as EventRow,
  }];
  const continuation = { ...seriesRow('e3', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'UTC'), ...sameMeeting, start_ms: Date.parse('2026-12-21T09:00:00Z'), end_ms: Date.parse('2026-12-21T09:30:00Z') } as EventRow;
  const found = await findCutContinuations(readableCut, [seriesRow('e2', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'Nowhere/Zone'), continuation], nowMs, null);
  assert.deepEqual(found.map((f) => [f.base.id, f.continuation.id]), [['e1', 'e3']]);
});
