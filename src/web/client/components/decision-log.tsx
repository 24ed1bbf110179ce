// A bot's decisions as a list: when, what (in words) and why (its instants in local time, the
// calendars it names as Calendars names them, the events by their titles).
import { decisionWords, reasonWords } from '../format.ts';
import { nameEventsInReason } from '../bot-words.ts';
import { nameCalendarsInReason } from '../reason-calendars.ts';
import { LocalTime } from './local-time.tsx';
import type { BotDetail, Connection } from '../types.ts';

/**
 * `connections`: the user's connections as they are now; null (or left out) while they are not
 * known. `eventTitles`: the titles of the events the page read, by id.
 */
export function DecisionLog({ decisions, connections = null, eventTitles = new Map() }: { decisions: BotDetail['decisions']; connections?: readonly Connection[] | null; eventTitles?: ReadonlyMap<string, string> }) {
  return (
    <ol class="log">
      {decisions.map((d, i) => (
        <li key={i} data-kind={d.kind}>
          <LocalTime iso={d.at} />
          <strong>{decisionWords(d.kind)}</strong>
          <span>{nameEventsInReason(nameCalendarsInReason(reasonWords(d.reason), connections, d.details), eventTitles)}</span>
        </li>
      ))}
    </ol>
  );
}
