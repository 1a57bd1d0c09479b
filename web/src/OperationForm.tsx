import { useEffect, useId, useState, type FormEvent } from "react";
import { api, type Tariff } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { useI18n } from "./i18n";
import type { MessageKey } from "./i18n/en";
import {
  OPERATION_FIELDS,
  SERVICES,
  initialValues,
  operationRequest,
  selectable,
  type Field,
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
  const fields = OPERATION_FIELDS[type] ?? [];

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
    setReviewing(false);
  };
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
      const operation = await api.createOperation(operationRequest(type, values, target, scheduledAt));
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
          <button type="submit" disabled={!selectable(target)}>
            {t("ops.review")}
          </button>
        </form>
      ) : (
        <div className="confirm" role="group" aria-labelledby={`${id}-confirm`}>
          <p id={`${id}-confirm`}>
            <strong>{what}</strong>
          </p>
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
