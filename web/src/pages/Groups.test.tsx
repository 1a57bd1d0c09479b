import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, resetSessionForTests, type LineGroup } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { groupLinesLink, Groups } from "./Groups";

const json = (body: unknown, status = 200) =>
  new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

const COURIERS: LineGroup = {
  id: "01JA5F6G7H8J9K0M1N2P3Q4R5S",
  name: "Couriers",
  icon: "truck",
  colour: "orange",
  node_id: "n1",
  line_count: 12,
  created_at: "2026-12-08T00:00:00Z",
  updated_at: "2026-12-08T00:00:00Z",
};
const COMPANY: LineGroup = { ...COURIERS, id: "01JA5F6G7H8J9K0M1N2P3Q4R5T", name: "All staff", node_id: null, line_count: 3 };

async function signInHolding(perms: string[]) {
  const payload = btoa(JSON.stringify({ grants: [{ node: "n1", role: "custom", perms }] }));
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => json({ access_token: `x.${payload}.y`, token_type: "bearer", expires_in: 900 })),
  );
  await api.signInWithPassword("+79990000001", "secret");
}

const NODES = { items: [{ id: "n1", kind: "department", path: "/c/n1/", parent_id: "c", name: "Couriers' desk", account_number: null, depth: 1, created_at: "", updated_at: "" }], next_cursor: null };

/** The API as the page asks it: the groups (``groups``), the nodes for the picker, and ``other`` for the rest. */
function serve(groups: LineGroup[], other?: (url: string, init?: RequestInit) => Response | undefined) {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => {
    const answered = other?.(url, init);
    if (answered) return answered;
    if (url.startsWith("/v1/nodes")) return json(NODES);
    return json({ items: groups });
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

/** The one call of ``method`` the page made (the node picker asks for nodes on a timer, in any order). */
function sent(fetch: ReturnType<typeof serve>, method: string): [string, RequestInit] {
  const calls = fetch.mock.calls.filter(([, init]) => (init as RequestInit | undefined)?.method === method);
  expect(calls).toHaveLength(1);
  return calls[0] as [string, RequestInit];
}

function show(language: "en" | "fa" = "en") {
  render(
    <I18nProvider language={language}>
      <Router>
        <Groups />
      </Router>
    </I18nProvider>,
  );
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the groups page", () => {
  it("lists groups with their style and a link to their lines; one above the scope is shown, not offered to change", async () => {
    await signInHolding(["lines:read", "lines:label"]);
    serve([COMPANY, COURIERS]);
    show();
    const [above, couriers] = await screen.findAllByTestId("group");
    expect(couriers!.querySelector(".group-tag")!.getAttribute("data-icon")).toBe("truck");
    expect(within(couriers!).getByRole("link", { name: "12 lines" }).getAttribute("href")).toBe(
      "/lines?group=Couriers&node_id=n1",
    );
    expect(within(couriers!).getByRole("button", { name: "Edit Couriers" })).toBeTruthy();
    expect(within(above!).queryByRole("button")).toBeNull();
    expect(within(above!).getByText("Kept above your part of the company")).toBeTruthy();
    expect(groupLinesLink(COMPANY)).toBe("/lines?group=All+staff");
  });

  it("renames and restyles a group, sending only what changed", async () => {
    await signInHolding(["lines:read", "lines:label"]);
    const fetch = serve([COURIERS], (_url, init) =>
      init?.method === "PATCH" ? json({ ...COURIERS, ...JSON.parse(init.body as string) }) : undefined,
    );
    show();
    fireEvent.click(await screen.findByRole("button", { name: "Edit Couriers" }));
    const form = screen.getByRole("form", { name: "Edit the group Couriers" });
    fireEvent.change(within(form).getByRole("textbox", { name: "Name" }), { target: { value: " Drivers " } });
    fireEvent.click(within(form).getByRole("radio", { name: "Teal" }));
    fireEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Group “Drivers” saved.")).toBeTruthy();
    const [url, init] = sent(fetch, "PATCH");
    expect(url).toBe(`/v1/lines/groups/${COURIERS.id}`);
    expect(JSON.parse(init.body as string)).toEqual({ name: "Drivers", colour: "teal" });
    expect([...document.querySelectorAll(".group-tag")].find((tag) => tag.textContent === "Drivers")!.getAttribute("data-colour")).toBe("teal");
  });

  it("deletes a group after saying its lines stay, and shows the API's refusal in the user's words", async () => {
    await signInHolding(["lines:read", "lines:label"]);
    const fetch = serve([COURIERS], (_url, init) => {
      if (init?.method === "DELETE") return json(null, 204);
      if (init?.method === "POST") return json({ status: 409, reason: "GROUP_EXISTS", title: "Conflict" }, 409);
      return undefined;
    });
    show();
    fireEvent.click(await screen.findByRole("button", { name: "Delete Couriers" }));
    const confirm = document.querySelector(".confirm")!;
    expect(confirm.getAttribute("role")).toBe("group");
    expect(document.getElementById(confirm.getAttribute("aria-labelledby")!)!.textContent).toBe(
      "Delete the group Couriers? Its 12 lines stay where they are, in no group.",
    );
    fireEvent.click(screen.getByRole("button", { name: "Delete the group" }));
    expect(await screen.findByText("Group “Couriers” deleted; its lines are in no group now.")).toBeTruthy();
    expect(screen.getByText("No groups yet.")).toBeTruthy();

    const form = screen.getByRole("form", { name: "New group" });
    fireEvent.change(within(form).getByRole("textbox", { name: "Name" }), { target: { value: " Couriers " } });
    const node = within(form).getByRole("combobox", { name: "Node" });
    await within(node).findByRole("option", { name: /Couriers' desk/ });
    fireEvent.change(node, { target: { value: "n1" } });
    fireEvent.click(within(form).getByRole("radio", { name: "Headset" }));
    fireEvent.click(within(form).getByRole("button", { name: "Make the group" }));
    expect((await screen.findByRole("alert")).textContent).toBe("This node already has a group of this name.");
    const [url, init] = sent(fetch, "POST");
    expect(url).toBe("/v1/lines/groups");
    expect(JSON.parse(init.body as string)).toEqual({ node_id: "n1", name: "Couriers", icon: "headset", colour: "blue" });
  });

  it("offers no changes to one who may not label lines, its words in the user's language", async () => {
    await signInHolding(["lines:read"]);
    serve([COURIERS]);
    show("fa");
    const [couriers] = await screen.findAllByTestId("group");
    expect(within(couriers!).queryByRole("button")).toBeNull();
    expect(screen.queryByRole("form")).toBeNull();
    await waitFor(() => expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("گروه‌های کارکنان"));
  });
});
