// Webhook secret rotation: each rotated-out secret signs beside the current one for a day after
// its own rotation (Standard Webhooks' space-separated signatures), so a second rotation within
// the day, such as a retried rotate request, does not cut off receivers still on the first secret.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { ManualClock } from '../../src/lib/clock.ts';
import { sql, type Kysely } from 'kysely';
import { MAX_SIGNING_RETIRED_SECRETS, signingRetiredSecrets } from '../../src/services/webhooks/webhook-secrets.ts';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { backendPid, untilSessionsWaitOn } from '../support/pg-lock-waits.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('webhook secret rotation', () => {
  const hooks = new FakeHttpReceiver();
  const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
  let rc: TestRollcall;
  let user: { auth: string; userId: string };
  let hooksUrl: string;
  let sent = 0;

  before(async () => {
    hooksUrl = `${await hooks.start()}/hooks`;
    rc = await startTestRollcall({ clock, settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    user = await rc.newUser();
  });
  after(async () => {
    await rc.close();
    await hooks.stop();
  });

  const secretView = async () => (await rc.request('GET', '/api/v1/webhooks/secret', { auth: user.auth })).body as { secret: string; previous_secret_valid_until: string | null };
  const rotate = async () => {
    const res = await rc.request('POST', '/api/v1/webhooks/secret/rotate', { auth: user.auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.secret as string;
  };
  /** One delivery made and sent now: a bot booked for a meeting a day out (its bot.scheduled webhook). */
  async function deliverOne() {
    const start = clock.now() + DAY;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'rotation', start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `rotation-${++sent}`, bot_config: { callback_url: hooksUrl } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    await rc.webhooks.runDue();
    const received = hooks.received.filter((r) => r.json?.bot_id === scheduled.body.bot_id);
    assert.equal(received.length, 1);
    return received[0]!;
  }
  /**
   * Whether one of the request's signatures is the secret's. Computed rather than verified with
   * Webhook.verify: that also checks the timestamp against the machine's clock, and the test's
   * clock runs days ahead of it.
   */
  const verifies = (secret: string, request: Awaited<ReturnType<typeof deliverOne>>) => {
    const expected = new Webhook(secret).sign(String(request.headers['webhook-id']), new Date(Number(request.headers['webhook-timestamp']) * 1000), request.body);
    return String(request.headers['webhook-signature']).split(' ').includes(expected);
  };

  test('two rotations within a day: each rotated-out secret signs until a day after its own rotation', async () => {
    const first = (await secretView()).secret;
    const t0 = clock.now();
    const second = await rotate();
    clock.advance(60_000);
    const third = await rotate();
    assert.equal((await secretView()).previous_secret_valid_until, new Date(t0 + 60_000 + DAY).toISOString(), 'the last overlap to end');

    const both = await deliverOne();
    assert.deepEqual([first, second, third].map((s) => verifies(s, both)), [true, true, true], 'the first secret still signs after the second rotation');
    assert.equal(String(both.headers['webhook-signature']).split(' ').length, 3);

    // A day after the first rotation: the first secret stops; the second (rotated out a minute
    // later) goes on for that minute.
    clock.set(t0 + DAY + 30_000);
    const later = await deliverOne();
    assert.deepEqual([first, second, third].map((s) => verifies(s, later)), [false, true, true]);

    clock.set(t0 + 60_000 + DAY + 1);
    const last = await deliverOne();
    assert.deepEqual([first, second, third].map((s) => verifies(s, last)), [false, false, true]);
    assert.equal((await secretView()).previous_secret_valid_until, null);
    // Those past their day are gone at the next rotation.
    await rotate();
    assert.equal((await rc.database.db.selectFrom('retired_webhook_secrets').select('id').where('user_id', '=', user.userId).execute()).length, 1);
  });

  test(`a rotation storm: at most ${MAX_SIGNING_RETIRED_SECRETS} rotated-out secrets sign beside the current one, the newest`, async () => {
    const secrets: string[] = [];
    for (let i = 0; i < MAX_SIGNING_RETIRED_SECRETS + 3; i++) {
      secrets.push(await rotate());
      clock.advance(1_000);
    }
    const request = await deliverOne();
    assert.equal(String(request.headers['webhook-signature']).split(' ').length, MAX_SIGNING_RETIRED_SECRETS + 1);
    // The current one and the ten before it verify; older ones do not.
    const verified = secrets.map((s) => verifies(s, request));
    assert.deepEqual(verified, secrets.map((_, i) => i >= secrets.length - 1 - MAX_SIGNING_RETIRED_SECRETS));
  });

  test('a rotated-out secret that cannot be opened (sealed with a key this deployment lacks) only loses its signature: the delivery goes, signed with the others', async () => {
    const current = await rotate();
    await rc.database.db.insertInto('retired_webhook_secrets').values({ user_id: user.userId, secret: 'v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==:AAAA', retired_at: clock.now(), valid_until: clock.now() + DAY }).execute();
    const request = await deliverOne();
    assert.ok(verifies(current, request));
  });

  test('concurrent rotations take turns: every secret they made but the last is retired, none lost', async () => {
    const before = (await secretView()).secret;
    const made = await Promise.all([rotate(), rotate(), rotate()]);
    const current = (await secretView()).secret;
    assert.ok(made.includes(current));
    const request = await deliverOne();
    for (const secret of [before, ...made]) assert.ok(verifies(secret, request), 'every secret a client was shown signs');
  });

  test('a rotation PostgreSQL rolls back as a deadlock\'s victim runs again: answered 200, not 500, its secret retired once', { skip: TEST_ENGINE !== 'postgres' && 'SQLite runs one write transaction at a time: no deadlock' }, async () => {
    const db = rc.database.db;
    await rotate();
    // A day on, the secret that rotation retired is past its day: the next rotation deletes its row
    // after writing the user's.
    clock.advance(DAY + HOUR);
    const expired = await db.selectFrom('retired_webhook_secrets').select('id').where('user_id', '=', user.userId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const before = (await secretView()).secret;
    let rotation!: Promise<{ status: number; body: any }>;
    // A transaction that takes the two rows in the other order: the retired secret, then the user.
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      // It looks for a deadlock only after ten seconds (the server's deadlock_timeout is a second),
      // so the rotation, waiting since before, is the one to find it and be rolled back.
      await sql`set local deadlock_timeout = '10s'`.execute(trx);
      await trx.selectFrom('retired_webhook_secrets').select('id').where('id', '=', expired.id).forUpdate().execute();
      rotation = rc.request('POST', '/api/v1/webhooks/secret/rotate', { auth: user.auth });
      assert.equal(await untilSessionsWaitOn(db, holder, 1), 1, 'the rotation, the user\'s row written, waits for the retired secret');
      // Done at all, this shows that the rotation's transaction was rolled back (it could not end
      // otherwise while this one holds the retired secret).
      await trx.updateTable('users').set((eb) => ({ webhook_secret_rotated_at: eb.ref('webhook_secret_rotated_at') })).where('id', '=', user.userId).execute();
    });
    const res = await rotation;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await secretView()).secret, res.body.secret);
    // One secret retired (the one before), signing beside the new one; the rolled-back try left none.
    const signing = await db.selectFrom('retired_webhook_secrets').select('id').where('user_id', '=', user.userId).where('valid_until', '>', clock.now()).execute();
    assert.equal(signing.length, 1);
    const request = await deliverOne();
    assert.ok(verifies(before, request) && verifies(res.body.secret, request));
  });

  test('every delivery also carries MeetStream\'s signature, which a client verifying MeetStream\'s way accepts: the current secret\'s, after a rotation too', async () => {
    // MeetStream's SDK check (meetstream-ai/meetstream-node, src/webhooks.ts): hex HMAC-SHA256 of
    // the raw body keyed with the secret string, "sha256=" optional.
    const sdkVerifies = (secret: string, request: Awaited<ReturnType<typeof deliverOne>>) => {
      const header = String(request.headers['x-meetstream-signature'] ?? '');
      const candidate = header.startsWith('sha256=') ? header.slice(7) : header;
      return candidate === createHmac('sha256', secret).update(request.body, 'utf8').digest('hex');
    };
    const before = (await secretView()).secret;
    const first = await deliverOne();
    assert.equal(sdkVerifies(before, first), true, JSON.stringify(first.headers));
    assert.ok(!Number.isNaN(Date.parse(String(first.headers['x-meetstream-timestamp']))));
    assert.equal(sdkVerifies('another-secret', first), false);
    const rotated = await rotate();
    const second = await deliverOne();
    assert.deepEqual([sdkVerifies(rotated, second), sdkVerifies(before, second)], [true, false], 'one signature: the current secret\'s');
    assert.equal(verifies(before, second), true, 'the Standard Webhooks signature still carries the rotated-out one');
  });
});

describe('webhook secrets: upgrade', () => {
  test('a previous secret stored before migration 28 keeps signing until a day after its rotation; one past its day is not carried', async () => {
    await withSchemaBefore(28, 'usr_upgrade', async (database) => {
      const rotatedAt = Date.now() - HOUR;
      const old = database.db as unknown as Kysely<any>;
      await old.updateTable('users').set({ previous_webhook_secret: 'whsec_cHJldmlvdXM=', webhook_secret_rotated_at: rotatedAt }).where('id', '=', 'usr_upgrade').execute();
      await old.insertInto('users').values({ id: 'usr_expired', name: 'expired', webhook_secret: 'whsec_x', previous_webhook_secret: 'whsec_b2xk', webhook_secret_rotated_at: Date.now() - 2 * DAY, created_at: 0 }).execute();
      await migrate(database.db, database.engine, MIGRATIONS);
      const retired = await database.db.selectFrom('retired_webhook_secrets').selectAll().execute();
      assert.deepEqual(retired.map((r) => ({ user: r.user_id, secret: r.secret, retiredAt: Number(r.retired_at), until: Number(r.valid_until) })), [{ user: 'usr_upgrade', secret: 'whsec_cHJldmlvdXM=', retiredAt: rotatedAt, until: rotatedAt + DAY }]);
      const signing = await signingRetiredSecrets(database.db, ['usr_upgrade', 'usr_expired'], Date.now());
      assert.deepEqual([...signing], [['usr_upgrade', ['whsec_cHJldmlvdXM=']]]);
    });
  });
});
