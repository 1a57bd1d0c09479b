import { useCallback, useEffect, useState } from "react";
import { api, onSessionChange, refreshSession, type Me } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { IdleGuard } from "./IdleGuard";
import { useI18n } from "./i18n";
import { LanguagePicker } from "./LanguagePicker";
import { Home } from "./pages/Home";
import { Line } from "./pages/Line";
import { Lines } from "./pages/Lines";
import { SignIn } from "./pages/SignIn";
import { SignIns } from "./pages/SignIns";
import { isSmallCustomer, SimpleLines } from "./pages/SimpleLines";
import { Link, useRouter } from "./router";
import { recordVisit } from "./usage";

/** small: the user sees at most 50 lines, and home and lines show the simplified view (UI-1). */
type Session = { state: "starting" } | { state: "signed-out" } | { state: "signed-in"; me: Me; small: boolean };

export function App() {
  const { t } = useI18n();
  const { path, navigate } = useRouter();
  const [session, setSession] = useState<Session>({ state: "starting" });
  const [error, setError] = useState<unknown>(null);
  const [idleEnded, setIdleEnded] = useState(false);

  const loadMe = useCallback(async () => {
    try {
      const [me, small] = await Promise.all([api.me(), isSmallCustomer().catch(() => false)]);
      setSession({ state: "signed-in", me, small });
    } catch (caught) {
      setError(caught);
      setSession({ state: "signed-out" });
    }
  }, []);

  useEffect(() => {
    // A page (re)loaded: the session, if any, is in the httpOnly cookie; the memory holds no token yet.
    void refreshSession().then((ok) => (ok ? loadMe() : setSession({ state: "signed-out" })));
    return onSessionChange((signedIn) => {
      if (!signedIn) setSession({ state: "signed-out" });
    });
  }, [loadMe]);

  useEffect(() => {
    if (path === "/lines" || path === "/me/sign-ins") recordVisit(path);
  }, [path]);

  if (session.state === "starting") return <p className="starting">{t("common.loading")}</p>;
  if (session.state === "signed-out")
    return (
      <>
        <SignIn
          onSignedIn={() => {
            setError(null);
            setIdleEnded(false);
            void loadMe();
          }}
          notice={
            idleEnded ? (
              <p role="status" className="notice">
                {t("idle.signedOut")}
              </p>
            ) : null
          }
        />
        <ErrorMessage error={error} />
      </>
    );

  const signOut = async (idle = false) => {
    try {
      await api.signOut();
    } catch {
      // Signed out in this page whatever the server answered (a session that idled out has ended there too).
    } finally {
      setIdleEnded(idle);
      setSession({ state: "signed-out" });
      navigate("/");
    }
  };

  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="top">
        <span className="brand">{t("app.title")}</span>
        <nav aria-label={t("nav.label")}>
          <Link to="/" aria-current={path === "/" ? "page" : undefined}>
            {t("nav.home")}
          </Link>
          <Link to="/lines" aria-current={path.startsWith("/lines") ? "page" : undefined}>
            {t("nav.lines")}
          </Link>
          <Link to="/me/sign-ins" aria-current={path === "/me/sign-ins" ? "page" : undefined}>
            {t("nav.signIns")}
          </Link>
        </nav>
        <LanguagePicker />
        <button type="button" onClick={() => void signOut()}>
          {t("nav.signOut")}
        </button>
      </header>
      <Page path={path} me={session.me} small={session.small} />
      <IdleGuard onTimeout={() => void signOut(true)} onSignOut={() => void signOut()} />
    </>
  );
}

function Page({ path, me, small }: { path: string; me: Me; small: boolean }) {
  if (path === "/lines")
    return small ? (
      <main id="main">
        <SimpleLines />
      </main>
    ) : (
      <Lines />
    );
  if (path.startsWith("/lines/")) return <Line msisdn={decodeURIComponent(path.slice("/lines/".length))} />;
  if (path === "/me/sign-ins") return <SignIns />;
  return <Home me={me} small={small} />;
}
