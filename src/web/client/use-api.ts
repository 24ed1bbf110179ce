// Loading data for a page: the answer, the failure, and a way to load again.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

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
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setIsLoading(true);
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
  useEffect(() => {
    void reload();
  }, [key]);
  const setData = useCallback((update: (value: T | null) => T | null) => setDataState((value) => update(value)), []);
  return { data, error, isLoading, reload, setData };
}
