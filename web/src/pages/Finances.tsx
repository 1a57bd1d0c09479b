import { useState } from "react";
import { api, mayAny, type Balance, type Node, type PeriodFigures } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { Link } from "../router";
import { useLoad } from "../useLoad";
import { GroupPromisedForm } from "./PromisedForms";

const HOLDERS = ["company", "general_account", "business_account"] as const;

/** The current month, "YYYY-MM" (UTC, as the ledger's periods). */
export function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

/** The personal accounts at or under a node, with their names (the transfer form's choices, the finances list). */
export async function personalAccounts(root?: string): Promise<Node[]> {
  const items: Node[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.nodes({ kind: ["personal_account"], root_id: root, limit: 200, cursor });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < 1000);
  return items;
}

const FIGURES: [keyof PeriodFigures, MessageKey][] = [
  ["opening_balance", "finances.opening"],
  ["charges", "finances.charges"],
  ["payments", "finances.payments"],
  ["transfers_in", "finances.transfersIn"],
  ["transfers_out", "finances.transfersOut"],
  ["other_credits", "finances.otherCredits"],
  ["other_debits", "finances.otherDebits"],
  ["closing_balance", "finances.closing"],
];

/** A period's money, one column per currency (AC-2, BI-1). */
export function FiguresTable({ caption, figures }: { caption: string; figures: PeriodFigures[] }) {
  const { t, formatMoney } = useI18n();
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("finances.figure")}</th>
          {figures.map((f) => (
            <th scope="col" key={f.currency} translate="no">
              {f.currency}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {FIGURES.map(([name, label]) => (
          <tr key={name}>
            <th scope="row">{t(label)}</th>
            {figures.map((f) => {
              const money = f[name];
              return (
                <td key={f.currency} className="money" dir="ltr">
                  {typeof money === "object" ? formatMoney(money) : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Finances: a node's money for a month and its personal accounts with their balances. */
export function Finances() {
  const { t, formatNumber, formatMonth } = useI18n();
  const holders = useLoad(() => api.nodes({ kind: [...HOLDERS], limit: 200 }).then((p) => p.items), "holders");
  const [chosen, setChosen] = useState("");
  const [period, setPeriod] = useState(thisMonth);
  const node = chosen || holders.data?.[0]?.id || "";
  const finances = useLoad(() => (node ? api.nodeFinances(node, period) : Promise.resolve(null)), `${node}|${period}`);
  // A user granted only personal accounts has no node above them to choose: their accounts are listed alone.
  const accounts = useLoad(async () => {
    if (!holders.data) return null;
    const nodes = await personalAccounts(node || undefined);
    const balances = await Promise.all(nodes.map((n) => api.balance(n.id).catch(() => null)));
    return nodes.map((n, i) => ({ node: n, balance: balances[i] ?? null }));
  }, `${node}|${holders.data ? "ready" : ""}`);

  return (
    <main id="main">
      <h1>{t("finances.title")}</h1>
      <ErrorMessage error={holders.error ?? finances.error ?? accounts.error} />
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        {node && (
          <label>
            {t("finances.node")}
            <select value={node} onChange={(e) => setChosen(e.target.value)}>
              {(holders.data ?? []).map((n) => (
                <option key={n.id} value={n.id} translate="no">
                  {"\u00a0".repeat(n.depth * 2)}
                  {n.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t("finances.period")}
          <input
            type="month"
            value={period}
            max={thisMonth()}
            onChange={(e) => e.target.value && setPeriod(e.target.value)}
          />
        </label>
      </form>
      {finances.data && (
        <FiguresTable
          caption={t("finances.totals", { period: formatMonth(finances.data.period) })}
          figures={finances.data.totals}
        />
      )}
      {node && mayAny("billing:pay") && finances.data && finances.data.totals.length > 0 && accounts.data && (
        // One amount field per currency the node's personal accounts hold (the totals have one per currency).
        <GroupPromisedForm
          key={`${node}|${finances.data.totals.map((f) => f.currency).join(",")}`}
          nodeId={node}
          currencies={finances.data.totals.map((f) => ({
            currency: f.currency,
            exponent: f.closing_balance.exponent,
          }))}
          names={new Map(accounts.data.map(({ node: n }) => [n.id, n.name]))}
        />
      )}
      <h2>{t("finances.accounts")}</h2>
      {!accounts.data && !accounts.error && <p>{t("common.loading")}</p>}
      {accounts.data && accounts.data.length === 0 && <p>{t("finances.noAccounts")}</p>}
      {accounts.data && accounts.data.length > 0 && (
        <table className="table" data-testid="personal-accounts">
          <caption className="visually-hidden">{t("finances.accounts")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("finances.account")}</th>
              <th scope="col">{t("finances.number")}</th>
              <th scope="col">{t("finances.method")}</th>
              <th scope="col">{t("finances.balance")}</th>
            </tr>
          </thead>
          <tbody>
            {accounts.data.map(({ node: n, balance }) => (
              <AccountRow key={n.id} node={n} balance={balance} />
            ))}
          </tbody>
        </table>
      )}
      {accounts.data && (
        <p className="count">{t("finances.accountsCount", { count: formatNumber(accounts.data.length) })}</p>
      )}
    </main>
  );
}

function AccountRow({ node, balance }: { node: Node; balance: Balance | null }) {
  const { t, formatMoney } = useI18n();
  return (
    <tr>
      <td>
        <Link to={`/finances/accounts/${encodeURIComponent(node.id)}`} translate="no">
          {node.name}
        </Link>
      </td>
      <td dir="ltr" translate="no">
        {node.account_number ?? ""}
      </td>
      <td>{balance ? t(`account.method.${balance.settlement_method}`) : t("finances.noLedger")}</td>
      <td className="money" dir="ltr" data-testid="balance">
        {balance ? formatMoney(balance.balance) : ""}
      </td>
    </tr>
  );
}
