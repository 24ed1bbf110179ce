// A bot's decisions as a list: when, what (in words) and why (its instants in local time).
import { decisionWords, reasonWords } from '../format.ts';
import { LocalTime } from './local-time.tsx';
import type { BotDetail } from '../types.ts';

export function DecisionLog({ decisions }: { decisions: BotDetail['decisions'] }) {
  return (
    <ol class="log">
      {decisions.map((d, i) => (
        <li key={i} data-kind={d.kind}>
          <LocalTime iso={d.at} />
          <strong>{decisionWords(d.kind)}</strong>
          <span>{reasonWords(d.reason)}</span>
        </li>
      ))}
    </ol>
  );
}
