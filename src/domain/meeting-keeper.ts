// One bot per meeting, decided again at the launch.
//
// Auto-schedule books one bot per meeting and start, and links a meeting that already has a bot of
// the user (a client's, say) to that bot. A calendar change can later bring an auto-scheduled bot
// to where another bot of the same user goes: an event moved onto the time of another event of the
// same meeting, or an occurrence onto the slot of the next. Nothing is merged when that happens:
// the change may be taken back before the meeting, and a merge could not be undone. At the launch
// the question is asked again, and then only one bot keeps the meeting. The others give way.

/** A live bot of the user with a live link at the meeting's start. */
export interface BotInMeeting {
  id: string;
  /** Booked by auto-schedule (isAutoScheduledBot): only such a bot gives way. */
  isAutoScheduled: boolean;
  /** Launched, or handed to a bot provider: it is in the meeting (or on its way) already. */
  isLaunched: boolean;
  createdAtMs: number;
}

/**
 * Which of the bots in one meeting at one start keeps it: one already launched first (it is on its
 * way, and a second launch would be the duplicate), then one the client booked (auto-schedule
 * gives way to the client's own bot at booking too), then the oldest, then the lowest id, so that
 * every instance deciding about any of them picks the same one without asking the others.
 */
export function keeperOf(bots: readonly BotInMeeting[]): BotInMeeting | null {
  let best: BotInMeeting | null = null;
  for (const bot of bots) if (best === null || ranksBefore(bot, best)) best = bot;
  return best;
}

/**
 * The bot `bot` gives way to, or null when it launches. Only an auto-scheduled bot not yet launched
 * gives way: the client's own bots were asked for one by one, under keys of the client's choosing.
 */
export function givesWayTo(bot: BotInMeeting, others: readonly BotInMeeting[]): BotInMeeting | null {
  if (!bot.isAutoScheduled || bot.isLaunched) return null;
  const keeper = keeperOf([bot, ...others.filter((o) => o.id !== bot.id)]);
  return keeper === null || keeper.id === bot.id ? null : keeper;
}

function ranksBefore(a: BotInMeeting, b: BotInMeeting): boolean {
  if (a.isLaunched !== b.isLaunched) return a.isLaunched;
  if (a.isAutoScheduled !== b.isAutoScheduled) return !a.isAutoScheduled;
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs < b.createdAtMs;
  return a.id < b.id;
}
