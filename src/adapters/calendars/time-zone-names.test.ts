import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { isValidTimeZone } from '../../domain/recurrence.ts';
import { familiarZones, ianaZoneOf, isListedZoneName } from './time-zone-names.ts';

/** The zone's UTC offset at an instant, as "+05:45". */
function offsetAt(zone: string, iso: string): string {
  const name = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(Date.parse(iso)).find((p) => p.type === 'timeZoneName')!.value;
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

test('IANA names stand for themselves; Windows names map to CLDR\'s zone for them', () => {
  assert.equal(ianaZoneOf('Europe/Berlin'), 'Europe/Berlin');
  assert.equal(ianaZoneOf(' America/Sao_Paulo '), 'America/Sao_Paulo');
  assert.equal(ianaZoneOf('W. Europe Standard Time'), 'Europe/Berlin');
  assert.equal(ianaZoneOf('Pacific Standard Time'), 'America/Los_Angeles');
  // Names well outside the common few, as Graph writes them in originalStartTimeZone.
  assert.equal(ianaZoneOf('Arab Standard Time'), 'Asia/Riyadh');
  assert.equal(ianaZoneOf('Egypt Standard Time'), 'Africa/Cairo');
  assert.equal(ianaZoneOf('Pacific SA Standard Time'), 'America/Santiago');
  assert.equal(ianaZoneOf('SA Pacific Standard Time'), 'America/Bogota');
  assert.equal(ianaZoneOf('Pakistan Standard Time'), 'Asia/Karachi');
  assert.equal(ianaZoneOf('Cen. Australia Standard Time'), 'Australia/Adelaide');
  assert.equal(ianaZoneOf('Morocco Standard Time'), 'Africa/Casablanca');
  assert.equal(ianaZoneOf('UTC-11'), 'Etc/GMT+11');
  assert.equal(ianaZoneOf('pacific sa standard time'), 'America/Santiago');
  // Current IANA names rather than the old spellings CLDR keeps.
  assert.equal(ianaZoneOf('Nepal Standard Time'), 'Asia/Kathmandu');
  assert.equal(ianaZoneOf('Myanmar Standard Time'), 'Asia/Yangon');
  assert.equal(ianaZoneOf('Greenland Standard Time'), 'America/Nuuk');
});

test('the names Rollcall always knew keep their zones', () => {
  // The table before CLDR's came in; stored zones must not change under users.
  const before: Record<string, string> = {
    'UTC': 'UTC', 'GMT Standard Time': 'Europe/London', 'Greenwich Standard Time': 'Atlantic/Reykjavik', 'W. Europe Standard Time': 'Europe/Berlin',
    'Central Europe Standard Time': 'Europe/Budapest', 'Central European Standard Time': 'Europe/Warsaw', 'Romance Standard Time': 'Europe/Paris',
    'E. Europe Standard Time': 'Europe/Chisinau', 'FLE Standard Time': 'Europe/Kiev', 'GTB Standard Time': 'Europe/Bucharest', 'Russian Standard Time': 'Europe/Moscow',
    'Eastern Standard Time': 'America/New_York', 'Central Standard Time': 'America/Chicago', 'Mountain Standard Time': 'America/Denver',
    'US Mountain Standard Time': 'America/Phoenix', 'Pacific Standard Time': 'America/Los_Angeles', 'Alaskan Standard Time': 'America/Anchorage',
    'Hawaiian Standard Time': 'Pacific/Honolulu', 'Atlantic Standard Time': 'America/Halifax', 'E. South America Standard Time': 'America/Sao_Paulo',
    'India Standard Time': 'Asia/Kolkata', 'China Standard Time': 'Asia/Shanghai', 'Tokyo Standard Time': 'Asia/Tokyo', 'Korea Standard Time': 'Asia/Seoul',
    'Singapore Standard Time': 'Asia/Singapore', 'Arabian Standard Time': 'Asia/Dubai', 'Israel Standard Time': 'Asia/Jerusalem',
    'South Africa Standard Time': 'Africa/Johannesburg', 'AUS Eastern Standard Time': 'Australia/Sydney', 'E. Australia Standard Time': 'Australia/Brisbane',
    'W. Australia Standard Time': 'Australia/Perth', 'New Zealand Standard Time': 'Pacific/Auckland',
  };
  for (const [name, zone] of Object.entries(before)) assert.equal(ianaZoneOf(name), zone, name);
  assert.deepEqual(familiarZones(), Object.values(before));
});

test('Windows zones whose places changed their clocks after the package\'s copy of CLDR keep the Windows zone\'s offset', () => {
  // (UTC-07:00) Chihuahua, La Paz, Mazatlan: CLDR now names America/Mazatlan (Chihuahua keeps UTC-6 since 2022).
  assert.equal(ianaZoneOf('Mountain Standard Time (Mexico)'), 'America/Mazatlan');
  assert.equal(offsetAt(ianaZoneOf('Mountain Standard Time (Mexico)')!, '2026-07-01T12:00:00Z'), '-07:00');
  // (UTC+06:00) Astana: CLDR now names Asia/Bishkek (Almaty keeps UTC+5 since 2024).
  assert.equal(ianaZoneOf('Central Asia Standard Time'), 'Asia/Bishkek');
  assert.equal(offsetAt(ianaZoneOf('Central Asia Standard Time')!, '2026-07-01T12:00:00Z'), '+06:00');
});

test('every Windows name CLDR lists maps to a zone this runtime knows', () => {
  const names = new Set(WINDOWS_TO_IANA_MAP.map((entry) => entry.windowsName));
  assert.ok(names.size > 130, `${names.size} names`);
  for (const name of names) {
    const zone = ianaZoneOf(name);
    assert.ok(zone !== null, name);
    assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: zone }), name);
  }
});

test('unknown, empty, custom and oversized names map to no zone', () => {
  for (const name of [null, undefined, '', '   ', 'Mars Standard Time', 'tzone://Microsoft/Custom', 'Customized Time Zone', '+02:00', 'x'.repeat(10_000)]) {
    assert.equal(ianaZoneOf(name), null, String(name).slice(0, 40));
  }
});

test('the listed zone names: the runtime\'s zones and CLDR\'s aliases, exactly as spelled; made-up names and other cases are not listed', () => {
  for (const zone of Intl.supportedValuesOf('timeZone')) assert.equal(isListedZoneName(zone), true, zone);
  for (const zone of ['Asia/Kolkata', 'Asia/Calcutta', 'US/Eastern', 'UTC', 'Etc/UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'Europe/Berlin']) assert.equal(isListedZoneName(zone), true, zone);
  for (const name of ['Made/Up', 'europe/berlin', 'EUROPE/BERLIN', '/citadel.org/20190903_1/Europe/Berlin', 'W. Europe Standard Time', '']) assert.equal(isListedZoneName(name), false, name);
});

/** The system's tzdata in its compact form (zones `Z name ...`, links `L target name`), when installed. */
const TZDATA = '/usr/share/zoneinfo/tzdata.zi';

test('every IANA zone and link the system\'s tzdata names that the runtime accepts is listed (Europe/Kyiv, Pacific/Kanton, CET...)', { skip: !existsSync(TZDATA) && `no ${TZDATA}` }, () => {
  const names: string[] = [];
  for (const line of readFileSync(TZDATA, 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[0] === 'Z') names.push(fields[1]!);
    if (fields[0] === 'L') names.push(fields[2]!);
  }
  assert.ok(names.length > 500, `${names.length} names read from ${TZDATA}`);
  const unlisted = names.filter((name) => isValidTimeZone(name) && !isListedZoneName(name));
  assert.deepEqual(unlisted, []);
});
