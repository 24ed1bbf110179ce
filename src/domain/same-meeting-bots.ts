// Two bots of one user headed to the same meeting at the same moment. Booking never makes that
// pair out of one rule (auto-schedule shares a bot across the meeting's events; one key is one
// bot), but a calendar change can: an event moved onto the time of another event of the same
// meeting, an occurrence moved onto another occurrence's slot. Pure: which of the two gives way.
import { AUTO_SCHEDULE_KEY_PREFIX } from './bot-config.ts';

export interface SameMeetingBot {
  deduplicationKey: string;
  /** Booked by auto-schedule (its key and attribute say so: isAutoScheduledBot). */
  isAutoScheduled: boolean;
}

/**
 * Which bot folds into the other (its events join the other, and it is cancelled): `moved`, the
 * bot a calendar change just brought into the slot, or `other`, the one that was there. Null when
 * both stay: two bookings the client made under keys of its own that share no series (it asked
 * for two bots, and each key is its to keep).
 *
 * - A bot auto-schedule booked gives way to one the client booked: the client asked for that one.
 * - Two bots of one rule (both auto-schedule's, or two occurrences of one series key: a batch, a
 *   chain, or keys derived from the meeting) would have been one bot had the meeting been there
 *   when they were booked: the one that moved in gives way to the one already there.
 */
export function botThatGivesWay(moved: SameMeetingBot, other: SameMeetingBot): 'moved' | 'other' | null {
  if (moved.isAutoScheduled !== other.isAutoScheduled) return moved.isAutoScheduled ? 'moved' : 'other';
  if (moved.isAutoScheduled) return 'moved';
  const movedSeries = seriesKeyOf(moved.deduplicationKey);
  return movedSeries !== null && movedSeries === seriesKeyOf(other.deduplicationKey) ? 'moved' : null;
}

/**
 * The series key of an occurrence's key (occurrenceDeduplicationKey: `<series key>@<occurrence>`,
 * the occurrence an original start in UTC basic format or, for a series a calendar gives as
 * instances, the instance's event id); null for a key of no series (`alice@example.com` is one).
 */
function seriesKeyOf(key: string): string | null {
  if (key.startsWith(AUTO_SCHEDULE_KEY_PREFIX)) return null;
  const at = key.lastIndexOf('@');
  return at > 0 && /^(\d{8}T\d{6}(\.\d{3})?Z|evt_[0-9A-Za-z_]+)$/.test(key.slice(at + 1)) ? key.slice(0, at) : null;
}
