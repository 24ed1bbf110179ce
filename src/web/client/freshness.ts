// What a page shows is read again by itself, quietly (no "Loading" over it): when the tab becomes
// visible again, when the live stream is back after it was down, when the browser's connection
// comes back (its `online` event), and every 30 s while the tab is visible. The live stream
// carries status changes only; a join time moved, a title changed or a launch refused elsewhere
// would otherwise stay unseen on a page left open, and an error shown while the server (or the
// network) was away would stay after it came back.
import { useEffect, useRef } from 'preact/hooks';
import { whenReconnected } from './live.ts';
import { inBackground } from './api.ts';

/** How often a visible page reads its data again. */
export const REFRESH_MS = 30_000;

const readers = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let stopReconnects: (() => void) | null = null;

/** None of these reads is a person's use of the session: a tab left open, or shown again, still idles out. */
function readAll(): void {
  inBackground(() => {
    for (const read of readers) read();
  });
}

function isVisible(): boolean {
  return document.visibilityState === 'visible';
}

/** Every 30 s from now while the tab is visible; none while it is hidden. */
function restartTimer(): void {
  if (timer !== null) clearInterval(timer);
  timer = isVisible() ? setInterval(() => {
    if (isVisible()) readAll();
  }, REFRESH_MS) : null;
}

function onVisibilityChange(): void {
  if (isVisible()) readAll();
  restartTimer();
}

/** The connection is back: an error shown while it was away goes now, not at the next 30 s tick. */
function onOnline(): void {
  if (isVisible()) readAll();
}

function start(): void {
  document.addEventListener('visibilitychange', onVisibilityChange);
  window.addEventListener('online', onOnline);
  stopReconnects = whenReconnected(readAll);
  restartTimer();
}

function stop(): void {
  document.removeEventListener('visibilitychange', onVisibilityChange);
  window.removeEventListener('online', onOnline);
  stopReconnects?.();
  stopReconnects = null;
  if (timer !== null) clearInterval(timer);
  timer = null;
}

/** Calls `read` at each of those moments while the calling component is mounted. */
export function useFreshness(read: () => void): void {
  const current = useRef(read);
  current.current = read;
  useEffect(() => {
    const reader = () => current.current();
    readers.add(reader);
    if (readers.size === 1) start();
    return () => {
      readers.delete(reader);
      if (readers.size === 0) stop();
    };
  }, []);
}
