import type { SavedFilter, SavedFilterBody } from "./api/client";

export const LINE_STATES = ["ready", "active", "blocked", "terminated"] as const;
export type LineState = (typeof LINE_STATES)[number];

/**
 * The lines page's filters as its address holds them (`q` is a search, no selection). `states` are any of the
 * line states, each once and in the order of LINE_STATES (none: any state), so that equal filters compare equal.
 */
export interface LineFilters {
  q: string;
  states: LineState[];
  tariff: string;
  label: string;
  group: string;
  node: string;
}

/** `given` as a filter's states: the known ones, each once, in the order of LINE_STATES. */
export function statesOf(given: Iterable<string>): LineState[] {
  const wanted = new Set(given);
  return LINE_STATES.filter((state) => wanted.has(state));
}

/** A filter to save under `name`: the fields a list of lines and an operation's selection share (not the search). */
export function savedFilterBody(name: string, filters: LineFilters): SavedFilterBody {
  const body: SavedFilterBody = { name: name.trim(), states: [...filters.states] };
  if (filters.node) body.node_id = filters.node;
  if (filters.tariff) body.tariff = filters.tariff;
  if (filters.label) body.label = filters.label;
  if (filters.group) body.group = filters.group;
  return body;
}

/** The page's filters a saved one stands for (no search): every field of it, all its states. */
export function filtersOf(saved: SavedFilter): LineFilters {
  return {
    q: "",
    states: statesOf(saved.states),
    tariff: saved.tariff ?? "",
    label: saved.label ?? "",
    group: saved.group ?? "",
    node: saved.node_id ?? "",
  };
}

function same(a: LineFilters, b: LineFilters): boolean {
  return (
    a.q === b.q &&
    a.tariff === b.tariff &&
    a.label === b.label &&
    a.group === b.group &&
    a.node === b.node &&
    a.states.length === b.states.length &&
    a.states.every((state, n) => state === b.states[n])
  );
}

/** The saved filter the page shows now, if one is exactly it. */
export function matching(saved: readonly SavedFilter[], filters: LineFilters): SavedFilter | undefined {
  if (filters.q) return undefined;
  return saved.find((one) => same(filtersOf(one), filters));
}

/** The filters as the lines page's address: `state` once per state (the API's list takes it so too). */
export function searchOf(filters: LineFilters): string {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  for (const state of filters.states) params.append("state", state);
  if (filters.tariff) params.set("tariff", filters.tariff);
  if (filters.label) params.set("label", filters.label);
  if (filters.group) params.set("group", filters.group);
  if (filters.node) params.set("node_id", filters.node);
  return params.toString();
}

/** The filters a lines page's address holds; unknown states are left out, a state named twice counts once. */
export function filtersFrom(search: string): LineFilters {
  const params = new URLSearchParams(search);
  return {
    q: params.get("q") ?? "",
    states: statesOf(params.getAll("state")),
    tariff: params.get("tariff") ?? "",
    label: params.get("label") ?? "",
    group: params.get("group") ?? "",
    node: params.get("node_id") ?? "",
  };
}
