// BOT_RUNTIME=http: the launch request is POSTed as JSON, signed with Standard Webhooks headers.
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { postJson, retryAfterMs } from '../http-post.ts';
import type { BotRuntime, LaunchOutcome, LaunchRequest } from './bot-runtime.ts';

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

  async launch(request: LaunchRequest): Promise<LaunchOutcome> {
    const body = JSON.stringify(request);
    const nowMs = this.#now();
    const headers: Record<string, string> = { 'idempotency-key': request.idempotency_key };
    if (this.#signer) {
      const timestamp = new Date(nowMs);
      headers['webhook-id'] = request.idempotency_key;
      headers['webhook-timestamp'] = Math.floor(nowMs / 1000).toString();
      headers['webhook-signature'] = this.#signer.sign(request.idempotency_key, timestamp, body);
    }
    const result = await postJson(this.#url, body, { headers, timeoutMs: this.#timeoutMs, agent: this.#agent });
    if (result.status !== null && result.status >= 200 && result.status < 300) return { ok: true, alreadyLaunched: false };
    if (result.status === 409) return { ok: true, alreadyLaunched: true };
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
