import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, type Balance, type PaymentsQuery, type PostingsPage } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { parseAmount } from "../money";
import { Link } from "../router";
import { AmountField } from "../AmountField";
import { useAction, useLoad } from "../useLoad";
import { FiguresTable, personalAccounts, thisMonth } from "./Finances";
import { NO_FILTERS, PAYMENT_KINDS, PAYMENT_STATES, paymentsQuery, type PaymentFilters } from "./payments";
import { TransferForm } from "./TransferForm";

const METHODS = ["prepaid", "postpaid", "credit"] as const;

/** A personal account: balance, a month's statement, postings, payments, transfers, promised payments, settings. */
export function Account({ id }: { id: string }) {
  const { t, formatMoney } = useI18n();
  const accounts = useLoad(() => personalAccounts(), "all");
  const balance = useLoad(() => api.balance(id), id);
  const [round, setRound] = useState(0);
  const changed = () => {
    balance.reload();
    setRound((n) => n + 1);
  };
  const name = accounts.data?.find((a) => a.id === id)?.name ?? "";
  const b = balance.data;
  return (
    <main id="main" className="account">
      <p>
        <Link to="/finances">{t("common.back")}</Link>
      </p>
      <h1>
        <Message id="account.title" values={{ name: <bdi translate="no">{name}</bdi> }} />
      </h1>
      <ErrorMessage error={balance.error} />
      {b && (
        <dl className="facts" data-testid="account-balance">
          <dt>{t("account.balance")}</dt>
          <dd className="money" dir="ltr" data-testid="balance">
            {formatMoney(b.balance)}
          </dd>
          {b.available && (
            <>
              <dt>{t("account.available")}</dt>
              <dd className="money" dir="ltr">
                {formatMoney(b.available)}
              </dd>
            </>
          )}
          <dt>{t("account.reserved")}</dt>
          <dd className="money" dir="ltr">
            {formatMoney(b.reserved)}
          </dd>
          <dt>{t("account.methodLabel")}</dt>
          <dd>{t(`account.method.${b.settlement_method}`)}</dd>
          <dt>{t("account.creditLimit")}</dt>
          <dd className="money" dir="ltr">
            {formatMoney(b.credit_limit)}
          </dd>
        </dl>
      )}
      <StatementSection id={id} round={round} />
      {b && (
        <section aria-labelledby="transfer-title">
          <h2 id="transfer-title">{t("account.transferTitle")}</h2>
          <TransferForm
            from={b}
            accounts={(accounts.data ?? []).map((a) => ({ id: a.id, name: a.name }))}
            onDone={changed}
          />
        </section>
      )}
      {b && <PromisedSection balance={b} round={round} onChange={changed} />}
      {b && <PaymentsSection balance={b} round={round} onChange={changed} />}
      {b && <SettlementSection balance={b} onChange={changed} />}
      {b && <BillDeliverySection balance={b} onChange={changed} />}
      {b && <AutoPaymentSection balance={b} />}
      <PostingsSection id={id} round={round} />
    </main>
  );
}

function StatementSection({ id, round }: { id: string; round: number }) {
  const { t, formatMonth } = useI18n();
  const [period, setPeriod] = useState(thisMonth);
  const statement = useLoad(() => api.statement(id, period), `${id}|${period}|${round}`);
  return (
    <section aria-labelledby="statement-title">
      <h2 id="statement-title">{t("account.statement")}</h2>
      <div className="filters">
        <label>
          {t("finances.period")}
          <input
            type="month"
            value={period}
            max={thisMonth()}
            onChange={(e) => e.target.value && setPeriod(e.target.value)}
          />
        </label>
      </div>
      <ErrorMessage error={statement.error} />
      {statement.data && (
        <FiguresTable
          caption={t("finances.totals", { period: formatMonth(statement.data.period) })}
          figures={[statement.data.figures]}
        />
      )}
    </section>
  );
}

function PostingsSection({ id, round }: { id: string; round: number }) {
  const { t, formatMoney, formatDateTime } = useI18n();
  const [pages, setPages] = useState<PostingsPage[]>([]);
  const first = useLoad(() => api.postings(id), `${id}|${round}`);
  const more = useAction();
  const all = first.data ? [first.data, ...pages] : [];
  const next = all[all.length - 1]?.next_cursor;
  const items = all.flatMap((p) => p.items);
  return (
    <section aria-labelledby="postings-title">
      <h2 id="postings-title">{t("account.postings")}</h2>
      <ErrorMessage error={first.error ?? more.error} />
      {first.data && items.length === 0 && <p>{t("account.noPostings")}</p>}
      {items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("account.when")}</th>
              <th scope="col">{t("account.what")}</th>
              <th scope="col">{t("account.amount")}</th>
              <th scope="col">{t("account.balanceAfter")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.sequence}>
                <td>{p.posted_at ? formatDateTime(p.posted_at) : ""}</td>
                <td translate="no">{p.description || p.kind}</td>
                <td className="money" dir="ltr">
                  {formatMoney(p.amount)}
                </td>
                <td className="money" dir="ltr">
                  {formatMoney(p.balance_after)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button
          type="button" className="link"
          disabled={more.busy}
          onClick={() => void more.run(async () => setPages([...pages, await api.postings(id, next)]))}
        >
          {t("account.more")}
        </button>
      )}
    </section>
  );
}

function PaymentsSection({ balance, round, onChange }: { balance: Balance; round: number; onChange: () => void }) {
  const { t, formatMoney, formatDateTime } = useI18n();
  const id = balance.personal_account_id;
  const [draft, setDraft] = useState<PaymentFilters>(NO_FILTERS);
  const [query, setQuery] = useState<PaymentsQuery>({});
  const [badFilters, setBadFilters] = useState<readonly string[]>([]);
  const payments = useLoad(() => api.payments(id, query), `${id}|${round}|${JSON.stringify(query)}`);
  const filter = (event: FormEvent) => {
    event.preventDefault();
    const read = paymentsQuery(draft, balance.balance.exponent);
    setBadFilters("invalid" in read ? read.invalid : []);
    if ("query" in read) setQuery(read.query);
  };
  const field = (name: keyof PaymentFilters) => ({
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });
  const marked = (name: string) =>
    badFilters.includes(name) ? { "aria-invalid": true as const, "aria-describedby": "payments-filter-error" } : {};
  const [amount, setAmount] = useState("");
  const [card, setCard] = useState("");
  const [key, setKey] = useState(newIdempotencyKey);
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const minor = parseAmount(amount, balance.balance.exponent);
    setInvalid(minor === null);
    if (minor === null) return;
    void action.run(async () => {
      await api.pay(id, { amount: minor, currency: balance.currency, card_token: card }, key);
      setKey(newIdempotencyKey());
      setAmount("");
      onChange();
    });
  };
  return (
    <section aria-labelledby="payments-title">
      <h2 id="payments-title">{t("account.payments")}</h2>
      <form className="stack" onSubmit={submit} aria-label={t("account.topUp")}>
        <AmountField currency={balance.currency} value={amount} invalid={invalid} onChange={setAmount} />
        <label>
          {t("account.card")}
          <input required dir="ltr" value={card} maxLength={128} onChange={(e) => setCard(e.target.value.trim())} />
        </label>
        <button type="submit" disabled={action.busy}>
          {t("account.topUp")}
        </button>
        <ErrorMessage error={action.error} />
      </form>
      <form className="filters" onSubmit={filter} aria-label={t("account.paymentFilters")}>
        <label>
          {t("account.paymentsFrom")}
          <input type="date" name="from" {...field("from")} />
        </label>
        <label>
          {t("account.paymentsTo")}
          <input type="date" name="to" {...field("to")} {...marked("to")} />
        </label>
        <label>
          {t("account.paymentKind")}
          <select name="kind" {...field("kind")}>
            <option value="">{t("account.paymentsAny")}</option>
            {PAYMENT_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {t(`account.paymentKind.${kind}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("account.paymentState")}
          <select name="state" {...field("state")}>
            <option value="">{t("account.paymentsAny")}</option>
            {PAYMENT_STATES.map((state) => (
              <option key={state} value={state}>
                {t(`account.payment.${state}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <Message id="account.paymentsMin" values={{ currency: <bdi translate="no">{balance.currency}</bdi> }} />
          <input name="min" inputMode="decimal" dir="ltr" {...field("min")} {...marked("min")} />
        </label>
        <label>
          <Message id="account.paymentsMax" values={{ currency: <bdi translate="no">{balance.currency}</bdi> }} />
          <input name="max" inputMode="decimal" dir="ltr" {...field("max")} {...marked("max")} />
        </label>
        <button type="submit">{t("account.paymentsFilter")}</button>
        {badFilters.length > 0 && (
          <p id="payments-filter-error" className="error" role="alert">
            {t("account.paymentsBadFilter")}
          </p>
        )}
      </form>
      <ErrorMessage error={payments.error} />
      {payments.data && payments.data.items.length === 0 && <p>{t("account.noPayments")}</p>}
      {payments.data && payments.data.items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("account.when")}</th>
              <th scope="col">{t("account.amount")}</th>
              <th scope="col">{t("account.paymentKind")}</th>
              <th scope="col">{t("account.paymentState")}</th>
            </tr>
          </thead>
          <tbody>
            {payments.data.items.map((p) => (
              <tr key={p.id}>
                <td>{p.created_at ? formatDateTime(p.created_at) : ""}</td>
                <td className="money" dir="ltr">
                  {formatMoney(p.amount)}
                </td>
                <td>{t(`account.paymentKind.${p.kind}`)}</td>
                <td>{t(`account.payment.${p.state}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PromisedSection({ balance, round, onChange }: { balance: Balance; round: number; onChange: () => void }) {
  const { t, formatMoney, formatDate } = useI18n();
  const id = balance.personal_account_id;
  const promised = useLoad(() => api.promisedPayments(id), `${id}|${round}`);
  const [amount, setAmount] = useState("");
  const [key, setKey] = useState(newIdempotencyKey);
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const open = promised.data?.items.find((p) => p.status === "open");
  const take = (event: FormEvent) => {
    event.preventDefault();
    const minor = parseAmount(amount, balance.balance.exponent);
    setInvalid(minor === null);
    if (minor === null) return;
    void action.run(async () => {
      await api.takePromisedPayment(id, minor, key);
      setKey(newIdempotencyKey());
      setAmount("");
      onChange();
    });
  };
  return (
    <section aria-labelledby="promised-title">
      <h2 id="promised-title">{t("account.promised")}</h2>
      <p>{t("account.promisedRules")}</p>
      <ErrorMessage error={promised.error ?? action.error} />
      {open ? (
        <p>
          {t("account.promisedOpen", {
            amount: formatMoney(open.amount),
            due: open.due_at ? formatDate(open.due_at) : "",
          })}{" "}
          <button type="button" className="link" disabled={action.busy} onClick={() => void action.run(async () => {
            await api.repayPromisedPayment(id, open.id);
            onChange();
          })}>
            {t("account.promisedRepay")}
          </button>
        </p>
      ) : (
        <form className="stack" onSubmit={take} aria-label={t("account.promisedTake")}>
          <AmountField currency={balance.currency} value={amount} invalid={invalid} onChange={setAmount} />
          <button type="submit" disabled={action.busy}>
            {t("account.promisedTake")}
          </button>
        </form>
      )}
      {promised.data && promised.data.items.length > 0 && (
        <ul>
          {promised.data.items.map((p) => (
            <li key={p.id}>
              {t(`account.promisedStatus.${p.status}`, {
                amount: formatMoney(p.amount),
                taken: p.taken_at ? formatDate(p.taken_at) : "",
                due: p.due_at ? formatDate(p.due_at) : "",
              })}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SettlementSection({ balance, onChange }: { balance: Balance; onChange: () => void }) {
  const { t, formatDate, formatMoney } = useI18n();
  const id = balance.personal_account_id;
  const version = `${id}|${balance.settlement_method}|${balance.scheduled_change?.effective_at ?? ""}`;
  const settlement = useLoad(() => api.settlementMethod(id), version);
  const [method, setMethod] = useState<(typeof METHODS)[number]>(balance.settlement_method);
  const [from, setFrom] = useState("");
  const action = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      await api.changeSettlementMethod(id, { method, effective_from: from || null });
      onChange();
    });
  };
  const scheduled = balance.scheduled_change;
  return (
    <section aria-labelledby="settlement-title">
      <h2 id="settlement-title">{t("account.settlement")}</h2>
      {scheduled && (
        <p>
          {t("account.settlementScheduled", {
            method: t(`account.method.${scheduled.settlement_method}`),
            date: scheduled.effective_at ? formatDate(scheduled.effective_at) : "",
          })}
        </p>
      )}
      <form className="stack" onSubmit={submit} aria-label={t("account.settlementChange")}>
        <label>
          {t("account.methodLabel")}
          <select value={method} onChange={(e) => setMethod(e.target.value as (typeof METHODS)[number])}>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`account.method.${m}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("account.settlementFrom")}
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <button type="submit" disabled={action.busy}>
          {t("account.settlementChange")}
        </button>
        <ErrorMessage error={action.error ?? settlement.error} />
      </form>
      {settlement.data && settlement.data.history.length > 0 && (
        <table className="table">
          <caption>{t("account.settlementHistory")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("account.methodLabel")}</th>
              <th scope="col">{t("account.creditLimit")}</th>
              <th scope="col">{t("account.settlementEffective")}</th>
              <th scope="col">{t("account.settlementApplied")}</th>
            </tr>
          </thead>
          <tbody>
            {settlement.data.history.map((h) => (
              <tr key={h.id}>
                <td>{t(`account.method.${h.settlement_method}`)}</td>
                <td className="money" dir="ltr">
                  {formatMoney(h.credit_limit)}
                </td>
                <td>{h.effective_at ? formatDate(h.effective_at) : ""}</td>
                <td>{h.applied_at ? formatDate(h.applied_at) : t("account.settlementPending")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function BillDeliverySection({ balance, onChange }: { balance: Balance; onChange: () => void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState(balance.bill_email ?? "");
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    void action.run(async () => {
      await api.setBillDelivery(balance.personal_account_id, email.trim() || null);
      setSaved(true);
      onChange();
    });
  };
  return (
    <section aria-labelledby="bills-title">
      <h2 id="bills-title">{t("account.bills")}</h2>
      <form className="stack" onSubmit={submit} aria-label={t("account.bills")}>
        <label>
          {t("account.billEmail")}
          <input type="email" dir="ltr" value={email} maxLength={254} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <p className="hint">{t("account.billEmailHint")}</p>
        <button type="submit" disabled={action.busy}>
          {t("common.save")}
        </button>
        <ErrorMessage error={action.error} />
        {saved && <p role="status">{t("common.saved")}</p>}
      </form>
    </section>
  );
}

function AutoPaymentSection({ balance }: { balance: Balance }) {
  const { t, formatMoney, formatNumber } = useI18n();
  const id = balance.personal_account_id;
  const state = useLoad(() => api.autoPayment(id), id);
  const [amount, setAmount] = useState("");
  const [threshold, setThreshold] = useState("");
  const [daily, setDaily] = useState("1");
  const [card, setCard] = useState("");
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const current = state.data?.auto_payment;
  const exponent = balance.balance.exponent;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const a = parseAmount(amount, exponent);
    const th = parseAmount(threshold, exponent);
    const d = Number(daily);
    setInvalid(a === null || th === null);
    if (a === null || th === null) return;
    void action.run(async () => {
      const body = { amount: a, threshold: th, daily_limit: d, currency: balance.currency, card_token: card };
      await api.setAutoPayment(id, body);
      state.reload();
    });
  };
  return (
    <section aria-labelledby="auto-title">
      <h2 id="auto-title">{t("account.auto")}</h2>
      <ErrorMessage error={state.error ?? action.error} />
      {current ? (
        <p>
          {t("account.autoCurrent", {
            amount: formatMoney(current.amount),
            threshold: formatMoney(current.threshold),
            daily: formatNumber(current.daily_limit),
          })}{" "}
          <button type="button" className="link" disabled={action.busy} onClick={() => void action.run(async () => {
            await api.deleteAutoPayment(id);
            state.reload();
          })}>
            {t("account.autoDelete")}
          </button>
        </p>
      ) : (
        state.data && <p>{t("account.autoNone")}</p>
      )}
      <form className="stack" onSubmit={submit} aria-label={t("account.autoSet")}>
        <label>
          {t("account.autoThreshold")}
          <input
            required
            inputMode="decimal"
            dir="ltr"
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
          />
        </label>
        <label>
          {t("account.autoAmount")}
          <input required inputMode="decimal" dir="ltr" value={amount} onChange={(e) => setAmount(e.target.value)} />
        </label>
        {invalid && <p className="error" role="alert">{t("money.invalidAmount")}</p>}
        <label>
          {t("account.autoDaily")}
          <input
            required
            type="number"
            min={1}
            dir="ltr"
            value={daily}
            onChange={(e) => setDaily(e.target.value)}
          />
        </label>
        <label>
          {t("account.card")}
          <input required dir="ltr" value={card} maxLength={128} onChange={(e) => setCard(e.target.value.trim())} />
        </label>
        <button type="submit" disabled={action.busy}>
          {t("account.autoSet")}
        </button>
      </form>
    </section>
  );
}
