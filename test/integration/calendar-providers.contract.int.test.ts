// The CalendarProvider contract, one suite run against every adapter (ICS, Google, Microsoft),
// each talking HTTP to its local fake. What every provider must do:
// - declare its capabilities truthfully (push is an object exactly when the capability says so);
// - describe the account, with at least the primary calendar synced;
// - answer a first fetch with the whole state and a cursor, and later fetches with what changed;
// - start over by itself (isFullSync) when the provider drops its cursor;
// - end every failure in the closed set: auth_revoked, rate_limited{retryAfterMs}, transient...
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/lib/clock.ts';
import { OutboundGuard } from '../../src/adapters/outbound-guard.ts';
import { OutboundHttp } from '../../src/adapters/outbound-http.ts';
import { CalendarProviderError, PushNotSupported, type CalendarProvider, type FetchResult, type ProviderEvent } from '../../src/adapters/calendars/calendar-provider.ts';
import { createProviderFactory } from '../../src/adapters/calendars/provider-factory.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { FakeGoogleCalendar, type Deliver } from '../support/fake-google.ts';
import { FakeMicrosoftGraph } from '../support/fake-microsoft.ts';
import { providerFailureOf } from '../support/provider-failures.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

interface ContractDriver {
  provider: CalendarProvider;
  calendarId: string;
  createEvent(title: string, startMs: number, endMs: number): string;
  moveEvent(id: string, startMs: number, endMs: number): void;
  deleteEvent(id: string): void;
  createWeeklySeries(title: string, startMs: number, endMs: number, count: number): string;
  /** Makes the provider forget the cursor it handed out; null when the provider has none to forget. */
  expireCursor: (() => void) | null;
  revoke(): void;
  failNextWith(status: number, retryAfterSeconds?: number): void;
  /**
   * Makes the provider refuse push channels on the calendar for good (Google's generated
   * calendars); null for a provider without such a refusal, or without push.
   */
  refusePush: (() => void) | null;
}

interface Contract {
  name: string;
  start(clock: ManualClock): Promise<{ newDriver(): Promise<ContractDriver>; stop(): Promise<void> }>;
}

/** Answers Graph's handshake and swallows Google's notifications: the contract is the adapter's side. */
const echoDeliver: Deliver = async (url) => ({ status: 200, body: new URL(url).searchParams.get('validationToken') ?? '', headers: { 'content-type': 'text/plain' } });

// The fakes listen on 127.0.0.1, so the feed host is allowed past the outbound guard.
const http = new OutboundHttp({ guard: new OutboundGuard(['127.0.0.1']) });
after(() => http.close());

function factory(clock: ManualClock, urls: Partial<Parameters<typeof createProviderFactory>[0]>) {
  return createProviderFactory({
    googleOAuthTokenUrl: 'http://127.0.0.1:9/token', googleCalendarApiUrl: 'http://127.0.0.1:9', microsoftLoginUrl: 'http://127.0.0.1:9', microsoftGraphUrl: 'http://127.0.0.1:9',
    timeoutMs: 5000, now: () => clock.now(), http, ...urls,
  });
}

const noHooks = { onRefreshTokenRotated: async () => {} };

const CONTRACTS: Contract[] = [
  {
    name: 'ics',
    async start(clock) {
      const server = new FakeIcsServer();
      await server.start();
      const make = factory(clock, {});
      return {
        async newDriver() {
          const url = server.createFeed();
          return {
            provider: make({ kind: 'ics', url }, noHooks),
            calendarId: '',
            createEvent(title, startMs, endMs) {
              const uid = `${randomUUID()}@contract`;
              server.edit(url, (events) => events.push({ uid, summary: title, startMs, endMs, location: 'https://zoom.us/j/123456789' }));
              return uid;
            },
            moveEvent(uid, startMs, endMs) {
              server.edit(url, (events) => Object.assign(events.find((e) => e.uid === uid)!, { startMs, endMs }));
            },
            deleteEvent(uid) {
              server.edit(url, (events) => events.splice(events.findIndex((e) => e.uid === uid), 1));
            },
            createWeeklySeries(title, startMs, endMs, count) {
              const uid = `${randomUUID()}@contract`;
              server.edit(url, (events) => events.push({ uid, summary: title, startMs, endMs, timeZone: 'Europe/Berlin', rrule: `FREQ=WEEKLY;COUNT=${count}` }));
              return uid;
            },
            expireCursor: null,
            revoke: () => server.revoke(url),
            failNextWith: (status, retryAfterSeconds) => server.failNext.push({ status, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) }),
            refusePush: null,
          };
        },
        stop: () => server.stop(),
      };
    },
  },
  {
    name: 'google',
    async start(clock) {
      const fake = new FakeGoogleCalendar({ now: () => clock.now(), deliver: echoDeliver });
      const base = await fake.start();
      const make = factory(clock, { googleOAuthTokenUrl: `${base}/token`, googleCalendarApiUrl: `${base}/calendar/v3` });
      return {
        async newDriver() {
          const account = fake.createAccount();
          const cal = account.email;
          const iso = (ms: number) => new Date(ms).toISOString();
          return {
            provider: make({ kind: 'google', clientId: account.clientId, clientSecret: account.clientSecret, refreshToken: account.refreshToken }, noHooks),
            calendarId: cal,
            createEvent: (title, startMs, endMs) => fake.insertEvent(cal, cal, { summary: title, start: { dateTime: iso(startMs) }, end: { dateTime: iso(endMs) }, hangoutLink: 'https://meet.google.com/abc-defg-hij' }),
            moveEvent: (id, startMs, endMs) => fake.patchEvent(cal, cal, id, { start: { dateTime: iso(startMs) }, end: { dateTime: iso(endMs) } }),
            deleteEvent: (id) => fake.deleteEvent(cal, cal, id),
            createWeeklySeries: (title, startMs, endMs, count) => fake.insertEvent(cal, cal, { summary: title, start: { dateTime: iso(startMs), timeZone: 'Europe/Berlin' }, end: { dateTime: iso(endMs), timeZone: 'Europe/Berlin' }, recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${count}`] }),
            expireCursor: () => fake.expireSyncTokens(),
            revoke: () => fake.revoke(cal),
            failNextWith: (status, retryAfterSeconds) => fake.failNext.push({ status, reason: status === 429 ? 'rateLimitExceeded' : 'backendError', ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) }),
            refusePush: () => fake.failingWatches.set(cal, 400),
          };
        },
        stop: () => fake.stop(),
      };
    },
  },
  {
    name: 'microsoft',
    async start(clock) {
      const fake = new FakeMicrosoftGraph({ now: () => clock.now(), deliver: echoDeliver });
      const base = await fake.start();
      const make = factory(clock, { microsoftLoginUrl: `${base}/common`, microsoftGraphUrl: `${base}/v1.0` });
      return {
        async newDriver() {
          const account = fake.createAccount();
          const provider = make({ kind: 'microsoft', clientId: account.clientId, clientSecret: account.clientSecret, refreshToken: account.refreshToken }, noHooks);
          const calendarId = (await provider.describeAccount()).calendars.find((c) => c.isPrimary)!.id;
          return {
            provider,
            calendarId,
            createEvent: (title, startMs, endMs) => fake.createEvent(account.email, { subject: title, startMs, endMs, joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0' }),
            moveEvent: (id, startMs, endMs) => fake.updateEvent(account.email, id, { startMs, endMs }),
            deleteEvent: (id) => fake.deleteEvent(account.email, id),
            createWeeklySeries: (title, startMs, endMs, count) => fake.createEvent(account.email, { subject: title, startMs, endMs, weeklyCount: count, timeZone: 'Europe/Berlin' }),
            expireCursor: () => fake.expireDeltaTokens(),
            revoke: () => fake.revoke(account.email),
            failNextWith: (status, retryAfterSeconds) => fake.failNext.push({ status, code: status === 429 ? 'TooManyRequests' : 'serviceNotAvailable', ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) }),
            // Graph's answer to a subscription on a calendar of another mailbox (403 ExtensionError, Reason: Forbidden).
            refusePush: () => fake.refuseSubscriptions(account.email, calendarId),
          };
        },
        stop: () => fake.stop(),
      };
    },
  },
];

function upserts(result: FetchResult): ProviderEvent[] {
  return result.changes.flatMap((c) => (c.type === 'upsert' ? [c.event] : []));
}

for (const contract of CONTRACTS) {
  describe(`CalendarProvider contract: ${contract.name}`, () => {
    const clock = new ManualClock(Date.parse('2026-11-20T09:00:00Z'));
    let env: Awaited<ReturnType<Contract['start']>>;
    before(async () => {
      env = await contract.start(clock);
    });
    after(async () => env.stop());
    const context = () => ({ nowMs: clock.now(), horizonMs: 60 * DAY });

    test('capabilities are declared and match what the adapter offers', async () => {
      const { provider } = await env.newDriver();
      assert.equal(provider.push === null, provider.capabilities.push === null);
      assert.ok(['sync_token', 'delta_link', 'conditional_get'].includes(provider.capabilities.incrementalSync));
      assert.ok(['series_with_exceptions', 'expanded_instances'].includes(provider.capabilities.recurrence));
    });

    test('describes the account with its primary calendar synced', async () => {
      const { provider } = await env.newDriver();
      const account = await provider.describeAccount();
      assert.ok(account.accountId.length > 0);
      const primary = account.calendars.filter((c) => c.isPrimary);
      assert.equal(primary.length, 1);
      assert.equal(primary[0]!.isSynced, true);
    });

    test('a first fetch is the whole state; later fetches bring what changed', async () => {
      const d = await env.newDriver();
      const start = clock.now() + DAY;
      const id = d.createEvent('Contract', start, start + HOUR);
      const first = await d.provider.fetchChanges(d.calendarId, null, context());
      assert.equal(first.isFullSync, true);
      assert.ok(first.cursor);
      const created = upserts(first);
      assert.equal(created.length, 1);
      assert.equal(created[0]!.title, 'Contract');
      assert.equal(created[0]!.startMs, start);
      assert.equal(created[0]!.endMs, start + HOUR);
      assert.ok(created[0]!.conferenceUrl ?? created[0]!.location, 'the meeting link is carried');

      const quiet = await d.provider.fetchChanges(d.calendarId, first.cursor, context());
      assert.equal(quiet.isUnchanged || quiet.changes.length === 0 || quiet.isFullSync, true);

      d.moveEvent(id, start + 2 * HOUR, start + 3 * HOUR);
      const moved = await d.provider.fetchChanges(d.calendarId, quiet.cursor, context());
      const after = upserts(moved).find((e) => e.title === 'Contract')!;
      assert.equal(after.startMs, start + 2 * HOUR);
      assert.equal(after.providerEventId, created[0]!.providerEventId, 'the same provider identity');

      d.deleteEvent(id);
      const deleted = await d.provider.fetchChanges(d.calendarId, moved.cursor, context());
      const isGone = deleted.changes.some((c) => c.type === 'removed' && c.providerEventId === after.providerEventId)
        || (deleted.isFullSync && !upserts(deleted).some((e) => e.providerEventId === after.providerEventId && e.status !== 'cancelled'));
      assert.ok(isGone, 'a deleted event is reported removed or left out of a full state');
    });

    test('a weekly series arrives as the capability says: one series, or its instances', async () => {
      const d = await env.newDriver();
      const start = clock.now() + DAY;
      d.createWeeklySeries('Weekly', start, start + HOUR, 3);
      const result = await d.provider.fetchChanges(d.calendarId, null, context());
      const events = upserts(result);
      if (d.provider.capabilities.recurrence === 'series_with_exceptions') {
        assert.equal(events.length, 1);
        assert.match(events[0]!.recurrence!.join('\n'), /RRULE:FREQ=WEEKLY;COUNT=3/);
        assert.equal(events[0]!.timeZone, 'Europe/Berlin');
      } else {
        assert.deepEqual(events.map((e) => e.startMs).sort(), [0, 1, 2].map((i) => start + i * 7 * DAY));
        assert.ok(events.every((e) => e.recurrence === null));
      }
    });

    test('a provider of expanded instances lists one series\' instances in a window, over pages; a deleted series is null', async (t) => {
      const d = await env.newDriver();
      if (!d.provider.fetchSeriesInstances) return t.skip('series arrive whole from this provider');
      const start = clock.now() + DAY;
      const seriesId = d.createWeeklySeries('Listed', start, start + HOUR, 12);
      const window = { fromMs: clock.now(), toMs: start + 12 * 7 * DAY };
      const listed = await d.provider.fetchSeriesInstances(d.calendarId, seriesId, window);
      const events = (listed?.changes ?? []).flatMap((c) => (c.type === 'upsert' ? [c.event] : []));
      assert.deepEqual(listed?.unreadable, []);
      assert.deepEqual(events.map((e) => e.startMs), Array.from({ length: 12 }, (_, i) => start + i * 7 * DAY));
      assert.ok(events.every((e) => e.providerSeriesId === seriesId && e.title === 'Listed'), JSON.stringify(events[0]));
      const part = await d.provider.fetchSeriesInstances(d.calendarId, seriesId, { fromMs: start + 7 * DAY, toMs: start + 21 * DAY });
      assert.equal(part?.changes.length, 2);
      d.deleteEvent(seriesId);
      assert.equal(await d.provider.fetchSeriesInstances(d.calendarId, seriesId, window), null);
    });

    test('a cursor the provider dropped leads to a full sync, not an error', async (t) => {
      const d = await env.newDriver();
      if (!d.expireCursor) return t.skip('every fetch of this provider is a full state');
      const start = clock.now() + DAY;
      d.createEvent('Before', start, start + HOUR);
      const first = await d.provider.fetchChanges(d.calendarId, null, context());
      d.expireCursor();
      d.createEvent('After', start, start + HOUR);
      const again = await d.provider.fetchChanges(d.calendarId, first.cursor, context());
      assert.equal(again.isFullSync, true);
      assert.deepEqual(upserts(again).map((e) => e.title).sort(), ['After', 'Before']);
    });

    test('revoked access is auth_revoked', async () => {
      const d = await env.newDriver();
      await d.provider.fetchChanges(d.calendarId, null, context());
      d.revoke();
      clock.advance(2 * HOUR);
      const failure = await providerFailureOf(d.provider.fetchChanges(d.calendarId, null, context()));
      assert.equal(failure.kind, 'auth_revoked');
    });

    test('429 with Retry-After is rate_limited with that wait; 503 is transient', async () => {
      const d = await env.newDriver();
      await d.provider.fetchChanges(d.calendarId, null, context());
      d.failNextWith(429, 42);
      const limited = await providerFailureOf(d.provider.fetchChanges(d.calendarId, null, context()));
      assert.equal(limited.kind, 'rate_limited');
      assert.equal(limited.kind === 'rate_limited' && limited.retryAfterMs, 42_000);
      d.failNextWith(503);
      const down = await providerFailureOf(d.provider.fetchChanges(d.calendarId, null, context()));
      assert.equal(down.kind, 'transient');
    });

    test('push channels open, renew and close when the provider has them', async (t) => {
      const d = await env.newDriver();
      const push = d.provider.push;
      if (!push) return t.skip('no push for this provider');
      const request = { calendarId: d.calendarId, address: 'http://127.0.0.1:1/hook', lifecycleAddress: 'http://127.0.0.1:1/lifecycle', secret: 's3cret', channelId: randomUUID(), nowMs: clock.now() };
      const channel = await push.open(request);
      assert.ok(channel.channelId);
      assert.ok(channel.expiresAtMs > clock.now());
      clock.advance(HOUR);
      // A renewal is a new call: a new channel id (Google takes the caller's, which must be unique).
      const renewed = await push.renew(channel, { ...request, channelId: randomUUID(), nowMs: clock.now() });
      assert.ok(renewed.expiresAtMs > channel.expiresAtMs);
      // A renewal that made a new channel leaves the old one to the caller to stop: it still runs.
      if (renewed.channelId !== channel.channelId) await push.close(channel);
      await push.close(renewed);
      // Closing one that is already gone is not an error.
      await push.close(renewed);
    });

    test('a calendar that takes no push channel fails open as PushNotSupported; a 5xx stays transient', async (t) => {
      const d = await env.newDriver();
      const push = d.provider.push;
      if (!push || !d.refusePush) return t.skip('no refusal of push for this provider');
      const request = { calendarId: d.calendarId, address: 'http://127.0.0.1:1/hook', lifecycleAddress: 'http://127.0.0.1:1/lifecycle', secret: 's3cret', channelId: randomUUID(), nowMs: clock.now() };
      d.failNextWith(503);
      const down = await push.open(request).then(() => null, (error: unknown) => error);
      assert.ok(down instanceof CalendarProviderError && !(down instanceof PushNotSupported), String(down));
      assert.equal(down.failure.kind, 'transient');
      d.refusePush();
      const refused = await push.open(request).then(() => null, (error: unknown) => error);
      assert.ok(refused instanceof PushNotSupported, String(refused));
      assert.equal(refused.failure.kind, 'permanent');
    });
  });
}
