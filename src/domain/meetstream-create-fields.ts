// What MeetStream's create_bot receives from a bot's settings, besides the fields Rollcall fills
// itself (meeting_link, bot_name, custom_attributes, join_at). One function builds it for the
// launch (meetstream-bot-provider.ts) and for the check at booking (provider-input-limits.ts), so
// that what is checked is what is sent.
import { providerSettingsOf } from './provider-settings.ts';

/**
 * create_bot fields passed on as given: MeetStream's CreateBotRequest but for what Rollcall sets
 * itself. `audio_required` is a calendar bot_config field only (audio is always captured).
 */
const MEETSTREAM_CREATE_FIELDS = [
  'bot_message', 'bot_image_url', 'video_required', 'audio_separate_streams', 'video_separate_streams', 'zoom', 'automatic_leave', 'recording_config',
  'socket_connection_url', 'live_audio_required', 'live_video_required', 'live_transcription_required', 'workflow_config_ids', 'agent_config_id',
] as const;

/** The live streams, turned on by the field's presence. */
const LIVE_STREAM_FIELDS: ReadonlySet<string> = new Set(['socket_connection_url', 'live_audio_required', 'live_video_required', 'live_transcription_required']);

/** The create_bot fields a bot config sends to MeetStream, provider_settings.meetstream laid over the rest. */
export function meetstreamCreateFields(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  // The create_bot fields a bot config carries as the client gave them (an ad-hoc bot's are
  // MeetStream's create_bot request itself: its socket and live streams, Zoom tokens, workflows).
  // A live stream given {} is the stream left out (docs/behaviour.md): requests drop it before it
  // is stored; one stored earlier is not sent either.
  for (const field of MEETSTREAM_CREATE_FIELDS) {
    const value = config[field];
    if (value === undefined || (LIVE_STREAM_FIELDS.has(field) && isEmptyObject(value))) continue;
    fields[field] = value;
  }
  // The calendar bot_config names its transcription provider at the top level
  // (`transcription: { deepgram: {...} }`); create_bot takes the same choice under
  // recording_config.transcript.provider, e.g. { transcript: { provider: { deepgram: { model,
  // language } } } } (the create_bot example of MeetStream's Python SDK quickstart).
  // A transcript the config already gives there wins.
  const transcription = config.transcription;
  const recording = (config.recording_config ?? {}) as Record<string, unknown>;
  if (transcription !== null && typeof transcription === 'object' && Object.keys(transcription).length > 0 && recording.transcript === undefined) {
    fields.recording_config = { ...recording, transcript: { provider: transcription } };
  }
  // Field by field, as given: a provider setting replaces the whole field of the same name.
  return { ...fields, ...providerSettingsOf(config as Record<string, unknown>, 'meetstream') };
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}
