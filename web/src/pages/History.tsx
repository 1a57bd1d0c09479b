import { useEffect, useState, type FormEvent } from "react";
import { api, type AuditQuery, type Node, type User } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { reasonKey, useI18n } from "../i18n";
import { en, type MessageKey } from "../i18n/en";
import { usePages } from "../useLoad";
import { NodeOptions } from "./Users";

/** The areas an action's name starts with (`users.invite`, `hierarchy.node.move`, …): the filter's choices. */
const AREAS = ["auth", "users", "roles", "profile", "hierarchy", "lines", "operations", "tickets", "accounts"] as const;
const PAGE = 50;

interface Filters {
  since: string;
  until: string;
  actor: string;
  area: string;
  node: string;
}

const NONE: Filters = { since: "", until: "", actor: "", area: "", node: "" };

/** A day picked in a date field, as the instant its local midnight is (the API wants a time zone). */
function dayStart(day: string): string | undefined {
  return day ? new Date(`${day}T00:00:00`).toISOString() : undefined;
}

function nextDay(day: string): string | undefined {
  if (!day) return undefined;
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + 1);
  return date.toISOString();
}

export function actionKey(action: string): MessageKey | null {
  // A sign-in's action names its method too (auth.sign_in.password): one text for them all.
  const key = `history.action.${action.startsWith("auth.sign_in") ? "auth.sign_in" : action}`;
  return key in en ? (key as MessageKey) : null;
}

/** The action history (`audit:read`): who did what and when, filtered by period, user, area and node. */
export function History() {
  const { t, formatDateTime } = useI18n();
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [users, setUsers] = useState<User[]>([]);
  const [nodes, setNodes] = useState<Node[]>([]);

  useEffect(() => {
    // The pickers' choices; a user without users:read filters by node and period only.
    api.users({ limit: 1000, sort: "display_name" }).then(
      (page) => setUsers(page.items),
      () => setUsers([]),
    );
    api.nodes({ limit: 1000 }).then(
      (page) => setNodes(page.items as Node[]),
      () => setNodes([]),
    );
  }, []);

  const {
    items: events,
    cursor,
    error,
    more,
  } = usePages((from) => {
    const query: AuditQuery = {
      limit: PAGE,
      cursor: from,
      since: dayStart(filters.since),
      until: nextDay(filters.until),
      actor_id: filters.actor || undefined,
      action: filters.area || undefined,
      node_id: filters.node || undefined,
    };
    return api.auditEvents(query);
  }, JSON.stringify(filters));

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  const names = new Map(users.map((u) => [u.id, u.display_name]));

  return (
    <main id="main">
      <h1>{t("history.title")}</h1>
      <form className="filters" role="search" onSubmit={apply}>
        <label>
          {t("history.since")}
          <input type="date" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </label>
        <label>
          {t("history.until")}
          <input type="date" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </label>
        {users.length > 0 && (
          <label>
            {t("history.actor")}
            <select value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })}>
              <option value="">{t("history.anyone")}</option>
              {users.map((u) => (
                <option key={u.id} value={u.id} translate="no">
                  {u.display_name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t("history.area")}
          <select value={draft.area} onChange={(e) => setDraft({ ...draft, area: e.target.value })}>
            <option value="">{t("history.anyArea")}</option>
            {AREAS.map((area) => (
              <option key={area} value={area}>
                {t(`history.area.${area}`)}
              </option>
            ))}
          </select>
        </label>
        {nodes.length > 0 && (
          <label>
            {t("history.node")}
            <select value={draft.node} onChange={(e) => setDraft({ ...draft, node: e.target.value })}>
              <option value="">{t("history.anyNode")}</option>
              <NodeOptions nodes={nodes} />
            </select>
          </label>
        )}
        <button type="submit">{t("lines.apply")}</button>
      </form>
      <ErrorMessage error={error} />
      {!events && !error && <p>{t("common.loading")}</p>}
      {events && events.length === 0 && <p>{t("history.none")}</p>}
      {events && events.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("history.when")}</th>
              <th scope="col">{t("history.actor")}</th>
              <th scope="col">{t("history.action")}</th>
              <th scope="col">{t("history.objects")}</th>
              <th scope="col">{t("history.result")}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => {
              const key = actionKey(event.action);
              return (
                <tr key={event.id} data-testid="audit-row">
                  <td>{formatDateTime(event.occurred_at)}</td>
                  <td>
                    {event.actor_kind === "operator" ? (
                      t("history.operator")
                    ) : (
                      <bdi translate="no">{names.get(event.actor_id) ?? event.actor_id}</bdi>
                    )}
                  </td>
                  <td>{key ? t(key) : <code translate="no">{event.action}</code>}</td>
                  <td translate="no" dir="ltr">
                    {event.objects.map((o) => `${o.kind} ${o.id}`).join(", ")}
                  </td>
                  <td className={event.result === "failed" ? "state-blocked" : undefined}>
                    {event.result === "failed" ? t("history.failed") : t("history.succeeded")}
                    {event.result === "failed" && event.reason && (
                      <>
                        <br />
                        <small>{t(reasonKey(event.reason))}</small>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <p>
          <button type="button" onClick={more}>
            {t("common.more")}
          </button>
        </p>
      )}
    </main>
  );
}
