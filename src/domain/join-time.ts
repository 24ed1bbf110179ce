// When a bot joins: the rule behind `scheduled_time`.

export type JoinTimeResult =
  | { ok: true; joinAtMs: number; isJoiningNow: boolean }
  | { ok: false; code: 'event_ended' | 'invalid_join_at'; message: string };

export interface JoinTimeInput {
  startMs: number;
  endMs: number;
  nowMs: number;
  joinLeadMs: number;
  /** An explicit join time from the client (bot_config.join_at), if any. */
  requestedJoinAtMs?: number | null;
}

/**
 * An explicit join time must lie between now and the meeting's end. Without one, the bot joins
 * `joinLeadMs` before the start; if that moment has passed while the meeting still runs, it joins
 * now. A meeting that has ended gets no bot.
 */
export function computeJoinTime(input: JoinTimeInput): JoinTimeResult {
  const { startMs, endMs, nowMs, joinLeadMs, requestedJoinAtMs } = input;
  if (endMs <= nowMs) return { ok: false, code: 'event_ended', message: 'The event has already ended' };
  if (requestedJoinAtMs !== undefined && requestedJoinAtMs !== null) {
    if (requestedJoinAtMs < nowMs) return { ok: false, code: 'invalid_join_at', message: 'bot_config.join_at is in the past' };
    if (requestedJoinAtMs >= endMs) return { ok: false, code: 'invalid_join_at', message: 'bot_config.join_at is after the event ends' };
    return { ok: true, joinAtMs: requestedJoinAtMs, isJoiningNow: false };
  }
  const leadJoinAt = startMs - joinLeadMs;
  if (leadJoinAt <= nowMs) return { ok: true, joinAtMs: nowMs, isJoiningNow: true };
  return { ok: true, joinAtMs: leadJoinAt, isJoiningNow: false };
}

export interface PinnedMoveInput {
  /** The join time the client pinned (bot_config.join_at, or a PATCH). */
  pinnedMs: number;
  /** The meeting's start before and after the calendar moved it. */
  oldStartMs: number;
  newStartMs: number;
  /** The meeting's end after the move. */
  endMs: number;
  nowMs: number;
  joinLeadMs: number;
}

/**
 * A pinned join time after the calendar moved its meeting: it keeps its place relative to the
 * start (pinned five minutes before a meeting moved two hours later, it joins five minutes before
 * the new start). Left where it was, it would have the bot join hours early, or after a meeting
 * moved earlier had ended (never, then). Shifted past the new end (a meeting moved and cut
 * short), the bot joins as an unpinned one would. Never before now.
 */
export function pinnedJoinTimeAfterMove(input: PinnedMoveInput): number {
  const { pinnedMs, oldStartMs, newStartMs, endMs, nowMs, joinLeadMs } = input;
  const shifted = pinnedMs + (newStartMs - oldStartMs);
  return Math.max(nowMs, shifted < endMs ? shifted : newStartMs - joinLeadMs);
}
