import type { SavedFilter, SavedFilterBody } from "./api/client";

export const LINE_STATES = ["ready", "active", "blocked", "terminated"] as const;
export type LineState = (typeof LINE_STATES)[number];

/** The lines page's filters as its address holds them (one state at most; `q` is a search, no selection). */
export interface LineFilters {
  q: string;
  state: LineState | "";
  tariff: string;
  label: string;
  group: string;
  node: string;
}

/** A filter to save under `name`: the fields a list of lines and an operation's selection share (not the search). */
export function savedFilterBody(name: string, filters: LineFilters): SavedFilterBody {
  const body: SavedFilterBody = { name: name.trim(), states: filters.state ? [filters.state] : [] };
  if (filters.node) body.node_id = filters.node;
  if (filters.tariff) body.tariff = filters.tariff;
  if (filters.label) body.label = filters.label;
  if (filters.group) body.group = filters.group;
  return body;
}

/** Whether the page can show a saved filter whole: its address holds one state at most. */
export function applicable(saved: SavedFilter): boolean {
  return saved.states.length <= 1;
}

/** The page's filters a saved one stands for (no search). */
export function filtersOf(saved: SavedFilter): LineFilters {
  return {
    q: "",
    state: saved.states[0] ?? "",
    tariff: saved.tariff ?? "",
    label: saved.label ?? "",
    group: saved.group ?? "",
    node: saved.node_id ?? "",
  };
}

/** The saved filter the page shows now, if one is exactly it. */
export function matching(saved: readonly SavedFilter[], filters: LineFilters): SavedFilter | undefined {
  if (filters.q) return undefined;
  return saved.find((one) => {
    if (!applicable(one)) return false;
    const theirs = filtersOf(one);
    return (Object.keys(theirs) as (keyof LineFilters)[]).every((key) => theirs[key] === filters[key]);
  });
}
