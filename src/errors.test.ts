import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOG } from './errors.ts';

// docs/errors.md is what clients read; every code the API can answer with must be there with
// its status, and the docs must not list codes that no longer exist.
test('docs/errors.md lists every error code with its HTTP status', () => {
  const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, number>();
  for (const match of docs.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) documented.set(match[1]!, Number(match[2]));
  for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
    assert.equal(documented.get(code), entry.status, `${code} should be documented with status ${entry.status}`);
  }
  for (const code of documented.keys()) assert.ok(code in ERROR_CATALOG, `docs/errors.md lists ${code}, which the catalog does not have`);
});
