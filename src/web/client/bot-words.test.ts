// A bot's decisions and key as the page says them: events by title, seconds in minutes, keys the
// dashboard or auto-schedule set in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deduplicationKeyWords, durationWords, nameEventsInReason } from './bot-words.ts';

const titles = new Map([['evt_8x2k4m9q1z', 'Design review'], ['evt_a:b', 'Weekly sync']]);

test('an event the page read is named by its title, and the join lead in minutes', () => {
  assert.equal(nameEventsInReason('Scheduled for event evt_8x2k4m9q1z (zoom:81234567055); joins 180 s before the start', titles),
    'Scheduled for “Design review” (zoom:81234567055); joins 3 minutes before the start');
  assert.equal(nameEventsInReason('Scheduled for event evt_a:b (meet:abc-defg-hij); joins 60 s before the start', titles),
    'Scheduled for “Weekly sync” (meet:abc-defg-hij); joins 1 minute before the start');
});

test('an event the page does not know keeps its id; one id beginning another is not taken for it', () => {
  assert.equal(nameEventsInReason('Scheduled for event evt_unknown0001 (zoom:1); joins now (the meeting is about to start or under way)', titles),
    'Scheduled for event evt_unknown0001 (zoom:1); joins now (the meeting is about to start or under way)');
  assert.equal(nameEventsInReason('Scheduled for event evt_8x2k4m9q1z_2 (zoom:1); joins 90 s before the start', titles),
    'Scheduled for event evt_8x2k4m9q1z_2 (zoom:1); joins 90 seconds before the start');
});

test('durations', () => {
  assert.equal(durationWords(180), '3 minutes');
  assert.equal(durationWords(60), '1 minute');
  assert.equal(durationWords(45), '45 seconds');
  assert.equal(durationWords(1), '1 second');
});

test('keys the dashboard or auto-schedule set are said in words; others are not', () => {
  assert.equal(deduplicationKeyWords('dashboard:evt_8x2k4m9q1z'), 'Chosen by the dashboard');
  assert.equal(deduplicationKeyWords('auto:zoom:81234567055:1796644800000'), 'Set by auto-schedule');
  assert.equal(deduplicationKeyWords('standup-notes'), null);
});
