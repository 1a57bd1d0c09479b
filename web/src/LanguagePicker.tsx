import { LANGUAGE_NAMES, LANGUAGES, isLanguage, useI18n } from "./i18n";

/** The console's language (the header's picker and my settings' are one choice). */
export function LanguagePicker({ testId = "language" }: { testId?: string }) {
  const { language, setLanguage, t } = useI18n();
  return (
    <label className="language">
      <span>{t("language.label")}</span>
      <select
        value={language}
        onChange={(event) => isLanguage(event.target.value) && setLanguage(event.target.value)}
        data-testid={testId}
      >
        {LANGUAGES.map((code) => (
          // Each language is named in itself: not translated.
          <option key={code} value={code} lang={code} translate="no">
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </label>
  );
}
