import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProviderSettings, providerSettingsOf } from './provider-settings.ts';

test('provider settings: absent or plain provider fields are fine, public addresses of any scheme too', () => {
  assert.equal(checkProviderSettings({}), null);
  assert.equal(checkProviderSettings({ provider_settings: {} }), null);
  assert.equal(checkProviderSettings({
    provider_settings: {
      recording_config: { transcript: { provider: { recallai_streaming: { language_code: 'en' } } }, realtime_endpoints: [{ type: 'websocket', url: 'wss://rt.example.com/s', events: ['transcript.data'] }] },
      rtmp_settings: { destination_url: 'rtmp://live.example.com/app/key' },
      note: 'see https://10.0.0.1/page for why',
      language: 'en:US',
      time: '12:30',
      port: 'localhost:8080',
      zoom_speaker_view: true,
      count: 3,
    },
  }), null);
});

test('provider settings: a field Rollcall sends itself is refused, naming it and where to say it instead', () => {
  for (const [name, instead] of [['meeting_url', /meeting_url/], ['meeting_link', /meeting_url/], ['join_at', /bot_config\.join_at/], ['bot_name', /bot_config\.bot_name/], ['metadata', /custom_attributes/], ['deduplication_key', /deduplication_key/], ['webhooks', /callback_url/], ['callback_url', /callback_url/]] as const) {
    const found = checkProviderSettings({ provider_settings: { transcription_settings: {}, [name]: 'x' } }, 'bot_config.');
    assert.equal(found?.field, `bot_config.provider_settings.${name}`);
    assert.match(found!.problem, instead);
  }
});

test('provider settings: an address on a private host is refused with its path, however deep and whatever its scheme', () => {
  const cases: [unknown, string][] = [
    [{ recording_config: { realtime_endpoints: [{ url: 'wss://rt.example.com/ok' }, { url: 'ws://10.1.2.3/rt' }] } }, 'provider_settings.recording_config.realtime_endpoints[1].url'],
    [{ rtmp_settings: { destination_url: 'rtmp://localhost/live' } }, 'provider_settings.rtmp_settings.destination_url'],
    [{ a: [[{ b: 'https://169.254.169.254/latest/meta-data' }]] }, 'provider_settings.a[0][0].b'],
    [{ storage: 's3://bucket.internal/path' }, 'provider_settings.storage'],
    [{ hook: 'HTTPS://user:pw@hooks.example.com/' }, 'provider_settings.hook'],
    // Spellings a URL parser still reads as a private host: control characters before the scheme,
    // a tab or newline inside it, backslashes or no slashes after a special scheme, an encoded host.
    [{ hook: '\u0001https://10.0.0.1/' }, 'provider_settings.hook'],
    [{ hook: 'ht\ttp://169.254.169.254/' }, 'provider_settings.hook'],
    [{ hook: 'h\nttps://10.0.0.1/' }, 'provider_settings.hook'],
    [{ hook: 'https:\\\\10.0.0.1\\x' }, 'provider_settings.hook'],
    [{ hook: 'https:10.0.0.1/x' }, 'provider_settings.hook'],
    [{ hook: 'wss:/127.0.0.1/x' }, 'provider_settings.hook'],
    [{ hook: 'rtmp://%31%32%37.0.0.1/x' }, 'provider_settings.hook'],
    [{ hook: 'file:///etc/passwd' }, 'provider_settings.hook'],
    [{ hook: 'http://[::1]:8080/' }, 'provider_settings.hook'],
  ];
  for (const [settings, field] of cases) {
    const found = checkProviderSettings({ provider_settings: settings });
    assert.equal(found?.field, field, JSON.stringify(settings));
    assert.ok(found!.problem.startsWith(field));
  }
});

test('provider settings: a name an object inherits is no reserved field', () => {
  assert.equal(checkProviderSettings({ provider_settings: { constructor: 'x', toString: 'y' } }), null);
  assert.deepEqual(providerSettingsOf({ provider_settings: { constructor: 'x' } }), { constructor: 'x' });
});

test('provider settings: not an object is refused', () => {
  for (const value of [['a'], 'recording_config', null, 3]) {
    assert.equal(checkProviderSettings({ provider_settings: value }, 'bot_config.')?.field, 'bot_config.provider_settings');
  }
});

test('provider settings merged by an adapter: a stored config\'s reserved fields are left out, the rest kept as given', () => {
  assert.deepEqual(providerSettingsOf({}), {});
  assert.deepEqual(providerSettingsOf({ provider_settings: ['x'] }), {});
  assert.deepEqual(providerSettingsOf({ provider_settings: { metadata: { a: 'b' }, join_at: 'now', transcription_settings: { deepgram: { language: 'en' } } } }), { transcription_settings: { deepgram: { language: 'en' } } });
});
