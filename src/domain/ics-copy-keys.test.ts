import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyKey, otherFormOfCopyKey } from './ics-copy-keys.ts';

const START = Date.parse('2026-11-24T09:00:00Z');

test('a copy\'s key in its two forms: the UID alone, and the UID with the copy\'s start', () => {
  assert.equal(copyKey('talk@example.com', START), 'talk@example.com#20261124T090000Z');
  assert.equal(otherFormOfCopyKey('talk@example.com', START), 'talk@example.com#20261124T090000Z');
  assert.equal(otherFormOfCopyKey('talk@example.com#20261124T090000Z', START), 'talk@example.com');
  // Keyed by a start that is not the copy's: no other form.
  assert.equal(otherFormOfCopyKey('talk@example.com#20261125T090000Z', START), null);
  assert.equal(otherFormOfCopyKey('#20261124T090000Z', START), null);
});
