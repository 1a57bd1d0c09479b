import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider, type Language } from "../i18n";
import { Router } from "../router";
import { Finances } from "./Finances";

const rub = (amount: number) => ({ amount, currency: "RUB", exponent: 2, formatted: "" });
const node = (id: string, name: string, kind: string, depth: number) => ({
  id,
  name,
  kind,
  depth,
  parent_id: null,
  path: id,
  account_number: kind === "personal_account" ? `41000000${id}` : null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});
const figures = {
  currency: "RUB",
  personal_accounts: 2,
  postings_count: 3,
  opening_balance: rub(0),
  charges: rub(-1500),
  payments: rub(200_000_00),
  transfers_in: rub(0),
  transfers_out: rub(0),
  other_credits: rub(0),
  other_debits: rub(0),
  closing_balance: rub(199_998_500),
};
const balance = (id: string, amount: number) => ({
  personal_account_id: id,
  currency: "RUB",
  balance: rub(amount),
  available: rub(amount),
  reserved: rub(0),
  credit_limit: rub(0),
  floor: rub(0),
  settlement_method: "prepaid",
  scheduled_change: null,
  bill_email: null,
  updated_at: null,
});

function answer(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

const asked: string[] = [];

beforeEach(() => {
  resetSessionForTests();
  asked.length = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string) => {
      const url = new URL(input, "http://console.test");
      asked.push(`${url.pathname}${url.search}`);
      if (url.pathname === "/v1/nodes" && url.searchParams.getAll("kind").includes("company"))
        return answer({ items: [node("c", "Demo Logistics LLC", "company", 0)], next_cursor: null });
      if (url.pathname === "/v1/nodes")
        return answer({
          items: [node("11", "Drivers", "personal_account", 3), node("12", "Couriers", "personal_account", 3)],
          next_cursor: null,
        });
      if (url.pathname === "/v1/nodes/c/finances")
        return answer({
          node_id: "c",
          period: "2026-12",
          open: true,
          period_start: null,
          period_end: null,
          totals: [figures],
        });
      if (url.pathname === "/v1/personal-accounts/11/balance") return answer(balance("11", 100_000_000));
      if (url.pathname === "/v1/personal-accounts/12/balance") return answer(balance("12", 99_998_500));
      return new Response("{}", { status: 404 });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function show(language: Language) {
  render(
    <I18nProvider language={language}>
      <Router>
        <Finances />
      </Router>
    </I18nProvider>,
  );
}

describe("the finances page", () => {
  it("shows the company's month and each personal account's balance, linked to its page", async () => {
    show("en");
    const accounts = await screen.findByTestId("personal-accounts");
    const drivers = (await within(accounts).findByRole("link", { name: "Drivers" })).closest("tr")!;
    expect(drivers.querySelector("a")!.getAttribute("href")).toBe("/finances/accounts/11");
    expect(await within(drivers).findByText("₽1,000,000.00")).toBeTruthy();
    expect(await within(accounts).findByText("₽999,985.00")).toBeTruthy();
    expect(await screen.findByRole("row", { name: "Charges -₽15.00" })).toBeTruthy();
    // The accounts are those under the chosen node; the month is asked for explicitly.
    expect(asked).toContain("/v1/nodes?view=flat&sort=path&kind=personal_account&root_id=c&limit=200");
    expect(asked.some((path) => /^\/v1\/nodes\/c\/finances\?period=\d{4}-\d{2}$/.test(path))).toBe(true);
  });

  it("writes the money in Russian and Persian figures", async () => {
    show("ru");
    expect((await screen.findAllByText(/^1\s000\s000,00\s₽$/)).length).toBe(1);
    cleanup();
    show("fa");
    expect((await screen.findAllByText(/۱٬۰۰۰٬۰۰۰٫۰۰/)).length).toBe(1);
  });
});
