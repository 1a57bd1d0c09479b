import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "./api/client";
import { I18nProvider } from "./i18n";
import { OperationForm } from "./OperationForm";
import { typesFor, type Target } from "./operations";
import { Router } from "./router";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const LINES: Target = { kind: "lines", msisdns: ["+79991000001", "+79991000002"] };
const SIMS = ["89701010000000000011", "89701010000000000029"];

beforeEach(() => {
  vi.stubGlobal("scrollTo", () => undefined);
  resetSessionForTests();
  window.history.replaceState(null, "", "/lines");
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function form(target: Target) {
  render(
    <I18nProvider language="en">
      <Router>
        <OperationForm target={target} types={typesFor(target)} />
      </Router>
    </I18nProvider>,
  );
}

describe("an operation with each line's own parameter", () => {
  it("gives each line a reserve SIM no other line has, and sends them as items", async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/v1/sims/reserve"))
        return json({ items: SIMS.map((iccid) => ({ iccid, imsi: "250", state: "in_stock" })), next_cursor: null });
      if (url === "/v1/operations" && init?.method === "POST") return json({ id: "op5" }, 202);
      return json({}, 404);
    });
    vi.stubGlobal("fetch", fetch);
    form(LINES);
    fireEvent.change(screen.getByLabelText("Operation"), { target: { value: "replace_sim" } });
    expect(await screen.findByText("Reserve SIMs: 2")).toBeTruthy();
    expect(fetch.mock.calls[0]![0]).toBe("/v1/sims/reserve?limit=1000");
    const review = screen.getByRole("button", { name: "Review" }) as HTMLButtonElement;
    expect(review.disabled).toBe(true);

    const first = screen.getByLabelText(/New SIM for \+79991000001/);
    fireEvent.change(first, { target: { value: SIMS[1] } });
    // The SIM taken by the first line is no longer offered to the second.
    const second = screen.getByLabelText(/New SIM for \+79991000002/);
    expect(within(second).queryByRole("option", { name: SIMS[1] })).toBeNull();
    expect(review.disabled).toBe(true);
    fireEvent.change(second, { target: { value: SIMS[0] } });
    expect(review.disabled).toBe(false);

    fireEvent.click(review);
    expect(screen.getByText("Replace the SIM: 2 lines.")).toBeTruthy();
    expect(screen.getByText(SIMS[1]!)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Start the operation" }));
    await waitFor(() => expect(window.location.pathname).toBe("/operations/op5"));
    const [, init] = fetch.mock.calls.find(([url]) => url === "/v1/operations")! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      type: "replace_sim",
      items: [
        { msisdn: "+79991000001", params: { iccid: SIMS[1] } },
        { msisdn: "+79991000002", params: { iccid: SIMS[0] } },
      ],
    });
  });

  it("finds free numbers by their digits; a line left at any free number goes without one", async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/v1/numbers/free"))
        return json({ items: url.includes("contains=77") ? ["+79992000770", "+79992000771"] : ["+79992000001"] });
      if (url === "/v1/operations" && init?.method === "POST") return json({ id: "op6" }, 202);
      return json({}, 404);
    });
    vi.stubGlobal("fetch", fetch);
    form(LINES);
    fireEvent.change(screen.getByLabelText("Operation"), { target: { value: "change_number" } });
    expect(await screen.findByText("Free numbers found: 1")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Numbers containing the digits"), { target: { value: "7a7" } });
    fireEvent.click(screen.getByRole("button", { name: "Find free numbers" }));
    expect(await screen.findByText("Free numbers found: 2")).toBeTruthy();
    expect(fetch.mock.calls.map(([url]) => url)).toContain("/v1/numbers/free?contains=77&limit=100");
    fireEvent.change(screen.getByLabelText(/New number for \+79991000002/), { target: { value: "+79992000771" } });
    fireEvent.click(screen.getByRole("button", { name: "Review" }));
    expect(screen.getByText("any free number", { exact: false })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Start the operation" }));
    await waitFor(() => expect(window.location.pathname).toBe("/operations/op6"));
    const [, init] = fetch.mock.calls.find(([url]) => url === "/v1/operations")! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      type: "change_number",
      items: [{ msisdn: "+79991000001" }, { msisdn: "+79991000002", params: { msisdn: "+79992000771" } }],
    });
  });

  it("moves lines to a node found by its name", async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/v1/nodes"))
        return json({
          items: url.includes("q=Cour")
            ? [{ id: "n7", name: "Couriers", kind: "department", path: "/c/n7/", parent_id: "c" }]
            : [],
          next_cursor: null,
        });
      if (url === "/v1/operations" && init?.method === "POST") return json({ id: "op7" }, 202);
      return json({}, 404);
    });
    vi.stubGlobal("fetch", fetch);
    form({ kind: "filter", states: ["active"] });
    expect(within(screen.getByLabelText("Operation")).queryByRole("option", { name: "Replace the SIM" })).toBeNull();
    fireEvent.change(screen.getByLabelText("Operation"), { target: { value: "move" } });
    // A node, an account to bill them to, or both: Review waits for one of them.
    expect((screen.getByRole("button", { name: "Review" }) as HTMLButtonElement).disabled).toBe(true);
    const to = within(screen.getByRole("group", { name: "Move the lines to (optional)" }));
    fireEvent.change(to.getByLabelText("Find by name"), { target: { value: "Cour" } });
    expect(await to.findByText("Nodes found: 1")).toBeTruthy();
    fireEvent.change(to.getByLabelText("Node"), { target: { value: "n7" } });
    expect(screen.getByRole("group", { name: "Bill them to the personal account (optional)" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Review" }));
    fireEvent.click(screen.getByRole("button", { name: "Start the operation" }));
    await waitFor(() => expect(window.location.pathname).toBe("/operations/op7"));
    const [, init] = fetch.mock.calls.find(([url]) => url === "/v1/operations")! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      type: "move",
      params: { node_id: "n7" },
      selection: { state: ["active"] },
    });
  });
});
