// One contract for every bot runtime: the generic ones (http, command) and the bot providers
// driven directly (Recall.ai, MeetStream, Attendee), each against its fake at the HTTP boundary,
// on the real database of the run (SQLite or PostgreSQL). What a runtime cannot do it declares
// (null capability); the contract checks the declaration instead of the operation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createRuntime } from '../../src/container.ts';
import { OutboundHttp } from '../../src/adapters/outbound-http.ts';
import { OutboundGuard } from '../../src/adapters/outbound-guard.ts';
import type { BotRuntime, LaunchRequest } from '../../src/adapters/bot-runtimes/bot-runtime.ts';
import { toLifecycleStatus } from '../../src/adapters/bot-providers/provider-status.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { CapturedLog } from '../support/captured-log.ts';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { backendPid, sessionsWaitingOn } from '../support/pg-lock-waits.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { FakeRecall } from '../support/fake-recall.ts';
import { FakeMeetStream } from '../support/fake-meetstream.ts';
import { FakeAttendee } from '../support/fake-attendee.ts';
import type { FakeProviderServer } from '../support/fake-provider-kit.ts';
import { recordAttempts } from '../../src/store/provider-handover-store.ts';

const API_KEY = 'prov-api-key-5Hq9Zt2Lw';
const RECALL_SECRET = `whsec_${Buffer.from('recall-signing-secret-32-bytes!!').toString('base64')}`;
const MEETSTREAM_SECRET = 'meetstream-endpoint-secret-7Kp3';
const ATTENDEE_SECRET = Buffer.from('attendee-project-webhook-secret!').toString('base64');

type ProviderFake = FakeRecall | FakeMeetStream | FakeAttendee;

/** How each runtime is set up and observed. */
interface Subject {
  kind: 'http' | 'command' | 'recall' | 'meetstream' | 'attendee';
  start(): Promise<Record<string, string>>;
  stop(): Promise<void>;
  /** Bots the runtime has started (distinct launches). */
  launches(): number;
  /** The next launch attempt meets an outage. */
  injectOutage(): void;
  /** The next launch attempt is rate limited for `seconds` (null: the runtime cannot say so). */
  injectRateLimit(seconds: number): boolean;
  /** The outcome a refused launch gets under this runtime's protocol. */
  refusedLaunch: { settings: Record<string, string>; failure: 'permanent' | 'transient' };
  fake?: ProviderFake;
  /** Moves the provider's bot into a call. */
  putInCall?(providerBotId: string): void;
  /** A signed status webhook saying the provider bot is in the meeting, another saying it finished. */
  webhook?(providerBotId: string, what: 'in_meeting' | 'joining' | 'done' | 'recording', secret?: string, metadata?: Record<string, string> | null): { rawBody: string; headers: Record<string, string> };
  /** A signed status webhook saying the host removed the bot from the meeting; null where the provider does not say so. */
  kickedWebhook?(providerBotId: string): { rawBody: string; headers: Record<string, string> } | null;
  /** A signed webhook the provider sends to the same endpoint that is not the bot's status (a recording done); absent where none shares the status events' shape. */
  unrelatedWebhook?(providerBotId: string): { rawBody: string; headers: Record<string, string> };
  /** A signed status webhook saying the host refused the bot at the waiting room (Denied); null where the provider sends no later ending after it. */
  refusedWebhook?(providerBotId: string): { rawBody: string; headers: Record<string, string> } | null;
}

function providerSubject(kind: 'recall' | 'meetstream' | 'attendee'): Subject {
  const fake: ProviderFake = kind === 'recall' ? new FakeRecall(API_KEY, RECALL_SECRET) : kind === 'meetstream' ? new FakeMeetStream(API_KEY, MEETSTREAM_SECRET) : new FakeAttendee(API_KEY, ATTENDEE_SECRET);
  const secret = kind === 'recall' ? RECALL_SECRET : kind === 'meetstream' ? MEETSTREAM_SECRET : ATTENDEE_SECRET;
  const names = {
    recall: { in_meeting: 'in_call_not_recording', joining: 'joining_call', done: 'done', recording: 'in_call_recording' },
    meetstream: { in_meeting: 'bot.inmeeting', joining: 'bot.joining', done: 'bot.done', recording: 'bot.recording' },
    attendee: { in_meeting: 'joined_not_recording', joining: 'joining', done: 'ended', recording: 'joined_recording' },
  }[kind];
  const settingsFor = (url: string, apiKey = API_KEY): Record<string, string> => ({
    BOT_RUNTIME: kind, BOT_PROVIDER_API_KEY: apiKey, BOT_PROVIDER_BASE_URL: url, BOT_PROVIDER_WEBHOOK_SECRET: secret, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5',
  });
  const subject: Subject = {
    kind,
    fake,
    async start() {
      const url = await fake.start();
      subject.refusedLaunch = { settings: settingsFor(url, 'wrong-key'), failure: 'permanent' };
      return settingsFor(url);
    },
    stop: () => fake.stop(),
    launches: () => fake.liveBots.length,
    // Injected faults, not provider rules: an outage (503) and a limit (429 with Retry-After),
    // which every provider documents answering (Recall errors page; MeetStream error handling
    // guide in labs) and any HTTP service may answer.
    injectOutage: () => (fake as FakeProviderServer).failNext(/^POST /, { status: 503, body: { error: 'unavailable' } }),
    injectRateLimit(seconds) {
      if (fake instanceof FakeRecall) {
        // Recall's own rule: the per-workspace creation limit.
        fake.createsPerMinute = fake.liveBots.length;
        return true;
      }
      (fake as FakeProviderServer).failNext(/^POST /, { status: 429, headers: { 'retry-after': String(seconds) }, body: { error: 'rate limited' } });
      return true;
    },
    refusedLaunch: { settings: {}, failure: 'permanent' },
    putInCall(id) {
      if (fake instanceof FakeRecall) fake.bots.get(id)!.status = 'in_call_recording';
      else if (fake instanceof FakeMeetStream) fake.bots.get(id)!.status = 'InMeeting';
      else fake.bots.get(id)!.state = 'joined_recording';
    },
    webhook(id, what, otherSecret, metadata) {
      const name = names[what];
      const options = { ...(otherSecret ? { secret: otherSecret } : {}), ...(metadata !== undefined ? { metadata } : {}) };
      if (fake instanceof FakeRecall) return fake.statusWebhook(id, name, options);
      if (fake instanceof FakeMeetStream) return fake.statusWebhook(id, name, options);
      return fake.statusWebhook(id, name, options);
    },
    ...(fake instanceof FakeRecall ? { unrelatedWebhook: (id: string) => fake.mediaWebhook(id, 'recording.done') } : {}),
    kickedWebhook(id) {
      // Recall: call_ended with sub code bot_kicked_from_call (https://docs.recall.ai/docs/sub-codes).
      if (fake instanceof FakeRecall) return fake.statusWebhook(id, 'call_ended', { subCode: 'bot_kicked_from_call' });
      // MeetStream: bot_event bot.kicked, event bot.stopped, status Stopped (labs' terminal mapping, ../shared/reference/meetstream.md).
      if (fake instanceof FakeMeetStream) return fake.statusWebhook(id, 'bot.kicked');
      // Attendee: meeting_ended with event_metadata.bot_removed_by (Teams; docs/webhooks.md of attendee-labs/attendee).
      return fake.removedWebhook(id);
    },
    refusedWebhook(id) {
      // Recall: call_ended with sub code bot_kicked_from_waiting_room, and then done, as every bot
      // ends (https://docs.recall.ai/docs/sub-codes; https://docs.recall.ai/docs/bot-status-change-events).
      if (fake instanceof FakeRecall) return fake.statusWebhook(id, 'call_ended', { subCode: 'bot_kicked_from_waiting_room' });
      // MeetStream: bot.denied, then bot.done, which ends every path (../shared/reference/meetstream.md 6.2).
      if (fake instanceof FakeMeetStream) return fake.statusWebhook(id, 'bot.denied');
      // Attendee: could_not_join_meeting moves the bot to fatal_error, one of
      // BotStates.post_meeting_states() in bots/models.py, and no ending follows it: the one move
      // out of fatal_error is data_deleted, once its data are deleted (BotEventManager.VALID_TRANSITIONS),
      // a state that changes nothing in Rollcall (docs/providers/attendee.md).
      return null;
    },
  };
  return subject;
}

function httpSubject(): Subject {
  const receiver = new FakeHttpReceiver();
  const keys = new Set<string>();
  let next: { status: number; headers?: Record<string, string> } | null = null;
  // The http runtime's protocol: 2xx accepted, 409 already had it, 429 slow down, anything else
  // try again later (README, "Bot runtimes").
  receiver.respond = (r) => {
    if (next) {
      const answer = next;
      next = null;
      return { status: answer.status, headers: answer.headers ?? {}, body: {} };
    }
    const key = String(r.headers['idempotency-key']);
    if (r.json?.action === 'launch' && keys.has(key)) return { status: 409, body: {} };
    if (r.json?.action === 'launch') keys.add(key);
    return { status: 202, body: {} };
  };
  const subject: Subject = {
    kind: 'http',
    async start() {
      const url = await receiver.start();
      return { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${url}/launch`, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5' };
    },
    stop: () => receiver.stop(),
    launches: () => keys.size,
    injectOutage: () => { next = { status: 503 }; },
    injectRateLimit: (seconds) => { next = { status: 429, headers: { 'retry-after': String(seconds) } }; return true; },
    refusedLaunch: { settings: {}, failure: 'transient' },
  };
  return subject;
}

function commandSubject(): Subject {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-cmd-'));
  const log = join(dir, 'keys');
  const failFlag = join(dir, 'fail');
  // Records each distinct launch key; fails once when the flag file exists.
  const command = `if [ -f ${failFlag} ]; then rm ${failFlag}; exit 3; fi; cat > /dev/null; grep -qx "$ROLLCALL_IDEMPOTENCY_KEY" ${log} 2>/dev/null || echo "$ROLLCALL_IDEMPOTENCY_KEY" >> ${log}`;
  return {
    kind: 'command',
    async start() {
      return { BOT_RUNTIME: 'command', BOT_RUNTIME_COMMAND: command, BOT_RUNTIME_TIMEOUT_MS: '2000', DISPATCH_LEASE_SECONDS: '5' };
    },
    stop: async () => rmSync(dir, { recursive: true, force: true }),
    launches: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('launch-') || l.startsWith('k-')).length : 0),
    injectOutage: () => writeFileSync(failFlag, ''),
    // A command has only its exit code: it cannot ask for a pause.
    injectRateLimit: () => false,
    refusedLaunch: { settings: {}, failure: 'transient' },
  };
}

function launchRequest(key: string, botId = `bot_contract_${key}`, joinAt?: string): LaunchRequest {
  return {
    action: 'launch', bot_id: botId, meeting_url: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet',
    bot_config: { bot_name: 'Contract', custom_attributes: { team: 'qa' } }, events: [], scheduled_time: new Date().toISOString(),
    ...(joinAt ? { join_at: joinAt } : {}),
    idempotency_key: key, status_url: 'http://127.0.0.1/status', status_token: 'bst_contract',
  };
}

for (const subject of [httpSubject(), commandSubject(), providerSubject('recall'), providerSubject('meetstream'), providerSubject('attendee')]) {
  describe(`bot runtime contract: ${subject.kind}`, () => {
    let rc: TestRollcall;
    let runtime: BotRuntime;
    let user: { auth: string; userId: string };
    const clock = new ManualClock(Date.now());
    const log = new CapturedLog();
    let keyCounter = 0;
    const newKey = () => `k-${subject.kind}-${++keyCounter}-${Date.now()}`;
    // The one outbound client, as the service builds it (provider calls go through it unguarded).
    const http = new OutboundHttp({ guard: new OutboundGuard(['127.0.0.1']) });

    before(async () => {
      const settings = await subject.start();
      rc = await startTestRollcall({ clock, settings: { ...settings, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' }, overrides: { logger: createLogger('trace', log) } });
      runtime = createRuntime(rc.config, clock, rc.database, http);
      user = await rc.newUser();
    });
    after(async () => {
      await runtime.close?.();
      await http.close();
      await rc.close();
      await subject.stop();
    });

    test('launch: accepted, and a provider names its bot', async () => {
      const before = subject.launches();
      const outcome = await runtime.launch(launchRequest(newKey()));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal(subject.launches(), before + 1);
      if (subject.fake) assert.ok(outcome.ok && typeof outcome.providerBotId === 'string' && outcome.providerBotId.length > 0);
    });

    test('meetstream: the calendar shape of a transcription reaches create_bot as recording_config.transcript.provider', async (t) => {
      if (subject.kind !== 'meetstream') return t.skip('MeetStream\'s two shapes of one setting');
      const fake = subject.fake as FakeMeetStream;
      const deepgram = { deepgram: { model: 'nova-3', language: 'en' } };
      const request = launchRequest(newKey());
      request.bot_config = { ...request.bot_config, transcription: deepgram, recording_config: { video_layout: 'grid_view' } };
      const outcome = await runtime.launch(request);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const sent = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/bots/create_bot').at(-1)!.body as Record<string, any>;
      assert.deepEqual(sent.recording_config, { video_layout: 'grid_view', transcript: { provider: deepgram } });
      // A transcript given in create_bot's own shape is kept as it is.
      const own = launchRequest(newKey());
      own.bot_config = { ...own.bot_config, transcription: deepgram, recording_config: { transcript: { provider: { assemblyai: {} } } } };
      assert.equal((await runtime.launch(own)).ok, true);
      const ownSent = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/bots/create_bot').at(-1)!.body as Record<string, any>;
      assert.deepEqual(ownSent.recording_config, { transcript: { provider: { assemblyai: {} } } });
    });

    test('meetstream: an ad-hoc bot\'s create_bot fields (live streams, socket, Zoom token, workflows) reach MeetStream as given', async (t) => {
      if (subject.kind !== 'meetstream') return t.skip('MeetStream\'s own create_bot fields');
      const fake = subject.fake as FakeMeetStream;
      // MeetStream's CreateBotRequest fields (see ../shared/reference or src/http/schemas/ad-hoc-bot-schemas.ts).
      const given = {
        socket_connection_url: { websocket_url: 'wss://control.example.com/s' }, live_audio_required: { websocket_url: 'wss://audio.example.com/a' },
        live_video_required: { websocket_url: 'wss://video.example.com/v' }, live_transcription_required: { webhook_url: 'https://tx.example.com/t' },
        zoom: { zak_url: 'https://zak.example.com/token' }, audio_separate_streams: true, workflow_config_ids: ['wf_1'],
      };
      const request = launchRequest(newKey());
      request.bot_config = { ...request.bot_config, ...given };
      assert.equal((await runtime.launch(request)).ok, true);
      const sent = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/bots/create_bot').at(-1)!.body as Record<string, unknown>;
      for (const [field, value] of Object.entries(given)) assert.deepEqual(sent[field], value, field);
    });

    test('repeat launch with the same key: no second bot', async () => {
      const key = newKey();
      const first = await runtime.launch(launchRequest(key));
      const count = subject.launches();
      const second = await runtime.launch(launchRequest(key));
      assert.equal(first.ok && second.ok, true, JSON.stringify({ first, second }));
      assert.equal(subject.launches(), count, 'the repeat created nothing');
      if (subject.fake) assert.equal(first.ok && second.ok && second.providerBotId, first.ok && first.providerBotId);
    });

    test('transient failure: an outage is retried, and the retry starts one bot', async () => {
      const key = newKey();
      const before = subject.launches();
      subject.injectOutage();
      const failed = await runtime.launch(launchRequest(key));
      assert.equal(failed.ok, false);
      assert.equal(!failed.ok && failed.failure, 'transient');
      const retried = await runtime.launch(launchRequest(key));
      assert.equal(retried.ok, true, JSON.stringify(retried));
      assert.equal(subject.launches(), before + 1);
    });

    test('rate limit: waits for Retry-After', async (t) => {
      if (!subject.injectRateLimit(7)) {
        t.skip(`${subject.kind} has no way to ask for a pause (an exit code only)`);
        return;
      }
      const outcome = await runtime.launch(launchRequest(newKey()));
      assert.equal(!outcome.ok && outcome.failure, 'rate_limited', JSON.stringify(outcome));
      assert.ok(!outcome.ok && outcome.retryAfterMs !== null && outcome.retryAfterMs > 0 && outcome.retryAfterMs <= 60_000);
      if (subject.fake instanceof FakeRecall) {
        assert.ok(!outcome.ok && outcome.retryAfterMs! >= 1000);
        subject.fake.createsPerMinute = 10_000;
      } else if (!outcome.ok) {
        assert.equal(outcome.retryAfterMs, 7000);
      }
    });

    test('refused launch: a provider refusing the API key is permanent and says so', async () => {
      if (!subject.fake) {
        // http and command: any answer but success means "try again later" by their protocol.
        assert.equal(subject.refusedLaunch.failure, 'transient');
        return;
      }
      const other = createRuntime({ ...rc.config, botProvider: { ...rc.config.botProvider!, apiKey: 'wrong-key' } }, clock, rc.database, http);
      const before = subject.launches();
      const outcome = await other.launch(launchRequest(newKey()));
      assert.equal(!outcome.ok && outcome.failure, 'permanent');
      assert.match(!outcome.ok ? outcome.message : '', /provider_auth_failed/);
      assert.equal(subject.launches(), before);
    });

    test('capabilities are declared, never thrown', () => {
      const isProvider = subject.fake !== undefined;
      assert.equal(runtime.scheduling !== null, isProvider);
      assert.equal(runtime.live !== null, isProvider);
      assert.equal(runtime.statusWebhooks !== null, isProvider);
      if (runtime.scheduling) {
        const rules = runtime.scheduling.rules;
        assert.ok(rules.handoverLeadMs > rules.updateCutoffMs || subject.kind === 'meetstream', 'the default lead leaves room for updates');
        if (subject.kind === 'recall') assert.ok(rules.handoverLeadMs > 600_000);
      }
    });

    test('update: a scheduled bot moves; inside the cutoff the provider refuses and nothing changes', async (t) => {
      const scheduling = runtime.scheduling;
      if (!scheduling || !subject.fake) {
        t.skip(`${subject.kind} forwards update commands to its own runtime and takes no join time`);
        return;
      }
      const joinAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const launched = await runtime.launch(launchRequest(newKey(), undefined, joinAt));
      assert.ok(launched.ok && launched.providerBotId);
      const id = launched.providerBotId!;
      const moved = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * 3_600_000).toISOString();
      const updated = await scheduling.update(id, { join_at: moved }, newKey());
      assert.equal(updated.ok, true, JSON.stringify(updated));
      assert.equal(joinAtOf(subject.fake, id), moved);
      const tooLate = new Date(Math.floor(Date.now() / 1000) * 1000 + scheduling.rules.updateCutoffMs / 2).toISOString();
      const refused = await scheduling.update(id, { join_at: tooLate }, newKey());
      if (subject.kind === 'meetstream') {
        // MeetStream accepts any future time; its cutoff is Rollcall's own margin.
        assert.equal(refused.ok, true);
      } else if (subject.kind === 'attendee') {
        // Attendee takes the new time, then stages the bot: from then on it cannot be changed.
        assert.equal(refused.ok, true);
        const frozen = await scheduling.update(id, { join_at: moved }, newKey());
        assert.equal(!frozen.ok && frozen.failure, 'permanent', JSON.stringify(frozen));
        assert.equal(joinAtOf(subject.fake, id), tooLate, 'the refused update changed nothing');
      } else {
        assert.equal(!refused.ok && refused.failure, 'permanent', JSON.stringify(refused));
        assert.equal(joinAtOf(subject.fake, id), moved, 'the refused update changed nothing');
      }
    });

    test('stop/delete: a scheduled bot is deleted; deleting again is done', async (t) => {
      const scheduling = runtime.scheduling;
      if (!scheduling || !subject.fake) {
        t.skip(`${subject.kind} forwards stop commands to its own runtime`);
        return;
      }
      const launched = await runtime.launch(launchRequest(newKey(), undefined, new Date(Date.now() + 2 * 3_600_000).toISOString()));
      assert.ok(launched.ok);
      const id = launched.providerBotId!;
      const count = subject.launches();
      const deleted = await scheduling.delete(id);
      assert.equal(deleted.ok, true, JSON.stringify(deleted));
      assert.equal(subject.launches(), count - 1);
      const again = await scheduling.delete(id);
      assert.equal(again.ok && again.alreadyDone, true);
    });

    test('leave: a bot in the meeting leaves; a scheduled one cannot', async (t) => {
      const live = runtime.live;
      if (!live || !subject.fake) {
        t.skip(`${subject.kind} has no leave operation of its own`);
        return;
      }
      const launched = await runtime.launch(launchRequest(newKey(), undefined, new Date(Date.now() + 2 * 3_600_000).toISOString()));
      assert.ok(launched.ok && launched.providerBotId);
      const id = launched.providerBotId;
      const early = await live.leave(id);
      assert.equal(!early.ok && early.failure, 'permanent');
      subject.putInCall!(id);
      const left = await live.leave(id);
      assert.equal(left.ok, true, JSON.stringify(left));
    });

    test('attendee: past `scheduled`, an update that repeats the bot\'s link, name or join time is taken; one that changes any is refused', async (t) => {
      const scheduling = runtime.scheduling;
      if (subject.kind !== 'attendee' || !scheduling || !subject.fake) return t.skip('Attendee\'s patch_bot compares each value with the bot\'s');
      const joinAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 2 * 3_600_000).toISOString();
      const launched = await runtime.launch(launchRequest(newKey(), undefined, joinAt));
      assert.ok(launched.ok && launched.providerBotId);
      const id = launched.providerBotId;
      subject.putInCall!(id);
      const same = await scheduling.update(id, { join_at: joinAt, meeting_url: 'https://meet.google.com/abc-defg-hij', settings: { bot_name: 'Contract', metadata: { team: 'b' } } }, newKey());
      assert.equal(same.ok, true, JSON.stringify(same));
      // The link is compared as Attendee normalises it (a Meet link cut to its code): one that
      // differs only in its query is the same link, and taken.
      const sameNormalised = await scheduling.update(id, { meeting_url: 'https://meet.google.com/abc-defg-hij?authuser=1' }, newKey());
      assert.equal(sameNormalised.ok, true, JSON.stringify(sameNormalised));
      // A Zoom link keeps only pwd and tk, on zoom.us: stored so, and compared so.
      const zoom = await runtime.launch({ ...launchRequest(newKey(), undefined, joinAt), meeting_url: 'https://us02web.zoom.com/j/81234567890?pwd=Secret1.1&uname=Guest&tk=reg-token' });
      assert.ok(zoom.ok && zoom.providerBotId, JSON.stringify(zoom));
      const zoomId = zoom.providerBotId;
      assert.equal((subject.fake as FakeAttendee).bots.get(zoomId)!.meeting_url, 'https://us02web.zoom.us/j/81234567890?pwd=Secret1.1&tk=reg-token');
      subject.putInCall!(zoomId);
      assert.equal((await scheduling.update(zoomId, { meeting_url: 'https://us02web.zoom.us/j/81234567890?tk=reg-token&pwd=Secret1.1&from=addon' }, newKey())).ok, true);
      const otherPwd = await scheduling.update(zoomId, { meeting_url: 'https://us02web.zoom.us/j/81234567890?pwd=Other2&tk=reg-token' }, newKey());
      assert.equal(!otherPwd.ok && otherPwd.failure, 'permanent', JSON.stringify(otherPwd));
      for (const change of [{ meeting_url: 'https://meet.google.com/xyz-abcd-efg' }, { settings: { bot_name: 'Other' } }, { join_at: new Date(Date.parse(joinAt) + 60_000).toISOString() }]) {
        const refused = await scheduling.update(id, change, newKey());
        assert.equal(!refused.ok && refused.failure, 'permanent', JSON.stringify({ change, refused }));
      }
    });

    describe('status webhooks', () => {
      let botId: string;
      let providerBotId: string;

      before(async function () {
        if (!subject.fake) return;
        // A bot scheduled through the API and launched by the dispatcher at its join time.
        const start = clock.now() + 30 * 60_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Contract', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/abc-defg-hij' } });
        const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `hooks-${subject.kind}`, bot_config: { bot_name: 'Hooks', callback_url: 'http://127.0.0.1:9/rollcall-hooks' } } });
        assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
        botId = scheduled.body.bot_id;
        clock.set(start - 170_000);
        await rc.dispatcher.runDue();
        const row = await rc.database.db.selectFrom('bots').selectAll().where('id', '=', botId).executeTakeFirstOrThrow();
        assert.equal(row.provider_name, subject.kind);
        assert.ok(row.provider_bot_id);
        providerBotId = row.provider_bot_id!;
      });

      const post = (rawBody: string, headers: Record<string, string>, name: string = subject.kind) =>
        rc.app.inject({ method: 'POST', url: `/api/v1/providers/${name}/webhook`, payload: rawBody, headers: { 'content-type': 'application/json', ...headers } });
      const statusOf = async () => (await rc.request('GET', `/api/v1/bots/${botId}`, { auth: user.auth })).body.status;
      const outbox = async () => (await rc.database.db.selectFrom('webhook_deliveries').select(['payload']).where('bot_id', '=', botId).execute()).map((r) => JSON.parse(r.payload).bot_event ?? JSON.parse(r.payload).event);

      test('a good signature moves the bot and queues the user\'s webhook', async (t) => {
        if (!subject.fake) {
          // A provider posting to a deployment whose BOT_RUNTIME names none is told so (not asked
          // for an API key it was never meant to send), whatever the body.
          for (const body of ['{}', 'not json']) {
            const answer = await post(body, {}, 'recall');
            assert.equal(`${answer.statusCode} ${answer.json().code}`, '404 provider_not_configured', answer.body);
            assert.match(answer.json().message, new RegExp(`BOT_RUNTIME is ${subject.kind}\\); set BOT_RUNTIME`));
          }
          t.skip(`${subject.kind} reports status through the status route with its token`);
          return;
        }
        const inMeeting = subject.webhook!(providerBotId, 'in_meeting');
        const answer = await post(inMeeting.rawBody, inMeeting.headers);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().changed, true);
        assert.equal(await statusOf(), 'InMeeting');
        assert.ok((await outbox()).includes('bot.inmeeting'), 'the user gets a Rollcall webhook');
        // The same report again changes nothing; recording maps onto the meeting status for now.
        const recording = subject.webhook!(providerBotId, 'recording');
        const again = await post(recording.rawBody, recording.headers);
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(await statusOf(), toLifecycleStatus('Recording'));
      });

      test('a bad signature is refused and changes nothing', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const before = await statusOf();
        const forged = subject.webhook!(providerBotId, 'done', subject.kind === 'recall' ? `whsec_${Buffer.from('another-secret-of-32-bytes-long!').toString('base64')}` : Buffer.from('another secret').toString('base64'));
        const answer = await post(forged.rawBody, forged.headers);
        assert.equal(answer.statusCode, 401, answer.body);
        assert.equal(answer.json().code, 'invalid_provider_signature');
        const tampered = subject.webhook!(providerBotId, 'done');
        const altered = await post(tampered.rawBody.replace(providerBotId, `${providerBotId}x`), tampered.headers);
        assert.equal(altered.statusCode, 401);
        assert.equal(await statusOf(), before);
        subject.putInCall!(providerBotId);
      });

      test('a correctly signed body that is not a bot webhook (not JSON; JSON but not an object) is a 4xx, never a 500, and changes nothing', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const before = await statusOf();
        // Signed as each provider signs: Recall (Svix) and MeetStream over the raw bytes, Attendee
        // over the parsed payload re-serialised (for a non-object the parse alone).
        const signed = (rawBody: string): Record<string, string> => {
          if (subject.kind === 'recall') {
            const at = new Date();
            return { 'webhook-id': `msg_${Math.random().toString(36).slice(2)}`, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(RECALL_SECRET).sign('msg_fixed', at, rawBody) };
          }
          if (subject.kind === 'meetstream') return { 'x-meetstream-signature': `sha256=${createHmac('sha256', MEETSTREAM_SECRET).update(rawBody).digest('hex')}` };
          let canonical = rawBody;
          try {
            canonical = JSON.stringify(JSON.parse(rawBody));
          } catch {
            // not JSON: signed as sent
          }
          return { 'x-webhook-signature': createHmac('sha256', Buffer.from(ATTENDEE_SECRET, 'base64')).update(canonical).digest('base64') };
        };
        for (const rawBody of ['not json at all', 'null', '[]', '7', '"bot.done"']) {
          const headers = signed(rawBody);
          if (subject.kind === 'recall') headers['webhook-id'] = 'msg_fixed';
          const answer = await post(rawBody, headers);
          const expected = subject.kind === 'attendee' ? '401 invalid_provider_signature' : '400 invalid_provider_webhook';
          assert.equal(`${answer.statusCode} ${answer.json().code}`, expected, `${rawBody}: ${answer.body}`);
          assert.match(answer.json().message, subject.kind === 'attendee' ? /not (JSON|a JSON object), so its signature cannot be checked/ : /^body: body is not (JSON|a JSON object)$/, rawBody);
        }
        assert.equal(await statusOf(), before);
      });

      test('the host removing the bot: Stopped, and the user\'s webhook says bot.kicked (event bot.stopped)', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks (a runtime reports it through the status route with kicked: true)');
        if (subject.kickedWebhook!('probe') === null) return t.skip(`${subject.kind} does not say a bot was removed by the host`);
        // A bot of its own, launched at its join time: the others here are needed as they are.
        const start = clock.now() + 30 * 60_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Kicked', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/kck-abcd-efg' } });
        const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `kicked-${subject.kind}`, bot_config: { bot_name: 'Kicked', callback_url: 'http://127.0.0.1:9/rollcall-hooks' } } });
        const id = scheduled.body.bot_id;
        clock.set(start - 170_000);
        await rc.dispatcher.runDue();
        const { provider_bot_id: kickedBotId } = await rc.database.db.selectFrom('bots').select(['provider_bot_id']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.ok(kickedBotId);
        const inMeeting = subject.webhook!(kickedBotId, 'in_meeting');
        assert.equal((await post(inMeeting.rawBody, inMeeting.headers)).statusCode, 200);
        // A recording finished while the bot is still in the meeting says nothing of the bot.
        const unrelated = subject.unrelatedWebhook?.(kickedBotId);
        if (unrelated) {
          const acknowledged = await post(unrelated.rawBody, unrelated.headers);
          assert.equal(acknowledged.statusCode, 200, acknowledged.body);
          assert.equal((await rc.database.db.selectFrom('bots').select(['status']).where('id', '=', id).executeTakeFirstOrThrow()).status, 'InMeeting');
        }
        const kicked = subject.kickedWebhook!(kickedBotId)!;
        const answer = await post(kicked.rawBody, kicked.headers);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().status, 'Stopped');
        const payloads = (await rc.database.db.selectFrom('webhook_deliveries').select(['payload']).where('bot_id', '=', id).execute()).map((r) => JSON.parse(r.payload));
        const ended = payloads.filter((p) => p.bot_status === 'Stopped');
        assert.deepEqual(ended.map((p) => [p.event, p.bot_event, p.status_code]), [['bot.stopped', 'bot.kicked', 200]]);
      });

      test('an unknown provider bot of this deployment\'s is refused (the retry finds it); another application\'s or deployment\'s is acknowledged', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        // This deployment's bot (its metadata names a bot here), but no bot holds that provider id
        // yet: a bot waiting for its launch, whose answer may be about to be recorded...
        const start = clock.now() + 5 * 86_400_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Not yet', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/nyt-abcd-efg' } });
        const waiting = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `not-yet-${subject.kind}`, bot_config: { bot_name: 'Not yet' } } })).body.bot_id;
        const ours = subject.webhook!('not-a-bot-we-know', 'in_meeting', undefined, { rollcall_bot_id: waiting });
        const refused = await post(ours.rawBody, ours.headers);
        assert.equal(refused.statusCode, 404, refused.body);
        assert.equal(refused.json().code, 'provider_bot_not_found');
        // ...or a bot holding a provider bot while a creation for it waits for its answer (a
        // replacement whose answer is being recorded).
        const handoverBefore = await rc.database.db.selectFrom('provider_handovers').selectAll().where('bot_id', '=', botId).executeTakeFirst();
        await recordAttempts(rc.database.db, subject.kind, [{ botId, sent: { joinAtMs: clock.now(), meetingUrl: 'https://meet.google.com/abc-defg-hij', botConfig: '{}' }, key: `replacement-${subject.kind}` }], clock.now());
        const replacement = subject.webhook!('a-replacement-being-recorded', 'joining', undefined, { rollcall_bot_id: botId });
        const answer = await post(replacement.rawBody, replacement.headers);
        // The bot's handover record as it was (the attempt would pace later creations of this run).
        if (handoverBefore) await rc.database.db.updateTable('provider_handovers').set(handoverBefore).where('bot_id', '=', botId).execute();
        else await rc.database.db.deleteFrom('provider_handovers').where('bot_id', '=', botId).execute();
        assert.equal(answer.statusCode, 404, answer.body);
        assert.equal(answer.json().code, 'provider_bot_not_found');
        // Another application's bot in the same provider account (no rollcall_bot_id), or another
        // Rollcall deployment's (an id not here): refusing them would have the provider retry for
        // days and, failing that long, turn the endpoint off.
        const metadata: (Record<string, string> | null)[] = [{ tenant: 'other-app' }, { rollcall_bot_id: 'bot_of_another_deployment' }];
        // Attendee sends null for a bot made without metadata (Bot.metadata is a nullable JSON field).
        if (subject.kind === 'attendee') metadata.push(null);
        for (const shown of metadata) {
          const others = subject.webhook!('another-apps-bot', 'in_meeting', undefined, shown);
          const acknowledged = await post(others.rawBody, others.headers);
          assert.equal(acknowledged.statusCode, 200, `${JSON.stringify(shown)}: ${acknowledged.body}`);
          assert.deepEqual(acknowledged.json(), { ignored: true });
        }
      });

      test('a second provider bot made for a bot that holds another is let go of, and its reports are acknowledged', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const fake = subject.fake;
        // A creation for this bot whose answer was lost, sent again once the provider no longer
        // replayed its key: the provider made a second bot, which joins the meeting too.
        const made = await runtime.launch(launchRequest(newKey(), botId));
        assert.ok(made.ok && made.providerBotId);
        const strayId = made.providerBotId!;
        subject.putInCall!(strayId);
        const statusBefore = await statusOf();
        const report = subject.webhook!(strayId, 'in_meeting');
        const answer = await post(report.rawBody, report.headers);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().retired, true);
        assert.equal(answer.json().bot_id, botId);
        assert.equal(await statusOf(), statusBefore, 'the bot Rollcall holds is not moved by the other one');
        await rc.dispatcher.runDue();
        const stray = fake.bots.get(strayId) as { status?: string; state?: string };
        assert.match(String(stray.status ?? stray.state), /call_ended|Leaving|leaving|ended|Stopped/, 'the second bot was made to leave');
        const held = fake.bots.get(providerBotId) as { status?: string; state?: string };
        assert.doesNotMatch(String(held.status ?? held.state), /call_ended|Leaving|leaving/, 'the bot Rollcall holds stays');
        const decisions = await rc.database.db.selectFrom('bot_decisions').select(['kind', 'reason']).where('bot_id', '=', botId).execute();
        assert.ok(decisions.some((d) => d.kind === 'provider_removal_requested' && d.reason.includes(strayId)), JSON.stringify(decisions));
        assert.ok(decisions.some((d) => d.kind === 'provider_bot_removed'), JSON.stringify(decisions));
        // Its later reports are acknowledged and change nothing.
        const later = subject.webhook!(strayId, 'done');
        const again = await post(later.rawBody, later.headers);
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(again.json().retired, true);
        assert.equal(await statusOf(), statusBefore);
      });

      test('a report that waits for its bot while the launch\'s answer is being recorded (PostgreSQL) is that bot\'s, not a second bot\'s', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        if (TEST_ENGINE !== 'postgres') return t.skip('SQLite runs one write transaction at a time: the two cannot interleave');
        const start = clock.now() + 5 * 86_400_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Recording', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/rec-abcd-efg' } });
        const id = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `recording-${subject.kind}`, bot_config: { bot_name: 'Recording' } } })).body.bot_id;
        const made = await runtime.launch(launchRequest(newKey(), id));
        assert.ok(made.ok && made.providerBotId);
        const heldId = made.providerBotId!;
        // The launch's answer is written (as the dispatcher's flush does: the bot locked, its
        // provider id set) while the bot's first report comes in.
        const db = rc.database.db;
        // Transactions waiting on the test's own (other test files run beside this one on the same server).
        let holder = 0;
        const waiting = () => sessionsWaitingOn(db, holder);
        let answer!: Promise<Awaited<ReturnType<typeof post>>>;
        await db.transaction().execute(async (trx) => {
          holder = await backendPid(trx);
          await trx.selectFrom('bots').select('id').where('id', '=', id).forUpdate().execute();
          await trx.updateTable('bots').set({ provider_name: subject.kind, provider_bot_id: heldId }).where('id', '=', id).execute();
          const report = subject.webhook!(heldId, 'joining');
          answer = post(report.rawBody, report.headers);
          for (let i = 0; i < 500 && await waiting() < 1; i++) await new Promise((r) => setTimeout(r, 10));
          assert.equal(await waiting(), 1, 'the report waits for the bot');
        });
        const reply = await answer;
        assert.equal(reply.statusCode, 200, reply.body);
        assert.equal(reply.json().retired, undefined, 'not taken for a second bot');
        assert.equal(reply.json().status, 'Joining');
        const queued = await db.selectFrom('runtime_commands').select(['action']).where('bot_id', '=', id).execute();
        assert.deepEqual(queued.filter((c) => c.action === 'provider_retire'), []);
      });

      test('a provider bot made for a bot that has finished is acknowledged; one already finished is not removed', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const start = clock.now() + 5 * 86_400_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Cancelled', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/cnc-abcd-efg' } });
        const id = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `cancelled-${subject.kind}`, bot_config: { bot_name: 'Cancelled' } } })).body.bot_id;
        assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled/${id}`, { auth: user.auth })).status, 200);
        const made = await runtime.launch(launchRequest(newKey(), id));
        assert.ok(made.ok && made.providerBotId);
        const finished = subject.webhook!(made.providerBotId!, 'done');
        const answer = await post(finished.rawBody, finished.headers);
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().retired, true);
        const commandsQueued = await rc.database.db.selectFrom('runtime_commands').select(['action']).where('bot_id', '=', id).execute();
        assert.deepEqual(commandsQueued.filter((c) => c.action === 'provider_retire'), [], 'nothing to remove: it has finished');
        const decisions = (await rc.database.db.selectFrom('bot_decisions').select(['kind']).where('bot_id', '=', id).execute()).map((d) => d.kind);
        assert.ok(decisions.includes('provider_duplicate_finished'), decisions.join(', '));
      });

      test('a bot refused at the waiting room, then done (as the provider ends every bot): the refusal stands, the done is acknowledged and sends nothing', async (t) => {
        if (!subject.fake || subject.refusedWebhook!('probe') === null) return t.skip('no later ending after a refusal');
        const start = clock.now() + 30 * 60_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Refused', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/rfs-abcd-efg' } });
        const id = (await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `refused-${subject.kind}`, bot_config: { bot_name: 'Refused' } } })).body.bot_id;
        clock.set(start - 170_000);
        await rc.dispatcher.runDue();
        const providerId = (await rc.database.db.selectFrom('bots').select(['provider_bot_id']).where('id', '=', id).executeTakeFirstOrThrow()).provider_bot_id!;
        const status = async () => (await rc.request('GET', `/api/v1/bots/${id}`, { auth: user.auth })).body.status;
        const joining = subject.webhook!(providerId, 'joining');
        assert.equal((await post(joining.rawBody, joining.headers)).statusCode, 200);
        const refused = subject.refusedWebhook!(providerId)!;
        assert.equal((await post(refused.rawBody, refused.headers)).statusCode, 200);
        assert.equal(await status(), 'Denied');
        const queued = async () => (await rc.database.db.selectFrom('webhook_deliveries').select('id').where('bot_id', '=', id).execute()).length;
        const before = await queued();
        const done = subject.webhook!(providerId, 'done');
        const answer = await post(done.rawBody, done.headers);
        // A 409 here would be retried by the provider for a day (Recall through Svix).
        assert.equal(answer.statusCode, 200, answer.body);
        assert.deepEqual({ ...(answer.json() as Record<string, unknown>), provider_status: undefined }, { bot_id: id, status: 'Denied', previous_status: 'Denied', changed: false, already_ended: true, provider_status: undefined });
        assert.equal(await status(), 'Denied');
        assert.equal(await queued(), before, 'no webhook for the acknowledged ending');
      });

      test('an illegal transition is refused and changes nothing', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const done = subject.webhook!(providerBotId, 'done');
        assert.equal((await post(done.rawBody, done.headers)).statusCode, 200);
        assert.equal(await statusOf(), 'Done');
        const events = (await outbox()).length;
        // Sent after the done (by the provider's clock), so not read as a late delivery of an earlier report.
        const fake = subject.fake as { now: () => number };
        const clockBefore = fake.now;
        fake.now = () => clockBefore() + 60_000;
        const back = subject.webhook!(providerBotId, 'joining');
        fake.now = clockBefore;
        const answer = await post(back.rawBody, back.headers);
        assert.equal(answer.statusCode, 409, answer.body);
        assert.equal(answer.json().code, 'invalid_status_transition');
        assert.equal(await statusOf(), 'Done');
        assert.equal((await outbox()).length, events);
      });

      test('a launched bot whose meeting is deleted: the stop command reaches the provider', async (t) => {
        if (!subject.fake) return t.skip('no provider bot to stop');
        const start = clock.now() + 30 * 60_000;
        const event = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Stop', start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), meeting_url: 'https://meet.google.com/stp-abcd-efg' } });
        const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${event.body.id}`, { auth: user.auth, body: { deduplication_key: `stop-${subject.kind}`, bot_config: { bot_name: 'Stop' } } });
        const id = scheduled.body.bot_id;
        clock.set(start - 170_000);
        await rc.dispatcher.runDue();
        const row = await rc.database.db.selectFrom('bots').select(['provider_bot_id']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.ok(row.provider_bot_id);
        assert.equal((await rc.request('DELETE', `/api/v1/calendar/events/${event.body.id}`, { auth: user.auth })).status, 200);
        await rc.dispatcher.runDue();
        const bot = subject.fake.bots.get(row.provider_bot_id!) as { status?: string; state?: string };
        // Launched at its join time, the bot is joining: the provider refuses a delete, so it is made to leave.
        assert.match(String(bot.status ?? bot.state), /call_ended|Leaving|leaving/);
        const decisions = (await rc.database.db.selectFrom('bot_decisions').select(['kind']).where('bot_id', '=', id).execute()).map((d) => d.kind);
        assert.ok(decisions.includes('stop_delivered'), decisions.join(', '));
        assert.ok(decisions.includes('provider_bot_recorded'));
      });

      test('a webhook for another provider is refused', async (t) => {
        if (!subject.fake) return t.skip('no provider webhooks');
        const other: Subject['kind'] = subject.kind === 'recall' ? 'attendee' : 'recall';
        const answer = await post('{}', {}, other);
        assert.equal(answer.statusCode, 404);
        assert.equal(answer.json().code, 'provider_not_configured');
      });
    });

    test('no log line carries the API key or the webhook secret', () => {
      const text = log.lines.join('');
      assert.ok(!text.includes(API_KEY), 'API key in the log');
      for (const secret of [RECALL_SECRET, MEETSTREAM_SECRET, ATTENDEE_SECRET]) assert.ok(!text.includes(secret), 'webhook secret in the log');
    });
  });
}

function joinAtOf(fake: ProviderFake, id: string): string | null {
  const bot = fake.bots.get(id) as { join_at: string | null };
  return bot.join_at;
}
