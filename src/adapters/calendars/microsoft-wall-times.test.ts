// Graph times given in a named zone rather than UTC (not expected of a read that asks for UTC with
// Prefer: outlook.timezone="UTC", which Graph applies to GET and lists; a safeguard), read around
// the changes of summer time, when a zone's offset at the wall time differs from its offset at the
// same digits read as UTC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphTimeMs, toChange } from './microsoft-calendar-provider.ts';

const at = (dateTime: string, timeZone: string) => ({ dateTime, timeZone });
const startOf = (dateTime: string, timeZone: string): string => {
  const change = toChange({ id: 'A', start: at(dateTime, timeZone), end: at(dateTime, timeZone) });
  assert.equal(change?.type, 'upsert');
  return new Date(change.type === 'upsert' ? change.event.startMs : NaN).toISOString();
};

test('Graph wall times in a Windows zone on the morning summer time starts: before the change, at the old offset', () => {
  assert.equal(startOf('2026-03-29T01:30:00.0000000', 'W. Europe Standard Time'), '2026-03-29T00:30:00.000Z');
  assert.equal(startOf('2026-03-08T05:00:00.0000000', 'Eastern Standard Time'), '2026-03-08T09:00:00.000Z');
});

test('Graph wall times in a Windows zone on the morning summer time ends: before the change, still at the summer offset', () => {
  assert.equal(startOf('2026-10-25T01:30:00.0000000', 'W. Europe Standard Time'), '2026-10-24T23:30:00.000Z');
  assert.equal(startOf('2026-11-01T00:30:00.0000000', 'Eastern Standard Time'), '2026-11-01T04:30:00.000Z');
});

test('Graph wall times the clocks skip or pass twice: a skipped one reads as the same length later, a doubled one as the first', () => {
  // 02:30 does not exist in Berlin on 29 March 2026 (02:00 CET becomes 03:00 CEST): 03:30 CEST.
  assert.equal(startOf('2026-03-29T02:30:00.0000000', 'W. Europe Standard Time'), '2026-03-29T01:30:00.000Z');
  // 02:30 comes twice on 25 October 2026: the first, in CEST.
  assert.equal(startOf('2026-10-25T02:30:00.0000000', 'W. Europe Standard Time'), '2026-10-25T00:30:00.000Z');
});

test('Graph wall times away from any change, in UTC, with an offset, or in a zone that cannot be placed', () => {
  assert.equal(startOf('2026-07-01T10:00:00.0000000', 'W. Europe Standard Time'), '2026-07-01T08:00:00.000Z');
  assert.equal(startOf('2026-01-15T10:00:00.0000000', 'Europe/Berlin'), '2026-01-15T09:00:00.000Z');
  assert.equal(startOf('2026-03-29T01:30:00.0000000', 'UTC'), '2026-03-29T01:30:00.000Z');
  assert.equal(graphTimeMs(at('2026-03-29T01:30:00+02:00', 'W. Europe Standard Time')), Date.parse('2026-03-28T23:30:00Z'));
  assert.equal(graphTimeMs(at('2026-03-29T01:30:00.0000000', 'tzone://Microsoft/Custom')), null);
  assert.equal(graphTimeMs(at('next Tuesday', 'W. Europe Standard Time')), null);
});
