import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DERIVED_KEY_PREFIX, MAX_BOT_CUSTOM_ATTRIBUTES, mergeCustomAttributes, TRANSCRIPTION_PROVIDERS, autoScheduleKey, checkTranscriptionProvider, derivedDeduplicationKey, findBookingRefusal, isAutoScheduledBot, isValidDeduplicationKey, occurrenceDeduplicationKey } from './bot-config.ts';

test('a derived key is the meeting identity and the original start, in the occurrence-key shape', () => {
  const start = Date.parse('2026-12-01T14:00:00Z');
  assert.equal(derivedDeduplicationKey('zoom:85551234567', start), 'meeting:zoom:85551234567@20261201T140000Z');
  assert.equal(derivedDeduplicationKey('zoom:85551234567', start), occurrenceDeduplicationKey(`${DERIVED_KEY_PREFIX}zoom:85551234567`, '20261201T140000Z'));
  // Another time or another meeting is another key; an offset in the input does not matter.
  assert.notEqual(derivedDeduplicationKey('zoom:85551234567', start + 1000), derivedDeduplicationKey('zoom:85551234567', start));
  assert.notEqual(derivedDeduplicationKey('zoom:85551234568', start), derivedDeduplicationKey('zoom:85551234567', start));
  assert.equal(derivedDeduplicationKey('google_meet:abc-defg-hij', Date.parse('2026-12-01T15:00:00+01:00')), 'meeting:google_meet:abc-defg-hij@20261201T140000Z');
  // A derived key is a key a client could have sent.
  assert.ok(isValidDeduplicationKey(derivedDeduplicationKey('zoom:85551234567', start)));
});

test('a transcription provider object names exactly one known provider', () => {
  for (const name of TRANSCRIPTION_PROVIDERS) assert.equal(checkTranscriptionProvider({ [name]: {} }, 'p'), null, name);
  assert.equal(checkTranscriptionProvider(undefined, 'p'), null);
  assert.match(checkTranscriptionProvider({ whisper: {} }, 'p')!, /^p: unknown provider "whisper"/);
  assert.match(checkTranscriptionProvider({ deepgram: {}, sarvam: {} }, 'p')!, /exactly one provider/);
  assert.match(checkTranscriptionProvider({}, 'p')!, /exactly one provider/);
  for (const bad of [null, 'deepgram', ['deepgram'], 3]) assert.match(checkTranscriptionProvider(bad, 'p')!, /^p must be an object/);
  // Provider names are compared exactly: MeetStream's are lower case.
  assert.notEqual(checkTranscriptionProvider({ Deepgram: {} }, 'p'), null);
});

test('a bot is auto-schedule\'s when its key and its attribute both say so', () => {
  const key = autoScheduleKey('zoom:81234567890', Date.parse('2026-12-01T10:00:00Z'));
  assert.equal(isAutoScheduledBot({ deduplication_key: key, custom_attributes: JSON.stringify({ auto_scheduled: 'true', source: 'calendar_schedule_api' }) }), true);
  // A client's own key that happens to start the same way (allowed before the prefix was refused).
  assert.equal(isAutoScheduledBot({ deduplication_key: 'auto:client-scheme:1', custom_attributes: JSON.stringify({ source: 'calendar_schedule_api' }) }), false);
  // The attribute set by a client on a bot of its own key.
  assert.equal(isAutoScheduledBot({ deduplication_key: 'mine', custom_attributes: JSON.stringify({ auto_scheduled: 'true' }) }), false);
  assert.equal(isAutoScheduledBot({ deduplication_key: key, custom_attributes: 'not json' }), false);
});

test('a booking is refused for a link a bot may not be sent to, then for leave settings its platform does not take', () => {
  const meet = 'https://meet.google.com/abc-defg-hij';
  assert.equal(findBookingRefusal(meet, 'google_meet', undefined), null);
  assert.equal(findBookingRefusal(meet, 'google_meet', { waiting_room_timeout: 600 }), null);
  // Google Meet's waiting room allows 600 s; Zoom's 1200 s.
  assert.deepEqual(findBookingRefusal(meet, 'google_meet', { waiting_room_timeout: 900 }), {
    kind: 'automatic_leave', message: 'bot_config.automatic_leave.waiting_room_timeout must be from 60 to 600 seconds on google_meet',
  });
  assert.equal(findBookingRefusal('https://us02web.zoom.us/j/85551234567', 'zoom', { waiting_room_timeout: 900 }), null);
  // A private host is refused whatever the settings; its reason is the URL's.
  const internal = findBookingRefusal('http://10.0.0.5/j/1', null, { waiting_room_timeout: 900 });
  assert.equal(internal?.kind, 'meeting_url');
  assert.equal(findBookingRefusal('http://127.0.0.1:8080/meet', null, undefined)?.kind, 'meeting_url');
});

test('custom attributes merge within a bound, and names a bot owns are refused or passed over', () => {
  const owned = new Set(['source']);
  assert.deepEqual(mergeCustomAttributes({ source: 'calendar_schedule_api', a: '1' }, { a: '2', b: '3' }, owned, true), { ok: true, attributes: { source: 'calendar_schedule_api', a: '2', b: '3' } });
  const refused = mergeCustomAttributes({ source: 'calendar_schedule_api' }, { source: 'x' }, owned, true);
  assert.equal(refused.ok === false && refused.name, 'source');
  // The whole map sent back as read, one value changed: fine.
  assert.deepEqual(mergeCustomAttributes({ source: 'calendar_schedule_api', a: '1' }, { source: 'calendar_schedule_api', a: '2' }, owned, true), { ok: true, attributes: { source: 'calendar_schedule_api', a: '2' } });
  assert.deepEqual(mergeCustomAttributes({ source: 'calendar_schedule_api' }, { source: 'x', c: '1' }, owned, false), { ok: true, attributes: { source: 'calendar_schedule_api', c: '1' } });
  const many = Object.fromEntries(Array.from({ length: MAX_BOT_CUSTOM_ATTRIBUTES }, (_, i) => [`k${i}`, 'v']));
  assert.equal(mergeCustomAttributes({}, many, owned, true).ok, true);
  const over = mergeCustomAttributes(many, { one: 'more' }, owned, true);
  assert.equal(over.ok, false);
  assert.match(over.ok === false ? over.reason : '', /at most 64 .* would make 65/);
  // Changing values already there adds none, even on a bot over the bound from before it.
  assert.equal(mergeCustomAttributes(many, { k0: 'changed' }, owned, true).ok, true);
  const overBefore = { ...many, extra: 'v' };
  assert.equal(mergeCustomAttributes(overBefore, { extra: 'changed' }, owned, true).ok, true);
  assert.equal(mergeCustomAttributes(overBefore, { another: 'v' }, owned, true).ok, false);
});

test('live_transcription_required, given, must say where the live transcript goes: webhook_url or websocket_url', async () => {
  const { findRuntimeSettingProblem } = await import('./bot-config.ts');
  assert.deepEqual(findRuntimeSettingProblem({ live_transcription_required: { language: 'en' } }, 'bot_config.'), {
    field: 'bot_config.live_transcription_required',
    problem: 'bot_config.live_transcription_required must give webhook_url (or websocket_url), where the live transcript is sent; leave the field out for no live transcript',
  });
  assert.equal(findRuntimeSettingProblem({ live_transcription_required: { webhook_url: 'https://captions.example.com/live' } }), null);
  assert.equal(findRuntimeSettingProblem({ live_transcription_required: { websocket_url: 'wss://captions.example.com/live' } }), null);
  // Empty is the field left out (the request schema removes it before this runs).
  assert.equal(findRuntimeSettingProblem({ live_transcription_required: {} }), null);
  assert.equal(findRuntimeSettingProblem({}), null);
});

test('the transcription providers include every one of MeetStream\'s SDK types, its streaming ones too', () => {
  // TranscriptionProvider in meetstream-ai/meetstream-node src/types.ts.
  for (const name of ['deepgram', 'assemblyai', 'sarvam', 'jigsawstack', 'meetstream', 'deepgram_streaming', 'assemblyai_streaming', 'jigsawstack_streaming', 'meetstream_streaming', 'meeting_captions']) {
    assert.equal(checkTranscriptionProvider({ [name]: {} }, 'transcription'), null, name);
  }
});
