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
