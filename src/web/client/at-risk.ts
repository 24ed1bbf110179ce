// Which calendars put a waiting bot at risk, named as the Calendars page names them, and what went
// wrong with each, in words: whoever reads the bot's page learns which account to connect again.
import type { ConnectionName } from './connection-names.ts';
import type { AtRiskCalendar } from './types.ts';

/** A calendar of each provider, as people call it ("Google calendar Team"; a feed is one calendar). */
const CALENDAR_NOUNS: Record<string, string> = { google: 'Google calendar', outlook: 'Outlook calendar', ics: 'ICS feed' };

/**
 * "the feed Old (feeds.example), whose access was revoked", "calendar Colleague of
 * alice@contoso.example, which refuses Rollcall or is gone". `connectionNames` are the names the
 * Calendars page gives its connections (connectionNamesWithKinds); a connection it does not list
 * (not loaded yet) goes by its account, else its id.
 */
export function atRiskCalendarWords(calendars: readonly AtRiskCalendar[], connectionNames: ReadonlyMap<string, ConnectionName>): string {
  if (calendars.length === 0) return 'a calendar whose access was lost';
  const named = calendars.map((calendar) => {
    const connection = connectionNameOf(calendar, connectionNames);
    const why = calendar.cause === 'calendar_refused' ? 'which refuses Rollcall or is gone'
      : calendar.cause === 'connection_revoked' ? (calendar.provider === 'ics' ? 'whose access was revoked' : 'whose connection lost its access')
        : `which cannot be read (${calendar.cause})`;
    if (calendar.provider === 'ics') return `the feed ${connection}, ${why}`;
    return `calendar ${calendarNameOf(calendar)} of ${connection}, ${why}`;
  });
  // Each is a clause with commas of its own: semicolons keep them apart.
  return named.length === 1 ? named[0]! : `${named.slice(0, -1).join('; ')}; and ${named.at(-1)!}`;
}

function calendarNameOf(calendar: AtRiskCalendar): string {
  return calendar.name ?? calendar.provider_calendar_id ?? 'without a name';
}

/**
 * The calendar's connection as Calendars names it ("the" before words that describe an account
 * without an address); while that list is not at hand, a feed by its calendar's name, an account
 * by its address, else by its id.
 */
function connectionNameOf(calendar: AtRiskCalendar, connectionNames: ReadonlyMap<string, ConnectionName>): string {
  const name = connectionNames.get(calendar.calendar_id);
  if (name !== undefined) return name.kind === 'description' ? `the ${name.text}` : name.text;
  return calendar.provider === 'ics' && calendar.name ? calendar.name : calendar.account ?? calendar.calendar_id;
}

/**
 * The calendars in short, for a list's row: "ICS feed Old (feeds.example)", "Outlook calendar
 * Colleague of ana@contoso.example"; what each is in words, as Calendars says it.
 */
export function atRiskCalendarLabels(calendars: readonly AtRiskCalendar[], connectionNames: ReadonlyMap<string, ConnectionName>): string[] {
  return calendars.map((calendar) => {
    const connection = connectionNameOf(calendar, connectionNames);
    const noun = CALENDAR_NOUNS[calendar.provider] ?? `${calendar.provider} calendar`;
    if (calendar.provider === 'ics') return `${noun} ${connection}`;
    return `${noun} ${calendarNameOf(calendar)} of ${connection}`;
  });
}

/**
 * What went wrong and what follows, in short, for a list's row (a touch screen has no title to
 * hover): "Feed access revoked: cancelled at its join time unless access returns."
 */
export function atRiskSummary(calendars: readonly AtRiskCalendar[]): string {
  const causes = [...new Set(calendars.map((calendar) => calendar.cause === 'calendar_refused' ? 'calendar refuses Rollcall or is gone'
    : calendar.cause === 'connection_revoked' ? (calendar.provider === 'ics' ? 'feed access revoked' : 'account lost its access')
      : `calendar cannot be read (${calendar.cause})`))];
  const cause = causes.length === 0 ? 'calendar access lost' : causes.join(' and ');
  return `${cause.charAt(0).toUpperCase()}${cause.slice(1)}: cancelled at its join time unless access returns.`;
}

/** Whether every calendar is one the account itself can no longer read (its connection still works): access to the calendar is what to fix, not the connection. */
export function isOnlyRefused(calendars: readonly AtRiskCalendar[]): boolean {
  return calendars.length > 0 && calendars.every((calendar) => calendar.cause === 'calendar_refused');
}
