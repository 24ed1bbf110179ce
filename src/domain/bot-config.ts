// The bot configuration a client sends with a schedule request: defaults and the limits that
// depend on the meeting platform. Types are checked by the route schema before this runs.
import { findPrivateRuntimeAddress } from './runtime-addresses.ts';
import { checkProviderSettings } from './provider-settings.ts';
import { createHash } from 'node:crypto';
import { checkMeetingUrl, type MeetingPlatform } from './meeting-url.ts';
import { occurrenceKey } from './recurrence.ts';

export interface BotConfigInput {
  bot_name?: string;
  bot_message?: string;
  audio_required?: boolean;
  video_required?: boolean;
  meeting_url?: string;
  join_at?: string;
  transcription?: object;
  callback_url?: string;
  automatic_leave?: object;
  recording_config?: object;
  custom_attributes?: Record<string, string>;
  deduplication_key?: string;
  [other: string]: unknown;
}

/** The applied configuration: what the bot runtime receives and what the API echoes. */
export interface AppliedBotConfig extends BotConfigInput {
  bot_name: string;
  audio_required: boolean;
  video_required: boolean;
  custom_attributes: Record<string, string>;
}

/** The display name of a bot booked without bot_name, unless the deployment sets BOT_DEFAULT_NAME. */
export const DEFAULT_BOT_NAME = 'Rollcall Notetaker';

/** `defaultBotName`: the deployment's (BOT_DEFAULT_NAME); a stored config has its name already. */
export function applyBotConfigDefaults(input: BotConfigInput, defaultBotName = DEFAULT_BOT_NAME): AppliedBotConfig {
  const { deduplication_key: _key, ...rest } = input;
  return {
    ...rest,
    ...legacyFieldsInCurrentShape(input),
    bot_name: input.bot_name ?? defaultBotName,
    audio_required: input.audio_required ?? true,
    video_required: input.video_required ?? false,
    custom_attributes: { ...(input.custom_attributes ?? {}) },
  };
}

/**
 * MeetStream's older create_bot shape gave `socket_connection_url` as the address itself; the
 * current one, and the runtimes Rollcall sends to, take `{ websocket_url }`.
 */
function legacyFieldsInCurrentShape(input: BotConfigInput): { socket_connection_url?: { websocket_url: string } } {
  const socket = (input as Record<string, unknown>).socket_connection_url;
  return typeof socket === 'string' ? { socket_connection_url: { websocket_url: socket } } : {};
}

interface Range {
  min: number;
  max: number;
}

/** Limits for automatic_leave, in seconds (MeetStream's documented ranges). */
export const AUTOMATIC_LEAVE_RANGES: Record<string, Range> = {
  waiting_room_timeout: { min: 60, max: 1800 },
  no_one_joined_timeout: { min: 60, max: 1800 },
  everyone_left_timeout: { min: 60, max: 1800 },
  voice_inactivity_timeout: { min: 60, max: 1800 },
  in_call_recording_timeout: { min: 600, max: 18000 },
  recording_permission_denied_timeout: { min: 60, max: 300 },
};

/** The waiting room limit depends on the platform. */
const WAITING_ROOM_MAX_BY_PLATFORM: Partial<Record<MeetingPlatform, number>> = {
  google_meet: 600,
  zoom: 1200,
  microsoft_teams: 1800,
};

export const BOT_DETECTION_RANGES: Record<string, Range> = {
  activate_after: { min: 60, max: 1800 },
  timeout: { min: 5, max: 300 },
};

/** What refuses a bot on a meeting before any row is read (findBookingRefusal). */
export type BookingRefusal =
  | { kind: 'meeting_url'; reason: string }
  | { kind: 'automatic_leave'; message: string };

/**
 * Why a bot with `automaticLeave` cannot be booked on the meeting at `url` on `platform`, whatever
 * the database holds: a link a bot may not be sent to (checkMeetingUrl: public hosts only), or
 * automatic_leave settings the platform does not take. Null: neither. The schedule request refuses
 * both, an auto-schedule run skips the meeting, and its preview counts no bot for it.
 */
export function findBookingRefusal(url: string, platform: MeetingPlatform | null, automaticLeave: object | undefined): BookingRefusal | null {
  const urlCheck = checkMeetingUrl(url);
  if (!urlCheck.ok) return { kind: 'meeting_url', reason: urlCheck.reason };
  const leaveProblem = checkAutomaticLeave(automaticLeave, platform);
  return leaveProblem === null ? null : { kind: 'automatic_leave', message: leaveProblem };
}

/** Returns a message naming the offending field, or null when automatic_leave is acceptable. */
export function checkAutomaticLeave(automaticLeaveInput: object | undefined, platform: MeetingPlatform | null): string | null {
  if (!automaticLeaveInput) return null;
  const automaticLeave = automaticLeaveInput as Record<string, unknown>;
  for (const [field, range] of Object.entries(AUTOMATIC_LEAVE_RANGES)) {
    const value = automaticLeave[field];
    if (value === undefined) continue;
    const max = field === 'waiting_room_timeout' && platform ? WAITING_ROOM_MAX_BY_PLATFORM[platform] ?? range.max : range.max;
    const problem = checkSeconds(value, range.min, max);
    if (problem) return `bot_config.automatic_leave.${field} ${problem}${max !== range.max ? ` on ${platform}` : ''}`;
  }
  const detection = automaticLeave.bot_detection as { using_participant_names?: Record<string, unknown> } | undefined;
  const byName = detection?.using_participant_names;
  if (byName) {
    for (const [field, range] of Object.entries(BOT_DETECTION_RANGES)) {
      const value = byName[field];
      if (value === undefined) continue;
      const problem = checkSeconds(value, range.min, range.max);
      if (problem) return `bot_config.automatic_leave.bot_detection.using_participant_names.${field} ${problem}`;
    }
  }
  return null;
}

function checkSeconds(value: unknown, min: number, max: number): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer number of seconds';
  if (value < min || value > max) return `must be from ${min} to ${max} seconds`;
  return null;
}

/** The longest deduplication key, in characters (Unicode code points, not UTF-16 units or bytes). */
export const MAX_DEDUPLICATION_KEY_CHARACTERS = 2000;

/** 1-2000 printable characters: no control characters and no unpaired surrogate halves. */
export function isValidDeduplicationKey(key: string): boolean {
  if (key.trim().length === 0) return false;
  // An emoji is one character to the client although it takes two UTF-16 units here.
  let characters = 0;
  for (const _ of key) if (++characters > MAX_DEDUPLICATION_KEY_CHARACTERS) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]|\p{Cs}/u.test(key);
}

/**
 * What the live-key unique index holds (migration 004): a fixed 64-character digest, because the
 * key itself can be 8,000 bytes of UTF-8, too long for a PostgreSQL btree entry.
 */
export function deduplicationKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Where a bot came from (bots.source): a calendar schedule request, or POST /bots/create_bot. */
export const CALENDAR_BOT_SOURCE = 'calendar_schedule_api';
export const AD_HOC_BOT_SOURCE = 'create_bot_api';

/**
 * The custom attributes Rollcall sets on a calendar bot itself (they map its webhooks back to the
 * event): a client's attribute of one of these names is not taken.
 */
export const CALENDAR_BOT_OWN_ATTRIBUTES: ReadonlySet<string> = new Set(['source', 'event_id', 'calendar_id', 'deduplication_key', 'occurrence_start_time', 'is_recurring', 'event_summary']);

/**
 * How many custom attributes a bot carries at most, Rollcall's own included. A request gives 50;
 * later ones merge over earlier ones, and without a bound a bot would grow with every request
 * (every webhook, listing and launch carries them all).
 */
export const MAX_BOT_CUSTOM_ATTRIBUTES = 64;

export type AttributeMerge = { ok: true; attributes: Record<string, string> } | { ok: false; reason: string; name?: string };

/**
 * A bot's attributes with a request's merged over them. `owned`: names the bot's own source set
 * (a calendar bot's, above); a request naming one is refused with `isOwnedRefused`, else the name
 * is passed over (a booking: Rollcall's value wins, as when the bot was made).
 */
export function mergeCustomAttributes(stored: Record<string, string>, incoming: Record<string, string>, owned: ReadonlySet<string>, isOwnedRefused: boolean): AttributeMerge {
  const merged = { ...stored };
  for (const [name, value] of Object.entries(incoming)) {
    if (owned.has(name)) {
      // Sent back as read (a client's read, modify, write of the whole map) it changes nothing.
      if (isOwnedRefused && stored[name] !== value) return { ok: false, name, reason: `${name} is set by Rollcall (it maps the bot's webhooks to its event) and cannot be changed` };
      continue;
    }
    merged[name] = value;
  }
  const count = Object.keys(merged).length;
  // Only a request that adds names is held to the bound: a bot over it (from before there was one)
  // can still have its values changed.
  if (count > MAX_BOT_CUSTOM_ATTRIBUTES && count > Object.keys(stored).length) return { ok: false, reason: `a bot carries at most ${MAX_BOT_CUSTOM_ATTRIBUTES} attributes in all (Rollcall's own included); merged, these would make ${count}` };
  return { ok: true, attributes: merged };
}

/** Keys Rollcall derives itself start with this (derivedDeduplicationKey). */
export const DERIVED_KEY_PREFIX = 'meeting:';

/**
 * Auto-schedule's keys start with this: `auto:<meeting identity>:<start>`, one bot per meeting
 * across the user's calendars. The key, not an attribute a client could also set, is what makes
 * a bot auto-schedule's (one it may take back, one the dashboard shows as auto-scheduled).
 */
export const AUTO_SCHEDULE_KEY_PREFIX = 'auto:';

/** The custom attribute auto-schedule puts on every bot it books. */
export const AUTO_SCHEDULED_ATTRIBUTE = 'auto_scheduled';

/**
 * Whether auto-schedule booked this bot and may take it back: its key and its attribute both say
 * so. The key alone is not enough: before auto-schedule's prefix was refused to clients, a client
 * could have keyed its own bots `auto:...` (such a bot lacks the attribute, or has it only if the
 * client set it too); the attribute alone is a client's to set.
 */
export function isAutoScheduledBot(bot: { deduplication_key: string; custom_attributes: string }): boolean {
  if (!bot.deduplication_key.startsWith(AUTO_SCHEDULE_KEY_PREFIX)) return false;
  try {
    return (JSON.parse(bot.custom_attributes) as Record<string, unknown>)[AUTO_SCHEDULED_ATTRIBUTE] === 'true';
  } catch {
    return false;
  }
}

export function autoScheduleKey(meetingIdentity: string, startMs: number): string {
  return `${AUTO_SCHEDULE_KEY_PREFIX}${meetingIdentity}:${new Date(startMs).toISOString()}`;
}

/**
 * The key of one occurrence's bot in a batch (schedule_all_occurrences) or a chain
 * (recurring_event): the series key plus the occurrence key (its original start, UTC basic format).
 */
export function occurrenceDeduplicationKey(seriesKey: string, occurrence: string): string {
  return `${seriesKey}@${occurrence}`;
}

/**
 * The key a schedule request without one gets when DEDUPLICATION_KEY_REQUIRED=false: the meeting's
 * canonical identity and the occurrence's original start (a single event's start). The same meeting
 * at the same time on several events of one user gets one bot; each occurrence of a series its own.
 * It is what a client sending `meeting:<identity>` with schedule_all_occurrences would get.
 */
export function derivedDeduplicationKey(meetingIdentity: string, originalStartMs: number): string {
  return occurrenceDeduplicationKey(`${DERIVED_KEY_PREFIX}${meetingIdentity}`, occurrenceKey(originalStartMs));
}

/**
 * Transcription providers MeetStream's create_bot accepts under recording_config.transcript.provider
 * (exactly one of them; the Node SDK's TranscriptionProvider, meetstream-ai/meetstream-node
 * src/types.ts, adds jigsawstack_streaming and meetstream_streaming). A bot handed to MeetStream
 * with another name is refused there, so it is refused here, when the client can still fix it.
 */
export const TRANSCRIPTION_PROVIDERS = [
  'deepgram', 'assemblyai', 'jigsawstack', 'sarvam', 'meetstream', 'meeting_captions', 'deepgram_streaming', 'assemblyai_streaming', 'jigsawstack_streaming', 'meetstream_streaming',
] as const;

/** A problem with a `{ <provider>: {...} }` object (message naming `field`), or null when it names one known provider. */
export function checkTranscriptionProvider(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${field} must be an object with one provider name as its key`;
  const names = Object.keys(value);
  if (names.length !== 1) return `${field} must name exactly one provider (${TRANSCRIPTION_PROVIDERS.join(', ')}), got ${names.length}`;
  if (!(TRANSCRIPTION_PROVIDERS as readonly string[]).includes(names[0]!)) return `${field}: unknown provider "${names[0]!.slice(0, 100)}"; one of ${TRANSCRIPTION_PROVIDERS.join(', ')}`;
  return null;
}

/**
 * The transcription a bot config asks for, where a client may name it: the legacy top-level
 * `transcription` (`{}` allowed: MeetStream's own examples send it) and
 * `recording_config.transcript.provider` (required once `transcript` is given). Answers the first
 * problem with its field (under `prefix`, e.g. "bot_config."), or null.
 */
export function checkTranscriptionChoice(config: { transcription?: unknown; recording_config?: unknown }, prefix = ''): { field: string; problem: string } | null {
  const transcript = (config.recording_config as { transcript?: unknown } | undefined)?.transcript;
  const provider = transcript === undefined ? undefined : (transcript !== null && typeof transcript === 'object' ? (transcript as { provider?: unknown }).provider ?? null : null);
  const choices: [unknown, string][] = [[provider, `${prefix}recording_config.transcript.provider`], [config.transcription, `${prefix}transcription`]];
  for (const [value, field] of choices) {
    if (field.endsWith('transcription') && value !== null && typeof value === 'object' && Object.keys(value).length === 0) continue;
    const problem = checkTranscriptionProvider(value, field);
    if (problem) return { field, problem };
  }
  return null;
}

/**
 * What a bot config hands the runtime that the runtime cannot be trusted with: an unknown
 * transcription choice, an address it would open on a private host, or a provider setting naming
 * a field Rollcall sends itself. The first problem with
 * its field (under `prefix`), or null. Asked of a request's config, never of a stored one.
 */
export function findRuntimeSettingProblem(config: Record<string, unknown>, prefix = ''): { field: string; problem: string } | null {
  return checkTranscriptionChoice(config, prefix) ?? checkLiveTranscriptTarget(config, prefix) ?? findPrivateRuntimeAddress(config, prefix) ?? checkProviderSettings(config, prefix);
}

/**
 * live_transcription_required turns the live transcript on: given (not empty, which the schema
 * reads as left out), it must say where the transcript goes, webhook_url or websocket_url.
 */
function checkLiveTranscriptTarget(config: Record<string, unknown>, prefix: string): { field: string; problem: string } | null {
  const live = config.live_transcription_required;
  if (live === undefined || live === null || typeof live !== 'object' || Array.isArray(live)) return null;
  const target = live as Record<string, unknown>;
  if (Object.keys(target).length === 0 || target.webhook_url !== undefined || target.websocket_url !== undefined) return null;
  const field = `${prefix}live_transcription_required`;
  return { field, problem: `${field} must give webhook_url (or websocket_url), where the live transcript is sent; leave the field out for no live transcript` };
}

/**
 * How long an ad-hoc bot's meeting is taken to last, in seconds, when the client says nothing:
 * MeetStream's default in_call_recording_timeout (a bot leaves after four hours). Past its join
 * time plus this, a bot that could not be launched is Missed, and launch retries stop.
 */
export const DEFAULT_AD_HOC_MEETING_SECONDS = 14_400;
