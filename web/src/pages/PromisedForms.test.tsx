import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider, type Language } from "../i18n";
import { GroupPromisedForm, type HeldCurrency } from "./PromisedForms";

const RUB: HeldCurrency = { currency: "RUB", exponent: 2 };
const IRR: HeldCurrency = { currency: "IRR", exponent: 0 };
const NAMES = new Map([
  ["pa1", "Drivers"],
  ["pa2", "Tehran office"],
]);

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status < 300 ? "application/json" : "application/problem+json" },
  });
}

function promised(id: string, account: string, amount: number, currency: string, exponent: number) {
  return {
    id,
    personal_account_id: account,
    amount: { amount, currency, exponent, formatted: "" },
    status: "open",
    taken_by: "u1",
    taken_at: "2026-12-07T10:00:00Z",
    due_at: "2026-12-14T10:00:00Z",
    repaid_at: null,
    repaid_by: null,
  };
}

function show(currencies: HeldCurrency[], language: Language = "en") {
  render(
    <I18nProvider language={language}>
      <GroupPromisedForm nodeId="c" currencies={currencies} names={NAMES} />
    </I18nProvider>,
  );
}

function sent(fetch: ReturnType<typeof vi.fn>) {
  const [url, init] = fetch.mock.calls.at(-1) as unknown as [string, RequestInit];
  return { url, method: init.method, body: JSON.parse(init.body as string) as unknown };
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("GroupPromisedForm", () => {
  it("asks one amount per currency held and sends each in its own minor units", async () => {
    const fetch = vi.fn(async () =>
      json(200, {
        taken: [promised("pp:1", "pa1", 150_050, "RUB", 2), promised("pp:2", "pa2", 5_000_000, "IRR", 0)],
        refused: [],
      }),
    );
    vi.stubGlobal("fetch", fetch);
    show([IRR, RUB]);
    expect(screen.getByText(/each takes the amount given for its own currency/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "1 500,50" } });
    fireEvent.change(screen.getByLabelText("Amount, IRR"), { target: { value: "5000000" } });
    fireEvent.click(screen.getByRole("button", { name: "Take promised payments" }));

    const result = await screen.findByTestId("group-promised-result");
    expect(sent(fetch)).toEqual({
      url: "/v1/nodes/c/promised-payments",
      method: "POST",
      body: { amounts: { IRR: 5_000_000, RUB: 150_050 } },
    });
    const taken = within(result).getByRole("list", { name: "Taken" });
    expect(within(taken).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Drivers: ₽1,500.50 until 14 Dec 2026",
      "Tehran office: IRR\u00a05,000,000 until 14 Dec 2026",
    ]);
    expect(within(result).getByText("Taken on 2 personal accounts, refused on 0.")).toBeTruthy();
    // Both fields are emptied for the next one.
    expect((screen.getByLabelText("Amount, RUB") as HTMLInputElement).value).toBe("");
    expect((screen.getByLabelText("Amount, IRR") as HTMLInputElement).value).toBe("");
  });

  it("keeps the single amount where the accounts hold one currency", async () => {
    const fetch = vi.fn(async () =>
      json(200, {
        taken: [],
        refused: [{ personal_account_id: "pa1", reason: "PROMISED_PAYMENT_OPEN", message: "open" }],
      }),
    );
    vi.stubGlobal("fetch", fetch);
    show([RUB]);
    expect(screen.queryByText(/its own currency/)).toBeNull();
    fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "20" } });
    fireEvent.click(screen.getByRole("button", { name: "Take promised payments" }));
    const refused = await screen.findByRole("list", { name: "Refused" });
    expect(sent(fetch).body).toEqual({ amount: 2_000 });
    expect(within(refused).getByRole("listitem").textContent).toBe(
      "Drivers: The account already has a promised payment. Repay it first.",
    );
  });

  it("marks each amount it cannot read and sends nothing until all are read", async () => {
    const fetch = vi.fn(async () => json(200, { taken: [], refused: [] }));
    vi.stubGlobal("fetch", fetch);
    show([IRR, RUB]);
    fireEvent.change(screen.getByLabelText("Amount, RUB"), { target: { value: "10" } });
    // A rial has no minor digits: a fraction cannot be read.
    fireEvent.change(screen.getByLabelText("Amount, IRR"), { target: { value: "12.5" } });
    fireEvent.click(screen.getByRole("button", { name: "Take promised payments" }));
    expect(screen.getByLabelText("Amount, IRR").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("Amount, RUB").getAttribute("aria-invalid")).toBeNull();
    expect(screen.getAllByRole("alert").map((a) => a.textContent)).toHaveLength(1);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("reads Persian digits per currency and says in Persian when an amount per currency is needed", async () => {
    const fetch = vi.fn(async () =>
      json(422, {
        type: "https://simfleet.dev/problems/amount-per-currency",
        title: "Unprocessable Content",
        status: 422,
        detail: "the personal accounts under the node hold EUR, IRR, RUB: give an amount for each currency (amounts)",
        reason: "AMOUNT_PER_CURRENCY",
        errors: [{ field: "amounts", message: "an amount for each of EUR, IRR, RUB" }],
      }),
    );
    vi.stubGlobal("fetch", fetch);
    show([IRR, RUB], "fa");
    const fields = screen.getAllByRole("textbox");
    expect(fields).toHaveLength(2);
    fireEvent.change(fields[0]!, { target: { value: "۵۰۰۰" } });
    fireEvent.change(fields[1]!, { target: { value: "۱۲٫۵" } });
    fireEvent.click(screen.getByRole("button"));
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
    expect(sent(fetch).body).toEqual({ amounts: { IRR: 5_000, RUB: 1_250 } });
    expect((await screen.findByRole("alert")).textContent).toBe("حساب‌ها چند ارز دارند: برای هر کدام مبلغی بدهید.");
  });
});
