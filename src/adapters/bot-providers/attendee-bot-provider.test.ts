import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttendeeBotProvider, parseAttendeeWebhook } from './attendee-bot-provider.ts';
import { keyGenerationsInMemory } from './provider-options.ts';
import type { OutboundHttp } from '../outbound-http.ts';

const SECRET = 'YXR0ZW5kZWUtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=';

// The body as Attendee's sender writes it (Python's json.dumps: ", " and ": "), for the change that
// ends a bot's run where credits are charged: credits_consumed is centicredits / 100, a Python float
// (bots/models.py of attendee-labs/attendee). The signature was made with the sign_payload function
// of Attendee's docs/webhooks.md (json.dumps with sort_keys, ensure_ascii=False and no spaces) run by
// Python 3 over this payload, not by Rollcall's code.
const ENDED = '{"idempotency_key": "7b0c5b1e-1111-4c1e-9c1e-000000000001", "bot_id": "bot_abc", "bot_metadata": {"rollcall_bot_id": "bot_1"}, "trigger": "bot.state_change", "data": {"new_state": "ended", "old_state": "post_processing", "created_at": "2026-12-05T10:00:00.123456+00:00", "event_type": "post_processing_completed", "event_sub_type": null, "event_metadata": {"bot_duration_seconds": 3590, "credits_consumed": 1.0}}}';
const ENDED_SIGNATURE = 'TBEn02VUf+UkWcQ0bs5aIDNkC6GI1/8rByOIazlfgKg=';

test('a signature over a whole float (credits_consumed 1.0) holds: numbers are signed as they were written', () => {
  const parsed = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': ENDED_SIGNATURE }, ENDED);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.deepEqual([parsed.event?.status, parsed.event?.rollcallBotId], ['Done', 'bot_1']);
  // The same body with 1 for 1.0 is another payload to Attendee: its signature no longer holds.
  const altered = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': ENDED_SIGNATURE }, ENDED.replace('1.0}', '1}'));
  assert.deepEqual([altered.ok, !altered.ok && altered.reason], [false, 'bad_signature']);
});

// A bot's metadata holds the client's own attribute names: integer-like ones, and characters
// either side of the surrogates. Python sorts them by code point ("10" before "2"; U+FF21 before
// U+1F600). Signed by Python 3 with the sign_payload function of Attendee's docs/webhooks.md.
const KEYS = '{"idempotency_key": "7b0c5b1e-2222-4c1e-9c1e-000000000002", "bot_id": "bot_abc", "bot_metadata": {"rollcall_bot_id": "bot_1", "2": "a", "10": "b", "\\uff21": "fullwidth", "\\ud83d\\ude00": "emoji", "\\u00e9": "e-acute"}, "trigger": "bot.state_change", "data": {"new_state": "joined_recording", "old_state": "joined_not_recording", "created_at": "2026-12-05T10:00:00.123456+00:00", "event_type": "bot_recording_permission_granted", "event_sub_type": null, "event_metadata": {}}}';
const KEYS_SIGNATURE = 'uay6hOsyoVTNwqfPRjMOvT0RVOvcpuuke7057bmxqjg=';

test('a signature over keys Python and JavaScript order differently holds: integer-like names and characters past U+FFFF', () => {
  const parsed = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': KEYS_SIGNATURE }, KEYS);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.equal(parsed.event?.status, 'Recording');
});

// A repeated launch's lookup, against an Attendee stub: POST refuses the key as in use (create_bot
// in bots/bots_api_utils.py), GET /api/v1/bots lists the bots under it oldest first, 25 to a page,
// as Django REST framework's CursorPagination does for BotCursorPagination (bots/bots_api_views.py;
// https://www.django-rest-framework.org/api-guide/pagination/#cursorpagination): `next` is the
// request's absolute URL with an opaque base64 `cursor` (urlencoded "p=<position>"), null on the
// last page, and a cursor it cannot decode is answered 404 {"detail": "Invalid cursor"}
// (CursorPagination.decode_cursor in rest_framework/pagination.py).
const KEY = 'launch-bot_1';
const IN_USE = { error: 'Deduplication key already in use. A bot in a non-terminal state with this deduplication key already exists. Please use a different deduplication key or wait for that bot to terminate.' };

interface StubBot { id: string; state: string }
interface StubOptions {
  /** The answer to the page at this index (0 is the first) instead of the list. */
  pageAnswer?: { page: number; status: number; body: unknown };
  /** The `next` URL of every page that has one. */
  nextUrl?: (cursor: string) => string;
}

function attendeeStub(bots: StubBot[], options: StubOptions = {}) {
  const lookups: string[] = [];
  const http = {
    async request(req: { method: string; url: string }) {
      if (req.method === 'POST') return { status: 400, headers: {}, body: JSON.stringify(IN_USE) };
      lookups.push(req.url);
      const url = new URL(req.url);
      const cursor = url.searchParams.get('cursor');
      const position = cursor === null ? 0 : Number(/^p=(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('latin1'))?.[1] ?? Number.NaN);
      if (!Number.isInteger(position)) return { status: 404, headers: {}, body: JSON.stringify({ detail: 'Invalid cursor' }) };
      const page = position / 25;
      if (options.pageAnswer?.page === page) return { status: options.pageAnswer.status, headers: {}, body: JSON.stringify(options.pageAnswer.body) };
      const nextCursor = Buffer.from(`p=${position + 25}`, 'latin1').toString('base64');
      const next = position + 25 >= bots.length ? null
        : options.nextUrl ? options.nextUrl(nextCursor)
        : `${url.origin}/api/v1/bots?cursor=${encodeURIComponent(nextCursor)}&deduplication_key=${encodeURIComponent(KEY)}`;
      const results = bots.slice(position, position + 25).map((bot) => ({ ...bot, deduplication_key: KEY }));
      return { status: 200, headers: {}, body: JSON.stringify({ next, previous: null, results }) };
    },
  } as unknown as OutboundHttp;
  const provider = new AttendeeBotProvider({
    apiKey: 'k', baseUrl: 'https://attendee.example', webhookSecret: SECRET, handoverLeadMs: 900_000, createsPerMinute: 60, timeoutMs: 2000,
    http, now: () => Date.parse('2026-12-07T14:00:00Z'), resolveProviderBotId: async () => null, keyGenerations: keyGenerationsInMemory(),
  });
  const launch = () => provider.launch({ action: 'launch', bot_id: 'bot_1', meeting_url: 'https://meet.google.com/abc-defg-hij', platform: null, bot_config: {}, events: [], scheduled_time: '2026-12-07T15:00:00Z', idempotency_key: KEY, status_url: 'https://rollcall.example/status', status_token: 't' });
  return { launch, lookups };
}

const finishedBots = (count: number): StubBot[] => Array.from({ length: count }, (_, i) => ({ id: `bot_done_${i}`, state: i % 3 === 0 ? 'fatal_error' : 'ended' }));

test('the bot holding a repeated launch\'s key is found on the third page, the cursor of each next sent back to the base URL', async () => {
  const stub = attendeeStub([...finishedBots(50), { id: 'bot_holder', state: 'scheduled' }], { nextUrl: (cursor) => `http://attendee-web:8000/api/v1/bots?cursor=${encodeURIComponent(cursor)}&deduplication_key=${KEY}` });
  assert.deepEqual(await stub.launch(), { ok: true, alreadyDone: true, providerBotId: 'bot_holder' });
  assert.equal(stub.lookups.length, 3);
  assert.ok(stub.lookups.every((url) => url.startsWith('https://attendee.example/api/v1/bots?')));
});

test('a holder past the fifth page (125 finished bots before it) is not answered with a finished bot: a transient failure naming the key', async () => {
  const stub = attendeeStub([...finishedBots(125), { id: 'bot_holder', state: 'scheduled' }]);
  const outcome = await stub.launch();
  assert.equal(stub.lookups.length, 5);
  assert.equal(outcome.ok, false, JSON.stringify(outcome));
  assert.equal(!outcome.ok && outcome.failure, 'transient');
  assert.match(!outcome.ok ? outcome.message : '', new RegExp(`deduplication key ${KEY} .*more than 5 pages`));
});

test('every bot under the key finished, the whole list read: the newest, the last of the last page', async () => {
  const stub = attendeeStub(finishedBots(60));
  assert.deepEqual(await stub.launch(), { ok: true, alreadyDone: true, providerBotId: 'bot_done_59' });
  assert.equal(stub.lookups.length, 3);
});

test('every bot read finished but the list goes on past the fifth page: transient, not the last bot read', async () => {
  const outcome = await attendeeStub(finishedBots(130)).launch();
  assert.equal(!outcome.ok && outcome.failure, 'transient', JSON.stringify(outcome));
});

test('a next without a cursor Rollcall can read: transient, not the newest of what was read', async () => {
  const outcome = await attendeeStub([...finishedBots(30), { id: 'bot_holder', state: 'scheduled' }], { nextUrl: () => 'not a url' }).launch();
  assert.equal(!outcome.ok && outcome.failure, 'transient', JSON.stringify(outcome));
  assert.match(!outcome.ok ? outcome.message : '', /next names no page/);
});

test('a later page answered 404 "Invalid cursor" is transient (tried again), not a permanent failure of the launch', async () => {
  const outcome = await attendeeStub([...finishedBots(30), { id: 'bot_holder', state: 'scheduled' }], { pageAnswer: { page: 1, status: 404, body: { detail: 'Invalid cursor' } } }).launch();
  assert.equal(!outcome.ok && outcome.failure, 'transient', JSON.stringify(outcome));
  assert.match(!outcome.ok ? outcome.message : '', new RegExp(`${KEY}.*cursor of page 2 was refused \\(HTTP 404: Invalid cursor\\)`));
});

test('the first page answered 404 stays permanent: the lookup path itself is not there', async () => {
  const outcome = await attendeeStub([{ id: 'bot_holder', state: 'scheduled' }], { pageAnswer: { page: 0, status: 404, body: { detail: 'Not found.' } } }).launch();
  assert.equal(!outcome.ok && outcome.failure, 'permanent', JSON.stringify(outcome));
});

test('a later page answered 503 or 429 is the outage or the wait it is', async () => {
  const holder = [...finishedBots(30), { id: 'bot_holder', state: 'scheduled' }];
  const down = await attendeeStub(holder, { pageAnswer: { page: 1, status: 503, body: { detail: 'unavailable' } } }).launch();
  assert.equal(!down.ok && down.failure, 'transient');
  const throttled = await attendeeStub(holder, { pageAnswer: { page: 1, status: 429, body: { detail: 'Request was throttled.' } } }).launch();
  assert.equal(!throttled.ok && throttled.failure, 'rate_limited');
});
