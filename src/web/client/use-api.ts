// Loading data for a page: the answer, the failure, and a way to load again. Every load is also
// read again quietly to keep it fresh (freshness.ts): the data shown stays while it is read, a
// failure shows as the error (the server may be away), and the next answer clears it.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useFreshness } from './freshness.ts';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  isLoading: boolean;
  reload: () => Promise<void>;
  setData: (update: (data: T | null) => T | null) => void;
}

/** Runs `load` now and whenever `key` changes; a newer load's answer always wins. */
export function useApi<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setDataState] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [isLoading, setIsLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  /** Loads; a quiet load does not say it is loading (the page keeps showing what it has). */
  const run = useCallback(async (isQuiet: boolean) => {
    const mine = ++generation.current;
    if (!isQuiet) setIsLoading(true);
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setDataState(value);
      setError(null);
    } catch (failure) {
      if (mine !== generation.current) return;
      setError(failure instanceof Error ? failure : new Error(String(failure)));
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
  return { data, error, isLoading, reload, setData };
}
