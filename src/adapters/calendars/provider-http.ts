// The HTTP client calendar adapters share: one request with a deadline and a size cap, no
// redirects unless asked, and an optional lookup that decides which addresses may be reached
// (the outbound guard, for user-supplied feed URLs). Network failures become `transient`.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { CalendarProviderError, type ProviderFailure } from './calendar-provider.ts';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  lookup?: LookupFunction;
  /** Longest body read; a longer answer fails as `permanent`. (Default: 10 MiB) */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

export const sendHttp: HttpSend = (request) => new Promise((resolve, reject) => {
  let target: URL;
  try {
    target = new URL(request.url);
  } catch {
    reject(new CalendarProviderError({ kind: 'permanent', message: 'invalid URL' }));
    return;
  }
  const transport = target.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'Rollcall-Calendar-Sync/1', ...request.headers };
  if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body).toString();
  const max = request.maxBytes ?? DEFAULT_MAX_BYTES;
  let settled = false;
  const fail = (failure: ProviderFailure) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    reject(new CalendarProviderError(failure));
  };
  const req = transport.request(target, {
    method: request.method,
    headers,
    // A fresh connection per request: the guard's lookup then checks every connection it makes.
    agent: false,
    ...(request.lookup ? { lookup: request.lookup } : {}),
  }, (res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.destroy();
        fail({ kind: 'permanent', message: `answer larger than ${max} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
    });
    res.on('error', (error) => fail({ kind: 'transient', message: `reading the answer failed: ${error.message}` }));
  });
  const timer = setTimeout(() => {
    req.destroy();
    fail({ kind: 'transient', message: `no answer within ${request.timeoutMs} ms` });
  }, request.timeoutMs);
  req.on('error', (error: NodeJS.ErrnoException) => {
    // A blocked address is the guard's verdict, not a passing problem.
    if (error.code === 'EBLOCKED') fail({ kind: 'permanent', message: error.message });
    else fail({ kind: 'transient', message: `request failed: ${error.code ?? error.message}` });
  });
  req.end(request.body);
});

/** Retry-After (seconds or an HTTP date) in milliseconds from now, or null. */
export function parseRetryAfterMs(headers: http.IncomingHttpHeaders, nowMs: number): number | null {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : null;
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
