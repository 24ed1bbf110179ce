import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { decodeCursor, encodeCursor, positionCursor } from './paging-cursor.ts';

const refused = (fn: () => unknown) => assert.throws(fn, (error: unknown) => error instanceof ApiError && error.code === 'invalid_cursor');

test('a position cursor reads back what it wrote, and keeps the wire format it was issued with', () => {
  const events = positionCursor('s');
  const cursor = events.encode(1_796_000_000_000, 'evt_abc');
  assert.deepEqual(events.decode(cursor), { ms: 1_796_000_000_000, id: 'evt_abc' });
  assert.deepEqual(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')), { s: 1_796_000_000_000, i: 'evt_abc' });
});

test('a cursor of another listing, of another shape, or not one at all is invalid_cursor', () => {
  const bots = positionCursor('j');
  refused(() => bots.decode(positionCursor('s').encode(1, 'evt_a')));
  refused(() => bots.decode(encodeCursor({ j: 1.5, i: 'bot_a' })));
  refused(() => bots.decode(encodeCursor({ j: 1, i: 7 })));
  refused(() => bots.decode(Buffer.from('[1,2]').toString('base64url')));
  refused(() => bots.decode(Buffer.from('null').toString('base64url')));
  refused(() => bots.decode('%%%not-base64'));
  refused(() => decodeCursor('', () => 1));
  // A NUL would reach PostgreSQL, which refuses it in text (a 500 before).
  refused(() => bots.decode(encodeCursor({ j: 1, i: 'bot_\u0000' })));
});
