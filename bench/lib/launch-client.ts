// The launch client of everything that is not a Rollcall server (the peers' handlers and the raw
// limit): Rollcall's own HttpBotRuntime, built from the same settings the composition root reads,
// so that the client library (an undici Pool of 128 kept-open connections), the timeout, the
// headers and the Standard Webhooks signature are exactly what a Rollcall server sends with.
import { randomBytes } from 'node:crypto';
import { HttpBotRuntime } from '../../src/adapters/bot-runtimes/http-bot-runtime.ts';
import type { LaunchRequest } from '../../src/adapters/bot-runtimes/bot-runtime.ts';
import { parseConfig } from '../../src/config.ts';
import type { BotEventRow, BotRow, ScheduleRow } from '../../src/db/schema.ts';
import { buildLaunchRequest } from '../../src/scheduler/dispatcher.ts';
import type { LaunchJob } from './seed.ts';

/**
 * One signing secret per benchmark run, given to every Rollcall server and to this client alike:
 * a deployment with BOT_RUNTIME=http signs its launches, so every launch measured here is signed.
 */
export const RUNTIME_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/** The settings a Rollcall server gets to launch into the no-op runtime at `url`. */
export function runtimeEnv(url: string): Record<string, string> {
  return { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: url, BOT_RUNTIME_SECRET: RUNTIME_SECRET };
}

/** The same construction as src/container.ts, from the same parsed settings (defaults included). */
export function createLaunchClient(url: string): HttpBotRuntime {
  const config = parseConfig({ LOG_LEVEL: 'silent', ...runtimeEnv(url) });
  return new HttpBotRuntime({ url: config.botRuntimeUrl!, secret: config.botRuntimeSecret, timeoutMs: config.botRuntimeTimeoutMs, now: () => Date.now() });
}

/** The status_url base in the peers' launch requests: as long as a Rollcall server's own. */
const PEER_PUBLIC_URL = 'http://127.0.0.1:40000';

/** The launch request Rollcall's dispatcher would send for this job's bot, by the same function. */
export function launchRequestOf(job: LaunchJob): LaunchRequest {
  return buildLaunchRequest(job.schedule as ScheduleRow, job.bot as BotRow, job.links as BotEventRow[], PEER_PUBLIC_URL);
}
