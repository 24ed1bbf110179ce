// The look before a join while a Google round read in parts is under way, by the adapter alone:
// only the HTTP boundary is faked. Pages are shaped as the events.list reference shows them
// (developers.google.com/workspace/calendar/api/v3/reference/events/list); events.get answers a
// deleted event with status "cancelled" (events resource, `status`: "The get method always returns
// them"; googleapis/google-api-java-client issue 1535), one no longer kept with 404 notFound, and
// errors as the errors guide shows them (developers.google.com/workspace/calendar/api/guides/errors:
// 404 notFound, 410 deleted, 429 rateLimitExceeded, 403 forbidden). A call outside the token's
// scopes is answered 403 insufficientPermissions, "Request had insufficient authentication scopes."
// (GeneralTask/task-manager pull request 2160; receptron/mulmoclaude pull request 2737).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmedVerdict, GoogleCalendarProvider } from './google-calendar-provider.ts';
import type { MeetingToConfirm, ProviderChange } from './calendar-provider.ts';
import { CalendarProviderError } from './calendar-provider.ts';
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

type Answer = { status: number; body: unknown; headers?: Record<string, string> };
/** The answer to a request that times out (provider-http: a CalendarProviderError, transient). */
const TIMEOUT = 'timeout';

/**
 * A listing of three pages (two a part), events.get answered from `events` (by id; absent: 404),
 * the check of the calendar (events.list with maxResults=1) answered `check` (an empty page unless
 * given), and calendars.get (developers.google.com/workspace/calendar/api/v3/reference/calendars/get)
 * answered `calendar` (the calendar's metadata unless given).
 */
function google(pages: unknown[][], events: Record<string, Answer>, check: Answer | typeof TIMEOUT = { status: 200, body: { kind: 'calendar#events', timeZone: 'UTC', items: [], nextPageToken: 'more' } }, calendar: Answer = { status: 200, body: { kind: 'calendar#calendar', id: 'primary', summary: 'Work', timeZone: 'UTC' } }) {
  const requests: HttpRequest[] = [];
  const isCheck = (url: URL) => url.pathname.endsWith('/events') && url.searchParams.get('maxResults') === '1';
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    requests.push(request);
    const url = new URL(request.url);
    // events.instances of a series by originalStart: answered from `events` under `<series>@<originalStart>`.
    const instances = /\/events\/([^/]+)\/instances$/.exec(url.pathname);
    if (instances) {
      const answer = events[`${decodeURIComponent(instances[1]!)}@${url.searchParams.get('originalStart')}`] ?? { status: 404, body: error(404, 'notFound') };
      return { status: answer.status, headers: answer.headers ?? {}, body: JSON.stringify(answer.body) };
    }
    const one = /\/events\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const answer = events[decodeURIComponent(one[1]!)] ?? { status: 404, body: error(404, 'notFound') };
      return { status: answer.status, headers: answer.headers ?? {}, body: JSON.stringify(answer.body) };
    }
    if (/\/calendars\/[^/]+$/.test(url.pathname)) return { status: calendar.status, headers: calendar.headers ?? {}, body: JSON.stringify(calendar.body) };
    if (isCheck(url)) {
      if (check === TIMEOUT) throw new CalendarProviderError({ kind: 'transient', message: 'Google: no answer within 1000 ms' });
      return { status: check.status, headers: check.headers ?? {}, body: JSON.stringify(check.body) };
    }
    const token = url.searchParams.get('pageToken') ?? '';
    if (url.searchParams.has('syncToken')) return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: [], nextSyncToken: 'sync-next' }) };
    const index = token === '' ? 0 : Number(token.slice(1)) - 1;
    const isLast = index === pages.length - 1;
    return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: pages[index], ...(isLast ? { nextSyncToken: 'sync-new' } : { nextPageToken: `p${index + 2}` }) }) };
  };
  const provider = new GoogleCalendarProvider({ baseUrl: 'https://google.test/calendar/v3', tokens, send, timeoutMs: 1000, now: () => NOW, pagesPerPart: 2 });
  return { provider, instanceLookups: () => requests.filter((r) => new URL(r.url).pathname.endsWith('/instances')).map((r) => `${decodeURIComponent(new URL(r.url).pathname.split('/').at(-2)!)}@${new URL(r.url).searchParams.get('originalStart')} showDeleted=${new URL(r.url).searchParams.get('showDeleted')}`), checks: () => requests.filter((r) => isCheck(new URL(r.url))).length, calendarGets: () => requests.filter((r) => /\/calendars\/[^/]+$/.test(new URL(r.url).pathname)).length, gets: () => requests.filter((r) => /\/events\/[^/]+$/.test(new URL(r.url).pathname)).map((r) => decodeURIComponent(new URL(r.url).pathname.split('/').at(-1)!)) };
}

const meeting = (providerEventId: string, startMs = SOON): MeetingToConfirm => ({ providerEventId, startMs, endMs: startMs + HOUR });
const idOf = (change: ProviderChange) => (change.type === 'removed' ? change.providerEventId : change.event.providerEventId);
const PAGES = [[live('filler-1'), live('listed-cancelled')], [live('filler-2')], [live('filler-3')]];
/** Four pages: a read resumed at the second page is a kept part (two pages), the round's last part the fourth page. */
const FOUR_PAGES = [[live('filler-1')], [live('filler-2')], [live('filler-3')], [live('filler-4')]];
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

test('Google: a lookup answered 503 costs its meeting only: the part is kept and the meeting answered deleted is confirmed gone; a read from a sync token looks nothing up', async () => {
  const { provider } = google(FOUR_PAGES, {
    deleted: { status: 200, body: { id: 'deleted', status: 'cancelled' } },
    flaky: { status: 503, body: error(503, 'backendError') },
    moved: { status: 200, body: live('moved', SOON + HOUR) },
  });
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('flaky'), meeting('deleted'), meeting('moved')] });
  assert.deepEqual([part.hasMore, part.round], [true, { kept: true, resumed: true }], 'the part is kept');
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type]), [['deleted', 'removed'], ['moved', 'upsert']]);
  assert.deepEqual(part.goneOnLookup, ['deleted']);
  assert.equal(part.continueAfterMs, undefined, 'a 5xx asks for no longer wait');
  assert.ok(part.warnings?.some((w) => w.includes('flaky')), 'the failed lookup is logged');
  assert.ok(!part.changes.some((c) => idOf(c) === 'flaky'), 'not answered: left as stored');
  const { provider: incremental, gets } = google(FOUR_PAGES, {});
  const read = await incremental.fetchChanges('primary', JSON.stringify({ syncToken: 'sync-old' }), { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('deleted')] });
  assert.equal(read.round, undefined);
  assert.deepEqual(gets(), []);
});

test('Google: a lookup answered 429 stops the lookups not sent yet and its Retry-After becomes the wait, on a kept part and on the last one; a listing that stopped at a limit looks nothing up', async () => {
  const limited = { status: 429, body: error(429, 'rateLimitExceeded'), headers: { 'retry-after': '120' } };
  const answers = { 'a': limited, 'b': { status: 200, body: { id: 'b', status: 'cancelled' } }, 'c': { status: 200, body: live('c') }, 'd': { status: 200, body: { id: 'd', status: 'cancelled' } } };
  const confirm = ['a', 'b', 'c', 'd'].map((id) => meeting(id));
  const kept = google(FOUR_PAGES, answers);
  const part = await kept.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual([part.hasMore, part.continueAfterMs], [true, 120_000], 'the part kept, the next one after the Retry-After');
  // Three at a time: b and c were in flight with a; d, not sent yet, is not.
  assert.deepEqual(kept.gets().sort(), ['a', 'b', 'c']);
  assert.deepEqual(part.goneOnLookup, ['b']);
  assert.deepEqual(part.confirmedPresent, ['c']);
  const last = google(FOUR_PAGES, answers);
  const lastPart = await last.provider.fetchChanges('primary', JSON.stringify({ listing: { pageToken: 'p4', pages: 3, entries: 3, idless: 0 } }), { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual([lastPart.isFullSync, lastPart.continueAfterMs], [true, 120_000], 'applied, with the wait');
  assert.deepEqual(lastPart.goneOnLookup, ['b']);
  // The part's second page answered 429: it ends there, its wait the page's, no lookups.
  const atLimit = await new GoogleCalendarProvider({
    baseUrl: 'https://google.test/calendar/v3', tokens, timeoutMs: 1000, now: () => NOW, pagesPerPart: 2,
    send: async (request) => {
      const url = new URL(request.url);
      if (url.searchParams.get('pageToken') === 'p3') return { status: 429, headers: { 'retry-after': '90' }, body: JSON.stringify(error(429, 'rateLimitExceeded')) };
      if (/\/events\/[^/]+$/.test(url.pathname)) throw new Error('no lookup expected');
      return { status: 200, headers: {}, body: JSON.stringify({ timeZone: 'UTC', items: [live('filler')], nextPageToken: 'p3' }) };
    },
  }).fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual([atLimit.hasMore, atLimit.continueAfterMs], [true, 90_000]);
});

test('Google: events.get answered 404 is a deletion only once the calendar answers events.list (maxResults=1), asked once; the calendar\'s own 404 fails the read as its listing\'s; any other refusal of the check (403 of any reason, 401, 410, 429, 5xx, a timeout) leaves the meetings not answered', async () => {
  const confirm = [meeting('a'), meeting('b'), meeting('c')];
  const read = (g: ReturnType<typeof google>) => g.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  const there = google(FOUR_PAGES, {});
  const part = await read(there);
  assert.deepEqual(part.goneOnLookup, ['a', 'b', 'c']);
  assert.deepEqual([there.checks(), there.calendarGets()], [1, 0], 'checked once for the three, with the listing\'s own call');
  const gone = google(FOUR_PAGES, {}, { status: 404, body: error(404, 'notFound') });
  assert.equal((await providerFailureOf(read(gone))).kind, 'not_found', "the calendar's 404: the read fails as the listing's 404 fails it");
  const refusals: [string, Answer | typeof TIMEOUT][] = [
    ['403 forbidden', { status: 403, body: error(403, 'forbidden') }],
    ['403 insufficientPermissions', { status: 403, body: error(403, 'insufficientPermissions') }],
    ['401', { status: 401, body: error(401, 'authError') }],
    ['410', { status: 410, body: error(410, 'deleted') }],
    ['429', { status: 429, body: error(429, 'rateLimitExceeded'), headers: { 'retry-after': '120' } }],
    ['503', { status: 503, body: error(503, 'backendError') }],
    ['a timeout', TIMEOUT],
  ];
  for (const [what, answer] of refusals) {
    const unsure = await read(google(FOUR_PAGES, {}, answer));
    assert.deepEqual([unsure.hasMore, unsure.round, unsure.goneOnLookup, unsure.confirmedChanges], [true, { kept: true, resumed: true }, undefined, undefined], `${what}: kept, nothing taken as gone`);
    assert.ok(unsure.warnings?.some((w) => w.includes('the check of the calendar')), `${what}: logged`);
    assert.equal(unsure.continueAfterMs, what === '429' ? 120_000 : undefined, `${what}: only a limit asks for a wait`);
  }
  // A 410 says the event is gone, whatever the calendar: no check.
  const deleted = google(FOUR_PAGES, { a: { status: 410, body: error(410, 'deleted') } });
  const answered = await deleted.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('a')] });
  assert.deepEqual([answered.goneOnLookup, deleted.checks()], [['a'], 0]);
});

test('Google: a token whose scopes read events and the calendar list but not calendars\' metadata (calendar.events.readonly, calendar.calendarlist.readonly; calendars.get answering 403 insufficientPermissions): a lookup\'s 404 during a round is checked and taken as gone, the part kept, no access refused', async () => {
  const narrow = google(FOUR_PAGES, {}, undefined, { status: 403, body: { error: { code: 403, message: 'Request had insufficient authentication scopes.', errors: [{ domain: 'global', reason: 'insufficientPermissions', message: 'Insufficient Permission' }], status: 'PERMISSION_DENIED' } } });
  const part = await narrow.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [meeting('gone')] })
    .then((r) => ({ hasMore: r.hasMore, goneOnLookup: r.goneOnLookup }), (e: unknown) => ({ failed: e instanceof CalendarProviderError ? e.failure.kind : String(e) }));
  assert.deepEqual(part, { hasMore: true, goneOnLookup: ['gone'] }, 'the part kept, the meeting found gone');
  assert.deepEqual([narrow.checks(), narrow.calendarGets()], [1, 0]);
});

/** A weekly series' occurrence, as events.instances answers it (developers.google.com/workspace/calendar/api/v3/reference/events/instances: an events list; the instance with recurringEventId and originalStartTime, events resource). */
const instanceOf = (seriesId: string, originalStartMs: number, fields: Record<string, unknown> = {}) => ({ id: `inst-${originalStartMs}`, status: 'confirmed', summary: 'Weekly', recurringEventId: seriesId, originalStartTime: at(originalStartMs), start: at(originalStartMs), end: at(originalStartMs + HOUR), ...fields });
const listOf = (...items: unknown[]) => ({ status: 200, body: { kind: 'calendar#events', timeZone: 'UTC', items } });
const occurrence = (seriesId: string, originalStartMs = SOON): MeetingToConfirm => ({ providerEventId: seriesId, startMs: originalStartMs, endMs: originalStartMs + HOUR, occurrenceStartMs: originalStartMs });
const ISO_SOON = new Date(SOON).toISOString();

test('Google: an occurrence of a series stored as its master is looked up with events.instances by its original start (showDeleted): cancelled, moved, present, its series gone (410; 404 once the calendar answers), an answer without it or refused left as stored', async () => {
  const { provider, instanceLookups, gets, checks } = google(FOUR_PAGES, {
    [`cancelled@${ISO_SOON}`]: listOf({ id: 'inst-c', status: 'cancelled', recurringEventId: 'cancelled', originalStartTime: at(SOON) }),
    [`moved@${ISO_SOON}`]: listOf(instanceOf('moved', SOON, { id: 'inst-m', start: at(SOON + HOUR), end: at(SOON + 2 * HOUR) })),
    [`present@${ISO_SOON}`]: listOf(instanceOf('present', SOON)),
    [`deleted@${ISO_SOON}`]: { status: 410, body: error(410, 'deleted') },
    [`empty@${ISO_SOON}`]: listOf(),
    [`paged@${ISO_SOON}`]: { status: 200, body: { kind: 'calendar#events', timeZone: 'UTC', items: [], nextPageToken: 'more' } },
    [`other@${ISO_SOON}`]: listOf(instanceOf('other', SOON + 7 * 24 * HOUR)),
    [`refused@${ISO_SOON}`]: { status: 403, body: error(403, 'forbidden') },
  });
  const confirm = ['cancelled', 'moved', 'present', 'deleted', 'purged', 'empty', 'paged', 'other', 'refused'].map((id) => occurrence(id));
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual(instanceLookups().sort(), confirm.map((m) => `${m.providerEventId}@${ISO_SOON} showDeleted=true`).sort(), 'each looked up once, by its original start');
  assert.deepEqual(gets(), [], 'no events.get: an instance id is never made up');
  assert.equal(checks(), 1, 'the 404 checked against the calendar');
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type, c.type === 'upsert' ? [c.event.status, c.event.seriesProviderEventId, c.event.originalStartMs, c.event.startMs] : null]), [
    ['inst-c', 'upsert', ['cancelled', 'cancelled', SOON, SOON]],
    ['inst-m', 'upsert', ['confirmed', 'moved', SOON, SOON + HOUR]],
    ['deleted', 'removed', null],
    ['purged', 'removed', null],
  ], 'the cancelled instance as a listing brings it; the moved one with its times; a series gone as its master');
  assert.deepEqual(part.goneOnLookup, ['deleted', 'purged']);
  assert.deepEqual(part.confirmedPresent, ['present']);
  assert.ok(['empty', 'paged', 'other'].every((id) => part.warnings?.some((w) => w.includes(`events.instances of ${id} answered no occurrence`))), 'an answer without the instance is logged, not answered');
  assert.deepEqual(part.changes.map(idOf), ['filler-2', 'filler-3', 'inst-c', 'inst-m', 'deleted', 'purged'], 'kept after the part\'s own entries');
});

test('Google: an occurrence whose instance (or whose master, gone or cancelled) the part lists is settled by that entry, not looked up; its master listed live settles nothing of it', async () => {
  const { provider, instanceLookups } = google([[live('filler-1')], [{ id: 'inst-a', status: 'cancelled', recurringEventId: 'a', originalStartTime: at(SOON) }, { id: 'b', status: 'cancelled' }], [{ ...live('c', SOON - 7 * 24 * HOUR), recurrence: ['RRULE:FREQ=WEEKLY'] }], [live('filler-4')]], {
    [`c@${ISO_SOON}`]: listOf(instanceOf('c', SOON)),
  });
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [occurrence('a'), occurrence('b'), occurrence('c')] });
  assert.deepEqual(instanceLookups(), [`c@${ISO_SOON} showDeleted=true`]);
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type]), [['inst-a', 'upsert'], ['b', 'removed']]);
  assert.deepEqual(part.confirmedPresent, ['c']);
});

test('Google: an events.instances lookup answered 429 leaves its occurrence as stored, and its Retry-After is the part\'s wait; a 500 costs that occurrence only', async () => {
  const limited = google(FOUR_PAGES, {
    [`a@${ISO_SOON}`]: { status: 429, body: error(429, 'rateLimitExceeded'), headers: { 'retry-after': '300' } },
    [`b@${ISO_SOON}`]: listOf({ id: 'inst-b', status: 'cancelled', recurringEventId: 'b', originalStartTime: at(SOON) }),
  });
  const part = await limited.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [occurrence('a'), occurrence('b')] });
  assert.deepEqual([part.hasMore, part.round, part.continueAfterMs], [true, { kept: true, resumed: true }, 300_000], 'the part kept, its wait the Retry-After');
  assert.ok(!part.changes.some((c) => idOf(c) === 'a'), 'not answered: left as stored');
  assert.ok(part.warnings?.some((w) => w.includes(`events.instances of a at ${ISO_SOON} failed`)));
  const flaky = google(FOUR_PAGES, {
    [`a@${ISO_SOON}`]: { status: 500, body: error(500, 'backendError') },
    [`b@${ISO_SOON}`]: listOf({ id: 'inst-b', status: 'cancelled', recurringEventId: 'b', originalStartTime: at(SOON) }),
  });
  const again = await flaky.provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [occurrence('a'), occurrence('b')] });
  assert.deepEqual([again.hasMore, again.continueAfterMs, again.confirmedChanges?.map(idOf)], [true, undefined, ['inst-b']]);
});

/** An occurrence stored as an exception of its own (`id`), of series `seriesId`, originally at `originalStartMs`, stored at `startMs`. */
const exceptionMeeting = (id: string, seriesId: string, originalStartMs = SOON - 10 * MIN, startMs = SOON): MeetingToConfirm => ({ providerEventId: id, startMs, endMs: startMs + HOUR, seriesId, exceptionOriginalStartMs: originalStartMs });
const exceptionOf = (id: string, seriesId: string, originalStartMs = SOON - 10 * MIN, startMs = SOON) => ({ ...live(id, startMs), recurringEventId: seriesId, originalStartTime: at(originalStartMs) });
const WEEK = 7 * 24 * HOUR;
/** A weekly series whose occurrences fall at SOON - 10 min, a week apart (the exceptions' original starts). */
const master = (id: string, recurrence = ['RRULE:FREQ=WEEKLY']) => ({ ...live(id, SOON - WEEK - 10 * MIN), recurrence });
const basicUtc = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

test('Google: an occurrence stored as its own exception is looked up with events.get of its id and of its series (once for all its exceptions): its series deleted or gone cancels it, the exception gone while its series lives is the occurrence cancelled (never back to the rule\'s time), present only once its series answers live', async () => {
  const { provider, gets, checks } = google(FOUR_PAGES, {
    'S1': { status: 200, body: { id: 'S1', status: 'cancelled' } },
    'e1': { status: 200, body: exceptionOf('e1', 'S1') },
    'S2': { status: 410, body: error(410, 'deleted') },
    'S3': { status: 200, body: master('S3') },
    'e4': { status: 410, body: error(410, 'deleted') },
    'e5': { status: 200, body: exceptionOf('e5', 'S3', SOON + 50 * MIN) },
    'S6': { status: 500, body: error(500, 'backendError') },
    'e6': { status: 200, body: exceptionOf('e6', 'S6') },
    'e7': { status: 200, body: exceptionOf('e7', 'S6', SOON - 10 * MIN, SOON + HOUR) },
  });
  const confirm = [exceptionMeeting('e1', 'S1'), exceptionMeeting('e2', 'S2'), exceptionMeeting('e3', 'S3'), exceptionMeeting('e4', 'S3', SOON - 10 * MIN + WEEK), exceptionMeeting('e5', 'S3', SOON + 50 * MIN), exceptionMeeting('e6', 'S6'), exceptionMeeting('e7', 'S6')];
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual(gets().sort(), ['S1', 'S2', 'S3', 'S6', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'], 'each exception and each series once');
  assert.equal(checks(), 1, 'the 404s (e2, e3) checked against the calendar once');
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type, c.type === 'upsert' ? [c.event.status, c.event.seriesProviderEventId, c.event.originalStartMs, c.event.startMs] : null]), [
    ['S1', 'removed', null],
    ['S2', 'removed', null],
    ['e3', 'upsert', ['cancelled', 'S3', SOON - 10 * MIN, SOON - 10 * MIN]],
    ['e4', 'upsert', ['cancelled', 'S3', SOON - 10 * MIN + WEEK, SOON - 10 * MIN + WEEK]],
    ['e7', 'upsert', ['confirmed', 'S6', SOON - 10 * MIN, SOON + HOUR]],
  ], 'a series ended as its master; an exception gone of a live series as its occurrence cancelled; a moved one with its times');
  assert.deepEqual(part.goneOnLookup, ['S1', 'S2']);
  assert.deepEqual(part.confirmedPresent, ['e5'], 'present once its series answers live; e6, its series not answered, left as stored');
});

test('Google: an occurrence stored as its own exception whose series the kept part lists deleted or cancelled is settled by that entry, nothing looked up; its series listed live settles nothing of it', async () => {
  const { provider, gets } = google([[live('filler-1')], [{ id: 'S', status: 'cancelled' }, master('T')], [live('filler-3')], [live('filler-4')]], {
    'exc': { status: 200, body: exceptionOf('exc', 'S') },
    'other': { status: 200, body: exceptionOf('other', 'T') },
    'T': { status: 200, body: master('T') },
  });
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [exceptionMeeting('exc', 'S'), exceptionMeeting('other', 'T')] });
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type]), [['S', 'removed']], 'the series listed deleted settles its booked occurrence');
  assert.deepEqual(gets().sort(), ['T', 'other'], 'the exception of the live series looked up, with its series');
  assert.deepEqual(part.confirmedPresent, ['other']);
});

test('Google: the lookups of one read stay within 20 requests, an exception and its series costing two: the meetings past them, the latest joins, are left as stored with a warning', async () => {
  const events: Record<string, Answer> = {};
  const confirm: MeetingToConfirm[] = [];
  for (let i = 0; i < 11; i++) {
    events[`S${i}`] = { status: 200, body: master(`S${i}`) };
    events[`e${i}`] = { status: 200, body: exceptionOf(`e${i}`, `S${i}`) };
    confirm.push(exceptionMeeting(`e${i}`, `S${i}`));
  }
  const { provider, gets } = google(FOUR_PAGES, events);
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.equal(gets().length, 20);
  assert.ok(!gets().includes('e10') && !gets().includes('S10'), 'the last meeting not looked up');
  assert.equal(part.confirmedPresent?.length, 10);
  assert.ok(part.warnings?.some((w) => w.includes('1 meeting(s) whose bots join soon not looked up in this read')));
});

test('confirmedVerdict: removed is gone; cancelled is changed; other times than the meeting\'s are changed; a series master only when cancelled', () => {
  const meetingTimes = { startMs: SOON, endMs: SOON + HOUR };
  const upsert = (fields: Record<string, unknown>): ProviderChange => ({ type: 'upsert', event: { providerEventId: 'x', title: null, description: null, location: null, startMs: SOON, endMs: SOON + HOUR, timeZone: null, isAllDay: false, conferenceUrl: null, recurrence: null, seriesProviderEventId: null, originalStartMs: null, status: 'confirmed', isDeclined: false, raw: {}, ...fields } });
  assert.equal(confirmedVerdict({ type: 'removed', providerEventId: 'x' }, meetingTimes), 'gone');
  assert.equal(confirmedVerdict(upsert({ status: 'cancelled' }), meetingTimes), 'changed');
  assert.equal(confirmedVerdict(upsert({}), meetingTimes), 'present');
  assert.equal(confirmedVerdict(upsert({ startMs: SOON + HOUR, endMs: SOON + 2 * HOUR }), meetingTimes), 'changed');
  assert.equal(confirmedVerdict(upsert({ endMs: SOON + 2 * HOUR }), meetingTimes), 'changed');
  assert.equal(confirmedVerdict(upsert({ startMs: SOON - 7 * 24 * HOUR, recurrence: ['RRULE:FREQ=WEEKLY'] }), meetingTimes), 'present');
  assert.equal(confirmedVerdict(upsert({ recurrence: ['RRULE:FREQ=WEEKLY'], status: 'cancelled' }), meetingTimes), 'changed');
});

test('Google: an exception gone or cancelled is its occurrence cancelled only while its series, answered live in the same read, still has that original start: a series split ("this and following") or retimed leaves it as stored', async () => {
  // A split ends the old rule with an UNTIL before the edited occurrence (series-cut.ts); a COUNT
  // that ends before it, or a rule moved to other times, no longer lands on it either.
  const split = master('S', [`RRULE:FREQ=WEEKLY;UNTIL=${basicUtc(SOON - 10 * MIN - 1000)}`]);
  const counted = master('C', ['RRULE:FREQ=WEEKLY;COUNT=1']);
  const retimed = { ...live('R', SOON - WEEK - 40 * MIN), recurrence: ['RRULE:FREQ=WEEKLY'] };
  const { provider, gets } = google(FOUR_PAGES, {
    'S': { status: 200, body: split },
    'e1': { status: 200, body: { id: 'e1', status: 'cancelled', recurringEventId: 'S', originalStartTime: at(SOON - 10 * MIN) } },
    'e2': { status: 410, body: error(410, 'deleted') },
    'C': { status: 200, body: counted },
    'e3': { status: 410, body: error(410, 'deleted') },
    'R': { status: 200, body: retimed },
    'e4': { status: 200, body: { id: 'e4', status: 'cancelled', recurringEventId: 'R', originalStartTime: at(SOON - 10 * MIN) } },
    'L': { status: 200, body: master('L') },
    'e5': { status: 200, body: { id: 'e5', status: 'cancelled', recurringEventId: 'L', originalStartTime: at(SOON - 10 * MIN) } },
    'e6': { status: 410, body: error(410, 'deleted') },
  });
  const confirm = [exceptionMeeting('e1', 'S'), exceptionMeeting('e2', 'S', SOON - 10 * MIN + WEEK), exceptionMeeting('e3', 'C'), exceptionMeeting('e4', 'R'), exceptionMeeting('e5', 'L'), exceptionMeeting('e6', 'L', SOON - 10 * MIN + WEEK)];
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.deepEqual(gets().sort(), ['C', 'L', 'R', 'S', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
  assert.deepEqual(part.confirmedChanges?.map((c) => [idOf(c), c.type === 'upsert' ? c.event.status : c.type]), [['e5', 'cancelled'], ['e6', 'cancelled']], 'only the exceptions of the series that still has their occurrences');
  assert.equal(part.confirmedPresent, undefined);
});

test('Google: an exception the kept part lists cancelled is its occurrence cancelled only while its series still has it: by the series the part lists, else by both looked up', async () => {
  const cancelledOf = (id: string, seriesId: string) => ({ id, status: 'cancelled', recurringEventId: seriesId, originalStartTime: at(SOON - 10 * MIN) });
  const cut = master('S', [`RRULE:FREQ=WEEKLY;UNTIL=${basicUtc(SOON - 10 * MIN - 1000)}`]);
  const { provider, gets } = google([[live('filler-1')], [cut, cancelledOf('e1', 'S'), cancelledOf('e2', 'T'), master('L'), cancelledOf('e3', 'L')], [live('filler-3')], [live('filler-4')]], {
    'T': { status: 200, body: master('T', [`RRULE:FREQ=WEEKLY;UNTIL=${basicUtc(SOON - 10 * MIN - 1000)}`]) },
    'e2': { status: 200, body: cancelledOf('e2', 'T') },
  });
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm: [exceptionMeeting('e1', 'S'), exceptionMeeting('e2', 'T'), exceptionMeeting('e3', 'L')] });
  assert.deepEqual(gets().sort(), ['T', 'e2'], 'the exception whose series the part does not list looked up with it');
  assert.deepEqual(part.confirmedChanges?.map((c) => idOf(c)), ['e3'], 'only the one whose series still has it');
});

test('Google: the lookups\' budget passes over a meeting that does not fit (an exception and its series, two requests with one left) and still asks a later one that fits', async () => {
  const events: Record<string, Answer> = {};
  const confirm: MeetingToConfirm[] = [];
  for (let i = 0; i < 9; i++) {
    events[`S${i}`] = { status: 200, body: master(`S${i}`) };
    events[`e${i}`] = { status: 200, body: exceptionOf(`e${i}`, `S${i}`) };
    confirm.push(exceptionMeeting(`e${i}`, `S${i}`));
  }
  events['a'] = { status: 200, body: live('a') };
  events['b'] = { status: 200, body: live('b') };
  confirm.push(meeting('a'), exceptionMeeting('x', 'SX'), meeting('b'));
  const { provider, gets } = google(FOUR_PAGES, events);
  const part = await provider.fetchChanges('primary', resumedCursor, { nowMs: NOW, horizonMs: 30 * 24 * HOUR, confirm });
  assert.equal(gets().length, 20);
  assert.ok(gets().includes('b') && !gets().includes('x') && !gets().includes('SX'));
  assert.ok(part.confirmedPresent?.includes('b'));
  assert.ok(part.warnings?.some((w) => w.includes('1 meeting(s) whose bots join soon not looked up in this read')));
});
