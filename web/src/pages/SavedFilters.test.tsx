import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import type { LineFilters } from "../savedFilters";
import { SavedFilters } from "./SavedFilters";

const none: LineFilters = { q: "", states: [], tariff: "", label: "", group: "", node: "" };
const drivers = {
  id: "01JA5F6G7H8J9K0M1N2P3Q4R5S",
  name: "Drivers",
  node_id: null,
  states: ["active"],
  tariff: null,
  label: "drivers",
  group: null,
  created_at: "2026-12-07T21:00:00Z",
};
const several = { ...drivers, id: "01JA5F6G7H8J9K0M1N2P3Q4R5T", name: "Two states", states: ["blocked", "active"] };

function json(body: unknown, status = 200) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function open(filters: LineFilters, onApply = vi.fn()) {
  render(
    <I18nProvider language="en">
      <SavedFilters filters={filters} onApply={onApply} />
    </I18nProvider>,
  );
  expect(globalThis.fetch).not.toHaveBeenCalled(); // the lines page asks for nothing more until it is opened
  fireEvent.click(screen.getByText("Saved filters"));
  const details = screen.getByText("Saved filters").closest("details")!;
  details.open = true;
  fireEvent(details, new Event("toggle"));
  return onApply;
}

describe("the saved filters panel", () => {
  it("asks for nothing until opened, then applies one and deletes it", async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === "/v1/lines/saved-filters") return json({ items: [drivers, several] });
      if (init?.method === "DELETE") return json(null, 204);
      return json({}, 404);
    });
    vi.stubGlobal("fetch", fetch);
    const onApply = open(none);
    const choose = (await screen.findByRole("combobox", { name: "Saved filter" })) as HTMLSelectElement;
    expect(fetch).toHaveBeenCalledTimes(1);
    // Every filter the API holds is offered, one of several states too.
    expect([...choose.options].map((o) => o.textContent)).toEqual(["Choose one", "Drivers", "Two states"]);

    fireEvent.change(choose, { target: { value: several.id } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onApply).toHaveBeenLastCalledWith({ ...none, states: ["active", "blocked"], label: "drivers" });
    fireEvent.change(choose, { target: { value: drivers.id } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onApply).toHaveBeenLastCalledWith({ ...none, states: ["active"], label: "drivers" });

    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("“Drivers” deleted.")).toBeTruthy();
    expect(fetch.mock.calls.at(-1)![0]).toBe(`/v1/lines/saved-filters/${drivers.id}`);
    expect([...choose.options].map((o) => o.textContent)).toEqual(["Choose one", "Two states"]);
  });

  it("saves the page's filters under a name, and shows the API's refusal in the user's words", async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === "POST") {
        const body = JSON.parse(init.body as string);
        if (body.name === "Drivers")
          return new Response(JSON.stringify({ status: 409, reason: "SAVED_FILTER_EXISTS", title: "Conflict" }), {
            status: 409,
            headers: { "Content-Type": "application/problem+json" },
          });
        return json({ ...drivers, id: "01JA5F6G7H8J9K0M1N2P3Q4R5V", name: body.name, node_id: "n1" }, 201);
      }
      if (url === "/v1/lines/saved-filters") return json({ items: [drivers] });
      return json({}, 404);
    });
    vi.stubGlobal("fetch", fetch);
    open({ ...none, states: ["active", "blocked"], label: "drivers", node: "n1" });
    const name = await screen.findByRole("textbox", { name: "Save these filters as" });

    fireEvent.change(name, { target: { value: "Drivers" } });
    fireEvent.click(screen.getByRole("button", { name: "Save this filter" }));
    expect((await screen.findByRole("alert")).textContent).toBe("You already have a saved filter of this name.");

    fireEvent.change(name, { target: { value: " North drivers " } });
    fireEvent.click(screen.getByRole("button", { name: "Save this filter" }));
    expect(await screen.findByText("Saved as “North drivers”.")).toBeTruthy();
    const [, init] = fetch.mock.calls.at(-1)! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      name: "North drivers",
      states: ["active", "blocked"],
      node_id: "n1",
      label: "drivers",
    });
    const choose = screen.getByRole("combobox", { name: "Saved filter" }) as HTMLSelectElement;
    await waitFor(() => expect(choose.value).toBe("01JA5F6G7H8J9K0M1N2P3Q4R5V"));
  });

  it("does not save a number search", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json({ items: [] })));
    open({ ...none, q: "+7999" });
    const save = await screen.findByRole("button", { name: "Save this filter" });
    expect((save as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText("A number search is not saved: clear it first.")).toBeTruthy();
  });
});
