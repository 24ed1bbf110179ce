// A calendar sync error as people read it. The API stores it as "<kind>: <message>", the kind
// being how the provider failed (ProviderFailure in src/adapters/calendars/calendar-provider.ts),
// and a message about one calendar of an account names it by the provider's id ("calendar
// AAMkAD...=: Graph: HTTP 403"), which says nothing to whoever reads the card: the card lists
// that calendar by its name.
import { withLocalTimes } from './format.ts';

const KIND_WORDS: Record<string, string> = {
  auth_revoked: 'Access withdrawn',
  rate_limited: 'Slowed down by the provider',
  not_found: 'Not found at the provider',
  transient: 'Temporary failure',
  permanent: 'Refused',
};

/** The error with its kind in words and each calendar it names by its provider id named as the card lists it. */
export function describeSyncError(error: string, calendars: readonly { id: string; summary: string | null }[]): string {
  const separator = error.indexOf(': ');
  const name = separator === -1 ? '' : error.slice(0, separator);
  const kind = Object.hasOwn(KIND_WORDS, name) ? KIND_WORDS[name] : undefined;
  let text = kind === undefined ? error : `${kind}: ${error.slice(separator + 2)}`;
  for (const calendar of calendars) {
    if (calendar.summary) text = text.split(`calendar ${calendar.id}:`).join(`calendar ${calendar.summary}:`);
  }
  // Instants it names ("not called before ...Z", "read again at ...") in the viewer's time, as on the rest of the page.
  return withLocalTimes(text);
}
