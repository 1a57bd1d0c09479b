import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, type Money, type SpendingLimit } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { decimalString, parseAmount } from "../money";
import { AmountField } from "../AmountField";
import { useAction, useLoad } from "../useLoad";
import { personalAccounts } from "./Finances";

type Scope = "line" | "node" | "company";
type Action = "warn" | "block";

/** The recipients typed in the form: phone numbers and email addresses separated by commas or spaces. */
export function recipientsFrom(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

/** The customer's currency, as its personal accounts hold it (a limit is set in it). */
async function customerCurrency(): Promise<Pick<Money, "currency" | "exponent"> | null> {
  const [first] = await personalAccounts();
  if (!first) return null;
  const balance = await api.balance(first.id);
  return { currency: balance.currency, exponent: balance.balance.exponent };
}

/** BI-10: spending limits of a line, a group or the company, each warning or blocking. */
export function Limits() {
  const { t, formatMoney } = useI18n();
  const limits = useLoad(() => api.spendingLimits(), "limits");
  const nodes = useLoad(() => api.nodes({ limit: 200 }).then((p) => p.items), "nodes");
  const currency = useLoad(customerCurrency, "currency");
  const [editing, setEditing] = useState<string | null>(null);
  const remove = useAction();
  const nodeName = (id: string) => nodes.data?.find((n) => n.id === id)?.name ?? id;
  return (
    <main id="main">
      <h1>{t("limits.title")}</h1>
      <ErrorMessage error={limits.error ?? nodes.error ?? currency.error ?? remove.error} />
      {limits.data && limits.data.items.length === 0 && <p>{t("limits.none")}</p>}
      {limits.data && limits.data.items.length > 0 && (
        <table className="table" data-testid="limits">
          <thead>
            <tr>
              <th scope="col">{t("limits.scope")}</th>
              <th scope="col">{t("limits.target")}</th>
              <th scope="col">{t("limits.amount")}</th>
              <th scope="col">{t("limits.spent")}</th>
              <th scope="col">{t("limits.action")}</th>
              <th scope="col">{t("limits.changes")}</th>
            </tr>
          </thead>
          <tbody>
            {limits.data.items.map((limit) => (
              <tr key={limit.id} className={limit.reached ? "reached" : undefined}>
                <td>{t(`limits.scope.${limit.scope}`)}</td>
                <td translate="no" dir={limit.msisdn ? "ltr" : undefined}>
                  {limit.msisdn ?? nodeName(limit.node_id)}
                </td>
                <td className="money" dir="ltr">
                  {formatMoney(limit.amount)}
                </td>
                <td className="money" dir="ltr">
                  {formatMoney(limit.spent)}
                  {limit.reached ? ` · ${t("limits.reached")}` : ""}
                </td>
                <td>{t(`limits.action.${limit.action}`)}</td>
                <td>
                  <button type="button" className="link" onClick={() => setEditing(editing === limit.id ? null : limit.id)}>
                    {t("limits.edit")}
                  </button>{" "}
                  <button
                    type="button" className="link"
                    disabled={remove.busy}
                    onClick={() => {
                      if (!window.confirm(t("limits.confirmDelete"))) return;
                      void remove.run(async () => {
                        await api.deleteSpendingLimit(limit.id);
                        limits.reload();
                      });
                    }}
                  >
                    {t("limits.delete")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && limits.data?.items.find((l) => l.id === editing) && (
        <LimitForm
          key={editing}
          limit={limits.data.items.find((l) => l.id === editing)!}
          currency={currency.data}
          nodes={nodes.data ?? []}
          onDone={() => {
            setEditing(null);
            limits.reload();
          }}
        />
      )}
      <LimitForm currency={currency.data} nodes={nodes.data ?? []} onDone={limits.reload} />
    </main>
  );
}

function LimitForm({
  limit,
  currency,
  nodes,
  onDone,
}: {
  limit?: SpendingLimit;
  currency: Pick<Money, "currency" | "exponent"> | null;
  nodes: { id: string; name: string; depth: number }[];
  onDone: () => void;
}) {
  const { t } = useI18n();
  const money = limit ? limit.amount : currency;
  const [scope, setScope] = useState<Scope>(limit?.scope ?? "line");
  const [msisdn, setMsisdn] = useState(limit?.msisdn ?? "");
  const [node, setNode] = useState(limit?.node_id ?? "");
  const [amount, setAmount] = useState(limit ? decimalString(limit.amount.amount, limit.amount.exponent) : "");
  const [action, setAction] = useState<Action>(limit?.action ?? "warn");
  const [notify, setNotify] = useState(limit?.notify.join(", ") ?? "");
  const [key, setKey] = useState(newIdempotencyKey);
  const [invalid, setInvalid] = useState(false);
  const [done, setDone] = useState(false);
  const save = useAction();
  const title = limit ? t("limits.editTitle") : t("limits.create");
  const id = limit ? `limit-edit-${limit.id}` : "limit-new";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!money) return;
    const minor = parseAmount(amount, money.exponent);
    setInvalid(minor === null);
    setDone(false);
    if (minor === null) return;
    const settings = { amount: minor, currency: money.currency, action, notify: recipientsFrom(notify), period: "month" as const };
    void save.run(async () => {
      if (limit) await api.changeSpendingLimit(limit.id, settings);
      else {
        await api.createSpendingLimit(
          scope === "line"
            ? { ...settings, scope, msisdn }
            : scope === "node"
              ? { ...settings, scope, node_id: node }
              : { ...settings, scope },
          key,
        );
        setKey(newIdempotencyKey());
        setAmount("");
        setMsisdn("");
      }
      setDone(true);
      onDone();
    });
  };

  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <form className="stack" onSubmit={submit} aria-labelledby={id}>
        {!limit && (
          <label>
            {t("limits.scope")}
            <select value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
              {(["line", "node", "company"] as const).map((s) => (
                <option key={s} value={s}>
                  {t(`limits.scope.${s}`)}
                </option>
              ))}
            </select>
          </label>
        )}
        {!limit && scope === "line" && (
          <label>
            {t("limits.line")}
            <input required dir="ltr" inputMode="tel" value={msisdn} onChange={(e) => setMsisdn(e.target.value.trim())} />
          </label>
        )}
        {!limit && scope === "node" && (
          <label>
            {t("limits.group")}
            <select required value={node} onChange={(e) => setNode(e.target.value)}>
              <option value="">{t("packages.choose")}</option>
              {nodes.map((n) => (
                <option key={n.id} value={n.id} translate="no">
                  {"\u00a0".repeat(n.depth * 2)}
                  {n.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <AmountField currency={money?.currency ?? ""} value={amount} invalid={invalid} onChange={setAmount} />
        <fieldset>
          <legend>{t("limits.action")}</legend>
          {(["warn", "block"] as const).map((a) => (
            <label key={a} className="inline">
              <input type="radio" name={`${id}-action`} value={a} checked={action === a} onChange={() => setAction(a)} />
              {t(`limits.action.${a}`)}
            </label>
          ))}
        </fieldset>
        <label>
          {t("limits.notify")}
          <input dir="ltr" value={notify} required={action === "warn"} onChange={(e) => setNotify(e.target.value)} />
        </label>
        <p className="hint">{t("limits.notifyHint")}</p>
        <button type="submit" disabled={save.busy || !money}>
          {limit ? t("common.save") : t("limits.createSubmit")}
        </button>
        <ErrorMessage error={save.error} />
        {done && <p role="status">{t("common.saved")}</p>}
      </form>
    </section>
  );
}
