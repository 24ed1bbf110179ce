// A bot's decisions as a list: when, what (in words) and why (its instants in local time, the
// calendars it names as Calendars names them).
import { decisionWords, reasonWords } from '../format.ts';
import { nameCalendarsInReason } from '../reason-calendars.ts';
import { LocalTime } from './local-time.tsx';
import type { BotDetail, Connection } from '../types.ts';

/** `connections`: the user's connections as they are now; null (or left out) while they are not known. */
export function DecisionLog({ decisions, connections = null }: { decisions: BotDetail['decisions']; connections?: readonly Connection[] | null }) {
  return (
    <ol class="log">
      {decisions.map((d, i) => (
        <li key={i} data-kind={d.kind}>
          <LocalTime iso={d.at} />
          <strong>{decisionWords(d.kind)}</strong>
          <span>{nameCalendarsInReason(reasonWords(d.reason), connections, d.details)}</span>
        </li>
      ))}
    </ol>
  );
}
