// How calendar adapters make HTTP requests: through the one outbound client
// (src/adapters/outbound-http.ts), with its failures turned into the provider port's closed set.
// Feed URLs come from users and are sent `guarded`; the Google and Microsoft endpoints are
// operator settings (tests point them at local fakes) and are not.
import type { IncomingHttpHeaders } from 'node:http';
import { CalendarProviderError, type ProviderFailure } from './calendar-provider.ts';
import { OutboundError, parseRetryAfterMs, type ByteFilter, type OutboundHttp } from '../outbound-http.ts';

export { parseRetryAfterMs };

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Longest body read; a longer answer fails as `permanent`. (Default: 10 MiB) */
  maxBytes?: number;
  /** Redirects to follow, each hop checked like the first. (Default: 0, a 3xx is an answer) */
  redirects?: number;
  /** The URL came from a user (a feed URL): the outbound guard checks every address dialled. */
  guarded?: boolean;
  /** What the body's bytes pass through before they are decoded (see OutboundRequest). */
  byteFilter?: () => ByteFilter;
  /** Ends this request early when aborted (the stop of its group of lookups: sendForLookup), beside the sync's own signal. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body in the pieces it was decoded in, where the transport kept them (see OutboundResponse). */
  readonly bodyPieces?: readonly string[];
}

export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** The failure kind of an outbound failure: the guard's verdicts and bad URLs do not heal by retrying soon. */
export function failureFromOutbound(error: OutboundError): ProviderFailure {
  switch (error.kind) {
    case 'blocked':
    case 'invalid_url':
    case 'too_many_redirects':
    case 'undecodable':
      return { kind: 'permanent', message: error.message };
    case 'timeout':
    case 'aborted':
      return { kind: 'transient', message: error.message };
    case 'unreachable':
      // An https:// (or webcal://, read as https://) address whose server answers in plain http:
      // the address is wrong, and no wait mends it.
      if (hasCode(error, 'ERR_SSL_WRONG_VERSION_NUMBER')) return { kind: 'permanent', message: 'the server at this address does not speak https (it answered in plain http): give the feed\'s http:// address' };
      return { kind: 'transient', message: error.message };
  }
}

function hasCode(error: Error, code: string): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === code) return true;
  }
  return false;
}

/**
 * An HttpSend over the outbound client; `signal`, read as each request starts, can end it early,
 * as can the request's own (HttpRequest.signal).
 */
export function createHttpSend(http: OutboundHttp, signal?: () => AbortSignal): HttpSend {
  return async (request) => {
    const max = request.maxBytes ?? DEFAULT_MAX_BYTES;
    const ends = [signal?.(), request.signal].filter((s): s is AbortSignal => s !== undefined);
    let response;
    try {
      response = await http.request({
        method: request.method,
        url: request.url,
        headers: { 'user-agent': 'Rollcall-Calendar-Sync/1', ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        timeoutMs: request.timeoutMs,
        maxBytes: max,
        redirects: request.redirects ?? 0,
        guarded: request.guarded === true,
        // A read may reach the provider twice (GET is idempotent, RFC 9110 section 9.2.2): one lost
        // on a kept-alive connection the server closed as it arrived (its idle timeout ran out,
        // RFC 9112 section 9.3.1) is sent again at once rather than failing the sync's read or
        // ending a round's part. Writes (a subscription, a channel's stop) are not.
        ...(request.method === 'GET' ? { resendOnClosedReuse: true } : {}),
        ...(request.byteFilter ? { byteFilter: request.byteFilter } : {}),
        ...(ends.length > 0 ? { signal: ends.length === 1 ? ends[0]! : AbortSignal.any(ends) } : {}),
      });
    } catch (error) {
      if (error instanceof OutboundError) throw new CalendarProviderError(failureFromOutbound(error));
      throw error;
    }
    if (response.isTruncated) throw new CalendarProviderError({ kind: 'permanent', message: `answer larger than ${max} bytes` });
    return response;
  };
}

/** When a provider says "slow down" without saying for how long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * The failure kind of an HTTP answer that is not a success, for the statuses every provider
 * shares. Adapters look at their own error bodies first (Google's 403 rateLimitExceeded, Graph's
 * syncStateNotFound) and fall back to this.
 */
export function failureFromStatus(response: HttpResponse, nowMs: number, what: string): ProviderFailure {
  const { status } = response;
  const retryAfterMs = parseRetryAfterMs(response.headers, nowMs);
  const message = `${what}: HTTP ${status}`;
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS, message };
  if (status === 401) return { kind: 'auth_revoked', message };
  if (status === 404 || status === 410) return { kind: 'not_found', message };
  if (status >= 500 || status === 408) {
    // A 503 that names a time is a request to wait, which the sync honours like a 429.
    return retryAfterMs !== null ? { kind: 'rate_limited', retryAfterMs, message } : { kind: 'transient', message };
  }
  return { kind: 'permanent', message };
}

/**
 * A 401 to an access token the token endpoint has just issued. The grant is alive (a revoked one
 * fails the refresh itself, with invalid_grant), so it is a hiccup to retry, not lost access:
 * Google's errors guide sends the user through consent only when the refresh fails, and public
 * reports show such 401s passing on a retry (google-api-nodejs-client issue 2665,
 * google-api-ruby-client issue 379).
 */
export function refusedFreshToken(provider: string): CalendarProviderError {
  return new CalendarProviderError({ kind: 'transient', message: `${provider}: HTTP 401 to an access token just issued` }, { isRefusal: true });
}

/**
 * Whether an HTTP answer refuses the call: a 4xx, after which the provider did nothing. A 5xx is
 * no refusal, whatever its Retry-After: a gateway or a server can fail after the work was done.
 */
export function isRefusalStatus(status: number): boolean {
  return status >= 400 && status < 500;
}

/** Parses a JSON answer, or fails as `transient` (a proxy's HTML error page, a cut-off body). */
export function parseJson<T>(response: HttpResponse, what: string): T {
  try {
    return JSON.parse(response.body) as T;
  } catch {
    throw new CalendarProviderError({ kind: 'transient', message: `${what}: the answer is not JSON (HTTP ${response.status})` });
  }
}

export function isSuccess(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}
