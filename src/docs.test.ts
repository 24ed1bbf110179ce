import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// The shell's `node` may be older than the Node 24 the project installs, which alone runs the
// TypeScript sources: an operator's page names npm start, npx rollcall or node_modules/.bin/node.
test('the operator pages never start Rollcall with a bare node', () => {
  for (const page of ['../README.md', '../docs/operations.md']) {
    const text = readFileSync(new URL(page, import.meta.url), 'utf8');
    const bare = text.split('\n').filter((line) => /(^|[`\s(])node src\/main\.ts/.test(line));
    assert.deepEqual(bare, [], `${page} runs src/main.ts with the system's node`);
  }
});
