import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { LanguagePicker } from "../LanguagePicker";

type Method = "code" | "password";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useI18n();
  const [method, setMethod] = useState<Method>("code");
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (event: FormEvent, action: () => Promise<unknown>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const choose = (next: Method) => {
    setMethod(next);
    setChallenge(null);
    setError(null);
  };

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-top">
        <LanguagePicker />
      </div>
      <h1>{t("signIn.title")}</h1>
      <div role="tablist" className="tabs">
        {(["code", "password"] as const).map((m) => (
          <button
            key={m}
            role="tab"
            type="button"
            aria-selected={method === m}
            onClick={() => choose(m)}
          >
            {t(m === "code" ? "signIn.byCode" : "signIn.byPassword")}
          </button>
        ))}
      </div>
      {method === "password" && (
        <form
          onSubmit={(e) => run(e, async () => (await api.signInWithPassword(phone, password), onSignedIn()))}
        >
          <PhoneField phone={phone} setPhone={setPhone} />
          <label>
            {t("signIn.password")}
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.submit")}
          </button>
        </form>
      )}
      {method === "code" && challenge === null && (
        <form onSubmit={(e) => run(e, async () => setChallenge((await api.requestCode(phone)).challenge_id))}>
          <PhoneField phone={phone} setPhone={setPhone} />
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.sendCode")}
          </button>
        </form>
      )}
      {method === "code" && challenge !== null && (
        <form onSubmit={(e) => run(e, async () => (await api.verifyCode(challenge, code), onSignedIn()))}>
          <p>
            <Message id="signIn.codeSent" values={{ phone: <bdi translate="no">{phone}</bdi> }} />
          </p>
          <label>
            {t("signIn.code")}
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value.trim())}
            />
          </label>
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.submit")}
          </button>
          <button type="button" className="link" onClick={() => choose("code")}>
            {t("signIn.otherNumber")}
          </button>
        </form>
      )}
    </main>
  );
}

function PhoneField({ phone, setPhone }: { phone: string; setPhone: (value: string) => void }) {
  const { t } = useI18n();
  return (
    <label>
      {t("signIn.phone")}
      <input
        type="tel"
        name="phone"
        dir="ltr"
        autoComplete="tel"
        required
        aria-describedby="phone-hint"
        value={phone}
        onChange={(e) => setPhone(e.target.value.trim())}
      />
      <small id="phone-hint">{t("signIn.phoneHint")}</small>
    </label>
  );
}
