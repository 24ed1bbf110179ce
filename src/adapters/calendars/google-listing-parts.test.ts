// A Google listing (full or incremental) read in parts, by the adapter alone: only the HTTP
// boundary is faked, each page shaped as the events.list reference shows it
// (developers.google.com/workspace/calendar/api/v3/reference/events/list: `items[]`,
// `nextPageToken`, `nextSyncToken` on the last page only) and each error as the errors guide does
// (developers.google.com/workspace/calendar/api/guides/errors: 429 rateLimitExceeded, 503
// backendError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleCalendarProvider } from './google-calendar-provider.ts';
import { RoundGivenUp } from './calendar-provider.ts';
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

test('Google: a full listing longer than a part is read in parts, each kept for the last (FetchResult.round); the last part is the full sync; the cursor holds the page to go on from and the counts only', async () => {
  const { provider, tokensAsked } = listing(PAGES);
  const first = await provider.fetchChanges('primary', null, CONTEXT);
  assert.deepEqual([first.isFullSync, first.hasMore, first.changes.length], [false, true, 4]);
  assert.deepEqual(first.round, { kept: true, resumed: false }, 'the first part begins the round, kept');
  assert.equal(first.continueAfterMs, undefined, 'a part at its bound asks for no longer wait');
  const cursor = JSON.parse(first.cursor!) as { syncToken?: string; listing: { pageToken: string } };
  assert.deepEqual(cursor, { listing: { pageToken: 'p3', pages: 2, entries: 4, idless: 0 } });
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual(tokensAsked(), ['', 'p2', 'p3'], 'the second read goes on at page 3');
  assert.deepEqual([last.isFullSync, last.hasMore ?? false, last.changes.length], [true, false, 1]);
  assert.deepEqual(last.round, { kept: false, resumed: true }, 'the last part, applied with the kept ones');
  assert.deepEqual(JSON.parse(last.cursor!), { syncToken: 'sync-new' });
  // A listing of one part is a round too: what an abandoned round kept is dropped.
  const whole = await listing([PAGES[0]!]).provider.fetchChanges('primary', null, CONTEXT);
  assert.deepEqual([whole.isFullSync, whole.round], [true, { kept: false, resumed: false }]);
  // An incremental listing is none.
  const incremental = await listing([PAGES[2]!]).provider.fetchChanges('primary', last.cursor, CONTEXT);
  assert.deepEqual([incremental.isFullSync, incremental.round], [false, undefined]);
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
  assert.deepEqual(second.round, { kept: false, resumed: true });
});

test('Google: an entry without an id in an earlier part keeps the round\'s last part from deleting by absence, and from keeping a sync token', async () => {
  const { provider } = listing([[{ status: 'confirmed', summary: 'no id' }, live('soon', NOW + DAY)], [live('a', NOW + DAY)], [live('later', NOW + 2 * DAY)]]);
  const first = await provider.fetchChanges('primary', null, CONTEXT);
  assert.equal(first.hasMore, true);
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual([last.isFullSync, last.cursor], [false, null]);
});

for (const refusal of [
  { status: 400, reason: 'invalid', message: 'Invalid page token value.' },
  { status: 410, reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.' },
]) test(`Google: a stored page token refused with ${refusal.status} ${refusal.reason} starts the round again from its first page in the same read, never asked for again`, async () => {
  // Google documents no lifetime for a page token nor the answer to a stale one. The errors guide
  // (developers.google.com/workspace/calendar/api/guides/errors, "400: Bad Request") answers 400
  // to "an invalid value" of a parameter, and a permanent error not to be retried as it is; the
  // body here is the one the test fake gives a page token it does not know (test/support/fake-google.ts).
  const { provider, tokensAsked } = listing(PAGES, (token) => (token === 'stale' ? { status: refusal.status, body: { error: { errors: [{ domain: 'global', reason: refusal.reason, message: refusal.message }], code: refusal.status, message: refusal.message } } } : null));
  const cursor = JSON.stringify({ listing: { pageToken: 'stale', pages: 40, entries: 10_000, idless: 0 } });
  const read = await provider.fetchChanges('primary', cursor, CONTEXT);
  assert.deepEqual(tokensAsked(), ['stale', '', 'p2'], 'the stale token once, then the listing from its first page');
  assert.deepEqual([read.hasMore, read.round], [true, { kept: true, resumed: false }], 'a new round: what the abandoned one kept is dropped');
  assert.equal((JSON.parse(read.cursor!) as { listing: { pages: number } }).listing.pages, 2, 'the abandoned round\'s pages are not counted');
});

test('Google: a 404 on a stored page token that is the calendar\'s (gone) fails the read as the calendar\'s after the round begun again meets it too', async () => {
  const notFound = { status: 404, body: { error: { errors: [{ domain: 'global', reason: 'notFound', message: 'Not Found' }], code: 404, message: 'Not Found' } } };
  const { provider, tokensAsked } = listing(PAGES, () => notFound);
  const failure = await providerFailureOf(provider.fetchChanges('primary', JSON.stringify({ listing: { pageToken: 'p2', pages: 1, entries: 2, idless: 0 } }), CONTEXT));
  assert.deepEqual(tokensAsked(), ['p2', '']);
  assert.equal(failure.kind, 'not_found');
});

test('Google: a round whose parts reach the limits of one listing (5,000 pages) is given up (RoundGivenUp, permanent), not gone on with: the sync then lists the calendar from its first page', async () => {
  const { provider, tokensAsked } = listing(PAGES);
  const read = provider.fetchChanges('primary', JSON.stringify({ listing: { pageToken: 'p2', pages: 5_000, entries: 90_000, idless: 0 } }), CONTEXT);
  await assert.rejects(read, (error: unknown) => error instanceof RoundGivenUp && error.failure.kind === 'permanent');
  assert.deepEqual(tokensAsked(), [], 'nothing asked');
});

test('Google: an incremental listing longer than a part is read in parts (FetchResult.incremental, no FetchResult.round: its series entries held, the rest applied), the cursor at the page token and the sync token the listing began from; a 429 on a later page ends the part with its Retry-After; a refused page token reads the listing again from that sync token', async () => {
  const INCREMENTAL = JSON.stringify({ syncToken: 'sync-old' });
  let limited = true;
  const { provider, requests, tokensAsked } = listing(PAGES, (token) => {
    if (token !== 'p3' || !limited) return null;
    limited = false;
    return { status: 429, headers: { 'retry-after': '90' }, body: { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' } } };
  });
  const first = await provider.fetchChanges('primary', INCREMENTAL, CONTEXT);
  assert.deepEqual([first.isFullSync, first.hasMore, first.round, first.incremental, first.changes.length, first.continueAfterMs], [false, true, undefined, { kept: true, resumed: false }, 4, undefined], 'a part of two pages, the first of the listing');
  assert.deepEqual(JSON.parse(first.cursor!), { incremental: { pageToken: 'p3', pages: 2, entries: 4, idless: 0, syncToken: 'sync-old' } });
  // A limit on the page the cursor names, the read's first: the read fails with it (the cursor stays where it was).
  const failure = await providerFailureOf(provider.fetchChanges('primary', first.cursor, CONTEXT));
  assert.deepEqual(failure.kind === 'rate_limited' ? failure.retryAfterMs : failure, 90_000);
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual([last.isFullSync, last.isUnchanged, last.hasMore ?? false, last.round, last.incremental, last.changes.length], [false, false, false, undefined, { kept: false, resumed: true }, 1], 'the last part: what the parts held is applied with it, as changes');
  assert.deepEqual(JSON.parse(last.cursor!), { syncToken: 'sync-new' });
  assert.deepEqual(tokensAsked(), ['', 'p2', 'p3', 'p3'], 'each read goes on at the page the last stopped at');
  assert.ok(requests.every((r) => new URL(r.url).searchParams.get('syncToken') === 'sync-old'), 'every page asked with the listing\'s sync token');

  // A 429 after the read has a page ends the part there, its Retry-After the wait.
  let once = true;
  const later = listing(PAGES, (token) => {
    if (token !== 'p2' || !once) return null;
    once = false;
    return { status: 429, headers: { 'retry-after': '90' }, body: { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: 429, message: 'Rate Limit Exceeded' } } };
  });
  const stopped = await later.provider.fetchChanges('primary', INCREMENTAL, CONTEXT);
  assert.deepEqual([stopped.hasMore, stopped.continueAfterMs, stopped.changes.length, stopped.round], [true, 90_000, 2, undefined]);
  assert.equal((JSON.parse(stopped.cursor!) as { incremental: { pageToken: string } }).incremental.pageToken, 'p2');

  // The stored page token refused (400: Google documents no answer for a stale one): read again from the sync token, in the same read.
  const refused = listing(PAGES, (token) => token === 'stale' ? { status: 400, body: { error: { errors: [{ domain: 'global', reason: 'invalid', message: 'Invalid Value' }], code: 400, message: 'Invalid Value' } } } : null);
  const again = await refused.provider.fetchChanges('primary', JSON.stringify({ incremental: { pageToken: 'stale', pages: 2, entries: 4, idless: 0, syncToken: 'sync-old' } }), CONTEXT);
  assert.deepEqual(refused.tokensAsked(), ['stale', '', 'p2']);
  assert.ok(refused.requests.every((r) => new URL(r.url).searchParams.get('syncToken') === 'sync-old'));
  assert.deepEqual(again.incremental, { kept: true, resumed: false }, 'read again from its first page: what the listing held is dropped');
  assert.deepEqual([again.hasMore, again.changes.length, (JSON.parse(again.cursor!) as { incremental: { pageToken: string; pages: number } }).incremental], [true, 4, { pageToken: 'p3', pages: 2, entries: 4, idless: 0, syncToken: 'sync-old' }]);
});

test('Google: the last part of an incremental listing read in parts is never unchanged, even when its page is empty: it applies what the parts before it held', async () => {
  const { provider } = listing([...PAGES.slice(0, 2), []]);
  const first = await provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-old' }), CONTEXT);
  assert.deepEqual([first.hasMore, first.incremental], [true, { kept: true, resumed: false }]);
  const last = await provider.fetchChanges('primary', first.cursor, CONTEXT);
  assert.deepEqual([last.changes.length, last.isUnchanged, last.incremental, JSON.parse(last.cursor!)], [0, false, { kept: false, resumed: true }, { syncToken: 'sync-new' }]);
  // A listing read whole in one read with nothing in it is unchanged, and no part of one.
  const whole = await listing([[]]).provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-old' }), CONTEXT);
  assert.deepEqual([whole.isUnchanged, whole.incremental], [true, undefined]);
});
