// Provider statuses are mapped onto Rollcall's status names, which are MeetStream's (Recording,
// Leaving, Error). Every target name is a lifecycle status; the lookup below only guards against
// a target the lifecycle does not know (it then changes nothing).
import { isBotStatus, type BotStatus } from '../../domain/bot-status.ts';

export type TargetStatus = 'Joining' | 'InWaitingRoom' | 'InMeeting' | 'Recording' | 'Leaving' | 'Stopped' | 'Done' | 'NotAllowed' | 'Denied' | 'Error';

/** The lifecycle status for a target name; null when the lifecycle has no equivalent. */
export function toLifecycleStatus(target: TargetStatus | null): BotStatus | null {
  if (target === null) return null;
  return isBotStatus(target) ? target : null;
}

/**
 * A provider webhook's body, read as the JSON object every provider sends; valid JSON of another
 * kind (`null`, an array, a number, a string) is not a webhook either.
 */
export function readWebhookBody(rawBody: string): { payload: Record<string, any> } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch {
    return { problem: 'body is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'body is not a JSON object' };
  return { payload: value as Record<string, any> };
}
