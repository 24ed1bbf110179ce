/**
 * Zone names as calendar providers write them, turned into IANA names.
 *
 * Google and ICS feeds write IANA names ('Europe/Berlin'). Microsoft Graph and Outlook's ICS
 * exports write Windows names ('W. Europe Standard Time'), in `originalStartTimeZone`,
 * `recurrence.range.recurrenceTimeZone` and `start.timeZone` (Graph, "dateTimeTimeZone resource
 * type": "See TimeZoneInfo.Id in .NET" for the Windows names it may hold). The mapping is Unicode
 * CLDR's windowsZones table (common/supplemental/windowsZones.xml), its territory "001" zone for
 * each Windows name, from the `windows-iana` package, with two kinds of corrections kept here:
 *
 * - entries CLDR has changed since the package's copy was taken (CORRECTED), so that a meeting is
 *   not placed an hour off;
 * - the zones Rollcall has always given the most used names (MOST_NAMED), and current IANA names
 *   for the old spellings CLDR keeps (CURRENT_NAMES), so that stored zones do not change for names
 *   Rollcall already knew and new ones read as people write them.
 */
import { findIana, IANA_ALIAS_MAP, WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { isValidTimeZone } from '../../domain/recurrence.ts';

/**
 * The most used Windows names and their zones, as Rollcall has mapped them from the start. Their
 * zones, in this order, are also the ones tried first when a feed's own zone definition is
 * matched against the IANA zones (familiarZones): of zones with the same rules, the first wins.
 */
const MOST_NAMED: ReadonlyArray<readonly [string, string]> = [
  ['UTC', 'UTC'], ['GMT Standard Time', 'Europe/London'], ['Greenwich Standard Time', 'Atlantic/Reykjavik'],
  ['W. Europe Standard Time', 'Europe/Berlin'], ['Central Europe Standard Time', 'Europe/Budapest'],
  ['Central European Standard Time', 'Europe/Warsaw'], ['Romance Standard Time', 'Europe/Paris'],
  ['E. Europe Standard Time', 'Europe/Chisinau'], ['FLE Standard Time', 'Europe/Kiev'], ['GTB Standard Time', 'Europe/Bucharest'],
  ['Russian Standard Time', 'Europe/Moscow'], ['Eastern Standard Time', 'America/New_York'], ['Central Standard Time', 'America/Chicago'],
  ['Mountain Standard Time', 'America/Denver'], ['US Mountain Standard Time', 'America/Phoenix'],
  ['Pacific Standard Time', 'America/Los_Angeles'], ['Alaskan Standard Time', 'America/Anchorage'],
  ['Hawaiian Standard Time', 'Pacific/Honolulu'], ['Atlantic Standard Time', 'America/Halifax'],
  ['E. South America Standard Time', 'America/Sao_Paulo'], ['India Standard Time', 'Asia/Kolkata'],
  ['China Standard Time', 'Asia/Shanghai'], ['Tokyo Standard Time', 'Asia/Tokyo'], ['Korea Standard Time', 'Asia/Seoul'],
  ['Singapore Standard Time', 'Asia/Singapore'], ['Arabian Standard Time', 'Asia/Dubai'], ['Israel Standard Time', 'Asia/Jerusalem'],
  ['South Africa Standard Time', 'Africa/Johannesburg'], ['AUS Eastern Standard Time', 'Australia/Sydney'],
  ['E. Australia Standard Time', 'Australia/Brisbane'], ['W. Australia Standard Time', 'Australia/Perth'],
  ['New Zealand Standard Time', 'Pacific/Auckland'],
];

/**
 * Entries CLDR has changed after the copy `windows-iana` carries: Chihuahua has kept UTC-6 all
 * year since 2022 while the Windows zone stays UTC-7 (CLDR maps it to America/Mazatlan), and
 * Almaty moved to UTC+5 in 2024 while the Windows zone stays UTC+6 (CLDR maps it to Asia/Bishkek).
 */
const CORRECTED: Readonly<Record<string, string>> = {
  'Mountain Standard Time (Mexico)': 'America/Mazatlan',
  'Central Asia Standard Time': 'Asia/Bishkek',
};

/** Current IANA names for the old spellings CLDR keeps as its identifiers (IANA keeps them as links). */
const CURRENT_NAMES: Readonly<Record<string, string>> = {
  'Asia/Calcutta': 'Asia/Kolkata', 'Asia/Katmandu': 'Asia/Kathmandu', 'Asia/Rangoon': 'Asia/Yangon', 'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires', 'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis', 'Etc/UTC': 'UTC',
};

/** Each Windows name CLDR lists (and the ones above), exactly as written, and its zone. */
const WINDOWS_ZONES = new Map<string, string>();
/** Windows names by their lower-cased spelling, for names written in another case. */
const BY_LOWER_CASE = new Map<string, string>();
const MOST_NAMED_MAP = new Map(MOST_NAMED);
for (const name of new Set([...MOST_NAMED_MAP.keys(), ...Object.keys(CORRECTED), ...WINDOWS_TO_IANA_MAP.map((entry) => entry.windowsName)])) {
  // A runtime that lacks a zone's name takes the next alias CLDR gives that it knows.
  // A corrected name takes its correction or nothing: the package's zone for it is an hour off.
  const candidates = CORRECTED[name] !== undefined ? [CORRECTED[name]]
    : [MOST_NAMED_MAP.get(name), ...findIana(name, '001').map((alias) => CURRENT_NAMES[alias] ?? alias), ...findIana(name, '001')];
  const zone = candidates.find((candidate): candidate is string => candidate !== undefined && isValidTimeZone(candidate));
  if (zone === undefined) continue;
  WINDOWS_ZONES.set(name, zone);
  BY_LOWER_CASE.set(name.toLowerCase(), name);
}

/** An IANA zone for a zone name as providers write it (IANA, or a Windows name); null if unknown. */
export function ianaZoneOf(name: string | null | undefined): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) return null;
  const trimmed = name.trim();
  if (isValidTimeZone(trimmed)) return trimmed;
  return windowsZoneOf(trimmed);
}

/** The IANA zone of a Windows zone name, in any case; null for any other name (an IANA one too: ianaZoneOf checks those first). */
export function windowsZoneOf(name: string): string | null {
  if (name.length === 0 || name.length > 200) return null;
  const trimmed = name.trim();
  return WINDOWS_ZONES.get(trimmed) ?? WINDOWS_ZONES.get(BY_LOWER_CASE.get(trimmed.toLowerCase()) ?? '') ?? null;
}

/**
 * IANA names that neither the runtime's list nor CLDR's aliases spell: zones renamed after CLDR
 * took its identifiers (tzdata 2022b renamed Europe/Kiev to Europe/Kyiv, 2021b Pacific/Enderbury to
 * Pacific/Kanton; both are what current calendars write), and the old European zones IANA keeps as
 * links. The unit test compares the list with the system's tzdata when it has one.
 */
const NAMES_NEWER_THAN_CLDR: readonly string[] = ['Europe/Kyiv', 'Pacific/Kanton', 'CET', 'EET', 'MET', 'WET'];

/**
 * The zone names calendars write, exactly as spelled: the runtime's own list (ICU's canonical
 * names, some of them old spellings such as Asia/Calcutta), CLDR's aliases of each zone (its
 * timezone.xml, from the `windows-iana` package: Asia/Kolkata, US/Eastern, UTC, Etc/GMT+5...),
 * the zones of its Windows table, the names above, and NAMES_NEWER_THAN_CLDR. A list of names worth checking, not of
 * answers: a name on it is still checked (isValidTimeZone), as the runtime may lack one (CLDR
 * lists Etc/Unknown, which the runtime refuses), and a name off it may still be a zone (a newer
 * alias, or a name in another case).
 */
const LISTED_NAMES: ReadonlySet<string> = new Set([
  ...Intl.supportedValuesOf('timeZone'),
  ...IANA_ALIAS_MAP.flatMap((entry) => entry.alias),
  ...WINDOWS_TO_IANA_MAP.flatMap((entry) => entry.iana),
  ...MOST_NAMED.map(([, zone]) => zone), ...Object.values(CORRECTED), ...Object.values(CURRENT_NAMES),
  ...NAMES_NEWER_THAN_CLDR,
]);

/** Whether a name is one calendars write for an IANA zone, spelled as listed (see LISTED_NAMES). */
export function isListedZoneName(name: string): boolean {
  return LISTED_NAMES.has(name);
}

/** The zones tried first when a feed's own zone definition is matched: the most named, in their order. */
export function familiarZones(): readonly string[] {
  return FAMILIAR;
}

const FAMILIAR: readonly string[] = MOST_NAMED.map(([, zone]) => zone).filter(isValidTimeZone);
