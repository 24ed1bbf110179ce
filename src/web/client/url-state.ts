// A list page's filters, time window and page, kept in the address's query: a reload, a link
// shared, or Back from a bot's page shows the same list. Each change replaces the address rather
// than adding a history entry (one per keystroke in a day field would make Back step through them).
import { useLocation } from 'preact-iso/router';

export type QueryChanges = Record<string, string | readonly string[] | null>;

export interface QueryState {
  params: URLSearchParams;
  /** Replaces the address with `changes` made: a string sets the key, a list sets one entry per item, null removes it. */
  update: (changes: QueryChanges) => void;
}

export function useQueryState(): QueryState {
  const { url, route } = useLocation();
  const params = new URLSearchParams(new URL(url, location.origin).search);
  return {
    params,
    update: (changes) => {
      // From the address as it is now: two changes before the next render both count.
      const next = new URLSearchParams(location.search);
      for (const [key, value] of Object.entries(changes)) {
        next.delete(key);
        if (value === null) continue;
        for (const item of typeof value === 'string' ? [value] : value) next.append(key, item);
      }
      const search = next.toString();
      route(`${location.pathname}${search === '' ? '' : `?${search}`}`, true);
    },
  };
}
