// Loading data for a page: the answer, the failure, and a way to load again. Every load is also
// read again quietly to keep it fresh (freshness.ts): the data shown stays while it is read. A read
// that fails while the page shows data of its own (the same filters and page) keeps that data and
// says since when it is shown (`staleSince`): one failed refresh (the server restarting, a proxy's
// 503) does not take away the rows a person is reading. Only a read with nothing of its own to
// show fails as the error state. The next answer clears both.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useFreshness } from './freshness.ts';
import { isInBackground, readInBackground } from './api.ts';

export interface Loaded<T> {
  data: T | null;
  /** Why the data of the current key could not be read, when there is none of it to show. */
  error: Error | null;
  /** When the data shown was read, while reading it again failed; null while it is up to date. */
  staleSince: number | null;
  /** The data shown was read for another key (other filters or another page): this key's read is under way. */
  isOutdated: boolean;
  isLoading: boolean;
  reload: () => Promise<void>;
  setData: (update: (data: T | null) => T | null) => void;
}

/** Runs `load` now and whenever `key` changes; a newer load's answer always wins. */
export function useApi<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setDataState] = useState<T | null>(null);
  /** The key the data shown was read for, and when. */
  const [readFor, setReadFor] = useState<{ key: string; at: number } | null>(null);
  /** The last read's failure, and the key it was for. */
  const [failure, setFailure] = useState<{ error: Error; key: string } | null>(null);
  const [isLoading, setIsLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;
  /**
   * Loads; a quiet load does not say it is loading (the page keeps showing what it has). A load
   * started inside inBackground (a timer, a status change) marks its reads as the page's own.
   */
  const run = useCallback(async (isQuiet: boolean) => {
    const isBackground = isInBackground();
    const mine = ++generation.current;
    const forKey = keyRef.current;
    if (!isQuiet) setIsLoading(true);
    try {
      const value = await (isBackground ? readInBackground(loadRef.current) : loadRef.current());
      if (mine !== generation.current) return;
      setDataState(value);
      setReadFor({ key: forKey, at: Date.now() });
      setFailure(null);
    } catch (error) {
      if (mine !== generation.current) return;
      setFailure({ error: error instanceof Error ? error : new Error(String(error)), key: forKey });
    } finally {
      if (mine === generation.current) setIsLoading(false);
    }
  }, []);
  const reload = useCallback(() => run(false), []);
  useEffect(() => {
    void reload();
  }, [key]);
  useFreshness(() => void run(true));
  const setData = useCallback((update: (value: T | null) => T | null) => setDataState((value) => update(value)), []);
  const isCurrent = data !== null && readFor?.key === key;
  const failed = failure?.key === key ? failure.error : null;
  return {
    data,
    error: failed !== null && !isCurrent ? failed : null,
    staleSince: failed !== null && isCurrent ? readFor.at : null,
    isOutdated: data !== null && !isCurrent && failed === null,
    isLoading,
    reload,
    setData,
  };
}

/** The earliest time any of `loads` was shown stale since, or null when they are all up to date. */
export function staleSince(...loads: readonly Pick<Loaded<unknown>, 'staleSince'>[]): number | null {
  const times = loads.map((load) => load.staleSince).filter((at): at is number => at !== null);
  return times.length === 0 ? null : Math.min(...times);
}
