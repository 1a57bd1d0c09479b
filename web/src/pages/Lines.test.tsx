import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { Lines } from "./Lines";

function line(n: number, state = "active") {
  const msisdn = `+7999000${String(n).padStart(4, "0")}`;
  return {
    id: `l${n}`,
    msisdn,
    state,
    tariff: "CORP-S",
    sim: { iccid: `8970100000000${n}`, imsi: "250", state: "active" },
    labels: [],
    services: [],
    apns: [],
    blocks: [],
    forwarding: [],
    group: null,
    node_id: "n1",
    personal_account_id: "pa1",
    pending_operation_id: null,
    created_at: null,
    updated_at: null,
  };
}

function page(items: unknown[], next: string | null) {
  return new Response(JSON.stringify({ items, next_cursor: next }), {
    status: 200,
    headers: { "Content-Type": "application/json" },
  });
}

// jsdom lays nothing out: give every element a size, so that the virtualiser has a window to fill.
const sizes = { clientHeight: 600, clientWidth: 800, offsetHeight: 600, offsetWidth: 800 };
const saved = Object.fromEntries(
  Object.keys(sizes).map((name) => [name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name)]),
);

beforeEach(() => {
  for (const [name, value] of Object.entries(sizes)) {
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
  vi.stubGlobal("scrollTo", () => undefined);
  resetSessionForTests();
  window.history.replaceState(null, "", "/lines?state=blocked");
  vi.stubGlobal(
    "ResizeObserver",
    class {
      observe() {}
      unobserve() {}
      disconnect() {}
    },
  );
});
afterEach(() => {
  for (const [name, descriptor] of Object.entries(saved)) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else Reflect.deleteProperty(HTMLElement.prototype, name);
  }
  cleanup();
  vi.unstubAllGlobals();
});

describe("the lines page", () => {
  it("asks for the filters in the address, shows the rows, and pages on with the cursor", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(page([line(1, "blocked"), line(2, "blocked")], "next-1"))
      .mockResolvedValueOnce(page([line(3, "blocked")], null));
    vi.stubGlobal("fetch", fetch);

    render(
      <I18nProvider language="ru">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );

    expect(await screen.findByText("+79990000001")).toBeTruthy();
    expect(fetch.mock.calls[0]![0]).toBe("/v1/lines?limit=200&state=blocked");
    // Near the end of what is loaded: the next page comes by its cursor.
    await waitFor(() => expect(screen.getByText("+79990000003")).toBeTruthy());
    expect(fetch.mock.calls[1]![0]).toBe("/v1/lines?limit=200&cursor=next-1&state=blocked");
    expect(screen.getAllByRole("cell", { name: "Заблокирован" })).toHaveLength(3);
    expect(screen.getByTestId("lines-count").textContent).toBe("Показано номеров: 3");
    expect(screen.getByText("Это все номера.")).toBeTruthy();
  });

  it("puts a search in the address and asks again", async () => {
    const fetch = vi.fn().mockResolvedValueOnce(page([], null)).mockResolvedValueOnce(page([line(7)], null));
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );
    expect(await screen.findByText("No line matches.")).toBeTruthy();

    fireEvent.change(screen.getByLabelText("Number or ICCID"), { target: { value: "+7999000" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));

    expect(await screen.findByText("+79990000007")).toBeTruthy();
    expect(window.location.search).toBe("?q=%2B7999000&state=blocked");
    expect(fetch.mock.calls[1]![0]).toBe("/v1/lines?limit=200&q=%2B7999000&state=blocked");
  });

  it("filters by several states: each checked one in the address and asked of the API", async () => {
    const fetch = vi.fn(async (_url: string) => page([line(1), line(2, "blocked")], null));
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );
    expect(await screen.findByText("+79990000002")).toBeTruthy();
    const blocked = screen.getByRole("checkbox", { name: "Blocked" }) as HTMLInputElement;
    expect(blocked.checked).toBe(true);
    expect((screen.getByRole("checkbox", { name: "Active" }) as HTMLInputElement).checked).toBe(false);

    fireEvent.click(screen.getByRole("checkbox", { name: "Ready" }));
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await waitFor(() => expect(window.location.search).toBe("?state=ready&state=blocked"));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    expect(fetch.mock.calls[1]![0]).toBe("/v1/lines?limit=200&state=ready&state=blocked");
    expect((screen.getByRole("checkbox", { name: "Ready" }) as HTMLInputElement).checked).toBe(true);

    // None checked is any state: the address and the question name none.
    fireEvent.click(screen.getByRole("checkbox", { name: "Ready" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Blocked" }));
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await waitFor(() => expect(window.location.search).toBe(""));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(3));
    expect(fetch.mock.calls[2]![0]).toBe("/v1/lines?limit=200");
  });

  it("blocks every line the filter matches: the filter goes as the operation's selection", async () => {
    window.history.replaceState(null, "", "/lines?state=active&node_id=n7");
    const created = { id: "op9" };
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/v1/lines")) return page([line(1), line(2)], null);
      if (url === "/v1/nodes/n7") return new Response(JSON.stringify({ id: "n7", name: "Couriers" }), { status: 200 });
      if (url === "/v1/operations" && init?.method === "POST") return new Response(JSON.stringify(created), { status: 202 });
      return new Response("{}", { status: 404 });
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );
    expect(await screen.findByText("+79990000002")).toBeTruthy();
    expect(fetch.mock.calls[0]![0]).toBe("/v1/lines?limit=200&state=active&node_id=n7");
    expect(await screen.findByText("Couriers")).toBeTruthy();

    // One row, then all shown: the count follows; then every line the filter matches.
    fireEvent.click(screen.getByRole("checkbox", { name: "Choose +79990000001" }));
    expect(screen.getByTestId("chosen-count").textContent).toBe("The lines chosen: 1");
    fireEvent.click(screen.getByRole("checkbox", { name: "Choose every line shown" }));
    expect(screen.getByTestId("chosen-count").textContent).toBe("The lines chosen: 2");
    fireEvent.click(screen.getByRole("radio", { name: "Every line matching the filter" }));

    fireEvent.change(screen.getByLabelText("Kind of block"), { target: { value: "financial" } });
    fireEvent.click(screen.getByRole("button", { name: "Review" }));
    expect(screen.getByText("Block: every line matching the filter, as it is when the operation starts.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Start the operation" }));

    await waitFor(() => expect(window.location.pathname).toBe("/operations/op9"));
    const [, init] = fetch.mock.calls.find(([url]) => url === "/v1/operations")! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      type: "block",
      params: { block_type: "financial" },
      selection: { node_id: "n7", state: ["active"] },
    });
  });

  it("filters by label and group, shows each line's group and labels, and labels every line the filter matches", async () => {
    window.history.replaceState(null, "", "/lines");
    const labelled = { ...line(4), labels: ["drivers", "north"], group: "Couriers" };
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith("/v1/lines")) return page([labelled], null);
      if (url === "/v1/operations" && init?.method === "POST") return new Response(JSON.stringify({ id: "op4" }), { status: 202 });
      return new Response("{}", { status: 404 });
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );
    expect(await screen.findByText("+79990000004")).toBeTruthy();
    fireEvent.change(screen.getByRole("textbox", { name: "Label" }), { target: { value: "drivers " } });
    fireEvent.change(screen.getByRole("textbox", { name: "Group" }), { target: { value: "Couriers" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await waitFor(() => expect(window.location.search).toBe("?label=drivers&group=Couriers"));
    await waitFor(() => expect(fetch.mock.calls.at(-1)![0]).toBe("/v1/lines?limit=200&label=drivers&group=Couriers"));
    const cell = screen.getAllByRole("cell").find((c) => c.classList.contains("tags"))!;
    expect([...cell.children].map((tag) => tag.textContent)).toEqual(["Couriers", "drivers", "north"]);

    fireEvent.click(screen.getByRole("radio", { name: "Every line matching the filter" }));
    fireEvent.change(screen.getByRole("combobox", { name: "Operation" }), { target: { value: "add_labels" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Labels" }), { target: { value: "vip, night shift" } });
    fireEvent.click(screen.getByRole("button", { name: "Review" }));
    fireEvent.click(screen.getByRole("button", { name: "Start the operation" }));
    await waitFor(() => expect(window.location.pathname).toBe("/operations/op4"));
    const [, init] = fetch.mock.calls.find(([url]) => url === "/v1/operations")! as [string, RequestInit];
    expect(JSON.parse(init.body as string)).toEqual({
      type: "add_labels",
      params: { labels: ["vip", "night shift"] },
      selection: { label: "drivers", group: "Couriers" },
    });
  });

  it("cannot send a number search as a selection: only rows chosen one by one", async () => {
    window.history.replaceState(null, "", "/lines?q=%2B7999");
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(page([line(1)], null)));
    render(
      <I18nProvider language="en">
        <Router>
          <Lines />
        </Router>
      </I18nProvider>,
    );
    expect(await screen.findByText("+79990000001")).toBeTruthy();
    expect((screen.getByRole("radio", { name: "Every line matching the filter" }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByRole("button", { name: "Review" })).toBeNull();
    fireEvent.click(screen.getByRole("checkbox", { name: "Choose +79990000001" }));
    expect(screen.getByRole("button", { name: "Review" })).toBeTruthy();
  });
});
