import { useId } from "react";
import { Message, useI18n } from "./i18n";

/** An amount of money typed by a person, labelled with its currency; the error says when it cannot be read. */
export function AmountField({
  currency,
  value,
  invalid,
  onChange,
}: {
  currency: string;
  value: string;
  invalid: boolean;
  onChange: (value: string) => void;
}) {
  const { t } = useI18n();
  const errorId = useId();
  return (
    <>
      <label>
        <span>
          <Message id="money.amountIn" values={{ currency: <bdi translate="no">{currency}</bdi> }} />
        </span>
        <input
          required
          inputMode="decimal"
          dir="ltr"
          value={value}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? errorId : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      {invalid && (
        <p id={errorId} className="error" role="alert">
          {t("money.invalidAmount")}
        </p>
      )}
    </>
  );
}
