// The server side of the dashboard, through HTTP: sessions (sign-in, cookie flags, CSRF, expiry, idle timeout,
// revocation, sign-out), the routes its pages read (upcoming bots with their source, ended bots
// with why, launches per minute, webhook deliveries and redelivery, status changes as a page and
// as a live stream), and the status change feed's handling of ids that commit out of order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { sql, type KyselyPlugin } from 'kysely';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ApiKeyAuthenticator, createApiKey, revokeApiKey } from '../../src/services/access/api-keys.ts';
import { DashboardSessions } from '../../src/services/access/dashboard-sessions.ts';
import { StatusChangeFeed, type StatusChange } from '../../src/services/scheduling/status-change-feed.ts';
import { startTestRollcall, testConfig, type TestRollcall } from '../support/harness.ts';
import { slowQueries } from '../support/slow-queries.ts';
import { createRollcall } from '../../src/container.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { migrate } from '../../src/db/migrator.ts';

const NOW = Date.parse('2026-11-20T12:00:30Z');

interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
}

describe('dashboard API', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  const hooks = new FakeHttpReceiver();
  const runtime = new FakeHttpReceiver();
  const feeds = new FakeIcsServer();
  let hooksUrl: string;
  let alice: { userId: string; auth: string };
  let bob: { userId: string; auth: string };

  before(async () => {
    hooksUrl = await hooks.start();
    const runtimeUrl = await runtime.start();
    await feeds.start();
    rc = await startTestRollcall({ clock, settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', JOIN_LEAD_SECONDS: '180', BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch` } });
    alice = await rc.newUser('alice');
    bob = await rc.newUser('bob');
  });
  after(async () => {
    await rc.close();
    await hooks.stop();
    await runtime.stop();
    await feeds.stop();
  });

  async function signIn(auth: string, headers: Record<string, string> = {}): Promise<SignedIn> {
    const res = await rc.request('POST', '/dashboard/session', { body: { api_key: auth.slice('Token '.length) }, headers });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const setCookie = String(res.headers['set-cookie']);
    return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrf_token, setCookie };
  }

  /** The app's address over a real connection (a live stream cannot be injected); listens on first use. */
  async function baseUrl(): Promise<string> {
    if (!rc.app.server.listening) await rc.app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(rc.app.server.address() as { port: number }).port}`;
  }

  async function createEvent(auth: string, startMs: number, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 'Meeting', start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${8_000_000_000 + (startMs % 999_999_937)}`, ...extra } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  async function schedule(auth: string, eventId: string, key: string, botConfig: Record<string, unknown> = {}): Promise<string> {
    const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: key, bot_config: botConfig } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.bot_id;
  }

  describe('sessions', () => {
    test('an API key is exchanged for an HttpOnly, SameSite=Strict cookie the browser does not keep past its close; only the token\'s hash is stored', async () => {
      const refused = await rc.request('POST', '/dashboard/session', { body: { api_key: 'rck_0000000000000000000000000000000000000000' } });
      assert.equal(`${refused.status} ${refused.body.code}`, '401 unauthorized');
      assert.equal(refused.headers['set-cookie'], undefined);
      const session = await signIn(alice.auth);
      // No Max-Age or Expires: a session cookie, dropped when the browser closes, not a persistent one
      // left on disk for the session's lifetime (OWASP Session Management Cheat Sheet, "Expire and
      // Max-Age Attributes"). The server's timeouts are what end a session.
      assert.match(session.setCookie, /^rollcall_session=rcs_[0-9a-z]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
      const token = session.cookie.split('=')[1]!;
      const rows = await rc.database.db.selectFrom('dashboard_sessions').selectAll().where('user_id', '=', alice.userId).execute();
      assert.ok(rows.some((r) => r.token_hash === createHash('sha256').update(token).digest('hex')));
      assert.ok(rows.every((r) => !JSON.stringify(r).includes(token)), 'the token itself is not stored');
      const who = await rc.request('GET', '/dashboard/session', { headers: { cookie: session.cookie } });
      assert.deepEqual(who.body, { user: { name: 'alice' }, expires_at: new Date(clock.now() + 12 * 3_600_000).toISOString(), csrf_token: session.csrf });
    });

    test('the cookie authenticates /api/v1 for the key\'s user only; writes need the CSRF token', async () => {
      const session = await signIn(alice.auth);
      const botId = await schedule(alice.auth, await createEvent(alice.auth, NOW + 86_400_000), 'csrf-bot');
      const bobsBot = await schedule(bob.auth, await createEvent(bob.auth, NOW + 86_400_000), 'bobs-bot');
      assert.equal((await rc.request('GET', `/api/v1/bots/${botId}`, { headers: { cookie: session.cookie } })).status, 200);
      const foreign = await rc.request('GET', `/api/v1/bots/${bobsBot}`, { headers: { cookie: session.cookie } });
      assert.equal(`${foreign.status} ${foreign.body.code}`, '404 bot_not_found');

      const cancel = (headers: Record<string, string>) => rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { headers: { cookie: session.cookie, ...headers } });
      const attempts: Record<string, string>[] = [{}, { 'x-csrf-token': 'nope' }, { 'x-csrf-token': `${session.csrf}x` }, { 'x-csrf-token': session.csrf, 'sec-fetch-site': 'cross-site' }];
      for (const headers of attempts) {
        const refused = await cancel(headers);
        assert.equal(`${refused.status} ${refused.body.code}`, '403 invalid_csrf_token', JSON.stringify(headers));
      }
      assert.equal((await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.status, 'Scheduled', 'refused writes changed nothing');
      // Another session's token is no proof for this one.
      const other = await signIn(alice.auth);
      assert.equal((await cancel({ 'x-csrf-token': other.csrf })).status, 403);
      const cancelled = await cancel({ 'x-csrf-token': session.csrf, 'sec-fetch-site': 'same-origin' });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      // An Authorization header wins over the cookie, also when it is wrong (an unknown key: 403).
      const wrongKey = await rc.request('GET', `/api/v1/bots/${botId}`, { headers: { cookie: session.cookie, authorization: 'Token rck_0000000000000000000000000000000000000000' } });
      assert.equal(`${wrongKey.status} ${wrongKey.body.code}`, '403 forbidden');
      // MeetStream's remove_bot is a GET that cancels: a session needs the CSRF token for it too.
      const leaving = await schedule(alice.auth, await createEvent(alice.auth, NOW + 86_400_000), 'csrf-remove-bot');
      const removeBot = (headers: Record<string, string>) => rc.request('GET', `/api/v1/bots/${leaving}/remove_bot`, { headers: { cookie: session.cookie, ...headers } });
      const unproven = await removeBot({ 'sec-fetch-site': 'same-site' });
      assert.equal(`${unproven.status} ${unproven.body.code}`, '403 invalid_csrf_token');
      assert.equal((await rc.request('GET', `/api/v1/bots/${leaving}`, { auth: alice.auth })).body.status, 'Scheduled');
      assert.equal((await removeBot({ 'x-csrf-token': session.csrf })).status, 200);
      // So is the older reference's delete_data, a GET that deletes.
      const doomed = await schedule(alice.auth, await createEvent(alice.auth, NOW + 86_400_000), 'csrf-delete-data');
      const deleteData = (headers: Record<string, string>) => rc.request('GET', `/api/v1/bots/${doomed}/delete_data`, { headers: { cookie: session.cookie, ...headers } });
      const unprovenDelete = await deleteData({ 'sec-fetch-site': 'same-site' });
      assert.equal(`${unprovenDelete.status} ${unprovenDelete.body.code}`, '403 invalid_csrf_token');
      assert.equal((await rc.request('GET', `/api/v1/bots/${doomed}`, { auth: alice.auth })).body.status, 'Scheduled');
      assert.equal((await deleteData({ 'x-csrf-token': session.csrf })).status, 200);
      // Answers under a session or a key are not kept by any cache (the signing secret among them).
      for (const headers of [{ cookie: session.cookie }, { authorization: alice.auth }] as Record<string, string>[]) {
        const secret = await rc.request('GET', '/api/v1/webhooks/secret', { headers });
        assert.equal(`${secret.status} ${secret.headers['cache-control']}`, '200 no-store');
      }
      // A cookie that is not a session is a 401 like a missing key.
      const junk = await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: 'rollcall_session=rcs_nope' } });
      assert.equal(`${junk.status} ${junk.body.code}`, '401 unauthorized');
    });

    test('a bot\'s history says what was done from the dashboard (a session) and what through the API (a key)', async () => {
      const user = await rc.newUser('uma');
      const session = await signIn(user.auth);
      const fromDashboard = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, body?: Record<string, unknown>) =>
        rc.request(method, url, { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf }, ...(body ? { body } : {}) });
      const history = async (botId: string) => {
        const bot = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body;
        return { timeline: bot.status_timeline.map((s: { status: string; reason: string }) => `${s.status}: ${s.reason}`), decisions: bot.decisions.map((d: { reason: string }) => d.reason), origin: bot.origin };
      };

      // Events' "Schedule bot", then the bot page's changes and its "Cancel bot".
      const booked = await fromDashboard('POST', `/api/v1/calendar/schedule/${await createEvent(user.auth, NOW + 9 * 86_400_000)}`, { deduplication_key: 'uma-dashboard' });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const dashboardBot = booked.body.bot_id as string;
      assert.equal((await fromDashboard('PATCH', `/api/v1/calendar/scheduled/${dashboardBot}`, { bot_username: 'Uma\'s notes', scheduled_join_time: new Date(NOW + 9 * 86_400_000 - 60_000).toISOString() })).status, 200);
      assert.equal((await fromDashboard('DELETE', `/api/v1/calendar/scheduled/${dashboardBot}`)).status, 200);
      const fromTheDashboard = await history(dashboardBot);
      assert.deepEqual(fromTheDashboard.timeline, ['Scheduled: Scheduled from the dashboard', 'Cancelled: Cancelled from the dashboard']);
      // What booked it is stored with it, not read back from the reason's words.
      assert.equal(fromTheDashboard.origin, 'dashboard');
      assert.ok(fromTheDashboard.decisions.includes('Updated from the dashboard: scheduled_join_time, bot_username'), JSON.stringify(fromTheDashboard.decisions));
      assert.ok(fromTheDashboard.decisions.some((r: string) => r.startsWith('Join time set from the dashboard')), JSON.stringify(fromTheDashboard.decisions));
      assert.ok(!JSON.stringify(fromTheDashboard).includes('through the API'), JSON.stringify(fromTheDashboard));

      // Unscheduling an event, remove_bot and create_bot from the dashboard say so too.
      const eventId = await createEvent(user.auth, NOW + 10 * 86_400_000);
      const unscheduled = (await fromDashboard('POST', `/api/v1/calendar/schedule/${eventId}`, { deduplication_key: 'uma-unscheduled' })).body.bot_id as string;
      assert.equal((await fromDashboard('DELETE', `/api/v1/calendar/schedule/${eventId}`, {})).status, 200);
      assert.deepEqual((await history(unscheduled)).timeline, ['Scheduled: Scheduled from the dashboard', `Cancelled: Unscheduled from the dashboard (event ${eventId})`]);
      const created = await fromDashboard('POST', '/api/v1/bots/create_bot', { meeting_link: 'https://zoom.us/j/86123456789', bot_name: 'Uma', join_at: new Date(NOW + 11 * 86_400_000).toISOString() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await fromDashboard('GET', `/api/v1/bots/${created.body.bot_id}/remove_bot`)).status, 200);
      assert.deepEqual((await history(created.body.bot_id)).timeline, ['Scheduled: Created from the dashboard', 'Cancelled: Removed from the dashboard (remove_bot) before it joined']);
      assert.equal((await history(created.body.bot_id)).origin, 'dashboard');

      // The same calls with the API key keep saying so.
      const byKey = await schedule(user.auth, await createEvent(user.auth, NOW + 12 * 86_400_000), 'uma-key');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${byKey}`, { auth: user.auth })).status, 200);
      assert.deepEqual((await history(byKey)).timeline, ['Scheduled: Scheduled through the API', 'Cancelled: Deleted through the API']);
      assert.equal((await history(byKey)).origin, 'api');
      const createdByKey = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: 'https://zoom.us/j/86123456790', bot_name: 'Uma', join_at: new Date(NOW + 13 * 86_400_000).toISOString() } });
      assert.equal(createdByKey.status, 201, JSON.stringify(createdByKey.body));
      assert.deepEqual([(await history(createdByKey.body.bot_id)).timeline, (await history(createdByKey.body.bot_id)).origin], [['Scheduled: Created through the API'], 'api']);
      assert.equal((await rc.request('GET', `/api/v1/bots/${createdByKey.body.bot_id}/remove_bot`, { auth: user.auth })).status, 200);
    });

    test('with a session, a path no route serves is a 404 or 405 as with a key (the page would read a 401 as its session ended); signing in again ends the session the browser had', async () => {
      const session = await signIn(alice.auth);
      const unknown = await rc.request('GET', '/api/v1/no-such-route', { headers: { cookie: session.cookie } });
      assert.equal(`${unknown.status} ${unknown.body.code}`, '404 not_found');
      const wrongMethod = await rc.request('PATCH', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
      assert.equal(`${wrongMethod.status} ${wrongMethod.body.code} ${wrongMethod.headers.allow}`, '405 method_not_allowed GET, HEAD');
      // A change without the session's proof is refused there as on any route; no session is 401.
      const unproven = await rc.request('PATCH', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie } });
      assert.equal(`${unproven.status} ${unproven.body.code}`, '403 invalid_csrf_token');
      const none = await rc.request('GET', '/api/v1/no-such-route', { headers: { cookie: 'rollcall_session=rcs_nope' } });
      assert.equal(`${none.status} ${none.body.code}`, '401 unauthorized');

      // Another user signs in on the same browser: alice's session ends with it.
      const next = await signIn(bob.auth, { cookie: session.cookie });
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie } })).status, 401);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: next.cookie } })).status, 200);
      // A refused sign-in ends nothing.
      const refused = await rc.request('POST', '/dashboard/session', { body: { api_key: 'rck_nope' }, headers: { cookie: next.cookie } });
      assert.equal(refused.status, 401);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: next.cookie } })).status, 200);
    });

    test('a session expires after DASHBOARD_SESSION_HOURS however much it is used; revoking its key ends it at once; sign-out ends it', async () => {
      clock.set(NOW);
      const expiring = await signIn(alice.auth);
      // Used every 25 minutes (inside the idle timeout): use does not move the absolute end.
      for (let at = 25 * 60_000; at < 12 * 3_600_000 - 1000; at += 25 * 60_000) {
        clock.set(NOW + at);
        assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: expiring.cookie } })).status, 200, `after ${at / 60_000} min`);
      }
      clock.set(NOW + 12 * 3_600_000 - 1000);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: expiring.cookie } })).status, 200);
      clock.advance(1000);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: expiring.cookie } })).status, 401);
      // Who is signed in: nobody, which is an answer (a 401 would be logged as an error by the browser on every first visit).
      const nobody = await rc.request('GET', '/dashboard/session', { headers: { cookie: expiring.cookie } });
      assert.deepEqual([nobody.status, nobody.body], [200, { user: null }]);
      const noCookie = await rc.request('GET', '/dashboard/session');
      assert.deepEqual([noCookie.status, noCookie.body, noCookie.headers['cache-control']], [200, { user: null }, 'no-store']);
      // Expired rows are cleared at the next sign-in.
      const expiredHash = createHash('sha256').update(expiring.cookie.split('=')[1]!).digest('hex');
      assert.equal((await rc.database.db.selectFrom('dashboard_sessions').select('token_hash').where('token_hash', '=', expiredHash).execute()).length, 1);
      await signIn(alice.auth);
      assert.equal((await rc.database.db.selectFrom('dashboard_sessions').select('token_hash').where('token_hash', '=', expiredHash).execute()).length, 0);
      clock.set(NOW);

      const carol = await rc.newUser('carol');
      const session = await signIn(carol.auth);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie } })).status, 200);
      const key = await rc.database.db.selectFrom('api_keys').select('id').where('user_id', '=', carol.userId).executeTakeFirstOrThrow();
      await revokeApiKey(rc.database.db, key.id, clock);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie } })).status, 401);

      const leaving = await signIn(alice.auth);
      const withoutProof = await rc.request('DELETE', '/dashboard/session', { headers: { cookie: leaving.cookie } });
      assert.equal(`${withoutProof.status} ${withoutProof.body.code}`, '403 invalid_csrf_token');
      const out = await rc.request('DELETE', '/dashboard/session', { headers: { cookie: leaving.cookie, 'x-csrf-token': leaving.csrf } });
      assert.equal(out.status, 200);
      assert.match(String(out.headers['set-cookie']), /^rollcall_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: leaving.cookie } })).status, 401);
      assert.deepEqual((await rc.request('GET', '/dashboard/session', { headers: { cookie: leaving.cookie } })).body, { user: null });
    });

    test('a session unused for DASHBOARD_SESSION_IDLE_MINUTES (default 30) ends, answered as an expired one; each use moves that end; last use is written at most once a minute', async () => {
      clock.set(NOW);
      const session = await signIn(alice.auth);
      const hash = createHash('sha256').update(session.cookie.split('=')[1]!).digest('hex');
      const lastSeen = async () => (await rc.database.db.selectFrom('dashboard_sessions').select('last_seen_at').where('token_hash', '=', hash).executeTakeFirstOrThrow()).last_seen_at;
      const read = (cookie: string) => rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie } });
      // Unused since sign-in: idle from then.
      clock.advance(30 * 60_000 - 1);
      assert.equal((await read(session.cookie)).status, 200);
      assert.equal(await lastSeen(), clock.now(), 'a use a minute or more after the last one stored is written');
      const writtenAt = clock.now();
      // Uses within a minute of the stored one are not written: reads stay reads.
      clock.advance(59_999);
      assert.equal((await read(session.cookie)).status, 200);
      assert.equal((await rc.request('GET', '/dashboard/session', { headers: { cookie: session.cookie } })).body.user?.name, 'alice');
      assert.equal(await lastSeen(), writtenAt);
      clock.advance(1);
      assert.equal((await read(session.cookie)).status, 200);
      assert.equal(await lastSeen(), writtenAt + 60_000);
      // The idle timeout counts from the stored use: a whole timeout after it, the session has ended.
      clock.set(writtenAt + 60_000 + 30 * 60_000 - 1);
      assert.equal((await read(session.cookie)).status, 200);
      const idleStart = clock.now();
      clock.advance(30 * 60_000);

      // The answers of a session the server no longer knows, as after its absolute end: 401 on
      // /api/v1 (the page then shows its sign-in, saying the session ended), nobody signed in.
      const unknown = await read('rollcall_session=rcs_0000000000000000000000000000000000000000000');
      const idle = await read(session.cookie);
      assert.deepEqual([idle.status, idle.body], [unknown.status, unknown.body]);
      assert.equal(`${idle.status} ${idle.body.code}`, '401 unauthorized');
      const write = await rc.request('POST', '/api/v1/calendar/events', { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf }, body: {} });
      assert.equal(`${write.status} ${write.body.code}`, '401 unauthorized');
      assert.deepEqual((await rc.request('GET', '/dashboard/session', { headers: { cookie: session.cookie } })).body, { user: null });
      assert.equal(await lastSeen(), idleStart, 'a refused use is not written');
      // Idle rows are cleared at the next sign-in, as expired ones are.
      await signIn(alice.auth);
      assert.equal((await rc.database.db.selectFrom('dashboard_sessions').select('token_hash').where('token_hash', '=', hash).execute()).length, 0);
      clock.set(NOW);
    });

    test('a check the server makes on its own (an open live stream\'s re-check) is not use: the session still idles out', async () => {
      clock.set(NOW);
      const session = await signIn(alice.auth);
      const token = session.cookie.split('=')[1]!;
      const sessions = new DashboardSessions({ db: rc.database.db, clock, authenticator: new ApiKeyAuthenticator(rc.database.db, clock), lifetimeMs: 12 * 3_600_000, idleMs: 30 * 60_000 });
      for (let minute = 5; minute < 30; minute += 5) {
        clock.set(NOW + minute * 60_000);
        assert.ok(await sessions.authenticate(token, { isUse: false }), `live after ${minute} min`);
      }
      clock.set(NOW + 30 * 60_000);
      assert.equal(await sessions.authenticate(token, { isUse: false }), null);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: session.cookie } })).status, 401);
      clock.set(NOW);
    });

    test('what the page does by itself is not use: reads marked X-Rollcall-Background (GET and HEAD), live streams and GET /dashboard/session leave the session to idle out', async () => {
      clock.set(NOW);
      const session = await signIn(alice.auth);
      const hash = createHash('sha256').update(session.cookie.split('=')[1]!).digest('hex');
      const lastSeen = async () => (await rc.database.db.selectFrom('dashboard_sessions').select('last_seen_at').where('token_hash', '=', hash).executeTakeFirstOrThrow()).last_seen_at;
      const background = { cookie: session.cookie, 'x-rollcall-background': '1' };
      const url = `${await baseUrl()}/api/v1/bots/status-changes`;
      for (let minute = 5; minute < 30; minute += 5) {
        clock.set(NOW + minute * 60_000);
        assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: background })).status, 200, `background read after ${minute} min`);
        assert.equal(await lastSeen(), null, `a background GET after ${minute} min is not use`);
        assert.equal((await rc.request('HEAD', '/api/v1/bots/ended', { headers: background })).status, 200);
        assert.equal(await lastSeen(), null, 'a background HEAD is not use');
        assert.equal((await rc.request('GET', '/dashboard/session', { headers: { cookie: session.cookie } })).body.user?.name, 'alice');
        assert.equal(await lastSeen(), null, 'GET /dashboard/session is not use');
        // The browser opens the stream, and opens it again by itself, for as long as the tab is open.
        const stream = openStream(url, { cookie: session.cookie });
        assert.equal((await stream.response).status, 200);
        await stream.waitForText('retry: 3000');
        stream.close();
        await stream.ended;
        assert.equal(await lastSeen(), null, 'opening the live stream is not use');
      }
      clock.set(NOW + 30 * 60_000);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: background })).status, 401);

      // The header is honoured on reads only: a write carrying it is still use, and so is a read without it.
      const other = await signIn(alice.auth);
      const otherHash = createHash('sha256').update(other.cookie.split('=')[1]!).digest('hex');
      const otherSeen = async () => (await rc.database.db.selectFrom('dashboard_sessions').select('last_seen_at').where('token_hash', '=', otherHash).executeTakeFirstOrThrow()).last_seen_at;
      clock.advance(5 * 60_000);
      const write = await rc.request('POST', '/api/v1/calendar/events', { headers: { cookie: other.cookie, 'x-csrf-token': other.csrf, 'x-rollcall-background': '1' }, body: {} });
      assert.equal(write.status, 400, JSON.stringify(write.body));
      assert.equal(await otherSeen(), clock.now(), 'a write marked background is use');
      clock.advance(5 * 60_000);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: other.cookie, 'x-rollcall-background': '0' } })).status, 200);
      assert.equal(await otherSeen(), clock.now(), 'a read not marked background is use');
      clock.set(NOW);
    });

    test('a write refused for want of CSRF proof is not use: the session still idles out', async () => {
      clock.set(NOW);
      const session = await signIn(alice.auth);
      for (let minute = 5; minute < 30; minute += 5) {
        clock.set(NOW + minute * 60_000);
        const missing = await rc.request('POST', '/api/v1/calendar/events', { headers: { cookie: session.cookie }, body: {} });
        assert.equal(`${missing.status} ${missing.body.code}`, '403 invalid_csrf_token');
        const wrong = await rc.request('DELETE', '/api/v1/calendar/scheduled/bot_nothing', { headers: { cookie: session.cookie, 'x-csrf-token': 'x'.repeat(43) } });
        assert.equal(`${wrong.status} ${wrong.body.code}`, '403 invalid_csrf_token');
        const crossSite = await rc.request('POST', '/api/v1/calendar/events', { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'sec-fetch-site': 'cross-site' }, body: {} });
        assert.equal(`${crossSite.status} ${crossSite.body.code}`, '403 invalid_csrf_token');
      }
      clock.set(NOW + 30 * 60_000);
      const ended = await rc.request('POST', '/api/v1/calendar/events', { headers: { cookie: session.cookie }, body: {} });
      assert.equal(`${ended.status} ${ended.body.code}`, '401 unauthorized', 'a session that ended is told so first');
      clock.set(NOW);
    });

    test('an idle timeout not shorter than the lifetime is warned of at start-up, as having no effect', async () => {
      const warnings = async (settings: Record<string, string>) => {
        const lines: { level: number; msg: string }[] = [];
        const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
        const started = await startTestRollcall({ settings, overrides: { logger } });
        await started.close();
        return lines.filter((line) => line.msg.includes('DASHBOARD_SESSION_IDLE_MINUTES')).map((line) => line.msg);
      };
      const [warning, ...more] = await warnings({ DASHBOARD_SESSION_HOURS: '2', DASHBOARD_SESSION_IDLE_MINUTES: '120' });
      assert.match(warning ?? '', /DASHBOARD_SESSION_IDLE_MINUTES \(120\) is not shorter than DASHBOARD_SESSION_HOURS \(2 h\).*no effect/);
      assert.equal(more.length, 0);
      assert.deepEqual(await warnings({ DASHBOARD_SESSION_HOURS: '2', DASHBOARD_SESSION_IDLE_MINUTES: '119' }), []);
    });

    test('migration 41: a session opened before it idles from its sign-in', async () => {
      await withSchemaBefore(41, 'usr_sessions', async (database) => {
        const { db } = database;
        const at = new ManualClock(NOW);
        const { keyId, userId } = await createApiKey(db, 'sessions-owner', at);
        const session = (token: string, createdAt: number) => db.insertInto('dashboard_sessions')
          .values({ token_hash: createHash('sha256').update(token).digest('hex'), user_id: userId, api_key_id: keyId, created_at: createdAt, expires_at: createdAt + 12 * 3_600_000 } as never)
          .execute();
        const recent = `rcs_${'a'.repeat(43)}`;
        const unused = `rcs_${'b'.repeat(43)}`;
        await session(recent, NOW - 30 * 60_000 + 1);
        await session(unused, NOW - 30 * 60_000);
        await migrate(db, database.engine);
        const sessions = new DashboardSessions({ db, clock: at, authenticator: new ApiKeyAuthenticator(db, at), lifetimeMs: 12 * 3_600_000, idleMs: 30 * 60_000 });
        assert.equal((await sessions.authenticate(recent))?.userId, userId);
        assert.equal(await sessions.authenticate(unused), null);
      });
    });

    test('over https the cookie is Secure with the __Host- prefix; the lifetime is a setting', async () => {
      const secure = await startTestRollcall({ settings: { PUBLIC_URL: 'https://rollcall.example.com', DASHBOARD_SESSION_HOURS: '2' } });
      try {
        const user = await secure.newUser('dana');
        const res = await secure.request('POST', '/dashboard/session', { body: { api_key: user.auth.slice('Token '.length) } });
        assert.match(String(res.headers['set-cookie']), /^__Host-rollcall_session=rcs_[0-9a-z]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
        const cookie = String(res.headers['set-cookie']).split(';')[0]!;
        assert.equal((await secure.request('GET', '/api/v1/bots/upcoming', { headers: { cookie } })).status, 200);
        // The same session under the name without the prefix, as a sibling subdomain or a plain-http
        // answer could plant it (the prefix is what the browser guards): not a session over https.
        const planted = cookie.replace(/^__Host-/, '');
        assert.equal((await secure.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: planted } })).status, 401);
        assert.deepEqual((await secure.request('GET', '/dashboard/session', { headers: { cookie: planted } })).body, { user: null });
        // Sign-out clears the cookie under the same name and attributes, which a __Host- cookie needs to be replaced.
        const out = await secure.request('DELETE', '/dashboard/session', { headers: { cookie, 'x-csrf-token': res.body.csrf_token } });
        assert.match(String(out.headers['set-cookie']), /^__Host-rollcall_session=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      } finally {
        await secure.close();
      }
    });

    test('one key holds at most 50 live sessions: a sign-in past that ends its oldest, not another key\'s', async () => {
      const frank = await rc.newUser('frank');
      const other = await signIn(bob.auth);
      const sessions: SignedIn[] = [];
      for (let i = 0; i < 52; i++) {
        clock.advance(1);
        sessions.push(await signIn(frank.auth));
      }
      const key = await rc.database.db.selectFrom('api_keys').select('id').where('user_id', '=', frank.userId).executeTakeFirstOrThrow();
      const rows = await rc.database.db.selectFrom('dashboard_sessions').select('token_hash').where('api_key_id', '=', key.id).execute();
      assert.equal(rows.length, 50);
      const statuses = await Promise.all([sessions[0]!, sessions[1]!, sessions[2]!, sessions[51]!, other].map(async (s) => (await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie: s.cookie } })).status));
      assert.deepEqual(statuses, [401, 401, 200, 200, 200]);
      clock.set(NOW);
    });

    test('behind a TLS-terminating proxy named in TRUST_PROXY, its X-Forwarded-Proto makes the cookie Secure and __Host-; from anyone else it is not believed', async () => {
      const body = (auth: string) => ({ api_key: auth.slice('Token '.length) });
      // Not trusted: the header changes nothing (anyone could send it).
      const untrusted = await rc.request('POST', '/dashboard/session', { body: body(alice.auth), headers: { 'x-forwarded-proto': 'https' } });
      assert.match(String(untrusted.headers['set-cookie']), /^rollcall_session=rcs_\w+; Path=\/; HttpOnly; SameSite=Strict$/);
      const proxied = await startTestRollcall({ settings: { TRUST_PROXY: '127.0.0.1' } });
      try {
        const user = await proxied.newUser('erin');
        const viaTls = await proxied.request('POST', '/dashboard/session', { body: body(user.auth), headers: { 'x-forwarded-proto': 'https' } });
        assert.match(String(viaTls.headers['set-cookie']), /^__Host-rollcall_session=rcs_\w+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
        const cookie = String(viaTls.headers['set-cookie']).split(';')[0]!;
        assert.equal((await proxied.request('GET', '/api/v1/bots/upcoming', { headers: { cookie, 'x-forwarded-proto': 'https' } })).status, 200);
        // The proxy's plain-http side (its redirect to https) gets the plain cookie, never the secure one's name.
        const plain = await proxied.request('POST', '/dashboard/session', { body: body(user.auth), headers: { 'x-forwarded-proto': 'http' } });
        assert.match(String(plain.headers['set-cookie']), /^rollcall_session=/);
      } finally {
        await proxied.close();
      }
    });

    test('dashboard pages carry the CSP and no-store; sign-in from another site is refused', async () => {
      const page = await rc.request('GET', '/dashboard/bots/bot_anything');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(String(page.headers['content-security-policy']), /^default-src 'none'; script-src 'self'; style-src 'self';/);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      const script = /src="(\/dashboard\/assets\/app-[^"]+\.js)"/.exec(String(page.body))?.[1];
      assert.ok(script, 'the page names its script');
      const asset = await rc.request('GET', script);
      assert.equal(asset.status, 200);
      assert.match(String(asset.headers['cache-control']), /immutable/);
      assert.equal((await rc.request('GET', '/dashboard/assets/app-missing.js')).status, 404);
      const crossSite = await rc.request('POST', '/dashboard/session', { body: { api_key: alice.auth.slice('Token '.length) }, headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(`${crossSite.status} ${crossSite.body.code}`, '403 invalid_csrf_token');
      const formPost = await rc.request('POST', '/dashboard/session', { body: `api_key=${alice.auth.slice('Token '.length)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(formPost.status, 415, 'a plain HTML form from another site cannot sign anyone in');
    });
  });

  describe('upcoming and ended bots, launches per minute', () => {
    test('live bots soonest first, with their source, filtered by status and calendar, paged without repeats', async () => {
      const user = await rc.newUser('erin');
      const feedUrl = feeds.createFeed('Erin');
      const synced = NOW + 2 * 86_400_000;
      feeds.edit(feedUrl, (events) => {
        events.push({ uid: 'sync@erin', summary: 'Synced meeting', startMs: synced, endMs: synced + 1_800_000, location: 'https://zoom.us/j/81111111111' });
        events.push({ uid: 'auto@erin', summary: 'Auto meeting', startMs: synced + 3_600_000, endMs: synced + 5_400_000, location: 'https://zoom.us/j/82222222222' });
      });
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const calendarId = connected.body.calendar_id as string;
      const events = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(NOW).toISOString()}&time_max=${new Date(NOW + 5 * 86_400_000).toISOString()}`, { auth: user.auth })).body.results as { id: string; title: string }[];
      const calendarBot = await schedule(user.auth, events.find((e) => e.title === 'Synced meeting')!.id, 'synced');
      const enabled = await rc.request('POST', '/api/v1/calendar/auto-schedule/enable', { auth: user.auth, body: { default_bot_config: { bot_name: 'Auto' } } });
      assert.equal(enabled.body.bots_scheduled, 1, JSON.stringify(enabled.body));
      const apiBots: string[] = [];
      for (let i = 0; i < 5; i++) apiBots.push(await schedule(user.auth, await createEvent(user.auth, NOW + 86_400_000 + i * 60_000, { title: `API ${i}` }), `api-${i}`));

      const all = await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth });
      assert.equal(all.status, 200);
      const sources = Object.fromEntries(all.body.bots.map((b: { bot_id: string; source: string }) => [b.bot_id, b.source]));
      assert.equal(sources[calendarBot], 'calendar');
      assert.equal(Object.values(sources).filter((s) => s === 'auto_schedule').length, 1);
      for (const id of apiBots) assert.equal(sources[id], 'api');
      assert.deepEqual(all.body.bots.map((b: { scheduled_join_time: string }) => b.scheduled_join_time), [...all.body.bots.map((b: { scheduled_join_time: string }) => b.scheduled_join_time)].sort());
      const first = all.body.bots[0];
      assert.deepEqual(first.events.map((e: { title: string }) => e.title), ['API 0']);

      const fromCalendar = await rc.request('GET', `/api/v1/bots/upcoming?calendar_id=${calendarId}`, { auth: user.auth });
      assert.deepEqual(fromCalendar.body.bots.map((b: { source: string }) => b.source).sort(), ['auto_schedule', 'calendar']);
      const bobsView = await rc.request('GET', `/api/v1/bots/upcoming?calendar_id=${calendarId}`, { auth: bob.auth });
      assert.deepEqual(bobsView.body.bots, [], 'another user\'s calendar filters to nothing');

      // Paging two at a time walks every bot once, also with a bot cancelled between pages.
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: { body: { bots: { bot_id: string }[]; next: string | null } } = await rc.request('GET', `/api/v1/bots/upcoming?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { auth: user.auth });
        seen.push(...res.body.bots.map((b) => b.bot_id));
        if (page === 0) await rc.request('DELETE', `/api/v1/calendar/scheduled/${apiBots[4]}`, { auth: user.auth });
        cursor = res.body.next;
        if (cursor === null) break;
      }
      assert.equal(new Set(seen).size, seen.length, 'no bot twice');
      assert.equal(seen.length, 6, 'all but the one cancelled before its page');

      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming?status=Done', { auth: user.auth })).status, 400);
      assert.equal((await rc.request('GET', '/api/v1/bots/upcoming?cursor=bm9wZQ', { auth: user.auth })).body.code, 'invalid_cursor');
      clock.advance(86_400_000 - 180_000 + 1000);
      // The runtime refuses the bot's first launch (503): it is Joining with its launch failing.
      let launches = 0;
      const usual = runtime.respond;
      runtime.respond = (r) => (r.json?.action === 'launch' && r.json?.bot_id === apiBots[0] && launches++ === 0 ? { status: 503, body: { error: 'busy' } } : { status: 202, body: { ok: true } });
      try {
        await rc.dispatcher.runDue();
        const joining = await rc.request('GET', '/api/v1/bots/upcoming?status=Joining', { auth: user.auth });
        assert.deepEqual(joining.body.bots.map((b: { bot_id: string; status: string }) => `${b.bot_id} ${b.status}`), [`${apiBots[0]} Joining`]);
        const failing = joining.body.bots[0].launch_failing;
        assert.equal(failing?.attempts, 1, JSON.stringify(joining.body.bots[0]));
        assert.match(failing.last_error, /503/);
        assert.ok(Date.parse(failing.next_attempt_at) > clock.now(), 'the next attempt is still to come');
        assert.equal(failing.fails_at_meeting_end, false, 'a retry within the meeting is an attempt');
        // The bot's own page reads the same.
        assert.deepEqual((await rc.request('GET', `/api/v1/bots/${apiBots[0]}`, { auth: user.auth })).body.launch_failing, failing);
        // The retry is accepted: nothing fails any more.
        clock.set(Date.parse(failing.next_attempt_at) + 1);
        await rc.dispatcher.runDue();
        const accepted = await rc.request('GET', '/api/v1/bots/upcoming?status=Joining', { auth: user.auth });
        assert.deepEqual(accepted.body.bots.map((b: { bot_id: string; launch_failing: unknown }) => [b.bot_id, b.launch_failing]), [[apiBots[0], null]]);
        assert.equal((await rc.request('GET', `/api/v1/bots/${apiBots[0]}`, { auth: user.auth })).body.launch_failing, null);
        const waiting = await rc.request('GET', '/api/v1/bots/upcoming?status=Scheduled', { auth: user.auth });
        assert.ok(waiting.body.bots.length > 0);
        assert.ok(waiting.body.bots.every((b: { launch_failing: unknown }) => b.launch_failing === null), 'waiting bots have no failing launch');
      } finally {
        runtime.respond = usual;
        clock.set(NOW);
      }
    });

    test('both lists say what booked each bot (origin), as its detail does, and keep saying it once the bot has ended', async () => {
      const user = await rc.newUser('orla');
      const session = await signIn(user.auth);
      const fromDashboard = (method: 'POST' | 'DELETE', url: string, body?: Record<string, unknown>) =>
        rc.request(method, url, { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf }, ...(body ? { body } : {}) });
      const booked = await fromDashboard('POST', `/api/v1/calendar/schedule/${await createEvent(user.auth, NOW + 3 * 86_400_000, { title: 'Booked on the page' })}`, { deduplication_key: 'orla-dashboard' });
      assert.equal(booked.status, 200, JSON.stringify(booked.body));
      const dashboardBot = booked.body.bot_id as string;
      const apiBot = await schedule(user.auth, await createEvent(user.auth, NOW + 4 * 86_400_000, { title: 'Booked by a client' }), 'orla-api');
      const created = await fromDashboard('POST', '/api/v1/bots/create_bot', { meeting_link: 'https://zoom.us/j/86123456791', bot_name: 'Orla', join_at: new Date(NOW + 5 * 86_400_000).toISOString() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const originsOf = (bots: { bot_id: string; origin: unknown }[]) => Object.fromEntries(bots.map((b) => [b.bot_id, b.origin]));
      const expected = { [dashboardBot]: 'dashboard', [apiBot]: 'api', [created.body.bot_id as string]: 'dashboard' };

      const upcoming = await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth });
      assert.equal(upcoming.status, 200, JSON.stringify(upcoming.body));
      assert.deepEqual(originsOf(upcoming.body.bots), expected);
      for (const [botId, origin] of Object.entries(expected)) assert.equal((await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.origin, origin);

      // Cancelled, each by the other side: what booked it stays what it was.
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${dashboardBot}`, { auth: user.auth })).status, 200);
      assert.equal((await fromDashboard('DELETE', `/api/v1/calendar/scheduled/${apiBot}`)).status, 200);
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.body.bot_id}/remove_bot`, { auth: user.auth })).status, 200);
      const ended = await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth });
      assert.equal(ended.status, 200, JSON.stringify(ended.body));
      assert.deepEqual(originsOf(ended.body.bots), expected);
      // The same through the session the dashboard reads with.
      assert.deepEqual(originsOf((await rc.request('GET', '/api/v1/bots/ended', { headers: { cookie: session.cookie } })).body.bots), expected);
      // The served document describes it on both, as on the bot's detail: always there, one of the origins or null.
      const doc = (await rc.request('GET', '/openapi.json')).body;
      const detail = doc.paths['/api/v1/bots/{bot_id}'].get.responses['200'].content['application/json'].schema.properties.origin;
      for (const path of ['/api/v1/bots/upcoming', '/api/v1/bots/ended']) {
        const item = doc.paths[path].get.responses['200'].content['application/json'].schema.properties.bots.items;
        assert.ok(item.required.includes('origin'), path);
        assert.deepEqual(item.properties.origin, detail, path);
      }
    });

    test('a waiting bot whose only calendar lost its access is at risk, in the list and in its detail, until access returns', async () => {
      const user = await rc.newUser('hana');
      const feedUrl = feeds.createFeed('Hana');
      const start = NOW + 2 * 86_400_000;
      feeds.edit(feedUrl, (events) => {
        events.push({ uid: 'risk@hana', summary: 'Feed meeting', startMs: start, endMs: start + 1_800_000, location: 'https://zoom.us/j/83333333333' });
      });
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const calendarId = connected.body.calendar_id as string;
      const events = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(NOW).toISOString()}&time_max=${new Date(NOW + 5 * 86_400_000).toISOString()}`, { auth: user.auth })).body.results as { id: string }[];
      const feedBot = await schedule(user.auth, events[0]!.id, 'feed-bot');
      const apiBot = await schedule(user.auth, await createEvent(user.auth, start + 3_600_000), 'api-bot');
      const atRisk = async () => {
        const listed = (await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth })).body.bots as { bot_id: string; at_risk: unknown }[];
        const detail = async (botId: string) => (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.at_risk;
        return {
          listed: Object.fromEntries(listed.map((b) => [b.bot_id, b.at_risk])),
          detail: { [feedBot]: await detail(feedBot), [apiBot]: await detail(apiBot) },
        };
      };
      const none = { [feedBot]: null, [apiBot]: null };
      assert.deepEqual(await atRisk(), { listed: none, detail: none });

      feeds.revoke(feedUrl);
      const sync = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: user.auth });
      assert.equal(sync.body.status, 'auth_revoked', JSON.stringify(sync.body));
      // The reason is the one the bot would be cancelled with at its join time (spec section 12),
      // with the calendar it cannot be read from, named as the connection lists it.
      const connection = (await rc.request('GET', `/api/v1/calendar/connections/${calendarId}`, { auth: user.auth })).body;
      assert.ok(connection.ics_url && connection.calendars[0].summary, JSON.stringify(connection));
      const feedRisk = {
        reason: 'calendar_access_revoked',
        calendars: [{ calendar_id: calendarId, provider: 'ics', account: connection.ics_url, provider_calendar_id: null, name: connection.calendars[0].summary, cause: 'connection_revoked' }],
      };
      const revoked = { [feedBot]: feedRisk, [apiBot]: null };
      assert.deepEqual(await atRisk(), { listed: revoked, detail: revoked });
      const filtered = await rc.request('GET', `/api/v1/bots/upcoming?calendar_id=${calendarId}&status=Scheduled`, { auth: user.auth });
      assert.deepEqual(filtered.body.bots.map((b: { bot_id: string; at_risk: unknown }) => [b.bot_id, b.at_risk]), [[feedBot, feedRisk]]);

      // Access returns (the feed answers again and is connected again): nothing is at risk.
      feeds.restore(feedUrl);
      const again = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(await atRisk(), { listed: none, detail: none });
    });

    test('ended bots the latest to end first, with their meeting and why each ended, filtered by outcome, paged without repeats', async () => {
      const user = await rc.newUser('kim');
      const start = clock.now();
      // Two meetings whose bots join a minute from now (the join lead is 180 s), one next week
      // cancelled, one still to come; and bob's own cancelled bot.
      const retro = await schedule(user.auth, await createEvent(user.auth, start + 240_000, { title: 'Retro' }), 'ended-retro');
      const demo = await schedule(user.auth, await createEvent(user.auth, start + 241_000, { title: 'Demo' }), 'ended-demo');
      const planning = await schedule(user.auth, await createEvent(user.auth, start + 7 * 86_400_000, { title: 'Planning' }), 'ended-planning');
      const later = await schedule(user.auth, await createEvent(user.auth, start + 8 * 86_400_000, { title: 'Later' }), 'ended-later');
      const bobsBot = await schedule(bob.auth, await createEvent(bob.auth, start + 7 * 86_400_000), 'bobs-ended');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${planning}`, { auth: user.auth })).status, 200);
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${bobsBot}`, { auth: bob.auth })).status, 200);
      const report = async (botId: string, status: string, message?: string) => {
        const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', botId).executeTakeFirstOrThrow();
        const res = await rc.request('POST', `/api/v1/bots/${botId}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status, ...(message ? { message } : {}) } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      };
      try {
        clock.set(start + 62_000);
        await rc.dispatcher.runDue();
        await report(retro, 'InMeeting');
        await report(retro, 'Done', 'The meeting ended');
        clock.set(start + 63_000);
        await report(demo, 'Error', 'The camera was refused');

        type Ended = { bot_id: string; status: string; outcome: string; end_reason: string; ended_at: string | null; scheduled_join_time: string; events: { title: string; is_linked: boolean }[] };
        const list = async (search = '') => {
          const res = await rc.request('GET', `/api/v1/bots/ended${search}`, { auth: user.auth });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          return res.body as { bots: Ended[]; next: string | null; has_more: boolean };
        };
        const all = await list();
        assert.deepEqual(all.bots.map((b) => [b.bot_id, b.status, b.outcome, b.events.map((e) => e.title).join()]), [
          [demo, 'Error', 'failed', 'Demo'],
          [retro, 'Done', 'done', 'Retro'],
          [planning, 'Cancelled', 'cancelled', 'Planning'],
        ], 'the live bot and bob\'s are not listed; the latest to end first (not the latest join time: Planning\'s, next week)');
        const [failed, done, cancelled] = all.bots as [Ended, Ended, Ended];
        assert.match(failed.end_reason, /The camera was refused/);
        assert.match(done.end_reason, /The meeting ended/);
        assert.notEqual(cancelled.end_reason, '', 'a cancellation says why');
        assert.equal(failed.ended_at, new Date(start + 63_000).toISOString());
        assert.deepEqual(all.bots.map((b) => b.ended_at), [start + 63_000, start + 62_000, start].map((ms) => new Date(ms).toISOString()));
        assert.equal(done.scheduled_join_time, new Date(start + 60_000).toISOString());
        assert.ok(all.bots.every((b) => b.events.every((e) => !e.is_linked)), 'an ended bot has let go of its events');
        assert.deepEqual([all.next, all.has_more], [null, false]);
        assert.ok(!all.bots.some((b) => b.bot_id === later));

        for (const [outcome, expected] of [['done', [retro]], ['failed', [demo]], ['cancelled', [planning]]] as const) {
          assert.deepEqual((await list(`?outcome=${outcome}`)).bots.map((b) => b.bot_id), expected, outcome);
        }
        assert.deepEqual((await rc.request('GET', '/api/v1/bots/ended?outcome=cancelled', { auth: bob.auth })).body.bots.map((b: Ended) => b.bot_id), [bobsBot]);

        // One a page walks every bot once, also with a bot ending between pages (it ends after
        // every bot listed, so it comes before the pages already read, and none is met twice).
        clock.set(start + 64_000);
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 10; page++) {
          const res: { bots: Ended[]; next: string | null } = await list(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
          seen.push(...res.bots.map((b) => b.bot_id));
          if (page === 0) assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${later}`, { auth: user.auth })).status, 200);
          cursor = res.next;
          if (cursor === null) break;
        }
        assert.deepEqual(seen, [demo, retro, planning]);
        assert.equal((await list()).bots[0]!.bot_id, later, 'the bot that ended last is first');

        for (const [search, field] of [['outcome=Done', 'outcome'], ['outcome=live', 'outcome'], ['outcome=failed&outcome=done', 'outcome'], ['limit=0', 'limit'], ['limit=101', 'limit']] as const) {
          const refused = await rc.request('GET', `/api/v1/bots/ended?${search}`, { auth: user.auth });
          assert.deepEqual([refused.status, refused.body.code, refused.body.details?.field], [400, 'validation_error', field], search);
        }
        assert.match((await rc.request('GET', '/api/v1/bots/ended?outcome=Done', { auth: user.auth })).body.message, /^outcome \(query\): must be one of done, failed, cancelled/);
        // Not one this listing issued: nonsense, an upcoming list's cursor (keyed on its own name),
        // and ones from when this list was paged by join time, and by end time and id alone.
        const upcomingCursor = Buffer.from(JSON.stringify({ j: start, i: retro })).toString('base64url');
        const joinTimeCursor = Buffer.from(JSON.stringify({ e: start, i: retro })).toString('base64url');
        const endTimeCursor = Buffer.from(JSON.stringify({ d: start, i: retro })).toString('base64url');
        for (const foreign of ['bm9wZQ', upcomingCursor, joinTimeCursor, endTimeCursor]) {
          const refused = await rc.request('GET', `/api/v1/bots/ended?cursor=${foreign}`, { auth: user.auth });
          assert.deepEqual([refused.status, refused.body.code], [400, 'invalid_cursor'], String(foreign));
        }
      } finally {
        clock.set(start);
      }
    });

    test('bots that ended at the same instant (a series cancelled at once) come the soonest meeting first; pages through them miss and repeat none', async () => {
      const user = await rc.newUser('tess');
      const start = clock.now();
      const bot = async (joinInDays: number) => {
        const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: `https://zoom.us/j/${86_000_000_000 + joinInDays * 1000}`, bot_name: 'Tied', join_at: new Date(start + joinInDays * 86_400_000).toISOString() } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        return created.body.bot_id as string;
      };
      const cancel = async (botId: string) => assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth: user.auth })).status, 200);
      try {
        const first = await bot(30);
        await cancel(first);
        // Seven cancelled in one instant, made out of join order (their ids are random anyway).
        clock.set(start + 1000);
        const days = [5, 2, 7, 1, 4, 6, 3];
        const tied = new Map<number, string>();
        for (const day of days) tied.set(day, await bot(day));
        for (const botId of tied.values()) await cancel(botId);
        clock.set(start + 2000);
        const last = await bot(20);
        await cancel(last);

        const expected = [last, ...[...tied.keys()].sort((a, b) => a - b).map((day) => tied.get(day)!), first];
        const all = await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth });
        assert.deepEqual(all.body.bots.map((b: { bot_id: string }) => b.bot_id), expected, 'the latest to end first; tied ones by join time');
        const tiedJoins = all.body.bots.slice(1, -1).map((b: { scheduled_join_time: string }) => b.scheduled_join_time);
        assert.deepEqual(tiedJoins, [...tiedJoins].sort());
        // Pages that end inside the tied ones, at every offset.
        for (const limit of [1, 2, 3, 4]) {
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let page = 0; page < 20; page++) {
            const res: { body: { bots: { bot_id: string }[]; next: string | null } } = await rc.request('GET', `/api/v1/bots/ended?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { auth: user.auth });
            assert.ok(res.body.bots, JSON.stringify(res.body));
            seen.push(...res.body.bots.map((b) => b.bot_id));
            cursor = res.body.next;
            if (cursor === null) break;
          }
          assert.deepEqual(seen, expected, `${limit} a page`);
        }
      } finally {
        clock.set(start);
      }
    });

    test('a bot whose data was deleted says when, in its detail and on the ended list; other bots say null', async () => {
      const user = await rc.newUser('dora');
      const kept = await schedule(user.auth, await createEvent(user.auth, NOW + 4 * 86_400_000, { title: 'Kept' }), 'kept');
      const deleted = await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000, { title: 'Gone' }), 'gone');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${kept}`, { auth: user.auth })).status, 200);
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${deleted}/delete`, { auth: user.auth })).status, 200);
      const at = new Date(clock.now()).toISOString();
      assert.equal((await rc.request('GET', `/api/v1/bots/${deleted}`, { auth: user.auth })).body.data_deleted_at, at);
      assert.equal((await rc.request('GET', `/api/v1/bots/${kept}`, { auth: user.auth })).body.data_deleted_at, null);
      const listed = (await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth })).body.bots as { bot_id: string; data_deleted_at: string | null; meeting_url: string; events: unknown[] }[];
      assert.deepEqual(listed.map((b) => [b.bot_id, b.data_deleted_at]).sort(), [[kept, null], [deleted, at]].sort());
      const gone = listed.find((b) => b.bot_id === deleted)!;
      assert.deepEqual([gone.meeting_url, gone.events], ['', []]);
    });

    test('ended bots filtered by calendar connection: a bot for one of its events, though the bot let go of it; another user\'s calendar filters to nothing', async () => {
      const user = await rc.newUser('mia');
      const feedUrl = feeds.createFeed('Mia');
      const start = NOW + 3 * 86_400_000;
      feeds.edit(feedUrl, (events) => {
        events.push({ uid: 'feed@mia', summary: 'Feed meeting', startMs: start, endMs: start + 1_800_000, location: 'https://zoom.us/j/84444444444' });
      });
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const calendarId = connected.body.calendar_id as string;
      const events = (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(NOW).toISOString()}&time_max=${new Date(NOW + 5 * 86_400_000).toISOString()}`, { auth: user.auth })).body.results as { id: string }[];
      const feedBot = await schedule(user.auth, events[0]!.id, 'mia-feed');
      const apiBot = await schedule(user.auth, await createEvent(user.auth, start + 3_600_000, { title: 'API meeting' }), 'mia-api');
      const liveBot = await schedule(user.auth, await createEvent(user.auth, start + 7_200_000), 'mia-live');
      for (const botId of [feedBot, apiBot]) assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth })).status, 200);

      const ended = async (auth: string, search: string) => {
        const res = await rc.request('GET', `/api/v1/bots/ended${search}`, { auth });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body.bots as { bot_id: string; events: { calendar_id: string | null; is_linked: boolean }[] }[];
      };
      assert.deepEqual((await ended(user.auth, '')).map((b) => b.bot_id).sort(), [feedBot, apiBot].sort());
      const fromCalendar = await ended(user.auth, `?calendar_id=${calendarId}`);
      assert.deepEqual(fromCalendar.map((b) => b.bot_id), [feedBot], 'the API event\'s bot and the live bot are not listed');
      assert.deepEqual(fromCalendar[0]!.events.map((e) => [e.calendar_id, e.is_linked]), [[calendarId, false]]);
      assert.deepEqual(await ended(user.auth, `?calendar_id=${calendarId}&outcome=cancelled`).then((bots) => bots.map((b) => b.bot_id)), [feedBot]);
      assert.deepEqual(await ended(user.auth, `?calendar_id=${calendarId}&outcome=done`), []);
      assert.deepEqual(await ended(user.auth, '?calendar_id=cal_none'), []);
      assert.deepEqual(await ended(bob.auth, `?calendar_id=${calendarId}`), [], 'another user\'s calendar filters to nothing');
      assert.ok(!(await ended(user.auth, `?calendar_id=${calendarId}`)).some((b) => b.bot_id === liveBot));

      for (const search of [`calendar_id=${calendarId}&calendar_id=${calendarId}`, `calendar_id=${'c'.repeat(201)}`]) {
        const refused = await rc.request('GET', `/api/v1/bots/ended?${search}`, { auth: user.auth });
        assert.deepEqual([refused.status, refused.body.code, refused.body.details?.field], [400, 'validation_error', 'calendar_id'], search.slice(0, 40));
      }
    });

    test('an occurrence unscheduled from the dashboard: Ended names it by its series\' title and its start, the API by its id', async () => {
      const user = await rc.newUser('occ');
      const session = await signIn(user.auth);
      const first = clock.now() + 10 * 86_400_000;
      const series = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: {
        title: 'Weekly sync', start_time: new Date(first).toISOString(), end_time: new Date(first + 1_800_000).toISOString(), timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], meeting_url: 'https://zoom.us/j/8123456711',
      } });
      assert.equal(series.status, 201, JSON.stringify(series.body));
      const bots = await rc.request('POST', `/api/v1/calendar/schedule/${series.body.id}`, { auth: user.auth, body: { deduplication_key: 'weekly-occ', bot_config: {}, schedule_all_occurrences: true } });
      assert.equal(bots.status, 200, JSON.stringify(bots.body));
      const key = new Date(first).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const occurrenceId = `${series.body.id}_${key}`;
      // As the Events page unschedules one occurrence.
      const res = await rc.request('DELETE', `/api/v1/calendar/schedule/${occurrenceId}`, { headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const ended = (await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth })).body.bots as { end_reason: string; status: string; events: { event_id: string; title: string | null }[] }[];
      assert.equal(ended.length, 1);
      assert.equal(ended[0]!.end_reason, `Unscheduled from the dashboard (occurrence ${occurrenceId})`, 'the API keeps its words');
      // What the page makes of the row (src/web/client/ended-bot.ts).
      const { endReasonCell, endedEventTitles } = await import('../../src/web/client/ended-bot.ts');
      const { formatTimeRange } = await import('../../src/web/client/format.ts');
      assert.deepEqual(endReasonCell(ended[0]!.status, ended[0]!.end_reason, false, endedEventTitles(ended[0]!.events)),
        { text: `Unscheduled from the dashboard (occurrence of “Weekly sync” on ${formatTimeRange(new Date(first).toISOString(), null)})`, isMuted: false });
    });

    test('an ended bot of one occurrence is listed by that occurrence\'s own title, an override\'s where one gave it', async () => {
      const user = await rc.newUser('lee');
      const first = clock.now() + 10 * 86_400_000;
      const series = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: {
        title: 'Weekly sync', start_time: new Date(first).toISOString(), end_time: new Date(first + 1_800_000).toISOString(), timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'], meeting_url: 'https://zoom.us/j/8123456700',
      } });
      assert.equal(series.status, 201, JSON.stringify(series.body));
      const bots = await rc.request('POST', `/api/v1/calendar/schedule/${series.body.id}`, { auth: user.auth, body: { deduplication_key: 'weekly', bot_config: {}, schedule_all_occurrences: true } });
      assert.equal(bots.status, 200, JSON.stringify(bots.body));
      const override = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { recurring_event_id: series.body.id, original_start_time: new Date(first + 7 * 86_400_000).toISOString(), title: 'Weekly sync (board room)' } });
      assert.equal(override.status, 201, JSON.stringify(override.body));
      // Cancelled a second apart: the list's order (the latest to end first) is theirs, reversed.
      const before = clock.now();
      try {
        for (const s of bots.body.schedules_created) {
          clock.advance(1000);
          assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${s.bot_id}`, { auth: user.auth })).status, 200);
        }
      } finally {
        clock.set(before);
      }
      const listed = await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth });
      assert.deepEqual(listed.body.bots.map((b: { events: { title: string }[] }) => b.events.map((e) => e.title).join()), ['Weekly sync', 'Weekly sync (board room)', 'Weekly sync']);
    });

    test('migration 34: a bot that ended before gets the time of the change that brought it to its status, else its last update; a live one none', async () => {
      await withSchemaBefore(34, 'usr_ended', async (database) => {
        const { db } = database;
        const bot = (id: string, status: string, updatedAt: number) => db.insertInto('bots').values({
          id, user_id: 'usr_ended', deduplication_key: id, deduplication_key_hash: `hash-${id}`, is_live: ['Scheduled', 'Joining'].includes(status) ? 1 : 0,
          meeting_url: 'https://zoom.us/j/1', meeting_platform: 'zoom', meeting_identity: 'zoom:1', status, bot_config: '{}', custom_attributes: '{}',
          join_at_ms: NOW + 30 * 86_400_000, is_join_time_pinned: 0, meeting_end_ms: NOW + 30 * 86_400_000 + 3_600_000, launched_at: null, source: 'calendar_schedule_api',
          created_at: NOW, updated_at: updatedAt, provider_name: null, provider_bot_id: null,
        } as never).execute();
        const change = (botId: string, status: string, atMs: number) => db.insertInto('bot_status_changes').values({ bot_id: botId, at_ms: atMs, status, reason: '' }).execute();
        await bot('bot_live', 'Joining', NOW + 9000);
        await change('bot_live', 'Scheduled', NOW);
        await change('bot_live', 'Joining', NOW + 1000);
        await bot('bot_done', 'Done', NOW + 9000);
        await change('bot_done', 'Scheduled', NOW);
        await change('bot_done', 'Stopped', NOW + 2000);
        await change('bot_done', 'Done', NOW + 3000);
        await bot('bot_cancelled', 'Cancelled', NOW + 9000);
        await change('bot_cancelled', 'Scheduled', NOW);
        await change('bot_cancelled', 'Cancelled', NOW + 4000);
        await bot('bot_unlogged', 'Error', NOW + 5000);
        await migrate(db, database.engine);
        const rows = await db.selectFrom('bots').select(['id', 'ended_at_ms']).orderBy('id').execute();
        assert.deepEqual(rows.map((r) => [r.id, r.ended_at_ms === null ? null : Number(r.ended_at_ms)]), [
          ['bot_cancelled', NOW + 4000], ['bot_done', NOW + 3000], ['bot_live', null], ['bot_unlogged', NOW + 5000],
        ]);
      });
    });

    test('migration 50: a bot created before it gets the origin its booking\'s status reason named, else none', async () => {
      await withSchemaBefore(50, 'usr_origin', async (database) => {
        const { db } = database;
        const reasons: Record<string, [string, string][]> = {
          bot_api: [['Scheduled', 'Scheduled through the API'], ['Cancelled', 'Cancelled from the dashboard']],
          bot_created: [['Scheduled', 'Created through the API']],
          bot_dashboard: [['Scheduled', 'Scheduled from the dashboard']],
          bot_dashboard_created: [['Scheduled', 'Created from the dashboard']],
          bot_auto: [['Scheduled', 'Booked by auto-schedule']],
          bot_chain: [['Scheduled', 'Booked by chain mode']],
          bot_top_up: [['Scheduled', 'Booked by its series\' schedule_all_occurrences batch, for an occurrence that had no bot']],
          bot_older: [['Scheduled', 'Scheduled'], ['Joining', 'Scheduled from the dashboard']],
          bot_deleted: [['Scheduled', ''], ['Cancelled', '']],
          bot_unlogged: [],
        };
        for (const [id, changes] of Object.entries(reasons)) {
          await db.insertInto('bots').values({
            id, user_id: 'usr_origin', deduplication_key: id, deduplication_key_hash: `hash-${id}`, is_live: 1,
            meeting_url: 'https://zoom.us/j/1', meeting_platform: 'zoom', meeting_identity: 'zoom:1', status: changes.at(-1)?.[0] ?? 'Scheduled', bot_config: '{}', custom_attributes: '{}',
            join_at_ms: NOW + 86_400_000, is_join_time_pinned: 0, meeting_end_ms: NOW + 90_000_000, launched_at: null, source: 'calendar_schedule_api',
            created_at: NOW, updated_at: NOW, provider_name: null, provider_bot_id: null,
          } as never).execute();
          for (const [i, [status, reason]] of changes.entries()) await db.insertInto('bot_status_changes').values({ bot_id: id, at_ms: NOW + i, status, reason }).execute();
        }
        await migrate(db, database.engine);
        const rows = await db.selectFrom('bots').select(['id', 'origin']).orderBy('id').execute();
        assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.origin])), {
          bot_api: 'api', bot_auto: 'auto_schedule', bot_chain: 'chain', bot_created: 'api', bot_dashboard: 'dashboard', bot_dashboard_created: 'dashboard',
          bot_deleted: null, bot_older: null, bot_top_up: 'batch_top_up', bot_unlogged: null,
        });
      });
    });

    test('migration 50 writes only the bots it gives an origin (each row it writes gets a new version on PostgreSQL, under the lock ALTER TABLE holds)', async () => {
      await withSchemaBefore(50, 'usr_origin_rev', async (database) => {
        const { db, engine } = database;
        const reasons: Record<string, [string, string][]> = {
          bot_rev_api: [['Scheduled', 'Scheduled through the API']],
          bot_rev_top_up: [['Scheduled', 'Booked by its series\' schedule_all_occurrences batch, for an occurrence that had no bot']],
          bot_rev_older: [['Scheduled', 'Scheduled']],
          bot_rev_deleted: [['Scheduled', ''], ['Cancelled', '']],
          bot_rev_unlogged: [],
        };
        for (const [id, changes] of Object.entries(reasons)) {
          await db.insertInto('bots').values({
            id, user_id: 'usr_origin_rev', deduplication_key: id, deduplication_key_hash: `hash-${id}`, is_live: 0,
            meeting_url: 'https://zoom.us/j/1', meeting_platform: 'zoom', meeting_identity: 'zoom:1', status: changes.at(-1)?.[0] ?? 'Scheduled', bot_config: '{}', custom_attributes: '{}',
            join_at_ms: NOW, is_join_time_pinned: 0, meeting_end_ms: NOW + 60_000, launched_at: null, source: 'calendar_schedule_api',
            created_at: NOW, updated_at: NOW, provider_name: null, provider_bot_id: null,
          } as never).execute();
          for (const [i, [status, reason]] of changes.entries()) await db.insertInto('bot_status_changes').values({ bot_id: id, at_ms: NOW + i, status, reason }).execute();
        }
        // The rows the migration writes: by their row version on PostgreSQL, by a trigger on SQLite.
        if (engine === 'sqlite') {
          await sql`CREATE TABLE rewritten (id TEXT)`.execute(db);
          await sql`CREATE TRIGGER bots_rewritten AFTER UPDATE ON bots BEGIN INSERT INTO rewritten (id) VALUES (old.id); END`.execute(db);
        }
        const versions = async () => Object.fromEntries((await sql<{ id: string; v: string }>`select id, xmin::text as v from bots where user_id = 'usr_origin_rev'`.execute(db)).rows.map((r) => [r.id, r.v]));
        const before = engine === 'postgres' ? await versions() : {};
        await migrate(db, engine);
        let written: string[];
        if (engine === 'postgres') {
          const after = await versions();
          written = Object.keys(before).filter((id) => after[id] !== before[id]);
        } else {
          written = (await sql<{ id: string }>`select id from rewritten`.execute(db)).rows.map((r) => r.id);
        }
        assert.deepEqual(written.sort(), ['bot_rev_api', 'bot_rev_top_up'], 'the bots given an origin are written, those left without one are not');
        const rows = await db.selectFrom('bots').select(['id', 'origin']).where('user_id', '=', 'usr_origin_rev').orderBy('id').execute();
        assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.origin])), { bot_rev_api: 'api', bot_rev_deleted: null, bot_rev_older: null, bot_rev_top_up: 'batch_top_up', bot_rev_unlogged: null });
      });
    });

    test('launches per bucket from the start of the current one, every bucket listed, the user\'s own only', async () => {
      const user = await rc.newUser('frank');
      const minute = Math.floor(NOW / 60_000) * 60_000;
      // Join times 180 s before the starts: at +2 min (three bots), +2 min 59 s, +61 min.
      for (const [i, joinOffset] of [[0, 120_000], [1, 120_000], [2, 120_000], [3, 179_000], [4, 61 * 60_000]] as const) {
        await schedule(user.auth, await createEvent(user.auth, minute + joinOffset + 180_000), `h-${i}`);
      }
      await schedule(bob.auth, await createEvent(bob.auth, minute + 120_000 + 180_000), 'bobs-h');
      const res = await rc.request('GET', '/api/v1/bots/launch-histogram?hours=2', { auth: user.auth });
      assert.equal(res.status, 200);
      assert.equal(res.body.from, new Date(minute).toISOString());
      assert.equal(res.body.to, new Date(minute + 2 * 3_600_000).toISOString());
      assert.equal(res.body.buckets.length, 120);
      assert.deepEqual(res.body.buckets.filter((b: { launches: number }) => b.launches > 0), [
        { start: new Date(minute + 120_000).toISOString(), launches: 4 },
        { start: new Date(minute + 61 * 60_000).toISOString(), launches: 1 },
      ]);
      assert.equal(res.body.total, 5);
      assert.deepEqual(res.body.peak, { start: new Date(minute + 120_000).toISOString(), launches: 4 });
      assert.equal(res.body.launch_limit_per_minute, null, 'the HTTP runtime declares no limit');
      const quarters = await rc.request('GET', '/api/v1/bots/launch-histogram?hours=1&bucket_minutes=15', { auth: user.auth });
      assert.deepEqual(quarters.body.buckets.map((b: { launches: number }) => b.launches), [4, 0, 0, 0]);
      for (const bad of ['hours=0', 'hours=49', 'bucket_minutes=0', 'bucket_minutes=61', 'hours=x']) {
        assert.equal((await rc.request('GET', `/api/v1/bots/launch-histogram?${bad}`, { auth: user.auth })).status, 400, bad);
      }
    });
    test('an all-day event and its occurrences say so (is_all_day), and the lists and a bot\'s detail give the zone its dates are read in', async () => {
      const user = await rc.newUser('ada');
      const DAY = 86_400_000;
      // A feed in Berlin with a daily all-day series (a date-valued DTSTART, RFC 5545 3.3.4) and a timed meeting.
      const firstDay = new Date(clock.now() + 3 * DAY).toISOString().slice(0, 10);
      const firstMidnight = Date.parse(`${firstDay}T00:00:00+01:00`);
      const timedStart = clock.now() + 2 * DAY;
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const feedUrl = feeds.publishRaw(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example//EN', 'X-WR-TIMEZONE:Europe/Berlin',
        'BEGIN:VEVENT', 'UID:offsite@ada', `DTSTAMP:${stamp(NOW)}`, `DTSTART;VALUE=DATE:${firstDay.replace(/-/g, '')}`, 'RRULE:FREQ=DAILY;COUNT=3', 'SUMMARY:Offsite', 'LOCATION:https://zoom.us/j/83333333333', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:timed@ada', `DTSTAMP:${stamp(NOW)}`, `DTSTART:${stamp(timedStart)}`, `DTEND:${stamp(timedStart + 1_800_000)}`, 'SUMMARY:Timed', 'LOCATION:https://zoom.us/j/84444444444', 'END:VEVENT',
        'END:VCALENDAR', ''].join('\r\n'));
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const listed = await rc.request('GET', `/api/v1/calendar/events?time_min=${new Date(clock.now()).toISOString()}&time_max=${new Date(clock.now() + 10 * DAY).toISOString()}`, { auth: user.auth });
      type Listed = { id: string; title: string; start_time: string; is_all_day: boolean; recurring_event_id: string | null };
      const events = listed.body.results as Listed[];
      assert.deepEqual(events.map((e) => [e.title, e.start_time, e.is_all_day]), [
        ['Timed', new Date(timedStart).toISOString(), false],
        ...[0, 1, 2].map((i) => ['Offsite', new Date(firstMidnight + i * DAY).toISOString(), true]),
      ]);
      const second = events.filter((e) => e.title === 'Offsite')[1]!;
      const seriesId = second.recurring_event_id!;
      assert.equal((await rc.request('GET', `/api/v1/calendar/events/${seriesId}`, { auth: user.auth })).body.is_all_day, true, 'the series too');
      assert.equal((await rc.request('GET', `/api/v1/calendar/events/${second.id}`, { auth: user.auth })).body.is_all_day, true, 'one occurrence read by its id');

      const allDayBot = await schedule(user.auth, second.id, 'ada-offsite');
      const timedBot = await schedule(user.auth, events[0]!.id, 'ada-timed');
      type Listing = { event_id: string; is_all_day: boolean; all_day_zone: string | null };
      const upcoming = (await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth })).body.bots as { bot_id: string; events: Listing[] }[];
      const zonesOf = (bots: { bot_id: string; events: Listing[] }[]) => Object.fromEntries(bots.map((b) => [b.bot_id, b.events.map((e) => [e.event_id, e.is_all_day, e.all_day_zone])]));
      assert.deepEqual(zonesOf(upcoming), { [allDayBot]: [[seriesId, true, 'Europe/Berlin']], [timedBot]: [[events[0]!.id, false, null]] });
      const detail = (await rc.request('GET', `/api/v1/bots/${allDayBot}`, { auth: user.auth })).body as { events: (Listing & { occurrence_id: string; occurrence_start: string })[] };
      assert.deepEqual(detail.events.map((e) => [e.occurrence_id, e.occurrence_start, e.is_all_day, e.all_day_zone]),
        [[second.id, new Date(firstMidnight + DAY).toISOString(), true, 'Europe/Berlin']], 'its key is its midnight in Berlin, read there');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${allDayBot}`, { auth: user.auth })).status, 200);
      const ended = (await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth })).body.bots as { bot_id: string; events: Listing[] }[];
      assert.deepEqual(zonesOf(ended), { [allDayBot]: [[seriesId, true, 'Europe/Berlin']] });
    });

    test('is_all_day is stored as the feed said: kept when the VEVENT text is dropped for size and by a PATCH of the title, dropped by a PATCH of the times', async () => {
      const user = await rc.newUser('abe');
      const DAY = 86_400_000;
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      // RFC 5545 3.1: lines of at most 75 octets, continued after a space.
      const fold = (line: string) => line.match(/.{1,74}/g)!.join('\r\n ');
      const day = new Date(clock.now() + 3 * DAY).toISOString().slice(0, 10);
      const midnight = Date.parse(`${day}T00:00:00+01:00`);
      const feed = (uid: string, description: string) => feeds.publishRaw(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example//EN', 'X-WR-TIMEZONE:Europe/Berlin',
        'BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp(NOW)}`, `DTSTART;VALUE=DATE:${day.replace(/-/g, '')}`, 'SUMMARY:Offsite',
        'LOCATION:https://zoom.us/j/83333333333', fold(`DESCRIPTION:${description}`), 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'));
      const listedOffsite = async (calendarId: string) => {
        const listed = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(clock.now()).toISOString()}&time_max=${new Date(clock.now() + 10 * DAY).toISOString()}`, { auth: user.auth });
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        return (listed.body.results as { id: string; start_time: string; end_time: string; is_all_day: boolean; raw: { start: unknown; _rollcall?: { dropped_raw_fields?: string[] } } }[])[0]!;
      };
      // A long agenda (32,000 characters): the VEVENT text, the largest field, is dropped from raw.
      const long = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed('long@abe', 'Agenda. '.repeat(4000)) } });
      assert.equal(long.status, 200, JSON.stringify(long.body));
      const longEvent = await listedOffsite(long.body.calendar_id);
      assert.ok(longEvent.raw._rollcall?.dropped_raw_fields?.includes('vevent'), 'the payload no longer says');
      assert.deepEqual([longEvent.start_time, longEvent.is_all_day, longEvent.raw.start], [new Date(midnight).toISOString(), true, { date: day }]);

      const short = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed('short@abe', 'Short') } });
      assert.equal(short.status, 200, JSON.stringify(short.body));
      const event = await listedOffsite(short.body.calendar_id);
      assert.equal(event.is_all_day, true);
      const retitled = await rc.request('PATCH', `/api/v1/calendar/events/${event.id}`, { auth: user.auth, body: { title: 'Offsite (moved room)' } });
      assert.equal(retitled.status, 200, JSON.stringify(retitled.body));
      assert.deepEqual([retitled.body.start_time, retitled.body.end_time, retitled.body.is_all_day, retitled.body.raw.start], [event.start_time, event.end_time, true, { date: day }], 'a new title does not make a day a time');
      const retimed = await rc.request('PATCH', `/api/v1/calendar/events/${event.id}`, { auth: user.auth, body: { start_time: new Date(midnight + 9 * 3_600_000).toISOString(), end_time: new Date(midnight + 10 * 3_600_000).toISOString() } });
      assert.equal(retimed.status, 200, JSON.stringify(retimed.body));
      assert.deepEqual([retimed.body.is_all_day, retimed.body.raw.start], [false, { dateTime: new Date(midnight + 9 * 3_600_000).toISOString(), timeZone: 'Europe/Berlin' }], 'given times, it is those times');
    });

    test('an occurrence is all-day or not as its own override says, in the lists and a bot\'s detail', async () => {
      const user = await rc.newUser('ida');
      const DAY = 86_400_000;
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const firstDay = new Date(clock.now() + 3 * DAY).toISOString().slice(0, 10);
      const firstMidnight = Date.parse(`${firstDay}T00:00:00+01:00`);
      const secondDay = new Date(firstMidnight + DAY + 3_600_000).toISOString().slice(0, 10).replace(/-/g, '');
      const timedStart = firstMidnight + DAY + 10 * 3_600_000;
      // A daily all-day series whose second day was given times (RECURRENCE-ID as a date, RFC 5545 3.8.4.4).
      const feedUrl = feeds.publishRaw(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example//EN', 'X-WR-TIMEZONE:Europe/Berlin',
        'BEGIN:VEVENT', 'UID:days@ida', `DTSTAMP:${stamp(NOW)}`, `DTSTART;VALUE=DATE:${firstDay.replace(/-/g, '')}`, 'RRULE:FREQ=DAILY;COUNT=3', 'SUMMARY:Days', 'LOCATION:https://zoom.us/j/83333333334', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:days@ida', `DTSTAMP:${stamp(NOW)}`, `RECURRENCE-ID;VALUE=DATE:${secondDay}`, `DTSTART:${stamp(timedStart)}`, `DTEND:${stamp(timedStart + 3_600_000)}`, 'SUMMARY:Days, timed', 'LOCATION:https://zoom.us/j/83333333334', 'END:VEVENT',
        'END:VCALENDAR', ''].join('\r\n'));
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const listed = await rc.request('GET', `/api/v1/calendar/events?time_min=${new Date(clock.now()).toISOString()}&time_max=${new Date(clock.now() + 10 * DAY).toISOString()}`, { auth: user.auth });
      const events = listed.body.results as { id: string; title: string; start_time: string; is_all_day: boolean }[];
      assert.deepEqual(events.map((e) => [e.title, e.start_time, e.is_all_day]), [
        ['Days', new Date(firstMidnight).toISOString(), true],
        ['Days, timed', new Date(timedStart).toISOString(), false],
        ['Days', new Date(firstMidnight + 2 * DAY).toISOString(), true],
      ]);
      const timedBot = await schedule(user.auth, events[1]!.id, 'ida-timed');
      const dayBot = await schedule(user.auth, events[2]!.id, 'ida-day');
      type Listing = { is_all_day: boolean; all_day_zone: string | null };
      const upcoming = (await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth })).body.bots as { bot_id: string; events: Listing[] }[];
      const zonesOf = (bots: { bot_id: string; events: Listing[] }[]) => Object.fromEntries(bots.map((b) => [b.bot_id, b.events.map((e) => [e.is_all_day, e.all_day_zone])]));
      assert.deepEqual(zonesOf(upcoming), { [timedBot]: [[false, null]], [dayBot]: [[true, 'Europe/Berlin']] });
      const detail = async (botId: string) => ((await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.events as Listing[]).map((e) => [e.is_all_day, e.all_day_zone]);
      assert.deepEqual([await detail(timedBot), await detail(dayBot)], [[[false, null]], [[true, 'Europe/Berlin']]]);
      for (const botId of [timedBot, dayBot]) assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth })).status, 200);
      const ended = (await rc.request('GET', '/api/v1/bots/ended', { auth: user.auth })).body.bots as { bot_id: string; events: Listing[] }[];
      assert.deepEqual(zonesOf(ended), { [timedBot]: [[false, null]], [dayBot]: [[true, 'Europe/Berlin']] });
    });

    test('a calendar bot that stays in its meeting after its event let go of it reads as from its calendar, listing the event it had', async () => {
      const user = await rc.newUser('finn');
      const feedUrl = feeds.createFeed('Finn');
      const start = clock.now() + 10 * 60_000;
      feeds.edit(feedUrl, (events) => {
        events.push({ uid: 'kept@finn', summary: 'Kept meeting', startMs: start, endMs: start + 3_600_000, location: 'https://zoom.us/j/85555555555' });
      });
      const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feedUrl } });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const calendarId = connected.body.calendar_id as string;
      const listed = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(clock.now()).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: user.auth });
      const eventId = (listed.body.results as { id: string }[])[0]!.id;
      const calendarBot = await schedule(user.auth, eventId, 'finn-kept');
      const apiBot = await schedule(user.auth, await createEvent(user.auth, start + 60_000, { title: 'Through the API' }), 'finn-api');
      type Row = { bot_id: string; status: string; source: string; events: { event_id: string; title: string; calendar_id: string | null; is_linked: boolean }[] };
      const rows = async () => Object.fromEntries(((await rc.request('GET', '/api/v1/bots/upcoming', { auth: user.auth })).body.bots as Row[]).map((b) => [b.bot_id, b]));
      clock.set(start - 60_000);
      await rc.dispatcher.runDue();
      const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', calendarBot).executeTakeFirstOrThrow();
      const reported = await rc.request('POST', `/api/v1/bots/${calendarBot}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status: 'InMeeting' } });
      assert.equal(reported.status, 200, JSON.stringify(reported.body));

      // The organiser takes the meeting link out of the event: the bot, already in, stays till the meeting ends.
      feeds.edit(feedUrl, (events) => {
        delete events[0]!.location;
      });
      const synced = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: user.auth });
      assert.equal(synced.status, 200, JSON.stringify(synced.body));
      const after = await rows();
      assert.equal(after[calendarBot]!.status, 'InMeeting');
      assert.deepEqual([after[calendarBot]!.source, after[calendarBot]!.events.map((e) => [e.event_id, e.title, e.calendar_id, e.is_linked])],
        ['calendar', [[eventId, 'Kept meeting', calendarId, false]]], 'from its calendar, with the event it had, no longer linked');
      assert.deepEqual([after[apiBot]!.source, after[apiBot]!.events.map((e) => e.is_linked)], ['api', [true]]);
      // Filtered by the calendar its row names, it is still there (and the API's bot is not).
      const filtered = (await rc.request('GET', `/api/v1/bots/upcoming?calendar_id=${calendarId}`, { auth: user.auth })).body.bots as Row[];
      assert.deepEqual(filtered.map((b) => b.bot_id), [calendarBot]);
    });

    test('filtered by a calendar, a bot with a linked event elsewhere is not listed for an event of it that let go', async () => {
      const user = await rc.newUser('gus');
      const feedA = feeds.createFeed('Gus A');
      const feedB = feeds.createFeed('Gus B');
      const start = clock.now() + 3 * 86_400_000;
      // One meeting on two calendars: one bot for both events.
      for (const feed of [feedA, feedB]) {
        feeds.edit(feed, (events) => {
          events.push({ uid: `both@${feed}`, summary: 'Shared meeting', startMs: start, endMs: start + 3_600_000, location: 'https://zoom.us/j/86666666666' });
        });
      }
      const calendars: string[] = [];
      for (const feed of [feedA, feedB]) {
        const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: user.auth, body: { ics_url: feed } });
        assert.equal(connected.status, 200, JSON.stringify(connected.body));
        calendars.push(connected.body.calendar_id as string);
      }
      const eventOf = async (calendarId: string) => ((await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start - 60_000).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: user.auth })).body.results as { id: string }[])[0]!.id;
      const botId = await schedule(user.auth, await eventOf(calendars[0]!), 'gus-shared');
      assert.equal(await schedule(user.auth, await eventOf(calendars[1]!), 'gus-shared'), botId, 'the same bot');
      const ids = async (calendarId: string) => ((await rc.request('GET', `/api/v1/bots/upcoming?calendar_id=${calendarId}`, { auth: user.auth })).body.bots as { bot_id: string }[]).map((b) => b.bot_id);
      assert.deepEqual([await ids(calendars[0]!), await ids(calendars[1]!)], [[botId], [botId]]);
      // Calendar A's event loses its link: the bot stays for B's.
      feeds.edit(feedA, (events) => {
        delete events[0]!.location;
      });
      assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${calendars[0]}/sync`, { auth: user.auth })).status, 200);
      assert.deepEqual([await ids(calendars[0]!), await ids(calendars[1]!)], [[], [botId]], 'its row names B\'s event only');
    });
  });

  describe('webhook deliveries', () => {
    test('failures show with attempts, next retry and last error; redelivery sends again with the same webhook-id', async () => {
      const user = await rc.newUser('gina');
      hooks.respond = () => ({ status: 503 });
      const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 3 * 86_400_000), 'hooked', { callback_url: `${hooksUrl}/gina` });
      await schedule(user.auth, await createEvent(user.auth, NOW + 3 * 86_400_000 + 60_000), 'quiet');
      const pending = await rc.request('GET', '/api/v1/webhooks/deliveries', { auth: user.auth });
      assert.equal(pending.body.deliveries.length, 1, 'a bot without callback_url sends nothing');
      assert.equal(pending.body.deliveries[0].status, 'pending');
      await rc.webhooks.runDue();
      const failing = await rc.request('GET', '/api/v1/webhooks/deliveries?status=failing', { auth: user.auth });
      const delivery = failing.body.deliveries[0];
      assert.deepEqual({ ...delivery, delivery_id: undefined, created_at: undefined, next_attempt_at: undefined }, {
        delivery_id: undefined, bot_id: botId, meeting_title: 'Meeting', bot_name: 'Rollcall Notetaker', event: 'bot.scheduled', payload_event: 'bot.scheduled', bot_status: 'Scheduled', url: `${hooksUrl}/gina`, status: 'retrying', attempts: 1,
        next_attempt_at: undefined, last_error: 'HTTP 503', created_at: undefined, delivered_at: null, queued_behind: null,
      });
      const retryInMs = Date.parse(delivery.next_attempt_at) - clock.now();
      assert.ok(retryInMs > 0 && retryInMs <= 10_000, `next retry in ${retryInMs} ms`);
      assert.deepEqual((await rc.request('GET', '/api/v1/webhooks/deliveries?status=delivered', { auth: user.auth })).body.deliveries, []);
      assert.deepEqual((await rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: user.auth })).body.deliveries.map((d: { delivery_id: string }) => d.delivery_id), [delivery.delivery_id]);
      assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: bob.auth })).body.code, 'bot_not_found');
      assert.deepEqual((await rc.request('GET', '/api/v1/webhooks/deliveries', { auth: bob.auth })).body.deliveries.filter((d: { bot_id: string }) => d.bot_id === botId), []);

      const foreign = await rc.request('POST', `/api/v1/webhooks/deliveries/${delivery.delivery_id}/redeliver`, { auth: bob.auth });
      assert.equal(`${foreign.status} ${foreign.body.code}`, '404 delivery_not_found');
      hooks.respond = () => ({ status: 200 });
      // Not due for another 5 s: without the redelivery nothing goes out now.
      assert.equal(await rc.webhooks.runDue(), 0);
      const redelivered = await rc.request('POST', `/api/v1/webhooks/deliveries/${delivery.delivery_id}/redeliver`, { auth: user.auth });
      assert.equal(redelivered.status, 200);
      assert.equal(redelivered.body.status, 'retrying');
      assert.equal(redelivered.body.next_attempt_at, new Date(clock.now()).toISOString());
      assert.equal(await rc.webhooks.runDue(), 1);
      const done = (await rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: user.auth })).body.deliveries[0];
      assert.equal(done.status, 'delivered');
      assert.equal(done.attempts, 2);
      const sent = hooks.received.filter((r) => r.url === '/gina');
      assert.equal(sent.length, 2);
      assert.equal(sent[0]!.headers['webhook-id'], sent[1]!.headers['webhook-id']);
      assert.equal(sent[1]!.headers['webhook-id'], delivery.delivery_id);

      // A delivered one can be sent once more: queued (pending, nothing failed), its earlier
      // delivery time kept; an unknown id is a 404.
      const again = await rc.request('POST', `/api/v1/webhooks/deliveries/${delivery.delivery_id}/redeliver`, { auth: user.auth });
      assert.deepEqual([again.body.status, again.body.last_error, again.body.delivered_at !== null], ['pending', null, true]);
      assert.equal(await rc.webhooks.runDue(), 1);
      assert.equal(hooks.received.filter((r) => r.url === '/gina').length, 3);
      assert.equal((await rc.request('POST', '/api/v1/webhooks/deliveries/msg_zzzzzzzzzzzzzzzzzzzzzz/redeliver', { auth: user.auth })).status, 404);
    });

    test('a delivery names its bot by its meeting and name, and gives the payload\'s event beside its bot_event', async () => {
      const user = await rc.newUser('olga');
      hooks.respond = () => ({ status: 503 });
      const calendarBot = await schedule(user.auth, await createEvent(user.auth, NOW + 3 * 86_400_000, { title: 'Ops review' }), 'ops', { bot_name: 'Scribe', callback_url: `${hooksUrl}/olga` });
      const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: user.auth, body: { meeting_link: 'https://zoom.us/j/85555555555', bot_name: 'Instant', join_at: new Date(NOW + 3 * 86_400_000).toISOString(), callback_url: `${hooksUrl}/olga` } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${calendarBot}`, { auth: user.auth })).status, 200);
      type Listed = { delivery_id: string; bot_id: string; meeting_title: string; bot_name: string; event: string; payload_event: string };
      const listed = async () => (await rc.request('GET', '/api/v1/webhooks/deliveries', { auth: user.auth })).body.deliveries as Listed[];
      const named = (d: Listed) => [d.bot_id, d.meeting_title, d.bot_name, d.event, d.payload_event];
      assert.deepEqual((await listed()).map(named), [
        [calendarBot, 'Ops review', 'Scribe', 'bot.cancelled', 'bot.stopped'],
        [created.body.bot_id, 'zoom.us', 'Instant', 'bot.scheduled', 'bot.scheduled'],
        [calendarBot, 'Ops review', 'Scribe', 'bot.scheduled', 'bot.scheduled'],
      ], 'the cancelled meeting\'s title though the bot let go of its event; a bot without events by its link\'s host');
      // What the receiver gets is what the list says.
      hooks.respond = () => ({ status: 200 });
      await rc.webhooks.runDue();
      const sent = hooks.received.filter((r) => r.url === '/olga' && r.json?.bot_id === calendarBot).map((r) => [r.json?.bot_event, r.json?.event]);
      assert.deepEqual(sent, [['bot.scheduled', 'bot.scheduled'], ['bot.cancelled', 'bot.stopped']]);
      // A redelivery answers the delivery named as the list names it.
      const adHoc = (await listed()).find((d) => d.bot_id === created.body.bot_id)!;
      const again = await rc.request('POST', `/api/v1/webhooks/deliveries/${adHoc.delivery_id}/redeliver`, { auth: user.auth });
      assert.deepEqual(named(again.body), named(adHoc));
      // Once its data is deleted, nothing names it.
      assert.equal((await rc.request('DELETE', `/api/v1/bots/${calendarBot}/delete`, { auth: user.auth })).status, 200);
      const notice = (await listed()).find((d) => d.bot_id === calendarBot)!;
      assert.deepEqual(named(notice), [calendarBot, '', '', 'data_deletion', 'data_deletion']);
    });

    test('a message the receiver refuses (422) is set aside after five attempts and the bot\'s later ones go on; an outage (503, 429, a 401 after a secret change) keeps the line', async () => {
      const user = await rc.newUser('ines');
      // The receiver refuses bot.scheduled (an event it does not know) and takes the rest.
      hooks.respond = (r) => ({ status: r.url === '/ines' && r.json?.event === 'bot.scheduled' ? 422 : 200 });
      const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000), 'refused', { callback_url: `${hooksUrl}/ines` });
      const cancelled = await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: user.auth });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      const sentTo = () => hooks.received.filter((r) => r.url === '/ines').map((r) => `${r.json?.event} ${r.json?.bot_event}`);
      const states = async () => (await rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: user.auth })).body.deliveries.map((d: { event: string; status: string; attempts: number }) => [d.event, d.status, d.attempts]);
      for (let attempt = 1; attempt <= 4; attempt++) {
        await rc.webhooks.runDue();
        clock.advance(3_600_000);
      }
      assert.deepEqual(sentTo(), Array(4).fill('bot.scheduled bot.scheduled'), 'the line holds while the refusal is asked again');
      await rc.webhooks.runDue();
      await rc.webhooks.runDue();
      assert.deepEqual(sentTo().slice(4), ['bot.scheduled bot.scheduled', 'bot.stopped bot.cancelled']);
      assert.deepEqual((await states()).sort(), [['bot.cancelled', 'delivered', 1], ['bot.scheduled', 'failed', 5]]);

      // An outage: 503s, a 429 and 401s (a receiver not yet on the new secret) later, the first
      // message still holds the second back.
      const other = await rc.newUser('jon');
      hooks.respond = (r) => {
        const sent = hooks.received.filter((x) => x.url === '/jon').length;
        return { status: r.url !== '/jon' ? 200 : sent === 3 ? 429 : sent >= 5 ? 401 : 503 };
      };
      const held = await schedule(other.auth, await createEvent(other.auth, NOW + 5 * 86_400_000 + 60_000), 'outage', { callback_url: `${hooksUrl}/jon` });
      await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${held}`, { auth: other.auth });
      for (let attempt = 1; attempt <= 7; attempt++) {
        await rc.webhooks.runDue();
        clock.advance(3_600_000);
      }
      assert.deepEqual(hooks.received.filter((r) => r.url === '/jon').map((r) => r.json?.event), Array(7).fill('bot.scheduled'));
    });

    test('a receiver that redirects (301 to its new address) is not followed; the message is set aside like a refusal, and the error says where it pointed', async () => {
      const user = await rc.newUser('ivo');
      // Webhooks follow no redirect (docs/security.md): waiting does not change a moved address.
      hooks.respond = (r) => (r.url === '/ivo' ? { status: 301, headers: { location: 'https://hooks.example.com/ivo' } } : { status: 200 });
      const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000 + 180_000), 'moved', { callback_url: `${hooksUrl}/ivo` });
      await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${botId}`, { auth: user.auth });
      for (let attempt = 1; attempt <= 5; attempt++) {
        await rc.webhooks.runDue();
        clock.advance(3_600_000);
      }
      const deliveries = (await rc.request('GET', `/api/v1/bots/${botId}/deliveries`, { auth: user.auth })).body.deliveries;
      const scheduled = deliveries.find((d: { event: string }) => d.event === 'bot.scheduled');
      assert.deepEqual([scheduled.status, scheduled.attempts, scheduled.last_error], ['failed', 5, 'HTTP 301 (webhooks do not follow redirects; it points to https://hooks.example.com/ivo)']);
      assert.equal(hooks.received.filter((r) => r.url === '/ivo').length, 6, 'five tries of bot.scheduled, then bot.cancelled\'s turn');
      assert.ok(hooks.received.every((r) => !r.url.startsWith('/ivo') || r.method === 'POST'));
    });

    test('a receiver that asks for a pause (429 or 503 with Retry-After) is not sent to again before it ends, up to an hour', async () => {
      const user = await rc.newUser('kai');
      // Standard Webhooks, "Delivery success and failure": a 429 or 503 may say when to retry.
      hooks.respond = (r) => (r.url === '/kai' ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 });
      await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000 + 120_000), 'paused', { callback_url: `${hooksUrl}/kai` });
      await rc.webhooks.runDue();
      const [row] = await rc.database.db.selectFrom('webhook_deliveries').select(['next_attempt_at_ms', 'attempts']).where('user_id', '=', user.userId).execute();
      assert.equal(row!.attempts, 1);
      assert.ok(Number(row!.next_attempt_at_ms) - clock.now() >= 600_000, `next attempt in ${Number(row!.next_attempt_at_ms) - clock.now()} ms`);
      hooks.respond = (r) => (r.url === '/kai' ? { status: 503, headers: { 'retry-after': '86400' } } : { status: 200 });
      clock.advance(600_000);
      await rc.webhooks.runDue();
      const [later] = await rc.database.db.selectFrom('webhook_deliveries').select(['next_attempt_at_ms', 'attempts']).where('user_id', '=', user.userId).execute();
      assert.equal(later!.attempts, 2);
      const wait = Number(later!.next_attempt_at_ms) - clock.now();
      assert.ok(wait >= 3_000_000 && wait <= 3_600_000, `a day asked for is an hour at most: ${wait} ms`);
    });

    test('a receiver that does not answer holds only its own messages: another user\'s, queued after it, go out meanwhile; a trickling body does not hold an answer given', async () => {
      const slow = await rc.newUser('lena');
      const quick = await rc.newUser('milo');
      const trickling = await rc.newUser('nia');
      let release!: () => void;
      const hung = new Promise<void>((resolve) => { release = resolve; });
      hooks.respond = (r) => (r.url === '/lena' ? { status: 200, release: hung } : r.url === '/nia' ? { status: 200, body: { ok: true }, holdBody: hung } : { status: 200 });
      const stateOf = async (userId: string) => (await rc.database.db.selectFrom('webhook_deliveries').select(['state', 'attempts']).where('user_id', '=', userId).execute()).map((d) => `${d.state} ${d.attempts}`);
      rc.webhooks.start();
      try {
        await schedule(slow.auth, await createEvent(slow.auth, NOW + 6 * 86_400_000), 'hung', { callback_url: `${hooksUrl}/lena` });
        await hooks.waitFor(() => hooks.received.some((r) => r.url === '/lena'));
        // lena's receiver now holds its request open (the webhook timeout is far off).
        await schedule(quick.auth, await createEvent(quick.auth, NOW + 6 * 86_400_000 + 60_000), 'quick', { callback_url: `${hooksUrl}/milo` });
        await schedule(trickling.auth, await createEvent(trickling.auth, NOW + 6 * 86_400_000 + 120_000), 'trickle', { callback_url: `${hooksUrl}/nia` });
        const deadline = Date.now() + 5_000;
        while ((await stateOf(quick.userId))[0] !== 'delivered 1' || (await stateOf(trickling.userId))[0] !== 'delivered 1') {
          assert.ok(Date.now() < deadline, `milo ${await stateOf(quick.userId)}, nia ${await stateOf(trickling.userId)} while lena's receiver hangs`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual(await stateOf(slow.userId), ['pending 0'], 'lena\'s is still under way');
      } finally {
        release();
        await rc.webhooks.stop();
      }
      assert.deepEqual(await stateOf(slow.userId), ['delivered 1'], 'stopping waits for the attempt under way to be recorded');
    });

    test('a message queued behind an older one of its bot to the same URL names it, under any filter and page', async () => {
      const user = await rc.newUser('mona');
      hooks.respond = (r) => ({ status: r.url === '/mona' ? 503 : 200 });
      try {
        const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000), 'queued', { callback_url: `${hooksUrl}/mona` });
        await rc.webhooks.runDue();
        // bot.scheduled failed and is retried later; bot.cancelled queues behind it.
        assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth })).status, 200);
        type Listed = { delivery_id: string; event: string; status: string; next_attempt_at: string | null; queued_behind: unknown };
        const list = async (path: string) => (await rc.request('GET', path, { auth: user.auth })).body.deliveries as Listed[];
        const [queued, head] = await list('/api/v1/webhooks/deliveries') as [Listed, Listed];
        assert.deepEqual([queued.event, queued.status, head.event, head.status], ['bot.cancelled', 'pending', 'bot.scheduled', 'retrying']);
        assert.ok(Date.parse(head.next_attempt_at!) > clock.now(), 'the older one is retried later');
        const behind = { delivery_id: head.delivery_id, event: 'bot.scheduled', next_attempt_at: head.next_attempt_at };
        assert.deepEqual(queued.queued_behind, behind);
        assert.equal(head.queued_behind, null, 'the oldest waits for nothing');
        // The older one is not on these lists, and the queued one still names it.
        for (const path of ['/api/v1/webhooks/deliveries?status=pending', '/api/v1/webhooks/deliveries?limit=1', `/api/v1/bots/${botId}/deliveries?status=pending`]) {
          assert.deepEqual((await list(path)).map((d) => [d.delivery_id, d.queued_behind]), [[queued.delivery_id, behind]], path);
        }
        // Once the older one is delivered, the line moves on.
        hooks.respond = () => ({ status: 200 });
        const redelivered = await rc.request('POST', `/api/v1/webhooks/deliveries/${head.delivery_id}/redeliver`, { auth: user.auth });
        assert.equal(redelivered.body.queued_behind, null);
        const [stillQueued] = await list('/api/v1/webhooks/deliveries?status=pending') as [Listed];
        assert.deepEqual(stillQueued.queued_behind, { ...behind, next_attempt_at: new Date(clock.now()).toISOString() }, 'the older one is due now');
        await rc.webhooks.runDue();
        await rc.webhooks.runDue();
        assert.deepEqual((await list('/api/v1/webhooks/deliveries')).map((d) => [d.status, d.queued_behind]), [['delivered', null], ['delivered', null]]);
      } finally {
        hooks.respond = () => ({ status: 200 });
      }
    });

    test('newest first, paged by cursor', async () => {
      const user = await rc.newUser('hal');
      const bots: string[] = [];
      for (let i = 0; i < 3; i++) bots.push(await schedule(user.auth, await createEvent(user.auth, NOW + 4 * 86_400_000 + i * 60_000), `p-${i}`, { callback_url: `${hooksUrl}/hal` }));
      const first = await rc.request('GET', '/api/v1/webhooks/deliveries?limit=2', { auth: user.auth });
      assert.deepEqual(first.body.deliveries.map((d: { bot_id: string }) => d.bot_id), [bots[2], bots[1]]);
      const second = await rc.request('GET', `/api/v1/webhooks/deliveries?limit=2&cursor=${first.body.next}`, { auth: user.auth });
      assert.deepEqual(second.body.deliveries.map((d: { bot_id: string }) => d.bot_id), [bots[0]]);
      assert.equal(second.body.next, null);
    });
  });

  describe('status changes', () => {
    test('as a page: the user\'s own changes after an id, oldest first', async () => {
      const user = await rc.newUser('ivan');
      const start = (await rc.request('GET', '/api/v1/bots/status-changes', { auth: user.auth })).body;
      assert.deepEqual(start, { changes: [], last_id: null, has_more: false });
      const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 5 * 86_400_000), 'ivan-1');
      await schedule(bob.auth, await createEvent(bob.auth, NOW + 5 * 86_400_000), 'bob-ivan');
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth });
      const page = (await rc.request('GET', '/api/v1/bots/status-changes', { auth: user.auth })).body;
      assert.deepEqual(page.changes.map((c: StatusChange) => `${c.bot_id} ${c.status}`), [`${botId} Scheduled`, `${botId} Cancelled`]);
      const after = (await rc.request('GET', `/api/v1/bots/status-changes?after=${page.changes[0].id}&limit=1`, { auth: user.auth })).body;
      assert.deepEqual(after.changes.map((c: StatusChange) => c.status), ['Cancelled']);
      assert.equal(after.last_id, page.changes[1].id);
    });

    test('as a live stream: changes arrive as they happen; a reconnect with Last-Event-ID gets what it missed', async () => {
      const url = `${await baseUrl()}/api/v1/bots/status-changes`;
      const user = await rc.newUser('judy');
      const first = openStream(url, { authorization: user.auth });
      assert.equal((await first.response).headers.get('content-type'), 'text/event-stream; charset=utf-8');
      await first.waitForText('retry: 3000');
      const botId = await schedule(user.auth, await createEvent(user.auth, NOW + 6 * 86_400_000), 'judy-1');
      await schedule(bob.auth, await createEvent(bob.auth, NOW + 6 * 86_400_000), 'bob-judy');
      const scheduled = await first.nextEvent();
      assert.equal(scheduled.event, 'status');
      assert.deepEqual({ ...scheduled.data, at: undefined, id: undefined }, { bot_id: botId, status: 'Scheduled', reason: 'Scheduled through the API', at: undefined, id: undefined });
      assert.equal(scheduled.id, String(scheduled.data.id));
      first.close();

      // While nobody listens the bot is cancelled; the reconnect says where it left off.
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: user.auth });
      const second = openStream(url, { authorization: user.auth, 'last-event-id': scheduled.id });
      const missed = await second.nextEvent();
      assert.deepEqual([missed.data.bot_id, missed.data.status], [botId, 'Cancelled']);
      // A session cookie works as well as a key.
      const session = await signIn(user.auth);
      const third = openStream(url, { cookie: session.cookie });
      await third.waitForText('retry: 3000');
      const other = await schedule(user.auth, await createEvent(user.auth, NOW + 6 * 86_400_000 + 60_000), 'judy-2');
      assert.equal((await third.nextEvent()).data.bot_id, other);
      assert.equal((await second.nextEvent()).data.bot_id, other, 'every open stream gets it');
      assert.equal(rc.app.server.listening, true);
      second.close();
      // Closing the app ends open streams at once rather than waiting for them.
      const startedAt = performance.now();
      await rc.app.close();
      assert.ok(performance.now() - startedAt < 3000, `close took ${Math.round(performance.now() - startedAt)} ms`);
      await third.ended;
    });
  });
});

describe('live stream across instances', () => {
  test('a change made through one instance reaches a stream opened on another that shares the database', async () => {
    const first = await startTestRollcall();
    // A second process's worth of Rollcall on the same database (same SQLite file, or same PostgreSQL schema).
    const second = await createRollcall(testConfig({ DATABASE_URL: first.testDatabase.url }), {
      database: await first.testDatabase.open(), logger: createLogger('silent'), collectDefaultMetrics: false,
    });
    try {
      await second.app.listen({ port: 0, host: '127.0.0.1' });
      const user = await first.newUser('mia');
      const stream = openStream(`http://127.0.0.1:${(second.app.server.address() as { port: number }).port}/api/v1/bots/status-changes`, { authorization: user.auth });
      await stream.waitForText('retry: 3000');
      const event = await first.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'z', start_time: new Date(Date.now() + 86_400_000).toISOString(), end_time: new Date(Date.now() + 90_000_000).toISOString(), meeting_url: 'https://zoom.us/j/81234599999' } });
      const bot = await first.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'elsewhere', bot_config: {} } });
      const change = await stream.nextEvent();
      assert.deepEqual([change.data.bot_id, change.data.status], [bot.body.bot_id, 'Scheduled']);
      stream.close();
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('status change feed: ids that commit out of order', () => {
  let rc: TestRollcall;
  before(async () => {
    rc = await startTestRollcall();
  });
  after(async () => {
    await rc.close();
  });

  test('a row that shows up below ones already seen is still delivered, once', async () => {
    const user = await rc.newUser('kim');
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'x', start_time: new Date(Date.now() + 86_400_000).toISOString(), end_time: new Date(Date.now() + 90_000_000).toISOString(), meeting_url: 'https://zoom.us/j/81234512345' } });
    const bot = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'k', bot_config: {} } });
    const feed = new StatusChangeFeed({ db: rc.database.db, logger: createLogger('silent'), pollIntervalMs: 60_000 });
    const received: number[] = [];
    const unsubscribe = await feed.subscribe(user.userId, (change) => received.push(change.id));
    const max = Number((await rc.database.db.selectFrom('bot_status_changes').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m);
    const insert = (id: number) => rc.database.db.insertInto('bot_status_changes').values({ id, bot_id: bot.body.bot_id, at_ms: Date.now(), status: 'Scheduled', reason: `row ${id}` } as never).execute();
    // A writer took max+1 and max+2 but committed only max+3 so far (as PostgreSQL allows).
    await insert(max + 3);
    await feed.pollNow();
    assert.deepEqual(received, [max + 3]);
    await insert(max + 1);
    await feed.pollNow();
    await insert(max + 2);
    await insert(max + 4);
    await feed.pollNow();
    await feed.pollNow();
    assert.deepEqual(received, [max + 3, max + 1, max + 2, max + 4]);
    unsubscribe();
    await feed.stop();
  });

  test('with nobody subscribed the loop stops, and a new subscriber starts from now', async () => {
    const feed = new StatusChangeFeed({ db: rc.database.db, logger: createLogger('silent'), pollIntervalMs: 20 });
    const user = await rc.newUser('lee');
    const seen: StatusChange[] = [];
    const unsubscribe = await feed.subscribe(user.userId, (change) => seen.push(change));
    assert.equal(feed.subscriberCount, 1);
    unsubscribe();
    assert.equal(feed.subscriberCount, 0);
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'y', start_time: new Date(Date.now() + 86_400_000).toISOString(), end_time: new Date(Date.now() + 90_000_000).toISOString(), meeting_url: 'https://zoom.us/j/81234567777' } });
    await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'old', bot_config: {} } });
    const later: StatusChange[] = [];
    const again = await feed.subscribe(user.userId, (change) => later.push(change));
    await feed.pollNow();
    assert.deepEqual(later, [], 'a change from before the subscription is not news');
    assert.deepEqual(seen, []);
    again();
    await feed.stop();
  });
});

interface StreamEvent {
  id: string;
  event: string;
  data: any;
}

/** Reads a text/event-stream with fetch, event by event. */
function openStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  let buffer = '';
  const waiting: (() => void)[] = [];
  let resolveEnded: () => void;
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const response = fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  void response.then(async (res) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (const wake of waiting.splice(0)) wake();
      }
    } catch {
      // aborted
    }
    resolveEnded();
  }, () => resolveEnded());
  const waitFor = async <T>(take: () => T | undefined, what: string): Promise<T> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`no ${what} within 10 s; stream so far: ${JSON.stringify(buffer)}`);
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return {
    response,
    ended,
    close: () => controller.abort(),
    waitForText: (text: string) => waitFor(() => (buffer.includes(text) ? true : undefined), JSON.stringify(text)),
    nextEvent: () => waitFor(() => {
      const match = /(?:^|\n\n)(id: [^\n]*\nevent: [^\n]*\ndata: [^\n]*)\n\n/.exec(buffer);
      if (!match) return undefined;
      buffer = buffer.slice(match.index + match[0].length);
      const fields = Object.fromEntries(match[1]!.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      return { id: fields.id!, event: fields.event!, data: JSON.parse(fields.data!) } as StreamEvent;
    }, 'event'),
  };
}

describe('live status streams per user', () => {
  let rc: TestRollcall;
  before(async () => {
    rc = await startTestRollcall();
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    // fetch opens a connection again after each stream it aborts and sends nothing on it, and
    // keeps one for the 72 s its answer before offered; the stop does not wait for them.
    const startedAt = performance.now();
    await rc.close();
    assert.ok(performance.now() - startedAt < 5000, `the stop took ${Math.round(performance.now() - startedAt)} ms`);
  });

  test('20 at once per user; the 21st is 429 too_many_streams, and one closed makes room; another user is not held back', async () => {
    const address = rc.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}/api/v1/bots/status-changes`;
    const user = await rc.newUser('streamer');
    const other = await rc.newUser('neighbour');
    const streams = Array.from({ length: 20 }, () => openStream(url, { authorization: user.auth }));
    try {
      for (const stream of streams) await stream.waitForText('retry: 3000');
      const refused = await fetch(url, { headers: { accept: 'text/event-stream', authorization: user.auth } });
      assert.equal(refused.status, 429);
      const body = await refused.json() as { code: string; error: string };
      assert.equal(body.code, 'too_many_streams');
      assert.match(body.error, /At most 20 live status streams/);
      const neighbour = openStream(url, { authorization: other.auth });
      await neighbour.waitForText('retry: 3000');
      neighbour.close();
      // A page of changes (not a stream) is not held back either.
      assert.equal((await rc.request('GET', '/api/v1/bots/status-changes', { auth: user.auth })).status, 200);
      streams.pop()!.close();
      let again: ReturnType<typeof openStream> | null = null;
      for (const deadline = Date.now() + 5000; ;) {
        const attempt = openStream(url, { authorization: user.auth });
        if ((await attempt.response).status === 200) { again = attempt; break; }
        attempt.close();
        assert.ok(Date.now() < deadline, 'a closed stream makes room');
        await new Promise((r) => setTimeout(r, 100));
      }
      await again.waitForText('retry: 3000');
      again.close();
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});

describe('live status streams whose client goes away while the key is checked', () => {
  let rc: TestRollcall;
  // Every query answers 300 ms late while on: the client is gone before its key is checked.
  const slow = slowQueries(300);
  before(async () => {
    rc = await startTestRollcall({ plugins: [slow.plugin] });
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => rc.close());

  test('a stream whose client went away while it was being authorised holds no place and no timer', async () => {
    const { port } = rc.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/api/v1/bots/status-changes`;
    const user = await rc.newUser('hasty');
    slow.isOn = true;
    try {
      // 25 ask for a stream and are gone before their key is checked.
      await Promise.all(Array.from({ length: 25 }, async () => {
        const socket = connect(port, '127.0.0.1');
        await once(socket, 'connect');
        socket.write(`GET /api/v1/bots/status-changes HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: ${user.auth}\r\n\r\n`);
        await new Promise((r) => setTimeout(r, 50));
        socket.destroy();
      }));
      // Until every key check has been answered and its request handled.
      for (const deadline = Date.now() + 20_000; slow.holding > 0 || Date.now() < deadline - 19_000; await new Promise((r) => setTimeout(r, 50))) {
        assert.ok(Date.now() < deadline, 'the key checks were answered');
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      slow.isOn = false;
    }
    // Left open, each would hold one of the user's 20 places (and a keep-alive timer) for ever.
    const streams = Array.from({ length: 20 }, () => openStream(url, { authorization: user.auth }));
    try {
      for (const stream of streams) assert.equal((await stream.response).status, 200, 'the 20 places are all free');
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});

describe('dashboard sessions whose last use cannot be written', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  const lines: { level: number; msg: string }[] = [];
  // While `isFull`, every update of dashboard_sessions is refused before it reaches the database,
  // with the message SQLite gives when its disk is full.
  let isFull = false;
  let refused = 0;
  const fullDisk: KyselyPlugin = {
    transformQuery: (args) => {
      const node = args.node as { kind: string; table?: { table?: { identifier?: { name?: string } } } };
      if (isFull && node.kind === 'UpdateQueryNode' && node.table?.table?.identifier?.name === 'dashboard_sessions') {
        refused++;
        throw new Error('database or disk is full');
      }
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  before(async () => {
    const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    rc = await startTestRollcall({ clock, plugins: [fullDisk], overrides: { logger } });
  });
  after(() => rc.close());

  test('a read is answered all the same, the failure is warned of once (then at debug) and said when it is over; the session idles from its last recorded use', async () => {
    const user = await rc.newUser('kate');
    const signedIn = await rc.request('POST', '/dashboard/session', { body: { api_key: user.auth.slice('Token '.length) } });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    const hash = createHash('sha256').update(cookie.split('=')[1]!).digest('hex');
    const lastSeen = async () => (await rc.database.db.selectFrom('dashboard_sessions').select('last_seen_at').where('token_hash', '=', hash).executeTakeFirstOrThrow()).last_seen_at;
    const about = () => lines.filter((line) => line.msg.includes('last use'));
    isFull = true;
    for (const minute of [5, 10, 15]) {
      clock.set(NOW + minute * 60_000);
      const read = await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie } });
      assert.equal(read.status, 200, JSON.stringify(read.body));
    }
    assert.equal(refused, 3, 'each read tried to record its use');
    assert.equal(await lastSeen(), null);
    assert.deepEqual(about().map((line) => line.level), [40, 20, 20], 'one warning, then debug');
    isFull = false;
    clock.set(NOW + 20 * 60_000);
    assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie } })).status, 200);
    assert.equal(await lastSeen(), NOW + 20 * 60_000);
    assert.deepEqual(about().map((line) => line.level), [40, 20, 20, 30], 'said once it is recorded again');
    // The uses not recorded do not count: idle from the last one recorded.
    clock.set(NOW + 50 * 60_000);
    assert.equal((await rc.request('GET', '/api/v1/bots/upcoming', { headers: { cookie } })).status, 401);
    clock.set(NOW);
  });
});
