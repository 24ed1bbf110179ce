// The Webhooks page's banners for callback URLs in trouble, in Debian's Chromium driven by
// playwright-core, against a real Rollcall on a local port whose outbox sends to a local fake
// receiver. The outbox runs on a manual clock, driven by the test (runDue), so that a URL is
// disabled after an hour of failures (WEBHOOK_DISABLE_AFTER_HOURS) without waiting an hour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { buildDashboard } from '../../scripts/build-dashboard.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { browserSkip, focusMovesTo, launchChromium, pageOverflow, saveScreenshots, signIn } from '../support/dashboard-browser-kit.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';

const HOUR = 3_600_000;
/** How long anything the page shows by itself (its lists read again) may take. */
const LIVE_TIMEOUT_MS = 20_000;

describe('callback URLs in trouble on the Webhooks page', { skip: browserSkip }, () => {
  let rc: TestRollcall;
  let browser: Browser;
  let page: Page;
  let base: string;
  let hooksUrl: string;
  let user: { userId: string; auth: string };
  let booked = 0;
  // Hours back, so that the hour of failures below ends near the browser's own time.
  const clock = new ManualClock(Date.now() - 3 * HOUR);
  const hooks = new FakeHttpReceiver();
  const pageErrors: string[] = [];

  before(async () => {
    await buildDashboard();
    hooksUrl = await hooks.start();
    rc = await startTestRollcall({
      clock,
      // The fake receiver listens on 127.0.0.1, which the outbound guard lets through here alone.
      settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_DISABLE_AFTER_HOURS: '1', WEBHOOK_TIMEOUT_MS: '1000' },
    });
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const address = rc.app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    user = await rc.newUser('dora');
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await rc?.close();
    await hooks.stop();
    assert.deepEqual(pageErrors, []);
  });

  /** Books a bot a day out with `path` on the receiver as its callback URL: its bot.scheduled webhook is queued. */
  async function book(path: string): Promise<string> {
    const start = clock.now() + 24 * HOUR;
    const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: `Review ${++booked}`, start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(event.status, 201, JSON.stringify(event.body));
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `urls-${booked}`, bot_config: { bot_name: 'Minutes', callback_url: `${hooksUrl}${path}` } } });
    assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
    return scheduled.body.bot_id;
  }

  async function urlState(path: string): Promise<{ state: string; reopen_delivery_id: string | null; failing_since: string | null; paused_until: string | null } | undefined> {
    const res = await rc.request('GET', '/api/v1/webhooks/urls', { auth: user.auth });
    return res.body.urls.find((u: { url: string }) => u.url === `${hooksUrl}${path}`);
  }

  test('a disabled URL says since when, what it means and which webhook to redeliver, whose button opens it again; a paused one says until when', async () => {
    let isDeadDown = true;
    hooks.respond = (r) => {
      // A receiver down (503: Standard Webhooks, "Delivery success and failure", a failure to retry).
      if (r.url === '/hooks/dead' && isDeadDown) return { status: 503 };
      // A receiver asking for an hour's pause (429 with Retry-After: Standard Webhooks, same section; RFC 9110, section 10.2.3).
      if (r.url === '/hooks/busy') return { status: 429, headers: { 'retry-after': '3600' } };
      return { status: 200 };
    };
    // Two bots' webhooks to a receiver that is down for over an hour: the URL is disabled.
    await book('/hooks/dead');
    await book('/hooks/dead');
    for (let minutes = 0; (await urlState('/hooks/dead'))?.state !== 'disabled'; minutes += 5) {
      assert.ok(minutes <= 180, 'disabled within three hours');
      await rc.webhooks.runDue();
      clock.advance(5 * 60_000);
    }
    const dead = (await urlState('/hooks/dead'))!;
    // Now, on the browser's clock: a receiver asks for an hour's pause.
    clock.set(Date.now());
    await book('/hooks/busy');
    await rc.webhooks.runDue();
    const busy = (await urlState('/hooks/busy'))!;
    assert.equal(busy.state, 'paused');

    // (Signed in now: a session is as old as the manual clock says.)
    await signIn(page, base, user.auth.slice('Token '.length));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    const banners = page.getByTestId('webhook-url-banners');
    const disabled = banners.locator(`[data-url="${hooksUrl}/hooks/dead"]`);
    const paused = banners.locator(`[data-url="${hooksUrl}/hooks/busy"]`);
    await disabled.waitFor();
    // The worst first, each in a banner of its own, above the signing secret and the deliveries.
    assert.deepEqual(await banners.locator('[data-url-state]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { urlState: string } }).dataset.urlState)), ['disabled', 'paused']);
    const disabledText = await disabled.innerText();
    assert.match(disabledText, new RegExp(`^Disabled: ${hooksUrl}/hooks/dead\\n`));
    assert.match(disabledText, /Every attempt to send to it has failed since .+, so it was disabled .+: its webhooks now fail without being sent \(1 webhook not sent\)\./);
    assert.ok(disabledText.includes(`redeliver ${dead.reopen_delivery_id}: when the receiver takes it, the URL opens again`), disabledText);
    // Its times in the viewer's zone, each with the full instant on hover.
    assert.equal(await disabled.locator('time').first().getAttribute('datetime'), dead.failing_since);
    const pausedText = await paused.innerText();
    assert.match(pausedText, new RegExp(`^Paused: ${hooksUrl}/hooks/busy\\n`));
    assert.match(pausedText, /nothing is sent to it until .+ \(in (1 hour|60 minutes)\), then one webhook at a time until one is taken \(1 webhook waiting\)\./);
    assert.equal(await paused.locator('time').first().getAttribute('datetime'), busy.paused_until);
    assert.equal(await paused.getByRole('button').count(), 0, 'no button: the pause is the receiver\'s');
    await saveScreenshots(page, 'webhooks-url-banners');
    await page.setViewportSize({ width: 320, height: 800 });
    try {
      const overflow = await pageOverflow(page);
      assert.ok(overflow.scrollWidth <= overflow.clientWidth, `the banners fit 320 px: ${JSON.stringify(overflow)}`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // The receiver is back: its button redelivers the webhook named, the outbox sends it, and once
    // the receiver has taken it the banner goes by itself; the paused one stays.
    isDeadDown = false;
    const button = disabled.getByRole('button', { name: `Redeliver ${dead.reopen_delivery_id} to open ${hooksUrl}/hooks/dead again` });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `${dead.reopen_delivery_id} is being sent again` }).waitFor();
    await focusMovesTo(page, `Redeliver ${dead.reopen_delivery_id} to open ${hooksUrl}/hooks/dead again`);
    assert.equal((await urlState('/hooks/dead'))?.state, 'disabled', 'still disabled until the receiver takes it');
    await rc.webhooks.runDue();
    assert.equal((await urlState('/hooks/dead'))?.state, 'ok');
    await disabled.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT_MS });
    assert.equal(hooks.received.filter((r) => r.url === '/hooks/dead' && r.headers['webhook-id'] === dead.reopen_delivery_id).at(-1)?.url, '/hooks/dead', 'the named webhook was sent');
    assert.deepEqual(await banners.locator('[data-url-state]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { urlState: string } }).dataset.urlState)), ['paused']);
    await saveScreenshots(page, 'webhooks-url-banner-reopened');
  });
});
