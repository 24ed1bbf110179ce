// lookUpEach, the lookups of one read three at a time: which failure ends the read when several
// lookups in flight fail together, and the stop that keeps a lookup in flight from sending its
// later requests once the group failed, and ends the request it has in flight. Pure: the lookups
// are functions, no HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalendarProviderError, inLookupGroup, lookUpEach, LookupsStopped, sendForLookup, throwIfLookupsStopped } from './calendar-provider.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const limit = (seconds: number) => new CalendarProviderError({ kind: 'rate_limited', retryAfterMs: seconds * 1000, message: 'Graph: HTTP 429' }, { isRefusal: true });
const outage = () => new CalendarProviderError({ kind: 'transient', message: 'Graph: HTTP 503' });
const refusal = () => new CalendarProviderError({ kind: 'permanent', message: 'Graph: HTTP 403 ErrorAccessDenied' }, { isRefusal: true });
const failureOf = (items: number[], work: (i: number) => Promise<unknown>) => lookUpEach(items, work).then(() => null, (error: unknown) => error);

test('lookUpEach: an error that is not a provider failure (a bug, a failed write of a rotated token) is thrown, before any provider failure, even a 429 of another item', async () => {
  const bug = new Error('database is locked (writing the rotated refresh token)');
  assert.equal(await failureOf([0, 1], async (i) => {
    if (i === 0) { await tick(1); throw bug; }
    await tick(5);
    throw limit(5);
  }), bug);
  // Behind an earlier item's 429 in the items' order too: it is not lost.
  assert.equal(await failureOf([0, 1], async (i) => {
    if (i === 0) throw limit(5);
    await tick(5);
    throw bug;
  }), bug);
});

test('lookUpEach: the first failure in the items\' order ends the read, as one by one: a calendar\'s refusal or an outage is not replaced by a later item\'s 429, never asked one by one', async () => {
  const refused = await failureOf([0, 1], async (i) => {
    if (i === 0) throw refusal();
    await tick(5);
    throw limit(5);
  });
  assert.ok(refused instanceof CalendarProviderError && refused.failure.kind === 'permanent', String(refused));
  // The later item failing first in time changes nothing.
  const down = await failureOf([0, 1], async (i) => {
    if (i === 1) throw limit(5);
    await tick(5);
    throw outage();
  });
  assert.ok(down instanceof CalendarProviderError && down.failure.kind === 'transient', String(down));
});

test('lookUpEach: a 429 first in the items\' order waits the longest Retry-After of the group\'s 429s; a later outage is not the read\'s', async () => {
  const longer = await failureOf([0, 1, 2], async (i) => {
    await tick(i === 0 ? 5 : 1);
    if (i === 0) throw limit(5);
    if (i === 1) throw outage();
    throw limit(30);
  });
  assert.ok(longer instanceof CalendarProviderError && longer.failure.kind === 'rate_limited' && longer.failure.retryAfterMs === 30_000 && longer.isRefusal, String(longer));
  const own = await failureOf([0, 1], async (i) => {
    await tick(i === 0 ? 5 : 1);
    throw limit(i === 0 ? 60 : 30);
  });
  assert.ok(own instanceof CalendarProviderError && own.failure.kind === 'rate_limited' && own.failure.retryAfterMs === 60_000, String(own));
});

test('lookUpEach: once an item failed, a lookup in flight sends no further request (throwIfLookupsStopped), and its being stopped is not the read\'s failure', async () => {
  const sent: string[] = [];
  const request = async (what: string, ms: number) => {
    throwIfLookupsStopped();
    sent.push(what);
    await tick(ms);
  };
  const error = await failureOf([0, 1, 2, 3], async (i) => {
    // Item 0: a slow first request, then a second one (as calendarView after a 404).
    if (i === 0) { await request('0a', 20); await request('0b', 1); return; }
    await request(`${i}`, 2);
    if (i === 1) throw limit(60);
  });
  assert.ok(error instanceof CalendarProviderError && error.failure.kind === 'rate_limited' && error.failure.retryAfterMs === 60_000, String(error));
  assert.deepEqual(sent, ['0a', '1', '2'], 'item 0 sends nothing after the 429, item 3 never starts');
  // Outside a group, nothing is stopped.
  throwIfLookupsStopped();
});

test('inLookupGroup: a lookup whose group is aborted sends no further request, and throws LookupsStopped, a transient failure', async () => {
  const group = new AbortController();
  const sent: string[] = [];
  const lookup = inLookupGroup(group.signal, async () => {
    for (const page of ['p1', 'p2']) {
      throwIfLookupsStopped();
      sent.push(page);
      await tick(5);
    }
  });
  group.abort();
  const error = await lookup.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof LookupsStopped && error.failure.kind === 'transient', String(error));
  assert.deepEqual(sent, ['p1']);
});

/** A request answered after `ms`, or failing as the outbound client does (transient, "aborted") once `signal` is aborted. */
function slowRequest(ms: number, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('answer'), ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new CalendarProviderError({ kind: 'transient', message: 'the request was ended before its answer by its caller' }));
    }, { once: true });
  });
}

test('lookUpEach: a request in flight when another item is answered 429 is ended at once, not waited for; being ended is not its failure, even first in the items\' order', async () => {
  const SLOW_MS = 4000;
  const seen: { signal: AbortSignal | undefined }[] = [];
  const started = performance.now();
  const error = await failureOf([0, 1], async (i) => {
    if (i === 1) { await tick(5); throw limit(30); }
    // Item 0, first in the items' order: a request slow to be answered.
    return sendForLookup((signal) => {
      seen.push({ signal });
      return slowRequest(SLOW_MS, signal);
    });
  });
  const tookMs = performance.now() - started;
  assert.ok(error instanceof CalendarProviderError && error.failure.kind === 'rate_limited' && error.failure.retryAfterMs === 30_000, `the 429 is the read's failure, not the ended request's: ${String(error)}`);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.signal?.aborted, true, 'the slow request saw its signal aborted');
  assert.ok(tookMs < SLOW_MS / 2, `the group ended in ${Math.round(tookMs)} ms, well before the slow answer (${SLOW_MS} ms)`);
});

test('sendForLookup: a request answered before its group stops keeps its answer; one sent after the stop is never sent; outside a group, a request has no stop signal and its failure is its own', async () => {
  const group = new AbortController();
  const answered = await inLookupGroup(group.signal, () => sendForLookup((signal) => slowRequest(1, signal)));
  assert.equal(answered, 'answer');
  group.abort();
  let sent = 0;
  const after = await inLookupGroup(group.signal, () => sendForLookup(async () => { sent++; return 'answer'; })).then(() => null, (e: unknown) => e);
  assert.ok(after instanceof LookupsStopped, String(after));
  assert.equal(sent, 0);
  // Outside a group.
  assert.equal(await sendForLookup(async (signal) => String(signal)), 'undefined');
  const own = await sendForLookup(async () => { throw outage(); }).then(() => null, (e: unknown) => e);
  assert.ok(own instanceof CalendarProviderError && !(own instanceof LookupsStopped) && own.failure.message === 'Graph: HTTP 503', String(own));
});

test('lookUpEach nested in an item of another: a 429 of the outer group is the read\'s failure; the inner group stopped by it is not the outer item\'s failure, even first in the items\' order', async () => {
  const seen: { signal: AbortSignal | undefined }[] = [];
  const error = await failureOf([0, 1], async (i) => {
    if (i === 1) { await tick(5); throw limit(30); }
    // Item 0: a group of its own, whose request is slow to be answered.
    return lookUpEach(['a'], () => sendForLookup((signal) => {
      seen.push({ signal });
      return slowRequest(2000, signal);
    }));
  });
  assert.ok(error instanceof CalendarProviderError && error.failure.kind === 'rate_limited' && error.failure.retryAfterMs === 30_000, `the outer 429, not the inner group's being stopped: ${String(error)}`);
  assert.equal(seen[0]?.signal?.aborted, true, 'the inner request was ended by the outer stop');
});
