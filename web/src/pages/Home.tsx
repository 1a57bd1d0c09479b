import { mayAny, type Me } from "../api/client";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { Link } from "../router";
import { sectionsByUse } from "../usage";

const SECTIONS: Record<string, { title: MessageKey; text: MessageKey; may?: string[] }> = {
  "/lines": { title: "home.lines", text: "home.linesText" },
  "/finances": { title: "nav.finances", text: "finances.homeText", may: ["billing:read", "billing:pay"] },
  "/packages": { title: "nav.packages", text: "packages.homeText", may: ["packages:buy", "billing:read"] },
  "/limits": { title: "nav.limits", text: "limits.homeText", may: ["billing:read", "billing:pay"] },
  "/me/sign-ins": { title: "home.signIns", text: "home.signInsText" },
  "/tickets": { title: "tickets.home", text: "tickets.homeText" },
  "/forms": { title: "forms.home", text: "forms.homeText" },
  "/users": { title: "home.users", text: "home.usersText", may: ["users:read", "users:manage"] },
  "/roles": { title: "home.roles", text: "home.rolesText", may: ["roles:manage", "users:manage"] },
  "/history": { title: "home.history", text: "home.historyText", may: ["audit:read"] },
  "/me/settings": { title: "home.settings", text: "home.settingsText" },
};

/** UI-2: the sections this user opens most come first (counted in this browser). */
export function Home({ me }: { me: Me }) {
  const { t } = useI18n();
  const shown = Object.keys(SECTIONS).filter((path) => {
    const may = SECTIONS[path]!.may;
    return !may || mayAny(...may);
  });
  return (
    <main id="main">
      <h1>
        <Message id="home.title" values={{ name: <bdi translate="no">{me.display_name}</bdi> }} />
      </h1>
      <p>{t("home.intro")}</p>
      <ul className="cards">
        {sectionsByUse(shown).map((path) => {
          const section = SECTIONS[path]!;
          return (
            <li key={path}>
              <Link to={path}>
                <strong>{t(section.title)}</strong>
                <span>{t(section.text)}</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
