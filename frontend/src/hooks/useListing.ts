import { useCallback, useEffect, useState } from "react";
import { isAbort } from "../api/errors";
import { describeError } from "../api/messages";

export interface Listing<T> {
  /** null while loading, and after an error. */
  items: T[] | null;
  /** The message to show when the list could not be loaded. */
  error: string | null;
  /** Load the list again (the "Try again" button); aborts the load it replaces. */
  reload(): () => void;
}

// A list the app loads once at start (the styles, the gallery samples), with a retry. The load is
// aborted when the component goes away or the loader changes (a new API client).
export function useListing<T>(load: (signal: AbortSignal) => Promise<T[]>): Listing<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(() => {
    const controller = new AbortController();
    setError(null);
    setItems(null);
    load(controller.signal).then(setItems, (reason) => isAbort(reason) || setError(describeError(reason).message));
    return () => controller.abort();
  }, [load]);

  useEffect(reload, [reload]);

  return { items, error, reload };
}
