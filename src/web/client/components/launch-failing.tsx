// A launch the bot runtime refused (or did not answer), while it is tried again: said in words
// beside the bot's status on Upcoming, and as a note on the bot's page. Its status alone (Joining)
// would look healthy.
import { countOf, formatDateTime, formatRelative, withLocalTimes } from '../format.ts';
import type { BotDetail, LaunchFailing } from '../types.ts';

/** "next attempt in 20 seconds", or "next attempt due now" once its time has come. */
function nextAttemptWords(iso: string, nowMs: number): string {
  return Date.parse(iso) > nowMs ? `next attempt ${formatRelative(iso, nowMs)}` : 'next attempt due now';
}

/** Upcoming's line for a bot whose launch is failing: the error is text, not a tooltip, so screen readers and touch screens get it. */
export function LaunchFailingBadge({ failing, nowMs }: { failing: LaunchFailing; nowMs: number }) {
  return (
    <div class="launch-failing" data-testid="launch-failing">
      <span class="badge badge-bad">Launch failing</span>
      <div class="small">{countOf(failing.attempts, 'attempt')} failed; {nextAttemptWords(failing.next_attempt_at, nowMs)}</div>
      <div class="small break">Last error: {withLocalTimes(failing.last_error)}</div>
    </div>
  );
}

/** The dispatcher writes a refused launch as "<why>; next attempt at <ISO instant>". */
const NEXT_ATTEMPT = /^(.*); next attempt at (\S+)$/s;

/**
 * The bot page's note while its latest launch decision is a refused launch (and it is Joining:
 * launched, not yet confirmed in its meeting). Null otherwise.
 */
export function LaunchFailingNote({ bot, nowMs }: { bot: BotDetail; nowMs: number }) {
  if (bot.status !== 'Joining') return null;
  const latest = bot.decisions.findLast((d) => d.kind.startsWith('launch'));
  if (latest?.kind !== 'launch_failed') return null;
  const parts = NEXT_ATTEMPT.exec(latest.reason);
  const attempt = typeof latest.details.attempt === 'number' ? ` (attempt ${latest.details.attempt})` : '';
  return (
    <p class="warning" role="note" data-testid="launch-failing-note">
      Launch failing: the bot runtime refused the launch or did not answer{attempt}: {withLocalTimes(parts?.[1] ?? latest.reason)}.
      {parts?.[2] && <> The same launch is tried again: {nextAttemptWords(parts[2], nowMs)}, at {formatDateTime(parts[2])}.</>}
      {' '}A bot whose launch is still refused when its meeting ends gives up then.
    </p>
  );
}
