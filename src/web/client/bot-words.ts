// What a bot's page says of the ids and numbers its decisions and key carry, at display time: the
// API's stored text stays as it is (API clients read and match on it, docs/behaviour.md).
import type { ActionOrigin } from '../../domain/action-origin.ts';
import { calendarDateWords, decisionWords, occurrenceKeyInstant, occurrenceKeyWords, reasonWords, statusWords } from './format.ts';
import { nameCalendarsInReason } from './reason-calendars.ts';
import type { Connection } from './types.ts';

/**
 * How a reason names an event: "event evt_…" (also "Event evt_…" opening a sentence: "Event evt_…
 * is the same meeting …", "Event evt_… was deleted"), "series evt_…" ("Series evt_… was split at the
 * provider …", calendar-sync.ts), a bare id after "of" ("The occurrence 20261201T140000Z of evt_…
 * no longer exists"), or one occurrence by its id, `<series id>_<key>` ("Unscheduled from the
 * dashboard (occurrence evt_…_20261207T100000Z)", bot-management.ts). Ids are newId('evt')'s, an
 * occurrence's `<series id>_<key>`; an id ends where no word character, colon or hyphen follows.
 */
const EVENT_NAMED = /\b(event|Event|series|Series|of|occurrence) (evt_[A-Za-z0-9_]+(?::[A-Za-z0-9_]+)*(?:\.\d{3}Z)?)(?![\w:-])/g;
/** An occurrence's id: its series' id, then its key (its original start in UTC, occurrenceKey). */
const OCCURRENCE_ID = /^(.+)_(\d{8}T\d{6}(?:\.\d{3})?Z)$/;

/**
 * The reason with each event it names by id ("Scheduled for event evt_… (zoom:…)", "Event evt_… is
 * the same meeting …") named by its title instead, where the page read the event ("Scheduled for
 * “Design review” (zoom:…)", "“Design review” is the same meeting …"; "series" and "of" stay
 * before the title), and one occurrence as that of its series with its start in local time
 * ("occurrence of “Weekly sync” on Dec 7, 2026, 11:00 AM"), or by its date alone, as the calendar
 * has it, when its series is all-day (`allDayZones`: by series id, the zone whose midnights its
 * keys are: "occurrence of “Offsite” on Dec 7, 2026"). An event the page does not know keeps
 * its id where the page shows the ids too (`unknown: 'id'`, the bot's page, under Ids), and is "its
 * event" (or "its series") where it shows none (`unknown: 'its'`, Ended): the row names the
 * meeting. The title is put in as the calendar has it, in one pass, so nothing in a title is read
 * as an id; the reason's own words (its durations, reasonWords) are said in words before, never
 * after.
 */
export function nameEventsInReason(text: string, titles: ReadonlyMap<string, string>, unknown: 'id' | 'its' = 'id', allDayZones: ReadonlyMap<string, string> = new Map()): string {
  const titleOf = (id: string): string | null => {
    const title = titles.get(id);
    return title === undefined || title.trim() === '' ? null : title;
  };
  return text.replace(EVENT_NAMED, (whole, lead: string, id: string) => {
    const occurrence = OCCURRENCE_ID.exec(id);
    if (lead === 'occurrence') {
      if (occurrence === null || occurrenceKeyInstant(occurrence[2]!) === null) {
        const title = titleOf(id);
        return title !== null ? `“${title}”` : unknown === 'id' ? whole : 'its event';
      }
      const title = titleOf(occurrence[1]!);
      const series = title !== null ? `“${title}”` : unknown === 'id' ? occurrence[1]! : 'its series';
      return `occurrence of ${series} on ${occurrenceKeyWords(occurrence[2]!, allDayZones.get(occurrence[1]!) ?? null)}`;
    }
    // An occurrence is known by its own title, else by its series'.
    const title = titleOf(id) ?? (occurrence !== null ? titleOf(occurrence[1]!) : null);
    if (title !== null) return /^([Ee]vent|Series)$/.test(lead) ? `“${title}”` : `${lead} “${title}”`;
    if (unknown === 'id') return whole;
    switch (lead) {
      case 'Event': return 'Its event';
      case 'event': return 'its event';
      case 'Series': return 'Its series';
      case 'series': return 'its series';
      default: return 'of its event';
    }
  });
}

/** "The occurrence 20261207T230000Z of series evt_…", as the server names one occurrence by its key beside its series' id. */
const OCCURRENCE_KEY_OF = /\b(occurrence|Occurrence) (\d{8}T\d{6}(?:\.\d{3})?Z) of ((?:series )?)(evt_[A-Za-z0-9_]+)(?![\w:-])/g;

/**
 * A reason from the server with the occurrences of all-day series it names by key ("The occurrence
 * 20261206T230000Z of series evt_… was cancelled") named by their date as the calendar has it ("The
 * occurrence on Dec 7, 2026 of series evt_… was cancelled"), before reasonWords would name them by
 * their midnight in the viewer's zone (the day before, west of the series' zone). `allDayZones`: by
 * series id, the zone whose midnights its keys are; another series' keys are left to reasonWords.
 */
export function withAllDayOccurrences(text: string, allDayZones: ReadonlyMap<string, string>): string {
  if (allDayZones.size === 0) return text;
  return text.replace(OCCURRENCE_KEY_OF, (whole, lead: string, key: string, series: string, id: string) => {
    const zone = allDayZones.get(id);
    const iso = zone === undefined ? null : occurrenceKeyInstant(key);
    return iso === null ? whole : `${lead} on ${calendarDateWords(iso, zone!)} of ${series}${id}`;
  });
}

/**
 * A status change's reason beside its status on the bot's page (its Status timeline), worded as
 * the decision log beside it words its reasons: the status not said twice ("Cancelled from the
 * dashboard" beside Cancelled reads "From the dashboard"), an occurrence of an all-day series by
 * its date as the calendar has it (withAllDayOccurrences; `allDayZones` by series id), and the
 * events it names by their titles where the page read them (nameEventsInReason, ids kept for
 * the others: the page shows ids).
 */
export function statusReasonWords(status: string, reason: string, eventTitles: ReadonlyMap<string, string>, allDayZones: ReadonlyMap<string, string> = new Map()): string {
  const worded = withoutRepeatedLead(statusWords(status), reasonWords(withAllDayOccurrences(reason, allDayZones)));
  return nameEventsInReason(worded, eventTitles, 'id', allDayZones);
}

/**
 * How a reason names another bot ("Bot bot_… is already on its way to this meeting …", a bot that
 * gave way, meeting-keepers.ts): newId('bot')'s ids.
 */
const BOT_NAMED = /\b(Bot|bot) bot_[a-z0-9]+(?![\w:-])/g;

/** The reason with the other bots it names by id said as "another bot", where the page shows no ids (Ended). */
export function withoutBotIds(text: string): string {
  return text.replace(BOT_NAMED, (_, lead: string) => (lead === 'Bot' ? 'Another bot' : 'another bot'));
}

/**
 * A decision's reason as a bot's decision log says it: the server's words first (codes, instants
 * and durations in words, reasonWords), and only then the names people gave things put in (the
 * calendars as Calendars names them, the events by their titles), so that nothing in a title or a
 * name is reworded ("Stand-up (15 min)" stays so); without the meeting's identity where it is the
 * only one the log names, and not saying the decision's kind again.
 */
export function decisionReasonWords(
  decision: { kind: string; reason: string; details: Readonly<Record<string, unknown>> },
  context: { connections: readonly Connection[] | null; eventTitles: ReadonlyMap<string, string>; identities: readonly string[]; allDayZones?: ReadonlyMap<string, string> },
): string {
  const zones = context.allDayZones ?? new Map<string, string>();
  const worded = reasonWords(withAllDayOccurrences(decision.reason, zones));
  const named = nameEventsInReason(nameCalendarsInReason(worded, context.connections, decision.details), context.eventTitles, 'id', zones);
  return withoutRepeatedLead(decisionWords(decision.kind), withoutSoleMeetingIdentity(named, context.identities));
}

/**
 * What booked a bot (the API's `origin`), as the lists say it beneath a bot, short: the booking's
 * own status reason says it at more length (scheduledReason in src/domain/action-origin.ts,
 * "Scheduled from the dashboard"), and a key it set in words (deduplicationKeyWords).
 */
export const ORIGIN_WORDS: Readonly<Record<ActionOrigin, string>> = {
  api: 'Booked through the API',
  dashboard: 'Booked from the dashboard',
  auto_schedule: 'Booked by auto-schedule',
  chain: 'Booked by chain mode',
  batch_top_up: 'Booked by its series\' batch',
};

/** What booked a bot in words (ORIGIN_WORDS); null when no origin is stored (a bot from before origins were, whose history did not say). */
export function originWords(origin: ActionOrigin | null): string | null {
  return origin === null ? null : ORIGIN_WORDS[origin] ?? null;
}

/**
 * What Upcoming says beneath a bot's source (SOURCE_WORDS, where its meeting came from) of what
 * booked it (originWords); null when nothing is known, or when its source says it already (a bot
 * auto-schedule booked beside Auto-schedule).
 */
export function originBesideSource(origin: ActionOrigin | null, source: string): string | null {
  if (origin === 'auto_schedule' && source === 'auto_schedule') return null;
  return originWords(origin);
}

/** What Upcoming says beneath the source of a calendar bot none of whose calendar events holds it any more (unlinkedEventNote), and the Bot page beside each event that let go of its bot. */
export const UNLINKED_EVENT_WORDS = 'Removed from its calendar event';

/**
 * Whether the Bot page says "Removed from its calendar event" beside one of the bot's events: the
 * API's `removed_at`, set for an event that let go of the bot while the bot was live, whether the
 * bot stayed on or ended for it, and null for an event the bot let go of by ending (`is_linked`
 * false then too), which took nothing from it.
 */
export function saysEventLetGo(link: { removed_at: string | null }): boolean {
  return link.removed_at !== null;
}

/**
 * Beneath an upcoming bot's source: that the calendar event it was booked for no longer holds it
 * (deleted or cancelled, its meeting link taken out, unscheduled, its calendar disconnected) while
 * the bot stays in its meeting, for a bot from a calendar (`calendar`, `auto_schedule`) with no
 * linked calendar event left; null otherwise. Such a bot still came from its calendar: the API
 * says `calendar` and lists the events it had, with is_linked false.
 */
export function unlinkedEventNote(bot: { source: string; events: readonly { calendar_id: string | null; is_linked: boolean }[] }): string | null {
  if (bot.source !== 'calendar' && bot.source !== 'auto_schedule') return null;
  return bot.events.some((e) => e.calendar_id !== null && e.is_linked) ? null : UNLINKED_EVENT_WORDS;
}

/**
 * A deduplication key in words when the bot's booking set it: "Chosen by the dashboard" for the
 * Events page's Schedule bot (`dashboard:<event id>`), "Set by auto-schedule" for auto-schedule's
 * (`auto:...`), as the API's `origin` says what booked the bot. Null for any other key, one whose
 * bot came from elsewhere (a client's own key that happens to start the same way), or one whose
 * bot has no origin stored (booked before origins were, by a version whose reasons did not say):
 * it is shown as it was given.
 */
export function deduplicationKeyWords(key: string, origin: ActionOrigin | null): string | null {
  if (origin === 'dashboard' && key.startsWith('dashboard:')) return 'Chosen by the dashboard';
  if (origin === 'auto_schedule' && key.startsWith('auto:')) return 'Set by auto-schedule';
  return null;
}

/**
 * A reason shown beside its status (or a decision beside its kind) without saying that again:
 * "Cancelled from the dashboard" beside Cancelled reads "From the dashboard". A reason that is only
 * the status says nothing more (empty).
 */
export function withoutRepeatedLead(lead: string, reason: string): string {
  if (lead === '' || reason.slice(0, lead.length).toLowerCase() !== lead.toLowerCase()) return reason;
  const rest = reason.slice(lead.length);
  if (rest === '') return '';
  const after = /^(?::\s*|\s+)(.*)$/s.exec(rest);
  if (after === null) return reason;
  const words = after[1] ?? '';
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The meeting identities (zoom:81234567055) a bot's decisions name, once each, as they first name them. */
export function meetingIdentitiesOf(decisions: readonly { details: Record<string, unknown> }[]): string[] {
  const identities = new Set<string>();
  for (const d of decisions) if (typeof d.details.meeting_identity === 'string' && d.details.meeting_identity !== '') identities.add(d.details.meeting_identity);
  return [...identities];
}

/**
 * A reason without the meeting's identity in brackets ("Scheduled for “Design review”
 * (zoom:81234567055); …" reads "Scheduled for “Design review”; …") when it is the only meeting the
 * bot's log names: the page's Meeting says which it is, and Ids has the identity. A log naming two
 * or more (the event's link changed to another meeting) keeps each, to tell them apart.
 */
export function withoutSoleMeetingIdentity(text: string, identities: readonly string[]): string {
  const [identity] = identities;
  if (identities.length !== 1 || identity === undefined) return text;
  return text.replace(new RegExp(` \\(${escapeRegExp(identity)}\\)`, 'g'), '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
