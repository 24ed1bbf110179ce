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

test('a previous key still opens what it sealed; only the current key seals, and resealing moves a value to it', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const sealedOld = new SecretBox(oldKey).encrypt('feed-url');
  assert.throws(() => new SecretBox(newKey).decrypt(sealedOld), 'the new key alone cannot open it');
  const rotating = new SecretBox(newKey, [oldKey]);
  assert.equal(rotating.decrypt(sealedOld), 'feed-url');
  const moved = rotating.resealed(sealedOld)!;
  assert.ok(moved !== null && moved !== sealedOld);
  assert.equal(new SecretBox(newKey).decrypt(moved), 'feed-url', 'resealed under the new key alone');
  assert.equal(rotating.resealed(moved), null, 'already under the current key: nothing to do');
  assert.equal(new SecretBox(newKey).decrypt(rotating.encrypt('x')), 'x', 'new values are sealed with the current key');
  assert.throws(() => rotating.resealed(new SecretBox(randomBytes(32)).encrypt('y')), /cannot be opened/);
  assert.throws(() => new SecretBox(newKey, [randomBytes(16)]), /32 bytes/);
});
