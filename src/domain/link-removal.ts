// When an event let go of its bot while the bot was live (deleted or cancelled, its meeting link
// taken out, the bot unscheduled from it, its calendar disconnected, moved into the past, handed to
// another bot going to the same meeting), as against a link that ended because its bot ended.

/**
 * The instant a link's event let go of its bot while the bot was live, or null: while the link
 * holds, and when it ended with its bot (a bot that ran its meeting, was missed or cancelled lets go
 * of every event still holding it by ending). An ended link's `updated_at_ms` is when it ended.
 * A link that ended before its bot did, or while the bot is still live, was let go by its event.
 * One that ended at the very instant its bot did is told apart by `botEndedNoLink`: the bot's
 * ending found no link still holding it (its `links_ended` 0), so its last events let go of it and
 * the bot ended for that; unknown (null, a bot ended before this was recorded) counts as false.
 */
export function linkRemovedAtMs(
  link: { is_live: number; updated_at_ms: number },
  bot: { ended_at_ms: number | null; botEndedNoLink: boolean | null },
): number | null {
  if (link.is_live === 1) return null;
  if (bot.ended_at_ms === null || link.updated_at_ms < bot.ended_at_ms) return link.updated_at_ms;
  return link.updated_at_ms === bot.ended_at_ms && bot.botEndedNoLink === true ? link.updated_at_ms : null;
}

/**
 * From a bot's decision log: whether the decision that ended it (at `endedAtMs`, with `links_ended`
 * in its details) found no link still holding it; null when no such decision says.
 */
export function endedWithNoLink(decisions: readonly { at_ms: number; details: Record<string, unknown> }[], endedAtMs: number | null): boolean | null {
  if (endedAtMs === null) return null;
  for (let i = decisions.length - 1; i >= 0; i--) {
    const d = decisions[i]!;
    if (Number(d.at_ms) !== endedAtMs || typeof d.details['links_ended'] !== 'number') continue;
    return d.details['links_ended'] === 0;
  }
  return null;
}
