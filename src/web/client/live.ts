// One EventSource per page for the user's bot status changes (GET /api/v1/bots/status-changes
// as server-sent events). The browser reconnects by itself with Last-Event-ID, and the server
// replays what was missed; components subscribe with useStatusChanges.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { StatusChange } from './types.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'off';

type Listener = (change: StatusChange) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<(state: LiveState) => void>();
let source: EventSource | null = null;
let state: LiveState = 'off';

function setState(next: LiveState): void {
  state = next;
  for (const listener of stateListeners) listener(next);
}

export function startLive(onClosed: () => void): void {
  if (source !== null) return;
  setState('connecting');
  source = new EventSource('/api/v1/bots/status-changes');
  source.addEventListener('open', () => setState('live'));
  source.addEventListener('status', (event) => {
    const change = JSON.parse((event as MessageEvent<string>).data) as StatusChange;
    for (const listener of listeners) listener(change);
  });
  source.addEventListener('error', () => {
    // CONNECTING: the browser retries on its own. CLOSED: the server refused (signed out).
    if (source?.readyState === EventSource.CLOSED) {
      stopLive();
      onClosed();
    } else {
      setState('reconnecting');
    }
  });
}

export function stopLive(): void {
  source?.close();
  source = null;
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
