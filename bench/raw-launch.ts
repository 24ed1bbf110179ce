// The limit: how fast one Node process on this machine can POST launch requests to the no-op
// runtime through the client Rollcall launches with (no database, no decision). N prepared launch
// requests (the bodies Rollcall builds for the seeded bots) go out as fast as the client takes
// them; the rate is N over the time from the first call to the last arrival at the runtime, the
// same end point as a burst's "all launched". Best of several attempts: it is a ceiling.
import { createLaunchClient, launchRequestOf } from './lib/launch-client.ts';
import { startNoopRuntime, type RuntimeMode } from './lib/noop-runtime.ts';
import { launchJob } from './lib/seed.ts';
import { round, waitUntil } from './lib/stats.ts';

export interface RawLaunchAttempt {
  /** Launches kept in flight at once (0: all N handed to the client at once). */
  in_flight: number;
  per_s: number;
  /** First call until the last arrival at the runtime. */
  ms: number;
}

export interface RawLaunchRate {
  n: number;
  /** The best attempt's rate. */
  per_s: number;
  /** N / per_s: the best attempt's time, the shortest in which this machine got N launches to the runtime. */
  n_over_rate_ms: number;
  attempts: RawLaunchAttempt[];
  /** Every request carried a Standard Webhooks signature, as Rollcall's do. */
  signed: boolean;
  runtime: RuntimeMode;
}

/**
 * Ways of feeding the client, each tried: at most 256 launches in flight (the dispatcher's own
 * bound on launches in flight), and all N at once (the pool queues what its 128 connections cannot
 * take yet). The limit is the better of them.
 */
const IN_FLIGHT = [256, 0] as const;

export async function measureRawLaunchRate(n: number, options: { runtime: RuntimeMode; rounds: number; log: (line: string) => void }): Promise<RawLaunchRate> {
  const runtime = await startNoopRuntime(options.runtime);
  const client = createLaunchClient(runtime.url('/launch'));
  try {
    const now = Date.now();
    const requests = Array.from({ length: n }, (_, i) => launchRequestOf(launchJob('usr_bench', i, now)));
    // Warm-up: JIT, and the pool's connections opened, so that the attempts measure the steady ceiling.
    await sendAll(client, requests.slice(0, Math.min(n, 1000)), 256);
    const attempts: RawLaunchAttempt[] = [];
    let signed = true;
    for (let round_ = 0; round_ < options.rounds; round_++) {
      for (const inFlight of IN_FLIGHT) {
        await runtime.reset();
        const started = Date.now();
        const failures = await sendAll(client, requests, inFlight);
        await waitUntil(async () => (await runtime.count()) >= n, 10_000, 5);
        const seen = await runtime.snapshot();
        if (failures > 0 || seen.arrivals.length !== n) throw new Error(`raw launch attempt: ${failures} failed, ${seen.arrivals.length} of ${n} arrived`);
        signed &&= seen.signed === seen.requests;
        const last = Math.max(...seen.arrivals.map(([, at]) => at));
        const ms = Math.max(1, last - started);
        attempts.push({ in_flight: inFlight, per_s: round((n / ms) * 1000, 0), ms });
      }
    }
    const best = attempts.reduce((a, b) => (b.ms < a.ms ? b : a));
    options.log(`  raw launch rate: ${attempts.map((a) => `${a.per_s}/s (${a.in_flight || 'all'} in flight)`).join(', ')}`);
    return { n, per_s: best.per_s, n_over_rate_ms: best.ms, attempts, signed, runtime: runtime.mode };
  } finally {
    await client.close();
    await runtime.stop();
  }
}

/** Sends every request, keeping at most `inFlight` outstanding (0: no bound); answers the failures. */
async function sendAll(client: ReturnType<typeof createLaunchClient>, requests: readonly Parameters<ReturnType<typeof createLaunchClient>['launch']>[0][], inFlight: number): Promise<number> {
  let failures = 0;
  const count = (outcome: { ok: boolean }) => {
    if (!outcome.ok) failures++;
  };
  if (inFlight === 0) {
    await Promise.all(requests.map((r) => client.launch(r).then(count)));
    return failures;
  }
  let next = 0;
  const lane = async () => {
    while (next < requests.length) count(await client.launch(requests[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, requests.length) }, lane));
  return failures;
}
