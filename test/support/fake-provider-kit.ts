// What the three bot provider fakes share: a real HTTP server on 127.0.0.1 that records every
// request, checks the `Authorization: Token <key>` header all three providers use, lets a test
// inject failures (an outage, a 429) ahead of the fake's own rules, and posts webhooks.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  /** When the fake received it, on the fake's clock. */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: any;
  /** The status the fake answered with, and its headers. */
  status?: number;
  answerHeaders?: Record<string, string>;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface InjectedFailure {
  /** Only requests whose "METHOD /path" matches. */
  match: RegExp;
  answer: FakeAnswer;
  /** How many matching requests get it. */
  times: number;
}

export abstract class FakeProviderServer {
  readonly requests: FakeRequest[] = [];
  /** The fake's clock; tests on a ManualClock point it there. */
  now: () => number = () => Date.now();
  readonly #failures: InjectedFailure[] = [];
  readonly #holds: { match: RegExp; released: Promise<void>; inTransit: boolean }[] = [];
  #server: Server | null = null;
  #url = '';

  readonly apiKey: string;

  constructor(apiKey: string) {
    this.apiKey = apiKey;
  }

  /** The provider answers `answer` to the next `times` requests matching `match`. */
  failNext(match: RegExp, answer: FakeAnswer, times = 1): void {
    this.#failures.push({ match, answer, times });
  }

  /**
   * The next request matching `match` is received (and recorded) but answered only once the
   * returned function is called: a test can act while the request is in flight. Held at the
   * provider, running (by default), or `inTransit`: still on its way, reaching the provider only
   * when released.
   */
  holdNext(match: RegExp, options: { inTransit?: boolean } = {}): () => void {
    let release!: () => void;
    this.#holds.push({ match, released: new Promise<void>((resolve) => { release = resolve; }), inTransit: options.inTransit === true });
    return release;
  }

  protected abstract handle(request: FakeRequest): FakeAnswer;

  /** Called as a request arrives, before a hold delays its answer (what a provider decides on receipt). */
  protected onArrival(_request: FakeRequest): void {}

  /** Called once a request is answered, an injected failure included. */
  protected onAnswered(_request: FakeRequest): void {}

  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = text;
        }
        const url = new URL(req.url ?? '/', 'http://fake');
        const request: FakeRequest = { at: this.now(), method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
        this.requests.push(request);
        const index = this.#holds.findIndex((h) => h.match.test(`${request.method} ${request.path}`));
        const hold = index < 0 ? null : this.#holds.splice(index, 1)[0]!;
        if (!hold?.inTransit) this.onArrival(request);
        void (hold?.released ?? Promise.resolve()).then(() => {
          if (hold?.inTransit) this.onArrival(request);
          const answer = this.#answer(request);
          this.onAnswered(request);
          request.status = answer.status;
          request.answerHeaders = answer.headers ?? {};
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
        });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  /**
   * The answer to a request without the right key. Recall: 401 for an unauthenticated request
   * (docs.recall.ai/reference/authentication). Attendee: a Django REST Framework token scheme
   * (its openapi.yml), which answers 401 {"detail": "Invalid token."}. MeetStream overrides this.
   */
  protected refuseKey(_authorization: string | undefined): FakeAnswer {
    return { status: 401, body: { detail: 'Invalid token.' } };
  }

  #answer(request: FakeRequest): FakeAnswer {
    const failure = this.#failures.find((f) => f.times > 0 && f.match.test(`${request.method} ${request.path}`));
    if (failure) {
      failure.times--;
      return failure.answer;
    }
    // All three authenticate with "Authorization: Token <api key>"; how a bad key is refused is
    // each provider's own (refuseKey).
    if (request.headers.authorization !== `Token ${this.apiKey}`) return this.refuseKey(request.headers.authorization);
    return this.handle(request);
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    this.#server = null;
  }
}

/** Posts a webhook the way a provider does: raw body, its headers. Answers the receiver's status and body. */
export async function postWebhook(url: string, rawBody: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

let counter = 0;
export function fakeId(prefix: string): string {
  counter++;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(4, '0')}`;
}
