import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPrivateRuntimeAddress } from './runtime-addresses.ts';

test('addresses the runtime opens must be on a public host and of their kind; the field is named', () => {
  assert.equal(findPrivateRuntimeAddress({}), null);
  assert.equal(findPrivateRuntimeAddress({
    bot_image_url: 'https://cdn.example.com/bot.png', zoom: { zak_url: 'https://api.acme.io/zak' },
    socket_connection_url: 'wss://control.acme.io/s', live_audio_required: { websocket_url: 'wss://audio.acme.io/in' }, live_transcription_required: { webhook_url: 'https://hooks.acme.io/t' },
    recording_config: { realtime_endpoints: [{ url: 'wss://rt.acme.io/x' }, { url: 'https://rt.acme.io/y' }] },
  }), null);
  const refused: [Record<string, unknown>, string][] = [
    [{ bot_image_url: 'http://169.254.169.254/latest/meta-data/' }, 'bot_image_url'],
    [{ zoom: { obf_url: 'https://localhost/obf' } }, 'zoom.obf_url'],
    [{ socket_connection_url: { websocket_url: 'ws://10.0.0.7:9000/s' } }, 'socket_connection_url.websocket_url'],
    [{ socket_connection_url: 'ws://10.0.0.7:9000/s' }, 'socket_connection_url'],
    [{ socket_connection_url: 'https://control.acme.io/s' }, 'socket_connection_url'],
    [{ live_audio_required: { websocket_url: 'https://audio.acme.io/in' } }, 'live_audio_required.websocket_url'],
    [{ live_video_required: { websocket_url: 'ws://10.0.0.7:9000/v' } }, 'live_video_required.websocket_url'],
    [{ live_transcription_required: { websocket_url: 'wss://intranet/t' } }, 'live_transcription_required.websocket_url'],
    [{ recording_config: { realtime_endpoints: [{ url: 'wss://rt.acme.io/x' }, { url: 'ws://[::1]:8080/y' }] } }, 'recording_config.realtime_endpoints[1].url'],
    [{ bot_image_url: 'https://user:pw@cdn.acme.io/bot.png' }, 'bot_image_url'],
  ];
  for (const [config, field] of refused) {
    const found = findPrivateRuntimeAddress(config, 'bot_config.');
    assert.equal(found?.field, `bot_config.${field}`, JSON.stringify(config));
    assert.match(found!.problem, new RegExp(`^bot_config\\.${field.replace(/[.[\]]/g, '\\$&')} must`));
  }
  // Not strings: left to the request's schema.
  assert.equal(findPrivateRuntimeAddress({ bot_image_url: 7, recording_config: { realtime_endpoints: 'x' } }), null);
});
