// Finding the first byte of a body that is not UTF-8, and the field that holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldAtByte, firstInvalidUtf8Byte } from './body-encoding.ts';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

test('UTF-8 of every length, and none at all, is whole', () => {
  for (const text of ['', '{"a":"b"}', 'Café', '会議', '🎉 party', '\uFEFF{}']) assert.equal(firstInvalidUtf8Byte(Buffer.from(text, 'utf8')), -1, text);
});

test('the faulty character is named by where it starts, whatever broke it', () => {
  // Latin-1 é: a lead byte followed by a space, not the continuation it announced.
  assert.equal(firstInvalidUtf8Byte(Buffer.from('Caf\u00e9 sync', 'latin1')), 3);
  // A continuation byte with no lead, and bytes UTF-8 never uses.
  assert.equal(firstInvalidUtf8Byte(bytes('ab', [0x80], 'c')), 2);
  assert.equal(firstInvalidUtf8Byte(bytes('x', [0xff])), 1);
  // An overlong "/" and an encoded surrogate (RFC 3629 forbids both).
  assert.equal(firstInvalidUtf8Byte(bytes('12', [0xc0, 0xaf])), 2);
  assert.equal(firstInvalidUtf8Byte(bytes('é', [0xed, 0xa0, 0x80])), 2);
  // Three bytes of a four-byte character, then text.
  assert.equal(firstInvalidUtf8Byte(bytes('🎉', [0xf0, 0x9f, 0x8e], 'x')), 4);
  // A character cut off at the very end.
  assert.equal(firstInvalidUtf8Byte(bytes('abc', [0xe4, 0xbc])), 3);
});

test('the field is the dotted path of the text or key holding the byte; outside every string there is none', () => {
  const body = (inner: (string | number[])[]) => bytes(...inner);
  const nested = body(['{"bot_config":{"custom_attributes":{"team":"Caf', [0xe9], '"}},"k":"ok"}']);
  assert.equal(fieldAtByte(nested, firstInvalidUtf8Byte(nested)), 'bot_config.custom_attributes.team');
  const inKey = body(['{"list":[1,{"na', [0xef], 'me":1}]}']);
  assert.equal(fieldAtByte(inKey, firstInvalidUtf8Byte(inKey)), 'list.1.na\uFFFDme');
  const inArray = body(['{"matches":["a","b', [0xc3], '"]}']);
  assert.equal(fieldAtByte(inArray, firstInvalidUtf8Byte(inArray)), 'matches.1');
  const outside = body(['{', [0xff], '}']);
  assert.equal(fieldAtByte(outside, firstInvalidUtf8Byte(outside)), null);
});

test('a deeply nested body is searched without a path copied per level', () => {
  const depth = 100_000;
  const deep = bytes('['.repeat(depth), '"x', [0xe9], '"', ']'.repeat(depth));
  const started = performance.now();
  const field = fieldAtByte(deep, firstInvalidUtf8Byte(deep));
  assert.equal(field, Array(depth).fill('0').join('.'));
  assert.ok(performance.now() - started < 2_000, 'found in well under two seconds');
});
