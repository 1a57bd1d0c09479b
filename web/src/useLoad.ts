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
