import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, resetSessionForTests, type NodeData } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { editsFor, mayHold, NodeEditor } from "./NodeEditor";
import { Nodes } from "./Nodes";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

function node(id: string, kind: NodeData["kind"], path: string, parent: string | null, name = id): NodeData {
  return { id, kind, path, parent_id: parent, name, account_number: null, depth: 0, created_at: "", updated_at: "" };
}
const COMPANY = node("c", "company", "/c/", null, "Northwind");
const SALES = node("s", "department", "/c/s/", "c", "Sales");

/** Signs in with a token whose grants carry these permissions (the console reads them from its payload). */
async function signInHolding(perms: string[]) {
  const payload = btoa(JSON.stringify({ grants: [{ node: "c", role: "custom", perms }] }));
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => json({ access_token: `x.${payload}.y`, token_type: "bearer", expires_in: 900 })),
  );
  await api.signInWithPassword("+79990000001", "secret");
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("what the hierarchy editor offers", () => {
  it("adds under the company and the customer's kinds, changes only those", () => {
    expect(editsFor(COMPANY)).toEqual({ create: true, change: false });
    expect(editsFor(SALES)).toEqual({ create: true, change: true });
    expect(editsFor(node("p", "personal_account", "/c/g/b/p/", "b"))).toEqual({ create: false, change: false });
  });

  it("moves a node nowhere below itself, nor to where it is", () => {
    expect(mayHold(node("x", "department", "/c/x/", "c"), SALES)).toBe(true);
    expect(mayHold(node("s2", "branch", "/c/s/s2/", "s"), SALES)).toBe(false);
    expect(mayHold(SALES, SALES)).toBe(false);
    expect(mayHold(COMPANY, SALES)).toBe(false);
    expect(mayHold(node("b", "business_account", "/c/g/b/", "g"), SALES)).toBe(false);
  });
});

describe("the hierarchy editor", () => {
  it("adds a branch under a node", async () => {
    const created = node("n9", "branch", "/c/s/n9/", "s", "Kazan");
    const fetch = vi.fn(async (url: string, init?: RequestInit) =>
      url === "/v1/nodes" && init?.method === "POST" ? json(created, 201) : json({ items: [], next_cursor: null }),
    );
    vi.stubGlobal("fetch", fetch);
    const onChange = vi.fn();
    render(
      <I18nProvider language="en">
        <NodeEditor node={SALES} onChange={onChange} />
      </I18nProvider>,
    );
    fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "branch" } });
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: " Kazan " } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    await waitFor(() => expect(onChange).toHaveBeenCalledWith({ kind: "created", node: created }));
    const [, init] = fetch.mock.calls.find(([url, i]) => url === "/v1/nodes" && i?.method === "POST")!;
    expect(JSON.parse(init!.body as string)).toEqual({ parent_id: "s", kind: "branch", name: "Kazan" });
    expect(screen.getByRole("status").textContent).toBe("Kazan is added.");
  });

  it("deletes only after a confirmation, and says in the user's language why the API refused", async () => {
    const fetch = vi.fn(async (_url: string, init?: RequestInit) =>
      init?.method === "DELETE"
        ? json({ status: 409, reason: "NODE_NOT_EMPTY", detail: "the node still holds lines" }, 409)
        : json({ items: [], next_cursor: null }),
    );
    vi.stubGlobal("fetch", fetch);
    const onChange = vi.fn();
    render(
      <I18nProvider language="ru">
        <NodeEditor node={SALES} onChange={onChange} />
      </I18nProvider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Удалить этот узел" }));
    expect(fetch.mock.calls.some(([, i]) => i?.method === "DELETE")).toBe(false);
    expect(screen.getByText(/Это нельзя отменить/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Да, удалить" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "В узле ещё есть линии или другие узлы: сначала перенесите их.",
    );
    expect(fetch.mock.calls.find(([, i]) => i?.method === "DELETE")![0]).toBe("/v1/nodes/s");
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe("the hierarchy page", () => {
  async function chooseTheCompany() {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        if (url.startsWith("/v1/nodes?")) return json({ items: [COMPANY], next_cursor: null });
        if (url.startsWith("/v1/nodes/c/children")) return json({ items: [SALES], next_cursor: null });
        if (url === "/v1/nodes/c/summary") return json({ node_id: "c", descendants: 1, figures: [] });
        return json({ status: 403, reason: "PERMISSION_MISSING" }, 403);
      }),
    );
    render(
      <I18nProvider language="en">
        <Router>
          <Nodes />
        </Router>
      </I18nProvider>,
    );
    fireEvent.click(await screen.findByRole("treeitem", { name: /Northwind/ }));
    expect(await screen.findByRole("heading", { name: "Northwind" })).toBeTruthy();
  }

  it("offers changes to a user who may manage the hierarchy", async () => {
    await signInHolding(["lines:read", "hierarchy:manage"]);
    await chooseTheCompany();
    expect(screen.getByRole("heading", { name: "Change the hierarchy here" })).toBeTruthy();
  });

  it("offers none to a user who may not", async () => {
    await signInHolding(["lines:read"]);
    await chooseTheCompany();
    expect(screen.queryByRole("heading", { name: "Change the hierarchy here" })).toBeNull();
  });
});
