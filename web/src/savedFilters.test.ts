import { describe, expect, it } from "vitest";
import type { SavedFilter } from "./api/client";
import { applicable, filtersOf, matching, savedFilterBody, type LineFilters } from "./savedFilters";

const none: LineFilters = { q: "", state: "", tariff: "", label: "", group: "", node: "" };

function saved(overrides: Partial<SavedFilter>): SavedFilter {
  return {
    id: "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    name: "Drivers",
    node_id: null,
    states: [],
    tariff: null,
    label: null,
    group: null,
    created_at: "2026-12-07T21:00:00Z",
    ...overrides,
  };
}

describe("saved filters", () => {
  it("save the page's filters without the search, and only the fields set", () => {
    expect(savedFilterBody("  Blocked north ", { ...none, q: "+7999", state: "blocked", node: "n1" })).toEqual({
      name: "Blocked north",
      states: ["blocked"],
      node_id: "n1",
    });
    expect(savedFilterBody("All", none)).toEqual({ name: "All", states: [] });
    expect(savedFilterBody("Vip", { ...none, tariff: "BIZ-L", label: "vip", group: "Couriers" })).toEqual({
      name: "Vip",
      states: [],
      tariff: "BIZ-L",
      label: "vip",
      group: "Couriers",
    });
  });

  it("stand for the page's filters, and the page finds the one it shows", () => {
    const drivers = saved({ label: "drivers", states: ["active"], node_id: "n1" });
    const all = saved({ id: "2", name: "All" });
    expect(filtersOf(drivers)).toEqual({ ...none, label: "drivers", state: "active", node: "n1" });
    expect(matching([all, drivers], { ...none, label: "drivers", state: "active", node: "n1" })).toBe(drivers);
    expect(matching([all, drivers], none)).toBe(all);
    expect(matching([drivers], { ...none, label: "drivers", state: "active" })).toBeUndefined();
    // A search is no part of a saved filter: the page then shows none of them.
    expect(matching([all], { ...none, q: "+7999" })).toBeUndefined();
  });

  it("with several states cannot be shown by the page, whose address holds one", () => {
    const two = saved({ states: ["active", "blocked"] });
    expect(applicable(two)).toBe(false);
    expect(applicable(saved({ states: ["ready"] }))).toBe(true);
    expect(matching([two], { ...none, state: "active" })).toBeUndefined();
  });
});
