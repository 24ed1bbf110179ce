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

  async function urlState(path: string): Promise<{ state: string; reopen_delivery_id: string | null; failing_since: string | null; disabled_at: string | null; paused_until: string | null; gone_lines: { bot_id: string; delivery_id: string }[] } | undefined> {
    const res = await rc.request('GET', '/api/v1/webhooks/urls', { auth: user.auth });
    return res.body.urls.find((u: { url: string }) => u.url === `${hooksUrl}${path}`);
  }

  test('a disabled URL says since when, what it means and which webhook to redeliver, whose button opens it again; a paused one says until when; a gone one names its bot, whose line its button opens', async () => {
    let isDeadDown = true;
    let isGone = true;
    hooks.respond = (r) => {
      // A receiver down (503: Standard Webhooks, "Delivery success and failure", a failure to retry).
      if (r.url === '/hooks/dead' && isDeadDown) return { status: 503 };
      // A receiver asking for an hour's pause (429 with Retry-After: Standard Webhooks, same section; RFC 9110, section 10.2.3).
      if (r.url === '/hooks/busy') return { status: 429, headers: { 'retry-after': '3600' } };
      // 410: the receiver wants no more webhooks of that bot (Standard Webhooks, same section).
      if (r.url === '/hooks/gone' && isGone) return { status: 410 };
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
    // A bot whose webhook the receiver answers 410 Gone: its line to the URL is gone.
    const goneBot = await book('/hooks/gone');
    await rc.webhooks.runDue();
    const gone = (await urlState('/hooks/gone'))!;
    assert.equal(gone.gone_lines[0]?.bot_id, goneBot);
    const goneMessage = gone.gone_lines[0]!.delivery_id;

    // (Signed in now: a session is as old as the manual clock says.)
    await signIn(page, base, user.auth.slice('Token '.length));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    const banners = page.getByTestId('webhook-url-banners');
    const disabled = banners.locator(`[data-url="${hooksUrl}/hooks/dead"]`);
    const paused = banners.locator(`[data-url="${hooksUrl}/hooks/busy"]`);
    const goneBanner = banners.locator(`[data-url="${hooksUrl}/hooks/gone"]`);
    await disabled.waitFor();
    // The worst first, each in a banner of its own, above the signing secret and the deliveries.
    assert.deepEqual(await banners.locator('[data-url-state]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { urlState: string } }).dataset.urlState)), ['disabled', 'paused', 'gone']);
    const disabledText = await disabled.innerText();
    assert.match(disabledText, new RegExp(`^Disabled: ${hooksUrl}/hooks/dead\\n`));
    assert.match(disabledText, /Disabled on .+, every attempt to send to it having failed since .+ \(last failure .+\): its webhooks now fail without being sent \(1 webhook not sent\)\./);
    assert.ok(disabledText.includes(`redeliver ${dead.reopen_delivery_id}: when the receiver takes it, the URL opens again`), disabledText);
    // Its times in the viewer's zone, each with the full instant on hover.
    assert.deepEqual(await disabled.locator('time').evaluateAll((nodes) => nodes.slice(0, 2).map((n) => (n as unknown as { dateTime: string }).dateTime)), [dead.disabled_at, dead.failing_since]);
    const pausedText = await paused.innerText();
    assert.match(pausedText, new RegExp(`^Paused: ${hooksUrl}/hooks/busy\\n`));
    assert.match(pausedText, /nothing is sent to it until .+ \(in (1 hour|60 minutes)\), then one webhook at a time until one is taken \(1 webhook waiting\)\./);
    assert.equal(await paused.locator('time').first().getAttribute('datetime'), busy.paused_until);
    assert.equal(await paused.getByRole('button').count(), 0, 'no button: the pause is the receiver\'s');
    // The gone banner names the bot by its meeting, and its button opens that bot's line alone.
    const goneText = await goneBanner.innerText();
    assert.match(goneText, new RegExp(`^Gone for 1 bot: ${hooksUrl}/hooks/gone\\n`));
    assert.ok(goneText.includes(`To open the line of the bot of “Review 4” (${goneBot}) again, redeliver ${goneMessage}, the webhook it refused`), goneText);
    const goneLabel = `Redeliver ${goneMessage} to open the line of the bot of “Review 4” (${goneBot}) to ${hooksUrl}/hooks/gone again`;
    assert.equal(await goneBanner.getByRole('button', { name: goneLabel }).count(), 1);
    // A bot's name in the deliveries is broken between words only, however long the error beside it.
    const nameLines = await page.locator('tr[data-delivery-status] td[data-label="Bot"] a', { hasText: 'Review 4' }).first()
      .evaluate((a) => a.getClientRects().length);
    assert.equal(nameLines, 1, '"Review 4" on one line');
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
    // The button that had the focus went with its banner: the focus goes to the notice, which now says the URL opened.
    const reopenedText = `${hooksUrl}/hooks/dead is open again: its receiver took ${dead.reopen_delivery_id}.`;
    await page.getByRole('status').filter({ hasText: reopenedText }).waitFor();
    await focusMovesTo(page, reopenedText);
    assert.equal(await page.getByRole('status').filter({ hasText: 'is being sent again' }).count(), 0, 'no notice says it is still to open');
    assert.equal(hooks.received.filter((r) => r.url === '/hooks/dead' && r.headers['webhook-id'] === dead.reopen_delivery_id).at(-1)?.url, '/hooks/dead', 'the named webhook was sent');
    assert.deepEqual(await banners.locator('[data-url-state]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { urlState: string } }).dataset.urlState)), ['paused', 'gone']);
    await saveScreenshots(page, 'webhooks-url-banner-reopened');

    // The gone line: its button, by keyboard, redelivers the refused webhook; taken, it opens the bot's line and the banner goes.
    isGone = false;
    await goneBanner.getByRole('button', { name: goneLabel }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `${goneMessage} is being sent again; once its receiver takes it, the webhooks of the bot of “Review 4” (${goneBot}) go to ${hooksUrl}/hooks/gone again` }).waitFor();
    await rc.webhooks.runDue();
    await goneBanner.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT_MS });
    const goneReopened = `The webhooks of the bot of “Review 4” (${goneBot}) go to ${hooksUrl}/hooks/gone again: its receiver took ${goneMessage}.`;
    await focusMovesTo(page, goneReopened);
    assert.deepEqual(await banners.locator('[data-url-state]').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { urlState: string } }).dataset.urlState)), ['paused']);

    // The URLs cannot be read when the page opens (a 503 on the way): the page says so, as its other
    // reads do, and Try again reads them.
    await page.route('**/api/v1/webhooks/urls', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'Service unavailable' } }) }));
    await page.reload();
    const failed = page.getByRole('alert').filter({ hasText: 'The callback URLs could not be read' });
    await failed.waitFor();
    await page.unroute('**/api/v1/webhooks/urls');
    // (The browser logs the 503 it was made to get: that one is expected.)
    const expected503 = pageErrors.findIndex((e) => e.includes('status of 503'));
    assert.ok(expected503 >= 0);
    pageErrors.splice(expected503, 1);
    await failed.getByRole('button', { name: 'Try again' }).click();
    await paused.waitFor();
    assert.equal(await failed.count(), 0);
  });
  test('the URLs are read with the page\'s other reads, every 30 s while it is visible, not again by a timer of their own while the list is followed', async () => {
    // A webhook waiting, never tried (the outbox is not run): the list is followed every 2 s. Queued
    // here as the outbox would, beside one of the user's own, rather than by booking a bot, whose
    // status change would reach the page's live stream and read the page again besides.
    const model = await rc.database.db.selectFrom('webhook_deliveries').selectAll().where('user_id', '=', user.userId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const { id: _id, ...fields } = model;
    await rc.database.db.insertInto('webhook_deliveries').values({ ...fields, message_id: `${model.message_id}_followed`, url: `${hooksUrl}/hooks/followed`, state: 'pending', attempts: 0, last_error: null, lease_until_ms: null, last_attempt_at_ms: null, delivered_at: null, redelivered: 0, next_attempt_at_ms: clock.now() }).execute();
    // (A page of the same context: signed in by the test above.)
    const clocked = await page.context().newPage();
    try {
      await clocked.clock.install();
      const reads: string[] = [];
      clocked.on('request', (request) => {
        const path = new URL(request.url()).pathname;
        if (path === '/api/v1/webhooks/urls' || path === '/api/v1/webhooks/deliveries') reads.push(path);
      });
      await clocked.goto(`${base}/dashboard/webhooks`);
      await clocked.getByRole('table', { name: 'Webhook deliveries' }).getByText('Pending').first().waitFor();
      await clocked.getByTestId('webhook-url-banners').waitFor();
      const urlReads = () => reads.filter((r) => r === '/api/v1/webhooks/urls').length;
      const before = { urls: urlReads(), deliveries: reads.length - urlReads() };
      // A minute and a second, every timer due run in turn (the page's 2 s follow-ups among them).
      await clocked.clock.runFor('01:01');
      await clocked.waitForTimeout(500);
      assert.ok(reads.length - urlReads() - before.deliveries >= 20, `the list was followed: ${reads.length - urlReads() - before.deliveries} reads`);
      assert.equal(urlReads() - before.urls, 2, 'the URLs read at 30 s and 60 s, with the page\'s other reads, and no more');
    } finally {
      await clocked.close();
    }
  });
});
