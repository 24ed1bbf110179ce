// Connecting a calendar from the dashboard's Calendars page, in Debian's Chromium driven by
// playwright-core, against a real Rollcall on a local port (SQLite or PostgreSQL, as the suite
// runs) whose feeds, Google and Microsoft are the local fakes. A person types and clicks; the page
// goes through the API's own connect routes, which run the first sync before they answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildDashboard } from '../../scripts/build-dashboard.ts';
import { fakeCalendarUrls, startTestRollcall, type TestRollcall } from '../support/harness.ts';
import { escapeRegExp, focusMovesTo, isInvalidField, launchChromium, pageOverflow, saveScreenshots, SCREENSHOTS, signIn, browserSkip } from '../support/dashboard-browser-kit.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { FakeGoogleCalendar } from '../support/fake-google.ts';
import { FakeMicrosoftGraph } from '../support/fake-microsoft.ts';

/** Push is off here: the fakes never notify. */
const noDelivery = async () => ({ status: 503, body: '', headers: {} });

describe('connecting a calendar from the dashboard', { skip: browserSkip }, () => {
  let rc: TestRollcall;
  let browser: Browser;
  let page: Page;
  let base: string;
  let user: { auth: string };
  const feeds = new FakeIcsServer();
  const google = new FakeGoogleCalendar({ now: () => Date.now(), deliver: noDelivery });
  const graph = new FakeMicrosoftGraph({ now: () => Date.now(), deliver: noDelivery });
  const pageErrors: string[] = [];

  before(async () => {
    await buildDashboard();
    await feeds.start();
    const googleBase = await google.start();
    const graphBase = await graph.start();
    rc = await startTestRollcall({
      settings: {
        // The fakes listen on 127.0.0.1, which the outbound guard lets through here alone.
        OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), CALENDAR_PUSH: 'off',
        ...fakeCalendarUrls(googleBase, graphBase),
      },
    });
    await rc.app.listen({ port: 0, host: '127.0.0.1' });
    const address = rc.app.server.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    user = await rc.newUser('carol');
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Refusals the tests provoke (400), the proxy's 504 one test plays and the connection the network test cuts (ERR_FAILED) show here as resource errors.
      if (message.type() === 'error' && !/status of (400|504)|net::ERR_FAILED/.test(message.text())) pageErrors.push(`console: ${message.text()}`);
    });
    await signIn(page, base, user.auth.slice('Token '.length));
  });

  after(async () => {
    await browser?.close();
    await rc?.close();
    await feeds.stop();
    await google.stop();
    await graph.stop();
    assert.deepEqual(pageErrors, []);
  });

  /** The connect route's answer to the next request the page sends it. */
  function nextConnectAnswer(path: string): Promise<Record<string, unknown>> {
    return page.waitForResponse((r) => r.url().endsWith(`/api/v1${path}`) && r.request().method() === 'POST').then((r) => r.json());
  }

  test('with nothing connected, the empty state leads to the form, and a feed connects: busy while the first sync runs, then its name, its events, its card', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calendars' }).click();
    await page.getByText('No calendars are connected.').waitFor();
    await page.getByRole('button', { name: 'Connect a calendar' }).click();
    await focusMovesTo(page, 'connect-kind-ics');
    assert.equal(await page.getByRole('radio', { name: 'ICS feed' }).isChecked(), true);
    await saveScreenshots(page, 'connect-empty');

    const start = Date.now() + 26 * 3_600_000;
    const feed = feeds.createFeed('Team standups');
    feeds.edit(feed, (events) => {
      events.push({ uid: 'standup-1@team', summary: 'Standup Monday', startMs: start, endMs: start + 900_000, location: 'https://zoom.us/j/81234567011' });
      events.push({ uid: 'standup-2@team', summary: 'Standup Tuesday', startMs: start + 86_400_000, endMs: start + 86_400_000 + 900_000, location: 'https://zoom.us/j/81234567012' });
    });
    // The feed holds its answer: the page says it is busy meanwhile, and keeps focus on its button.
    let answerFeed!: () => void;
    feeds.holdAnswers = new Promise<void>((resolve) => { answerFeed = resolve; });
    await page.getByLabel('Feed address').fill(feed);
    const answered = nextConnectAnswer('/calendar/create_ics_calendar');
    await page.getByLabel('Feed address').press('Enter');
    const busy = page.getByRole('button', { name: 'Connecting and syncing…' });
    await busy.waitFor();
    assert.equal(await busy.getAttribute('aria-disabled'), 'true');
    assert.equal(await page.locator('#connect form').getAttribute('aria-busy'), null, 'the form is not busy as a whole: its status line is read while it waits');
    assert.equal(await page.locator('#connect .connect-body').getAttribute('aria-busy'), 'true');
    await page.getByRole('status').filter({ hasText: 'Rollcall reads the calendar once before it answers' }).waitFor();
    feeds.holdAnswers = null;
    answerFeed();
    const answer = await answered;
    const calendarId = answer.calendar_id as string;
    const result = page.getByTestId('connect-result');
    await result.waitFor();
    const host = new URL(feed).host;
    const name = `Team standups (${host})`;
    assert.equal(await result.locator('strong').first().innerText(), `Connected: ICS feed ${name}.`);
    assert.match(await result.innerText(), /The first sync brought 2 events; they are on Events\./);
    await focusMovesTo(page, 'connect-result');
    // The card came without a reload, headed by the same name; its id and address are folded under Ids.
    const card = page.locator(`li[data-calendar-id="${calendarId}"]`);
    assert.equal(await page.locator(`#conn-${calendarId}`).innerText(), name);
    const ids = card.getByTestId('connection-ids');
    assert.equal(await ids.evaluate((d) => (d as unknown as { open: boolean }).open), false, 'the ids are folded away');
    await ids.locator('summary').click();
    assert.match(await ids.innerText(), new RegExp(`Connection id\\s*${calendarId}`));
    assert.match(await ids.innerText(), new RegExp(`Feed address\\s*${escapeRegExp(`http://${host}/…`)}`));
    // The feed's secret path is nowhere on the page; the field was cleared for another.
    assert.ok(!(await page.locator('main').innerText()).includes(new URL(feed).pathname), 'the feed\'s path is not shown');
    assert.equal(await page.getByLabel('Feed address').inputValue(), '');
    await saveScreenshots(page, 'connect-ics-connected');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByText('Standup Monday').first().waitFor();
    await page.getByText('Standup Tuesday').first().waitFor();
  });

  test('a feed address that is not one, or that the API cannot read, is said on the field, which takes focus; what was typed stays', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calendars' }).click();
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const field = page.getByLabel('Feed address');
    // Checked before sending: no scheme.
    await field.fill('feeds.example/team.ics');
    await page.getByRole('button', { name: 'Connect feed' }).click();
    await isInvalidField(page, 'connect-ics-url', 'starts with https://, http:// or webcal://');
    // The API's refusal: an address that answers with a web page, not a feed.
    const page404 = feeds.createFeed('Not a feed');
    feeds.replaceWithRaw(page404, '<html><body>Sign in</body></html>');
    await field.fill(page404);
    await page.getByRole('button', { name: 'Connect feed' }).click();
    await isInvalidField(page, 'connect-ics-url', 'did not answer with an iCalendar feed');
    assert.doesNotMatch(await page.locator('#connect-ics-url-error').innerText(), /ics_url/, 'said for the field the form names, not by the API\'s name for it');
    assert.equal(await field.inputValue(), page404, 'what was typed stays to be corrected');
    await saveScreenshots(page, 'connect-ics-refused');
  });

  test('a feed on a private address is refused, and the field says why', async () => {
    const field = page.getByLabel('Feed address');
    await field.fill('http://10.20.30.40/calendar.ics');
    await page.getByRole('button', { name: 'Connect feed' }).click();
    await isInvalidField(page, 'connect-ics-url', 'Rollcall does not read feeds on private, local or unknown hosts');
    assert.equal(await field.inputValue(), 'http://10.20.30.40/calendar.ics');
  });

  test('a connection whose answer was lost on the way back (a network cut) shows in the list above soon, and the notice says it may be connected; what was typed stays', async () => {
    const feed = feeds.createFeed('Answer lost');
    // The request reaches Rollcall, which connects the feed; its answer is lost on the way back.
    const lose = async (route: { fetch(): Promise<unknown>; abort(): Promise<void> }) => { await route.fetch(); await route.abort(); };
    await page.route('**/api/v1/calendar/create_ics_calendar', lose);
    try {
      await page.getByLabel('Feed address').fill(feed);
      await page.getByRole('button', { name: 'Connect feed' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'The server cannot be reached' });
      await alert.waitFor();
      const text = await alert.innerText();
      assert.match(text, /may have been connected all the same.*the list above is read again and shows it if so\. Connecting it again is harmless\./);
      // Not the 30 s background read: the list is read at once.
      await page.locator('li[data-calendar-id]').filter({ hasText: 'Answer lost' }).waitFor({ timeout: 5_000 });
      // And the list is above the form, as the notice says.
      const isListAbove = await page.evaluate(`!!(document.querySelector('ul.cards').compareDocumentPosition(document.querySelector('#connect')) & Node.DOCUMENT_POSITION_FOLLOWING)`);
      assert.equal(isListAbove, true);
      assert.equal(await page.getByLabel('Feed address').inputValue(), feed);
    } finally {
      await page.unroute('**/api/v1/calendar/create_ics_calendar', lose);
    }
  });

  test('a proxy that gives up on a long first sync (504) after Rollcall connected: the notice says it may be connected, and the card shows soon', async () => {
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const feed = feeds.createFeed('Slow first sync');
    const gatewayTimeout = async (route: { fetch(): Promise<unknown>; fulfill(o: { status: number; contentType: string; body: string }): Promise<void> }) => {
      await route.fetch();
      await route.fulfill({ status: 504, contentType: 'text/html', body: '<html><body><h1>504 Gateway Time-out</h1></body></html>' });
    };
    await page.route('**/api/v1/calendar/create_ics_calendar', gatewayTimeout);
    try {
      await page.getByLabel('Feed address').fill(feed);
      await page.getByRole('button', { name: 'Connect feed' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'The server answered 504' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /may have been connected all the same.*the list above/);
      await page.locator('li[data-calendar-id]').filter({ hasText: 'Slow first sync' }).waitFor({ timeout: 5_000 });
    } finally {
      await page.unroute('**/api/v1/calendar/create_ics_calendar', gatewayTimeout);
    }
  });

  test('a Google account: a refused secret is said on the client id and secret, kept to correct; connected, it names the account, its calendars and which are synced, and the secrets go', async () => {
    const account = google.createAccount();
    // By keyboard: the arrow key moves from the feed to Google, as in any radio group.
    await page.getByRole('radio', { name: 'ICS feed' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('radio', { name: 'Google Calendar' }).isChecked(), true);
    await page.getByText('From your own OAuth client in Google Cloud').waitFor();
    for (const label of ['Client secret', 'Refresh token']) {
      const input = page.getByLabel(label, { exact: true });
      assert.equal(await input.getAttribute('type'), 'password', label);
      // Not `off`, which Chromium ignores on password fields (MDN, "Turning off form autocompletion").
      assert.equal(await input.getAttribute('autocomplete'), 'new-password', label);
    }
    // Nothing typed: the first missing field says so.
    await page.getByRole('button', { name: 'Connect account' }).click();
    await isInvalidField(page, 'connect-client-id', 'Enter the client id.');
    await page.getByLabel('Client id').fill(account.clientId);
    await page.getByLabel('Client secret').fill('GOCSPX-not-the-secret');
    await page.getByLabel('Refresh token').fill(account.refreshToken);
    await page.getByRole('button', { name: 'Connect account' }).click();
    // Google's invalid_client is the client id or the secret alike: focus on the id, both marked, one message.
    await isInvalidField(page, 'connect-client-id', 'The provider refused the client id or client secret');
    assert.match(await page.locator('#connect-client-id-error').innerText(), /invalid_client/);
    assert.equal(await page.locator('#connect-client-secret').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#connect-client-secret').getAttribute('aria-describedby'), 'connect-client-id-error');
    assert.equal(await page.getByLabel('Client secret').inputValue(), 'GOCSPX-not-the-secret', 'kept to be corrected');
    assert.equal(await page.getByLabel('Client id').inputValue(), account.clientId);
    await saveScreenshots(page, 'connect-google-refused');

    await page.getByLabel('Client secret').fill(account.clientSecret);
    const answered = nextConnectAnswer('/calendar/create_calendar');
    await page.getByLabel('Client secret').press('Enter');
    const answer = await answered;
    const result = page.getByTestId('connect-result');
    await result.filter({ hasText: account.email }).waitFor();
    assert.equal(await result.locator('strong').first().innerText(), `Connected: Google Calendar ${account.email}.`);
    const available = answer.available_calendars as { summary: string; synced: boolean }[];
    const synced = available.filter((c) => c.synced).length;
    assert.ok(available.length === 2, JSON.stringify(available));
    assert.match(await result.innerText(), new RegExp(`Its calendars \\(${synced} of 2 synced\\)`));
    for (const calendar of available) {
      await result.getByRole('listitem').filter({ hasText: `${calendar.summary}${calendar.summary === account.email ? ' (primary)' : ''}: ${calendar.synced ? 'synced' : 'not synced'}` }).waitFor();
    }
    assert.equal(await page.locator(`#conn-${answer.calendar_id as string}`).innerText(), account.email);
    for (const label of ['Client id', 'Client secret', 'Refresh token']) assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), '', `${label} cleared`);
    await saveScreenshots(page, 'connect-google-connected');
  });

  test('a Microsoft account: secrets typed for Google go when Microsoft is picked; an unknown app id is said for the form naming the client id; a refused refresh token is said on its field; then it connects', async () => {
    const account = graph.createAccount();
    await page.getByLabel('Client secret').fill('typed for Google');
    await page.getByRole('radio', { name: 'Microsoft Outlook' }).check();
    await page.getByText('From an app registered in Microsoft Entra ID').waitFor();
    assert.equal(await page.getByLabel('Client secret').inputValue(), '', 'a secret is not carried to another provider');
    // An app id the directory does not know (Microsoft's unauthorized_client, AADSTS700016): said for the form, naming the client id.
    await page.getByLabel('Client id').fill('00000000-0000-0000-0000-000000000000');
    await page.getByLabel('Client secret').fill(account.clientSecret);
    await page.getByLabel('Refresh token').fill(account.refreshToken);
    await page.getByRole('button', { name: 'Connect account' }).click();
    const unknownApp = page.getByRole('alert').filter({ hasText: 'does not know this client id' });
    await unknownApp.waitFor();
    assert.match(await unknownApp.innerText(), /unauthorized_client, AADSTS700016.*Check the client id\./);
    assert.equal(await page.locator('#connect-refresh-token').getAttribute('aria-invalid'), null, 'not blamed on the refresh token');
    await page.getByLabel('Client id').fill(account.clientId);
    await page.getByLabel('Refresh token').fill('0.AX-expired-token');
    await page.getByRole('button', { name: 'Connect account' }).click();
    await isInvalidField(page, 'connect-refresh-token', 'The provider refused the refresh token');
    await page.getByLabel('Refresh token').fill(account.refreshToken);
    const answered = nextConnectAnswer('/calendar/create_outlook_calendar');
    await page.getByRole('button', { name: 'Connect account' }).click();
    const answer = await answered;
    await page.getByTestId('connect-result').filter({ hasText: `Connected: Microsoft Outlook ${account.email}.` }).waitFor();
    await page.locator(`li[data-calendar-id="${answer.calendar_id as string}"]`).waitFor();
    for (const label of ['Client secret', 'Refresh token']) assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), '', `${label} cleared`);
    // A secret typed and left behind: leaving the page takes it away.
    await page.getByLabel('Client secret').fill('left behind');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calendars' }).click();
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    assert.equal(await page.getByRole('radio', { name: 'ICS feed' }).isChecked(), true, 'the form starts afresh');
  });

  test('an Outlook account connected again says it was already connected and is connected again with these credentials; one whose calendars were chosen through the API keeps that choice, and the notice does not say it syncs the default ones', async () => {
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const account = graph.createAccount();
    const connectHere = async () => {
      await page.getByRole('radio', { name: 'Microsoft Outlook' }).check();
      await page.getByLabel('Client id').fill(account.clientId);
      await page.getByLabel('Client secret').fill(account.clientSecret);
      await page.getByLabel('Refresh token').fill(graph.latestRefreshToken(account.email));
      const answered = nextConnectAnswer('/calendar/create_outlook_calendar');
      await page.getByRole('button', { name: 'Connect account' }).click();
      const answer = await answered;
      const result = page.getByTestId('connect-result').filter({ hasText: account.email });
      await result.waitFor();
      return { answer, text: await result.innerText() };
    };
    const first = await connectHere();
    assert.equal(first.answer.replaced, false);
    assert.match(first.text, /^Connected: Microsoft Outlook /);
    assert.match(first.text, /syncs the calendars Rollcall picks by default/);
    const again = await connectHere();
    assert.equal(again.answer.replaced, true);
    assert.equal(again.answer.calendar_id, first.answer.calendar_id);
    assert.match(again.text, /^Already connected: Microsoft Outlook .* was connected again with these credentials\./);

    // Its calendars chosen through the API (not the primary one): connected again here, the choice stays.
    const available = again.answer.available_calendars as { id: string; isPrimary: boolean }[];
    const notPrimary = available.find((c) => !c.isPrimary)!;
    const chosen = await rc.request('POST', '/api/v1/calendar/create_outlook_calendar', { auth: user.auth, body: { microsoft_client_id: account.clientId, microsoft_client_secret: account.clientSecret, microsoft_refresh_token: graph.latestRefreshToken(account.email), replace: true, calendar_ids: [notPrimary.id] } });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const kept = await connectHere();
    assert.match(kept.text, /Calendar \(primary\): not synced/);
    assert.doesNotMatch(kept.text, /picks by default/);
    assert.match(kept.text, /keeps the calendars it synced/);
  });

  test('a Google account connected here offers its calendars to choose: none chosen is refused before sending; the choice is sent as calendar_ids with the credentials typed, and the calendars chosen are synced', async () => {
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const account = google.createAccount();
    // A colleague's calendar shared with the account: listed, not synced by default (docs/calendar-sync.md).
    const rota = { id: `rota-${Date.now()}@group.calendar.google.com`, summary: 'Team rota' };
    google.addCalendar(account.email, { ...rota, accessRole: 'reader' });
    await page.getByRole('radio', { name: 'Google Calendar' }).check();
    await page.getByLabel('Client id').fill(account.clientId);
    await page.getByLabel('Client secret').fill(account.clientSecret);
    await page.getByLabel('Refresh token').fill(account.refreshToken);
    const answered = nextConnectAnswer('/calendar/create_calendar');
    await page.getByRole('button', { name: 'Connect account' }).click();
    await answered;
    const result = page.getByTestId('connect-result').filter({ hasText: `Connected: Google Calendar ${account.email}.` });
    await result.waitFor();
    for (const label of ['Client id', 'Client secret', 'Refresh token']) assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), '', `${label} cleared from the form`);
    const choice = result.getByRole('group', { name: 'Its calendars (1 of 3 synced)' });
    const box = (name: string) => choice.getByRole('checkbox', { name: new RegExp(`^${escapeRegExp(name)}`) });
    assert.equal(await box(account.email).isChecked(), true, 'the primary calendar, synced');
    assert.equal(await box('Team rota').isChecked(), false);
    assert.equal(await box('Holidays in United States').isChecked(), false);
    await saveScreenshots(page, 'connect-google-choice');

    // None chosen: said before anything is sent.
    let sent = 0;
    const count = (request: { url(): string; method(): string }) => { if (request.method() === 'POST' && request.url().endsWith('/api/v1/calendar/create_calendar')) sent += 1; };
    page.on('request', count);
    await box(account.email).uncheck();
    await result.getByRole('button', { name: 'Sync the chosen calendars' }).click();
    const refusal = result.getByRole('alert');
    await refusal.filter({ hasText: 'Choose at least one calendar.' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('role')), 'alert', 'the refusal takes focus');
    page.off('request', count);
    assert.equal(sent, 0, 'nothing sent');

    // The primary and the team's calendar: sent with the account's credentials as calendar_ids.
    await box(account.email).check();
    await box('Team rota').check();
    const chosenRequest = page.waitForRequest((r) => r.url().endsWith('/api/v1/calendar/create_calendar') && r.method() === 'POST');
    const chosenAnswer = nextConnectAnswer('/calendar/create_calendar');
    await result.getByRole('button', { name: 'Sync the chosen calendars' }).click();
    const body = (await chosenRequest).postDataJSON() as Record<string, unknown>;
    assert.deepEqual(body, { google_client_id: account.clientId, google_client_secret: account.clientSecret, google_refresh_token: account.refreshToken, calendar_ids: [account.email, rota.id] });
    const answer = await chosenAnswer;
    assert.equal(answer.replaced, true);
    const chosen = page.getByTestId('connect-result').filter({ hasText: `Calendars chosen: Google Calendar ${account.email} syncs 2 of its 3 calendars.` });
    await chosen.waitFor();
    await chosen.getByRole('listitem').filter({ hasText: 'Team rota: synced' }).waitFor();
    assert.equal(await chosen.getByRole('checkbox').count(), 0, 'the credentials went with the choice: no second choice from them');
    assert.match(await chosen.innerText(), /To choose again, connect the account again here/);
    assert.match(await chosen.innerText(), /The sync brought 0 events from the calendar added\./, 'what the choice changed: a calendar added, none dropped');
    assert.match(await chosen.innerText(), /It now syncs these calendars and no others: one the account adds later is not synced until it is chosen\./, 'a choice is a fixed list, and the notice says so');
    await saveScreenshots(page, 'connect-google-calendars-chosen');
    // As the API lists them: the team's calendar synced, the holidays not.
    const listed = await rc.request('GET', '/api/v1/calendar', { auth: user.auth });
    const ofAccount = (listed.body.calendars as { id: string; connection_id: string; synced: boolean }[]).filter((c) => c.connection_id === answer.calendar_id);
    assert.deepEqual(Object.fromEntries(ofAccount.map((c) => [c.id, c.synced])), { [account.email]: true, [rota.id]: true, 'en.usa#holiday@group.v.calendar.google.com': false });
  });

  /** A Google account connected from the form; its result, once it offers the account's calendars. */
  async function connectGoogle(account: { email: string; clientId: string; clientSecret: string; refreshToken: string }) {
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    await page.getByRole('radio', { name: 'Google Calendar' }).check();
    await page.getByLabel('Client id').fill(account.clientId);
    await page.getByLabel('Client secret').fill(account.clientSecret);
    await page.getByLabel('Refresh token').fill(account.refreshToken);
    await page.getByRole('button', { name: 'Connect account' }).click();
    const result = page.getByTestId('connect-result').filter({ hasText: `Connected: Google Calendar ${account.email}.` });
    await result.getByRole('button', { name: 'Sync the chosen calendars' }).waitFor();
    return result;
  }
  const connectionIds = async () => ((await rc.request('GET', '/api/v1/calendar/connections', { auth: user.auth })).body.connections as { calendar_id: string; user_email: string | null }[]);

  test('a connection disconnected from its card while its calendars are offered takes the choice with it: nothing is left to connect the account again', async () => {
    const account = google.createAccount();
    google.addCalendar(account.email, { id: `rota-gone-${Date.now()}@group.calendar.google.com`, summary: 'Team rota', accessRole: 'reader' });
    const result = await connectGoogle(account);
    const card = page.locator('li.connection').filter({ hasText: account.email });
    await card.getByRole('button', { name: /^Disconnect/ }).click();
    await page.getByRole('button', { name: 'Yes, disconnect' }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: `${account.email} disconnected` }).waitFor();
    await result.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Sync the chosen calendars' }).count(), 0, 'no choice left to send');
    assert.equal(await page.getByRole('checkbox').count(), 0);
    assert.equal((await connectionIds()).some((c) => c.user_email === account.email), false, 'the account stays disconnected');
  });

  test('the choice\'s checkboxes and button are outside the live region: only the result\'s summary is one', async () => {
    const result = await connectGoogle(google.createAccount());
    assert.equal(await page.locator('[role="status"] input, [role="status"] button, [role="status"] fieldset, [aria-live] input, [aria-live] button').count(), 0, 'no control inside a live region');
    const live = result.getByRole('status');
    assert.equal(await live.count(), 1);
    assert.match(await live.innerText(), /^Connected: Google Calendar .*\. The first sync brought/);
  });

  test('a choice sent as it was offered sends nothing and keeps the defaults: a calendar the account creates later is synced, as without the choice', async () => {
    const account = google.createAccount();
    const result = await connectGoogle(account);
    assert.match(await result.innerText(), /A choice sent is a fixed list: calendars the account adds later are not synced until chosen here, where the default picks up those it owns\./);
    let sent = 0;
    const count = (request: { url(): string; method(): string }) => { if (request.method() === 'POST' && request.url().endsWith('/api/v1/calendar/create_calendar')) sent += 1; };
    page.on('request', count);
    await result.getByRole('button', { name: 'Sync the chosen calendars' }).click();
    const said = page.getByTestId('connect-result').filter({ hasText: 'Nothing changed' });
    await said.waitFor();
    page.off('request', count);
    assert.equal(sent, 0, 'nothing sent');
    assert.match(await said.innerText(), /nothing was sent, so it keeps the calendars Rollcall picks by default, those the account creates later included\./);
    assert.equal(await said.getByRole('checkbox').count(), 0, 'the credentials went: the choice was made');
    // A calendar the account owns, created after: the defaults pick it up at the next read of the
    // account's calendar list (hourly during a sync; made due now).
    const connectionId = (await connectionIds()).find((c) => c.user_email === account.email)!.calendar_id;
    const created = `later-${Date.now()}@group.calendar.google.com`;
    google.addCalendar(account.email, { id: created, summary: 'Created later', accessRole: 'owner' });
    await rc.database.db.updateTable('calendar_connections').set({ calendars_listed_at: null }).where('id', '=', connectionId).execute();
    assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${connectionId}/sync`, { auth: user.auth })).status, 200);
    const listed = await rc.request('GET', '/api/v1/calendar', { auth: user.auth });
    assert.equal((listed.body.calendars as { id: string; synced: boolean }[]).find((c) => c.id === created)?.synced, true, 'the calendar created later is synced');
  });

  test('while it waits the status line is outside what is marked busy, and the other kinds cannot be picked: a refusal that comes then is said on its field', async () => {
    await page.goto(`${base}/dashboard/calendars`);
    await page.getByRole('heading', { name: 'Connect a calendar' }).waitFor();
    const notFeed = feeds.createFeed('Busy then refused');
    feeds.replaceWithRaw(notFeed, '<html><body>Sign in</body></html>');
    let answerFeed!: () => void;
    feeds.holdAnswers = new Promise<void>((resolve) => { answerFeed = resolve; });
    try {
      await page.getByLabel('Feed address').fill(notFeed);
      await page.getByRole('button', { name: 'Connect feed' }).click();
      const status = page.getByRole('status').filter({ hasText: 'Rollcall reads the calendar once before it answers' });
      await status.waitFor();
      // WAI-ARIA 1.2, aria-busy: assistive technologies may hold back changes inside a busy element until it is no longer busy.
      assert.equal(await status.evaluate((element) => (element as unknown as { closest(s: string): unknown }).closest('[aria-busy="true"]') !== null), false, 'the status line is outside the busy part');
      assert.equal(await page.locator('#connect-ics-url').evaluate((element) => (element as unknown as { closest(s: string): unknown }).closest('[aria-busy="true"]') !== null), true, 'the fields are marked busy');
      for (const name of ['Google Calendar', 'Microsoft Outlook']) assert.equal(await page.getByRole('radio', { name }).isDisabled(), true, `${name} cannot be picked while it waits`);
      assert.equal(await page.getByRole('radio', { name: 'ICS feed' }).isDisabled(), false, 'the kind picked keeps its focus');
    } finally {
      feeds.holdAnswers = null;
      answerFeed();
    }
    await isInvalidField(page, 'connect-ics-url', 'did not answer with an iCalendar feed');
    assert.equal(await page.getByRole('radio', { name: 'Google Calendar' }).isDisabled(), false, 'free again once answered');
  });

  test('at phone width the form, its errors and the cards fit the screen', async () => {
    await page.getByRole('radio', { name: 'Google Calendar' }).check();
    await page.getByLabel('Client id').fill('a-very-long-client-id-without-any-break-0123456789.apps.googleusercontent.com');
    await page.getByRole('button', { name: 'Connect account' }).click();
    await isInvalidField(page, 'connect-client-secret', 'Enter the client secret.');
    const tooWide: string[] = [];
    try {
      for (const width of [320, 390]) {
        await page.setViewportSize({ width, height: 800 });
        await page.waitForTimeout(150);
        const { scrollWidth, clientWidth, beyond } = await pageOverflow(page);
        await page.screenshot({ path: join(SCREENSHOTS, `connect-form-${width}.png`), fullPage: true });
        if (scrollWidth > clientWidth) tooWide.push(`${width} px: ${scrollWidth} px wide: ${beyond.join('; ')}`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    assert.deepEqual(tooWide, []);
  });
});
