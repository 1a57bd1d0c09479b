import { useCallback, useEffect, useState } from "react";
import { api, heldPermissions, mayAny, onSessionChange, refreshSession, type Me } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { useI18n } from "./i18n";
import type { MessageKey } from "./i18n/en";
import { LanguagePicker } from "./LanguagePicker";
import { Forms } from "./pages/Forms";
import { Account } from "./pages/Account";
import { Finances } from "./pages/Finances";
import { History } from "./pages/History";
import { Home } from "./pages/Home";
import { Line } from "./pages/Line";
import { Limits } from "./pages/Limits";
import { Lines } from "./pages/Lines";
import { Nodes } from "./pages/Nodes";
import { Operation } from "./pages/Operation";
import { Operations } from "./pages/Operations";
import { NewTicket } from "./pages/NewTicket";
import { Packages } from "./pages/Packages";
import { SignIn } from "./pages/SignIn";
import { Roles } from "./pages/Roles";
import { Settings } from "./pages/Settings";
import { SignIns } from "./pages/SignIns";
import { Ticket } from "./pages/Ticket";
import { Tickets } from "./pages/Tickets";
import { UserPage, Users } from "./pages/Users";
import { Link, useRouter } from "./router";
import { recordVisit } from "./usage";

const BILLING_SECTIONS = ["/finances", "/packages", "/limits"];
const ADMIN_SECTIONS = ["/users", "/roles", "/history", "/me/settings"];

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
    if (["/lines", "/me/sign-ins", "/tickets", "/forms", ...BILLING_SECTIONS, ...ADMIN_SECTIONS].includes(path))
      recordVisit(path);
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
          <Link to="/nodes" aria-current={path === "/nodes" ? "page" : undefined}>
            {t("nodes.nav")}
          </Link>
          <Link to="/operations" aria-current={path.startsWith("/operations") ? "page" : undefined}>
            {t("ops.nav")}
          </Link>
          <Link to="/tickets" aria-current={path.startsWith("/tickets") ? "page" : undefined}>
            {t("tickets.nav")}
          </Link>
          <Link to="/forms" aria-current={path === "/forms" ? "page" : undefined}>
            {t("forms.nav")}
          </Link>
          {mayAny("billing:read", "billing:pay") && (
            <Link to="/finances" aria-current={path.startsWith("/finances") ? "page" : undefined}>
              {t("nav.finances")}
            </Link>
          )}
          {mayAny("packages:buy", "billing:read") && (
            <Link to="/packages" aria-current={path === "/packages" ? "page" : undefined}>
              {t("nav.packages")}
            </Link>
          )}
          {mayAny("billing:read", "billing:pay") && (
            <Link to="/limits" aria-current={path === "/limits" ? "page" : undefined}>
              {t("nav.limits")}
            </Link>
          )}
          <Link to="/me/sign-ins" aria-current={path === "/me/sign-ins" ? "page" : undefined}>
            {t("nav.signIns")}
          </Link>
          {adminSections(heldPermissions()).map(([to, label]) => (
            <Link key={to} to={to} aria-current={path === to || path.startsWith(`${to}/`) ? "page" : undefined}>
              {t(label)}
            </Link>
          ))}
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

/** The users, roles, history and settings sections the token's permissions open (the API decides anyway). */
export function adminSections(held: ReadonlySet<string>): [string, MessageKey][] {
  const sections: [string, MessageKey][] = [];
  if (held.has("users:read") || held.has("users:manage")) sections.push(["/users", "nav.users"]);
  if (held.has("roles:manage") || held.has("users:manage")) sections.push(["/roles", "nav.roles"]);
  if (held.has("audit:read")) sections.push(["/history", "nav.history"]);
  sections.push(["/me/settings", "nav.settings"]);
  return sections;
}

function Page({ path, me }: { path: string; me: Me }) {
  const held = heldPermissions();
  if (path === "/users") return <Users canManage={held.has("users:manage")} />;
  if (path.startsWith("/users/"))
    return <UserPage id={decodeURIComponent(path.slice("/users/".length))} canManage={held.has("users:manage")} />;
  if (path === "/roles") return <Roles canManage={held.has("roles:manage")} />;
  if (path === "/history") return <History />;
  if (path === "/me/settings") return <Settings me={me} />;
  if (path === "/lines") return <Lines />;
  if (path.startsWith("/lines/")) return <Line msisdn={decodeURIComponent(path.slice("/lines/".length))} />;
  if (path === "/me/sign-ins") return <SignIns />;
  if (path === "/nodes") return <Nodes />;
  if (path === "/operations") return <Operations />;
  if (path.startsWith("/operations/")) return <Operation id={decodeURIComponent(path.slice("/operations/".length))} />;
  if (path === "/tickets") return <Tickets />;
  if (path === "/tickets/new") return <NewTicket me={me} />;
  if (path.startsWith("/tickets/"))
    return <Ticket id={decodeURIComponent(path.slice("/tickets/".length))} me={me} />;
  if (path === "/forms") return <Forms />;
  if (path === "/finances") return <Finances />;
  if (path.startsWith("/finances/accounts/"))
    return <Account id={decodeURIComponent(path.slice("/finances/accounts/".length))} />;
  if (path === "/packages") return <Packages />;
  if (path === "/limits") return <Limits />;
  return <Home me={me} />;
}
