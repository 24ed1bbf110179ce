// Finding the first byte of a body that is not UTF-8, and the field that holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { boundFieldName, fieldAtByte, firstInvalidUtf8Byte } from './body-encoding.ts';

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

test('a bad sequence that begins as U+FFFD is written (EF, EF BF) is named where it starts, not where its lossy reading first differs', () => {
  assert.equal(firstInvalidUtf8Byte(bytes('ab', [0xef, 0xbf], 'c')), 2);
  assert.equal(firstInvalidUtf8Byte(bytes('ab', [0xef], 'c')), 2);
  // A real U+FFFD before the bad byte is text like any other.
  assert.equal(firstInvalidUtf8Byte(bytes('\uFFFD', [0xef, 0xbf, 0x41])), 3);
});

test('the first bad byte is found wherever it lies in a long body, past the blocks compared whole', () => {
  const text = Buffer.from('{"t":"' + 'é会🎉x'.repeat(40_000) + '"}', 'utf8');
  // The definition: the shortest prefix a fatal streaming decoder refuses, stepped back to the
  // end of the longest whole prefix. Checked at offsets across the compared blocks' edges.
  const reference = (body: Buffer) => {
    for (let end = 1; end <= body.length; end++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, end), { stream: true });
      } catch {
        let start = end - 1;
        while (start > 0 && !isUtf8(body.subarray(0, start))) start--;
        return start;
      }
    }
    return -1;
  };
  for (const at of [6, 4095, 4096, 4097, 8191, 123_457, text.length - 3]) {
    const broken = Buffer.from(text);
    // Step back to a character's first byte, then put a Latin-1 é there.
    let start = at;
    while ((broken[start]! & 0xc0) === 0x80) start--;
    broken[start] = 0xe9;
    broken[start + 1] = 0x20;
    assert.equal(firstInvalidUtf8Byte(broken), start, String(at));
    if (at < 9000) assert.equal(reference(broken), start, `reference at ${at}`);
  }
});

test('a field name an answer repeats is cut to 100 characters', () => {
  assert.equal(boundFieldName('bot_config.team'), 'bot_config.team');
  assert.equal(boundFieldName('k'.repeat(500_000)), `${'k'.repeat(100)}…`);
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
