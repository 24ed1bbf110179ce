// What a bot provider refuses when the bot is created, checked when the bot is booked. A bot is
// handed to its provider minutes before its meeting (BOT_PROVIDER_HANDOVER_LEAD_SECONDS), days
// after the client booked it: a value the provider refuses then fails the bot at the last moment,
// with nobody left to fix it. The same value refused at booking is a 400 the client can act on.
//
// Only limits a provider documents, or that its published code enforces, are here:
// - Recall: bot_name 1 to 100 characters (docs.recall.ai/reference/bot_create); meeting links of
//   Zoom, Google Meet, Microsoft Teams, Webex and GoTo Meeting, and of Google Meet only those that
//   name the meeting's code (docs.recall.ai/docs/meeting-urls: its Google Meet pattern is a code
//   right after meet.google.com/, so a lookup link, which names none, is not a Meet link there).
// - Attendee: bot_name without characters outside the Basic Multilingual Plane, and not blank
//   (bots/serializers.py, BotValidationMixin.validate_bot_name, and the framework's CharField);
//   metadata whose json.dumps text is at most MAX_METADATA_LENGTH characters, 1,000 unless the
//   Attendee deployment changes it (bots/serializers.py, _validate_metadata_attribute;
//   attendee/settings/base.py); meeting links of Zoom, Google Meet and Teams only, each of the
//   shapes its parser knows (bots/serializers.py, BotValidationMixin.validate_meeting_url, which
//   refuses what bots/meeting_url_utils.py, normalize_meeting_url, cannot read; see attendeeLinkProblem).
// - MeetStream: meeting links of Google Meet, Zoom and Teams (its create-bot reference names
//   these three); live_transcription_required only with a streaming transcription provider (a
//   *_streaming one, or meeting_captions): with a post-call one (deepgram, assemblyai, sarvam,
//   jigsawstack, meetstream) create_bot answers 400 (the Node SDK's CreateBotParams and its
//   PostCallTranscriptionProvider, meetstream-ai/meetstream-node src/types.ts; the labs'
//   live-captions-overlay, index.js and src/providers.js).
// Where a provider is silent (MeetStream's names and attributes, Recall's metadata keys), nothing
// is checked.
import type { BotProviderName } from '../config.ts';
import type { MeetingLink, MeetingPlatform } from './meeting-url.ts';
import { meetstreamCreateFields } from './meetstream-create-fields.ts';

export interface ProviderInput {
  botName: string;
  /** The client's custom_attributes, as handed to the provider (string values only). */
  customAttributes: Readonly<Record<string, string>>;
  /**
   * The link the bot will be sent to, as parseMeetingLink reads it; one whose platform is null (a
   * host Rollcall does not know) is not checked; left out, not checked (a change of other fields).
   */
  meeting?: Pick<MeetingLink, 'url' | 'platform' | 'identity'>;
  /**
   * The bot config (create_bot's request, or a calendar bot_config), for the fields a provider
   * refuses in combination (MeetStream's live transcript with a post-call provider); left out, not checked.
   */
  config?: Readonly<Record<string, unknown>>;
}

export interface ProviderInputProblem {
  field: 'bot_name' | 'custom_attributes' | 'meeting_url' | 'live_transcription_required';
  problem: string;
}

/** MeetStream's transcription providers that transcribe the finished recording, and so send nothing live. */
const MEETSTREAM_POST_CALL_PROVIDERS: readonly string[] = ['deepgram', 'assemblyai', 'sarvam', 'jigsawstack', 'meetstream'];

const RECALL_BOT_NAME_MAX = 100;
/** Attendee's MAX_METADATA_LENGTH default. */
export const ATTENDEE_METADATA_MAX = 1000;
/** Attendee's metadata also carries rollcall_bot_id (attendee-bot-provider.ts): a bot id is "bot_" and 22 characters. */
const ATTENDEE_ADDED_METADATA = { rollcall_bot_id: `bot_${'x'.repeat(22)}` };

const PLATFORMS: Record<BotProviderName, readonly MeetingPlatform[]> = {
  recall: ['zoom', 'google_meet', 'microsoft_teams', 'webex', 'gotomeeting'],
  attendee: ['zoom', 'google_meet', 'microsoft_teams'],
  meetstream: ['zoom', 'google_meet', 'microsoft_teams'],
};

const PLATFORM_NAMES: Record<MeetingPlatform, string> = {
  zoom: 'Zoom', google_meet: 'Google Meet', microsoft_teams: 'Microsoft Teams', webex: 'Webex', gotomeeting: 'GoTo Meeting', bluejeans: 'BlueJeans', whereby: 'Whereby',
};

const PROVIDER_NAMES: Record<BotProviderName, string> = { recall: 'Recall', attendee: 'Attendee', meetstream: 'MeetStream' };

/** The first value `provider` would refuse at creation, or null. */
export function findProviderInputProblem(provider: BotProviderName, input: ProviderInput): ProviderInputProblem | null {
  const linkProblem = input.meeting === undefined ? null : findProviderLinkProblem(provider, input.meeting);
  if (linkProblem !== null) return { field: 'meeting_url', problem: linkProblem };
  if (provider === 'meetstream' && input.config !== undefined) {
    const postCall = meetstreamPostCallProviderWithLiveTranscript(input.config);
    if (postCall !== null) {
      return { field: 'live_transcription_required', problem: `needs a streaming transcription provider at the bot provider (MeetStream): ${MEETSTREAM_POST_CALL_PROVIDERS.map((p) => `${p}_streaming`).filter((p) => p !== 'sarvam_streaming').join(', ')} or meeting_captions; "${postCall}" transcribes only after the meeting` };
    }
  }
  const characters = [...input.botName].length;
  if (provider === 'recall' && (characters < 1 || characters > RECALL_BOT_NAME_MAX)) {
    return { field: 'bot_name', problem: `must be 1 to ${RECALL_BOT_NAME_MAX} characters for the bot provider (Recall), got ${characters}` };
  }
  if (provider === 'attendee') {
    if (input.botName.trim() === '') return { field: 'bot_name', problem: 'must not be blank for the bot provider (Attendee)' };
    if ([...input.botName].some((c) => c.codePointAt(0)! > 0xffff)) {
      return { field: 'bot_name', problem: 'must not contain emoji or other characters beyond U+FFFF for the bot provider (Attendee)' };
    }
    // Sent beside Rollcall's own entry: the text of both is the two texts' lengths added.
    const budget = ATTENDEE_METADATA_MAX - pythonJsonLength(ATTENDEE_ADDED_METADATA);
    const length = pythonJsonLength(input.customAttributes);
    if (Object.keys(input.customAttributes).length > 0 && length > budget) {
      return { field: 'custom_attributes', problem: `${length} characters as the bot provider (Attendee) measures them (JSON, characters beyond ASCII escaped); it takes at most ${budget}` };
    }
  }
  return null;
}

/**
 * The post-call provider a config asks MeetStream for beside a live transcript, or null: both read
 * from the create_bot fields the launch sends (meetstreamCreateFields), the provider where
 * MeetStream reads it (recording_config.transcript.provider). A live transcript is any object
 * sent (MeetStream turns the stream on by the field's presence), {} from provider_settings too.
 */
function meetstreamPostCallProviderWithLiveTranscript(config: Readonly<Record<string, unknown>>): string | null {
  const sent = meetstreamCreateFields(config);
  const live = sent.live_transcription_required;
  if (live === undefined || live === null || typeof live !== 'object' || Array.isArray(live)) return null;
  const recording = sent.recording_config;
  const transcript = recording !== null && typeof recording === 'object' ? (recording as { transcript?: unknown }).transcript : undefined;
  const chosen = transcript !== null && typeof transcript === 'object' ? (transcript as { provider?: unknown }).provider : undefined;
  if (chosen === null || typeof chosen !== 'object') return null;
  const name = Object.keys(chosen)[0];
  return name !== undefined && MEETSTREAM_POST_CALL_PROVIDERS.includes(name) ? name : null;
}

/**
 * What the provider would say of the link. A link of a host Rollcall does not recognise is left to
 * the provider, which may know shapes Rollcall does not (Recall joins zoom-x.de links and Teams
 * message links, for instance); so is every shape of a platform the provider is not known to refuse.
 */
export function findProviderLinkProblem(provider: BotProviderName, meeting: Pick<MeetingLink, 'url' | 'platform' | 'identity'>): string | null {
  const platform = meeting.platform;
  if (platform === null) return null;
  const name = PROVIDER_NAMES[provider];
  if (!PLATFORMS[provider].includes(platform)) {
    return `The bot provider (${name}) does not join ${PLATFORM_NAMES[platform]} meetings; it joins ${PLATFORMS[provider].map((p) => PLATFORM_NAMES[p]).join(', ')}`;
  }
  if (provider === 'recall' && meeting.identity.startsWith('google_meet:lookup:')) {
    return 'The bot provider (Recall) does not take Google Meet lookup links (meet.google.com/lookup/...), which name no meeting code; give the meeting\'s own link (https://meet.google.com/abc-defg-hij)';
  }
  if (provider === 'attendee') return attendeeLinkProblem(meeting.url, platform);
  return null;
}

/** The Teams hosts Attendee's parser takes (bots/meeting_url_utils.py, TEAMS_HOSTS). */
const ATTENDEE_TEAMS_HOSTS = ['teams.microsoft.com', 'teams.live.com', 'gov.teams.microsoft.us', 'dod.teams.microsoft.us'];

/**
 * Attendee refuses at creation a link its parser cannot read (bots/meeting_url_utils.py,
 * normalize_meeting_url_raw, called by BotValidationMixin.validate_meeting_url in
 * bots/serializers.py). It reads the link as written, then percent-decoded once, then twice, and
 * takes the first reading it understands:
 * - Zoom: a host under zoom.us or zoom.com (not zoomgov.com), and a digit in the path (up to its
 *   first character other than a letter, digit, "/", "_" or "-"): the meeting's number. A personal
 *   link, zoom.us/my/<name>, has none.
 * - Google Meet: the host meet.google.com exactly, and a letter, digit or "-" right after
 *   "meet.google.com/" (so not the /_meet/ route of the installed app).
 * - Teams: one of its four hosts (not teams.cloud.microsoft), then either a meetup-join link whose
 *   first query parameter is context, naming the tenant ("Tid") and then the organizer ("Oid"), or
 *   a /meet/<id> link whose first query parameter is the passcode p.
 */
function attendeeLinkProblem(url: string, platform: MeetingPlatform): string | null {
  const host = hostOf(url);
  const readings = [url];
  for (let i = 0; i < 2; i++) readings.push(percentDecoded(readings[i]!));
  if (platform === 'zoom') {
    if (!['zoom.us', 'zoom.com'].some((base) => host === base || host.endsWith(`.${base}`))) {
      return 'The bot provider (Attendee) takes Zoom links of zoom.us and zoom.com only, not ZoomGov (zoomgov.com) links';
    }
    if (!readings.some((reading) => /\d/.test(/^[A-Za-z0-9/_-]*/.exec(pathOf(reading))![0]))) {
      return 'The bot provider (Attendee) needs a Zoom link with the meeting\'s number in its path (https://zoom.us/j/<number>); a personal link (zoom.us/my/<name>) names none';
    }
  }
  if (platform === 'google_meet' && (host !== 'meet.google.com' || !readings.some((reading) => /meet\.google\.com\/[A-Za-z0-9-]/.test(reading)))) {
    return 'The bot provider (Attendee) needs a Google Meet link with the meeting code right after the host (https://meet.google.com/abc-defg-hij)';
  }
  if (platform === 'microsoft_teams') {
    if (!ATTENDEE_TEAMS_HOSTS.includes(host)) return `The bot provider (Attendee) does not take Microsoft Teams links of ${host}; it takes those of ${ATTENDEE_TEAMS_HOSTS.join(', ')}`;
    if (!readings.some((reading) => hasAttendeeTeamsShape(reading, host))) {
      return 'The bot provider (Attendee) needs a Microsoft Teams link that names the meeting\'s tenant and organizer (a meetup-join link whose query starts with context={"Tid":"...","Oid":"..."}) or a /meet/<id> link whose query starts with its passcode (?p=...)';
    }
  }
  return null;
}

function hasAttendeeTeamsShape(reading: string, host: string): boolean {
  const at = reading.indexOf(`${host}/`);
  if (at < 0) return false;
  const rest = reading.slice(at + host.length);
  const meetupJoin = /\/l\/meetup-join\/[^/]+\/[^?]+\?context=.*?"Tid":"[^"]+".*?"Oid":"[^"]+"/;
  const meetWithPasscode = /\/meet\/[^?]+\?p=[^&\s]+/;
  return meetupJoin.test(rest) || meetWithPasscode.test(rest);
}

/** The host of an absolute URL, lowercased, as written (a leading "www." kept). */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** The path of an absolute URL as written: from the end of the authority to the first "?" or "#". */
function pathOf(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? '';
}

/** Every %XX run decoded as UTF-8 (an invalid sequence as U+FFFD), as Python's urllib unquote does. */
function percentDecoded(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => new TextDecoder().decode(Uint8Array.from(run.slice(1).split('%'), (hex) => Number.parseInt(hex, 16))));
}

/**
 * The length of Python's json.dumps text of a flat object of strings, with its defaults: ", " and
 * ": " between items, every character beyond ASCII escaped (\uXXXX, a pair of them beyond U+FFFF).
 */
export function pythonJsonLength(value: Readonly<Record<string, string>>): number {
  const entries = Object.entries(value);
  if (entries.length === 0) return 2;
  let length = 2 + (entries.length - 1) * 2;
  for (const [key, text] of entries) length += quotedLength(key) + 2 + quotedLength(text);
  return length;
}

function quotedLength(text: string): number {
  // JSON.stringify escapes quotes, backslashes and controls as Python does (\n, \u0000 ...);
  // what it leaves as is from DEL on, Python writes as \uXXXX per UTF-16 unit.
  let length = 0;
  for (const unit of JSON.stringify(text)) length += unit.charCodeAt(0) >= 0x7f ? 6 * unit.length : 1;
  return length;
}
