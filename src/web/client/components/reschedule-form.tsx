// The bot page's "New join time" and Reschedule. The draft (what the user typed, and the join time
// the edit started from) is kept by the page: it outlives a refresh of the bot, and an error card
// shown meanwhile, and lets the page refuse to send an edit made from a join time moved since.
import { useEffect, useRef, useState } from 'preact/hooks';
import { fromLocalInputValue, toLocalInputValue, withLocalTimes, zoneAbbreviation } from '../format.ts';
import { invalidFieldProps } from '../field-errors.ts';
import type { BotDetail } from '../types.ts';

export interface RescheduleDraft {
  /** The field's value (datetime-local, the browser's zone). */
  value: string;
  /** The bot's join time when the edit started: what the user changed it from. */
  from: string;
}

export type DraftUpdate = (update: (draft: RescheduleDraft | null) => RescheduleDraft | null) => void;

export function RescheduleForm({ bot, draft, onDraft, onReschedule, error }: {
  bot: BotDetail;
  draft: RescheduleDraft | null;
  onDraft: DraftUpdate;
  /** Why the API refused the join time sent, shown beneath the field, which takes focus; null when it did not. */
  error: string | null;
  /** Sends `iso`, unless the bot's join time is no longer `from`; true when the bot was moved. */
  onReschedule: (iso: string, from: string) => Promise<boolean>;
}) {
  // Untouched, the field shows the bot's join time as it is now (a refresh may move it).
  const value = draft?.value ?? toLocalInputValue(bot.scheduled_join_time);
  const [isBusy, setIsBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (error !== null) input.current?.focus();
  }, [error]);
  return (
    <form class="inline-form" onSubmit={async (event) => {
      event.preventDefault();
      if (isBusy) return;
      // Untouched: the join time as it is, to the millisecond (the field shows whole seconds).
      const iso = draft === null ? bot.scheduled_join_time : fromLocalInputValue(draft.value);
      if (iso === null) return;
      setIsBusy(true);
      try {
        // Done: the field follows the bot's join time again, unless it was edited meanwhile.
        const sent = draft;
        if (await onReschedule(iso, draft?.from ?? bot.scheduled_join_time)) onDraft((current) => (current === sent ? null : current));
      } finally {
        setIsBusy(false);
      }
    }}>
      <label for="join-time">New join time ({zoneAbbreviation()})</label>
      <input id="join-time" ref={input} type="datetime-local" step={1} required value={value} {...invalidFieldProps('join-time-error', error !== null)}
        onInput={(e) => {
          const typed = e.currentTarget.value;
          onDraft((current) => ({ value: typed, from: current?.from ?? bot.scheduled_join_time }));
        }} />
      {/* Busy, it says so without being disabled: a disabled button would drop the keyboard focus it has. */}
      <button type="submit" class="button" aria-disabled={isBusy ? 'true' : undefined}>Reschedule</button>
      {error !== null && <p id="join-time-error" class="field-error" role="alert">{withLocalTimes(error)}</p>}
    </form>
  );
}
