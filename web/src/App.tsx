import { useCallback, useEffect, useState } from "react";
import { api, onSessionChange, refreshSession, type Me } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { useI18n } from "./i18n";
import { LanguagePicker } from "./LanguagePicker";
import { Forms } from "./pages/Forms";
import { Home } from "./pages/Home";
import { Line } from "./pages/Line";
import { Lines } from "./pages/Lines";
import { NewTicket } from "./pages/NewTicket";
import { SignIn } from "./pages/SignIn";
import { SignIns } from "./pages/SignIns";
import { Ticket } from "./pages/Ticket";
import { Tickets } from "./pages/Tickets";
import { Link, useRouter } from "./router";
import { recordVisit } from "./usage";

type Session = { state: "starting" } | { state: "signed-out" } | { state: "signed-in"; me: Me };

export function App() {
  const { t } = useI18n();
  const { path, navigate } = useRouter();
  const [session, setSession] = useState<Session>({ state: "starting" });
  const [error, setError] = useState<unknown>(null);

  const loadMe = useCallback(async () => {
    try {
      setSession({ state: "signed-in", me: await api.me() });
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
    if (path === "/lines" || path === "/me/sign-ins" || path === "/tickets" || path === "/forms") recordVisit(path);
  }, [path]);

  if (session.state === "starting") return <p className="starting">{t("common.loading")}</p>;
  if (session.state === "signed-out")
    return (
      <>
        <SignIn
          onSignedIn={() => {
            setError(null);
            void loadMe();
          }}
        />
        <ErrorMessage error={error} />
      </>
    );

  const signOut = async () => {
    try {
      await api.signOut();
    } finally {
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
          <Link to="/tickets" aria-current={path.startsWith("/tickets") ? "page" : undefined}>
            {t("tickets.nav")}
          </Link>
          <Link to="/forms" aria-current={path === "/forms" ? "page" : undefined}>
            {t("forms.nav")}
          </Link>
          <Link to="/me/sign-ins" aria-current={path === "/me/sign-ins" ? "page" : undefined}>
            {t("nav.signIns")}
          </Link>
        </nav>
        <LanguagePicker />
        <button type="button" onClick={signOut}>
          {t("nav.signOut")}
        </button>
      </header>
      <Page path={path} me={session.me} />
    </>
  );
}

function Page({ path, me }: { path: string; me: Me }) {
  if (path === "/lines") return <Lines />;
  if (path.startsWith("/lines/")) return <Line msisdn={decodeURIComponent(path.slice("/lines/".length))} />;
  if (path === "/me/sign-ins") return <SignIns />;
  if (path === "/tickets") return <Tickets />;
  if (path === "/tickets/new") return <NewTicket me={me} />;
  if (path.startsWith("/tickets/"))
    return <Ticket id={decodeURIComponent(path.slice("/tickets/".length))} me={me} />;
  if (path === "/forms") return <Forms />;
  return <Home me={me} />;
}
