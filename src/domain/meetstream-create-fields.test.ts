import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meetstreamCreateFields } from './meetstream-create-fields.ts';

test('MeetStream create_bot fields: the calendar transcription sent where create_bot reads it, provider_settings.meetstream laid over field by field', () => {
  assert.deepEqual(meetstreamCreateFields({ bot_name: 'x', transcription: { deepgram: { model: 'nova-3' } }, recording_config: { retention: { type: 'timed', hours: 24 } } }), {
    recording_config: { retention: { type: 'timed', hours: 24 }, transcript: { provider: { deepgram: { model: 'nova-3' } } } },
  });
  // A transcript already given wins over the calendar's transcription.
  assert.deepEqual(meetstreamCreateFields({ transcription: { deepgram: {} }, recording_config: { transcript: { provider: { assemblyai: {} } } } }).recording_config, { transcript: { provider: { assemblyai: {} } } });
  // provider_settings.meetstream replaces a whole field; its `transcription` is a field of its own.
  const sent = meetstreamCreateFields({
    transcription: { deepgram: {} }, live_transcription_required: { webhook_url: 'https://a.example.com' },
    provider_settings: { meetstream: { transcription: { deepgram_streaming: {} }, live_transcription_required: {} }, recall: { other: true } },
  });
  assert.deepEqual(sent, { recording_config: { transcript: { provider: { deepgram: {} } } }, live_transcription_required: {}, transcription: { deepgram_streaming: {} } });
});

test('MeetStream create_bot fields: a live stream given {} (one stored before requests dropped it) is not sent; one with its address is', () => {
  const sent = meetstreamCreateFields({ live_audio_required: {}, live_video_required: {}, socket_connection_url: {}, live_transcription_required: {}, zoom: {} });
  assert.deepEqual(sent, { zoom: {} });
  const kept = { live_audio_required: { websocket_url: 'wss://a.example.com' }, live_transcription_required: { webhook_url: 'https://b.example.com' } };
  assert.deepEqual(meetstreamCreateFields(kept), kept);
});
