import { describe, expect, it } from "vitest";
import { decimalString, formatMoney, parseAmount } from "./money";

// Intl separates some parts by no-break or narrow no-break spaces and marks direction in Persian.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ").replace(/[\u200e\u200f]/g, "");

describe("money", () => {
  it("writes minor units as a decimal exactly, whatever the exponent", () => {
    expect(decimalString(12345678, 2)).toBe("123456.78");
    expect(decimalString(5, 2)).toBe("0.05");
    expect(decimalString(-5, 2)).toBe("-0.05");
    expect(decimalString(1250, 0)).toBe("1250");
    expect(decimalString(1500, 3)).toBe("1.500");
    // Beyond a double's integers it would round; the ledger's largest leg (10^15) stays exact.
    expect(decimalString(999_999_999_999_999, 2)).toBe("9999999999999.99");
  });

  it("formats roubles with kopecks in English, Russian and Persian", () => {
    const rub = { amount: 12345678, currency: "RUB", exponent: 2 };
    expect(plain(formatMoney(rub, "en-GB"))).toBe("₽123,456.78");
    expect(plain(formatMoney(rub, "ru-RU"))).toBe("123 456,78 ₽");
    expect(plain(formatMoney(rub, "fa-IR"))).toBe("₽۱۲۳٬۴۵۶٫۷۸");
    expect(plain(formatMoney({ ...rub, amount: -5 }, "ru-RU"))).toBe("-0,05 ₽");
  });

  it("formats rials with no minor unit in English, Russian and Persian", () => {
    const irr = { amount: 1250, currency: "IRR", exponent: 0 };
    expect(plain(formatMoney(irr, "en-GB"))).toBe("IRR 1,250");
    expect(plain(formatMoney(irr, "ru-RU"))).toBe("1 250 IRR");
    const persian = plain(formatMoney(irr, "fa-IR"));
    expect(persian).toContain("ریال");
    expect(persian).toContain("۱٬۲۵۰");
    expect(persian).not.toMatch(/[A-Za-z0-9]/);
    expect(persian).not.toMatch(/[٫.]/); // no decimal part at all
  });

  it("formats the largest amounts without rounding", () => {
    const big = { amount: 999_999_999_999_999, currency: "RUB", exponent: 2 };
    expect(plain(formatMoney(big, "en-GB"))).toBe("₽9,999,999,999,999.99");
  });

  it("reads typed amounts into minor units, in any of the console's digits and separators", () => {
    expect(parseAmount("150", 2)).toBe(15000);
    expect(parseAmount("150.5", 2)).toBe(15050);
    expect(parseAmount("150,05", 2)).toBe(15005);
    expect(parseAmount(" 1 000,00 ", 2)).toBe(100000);
    expect(parseAmount("۱۵۰٫۵", 2)).toBe(15050);
    expect(parseAmount("۱٬۲۵۰", 0)).toBe(1250);
    expect(parseAmount("١٢", 0)).toBe(12);
  });

  it("refuses what is not a positive amount of the currency", () => {
    expect(parseAmount("", 2)).toBeNull();
    expect(parseAmount("0", 2)).toBeNull();
    expect(parseAmount("-5", 2)).toBeNull();
    expect(parseAmount("1.234", 2)).toBeNull();
    expect(parseAmount("12.5", 0)).toBeNull(); // rials have no minor unit
    expect(parseAmount("1e3", 2)).toBeNull();
    expect(parseAmount("1.000,5", 2)).toBeNull();
    expect(parseAmount("10000000000001", 2)).toBeNull(); // above 10^15 minor units
  });
});
