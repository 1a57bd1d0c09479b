import { useEffect, useState } from "react";
import { api, type Line as LineData } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { Link } from "../router";
import { LineUsage } from "./LineUsage";

/** One line, read only for now: state, SIM, tariff, where it hangs, labels, services and blocks. */
export function Line({ msisdn }: { msisdn: string }) {
  const { t, formatDateTime } = useI18n();
  const [line, setLine] = useState<LineData | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setLine(null);
    setError(null);
    api.line(msisdn).then(
      (answer) => live && setLine(answer),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, [msisdn]);
  const list = (items: string[]) =>
    items.length ? <span translate="no">{items.join(", ")}</span> : t("line.none");
  return (
    <main id="main">
      <p>
        <Link to="/lines">{t("common.back")}</Link>
      </p>
      <h1>
        <Message id="line.title" values={{ msisdn: <bdi dir="ltr" translate="no">{msisdn}</bdi> }} />
      </h1>
      <ErrorMessage error={error} />
      {!line && !error && <p>{t("common.loading")}</p>}
      {line && (
        <dl className="facts">
          <dt>{t("line.state")}</dt>
          <dd className={`state state-${line.state}`}>{t(`state.${line.state}`)}</dd>
          <dt>{t("line.iccid")}</dt>
          <dd dir="ltr" translate="no">{line.sim?.iccid ?? t("line.none")}</dd>
          <dt>{t("line.imsi")}</dt>
          <dd dir="ltr" translate="no">{line.sim?.imsi ?? t("line.none")}</dd>
          <dt>{t("line.tariff")}</dt>
          <dd translate="no">{line.tariff}</dd>
          <dt>{t("line.node")}</dt>
          <dd translate="no">{line.node_id}</dd>
          <dt>{t("line.account")}</dt>
          <dd translate="no">{line.personal_account_id}</dd>
          <dt>{t("line.labels")}</dt>
          <dd>{list(line.labels)}</dd>
          <dt>{t("line.services")}</dt>
          <dd>{list(line.services)}</dd>
          <dt>{t("line.blocks")}</dt>
          <dd>{list(line.blocks.map((block) => block.type))}</dd>
          {line.created_at && (
            <>
              <dt>{t("line.created")}</dt>
              <dd>{formatDateTime(line.created_at)}</dd>
            </>
          )}
        </dl>
      )}
      {line && <LineUsage msisdn={msisdn} />}
    </main>
  );
}
