// Money as the API sends it: an integer of minor units with its currency and exponent (RUB 2, IRR 0), never a
// float. It is written by Intl in the language's locale with exactly the currency's minor-unit digits, from a
// decimal string, so no amount is ever rounded through binary floating point.
import type { Money } from "./api/client";

/** The most one leg of a ledger entry carries (10^15 minor units): larger input is refused as it is typed. */
export const MAX_MINOR_UNITS = 1_000_000_000_000_000;

/** "123456" with exponent 2 → "1234.56"; "-5" with exponent 2 → "-0.05". */
export function decimalString(amount: number, exponent: number): string {
  const negative = amount < 0;
  const digits = String(Math.abs(Math.trunc(amount)));
  if (exponent <= 0) return `${negative ? "-" : ""}${digits}`;
  const padded = digits.padStart(exponent + 1, "0");
  const whole = padded.slice(0, padded.length - exponent);
  return `${negative ? "-" : ""}${whole}.${padded.slice(padded.length - exponent)}`;
}

export function formatMoney(money: Pick<Money, "amount" | "currency" | "exponent">, locale: string): string {
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: money.currency,
    // ₽ rather than RUB: the sign each language's readers know, and no Latin code in a Persian page.
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: money.exponent,
    maximumFractionDigits: money.exponent,
  });
  // Intl takes a decimal string exactly (ES2023); the cast only widens the older lib's signature.
  return (format.format as unknown as (value: string) => string)(decimalString(money.amount, money.exponent));
}

const DIGITS: Record<string, string> = {};
for (let i = 0; i < 10; i++) {
  DIGITS[String.fromCharCode(0x06f0 + i)] = String(i); // Persian
  DIGITS[String.fromCharCode(0x0660 + i)] = String(i); // Arabic-Indic
}

/**
 * What a person typed as an amount, in minor units: digits in any of the console's scripts, one decimal
 * separator ("." "," or the Persian "٫") with at most the currency's minor digits; spaces and the Persian
 * thousands separator are ignored. null when it is not a positive amount the ledger can carry.
 */
export function parseAmount(text: string, exponent: number): number | null {
  const plain = [...text.trim()]
    .map((c) => DIGITS[c] ?? c)
    .join("")
    .replace(/[\s\u00a0\u202f\u066c]/g, "")
    .replace("\u066b", ".");
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(plain);
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) return null;
  const minor = Number(match[1]! + fraction.padEnd(exponent, "0"));
  if (!Number.isSafeInteger(minor) || minor <= 0 || minor > MAX_MINOR_UNITS) return null;
  return minor;
}

