import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endedWithNoLink, linkRemovedAtMs } from './link-removal.ts';

test('a link still holding its bot was not removed', () => {
  assert.equal(linkRemovedAtMs({ is_live: 1, updated_at_ms: 100 }, { ended_at_ms: null, botEndedNoLink: null }), null);
  assert.equal(linkRemovedAtMs({ is_live: 1, updated_at_ms: 100 }, { ended_at_ms: 200, botEndedNoLink: true }), null);
});

test('an ended link of a live bot, or one that ended before its bot, was let go by its event, at its end', () => {
  assert.equal(linkRemovedAtMs({ is_live: 0, updated_at_ms: 100 }, { ended_at_ms: null, botEndedNoLink: null }), 100);
  // In its meeting when the event was deleted; the runtime reported Stopped later.
  assert.equal(linkRemovedAtMs({ is_live: 0, updated_at_ms: 100 }, { ended_at_ms: 200, botEndedNoLink: false }), 100);
});

test('a link that ended with its bot: removed only when the ending found no link left (the event let go, so the bot ended)', () => {
  // Ran its meeting and ended (Done): the ending released the link.
  assert.equal(linkRemovedAtMs({ is_live: 0, updated_at_ms: 200 }, { ended_at_ms: 200, botEndedNoLink: false }), null);
  // Its event deleted while its launch waited to be retried: Stopped at that instant, no link left.
  assert.equal(linkRemovedAtMs({ is_live: 0, updated_at_ms: 200 }, { ended_at_ms: 200, botEndedNoLink: true }), 200);
  // Ended before the ending recorded it: not claimed.
  assert.equal(linkRemovedAtMs({ is_live: 0, updated_at_ms: 200 }, { ended_at_ms: 200, botEndedNoLink: null }), null);
});

test('the ending decision says whether the bot had a link left when it ended', () => {
  const log = [
    { at_ms: 100, details: { event_id: 'evt_1' } },
    { at_ms: 200, details: { from: 'Joining', to: 'Stopped', links_ended: 0 } },
  ];
  assert.equal(endedWithNoLink(log, 200), true);
  assert.equal(endedWithNoLink([{ at_ms: 200, details: { from: 'InMeeting', to: 'Done', links_ended: 1 } }], 200), false);
  assert.equal(endedWithNoLink([{ at_ms: 200, details: { from: 'Joining', to: 'Stopped' } }], 200), null);
  assert.equal(endedWithNoLink(log, null), null);
  assert.equal(endedWithNoLink(log, 300), null);
});
