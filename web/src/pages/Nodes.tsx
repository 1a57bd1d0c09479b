import { Fragment, useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { api, heldPermissions, type NodeData, type NodeFinances, type NodeSummary } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { Link } from "../router";
import { NodeEditor, type NodeChange } from "./NodeEditor";

const LEAF_KINDS: ReadonlySet<string> = new Set(["personal_account"]);
const LINE_STATES = ["active", "blocked", "ready", "terminated"] as const;

/** The top nodes of a scope from the flat list sorted by path (parents first): those under no earlier one. */
export function scopeRoots(nodes: readonly NodeData[]): NodeData[] {
  const roots: NodeData[] = [];
  for (const node of nodes) if (!roots.some((root) => node.path.startsWith(root.path))) roots.push(node);
  return roots;
}

/**
 * The company's hierarchy as an ARIA tree: children are asked for when a node is first opened; arrows move,
 * Right and Left open and close, Home and End jump, Enter shows the node's figures beside the tree.
 */
export function Nodes() {
  const { t } = useI18n();
  const [nodes, setNodes] = useState<Record<string, NodeData>>({});
  const [roots, setRoots] = useState<string[] | null>(null);
  const [children, setChildren] = useState<Record<string, string[] | "loading">>({});
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [focused, setFocused] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const items = useRef(new Map<string, HTMLLIElement>());

  const remember = (found: readonly NodeData[]) =>
    setNodes((before) => ({ ...before, ...Object.fromEntries(found.map((node) => [node.id, node])) }));

  useEffect(() => {
    api.nodes({ view: "flat", sort: "path", limit: 200 }).then(
      (page) => {
        const top = scopeRoots(page.items as NodeData[]);
        remember(top);
        setRoots(top.map((node) => node.id));
        setFocused(top[0]?.id ?? null);
      },
      (caught: unknown) => setError(caught),
    );
  }, []);

  const hasChildren = (id: string) => {
    const known = children[id];
    if (known === undefined) return !LEAF_KINDS.has(nodes[id]?.kind ?? "");
    return known === "loading" || known.length > 0;
  };

  const open = useCallback(
    async (id: string, again = false) => {
      setExpanded((before) => new Set(before).add(id));
      if (children[id] !== undefined && !again) return;
      setChildren((before) => ({ ...before, [id]: "loading" }));
      try {
        const found: NodeData[] = [];
        let cursor: string | undefined;
        do {
          const page = await api.nodeChildren(id, cursor);
          found.push(...(page.items as NodeData[]));
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        remember(found);
        setChildren((before) => ({ ...before, [id]: found.map((node) => node.id) }));
      } catch (caught) {
        setError(caught);
        setChildren((before) => {
          const next = { ...before };
          delete next[id];
          return next;
        });
      }
    },
    [children],
  );
  /** The tree after a change made on the page: the parents concerned read again, the node's new name kept. */
  const changed = (change: NodeChange) => {
    const { node } = change;
    const drop = (parent: string | null | undefined) =>
      parent &&
      setChildren((before) => {
        const list = before[parent];
        return Array.isArray(list) ? { ...before, [parent]: list.filter((child) => child !== node.id) } : before;
      });
    if (change.kind === "deleted") {
      drop(node.parent_id);
      setSelected(node.parent_id);
      setFocused(node.parent_id);
      return;
    }
    remember([node]);
    if (change.kind === "moved") drop(change.from);
    if (node.parent_id && (change.kind !== "renamed" || Array.isArray(children[node.parent_id])))
      void open(node.parent_id, true);
    if (change.kind === "created") return;
    setSelected(node.id);
  };

  const close = (id: string) =>
    setExpanded((before) => {
      const next = new Set(before);
      next.delete(id);
      return next;
    });

  // The items a user can reach: the roots and, below each open node, its children.
  const visible: string[] = [];
  const walk = (ids: readonly string[]) => {
    for (const id of ids) {
      visible.push(id);
      const below = children[id];
      if (expanded.has(id) && Array.isArray(below)) walk(below);
    }
  };
  walk(roots ?? []);

  const focus = (id: string | undefined) => {
    if (!id) return;
    setFocused(id);
    items.current.get(id)?.focus();
  };

  const onKey = (event: KeyboardEvent<HTMLUListElement>) => {
    if (!focused) return;
    const at = visible.indexOf(focused);
    const node = nodes[focused];
    const rtl = document.documentElement.dir === "rtl";
    const key =
      rtl && event.key === "ArrowLeft" ? "ArrowRight" : rtl && event.key === "ArrowRight" ? "ArrowLeft" : event.key;
    switch (key) {
      case "ArrowDown":
        focus(visible[at + 1]);
        break;
      case "ArrowUp":
        focus(visible[at - 1]);
        break;
      case "Home":
        focus(visible[0]);
        break;
      case "End":
        focus(visible[visible.length - 1]);
        break;
      case "ArrowRight":
        if (!hasChildren(focused)) break;
        if (!expanded.has(focused)) void open(focused);
        else {
          const first = children[focused];
          if (Array.isArray(first)) focus(first[0]);
        }
        break;
      case "ArrowLeft":
        if (expanded.has(focused)) close(focused);
        else if (node?.parent_id && nodes[node.parent_id] && visible.includes(node.parent_id)) focus(node.parent_id);
        break;
      case "Enter":
      case " ":
        setSelected(focused);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const render = (ids: readonly string[], level: number) =>
    ids.map((id, index) => {
      const node = nodes[id]!;
      const below = children[id];
      const parent = hasChildren(id);
      const isOpen = expanded.has(id);
      return (
        <li
          key={id}
          role="treeitem"
          aria-level={level}
          aria-setsize={ids.length}
          aria-posinset={index + 1}
          aria-expanded={parent ? isOpen : undefined}
          aria-selected={selected === id}
          aria-busy={below === "loading" || undefined}
          tabIndex={focused === id ? 0 : -1}
          ref={(element) => {
            if (element) items.current.set(id, element);
            else items.current.delete(id);
          }}
          onFocus={(event) => {
            if (event.target === event.currentTarget) setFocused(id);
          }}
          onClick={(event) => {
            event.stopPropagation();
            setFocused(id);
            setSelected(id);
            if (parent) void (isOpen ? close(id) : open(id));
          }}
        >
          <span className="tree-label">
            <span className="tree-toggle" aria-hidden="true">
              {parent ? (isOpen ? "▾" : "▸") : ""}
            </span>
            <span translate="no">{node.name}</span>{" "}
            <small>{t(`nodes.kind.${node.kind}` as MessageKey)}</small>
          </span>
          {isOpen && Array.isArray(below) && below.length > 0 && <ul role="group">{render(below, level + 1)}</ul>}
        </li>
      );
    });

  return (
    <main id="main" className="nodes">
      <h1>{t("nodes.title")}</h1>
      <p className="count">{t("nodes.hint")}</p>
      <ErrorMessage error={error} />
      {roots === null && !error && <p>{t("common.loading")}</p>}
      <div className="nodes-layout">
        {roots && (
          <ul role="tree" aria-label={t("nodes.tree")} className="tree" onKeyDown={onKey}>
            {render(roots, 1)}
          </ul>
        )}
        <NodeDetails node={selected ? nodes[selected] : undefined} onChange={changed} />
      </div>
    </main>
  );
}

const LOCALES = { en: "en-GB", ru: "ru-RU", fa: "fa-IR" } as const;

function NodeDetails({ node, onChange }: { node: NodeData | undefined; onChange: (change: NodeChange) => void }) {
  const { t, formatNumber, language } = useI18n();
  /** An amount in minor units, written in the user's language with its currency. */
  const formatMoney = (money: { amount: number; currency: string; exponent: number }) =>
    new Intl.NumberFormat(LOCALES[language], {
      style: "currency",
      currencyDisplay: "narrowSymbol",
      currency: money.currency,
      minimumFractionDigits: money.exponent,
      maximumFractionDigits: money.exponent,
    }).format(money.amount / 10 ** money.exponent);
  const [summary, setSummary] = useState<NodeSummary | null>(null);
  const [finances, setFinances] = useState<NodeFinances | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setSummary(null);
    setFinances(null);
    setError(null);
    if (!node) return;
    api.nodeSummary(node.id).then(
      (answer) => live && setSummary(answer),
      (caught: unknown) => live && setError(caught),
    );
    // Balances need billing:read over the node: without it the figures stand alone.
    api.nodeFinances(node.id).then(
      (answer) => live && setFinances(answer),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [node]);

  if (!node)
    return (
      <section className="node-details" aria-live="polite">
        <p className="count">{t("nodes.choose")}</p>
      </section>
    );
  const figure = (state: string) => summary?.figures.find((f) => f.name === `lines.${state}`);
  return (
    <section className="node-details" aria-live="polite" aria-labelledby="node-details-title">
      <h2 id="node-details-title" translate="no">
        {node.name}
      </h2>
      <dl className="facts">
        <dt>{t("nodes.kindLabel")}</dt>
        <dd>{t(`nodes.kind.${node.kind}` as MessageKey)}</dd>
        {node.account_number && (
          <>
            <dt>{t("nodes.account")}</dt>
            <dd dir="ltr" translate="no">
              {node.account_number}
            </dd>
          </>
        )}
        {summary && (
          <>
            <dt>{t("nodes.descendants")}</dt>
            <dd>{formatNumber(summary.descendants)}</dd>
          </>
        )}
      </dl>
      <ErrorMessage error={error} />
      {summary && (
        <table className="table figures">
          <caption>{t("nodes.figures")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("nodes.state")}</th>
              <th scope="col">{t("nodes.own")}</th>
              <th scope="col">{t("nodes.subtree")}</th>
            </tr>
          </thead>
          <tbody>
            {LINE_STATES.map((state) => (
              <tr key={state}>
                <th scope="row">{t(`state.${state}` as MessageKey)}</th>
                <td>{formatNumber(figure(state)?.own ?? 0)}</td>
                <td data-testid={`figure-${state}`}>{formatNumber(figure(state)?.subtree ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {finances && finances.totals.length > 0 && (
        <dl className="facts">
          {finances.totals.map((total) => (
            <Fragment key={total.currency}>
              <dt>{t("nodes.balance")}</dt>
              <dd data-testid={`balance-${total.currency}`}>{formatMoney(total.closing_balance)}</dd>
              <dt>{t("nodes.accounts")}</dt>
              <dd>{formatNumber(total.personal_accounts)}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      <p>
        <Link to={`/lines?node_id=${encodeURIComponent(node.id)}`}>{t("nodes.lines")}</Link>
      </p>
      {heldPermissions().has("hierarchy:manage") && <NodeEditor node={node} onChange={onChange} />}
    </section>
  );
}
