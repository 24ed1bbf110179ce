// How a user's callback URL stands, as GET /webhooks/urls says it: read from its record in
// webhook_url_holds (migration 048; webhook-url-hold.ts has the rules that write it), without I/O.
import { FAILING_RUN_GAP_MS } from './webhook-url-hold.ts';

/**
 * ok: neither paused nor disabled, its messages go to it (one at a time while it is `paced`; a
 * bot whose line to it is gone has its messages fail unsent whatever the state); paused: nothing
 * goes to it before its pause ends; disabled: its messages fail unsent until a redelivered one is
 * taken.
 */
export type UrlState = 'ok' | 'paused' | 'disabled';

/** The columns of a webhook_url_holds row this reads, as numbers. */
export interface UrlHoldRecord {
  pausedUntilMs: number;
  failures: number;
  lastFailureAtMs: number;
  failingSinceMs: number;
  /** Null when none of the user's messages to the URL is left to name (deleted with their bots' data). */
  messageId: string | null;
  disabledAtMs: number | null;
}

export interface UrlHealth {
  state: UrlState;
  /** The first failure of the run still going on (every attempt since failed), or null when none is. */
  failingSinceMs: number | null;
  /** The end of a pause still running, or null. */
  pausedUntilMs: number | null;
  disabledAtMs: number | null;
  /**
   * The message whose redelivery opens the URL again (or ends its pause): the latest that failed.
   * Null when the URL is neither disabled, paused nor failing, or when its record names no message.
   */
  reopenMessageId: string | null;
  /**
   * Whether its messages go one at a time (the oldest, then the next once that one is answered)
   * rather than at the usual pace: a hold of struggling answers (429, 502, 503, 504, none; its
   * `failures`), its pause over, until a message is taken. Other failures (a 500, say) pace nothing.
   * Of a disabled URL, its redelivered messages, the only ones it sends.
   */
  isPaced: boolean;
  /** Whether there is anything to tell: disabled, paused or failing. */
  isTroubled: boolean;
}

const HEALTHY: UrlHealth = { state: 'ok', failingSinceMs: null, pausedUntilMs: null, disabledAtMs: null, reopenMessageId: null, isPaced: false, isTroubled: false };

/**
 * The URL's state at `nowMs` from its record (null: none, nothing failed since a message to it
 * was last taken). A disabled URL stays disabled, whatever the time, until a message is taken.
 * A run of failures with no failure for a day is over (FAILING_RUN_GAP_MS: the next failure starts
 * a new one), and the record then says nothing more: the URL is ok.
 */
export function urlHealthOf(hold: UrlHoldRecord | null, nowMs: number): UrlHealth {
  if (hold === null) return HEALTHY;
  const pausedUntilMs = hold.pausedUntilMs > nowMs ? hold.pausedUntilMs : null;
  const isRunGoingOn = nowMs - hold.lastFailureAtMs <= FAILING_RUN_GAP_MS;
  // (The outbox paces a URL held back until a message to it is taken, however long ago its last
  // failure: a disabled one's redelivered messages too, the only ones it sends.)
  const isPaced = hold.failures > 0 && pausedUntilMs === null;
  if (hold.disabledAtMs !== null) {
    return { state: 'disabled', failingSinceMs: hold.failingSinceMs, pausedUntilMs, disabledAtMs: hold.disabledAtMs, reopenMessageId: hold.messageId, isPaced, isTroubled: true };
  }
  if (pausedUntilMs !== null) {
    return { state: 'paused', failingSinceMs: hold.failingSinceMs, pausedUntilMs, disabledAtMs: null, reopenMessageId: hold.messageId, isPaced: false, isTroubled: true };
  }
  if (!isRunGoingOn) return { ...HEALTHY, isPaced };
  return { state: 'ok', failingSinceMs: hold.failingSinceMs, pausedUntilMs: null, disabledAtMs: null, reopenMessageId: hold.messageId, isPaced, isTroubled: true };
}

/** The order troubled URLs are listed in: disabled, paused, failing, then gone lines only, then the rest. */
export function troubleRank(health: UrlHealth, goneBots: number): number {
  if (health.state === 'disabled') return 0;
  if (health.state === 'paused') return 1;
  if (health.isTroubled) return 2;
  return goneBots > 0 ? 3 : 4;
}
