// The payments list's filters (BI-1) as a person types them, and the query GET .../payments takes for them.
import type { PaymentsQuery } from "../api/client";
import { parseAmount } from "../money";

export const PAYMENT_KINDS = ["card", "automatic"] as const;
export const PAYMENT_STATES = ["pending", "credited", "declined", "failed"] as const;

export interface PaymentFilters {
  /** The first and the last day shown, "YYYY-MM-DD" (days in UTC, as the ledger keeps them); "" for any. */
  from: string;
  to: string;
  kind: "" | (typeof PAYMENT_KINDS)[number];
  state: "" | (typeof PAYMENT_STATES)[number];
  /** Amounts as typed, in the account's currency; "" for no bound. */
  min: string;
  max: string;
}

export const NO_FILTERS: PaymentFilters = { from: "", to: "", kind: "", state: "", min: "", max: "" };

/** The day after "YYYY-MM-DD", as the start of it in UTC (the API's created_before is exclusive). */
function dayAfter(day: string): string {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

/**
 * The query for these filters, amounts in minor units of ``exponent``; the fields that cannot be read are
 * named instead (an amount that is not one, a lowest above the highest, a last day before the first).
 */
export function paymentsQuery(
  filters: PaymentFilters,
  exponent: number,
): { query: PaymentsQuery } | { invalid: ("min" | "max" | "to")[] } {
  const query: PaymentsQuery = {};
  const invalid: ("min" | "max" | "to")[] = [];
  if (filters.from) query.created_from = new Date(`${filters.from}T00:00:00Z`).toISOString();
  if (filters.to) {
    if (filters.from && filters.to < filters.from) invalid.push("to");
    query.created_before = dayAfter(filters.to);
  }
  if (filters.kind) query.kind = [filters.kind];
  if (filters.state) query.state = [filters.state];
  for (const bound of ["min", "max"] as const) {
    if (!filters[bound].trim()) continue;
    const minor = parseAmount(filters[bound], exponent);
    if (minor === null) invalid.push(bound);
    else if (bound === "min") query.amount_min = minor;
    else query.amount_max = minor;
  }
  const { amount_min: lowest, amount_max: highest } = query;
  if (typeof lowest === "number" && typeof highest === "number" && lowest > highest) invalid.push("max");
  return invalid.length ? { invalid } : { query };
}
