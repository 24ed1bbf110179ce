// bot_config.provider_settings: fields a client adds to the bot provider's create-bot request, in
// the provider's own names, under the provider's name: `{ recall: { recording_config: ... } }`,
// `{ attendee: { transcription_settings: ... } }`, `{ meetstream: { live_audio_required: ... } }`.
// Only the section of the provider the deployment drives is sent, so a config written for one
// provider never reaches another's API (a deployment that changes BOT_RUNTIME, or a client that
// serves several). Rollcall does not interpret them; it refuses the few fields it sends itself,
// and the addresses a provider would open on a private host.
import { checkPublicHost } from './meeting-url.ts';

export const PROVIDER_SETTINGS_FIELD = 'provider_settings';

/** The bot providers a section of provider_settings may name (BOT_RUNTIME's provider values). */
export const PROVIDERS_WITH_SETTINGS = ['recall', 'meetstream', 'attendee'] as const;
export type ProviderWithSettings = (typeof PROVIDERS_WITH_SETTINGS)[number];

/**
 * Create-bot fields Rollcall fills itself, with where the client says the same thing. A provider
 * setting of one of these names would change which meeting, when, the launch key the lost-answer
 * lookup searches for, or where the provider reports statuses (Attendee sends a bot's webhooks
 * only to its bot-level `webhooks` when it has any: its docs/webhooks.md, "Webhook Delivery
 * Priority"), so it is refused rather than sent.
 */
const RESERVED_FIELDS: Record<string, string> = {
  meeting_url: 'the event\'s meeting link or bot_config.meeting_url',
  meeting_link: 'the event\'s meeting link or bot_config.meeting_url',
  join_at: 'bot_config.join_at or the event\'s start',
  bot_name: 'bot_config.bot_name',
  metadata: 'bot_config.custom_attributes',
  custom_attributes: 'bot_config.custom_attributes',
  deduplication_key: 'the deduplication_key of the request',
  callback_url: 'bot_config.callback_url (Rollcall receives the provider\'s status webhooks)',
  webhooks: 'bot_config.callback_url (Rollcall receives the provider\'s status webhooks)',
  // Attendee takes the meeting from one of its own calendar events instead of meeting_url.
  calendar_event_id: 'the event\'s meeting link or bot_config.meeting_url',
};

/**
 * Schemes a provider opens as a network address: the web's, and streaming's (RTMP, RTSP, SRT).
 * Others name something else (an s3:// or gs:// bucket, a mailto:) and are left alone.
 */
const NETWORK_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'rtmp:', 'rtmps:', 'rtsp:', 'rtsps:', 'srt:']);

/**
 * What is wrong with `config.provider_settings`, with its field under `prefix`: a field Rollcall
 * fills itself, or a URL (of any scheme: webhook, websocket, RTMP, storage) that does not name a
 * public host, since a self-hosted provider opens it from its own network. Null when fine or absent.
 * The request's schema has already checked that it is an object; its depth is bounded by the body
 * parser (MAX_JSON_DEPTH).
 */
export function checkProviderSettings(config: Record<string, unknown>, prefix = ''): { field: string; problem: string } | null {
  const settings = config[PROVIDER_SETTINGS_FIELD];
  if (settings === undefined) return null;
  const base = `${prefix}${PROVIDER_SETTINGS_FIELD}`;
  if (!isPlainObject(settings)) return { field: base, problem: `${base} must be an object` };
  for (const [provider, section] of Object.entries(settings)) {
    const at = `${base}.${provider}`;
    if (!(PROVIDERS_WITH_SETTINGS as readonly string[]).includes(provider)) {
      return { field: at, problem: `${at} names no bot provider: provider_settings holds one object per provider (${PROVIDERS_WITH_SETTINGS.join(', ')}), e.g. { "recall": { "recording_config": { ... } } }` };
    }
    if (!isPlainObject(section)) return { field: at, problem: `${at} must be an object` };
    for (const name of Object.keys(section)) {
      if (!Object.hasOwn(RESERVED_FIELDS, name)) continue;
      return { field: `${at}.${name}`, problem: `${at}.${name} is set by Rollcall: use ${RESERVED_FIELDS[name]}` };
    }
    const found = findPrivateAddress(section, at);
    if (found) return found;
  }
  return null;
}

function findPrivateAddress(value: unknown, field: string): { field: string; problem: string } | null {
  if (typeof value === 'string') {
    // What a URL parser makes of the string, as a provider would parse it: the WHATWG parser
    // skips leading control characters and tabs or newlines inside, and reads backslashes and a
    // missing "//" in a special scheme as a host. Text that is no URL is left alone.
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return null;
    }
    if (url.protocol === 'file:') return { field, problem: `${field} must not be a file URL` };
    if (!NETWORK_SCHEMES.has(url.protocol)) return null;
    const check = checkPublicHost(url);
    return check.ok ? null : { field, problem: `${field} ${check.reason}` };
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [`${field}[${i}]`, item])
    : isPlainObject(value) ? Object.entries(value).map(([key, item]) => [`${field}.${key}`, item]) : [];
  for (const [path, item] of entries) {
    const found = findPrivateAddress(item, path);
    if (found) return found;
  }
  return null;
}

/**
 * The settings `provider` is to get, to merge over the create-bot fields its adapter derives
 * from the bot config: top-level fields replace the derived ones of the same name. Other
 * providers' sections are left out; so are reserved fields, for a stored config that was never
 * checked (one written by an older version).
 */
export function providerSettingsOf(config: Record<string, unknown>, provider: ProviderWithSettings): Record<string, unknown> {
  const settings = config[PROVIDER_SETTINGS_FIELD];
  const section = isPlainObject(settings) && Object.hasOwn(settings, provider) ? settings[provider] : undefined;
  if (!isPlainObject(section)) return {};
  return Object.fromEntries(Object.entries(section).filter(([name]) => !Object.hasOwn(RESERVED_FIELDS, name)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
