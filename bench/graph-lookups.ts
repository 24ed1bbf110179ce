// Time of one Outlook read whose lookups go to the fake Graph (test/support/fake-microsoft.ts)
// over HTTP, each GET of one event answered `--delay` ms late: the look before a join of 20
// meetings (the most a read looks up) and the settling of 30 events a round lists both live and
// @removed. `--adapter` names the adapter module to time (another copy of
// microsoft-calendar-provider.ts in the same folder, to compare with an older version).
//
//   node_modules/.bin/node bench/graph-lookups.ts [--delay 20] [--runs 5] [--adapter ./microsoft-calendar-provider.ts]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { FakeMicrosoftGraph } from '../test/support/fake-microsoft.ts';
import type { HttpSend } from '../src/adapters/calendars/provider-http.ts';

const { values } = parseArgs({ options: { delay: { type: 'string', default: '20' }, runs: { type: 'string', default: '5' }, adapter: { type: 'string', default: './microsoft-calendar-provider.ts' } } });
const delayMs = Number(values.delay);
const runs = Number(values.runs);
const { MicrosoftCalendarProvider } = await import(new URL(`../src/adapters/calendars/${values.adapter}`, import.meta.url).href);

const DAY = 86_400_000;
const nowMs = Date.now();
const fake = new FakeMicrosoftGraph({ now: () => nowMs, deliver: async () => ({ status: 202, body: '', headers: {} }) });
const base = await fake.start();
const send: HttpSend = async (request) => {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
};

async function accountWithProvider() {
  const account = fake.createAccount();
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: account.clientId, client_secret: account.clientSecret, refresh_token: account.refreshToken });
  const token = (await (await fetch(`${base}/common/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })).json()) as { access_token: string };
  const provider = new MicrosoftCalendarProvider({ baseUrl: `${base}/v1.0`, tokens: { get: async () => token.access_token, renew: async () => token.access_token }, send, timeoutMs: 10_000, now: () => nowMs });
  return { account, provider, calendarId: fake.defaultCalendarId(account.email) };
}

const context = { nowMs, horizonMs: 30 * DAY };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What a read brought, with the accounts' own ids left out: the same for both adapters when they settle alike. */
type Read = { changes: { type: string; providerEventId?: string; event?: { title: string | null } }[]; goneOnLookup?: string[]; confirmedPresent?: string[] };
async function timed(setUp: () => Promise<() => Promise<Read>>): Promise<{ medianMs: number; most: number; changes: number; digest: string }> {
  const times: number[] = [];
  let most = 0;
  let last: Read | null = null;
  for (let run = 0; run < runs; run++) {
    const read = await setUp();
    fake.eventLookupDelayMs = delayMs;
    fake.concurrency.most = 0;
    const started = performance.now();
    last = await read();
    times.push(performance.now() - started);
    most = Math.max(most, fake.concurrency.most);
    fake.eventLookupDelayMs = 0;
  }
  const shape = last!.changes.map((c) => (c.type === 'removed' ? 'removed' : c.event!.title?.replace(/ .*$/, '') ?? ''));
  return { medianMs: Math.round(median(times)), most, changes: last!.changes.length, digest: createHash('sha256').update(JSON.stringify([shape, last!.goneOnLookup?.length, last!.confirmedPresent?.length])).digest('hex').slice(0, 12) };
}

const beforeJoin = await timed(async () => {
  const { account, provider, calendarId } = await accountWithProvider();
  const start = nowMs + DAY;
  const ids = Array.from({ length: 20 }, (_, i) => fake.createEvent(account.email, { subject: `Meeting ${i}`, startMs: start, endMs: start + 3_600_000 }));
  const first = await provider.fetchChanges(calendarId, null, context);
  const confirm = ids.map((id) => ({ providerEventId: id, startMs: start, endMs: start + 3_600_000, seriesId: null }));
  return () => provider.fetchChanges(calendarId, first.cursor, { ...context, confirm });
});

const settling = await timed(async () => {
  const { account, provider, calendarId } = await accountWithProvider();
  const start = nowMs + DAY;
  const ids = Array.from({ length: 30 }, (_, i) => fake.createEvent(account.email, { subject: `Meeting ${i}`, startMs: start + i * 60_000, endMs: start + i * 60_000 + 3_600_000 }));
  const first = await provider.fetchChanges(calendarId, null, context);
  for (const id of ids) {
    fake.updateEvent(account.email, id, { subject: `Renamed ${id.slice(-4)}` });
    fake.listAgainInNextRound(calendarId, id, 'removed', 'first');
  }
  return () => provider.fetchChanges(calendarId, first.cursor, context);
});

console.log(JSON.stringify({ adapter: values.adapter, delayMs, runs, lookBeforeJoin20: beforeJoin, settling30: settling }));
await fake.stop();
