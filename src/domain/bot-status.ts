// The bot lifecycle. Every status change goes through canTransition; the database never holds a
// transition this table does not allow.

export const BOT_STATUSES = [
  'Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Stopped', 'Done',
  'NotAllowed', 'Denied', 'Failed', 'Cancelled', 'Missed',
] as const;
export type BotStatus = (typeof BOT_STATUSES)[number];

/** Statuses a runtime may report through the status route. */
export const RUNTIME_REPORTABLE_STATUSES = ['Joining', 'InWaitingRoom', 'InMeeting', 'Stopped', 'Done', 'NotAllowed', 'Denied', 'Failed'] as const;
export type RuntimeReportableStatus = (typeof RUNTIME_REPORTABLE_STATUSES)[number];

/** A live bot still holds its deduplication key and its events. Kept in step with migration 001's partial index. */
export const LIVE_STATUSES: readonly BotStatus[] = ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting'];

const NEXT: Record<BotStatus, readonly BotStatus[]> = {
  Scheduled: ['Joining', 'Cancelled', 'Missed', 'Failed'],
  Joining: ['InWaitingRoom', 'InMeeting', 'Stopped', 'NotAllowed', 'Denied', 'Failed', 'Done'],
  InWaitingRoom: ['InMeeting', 'Stopped', 'NotAllowed', 'Denied', 'Failed', 'Done'],
  InMeeting: ['Stopped', 'Failed', 'Done'],
  // A bot that left may still finish post-processing.
  Stopped: ['Done'],
  Done: [],
  NotAllowed: [],
  Denied: [],
  Failed: [],
  Cancelled: [],
  Missed: [],
};

export function canTransition(from: BotStatus, to: BotStatus): boolean {
  return NEXT[from].includes(to);
}

export function isLive(status: BotStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

/** True once the bot has been handed to a runtime (its schedule can no longer move). */
export function isLaunched(status: BotStatus): boolean {
  return status !== 'Scheduled' && status !== 'Cancelled' && status !== 'Missed';
}

/** In a meeting, or on its way in: it cannot simply be cancelled. */
export function isActive(status: BotStatus): boolean {
  return status === 'Joining' || status === 'InWaitingRoom' || status === 'InMeeting';
}

export function isBotStatus(value: string): value is BotStatus {
  return (BOT_STATUSES as readonly string[]).includes(value);
}

const WEBHOOK_EVENT: Record<BotStatus, string> = {
  Scheduled: 'bot.scheduled',
  Joining: 'bot.joining',
  InWaitingRoom: 'bot.in_waiting_room',
  InMeeting: 'bot.inmeeting',
  Stopped: 'bot.stopped',
  Done: 'bot.done',
  NotAllowed: 'bot.notallowed',
  Denied: 'bot.denied',
  Failed: 'bot.failed',
  Cancelled: 'bot.cancelled',
  Missed: 'bot.missed',
};

export function webhookEventFor(status: BotStatus): string {
  return WEBHOOK_EVENT[status];
}

/** MeetStream's convention: 200 for progress, 500 for an outcome where the bot did not do its job. */
export function webhookStatusCodeFor(status: BotStatus): 200 | 500 {
  return status === 'Failed' || status === 'NotAllowed' || status === 'Denied' || status === 'Missed' ? 500 : 200;
}
