import { describe, expect, it } from "vitest";
import type { SavedFilter } from "./api/client";
import { filtersFrom, filtersOf, matching, savedFilterBody, searchOf, statesOf, type LineFilters } from "./savedFilters";

const none: LineFilters = { q: "", states: [], tariff: "", label: "", group: "", node: "" };

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
    expect(savedFilterBody("  Blocked north ", { ...none, q: "+7999", states: ["blocked"], node: "n1" })).toEqual({
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
    expect(savedFilterBody("Two", { ...none, states: ["active", "blocked"] })).toEqual({
      name: "Two",
      states: ["active", "blocked"],
    });
  });

  it("stand for the page's filters, and the page finds the one it shows", () => {
    const drivers = saved({ label: "drivers", states: ["active"], node_id: "n1" });
    const all = saved({ id: "2", name: "All" });
    expect(filtersOf(drivers)).toEqual({ ...none, label: "drivers", states: ["active"], node: "n1" });
    expect(matching([all, drivers], { ...none, label: "drivers", states: ["active"], node: "n1" })).toBe(drivers);
    expect(matching([all, drivers], none)).toBe(all);
    expect(matching([drivers], { ...none, label: "drivers", states: ["active"] })).toBeUndefined();
    // A search is no part of a saved filter: the page then shows none of them.
    expect(matching([all], { ...none, q: "+7999" })).toBeUndefined();
  });

  it("of several states stand for all of them, in whatever order the API keeps them", () => {
    const two = saved({ states: ["blocked", "active"], tariff: "BIZ-L" });
    const one = saved({ id: "3", states: ["active"], tariff: "BIZ-L" });
    expect(filtersOf(two)).toEqual({ ...none, states: ["active", "blocked"], tariff: "BIZ-L" });
    expect(filtersOf(saved({ states: ["terminated", "ready", "blocked", "active"] })).states).toEqual([
      "ready",
      "active",
      "blocked",
      "terminated",
    ]);
    expect(matching([one, two], { ...none, states: ["active", "blocked"], tariff: "BIZ-L" })).toBe(two);
    expect(matching([one, two], { ...none, states: ["active"], tariff: "BIZ-L" })).toBe(one);
    expect(matching([two], { ...none, states: ["blocked"], tariff: "BIZ-L" })).toBeUndefined();
  });

  it("go through the page's address whole: each state once, unknown ones left out", () => {
    const two = filtersOf(saved({ states: ["blocked", "active"], label: "vip", node_id: "n1" }));
    expect(searchOf(two)).toBe("state=active&state=blocked&label=vip&node_id=n1");
    expect(filtersFrom(`?${searchOf(two)}`)).toEqual(two);
    expect(filtersFrom("?state=blocked&state=gone&state=ready&state=blocked").states).toEqual(["ready", "blocked"]);
    expect(filtersFrom("").states).toEqual([]);
    expect(statesOf(["terminated", "active"])).toEqual(["active", "terminated"]);
  });
});
