// The bot configuration a client sends with a schedule request: defaults and the limits that
// depend on the meeting platform. Types are checked by the route schema before this runs.
import { createHash } from 'node:crypto';
import type { MeetingPlatform } from './meeting-url.ts';

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

export const DEFAULT_BOT_NAME = 'Rollcall Notetaker';

export function applyBotConfigDefaults(input: BotConfigInput): AppliedBotConfig {
  const { deduplication_key: _key, ...rest } = input;
  return {
    ...rest,
    bot_name: input.bot_name ?? DEFAULT_BOT_NAME,
    audio_required: input.audio_required ?? true,
    video_required: input.video_required ?? false,
    custom_attributes: { ...(input.custom_attributes ?? {}) },
  };
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
