// The bot lifecycle. Every status change goes through canTransition; the database never holds a
// transition this table does not allow. The names are MeetStream's (its clients branch on them):
// a failure is `Error`, and runtimes may report `Recording` and `Leaving`.

export const BOT_STATUSES = [
  'Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'Done',
  'NotAllowed', 'Denied', 'Error', 'Cancelled', 'Missed',
] as const;
export type BotStatus = (typeof BOT_STATUSES)[number];

/** The status of a bot that could not do its job (launch refused, no runtime, a crash in the meeting). */
export const FAILURE_STATUS = 'Error' satisfies BotStatus;

/** Statuses a runtime may report through the status route. */
export const RUNTIME_REPORTABLE_STATUSES = ['Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'Done', 'NotAllowed', 'Denied', 'Error'] as const;
export type RuntimeReportableStatus = (typeof RUNTIME_REPORTABLE_STATUSES)[number];

/**
 * Names runtimes written before the rename still send, and the status each now means. Accepted on
 * input only; nothing is ever stored or sent under these names.
 */
export const RETIRED_STATUS_NAMES: Readonly<Record<string, RuntimeReportableStatus>> = { Failed: FAILURE_STATUS };

/** How far along a bot is (a recording that pauses goes back from Recording to InMeeting). */
const PROGRESS: Record<BotStatus, number> = {
  Scheduled: 0, Joining: 1, InWaitingRoom: 2, InMeeting: 3, Recording: 4, Leaving: 5,
  Stopped: 6, NotAllowed: 6, Denied: 6, Error: 6, Cancelled: 6, Missed: 6, Done: 7,
};

/** Whether `to` is a step back from `from` (allowed or not by the lifecycle). */
export function isStepBack(from: BotStatus, to: BotStatus): boolean {
  return PROGRESS[to] < PROGRESS[from];
}

/**
 * The status a list filter names. MeetStream's own status names vary in case (`Error`, `ERROR`,
 * `Failed`, `FAILED`, `joining`), so a filter is read without regard to case, and the failure's
 * other names mean `Error`. Null: no such status.
 */
export function statusNamedInFilter(name: string): BotStatus | null {
  const lower = name.toLowerCase();
  if (lower === 'failed') return FAILURE_STATUS;
  return BOT_STATUSES.find((status) => status.toLowerCase() === lower) ?? null;
}

/**
 * A live bot still holds its deduplication key and its events: it is waiting to join or in the
 * meeting. Kept in step with the partial index of migration 008 (same names, same order).
 */
export const LIVE_STATUSES: readonly BotStatus[] = ['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting', 'Recording', 'Leaving'];

/**
 * How an ended bot's run came out, in three words a list of past bots filters by: `done` (Done or
 * Stopped: it ended the usual way, having left, been removed by the host, or finished), `failed`
 * (Error, NotAllowed, Denied, Missed: it did not do its job; the webhooks answer these with 500),
 * `cancelled` (Cancelled: it was not to join).
 */
export const ENDED_OUTCOMES = ['done', 'failed', 'cancelled'] as const;
export type EndedOutcome = (typeof ENDED_OUTCOMES)[number];

const OUTCOME_STATUSES: Record<EndedOutcome, readonly BotStatus[]> = {
  done: ['Done', 'Stopped'],
  failed: ['Error', 'NotAllowed', 'Denied', 'Missed'],
  cancelled: ['Cancelled'],
};

/** The ended statuses of an outcome. */
export function statusesOfOutcome(outcome: EndedOutcome): readonly BotStatus[] {
  return OUTCOME_STATUSES[outcome];
}

/** The outcome of an ended status; null for a live one. */
export function outcomeOf(status: BotStatus): EndedOutcome | null {
  return ENDED_OUTCOMES.find((outcome) => OUTCOME_STATUSES[outcome].includes(status)) ?? null;
}

const NEXT: Record<BotStatus, readonly BotStatus[]> = {
  Scheduled: ['Joining', 'Cancelled', 'Missed', 'Error'],
  Joining: ['InWaitingRoom', 'InMeeting', 'Recording', 'Leaving', 'Stopped', 'NotAllowed', 'Denied', 'Error', 'Done'],
  InWaitingRoom: ['InMeeting', 'Recording', 'Leaving', 'Stopped', 'NotAllowed', 'Denied', 'Error', 'Done'],
  InMeeting: ['Recording', 'Leaving', 'Stopped', 'Error', 'Done'],
  // Recording can pause (Recall's in_call_not_recording, Attendee's joined_not_recording).
  Recording: ['InMeeting', 'Leaving', 'Stopped', 'Error', 'Done'],
  // A bot on its way out of a waiting room may still learn that it was refused.
  Leaving: ['Stopped', 'NotAllowed', 'Denied', 'Error', 'Done'],
  // A bot that left may still finish post-processing.
  Stopped: ['Done'],
  Done: [],
  NotAllowed: [],
  Denied: [],
  Error: [],
  Cancelled: [],
  Missed: [],
};

export function canTransition(from: BotStatus, to: BotStatus): boolean {
  return NEXT[from].includes(to);
}

export function isLive(status: BotStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

/**
 * A second ending reported for a bot that has ended: Recall follows call_ended (a bot refused at
 * the waiting room: Denied) with done, MeetStream ends every path with bot.done, a runtime told to
 * stop a cancelled bot reports Stopped. The first ending stands (it says how the bot ended, or that
 * it was cancelled); the later one is acknowledged and changes nothing, as a refusal would be
 * retried by the provider for a day. A live status after an ending is not one of these.
 */
export function isLaterEnding(from: BotStatus, to: BotStatus): boolean {
  return !isLive(from) && !isLive(to) && !canTransition(from, to);
}

/** True once the bot has been handed to a runtime (its schedule can no longer move). */
export function isLaunched(status: BotStatus): boolean {
  return status !== 'Scheduled' && status !== 'Cancelled' && status !== 'Missed';
}

/** In a meeting, or on its way in or out: it cannot simply be cancelled. */
export function isActive(status: BotStatus): boolean {
  return status === 'Joining' || status === 'InWaitingRoom' || status === 'InMeeting' || status === 'Recording' || status === 'Leaving';
}

export function isBotStatus(value: string): value is BotStatus {
  return (BOT_STATUSES as readonly string[]).includes(value);
}

/** The specific event name of a status: the webhook's `bot_event`. */
const WEBHOOK_EVENT: Record<BotStatus, string> = {
  Scheduled: 'bot.scheduled',
  Joining: 'bot.joining',
  InWaitingRoom: 'bot.in_waiting_room',
  InMeeting: 'bot.inmeeting',
  Recording: 'bot.recording',
  Leaving: 'bot.leaving',
  Stopped: 'bot.stopped',
  Done: 'bot.done',
  NotAllowed: 'bot.notallowed',
  Denied: 'bot.denied',
  Error: 'bot.failed',
  Cancelled: 'bot.cancelled',
  Missed: 'bot.missed',
};

/**
 * The ways a bot ends. MeetStream sends the ends of a bot's time in the meeting with `event`
 * `bot.stopped` and the specific name in `bot_event`, and its clients take `event` bot.stopped as
 * the one end of a bot's life (its Node SDK's isTerminal: meetstream-ai/meetstream-node,
 * src/webhooks.ts). A bot cancelled or missed before it got in ends there too, so it says so the
 * same way: a client waiting for bot.stopped is not left waiting.
 */
const ENDINGS: readonly BotStatus[] = ['Stopped', 'NotAllowed', 'Denied', 'Error', 'Cancelled', 'Missed'];

/**
 * The webhook's `bot_event`: the specific name. A bot the host removed from the meeting is
 * `Stopped` like one that left, and is told apart only here: `bot.kicked` (MeetStream's name).
 */
export function webhookEventFor(status: BotStatus, kicked = false): string {
  return status === 'Stopped' && kicked ? 'bot.kicked' : WEBHOOK_EVENT[status];
}

/** The webhook's `event`: `bot.stopped` for every way a bot ends, else the same as `bot_event`. */
export function webhookGenericEventFor(status: BotStatus): string {
  return ENDINGS.includes(status) ? WEBHOOK_EVENT.Stopped : WEBHOOK_EVENT[status];
}

/** MeetStream's convention: 200 for progress, 500 for an outcome where the bot did not do its job. */
export function webhookStatusCodeFor(status: BotStatus): 200 | 500 {
  return status === FAILURE_STATUS || status === 'NotAllowed' || status === 'Denied' || status === 'Missed' ? 500 : 200;
}
