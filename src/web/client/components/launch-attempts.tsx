// The bot page's "Launch attempts": from its decision log, each attempt and its outcome, and the
// final failure of a bot that gave up (why it never joined belongs here too).
import { formatRelative, isLaunchDecision } from '../format.ts';
import type { BotDetail } from '../types.ts';
import { DecisionLog } from './decision-log.tsx';

export function LaunchAttempts({ bot }: { bot: BotDetail }) {
  const launches = bot.decisions.filter((d) => isLaunchDecision(d.kind));
  const isWaiting = bot.status === 'Scheduled';
  const isAtRisk = isWaiting && bot.at_risk !== null;
  return (
    <section class="card" aria-labelledby="launch-title">
      <h2 id="launch-title">Launch attempts</h2>
      {/* At risk is said whatever came before: a bot for a provider has its handover planned already. */}
      {isAtRisk ? (
        <p class="muted">{`Not launched yet, and it will not be unless its calendar's access returns before its join time (${formatRelative(bot.scheduled_join_time)}): it is cancelled then.`}</p>
      ) : launches.length === 0 ? (
        <p class="muted">{isWaiting ? `Not launched yet: it is handed to the bot runtime ${formatRelative(bot.scheduled_join_time)}.` : 'This bot was never handed to the bot runtime.'}</p>
      ) : null}
      {launches.length > 0 && <DecisionLog decisions={launches} />}
    </section>
  );
}
