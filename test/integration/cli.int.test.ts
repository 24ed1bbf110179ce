// The command line an operator uses for API keys (README, "API keys"): each command says what it
// did, on both engines, against a database of its own. And `serve` when it cannot start: one line
// saying why, and the process gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TEST_ENGINE, type TestDatabase } from '../support/harness.ts';
import { childCwd, inheritedEnv } from '../support/child-env.ts';
import { currentSchemaVersion, latestVersion, migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

describe('rollcall keys', () => {
  let own: TestDatabase;
  before(async () => {
    own = await createTestDatabase();
  });
  after(async () => own.drop());

  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent' } })
    .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));

  test('create prints the key; list shows it; revoke says it revoked it, and says so again without failing; an unknown id fails', async () => {
    const created = await cli('keys', 'create', '--user', 'operator');
    assert.equal(created.code, 0, created.out);
    // The database was empty: said on stderr (a mistyped DATABASE_URL would otherwise go unseen).
    assert.match(created.out, /was empty: its schema was created now \(check DATABASE_URL/);
    assert.match(created.out.trim().split('\n')[0]!, /^rck_\S+$/, 'the key alone on stdout');
    const second = await cli('keys', 'create', '--user', 'second');
    assert.match(second.out.trim(), /^rck_\S+$/, 'not said again');
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

  test('a mistyped command or option, or a keys command missing its name or id, is a usage error naming it, exit 2, not a stack trace, and opens no database', async () => {
    // A database that does not exist yet, in a directory of each command's own: one a command
    // opened would appear there, its schema created.
    const usage = async (...args: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'rc-cli-usage-'));
      try {
        const result = await promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...inheritedEnv(), DATABASE_URL: `sqlite:${join(dir, 'never.db')}`, LOG_LEVEL: 'silent' } })
          .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));
        return { ...result, left: readdirSync(dir) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'create', '--user'], /^--user needs a name after it: --user <name>\n\nUsage: rollcall <command>/],
      [['keys', 'create', '--user='], /^keys create needs --user <name>\n\nUsage: rollcall <command>/],
      [['keys', 'create', '--user', ''], /^keys create needs --user <name>\n\nUsage: rollcall <command>/],
      [['keys', 'create'], /^keys create needs --user <name>\n\nUsage: rollcall <command>/],
      [['keys', 'list'], /^keys list needs --user <name>\n\nUsage: rollcall <command>/],
      [['keys', 'revoke'], /^keys revoke needs <key-id>\n\nUsage: rollcall <command>/],
      [['keys', 'create', '--users', 'alice'], /^Unknown option --users \(did you mean --user <name>\?\)\n\nUsage: rollcall <command>/],
      [['keys', 'list', '-u', 'alice'], /^Unknown option -u \(did you mean --user <name>\?\)\n\nUsage: rollcall <command>/],
      [['--version'], /^Unknown option --version\n\nUsage: rollcall <command>/],
      [['keys'], /^keys needs create, list or revoke\n\nUsage: rollcall <command>/],
      [['keys', 'add', '--user', 'alice'], /^Unknown keys command: add \(create, list or revoke\)\n/],
      [['key', 'create', '--user', 'alice'], /^Unknown command: key create\n\nUsage: rollcall <command>/],
      [['secrets', 'foo'], /^Unknown command: secrets foo\n\nUsage: rollcall <command>/],
    ];
    // Four processes at a time: each is a start of its own (most of its time), and nothing is shared.
    const results: Array<Awaited<ReturnType<typeof usage>>> = [];
    for (let next = 0; next < cases.length; next += 4) {
      results.push(...await Promise.all(cases.slice(next, next + 4).map(([args]) => usage(...args))));
    }
    for (const [i, [args, expected]] of cases.entries()) {
      const result = results[i]!;
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.out}`);
      assert.match(result.out, expected, args.join(' '));
      assert.doesNotMatch(result.out, /\n\s+at |ERR_PARSE_ARGS|Node\.js v|schema was created/, `${args.join(' ')}: no stack trace, no schema`);
      assert.deepEqual(result.left, [], `${args.join(' ')}: opened no database`);
    }
    assert.match((await cli('keys', 'create', '--user=alice')).out, /(^|\n)rck_\S+\n/, '--user=<name> still works');
  });
});

describe('rollcall keys and secrets on a database behind this release', () => {
  let own: TestDatabase;
  before(async () => {
    own = await createTestDatabase();
  });
  after(async () => own.drop());

  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent', CREDENTIALS_ENCRYPTION_KEY: '0f'.repeat(32) } })
    .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));

  test('refuse, naming migrate, and leave the schema as it was (only serve and migrate migrate: an older instance must still start); after migrate they work', async () => {
    const database = await own.open();
    try {
      await migrate(database.db, database.engine, MIGRATIONS.slice(0, -1));
      const behind = MIGRATIONS.at(-2)!.version;
      for (const args of [['keys', 'create', '--user', 'operator'], ['keys', 'list', '--user', 'operator'], ['secrets', 'reseal']]) {
        const refused = await cli(...args);
        assert.equal(refused.code, 1, refused.out);
        assert.match(refused.out.trim(), new RegExp(`is at schema version ${behind}, behind this release's ${latestVersion()}: run \`npx rollcall migrate\` first`), args.join(' '));
        assert.equal(await currentSchemaVersion(database.db), behind, `${args.join(' ')} migrated the database`);
      }
      assert.equal((await cli('migrate')).code, 0);
      const created = await cli('keys', 'create', '--user', 'operator');
      assert.equal(created.code, 0, created.out);
      assert.match(created.out.trim(), /^rck_\S+$/);
    } finally {
      await database.close();
    }
  });
});

describe('rollcall serve: a start that cannot go on', () => {
  let own: TestDatabase;
  before(async () => {
    own = await createTestDatabase();
  });
  after(async () => own.drop());

  /** Runs `serve` and waits for it to end (a process still running after 30 s is killed: code null). */
  const serve = (env: Record<string, string>) => promisify(execFile)(process.execPath, [MAIN, 'serve'], { timeout: 30_000, cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', ...env } })
    .then(({ stdout, stderr }) => ({ code: 0 as number | null, out: `${stdout}${stderr}` }), (error: { code: number | null; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));

  /** One line saying what is wrong, exit code 1, no stack trace. */
  function assertOneLine(result: { code: number | null; out: string }, expected: RegExp): void {
    assert.equal(result.code, 1, `exit code ${result.code}: ${result.out}`);
    const lines = result.out.trim().split('\n');
    assert.equal(lines.length, 1, result.out);
    assert.match(lines[0]!, expected);
  }

  test('a port already in use, or a HOST that is no address of this machine, says so and exits (it left a process serving nothing, blaming the database)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      assertOneLine(await serve({ PORT: String(port) }), new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): the port is already in use$`));
    } finally {
      taken.close();
    }
    assertOneLine(await serve({ HOST: 'no-such-host.invalid' }), /^Cannot listen on no-such-host\.invalid:0 \(HOST, PORT\): HOST does not resolve to an address of this machine$/);
  });

  test('a PostgreSQL database that does not exist, or a role it refuses, is one line naming the database (it was a stack trace)', { skip: TEST_ENGINE === 'postgres' ? false : 'needs the PostgreSQL server' }, async () => {
    const server = new URL(own.processUrl);
    const missing = `postgres://${server.username}@${server.host}/rollcall_no_such_database_${Date.now()}`;
    assertOneLine(await serve({ DATABASE_URL: missing }), new RegExp(`^Cannot use the database \\(${missing.replace(/[.?]/g, '\\$&')}\\): database "rollcall_no_such_database_\\d+" does not exist$`));
    const role = `postgres://rollcall_no_such_role@${server.host}/postgres`;
    assertOneLine(await serve({ DATABASE_URL: role }), /^Cannot use the database \(postgres:\/\/rollcall_no_such_role@.*\): role "rollcall_no_such_role" does not exist$/);
  });
});

describe('rollcall serve with the default runtime, and the settings a test\'s children read', () => {
  let own: TestDatabase;
  before(async () => {
    own = await createTestDatabase();
    const database = await own.open();
    try {
      await migrate(database.db, database.engine, MIGRATIONS);
    } finally {
      await database.close();
    }
  });
  after(async () => own.drop());

  test('a default start (BOT_RUNTIME none) says once, as a warning, that no bot is launched', async () => {
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    try {
      for (const until = Date.now() + 30_000; !out.includes('Rollcall is ready') && child.exitCode === null && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes('Rollcall is ready'), out);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const warnings = out.split('\n').filter((l) => /"level":40/.test(l) && /no_runtime/.test(l));
    assert.equal(warnings.length, 1, `warnings that no bot is launched:\n${warnings.join('\n')}`);
    assert.match(warnings[0]!, /BOT_RUNTIME is none \(the default\): no bot is launched/);
  });

  test('a .env in a child\'s working directory fills the settings its environment leaves unset; the tests\' children run where there is none, and no runtime setting of one reaches them', async () => {
    assert.ok(!existsSync(join(childCwd(), '.env')), 'the children\'s working directory has no .env');
    assert.notEqual(childCwd(), process.cwd());
    // A .env such as a developer keeps beside the code: a runtime address with no runtime chosen stops any command.
    const dir = mkdtempSync(join(tmpdir(), 'rc-cli-dotenv-'));
    writeFileSync(join(dir, '.env'), 'BOT_RUNTIME_URL=http://127.0.0.1:9/launch\n');
    const list = (cwd: string, env: NodeJS.ProcessEnv) => promisify(execFile)(process.execPath, [MAIN, 'keys', 'list', '--user', 'nobody'], { cwd, env: { ...env, DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent' } })
      .then(({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));
    const bare = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(BOT_RUNTIME|BOT_PROVIDER_)/.test(key)));
    // With no key for the user, the command itself answers (exit 1, naming the user): it got past the settings.
    const ran = /^No user named "nobody"/;
    const read = await list(dir, bare);
    assert.equal(read.code, 1, read.out);
    assert.match(read.out, /BOT_RUNTIME_URL is set but BOT_RUNTIME is not set/);
    assert.match((await list(childCwd(), bare)).out, ran, 'run where there is no .env');
    assert.match((await list(dir, inheritedEnv())).out, ran, 'inheritedEnv() leaves no runtime setting for a .env to fill');
  });
});
