// What a calendar connection is called, the same on every page that names one (Calendars'
// headings, the calendar filters of Upcoming, Ended and Events, the reasons of a bot's decisions).
import type { Connection } from './types.ts';

/** The provider as people know it; the API's own words (`outlook`, `ics`) mean little to them. */
export const PROVIDER_WORDS: Record<Connection['provider'], string> = { ics: 'ICS feed', google: 'Google Calendar', outlook: 'Microsoft Outlook' };

/**
 * The account's address, or a feed's own name (X-WR-CALNAME) beside its address (shortened to its
 * host by the API). An account the provider gave no address for goes by the person's name, else
 * says that it has none (its id, which says nothing to anyone, is added only to tell two apart).
 */
function baseName(connection: Connection): string {
  if (connection.user_email) return connection.user_email;
  if (connection.provider !== 'ics') return connection.user_name || `${PROVIDER_WORDS[connection.provider] ?? connection.provider} account without an email address`;
  const feedName = connection.calendars[0]?.summary;
  const address = connection.ics_url ?? connection.calendar_id;
  return feedName ? `${feedName} (${address})` : address;
}

/**
 * The name of each connection, by its id. Feeds without a name of their own on one host would all
 * read "host"; a name that more than one connection would have gets the end of each one's id, so
 * that headings and filter options can be told apart (by screen reader users too, who hear them
 * out of their cards).
 */
export function connectionNames(connections: readonly Connection[]): Map<string, string> {
  const bases = connections.map((c) => [c.calendar_id, baseName(c)] as const);
  const uses = new Map<string, number>();
  for (const [, name] of bases) uses.set(name, (uses.get(name) ?? 0) + 1);
  return new Map(bases.map(([id, name]) => [id, (uses.get(name) ?? 0) > 1 ? `${name} · id …${id.slice(-6)}` : name]));
}
