import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { api, type Line, type LinesQuery } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { Link, useRouter } from "../router";

const PAGE = 200;
const ROW_HEIGHT = 44;
const STATES = ["ready", "active", "blocked", "terminated"] as const;
type State = (typeof STATES)[number];

interface Filters {
  q: string;
  state: State | "";
  tariff: string;
}

function filtersFrom(search: string): Filters {
  const params = new URLSearchParams(search);
  const state = params.get("state") ?? "";
  return {
    q: params.get("q") ?? "",
    state: (STATES as readonly string[]).includes(state) ? (state as State) : "",
    tariff: params.get("tariff") ?? "",
  };
}

/** The customer's lines: filters in the address (shareable), pages fetched by cursor as the list scrolls. */
export function Lines() {
  const { t, formatNumber } = useI18n();
  const { search, navigate } = useRouter();
  const filters = filtersFrom(search);
  const [draft, setDraft] = useState<Filters>(filters);
  const [lines, setLines] = useState<Line[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);

  const load = useCallback(
    async (from: string | undefined, reset: boolean) => {
      const mine = reset ? ++generation.current : generation.current;
      setLoading(true);
      setError(null);
      try {
        const query: LinesQuery = { limit: PAGE, cursor: from };
        if (filters.q) query.q = filters.q;
        if (filters.state) query.state = [filters.state];
        if (filters.tariff) query.tariff = filters.tariff;
        const page = await api.lines(query);
        if (mine !== generation.current) return;
        setLines((before) => (reset ? page.items : [...before, ...page.items]));
        setCursor(page.next_cursor);
      } catch (caught) {
        if (mine === generation.current) setError(caught);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [search],
  );

  useEffect(() => {
    setDraft(filtersFrom(search));
    setLines([]);
    setCursor(undefined);
    void load(undefined, true);
  }, [load, search]);

  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    initialRect: { width: 800, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= lines.length - 20 && cursor && !loading && !error) void load(cursor, false);
  }, [last, lines.length, cursor, loading, error, load]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (draft.q) params.set("q", draft.q);
    if (draft.state) params.set("state", draft.state);
    if (draft.tariff) params.set("tariff", draft.tariff);
    const text = params.toString();
    navigate(text ? `/lines?${text}` : "/lines");
  };

  return (
    <main id="main" className="lines">
      <h1>{t("lines.title")}</h1>
      <form className="filters" onSubmit={apply} role="search">
        <label>
          {t("lines.search")}
          <input
            name="q"
            dir="ltr"
            inputMode="tel"
            pattern="\+?[0-9]{1,20}"
            value={draft.q}
            onChange={(e) => setDraft({ ...draft, q: e.target.value.trim() })}
          />
        </label>
        <label>
          {t("lines.state")}
          <select
            name="state"
            value={draft.state}
            onChange={(e) => setDraft({ ...draft, state: e.target.value as State | "" })}
          >
            <option value="">{t("lines.anyState")}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {t(`state.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("lines.tariff")}
          <input
            name="tariff"
            dir="ltr"
            value={draft.tariff}
            onChange={(e) => setDraft({ ...draft, tariff: e.target.value.trim() })}
          />
        </label>
        <button type="submit">{t("lines.apply")}</button>
      </form>
      <ErrorMessage error={error} />
      <p aria-live="polite" className="count" data-testid="lines-count">
        {t("lines.shown", { count: formatNumber(lines.length) })}
      </p>
      <div role="table" aria-label={t("lines.title")} aria-rowcount={cursor ? -1 : lines.length + 1}>
        <div role="rowgroup">
          <div role="row" className="line-row header">
            <span role="columnheader">{t("lines.colNumber")}</span>
            <span role="columnheader">{t("lines.colState")}</span>
            <span role="columnheader">{t("lines.colTariff")}</span>
            <span role="columnheader">{t("lines.colIccid")}</span>
          </div>
        </div>
        <div ref={scroller} className="scroller" role="rowgroup" tabIndex={0} aria-label={t("lines.title")}>
          <div className="spacer" style={{ blockSize: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const line = lines[item.index]!;
              return (
                <div
                  key={line.id}
                  role="row"
                  aria-rowindex={item.index + 2}
                  className="line-row"
                  style={{ transform: `translateY(${item.start}px)` }}
                >
                  <span role="cell">
                    <Link to={`/lines/${encodeURIComponent(line.msisdn)}`} dir="ltr" translate="no">
                      {line.msisdn}
                    </Link>
                  </span>
                  <span role="cell" className={`state state-${line.state}`}>
                    {t(`state.${line.state}`)}
                  </span>
                  <span role="cell" translate="no">
                    {line.tariff}
                  </span>
                  <span role="cell" dir="ltr" translate="no">
                    {line.sim?.iccid ?? ""}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <p className="count">
        {loading ? t("lines.more") : error ? null : lines.length === 0 ? t("lines.none") : cursor ? null : t("lines.end")}
      </p>
    </main>
  );
}
