// When each bot of a wave is handed to a provider that limits how fast bots may be created.
// Meetings start in waves (600 at 09:00); a provider takes, say, 60 creations a minute; each bot
// should reach the provider by its join time minus the handover lead (Recall.ai: more than ten
// minutes, so that it is a scheduled bot). The plan hands bots over earliest join first, one slot
// per 60/rate seconds, each as late as its lead allows but never so late that a later bot's slot
// would be pushed past its own deadline; bots whose deadline cannot be met are named ahead.
// Pure: no clock, no I/O.

export interface UpcomingBot {
  id: string;
  joinAtMs: number;
}

export interface HandoverSlot {
  id: string;
  joinAtMs: number;
  /** When the bot is handed over. */
  handoverAtMs: number;
  /** The latest handover that still gives the provider its full lead. */
  deadlineMs: number;
  /** False when the slot is after the deadline: the bot reaches the provider with less than the lead. */
  isInTime: boolean;
}

export interface HandoverPlan {
  slots: HandoverSlot[];
  /** Bots that cannot be handed over by their deadline at this rate (to be reported ahead). */
  late: HandoverSlot[];
}

/**
 * @param nowMs no handover is planned before now
 * @param leadMs the handover lead
 * @param createsPerMinute the provider's creation rate (> 0)
 * @param nextLatestMs the latest handover of the first bot after these (planningHorizon): the last
 *   of these is handed over at least one spacing before it
 * Invariants: slots are in join order (ties by id); consecutive handovers are at least
 * 60000/createsPerMinute ms apart; a bot is never handed over later than needed when there is room,
 * and never earlier than needed to keep every later bot in time.
 */
export function planHandovers(bots: readonly UpcomingBot[], nowMs: number, leadMs: number, createsPerMinute: number, nextLatestMs = Infinity): HandoverPlan {
  if (!(createsPerMinute > 0)) throw new RangeError('createsPerMinute must be positive');
  const spacingMs = Math.ceil(60_000 / createsPerMinute);
  const ordered = [...bots].sort((a, b) => a.joinAtMs - b.joinAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const deadlines = ordered.map((b) => b.joinAtMs - leadMs);
  // Walk back from the last bot: each bot's latest slot is its own deadline, or one spacing before
  // the next bot's latest slot, whichever is earlier. Handing over at these times is as late as the
  // rate allows while keeping every later bot in time.
  const latest = new Array<number>(ordered.length);
  for (let i = ordered.length - 1; i >= 0; i--) {
    latest[i] = Math.min(deadlines[i]!, (i === ordered.length - 1 ? nextLatestMs : latest[i + 1]!) - spacingMs);
  }
  // Walk forward: never before now, never closer than one spacing to the previous handover.
  const slots: HandoverSlot[] = [];
  let previous = -Infinity;
  for (let i = 0; i < ordered.length; i++) {
    const at = Math.max(latest[i]!, nowMs, previous + spacingMs);
    previous = at;
    slots.push({ id: ordered[i]!.id, joinAtMs: ordered[i]!.joinAtMs, handoverAtMs: at, deadlineMs: deadlines[i]!, isInTime: at <= deadlines[i]! });
  }
  return { slots, late: slots.filter((s) => !s.isInTime) };
}

/** How many bots join within one interval (a minute, say), every one of them at or after `startMs`. */
export interface JoinBucket {
  startMs: number;
  count: number;
}

export interface PlanningHorizon {
  /** Plan the bots that join at or before this now; null: none yet. */
  endMs: number | null;
  /**
   * The latest handover the first bot after `endMs` can have (Infinity when there is none). The
   * planned bots must leave room before it (planHandovers' nextLatestMs).
   */
  nextLatestMs: number;
}

/**
 * Which upcoming bots to plan now, from a count of joins per interval. A bot has to be planned as
 * soon as its handover might come within `aheadMs`, and for a bot in a dense wave that is long
 * before its own lead: 10,000 bots at 12:00 at 60 a minute start being handed over before 09:00.
 * Walking the intervals back from the last, the latest handover of each interval's first bot is
 * its own deadline (counted from the interval start, so never later than the real one) or one
 * spacing before the next interval's first, less one spacing per bot of its own. These times only
 * grow from one interval to the next, so the bots to plan are the intervals up to the last whose
 * first handover falls within `aheadMs`.
 */
export function planningHorizon(buckets: readonly JoinBucket[], nowMs: number, leadMs: number, createsPerMinute: number, aheadMs: number): PlanningHorizon {
  if (!(createsPerMinute > 0)) throw new RangeError('createsPerMinute must be positive');
  const spacingMs = Math.ceil(60_000 / createsPerMinute);
  const ordered = [...buckets].filter((b) => b.count > 0).sort((a, b) => a.startMs - b.startMs);
  const firstLatest = new Array<number>(ordered.length);
  let next = Infinity;
  for (let i = ordered.length - 1; i >= 0; i--) {
    const bucket = ordered[i]!;
    next = Math.min(bucket.startMs - leadMs, next - spacingMs) - (bucket.count - 1) * spacingMs;
    firstLatest[i] = next;
  }
  let last = -1;
  while (last + 1 < ordered.length && firstLatest[last + 1]! <= nowMs + aheadMs) last++;
  const following = ordered[last + 1];
  return {
    endMs: last < 0 ? null : following ? following.startMs - 1 : Infinity,
    nextLatestMs: following ? firstLatest[last + 1]! : Infinity,
  };
}

/** Of the spacing, how much a creation may come early at send time (a late timer before it). */
export const SEND_GAP_TOLERANCE = 0.25;

/**
 * When the next creation may go out, checked at send time: the plan spaces the handover timers,
 * but timers that came due together (the process stalled, a backlog after a pause) would go out
 * together. The next one waits until it is at least (1 - SEND_GAP_TOLERANCE) of a spacing after
 * the previous one (then a full spacing after it, the plan's pace), and until fewer than
 * `createsPerMinute` creations (the provider's own figure) lie in the minute before it.
 *
 * @param recentMs when the creations of the last minute (or of the last spacing, when longer) went out, any order
 * @returns `nowMs` when it may go now, else the earliest time it may
 */
export function nextCreationAtMs(recentMs: readonly number[], nowMs: number, createsPerMinute: number, spacingMs: number): number {
  const inWindow = recentMs.filter((t) => t > nowMs - 60_000).sort((a, b) => a - b);
  // The previous one may lie outside the minute when the spacing is longer (under one a minute).
  const last = recentMs.length === 0 ? undefined : Math.max(...recentMs);
  const isSpaced = last === undefined || nowMs - last >= spacingMs * (1 - SEND_GAP_TOLERANCE);
  const limit = Math.max(1, Math.floor(createsPerMinute));
  const isUnderLimit = inWindow.length < limit;
  if (isSpaced && isUnderLimit) return nowMs;
  const afterLast = last === undefined || isSpaced ? nowMs : last + spacingMs;
  // The window must lose its oldest creations until fewer than `limit` remain.
  const afterWindow = isUnderLimit ? nowMs : inWindow[inWindow.length - limit]! + 60_000;
  return Math.max(nowMs, afterLast, afterWindow);
}
