// Which link an event of each calendar source hands on as its conference link, when it carries
// more than one (the rule is conferenceLinkToFollow in src/domain/meeting-url.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toChange as fromGoogle } from './google-calendar-provider.ts';
import { toChange as fromGraph } from './microsoft-calendar-provider.ts';
import { parseIcs } from './ics-parser.ts';
import type { ProviderEvent } from './calendar-provider.ts';

const MEET = 'https://meet.google.com/abc-defg-hij';
const ZOOM = 'https://us02web.zoom.us/j/85412345678?pwd=abc';
const TEAMS_LONG = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
const TEAMS_SHORT = 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj';
const TIMES = { start: { dateTime: '2026-11-24T09:00:00Z' }, end: { dateTime: '2026-11-24T10:00:00Z' } };

function googleEvent(fields: Record<string, unknown>): ProviderEvent {
  const item = { id: 'g1', summary: 'Sync', ...TIMES, ...fields };
  const change = fromGoogle(item, 'UTC');
  assert.ok(change.type === 'upsert');
  return change.event;
}

function graphEvent(fields: Record<string, unknown>): ProviderEvent {
  const item = { id: 'o1', subject: 'Sync', start: { dateTime: '2026-11-24T09:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-11-24T10:00:00.0000000', timeZone: 'UTC' }, ...fields };
  const change = fromGraph(item);
  assert.ok(change !== null && change.type === 'upsert');
  return change.event;
}

// A Meet conference as Google's event resource gives it: hangoutLink plus conferenceData with the
// hangoutsMeet solution and a video entry point (developers.google.com/calendar/api/v3/reference/events).
const meetConference = {
  hangoutLink: MEET,
  conferenceData: { conferenceSolution: { key: { type: 'hangoutsMeet' } }, entryPoints: [{ entryPointType: 'video', uri: MEET }, { entryPointType: 'phone', uri: 'tel:+1-555-0100' }] },
};

test('Google: a Meet link Google added by itself yields to the Zoom link the organiser put in the location or the description', () => {
  assert.equal(googleEvent({ ...meetConference, location: ZOOM }).conferenceUrl, ZOOM);
  // A pasted Zoom invitation: Google keeps descriptions as HTML.
  assert.equal(googleEvent({ ...meetConference, location: 'HQ', description: `Join Zoom Meeting<br><a href="${ZOOM}">${ZOOM}</a><br>Meeting ID: 854 1234 5678` }).conferenceUrl, ZOOM);
  // Without another platform's link the Meet link stays.
  assert.equal(googleEvent({ ...meetConference, location: 'HQ, room 4', description: 'Agenda: https://example.com/doc' }).conferenceUrl, MEET);
});

test('Google: a Zoom meeting added by the Zoom add-on (an addOn conference, no hangoutLink) stays the link, whatever the text holds', () => {
  // Third-party conferencing add-ons write their conference into conferenceData with an addOn
  // solution key (developers.google.com/workspace/add-ons/calendar/conferencing/overview).
  const event = googleEvent({
    conferenceData: { conferenceSolution: { key: { type: 'addOn' }, name: 'Zoom Meeting' }, conferenceId: '85412345678', entryPoints: [{ entryPointType: 'video', uri: ZOOM }] },
    location: MEET, description: `Fallback room: ${MEET}`,
  });
  assert.equal(event.conferenceUrl, ZOOM);
});

test('Outlook: a Teams meeting Outlook added by itself yields to a Zoom link in the body or the location; the Teams block of the body is no other link', () => {
  // An online meeting: isOnlineMeeting with onlineMeetingProvider teamsForBusiness and its
  // onlineMeeting.joinUrl; Outlook appends the join block to the body (learn.microsoft.com/graph/outlook-calendar-online-meetings).
  const teams = { isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness', onlineMeeting: { joinUrl: TEAMS_LONG } };
  const teamsBlock = `<div>________________</div><div>Microsoft Teams meeting</div><a href="${TEAMS_LONG}">Join the meeting now</a><div>Meeting ID: 234 567 890 123</div>`;
  assert.equal(graphEvent({ ...teams, location: { displayName: 'Microsoft Teams Meeting' }, body: { contentType: 'html', content: `<p>We meet on Zoom: <a href="${ZOOM}">${ZOOM}</a></p>${teamsBlock}` } }).conferenceUrl, ZOOM);
  assert.equal(graphEvent({ ...teams, location: { displayName: ZOOM }, body: { contentType: 'html', content: teamsBlock } }).conferenceUrl, ZOOM);
  assert.equal(graphEvent({ ...teams, location: { displayName: 'Microsoft Teams Meeting' }, body: { contentType: 'html', content: teamsBlock } }).conferenceUrl, TEAMS_LONG);
});

test('Outlook: the short /meet/ spelling of a Teams meeting in the body does not take over from its joinUrl (one meeting, one link)', () => {
  const event = graphEvent({
    isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness', onlineMeeting: { joinUrl: TEAMS_LONG },
    body: { contentType: 'html', content: `<p>Join: <a href="${TEAMS_SHORT}">${TEAMS_SHORT}</a></p>` },
  });
  assert.equal(event.conferenceUrl, TEAMS_LONG);
});

test('Outlook: without an online meeting the first known link of the body is the link, as before', () => {
  const event = graphEvent({ isOnlineMeeting: false, body: { contentType: 'html', content: `<p><a href="${TEAMS_SHORT}">Teams</a> or <a href="${ZOOM}">Zoom</a></p>` } });
  assert.equal(event.conferenceUrl, TEAMS_SHORT);
});

function feed(...body: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...body, 'END:VCALENDAR'].join('\r\n');
}

test('a feed: X-GOOGLE-CONFERENCE (Meet) yields to a Zoom link in LOCATION; a Zoom X-GOOGLE-CONFERENCE and a Teams one without another platform stay', () => {
  const { events } = parseIcs(feed(
    'BEGIN:VEVENT', 'UID:a', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', `X-GOOGLE-CONFERENCE:${MEET}`, `LOCATION:${ZOOM}`, 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:b', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', `X-GOOGLE-CONFERENCE:${ZOOM}`, `LOCATION:${MEET}`, 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:c', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', `X-MICROSOFT-SKYPETEAMSMEETINGURL:${TEAMS_LONG}`, `DESCRIPTION:Join: ${TEAMS_SHORT}`, 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:d', 'DTSTART:20261124T090000Z', 'DTEND:20261124T100000Z', `X-MICROSOFT-SKYPETEAMSMEETINGURL:${TEAMS_LONG}`, `DESCRIPTION:On Zoom this week: ${ZOOM}`, 'END:VEVENT',
  ), { nowMs: Date.parse('2026-11-20T00:00:00Z') });
  assert.deepEqual(events.map((e) => [e.providerEventId, e.conferenceUrl]), [['a', ZOOM], ['b', ZOOM], ['c', TEAMS_LONG], ['d', ZOOM]]);
});

test('text fields that are not text (a number, an object) are read as absent: the entry maps, where they threw and failed the whole read', () => {
  // Google and Graph document these fields as strings; this is an answer neither documents.
  const google = googleEvent({ hangoutLink: MEET, location: 7, description: { html: 1 }, summary: 5 });
  assert.deepEqual([google.conferenceUrl, google.location, google.description, google.title], [MEET, null, null, null]);
  assert.equal(googleEvent({ hangoutLink: 5, conferenceData: { entryPoints: 'video' } }).conferenceUrl, null);
  const cancelled = fromGoogle({ id: 'w_20261124T090000Z', status: 'cancelled', recurringEventId: 'w', originalStartTime: TIMES.start, hangoutLink: 5 } as never, 'UTC');
  assert.equal(cancelled.type, 'upsert');
  const outlook = graphEvent({ onlineMeeting: { joinUrl: TEAMS_LONG }, location: { displayName: 7 }, body: { contentType: 'html', content: 5 }, subject: ['x'] });
  assert.deepEqual([outlook.conferenceUrl, outlook.location, outlook.title], [TEAMS_LONG, null, null]);
  assert.equal(graphEvent({ onlineMeeting: { joinUrl: 5 }, onlineMeetingUrl: {} }).conferenceUrl, null);
});
