import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../router";
import { Line } from "./Line";

const MSISDN = "+79990000001";

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** An access token as identity signs it: only its payload matters to the console. */
function token(claims: unknown): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "EdDSA" })}.${part(claims)}.c2lnbmF0dXJl`;
}

function line(node_id: string, personal_account_id: string) {
  return {
    id: "l1",
    msisdn: MSISDN,
    state: "active",
    tariff: "CORP-S",
    sim: { iccid: "89701000000001", imsi: "250010000000001", state: "active" },
    labels: [],
    services: [],
    apns: [],
    blocks: [],
    forwarding: [],
    group: null,
    node_id,
    personal_account_id,
    pending_operation_id: null,
    created_at: null,
    updated_at: null,
  };
}

const NODES: Record<string, string> = { n1: "Couriers", pa1: "Couriers' account" };

function serve(node: string, account: string) {
  const fetch = vi.fn(async (url: string) => {
    if (url === `/v1/lines/${encodeURIComponent(MSISDN)}`) return answer(200, line(node, account));
    const id = url.startsWith("/v1/nodes/") ? decodeURIComponent(url.slice("/v1/nodes/".length)) : "";
    if (id in NODES) return answer(200, { id, name: NODES[id], kind: "department" });
    // Anything else (a node out of reach, the line's usage) is not found.
    return new Response(JSON.stringify({ status: 404, reason: "NOT_FOUND", title: "Not Found" }), {
      status: 404,
      headers: { "Content-Type": "application/problem+json" },
    });
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

function show() {
  render(
    <I18nProvider language="en">
      <Router>
        <Line msisdn={MSISDN} />
      </Router>
    </I18nProvider>,
  );
}

const nodeAsks = (fetch: ReturnType<typeof serve>) =>
  fetch.mock.calls.map(([url]) => url).filter((url) => url.startsWith("/v1/nodes/"));

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("a line's node and personal account", () => {
  it("are shown by name, the node linking to its lines, one request for each", async () => {
    const fetch = serve("n1", "pa1");
    show();
    await waitFor(() => expect(screen.getByTestId("line-node").textContent).toBe("Couriers"));
    await waitFor(() => expect(screen.getByTestId("line-account").textContent).toBe("Couriers' account"));
    expect(screen.getByTestId("line-node").getAttribute("href")).toBe("/lines?node_id=n1");
    // Without billing:read or billing:pay there is no account page to go to: the name alone.
    expect(screen.getByTestId("line-account").tagName).toBe("SPAN");
    expect(nodeAsks(fetch).sort()).toEqual(["/v1/nodes/n1", "/v1/nodes/pa1"]);
  });

  it("is asked for once when the line hangs under its personal account", async () => {
    const fetch = serve("pa1", "pa1");
    show();
    await waitFor(() => expect(screen.getByTestId("line-node").textContent).toBe("Couriers' account"));
    expect(screen.getByTestId("line-account").textContent).toBe("Couriers' account");
    expect(nodeAsks(fetch)).toEqual(["/v1/nodes/pa1"]);
  });

  it("link the account to its page for whoever may see finances, and show an id whose name cannot be read", async () => {
    const access = token({ sub: "u1", grants: [{ node: "root", role: "r1", perms: ["lines:read", "billing:read"] }] });
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(answer(200, { access_token: access, refresh_token: null, token_type: "Bearer", expires_in: 600 })),
    );
    await api.signInWithPassword("+79990000001", "secret");
    const fetch = serve("gone", "pa1");
    show();
    await waitFor(() => expect(screen.getByTestId("line-account").textContent).toBe("Couriers' account"));
    expect(screen.getByTestId("line-account").getAttribute("href")).toBe("/finances/accounts/pa1");
    await waitFor(() => expect(nodeAsks(fetch).sort()).toEqual(["/v1/nodes/gone", "/v1/nodes/pa1"]));
    expect(screen.getByTestId("line-node").textContent).toBe("gone");
  });
});
