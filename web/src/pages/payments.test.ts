import { describe, expect, it } from "vitest";
import { NO_FILTERS, paymentsQuery } from "./payments";

describe("the payments list's filters", () => {
  it("asks for nothing without filters", () => {
    expect(paymentsQuery(NO_FILTERS, 2)).toEqual({ query: {} });
  });

  it("takes whole days in UTC, the last one included, a kind, a state and exact minor units", () => {
    expect(
      paymentsQuery(
        { from: "2026-11-30", to: "2026-12-31", kind: "card", state: "credited", min: "10.5", max: "1 000,01" },
        2,
      ),
    ).toEqual({
      query: {
        created_from: "2026-11-30T00:00:00.000Z",
        created_before: "2027-01-01T00:00:00.000Z",
        kind: ["card"],
        state: ["credited"],
        amount_min: 1050,
        amount_max: 100001,
      },
    });
    // Rials have no minor digits: Persian digits read as they are.
    expect(paymentsQuery({ ...NO_FILTERS, min: "۵۰۰۰۰" }, 0)).toEqual({ query: { amount_min: 50000 } });
  });

  it("names what cannot be asked instead of asking", () => {
    expect(paymentsQuery({ ...NO_FILTERS, min: "ten", max: "0.001" }, 2)).toEqual({ invalid: ["min", "max"] });
    expect(paymentsQuery({ ...NO_FILTERS, min: "20", max: "10" }, 2)).toEqual({ invalid: ["max"] });
    expect(paymentsQuery({ ...NO_FILTERS, from: "2026-12-02", to: "2026-12-01" }, 2)).toEqual({ invalid: ["to"] });
  });
});
