// MeetStream routes Rollcall does not serve (docs/meetstream-compatibility.md, "Routes Rollcall
// does not serve"), each with where that part lives instead. They answer 501 route_not_served
// rather than 404: MeetStream's SDKs read a 404 as "no such bot or transcript"
// (meetstream-ai/meetstream-node, errors.ts: NotFoundError), which would send a client looking for a
// bot that exists. Paths are under /api/v1; any method.

const MEDIA = 'recordings, transcripts and meeting data are kept by the bot runtime, not by Rollcall, which only schedules bots: ask the runtime (with BOT_RUNTIME=meetstream, MeetStream) with the provider\'s bot id from the bot\'s decision log';
const LIVE_CONTROL = 'live control of a bot in its meeting is the bot runtime\'s own API: Rollcall sends it launch, update and stop only';

const UNSERVED: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /^\/bots\/[^/]+\/(get_audio|get_video|get_audio_streams|get_recording_streams|get_screenshots|get_participants|get_chats|get_speaker_timeline|summary|transcriptions|transcribe)$/, reason: MEDIA },
  { pattern: /^\/transcript\/[^/]+\/get_transcript$/, reason: MEDIA },
  { pattern: /^\/bots\/[^/]+\/(send_message|send_image|pause_recording|resume_recording)$/, reason: LIVE_CONTROL },
  { pattern: /^\/mia$/, reason: 'agent configurations run in the bot: create them with the runtime; a bot_config\'s agent_config_id is passed on to it' },
  { pattern: /^\/(google-login-domains|google-logins|zoom\/oauth)(\/.*)?$|^\/admin\/configs$/, reason: 'signed-in Google bots, Zoom OAuth and recording storage are settings of the bot runtime: configure them there' },
  { pattern: /^\/calendar\/auto-reschedule$/, reason: 'POST /calendar/toggle-recurrence with recurring_enabled: true books each next occurrence of a series (chain mode)' },
];

/** Why `path` (under the API prefix) is not served, or null for a path that is simply unknown. */
export function unservedRouteReason(path: string): string | null {
  return UNSERVED.find((route) => route.pattern.test(path))?.reason ?? null;
}
