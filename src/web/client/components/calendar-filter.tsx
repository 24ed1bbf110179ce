// The "Calendar" filter of the Upcoming, Ended and Events pages: any, or one connection, named as
// the Calendars page names it.
import { connectionNames } from '../connection-names.ts';
import type { Connection } from '../types.ts';

export function CalendarFilter({ value, connections, onChange }: { value: string; connections: readonly Connection[]; onChange: (calendarId: string) => void }) {
  return (
    <label>
      <span>Calendar</span>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        {[...connectionNames(connections)].map(([id, name]) => <option key={id} value={id}>{name}</option>)}
      </select>
    </label>
  );
}
