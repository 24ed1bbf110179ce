// When a callback URL is held back as a whole: the rules of webhook_url_holds (migration 048),
// without I/O. A receiver that is struggling says so for all the messages sent to it, whichever
// bot they are of: a 429 asks the sender to throttle (Standard Webhooks, "Delivery success and
// failure"), a 502 or 504 is its gateway finding it down, a 503 is it saying it is down, and no
// answer at all (refused, unreachable, timed out) is the same from the sender's side.

/**
 * How the last_error of a message given up without being sent begins (its URL disabled, its bot's
 * line gone, or still waiting at the end of its lifetime): the outbox writes it, GET /webhooks/urls
 * counts by it.
 */
export const NOT_SENT_PREFIX = 'not sent:';

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
  /** Nothing goes to the URL before this (0: no pause). */
  pausedUntilMs: number;
  /** Struggling answers in a row, each to an attempt started after the previous one was recorded; 0 after failures of other kinds only. */
  failures: number;
  lastFailureAtMs: number;
  /** The first failure of the run: every attempt at the URL since failed. */
  failingSinceMs: number;
  /** The message whose failure started the run; null once it is deleted (any message failing next is another). */
  runMessageId: string | null;
  /** Whether a message other than runMessageId has failed in the run too. */
  hasSeveralMessages: boolean;
}

/**
 * A run of failures ends when none came for a day: a URL that failed once and then had nothing
 * to send for days has not been failing for days (Svix, too, starts its clock only once several
 * deliveries failed within a day: docs.svix.com/retries, "Disabling failing endpoints").
 */
export const FAILING_RUN_GAP_MS = 24 * 3_600_000;

/**
 * The URL's record after a failed attempt of message `messageId` started at `startedAtMs`,
 * recorded at `nowMs`. `isStruggling` (holdsUrl): the URL is held back. An attempt started before
 * the latest recorded failure is of the same outage (many messages sent at once, all answered
 * 502): it adds no failure, so the backoff doubles once per round of attempts, not once per
 * message. The pause is the receiver's Retry-After when it gave one, else `delayMs(failures)`
 * (the backoff); a longer pause already recorded stands. Any other failure leaves the hold as it
 * was and only extends the run of failures. A run that ended (a day without failures) is
 * forgotten: the next failure starts a new one, its backoff at the first step again. While the URL
 * is disabled (`isDisabled`) the run, the one its unsent messages' errors name, goes on whatever
 * the quiet days (its start and message are kept), but its failures still start again after a
 * quiet day: a redelivered message failing days after the URL was disabled is paused for the
 * backoff's first step, not for the step the run had reached.
 */
export function nextUrlHold(previous: UrlHold | null, attempt: { messageId: string; startedAtMs: number; nowMs: number; retryAfterMs: number | null; isStruggling: boolean; isDisabled?: boolean }, delayMs: (failures: number) => number): UrlHold {
  // A disabled URL's run is the one that disabled it, however quiet the days since (its messages
  // fail unsent, no attempt, no failure): it ends only when a message is taken.
  const isQuiet = previous !== null && attempt.nowMs - previous.lastFailureAtMs > FAILING_RUN_GAP_MS;
  const isRunGoingOn = previous !== null && (attempt.isDisabled === true || !isQuiet);
  const run = isRunGoingOn ? previous : null;
  // The backoff's step: restarted after a quiet day, the run's or not.
  const failuresBefore = run === null || isQuiet ? 0 : run.failures;
  const failingSinceMs = run?.failingSinceMs ?? attempt.nowMs;
  const runMessageId = run !== null ? run.runMessageId : attempt.messageId;
  const hasSeveralMessages = run !== null && (run.hasSeveralMessages || run.runMessageId !== attempt.messageId);
  const lastFailureAtMs = Math.max(previous?.lastFailureAtMs ?? 0, attempt.nowMs);
  // (A pause of an ended run is long over: it is kept only as the latest one asked for.)
  const pausedBeforeMs = previous?.pausedUntilMs ?? 0;
  if (!attempt.isStruggling) return { pausedUntilMs: pausedBeforeMs, failures: failuresBefore, lastFailureAtMs, failingSinceMs, runMessageId, hasSeveralMessages };
  const isSameRound = failuresBefore > 0 && attempt.startedAtMs < previous!.lastFailureAtMs;
  const failures = isSameRound ? failuresBefore : failuresBefore + 1;
  const pauseMs = attempt.retryAfterMs !== null && attempt.retryAfterMs > 0 ? attempt.retryAfterMs : delayMs(failures);
  return { pausedUntilMs: Math.max(pausedBeforeMs, attempt.nowMs + pauseMs), failures, lastFailureAtMs, failingSinceMs, runMessageId, hasSeveralMessages };
}

/**
 * Whether a URL is to be disabled now: every attempt at it has failed for `disableAfterMs` (0:
 * never), and the failures are of at least two messages. One message the receiver cannot take
 * (a 500 to its payload alone) fails on its own, for its own retry budget, and says nothing of the
 * URL; a run of failures is the URL's only once another message fails in it too (any message
 * taken ends the run). Established senders disable a failing endpoint the same way,
 * after five days of failures (docs.svix.com/retries, "Disabling failing endpoints"), the default
 * here (WEBHOOK_DISABLE_AFTER_HOURS = 120), longer than a message's own three days of retries.
 */
export function isDueToDisable(hold: Pick<UrlHold, 'failingSinceMs' | 'hasSeveralMessages'>, nowMs: number, disableAfterMs: number): boolean {
  return disableAfterMs > 0 && hold.hasSeveralMessages && nowMs - hold.failingSinceMs >= disableAfterMs;
}
