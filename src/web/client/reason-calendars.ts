// The calendars a decision's reason names, named as people know them. The server writes a
// connection by its id and the API's word for its provider ("calendar connection cal_1x2y (microsoft)
// lost its access"), which is what API clients read and match on (docs/behaviour.md); whoever reads
// the bot's page knows the account or feed instead, so the page names it as Calendars does, from the
// connections as they are now: "the Microsoft Outlook account ana@contoso.example lost its access".
import { connectionNamesWithKinds, PROVIDER_WORDS } from './connection-names.ts';
import { describeSyncError } from './sync-error.ts';
import { atRiskCalendarWords } from './at-risk.ts';
import type { AtRiskCalendar, Connection } from './types.ts';

/** The API's word for a provider as the server writes it in reasons (the stored one: `microsoft`). */
const REASON_PROVIDER_WORDS: Record<string, string> = { ...PROVIDER_WORDS, microsoft: PROVIDER_WORDS.outlook };

/**
 * "calendar connection cal_… (google)", "connection cal_… (ics)", "Calendar connection cal_…", and
 * after a connection, the calendars of it a failing sync is about (", calendars A, B,"), by their
 * provider ids.
 */
const CONNECTION_IN_REASON = /\b(calendar connection|Calendar connection|connection) (cal_[a-z0-9]+)(?: \(([a-z]+)\))?(?:, (calendars?) (.+?),(?= has failed))?/g;
/** The first connection a reason names. */
const CONNECTION_IN_REASON_ONCE = new RegExp(CONNECTION_IN_REASON.source);

/** "a Google Calendar", "an ICS feed" (said "eye-see-ess"). */
function withArticle(words: string): string {
  return `${/^[AEIOU]/.test(words) ? 'an' : 'a'} ${words}`;
}

/**
 * A failing sync's last error, quoted after when it began failing: "… has failed to sync since
 * <instant> (permanent: calendar AAMk…=: HTTP 403). The bot keeps …".
 */
const QUOTED_SYNC_ERROR = /( has failed to sync since [^()]*? \()(.*)(\)\. The bot keeps the meeting as last synced)/;

/**
 * The reason with each connection it names as the person knows it: the account's address with the
 * provider in words, or the feed's name; a failing sync's quoted error as Calendars says it (its
 * kind in words, the calendar it names by its name). `connections` null: not read (yet, or the read
 * failed), and nothing can be said of names: the provider is said in words, the connection by its
 * id. A connection the list lacks was disconnected since, and its name went with it: the page says
 * so. `details`: the decision's; the connection it is about (`calendar_id`) is taken from there
 * where it is given, from the text otherwise.
 */
export function nameCalendarsInReason(text: string, connections: readonly Connection[] | null, details: Readonly<Record<string, unknown>> = {}): string {
  const names = connectionNamesWithKinds(connections ?? []);
  const aboutId = typeof details.calendar_id === 'string' ? details.calendar_id : undefined;
  const named = text.replace(CONNECTION_IN_REASON, (_, lead: string, id: string, provider: string | undefined, calendarWord: string | undefined, calendarIds: string | undefined) => {
    const connection = connections?.find((c) => c.calendar_id === id);
    const name = names.get(id);
    const providerWords = provider === undefined ? undefined : REASON_PROVIDER_WORDS[provider];
    let phrase: string;
    if (connections === null) phrase = `${lead} ${id}${providerWords ? ` (${providerWords})` : provider ? ` (${provider})` : ''}`;
    else if (connection === undefined || name === undefined) phrase = `${withArticle(providerWords ?? 'calendar')} connection since disconnected (${id}, its name is no longer known)`;
    else if (name.kind === 'feed') phrase = `the ICS feed ${name.text}`;
    else if (name.kind === 'account') phrase = `the ${PROVIDER_WORDS[connection.provider] ?? connection.provider} account ${name.text}`;
    // "Google Calendar account without an email address", and its id's end when two read alike.
    else phrase = `the ${name.text}`;
    if (lead.startsWith('C')) phrase = phrase.charAt(0).toUpperCase() + phrase.slice(1);
    if (calendarWord === undefined || calendarIds === undefined) return phrase;
    // The calendars by the names the account gives them, where the connection still lists them.
    const calendarNames = calendarIds.split(', ').map((calendarId) => connection?.calendars.find((c) => c.id === calendarId)?.summary || calendarId);
    return `${phrase}, ${calendarWord} ${calendarNames.join(', ')},`;
  });
  const about = connections?.find((c) => c.calendar_id === (aboutId ?? CONNECTION_IN_REASON_ONCE.exec(text)?.[2]));
  const unreadable = unreadableCalendarsOf(details, connections);
  return named.replace(QUOTED_SYNC_ERROR, (_, before: string, error: string, after: string) => `${before}${describeSyncError(error, about?.calendars ?? [])}${after}`)
    .replace(UNREADABLE_CALENDARS, (words) => unreadable === null ? words : `its meeting is only on ${atRiskCalendarWords(unreadable, names)}`);
}

/** How a bot booked at risk is told so: in general terms, its decision's details naming the calendars. */
const UNREADABLE_CALENDARS = "the calendars of this bot's meetings cannot be read (a connection that lost its access, or a calendar that refuses its reader or is gone)";

/**
 * The calendars a decision's details name (`calendars`: each by its connection's id, its provider
 * id and what went wrong), with their names from the connections as they are now; null when it
 * names none, or one of a connection not listed (not read, or disconnected since): the general
 * words then stand.
 */
function unreadableCalendarsOf(details: Readonly<Record<string, unknown>>, connections: readonly Connection[] | null): AtRiskCalendar[] | null {
  if (connections === null || !Array.isArray(details.calendars) || details.calendars.length === 0) return null;
  const calendars: AtRiskCalendar[] = [];
  for (const entry of details.calendars as unknown[]) {
    const calendar = entry as Partial<Record<keyof AtRiskCalendar, unknown>> | null;
    if (calendar === null || typeof calendar !== 'object' || typeof calendar.calendar_id !== 'string' || typeof calendar.cause !== 'string') return null;
    const connection = connections.find((c) => c.calendar_id === calendar.calendar_id);
    if (connection === undefined) return null;
    const providerCalendarId = typeof calendar.provider_calendar_id === 'string' ? calendar.provider_calendar_id : null;
    // A feed is one calendar; an account's is found by its provider id.
    const listed = connection.provider === 'ics' ? connection.calendars[0] : connection.calendars.find((c) => c.id === providerCalendarId);
    calendars.push({ calendar_id: calendar.calendar_id, provider: connection.provider, account: null, provider_calendar_id: providerCalendarId, name: listed?.summary ?? null, cause: calendar.cause });
  }
  return calendars;
}

/** Whether the reason names a connection (the page reads the connections to name it). */
export function reasonNamesConnection(text: string): boolean {
  return CONNECTION_IN_REASON_ONCE.test(text);
}
