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
/** Keys whose bucket is full again carry no information; drop them past this many. */
const PRUNE_ABOVE = 10_000;
/** Float slack when comparing accumulated intervals (60000/limit need not be a whole number). */
const EPSILON_MS = 1e-6;

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/**
 * A token bucket per key, kept as one number (the generic cell rate algorithm): each key may burst
 * up to `perMinute` requests, then gets one more every 60/perMinute seconds. Steady use at the
 * limit never waits; over any minute a key gets at most about twice the limit.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #clock: Clock;
  /** Time between requests at the sustained rate. */
  readonly #intervalMs: number;
  /** How far ahead of now a key's schedule may run: the burst, less the request being made. */
  readonly #toleranceMs: number;
  /** Per key: the time at which its bucket would be full again ("theoretical arrival time"). */
  readonly #fullAt = new Map<string, number>();

  constructor(options: { perMinute: number; clock: Clock }) {
    this.#perMinute = options.perMinute;
    this.#clock = options.clock;
    this.#intervalMs = WINDOW_MS / options.perMinute;
    this.#toleranceMs = this.#intervalMs * (options.perMinute - 1);
  }

  get perMinute(): number {
    return this.#perMinute;
  }

  take(key: string): RateDecision {
    const now = this.#clock.now();
    // A clock that steps back (ManualClock in tests, NTP in life) must not mint or burn requests.
    const fullAt = Math.max(this.#fullAt.get(key) ?? now, now);
    const aheadMs = fullAt - now;
    if (aheadMs > this.#toleranceMs + EPSILON_MS) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((aheadMs - this.#toleranceMs - EPSILON_MS) / 1000)) };
    }
    if (!this.#fullAt.has(key) && this.#fullAt.size >= PRUNE_ABOVE) this.#prune(now);
    this.#fullAt.set(key, fullAt + this.#intervalMs);
    const remaining = Math.floor((this.#toleranceMs - aheadMs + EPSILON_MS) / this.#intervalMs);
    return { allowed: true, remaining };
  }

  #prune(now: number): void {
    for (const [key, fullAt] of this.#fullAt) if (fullAt <= now) this.#fullAt.delete(key);
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
