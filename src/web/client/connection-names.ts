// What a calendar connection is called, the same on every page that names one (Calendars'
// headings, the calendar filters of Upcoming, Ended and Events, the reasons of a bot's decisions).
import type { Connection } from './types.ts';

/** The provider as people know it; the API's own words (`outlook`, `ics`) mean little to them. */
export const PROVIDER_WORDS: Record<Connection['provider'], string> = { ics: 'ICS feed', google: 'Google Calendar', outlook: 'Microsoft Outlook' };

/**
 * What a name is: an account's address or its owner's name, a feed's own name or address, or, for
 * an account the provider gave neither, words that describe it ("Google Calendar account without an
 * email address"), which a sentence names with "the".
 */
export type NameKind = 'account' | 'feed' | 'description';

export interface ConnectionName {
  text: string;
  kind: NameKind;
}

/**
 * The account's address, or a feed's own name (X-WR-CALNAME) beside its address (shortened to its
 * host by the API). An account the provider gave no address for goes by the person's name, else
 * says that it has none (its id, which says nothing to anyone, is added only to tell two apart).
 */
function baseName(connection: Connection): ConnectionName {
  if (connection.provider === 'ics') {
    const feedName = connection.calendars[0]?.summary;
    const address = connection.ics_url !== null ? feedHost(connection.ics_url) : connection.calendar_id;
    return { text: feedName ? `${feedName} (${address})` : address, kind: 'feed' };
  }
  const account = connection.user_email || connection.user_name;
  if (account) return { text: account, kind: 'account' };
  return { text: `${PROVIDER_WORDS[connection.provider] ?? connection.provider} account without an email address`, kind: 'description' };
}

/**
 * A feed's address shortened to its host ("feeds.example"): the API shows it without its path
 * ("https://feeds.example/…"), and the scheme and the ellipsis say nothing to a person. An address
 * that does not parse is shown as it is.
 */
export function feedHost(address: string): string {
  try {
    return new URL(address.replace(/^webcals?:\/\//i, 'https://')).host || address;
  } catch {
    return address;
  }
}

/**
 * The name of each connection, by its id, and what kind of name it is. Feeds without a name of
 * their own on one host would all read "host"; a name that more than one connection would have
 * gets the end of each one's id, so that headings and filter options can be told apart (by screen
 * reader users too, who hear them out of their cards).
 */
export function connectionNamesWithKinds(connections: readonly Connection[]): Map<string, ConnectionName> {
  const bases = connections.map((c) => [c.calendar_id, baseName(c)] as const);
  const uses = new Map<string, number>();
  for (const [, name] of bases) uses.set(name.text, (uses.get(name.text) ?? 0) + 1);
  return new Map(bases.map(([id, name]) => [id, (uses.get(name.text) ?? 0) > 1 ? { ...name, text: `${name.text} · id …${id.slice(-6)}` } : name]));
}

/** The name of each connection, by its id (see connectionNamesWithKinds). */
export function connectionNames(connections: readonly Connection[]): Map<string, string> {
  return new Map([...connectionNamesWithKinds(connections)].map(([id, name]) => [id, name.text]));
}
