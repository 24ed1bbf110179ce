// What the database holds of secrets: API keys only as hashes; webhook secrets (and calendar
// credentials) sealed with CREDENTIALS_ENCRYPTION_KEY when it is set, transparently to signing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { createRollcall, type Rollcall } from '../../src/container.ts';
import { SecretBox } from '../../src/lib/secret-box.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createTestDatabase, startTestRollcall, testConfig, type TestDatabase, type TestRollcall } from '../support/harness.ts';
import { childCwd, inheritedEnv } from '../support/child-env.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { fetchOpenApi, listOperations } from '../support/openapi.ts';
import { appTableNames } from '../support/app-tables.ts';

const KEY_HEX = '0f'.repeat(32);
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

class CapturedLog extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    callback();
  }
}

/** Every row of every table of the app's database, as text, to search for secrets. */
async function databaseText(rc: { database: Rollcall['database'] }, schema: string | undefined): Promise<string> {
  const tables = await appTableNames(rc.database, schema);
  assert.ok(tables.includes('users') && tables.includes('calendar_connections'), `the app's tables: ${tables.join(', ')}`);
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await rc.database.db.selectFrom(table as never).selectAll().execute();
    parts.push(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  }
  return parts.join('\n');
}

async function storedSecrets(rc: { database: Rollcall['database'] }, userId: string) {
  const user = await rc.database.db.selectFrom('users').select(['webhook_secret']).where('id', '=', userId).executeTakeFirstOrThrow();
  const retired = await rc.database.db.selectFrom('retired_webhook_secrets').select('secret').where('user_id', '=', userId).execute();
  return { webhook_secret: user.webhook_secret, retired: retired.map((r) => r.secret) };
}

/** /readyz's secrets check (the test's instances run no background work, so other checks may fail) and its reason. */
async function readinessOf(rollcall: Rollcall): Promise<[boolean, string | undefined]> {
  const answer = await rollcall.app.inject({ method: 'GET', url: '/readyz' });
  const { checks, reasons } = answer.json() as { checks: Record<string, boolean>; reasons?: Record<string, string> };
  if (checks.secrets === false) assert.equal(answer.statusCode, 503, 'a failing check is a not-ready answer');
  return [checks.secrets ?? true, reasons?.secrets];
}

describe('secrets at rest with CREDENTIALS_ENCRYPTION_KEY set', () => {
  let rc: TestRollcall;
  const hooks = new FakeHttpReceiver();
  const feeds = new FakeIcsServer();
  let hooksUrl: string;

  before(async () => {
    hooksUrl = await hooks.start();
    await feeds.start();
    rc = await startTestRollcall({ background: true, settings: { CREDENTIALS_ENCRYPTION_KEY: KEY_HEX, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '100' } });
  });
  after(async () => {
    await rc.close();
    await hooks.stop();
    await feeds.stop();
  });

  test('API keys are stored as their sha256 only; the key appears nowhere in the database', async () => {
    const { key, keyId } = await createApiKey(rc.database.db, 'hashed', rc.clock);
    const row = await rc.database.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
    assert.equal(row.key_hash, createHash('sha256').update(key).digest('hex'));
    assert.equal(row.key_prefix, key.slice(0, 10), 'only a short prefix, to tell keys apart');
    assert.ok(!(await databaseText(rc, rc.testDatabase.searchPath)).includes(key.slice(10)));
  });

  test('the webhook secret is sealed in the database, and deliveries signed with it still verify, before and after rotation', async () => {
    const user = await rc.newUser();
    const secret = (await rc.request('GET', '/api/v1/webhooks/secret', { auth: user.auth })).body.secret as string;
    assert.match(secret, /^whsec_/);
    const stored = await storedSecrets(rc, user.userId);
    assert.ok(SecretBox.isSealed(stored.webhook_secret), 'sealed');
    const everything = await databaseText(rc, rc.testDatabase.searchPath);
    assert.ok(!everything.includes(secret.slice('whsec_'.length)), 'the secret is nowhere in the database in plaintext');

    const start = Date.now() + 3_600_000;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 't', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'sealed', bot_config: { callback_url: `${hooksUrl}/hooks` } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id;
    await hooks.waitFor(() => hooks.received.some((r) => r.json?.bot_id === botId), 10_000);
    const first = hooks.received.find((r) => r.json?.bot_id === botId)!;
    new Webhook(secret).verify(first.body, first.headers as Record<string, string>);

    const rotated = (await rc.request('POST', '/api/v1/webhooks/secret/rotate', { auth: user.auth })).body.secret as string;
    assert.notEqual(rotated, secret);
    const afterRotation = await storedSecrets(rc, user.userId);
    assert.equal(afterRotation.retired.length, 1);
    assert.ok(SecretBox.isSealed(afterRotation.webhook_secret) && afterRotation.retired.every((r) => SecretBox.isSealed(r)), 'both secrets sealed');
    const report = await rc.request('POST', `/api/v1/bots/${botId}/status`, { auth: user.auth, body: { status: 'Joining' } });
    assert.equal(report.status, 200, JSON.stringify(report.body));
    await hooks.waitFor(() => hooks.received.filter((r) => r.json?.bot_id === botId).length >= 2, 10_000);
    const second = hooks.received.filter((r) => r.json?.bot_id === botId)[1]!;
    // During the overlap the message carries both signatures: either secret verifies it.
    new Webhook(rotated).verify(second.body, second.headers as Record<string, string>);
    new Webhook(secret).verify(second.body, second.headers as Record<string, string>);
  });

  test('a calendar feed URL (a secret address) is not stored in plaintext', async (t) => {
    const operations = listOperations(await fetchOpenApi(rc));
    if (!operations.some((op) => op.id === 'POST /api/v1/calendar/create_ics_calendar')) {
      t.skip('the API has no calendar connections yet');
      return;
    }
    const user = await rc.newUser();
    const url = feeds.createFeed('Secret address');
    const res = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: url } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const privatePart = new URL(url).pathname.split('/')[3]!;
    assert.ok(!(await databaseText(rc, rc.testDatabase.searchPath)).includes(privatePart), 'the feed URL\'s secret path is nowhere in the database');
  });
});

describe('secrets at rest across key changes', () => {
  let testDatabase: TestDatabase;
  const feeds = new FakeIcsServer();

  before(async () => {
    testDatabase = await createTestDatabase();
    await feeds.start();
  });
  after(async () => {
    await testDatabase.drop();
    await feeds.stop();
  });

  const start = (settings: Record<string, string>) => startOn(settings, testDatabase);

  async function startOn(settings: Record<string, string>, on: TestDatabase): Promise<{ rollcall: Rollcall; log: CapturedLog }> {
    const log = new CapturedLog();
    const rollcall = await createRollcall(testConfig({ DATABASE_URL: on.url, ...settings }), {
      database: await on.open(), logger: createLogger('info', log), collectDefaultMetrics: false,
    });
    return { rollcall, log };
  }

  async function secretOf(rollcall: Rollcall, auth: string): Promise<{ status: number; body: any }> {
    const res = await rollcall.app.inject({ method: 'GET', url: '/api/v1/webhooks/secret', headers: { authorization: auth } });
    return { status: res.statusCode, body: res.json() };
  }

  test('start-up warnings: an http runtime without BOT_RUNTIME_SECRET gets unsigned launches; an empty database had its schema created (a first start, or a wrong DATABASE_URL)', async () => {
    const unsigned = await start({ BOT_RUNTIME: 'http', BOT_RUNTIME_URL: 'http://127.0.0.1:9/launch' });
    const signed = await start({ BOT_RUNTIME: 'http', BOT_RUNTIME_URL: 'http://127.0.0.1:9/launch', BOT_RUNTIME_SECRET: 's'.repeat(32) });
    try {
      assert.ok(unsigned.log.lines.some((l) => /"level":40/.test(l) && /BOT_RUNTIME_SECRET is not set: launches sent to BOT_RUNTIME_URL are not signed/.test(l)), 'a warning says so');
      assert.ok(!signed.log.lines.some((l) => /BOT_RUNTIME_SECRET is not set/.test(l)));
      // The first start on this database created its schema; the second found it.
      const isEmptyWarning = (l: string) => /"level":40/.test(l) && /this database was empty: its schema was created now/.test(l);
      assert.ok(unsigned.log.lines.some(isEmptyWarning), 'the first start says the database was empty');
      assert.ok(!signed.log.lines.some(isEmptyWarning));
    } finally {
      await unsigned.rollcall.close();
      await signed.rollcall.close();
    }
  });

  test('start-up warning: BOT_RUNTIME none (the default) launches no bot, and says so; a chosen runtime does not', async () => {
    for (const [settings, isWarned] of [[{}, true], [{ BOT_RUNTIME: 'none' }, true], [{ BOT_RUNTIME: 'none', RUN_MODE: 'api' }, false], [{ BOT_RUNTIME: 'command', BOT_RUNTIME_COMMAND: 'true' }, false]] as const) {
      const started = await start(settings);
      try {
        const warned = started.log.lines.some((l) => /"level":40/.test(l) && /BOT_RUNTIME is none \(the default\): no bot is launched, and every due bot fails with no_runtime/.test(l));
        assert.equal(warned, isWarned, JSON.stringify(settings));
      } finally {
        await started.rollcall.close();
      }
    }
  });

  test('start-up warning: HOST=0.0.0.0 or :: without PUBLIC_URL, with a runtime or provider that reports back, names PUBLIC_URL', async () => {
    const runtime = { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: 'http://127.0.0.1:9/launch', BOT_RUNTIME_SECRET: 's'.repeat(32) };
    const provider = { BOT_RUNTIME: 'meetstream', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 'w' };
    const cases: [Record<string, string>, boolean][] = [
      [{ ...runtime, HOST: '0.0.0.0' }, true],
      [{ ...provider, HOST: '::' }, true],
      [{ ...runtime, HOST: '0.0.0.0', PUBLIC_URL: 'https://rollcall.example.com' }, false],
      [{ ...runtime, HOST: '127.0.0.1' }, false],
      [{ HOST: '0.0.0.0' }, false],
    ];
    for (const [settings, isWarned] of cases) {
      const started = await start(settings);
      try {
        const warned = started.log.lines.some((l) => /"level":40/.test(l) && /PUBLIC_URL is not set and HOST is a wildcard address/.test(l));
        assert.equal(warned, isWarned, JSON.stringify(settings));
      } finally {
        await started.rollcall.close();
      }
    }
  });

  test('without a key: plaintext, and a warning at start-up; setting the key later seals what is there, and the secret stays the same', async () => {
    const plain = await start({});
    const { key, userId } = await createApiKey(plain.rollcall.database.db, 'before-the-key', plain.rollcall.clock, { secretBox: plain.rollcall.secretBox });
    const auth = `Token ${key}`;
    const first = (await secretOf(plain.rollcall, auth)).body.secret;
    // Rotated once: the secret it replaced goes on signing for a day, stored as it was.
    const secret = (await plain.rollcall.app.inject({ method: 'POST', url: '/api/v1/webhooks/secret/rotate', headers: { authorization: auth } })).json().secret;
    assert.equal((await storedSecrets(plain.rollcall, userId)).webhook_secret, secret, 'plaintext without a key');
    assert.deepEqual((await storedSecrets(plain.rollcall, userId)).retired, [first], 'the retired one too');
    assert.ok(plain.log.lines.some((l) => /"level":40/.test(l) && /CREDENTIALS_ENCRYPTION_KEY is not set/.test(l)), 'a warning says so');
    await plain.rollcall.close();

    const sealed = await start({ CREDENTIALS_ENCRYPTION_KEY: KEY_HEX });
    assert.ok(SecretBox.isSealed((await storedSecrets(sealed.rollcall, userId)).webhook_secret), 'sealed at start-up');
    assert.ok((await storedSecrets(sealed.rollcall, userId)).retired.every((r) => SecretBox.isSealed(r)), 'the retired secret sealed at start-up too');
    assert.equal((await secretOf(sealed.rollcall, auth)).body.secret, secret, 'the same secret, so receivers need no change');
    assert.ok(!sealed.log.lines.some((l) => /CREDENTIALS_ENCRYPTION_KEY is not set/.test(l)));
    await sealed.rollcall.close();

    // The key taken away again: sealed secrets cannot be used, and start-up says so loudly.
    const keyless = await start({});
    assert.ok(keyless.log.lines.some((l) => /"level":50/.test(l) && /sealed but CREDENTIALS_ENCRYPTION_KEY is not set/.test(l)));
    const refused = await secretOf(keyless.rollcall, auth);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'secret_unavailable');
    assert.deepEqual(Object.keys(refused.body).sort(), ['code', 'error', 'message', 'status_code'], 'no detail in the answer');
    assert.equal(refused.body.message, refused.body.error);
    // Not ready: a load balancer keeps its traffic on instances that can serve it.
    assert.deepEqual(await readinessOf(keyless.rollcall), [false, 'CREDENTIALS_ENCRYPTION_KEY is not set, and 1 webhook secrets are sealed with one']);
    // A user made meanwhile has a plaintext secret.
    const keylessUser = await createApiKey(keyless.rollcall.database.db, 'while-keyless', keyless.rollcall.clock, { secretBox: keyless.rollcall.secretBox });
    const keylessSecret = (await storedSecrets(keyless.rollcall, keylessUser.userId)).webhook_secret;
    assert.ok(!SecretBox.isSealed(keylessSecret));
    await keyless.rollcall.close();

    // Another key in its place, the old one not among the previous keys: the same, said as loudly.
    const otherKey = await start({ CREDENTIALS_ENCRYPTION_KEY: 'ab'.repeat(32) });
    const unopened = otherKey.log.lines.filter((l) => /"level":50/.test(l) && /sealed with a key that is not configured/.test(l));
    assert.equal(unopened.length, 1, 'start-up says so');
    assert.ok(JSON.parse(unopened[0]!).users >= 1, unopened[0]);
    const wrong = await secretOf(otherKey.rollcall, auth);
    assert.deepEqual([wrong.status, wrong.body.code], [503, 'secret_unavailable']);
    assert.match(wrong.body.error, /CREDENTIALS_ENCRYPTION_KEY/);
    const rotation = await otherKey.rollcall.app.inject({ method: 'POST', url: '/api/v1/webhooks/secret/rotate', headers: { authorization: auth } });
    assert.deepEqual([rotation.statusCode, rotation.json().code], [503, 'secret_unavailable']);
    const [isReady, reason] = await readinessOf(otherKey.rollcall);
    assert.equal(isReady, false);
    assert.match(reason!, /^CREDENTIALS_ENCRYPTION_KEY opens none of the \d+ sealed webhook secrets and calendar credentials/);
    // Connecting Google is refused as without a key, with the reason: the key is set, but not usable.
    const google = await otherKey.rollcall.app.inject({ method: 'POST', url: '/api/v1/calendar/create_calendar', headers: { authorization: auth }, payload: { google_client_id: 'a', google_client_secret: 'b', google_refresh_token: 'c' } });
    assert.deepEqual([google.statusCode, google.json().code], [400, 'encryption_key_not_configured']);
    assert.match(google.json().message, /needs a CREDENTIALS_ENCRYPTION_KEY this server can use.*opens none of the values sealed before/);
    assert.doesNotMatch(google.json().message, /\d/, 'no count of the deployment\'s secrets');
    assert.doesNotMatch(google.json().message, /to be set/);
    // Sealed with that key, the plaintext secret could not be opened by the right one after.
    assert.equal((await storedSecrets(otherKey.rollcall, keylessUser.userId)).webhook_secret, keylessSecret, 'a key that opens nothing seals nothing');
    // Nor does it while the process runs: a user made now gets a secret the right key can read.
    const wrongKeyUser = await createApiKey(otherKey.rollcall.database.db, 'while-wrong-key', otherKey.rollcall.clock, { secretBox: otherKey.rollcall.secretBox });
    const wrongKeySecret = (await storedSecrets(otherKey.rollcall, wrongKeyUser.userId)).webhook_secret;
    await otherKey.rollcall.close();
    // With the right key again, nothing of it is said, and the instance is ready.
    const rightKey = await start({ CREDENTIALS_ENCRYPTION_KEY: KEY_HEX });
    assert.ok(!rightKey.log.lines.some((l) => /sealed with a key that is not configured/.test(l)));
    assert.deepEqual(await readinessOf(rightKey.rollcall), [true, undefined]);
    assert.equal((await secretOf(rightKey.rollcall, `Token ${keylessUser.key}`)).body.secret, keylessSecret, 'the right key sealed it, and opens it');
    assert.equal((await secretOf(rightKey.rollcall, `Token ${wrongKeyUser.key}`)).body.secret, wrongKeySecret, 'nor is a secret made under the wrong key lost');
    await rightKey.rollcall.close();
  });

  test('changing the key: the old one, kept as a previous key, still opens everything; `secrets reseal` moves it all to the new key, which then works alone', async (t) => {
    const keyA = '1a'.repeat(32);
    const keyB = '2b'.repeat(32);
    const keyC = '3c'.repeat(32);
    const outbound = { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' };
    // A database of its own: the command walks every user, and the test counts what it moves.
    const own = await createTestDatabase();
    t.after(() => own.drop());
    const start = (settings: Record<string, string>) => startOn(settings, own);
    const credentialsOf = async (rollcall: Rollcall, connectionId: string) => (await rollcall.database.db.selectFrom('calendar_connections').select('credentials').where('id', '=', connectionId).executeTakeFirstOrThrow()).credentials!;
    const syncOf = async (rollcall: Rollcall, auth: string, connectionId: string) => (await rollcall.app.inject({ method: 'POST', url: `/api/v1/calendar/connections/${connectionId}/sync`, headers: { authorization: auth } })).json();
    const reseal = (settings: Record<string, string>) => promisify(execFile)(process.execPath, [MAIN, 'secrets', 'reseal'], { cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent', ...settings } })
      .then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: `${error.stdout}${error.stderr}` }));

    // A feed connected before any key was set is stored in plaintext; setting key A seals it at
    // start-up, with the webhook secret.
    const keyless = await start(outbound);
    const { key, userId } = await createApiKey(keyless.rollcall.database.db, 'rotating', keyless.rollcall.clock, { secretBox: keyless.rollcall.secretBox });
    const auth = `Token ${key}`;
    const feedUrl = feeds.createFeed('Rotated feed');
    const connected = await keyless.rollcall.app.inject({ method: 'POST', url: '/api/v1/calendar/create_ics_calendar', headers: { authorization: auth }, payload: { ics_url: feedUrl } });
    assert.equal(connected.statusCode, 200, connected.body);
    const connectionId = connected.json().calendar_id as string;
    assert.ok((await credentialsOf(keyless.rollcall, connectionId)).startsWith('{'), 'plaintext without a key');
    // Rotated once: the secret it retired signs for a day and is sealed and moved like the current one.
    const retired = (await secretOf(keyless.rollcall, auth)).body.secret;
    const secret = (await keyless.rollcall.app.inject({ method: 'POST', url: '/api/v1/webhooks/secret/rotate', headers: { authorization: auth } })).json().secret;
    assert.notEqual(secret, retired);
    await keyless.rollcall.close();

    const withA = await start({ ...outbound, CREDENTIALS_ENCRYPTION_KEY: keyA });
    const sealedA = await credentialsOf(withA.rollcall, connectionId);
    assert.ok(SecretBox.isSealed(sealedA) && JSON.parse(new SecretBox(Buffer.from(keyA, 'hex')).decrypt(sealedA)).url === feedUrl, 'the feed sealed with key A at start-up');
    assert.ok(withA.log.lines.some((l) => /sealed webhook secrets and calendar credentials/.test(l)));
    await withA.rollcall.close();

    // Key B alone cannot open what A sealed, and start-up counts what is lost without A.
    const bAlone = await start({ ...outbound, CREDENTIALS_ENCRYPTION_KEY: keyB });
    assert.equal((await secretOf(bAlone.rollcall, auth)).status, 503);
    assert.equal((await readinessOf(bAlone.rollcall))[0], false, 'B opens none of them: not ready');
    const lost = bAlone.log.lines.find((l) => /"level":50/.test(l) && /sealed with a key that is not configured/.test(l));
    assert.ok(lost && JSON.parse(lost).users >= 1 && JSON.parse(lost).calendarConnections >= 1, `start-up names the users and connections: ${lost}`);
    await bAlone.rollcall.close();

    // B with A as a previous key: everything works, and start-up says what to do next.
    const rotating = await start({ ...outbound, CREDENTIALS_ENCRYPTION_KEY: keyB, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: keyA });
    assert.equal((await secretOf(rotating.rollcall, auth)).body.secret, secret);
    assert.equal((await syncOf(rotating.rollcall, auth, connectionId)).synced, true);
    assert.ok(rotating.log.lines.some((l) => /"level":40/.test(l) && /secrets reseal/.test(l)), 'a warning names the command');
    assert.deepEqual(await readinessOf(rotating.rollcall), [true, undefined]);
    await rotating.rollcall.close();

    // The command with the wrong old key refuses to call it done; with the right one it moves both.
    // Keys that open none of them: nothing is touched, not even a plaintext value sealed.
    const wrong = await reseal({ CREDENTIALS_ENCRYPTION_KEY: keyB, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: keyC });
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.match(wrong.stdout, /opens none of the sealed webhook secrets and calendar credentials.*Nothing was changed/);
    // Nor does `keys create` seal a new user's secret with such a key.
    const created = await promisify(execFile)(process.execPath, [MAIN, 'keys', 'create', '--user', 'made-with-a-wrong-key'], { cwd: childCwd(), env: { ...inheritedEnv(), DATABASE_URL: own.processUrl, LOG_LEVEL: 'silent', CREDENTIALS_ENCRYPTION_KEY: keyC } })
      .then(() => 0, (error: { code: number; stderr: string }) => { assert.match(error.stderr, /opens none of the sealed/); return error.code; });
    assert.equal(created, 1, 'keys create refuses');
    const moved = await reseal({ CREDENTIALS_ENCRYPTION_KEY: keyB, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: keyA });
    assert.equal(moved.code, 0, moved.stdout);
    assert.match(moved.stdout, /sealed 0 plaintext values, moved 3 to the current key, 0 opened by no configured key/);
    const again = await reseal({ CREDENTIALS_ENCRYPTION_KEY: keyB, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: keyA });
    assert.match(again.stdout, /moved 0 to the current key, 0 opened/, 'a second run finds nothing left');

    // B alone now opens everything: the old key can go.
    const done = await start({ ...outbound, CREDENTIALS_ENCRYPTION_KEY: keyB });
    assert.equal((await secretOf(done.rollcall, auth)).body.secret, secret);
    assert.equal((await syncOf(done.rollcall, auth, connectionId)).synced, true);
    assert.equal(JSON.parse(new SecretBox(Buffer.from(keyB, 'hex')).decrypt(await credentialsOf(done.rollcall, connectionId))).url, feedUrl);
    assert.ok(SecretBox.isSealed((await storedSecrets(done.rollcall, userId)).webhook_secret));
    const [movedRetired] = (await storedSecrets(done.rollcall, userId)).retired;
    assert.equal(new SecretBox(Buffer.from(keyB, 'hex')).decrypt(movedRetired!), retired, 'the retired secret moved to key B');
    await done.rollcall.close();
  });
});
