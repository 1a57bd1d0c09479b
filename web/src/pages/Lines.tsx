import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api, type LinesQuery, type NodeData } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { GroupBadge, useGroupsById } from "../groups";
import { Message, useI18n } from "../i18n";
import { OperationForm } from "../OperationForm";
import { selectable, typesFor, type Target } from "../operations";
import { Link, useRouter } from "../router";
import { filtersFrom, LINE_STATES, searchOf, statesOf, type LineFilters } from "../savedFilters";
import { usePages } from "../useLoad";
import { SavedFilters } from "./SavedFilters";

const PAGE = 200;
const ROW_HEIGHT = 44;
/** `node`: a node's subtree (from the hierarchy's "its lines" or a saved filter); set by a link, kept by the form. */
type Filters = LineFilters;

/** The customer's lines: filters in the address (shareable), pages fetched by cursor as the list scrolls. */
export function Lines() {
  const { t, formatNumber } = useI18n();
  const { search, navigate } = useRouter();
  const filters = filtersFrom(search);
  const [draft, setDraft] = useState<Filters>(filters);
  const scroller = useRef<HTMLDivElement>(null);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [everyMatch, setEveryMatch] = useState(false);
  const [node, setNode] = useState<NodeData | null>(null);

  const pages = usePages((from) => {
    const query: LinesQuery = { limit: PAGE, cursor: from ?? undefined };
    if (filters.q) query.q = filters.q;
    if (filters.states.length) query.state = [...filters.states];
    if (filters.tariff) query.tariff = filters.tariff;
    if (filters.label) query.label = filters.label;
    if (filters.group) query.group = filters.group;
    if (filters.node) query.node_id = filters.node;
    return api.lines(query);
  }, search);
  const { cursor, loading, error, more } = pages;
  const lines = pages.items ?? [];
  const groups = useGroupsById(lines.some((line) => line.group_id));

  useEffect(() => {
    setDraft(filtersFrom(search));
    setChosen(new Set());
    setEveryMatch(false);
  }, [search]);

  useEffect(() => {
    let live = true;
    setNode(null);
    if (filters.node)
      api.node(filters.node).then(
        (answer) => live && setNode(answer),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [filters.node]);

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
    if (last && last.index >= lines.length - 20 && cursor && !loading && !error) more();
  }, [last, lines.length, cursor, loading, error, more]);

  /**
   * The list is one stop of Tab (however many lines it holds, the fields after it stay a Tab away): inside it
   * the up and down arrows move between the lines and the side arrows between a line's box and its number.
   */
  const onListKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    const row = target.closest<HTMLElement>('[role="row"]');
    const controls = (of: Element | null) => (of ? Array.from(of.querySelectorAll<HTMLElement>("input, a")) : []);
    const column = Math.max(0, controls(row).indexOf(target));
    const forward = document.documentElement.dir === "rtl" ? "ArrowLeft" : "ArrowRight";
    const backward = forward === "ArrowLeft" ? "ArrowRight" : "ArrowLeft";
    let next: HTMLElement | undefined;
    if (event.key === "ArrowDown")
      next = controls(row ? row.nextElementSibling : scroller.current?.querySelector('[role="row"]') ?? null)[column];
    else if (event.key === "ArrowUp" && row) next = controls(row.previousElementSibling)[column];
    else if (event.key === forward && row) next = controls(row)[column + 1];
    else if (event.key === backward && row) next = controls(row)[column - 1];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  };

  const apply = (event: FormEvent) => {
    event.preventDefault();
    go(draft);
  };

  /** The filters into the address (shareable); the list follows the address. */
  function go(next: Filters) {
    const text = searchOf(next);
    navigate(text ? `/lines?${text}` : "/lines");
  }

  const filterTarget: Target = {
    kind: "filter",
    nodeId: filters.node || undefined,
    states: filters.states.length ? filters.states : undefined,
    tariff: filters.tariff || undefined,
    label: filters.label || undefined,
    group: filters.group || undefined,
  };
  // The number search is no selection the API can resolve: with it, only rows chosen one by one.
  const filterSelectable = !filters.q && selectable(filterTarget);
  const target: Target = everyMatch ? filterTarget : { kind: "lines", msisdns: [...chosen] };
  const allLoaded = lines.length > 0 && lines.every((line) => chosen.has(line.msisdn));
  const toggle = (msisdn: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(msisdn);
    else next.delete(msisdn);
    setChosen(next);
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
        <fieldset className="states">
          <legend>{t("lines.state")}</legend>
          {LINE_STATES.map((state) => (
            <label key={state} className="check">
              <input
                type="checkbox"
                name="state"
                value={state}
                checked={draft.states.includes(state)}
                onChange={(e) =>
                  setDraft({
                    ...draft,
                    states: statesOf(
                      e.target.checked ? [...draft.states, state] : draft.states.filter((one) => one !== state),
                    ),
                  })
                }
              />
              {t(`state.${state}`)}
            </label>
          ))}
        </fieldset>
        <label>
          {t("lines.tariff")}
          <input
            name="tariff"
            dir="ltr"
            value={draft.tariff}
            onChange={(e) => setDraft({ ...draft, tariff: e.target.value.trim() })}
          />
        </label>
        <label>
          {t("lines.label")}
          <input name="label" value={draft.label} onChange={(e) => setDraft({ ...draft, label: e.target.value.trim() })} />
        </label>
        <label>
          {t("lines.group")}
          <input name="group" value={draft.group} onChange={(e) => setDraft({ ...draft, group: e.target.value.trim() })} />
        </label>
        <button type="submit">{t("lines.apply")}</button>
      </form>
      <SavedFilters filters={filters} onApply={go} />
      {filters.node && (
        <p className="node-filter">
          <Message
            id="ops.select.node"
            values={{ name: <bdi translate="no">{node?.name ?? filters.node}</bdi> }}
          />{" "}
          <button type="button" className="link" onClick={() => go({ ...filters, node: "" })}>
            {t("ops.select.anyNode")}
          </button>
        </p>
      )}
      <ErrorMessage error={error} />
      <p aria-live="polite" className="count" data-testid="lines-count">
        {t("lines.shown", { count: formatNumber(lines.length) })}
      </p>
      <p id="lines-keys" className="hint">
        {t("lines.keys")}
      </p>
      <div role="table" aria-label={t("lines.title")} aria-rowcount={cursor ? -1 : lines.length + 1}>
        <div role="rowgroup">
          <div role="row" className="line-row header">
            <span role="columnheader">
              <input
                type="checkbox"
                aria-label={t("ops.select.allLoaded")}
                checked={allLoaded}
                disabled={everyMatch || lines.length === 0}
                onChange={(e) => setChosen(e.target.checked ? new Set(lines.map((line) => line.msisdn)) : new Set())}
              />
            </span>
            <span role="columnheader">{t("lines.colNumber")}</span>
            <span role="columnheader">{t("lines.colState")}</span>
            <span role="columnheader">{t("lines.colTariff")}</span>
            <span role="columnheader">{t("lines.colIccid")}</span>
            <span role="columnheader">{t("lines.colLabels")}</span>
          </div>
        </div>
        <div
          ref={scroller}
          className="scroller"
          role="rowgroup"
          tabIndex={0}
          aria-label={t("lines.title")}
          aria-describedby="lines-keys"
          onKeyDown={onListKey}
        >
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
                    <input
                      type="checkbox"
                      tabIndex={-1}
                      aria-label={t("ops.select.one", { msisdn: line.msisdn })}
                      checked={everyMatch || chosen.has(line.msisdn)}
                      disabled={everyMatch}
                      onChange={(e) => toggle(line.msisdn, e.target.checked)}
                    />
                  </span>
                  <span role="cell">
                    <Link to={`/lines/${encodeURIComponent(line.msisdn)}`} tabIndex={-1} dir="ltr" translate="no">
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
                  <span role="cell" className="tags">
                    {line.group && (
                      <GroupBadge name={line.group} group={line.group_id ? groups.get(line.group_id) : undefined} />
                    )}
                    {line.labels.map((label) => (
                      <span key={label} className="label-tag" translate="no">
                        {label}
                      </span>
                    ))}
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
      <fieldset className="act-on">
        <legend>{t("ops.select.legend")}</legend>
        <label className="check">
          <input
            type="radio"
            name="act-on"
            checked={!everyMatch}
            onChange={() => setEveryMatch(false)}
          />
          <span data-testid="chosen-count">
            {t("ops.select.chosen", { count: formatNumber(chosen.size) })}
          </span>
        </label>
        <label className="check">
          <input
            type="radio"
            name="act-on"
            checked={everyMatch}
            disabled={!filterSelectable}
            onChange={() => setEveryMatch(true)}
          />
          {t("ops.select.everyMatch")}
        </label>
        {!filterSelectable && <small>{t("ops.select.filterNeeded")}</small>}
        {chosen.size > 0 && !everyMatch && (
          <button type="button" className="link" onClick={() => setChosen(new Set())}>
            {t("ops.select.clear")}
          </button>
        )}
      </fieldset>
      {selectable(target) && <OperationForm key={everyMatch ? "filter" : "lines"} target={target} types={typesFor(target)} />}
    </main>
  );
}
