import { statusTone, statusWords } from '../format.ts';

/** A status in words, with a colour for a quick look; the words carry the meaning. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span class={`badge badge-${statusTone(status)}`} data-status={status}>{label ?? statusWords(status)}</span>;
}
