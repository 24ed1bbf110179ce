// Upcoming's note beneath a calendar bot whose event let go of it while the bot stays in its meeting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saysEventLetGo, UNLINKED_EVENT_WORDS, unlinkedEventNote } from './bot-words.ts';

const linked = { calendar_id: 'cal_1', is_linked: true };
const unlinked = { calendar_id: 'cal_1', is_linked: false };
const apiEvent = { calendar_id: null, is_linked: true };

test('a calendar bot with no linked calendar event left says so beneath its source', () => {
  assert.equal(unlinkedEventNote({ source: 'calendar', events: [unlinked] }), UNLINKED_EVENT_WORDS);
  assert.equal(unlinkedEventNote({ source: 'auto_schedule', events: [unlinked] }), UNLINKED_EVENT_WORDS);
  // Still held by an event written through the API, but its calendar event let go.
  assert.equal(unlinkedEventNote({ source: 'calendar', events: [apiEvent] }), UNLINKED_EVENT_WORDS);
});

test('a bot its calendar event still holds, or one booked through the API, says nothing more', () => {
  assert.equal(unlinkedEventNote({ source: 'calendar', events: [linked] }), null);
  assert.equal(unlinkedEventNote({ source: 'calendar', events: [unlinked, linked] }), null);
  assert.equal(unlinkedEventNote({ source: 'api', events: [apiEvent] }), null);
  assert.equal(unlinkedEventNote({ source: 'api', events: [] }), null);
});

test('the Bot page says an event let go of its bot where the API gives when it did (removed_at), whatever the bot\'s status', () => {
  assert.equal(saysEventLetGo({ removed_at: '2026-12-07T10:00:00.000Z' }), true);
  // Let go of by the bot's ending (it ran its meeting, was missed or cancelled), or still holding it.
  assert.equal(saysEventLetGo({ removed_at: null }), false);
});
