import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES, isAllDayEvent, meetingFactsOf, parseStoredRules, ruleRefusal, type AutoScheduleRules } from './auto-schedule-rules.ts';

const me = 'ana@acme.example';
const rules = (partial: Partial<AutoScheduleRules>): AutoScheduleRules => ({ ...DEFAULT_RULES, ...partial });
const single = { isRecurring: false, ownerEmail: me };

test('Google: organizer.self, the owner\'s own attendee entry, and every guest\'s domain but rooms', () => {
  const own = JSON.stringify({ organizer: { email: me, self: true }, attendees: [{ email: me, self: true, organizer: true, responseStatus: 'accepted' }, { email: 'bo@ACME.example' }, { email: 'c_1@resource.calendar.google.com', resource: true }] });
  assert.deepEqual(meetingFactsOf(own), { isOrganizer: true, isAccepted: true, domains: ['acme.example'] });
  // No guests: the owner's own meeting, accepted by definition.
  assert.deepEqual(meetingFactsOf(JSON.stringify({ organizer: { email: me, self: true } })), { isOrganizer: true, isAccepted: true, domains: ['acme.example'] });
  const invited = (answer: string) => JSON.stringify({ organizer: { email: 'x@partner.example' }, attendees: [{ email: 'x@partner.example', organizer: true, responseStatus: 'accepted' }, { email: me, self: true, responseStatus: answer }] });
  assert.deepEqual(meetingFactsOf(invited('tentative')), { isOrganizer: false, isAccepted: false, domains: ['partner.example', 'acme.example'] });
  assert.equal(meetingFactsOf(invited('accepted')).isAccepted, true);
  assert.equal(meetingFactsOf(invited('needsAction')).isAccepted, false);
});

test('Graph: isOrganizer, responseStatus.response, attendees by type', () => {
  const own = JSON.stringify({ isOrganizer: true, responseStatus: { response: 'organizer' }, organizer: { emailAddress: { address: me } }, attendees: [{ type: 'resource', emailAddress: { address: 'room@rooms.example' } }, { type: 'optional', emailAddress: { address: 'z@other.example' } }] });
  assert.deepEqual(meetingFactsOf(own), { isOrganizer: true, isAccepted: true, domains: ['acme.example', 'other.example'] });
  const invited = JSON.stringify({ isOrganizer: false, responseStatus: { response: 'tentativelyAccepted' }, organizer: { emailAddress: { address: 'x@partner.example' } }, attendees: [] });
  assert.deepEqual(meetingFactsOf(invited), { isOrganizer: false, isAccepted: false, domains: ['partner.example'] });
});

test('a feed\'s event, or a payload that is not an object, says nothing of the owner', () => {
  for (const raw of [JSON.stringify({ summary: 'From a feed', start: {}, iCalUID: 'a@b' }), 'null', 'not json', '[]']) {
    assert.deepEqual(meetingFactsOf(raw), { isOrganizer: null, isAccepted: null, domains: null }, raw);
  }
});

test('each rule refuses what it leaves out, and an unknown fact never passes a rule that needs it', () => {
  const mine = { isOrganizer: true, isAccepted: true, domains: ['acme.example'] };
  const theirs = { isOrganizer: false, isAccepted: false, domains: ['partner.example', 'acme.example'] };
  const unknown = { isOrganizer: null, isAccepted: null, domains: null };
  assert.equal(ruleRefusal(DEFAULT_RULES, unknown, { isRecurring: true, ownerEmail: null }), null, 'the defaults let everything through');
  assert.equal(ruleRefusal(rules({ organizer: 'me' }), mine, single), null);
  assert.equal(ruleRefusal(rules({ organizer: 'me' }), theirs, single), 'not the organizer');
  assert.equal(ruleRefusal(rules({ organizer: 'me' }), unknown, single), 'organizer unknown');
  assert.equal(ruleRefusal(rules({ response: 'accepted' }), theirs, single), 'not accepted');
  assert.equal(ruleRefusal(rules({ response: 'accepted' }), { ...theirs, isAccepted: true }, single), null);
  assert.equal(ruleRefusal(rules({ participants: 'external' }), theirs, single), null);
  assert.equal(ruleRefusal(rules({ participants: 'external' }), mine, single), 'no external participant');
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), theirs, single), 'external participants');
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), mine, { isRecurring: false, ownerEmail: 'ANA@Acme.Example' }), null, 'domains compare without case');
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), mine, { isRecurring: false, ownerEmail: null }), 'participants unknown');
  assert.equal(ruleRefusal(rules({ recurring: 'exclude' }), mine, { isRecurring: true, ownerEmail: me }), 'recurring');
  assert.equal(ruleRefusal(rules({ recurring: 'exclude' }), unknown, { isRecurring: false, ownerEmail: null }), null);
});

test('stored rules: none stored means the defaults; stored ones are filled in', () => {
  assert.deepEqual(parseStoredRules(null), DEFAULT_RULES);
  assert.deepEqual(parseStoredRules('{"organizer":"me"}'), { ...DEFAULT_RULES, organizer: 'me' });
});

test('all-day events as Google, Graph and a feed give them; timed ones are not', () => {
  assert.equal(isAllDayEvent(JSON.stringify({ start: { date: '2026-12-04' }, end: { date: '2026-12-05' } })), true);
  assert.equal(isAllDayEvent(JSON.stringify({ start: { dateTime: '2026-12-04T10:00:00Z' } })), false);
  assert.equal(isAllDayEvent(JSON.stringify({ isAllDay: true, start: { dateTime: '2026-12-04T00:00:00.0000000', timeZone: 'UTC' } })), true);
  assert.equal(isAllDayEvent(JSON.stringify({ isAllDay: false })), false);
  const vevent = (dtstart: string) => JSON.stringify({ uid: 'a@b', vevent: `BEGIN:VEVENT\r\nUID:a@b\r\n${dtstart}\r\nSUMMARY:x\r\nEND:VEVENT` });
  assert.equal(isAllDayEvent(vevent('DTSTART;VALUE=DATE:20261204')), true);
  assert.equal(isAllDayEvent(vevent('DTSTART:20261204')), true);
  assert.equal(isAllDayEvent(vevent('DTSTART;TZID=Europe/Berlin:20261204T090000')), false);
  assert.equal(isAllDayEvent(vevent('DTSTART:20261204T090000Z')), false);
  assert.equal(isAllDayEvent('not json'), false);
});
