// How Ended says why a bot ended, beside the status it already shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endedEventTitles, endReasonCell, endReasonWords } from './ended-bot.ts';
import { nameEventsInReason } from './bot-words.ts';
import { formatTimeRange } from './format.ts';

test('why a bot ended does not say its status again', () => {
  assert.equal(endReasonWords('Cancelled', 'Cancelled from the dashboard'), 'From the dashboard');
  assert.equal(endReasonWords('Cancelled', 'Cancelled through the API'), 'Through the API');
  assert.equal(endReasonWords('Cancelled', 'Cancelled'), '', 'only the status: nothing more to say');
  // A reason that does not start with the status, its code in words as everywhere else.
  assert.equal(endReasonWords('Done', 'Reported by the runtime: Done'), 'Reported by the runtime: Done');
  assert.equal(endReasonWords('Cancelled', 'calendar_access_revoked: its calendars lost their access'), 'Calendar access lost: its calendars lost their access');
  // The status as the badge words it (NotAllowed is "Not allowed").
  assert.equal(endReasonWords('NotAllowed', 'Not allowed: the host did not let it in'), 'The host did not let it in');
});

test('Why it ended says nothing more where the reason was only the status, not that none was given', () => {
  assert.equal(endReasonCell('Cancelled', 'Cancelled', false), null, 'a reason was given: the status beside it says it all');
  assert.equal(endReasonCell('NotAllowed', 'Not allowed', false), null);
  assert.deepEqual(endReasonCell('Cancelled', 'Cancelled from the dashboard', false), { text: 'From the dashboard', isMuted: false });
  assert.deepEqual(endReasonCell('Error', '', false), { text: 'No reason given', isMuted: true });
  assert.deepEqual(endReasonCell('Cancelled', '', true), { text: 'Not kept: its data was deleted', isMuted: true });
});

test('Why it ended names the events its reason names by their titles, else "its event": Ended shows no ids', () => {
  const events = [
    { event_id: 'evt_k2m4q8w1', title: 'Design review' },
    { event_id: 'evt_k2m4q8w1', title: 'Design review (moved)' },
    { event_id: 'evt_untitled01', title: null },
  ];
  const titles = endedEventTitles(events);
  assert.deepEqual([...titles], [['evt_k2m4q8w1', 'Design review']], 'the first title of each, none for an untitled one');
  // The server's end reasons (bot-scheduling.ts, where a bot lets go of its event).
  assert.equal(endReasonWords('Cancelled', 'Event evt_k2m4q8w1 was deleted', titles), '“Design review” was deleted');
  assert.equal(endReasonWords('Cancelled', 'The calendar of event evt_k2m4q8w1 was disconnected', titles), 'The calendar of “Design review” was disconnected');
  // An occurrence named by its key is named by its start in local time, as every instant on Ended.
  assert.equal(endReasonWords('Cancelled', 'The occurrence 20261207T100000Z of series evt_k2m4q8w1 was cancelled', titles),
    `The occurrence on ${formatTimeRange('2026-12-07T10:00:00Z', null)} of series “Design review” was cancelled`);
  assert.equal(endReasonWords('Cancelled', 'Event evt_k2m4q8w1 was cancelled', titles), '“Design review” was cancelled');
  assert.deepEqual(endReasonCell('Cancelled', 'The invitation to event evt_k2m4q8w1 was declined (auto-schedule had booked this bot)', false, titles),
    { text: 'The invitation to “Design review” was declined (auto-schedule had booked this bot)', isMuted: false });
  // No title known (an untitled event, or none listed): a neutral word, not an id.
  assert.equal(endReasonWords('Cancelled', 'Event evt_untitled01 moved into the past', titles), 'Its event moved into the past');
  assert.equal(endReasonWords('Cancelled', 'The meeting link of event evt_gone0001 was removed'), 'The meeting link of its event was removed');
  assert.doesNotMatch(endReasonCell('Cancelled', 'Unscheduled from the dashboard (event evt_gone0001)', false)?.text ?? '', /evt_/);
  // A title that begins with the status is not taken for it.
  assert.equal(endReasonWords('Cancelled', 'Event evt_c1 was deleted', new Map([['evt_c1', 'Cancelled stand-up']])), '“Cancelled stand-up” was deleted');
});

test('Why it ended names one occurrence unscheduled by its series\' title and its start in local time, never by its id', () => {
  const titles = endedEventTitles([{ event_id: 'evt_s1', title: 'Weekly sync' }]);
  const start = formatTimeRange('2026-12-07T10:00:00Z', null);
  // The server's words when one occurrence is unscheduled (bot-management.ts, DELETE /calendar/schedule/{occurrence id}).
  assert.equal(endReasonWords('Cancelled', 'Unscheduled from the dashboard (occurrence evt_s1_20261207T100000Z)', titles),
    `Unscheduled from the dashboard (occurrence of “Weekly sync” on ${start})`);
  assert.equal(endReasonWords('Cancelled', 'Unscheduled through the API (occurrence evt_gone0001_20261207T100000Z)', titles),
    `Unscheduled through the API (occurrence of its series on ${start})`);
  // The whole series, and one split at the provider (calendar-sync.ts), which opens with "Series".
  assert.equal(endReasonWords('Cancelled', 'Unscheduled through the API (series evt_s1 from 2026-12-07)', titles), 'Unscheduled through the API (series “Weekly sync” from 2026-12-07)');
  assert.equal(endReasonWords('Cancelled', 'Unscheduled through the API (series of event evt_zz)'), 'Unscheduled through the API (series of its event)');
  assert.equal(endReasonWords('Cancelled', 'Series evt_gone0001 was split at the provider ("this and following events"); occurrence 20261207T100000Z continues in series evt_s1', titles),
    `Its series was split at the provider ("this and following events"); occurrence on ${start} continues in series “Weekly sync”`);
});

test('Why it ended says "another bot" for a bot its meeting went to instead, never its id', () => {
  // The reason of a bot that gave way (meeting-keepers.ts).
  assert.equal(endReasonWords('Cancelled', 'Bot bot_0a1b2c3d4e5f6g7h8i9j0k is already on its way to this meeting (zoom:1) at the same time: this bot\'s events are now linked to it, so that one bot joins'),
    'Another bot is already on its way to this meeting (zoom:1) at the same time: this bot\'s events are now linked to it, so that one bot joins');
  assert.doesNotMatch(endReasonWords('Cancelled', 'Event evt_s1 is the same meeting (zoom:1) at the same time; bot bot_2x, booked for it by auto-schedule, gave way to this bot at its launch', new Map([['evt_s1', 'Weekly sync']])), /bot_|evt_/);
  // A title that says "bot bot_…" is the calendar's, left as it is.
  assert.equal(endReasonWords('Cancelled', 'Event evt_s1 was deleted', new Map([['evt_s1', 'Bot bot_demo review']])), '“Bot bot_demo review” was deleted');
});

test('an occurrence whose key has milliseconds (a start given with them) is named as one occurrence, nothing of its id left', () => {
  const titles = new Map([['evt_k2m4q8w1', 'Weekly sync']]);
  const reason = 'Unscheduled from the dashboard (occurrence evt_k2m4q8w1_20261207T100000.250Z)';
  const ended = endReasonWords('Cancelled', reason, titles);
  assert.doesNotMatch(ended, /\.250Z|evt_/, ended);
  assert.match(ended, /“Weekly sync”/);
  assert.equal(nameEventsInReason(reason, titles, 'id'), `Unscheduled from the dashboard (occurrence of “Weekly sync” on ${formatTimeRange('2026-12-07T10:00:00.250Z', null)})`);
});
