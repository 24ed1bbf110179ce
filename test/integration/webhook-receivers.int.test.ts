// Status webhooks against receivers as they are: verified with the Standard Webhooks library the
// way its README shows, and answering the ways real receivers do (410 Gone, a reset connection, a
// body that never ends, no answer at all, a kept-alive connection closed under the next request).
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { backendPid, untilSessionsWaitOn } from '../support/pg-lock-waits.ts';
import { FakeHttpReceiver, type ReceivedRequest } from '../support/fake-http-receiver.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { sql, type Transaction } from 'kysely';
import type { Schema } from '../../src/db/schema.ts';
import { WebhookDelivery } from '../../src/services/webhooks/webhook-delivery.ts';
import { OutboundHttp } from '../../src/adapters/outbound-http.ts';
import { OutboundGuard } from '../../src/adapters/outbound-guard.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TIMEOUT_MS = 1000;

interface ReceiverSuite {
  readonly hooks: FakeHttpReceiver;
  readonly clock: ManualClock;
  /** Set before the suite's first test. */
  rc: TestRollcall;
  user: { auth: string; userId: string };
  /** The receiver's address; a callback URL is it and a path. */
  base: string;
  /** Books a bot a day out with `path` as its callback URL: its bot.scheduled webhook is queued. */
  book(path: string): Promise<string>;
  /** The requests the receiver got at `path`. */
  to(path: string): ReceivedRequest[];
  deliveriesOf(botId: string): Promise<{ delivery_id: string; event: string; status: string; attempts: number; last_error: string | null }[]>;
  secret(): Promise<string>;
}

/**
 * What a describe below runs against: a fake receiver on 127.0.0.1 (allowed as a callback host)
 * and a Rollcall on a manual clock with one user, started before the describe's tests with
 * `settings` and closed after them. `name` keeps the describes' bookings apart.
 */
function receiverSuite(name: string, settings: Record<string, string>): ReceiverSuite {
  const hooks = new FakeHttpReceiver();
  let booked = 0;
  const suite: ReceiverSuite = {
    hooks,
    clock: new ManualClock(Date.parse('2026-12-01T09:00:00Z')),
    rc: undefined as unknown as TestRollcall,
    user: { auth: '', userId: '' },
    base: '',
    async book(path) {
      const start = suite.clock.now() + DAY;
      const event = await suite.rc.request('POST', '/api/v1/calendar/events', { auth: suite.user.auth, body: { title: name, start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
      assert.equal(event.status, 201, JSON.stringify(event.body));
      const scheduled = await suite.rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: suite.user.auth, body: { deduplication_key: `${name}-${++booked}`, bot_config: { callback_url: `${suite.base}${path}` } } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      return scheduled.body.bot_id as string;
    },
    to: (path) => hooks.received.filter((r) => r.url === path),
    deliveriesOf: async (botId) => (await suite.rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: suite.user.auth })).body.deliveries,
    secret: async () => (await suite.rc.request('GET', '/api/v1/webhooks/secret', { auth: suite.user.auth })).body.secret as string,
  };
  before(async () => {
    suite.base = await hooks.start();
    suite.rc = await startTestRollcall({ clock: suite.clock, settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', ...settings } });
    suite.user = await suite.rc.newUser();
  });
  after(async () => {
    await suite.rc.close();
    await hooks.stop();
  });
  return suite;
}

describe('status webhooks and real receivers', () => {
  const env = receiverSuite('receivers', { WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
  const { hooks, clock, book, to, deliveriesOf, secret } = env;

  /**
   * The receiver's check, as the standardwebhooks README shows it (`new Webhook(secret).verify(body,
   * headers)`), made at `atMs` on the receiver's clock: the library reads the time from Date.now()
   * and allows five minutes either way, so Date alone is set to the test's time while it looks.
   */
  function verifiesAt(key: string, request: ReceivedRequest, atMs: number): boolean {
    mock.timers.enable({ apis: ['Date'], now: atMs });
    try {
      new Webhook(key).verify(request.body, request.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    } finally {
      mock.timers.reset();
    }
  }

  test('the library verifies every attempt as it arrives: a retry more than five minutes later is signed again with a fresh timestamp, under the same webhook-id', async () => {
    const key = await secret();
    // The receiver is down for the first attempt (503), then back.
    hooks.respond = (r) => ({ status: r.url === '/verify' && to('/verify').length === 1 ? 503 : 200 });
    const botId = await book('/verify');
    const firstAt = clock.now();
    await env.rc.webhooks.runDue();
    clock.advance(10 * 60_000);
    await env.rc.webhooks.runDue();
    const [first, retry] = to('/verify');
    assert.ok(first && retry, `${to('/verify').length} requests`);
    assert.ok(verifiesAt(key, first, firstAt), 'the first attempt verifies when it arrives');
    assert.ok(verifiesAt(key, retry, clock.now()), 'the retry verifies when it arrives');
    assert.equal(retry.headers['webhook-id'], first.headers['webhook-id']);
    assert.equal(Number(retry.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp']), 600);
    assert.ok(!verifiesAt(key, first, clock.now()), 'the first attempt\'s headers, replayed ten minutes on, are refused as too old');
    assert.equal(retry.body, first.body, 'the same bytes');
    assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);

    // During a rotation both secrets' signatures ride in the one header, and each verifies.
    const rotated = (await env.rc.request('POST', '/api/v1/webhooks/secret/rotate', { auth: env.user.auth })).body.secret as string;
    await book('/verify');
    await env.rc.webhooks.runDue();
    const during = to('/verify').at(-1)!;
    assert.match(String(during.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
    assert.ok(verifiesAt(rotated, during, clock.now()) && verifiesAt(key, during, clock.now()));
    assert.ok(!verifiesAt(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, during, clock.now()), 'a stranger\'s secret does not');
  });

  test('a receiver that answers 410 Gone gets nothing more from that bot: the message fails at once, those queued behind it and after it fail unsent, until the one it refused is redelivered and taken', async () => {
    // Standard Webhooks, "Delivery success and failure": 410 says the receiver wants no more
    // webhooks from this sender, who should disable the endpoint and stop sending to it (Svix,
    // whose retry page the spec's schedule follows, stops attempts to a disabled endpoint too).
    let isGone = true;
    hooks.respond = (r) => ({ status: r.url === '/gone' && isGone ? 410 : 200 });
    const botId = await book('/gone');
    // A second message (bot.rescheduled) queued behind the first before it goes out.
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual((await deliveriesOf(botId)).map((d) => d.event), ['bot.rescheduled', 'bot.scheduled']);
    await env.rc.webhooks.runDue();
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    assert.equal(to('/gone').length, 1, 'one request, no retries, and none for the messages behind it');
    const listed = (await env.rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: env.user.auth })).body.deliveries as { delivery_id: string; event: string; status: string; attempts: number; last_error: string | null }[];
    const refused = listed.at(-1)!;
    assert.deepEqual([refused.event, refused.status, refused.attempts, refused.last_error], ['bot.scheduled', 'failed', 1, 'HTTP 410 (the receiver says it is gone; not retried)']);
    const unsent = `not sent: the receiver answered 410 Gone to ${refused.delivery_id} (redeliver that one to open this URL again)`;
    assert.deepEqual(listed.slice(0, -1).map((d) => [d.status, d.attempts, d.last_error]), listed.slice(0, -1).map(() => ['failed', 0, unsent]));
    // A message queued after the 410 is not sent either.
    assert.equal((await env.rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const [cancelled] = await deliveriesOf(botId);
    assert.deepEqual([cancelled!.event, cancelled!.status, cancelled!.attempts, cancelled!.last_error], ['bot.cancelled', 'failed', 0, unsent]);
    assert.equal(to('/gone').length, 1);
    const [{ n }] = await env.rc.database.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('bot_id', '=', botId).where('state', '=', 'pending').execute() as [{ n: number }];
    assert.equal(Number(n), 0);
    // The receiver is back and its owner redelivers the refused one: once that is taken, the bot's
    // later messages go out again.
    isGone = false;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${refused.delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    assert.deepEqual(to('/gone').map((r) => r.json?.bot_event), ['bot.scheduled', 'bot.scheduled']);
    await env.rc.request('POST', `/api/v1/webhooks/deliveries/${(await env.rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: env.user.auth })).body.deliveries[0].delivery_id}/redeliver`, { auth: env.user.auth });
    await env.rc.webhooks.runDue();
    assert.deepEqual(to('/gone').map((r) => r.json?.bot_event), ['bot.scheduled', 'bot.scheduled', 'bot.cancelled'], 'an unsent one is sent on request');
  });

  const listedOf = async (botId: string) => (await env.rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: env.user.auth })).body.deliveries as { delivery_id: string; event: string; status: string; attempts: number; last_error: string | null }[];
  const redeliver = async (deliveryId: string) => assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${deliveryId}/redeliver`, { auth: env.user.auth })).status, 200);

  test('a gone URL stays gone while the message answered 410 is redelivered but not taken: a refusal of it (422) set aside does not open it', async () => {
    let answer: 410 | 422 | 200 = 410;
    hooks.respond = (r) => ({ status: r.url === '/gone-refused' ? answer : 200 });
    const botId = await book('/gone-refused');
    await env.rc.webhooks.runDue();
    const [refused] = await listedOf(botId);
    assert.equal(refused!.status, 'failed');
    // Redelivered; the receiver now refuses that message (422) every time, until it is set aside.
    answer = 422;
    await redeliver(refused!.delivery_id);
    for (let i = 0; i < 6; i++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR / 4);
    }
    const [setAside] = await listedOf(botId);
    assert.deepEqual([setAside!.status, setAside!.last_error], ['failed', 'HTTP 422']);
    // A message queued now fails unsent: nothing of the bot was taken at that URL.
    answer = 200;
    assert.equal((await env.rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const [cancelled] = await listedOf(botId);
    assert.deepEqual([cancelled!.event, cancelled!.status, cancelled!.last_error], ['bot.cancelled', 'failed', `not sent: the receiver answered 410 Gone to ${refused!.delivery_id} (redeliver that one to open this URL again)`]);
    assert.equal(to('/gone-refused').filter((r) => r.json?.bot_event === 'bot.cancelled').length, 0);
    // Once it is taken, the URL is open again.
    await redeliver(refused!.delivery_id);
    await env.rc.webhooks.runDue();
    await redeliver(cancelled!.delivery_id);
    await env.rc.webhooks.runDue();
    assert.equal((await listedOf(botId)).find((d) => d.delivery_id === cancelled!.delivery_id)!.status, 'delivered');
  });

  test('a redelivered unsent message answered 410 too is the one named after it; the first refused, redelivered and taken, opens the URL', async () => {
    let isGone = true;
    hooks.respond = (r) => ({ status: r.url === '/gone-twice' && isGone ? 410 : 200 });
    const botId = await book('/gone-twice');
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    await env.rc.webhooks.runDue();
    const [unsent, refused] = await listedOf(botId);
    assert.match(unsent!.last_error!, /^not sent/);
    // Its owner redelivers the unsent one while the receiver still says gone: it is sent, and refused.
    await redeliver(unsent!.delivery_id);
    await env.rc.webhooks.runDue();
    assert.equal(to('/gone-twice').length, 2);
    // The next message names the latest one answered 410.
    const movedAgain = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 4).toISOString() } });
    assert.equal(movedAgain.status, 200, JSON.stringify(movedAgain.body));
    await env.rc.webhooks.runDue();
    const [next] = await listedOf(botId);
    assert.deepEqual([next!.event, next!.status, next!.last_error], ['bot.rescheduled', 'failed', `not sent: the receiver answered 410 Gone to ${unsent!.delivery_id} (redeliver that one to open this URL again)`]);
    // The receiver is back; the owner redelivers the first message answered 410, and it is taken:
    // the bot's messages go out again.
    isGone = false;
    await redeliver(refused!.delivery_id);
    await env.rc.webhooks.runDue();
    assert.equal((await listedOf(botId)).find((d) => d.delivery_id === refused!.delivery_id)!.status, 'delivered');
    assert.equal((await env.rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const [cancelled] = await listedOf(botId);
    assert.deepEqual([cancelled!.event, cancelled!.status, cancelled!.last_error], ['bot.cancelled', 'delivered', null]);
  });

  test('a 410 to a redelivered older message fails the bot\'s other messages waiting for that URL, a retrying one too', async () => {
    let answer: 200 | 500 | 410 = 200;
    hooks.respond = (r) => ({ status: r.url === '/gone-behind' ? answer : 200 });
    const botId = await book('/gone-behind');
    await env.rc.webhooks.runDue();
    const [old] = await listedOf(botId);
    assert.equal(old!.status, 'delivered');
    // The next message meets an outage: it is retrying when the owner redelivers the first one.
    answer = 500;
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    await env.rc.webhooks.runDue();
    assert.equal((await listedOf(botId))[0]!.status, 'retrying');
    answer = 410;
    await redeliver(old!.delivery_id);
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    assert.deepEqual(to('/gone-behind').map((r) => r.json?.bot_event), ['bot.scheduled', 'bot.rescheduled', 'bot.scheduled']);
    const [rescheduled] = await listedOf(botId);
    assert.deepEqual([rescheduled!.event, rescheduled!.status, rescheduled!.attempts, rescheduled!.last_error], ['bot.rescheduled', 'failed', 1, `not sent: the receiver answered 410 Gone to ${old!.delivery_id} (redeliver that one to open this URL again)`]);
  });

  test('a receiver that asks for a pause (429 with Retry-After) gets it for every message waiting for it, another bot\'s too, none counted as tried', async () => {
    // Standard Webhooks, "Delivery success and failure": a 429 asks the sender to throttle, and a
    // Retry-After says when to come back; the receiver's limit is its own, whichever bot a message is of.
    let answer: 'error' | 'busy' | 'ok' = 'error';
    hooks.respond = (r) => {
      if (r.url !== '/busy') return { status: 200 };
      return answer === 'error' ? { status: 500 } : answer === 'busy' ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 };
    };
    // One bot's message is retrying (due again in seconds) when another's is told to wait.
    const waiting = await book('/busy');
    await env.rc.webhooks.runDue();
    answer = 'busy';
    const asked = await book('/busy');
    await env.rc.webhooks.runDue();
    assert.deepEqual(to('/busy').map((r) => r.json?.bot_id), [waiting, asked]);
    clock.advance(60_000);
    await env.rc.webhooks.runDue();
    assert.equal(to('/busy').length, 2, 'nothing sent to it before the pause ends');
    const [held] = await deliveriesOf(waiting);
    assert.deepEqual([held!.status, held!.attempts], ['retrying', 1]);
    answer = 'ok';
    clock.advance(541_000);
    await env.rc.webhooks.runDue();
    assert.deepEqual([(await deliveriesOf(waiting))[0]!.status, (await deliveriesOf(asked))[0]!.status], ['delivered', 'delivered']);
    assert.equal(to('/busy').length, 4);
  });

  test('after a receiver asks for a pause (429, Retry-After: 2), the messages queued for that URL meanwhile, other bots\' too, wait for its end, then go one at a time until one is taken', async () => {
    // Standard Webhooks, "Delivery success and failure": a 429 asks the sender to throttle and its
    // Retry-After says when to come back; GitLab's webhooks were changed to back the whole hook off
    // at once on a 429 and honour its Retry-After (gitlab-org/gitlab#389348).
    let isBusy = true;
    let inFlight = 0;
    const inFlightOnArrival: number[] = [];
    hooks.respond = (r) => {
      if (r.url !== '/throttled') return { status: 200 };
      if (isBusy) return { status: 429, headers: { 'retry-after': '2' } };
      inFlightOnArrival.push(++inFlight);
      // A receiver that takes a moment to answer (a test control: whether the next request waits for it).
      return { status: 200, release: new Promise((resolve) => setTimeout(resolve, 30)).then(() => inFlight--) };
    };
    const first = await book('/throttled');
    await env.rc.webhooks.runDue();
    const later = [await book('/throttled'), await book('/throttled'), await book('/throttled')];
    await env.rc.webhooks.runDue();
    assert.equal(to('/throttled').length, 1, 'the messages queued after the 429 wait for the pause');
    clock.advance(1000);
    await env.rc.webhooks.runDue();
    assert.equal(to('/throttled').length, 1, 'still nothing a second later');
    for (const botId of later) assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['pending', 0]]);
    isBusy = false;
    clock.advance(1500);
    await env.rc.webhooks.runDue();
    // The first message's own retry is its backoff away (5 s): the three queued go after the pause.
    assert.deepEqual(to('/throttled').slice(1).map((r) => r.json?.bot_id).sort(), [...later].sort());
    assert.deepEqual(inFlightOnArrival.slice(0, 2), [1, 1], 'the first after the pause goes alone, the next once it is taken');
    for (const botId of later) assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    clock.advance(5000);
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(first)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);
  });

  test('a receiver behind a proxy that answers 502 and 504, then not at all, is backed off as a whole, the wait doubling, one message trying at a time, until one is taken', async () => {
    // A gateway answering 502 or 504 (or nothing) for a receiver that is down: Standard Webhooks,
    // "Delivery success and failure", counts those and timeouts as failures to retry; GitLab backs
    // a hook answering 5xx off as a whole, the wait growing per failure up to a cap
    // (gitlab-org/gitlab#414893), and Svix spaces retries out the same way (docs.svix.com/retries).
    const answers: ({ status: number } | 'hang')[] = [{ status: 502 }, { status: 504 }, 'hang'];
    hooks.respond = (r) => {
      if (r.url !== '/down') return { status: 200 };
      const answer = answers.shift() ?? { status: 200 };
      // No answer within WEBHOOK_TIMEOUT_MS: a gateway that holds the request (a test control).
      return answer === 'hang' ? { status: 200, release: new Promise(() => {}) } : answer;
    };
    const first = await book('/down');
    await env.rc.webhooks.runDue();
    const later = [await book('/down'), await book('/down')];
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 1, 'the messages queued after the 502 wait for the URL\'s backoff (5 s)');
    clock.advance(6100);
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 2, 'one message tries the URL again (504); the others wait');
    clock.advance(7900);
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 2, 'the URL\'s wait doubled (10 s)');
    clock.advance(4200);
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 3, 'one message tries it again (no answer)');
    clock.advance(15_900);
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 3, 'the wait doubled again (20 s)');
    clock.advance(8200);
    await env.rc.webhooks.runDue();
    assert.equal(to('/down').length, 6, 'taken: the messages waiting go');
    // Each try after a pause is the message tried least recently: those never tried, the oldest
    // first, then the first one again, taken.
    assert.deepEqual(to('/down').slice(0, 4).map((r) => r.json?.bot_id), [first, later[0], later[1], first]);
    assert.deepEqual((await deliveriesOf(first)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);
    for (const botId of later) assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 2]]);
  });

  test('a URL whose every attempt, of several messages, has failed for five days is disabled: the messages waiting for it and those queued after fail unsent, until a redelivered one is taken', async () => {
    // Svix disables an endpoint whose attempts have all failed for five days, its clock started
    // by several failures within a day (docs.svix.com/retries, "Disabling failing endpoints");
    // here a receiver answering 500 to everything for WEBHOOK_DISABLE_AFTER_HOURS (120 by default).
    let isDown = true;
    hooks.respond = (r) => ({ status: r.url === '/dead' && isDown ? 500 : 200 });
    const since = clock.now();
    const first = await book('/dead');
    let second = '';
    for (let hour = 0; hour < 119; hour++) {
      if (hour === 60) {
        second = await book('/dead');
        // A second message of that bot, queued behind its first.
        const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${second}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
        assert.equal(moved.status, 200, JSON.stringify(moved.body));
      }
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    assert.deepEqual((await deliveriesOf(second)).map((d) => [d.event, d.status]), [['bot.rescheduled', 'pending'], ['bot.scheduled', 'retrying']], 'still tried after 118 hours');
    assert.deepEqual((await deliveriesOf(first)).map((d) => d.status), ['failed'], 'the first ran out its own three days');
    // (Retries are an hour apart, give or take a fifth: by 121 hours the second has been tried past 120.)
    clock.advance(2 * HOUR);
    await env.rc.webhooks.runDue();
    const disabled = new RegExp(`^not sent: every attempt to this URL has failed since ${new Date(since).toISOString().replace(/\./g, '\\.')}, so it is disabled \\(redeliver msg_\\w+ to open it again\\)$`);
    const [waiting, tried] = await deliveriesOf(second);
    assert.deepEqual([waiting!.status, waiting!.attempts], ['failed', 0]);
    assert.match(waiting!.last_error!, disabled);
    assert.deepEqual([tried!.status, tried!.last_error], ['failed', 'HTTP 500'], 'the message tried keeps its own error');
    assert.deepEqual((await deliveriesOf(first)).map((d) => d.status), ['failed']);
    // Queued after: not sent.
    const sent = to('/dead').length;
    const third = await book('/dead');
    await env.rc.webhooks.runDue();
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    assert.equal(to('/dead').length, sent, 'nothing sent to a disabled URL');
    const [unsent] = await listedOf(third);
    assert.deepEqual([unsent!.status, unsent!.attempts], ['failed', 0]);
    assert.match(unsent!.last_error!, disabled);
    // Its owner redelivers one and the receiver takes it: the URL is open again.
    isDown = false;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${unsent!.delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(third)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    const fourth = await book('/dead');
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(fourth)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
  });

  test('one message the receiver cannot take (500 to it, 200 to everything else) fails alone: its URL is not disabled for the user\'s other bots', async () => {
    let poisoned = '';
    hooks.respond = (r) => ({ status: r.url === '/poison' && r.json?.bot_id === poisoned ? 500 : 200 });
    poisoned = await book('/poison');
    // Nothing else goes to the URL while the one message is retried for its three days.
    for (let hour = 0; hour < 77; hour++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    assert.deepEqual((await deliveriesOf(poisoned)).map((d) => [d.status, d.last_error]), [['failed', 'HTTP 500']], 'the message ran out its own budget');
    const other = await book('/poison');
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(other)).map((d) => [d.status, d.last_error]), [['delivered', null]]);
  });

  test('a message queued behind one of its bot\'s that the receiver cannot take gets its attempt once that one gives up, though older than three days itself', async () => {
    // The receiver refuses the bot.scheduled payload (500) and takes everything else: a 500 says
    // nothing of the receiver as a whole, so the URL is not held.
    hooks.respond = (r) => ({ status: r.url === '/behind' && (r.json?.bot_event ?? r.json?.event) === 'bot.scheduled' ? 500 : 200 });
    const botId = await book('/behind');
    // The bot's next message, queued in the same instant: it waits in line behind the first.
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY - HOUR).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    for (let hour = 0; hour < 76; hour++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    await env.rc.webhooks.runDue();
    const listed = await deliveriesOf(botId);
    const statusOf = (event: string) => listed.filter((d) => d.event === event).map((d) => [d.status, d.attempts > 0]);
    assert.deepEqual(statusOf('bot.scheduled'), [['failed', true]]);
    assert.deepEqual(statusOf('bot.rescheduled'), [['delivered', true]], JSON.stringify(listed));
    assert.equal(to('/behind').filter((r) => (r.json?.bot_event ?? r.json?.event) === 'bot.rescheduled').length, 1, 'the receiver got it, once');
  });

  test('deleting the data of a bot whose message failed: the URL\'s record names a message left to redeliver, not the deleted one', async () => {
    let poisoned = '';
    hooks.respond = (r) => ({ status: r.url === '/private' && r.json?.bot_id === poisoned ? 500 : 200 });
    poisoned = await book('/private');
    for (let hour = 0; hour < 77; hour++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    const deleted = await env.rc.request('DELETE', `/api/v1/bots/${poisoned}/delete`, { auth: env.user.auth });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    const named = await env.rc.database.db.selectFrom('webhook_url_holds').select('message_id').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/private`).execute();
    assert.equal(named.length, 1);
    // The bot's messages left to that URL (its cancellation and data_deletion notices, still to
    // go): the latest of them is named.
    const [notice] = await env.rc.database.db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', poisoned).orderBy('id', 'desc').execute();
    assert.deepEqual(named.map((n) => n.message_id), [notice!.message_id]);
    hooks.respond = () => ({ status: 200 });
    const redeliver = await env.rc.request('POST', `/api/v1/webhooks/deliveries/${named[0]!.message_id}/redeliver`, { auth: env.user.auth });
    assert.equal(redeliver.status, 200, JSON.stringify(redeliver.body));
    await env.rc.webhooks.runDue();
    assert.deepEqual(await env.rc.database.db.selectFrom('webhook_url_holds').select('url').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/private`).execute(), [], 'the notice taken, the URL is not kept');
  });

  test('deleting the data of a bot whose line is gone: the line goes with its refused messages, rather than naming a notice still to go; the notices go out, and a 410 closes the line again', async () => {
    // Standard Webhooks, "Delivery success and failure": 410 says the receiver wants no more webhooks.
    hooks.respond = (r) => ({ status: r.url === '/gone-deleted' ? 410 : 200 });
    const botId = await book('/gone-deleted');
    await env.rc.webhooks.runDue();
    const db = env.rc.database.db;
    const lineOf = () => db.selectFrom('gone_webhook_urls').select('message_id').where('bot_id', '=', botId).where('url', '=', `${env.base}/gone-deleted`).executeTakeFirst();
    assert.ok(await lineOf(), 'the line is gone');
    const deleted = await env.rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: env.user.auth });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    // Only the notices the deletion queued are left (its cancellation and data_deletion), both waiting.
    const left = await db.selectFrom('webhook_deliveries').select(['message_id', 'state']).where('bot_id', '=', botId).orderBy('id').execute();
    assert.deepEqual(left.map((m) => m.state), ['pending', 'pending']);
    assert.equal(await lineOf(), undefined, 'no line names a message still to go');
    const sent = env.to('/gone-deleted').length;
    await env.rc.webhooks.runDue();
    await env.rc.webhooks.runDue();
    // The first notice is sent and refused; the line names it, and the other fails unsent naming it.
    assert.equal(env.to('/gone-deleted').length, sent + 1);
    const after = await db.selectFrom('webhook_deliveries').select(['message_id', 'state', 'last_error']).where('bot_id', '=', botId).orderBy('id').execute();
    assert.deepEqual(after.map((m) => [m.state, m.last_error]), [
      ['failed', 'HTTP 410 (the receiver says it is gone; not retried)'],
      ['failed', `not sent: the receiver answered 410 Gone to ${after[0]!.message_id} (redeliver that one to open this URL again)`],
    ]);
    assert.equal((await lineOf())?.message_id, after[0]!.message_id);
  });

  test('messages waiting behind a held URL still end within their own three days, unsent ones too', async () => {
    hooks.respond = (r) => ({ status: r.url === '/down' ? 503 : 200 });
    const bots: string[] = [];
    for (let i = 0; i < 6; i++) bots.push(await book('/down'));
    for (let hour = 0; hour < 73; hour++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    await env.rc.webhooks.runDue();
    const states = await Promise.all(bots.map(async (b) => (await deliveriesOf(b)).map((d) => d.status)));
    assert.deepEqual(states, bots.map(() => ['failed']), 'none still waiting 73 hours after they were queued');
    const lastErrors = await Promise.all(bots.map(async (b) => (await deliveriesOf(b))[0]!));
    for (const d of lastErrors.filter((d) => d.attempts === 0)) assert.equal(d.last_error, 'not sent: still waiting 72 hours after it was queued, its URL\'s receiver failing');
    for (const d of lastErrors.filter((d) => d.attempts > 0)) assert.equal(d.last_error, 'HTTP 503', 'one that was tried keeps its last error');
  });

  test('a message waiting for a held URL is listed with next_attempt_at at the end of the pause, not as due now', async () => {
    // A 429 asking for half an hour (Retry-After in seconds: RFC 9110, section 10.2.3).
    hooks.respond = (r) => (r.url === '/ra' ? { status: 429, headers: { 'retry-after': '1800' } } : { status: 200 });
    await book('/ra');
    await env.rc.webhooks.runDue();
    const answeredAt = clock.now();
    const waiting = await book('/ra');
    await env.rc.webhooks.runDue();
    assert.equal(hooks.received.filter((r) => r.json?.bot_id === waiting).length, 0, 'it waits for the pause');
    const [listed] = (await env.rc.request('GET', `/api/v1/bots/${waiting}/deliveries`, { auth: env.user.auth })).body.deliveries as { status: string; next_attempt_at: string }[];
    assert.deepEqual([listed!.status, listed!.next_attempt_at], ['pending', new Date(answeredAt + 1800_000).toISOString()]);
  });

  test('a receiver that resets a new connection after reading the body: retried under the same webhook-id, after the backoff, until it answers', async () => {
    hooks.respond = (r) => (r.url === '/reset' && to('/reset').length <= 2 ? { status: 200, misbehave: 'reset' } : { status: 200 });
    const botId = await book('/reset');
    // No kept-alive connection left from earlier tests: each attempt starts on a new one (a reset
    // one is closed), so none of them is the race of the last test.
    await hooks.closeIdleConnections();
    for (let i = 0; i < 3; i++) {
      await env.rc.webhooks.runDue();
      clock.advance(HOUR);
    }
    const sent = to('/reset');
    assert.equal(sent.length, 3);
    assert.equal(new Set(sent.map((r) => r.headers['webhook-id'])).size, 1);
    assert.equal(new Set(sent.map((r) => r.headers['webhook-timestamp'])).size, 3, 'each attempt signed at its own time');
    assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 3]]);
  });

  test('a receiver that answers 200 and a body that never ends: delivered on the status, and the body is not read whole', async () => {
    hooks.respond = (r) => (r.url === '/endless' ? { status: 200, misbehave: 'endless' } : { status: 200 });
    const botId = await book('/endless');
    const before = hooks.endlessBytesWritten;
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    // Whatever is drained after the status is bounded: the connection is let go of, and the
    // receiver can write no more (a few socket buffers' worth, not the timeout's worth).
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 500));
    const written = hooks.endlessBytesWritten - before;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(hooks.endlessBytesWritten - before, written, 'nothing more is taken');
    assert.ok(written < 16 * 1024 * 1024, `${written} bytes taken`);
  });

  test('a receiver that takes the body and never answers: the attempt times out and is retried under the same webhook-id, signed again', async () => {
    const never = new Promise(() => undefined);
    hooks.respond = (r) => (r.url === '/silent' && to('/silent').length === 1 ? { status: 200, release: never } : { status: 200 });
    const botId = await book('/silent');
    const started = Date.now();
    await env.rc.webhooks.runDue();
    assert.ok(Date.now() - started < TIMEOUT_MS + 2000, 'the wait is bounded by WEBHOOK_TIMEOUT_MS');
    const [attempt] = await deliveriesOf(botId);
    assert.deepEqual([attempt!.status, attempt!.attempts], ['retrying', 1]);
    assert.match(attempt!.last_error ?? '', /no answer within/);
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    const [first, second] = to('/silent');
    assert.equal(second!.headers['webhook-id'], first!.headers['webhook-id']);
    assert.notEqual(second!.headers['webhook-timestamp'], first!.headers['webhook-timestamp']);
    assert.equal((await deliveriesOf(botId))[0]!.status, 'delivered');
  });

  test('a kept-alive connection the receiver closes under the next request: that message is sent again at once on a new connection, same webhook-id, one attempt, none lost or doubled', async () => {
    // The receiver resets the first request that comes on a kept-alive connection, as a server
    // whose idle timeout ran out just as it arrived (see the fake's `reset`); a server closing an
    // idle connection otherwise says so first, and the client drops it from its pool.
    let raced = false;
    hooks.respond = (r) => {
      if (r.url !== '/reuse' || r.onConnection === 1 || raced) return { status: 200 };
      raced = true;
      return { status: 200, misbehave: 'reset' };
    };
    const first = await book('/reuse');
    await env.rc.webhooks.runDue();
    const second = await book('/reuse');
    await env.rc.webhooks.runDue();
    // (Which one met the reset depends on the connections earlier tests left in the pool.)
    assert.ok(raced, 'a delivery went out on a kept-alive connection');
    const delivered = await env.rc.database.db.selectFrom('webhook_deliveries').select(['bot_id', 'state', 'attempts', 'message_id']).where('bot_id', 'in', [first, second]).execute();
    assert.deepEqual(delivered.map((d) => [d.state, d.attempts]), [['delivered', 1], ['delivered', 1]], 'no backoff waited, no attempt lost to the race');
    const sent = to('/reuse');
    assert.equal(sent.length, 3);
    const reset = sent.findIndex((r) => r.onConnection > 1);
    const resent = sent[reset + 1];
    assert.ok(resent, 'sent again right after the reset');
    assert.equal(resent.onConnection, 1, 'on a new connection');
    assert.equal(resent.headers['webhook-id'], sent[reset]!.headers['webhook-id'], 'under its own webhook-id');
    assert.deepEqual([...new Set(sent.map((r) => r.headers['webhook-id']))].sort(), delivered.map((d) => d.message_id).sort());
  });

  for (const status of [302, 307, 308]) {
    test(`a receiver answering ${status} is not followed, even to its own host (allowed here): the address given is the only one posted to`, async () => {
      // Standard Webhooks, "Delivery success and failure": a 3xx is a failure, and the sender
      // should not follow it (the owner is to give the new URL instead).
      const path = `/moved-${status}`;
      hooks.respond = (r) => (r.url === path ? { status, headers: { location: `${env.base}${path}/new` } } : { status: 200 });
      const botId = await book(path);
      await env.rc.webhooks.runDue();
      const [attempt] = await deliveriesOf(botId);
      assert.deepEqual([attempt!.status, attempt!.attempts, attempt!.last_error], ['retrying', 1, `HTTP ${status} (webhooks do not follow redirects; it points to ${env.base}${path}/new)`]);
      assert.deepEqual(hooks.received.filter((r) => r.url.startsWith(path)).map((r) => `${r.method} ${r.url}`), [`POST ${path}`]);
    });
  }
});

test('migration 046 records as gone each bot\'s URL with a failed delivery answered 410, naming the latest such message', async () => {
  await withSchemaBefore(46, 'usr_gone', async (database) => {
    const db = database.db;
    const row = (id: number, botId: string, url: string, state: string, lastError: string | null) => ({
      id, message_id: `msg_${id}`, user_id: 'usr_gone', bot_id: botId, url, payload: '{}', state, attempts: 1, next_attempt_at_ms: 0,
      lease_until_ms: null, last_error: lastError, created_at: 0, delivered_at: null,
    });
    await db.insertInto('webhook_deliveries').values([
      row(1, 'bot_a', 'https://a.example/hook', 'failed', 'HTTP 410 (the receiver says it is gone; not retried)'),
      row(2, 'bot_a', 'https://a.example/hook', 'failed', 'not sent: the receiver answered 410 Gone to msg_1 (redeliver that one to open this URL again)'),
      row(3, 'bot_a', 'https://a.example/hook', 'failed', 'HTTP 410 (the receiver says it is gone; not retried)'),
      row(4, 'bot_a', 'https://b.example/hook', 'failed', 'HTTP 422'),
      row(5, 'bot_b', 'https://a.example/hook', 'pending', 'HTTP 410 (the receiver says it is gone; not retried)'),
    ] as never).execute();
    await migrate(db, database.engine, MIGRATIONS);
    assert.deepEqual((await db.selectFrom('gone_webhook_urls').selectAll().execute()).map((r) => ({ ...r })), [{ bot_id: 'bot_a', url: 'https://a.example/hook', user_id: 'usr_gone', message_id: 'msg_3' }]);
    assert.deepEqual((await db.selectFrom('webhook_deliveries').select('redelivered').execute()).map((r) => r.redelivered), [0, 0, 0, 0, 0]);
  });
});

test('migration 054 gives each gone line the owner of its message; a line naming a deleted message names its bot\'s latest failed one to the URL, or goes', async () => {
  await withSchemaBefore(54, 'usr_owner', async (database) => {
    const db = database.db;
    await db.insertInto('users').values({ id: 'usr_other', name: 'usr_other', webhook_secret: 'whsec_y', webhook_secret_rotated_at: null, created_at: 0 }).execute();
    const row = (id: number, userId: string, botId: string, url: string) => ({
      id, message_id: `msg_${id}`, user_id: userId, bot_id: botId, url, payload: '{}', state: 'failed', attempts: 1, next_attempt_at_ms: 0,
      lease_until_ms: null, last_error: 'HTTP 410 (the receiver says it is gone; not retried)', created_at: 0, delivered_at: null,
    });
    await db.insertInto('webhook_deliveries').values([
      row(1, 'usr_owner', 'bot_a', 'https://a.example/hook'),
      row(2, 'usr_other', 'bot_b', 'https://a.example/hook'),
      row(3, 'usr_owner', 'bot_c', 'https://c.example/hook'),
      row(4, 'usr_owner', 'bot_c', 'https://c.example/hook'),
      // Waiting messages: bot_c's latest, bot_e's only one.
      { ...row(5, 'usr_owner', 'bot_c', 'https://c.example/hook'), state: 'pending', attempts: 0, last_error: null },
      { ...row(6, 'usr_owner', 'bot_e', 'https://e.example/hook'), state: 'pending', attempts: 0, last_error: null },
    ] as never).execute();
    await db.insertInto('gone_webhook_urls' as never).values([
      { bot_id: 'bot_a', url: 'https://a.example/hook', message_id: 'msg_1' },
      { bot_id: 'bot_b', url: 'https://a.example/hook', message_id: 'msg_2' },
      // Deleted messages: bot_c has two failed messages to its URL left and a later one waiting,
      // bot_d none, bot_e one waiting only (named, it would fail unsent for a 410 to itself).
      { bot_id: 'bot_c', url: 'https://c.example/hook', message_id: 'msg_gone_c' },
      { bot_id: 'bot_d', url: 'https://d.example/hook', message_id: 'msg_gone_d' },
      { bot_id: 'bot_e', url: 'https://e.example/hook', message_id: 'msg_gone_e' },
    ] as never).execute();
    await migrate(db, database.engine, MIGRATIONS);
    const lines = await db.selectFrom('gone_webhook_urls').select(['bot_id', 'url', 'user_id', 'message_id']).orderBy('bot_id').execute();
    assert.deepEqual(lines.map((r) => ({ ...r })), [
      { bot_id: 'bot_a', url: 'https://a.example/hook', user_id: 'usr_owner', message_id: 'msg_1' },
      { bot_id: 'bot_b', url: 'https://a.example/hook', user_id: 'usr_other', message_id: 'msg_2' },
      { bot_id: 'bot_c', url: 'https://c.example/hook', user_id: 'usr_owner', message_id: 'msg_4' },
    ]);
    // The key still holds: one line per bot and URL.
    await assert.rejects(db.insertInto('gone_webhook_urls').values({ bot_id: 'bot_a', url: 'https://a.example/hook', user_id: 'usr_owner', message_id: 'msg_1' }).execute());
  });
});

test('migration 055 keeps every URL record as it was, and lets one name no message, nor the message that started its run', async () => {
  await withSchemaBefore(55, 'usr_holds', async (database) => {
    const db = database.db;
    const hold = { user_id: 'usr_holds', url: 'https://a.example/hook', paused_until_ms: 5, failures: 2, last_failure_at_ms: 3, failing_since_ms: 1, message_id: 'msg_1', run_message_id: 'msg_0', several_messages: 1, disabled_at_ms: 4 };
    await db.insertInto('webhook_url_holds').values(hold).execute();
    await assert.rejects(db.insertInto('webhook_url_holds').values({ ...hold, url: 'https://b.example/hook', message_id: null }).execute(), 'NOT NULL before it');
    await assert.rejects(db.insertInto('webhook_url_holds').values({ ...hold, url: 'https://b.example/hook', run_message_id: null }).execute(), 'NOT NULL before it');
    await migrate(db, database.engine, MIGRATIONS);
    const rows = await db.selectFrom('webhook_url_holds').selectAll().execute();
    assert.deepEqual(rows.map((r) => ({ ...r, paused_until_ms: Number(r.paused_until_ms), last_failure_at_ms: Number(r.last_failure_at_ms), failing_since_ms: Number(r.failing_since_ms), disabled_at_ms: Number(r.disabled_at_ms) })), [hold]);
    await db.insertInto('webhook_url_holds').values({ ...hold, url: 'https://b.example/hook', message_id: null, run_message_id: null }).execute();
    // The key still holds: one record per user and URL.
    await assert.rejects(db.insertInto('webhook_url_holds').values(hold).execute());
  });
});

describe('status webhooks: a held URL takes one message at a time', () => {
  // A timeout long enough for the receiver below to hold a request open while the test looks.
  const env = receiverSuite('paced', { WEBHOOK_TIMEOUT_MS: '10000' });
  const { hooks, clock, book } = env;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('a message already under way when the URL was held counts as the one trying it: no other goes until it is answered', async () => {
    let first = '';
    let slow = '';
    let open = 0;
    const openOnArrival: number[] = [];
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => { letGo = resolve; });
    const to = (botId: string) => hooks.received.filter((r) => r.url === '/pace' && r.json?.bot_id === botId).length;
    hooks.respond = (r) => {
      if (r.url !== '/pace') return { status: 200 };
      if (r.json?.bot_id === first && to(first) === 1) return { status: 502 };
      openOnArrival.push(++open);
      // The slow one answers (200) when the test lets it: a test control.
      if (r.json?.bot_id === slow) return { status: 200, release: gate.then(() => { open--; }) };
      open--;
      return { status: 200 };
    };
    first = await book('/pace');
    slow = await book('/pace');
    const running = env.rc.webhooks.runDue();
    for (let i = 0; i < 200 && (await env.rc.database.db.selectFrom('webhook_url_holds').select('failures').where('user_id', '=', env.user.userId).executeTakeFirst()) === undefined; i++) await sleep(10);
    assert.equal(to(slow), 1, 'the slow one is under way');
    const third = await book('/pace');
    // The pause (5 s) over: one message may try the URL, but the slow one still is.
    clock.advance(6000);
    const next = env.rc.webhooks.runDue();
    for (let i = 0; i < 50 && to(third) === 0 && to(first) < 2; i++) await sleep(10);
    await sleep(200);
    const whileSlowOpen = [...openOnArrival];
    letGo();
    await Promise.all([running, next]);
    assert.deepEqual(whileSlowOpen, [1], 'requests open at each arrival while the slow one is unanswered');
  });

  test('after the pause, the message tried least recently goes, not the oldest: one the receiver keeps failing does not starve the others', async () => {
    // A receiver whose handler fails on one message, behind a gateway that answers 502 for it
    // (Standard Webhooks, "Delivery success and failure": a 502 is a failure to retry), and takes
    // the others.
    let failing = '';
    hooks.respond = (r) => (r.url === '/starve' && r.json?.bot_id === failing ? { status: 502 } : { status: 200 });
    const sent = () => env.hooks.received.filter((r) => r.url === '/starve').map((r) => r.json?.bot_id);
    failing = await book('/starve');
    await env.rc.webhooks.runDue();
    // Queued while the URL is held: older ones' retries come first only if they were tried longer ago.
    const waiting = [await book('/starve'), await book('/starve')];
    const held = () => env.rc.database.db.selectFrom('webhook_url_holds').select('paused_until_ms').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/starve`).executeTakeFirst();
    const pause = await held();
    assert.ok(pause !== undefined, 'the URL is held');
    // Both due: the URL's pause and the failing message's own retry are jittered apart (backoff.ts).
    const own = await env.rc.database.db.selectFrom('webhook_deliveries').select('next_attempt_at_ms').where('bot_id', '=', failing).executeTakeFirstOrThrow();
    clock.set(Math.max(Number(pause.paused_until_ms), Number(own.next_attempt_at_ms)));
    await env.rc.webhooks.runDue();
    assert.deepEqual(sent().slice(0, 2), [failing, waiting[0]], 'the first after the pause is the one never tried');
    for (const botId of waiting) assert.deepEqual((await env.deliveriesOf(botId)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
  });

  test('after the pause, a message never tried goes though a hundred wait behind the failing one in its bot\'s line: those cannot be sent and are not counted', async () => {
    // As above: a gateway answering 502 for one bot's messages (Standard Webhooks, "Delivery
    // success and failure"), 200 for the others.
    let failing = '';
    hooks.respond = (r) => (r.url === '/window' && r.json?.bot_id === failing ? { status: 502 } : { status: 200 });
    failing = await book('/window');
    await env.rc.webhooks.runDue();
    const db = env.rc.database.db;
    const head = await db.selectFrom('webhook_deliveries').selectAll().where('bot_id', '=', failing).executeTakeFirstOrThrow();
    // A hundred later messages of the failing bot to the URL (its later status changes), queued
    // behind its head: not to be sent before it.
    const { id: _id, ...rest } = head;
    for (let i = 0; i < 100; i++) {
      await db.insertInto('webhook_deliveries').values({ ...rest, message_id: `msg_window_${i}`, attempts: 0, last_error: null, lease_until_ms: null, last_attempt_at_ms: null, next_attempt_at_ms: clock.now() }).execute();
    }
    const other = await book('/window');
    const pause = await db.selectFrom('webhook_url_holds').select('paused_until_ms').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/window`).executeTakeFirstOrThrow();
    const own = await db.selectFrom('webhook_deliveries').select('next_attempt_at_ms').where('id', '=', head.id).executeTakeFirstOrThrow();
    clock.set(Math.max(Number(pause.paused_until_ms), Number(own.next_attempt_at_ms)));
    await env.rc.webhooks.runDue();
    const sent = hooks.received.filter((r) => r.url === '/window').map((r) => (r.json?.bot_id === failing ? 'failing' : r.json?.bot_id === other ? 'other' : r.json?.bot_id));
    assert.deepEqual(sent.slice(0, 2), ['failing', 'other'], 'the first after the pause is the one never tried');
  });

  test('a message redelivered to a held URL is the one sent when the pause it ends is over, before one never tried', async () => {
    let a = '';
    const count = (bot: string) => hooks.received.filter((r) => r.url === '/redeliver' && r.json?.bot_id === bot).length;
    // a: refused once (400: set aside, Standard Webhooks "Delivery success and failure"), taken
    // when sent again; the others: 503 (the receiver down for them, the URL held).
    hooks.respond = (r) => (r.url !== '/redeliver' ? { status: 200 } : r.json?.bot_id === a ? (count(a) === 1 ? { status: 400 } : { status: 200 }) : { status: 503 });
    a = await book('/redeliver');
    await env.rc.webhooks.runDue();
    const b = await book('/redeliver');
    await env.rc.webhooks.runDue();
    const c = await book('/redeliver');
    const db = env.rc.database.db;
    assert.ok((await db.selectFrom('webhook_url_holds').select('failures').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/redeliver`).executeTakeFirst())?.failures, 'the URL is held');
    const aRow = await db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', a).executeTakeFirstOrThrow();
    const res = await env.rc.request('POST', `/api/v1/webhooks/deliveries/${aRow.message_id}/redeliver`, { auth: env.user.auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const before = hooks.received.filter((r) => r.url === '/redeliver').length;
    await env.rc.webhooks.runDue();
    const after = hooks.received.filter((r) => r.url === '/redeliver').slice(before).map((r) => (r.json?.bot_id === a ? 'a' : r.json?.bot_id === b ? 'b' : r.json?.bot_id === c ? 'c' : r.json?.bot_id));
    assert.equal(after[0], 'a', `sent after the redelivery: ${after.join(',')}`);
    assert.equal(count(a), 2);
  });
});

describe('status webhooks: a retry to a URL that is not held keeps its place', () => {
  const env = receiverSuite('fifo', { WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
  test('a retry due now goes in the first round, before the messages queued after it', async () => {
    let retried = '';
    // A 500 (a server error: Standard Webhooks, "Delivery success and failure", a failure to retry)
    // holds nothing back: the message is retried on its own schedule.
    env.hooks.respond = (r) => (r.url === '/fifo' && r.json?.bot_id === retried && env.hooks.received.filter((x) => x.json?.bot_id === retried).length === 1 ? { status: 500 } : { status: 200 });
    retried = await env.book('/fifo');
    await env.rc.webhooks.runDue();
    assert.equal(env.to('/fifo').length, 1);
    // 20 bots of the same user booked after it (a user's share of a round is 10).
    for (let i = 0; i < 20; i++) await env.book('/fifo');
    env.clock.advance(10 * 60_000);
    await env.rc.webhooks.runDue();
    const order = env.to('/fifo').slice(1).map((r) => r.json?.bot_id);
    const place = order.indexOf(retried);
    assert.ok(place >= 0, 'retried');
    assert.ok(place < 10, `the retry went after ${place} messages queued after it (a round takes 10 of the user's)`);
  });
});

describe('status webhooks: GET /webhooks/urls says how each callback URL stands', () => {
  // A URL is disabled after an hour of failures here (WEBHOOK_DISABLE_AFTER_HOURS), rather than five days.
  const env = receiverSuite('urls', { WEBHOOK_DISABLE_AFTER_HOURS: '1', WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
  const { hooks, clock, book } = env;
  interface UrlView { url: string; state: string; paced: boolean; failing_since: string | null; last_failure_at: string | null; paused_until: string | null; disabled_at: string | null; reopen_delivery_id: string | null; waiting: number; failed_unsent: number; gone_bots: number; gone_lines: { bot_id: string; meeting_title: string; delivery_id: string }[]; last_queued_at: string | null }
  const urlsOf = async (auth: string): Promise<{ urls: UrlView[]; has_more: boolean }> => {
    const res = await env.rc.request('GET', '/api/v1/webhooks/urls', { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const urlOf = async (path: string): Promise<UrlView | undefined> => (await urlsOf(env.user.auth)).urls.find((u) => u.url === `${env.base}${path}`);
  const deliveriesOf = async (botId: string) => (await env.rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: env.user.auth })).body.deliveries as { delivery_id: string; event: string; status: string; attempts: number; last_error: string | null }[];
  const iso = (ms: number) => new Date(ms).toISOString();

  test('a URL paused by its receiver, one disabled after failing for an hour, a bot\'s line gone after a 410, each opened again by a message taken; another user sees none of them', async () => {
    let isPausedDown = true;
    let isDeadDown = true;
    let isGone = true;
    hooks.respond = (r) => {
      // A 503 with Retry-After: the receiver says it is down and when to come back (Standard
      // Webhooks, "Delivery success and failure"; RFC 9110, section 10.2.3).
      if (r.url === '/urls-paused' && isPausedDown) return { status: 503, headers: { 'retry-after': '600' } };
      // A 503 without one: down, the URL's own backoff applies.
      if (r.url === '/urls-dead' && isDeadDown) return { status: 503 };
      // 410: the receiver wants no more webhooks (Standard Webhooks, "Delivery success and failure").
      if (r.url === '/urls-gone' && isGone) return { status: 410 };
      return { status: 200 };
    };
    assert.deepEqual(await urlsOf(env.user.auth), { urls: [], has_more: false }, 'nothing sent yet, nothing to say');

    // A URL that takes its messages: listed as ok, with nothing failing.
    const fineAt = clock.now();
    await book('/urls-fine');
    await env.rc.webhooks.runDue();
    assert.deepEqual(await urlOf('/urls-fine'), {
      url: `${env.base}/urls-fine`, state: 'ok', paced: false, failing_since: null, last_failure_at: null, paused_until: null, disabled_at: null, reopen_delivery_id: null,
      waiting: 0, failed_unsent: 0, gone_bots: 0, gone_lines: [], last_queued_at: iso(fineAt),
    });

    // Paused by a 503 with Retry-After: 600, a second message waiting behind the pause.
    const pausedAt = clock.now();
    const pausedBot = await book('/urls-paused');
    await env.rc.webhooks.runDue();
    await book('/urls-paused');
    const [pausedMessage] = await deliveriesOf(pausedBot);
    const paused = await urlOf('/urls-paused');
    assert.deepEqual(paused, {
      url: `${env.base}/urls-paused`, state: 'paused', paced: false, failing_since: iso(pausedAt), last_failure_at: iso(pausedAt), paused_until: iso(pausedAt + 600_000), disabled_at: null,
      reopen_delivery_id: pausedMessage!.delivery_id, waiting: 2, failed_unsent: 0, gone_bots: 0, gone_lines: [], last_queued_at: iso(pausedAt),
    });

    // A bot's line gone: its message answered 410, its next one failed unsent.
    const goneBot = await book('/urls-gone');
    await env.rc.webhooks.runDue();
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${goneBot}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    await env.rc.webhooks.runDue();
    const [unsentGone, refused] = await deliveriesOf(goneBot);
    assert.match(unsentGone!.last_error!, /^not sent: the receiver answered 410 Gone/);
    const gone = await urlOf('/urls-gone');
    assert.deepEqual([gone?.state, gone?.failing_since, gone?.reopen_delivery_id, gone?.waiting, gone?.failed_unsent, gone?.gone_bots, gone?.gone_lines], ['ok', null, null, 0, 1, 1, [{ bot_id: goneBot, meeting_title: 'urls', delivery_id: refused!.delivery_id }]]);

    // The receiver of the paused URL is back: once its pause is over, a message is taken and the URL is as any other.
    isPausedDown = false;
    clock.advance(601_000);
    await env.rc.webhooks.runDue();
    const reopenedPause = await urlOf('/urls-paused');
    assert.deepEqual([reopenedPause?.state, reopenedPause?.failing_since, reopenedPause?.paused_until, reopenedPause?.reopen_delivery_id, reopenedPause?.waiting], ['ok', null, null, null, 0]);

    // Two bots' messages to a URL whose receiver is down: the URL is paused, then failing, then,
    // an hour on, disabled; the message waiting then fails unsent.
    const deadAt = clock.now();
    const deadBots = [await book('/urls-dead'), await book('/urls-dead')];
    let dead: UrlView | undefined;
    for (let minutes = 0; minutes <= 180; minutes += 5) {
      await env.rc.webhooks.runDue();
      dead = await urlOf('/urls-dead');
      if (dead?.state === 'disabled') break;
      if (minutes === 0) {
        // Paused for the URL's backoff: seconds (5 s and up, with jitter), not the messages' own retry times.
        assert.equal(dead?.state, 'paused');
        const pauseMs = Date.parse(dead!.paused_until!) - deadAt;
        assert.ok(pauseMs > 0 && pauseMs < 60_000, `paused for ${pauseMs} ms`);
      }
      clock.advance(5 * 60_000);
    }
    assert.equal(dead?.state, 'disabled', JSON.stringify(dead));
    const disabledAt = clock.now();
    const deadMessages = (await Promise.all(deadBots.map(deliveriesOf))).flat();
    const unsentDead = deadMessages.find((d) => d.last_error?.startsWith('not sent:'));
    assert.ok(unsentDead, JSON.stringify(deadMessages));
    // The same message and time the unsent message's error names.
    assert.equal(unsentDead.last_error, `not sent: every attempt to this URL has failed since ${iso(deadAt)}, so it is disabled (redeliver ${dead.reopen_delivery_id} to open it again)`);
    assert.deepEqual({ ...dead, last_failure_at: undefined }, {
      url: `${env.base}/urls-dead`, state: 'disabled', paced: true, failing_since: iso(deadAt), last_failure_at: undefined, paused_until: null, disabled_at: iso(disabledAt),
      reopen_delivery_id: dead.reopen_delivery_id, waiting: 0, failed_unsent: 1, gone_bots: 0, gone_lines: [], last_queued_at: iso(deadAt),
    });
    assert.ok(deadMessages.some((d) => d.delivery_id === dead!.reopen_delivery_id), 'the message named is one of the URL\'s');
    // The worst first: disabled, then the URL with a gone line, then the rest (their latest
    // messages queued at the same time: by address).
    assert.deepEqual((await urlsOf(env.user.auth)).urls.map((u) => u.url.slice(env.base.length)), ['/urls-dead', '/urls-gone', '/urls-fine', '/urls-paused']);

    // Another user: none of this user's URLs, only their own.
    const other = await env.rc.newUser();
    assert.deepEqual(await urlsOf(other.auth), { urls: [], has_more: false });
    const event = await env.rc.request('POST', '/api/v1/calendar/events', { auth: other.auth, body: { title: 'other', start_time: iso(clock.now() + DAY), end_time: iso(clock.now() + DAY + HOUR), meeting_url: 'https://zoom.us/j/123456789' } });
    const scheduled = await env.rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: other.auth, body: { deduplication_key: 'urls-other', bot_config: { callback_url: `${env.base}/urls-dead` } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const theirs = await urlsOf(other.auth);
    assert.deepEqual(theirs.urls.map((u) => [u.url, u.state, u.waiting, u.failed_unsent]), [[`${env.base}/urls-dead`, 'ok', 1, 0]], 'the same address, disabled for the first user only, and none of the first user\'s counts');

    // Redelivered and taken, the named message opens the URL again; the messages that failed
    // unsent meanwhile stay failed (they are not sent again by themselves) and are still counted.
    isDeadDown = false;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${dead.reopen_delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const reopened = await urlOf('/urls-dead');
    assert.deepEqual([reopened?.state, reopened?.failing_since, reopened?.last_failure_at, reopened?.disabled_at, reopened?.reopen_delivery_id, reopened?.waiting, reopened?.failed_unsent], ['ok', null, null, null, null, 0, 1]);

    // The gone line opens again once its named message, redelivered, is taken.
    isGone = false;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${refused!.delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const goneAgain = await urlOf('/urls-gone');
    assert.deepEqual([goneAgain?.state, goneAgain?.gone_bots, goneAgain?.gone_lines, goneAgain?.failed_unsent], ['ok', 0, [], 1]);
  });

  test('a disabled URL whose named message, redelivered after a quiet day, fails again keeps the start of the run that disabled it', async () => {
    hooks.respond = (r) => (r.url === '/urls-quiet' ? { status: 503 } : { status: 200 });
    await book('/urls-quiet');
    await book('/urls-quiet');
    let disabled: UrlView | undefined;
    for (let minutes = 0; (disabled = await urlOf('/urls-quiet'))?.state !== 'disabled'; minutes += 5) {
      assert.ok(minutes <= 180, JSON.stringify(disabled));
      await env.rc.webhooks.runDue();
      clock.advance(5 * 60_000);
    }
    // A day and more with nothing tried (a disabled URL's messages fail unsent, no failure recorded),
    // then the named message is redelivered and the receiver is still down.
    clock.advance(DAY + HOUR);
    const retriedAt = clock.now();
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${disabled!.reopen_delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const after = await urlOf('/urls-quiet');
    assert.deepEqual([after?.state, after?.failing_since, after?.disabled_at, after?.last_failure_at], ['disabled', disabled!.failing_since, disabled!.disabled_at, iso(retriedAt)]);
    // Its failures start again after the quiet day: the redelivered message's pause is the
    // backoff's first step (5 s, with jitter), not the hour the run had reached.
    const pauseMs = Date.parse(after!.paused_until!) - retriedAt;
    assert.ok(pauseMs > 0 && pauseMs <= 6_000, `paused for ${pauseMs} ms`);
    // A message queued now fails unsent at once, naming the same run.
    const later = await book('/urls-quiet');
    await env.rc.webhooks.runDue();
    const [unsent] = await deliveriesOf(later);
    assert.equal(unsent!.last_error, `not sent: every attempt to this URL has failed since ${disabled!.failing_since}, so it is disabled (redeliver ${after!.reopen_delivery_id} to open it again)`);
  });

  test('a disabled URL paused by a redelivered message that failed: the messages queued meanwhile fail unsent at once; the redelivered one waits for the pause', async () => {
    hooks.respond = (r) => (r.url === '/urls-soon' ? { status: 503 } : { status: 200 });
    await book('/urls-soon');
    await book('/urls-soon');
    let disabled: UrlView | undefined;
    for (let minutes = 0; (disabled = await urlOf('/urls-soon'))?.state !== 'disabled'; minutes += 5) {
      assert.ok(minutes <= 180, JSON.stringify(disabled));
      await env.rc.webhooks.runDue();
      clock.advance(5 * 60_000);
    }
    // Redelivered at once and failing again: the run's failures go on, a pause of up to an hour.
    const retriedAt = clock.now();
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${disabled!.reopen_delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    const after = await urlOf('/urls-soon');
    assert.equal(after?.state, 'disabled');
    assert.ok(after?.paused_until !== null && Date.parse(after!.paused_until) - retriedAt > 30 * 60_000, JSON.stringify(after));
    const tries = hooks.received.filter((r) => r.url === '/urls-soon').length;
    clock.advance(60_000);
    const later = await book('/urls-soon');
    await env.rc.webhooks.runDue();
    const [unsent] = await deliveriesOf(later);
    assert.deepEqual([unsent!.status, unsent!.attempts, unsent!.last_error], ['failed', 0, `not sent: every attempt to this URL has failed since ${disabled!.failing_since}, so it is disabled (redeliver ${after!.reopen_delivery_id} to open it again)`]);
    assert.equal(hooks.received.filter((r) => r.url === '/urls-soon').length, tries, 'the redelivered message is not sent again before the pause ends');
    // Once the pause is over, the redelivered message is tried again.
    clock.advance(Date.parse(after!.paused_until!) - clock.now() + 1000);
    await env.rc.webhooks.runDue();
    assert.equal(hooks.received.filter((r) => r.url === '/urls-soon').length, tries + 1);
  });

  test('deleting the data of the one bot whose messages went to a disabled URL keeps it disabled, naming no message: one queued after fails unsent naming itself, until it is redelivered and taken', async () => {
    // A receiver that, until it is fixed, refuses the bot's first message (422: set aside after five
    // attempts, so that the next one is tried) and fails the others (500): two messages failing.
    let isDown = true;
    hooks.respond = (r) => (r.url !== '/urls-kept' || !isDown ? { status: 200 } : { status: (r.json?.bot_event ?? r.json?.event) === 'bot.scheduled' ? 422 : 500 });
    const start = clock.now() + DAY;
    const event = await env.rc.request('POST', '/api/v1/calendar/events', { auth: env.user.auth, body: { title: 'urls kept', start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const schedule = async (path: string) => {
      const res = await env.rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: env.user.auth, body: { deduplication_key: 'urls-kept', bot_config: { callback_url: `${env.base}${path}` } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.bot_id as string;
    };
    // Two messages of one bot failing for an hour: the URL is disabled.
    const botId = await schedule('/urls-kept');
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(start + 30 * 60_000).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    let disabled: UrlView | undefined;
    for (let minutes = 0; (disabled = await urlOf('/urls-kept'))?.state !== 'disabled'; minutes += 5) {
      assert.ok(minutes <= 180, JSON.stringify(disabled));
      await env.rc.webhooks.runDue();
      clock.advance(5 * 60_000);
    }
    // The bot is given another URL (the newest bot_config wins), then its data is deleted: its
    // notices go to the new URL, and none of the user's messages to the disabled one is left.
    assert.equal(await schedule('/urls-moved'), botId);
    await env.rc.webhooks.runDue();
    const deleted = await env.rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: env.user.auth });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    await env.rc.webhooks.runDue();
    const left = await env.rc.database.db.selectFrom('webhook_deliveries').select('id').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/urls-kept`).execute();
    assert.deepEqual(left, [], 'no message to the URL is left');
    const kept = await urlOf('/urls-kept');
    assert.deepEqual([kept?.state, kept?.disabled_at, kept?.failing_since, kept?.reopen_delivery_id], ['disabled', disabled!.disabled_at, disabled!.failing_since, null], 'still disabled, naming no message');
    // A message queued after is not sent: it fails unsent, naming itself to redeliver.
    const sent = env.to('/urls-kept').length;
    const later = await book('/urls-kept');
    await env.rc.webhooks.runDue();
    assert.equal(env.to('/urls-kept').length, sent, 'nothing sent to the disabled URL');
    const [unsent] = await deliveriesOf(later);
    assert.deepEqual([unsent!.status, unsent!.attempts, unsent!.last_error], ['failed', 0, `not sent: every attempt to this URL has failed since ${disabled!.failing_since}, so it is disabled (redeliver ${unsent!.delivery_id} to open it again)`]);
    // The deletion left no trace of the deleted messages in the URL's record: the message that
    // started its run of failures is named no more either.
    const record = () => env.rc.database.db.selectFrom('webhook_url_holds').select(['message_id', 'run_message_id']).where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/urls-kept`).executeTakeFirstOrThrow();
    assert.deepEqual({ ...(await record()) }, { message_id: null, run_message_id: null });
    // Deleting the data of another bot, none of whose messages went to the URL, leaves its record
    // naming none: the message given up unsent still names itself, and the next one will too.
    const other = await book('/urls-moved');
    await env.rc.webhooks.runDue();
    assert.equal((await env.rc.request('DELETE', `/api/v1/bots/${other}/delete`, { auth: env.user.auth })).status, 200);
    assert.deepEqual({ ...(await record()) }, { message_id: null, run_message_id: null }, 'an unrelated deletion names no message');
    assert.equal((await urlOf('/urls-kept'))?.reopen_delivery_id, null);
    // Its owner redelivers it and the receiver, back, takes it: the URL opens again.
    isDown = false;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${unsent!.delivery_id}/redeliver`, { auth: env.user.auth })).status, 200);
    await env.rc.webhooks.runDue();
    assert.deepEqual((await deliveriesOf(later)).map((d) => [d.status, d.attempts]), [['delivered', 1]]);
    assert.deepEqual([(await urlOf('/urls-kept'))?.state, (await urlOf('/urls-kept'))?.reopen_delivery_id], ['ok', null]);
  });

  test('each URL lists its own gone lines, up to ten, however many another URL has', async () => {
    // Gone lines as a 410 writes them (webhook-delivery.ts #recordGone), each naming one of the user's
    // messages: 1001 to one URL, sorted first, and one to another.
    const first = `${env.base}/a-many-gone`;
    const second = `${env.base}/b-one-gone`;
    const rows = Array.from({ length: 1002 }, (_, i) => ({
      message_id: `msg_many_${i}`, user_id: env.user.userId, bot_id: `bot_many_${String(i).padStart(4, '0')}`, url: i < 1001 ? first : second, payload: '{}', state: 'failed',
      attempts: 1, next_attempt_at_ms: clock.now(), lease_until_ms: null, last_error: 'HTTP 410 (the receiver says it is gone; not retried)', created_at: clock.now(), delivered_at: null,
    }));
    for (let s = 0; s < rows.length; s += 200) await env.rc.database.db.insertInto('webhook_deliveries').values(rows.slice(s, s + 200)).execute();
    for (let s = 0; s < rows.length; s += 200) await env.rc.database.db.insertInto('gone_webhook_urls').values(rows.slice(s, s + 200).map((r) => ({ bot_id: r.bot_id, url: r.url, user_id: r.user_id, message_id: r.message_id }))).execute();
    const urls = (await urlsOf(env.user.auth)).urls;
    const many = urls.find((u) => u.url === first)!;
    const one = urls.find((u) => u.url === second)!;
    assert.deepEqual([many.gone_bots, many.gone_lines.length, many.gone_lines[0]], [1001, 10, { bot_id: 'bot_many_0000', meeting_title: '', delivery_id: 'msg_many_0' }]);
    assert.deepEqual([one.gone_bots, one.gone_lines], [1, [{ bot_id: 'bot_many_1001', meeting_title: '', delivery_id: 'msg_many_1001' }]]);
  });
});

describe('status webhooks: a disabled URL while a redelivered message tries it', () => {
  // A URL disabled after an hour of failures; a timeout long enough for an answer held open below.
  const env = receiverSuite('disabled', { WEBHOOK_DISABLE_AFTER_HOURS: '1', WEBHOOK_TIMEOUT_MS: '10000' });
  const { hooks, clock, book } = env;

  test('a message queued while a redelivered one is under way fails unsent at once, not after that attempt: a disabled URL sends only what its owner redelivered', async () => {
    // A receiver that is down (503: Standard Webhooks, "Delivery success and failure", a failure
    // to retry; a struggling answer, which holds the URL back), then back, its answer to the
    // redelivered message waiting for the test (a test control).
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => { letGo = resolve; });
    let isDown = true;
    hooks.respond = (r) => (r.url !== '/redelivered-try' ? { status: 200 } : isDown ? { status: 503 } : { status: 200, release: gate });
    const db = env.rc.database.db;
    const holdOf = () => db.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/redelivered-try`).executeTakeFirst();
    await book('/redelivered-try');
    await book('/redelivered-try');
    for (let minutes = 0; (await holdOf())?.disabled_at_ms == null; minutes += 5) {
      assert.ok(minutes <= 180, 'disabled within three hours');
      await env.rc.webhooks.runDue();
      clock.advance(5 * 60_000);
    }
    const hold = (await holdOf())!;
    assert.ok(hold.failures > 0, 'held back as struggling too: its messages go one at a time');
    isDown = false;
    const sent = env.to('/redelivered-try').length;
    assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${hold.message_id}/redeliver`, { auth: env.user.auth })).status, 200);
    const attempt = env.rc.webhooks.runDue();
    for (let i = 0; i < 500 && env.to('/redelivered-try').length === sent; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(env.to('/redelivered-try').length, sent + 1, 'the redelivered message is under way');
    // Queued while it is: not to be sent to a disabled URL, it fails unsent when its turn comes.
    const later = await book('/redelivered-try');
    const stateOf = () => db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'last_error']).where('bot_id', '=', later).executeTakeFirstOrThrow();
    const round = env.rc.webhooks.runDue();
    for (let i = 0; i < 300 && (await stateOf()).state === 'pending'; i++) await new Promise((r) => setTimeout(r, 10));
    const unsent = await stateOf();
    letGo();
    await Promise.all([attempt, round]);
    assert.deepEqual([unsent.state, unsent.attempts], ['failed', 0], 'given up while the redelivered message was under way');
    assert.match(unsent.last_error!, new RegExp(`^not sent: every attempt to this URL has failed since .*, so it is disabled \\(redeliver ${hold.message_id} to open it again\\)$`));
    // The redelivered message is taken: the URL opens again; the unsent one stays as it was.
    assert.equal(await holdOf(), undefined, 'open again');
    assert.equal(env.to('/redelivered-try').length, sent + 1, 'nothing but the redelivered message was sent');
    assert.equal((await stateOf()).state, 'failed');
  });
});

describe('status webhooks: the outbox\'s rows are locked in one order (PostgreSQL)', () => {
  // A URL disabled after an hour of failures; a timeout long enough for a request held open below.
  const env = receiverSuite('locks', { WEBHOOK_DISABLE_AFTER_HOURS: '1', WEBHOOK_TIMEOUT_MS: '10000' });
  const { hooks, clock, book } = env;
  const onlyPostgres = { skip: TEST_ENGINE !== 'postgres' ? 'SQLite runs one write transaction at a time: the two cannot interleave' : false };
  /** Holds a transaction open on the test's own connection, runs `steps` while it is, then commits it. */
  async function whileHeld(lock: (trx: Transaction<Schema>) => Promise<unknown>, steps: (untilWaiting: (n: number) => Promise<void>) => Promise<void>): Promise<void> {
    const db = env.rc.database.db;
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      await lock(trx);
      // Transactions waiting on this one, directly or behind another (other test files run beside
      // this one on the same server, waiting on locks of their own).
      await steps(async (n) => {
        assert.equal(await untilSessionsWaitOn(db, holder, n), n, `${n} transactions wait`);
      });
    });
  }

  /**
   * Deletes the bot's data while the due webhooks are sent: the bot's gone line to `heldUrl` is
   * held, so the deletion waits at it, having read the records before it; the due attempts then
   * run, and record their answers or wait for the deletion. Answers the deletion's response.
   */
  async function deleteWhileDueWebhooksRun(botId: string, heldUrl: string): Promise<{ status: number; body: any }> {
    const db = env.rc.database.db;
    let attempt!: Promise<number>;
    let deletion!: Promise<{ status: number; body: any }>;
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      await trx.selectFrom('gone_webhook_urls').select('url').where('bot_id', '=', botId).where('url', '=', heldUrl).forShare().execute();
      deletion = env.rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: env.user.auth });
      assert.equal(await untilSessionsWaitOn(db, holder, 1), 1, 'the deletion waits for the held gone line');
      let isDone = false;
      attempt = env.rc.webhooks.runDue();
      void attempt.finally(() => { isDone = true; });
      await untilSessionsWaitOn(db, holder, 2, () => isDone);
    });
    const [deleted] = await Promise.all([deletion, attempt]);
    return deleted;
  }

  test('deleting a bot\'s data while its failed message, the one its held URL names, is redelivered: one waits for the other, neither is rolled back', onlyPostgres, async () => {
    // A receiver that is down (503), then asks for ten minutes (Retry-After: RFC 9110, section 10.2.3).
    let answered = 0;
    hooks.respond = (r) => (r.url !== '/strained' ? { status: 200 } : ++answered <= 2 ? { status: 503 } : { status: 503, headers: { 'retry-after': '600' } });
    const db = env.rc.database.db;
    const botId = await book('/strained');
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(clock.now() + DAY + HOUR / 2).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const hold = () => db.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/strained`).executeTakeFirstOrThrow();
    const messages = () => db.selectFrom('webhook_deliveries').select(['id', 'message_id', 'state', 'next_attempt_at_ms']).where('bot_id', '=', botId).orderBy('id').execute();
    await env.rc.webhooks.runDue();
    // Tried again just before its three days are out, then once after (given up, the URL paused
    // ten minutes more), and its bot's next message given up a minute later, unsent.
    clock.advance(72 * HOUR - 2000);
    await env.rc.webhooks.runDue();
    clock.set(Math.max(Number((await hold()).paused_until_ms), (await messages())[0]!.next_attempt_at_ms));
    await env.rc.webhooks.runDue();
    clock.advance(61_000);
    await env.rc.webhooks.runDue();
    const [failed, behind] = await messages();
    assert.deepEqual([failed!.state, behind!.state, answered], ['failed', 'failed', 3]);
    assert.equal((await hold()).message_id, failed!.message_id);
    assert.ok(Number((await hold()).paused_until_ms) > clock.now(), 'the URL is paused');

    // The deletion takes the failed message and waits for the one behind it (held here); the
    // redelivery of the failed message then comes.
    let deletion!: Promise<{ status: number; body: any }>;
    let redelivery!: Promise<{ status: number; body: any }>;
    await whileHeld((trx) => trx.selectFrom('webhook_deliveries').select('id').where('id', '=', behind!.id).forKeyShare().execute(), async (untilWaiting) => {
      deletion = env.rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: env.user.auth });
      await untilWaiting(1);
      redelivery = env.rc.request('POST', `/api/v1/webhooks/deliveries/${failed!.message_id}/redeliver`, { auth: env.user.auth });
      await untilWaiting(2);
    });
    const [deleted, redelivered] = await Promise.all([deletion, redelivery]);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    // The deletion went first: the message was gone when the redelivery came to it.
    assert.deepEqual([redelivered.status, redelivered.body.code], [404, 'delivery_not_found'], JSON.stringify(redelivered.body));
    const [notice] = await db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', botId).orderBy('id', 'desc').execute();
    assert.equal((await hold()).message_id, notice!.message_id, 'the URL names a message left');
  });

  test('deleting a bot\'s data while a 410 to its message is recorded: the gone line names a message left, not the deleted one', onlyPostgres, async () => {
    // Standard Webhooks, "Delivery success and failure": a 410 asks the sender to stop sending.
    hooks.respond = (r) => (r.url === '/gone-before' || r.url === '/gone-race' ? { status: 410 } : { status: 200 });
    const db = env.rc.database.db;
    const start = clock.now() + DAY;
    const event = await env.rc.request('POST', '/api/v1/calendar/events', { auth: env.user.auth, body: { title: 'gone race', start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const schedule = async (path: string) => {
      const res = await env.rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: env.user.auth, body: { deduplication_key: 'gone-race', bot_config: { callback_url: `${env.base}${path}` } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.bot_id as string;
    };
    // The bot's first callback URL answered 410: a gone line of the bot's that the deletion reads
    // (and locks) among its records. Then the bot is given another URL (the newest bot_config wins).
    const botId = await schedule('/gone-before');
    await env.rc.webhooks.runDue();
    const before = await db.selectFrom('gone_webhook_urls').select(['url']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(before.url, `${env.base}/gone-before`);
    assert.equal(await schedule('/gone-race'), botId);
    for (const minutes of [30, 40]) {
      const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(start + minutes * 60_000).toISOString() } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
    }
    const toNewUrl = await db.selectFrom('webhook_deliveries').select(['id', 'message_id']).where('bot_id', '=', botId).where('url', '=', `${env.base}/gone-race`).orderBy('id').execute();
    assert.ok(toNewUrl.length >= 2, 'a message to answer 410, and one behind it');
    // The deletion waits at the first gone line, having read the bot's other records; the 410 to
    // the new URL then comes, and is recorded or waits.
    const deleted = await deleteWhileDueWebhooksRun(botId, before.url);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(env.to('/gone-race').length, 1, 'one request, answered 410');
    const left = new Set((await db.selectFrom('webhook_deliveries').select('message_id').where('bot_id', '=', botId).execute()).map((m) => m.message_id));
    const gone = await db.selectFrom('gone_webhook_urls').select(['url', 'message_id']).where('bot_id', '=', botId).execute();
    assert.ok(gone.some((line) => line.url === `${env.base}/gone-race`), 'the new URL is gone');
    for (const line of gone) assert.ok(left.has(line.message_id), `the gone line of ${line.url} names ${line.message_id}, a message that is no longer there`);
  });

  test('deleting a bot\'s data while a failure writes its URL\'s first hold and gives its message up: the hold names a message left, not the deleted one', onlyPostgres, async () => {
    // A 500 (a server error: Standard Webhooks, "Delivery success and failure", a failure to
    // retry) to a message past its three days, tried for the first time, at a URL with no hold
    // yet: the URL's hold is inserted and the message given up in one transaction.
    hooks.respond = (r) => (r.url === '/hold-gone' ? { status: 410 } : r.url === '/hold-race' ? { status: 500 } : { status: 200 });
    const db = env.rc.database.db;
    const start = clock.now() + DAY;
    const event = await env.rc.request('POST', '/api/v1/calendar/events', { auth: env.user.auth, body: { title: 'hold race', start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const schedule = async (path: string) => {
      const res = await env.rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: env.user.auth, body: { deduplication_key: 'hold-race', bot_config: { callback_url: `${env.base}${path}` } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.bot_id as string;
    };
    // The bot's first callback URL answered 410: a gone line of the bot's that the deletion reads
    // (and locks) after the user's holds. Then the bot is given another URL.
    const botId = await schedule('/hold-gone');
    await env.rc.webhooks.runDue();
    const before = await db.selectFrom('gone_webhook_urls').select(['url']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(await schedule('/hold-race'), botId);
    const moved = await env.rc.request('PATCH', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth, body: { scheduled_join_time: new Date(start + 30 * 60_000).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const toNewUrl = await db.selectFrom('webhook_deliveries').select(['id', 'message_id']).where('bot_id', '=', botId).where('url', '=', `${env.base}/hold-race`).execute();
    assert.equal(toNewUrl.length, 1, 'one message to the new URL');
    // Queued more than three days ago and never tried (as one kept behind its bot's older messages).
    await db.updateTable('webhook_deliveries').set({ created_at: clock.now() - 3 * DAY - 60_000 }).where('id', '=', toNewUrl[0]!.id).execute();
    const holdOf = () => db.selectFrom('webhook_url_holds').select(['url', 'message_id']).where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/hold-race`).executeTakeFirst();
    assert.equal(await holdOf(), undefined, 'no hold yet');
    // The deletion waits at the first gone line, having read the user's holds (none for the new
    // URL); the failure then comes, and is recorded or waits.
    const deleted = await deleteWhileDueWebhooksRun(botId, before.url);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.ok(env.to('/hold-race').length >= 1, 'tried, and answered 500');
    const left = new Set((await db.selectFrom('webhook_deliveries').select('message_id').where('user_id', '=', env.user.userId).execute()).map((m) => m.message_id));
    const hold = await holdOf();
    assert.ok(hold, 'the new URL has its hold');
    assert.ok(hold.message_id !== null && left.has(hold.message_id), `the hold of ${hold.url} names ${hold.message_id}, a message that is no longer there`);
  });

  test('a redelivery PostgreSQL rolls back as a deadlock\'s victim runs again: answered 200, not 500', onlyPostgres, async () => {
    // A receiver down that asks for ten minutes (503, Retry-After: RFC 9110, section 10.2.3): its
    // URL is paused, so a redelivery to it writes the URL's record (to end the pause), then its message.
    hooks.respond = (r) => (r.url === '/victim' ? { status: 503, headers: { 'retry-after': '600' } } : { status: 200 });
    const db = env.rc.database.db;
    const botId = await book('/victim');
    await env.rc.webhooks.runDue();
    const hold = await db.selectFrom('webhook_url_holds').select('paused_until_ms').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/victim`).executeTakeFirstOrThrow();
    assert.ok(Number(hold.paused_until_ms) > clock.now(), 'the URL is paused');
    const message = await db.selectFrom('webhook_deliveries').select(['id', 'message_id']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    let redelivery!: Promise<{ status: number; body: any }>;
    // A transaction that takes the two rows in the other order: the message, then the URL's record.
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      // It looks for a deadlock only after ten seconds (the server's deadlock_timeout is a second),
      // so the redelivery, waiting since before, is the one to find it and be rolled back.
      await sql`set local deadlock_timeout = '10s'`.execute(trx);
      await trx.selectFrom('webhook_deliveries').select('id').where('id', '=', message.id).forUpdate().execute();
      redelivery = env.rc.request('POST', `/api/v1/webhooks/deliveries/${message.message_id}/redeliver`, { auth: env.user.auth });
      assert.equal(await untilSessionsWaitOn(db, holder, 1), 1, 'the redelivery, the URL\'s record written, waits for the message');
      // Waits for the redelivery's record: a deadlock. Done at all, it shows that the redelivery's
      // transaction was rolled back (it could not end otherwise while this one holds the message).
      await trx.updateTable('webhook_url_holds').set((eb) => ({ failures: eb.ref('failures') })).where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/victim`).execute();
    });
    const res = await redelivery;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.delivery_id, res.body.status], [message.message_id, 'retrying']);
    const after = await db.selectFrom('webhook_url_holds').select('paused_until_ms').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/victim`).executeTakeFirstOrThrow();
    assert.ok(Number(after.paused_until_ms) <= clock.now(), 'the pause ended by the redelivery run again');
    assert.equal((await db.selectFrom('webhook_deliveries').select('redelivered').where('id', '=', message.id).executeTakeFirstOrThrow()).redelivered, 1);
  });

  test('an attempt\'s record PostgreSQL rolls back as a deadlock\'s victim runs again: the message is recorded delivered once, not sent again when its claim runs out', onlyPostgres, async () => {
    // A receiver that fails the first attempt (500: Standard Webhooks, "Delivery success and
    // failure", a failure to retry), which writes the URL's record, then takes the retry; its
    // answer to the retry waits for the test (a test control).
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => { letGo = resolve; });
    let answered = 0;
    hooks.respond = (r) => (r.url !== '/record-victim' ? { status: 200 } : ++answered === 1 ? { status: 500 } : { status: 200, release: gate });
    const db = env.rc.database.db;
    const botId = await book('/record-victim');
    await env.rc.webhooks.runDue();
    const holdOf = () => db.selectFrom('webhook_url_holds').select('message_id').where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/record-victim`).executeTakeFirst();
    assert.notEqual(await holdOf(), undefined, 'the failure wrote the URL\'s record');
    const message = await db.selectFrom('webhook_deliveries').select(['id', 'attempts']).where('bot_id', '=', botId).executeTakeFirstOrThrow();
    assert.equal(message.attempts, 1);
    clock.advance(60_000);
    // The retry is claimed and sent; its answer waits.
    const attempt = env.rc.webhooks.runDue();
    for (let i = 0; i < 500 && env.to('/record-victim').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(env.to('/record-victim').length, 2, 'the retry is under way');
    // A transaction that takes the two rows in the other order: the message, then the URL's record.
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      // It looks for a deadlock only after ten seconds (the server's deadlock_timeout is a second),
      // so the record of the answer, waiting since before, is the one to find it and be rolled back.
      await sql`set local deadlock_timeout = '10s'`.execute(trx);
      await trx.selectFrom('webhook_deliveries').select('id').where('id', '=', message.id).forUpdate().execute();
      letGo();
      assert.equal(await untilSessionsWaitOn(db, holder, 1), 1, 'the record, the URL\'s record deleted, waits for the message');
      // Waits for the record's deletion of the URL's record: a deadlock. Done at all, it shows that
      // the record's transaction was rolled back (it could not end otherwise while this one holds the message).
      await trx.updateTable('webhook_url_holds').set((eb) => ({ failures: eb.ref('failures') })).where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/record-victim`).execute();
    });
    await attempt;
    const recorded = await db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'lease_until_ms']).where('id', '=', message.id).executeTakeFirstOrThrow();
    assert.deepEqual([recorded.state, recorded.attempts, recorded.lease_until_ms], ['delivered', 2, null], 'the answer is recorded, once');
    assert.equal(await holdOf(), undefined, 'the URL\'s record goes with the message taken');
    // Past the claim the attempt had (WEBHOOK_TIMEOUT_MS and 30 s): nothing goes again.
    clock.advance(10_000 + 30_000 + 1000);
    await env.rc.webhooks.runDue();
    assert.equal(env.to('/record-victim').length, 2, 'sent once more than the failed attempt, not again');
  });

  test('a failure\'s record PostgreSQL rolls back as a deadlock\'s victim runs again: the attempt and the URL\'s pause are recorded once, the message not left claimed', onlyPostgres, async () => {
    // A receiver that fails the first attempt (500, a failure to retry), which writes the URL's
    // record, then says it is down (503: Standard Webhooks, "Delivery success and failure"), which
    // pauses the URL; that answer waits for the test (a test control).
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => { letGo = resolve; });
    let answered = 0;
    hooks.respond = (r) => (r.url !== '/failure-victim' ? { status: 200 } : ++answered === 1 ? { status: 500 } : { status: 503, release: gate });
    const db = env.rc.database.db;
    const botId = await book('/failure-victim');
    await env.rc.webhooks.runDue();
    const holdOf = () => db.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/failure-victim`).executeTakeFirstOrThrow();
    assert.equal((await holdOf()).failures, 0, 'a 500 holds nothing back');
    const message = await db.selectFrom('webhook_deliveries').select('id').where('bot_id', '=', botId).executeTakeFirstOrThrow();
    clock.advance(60_000);
    const attempt = env.rc.webhooks.runDue();
    for (let i = 0; i < 500 && env.to('/failure-victim').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(env.to('/failure-victim').length, 2, 'the retry is under way');
    // A transaction that takes the two rows in the other order: the message, then the URL's record.
    await db.transaction().execute(async (trx) => {
      const holder = await backendPid(trx);
      await sql`set local deadlock_timeout = '10s'`.execute(trx);
      await trx.selectFrom('webhook_deliveries').select('id').where('id', '=', message.id).forUpdate().execute();
      letGo();
      assert.equal(await untilSessionsWaitOn(db, holder, 1), 1, 'the record, the URL\'s record locked, waits for the message');
      await trx.updateTable('webhook_url_holds').set((eb) => ({ failures: eb.ref('failures') })).where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/failure-victim`).execute();
    });
    await attempt;
    const recorded = await db.selectFrom('webhook_deliveries').select(['state', 'attempts', 'lease_until_ms', 'last_error']).where('id', '=', message.id).executeTakeFirstOrThrow();
    assert.deepEqual([recorded.state, recorded.attempts, recorded.lease_until_ms, recorded.last_error], ['pending', 2, null, 'HTTP 503'], 'the answer is recorded, once');
    const hold = await holdOf();
    assert.equal(hold.failures, 1, 'one struggling answer counted');
    assert.ok(Number(hold.paused_until_ms) > clock.now(), 'the URL is paused');
  });

  test('the sweep of expired messages while a failure disables their URL: one waits for the other, neither is rolled back', onlyPostgres, async () => {
    const db = env.rc.database.db;
    // With this test's handful of rows and webhook_deliveries_url_waiting there, PostgreSQL's plan
    // for the sweep happens to lock its messages in id order, the fix or not. In a large outbox it
    // reads them by their retry time (webhook_deliveries_due), whatever the other indexes: the order
    // that can deadlock. Without that index, it reads them so here too (checked below); the index
    // is put back after, as migration 052 builds it.
    await sql`drop index webhook_deliveries_url_waiting`.execute(db);
    try {
      await sweepWhileDisabling();
    } finally {
      await sql`create index webhook_deliveries_url_waiting on webhook_deliveries (user_id, url, id) where state = 'pending'`.execute(db);
    }
  });

  async function sweepWhileDisabling(): Promise<void> {
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => { letGo = resolve; });
    const db = env.rc.database.db;
    // A receiver that is down (503); its answer to the first bot's message waits for the test (a
    // test control), the URL held meanwhile by the other's failure.
    let first = '';
    hooks.respond = (r) => (r.url !== '/failing' ? { status: 200 } : r.json?.bot_id === first ? { status: 503, release: gate } : { status: 503 });
    first = await book('/failing');
    const tried = await book('/failing');
    const attempt = env.rc.webhooks.runDue();
    const url = () => db.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', env.user.userId).where('url', '=', `${env.base}/failing`).executeTakeFirst();
    for (let i = 0; i < 500 && (await url()) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.notEqual(await url(), undefined, 'the URL is held');
    // Queued once the URL is held: never tried, due before the tried one's retry.
    const untried = await book('/failing');
    const byBot = async (botId: string) => (await db.selectFrom('webhook_deliveries').selectAll().where('bot_id', '=', botId).executeTakeFirstOrThrow());
    const [triedRow, untriedRow] = [await byBot(tried), await byBot(untried)];
    assert.ok(triedRow.attempts === 1 && untriedRow.attempts === 0 && untriedRow.next_attempt_at_ms < triedRow.next_attempt_at_ms && untriedRow.id > triedRow.id);
    // The two queued three days before the run of failures began (a stand-in for days of waiting,
    // behind their bots' older messages or an earlier run's pauses): past their lifetime when the
    // sweep looks, an hour on, as the first bot's answer comes and disables the URL.
    await db.updateTable('webhook_deliveries').set({ created_at: clock.now() - 72 * HOUR }).where('id', 'in', [triedRow.id, untriedRow.id]).execute();
    clock.advance(HOUR + 60_000);
    // The premise: the sweep's selection, in the order it would read it without its own ORDER BY,
    // walks webhook_deliveries_due (if the plan changes, this test no longer shows anything).
    const plan = await sql<{ 'QUERY PLAN': string }>`explain select e.id from webhook_deliveries e
      where e.state = 'pending' and e.redelivered = 0 and e.created_at < ${clock.now() - 72 * HOUR}
      and (e.lease_until_ms is null or e.lease_until_ms < ${clock.now()}) for update`.execute(db);
    assert.match(plan.rows.map((row) => row['QUERY PLAN']).join('\n'), /Index Scan using webhook_deliveries_due/, 'the sweep reads by retry time');
    let sweep!: Promise<number>;
    // The sweep reads the expiring messages by their retry time (webhook_deliveries_due: the
    // untried one first), the failure that disables the URL by id (webhook_deliveries_user): the
    // sweep waits here at the one it locks first; the failure then comes.
    await whileHeld((trx) => trx.selectFrom('webhook_deliveries').select('id').where('id', '=', untriedRow.id).forShare().execute(), async (untilWaiting) => {
      sweep = env.rc.webhooks.runDue();
      await untilWaiting(1);
      letGo();
      await untilWaiting(2);
    });
    const [swept] = await Promise.allSettled([sweep, attempt]);
    assert.equal(swept.status, 'fulfilled', String((swept as PromiseRejectedResult).reason));
    // The failure was recorded the first time: not rolled back (a deadlock's victim) and sent again.
    assert.equal(hooks.received.filter((r) => r.url === '/failing' && r.json?.bot_id === first).length, 1, 'the first bot\'s message was sent once');
    assert.notEqual((await url())?.disabled_at_ms ?? null, null, 'the URL is disabled');
    const failed = await byBot(first);
    assert.deepEqual([failed.state, failed.attempts, failed.lease_until_ms], ['failed', 1, null], 'the failure is recorded');
    assert.deepEqual([(await byBot(tried)).state, (await byBot(untried)).state], ['failed', 'failed']);
  }
});

describe('status webhooks: an attempt whose claim ran out while its receiver held it open', () => {
  // A timeout long enough for the receiver to hold a request open while the test looks; a claim
  // lasts WEBHOOK_TIMEOUT_MS and 30 s on the (manual) clock, so advancing it past that lets another
  // sender claim the message while the first one's request is still open, as a process stalled
  // past its lease (a pause, a suspended machine) would.
  const TIMEOUT = 10_000;
  const env = receiverSuite('claims', { WEBHOOK_TIMEOUT_MS: String(TIMEOUT) });
  const { hooks, clock, book, to } = env;
  const CLAIM_MS = TIMEOUT + 30_000;
  /** A second instance's sender on the same database and clock. */
  let other: WebhookDelivery;
  let otherHttp: OutboundHttp;
  before(() => {
    otherHttp = new OutboundHttp({ guard: new OutboundGuard(['127.0.0.1']) });
    other = new WebhookDelivery({ database: env.rc.database, clock, logger: env.rc.logger, metrics: env.rc.metrics, http: otherHttp, timeoutMs: TIMEOUT });
  });
  after(() => otherHttp.close());

  const rowOf = (botId: string) => env.rc.database.db.selectFrom('webhook_deliveries').select(['message_id', 'state', 'attempts', 'lease_until_ms', 'next_attempt_at_ms', 'redelivered'])
    .where('bot_id', '=', botId).executeTakeFirstOrThrow();
  const holdOf = (path: string) => env.rc.database.db.selectFrom('webhook_url_holds').selectAll().where('user_id', '=', env.user.userId).where('url', '=', `${env.base}${path}`).executeTakeFirst();
  const claimsLost = async () => (await env.rc.metrics.webhookDeliveries.get()).values.find((v) => v.labels.outcome === 'claim_lost')?.value ?? 0;
  /** The bot's messages, the oldest first. */
  const rowsOf = (botId: string) => env.rc.database.db.selectFrom('webhook_deliveries').select(['message_id', 'state', 'attempts', 'lease_until_ms', 'next_attempt_at_ms', 'redelivered', 'last_error'])
    .where('bot_id', '=', botId).orderBy('id').execute();
  const goneOf = (botId: string) => env.rc.database.db.selectFrom('gone_webhook_urls').selectAll().where('bot_id', '=', botId).executeTakeFirst();
  /**
   * A bot whose receiver at `path` answered 410 (Standard Webhooks, "Delivery success and failure":
   * the receiver wants no more webhooks from this sender), then a message queued after it
   * (bot.cancelled), not to be sent while the line is gone. `answerOk` makes the receiver take
   * messages again.
   */
  async function goneLineWithMessageQueued(path: string) {
    let isGone = true;
    hooks.respond = (r) => ({ status: r.url === path && isGone ? 410 : 200 });
    const botId = await book(path);
    await env.rc.webhooks.runDue();
    assert.equal((await env.rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth })).status, 200);
    return { botId, answerOk: () => { isGone = false; } };
  }
  const redeliver = async (messageId: string) => assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${messageId}/redeliver`, { auth: env.user.auth })).status, 200);

  /**
   * A third sender on the same database and clock that stalls (a test control) once, between its
   * claim and its record: its read of the gone lines answers, then waits until `resume`. (After the
   * read, not in a plugin's transformResult, which runs while the connection is held: SQLite has
   * only one.) Its outbound client allows `allowedHosts`.
   */
  function stallingSender(allowedHosts: string[] = ['127.0.0.1']) {
    let reached: () => void = () => {};
    const atStall = new Promise<void>((resolve) => { reached = resolve; });
    let resume: () => void = () => {};
    const stall = new Promise<void>((resolve) => { resume = resolve; });
    let isArmed = true;
    /** `builder`, and every builder its methods make, with an execute that stalls once when armed. */
    const stallingExecute = <T extends object>(builder: T): T => new Proxy(builder, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        if (key === 'execute') {
          return async (...args: unknown[]) => {
            const rows = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (isArmed) {
              isArmed = false;
              reached();
              await stall;
            }
            return rows;
          };
        }
        return (...args: unknown[]) => {
          const made = (value as (...a: unknown[]) => unknown).apply(target, args);
          return made !== null && typeof made === 'object' ? stallingExecute(made) : made;
        };
      },
    });
    const db = env.rc.database.db;
    const stallingDb = new Proxy(db, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key !== 'selectFrom') return typeof value === 'function' ? value.bind(target) : value;
        return (table: never) => (table === 'gone_webhook_urls' ? stallingExecute(target.selectFrom(table)) : target.selectFrom(table));
      },
    });
    const http = new OutboundHttp({ guard: new OutboundGuard(allowedHosts) });
    return {
      sender: new WebhookDelivery({ database: { ...env.rc.database, db: stallingDb }, clock, logger: env.rc.logger, metrics: env.rc.metrics, http, timeoutMs: TIMEOUT }),
      /** Resolves once the sender has claimed what it sends and stalls. */
      atStall,
      resume,
      async close() {
        resume();
        await http.close();
      },
    };
  }

  /**
   * Books a bot whose message goes to `path`, and has this instance send it: the receiver holds
   * that first request open until `answer` is called with the status it is to get (a test
   * control), every later request to `path` getting what `later` says (200 unless told). Resolves
   * once the first request is at the receiver and its sender's claim has run out.
   */
  /**
   * The other instance claims and sends the message `held` lost its claim to; its receiver takes
   * it (200) only at `answerOther`, and `otherRound` is that instance's round.
   */
  async function otherAttemptHeldOpen(path: string, held: Awaited<ReturnType<typeof sendHeldPastItsClaim>>) {
    let answerOther: () => void = () => {};
    const otherGate = new Promise<void>((resolve) => { answerOther = resolve; });
    held.control.later = () => (to(path).length === 2 ? { status: 200, release: otherGate } : { status: 200 });
    const otherClaimedAt = clock.now();
    const otherRound = other.runDue();
    await hooks.waitFor(() => to(path).length === 2);
    return { otherClaimedAt, answerOther, otherRound };
  }

  async function sendHeldPastItsClaim(path: string) {
    let answerFirst: (status: number) => void = () => {};
    const first = new Promise<number>((resolve) => { answerFirst = resolve; });
    const control = { later: (): { status: number; release?: Promise<unknown> } => ({ status: 200 }) };
    hooks.respond = (r) => {
      if (r.url !== path) return { status: 200 };
      if (to(path).length > 1) return control.later();
      const answer = { status: 200, release: first };
      // (The status is decided when the test answers: the fake sends its status then.)
      void first.then((status) => { answer.status = status; });
      return answer;
    };
    const botId = await book(path);
    const stale = env.rc.webhooks.runDue();
    await hooks.waitFor(() => to(path).length === 1);
    clock.advance(CLAIM_MS + 1000);
    return {
      botId,
      control,
      /** The held request is answered `status`; resolves once its sender has recorded what it may. */
      async answer(status: number) {
        answerFirst(status);
        await stale;
      },
    };
  }

  test('a late failure does not undo a delivery another instance recorded meanwhile: no attempt counted, the URL not held, nothing sent a third time', async () => {
    const path = '/claim-late-failure';
    const held = await sendHeldPastItsClaim(path);
    // The claim ran out: another instance claims the message and the receiver takes it.
    assert.equal(await other.runDue(), 1, 'claimed again by the other instance');
    assert.deepEqual(pick(await rowOf(held.botId)), ['delivered', 1]);
    const lost = await claimsLost();
    // The first request is answered at last: a 503 (a struggling receiver, which would hold the URL).
    await held.answer(503);
    const row = await rowOf(held.botId);
    assert.deepEqual([row.state, row.attempts, row.lease_until_ms], ['delivered', 1, null], 'the delivery stands; the late attempt is not counted');
    assert.equal(await holdOf(path), undefined, 'the URL is not held back');
    assert.equal(await claimsLost(), lost + 1, 'counted as claim_lost');
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    assert.equal(to(path).length, 2, 'sent twice in all, not a third time');
  });

  test('a late success after another instance\'s failed attempt records the message delivered, both attempts counted, and opens the URL the failure held', async () => {
    const path = '/claim-late-success';
    const held = await sendHeldPastItsClaim(path);
    held.control.later = () => ({ status: 503 });
    assert.equal(await other.runDue(), 1, 'claimed again by the other instance');
    assert.deepEqual(pick(await rowOf(held.botId)), ['pending', 1]);
    assert.ok((await holdOf(path))?.failures, 'the other attempt\'s 503 holds the URL');
    // The receiver's answer to the first request comes: it took the message.
    await held.answer(200);
    const row = await rowOf(held.botId);
    assert.deepEqual([row.state, row.attempts, row.lease_until_ms], ['delivered', 2, null], 'delivered, by the late answer; both attempts counted');
    assert.equal(await holdOf(path), undefined, 'the receiver takes webhooks: the URL is open again');
    clock.advance(HOUR);
    await env.rc.webhooks.runDue();
    await other.runDue();
    assert.equal(to(path).length, 2, 'not sent a third time');
  });

  test('a late success while another instance\'s attempt is under way records the message delivered; that attempt\'s failure, its claim gone, is not recorded', async () => {
    const path = '/claim-late-success-overlap';
    const held = await sendHeldPastItsClaim(path);
    let answerOther: () => void = () => {};
    const otherGate = new Promise<void>((resolve) => { answerOther = resolve; });
    held.control.later = () => ({ status: 503, release: otherGate });
    const otherRound = other.runDue();
    await hooks.waitFor(() => to(path).length === 2);
    await held.answer(200);
    assert.deepEqual(pick(await rowOf(held.botId)), ['delivered', 1]);
    const lost = await claimsLost();
    answerOther();
    await otherRound;
    const row = await rowOf(held.botId);
    assert.deepEqual([row.state, row.attempts], ['delivered', 1], 'the other attempt\'s 503 is not recorded over the delivery');
    assert.equal(await holdOf(path), undefined, 'nor does it hold the URL');
    assert.equal(await claimsLost(), lost + 1);
  });

  for (const lateStatus of [503, 200]) {
    test(`a redelivery asked after another instance delivered the message stands against the late ${lateStatus} of an attempt whose claim ran out: sent again at once`, async () => {
      const path = `/claim-redelivered-${lateStatus}`;
      const held = await sendHeldPastItsClaim(path);
      assert.equal(await other.runDue(), 1);
      assert.deepEqual(pick(await rowOf(held.botId)), ['delivered', 1]);
      // Its owner asks for it again while the first attempt is still open (its owner's choice: the
      // receiver's own record of it may have been lost).
      const { message_id: messageId } = await rowOf(held.botId);
      const redeliveredAt = clock.now();
      assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${messageId}/redeliver`, { auth: env.user.auth })).status, 200);
      const lost = await claimsLost();
      // (The first instance's round goes on once that answer is recorded: the redelivered message
      // is due, so it is what that round sends next.)
      await held.answer(lateStatus);
      const row = await rowOf(held.botId);
      assert.deepEqual([row.state, row.attempts, row.redelivered], ['delivered', 2, 1], 'the redelivery went at once, in the same round: no backoff, the late attempt not counted');
      assert.ok(row.next_attempt_at_ms <= redeliveredAt, 'due when it was redelivered');
      assert.equal(await holdOf(path), undefined, 'the URL is not held back');
      assert.equal(to(path)[2]?.headers['webhook-id'], messageId, 'sent again under its webhook-id');
      assert.equal(to(path).length, 3, 'the first attempt, the other instance\'s, the redelivery');
      assert.equal(await claimsLost(), lost + 1, 'the late answer is not recorded: counted as claim_lost');
    });
  }

  test('a message of a gone line given up unsent and redelivered meanwhile is not given up again by a sender that stalled past its claim before it looked', async () => {
    const path = '/claim-unsent';
    // Standard Webhooks, "Delivery success and failure": 410 says the receiver wants no more
    // webhooks from this sender; the bot's later messages to the URL are then not sent.
    const gone = await goneLineWithMessageQueued(path);
    const botId = gone.botId;
    const cancelledOf = () => env.rc.database.db.selectFrom('webhook_deliveries').select(['message_id', 'state', 'attempts', 'last_error', 'lease_until_ms'])
      .where('bot_id', '=', botId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const stalling = stallingSender();
    try {
      const stalled = stalling.sender.runDue();
      await stalling.atStall;
      assert.equal((await cancelledOf()).lease_until_ms, clock.now() + CLAIM_MS, 'claimed by the stalling sender');
      // Its claim runs out: this instance claims the message and gives it up unsent.
      clock.advance(CLAIM_MS + 1000);
      await env.rc.webhooks.runDue();
      const unsent = await cancelledOf();
      assert.deepEqual([unsent.state, unsent.attempts], ['failed', 0]);
      assert.match(unsent.last_error ?? '', /^not sent: the receiver answered 410 Gone/);
      // The receiver is back, and its owner redelivers it.
      gone.answerOk();
      assert.equal((await env.rc.request('POST', `/api/v1/webhooks/deliveries/${unsent.message_id}/redeliver`, { auth: env.user.auth })).status, 200);
      const lost = await claimsLost();
      // The stalled sender goes on: it found the line gone, but the message is no longer its to give up.
      stalling.resume();
      await stalled;
      const after = await cancelledOf();
      assert.deepEqual([after.state, after.last_error], [after.attempts === 0 ? 'pending' : 'delivered', null], 'still redelivered (or already sent by the stalled sender\'s round)');
      assert.equal(await claimsLost(), lost + 1);
      await env.rc.webhooks.runDue();
      const redelivered = await cancelledOf();
      assert.deepEqual([redelivered.state, redelivered.attempts, redelivered.last_error], ['delivered', 1, null], 'the redelivery stands and is taken');
      assert.equal(to(path).filter((r) => r.headers['webhook-id'] === unsent.message_id).length, 1, 'sent once: the redelivery');
    } finally {
      await stalling.close();
    }
  });

  /**
   * Books a bot whose first message (M0) is delivered, then queues its bot.cancelled (M) and has
   * this instance send M: the receiver holds that request open until `answer` is called with the
   * status it is to get (a test control), and its sender's claim runs out. M0 is then redelivered
   * by its owner and sent by the other instance, the receiver answering 410 Gone: the line is gone
   * and M, waiting with a claim that ran out, is given up unsent by that record.
   */
  async function goneWhileClaimRanOut(path: string) {
    let answerM: (status: number) => void = () => {};
    const mAnswered = new Promise<number>((resolve) => { answerM = resolve; });
    hooks.respond = () => ({ status: 200 });
    const botId = await book(path);
    await env.rc.webhooks.runDue();
    const [m0] = await rowsOf(botId);
    assert.equal(m0!.state, 'delivered');
    assert.equal((await env.rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: env.user.auth })).status, 200);
    // Standard Webhooks, "Delivery success and failure": 410 says the receiver wants no more
    // webhooks from this sender.
    hooks.respond = (r) => {
      if (r.url !== path) return { status: 200 };
      if (to(path).length !== 2) return { status: 410 };
      const answer = { status: 200, release: mAnswered as Promise<unknown> };
      // (The status is decided when the test answers: the fake sends its status then.)
      void mAnswered.then((status) => { answer.status = status; });
      return answer;
    };
    const stale = env.rc.webhooks.runDue();
    await hooks.waitFor(() => to(path).length === 2);
    clock.advance(CLAIM_MS + 1000);
    await redeliver(m0!.message_id);
    assert.equal(await other.runDue(), 1, 'M0 sent again by the other instance: 410');
    const [r0, m] = await rowsOf(botId);
    assert.equal(r0!.state, 'failed');
    assert.ok(await goneOf(botId), 'the line is gone');
    assert.match(m!.last_error ?? '', /^not sent: the receiver answered 410 Gone/, 'M given up unsent by the 410\'s record');
    assert.equal(m!.state, 'failed');
    return {
      botId,
      m: m!,
      /** M's held request is answered `status`; resolves once its sender has recorded what it may. */
      async answer(status: number) {
        answerM(status);
        await stale;
      },
    };
  }

  test('a record that gives up unsent a message whose claim ran out (a 410\'s gone line) clears its lease, as every record does', async () => {
    const gone = await goneWhileClaimRanOut('/claim-gone-lease');
    const lost = await claimsLost();
    try {
      assert.equal(gone.m.lease_until_ms, null, 'the stale claim is not left on the message given up');
    } finally {
      await gone.answer(503);
    }
    assert.equal(await claimsLost(), lost + 1, 'the late 503 is not recorded: claim_lost');
  });

  test('a late 2xx to an attempt whose claim ran out does not record delivered a message given up meanwhile, nor open the line a later 410 closed', async () => {
    const gone = await goneWhileClaimRanOut('/claim-gone-late-2xx');
    const lost = await claimsLost();
    await gone.answer(200);
    const [, m] = await rowsOf(gone.botId);
    assert.deepEqual([m!.state, m!.attempts], ['failed', 0], 'the message given up is left to that record');
    assert.ok(await goneOf(gone.botId), 'the gone line the later 410 recorded stands');
    assert.equal(await claimsLost(), lost + 1, 'counted as claim_lost');
  });

  test('a late failure of an attempt whose claim ran out is not recorded over a redelivery of the message given up meanwhile: it goes at once', async () => {
    const gone = await goneWhileClaimRanOut('/claim-gone-late-503');
    // The receiver is back; its owner redelivers M.
    hooks.respond = () => ({ status: 200 });
    await redeliver(gone.m.message_id);
    const redeliveredAt = clock.now();
    const lost = await claimsLost();
    // (The stale sender's round may then send the redelivery itself.)
    await gone.answer(503);
    const [, m] = await rowsOf(gone.botId);
    assert.ok(m!.next_attempt_at_ms <= redeliveredAt, `not pushed back by the late failure's backoff (${m!.state}, attempts ${m!.attempts}, next ${m!.next_attempt_at_ms - redeliveredAt} ms later)`);
    assert.equal(await holdOf('/claim-gone-late-503'), undefined, 'the URL is not held back');
    assert.equal(await claimsLost(), lost + 1, 'the late 503 is not recorded: claim_lost');
  });

  test('a late 2xx to an attempt whose claim ran out does not swallow a redelivery of the message given up meanwhile, nor open the line the 410 closed', async () => {
    const path = '/claim-gone-redelivered-late-2xx';
    const gone = await goneWhileClaimRanOut(path);
    // Its owner redelivers M while the receiver still answers 410: a redelivery is sent even to a
    // gone line. M's held request is then answered 200, before that 410 as the receiver saw it
    // (the request ends after WEBHOOK_TIMEOUT_MS, within its sender's claim): the older word.
    await redeliver(gone.m.message_id);
    const lost = await claimsLost();
    // (The stale sender's round may then send the redelivery itself.)
    await gone.answer(200);
    await env.rc.webhooks.runDue();
    await other.runDue();
    const [, m] = await rowsOf(gone.botId);
    const sent = to(path).filter((r) => r.headers['webhook-id'] === gone.m.message_id).length;
    assert.equal(sent, 2, `the redelivery is sent (M ${m!.state}, attempts ${m!.attempts})`);
    assert.deepEqual([m!.state, m!.attempts], ['failed', 1], 'the redelivery\'s own 410 is what counts, not the late 2xx');
    assert.ok(await goneOf(gone.botId), 'the line stays gone');
    assert.equal(await claimsLost(), lost + 1, 'the late 2xx is not recorded: claim_lost');
  });

  test('a late success while another instance\'s attempt is under way leaves that attempt its claim: a redelivery asked then waits for it, not sent a third time beside it', async () => {
    const path = '/claim-late-success-redelivered';
    const held = await sendHeldPastItsClaim(path);
    const { otherClaimedAt, answerOther, otherRound } = await otherAttemptHeldOpen(path, held);
    try {
      await held.answer(200);
      const row = await rowOf(held.botId);
      assert.deepEqual([row.state, row.attempts], ['delivered', 1], 'the late success is recorded');
      assert.equal(row.lease_until_ms, otherClaimedAt + CLAIM_MS, 'the other instance\'s claim stands');
      // Its owner asks for it again while the other attempt is still open.
      await redeliver(row.message_id);
      assert.equal(await env.rc.webhooks.runDue(), 0, 'not claimed while the other attempt is under way');
      assert.equal(to(path).length, 2, 'not sent a third time beside it');
    } finally {
      answerOther();
      await otherRound;
    }
    assert.deepEqual(pick(await rowOf(held.botId)), ['delivered', 2], 'the other attempt\'s outcome counts');
  });

  test('a message of a gone line its owner redelivers after a sender claimed it, before that sender gave it up, is sent rather than given up', async () => {
    const path = '/claim-unsent-redelivered';
    const gone = await goneLineWithMessageQueued(path);
    const botId = gone.botId;
    const stalling = stallingSender();
    try {
      const stalled = stalling.sender.runDue();
      // Claimed, the line read as gone: the sender is about to give the message up.
      await stalling.atStall;
      const [, claimed] = await rowsOf(botId);
      assert.equal(claimed!.lease_until_ms, clock.now() + CLAIM_MS, 'claimed by the stalling sender, its claim running');
      // The receiver is back, and its owner redelivers the message before that.
      gone.answerOk();
      await redeliver(claimed!.message_id);
      const lost = await claimsLost();
      stalling.resume();
      await stalled;
      const [, m] = await rowsOf(botId);
      assert.deepEqual([m!.state, m!.attempts, m!.last_error], ['delivered', 1, null], 'handed back and sent at once, in the same round');
      assert.equal(to(path).filter((r) => r.headers['webhook-id'] === claimed!.message_id).length, 1, 'sent once');
      assert.equal(await claimsLost(), lost, 'its claim was not lost');
    } finally {
      await stalling.close();
    }
  });

  test('a guard refusal of an attempt whose claim ran out does not give up a message another instance delivered meanwhile', async () => {
    const path = '/claim-refused';
    hooks.respond = () => ({ status: 200 });
    const botId = await book(path);
    // A sender whose outbound client allows no private address: the guard refuses the receiver's
    // (a permanent failure, not retried).
    const stalling = stallingSender([]);
    try {
      const stalled = stalling.sender.runDue();
      await stalling.atStall;
      clock.advance(CLAIM_MS + 1000);
      await env.rc.webhooks.runDue();
      assert.deepEqual(pick(await rowOf(botId)), ['delivered', 1]);
      const lost = await claimsLost();
      stalling.resume();
      await stalled;
      const row = await rowOf(botId);
      assert.deepEqual([row.state, row.attempts, row.lease_until_ms], ['delivered', 1, null], 'the refusal is not recorded over the delivery');
      assert.equal(await claimsLost(), lost + 1, 'counted as claim_lost');
      assert.equal(to(path).length, 1, 'the refused attempt sent nothing');
    } finally {
      await stalling.close();
    }
  });

  // Last: it stops this instance's sender (runDue still drives it after).
  test('an attempt whose claim ran out, ended by a stop before its answer, does not hand back the message another instance has under way: nothing claims it a third time', async () => {
    const path = '/claim-stopped';
    const held = await sendHeldPastItsClaim(path);
    const { otherClaimedAt, answerOther, otherRound } = await otherAttemptHeldOpen(path, held);
    const lost = await claimsLost();
    // This instance stops: its request, still unanswered, is ended after the stop's grace.
    await env.rc.webhooks.stop();
    // (Its round, which looks for more once the attempt is recorded, is over too.)
    await held.answer(200);
    assert.equal((await rowOf(held.botId)).lease_until_ms, otherClaimedAt + CLAIM_MS, 'the other instance\'s claim stands');
    assert.equal(await claimsLost(), lost + 1);
    assert.equal(await env.rc.webhooks.runDue(), 0, 'not claimed again while the other attempt is under way');
    answerOther();
    await otherRound;
    assert.deepEqual(pick(await rowOf(held.botId)), ['delivered', 1]);
    assert.equal(to(path).length, 2, 'sent twice, not three times');
  });
});

function pick(row: { state: string; attempts: number }): [string, number] {
  return [row.state, row.attempts];
}
