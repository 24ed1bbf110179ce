// A launch the bot runtime refused (or did not answer), while it is tried again: said in words
// beside the bot's status on Upcoming, and as a note on the bot's page. Its status alone (Joining)
// would look healthy.
import { countOf, formatDateTime, formatRelative, reasonWords } from '../format.ts';
import type { BotDetail, LaunchFailing } from '../types.ts';

/**
 * "next attempt in 20 seconds", or "next attempt due now" once its time has come; "fails at the
 * meeting's end in 20 seconds" when the runtime asked to wait past the end (no attempt comes then).
 */
function nextAttemptWords(failing: LaunchFailing, nowMs: number): string {
  const iso = failing.next_attempt_at;
  if (failing.fails_at_meeting_end) return Date.parse(iso) > nowMs ? `fails at the meeting's end ${formatRelative(iso, nowMs)}` : 'fails at the meeting\'s end, due now';
  return Date.parse(iso) > nowMs ? `next attempt ${formatRelative(iso, nowMs)}` : 'next attempt due now';
}

/** Upcoming's line for a bot whose launch is failing: the error is text, not a tooltip, so screen readers and touch screens get it. */
export function LaunchFailingBadge({ failing, nowMs }: { failing: LaunchFailing; nowMs: number }) {
  return (
    <div class="launch-failing" data-testid="launch-failing">
      <span class="badge badge-bad">Launch failing</span>
      <div class="small">{countOf(failing.attempts, 'attempt')} failed; {nextAttemptWords(failing, nowMs)}</div>
      <div class="small break">Last error: {reasonWords(failing.last_error)}</div>
    </div>
  );
}

/**
 * The bot page's note while its launch is failing (the API's launch_failing: it is Joining and
 * its launch waits to be tried again). Null otherwise.
 */
export function LaunchFailingNote({ bot, nowMs }: { bot: BotDetail; nowMs: number }) {
  const failing = bot.launch_failing;
  if (failing === null) return null;
  return (
    <p class="warning" role="note" data-testid="launch-failing-note">
      Launch failing: the bot runtime refused the launch or did not answer ({countOf(failing.attempts, 'attempt')}): {reasonWords(failing.last_error)}.
      {failing.fails_at_meeting_end
        ? <>{' '}The runtime asked to wait past the meeting's end, so it is not tried again: the bot {nextAttemptWords(failing, nowMs)}, at {formatDateTime(failing.next_attempt_at)}, unless the meeting moves later.</>
        : <>{' '}The same launch is tried again: {nextAttemptWords(failing, nowMs)}, at {formatDateTime(failing.next_attempt_at)}.
          {' '}A bot whose launch is still refused when its meeting ends gives up then.</>}
    </p>
  );
}
