// Per-key rate limits (RATE_LIMIT_PER_MINUTE) and the 1 MiB body limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/lib/clock.ts';
import { parseConfig } from '../../src/config.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { checkErrorBody, diffSnapshots, snapshotDatabase } from '../support/openapi.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';
const LIMIT = 5;

describe('rate limit per API key', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);

  before(async () => {
    rc = await startTestRollcall({ clock, settings: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  after(() => rc.close());

  test('is on by default at 600 a minute, and 0 turns it off', () => {
    assert.equal(parseConfig({ DATABASE_URL: 'sqlite::memory:' }).rateLimitPerMinute, 600);
    assert.equal(parseConfig({ DATABASE_URL: 'sqlite::memory:', RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute, 0);
    assert.throws(() => parseConfig({ DATABASE_URL: 'sqlite::memory:', RATE_LIMIT_PER_MINUTE: '-1' }), /RATE_LIMIT_PER_MINUTE/);
  });

  test('a key gets its burst, then 429 rate_limited with Retry-After, then one more request per 60/limit seconds', async () => {
    const user = await rc.newUser();
    for (let i = 0; i < LIMIT; i++) {
      const res = await rc.request('GET', EVENTS, { auth: user.auth });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-ratelimit-limit'], String(LIMIT));
      assert.equal(res.headers['x-ratelimit-remaining'], String(LIMIT - 1 - i));
    }
    const limited = await rc.request('GET', EVENTS, { auth: user.auth });
    assert.equal(limited.status, 429);
    assert.deepEqual(checkErrorBody(429, limited.body, String(limited.headers['content-type'])), []);
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers['retry-after'], String(60 / LIMIT));
    assert.equal(limited.body.details.retry_after_seconds, 60 / LIMIT);
    assert.equal(limited.headers['x-ratelimit-remaining'], '0');

    // Half the wait is not enough; the whole wait earns exactly one request.
    clock.advance((60 / LIMIT) * 500);
    const early = await rc.request('GET', EVENTS, { auth: user.auth });
    assert.equal(early.status, 429);
    assert.equal(early.headers['retry-after'], String(60 / LIMIT / 2));
    clock.advance((60 / LIMIT) * 500);
    assert.equal((await rc.request('GET', EVENTS, { auth: user.auth })).status, 200);
    assert.equal((await rc.request('GET', EVENTS, { auth: user.auth })).status, 429);

    // A full minute of rest refills the whole burst, and no more.
    clock.advance(10 * 60_000);
    const statuses = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await rc.request('GET', EVENTS, { auth: user.auth })).status);
    assert.deepEqual(statuses, [...Array(LIMIT).fill(200), 429]);
  });

  test('the OpenAPI document lists 429 for every operation under the key, and for none that takes other credentials', async () => {
    const document = (await rc.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>> };
    let keyed = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const isKeyed = !(Array.isArray(operation.security) && operation.security.length === 0) && !/\/providers\/|\/notifications\/|\/bots\/\{bot_id\}\/status$/.test(path);
        if (isKeyed) keyed++;
        if (isKeyed) assert.ok('429' in operation.responses, `${method.toUpperCase()} ${path} lists 429`);
      }
    }
    assert.ok(keyed > 40, `${keyed} keyed operations`);
    const schedule = document.paths['/api/v1/calendar/schedule/{event_id}']!.post!;
    assert.ok('429' in schedule.responses);
  });

  test('the limit is per key: other users and the same user\'s other keys have their own', async () => {
    const user = await rc.newUser('limited-user');
    const other = await rc.newUser();
    const secondKey = await createApiKey(rc.database.db, 'limited-user', clock);
    for (let i = 0; i < LIMIT; i++) await rc.request('GET', EVENTS, { auth: user.auth });
    assert.equal((await rc.request('GET', EVENTS, { auth: user.auth })).status, 429);
    assert.equal((await rc.request('GET', EVENTS, { auth: other.auth })).status, 200);
    assert.equal((await rc.request('GET', EVENTS, { auth: `Token ${secondKey.key}` })).status, 200);
  });

  test('a limited key is refused before its body is read or validated, and nothing changes', async () => {
    const user = await rc.newUser();
    for (let i = 0; i < LIMIT; i++) await rc.request('GET', EVENTS, { auth: user.auth });
    const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
    const valid = await rc.request('POST', EVENTS, { auth: user.auth, body: { title: 'x', start_time: '2026-11-21T10:00:00Z', end_time: '2026-11-21T11:00:00Z' } });
    const invalid = await rc.request('POST', EVENTS, { auth: user.auth, body: '{"title": ' });
    assert.equal(valid.status, 429);
    assert.equal(invalid.status, 429);
    assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
  });

  test('requests without a valid key are 403, not counted against anyone', async () => {
    const user = await rc.newUser();
    for (let i = 0; i < 3 * LIMIT; i++) {
      const res = await rc.request('GET', EVENTS, { auth: 'Token rck_0000000000000000000000000000000000000000' });
      assert.equal(res.status, 403);
    }
    assert.equal((await rc.request('GET', EVENTS, { auth: user.auth })).status, 200);
  });

  test('a bot runtime reporting with its status token is not limited by the owner\'s key', async () => {
    const user = await rc.newUser();
    clock.advance(60_000);
    const start = clock.now() + 86_400_000;
    const event = await rc.request('POST', EVENTS, { auth: user.auth, body: { title: 't', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: {} } });
    assert.equal(scheduled.status, 200);
    for (let i = 0; i < LIMIT; i++) await rc.request('GET', EVENTS, { auth: user.auth });
    assert.equal((await rc.request('GET', EVENTS, { auth: user.auth })).status, 429);
    const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', scheduled.body.bot_id).executeTakeFirstOrThrow();
    const report = await rc.request('POST', `/api/v1/bots/${scheduled.body.bot_id}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status: 'Joining' } });
    assert.notEqual(report.status, 429, JSON.stringify(report.body));
  });

  test('with the limit off, a key is never limited and gets no limit headers', async () => {
    const unlimited = await startTestRollcall({ clock, settings: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      const user = await unlimited.newUser();
      for (let i = 0; i < 50; i++) {
        const res = await unlimited.request('GET', EVENTS, { auth: user.auth });
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-ratelimit-limit'], undefined);
      }
    } finally {
      await unlimited.close();
    }
  });
});

describe('body size limit', () => {
  let rc: TestRollcall;
  let auth: string;
  const MIB = 1024 * 1024;

  before(async () => {
    rc = await startTestRollcall({ clock: new ManualClock(NOW) });
    auth = (await rc.newUser()).auth;
  });
  after(() => rc.close());

  /** A JSON body of exactly `bytes` bytes: an event whose description fills the rest. */
  function bodyOf(bytes: number): string {
    const shell = JSON.stringify({ title: 'big', start_time: '2026-11-21T10:00:00Z', end_time: '2026-11-21T11:00:00Z', description: '' });
    const text = shell.replace('"description":""', `"description":"${'d'.repeat(bytes - shell.length)}"`);
    assert.equal(Buffer.byteLength(text), bytes);
    return text;
  }

  test('1 MiB is read (and judged on its content); one byte more is 413 payload_too_large and changes nothing', async () => {
    const atLimit = await rc.request('POST', EVENTS, { auth, body: bodyOf(MIB) });
    assert.equal(atLimit.status, 400, 'read and validated: the description is longer than its maxLength');
    assert.equal(atLimit.body.code, 'validation_error');
    const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
    const over = await rc.request('POST', EVENTS, { auth, body: bodyOf(MIB + 1) });
    assert.equal(over.status, 413);
    assert.deepEqual(checkErrorBody(413, over.body, String(over.headers['content-type'])), []);
    assert.equal(over.body.code, 'payload_too_large');
    assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
  });

  test('holds on a real socket for a chunked body with no Content-Length', async () => {
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = rc.app.server.address() as AddressInfo;
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"title":"'));
        if (sent > 2 * MIB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`http://127.0.0.1:${port}${EVENTS}`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: stream, duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { code: string }).code, 'payload_too_large');
  });
});
