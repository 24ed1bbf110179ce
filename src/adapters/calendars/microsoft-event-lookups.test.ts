// Graph's answers to a GET of one event (learn.microsoft.com/graph/api/event-get), which the
// adapter makes to settle an entry a round lists removed, to complete occurrences from their
// master, and to check a meeting whose bot joins soon. An event always has an id, a start and an
// end (learn.microsoft.com/graph/api/resources/event); an answer without them (a proxy's, a
// fault's) is neither taken as the event nor as a sign that it is gone. Only the HTTP boundary is
// faked: the adapter runs as in service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicrosoftCalendarProvider } from './microsoft-calendar-provider.ts';
import type { HttpResponse, HttpSend } from './provider-http.ts';
import { CalendarProviderError, inLookupGroup, LookupsStopped, type FetchResult, type ProviderChange } from './calendar-provider.ts';

const NOW = Date.parse('2026-12-02T08:00:00Z');
const DAY = 86_400_000;
const CONTEXT = { nowMs: NOW, horizonMs: 30 * DAY };
const BASE = 'https://graph.test/v1.0';
const CURSOR = JSON.stringify({ deltaLink: `${BASE}/me/calendars/c/calendarView/delta?$deltatoken=old`, fromMs: NOW - DAY, toMs: NOW + 30 * DAY });
const time = (ms: number) => ({ dateTime: new Date(ms).toISOString().replace('Z', '0000'), timeZone: 'UTC' });
const START = NOW + 2 * DAY;
const event = (id: string, fields: Record<string, unknown> = {}) => ({ id, type: 'singleInstance', subject: `Meeting ${id}`, start: time(START), end: time(START + 3_600_000), ...fields });

/** Wrong shapes for a GET of one event: a JSON null, not an object, no id, no start, a start that is no date and time. */
const WRONG_SHAPES: [string, unknown][] = [
  ['null', null],
  ['a list', []],
  ['{}', {}],
  ['no id', { subject: 'Meeting A', start: time(START), end: time(START + 3_600_000) }],
  ['no start or end', { id: 'A', subject: 'Meeting A' }],
  ['a numeric dateTime', { id: 'A', subject: 'Meeting A', start: { dateTime: 12, timeZone: 'UTC' }, end: time(START + 3_600_000) }],
  ['a dateTime in words', { id: 'A', subject: 'Meeting A', start: { dateTime: 'next Tuesday', timeZone: 'UTC' }, end: time(START + 3_600_000) }],
];

/** A Graph whose answers are chosen by path: the delta round, GETs of events, instance lists, calendarView. */
function graph(routes: Record<string, unknown>): { provider: MicrosoftCalendarProvider; paths: string[] } {
  const paths: string[] = [];
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    const path = new URL(request.url).pathname.slice('/v1.0'.length);
    paths.push(path);
    if (!(path in routes)) return { status: 404, headers: {}, body: JSON.stringify({ error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } }) };
    return { status: 200, headers: {}, body: JSON.stringify(routes[path]) };
  };
  return { provider: new MicrosoftCalendarProvider({ baseUrl: BASE, tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => NOW }), paths };
}

function round(value: unknown[]): unknown {
  return { value, '@odata.deltaLink': `${BASE}/me/calendars/c/calendarView/delta?$deltatoken=new` };
}

function summary(result: FetchResult): string[] {
  return result.changes.map((c: ProviderChange) => (c.type === 'upsert' ? `${c.event.providerEventId}:${c.event.title}` : `-${c.providerEventId}`));
}

test('Graph: an event a round names only @removed, whose lookup answers 200 in a shape that is not an event, is kept as stored: neither removed nor stored as that answer', async () => {
  for (const [name, answer] of WRONG_SHAPES) {
    const { provider, paths } = graph({ '/me/calendars/c/calendarView/delta': round([{ id: 'A', '@removed': { reason: 'deleted' } }]), '/me/calendars/c/events/A': answer });
    const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
    assert.ok(paths.includes('/me/calendars/c/events/A'), name);
    assert.deepEqual(summary(result), [], name);
    assert.deepEqual(result.unreadable, ['A'], name);
    assert.match(result.warnings?.join('\n') ?? '', /lookup of event A.*kept as stored/, name);
    assert.equal(JSON.parse(result.cursor!).deltaLink, `${BASE}/me/calendars/c/calendarView/delta?$deltatoken=new`, `${name}: an entry with an id keeps the round's delta link`);
  }
  // An answer that is an event: what Graph has now.
  const { provider } = graph({ '/me/calendars/c/calendarView/delta': round([{ id: 'A', '@removed': { reason: 'deleted' } }]), '/me/calendars/c/events/A': event('A') });
  assert.deepEqual(summary(await provider.fetchChanges('c', CURSOR, CONTEXT)), ['A:Meeting A']);
});

test('Graph: an event listed twice in versions that cannot be ordered, whose lookup answers in a wrong shape: the version the round lists stands', async () => {
  for (const [name, answer] of WRONG_SHAPES) {
    const { provider } = graph({
      '/me/calendars/c/calendarView/delta': round([event('A', { subject: 'First' }), event('A', { subject: 'Second' })]),
      '/me/calendars/c/events/A': answer,
    });
    const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
    assert.deepEqual(summary(result), ['A:Second'], name);
    assert.equal(result.unreadable, undefined, name);
    assert.match(result.warnings?.join('\n') ?? '', /the version the round lists stands/, name);
  }
});

test('Graph: an occurrence whose master answers in a wrong shape fails the round as transient, rather than storing the occurrence without its master\'s title and link', async () => {
  const occurrence = { id: 'O1', type: 'occurrence', seriesMasterId: 'M', start: time(START), end: time(START + 3_600_000) };
  for (const [name, answer] of [...WRONG_SHAPES, ['a master without start', { id: 'M', type: 'seriesMaster', subject: 'Weekly' }]] as [string, unknown][]) {
    const { provider } = graph({ '/me/calendars/c/calendarView/delta': round([occurrence]), '/me/calendars/c/events/M': answer });
    const failure = await provider.fetchChanges('c', CURSOR, CONTEXT).then(() => null, (error: unknown) => error);
    assert.ok(failure instanceof CalendarProviderError, `${name}: ${String(failure)}`);
    assert.equal(failure.failure.kind, 'transient', name);
  }
  const { provider } = graph({ '/me/calendars/c/calendarView/delta': round([occurrence]), '/me/calendars/c/events/M': event('M', { type: 'seriesMaster', subject: 'Weekly' }) });
  assert.deepEqual(summary(await provider.fetchChanges('c', CURSOR, CONTEXT)), ['O1:Weekly']);
});

test('Graph: a series\' instance listed bare whose master answers in a wrong shape: the lookup fails as transient, the series is not taken as gone', async () => {
  const window = { fromMs: NOW - DAY, toMs: NOW + 30 * DAY };
  const bare = { id: 'O1', type: 'occurrence', seriesMasterId: 'M', start: time(START), end: time(START + 3_600_000) };
  for (const [name, answer] of WRONG_SHAPES) {
    const { provider } = graph({ '/me/calendars/c/events/M/instances': { value: [bare] }, '/me/calendars/c/events/M': answer });
    const outcome = await provider.fetchSeriesInstances('c', 'M', window).then((instances) => ({ instances }), (error: unknown) => ({ error }));
    assert.ok('error' in outcome && outcome.error instanceof CalendarProviderError && outcome.error.failure.kind === 'transient', `${name}: ${JSON.stringify(outcome)}`);
  }
});

test('Graph: a meeting whose bot joins soon, looked up and answered in a wrong shape, is not taken as gone', async () => {
  for (const [name, answer] of WRONG_SHAPES) {
    const { provider, paths } = graph({
      '/me/calendars/c/calendarView/delta': round([]),
      '/me/calendars/c/events/A': answer,
      '/me/calendars/c/calendarView': { value: [] },
    });
    const result = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, confirm: [{ providerEventId: 'A', startMs: START, endMs: START + 3_600_000 }] });
    assert.ok(paths.includes('/me/calendars/c/events/A'), name);
    assert.deepEqual(summary(result), [], name);
  }
});

test('Graph: a series listed twice in a round, whose list of instances holds one with a start in a zone it cannot place: that one is kept as stored, the rest of the series and the round apply', async () => {
  const master = event('M', { type: 'seriesMaster', subject: 'Weekly' });
  const occurrence = (id: string, ms: number) => ({ id, type: 'occurrence', seriesMasterId: 'M', start: time(ms), end: time(ms + 3_600_000) });
  const listed = (id: string, ms: number, fields: Record<string, unknown> = {}) => ({ ...occurrence(id, ms), subject: 'Weekly', ...fields });
  const { provider, paths } = graph({
    '/me/calendars/c/calendarView/delta': round([master, occurrence('O1', START), occurrence('O2', START + 7 * DAY), master, event('B')]),
    '/me/calendars/c/events/M': master,
    '/me/calendars/c/events/M/instances': { value: [listed('O1', START), listed('O2', START + 7 * DAY, { start: { ...time(START + 7 * DAY), timeZone: 'tzone://Microsoft/Custom' } })] },
  });
  const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.ok(paths.includes('/me/calendars/c/events/M/instances'));
  assert.deepEqual(summary(result).sort(), ['B:Meeting B', 'O1:Weekly']);
  assert.deepEqual(result.unreadable, ['O2']);
  assert.deepEqual(result.completeSeries, ['M']);
  assert.match(result.warnings?.join('\n') ?? '', /series M: .*O2 without a start it can read/);
});

test('Graph: an event a round lists both live and @removed, whose lookup answers in a wrong shape: the live version the round lists stands, not the stored one', async () => {
  for (const [name, answer] of WRONG_SHAPES) {
    for (const order of ['removed last', 'removed first']) {
      const entries = [event('A', { subject: 'Moved', start: time(START + 3_600_000), end: time(START + 7_200_000) }), { id: 'A', '@removed': { reason: 'deleted' } }];
      const { provider, paths } = graph({
        '/me/calendars/c/calendarView/delta': round(order === 'removed last' ? entries : entries.reverse()),
        '/me/calendars/c/events/A': answer,
      });
      const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
      assert.ok(paths.includes('/me/calendars/c/events/A'), `${name}, ${order}`);
      assert.deepEqual(summary(result), ['A:Moved'], `${name}, ${order}`);
      const [change] = result.changes;
      assert.equal(change?.type === 'upsert' ? change.event.startMs : null, START + 3_600_000, `${name}, ${order}`);
      assert.equal(result.unreadable, undefined, `${name}, ${order}`);
      assert.match(result.warnings?.join('\n') ?? '', /lookup of event A.*the version the round lists stands/, `${name}, ${order}`);
    }
  }
});

test('Graph: an instance a series\' list lacks, looked up by its id: a 404 is gone, an exception found carries its current start, one moved out of the window is removed, a wrong shape is kept', async () => {
  const window = { fromMs: NOW - DAY, toMs: NOW + 30 * DAY };
  const exception = event('X', { type: 'exception', seriesMasterId: 'M', subject: 'Moved weekly', start: time(START + 2 * 3_600_000), end: time(START + 3 * 3_600_000) });
  const { provider, paths } = graph({ '/me/calendars/c/events/X': exception, '/me/calendars/c/events/Far': { ...exception, id: 'Far', start: time(NOW + 40 * DAY), end: time(NOW + 40 * DAY + 3_600_000) } });
  assert.deepEqual(await provider.lookUpInstance('c', 'M', 'Gone', window), { kind: 'gone' });
  const found = await provider.lookUpInstance('c', 'M', 'X', window);
  assert.equal(found.kind, 'found');
  const change = found.kind === 'found' ? found.change : null;
  assert.deepEqual(change?.type === 'upsert' ? [change.event.providerEventId, change.event.title, change.event.startMs, change.event.providerSeriesId, change.event.seriesRule] : change, ['X', 'Moved weekly', START + 2 * 3_600_000, 'M', undefined]);
  assert.deepEqual(await provider.lookUpInstance('c', 'M', 'Far', window), { kind: 'found', change: { type: 'removed', providerEventId: 'Far' } });
  assert.ok(paths.includes('/me/calendars/c/events/X'));
  for (const [name, answer] of WRONG_SHAPES) {
    const odd = graph({ '/me/calendars/c/events/X': answer });
    assert.equal((await odd.provider.lookUpInstance('c', 'M', 'X', window)).kind, 'unreadable', name);
  }
  // An outage is thrown, for the read to be tried again.
  const send: HttpSend = async () => ({ status: 503, headers: {}, body: JSON.stringify({ error: { code: 'serviceNotAvailable', message: 'Service Unavailable' } }) });
  const down = new MicrosoftCalendarProvider({ baseUrl: BASE, tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => NOW });
  const failure = await down.lookUpInstance('c', 'M', 'X', window).then(() => null, (error: unknown) => error);
  assert.ok(failure instanceof CalendarProviderError && failure.failure.kind === 'transient', String(failure));
});

test('Graph: one read settles with one budget of 50 lookups, shared by events named only @removed and the occurrences of a master still not found', async () => {
  const removed = Array.from({ length: 30 }, (_, i) => ({ id: `R${i}`, '@removed': { reason: 'deleted' } }));
  // Occurrences come bare in a delta round (microsoft-graph-docs issue 7632); their master M answers 404.
  const occurrences = Array.from({ length: 40 }, (_, i) => ({ id: `O${i}`, type: 'occurrence', seriesMasterId: 'M', start: time(START + i * DAY), end: time(START + i * DAY + 3_600_000) }));
  const routes: Record<string, unknown> = { '/me/calendars/c/calendarView/delta': round([...removed, ...occurrences]) };
  for (const o of occurrences) routes[`/me/calendars/c/events/${o.id}`] = { ...o, subject: 'Weekly' };
  const { provider, paths } = graph(routes);
  // M was missed by the read before: its occurrences are looked up one by one.
  const result = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, missedBefore: ['M'] });
  const lookedUp = (prefix: string) => paths.filter((p) => p.startsWith(`/me/calendars/c/events/${prefix}`)).length;
  assert.equal(lookedUp('R'), 30);
  assert.equal(lookedUp('O'), 20, 'the occurrences get what the @removed lookups left of the read\'s 50');
  assert.equal(lookedUp('M'), 1);
  assert.equal(result.unreadable?.filter((id) => id.startsWith('O')).length, 20, 'the rest kept as stored');
  assert.deepEqual(result.missedAgain, ['M']);
});

/**
 * A round listing bare occurrences (microsoft-graph-docs issue 7632) of `series` series, two each,
 * without their masters, and a Graph that answers each master's GET after `delayMs`, counting how
 * many requests are in flight at once (Graph allows an app 4 per mailbox:
 * learn.microsoft.com/graph/throttling-limits#outlook-service-limits; the adapter leaves one of
 * them to the app's other requests to the mailbox).
 */
function manySeries(series: number, options: { delayMs?: number; masterLookups?: number; answer?: (path: string) => HttpResponse | null } = {}) {
  const occurrences = Array.from({ length: series }, (_, s) => [0, 7].map((d) => ({ id: `S${s}-${d}`, type: 'occurrence', seriesMasterId: `S${s}`, start: time(START + d * DAY + s * 60_000), end: time(START + d * DAY + s * 60_000 + 3_600_000) }))).flat();
  const routes = new Map<string, unknown>([['/me/calendars/c/calendarView/delta', round(occurrences)]]);
  for (let s = 0; s < series; s++) routes.set(`/me/calendars/c/events/S${s}`, { id: `S${s}`, type: 'seriesMaster', subject: `Series ${s}`, start: time(START), end: time(START + 3_600_000) });
  const masters: string[] = [];
  let inFlight = 0;
  const seen = { most: 0 };
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    const path = new URL(request.url).pathname.slice('/v1.0'.length);
    if (path.startsWith('/me/calendars/c/events/')) masters.push(path.slice('/me/calendars/c/events/'.length));
    inFlight += 1;
    seen.most = Math.max(seen.most, inFlight);
    try {
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const odd = options.answer?.(path);
      if (odd) return odd;
      if (!routes.has(path)) return { status: 404, headers: {}, body: JSON.stringify({ error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } }) };
      return { status: 200, headers: {}, body: JSON.stringify(routes.get(path)) };
    } finally {
      inFlight -= 1;
    }
  };
  const provider = new MicrosoftCalendarProvider({ baseUrl: BASE, tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 1000, now: () => NOW, ...(options.masterLookups ? { masterLookups: options.masterLookups } : {}) });
  return { provider, masters, seen, occurrences };
}

test('Graph: the masters a round lacks are looked up three at a time, never more, and each once', async () => {
  const { provider, masters, seen } = manySeries(10, { delayMs: 5 });
  const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.equal(seen.most, 3, 'three of Graph\'s 4 concurrent requests per mailbox, one left to the app\'s other requests');
  assert.deepEqual([...masters].sort(), Array.from({ length: 10 }, (_, s) => `S${s}`).sort());
  assert.equal(result.changes.length, 20);
  assert.ok(result.changes.every((c) => c.type === 'upsert' && c.event.title === `Series ${c.event.providerSeriesId!.slice(1)}`));
  assert.equal(result.hasMore, undefined);
});

test('Graph: a round lacking more masters than a read looks up is read in parts: the rest kept as stored, the cursor kept at the round, each part going further, every occurrence completed in the end', async () => {
  const { provider, masters, occurrences } = manySeries(8, { masterLookups: 3 });
  let cursor = CURSOR;
  const stored = new Map<string, string>();
  const parts: { looked: string[]; kept: number; link: string | null }[] = [];
  for (let read = 0; read < 5; read++) {
    const before = masters.length;
    const result = await provider.fetchChanges('c', cursor, CONTEXT);
    for (const change of result.changes) if (change.type === 'upsert') stored.set(change.event.providerEventId, change.event.title!);
    // Nothing is both applied and kept: an occurrence is either completed or left as stored.
    assert.ok(!(result.unreadable ?? []).some((id) => result.changes.some((c) => c.type === 'upsert' && c.event.providerEventId === id)));
    parts.push({ looked: masters.slice(before), kept: result.unreadable?.length ?? 0, link: JSON.parse(result.cursor!).deltaLink });
    cursor = result.cursor!;
    if (!result.hasMore) break;
    assert.match(result.warnings!.join('\n'), /more than the 3 looked up in a read/);
  }
  const old = JSON.parse(CURSOR).deltaLink;
  assert.deepEqual(parts, [
    { looked: ['S0', 'S1', 'S2'], kept: 10, link: old },
    { looked: ['S3', 'S4', 'S5'], kept: 10, link: old },
    { looked: ['S6', 'S7'], kept: 12, link: `${BASE}/me/calendars/c/calendarView/delta?$deltatoken=new` },
  ], 'the first parts keep the old delta link; the last moves on, the series done before kept as stored');
  assert.deepEqual(new Map([...stored].sort()), new Map(occurrences.map((o) => [o.id, `Series ${o.seriesMasterId.slice(1)}`] as const).sort()));
  assert.equal(JSON.parse(cursor).mastersRead, undefined, 'a round read to its end keeps nothing of its parts');
});

test('Graph: a series done by an earlier part that the round lists otherwise now (an occurrence moved) is looked up again; a new round read in parts starts a new round next time, its parts but the last no full sync, each complete in the series it completed', async () => {
  const { provider, masters, occurrences } = manySeries(4, { masterLookups: 2 });
  const first = await provider.fetchChanges('c', null, CONTEXT);
  // Not the window whole (what later parts bring is not in it), but in a new round each series
  // is listed whole: those this part completed are complete, their stored instances it lacks gone.
  assert.deepEqual([first.isFullSync, first.hasMore, JSON.parse(first.cursor!).deltaLink], [false, true, null]);
  assert.deepEqual([...first.completeSeries!].sort(), ['S0', 'S1']);
  assert.deepEqual([...first.unreadable!].sort(), ['S2-0', 'S2-7', 'S3-0', 'S3-7'], 'kept: neither changed nor gone');
  // The same mastersRead against a round where S0's second occurrence moved: S0 is looked up again, S1 not.
  const moved = occurrences.map((o) => (o.id === 'S0-7' ? { ...o, start: time(START + 8 * DAY), end: time(START + 8 * DAY + 3_600_000) } : o));
  const again = manySeries(4, { masterLookups: 2, answer: (path) => (path === '/me/calendars/c/calendarView/delta' ? { status: 200, headers: {}, body: JSON.stringify(round(moved)) } : null) });
  const second = await again.provider.fetchChanges('c', first.cursor, CONTEXT);
  assert.deepEqual(again.masters, ['S0', 'S2']);
  assert.deepEqual([...second.unreadable!].sort(), ['S1-0', 'S1-7', 'S3-0', 'S3-7']);
  assert.deepEqual([second.isFullSync, [...second.completeSeries!].sort()], [false, ['S0', 'S2']]);
  assert.deepEqual(masters, ['S0', 'S1']);
  // The round's last part is the window whole.
  const third = await again.provider.fetchChanges('c', second.cursor, CONTEXT);
  assert.deepEqual([third.isFullSync, third.hasMore, again.masters], [true, undefined, ['S0', 'S2', 'S3']], 'S1, done by the first part and listed the same, not looked up again');
});

test('Graph: a part of a delta round (not a new one) names no series it completed from a looked-up master complete: the round need not list such a series whole', async () => {
  const { provider } = manySeries(4, { masterLookups: 2 });
  const first = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.deepEqual([first.isFullSync, first.hasMore, first.completeSeries], [false, true, []]);
});

test('Graph: a 429 on a master lookup ends the part with what the lookups beside it found: none starts after it, the next part waits for its Retry-After and looks up only the rest', async () => {
  let limited = true;
  const { provider, masters } = manySeries(12, {
    delayMs: 2,
    answer: (path) => (limited && path === '/me/calendars/c/events/S1' ? { status: 429, headers: { 'retry-after': '17' }, body: JSON.stringify({ error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' } }) } : null),
  });
  const first = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.deepEqual([first.hasMore, first.continueAfterMs], [true, 17_000]);
  const found = masters.filter((id) => id !== 'S1');
  assert.ok(['S0', 'S2'].every((id) => found.includes(id)), `asked beside S1: ${masters.join(' ')}`);
  assert.ok(masters.length <= 4, `stopped once limited: ${masters.join(' ')}`);
  const completed = first.changes.flatMap((c) => (c.type === 'upsert' ? [c.event.providerSeriesId] : []));
  assert.deepEqual([...new Set(completed)].sort(), [...found].sort(), 'what was found is written');
  assert.ok(first.unreadable!.includes('S1-0') && first.unreadable!.includes('S11-7'));
  assert.match(first.warnings!.join('\n'), /rate_limited/);
  limited = false;
  const before = masters.length;
  const second = await provider.fetchChanges('c', first.cursor, CONTEXT);
  assert.equal(second.hasMore, undefined);
  assert.deepEqual(masters.slice(before).sort(), Array.from({ length: 12 }, (_, s) => `S${s}`).filter((id) => !found.includes(id)).sort(), 'the series found before are not looked up again');
});

test('Graph: a 429 on a master lookup when nothing is left for a next part (a window read whole from calendarView) fails the read with its Retry-After', async () => {
  const { occurrences } = manySeries(3);
  const view = { value: occurrences.map((o) => ({ ...o, subject: `Own ${o.seriesMasterId}` })) };
  const { provider } = manySeries(3, {
    answer: (path) => (path === '/me/calendars/c/calendarView' ? { status: 200, headers: {}, body: JSON.stringify(view) }
      : path === '/me/calendars/c/events/S1' ? { status: 429, headers: { 'retry-after': '17' }, body: JSON.stringify({ error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' } }) } : null),
  });
  const looped = JSON.stringify({ deltaLink: null, fromMs: NOW - DAY, toMs: NOW + 30 * DAY, deltaLoopedAtMs: NOW - 60_000 });
  const failure = await provider.fetchChanges('c', looped, CONTEXT).then(() => null, (error: unknown) => error);
  assert.ok(failure instanceof CalendarProviderError && failure.failure.kind === 'rate_limited' && failure.failure.retryAfterMs === 17_000, String(failure));
});

test('Graph: series whose masters the round names @removed, or whose master lookups answer 404, are done once looked up: a round read in parts ends', async () => {
  const { occurrences } = manySeries(4);
  // Graph names a master removed when its series changed outside the window (learn.microsoft.com/graph/api/event-delta, "Response"); its GET still answers.
  const named = [{ id: 'S0', '@removed': { reason: 'deleted' } }, { id: 'S1', '@removed': { reason: 'deleted' } }];
  // Fifty events named only @removed first spend the read's settling lookups (MAX_SETTLING_LOOKUPS):
  // the masters named @removed are then left to the master lookups, not settled first.
  const spent = Array.from({ length: 50 }, (_, i) => ({ id: `X${i}`, '@removed': { reason: 'deleted' } }));
  const notFound = { status: 404, headers: {}, body: JSON.stringify({ error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } }) };
  for (const [name, before, isGone] of [['settled', [], false], ['settling spent', spent, false], ['settled, 404', [], true], ['settling spent, 404', spent, true]] as const) {
    const listed = [...before, ...occurrences, ...named];
    const { provider, masters } = manySeries(4, {
      masterLookups: 2,
      answer: (path) => (path === '/me/calendars/c/calendarView/delta' ? { status: 200, headers: {}, body: JSON.stringify(round(listed)) } : isGone && /events\/S[01]$/.test(path) ? notFound : null),
    });
    let cursor = CURSOR;
    const stored = new Set<string>();
    const removed = new Set<string>();
    let reads = 0;
    for (; reads < 6; reads++) {
      const result = await provider.fetchChanges('c', cursor, CONTEXT);
      for (const change of result.changes) (change.type === 'upsert' ? stored : removed).add(change.type === 'upsert' ? change.event.providerEventId : change.providerEventId);
      cursor = result.cursor!;
      if (!result.hasMore) break;
    }
    assert.ok(reads < 6, `${name}: still read in parts after 6 reads; masters looked up: ${masters.filter((m) => !m.startsWith('X')).join(' ')}`);
    const s01 = occurrences.filter((o) => /^S[01]-/.test(o.id)).map((o) => o.id);
    assert.deepEqual([...stored].sort(), occurrences.map((o) => o.id).filter((id) => !isGone || !s01.includes(id)).sort(), name);
    if (isGone) assert.ok(s01.every((id) => removed.has(id)), `${name}: ${[...removed].join(' ')}`);
  }
});

test('Graph: a master named @removed is looked up once in a read, its answer completing its series\' occurrences', async () => {
  const { occurrences } = manySeries(3);
  const listed = [...occurrences, { id: 'S2', '@removed': { reason: 'deleted' } }];
  const { provider, masters } = manySeries(3, { masterLookups: 2, answer: (path) => (path === '/me/calendars/c/calendarView/delta' ? { status: 200, headers: {}, body: JSON.stringify(round(listed)) } : null) });
  const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.deepEqual([...masters].sort(), ['S0', 'S1', 'S2']);
  assert.equal(result.hasMore, undefined);
  assert.deepEqual(result.changes.flatMap((c) => (c.type === 'upsert' && c.event.providerSeriesId === 'S2' ? [c.event.title] : [])), ['Series 2', 'Series 2']);
});

test('Graph: a series left to the round\'s next part is not complete in this one, even with its master named @removed: its stored instances stay', async () => {
  const { occurrences } = manySeries(3);
  // Fifty events named only @removed first spend the read's settling lookups (MAX_SETTLING_LOOKUPS),
  // so S2's master, named @removed after them, is not settled but left to the master lookups.
  const gone = Array.from({ length: 50 }, (_, i) => ({ id: `X${i}`, '@removed': { reason: 'deleted' } }));
  const listed = [...gone, ...occurrences, { id: 'S2', '@removed': { reason: 'deleted' } }];
  const { provider, masters } = manySeries(3, { masterLookups: 2, answer: (path) => (path === '/me/calendars/c/calendarView/delta' ? { status: 200, headers: {}, body: JSON.stringify(round(listed)) } : null) });
  const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.equal(result.hasMore, true);
  assert.deepEqual(masters.filter((m) => !m.startsWith('X')), ['S0', 'S1']);
  assert.deepEqual([...result.unreadable!].sort(), ['S2-0', 'S2-7']);
  assert.ok(!(result.completeSeries ?? []).includes('S2'), JSON.stringify(result.completeSeries));
});

test('Graph: a window read whole from calendarView (entries with every property) is not read in parts: the series past the lookups are stored as listed, their rule left as stored', async () => {
  const { occurrences } = manySeries(3);
  // calendarView lists occurrences with every property (learn.microsoft.com/graph/api/calendar-list-calendarview).
  const view = { value: occurrences.map((o) => ({ ...o, subject: `Own ${o.seriesMasterId}` })) };
  const { provider, masters } = manySeries(3, { masterLookups: 2, answer: (path) => (path === '/me/calendars/c/calendarView' ? { status: 200, headers: {}, body: JSON.stringify(view) } : null) });
  // A round that looped lately: the window is read whole from calendarView.
  const looped = JSON.stringify({ deltaLink: null, fromMs: NOW - DAY, toMs: NOW + 30 * DAY, deltaLoopedAtMs: NOW - 60_000 });
  const result = await provider.fetchChanges('c', looped, CONTEXT);
  assert.deepEqual(masters, ['S0', 'S1']);
  assert.deepEqual([result.hasMore, result.unreadable, result.isFullSync], [undefined, undefined, true]);
  assert.deepEqual(result.changes.map((c) => (c.type === 'upsert' ? [c.event.providerEventId, c.event.title, c.event.seriesRule === undefined] : c)).sort(),
    [['S0-0', 'Own S0', false], ['S0-7', 'Own S0', false], ['S1-0', 'Own S1', false], ['S1-7', 'Own S1', false], ['S2-0', 'Own S2', true], ['S2-7', 'Own S2', true]]);
  assert.match(result.warnings!.join('\n'), /those of 1 series stored as listed/);
});

/**
 * A Graph answering by path from `routes` (404 ErrorItemNotFound for any other), each request
 * after `delayMs` (or the path's own delay), counting the requests in flight at once; `answer`
 * overrides a path's answer.
 */
function countingGraph(routes: Record<string, unknown>, options: { delayMs: number; delays?: Record<string, number>; answer?: (path: string) => HttpResponse | null; renew?: () => Promise<string> }) {
  const paths: string[] = [];
  let inFlight = 0;
  const seen = { most: 0 };
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    const path = new URL(request.url).pathname.slice('/v1.0'.length);
    paths.push(path);
    inFlight += 1;
    seen.most = Math.max(seen.most, inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, options.delays?.[path] ?? options.delayMs));
      const odd = options.answer?.(path);
      if (odd) return odd;
      if (!(path in routes)) return { status: 404, headers: {}, body: JSON.stringify({ error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } }) };
      return { status: 200, headers: {}, body: JSON.stringify(routes[path]) };
    } finally {
      inFlight -= 1;
    }
  };
  const provider = new MicrosoftCalendarProvider({ baseUrl: BASE, tokens: { get: async () => 't', renew: options.renew ?? (async () => 't') }, send, timeoutMs: 1000, now: () => NOW });
  return { provider, paths, seen };
}

const graphFailure = (status: number, code: string, retryAfterSeconds?: number): HttpResponse => ({ status, headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }, body: JSON.stringify({ error: { code, message: code } }) });

/** A round naming R0..R{count-1} only @removed; those in `still` Graph still has (answered as events), the others 404 (gone). */
function removedRound(count: number, still: (i: number) => boolean) {
  const routes: Record<string, unknown> = { '/me/calendars/c/calendarView/delta': round(Array.from({ length: count }, (_, i) => ({ id: `R${i}`, '@removed': { reason: 'deleted' } }))) };
  for (let i = 0; i < count; i++) if (still(i)) routes[`/me/calendars/c/events/R${i}`] = event(`R${i}`, { start: time(START + i * 60_000), end: time(START + i * 60_000 + 3_600_000) });
  return routes;
}

test('Graph: the events a round names only @removed are looked up three at a time, never more; the changes come in the round\'s order, as one by one', async () => {
  const { provider, paths, seen } = countingGraph(removedRound(30, (i) => i % 3 === 0), { delayMs: 3 });
  const result = await provider.fetchChanges('c', CURSOR, CONTEXT);
  assert.equal(seen.most, 3);
  assert.equal(paths.filter((p) => p.startsWith('/me/calendars/c/events/')).length, 30, 'each once');
  assert.deepEqual(summary(result), Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `R${i}:Meeting R${i}` : `-R${i}`)));
});

test('Graph: the occurrences of a master still not found are looked up three at a time, never more, within the read\'s budget, their answers in the round\'s order', async () => {
  const occurrences = Array.from({ length: 12 }, (_, i) => ({ id: `O${i}`, type: 'occurrence', seriesMasterId: 'M', start: time(START + i * DAY), end: time(START + i * DAY + 3_600_000) }));
  const routes: Record<string, unknown> = { '/me/calendars/c/calendarView/delta': round(occurrences) };
  // O5 is gone (404, and calendarView over its times, answered empty, agrees); the rest are found.
  for (const o of occurrences) if (o.id !== 'O5') routes[`/me/calendars/c/events/${o.id}`] = { ...o, subject: 'Weekly' };
  routes['/me/calendars/c/calendarView'] = { value: [] };
  const { provider, seen } = countingGraph(routes, { delayMs: 3 });
  const result = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, missedBefore: ['M'] });
  assert.equal(seen.most, 3);
  assert.deepEqual(summary(result), occurrences.map((o) => (o.id === 'O5' ? '-O5' : `${o.id}:Weekly`)));
  assert.deepEqual(result.missedAgain, ['M']);
});

test('Graph: a 503 amid a batch of settling lookups starts no further one and fails the read as one by one: transient before a 429 of a later lookup, a 429 before a 503 with its Retry-After, two 429s with the longer', async () => {
  // R0 answers 404 (gone, as the round names it); R1 fails first; R2, slower, fails too.
  const routes = removedRound(12, (i) => i !== 0);
  const failing = (extra: Record<string, HttpResponse>) => (path: string) => extra[path] ?? null;
  const delays = { '/me/calendars/c/events/R1': 2, '/me/calendars/c/events/R2': 8 };
  const both = countingGraph(routes, { delayMs: 2, delays, answer: failing({ '/me/calendars/c/events/R1': graphFailure(503, 'serviceNotAvailable'), '/me/calendars/c/events/R2': graphFailure(429, 'ApplicationThrottled', 17) }) });
  const down = await both.provider.fetchChanges('c', CURSOR, CONTEXT).then(() => null, (error: unknown) => error);
  assert.ok(down instanceof CalendarProviderError && down.failure.kind === 'transient', `one by one, R2 was never asked: ${String(down)}`);
  const asked = both.paths.filter((p) => p.startsWith('/me/calendars/c/events/'));
  assert.ok(asked.length <= 4 && ['R0', 'R1', 'R2'].every((id) => asked.includes(`/me/calendars/c/events/${id}`)), `none starts after the 503: ${asked.join(' ')}`);
  // The other way round: the 429 first in the round's order fails the read, its Retry-After kept.
  const limitFirst = countingGraph(routes, { delayMs: 2, delays, answer: failing({ '/me/calendars/c/events/R1': graphFailure(429, 'ApplicationThrottled', 17), '/me/calendars/c/events/R2': graphFailure(503, 'serviceNotAvailable') }) });
  const limited = await limitFirst.provider.fetchChanges('c', CURSOR, CONTEXT).then(() => null, (error: unknown) => error);
  assert.ok(limited instanceof CalendarProviderError && limited.failure.kind === 'rate_limited' && limited.failure.retryAfterMs === 17_000, String(limited));
  // Alone, the 503 fails the read as transient, as the loop one by one did.
  const outage = countingGraph(routes, { delayMs: 2, answer: failing({ '/me/calendars/c/events/R4': graphFailure(503, 'serviceNotAvailable') }) });
  const transient = await outage.provider.fetchChanges('c', CURSOR, CONTEXT).then(() => null, (error: unknown) => error);
  assert.ok(transient instanceof CalendarProviderError && transient.failure.kind === 'transient', String(transient));
  // Two 429s in flight together: the longer Retry-After.
  const twice = countingGraph(routes, { delayMs: 2, answer: failing({ '/me/calendars/c/events/R1': graphFailure(429, 'ApplicationThrottled', 5), '/me/calendars/c/events/R2': graphFailure(429, 'ApplicationThrottled', 30) }) });
  const longer = await twice.provider.fetchChanges('c', CURSOR, CONTEXT).then(() => null, (error: unknown) => error);
  assert.ok(longer instanceof CalendarProviderError && longer.failure.kind === 'rate_limited' && longer.failure.retryAfterMs === 30_000, String(longer));
  // Without failures the same round settles R0 as gone and the rest as Graph has them.
  const fine = countingGraph(routes, { delayMs: 2 });
  assert.deepEqual(summary(await fine.provider.fetchChanges('c', CURSOR, CONTEXT)), Array.from({ length: 12 }, (_, i) => (i === 0 ? '-R0' : `R${i}:Meeting R${i}`)));
});

test('Graph: after a 429 on a look before the join, the lookups in flight send no further request (the calendarView check after a 404, the master of an instance answered bare)', async () => {
  // B0: a slow 404, after which calendarView over its times would be read; B2: a slow instance
  // answered bare, whose master would be read; B1 answers 429 while both are in flight.
  const meetings = ['B0', 'B1', 'B2', 'B3'].map((id) => ({ providerEventId: id, startMs: START, endMs: START + 3_600_000, seriesId: null }));
  const routes: Record<string, unknown> = {
    '/me/calendars/c/calendarView/delta': round([]), '/me/calendars/c/calendarView': { value: [] },
    '/me/calendars/c/events/B2': { id: 'B2', type: 'occurrence', seriesMasterId: 'M', start: time(START + 60_000), end: time(START + 3_660_000) },
    '/me/calendars/c/events/M': event('M', { type: 'seriesMaster' }),
  };
  const { provider, paths } = countingGraph(routes, {
    delayMs: 20, delays: { '/me/calendars/c/events/B1': 2 },
    answer: (path) => (path === '/me/calendars/c/events/B1' ? graphFailure(429, 'ApplicationThrottled', 60) : null),
  });
  const error = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, confirm: meetings }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof CalendarProviderError && error.failure.kind === 'rate_limited' && error.failure.retryAfterMs === 60_000, String(error));
  assert.deepEqual(paths, ['/me/calendars/c/calendarView/delta', '/me/calendars/c/events/B0', '/me/calendars/c/events/B1', '/me/calendars/c/events/B2'], 'no calendarView for B0, no master for B2, B3 never asked');
});

test('Graph: after a 429 on a look before the join, a lookup whose GET is in flight has that request ended at once (its signal aborted), not waited for; the read fails with the 429', async () => {
  // B0, first in the meetings' order: a GET Graph is slow to answer; B1 answers 429 meanwhile.
  const SLOW_MS = 4000;
  const meetings = ['B0', 'B1'].map((id) => ({ providerEventId: id, startMs: START, endMs: START + 3_600_000, seriesId: null }));
  const signals = new Map<string, AbortSignal | undefined>();
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    const path = new URL(request.url).pathname.slice('/v1.0'.length);
    if (path === '/me/calendars/c/calendarView/delta') return { status: 200, headers: {}, body: JSON.stringify(round([])) };
    signals.set(path, request.signal);
    if (path === '/me/calendars/c/events/B1') {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return graphFailure(429, 'ApplicationThrottled', 60);
    }
    // As the outbound client: the answer after SLOW_MS, or a transient failure once the signal is aborted.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ status: 200, headers: {}, body: JSON.stringify(event('B0')) }), SLOW_MS);
      request.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new CalendarProviderError({ kind: 'transient', message: 'the request was ended before its answer by its caller' }));
      }, { once: true });
    });
  };
  const provider = new MicrosoftCalendarProvider({ baseUrl: BASE, tokens: { get: async () => 't', renew: async () => 't' }, send, timeoutMs: 10_000, now: () => NOW });
  const started = performance.now();
  const error = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, confirm: meetings }).then(() => null, (e: unknown) => e);
  const tookMs = performance.now() - started;
  assert.ok(error instanceof CalendarProviderError && error.failure.kind === 'rate_limited' && error.failure.retryAfterMs === 60_000, `the 429, not B0's being ended: ${String(error)}`);
  assert.equal(signals.get('/me/calendars/c/events/B0')?.aborted, true, 'B0\'s request saw its signal aborted');
  assert.ok(tookMs < SLOW_MS / 2, `the read failed in ${Math.round(tookMs)} ms, well before B0's answer (${SLOW_MS} ms)`);
});

test('Graph: a series\' list of instances read for a lookup whose group is stopped (inLookupGroup) asks for no further page', async () => {
  const query = `startDateTime=${encodeURIComponent(new Date(NOW).toISOString())}`;
  const page2 = `${BASE}/me/calendars/c/events/S/instances?${query}&$skiptoken=2`;
  const instance = (i: number) => ({ ...event(`S-${i}`, { type: 'occurrence', seriesMasterId: 'S', start: time(START + i * DAY), end: time(START + i * DAY + 3_600_000) }) });
  const routes = { '/me/calendars/c/events/S/instances': { value: [instance(0)], '@odata.nextLink': page2 } };
  // The group is stopped while the first page is in flight (as by a 429 on another lookup).
  const group = new AbortController();
  const { provider, paths } = countingGraph(routes, { delayMs: 5, answer: () => { group.abort(); return null; } });
  const error = await inLookupGroup(group.signal, () => provider.fetchSeriesInstances('c', 'S', { fromMs: NOW, toMs: NOW + 30 * DAY })).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof LookupsStopped, String(error));
  assert.deepEqual(paths, ['/me/calendars/c/events/S/instances']);
  // Not stopped, the same list is read to its end (its second page the last).
  let pages = 0;
  const lastPage: HttpResponse = { status: 200, headers: {}, body: JSON.stringify({ value: [instance(1)] }) };
  const whole = countingGraph(routes, { delayMs: 1, answer: () => (++pages === 2 ? lastPage : null) });
  const instances = await whole.provider.fetchSeriesInstances('c', 'S', { fromMs: NOW, toMs: NOW + 30 * DAY });
  assert.deepEqual([whole.paths.length, instances?.changes.length], [2, 2]);
});

test('Graph: a token refused on one lookup amid a batch of looks before the join (its renewal refused too) leaves that meeting as it is, as one by one; the others are settled', async () => {
  const meetings = Array.from({ length: 6 }, (_, i) => ({ providerEventId: `B${i}`, startMs: START, endMs: START + 3_600_000, seriesId: null }));
  const routes: Record<string, unknown> = { '/me/calendars/c/calendarView/delta': round([]), '/me/calendars/c/calendarView': { value: [] } };
  for (const m of meetings) if (m.providerEventId !== 'B1') routes[`/me/calendars/c/events/${m.providerEventId}`] = event(m.providerEventId);
  delete routes['/me/calendars/c/events/B4'];
  const { provider, seen } = countingGraph(routes, {
    delayMs: 3,
    answer: (path) => (path === '/me/calendars/c/events/B2' ? graphFailure(401, 'InvalidAuthenticationToken') : null),
    renew: async () => { throw new CalendarProviderError({ kind: 'auth_revoked', message: 'refresh token revoked' }); },
  });
  const result = await provider.fetchChanges('c', CURSOR, { ...CONTEXT, confirm: meetings });
  assert.equal(seen.most, 3);
  assert.deepEqual(summary(result), ['-B1', '-B4'], 'gone: 404 and not in calendarView');
  assert.deepEqual(result.goneOnLookup, ['B1', 'B4']);
  assert.deepEqual(result.confirmedPresent, ['B0', 'B3', 'B5'], 'B2, refused, left as it is');
});
