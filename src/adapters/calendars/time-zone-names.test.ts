import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarZones, ianaZoneOf } from './time-zone-names.ts';

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
  // CLDR names Nepal's zone by its old spelling, which runtimes keep as a link.
  const nepal = ianaZoneOf('Nepal Standard Time');
  assert.ok(nepal === 'Asia/Katmandu' || nepal === 'Asia/Kathmandu', String(nepal));
  assert.match(new Intl.DateTimeFormat('en', { timeZone: nepal!, timeZoneName: 'longOffset' }).format(Date.parse('2026-06-01T00:00:00Z')), /GMT\+05:45/);
  assert.equal(ianaZoneOf('Cen. Australia Standard Time'), 'Australia/Adelaide');
  assert.equal(ianaZoneOf('Morocco Standard Time'), 'Africa/Casablanca');
  assert.equal(ianaZoneOf('UTC-11'), 'Etc/GMT+11');
  assert.equal(ianaZoneOf('pacific sa standard time'), 'America/Santiago');
});

test('unknown, empty, custom and oversized names map to no zone', () => {
  for (const name of [null, undefined, '', '   ', 'Mars Standard Time', 'tzone://Microsoft/Custom', 'Customized Time Zone', '+02:00', 'x'.repeat(10_000)]) {
    assert.equal(ianaZoneOf(name), null, String(name).slice(0, 40));
  }
});

test('every Windows zone maps to a zone this runtime knows, and the familiar list holds each once', () => {
  const zones = familiarZones();
  assert.ok(zones.length > 120, `only ${zones.length} zones`);
  assert.equal(new Set(zones).size, zones.length);
  for (const zone of zones) assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: zone }), zone);
});

test('of zones with the same rules, the one most calendars name is tried first', () => {
  const zones = familiarZones();
  const before = (a: string, b: string) => assert.ok(zones.indexOf(a) >= 0 && zones.indexOf(a) < zones.indexOf(b), `${a} after ${b}`);
  before('America/Los_Angeles', 'America/Tijuana');
  before('America/New_York', 'America/Indianapolis');
  before('America/New_York', 'America/Port-au-Prince');
  before('Europe/Berlin', 'Europe/Paris');
});
