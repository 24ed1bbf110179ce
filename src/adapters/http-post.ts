// A small JSON POST over node:http(s): no redirects are followed (a 3xx is just an answer), the
// whole exchange has a deadline, and an optional lookup decides which addresses may be reached.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PostResult {
  /** HTTP status, or null when no answer came (connection refused, timeout, blocked address). */
  status: number | null;
  headers: http.IncomingHttpHeaders;
  body: string;
  error: string | null;
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  lookup?: LookupFunction;
  agent?: { http: http.Agent; https: https.Agent };
  /** Longest response body kept; the rest is read and dropped. */
  maxResponseBytes?: number;
}

export function postJson(url: string, body: string, options: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ status: null, headers: {}, body: '', error: 'invalid URL' });
      return;
    }
    const isHttps = target.protocol === 'https:';
    const transport = isHttps ? https : http;
    const request = transport.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body).toString(), ...options.headers },
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.agent ? { agent: isHttps ? options.agent.https : options.agent.http } : {}),
    }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const max = options.maxResponseBytes ?? 64 * 1024;
      response.on('data', (chunk: Buffer) => {
        if (size < max) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => finish({ status: response.statusCode ?? null, headers: response.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, max), error: null }));
      response.on('error', (error) => finish({ status: response.statusCode ?? null, headers: response.headers, body: '', error: error.message }));
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    request.on('error', (error) => finish({ status: null, headers: {}, body: '', error: error.message }));
    request.end(body);
  });
}

/** Retry-After in seconds or as an HTTP date, as milliseconds from now. */
export function retryAfterMs(headers: http.IncomingHttpHeaders, nowMs: number): number | null {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : null;
}
