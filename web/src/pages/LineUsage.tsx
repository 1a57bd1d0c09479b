import { useState } from "react";
import { api, mayAny } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { useLoad } from "../useLoad";
import { LinePromisedForm } from "./PromisedForms";

/** A line's usage this period (SIM-1), its data packages and the promised payment on its account, if any. */
export function LineUsage({ msisdn }: { msisdn: string }) {
  return mayAny("billing:read") ? <Usage msisdn={msisdn} /> : null;
}

function Usage({ msisdn }: { msisdn: string }) {
  const { t, formatMoney, formatNumber, formatDate, formatMonth } = useI18n();
  const usage = useLoad(() => api.lineUsage(msisdn), msisdn);
  const account = usage.data?.personal_account_id ?? "";
  const [round, setRound] = useState(0);
  const promised = useLoad(
    () => (account ? api.promisedPayments(account) : Promise.resolve(null)),
    `${account}|${round}`,
  );
  const open = promised.data?.items.find((p) => p.status === "open");
  const u = usage.data;
  const amount = (n: number, unit: string) =>
    unit === "byte" ? t("money.megabytes", { n: formatNumber(Math.round(n / 1024 ** 2)) }) : formatNumber(n);
  return (
    <section aria-labelledby="usage-title" className="line-usage">
      <h2 id="usage-title">{u ? t("usage.usageTitle", { period: formatMonth(u.period) }) : t("usage.usage")}</h2>
      <ErrorMessage error={usage.error} />
      {u && (
        <>
          <dl className="facts">
            <dt>{t("usage.charged")}</dt>
            <dd className="money" dir="ltr" data-testid="line-charged">
              {formatMoney(u.charged)}
            </dd>
            {u.account && (
              <>
                <dt>{t("finances.balance")}</dt>
                <dd className="money" dir="ltr">
                  {formatMoney(u.account.balance)}
                </dd>
              </>
            )}
            <dt>{t("usage.promised")}</dt>
            <dd data-testid="line-promised">
              {open
                ? t("usage.promisedOpen", { amount: formatMoney(open.amount), due: open.due_at ? formatDate(open.due_at) : "" })
                : t("usage.noPromised")}
            </dd>
          </dl>
          {u.account && promised.data && !open && mayAny("billing:pay") && (
            <LinePromisedForm
              msisdn={msisdn}
              currency={u.account.balance.currency}
              exponent={u.account.balance.exponent}
              onTaken={() => setRound((n) => n + 1)}
            />
          )}
          {u.allowances.length > 0 && (
            <table className="table">
              <caption>{t("usage.allowances")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("usage.kind")}</th>
                  <th scope="col">{t("usage.used")}</th>
                  <th scope="col">{t("usage.remaining")}</th>
                </tr>
              </thead>
              <tbody>
                {u.allowances.map((a) => (
                  <tr key={a.kind}>
                    <th scope="row">{t(`usage.kind.${a.kind}`)}</th>
                    <td>{amount(a.used, a.unit)}</td>
                    <td>{amount(a.remaining, a.unit)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {(u.packages ?? []).length > 0 && (
            <table className="table">
              <caption>{t("usage.packages")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("packages.offer")}</th>
                  <th scope="col">{t("usage.remaining")}</th>
                  <th scope="col">{t("usage.expires")}</th>
                </tr>
              </thead>
              <tbody>
                {(u.packages ?? []).map((p) => (
                  <tr key={p.package_id}>
                    <td translate="no">{p.offer_code}</td>
                    <td>{amount(p.remaining, "byte")}</td>
                    <td>{p.expires_at ? formatDate(p.expires_at) : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
