import { useEffect, useState, type FormEvent } from "react";
import { api, type Me, type NoticesPage, type Preferences } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { LANGUAGE_NAMES, LANGUAGES, isLanguage, useI18n } from "../i18n";
import { en, type MessageKey } from "../i18n/en";
import { LanguagePicker } from "../LanguagePicker";
import { Link } from "../router";

const CHANNELS = ["sms", "email"] as const;
type Channel = (typeof CHANNELS)[number];

function kindKey(kind: string): MessageKey | null {
  const key = `settings.kind.${kind}`;
  return key in en ? (key as MessageKey) : null;
}

function PasswordForm({ hasPassword: hadPassword }: { hasPassword: boolean }) {
  const { t } = useI18n();
  const [hasPassword, setHasPassword] = useState(hadPassword);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [state, setState] = useState<"idle" | "saving" | "done" | "mismatch">("idle");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (next !== repeat) return setState("mismatch");
    setState("saving");
    setError(null);
    try {
      // A first password is proven by the fresh code sign-in, not by a current one: the API ignores that field then.
      await api.changePassword(hasPassword ? current : "-", next);
      setCurrent("");
      setNext("");
      setRepeat("");
      setHasPassword(true);
      setState("done");
    } catch (caught) {
      setError(caught);
      setState("idle");
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">{t("settings.password")}</h2>
      {hasPassword ? (
        <label>
          {t("settings.currentPassword")}
          <input
            type="password"
            required
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
      ) : (
        <p>{t("settings.firstPassword")}</p>
      )}
      <label>
        {t("settings.newPassword")}
        <input
          type="password"
          required
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </label>
      <label>
        {t("settings.repeatPassword")}
        <input
          type="password"
          required
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
      </label>
      {state === "mismatch" && (
        <p role="alert" className="error">
          {t("settings.passwordsDiffer")}
        </p>
      )}
      {state === "done" && <p role="status">{t("settings.passwordChanged")}</p>}
      <ErrorMessage error={error} />
      <button type="submit" disabled={state === "saving"}>
        {t("settings.changePassword")}
      </button>
    </form>
  );
}

/** NO-1's choices: for each kind of notice, the channels it goes by, and the language notices are written in. */
export function PreferencesForm() {
  const { t } = useI18n();
  const [saved, setSaved] = useState<Preferences | null>(null);
  const [draft, setDraft] = useState<Preferences | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  useEffect(() => {
    api.preferences().then((answer) => {
      setSaved(answer);
      setDraft(answer);
    }, setError);
  }, []);
  if (!draft || !saved) return error ? <ErrorMessage error={error} /> : <p>{t("common.loading")}</p>;

  const toggle = (kind: string, channel: Channel, on: boolean) => {
    const now = draft.kinds[kind] ?? [];
    const channels = CHANNELS.filter((c) => (c === channel ? on : now.includes(c)));
    setDraft({ ...draft, kinds: { ...draft.kinds, [kind]: channels } });
    setDone(false);
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const answer = await api.savePreferences({ kinds: draft.kinds, language: draft.language });
      setSaved(answer);
      setDraft(answer);
      setDone(true);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="notices-title">
      <h2 id="notices-title">{t("settings.notifications")}</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t("settings.kind")}</th>
            {CHANNELS.map((c) => (
              <th scope="col" key={c}>
                {t(`settings.channel.${c}`)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Object.keys(draft.kinds).map((kind) => {
            const key = kindKey(kind);
            const label = key ? t(key) : kind;
            return (
              <tr key={kind}>
                <th scope="row" translate={key ? undefined : "no"}>
                  {label}
                </th>
                {CHANNELS.map((c) => (
                  <td key={c}>
                    <input
                      type="checkbox"
                      aria-label={`${label}: ${t(`settings.channel.${c}`)}`}
                      checked={(draft.kinds[kind] ?? []).includes(c)}
                      onChange={(e) => toggle(kind, c, e.target.checked)}
                    />
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <label>
        {t("settings.noticeLanguage")}
        <select
          value={draft.language}
          onChange={(e) => {
            if (isLanguage(e.target.value)) setDraft({ ...draft, language: e.target.value });
            setDone(false);
          }}
        >
          {LANGUAGES.map((code) => (
            <option key={code} value={code} lang={code} translate="no">
              {LANGUAGE_NAMES[code]}
            </option>
          ))}
        </select>
      </label>
      {!saved.saved && <p>{t("settings.defaults")}</p>}
      {done && <p role="status">{t("settings.saved")}</p>}
      <ErrorMessage error={error} />
      <button type="submit">{t("settings.save")}</button>
    </form>
  );
}

function Notices() {
  const { t, formatDateTime } = useI18n();
  const [page, setPage] = useState<NoticesPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = (cursor?: string) =>
    api.notices(cursor).then(
      (answer) =>
        setPage((before) => (cursor && before ? { ...answer, items: [...before.items, ...answer.items] } : answer)),
      setError,
    );
  useEffect(() => {
    void load();
  }, []);
  return (
    <section aria-labelledby="my-notices">
      <h2 id="my-notices">{t("settings.notices")}</h2>
      <ErrorMessage error={error} />
      {!page && !error && <p>{t("common.loading")}</p>}
      {page && page.items.length === 0 && <p>{t("settings.noNotices")}</p>}
      {page && page.items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("signIns.when")}</th>
              <th scope="col">{t("settings.kind")}</th>
              <th scope="col">{t("settings.channel")}</th>
              <th scope="col">{t("settings.text")}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((notice) => {
              const key = kindKey(notice.kind);
              return (
                <tr key={notice.id}>
                  <td>{formatDateTime(notice.created_at)}</td>
                  <td>{key ? t(key) : <span translate="no">{notice.kind}</span>}</td>
                  <td>{t(`settings.channel.${notice.channel}`)}</td>
                  <td translate="no" lang={notice.language}>
                    {notice.subject ? <strong>{notice.subject} </strong> : null}
                    {notice.text}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {page?.next_cursor && (
        <p>
          <button type="button" onClick={() => void load(page.next_cursor ?? undefined)}>
            {t("common.more")}
          </button>
        </p>
      )}
    </section>
  );
}

/** My settings: who I am, my password, the console's language, my notices and how they reach me. */
export function Settings({ me }: { me: Me }) {
  const { t, formatDateTime } = useI18n();
  return (
    <main id="main">
      <h1>{t("settings.title")}</h1>
      <section aria-labelledby="profile-title" className="panel">
        <h2 id="profile-title">{t("settings.profile")}</h2>
        <dl className="facts">
          <dt>{t("users.name")}</dt>
          <dd translate="no">{me.display_name}</dd>
          <dt>{t("users.phone")}</dt>
          <dd dir="ltr" translate="no">
            {me.phone}
          </dd>
          <dt>{t("users.email")}</dt>
          <dd dir="ltr" translate="no">
            {me.email ?? ""}
          </dd>
          <dt>{t("users.created")}</dt>
          <dd>{formatDateTime(me.created_at)}</dd>
        </dl>
        <p>
          <Link to="/me/sign-ins">{t("settings.signIns")}</Link>
        </p>
      </section>
      <section aria-labelledby="language-title" className="panel">
        <h2 id="language-title">{t("settings.language")}</h2>
        <p>{t("settings.languageText")}</p>
        <LanguagePicker testId="settings-language" />
      </section>
      <PasswordForm hasPassword={me.has_password} />
      <PreferencesForm />
      <Notices />
    </main>
  );
}
