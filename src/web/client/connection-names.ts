// What a calendar connection is called, the same on every page that names one (Calendars'
// headings, the calendar filters of Upcoming, Ended and Events).
import type { Connection } from './types.ts';

/** The account's address, or a feed's own name (X-WR-CALNAME) beside its address (shortened to its host by the API). */
function baseName(connection: Connection): string {
  if (connection.user_email) return connection.user_email;
  const feedName = connection.provider === 'ics' ? connection.calendars[0]?.summary : null;
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
