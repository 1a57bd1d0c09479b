import { useEffect, useState } from "react";
import { api, followOperation, type Operation as OperationData } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { en } from "../i18n/en";
import { ended } from "../operations";
import { Link } from "../router";
import { usePages } from "../useLoad";

const OUTCOMES = ["succeeded", "failed", "skipped", "in_progress", "pending"] as const;
const ITEMS_PAGE = 25;
const ITEM_STATES = ["succeeded", "failed", "skipped"] as const;
type ItemFilter = (typeof ITEM_STATES)[number] | "";

function live(operation: OperationData): boolean {
  return operation.state === "scheduled" || operation.state === "running";
}

/** How far an operation has gone: a progress bar over its lines and the count of each outcome. */
export function OperationProgress({ operation }: { operation: OperationData }) {
  const { t, formatNumber } = useI18n();
  const done = ended(operation.counts);
  const total = operation.counts.total;
  const text = t("ops.progressText", { done: formatNumber(done), total: formatNumber(total) });
  return (
    <div className="progress-block">
      <div
        role="progressbar"
        aria-label={t("ops.progress")}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={text}
        className="progress"
      >
        <div className="progress-bar" style={{ inlineSize: `${total ? (100 * done) / total : 0}%` }} />
      </div>
      <p className="progress-text" data-testid="progress-text">
        {text}
      </p>
      <dl className="counts">
        {OUTCOMES.map((outcome) => (
          <div key={outcome} className={`count-${outcome}`}>
            <dt>{t(`ops.item.${outcome}` as MessageKey)}</dt>
            <dd data-testid={`count-${outcome}`}>{formatNumber(operation.counts[outcome])}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** One operation, followed live through its event stream, with its lines' results and a cancel. */
export function Operation({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const [operation, setOperation] = useState<OperationData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const [only, setOnly] = useState<ItemFilter>("");

  useEffect(() => {
    const stop = new AbortController();
    setOperation(null);
    setError(null);
    api.operation(id).then(
      (first) => {
        if (stop.signal.aborted) return;
        setOperation(first);
        if (live(first)) followOperation(id, setOperation, stop.signal).catch((caught: unknown) => setError(caught));
      },
      (caught: unknown) => setError(caught),
    );
    return () => stop.abort();
  }, [id]);

  const finished = operation !== null && !live(operation);
  // The lines' results: read once the operation has ended (then they no longer change).
  const results = usePages(
    (from) => api.operationItems(id, { limit: ITEMS_PAGE, cursor: from, state: only ? [only] : undefined }),
    `${id}|${only}`,
    finished,
  );
  const items = results.items ?? [];
  const cursor = results.cursor;

  const cancel = async () => {
    setCancelling(true);
    try {
      setOperation(await api.cancelOperation(id));
    } catch (caught) {
      setError(caught);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <main id="main">
      <p>
        <Link to="/operations">{t("ops.back")}</Link>
      </p>
      <h1>{operation ? t("ops.opTitle", { type: t(`ops.type.${operation.type}` as MessageKey) }) : t("ops.title")}</h1>
      <ErrorMessage error={error ?? results.error} />
      {!operation && !error && <p>{t("common.loading")}</p>}
      {operation && (
        <>
          <p className={`op-state op-${operation.state}`} aria-live="polite" data-testid="operation-state">
            {t(`ops.state.${operation.state}` as MessageKey)}
            {operation.cancel_requested && live(operation) ? ` (${t("ops.cancelRequested")})` : ""}
          </p>
          <OperationProgress operation={operation} />
          <dl className="facts">
            {Object.entries(operation.params).map(([name, value]) => (
              <ParamFact key={name} name={name} value={value} />
            ))}
            {operation.scheduled_at && (
              <>
                <dt>{t("ops.scheduledAt")}</dt>
                <dd>{formatDateTime(operation.scheduled_at)}</dd>
              </>
            )}
            {operation.created_at && (
              <>
                <dt>{t("ops.colCreated")}</dt>
                <dd>{formatDateTime(operation.created_at)}</dd>
              </>
            )}
            {operation.finished_at && (
              <>
                <dt>{t("ops.finishedAt")}</dt>
                <dd>{formatDateTime(operation.finished_at)}</dd>
              </>
            )}
          </dl>
          {live(operation) && !operation.cancel_requested && (
            <button type="button" onClick={() => void cancel()} disabled={cancelling}>
              {t("ops.cancel")}
            </button>
          )}
          {finished && (
            <section aria-labelledby="items-title">
              <h2 id="items-title">{t("ops.items")}</h2>
              <label className="inline">
                {t("ops.itemsOnly")}
                <select name="only" value={only} onChange={(e) => setOnly(e.target.value as ItemFilter)}>
                  <option value="">{t("ops.itemsAll")}</option>
                  {ITEM_STATES.map((state) => (
                    <option key={state} value={state}>
                      {t(`ops.item.${state}` as MessageKey)}
                    </option>
                  ))}
                </select>
              </label>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t("ops.colNumber")}</th>
                    <th scope="col">{t("ops.colResult")}</th>
                    <th scope="col">{t("ops.colCode")}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((item) => (
                    <tr key={item.id}>
                      <td>
                        <Link to={`/lines/${encodeURIComponent(item.msisdn)}`} dir="ltr" translate="no">
                          {item.msisdn}
                        </Link>
                      </td>
                      <td className={`item-${item.state}`}>{t(`ops.item.${item.state}` as MessageKey)}</td>
                      <td translate="no">{item.code ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {cursor && (
                <button type="button" className="link" onClick={results.more}>
                  {t("ops.more")}
                </button>
              )}
            </section>
          )}
        </>
      )}
    </main>
  );
}

function ParamFact({ name, value }: { name: string; value: string }) {
  const { t } = useI18n();
  const key = `ops.field.${name}` as MessageKey;
  const valueKey = `ops.value.${value}` as MessageKey;
  const known = (k: string) => k in en;
  return (
    <>
      <dt>{known(key) ? t(key) : <span translate="no">{name}</span>}</dt>
      <dd>
        {name === "group_id" ? (
          <GroupName id={value} />
        ) : known(valueKey) ? (
          t(valueKey)
        ) : (
          <span translate="no">{value}</span>
        )}
      </dd>
    </>
  );
}

/** `set_group`'s group by its name, read once; its id when it cannot be read (deleted, or out of the reader's scope). */
function GroupName({ id }: { id: string }) {
  const { t } = useI18n();
  const [shown, setShown] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    setShown(null);
    api.lineGroup(id).then(
      (group) => !gone && setShown(group.name),
      () => !gone && setShown(id),
    );
    return () => {
      gone = true;
    };
  }, [id]);
  return shown === null ? <>{t("common.loading")}</> : <bdi translate="no">{shown}</bdi>;
}
