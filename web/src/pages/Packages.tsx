import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, type Purchase, type PurchasesPage } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { useAction, useLoad } from "../useLoad";
import { personalAccounts } from "./Finances";

const MSISDN = /^\+?[0-9]{5,20}$/;

/** The numbers typed in the purchase form, one per line or separated by commas or spaces. */
export function msisdnsFrom(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

/** BI-7, BI-8: the data packages offered, buying one for lines or a group, and the purchases with receipts. */
export function Packages() {
  const { t, formatMoney, formatNumber, formatDateTime } = useI18n();
  const offers = useLoad(() => api.offers(), "offers");
  const nodes = useLoad(() => api.nodes({ limit: 200 }).then((p) => p.items), "nodes");
  const accounts = useLoad(() => personalAccounts(), "accounts");
  const [round, setRound] = useState(0);
  const history = useLoad(() => api.purchases(), `history|${round}`);
  const [older, setOlder] = useState<PurchasesPage[]>([]);
  const [code, setCode] = useState("");
  const [numbers, setNumbers] = useState("");
  const [group, setGroup] = useState("");
  const [payer, setPayer] = useState("");
  const [email, setEmail] = useState("");
  const [key, setKey] = useState(newIdempotencyKey);
  const [bought, setBought] = useState<Purchase | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [receipt, setReceipt] = useState<{ id: string; text: string } | null>(null);
  const buy = useAction();
  const more = useAction();
  const offer = offers.data?.items.find((o) => o.code === code);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!offer) return;
    const msisdns = msisdnsFrom(numbers);
    const bad = offer.scope === "line" && (msisdns.length === 0 || !msisdns.every((m) => MSISDN.test(m)));
    setInvalid(bad);
    if (bad) return;
    void buy.run(async () => {
      const purchase = await api.buyPackages(
        offer.scope === "line"
          ? { offer_code: offer.code, msisdns, receipt_email: email || null }
          : { offer_code: offer.code, group: { node_id: group, personal_account_id: payer }, receipt_email: email || null },
        key,
      );
      setKey(newIdempotencyKey());
      setBought(purchase);
      setNumbers("");
      setOlder([]);
      setRound((n) => n + 1);
    });
  };
  const purchases = [...(history.data ? [history.data] : []), ...older];
  const next = purchases[purchases.length - 1]?.next_cursor;

  return (
    <main id="main">
      <h1>{t("packages.title")}</h1>
      <ErrorMessage error={offers.error ?? nodes.error ?? accounts.error} />
      <section aria-labelledby="offers-title">
        <h2 id="offers-title">{t("packages.offers")}</h2>
        {offers.data && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t("packages.offer")}</th>
                <th scope="col">{t("packages.data")}</th>
                <th scope="col">{t("packages.validity")}</th>
                <th scope="col">{t("packages.scope")}</th>
                <th scope="col">{t("packages.price")}</th>
              </tr>
            </thead>
            <tbody>
              {offers.data.items.map((o) => (
                <tr key={o.code}>
                  <td translate="no">{o.name}</td>
                  <td>{t("packages.gigabytes", { n: formatNumber(o.bytes / 1024 ** 3) })}</td>
                  <td>{t("packages.days", { n: formatNumber(o.validity_days) })}</td>
                  <td>{t(`packages.scope.${o.scope}`)}</td>
                  <td className="money" dir="ltr">
                    {formatMoney(o.price)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="buy-title">
        <h2 id="buy-title">{t("packages.buy")}</h2>
        <form className="stack" onSubmit={submit} aria-labelledby="buy-title">
          <label>
            {t("packages.offer")}
            <select required value={code} onChange={(e) => setCode(e.target.value)}>
              <option value="">{t("packages.choose")}</option>
              {(offers.data?.items ?? []).map((o) => (
                <option key={o.code} value={o.code} translate="no">
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          {offer?.scope === "line" && (
            <label>
              {t("packages.lines")}
              <textarea
                required
                dir="ltr"
                rows={3}
                value={numbers}
                aria-invalid={invalid || undefined}
                onChange={(e) => setNumbers(e.target.value)}
              />
            </label>
          )}
          {offer?.scope === "line" && <p className="hint">{t("packages.linesHint")}</p>}
          {invalid && (
            <p className="error" role="alert">
              {t("packages.invalidLines")}
            </p>
          )}
          {offer?.scope === "group" && (
            <>
              <label>
                {t("packages.group")}
                <select required value={group} onChange={(e) => setGroup(e.target.value)}>
                  <option value="">{t("packages.choose")}</option>
                  {(nodes.data ?? []).map((n) => (
                    <option key={n.id} value={n.id} translate="no">
                      {"\u00a0".repeat(n.depth * 2)}
                      {n.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t("packages.payer")}
                <select required value={payer} onChange={(e) => setPayer(e.target.value)}>
                  <option value="">{t("packages.choose")}</option>
                  {(accounts.data ?? []).map((a) => (
                    <option key={a.id} value={a.id} translate="no">
                      {a.name}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
          <label>
            {t("packages.receiptEmail")}
            <input type="email" dir="ltr" value={email} onChange={(e) => setEmail(e.target.value.trim())} />
          </label>
          <button type="submit" disabled={buy.busy || !offer}>
            {t("packages.buySubmit")}
          </button>
          <ErrorMessage error={buy.error} />
          {bought && (
            <p role="status">
              {t("packages.bought", { count: formatNumber(bought.quantity), amount: formatMoney(bought.amount) })}
            </p>
          )}
        </form>
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">{t("packages.history")}</h2>
        <ErrorMessage error={history.error ?? more.error} />
        {history.data && purchases.every((p) => p.items.length === 0) && <p>{t("packages.none")}</p>}
        {purchases.some((p) => p.items.length > 0) && (
          <table className="table" data-testid="purchases">
            <thead>
              <tr>
                <th scope="col">{t("packages.when")}</th>
                <th scope="col">{t("packages.offer")}</th>
                <th scope="col">{t("packages.quantity")}</th>
                <th scope="col">{t("packages.amount")}</th>
                <th scope="col">{t("packages.receipt")}</th>
              </tr>
            </thead>
            <tbody>
              {purchases.flatMap((page) =>
                page.items.map((p) => (
                  <tr key={p.id}>
                    <td>{p.created_at ? formatDateTime(p.created_at) : ""}</td>
                    <td translate="no">{p.offer_name}</td>
                    <td>{formatNumber(p.quantity)}</td>
                    <td className="money" dir="ltr">
                      {formatMoney(p.amount)}
                    </td>
                    <td>
                      <button
                        type="button" className="link"
                        onClick={() => void more.run(async () => setReceipt({ id: p.id, text: await api.receipt(p.id) }))}
                      >
                        {t("packages.showReceipt")}
                      </button>
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        )}
        {next && (
          <button
            type="button" className="link"
            disabled={more.busy}
            onClick={() => void more.run(async () => setOlder([...older, await api.purchases(next)]))}
          >
            {t("account.more")}
          </button>
        )}
        {receipt && (
          <figure>
            <figcaption>{t("packages.receipt")}</figcaption>
            <pre translate="no" dir="ltr" tabIndex={0} data-testid="receipt">
              {receipt.text}
            </pre>
          </figure>
        )}
      </section>
    </main>
  );
}
