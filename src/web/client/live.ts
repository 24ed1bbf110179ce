// One EventSource per page for the user's bot status changes (GET /api/v1/bots/status-changes
// as server-sent events). The browser reconnects by itself with Last-Event-ID, and the server
// replays what was missed; components subscribe with useStatusChanges. A stream the server
// refused (a 429 of the key's rate limit, a proxy's 502, a session gone) is opened again after a
// wait that doubles with each refusal in a row, from 1 s to a minute: the page would otherwise
// spend the key's allowance, which the user's own integration needs.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { StatusChange } from './types.ts';
import { inBackground } from './api.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'off';

type Listener = (change: StatusChange) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<(state: LiveState) => void>();
const reconnectListeners = new Set<() => void>();
let source: EventSource | null = null;
let state: LiveState = 'off';
let refusalsInARow = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

/** How long to wait before opening the stream again after `refusals` refusals in a row (jittered). */
function reopenDelayMs(refusals: number): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.max(0, refusals - 1));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

function setState(next: LiveState): void {
  state = next;
  for (const listener of stateListeners) listener(next);
}

/** Opens the stream; `onClosed` is called (after the wait) when the server refused it, to check the session and open it again. */
export function startLive(onClosed: () => void): void {
  if (source !== null || retryTimer !== null) return;
  setState(refusalsInARow === 0 ? 'connecting' : 'reconnecting');
  source = new EventSource('/api/v1/bots/status-changes');
  source.addEventListener('open', () => {
    const wasDown = state === 'reconnecting';
    refusalsInARow = 0;
    setState('live');
    if (wasDown) for (const listener of reconnectListeners) listener();
  });
  source.addEventListener('status', (event) => {
    const change = JSON.parse((event as MessageEvent<string>).data) as StatusChange;
    // What a page reads because of a change is its own doing, not a person's use of the session.
    inBackground(() => {
      for (const listener of listeners) listener(change);
    });
  });
  source.addEventListener('error', () => {
    // CONNECTING: the browser retries on its own. CLOSED: the server refused (signed out).
    if (source?.readyState === EventSource.CLOSED) {
      source.close();
      source = null;
      refusalsInARow++;
      setState('reconnecting');
      retryTimer = setTimeout(() => {
        retryTimer = null;
        onClosed();
      }, reopenDelayMs(refusalsInARow));
    } else {
      setState('reconnecting');
    }
  });
}

export function stopLive(): void {
  source?.close();
  source = null;
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
  refusalsInARow = 0;
  setState('off');
}

/** Calls `handler` with each status change while the component is mounted. */
export function useStatusChanges(handler: Listener): void {
  const current = useRef(handler);
  current.current = handler;
  useEffect(() => {
    const listener: Listener = (change) => current.current(change);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
}

/** At most one read of a page's data per this long because of status changes. */
export const CHANGE_RELOAD_EVERY_MS = 3000;
/** The first change of a quiet spell waits this long, to take its neighbours along. */
const CHANGE_RELOAD_GATHER_MS = 300;

/**
 * Reads a page's data again after status changes, paced: the first change of a quiet spell soon,
 * the ones that follow once the interval since the last read is over, always one read after the
 * last change. A launch wave of 300 bots makes over a thousand changes in a minute; read once each,
 * a page spent the API key's allowance, which the user's own integration needs
 * (docs/dashboard.md). Rows can be updated from the change itself at once (Upcoming does).
 */
export function useReloadOnStatusChanges(reload: () => void): void {
  const current = useRef(reload);
  current.current = reload;
  const lastAt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useStatusChanges(() => {
    if (timer.current !== null) return;
    const waitMs = Math.max(CHANGE_RELOAD_GATHER_MS, lastAt.current + CHANGE_RELOAD_EVERY_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      lastAt.current = Date.now();
      inBackground(() => current.current());
    }, waitMs);
  });
  useEffect(() => () => {
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);
}

/**
 * Calls `handler` whenever the stream is open again after it was down (a dropped connection, a
 * server restart, refusals). The stream replays the status changes missed meanwhile, but nothing
 * else: pages read their data again. Answers a function that stops the calls.
 */
export function whenReconnected(handler: () => void): () => void {
  reconnectListeners.add(handler);
  return () => {
    reconnectListeners.delete(handler);
  };
}

export function useLiveState(): LiveState {
  const [value, setValue] = useState(state);
  useEffect(() => {
    stateListeners.add(setValue);
    setValue(state);
    return () => {
      stateListeners.delete(setValue);
    };
  }, []);
  return value;
}
