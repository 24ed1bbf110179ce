import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES, notAMeetingEntryType, meetingFactsOf, parseStoredRules, ruleRefusal, type AutoScheduleRules } from './auto-schedule-rules.ts';

const me = 'ana@acme.example';
const rules = (partial: Partial<AutoScheduleRules>): AutoScheduleRules => ({ ...DEFAULT_RULES, ...partial });
const single = { isRecurring: false, ownerEmail: me };

test('Google: organizer.self, the owner\'s own attendee entry, and every guest\'s domain but rooms and calendars', () => {
  const own = JSON.stringify({ organizer: { email: me, self: true }, attendees: [{ email: me, self: true, organizer: true, responseStatus: 'accepted' }, { email: 'bo@ACME.example' }, { email: 'c_1@resource.calendar.google.com', resource: true }] });
  assert.deepEqual(meetingFactsOf(own), { isOrganizer: true, isAccepted: true, domains: ['acme.example'], isPartOfSeries: false });
  // No guests: the owner's own meeting, accepted by definition.
  assert.deepEqual(meetingFactsOf(JSON.stringify({ organizer: { email: me, self: true } })), { isOrganizer: true, isAccepted: true, domains: [], isPartOfSeries: false });
  // Organized on one of the owner's secondary calendars: the organizer is that calendar, not someone from outside.
  assert.deepEqual(meetingFactsOf(JSON.stringify({ organizer: { email: 'c_9f2@group.calendar.google.com', self: true }, attendees: [{ email: 'bo@acme.example' }] })).domains, ['acme.example']);
  const invited = (answer: string, extra: Record<string, unknown> = {}) => JSON.stringify({ organizer: { email: 'x@partner.example' }, attendees: [{ email: 'x@partner.example', organizer: true, responseStatus: 'accepted' }, { email: me, self: true, responseStatus: answer }], ...extra });
  assert.deepEqual(meetingFactsOf(invited('tentative')), { isOrganizer: false, isAccepted: false, domains: ['partner.example', 'acme.example'], isPartOfSeries: false });
  assert.equal(meetingFactsOf(invited('accepted')).isAccepted, true);
  assert.equal(meetingFactsOf(invited('needsAction')).isAccepted, false);
  // One occurrence of someone else's series, stored on its own.
  assert.equal(meetingFactsOf(invited('accepted', { recurringEventId: 'abc' })).isPartOfSeries, true);
  // The organizer hid the guest list: who else is there is unknown.
  assert.equal(meetingFactsOf(invited('accepted', { guestsCanSeeOtherGuests: false })).domains, null);
  assert.equal(meetingFactsOf(invited('accepted', { attendeesOmitted: true })).domains, null);
  // A meeting too big to store whole lost its guest list: the owner's answer and the guests are unknown.
  const cut = JSON.stringify({ organizer: { email: 'x@partner.example' }, _rollcall: { dropped_raw_fields: ['attendees'] } });
  assert.deepEqual(meetingFactsOf(cut), { isOrganizer: false, isAccepted: null, domains: null, isPartOfSeries: false });
});

test('Graph: isOrganizer, responseStatus.response, attendees by type', () => {
  const own = JSON.stringify({ isOrganizer: true, responseStatus: { response: 'organizer' }, organizer: { emailAddress: { address: me } }, attendees: [{ type: 'resource', emailAddress: { address: 'room@rooms.example' } }, { type: 'optional', emailAddress: { address: 'z@other.example' } }] });
  assert.deepEqual(meetingFactsOf(own), { isOrganizer: true, isAccepted: true, domains: ['other.example'], isPartOfSeries: false });
  const invited = JSON.stringify({ isOrganizer: false, type: 'occurrence', responseStatus: { response: 'tentativelyAccepted' }, organizer: { emailAddress: { address: 'x@partner.example' } }, attendees: [] });
  assert.deepEqual(meetingFactsOf(invited), { isOrganizer: false, isAccepted: false, domains: ['partner.example'], isPartOfSeries: true });
  // The organizer hid the attendees from each other (hideAttendees).
  assert.equal(meetingFactsOf(JSON.stringify({ ...JSON.parse(invited), hideAttendees: true })).domains, null);
  const cut = JSON.stringify({ isOrganizer: false, responseStatus: { response: 'accepted' }, organizer: { emailAddress: { address: 'x@partner.example' } }, _rollcall: { dropped_raw_fields: ['attendees', 'body'] } });
  assert.deepEqual(meetingFactsOf(cut), { isOrganizer: false, isAccepted: true, domains: null, isPartOfSeries: false });
});

test('a feed\'s event, or a payload that is not an object, says nothing of the owner', () => {
  for (const raw of [JSON.stringify({ summary: 'From a feed', start: {}, iCalUID: 'a@b' }), 'null', 'not json', '[]']) {
    assert.deepEqual(meetingFactsOf(raw), { isOrganizer: null, isAccepted: null, domains: null, isPartOfSeries: false }, raw);
  }
  assert.equal(meetingFactsOf(JSON.stringify({ uid: 'a@b', recurrence_id: '2026-12-01T10:00:00.000Z' })).isPartOfSeries, true);
});

test('each rule refuses what it leaves out, and an unknown fact never passes a rule that needs it', () => {
  const mine = { isOrganizer: true, isAccepted: true, domains: ['acme.example'], isPartOfSeries: false };
  const theirs = { isOrganizer: false, isAccepted: false, domains: ['partner.example', 'acme.example'], isPartOfSeries: false };
  const unknown = { isOrganizer: null, isAccepted: null, domains: null, isPartOfSeries: false };
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
  // A subdomain of the owner's domain, or the domain above it, is the same organisation.
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), { ...mine, domains: ['eu.acme.example'] }, single), null);
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), mine, { isRecurring: false, ownerEmail: 'ana@eu.acme.example' }), null);
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), { ...mine, domains: ['notacme.example'] }, single), 'external participants');
  assert.equal(ruleRefusal(rules({ participants: 'internal' }), mine, { isRecurring: false, ownerEmail: null }), 'participants unknown');
  assert.equal(ruleRefusal(rules({ participants: 'external' }), unknown, single), 'participants unknown');
  assert.equal(ruleRefusal(rules({ recurring: 'exclude' }), mine, { isRecurring: true, ownerEmail: me }), 'recurring');
  assert.equal(ruleRefusal(rules({ recurring: 'exclude' }), { ...theirs, isPartOfSeries: true }, single), 'recurring', 'an occurrence stored on its own');
  assert.equal(ruleRefusal(rules({ recurring: 'exclude' }), unknown, { isRecurring: false, ownerEmail: null }), null);
});

test('stored rules: none stored means the defaults; stored ones are filled in', () => {
  assert.deepEqual(parseStoredRules(null), DEFAULT_RULES);
  assert.deepEqual(parseStoredRules('{"organizer":"me"}'), { ...DEFAULT_RULES, organizer: 'me' });
});

test('Google\'s status, birthday and Gmail entries are no meeting; default events, untyped ones and other providers\' are', () => {
  const link = 'https://zoom.us/j/123456789';
  for (const eventType of ['focusTime', 'outOfOffice', 'workingLocation', 'birthday', 'fromGmail']) {
    assert.equal(notAMeetingEntryType(JSON.stringify({ eventType, description: link, start: { dateTime: '2026-12-04T10:00:00Z' } })), eventType);
  }
  assert.equal(notAMeetingEntryType(JSON.stringify({ eventType: 'default', description: link })), null);
  // A type Google has not documented yet is read as a meeting: a bot too many rather than one lost.
  assert.equal(notAMeetingEntryType(JSON.stringify({ eventType: 'somethingNew' })), null);
  assert.equal(notAMeetingEntryType(JSON.stringify({ summary: 'no type' })), null);
  assert.equal(notAMeetingEntryType(JSON.stringify({ type: 'occurrence', isAllDay: false })), null);
  assert.equal(notAMeetingEntryType(JSON.stringify({ eventType: 42 })), null);
  assert.equal(notAMeetingEntryType('null'), null);
  assert.equal(notAMeetingEntryType('not json'), null);
});
