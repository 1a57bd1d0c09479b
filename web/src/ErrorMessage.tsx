import { ApiError, NetworkError } from "./api/client";
import { reasonKey, useI18n } from "./i18n";

/** An API error as a message in the user's language (by its problem's reason), announced to screen readers. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? t(reasonKey(error.reason))
      : error instanceof NetworkError
        ? t("errors.network")
        : t("errors.generic");
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}
