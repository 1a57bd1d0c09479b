import { useEffect, useId, useState, type FormEvent } from "react";
import { api, type LineGroup, type Schemas, type Tariff } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { Message, useI18n } from "./i18n";
import type { MessageKey } from "./i18n/en";
import { NodePicker } from "./NodePicker";
import {
  ITEM_FIELDS,
  OPERATION_FIELDS,
  SERVICES,
  initialValues,
  itemsComplete,
  paramsComplete,
  operationRequest,
  selectable,
  type Field,
  type ItemValues,
  type OperationType,
  type ParamValues,
  type Target,
} from "./operations";
import { useRouter } from "./router";

/** Choices whose values are names in every language (kept out of translation). */
const UNTRANSLATED_VALUES = new Set(["pdp_type"]);

/**
 * An operation on a choice of lines: its type, its parameters, when to run it, then a confirmation; once the
 * API accepts it, the operation's page follows it.
 */
export function OperationForm({
  target,
  types,
  title = "ops.newTitle",
}: {
  target: Target;
  types: readonly OperationType[];
  title?: MessageKey;
}) {
  const { t, formatNumber, formatDateTime } = useI18n();
  const { navigate } = useRouter();
  const id = useId();
  const [type, setType] = useState<OperationType>(types[0]!);
  const [values, setValues] = useState<ParamValues>(() => initialValues(types[0]!));
  const [later, setLater] = useState(false);
  const [when, setWhen] = useState("");
  const [reviewing, setReviewing] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tariffs, setTariffs] = useState<Tariff[] | null>(null);
  const [groups, setGroups] = useState<LineGroup[] | null>(null);
  const [items, setItems] = useState<ItemValues>({});
  const fields = OPERATION_FIELDS[type] ?? [];
  const itemField = target.kind === "lines" ? ITEM_FIELDS[type] : undefined;
  const msisdns = target.kind === "lines" ? target.msisdns : [];

  useEffect(() => {
    if (groups !== null || !fields.some((field) => field.kind === "group")) return;
    api.lineGroups().then(
      (answer) => setGroups(answer.items),
      (caught: unknown) => setError(caught),
    );
  }, [fields, groups]);

  useEffect(() => {
    if (tariffs !== null || !fields.some((field) => field.kind === "tariff")) return;
    api.tariffs().then(
      (answer) => setTariffs(answer.tariffs),
      (caught: unknown) => setError(caught),
    );
  }, [fields, tariffs]);

  const choose = (next: OperationType) => {
    setType(next);
    setValues(initialValues(next));
    setItems({});
    setReviewing(false);
  };
  // A per-line type leaves the menu when more lines are chosen than it is offered for.
  const offered = types.includes(type);
  useEffect(() => {
    if (!offered) choose(types[0]!);
  });
  const scheduledAt = later && when ? new Date(when) : null;
  const review = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setReviewing(true);
  };
  const confirm = async () => {
    setSending(true);
    setError(null);
    try {
      const operation = await api.createOperation(operationRequest(type, values, target, scheduledAt, items));
      navigate(`/operations/${encodeURIComponent(operation.id)}`);
    } catch (caught) {
      setError(caught);
      setSending(false);
    }
  };
  const typeName = t(`ops.type.${type}` as MessageKey);
  const what =
    target.kind === "lines"
      ? t("ops.confirmLines", { type: typeName, count: formatNumber(target.msisdns.length) })
      : t("ops.confirmFilter", { type: typeName });

  const input = (field: Field) => {
    const label = t(`ops.field.${field.name}` as MessageKey);
    const optional = "optional" in field && field.optional ? ` ${t("ops.optional")}` : "";
    const value = values[field.name];
    const set = (next: string | boolean | string[]) => setValues({ ...values, [field.name]: next });
    switch (field.kind) {
      case "choice":
        return (
          <label key={field.name}>
            {label + optional}
            <select name={field.name} value={String(value)} onChange={(e) => set(e.target.value)}>
              {field.optional && <option value="">{t("ops.default")}</option>}
              {field.values.map((v) =>
                UNTRANSLATED_VALUES.has(field.name) ? (
                  <option key={v} value={v} translate="no">
                    {v}
                  </option>
                ) : (
                  <option key={v} value={v}>
                    {t(`ops.value.${v}` as MessageKey)}
                  </option>
                ),
              )}
            </select>
          </label>
        );
      case "tariff":
        return (
          <label key={field.name}>
            {label}
            <select name={field.name} required value={String(value)} onChange={(e) => set(e.target.value)}>
              <option value="">{tariffs ? t("ops.chooseTariff") : t("common.loading")}</option>
              {(tariffs ?? []).map((tariff) => (
                <option key={tariff.code} value={tariff.code} translate="no">
                  {`${tariff.code}: ${tariff.name}`}
                </option>
              ))}
            </select>
          </label>
        );
      case "flag":
        return (
          <label key={field.name} className="check">
            <input type="checkbox" name={field.name} checked={value === true} onChange={(e) => set(e.target.checked)} />
            {label}
          </label>
        );
      case "services": {
        const chosen = Array.isArray(value) ? value : [];
        return (
          <fieldset key={field.name} className="choices">
            <legend>{label}</legend>
            {SERVICES.map((service) => (
              <label key={service} className="check">
                <input
                  type="checkbox"
                  name={`${field.name}.${service}`}
                  checked={chosen.includes(service)}
                  onChange={(e) =>
                    set(e.target.checked ? [...chosen, service] : chosen.filter((name) => name !== service))
                  }
                />
                {t(`ops.service.${service}` as MessageKey)}
              </label>
            ))}
          </fieldset>
        );
      }
      case "node":
        return (
          <NodePicker
            key={field.name}
            name={field.name}
            label={label + optional}
            value={String(value)}
            onChange={(next) => set(next)}
            required={!field.optional}
            kind={field.only}
          />
        );
      case "labels":
        return (
          <div key={field.name} className="field">
            <label>
              {label}
              <input
                name={field.name}
                required
                aria-describedby={`${id}-labels-hint`}
                value={String(value)}
                onChange={(e) => set(e.target.value)}
              />
            </label>
            <small id={`${id}-labels-hint`}>{t("ops.labelsHint")}</small>
          </div>
        );
      case "group":
        return (
          <label key={field.name}>
            {label}
            <select name={field.name} required value={String(value)} onChange={(e) => set(e.target.value)}>
              <option value="">
                {groups === null ? t("common.loading") : groups.length ? t("ops.chooseGroup") : t("ops.noGroups")}
              </option>
              {(groups ?? []).map((group) => (
                <option key={group.id} value={group.id} translate="no">
                  {group.node_id === null ? t("ops.groupAbove", { name: group.name }) : group.name}
                </option>
              ))}
            </select>
          </label>
        );
      case "text":
        return (
          <label key={field.name}>
            {label + optional}
            <input
              name={field.name}
              dir={field.ltr ? "ltr" : undefined}
              required={!field.optional}
              value={String(value)}
              onChange={(e) => set(e.target.value)}
            />
          </label>
        );
    }
  };

  return (
    <section className="operation-form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t(title)}</h2>
      {!reviewing ? (
        <form onSubmit={review}>
          <label>
            {t("ops.choose")}
            <select name="type" value={type} onChange={(e) => choose(e.target.value as OperationType)}>
              {types.map((option) => (
                <option key={option} value={option}>
                  {t(`ops.type.${option}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          {fields.map(input)}
          {itemField && (
            <LineValues
              kind={itemField.kind}
              msisdns={msisdns}
              items={items}
              onChange={setItems}
              onError={setError}
            />
          )}
          <label className="check">
            <input type="checkbox" name="later" checked={later} onChange={(e) => setLater(e.target.checked)} />
            {t("ops.later")}
          </label>
          {later && (
            <label>
              {t("ops.startAt")}
              <input
                type="datetime-local"
                name="scheduled_at"
                required
                value={when}
                onChange={(e) => setWhen(e.target.value)}
              />
            </label>
          )}
          <button type="submit" disabled={!selectable(target) || !itemsComplete(type, items, msisdns) || !paramsComplete(type, values)}
          >
            {t("ops.review")}
          </button>
        </form>
      ) : (
        <div className="confirm" role="group" aria-labelledby={`${id}-confirm`}>
          <p id={`${id}-confirm`}>
            <strong>{what}</strong>
          </p>
          {itemField && (
            <ul className="changes">
              {msisdns.map((msisdn) => (
                <li key={msisdn}>
                  <Message
                    id={items[msisdn] ? "ops.lineGets" : "ops.linePoolPicks"}
                    values={{
                      msisdn: <bdi dir="ltr" translate="no">{msisdn}</bdi>,
                      value: <bdi dir="ltr" translate="no">{items[msisdn] ?? ""}</bdi>,
                    }}
                  />
                </li>
              ))}
            </ul>
          )}
          <p>{scheduledAt ? t("ops.confirmAt", { when: formatDateTime(scheduledAt.toISOString()) }) : t("ops.confirmNow")}</p>
          <div className="buttons">
            <button type="button" onClick={() => void confirm()} disabled={sending}>
              {t("ops.confirm")}
            </button>
            <button type="button" className="link" onClick={() => setReviewing(false)} disabled={sending}>
              {t("ops.change")}
            </button>
          </div>
        </div>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}

type Sim = Schemas["SimResponse"];
/** The most reserve SIMs offered (the customer's reserve is a drawer of spare cards, not a warehouse). */
const RESERVE_LIMIT = 1000;
/** How many free numbers one search offers (the API's most). */
const FREE_LIMIT = 100;

/**
 * Each chosen line's own value: a reserve SIM of the customer's (each SIM offered to one line only), or a free
 * number found by the digits it contains (left at "the pool picks", the API chooses one).
 */
function LineValues({
  kind,
  msisdns,
  items,
  onChange,
  onError,
}: {
  kind: "reserve_sim" | "free_number";
  msisdns: readonly string[];
  items: ItemValues;
  onChange: (items: ItemValues) => void;
  onError: (error: unknown) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [sims, setSims] = useState<Sim[] | null>(null);
  const [numbers, setNumbers] = useState<string[] | null>(null);
  const [contains, setContains] = useState("");
  const [asked, setAsked] = useState("");

  useEffect(() => {
    if (kind !== "reserve_sim") return;
    let live = true;
    api.reserveSims(RESERVE_LIMIT).then(
      (page) => live && setSims(page.items),
      (caught: unknown) => live && onError(caught),
    );
    return () => {
      live = false;
    };
  }, [kind, onError]);

  useEffect(() => {
    if (kind !== "free_number") return;
    let live = true;
    setNumbers(null);
    api.freeNumbers(asked, FREE_LIMIT).then(
      (answer) => live && setNumbers(answer.items),
      (caught: unknown) => live && onError(caught),
    );
    return () => {
      live = false;
    };
  }, [kind, asked, onError]);

  const values: readonly string[] =
    kind === "reserve_sim" ? (sims ?? []).map((sim) => sim.iccid) : (numbers ?? []);
  const loaded = kind === "reserve_sim" ? sims !== null : numbers !== null;
  const takenElsewhere = (msisdn: string) =>
    new Set(msisdns.flatMap((line) => (line !== msisdn && items[line] ? [items[line]] : [])));

  return (
    <fieldset className="line-values">
      <legend>{t(kind === "reserve_sim" ? "ops.item.newSims" : "ops.item.newNumbers")}</legend>
      {kind === "free_number" && (
        <div className="inline">
          <label>
            {t("ops.item.contains")}
            <input
              name="contains"
              dir="ltr"
              inputMode="numeric"
              pattern="[0-9]{1,15}"
              value={contains}
              onChange={(e) => setContains(e.target.value.replace(/[^0-9]/g, ""))}
            />
          </label>
          <button type="button" onClick={() => setAsked(contains)}>
            {t("ops.item.find")}
          </button>
        </div>
      )}
      <p id={`${id}-hint`} className="count">
        {!loaded
          ? t("common.loading")
          : kind === "reserve_sim"
            ? values.length
              ? t("ops.item.simsFound", { count: values.length })
              : t("ops.item.noSims")
            : values.length
              ? t("ops.item.numbersFound", { count: values.length })
              : t("ops.item.noNumbers")}
      </p>
      <ul className="line-values-list">
        {msisdns.map((msisdn) => {
          const taken = takenElsewhere(msisdn);
          const current = items[msisdn] ?? "";
          const offered = values.filter((value) => !taken.has(value));
          if (current && !offered.includes(current)) offered.unshift(current);
          return (
            <li key={msisdn}>
              <label>
                <Message
                  id={kind === "reserve_sim" ? "ops.item.simFor" : "ops.item.numberFor"}
                  values={{ msisdn: <bdi dir="ltr" translate="no">{msisdn}</bdi> }}
                />
                <select
                  name={`item-${msisdn}`}
                  required={kind === "reserve_sim"}
                  value={current}
                  aria-describedby={`${id}-hint`}
                  onChange={(e) => onChange({ ...items, [msisdn]: e.target.value })}
                >
                  <option value="">{t(kind === "reserve_sim" ? "ops.item.chooseSim" : "ops.item.poolPicks")}</option>
                  {offered.map((value) => (
                    <option key={value} value={value} translate="no" dir="ltr">
                      {value}
                    </option>
                  ))}
                </select>
              </label>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
