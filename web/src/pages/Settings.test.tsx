import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, heldPermissions, resetSessionForTests } from "../api/client";
import { adminSections } from "../App";
import { I18nProvider } from "../i18n";
import type { components } from "../api/schema";
import { en } from "../i18n/en";
import { fa } from "../i18n/fa";
import { ru } from "../i18n/ru";
import { PreferencesForm } from "./Settings";

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** An access token as identity signs it: only its payload matters to the console. */
function token(claims: unknown): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "EdDSA" })}.${part(claims)}.c2lnbmF0dXJl`;
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("my notification preferences", () => {
  it("sends each kind with exactly the channels ticked, and the notices' language", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(
        answer(200, { kinds: { operation_failed: ["sms"], sign_in: ["sms", "email"] }, language: "en", saved: false }),
      )
      .mockResolvedValueOnce(
        answer(200, { kinds: { operation_failed: ["sms", "email"], sign_in: ["email"] }, language: "fa", saved: true }),
      );
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <PreferencesForm />
      </I18nProvider>,
    );
    expect(await screen.findByText("You have not saved your choices yet: the defaults apply.")).toBeTruthy();
    fireEvent.click(screen.getByRole("checkbox", { name: "An operation failed: Email" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "A sign-in to my account: SMS" }));
    fireEvent.change(screen.getByLabelText("Language of the notices"), { target: { value: "fa" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("Saved.")).toBeTruthy();
    const [url, init] = fetch.mock.calls[1]!;
    expect([url, init.method]).toEqual(["/v1/me/notification-preferences", "PUT"]);
    expect(JSON.parse(init.body)).toEqual({
      kinds: { operation_failed: ["sms", "email"], sign_in: ["email"] },
      language: "fa",
    });
    expect(screen.queryByText("You have not saved your choices yet: the defaults apply.")).toBeNull();
  });
});

describe("the sections a user's token opens", () => {
  it("reads the permissions of every grant in the access token", async () => {
    expect([...heldPermissions()]).toEqual([]);
    const access = token({
      sub: "u1",
      grants: [
        { node: "n1", role: "viewer", perms: ["lines:read", "users:read"] },
        { node: "n2", role: "r1", perms: ["audit:read"] },
      ],
    });
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(
        answer(200, { access_token: access, refresh_token: null, token_type: "Bearer", expires_in: 600 }),
      ),
    );
    await api.signInWithPassword("+79990000001", "secret");
    await waitFor(() => expect([...heldPermissions()].sort()).toEqual(["audit:read", "lines:read", "users:read"]));
    expect(adminSections(heldPermissions()).map(([path]) => path)).toEqual(["/users", "/history", "/me/settings"]);
  });

  it("opens roles to whoever manages users or roles, and only settings to a user with no such permission", () => {
    expect(adminSections(new Set(["users:manage", "roles:manage"])).map(([path]) => path)).toEqual([
      "/users",
      "/roles",
      "/me/settings",
    ]);
    expect(adminSections(new Set(["lines:read"])).map(([path]) => path)).toEqual(["/me/settings"]);
  });
});

/** Every kind of notice the API names (its OpenAPI schema); a kind added there fails the build until it is here. */
const KINDS: Record<components["schemas"]["NoticeResponse"]["kind"], true> = {
  operation_finished: true,
  operation_failed: true,
  tariff_changed: true,
  limit_reached: true,
  balance_low: true,
  payment_received: true,

  ticket_reply: true,
  ticket_state_changed: true,
  sign_in: true,
};

describe("notice kinds", () => {
  it("has a label for every kind the API names, in every language", () => {
    for (const catalogue of [en, ru, fa]) {
      for (const kind of Object.keys(KINDS)) {
        expect(catalogue, kind).toHaveProperty([`settings.kind.${kind}`]);
      }
    }
  });
});
