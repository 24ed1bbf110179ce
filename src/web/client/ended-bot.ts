// How the pages speak of a bot that has ended: a join time it never reached, and a key it was
// never given.
import { formatRelative, reasonWords, statusWords } from './format.ts';
import { nameEventsInReason, withAllDayOccurrences, withoutBotIds, withoutRepeatedLead } from './bot-words.ts';

/** Beside a join time the bot ended before reaching (cancelled ahead of its meeting): what it was, not a countdown. */
export const PLANNED_WORDS = 'planned; ended before then';

/**
 * What is said beside an ended bot's join time: from now ("3 minutes ago") when the bot was still
 * live then, and that it was only planned when the bot ended first (at `endedIso`, else by now):
 * a bot cancelled ahead of next week's meeting never joins "in 7 days".
 */
export function endedJoinWords(joinIso: string, endedIso: string | null | undefined, nowMs = Date.now()): string {
  const endedMs = endedIso ? Date.parse(endedIso) : nowMs;
  return Date.parse(joinIso) > endedMs ? PLANNED_WORDS : formatRelative(joinIso, nowMs);
}

/**
 * Whether the bot's deduplication key is one Rollcall made up: create_bot without a
 * deduplication_key keys the bot by its own id (`bot:<bot id>`, src/services/scheduling/ad-hoc-bots.ts),
 * which no client can have sent, the id being made with the bot.
 */
export function isOwnIdKey(key: string, botId: string): boolean {
  return key === `bot:${botId}`;
}

/** What a bot whose stored data was deleted is called where its meeting would be named. */
export const DATA_DELETED_TITLE = 'Data deleted';

/** The titles of an ended bot's events, by id, as its reason names them (a series' occurrences by the series' id). */
export function endedEventTitles(events: readonly { event_id: string; title: string | null }[]): Map<string, string> {
  const titles = new Map<string, string>();
  for (const event of events) if (event.title && !titles.has(event.event_id)) titles.set(event.event_id, event.title);
  return titles;
}

/**
 * The all-day events of a bot's list row, by id, each with the zone whose midnights its times and
 * its occurrences' keys are (the API's all_day_zone), as its reason names them (a series'
 * occurrences by the series' id).
 */
export function allDayZonesOfEvents(events: readonly { event_id: string; all_day_zone: string | null }[]): Map<string, string> {
  const zones = new Map<string, string>();
  for (const event of events) if (event.all_day_zone !== null) zones.set(event.event_id, event.all_day_zone);
  return zones;
}

/**
 * Why an ended bot ended, beside its status (Ended's Status column): the reason in words without
 * saying the status again ("Cancelled from the dashboard" beside Cancelled reads "From the
 * dashboard"); empty when the reason is only the status. The events it names by id are named by
 * their titles (`eventTitles`, the row's events), else "its event", and another bot it names is
 * "another bot": the list shows no ids ("Event evt_… was deleted" reads "“Design review” was
 * deleted"; "Bot bot_… is already on its way …" "Another bot is already on its way …").
 */
export function endReasonWords(status: string, endReason: string, eventTitles: ReadonlyMap<string, string> = new Map(), allDayZones: ReadonlyMap<string, string> = new Map()): string {
  const worded = reasonWords(withAllDayOccurrences(endReason, allDayZones));
  return nameEventsInReason(withoutBotIds(withoutRepeatedLead(statusWords(status), worded)), eventTitles, 'its', allDayZones);
}

/**
 * What Ended's Why it ended says: the reason in words (endReasonWords); nothing more when the
 * reason was only the status (the status beside it says all there was: "No reason given" would be
 * untrue); that none was given when there is none, or that it went with the bot's data. Null: say
 * nothing; `isMuted`: a note about the reason rather than the reason.
 */
export function endReasonCell(status: string, endReason: string | null, isDataDeleted: boolean, eventTitles: ReadonlyMap<string, string> = new Map(), allDayZones: ReadonlyMap<string, string> = new Map()): { text: string; isMuted: boolean } | null {
  if (endReason) {
    const words = endReasonWords(status, endReason, eventTitles, allDayZones);
    return words === '' ? null : { text: words, isMuted: false };
  }
  return { text: isDataDeleted ? 'Not kept: its data was deleted' : 'No reason given', isMuted: true };
}
