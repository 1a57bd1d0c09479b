import { useEffect, useState } from "react";
import { api, type SignInsPage } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";

export function SignIns() {
  const { t, formatDateTime } = useI18n();
  const [page, setPage] = useState<SignInsPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.mySignIns().then(setPage, setError);
  }, []);
  return (
    <main id="main">
      <h1>{t("signIns.title")}</h1>
      <ErrorMessage error={error} />
      {!page && !error && <p>{t("common.loading")}</p>}
      {page && page.items.length === 0 && <p>{t("signIns.none")}</p>}
      {page && page.items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("signIns.when")}</th>
              <th scope="col">{t("signIns.method")}</th>
              <th scope="col">{t("signIns.result")}</th>
              <th scope="col">{t("signIns.address")}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((item) => (
              <tr key={item.id}>
                <td>{formatDateTime(item.occurred_at)}</td>
                <td>{t(`method.${item.method}`)}</td>
                <td>{t(`result.${item.result}`)}</td>
                <td dir="ltr" translate="no">
                  {item.client_address}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
