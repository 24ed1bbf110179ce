import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, KNOWN_KEYS, parseConfig } from './config.ts';

test('defaults give a runnable service on the embedded database', () => {
  const config = parseConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, 'sqlite:./data/rollcall.db');
  assert.equal(config.joinLeadSeconds, 180);
  assert.ok(Object.isFrozen(config));
});

test('a bad value or a misspelt setting stops the start with its name', () => {
  assert.throws(() => parseConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => parseConfig({ JOIN_LEAD_SECOND: '60' }), (e: unknown) => e instanceof ConfigError && /JOIN_LEAD_SECOND/.test(e.message));
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'http' }), /BOT_RUNTIME_URL/);
  assert.throws(() => parseConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
});

test('every setting is in .env.example and in the README', () => {
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const key of KNOWN_KEYS) {
    assert.match(example, new RegExp(`^#? ?${key}=`, 'm'), `${key} missing from .env.example`);
    assert.ok(readme.includes(key), `${key} missing from the README`);
  }
});
