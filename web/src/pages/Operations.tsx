import { api } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { ended } from "../operations";
import { Link } from "../router";
import { usePages } from "../useLoad";

/** The operations in the user's scope, newest first, a page at a time. */
export function Operations() {
  const { t, formatNumber, formatDateTime } = useI18n();
  const {
    items: operations,
    cursor,
    loading,
    error,
    more,
  } = usePages((from) => api.operations({ limit: 50, cursor: from }), "operations");

  return (
    <main id="main">
      <h1>{t("ops.title")}</h1>
      <ErrorMessage error={error} />
      {operations === null && !error && <p>{t("common.loading")}</p>}
      {operations?.length === 0 && <p>{t("ops.none")}</p>}
      {operations && operations.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("ops.colType")}</th>
              <th scope="col">{t("ops.colState")}</th>
              <th scope="col">{t("ops.colLines")}</th>
              <th scope="col">{t("ops.colCreated")}</th>
            </tr>
          </thead>
          <tbody>
            {operations.map((operation) => (
              <tr key={operation.id}>
                <td>
                  <Link to={`/operations/${encodeURIComponent(operation.id)}`}>
                    {t(`ops.type.${operation.type}` as MessageKey)}
                  </Link>
                </td>
                <td className={`op-state op-${operation.state}`}>{t(`ops.state.${operation.state}` as MessageKey)}</td>
                <td>
                  {t("ops.progressText", {
                    done: formatNumber(ended(operation.counts)),
                    total: formatNumber(operation.counts.total),
                  })}
                </td>
                <td>{operation.created_at ? formatDateTime(operation.created_at) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="link" disabled={loading} onClick={more}>
          {loading ? t("common.loading") : t("ops.more")}
        </button>
      )}
    </main>
  );
}
