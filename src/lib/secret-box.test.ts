import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.ts';

test('round-trips and never stores the plaintext', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.encrypt('refresh-token-123');
  assert.ok(!sealed.includes('refresh-token-123'));
  assert.ok(SecretBox.isSealed(sealed));
  assert.equal(box.decrypt(sealed), 'refresh-token-123');
  assert.notEqual(box.encrypt('x'), box.encrypt('x'), 'a fresh IV each time');
});

test('a tampered value or another key is refused', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.encrypt('secret');
  const parts = sealed.split(':');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => box.decrypt(parts.join(':')));
  assert.throws(() => new SecretBox(randomBytes(32)).decrypt(sealed));
});

test('keys are accepted as 64 hex characters or base64 of 32 bytes', () => {
  const key = randomBytes(32);
  assert.deepEqual(SecretBox.parseKey(key.toString('hex')), key);
  assert.deepEqual(SecretBox.parseKey(key.toString('base64')), key);
  assert.equal(SecretBox.parseKey('short'), null);
});
