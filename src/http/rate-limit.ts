// Requests per minute per API key (RATE_LIMIT_PER_MINUTE; 0 turns it off). A token bucket per key
// id, held in this process's memory: with several API instances each one enforces the limit on its
// own, so a client spread over N instances may get up to N times the limit (docs/security.md).
//
// Hand-written rather than @fastify/rate-limit: the limit is keyed by the authenticated key id,
// which only exists after our auth hook; time comes from the injected clock so tests drive it
// instead of sleeping; and a 429 goes through the one error handler like every other error. The
// plugin's real strength, a shared Redis store, is not something this service needs yet.
import { ApiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { App } from './app.ts';

const WINDOW_MS = 60_000;
/** Buckets of keys idle long enough to be full again carry no information; drop them past this many. */
const PRUNE_ABOVE = 10_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Each key may burst up to `perMinute` requests, then gets one more every 60/perMinute seconds:
 * over any minute it never exceeds about twice the limit, and steady use at the limit never waits.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: { perMinute: number; clock: Clock }) {
    this.#perMinute = options.perMinute;
    this.#clock = options.clock;
  }

  get perMinute(): number {
    return this.#perMinute;
  }

  take(key: string): RateDecision {
    const now = this.#clock.now();
    const refillPerMs = this.#perMinute / WINDOW_MS;
    const bucket = this.#buckets.get(key) ?? { tokens: this.#perMinute, updatedAt: now };
    // A clock that steps back (ManualClock in tests, NTP in life) must not mint or burn tokens.
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + elapsed * refillPerMs);
    bucket.updatedAt = now;
    if (!this.#buckets.has(key)) {
      if (this.#buckets.size >= PRUNE_ABOVE) this.#prune(now);
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens) };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * (this.#perMinute / WINDOW_MS) >= this.#perMinute) this.#buckets.delete(key);
    }
  }
}

/**
 * Limits every request that authenticated with an API key. Register it after the auth hook in the
 * same scope: hooks run in registration order, so `request.apiKeyId` is set by then. Requests the
 * auth hook rejects never get here (they cost one hash lookup); routes with their own auth (the
 * runtime's status reports with a per-launch token) have no key id and are not limited here.
 */
export function registerRateLimit(app: App, options: { perMinute: number; clock: Clock }): void {
  if (options.perMinute <= 0) return;
  const limiter = new RateLimiter(options);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.apiKeyId) return;
    const decision = limiter.take(request.apiKeyId);
    void reply.header('x-ratelimit-limit', String(limiter.perMinute));
    if (decision.allowed) {
      void reply.header('x-ratelimit-remaining', String(decision.remaining));
      return;
    }
    void reply.header('x-ratelimit-remaining', '0');
    throw new ApiError('rate_limited', `Rate limit of ${limiter.perMinute} requests per minute for this API key exceeded; retry in ${decision.retryAfterSeconds} s`, {
      details: { retry_after_seconds: decision.retryAfterSeconds, limit_per_minute: limiter.perMinute },
    });
  });
}
