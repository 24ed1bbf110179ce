// Where an all-day event's dates are read from: its start and end are midnights, and which
// zone's midnights depends on the provider that gave them. Free of imports, so that the dashboard
// reads dates by the same rule the server gives them with.

/**
 * The zone whose midnights an all-day event's start and end (and its occurrences' keys) are, so
 * that its dates can be read as the calendar has them; null for an event that is not all-day.
 * Google's `start.date` and a feed's date-valued DTSTART are read as midnight in the event's zone
 * (the calendar's, stored as its `timezone`). Graph gives an all-day event as midnight to midnight
 * whatever zone it was made in and whatever zone the request prefers (Microsoft's answer in
 * microsoftgraph/microsoft-graph-docs#1802), so Outlook's are midnights in UTC, while its
 * `timezone` is the zone the organiser's app was in.
 */
export function allDayZone(event: { is_all_day: boolean; platform: string | null; timezone: string | null }): string | null {
  if (!event.is_all_day) return null;
  if (event.platform === 'outlook_calendar') return 'UTC';
  return event.timezone ?? 'UTC';
}
