import type { Me } from "../api/client";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { Link } from "../router";
import { sectionsByUse } from "../usage";

const SECTIONS: Record<string, { title: MessageKey; text: MessageKey }> = {
  "/lines": { title: "home.lines", text: "home.linesText" },
  "/me/sign-ins": { title: "home.signIns", text: "home.signInsText" },
  "/tickets": { title: "tickets.home", text: "tickets.homeText" },
  "/forms": { title: "forms.home", text: "forms.homeText" },
};

/** UI-2: the sections this user opens most come first (counted in this browser). */
export function Home({ me }: { me: Me }) {
  const { t } = useI18n();
  return (
    <main id="main">
      <h1>
        <Message id="home.title" values={{ name: <bdi translate="no">{me.display_name}</bdi> }} />
      </h1>
      <p>{t("home.intro")}</p>
      <ul className="cards">
        {sectionsByUse(Object.keys(SECTIONS)).map((path) => {
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
