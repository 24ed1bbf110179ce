import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProviderSettings, providerSettingsOf } from './provider-settings.ts';

const underRecall = (section: unknown) => ({ provider_settings: { recall: section } });

test('provider settings: absent or plain provider fields are fine, public addresses of any scheme too', () => {
  assert.equal(checkProviderSettings({}), null);
  assert.equal(checkProviderSettings({ provider_settings: {} }), null);
  assert.equal(checkProviderSettings({
    provider_settings: {
      recall: {
        recording_config: { transcript: { provider: { recallai_streaming: { language_code: 'en' } } }, realtime_endpoints: [{ type: 'websocket', url: 'wss://rt.example.com/s', events: ['transcript.data'] }] },
        note: 'see https://10.0.0.1/page for why',
        storage: 's3://my-bucket/recordings/',
        archive: 'gs://bucket/obj',
        with_space: 'https://hooks.example.com/a b',
        language: 'en:US',
        time: '12:30',
        port: 'localhost:8080',
        zoom_speaker_view: true,
        count: 3,
      },
      attendee: { rtmp_settings: { destination_url: 'rtmp://live.example.com/app/key' } },
      meetstream: {},
    },
  }), null);
});

test('provider settings: one object per provider, named as BOT_RUNTIME names it', () => {
  const unknown = checkProviderSettings({ provider_settings: { recording_config: {} } }, 'bot_config.');
  assert.equal(unknown?.field, 'bot_config.provider_settings.recording_config');
  assert.match(unknown!.problem, /names no bot provider: .*recall, meetstream, attendee/);
  for (const section of [['a'], 'x', null, 3]) assert.equal(checkProviderSettings(underRecall(section))?.field, 'provider_settings.recall');
});

test('provider settings: a field Rollcall sends itself is refused, naming it and where to say it instead', () => {
  for (const [name, instead] of [['meeting_url', /meeting_url/], ['meeting_link', /meeting_url/], ['join_at', /bot_config\.join_at/], ['bot_name', /bot_config\.bot_name/], ['metadata', /custom_attributes/], ['deduplication_key', /deduplication_key/], ['webhooks', /callback_url/], ['callback_url', /callback_url/], ['calendar_event_id', /meeting_url/]] as const) {
    const found = checkProviderSettings({ provider_settings: { attendee: { transcription_settings: {}, [name]: 'x' } } }, 'bot_config.');
    assert.equal(found?.field, `bot_config.provider_settings.attendee.${name}`);
    assert.match(found!.problem, instead);
  }
});

test('provider settings: an address on a private host is refused with its path, however deep and whatever its scheme', () => {
  const cases: [unknown, string][] = [
    [{ recording_config: { realtime_endpoints: [{ url: 'wss://rt.example.com/ok' }, { url: 'ws://10.1.2.3/rt' }] } }, 'provider_settings.recall.recording_config.realtime_endpoints[1].url'],
    [{ rtmp_settings: { destination_url: 'rtmp://localhost/live' } }, 'provider_settings.recall.rtmp_settings.destination_url'],
    [{ a: [[{ b: 'https://169.254.169.254/latest/meta-data' }]] }, 'provider_settings.recall.a[0][0].b'],
    [{ hook: 'HTTPS://user:pw@hooks.example.com/' }, 'provider_settings.recall.hook'],
    // Spellings a URL parser still reads as a private host: control characters before the scheme,
    // a tab or newline inside it, backslashes or no slashes after a special scheme, an encoded host.
    [{ hook: '\u0001https://10.0.0.1/' }, 'provider_settings.recall.hook'],
    [{ hook: 'ht\ttp://169.254.169.254/' }, 'provider_settings.recall.hook'],
    [{ hook: 'h\nttps://10.0.0.1/' }, 'provider_settings.recall.hook'],
    [{ hook: 'https:\\\\10.0.0.1\\x' }, 'provider_settings.recall.hook'],
    [{ hook: 'https:10.0.0.1/x' }, 'provider_settings.recall.hook'],
    [{ hook: 'wss:/127.0.0.1/x' }, 'provider_settings.recall.hook'],
    [{ hook: 'rtmp://%31%32%37.0.0.1/x' }, 'provider_settings.recall.hook'],
    [{ hook: 'file:///etc/passwd' }, 'provider_settings.recall.hook'],
    [{ hook: 'http://[::1]:8080/' }, 'provider_settings.recall.hook'],
  ];
  for (const [section, field] of cases) {
    const found = checkProviderSettings(underRecall(section));
    assert.equal(found?.field, field, JSON.stringify(section));
    assert.ok(found!.problem.startsWith(field));
  }
});

test('provider settings: a name an object inherits is no reserved field and no provider', () => {
  assert.equal(checkProviderSettings(underRecall({ constructor: 'x', toString: 'y' })), null);
  assert.deepEqual(providerSettingsOf(underRecall({ constructor: 'x' }), 'recall'), { constructor: 'x' });
  assert.equal(checkProviderSettings({ provider_settings: { constructor: {} } })?.field, 'provider_settings.constructor');
  assert.deepEqual(providerSettingsOf({ provider_settings: {} }, 'recall'), {});
});

test('provider settings merged by an adapter: its own section only; a stored config\'s reserved fields left out, the rest kept as given', () => {
  assert.deepEqual(providerSettingsOf({}, 'attendee'), {});
  assert.deepEqual(providerSettingsOf({ provider_settings: ['x'] }, 'attendee'), {});
  const config = { provider_settings: { attendee: { metadata: { a: 'b' }, join_at: 'now', transcription_settings: { deepgram: { language: 'en' } } }, recall: { recording_config: {} } } };
  assert.deepEqual(providerSettingsOf(config, 'attendee'), { transcription_settings: { deepgram: { language: 'en' } } });
  assert.deepEqual(providerSettingsOf(config, 'recall'), { recording_config: {} });
  assert.deepEqual(providerSettingsOf(config, 'meetstream'), {});
});
