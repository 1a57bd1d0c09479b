import { useCallback, useEffect, useState } from "react";
import { api, type Line, type Operation } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { Link } from "../router";
import { SMALL_CUSTOMER_LINES } from "../smallCustomer";

// Kept apart, in the shell that asks it on signing in, so that this page's own code loads only when shown.
export { isSmallCustomer, SMALL_CUSTOMER_LINES } from "../smallCustomer";

const FINISHED: ReadonlySet<Operation["state"]> = new Set(["completed", "completed_with_errors", "failed", "cancelled"]);

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Every line of a small customer with its state and the main action (block or unblock, voluntary), as one
 * list that reads well on a phone. An action is an operation of one line: the list is read again once it ends.
 */
export function SimpleLines({ heading = "h1", pollMs = 1000 }: { heading?: "h1" | "h2"; pollMs?: number }) {
  const { t } = useI18n();
  const [lines, setLines] = useState<Line[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<{ msisdn: string; text: "simple.working" | "simple.done" | "simple.failed" }>();

  const load = useCallback(async () => {
    try {
      setLines((await api.lines({ limit: SMALL_CUSTOMER_LINES })).items);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => void load(), [load]);

  const act = async (line: Line, block: boolean) => {
    setError(null);
    setStatus({ msisdn: line.msisdn, text: "simple.working" });
    try {
      let operation = await api.setBlocked(line.msisdn, block);
      while (!FINISHED.has(operation.state)) {
        await pause(pollMs);
        operation = await api.operation(operation.id);
      }
      setStatus({ msisdn: line.msisdn, text: operation.state === "completed" ? "simple.done" : "simple.failed" });
    } catch (caught) {
      setStatus(undefined);
      setError(caught);
    }
    await load();
  };

  const Heading = heading;
  return (
    <section aria-labelledby="simple-lines-title" className="simple">
      <Heading id="simple-lines-title">{t("simple.title")}</Heading>
      <ErrorMessage error={error} />
      <p role="status" className="count">
        {status ? (
          <>
            <bdi translate="no" dir="ltr">
              {status.msisdn}
            </bdi>{" "}
            {t(status.text)}
          </>
        ) : lines === null ? (
          t("common.loading")
        ) : lines.length === 0 ? (
          t("lines.none")
        ) : null}
      </p>
      {lines !== null && lines.length > 0 && (
        <ul className="simple-lines">
          {lines.map((line) => {
            const voluntary = line.blocks.some((b) => b.type === "voluntary");
            const busy = Boolean(line.pending_operation_id) || status?.text === "simple.working";
            return (
              <li key={line.id} className="simple-line">
                <Link to={`/lines/${encodeURIComponent(line.msisdn)}`} dir="ltr" translate="no" className="number">
                  {line.msisdn}
                </Link>
                <span className={`state state-${line.state}`}>{t(`state.${line.state}`)}</span>
                <span className="tariff" translate="no">
                  {line.tariff}
                </span>
                {line.state === "active" && (
                  <button type="button" disabled={busy} onClick={() => void act(line, true)}>
                    {t("simple.block")}
                    <span className="visually-hidden" translate="no">
                      {" "}
                      {line.msisdn}
                    </span>
                  </button>
                )}
                {line.state === "blocked" && voluntary && (
                  <button type="button" disabled={busy} onClick={() => void act(line, false)}>
                    {t("simple.unblock")}
                    <span className="visually-hidden" translate="no">
                      {" "}
                      {line.msisdn}
                    </span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
