// Loading what a page shows, with the error it met and a way to load it again.

import { useCallback, useEffect, useState } from 'react';
import { api, messageOf } from './api';
import { useToast } from './toasts';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (nothing while it is `null`) whenever it changes or `reload` is called. */
export function useApi<T>(path: string | null): Loaded<T> {
  return useLoad<T>(path === null ? null : () => api.get<T>(path), [path]);
}

/** Runs `load` (nothing while it is `null`) whenever a dependency changes or `reload` is called. */
export function useLoad<T>(load: (() => Promise<T>) | null, dependencies: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(load !== null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((count) => count + 1), []);
  useEffect(() => {
    if (load === null) return;
    let current = true;
    setLoading(true);
    load()
      .then((answer) => {
        if (!current) return;
        setData(answer);
        setError(undefined);
      })
      .catch((failure) => current && setError(messageOf(failure)))
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...dependencies, generation]);
  return { data, error, loading, reload };
}

/**
 * Runs a change and says how it went in a toast: `success` when it worked, the server's
 * message when not; `then` runs after a success (a reload, say).
 */
export function useAction(then?: () => void) {
  const toast = useToast();
  return useCallback(
    async (success: string, run: () => Promise<unknown>): Promise<boolean> => {
      try {
        await run();
        toast('success', success);
        then?.();
        return true;
      } catch (failure) {
        toast('danger', messageOf(failure));
        return false;
      }
    },
    [toast, then],
  );
}
