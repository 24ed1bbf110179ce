// SSRF through the one outbound client: a host the deployment allows redirects to every spelling
// of a private address, and a second local server stands for the private target, counting every
// request it receives, which must stay at zero. Shown at the client, and end to end through the
// API: ICS feeds (connecting and syncing, with nothing of the private side readable through the
// events API), stored webhook callback URLs re-checked at send time, and the port-scanner oracle
// (an open and a closed private port must look the same).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { OutboundGuard, systemResolveHost, type ResolveHost } from '../../src/adapters/outbound-guard.ts';
import { OutboundError, OutboundHttp, type OutboundRequest } from '../../src/adapters/outbound-http.ts';
import { createRollcall, type Rollcall } from '../../src/container.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createTestDatabase, startTestRollcall, testConfig, type TestDatabase, type TestRollcall } from '../support/harness.ts';
import { diffSnapshots, snapshotDatabase } from '../support/openapi.ts';

const ALLOWED_HOST = 'feeds.allowed.test';

// Names the test resolves itself (there is no DNS here); anything else goes to the system
// resolver, which knows `localhost` from /etc/hosts.
const NAMES: Record<string, LookupAddress[]> = {
  [ALLOWED_HOST]: [{ address: '127.0.0.1', family: 4 }],
  'private.rollcall.test': [{ address: '127.0.0.1', family: 4 }],
  'v6private.rollcall.test': [{ address: '::1', family: 6 }],
  // One public and one private answer: either could be dialled, so the name is refused.
  'mixed.rollcall.test': [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }],
  'metadata.rollcall.test': [{ address: '169.254.169.254', family: 4 }],
};
const resolveHost: ResolveHost = async (host) => NAMES[host] ?? systemResolveHost(host);

/** Every way of writing "this machine" (or a metadata address) that the URL parser accepts. */
const SPELLINGS = [
  '127.0.0.1', '[::1]', '0', '0.0.0.0', '2130706433', '0x7f.1', '0x7f000001', '127.1', '0177.0.0.1', '[::ffff:7f00:1]', '[::ffff:127.0.0.1]',
  '[::7f00:1]', '[::a9fe:a9fe]', '[::]', '169.254.169.254', '[fd00:ec2::254]', '[64:ff9b::7f00:1]', '[2002:7f00:1::]',
  'localhost', 'private.rollcall.test', 'v6private.rollcall.test', 'mixed.rollcall.test', 'metadata.rollcall.test',
];
/** The spellings a plain, unguarded client does reach the private server with (the control). */
const REACHABLE = ['127.0.0.1', '[::1]', '0', '0.0.0.0', '2130706433', '0x7f.1', '0x7f000001', '127.1', '0177.0.0.1', '[::ffff:7f00:1]', '[::ffff:127.0.0.1]', 'localhost'];
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

const HOUR = 3_600_000;

function icsFeed(title: string, startMs: number): string {
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//SSRF//EN',
    'BEGIN:VEVENT', `UID:${title}@rollcall.test`, `DTSTAMP:${stamp(startMs)}`, `DTSTART:${stamp(startMs)}`, `DTEND:${stamp(startMs + HOUR)}`,
    `SUMMARY:${title}`, 'LOCATION:https://zoom.us/j/123456789', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\r\n');
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, '::');
  await stop(probe);
  return port;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * The private target: on every address of this machine (IPv4 and IPv6), serving a valid
 * calendar whose event title marks anything that leaked from it. It counts every request.
 */
class PrivateTarget {
  hits = 0;
  readonly marker = 'PRIVATE-SIDE-SECRET';
  readonly #server = createServer((request, response) => {
    this.hits++;
    response.writeHead(200, { 'content-type': 'text/calendar' });
    response.end(icsFeed(this.marker, Date.now() + 2 * HOUR));
  });
  port = 0;

  async start(): Promise<void> {
    this.port = await listen(this.#server, '::');
  }

  stop(): Promise<void> {
    return stop(this.#server);
  }
}

/**
 * The host the deployment allows: it redirects as feed hosts do (RFC 9110 section 15.4: 301, 302,
 * 303, 307 and 308 with a Location that may be relative; https://www.rfc-editor.org/rfc/rfc9110#section-15.4).
 * Paths: /redirect/STATUS?to=URL, /chain/N (N hops back to itself), /feed.ics, /echo (records the
 * request), /slow (never answers), /big (a 1 MB body). `feedPath` can be turned into a redirect.
 */
class AllowedHost {
  readonly received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  /** While set, /feed.ics redirects (302) here instead of serving the feed. */
  feedRedirect: string | null = null;
  readonly #server = createServer(async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://x');
    this.received.push({ method: request.method ?? '', url: url.pathname, headers: request.headers, body });
    const redirect = /^\/redirect\/(\d{3})$/.exec(url.pathname);
    if (redirect) {
      response.writeHead(Number(redirect[1]), { location: url.searchParams.get('to') ?? '/' });
      response.end();
      return;
    }
    const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
    if (chain) {
      const left = Number(chain[1]);
      if (left === 0) response.end('end of chain');
      else {
        response.writeHead(302, { location: `/chain/${left - 1}` });
        response.end();
      }
      return;
    }
    if (url.pathname === '/feed.ics') {
      if (this.feedRedirect !== null) {
        response.writeHead(302, { location: this.feedRedirect });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/calendar' });
      response.end(icsFeed('Public standup', Date.now() + 3 * HOUR));
      return;
    }
    if (url.pathname === '/slow') return; // never answers
    if (url.pathname === '/big') {
      response.end('x'.repeat(1_000_000));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ok: true }));
  });
  port = 0;

  async start(): Promise<void> {
    this.port = await listen(this.#server, '127.0.0.1');
  }

  /** A URL on this host, by its allowed name. */
  url(path: string): string {
    return `http://${ALLOWED_HOST}:${this.port}${path}`;
  }

  redirectTo(status: number, location: string): string {
    return this.url(`/redirect/${status}?to=${encodeURIComponent(location)}`);
  }

  stop(): Promise<void> {
    return stop(this.#server);
  }
}

async function failureOf(http: OutboundHttp, request: OutboundRequest): Promise<OutboundError> {
  try {
    const response = await http.request(request);
    assert.fail(`expected a refusal for ${request.url}, got HTTP ${response.status}`);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    return error;
  }
}

const target = new PrivateTarget();
const allowed = new AllowedHost();
const other = new AllowedHost();

before(async () => {
  await target.start();
  await allowed.start();
  await other.start();
});
after(async () => {
  await target.stop();
  await allowed.stop();
  await other.stop();
});

describe('the outbound client', () => {
  const http = new OutboundHttp({ guard: new OutboundGuard([ALLOWED_HOST], { resolveHost }) });
  const get = (url: string, options: Partial<OutboundRequest> = {}): OutboundRequest => ({ method: 'GET', url, timeoutMs: 3000, guarded: true, redirects: 5, ...options });
  after(() => http.close());

  test('control: without the guard, the private server is reachable by each spelling (so the refusals below are the guard\'s)', async () => {
    const before = target.hits;
    for (const host of REACHABLE) {
      const response = await http.request(get(`http://${host}:${target.port}/`, { guarded: false }));
      assert.equal(response.status, 200, host);
      assert.match(response.body, new RegExp(target.marker), host);
    }
    assert.equal(target.hits - before, REACHABLE.length);
  });

  test('every spelling is refused, asked for directly and through 301/302/303/307/308 redirects from the allowed host, absolute or scheme-relative', async () => {
    const hitsBefore = target.hits;
    for (const host of SPELLINGS) {
      const privateUrl = `http://${host}:${target.port}/secret`;
      const routes = [privateUrl, ...REDIRECT_STATUSES.map((status) => allowed.redirectTo(status, privateUrl)), allowed.redirectTo(302, `//${host}:${target.port}/secret`)];
      for (const url of routes) {
        const failure = await failureOf(http, get(url));
        assert.equal(failure.kind, 'blocked', `${url}: ${failure.message}`);
        // Nothing about the address or the port is in what a caller can show.
        assert.equal(failure.message, 'the address is not allowed (not public)', url);
      }
      const post = await failureOf(http, { method: 'POST', url: allowed.redirectTo(307, privateUrl), body: '{"a":1}', headers: { 'content-type': 'application/json' }, timeoutMs: 3000, guarded: true, redirects: 5 });
      assert.equal(post.kind, 'blocked', host);
    }
    assert.equal(target.hits, hitsBefore, 'the private server received nothing');
  });

  test('redirects within the allowed host are followed; a relative Location stays on it', async () => {
    const response = await http.request(get(allowed.redirectTo(301, '/feed.ics')));
    assert.equal(response.status, 200);
    assert.match(response.body, /Public standup/);
  });

  test('the redirect limit holds per request, and loops end', async () => {
    assert.equal((await http.request(get(allowed.url('/chain/5')))).body, 'end of chain');
    assert.equal((await failureOf(http, get(allowed.url('/chain/6')))).kind, 'too_many_redirects');
    assert.equal((await failureOf(http, get(allowed.redirectTo(302, allowed.redirectTo(302, '/redirect/302?to=%2Fchain%2F99'))))).kind, 'too_many_redirects');
    // Without `redirects`, a 3xx is an answer like any other (webhooks).
    const answer = await http.request(get(allowed.redirectTo(302, `http://127.0.0.1:${target.port}/`), { redirects: 0 }));
    assert.equal(answer.status, 302);
  });

  test('every hop must be http(s): other schemes are refused, unparseable locations are invalid', async () => {
    for (const location of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'gopher://127.0.0.1:70/', 'data:text/plain,hi', 'javascript:alert(1)', 'ws://127.0.0.1/']) {
      assert.equal((await failureOf(http, get(allowed.redirectTo(302, location)))).kind, 'blocked', location);
    }
    assert.equal((await failureOf(http, get(allowed.redirectTo(302, 'http://[::1')))).kind, 'invalid_url');
    assert.equal((await failureOf(http, get('gopher://feeds.allowed.test/'))).kind, 'blocked');
    assert.equal((await failureOf(http, get(`http://user:pass@${ALLOWED_HOST}:${allowed.port}/`))).kind, 'blocked');
  });

  test('a redirect keeps or changes the method as RFC 9110 says, and credentials never cross to another origin', async () => {
    const otherUrl = `http://${ALLOWED_HOST}:${other.port}/echo`;
    const post = (url: string): OutboundRequest => ({ method: 'POST', url, body: '{"n":1}', headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token', 'x-kept': 'yes' }, timeoutMs: 3000, guarded: true, redirects: 5 });

    other.received.length = 0;
    await http.request(post(allowed.redirectTo(303, otherUrl)));
    assert.deepEqual(other.received.map((r) => [r.method, r.body, r.headers.authorization, r.headers['content-type'], r.headers['x-kept']]), [['GET', '', undefined, undefined, 'yes']]);

    other.received.length = 0;
    await http.request(post(allowed.redirectTo(308, otherUrl)));
    assert.deepEqual(other.received.map((r) => [r.method, r.body, r.headers.authorization, r.headers['content-type']]), [['POST', '{"n":1}', undefined, 'application/json']]);

    allowed.received.length = 0;
    await http.request(post(allowed.redirectTo(307, '/echo')));
    assert.deepEqual(allowed.received.slice(-1).map((r) => [r.method, r.body, r.headers.authorization]), [['POST', '{"n":1}', 'Bearer secret-token']], 'same origin keeps everything');
  });

  test('deadlines and size caps', async () => {
    const started = Date.now();
    assert.equal((await failureOf(http, get(allowed.url('/slow'), { timeoutMs: 300 }))).kind, 'timeout');
    assert.ok(Date.now() - started < 2500, 'the deadline covers the whole exchange');
    const big = await http.request(get(allowed.url('/big'), { maxBytes: 1000 }));
    assert.equal(big.isTruncated, true);
    assert.equal(big.body.length, 1000);
    const whole = await http.request(get(allowed.url('/big')));
    assert.equal(whole.isTruncated, false);
    assert.equal(whole.body.length, 1_000_000);
    assert.equal((await failureOf(http, get(`http://127.0.0.1:${await closedPort()}/`, { guarded: false }))).kind, 'unreachable');
  });

  test('no port-scanner oracle: an open and a closed private port are refused alike (and differ without the guard)', async () => {
    const closed = await closedPort();
    const hitsBefore = target.hits;
    const outcome = async (port: number, guarded: boolean) => {
      try {
        // The unguarded client resolves with the system resolver, which does not know the test name.
        const redirect = allowed.redirectTo(302, `http://127.0.0.1:${port}/`).replace(ALLOWED_HOST, guarded ? ALLOWED_HOST : '127.0.0.1');
        return { status: (await http.request(get(redirect, { guarded }))).status };
      } catch (error) {
        return { kind: (error as OutboundError).kind, message: (error as OutboundError).message };
      }
    };
    assert.deepEqual(await outcome(target.port, true), await outcome(closed, true));
    assert.deepEqual(await outcome(target.port, true), { kind: 'blocked', message: 'the address is not allowed (not public)' });
    assert.equal(target.hits, hitsBefore);
    // Control: with the guard off, the two ports are told apart at once.
    assert.deepEqual(await outcome(target.port, false), { status: 200 });
    assert.equal((await outcome(closed, false)).kind, 'unreachable');
  });
});

describe('ICS feeds through the API', () => {
  let rc: TestRollcall;
  let auth: string;

  before(async () => {
    rc = await startTestRollcall({ settings: { OUTBOUND_ALLOWED_HOSTS: ALLOWED_HOST, CALENDAR_HTTP_TIMEOUT_MS: '3000' }, overrides: { resolveHost } });
    auth = (await rc.newUser()).auth;
  });
  after(() => rc.close());

  async function eventTitles(): Promise<string[]> {
    const res = await rc.request('GET', '/api/v1/calendar/events?limit=100', { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.results.map((e: { title: string }) => e.title);
  }

  test('a feed URL that redirects to any private spelling is refused like any invalid feed, and nothing of the private side is stored', async () => {
    const hitsBefore = target.hits;
    const answers = new Set<string>();
    for (const host of SPELLINGS) {
      for (const status of REDIRECT_STATUSES) {
        const res = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: allowed.redirectTo(status, `http://${host}:${target.port}/basic.ics`) } });
        assert.equal(res.status, 400, `${host} ${status}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'calendar_feed_invalid');
        assert.equal(res.body.details?.field, 'ics_url');
        answers.add(JSON.stringify(res.body));
      }
    }
    assert.equal(answers.size, 1, `one answer for every spelling: ${[...answers].join(' | ')}`);
    assert.equal(target.hits, hitsBefore, 'the private server received nothing');
    assert.deepEqual(await eventTitles(), []);
    const connections = await rc.request('GET', '/api/v1/calendar/connections', { auth });
    assert.equal(connections.body.total, 0);
  });

  test('no port-scanner oracle through the API: an open and a closed private port give the same status and text', async () => {
    const closed = await closedPort();
    const connect = (port: number) => rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: allowed.redirectTo(302, `http://127.0.0.1:${port}/basic.ics`) } });
    const open = await connect(target.port);
    const shut = await connect(closed);
    assert.equal(open.status, 400);
    assert.deepEqual({ status: open.status, body: open.body }, { status: shut.status, body: shut.body });
    assert.doesNotMatch(JSON.stringify(open.body), new RegExp(`${target.port}|${closed}|127\\.0\\.0\\.1`), 'neither the address nor the port is echoed');
  });

  test('a connected feed that later redirects somewhere private fails its sync as permanent, and the events API shows nothing of it', async () => {
    allowed.feedRedirect = null;
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: allowed.url('/feed.ics') } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id;
    const first = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth });
    assert.equal(first.body.synced, true, JSON.stringify(first.body));
    assert.deepEqual(await eventTitles(), ['Public standup']);

    const hitsBefore = target.hits;
    const failures = [];
    for (const location of [`http://127.0.0.1:${target.port}/basic.ics`, `http://[::ffff:7f00:1]:${target.port}/`, `http://2130706433:${await closedPort()}/`, `http://localhost:${target.port}/`]) {
      allowed.feedRedirect = location;
      const sync = await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth });
      assert.equal(sync.status, 200, JSON.stringify(sync.body));
      assert.equal(sync.body.synced, false, location);
      failures.push(sync.body.failure);
    }
    allowed.feedRedirect = null;
    assert.deepEqual(failures, Array(4).fill({ kind: 'permanent', message: 'the address is not allowed (not public)' }), 'an open port, a closed one and every spelling look the same');
    assert.equal(target.hits, hitsBefore, 'the private server received nothing');
    assert.deepEqual(await eventTitles(), ['Public standup'], 'the feed keeps its last good state; nothing private appears');
    const view = await rc.request('GET', `/api/v1/calendar/connections/${calendarId}`, { auth });
    assert.equal(view.body.last_error, 'permanent: the address is not allowed (not public)');
  });
});

describe('stored callback URLs are checked again when a webhook is sent', () => {
  let testDatabase: TestDatabase;
  const receiver = new AllowedHost();

  before(async () => {
    testDatabase = await createTestDatabase();
    await receiver.start();
  });
  after(async () => {
    await receiver.stop();
    await testDatabase.drop();
  });

  async function start(settings: Record<string, string>): Promise<Rollcall> {
    return createRollcall(testConfig({ DATABASE_URL: testDatabase.url, WEBHOOK_RETRY_BASE_MS: '10', ...settings }), {
      database: await testDatabase.open(), logger: createLogger('silent'), collectDefaultMetrics: false, resolveHost,
    });
  }

  test('IP literals and names stored while their hosts were allowed reach nothing, fail once as permanent, and are not retried', async () => {
    const spellings = ['127.0.0.1', '[::1]', '2130706433', '0x7f.1', '[::ffff:7f00:1]', 'localhost', 'private.rollcall.test'];
    // Stored while the deployment allowed these hosts (a stand-in for URLs that were fine then).
    const lenient = await start({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1,::1,::ffff:7f00:1,localhost,private.rollcall.test' });
    const { key } = await createApiKey(lenient.database.db, 'stored-callbacks', lenient.clock);
    const headers = { authorization: `Token ${key}` };
    const startMs = Date.now() + HOUR;
    for (const [i, host] of spellings.entries()) {
      const event = await lenient.app.inject({ method: 'POST', url: '/api/v1/calendar/events', headers, payload: { title: `e${i}`, start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + HOUR).toISOString(), meeting_url: `https://zoom.us/j/12345678${i}` } });
      assert.equal(event.statusCode, 201, event.body);
      const scheduled = await lenient.app.inject({ method: 'POST', url: `/api/v1/calendar/schedule/${event.json().id}`, headers, payload: { deduplication_key: `k${i}`, bot_config: { callback_url: `http://${host}:${receiver.port}/hook` } } });
      assert.equal(scheduled.statusCode, 200, `${host}: ${scheduled.body}`);
    }
    await lenient.close();

    const strict = await start({});
    try {
      receiver.received.length = 0;
      const sent = await strict.webhooks.runDue();
      assert.equal(sent, spellings.length, 'one attempt per stored URL');
      assert.equal(receiver.received.length, 0, 'nothing reached the private address');
      const deliveries = await strict.database.db.selectFrom('webhook_deliveries').select(['url', 'state', 'attempts', 'last_error']).orderBy('id').execute();
      assert.equal(deliveries.length, spellings.length);
      for (const delivery of deliveries) {
        assert.deepEqual({ state: delivery.state, attempts: delivery.attempts, last_error: delivery.last_error }, { state: 'failed', attempts: 1, last_error: 'refused: the callback URL does not lead to a public address' }, delivery.url);
      }
      // No retry storm: nothing is due again, however long we wait.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await strict.webhooks.runDue(), 0);
      assert.equal(receiver.received.length, 0);
    } finally {
      await strict.close();
    }
  });
});

describe('meeting URLs handed to bots must be on public hosts', () => {
  let rc: TestRollcall;
  let auth: string;

  before(async () => {
    rc = await startTestRollcall();
    auth = (await rc.newUser()).auth;
  });
  after(() => rc.close());

  async function newEvent(meetingUrl: string): Promise<string> {
    const startMs = Date.now() + HOUR;
    const res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title: 't', start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + HOUR).toISOString(), meeting_url: meetingUrl } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  const REFUSED = [
    'http://127.0.0.1/room', 'http://2130706433/', 'http://0/', 'http://[::ffff:7f00:1]/', 'http://[::7f00:1]/', 'http://[::a9fe:a9fe]/', 'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5:8080/room', 'http://localhost:3000/', 'http://admin.localhost/', 'http://intranet/', 'https://vc.corp.internal/room', 'http://printer.local/',
    'https://router.home.arpa/', 'https://user:secret@zoom.us/j/123456789',
    // A safe-link wrapper is unwrapped first: what the bot would open is what is checked.
    `https://www.google.com/url?q=${encodeURIComponent('http://192.168.1.10/room')}&sa=D`,
  ];

  test('bot_config.meeting_url on a non-public host is a 400 invalid_meeting_url naming the field, and nothing is written', async () => {
    const eventId = await newEvent('https://zoom.us/j/123456789');
    for (const meetingUrl of REFUSED) {
      const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
      const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: 'meeting-check', bot_config: { meeting_url: meetingUrl } } });
      assert.equal(res.status, 400, `${meetingUrl}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_meeting_url', meetingUrl);
      assert.equal(res.body.details?.field, 'bot_config.meeting_url', meetingUrl);
      assert.match(res.body.error, /^bot_config\.meeting_url /, meetingUrl);
      assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), [], meetingUrl);
    }
    for (const meetingUrl of ['https://meet.jit.si/RollcallRoom', 'https://93.184.215.14/room', 'https://acme.webex.com/meet/jane']) {
      const res = await rc.request('POST', `/api/v1/calendar/schedule/${await newEvent('https://zoom.us/j/123456789')}`, { auth, body: { deduplication_key: meetingUrl, bot_config: { meeting_url: meetingUrl } } });
      assert.equal(res.status, 200, `${meetingUrl}: ${JSON.stringify(res.body)}`);
    }
  });

  test('an event whose own meeting URL is not public cannot get a bot unless bot_config.meeting_url names a public one', async () => {
    for (const meetingUrl of ['http://10.0.0.5/room', 'http://localhost:9000/join', 'https://meet.corp.internal/x']) {
      const eventId = await newEvent(meetingUrl);
      const refused = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: `event-${eventId}`, bot_config: {} } });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'invalid_meeting_url');
      assert.equal(refused.body.details?.field, 'meeting_url');
      const overridden = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: `event-${eventId}`, bot_config: { meeting_url: 'https://zoom.us/j/987654321' } } });
      assert.equal(overridden.status, 200, JSON.stringify(overridden.body));
    }
  });

  test('a scheduled bot does not follow its event to a meeting link on a non-public host: it is cancelled, and the decision log says why', async () => {
    for (const internalUrl of ['http://10.0.0.5/room', 'https://meet.corp.internal/x']) {
      const eventId = await newEvent('https://zoom.us/j/5556667777');
      const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: `follow-${internalUrl}`, bot_config: {} } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      const patched = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth, body: { meeting_url: internalUrl } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const bot = await rc.request('GET', `/api/v1/bots/${scheduled.body.bot_id}`, { auth });
      assert.equal(bot.body.status, 'Cancelled', internalUrl);
      assert.notEqual(bot.body.meeting_url, internalUrl);
      assert.ok(bot.body.decisions.some((d: { reason: string }) => /cannot be sent to/.test(d.reason)), JSON.stringify(bot.body.decisions));
    }
  });
});
