import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, type Balance, type Transfer } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { parseAmount } from "../money";
import { AmountField } from "../AmountField";
import { useAction } from "../useLoad";

export interface AccountChoice {
  id: string;
  name: string;
}

/**
 * BI-11: move money from this personal account to another of the customer's. One Idempotency-Key per intended
 * transfer: a retry after a lost answer sends the same key and moves nothing more; a success starts a new one.
 */
export function TransferForm({
  from,
  accounts,
  onDone,
}: {
  from: Balance;
  accounts: AccountChoice[];
  onDone: (transfer: Transfer) => void;
}) {
  const { t, formatMoney } = useI18n();
  const targets = accounts.filter((a) => a.id !== from.personal_account_id);
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const [description, setDescription] = useState("");
  const [key, setKey] = useState(newIdempotencyKey);
  const [invalid, setInvalid] = useState(false);
  const [done, setDone] = useState<Transfer | null>(null);
  const { busy, error, run } = useAction();
  const exponent = from.balance.exponent;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const minor = parseAmount(amount, exponent);
    setInvalid(minor === null);
    if (minor === null || !to) return;
    void run(async () => {
      const transfer = await api.transfer(
        from.personal_account_id,
        { to_personal_account_id: to, amount: minor, currency: from.currency, description },
        key,
      );
      setKey(newIdempotencyKey());
      setAmount("");
      setDescription("");
      setDone(transfer);
      onDone(transfer);
    });
  };

  if (targets.length === 0) return <p>{t("account.transferNoTargets")}</p>;
  return (
    <form className="stack" onSubmit={submit} aria-label={t("account.transferTitle")}>
      <label>
        {t("account.transferTo")}
        <select required value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">{t("account.transferChoose")}</option>
          {targets.map((a) => (
            <option key={a.id} value={a.id} translate="no">
              {a.name}
            </option>
          ))}
        </select>
      </label>
      <AmountField currency={from.currency} value={amount} invalid={invalid} onChange={setAmount} />
      <label>
        {t("account.transferDescription")}
        <input value={description} maxLength={200} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        {t("account.transferSubmit")}
      </button>
      <ErrorMessage error={error} />
      {done && (
        <p role="status">
          {t("account.transferDone", { amount: formatMoney(done.amount), balance: formatMoney(done.from.balance) })}
        </p>
      )}
    </form>
  );
}
