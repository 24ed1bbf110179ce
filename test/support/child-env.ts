import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_KEYS } from '../../src/config.ts';

// What a test hands to a `rollcall` child process. The child reads its settings from its
// environment and then from a `.env` in its working directory, which fills what the environment
// leaves unset (loadConfig). A developer's shell may export runtime or bot provider settings, and a
// `.env` beside the code may hold them too: either would reach the child (a BOT_PROVIDER_API_KEY
// beside BOT_RUNTIME=none stops its start) where the test means to choose the runtime itself.

const RUNTIME_KEYS = [...KNOWN_KEYS].filter((key) => /^(BOT_RUNTIME|BOT_PROVIDER_)/.test(key));

/**
 * The caller's own environment (PATH and the like) with every runtime and bot provider setting
 * given as empty, which reads as unset and which a `.env` cannot fill in (the environment wins):
 * so even a child that must run in the repository (`npm start`) starts with none of them.
 */
export function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(BOT_RUNTIME|BOT_PROVIDER_)/.test(key)) continue;
    env[key] = value;
  }
  for (const key of RUNTIME_KEYS) env[key] = '';
  return env;
}

let emptyDir: string | undefined;

/**
 * A working directory for a child with no `.env` in it (an empty directory of its own, made once
 * per test process), so that no file in the repository fills in any setting the test left out.
 */
export function childCwd(): string {
  emptyDir ??= mkdtempSync(join(tmpdir(), 'rc-child-cwd-'));
  return emptyDir;
}
