// A Google full listing read in parts, by the adapter alone: only the HTTP boundary is faked,
// each page shaped as the events.list reference shows it
// (developers.google.com/workspace/calendar/api/v3/reference/events/list: `items[]`,
// `nextPageToken`, `nextSyncToken` on the last page only) and each error as the errors guide does
// (developers.google.com/workspace/calendar/api/guides/errors: 429 rateLimitExceeded, 503
// backendError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleCalendarProvider } from './google-calendar-provider.ts';
import type { HttpRequest, HttpResponse, HttpSend } from './provider-http.ts';
import { providerFailureOf } from '../../../test/support/provider-failures.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CONTEXT = { nowMs: NOW, horizonMs: 30 * DAY };
const tokens = { get: async () => 'access', renew: async () => 'access-2' };
const at = (ms: number) => ({ dateTime: new Date(ms).toISOString() });

/** A listing of pages p1..pN, each answered by `answer` (by its pageToken, '' for the first) unless it answers itself. */
function listing(pages: unknown[][], answer: (token: string) => { status: number; body: unknown; headers?: Record<string, string> } | null = () => null) {
  const requests: HttpRequest[] = [];
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    requests.push(request);
    const token = new URL(request.url).searchParams.get('pageToken') ?? '';
    const special = answer(token);
    if (special) return { status: special.status, headers: special.headers ?? {}, body: JSON.stringify(special.body) };
    const index = token === '' ? 0 : Number(token.slice(1)) - 1;
    const isLast = index === pages.length - 1;
    return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: pages[index], ...(isLast ? { nextSyncToken: 'sync-new' } : { nextPageToken: `p${index + 2}` }) }) };
  };
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens, send, timeoutMs: 1000, now: () => NOW, pagesPerPart: 2 });
  return { provider, requests, tokensAsked: () => requests.map((r) => new URL(r.url).searchParams.get('pageToken') ?? '') };
}

const live = (id: string, startMs: number) => ({ id, status: 'confirmed', summary: id, start: at(startMs), end: at(startMs + HOUR) });
const PAGES = [
  [live('soon', NOW + DAY), live('long-ago', NOW - 30 * DAY)],
  [{ id: 'deleted', status: 'cancelled' }, { id: 'series', status: 'confirmed', start: at(NOW - 60 * DAY), end: at(NOW - 60 * DAY + HOUR), recurrence: ['RRULE:FREQ=WEEKLY'] }],
  [live('later', NOW + 2 * DAY)],
];

test('Google: a full listing longer than a part is read in parts; the last part is the full sync, carrying the ids earlier parts listed but those deleted and those that ended over a day ago', async () => {
  const { provider, tokensAsked } = listing(PAGES);
  const first = await provider.fetchChanges('primary', null, CONTEXT);
  assert.deepEqual([first.isFullSync, first.hasMore, first.changes.length], [false, true, 4]);
  assert.equal(first.continueAfterMs, undefined, 'a part at its bound asks for no longer wait');
  const cursor = JSON.parse(first.cursor!) as { syncToken?: string; listing: { pageToken: string; listed: string[] } };
  assert.equal(cursor.syncToken, undefined);
  assert.equal(cursor.listing.pageToken, 'p3');
  assert.deepEqual(cursor.listing.listed, ['soon', 'series'], 'not the deleted event, nor the single event that ended a month ago');
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual(tokensAsked(), ['', 'p2', 'p3'], 'the second read goes on at page 3');
  assert.deepEqual([last.isFullSync, last.hasMore ?? false, last.changes.length], [true, false, 1]);
  assert.deepEqual(last.listedEarlier, ['soon', 'series']);
  assert.deepEqual(JSON.parse(last.cursor!), { syncToken: 'sync-new' });
});

test('Google: a page of a full listing failing in passing after the read has one ends the part at that page (a 429 waits its Retry-After); failing on the first page of a read fails it', async () => {
  let limited = true;
  const { provider, tokensAsked } = listing(PAGES, (token) => {
    if (token !== 'p2' || !limited) return null;
    limited = false;
    return { status: 429, headers: { 'retry-after': '120' }, body: { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' } } };
  });
  const first = await provider.fetchChanges('primary', null, CONTEXT);
  assert.deepEqual([first.hasMore, first.continueAfterMs, first.changes.length], [true, 120_000, 2]);
  assert.equal((JSON.parse(first.cursor!) as { listing: { pageToken: string } }).listing.pageToken, 'p2', 'the next read asks for the page that failed');
  assert.match(first.warnings!.join(' '), /page 2 failed/);
  // The next read's first page answers 503 backendError: the read fails, the cursor is not moved.
  const down = listing(PAGES, () => ({ status: 503, body: { error: { errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }], code: 503, message: 'Backend Error' } } }));
  const failure = await providerFailureOf(down.provider.fetchChanges('primary', first.cursor, CONTEXT));
  assert.equal(failure.kind, 'transient');
  assert.deepEqual(down.tokensAsked(), ['p2']);
  // Then Google answers: page 2 and 3, never page 1 again.
  const second = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual(tokensAsked(), ['', 'p2', 'p2', 'p3']);
  assert.equal(second.isFullSync, true);
  assert.deepEqual(second.listedEarlier, ['soon']);
});

test('Google: an entry without an id in an earlier part keeps the round\'s last part from deleting by absence, and from keeping a sync token', async () => {
  const { provider } = listing([[{ status: 'confirmed', summary: 'no id' }, live('soon', NOW + DAY)], [live('a', NOW + DAY)], [live('later', NOW + 2 * DAY)]]);
  const first = await provider.fetchChanges('primary', null, CONTEXT);
  assert.equal(first.hasMore, true);
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual([last.isFullSync, last.cursor], [false, null]);
});
