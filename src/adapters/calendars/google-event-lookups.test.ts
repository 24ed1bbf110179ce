// The look before a join while a Google round read in parts is under way, by the adapter alone:
// only the HTTP boundary is faked. Pages are shaped as the events.list reference shows them
// (developers.google.com/workspace/calendar/api/v3/reference/events/list); events.get answers a
// deleted event with status "cancelled" (events resource, `status`: "The get method always returns
// them"; googleapis/google-api-java-client issue 1535), one no longer kept with 404 notFound, and
// errors as the errors guide shows them (developers.google.com/workspace/calendar/api/guides/errors:
// 404 notFound, 410 deleted, 429 rateLimitExceeded, 403 forbidden).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleCalendarProvider } from './google-calendar-provider.ts';
import type { MeetingToConfirm, ProviderChange } from './calendar-provider.ts';
import type { HttpRequest, HttpResponse, HttpSend } from './provider-http.ts';
import { providerFailureOf } from '../../../test/support/provider-failures.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const HOUR = 3_600_000;
const MIN = 60_000;
const tokens = { get: async () => 'access', renew: async () => 'access-2' };
const at = (ms: number) => ({ dateTime: new Date(ms).toISOString() });
const SOON = NOW + 5 * MIN;
const live = (id: string, startMs = SOON) => ({ id, status: 'confirmed', summary: id, start: at(startMs), end: at(startMs + HOUR) });
const error = (code: number, reason: string) => ({ error: { code, message: reason, errors: [{ domain: 'global', reason, message: reason }] } });

/** A listing of three pages (two a part) and events.get answered from `events` (by id; absent: 404). */
function google(pages: unknown[][], events: Record<string, { status: number; body: unknown }>) {
  const requests: HttpRequest[] = [];
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    requests.push(request);
    const url = new URL(request.url);
    const one = /\/events\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const answer = events[decodeURIComponent(one[1]!)] ?? { status: 404, body: error(404, 'notFound') };
      return { status: answer.status, headers: {}, body: JSON.stringify(answer.body) };
    }
    const token = url.searchParams.get('pageToken') ?? '';
    if (url.searchParams.has('syncToken')) return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: [], nextSyncToken: 'sync-next' }) };
    const index = token === '' ? 0 : Number(token.slice(1)) - 1;
    const isLast = index === pages.length - 1;
    return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: pages[index], ...(isLast ? { nextSyncToken: 'sync-new' } : { nextPageToken: `p${index + 2}` }) }) };
  };
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens, send, timeoutMs: 1000, now: () => NOW, pagesPerPart: 2 });
  return { provider, gets: () => requests.filter((r) => /\/events\/[^/]+$/.test(new URL(r.url).pathname)).map((r) => decodeURIComponent(new URL(r.url).pathname.split('/').at(-1)!)) };
}

const meeting = (providerEventId: string, startMs = SOON): MeetingToConfirm => ({ providerEventId, startMs, endMs: startMs + HOUR });
const idOf = (change: ProviderChange) => (change.type === 'removed' ? change.providerEventId : change.event.providerEventId);
const PAGES = [[live('filler-1'), live('listed-cancelled')], [live('filler-2')], [live('filler-3')]];
const resumedCursor = JSON.stringify({ listing: { pageToken: 'p2', pages: 1, entries: 2, idless: 0 } });

test('Google: a part of a round under way settles the meetings whose bots join soon: gone (cancelled, 404, 410), moved and cancelled by its listing applied at once and kept after the part; present, refused and a series master moved left as stored', async () => {
  const { provider, gets } = google([[live('filler-1')], [live('filler-2'), { id: 'listed-cancelled', status: 'cancelled' }], [live('filler-3')], [live('filler-4')]], {
    'deleted': { status: 200, body: { id: 'deleted', status: 'cancelled' } },
    'gone-410': { status: 410, body: error(410, 'deleted') },
    'moved': { status: 200, body: live('moved', SOON + HOUR) },
    'present': { status: 200, body: live('present') },
    'refused': { status: 403, body: error(403, 'forbidden') },
    'series': { status: 200, body: { ...live('series', SOON + HOUR), recurrence: ['RRULE:FREQ=WEEKLY'] } },
  });
  const confirm = ['deleted', 'purged', 'gone-410', 'moved', 'present', 'refused', 'series', 'listed-cancelled'].map((id) => meeting(id));
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual(part.round, { kept: true, resumed: true });
  assert.deepEqual(gets().sort(), ['deleted', 'gone-410', 'moved', 'present', 'purged', 'refused', 'series'], 'the one the part lists is settled by its entry');
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type]), [['deleted', 'removed'], ['purged', 'removed'], ['gone-410', 'removed'], ['moved', 'upsert'], ['listed-cancelled', 'removed']]);
  assert.deepEqual(part.goneOnLookup, ['deleted', 'purged', 'gone-410', 'listed-cancelled']);
  assert.deepEqual(part.confirmedPresent, ['present', 'series']);
  // Kept: the part's own entries, then what the lookups found (the listed one is there already).
  assert.deepEqual(part.changes.map(idOf), ['filler-2', 'listed-cancelled', 'filler-3', 'deleted', 'purged', 'gone-410', 'moved']);
});

test('Google: the last part of a round appends what the lookups find to the batch, and looks up nothing it lists', async () => {
  const { provider, gets } = google(PAGES, { deleted: { status: 200, body: { id: 'deleted', status: 'cancelled' } } });
  const cursor = JSON.stringify({ listing: { pageToken: 'p3', pages: 2, entries: 3, idless: 0 } });
  const last = await provider.fetchChanges('primary', cursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('deleted'), meeting('filler-3')] });
  assert.deepEqual([last.isFullSync, last.round], [true, { kept: false, resumed: true }]);
  assert.deepEqual(gets(), ['deleted']);
  assert.deepEqual(last.changes.map(idOf), ['filler-3', 'deleted']);
  assert.equal(last.confirmedChanges, undefined, 'the whole batch is applied now');
  assert.deepEqual(last.goneOnLookup, ['deleted']);
});

test('Google: a lookup answered 429 or 503 fails the read (never "gone"); a read from a sync token looks nothing up', async () => {
  for (const answer of [{ status: 429, body: error(429, 'rateLimitExceeded') }, { status: 503, body: error(503, 'backendError') }]) {
    const { provider } = google(PAGES, { deleted: answer });
    const failure = await providerFailureOf(provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('deleted')] }));
    assert.equal(failure.kind, answer.status === 429 ? 'rate_limited' : 'transient');
  }
  const { provider, gets } = google(PAGES, {});
  const incremental = await provider.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-old' }), { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('deleted')] });
  assert.equal(incremental.round, undefined);
  assert.deepEqual(gets(), []);
});
