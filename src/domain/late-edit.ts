// What to do with a bot already handed to a provider when its meeting changes. Providers take
// edits only so close to the join time: an update must leave the bot at least `updateCutoffMs`
// before its new join time (Recall.ai: ten minutes), and a scheduled bot can be deleted only while
// its join time is at least `deleteCutoffMs` away (after that it is on its way and only "leave"
// reaches it). Pure: the caller supplies the rules, the clock reading and the change.

export interface LateEditRules {
  updateCutoffMs: number;
  deleteCutoffMs: number;
  /** Whether an update may carry a new meeting link (else a new link means a new bot). */
  canUpdateMeetingUrl: boolean;
}

export type MeetingChange =
  | { kind: 'moved'; newJoinAtMs: number }
  | { kind: 'cancelled' }
  | { kind: 'link-changed'; newJoinAtMs: number };

/** How the provider's bot is removed: deleted while it is still scheduled, else made to leave. */
export type RemovalKind = 'delete' | 'leave';

export type LateEditAction =
  | { kind: 'nothing'; reason: string }
  | { kind: 'update'; reason: string }
  | { kind: 'remove'; by: RemovalKind; reason: string }
  /** Remove the handed-over bot and create another, under a new idempotency key. */
  | { kind: 'replace'; by: RemovalKind; needsNewIdempotencyKey: true; reason: string };

/**
 * @param handedOverJoinAtMs the join time the provider's bot has now
 * Invariant: 'update' is returned only when the provider will accept it, so a refused update never
 * leaves the bot at its old time: inside the cutoff the answer is 'replace'.
 */
export function decideLateEdit(rules: LateEditRules, nowMs: number, handedOverJoinAtMs: number, change: MeetingChange): LateEditAction {
  const hasJoined = nowMs >= handedOverJoinAtMs;
  const canDelete = handedOverJoinAtMs - nowMs >= rules.deleteCutoffMs;
  const removal: RemovalKind = canDelete ? 'delete' : 'leave';
  const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

  if (change.kind === 'cancelled') {
    return canDelete
      ? { kind: 'remove', by: 'delete', reason: `The meeting was cancelled; the bot joins in ${minutes(handedOverJoinAtMs - nowMs)}, so it is still deleted` }
      : { kind: 'remove', by: 'leave', reason: hasJoined ? 'The meeting was cancelled while the bot was in it: it is made to leave' : `The meeting was cancelled less than ${minutes(rules.deleteCutoffMs)} before the bot joins: the provider no longer deletes it, so it is made to leave once it is in` };
  }
  if (hasJoined) return { kind: 'nothing', reason: 'The bot has already joined; a meeting that moves or changes link after that is not chased' };
  if (change.kind === 'moved' && change.newJoinAtMs === handedOverJoinAtMs) return { kind: 'nothing', reason: 'The join time did not change' };

  const updateFits = change.newJoinAtMs - nowMs >= rules.updateCutoffMs && handedOverJoinAtMs - nowMs >= rules.updateCutoffMs;
  if (change.kind === 'link-changed' && !rules.canUpdateMeetingUrl) {
    return { kind: 'replace', by: removal, needsNewIdempotencyKey: true, reason: `The meeting link changed and the provider cannot change it on a scheduled bot: the bot is ${removal === 'delete' ? 'deleted' : 'made to leave'} and another created with a new idempotency key` };
  }
  if (updateFits) {
    return { kind: 'update', reason: change.kind === 'moved' ? 'The meeting moved, outside the provider\'s edit cutoff: the bot is updated' : 'The meeting link changed, outside the provider\'s edit cutoff: the bot is updated' };
  }
  return {
    kind: 'replace',
    by: removal,
    needsNewIdempotencyKey: true,
    reason: `The meeting ${change.kind === 'moved' ? 'moved' : 'link changed'} inside the provider's ${minutes(rules.updateCutoffMs)} edit cutoff, where an update fails: the bot is ${removal === 'delete' ? 'deleted' : 'made to leave'} and another created with a new idempotency key`,
  };
}
