import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests, type Balance } from "../api/client";
import { I18nProvider, type Language } from "../i18n";
import { TransferForm } from "./TransferForm";

function money(amount: number, currency = "RUB", exponent = 2) {
  return { amount, currency, exponent, formatted: "" };
}

function balance(id: string, amount: number): Balance {
  return {
    personal_account_id: id,
    currency: "RUB",
    balance: money(amount),
    available: money(amount),
    reserved: money(0),
    credit_limit: money(0),
    floor: money(0),
    settlement_method: "prepaid",
    scheduled_change: null,
    bill_email: null,
    updated_at: null,
  };
}

const ACCOUNTS = [
  { id: "pa1", name: "Drivers" },
  { id: "pa2", name: "Couriers" },
];

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status < 300 ? "application/json" : "application/problem+json" },
  });
}

function show(language: Language = "en", onDone = vi.fn()) {
  render(
    <I18nProvider language={language}>
      <TransferForm from={balance("pa1", 500_000)} accounts={ACCOUNTS} onDone={onDone} />
    </I18nProvider>,
  );
  return onDone;
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("TransferForm", () => {
  it("offers the other accounts only, and moves the typed amount in minor units under an Idempotency-Key", async () => {
    const fetch = vi.fn(async () =>
      json(201, {
        id: "t1",
        amount: money(150_050),
        description: "fuel",
        from: balance("pa1", 349_950),
        to: balance("pa2", 150_050),
        posted_at: null,
      }),
    );
    vi.stubGlobal("fetch", fetch);
    const onDone = show();
    const target = screen.getByLabelText("To the account") as HTMLSelectElement;
    expect([...target.options].map((o) => o.value)).toEqual(["", "pa2"]);
    fireEvent.change(target, { target: { value: "pa2" } });
    fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "1 500,50" } });
    fireEvent.change(screen.getByLabelText("Note (optional)"), { target: { value: "fuel" } });
    fireEvent.click(screen.getByRole("button", { name: "Move the money" }));

    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/v1/personal-accounts/pa1/transfers");
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({
      to_personal_account_id: "pa2",
      amount: 150_050,
      currency: "RUB",
      description: "fuel",
    });
    expect((init.headers as Record<string, string>)["Idempotency-Key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(screen.getByRole("status").textContent).toBe("Moved ₽1,500.50. The balance here is now ₽3,499.50.");
  });

  it("shows the ledger's refusal, retries under the same key, and takes a new key for the next transfer", async () => {
    const answers = [
      json(409, { reason: "INSUFFICIENT_FUNDS", detail: "below the floor", status: 409 }),
      json(201, {
        id: "t1",
        amount: money(100),
        description: "",
        from: balance("pa1", 499_900),
        to: balance("pa2", 100),
        posted_at: null,
      }),
      json(201, {
        id: "t2",
        amount: money(100),
        description: "",
        from: balance("pa1", 499_800),
        to: balance("pa2", 200),
        posted_at: null,
      }),
    ];
    const fetch = vi.fn(async () => answers.shift()!);
    vi.stubGlobal("fetch", fetch);
    const onDone = show();
    const key = (call: number) =>
      ((fetch.mock.calls[call] as unknown as [string, RequestInit])[1].headers as Record<string, string>)[
        "Idempotency-Key"
      ];
    const send = () => {
      fireEvent.change(screen.getByLabelText("To the account"), { target: { value: "pa2" } });
      fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "1" } });
      fireEvent.click(screen.getByRole("button", { name: "Move the money" }));
    };

    send();
    expect(await screen.findByText("There is not enough money on the account.")).toBeTruthy();
    expect(onDone).not.toHaveBeenCalled();
    send();
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    expect(key(1)).toBe(key(0));
    send();
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(2));
    expect(key(2)).not.toBe(key(1));
  });

  it("refuses an amount with more decimals than the currency has, and sends nothing", () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    show();
    fireEvent.change(screen.getByLabelText("To the account"), { target: { value: "pa2" } });
    fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "1.005" } });
    fireEvent.click(screen.getByRole("button", { name: "Move the money" }));
    expect(screen.getByRole("alert").textContent).toContain("no more decimals");
    expect(fetch).not.toHaveBeenCalled();
  });

  it("speaks Persian, Persian digits accepted", async () => {
    const fetch = vi.fn(async () =>
      json(201, { id: "t1", amount: money(1250), description: "", from: balance("pa1", 1), to: balance("pa2", 1), posted_at: null }),
    );
    vi.stubGlobal("fetch", fetch);
    show("fa");
    fireEvent.change(screen.getByLabelText("به حساب"), { target: { value: "pa2" } });
    fireEvent.change(screen.getByLabelText("مبلغ، RUB"), { target: { value: "۱۲٫۵" } });
    fireEvent.click(screen.getByRole("button", { name: "انتقال پول" }));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(JSON.parse(init.body as string).amount).toBe(1250);
  });
});
