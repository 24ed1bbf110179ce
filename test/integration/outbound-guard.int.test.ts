// The SSRF guard on URLs users give us: refused when given if they name or resolve to a
// non-public address, and refused again at connect time (a name that later resolves somewhere
// private, as in DNS rebinding, reaches nothing). Redirects, IP-literal spellings and the
// port-scanner oracle are in outbound-ssrf.int.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundGuard, isPublicAddress } from '../../src/adapters/outbound-guard.ts';
import { createRollcall, type Rollcall } from '../../src/container.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createTestDatabase, startTestRollcall, testConfig, type TestDatabase, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { diffSnapshots, snapshotDatabase } from '../support/openapi.ts';

describe('outbound guard', () => {
  let rc: TestRollcall;
  let auth: string;
  let eventId: string;

  before(async () => {
    rc = await startTestRollcall();
    auth = (await rc.newUser()).auth;
    const start = Date.now() + 3_600_000;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 't', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    eventId = event.body.id;
  });
  after(() => rc.close());

  test('only globally routable unicast addresses are public', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::7f00:1', '::a9fe:a9fe', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', 'not-an-ip']) {
      assert.equal(isPublicAddress(address), false, address);
    }
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(address), true, address);
  });

  test('callback URLs naming or resolving to non-public addresses are refused when given, and nothing is stored', async () => {
    const refused = [
      'http://127.0.0.1/hook', 'http://localhost:8080/hook', 'http://[::1]/hook', 'http://10.0.0.7/hook', 'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook', 'http://2130706433/hook', 'http://0x7f.1/hook', 'http://0.0.0.0/hook', 'https://user:pass@93.184.215.14/hook',
      'http://0/hook', 'http://127.1/hook', 'http://[::7f00:1]/hook', 'http://[::a9fe:a9fe]/hook', 'http://[fd00:ec2::254]/hook', 'ftp://93.184.215.14/hook',
    ];
    for (const callbackUrl of refused) {
      const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
      const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'guarded', bot_config: { callback_url: callbackUrl } } });
      assert.equal(res.status, 400, `${callbackUrl}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'callback_url_not_allowed', callbackUrl);
      assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), [], callbackUrl);
    }
    const accepted = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'guarded', bot_config: { callback_url: 'https://93.184.215.14/hook' } } });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  });

  test('the connect-time lookup refuses a name that resolves to a private address, unless the deployment allows the host', async () => {
    const lookup = (guard: OutboundGuard, host: string) => new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) => {
      guard.lookup(host, {}, (error, address) => resolve({ error, address }));
    });
    const refused = await lookup(new OutboundGuard([]), 'localhost');
    assert.equal(refused.error?.code, 'EBLOCKED');
    const allowed = await lookup(new OutboundGuard(['localhost']), 'localhost');
    assert.equal(allowed.error, null);
  });
});

describe('outbound guard at delivery time', () => {
  let testDatabase: TestDatabase;
  const receiver = new FakeHttpReceiver();

  before(async () => {
    testDatabase = await createTestDatabase();
  });
  after(async () => {
    await receiver.stop();
    await testDatabase.drop();
  });

  async function start(settings: Record<string, string>): Promise<Rollcall> {
    return createRollcall(testConfig({ DATABASE_URL: testDatabase.url, WEBHOOK_RETRY_BASE_MS: '50', ...settings }), {
      database: await testDatabase.open(), logger: createLogger('silent'), collectDefaultMetrics: false,
    });
  }

  test('a callback stored while its host was allowed reaches nothing once the host resolves to a private address without the allowance', async () => {
    const port = new URL(await receiver.start()).port;
    // Stored while "localhost" was allowed (a stand-in for a name that resolved publicly then).
    const allowed = await start({ OUTBOUND_ALLOWED_HOSTS: 'localhost' });
    const { key } = await createApiKey(allowed.database.db, 'rebinding', allowed.clock);
    const startMs = Date.now() + 3_600_000;
    const event = await allowed.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers: { authorization: `Token ${key}` }, payload: { title: 't', start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + 3_600_000).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    const scheduled = await allowed.app.inject({ method: 'POST', url: `/api/v1/calendar/schedule/${event.json().id}`, headers: { authorization: `Token ${key}` }, payload: { deduplication_key: 'k', bot_config: { callback_url: `http://localhost:${port}/hook` } } });
    assert.equal(scheduled.statusCode, 200, scheduled.body);
    await allowed.close();

    const strict = await start({});
    try {
      await strict.webhooks.runDue();
      assert.equal(receiver.received.length, 0, 'nothing reached the private address');
      const delivery = await strict.database.db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'last_error']).executeTakeFirstOrThrow();
      // The guard's verdict is final for this delivery: failed at once, not retried.
      assert.deepEqual({ ...delivery }, { state: 'failed', attempts: 1, last_error: 'refused: the callback URL does not lead to a public address' });
      assert.equal(await strict.webhooks.runDue(), 0);
    } finally {
      await strict.close();
    }
  });
});
