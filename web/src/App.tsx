import { useCallback, useEffect, useState } from "react";
import { api, heldPermissions, mayAny, onSessionChange, refreshSession, type Me } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { IdleGuard } from "./IdleGuard";
import { useI18n } from "./i18n";
import type { MessageKey } from "./i18n/en";
import { LanguagePicker } from "./LanguagePicker";
import { NavMore, type NavSection } from "./NavMore";
import { PageFrame, lazyPage } from "./lazyPage";
import { SignIn } from "./pages/SignIn";
import { isSmallCustomer } from "./smallCustomer";
import { Link, useRouter } from "./router";
import { recordVisit } from "./usage";

// Every page but sign-in (the shell's own) is its own script, fetched when first opened.
const Account = lazyPage(() => import("./pages/Account"), "Account");
const Finances = lazyPage(() => import("./pages/Finances"), "Finances");
const Forms = lazyPage(() => import("./pages/Forms"), "Forms");
const History = lazyPage(() => import("./pages/History"), "History");
const Groups = lazyPage(() => import("./pages/Groups"), "Groups");
const Home = lazyPage(() => import("./pages/Home"), "Home");
const Limits = lazyPage(() => import("./pages/Limits"), "Limits");
const Line = lazyPage(() => import("./pages/Line"), "Line");
const Lines = lazyPage(() => import("./pages/Lines"), "Lines");
const NewTicket = lazyPage(() => import("./pages/NewTicket"), "NewTicket");
const Nodes = lazyPage(() => import("./pages/Nodes"), "Nodes");
const Operation = lazyPage(() => import("./pages/Operation"), "Operation");
const Operations = lazyPage(() => import("./pages/Operations"), "Operations");
const Packages = lazyPage(() => import("./pages/Packages"), "Packages");
const Roles = lazyPage(() => import("./pages/Roles"), "Roles");
const Settings = lazyPage(() => import("./pages/Settings"), "Settings");
const SignIns = lazyPage(() => import("./pages/SignIns"), "SignIns");
const SimpleLines = lazyPage(() => import("./pages/SimpleLines"), "SimpleLines");
const Ticket = lazyPage(() => import("./pages/Ticket"), "Ticket");
const Tickets = lazyPage(() => import("./pages/Tickets"), "Tickets");
const UserPage = lazyPage(() => import("./pages/Users"), "UserPage");
const Users = lazyPage(() => import("./pages/Users"), "Users");

const BILLING_SECTIONS = ["/finances", "/packages", "/limits"];
const ADMIN_SECTIONS = ["/users", "/roles", "/history", "/me/settings"];

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
          <Link to="/groups" aria-current={path === "/groups" ? "page" : undefined}>
            {t("nav.groups")}
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
          {mayAny("billing:read", "billing:pay") && (
            <Link to="/finances" aria-current={path.startsWith("/finances") ? "page" : undefined}>
              {t("nav.finances")}
            </Link>
          )}
          <NavMore label={t("nav.more")} sections={moreSections(path, t)} path={path} />
        </nav>
        <LanguagePicker />
        <button type="button" onClick={() => void signOut()}>
          {t("nav.signOut")}
        </button>
      </header>
      <PageFrame path={path}>
        <Page path={path} me={session.me} small={session.small} />
      </PageFrame>
      <IdleGuard onTimeout={() => void signOut(true)} onSignOut={() => void signOut()} />
    </>
  );
}

/**
 * The sections behind the navigation's "More" (the header is one line at 1280 px in every language): forms,
 * packages, limits, the sign-in history and the administration's sections, those the token opens.
 */
function moreSections(path: string, t: (key: MessageKey) => string): NavSection[] {
  const sections: [string, MessageKey][] = [["/forms", "forms.nav"]];
  if (mayAny("packages:buy", "billing:read")) sections.push(["/packages", "nav.packages"]);
  if (mayAny("billing:read", "billing:pay")) sections.push(["/limits", "nav.limits"]);
  sections.push(["/me/sign-ins", "nav.signIns"], ...adminSections(heldPermissions()));
  return sections.map(([to, label]) => ({ to, label: t(label), current: path === to || path.startsWith(`${to}/`) }));
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

function Page({ path, me, small }: { path: string; me: Me; small: boolean }) {
  const held = heldPermissions();
  if (path === "/users") return <Users canManage={held.has("users:manage")} />;
  if (path.startsWith("/users/"))
    return <UserPage id={decodeURIComponent(path.slice("/users/".length))} canManage={held.has("users:manage")} />;
  if (path === "/roles") return <Roles canManage={held.has("roles:manage")} />;
  if (path === "/history") return <History />;
  if (path === "/me/settings") return <Settings me={me} />;
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
  if (path === "/groups") return <Groups />;
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
  return <Home me={me} small={small} />;
}
