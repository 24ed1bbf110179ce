// Pages that say how far away a time is ("in 3 minutes", "next sync in 25 seconds") or decide
// from the clock ("already ended") are drawn again as it moves, not only when their data changes.
import { useEffect, useState } from 'preact/hooks';

/** How often a page that reads the clock is drawn again. */
const TICK_MS = 15_000;

const listeners = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | null = null;

/** The current time, and a new draw of the calling component every 15 s while it is mounted. */
export function useClock(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    listeners.add(setNow);
    timer ??= setInterval(() => {
      const at = Date.now();
      for (const listener of listeners) listener(at);
    }, TICK_MS);
    return () => {
      listeners.delete(setNow);
      if (listeners.size === 0 && timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    };
  }, []);
  return now;
}
