/**
 * Zone names as calendar providers write them, turned into IANA names.
 *
 * Google and ICS feeds write IANA names ('Europe/Berlin'). Microsoft Graph and Outlook's ICS
 * exports write Windows names ('W. Europe Standard Time'), in `originalStartTimeZone`,
 * `recurrence.range.recurrenceTimeZone` and `start.timeZone` (Graph, "dateTimeTimeZone resource
 * type": "See TimeZoneInfo.Id in .NET" for the Windows names it may hold). The mapping is Unicode
 * CLDR's windowsZones table, from the `windows-iana` package, which tracks CLDR releases; the zone
 * chosen is CLDR's territory "001" one, the zone CLDR names first for the Windows zone.
 */
import { findIana, WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { isValidTimeZone } from '../../domain/recurrence.ts';

/** Windows name (exactly, and lower-cased) to the IANA zone CLDR gives it for territory 001. */
const WINDOWS_ZONES = new Map<string, string>();
for (const { windowsName, territory } of WINDOWS_TO_IANA_MAP) {
  if (territory !== '001' || WINDOWS_ZONES.has(windowsName)) continue;
  // The first name is CLDR's own; a runtime whose tz data lacks it (renamed zones) takes the
  // first alias it knows.
  const zone = findIana(windowsName, '001').find(isValidTimeZone);
  if (zone === undefined) continue;
  WINDOWS_ZONES.set(windowsName, zone);
  WINDOWS_ZONES.set(windowsName.toLowerCase(), zone);
}

/** An IANA zone for a zone name as providers write it (IANA, or a Windows name); null if unknown. */
export function ianaZoneOf(name: string | null | undefined): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) return null;
  const trimmed = name.trim();
  if (isValidTimeZone(trimmed)) return trimmed;
  return WINDOWS_ZONES.get(trimmed) ?? WINDOWS_ZONES.get(trimmed.toLowerCase()) ?? null;
}

/**
 * Zones to try first when a feed's own zone definition is matched against the IANA zones: of
 * several zones with the same offsets and rules, the first that matches names the event. The zones
 * most calendars are in come first (so US Pacific rules read as America/Los_Angeles, not
 * America/Tijuana, which has kept the same rules since 2010), then every zone a Windows name stands
 * for, each once.
 */
export function familiarZones(): readonly string[] {
  return FAMILIAR;
}

const MOST_NAMED = [
  'UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Europe/Warsaw', 'Europe/Budapest', 'Europe/Bucharest',
  'Europe/Kiev', 'Europe/Chisinau', 'Europe/Moscow', 'Atlantic/Reykjavik', 'America/New_York', 'America/Chicago',
  'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'America/Halifax',
  'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Shanghai', 'Asia/Tokyo', 'Asia/Seoul', 'Asia/Singapore', 'Asia/Dubai',
  'Asia/Jerusalem', 'Africa/Johannesburg', 'Australia/Sydney', 'Australia/Brisbane', 'Australia/Perth', 'Pacific/Auckland',
];

const FAMILIAR: readonly string[] = [...new Set([...MOST_NAMED.filter(isValidTimeZone), ...WINDOWS_ZONES.values()])];
