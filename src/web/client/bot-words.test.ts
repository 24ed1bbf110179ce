// A bot's decisions, status changes and key as the page says them: events by title, seconds in
// minutes, a status not said twice, the meeting's identity only where it tells meetings apart,
// keys the dashboard or auto-schedule set in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionReasonWords, deduplicationKeyWords, meetingIdentitiesOf, nameEventsInReason, ORIGIN_WORDS, originBesideSource, originWords, withoutRepeatedLead, withoutSoleMeetingIdentity } from './bot-words.ts';
import { ACTION_ORIGINS } from '../../domain/action-origin.ts';
import { createdReason, scheduledReason } from '../../domain/action-origin.ts';
import type { Connection } from './types.ts';
import { formatTimeRange, SOURCE_WORDS } from './format.ts';

const titles = new Map([['evt_8x2k4m9q1z', 'Design review'], ['evt_a:b', 'Weekly sync']]);

/** The decision log's words for a reason, with the events named by `eventTitles` and no connections read. */
const logWords = (kind: string, reason: string, eventTitles: ReadonlyMap<string, string> = titles, connections: readonly Connection[] | null = null) =>
  decisionReasonWords({ kind, reason, details: {} }, { connections, eventTitles, identities: [] });

test('an event the page read is named by its title, and the join lead in minutes', () => {
  assert.equal(logWords('updated', 'Scheduled for event evt_8x2k4m9q1z (zoom:81234567055); joins 180 s before the start'),
    'Scheduled for “Design review” (zoom:81234567055); joins 3 minutes before the start');
  assert.equal(logWords('updated', 'Scheduled for event evt_a:b (meet:abc-defg-hij); joins 60 s before the start'),
    'Scheduled for “Weekly sync” (meet:abc-defg-hij); joins 1 minute before the start');
  assert.equal(logWords('scheduled', 'Scheduled for event evt_a:b (meet:abc-defg-hij); joins 60 s before the start'),
    'For “Weekly sync” (meet:abc-defg-hij); joins 1 minute before the start', 'beside its kind, not said twice');
});

test('an event\'s title and a calendar\'s name are shown as they were given: only the reason\'s own durations are said in words', () => {
  const own = new Map([['evt_1', 'Stand-up (15 min)'], ['evt_2', 'Sprint 2 s demo'], ['evt_3', 'Latency budget 100 ms']]);
  assert.equal(logWords('updated', 'Scheduled for event evt_1 (zoom:1); joins 180 s before the start', own),
    'Scheduled for “Stand-up (15 min)” (zoom:1); joins 3 minutes before the start');
  assert.equal(logWords('updated', 'Scheduled for event evt_2 (zoom:2); joins 30 s before the start', own),
    'Scheduled for “Sprint 2 s demo” (zoom:2); joins 30 seconds before the start');
  assert.equal(logWords('updated', 'Scheduled for event evt_3 (zoom:3); joins 60 s before the start', own),
    'Scheduled for “Latency budget 100 ms” (zoom:3); joins 1 minute before the start');
  const feed: Connection = {
    calendar_id: 'cal_feed1', provider: 'ics', user_email: null, user_name: null, ics_url: 'Rota (30 s slots)', status: 'active', last_sync_at: null, last_error: null, last_error_at: null,
    sync_failing_since: null, sync_failing_reported_at: null, failing_calendars: null, next_sync_at: null, push_enabled: false, calendars: [],
  };
  assert.equal(logWords('updated', 'calendar connection cal_feed1 (ics) lost its access; tried again in 900 s', new Map(), [feed]),
    'the ICS feed Rota (30 s slots) lost its access; tried again in 15 minutes');
});

test('an event the page does not know keeps its id; one id beginning another is not taken for it', () => {
  assert.equal(nameEventsInReason('Scheduled for event evt_unknown0001 (zoom:1); joins now (the meeting is about to start or under way)', titles),
    'Scheduled for event evt_unknown0001 (zoom:1); joins now (the meeting is about to start or under way)');
  assert.equal(logWords('updated', 'Scheduled for event evt_8x2k4m9q1z_2 (zoom:1); joins 90 s before the start'),
    'Scheduled for event evt_8x2k4m9q1z_2 (zoom:1); joins 1 minute 30 seconds before the start');
});


test('a reason opening with the event ("Event evt_… is the same meeting …") names it by its title too, as "series" and "of" do', () => {
  // The server's words: bot-scheduling.ts (an event sharing the bot, one moved), meeting-keepers.ts (a bot giving way).
  assert.equal(logWords('shared_with_event', 'Event evt_a:b is the same meeting (zoom:1) under the same deduplication_key, so it shares this bot; its configuration is this request\'s'),
    '“Weekly sync” is the same meeting (zoom:1) under the same deduplication_key, so it shares this bot; its configuration is this request\'s');
  assert.match(logWords('moved_by_calendar', 'Event evt_8x2k4m9q1z moved to 2026-12-07T10:00:00.000Z'), /^“Design review” moved to /);
  assert.equal(nameEventsInReason('Event evt_8x2k4m9q1z is the same meeting (zoom:1) at the same time; bot bot_2, booked for it by auto-schedule, gave way to this bot at its launch', titles),
    '“Design review” is the same meeting (zoom:1) at the same time; bot bot_2, booked for it by auto-schedule, gave way to this bot at its launch');
  assert.equal(nameEventsInReason('The occurrence 20261207T100000Z of series evt_8x2k4m9q1z was cancelled', titles), 'The occurrence 20261207T100000Z of series “Design review” was cancelled');
  assert.equal(nameEventsInReason('The occurrence 20261207T100000Z of evt_8x2k4m9q1z no longer exists', titles), 'The occurrence 20261207T100000Z of “Design review” no longer exists');
  assert.equal(nameEventsInReason('The calendar of event evt_8x2k4m9q1z was disconnected', titles), 'The calendar of “Design review” was disconnected');
  // Not known on the bot's page: the id stays, after the word that says what it is (Ids lists it).
  assert.equal(nameEventsInReason('Event evt_unknown0001 was deleted', titles), 'Event evt_unknown0001 was deleted');
  // The same id inside another word is not an event named.
  assert.equal(nameEventsInReason('Key dashboard:evt_8x2k4m9q1z is taken', titles), 'Key dashboard:evt_8x2k4m9q1z is taken');
});

test('where the page shows no ids, an event it does not know is "its event", never a bare id', () => {
  const its = (text: string) => nameEventsInReason(text, titles, 'its');
  assert.equal(its('Event evt_unknown0001 was deleted'), 'Its event was deleted');
  assert.equal(its('The calendar of event evt_unknown0001 was disconnected'), 'The calendar of its event was disconnected');
  assert.equal(its('The occurrence 20261207T100000Z of series evt_unknown0001 was cancelled'), 'The occurrence 20261207T100000Z of its series was cancelled');
  assert.equal(its('The occurrence 20261207T100000Z of evt_unknown0001 no longer exists'), 'The occurrence 20261207T100000Z of its event no longer exists');
  assert.equal(its('Unscheduled from the dashboard (event evt_unknown0001)'), 'Unscheduled from the dashboard (its event)');
  // Known ones by their titles, as on the bot's page.
  assert.equal(its('Event evt_8x2k4m9q1z moved into the past'), '“Design review” moved into the past');
  assert.match(its('Event evt_8x2k4m9q1z was deleted; event evt_unknown0001 was not'), /^“Design review” was deleted; its event was not$/);
});

test('what booked a bot is said in words from one place, and beside a source that says it already, not again', () => {
  for (const origin of ACTION_ORIGINS) assert.ok(originWords(origin)?.startsWith('Booked '), origin);
  assert.equal(originWords('dashboard'), 'Booked from the dashboard');
  assert.equal(originWords('api'), 'Booked through the API');
  assert.equal(originWords(null), null, 'a bot from before origins were stored: nothing said');
  assert.equal(new Set(Object.values(ORIGIN_WORDS)).size, ACTION_ORIGINS.length, 'each origin its own words');
  assert.equal(originBesideSource('auto_schedule', 'auto_schedule'), null);
  assert.equal(originBesideSource('dashboard', 'calendar'), 'Booked from the dashboard');
  assert.equal(originBesideSource('chain', 'calendar'), 'Booked by chain mode');
  assert.equal(originBesideSource(null, 'api'), null);
  // A meeting from no calendar: the source says only that, so what booked its bot is said beneath it
  // (a calendar meeting a bot stayed in after its event left the calendar has this source too).
  assert.equal(SOURCE_WORDS.api, 'No calendar');
  assert.equal(originBesideSource('api', 'api'), 'Booked through the API');
  assert.equal(originBesideSource('dashboard', 'api'), 'Booked from the dashboard');
  assert.equal(originBesideSource('api', 'calendar'), 'Booked through the API');
});

test('a key is said in words only when the bot came from what set it; a client\'s own key that starts the same way is shown as given', () => {
  assert.equal(deduplicationKeyWords('dashboard:evt_8x2k4m9q1z', 'dashboard'), 'Chosen by the dashboard');
  assert.equal(deduplicationKeyWords('auto:zoom:81234567055:1796644800000', 'auto_schedule'), 'Set by auto-schedule');
  assert.equal(deduplicationKeyWords('auto:my-own-scheme', 'api'), null);
  assert.equal(deduplicationKeyWords('dashboard:client-key', 'api'), null);
  assert.equal(deduplicationKeyWords('dashboard:evt_1@20261207T100000Z', 'batch_top_up'), null);
  assert.equal(deduplicationKeyWords('auto:zoom:1:2026', null), null, 'an origin not known: the key as given');
  assert.equal(deduplicationKeyWords('standup-notes', 'dashboard'), null);
});

test('a reason beside its status does not say the status again', () => {
  assert.equal(withoutRepeatedLead('Cancelled', 'Cancelled from the dashboard'), 'From the dashboard');
  assert.equal(withoutRepeatedLead('Scheduled', 'Scheduled through the API'), 'Through the API');
  assert.equal(withoutRepeatedLead('Scheduled', scheduledReason('dashboard')), 'From the dashboard');
  assert.equal(withoutRepeatedLead('Cancelled', 'Cancelled because its data was deleted through the API'), 'Because its data was deleted through the API');
  assert.equal(withoutRepeatedLead('Missed', 'Missed: the meeting ended before it could join'), 'The meeting ended before it could join');
  assert.equal(withoutRepeatedLead('Not allowed', 'not allowed in'), 'In');
  assert.equal(withoutRepeatedLead('Cancelled', 'Cancelled'), '', 'nothing more to say');
  // Other words stay whole.
  assert.equal(withoutRepeatedLead('Scheduled', scheduledReason('auto_schedule')), 'Booked by auto-schedule');
  assert.equal(withoutRepeatedLead('Cancelled', 'Deleted through the API'), 'Deleted through the API');
  assert.equal(withoutRepeatedLead('Cancelled', 'Removed through the API (remove_bot) before it joined'), 'Removed through the API (remove_bot) before it joined');
  assert.equal(withoutRepeatedLead('Done', 'Doneness unknown'), 'Doneness unknown', 'a word that only begins like it');
  assert.equal(withoutRepeatedLead('Scheduled', createdReason('api')), 'Created through the API');
});

test('the meeting\'s identity is left out of reasons when the log names only that meeting, kept when it names two', () => {
  const one = [{ details: { meeting_identity: 'zoom:81234567055' } }, { details: {} }, { details: { meeting_identity: 'zoom:81234567055' } }];
  assert.deepEqual(meetingIdentitiesOf(one), ['zoom:81234567055']);
  const named = nameEventsInReason('Scheduled for event evt_8x2k4m9q1z (zoom:81234567055); joins 3 minutes before the start', titles);
  assert.equal(withoutSoleMeetingIdentity(named, meetingIdentitiesOf(one)), 'Scheduled for “Design review”; joins 3 minutes before the start');
  assert.equal(withoutSoleMeetingIdentity('Bot bot_1 is already on its way to this meeting (zoom:81234567055) at the same time', ['zoom:81234567055']),
    'Bot bot_1 is already on its way to this meeting at the same time');
  // An identity not in brackets is what the sentence is about.
  assert.equal(withoutSoleMeetingIdentity('The event\'s meeting link changed to zoom:81234567055; the bot follows it', ['zoom:81234567055']),
    'The event\'s meeting link changed to zoom:81234567055; the bot follows it');
  const two = [...one, { details: { meeting_identity: 'zoom:99' } }];
  assert.deepEqual(meetingIdentitiesOf(two), ['zoom:81234567055', 'zoom:99']);
  assert.equal(withoutSoleMeetingIdentity('Scheduled for “Design review” (zoom:81234567055); joins now', meetingIdentitiesOf(two)), 'Scheduled for “Design review” (zoom:81234567055); joins now');
  assert.equal(withoutSoleMeetingIdentity('Scheduled for “Design review” (zoom:81234567055); joins now', []), 'Scheduled for “Design review” (zoom:81234567055); joins now');
  // Only the identity itself: one that another begins with is not taken for it.
  assert.equal(withoutSoleMeetingIdentity('this meeting (zoom:812345670559)', ['zoom:81234567055']), 'this meeting (zoom:812345670559)');
});

test('one occurrence named by its id is that of its series, on its start in local time; a series opening a sentence is named too', () => {
  const start = formatTimeRange('2026-12-07T10:00:00Z', null);
  // DELETE /calendar/schedule/{occurrence id} (bot-management.ts) writes "occurrence <series id>_<key>".
  assert.equal(nameEventsInReason('Unscheduled from the dashboard (occurrence evt_8x2k4m9q1z_20261207T100000Z)', titles),
    `Unscheduled from the dashboard (occurrence of “Design review” on ${start})`);
  assert.equal(nameEventsInReason('Unscheduled from the dashboard (occurrence evt_unknown0001_20261207T100000Z)', titles, 'its'),
    `Unscheduled from the dashboard (occurrence of its series on ${start})`);
  assert.equal(nameEventsInReason('Unscheduled from the dashboard (occurrence evt_unknown0001_20261207T100000Z)', titles),
    `Unscheduled from the dashboard (occurrence of evt_unknown0001 on ${start})`, 'the bot\'s page keeps an id it cannot name');
  // calendar-sync.ts opens with "Series evt_…".
  assert.equal(nameEventsInReason('Series evt_8x2k4m9q1z was split at the provider', titles), '“Design review” was split at the provider');
  assert.equal(nameEventsInReason('Series evt_unknown0001 was split at the provider', titles, 'its'), 'Its series was split at the provider');
});

test('a title is put in as the calendar has it, even one that reads like an id or a replacement pattern', () => {
  const own = new Map([['evt_a', 'Follow-up on event evt_b'], ['evt_b', 'Other'], ['evt_c', "$& $1 $' (x)"]]);
  assert.equal(nameEventsInReason('Event evt_a was deleted', own, 'its'), '“Follow-up on event evt_b” was deleted');
  assert.equal(nameEventsInReason('Event evt_a was deleted', own), '“Follow-up on event evt_b” was deleted');
  assert.equal(nameEventsInReason('Event evt_a was deleted', new Map([['evt_a', 'Follow-up on event evt_zzz']]), 'its'), '“Follow-up on event evt_zzz” was deleted');
  assert.equal(nameEventsInReason('Event evt_c was deleted', own, 'its'), "“$& $1 $' (x)” was deleted");
  // Several in one reason, each where it is, up to the punctuation after it.
  assert.equal(nameEventsInReason('Event evt_a moved; event evt_b. of evt_zz, series evt_yy!', new Map([['evt_a', 'A'], ['evt_b', 'B']]), 'its'), '“A” moved; “B”. of its event, its series!');
});
