// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real
// Rollcall listening on a local port (SQLite or PostgreSQL, as the suite runs), with a local fake
// bot runtime and webhook receiver. The tests click and type as a person would, wait for what a
// person would see, and save a screenshot of every page at desktop and phone width to
// test-artifacts/screenshots/ (look at them: they are how the layout is checked).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildDashboard } from '../../scripts/build-dashboard.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { activeElementText, escapeRegExp, focusMovesTo, isInvalidField, isValidField, launchChromium, pageOverflow, saveScreenshots, SCREENSHOTS, browserSkip, titleBecomes } from '../support/dashboard-browser-kit.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { FakeMicrosoftGraph } from '../support/fake-microsoft.ts';
import { FakeRecall } from '../support/fake-recall.ts';
import { HttpBotRuntime } from '../../src/adapters/bot-runtimes/http-bot-runtime.ts';
import type { BotRuntime } from '../../src/adapters/bot-runtimes/bot-runtime.ts';
import { revokeApiKey } from '../../src/services/access/api-keys.ts';

/** The fake runtime declares this many launches a minute, so the chart draws its limit. */
const LAUNCH_LIMIT = 2;
/** How long anything the page shows by itself (live status, refreshed lists) may take. */
const LIVE_TIMEOUT_MS = 20_000;

/**
 * Makes the list the page shows lag behind an action, as it can by chance: the action's own list
 * reload is superseded by a newer one (the live stream's, for a status change) that answers later.
 * From the action's request (`method` on `actionUrl`) on, list requests (`listUrl`) are held. The
 * first made after the action's answer is the action's own; `provoke` is then called to make a
 * status change the live stream reports (the action's own change may have been reported before
 * the answer, its reload already held), so that a newer list request follows. Once it does, the
 * older ones are answered at once (the page drops them as superseded) and the newest 700 ms later.
 * Meanwhile the page still shows the list from before the action. Returns a function that removes
 * the routes.
 */
async function lagListBehind(page: Page, method: string, actionUrl: string, listUrl: string, provoke: () => Promise<unknown>): Promise<() => Promise<void>> {
  type Held = { route: Parameters<Parameters<Page['route']>[1]>[0]; isAfterAnswer: boolean };
  const held: Held[] = [];
  let phase: 'waiting' | 'holding' | 'done' = 'waiting';
  let isAnswered = false;
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  const releaseAll = (lastAfterMs: number) => {
    phase = 'done';
    clearTimeout(giveUp);
    const newest = held.pop();
    for (const { route } of held) void route.continue().catch(() => {});
    if (newest) setTimeout(() => void newest.route.continue().catch(() => {}), lastAfterMs);
  };
  const onAction: Parameters<Page['route']>[1] = async (route) => {
    if (route.request().method() !== method || phase !== 'waiting') return route.fallback();
    phase = 'holding';
    let response: Awaited<ReturnType<typeof route.fetch>>;
    try {
      response = await route.fetch();
    } catch (error) {
      releaseAll(0);
      throw error;
    }
    isAnswered = true;
    // No second list request within 5 s (the live stream is down): let everything through.
    giveUp = setTimeout(() => releaseAll(0), 5000);
    await route.fulfill({ response });
  };
  const onList: Parameters<Page['route']>[1] = async (route) => {
    if (phase !== 'holding') return route.fallback();
    held.push({ route, isAfterAnswer: isAnswered });
    const afterAnswer = held.filter((h) => h.isAfterAnswer).length;
    if (afterAnswer === 1) void provoke();
    if (afterAnswer >= 2) releaseAll(700);
  };
  await page.route(actionUrl, onAction);
  await page.route(listUrl, onList);
  return async () => {
    await page.unroute(actionUrl, onAction);
    await page.unroute(listUrl, onList);
  };
}

/** A datetime-local field's value for an instant, to the minute, in the test process's zone (the browser's too). */
function localInput(ms: number): string {
  const date = new Date(ms);
  return new Date(ms - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** An instant in iCalendar's UTC form (20261204T213800Z). */
function utcBasic(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

describe('dashboard in Chromium', { skip: browserSkip }, () => {
  let rc: TestRollcall;
  let browser: Browser;
  let base: string;
  let runtime: HttpBotRuntime;
  const launches = new FakeHttpReceiver();
  const hooks = new FakeHttpReceiver();
  const feeds = new FakeIcsServer();
  // Push is off here: the fake never notifies.
  const graph = new FakeMicrosoftGraph({ now: () => Date.now(), deliver: async () => ({ status: 503, body: '', headers: {} }) });
  let hooksUrl: string;
  let alice: { userId: string; auth: string; key: string };
  let bob: { userId: string; auth: string; key: string };
  let context: BrowserContext;
  let page: Page;
  /** The bot of the revoked feed's meeting (at risk), and that feed's name on the Calendars page. */
  let atRiskBot: string;
  let revokedName: string;
  /** A bot whose meeting is on an Outlook calendar that refuses its reader, and that account's name on Calendars. */
  let refusedBot: string;
  let outlookName: string;
  const pageErrors: string[] = [];

  before(async () => {
    await buildDashboard();
    const runtimeUrl = await launches.start();
    hooksUrl = await hooks.start();
    await feeds.start();
    const graphBase = await graph.start();
    runtime = new HttpBotRuntime({ url: `${runtimeUrl}/launch`, secret: 'runtime-secret', timeoutMs: 2000, now: () => Date.now() });
    // A real HTTP runtime (to the local fake) that declares a launch limit, as a bot provider does.
    const limited: BotRuntime = { name: 'http', canLaunch: true, scheduling: null, live: null, statusWebhooks: null, launchLimitPerMinute: LAUNCH_LIMIT, launch: (r) => runtime.launch(r), send: (c) => runtime.send(c) };
    rc = await startTestRollcall({
      background: true,
      // Webhook retries wait ten minutes: only the Redeliver button can make a failed one go out again in this test.
      settings: {
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '600000', JOIN_LEAD_SECONDS: '180', DISPATCH_LEASE_SECONDS: '5', BOT_RUNTIME_TIMEOUT_MS: '2000',
        // A failing sync is reported at once, so that a card shows a report without waiting 15 minutes.
        MICROSOFT_LOGIN_URL: `${graphBase}/common`, MICROSOFT_GRAPH_URL: `${graphBase}/v1.0`, CREDENTIALS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        CALENDAR_PUSH: 'off', CALENDAR_SYNC_FAILING_AFTER_SECONDS: '0',
      },
      overrides: { runtime: limited },
    });
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const address = rc.app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    const a = await rc.newUser('alice');
    const b = await rc.newUser('bob');
    alice = { ...a, key: a.auth.slice('Token '.length) };
    bob = { ...b, key: b.auth.slice('Token '.length) };
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A CSP violation, a failed script or style shows here; 401s and 404s the pages expect do too, as resource errors.
      // After the key is revoked, the live stream's reconnect is refused with a JSON 401, which Chromium reports as a wrong MIME type.
      // The refusal test answers the stream 429 itself, the error-text test answers a read 500, Events schedules a meeting whose link is refused (400),
      // and a write after another tab's session replaced this one meets one 403 (then reads the session).
      // The freshness test drops every connection, as a server restart does: the live stream is cut off mid-answer.
      // The failed sign-out test refuses the sign-out's connection, as an unreachable server does.
      // The back-online test takes the browser offline, which fails the reads made meanwhile.
      if (message.type() === 'error' && !/status of (400|401|403|404|429|500)|EventSource's response has a MIME type|net::ERR_INCOMPLETE_CHUNKED_ENCODING|net::ERR_CONNECTION_REFUSED|net::ERR_INTERNET_DISCONNECTED/.test(message.text())) pageErrors.push(`console: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await rc?.close();
    await runtime?.close();
    await launches.stop();
    await hooks.stop();
    await feeds.stop();
    await graph.stop();
  });

  /** Waits until the main navigation marks `label` as the current page, and it alone. */
  async function navMarks(label: string): Promise<void> {
    const current = page.getByRole('navigation', { name: 'Main' }).locator('a[aria-current="page"]');
    await current.filter({ hasText: label }).waitFor({ timeout: 5000 });
    assert.deepEqual(await current.allInnerTexts(), [label]);
  }

  function screenshot(name: string): Promise<void> {
    return saveScreenshots(page, name);
  }

  async function createEvent(auth: string, title: string, startMs: number, minutes = 30, url = `https://zoom.us/j/${8_000_000_000 + Math.floor(Math.random() * 999_999_999)}`): Promise<string> {
    const res = await rc.request('POST', '/api/v1/calendar/events', { auth, body: { title, start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + minutes * 60_000).toISOString(), meeting_url: url } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  async function schedule(auth: string, eventId: string, key: string, botConfig: Record<string, unknown> = {}): Promise<string> {
    const res = await rc.request('POST', `/api/v1/calendar/schedule/${eventId}`, { auth, body: { deduplication_key: key, bot_config: botConfig } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.bot_id;
  }

  async function statusOf(botId: string): Promise<string> {
    return (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.status;
  }

  /** A bot of alice's that the fake runtime took, once it is Joining (it joins in about three seconds). */
  async function launchedBot(title: string, key: string, botName: string): Promise<string> {
    const botId = await schedule(alice.auth, await createEvent(alice.auth, title, Date.now() + 10 * 60_000, 15), key, { bot_name: botName, join_at: new Date(Date.now() + 3000).toISOString() });
    await waitUntilLaunched(botId, title);
    return botId;
  }

  /** Waits until the fake runtime has taken the bot's launch (Joining). */
  async function waitUntilLaunched(botId: string, title: string): Promise<void> {
    for (const deadline = Date.now() + LIVE_TIMEOUT_MS; await statusOf(botId) !== 'Joining';) {
      assert.ok(Date.now() < deadline, `${title}: its bot was launched`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Reports a status for a launched bot, as its runtime does. */
  async function report(botId: string, status: string): Promise<void> {
    const { status_token: token } = await rc.database.db.selectFrom('schedules').select('status_token').where('bot_id', '=', botId).executeTakeFirstOrThrow();
    const answer = await rc.request('POST', `/api/v1/bots/${botId}/status`, { headers: { authorization: `Bearer ${token}` }, body: { status } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }

  test('the page is served with a CSP that forbids inline and third-party script and style', async () => {
    const response = await fetch(`${base}/dashboard`);
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const html = await response.text();
    assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style in the page');
  });

  test('sign in with the keyboard; a wrong key is refused with a message', async () => {
    // A first visit asks who is signed in; nobody is an answer, not an error the browser logs.
    const consoleErrors: string[] = [];
    const noteError = (message: { type(): string; text(): string }) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    };
    page.on('console', noteError);
    await page.goto(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Sign in to Rollcall' }).waitFor();
    page.off('console', noteError);
    assert.deepEqual(consoleErrors, [], 'the first visit logged no error');
    assert.equal(await page.getByRole('status').count(), 0, 'a first visit is told nothing about an earlier session');
    await screenshot('sign-in');
    // A field's border is what shows where to type: 3:1 at least against what is around it (WCAG 1.4.11).
    const borderContrast = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
      const field = doc.querySelector('input') as object;
      const style = (globalThis as unknown as { getComputedStyle(e: object): { borderTopColor: string } }).getComputedStyle(field);
      const channel = (v: number) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      const luminance = (rgb: string) => { const [r, g, b] = rgb.match(/\d+/g)!.map(Number); return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!); };
      return (1 + 0.05) / (luminance(style.borderTopColor) + 0.05);
    });
    assert.ok(borderContrast >= 3, `input border contrast ${borderContrast.toFixed(2)}:1 against white`);
    // The key field has focus; typing and Enter is all it takes.
    await page.keyboard.type('rck_0000000000000000000000000000000000000000');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'unknown or revoked' }).waitFor();
    await page.getByLabel('API key').fill(alice.key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    await page.getByText('Signed in as').waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'rollcall_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!session.value.includes(alice.key), 'the cookie is not the API key');
    // Focus moved to the page's heading, for screen readers; from a fresh load the first Tab reaches the skip link.
    assert.equal(await activeElementText(page), 'Upcoming');
    await page.reload();
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    // A direct load (here a reload) names the document too, not only a move within the dashboard.
    await titleBecomes(page, 'Upcoming · Rollcall');
    await page.locator('body').focus();
    await page.keyboard.press('Tab');
    assert.equal(await activeElementText(page), 'Skip to content');
  });

  test('a bot scheduled through the API appears on Upcoming and in the chart, without a reload', async () => {
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 42; });
    // A top-of-the-hour wave above the runtime's limit, and a few meetings later on.
    const nextHour = Math.ceil((Date.now() + 60_000) / 3_600_000) * 3_600_000;
    for (let i = 0; i < 5; i++) await schedule(alice.auth, await createEvent(alice.auth, `All hands room ${i + 1}`, nextHour + 180_000), `wave-${i}`, { bot_name: 'Notes' });
    for (const [i, offset] of [[0, 30], [1, 30], [2, 95], [3, 150]] as const) {
      await schedule(alice.auth, await createEvent(alice.auth, `Customer call ${i + 1}`, nextHour + offset * 60_000 + 180_000), `later-${i}`, { bot_name: 'Notes' });
    }
    // Its own minute, an hour after the wave: a time relative to now could land on the wave's minute.
    const startMs = nextHour + 60 * 60_000 + 180_000;
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Design review', startMs), 'design-review', { bot_name: 'Scribe' });
    const row = page.locator(`tr[data-bot-id="${botId}"]`);
    await row.waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.match(await row.innerText(), /Design review[\s\S]*Zoom[\s\S]*No calendar[\s\S]*Scheduled/);
    const minute = new Date(Math.floor((startMs - 180_000) / 60_000) * 60_000).toISOString();
    const bar = page.locator(`rect.chart-bar[data-start="${minute}"]`);
    await bar.waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.equal(await bar.getAttribute('data-launches'), '1');
    const wave = page.locator(`rect.chart-bar[data-start="${new Date(nextHour).toISOString()}"]`);
    assert.equal(await wave.getAttribute('data-launches'), '5');
    assert.match(await wave.getAttribute('class') ?? '', /chart-bar-over/, 'a minute above the runtime limit is marked');
    // The tallest bars carry their counts (no tooltips on a touch screen).
    assert.equal(await page.locator(`text.chart-count[data-start="${new Date(nextHour).toISOString()}"]`).textContent(), '5');
    assert.equal(await page.locator('.chart-limit').getAttribute('data-limit'), String(LAUNCH_LIMIT));
    assert.match(await page.locator('#launch-chart-summary').innerText(), /10 launches in the next 6 hours; busiest minute .* with 5\. Runtime limit 2 per minute, exceeded in 1 bucket/);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');
    // The status filter narrows the list; nothing is joining yet.
    await page.getByLabel('Status').selectOption('Joining');
    await page.getByText('No bots match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await row.waitFor();

    // The summary says "hour" for one, and names the day of a busiest minute that is not today
    // (answered here, so that the peak is tomorrow whatever the time of the run).
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(0, 30, 0, 0);
    await page.route('**/api/v1/bots/launch-histogram*', (route) => {
      const hours = Number(new URL(route.request().url()).searchParams.get('hours'));
      const fromMs = Math.floor(Date.now() / 60_000) * 60_000;
      const peak = hours === 1 ? null : { start: tomorrow.toISOString(), launches: 3 };
      const buckets = Array.from({ length: hours * 60 }, (_, i) => {
        const start = new Date(fromMs + i * 60_000).toISOString();
        return { start, launches: start === peak?.start ? 3 : 0 };
      });
      return route.fulfill({ json: { from: new Date(fromMs).toISOString(), to: new Date(fromMs + hours * 3_600_000).toISOString(), bucket_minutes: 1, buckets, total: peak ? 3 : 0, peak, launch_limit_per_minute: null } });
    });
    try {
      await page.getByRole('button', { name: '1 h', exact: true }).click();
      await page.locator('#launch-chart-summary').filter({ hasText: /^No launches in the next hour\.$/ }).waitFor();
      await page.getByRole('button', { name: '24 h', exact: true }).click();
      await page.locator('#launch-chart-summary').filter({ hasText: /^3 launches in the next 24 hours; busiest minute tomorrow \S.* with 3\.$/ }).waitFor();
    } finally {
      await page.unroute('**/api/v1/bots/launch-histogram*');
    }
    await page.getByRole('button', { name: '6 h', exact: true }).click();
    await page.locator('#launch-chart-summary').filter({ hasText: /^10 launches in the next 6 hours/ }).waitFor();
  });

  test('a bot turns Joining on screen by itself when it fires, and its page explains why', async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    const eventId = await createEvent(alice.auth, 'Standup', Date.now() + 10 * 60_000, 15, 'https://meet.google.com/abc-defg-hij');
    const botId = await schedule(alice.auth, eventId, 'standup', { bot_name: 'Standup notes', join_at: new Date(Date.now() + 5000).toISOString(), callback_url: `${hooksUrl}/hooks/ok` });
    const badge = page.locator(`tr[data-bot-id="${botId}"] .badge`);
    await badge.filter({ hasText: 'Scheduled' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 7; });
    await badge.filter({ hasText: 'Joining' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 7, 'the page was not reloaded');
    assert.equal(launches.received.filter((r) => r.json?.bot_id === botId).length, 1, 'launched once');
    assert.equal(await statusOf(botId), 'Joining');
    await screenshot('upcoming');

    // Its page, by keyboard: focus lands on the bot's own heading (not the placeholder shown while
    // it loads), which names its meeting (every bot may carry the same name), and the document is
    // named after it; the bot's name is beneath.
    await page.locator(`tr[data-bot-id="${botId}"] a`).first().focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Standup', level: 1 }).waitFor();
    await focusMovesTo(page, 'Standup');
    assert.equal(await page.title(), 'Standup · Rollcall');
    assert.equal(await page.getByTestId('bot-name').innerText(), 'Bot: Standup notes');
    // A live bot's page is under Upcoming, in the navigation as in its breadcrumb.
    await page.locator('.breadcrumb').getByRole('link', { name: 'Upcoming' }).waitFor();
    await navMarks('Upcoming');
    // The decision log, the launch, the webhooks.
    const log = page.locator('section[aria-labelledby="why-title"] ol.log');
    // Beside "Scheduled", not repeating it, and without the meeting's identity (its only meeting).
    await log.locator('li[data-kind="scheduled"] > span').filter({ hasText: /^For “Standup”; joins at the requested join_at$/ }).waitFor();
    await log.locator('li[data-kind="launched"]').filter({ hasText: 'Launched: handed to the bot runtime' }).waitFor();
    await page.locator('section[aria-labelledby="launch-title"] li[data-kind="launched"]').waitFor();
    await page.locator('section[aria-labelledby="timeline-title"] li[data-status="Joining"]').waitFor();
    await page.locator('section[aria-labelledby="events-title"]').getByText('Standup', { exact: true }).waitFor();
    await page.locator('section[aria-labelledby="deliveries-title"] tr[data-delivery-status="delivered"]').first().waitFor({ timeout: LIVE_TIMEOUT_MS });
    // A runtime report moves it on, live, on this page too.
    await report(botId, 'InMeeting');
    await page.locator('[data-testid="bot-status"]').filter({ hasText: 'In meeting' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.getByTestId('launch-timer').filter({ hasText: 'Done: nothing left to launch' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await screenshot('bot');
  });

  test('a bot that ran its meeting and ended is not said to be removed from its event (ending lets go of every event)', async () => {
    const eventId = await createEvent(alice.auth, 'Retro', Date.now() + 10 * 60_000, 30, 'https://meet.google.com/ret-roxy-abc');
    const botId = await schedule(alice.auth, eventId, 'retro-ran', { bot_name: 'Retro notes', join_at: new Date(Date.now() + 2000).toISOString() });
    await waitUntilLaunched(botId, 'Retro');
    for (const status of ['InMeeting', 'Done']) await report(botId, status);
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Retro', level: 1 }).waitFor();
    await page.locator('[data-testid="bot-status"]').filter({ hasText: 'Done' }).waitFor();
    const event = page.locator('section[aria-labelledby="events-title"] li').filter({ hasText: 'Retro' });
    await event.waitFor();
    assert.doesNotMatch(await event.innerText(), /Removed from its calendar event/);
    await screenshot('bot-done-events');
  });

  test('a bot in its meeting whose event is deleted still shows that event let go of it once the runtime has stopped it', async () => {
    const eventId = await createEvent(alice.auth, 'Standup gone', Date.now() + 10 * 60_000, 30, 'https://meet.google.com/gon-egon-abc');
    const botId = await schedule(alice.auth, eventId, 'standup-gone', { bot_name: 'Standup notes', join_at: new Date(Date.now() + 2000).toISOString() });
    await waitUntilLaunched(botId, 'Standup gone');
    await report(botId, 'InMeeting');
    // The meeting is taken off the calendar while the bot is in it: the runtime is asked to stop it.
    const deleted = await rc.request('DELETE', `/api/v1/calendar/events/${eventId}`, { auth: alice.auth });
    assert.ok(deleted.status < 300, JSON.stringify(deleted.body));
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Standup gone', level: 1 }).waitFor();
    const event = page.locator('section[aria-labelledby="events-title"] li').filter({ hasText: 'Standup gone' });
    await event.waitFor();
    assert.match(await event.innerText(), /Removed from its calendar event/, 'marked while in the meeting');
    await report(botId, 'Stopped');
    await page.reload();
    await page.locator('[data-testid="bot-status"]').filter({ hasText: 'Stopped' }).waitFor();
    await event.waitFor();
    assert.match(await event.innerText(), /Removed from its calendar event/, 'still marked once the bot ended because its event went');
    await screenshot('bot-stopped-event-removed');
  });

  test('reschedule, then cancel, a waiting bot from its page', async () => {
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Planning', Date.now() + 3 * 3_600_000), 'planning', { bot_name: 'Planner' });
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Planning', level: 1 }).waitFor();
    await titleBecomes(page, 'Planning · Rollcall');
    // Its launch timer in words, not the API's schedule_state; a field for a time names the zone
    // it is typed in; no webhook address given is said as the deduplication key's is.
    assert.equal(await page.getByTestId('launch-timer').innerText(), 'Waiting to launch');
    assert.equal(await page.locator('label[for="join-time"]').innerText(), 'New join time (UTC)');
    assert.equal(await page.locator('.facts div').filter({ hasText: 'Webhooks to' }).locator('dd').innerText(), 'None given');
    assert.match(await page.locator('section[aria-labelledby="deliveries-title"]').innerText(), /No webhook address was given for this bot/);
    await screenshot('bot-waiting');
    // Sent back unchanged, the join time stays as it was (the field shows its seconds, and the
    // milliseconds it cannot show are kept).
    const joinBefore = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.scheduled_join_time;
    // Each press waits for its own answer (the notice reads the same after both). The first by
    // keyboard, on a quiet page: the button keeps the focus through the request (a button disabled
    // while busy would drop it). The later ones click: the page may be redrawn by the live stream
    // between a focus and a key press, which a click (made on the button as it is then) is not.
    const reschedule = async (byKeyboard = false) => {
      const button = page.getByRole('button', { name: 'Reschedule' });
      if (byKeyboard) await button.focus();
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes(`/calendar/scheduled/${botId}`)),
        byKeyboard ? page.keyboard.press('Enter') : button.click(),
      ]);
      assert.equal(answer.status(), 200);
      await page.getByRole('status').filter({ hasText: 'The join time was moved.' }).waitFor();
      if (byKeyboard) await focusMovesTo(page, 'Reschedule');
    };
    await reschedule(true);
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.scheduled_join_time, joinBefore);
    // The field takes the browser's local time; the test's Chromium runs in the test process's zone.
    const newJoin = new Date(Math.floor((Date.now() + 2 * 3_600_000) / 60_000) * 60_000);
    await page.getByLabel('New join time').fill(localInput(newJoin.getTime()));
    await reschedule();
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.scheduled_join_time, newJoin.toISOString());
    await page.locator('section[aria-labelledby="why-title"] li[data-kind="updated"]').waitFor();
    // A refusal names its instants in local time, like the rest of the page (the API writes UTC).
    // It is about the join time: said beneath the field, which is marked invalid and takes focus
    // (here from the Reschedule button, pressed by keyboard).
    await page.getByLabel('New join time').fill(localInput(Date.now() + 5 * 3_600_000));
    await page.getByRole('button', { name: 'Reschedule' }).focus();
    await page.keyboard.press('Enter');
    const refusal = page.getByRole('alert').filter({ hasText: 'scheduled_join_time is after the meeting ends' });
    await refusal.waitFor();
    assert.doesNotMatch(await refusal.innerText(), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await isInvalidField(page, 'join-time', 'scheduled_join_time is after the meeting ends');
    await screenshot('bot-join-time-refused');
    // Cancel by keyboard: the buttons go with the waiting bot, and focus goes to the notice that says what happened.
    await page.getByRole('button', { name: 'Cancel bot' }).focus();
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'Yes, cancel it');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'The bot was cancelled.' }).waitFor();
    await focusMovesTo(page, 'The bot was cancelled.');
    await page.locator('[data-testid="bot-status"]').filter({ hasText: 'Cancelled' }).waitFor();
    assert.equal(await statusOf(botId), 'Cancelled');
    await page.locator('section[aria-labelledby="why-title"] li[data-kind="cancelled"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel bot' }).count(), 0, 'no cancel button on a cancelled bot');
    // Ended, its event is no longer linked: the page is still named after the meeting, not its host.
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Planning');
    assert.equal(await page.title(), 'Planning · Rollcall');
    // Cancelling the bot let go of its event: the event did not remove it, so its Events card does not say so.
    assert.doesNotMatch(await page.locator('section[aria-labelledby="events-title"] li').filter({ hasText: 'Planning' }).innerText(), /Removed from its calendar event/);
  });

  test('a failing webhook shows with its error, and Redeliver sends it again', async () => {
    hooks.respond = (request) => (request.url === '/hooks/failing' ? { status: 500, body: { error: 'down' } } : { status: 200 });
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Board meeting', Date.now() + 5 * 3_600_000), 'board', { bot_name: 'Minutes', callback_url: `${hooksUrl}/hooks/failing` });
    await hooks.waitFor(() => hooks.received.some((r) => r.json?.bot_id === botId), LIVE_TIMEOUT_MS);
    await page.goto(`${base}/dashboard/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Failing' }).click();
    const failing = page.locator(`tr[data-delivery-status="retrying"][data-bot-id="${botId}"]`);
    await failing.waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.match(await failing.innerText(), /bot\.scheduled[\s\S]*Retrying[\s\S]*1[\s\S]*HTTP 500/);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await page.locator('[data-testid="webhook-secret"]').filter({ hasText: /^whsec_/ }).waitFor();

    // A message queued behind a retrying one of the same bot waits for it: its own due time, gone
    // by, is not a "next retry" minutes ago.
    const heldBot = await schedule(alice.auth, await createEvent(alice.auth, 'Quarterly review', Date.now() + 6 * 3_600_000), 'quarterly', { bot_name: 'Minutes', callback_url: `${hooksUrl}/hooks/failing` });
    const firstAttemptFailed = async () => (await rc.request('GET', `/api/v1/bots/${heldBot}/deliveries`, { auth: alice.auth })).body.deliveries.some((d: { status: string }) => d.status === 'retrying');
    for (const deadline = Date.now() + LIVE_TIMEOUT_MS; !(await firstAttemptFailed());) {
      assert.ok(Date.now() < deadline, 'the first delivery of the held bot failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${heldBot}`, { auth: alice.auth })).status, 200);
    await page.getByRole('button', { name: 'All' }).click();
    const held = page.locator(`tr[data-delivery-status="pending"][data-bot-id="${heldBot}"]`);
    await held.waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.match(await held.locator('td[data-label="Next retry"]').innerText(), /^After the bot's earlier message\s+bot\.scheduled: next try in \d+ minutes$/);
    // The bot named by its meeting, as every other page names it; the event as the receiver reads
    // it: the payload's event (bot.stopped for every end), and its bot_event beside it.
    assert.equal(await held.locator('td[data-label="Bot"]').innerText(), 'Quarterly review\nMinutes');
    assert.equal(await held.locator('td[data-label="Bot"] a').getAttribute('href'), `/dashboard/bots/${heldBot}`);
    assert.equal(await held.locator('td[data-label="Event"]').innerText(), `bot.stopped\nbot_event bot.cancelled\n${hooksUrl}/hooks/failing`);
    assert.equal(await failing.locator('td[data-label="Event"]').innerText(), `bot.scheduled\n${hooksUrl}/hooks/failing`, 'one name where both are the same');
    await screenshot('webhooks');
    // Under Pending the message it waits for (retrying) is not listed: it still says it waits.
    await page.getByRole('button', { name: 'Pending' }).click();
    await page.locator('tr[data-delivery-status="retrying"]').first().waitFor({ state: 'detached' });
    const heldPending = page.locator(`table:not([aria-busy]) tr[data-delivery-status="pending"][data-bot-id="${heldBot}"]`);
    assert.match(await heldPending.locator('td[data-label="Next retry"]').innerText(), /^After the bot's earlier message\s+bot\.scheduled: next try in \d+ minutes$/);

    // A server failure is said in words (the API's message for it carries no detail), not as its code.
    await page.route('**/api/v1/webhooks/deliveries*', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'Internal error', message: 'Internal error', code: 'internal_error', status_code: 500 }) }));
    try {
      await page.getByRole('button', { name: 'Failing' }).click();
      const failure = page.locator('.state-error');
      await failure.waitFor();
      assert.equal(await failure.locator('p').innerText(), 'Something went wrong. The server failed to answer this request (an internal error; the server\'s log has the details). Try again.');
    } finally {
      await page.unroute('**/api/v1/webhooks/deliveries*');
    }
    // The page reads the list again by itself (every 2 s while deliveries are on their way).
    await page.locator(`tr[data-delivery-status="retrying"][data-bot-id="${botId}"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });

    hooks.respond = () => ({ status: 200 });
    await page.getByRole('button', { name: 'All' }).click();
    const row = page.locator(`tr[data-bot-id="${botId}"]`).filter({ hasText: 'bot.scheduled' });
    // By keyboard: the button keeps the focus through its request.
    const redeliver = row.getByRole('button', { name: /Redeliver/ });
    const redeliverName = await redeliver.getAttribute('aria-label');
    await redeliver.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'is being sent again.' }).waitFor();
    await focusMovesTo(page, redeliverName!);
    await page.locator(`tr[data-delivery-status="delivered"][data-bot-id="${botId}"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    const sent = hooks.received.filter((r) => r.json?.bot_id === botId);
    assert.equal(sent.length, 2, 'sent twice: the failed attempt and the redelivery');
    assert.equal(sent[0]!.headers['webhook-id'], sent[1]!.headers['webhook-id'], 'a redelivery keeps the webhook-id');
  });

  test('calendars show their health; a revoked one shows as revoked, a failing one as failing', async () => {
    const healthy = feeds.createFeed('Team');
    const start = Date.now() + 2 * 86_400_000;
    feeds.edit(healthy, (events) => {
      events.push({ uid: 'retro@team', summary: 'Sprint retro', startMs: start, endMs: start + 3_600_000, location: 'https://zoom.us/j/81234567890' });
      events.push({ uid: 'lunch@team', summary: 'Team lunch', startMs: start + 7_200_000, endMs: start + 10_800_000 });
      events.push({ uid: 'review@team', summary: 'Design review', startMs: start + 14_400_000, endMs: start + 18_000_000, location: 'https://zoom.us/j/81234567891' });
    });
    const revoked = feeds.createFeed('Old');
    // A meeting with a bot on the feed that loses its access: the bot is at risk.
    feeds.edit(revoked, (events) => {
      events.push({ uid: 'standup@old', summary: 'Old standup', startMs: start + 86_400_000, endMs: start + 86_400_000 + 1_800_000, location: 'https://zoom.us/j/81234567892' });
    });
    const flaky = feeds.createFeed('Flaky');
    // Two feeds without a name of their own (no X-WR-CALNAME) on the same host; one has a booked meeting.
    const unnamedStart = utcBasic(start + 2 * 86_400_000);
    const unnamed = [
      feeds.publishRaw(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//Unnamed//EN', 'BEGIN:VEVENT', 'UID:unnamed@feed', `DTSTAMP:${unnamedStart}`, `DTSTART:${unnamedStart}`, `DTEND:${utcBasic(start + 2 * 86_400_000 + 1_800_000)}`, 'SUMMARY:Unnamed feed meeting', 'LOCATION:https://zoom.us/j/81234567893', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n')),
      feeds.publishRaw(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Rollcall tests//Unnamed//EN', 'END:VCALENDAR', ''].join('\r\n')),
    ];
    const [healthyId, revokedId, flakyId, unnamedId, otherUnnamedId] = await Promise.all([healthy, revoked, flaky, ...unnamed].map(async (url) => {
      const res = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: url } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.calendar_id as string;
    }));
    const eventOf = async (calendarId: string) => (await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start).toISOString()}&time_max=${new Date(start + 5 * 86_400_000).toISOString()}`, { auth: alice.auth })).body.results[0].id as string;
    atRiskBot = await schedule(alice.auth, await eventOf(revokedId!), 'old-standup', { bot_name: 'Old notes' });
    await schedule(alice.auth, await eventOf(unnamedId!), 'unnamed-feed', { bot_name: 'Unnamed notes' });
    feeds.revoke(revoked);
    const sync = await rc.request('POST', `/api/v1/calendar/connections/${revokedId}/sync`, { auth: alice.auth });
    assert.equal(sync.body.status, 'auth_revoked', JSON.stringify(sync.body));
    feeds.replaceWithRaw(flaky, '<html><body>Sign in</body></html>');
    const failed = await rc.request('POST', `/api/v1/calendar/connections/${flakyId}/sync`, { auth: alice.auth });
    assert.equal(failed.body.synced, false, JSON.stringify(failed.body));
    // An Outlook account whose colleague's calendar refuses its reader while its own syncs: the
    // report (due at once here) is about that calendar alone.
    const account = graph.createAccount();
    const colleague = graph.addCalendar(account.email, { name: 'Colleague', ownerAddress: 'colleague@contoso.example' });
    // A meeting with a bot on that calendar: the bot is at risk once the calendar refuses.
    graph.createEvent(account.email, { subject: 'Colleague sync', startMs: start + 86_400_000 + 3_600_000, endMs: start + 86_400_000 + 5_400_000, location: 'https://zoom.us/j/81234567894', calendarId: colleague });
    const outlook = await rc.request('POST', '/api/v1/calendar/create_outlook_calendar', {
      auth: alice.auth,
      body: { microsoft_client_id: account.clientId, microsoft_client_secret: account.clientSecret, microsoft_refresh_token: account.refreshToken, calendar_ids: [graph.defaultCalendarId(account.email), colleague] },
    });
    assert.equal(outlook.status, 200, JSON.stringify(outlook.body));
    const outlookId = outlook.body.calendar_id as string;
    refusedBot = await schedule(alice.auth, await eventOf(outlookId), 'colleague-sync', { bot_name: 'Colleague notes' });
    graph.refuseReads(account.email, colleague);
    await rc.request('POST', `/api/v1/calendar/connections/${outlookId}/sync`, { auth: alice.auth });
    const outlookView = (await rc.request('GET', `/api/v1/calendar/connections/${outlookId}`, { auth: alice.auth })).body;
    assert.deepEqual(outlookView.failing_calendars, [colleague], JSON.stringify(outlookView));

    await page.goto(`${base}/dashboard/calendars`);
    const card = page.locator(`li[data-calendar-id="${revokedId}"]`);
    await card.getByText('Access revoked').waitFor();
    assert.match(await card.innerText(), /HTTP 404/);
    assert.equal(await card.getByRole('button', { name: /^Sync now for / }).isDisabled(), true);
    // It says what becomes of its bots (spec section 12), and how many are at risk now.
    assert.match(await card.getByRole('note').innerText(), /will be cancelled at their join time unless access returns before then/);
    assert.equal(await card.getByTestId('at-risk-count').innerText(), '1 upcoming bot is at risk now.');
    const flakyCard = page.locator(`li[data-calendar-id="${flakyId}"]`);
    await flakyCard.getByText('Sync failing', { exact: true }).waitFor();
    assert.match(await flakyCard.getByRole('note').innerText(), /Syncing has failed since .* bots launch on them/);
    // Its calendar says why it does not sync.
    await flakyCard.locator('summary').filter({ hasText: 'calendar' }).click();
    await flakyCard.getByText(/Not syncing: Refused: the URL did not answer with an iCalendar feed/).waitFor();
    // Its last error says how it failed in words, not the API's kind of failure ("permanent: ").
    const lastErrorOf = (card: typeof flakyCard) => card.locator('.facts div').filter({ hasText: 'Last error' }).locator('dd').innerText();
    assert.match(await lastErrorOf(flakyCard), /^Refused: the URL did not answer with an iCalendar feed/);
    assert.match(await lastErrorOf(card), /^Access withdrawn: .*HTTP 404/);
    // A card whose report names some calendars says which.
    const outlookCard = page.locator(`li[data-calendar-id="${outlookId}"]`);
    await outlookCard.getByText('Sync failing', { exact: true }).waitFor();
    assert.match(await outlookCard.getByRole('note').innerText(), /^1 of 2 calendars does not sync \(failing since .*\): Colleague\. It refuses Rollcall or is gone: a bot whose meetings are only there is not launched unless access returns before it joins\./);
    // Its last error names that calendar as the card does, not by the provider's id for it.
    const outlookError = await lastErrorOf(outlookCard);
    assert.match(outlookError, /^Refused: calendar Colleague: /);
    assert.ok(!outlookError.includes(colleague), outlookError);
    const healthyCard = page.locator(`li[data-calendar-id="${healthyId}"]`);
    await healthyCard.getByText('Active', { exact: true }).waitFor();
    // Feeds on one host are told apart by their own names (the address is shortened to its host).
    assert.deepEqual(await Promise.all([healthyId, revokedId, flakyId].map((id) => page.locator(`#conn-${id}`).innerText())).then((names) => names.map((n) => n.split(' (')[0])), ['Team', 'Old', 'Flaky']);
    revokedName = await page.locator(`#conn-${revokedId}`).innerText();
    outlookName = await page.locator(`#conn-${outlookId}`).innerText();
    // Feeds without a name are told apart by the end of their connection ids.
    const unnamedNames = await Promise.all([unnamedId, otherUnnamedId].map((id) => page.locator(`#conn-${id}`).innerText()));
    assert.deepEqual(unnamedNames, [unnamedId, otherUnnamedId].map((id) => `${unnamedNames[0]!.split(' · ')[0]} · id …${id!.slice(-6)}`));
    // Each card's Disconnect says which calendar it disconnects (screen readers hear buttons out of their cards).
    for (const id of [healthyId, revokedId, flakyId, outlookId, unnamedId, otherUnnamedId]) {
      const name = await page.locator(`#conn-${id}`).innerText();
      assert.equal(await page.locator(`li[data-calendar-id="${id}"]`).getByRole('button', { name: `Disconnect ${name}`, exact: true }).count(), 1, name);
    }
    await healthyCard.getByRole('button', { name: /^Sync now for / }).click();
    await page.getByRole('status').filter({ hasText: 'Synced' }).waitFor();
    await page.getByRole('switch').waitFor();
    await screenshot('calendars');

    // Disconnecting by keyboard: the card goes, and focus goes to the notice that says what was removed.
    await page.getByRole('button', { name: `Disconnect ${unnamedNames[0]}`, exact: true }).focus();
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'Yes, disconnect');
    await page.keyboard.press('Enter');
    const disconnected = `${unnamedNames[0]} disconnected: 1 event removed, 1 bot cancelled.`;
    await page.getByRole('status').filter({ hasText: disconnected }).waitFor();
    await focusMovesTo(page, disconnected);
    assert.equal(await page.locator(`li[data-calendar-id="${unnamedId}"]`).count(), 0);
  });

  test('a bot whose calendar lost its access shows as at risk on Upcoming and on its page', async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    // The calendar filter names connections as the Calendars page does, each told apart.
    const calendarFilter = page.getByLabel('Calendar');
    await calendarFilter.locator('option', { hasText: revokedName }).waitFor({ state: 'attached' });
    const options = await calendarFilter.locator('option').allInnerTexts();
    assert.equal(new Set(options).size, options.length, JSON.stringify(options));
    await calendarFilter.selectOption({ label: revokedName });
    // Only the bots of that calendar, once the filtered list replaced the whole one.
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(selector: string): { length: number } } })
      .document.querySelectorAll('table[aria-labelledby="list-title"] tbody tr').length === 1);
    const row = page.locator(`tr[data-bot-id="${atRiskBot}"]`);
    await row.waitFor();
    // The badge names the calendar it cannot be read from, as Calendars names it, the provider in words.
    await row.getByTestId('at-risk-calendars').filter({ hasText: `Calendar: ICS feed ${revokedName}` }).waitFor();
    // What went wrong and what follows, said in the row (a touch screen has no title to hover, a screen reader hears the row).
    assert.match(await row.locator('td[data-label="Status"]').innerText(),
      new RegExp(`^Scheduled\\s+At risk: calendar access lost\\s+Calendar: ICS feed ${escapeRegExp(revokedName)}\\s+Feed access revoked: cancelled at its join time unless access returns\\.$`));
    assert.equal(await row.getByTestId('at-risk-calendars').getAttribute('title'),
      `Its meeting is only on the feed ${revokedName}, whose access was revoked: it is cancelled at its join time unless access returns before then.`);
    await screenshot('upcoming-at-risk');

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Old standup', level: 1 }).waitFor();
    assert.match(await page.getByTestId('at-risk-note').innerText(), /Unless access returns before its join time \(in 3 days\), it is cancelled then instead of joining\./);
    // It says what to do, and where: the calendar is connected again from Calendars.
    const toCalendars = page.getByTestId('at-risk-note').getByRole('link', { name: 'Calendars', exact: true });
    assert.equal(await toCalendars.getAttribute('href'), '/dashboard/calendars');
    assert.match(await page.getByTestId('at-risk-note').innerText(), /To keep it, connect the calendar's account again: see Calendars/);
    assert.match(await page.locator('section[aria-labelledby="launch-title"]').innerText(), /Not launched yet, and it will not be unless its calendar's access returns before its join time \(in 3 days\): it is cancelled then\./);
    // The decision log's reasons name their instants in local time, like the rest of the page.
    const atRisk = await page.locator('section[aria-labelledby="why-title"] li[data-kind="at_risk"]').innerText();
    assert.match(atRisk, /Unless access returns before \S/);
    assert.doesNotMatch(atRisk, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    // Its code for clients is said in words, not as the code.
    assert.match(atRisk, /At risk: its calendar lost its access\s+Calendar access lost: /);
    assert.doesNotMatch(atRisk, /calendar_access_revoked/);
    // The connection it names by its id and the API's word for its provider, as Calendars names it
    // (once the page has read the connections).
    const why = page.locator('section[aria-labelledby="why-title"]');
    await why.locator('li[data-kind="at_risk"]').filter({ hasText: `Calendar access lost: the ICS feed ${revokedName} lost its access, so Rollcall` }).waitFor();
    assert.doesNotMatch(await why.innerText(), /cal_[a-z0-9]+|\(ics\)/);
    // The note names the calendar it cannot be read from, as Calendars names it, and what went wrong.
    // (Named first by the feed's own name, then as Calendars names it once the page has read the
    // connections, which it reads for a bot at risk only.)
    await page.getByTestId('at-risk-note').filter({ hasText: new RegExp(`^At risk: its meeting is only on the feed ${escapeRegExp(revokedName)}, whose access was revoked, so Rollcall cannot see whether the meeting still exists\\.`) }).waitFor();
    await screenshot('bot-at-risk');

    // A calendar of an account that refuses its reader while the account's others read: named by
    // its own name and its account's.
    await page.goto(`${base}/dashboard/bots/${refusedBot}`);
    await page.getByRole('heading', { name: 'Colleague sync', level: 1 }).waitFor();
    const refusedNote = page.getByTestId('at-risk-note');
    await refusedNote.filter({ hasText: new RegExp(`^At risk: its meeting is only on calendar Colleague of ${escapeRegExp(outlookName)}, which refuses Rollcall or is gone, so Rollcall`) }).waitFor();
    // Its decision names the account, the provider in words, not the connection's id.
    await page.locator('section[aria-labelledby="why-title"] li[data-kind="at_risk"]')
      .filter({ hasText: `Calendar access lost: the calendar of this meeting in the Microsoft Outlook account ${outlookName} refuses its reader` }).waitFor();
    assert.doesNotMatch(await page.locator('section[aria-labelledby="why-title"]').innerText(), /cal_[a-z0-9]+|\(microsoft\)/);
    // Its connection works: what to fix is the account's access to that calendar.
    assert.match(await refusedNote.innerText(), /To keep it, give the account read access to the calendar again \(if the calendar was deleted, its meetings went with it\): see Calendars/);
    assert.equal(await refusedNote.getByRole('link', { name: 'Calendars', exact: true }).getAttribute('href'), '/dashboard/calendars');
    await screenshot('bot-at-risk-refused-calendar');
  });

  test('a long calendar name is cut on Upcoming\'s at-risk badge, whole in its title, and wraps whole on a phone; a calendar disconnected since is said to be, in the decision log', async () => {
    const longName = 'Quarterly planning, hiring committee and offsite logistics of the platform engineering group';
    const feed = feeds.createFeed(longName);
    // Weeks away: outside the windows the Events test reads.
    const start = Date.now() + 25 * 86_400_000;
    feeds.edit(feed, (events) => {
      events.push({ uid: 'offsite@planning', summary: 'Offsite planning', startMs: start, endMs: start + 3_600_000, location: 'https://zoom.us/j/81234567895' });
    });
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const events = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start - 3_600_000).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: alice.auth });
    const botId = await schedule(alice.auth, events.body.results[0].id as string, 'offsite-planning', { bot_name: 'Offsite notes' });
    feeds.revoke(feed);
    assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth })).body.status, 'auth_revoked');

    await page.goto(`${base}/dashboard?calendar=${calendarId}`);
    const calendars = page.locator(`tr[data-bot-id="${botId}"]`).getByTestId('at-risk-calendars');
    await calendars.filter({ hasText: longName }).waitFor();
    const text = await calendars.textContent();
    // The feed's address is shortened to its host by the API.
    assert.match(text!, new RegExp(`^Calendar: ICS feed ${escapeRegExp(longName)} \\(127\\.0\\.0\\.1:\\d+\\)$`));
    // Cut after two lines (its text is whole for screen readers), and whole in its title.
    const isCut = () => calendars.evaluate((element) => (element as unknown as { scrollHeight: number; clientHeight: number }).scrollHeight > (element as unknown as { clientHeight: number }).clientHeight);
    assert.equal(await isCut(), true);
    assert.match((await calendars.getAttribute('title'))!, new RegExp(`^Its meeting is only on the feed ${escapeRegExp(longName)} \\(127\\.0\\.0\\.1:\\d+\\), whose access was revoked: `));
    await screenshot('upcoming-at-risk-long-name');
    await page.setViewportSize({ width: 320, height: 800 });
    try {
      // A phone has no title to hover: the row is as tall as the name needs.
      assert.equal(await isCut(), false);
      await page.screenshot({ path: join(SCREENSHOTS, 'upcoming-at-risk-long-name-320.png'), fullPage: true });
      const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      assert.ok(width <= 320, `Upcoming is ${width} px wide at 320 px`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // Disconnected, the connection's name is gone with it: the decision log says so rather than showing a bare id as if it were a name.
    const disconnected = await rc.request('DELETE', `/api/v1/calendar/connections/${calendarId}`, { auth: alice.auth });
    assert.equal(disconnected.status, 200, JSON.stringify(disconnected.body));
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Offsite planning', level: 1 }).waitFor();
    const atRisk = page.locator('section[aria-labelledby="why-title"] li[data-kind="at_risk"]');
    await atRisk.filter({ hasText: `Calendar access lost: an ICS feed connection since disconnected (${calendarId}, its name is no longer known) lost its access` }).waitFor();
    await screenshot('bot-calendar-disconnected-since');
  });

  test('a bot booked on a revoked feed\'s meeting names the feed in its decision log, which the reason says only in general terms', async () => {
    const feed = feeds.createFeed('Booked late');
    const start = Date.now() + 24 * 86_400_000;
    feeds.edit(feed, (events) => {
      events.push({ uid: 'late@feed', summary: 'Late booking', startMs: start, endMs: start + 1_800_000, location: 'https://zoom.us/j/81234567806' });
    });
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const events = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start - 3_600_000).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: alice.auth });
    feeds.revoke(feed);
    assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth })).body.status, 'auth_revoked');
    const botId = await schedule(alice.auth, events.body.results[0].id as string, 'late-booking', { bot_name: 'Late notes' });
    try {
      const stored = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.decisions.find((d: { kind: string }) => d.kind === 'at_risk');
      assert.match(stored.reason, /the calendars of this bot's meetings cannot be read/);
      await page.goto(`${base}/dashboard/bots/${botId}`);
      await page.getByRole('heading', { name: 'Late booking', level: 1 }).waitFor();
      const atRisk = page.locator('section[aria-labelledby="why-title"] li[data-kind="at_risk"]');
      await atRisk.filter({ hasText: /Calendar access lost: its meeting is only on the feed Booked late \(127\.0\.0\.1:\d+\), whose access was revoked, so Rollcall can no longer see/ }).waitFor();
      await screenshot('bot-booked-at-risk');
    } finally {
      await rc.request('DELETE', `/api/v1/calendar/connections/${calendarId}`, { auth: alice.auth });
    }
  });

  test('events list each event\'s bot; schedule and unschedule from the page', async () => {
    // A status change the live stream reports, on a meeting a month out (outside every window
    // below), its bot booked and cancelled again.
    let provoked = 0;
    const provokeStatusChange = async () => {
      const eventId = await createEvent(alice.auth, `Far off ${++provoked}`, Date.now() + 30 * 86_400_000, 30);
      await schedule(alice.auth, eventId, `far-off-${provoked}`);
      await rc.request('DELETE', `/api/v1/calendar/schedule/${eventId}`, { auth: alice.auth, body: {} });
    };
    // A meeting that ended an hour ago, and one whose link Rollcall will not open (a private address).
    await createEvent(alice.auth, 'Earlier sync', Date.now() - 2 * 3_600_000, 60);
    await createEvent(alice.auth, 'Intranet call', Date.now() + 5 * 3_600_000, 30, 'https://10.1.2.3/j/123456');
    await page.goto(`${base}/dashboard/events`);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    const dayValue = (date: Date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
    // To: the day of "Team lunch" (two days and two hours from now): the To day is included.
    const to = new Date(Date.now() + 2 * 86_400_000 + 7_200_000);
    await page.getByLabel('To', { exact: true }).fill(dayValue(to));
    // The calendar filter names connections as the Calendars page does.
    const calendarOptions = await page.getByLabel('Calendar').locator('option').allInnerTexts();
    assert.ok(calendarOptions.includes(revokedName), JSON.stringify(calendarOptions));
    assert.equal(new Set(calendarOptions).size, calendarOptions.length, JSON.stringify(calendarOptions));
    const retro = page.locator('tr').filter({ hasText: 'Sprint retro' });
    await retro.getByText('No bot').waitFor({ timeout: LIVE_TIMEOUT_MS });
    // Scheduled by keyboard: focus goes to the row's new button (Unschedule), not to the page.
    // (With the list on screen lagging behind the booking, as below for the unscheduling.)
    const stopLaggingBooking = await lagListBehind(page, 'POST', '**/api/v1/calendar/schedule/**', '**/api/v1/calendar/events?*', provokeStatusChange);
    try {
      await retro.getByRole('button', { name: 'Schedule bot for Sprint retro' }).focus();
      await page.keyboard.press('Enter');
      await retro.locator('.badge[data-status="Scheduled"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await focusMovesTo(page, 'Unschedule Sprint retro');
    } finally {
      await stopLaggingBooking();
    }
    // Label in Name (WCAG 2.5.3): a button's accessible name contains the words it shows.
    for (const button of await page.locator('main button[aria-label]').all()) {
      const [name, shown] = [await button.getAttribute('aria-label'), (await button.innerText()).trim()];
      assert.ok(name?.startsWith(shown), `the button showing ${JSON.stringify(shown)} is named ${JSON.stringify(name)}`);
    }
    // When: start to end, without seconds.
    const when = (await page.locator('tr').filter({ hasText: 'Team lunch' }).locator('td[data-label="When"]').innerText()).replace(/\s/g, ' ');
    assert.match(when, /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}( [AP]M)? – /, when);
    assert.doesNotMatch(when, /\d:\d{2}:\d{2}/, when);
    // A greyed Schedule bot says why.
    const whyNot = async (title: string) => {
      const row = page.locator('tr').filter({ hasText: title });
      const button = row.getByRole('button', { name: `Schedule bot for ${title}` });
      assert.equal(await button.isDisabled(), true, title);
      const reason = row.getByTestId('why-not-schedulable');
      assert.equal(await button.getAttribute('aria-describedby'), await reason.getAttribute('id'));
      return reason.innerText();
    };
    assert.equal(await whyNot('Team lunch'), 'No meeting link to join');
    assert.equal(await whyNot('Earlier sync'), 'Already ended');
    // A link the API refuses is explained for this page, which cannot pass another one.
    await page.locator('tr').filter({ hasText: 'Intranet call' }).getByRole('button', { name: 'Schedule bot for Intranet call' }).click();
    const refusal = await page.getByRole('alert').filter({ hasText: 'non-public address' }).innerText();
    assert.match(refusal, /The dashboard schedules bots on the event's own link; to join with another link, schedule the bot through the API with bot_config\.meeting_url\.$/);
    assert.doesNotMatch(refusal, /pass bot_config/);
    await screenshot('events');
    // A cleared From day is said in words (it was "Invalid time value"); the list comes back with a day.
    const fromDay = await page.getByLabel('From', { exact: true }).inputValue();
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByRole('alert').filter({ hasText: 'Choose a From day to list events.' }).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /Invalid time value|Something went wrong/);
    assert.equal(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid'), 'true');
    await page.getByLabel('From', { exact: true }).fill(fromDay);
    await retro.locator('.badge[data-status="Scheduled"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    // The link to the bot is named after where it goes, not only by its status badge.
    assert.equal(await retro.getByRole('link', { name: 'Bot for Sprint retro: Scheduled', exact: true }).count(), 1);
    // Unscheduling asks first; keeping the bot changes nothing.
    await retro.getByRole('button', { name: 'Unschedule Sprint retro' }).click();
    await retro.getByRole('button', { name: 'Keep' }).click();
    assert.equal(await retro.locator('.badge[data-status="Scheduled"]').count(), 1);
    // Focus goes back to the button that asked, after Keep as after Escape.
    await focusMovesTo(page, 'Unschedule Sprint retro');
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'Cancel bot');
    await page.keyboard.press('Escape');
    await focusMovesTo(page, 'Unschedule Sprint retro');
    assert.equal(await retro.locator('.badge[data-status="Scheduled"]').count(), 1);
    // The list on screen lags behind the unscheduling (the live stream's reload supersedes the
    // action's own and answers later): focus still reaches the row's new button.
    const stopLagging = await lagListBehind(page, 'DELETE', '**/api/v1/calendar/schedule/**', '**/api/v1/calendar/events?*', provokeStatusChange);
    try {
      await retro.getByRole('button', { name: 'Unschedule Sprint retro' }).click();
      await retro.getByRole('button', { name: 'Cancel bot' }).click();
      // An event lists only bots that are not cancelled (MeetStream's convention): it has none again.
      await retro.getByText('No bot').waitFor({ timeout: LIVE_TIMEOUT_MS });
      // Focus is on the row's new button, not lost with the question's.
      await focusMovesTo(page, 'Schedule bot for Sprint retro');
    } finally {
      await stopLagging();
    }

    // Auto-schedule is switched on from Calendars, with its default bot config.
    await page.getByRole('link', { name: 'Calendars' }).click();
    // A config that is not JSON: the switch says so and stays off.
    // By keyboard: the refusal is said beneath the config, which is marked invalid and takes focus.
    const autoSwitch = page.getByRole('switch', { name: 'Auto-schedule' });
    // Never set up: the settings' config is {} and a named bot is suggested in its place.
    assert.match(await page.getByLabel('Default bot config (JSON) for auto-scheduled bots').inputValue(), /"bot_name": "Rollcall notes"/);
    await page.getByLabel('Default bot config (JSON) for auto-scheduled bots').fill('{"bot_name": ');
    await autoSwitch.focus();
    await page.keyboard.press('Space');
    await page.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
    await isInvalidField(page, 'default-config', 'not valid JSON');
    assert.equal(await autoSwitch.isChecked(), false);
    assert.equal(await page.locator('#auto-state').innerText(), 'Off');
    await page.getByLabel('Default bot config (JSON) for auto-scheduled bots').fill('{"bot_name": "Auto notes"}');
    await page.getByLabel('Organizer').selectOption({ label: 'Only me' });
    await page.getByLabel('Recurring meetings').selectOption({ label: 'Left out' });
    await page.getByRole('switch', { name: 'Auto-schedule' }).check();
    await page.getByRole('status').filter({ hasText: 'Auto-scheduling enabled' }).waitFor();
    const settings = await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: alice.auth });
    assert.deepEqual([settings.body.auto_schedule_enabled, settings.body.default_bot_config.bot_name], [true, 'Auto notes']);
    assert.deepEqual(settings.body.rules, { organizer: 'me', response: 'any', participants: 'any', recurring: 'exclude' });
    await page.getByText('On: synced meetings that pass the rules below get a bot').waitFor();
    await isValidField(page, 'default-config');
    // The API refuses a field of the config (a join time belongs to one meeting): said beneath it too.
    await page.getByLabel('Default bot config (JSON) for auto-scheduled bots').fill('{"bot_name": "Auto notes", "join_at": "2030-01-01T00:00:00Z"}');
    await page.getByRole('button', { name: 'Save rules and config' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'default_bot_config.join_at: belongs to one meeting' }).waitFor();
    await isInvalidField(page, 'default-config', 'default_bot_config.join_at: belongs to one meeting');
    await screenshot('auto-schedule-config-refused');
    await page.getByLabel('Default bot config (JSON) for auto-scheduled bots').fill('{"bot_name": "Auto notes"}');
    // A feed names no organizer: under "Only me" its meetings get no bot; under "Anyone" the design
    // review gets one (the retro had one already, which the client unscheduled), and "Only me"
    // again takes it back.
    const save = page.getByRole('button', { name: 'Save rules and config' });
    await page.getByLabel('Organizer').selectOption({ label: 'Anyone' });
    await save.click();
    await page.getByRole('status').filter({ hasText: 'Auto-scheduling enabled successfully: 1 bot booked.' }).waitFor();
    await page.getByLabel('Organizer').selectOption({ label: 'Only me' });
    // Saving would take a bot back: it asks first, naming the meeting and why.
    await save.click();
    const question = page.getByRole('group', { name: 'Saving takes the bot from 1 meeting that no longer passes the rules:' });
    await question.waitFor();
    assert.match(await question.getByRole('list', { name: 'Meetings that would lose their bot' }).innerText(), /^Design review, .+: organizer unknown$/);
    await focusMovesTo(page, 'Save and take back');
    assert.equal(await page.getByLabel('Organizer').isDisabled(), true, 'the rules asked about cannot change under the question');
    await screenshot('auto-schedule-take-back');
    const reviewBot = async () => (await rc.request('GET', '/api/v1/bots/upcoming?limit=100', { auth: alice.auth })).body.bots.filter((b: { source: string; events: { title: string }[] }) => b.source === 'auto_schedule' && b.events.some((e) => e.title === 'Design review'));
    const booked = await reviewBot();
    assert.equal(booked.length, 1, JSON.stringify(booked));
    // Keep editing: nothing saved, nothing taken back, and focus goes back to Save.
    await question.getByRole('button', { name: 'Keep editing' }).click();
    await focusMovesTo(page, 'Save rules and config');
    assert.equal((await rc.request('GET', '/api/v1/calendar/auto-schedule/settings', { auth: alice.auth })).body.rules.organizer, 'anyone');
    assert.equal((await reviewBot()).length, 1, 'its bot stays');
    await save.click();
    await page.getByRole('button', { name: 'Save and take back' }).click();
    await page.getByRole('status').filter({ hasText: '1 meeting no longer passing the rules lost its bot.' }).waitFor();
    assert.equal((await reviewBot()).length, 0, 'taken back once confirmed');
    await screenshot('auto-schedule-rules');
    // Off by keyboard: the switch keeps the focus through its request.
    await page.getByRole('switch', { name: 'Auto-schedule' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('status').filter({ hasText: 'disabled' }).waitFor();
    await focusMovesTo(page, 'Auto-schedule');
    assert.equal(await page.getByRole('switch', { name: 'Auto-schedule' }).isChecked(), false);
  });

  test('a bot that is recording is live everywhere: Events offers no second bot, and Upcoming filters by Recording and Leaving', async () => {
    const botId = await launchedBot('Recorded demo', 'recorded-demo', 'Recorder');
    await report(botId, 'Recording');
    await page.goto(`${base}/dashboard/events`);
    const row = page.locator('tr').filter({ hasText: 'Recorded demo' });
    await row.locator('.badge[data-status="Recording"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.equal(await row.getByRole('button', { name: 'Schedule bot for Recorded demo' }).count(), 0, 'no Schedule bot beside a bot that is recording');
    assert.equal(await row.getByRole('button', { name: 'Unschedule Recorded demo' }).isDisabled(), true, 'a bot in its meeting is not unscheduled from here');

    await page.goto(`${base}/dashboard`);
    const statusFilter = page.getByLabel('Status');
    await statusFilter.waitFor();
    assert.deepEqual(await statusFilter.locator('option').allInnerTexts(), ['Any', 'Scheduled', 'Joining', 'In waiting room', 'In meeting', 'Recording', 'Leaving']);
    await statusFilter.selectOption('Recording');
    // Only that bot, once the filtered list replaced the whole one.
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(selector: string): { length: number } } })
      .document.querySelectorAll('table[aria-labelledby="list-title"] tbody tr').length === 1);
    await page.locator(`tr[data-bot-id="${botId}"]`).waitFor();
    // Nothing is leaving yet; once the bot leaves, the Leaving list shows it by itself.
    await statusFilter.selectOption('Leaving');
    await page.getByText('No bots match these filters.').waitFor();
    await report(botId, 'Leaving');
    await page.locator(`tr[data-bot-id="${botId}"] .badge[data-status="Leaving"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await report(botId, 'Done');
  });

  test('a launch the runtime refuses shows as failing on Upcoming and on its page; a bot that gave up says why among its launch attempts', async () => {
    // The meeting ends in 30 s; the runtime refuses the launch and asks for 35 s, so its retry
    // comes after the end and the bot gives up then.
    const eventId = await createEvent(alice.auth, 'Refused launch', Date.now() - 60_000, 1.5);
    const botId = await schedule(alice.auth, eventId, 'refused-launch', { bot_name: 'Refused notes', join_at: new Date(Date.now() + 4000).toISOString() });
    const usual = launches.respond;
    launches.respond = (request) => (request.json?.bot_id === botId ? { status: 503, body: { error: 'busy' }, headers: { 'retry-after': '35' } } : usual(request));
    try {
      const failingNow = async () => (await rc.request('GET', '/api/v1/bots/upcoming?status=Joining', { auth: alice.auth })).body.bots.find((b: { bot_id: string }) => b.bot_id === botId)?.launch_failing;
      for (const deadline = Date.now() + LIVE_TIMEOUT_MS; !(await failingNow());) {
        assert.ok(Date.now() < deadline, 'the launch was refused');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await page.goto(`${base}/dashboard`);
      const row = page.locator(`tr[data-bot-id="${botId}"]`);
      const failing = row.getByTestId('launch-failing');
      await failing.waitFor();
      // In words, as text (not a tooltip): the badge, how many attempts failed, what comes next, and
      // why. The retry asked for comes after the meeting's end: what comes is the failure there.
      assert.match(await failing.innerText(), /^Launch failing\s+1 attempt failed; fails at the meeting's end in \d+ seconds\s+Last error: runtime answered 503$/);
      assert.equal((await failingNow()).fails_at_meeting_end, true);
      assert.match(await row.locator('td[data-label="Status"]').innerText(), /^Joining\s+Launch failing/);
      await screenshot('upcoming-launch-failing');

      await row.getByRole('link').click();
      await page.getByRole('heading', { name: 'Refused launch', level: 1 }).waitFor();
      // launched_at is when the launch was sent, which says nothing of whether it was taken.
      const summary = page.locator('section[aria-labelledby="summary-title"]');
      assert.equal(await summary.locator('dt').filter({ hasText: /^Launched$/ }).count(), 0);
      await summary.locator('dt').filter({ hasText: /^Launch sent$/ }).waitFor();
      const note = page.getByTestId('launch-failing-note');
      await note.waitFor();
      const noteText = await note.innerText();
      assert.match(noteText, /runtime answered 503/);
      assert.match(noteText, /not tried again: the bot fails at the meeting's end in \d+ seconds, at /);
      assert.doesNotMatch(noteText, /next attempt/i);
      assert.doesNotMatch(noteText, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'the meeting\'s end in local time');
      await screenshot('bot-launch-failing');
      // At its retry the meeting has ended: the bot gives up, and its launch attempts say why.
      await page.locator('[data-testid="bot-status"]').filter({ hasText: 'Error' }).waitFor({ timeout: 60_000 });
      const attempts = page.locator('section[aria-labelledby="launch-title"]');
      await attempts.locator('li[data-kind="failed"]').filter({ hasText: 'did not accept the launch before the meeting ended' }).waitFor();
      assert.equal(await page.getByTestId('launch-failing-note').count(), 0, 'no note once it gave up');
    } finally {
      launches.respond = usual;
    }
  });

  test('Ended lists the bots that ended, the latest to end first, with why; filters by outcome and calendar; a bot that ends comes in by itself; pages', async () => {
    // Among them: the bot that gave up its refused launch (the test before), and the demo that was recorded, then done.
    await page.goto(`${base}/dashboard`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ended' }).click();
    await page.getByRole('heading', { name: 'Ended', level: 1 }).waitFor();
    await titleBecomes(page, 'Ended · Rollcall');
    const table = page.locator('table[aria-labelledby="list-title"]:not([aria-busy])');
    await table.waitFor();
    assert.deepEqual((await table.locator('thead th').allInnerTexts()).map((t) => t.replace(/\(.+\)/, '(zone)')), ['Meeting', 'Join time (zone)', 'Status', 'Why it ended']);
    const rowOf = (meeting: string) => table.locator('tbody tr').filter({ has: page.getByRole('link', { name: meeting, exact: true }) });
    const refused = rowOf('Refused launch');
    assert.equal(await refused.locator('td[data-label="Status"]').innerText(), 'Error');
    const why = await refused.locator('td[data-label="Why it ended"]').innerText();
    assert.match(why, /did not accept the launch before the meeting ended \(runtime answered 503\)\s+Ended /);
    assert.doesNotMatch(why, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'its instants in local time');
    assert.equal(await rowOf('Recorded demo').locator('td[data-label="Status"]').innerText(), 'Done');
    // The meeting, the bot's name and what booked the bot.
    assert.match(await rowOf('Recorded demo').locator('td[data-label="Meeting"]').innerText(), /^Recorded demo\s+Recorder\s+Booked through the API$/);
    // The latest to end first: the bot that gave up its launch in the test before, above the bots
    // cancelled earlier ahead of meetings weeks away (whose join times are the latest).
    assert.equal(await table.locator('tbody tr').first().getAttribute('data-bot-id'), await refused.getAttribute('data-bot-id'), 'the latest to end first');
    const endings = await table.locator('td[data-label="Why it ended"] time').evaluateAll((times) => times.map((t) => (t as unknown as { getAttribute(name: string): string }).getAttribute('datetime')));
    assert.ok(endings.length >= 2);
    assert.deepEqual(endings, [...endings].sort().reverse(), 'latest end first');
    // Why a cancelled bot ended, beside its status, does not say "Cancelled" again.
    const cancelledWhys = await table.locator('tbody tr').filter({ has: page.locator('td[data-label="Status"]', { hasText: /^Cancelled$/ }) }).locator('td[data-label="Why it ended"]').allInnerTexts();
    assert.ok(cancelledWhys.some((w) => /^(From the dashboard|Through the API)\b/.test(w)), cancelledWhys.join(' | '));
    for (const w of cancelledWhys) assert.doesNotMatch(w, /^Cancelled\b/, w);

    // By outcome, kept in the address.
    await page.getByRole('button', { name: 'Failed' }).click();
    // Once the failed ones replaced the list (busy, the table still shows the list before).
    await page.locator('table[aria-labelledby="list-title"]').filter({ has: page.getByRole('link', { name: 'Recorded demo', exact: true }) }).waitFor({ state: 'detached' });
    await refused.waitFor();
    assert.equal(new URL(page.url()).searchParams.get('outcome'), 'failed');
    assert.equal(await page.getByRole('button', { name: 'Failed' }).getAttribute('aria-pressed'), 'true');
    const failedStatuses = await table.locator('td[data-label="Status"]').allInnerTexts();
    assert.ok(failedStatuses.includes('Error') && failedStatuses.every((s) => ['Error', 'Missed', 'Not allowed', 'Denied'].includes(s)), failedStatuses.join());

    // A bot that ends while the list is open comes into it by itself, at its place.
    await page.getByRole('button', { name: 'Done' }).click();
    await rowOf('Recorded demo').waitFor();
    const botId = await launchedBot('Design sync', 'design-sync', 'Sync notes');
    await report(botId, 'InMeeting');
    await report(botId, 'Done');
    const synced = page.locator(`tr[data-bot-id="${botId}"]`);
    await synced.waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.equal(await table.locator('tbody tr').first().getAttribute('data-bot-id'), botId, 'it ended last');
    assert.equal(await synced.locator('td[data-label="Why it ended"]').innerText().then((t) => t.split('\n')[0]), 'Reported by the runtime: Done');

    // Its page, named after its meeting, leads back to Ended; Back keeps the filter.
    await synced.getByRole('link', { name: 'Design sync' }).click();
    await page.getByRole('heading', { name: 'Design sync', level: 1 }).waitFor();
    await page.locator('.breadcrumb').getByRole('link', { name: 'Ended' }).waitFor();
    // The navigation marks Ended too, not Upcoming.
    await navMarks('Ended');
    await screenshot('bot-ended');
    await page.goBack();
    await page.getByRole('heading', { name: 'Ended', level: 1 }).waitFor();
    await synced.waitFor();
    assert.equal(await page.getByRole('button', { name: 'Done' }).getAttribute('aria-pressed'), 'true', 'Back shows the same list');
    await page.getByRole('button', { name: 'All' }).click();
    await rowOf('Refused launch').waitFor();
    await screenshot('ended');

    // More than a page (25): bots cancelled ahead of meetings weeks away, listed first as they ended last.
    const cancelled: string[] = [];
    for (let i = 0; i < 26; i++) {
      const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: alice.auth, body: { meeting_link: `https://zoom.us/j/${87_000_000_000 + i}`, bot_name: 'Paged', join_at: new Date(Date.now() + 40 * 86_400_000 + i * 60_000).toISOString() } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await rc.request('GET', `/api/v1/bots/${created.body.bot_id}/remove_bot`, { auth: alice.auth })).status, 200);
      cancelled.push(created.body.bot_id);
    }
    // Each change is live: the list is read again by itself.
    await page.locator(`tr[data-bot-id="${cancelled[25]}"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    const next = page.getByRole('button', { name: 'Next page' });
    await next.scrollIntoViewIfNeeded();
    await next.focus();
    await page.keyboard.press('Enter');
    await page.locator('.pager-position').filter({ hasText: 'Page 2' }).waitFor();
    await focusMovesTo(page, 'list-title');
    await page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${cancelled[0]}"]`).waitFor();
    assert.equal(await table.locator('tbody tr').first().getAttribute('data-bot-id'), cancelled[0], 'the earliest of them begins page 2');
    assert.equal(new URL(page.url()).searchParams.getAll('cursor').length, 1);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.locator('.pager-position').filter({ hasText: 'Page 1' }).waitFor();
    await page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${cancelled[25]}"]`).waitFor();

    // By calendar, as Upcoming and Events filter, kept in the address: the bot unscheduled from
    // Events for the Team feed's retro, not the bots made through the API.
    const calendarFilter = page.getByLabel('Calendar');
    const teamOption = calendarFilter.locator('option', { hasText: 'Team (' });
    await teamOption.waitFor({ state: 'attached' });
    const teamId = (await teamOption.getAttribute('value'))!;
    await calendarFilter.selectOption(teamId);
    await page.waitForURL((url) => url.searchParams.get('calendar') === teamId);
    await page.locator(`table[aria-labelledby="list-title"] tr[data-bot-id="${cancelled[25]}"]`).waitFor({ state: 'detached' });
    const teamKept = async () => {
      await table.locator('tbody tr').first().waitFor();
      const meetings = await table.locator('td[data-label="Meeting"] a').allInnerTexts();
      assert.ok(meetings.includes('Sprint retro') && meetings.every((m) => ['Sprint retro', 'Team lunch', 'Design review'].includes(m)), meetings.join());
      await calendarFilter.locator(`option[value="${teamId}"]`).waitFor({ state: 'attached' });
      assert.equal(await calendarFilter.inputValue(), teamId);
    };
    await teamKept();
    assert.equal(await page.locator('.pager-position').count(), 0, 'one page');
    await screenshot('ended-calendar');
    await page.reload();
    await teamKept();
    await calendarFilter.selectOption('');
    await page.waitForURL((url) => !url.searchParams.has('calendar'));
    await page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${cancelled[25]}"]`).waitFor();
  });

  test('a bot cancelled ahead of its meeting shows its join time as planned, not counted down, on Ended and on its page', async () => {
    const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: alice.auth, body: { meeting_link: 'https://meet.google.com/far-ahea-dzz', bot_name: 'Far ahead', join_at: new Date(Date.now() + 3 * 86_400_000).toISOString() } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const botId = created.body.bot_id as string;
    assert.equal((await rc.request('GET', `/api/v1/bots/${botId}/remove_bot`, { auth: alice.auth })).status, 200);
    await page.goto(`${base}/dashboard/ended`);
    const row = page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${botId}"]`);
    await row.waitFor();
    const joinTime = await row.locator('td[data-label="Join time"]').innerText();
    assert.match(joinTime, /\nplanned; ended before then$/);
    assert.doesNotMatch(joinTime, /\bin \d+ days?\b|tomorrow/, 'no countdown to a join that will not happen');

    await row.getByRole('link', { name: 'meet.google.com' }).click();
    await page.getByRole('heading', { name: 'meet.google.com', level: 1 }).waitFor();
    const facts = page.locator('dl.facts');
    assert.deepEqual(await facts.locator('dt').filter({ hasText: /^Joins$/ }).count(), 0, 'an ended bot no longer "joins"');
    const joinFact = await facts.locator('div').filter({ has: page.locator('dt', { hasText: /^Join time$/ }) }).locator('dd').innerText();
    assert.match(joinFact, / planned; ended before then$/);
    assert.doesNotMatch(joinFact, /\bin \d+ days?\b/);
    await screenshot('bot-cancelled-ahead');
  });

  test('a bot whose stored data was deleted says so on Ended and on its page, rather than showing blanks', async () => {
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Private offsite', Date.now() + 2 * 86_400_000), 'private-offsite', { bot_name: 'Discreet' });
    assert.equal((await rc.request('DELETE', `/api/v1/bots/${botId}/delete`, { auth: alice.auth })).status, 200);
    await page.goto(`${base}/dashboard/ended`);
    const row = page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${botId}"]`);
    await row.waitFor();
    assert.equal(await row.locator('td[data-label="Meeting"]').innerText(), 'Data deleted');
    assert.match(await row.locator('td[data-label="Why it ended"]').innerText(), /^Not kept: its data was deleted\s+Ended /);
    await screenshot('ended-data-deleted');

    await row.getByRole('link', { name: 'Data deleted' }).click();
    await page.getByRole('heading', { name: 'Data deleted', level: 1 }).waitFor();
    await titleBecomes(page, 'Data deleted · Rollcall');
    assert.match(await page.locator('[data-testid="data-deleted"]').innerText(), /^Its stored data was deleted .+: its meeting link, configuration, deduplication key, decision log and the reasons of its status changes are gone\.$/);
    const fact = (name: string) => page.locator('dl.facts div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd').innerText();
    assert.equal(await fact('Meeting'), 'Deleted with its data');
    assert.equal(await fact('Deduplication key'), 'Deleted with its data');
    assert.equal(await fact('Webhooks to'), 'Deleted with its data', 'not "none": its callback_url went with its data');
    assert.equal(await page.locator('section[aria-labelledby="deliveries-title"] p').innerText(), 'Its sent webhooks were deleted with its data.');
    assert.equal(await page.locator('section[aria-labelledby="events-title"] p').innerText(), 'Not shown: its data was deleted.', 'its meeting had an event');
    assert.match(await fact('Join time'), / planned; ended before then$/);
    await screenshot('bot-data-deleted');
  });

  test('a bot made without a deduplication key says none was given, not the key Rollcall made up for it', async () => {
    const make = async (extra: Record<string, unknown>) => {
      const created = await rc.request('POST', '/api/v1/bots/create_bot', { auth: alice.auth, body: { meeting_link: 'https://meet.google.com/key-less-bot', bot_name: 'Keyless', join_at: new Date(Date.now() + 5 * 3_600_000).toISOString(), ...extra } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body.bot_id as string;
    };
    const keyFact = () => page.locator('dl.facts div').filter({ has: page.locator('dt', { hasText: /^Deduplication key$/ }) }).locator('dd');
    const keyless = await make({});
    await page.goto(`${base}/dashboard/bots/${keyless}`);
    await page.getByRole('heading', { name: 'meet.google.com', level: 1 }).waitFor();
    assert.equal(await keyFact().innerText(), 'None given');
    await screenshot('bot-without-key');
    const keyed = await make({ deduplication_key: 'standup-notes' });
    await page.goto(`${base}/dashboard/bots/${keyed}`);
    await page.getByTestId('bot-ids').locator('dd', { hasText: keyed }).waitFor({ state: 'attached' });
    assert.equal(await keyFact().innerText(), 'standup-notes', 'a key given is shown as it was given');
    for (const botId of [keyless, keyed]) assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: alice.auth })).status, 200);
  });

  test('a bot\'s page names its meeting, not its ids: breadcrumb, decision log, events; a key the dashboard set is said in words', async () => {
    const eventId = await createEvent(alice.auth, 'Design review', Date.now() + 3 * 86_400_000, 30, 'https://zoom.us/j/81234567055');
    const key = `dashboard:${eventId}`;
    // Booked from the dashboard (its session), as its Events page books: the key is the dashboard's.
    const booked = await page.evaluate(async ({ eventId, key }) => {
      const session = await (await fetch('/dashboard/session')).json() as { csrf_token: string };
      const response = await fetch(`/api/v1/calendar/schedule/${eventId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ deduplication_key: key, bot_config: { bot_name: 'Design notes' } }) });
      return { status: response.status, body: await response.json() as { bot_id: string } };
    }, { eventId, key });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    const botId = booked.body.bot_id;
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Design review', level: 1 }).waitFor();
    assert.equal(await page.locator('.breadcrumb').innerText(), 'Upcoming / Design review');
    const log = page.locator('section[aria-labelledby="why-title"] ol.log');
    // Said once ("Scheduled", then the rest), without the meeting's identity: its only meeting.
    const scheduled = log.locator('li[data-kind="scheduled"] > span').filter({ hasText: /^For “Design review”; joins \d+ minutes? before the start$/ });
    await scheduled.waitFor();
    assert.match(await scheduled.getAttribute('title') ?? '', /\(zoom:81234567055\)/, 'the stored reason, identity and all, a hover away');
    const keyFact = page.locator('dl.facts div').filter({ has: page.locator('dt', { hasText: /^Deduplication key$/ }) }).locator('dd');
    assert.equal(await keyFact.innerText(), 'Chosen by the dashboard');
    assert.equal(await keyFact.getAttribute('title'), key);
    // What booked the bot is its stored origin, not the words of its first status change: with
    // those words as a version before origins wrote them ("Scheduled"), the key is still the dashboard's.
    await rc.database.db.updateTable('bot_status_changes').set({ reason: 'Scheduled' }).where('bot_id', '=', botId).where('status', '=', 'Scheduled').execute();
    await page.reload();
    await page.getByRole('heading', { name: 'Design review', level: 1 }).waitFor();
    assert.equal(await keyFact.innerText(), 'Chosen by the dashboard', 'read from origin');
    const main = await page.locator('main').innerText();
    for (const id of [botId, eventId, 'zoom:81234567055']) assert.ok(!main.includes(id), `${id} not in what a person reads: ${main}`);
    // The ids stay a click away.
    await page.getByTestId('bot-ids').locator('summary').click();
    const ids = await page.getByTestId('bot-ids').innerText();
    for (const id of [botId, key, eventId, 'zoom:81234567055']) assert.ok(ids.includes(id), `${id} in ${ids}`);
    await screenshot('bot-ids');
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: alice.auth })).status, 200);
  });

  test('Upcoming and Ended say what booked each bot, and Ended names the event its reason names by its title, not its id', async () => {
    const eventId = await createEvent(alice.auth, 'Quarterly planning', Date.now() + 4 * 86_400_000, 60);
    // Booked from the dashboard (its session), as its Events page books.
    const booked = await page.evaluate(async ({ eventId }) => {
      const session = await (await fetch('/dashboard/session')).json() as { csrf_token: string };
      const response = await fetch(`/api/v1/calendar/schedule/${eventId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ deduplication_key: `dashboard:${eventId}`, bot_config: { bot_name: 'Planning notes' } }) });
      return { status: response.status, body: await response.json() as { bot_id: string } };
    }, { eventId });
    assert.equal(booked.status, 200, JSON.stringify(booked.body));
    const dashboardBot = booked.body.bot_id;
    const apiEvent = await createEvent(alice.auth, 'Supplier call', Date.now() + 4 * 86_400_000 + 3_600_000, 30);
    const apiBot = await schedule(alice.auth, apiEvent, 'supplier-call', { bot_name: 'Supplier notes' });

    await page.goto(`${base}/dashboard`);
    const upcomingRow = (botId: string) => page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${botId}"]`);
    await upcomingRow(dashboardBot).waitFor();
    // The meeting is from no calendar (made through the API); its bot was booked from the dashboard, or through the API.
    assert.equal(await upcomingRow(dashboardBot).locator('td[data-label="Source"]').innerText(), 'No calendar\nBooked from the dashboard');
    assert.equal(await upcomingRow(apiBot).locator('td[data-label="Source"]').innerText(), 'No calendar\nBooked through the API');
    for (const botId of [dashboardBot, apiBot]) assert.doesNotMatch(await upcomingRow(botId).innerText(), /evt_/);
    await upcomingRow(dashboardBot).scrollIntoViewIfNeeded();
    await screenshot('upcoming-origin');

    // The events go: each bot ends "Event evt_… was deleted", as the API keeps saying.
    for (const id of [eventId, apiEvent]) assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${id}`, { auth: alice.auth })).status, 200);
    const ended = (await rc.request('GET', '/api/v1/bots/ended', { auth: alice.auth })).body.bots as { bot_id: string; end_reason: string }[];
    assert.equal(ended.find((b) => b.bot_id === dashboardBot)?.end_reason, `Event ${eventId} was deleted`);
    // One bot's event lost its title since (as a feed's untitled event has none): "its event", still no id.
    await rc.database.db.updateTable('events').set({ title: null }).where('id', '=', apiEvent).execute();
    // One occurrence of a series unscheduled, as the Events page does it (DELETE /calendar/schedule/{occurrence id}):
    // the API's reason names it by its id, `<series id>_<key>`.
    const first = Math.ceil((Date.now() + 5 * 86_400_000) / 60_000) * 60_000;
    const series = await rc.request('POST', '/api/v1/calendar/events', { auth: alice.auth, body: {
      title: 'Weekly sync', start_time: new Date(first).toISOString(), end_time: new Date(first + 1_800_000).toISOString(), timezone: 'UTC',
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'], meeting_url: `https://zoom.us/j/${8_000_000_000 + Math.floor(Math.random() * 999_999_999)}`,
    } });
    assert.equal(series.status, 201, JSON.stringify(series.body));
    assert.equal((await rc.request('POST', `/api/v1/calendar/schedule/${series.body.id}`, { auth: alice.auth, body: { deduplication_key: 'weekly-sync', bot_config: {}, schedule_all_occurrences: true } })).status, 200);
    const occurrenceId = `${series.body.id}_${new Date(first).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}`;
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/schedule/${occurrenceId}`, { auth: alice.auth })).status, 200);
    const occurrenceBot = ((await rc.request('GET', '/api/v1/bots/ended', { auth: alice.auth })).body.bots as { bot_id: string; end_reason: string }[])
      .find((b) => b.end_reason === `Unscheduled through the API (occurrence ${occurrenceId})`)?.bot_id;
    assert.ok(occurrenceBot, 'the occurrence\'s bot ended, its reason naming the occurrence by its id');
    await page.goto(`${base}/dashboard/ended`);
    const endedRow = (botId: string) => page.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${botId}"]`);
    await endedRow(dashboardBot).waitFor();
    assert.match(await endedRow(dashboardBot).locator('td[data-label="Why it ended"]').innerText(), /^“Quarterly planning” was deleted\s+Ended /);
    assert.match(await endedRow(apiBot).locator('td[data-label="Why it ended"]').innerText(), /^Its event was deleted\s+Ended /);
    assert.equal(await endedRow(dashboardBot).locator('td[data-label="Meeting"]').innerText(), 'Quarterly planning\nPlanning notes\nBooked from the dashboard');
    assert.match(await endedRow(apiBot).locator('td[data-label="Meeting"]').innerText(), /\nSupplier notes\nBooked through the API$/);
    // The occurrence by its series' title and its start, in the browser's zone as every time on the page.
    const occurrenceStart = await page.evaluate((ms) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms)), first);
    assert.match(await endedRow(occurrenceBot).locator('td[data-label="Why it ended"]').innerText(), new RegExp(`^Unscheduled through the API \\(occurrence of “Weekly sync” on ${occurrenceStart}\\)\\s+Ended `));
    for (const botId of [dashboardBot, apiBot, occurrenceBot]) assert.doesNotMatch(await endedRow(botId).innerText(), /evt_/);
    await endedRow(occurrenceBot).scrollIntoViewIfNeeded();
    await screenshot('ended-origin');
  });

  test('an all-day occurrence is named by its date as the calendar has it, also to a viewer west of the calendar; a calendar bot whose event let go of it still reads as from its calendar', async () => {
    const DAY = 86_400_000;
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    // A Berlin feed: a daily all-day series (date-valued DTSTART) and a meeting about to start.
    const firstDay = new Date(Date.now() + 3 * DAY).toLocaleDateString('en-CA', { timeZone: 'Europe/Berlin' });
    const meetingStart = Date.now() + 10 * 60_000;
    const lines = (withLink: boolean) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Example//EN', 'X-WR-TIMEZONE:Europe/Berlin',
      'BEGIN:VEVENT', 'UID:offsite@alice', `DTSTAMP:${stamp(Date.now())}`, `DTSTART;VALUE=DATE:${firstDay.replace(/-/g, '')}`, 'RRULE:FREQ=DAILY;COUNT=2', 'SUMMARY:Offsite', 'LOCATION:https://zoom.us/j/86666666666', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:kept@alice', `DTSTAMP:${stamp(Date.now())}`, `DTSTART:${stamp(meetingStart)}`, `DTEND:${stamp(meetingStart + 3_600_000)}`, 'SUMMARY:Kept meeting', ...(withLink ? ['LOCATION:https://zoom.us/j/87777777777'] : []), 'END:VEVENT',
      'END:VCALENDAR', ''].join('\r\n');
    const feedUrl = feeds.publishRaw(lines(true));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feedUrl } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const listed = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date().toISOString()}&time_max=${new Date(Date.now() + 6 * DAY).toISOString()}`, { auth: alice.auth });
    const events = listed.body.results as { id: string; title: string; is_all_day: boolean; recurring_event_id: string | null }[];
    const secondDay = events.filter((e) => e.title === 'Offsite')[1]!;
    assert.equal(secondDay.is_all_day, true);
    // A bot for the second day, unscheduled: its reason names the occurrence by its key, its midnight in Berlin.
    const offsiteBot = await schedule(alice.auth, secondDay.id, 'offsite-day-2');
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/schedule/${secondDay.id}`, { auth: alice.auth })).status, 200);
    const secondDate = await page.evaluate((day) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000)), firstDay);

    // A bot in the kept meeting, whose link the organiser then takes out of the event: the bot stays.
    const keptId = events.find((e) => e.title === 'Kept meeting')!.id;
    const keptBot = await schedule(alice.auth, keptId, 'kept-meeting', { bot_name: 'Kept notes', join_at: new Date(Date.now() + 1000).toISOString() });
    for (let i = 0; i < 100 && await statusOf(keptBot) === 'Scheduled'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await report(keptBot, 'InMeeting');
    feeds.replaceWithRaw(feedUrl, lines(false));
    assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth })).status, 200);
    assert.equal(await statusOf(keptBot), 'InMeeting');

    // Seen from Los Angeles, nine hours west of Berlin, where the occurrence's midnight is 3 PM the day before.
    const west = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'America/Los_Angeles' });
    try {
      await west.addCookies(await context.cookies());
      const there = await west.newPage();
      await there.goto(`${base}/dashboard`);
      const keptRow = there.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${keptBot}"]`);
      await keptRow.waitFor();
      assert.equal(await keptRow.locator('td[data-label="Source"]').innerText(), 'Calendar\nRemoved from its calendar event\nBooked through the API');
      assert.match(await keptRow.locator('td[data-label="Meeting"]').innerText(), /^Kept meeting\nKept notes$/, 'named by the event it had');
      await keptRow.scrollIntoViewIfNeeded();
      await there.screenshot({ path: join(SCREENSHOTS, 'upcoming-event-no-longer-linked-desktop.png'), fullPage: true });
      // Filtered by the calendar its row names, it is still listed.
      await there.goto(`${base}/dashboard?calendar=${calendarId}`);
      await there.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${keptBot}"]`).waitFor();

      await there.goto(`${base}/dashboard/ended`);
      const endedRow = there.locator(`table[aria-labelledby="list-title"]:not([aria-busy]) tr[data-bot-id="${offsiteBot}"]`);
      await endedRow.waitFor();
      assert.match(await endedRow.locator('td[data-label="Why it ended"]').innerText(), new RegExp(`^Unscheduled through the API \\(occurrence of “Offsite” on ${secondDate}\\)\\s+Ended `));
      await endedRow.scrollIntoViewIfNeeded();
      await there.screenshot({ path: join(SCREENSHOTS, 'ended-all-day-occurrence-los-angeles-desktop.png'), fullPage: true });

      // Its page: the event's day, no time, and the decision log's occurrence by its date.
      await there.goto(`${base}/dashboard/bots/${offsiteBot}`);
      await there.getByRole('heading', { name: 'Offsite' }).first().waitFor();
      const eventsText = await there.locator('.plain-list li').filter({ hasText: 'Offsite' }).first().innerText();
      assert.match(eventsText, new RegExp(`^Offsite\\n${secondDate}\\s`), eventsText);
      assert.match(await there.getByRole('region', { name: 'Why: the decision log' }).innerText(), new RegExp(`occurrence of “Offsite” on ${secondDate}\\)`));
      // The Status timeline beside it says the same day, by the series' title, not the raw id.
      const timeline = await there.getByRole('region', { name: 'Status timeline' }).innerText();
      assert.match(timeline, new RegExp(`occurrence of “Offsite” on ${secondDate}\\)`), timeline);
      assert.doesNotMatch(timeline, /evt_/);
      // Its hover text is the day too, not midnight in the viewer's zone.
      assert.equal(await there.locator('.plain-list li').filter({ hasText: 'Offsite' }).first().locator('time').getAttribute('title'), `${secondDate}, all day`);
      await there.screenshot({ path: join(SCREENSHOTS, 'bot-all-day-occurrence-los-angeles-desktop.png'), fullPage: true });
    } finally {
      await west.close();
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${keptBot}`, { auth: alice.auth });
    }
  });

  test('a page showing "cannot be reached" reads again as soon as the browser is back online, as a background read', async () => {
    await page.goto(`${base}/dashboard/events`);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await context.setOffline(true);
    const reads: boolean[] = [];
    const note = (request: { method(): string; url(): string; headers(): Record<string, string> }) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/v1/bots/ended') reads.push(request.headers()['x-rollcall-background'] === '1');
    };
    try {
      await page.getByRole('link', { name: 'Ended' }).click();
      await page.getByText('The server cannot be reached').first().waitFor();
      page.on('request', note);
      await context.setOffline(false);
      // Well before the next 30 s refresh or the live stream's reconnect.
      await page.getByText('The server cannot be reached').first().waitFor({ state: 'detached', timeout: 2_500 });
      assert.ok(reads.length >= 1 && reads.every((isMarked) => isMarked), `reads after the connection came back marked as the page's own: ${JSON.stringify(reads)}`);
    } finally {
      page.off('request', note);
      await context.setOffline(false);
    }
  });

  test('a reschedule from a page left open reads the bot first: when its join time moved meanwhile, nothing is sent and the page says so', async () => {
    const eventId = await createEvent(alice.auth, 'Roadmap review', Date.now() + 26 * 3_600_000, 60);
    const botId = await schedule(alice.auth, eventId, 'roadmap', { bot_name: 'Roadmap notes' });
    const joinOf = async () => (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body.scheduled_join_time as string;
    const joinBefore = Date.parse(await joinOf());
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Roadmap review', level: 1 }).waitFor();
    // The user starts an edit from the time shown: an hour earlier.
    const wanted = Math.floor((joinBefore - 3_600_000) / 60_000) * 60_000;
    await page.getByLabel('New join time').fill(localInput(wanted));
    // Meanwhile the meeting moves a day later through the API, and its bot with it.
    const moved = await rc.request('PATCH', `/api/v1/calendar/events/${eventId}`, { auth: alice.auth, body: { start_time: new Date(Date.now() + 50 * 3_600_000).toISOString(), end_time: new Date(Date.now() + 51 * 3_600_000).toISOString() } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const joinMoved = await joinOf();
    assert.notEqual(Date.parse(joinMoved), joinBefore);
    const patches: string[] = [];
    const notePatch = (request: { method(): string; url(): string }) => {
      if (request.method() === 'PATCH') patches.push(request.url());
    };
    page.on('request', notePatch);
    try {
      await page.getByRole('button', { name: 'Reschedule' }).click();
      const notice = page.getByRole('alert').filter({ hasText: 'changed meanwhile' });
      await notice.waitFor();
      const text = await notice.innerText();
      assert.match(text, /try again/);
      assert.doesNotMatch(text, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'the new time in local time');
      assert.deepEqual(patches, [], 'nothing was sent');
      assert.equal(await joinOf(), joinMoved, 'the bot keeps the join time it moved to');
      // The page shows the new time, and the edit is kept for the user to check.
      assert.equal(Date.parse(await page.locator('section[aria-labelledby="summary-title"] time').first().getAttribute('datetime') ?? ''), Date.parse(joinMoved));
      assert.equal(new Date(await page.getByLabel('New join time').inputValue()).getTime(), wanted);
      // Checked, and sent again: now it goes.
      await page.getByRole('button', { name: 'Reschedule' }).click();
      await page.getByRole('status').filter({ hasText: 'The join time was moved.' }).waitFor();
      assert.equal(patches.length, 1);
      assert.equal(Date.parse(await joinOf()), wanted);
    } finally {
      page.off('request', notePatch);
    }
  });

  test('pages keep themselves fresh: on return to the tab, every 30 s, and after the live stream reconnects (a read that fails keeps the rows shown, and says so)', async () => {
    const eventId = await createEvent(alice.auth, 'Fresh sync', Date.now() + 30 * 3_600_000, 30);
    const botId = await schedule(alice.auth, eventId, 'fresh-sync', { bot_name: 'Fresh notes' });
    /** Moves the bot's join time through the API (no status changes: the live stream says nothing); answers the new time. */
    let minutes = 0;
    const moveBot = async () => {
      const join = new Date(Math.floor((Date.now() + 29 * 3_600_000) / 60_000) * 60_000 + ++minutes * 60_000).toISOString();
      const answer = await rc.request('PATCH', `/api/v1/calendar/scheduled/${botId}`, { auth: alice.auth, body: { scheduled_join_time: join } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return join;
    };
    const joinShown = (on: Page) => on.locator(`tr[data-bot-id="${botId}"] td[data-label="Joins"] time`);
    const showsJoin = async (on: Page, join: string) => {
      const deadline = Date.now() + 5000;
      while (Date.parse(await joinShown(on).getAttribute('datetime') ?? '') !== Date.parse(join)) {
        assert.ok(Date.now() < deadline, `the page shows the join time ${join}`);
        await on.waitForTimeout(100);
      }
    };
    /** The tab is hidden, then shown again (the browser's own visibility cannot be switched headless). */
    const hideAndShow = (on: Page) => on.evaluate(() => {
      const doc = (globalThis as unknown as { document: { dispatchEvent(event: unknown): void } }).document;
      const visibility = (state: string) => {
        Object.defineProperty(doc, 'visibilityState', { value: state, configurable: true });
        doc.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('visibilitychange'));
      };
      visibility('hidden');
      visibility('visible');
    });

    await page.goto(`${base}/dashboard`);
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await joinShown(page).waitFor();
    // Back to the tab: read again, quietly (no "Loading" over the list shown).
    await page.evaluate(() => {
      const g = globalThis as unknown as { sawLoading: boolean; MutationObserver: new (f: () => void) => { observe(n: unknown, o: unknown): void }; document: { body: unknown; querySelector(s: string): unknown } };
      g.sawLoading = false;
      new g.MutationObserver(() => {
        if (g.document.querySelector('.state-loading')) g.sawLoading = true;
      }).observe(g.document.body, { childList: true, subtree: true });
    });
    await showsJoin(page, await moveBot().then(async (join) => {
      await hideAndShow(page);
      return join;
    }));
    assert.equal(await page.evaluate(() => (globalThis as unknown as { sawLoading: boolean }).sawLoading), false, 'no Loading over the data shown');

    // Every 30 s while the tab is visible.
    const clocked = await context.newPage();
    try {
      await clocked.clock.install();
      await clocked.goto(`${base}/dashboard`);
      await joinShown(clocked).waitFor();
      const join = await moveBot();
      await clocked.clock.fastForward('00:31');
      await showsJoin(clocked, join);
    } finally {
      await clocked.close();
    }

    // A read that fails in the background keeps the rows shown and says since when they are shown,
    // rather than putting an error in their place; the server comes back (here: every connection
    // dropped, as a restart does), the live stream reconnects, the page reads again and the notice goes.
    const staleNotice = page.getByTestId('stale-notice');
    const readsOfUpcoming = /\/api\/v1\/bots\/(upcoming|launch-histogram)\?/;
    await page.route(readsOfUpcoming, (route) => route.fulfill({ status: 500, contentType: 'text/html', body: '<html>Server restarting</html>' }));
    try {
      await hideAndShow(page);
      await staleNotice.filter({ hasText: /^Could not refresh; showing data from \d{2}:\d{2}\s?[AP]M\.$/ }).waitFor();
      assert.equal(await staleNotice.getAttribute('role'), 'status');
      assert.equal(await joinShown(page).count(), 1, 'the rows shown stay');
      assert.equal(await page.locator('main .state-error').count(), 0, 'no error state in their place');
      await page.locator('.chart svg').waitFor();
      await screenshot('upcoming-stale');
    } finally {
      await page.unroute(readsOfUpcoming);
    }
    const join = await moveBot();
    rc.app.server.closeAllConnections();
    await page.getByText('Reconnecting…', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await joinShown(page).waitFor({ timeout: 5000 });
    await showsJoin(page, join);
    assert.equal(await staleNotice.innerText(), '', 'the notice is gone');
  });

  test('the reads a page makes by itself are marked as its own (not a person\'s use of the session): every 30 s, on return to the tab, after status changes, after a reconnect; a person\'s reads are not', async () => {
    const eventId = await createEvent(alice.auth, 'Marked reads', Date.now() + 31 * 3_600_000, 30);
    const botId = await schedule(alice.auth, eventId, 'marked-reads', { bot_name: 'Marked' });
    const reads: { path: string; isMarked: boolean }[] = [];
    const note = (request: { method(): string; url(): string; headers(): Record<string, string> }) => {
      const path = new URL(request.url()).pathname;
      // The live stream is told apart by the server itself (EventSource sends no header of ours).
      if (request.method() === 'GET' && path.startsWith('/api/v1/') && path !== '/api/v1/bots/status-changes') {
        reads.push({ path, isMarked: request.headers()['x-rollcall-background'] === '1' });
      }
    };
    /** Waits for reads of `pattern` to come, then answers everything read since the last call. */
    const readsUntil = async (pattern: RegExp, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!reads.some((read) => pattern.test(read.path))) {
        assert.ok(Date.now() < deadline, `${what}: a read of ${pattern}; saw ${JSON.stringify(reads)}`);
        await page.waitForTimeout(100);
      }
      // Let the rest of that load (a bot's events after the bot) go out too.
      await page.waitForTimeout(1000);
      return reads.splice(0);
    };
    const allMarked = (seen: { path: string; isMarked: boolean }[], what: string) => assert.deepEqual(seen.filter((read) => !read.isMarked), [], `${what}: every read marked`);
    // A page's opening is the first read of each path it makes: a status change the steps before
    // left (a live stream hears it a moment later on PostgreSQL) may read the list again, marked.
    const noneMarked = (seen: { path: string; isMarked: boolean }[], what: string) => {
      const opening = seen.filter((read, i) => seen.findIndex((other) => other.path === read.path) === i);
      assert.deepEqual(opening.filter((read) => read.isMarked), [], `${what}: no read marked`);
    };
    page.on('request', note);
    try {
      // Opening a page is a person's doing.
      await page.goto(`${base}/dashboard`);
      await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      noneMarked(await readsUntil(/^\/api\/v1\/bots\/upcoming$/, 'opening Upcoming'), 'opening Upcoming');
      // A status change: the list and chart are read again, by the page.
      const other = await schedule(alice.auth, await createEvent(alice.auth, 'Marked change', Date.now() + 32 * 3_600_000, 30), 'marked-change');
      allMarked(await readsUntil(/^\/api\/v1\/bots\/(upcoming|launch-histogram)$/, 'after a status change'), 'after a status change');
      // Back to the tab (the visibility a headless browser cannot switch is stated instead).
      await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { dispatchEvent(event: unknown): void } }).document;
        for (const state of ['hidden', 'visible']) {
          Object.defineProperty(doc, 'visibilityState', { value: state, configurable: true });
          doc.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('visibilitychange'));
        }
      });
      allMarked(await readsUntil(/^\/api\/v1\/bots\/upcoming$/, 'on return to the tab'), 'on return to the tab');
      // After the live stream was down and is back.
      rc.app.server.closeAllConnections();
      await page.getByText('Reconnecting…', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      allMarked(await readsUntil(/^\/api\/v1\/bots\/upcoming$/, 'after a reconnect'), 'after a reconnect');
      // Following a link is a person's doing; a bot's page reads the bot, then its events.
      await page.locator(`tr[data-bot-id="${botId}"]`).getByRole('link').first().click();
      await page.getByRole('heading', { name: 'Marked reads', level: 1 }).waitFor();
      noneMarked(await readsUntil(/^\/api\/v1\/calendar\/events\/[^/]+$/, 'opening a bot'), 'opening a bot');
      // Its status changes: the page reads the bot again and, after that answer, its events: all marked.
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: alice.auth })).status, 200);
      const afterChange = await readsUntil(/^\/api\/v1\/calendar\/events\/[^/]+$/, 'after the bot\'s status change');
      assert.ok(afterChange.some((read) => read.path === `/api/v1/bots/${botId}`), JSON.stringify(afterChange));
      allMarked(afterChange, 'after the bot\'s status change');
      assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${other}`, { auth: alice.auth })).status, 200);
    } finally {
      page.off('request', note);
    }
    // Every 30 s while the tab is visible.
    const clocked = await context.newPage();
    const clockedReads: { path: string; isMarked: boolean }[] = [];
    clocked.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (request.method() === 'GET' && path === '/api/v1/bots/upcoming') clockedReads.push({ path, isMarked: request.headers()['x-rollcall-background'] === '1' });
    });
    try {
      await clocked.clock.install();
      await clocked.goto(`${base}/dashboard`);
      await clocked.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
      while (clockedReads.length === 0) await clocked.waitForTimeout(100);
      await clocked.waitForTimeout(500);
      noneMarked(clockedReads.splice(0), 'opening the page');
      await clocked.clock.fastForward('00:31');
      const deadline = Date.now() + 5000;
      while (clockedReads.length === 0) {
        assert.ok(Date.now() < deadline, 'a read 30 s on');
        await clocked.waitForTimeout(100);
      }
      allMarked(clockedReads, 'every 30 s');
    } finally {
      await clocked.close();
    }
  });

  test('a bot page refreshed by itself that comes to name a connection reads the connection list as its own, not as a person\'s use', async () => {
    const feed = feeds.createFeed('Marked feed');
    const start = Date.now() + 20 * 86_400_000;
    feeds.edit(feed, (events) => {
      events.push({ uid: 'marked@feed', summary: 'Marked feed meeting', startMs: start, endMs: start + 1_800_000, location: 'https://zoom.us/j/81234567801' });
    });
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const events = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start - 3_600_000).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: alice.auth });
    const botId = await schedule(alice.auth, events.body.results[0].id as string, 'marked-feed', { bot_name: 'Marked feed notes' });
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Marked feed meeting', level: 1 }).waitFor();
    // Nothing names a connection yet: the list is not read.
    await page.waitForTimeout(1000);

    const reads: { path: string; isMarked: boolean }[] = [];
    const note = (request: { method(): string; url(): string; headers(): Record<string, string> }) => {
      const path = new URL(request.url()).pathname;
      if (request.method() === 'GET' && path.startsWith('/api/v1/') && path !== '/api/v1/bots/status-changes') reads.push({ path, isMarked: request.headers()['x-rollcall-background'] === '1' });
    };
    // The bot answers last of the page's reads (its deliveries come first), as on a slow network:
    // what the page reads because of that answer is read after every other read has settled.
    const botRead = new RegExp(`/api/v1/bots/${botId}$`);
    await page.route(botRead, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    page.on('request', note);
    try {
      // The feed's syncs fail (reported at once here): the bot's log gains a decision naming its connection.
      feeds.replaceWithRaw(feed, '<html><body>Sign in</body></html>');
      await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth });
      const bot = (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: alice.auth })).body;
      assert.ok(bot.decisions.some((d: { kind: string }) => d.kind === 'sync_failing'), JSON.stringify(bot.decisions));
      // The page reads again by itself (back to the tab; the visibility a headless browser cannot switch is stated instead).
      await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { dispatchEvent(event: unknown): void } }).document;
        for (const state of ['hidden', 'visible']) {
          Object.defineProperty(doc, 'visibilityState', { value: state, configurable: true });
          doc.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('visibilitychange'));
        }
      });
      await page.locator('section[aria-labelledby="why-title"] li[data-kind="sync_failing"]').filter({ hasText: 'the ICS feed Marked feed' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await page.waitForTimeout(1000);
      assert.ok(reads.some((read) => read.path === '/api/v1/calendar/connections'), JSON.stringify(reads));
      assert.deepEqual(reads.filter((read) => !read.isMarked), [], `every read of the page's own refresh is marked: ${JSON.stringify(reads)}`);
    } finally {
      page.off('request', note);
      await page.unroute(botRead);
      // Out of the lists the later tests count.
      await rc.request('DELETE', `/api/v1/calendar/connections/${calendarId}`, { auth: alice.auth });
    }
  });

  test('a burst of status changes reads a page\'s list a few times, not once per change: the key\'s rate limit is its integration\'s too', async () => {
    // 20 meetings a month out, each booked and cancelled: 40 status changes in a few seconds.
    const burst = async (label: string) => {
      for (let i = 0; i < 20; i++) {
        const eventId = await createEvent(alice.auth, `${label} ${i}`, Date.now() + 30 * 86_400_000, 30);
        await schedule(alice.auth, eventId, `${label}-${i}`);
        await rc.request('DELETE', `/api/v1/calendar/schedule/${eventId}`, { auth: alice.auth, body: {} });
      }
    };
    for (const [path, heading, list] of [['events', 'Events', /\/api\/v1\/calendar\/events\?/], ['webhooks', 'Webhooks', /\/api\/v1\/webhooks\/deliveries\?/]] as const) {
      await page.goto(`${base}/dashboard/${path}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await new Promise((r) => setTimeout(r, 1000));
      const reads: number[] = [];
      const note = (request: { url(): string }) => { if (list.test(request.url())) reads.push(Date.now()); };
      page.on('request', note);
      // What the page reads anyway in 5 s (Webhooks follows a delivery due within seconds every 2 s).
      await new Promise((r) => setTimeout(r, 5000));
      const quiet = reads.length;
      const startedAt = Date.now();
      await burst(`Burst on ${path}`);
      const lastChangeAt = Date.now();
      await new Promise((r) => setTimeout(r, Math.max(3500, 5000 - (lastChangeAt - startedAt))));
      page.off('request', note);
      const burstMs = lastChangeAt - startedAt;
      const duringBurst = reads.length - quiet;
      const anyway = Math.ceil(quiet * (Date.now() - startedAt) / 5000);
      // One read per 3 s of the burst and one after its last change, beyond what the page reads
      // anyway (with room for a slow machine).
      assert.ok(duringBurst <= anyway + Math.ceil(burstMs / 3000) + 2, `${path}: ${duringBurst} reads for 40 changes in ${burstMs} ms (${quiet} in 5 quiet seconds)`);
      assert.ok(reads.some((at) => at > lastChangeAt - 300), `${path}: the list was read after the last change`);
    }
  });

  test('filters, the time window and the page are kept in the address: a reload and Back keep them', async () => {
    // Upcoming: status, hours and calendar, each change replacing the address (not a history entry each).
    await page.goto(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    const historyLength = () => page.evaluate(() => (globalThis as unknown as { history: { length: number } }).history.length);
    const entries = await historyLength();
    const calendarFilter = page.getByLabel('Calendar');
    await calendarFilter.locator('option', { hasText: revokedName }).waitFor({ state: 'attached' });
    await page.getByLabel('Status').selectOption('Scheduled');
    await page.getByRole('button', { name: '12 h', exact: true }).click();
    await calendarFilter.selectOption({ label: revokedName });
    const calendarId = await calendarFilter.inputValue();
    await page.waitForURL((url) => url.searchParams.get('calendar') === calendarId);
    const upcomingUrl = new URL(page.url());
    assert.deepEqual([upcomingUrl.pathname, upcomingUrl.searchParams.get('status'), upcomingUrl.searchParams.get('hours')], ['/dashboard', 'Scheduled', '12']);
    assert.equal(await historyLength(), entries, 'the filters replace the address');
    const upcomingKept = async () => {
      await page.locator(`tr[data-bot-id="${atRiskBot}"]`).waitFor();
      assert.equal(await page.getByLabel('Status').inputValue(), 'Scheduled');
      assert.equal(await page.getByRole('button', { name: '12 h', exact: true }).getAttribute('aria-pressed'), 'true');
      // The calendar's option comes with the list of connections, a read of its own that may end after the rows'.
      await page.getByLabel('Calendar').locator(`option[value="${calendarId}"]`).waitFor({ state: 'attached' });
      assert.equal(await page.getByLabel('Calendar').inputValue(), calendarId);
      assert.equal(await page.locator('table[aria-labelledby="list-title"] tbody tr').count(), 1);
    };
    await page.reload();
    await upcomingKept();
    await page.locator(`tr[data-bot-id="${atRiskBot}"] a`).click();
    await page.getByRole('heading', { name: 'Old standup', level: 1 }).waitFor();
    await page.goBack();
    await upcomingKept();

    // Events: From, To and the calendar; a cleared day too.
    await page.goto(`${base}/dashboard/events`);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await titleBecomes(page, 'Events · Rollcall');
    const day = (offsetDays: number) => {
      const date = new Date(Date.now() + offsetDays * 86_400_000);
      return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
    };
    await page.getByLabel('From', { exact: true }).fill(day(2));
    await page.getByLabel('To', { exact: true }).fill(day(4));
    await page.getByLabel('Calendar').selectOption({ label: revokedName });
    await page.waitForURL((url) => url.searchParams.get('calendar') === calendarId);
    const eventsKept = async () => {
      await page.locator('tr').filter({ hasText: 'Old standup' }).waitFor();
      assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), day(2));
      assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), day(4));
      await page.getByLabel('Calendar').locator(`option[value="${calendarId}"]`).waitFor({ state: 'attached' });
      assert.equal(await page.getByLabel('Calendar').inputValue(), calendarId);
    };
    await page.reload();
    await eventsKept();
    await page.getByRole('link', { name: 'Calendars' }).click();
    await page.getByRole('heading', { name: 'Calendars', level: 1 }).waitFor();
    await page.goBack();
    await eventsKept();
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByRole('alert').filter({ hasText: 'Choose a From day to list events.' }).waitFor();
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'Choose a From day to list events.' }).waitFor();
    assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '');
  });

  test('Next page moves to the top of the list, and the page is kept in the address', async () => {
    // More than a page of bots (25), days away.
    const live = (await rc.request('GET', '/api/v1/bots/upcoming?limit=100', { auth: alice.auth })).body.bots.length as number;
    for (let i = live; i < 30; i++) await schedule(alice.auth, await createEvent(alice.auth, `Office hours ${i}`, Date.now() + 4 * 86_400_000 + i * 3_600_000), `office-hours-${i}`);
    await page.setViewportSize({ width: 1280, height: 600 });
    try {
      await page.goto(`${base}/dashboard`);
      const next = page.getByRole('button', { name: 'Next page' });
      await next.scrollIntoViewIfNeeded();
      await next.focus();
      await page.keyboard.press('Enter');
      await page.locator('.pager-position').filter({ hasText: 'Page 2' }).waitFor();
      // Focus and view at the top of the list, not at the bottom where the button was.
      await focusMovesTo(page, 'list-title');
      const top = await page.locator('#list-title').evaluate((heading) => (heading as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top);
      assert.ok(top >= 0 && top < 200, `the list's heading is at ${top} px`);
      // The page is in the address: a reload shows it again, and Previous page goes back to the first.
      assert.equal(new URL(page.url()).searchParams.getAll('cursor').length, 1);
      // The pager says Page 2 as soon as it is asked for; until its rows come the table shows the
      // first page's, marked busy.
      const settledRows = page.locator('table[aria-labelledby="list-title"]:not([aria-busy]) tbody tr');
      const secondPageFirst = await settledRows.first().getAttribute('data-bot-id');
      await page.reload();
      await page.locator('.pager-position').filter({ hasText: 'Page 2' }).waitFor();
      assert.equal(await settledRows.first().getAttribute('data-bot-id'), secondPageFirst);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await page.locator('.pager-position').filter({ hasText: 'Page 1' }).waitFor();
      await focusMovesTo(page, 'list-title');
      assert.equal(new URL(page.url()).searchParams.getAll('cursor').length, 0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  /** Answers each read of the upcoming list 3 s late, as a slow network does, while `during` runs. */
  async function withSlowUpcomingList(during: () => Promise<void>): Promise<void> {
    const list = /\/api\/v1\/bots\/upcoming\?/;
    const late: Parameters<Page['route']>[1] = async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await route.continue().catch(() => {});
    };
    await page.route(list, late);
    try {
      await during();
    } finally {
      await page.unroute(list, late);
    }
  }

  test('while a list is read after a filter change, the rows of the filter before show as busy, dimmed', async () => {
    await page.goto(`${base}/dashboard`);
    const table = page.locator('table[aria-labelledby="list-title"]');
    await table.waitFor();
    assert.equal(await table.getAttribute('aria-busy'), null, 'a list read for its filters is not busy');
    await withSlowUpcomingList(async () => {
      await page.getByLabel('Status').selectOption('Scheduled');
      await page.locator('table[aria-labelledby="list-title"][aria-busy="true"]').waitFor();
      // The dimming fades in (a 0.15 s transition): read at once, the opacity may still be 1.
      const opacityOf = () => table.evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(element).opacity);
      let opacity = await opacityOf();
      for (const until = Date.now() + 2000; Number(opacity) >= 1 && Date.now() < until; opacity = await opacityOf()) await new Promise((r) => setTimeout(r, 50));
      assert.ok(Number(opacity) < 1, `the busy table is dimmed (opacity ${opacity})`);
      await page.screenshot({ path: join(SCREENSHOTS, 'upcoming-busy-desktop.png') });
      await page.locator('table[aria-labelledby="list-title"]:not([aria-busy])').waitFor({ timeout: LIVE_TIMEOUT_MS });
    });
    await page.getByLabel('Status').selectOption('');
    await page.locator('table[aria-labelledby="list-title"]:not([aria-busy])').waitFor({ timeout: LIVE_TIMEOUT_MS });
  });

  test('Next page pressed twice on a slow network goes one page on, not two', async () => {
    await page.goto(`${base}/dashboard`);
    await page.locator('table[aria-labelledby="list-title"]').waitFor();
    const next = page.getByRole('button', { name: 'Next page' });
    await withSlowUpcomingList(async () => {
      await next.click();
      await page.locator('.pager-position').filter({ hasText: 'Page 2' }).waitFor();
      // The list shown is still page 1's: the pager waits, and says so.
      assert.equal(await next.getAttribute('aria-disabled'), 'true');
      await next.click({ force: true });
      await page.locator('table[aria-labelledby="list-title"]:not([aria-busy])').waitFor({ timeout: LIVE_TIMEOUT_MS });
    });
    assert.equal(await page.locator('.pager-position').innerText(), 'Page 2');
    assert.equal(new URL(page.url()).searchParams.getAll('cursor').length, 1, 'one page on in the address');
    assert.equal(await next.getAttribute('aria-disabled'), null, 'the pager works again once the page is shown');
  });

  test('at 375 px Upcoming and Events fit the screen, a long calendar name and all', async () => {
    const feed = feeds.createFeed('Engineering all-hands, quarterly planning and offsite calendar of the whole team');
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      for (const [path, name, list] of [['/dashboard', 'upcoming', 'table[aria-labelledby="list-title"]'], ['/dashboard/events', 'events', 'table[aria-label="Events"]']] as const) {
        await page.goto(`${base}${path}`);
        await page.getByLabel('Calendar').locator('option', { hasText: 'Engineering all-hands' }).waitFor({ state: 'attached' });
        await page.locator(list).waitFor();
        const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
        assert.ok(width <= 375, `${path} is ${width} px wide at 375 px`);
        // The filters, at the top: the part of the page a long option used to widen.
        await page.getByLabel('Calendar').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-375.png`) });
        // Chosen, the long name is cut to the field's width.
        const longOption = await page.getByLabel('Calendar').locator('option', { hasText: 'Engineering all-hands' }).getAttribute('value');
        await page.getByLabel('Calendar').selectOption(longOption!);
        await page.locator('main .state-empty').waitFor();
        const chosenWidth = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
        assert.ok(chosenWidth <= 375, `${path} is ${chosenWidth} px wide at 375 px with the long name chosen`);
        await page.getByLabel('Calendar').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-375-long-name.png`) });
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test('times say their zone where they are read, the chart\'s hours are the viewer\'s, and dates are in English in a German browser', async () => {
    // India is half an hour off UTC: UTC's hours would be labelled ":30" there.
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Zone check', Date.now() + 2 * 3_600_000), 'zone-check');
    const abroad = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Kolkata', locale: 'de-DE' });
    try {
      await abroad.addCookies(await context.cookies());
      const there = await abroad.newPage();
      await there.goto(`${base}/dashboard`);
      const joins = there.locator(`tr[data-bot-id="${botId}"] td[data-label="Joins"] time`);
      await joins.waitFor();
      assert.equal(await there.locator('table[aria-labelledby="list-title"] th').filter({ hasText: /^Joins/ }).innerText(), 'Joins (GMT+5:30)');
      assert.match(await joins.getAttribute('title') ?? '', /^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4} at \d{2}:\d{2}:\d{2}\s?[AP]M GMT\+05:30 \(Asia\/(Kolkata|Calcutta)\)$/, 'Chromium names the zone by its older name');
      assert.match(await joins.innerText(), /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s?[AP]M$/, 'written in English');
      const ticks = await there.locator('.chart-tick text').allTextContents();
      assert.ok(ticks.length >= 3, `axis labels: ${JSON.stringify(ticks)}`);
      for (const tick of ticks) assert.match(tick, /^(\d{2}:00\s?[AP]M|[A-Z][a-z]{2} \d{1,2})$/, `axis labels on local hours: ${JSON.stringify(ticks)}`);
      await there.screenshot({ path: join(SCREENSHOTS, 'upcoming-kolkata-de-desktop.png'), fullPage: true });
    } finally {
      await abroad.close();
      await rc.request('DELETE', `/api/v1/calendar/scheduled/${botId}`, { auth: alice.auth });
    }
  });

  test('at 320 px no page is wider than the screen', async () => {
    const measure = () => pageOverflow(page);
    await page.setViewportSize({ width: 320, height: 800 });
    const tooWide: string[] = [];
    try {
      for (const [path, name] of [['/dashboard', 'upcoming'], ['/dashboard/ended', 'ended'], ['/dashboard/events', 'events'], ['/dashboard/calendars', 'calendars'], ['/dashboard/webhooks', 'webhooks'], [`/dashboard/bots/${atRiskBot}`, 'bot']] as const) {
        await page.goto(`${base}${path}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForFunction(() => {
          const doc = (globalThis as unknown as { document: { querySelector(selector: string): unknown } }).document;
          return doc.querySelector('.state-loading') === null && doc.querySelector('h1[data-loading]') === null;
        });
        // The chart measures its width after its first drawing.
        await page.waitForTimeout(150);
        const { scrollWidth, clientWidth, beyond } = await measure();
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-320.png`) });
        if (scrollWidth > clientWidth) tooWide.push(`${path} is ${scrollWidth} px wide at ${clientWidth} px: ${beyond.join('; ')}`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    assert.deepEqual(tooWide, []);
  });

  test('at 320 px a long unbroken feed name wraps in the decision log and the at-risk note, and Upcoming\'s at-risk names wrap whole', async () => {
    // An address as a feed's own name: nothing to wrap at (an account's email address reads the same).
    const longName = 'christopher.montgomery@engineering.example.com';
    const feed = feeds.createFeed(longName);
    const start = Date.now() + 21 * 86_400_000;
    feeds.edit(feed, (events) => {
      events.push({ uid: 'wide@feed', summary: 'Wide review', startMs: start, endMs: start + 1_800_000, location: 'https://zoom.us/j/81234567802' });
    });
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth: alice.auth, body: { ics_url: feed } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const calendarId = connected.body.calendar_id as string;
    const events = await rc.request('GET', `/api/v1/calendar/events?calendar_id=${calendarId}&time_min=${new Date(start - 3_600_000).toISOString()}&time_max=${new Date(start + 3_600_000).toISOString()}`, { auth: alice.auth });
    const botId = await schedule(alice.auth, events.body.results[0].id as string, 'wide-review', { bot_name: 'Wide notes' });
    const width = () => page.evaluate(`(() => {
      const root = document.documentElement;
      const beyond = [...document.body.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5);
      const innermost = beyond.filter((e) => !beyond.some((o) => o !== e && e.contains(o)));
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, beyond: innermost.slice(0, 5).map((e) => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' px: ' + (e.textContent ?? '').trim().slice(0, 60)) };
    })()`) as Promise<{ scrollWidth: number; clientWidth: number; beyond: string[] }>;
    const fits = async (what: string) => {
      const measured = await width();
      assert.ok(measured.scrollWidth <= measured.clientWidth, `${what}: ${measured.scrollWidth} px wide at ${measured.clientWidth} px: ${measured.beyond.join('; ')}`);
    };
    await page.setViewportSize({ width: 320, height: 800 });
    try {
      // Its syncs fail (reported at once here): the log names the feed; the bot is not at risk yet.
      feeds.replaceWithRaw(feed, '<html><body>Sign in</body></html>');
      await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth });
      await page.goto(`${base}/dashboard/bots/${botId}`);
      await page.getByRole('heading', { name: 'Wide review', level: 1 }).waitFor();
      await page.locator('section[aria-labelledby="why-title"] li[data-kind="sync_failing"]').filter({ hasText: longName }).waitFor();
      assert.equal(await page.getByTestId('at-risk-note').count(), 0);
      await fits('a failing feed in the log');
      await page.screenshot({ path: join(SCREENSHOTS, 'bot-long-feed-name-320.png'), fullPage: true });

      // Revoked: the note at the top names it too.
      feeds.revoke(feed);
      await rc.request('POST', `/api/v1/calendar/connections/${calendarId}/sync`, { auth: alice.auth });
      await page.reload();
      await page.getByTestId('at-risk-note').filter({ hasText: longName }).waitFor();
      await fits('a revoked feed in the note');
      await page.screenshot({ path: join(SCREENSHOTS, 'bot-long-feed-name-at-risk-320.png'), fullPage: true });

      // Upcoming says, beneath the badge, what went wrong and what follows, not only in a title a
      // touch screen cannot hover; the name wraps whole rather than being cut.
      await page.goto(`${base}/dashboard?calendar=${calendarId}`);
      const cell = page.locator(`tr[data-bot-id="${botId}"] td[data-label="Status"]`);
      await cell.getByTestId('at-risk-calendars').filter({ hasText: longName }).waitFor();
      assert.equal(await cell.getByTestId('at-risk-summary').innerText(), 'Feed access revoked: cancelled at its join time unless access returns.');
      await fits('Upcoming');
      await page.screenshot({ path: join(SCREENSHOTS, 'upcoming-long-feed-name-320.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
      await rc.request('DELETE', `/api/v1/calendar/connections/${calendarId}`, { auth: alice.auth });
    }
  });

  test('another user\'s bot id in the address shows "not found"', async () => {
    const bobsBot = await schedule(bob.auth, await createEvent(bob.auth, 'Bob private meeting', Date.now() + 3_600_000), 'bob-private', { bot_name: 'Bob bot' });
    await page.goto(`${base}/dashboard/bots/${bobsBot}`);
    await page.getByRole('heading', { name: 'Bot not found', level: 1 }).waitFor();
    const text = await page.locator('main').innerText();
    assert.doesNotMatch(text, /Bob private meeting|Bob bot/);
    await screenshot('bot-not-found');
  });

  test('times said from now ("in 3 hours") follow the clock without a reload', async () => {
    const botId = await schedule(alice.auth, await createEvent(alice.auth, 'Clocked meeting', Date.now() + 3 * 3_600_000 + 600_000), 'clocked', { bot_name: 'Clocked' });
    const clocked = await context.newPage();
    try {
      await clocked.clock.install();
      await clocked.goto(`${base}/dashboard/bots/${botId}`);
      await clocked.getByRole('heading', { name: 'Clocked meeting', level: 1 }).waitFor();
      await clocked.getByText('in 3 hours').first().waitFor();
      await clocked.clock.fastForward('02:00:00');
      await clocked.getByText('in 1 hour').first().waitFor({ timeout: 5000 });
    } finally {
      await clocked.close();
    }
  });

  test('a live stream the server keeps refusing (the key\'s rate limit) is opened again after growing waits, not at once', async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    let sessionReads = 0;
    let streamOpens = 0;
    const count = (request: { url(): string }) => {
      if (request.url().endsWith('/dashboard/session')) sessionReads++;
      if (request.url().includes('/api/v1/bots/status-changes')) streamOpens++;
    };
    page.on('request', count);
    await page.route('**/api/v1/bots/status-changes*', (route) => route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ code: 'rate_limited', error: 'Too many requests' }) }));
    try {
      await page.reload();
      await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
      await page.waitForTimeout(5000);
    } finally {
      page.off('request', count);
      await page.unroute('**/api/v1/bots/status-changes*');
    }
    // Waits of about 1, 2 and 4 s (jittered down to half): at most five opens in five seconds.
    assert.ok(streamOpens >= 2 && streamOpens <= 5, `${streamOpens} stream opens`);
    assert.ok(sessionReads <= 6, `${sessionReads} session reads`);
    // Once the stream is let through, it is live again.
    await page.getByText('Live', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT_MS + 60_000 });
  });

  test('a bot\'s page says each status once, says a key in words only when the bot came from what set it, and gives its events\' times as Events does', async () => {
    // At 10:00 UTC four days on, so that its 45 minutes never cross midnight (a range that does is
    // said with both dates) whenever the test runs.
    const startMs = Math.floor(Date.now() / 86_400_000 + 4) * 86_400_000 + 10 * 3_600_000;
    const eventId = await createEvent(alice.auth, 'Key check', startMs, 45, 'https://zoom.us/j/81234567066');
    // A client's own key that happens to start as the dashboard's: booked through the API.
    const key = `dashboard:client-${eventId}`;
    const botId = await schedule(alice.auth, eventId, key);
    await page.goto(`${base}/dashboard/bots/${botId}`);
    await page.getByRole('heading', { name: 'Key check', level: 1 }).waitFor();
    const keyFact = page.locator('dl.facts div').filter({ has: page.locator('dt', { hasText: /^Deduplication key$/ }) }).locator('dd');
    assert.equal(await keyFact.innerText(), key, 'shown as the client gave it, not "Chosen by the dashboard"');
    // Events: from start to end without seconds, as the Events page says it.
    const when = (await page.locator('section[aria-labelledby="events-title"] li time').innerText()).replace(/\s/g, ' ');
    assert.match(when, /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}( [AP]M)? – \d{1,2}:\d{2}( [AP]M)?$/, when);
    assert.doesNotMatch(when, /\d:\d{2}:\d{2}/, when);
    // Cancelled from this page: the timeline and the log say "Cancelled" once.
    await page.getByRole('button', { name: 'Cancel bot' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    const timeline = page.locator('section[aria-labelledby="timeline-title"] ol.log');
    await timeline.locator('li[data-status="Cancelled"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    assert.equal(await timeline.locator('li[data-status="Cancelled"] > span:not(.badge)').innerText(), 'From the dashboard');
    assert.equal(await timeline.locator('li[data-status="Scheduled"] > span:not(.badge)').innerText(), 'Through the API');
    const cancelled = page.locator('section[aria-labelledby="why-title"] ol.log li[data-kind="cancelled"]');
    assert.equal(await cancelled.locator('span').innerText(), 'From the dashboard');
    for (const text of [await timeline.innerText(), await cancelled.innerText()]) assert.doesNotMatch(text, /Cancelled\s+Cancelled|Scheduled\s+Scheduled/, text);
    await screenshot('bot-said-once');
  });

  test('at 320 px the navigation fades out at an edge with more items beyond it, and keeps the current page\'s item in view', async () => {
    type NavState = { overflows: boolean; before: string; after: string; fade: number; left: number; right: number; current: { left: number; right: number } | null };
    /** Where the navigation stands once its fades have settled: which fades show, and where the current item is. */
    const navState = async (): Promise<NavState> => {
      await page.waitForTimeout(300);
      return page.evaluate(`(() => {
        const nav = document.querySelector('nav.site-nav');
        const list = nav.querySelector('ul');
        const box = nav.getBoundingClientRect();
        const current = nav.querySelector('a[aria-current="page"]')?.getBoundingClientRect();
        return {
          overflows: list.scrollWidth > list.clientWidth,
          before: getComputedStyle(nav, '::before').opacity,
          after: getComputedStyle(nav, '::after').opacity,
          fade: Number.parseFloat(getComputedStyle(nav, '::after').width),
          left: box.left, right: box.right,
          current: current ? { left: current.left, right: current.right } : null,
        };
      })()`) as Promise<NavState>;
    };
    await page.setViewportSize({ width: 320, height: 800 });
    try {
      await page.goto(`${base}/dashboard`);
      await navMarks('Upcoming');
      const start = await navState();
      assert.equal(start.overflows, true, 'five items do not fit 320 px');
      assert.deepEqual([start.before, start.after], ['0', '1'], 'at the start, a fade only where more lies beyond');
      assert.ok(start.fade >= 24, `a fade wide enough to see: ${start.fade} px`);
      await page.screenshot({ path: join(SCREENSHOTS, 'nav-upcoming-320.png'), clip: { x: 0, y: 0, width: 320, height: 110 } });
      // Webhooks, the last item, beyond the edge at first: its page scrolls it into view.
      await page.goto(`${base}/dashboard/webhooks`);
      await navMarks('Webhooks');
      const end = await navState();
      assert.deepEqual([end.before, end.after], ['1', '0'], 'scrolled to the end, the fade is at the start');
      assert.ok(end.current !== null && end.current.right <= end.right + 0.5 && end.current.left >= end.left + end.fade - 0.5, `Webhooks shows whole, clear of the fade: ${JSON.stringify(end)}`);
      await page.screenshot({ path: join(SCREENSHOTS, 'nav-webhooks-320.png'), clip: { x: 0, y: 0, width: 320, height: 110 } });
      // Back to the first item, by the navigation: scrolled back to show it.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upcoming' }).click();
      await navMarks('Upcoming');
      const back = await navState();
      assert.ok(back.current !== null && back.current.left >= back.left - 0.5, JSON.stringify(back));
      assert.deepEqual([back.before, back.after], ['0', '1']);
      // Scrolled by hand to the middle, both edges fade.
      await page.evaluate('document.querySelector("nav.site-nav ul").scrollLeft = 20');
      const middle = await navState();
      assert.deepEqual([middle.before, middle.after], ['1', '1'], JSON.stringify(middle));
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    // At desktop width everything fits: no fade.
    await page.goto(`${base}/dashboard/webhooks`);
    await navMarks('Webhooks');
    const wide = await navState();
    assert.deepEqual([wide.overflows, wide.before, wide.after], [false, '0', '0']);
  });

  test('a sign-in in another tab is seen by this one at once: it says whose session it shows, and shows only theirs', async () => {
    const signedInAs = (name: string) => page.locator('.user-name strong').filter({ hasText: new RegExp(`^${name}$`) });
    await page.goto(`${base}/dashboard`);
    await signedInAs('alice').waitFor();
    const botRows = page.locator('table[aria-labelledby="list-title"] tbody tr');
    await botRows.first().waitFor();
    const other = await context.newPage();
    try {
      await other.goto(`${base}/dashboard`);
      await other.getByRole('button', { name: 'Sign out' }).click();
      await other.getByLabel('API key').fill(bob.key);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    } finally {
      await other.close();
    }
    // Left alone, this tab now says bob, and what it reads is bob's alone.
    await signedInAs('bob').waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: 'Upcoming' }).click();
    const bobsRow = botRows.filter({ hasText: 'Bob private meeting' });
    await bobsRow.waitFor();
    assert.equal(await botRows.count(), 1, 'none of alice\'s bots');

    // A session put in place without a word to this tab (here: the cookie set directly) is noticed
    // at its next write, refused for want of that session's CSRF token: the page reads the
    // session, says whose it is now, and reads its page again under it.
    const signIn = await fetch(`${base}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: alice.key }) });
    const token = /rollcall_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(token, 'a session for alice');
    await bobsRow.getByRole('link').click();
    await page.getByRole('heading', { name: 'Bob private meeting', level: 1 }).waitFor();
    await context.addCookies([{ name: 'rollcall_session', value: token, url: base }]);
    // (Cancel writes at once; Reschedule reads the bot first, which alice's session cannot see.)
    await page.getByRole('button', { name: 'Cancel bot' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.getByTestId('session-notice').filter({ hasText: 'This browser signed in again in another tab, as alice: the page now shows that session\'s data.' }).waitFor();
    await signedInAs('alice').waitFor();
    await page.getByRole('heading', { name: 'Bot not found', level: 1 }).waitFor();
    await screenshot('session-switched');
  });

  test('a sign-out the server does not answer says so, and the page stays, signed in', async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    const unreachable: Parameters<Page['route']>[1] = (route) => (route.request().method() === 'DELETE' ? route.abort('connectionrefused') : route.fallback());
    await page.route('**/dashboard/session', unreachable);
    try {
      const signOut = page.getByRole('button', { name: 'Sign out' });
      await signOut.focus();
      await page.keyboard.press('Enter');
      const notice = page.getByTestId('session-notice').filter({ hasText: 'Sign-out failed' });
      await notice.waitFor();
      assert.equal(await notice.innerText(), 'Sign-out failed: The server cannot be reached. Check your connection and try again. You are still signed in.');
      assert.equal(await page.getByRole('heading', { name: 'Sign in to Rollcall' }).count(), 0, 'not shown as signed out');
      await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
      assert.match(await page.locator('.user-name').innerText(), /alice/);
      await focusMovesTo(page, 'Sign out');
      assert.equal(await page.evaluate(async () => (await fetch('/api/v1/bots/upcoming')).status), 200, 'the session is still live');
      await screenshot('sign-out-failed');
    } finally {
      await page.unroute('**/dashboard/session', unreachable);
    }
    // The notice goes with the next page.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    assert.equal(await page.getByTestId('session-notice').innerText(), '');
  });

  test('sign out ends the session; a revoked API key ends its sessions at once', async () => {
    await page.goto(`${base}/dashboard`);
    // Signed in again in another tab (as bob): this tab's Sign out still signs the browser out.
    const other = await context.newPage();
    await other.goto(`${base}/dashboard`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByLabel('API key').fill(bob.key);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    await other.close();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Rollcall' }).waitFor();
    assert.equal(await page.getByRole('status').filter({ hasText: 'signed out' }).innerText(), 'You are signed out.');
    const afterSignOut = await page.evaluate(async () => (await fetch('/api/v1/bots/upcoming')).status);
    assert.equal(afterSignOut, 401);

    await page.getByLabel('API key').fill(alice.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
    const key = await rc.database.db.selectFrom('api_keys').select('id').where('user_id', '=', alice.userId).executeTakeFirstOrThrow();
    await revokeApiKey(rc.database.db, key.id, rc.clock);
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/bots/upcoming')).status), 401, 'the very next request is refused');
    // The page notices at its next request, or when its live stream re-checks the session (every
    // 10 s), whichever comes first, and asks to sign in again.
    await page.getByRole('link', { name: 'Webhooks' }).click({ timeout: 2000 }).catch(() => {});
    await page.getByRole('heading', { name: 'Sign in to Rollcall' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    // The page says why it asks again, and the key field has focus.
    await page.getByRole('status').filter({ hasText: 'Your session ended' }).waitFor();
    await focusMovesTo(page, 'api-key');
    await screenshot('sign-in-session-ended');
  });

  test('the interactive API reference (/docs) draws its operations under a policy of its own: every other answer outside the dashboard runs nothing', async () => {
    const response = await fetch(`${base}/docs/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /^default-src 'self';/);
    await page.goto(`${base}/docs/`);
    // Swagger UI draws the whole OpenAPI document in the page: a few seconds on an idle machine,
    // past 15 s on a loaded one (seen while other suites ran beside it), so it gets a wide margin.
    await page.locator('.opblock').first().waitFor({ timeout: 45_000 });
    assert.ok(await page.locator('.opblock').count() > 20, 'the operations are listed');
    await page.screenshot({ path: join(SCREENSHOTS, 'api-reference-desktop.png') });
  });

  test('a bot handed over to its bot provider says so among its launch attempts, not that it waits for a launch', async () => {
    // Rollcall with Recall.ai as its runtime (the fake follows Recall's API): a bot is handed to the
    // provider ahead of its join time (a lead of two hours here, so at once), and the provider
    // joins it itself; Rollcall launches nothing at the join time.
    const apiKey = 'dashboard-recall-key-4Hq';
    const secret = `whsec_${Buffer.from('dashboard-recall-secret-32bytes!').toString('base64')}`;
    const recall = new FakeRecall(apiKey, secret);
    const recallUrl = await recall.start();
    const withProvider = await startTestRollcall({
      settings: {
        BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: apiKey, BOT_PROVIDER_BASE_URL: recallUrl, BOT_PROVIDER_WEBHOOK_SECRET: secret,
        BOT_PROVIDER_HANDOVER_LEAD_SECONDS: '7200', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', BOT_RUNTIME_TIMEOUT_MS: '2000',
      },
    });
    const there = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      await withProvider.app.listen({ port: 0, host: '127.0.0.1' });
      const address = withProvider.app.server.address();
      assert.ok(address && typeof address === 'object');
      const user = await withProvider.newUser('carol');
      const startMs = Date.now() + 3_600_000;
      const event = await withProvider.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Vendor call', start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + 1_800_000).toISOString(), meeting_url: 'https://meet.google.com/vend-orca-llx' } });
      assert.equal(event.status, 201, JSON.stringify(event.body));
      const scheduled = await withProvider.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: 'vendor-call', bot_config: { bot_name: 'Vendor notes' } } });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      const botId = scheduled.body.bot_id as string;
      const kinds = async () => ((await withProvider.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.decisions as { kind: string }[]).map((d) => d.kind);
      for (let round = 0; round < 10 && !(await kinds()).includes('handed_over'); round++) await withProvider.dispatcher.runDue();
      assert.ok((await kinds()).includes('handed_over'), JSON.stringify(await kinds()));
      assert.equal(recall.bots.size, 1, 'the provider holds the bot');

      const other = await there.newPage();
      await other.goto(`http://127.0.0.1:${address.port}/dashboard`);
      await other.getByLabel('API key').fill(user.auth.slice('Token '.length));
      await other.keyboard.press('Enter');
      await other.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
      await other.goto(`http://127.0.0.1:${address.port}/dashboard/bots/${botId}`);
      await other.getByRole('heading', { name: 'Vendor call', level: 1 }).waitFor();
      const attempts = await other.locator('section[aria-labelledby="launch-title"]').innerText();
      assert.doesNotMatch(attempts, /Not launched yet/);
      assert.match(attempts, /Handed over to the bot provider/);
      assert.equal(await other.getByTestId('launch-timer').innerText(), 'Done: handed over to the bot provider');
      await other.screenshot({ path: join(SCREENSHOTS, 'bot-handed-over-desktop.png'), fullPage: true });
    } finally {
      await there.close();
      await withProvider.close();
      await recall.stop();
    }
  });

  test('no page raised a script error or a CSP violation', () => {
    assert.deepEqual(pageErrors, []);
  });
});
