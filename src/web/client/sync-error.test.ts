// A calendar sync error in words: its kind, and the calendar it is about by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSyncError } from './sync-error.ts';

const calendars = [{ id: 'AAMkADOxy5Pl_gH4GQR2=', summary: 'Colleague' }, { id: 'primary-id', summary: null }];

test('the kind the API writes first is said in words', () => {
  assert.equal(describeSyncError('permanent: the URL did not answer with an iCalendar feed (no BEGIN:VCALENDAR)', []), 'Refused: the URL did not answer with an iCalendar feed (no BEGIN:VCALENDAR)');
  assert.equal(describeSyncError('auth_revoked: the feed URL no longer grants access: HTTP 404', []), 'Access withdrawn: the feed URL no longer grants access: HTTP 404');
  assert.equal(describeSyncError('transient: HTTP 503', []), 'Temporary failure: HTTP 503');
});

test('a calendar named by its provider id is named as the card lists it', () => {
  assert.equal(describeSyncError('permanent: calendar AAMkADOxy5Pl_gH4GQR2=: Graph: HTTP 403 ErrorAccessDenied', calendars), 'Refused: calendar Colleague: Graph: HTTP 403 ErrorAccessDenied');
  assert.equal(describeSyncError('transient: calendar primary-id: HTTP 500', calendars), 'Temporary failure: calendar primary-id: HTTP 500', 'a calendar without a name keeps its id');
});

test('a text that does not start with a known kind stays as it is', () => {
  assert.equal(describeSyncError('the first sync failed; the background sync will retry', calendars), 'the first sync failed; the background sync will retry');
  assert.equal(describeSyncError('HTTP 404: gone', []), 'HTTP 404: gone');
});

test('a text starting with a name every object has (constructor, toString) is no kind', () => {
  assert.equal(describeSyncError('constructor: x', []), 'constructor: x');
  assert.equal(describeSyncError('toString: y', []), 'toString: y');
});

test('an instant the error names is in the viewer\'s time, as on the rest of the page', () => {
  const text = describeSyncError('rate_limited: Graph asked to wait; not called before 2026-12-04T21:38:00.000Z', []);
  assert.doesNotMatch(text, /2026-12-04T21:38/);
  assert.match(text, /^Slowed down by the provider: Graph asked to wait; not called before \S/);
});
