import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { isSmallCustomer, SimpleLines } from "./SimpleLines";

function line(n: number, state = "active", blocks: { type: string; since: null }[] = []) {
  return {
    id: `l${n}`,
    msisdn: `+7999000${String(n).padStart(4, "0")}`,
    state,
    tariff: "CORP-S",
    sim: null,
    labels: [],
    services: [],
    apns: [],
    blocks,
    forwarding: [],
    group: null,
    node_id: "n1",
    personal_account_id: "pa1",
    pending_operation_id: null,
    created_at: null,
    updated_at: null,
  };
}

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("a small customer", () => {
  it("is one whose scope holds at most 50 lines", async () => {
    const few = Array.from({ length: 50 }, (_, i) => line(i));
    vi.stubGlobal("fetch", vi.fn().mockResolvedValueOnce(answer(200, { items: few, next_cursor: null })));
    expect(await isSmallCustomer()).toBe(true);
    expect(vi.mocked(fetch).mock.calls[0]![0]).toBe("/v1/lines?limit=51");

    const many = Array.from({ length: 51 }, (_, i) => line(i));
    vi.stubGlobal("fetch", vi.fn().mockResolvedValueOnce(answer(200, { items: many, next_cursor: "c" })));
    expect(await isSmallCustomer()).toBe(false);
  });

  it("sees every line with its state and blocks one, the list read again when the operation ends", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(answer(200, { items: [line(1), line(2, "blocked", [{ type: "voluntary", since: null }])], next_cursor: null }))
      .mockResolvedValueOnce(answer(202, { id: "op1", state: "running" }))
      .mockResolvedValueOnce(answer(200, { id: "op1", state: "completed" }))
      .mockResolvedValueOnce(answer(200, { items: [line(1, "blocked", [{ type: "voluntary", since: null }])], next_cursor: null }));
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Router>
          <SimpleLines pollMs={1} />
        </Router>
      </I18nProvider>,
    );

    const items = await screen.findAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(within(items[0]!).getByText("Active")).toBeTruthy();
    expect(within(items[1]!).getByRole("button", { name: "Unblock +79990000002" })).toBeTruthy();
    expect(within(items[0]!).getByRole("link", { name: "+79990000001" }).getAttribute("href")).toBe(
      "/lines/%2B79990000001",
    );

    fireEvent.click(within(items[0]!).getByRole("button", { name: "Block +79990000001" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("+79990000001 Done."));
    const [url, init] = fetch.mock.calls[1]!;
    expect([url, init.method]).toEqual(["/v1/operations", "POST"]);
    expect(JSON.parse(init.body)).toEqual({ type: "block", lines: ["+79990000001"], params: { block_type: "voluntary" } });
    expect(fetch.mock.calls[2]![0]).toBe("/v1/operations/op1");
    await waitFor(() => expect(screen.getAllByRole("listitem")).toHaveLength(1));
    expect(screen.getByRole("button", { name: "Unblock +79990000001" })).toBeTruthy();
  });
});
