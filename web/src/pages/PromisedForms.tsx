import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, type Schemas } from "../api/client";
import { AmountField } from "../AmountField";
import { ErrorMessage } from "../ErrorMessage";
import { reasonKey, useI18n } from "../i18n";
import { parseAmount } from "../money";
import { useAction } from "../useLoad";

/** The amount typed, in minor units of ``exponent``; null (and the field marked) when it cannot be read. */
function useAmount(exponent: number) {
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState(false);
  const read = () => {
    const minor = parseAmount(text, exponent);
    setInvalid(minor === null);
    return minor;
  };
  return { text, setText, invalid, read };
}

/** A promised payment for one line (BI-9): taken on the personal account the line is billed to. */
export function LinePromisedForm({
  msisdn,
  currency,
  exponent,
  onTaken,
}: {
  msisdn: string;
  currency: string;
  exponent: number;
  onTaken: () => void;
}) {
  const { t } = useI18n();
  const amount = useAmount(exponent);
  const [key, setKey] = useState(newIdempotencyKey);
  const action = useAction();
  const take = (event: FormEvent) => {
    event.preventDefault();
    const minor = amount.read();
    if (minor === null) return;
    void action.run(async () => {
      await api.takeLinePromisedPayment(msisdn, minor, key);
      setKey(newIdempotencyKey());
      amount.setText("");
      onTaken();
    });
  };
  return (
    <form className="stack" onSubmit={take} aria-label={t("usage.promisedTake")}>
      <AmountField currency={currency} value={amount.text} invalid={amount.invalid} onChange={amount.setText} />
      <button type="submit" disabled={action.busy}>
        {t("usage.promisedTake")}
      </button>
      <ErrorMessage error={action.error} />
    </form>
  );
}

/**
 * A promised payment on every personal account at or under a node (BI-9 for a group): each account is decided
 * on its own, so the answer is shown as the accounts it was taken on and those refused with the reason why.
 */
export function GroupPromisedForm({
  nodeId,
  currency,
  exponent,
  names,
}: {
  nodeId: string;
  currency: string;
  exponent: number;
  names: ReadonlyMap<string, string>;
}) {
  const { t, formatMoney, formatDate, formatNumber } = useI18n();
  const amount = useAmount(exponent);
  const [key, setKey] = useState(newIdempotencyKey);
  const [result, setResult] = useState<Schemas["GroupPromisedPayments"] | null>(null);
  const action = useAction();
  const take = (event: FormEvent) => {
    event.preventDefault();
    const minor = amount.read();
    if (minor === null) return;
    void action.run(async () => {
      setResult(await api.takeGroupPromisedPayments(nodeId, minor, key));
      setKey(newIdempotencyKey());
      amount.setText("");
    });
  };
  const name = (id: string) => <bdi translate="no">{names.get(id) ?? id}</bdi>;
  return (
    <section aria-labelledby="group-promised-title">
      <h2 id="group-promised-title">{t("finances.groupPromised")}</h2>
      <p>{t("finances.groupPromisedRules")}</p>
      <form className="stack" onSubmit={take} aria-label={t("finances.groupPromisedTake")}>
        <AmountField currency={currency} value={amount.text} invalid={amount.invalid} onChange={amount.setText} />
        <button type="submit" disabled={action.busy}>
          {t("finances.groupPromisedTake")}
        </button>
      </form>
      <ErrorMessage error={action.error} />
      {result && (
        <div role="status" data-testid="group-promised-result">
          <p>
            {t("finances.groupPromisedDone", {
              taken: formatNumber(result.taken.length),
              refused: formatNumber(result.refused.length),
            })}
          </p>
          {result.taken.length > 0 && (
            <ul aria-label={t("finances.groupPromisedTaken")}>
              {result.taken.map((p) => (
                <li key={p.id}>
                  {name(p.personal_account_id)}
                  {": "}
                  {t("finances.groupPromisedDue", {
                    amount: formatMoney(p.amount),
                    due: p.due_at ? formatDate(p.due_at) : "",
                  })}
                </li>
              ))}
            </ul>
          )}
          {result.refused.length > 0 && (
            <ul aria-label={t("finances.groupPromisedRefused")}>
              {result.refused.map((r) => (
                <li key={r.personal_account_id}>
                  {name(r.personal_account_id)}
                  {": "}
                  {t(reasonKey(r.reason))}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
