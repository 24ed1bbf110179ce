// Which calendars put a waiting bot at risk, named as the Calendars page names them, and what went
// wrong with each, in words: whoever reads the bot's page learns which account to connect again.
import { PROVIDER_WORDS } from './connection-names.ts';
import type { AtRiskCalendar } from './types.ts';

/**
 * "the feed Old (feeds.example), whose access was revoked", "calendar Colleague of
 * alice@contoso.example, which refuses Rollcall or is gone". `connectionNames` are the names the
 * Calendars page gives its connections (connectionNames); a connection it does not list (not loaded
 * yet) goes by its account, else its id.
 */
export function atRiskCalendarWords(calendars: readonly AtRiskCalendar[], connectionNames: ReadonlyMap<string, string>): string {
  if (calendars.length === 0) return 'a calendar whose access was lost';
  const named = calendars.map((calendar) => {
    const connection = connectionNameOf(calendar, connectionNames);
    const why = calendar.cause === 'calendar_refused' ? 'which refuses Rollcall or is gone'
      : calendar.cause === 'connection_revoked' ? (calendar.provider === 'ics' ? 'whose access was revoked' : 'whose connection lost its access')
        : `which cannot be read (${calendar.cause})`;
    if (calendar.provider === 'ics') return `the feed ${connection}, ${why}`;
    return `calendar ${calendar.name ?? calendar.provider_calendar_id ?? 'without a name'} of ${connection}, ${why}`;
  });
  // Each is a clause with commas of its own: semicolons keep them apart.
  return named.length === 1 ? named[0]! : `${named.slice(0, -1).join('; ')}; and ${named.at(-1)!}`;
}

/** The calendar's connection as Calendars names it; while that list is not at hand, a feed by its calendar's name, an account by its address, else by its id. */
function connectionNameOf(calendar: AtRiskCalendar, connectionNames: ReadonlyMap<string, string>): string {
  const fallback = calendar.provider === 'ics' && calendar.name ? calendar.name : calendar.account ?? calendar.calendar_id;
  return connectionNames.get(calendar.calendar_id) ?? fallback;
}

/**
 * The calendars in short, for a list's row: "ICS feed Old (feeds.example)", "Microsoft Outlook
 * calendar Colleague of ana@contoso.example"; the provider in words, as Calendars says it.
 */
export function atRiskCalendarLabels(calendars: readonly AtRiskCalendar[], connectionNames: ReadonlyMap<string, string>): string[] {
  return calendars.map((calendar) => {
    const connection = connectionNameOf(calendar, connectionNames);
    const provider = PROVIDER_WORDS[calendar.provider] ?? calendar.provider;
    if (calendar.provider === 'ics') return `${provider} ${connection}`;
    return `${provider} calendar ${calendar.name ?? calendar.provider_calendar_id ?? 'without a name'} of ${connection}`;
  });
}

/** Whether every calendar is one the account itself can no longer read (its connection still works): access to the calendar is what to fix, not the connection. */
export function isOnlyRefused(calendars: readonly AtRiskCalendar[]): boolean {
  return calendars.length > 0 && calendars.every((calendar) => calendar.cause === 'calendar_refused');
}
