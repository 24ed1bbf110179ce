// What to do with a bot already handed to a provider when its meeting or its settings change. Providers take
// edits only so close to the join time: an update that moves the join time must leave the bot at
// least `updateCutoffMs` before its old and new join times (Recall.ai: ten minutes), one that keeps
// it (a new link, new settings) must come `editCutoffMs` before it (Recall.ai: until the bot starts
// joining), and a scheduled bot can be deleted only while its join time is at least
// `deleteCutoffMs` away (after that it is on its way and only "leave" reaches it). Pure: the
// caller supplies the rules, the clock reading and the change.
import { isDeepStrictEqual } from 'node:util';

export interface LateEditRules {
  updateCutoffMs: number;
  editCutoffMs: number;
  deleteCutoffMs: number;
  /** Whether an update may carry a new meeting link (else a new link means a new bot). */
  canUpdateMeetingUrl: boolean;
  /**
   * Whether a bot made to leave inside `deleteCutoffMs` is asked to be deleted first, before each
   * leave and past its join time too (the provider deletes any bot it has not started yet, and may
   * start one late). Only the wording here.
   */
  deletesUntilStarted?: boolean;
}

/** Settings of the bot (its display name, say) that differ from those the provider's bot has. */
export interface SettingsChange {
  /** The provider's own names of the fields that differ. */
  fields: readonly string[];
  /** Whether an update of a scheduled bot can change every one of them. */
  updatable: boolean;
}

/** A settings-only change is 'moved' to the join time the provider's bot already has. */
export type MeetingChange =
  | { kind: 'moved'; newJoinAtMs: number; settings?: SettingsChange }
  | { kind: 'cancelled' }
  | { kind: 'link-changed'; newJoinAtMs: number; settings?: SettingsChange };

/** How the provider's bot is removed: deleted while it is still scheduled, else made to leave. */
export type RemovalKind = 'delete' | 'leave';

/** What becomes of a bot removed `by`: "deleted", "made to leave", or, inside the cutoff of a provider that deletes until it starts the bot, both in turn. */
export function removalWording(rules: Pick<LateEditRules, 'deletesUntilStarted'>, by: RemovalKind): string {
  if (by === 'delete') return 'deleted';
  return rules.deletesUntilStarted === true ? 'deleted if the provider has not started it yet, else made to leave' : 'made to leave';
}

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
      : { kind: 'remove', by: 'leave', reason: hasJoined ? rules.deletesUntilStarted === true
        ? 'The meeting was cancelled after the bot\'s join time: it is deleted if the provider has not started it yet, else made to leave'
        : 'The meeting was cancelled once the bot was due in it: it is made to leave' : rules.deletesUntilStarted === true
        ? `The meeting was cancelled less than ${minutes(rules.deleteCutoffMs)} before the bot joins: it is deleted if the provider has not started it yet, else made to leave once it is joining`
        : `The meeting was cancelled less than ${minutes(rules.deleteCutoffMs)} before the bot joins: the provider no longer deletes it, so it is made to leave (at once where the provider takes that before the bot joins, else once it is in)` };
  }
  if (hasJoined) return { kind: 'nothing', reason: 'The bot has already joined; a meeting that moves or changes link, or settings that change, after that are not chased' };
  const isMove = change.kind === 'moved' && change.newJoinAtMs !== handedOverJoinAtMs;
  if (change.kind === 'moved' && !isMove && !change.settings) return { kind: 'nothing', reason: 'The join time did not change' };

  const what = describeChange(change.kind === 'link-changed' ? 'link' : isMove ? 'move' : null, change.settings);
  const replaced = `the bot is ${removalWording(rules, removal)} and another created with a new idempotency key`;
  if (change.kind === 'link-changed' && !rules.canUpdateMeetingUrl) {
    return { kind: 'replace', by: removal, needsNewIdempotencyKey: true, reason: `${what}, and the provider cannot change the link of a scheduled bot: ${replaced}` };
  }
  if (change.settings && !change.settings.updatable) {
    return { kind: 'replace', by: removal, needsNewIdempotencyKey: true, reason: `${what}, and the provider cannot change ${change.settings.fields.join(', ')} on a scheduled bot: ${replaced}` };
  }
  const movesJoinTime = change.newJoinAtMs !== handedOverJoinAtMs;
  const cutoffMs = movesJoinTime ? rules.updateCutoffMs : rules.editCutoffMs;
  const updateFits = change.newJoinAtMs - nowMs >= cutoffMs && handedOverJoinAtMs - nowMs >= cutoffMs;
  if (updateFits) return { kind: 'update', reason: `${what}, outside the provider's edit cutoff: the bot is updated` };
  return { kind: 'replace', by: removal, needsNewIdempotencyKey: true, reason: `${what} inside the provider's ${minutes(cutoffMs)} edit cutoff, where an update fails: ${replaced}` };
}

/** "The meeting moved", "The meeting link changed and its settings (bot_name) changed", ... */
function describeChange(meeting: 'move' | 'link' | null, settings: SettingsChange | undefined): string {
  const settingsText = settings ? `settings (${settings.fields.join(', ')}) changed` : null;
  if (meeting === null) return `The bot's ${settingsText}`;
  const meetingText = meeting === 'move' ? 'The meeting moved' : 'The meeting link changed';
  return settingsText ? `${meetingText} and the bot's ${settingsText}` : meetingText;
}

/**
 * The settings that differ between what the provider's bot was given (`held`) and what the bot
 * would be given now (`current`), both in the provider's field names; undefined when none do. A
 * value the bot no longer sets, at the top or inside an object (a custom attribute dropped),
 * cannot be updated away: whether a provider replaces or merges a nested object is not
 * documented, and a merge would keep it.
 */
export function diffSettings(held: Record<string, unknown>, current: Record<string, unknown>, updatable: readonly string[] | 'every'): SettingsChange | undefined {
  const fields = [...new Set([...Object.keys(held), ...Object.keys(current)])].filter((f) => !isDeepStrictEqual(held[f], current[f])).sort();
  if (fields.length === 0) return undefined;
  return { fields, updatable: fields.every((f) => (updatable === 'every' || updatable.includes(f)) && !takesAway(held[f], current[f])) };
}

/** Whether going from `before` to `after` removes a value (a field unset, or a key of an object gone). */
function takesAway(before: unknown, after: unknown): boolean {
  if (before === undefined) return false;
  if (after === undefined) return true;
  if (!isPlainObject(before) || !isPlainObject(after)) return false;
  return Object.keys(before).some((key) => takesAway(before[key], after[key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
