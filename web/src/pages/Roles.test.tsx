import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests, type Permission } from "../api/client";
import { I18nProvider } from "../i18n";
import { RoleEditor } from "./RoleEditor";
import { Roles } from "./Roles";

const CATALOGUE: Permission[] = [
  { name: "lines:read", description: "See lines" },
  { name: "lines:block", description: "Block and unblock lines" },
  { name: "users:read", description: "See users and their grants" },
  { name: "users:manage", description: "Create, change and disable users" },
  { name: "audit:read", description: "See the action history" },
  { name: "future:thing", description: "Something newer than this console" },
];

function answer(status: number, body?: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the role editor", () => {
  it("sends the permissions of the boxes ticked, a whole category by its own box, in the catalogue's order", async () => {
    const onSave = vi.fn().mockResolvedValue(undefined);
    render(
      <I18nProvider language="en">
        <RoleEditor permissions={CATALOGUE} onSave={onSave} onCancel={() => undefined} />
      </I18nProvider>,
    );
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "  Auditor  " } });
    // One group per category, each named in the user's language; a permission the console does not know
    // keeps the API's description.
    const users = screen.getByRole("group", { name: "Users" });
    fireEvent.click(within(users).getByRole("checkbox", { name: "Users" }));
    expect(within(users).getByRole("checkbox", { name: "See users and their grants" })).toHaveProperty("checked", true);
    fireEvent.click(within(users).getByRole("checkbox", { name: /Create, change and disable users/ }));
    fireEvent.click(screen.getByRole("checkbox", { name: "See the action history" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Block and unblock lines" }));
    // Half a category: its box is neither on nor off.
    const lines = screen.getByRole("group", { name: "Lines" });
    expect(within(lines).getByRole("checkbox", { name: "Lines" })).toHaveProperty("indeterminate", true);
    expect(screen.getByText("Something newer than this console").getAttribute("translate")).toBe("no");

    fireEvent.click(screen.getByRole("button", { name: "Save the role" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledOnce());
    expect(onSave.mock.calls[0]![0]).toEqual({
      name: "Auditor",
      description: "",
      permissions: ["lines:block", "users:read", "audit:read"],
    });
  });

  it("takes a whole category off again, and refuses a role with no permission without asking the API", async () => {
    const onSave = vi.fn().mockResolvedValue(undefined);
    render(
      <I18nProvider language="en">
        <RoleEditor
          permissions={CATALOGUE}
          role={{
            id: "r1",
            name: "Blockers",
            description: "",
            permissions: ["lines:read", "lines:block"],
            predefined: false,
            created_at: null,
            updated_at: null,
          }}
          onSave={onSave}
          onCancel={() => undefined}
        />
      </I18nProvider>,
    );
    const lines = screen.getByRole("group", { name: "Lines" });
    const all = within(lines).getByRole("checkbox", { name: "Lines" });
    expect(all).toHaveProperty("checked", true);
    fireEvent.click(all);
    fireEvent.click(screen.getByRole("button", { name: "Save the role" }));
    expect(await screen.findByText("Choose at least one permission.")).toBeTruthy();
    expect(onSave).not.toHaveBeenCalled();
  });
});

describe("the roles page", () => {
  it("creates a custom role by POST /v1/roles; predefined roles have nothing to edit", async () => {
    const viewer = {
      id: "viewer",
      name: "Viewer",
      description: "Sees lines.",
      permissions: ["lines:read"],
      predefined: true,
      created_at: null,
      updated_at: null,
    };
    const created = { ...viewer, id: "r9", name: "Auditors", permissions: ["audit:read"], predefined: false };
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url.startsWith("/v1/permissions")) return answer(200, { items: CATALOGUE });
      if (url.startsWith("/v1/roles") && init.method === "POST") return answer(201, created);
      const posted = fetch.mock.calls.some(([, i]) => i.method === "POST");
      return answer(200, { items: posted ? [viewer, created] : [viewer], next_cursor: null });
    });
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <Roles canManage />
      </I18nProvider>,
    );
    const [row] = await screen.findAllByTestId("role-row");
    expect(within(row!).getByText("Viewer")).toBeTruthy();
    expect(within(row!).queryByRole("button")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "New role" }));
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Auditors" } });
    fireEvent.click(screen.getByRole("checkbox", { name: "See the action history" }));
    fireEvent.click(screen.getByRole("button", { name: "Save the role" }));

    await waitFor(() => expect(screen.getAllByTestId("role-row")).toHaveLength(2));
    const [, init] = fetch.mock.calls.find(([, i]) => i.method === "POST")!;
    expect(JSON.parse(String(init.body))).toEqual({ name: "Auditors", description: "", permissions: ["audit:read"] });
    expect(screen.queryByRole("button", { name: "Save the role" })).toBeNull();
  });

  it("shows the API's refusal as its translated message", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        if (url.startsWith("/v1/permissions")) return answer(200, { items: CATALOGUE });
        if (init.method === "POST") return answer(403, { reason: "ROLE_EXCEEDS_YOURS", detail: "no" });
        return answer(200, { items: [], next_cursor: null });
      }),
    );
    render(
      <I18nProvider language="ru">
        <Roles canManage />
      </I18nProvider>,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Новая роль" }));
    fireEvent.change(screen.getByLabelText("Название"), { target: { value: "Все" } });
    fireEvent.click(screen.getByRole("checkbox", { name: "Видеть историю действий" }));
    fireEvent.click(screen.getByRole("button", { name: "Сохранить роль" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Роль не может содержать разрешения, которых нет у вас.");
  });
});
