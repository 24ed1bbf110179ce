// The command line an operator uses for API keys (README, "API keys"): each command says what it
// did, on both engines, against a database of its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/harness.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

describe('rollcall keys', () => {
  let own: TestDatabase;
  before(async () => {
    own = await createTestDatabase();
  });
  after(async () => own.drop());

  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...process.env, DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent' } })
    .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));

  test('create prints the key; list shows it; revoke says it revoked it, and says so again without failing; an unknown id fails', async () => {
    const created = await cli('keys', 'create', '--user', 'operator');
    assert.equal(created.code, 0, created.out);
    assert.match(created.out.trim(), /^rck_\S+$/);
    const listed = await cli('keys', 'list', '--user', 'operator');
    const [id] = listed.out.trim().split('\t');
    assert.match(listed.out, /\tactive\n$/);
    const revoked = await cli('keys', 'revoke', id!);
    assert.equal(revoked.code, 0, revoked.out);
    assert.match(revoked.out, new RegExp(`^Revoked key ${id} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: requests with it are refused from now on`));
    const again = await cli('keys', 'revoke', id!);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, new RegExp(`^Key ${id} was already revoked \\(at .*\\); nothing changed`));
    assert.match((await cli('keys', 'list', '--user', 'operator')).out, /\trevoked /);
    const unknown = await cli('keys', 'revoke', 'key_nope');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.out, /No key key_nope/);
  });
});
