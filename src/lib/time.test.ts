import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstant, parseQueryInstant } from './time.ts';

test('a query string\'s unencoded + offset, decoded to a space, is read as the + it was', () => {
  const utc = Date.parse('2026-12-01T09:00:00Z');
  assert.equal(parseQueryInstant('2026-12-01T09:00:00 00:00'), utc);
  assert.equal(parseQueryInstant('2026-12-01T10:30:00 01:30'), utc);
  assert.equal(parseQueryInstant('2026-12-01T10:30:00.250 01:30'), utc + 250);
  assert.equal(parseQueryInstant('2026-12-01T10:30 01:30'), utc);
  // Everything parseInstant reads, it reads the same.
  for (const value of ['2026-12-01T09:00:00Z', '2026-12-01T09:00:00+00:00', '2026-12-01T04:00:00-05:00']) assert.equal(parseQueryInstant(value), parseInstant(value));
  // A space anywhere else, or without the offset's shape, is still refused.
  for (const value of ['2026-12-01 09:00:00Z', '2026-12-01T09:00:00  00:00', '2026-12-01T09:00:00 0000', '2026-12-01T09:00:00 ', '2026-12-01']) assert.equal(parseQueryInstant(value), null, value);
  // Outside query strings a space is no offset.
  assert.equal(parseInstant('2026-12-01T09:00:00 00:00'), null);
});
