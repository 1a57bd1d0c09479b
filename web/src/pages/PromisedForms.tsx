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

/** A currency held under a node, with its minor-unit digits (RUB 2, IRR 0). */
export interface HeldCurrency {
  currency: string;
  exponent: number;
}

/** One amount typed per currency; ``read`` gives them in minor units, or null (and marks each unreadable one). */
function useAmounts(currencies: readonly HeldCurrency[]) {
  const [texts, setTexts] = useState<Readonly<Record<string, string>>>({});
  const [invalid, setInvalid] = useState<ReadonlySet<string>>(new Set());
  const read = () => {
    const minor: Record<string, number> = {};
    const unreadable = new Set<string>();
    for (const { currency, exponent } of currencies) {
      const value = parseAmount(texts[currency] ?? "", exponent);
      if (value === null) unreadable.add(currency);
      else minor[currency] = value;
    }
    setInvalid(unreadable);
    return unreadable.size ? null : minor;
  };
  const set = (currency: string, text: string) => setTexts((now) => ({ ...now, [currency]: text }));
  return { texts, set, invalid, read, clear: () => setTexts({}) };
}

/**
 * A promised payment on every personal account at or under a node (BI-9 for a group): each account is decided
 * on its own, so the answer is shown as the accounts it was taken on and those refused with the reason why. The
 * accounts may hold several currencies: one amount is typed for each, and each account takes its currency's.
 */
export function GroupPromisedForm({
  nodeId,
  currencies,
  names,
}: {
  nodeId: string;
  currencies: readonly HeldCurrency[];
  names: ReadonlyMap<string, string>;
}) {
  const { t, formatMoney, formatDate, formatNumber } = useI18n();
  const amounts = useAmounts(currencies);
  const [key, setKey] = useState(newIdempotencyKey);
  const [result, setResult] = useState<Schemas["GroupPromisedPayments"] | null>(null);
  const action = useAction();
  const take = (event: FormEvent) => {
    event.preventDefault();
    const minor = amounts.read();
    if (minor === null) return;
    // One currency keeps the single amount; several send one per currency, as the API asks.
    const only = currencies.length === 1 ? currencies[0]!.currency : null;
    const body = only ? { amount: minor[only]! } : { amounts: minor };
    void action.run(async () => {
      setResult(await api.takeGroupPromisedPayments(nodeId, body, key));
      setKey(newIdempotencyKey());
      amounts.clear();
    });
  };
  const name = (id: string) => <bdi translate="no">{names.get(id) ?? id}</bdi>;
  return (
    <section aria-labelledby="group-promised-title">
      <h2 id="group-promised-title">{t("finances.groupPromised")}</h2>
      <p>{t("finances.groupPromisedRules")}</p>
      {currencies.length > 1 && <p>{t("finances.groupPromisedPerCurrency")}</p>}
      <form className="stack" onSubmit={take} aria-label={t("finances.groupPromisedTake")}>
        {currencies.map(({ currency }) => (
          <AmountField
            key={currency}
            currency={currency}
            value={amounts.texts[currency] ?? ""}
            invalid={amounts.invalid.has(currency)}
            onChange={(text) => amounts.set(currency, text)}
          />
        ))}
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
