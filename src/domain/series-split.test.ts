import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continuationIdAffixes, parseSplitId } from './series-split.ts';

test('a split continuation\'s id names its series and the split time, as the API gives it and as a Google feed\'s UID', () => {
  const at = Date.UTC(2026, 11, 3, 9, 0, 0);
  assert.deepEqual(parseSplitId('abc123_R20261203T090000'), { baseId: 'abc123', splitMs: at });
  assert.deepEqual(parseSplitId('abc123_R20261203T090000Z'), { baseId: 'abc123', splitMs: at });
  assert.deepEqual(parseSplitId('44v30hsam8_R20261203T090000@google.com'), { baseId: '44v30hsam8@google.com', splitMs: at });
  // A continuation of a continuation names the one before it.
  assert.deepEqual(parseSplitId('abc_R20261126T090000_R20261203T090000'), { baseId: 'abc_R20261126T090000', splitMs: at });
  for (const id of ['abc123', 'abc_R2026120T090000', '_R20261203T090000', 'abc@google.com', 'abc_R20261203T090000@']) assert.equal(parseSplitId(id), null, id);
});

test('a series\' continuations are looked for with its id\'s stem and domain', () => {
  assert.deepEqual(continuationIdAffixes('abc123'), { prefix: 'abc123_R', suffix: '' });
  assert.deepEqual(continuationIdAffixes('44v30hsam8@google.com'), { prefix: '44v30hsam8_R', suffix: '@google.com' });
  const { prefix, suffix } = continuationIdAffixes('44v30hsam8@google.com');
  assert.equal(parseSplitId(`${prefix}20261203T090000${suffix}`)?.baseId, '44v30hsam8@google.com');
});
