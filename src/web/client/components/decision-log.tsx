// A bot's decisions as a list: when, what (in words) and why (its instants in local time, the
// calendars it names as Calendars names them, the events by their titles, the meeting's identity
// only where the log names more than one meeting, and not repeating what it is beside).
import { decisionWords, reasonWords } from '../format.ts';
import { decisionReasonWords, meetingIdentitiesOf, withAllDayOccurrences } from '../bot-words.ts';
import { LocalTime } from './local-time.tsx';
import type { BotDetail, Connection } from '../types.ts';

/**
 * `connections`: the user's connections as they are now; null (or left out) while they are not
 * known. `eventTitles`: the titles of the events the page read, by id. `allDayZones`: the bot's
 * all-day events by id, each with the zone its occurrences' keys are midnights in, so that an
 * occurrence of one is named by its date.
 */
export function DecisionLog({ decisions, connections = null, eventTitles = new Map(), allDayZones = new Map() }: { decisions: BotDetail['decisions']; connections?: readonly Connection[] | null; eventTitles?: ReadonlyMap<string, string>; allDayZones?: ReadonlyMap<string, string> }) {
  const identities = meetingIdentitiesOf(decisions);
  return (
    <ol class="log">
      {decisions.map((d, i) => {
        const stored = reasonWords(withAllDayOccurrences(d.reason, allDayZones));
        const words = decisionReasonWords(d, { connections, eventTitles, identities, allDayZones });
        return (
          <li key={i} data-kind={d.kind}>
            <LocalTime iso={d.at} />
            <strong>{decisionWords(d.kind)}</strong>
            {/* The reason as the API stores it, ids and all, a hover away. */}
            {words !== '' && <span title={words === stored ? undefined : stored}>{words}</span>}
          </li>
        );
      })}
    </ol>
  );
}
