// The one way the bot provider adapters reach their provider, and the translation of its answers
// into the runtime outcomes the dispatcher knows. Every call goes through the service's one
// outbound HTTP client (src/adapters/outbound-http.ts), unguarded: the provider's base URL is the
// operator's setting (a self-hosted Attendee may well live on a private network), not a user's.
import { OutboundError, parseRetryAfterMs as retryAfterMs, type OutboundHttp } from '../outbound-http.ts';
import type { RuntimeOutcome, ScheduledBotChange } from '../bot-runtimes/bot-runtime.ts';
import { reasonPrefix } from '../../domain/reason-codes.ts';

export interface ProviderRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  timeoutMs: number;
}

export interface ProviderAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

/**
 * mayHaveArrived: the request may have reached the provider and be running there still (no answer
 * in time, or the connection dropped after it was sent); false when no connection was made.
 */
export type ProviderResult = { ok: true; answer: ProviderAnswer } | { ok: false; error: string; mayHaveArrived: boolean };

/** Failures to connect at all: the request never left. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function mayHaveArrived(error: unknown): boolean {
  if (error instanceof OutboundError && error.kind === 'blocked') return false;
  for (let e = error; e instanceof Error; e = e.cause) {
    if (NOT_SENT_CODES.has(String((e as NodeJS.ErrnoException).code))) return false;
  }
  return true;
}

/** Longest answer body kept; provider answers are small JSON documents. */
const MAX_ANSWER_BYTES = 256 * 1024;

export async function sendProviderRequest(http: OutboundHttp, req: ProviderRequest): Promise<ProviderResult> {
  try {
    const response = await http.request({
      method: req.method,
      url: req.url,
      headers: { accept: 'application/json', ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      timeoutMs: req.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      guarded: false,
    });
    let json: unknown = null;
    if (response.body.length > 0) {
      try {
        json = JSON.parse(response.body);
      } catch {
        // not JSON (an HTML error page from a proxy, say)
      }
    }
    return { ok: true, answer: { status: response.status, headers: response.headers, json, text: response.body } };
  } catch (error) {
    return { ok: false, error: (error as Error).message, mayHaveArrived: mayHaveArrived(error) };
  }
}

/**
 * The common part of every provider's answer mapping. 401 and 403 are permanent and say so, so
 * that a revoked key shows on the bot instead of being retried for an hour; 429 waits for its
 * Retry-After; 408, 409 (a request with the same idempotency key still in flight), 425 and 5xx are
 * worth another try; any other 4xx is the provider refusing this request for good.
 */
/**
 * Providers whose 403 is not about the API key: Recall answers a bad key with 401 and 403 when its
 * web application firewall blocks a request, "usually due to an issue with your payload or your
 * server's IP reputation" (https://docs.recall.ai/reference/errors). Named a refused key, it would
 * send the operator to check a key that works.
 */
const FORBIDDEN_IS_FIREWALL: ReadonlySet<string> = new Set(['recall']);

/** How long a request refused for the account's credit (402) waits before it is tried again. */
const ACCOUNT_RETRY_MS = 60_000;

export function outcomeOfAnswer(provider: string, what: string, result: ProviderResult, nowMs: number): RuntimeOutcome {
  if (!result.ok) return { ok: false, failure: 'transient', retryAfterMs: null, message: `${provider} unreachable during ${what}: ${result.error}` };
  const { status, headers } = result.answer;
  if (status >= 200 && status < 300) return { ok: true, alreadyDone: false };
  const detail = describeError(result.answer);
  if (status === 403 && FORBIDDEN_IS_FIREWALL.has(provider)) {
    // Handled as a refused key (the instance not ready, a scheduled bot kept rather than replaced
    // by a creation the firewall would refuse too), under its own name and reason.
    return { ok: false, failure: 'permanent', retryAfterMs: null, isAuthFailure: true, message: `${reasonPrefix('provider_request_blocked')}${provider}'s firewall refused the ${what} (HTTP 403: for the request's content or this server's address; a bad API key is answered with 401)${detail}` };
  }
  if (status === 401 || status === 403) {
    return { ok: false, failure: 'permanent', retryAfterMs: null, isAuthFailure: true, message: `${reasonPrefix('provider_auth_failed')}${provider} refused the API key during ${what} (HTTP ${status}); check BOT_PROVIDER_API_KEY${detail}` };
  }
  // 402: the account's credit ran out (Recall: "Insufficient credit balance -- Top up balance in
  // the dashboard", https://docs.recall.ai/docs/errors).
  if (status === 402) return accountBlocked(provider, what, 'HTTP 402: its credit ran out', retryAfterMs(headers, nowMs), detail);
  // A redirect: the base URL is not the API's (http:// where the provider wants https://, a proxy
  // that moved it). Provider calls follow no redirect (a POST would not be repeated the same way,
  // nor the key sent to wherever the Location points), so every bot would get the same answer:
  // an operator's setting to fix, not a reason to fail bots. They wait, and /readyz says why.
  if (status >= 300 && status < 400) {
    const location = headerValue(headers, 'location');
    return {
      ok: false, failure: 'transient', createdNothing: true, blocksEveryBot: true, retryAfterMs: ACCOUNT_RETRY_MS,
      message: `${reasonPrefix('provider_redirected')}${provider} answered the ${what} with HTTP ${status}${location ? ` to ${location.slice(0, 200)}` : ''}; provider calls follow no redirects: set BOT_PROVIDER_BASE_URL to the address the provider answers at`,
    };
  }
  if (status === 429) return { ok: false, failure: 'rate_limited', retryAfterMs: retryAfterMs(headers, nowMs), message: `${provider} rate limited the ${what} (HTTP 429)` };
  if (status === 408 || status === 409 || status === 425 || status >= 500) {
    return { ok: false, failure: 'transient', retryAfterMs: retryAfterMs(headers, nowMs), message: `${provider} answered ${status} to the ${what}${detail}` };
  }
  return { ok: false, failure: 'permanent', retryAfterMs: null, message: `${provider} refused the ${what} (HTTP ${status})${detail}` };
}

/**
 * The provider refused a creation for the account (its credit ran out): every bot is refused until
 * someone tops it up, then every bot is taken again, so none is failed for it. The bot waits and
 * is tried again (a minute apart at least), made nothing, and the instance says why it is not ready.
 */
export function accountBlocked(provider: string, what: string, why: string, retryAfter: number | null, detail: string): RuntimeOutcome {
  return { ok: false, failure: 'transient', createdNothing: true, blocksEveryBot: true, retryAfterMs: Math.max(retryAfter ?? 0, ACCOUNT_RETRY_MS), message: `${reasonPrefix('provider_account_blocked')}${provider} refused the ${what} for the account (${why}); top up the balance in ${provider}'s dashboard${detail}` };
}

/** A short, single-line rendering of a provider's error body for decisions and logs. */
export function describeError(answer: ProviderAnswer): string {
  const body = answer.json as Record<string, unknown> | null;
  let text = '';
  if (body && typeof body === 'object') {
    const candidate = body.detail ?? body.error ?? body.message ?? body.code;
    text = typeof candidate === 'string' ? candidate : JSON.stringify(body);
  } else {
    text = answer.text;
  }
  text = text.replace(/\s+/g, ' ').trim().slice(0, 300);
  return text ? `: ${text}` : '';
}

/** `Token <key>`: the scheme Recall.ai, MeetStream and Attendee all use. */
export function tokenHeader(apiKey: string): Record<string, string> {
  return { authorization: `Token ${apiKey}` };
}

/** One header's value, whatever casing or repetition it arrived with. */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * For providers that refuse a join_at past when the request arrives, how far ahead one must be to
 * be sent with a creation; closer, the bot is created to join at once (at most this much early).
 * The request takes time to arrive and the provider's clock is not ours. Attendee refuses a past
 * one (400, "join_at cannot be in the past": bots/serializers.py, validate_join_at, in
 * attendee-labs/attendee), a refusal that would fail the bot; MeetStream's reschedule asks for a
 * future time too, and its create_bot's rule is not published. Recall takes a past join_at as
 * "join now", so it gets any future one (a minimum of 1 ms).
 */
export const MIN_JOIN_AT_LEAD_MS = 30_000;

/** The join time to hand over: only when it is at least `minimumAheadMs` ahead. */
export function futureJoinAt(joinAt: string | undefined, nowMs: number, minimumAheadMs: number): string | undefined {
  if (joinAt === undefined) return undefined;
  const at = Date.parse(joinAt);
  return Number.isFinite(at) && at - nowMs >= minimumAheadMs ? new Date(at).toISOString() : undefined;
}

/** The earliest start of the linked events, the natural join time of an update without one. */
export function earliestStart(events: readonly { start_time: string }[]): string | undefined {
  const starts = events.map((e) => Date.parse(e.start_time)).filter(Number.isFinite);
  return starts.length === 0 ? undefined : new Date(Math.min(...starts)).toISOString();
}

/** The string-valued entries of an object (custom attributes become provider metadata). */
export function stringValues(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** A scheduled bot's update as one JSON body (Recall and Attendee take the creation's field names). */
export function updateBody(change: ScheduledBotChange): Record<string, unknown> {
  return {
    ...change.settings,
    ...(change.join_at !== undefined ? { join_at: change.join_at } : {}),
    ...(change.meeting_url !== undefined ? { meeting_url: change.meeting_url } : {}),
  };
}
