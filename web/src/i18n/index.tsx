import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Money } from "../api/client";
import { formatMoney } from "../money";
import { en, type Catalogue, type MessageKey } from "./en";
import { fa } from "./fa";
import { ru } from "./ru";

export const LANGUAGES = ["en", "ru", "fa"] as const;
export type Language = (typeof LANGUAGES)[number];
export const CATALOGUES: Record<Language, Catalogue> = { en, ru, fa };
/** Each language's name in itself, for the picker. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: "English", ru: "Русский", fa: "فارسی" };
const RIGHT_TO_LEFT: ReadonlySet<Language> = new Set(["fa"]);
/** The chosen language is remembered here (only the language: no token is ever stored). */
export const LANGUAGE_STORAGE_KEY = "simfleet.language";

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

export function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = window.localStorage.getItem(LANGUAGE_STORAGE_KEY);
  } catch {
    // Storage may be off; the browser's language then decides.
  }
  if (isLanguage(stored)) return stored;
  const browser = (navigator.language || "en").slice(0, 2);
  return isLanguage(browser) ? browser : "en";
}

export function direction(language: Language): "rtl" | "ltr" {
  return RIGHT_TO_LEFT.has(language) ? "rtl" : "ltr";
}

export function translate(language: Language, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = CATALOGUES[language][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The message of an API error reason, or the generic one for a reason the console has no text for. */
export function reasonKey(reason: string): MessageKey {
  const key = `errors.${reason}`;
  return key in en ? (key as MessageKey) : "errors.generic";
}

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  formatNumber: (value: number) => string;
  formatDateTime: (iso: string) => string;
  /** An amount of the API (minor units, currency, exponent) in the language's locale. */
  formatMoney: (money: Pick<Money, "amount" | "currency" | "exponent">) => string;
  formatDate: (iso: string) => string;
  /** A month "YYYY-MM" written in the language's calendar. */
  formatMonth: (period: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

export const LOCALES: Record<Language, string> = { en: "en-GB", ru: "ru-RU", fa: "fa-IR" };

export function I18nProvider({ children, language: fixed }: { children: ReactNode; language?: Language }) {
  const [language, setLanguageState] = useState<Language>(() => fixed ?? initialLanguage());
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      window.localStorage.setItem(LANGUAGE_STORAGE_KEY, next);
    } catch {
      // Not remembered then; still switched.
    }
  }, []);
  useEffect(() => {
    const root = document.documentElement;
    root.lang = language;
    root.dir = direction(language);
    document.title = translate(language, "app.title");
  }, [language]);
  const value = useMemo<I18n>(() => {
    const numbers = new Intl.NumberFormat(LOCALES[language]);
    const dates = new Intl.DateTimeFormat(LOCALES[language], { dateStyle: "medium", timeStyle: "short" });
    const days = new Intl.DateTimeFormat(LOCALES[language], { dateStyle: "medium" });
    const months = new Intl.DateTimeFormat(LOCALES[language], { year: "numeric", month: "long", timeZone: "UTC" });
    return {
      language,
      setLanguage,
      t: (key, vars) => translate(language, key, vars),
      formatNumber: (n) => numbers.format(n),
      formatDateTime: (iso) => dates.format(new Date(iso)),
      formatMoney: (money) => formatMoney(money, LOCALES[language]),
      formatDate: (iso) => days.format(new Date(iso)),
      formatMonth: (period) => months.format(new Date(`${period}-15T00:00:00Z`)),
    };
  }, [language, setLanguage]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error("useI18n outside I18nProvider");
  return value;
}

/** A message with elements in its {placeholders} (a name, a number: user data, kept out of translation). */
export function Message({ id, values }: { id: MessageKey; values: Record<string, ReactNode> }) {
  const { t } = useI18n();
  const parts = t(id).split(/\{(\w+)\}/);
  return (
    <>
      {parts.map((part, i) => (i % 2 === 1 ? <span key={i}>{values[part] ?? `{${part}}`}</span> : part))}
    </>
  );
}
