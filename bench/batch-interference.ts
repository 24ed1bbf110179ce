// npm run bench:batch-interference -- [--engine=sqlite|postgres] [--rounds=3] [--occurrences=500] [--lead=20]
// How late one launch goes out when a client books every occurrence of a long series at that
// moment: one bot is scheduled to join 1.5 s ahead; --lead ms before its join time a
// schedule_all_occurrences request for a daily series (--occurrences bots) is sent, and the
// launch's arrival at a no-op runtime is timed. In turns with the same launch alone, --rounds
// times. On SQLite one connection serves the process and the batch is one transaction, so a
// launch confirmed in that time waits for it (docs/performance.md, "Costs outside the benchmark").
import { parseArgs } from 'node:util';
import { FakeHttpReceiver } from '../test/support/fake-http-receiver.ts';

const { values } = parseArgs({ options: { engine: { type: 'string', default: 'sqlite' }, rounds: { type: 'string', default: '3' }, occurrences: { type: 'string', default: '500' }, lead: { type: 'string', default: '20' } } });
if (values.engine !== 'sqlite' && values.engine !== 'postgres') throw new Error(`--engine: ${values.engine}; choose sqlite or postgres`);
// The harness picks its engine from this variable when it is loaded (test/support/harness.ts).
process.env.ROLLCALL_TEST_ENGINE = values.engine;
const { startTestRollcall, TEST_ENGINE } = await import('../test/support/harness.ts');
if (TEST_ENGINE !== values.engine) throw new Error(`the harness runs ${TEST_ENGINE}, not ${values.engine}`);
const rounds = Number(values.rounds);
const occurrences = Number(values.occurrences);
const leadMs = Number(values.lead);

const runtime = new FakeHttpReceiver();
const runtimeUrl = await runtime.start();
const rc = await startTestRollcall({ background: true, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '0' } });
const user = await rc.newUser();
let n = 0;

async function newEvent(recurrence?: string[]): Promise<string> {
  const start = Date.now() + 86_400_000;
  const res = await rc.request('POST', '/api/v1/calendar/events', {
    auth: user.auth,
    body: { title: `event ${n}`, start_time: new Date(start).toISOString(), end_time: new Date(start + 1_800_000).toISOString(), meeting_url: `https://zoom.us/j/${8_300_000_000 + n++}`, ...(recurrence ? { recurrence, timezone: 'Europe/Berlin' } : {}) },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body.id as string;
}

/** Milliseconds between the join time and the launch's arrival; with the batch request's own time. */
async function oneRound(withBatch: boolean): Promise<{ lateMs: number; batchMs: number | null }> {
  const single = await newEvent();
  const series = await newEvent(['RRULE:FREQ=DAILY']);
  const dueMs = Date.now() + 1500;
  const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${single}`, { auth: user.auth, body: { deduplication_key: `one-${n}`, bot_config: { join_at: new Date(dueMs).toISOString() } } });
  const botId = scheduled.body.bot_id as string;
  await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now() - leadMs));
  const startedMs = Date.now();
  const batch = withBatch
    ? await rc.request('POST', `/api/v1/calendar/schedule/${series}`, { auth: user.auth, body: { deduplication_key: `all-${n}`, bot_config: {}, schedule_all_occurrences: true, occurrence_limit: occurrences } })
    : null;
  const batchMs = batch ? Date.now() - startedMs : null;
  if (batch && batch.body.occurrences_scheduled !== occurrences) throw new Error(`the batch booked ${batch.body.occurrences_scheduled} of ${occurrences}`);
  for (let waited = 0; !runtime.received.some((r) => r.json?.bot_id === botId); waited += 5) {
    if (waited > 10_000) throw new Error(`bot ${botId} was not launched`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { lateMs: runtime.received.find((r) => r.json?.bot_id === botId)!.at - dueMs, batchMs };
}

console.log(`engine ${values.engine}, a batch of ${occurrences} occurrences sent ${leadMs} ms before the join time`);
for (let round = 1; round <= rounds; round++) {
  const alone = await oneRound(false);
  const beside = await oneRound(true);
  console.log(`round ${round}: alone ${alone.lateMs} ms late; beside the batch ${beside.lateMs} ms late (the batch request took ${beside.batchMs} ms)`);
}
await rc.close();
await runtime.stop();
