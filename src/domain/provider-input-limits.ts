// What a bot provider refuses when the bot is created, checked when the bot is booked. A bot is
// handed to its provider minutes before its meeting (BOT_PROVIDER_HANDOVER_LEAD_SECONDS), days
// after the client booked it: a value the provider refuses then fails the bot at the last moment,
// with nobody left to fix it. The same value refused at booking is a 400 the client can act on.
//
// Only limits a provider documents, or that its published code enforces, are here:
// - Recall: bot_name 1 to 100 characters (docs.recall.ai/reference/bot_create); meeting links of
//   Zoom, Google Meet, Microsoft Teams, Webex and GoTo Meeting (docs.recall.ai/docs/meeting-urls).
// - Attendee: bot_name without characters outside the Basic Multilingual Plane, and not blank
//   (bots/serializers.py, BotValidationMixin.validate_bot_name, and the framework's CharField);
//   metadata whose json.dumps text is at most MAX_METADATA_LENGTH characters, 1,000 unless the
//   Attendee deployment changes it (bots/serializers.py, _validate_metadata_attribute;
//   attendee/settings/base.py); meeting links of Zoom, Google Meet and Teams only
//   (bots/meeting_url_utils.py, normalize_meeting_url).
// - MeetStream: meeting links of Google Meet, Zoom and Teams (its create-bot reference names
//   these three).
// Where a provider is silent (MeetStream's names and attributes, Recall's metadata keys), nothing
// is checked.
import type { BotProviderName } from '../config.ts';
import type { MeetingPlatform } from './meeting-url.ts';

export interface ProviderInput {
  botName: string;
  /** The client's custom_attributes, as handed to the provider (string values only). */
  customAttributes: Readonly<Record<string, string>>;
  /** The platform of the link the bot will be sent to; null for a host Rollcall does not know (not checked); left out, not checked (a change of other fields). */
  platform?: MeetingPlatform | null;
}

export interface ProviderInputProblem {
  field: 'bot_name' | 'custom_attributes' | 'meeting_url';
  problem: string;
}

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
  const name = PROVIDER_NAMES[provider];
  // A platform Rollcall knows and the provider does not join. A link of a host Rollcall does not
  // recognise is left to the provider, which may know shapes Rollcall does not (Recall joins
  // zoom-x.de links and Teams message links, for instance).
  if (input.platform !== undefined && input.platform !== null && !PLATFORMS[provider].includes(input.platform)) {
    return { field: 'meeting_url', problem: `The bot provider (${name}) does not join ${PLATFORM_NAMES[input.platform]} meetings; it joins ${PLATFORMS[provider].map((p) => PLATFORM_NAMES[p]).join(', ')}` };
  }
  const characters = [...input.botName].length;
  if (provider === 'recall' && (characters < 1 || characters > RECALL_BOT_NAME_MAX)) {
    return { field: 'bot_name', problem: `bot_name must be 1 to ${RECALL_BOT_NAME_MAX} characters for the bot provider (Recall), got ${characters}` };
  }
  if (provider === 'attendee') {
    if (input.botName.trim() === '') return { field: 'bot_name', problem: 'bot_name must not be blank for the bot provider (Attendee)' };
    if ([...input.botName].some((c) => c.codePointAt(0)! > 0xffff)) {
      return { field: 'bot_name', problem: 'bot_name must not contain emoji or other characters beyond U+FFFF for the bot provider (Attendee)' };
    }
    // Sent beside Rollcall's own entry: the text of both is the two texts' lengths added.
    const budget = ATTENDEE_METADATA_MAX - pythonJsonLength(ATTENDEE_ADDED_METADATA);
    const length = pythonJsonLength(input.customAttributes);
    if (Object.keys(input.customAttributes).length > 0 && length > budget) {
      return { field: 'custom_attributes', problem: `custom_attributes are ${length} characters as the bot provider (Attendee) measures them (JSON, characters beyond ASCII escaped); it takes at most ${budget}` };
    }
  }
  return null;
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
