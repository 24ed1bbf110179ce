// BOT_RUNTIME=http: launch requests and commands are POSTed as JSON to one URL (the `action`
// field tells them apart), signed with Standard Webhooks headers.
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { postJson, retryAfterMs } from '../http-post.ts';
import type { BotCommand, BotRuntime, LaunchRequest, RuntimeOutcome } from './bot-runtime.ts';

export class HttpBotRuntime implements BotRuntime {
  readonly name = 'http';
  readonly canLaunch = true;
  readonly #url: string;
  readonly #signer: Webhook | null;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  // Launches come in bursts at the top of the hour: keep connections open between them.
  readonly #agent = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };

  constructor(options: { url: string; secret: string | null; timeoutMs: number; now: () => number }) {
    this.#url = options.url;
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
    const result = await postJson(this.#url, body, { headers, timeoutMs: this.#timeoutMs, agent: this.#agent });
    if (result.status !== null && result.status >= 200 && result.status < 300) return { ok: true, alreadyDone: false };
    // 409: the runtime already has this launch (or command): it counts as done.
    if (result.status === 409) return { ok: true, alreadyDone: true };
    const wait = retryAfterMs(result.headers, nowMs);
    if (result.status === 429) return { ok: false, failure: 'rate_limited', retryAfterMs: wait, message: 'runtime answered 429' };
    return { ok: false, failure: 'transient', retryAfterMs: wait, message: result.status === null ? `runtime unreachable: ${result.error}` : `runtime answered ${result.status}` };
  }

  close(): void {
    this.#agent.http.destroy();
    this.#agent.https.destroy();
  }
}

/** Standard Webhooks secrets are base64 with a whsec_ prefix; accept a plain string too. */
export function toSigningSecret(secret: string): string {
  return secret.startsWith('whsec_') ? secret : `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}
