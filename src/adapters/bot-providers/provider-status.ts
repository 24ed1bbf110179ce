// Provider statuses are mapped onto Rollcall's status names. The tables name the statuses Rollcall's
// lifecycle is moving to (MeetStream's words: Recording, Leaving, and Error in place of Failed);
// where the lifecycle does not have one yet, the nearest status it has stands in, so the tables
// need no change when it arrives.
import { isBotStatus, type BotStatus } from '../../domain/bot-status.ts';

export type TargetStatus = 'Joining' | 'InWaitingRoom' | 'InMeeting' | 'Recording' | 'Leaving' | 'Stopped' | 'Done' | 'NotAllowed' | 'Denied' | 'Error';

/** Stand-ins until the lifecycle has these names. Leaving has none: it changes nothing until then. */
const STAND_INS: Partial<Record<TargetStatus, string>> = { Recording: 'InMeeting', Error: 'Failed' };

/** The lifecycle status for a target name; null when the lifecycle has no equivalent. */
export function toLifecycleStatus(target: TargetStatus | null): BotStatus | null {
  if (target === null) return null;
  if (isBotStatus(target)) return target;
  const standIn = STAND_INS[target];
  return standIn !== undefined && isBotStatus(standIn) ? standIn : null;
}
