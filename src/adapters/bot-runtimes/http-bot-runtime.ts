// BOT_RUNTIME=http: launch requests and commands are POSTed as JSON to one URL (the `action`
// field tells them apart), signed with Standard Webhooks headers.
import { Pool } from 'undici';
import { Webhook } from 'standardwebhooks';
import { parseRetryAfterMs } from '../outbound-http.ts';
import type { BotCommand, BotRuntime, LaunchRequest, RuntimeOutcome } from './bot-runtime.ts';

export class HttpBotRuntime implements BotRuntime {
  readonly name = 'http';
  readonly canLaunch = true;
  // The runtime behind the URL decides what a launch, an update or a stop means, and reports status
  // through the status route with the per-launch token: nothing here to schedule, leave or verify.
  readonly scheduling = null;
  readonly live = null;
  readonly statusWebhooks = null;
  readonly #signer: Webhook | null;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  // Launches come in bursts at the top of the hour: a pool of kept-open connections to the one
  // runtime origin. undici's pool costs about a third less CPU per request than node:http, and
  // the client side of the launch is what limits a burst (see docs/performance.md).
  readonly #pool: Pool;
  readonly #path: string;

  constructor(options: { url: string; secret: string | null; timeoutMs: number; now: () => number }) {
    const target = new URL(options.url);
    this.#pool = new Pool(target.origin, { connections: 128, keepAliveTimeout: 30_000 });
    this.#path = `${target.pathname}${target.search}`;
    this.#signer = options.secret ? new Webhook(toSigningSecret(options.secret)) : null;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
  }

  launch(request: LaunchRequest): Promise<RuntimeOutcome> {
    return this.#post(request, request.idempotency_key);
  }

  send(command: BotCommand): Promise<RuntimeOutcome> {
    return this.#post(command, command.idempotency_key);
  }

  async #post(message: LaunchRequest | BotCommand, idempotencyKey: string): Promise<RuntimeOutcome> {
    const body = JSON.stringify(message);
    const nowMs = this.#now();
    const headers: Record<string, string> = { 'idempotency-key': idempotencyKey };
    if (this.#signer) {
      headers['webhook-id'] = idempotencyKey;
      headers['webhook-timestamp'] = Math.floor(nowMs / 1000).toString();
      headers['webhook-signature'] = this.#signer.sign(idempotencyKey, new Date(nowMs), body);
    }
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    try {
      const response = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.body.dump();
      status = response.statusCode;
      responseHeaders = response.headers;
    } catch (error) {
      return { ok: false, failure: 'transient', retryAfterMs: null, message: `runtime unreachable: ${(error as Error).message}` };
    }
    if (status >= 200 && status < 300) return { ok: true, alreadyDone: false };
    // 409: the runtime already has this launch (or command): it counts as done.
    if (status === 409) return { ok: true, alreadyDone: true };
    const wait = parseRetryAfterMs(responseHeaders, nowMs);
    if (status === 429) return { ok: false, failure: 'rate_limited', retryAfterMs: wait, message: 'runtime answered 429' };
    return { ok: false, failure: 'transient', retryAfterMs: wait, message: `runtime answered ${status}` };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/** Standard Webhooks secrets are base64 with a whsec_ prefix; accept a plain string too. */
export function toSigningSecret(secret: string): string {
  return secret.startsWith('whsec_') ? secret : `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}
