// Two users with objects of every kind. Every operation that takes an id in its path (found in the
// app's OpenAPI document, so routes added later are covered) is called by the other user with each
// of the first user's ids: the answer is a 404, the same as for an id that never existed, nothing
// changes, and no value of the first user's objects appears in any answer, list or error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import {
  buildQuery, checkErrorBody, diffSnapshots, fetchOpenApi, fillPath, listOperations, send, snapshotDatabase,
  type Answer, type Body, type Operation,
} from '../support/openapi.ts';
import { brokenSchemaValue, hostileValue, minimalValue, schemaValue, type Hints } from '../support/schema-arbitraries.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const RUNS = Math.max(3, Math.round(Number(process.env.FUZZ_RUNS ?? 25) / 4));
const SEED = Number(process.env.FUZZ_SEED ?? 20261120);
const BOOKKEEPING_COLUMNS = { api_keys: ['last_used_at'] };
/** Numbers the test's objects and marker values, so that every run makes the same ones. */
let sequence = 0;

interface Tenant {
  label: string;
  auth: string;
  userId: string;
  /** Every id this user owns, by kind. */
  ids: { event: string[]; occurrence: string[]; bot: string[]; schedule: string[]; connection: string[]; delivery: string[]; other: string[] };
  statusToken: string;
  webhookSecret: string;
  /** Values only this user's objects hold (filled after both tenants exist). */
  privateValues: Set<string>;
  /** Every value this user's own answers hold (filled after both tenants exist). */
  seenValues: Set<string>;
  /** Cursors this user's listings handed out. */
  cursors: string[];
}

describe('tenant isolation', () => {
  let rc: TestRollcall;
  let operations: Operation[];
  let alice: Tenant;
  let bob: Tenant;
  const clock = new ManualClock(NOW);
  const feeds = new FakeIcsServer();
  // Google's and Microsoft's endpoints, refusing every credential: nothing leaves the machine.
  const providers = new FakeHttpReceiver();
  const answered: { what: string; answer: Answer; sent: string[] }[] = [];

  before(async () => {
    await feeds.start();
    const providerUrl = await providers.start();
    providers.respond = () => ({ status: 400, body: { error: 'invalid_grant' } });
    rc = await startTestRollcall({
      clock,
      settings: {
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
        GOOGLE_OAUTH_TOKEN_URL: `${providerUrl}/google/token`, GOOGLE_CALENDAR_API_URL: `${providerUrl}/google/calendar/v3`,
        MICROSOFT_LOGIN_URL: `${providerUrl}/microsoft/common`, MICROSOFT_GRAPH_URL: `${providerUrl}/graph/v1.0`,
      },
    });
    operations = listOperations(await fetchOpenApi(rc));
    // Different clock readings and meeting times, so that timestamps tell the two apart too.
    clock.set(NOW + 3_600_000);
    alice = await seedTenant(rc, 'alice', 2 * 86_400_000 + 7 * 60_000, feeds, operations);
    clock.set(NOW + 7_200_000);
    bob = await seedTenant(rc, 'bob', 3 * 86_400_000 + 11 * 60_000, feeds, operations);
    clock.set(NOW + 10_800_000);
    const aliceValues = await collectValues(rc, alice, operations);
    const bobValues = await collectValues(rc, bob, operations);
    alice.seenValues = aliceValues;
    bob.seenValues = bobValues;
    // Enum-like values both hold ("Scheduled", "zoom") prove nothing; keep what is Alice's alone.
    // (A value of hers that Bob's own listings held would be dropped here too: the first test
    // fails on any value both see that names one of them.)
    alice.privateValues = new Set([...aliceValues].filter((v) => !bobValues.has(v)));
    bob.privateValues = new Set([...bobValues].filter((v) => !aliceValues.has(v)));
    for (const secret of [alice.auth.slice('Token '.length), alice.webhookSecret, alice.statusToken, alice.userId]) alice.privateValues.add(secret);
  });
  after(async () => {
    await rc.close();
    await feeds.stop();
    await providers.stop();
  });

  /** Sends as Bob, records the answer for the leak check, and returns it. */
  async function asBob(what: string, method: string, url: string, body: Body, authorization = bob.auth, sent: string[] = []): Promise<Answer> {
    const answer = await send(rc, method, url, authorization, body);
    assert.ok(answer.status < 500, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    answered.push({ what, answer, sent: [url, ...sent, ...(body.kind === 'json' ? stringsIn(body.value) : [])] });
    assertNoLeak(what, answer, [url, ...sent, ...(body.kind === 'json' ? stringsIn(body.value) : [])]);
    return answer;
  }

  function assertNoLeak(what: string, answer: Answer, sent: string[]): void {
    const text = JSON.stringify(answer.body) + JSON.stringify(answer.headers);
    for (const value of alice.privateValues) {
      // An id Bob sent may come back in "No bot <id>": he knew it already.
      if (text.includes(value) && !sent.some((s) => s.includes(value) || decodeURIComponentSafe(s).includes(value))) {
        assert.fail(`${what} leaked Alice's value ${JSON.stringify(value)}: ${text.slice(0, 600)}`);
      }
    }
  }

  test('both users have objects of every kind, and values of their own', async () => {
    for (const tenant of [alice, bob]) {
      assert.ok(tenant.ids.event.length >= 3, `${tenant.label} events`);
      assert.ok(tenant.ids.occurrence.length >= 1, `${tenant.label} occurrences`);
      assert.ok(tenant.ids.bot.length >= 3, `${tenant.label} bots`);
      assert.ok(tenant.ids.schedule.length >= 1, `${tenant.label} schedules`);
      assert.ok(tenant.ids.delivery.length >= 1, `${tenant.label} webhook deliveries`);
      const urls = (await rc.request('GET', '/api/v1/webhooks/urls', { auth: tenant.auth })).body.urls as { state: string; gone_bots: number }[];
      assert.deepEqual(urls.map((u) => [u.state, u.gone_bots]), [['disabled', 1]], `${tenant.label}'s callback URL is disabled, a bot's line to it gone`);
    }
    assert.ok(alice.privateValues.size > 20, `only ${alice.privateValues.size} values are Alice's alone`);
    // Neither user's own answers (every listing and every object, read to find the values the
    // leak check looks for) hold a value that names the other: one of the other's marks or ids.
    for (const [reader, owner] of [[bob, alice], [alice, bob]] as const) {
      const foreign = [...reader.seenValues].filter((v) => namesTenant(owner, v));
      assert.deepEqual(foreign, [], `${reader.label}'s own answers hold ${owner.label}'s values`);
    }
    assert.ok(namesTenant(alice, `No event ${alice.ids.event[0]}`) && namesTenant(alice, [...alice.privateValues].find((v) => v.startsWith('alice-title-'))!), 'namesTenant knows Alice\'s ids and marks');
    assert.ok(!namesTenant(alice, 'Scheduled') && !namesTenant(alice, bob.ids.bot[0]!), 'namesTenant takes no shared or foreign value for Alice\'s');
    // The leak check is not vacuous: it catches Alice's title in an answer, but not an id Bob sent.
    const title = [...alice.privateValues].find((v) => v.startsWith('alice-title-'))!;
    assert.throws(() => assertNoLeak('self-check', { status: 200, body: { results: [{ title }] }, headers: {} }, []), /leaked/);
    assertNoLeak('self-check', { status: 404, body: { error: `No event ${alice.ids.event[0]}` }, headers: {} }, [`/api/v1/calendar/events/${alice.ids.event[0]}`]);
  });

  test('every operation with a path id answers another user\'s id exactly as an unknown one: 404, no change, no leak', async (t) => {
    const withIds = operations.filter((op) => op.pathParams.length > 0).sort((a, b) => methodRank(a.method) - methodRank(b.method));
    assert.ok(withIds.length >= 5, 'operations with path ids');
    const hints: Hints = { nowMs: clock.now(), ids: [] };
    const aliceIds = allIds(alice);
    let attacks = 0;
    const shapeRefusals = new Set<string>();
    for (const op of withIds) {
      await t.test(op.id, async () => {
        const credentials = credentialsFor(op, bob);
        // Bob's own object of the kind this route takes, made fresh so earlier routes (a DELETE)
        // cannot have used it up: the request must find it, which proves the body is valid and
        // that a 404 below comes from ownership, not from validation or a broken route.
        const body = await chooseValidBody(op, hints, async (candidate) => {
          const own = await freshObjectFor(rc, bob, op, feeds);
          const values = Object.fromEntries(op.pathParams.map((p) => [p.name, own]));
          return asBob(`${op.id} control`, op.method, fillPath(op.path, values), candidate, credentials[0]);
        });
        for (const authorization of credentials) {
          for (const aliceId of aliceIds) {
            // Same shape (prefix, occurrence suffix), different owner-part: an id that never existed.
            const unknownId = /^[a-z]+_[0-9A-Za-z]{22}/.test(aliceId) ? aliceId.replace(/^([a-z]+_)[0-9A-Za-z]{22}/, `$1${'Z'.repeat(22)}`) : `${aliceId.slice(0, aliceId.indexOf('_') + 1)}${'Z'.repeat(22)}`;
            const values = (id: string) => Object.fromEntries(op.pathParams.map((p) => [p.name, id]));
            const baseline = await asBob(`${op.id} unknown id`, op.method, fillPath(op.path, values(unknownId)), body, authorization);
            const before = await snapshotDatabase(rc, BOOKKEEPING_COLUMNS);
            const answer = await asBob(`${op.id} with Alice's ${aliceId}`, op.method, fillPath(op.path, values(aliceId)), body, authorization);
            const changed = diffSnapshots(before, await snapshotDatabase(rc, BOOKKEEPING_COLUMNS));
            attacks++;
            assert.deepEqual(changed, [], `${op.id} with Alice's ${aliceId} changed ${changed.join(', ')}`);
            assert.deepEqual(checkErrorBody(answer.status, answer.body, String(answer.headers['content-type'])), [], `${op.id} with Alice's ${aliceId}: ${answer.status} ${JSON.stringify(answer.body)}`);
            assert.equal(`${answer.status} ${answer.body.code}`, `${baseline.status} ${baseline.body.code}`, `${op.id}: Alice's ${aliceId} is answered differently from an id that does not exist`);
            if (authorization.startsWith('Token ') && answer.status !== 404) {
              // Only a refusal that does not look at the object may differ from 404: a 400 for the
              // id's shape (an occurrence id where the operation takes none), given just the same
              // to an id that never existed (checked above).
              assert.equal(answer.status, 400, `${op.id} with Alice's ${aliceId} answered ${answer.status} ${JSON.stringify(answer.body)}`);
              shapeRefusals.add(`${op.id}: ${answer.body.code} "${answer.body.error}"`);
            }
          }
        }
      });
    }
    t.diagnostic(`${withIds.length} operations with path ids; ${attacks} requests with another user's ids`);
    for (const refusal of shapeRefusals) t.diagnostic(`refused by id shape before any lookup (same for unknown ids): ${refusal}`);
  });

  test('generated requests with another user\'s ids are never accepted, change nothing and leak nothing', async (t) => {
    const withIds = operations.filter((op) => op.pathParams.length > 0);
    const hints: Hints = { nowMs: clock.now(), ids: allIds(alice) };
    let cases = 0;
    for (const op of withIds) {
      const credentials = credentialsFor(op, bob);
      const request = fc.record({
        id: fc.constantFrom(...allIds(alice)),
        authorization: fc.constantFrom(...credentials),
        body: op.body
          ? fc.oneof(schemaValue(op.body.schema, hints), brokenSchemaValue(op.body.schema, hints), hostileValue(hints)).map((value): Body => ({ kind: 'json', value }))
          : fc.constant<Body>({ kind: 'none' }),
      });
      await fc.assert(fc.asyncProperty(request, async ({ id, authorization, body }) => {
        const url = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, id])));
        const before = await snapshotDatabase(rc, BOOKKEEPING_COLUMNS);
        const answer = await asBob(`${op.id} generated, with Alice's ${id}`, op.method, url, body, authorization);
        cases++;
        if (answer.status < 400) throw new Error(`${op.method} ${url} with ${JSON.stringify(body).slice(0, 300)} was accepted (${answer.status}) for another user's object`);
        const changed = diffSnapshots(before, await snapshotDatabase(rc, BOOKKEEPING_COLUMNS));
        if (changed.length > 0) throw new Error(`${op.method} ${url} changed ${changed.join(', ')}`);
      }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    }
    t.diagnostic(`${cases} generated requests over ${withIds.length} operations (seed ${SEED})`);
  });

  test('bodies that reference another user\'s objects by id are refused and leak nothing', async (t) => {
    const hints: Hints = { nowMs: clock.now(), ids: [] };
    let checked = 0;
    for (const op of operations.filter((o) => o.body)) {
      const properties: Record<string, any> = op.body!.schema.properties ?? {};
      // References to our objects; an OAuth client id is the provider's, not ours.
      const references = Object.keys(properties).filter((name) => /_id$/.test(name) && !/client_id$/.test(name));
      for (const name of references) {
        for (const aliceId of allIds(alice)) {
          const body = minimalValue(op.body!.schema, hints, '', ['start_time', 'end_time']) as Record<string, unknown>;
          if ('end_time' in body) body.end_time = new Date(Date.parse(String(body.start_time)) + 1_800_000).toISOString();
          body[name] = aliceId;
          // An override instance names its series and the occurrence it replaces.
          if ('original_start_time' in properties) body.original_start_time = occurrenceStartOf(alice.ids.occurrence[0]!);
          const ownId = await freshObjectFor(rc, bob, op, feeds);
          const url = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, ownId])));
          const before = await snapshotDatabase(rc, BOOKKEEPING_COLUMNS);
          const answer = await asBob(`${op.id} with ${name}=${aliceId}`, op.method, url, { kind: 'json', value: body });
          checked++;
          assert.ok(answer.status >= 400, `${op.id} accepted ${name}=${aliceId} (Alice's): ${answer.status} ${JSON.stringify(answer.body)}`);
          assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, BOOKKEEPING_COLUMNS)), []);
        }
      }
    }
    t.diagnostic(`${checked} requests naming another user's ids in the body`);
  });

  test('listings, filters and cursors show none of the other user\'s objects', async (t) => {
    const lists = operations.filter((op) => op.method === 'GET' && op.pathParams.length === 0);
    assert.ok(lists.length >= 2, 'list operations');
    let checked = 0;
    for (const op of lists) {
      const queries: [string, string][][] = [[]];
      const window: [string, string][] = op.queryParams.filter((p) => p.schema.format === 'date-time')
        .map((p) => [p.name, new Date(/max|end|to/.test(p.name) ? NOW + 400 * 86_400_000 : NOW - 400 * 86_400_000).toISOString()]);
      if (window.length > 0) queries.push(window);
      for (const param of op.queryParams.filter((p) => p.schema.type === 'string' && p.schema.format !== 'date-time')) {
        for (const value of [...allIds(alice), ...alice.cursors]) queries.push([...window, [param.name, value]]);
      }
      for (const query of queries) {
        await asBob(`${op.id}${buildQuery(query)}`, 'GET', op.path + buildQuery(query), { kind: 'none' }, bob.auth, query.map(([, v]) => v));
        checked++;
      }
      // Every page, one item at a time.
      if (op.queryParams.some((p) => p.name === 'limit') && op.queryParams.some((p) => p.name === 'cursor')) {
        let query: [string, string][] = [...window, ['limit', '1']];
        for (let page = 0; page < 200; page++) {
          const answer = await asBob(`${op.id} page ${page}`, 'GET', op.path + buildQuery(query), { kind: 'none' });
          checked++;
          const next = answer.body?.next ?? answer.body?.next_cursor ?? answer.body?.nextCursor;
          if (answer.status !== 200 || typeof next !== 'string' || next.length === 0) break;
          query = [...window, ['limit', '1'], ['cursor', cursorOf(next)]];
        }
      }
    }
    t.diagnostic(`${lists.length} list operations, ${checked} listings`);
  });

  test('no answer Bob received carries a value of Alice\'s', () => {
    // Each answer was checked as it came; this re-checks them all now that every value is known.
    assert.ok(answered.length > 50, `only ${answered.length} answers`);
    for (const { what, answer, sent } of answered) assertNoLeak(what, answer, sent);
  });
});

/** The credentials Bob may present to an operation: his API key, and his status token where a route takes one. */
function credentialsFor(op: Operation, tenant: Tenant): string[] {
  const credentials = [tenant.auth];
  if (/Bearer/.test(op.description)) credentials.push(`Bearer ${tenant.statusToken}`);
  return credentials;
}

function allIds(tenant: Tenant): string[] {
  return Object.values(tenant.ids).flat();
}

/** Whether a value names this tenant: holds one of its marks (`alice-title-0007`) or ids. */
function namesTenant(tenant: Tenant, value: string): boolean {
  if (new RegExp(`(^|[^a-z])${tenant.label}-[a-z-]+-\\d{4}`).test(value)) return true;
  return allIds(tenant).some((id) => value.includes(id));
}

function methodRank(method: string): number {
  return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].indexOf(method);
}

/** The first candidate body the control request does not refuse as invalid (400). */
async function chooseValidBody(op: Operation, hints: Hints, control: (body: Body) => Promise<Answer>): Promise<Body> {
  if (!op.body) {
    const answer = await control({ kind: 'none' });
    assertFound(op, answer);
    return { kind: 'none' };
  }
  const properties = Object.keys(op.body.schema.properties ?? {});
  const candidates = [[], ...properties.map((p) => [p])].map((extra): Body => ({ kind: 'json', value: minimalValue(op.body!.schema, hints, '', extra) }));
  const refusals: string[] = [];
  for (const candidate of candidates) {
    const answer = await control(candidate);
    if (answer.status === 400) {
      refusals.push(`${JSON.stringify(candidate.kind === 'json' ? candidate.value : null)} -> ${answer.body.code}: ${answer.body.error}`);
      continue;
    }
    assertFound(op, answer);
    return candidate;
  }
  throw new Error(`${op.id}: no body this test can build gets past validation on the owner's own object; teach minimalValue about it.\n  ${refusals.join('\n  ')}`);
}

function assertFound(op: Operation, answer: Answer): void {
  assert.ok(answer.status < 300 || answer.status === 409, `${op.id} control: the owner's own object answered ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** A new object of the kind the operation's path takes, owned by the tenant; returns its id. */
async function freshObjectFor(rc: TestRollcall, tenant: Tenant, op: Operation, feeds: FakeIcsServer): Promise<string> {
  const names = op.pathParams.map((p) => p.name).join(' ');
  if (op.pathParams.length === 0) return '';
  if (/calendar_id|connection/.test(names)) return connectFeed(rc, tenant, feeds);
  if (/delivery/.test(names)) return newDelivery(rc, tenant);
  const n = ++sequence;
  const start = rc.clock.now() + 5 * 86_400_000 + n * 60_000;
  const event = await rc.request('POST', '/api/v1/calendar/events', { auth: tenant.auth, body: { title: `${tenant.label} fresh`, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${9_000_000_000 + n}` } });
  assert.equal(event.status, 201, JSON.stringify(event.body));
  if (/event/.test(names)) {
    // Routes that act on an event's bots need it scheduled.
    if (/schedule/.test(op.path) && op.method !== 'POST') await scheduleBot(rc, tenant, event.body.id, `${tenant.label}-fresh-${event.body.id}`);
    return event.body.id;
  }
  if (/bot/.test(names)) return (await scheduleBot(rc, tenant, event.body.id, `${tenant.label}-fresh-${event.body.id}`)).bot_id;
  throw new Error(`${op.id}: this test does not know how to make an object for path parameter(s) ${names}; add it to freshObjectFor`);
}

/** A webhook delivery of the tenant's: a new bot with a callback_url queues its bot.scheduled webhook. */
async function newDelivery(rc: TestRollcall, tenant: Tenant): Promise<string> {
  const n = ++sequence;
  const start = rc.clock.now() + 6 * 86_400_000 + n * 60_000;
  const event = await rc.request('POST', '/api/v1/calendar/events', { auth: tenant.auth, body: { title: `${tenant.label} hooked`, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${9_100_000_000 + n}` } });
  const res = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: tenant.auth, body: { deduplication_key: `${tenant.label}-hooked-${n}`, bot_config: { callback_url: `https://93.184.215.14/${tenant.label}-fresh-hook` } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const delivery = await rc.database.db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', res.body.bot_id).executeTakeFirstOrThrow();
  return delivery.message_id;
}

async function scheduleBot(rc: TestRollcall, tenant: Tenant, eventId: string, key: string): Promise<{ bot_id: string; schedule_id: string }> {
  const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth: tenant.auth, body: { deduplication_key: key, bot_config: { bot_name: `${tenant.label} bot` } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Objects of every kind, each holding values that name the tenant. */
async function seedTenant(rc: TestRollcall, label: string, offsetMs: number, feeds: FakeIcsServer, operations: Operation[]): Promise<Tenant> {
  const user = await rc.newUser(`${label}-isolation`);
  const mark = (what: string) => `${label}-${what}-${(++sequence).toString().padStart(4, '0')}`;
  const post = async (url: string, body: unknown) => {
    const res = await rc.request('POST', url, { auth: user.auth, body });
    assert.ok(res.status < 300, `${label} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const start = NOW + offsetMs;
  const zoomId = label === 'alice' ? '81112223334' : '85556667778';
  const single = await post('/api/v1/calendar/events', {
    title: mark('title'), description: mark('description'), location: mark('location'),
    start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/${zoomId}?pwd=${mark('pwd')}`,
  });
  const twin = await post('/api/v1/calendar/events', { title: mark('twin'), start_time: new Date(start + 600_000).toISOString(), end_time: new Date(start + 3_000_000).toISOString(), meeting_url: `https://zoom.us/j/${zoomId}` });
  const series = await post('/api/v1/calendar/events', {
    title: mark('series'), start_time: new Date(start + 86_400_000).toISOString(), end_time: new Date(start + 86_400_000 + 1_800_000).toISOString(),
    timezone: 'Europe/Berlin', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=6'], meeting_url: `https://meet.google.com/${label === 'alice' ? 'aaa-bbbb-ccc' : 'ddd-eeee-fff'}`,
  });
  const listed = await rc.request('GET', `/api/v1/calendar/events?time_min=${encodeURIComponent(new Date(start).toISOString())}&time_max=${encodeURIComponent(new Date(start + 60 * 86_400_000).toISOString())}&limit=100`, { auth: user.auth });
  const occurrences = listed.body.results.filter((e: { recurring_event_id: string | null }) => e.recurring_event_id === series.id).map((e: { id: string }) => e.id);
  const override = await post('/api/v1/calendar/events', {
    title: mark('override'), recurring_event_id: series.id, original_start_time: new Date(occurrenceStartOf(occurrences[1])).toISOString(),
    start_time: new Date(occurrenceStartOf(occurrences[1]) + 3_600_000).toISOString(), end_time: new Date(occurrenceStartOf(occurrences[1]) + 5_400_000).toISOString(),
  });
  const dedup = mark('dedup');
  const hookUrl = `https://93.184.215.14/${mark('hook')}`;
  const bot = await post(`/api/v1/calendar/schedule/${single.id}`, {
    deduplication_key: dedup,
    bot_config: { bot_name: mark('bot'), bot_message: mark('message'), callback_url: hookUrl, custom_attributes: { team: mark('attr') } },
  });
  // The callback URL's records of trouble, as the outbox writes them (webhook-delivery.ts): disabled
  // after days of failures, and the bot's line gone after a 410, naming the tenant's message. (This
  // suite's callback host is a public address never contacted, so the outbox cannot answer them
  // itself here.) GET /webhooks/urls lists them for their owner alone.
  const hooked = await rc.database.db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', bot.bot_id).executeTakeFirstOrThrow();
  const failingSinceMs = NOW - 6 * 86_400_000 + offsetMs / 1000;
  await rc.database.db.insertInto('webhook_url_holds').values({
    user_id: user.userId, url: hookUrl, paused_until_ms: 0, failures: 3, last_failure_at_ms: NOW - 60_000, failing_since_ms: failingSinceMs,
    message_id: hooked.message_id, run_message_id: hooked.message_id, several_messages: 1, disabled_at_ms: NOW - 60_000 + offsetMs / 1000,
  }).execute();
  await rc.database.db.insertInto('gone_webhook_urls').values({ bot_id: bot.bot_id, url: hookUrl, user_id: user.userId, message_id: hooked.message_id }).execute();
  const shared = await post(`/api/v1/calendar/schedule/${twin.id}`, { deduplication_key: dedup, bot_config: { bot_name: mark('bot2') } });
  assert.equal(shared.bot_id, bot.bot_id, 'the twin event shares the bot');
  const all = await post(`/api/v1/calendar/schedule/${series.id}`, { deduplication_key: mark('series-dedup'), bot_config: { bot_name: mark('series-bot') }, schedule_all_occurrences: true, occurrence_limit: 3 });
  const schedules = await rc.database.db.selectFrom('schedules').select(['id', 'status_token']).where('user_id', '=', user.userId).execute();
  const secret = await rc.request('GET', '/api/v1/webhooks/secret', { auth: user.auth });

  const tenant: Tenant = {
    label,
    auth: user.auth,
    userId: user.userId,
    ids: {
      event: [single.id, twin.id, series.id, override.id],
      occurrence: occurrences,
      bot: [bot.bot_id, ...all.schedules_created.map((s: { bot_id: string }) => s.bot_id)],
      schedule: schedules.map((s) => s.id),
      connection: [],
      delivery: (await rc.database.db.selectFrom('webhook_deliveries').select('message_id').where('user_id', '=', user.userId).execute()).map((d) => d.message_id),
      other: [user.userId],
    },
    statusToken: schedules[0]!.status_token,
    webhookSecret: secret.body.secret,
    privateValues: new Set(),
    seenValues: new Set(),
    cursors: [],
  };
  if (operations.some((op) => /connection/.test(op.path))) {
    const calendarId = await connectFeed(rc, tenant, feeds, mark);
    tenant.ids.connection.push(calendarId);
    const synced = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${encodeURIComponent(new Date(NOW).toISOString())}&time_max=${encodeURIComponent(new Date(NOW + 60 * 86_400_000).toISOString())}`, { auth: user.auth });
    assert.ok(synced.body.results.length > 0, `${label}'s feed synced no events: ${JSON.stringify(synced.body)}`);
    tenant.ids.event.push(...synced.body.results.map((e: { id: string }) => e.id));
  }
  // Cursors from this tenant's listings, for the other tenant to try.
  for (const op of operations.filter((o) => o.method === 'GET' && o.pathParams.length === 0 && o.queryParams.some((p) => p.name === 'cursor'))) {
    const window = op.queryParams.filter((p) => p.schema.format === 'date-time').map((p): [string, string] => [p.name, new Date(/max|end|to/.test(p.name) ? NOW + 400 * 86_400_000 : NOW - 400 * 86_400_000).toISOString()]);
    const res = await rc.request('GET', op.path + buildQuery([...window, ['limit', '1']]), { auth: user.auth });
    const next = res.body?.next ?? res.body?.next_cursor ?? res.body?.nextCursor;
    if (typeof next === 'string') tenant.cursors.push(cursorOf(next));
  }
  return tenant;
}

/**
 * A calendar connection to an ICS feed served locally, holding one event with the tenant's marks.
 * Connections are created through POST /calendar/create_ics_calendar; if the API names that
 * differently, this fails and says so rather than leaving connections out.
 */
async function connectFeed(rc: TestRollcall, tenant: Pick<Tenant, 'auth' | 'label'>, feeds: FakeIcsServer, mark: (what: string) => string = (w) => `${tenant.label}-${w}-${++sequence}`): Promise<string> {
  const url = feeds.createFeed(mark('feed'));
  const start = NOW + 4 * 86_400_000 + (tenant.label === 'alice' ? 13 : 17) * 60_000;
  feeds.edit(url, (events) => events.push({ uid: `${mark('uid')}@isolation`, summary: mark('synced'), description: mark('synced-description'), location: `https://zoom.us/j/${tenant.label === 'alice' ? '82223334445' : '86667778889'}?pwd=${mark('synced-pwd')}`, startMs: start, endMs: start + 1_800_000 }));
  const res = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: tenant.auth, body: { ics_url: url } });
  assert.equal(res.status, 200, `the API has calendar connections but connecting an ICS feed failed: ${JSON.stringify(res.body)}; update connectFeed`);
  return res.body.calendar_id;
}

/** Every string value in the answers this tenant gets for its own objects and listings. */
async function collectValues(rc: TestRollcall, tenant: Tenant, operations: Operation[]): Promise<Set<string>> {
  const values = new Set<string>();
  const add = (body: unknown) => {
    for (const s of stringsIn(body)) if (s.length >= 8) values.add(s);
  };
  for (const op of operations.filter((o) => o.method === 'GET')) {
    if (op.pathParams.length === 0) {
      const window = op.queryParams.filter((p) => p.schema.format === 'date-time').map((p): [string, string] => [p.name, new Date(/max|end|to/.test(p.name) ? NOW + 400 * 86_400_000 : NOW - 400 * 86_400_000).toISOString()]);
      add((await rc.request('GET', op.path + buildQuery(window), { auth: tenant.auth })).body);
      continue;
    }
    for (const id of allIds(tenant)) {
      const res = await rc.request('GET', fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, id]))), { auth: tenant.auth });
      if (res.status === 200) add(res.body);
    }
  }
  for (const id of allIds(tenant)) values.add(id);
  return values;
}

function stringsIn(value: unknown, out: string[] = []): string[] {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') out.push(current);
    else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        out.push(key);
        stack.push(child);
      }
    }
  }
  return out;
}

/** The original start an occurrence id names (`<series>_<yyyymmddThhmmssZ>`), in epoch ms. */
function occurrenceStartOf(occurrenceId: string): number {
  const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(occurrenceId);
  assert.ok(m, `occurrence id ${occurrenceId}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** A cursor as a listing hands it out: either the bare cursor or a `next` URL carrying one. */
function cursorOf(next: string): string {
  if (!next.includes('cursor=')) return next;
  return new URL(next, 'http://x').searchParams.get('cursor') ?? next;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
