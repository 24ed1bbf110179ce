// BOT_RUNTIME=http: launch requests and commands are POSTed as JSON to one URL (the `action`
// field tells them apart), signed with Standard Webhooks headers.
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { Webhook } from 'standardwebhooks';
import { settledWithin } from '../../lib/deadline.ts';
import { parseRetryAfterMs } from '../outbound-http.ts';
import type { BotCommand, BotRuntime, LaunchRequest, PreparedLaunch, RuntimeOutcome } from './bot-runtime.ts';

/** The body and headers of a launch, encoded and signed when its row was claimed. */
interface EncodedLaunch extends PreparedLaunch {
  readonly body: string;
  readonly headers: Record<string, string>;
}

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

  constructor(options: { url: string; secret: string | null; timeoutMs: number; now: () => number; connections?: number }) {
    const target = new URL(options.url);
    // Connecting is bounded by the same timeout (undici's own default is 10 s).
    this.#pool = new Pool(target.origin, { connections: options.connections ?? POOL_CONNECTIONS, keepAliveTimeout: 30_000, connectTimeout: Math.min(options.timeoutMs, 10_000) });
    this.#path = `${target.pathname}${target.search}`;
    this.#signer = options.secret ? new Webhook(toSigningSecret(options.secret)) : null;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now;
  }

  /**
   * Encodes and signs a launch ahead of its due time: at the top of the hour thousands are sent at
   * once, and JSON encoding plus an HMAC per request is work that can be done before. The
   * signature's timestamp is then up to a few seconds early, well inside the five minutes Standard
   * Webhooks receivers tolerate.
   */
  prepareLaunch(request: LaunchRequest): EncodedLaunch {
    return { request, ...this.#encode(request, request.idempotency_key) };
  }

  launch(request: LaunchRequest, prepared?: PreparedLaunch): Promise<RuntimeOutcome> {
    const encoded = prepared && (prepared as EncodedLaunch).request === request && 'body' in prepared ? prepared as EncodedLaunch : this.prepareLaunch(request);
    return this.#post(encoded.body, encoded.headers);
  }

  send(command: BotCommand): Promise<RuntimeOutcome> {
    const { body, headers } = this.#encode(command, command.idempotency_key);
    return this.#post(body, headers);
  }

  #encode(message: LaunchRequest | BotCommand, idempotencyKey: string): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify(message);
    const nowMs = this.#now();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey };
    if (this.#signer) {
      headers['webhook-id'] = idempotencyKey;
      headers['webhook-timestamp'] = Math.floor(nowMs / 1000).toString();
      headers['webhook-signature'] = this.#signer.sign(idempotencyKey, new Date(nowMs), body);
    }
    return { body, headers };
  }

  /**
   * One POST through undici's dispatch(), the layer its request() is built on. At the top of the
   * hour the client's CPU per launch is a large part of what limits a burst, and request() spends
   * some of it on what a launch does not need: a readable stream for each response body and a
   * promise around it. Measured on 10,000 prepared launches with 256 in flight (2 cores, the first
   * 10,000 of a fresh process, runs alternated): an AbortSignal per request 88-111 µs of CPU per
   * launch; request() with undici's own timeouts 73-90 µs; dispatch() 61-79 µs. Warm, later
   * rounds are 31-62 µs either way. The answer is the status line and headers; the body is read
   * and dropped. dispatch() is undici's lowest-level API and may change between its major
   * versions: http-bot-runtime.test.ts covers each answer and both timeouts.
   *
   * Each exchange is bounded by the timeout from the moment its request goes out on a connection:
   * the answer's status and the body after it. undici bounds the status on its own, but its
   * bodyTimeout is a pause between two chunks, so a body that drips a byte a second never reaches
   * it; one timer per launch covers that. When it fires, a launch without a status is a transient
   * failure, and a body still coming after its status is cut: its connection is closed rather than
   * held, so that a runtime that never finishes its answers cannot keep the pool's connections
   * from the rest of a burst. The wait for a free connection is not counted: every connection is
   * free again within the timeout, and the dispatcher keeps at most twice the pool's connections
   * in flight, so a launch waits at most about one timeout for one. Counted, it made launches
   * behind a slow runtime (answers in 3 s, a 5 s timeout) fail after they were sent, and go again.
   */
  #post(body: string, headers: Record<string, string>): Promise<RuntimeOutcome> {
    const nowMs = this.#now();
    // Settled by the final status line, or by an error or the deadline before one (a promise
    // settles once: an error after the status changes nothing).
    return new Promise((resolve) => {
      let bodyBytes = 0;
      let deadline: NodeJS.Timeout | undefined;
      const handler: Dispatcher.DispatchHandler = {
        // On a connection now: from here the answer, its body included, has the timeout.
        onRequestStart: (controller) => {
          deadline = setTimeout(() => {
            const error = new Error(`no complete answer within ${this.#timeoutMs} ms`);
            resolve(unreachable(error));
            controller.abort(error);
          }, this.#timeoutMs);
        },
        // The final status is the answer, settled at once: a body that is slow, endless or
        // dripping never holds up the launch (a 1xx is only news that one is coming).
        onResponseStart: (_controller, statusCode, answerHeaders) => {
          if (statusCode >= 200) resolve(outcomeOf(statusCode, answerHeaders, nowMs));
        },
        // The body is read and dropped; one larger than anything a runtime should answer ends
        // the connection instead of being read on.
        onResponseData: (start, chunk) => {
          bodyBytes += chunk.length;
          if (bodyBytes > MAX_ANSWER_BODY_BYTES) start.abort(new Error('answer body too large'));
        },
        onResponseEnd: () => clearTimeout(deadline),
        // Before the final status: unreachable, refused, reset, or no answer within the timeout.
        onResponseError: (_controller, error) => {
          clearTimeout(deadline);
          resolve(unreachable(error));
        },
      };
      try {
        this.#pool.dispatch({ path: this.#path, method: 'POST', headers, body, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs }, handler);
      } catch (error) {
        clearTimeout(deadline);
        resolve(unreachable(error as Error));
      }
    });
  }

  /** Waits for requests in flight (a runtime still sending an answer's body) up to a deadline, then cuts them. */
  async close(): Promise<void> {
    if (!(await settledWithin(this.#pool.close().then(() => true), CLOSE_DEADLINE_MS, false))) await this.#pool.destroy();
  }
}

/** Connections kept open to the runtime (tests use fewer). */
const POOL_CONNECTIONS = 128;

/** A runtime's answer is a status; its body, if any, is short. */
const MAX_ANSWER_BODY_BYTES = 64 * 1024;

/** How long close() lets answers in flight finish. */
const CLOSE_DEADLINE_MS = 2000;

function unreachable(error: Error): RuntimeOutcome {
  return { ok: false, failure: 'transient', retryAfterMs: null, message: `runtime unreachable: ${error.message}` };
}

/** What the runtime's answer means for the launch (or command). */
function outcomeOf(status: number, headers: IncomingHttpHeaders, nowMs: number): RuntimeOutcome {
  if (status >= 200 && status < 300) return { ok: true, alreadyDone: false };
  // 409: the runtime already has this launch (or command): it counts as done.
  if (status === 409) return { ok: true, alreadyDone: true };
  const wait = parseRetryAfterMs(headers, nowMs);
  if (status === 429) return { ok: false, failure: 'rate_limited', retryAfterMs: wait, message: 'runtime answered 429' };
  return { ok: false, failure: 'transient', retryAfterMs: wait, message: `runtime answered ${status}` };
}

/** Standard Webhooks secrets are base64 with a whsec_ prefix; accept a plain string too. */
export function toSigningSecret(secret: string): string {
  return secret.startsWith('whsec_') ? secret : `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}
