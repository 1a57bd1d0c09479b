import { useCallback, useEffect, useRef, useState } from "react";

/** Loads once per change of `key` (and again on reload()); a stale answer never overwrites a newer one. */
export function useLoad<T>(load: () => Promise<T>, key: string) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    setError(null);
    load().then(
      (answer) => mine === latest.current && setData(answer),
      (caught: unknown) => mine === latest.current && setError(caught),
    );
    // `key` names what is loaded; `load` is a new closure each render.
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, reload, setData };
}

/** A form's submission: busy while it runs, its error kept until the next try. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/** A page of a list the API reads by cursor. */
export interface CursorPage<T> {
  items: T[];
  next_cursor?: string | null;
}

/**
 * A list read page by page by its cursor: the first page whenever `key` changes (what is asked: the filters),
 * the next one on `more()`. An answer for an older key never lands, nor its error. `items` is null until the
 * first page is in; `cursor` is null once the last page is.
 */
export function usePages<T>(fetch: (cursor: string | null) => Promise<CursorPage<T>>, key: string, enabled = true) {
  const [items, setItems] = useState<T[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);
  const latestFetch = useRef(fetch);
  latestFetch.current = fetch;

  const load = useCallback(async (from: string | null, reset: boolean) => {
    const mine = reset ? ++generation.current : generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await latestFetch.current(from);
      if (mine !== generation.current) return;
      setItems((before) => (reset || before === null ? page.items : [...before, ...page.items]));
      setCursor(page.next_cursor ?? null);
    } catch (caught) {
      if (mine === generation.current) setError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (!enabled) return;
    setItems(null);
    setCursor(null);
    void load(null, true);
  }, [key, enabled, load]);

  const more = useCallback(() => {
    if (cursor) void load(cursor, false);
  }, [cursor, load]);
  const reload = useCallback(() => void load(null, true), [load]);
  return { items, cursor, loading, error, more, reload };
}
