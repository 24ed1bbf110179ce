// The calendars a decision's reason names, named as people know them. The server writes a
// connection by its id and the API's word for its provider ("calendar connection cal_1x2y (microsoft)
// lost its access"), which is what API clients read and match on (docs/behaviour.md); whoever reads
// the bot's page knows the account or feed instead, so the page names it as Calendars does, from the
// connections as they are now: "the Microsoft Outlook account ana@contoso.example lost its access".
import { connectionNames, PROVIDER_WORDS } from './connection-names.ts';
import type { Connection } from './types.ts';

/** The API's word for a provider as the server writes it in reasons (the stored one: `microsoft`). */
const REASON_PROVIDER_WORDS: Record<string, string> = { ...PROVIDER_WORDS, microsoft: PROVIDER_WORDS.outlook };

/**
 * "calendar connection cal_… (google)", "connection cal_… (ics)", "Calendar connection cal_…", and
 * after a connection, the calendars of it a failing sync is about (", calendars A, B,"), by their
 * provider ids.
 */
const CONNECTION_IN_REASON = /\b(calendar connection|Calendar connection|connection) (cal_[a-z0-9]+)(?: \(([a-z]+)\))?(?:, (calendars?) (.+?),(?= has failed))?/g;

/** "a Google Calendar", "an ICS feed" (said "eye-see-ess"). */
function withArticle(words: string): string {
  return `${/^[AEIOU]/.test(words) ? 'an' : 'a'} ${words}`;
}

/**
 * The reason with each connection it names as the person knows it: the account's address with the
 * provider in words, or the feed's name. `connections` null: not read (yet, or the read failed),
 * and nothing can be said of names: the provider is said in words, the connection by its id. A
 * connection the list lacks was disconnected since, and its name went with it: the page says so.
 */
export function nameCalendarsInReason(text: string, connections: readonly Connection[] | null): string {
  const names = connectionNames(connections ?? []);
  return text.replace(CONNECTION_IN_REASON, (_, lead: string, id: string, provider: string | undefined, calendarWord: string | undefined, calendarIds: string | undefined) => {
    const connection = connections?.find((c) => c.calendar_id === id);
    const providerWords = provider === undefined ? undefined : REASON_PROVIDER_WORDS[provider];
    let phrase: string;
    if (connections === null) phrase = `${lead} ${id}${providerWords ? ` (${providerWords})` : provider ? ` (${provider})` : ''}`;
    else if (connection === undefined) phrase = `${withArticle(providerWords ?? 'calendar')} connection since disconnected (${id}, its name is no longer known)`;
    else if (connection.provider === 'ics') phrase = `the ICS feed ${names.get(id)}`;
    else if (connection.user_email || connection.user_name) phrase = `the ${PROVIDER_WORDS[connection.provider] ?? connection.provider} account ${names.get(id)}`;
    // "Google Calendar account without an email address", and its id's end when two read alike.
    else phrase = `the ${names.get(id)}`;
    if (lead.startsWith('C')) phrase = phrase.charAt(0).toUpperCase() + phrase.slice(1);
    if (calendarWord === undefined || calendarIds === undefined) return phrase;
    // The calendars by the names the account gives them, where the connection still lists them.
    const calendarNames = calendarIds.split(', ').map((calendarId) => connection?.calendars.find((c) => c.id === calendarId)?.summary || calendarId);
    return `${phrase}, ${calendarWord} ${calendarNames.join(', ')},`;
  });
}

/** Whether the reason names a connection (the page reads the connections to name it). */
export function reasonNamesConnection(text: string): boolean {
  return new RegExp(CONNECTION_IN_REASON.source).test(text);
}
