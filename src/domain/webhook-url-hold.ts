// When a callback URL is held back as a whole: the rules of webhook_url_holds (migration 048),
// without I/O. A receiver that is struggling says so for all the messages sent to it, whichever
// bot they are of: a 429 asks the sender to throttle (Standard Webhooks, "Delivery success and
// failure"), a 502 or 504 is its gateway finding it down, a 503 is it saying it is down, and no
// answer at all (refused, unreachable, timed out) is the same from the sender's side.

/** Answers that speak of the receiver rather than of the message. */
const STRUGGLING = new Set([429, 502, 503, 504]);

/**
 * Whether an attempt's outcome holds its URL back: a struggling answer, or none at all
 * (`isNoAnswer`: the connection was refused, reset or timed out; not a refusal by the guard).
 */
export function holdsUrl(status: number | null, isNoAnswer: boolean): boolean {
  return status === null ? isNoAnswer : STRUGGLING.has(status);
}

export interface UrlHold {
  /** Nothing goes to the URL before this. */
  pausedUntilMs: number;
  /** Failures in a row, each from an attempt started after the previous one was recorded. */
  failures: number;
  lastFailureAtMs: number;
}

/**
 * The hold after a struggling answer (holdsUrl) to an attempt started at `startedAtMs`, recorded
 * at `nowMs`. An attempt started before the latest recorded failure is of the same outage (many
 * messages sent at once, all answered 502): it adds no failure, so the backoff doubles once per
 * round of attempts, not once per message. The pause is the receiver's Retry-After when it gave
 * one, else `delayMs(failures)` (the backoff); a longer pause already recorded stands.
 */
export function nextUrlHold(previous: UrlHold | null, attempt: { startedAtMs: number; nowMs: number; retryAfterMs: number | null }, delayMs: (failures: number) => number): UrlHold {
  const isSameRound = previous !== null && attempt.startedAtMs < previous.lastFailureAtMs;
  const failures = previous === null ? 1 : isSameRound ? previous.failures : previous.failures + 1;
  const pauseMs = attempt.retryAfterMs !== null && attempt.retryAfterMs > 0 ? attempt.retryAfterMs : delayMs(failures);
  return {
    pausedUntilMs: Math.max(previous?.pausedUntilMs ?? 0, attempt.nowMs + pauseMs),
    failures,
    lastFailureAtMs: Math.max(previous?.lastFailureAtMs ?? 0, attempt.nowMs),
  };
}
