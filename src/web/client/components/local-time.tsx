// An instant as the page writes it (the viewer's zone, see format.ts), and in full where it is read:
// hovering or a screen reader's description gives the date, the time with seconds and the offset
// from UTC, so that a time copied into a message or compared across zones is not ambiguous.
import { formatDateTime, formatInstant } from '../format.ts';

export function LocalTime({ iso }: { iso: string }) {
  return <time dateTime={iso} title={formatInstant(iso)}>{formatDateTime(iso)}</time>;
}
