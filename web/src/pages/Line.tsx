import { useEffect, useState } from "react";
import { api, mayAny, type Line as LineData, type Location, type Puk } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { GroupBadge, useGroupsById } from "../groups";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { en } from "../i18n/en";
import { OperationForm } from "../OperationForm";
import { typesFor, type OperationType } from "../operations";
import { Link } from "../router";
import { LineUsage } from "./LineUsage";

/** A name the catalogue knows in ``prefix`` (a service, a block type...) in the user's language, else as it is. */
function Named({ prefix, name }: { prefix: string; name: string }) {
  const { t } = useI18n();
  const key = `${prefix}${name}`;
  return key in en ? <>{t(key as MessageKey)}</> : <span translate="no">{name}</span>;
}

/** The line's actions, the likeliest first: unblock for a blocked line, activate for a ready one, else block;
 * a new SIM and a new number among them (operations of this one line). */
function actionsFor(line: LineData): OperationType[] {
  const first: OperationType = line.state === "blocked" ? "unblock" : line.state === "ready" ? "activate" : "block";
  return typesFor({ kind: "lines", msisdns: [line.msisdn] }, first);
}

/**
 * The names of the line's node and personal account (both nodes of the hierarchy): one request for each id,
 * once per line, both at once and one when they are the same node. A name that cannot be read (the node is
 * outside the user's scope, or gone) is left out: the page then shows the id.
 */
function useNodeNames(line: LineData | null): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const ids = line ? [...new Set([line.node_id, line.personal_account_id].filter(Boolean))] : [];
  const key = ids.join(" ");
  useEffect(() => {
    let live = true;
    setNames({});
    for (const id of key ? key.split(" ") : [])
      api.node(id).then(
        (node) => live && setNames((before) => ({ ...before, [id]: node.name })),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [key]);
  return names;
}

/** A node by its name when known (else its id), linking to ``to``; plain text without ``to``. */
function NodeName({ id, name, to, testId }: { id: string; name?: string; to?: string; testId: string }) {
  const text = <bdi translate="no">{name ?? id}</bdi>;
  return to ? (
    <Link to={to} data-testid={testId}>
      {text}
    </Link>
  ) : (
    <span data-testid={testId}>{text}</span>
  );
}

/** One line: state, SIM, tariff, where it hangs, labels, services, APNs, forwarding and blocks; its PUK codes
 * behind a recorded reveal, where its handset is, and the operations it can be given. */
export function Line({ msisdn }: { msisdn: string }) {
  const { t, formatDateTime, language } = useI18n();
  const [line, setLine] = useState<LineData | null>(null);
  const groups = useGroupsById(Boolean(line?.group_id));
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
  const nodeNames = useNodeNames(line);
  const names = (prefix: string, items: string[]) =>
    items.length
      ? items.map((item, i) => (
          <span key={item}>
            {i > 0 && (language === "fa" ? "، " : ", ")}
            <Named prefix={prefix} name={item} />
          </span>
        ))
      : t("line.none");
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
          <dd>
            <NodeName
              id={line.node_id}
              name={nodeNames[line.node_id]}
              to={`/lines?node_id=${encodeURIComponent(line.node_id)}`}
              testId="line-node"
            />
          </dd>
          <dt>{t("line.account")}</dt>
          <dd>
            <NodeName
              id={line.personal_account_id}
              name={nodeNames[line.personal_account_id]}
              to={
                mayAny("billing:read", "billing:pay")
                  ? `/finances/accounts/${encodeURIComponent(line.personal_account_id)}`
                  : undefined
              }
              testId="line-account"
            />
          </dd>
          <dt>{t("line.labels")}</dt>
          <dd data-testid="line-labels">
            {line.labels.length
              ? line.labels.map((label) => (
                  <Link key={label} className="label-tag" to={`/lines?label=${encodeURIComponent(label)}`} translate="no">
                    {label}
                  </Link>
                ))
              : t("line.none")}
          </dd>
          <dt>{t("line.group")}</dt>
          <dd data-testid="line-group">
            {line.group ? (
              <Link className="group-link" to={`/lines?group=${encodeURIComponent(line.group)}`}>
                <GroupBadge name={line.group} group={line.group_id ? groups.get(line.group_id) : undefined} />
              </Link>
            ) : (
              t("line.none")
            )}
          </dd>
          <dt>{t("line.services")}</dt>
          <dd data-testid="line-services">{names("ops.service.", line.services)}</dd>
          <dt>{t("line.blocks")}</dt>
          <dd data-testid="line-blocks">
            {line.blocks.length
              ? line.blocks.map((block) => (
                  <div key={block.type}>
                    <Named prefix="ops.value." name={block.type} />
                    {block.since && ` (${t("line.since", { when: formatDateTime(block.since) })})`}
                  </div>
                ))
              : t("line.none")}
          </dd>
          <dt>{t("line.apns")}</dt>
          <dd>
            {line.apns.length
              ? line.apns.map((apn) => (
                  <div key={apn.name} dir="ltr" translate="no">
                    {[apn.name, apn.pdp_type, apn.static_ip].filter(Boolean).join(" · ")}
                  </div>
                ))
              : t("line.none")}
          </dd>
          <dt>{t("line.forwarding")}</dt>
          <dd>
            {line.forwarding.length
              ? line.forwarding.map((rule) => (
                  <div key={rule.condition}>
                    <Message
                      id="line.forwardTo"
                      values={{
                        condition: <Named prefix="ops.value." name={rule.condition} />,
                        target: (
                          <bdi dir="ltr" translate="no">
                            {rule.target}
                          </bdi>
                        ),
                      }}
                    />
                  </div>
                ))
              : t("line.none")}
          </dd>
          {line.created_at && (
            <>
              <dt>{t("line.created")}</dt>
              <dd>{formatDateTime(line.created_at)}</dd>
            </>
          )}
        </dl>
      )}
      {line && <LineUsage msisdn={msisdn} />}
      {line?.pending_operation_id && (
        <p className="notice">
          <Link to={`/operations/${encodeURIComponent(line.pending_operation_id)}`}>{t("line.pending")}</Link>
        </p>
      )}
      {line && <PukCodes msisdn={msisdn} />}
      {line && <HandsetLocation msisdn={msisdn} />}
      {line && line.state !== "terminated" && (
        <OperationForm target={{ kind: "lines", msisdns: [line.msisdn] }} types={actionsFor(line)} title="line.actions" />
      )}
    </main>
  );
}

/** The SIM's PUK codes, only on an explicit reveal, which the action history records (the button says so). */
function PukCodes({ msisdn }: { msisdn: string }) {
  const { t } = useI18n();
  const [puk, setPuk] = useState<Puk | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setPuk(null);
    setError(null);
  }, [msisdn]);
  const reveal = async () => {
    setBusy(true);
    setError(null);
    try {
      setPuk(await api.puk(msisdn));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="puk-title" className="panel">
      <h2 id="puk-title">{t("line.puk")}</h2>
      {puk ? (
        <dl className="facts">
          <dt>{t("line.puk1")}</dt>
          <dd dir="ltr" translate="no" data-testid="puk1">
            {puk.puk1}
          </dd>
          <dt>{t("line.puk2")}</dt>
          <dd dir="ltr" translate="no" data-testid="puk2">
            {puk.puk2}
          </dd>
        </dl>
      ) : (
        <>
          <p id="puk-recorded">{t("line.pukRecorded")}</p>
          <button type="button" aria-describedby="puk-recorded" onClick={() => void reveal()} disabled={busy}>
            {t("line.pukReveal")}
          </button>
        </>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}

/** Where the handset is: the cell it is attached to, asked for on a click (each read is recorded too). */
function HandsetLocation({ msisdn }: { msisdn: string }) {
  const { t, formatNumber, formatDateTime } = useI18n();
  const [where, setWhere] = useState<Location | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setWhere(null);
    setError(null);
  }, [msisdn]);
  const locate = async () => {
    setBusy(true);
    setError(null);
    try {
      setWhere(await api.location(msisdn));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const degrees = (value: number) => formatNumber(Math.round(value * 1e5) / 1e5);
  return (
    <section aria-labelledby="location-title" className="panel">
      <h2 id="location-title">{t("line.location")}</h2>
      {where && (
        <dl className="facts" data-testid="location">
          <dt>{t("line.coordinates")}</dt>
          <dd>{t("line.coordinatesText", { lat: degrees(where.latitude), lon: degrees(where.longitude) })}</dd>
          <dt>{t("line.accuracy")}</dt>
          <dd>{t("line.metres", { count: formatNumber(where.accuracy_m) })}</dd>
          <dt>{t("line.cell")}</dt>
          <dd dir="ltr" translate="no">
            {where.cell_id}
          </dd>
          {where.observed_at && (
            <>
              <dt>{t("line.observed")}</dt>
              <dd>{formatDateTime(where.observed_at)}</dd>
            </>
          )}
        </dl>
      )}
      <p id="location-recorded">{t("line.locationRecorded")}</p>
      <button type="button" aria-describedby="location-recorded" onClick={() => void locate()} disabled={busy}>
        {where ? t("line.locateAgain") : t("line.locate")}
      </button>
      <ErrorMessage error={error} />
    </section>
  );
}
