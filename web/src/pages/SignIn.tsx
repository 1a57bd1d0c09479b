import { useState, type FormEvent, type ReactNode } from "react";
import { api, type Channel } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { LanguagePicker } from "../LanguagePicker";

type Method = "code" | "email" | "password";
const METHODS: readonly Method[] = ["code", "email", "password"];
const METHOD_NAMES = { code: "signIn.byCode", email: "signIn.byEmail", password: "signIn.byPassword" } as const;

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice?: ReactNode }) {
  const { t } = useI18n();
  const [method, setMethod] = useState<Method>("code");
  const [resetting, setResetting] = useState(false);
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
  const channel: Channel = method === "email" ? "email" : "sms";

  if (resetting)
    return (
      <main className="sign-in" id="main">
        <div className="sign-in-top">
          <LanguagePicker />
        </div>
        <PasswordReset
          phone={phone}
          setPhone={setPhone}
          onSignedIn={onSignedIn}
          onCancel={() => {
            setResetting(false);
            setError(null);
          }}
        />
      </main>
    );

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-top">
        <LanguagePicker />
      </div>
      <h1>{t("signIn.title")}</h1>
      {notice}
      <div role="tablist" className="tabs">
        {METHODS.map((m) => (
          <button
            key={m}
            role="tab"
            type="button"
            aria-selected={method === m}
            onClick={() => choose(m)}
          >
            {t(METHOD_NAMES[m])}
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
          <button type="button" className="link" onClick={() => setResetting(true)}>
            {t("signIn.forgot")}
          </button>
        </form>
      )}
      {method !== "password" && challenge === null && (
        <form
          onSubmit={(e) => run(e, async () => setChallenge((await api.requestCode(phone, channel)).challenge_id))}
        >
          <PhoneField phone={phone} setPhone={setPhone} />
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.sendCode")}
          </button>
        </form>
      )}
      {method !== "password" && challenge !== null && (
        <form onSubmit={(e) => run(e, async () => (await api.verifyCode(challenge, code), onSignedIn()))}>
          <p>
            <Message
              id={channel === "email" ? "signIn.emailSent" : "signIn.codeSent"}
              values={{ phone: <bdi translate="no">{phone}</bdi> }}
            />
          </p>
          <CodeField code={code} setCode={setCode} channel={channel} />
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.submit")}
          </button>
          <button type="button" className="link" onClick={() => choose(method)}>
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

function CodeField({ code, setCode, channel }: { code: string; setCode: (value: string) => void; channel: Channel }) {
  const { t } = useI18n();
  return (
    <label>
      {t(channel === "email" ? "signIn.emailCode" : "signIn.code")}
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
  );
}

/**
 * ID-5, a forgotten password: a code by SMS or email, then the forced change. The code alone opens no session;
 * the API takes it only with a new permanent password (the password rules apply), and then signs in.
 */
export function PasswordReset({
  phone,
  setPhone,
  onSignedIn,
  onCancel,
}: {
  phone: string;
  setPhone: (value: string) => void;
  onSignedIn: () => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [channel, setChannel] = useState<Channel>("sms");
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
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

  if (challenge === null)
    return (
      <>
        <h1>{t("reset.title")}</h1>
        <p>{t("reset.intro")}</p>
        <form
          onSubmit={(e) =>
            run(e, async () => setChallenge((await api.requestPasswordReset(phone, channel)).challenge_id))
          }
        >
          <PhoneField phone={phone} setPhone={setPhone} />
          <fieldset className="choice">
            <legend>{t("reset.channel")}</legend>
            {(["sms", "email"] as const).map((c) => (
              <label key={c}>
                <input
                  type="radio"
                  name="channel"
                  value={c}
                  checked={channel === c}
                  onChange={() => setChannel(c)}
                />
                {t(c === "sms" ? "reset.bySms" : "reset.byEmail")}
              </label>
            ))}
          </fieldset>
          <ErrorMessage error={error} />
          <button type="submit" disabled={busy}>
            {t("signIn.sendCode")}
          </button>
          <button type="button" className="link" onClick={onCancel}>
            {t("reset.back")}
          </button>
        </form>
      </>
    );

  const confirm = async () => {
    if (password !== repeat) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    await api.confirmPasswordReset(challenge, code, password);
    onSignedIn();
  };
  return (
    <>
      <h1>{t("reset.newTitle")}</h1>
      <form onSubmit={(e) => run(e, confirm)}>
        <p>
          <Message
            id={channel === "email" ? "signIn.emailSent" : "signIn.codeSent"}
            values={{ phone: <bdi translate="no">{phone}</bdi> }}
          />
        </p>
        <CodeField code={code} setCode={setCode} channel={channel} />
        <label>
          {t("reset.newPassword")}
          <input
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            minLength={10}
            maxLength={128}
            aria-describedby="password-rules"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <small id="password-rules">{t("reset.rules")}</small>
        <label>
          {t("reset.repeat")}
          <input
            type="password"
            name="repeat-password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
        {mismatch && (
          <p role="alert" className="error">
            {t("reset.mismatch")}
          </p>
        )}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {t("reset.submit")}
        </button>
        <button type="button" className="link" onClick={onCancel}>
          {t("reset.back")}
        </button>
      </form>
    </>
  );
}
