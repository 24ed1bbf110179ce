// What the dashboard's browser tests share: how Chromium is launched, signing in, where focus is,
// a field marked invalid, the page's width against the screen's, and screenshots saved at desktop
// and phone width to test-artifacts/screenshots/<engine>/ (look at them: they are how the layout
// is checked).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TEST_ENGINE } from './harness.ts';

export const CHROMIUM = process.env.ROLLCALL_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots', TEST_ENGINE);
export const WIDTHS = [{ name: 'desktop', width: 1280, height: 900 }, { name: 'phone', width: 390, height: 844 }];

/** The reason to skip a browser suite, or false when Chromium is there. */
/**
 * Why the browser tests do not run here, or false. They run on SQLite only: the pages read the same
 * API on either engine, and what differs by engine (the dashboard's queries, sessions, the live
 * stream) is tested on both by dashboard-api.int.test.ts; a second browser pass took four minutes of
 * the suite's time on PostgreSQL.
 */
export const browserSkip = TEST_ENGINE !== 'sqlite'
  ? 'the browser tests run on SQLite; on PostgreSQL the dashboard is tested through its API (dashboard-api.int.test.ts)'
  : existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium, which .ci/run does) or set ROLLCALL_TEST_CHROMIUM`;

/** Chromium, headless, with the screenshots' folder made. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Signs in with `key` on the sign-in page as a person does, and waits for the first page. */
export async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/dashboard`);
  await page.getByLabel('API key').fill(key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Upcoming', level: 1 }).waitFor();
}

/** Saves a full-page screenshot of `page` at each of WIDTHS as `<name>-<width name>.png`, and goes back to desktop width. */
export async function saveScreenshots(page: Page, name: string): Promise<void> {
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    // Let the chart measure its new width and the layout settle.
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The focused element as the page sees it (the test's TypeScript has no DOM types; the functions run in the page). */
type ActiveElement = { textContent: string | null; id: string; getAttribute(name: string): string | null } | null;

/** The text of the focused element. */
export function activeElementText(page: Page): Promise<string | null | undefined> {
  return page.evaluate(() => (globalThis as unknown as { document: { activeElement: ActiveElement } }).document.activeElement?.textContent);
}

/**
 * Waits (up to 5 s) until the focused element's aria-label, text or id is `name`: pages move focus
 * in an effect, after the render a locator already sees. Fails with what has focus instead.
 */
export async function focusMovesTo(page: Page, name: string): Promise<void> {
  const nameOfActive = () => page.evaluate(() => {
    const active = (globalThis as unknown as { document: { activeElement: ActiveElement } }).document.activeElement;
    return active?.getAttribute('aria-label') ?? (active?.id || null) ?? active?.textContent ?? null;
  });
  const deadline = Date.now() + 5000;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await nameOfActive();
    if (last === name) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`focus is on ${JSON.stringify(last?.slice(0, 80))}, not on ${JSON.stringify(name)}`);
}

/**
 * The field with id `id` is marked invalid, is described by the text that says why (which
 * contains `reason`), and has focus, where a screen reader reads that text with it.
 */
export async function isInvalidField(page: Page, id: string, reason: string): Promise<void> {
  await focusMovesTo(page, id);
  const field = page.locator(`#${id}`);
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `#${id} is marked invalid`);
  const describedBy = await field.getAttribute('aria-describedby');
  assert.ok(describedBy, `#${id} is described by its error`);
  const description = await page.locator(describedBy.split(' ').map((ref) => `#${ref}`).join(', ')).allInnerTexts();
  assert.ok(description.some((text) => text.includes(reason)), `#${id} is described by ${JSON.stringify(description)}, which says ${JSON.stringify(reason)}`);
}

/** The field with id `id` is no longer marked invalid. */
export async function isValidField(page: Page, id: string): Promise<void> {
  assert.equal(await page.locator(`#${id}`).getAttribute('aria-invalid'), null, `#${id} is not marked invalid`);
}

/** Waits (up to 5 s) until the document is named `title`: pages name it after their first render. */
export async function titleBecomes(page: Page, title: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let last = '';
  while (Date.now() < deadline) {
    last = await page.title();
    if (last === title) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the document is named ${JSON.stringify(last)}, not ${JSON.stringify(title)}`);
}

/** A text matched literally inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The page's width against the screen's, and the innermost elements that reach past it (outside any scrolling or clipping box). */
export function pageOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; beyond: string[] }> {
  return page.evaluate(`(() => {
    const root = document.documentElement;
    const isClipped = (element) => {
      for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) if (getComputedStyle(up).overflowX !== 'visible') return true;
      return false;
    };
    const beyond = [...document.body.querySelectorAll('*')].filter((element) => element.getBoundingClientRect().right > root.clientWidth + 0.5 && !isClipped(element));
    const innermost = beyond.filter((element) => !beyond.some((other) => other !== element && element.contains(other)));
    return {
      scrollWidth: root.scrollWidth,
      clientWidth: root.clientWidth,
      beyond: innermost.slice(0, 5).map((element) => element.tagName.toLowerCase() + (element.className ? '.' + String(element.className).replace(/ /g, '.') : '') + ' ' + Math.round(element.getBoundingClientRect().right) + ' px: ' + (element.textContent ?? '').trim().slice(0, 40)),
    };
  })()`) as Promise<{ scrollWidth: number; clientWidth: number; beyond: string[] }>;
}
