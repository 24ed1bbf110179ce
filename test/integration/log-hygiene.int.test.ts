// Runs the flows that handle credentials (scheduling and firing a bot, status reports with the
// per-launch token, signed webhooks with retries, secret rotation, calendar connections with OAuth
// credentials) with every log line captured at trace level, the outside world misbehaving where it
// can (failing, echoing what it was sent), and checks that no credential or meeting password
// reaches a log line or an error body.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/lib/logger.ts';
import { CapturedLog } from '../support/captured-log.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { fetchOpenApi, listOperations, send, type Answer, type Body } from '../support/openapi.ts';

const RUNTIME_SECRET = 'runtime-secret-7Yq2Lp9Xw';
const MEETING_PASSWORD = 'Zm9vYmFyUGFzc3dvcmQ1';
const OVERRIDE_PASSWORD = 'b3ZlcnJpZGVQd2Q4Nzk';
const FEED_PASSWORD = 'ZmVlZFBhc3N3b3JkMjI';
const QUERY_PASSWORD = 'cXVlcnlQd2Q0NDQ';
const BODY_PASSWORD = 'Ym9keVB3ZDU1NQ';
const CALLBACK_TOKEN = 'cbtok-4n8Vq2Rt';
const GOOGLE_CLIENT_SECRET = 'GOCSPX-clientsecret-7Hh3';
const GOOGLE_REFRESH_TOKEN = '1//0grefresh-token-9Kk2Mm4';
const MICROSOFT_CLIENT_SECRET = 'ms~clientsecret~5Tt8';
const MICROSOFT_REFRESH_TOKEN = 'M.R3_BAY.refresh-token-6Pp1';
const ACCESS_TOKEN = 'ya29.access-token-3Ww7Zz';
const CHANNEL_TOKEN = 'channel-token-8Cc5';
const VALIDATION_TOKEN = 'validation-token-2Vv6';

describe('log hygiene: credentials and meeting passwords stay out of logs and error bodies', () => {
  const log = new CapturedLog();
  const runtime = new FakeHttpReceiver();
  const hooks = new FakeHttpReceiver();
  const provider = new FakeHttpReceiver();
  const feeds = new FakeIcsServer();
  const answers: { what: string; answer: Answer }[] = [];
  /** Every secret the flows handled, by name. */
  const secrets = new Map<string, string>([
    ['runtime secret', RUNTIME_SECRET], ['meeting password', MEETING_PASSWORD], ['override meeting password', OVERRIDE_PASSWORD],
    ['synced meeting password', FEED_PASSWORD], ['password in a query', QUERY_PASSWORD], ['password in a broken body', BODY_PASSWORD],
    ['callback URL token', CALLBACK_TOKEN], ['Google client secret', GOOGLE_CLIENT_SECRET], ['Google refresh token', GOOGLE_REFRESH_TOKEN],
    ['Microsoft client secret', MICROSOFT_CLIENT_SECRET], ['Microsoft refresh token', MICROSOFT_REFRESH_TOKEN], ['OAuth access token', ACCESS_TOKEN],
    ['Google channel token', CHANNEL_TOKEN], ['Graph validation token', VALIDATION_TOKEN],
  ]);
  let rc: TestRollcall;
  let operationIds: Set<string>;
  let auth: string;
  let feedUrl: string;
  let hooksUrl: string;
  let isClosed = false;

  before(async () => {
    const runtimeUrl = await runtime.start();
    hooksUrl = await hooks.start();
    const providerUrl = await provider.start();
    await feeds.start();
    let launches = 0;
    // The runtime fails the first launch and echoes what it was sent, token and all.
    runtime.respond = (r) => (r.json?.action === 'launch' && launches++ === 0 ? { status: 503, body: { echo: r.json, headers: r.headers } } : { status: 202, body: { ok: true } });
    let deliveries = 0;
    // The receiver fails twice, echoing the signature headers.
    hooks.respond = (r) => (deliveries++ < 2 ? { status: 500, body: { echo: r.body, headers: r.headers } } : { status: 200, body: { ok: true } });
    // OAuth token endpoints hand out an access token; every API call after it fails and echoes
    // the Authorization header it got.
    provider.respond = (r) => (/token/.test(r.url)
      ? { status: 200, body: { access_token: ACCESS_TOKEN, expires_in: 3600, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/calendar.readonly' } }
      : { status: 500, body: { error: { code: 500, message: `backend error for ${String(r.headers.authorization)}` } } });
    feedUrl = feeds.createFeed('Private');
    feeds.edit(feedUrl, (events) => events.push({ uid: 'hygiene@feed', summary: 'Synced', startMs: Date.now() + 86_400_000, endMs: Date.now() + 90_000_000, location: `https://zoom.us/j/81234567890?pwd=${FEED_PASSWORD}` }));
    secrets.set('ICS feed URL secret path', new URL(feedUrl).pathname.split('/')[3]!);

    rc = await startTestRollcall({
      background: true,
      overrides: { logger: createLogger('trace', log) },
      settings: {
        BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, BOT_RUNTIME_SECRET: RUNTIME_SECRET, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5',
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '100', CREDENTIALS_ENCRYPTION_KEY: 'b'.repeat(64), CALENDAR_HTTP_TIMEOUT_MS: '2000',
        GOOGLE_OAUTH_TOKEN_URL: `${providerUrl}/google/token`, GOOGLE_CALENDAR_API_URL: `${providerUrl}/google/calendar/v3`,
        MICROSOFT_LOGIN_URL: `${providerUrl}/microsoft/common`, MICROSOFT_GRAPH_URL: `${providerUrl}/graph/v1.0`,
      },
    });
    operationIds = new Set(listOperations(await fetchOpenApi(rc)).map((op) => op.id));
    const user = await rc.newUser('hygiene');
    auth = user.auth;
    secrets.set('API key', auth.slice('Token '.length));
  });
  after(async () => {
    if (!isClosed) await rc.close();
    await runtime.stop();
    await hooks.stop();
    await provider.stop();
    await feeds.stop();
  });

  async function call(what: string, method: string, url: string, body: Body = { kind: 'none' }, authorization: string | undefined = auth, headers: Record<string, string> = {}): Promise<Answer> {
    const answer = await send(rc, method, url, authorization, body, headers);
    answers.push({ what, answer });
    return answer;
  }

  test('scheduling, firing, status reports and signed webhooks with retries', async () => {
    const first = await call('webhook secret', 'GET', '/api/v1/webhooks/secret');
    secrets.set('webhook secret', first.body.secret);
    const rotated = await call('rotate webhook secret', 'POST', '/api/v1/webhooks/secret/rotate');
    secrets.set('rotated webhook secret', rotated.body.secret);

    const start = Date.now() + 20 * 60_000;
    const event = await call('create event', 'POST', '/api/v1/calendar/events', { kind: 'json', value: {
      title: 'Board meeting', description: `Join: https://zoom.us/j/85550001111?pwd=${MEETING_PASSWORD}`,
      start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: `https://zoom.us/j/85550001111?pwd=${MEETING_PASSWORD}`,
    } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const scheduled = await call('schedule', 'POST', `/api/v1/calendar/schedule/${event.body.id}`, { kind: 'json', value: {
      deduplication_key: 'hygiene', bot_config: {
        bot_name: 'Scribe', meeting_url: `https://us02web.zoom.us/j/85550001111?pwd=${OVERRIDE_PASSWORD}`,
        join_at: new Date(Date.now() + 1000).toISOString(), callback_url: `${hooksUrl}/hooks?token=${CALLBACK_TOKEN}`,
      },
    } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    const botId = scheduled.body.bot_id;

    // The first launch fails (503, echoing the request), the retry succeeds.
    await runtime.waitFor(() => runtime.received.filter((r) => r.json?.bot_id === botId).length >= 2, 15_000);
    const launch = runtime.received.find((r) => r.json?.bot_id === botId)!;
    secrets.set('status token', launch.json.status_token);
    const statusUrl = `/api/v1/bots/${botId}/status`;
    await call('report with token', 'POST', statusUrl, { kind: 'json', value: { status: 'InMeeting' } }, `Bearer ${launch.json.status_token}`);
    await call('report with a wrong token', 'POST', statusUrl, { kind: 'json', value: { status: 'Stopped' } }, `Bearer ${launch.json.status_token}x`);
    await call('report with the API key as a bearer token', 'POST', statusUrl, { kind: 'json', value: { status: 'Stopped' } }, `Bearer ${auth.slice('Token '.length)}`);
    await call('illegal transition', 'POST', statusUrl, { kind: 'json', value: { status: 'Joining' } }, `Bearer ${launch.json.status_token}`);

    // Webhooks: two failures, then delivered (scheduled, joining, inmeeting).
    await hooks.waitFor(() => hooks.received.filter((r) => r.json?.bot_id === botId).length >= 5, 15_000);
    // Failed attempts are logged, with the bot and the cause (an operator whose runtime or
    // receiver is down saw no line at all); the lines are checked for secrets below.
    const warnings = log.lines.map((l) => JSON.parse(l) as { level: number; msg: string; botId?: string; reason?: string }).filter((l) => l.level === 40);
    const launchFailure = warnings.find((l) => l.msg === 'bot launch failed' && l.botId === botId);
    assert.match(launchFailure?.reason ?? '', /503/, JSON.stringify(launchFailure));
    const deliveryFailure = warnings.find((l) => l.msg.startsWith('webhook delivery attempt failed') && l.botId === botId);
    assert.match(deliveryFailure?.reason ?? '', /HTTP 500/, JSON.stringify(deliveryFailure));

    // Requests that carry secrets where they do not belong.
    await call('a key with one character more', 'GET', '/api/v1/calendar/events', { kind: 'none' }, `${auth}x`);
    await call('a key in the wrong scheme', 'GET', '/api/v1/calendar/events', { kind: 'none' }, `Bearer ${auth.slice('Token '.length)}`);
    await call('a password in the query', 'GET', `/api/v1/calendar/events?pwd=${QUERY_PASSWORD}&time_min=nope`);
    await call('a password in broken JSON', 'POST', '/api/v1/calendar/events', { kind: 'raw', contentType: 'application/json', payload: `{"meeting_url": "https://zoom.us/j/1?pwd=${BODY_PASSWORD}", oops}` });
    await call('a password in a wrongly typed field', 'POST', '/api/v1/calendar/events', { kind: 'json', value: { title: `https://zoom.us/j/1?pwd=${BODY_PASSWORD}`, start_time: `https://zoom.us/j/1?pwd=${BODY_PASSWORD}` } });
    await call('a password in a bad meeting URL', 'POST', `/api/v1/calendar/schedule/${event.body.id}`, { kind: 'json', value: { deduplication_key: 'other', bot_config: { meeting_url: `zoom.us/j/1?pwd=${BODY_PASSWORD}` } } });
    await call('bot detail', 'GET', `/api/v1/bots/${botId}`);
    // A client that puts a credential where an id goes: the path is logged with every request.
    await call('the API key in a path', 'GET', `/api/v1/bots/${auth.slice('Token '.length)}`);
    const signedIn = await call('dashboard sign-in', 'POST', '/dashboard/session', { kind: 'json', value: { api_key: auth.slice('Token '.length) } }, undefined);
    const session = /=(rcs_[0-9a-z]+)/.exec(String(signedIn.headers['set-cookie']))?.[1];
    assert.ok(session, JSON.stringify(signedIn.headers));
    secrets.set('dashboard session token', session);
    await call('the session token in a path', 'GET', `/api/v1/bots/${session}`, { kind: 'none' }, undefined, { cookie: `rollcall_session=${session}` });
  });

  test('calendar connections with OAuth credentials, feeds and push notifications', async (t) => {
    if (!operationIds.has('POST /api/v1/calendar/create_ics_calendar')) {
      t.skip('the API has no calendar connections yet');
      return;
    }
    const ics = await call('connect ICS', 'POST', '/api/v1/calendar/create_ics_calendar', { kind: 'json', value: { ics_url: feedUrl } });
    assert.equal(ics.status, 200, JSON.stringify(ics.body));
    await call('sync ICS', 'POST', `/api/v1/calendar/connections/${ics.body.calendar_id}/sync`);
    feeds.revoke(feedUrl);
    await call('sync a revoked feed', 'POST', `/api/v1/calendar/connections/${ics.body.calendar_id}/sync`);
    await call('ICS connection', 'GET', `/api/v1/calendar/connections/${ics.body.calendar_id}`);
    await call('connect a refused feed', 'POST', '/api/v1/calendar/create_ics_calendar', { kind: 'json', value: { ics_url: `https://10.1.2.3/calendar/ical/x/${secrets.get('ICS feed URL secret path')}/basic.ics` } });

    if (operationIds.has('POST /api/v1/calendar/create_calendar')) {
      await call('connect Google', 'POST', '/api/v1/calendar/create_calendar', { kind: 'json', value: { google_client_id: 'client-id.apps.googleusercontent.com', google_client_secret: GOOGLE_CLIENT_SECRET, google_refresh_token: GOOGLE_REFRESH_TOKEN } });
    }
    if (operationIds.has('POST /api/v1/calendar/create_outlook_calendar')) {
      await call('connect Microsoft', 'POST', '/api/v1/calendar/create_outlook_calendar', { kind: 'json', value: { microsoft_client_id: '00000000-0000-0000-0000-000000000000', microsoft_client_secret: MICROSOFT_CLIENT_SECRET, microsoft_refresh_token: MICROSOFT_REFRESH_TOKEN } });
    }
    assert.ok(provider.received.some((r) => /token/.test(r.url)), 'the OAuth flows reached the token endpoint');
    if (operationIds.has('POST /api/v1/calendar/notifications/google')) {
      await call('Google notification', 'POST', '/api/v1/calendar/notifications/google', { kind: 'none' }, undefined, { 'x-goog-channel-id': 'channel', 'x-goog-channel-token': CHANNEL_TOKEN, 'x-goog-resource-id': 'resource', 'x-goog-resource-state': 'exists' });
    }
    if (operationIds.has('POST /api/v1/calendar/notifications/microsoft')) {
      await call('Graph handshake', 'POST', `/api/v1/calendar/notifications/microsoft?validationToken=${VALIDATION_TOKEN}`, { kind: 'raw', contentType: 'text/plain', payload: '' }, undefined);
    }
    await call('connections', 'GET', '/api/v1/calendar/connections');
  });

  test('no log line holds a secret', async () => {
    // Let the background loops finish what they started, then stop the service (shutdown logs too).
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rc.close();
    isClosed = true;
    const text = log.lines.join('');
    assert.ok(log.lines.length > 20, `only ${log.lines.length} log lines`);
    const leaks = [...secrets].flatMap(([name, value]) => variantsOf(value).filter((v) => text.includes(v)).map((v) => {
      const line = log.lines.find((l) => l.includes(v))!;
      return `${name} (${v.slice(0, 12)}...) in: ${line.slice(0, 400)}`;
    }));
    assert.deepEqual(leaks, []);
  });

  test('no error body holds a secret, and no answer hands out OAuth credentials, status tokens or API keys', () => {
    const neverAnswered = ['Google client secret', 'Google refresh token', 'Microsoft client secret', 'Microsoft refresh token', 'OAuth access token', 'status token', 'API key', 'runtime secret', 'ICS feed URL secret path', 'Google channel token'];
    const problems: string[] = [];
    for (const { what, answer } of answers) {
      const text = JSON.stringify(answer.body) + JSON.stringify(answer.headers);
      for (const [name, value] of secrets) {
        const isError = answer.status >= 400;
        if (!isError && !neverAnswered.includes(name)) continue;
        if (variantsOf(value).some((v) => text.includes(v))) problems.push(`${what} (${answer.status}) answered with the ${name}: ${text.slice(0, 300)}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(answers.some((a) => a.answer.status >= 400), 'some requests were refused');
  });
});

/** A secret as it may appear: as is, URL-encoded, and (for whsec_ secrets) its base64 key alone. */
function variantsOf(value: string): string[] {
  const variants = new Set([value, encodeURIComponent(value)]);
  if (value.startsWith('whsec_')) variants.add(value.slice('whsec_'.length));
  return [...variants].filter((v) => v.length >= 8);
}

describe('the logger censors secrets wherever a log call puts them', () => {
  test('in messages, error messages and stacks, nested fields, and secret-named fields at any depth', () => {
    const log = new CapturedLog();
    const logger = createLogger('trace', log);
    const error = Object.assign(new Error(`cannot join https://zoom.us/j/85550001111?pwd=${MEETING_PASSWORD} for Bearer ${ACCESS_TOKEN}`), {
      config: { headers: { Authorization: `Bearer ${ACCESS_TOKEN}` }, data: `client_secret=${GOOGLE_CLIENT_SECRET}&refresh_token=${GOOGLE_REFRESH_TOKEN}` },
    });
    error.cause = new Error(`token endpoint said no to ${GOOGLE_REFRESH_TOKEN}`);
    logger.error({ err: error }, 'launch failed');
    logger.warn({ request: { headers: { authorization: 'Token rck_0123456789abcdefghijABCDEFGHIJ0123456789' } }, connection: { credentials: { google_client_secret: GOOGLE_CLIENT_SECRET } } }, 'nested');
    logger.info({ url: `https://teams.microsoft.com/meet/1234?p=${OVERRIDE_PASSWORD}`, feed: 'https://calendar.google.com/calendar/ical/me%40x.com/private-0123456789abcdef0123456789abcdef/basic.ics' }, 'urls');
    logger.info(`webhook signed with whsec_${Buffer.from('k'.repeat(32)).toString('base64')} for https://user:${MICROSOFT_CLIENT_SECRET}@example.com/hook`);
    logger.debug({ deep: { a: { b: { c: { d: { status_token: 'st-0123456789', list: [{ refresh_token: MICROSOFT_REFRESH_TOKEN }] } } } } } }, 'deep');
    const text = log.lines.join('');
    for (const secret of [MEETING_PASSWORD, ACCESS_TOKEN, GOOGLE_CLIENT_SECRET, GOOGLE_REFRESH_TOKEN, 'rck_0123456789abcdefghijABCDEFGHIJ0123456789', OVERRIDE_PASSWORD, '0123456789abcdef0123456789abcdef', Buffer.from('k'.repeat(32)).toString('base64'), MICROSOFT_CLIENT_SECRET, 'st-0123456789', MICROSOFT_REFRESH_TOKEN]) {
      assert.ok(!text.includes(secret), `${secret} reached the log: ${log.lines.find((l) => l.includes(secret))}`);
    }
    // What is not secret stays readable.
    assert.match(text, /cannot join https:\/\/zoom\.us\/j\/85550001111\?pwd=\[redacted\]/);
    assert.match(text, /"msg":"launch failed"/);
    assert.equal(log.lines.length, 5);
  });
});
