import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { MIGRATIONS } from './index.ts';

test('migrations are numbered 1, 2, 3 and on, in order, none missing, each file named by its number', () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  const files = readdirSync(new URL('.', import.meta.url)).filter((f) => /^\d{3}-.*\.ts$/.test(f) && !f.endsWith('.test.ts')).sort();
  assert.deepEqual(files.map((f) => Number(f.slice(0, 3))), MIGRATIONS.map((m) => m.version));
  assert.deepEqual(files.map((f) => f.slice(4, -3)), MIGRATIONS.map((m) => m.name));
});
