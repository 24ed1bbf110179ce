// Addresses a bot config carries for the bot runtime to open besides the meeting link (MeetStream's
// create_bot fields, passed on to the runtime): a self-hosted runtime opens them from its own
// network, so they get the meeting link's public-host rule (src/domain/meeting-url.ts).
import { checkRuntimeAddress } from './meeting-url.ts';

const WEB = ['http', 'https'] as const;
const SOCKET = ['ws', 'wss'] as const;
const ANY = [...WEB, ...SOCKET] as const;

/** Where each address lives in a bot config, and the schemes it may use. */
const ADDRESSES: { path: readonly string[]; schemes: readonly string[] }[] = [
  { path: ['bot_image_url'], schemes: WEB },
  { path: ['zoom', 'zak_url'], schemes: WEB },
  { path: ['zoom', 'obf_url'], schemes: WEB },
  { path: ['socket_connection_url', 'websocket_url'], schemes: SOCKET },
  // MeetStream's older create_bot shape: the address itself (sent on as { websocket_url }: bot-config.ts).
  { path: ['socket_connection_url'], schemes: SOCKET },
  { path: ['live_audio_required', 'websocket_url'], schemes: SOCKET },
  { path: ['live_video_required', 'websocket_url'], schemes: SOCKET },
  { path: ['live_transcription_required', 'webhook_url'], schemes: WEB },
  { path: ['live_transcription_required', 'websocket_url'], schemes: SOCKET },
];

function at(config: unknown, path: readonly string[]): unknown {
  let value = config;
  for (const key of path) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/**
 * The first address in `config` that is not on a public host (or not of its kind), with its field
 * under `prefix`; null when every one given is fine. Values that are not strings are left to the
 * request's schema.
 */
export function findPrivateRuntimeAddress(config: unknown, prefix = ''): { field: string; problem: string } | null {
  const found: { field: string; value: unknown; schemes: readonly string[] }[] = ADDRESSES.map(({ path, schemes }) => ({ field: path.join('.'), value: at(config, path), schemes }));
  const endpoints = at(config, ['recording_config', 'realtime_endpoints']);
  if (Array.isArray(endpoints)) {
    endpoints.forEach((endpoint, i) => found.push({ field: `recording_config.realtime_endpoints[${i}].url`, value: at(endpoint, ['url']), schemes: ANY }));
  }
  for (const { field, value, schemes } of found) {
    if (typeof value !== 'string') continue;
    const check = checkRuntimeAddress(value, schemes);
    if (!check.ok) return { field: `${prefix}${field}`, problem: `${prefix}${field} ${check.reason}` };
  }
  return null;
}
