import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { en } from "./en";
import { CATALOGUES, I18nProvider, LANGUAGE_STORAGE_KEY, LANGUAGES, reasonKey, translate, useI18n } from "./index";

const LATIN = /[A-Za-z]/;
// Names that stay as they are in every language.
const NAMES = /SIMfleet|SIM|ICCID|IMSI|SMS|PUK|APN|\+?[0-9]+/g;

describe("the catalogues", () => {
  it("have every key of the English one, and no other", () => {
    for (const language of LANGUAGES) {
      expect(Object.keys(CATALOGUES[language]).sort()).toEqual(Object.keys(en).sort());
    }
  });

  it("leave no text empty, the same placeholders in each", () => {
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const language of LANGUAGES) {
      for (const [key, text] of Object.entries(CATALOGUES[language])) {
        expect(text.trim(), `${language} ${key}`).not.toBe("");
        expect(placeholders(text), `${language} ${key}`).toEqual(placeholders(en[key as keyof typeof en]));
      }
    }
  });

  it("Persian has no English words left", () => {
    for (const [key, text] of Object.entries(CATALOGUES.fa)) {
      expect(LATIN.test(text.replace(/\{\w+\}/g, "")), `fa ${key}: ${text}`).toBe(false);
    }
  });

  it("Russian has no English words but the names", () => {
    for (const [key, text] of Object.entries(CATALOGUES.ru)) {
      expect(LATIN.test(text.replace(/\{\w+\}/g, "").replace(NAMES, "")), `ru ${key}: ${text}`).toBe(false);
    }
  });

  it("fills placeholders", () => {
    expect(translate("ru", "lines.shown", { count: 5 })).toBe("Показано номеров: 5");
  });

  it("knows the API's reasons, and falls back for one it does not", () => {
    expect(translate("ru", reasonKey("OTP_INVALID"))).toBe("Неверный код.");
    expect(reasonKey("SOMETHING_NEW")).toBe("errors.generic");
  });
});

function Switcher() {
  const { t, setLanguage } = useI18n();
  return (
    <button type="button" onClick={() => setLanguage("fa")}>
      {t("nav.lines")}
    </button>
  );
}

describe("the chosen language", () => {
  afterEach(cleanup);
  beforeEach(() => {
    localStorage.clear();
    document.documentElement.removeAttribute("dir");
  });

  it("turns the page right to left for Persian, and is remembered", () => {
    render(
      <I18nProvider language="en">
        <Switcher />
      </I18nProvider>,
    );
    expect(document.documentElement.dir).toBe("ltr");
    expect(document.documentElement.lang).toBe("en");

    act(() => screen.getByRole("button").click());

    expect(screen.getByRole("button").textContent).toBe("خطوط");
    expect(document.documentElement.dir).toBe("rtl");
    expect(document.documentElement.lang).toBe("fa");
    expect(localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe("fa");
  });

  it("starts in the remembered language", () => {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, "ru");
    render(
      <I18nProvider>
        <Switcher />
      </I18nProvider>,
    );
    expect(screen.getByRole("button").textContent).toBe("Номера");
  });
});
